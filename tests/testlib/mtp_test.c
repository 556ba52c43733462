#include "mtp_test.h"

#include <stdio.h>
#include <string.h>

#include "mtp/hex.h"

#define ARENA_MAX 4096
/* Per test process (Check forks each test), so this is not shared state between tests. */
static void *arena[ARENA_MAX];
static size_t arena_n;

static void *arena_keep(void *p)
{
    ck_assert_ptr_nonnull(p);
    if (arena_n < ARENA_MAX)
        arena[arena_n++] = p;
    return p;
}

void mtp_test_free_all(void)
{
    for (size_t i = 0; i < arena_n; i++)
        free(arena[i]);
    arena_n = 0;
}

uint8_t *mtp_test_hex(const char *hex, size_t *len)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1u << 26, &err);
    int rc = mtp_hex_decode(hex, strlen(hex), &w, "test literal");
    ck_assert_msg(rc == MTP_OK, "bad hex literal: %s", err.msg);
    size_t n;
    uint8_t *p = mtp_wr_take(&w, &n);
    if (p == NULL)
        p = malloc(1);
    if (len)
        *len = n;
    return arena_keep(p);
}

void mtp_test_assert_hex_eq(const void *buf, size_t len, const char *hex, const char *file, int line)
{
    char *got = mtp_hex_alloc(buf, len);
    ck_assert_ptr_nonnull(got);
    /* Case-insensitive compare: vectors may be written in upper case. */
    size_t hl = strlen(hex);
    int same = hl == 2 * len;
    for (size_t i = 0; same && i < hl; i++) {
        char a = got[i], b = hex[i];
        if (b >= 'A' && b <= 'F')
            b = (char)(b - 'A' + 'a');
        same = a == b;
    }
    if (!same)
        ck_abort_msg("%s:%d: bytes differ\n  got  %s\n  want %s", file, line, got, hex);
    free(got);
}

const char *mtp_test_path(const char *rel)
{
    static char buf[4096]; /* per test process */
    snprintf(buf, sizeof buf, "%s/%s", MTPROBE_SOURCE_DIR, rel);
    return buf;
}

uint8_t *mtp_test_read_file(const char *rel, size_t *len)
{
    const char *path = mtp_test_path(rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 4096, n = 0;
    uint8_t *p = malloc(cap);
    size_t got;
    while (p && (got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            p = realloc(p, cap *= 2);
    }
    fclose(f);
    if (len)
        *len = n;
    return arena_keep(p);
}

int mtp_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    int run = srunner_ntests_run(sr);
    srunner_free(sr);
    if (run == 0) {
        fprintf(stderr, "no tests ran\n");
        return 1;
    }
    return failed == 0 ? 0 : 1;
}
