#include "mtp/message.h"
#include "mtp_test.h"

START_TEST(build_exact_bytes)
{
    static const uint8_t pad[12] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab};
    struct mtp_script_state st;
    struct mtp_env env = mtp_env_scripted(&st, pad, sizeof pad, 0);
    uint8_t buf[128];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    struct mtp_msg_header h = {0x1122334455667788ull, 0x0102030405060708ull, 0x6553f10000000004ull, 1, 0};
    static const uint8_t body[4] = {0xec, 0x77, 0xbe, 0x7a};
    /* 32 + 4 + 12 = 48: a multiple of 16 with the minimum padding. */
    ck_assert_uint_eq(mtp_msg_padding_len(4, 0), 12);
    ck_assert_ok(mtp_msg_build(&w, &h, body, 4, 12, &env));
    ck_assert_hex_eq(w.p, w.len,
                     "8877665544332211" "0807060504030201" "0400000000f15365" "01000000" "04000000" "ec77be7a"
                     "a0a1a2a3a4a5a6a7a8a9aaab");
    /* Asking for more padding than the script holds fails cleanly. */
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_rc(mtp_msg_build(&w, &h, body, 4, 28, &env), MTP_ERR_LIMIT);
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_rc(mtp_msg_build(&w, &h, body, 3, 12, &env), MTP_ERR_ARG);
}
END_TEST

START_TEST(padding_lengths)
{
    for (size_t len = 0; len < 200; len += 4) {
        for (unsigned extra = 0; extra < 3; extra++) {
            size_t p = mtp_msg_padding_len(len, extra);
            ck_assert_uint_ge(p, 12 + 16 * extra);
            ck_assert_uint_le(p, 27 + 16 * extra);
            ck_assert_uint_eq((32 + len + p) % 16, 0);
        }
    }
    ck_assert_uint_le(mtp_msg_padding_len(4, 1000), 1024);
    ck_assert_uint_eq((32 + 4 + mtp_msg_padding_len(4, 1000)) % 16, 0);
}
END_TEST

static int parse_hex(const char *hex, struct mtp_msg_header *h, struct mtp_rd *body, struct mtp_error *err)
{
    size_t n;
    uint8_t *p = mtp_test_hex(hex, &n);
    mtp_error_clear(err);
    struct mtp_rd r;
    mtp_rd_init(&r, p, n, err);
    return mtp_msg_parse(&r, h, body);
}

#define HDR "8877665544332211" "0807060504030201" "0400000000f15365" "01000000"

START_TEST(parse_good_and_bad)
{
    struct mtp_msg_header h;
    struct mtp_rd body;
    struct mtp_error err;
    ck_assert_ok(parse_hex(HDR "04000000" "ec77be7a" "000000000000000000000000", &h, &body, &err));
    ck_assert_uint_eq(h.salt, 0x1122334455667788ull);
    ck_assert_uint_eq(h.session_id, 0x0102030405060708ull);
    ck_assert_uint_eq(h.msg_id, 0x6553f10000000004ull);
    ck_assert_int_eq(h.seqno, 1);
    ck_assert_uint_eq(h.length, 4);
    ck_assert_uint_eq(mtp_rd_left(&body), 4);
    ck_assert_uint_eq(body.base, 32);

    ck_assert_rc(parse_hex("8877665544332211", &h, &body, &err), MTP_ERR_SES_SHORT);
    ck_assert_rc(parse_hex(HDR "fcffffff" "ec77be7a", &h, &body, &err), MTP_ERR_SES_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "message.message_data_length: -4 at offset 28 is negative (4 bytes follow)");
    ck_assert_rc(parse_hex(HDR "02000000" "ec77be7a", &h, &body, &err), MTP_ERR_SES_BAD_LENGTH);
    ck_assert_uint_eq(err.offset, 28);
    ck_assert_rc(parse_hex(HDR "08000000" "ec77be7a", &h, &body, &err), MTP_ERR_SES_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "message.message_data_length: 8 at offset 28 is beyond the plaintext (4 bytes follow)");
    /* Zero-length data is structurally fine (the session decides what to do with it). */
    ck_assert_ok(parse_hex(HDR "00000000", &h, &body, &err));
    ck_assert_uint_eq(mtp_rd_left(&body), 0);
}
END_TEST

static Suite *message_suite(void)
{
    Suite *s = suite_create("mtp_message");
    TCase *tc = tcase_create("message");
    tcase_add_test(tc, build_exact_bytes);
    tcase_add_test(tc, padding_lengths);
    tcase_add_test(tc, parse_good_and_bad);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(message_suite)
