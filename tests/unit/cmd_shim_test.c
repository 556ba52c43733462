/* `mtprobe shim` over real pipes: one answer line per request line, flushed, exit 0 at end of input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp_test.h"

START_TEST(answers_each_line_in_order)
{
    char *out, *err;
    const char *in = "{\"id\":1,\"op\":\"aes_ige_encrypt\",\"key\":\"000102030405060708090a0b0c0d0e0f\","
                     "\"iv\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\","
                     "\"data\":\"0000000000000000000000000000000000000000000000000000000000000000\"}\n"
                     "\n"
                     "{\"id\":2,\"op\":\"nope\"}\n"
                     "not json\n"
                     "{\"id\":3,\"op\":\"auth_key_id\",\"auth_key\":\"00\"}\n";
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" shim", in, &out, &err), 0);
    /* OpenSSL test/igetest.c, ige_test_vectors[0] (AES-128, Ben Laurie). */
    ck_assert_str_eq(out, "{\"id\":1,\"ok\":true,\"out\":\"1a8519a6557be652e9da8e43da4ef4453cf456b4ca488aa383c79c98b34797cb\"}\n"
                          "{\"id\":2,\"ok\":false,\"error\":\"unsupported\",\"message\":\"op 'nope' is not implemented by this shim\"}\n"
                          "{\"id\":null,\"ok\":false,\"error\":\"bad_json\",\"message\":\"request is not valid JSON: "
                          "'[' or '{' expected near 'not' at column 3\"}\n"
                          "{\"id\":3,\"ok\":false,\"error\":\"bad_argument\",\"message\":\"argument 'auth_key' must be "
                          "256..256 bytes, got 2 hex digits\"}\n");
    ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(list_prints_every_op)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" shim --list", NULL, &out, &err), 0);
    static const char *const v1[] = {"aes_ige_encrypt", "aes_ige_decrypt", "msg_key", "msg_kdf", "msg_encrypt",
                                     "msg_decrypt", "auth_key_id", "pq_factor", "rsa_fingerprint", "rsa_pad_encrypt",
                                     "tmp_aes", "new_nonce_hash", "server_salt", "dh_check", "transport_encode",
                                     "transport_decode", "obfuscated_init", "tl_encode", "tl_decode"};
    for (size_t i = 0; i < sizeof v1 / sizeof v1[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "\n%s\n", v1[i]);
        char *padded = malloc(strlen(out) + 2);
        padded[0] = '\n';
        strcpy(padded + 1, out);
        ck_assert_msg(strstr(padded, want) != NULL, "op %s missing from --list", v1[i]);
        free(padded);
    }
}
END_TEST

static Suite *cmd_shim_suite(void)
{
    Suite *s = suite_create("cmd_shim");
    TCase *tc = tcase_create("pipe");
    tcase_add_test(tc, answers_each_line_in_order);
    tcase_add_test(tc, list_prints_every_op);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(cmd_shim_suite)
