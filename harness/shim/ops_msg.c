/* Shim ops for MTProto 2.0 message crypto (docs/shim.md): msg_key, msg_kdf,
 * msg_encrypt, msg_decrypt, auth_key_id. */
#include "mtp/aes_ige.h"
#include "mtp/msgcrypt.h"
#include "shim/shim.h"

/* A request line is at most 64 MiB of JSON, so a byte string is at most 32 MiB. */
#define MSG_DATA_MAX (32u << 20)

static int arg_key_and_sender(const json_t *req, uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender *s,
                              struct mtp_error *err)
{
    int is_server = 0;
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "auth_key", auth_key, MTP_AUTH_KEY_LEN, err));
    if (s != NULL) {
        MTP_GUARD(mtp_shim_arg_sender(req, "sender", &is_server, err));
        *s = is_server ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT;
    }
    return MTP_OK;
}

static int op_auth_key_id(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t auth_key[MTP_AUTH_KEY_LEN], id[MTP_AUTH_KEY_ID_LEN];
    int rc = arg_key_and_sender(req, auth_key, NULL, err);
    if (rc == MTP_OK) {
        mtp_auth_key_id(auth_key, id);
        rc = mtp_shim_set_hex(ans, "auth_key_id", id, sizeof id);
    }
    mtp_wipe(auth_key, sizeof auth_key);
    return rc;
}

static int op_msg_key(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t auth_key[MTP_AUTH_KEY_LEN], msg_key[MTP_MSG_KEY_LEN];
    enum mtp_sender s;
    struct mtp_wr plain;
    mtp_wr_init_dyn(&plain, MSG_DATA_MAX, err);
    int rc = MTP_OK;
    MTP_TRY(arg_key_and_sender(req, auth_key, &s, err));
    MTP_TRY(mtp_shim_arg_hex(req, "plaintext", &plain, err));
    MTP_TRY(mtp_msg_key(auth_key, s, plain.p, plain.len, msg_key, err));
    rc = mtp_shim_set_hex(ans, "msg_key", msg_key, sizeof msg_key);
out:
    mtp_wipe(auth_key, sizeof auth_key);
    mtp_wr_free(&plain);
    return rc;
}

static int op_msg_kdf(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t auth_key[MTP_AUTH_KEY_LEN], msg_key[MTP_MSG_KEY_LEN], aes_key[32], aes_iv[32];
    enum mtp_sender s;
    int rc = MTP_OK;
    MTP_TRY(arg_key_and_sender(req, auth_key, &s, err));
    MTP_TRY(mtp_shim_arg_hex_exact(req, "msg_key", msg_key, sizeof msg_key, err));
    if ((rc = mtp_msg_kdf(auth_key, s, msg_key, aes_key, aes_iv)) < 0) {
        mtp_error_set(err, rc, MTP_NO_OFFSET, "msg_kdf: an OpenSSL digest call failed");
        goto out;
    }
    MTP_TRY(mtp_shim_set_hex(ans, "aes_key", aes_key, sizeof aes_key));
    rc = mtp_shim_set_hex(ans, "aes_iv", aes_iv, sizeof aes_iv);
out:
    mtp_wipe(auth_key, sizeof auth_key);
    mtp_wipe(aes_key, sizeof aes_key);
    mtp_wipe(aes_iv, sizeof aes_iv);
    return rc;
}

static int op_msg_encrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t auth_key[MTP_AUTH_KEY_LEN];
    enum mtp_sender s;
    struct mtp_wr plain, packet;
    mtp_wr_init_dyn(&plain, MSG_DATA_MAX, err);
    mtp_wr_init_dyn(&packet, MSG_DATA_MAX + MTP_MSG_OUTER_HEADER_LEN, err);
    int rc = MTP_OK;
    MTP_TRY(arg_key_and_sender(req, auth_key, &s, err));
    MTP_TRY(mtp_shim_arg_hex(req, "plaintext", &plain, err));
    /* docs/shim.md: the plaintext is complete and padded, so another length is a malformed argument. */
    if (plain.len == 0 || plain.len % MTP_AES_BLOCK_LEN != 0) {
        rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                           "argument 'plaintext' must be a positive multiple of 16 bytes, got %zu", plain.len);
        goto out;
    }
    MTP_TRY(mtp_msg_encrypt(auth_key, s, plain.p, plain.len, &packet, err));
    rc = mtp_shim_set_hex(ans, "packet", packet.p, packet.len);
out:
    mtp_wipe(auth_key, sizeof auth_key);
    mtp_wr_free(&plain);
    mtp_wr_free(&packet);
    return rc;
}

static int op_msg_decrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t auth_key[MTP_AUTH_KEY_LEN];
    enum mtp_sender s;
    struct mtp_wr packet, plain;
    mtp_wr_init_dyn(&packet, MSG_DATA_MAX, err);
    mtp_wr_init_dyn(&plain, MSG_DATA_MAX, err);
    int rc = MTP_OK;
    MTP_TRY(arg_key_and_sender(req, auth_key, &s, err));
    MTP_TRY(mtp_shim_arg_hex(req, "packet", &packet, err));
    MTP_TRY(mtp_msg_decrypt(auth_key, s, packet.p, packet.len, &plain, err));
    rc = mtp_shim_set_hex(ans, "plaintext", plain.p, plain.len);
out:
    mtp_wipe(auth_key, sizeof auth_key);
    mtp_wr_free(&packet);
    mtp_wr_free(&plain);
    return rc;
}

const struct mtp_shim_op mtp_shim_ops_msg[] = {
    {"auth_key_id", op_auth_key_id},
    {"msg_key", op_msg_key},
    {"msg_kdf", op_msg_kdf},
    {"msg_encrypt", op_msg_encrypt},
    {"msg_decrypt", op_msg_decrypt},
    {NULL, NULL},
};
