/* A shim implementation running as a child process, spoken to over pipes
 * (docs/shim.md).  Guards against the ways a shim can misbehave: exiting,
 * crashing, hanging, writing endless lines, or answering out of order. */
#ifndef MTP_SHIM_PROC_H
#define MTP_SHIM_PROC_H

#include <jansson.h>
#include <stddef.h>

struct shim_proc;

/* Starts `/bin/sh -c command`.  timeout_ms bounds each request.  stderr of
 * the shim is kept (the last few KiB) for diagnostics.  NULL on failure with
 * why[] set. */
struct shim_proc *shim_proc_start(const char *command, int timeout_ms, char *why, size_t why_len);
/* Sends req (which must carry "id") and waits for the matching answer line.
 * Returns a new answer, or NULL with why[] set; after a failure the process
 * is stopped and the next call restarts it. */
json_t *shim_proc_call(struct shim_proc *p, const json_t *req, char *why, size_t why_len);
/* The tail of what the shim wrote to stderr (may be empty). */
const char *shim_proc_stderr(const struct shim_proc *p);
/* Closes stdin, waits for exit (bounded), kills if needed.  Returns the exit
 * status as a shell would show it (0 ok, 128+signal for a signal, -1 unknown). */
int shim_proc_stop(struct shim_proc *p);
void shim_proc_free(struct shim_proc *p);

#endif
