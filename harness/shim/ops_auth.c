/* Ops for the arithmetic of the auth-key exchange: pq, RSA, DH, derivations. */
#include <stdlib.h>
#include <string.h>

#include "mtp/authcrypt.h"
#include "mtp/dh.h"
#include "mtp/pq.h"
#include "mtp/rsa.h"
#include "shim/shim.h"

/* A hex argument of at most max bytes, in a heap writer the caller frees. */
static int arg_bytes(const json_t *req, const char *key, size_t max, struct mtp_wr *w, struct mtp_error *err)
{
    mtp_wr_init_dyn(w, max, NULL);
    struct mtp_error local;
    mtp_error_clear(&local);
    w->err = &local;
    int rc = mtp_shim_arg_hex(req, key, w, &local);
    w->err = err;
    if (rc == MTP_ERR_OVERFLOW)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "argument '%s' is longer than %zu bytes", key, max);
    if (rc < 0)
        return mtp_error_set(err, rc, local.offset, "%s", local.msg);
    return MTP_OK;
}

static int arg_number(const json_t *req, const char *key, int64_t lo, int64_t hi, int64_t *v, struct mtp_error *err)
{
    MTP_GUARD(mtp_shim_arg_int(req, key, v, err));
    if (*v < lo || *v > hi)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "argument '%s' must be %lld..%lld, got %lld", key,
                             (long long)lo, (long long)hi, (long long)*v);
    return MTP_OK;
}

/* Big numbers are answered without leading zero bytes (docs/shim.md); zero is one 00 byte. */
static int set_number(json_t *ans, const char *key, const uint8_t *p, size_t n)
{
    while (n > 1 && p[0] == 0) {
        p++;
        n--;
    }
    return mtp_shim_set_hex(ans, key, p, n);
}

static int op_pq_factor(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_wr pq;
    int rc = arg_bytes(req, "pq", 4096, &pq, err);
    uint64_t p = 0, q = 0;
    if (rc == MTP_OK)
        rc = mtp_pq_factor_be(pq.p, pq.len, &p, &q, err);
    mtp_wr_free(&pq);
    MTP_GUARD(rc);
    uint8_t b[8];
    size_t n = mtp_pq_to_be(p, b);
    MTP_GUARD(mtp_shim_set_hex(ans, "p", b, n));
    n = mtp_pq_to_be(q, b);
    return mtp_shim_set_hex(ans, "q", b, n);
}

static int op_rsa_fingerprint(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_wr n, e;
    int rc = arg_bytes(req, "n", 4096, &n, err);
    mtp_wr_init_dyn(&e, 0, NULL);
    if (rc == MTP_OK)
        rc = arg_bytes(req, "e", 4096, &e, err);
    uint8_t fp[MTP_RSA_FINGERPRINT];
    if (rc == MTP_OK)
        rc = mtp_rsa_fingerprint(n.p, n.len, e.p, e.len, fp, err);
    mtp_wr_free(&n);
    mtp_wr_free(&e);
    MTP_GUARD(rc);
    return mtp_shim_set_hex(ans, "fingerprint", fp, sizeof fp);
}

static int key_from_ne_args(const json_t *req, struct mtp_rsa_key **k, struct mtp_error *err)
{
    struct mtp_wr n, e;
    int rc = arg_bytes(req, "n", 4096, &n, err);
    mtp_wr_init_dyn(&e, 0, NULL);
    if (rc == MTP_OK)
        rc = arg_bytes(req, "e", 4096, &e, err);
    if (rc == MTP_OK)
        rc = mtp_rsa_key_from_ne(n.p, n.len, e.p, e.len, k, err);
    mtp_wr_free(&n);
    mtp_wr_free(&e);
    return rc;
}

static int key_from_pem_arg(const json_t *req, const char *name, struct mtp_rsa_key **k, struct mtp_error *err)
{
    const char *pem;
    MTP_GUARD(mtp_shim_arg_str(req, name, &pem, err));
    return mtp_rsa_key_from_pem(pem, strlen(pem), k, err);
}

static int op_rsa_key_info(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_rsa_key *k = NULL;
    MTP_GUARD(key_from_pem_arg(req, "pem", &k, err));
    uint8_t n[MTP_RSA_BYTES], e[64], fp[MTP_RSA_FINGERPRINT];
    size_t n_len = 0, e_len = 0;
    int rc = mtp_rsa_key_n(k, n, sizeof n, &n_len, err);
    if (rc == MTP_OK)
        rc = mtp_rsa_key_e(k, e, sizeof e, &e_len, err);
    if (rc == MTP_OK)
        rc = mtp_rsa_key_fingerprint(k, fp, err);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "n", n, n_len);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "e", e, e_len);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "fingerprint", fp, sizeof fp);
    if (rc == MTP_OK)
        json_object_set_new(ans, "private", json_boolean(mtp_rsa_key_has_private(k)));
    mtp_rsa_key_free(k);
    return rc;
}

static int op_rsa_pad_encrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_rsa_key *k = NULL;
    MTP_GUARD(key_from_ne_args(req, &k, err));
    struct mtp_wr data, pad;
    uint8_t temp_key[MTP_RSA_PAD_TEMP_KEY], out[MTP_RSA_BYTES];
    mtp_wr_init_dyn(&pad, 0, NULL);
    int rc = arg_bytes(req, "data", 4096, &data, err);
    if (rc == MTP_OK)
        rc = mtp_shim_arg_hex_exact(req, "temp_key", temp_key, sizeof temp_key, err);
    if (rc == MTP_OK)
        rc = arg_bytes(req, "random_padding", MTP_RSA_PAD_PADDED, &pad, err);
    if (rc == MTP_OK)
        rc = mtp_rsa_pad_encrypt(k, data.p, data.len, pad.p, pad.len, temp_key, out, err);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "encrypted_data", out, sizeof out);
    mtp_wr_free(&data);
    mtp_wr_free(&pad);
    mtp_rsa_key_free(k);
    return rc;
}

static int op_rsa_pad_decrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_rsa_key *k = NULL;
    MTP_GUARD(key_from_pem_arg(req, "private_key", &k, err));
    struct mtp_wr in;
    uint8_t padded[MTP_RSA_PAD_PADDED], temp_key[MTP_RSA_PAD_TEMP_KEY];
    int rc = arg_bytes(req, "encrypted_data", 4096, &in, err);
    if (rc == MTP_OK)
        rc = mtp_rsa_pad_decrypt(k, in.p, in.len, padded, temp_key, err);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "data_with_padding", padded, sizeof padded);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "temp_key", temp_key, sizeof temp_key);
    mtp_wipe(padded, sizeof padded);
    mtp_wipe(temp_key, sizeof temp_key);
    mtp_wr_free(&in);
    mtp_rsa_key_free(k);
    return rc;
}

static int op_rsa_old_encrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_rsa_key *k = NULL;
    MTP_GUARD(key_from_ne_args(req, &k, err));
    struct mtp_wr data, pad;
    uint8_t out[MTP_RSA_BYTES];
    mtp_wr_init_dyn(&pad, 0, NULL);
    int rc = arg_bytes(req, "data", 4096, &data, err);
    if (rc == MTP_OK)
        rc = arg_bytes(req, "random_padding", MTP_RSA_OLD_PADDED, &pad, err);
    if (rc == MTP_OK)
        rc = mtp_rsa_old_encrypt(k, data.p, data.len, pad.p, pad.len, out, err);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "encrypted_data", out, sizeof out);
    mtp_wr_free(&data);
    mtp_wr_free(&pad);
    mtp_rsa_key_free(k);
    return rc;
}

static int op_rsa_old_decrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_rsa_key *k = NULL;
    MTP_GUARD(key_from_pem_arg(req, "private_key", &k, err));
    struct mtp_wr in;
    uint8_t with_hash[MTP_RSA_OLD_PADDED];
    int64_t data_len = 0;
    bool has_len = false;
    int rc = arg_bytes(req, "encrypted_data", 4096, &in, err);
    if (rc == MTP_OK)
        rc = mtp_shim_arg_int_opt(req, "data_len", &data_len, &has_len, err);
    if (rc == MTP_OK && has_len && (data_len < 0 || data_len > MTP_RSA_OLD_DATA_MAX))
        rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "argument 'data_len' must be 0..%u", MTP_RSA_OLD_DATA_MAX);
    if (rc == MTP_OK)
        rc = mtp_rsa_old_decrypt(k, in.p, in.len, with_hash, err);
    if (rc == MTP_OK && has_len)
        rc = mtp_rsa_old_check(with_hash, (size_t)data_len, err);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "data_with_hash", with_hash, sizeof with_hash);
    if (rc == MTP_OK && has_len)
        rc = mtp_shim_set_hex(ans, "data", with_hash + 20, (size_t)data_len);
    mtp_wipe(with_hash, sizeof with_hash);
    mtp_wr_free(&in);
    mtp_rsa_key_free(k);
    return rc;
}

static int op_tmp_aes(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t nn[32], sn[16], key[32], iv[32];
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "new_nonce", nn, sizeof nn, err));
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "server_nonce", sn, sizeof sn, err));
    mtp_authcrypt_tmp_aes(nn, sn, key, iv);
    MTP_GUARD(mtp_shim_set_hex(ans, "tmp_aes_key", key, sizeof key));
    return mtp_shim_set_hex(ans, "tmp_aes_iv", iv, sizeof iv);
}

static int op_new_nonce_hash(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t nn[32], auth_key[256], out[16];
    int64_t number;
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "new_nonce", nn, sizeof nn, err));
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "auth_key", auth_key, sizeof auth_key, err));
    MTP_GUARD(arg_number(req, "number", 1, 3, &number, err));
    MTP_GUARD(mtp_authcrypt_new_nonce_hash_key(nn, (int)number, auth_key, out, err));
    return mtp_shim_set_hex(ans, "hash", out, sizeof out);
}

static int op_server_salt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t nn[32], sn[16], salt[8];
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "new_nonce", nn, sizeof nn, err));
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "server_nonce", sn, sizeof sn, err));
    mtp_authcrypt_server_salt(nn, sn, salt);
    return mtp_shim_set_hex(ans, "salt", salt, sizeof salt);
}

static int op_auth_key_aux_hash(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t auth_key[256], out[8];
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "auth_key", auth_key, sizeof auth_key, err));
    mtp_authcrypt_auth_key_aux_hash(auth_key, out);
    return mtp_shim_set_hex(ans, "hash", out, sizeof out);
}

static bool is_dh_reason(int rc) { return rc <= MTP_ERR_DH_PRIME_BAD_SIZE && rc >= MTP_ERR_DH_GB_UNSAFE; }

/* dh_check answers a verdict, not an error: {"valid": false, "reason": "<code>"}. */
static int dh_verdict(json_t *ans, int rc, struct mtp_error *err)
{
    if (rc < 0 && !is_dh_reason(rc))
        return rc;
    json_object_set_new(ans, "valid", json_boolean(rc == MTP_OK));
    if (rc < 0) {
        json_object_set_new(ans, "reason", json_string(mtp_err_name(rc)));
        json_object_set_new(ans, "detail", json_string(err->msg));
    }
    return MTP_OK;
}

static int op_dh_check(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_wr p, ga;
    int64_t g = 0;
    mtp_wr_init_dyn(&ga, 0, NULL);
    int rc = arg_bytes(req, "dh_prime", 4096, &p, err);
    if (rc == MTP_OK)
        rc = mtp_shim_arg_int(req, "g", &g, err);
    if (rc == MTP_OK)
        rc = arg_bytes(req, "g_a", 4096, &ga, err);
    if (rc == MTP_OK) {
        struct mtp_error verdict;
        mtp_error_clear(&verdict);
        rc = dh_verdict(ans, mtp_dh_check(p.p, p.len, g, ga.p, ga.len, MTP_DH_FULL, &verdict), &verdict);
        if (rc < 0)
            mtp_error_set(err, rc, verdict.offset, "%s", verdict.msg);
    }
    mtp_wr_free(&p);
    mtp_wr_free(&ga);
    return rc;
}

static int op_dh_check_gb(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_wr p, gb;
    mtp_wr_init_dyn(&gb, 0, NULL);
    int rc = arg_bytes(req, "dh_prime", 4096, &p, err);
    if (rc == MTP_OK)
        rc = arg_bytes(req, "g_b", 4096, &gb, err);
    if (rc == MTP_OK) {
        struct mtp_error verdict;
        mtp_error_clear(&verdict);
        rc = dh_verdict(ans, mtp_dh_check_gb(p.p, p.len, gb.p, gb.len, &verdict), &verdict);
        if (rc < 0)
            mtp_error_set(err, rc, verdict.offset, "%s", verdict.msg);
    }
    mtp_wr_free(&p);
    mtp_wr_free(&gb);
    return rc;
}

static int op_dh_modexp(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_wr base, exp, mod;
    mtp_wr_init_dyn(&exp, 0, NULL);
    mtp_wr_init_dyn(&mod, 0, NULL);
    uint8_t out[1024];
    size_t out_len = 0;
    int rc = arg_bytes(req, "base", 4096, &base, err);
    if (rc == MTP_OK)
        rc = arg_bytes(req, "exp", 4096, &exp, err);
    if (rc == MTP_OK)
        rc = arg_bytes(req, "mod", 1024, &mod, err);
    if (rc == MTP_OK)
        rc = mtp_dh_modexp(base.p, base.len, exp.p, exp.len, mod.p, mod.len, out, sizeof out, &out_len, err);
    if (rc == MTP_OK)
        rc = set_number(ans, "result", out, out_len);
    mtp_wr_free(&base);
    mtp_wr_free(&exp);
    mtp_wr_free(&mod);
    return rc;
}

static int op_hash(const json_t *req, json_t *ans, struct mtp_error *err, bool sha256)
{
    struct mtp_wr data;
    int rc = arg_bytes(req, "data", 1u << 20, &data, err);
    uint8_t h[32];
    if (rc == MTP_OK) {
        if (sha256)
            mtp_authcrypt_sha256(data.p, data.len, h);
        else
            mtp_authcrypt_sha1(data.p, data.len, h);
        rc = mtp_shim_set_hex(ans, "hash", h, sha256 ? 32 : 20);
    }
    mtp_wr_free(&data);
    return rc;
}

static int op_sha1(const json_t *req, json_t *ans, struct mtp_error *err) { return op_hash(req, ans, err, false); }
static int op_sha256(const json_t *req, json_t *ans, struct mtp_error *err) { return op_hash(req, ans, err, true); }

static int op_inner_decrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t key[32], iv[32], out[MTP_AUTHCRYPT_INNER_MAX];
    int64_t data_len;
    struct mtp_wr in;
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "key", key, sizeof key, err));
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "iv", iv, sizeof iv, err));
    MTP_GUARD(arg_number(req, "data_len", 0, MTP_AUTHCRYPT_INNER_MAX, &data_len, err));
    int rc = arg_bytes(req, "encrypted_data", 4096, &in, err);
    if (rc == MTP_OK)
        rc = mtp_authcrypt_inner_decrypt(key, iv, in.p, in.len, out, sizeof out, err);
    if (rc == MTP_OK)
        rc = mtp_authcrypt_inner_check(out, in.len, (size_t)data_len, err);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "data", out + 20, (size_t)data_len);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "data_with_hash", out, in.len);
    mtp_wr_free(&in);
    return rc;
}

static int op_inner_encrypt(const json_t *req, json_t *ans, struct mtp_error *err)
{
    uint8_t key[32], iv[32], out[MTP_AUTHCRYPT_INNER_MAX];
    size_t out_len = 0;
    struct mtp_wr data, pad;
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "key", key, sizeof key, err));
    MTP_GUARD(mtp_shim_arg_hex_exact(req, "iv", iv, sizeof iv, err));
    mtp_wr_init_dyn(&pad, 0, NULL);
    int rc = arg_bytes(req, "data", MTP_AUTHCRYPT_INNER_MAX, &data, err);
    if (rc == MTP_OK)
        rc = arg_bytes(req, "padding", 15, &pad, err);
    if (rc == MTP_OK)
        rc = mtp_authcrypt_inner_encrypt_padded(key, iv, data.p, data.len, pad.p, pad.len, out, sizeof out, &out_len,
                                                err);
    if (rc == MTP_OK)
        rc = mtp_shim_set_hex(ans, "encrypted_data", out, out_len);
    mtp_wr_free(&data);
    mtp_wr_free(&pad);
    return rc;
}

const struct mtp_shim_op mtp_shim_ops_auth[] = {
    {"pq_factor", op_pq_factor},
    {"rsa_fingerprint", op_rsa_fingerprint},
    {"rsa_key_info", op_rsa_key_info},
    {"rsa_pad_encrypt", op_rsa_pad_encrypt},
    {"rsa_pad_decrypt", op_rsa_pad_decrypt},
    {"rsa_old_encrypt", op_rsa_old_encrypt},
    {"rsa_old_decrypt", op_rsa_old_decrypt},
    {"tmp_aes", op_tmp_aes},
    {"new_nonce_hash", op_new_nonce_hash},
    {"server_salt", op_server_salt},
    {"auth_key_aux_hash", op_auth_key_aux_hash},
    {"dh_check", op_dh_check},
    {"dh_check_gb", op_dh_check_gb},
    {"dh_modexp", op_dh_modexp},
    {"sha1", op_sha1},
    {"sha256", op_sha256},
    {"inner_decrypt", op_inner_decrypt},
    {"inner_encrypt", op_inner_encrypt},
    {NULL, NULL},
};
