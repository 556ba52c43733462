/* The probe's engine: connections, the key exchange with faults, encrypted
 * messages with faults, and the log of both directions (check_probe.h). */
#include "check/check_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/mtpc_call.h"
#include "mtp/aes_ige.h"
#include "mtp/auth_tl.h"
#include "mtp/authcrypt.h"
#include "mtp/dh.h"
#include "mtp/hex.h"
#include "mtp/message.h"
#include "mtp/msgcrypt_v1.h"
#include "mtp/pq.h"
#include "mtp/service.h"

#define OUT_MAX (4u << 20)
#define FRAME_MAX (4u << 20)

int64_t probe_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the run ---- */

int probe_init(struct probe *P, const struct probe_cfg *cfg, const char *events_path, struct mtp_error *err)
{
    memset(P, 0, sizeof *P);
    P->cfg = *cfg;
    P->env = mtp_env_system();
    P->t0_mono = probe_mono_ms();
    MTP_GUARD(mtps_events_open(&P->ev, events_path, &P->env, err));
    P->ev.schema = cfg->schema;
    P->nev = mtps_events_on(&P->ev) ? 1 : 0; /* "start" */
    return MTP_OK;
}

void probe_free(struct probe *P)
{
    mtps_events_close(&P->ev);
}

json_t *probe_ev_new(struct probe *P, const char *ev, uint64_t conn)
{
    return P->quiet ? NULL : mtps_ev_new(&P->ev, ev, conn);
}

size_t probe_emit(struct probe *P, json_t *o)
{
    if (o == NULL)
        return 0;
    size_t i = P->nev++;
    mtps_events_emit(&P->ev, o);
    return i;
}

int probe_fail(struct probe *P, const char *fmt, ...)
{
    if (P->error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(P->error, sizeof P->error, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void probe_must(struct probe *P, int rc, const char *what)
{
    if (rc < 0)
        probe_fail(P, "harness: %s failed (%s)", what, mtp_err_name(rc));
}

/* ---- sockets ---- */

static int connect_to(struct probe *P, int *fd_out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(P->cfg.host, P->cfg.port, &hints, &res);
    if (rc != 0)
        return probe_fail(P, "connect %s:%s: %s", P->cfg.host, P->cfg.port, gai_strerror(rc));
    int fd = -1, last = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (poll(&pfd, 1, (int)P->cfg.wait_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
                soerr == 0)
                break;
            last = soerr ? soerr : ETIMEDOUT;
        } else {
            last = errno;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return probe_fail(P, "connect %s:%s: %s", P->cfg.host, P->cfg.port, strerror(last));
    *fd_out = fd;
    return 0;
}

static void log_close(struct probe_conn *c, const char *by, const char *why)
{
    json_t *o = probe_ev_new(c->P, "close", c->id);
    json_object_set_new(o, "by", json_string(by));
    if (why)
        json_object_set_new(o, "text", json_string(why));
    json_object_set_new(o, "bytes_in", json_integer((json_int_t)c->bytes_in));
    json_object_set_new(o, "bytes_out", json_integer((json_int_t)c->bytes_out));
    probe_emit(c->P, o);
}

/* Writes what is queued; a peer that is gone makes the connection eof. */
static int flush_out(struct probe_conn *c)
{
    size_t off = 0;
    int64_t deadline = probe_mono_ms() + c->P->cfg.wait_ms;
    while (off < c->out.len && !c->eof) {
        ssize_t n = send(c->fd, c->out.p + off, c->out.len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            c->bytes_out += (uint64_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int64_t left = deadline - probe_mono_ms();
            struct pollfd pfd = {c->fd, POLLOUT, 0};
            if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        /* EPIPE, ECONNRESET: the server is gone; what it sent before is still readable. */
        c->eof = true;
        log_close(c, "server", strerror(errno));
    }
    mtp_wr_reset(&c->out);
    return 0;
}

int probe_flush(struct probe_conn *c) { return flush_out(c); }

int probe_open(struct probe *P, struct probe_conn *c, const struct probe_open_opts *o)
{
    static const struct probe_open_opts none;
    if (o == NULL)
        o = &none;
    memset(c, 0, sizeof *c);
    c->P = P;
    c->fd = -1;
    c->id = ++P->next_conn;
    c->raw = o->raw;
    mtp_wr_init_dyn(&c->out, OUT_MAX, NULL);
    mtp_wr_init_dyn(&c->last, OUT_MAX, NULL);
    mtp_wr_init_dyn(&c->last_rx, OUT_MAX, NULL);
    mtp_msgid_gen_init(&c->plain_ids);
    if (connect_to(P, &c->fd) < 0)
        return -1;
    json_t *ev = probe_ev_new(P, "open", c->id);
    char peer[300];
    snprintf(peer, sizeof peer, "%s:%s", P->cfg.host, P->cfg.port);
    json_object_set_new(ev, "peer", json_string(peer));
    json_object_set_new(ev, "dc", json_integer(P->cfg.dc));
    probe_emit(P, ev);
    if (c->raw)
        return 0;
    uint8_t init[MTP_OBFS_INIT_LEN];
    struct mtp_tr_conn_opts to = {
        .side = MTP_TR_CLIENT,
        .kind = P->cfg.kind,
        .obfuscated = P->cfg.obfuscated,
        .secret = o->secret ? *o->secret : P->cfg.secret,
        .dc = o->dc_set ? o->dc : (int16_t)P->cfg.dc,
        .tr = {.max_frame = FRAME_MAX},
        .env = &P->env,
    };
    struct mtp_error err;
    mtp_error_clear(&err);
    if (P->cfg.obfuscated) {
        /* The init is drawn here (or given) so that the log can show it in plaintext. */
        if (o->init) {
            memcpy(init, o->init, sizeof init);
            to.unchecked_init = true;
        } else if (mtp_obfs_make_init(&P->env, P->cfg.kind, to.dc, init, &err) < 0) {
            return probe_fail(P, "obfuscated init: %s", err.msg);
        }
        to.init = init;
    }
    if (mtp_tr_conn_init(&c->tr, &to, &err) < 0)
        return probe_fail(P, "transport: %s", err.msg);
    c->tr_up = true;
    if (mtp_tr_conn_start(&c->tr, &c->out, &err) < 0)
        return probe_fail(P, "transport start: %s", err.msg);
    ev = probe_ev_new(P, "transport", c->id);
    json_object_set_new(ev, "transport", json_string(mtp_tr_kind_name(P->cfg.kind)));
    json_object_set_new(ev, "obfuscated", json_boolean(P->cfg.obfuscated));
    if (P->cfg.obfuscated) {
        mtps_ev_set_hex(ev, "init", init, sizeof init);
        json_object_set_new(ev, "dc_field", json_integer(to.dc));
        if (o->init)
            json_object_set_new(ev, "hostile", json_string("init"));
        if (o->secret)
            json_object_set_new(ev, "hostile", json_string("secret"));
    }
    probe_emit(P, ev);
    return flush_out(c);
}

void probe_close(struct probe_conn *c)
{
    if (c->P == NULL)
        return;
    if (c->fd >= 0) {
        if (!c->eof && !c->closed)
            log_close(c, "client", NULL);
        close(c->fd);
        c->fd = -1;
    }
    c->closed = true;
    if (c->tr_up)
        mtp_tr_conn_free(&c->tr);
    c->tr_up = false;
    mtp_wr_free(&c->out);
    mtp_wr_free(&c->last);
    mtp_wr_free(&c->last_rx);
    c->P = NULL;
}

/* ---- sending ---- */

int probe_send_frame(struct probe_conn *c, const uint8_t *payload, size_t len, const struct probe_frame *f)
{
    if (c->eof || c->fd < 0)
        return 0;
    struct mtp_tr_send m = {.data = payload, .len = len};
    if (f) {
        m.quick_ack = f->quick_ack;
        m.full_bad_crc = f->bad_crc;
        m.full_bad_seq = f->bad_seq;
    }
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_tr_conn_send(&c->tr, &m, &c->out, &err) < 0)
        return probe_fail(c->P, "transport send: %s", err.msg);
    return flush_out(c);
}

int probe_send_raw(struct probe_conn *c, const uint8_t *p, size_t n, const char *what)
{
    json_t *o = probe_ev_new(c->P, "raw", c->id);
    json_object_set_new(o, "dir", json_string("c2s"));
    json_object_set_new(o, "len", json_integer((json_int_t)n));
    mtps_ev_set_hex(o, "bytes", p, n < 64 ? n : 64);
    if (what)
        json_object_set_new(o, "hostile", json_string(what));
    probe_emit(c->P, o);
    if (c->eof || c->fd < 0)
        return 0;
    if (mtp_wr_raw(&c->out, p, n) < 0)
        return probe_fail(c->P, "raw send: %zu bytes do not fit", n);
    return flush_out(c);
}

int probe_send_plain(struct probe_conn *c, const uint8_t *body, size_t len, const char *hostile, size_t *ev)
{
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, len + 64, NULL);
    int rc = mtp_auth_plain_wrap_next(&w, &c->plain_ids, &c->P->env, false, body, len);
    if (rc < 0) {
        mtp_wr_free(&w);
        return probe_fail(c->P, "cannot wrap an unencrypted message");
    }
    uint64_t msg_id = mtp_load_u64(w.p + 8);
    json_t *o = probe_ev_new(c->P, "msg", c->id);
    json_object_set_new(o, "dir", json_string("c2s"));
    json_object_set_new(o, "enc", json_false());
    mtps_ev_set_u64(o, "msg_id", msg_id);
    mtps_ev_set_body(&c->P->ev, o, body, len, msg_id, 0);
    if (hostile)
        json_object_set_new(o, "hostile", json_string(hostile));
    size_t i = probe_emit(c->P, o);
    if (ev)
        *ev = i;
    rc = probe_send_frame(c, w.p, w.len, NULL);
    mtp_wr_free(&w);
    return rc;
}

/* ---- receiving ---- */

void probe_rx_free(struct probe_rx *r)
{
    free(r->data);
    memset(r, 0, sizeof *r);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static void junk(struct probe_conn *c, struct probe_rx *r, const uint8_t *p, size_t n, const char *what,
                 const char *text)
{
    json_t *o = probe_ev_new(c->P, "bad_packet", c->id);
    json_object_set_new(o, "dir", json_string("s2c"));
    json_object_set_new(o, "what", json_string(what));
    json_object_set_new(o, "text", json_string(text));
    json_object_set_new(o, "len", json_integer((json_int_t)n));
    mtps_ev_set_hex(o, "body", p, n < 256 ? n : 256);
    r->kind = PRX_JUNK;
    r->ev = probe_emit(c->P, o);
    r->data = dup_bytes(p, n);
    r->len = n;
}

static void on_frame(struct probe_conn *c, const struct mtp_tr_frame *f, struct probe_rx *r)
{
    struct probe *P = c->P;
    if (f->is_ack) {
        json_t *o = probe_ev_new(P, "quick_ack", c->id);
        json_object_set_new(o, "dir", json_string("s2c"));
        char tok[9];
        snprintf(tok, sizeof tok, "%08x", f->ack_token);
        json_object_set_new(o, "token", json_string(tok));
        r->kind = PRX_QACK;
        r->token = f->ack_token;
        r->ev = probe_emit(P, o);
        return;
    }
    if (f->transport_error) {
        json_t *o = probe_ev_new(P, "transport_error", c->id);
        json_object_set_new(o, "dir", json_string("s2c"));
        json_object_set_new(o, "code", json_integer(f->transport_error));
        r->kind = PRX_TERR;
        r->code = f->transport_error;
        r->ev = probe_emit(P, o);
        return;
    }
    size_t len = f->len;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (P->cfg.kind == MTP_TR_PADDED && mtp_tr_padded_payload_len(f->data, f->len, &len, &err) < 0) {
        junk(c, r, f->data, f->len, "padded frame", err.msg);
        return;
    }
    if (len < 8) {
        junk(c, r, f->data, len, "frame", "shorter than an auth_key_id");
        return;
    }
    if (mtp_load_u64(f->data) == 0) {
        struct mtp_auth_plain pm;
        if (mtp_auth_plain_unwrap(f->data, len, &pm, &err) < 0) {
            junk(c, r, f->data, len, "unencrypted message", err.msg);
            return;
        }
        json_t *o = probe_ev_new(P, "msg", c->id);
        json_object_set_new(o, "dir", json_string("s2c"));
        json_object_set_new(o, "enc", json_false());
        mtps_ev_set_u64(o, "msg_id", (uint64_t)pm.msg_id);
        mtps_ev_set_body(&P->ev, o, pm.body, pm.body_len, (uint64_t)pm.msg_id, 0);
        r->kind = PRX_PLAIN;
        r->ev = probe_emit(P, o);
        r->msg_id = (uint64_t)pm.msg_id;
        r->data = dup_bytes(pm.body, pm.body_len);
        r->len = pm.body_len;
        r->body = r->data;
        r->body_len = r->len;
        return;
    }
    mtp_wr_reset(&c->last_rx);
    PROBE_MUST(P, mtp_wr_raw(&c->last_rx, f->data, len));
    c->last_rx_msg_id = 0;
    if (c->key == NULL || memcmp(f->data, c->key->id, 8) != 0) {
        junk(c, r, f->data, len, "encrypted message", "an auth_key_id the probe does not hold");
        return;
    }
    struct mtp_wr plain;
    mtp_wr_init_dyn(&plain, len + 16, NULL);
    int rc = mtp_msgcrypt_decrypt(c->key->mc, MTP_SENDER_SERVER, f->data, len, &plain, &err);
    if (rc < 0) {
        mtp_wr_free(&plain);
        junk(c, r, f->data, len, "encrypted message", err.msg);
        return;
    }
    json_t *o = probe_ev_new(P, "msg", c->id);
    json_object_set_new(o, "dir", json_string("s2c"));
    json_object_set_new(o, "enc", json_true());
    mtps_ev_set_inner(&P->ev, o, mtp_load_u64(c->key->id), plain.p, plain.len);
    r->kind = PRX_ENC;
    r->ev = probe_emit(P, o);
    r->len = plain.len;
    r->data = mtp_wr_take(&plain, &r->len);
    mtp_wr_free(&plain);
    if (r->data == NULL) {
        r->kind = PRX_JUNK;
        return;
    }
    r->salt = mtp_load_u64(r->data);
    r->session_id = mtp_load_u64(r->data + 8);
    r->msg_id = mtp_load_u64(r->data + 16);
    r->seqno = (int32_t)mtp_load_u32(r->data + 24);
    r->body = r->data + 32;
    r->body_len = mtp_load_u32(r->data + 28); /* within the plaintext: the decryption checked it */
    c->last_rx_msg_id = r->msg_id;
}

int probe_recv(struct probe_conn *c, int64_t deadline, struct probe_rx *r)
{
    memset(r, 0, sizeof *r);
    if (c->raw) {
        /* Raw connections only learn whether the server answers at all. */
        for (;;) {
            if (c->eof) {
                r->kind = PRX_CLOSED;
                return 0;
            }
            int64_t left = deadline - probe_mono_ms();
            struct pollfd pfd = {c->fd, POLLIN, 0};
            if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
                r->kind = PRX_TIMEOUT;
                return 0;
            }
            ssize_t n = recv(c->fd, c->buf, sizeof c->buf, 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                c->eof = true;
                log_close(c, "server", n < 0 ? strerror(errno) : NULL);
                r->kind = PRX_CLOSED;
                return 0;
            }
            c->bytes_in += (uint64_t)n;
            json_t *o = probe_ev_new(c->P, "raw", c->id);
            json_object_set_new(o, "dir", json_string("s2c"));
            json_object_set_new(o, "len", json_integer((json_int_t)n));
            mtps_ev_set_hex(o, "bytes", c->buf, n < 64 ? (size_t)n : 64);
            r->kind = PRX_JUNK;
            r->ev = probe_emit(c->P, o);
            r->data = dup_bytes(c->buf, (size_t)n);
            r->len = (size_t)n;
            return 0;
        }
    }
    for (;;) {
        if (c->tr_up && c->fed) {
            struct mtp_tr_frame f;
            struct mtp_error err;
            mtp_error_clear(&err);
            int rc = mtp_tr_conn_next(&c->tr, &f, &err);
            if (rc == MTP_OK) {
                on_frame(c, &f, r);
                return 0;
            }
            if (rc != MTP_ERR_NEED_MORE) {
                /* The server's stream broke the framing: nothing more can be read from it. */
                json_t *o = probe_ev_new(c->P, "bad_packet", c->id);
                json_object_set_new(o, "dir", json_string("s2c"));
                json_object_set_new(o, "what", json_string("transport"));
                json_object_set_new(o, "text", json_string(err.msg));
                r->kind = PRX_JUNK;
                r->ev = probe_emit(c->P, o);
                mtp_tr_conn_free(&c->tr);
                c->tr_up = false;
                return 0;
            }
        }
        if (c->eof || c->fd < 0) {
            r->kind = PRX_CLOSED;
            return 0;
        }
        int64_t left = deadline - probe_mono_ms();
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
            r->kind = PRX_TIMEOUT;
            return 0;
        }
        ssize_t n = recv(c->fd, c->buf, sizeof c->buf, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            c->eof = true;
            log_close(c, "server", n < 0 ? strerror(errno) : NULL);
            r->kind = PRX_CLOSED;
            return 0;
        }
        c->bytes_in += (uint64_t)n;
        for (ssize_t i = 0; i < n && c->nfirst < sizeof c->first; i++)
            c->first[c->nfirst++] = c->buf[i];
        if (!c->tr_up)
            continue; /* after a broken frame: read until the server closes */
        mtp_tr_conn_feed(&c->tr, c->buf, (size_t)n);
        c->fed = true;
    }
}

/* ---- numbers (big-endian, 256 bytes) ---- */

static void be_add(uint8_t a[257], const uint8_t b[257], int sign)
{
    int carry = 0;
    for (int i = 256; i >= 0; i--) {
        int v = a[i] + sign * b[i] + carry;
        carry = v < 0 ? -1 : v > 255 ? 1 : 0;
        a[i] = (uint8_t)(v & 0xff);
    }
    /* A borrow out of the top makes the value negative: 0xff in a[0] from 0 marks it. */
    if (carry < 0)
        a[0] = 0xff;
}

static const char *term(const char *s, const uint8_t p[256], uint8_t t[257])
{
    memset(t, 0, 257);
    if (*s == 'p') {
        memcpy(t + 1, p, 256);
        return s + 1;
    }
    if (s[0] == '2' && s[1] == '^') {
        char *end;
        long n = strtol(s + 2, &end, 10);
        if (end == s + 2 || n < 0 || n > 2055)
            return NULL;
        t[256 - n / 8] = (uint8_t)(1u << (n % 8));
        return end;
    }
    if (*s >= '0' && *s <= '9') {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        for (int i = 256; i >= 249; i--, v >>= 8)
            t[i] = (uint8_t)(v & 0xff);
        return end;
    }
    return NULL;
}

int probe_num_expr(const char *expr, const uint8_t p[256], uint8_t out[256])
{
    uint8_t acc[257], t[257];
    const char *s = term(expr, p, acc);
    while (s && *s) {
        int sign = *s == '+' ? 1 : *s == '-' ? -1 : 0;
        if (sign == 0)
            return -1;
        s = term(s + 1, p, t);
        if (s)
            be_add(acc, t, sign);
    }
    if (s == NULL || acc[0] != 0)
        return -1;
    memcpy(out, acc + 1, 256);
    return 0;
}

/* ---- the key exchange ---- */

void probe_key_free(struct probe_key *k)
{
    mtp_msgcrypt_del(k->mc);
    mtp_wipe(k, sizeof *k);
}

void probe_hs_free(struct probe_hs *h)
{
    probe_rx_free(&h->answer);
    mtp_wipe(h, sizeof *h);
}

static void flip(uint8_t *p) { p[0] ^= 1; }

/* Waits for the server's next unencrypted answer; anything else ends the wait. */
static void await_answer(struct probe_conn *c, struct probe_rx *r)
{
    int64_t deadline = probe_mono_ms() + c->P->cfg.wait_ms;
    for (;;) {
        probe_rx_free(r);
        if (probe_recv(c, deadline, r) < 0 || r->kind != PRX_QACK)
            return;
    }
}

/* RSA_PAD (auth_key 4.1) with the faults a case asks for: the wrong SHA256
 * must be built by hand, the library only makes correct paddings. */
static int rsa_pad(struct probe *P, const uint8_t *data, size_t len, const struct probe_hs_faults *f, uint8_t out[256],
                   size_t *out_len)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    const struct mtp_rsa_key *k = P->cfg.rsa;
    *out_len = 256;
    if (f->rsa_range) {
        size_t nl;
        if (mtp_rsa_key_n(k, out, 256, &nl, &err) < 0 || nl != 256)
            return probe_fail(P, "RSA modulus: %s", err.msg);
        return 0; /* the modulus itself: not below n */
    }
    if (!f->rsa_hash) {
        if (mtp_rsa_pad_encrypt_env(k, &P->env, data, len, out, &err) < 0)
            return probe_fail(P, "RSA_PAD: %s", err.msg);
        if (f->rsa_garbage)
            out[255] ^= 1;
        if (f->rsa_short) {
            memmove(out, out + 1, 255);
            *out_len = 255;
        }
        return 0;
    }
    uint8_t n[256];
    size_t nl;
    if (len > 144 || mtp_rsa_key_n(k, n, sizeof n, &nl, &err) < 0 || nl != 256)
        return probe_fail(P, "RSA_PAD by hand: bad data or modulus");
    for (int tries = 0; tries < 64; tries++) {
        uint8_t dwp[192], temp_key[32], buf[32 + 192], dwh[224], aes[224], kae[256], h[32];
        memcpy(dwp, data, len);
        if (mtp_env_rand(&P->env, dwp + len, sizeof dwp - len) < 0 || mtp_env_rand(&P->env, temp_key, 32) < 0)
            return probe_fail(P, "no randomness");
        for (size_t i = 0; i < 192; i++)
            dwh[i] = dwp[191 - i];
        memcpy(buf, temp_key, 32);
        memcpy(buf + 32, dwp, 192);
        mtp_authcrypt_sha256(buf, sizeof buf, dwh + 192);
        dwh[192] ^= 0x80; /* the case's point: SHA256(temp_key + data_with_padding) is wrong */
        static const uint8_t zero_iv[32];
        if (mtp_aes_ige_encrypt(temp_key, 32, zero_iv, dwh, aes, sizeof aes, &err) < 0)
            return probe_fail(P, "AES-IGE: %s", err.msg);
        mtp_authcrypt_sha256(aes, sizeof aes, h);
        for (int i = 0; i < 32; i++)
            kae[i] = temp_key[i] ^ h[i];
        memcpy(kae + 32, aes, sizeof aes);
        if (memcmp(kae, n, 256) >= 0)
            continue;
        if (mtp_rsa_raw_public(k, kae, out, &err) < 0)
            return probe_fail(P, "RSA: %s", err.msg);
        return 0;
    }
    return probe_fail(P, "RSA_PAD by hand: no value below the modulus");
}

static size_t be_trim(uint8_t *b, size_t n)
{
    size_t z = 0;
    while (z + 1 < n && b[z] == 0)
        z++;
    memmove(b, b + z, n - z);
    return n - z;
}

static bool step2_fault(const struct probe_hs_faults *f)
{
    return f->req_dh_nonce || f->req_dh_server_nonce || f->p_q_swapped || f->p_wrong || f->q_wrong ||
           f->fingerprint || f->rsa_garbage || f->rsa_hash || f->rsa_range || f->rsa_short || f->inner_nonce ||
           f->inner_server_nonce || f->inner_pq || f->inner_new_nonce_pq;
}

static bool step3_fault(const struct probe_hs_faults *f)
{
    return f->set_nonce || f->set_server_nonce || f->new_nonce_changed || f->cinner_hash || f->cinner_padding16 ||
           f->cinner_unaligned || f->cinner_nonce || f->cinner_server_nonce || f->cinner_retry_id || f->g_b;
}

/* client_DH_inner_data's envelope, SHA1 + data + padding under the temporary
 * key, with the faults (by hand: the library only makes correct ones). */
static int seal_client_inner(struct probe *P, const struct probe_hs *h, const struct probe_hs_faults *f,
                             const uint8_t *data, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t buf[1024];
    if (20 + len + 32 > sizeof buf || 20 + len + 32 > cap)
        return probe_fail(P, "client_DH_inner_data too long");
    mtp_authcrypt_sha1(data, len, buf);
    if (f->cinner_hash)
        buf[0] ^= 1;
    memcpy(buf + 20, data, len);
    size_t n = 20 + len;
    size_t pad = (16 - n % 16) % 16;
    if (f->cinner_padding16)
        pad += 16;
    if (mtp_env_rand(&P->env, buf + n, pad) < 0)
        return probe_fail(P, "no randomness");
    n += pad;
    uint8_t key[32], iv[32];
    memcpy(key, h->tmp_key, 32);
    memcpy(iv, h->tmp_iv, 32);
    if (f->new_nonce_changed) {
        uint8_t other[32];
        memcpy(other, h->new_nonce, 32);
        other[31] ^= 0x55;
        mtp_authcrypt_tmp_aes(other, h->server_nonce, key, iv);
    }
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtp_aes_ige_encrypt(key, 32, iv, buf, out, n, &err);
    mtp_wipe(key, sizeof key);
    mtp_wipe(iv, sizeof iv);
    if (rc < 0)
        return probe_fail(P, "AES-IGE: %s", err.msg);
    if (f->cinner_unaligned) {
        memset(out + n, 0, 4);
        n += 4;
    }
    *out_len = n;
    return 0;
}

static void log_key(struct probe_conn *c, const struct probe_key *k, const struct probe_hs *h)
{
    json_t *o = probe_ev_new(c->P, "key", c->id);
    mtps_ev_set_hex(o, "auth_key_id", k->id, 8);
    mtps_ev_set_wire64(o, "server_salt", k->salt);
    json_object_set_new(o, "server_time", json_integer(h->server_time));
    json_object_set_new(o, "first_byte", json_integer(k->auth_key[0]));
    probe_emit(c->P, o);
}

static int expect_ctor(struct probe *P, const struct probe_rx *r, uint32_t want, const char *step)
{
    if (r->kind == PRX_PLAIN && r->len >= 4 && mtp_load_u32(r->data) == want)
        return 0;
    static const char *const kinds[] = {"nothing", "a close", "a transport error", "a quick ack", "an unencrypted message",
                                        "an encrypted message", "an undecodable frame"};
    if (r->kind == PRX_TERR)
        return probe_fail(P, "%s: the server answered transport error %d", step, (int)r->code);
    return probe_fail(P, "%s: the server answered %s", step, kinds[r->kind]);
}

int probe_exchange(struct probe_conn *c, const struct probe_hs_faults *f, struct probe_hs *h, struct probe_key *k)
{
    static const struct probe_hs_faults none;
    struct probe *P = c->P;
    if (f == NULL)
        f = &none;
    memset(h, 0, sizeof *h);
    memset(k, 0, sizeof *k);
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t buf[2048];
    struct mtp_wr w;

    /* 1) req_pq_multi -> resPQ */
    struct mtp_auth_req_pq rq = {.multi = true};
    if (mtp_env_rand(&P->env, rq.nonce, 16) < 0)
        return probe_fail(P, "no randomness");
    memcpy(h->nonce, rq.nonce, 16);
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    if (mtp_auth_tl_write_req_pq(&w, &rq) < 0 || probe_send_plain(c, w.p, w.len, NULL, NULL) < 0)
        return -1;
    h->step = PHS_REQ_PQ;
    await_answer(c, &h->answer);
    if (expect_ctor(P, &h->answer, MTP_AUTH_ID_RES_PQ, "req_pq_multi") < 0)
        return -1;
    struct mtp_auth_res_pq rp;
    struct mtp_rd r;
    mtp_rd_init(&r, h->answer.data, h->answer.len, &err);
    if (mtp_auth_tl_read_res_pq(&r, &rp) < 0)
        return probe_fail(P, "resPQ: %s", err.msg);
    if (mtp_ct_memcmp(rp.nonce, h->nonce, 16) != 0)
        return probe_fail(P, "resPQ.nonce is not the probe's");
    memcpy(h->server_nonce, rp.server_nonce, 16);
    uint8_t fp[8];
    if (mtp_rsa_key_fingerprint(P->cfg.rsa, fp, &err) < 0)
        return probe_fail(P, "fingerprint: %s", err.msg);
    bool offered = false;
    for (uint32_t i = 0; i < rp.n_fingerprints; i++)
        offered |= memcmp(rp.fingerprints[i], fp, 8) == 0;
    if (!offered)
        return probe_fail(P, "resPQ does not offer the fingerprint of the given RSA key");
    uint64_t p, q;
    if (mtp_pq_factor_be(rp.pq.p, rp.pq.len, &p, &q, &err) < 0)
        return probe_fail(P, "resPQ.pq: %s", err.msg);
    uint8_t pq[8], pb[8], qb[8];
    size_t pql = rp.pq.len < 8 ? rp.pq.len : 8;
    memcpy(pq, rp.pq.p, pql);
    if (f->p_wrong)
        p += 2;
    if (f->q_wrong)
        q += 2;
    if (f->p_q_swapped) {
        uint64_t t = p;
        p = q;
        q = t;
    }
    size_t pl = mtp_pq_to_be(p, pb), ql = mtp_pq_to_be(q, qb);
    probe_rx_free(&h->answer);

    /* 4) req_DH_params with p_q_inner_data_dc under RSA_PAD */
    if (mtp_env_rand(&P->env, h->new_nonce, 32) < 0)
        return probe_fail(P, "no randomness");
    struct mtp_auth_pq_inner in = {
        .form = f->temp ? MTP_AUTH_INNER_TEMP_DC : MTP_AUTH_INNER_DC,
        .pq = {pq, pql},
        .p = {pb, pl},
        .q = {qb, ql},
        .dc = f->dc ? f->dc : P->cfg.dc,
        .expires_in = f->temp ? 3600 : 0,
    };
    uint8_t pq_other[9];
    if (f->inner_pq) {
        memcpy(pq_other, pq, pql);
        pq_other[pql - 1] ^= 2;
        in.pq = (struct mtp_auth_bytes){pq_other, pql};
    }
    memcpy(in.nonce, h->nonce, 16);
    memcpy(in.server_nonce, h->server_nonce, 16);
    memcpy(in.new_nonce, h->new_nonce, 32);
    if (f->inner_nonce)
        flip(in.nonce);
    if (f->inner_server_nonce)
        flip(in.server_nonce);
    uint8_t inner[256];
    struct mtp_wr iw;
    mtp_wr_init_fixed(&iw, inner, sizeof inner, NULL);
    if (mtp_auth_tl_write_pq_inner(&iw, &in) < 0)
        return probe_fail(P, "p_q_inner_data does not fit");
    uint8_t ed[256];
    size_t edl;
    if (rsa_pad(P, inner, iw.len, f, ed, &edl) < 0)
        return -1;
    mtp_wipe(inner, sizeof inner);
    struct mtp_auth_req_dh_params dq = {.p = {pb, pl}, .q = {qb, ql}, .encrypted_data = {ed, edl}};
    memcpy(dq.nonce, h->nonce, 16);
    memcpy(dq.server_nonce, h->server_nonce, 16);
    memcpy(dq.fingerprint, fp, 8);
    if (f->req_dh_nonce)
        flip(dq.nonce);
    if (f->req_dh_server_nonce)
        flip(dq.server_nonce);
    if (f->fingerprint)
        flip(dq.fingerprint);
    mtp_wr_init_fixed(&w, h->req_dh, sizeof h->req_dh, NULL);
    if (mtp_auth_tl_write_req_dh_params(&w, &dq) < 0)
        return probe_fail(P, "req_DH_params does not fit");
    h->req_dh_len = w.len;
    bool hostile2 = step2_fault(f);
    h->step = PHS_REQ_DH;
    if (probe_send_plain(c, h->req_dh, h->req_dh_len, hostile2 ? "req_DH_params" : NULL, &h->hostile_ev) < 0)
        return -1;
    await_answer(c, &h->answer);
    if (hostile2)
        return 1;
    if (expect_ctor(P, &h->answer, MTP_AUTH_ID_SERVER_DH_PARAMS_OK, "req_DH_params") < 0)
        return -1;
    h->hostile_ev = 0;

    /* 6) server_DH_params_ok: the answer under the temporary key */
    struct mtp_auth_server_dh_params sp;
    mtp_rd_init(&r, h->answer.data, h->answer.len, &err);
    if (mtp_auth_tl_read_server_dh_params(&r, &sp) < 0 || !sp.ok)
        return probe_fail(P, "server_DH_params_ok: %s", err.msg);
    if (mtp_ct_memcmp(sp.nonce, h->nonce, 16) != 0 || mtp_ct_memcmp(sp.server_nonce, h->server_nonce, 16) != 0)
        return probe_fail(P, "server_DH_params_ok: the nonces are not the run's");
    mtp_authcrypt_tmp_aes(h->new_nonce, h->server_nonce, h->tmp_key, h->tmp_iv);
    uint8_t ans[MTP_AUTHCRYPT_INNER_MAX];
    if (mtp_authcrypt_inner_decrypt(h->tmp_key, h->tmp_iv, sp.encrypted_answer.p, sp.encrypted_answer.len, ans,
                                    sizeof ans, &err) < 0)
        return probe_fail(P, "encrypted_answer: %s", err.msg);
    struct mtp_auth_server_inner si;
    mtp_rd_init(&r, ans + 20, sp.encrypted_answer.len - 20, &err);
    if (mtp_auth_tl_read_server_inner(&r, &si) < 0 ||
        mtp_authcrypt_inner_check(ans, sp.encrypted_answer.len, r.pos, &err) < 0)
        return probe_fail(P, "server_DH_inner_data: %s", err.msg);
    if (si.dh_prime.len != 256 || si.g_a.len > 256)
        return probe_fail(P, "server_DH_inner_data: a %zu-byte dh_prime", si.dh_prime.len);
    memcpy(h->dh_prime, si.dh_prime.p, 256);
    memset(h->g_a, 0, sizeof h->g_a);
    memcpy(h->g_a + 256 - si.g_a.len, si.g_a.p, si.g_a.len);
    h->g_a_len = 256;
    h->g = si.g;
    h->server_time = si.server_time;
    k->offset_ms = (int64_t)si.server_time * 1000 - mtp_env_now_ms(&P->env);
    probe_rx_free(&h->answer);

    /* 7) set_client_DH_params */
    uint8_t g_b[256];
    if (mtp_dh_keypair(&P->env, h->dh_prime, 256, h->g, h->b, g_b, &err) < 0)
        return probe_fail(P, "g_b: %s", err.msg);
    struct mtp_auth_client_inner ci = {.g_b = {g_b, 256}};
    memcpy(ci.nonce, h->nonce, 16);
    memcpy(ci.server_nonce, h->server_nonce, 16);
    if (f->cinner_nonce)
        flip(ci.nonce);
    if (f->cinner_server_nonce)
        flip(ci.server_nonce);
    if (f->cinner_retry_id)
        ci.retry_id[0] = 1;
    if (f->g_b) {
        /* Minimal big-endian bytes, as a client serialises its number. */
        memcpy(g_b, f->g_b, 256);
        ci.g_b = (struct mtp_auth_bytes){g_b, be_trim(g_b, 256)};
    }
    uint8_t cin[512];
    mtp_wr_init_fixed(&iw, cin, sizeof cin, NULL);
    if (mtp_auth_tl_write_client_inner(&iw, &ci) < 0)
        return probe_fail(P, "client_DH_inner_data does not fit");
    uint8_t sealed[640];
    size_t sl = 0;
    if (seal_client_inner(P, h, f, cin, iw.len, sealed, sizeof sealed, &sl) < 0)
        return -1;
    struct mtp_auth_set_client_dh sd = {.encrypted_data = {sealed, sl}};
    memcpy(sd.nonce, h->nonce, 16);
    memcpy(sd.server_nonce, h->server_nonce, 16);
    if (f->set_nonce)
        flip(sd.nonce);
    if (f->set_server_nonce)
        flip(sd.server_nonce);
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    if (mtp_auth_tl_write_set_client_dh(&w, &sd) < 0)
        return probe_fail(P, "set_client_DH_params does not fit");
    bool hostile3 = step3_fault(f);
    h->step = PHS_SET_DH;
    if (probe_send_plain(c, w.p, w.len, hostile3 ? "set_client_DH_params" : NULL, &h->hostile_ev) < 0)
        return -1;
    await_answer(c, &h->answer);
    if (hostile3)
        return 1;
    h->hostile_ev = 0;
    if (expect_ctor(P, &h->answer, MTP_AUTH_ID_DH_GEN_OK, "set_client_DH_params") < 0)
        return -1;

    /* 9) dh_gen_ok: the key */
    struct mtp_auth_dh_gen dg;
    mtp_rd_init(&r, h->answer.data, h->answer.len, &err);
    if (mtp_auth_tl_read_dh_gen(&r, &dg) < 0)
        return probe_fail(P, "dh_gen_ok: %s", err.msg);
    if (mtp_dh_shared(h->dh_prime, 256, h->g_a, 256, h->b, k->auth_key, &err) < 0)
        return probe_fail(P, "auth_key: %s", err.msg);
    uint8_t hash1[16];
    if (mtp_authcrypt_new_nonce_hash_key(h->new_nonce, 1, k->auth_key, hash1, &err) < 0 ||
        mtp_ct_memcmp(hash1, dg.new_nonce_hash, 16) != 0)
        return probe_fail(P, "dh_gen_ok.new_nonce_hash1 is not the key's");
    mtp_auth_key_id(k->auth_key, k->id);
    uint8_t salt[8];
    mtp_authcrypt_server_salt(h->new_nonce, h->server_nonce, salt);
    k->salt = mtp_load_u64(salt);
    if (mtp_msgcrypt_new(k->auth_key, &k->mc, &err) < 0)
        return probe_fail(P, "msgcrypt: %s", err.msg);
    probe_rx_free(&h->answer);
    h->step = PHS_DONE;
    c->key = k;
    log_key(c, k, h);
    return 0;
}

/* ---- sessions ---- */

void probe_sess_init(struct probe *P, struct probe_sess *s, struct probe_key *k)
{
    memset(s, 0, sizeof *s);
    s->k = k;
    while (s->session_id == 0)
        if (mtp_env_rand(&P->env, &s->session_id, sizeof s->session_id) < 0)
            break;
    mtp_msgid_gen_init(&s->ids);
    s->ids.offset_ms = k->offset_ms;
    s->ids.synced = true;
}

uint64_t probe_next_msg_id(struct probe *P, struct probe_sess *s)
{
    return mtp_msgid_next(&s->ids, mtp_env_now_ms(&P->env), MTP_MSGID_CLIENT);
}

int64_t probe_server_now(struct probe *P, const struct probe_key *k) { return mtp_env_now_ms(&P->env) + k->offset_ms; }

const uint8_t *probe_last_packet(const struct probe_conn *c, size_t *len)
{
    *len = c->last.len;
    return c->last.p;
}

/* A packet whose msg_key has one bit flipped, encrypted under the key and iv
 * that the flipped msg_key derives: the server decrypts it to the intended
 * plaintext, and only the msg_key comparison can tell (flipping a bit of a
 * correct packet would instead give a garbage plaintext, which other checks
 * could catch first). */
static int encrypt_flipped(const uint8_t *auth_key, const uint8_t *plain, size_t len, struct mtp_wr *out,
                           struct mtp_error *err)
{
    uint8_t id[8], msg_key[16], key[32], iv[32];
    uint8_t *ct = NULL;
    mtp_auth_key_id(auth_key, id);
    int rc = mtp_msg_key(auth_key, MTP_SENDER_CLIENT, plain, len, msg_key, err);
    msg_key[15] ^= 0x01;
    if (rc == MTP_OK)
        rc = mtp_msg_kdf(auth_key, MTP_SENDER_CLIENT, msg_key, key, iv);
    if (rc == MTP_OK)
        rc = mtp_wr_raw(out, id, sizeof id);
    if (rc == MTP_OK)
        rc = mtp_wr_raw(out, msg_key, sizeof msg_key);
    if (rc == MTP_OK)
        rc = mtp_wr_reserve(out, len, &ct);
    if (rc == MTP_OK)
        rc = mtp_aes_ige_encrypt(key, sizeof key, iv, plain, ct, len, err);
    mtp_wipe(key, sizeof key);
    mtp_wipe(iv, sizeof iv);
    return rc;
}

int probe_send_msg(struct probe_conn *c, struct probe_sess *s, const struct probe_msg *m, uint64_t *msg_id_out,
                   size_t *ev_out)
{
    struct probe *P = c->P;
    struct probe_key *k = s->k;
    uint64_t msg_id = m->msg_id ? m->msg_id : probe_next_msg_id(P, s);
    int32_t seqno = m->seqno_set ? m->seqno : (int32_t)(2 * s->content + (m->content ? 1 : 0));
    if (!m->seqno_set && m->content)
        s->content++;
    size_t pad = m->padding ? (size_t)m->padding : mtp_msg_padding_len(m->len, 0);
    if (m->mtproto1)
        pad = (16 - (32 + m->len) % 16) % 16;
    size_t total = 32 + m->len + pad;
    if (total % 16 != 0)
        return probe_fail(P, "a %zu-byte body with %zu bytes of padding is not a multiple of 16", m->len, pad);
    struct mtp_wr pw;
    mtp_wr_init_dyn(&pw, total + 16, NULL);
    PROBE_MUST(P, mtp_wr_u64(&pw, m->salt_set ? m->salt : k->salt));
    PROBE_MUST(P, mtp_wr_u64(&pw, m->session_set ? m->session_id : s->session_id));
    PROBE_MUST(P, mtp_wr_u64(&pw, msg_id));
    PROBE_MUST(P, mtp_wr_i32(&pw, seqno));
    PROBE_MUST(P, mtp_wr_u32(&pw, m->length_set ? m->length : (uint32_t)m->len));
    PROBE_MUST(P, mtp_wr_raw(&pw, m->body, m->len));
    uint8_t *padp = NULL;
    if (mtp_wr_reserve(&pw, pad, &padp) < 0 || mtp_wr_status(&pw) < 0 || mtp_env_rand(&P->env, padp, pad) < 0) {
        mtp_wr_free(&pw);
        return probe_fail(P, "cannot build a %zu-byte plaintext", total);
    }
    /* The log shows the plaintext as the server will find it. */
    uint8_t other_key[256];
    const uint8_t *key = k->auth_key;
    if (m->unknown_key) {
        if (mtp_env_rand(&P->env, other_key, sizeof other_key) < 0) {
            mtp_wr_free(&pw);
            return probe_fail(P, "no randomness");
        }
        key = other_key;
    }
    uint8_t kid[8];
    mtp_auth_key_id(key, kid);
    c->qack_token = 0;
    if (m->frame.quick_ack &&
        mtp_tr_quick_ack_compute(key, MTP_TR_CLIENT, pw.p, pw.len, &c->qack_token) < 0)
        c->qack_token = 0;
    json_t *o = probe_ev_new(P, "msg", c->id);
    json_object_set_new(o, "dir", json_string("c2s"));
    json_object_set_new(o, "enc", json_true());
    mtps_ev_set_inner(&P->ev, o, mtp_load_u64(kid), pw.p, pw.len);
    if (m->frame.quick_ack)
        json_object_set_new(o, "quick_ack", json_true());
    if (m->hostile)
        json_object_set_new(o, "hostile", json_string(m->hostile));
    size_t ev = probe_emit(P, o);

    struct mtp_wr pkt;
    mtp_wr_init_dyn(&pkt, total + 64, NULL);
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc;
    if (m->mtproto1)
        rc = mtp_msg_v1_encrypt(key, MTP_SENDER_CLIENT, pw.p, pw.len, &pkt, &err);
    else if (m->flip_msg_key)
        rc = encrypt_flipped(key, pw.p, pw.len, &pkt, &err);
    else
        rc = mtp_msg_encrypt(key, m->server_direction ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT, pw.p, pw.len, &pkt,
                             &err);
    mtp_wipe(other_key, sizeof other_key);
    mtp_wr_free(&pw);
    if (rc < 0) {
        mtp_wr_free(&pkt);
        return probe_fail(P, "encrypt: %s", err.msg);
    }
    for (size_t i = 0; i < m->ct_extra; i++)
        PROBE_MUST(P, mtp_wr_u8(&pkt, (uint8_t)i));
    mtp_wr_reset(&c->last);
    PROBE_MUST(P, mtp_wr_raw(&c->last, pkt.p, pkt.len));
    rc = probe_send_frame(c, pkt.p, pkt.len, &m->frame);
    mtp_wr_free(&pkt);
    if (msg_id_out)
        *msg_id_out = msg_id;
    if (ev_out)
        *ev_out = ev;
    return rc;
}

/* ---- bodies ---- */

int probe_body_ping(struct mtp_wr *w, uint64_t ping_id) { return mtp_svc_write_ping(w, ping_id); }

int probe_body_api(struct probe *P, struct mtp_wr *w)
{
    struct mtpc_call_opts o;
    mtpc_call_opts_init(&o);
    o.layer = P->cfg.layer;
    struct mtpc_call call;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtpc_call_build(&call, P->cfg.schema, "{\"_\": \"help.getNearestDc\"}", &o, &err) < 0)
        return probe_fail(P, "help.getNearestDc: %s", err.msg);
    int rc = mtp_wr_raw(w, call.bytes, call.len);
    mtpc_call_free(&call);
    return rc < 0 ? probe_fail(P, "the API call does not fit") : 0;
}
