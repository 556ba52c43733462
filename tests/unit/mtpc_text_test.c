/* Trace records as text: plain and encrypted messages decoded with the
 * schema, transport errors, quick acks, events, and what does not decode. */
#include <string.h>

#include "client/mtpc_text.h"
#include "mtp_test.h"
#include "tlengine/tl_files.h"

static struct mtp_tl_schema *schema;

static void setup(void)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_tl_schema_load(NULL, 0, &schema, &err) == MTP_OK, "schema: %s", err.msg);
}

static void teardown(void)
{
    mtp_tl_schema_free(schema);
    schema = NULL;
    mtp_test_free_all();
}

/* Renders t and compares the line. */
static void expect(const struct mtp_tl_schema *s, const struct mtpc_trace *t, size_t max_bytes, const char *want)
{
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 16, NULL);
    ck_assert_ok(mtpc_text_trace(s, t, max_bytes, &w));
    ck_assert_msg(w.len == strlen(want) && memcmp(w.p, want, w.len) == 0, "got '%.*s'\nwant '%s'", (int)w.len,
                  (const char *)w.p, want);
    mtp_wr_free(&w);
}

static bool contains(const struct mtp_wr *w, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= w->len; i++)
        if (memcmp(w->p + i, needle, n) == 0)
            return true;
    return false;
}

static struct mtpc_trace hex_trace(enum mtpc_dir dir, enum mtpc_trace_kind kind, int64_t msg_id, const char *hex)
{
    struct mtpc_trace t = {.dir = dir, .kind = kind, .msg_id = msg_id};
    t.data = mtp_test_hex(hex, &t.len);
    return t;
}

START_TEST(plain_message)
{
    struct mtpc_trace t =
        hex_trace(MTPC_OUT, MTPC_TRACE_PLAIN, 0x6553f10000000004, "f18e7ebe000102030405060708090a0b0c0d0e0f");
    expect(schema, &t, 0, "-> plain msg_id=0x6553f10000000004 req_pq_multi nonce:0x000102030405060708090a0b0c0d0e0f");
    /* Without a schema: hex. */
    expect(NULL, &t, 0, "-> plain msg_id=0x6553f10000000004 f18e7ebe000102030405060708090a0b0c0d0e0f");
}
END_TEST

START_TEST(inner_message)
{
    /* salt 1, session 2, msg_id, seqno 1, length 12, ping ping_id:258, 12 bytes of padding */
    struct mtpc_trace t = hex_trace(MTPC_IN, MTPC_TRACE_INNER, 0,
                                    "0100000000000000" "0200000000000000" "010000000000f153" "01000000" "0c000000"
                                    "ec77be7a0201000000000000" "000000000000000000000000");
    expect(schema, &t, 0, "<- msg_id=0x53f1000000000001 seqno=1 salt=0x1 session=0x2 len=12 ping ping_id:258");
}
END_TEST

START_TEST(long_bytes_are_shortened)
{
    /* resPQ with a 12-byte pq, shown with at most 4 bytes of each byte string. */
    struct mtpc_trace t = hex_trace(MTPC_IN, MTPC_TRACE_PLAIN, 1,
                                    "63241605" "000102030405060708090a0b0c0d0e0f" "101112131415161718191a1b1c1d1e1f"
                                    "0c0102030405060708090a0b0c000000" "15c4b51c" "00000000");
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 16, NULL);
    ck_assert_ok(mtpc_text_trace(schema, &t, 4, &w));
    ck_assert_msg(contains(&w, "pq:0x01020304"), "%.*s", (int)w.len, (const char *)w.p);
    ck_assert_msg(!contains(&w, "0x0102030405060708090a0b0c"), "%.*s", (int)w.len,
                  (const char *)w.p);
    mtp_wr_free(&w);
}
END_TEST

START_TEST(what_does_not_decode)
{
    struct mtpc_trace t = hex_trace(MTPC_IN, MTPC_TRACE_PLAIN, 1, "01020304");
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 16, NULL);
    ck_assert_ok(mtpc_text_trace(schema, &t, 0, &w));
    ck_assert_msg(contains(&w, "<not decodable: "), "%.*s", (int)w.len, (const char *)w.p);
    ck_assert_msg(w.len > 8 && memcmp(w.p + w.len - 8, "01020304", 8) == 0, "%.*s", (int)w.len, (const char *)w.p);
    mtp_wr_free(&w);
    /* An inner message too short for its header. */
    t = hex_trace(MTPC_IN, MTPC_TRACE_INNER, 0, "0102");
    mtp_wr_init_dyn(&w, 1 << 16, NULL);
    ck_assert_ok(mtpc_text_trace(schema, &t, 0, &w));
    ck_assert_msg(w.len > 16 && memcmp(w.p, "<- <bad message: ", 17) == 0, "%.*s", (int)w.len, (const char *)w.p);
    mtp_wr_free(&w);
    /* Long hex is cut after 32 bytes. */
    uint8_t big[40] = {0};
    t = (struct mtpc_trace){.dir = MTPC_IN, .kind = MTPC_TRACE_PLAIN, .data = big, .len = sizeof big};
    expect(NULL, &t, 0,
           "<- plain msg_id=0 0000000000000000000000000000000000000000000000000000000000000000... (40 bytes)");
}
END_TEST

START_TEST(transport_and_quick_ack)
{
    struct mtpc_trace t = {.dir = MTPC_IN, .kind = MTPC_TRACE_TRANSPORT, .code = -404};
    expect(schema, &t, 0, "<- transport error -404 (auth_key_not_found)");
    t.code = -429;
    expect(schema, &t, 0, "<- transport error -429 (flood)");
    t = (struct mtpc_trace){.dir = MTPC_IN, .kind = MTPC_TRACE_QUICK_ACK, .code = (int32_t)0x80001234u};
    expect(schema, &t, 0, "<- quick ack 0x80001234");
}
END_TEST

START_TEST(events)
{
    struct mtp_session_event ev = {.type = MTP_SESSION_EV_BAD_SALT, .msg_id = 5, .ref_msg_id = 4, .value = 0x99};
    struct mtpc_trace t = {.dir = MTPC_IN, .kind = MTPC_TRACE_EVENT, .ev = &ev};
    expect(schema, &t, 0, ".. event bad_server_salt msg_id=0x5 ref_msg_id=0x4 value=0x99");
    ev = (struct mtp_session_event){.type = MTP_SESSION_EV_RPC_ERROR,
                                    .ref_msg_id = 8,
                                    .orig_msg_id = 4,
                                    .code = 400,
                                    .body = (const uint8_t *)"FOO",
                                    .body_len = 3};
    expect(schema, &t, 0, ".. event rpc_error ref_msg_id=0x8 orig_msg_id=0x4 code=400 message=FOO");
    ev = (struct mtp_session_event){.type = MTP_SESSION_EV_DROPPED, .code = -514, .text = "why"};
    expect(schema, &t, 0, ".. event dropped code=-514 (why)");
    /* a server's bytes are escaped, not cut at a NUL or printed raw */
    ev = (struct mtp_session_event){.type = MTP_SESSION_EV_RPC_ERROR,
                                    .code = 400,
                                    .body = (const uint8_t *)"A\xff\x00" "B",
                                    .body_len = 4};
    expect(schema, &t, 0, ".. event rpc_error code=400 message=A\\xff\\x00B");
    t = (struct mtpc_trace){.dir = MTPC_IN, .kind = MTPC_TRACE_DROPPED, .code = MTP_ERR_MSG_KEY_MISMATCH,
                            .data = (const uint8_t *)"ping: bad", .len = 9};
    expect(schema, &t, 0, "<- dropped (msg_key_mismatch): ping: bad");
}
END_TEST

START_TEST(escape)
{
    char big[64], out[16];
    ck_assert_str_eq(mtpc_text_escape((const uint8_t *)"OK_1", 4, out, sizeof out), "OK_1");
    ck_assert_str_eq(mtpc_text_escape((const uint8_t *)"a\\b\x00\x7f\xc3", 6, big, sizeof big),
                     "a\\\\b\\x00\\x7f\\xc3");
    /* cut to fit, with "..." */
    ck_assert_str_eq(mtpc_text_escape((const uint8_t *)"0123456789abcdefgh", 18, out, sizeof out), "0123456789ab...");
    ck_assert_uint_lt(strlen(out), sizeof out);
    ck_assert_str_eq(mtpc_text_escape((const uint8_t *)"", 0, out, 4), "");
}
END_TEST

START_TEST(event_names)
{
    static const char *const names[] = {
        "message",      "rpc_result",     "rpc_error",           "acked",           "quick_ack",
        "pong",         "ping",           "bad_msg_notification", "bad_server_salt", "resent",
        "failed",       "new_session_created", "future_salts",   "msgs_state_info", "msgs_all_info",
        "msg_detailed_info", "destroy_session", "http_wait",     "dropped",         "disconnect"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        ck_assert_str_eq(mtpc_event_name((enum mtp_session_event_type)(MTP_SESSION_EV_MESSAGE + i)), names[i]);
    ck_assert_str_eq(mtpc_event_name((enum mtp_session_event_type)0), "unknown");
}
END_TEST

START_TEST(full_writer)
{
    struct mtpc_trace t = {.dir = MTPC_IN, .kind = MTPC_TRACE_TRANSPORT, .code = -404};
    uint8_t buf[8];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_rc(mtpc_text_trace(schema, &t, 0, &w), MTP_ERR_OVERFLOW);
}
END_TEST

static Suite *mtpc_text_suite(void)
{
    Suite *s = suite_create("mtpc_text");
    TCase *tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, plain_message);
    tcase_add_test(tc, inner_message);
    tcase_add_test(tc, long_bytes_are_shortened);
    tcase_add_test(tc, transport_and_quick_ack);
    tcase_add_test(tc, events);
    tcase_add_test(tc, escape);
    tcase_add_test(tc, event_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, what_does_not_decode);
    tcase_add_test(tc, full_writer);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtpc_text_suite)
