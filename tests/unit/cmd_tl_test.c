/* `mtprobe tl`: decode, encode and ids from the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp_test.h"

/* resPQ of the older worked example on core.telegram.org/mtproto/samples-auth_key. */
#define RESPQ "632416053e0549828cca27e966b301a48fece2fca5cf4d33f4a11ea877ba4aa5739073300817ed48941a08f981000000" \
              "15c4b51c01000000216be86c022bb4c3"

START_TEST(decode_text_and_json)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" tl decode", RESPQ "\n", &out, &err), 0);
    ck_assert_str_eq(out, "resPQ\n"
                          "  nonce:0x3e0549828cca27e966b301a48fece2fc\n"
                          "  server_nonce:0xa5cf4d33f4a11ea877ba4aa573907330\n"
                          "  pq:0x17ed48941a08f981\n"
                          "  server_public_key_fingerprints:[-4344800451088585951]\n");
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" tl decode --json", RESPQ, &out, &err), 0);
    ck_assert_msg(strstr(out, "\"_\": \"resPQ\"") != NULL || strstr(out, "\"_\":\"resPQ\"") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\"-4344800451088585951\"") != NULL, "long must be a decimal string: %s", out);
}
END_TEST

START_TEST(truncated_input_names_field_and_offset)
{
    char *out, *err;
    /* One byte short: the fingerprint vector cannot hold its element. */
    const char *cut = "632416053e0549828cca27e966b301a48fece2fca5cf4d33f4a11ea877ba4aa5739073300817ed48941a08f981000000"
                      "15c4b51c01000000216be86c022bb4";
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" tl decode", cut, &out, &err), 1);
    ck_assert_msg(strstr(err, "offset 56") != NULL && strstr(err, "resPQ.server_public_key_fingerprints") != NULL,
                  "%s", err);
}
END_TEST

START_TEST(encode_round_trips)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" tl encode",
                                 "{\"_\":\"resPQ\",\"nonce\":\"3e0549828cca27e966b301a48fece2fc\","
                                 "\"server_nonce\":\"a5cf4d33f4a11ea877ba4aa573907330\",\"pq\":\"17ed48941a08f981\","
                                 "\"server_public_key_fingerprints\":[\"-4344800451088585951\"]}",
                                 &out, &err),
                     0);
    ck_assert_str_eq(out, RESPQ "\n");
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" tl encode", "{\"_\":\"no_such_thing\"}", &out, &err), 1);
    ck_assert_msg(strstr(err, "no_such_thing") != NULL, "%s", err);
}
END_TEST

START_TEST(ids_lists_every_combinator)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" tl ids --check", NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "05162463 resPQ\n") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "be7e8ef1 req_pq_multi\n") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "73f1f8dc msg_container\n") != NULL, "%s", out);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" tl ids --schema api --check | wc -l", NULL, &out, &err), 0);
    ck_assert_int_gt(atoi(out), 1500);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" tl ids --schema /nonexistent.tl", NULL, &out, &err), 3);
}
END_TEST

static Suite *cmd_tl_suite(void)
{
    Suite *s = suite_create("cmd_tl");
    TCase *tc = tcase_create("cli");
    tcase_add_test(tc, decode_text_and_json);
    tcase_add_test(tc, truncated_input_names_field_and_offset);
    tcase_add_test(tc, encode_round_trips);
    tcase_add_test(tc, ids_lists_every_combinator);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(cmd_tl_suite)
