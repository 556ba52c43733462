/* Shim ops for the TCP transports and obfuscation (docs/shim.md).
 *
 * Beyond the arguments docs/shim.md lists, these ops take optional ones
 * (absent means the default in brackets):
 *   transport_encode: sender ["client"], quick_ack [false], padding (padded:
 *     the 0..15 padding bytes, [none]), ack (sender "server": a 4-byte quick-ack
 *     token, LE as computed, sent instead of a payload).
 *   transport_decode: sender ["client"]: a client stream starts with the tag
 *     and its MSBs request quick acks; a server stream has no tag and its
 *     MSBs mark quick-ack tokens.  Answers, besides payloads (padded: payload
 *     and padding together, as framed), quick_ack (one bool per payload) and
 *     acks (the quick-ack tokens, 4 bytes LE each, in stream order).
 *   obfuscated_init: next_plain (bytes the sender sends after the init) ->
 *     next_wire (how they go out, showing the counter carried on).
 *   transport_detect (extra op): data, secret -> envelope, transport, header_len, dc. */
#include <stdlib.h>
#include <string.h>

#include "mtp/hex.h"
#include "mtp/obfs.h"
#include "mtp/transport.h"
#include "shim/shim.h"

#define TRANSPORT_DATA_MAX ((size_t)64 << 20)

static int arg_kind(const json_t *req, enum mtp_tr_kind *kind, struct mtp_error *err)
{
    const char *name;
    MTP_GUARD(mtp_shim_arg_str(req, "transport", &name, err));
    if (mtp_tr_kind_from_name(name, kind) != MTP_OK)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                             "argument 'transport' must be abridged, intermediate, padded or full, got \"%.40s\"", name);
    return MTP_OK;
}

static int arg_side(const json_t *req, enum mtp_tr_side *side, struct mtp_error *err)
{
    *side = MTP_TR_CLIENT;
    if (json_object_get(req, "sender") == NULL)
        return MTP_OK;
    int is_server;
    MTP_GUARD(mtp_shim_arg_sender(req, "sender", &is_server, err));
    *side = is_server ? MTP_TR_SERVER : MTP_TR_CLIENT;
    return MTP_OK;
}

static int op_transport_encode(const json_t *req, json_t *ans, struct mtp_error *err)
{
    enum mtp_tr_kind kind;
    enum mtp_tr_side side;
    bool first = false, quick_ack = false, present, pad_present, ack_present;
    int64_t seq = 0;
    MTP_GUARD(arg_kind(req, &kind, err));
    MTP_GUARD(arg_side(req, &side, err));
    MTP_GUARD(mtp_shim_arg_bool_opt(req, "first", &first, &present, err));
    MTP_GUARD(mtp_shim_arg_bool_opt(req, "quick_ack", &quick_ack, &present, err));
    MTP_GUARD(mtp_shim_arg_int_opt(req, "seq", &seq, &present, err));
    if (seq < 0 || seq > 0xffffffffll)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "argument 'seq' must be 0..2^32-1");

    struct mtp_wr payload, padding, ack, out;
    mtp_wr_init_dyn(&payload, TRANSPORT_DATA_MAX, err);
    /* Generous limits: wrong lengths are the encoder's to reject, by name. */
    mtp_wr_init_dyn(&padding, 1024, err);
    mtp_wr_init_dyn(&ack, 1024, err);
    mtp_wr_init_dyn(&out, TRANSPORT_DATA_MAX + 64, err);
    int rc = MTP_OK;
    MTP_TRY(mtp_shim_arg_hex_opt(req, "padding", &padding, &pad_present, err));
    MTP_TRY(mtp_shim_arg_hex_opt(req, "ack", &ack, &ack_present, err));

    struct mtp_tr_encoder e;
    mtp_tr_encoder_init(&e, kind, side, first, NULL);
    e.seq = (uint32_t)seq;
    if (ack_present) {
        if (ack.len != 4) {
            rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "argument 'ack' must be 4 bytes");
            goto out;
        }
        /* Padded acks always carry explicit padding here: the shim has no randomness. */
        static const uint8_t none[1] = {0};
        const uint8_t *pad = kind == MTP_TR_PADDED ? (padding.p ? padding.p : none) : (pad_present ? none : NULL);
        MTP_TRY(mtp_tr_encode_ack(&e, mtp_load_u32(ack.p), pad, padding.len, &out, err));
    } else {
        MTP_TRY(mtp_shim_arg_hex(req, "payload", &payload, err));
        struct mtp_tr_send m = {
            .data = payload.p,
            .len = payload.len,
            .quick_ack = quick_ack,
            .padding_given = kind == MTP_TR_PADDED || pad_present,
            .padding = padding.p,
            .padding_len = padding.len,
        };
        MTP_TRY(mtp_tr_encode(&e, &m, &out, err));
    }
    MTP_TRY(mtp_shim_set_hex(ans, "data", out.p, out.len));
out:
    mtp_wr_free(&payload);
    mtp_wr_free(&padding);
    mtp_wr_free(&ack);
    mtp_wr_free(&out);
    return rc;
}

static int append_hex(json_t *arr, const void *p, size_t n)
{
    char *hex = mtp_hex_alloc(p, n);
    if (hex == NULL)
        return MTP_ERR_NOMEM;
    int rc = json_array_append_new(arr, json_string(hex)) == 0 ? MTP_OK : MTP_ERR_NOMEM;
    free(hex);
    return rc;
}

static int op_transport_decode(const json_t *req, json_t *ans, struct mtp_error *err)
{
    enum mtp_tr_kind kind;
    enum mtp_tr_side side;
    MTP_GUARD(arg_kind(req, &kind, err));
    MTP_GUARD(arg_side(req, &side, err));
    struct mtp_wr data;
    mtp_wr_init_dyn(&data, TRANSPORT_DATA_MAX, err);
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, kind, side, NULL);
    json_t *payloads = json_array(), *quick = json_array(), *acks = json_array();
    int rc = MTP_OK;
    if (payloads == NULL || quick == NULL || acks == NULL) {
        rc = MTP_ERR_NOMEM;
        goto out;
    }
    MTP_TRY(mtp_shim_arg_hex(req, "data", &data, err));
    const uint8_t *p = data.p;
    size_t left = data.len;
    while (left > 0) {
        struct mtp_tr_frame f;
        size_t n = left;
        rc = mtp_tr_decode(&d, p, &n, &f, err);
        p += n;
        left -= n;
        if (rc == MTP_ERR_NEED_MORE)
            break;
        if (rc < 0)
            goto out;
        if (f.is_ack) {
            uint8_t tok[4];
            mtp_store_u32(tok, f.ack_token);
            MTP_TRY(append_hex(acks, tok, sizeof tok));
            continue;
        }
        MTP_TRY(append_hex(payloads, f.data, f.len));
        if (json_array_append_new(quick, json_boolean(f.quick_ack)) != 0) {
            rc = MTP_ERR_NOMEM;
            goto out;
        }
    }
    MTP_TRY(mtp_tr_decoder_finish(&d, err));
    json_object_set(ans, "payloads", payloads);
    json_object_set(ans, "quick_ack", quick);
    json_object_set(ans, "acks", acks);
    rc = MTP_OK;
out:
    json_decref(payloads);
    json_decref(quick);
    json_decref(acks);
    mtp_tr_decoder_free(&d);
    mtp_wr_free(&data);
    return rc;
}

static int set_keys(json_t *ans, const struct mtp_obfs_keys *k)
{
    MTP_GUARD(mtp_shim_set_hex(ans, "enc_key", k->enc_key, sizeof k->enc_key));
    MTP_GUARD(mtp_shim_set_hex(ans, "enc_iv", k->enc_iv, sizeof k->enc_iv));
    MTP_GUARD(mtp_shim_set_hex(ans, "dec_key", k->dec_key, sizeof k->dec_key));
    return mtp_shim_set_hex(ans, "dec_iv", k->dec_iv, sizeof k->dec_iv);
}

static int arg_secret(const json_t *req, struct mtp_obfs_secret *s, struct mtp_error *err)
{
    uint8_t raw[256];
    size_t len = 0;
    if (json_object_get(req, "secret") != NULL && !json_is_null(json_object_get(req, "secret")))
        MTP_GUARD(mtp_shim_arg_hex_range(req, "secret", raw, 0, sizeof raw, &len, err));
    int rc = mtp_obfs_secret_parse(s, raw, len, err);
    mtp_wipe(raw, sizeof raw);
    return rc;
}

/* sender names whose keys the answer gives: "client" is the party that made
 * the init and sends it (enc_* are its sending keys), "server" the party that
 * received it (its enc_* are the client's dec_*).  For "server" the wire bytes
 * go through the server's own parser, so its checks are what answers. */
static int op_obfuscated_init(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t init[MTP_OBFS_INIT_LEN], wire[MTP_OBFS_INIT_LEN];
    int is_server;
    bool next_present;
    struct mtp_obfs_secret secret;
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "init", init, sizeof init, err));
    MTP_GUARD(mtp_shim_arg_sender(req, "sender", &is_server, err));
    MTP_GUARD(arg_secret(req, &secret, err));
    struct mtp_obfs o;
    struct mtp_obfs_keys k;
    struct mtp_wr next;
    mtp_wr_init_dyn(&next, TRANSPORT_DATA_MAX, err);
    memset(&o, 0, sizeof o);
    memset(&k, 0, sizeof k);
    int rc = MTP_OK;
    MTP_TRY(mtp_shim_arg_hex_opt(req, "next_plain", &next, &next_present, err));
    if (is_server) {
        MTP_TRY(mtp_obfs_wire(init, &secret, wire));
        MTP_TRY(mtp_obfs_server_init(&o, wire, &secret, &k, err));
    } else {
        MTP_TRY(mtp_obfs_client_init(&o, init, &secret, wire, &k, err));
    }
    uint8_t tag[4];
    mtp_store_u32(tag, o.tag);
    MTP_TRY(mtp_shim_set_hex(ans, "wire", wire, sizeof wire));
    MTP_TRY(set_keys(ans, &k));
    MTP_TRY(mtp_shim_set_hex(ans, "tag", tag, sizeof tag));
    json_object_set_new(ans, "dc", json_integer(o.dc));
    if (next_present) {
        MTP_TRY(mtp_obfs_encrypt(&o, next.p, next.len));
        MTP_TRY(mtp_shim_set_hex(ans, "next_wire", next.p, next.len));
    }
out:
    mtp_obfs_free(&o);
    mtp_wipe(&k, sizeof k);
    mtp_wipe(&secret, sizeof secret);
    mtp_wr_free(&next);
    return rc;
}

static const char *envelope_name(enum mtp_tr_envelope e)
{
    switch (e) {
    case MTP_TR_ENV_PLAIN:
        return "plain";
    case MTP_TR_ENV_OBFS2:
        return "obfuscated2";
    case MTP_TR_ENV_HTTP:
        return "http";
    case MTP_TR_ENV_TLS:
        return "tls";
    }
    return "unknown";
}

static int op_transport_detect(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_obfs_secret secret;
    MTP_GUARD(arg_secret(req, &secret, err));
    struct mtp_wr data;
    mtp_wr_init_dyn(&data, TRANSPORT_DATA_MAX, err);
    struct mtp_obfs o;
    memset(&o, 0, sizeof o);
    int rc = MTP_OK;
    MTP_TRY(mtp_shim_arg_hex(req, "data", &data, err));
    struct mtp_tr_detector det;
    struct mtp_tr_detection d;
    mtp_tr_detector_init(&det);
    size_t n = data.len;
    rc = mtp_tr_detect(&det, data.p, &n, &d, err);
    if (rc == MTP_ERR_NEED_MORE)
        mtp_error_set(err, rc, data.len, "transport detection: %zu bytes do not decide the transport", data.len);
    if (rc < 0)
        goto out;
    json_object_set_new(ans, "envelope", json_string(envelope_name(d.envelope)));
    json_object_set_new(ans, "header_len", json_integer((json_int_t)d.header_len));
    if (d.envelope == MTP_TR_ENV_PLAIN)
        json_object_set_new(ans, "transport", json_string(mtp_tr_kind_name(d.kind)));
    if (d.envelope == MTP_TR_ENV_OBFS2) {
        MTP_TRY(mtp_obfs_server_init(&o, d.init, &secret, NULL, err));
        json_object_set_new(ans, "transport", json_string(mtp_tr_kind_name(o.kind)));
        json_object_set_new(ans, "dc", json_integer(o.dc));
    }
out:
    mtp_obfs_free(&o);
    mtp_wipe(&secret, sizeof secret);
    mtp_wr_free(&data);
    return rc;
}

const struct mtp_shim_op mtp_shim_ops_transport[] = {
    {"transport_encode", op_transport_encode},
    {"transport_decode", op_transport_decode},
    {"obfuscated_init", op_obfuscated_init},
    {"transport_detect", op_transport_detect},
    {NULL, NULL},
};
