/* The known-answer runner: loads vector files (docs/vectors.md), sends each
 * test to an implementation as a shim request, and judges the answer. */
#ifndef MTP_KAT_H
#define MTP_KAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "kat/shim_proc.h"

enum kat_status {
    KAT_PASS,
    KAT_ACCEPTABLE, /* "acceptable" vector: the implementation took one of the allowed paths */
    KAT_UNSUPPORTED,
    KAT_FAIL,
};
const char *kat_status_name(enum kat_status s);

/* Judges one answer against a test's expected result ("valid" / "invalid" /
 * "acceptable") and expect object.  On failure writes why into why[]. */
enum kat_status kat_judge(const char *result, const json_t *expect, const json_t *answer, char *why, size_t why_len);

/* Compares one expected JSON value with an answer's: hex-digit strings
 * case-insensitively, arrays element-wise.  Returns true when equal. */
bool kat_value_equal(const json_t *want, const json_t *got);

/* Where requests go: the reference implementation in this process, or an
 * external shim process. */
struct kat_target {
    struct shim_proc *proc; /* NULL: in-process reference implementation */
};
/* Sends one request; returns a new answer object, or NULL with why[] set when
 * the target crashed, hung or broke the protocol. */
json_t *kat_target_call(struct kat_target *t, const json_t *req, char *why, size_t why_len);

struct kat_options {
    const char *const *paths; /* vector files or directories */
    size_t n_paths;
    const char *filter;       /* only files whose relative path contains this; NULL for all */
    bool verbose;             /* print every vector, not only failures */
    bool keep_passing;        /* record request/answer of passing vectors in the report too */
    FILE *out;                /* progress and summary */
};

struct kat_totals {
    size_t files, vectors, passed, acceptable, unsupported, failed;
};

/* Runs every vector file found under opts->paths against target.  Builds the
 * report object (see harness/report/report.h) into *report.  Returns 0 when
 * every file was read, or -1 when a vector file could not be read or parsed
 * (named on opts->out); check totals.failed for the verdict. */
int kat_run(const struct kat_options *opts, struct kat_target *target, json_t *report, struct kat_totals *totals);

#endif
