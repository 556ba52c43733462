/* Detection, obfuscation and framing composed for one end of a connection. */
#include "mtp/tr_conn.h"

#include <string.h>

static void open_decoder(struct mtp_tr_conn *c, enum mtp_tr_kind kind, bool tag_consumed)
{
    struct mtp_tr_opts tr = c->opts.tr;
    tr.no_tag = tag_consumed;
    enum mtp_tr_side peer = c->opts.side == MTP_TR_CLIENT ? MTP_TR_SERVER : MTP_TR_CLIENT;
    mtp_tr_decoder_init(&c->dec, kind, peer, &tr);
    c->kind = kind;
    c->state = MTP_TR_CONN_OPEN;
}

int mtp_tr_conn_init(struct mtp_tr_conn *c, const struct mtp_tr_conn_opts *opts, struct mtp_error *err)
{
    memset(c, 0, sizeof *c);
    c->opts = *opts;
    c->opts.tr.no_tag = false;
    if (opts->side == MTP_TR_SERVER) {
        mtp_tr_detector_init(&c->det);
        c->state = MTP_TR_CONN_DETECTING;
        return MTP_OK;
    }
    if (opts->obfuscated && mtp_tr_obfs_tag(opts->kind) == 0)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "connection: %s cannot be obfuscated",
                             mtp_tr_kind_name(opts->kind));
    if (mtp_tr_obfs_tag(opts->kind) == 0 && opts->kind != MTP_TR_FULL)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "connection: unknown transport %d", (int)opts->kind);
    c->obfuscated = opts->obfuscated;
    mtp_tr_encoder_init(&c->enc, opts->kind, MTP_TR_CLIENT, !opts->obfuscated, opts->env);
    /* The server's stream carries no tag in either case. */
    open_decoder(c, opts->kind, true);
    return MTP_OK;
}

void mtp_tr_conn_free(struct mtp_tr_conn *c)
{
    if (c->state == MTP_TR_CONN_OPEN)
        mtp_tr_decoder_free(&c->dec);
    mtp_obfs_free(&c->obfs);
    mtp_wipe(c, sizeof *c);
}

static int fail(struct mtp_tr_conn *c, int rc)
{
    if (rc < 0 && rc != MTP_ERR_NEED_MORE)
        c->failed = rc;
    return rc;
}

int mtp_tr_conn_start(struct mtp_tr_conn *c, struct mtp_wr *out, struct mtp_error *err)
{
    if (c->opts.side != MTP_TR_CLIENT)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "connection: only clients start a connection");
    if (c->started)
        return MTP_OK;
    if (!c->obfuscated) {
        MTP_GUARD(mtp_tr_encode_tag(&c->enc, out, err));
        c->started = true;
        return MTP_OK;
    }
    uint8_t init[MTP_OBFS_INIT_LEN], wire[MTP_OBFS_INIT_LEN];
    int rc = MTP_OK;
    if (c->opts.init != NULL)
        memcpy(init, c->opts.init, sizeof init);
    else if (c->opts.env == NULL)
        rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "connection: no init given and no env to draw one");
    else
        rc = mtp_obfs_make_init(c->opts.env, c->opts.kind, c->opts.dc, init, err);
    if (rc == MTP_OK)
        rc = (c->opts.unchecked_init ? mtp_obfs_client_init_unchecked : mtp_obfs_client_init)(
            &c->obfs, init, &c->opts.secret, wire, NULL, err);
    if (rc == MTP_OK && c->obfs.kind != c->opts.kind)
        rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "connection: the given init carries %s, not %s",
                           mtp_tr_kind_name(c->obfs.kind), mtp_tr_kind_name(c->opts.kind));
    if (rc == MTP_OK && (rc = mtp_wr_raw(out, wire, sizeof wire)) < 0)
        rc = mtp_error_set(err, rc, MTP_NO_OFFSET, "connection: the output cannot take the init");
    mtp_wipe(init, sizeof init);
    if (rc < 0)
        return rc;
    c->dc = c->obfs.dc;
    c->started = true;
    return MTP_OK;
}

/* Encrypts what an encoder appended at out[mark..). */
static int seal(struct mtp_tr_conn *c, struct mtp_wr *out, size_t mark, struct mtp_error *err)
{
    if (!c->obfuscated)
        return MTP_OK;
    MTP_GUARD(mtp_wr_status(out));
    /* Our own output, encrypted where the encoder just wrote it. */
    int rc = mtp_obfs_encrypt(&c->obfs, out->p + mark, out->len - mark);
    if (rc < 0)
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "connection: encryption failed");
    return MTP_OK;
}

static int ready_to_send(struct mtp_tr_conn *c, struct mtp_wr *out, struct mtp_error *err)
{
    if (c->failed)
        return mtp_error_set(err, c->failed, MTP_NO_OFFSET, "connection: already failed (%s)",
                             mtp_err_name(c->failed));
    if (c->state != MTP_TR_CONN_OPEN)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "connection: the transport is not known yet");
    if (c->opts.side == MTP_TR_CLIENT && !c->started)
        MTP_GUARD(mtp_tr_conn_start(c, out, err));
    return MTP_OK;
}

int mtp_tr_conn_send(struct mtp_tr_conn *c, const struct mtp_tr_send *m, struct mtp_wr *out, struct mtp_error *err)
{
    MTP_GUARD(ready_to_send(c, out, err));
    size_t mark = out->len;
    MTP_GUARD(mtp_tr_encode(&c->enc, m, out, err));
    return fail(c, seal(c, out, mark, err));
}

int mtp_tr_conn_send_ack(struct mtp_tr_conn *c, uint32_t token, struct mtp_wr *out, struct mtp_error *err)
{
    MTP_GUARD(ready_to_send(c, out, err));
    size_t mark = out->len;
    MTP_GUARD(mtp_tr_encode_ack(&c->enc, token, NULL, 0, out, err));
    return fail(c, seal(c, out, mark, err));
}

void mtp_tr_conn_feed(struct mtp_tr_conn *c, uint8_t *buf, size_t len)
{
    c->chunk = buf;
    c->chunk_len = buf ? len : 0;
    c->chunk_pos = 0;
    if (c->state == MTP_TR_CONN_OPEN && c->obfuscated && c->failed == MTP_OK &&
        mtp_obfs_decrypt(&c->obfs, c->chunk, c->chunk_len) < 0)
        c->failed = MTP_ERR_OSSL;
}

static int detect(struct mtp_tr_conn *c, struct mtp_error *err)
{
    struct mtp_tr_detection d;
    size_t n = c->chunk_len - c->chunk_pos;
    int rc = mtp_tr_detect(&c->det, c->chunk + c->chunk_pos, &n, &d, err);
    c->chunk_pos += n;
    if (rc < 0)
        return rc;
    switch (d.envelope) {
    case MTP_TR_ENV_PLAIN:
        if (c->opts.require_obfs)
            return mtp_error_set(err, MTP_ERR_OBFS_BAD_INIT, 0,
                                 "connection: plain %s refused, only obfuscated connections are accepted",
                                 mtp_tr_kind_name(d.kind));
        mtp_tr_encoder_init(&c->enc, d.kind, MTP_TR_SERVER, false, c->opts.env);
        open_decoder(c, d.kind, true);
        c->replay = d.replay;
        c->replay_len = d.replay_len;
        return MTP_OK;
    case MTP_TR_ENV_OBFS2:
    {
        int orc = mtp_obfs_server_init(&c->obfs, d.init, &c->opts.secret, NULL, err);
        if (orc < 0) {
            static const struct mtp_obfs_secret none = {.mode = MTP_OBFS_SECRET_NONE};
            if (!c->opts.secret_optional || c->opts.secret.mode == MTP_OBFS_SECRET_NONE)
                return orc;
            MTP_GUARD(mtp_obfs_server_init(&c->obfs, d.init, &none, NULL, err));
        }
    }
        c->obfuscated = true;
        c->dc = c->obfs.dc;
        mtp_tr_encoder_init(&c->enc, c->obfs.kind, MTP_TR_SERVER, false, c->opts.env);
        open_decoder(c, c->obfs.kind, true);
        if (mtp_obfs_decrypt(&c->obfs, c->chunk + c->chunk_pos, c->chunk_len - c->chunk_pos) < 0)
            return mtp_error_set(err, MTP_ERR_OSSL, MTP_NO_OFFSET, "connection: decryption failed");
        return MTP_OK;
    case MTP_TR_ENV_HTTP:
        return mtp_error_set(err, MTP_ERR_UNSUPPORTED, 0, "connection: HTTP transport is not supported");
    case MTP_TR_ENV_TLS:
        return mtp_error_set(err, MTP_ERR_UNSUPPORTED, 0, "connection: fake-TLS (0xee secrets) is not supported");
    }
    return mtp_error_set(err, MTP_ERR_INTERNAL, 0, "connection: unknown detection result");
}

int mtp_tr_conn_next(struct mtp_tr_conn *c, struct mtp_tr_frame *frame, struct mtp_error *err)
{
    if (c->failed)
        return mtp_error_set(err, c->failed, MTP_NO_OFFSET, "connection: already failed (%s)",
                             mtp_err_name(c->failed));
    if (c->state == MTP_TR_CONN_DETECTING)
        MTP_GUARD(fail(c, detect(c, err)));
    while (c->replay_len > 0) {
        size_t n = c->replay_len;
        int rc = mtp_tr_decode(&c->dec, c->replay, &n, frame, err);
        c->replay += n;
        c->replay_len -= n;
        if (rc != MTP_ERR_NEED_MORE)
            return fail(c, rc);
    }
    size_t n = c->chunk_len - c->chunk_pos;
    int rc = mtp_tr_decode(&c->dec, c->chunk + c->chunk_pos, &n, frame, err);
    c->chunk_pos += n;
    return fail(c, rc);
}
