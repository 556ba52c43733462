#include <string.h>

#include "mtp/buf.h"
#include "mtp_test.h"

START_TEST(read_little_and_big_endian)
{
    static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
                                 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd r;
    mtp_rd_init(&r, in, sizeof in, &err);
    uint8_t u8;
    uint16_t u16;
    uint32_t u24, u32, be;
    uint64_t u64;
    ck_assert_ok(mtp_rd_u8(&r, &u8, "a"));
    ck_assert_uint_eq(u8, 0x01);
    ck_assert_ok(mtp_rd_u16(&r, &u16, "b"));
    ck_assert_uint_eq(u16, 0x0302);
    ck_assert_ok(mtp_rd_u24(&r, &u24, "c"));
    ck_assert_uint_eq(u24, 0x060504);
    ck_assert_ok(mtp_rd_u32(&r, &u32, "d"));
    ck_assert_uint_eq(u32, 0x0a090807);
    ck_assert_ok(mtp_rd_u64(&r, &u64, "e"));
    ck_assert_uint_eq(u64, 0x1211100f0e0d0c0bull);
    ck_assert_ok(mtp_rd_u32_be(&r, &be, "f"));
    ck_assert_uint_eq(be, 0x13141516u);
    uint16_t be16;
    ck_assert_ok(mtp_rd_u16_be(&r, &be16, "g"));
    ck_assert_uint_eq(be16, 0x1718u);
    ck_assert_rc(mtp_rd_u16_be(&r, &be16, "h"), MTP_ERR_SHORT);
    ck_assert_uint_eq(be16, 0x1718u);
    ck_assert_uint_eq(mtp_rd_left(&r), 0);
    ck_assert_ok(mtp_rd_end(&r, "all"));
}
END_TEST

START_TEST(short_read_consumes_nothing_and_names_field)
{
    static const uint8_t in[] = {1, 2, 3};
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd r;
    mtp_rd_init(&r, in, sizeof in, &err);
    uint8_t b;
    ck_assert_ok(mtp_rd_u8(&r, &b, "first"));
    uint32_t v = 0xdeadbeef;
    ck_assert_rc(mtp_rd_u32(&r, &v, "resPQ.nonce"), MTP_ERR_SHORT);
    ck_assert_uint_eq(v, 0xdeadbeef);
    ck_assert_uint_eq(mtp_rd_left(&r), 2);
    ck_assert_int_eq(err.code, MTP_ERR_SHORT);
    ck_assert_uint_eq(err.offset, 1);
    ck_assert_str_eq(err.msg, "resPQ.nonce: need 4 bytes at offset 1, only 2 left");
}
END_TEST

START_TEST(sub_reader_keeps_absolute_offsets)
{
    static const uint8_t in[] = {0, 0, 0, 0, 9, 9, 9, 0xaa};
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd r, sub;
    mtp_rd_init(&r, in, sizeof in, &err);
    ck_assert_ok(mtp_rd_skip(&r, 4, "hdr"));
    ck_assert_ok(mtp_rd_sub(&r, 3, &sub, "body"));
    ck_assert_uint_eq(mtp_rd_left(&r), 1);
    uint32_t v;
    ck_assert_rc(mtp_rd_u32(&sub, &v, "body.x"), MTP_ERR_SHORT);
    ck_assert_uint_eq(err.offset, 4);
    ck_assert_rc(mtp_rd_sub(&r, 2, &sub, "next"), MTP_ERR_SHORT);
}
END_TEST

START_TEST(trailing_bytes_reported)
{
    static const uint8_t in[] = {1, 2, 3, 4, 5};
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd r;
    mtp_rd_init(&r, in, sizeof in, &err);
    uint32_t v;
    ck_assert_ok(mtp_rd_u32(&r, &v, "x"));
    ck_assert_rc(mtp_rd_end(&r, "msg"), MTP_ERR_TRAILING);
    ck_assert_uint_eq(err.offset, 4);
    ck_assert_str_eq(err.msg, "msg: 1 unexpected bytes after the end at offset 4");
}
END_TEST

START_TEST(first_error_wins)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd r;
    mtp_rd_init(&r, NULL, 0, &err);
    uint8_t b;
    ck_assert_rc(mtp_rd_u8(&r, &b, "one"), MTP_ERR_SHORT);
    ck_assert_rc(mtp_rd_u8(&r, &b, "two"), MTP_ERR_SHORT);
    ck_assert_ptr_nonnull(strstr(err.msg, "one"));
}
END_TEST

START_TEST(fixed_writer_overflow_sticks)
{
    uint8_t buf[6];
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, &err);
    ck_assert_ok(mtp_wr_u32(&w, 0x04030201));
    ck_assert_rc(mtp_wr_u32(&w, 0), MTP_ERR_OVERFLOW);
    ck_assert_rc(mtp_wr_u8(&w, 0), MTP_ERR_OVERFLOW);
    ck_assert_rc(mtp_wr_status(&w), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(w.len, 4);
    ck_assert_hex_eq(buf, 4, "01020304");
}
END_TEST

START_TEST(dynamic_writer_grows_to_limit)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1000, &err);
    for (int i = 0; i < 250; i++)
        ck_assert_ok(mtp_wr_u32(&w, (uint32_t)i));
    ck_assert_uint_eq(w.len, 1000);
    ck_assert_rc(mtp_wr_u8(&w, 1), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(mtp_load_u32(w.p + 996), 249);
    mtp_wr_free(&w);
    ck_assert_ptr_null(w.p);
}
END_TEST

START_TEST(writer_encodings_and_patch)
{
    uint8_t buf[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_wr_u16(&w, 0x0201));
    ck_assert_ok(mtp_wr_u24(&w, 0x050403));
    ck_assert_ok(mtp_wr_u32_be(&w, 0x06070809));
    ck_assert_ok(mtp_wr_i64(&w, -2));
    ck_assert_ok(mtp_wr_zero(&w, 2));
    ck_assert_ok(mtp_wr_u16_be(&w, 0x0a0b));
    ck_assert_ok(mtp_wr_patch_u32(&w, 0, 0xaabbccdd));
    ck_assert_rc(mtp_wr_patch_u32(&w, w.len - 3, 0), MTP_ERR_INTERNAL);
    ck_assert_hex_eq(buf, w.len, "ddccbbaa0506070809feffffffffffffff00000a0b");
}
END_TEST

START_TEST(take_hands_over_buffer)
{
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 64, NULL);
    ck_assert_ok(mtp_wr_raw(&w, "abc", 3));
    size_t n;
    uint8_t *p = mtp_wr_take(&w, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(p, "abc", 3);
    ck_assert_ptr_null(w.p);
    free(p);
}
END_TEST

START_TEST(constant_time_compare)
{
    ck_assert_int_eq(mtp_ct_memcmp("abcd", "abcd", 4), 0);
    ck_assert_int_ne(mtp_ct_memcmp("abcd", "abce", 4), 0);
    uint8_t secret[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    mtp_wipe(secret, sizeof secret);
    for (size_t i = 0; i < sizeof secret; i++)
        ck_assert_uint_eq(secret[i], 0);
}
END_TEST

static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *rd = tcase_create("reader");
    tcase_add_test(rd, read_little_and_big_endian);
    tcase_add_test(rd, short_read_consumes_nothing_and_names_field);
    tcase_add_test(rd, sub_reader_keeps_absolute_offsets);
    tcase_add_test(rd, trailing_bytes_reported);
    tcase_add_test(rd, first_error_wins);
    suite_add_tcase(s, rd);
    TCase *wr = tcase_create("writer");
    tcase_add_test(wr, fixed_writer_overflow_sticks);
    tcase_add_test(wr, dynamic_writer_grows_to_limit);
    tcase_add_test(wr, writer_encodings_and_patch);
    tcase_add_test(wr, take_hands_over_buffer);
    tcase_add_test(wr, constant_time_compare);
    suite_add_tcase(s, wr);
    return s;
}

MTP_TEST_MAIN(buf_suite)
