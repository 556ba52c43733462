#include "mtps_loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mtp/transport.h"
#include "mtps_conn.h"

#define READ_CHUNK 16384
#define IP_BUCKETS 1024
/* Connections accepted beyond max_conns only to be told -429; more are closed unread. */
#define REFUSE_SLACK 64

struct ip_count {
    char ip[INET6_ADDRSTRLEN];
    uint32_t n;
    struct ip_count *next;
};

struct shell;

struct sconn {
    struct mtps_conn c;
    struct shell *sh;
    struct bufferevent *bev;
    struct event *timer;
    struct evbuffer *held;     /* behaviour.split_writes: output not yet handed to the socket */
    struct event *drip;        /* ... and the timer that hands it over, a piece at a time */
    struct ip_count *ip;
    bool shut;                 /* our side is shut down; waiting for the peer's FIN */
    bool peer_eof;             /* the peer's FIN arrived */
    struct sconn *prev, *next;
};

struct shell {
    struct mtps_server *srv;
    struct event_base *base;
    struct evconnlistener *listeners[MTPS_MAX_DCS * 4];
    size_t nlisteners;
    const struct mtps_listen *listens;
    struct ip_count *ips[IP_BUCKETS];
    struct sconn *conns;
};

static size_t ip_hash(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h % IP_BUCKETS;
}

static struct ip_count *ip_get(struct shell *sh, const char *ip)
{
    size_t b = ip_hash(ip);
    for (struct ip_count *e = sh->ips[b]; e; e = e->next)
        if (strcmp(e->ip, ip) == 0)
            return e;
    struct ip_count *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    snprintf(e->ip, sizeof e->ip, "%s", ip);
    e->next = sh->ips[b];
    sh->ips[b] = e;
    return e;
}

static void ip_put(struct shell *sh, struct ip_count *e)
{
    if (e == NULL || --e->n > 0)
        return;
    for (struct ip_count **pp = &sh->ips[ip_hash(e->ip)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            free(e);
            return;
        }
}

static void sconn_free(struct sconn *s)
{
    struct shell *sh = s->sh;
    mtps_conn_free(&s->c);
    if (s->timer)
        event_free(s->timer);
    if (s->drip)
        event_free(s->drip);
    if (s->held)
        evbuffer_free(s->held);
    if (s->bev)
        bufferevent_free(s->bev);
    ip_put(sh, s->ip);
    if (s->prev)
        s->prev->next = s->next;
    else
        sh->conns = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free(s);
}

/* Moves output to the socket, re-arms the timer, closes when the connection is done.
 * Returns false when s was freed. */
static bool pump(struct sconn *s)
{
    size_t len;
    const uint8_t *p = mtps_conn_output(&s->c, &len);
    if (len > 0 && (s->held ? evbuffer_add(s->held, p, len) : bufferevent_write(s->bev, p, len)) < 0)
        mtps_conn_close(&s->c, MTP_ERR_NOMEM, "cannot queue output");
    if (s->held && evbuffer_get_length(s->held) > 0 && !evtimer_pending(s->drip, NULL)) {
        struct timeval now = {0, 0};
        evtimer_add(s->drip, &now);
    }
    size_t queued = evbuffer_get_length(bufferevent_get_output(s->bev)) + (s->held ? evbuffer_get_length(s->held) : 0);
    mtps_conn_sent(&s->c, queued);
    enum mtps_conn_state st = mtps_conn_state(&s->c);
    if (st == MTPS_CONN_CLOSED) {
        sconn_free(s);
        return false;
    }
    if (st == MTPS_CONN_DRAIN && queued == 0 && !s->shut) {
        /* Lingering close: a socket closed with unread input sends RST, and
         * RST makes the peer's kernel drop what it has not read yet (our last
         * answer, the transport error).  So: FIN first, keep reading and
         * discarding, close at the peer's FIN or after the linger time. */
        s->shut = true;
        if (s->peer_eof || shutdown(bufferevent_getfd(s->bev), SHUT_WR) < 0) {
            sconn_free(s);
            return false;
        }
    }
    int64_t now = mtp_env_now_ms(&s->c.srv->env);
    int64_t d = mtps_conn_deadline(&s->c) - now;
    if (d < 0)
        d = 0;
    if (d > 86400000)
        d = 86400000;
    struct timeval tv = {.tv_sec = (time_t)(d / 1000), .tv_usec = (suseconds_t)(d % 1000) * 1000 + 1000};
    evtimer_add(s->timer, &tv);
    return true;
}

static void on_read(struct bufferevent *bev, void *ctx)
{
    struct sconn *s = ctx;
    struct evbuffer *in = bufferevent_get_input(bev);
    uint8_t buf[READ_CHUNK];
    while (mtps_conn_state(&s->c) == MTPS_CONN_OPEN && evbuffer_get_length(in) > 0) {
        int n = evbuffer_remove(in, buf, sizeof buf);
        if (n <= 0)
            break;
        mtps_conn_feed(&s->c, buf, (size_t)n);
    }
    if (mtps_conn_state(&s->c) != MTPS_CONN_OPEN)
        evbuffer_drain(in, evbuffer_get_length(in));
    pump(s);
}

static void on_write(struct bufferevent *bev, void *ctx)
{
    (void)bev;
    pump(ctx);
}

static void on_event(struct bufferevent *bev, short what, void *ctx)
{
    (void)bev;
    struct sconn *s = ctx;
    if (what & BEV_EVENT_ERROR) {
        mtps_conn_close(&s->c, MTP_ERR_IO, "socket error: %s", strerror(EVUTIL_SOCKET_ERROR()));
        sconn_free(s);
        return;
    }
    if (what & BEV_EVENT_EOF) {
        s->peer_eof = true;
        if (s->shut) {
            sconn_free(s); /* both sides are done */
            return;
        }
        mtps_conn_eof(&s->c);
        pump(s);
    }
}

/* behaviour.split_writes: the next piece of the held output goes to the
 * socket (with TCP_NODELAY, its own segment when the pieces are apart). */
static void on_drip(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct sconn *s = ctx;
    const struct mtps_scenario *sc = s->c.srv->scenario;
    size_t n = evbuffer_get_length(s->held);
    if (n > sc->split_writes)
        n = sc->split_writes;
    if (evbuffer_remove_buffer(s->held, bufferevent_get_output(s->bev), n) < 0)
        mtps_conn_close(&s->c, MTP_ERR_NOMEM, "cannot move held output");
    if (evbuffer_get_length(s->held) > 0) {
        struct timeval tv = {.tv_sec = (time_t)(sc->split_delay_ms / 1000),
                             .tv_usec = (suseconds_t)(sc->split_delay_ms % 1000) * 1000};
        evtimer_add(s->drip, &tv);
    }
    pump(s);
}

static void on_timer(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct sconn *s = ctx;
    mtps_conn_tick(&s->c);
    pump(s);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int addrlen, void *ctx)
{
    (void)addrlen;
    struct shell *sh = ctx;
    struct mtps_server *srv = sh->srv;
    size_t li = 0;
    while (li < sh->nlisteners && sh->listeners[li] != l)
        li++;
    char ip[INET6_ADDRSTRLEN] = "?", peer[INET6_ADDRSTRLEN + 8];
    uint16_t port = 0;
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)addr;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    }
    snprintf(peer, sizeof peer, "%s:%u", ip, port);
    if (srv->nconns >= (size_t)srv->limits.max_conns + REFUSE_SLACK) {
        evutil_closesocket(fd);
        return;
    }
    struct ip_count *ipc = ip_get(sh, ip);
    int32_t refuse = 0;
    if (srv->nconns >= srv->limits.max_conns)
        refuse = MTP_TR_ERROR_FLOOD;
    if (ipc && srv->limits.max_conns_per_ip && ipc->n >= srv->limits.max_conns_per_ip)
        refuse = MTP_TR_ERROR_FLOOD;
    struct sconn *s = calloc(1, sizeof *s);
    if (s == NULL || ipc == NULL) {
        free(s);
        if (ipc) {
            ipc->n++;
            ip_put(sh, ipc);
        }
        evutil_closesocket(fd);
        return;
    }
    ipc->n++;
    s->ip = ipc;
    s->sh = sh;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    evutil_make_socket_nonblocking(fd);
    struct mtp_error err;
    mtp_error_clear(&err);
    s->bev = bufferevent_socket_new(sh->base, fd, BEV_OPT_CLOSE_ON_FREE);
    s->timer = evtimer_new(sh->base, on_timer, s);
    bool split = srv->scenario->split_writes > 0;
    if (split) {
        s->held = evbuffer_new();
        s->drip = evtimer_new(sh->base, on_drip, s);
    }
    if (s->bev == NULL || s->timer == NULL || (split && (s->held == NULL || s->drip == NULL)) ||
        mtps_conn_init(&s->c, srv, srv->dcs[sh->listens[li].dc].id, peer, refuse, &err) < 0) {
        if (s->bev == NULL)
            evutil_closesocket(fd);
        if (s->timer)
            event_free(s->timer);
        if (s->drip)
            event_free(s->drip);
        if (s->held)
            evbuffer_free(s->held);
        if (s->bev)
            bufferevent_free(s->bev);
        ip_put(sh, ipc);
        free(s);
        return;
    }
    s->next = sh->conns;
    if (sh->conns)
        sh->conns->prev = s;
    sh->conns = s;
    bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
    pump(s);
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
    (void)what;
    struct shell *sh = ctx;
    mtps_log(&sh->srv->log, 0, "signal %d: shutting down", (int)sig);
    event_base_loopbreak(sh->base);
}

static int bind_all(struct shell *sh, const struct mtps_loop_cfg *cfg, struct mtp_error *err)
{
    for (size_t i = 0; i < cfg->nlistens; i++) {
        const struct mtps_listen *L = &cfg->listens[i];
        struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                        .ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV};
        struct evutil_addrinfo *res = NULL;
        char port[8];
        snprintf(port, sizeof port, "%u", L->port);
        int gai = evutil_getaddrinfo(L->host, port, &hints, &res);
        if (gai != 0 || res == NULL)
            return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s:%u: %s", L->host, L->port,
                                 evutil_gai_strerror(gai));
        struct evconnlistener *l = evconnlistener_new_bind(
            sh->base, on_accept, sh, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 4096,
            res->ai_addr, (int)res->ai_addrlen);
        int e = errno;
        evutil_freeaddrinfo(res);
        if (l == NULL)
            return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s:%u: cannot listen: %s", L->host, L->port,
                                 strerror(e));
        sh->listeners[sh->nlisteners++] = l;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        uint16_t real = L->port;
        if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &sl) == 0) {
            if (ss.ss_family == AF_INET)
                real = ntohs(((const struct sockaddr_in *)(const void *)&ss)->sin_port);
            else if (ss.ss_family == AF_INET6)
                real = ntohs(((const struct sockaddr_in6 *)(const void *)&ss)->sin6_port);
        }
        mtps_server_set_addr(sh->srv, L->dc, L->host, real);
    }
    return MTP_OK;
}

int mtps_loop_run(const struct mtps_loop_cfg *cfg, struct mtp_error *err)
{
    if (cfg->nlistens == 0 || cfg->nlistens > MTPS_MAX_DCS * 4)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "1..%d listening addresses", MTPS_MAX_DCS * 4);
    struct shell sh = {.srv = cfg->srv, .listens = cfg->listens};
    sh.base = event_base_new();
    if (sh.base == NULL)
        return mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "libevent: cannot create an event base");
    struct event *sigint = evsignal_new(sh.base, SIGINT, on_signal, &sh);
    struct event *sigterm = evsignal_new(sh.base, SIGTERM, on_signal, &sh);
    int rc = MTP_OK;
    if (sigint == NULL || sigterm == NULL || evsignal_add(sigint, NULL) < 0 || evsignal_add(sigterm, NULL) < 0) {
        rc = mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "libevent: cannot watch signals");
        goto out;
    }
    MTP_TRY(bind_all(&sh, cfg, err));
    for (size_t i = 0; i < cfg->nlistens; i++) {
        const struct mtps_dc_addr *a = &cfg->srv->dcs[cfg->listens[i].dc];
        char fp[17];
        mtps_fingerprint_hex(cfg->srv->fingerprint, fp);
        const char *h = cfg->listens[i].host;
        bool v6 = strchr(h, ':') != NULL;
        fprintf(cfg->ready, "listening %s%s%s:%u dc %d fingerprint %s\n", v6 ? "[" : "", h, v6 ? "]" : "", a->port,
                (int)a->id, fp);
        mtps_log(&cfg->srv->log, 0, "listening on %s%s%s:%u as dc %d", v6 ? "[" : "", h, v6 ? "]" : "", a->port,
                 (int)a->id);
    }
    fflush(cfg->ready);
    if (event_base_dispatch(sh.base) < 0)
        rc = mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "libevent: the event loop failed");
out:
    while (sh.conns)
        sconn_free(sh.conns);
    for (size_t i = 0; i < sh.nlisteners; i++)
        evconnlistener_free(sh.listeners[i]);
    for (size_t b = 0; b < IP_BUCKETS; b++)
        while (sh.ips[b]) {
            struct ip_count *e = sh.ips[b];
            sh.ips[b] = e->next;
            free(e);
        }
    if (sigint)
        event_free(sigint);
    if (sigterm)
        event_free(sigterm);
    event_base_free(sh.base);
    return rc;
}
