/* `mtprobe check server` (docs/check-server.md): the server side of the
 * conformance suite.  Cases are the files of vectors/cases/server (side
 * "server", docs/cases.md); each names a probe (check_probes.h) that sends
 * the server under test the hostile thing, and the reactions that pass.  The
 * runner, the expectations file and the report are check_runner.c's, shared
 * with `check client`. */
#ifndef MTP_CHECK_SERVER_H
#define MTP_CHECK_SERVER_H

#include <jansson.h>
#include <stdbool.h>

#include "check/check.h"
#include "check/check_judge.h"

/* --- case files (check_server_case.c) --- */

typedef void (*check_problem_fn)(void *ctx, const char *id, const char *msg);
/* Reads and validates the server fields of case c (probe, allowed, exclusive)
 * into out; req is the catalogue entry (its "allowed" is the default). */
void check_server_case_load(const json_t *c, const json_t *req, struct check_case *out, check_problem_fn problem,
                            void *ctx);
/* The reactions a case may allow (the catalogue's plus the probe's own names). */
bool check_server_reaction_known(const char *name);
/* Named checks of server cases (over the probe's log). */
bool check_server_named_known(const char *name);
void check_server_named_list(void (*fn)(void *ctx, const char *name, const char *what), void *ctx);

/* --- judging (check_server_judge.c) --- */

/* events: the probe's observation log; setup_error: why the run could not do
 * its part (NULL when it did). */
void check_server_judge(const struct check_case *c, const json_t *events, const char *setup_error,
                        struct check_judgement *j);

/* --- one run (check_server.c) --- */

json_t *check_server_execute(const struct check_options *o, const struct check_case *c, int transport,
                             unsigned repeat, const char *dir);

#endif
