#include <string.h>

#include "mtp/tl_value.h"
#include "mtp_test.h"
#include "tlengine/tl_files.h"

static struct mtp_tl_schema *mt, *api;
static struct mtp_error err;

static void load_schemas(void)
{
    static const char *const m[] = {"mtproto"}, *const a[] = {"api"};
    ck_assert(mtp_tl_schema_load(m, 1, &mt, &err) == MTP_OK);
    ck_assert(mtp_tl_schema_load(a, 1, &api, &err) == MTP_OK);
}

static void free_schemas(void)
{
    mtp_tl_schema_free(mt);
    mtp_tl_schema_free(api);
}

/* Decodes hex and renders it; the returned text is owned by the test arena. */
static const char *render(const struct mtp_tl_schema *s, const char *hex, bool multiline, size_t max_bytes)
{
    size_t n;
    const uint8_t *p = mtp_test_hex(hex, &n);
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, 0);
    struct mtp_tl_value v;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_tl_decode(s, NULL, p, n, NULL, &a, &v, NULL, &err) == MTP_OK, "%s", err.msg);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1u << 20, NULL);
    struct mtp_tl_text_opts o = {.multiline = multiline, .max_bytes = max_bytes};
    ck_assert_ok(mtp_tl_text(&v, &o, &w));
    ck_assert_ok(mtp_wr_u8(&w, 0));
    size_t len;
    char *text = (char *)mtp_wr_take(&w, &len);
    static char keep[8][4096]; /* per test process */
    static int k;
    ck_assert_uint_lt(len, sizeof keep[0]);
    memcpy(keep[k], text, len);
    free(text);
    mtp_tl_arena_free(&a);
    return keep[k++ % 8];
}

#define RESPQ                                                                                                          \
    "6324160575e622f3bc7d714632b833821fd7bb0c8ec53ec050cb2d475b457baf445b49f50816e748b29522c68f00000015c4b51c030000"  \
    "0085fd64de851d9dd0a5b7f709355fc30b216be86c022bb4c3"

START_TEST(respq)
{
    ck_assert_str_eq(render(mt, RESPQ, false, 0),
                     "resPQ nonce:0x75e622f3bc7d714632b833821fd7bb0c server_nonce:0x8ec53ec050cb2d475b457baf445b49f5 "
                     "pq:0x16e748b29522c68f server_public_key_fingerprints:[-3414540481677951611, 847625836280919973, "
                     "-4344800451088585951]");
    ck_assert_str_eq(render(mt, RESPQ, true, 4),
                     "resPQ\n"
                     "  nonce:0x75e622f3...(16 bytes)\n"
                     "  server_nonce:0x8ec53ec0...(16 bytes)\n"
                     "  pq:0x16e748b2...(8 bytes)\n"
                     "  server_public_key_fingerprints:[-3414540481677951611, 847625836280919973, -4344800451088585951]");
}
END_TEST

START_TEST(strings)
{
    /* rpc_error code -1, message a"b\c<LF>d<TAB>e<01> é */
    ck_assert_str_eq(render(mt, "19ca4421" "ffffffff" "0d6122625c630a6409650120c3a9" "0000", false, 0),
                     "rpc_error error_code:-1 error_message:\"a\\\"b\\\\c\\nd\\te\\x01 \xc3\xa9\"");
    /* not UTF-8: hex */
    ck_assert_str_eq(render(mt, "19ca4421" "02000000" "03ff00c3", false, 0), "rpc_error error_code:2 error_message:0xff00c3");
    /* shortened at a character boundary: 'é' is two bytes */
    ck_assert_str_eq(render(mt, "19ca4421" "03000000" "0561c3a96262" "0000", false, 2),
                     "rpc_error error_code:3 error_message:\"a\"...(5 bytes)");
    /* empty bytes and empty string */
    ck_assert_str_eq(render(mt, "7db5de04" "0100000000000000" "00000000", false, 0),
                     "msgs_state_info req_msg_id:1 info:0x");
    ck_assert_str_eq(render(mt, "19ca4421" "00000000" "00000000", false, 0), "rpc_error error_code:0 error_message:\"\"");
}
END_TEST

START_TEST(containers_and_gzip)
{
    static const char hex[] =
        "dcf8f173" "02000000"
        "0100000000000000" "01000000" "14000000" "59b4d662" "15c4b51c" "01000000" "0500000000000000"
        "0200000000000000" "02000000" "24000000" "a1cf7230"
        "1e1f8b08000000000002033b5a5c6ec2c800014c501a00bf083f2f14000000" "00";
    ck_assert_str_eq(render(mt, hex, false, 0),
                     "msg_container messages:[(message msg_id:1 seqno:1 bytes:20 body:(msgs_ack msg_ids:[5])), "
                     "(message msg_id:2 seqno:2 bytes:36 body:(gzip_packed packed_data:<30 bytes> unpacked:(pong "
                     "msg_id:1 ping_id:2)))]");
    ck_assert_str_eq(render(mt, hex, true, 0), "msg_container\n"
                                                "  messages:[\n"
                                                "    (message\n"
                                                "      msg_id:1\n"
                                                "      seqno:1\n"
                                                "      bytes:20\n"
                                                "      body:(msgs_ack\n"
                                                "        msg_ids:[5]))\n"
                                                "    (message\n"
                                                "      msg_id:2\n"
                                                "      seqno:2\n"
                                                "      bytes:36\n"
                                                "      body:(gzip_packed\n"
                                                "        packed_data:<30 bytes>\n"
                                                "        unpacked:(pong\n"
                                                "          msg_id:1\n"
                                                "          ping_id:2)))\n"
                                                "  ]");
    /* rpc_result of boolTrue, and an empty vector */
    ck_assert_str_eq(render(mt, "016d5cf3" "0900000000000000" "b5757299", false, 0), "rpc_result req_msg_id:9 result:true");
    ck_assert_str_eq(render(mt, "59b4d662" "15c4b51c" "00000000", false, 0), "msgs_ack msg_ids:[]");
}
END_TEST

START_TEST(flags_and_doubles)
{
    /* user: flags 0x862 (contact, first_name, photo, status), flags2 0 */
    static const char user[] = "7ec3464b" "62080000" "00000000" "0500000000000000" "03416e6e"
                               "06f7d182" "00000000" "0900000000000000" "02000000" "c87d197b" "00000000";
    ck_assert_str_eq(render(api, user, false, 0),
                     "user flags:0x862 contact:true flags2:0x0 id:5 first_name:\"Ann\" photo:(userProfilePhoto "
                     "flags:0x0 photo_id:9 dc_id:2) status:(userStatusRecently flags:0x0)");
    /* inputGeoPoint lat 51.5, long -0.1246 */
    ck_assert_str_eq(render(api, "af2f2248" "00000000" "0000000000c04940" "bde3141dc9e5bfbf", false, 0),
                     "inputGeoPoint flags:0x0 lat:51.5 long:-0.1246");
}
END_TEST

static Suite *tl_text_suite(void)
{
    Suite *s = suite_create("tl_text");
    TCase *tc = tcase_create("text");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, load_schemas, free_schemas);
    tcase_add_test(tc, respq);
    tcase_add_test(tc, strings);
    tcase_add_test(tc, containers_and_gzip);
    tcase_add_test(tc, flags_and_doubles);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tl_text_suite)
