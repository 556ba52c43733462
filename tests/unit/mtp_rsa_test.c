#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/aes_ige.h"
#include "mtp/authcrypt.h"
#include "mtp/hex.h"
#include "mtp/rsa.h"
#include "mtp_test.h"

/* Telegram's production key, as published on my.telegram.org (fingerprint
 * D09D1D85DE64FD85, on the wire 85fd64de851d9dd0; see vectors/rsa/telegram_keys.json). */
static const char telegram_pem[] = "-----BEGIN RSA PUBLIC KEY-----\n"
                                   "MIIBCgKCAQEA6LszBcC1LGzyr992NzE0ieY+BSaOW622Aa9Bd4ZHLl+TuFQ4lo4g\n"
                                   "5nKaMBwK/BIb9xUfg0Q29/2mgIR6Zr9krM7HjuIcCzFvDtr+L0GQjae9H0pRB2OO\n"
                                   "62cECs5HKhT5DZ98K33vmWiLowc621dQuwKWSQKjWf50XYFw42h21P2KXUGyp2y/\n"
                                   "+aEyZ+uVgLLQbRA1dEjSDZ2iGRy12Mk5gpYc397aYp438fsJoHIgJ2lgMv5h7WY9\n"
                                   "t6N/byY9Nw9p21Og3AoXSL2q/2IJ1WRUhebgAdGVMlV1fkuOQoEzR7EdpqtQD9Cs\n"
                                   "5+bfo3Nhmcyvk5ftB0WkJ9z6bNZ7yxrP8wIDAQAB\n"
                                   "-----END RSA PUBLIC KEY-----\n";

static struct mtp_rsa_key *load(const char *rel)
{
    size_t len;
    uint8_t *pem = mtp_test_read_file(rel, &len);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rsa_key *k = NULL;
    ck_assert_msg(mtp_rsa_key_from_pem(pem, len, &k, &err) == MTP_OK, "%s: %s", rel, err.msg);
    return k;
}

static int load_fails(const char *rel, struct mtp_error *err)
{
    size_t len;
    uint8_t *pem = mtp_test_read_file(rel, &len);
    mtp_error_clear(err);
    struct mtp_rsa_key *k = NULL;
    int rc = mtp_rsa_key_from_pem(pem, len, &k, err);
    ck_assert_ptr_null(k);
    return rc;
}

static void fingerprint_hex(const struct mtp_rsa_key *k, char out[17])
{
    uint8_t fp[8];
    ck_assert_ok(mtp_rsa_key_fingerprint(k, fp, NULL));
    mtp_hex_encode(fp, 8, out);
}

START_TEST(telegram_key_fingerprint)
{
    struct mtp_rsa_key *k = NULL;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_rsa_key_from_pem(telegram_pem, strlen(telegram_pem), &k, &err));
    ck_assert(!mtp_rsa_key_has_private(k));
    char fp[17];
    fingerprint_hex(k, fp);
    ck_assert_str_eq(fp, "85fd64de851d9dd0");
    uint8_t n[256], e[8];
    size_t n_len, e_len;
    ck_assert_ok(mtp_rsa_key_n(k, n, sizeof n, &n_len, &err));
    ck_assert_uint_eq(n_len, 256);
    ck_assert_hex_eq(n, 4, "e8bb3305");
    ck_assert_ok(mtp_rsa_key_e(k, e, sizeof e, &e_len, &err));
    ck_assert_hex_eq(e, e_len, "010001");
    ck_assert_rc(mtp_rsa_key_n(k, n, 255, &n_len, &err), MTP_ERR_OVERFLOW);
    /* The same fingerprint from n and e, with leading zeros that do not count. */
    uint8_t n0[258] = {0}, e0[5] = {0, 0, 1, 0, 1}, fp2[8];
    memcpy(n0 + 2, n, 256);
    ck_assert_ok(mtp_rsa_fingerprint(n0, sizeof n0, e0, sizeof e0, fp2, &err));
    ck_assert_hex_eq(fp2, 8, "85fd64de851d9dd0");
    mtp_rsa_key_free(k);
}
END_TEST

START_TEST(every_published_telegram_key)
{
    json_error_t jerr;
    json_t *doc = json_load_file(mtp_test_path("vectors/rsa/telegram_keys.json"), 0, &jerr);
    ck_assert_msg(doc != NULL, "telegram_keys.json: %s", jerr.text);
    json_t *groups = json_object_get(doc, "testGroups");
    int keys = 0;
    for (size_t gi = 0; gi < json_array_size(groups); gi++) {
        json_t *g = json_array_get(groups, gi);
        if (strcmp(json_string_value(json_object_get(g, "op")), "rsa_key_info") != 0)
            continue;
        json_t *tests = json_object_get(g, "tests");
        for (size_t i = 0; i < json_array_size(tests); i++) {
            json_t *t = json_array_get(tests, i);
            const char *pem = json_string_value(json_object_get(json_object_get(t, "args"), "pem"));
            const char *want = json_string_value(json_object_get(json_object_get(t, "expect"), "fingerprint"));
            struct mtp_rsa_key *k = NULL;
            ck_assert_ok(mtp_rsa_key_from_pem(pem, strlen(pem), &k, NULL));
            char fp[17];
            fingerprint_hex(k, fp);
            ck_assert_str_eq(fp, want);
            mtp_rsa_key_free(k);
            keys++;
        }
    }
    /* Among them the older worked example's key, c3b42b026ce86b21 on the wire as 216be86c022bb4c3. */
    ck_assert_int_eq(keys, 10);
    json_decref(doc);
}
END_TEST

START_TEST(every_pem_form_of_the_test_key)
{
    struct mtp_rsa_key *k8 = load("vectors/rsa/test_key_private.pem");
    struct mtp_rsa_key *k1 = load("vectors/rsa/test_key_private_pkcs1.pem");
    struct mtp_rsa_key *p1 = load("vectors/rsa/test_key_public_pkcs1.pem");
    struct mtp_rsa_key *ps = load("vectors/rsa/test_key_public_spki.pem");
    ck_assert(mtp_rsa_key_has_private(k8));
    ck_assert(mtp_rsa_key_has_private(k1));
    ck_assert(!mtp_rsa_key_has_private(p1));
    ck_assert(!mtp_rsa_key_has_private(ps));
    char a[17], b[17], c[17], d[17];
    fingerprint_hex(k8, a);
    fingerprint_hex(k1, b);
    fingerprint_hex(p1, c);
    fingerprint_hex(ps, d);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, c);
    ck_assert_str_eq(a, d);
    mtp_rsa_key_free(k8);
    mtp_rsa_key_free(k1);
    mtp_rsa_key_free(p1);
    mtp_rsa_key_free(ps);
    mtp_rsa_key_free(NULL);
}
END_TEST

START_TEST(unusable_keys_are_rejected_by_name)
{
    struct mtp_error err;
    ck_assert_rc(load_fails("vectors/rsa/test_key_1024_private.pem", &err), MTP_ERR_RSA_BAD_KEY);
    ck_assert_str_eq(err.msg, "RSA key: 1024-bit modulus, want 2048 bits");
    ck_assert_rc(load_fails("vectors/rsa/test_key_ec_private.pem", &err), MTP_ERR_RSA_BAD_KEY);
    ck_assert_rc(load_fails("vectors/rsa/test_key_private_encrypted.pem", &err), MTP_ERR_RSA_BAD_KEY);
    struct mtp_rsa_key *k = NULL;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_rsa_key_from_pem("hello", 5, &k, &err), MTP_ERR_RSA_BAD_KEY);
    ck_assert_str_eq(err.msg, "RSA key: no unencrypted RSA key in the 5 bytes of PEM");
    ck_assert_rc(mtp_rsa_key_from_pem("", 0, &k, NULL), MTP_ERR_RSA_BAD_KEY);
    /* Cut in the middle of the base64. */
    ck_assert_rc(mtp_rsa_key_from_pem(telegram_pem, 200, &k, NULL), MTP_ERR_RSA_BAD_KEY);
    char *big = calloc(1, MTP_RSA_PEM_MAX + 1);
    ck_assert_rc(mtp_rsa_key_from_pem(big, MTP_RSA_PEM_MAX + 1, &k, NULL), MTP_ERR_RSA_BAD_KEY);
    free(big);
    ck_assert_ptr_null(k);
}
END_TEST

START_TEST(keys_from_n_and_e)
{
    struct mtp_rsa_key *t = NULL, *k = NULL;
    ck_assert_ok(mtp_rsa_key_from_pem(telegram_pem, strlen(telegram_pem), &t, NULL));
    uint8_t n[257] = {0}, e[8];
    size_t n_len, e_len;
    ck_assert_ok(mtp_rsa_key_n(t, n + 1, 256, &n_len, NULL));
    ck_assert_ok(mtp_rsa_key_e(t, e, sizeof e, &e_len, NULL));
    ck_assert_ok(mtp_rsa_key_from_ne(n, sizeof n, e, e_len, &k, NULL));
    char fp[17];
    fingerprint_hex(k, fp);
    ck_assert_str_eq(fp, "85fd64de851d9dd0");
    mtp_rsa_key_free(k);
    k = NULL;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_rsa_key_from_ne(n + 2, 255, e, e_len, &k, &err), MTP_ERR_RSA_BAD_KEY);
    ck_assert_str_eq(err.msg, "RSA key: 2040-bit modulus, want 2048 bits");
    static const uint8_t even[] = {0x01, 0x00, 0x00};
    ck_assert_rc(mtp_rsa_key_from_ne(n, sizeof n, even, sizeof even, &k, NULL), MTP_ERR_RSA_BAD_KEY);
    static const uint8_t one = 1;
    ck_assert_rc(mtp_rsa_key_from_ne(n, sizeof n, &one, 1, &k, NULL), MTP_ERR_RSA_BAD_KEY);
    ck_assert_ptr_null(k);
    mtp_rsa_key_free(t);
}
END_TEST

START_TEST(pem_output_round_trips)
{
    struct mtp_rsa_key *k = load("vectors/rsa/test_key_private.pem"), *back = NULL;
    char *pem;
    size_t len;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_rsa_key_to_pem(k, false, &pem, &len, &err));
    ck_assert_uint_eq(strlen(pem), len);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN RSA PUBLIC KEY-----"));
    ck_assert_ok(mtp_rsa_key_from_pem(pem, len, &back, &err));
    ck_assert(!mtp_rsa_key_has_private(back));
    char a[17], b[17];
    fingerprint_hex(k, a);
    fingerprint_hex(back, b);
    ck_assert_str_eq(a, b);
    free(pem);
    ck_assert_ok(mtp_rsa_key_to_pem(k, true, &pem, &len, &err));
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    mtp_rsa_key_free(back);
    back = NULL;
    ck_assert_ok(mtp_rsa_key_from_pem(pem, len, &back, &err));
    ck_assert(mtp_rsa_key_has_private(back));
    free(pem);
    pem = NULL;
    struct mtp_rsa_key *pub = load("vectors/rsa/test_key_public_spki.pem");
    ck_assert_rc(mtp_rsa_key_to_pem(pub, true, &pem, &len, &err), MTP_ERR_RSA_NOT_PRIVATE);
    ck_assert_ptr_null(pem);
    mtp_rsa_key_free(pub);
    mtp_rsa_key_free(back);
    mtp_rsa_key_free(k);
}
END_TEST

/* Replays a group of vectors/rsa/rsa_pad.json (values computed by GramJS). */
static json_t *vector_group(const char *op)
{
    json_error_t jerr;
    json_t *doc = json_load_file(mtp_test_path("vectors/rsa/rsa_pad.json"), 0, &jerr);
    ck_assert_msg(doc != NULL, "rsa_pad.json: %s", jerr.text);
    json_t *groups = json_object_get(doc, "testGroups");
    for (size_t i = 0; i < json_array_size(groups); i++) {
        json_t *g = json_array_get(groups, i);
        if (strcmp(json_string_value(json_object_get(g, "op")), op) == 0) {
            json_incref(g);
            json_decref(doc);
            return g;
        }
    }
    ck_abort_msg("no group %s", op);
    return NULL;
}

static uint8_t *jhex(json_t *obj, const char *key, size_t *len)
{
    const char *s = json_string_value(json_object_get(obj, key));
    ck_assert_msg(s != NULL, "field %s", key);
    return mtp_test_hex(s, len);
}

START_TEST(rsa_pad_matches_gramjs)
{
    struct mtp_rsa_key *pub = load("vectors/rsa/test_key_public_pkcs1.pem");
    json_t *g = vector_group("rsa_pad_encrypt");
    json_t *tests = json_object_get(g, "tests");
    int valid = 0, retry = 0;
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *t = json_array_get(tests, i), *args = json_object_get(t, "args"), *ex = json_object_get(t, "expect");
        size_t dl, pl, tl;
        uint8_t *data = jhex(args, "data", &dl), *pad = jhex(args, "random_padding", &pl);
        uint8_t *tk = jhex(args, "temp_key", &tl);
        ck_assert_uint_eq(tl, 32);
        uint8_t out[256];
        struct mtp_error err;
        mtp_error_clear(&err);
        int rc = mtp_rsa_pad_encrypt(pub, data, dl, pad, pl, tk, out, &err);
        const char *want_err = json_string_value(json_object_get(ex, "error"));
        if (want_err) {
            ck_assert_str_eq(mtp_err_name(rc), want_err);
            retry += rc == MTP_ERR_RSA_RETRY;
        } else {
            ck_assert_msg(rc == MTP_OK, "%s", err.msg);
            ck_assert_hex_eq(out, 256, json_string_value(json_object_get(ex, "encrypted_data")));
            valid++;
        }
    }
    ck_assert_int_ge(valid, 3);
    ck_assert_int_ge(retry, 1);
    json_decref(g);
    mtp_rsa_key_free(pub);
}
END_TEST

START_TEST(rsa_pad_decrypts_gramjs_output)
{
    struct mtp_rsa_key *priv = load("vectors/rsa/test_key_private.pem");
    json_t *g = vector_group("rsa_pad_decrypt");
    json_t *tests = json_object_get(g, "tests");
    int checked = 0;
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *t = json_array_get(tests, i), *args = json_object_get(t, "args"), *ex = json_object_get(t, "expect");
        size_t len;
        uint8_t *in = jhex(args, "encrypted_data", &len);
        uint8_t padded[192], tk[32];
        struct mtp_error err;
        mtp_error_clear(&err);
        int rc = mtp_rsa_pad_decrypt(priv, in, len, padded, tk, &err);
        const char *want_err = json_string_value(json_object_get(ex, "error"));
        if (want_err) {
            ck_assert_str_eq(mtp_err_name(rc), want_err);
        } else {
            ck_assert_msg(rc == MTP_OK, "%s", err.msg);
            ck_assert_hex_eq(padded, 192, json_string_value(json_object_get(ex, "data_with_padding")));
            ck_assert_hex_eq(tk, 32, json_string_value(json_object_get(ex, "temp_key")));
        }
        checked++;
    }
    ck_assert_int_ge(checked, 6);
    json_decref(g);
    mtp_rsa_key_free(priv);
}
END_TEST

START_TEST(rsa_pad_env_retries_with_a_fresh_temp_key)
{
    struct mtp_rsa_key *pub = load("vectors/rsa/test_key_public_spki.pem");
    json_t *g = vector_group("rsa_pad_encrypt");
    json_t *tests = json_object_get(g, "tests");
    /* The vector file lists the rejected temp_key right before the accepted one for the same data. */
    size_t i;
    for (i = 0; i + 1 < json_array_size(tests); i++) {
        json_t *ex = json_object_get(json_array_get(tests, i), "expect");
        const char *e = json_string_value(json_object_get(ex, "error"));
        if (e && strcmp(e, "retry") == 0)
            break;
    }
    json_t *bad = json_object_get(json_array_get(tests, i), "args");
    json_t *good = json_array_get(tests, i + 1);
    size_t dl, pl, tl;
    uint8_t *data = jhex(bad, "data", &dl), *pad = jhex(bad, "random_padding", &pl), *tk_bad = jhex(bad, "temp_key", &tl);
    uint8_t *tk_good = jhex(json_object_get(good, "args"), "temp_key", &tl);
    uint8_t script[192 + 32 * MTP_RSA_PAD_MAX_TRIES];
    memcpy(script, pad, pl);
    memcpy(script + pl, tk_bad, 32);
    memcpy(script + pl + 32, tk_good, 32);
    struct mtp_script_state ss;
    struct mtp_env env = mtp_env_scripted(&ss, script, pl + 64, 0);
    uint8_t out[256];
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_rsa_pad_encrypt_env(pub, &env, data, dl, out, &err));
    ck_assert_uint_eq(ss.pos, pl + 64);
    ck_assert_hex_eq(out, 256, json_string_value(json_object_get(json_object_get(good, "expect"), "encrypted_data")));
    /* Only rejected temp_keys: gives up after MTP_RSA_PAD_MAX_TRIES. */
    for (int k = 0; k < MTP_RSA_PAD_MAX_TRIES; k++)
        memcpy(script + pl + 32 * k, tk_bad, 32);
    env = mtp_env_scripted(&ss, script, pl + 32 * MTP_RSA_PAD_MAX_TRIES, 0);
    ck_assert_rc(mtp_rsa_pad_encrypt_env(pub, &env, data, dl, out, &err), MTP_ERR_RSA_RETRY);
    ck_assert_uint_eq(ss.pos, pl + 32 * MTP_RSA_PAD_MAX_TRIES);
    /* Randomness running out is not a retry. */
    env = mtp_env_scripted(&ss, script, pl + 10, 0);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_rsa_pad_encrypt_env(pub, &env, data, dl, out, &err), MTP_ERR_LIMIT);
    json_decref(g);
    mtp_rsa_key_free(pub);
}
END_TEST

START_TEST(rsa_pad_argument_and_key_checks)
{
    struct mtp_rsa_key *pub = load("vectors/rsa/test_key_public_pkcs1.pem");
    struct mtp_rsa_key *priv = load("vectors/rsa/test_key_private_pkcs1.pem");
    uint8_t data[145] = {0}, pad[192] = {0}, tk[32] = {0}, out[256], padded[192];
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_rsa_pad_encrypt(pub, data, 145, pad, 47, tk, out, &err), MTP_ERR_RSA_DATA_TOO_LONG);
    ck_assert_str_eq(err.msg, "RSA_PAD: 145 bytes of data, at most 144");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_rsa_pad_encrypt(pub, data, 100, pad, 91, tk, out, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "RSA_PAD: random_padding must be 92 bytes for 100 bytes of data, got 91");
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "pad", 3, 0);
    ck_assert_rc(mtp_rsa_pad_encrypt_env(pub, &env, data, 145, out, NULL), MTP_ERR_RSA_DATA_TOO_LONG);
    /* Any length from 0 to 144 round-trips. */
    for (size_t len = 0; len <= 144; len += 48) {
        memset(data, (int)len, len);
        ck_assert_ok(mtp_rsa_pad_encrypt_env(pub, &env, data, len, out, NULL));
        ck_assert_ok(mtp_rsa_pad_decrypt(priv, out, 256, padded, NULL, NULL));
        ck_assert_mem_eq(padded, data, len);
    }
    int rc = mtp_rsa_pad_encrypt(pub, NULL, 0, pad, 192, tk, out, NULL); /* empty data may come as NULL */
    ck_assert(rc == MTP_OK || rc == MTP_ERR_RSA_RETRY);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_rsa_pad_decrypt(pub, out, 256, padded, NULL, &err), MTP_ERR_RSA_NOT_PRIVATE);
    ck_assert_rc(mtp_rsa_pad_decrypt(priv, out, 257, padded, NULL, NULL), MTP_ERR_RSA_BAD_LENGTH);
    memset(out, 0xff, sizeof out);
    ck_assert_rc(mtp_rsa_pad_decrypt(priv, out, 256, padded, NULL, NULL), MTP_ERR_RSA_OUT_OF_RANGE);
    mtp_rsa_key_free(pub);
    mtp_rsa_key_free(priv);
}
END_TEST

/* RSA_PAD with the SHA256 inside flipped: the checked decryption refuses it,
 * the unchecked one (the mock DC's seeded fault) hands back the data. */
START_TEST(rsa_pad_unchecked_skips_only_the_hash)
{
    struct mtp_rsa_key *pub = load("vectors/rsa/test_key_public_pkcs1.pem");
    struct mtp_rsa_key *priv = load("vectors/rsa/test_key_private_pkcs1.pem");
    uint8_t dwp[192], temp_key[32], buf[224], dwh[224], aes[224], kae[256], h[32], n[256], out[256], padded[192];
    static const uint8_t zero_iv[32];
    size_t nl;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_rsa_key_n(pub, n, sizeof n, &nl, &err));
    for (int tries = 0;; tries++) {
        ck_assert_int_lt(tries, 64);
        for (int i = 0; i < 192; i++)
            dwp[i] = (uint8_t)(i * 3 + tries);
        for (int i = 0; i < 32; i++)
            temp_key[i] = (uint8_t)(i * 11 + tries);
        for (int i = 0; i < 192; i++)
            dwh[i] = dwp[191 - i];
        memcpy(buf, temp_key, 32);
        memcpy(buf + 32, dwp, 192);
        mtp_authcrypt_sha256(buf, 224, dwh + 192);
        dwh[192] ^= 0x80;
        ck_assert_ok(mtp_aes_ige_encrypt(temp_key, 32, zero_iv, dwh, aes, sizeof aes, &err));
        mtp_authcrypt_sha256(aes, sizeof aes, h);
        for (int i = 0; i < 32; i++)
            kae[i] = temp_key[i] ^ h[i];
        memcpy(kae + 32, aes, sizeof aes);
        if (memcmp(kae, n, 256) < 0)
            break;
    }
    ck_assert_ok(mtp_rsa_raw_public(pub, kae, out, &err));
    ck_assert_rc(mtp_rsa_pad_decrypt(priv, out, 256, padded, NULL, &err), MTP_ERR_RSA_PAD_HASH);
    memset(padded, 0, sizeof padded);
    ck_assert_ok(mtp_rsa_pad_decrypt_unchecked(priv, out, 256, padded, &err));
    ck_assert_mem_eq(padded, dwp, 192);
    /* The other checks stay. */
    ck_assert_rc(mtp_rsa_pad_decrypt_unchecked(priv, out, 255, padded, NULL), MTP_ERR_RSA_BAD_LENGTH);
    mtp_rsa_key_free(pub);
    mtp_rsa_key_free(priv);
}
END_TEST

START_TEST(old_scheme_matches_gramjs)
{
    struct mtp_rsa_key *pub = load("vectors/rsa/test_key_public_pkcs1.pem");
    struct mtp_rsa_key *priv = load("vectors/rsa/test_key_private.pem");
    json_t *g = vector_group("rsa_old_encrypt");
    json_t *tests = json_object_get(g, "tests");
    int valid = 0;
    for (size_t i = 0; i < json_array_size(tests); i++) {
        json_t *t = json_array_get(tests, i), *args = json_object_get(t, "args"), *ex = json_object_get(t, "expect");
        size_t dl, pl;
        uint8_t *data = jhex(args, "data", &dl), *pad = jhex(args, "random_padding", &pl), out[256], back[255];
        int rc = mtp_rsa_old_encrypt(pub, data, dl, pad, pl, out, NULL);
        const char *want_err = json_string_value(json_object_get(ex, "error"));
        if (want_err) {
            ck_assert_str_eq(mtp_err_name(rc), want_err);
            continue;
        }
        ck_assert_ok(rc);
        ck_assert_hex_eq(out, 256, json_string_value(json_object_get(ex, "encrypted_data")));
        ck_assert_ok(mtp_rsa_old_decrypt(priv, out, 256, back, NULL));
        ck_assert_ok(mtp_rsa_old_check(back, dl, NULL));
        ck_assert_mem_eq(back + 20, data, dl);
        if (dl > 0)
            ck_assert_rc(mtp_rsa_old_check(back, dl - 1, NULL), MTP_ERR_RSA_HASH);
        valid++;
    }
    ck_assert_int_eq(valid, 3);
    json_decref(g);
    mtp_rsa_key_free(pub);
    mtp_rsa_key_free(priv);
}
END_TEST

START_TEST(old_scheme_errors)
{
    struct mtp_rsa_key *pub = load("vectors/rsa/test_key_public_spki.pem");
    struct mtp_rsa_key *priv = load("vectors/rsa/test_key_private_pkcs1.pem");
    uint8_t data[236] = {0}, pad[235] = {0}, out[256], back[255];
    ck_assert_rc(mtp_rsa_old_encrypt(pub, data, 236, pad, 0, out, NULL), MTP_ERR_RSA_DATA_TOO_LONG);
    ck_assert_rc(mtp_rsa_old_encrypt(pub, data, 10, pad, 10, out, NULL), MTP_ERR_ARG);
    ck_assert_rc(mtp_rsa_old_check(back, 236, NULL), MTP_ERR_RSA_HASH);
    /* Empty inputs may come as NULL. */
    ck_assert_ok(mtp_rsa_old_encrypt(pub, data, 235, NULL, 0, out, NULL));
    ck_assert_ok(mtp_rsa_old_decrypt(priv, out, 256, back, NULL));
    ck_assert_ok(mtp_rsa_old_check(back, 235, NULL));
    /* A value whose leading byte is not zero decrypts, but not into 255 bytes. */
    uint8_t x[256] = {0x01, 0x02, 0x03};
    ck_assert_ok(mtp_rsa_raw_public(pub, x, out, NULL));
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_rsa_old_decrypt(priv, out, 256, back, &err), MTP_ERR_RSA_OUT_OF_RANGE);
    ck_assert_str_eq(err.msg, "old RSA scheme: the decrypted value does not fit 255 bytes");
    /* Textbook RSA refuses inputs at or above the modulus. */
    memset(x, 0xff, sizeof x);
    ck_assert_rc(mtp_rsa_raw_public(pub, x, out, NULL), MTP_ERR_RSA_OUT_OF_RANGE);
    ck_assert_rc(mtp_rsa_old_decrypt(pub, out, 256, back, NULL), MTP_ERR_RSA_NOT_PRIVATE);
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "old", 3, 0);
    ck_assert_ok(mtp_rsa_old_encrypt_env(pub, &env, data, 100, out, NULL));
    ck_assert_ok(mtp_rsa_old_decrypt(priv, out, 256, back, NULL));
    ck_assert_ok(mtp_rsa_old_check(back, 100, NULL));
    ck_assert_rc(mtp_rsa_old_encrypt_env(pub, &env, data, 236, out, NULL), MTP_ERR_RSA_DATA_TOO_LONG);
    mtp_rsa_key_free(pub);
    mtp_rsa_key_free(priv);
}
END_TEST

START_TEST(generated_keys_are_deterministic_and_work)
{
    struct mtp_det_state s1, s2;
    struct mtp_env e1 = mtp_env_deterministic(&s1, "key", 3, 0), e2 = mtp_env_deterministic(&s2, "key", 3, 0);
    struct mtp_rsa_key *k1 = NULL, *k2 = NULL;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_rsa_key_generate(&e1, &k1, &err));
    ck_assert_ok(mtp_rsa_key_generate(&e2, &k2, &err));
    ck_assert(mtp_rsa_key_has_private(k1));
    char a[17], b[17];
    fingerprint_hex(k1, a);
    fingerprint_hex(k2, b);
    ck_assert_str_eq(a, b);
    uint8_t data[100], out[256], padded[192];
    memset(data, 0x42, sizeof data);
    ck_assert_ok(mtp_rsa_pad_encrypt_env(k1, &e1, data, sizeof data, out, &err));
    ck_assert_ok(mtp_rsa_pad_decrypt(k2, out, 256, padded, NULL, &err));
    ck_assert_mem_eq(padded, data, sizeof data);
    /* Its private PEM carries the same key. */
    char *pem;
    size_t len;
    struct mtp_rsa_key *k3 = NULL;
    ck_assert_ok(mtp_rsa_key_to_pem(k1, true, &pem, &len, &err));
    ck_assert_ok(mtp_rsa_key_from_pem(pem, len, &k3, &err));
    mtp_wipe(pem, len);
    free(pem);
    ck_assert_ok(mtp_rsa_pad_decrypt(k3, out, 256, padded, NULL, &err));
    mtp_rsa_key_free(k1);
    mtp_rsa_key_free(k2);
    mtp_rsa_key_free(k3);
    struct mtp_script_state ss;
    struct mtp_env empty = mtp_env_scripted(&ss, NULL, 0, 0);
    mtp_error_clear(&err);
    k1 = NULL;
    ck_assert_rc(mtp_rsa_key_generate(&empty, &k1, &err), MTP_ERR_LIMIT);
    ck_assert_ptr_null(k1);
}
END_TEST

static Suite *rsa_suite(void)
{
    Suite *s = suite_create("rsa");
    TCase *t = tcase_create("rsa");
    tcase_add_test(t, telegram_key_fingerprint);
    tcase_add_test(t, every_published_telegram_key);
    tcase_add_test(t, every_pem_form_of_the_test_key);
    tcase_add_test(t, unusable_keys_are_rejected_by_name);
    tcase_add_test(t, keys_from_n_and_e);
    tcase_add_test(t, pem_output_round_trips);
    tcase_add_test(t, rsa_pad_matches_gramjs);
    tcase_add_test(t, rsa_pad_decrypts_gramjs_output);
    tcase_add_test(t, rsa_pad_env_retries_with_a_fresh_temp_key);
    tcase_add_test(t, rsa_pad_argument_and_key_checks);
    tcase_add_test(t, rsa_pad_unchecked_skips_only_the_hash);
    tcase_add_test(t, old_scheme_matches_gramjs);
    tcase_add_test(t, old_scheme_errors);
    tcase_add_test(t, generated_keys_are_deterministic_and_work);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(rsa_suite)
