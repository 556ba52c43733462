/* Shim ops for MTProto 1.0 message crypto (mtp/msgcrypt_v1.h), the scheme of
 * auth.bindTempAuthKey's encrypted_message: msg_v1_key, msg_v1_kdf,
 * msg_v1_encrypt, msg_v1_decrypt.  Arguments as for the msg_* ops
 * (docs/shim.md); msg_v1_key takes only the unpadded plaintext. */
#include "mtp/aes_ige.h"
#include "mtp/msgcrypt_v1.h"
#include "shim/shim.h"

/* A request line is at most 64 MiB of JSON, so a byte string is at most 32 MiB. */
#define MSG_DATA_MAX (32u << 20)

static int arg_key_and_sender(const json_t *req, uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender *s,
                              struct mtp_error *err)
{
    int is_server = 0;
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "auth_key", auth_key, MTP_AUTH_KEY_LEN, err));
    MTP_GUARD(mtp_shim_arg_sender(req, "sender", &is_server, err));
    *s = is_server ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT;
    return MTP_OK;
}

static int op_msg_v1_key(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t msg_key[MTP_MSG_KEY_LEN];
    struct mtp_wr plain;
    mtp_wr_init_dyn(&plain, MSG_DATA_MAX, err);
    int rc = MTP_OK;
    MTP_TRY(mtp_shim_arg_hex(req, "plaintext", &plain, err));
    MTP_TRY(mtp_msg_v1_key(plain.p, plain.len, msg_key, err));
    rc = mtp_shim_set_hex(ans, "msg_key", msg_key, sizeof msg_key);
out:
    mtp_wr_free(&plain);
    return rc;
}

static int op_msg_v1_kdf(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t auth_key[MTP_AUTH_KEY_LEN], msg_key[MTP_MSG_KEY_LEN], aes_key[32], aes_iv[32];
    enum mtp_sender s;
    int rc = MTP_OK;
    MTP_TRY(arg_key_and_sender(req, auth_key, &s, err));
    MTP_TRY(mtp_shim_arg_hex_exact(req, "msg_key", msg_key, sizeof msg_key, err));
    if ((rc = mtp_msg_v1_kdf(auth_key, s, msg_key, aes_key, aes_iv)) < 0) {
        mtp_error_set(err, rc, MTP_NO_OFFSET, "msg_v1_kdf: an OpenSSL digest call failed");
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

static int op_msg_v1_encrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t auth_key[MTP_AUTH_KEY_LEN];
    enum mtp_sender s;
    struct mtp_wr plain, packet;
    mtp_wr_init_dyn(&plain, MSG_DATA_MAX, err);
    mtp_wr_init_dyn(&packet, MSG_DATA_MAX + MTP_MSG_OUTER_HEADER_LEN, err);
    int rc = MTP_OK;
    MTP_TRY(arg_key_and_sender(req, auth_key, &s, err));
    MTP_TRY(mtp_shim_arg_hex(req, "plaintext", &plain, err));
    /* The plaintext is complete and padded and holds the header: another length is a malformed argument. */
    if (plain.len < MTP_MSG_INNER_HEADER_LEN || plain.len % MTP_AES_BLOCK_LEN != 0) {
        rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                           "argument 'plaintext' must be a multiple of 16 bytes of at least 32, got %zu", plain.len);
        goto out;
    }
    MTP_TRY(mtp_msg_v1_encrypt(auth_key, s, plain.p, plain.len, &packet, err));
    rc = mtp_shim_set_hex(ans, "packet", packet.p, packet.len);
out:
    mtp_wipe(auth_key, sizeof auth_key);
    mtp_wr_free(&plain);
    mtp_wr_free(&packet);
    return rc;
}

static int op_msg_v1_decrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t auth_key[MTP_AUTH_KEY_LEN];
    enum mtp_sender s;
    struct mtp_wr packet, plain;
    mtp_wr_init_dyn(&packet, MSG_DATA_MAX, err);
    mtp_wr_init_dyn(&plain, MSG_DATA_MAX, err);
    int rc = MTP_OK;
    MTP_TRY(arg_key_and_sender(req, auth_key, &s, err));
    MTP_TRY(mtp_shim_arg_hex(req, "packet", &packet, err));
    MTP_TRY(mtp_msg_v1_decrypt(auth_key, s, packet.p, packet.len, &plain, err));
    rc = mtp_shim_set_hex(ans, "plaintext", plain.p, plain.len);
out:
    mtp_wipe(auth_key, sizeof auth_key);
    mtp_wr_free(&packet);
    mtp_wr_free(&plain);
    return rc;
}

const struct mtp_shim_op mtp_shim_ops_msgv1[] = {
    {"msg_v1_key", op_msg_v1_key},
    {"msg_v1_kdf", op_msg_v1_kdf},
    {"msg_v1_encrypt", op_msg_v1_encrypt},
    {"msg_v1_decrypt", op_msg_v1_decrypt},
    {NULL, NULL},
};
