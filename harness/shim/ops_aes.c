/* Shim ops for AES-256-IGE (docs/shim.md): aes_ige_encrypt, aes_ige_decrypt.
 * The optional boolean argument `in_place` runs the operation with the output
 * buffer equal to the input buffer, so vectors can cover that case too. */
#include <stdlib.h>

#include "mtp/aes_ige.h"
#include "shim/shim.h"

/* A request line is at most 64 MiB of JSON, so data is at most 32 MiB. */
#define AES_DATA_MAX (32u << 20)

static int run_ige(const json_t *req, json_t *ans, struct mtp_error *err, bool encrypt)
{
    uint8_t key[32], iv[MTP_AES_IGE_IV_LEN];
    size_t key_len = 0;
    bool in_place = false, present;
    struct mtp_wr data;
    mtp_wr_init_dyn(&data, AES_DATA_MAX, err);
    uint8_t *out = NULL;
    int rc = MTP_OK;
    MTP_TRY(mtp_shim_arg_hex_range(req, "key", key, 16, 32, &key_len, err));
    if (key_len != 16 && key_len != 32) {
        rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "argument 'key' must be 16 or 32 bytes, got %zu", key_len);
        goto out;
    }
    MTP_TRY(mtp_shim_arg_hex_exact(req, "iv", iv, sizeof iv, err));
    MTP_TRY(mtp_shim_arg_hex(req, "data", &data, err));
    MTP_TRY(mtp_shim_arg_bool_opt(req, "in_place", &in_place, &present, err));
    if (data.len % MTP_AES_BLOCK_LEN != 0) {
        rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "argument 'data' must be a multiple of 16 bytes, got %zu",
                           data.len);
        goto out;
    }
    if (!in_place && (out = malloc(data.len ? data.len : 1)) == NULL) {
        rc = MTP_ERR_NOMEM;
        goto out;
    }
    uint8_t *dst = in_place ? data.p : out;
    MTP_TRY(encrypt ? mtp_aes_ige_encrypt(key, key_len, iv, data.p, dst, data.len, err)
                    : mtp_aes_ige_decrypt(key, key_len, iv, data.p, dst, data.len, err));
    rc = mtp_shim_set_hex(ans, "out", dst, data.len);
out:
    mtp_wipe(key, sizeof key);
    if (out) {
        mtp_wipe(out, data.len);
        free(out);
    }
    mtp_wr_free(&data);
    return rc;
}

static int op_aes_ige_encrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    return run_ige(req, ans, err, true);
}

static int op_aes_ige_decrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    return run_ige(req, ans, err, false);
}

const struct mtp_shim_op mtp_shim_ops_aes[] = {
    {"aes_ige_encrypt", op_aes_ige_encrypt},
    {"aes_ige_decrypt", op_aes_ige_decrypt},
    {NULL, NULL},
};
