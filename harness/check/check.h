/* The conformance runner behind `mtprobe check client` (docs/check-client.md).
 *
 * A case is data (files under vectors/cases/client, docs/cases.md): the catalogue
 * item it checks, its level, the mock DC scenario that breaks the rule, and
 * the expectation that judges what happened.  For each case and transport the
 * runner starts `mtprobe serve --scenario <inline> --events <file>`, runs the
 * client command with its placeholders filled in, and judges from the
 * observation log (docs/events.md) and, where the case says so, the client's
 * JSON line.  Verdicts: pass, fail, crash, hang, unsupported, error; with an
 * expectations file also xfail and xpass. */
#ifndef MTP_CHECK_H
#define MTP_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CHECK_MAX_TRANSPORTS 7

enum check_verdict {
    CHECK_PASS = 0,
    CHECK_FAIL,
    CHECK_CRASH,
    CHECK_HANG,
    CHECK_UNSUPPORTED,
    CHECK_ERROR,
    CHECK_XFAIL,
    CHECK_XPASS,
    CHECK_NVERDICTS
};
const char *check_verdict_name(enum check_verdict v);

enum check_level { CHECK_MUST = 0, CHECK_SHOULD, CHECK_RECOMMENDED, CHECK_MAY, CHECK_INFO, CHECK_NLEVELS };
const char *check_level_name(enum check_level l);
int check_level_parse(const char *s, enum check_level *out);

/* The client transports of the contract, in the order reports list them. */
extern const char *const check_transport_names[CHECK_MAX_TRANSPORTS];
int check_transport_index(const char *name);

/* How a case is judged (docs/cases.md, "expect"). */
enum check_expect {
    CHECK_EXPECT_ACCEPT = 1,     /* a legitimate edge: the client must complete */
    CHECK_EXPECT_REJECT_EXCHANGE, /* a hostile key-exchange message: the client must not go on with it */
    CHECK_EXPECT_REJECT_MESSAGE, /* a hostile encrypted message: the client must not use it */
    CHECK_EXPECT_RESTART,        /* after the fault the client opens a new connection and a new exchange */
    CHECK_EXPECT_PASSIVE,        /* an honest run; the named checks decide */
    CHECK_EXPECT_CONTINUE_EXCHANGE, /* an unusual but legal key-exchange message: the client must go on with it */
    CHECK_EXPECT_GIVE_UP,        /* the server can never satisfy the client: it must stop cleanly, not crash or spin */
    /* Server cases (vectors/cases/server, docs/check-server.md): the probe sends the server the case's
     * message and classifies what came back as one reaction of the catalogue. */
    CHECK_EXPECT_REACTION = 32,  /* the reaction must be one of the case's allowed ones */
    CHECK_EXPECT_SERVE,          /* a legitimate edge: the server must answer it (allowed: answer) */
    CHECK_EXPECT_RECORD,         /* INFO: the report says what the server did; any reaction passes */
};
const char *check_expect_name(enum check_expect e);

struct check_case {
    char *id;
    char *file;           /* the case file it came from (relative) */
    char *group;
    char *requirement;    /* catalogue id, e.g. C-DH-1 */
    enum check_level level;
    char *title;
    char *area;           /* the requirement's area (dh, handshake, ...) */
    json_t *spec;         /* {url, section, quote}: the case's own, else the requirement's */
    json_t *tags;         /* array of strings */
    uint32_t transports;  /* bit i: check_transport_names[i] */
    char *requests;       /* for {request}: "ping", "nearest_dc,config" ... */
    double timeout_s;
    json_t *scenario;     /* the inline scenario, given to mtprobe serve */
    enum check_expect expect;
    char *hostile;        /* reject_exchange: the constructor of the hostile server message */
    unsigned hostile_from; /* ... only its occurrences from this one on (1-based, over the run) are hostile */
    json_t *checks;       /* array of check names (strings) */
    char *secret;         /* MTProxy secret for the run, or NULL */
    char *note;
    /* Server cases only (NULL / false for client cases). */
    bool server;          /* from a file with "side": "server" */
    json_t *probe;        /* what the probe sends ({"do": ..., ...}, docs/cases.md) */
    json_t *allowed;      /* the reactions that pass (array of names) */
    bool exclusive;       /* runs alone (timing: no other run may share the machine meanwhile) */
};

struct check_suite {
    struct check_case *cases;
    size_t n;
    json_t *catalogue;    /* requirements.json, or NULL */
};

/* Loads every case file (.json) under dir (sorted), validating each against the
 * case schema and the catalogue (catalogue_path NULL: <dir>/../requirements.json).
 * Problems are printed to err, one line each, naming the file and the case;
 * returns the number of problems (0: all valid) or -1 when dir cannot be read. */
int check_suite_load(struct check_suite *s, const char *dir, const char *catalogue_path, FILE *err);
void check_suite_free(struct check_suite *s);

/* The expectation file of an implementation (BoGo's idea): case id globs
 * expected to fail on some transports, each with a reason and a reference to
 * the library's source. */
struct check_expected_failure {
    char *cases;       /* comma-separated globs over case ids */
    uint32_t transports;
    bool sometimes;    /* fails in some runs only (it depends on the client's randomness): a pass is no xpass */
    char *reason;
    char *ref;
};
struct check_expectations {
    char *implementation;
    struct check_expected_failure *v;
    size_t n;
};
int check_expectations_load(struct check_expectations *x, const char *path, char *why, size_t why_len);
void check_expectations_free(struct check_expectations *x);
/* The entry that expects case_id to fail on transport t, or NULL. */
const struct check_expected_failure *check_expected(const struct check_expectations *x, const char *case_id, int t);

struct check_options;
/* One run, in its worker process: the result object for case c on transport t
 * ("case", "transport", "repeat", "verdict", "expected", "observed", "wire", ...);
 * dir is the run's scratch directory (created by the callee). */
typedef json_t *(*check_exec_fn)(const struct check_options *o, const struct check_case *c, int transport,
                                 unsigned repeat, const char *dir);

struct check_options {
    const char *side;          /* "client" or "server" */
    const char *cmd;           /* the client command template */
    const char *mtprobe;       /* path of the mtprobe binary that runs the mock DC */
    const char *cases_dir;
    const char *catalogue;
    const char *case_glob;     /* NULL: every case */
    const char *tag;           /* NULL: every case */
    const char *requirement;   /* glob over catalogue ids; NULL: every case */
    uint32_t transports;
    bool strict;
    bool require_pass;         /* any verdict but pass fails the run (a reference implementation) */
    unsigned jobs;
    unsigned repeat;
    uint64_t seed;
    double timeout_scale;      /* multiplies every case's timeout */
    const struct check_expectations *expect;
    const char *report_dir;
    const char *implementation; /* name for reports; NULL: from the client's JSON line or the command */
    bool verbose;
    bool keep_work;            /* keep per-run directories even for passes */
    FILE *out;                 /* progress and summary */
    /* check server (docs/check-server.md) */
    check_exec_fn exec;        /* NULL: the client suite's (mock DC + client command) */
    const char *server;        /* HOST:PORT of the server under test */
    const char *rsa_pub;       /* PEM file of its RSA public key */
    const char *secret;        /* MTProxy secret in hex, or NULL */
    int dc;                    /* the DC id to name (p_q_inner_data_dc, the obfuscated init) */
    bool timing;               /* also run the timing side-channel cases */
    unsigned timing_samples;   /* per class; 0: the case's own */
};

struct check_totals {
    size_t runs;
    size_t by_verdict[CHECK_NVERDICTS];
    size_t must_failed, should_failed;  /* fail/crash/hang at that level (after expectations) */
};

/* The observation log at path (one JSON object a line) as an array; empty when unreadable. */
json_t *check_load_events(const char *path);

/* Runs the suite; writes report.json and junit.xml into opts->report_dir.
 * Returns 0 when it ran (see totals for the verdicts), -1 when it could not
 * proceed (message on opts->out). */
int check_run(const struct check_options *opts, const struct check_suite *suite, struct check_totals *totals);

#endif
