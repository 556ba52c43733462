/* Load test of `mtprobe serve` on loopback (tests/load/README.md).
 *
 * Starts the server on port 0, then at once:
 *   - N honest clients (transports in rotation), each doing the auth-key
 *     exchange and then P pings one after the other;
 *   - B connections of each hostile kind: garbage, half-open (connect and say
 *     nothing), slow writers (one byte per second), oversized length claims,
 *     unknown auth keys, and packet floods.
 * Passes when every honest client got all its pongs, every hostile
 * connection was closed the way it should be (garbage, oversized: closed
 * without a byte; half-open: closed at the idle timeout; slow: closed at the
 * frame timeout; unknown key: -404 then closed; flood: -429 then closed),
 * the server's peak RSS stayed under --max-rss, it never crashed, and it
 * exits 0 on SIGTERM.  Prints one summary line with the figures. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mtp/rsa.h"
#include "mtp/transport.h"
#include "mtps_client.h"

enum kind { HONEST, GARBAGE, HALF_OPEN, SLOW, OVERSIZED, UNKNOWN_KEY, FLOOD, NKINDS };
static const char *const kind_names[NKINDS] = {"honest", "garbage", "half_open", "slow", "oversized", "unknown_key",
                                               "flood"};

struct opts {
    const char *binary;
    unsigned conns, pings, bad, timeout_s, max_rss_mb, flood_pings;
    const char *key;
};

struct run;

struct lconn {
    struct run *run;
    enum kind kind;
    unsigned index;
    struct bufferevent *bev;
    struct event *timer;
    struct mtps_client cl;
    bool has_client;
    unsigned pings_sent;
    bool pinging;
    size_t slow_pos;
    bool closed, ok;
    int32_t transport_error;
    size_t bytes_in;
    double closed_at;
};

struct run {
    struct opts o;
    struct event_base *base;
    struct mtp_rsa_key *key;
    struct mtp_env env;
    uint16_t port;
    struct lconn *conns;
    size_t nconns, open;
    double t0, handshakes_done_at;
    unsigned ready;
    struct event *deadline;
    bool timed_out;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const struct {
    enum mtp_tr_kind kind;
    bool obfs;
} variants[] = {
    {MTP_TR_ABRIDGED, false}, {MTP_TR_INTERMEDIATE, false}, {MTP_TR_PADDED, false}, {MTP_TR_FULL, false},
    {MTP_TR_ABRIDGED, true},  {MTP_TR_INTERMEDIATE, true},  {MTP_TR_PADDED, true},
};

static void finish(struct lconn *c, bool ok)
{
    if (c->closed)
        return;
    c->closed = true;
    c->ok = ok;
    c->closed_at = now_s() - c->run->t0;
    if (c->bev)
        bufferevent_free(c->bev);
    c->bev = NULL;
    if (c->timer)
        event_del(c->timer);
    if (--c->run->open == 0)
        event_base_loopbreak(c->run->base);
}

static void flush_client(struct lconn *c)
{
    if (c->cl.out.len && c->bev) {
        bufferevent_write(c->bev, c->cl.out.p, c->cl.out.len);
        mtp_wr_reset(&c->cl.out);
    }
}

static void honest_progress(struct lconn *c)
{
    struct mtps_client *cl = &c->cl;
    if (cl->state == MTPS_CL_FAILED) {
        fprintf(stderr, "honest %u: client failed: %s\n", c->index, cl->error_text);
        finish(c, false);
        return;
    }
    if (!mtps_client_ready(cl))
        return;
    if (!c->pinging) {
        c->pinging = true;
        c->run->ready++;
        if (c->run->ready == c->run->o.conns)
            c->run->handshakes_done_at = now_s() - c->run->t0;
    }
    if (cl->pongs >= c->run->o.pings) {
        finish(c, cl->pongs == c->run->o.pings && cl->transport_error == 0);
        return;
    }
    /* one ping in flight at a time */
    if (c->pings_sent == cl->pongs) {
        if (mtps_client_ping(cl, c->index * 1000000ull + c->pings_sent, NULL) < 0) {
            finish(c, false);
            return;
        }
        c->pings_sent++;
    }
    flush_client(c);
}

static void on_read(struct bufferevent *bev, void *ctx)
{
    struct lconn *c = ctx;
    struct evbuffer *in = bufferevent_get_input(bev);
    uint8_t buf[65536];
    int n;
    while ((n = evbuffer_remove(in, buf, sizeof buf)) > 0) {
        c->bytes_in += (size_t)n;
        if (c->has_client) {
            struct mtp_error err;
            mtp_error_clear(&err);
            /* A failed client is reported by honest_progress (honest) or by what the server did (hostile). */
            if (mtps_client_feed(&c->cl, buf, (size_t)n, &err) < 0 && c->kind == HONEST)
                fprintf(stderr, "honest %u: %s\n", c->index, err.msg);
            c->transport_error = c->cl.transport_error;
        }
    }
    if (c->has_client)
        flush_client(c);
    if (c->kind == HONEST)
        honest_progress(c);
}

/* The server closed: what each kind expects. */
static void on_event(struct bufferevent *bev, short what, void *ctx)
{
    (void)bev;
    struct lconn *c = ctx;
    if (what & BEV_EVENT_CONNECTED) {
        return;
    }
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
        return;
    double t = now_s() - c->run->t0;
    bool ok;
    switch (c->kind) {
    case HONEST:
        ok = false;
        fprintf(stderr, "honest %u: closed by the server after %u pongs\n", c->index, (unsigned)c->cl.pongs);
        break;
    case GARBAGE:
    case OVERSIZED:
        ok = c->bytes_in == 0;
        break;
    case HALF_OPEN:
    case SLOW:
        ok = c->bytes_in == 0 && t >= 1.0;
        break;
    case UNKNOWN_KEY:
        ok = c->transport_error == -404;
        break;
    case FLOOD:
        ok = c->transport_error == -429;
        break;
    default:
        ok = false;
    }
    if (!ok && c->kind != HONEST)
        fprintf(stderr, "%s %u: closed after %.2f s with %zu bytes, transport error %d%s%s\n", kind_names[c->kind],
                c->index, t, c->bytes_in, (int)c->transport_error, c->has_client ? "; client: " : "",
                c->has_client ? c->cl.error_text : "");
    finish(c, ok);
}

static const uint8_t slow_stream[] = {0xee, 0xee, 0xee, 0xee, 0x28, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

static void on_timer(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct lconn *c = ctx;
    if (c->closed || c->bev == NULL)
        return;
    if (c->kind == SLOW && c->slow_pos < sizeof slow_stream) {
        bufferevent_write(c->bev, &slow_stream[c->slow_pos++], 1);
        struct timeval tv = {1, 0};
        evtimer_add(c->timer, &tv);
    }
}

static int start_conn(struct run *r, struct lconn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    evutil_make_socket_nonblocking(fd);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->bev = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->timer = evtimer_new(r->base, on_timer, c);
    if (c->bev == NULL || c->timer == NULL)
        return -1;
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(r->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&a, sizeof a) < 0)
        return -1;
    r->open++;
    struct mtp_error err;
    mtp_error_clear(&err);
    switch (c->kind) {
    case HONEST:
    case UNKNOWN_KEY:
    case FLOOD: {
        size_t v = c->index % (sizeof variants / sizeof variants[0]);
        struct mtps_client_opts o = {.kind = variants[v].kind, .obfuscated = variants[v].obfs, .dc = 2,
                                     .server_key = r->key, .env = &r->env};
        if (mtps_client_init(&c->cl, &o, &err) < 0)
            return -1;
        c->has_client = true;
        if (c->kind == UNKNOWN_KEY) {
            uint8_t pkt[8 + 16 + 48];
            if (mtp_env_rand(&r->env, pkt, sizeof pkt) < 0 || mtps_client_send_raw(&c->cl, pkt, sizeof pkt, &err) < 0)
                return -1;
        } else if (mtps_client_start(&c->cl, &err) < 0) {
            return -1;
        }
        flush_client(c);
        break;
    }
    case GARBAGE: {
        uint8_t junk[300];
        if (mtp_env_rand(&r->env, junk, sizeof junk) < 0)
            return -1;
        junk[0] = 0x11; /* never a tag */
        bufferevent_write(c->bev, junk, sizeof junk);
        break;
    }
    case OVERSIZED: {
        static const uint8_t big[] = {0xee, 0xee, 0xee, 0xee, 0xf0, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
        bufferevent_write(c->bev, big, sizeof big);
        break;
    }
    case SLOW: {
        struct timeval tv = {0, 1000};
        evtimer_add(c->timer, &tv);
        break;
    }
    default:
        break;
    }
    return 0;
}

/* The flood connections: once their key is made, many pings in separate packets. */
static void flood_check(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct run *r = ctx;
    for (size_t i = 0; i < r->nconns; i++) {
        struct lconn *c = &r->conns[i];
        if (c->kind != FLOOD || c->closed || c->pinging || !mtps_client_ready(&c->cl))
            continue;
        c->pinging = true;
        for (unsigned k = 0; k < r->o.flood_pings; k++) {
            if (mtps_client_ping(&c->cl, k, NULL) < 0)
                break;
            flush_client(c);
        }
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct run *r = ctx;
    r->timed_out = true;
    event_base_loopbreak(r->base);
}

static long peak_rss_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            kb = strtol(line + strlen(field), NULL, 10);
    fclose(f);
    return kb;
}

/* User + system CPU seconds of a live process. */
static double cpu_s(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* fields after the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int usage(void)
{
    fprintf(stderr, "usage: mtps_load --server MTPROBE --key FILE.pem [--conns N] [--pings P] [--bad B]\n"
                    "                 [--flood-pings F] [--timeout S] [--max-rss MB]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct opts o = {.conns = 1000, .pings = 100, .bad = 20, .timeout_s = 120, .max_rss_mb = 256, .flood_pings = 2000};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        unsigned long x = strtoul(v, NULL, 10);
        if (strcmp(a, "--server") == 0)
            o.binary = v;
        else if (strcmp(a, "--key") == 0)
            o.key = v;
        else if (strcmp(a, "--conns") == 0)
            o.conns = (unsigned)x;
        else if (strcmp(a, "--pings") == 0)
            o.pings = (unsigned)x;
        else if (strcmp(a, "--bad") == 0)
            o.bad = (unsigned)x;
        else if (strcmp(a, "--flood-pings") == 0)
            o.flood_pings = (unsigned)x;
        else if (strcmp(a, "--timeout") == 0)
            o.timeout_s = (unsigned)x;
        else if (strcmp(a, "--max-rss") == 0)
            o.max_rss_mb = (unsigned)x;
        else
            return usage();
    }
    if (o.binary == NULL || o.key == NULL || o.conns == 0 || o.pings == 0)
        return usage();
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    /* The server, with short timeouts so that the hostile connections end soon. */
    char dir[] = "/tmp/mtps_load_XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 3;
    char keypath[128], cmd[512];
    snprintf(keypath, sizeof keypath, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", o.key, keypath);
    if (system(cmd) != 0)
        return 3;
    int fds[2];
    if (pipe(fds) < 0)
        return 3;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        int devnull = open("/dev/null", O_WRONLY);
        if (getenv("MTPS_LOAD_LOG") == NULL)
            dup2(devnull, 2);
        execl(o.binary, o.binary, "serve", "--listen", "127.0.0.1:0", "--rsa-key", keypath, "--idle-timeout", "20s",
              "--frame-timeout", "5s", "--flood-packets", "400", "--flood-interval", "1s", "--max-memory", "67108864",
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *sout = fdopen(fds[0], "r");
    char line[256];
    unsigned port = 0;
    if (sout == NULL || fgets(line, sizeof line, sout) == NULL ||
        sscanf(line, "listening 127.0.0.1:%u", &port) != 1) {
        fprintf(stderr, "mtps_load: the server did not start\n");
        return 3;
    }
    long rss_idle = peak_rss_kb(pid, "VmRSS:");

    struct run r = {.o = o, .port = (uint16_t)port, .env = mtp_env_system()};
    size_t len;
    struct mtp_error err;
    mtp_error_clear(&err);
    FILE *kf = fopen(o.key, "r");
    char pem[8192];
    len = kf ? fread(pem, 1, sizeof pem, kf) : 0;
    if (kf)
        fclose(kf);
    if (mtp_rsa_key_from_pem(pem, len, &r.key, &err) < 0) {
        fprintf(stderr, "mtps_load: %s\n", err.msg);
        return 3;
    }
    r.base = event_base_new();
    r.nconns = o.conns + (size_t)o.bad * (NKINDS - 1);
    r.conns = calloc(r.nconns, sizeof *r.conns);
    if (r.base == NULL || r.conns == NULL)
        return 3;
    size_t k = 0;
    for (unsigned i = 0; i < o.conns; i++)
        r.conns[k++] = (struct lconn){.run = &r, .kind = HONEST, .index = i};
    for (int kind = GARBAGE; kind < NKINDS; kind++)
        for (unsigned i = 0; i < o.bad; i++)
            r.conns[k++] = (struct lconn){.run = &r, .kind = (enum kind)kind, .index = i};
    r.t0 = now_s();
    /* Hostile connections first, so that they are in place while the honest ones work. */
    for (size_t i = r.nconns; i-- > 0;)
        if (start_conn(&r, &r.conns[i]) < 0) {
            fprintf(stderr, "mtps_load: cannot open connection %zu\n", i);
            return 3;
        }
    struct timeval dl = {(time_t)o.timeout_s, 0};
    r.deadline = evtimer_new(r.base, on_deadline, &r);
    evtimer_add(r.deadline, &dl);
    struct event *fl = event_new(r.base, -1, EV_PERSIST, flood_check, &r);
    struct timeval ft = {0, 50000};
    event_add(fl, &ft);
    event_base_dispatch(r.base);
    double elapsed = now_s() - r.t0;

    int status = 0;
    bool alive = waitpid(pid, &status, WNOHANG) == 0;
    long rss_peak = peak_rss_kb(pid, "VmHWM:");
    double server_cpu = cpu_s(pid);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double client_cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    unsigned ok[NKINDS] = {0}, total[NKINDS] = {0};
    uint64_t pongs = 0;
    for (size_t i = 0; i < r.nconns; i++) {
        struct lconn *c = &r.conns[i];
        total[c->kind]++;
        ok[c->kind] += c->ok;
        if (c->kind == HONEST)
            pongs += c->cl.pongs;
        if (!c->closed && c->kind != HONEST)
            fprintf(stderr, "%s %u: still open at the end\n", kind_names[c->kind], c->index);
    }
    kill(pid, SIGTERM);
    int exit_status = -1;
    if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        exit_status = WEXITSTATUS(status);
    bool pass = alive && !r.timed_out && exit_status == 0 && rss_peak >= 0 &&
                rss_peak <= (long)o.max_rss_mb * 1024;
    for (int kd = 0; kd < NKINDS; kd++)
        pass = pass && ok[kd] == total[kd];
    printf("load: %s: %u honest x %u pings (%" PRIu64 " pongs), %u of each hostile kind; %.2f s (exchanges done at "
           "%.2f s, %.0f exchanges/s, %.0f pings/s overall); CPU: server %.2f s, load driver %.2f s; "
           "server RSS idle %ld KiB, peak %ld KiB (limit %u MiB); exit %d",
           pass ? "PASS" : "FAIL", o.conns, o.pings, pongs, o.bad, elapsed, r.handshakes_done_at,
           r.handshakes_done_at > 0 ? o.conns / r.handshakes_done_at : 0.0, elapsed > 0 ? pongs / elapsed : 0.0,
           server_cpu, client_cpu, rss_idle, rss_peak, o.max_rss_mb, exit_status);
    for (int kd = 0; kd < NKINDS; kd++)
        printf("; %s %u/%u", kind_names[kd], ok[kd], total[kd]);
    printf("%s\n", r.timed_out ? "; TIMED OUT" : "");
    for (size_t i = 0; i < r.nconns; i++) {
        if (r.conns[i].bev)
            bufferevent_free(r.conns[i].bev);
        if (r.conns[i].timer)
            event_free(r.conns[i].timer);
        if (r.conns[i].has_client)
            mtps_client_free(&r.conns[i].cl);
    }
    free(r.conns);
    event_free(fl);
    event_free(r.deadline);
    event_base_free(r.base);
    mtp_rsa_key_free(r.key);
    fclose(sout);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        pass = false;
    return pass ? 0 : 1;
}
