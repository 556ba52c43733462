#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtp/hex.h"
#include "mtp/msgcrypt.h"
#include "mtp_test.h"
#include "keylog/keylog.h"

static char path[64];

static void tmp_path(void)
{
    snprintf(path, sizeof path, "/tmp/mtp_keylog_%d.txt", (int)getpid());
    unlink(path);
}

static char *slurp(void)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void key_of(uint8_t key[256], uint8_t id[8], uint8_t seed)
{
    for (int i = 0; i < 256; i++)
        key[i] = (uint8_t)(seed + i);
    mtp_auth_key_id(key, id);
}

START_TEST(lines_are_exact_and_the_file_private)
{
    tmp_path();
    struct mtp_keylog kl;
    ck_assert_ok(mtp_keylog_open(&kl, path, NULL));
    uint8_t key[256], id[8];
    key_of(key, id, 0);
    mtp_keylog_auth_key(&kl, id, key, false, 0);
    mtp_keylog_auth_key(&kl, id, key, true, 1700003600);
    uint8_t init[64];
    for (int i = 0; i < 64; i++)
        init[i] = (uint8_t)i;
    struct mtp_obfs_keys k;
    memset(k.enc_key, 0xe1, 32);
    memset(k.enc_iv, 0xe2, 16);
    memset(k.dec_key, 0xd1, 32);
    memset(k.dec_iv, 0xd2, 16);
    mtp_keylog_obfs2(&kl, init, &k);
    static const uint8_t temp_id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    mtp_keylog_bind(&kl, temp_id, id, 1700003599);
    uint8_t nonce[16], server_nonce[16], new_nonce[32];
    memset(nonce, 0x11, 16);
    memset(server_nonce, 0x22, 16);
    memset(new_nonce, 0x33, 32);
    mtp_keylog_new_nonce(&kl, nonce, server_nonce, new_nonce);
    mtp_keylog_close(&kl);
    char idh[17], keyh[513], inith[129];
    mtp_hex_encode(id, 8, idh);
    mtp_hex_encode(key, 256, keyh);
    mtp_hex_encode(init, 64, inith);
    char want[4096];
    snprintf(want, sizeof want,
             "# mtprobe key log (docs/keylog.md): hex in wire order\n"
             "AUTH_KEY %s %s\n"
             "TEMP_AUTH_KEY %s %s 1700003600\n"
             "OBFS2 %s %s %s %s %s\n"
             "BIND 0102030405060708 %s 1700003599\n"
             "NEW_NONCE 11111111111111111111111111111111 22222222222222222222222222222222 "
             "3333333333333333333333333333333333333333333333333333333333333333\n",
             idh, keyh, idh, keyh, inith,
             "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1", "d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2",
             "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1", "e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2", idh);
    ck_assert_str_eq(slurp(), want);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    /* appending to an existing file adds no second header */
    ck_assert_ok(mtp_keylog_open(&kl, path, NULL));
    mtp_keylog_auth_key(&kl, id, key, false, 0);
    mtp_keylog_close(&kl);
    ck_assert_uint_eq(strlen(slurp()), strlen(want) + 9 + 16 + 1 + 512 + 1);
    unlink(path);
    /* no path: a closed log that ignores writes */
    ck_assert_ok(mtp_keylog_open(&kl, NULL, NULL));
    mtp_keylog_auth_key(&kl, id, key, false, 0);
    mtp_keylog_close(&kl);
}
END_TEST

struct seen {
    int n, binds;
    uint8_t id[8];
    bool temp;
    int32_t expires;
    uint8_t bind_temp[8], bind_perm[8];
    int32_t bind_expires;
};

static int collect_bind(void *ctx, const uint8_t temp_id[8], const uint8_t perm_id[8], int32_t expires_at,
                        struct mtp_error *err)
{
    (void)err;
    struct seen *s = ctx;
    s->binds++;
    memcpy(s->bind_temp, temp_id, 8);
    memcpy(s->bind_perm, perm_id, 8);
    s->bind_expires = expires_at;
    return MTP_OK;
}

static int collect(void *ctx, const uint8_t id[8], const uint8_t key[256], bool temp, int32_t expires_at,
                   struct mtp_error *err)
{
    (void)key;
    (void)err;
    struct seen *s = ctx;
    s->n++;
    memcpy(s->id, id, 8);
    s->temp = temp;
    s->expires = expires_at;
    return MTP_OK;
}

START_TEST(keys_file_reads_back)
{
    tmp_path();
    struct mtp_keylog kl;
    ck_assert_ok(mtp_keylog_open(&kl, path, NULL));
    uint8_t key[256], id[8];
    key_of(key, id, 9);
    mtp_keylog_auth_key(&kl, id, key, false, 0);
    mtp_keylog_auth_key(&kl, id, key, true, -5);
    static const uint8_t perm_id[8] = {0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87};
    mtp_keylog_bind(&kl, id, perm_id, 1700000000);
    mtp_keylog_close(&kl);
    struct seen s = {0};
    struct mtp_keylog_reader rd = {.key = collect, .bind = collect_bind, .missing_ok = true, .ctx = &s};
    ck_assert_ok(mtp_keylog_read(path, &rd, NULL));
    ck_assert_int_eq(s.n, 2);
    ck_assert_mem_eq(s.id, id, 8);
    ck_assert(s.temp);
    ck_assert_int_eq(s.expires, -5);
    ck_assert_int_eq(s.binds, 1);
    ck_assert_mem_eq(s.bind_temp, id, 8);
    ck_assert_mem_eq(s.bind_perm, perm_id, 8);
    ck_assert_int_eq(s.bind_expires, 1700000000);
    /* without a bind callback the BIND line is skipped */
    memset(&s, 0, sizeof s);
    rd.bind = NULL;
    ck_assert_ok(mtp_keylog_read(path, &rd, NULL));
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(s.binds, 0);
    unlink(path);
    /* a missing file is an empty one */
    s.n = 0;
    ck_assert_ok(mtp_keylog_read(path, &rd, NULL));
    ck_assert_int_eq(s.n, 0);
    /* ... unless the reader needs it (a capture decoder's --keylog) */
    rd.missing_ok = false;
    ck_assert_rc(mtp_keylog_read(path, &rd, NULL), MTP_ERR_IO);
}
END_TEST

START_TEST(malformed_lines_are_named)
{
    uint8_t key[256], id[8];
    key_of(key, id, 3);
    char idh[17], keyh[513], line[1200];
    mtp_hex_encode(id, 8, idh);
    mtp_hex_encode(key, 256, keyh);
    struct {
        char text[1200];
        const char *msg;
    } cases[8];
    snprintf(cases[0].text, sizeof cases[0].text, "\n# c\nAUTH_KEY %s\n", idh);
    cases[0].msg = ":3: wrong number of fields";
    snprintf(cases[1].text, sizeof cases[1].text, "AUTH_KEY 0000000000000000 %s\n", keyh);
    cases[1].msg = ":1: auth_key_id is not the id of the key";
    snprintf(cases[2].text, sizeof cases[2].text, "CLIENT_RANDOM x y\n");
    cases[2].msg = ":1: unknown line type";
    snprintf(cases[3].text, sizeof cases[3].text, "TEMP_AUTH_KEY %s %s soon\n", idh, keyh);
    cases[3].msg = ":1: expires_at is not a 32-bit integer";
    snprintf(cases[4].text, sizeof cases[4].text, "BIND %s %s\n", idh, idh);
    cases[4].msg = ":1: wrong number of fields";
    snprintf(cases[5].text, sizeof cases[5].text, "BIND %s 00112233445566 7\n", idh);
    cases[5].msg = ":1: perm auth_key_id is not 16 hex digits";
    snprintf(cases[6].text, sizeof cases[6].text, "AUTH_KEY %s %s\nBIND x%s %s 7\n", idh, keyh, idh, idh);
    cases[6].msg = ":2: temp auth_key_id is not 16 hex digits";
    snprintf(cases[7].text, sizeof cases[7].text, "BIND %s %s 99999999999\n", idh, idh);
    cases[7].msg = ":1: expires_at is not a 32-bit integer";
    (void)line;
    for (size_t i = 0; i < 8; i++) {
        tmp_path();
        FILE *f = fopen(path, "w");
        fputs(cases[i].text, f);
        fclose(f);
        struct seen s = {0};
        struct mtp_error err;
        mtp_error_clear(&err);
        struct mtp_keylog_reader rd = {.key = collect, .bind = collect_bind, .bad_code = MTP_ERR_SRV_KEYS_FILE,
                                       .ctx = &s};
        ck_assert_rc(mtp_keylog_read(path, &rd, &err), MTP_ERR_SRV_KEYS_FILE);
        char want[160];
        snprintf(want, sizeof want, "%s%s", path, cases[i].msg);
        ck_assert_str_eq(err.msg, want);
        unlink(path);
    }
}
END_TEST

/* ---- what a capture decoder reads: every line type, a damaged log read leniently ---- */

struct all {
    int keys, obfs, nonces, bad;
    uint8_t init[64];
    struct mtp_obfs_keys k;
    uint8_t nonce[16], server_nonce[16], new_nonce[32];
    size_t bad_line;
    char bad_what[64];
};

static int all_key(void *ctx, const uint8_t id[8], const uint8_t key[256], bool temp, int32_t expires_at,
                   struct mtp_error *err)
{
    (void)id, (void)key, (void)temp, (void)expires_at, (void)err;
    ((struct all *)ctx)->keys++;
    return MTP_OK;
}

static int all_obfs(void *ctx, const uint8_t init[64], const struct mtp_obfs_keys *k, struct mtp_error *err)
{
    (void)err;
    struct all *a = ctx;
    a->obfs++;
    memcpy(a->init, init, 64);
    a->k = *k;
    return MTP_OK;
}

static int all_nonce(void *ctx, const uint8_t nonce[16], const uint8_t server_nonce[16], const uint8_t new_nonce[32],
                     struct mtp_error *err)
{
    (void)err;
    struct all *a = ctx;
    a->nonces++;
    memcpy(a->nonce, nonce, 16);
    memcpy(a->server_nonce, server_nonce, 16);
    memcpy(a->new_nonce, new_nonce, 32);
    return MTP_OK;
}

static void all_bad(void *ctx, size_t line, const char *what)
{
    struct all *a = ctx;
    if (a->bad++ == 0) {
        a->bad_line = line;
        snprintf(a->bad_what, sizeof a->bad_what, "%s", what);
    }
}

START_TEST(every_line_type_reads_back)
{
    uint8_t key[256], id[8];
    key_of(key, id, 5);
    char idh[17], keyh[513];
    mtp_hex_encode(id, 8, idh);
    mtp_hex_encode(key, 256, keyh);
    char text[4096];
    /* upper-case hex, CRLF, a future line type, a malformed NEW_NONCE: the rest still reads */
    snprintf(text, sizeof text,
             "# mtprobe key log\r\n"
             "AUTH_KEY %s %s\r\n"
             "OBFS2 %0128d "
             "D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1D1 d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2 "
             "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1 e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2\n"
             "FUTURE_THING a b c\n"
             "NEW_NONCE 00 11\n"
             "NEW_NONCE 0102030405060708090a0b0c0d0e0f10 1112131415161718191a1b1c1d1e1f20 "
             "2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40",
             idh, keyh, 7);
    struct all a = {0};
    struct mtp_keylog_reader rd = {.key = all_key, .obfs2 = all_obfs, .new_nonce = all_nonce, .bad_line = all_bad,
                                   .skip_unknown = true, .ctx = &a};
    ck_assert_ok(mtp_keylog_read_mem("mem", text, strlen(text), &rd, NULL));
    ck_assert_int_eq(a.keys, 1);
    ck_assert_int_eq(a.obfs, 1);
    ck_assert_uint_eq(a.init[63], 7);
    ck_assert_uint_eq(a.k.dec_key[0], 0xd1);
    ck_assert_uint_eq(a.k.dec_iv[15], 0xd2);
    ck_assert_uint_eq(a.k.enc_key[31], 0xe1);
    ck_assert_uint_eq(a.k.enc_iv[0], 0xe2);
    ck_assert_int_eq(a.nonces, 1);
    ck_assert_hex_eq(a.nonce, 16, "0102030405060708090a0b0c0d0e0f10");
    ck_assert_hex_eq(a.server_nonce, 16, "1112131415161718191a1b1c1d1e1f20");
    ck_assert_hex_eq(a.new_nonce, 32, "2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40");
    ck_assert_int_eq(a.bad, 1);
    ck_assert_uint_eq(a.bad_line, 5);
    ck_assert_str_eq(a.bad_what, "wrong number of fields");
    /* strict: the unknown type stops the reading with its line */
    struct mtp_error err;
    mtp_error_clear(&err);
    rd.bad_line = NULL;
    rd.skip_unknown = false;
    ck_assert_rc(mtp_keylog_read_mem("mem", text, strlen(text), &rd, &err), MTP_ERR_KEYLOG);
    ck_assert_str_eq(err.msg, "mem:4: unknown line type");
    /* a NUL inside a line is malformed, not a shorter line */
    static const char nul[] = "AUTH_KEY 00\0 x\n";
    mtp_error_clear(&err);
    ck_assert_rc(mtp_keylog_read_mem("mem", nul, sizeof nul - 1, &rd, &err), MTP_ERR_KEYLOG);
    ck_assert_str_eq(err.msg, "mem:1: a NUL byte");
}
END_TEST

Suite *mtp_keylog_suite(void);
Suite *mtp_keylog_suite(void)
{
    Suite *s = suite_create("keylog");
    TCase *tc = tcase_create("keylog");
    tcase_add_test(tc, lines_are_exact_and_the_file_private);
    tcase_add_test(tc, keys_file_reads_back);
    tcase_add_test(tc, malformed_lines_are_named);
    tcase_add_test(tc, every_line_type_reads_back);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtp_keylog_suite)
