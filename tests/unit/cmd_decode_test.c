/* `mtprobe decode` on the command line, on the committed capture of the
 * reference client (tests/decode/captures/mtprobe.pcap: intermediate,
 * obfuscated-padded, full, abridged, padded, and obfuscated-intermediate with
 * an MTProxy secret): exact summary lines, the exchange decrypted, filters,
 * formats, exit codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp_test.h"

#define CAP "tests/decode/captures/mtprobe.pcap"
#define KEYS "--keylog tests/decode/captures/mtprobe.keys"

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(text_shows_each_message_with_its_fields)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " " KEYS, NULL, &out, &err), 0);
    /* the first connection, line for line */
    static const char *lines[] = {
        "0.000000 #1 -- open client=127.0.0.1:59296 server=127.0.0.1:41789\n",
        "0.000549 #1 -- transport transport=intermediate obfuscated=false\n",
        ("0.000549 #1 c2s intermediate plain msg_id=6b15fb9d5126e978 req_pq_multi (20 bytes)\n"
         "    req_pq_multi\n"
         "      nonce:0x"),
        "0.011653 #1 s2c intermediate plain msg_id=6b15fb9d53f7ced9 server_DH_params_ok (632 bytes)\n",
        ("    server_DH_inner_data, decrypted with the logged new_nonce:\n"
         "      server_DH_inner_data\n"),
        "        g:3\n",
        "    client_DH_inner_data, decrypted with the logged new_nonce:\n",
        "        retry_id:0\n",
        "    new_nonce_hash1: the exchange made auth_key_id ",
        "0.277438 #1 c2s intermediate enc   msg_id=6b15fb9d97ced914 seqno=1 ping (12 bytes)\n",
        "0.277731 #1 s2c intermediate enc   msg_id=6b15fb9d9810625d seqno=5 rpc_result (200 bytes)\n",
        "      result:(config\n",
        "            ip_address:\"127.0.0.1\"\n",
        "#2 -- transport transport=obfuscated-padded obfuscated=true dc_field=2 keys=key log\n",
        "#6 -- transport transport=obfuscated-intermediate obfuscated=true dc_field=2 keys=key log\n",
        "capture: ",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        ck_assert_msg(strstr(out, lines[i]) != NULL, "missing: %s", lines[i]);
    ck_assert_uint_eq(count(out, " -- open "), 6);
    ck_assert_uint_eq(count(out, " server_DH_params_ok ("), 6);
    ck_assert_uint_eq(count(out, "decrypted with the logged new_nonce"), 12);
    ck_assert_uint_eq(count(out, "! "), 0); /* nothing undecrypted, nothing that does not decode */
    ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(filters_and_formats)
{
    char *out, *err;
    /* one connection, one constructor (the result inside rpc_result counts) */
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " " KEYS " --connection 3 --filter config", NULL, &out, &err),
                     0);
    ck_assert_uint_eq(count(out, " rpc_result ("), 1);
    ck_assert_uint_eq(count(out, "#3 "), 1);
    ck_assert_uint_eq(count(out, " -- "), 0);
    ck_assert_msg(strstr(out, "#3 s2c full enc") != NULL, "%s", out);
    /* JSON lines: one object per line, the TL JSON body, hex and TL text on request */
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " " KEYS " --format jsonl --filter ping --hex --tl", NULL,
                                 &out, &err),
                     0);
    ck_assert_uint_eq(count(out, "\"ev\":\"msg\""), 6);
    ck_assert_uint_eq(count(out, "\"json\":{\"_\":\"ping\",\"ping_id\":\""), 6);
    ck_assert_uint_eq(count(out, "\"tl\":\"ping ping_id:"), 6);
    ck_assert_uint_eq(count(out, "\"body\":\"ec77be7a"), 6);
    ck_assert_uint_eq(count(out, "\n"), 7); /* and the end line */
    /* --summary alone: only the summaries and the totals */
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " " KEYS " --summary", NULL, &out, &err), 0);
    ck_assert_uint_eq(count(out, "connection #"), 6);
    ck_assert_uint_eq(count(out, "msg_id="), 0);
    ck_assert_msg(strstr(out, "connection #6 127.0.0.1:") != NULL && strstr(out, "obfuscated-intermediate, ") != NULL,
                  "%s", out);
    ck_assert_uint_eq(count(out, "messages: 7 c2s, 6 s2c (6 unencrypted, 7 encrypted, 0 not decrypted, 0 TL errors)"),
                      6);
    /* --check: nothing to find in an honest run; the table names the requirements */
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " " KEYS " --check --summary", NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "checks: 0 findings\n") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "    C-SES-23  MUST") != NULL && strstr(out, "    C-HS-7    MUST") != NULL, "%s", out);
    /* without the key log: the exchange and nothing else */
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " --summary", NULL, &out, &err), 0);
    ck_assert_uint_eq(count(out, "7 encrypted, 7 not decrypted"), 5); /* the sixth: obfuscated with a secret */
    ck_assert_msg(strstr(out, "an MTProxy secret? give --secret HEX") != NULL, "%s", out);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " --summary --secret 0123456789abcdef0123456789abcdef",
                                 NULL, &out, &err),
                     0);
    ck_assert_uint_eq(count(out, "7 encrypted, 7 not decrypted"), 6);
}
END_TEST

START_TEST(usage_and_errors)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode", NULL, &out, &err), 2);
    ck_assert_msg(strstr(err, "which capture?") != NULL, "%s", err);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " --format xml", NULL, &out, &err), 2);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " --connection 0", NULL, &out, &err), 2);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " --secret 00", NULL, &out, &err), 2);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " " CAP, NULL, &out, &err), 2);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode /nonexistent.pcap", NULL, &out, &err), 3);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode " CAP " --keylog /nonexistent.keys", NULL, &out, &err), 3);
    ck_assert_msg(strstr(err, "/nonexistent.keys") != NULL, "%s", err);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" decode --help", NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "usage: mtprobe decode CAPTURE") != NULL, "%s", out);
    /* stdin and --out */
    const char *dir = mtp_test_tmpdir();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" decode - " KEYS " --format jsonl --out %s/o.jsonl < " CAP, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    ck_assert_str_eq(out, "");
    snprintf(cmd, sizeof cmd, "%s/o.jsonl", dir);
    FILE *f = fopen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_msg(strncmp(line, "{\"t\":0.000,\"time\":", 18) == 0, "%s", line);
    fclose(f);
    mtp_test_rmdir(dir);
}
END_TEST

static Suite *cmd_decode_suite(void)
{
    Suite *s = suite_create("cmd_decode");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, text_shows_each_message_with_its_fields);
    tcase_add_test(tc, filters_and_formats);
    tcase_add_test(tc, usage_and_errors);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(cmd_decode_suite)
