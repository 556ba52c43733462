/* Test helper for the session tests: a client and a server core wired back to
 * back in memory (no sockets), each with a deterministic environment and a
 * fake clock, and an event log per side.  Static functions only, so that each
 * test file that includes it gets its own copy. */
#ifndef MTP_SESSION_PAIR_H
#define MTP_SESSION_PAIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/message.h"
#include "mtp/service.h"
#include "mtp/session.h"
#include "mtp_test.h"

#define PAIR_T0 1700000000000LL /* 2023-11-14T22:13:20Z */
#define PAIR_SALT 0x1122334455667788ull
#define EV_LOG_MAX 512
#define EV_BODY_MAX 512

struct ev_rec {
    enum mtp_session_event_type type;
    uint64_t msg_id, ref, orig, value;
    int32_t seqno, code;
    uint32_t ctor;
    uint8_t body[EV_BODY_MAX];
    size_t body_len;
    char text[MTP_ERROR_MSG_MAX];
};

struct ev_log {
    struct ev_rec r[EV_LOG_MAX];
    size_t n;
};

static inline void ev_log_cb(void *ctx, const struct mtp_session_event *ev)
{
    struct ev_log *l = ctx;
    ck_assert_uint_lt(l->n, EV_LOG_MAX);
    struct ev_rec *r = &l->r[l->n++];
    memset(r, 0, sizeof *r);
    r->type = ev->type;
    r->msg_id = ev->msg_id;
    r->ref = ev->ref_msg_id;
    r->orig = ev->orig_msg_id;
    r->value = ev->value;
    r->seqno = ev->seqno;
    r->code = ev->code;
    r->ctor = ev->ctor;
    r->body_len = ev->body_len;
    if (ev->body_len)
        memcpy(r->body, ev->body, ev->body_len < EV_BODY_MAX ? ev->body_len : EV_BODY_MAX);
    if (ev->text)
        snprintf(r->text, sizeof r->text, "%s", ev->text);
}

static inline size_t ev_count(const struct ev_log *l, enum mtp_session_event_type t)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += l->r[i].type == t;
    return n;
}

/* The nth (0-based) event of type t; fails the test when there is none. */
static inline const struct ev_rec *ev_nth(const struct ev_log *l, enum mtp_session_event_type t, size_t nth)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->r[i].type == t && nth-- == 0)
            return &l->r[i];
    ck_abort_msg("no event of type %d (nth)", (int)t);
    return NULL;
}

static inline const struct ev_rec *ev_last(const struct ev_log *l, enum mtp_session_event_type t)
{
    for (size_t i = l->n; i > 0; i--)
        if (l->r[i - 1].type == t)
            return &l->r[i - 1];
    ck_abort_msg("no event of type %d", (int)t);
    return NULL;
}

struct pair {
    struct mtp_det_state cst, sst;
    struct mtp_env cenv, senv;
    struct mtp_session c, s;
    struct ev_log clog, slog;
    uint8_t buf[1 << 18];
    size_t len;
    int last_rc;
};

/* Both clocks start at PAIR_T0; both sides know PAIR_SALT; the client's clock
 * is synchronised (as after the handshake). */
static inline struct pair *pair_new(const struct mtp_session_cfg *ccfg, const struct mtp_session_cfg *scfg)
{
    struct pair *p = calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    p->cenv = mtp_env_deterministic(&p->cst, "client", 6, PAIR_T0);
    p->senv = mtp_env_deterministic(&p->sst, "server", 6, PAIR_T0);
    ck_assert_ok(mtp_session_init(&p->c, MTP_SESSION_CLIENT, ccfg, &p->cenv, ev_log_cb, &p->clog));
    ck_assert_ok(mtp_session_init(&p->s, MTP_SESSION_SERVER, scfg, &p->senv, ev_log_cb, &p->slog));
    ck_assert_ok(mtp_session_set_salt(&p->c, PAIR_SALT));
    ck_assert_ok(mtp_session_set_salt(&p->s, PAIR_SALT));
    mtp_session_sync_time(&p->c, PAIR_T0 / 1000);
    return p;
}

static inline void pair_free(struct pair *p)
{
    mtp_session_free(&p->c);
    mtp_session_free(&p->s);
    free(p);
}

static inline void pair_advance(struct pair *p, int64_t ms)
{
    p->cst.now_ms += ms;
    p->sst.now_ms += ms;
}

/* Flushes one message from `from` into p->buf; returns 1 if there was one. */
static inline int pair_flush(struct pair *p, struct mtp_session *from)
{
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, p->buf, sizeof p->buf, NULL);
    int rc = mtp_session_flush(from, &w);
    ck_assert_int_ge(rc, 0);
    p->len = rc ? w.len : 0;
    return rc;
}

/* One message client -> server; returns 1 if one was sent (p->last_rc = the server's verdict). */
static inline int pair_c2s(struct pair *p)
{
    if (!pair_flush(p, &p->c))
        return 0;
    struct mtp_error err;
    p->last_rc = mtp_session_recv(&p->s, p->buf, p->len, &err);
    return 1;
}

static inline int pair_s2c(struct pair *p)
{
    if (!pair_flush(p, &p->s))
        return 0;
    struct mtp_error err;
    p->last_rc = mtp_session_recv(&p->c, p->buf, p->len, &err);
    return 1;
}

/* Moves messages both ways until neither side has anything to send. */
static inline void pair_pump(struct pair *p)
{
    for (int i = 0; i < 100; i++) {
        int n = pair_c2s(p) + pair_s2c(p);
        if (n == 0)
            return;
    }
    ck_abort_msg("pair_pump: no quiescence after 100 rounds");
}

/* An inner message as a client would send it, with 12..27 bytes of zero padding. */
static inline size_t craft(uint8_t *out, size_t cap, uint64_t salt, uint64_t session_id, uint64_t msg_id,
                           int32_t seqno, const uint8_t *body, size_t len)
{
    struct mtp_script_state st;
    static const uint8_t zeros[1040];
    struct mtp_env env = mtp_env_scripted(&st, zeros, sizeof zeros, 0);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, cap, NULL);
    struct mtp_msg_header h = {salt, session_id, msg_id, seqno, (uint32_t)len};
    ck_assert_ok(mtp_msg_build(&w, &h, body, len, mtp_msg_padding_len(len, 0), &env));
    return w.len;
}

/* Parses the inner message in buf: header and body reader. */
static inline void parse_out(const uint8_t *buf, size_t len, struct mtp_msg_header *h, struct mtp_rd *body)
{
    struct mtp_rd r;
    mtp_rd_init(&r, buf, len, NULL);
    ck_assert_ok(mtp_msg_parse(&r, h, body));
}

#endif
