/* Errors are values: a numeric code, the byte offset in the input where the
 * problem was found, and a message that names the field.  No global error
 * state: every fallible call takes (or reaches through its reader/writer) a
 * caller-owned struct mtp_error. */
#ifndef MTP_ERR_H
#define MTP_ERR_H

#include <stddef.h>
#include <stdint.h>

#define MTP_MUST_USE __attribute__((warn_unused_result))
#define MTP_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Codes are negative.  The hundreds digit is the layer (see errors/ *.def):
 *   -1..-99 core (buffers, hex, usage)   -100..-199 TL         -200..-299 crypto
 *   -300..-399 transport                 -400..-499 auth       -500..-599 session
 *   -600..-699 TL schema                 -700..-799 server/client/runner
 * MTP_ERR_NEED_MORE is not a failure: a stream parser wants more bytes. */
enum mtp_err_code {
    MTP_OK = 0,
#define MTP_ERR_DEF(sym, val, name, text) sym = (val),
#include "mtp/errors/all.def"
#undef MTP_ERR_DEF
};

#define MTP_ERROR_MSG_MAX 256
#define MTP_NO_OFFSET ((size_t)-1)

struct mtp_error {
    int code;                     /* MTP_OK or a negative enum mtp_err_code */
    size_t offset;                /* byte offset in the input, or MTP_NO_OFFSET */
    char msg[MTP_ERROR_MSG_MAX];  /* names the field, e.g. "resPQ.pq: length 300 > 12 bytes left" */
};

/* Stable snake_case name of a code ("msg_key_mismatch"), used on the wire by
 * the shim protocol and in reports.  "unknown_error" for codes not defined. */
const char *mtp_err_name(int code);
/* One-line human description of a code. */
const char *mtp_err_text(int code);
/* Looks a code up by its name; returns MTP_OK when the name is unknown. */
int mtp_err_from_name(const char *name);

/* Records an error in *e (if e is not NULL) and returns code, so callers can
 * write `return mtp_error_set(err, MTP_ERR_X, off, "field: ...")`.  A second
 * call does not overwrite the first: the earliest, most precise failure wins. */
int mtp_error_set(struct mtp_error *e, int code, size_t offset, const char *fmt, ...) MTP_PRINTF(4, 5);
void mtp_error_clear(struct mtp_error *e);
/* Adds a "context: " prefix to an already recorded message (e.g. a vector id). */
void mtp_error_prefix(struct mtp_error *e, const char *fmt, ...) MTP_PRINTF(2, 3);

/* Propagation helpers for functions returning int codes. */
#define MTP_GUARD(x)                                                                                                   \
    do {                                                                                                               \
        int mtp_rc_ = (x);                                                                                             \
        if (mtp_rc_ < 0)                                                                                               \
            return mtp_rc_;                                                                                            \
    } while (0)
/* For functions that own resources: `int rc = MTP_OK; ... MTP_TRY(f()); ... out: cleanup; return rc;` */
#define MTP_TRY(x)                                                                                                     \
    do {                                                                                                               \
        if ((rc = (x)) < 0)                                                                                            \
            goto out;                                                                                                  \
    } while (0)

#endif
