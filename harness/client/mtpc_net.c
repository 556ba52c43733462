/* Blocking-style I/O for the client core: connect, then poll() and move bytes. */
#include "client/mtpc_net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define TICK_MIN_MS 10

int64_t mtpc_net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int poll_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - mtpc_net_now_ms();
    if (left <= 0)
        return 0;
    return left > 60000 ? 60000 : (int)left;
}

int mtpc_net_split(const char *hostport, char *host, size_t host_cap, char *port, size_t port_cap,
                   struct mtp_error *err)
{
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL || colon == hostport || colon[1] == '\0')
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "'%s' is not HOST:PORT", hostport);
    const char *h = hostport;
    size_t hlen = (size_t)(colon - hostport);
    if (h[0] == '[') {
        if (hlen < 3 || h[hlen - 1] != ']')
            return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "'%s': unbalanced [ ] around the address",
                                 hostport);
        h++;
        hlen -= 2;
    }
    size_t plen = strlen(colon + 1);
    if (hlen >= host_cap || plen >= port_cap)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "'%s': host or port too long", hostport);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, colon + 1, plen + 1);
    return MTP_OK;
}

/* One address: MTP_OK with *fd, or errno-style failure text in why. */
static int try_connect(const struct addrinfo *ai, int64_t deadline_ms, int *fd, char *why, size_t why_cap)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0) {
        snprintf(why, why_cap, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            snprintf(why, why_cap, "%s", strerror(errno));
            close(s);
            return -1;
        }
        for (;;) {
            struct pollfd p = {.fd = s, .events = POLLOUT};
            int r = poll(&p, 1, poll_ms(deadline_ms));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                snprintf(why, why_cap, "%s", r == 0 ? "timed out" : strerror(errno));
                close(s);
                return -1;
            }
            break;
        }
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
            snprintf(why, why_cap, "%s", strerror(soerr ? soerr : errno));
            close(s);
            return -1;
        }
    }
    *fd = s;
    return 0;
}

int mtpc_net_connect(const char *host, const char *port, int64_t deadline_ms, int *fd, struct mtp_error *err)
{
    *fd = -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0)
        return mtp_error_set(err, MTP_ERR_CLIENT_CONNECT, MTP_NO_OFFSET, "cannot resolve %s port %s: %s", host, port,
                             gai_strerror(g));
    char why[160] = "no address";
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (mtpc_net_now_ms() >= deadline_ms) {
            snprintf(why, sizeof why, "timed out");
            break;
        }
        if (try_connect(ai, deadline_ms, fd, why, sizeof why) == 0) {
            freeaddrinfo(res);
            return MTP_OK;
        }
    }
    freeaddrinfo(res);
    return mtp_error_set(err, MTP_ERR_CLIENT_CONNECT, MTP_NO_OFFSET, "cannot connect to %s port %s: %s", host, port,
                         why);
}

/* Writes what the core has queued; false when the socket is gone. */
static bool write_some(struct mtpc_client *c, int fd)
{
    size_t len;
    const uint8_t *p = mtpc_output(c, &len);
    if (len == 0)
        return true;
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
        mtpc_output_done(c, (size_t)n);
        return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return true;
    if (mtpc_state(c) == MTPC_RUNNING) {
        if (errno == EPIPE || errno == ECONNRESET)
            mtpc_peer_closed(c);
        else
            mtpc_fail(c, MTP_ERR_IO, "%s: send: %s", mtpc_step_name(mtpc_step(c)), strerror(errno));
    }
    return false;
}

static void read_some(struct mtpc_client *c, int fd, uint8_t *buf, size_t cap)
{
    ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
    if (n > 0) {
        (void)mtpc_feed(c, buf, (size_t)n);
        return;
    }
    if (n == 0 || errno == ECONNRESET) {
        mtpc_peer_closed(c);
        return;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        mtpc_fail(c, MTP_ERR_IO, "%s: recv: %s", mtpc_step_name(mtpc_step(c)), strerror(errno));
}

int mtpc_net_run(struct mtpc_client *c, int fd, int64_t deadline_ms)
{
    int64_t started = mtpc_net_now_ms();
    if (mtpc_step(c) == MTPC_STEP_CONNECT && mtpc_state(c) == MTPC_RUNNING)
        (void)mtpc_start(c);
    uint8_t buf[READ_CHUNK];
    int64_t last_tick = 0;
    for (;;) {
        enum mtpc_state st = mtpc_state(c);
        size_t pending;
        (void)mtpc_output(c, &pending);
        if (st == MTPC_FAILED)
            return mtpc_outcome(c)->error;
        if (mtpc_wants_reconnect(c))
            return MTP_OK;
        if (st == MTPC_DONE && pending == 0)
            return MTP_OK;
        int64_t now = mtpc_net_now_ms();
        if (now >= deadline_ms) {
            /* Done but the final acks did not go out: the answers are in all the same. */
            if (st == MTPC_DONE)
                return MTP_OK;
            mtpc_timeout(c, now - started);
            return mtpc_outcome(c)->error;
        }
        int wait = poll_ms(deadline_ms);
        int64_t tick = mtpc_tick_in_ms(c);
        /* A timer the tick did not move must not make this loop spin. */
        if (tick < TICK_MIN_MS && now - last_tick < TICK_MIN_MS)
            tick = TICK_MIN_MS;
        if (tick < wait)
            wait = (int)tick;
        struct pollfd p = {.fd = fd, .events = (short)((st == MTPC_RUNNING ? POLLIN : 0) | (pending ? POLLOUT : 0))};
        int r = poll(&p, 1, wait);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            mtpc_fail(c, MTP_ERR_IO, "%s: poll: %s", mtpc_step_name(mtpc_step(c)), strerror(errno));
            continue;
        }
        if (r == 0) {
            if (mtpc_tick_in_ms(c) == 0) {
                last_tick = mtpc_net_now_ms();
                (void)mtpc_tick(c);
            }
            continue;
        }
        if ((p.revents & POLLOUT) && !write_some(c, fd) && mtpc_state(c) == MTPC_DONE)
            return MTP_OK;
        if (mtpc_state(c) == MTPC_RUNNING && (p.revents & (POLLIN | POLLHUP | POLLERR)))
            read_some(c, fd, buf, sizeof buf);
        else if (p.revents & (POLLHUP | POLLERR) && mtpc_state(c) == MTPC_DONE)
            return MTP_OK;
    }
}
