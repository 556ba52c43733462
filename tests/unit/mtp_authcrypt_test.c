#include <string.h>

#include "mtp/authcrypt.h"
#include "mtp_samples_auth_key.h"
#include "mtp_test.h"

static const uint8_t *hexn(const char *hex, size_t want)
{
    size_t n;
    uint8_t *p = mtp_test_hex(hex, &n);
    ck_assert_uint_eq(n, want);
    return p;
}

START_TEST(hashes)
{
    uint8_t h[32];
    mtp_authcrypt_sha1("abc", 3, h);
    ck_assert_hex_eq(h, 20, "a9993e364706816aba3e25717850c26c9cd0d89d");
    mtp_authcrypt_sha256("abc", 3, h);
    ck_assert_hex_eq(h, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(tmp_aes_of_both_examples)
{
    uint8_t key[32], iv[32];
    mtp_authcrypt_tmp_aes(hexn(OLD_NEW_NONCE, 32), hexn(OLD_SERVER_NONCE, 16), key, iv);
    ck_assert_hex_eq(key, 32, OLD_TMP_AES_KEY);
    ck_assert_hex_eq(iv, 32, OLD_TMP_AES_IV);
    mtp_authcrypt_tmp_aes(hexn(NEW_NEW_NONCE, 32), hexn(NEW_SERVER_NONCE, 16), key, iv);
    ck_assert_hex_eq(key, 32, NEW_TMP_AES_KEY);
    ck_assert_hex_eq(iv, 32, NEW_TMP_AES_IV);
}
END_TEST

START_TEST(decrypts_and_checks_the_published_answer)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t out[MTP_AUTHCRYPT_INNER_MAX];
    const uint8_t *key = hexn(NEW_TMP_AES_KEY, 32), *iv = hexn(NEW_TMP_AES_IV, 32);
    const uint8_t *enc = hexn(NEW_ENCRYPTED_ANSWER, 592);
    ck_assert_ok(mtp_authcrypt_inner_decrypt(key, iv, enc, 592, out, sizeof out, &err));
    ck_assert_hex_eq(out, 592, NEW_ANSWER_WITH_HASH);
    /* server_DH_inner_data is 564 bytes (as its TL parse tells); 8 bytes of padding follow. */
    ck_assert_ok(mtp_authcrypt_inner_check(out, 592, 564, &err));
    ck_assert_rc(mtp_authcrypt_inner_check(out, 592, 563, &err), MTP_ERR_INNER_HASH);
    ck_assert_str_eq(err.msg, "inner data: SHA1 of the 563-byte object differs from the hash in front of it");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_authcrypt_inner_check(out, 592, 573, &err), MTP_ERR_INNER_BAD_PADDING);
    ck_assert_uint_eq(err.offset, 20);
    ck_assert_rc(mtp_authcrypt_inner_check(out, 10, 0, NULL), MTP_ERR_INNER_BAD_PADDING);

    const uint8_t *old_enc = hexn(OLD_ENCRYPTED_ANSWER, 592);
    ck_assert_ok(mtp_authcrypt_inner_decrypt(hexn(OLD_TMP_AES_KEY, 32), hexn(OLD_TMP_AES_IV, 32), old_enc, 592, out,
                                             sizeof out, &err));
    ck_assert_hex_eq(out, 592, OLD_ANSWER_WITH_HASH);
    ck_assert_ok(mtp_authcrypt_inner_check(out, 592, 564, &err));
}
END_TEST

START_TEST(a_flipped_ciphertext_bit_fails_the_hash)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t out[MTP_AUTHCRYPT_INNER_MAX], enc[592];
    memcpy(enc, hexn(NEW_ENCRYPTED_ANSWER, 592), sizeof enc);
    enc[300] ^= 0x80;
    ck_assert_ok(mtp_authcrypt_inner_decrypt(hexn(NEW_TMP_AES_KEY, 32), hexn(NEW_TMP_AES_IV, 32), enc, sizeof enc,
                                             out, sizeof out, &err));
    ck_assert_rc(mtp_authcrypt_inner_check(out, sizeof enc, 564, &err), MTP_ERR_INNER_HASH);
}
END_TEST

START_TEST(padding_longer_than_15_bytes_is_rejected)
{
    /* SHA1(data) + data + 16 bytes: the hash is right, the padding is not. */
    uint8_t buf[20 + 12 + 16];
    memset(buf, 0x5a, sizeof buf);
    mtp_authcrypt_sha1(buf + 20, 12, buf);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_authcrypt_inner_check(buf, sizeof buf, 12, &err), MTP_ERR_INNER_BAD_PADDING);
    ck_assert_str_eq(err.msg, "inner data: 16 padding bytes after the object, at most 15 allowed");
    ck_assert_uint_eq(err.offset, 32);
    ck_assert_ok(mtp_authcrypt_inner_check(buf, sizeof buf - 1, 12, NULL));
}
END_TEST

START_TEST(encrypted_length_is_checked_before_decrypting)
{
    uint8_t in[MTP_AUTHCRYPT_INNER_MAX + 16] = {0}, out[MTP_AUTHCRYPT_INNER_MAX + 16], key[32] = {0}, iv[32] = {0};
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_authcrypt_inner_decrypt(key, iv, in, 591, out, sizeof out, &err), MTP_ERR_INNER_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "encrypted inner data: 591 bytes, want a multiple of 16 in 32..1024");
    ck_assert_rc(mtp_authcrypt_inner_decrypt(key, iv, in, 0, out, sizeof out, NULL), MTP_ERR_INNER_BAD_LENGTH);
    ck_assert_rc(mtp_authcrypt_inner_decrypt(key, iv, in, 16, out, sizeof out, NULL), MTP_ERR_INNER_BAD_LENGTH);
    ck_assert_rc(mtp_authcrypt_inner_decrypt(key, iv, in, MTP_AUTHCRYPT_INNER_MAX + 16, out, sizeof out, NULL),
                 MTP_ERR_INNER_BAD_LENGTH);
    ck_assert_rc(mtp_authcrypt_inner_decrypt(key, iv, in, 64, out, 48, NULL), MTP_ERR_OVERFLOW);
    ck_assert_ok(mtp_authcrypt_inner_decrypt(key, iv, in, MTP_AUTHCRYPT_INNER_MAX, out, sizeof out, NULL));
}
END_TEST

START_TEST(encrypts_client_dh_inner_data_as_published)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t out[MTP_AUTHCRYPT_INNER_MAX];
    size_t out_len = 0;
    const uint8_t *key = hexn(NEW_TMP_AES_KEY, 32), *iv = hexn(NEW_TMP_AES_IV, 32);
    const uint8_t *data = hexn(NEW_CLIENT_INNER, 304), *pad = hexn(NEW_CLIENT_PADDING, 12);
    ck_assert_ok(mtp_authcrypt_inner_encrypt_padded(key, iv, data, 304, pad, 12, out, sizeof out, &out_len, &err));
    ck_assert_uint_eq(out_len, 336);
    ck_assert_hex_eq(out, out_len, NEW_CLIENT_ENCRYPTED);
    /* The env form draws the same 12 bytes. */
    struct mtp_script_state ss;
    struct mtp_env env = mtp_env_scripted(&ss, pad, 12, 0);
    memset(out, 0, sizeof out);
    ck_assert_ok(mtp_authcrypt_inner_encrypt(&env, key, iv, data, 304, out, sizeof out, &out_len, &err));
    ck_assert_hex_eq(out, out_len, NEW_CLIENT_ENCRYPTED);
    ck_assert_rc(mtp_authcrypt_inner_encrypt(&env, key, iv, data, 304, out, sizeof out, &out_len, &err),
                 MTP_ERR_LIMIT);
    /* Older example, padding recovered by decryption. */
    ck_assert_ok(mtp_authcrypt_inner_encrypt_padded(hexn(OLD_TMP_AES_KEY, 32), hexn(OLD_TMP_AES_IV, 32),
                                                    hexn(OLD_CLIENT_INNER, 304), 304, hexn(OLD_CLIENT_PADDING, 12), 12,
                                                    out, sizeof out, &out_len, NULL));
    ck_assert_hex_eq(out, out_len, OLD_CLIENT_ENCRYPTED);
}
END_TEST

START_TEST(encrypt_rejects_wrong_padding_and_small_output)
{
    uint8_t key[32] = {0}, iv[32] = {0}, data[28] = {0}, pad[16] = {0}, out[64];
    size_t out_len;
    struct mtp_error err;
    mtp_error_clear(&err);
    /* 20 + 28 = 48: a whole number of blocks, so no padding. */
    ck_assert_rc(mtp_authcrypt_inner_encrypt_padded(key, iv, data, 28, pad, 16, out, sizeof out, &out_len, &err),
                 MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "inner data: padding must be 0 bytes for 28 bytes of data, got 16");
    ck_assert_ok(mtp_authcrypt_inner_encrypt_padded(key, iv, data, 28, pad, 0, out, sizeof out, &out_len, NULL));
    ck_assert_uint_eq(out_len, 48);
    ck_assert_rc(mtp_authcrypt_inner_encrypt_padded(key, iv, data, 27, pad, 1, out, 47, &out_len, NULL),
                 MTP_ERR_OVERFLOW);
    ck_assert_rc(mtp_authcrypt_inner_encrypt_padded(key, iv, data, MTP_AUTHCRYPT_INNER_MAX, pad, 0, out, sizeof out,
                                                    &out_len, NULL),
                 MTP_ERR_INNER_BAD_LENGTH);
    /* Round trip through decrypt + check. */
    uint8_t back[64];
    ck_assert_ok(mtp_authcrypt_inner_encrypt_padded(key, iv, data, 27, pad, 1, out, sizeof out, &out_len, NULL));
    ck_assert_ok(mtp_authcrypt_inner_decrypt(key, iv, out, out_len, back, sizeof back, NULL));
    ck_assert_ok(mtp_authcrypt_inner_check(back, out_len, 27, NULL));
}
END_TEST

START_TEST(auth_key_hashes_of_both_examples)
{
    uint8_t aux[8], h[16];
    struct mtp_error err;
    mtp_error_clear(&err);
    const uint8_t *ak = hexn(NEW_AUTH_KEY, 256), *nn = hexn(NEW_NEW_NONCE, 32);
    mtp_authcrypt_auth_key_aux_hash(ak, aux);
    ck_assert_hex_eq(aux, 8, NEW_AUX_HASH);
    ck_assert_ok(mtp_authcrypt_new_nonce_hash(nn, 1, aux, h, &err));
    ck_assert_hex_eq(h, 16, NEW_NNH1);
    ck_assert_ok(mtp_authcrypt_new_nonce_hash_key(nn, 2, ak, h, &err));
    ck_assert_hex_eq(h, 16, NEW_NNH2);
    ck_assert_ok(mtp_authcrypt_new_nonce_hash_key(nn, 3, ak, h, &err));
    ck_assert_hex_eq(h, 16, NEW_NNH3);
    ck_assert_rc(mtp_authcrypt_new_nonce_hash(nn, 0, aux, h, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "new_nonce_hash: number must be 1, 2 or 3, got 0");
    ck_assert_rc(mtp_authcrypt_new_nonce_hash(nn, 4, aux, h, NULL), MTP_ERR_ARG);

    ck_assert_ok(mtp_authcrypt_new_nonce_hash_key(hexn(OLD_NEW_NONCE, 32), 1, hexn(OLD_AUTH_KEY, 256), h, &err));
    ck_assert_hex_eq(h, 16, OLD_NNH1);
    mtp_authcrypt_auth_key_aux_hash(hexn(OLD_AUTH_KEY, 256), aux);
    ck_assert_hex_eq(aux, 8, OLD_AUX_HASH);
}
END_TEST

START_TEST(server_salt_and_fail_hash)
{
    uint8_t salt[8], h[16];
    mtp_authcrypt_server_salt(hexn(NEW_NEW_NONCE, 32), hexn(NEW_SERVER_NONCE, 16), salt);
    ck_assert_hex_eq(salt, 8, NEW_SALT);
    mtp_authcrypt_server_salt(hexn(OLD_NEW_NONCE, 32), hexn(OLD_SERVER_NONCE, 16), salt);
    ck_assert_hex_eq(salt, 8, OLD_SALT);
    /* SHA1(new_nonce)[4..20], computed with Python hashlib */
    mtp_authcrypt_dh_params_fail_hash(hexn(NEW_NEW_NONCE, 32), h);
    ck_assert_hex_eq(h, 16, "c7d5917a90765b7fc2d231b62c373bd7");
    mtp_authcrypt_dh_params_fail_hash(hexn(OLD_NEW_NONCE, 32), h);
    ck_assert_hex_eq(h, 16, "54b1900d86c75b4f34d0f856dea59ab2");
}
END_TEST

static Suite *authcrypt_suite(void)
{
    Suite *s = suite_create("authcrypt");
    TCase *t = tcase_create("authcrypt");
    tcase_add_test(t, hashes);
    tcase_add_test(t, tmp_aes_of_both_examples);
    tcase_add_test(t, decrypts_and_checks_the_published_answer);
    tcase_add_test(t, a_flipped_ciphertext_bit_fails_the_hash);
    tcase_add_test(t, padding_longer_than_15_bytes_is_rejected);
    tcase_add_test(t, encrypted_length_is_checked_before_decrypting);
    tcase_add_test(t, encrypts_client_dh_inner_data_as_published);
    tcase_add_test(t, encrypt_rejects_wrong_padding_and_small_output);
    tcase_add_test(t, auth_key_hashes_of_both_examples);
    tcase_add_test(t, server_salt_and_fail_hash);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(authcrypt_suite)
