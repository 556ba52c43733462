/* Encrypted packets: the plaintext session core plus MTProto 2.0 message
 * crypto.  Everything protocol-related happens in the plaintext calls; this
 * file only encrypts what flush wrote and decrypts what recv reads. */
#include "mtp/msgcrypt.h"
#include "mtp/quickack.h"
#include "session/mtp_session_internal.h"

static int crypt_ctx(struct mtp_session *s, struct mtp_error *err)
{
    if (!s->have_key)
        return mtp_error_set(err, MTP_ERR_SES_STATE, MTP_NO_OFFSET, "session: no auth key set for packets");
    if (s->crypt == NULL)
        MTP_GUARD(mtp_msgcrypt_new(s->auth_key, &s->crypt, err));
    return MTP_OK;
}

static enum mtp_sender self(const struct mtp_session *s)
{
    return s->role == MTP_SESSION_CLIENT ? MTP_SENDER_CLIENT : MTP_SENDER_SERVER;
}

static enum mtp_sender peer(const struct mtp_session *s)
{
    return s->role == MTP_SESSION_CLIENT ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT;
}

int mtp_session_flush_packet(struct mtp_session *s, struct mtp_wr *out)
{
    MTP_GUARD(crypt_ctx(s, out->err));
    if (!s->packet_pending) {
        mtp_wr_reset(&s->packet_out);
        s->packet_out.err = out->err;
        int rc = mtp_session_flush(s, &s->packet_out);
        s->packet_out.err = NULL;
        if (rc <= 0)
            return rc;
        /* Flushed means sent as far as the session knows: keep it until it is out. */
        s->packet_pending = true;
    }
    size_t before = out->len;
    int rc = mtp_msgcrypt_encrypt(s->crypt, self(s), s->packet_out.p, s->packet_out.len, out, out->err);
    if (rc < 0) {
        out->len = before;
        out->failed = false;
        return rc;
    }
    mtp_wipe(s->packet_out.p, s->packet_out.len);
    s->packet_pending = false;
    return 1;
}

int mtp_session_recv_packet(struct mtp_session *s, const uint8_t *packet, size_t len, uint32_t *quick_ack,
                            struct mtp_error *err)
{
    struct mtp_error local;
    if (err == NULL)
        err = &local;
    mtp_error_clear(err);
    int rc = crypt_ctx(s, err);
    if (rc < 0)
        return rc;
    mtp_wr_reset(&s->packet_in);
    rc = mtp_msgcrypt_decrypt(s->crypt, peer(s), packet, len, &s->packet_in, err);
    if (rc < 0) {
        mtp_session_dropped(s, 0, 0, rc, err);
        return rc;
    }
    if (quick_ack != NULL && s->role == MTP_SESSION_SERVER) {
        rc = mtp_quick_ack_token(s->auth_key, 0, s->packet_in.p, s->packet_in.len, quick_ack);
        if (rc < 0)
            return mtp_error_set(err, rc, MTP_NO_OFFSET, "quick ack: hashing failed");
    }
    rc = mtp_session_recv(s, s->packet_in.p, s->packet_in.len, err);
    mtp_wipe(s->packet_in.p, s->packet_in.len);
    return rc;
}
