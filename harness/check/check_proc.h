/* Child processes of a conformance run: the mock DC and the client under
 * test, each in its own process group so that a timeout kills everything it
 * started (adapters run their library in children of their own). */
#ifndef MTP_CHECK_PROC_H
#define MTP_CHECK_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct check_proc {
    pid_t pid;
    int out_fd;       /* our end of its stdout when captured with a pipe, else -1 */
};

/* Starts argv[0] (a path) with stdout to a pipe (stdout_path NULL) or a file,
 * stderr to err_path, stdin from /dev/null, in a new process group. */
int check_proc_spawn(struct check_proc *p, char *const argv[], const char *stdout_path, const char *err_path,
                     char *why, size_t why_len);

/* Reads one line of the child's stdout pipe within timeout_ms; 0 and the line
 * (without newline), or -1 with why set (timeout, EOF). */
int check_proc_read_line(struct check_proc *p, int timeout_ms, char *line, size_t cap, char *why, size_t why_len);

struct check_exit {
    bool timed_out;   /* killed at the deadline */
    int code;         /* exit code, -1 when killed by a signal */
    int signal;       /* the signal that ended it (0: none) */
    int64_t elapsed_ms;
};

/* Waits up to timeout_ms for the child; at the deadline SIGKILLs its whole
 * process group.  Also reaps it. */
void check_proc_wait(struct check_proc *p, int timeout_ms, struct check_exit *ex);

/* SIGTERM, then SIGKILL after grace_ms; reaps.  Returns its exit code or -1. */
int check_proc_stop(struct check_proc *p, int grace_ms);

int64_t check_now_ms(void);

#endif
