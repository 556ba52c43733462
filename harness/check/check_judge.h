/* Judging one run of one case: from the mock DC's observation log
 * (docs/events.md) and the client's exit and JSON line, a verdict with what
 * was expected and what was observed, and the events that decided it. */
#ifndef MTP_CHECK_JUDGE_H
#define MTP_CHECK_JUDGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "check/check.h"
#include "check/check_proc.h"

struct check_client_run {
    const char *transport;   /* the transport under test (a name of check_transport_names) */
    bool started;            /* the command could be run at all */
    struct check_exit exit;
    json_t *line;            /* the last stdout line as JSON, or NULL */
    char *line_error;        /* why there is no line, or NULL */
};

struct check_judgement {
    enum check_verdict verdict;
    char expected[1024];
    char observed[2048];
    json_t *marks;           /* array of {"event": index, "why": text}: the events that decided */
};

/* events: the observation log as an array of objects (in order). */
void check_judge(const struct check_case *c, const json_t *events, const struct check_client_run *run,
                 struct check_judgement *j);

/* Whether name is a named check cases may list (docs/cases.md). */
bool check_named_known(const char *name);
/* Every named check with its one-line description, for docs and --list-checks. */
void check_named_list(void (*fn)(void *ctx, const char *name, const char *what), void *ctx);

#endif
