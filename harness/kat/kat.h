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
    KAT_ACCEPTABLE,   /* an allowed alternative: an "acceptable" vector, or the other answer to a check below MUST */
    KAT_WRONG_ERROR,  /* rejected as the vector wants, naming another error; a failure only under --strict */
    KAT_UNSUPPORTED,
    KAT_FAIL,
};
const char *kat_status_name(enum kat_status s);

/* Requirement levels (docs/requirements.md), strongest first. */
enum kat_level { KAT_LEVEL_MUST, KAT_LEVEL_SHOULD, KAT_LEVEL_RECOMMENDED, KAT_LEVEL_MAY, KAT_LEVEL_INFO };
/* 0 and *level set for MUST, SHOULD, RECOMMENDED, MAY and INFO; -1 for anything else. */
int kat_level_parse(const char *name, enum kat_level *level);
const char *kat_level_name(enum kat_level level);

/* An error map (`mtprobe kat --error-map FILE`, docs/shim.md): an
 * implementation's own error names to the shim protocol's. */
struct kat_errmap;
/* NULL with why[] set when the file cannot be read or is not an error map. */
struct kat_errmap *kat_errmap_load(const char *path, char *why, size_t why_len);
/* The same from a JSON value (the file's contents); the map keeps a reference. */
struct kat_errmap *kat_errmap_new(json_t *doc, char *why, size_t why_len);
void kat_errmap_free(struct kat_errmap *m);
/* What the implementation's error `theirs` of op stands for: a string or an
 * array of strings (several of ours), or NULL when the map does not name it.
 * An entry under the op wins over a general one. */
const json_t *kat_errmap_lookup(const struct kat_errmap *m, const char *op, const char *theirs);

/* What an implementation said about itself in its hello answer. */
struct kat_caps {
    int protocol;     /* 1 when it has no hello or does not say */
    json_t *features; /* the feature names it announced (array), or NULL */
    json_t *hello;    /* its hello answer when it had one, else NULL */
};
/* From a hello answer (NULL, or one that is not "ok", means protocol 1 without features). */
void kat_caps_from_hello(struct kat_caps *c, const json_t *hello_answer);
void kat_caps_clear(struct kat_caps *c);
/* True when the implementation has the feature: announced by name, or part of
 * a protocol version at or below the one it announced.  c NULL: every feature. */
bool kat_caps_has(const struct kat_caps *c, const char *feature);

/* One test as the judge sees it. */
struct kat_test {
    const char *op;
    const char *result;   /* "valid", "invalid" or "acceptable" */
    const json_t *expect; /* the answer the vector wants (NULL: {}) */
    const json_t *lax;    /* the other allowed answer, NULL for the default one (docs/vectors.md) */
    enum kat_level level; /* the strongest level named by the test's flags; MUST when none names one */
    const char *level_flag; /* the flag that set the level, or NULL */
};

/* How to judge. */
struct kat_judging {
    bool strict;                     /* SHOULD/RECOMMENDED alternatives and wrong errors fail */
    const struct kat_errmap *errmap; /* NULL: error names are taken as they are */
    const struct kat_caps *caps;     /* NULL: the implementation has every feature */
};

struct kat_judgement {
    enum kat_status status;
    char why[1024];      /* one line: what the judge saw (empty for a plain pass) */
    json_t *not_checked; /* expected fields the answer left out that a missing feature adds; NULL when none */
};
/* Judges one answer.  out->not_checked is owned by out: kat_judgement_clear() releases it. */
void kat_judge(const struct kat_test *t, const struct kat_judging *j, const json_t *answer, struct kat_judgement *out);
void kat_judgement_clear(struct kat_judgement *out);

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
    bool strict;              /* see struct kat_judging */
    const struct kat_errmap *errmap;
    const struct kat_caps *caps; /* what the target announced; NULL: every feature */
    FILE *out;                /* progress and summary */
};

struct kat_totals {
    size_t files, vectors, passed, acceptable, wrong_error, unsupported, failed;
    size_t not_checked; /* vectors judged with some expected fields not checked */
};

/* Runs every vector file found under opts->paths against target.  Builds the
 * report object (see harness/report/report.h) into *report.  Returns 0 when
 * every file was read, or -1 when a vector file could not be read or parsed
 * (named on opts->out); check totals.failed for the verdict. */
int kat_run(const struct kat_options *opts, struct kat_target *target, json_t *report, struct kat_totals *totals);

#endif
