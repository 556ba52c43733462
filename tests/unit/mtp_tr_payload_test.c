#include <string.h>

#include "mtp/transport.h"
#include "mtp_test.h"

START_TEST(kind_names_and_tags)
{
    static const struct {
        enum mtp_tr_kind kind;
        const char *name;
        uint32_t tag;
    } k[] = {
        {MTP_TR_ABRIDGED, "abridged", 0xefefefefu},
        {MTP_TR_INTERMEDIATE, "intermediate", 0xeeeeeeeeu},
        {MTP_TR_PADDED, "padded", 0xddddddddu},
        {MTP_TR_FULL, "full", 0},
    };
    for (size_t i = 0; i < 4; i++) {
        enum mtp_tr_kind got;
        ck_assert_str_eq(mtp_tr_kind_name(k[i].kind), k[i].name);
        ck_assert_ok(mtp_tr_kind_from_name(k[i].name, &got));
        ck_assert_int_eq(got, k[i].kind);
        ck_assert_uint_eq(mtp_tr_obfs_tag(k[i].kind), k[i].tag);
        if (k[i].tag) {
            ck_assert_ok(mtp_tr_kind_from_obfs_tag(k[i].tag, &got));
            ck_assert_int_eq(got, k[i].kind);
        }
    }
    enum mtp_tr_kind got;
    ck_assert_rc(mtp_tr_kind_from_name("http", &got), MTP_ERR_ARG);
    ck_assert_rc(mtp_tr_kind_from_obfs_tag(0, &got), MTP_ERR_OBFS_BAD_TAG);
    ck_assert_rc(mtp_tr_kind_from_obfs_tag(0xefefefeeu, &got), MTP_ERR_OBFS_BAD_TAG);
    ck_assert_str_eq(mtp_tr_kind_name((enum mtp_tr_kind)99), "unknown");
}
END_TEST

START_TEST(transport_error_frames)
{
    static const struct {
        int32_t code;
        const char *hex, *name;
    } e[] = {
        {-404, "6cfeffff", "auth_key_not_found"},
        {-429, "53feffff", "flood"},
        {-444, "44feffff", "invalid_dc"},
        {-403, "6dfeffff", "forbidden"},
        {-7, "f9ffffff", "unknown"},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        uint8_t b[4];
        mtp_tr_error_payload(e[i].code, b);
        ck_assert_hex_eq(b, 4, e[i].hex);
        int32_t code = 0;
        ck_assert(mtp_tr_error_frame(b, 4, &code));
        ck_assert_int_eq(code, e[i].code);
        ck_assert_str_eq(mtp_tr_error_name(code), e[i].name);
    }
    int32_t code = 7;
    ck_assert(!mtp_tr_error_frame((const uint8_t *)"\x94\x01\x00\x00", 4, &code)); /* +404: not an error */
    ck_assert(!mtp_tr_error_frame((const uint8_t *)"\x6c\xfe\xff\xff\x00", 5, &code));
    ck_assert(!mtp_tr_error_frame((const uint8_t *)"\x6c\xfe\xff", 3, &code));
    ck_assert(!mtp_tr_error_frame((const uint8_t *)"\xff\xff\xff\xff", 4, &code));
    ck_assert_int_eq(code, 7);
}
END_TEST

START_TEST(quick_ack_tokens)
{
    /* expected values: SHA256(auth_key[88+x:120+x] + plaintext)[:4] as LE | 1<<31, from Python's hashlib */
    uint8_t auth_key[256], pt[48];
    for (size_t i = 0; i < sizeof auth_key; i++)
        auth_key[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof pt; i++)
        pt[i] = (uint8_t)(i * 3);
    uint32_t tok;
    ck_assert_ok(mtp_tr_quick_ack_compute(auth_key, MTP_TR_CLIENT, pt, sizeof pt, &tok));
    ck_assert_uint_eq(tok, 0x9883fb8eu);
    ck_assert_ok(mtp_tr_quick_ack_compute(auth_key, MTP_TR_SERVER, pt, sizeof pt, &tok));
    ck_assert_uint_eq(tok, 0x81fa4c8du);
    uint8_t large[32] = {0x01, 0x02, 0x03, 0x04};
    ck_assert_uint_eq(mtp_tr_quick_ack_token(large), 0x84030201u);
}
END_TEST

static int strip(const char *hex, size_t *payload_len, struct mtp_error *err)
{
    size_t len;
    uint8_t *p = mtp_test_hex(hex, &len);
    mtp_error_clear(err);
    return mtp_tr_padded_payload_len(p, len, payload_len, err);
}

START_TEST(padded_payload_length)
{
    struct mtp_error err;
    size_t n;
    /* transport error + 0..15 padding */
    ck_assert_ok(strip("6cfeffff", &n, &err));
    ck_assert_uint_eq(n, 4);
    ck_assert_ok(strip("6cfeffff" "0102030405060708090a0b0c0d0e0f", &n, &err));
    ck_assert_uint_eq(n, 4);
    /* FFFFFFFF starts padded quick acks, never an error */
    ck_assert_rc(strip("ffffffff0102", &n, &err), MTP_ERR_TR_BAD_LENGTH);
    /* a positive first int in a short frame is nothing */
    ck_assert_rc(strip("01000000aabbcc", &n, &err), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_rc(strip("aabbcc", &n, &err), MTP_ERR_TR_BAD_LENGTH);
    /* unencrypted: auth_key_id 0, msg_id, message_data_length 4, data, 3 bytes of padding */
    ck_assert_ok(strip("0000000000000000" "0102030405060708" "04000000" "f18e7ebe" "aabbcc", &n, &err));
    ck_assert_uint_eq(n, 24);
    ck_assert_rc(strip("0000000000000000" "0102030405060708" "08000000" "f18e7ebe", &n, &err), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_uint_eq(err.offset, 16);
    /* 16 bytes left over are not padding */
    ck_assert_rc(strip("0000000000000000" "0102030405060708" "04000000" "f18e7ebe"
                       "00000000000000000000000000000000",
                       &n, &err),
                 MTP_ERR_TR_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "padded.message_data_length: 4 leaves 16 bytes of padding in a 40-byte frame (0..15 allowed)");
    /* encrypted: auth_key_id, msg_key, 2 blocks, 15 bytes of padding */
    ck_assert_ok(strip("1111111111111111" "22222222222222222222222222222222"
                       "3333333333333333333333333333333333333333333333333333333333333333"
                       "444444444444444444444444444444",
                       &n, &err));
    ck_assert_uint_eq(n, 56);
    ck_assert_rc(strip("1111111111111111" "22222222222222222222222222222222" "3333", &n, &err),
                 MTP_ERR_TR_BAD_LENGTH);
}
END_TEST

static Suite *tr_payload_suite(void)
{
    Suite *s = suite_create("tr_payload");
    TCase *tc = tcase_create("helpers");
    tcase_add_test(tc, kind_names_and_tags);
    tcase_add_test(tc, transport_error_frames);
    tcase_add_test(tc, quick_ack_tokens);
    tcase_add_test(tc, padded_payload_length);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tr_payload_suite)
