/* pipe2 and SOCK_CLOEXEC are Linux extensions. */
#define _GNU_SOURCE
#include "kat/shim_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A shim that writes a line longer than this is broken, not slow. */
#define SHIM_LINE_MAX (64u << 20)
#define SHIM_STDERR_TAIL 4096

struct shim_proc {
    char *command;
    int timeout_ms;
    pid_t pid;
    int in_fd;  /* our end of the shim's stdin (a socket, so writes never raise SIGPIPE) */
    int out_fd; /* shim's stdout */
    int err_fd; /* shim's stderr */
    char *buf;  /* bytes of stdout not yet consumed as lines */
    size_t len, cap;
    char errtail[SHIM_STDERR_TAIL + 1];
    size_t errlen;
};

static void say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int spawn(struct shim_proc *p, char *why, size_t why_len)
{
    int in_sv[2], out_p[2], err_p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_sv) != 0) {
        say(why, why_len, "cannot create a socket pair: %s", strerror(errno));
        return -1;
    }
    if (pipe2(out_p, O_CLOEXEC) != 0) {
        say(why, why_len, "cannot create a pipe: %s", strerror(errno));
        close(in_sv[0]);
        close(in_sv[1]);
        return -1;
    }
    if (pipe2(err_p, O_CLOEXEC) != 0) {
        say(why, why_len, "cannot create a pipe: %s", strerror(errno));
        close(in_sv[0]);
        close(in_sv[1]);
        close(out_p[0]);
        close(out_p[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        say(why, why_len, "cannot fork: %s", strerror(errno));
        close(in_sv[0]);
        close(in_sv[1]);
        close(out_p[0]);
        close(out_p[1]);
        close(err_p[0]);
        close(err_p[1]);
        return -1;
    }
    if (pid == 0) {
        /* Own process group, so that a hung shim is killed with everything it started. */
        setpgid(0, 0);
        dup2(in_sv[1], 0);
        dup2(out_p[1], 1);
        dup2(err_p[1], 2);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", p->command, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: whichever of parent and child runs first */
    close(in_sv[1]);
    close(out_p[1]);
    close(err_p[1]);
    p->pid = pid;
    p->in_fd = in_sv[0];
    p->out_fd = out_p[0];
    p->err_fd = err_p[0];
    p->len = 0;
    fcntl(p->in_fd, F_SETFL, fcntl(p->in_fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

struct shim_proc *shim_proc_start(const char *command, int timeout_ms, char *why, size_t why_len)
{
    struct shim_proc *p = calloc(1, sizeof *p);
    if (p == NULL) {
        say(why, why_len, "out of memory");
        return NULL;
    }
    p->command = strdup(command);
    p->timeout_ms = timeout_ms;
    p->pid = -1;
    p->in_fd = p->out_fd = p->err_fd = -1;
    if (p->command == NULL || spawn(p, why, why_len) != 0) {
        shim_proc_free(p);
        return NULL;
    }
    return p;
}

static void keep_stderr(struct shim_proc *p, const char *data, size_t n)
{
    if (n >= SHIM_STDERR_TAIL) {
        memcpy(p->errtail, data + n - SHIM_STDERR_TAIL, SHIM_STDERR_TAIL);
        p->errlen = SHIM_STDERR_TAIL;
    } else {
        if (p->errlen + n > SHIM_STDERR_TAIL) {
            size_t drop = p->errlen + n - SHIM_STDERR_TAIL;
            memmove(p->errtail, p->errtail + drop, p->errlen - drop);
            p->errlen -= drop;
        }
        memcpy(p->errtail + p->errlen, data, n);
        p->errlen += n;
    }
    p->errtail[p->errlen] = '\0';
}

const char *shim_proc_stderr(const struct shim_proc *p) { return p->errtail; }

static int exit_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

/* Reaps the child, killing it if it does not exit within grace_ms. */
static int reap(struct shim_proc *p, int grace_ms)
{
    if (p->pid < 0)
        return -1;
    int st = 0;
    int64_t deadline = now_ms() + grace_ms;
    pid_t r;
    while ((r = waitpid(p->pid, &st, WNOHANG)) == 0 && now_ms() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (r == 0) {
        kill(-p->pid, SIGKILL);
        waitpid(p->pid, &st, 0);
    }
    p->pid = -1;
    close_fd(&p->in_fd);
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    p->len = 0;
    return exit_status(st);
}

static void drain_stderr(struct shim_proc *p)
{
    char tmp[4096];
    ssize_t n;
    while (p->err_fd >= 0) {
        struct pollfd pf = {p->err_fd, POLLIN, 0};
        if (poll(&pf, 1, 0) <= 0)
            break;
        n = read(p->err_fd, tmp, sizeof tmp);
        if (n <= 0)
            break;
        keep_stderr(p, tmp, (size_t)n);
    }
}

static json_t *fail(struct shim_proc *p, bool kill_it, char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static json_t *fail(struct shim_proc *p, bool kill_it, char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    drain_stderr(p);
    if (kill_it && p->pid > 0)
        kill(-p->pid, SIGKILL);
    int st = reap(p, kill_it ? 1000 : 2000);
    size_t used = strlen(why);
    if (!kill_it && st >= 0 && used < why_len)
        snprintf(why + used, why_len - used, " (shim exit status %d)", st);
    used = strlen(why);
    if (p->errlen > 0 && used < why_len)
        snprintf(why + used, why_len - used, "; shim stderr: %.400s", p->errtail);
    return NULL;
}

static bool send_all(struct shim_proc *p, const char *data, size_t n, int64_t deadline)
{
    while (n > 0) {
        ssize_t w = send(p->in_fd, data, n, MSG_NOSIGNAL);
        if (w > 0) {
            data += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return false;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        /* The shim may be blocked writing answers we have not read yet; read stderr meanwhile. */
        struct pollfd pf[2] = {{p->in_fd, POLLOUT, 0}, {p->err_fd, POLLIN, 0}};
        if (poll(pf, 2, (int)left) > 0 && (pf[1].revents & POLLIN))
            drain_stderr(p);
    }
    return true;
}

json_t *shim_proc_call(struct shim_proc *p, const json_t *req, char *why, size_t why_len)
{
    if (p->pid < 0 && spawn(p, why, why_len) != 0)
        return NULL;
    char *line = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line == NULL) {
        say(why, why_len, "cannot serialise the request");
        return NULL;
    }
    int64_t deadline = now_ms() + p->timeout_ms;
    size_t ll = strlen(line);
    line[ll] = '\n';
    bool sent = send_all(p, line, ll + 1, deadline);
    line[ll] = '\0';
    free(line);
    if (!sent)
        return fail(p, true, why, why_len, "the shim did not read its request within %d ms", p->timeout_ms);

    for (;;) {
        char *nl = p->len ? memchr(p->buf, '\n', p->len) : NULL;
        if (nl != NULL) {
            size_t n = (size_t)(nl - p->buf);
            json_error_t jerr;
            json_t *ans = json_loadb(p->buf, n, JSON_ALLOW_NUL, &jerr);
            memmove(p->buf, nl + 1, p->len - n - 1);
            p->len -= n + 1;
            if (ans == NULL)
                return fail(p, true, why, why_len, "the shim answered a line that is not JSON (%s at column %d)",
                            jerr.text, jerr.column);
            if (!json_is_object(ans) || !json_equal(json_object_get(ans, "id"), json_object_get(req, "id")) ||
                !json_is_boolean(json_object_get(ans, "ok"))) {
                json_decref(ans);
                return fail(p, true, why, why_len,
                            "the shim answered an object without the request's id or without a boolean \"ok\"");
            }
            return ans;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return fail(p, true, why, why_len, "the shim did not answer within %d ms", p->timeout_ms);
        struct pollfd pf[2] = {{p->out_fd, POLLIN, 0}, {p->err_fd, POLLIN, 0}};
        int pr = poll(pf, p->err_fd >= 0 ? 2 : 1, (int)left);
        if (pr < 0 && errno != EINTR)
            return fail(p, true, why, why_len, "poll failed: %s", strerror(errno));
        if (pr <= 0)
            continue;
        if (pf[1].revents & (POLLIN | POLLHUP)) {
            char tmp[4096];
            ssize_t n = read(p->err_fd, tmp, sizeof tmp);
            if (n > 0)
                keep_stderr(p, tmp, (size_t)n);
            else
                close_fd(&p->err_fd);
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (p->cap - p->len < 65536) {
                if (p->cap >= SHIM_LINE_MAX)
                    return fail(p, true, why, why_len, "the shim wrote a line longer than %u bytes", SHIM_LINE_MAX);
                size_t ncap = p->cap ? p->cap * 2 : 131072;
                char *nb = realloc(p->buf, ncap);
                if (nb == NULL)
                    return fail(p, true, why, why_len, "out of memory reading the shim's answer");
                p->buf = nb;
                p->cap = ncap;
            }
            ssize_t n = read(p->out_fd, p->buf + p->len, p->cap - p->len);
            if (n > 0)
                p->len += (size_t)n;
            else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                return fail(p, false, why, why_len, "the shim exited or closed stdout without answering");
        }
    }
}

int shim_proc_stop(struct shim_proc *p)
{
    if (p->pid < 0)
        return 0;
    shutdown(p->in_fd, SHUT_WR);
    /* Let it finish writing; discard what it writes now. */
    int64_t deadline = now_ms() + 3000;
    while (p->out_fd >= 0 && now_ms() < deadline) {
        struct pollfd pf = {p->out_fd, POLLIN, 0};
        if (poll(&pf, 1, 100) > 0) {
            char tmp[4096];
            if (read(p->out_fd, tmp, sizeof tmp) <= 0)
                break;
        }
    }
    drain_stderr(p);
    return reap(p, (int)(deadline > now_ms() ? deadline - now_ms() : 0) + 100);
}

void shim_proc_free(struct shim_proc *p)
{
    if (p == NULL)
        return;
    if (p->pid > 0) {
        kill(-p->pid, SIGKILL);
        reap(p, 1000);
    }
    close_fd(&p->in_fd);
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    free(p->buf);
    free(p->command);
    free(p);
}
