/* Shared test helpers (Check).  Each tests/unit/<module>_test.c defines a
 * suite function and ends with MTP_TEST_MAIN(<suite function>). */
#ifndef MTP_TEST_H
#define MTP_TEST_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mtp/buf.h"
#include "mtp/err.h"

/* Asserts an exact return code and prints both names on mismatch. */
#define ck_assert_rc(expr, want)                                                                                       \
    do {                                                                                                               \
        int got_rc_ = (expr), want_rc_ = (want);                                                                       \
        ck_assert_msg(got_rc_ == want_rc_, "%s: got %d (%s), want %d (%s)", #expr, got_rc_, mtp_err_name(got_rc_),     \
                      want_rc_, mtp_err_name(want_rc_));                                                               \
    } while (0)

#define ck_assert_ok(expr) ck_assert_rc(expr, MTP_OK)

/* Decodes a hex literal into a malloc'ed buffer (aborts the test on bad hex).
 * The buffer is owned by the test arena and freed by mtp_test_free_all(). */
uint8_t *mtp_test_hex(const char *hex, size_t *len);
/* Compares bytes against a hex literal; fails with both hex strings shown. */
#define ck_assert_hex_eq(buf, len, hex) mtp_test_assert_hex_eq((buf), (len), (hex), __FILE__, __LINE__)
void mtp_test_assert_hex_eq(const void *buf, size_t len, const char *hex, const char *file, int line);

/* Path of a file in the source tree (tests run from the source dir, but be explicit). */
const char *mtp_test_path(const char *rel);
/* Reads a whole file; aborts the test when it cannot. */
uint8_t *mtp_test_read_file(const char *rel, size_t *len);

void mtp_test_free_all(void);

/* Runs `sh -c cmd` with stdin_text (NULL: empty) on its stdin and returns its
 * exit status (128+signal when killed).  *out and *err (either may be NULL)
 * receive what it wrote, NUL-terminated, owned by the test arena.
 * "$MTPROBE" in cmd is the mtprobe binary under test. */
int mtp_test_sh(const char *cmd, const char *stdin_text, char **out, char **err);
/* A fresh empty directory under /tmp, removed with everything in it by mtp_test_rmdir. */
const char *mtp_test_tmpdir(void);
void mtp_test_rmdir(const char *dir);

int mtp_test_run(Suite *s);
#define MTP_TEST_MAIN(suite_fn)                                                                                        \
    int main(void) { return mtp_test_run(suite_fn()); }

#endif
