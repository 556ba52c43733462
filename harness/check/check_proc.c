/* pipe2 is a Linux extension. */
#define _GNU_SOURCE
#include "check/check_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t check_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int check_proc_spawn(struct check_proc *p, char *const argv[], const char *stdout_path, const char *err_path,
                     char *why, size_t why_len)
{
    p->pid = -1;
    p->out_fd = -1;
    int pfd[2] = {-1, -1};
    if (stdout_path == NULL && pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(why, why_len, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "cannot fork: %s", strerror(errno));
        if (pfd[0] >= 0) {
            close(pfd[0]);
            close(pfd[1]);
        }
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int out = stdout_path ? open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : pfd[1];
        int err = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* both sides, so a kill right after fork finds the group */
    if (pfd[1] >= 0)
        close(pfd[1]);
    p->pid = pid;
    p->out_fd = pfd[0];
    return 0;
}

int check_proc_read_line(struct check_proc *p, int timeout_ms, char *line, size_t cap, char *why, size_t why_len)
{
    size_t n = 0;
    int64_t deadline = check_now_ms() + timeout_ms;
    while (n + 1 < cap) {
        int64_t left = deadline - check_now_ms();
        if (left <= 0) {
            snprintf(why, why_len, "no line within %d ms", timeout_ms);
            return -1;
        }
        struct pollfd pf = {.fd = p->out_fd, .events = POLLIN};
        int r = poll(&pf, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        char ch;
        ssize_t k = read(p->out_fd, &ch, 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(why, why_len, "the process closed its output");
            return -1;
        }
        if (ch == '\n')
            break;
        line[n++] = ch;
    }
    line[n] = '\0';
    return 0;
}

static void fill_exit(struct check_exit *ex, int status)
{
    if (WIFEXITED(status)) {
        ex->code = WEXITSTATUS(status);
        ex->signal = 0;
    } else if (WIFSIGNALED(status)) {
        ex->code = -1;
        ex->signal = WTERMSIG(status);
    }
}

void check_proc_wait(struct check_proc *p, int timeout_ms, struct check_exit *ex)
{
    memset(ex, 0, sizeof *ex);
    ex->code = -1;
    int64_t start = check_now_ms();
    for (;;) {
        int status;
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            fill_exit(ex, status);
            break;
        }
        if (r < 0 && errno != EINTR) {
            ex->code = -1;
            break;
        }
        if (check_now_ms() - start >= timeout_ms) {
            ex->timed_out = true;
            kill(-p->pid, SIGKILL);
            if (waitpid(p->pid, &status, 0) == p->pid)
                fill_exit(ex, status);
            break;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* Whatever the client started and left behind goes with it. */
    kill(-p->pid, SIGKILL);
    ex->elapsed_ms = check_now_ms() - start;
    if (p->out_fd >= 0)
        close(p->out_fd);
    p->out_fd = -1;
    p->pid = -1;
}

int check_proc_stop(struct check_proc *p, int grace_ms)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    struct check_exit ex;
    check_proc_wait(p, grace_ms, &ex);
    return ex.timed_out ? -1 : ex.code;
}
