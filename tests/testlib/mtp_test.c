#include "mtp_test.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

static char *slurp_path(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 4096, n = 0, got;
    char *p = malloc(cap);
    while (p && (got = fread(p + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap)
            p = realloc(p, cap *= 2);
    }
    fclose(f);
    ck_assert_ptr_nonnull(p);
    p[n] = '\0';
    return arena_keep(p);
}

const char *mtp_test_tmpdir(void)
{
    char *dir = arena_keep(strdup("/tmp/mtprobe-test-XXXXXX"));
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

void mtp_test_rmdir(const char *dir)
{
    char cmd[512];
    ck_assert(strncmp(dir, "/tmp/mtprobe-test-", 18) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

int mtp_test_sh(const char *cmd, const char *stdin_text, char **out, char **err)
{
    const char *dir = mtp_test_tmpdir();
    char in_path[256], out_path[256], err_path[256];
    snprintf(in_path, sizeof in_path, "%s/in", dir);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    snprintf(err_path, sizeof err_path, "%s/err", dir);
    FILE *f = fopen(in_path, "wb");
    ck_assert_ptr_nonnull(f);
    if (stdin_text)
        fputs(stdin_text, f);
    fclose(f);
    size_t n = strlen(cmd) + 3 * 256 + 64;
    char *full = malloc(n);
    ck_assert_ptr_nonnull(full);
    snprintf(full, n, "(%s) <'%s' >'%s' 2>'%s'", cmd, in_path, out_path, err_path);
    setenv("MTPROBE", MTPROBE_BINARY, 1);
    int st = system(full);
    free(full);
    if (out)
        *out = slurp_path(out_path);
    if (err)
        *err = slurp_path(err_path);
    mtp_test_rmdir(dir);
    if (st == -1)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
