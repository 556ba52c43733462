#include <string.h>

#include "mtp/tl_prim.h"
#include "mtp_test.h"

static struct mtp_error err;

static void rd(struct mtp_rd *r, const uint8_t *p, size_t n)
{
    mtp_error_clear(&err);
    mtp_rd_init(r, p, n, &err);
}

START_TEST(ints_and_floats)
{
    size_t n;
    const uint8_t *in = mtp_test_hex("feffffff"
                                     "0100000000000080"
                                     "000000000000f03f",
                                     &n);
    struct mtp_rd r;
    rd(&r, in, n);
    int32_t i;
    int64_t l;
    double d;
    ck_assert_ok(mtp_tl_rd_int(&r, &i, "i"));
    ck_assert_int_eq(i, -2);
    ck_assert_ok(mtp_tl_rd_long(&r, &l, "l"));
    ck_assert(l == INT64_MIN + 1);
    ck_assert_ok(mtp_tl_rd_double(&r, &d, "d"));
    ck_assert(d == 1.0);
    ck_assert_ok(mtp_rd_end(&r, "end"));

    uint8_t out[20];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, sizeof out, NULL);
    ck_assert_ok(mtp_tl_wr_int(&w, -2));
    ck_assert_ok(mtp_tl_wr_long(&w, INT64_MIN + 1));
    ck_assert_ok(mtp_tl_wr_double(&w, 1.0));
    ck_assert_hex_eq(out, w.len, "feffffff0100000000000080000000000000f03f");
}
END_TEST

/* Encoded length of bytes/string across the 1-byte / 4-byte length boundary. */
static const struct {
    size_t len;
    size_t encoded;
    uint8_t head[4];
    size_t head_len;
} bytes_cases[] = {
    {0, 4, {0x00}, 1},       {1, 4, {0x01}, 1},       {3, 4, {0x03}, 1},
    {4, 8, {0x04}, 1},       {252, 256, {0xfc}, 1},   {253, 256, {0xfd}, 1},
    {254, 260, {0xfe, 0xfe, 0x00, 0x00}, 4},          {255, 260, {0xfe, 0xff, 0x00, 0x00}, 4},
    {256, 260, {0xfe, 0x00, 0x01, 0x00}, 4},          {257, 264, {0xfe, 0x01, 0x01, 0x00}, 4},
    {1000, 1004, {0xfe, 0xe8, 0x03, 0x00}, 4},        {65536, 65540, {0xfe, 0x00, 0x00, 0x01}, 4},
};

START_TEST(bytes_length_forms)
{
    size_t len = bytes_cases[_i].len;
    uint8_t *data = malloc(len + 1);
    for (size_t k = 0; k < len; k++)
        data[k] = (uint8_t)(k * 7 + 1);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 20, &err);
    ck_assert_ok(mtp_tl_wr_bytes(&w, data, len));
    ck_assert_uint_eq(w.len, bytes_cases[_i].encoded);
    ck_assert_uint_eq(mtp_tl_bytes_size(len), bytes_cases[_i].encoded);
    ck_assert_mem_eq(w.p, bytes_cases[_i].head, bytes_cases[_i].head_len);
    for (size_t k = bytes_cases[_i].head_len + len; k < w.len; k++)
        ck_assert_uint_eq(w.p[k], 0);

    struct mtp_rd r;
    rd(&r, w.p, w.len);
    const uint8_t *got;
    size_t got_len;
    ck_assert_ok(mtp_tl_rd_bytes(&r, &got, &got_len, true, "s"));
    ck_assert_uint_eq(got_len, len);
    ck_assert_mem_eq(got, data, len);
    ck_assert_ok(mtp_rd_end(&r, "end"));

    /* Every strict prefix is short and consumes nothing. */
    for (size_t cut = 0; cut < w.len; cut += (w.len > 600 ? 97 : 1)) {
        rd(&r, w.p, cut);
        ck_assert_int_lt(mtp_tl_rd_bytes(&r, &got, &got_len, true, "s"), 0);
        ck_assert_uint_eq(r.pos, 0);
    }
    mtp_wr_free(&w);
    free(data);
}
END_TEST

START_TEST(bytes_malformed)
{
    struct mtp_rd r;
    const uint8_t *p;
    size_t n;
    /* 0xff is not a length prefix. */
    static const uint8_t ff[] = {0xff, 0, 0, 0};
    rd(&r, ff, sizeof ff);
    ck_assert_rc(mtp_tl_rd_bytes(&r, &p, &n, false, "pq"), MTP_ERR_TL_BAD_LENGTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "pq"));
    /* Length claims more than is there. */
    static const uint8_t longer[] = {0x08, 1, 2, 3, 4, 5, 6, 7};
    rd(&r, longer, sizeof longer);
    ck_assert_rc(mtp_tl_rd_bytes(&r, &p, &n, false, "pq"), MTP_ERR_TL_SHORT);
    ck_assert_uint_eq(err.offset, 0);
    /* Padding missing at the end of input. */
    static const uint8_t nopad[] = {0x02, 0xaa, 0xbb};
    rd(&r, nopad, sizeof nopad);
    ck_assert_rc(mtp_tl_rd_bytes(&r, &p, &n, false, "x"), MTP_ERR_TL_SHORT);
    /* Huge 3-byte length. */
    static const uint8_t huge[] = {0xfe, 0xff, 0xff, 0xff, 0};
    rd(&r, huge, sizeof huge);
    ck_assert_rc(mtp_tl_rd_bytes(&r, &p, &n, false, "x"), MTP_ERR_TL_SHORT);
    /* Non-zero padding: tolerated unless strict. */
    static const uint8_t dirty[] = {0x01, 0xaa, 0x00, 0x05};
    rd(&r, dirty, sizeof dirty);
    ck_assert_ok(mtp_tl_rd_bytes(&r, &p, &n, false, "x"));
    ck_assert_uint_eq(n, 1);
    rd(&r, dirty, sizeof dirty);
    ck_assert_rc(mtp_tl_rd_bytes(&r, &p, &n, true, "x"), MTP_ERR_TL_BAD_PADDING);
    ck_assert_uint_eq(err.offset, 3);
}
END_TEST

START_TEST(bytes_too_long_to_write)
{
    struct mtp_wr w;
    mtp_error_clear(&err);
    uint8_t b[4];
    mtp_wr_init_fixed(&w, b, sizeof b, &err);
    ck_assert_rc(mtp_tl_wr_bytes(&w, b, (size_t)MTP_TL_BYTES_MAX + 1), MTP_ERR_TL_TOO_LONG);
}
END_TEST

START_TEST(bool_and_ctor)
{
    size_t n;
    const uint8_t *in = mtp_test_hex("b5757299" "379779bc" "01020304", &n);
    struct mtp_rd r;
    rd(&r, in, n);
    bool v;
    ck_assert_ok(mtp_tl_rd_bool(&r, &v, "a"));
    ck_assert(v);
    ck_assert_ok(mtp_tl_rd_bool(&r, &v, "b"));
    ck_assert(!v);
    ck_assert_rc(mtp_tl_rd_bool(&r, &v, "c"), MTP_ERR_TL_BAD_BOOL);
    ck_assert_str_eq(err.msg, "c: expected boolTrue or boolFalse, found #04030201 at offset 8");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_rd_expect(&r, 0x05162463, "resPQ"), MTP_ERR_TL_BAD_CTOR);
    ck_assert_uint_eq(mtp_rd_left(&r), 4);
    ck_assert_ok(mtp_tl_rd_expect(&r, 0x04030201, "x"));
}
END_TEST

START_TEST(vectors)
{
    size_t n;
    const uint8_t *in = mtp_test_hex("15c4b51c02000000" "0100000002000000", &n);
    struct mtp_rd r;
    rd(&r, in, n);
    uint32_t count;
    ck_assert_ok(mtp_tl_rd_vector_boxed(&r, 4, &count, "v"));
    ck_assert_uint_eq(count, 2);
    /* A count that the remaining bytes cannot hold. */
    const uint8_t *big = mtp_test_hex("15c4b51c03000000" "0100000002000000", &n);
    rd(&r, big, n);
    ck_assert_rc(mtp_tl_rd_vector_boxed(&r, 4, &count, "v"), MTP_ERR_TL_BAD_COUNT);
    ck_assert_uint_eq(r.pos, 0);
    const uint8_t *neg = mtp_test_hex("ffffffff", &n);
    rd(&r, neg, n);
    ck_assert_rc(mtp_tl_rd_vector_bare(&r, 0, &count, "v"), MTP_ERR_TL_BAD_COUNT);
    const uint8_t *wrong = mtp_test_hex("15c4b51d00000000", &n);
    rd(&r, wrong, n);
    ck_assert_rc(mtp_tl_rd_vector_boxed(&r, 4, &count, "v"), MTP_ERR_TL_BAD_CTOR);

    uint8_t out[8];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, sizeof out, NULL);
    ck_assert_ok(mtp_tl_wr_vector_boxed(&w, 3));
    ck_assert_hex_eq(out, w.len, "15c4b51c03000000");
}
END_TEST

START_TEST(int128_int256)
{
    uint8_t v[32];
    for (int i = 0; i < 32; i++)
        v[i] = (uint8_t)i;
    uint8_t out[48];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, sizeof out, NULL);
    ck_assert_ok(mtp_tl_wr_int128(&w, v));
    ck_assert_ok(mtp_tl_wr_int256(&w, v));
    struct mtp_rd r;
    rd(&r, out, w.len);
    uint8_t a[16], b[32];
    ck_assert_ok(mtp_tl_rd_int128(&r, a, "a"));
    ck_assert_ok(mtp_tl_rd_int256(&r, b, "b"));
    ck_assert_mem_eq(a, v, 16);
    ck_assert_mem_eq(b, v, 32);
    rd(&r, out, 31);
    ck_assert_rc(mtp_tl_rd_int256(&r, b, "new_nonce"), MTP_ERR_SHORT);
}
END_TEST

static Suite *tl_prim_suite(void)
{
    Suite *s = suite_create("tl_prim");
    TCase *tc = tcase_create("primitives");
    tcase_add_test(tc, ints_and_floats);
    tcase_add_loop_test(tc, bytes_length_forms, 0, sizeof bytes_cases / sizeof bytes_cases[0]);
    tcase_add_test(tc, bytes_malformed);
    tcase_add_test(tc, bytes_too_long_to_write);
    tcase_add_test(tc, bool_and_ctor);
    tcase_add_test(tc, vectors);
    tcase_add_test(tc, int128_int256);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tl_prim_suite)
