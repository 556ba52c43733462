#include <stdlib.h>
#include <string.h>

#include "mtp/gzip.h"
#include "mtp/service.h"
#include "mtp/tl_prim.h"
#include "mtp_test.h"

/* gzip.compress(bytes(range(16)) * 2, mtime=0) from Python's gzip module: an
 * independent producer of the stream format. */
#define PY_GZIP "1f8b08000000000002036360646266616563e7e0e4e2e6e1e5e36740e3030065614fab20000000"

static uint8_t expected32[32];

static void fill_expected(void)
{
    for (int i = 0; i < 32; i++)
        expected32[i] = (uint8_t)(i % 16);
}

START_TEST(inflates_python_gzip)
{
    fill_expected();
    size_t n;
    uint8_t *z = mtp_test_hex(PY_GZIP, &n);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr out;
    mtp_wr_init_dyn(&out, 1024, &err);
    ck_assert_ok(mtp_gzip_inflate(z, n, &out, 1024, &err));
    ck_assert_uint_eq(out.len, 32);
    ck_assert_mem_eq(out.p, expected32, 32);
    mtp_wr_free(&out);
}
END_TEST

START_TEST(deflate_roundtrip_and_header)
{
    uint8_t in[5000];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 31 / 7);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr z, back;
    mtp_wr_init_dyn(&z, 1 << 20, &err);
    mtp_wr_init_dyn(&back, 1 << 20, &err);
    ck_assert_ok(mtp_gzip_deflate(in, sizeof in, &z, &err));
    /* gzip magic, deflate, no flags, mtime 0 (deterministic). */
    ck_assert_hex_eq(z.p, 8, "1f8b080000000000");
    ck_assert_ok(mtp_gzip_inflate(z.p, z.len, &back, 1 << 20, &err));
    ck_assert_uint_eq(back.len, sizeof in);
    ck_assert_mem_eq(back.p, in, sizeof in);
    /* Empty input is a valid stream too. */
    mtp_wr_reset(&z);
    mtp_wr_reset(&back);
    ck_assert_ok(mtp_gzip_deflate(in, 0, &z, &err));
    ck_assert_ok(mtp_gzip_inflate(z.p, z.len, &back, 16, &err));
    ck_assert_uint_eq(back.len, 0);
    mtp_wr_free(&z);
    mtp_wr_free(&back);
}
END_TEST

START_TEST(bomb_hits_the_limit)
{
    /* 4 MiB of zeros compress to a few KiB; inflation must stop at the limit. */
    size_t big = 4u << 20;
    uint8_t *zeros = calloc(1, big);
    ck_assert_ptr_nonnull(zeros);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr z, out;
    mtp_wr_init_dyn(&z, 1 << 20, &err);
    ck_assert_ok(mtp_gzip_deflate(zeros, big, &z, &err));
    free(zeros);
    ck_assert_uint_lt(z.len, 8192);
    mtp_wr_init_dyn(&out, 1 << 20, &err);
    ck_assert_rc(mtp_gzip_inflate(z.p, z.len, &out, 65536, &err), MTP_ERR_TL_GZIP_LIMIT);
    ck_assert_uint_le(out.len, 65536);
    ck_assert_ptr_nonnull(strstr(err.msg, "65536-byte limit"));
    /* Exactly at the limit is fine. */
    mtp_error_clear(&err);
    mtp_wr_free(&out);
    mtp_wr_init_dyn(&out, big, &err);
    ck_assert_ok(mtp_gzip_inflate(z.p, z.len, &out, big, &err));
    ck_assert_uint_eq(out.len, big);
    mtp_wr_free(&z);
    mtp_wr_free(&out);
}
END_TEST

START_TEST(corrupt_truncated_trailing_and_zlib_rejected)
{
    size_t n;
    uint8_t *z = mtp_test_hex(PY_GZIP, &n);
    struct mtp_error err;
    struct mtp_wr out;
    mtp_wr_init_dyn(&out, 1024, NULL);

    mtp_error_clear(&err);
    ck_assert_rc(mtp_gzip_inflate(z, n - 5, &out, 1024, &err), MTP_ERR_TL_GZIP);
    ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));

    uint8_t *t = malloc(n + 3);
    memcpy(t, z, n);
    memset(t + n, 0x55, 3);
    mtp_error_clear(&err);
    mtp_wr_reset(&out);
    ck_assert_rc(mtp_gzip_inflate(t, n + 3, &out, 1024, &err), MTP_ERR_TL_GZIP);
    ck_assert_ptr_nonnull(strstr(err.msg, "3 bytes after the end"));
    free(t);

    uint8_t *c = malloc(n);
    memcpy(c, z, n);
    c[n - 6] ^= 0xff; /* CRC32 */
    mtp_error_clear(&err);
    mtp_wr_reset(&out);
    ck_assert_rc(mtp_gzip_inflate(c, n, &out, 1024, &err), MTP_ERR_TL_GZIP);
    free(c);

    size_t zn;
    uint8_t *zl = mtp_test_hex("789c4b4c4a4e010003d8018b", &zn); /* zlib.compress(b'abcd') */
    mtp_error_clear(&err);
    mtp_wr_reset(&out);
    ck_assert_rc(mtp_gzip_inflate(zl, zn, &out, 1024, &err), MTP_ERR_TL_GZIP);
    mtp_wr_free(&out);
}
END_TEST

START_TEST(gzip_packed_object)
{
    fill_expected();
    uint8_t buf[256];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_gzip_packed_write(&w, expected32, 32));
    ck_assert_hex_eq(w.p, 4, "a1cf7230");
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd r;
    mtp_rd_init(&r, w.p, w.len, &err);
    struct mtp_wr out;
    mtp_wr_init_dyn(&out, 1024, &err);
    ck_assert_ok(mtp_gzip_packed_read(&r, &out, 1024));
    ck_assert_uint_eq(mtp_rd_left(&r), 0);
    ck_assert_mem_eq(out.p, expected32, 32);

    /* A packed object that is not a whole number of words. */
    uint8_t odd[3] = {1, 2, 3};
    struct mtp_wr z;
    mtp_wr_init_dyn(&z, 1024, NULL);
    ck_assert_ok(mtp_gzip_deflate(odd, 3, &z, NULL));
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_tl_wr_uint(&w, MTP_SVC_gzip_packed));
    ck_assert_ok(mtp_tl_wr_bytes(&w, z.p, z.len));
    mtp_wr_free(&z);
    mtp_error_clear(&err);
    mtp_rd_init(&r, w.p, w.len, &err);
    mtp_wr_reset(&out);
    ck_assert_rc(mtp_gzip_packed_read(&r, &out, 1024), MTP_ERR_TL_GZIP);
    ck_assert_uint_eq(err.offset, 4);
    ck_assert_uint_eq(r.pos, 0);

    /* The limit error names where packed_data starts. */
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_gzip_packed_write(&w, expected32, 32));
    mtp_error_clear(&err);
    mtp_rd_init(&r, w.p, w.len, &err);
    mtp_wr_reset(&out);
    ck_assert_rc(mtp_gzip_packed_read(&r, &out, 16), MTP_ERR_TL_GZIP_LIMIT);
    ck_assert_uint_eq(err.offset, 4);
    ck_assert_ptr_nonnull(strstr(err.msg, "gzip_packed.packed_data at offset 4: "));
    mtp_wr_free(&out);
}
END_TEST

static Suite *gzip_suite(void)
{
    Suite *s = suite_create("mtp_gzip");
    TCase *tc = tcase_create("gzip");
    tcase_add_test(tc, inflates_python_gzip);
    tcase_add_test(tc, deflate_roundtrip_and_header);
    tcase_add_test(tc, bomb_hits_the_limit);
    tcase_add_test(tc, corrupt_truncated_trailing_and_zlib_rejected);
    tcase_add_test(tc, gzip_packed_object);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(gzip_suite)
