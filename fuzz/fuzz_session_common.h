/* Shared by fuzz_session_recv.c, fuzz_session_client_recv.c and the seed
 * generator (fuzz/seeds/session_seeds.c): one deterministic setup of each
 * core, the input format, and the oracles.
 *
 * Input: byte 0 selects the configuration (see fuzz_session_cfg), then records
 *   [u8 clock advance in seconds][u16 LE length][length bytes of plaintext]
 * each fed to mtp_session_recv as one decrypted inner message (msg_key is
 * bypassed so the fuzzer reaches the parsers).  After each record the session
 * is ticked and drained with mtp_session_flush, and every output message is
 * checked: it parses, is padded to 16, carries the session's id, has a msg_id
 * of the right parity that increases, and a container in it is valid. */
#ifndef FUZZ_SESSION_COMMON_H
#define FUZZ_SESSION_COMMON_H

#include <stdint.h>
#include <string.h>

#include "mtp/container.h"
#include "mtp/message.h"
#include "mtp/service.h"
#include "mtp/session.h"

#define FZ_T0 1700000000000LL
#define FZ_SID 0x0102030405060708ull
#define FZ_SALT 0x1122334455667788ull

struct fz {
    struct mtp_det_state st;
    struct mtp_env env;
    struct mtp_session s;
    uint64_t last_out_id;
    uint8_t out[1 << 17];
    int answer_queries; /* server: answer every query from the event callback */
};

static inline void fz_check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static inline void fuzz_session_cfg(uint8_t sel, struct mtp_session_cfg *cfg)
{
    mtp_session_cfg_default(cfg);
    static const size_t windows[4] = {1024, 4, 64, 2};
    cfg->window = windows[sel & 3];
    if (sel & 4) {
        cfg->container.max_msgs = 4;
        cfg->container.max_bytes = 512;
    }
    if (sel & 8)
        cfg->gzip_max = 1024;
    if (sel & 16) {
        cfg->max_stored = 16;
        cfg->max_stored_bytes = 4096;
    }
    if (sel & 32)
        cfg->salt_period_ms = 60000;
    cfg->ack_threshold = (sel & 64) ? 2 : 16;
    cfg->gzip_min = (sel & 128) ? 32 : 0;
}

static inline void fz_event(void *ctx, const struct mtp_session_event *ev)
{
    struct fz *f = ctx;
    if (!f->answer_queries)
        return;
    static const uint8_t result[8] = {0x15, 0xc4, 0xb5, 0x1c, 0, 0, 0, 0}; /* an empty Vector */
    int rc = MTP_OK;
    if (ev->type == MTP_SESSION_EV_MESSAGE)
        rc = mtp_session_send_result(&f->s, ev->msg_id, result, sizeof result, 0);
    else if (ev->type == MTP_SESSION_EV_DESTROY_SESSION)
        rc = mtp_session_send_destroy_result(&f->s, ev->msg_id, ev->value, (ev->value & 1) != 0);
    /* A full store is a legitimate answer to a flood of queries. */
    fz_check(rc == MTP_OK || rc == MTP_ERR_SES_QUEUE_FULL);
}

/* Server core: salt FZ_SALT from FZ_T0; answers queries. */
static inline void fz_server_init(struct fz *f, uint8_t sel)
{
    memset(f, 0, sizeof *f);
    f->env = mtp_env_deterministic(&f->st, "fuzz-server", 11, FZ_T0);
    struct mtp_session_cfg cfg;
    fuzz_session_cfg(sel, &cfg);
    f->answer_queries = 1;
    fz_check(mtp_session_init(&f->s, MTP_SESSION_SERVER, &cfg, &f->env, fz_event, f) == MTP_OK);
    fz_check(mtp_session_set_salt(&f->s, FZ_SALT) == MTP_OK);
}

/* Client core: session FZ_SID, salt FZ_SALT, clock synchronised at FZ_T0,
 * with one of every request sent (and flushed) so that answers and
 * notifications have something to refer to.  Their msg_ids are deterministic:
 * 0x6553f10000000004, ...08, ...0c and so on. */
static inline void fz_client_init(struct fz *f, uint8_t sel)
{
    memset(f, 0, sizeof *f);
    f->env = mtp_env_deterministic(&f->st, "fuzz-client", 11, FZ_T0);
    struct mtp_session_cfg cfg;
    fuzz_session_cfg(sel, &cfg);
    fz_check(mtp_session_init(&f->s, MTP_SESSION_CLIENT, &cfg, &f->env, NULL, NULL) == MTP_OK);
    mtp_session_set_session_id(&f->s, FZ_SID);
    fz_check(mtp_session_set_salt(&f->s, FZ_SALT) == MTP_OK);
    mtp_session_sync_time(&f->s, FZ_T0 / 1000);
    uint8_t key[256];
    for (int i = 0; i < 256; i++)
        key[i] = (uint8_t)(i * 13 + 1);
    mtp_session_set_auth_key(&f->s, key);
    static const uint8_t query[4] = {0x6b, 0x18, 0xf9, 0xc4};
    uint8_t big[200];
    memset(big, 0x61, sizeof big);
    memcpy(big, query, 4);
    uint64_t a = 0;
    int ok = mtp_session_send_query(&f->s, query, 4, &a) == MTP_OK &&
             mtp_session_send(&f->s, big, sizeof big, MTP_SEND_CONTENT | MTP_SEND_AWAIT | MTP_SEND_GZIP, NULL) ==
                 MTP_OK &&
             mtp_session_ping(&f->s, 0x1234, -1, NULL) == MTP_OK &&
             mtp_session_ping(&f->s, 0x1235, 75, NULL) == MTP_OK &&
             mtp_session_get_future_salts(&f->s, 3, NULL) == MTP_OK &&
             mtp_session_state_req(&f->s, &a, 1, NULL) == MTP_OK &&
             mtp_session_destroy_session(&f->s, 0x77, NULL) == MTP_OK &&
             mtp_session_http_wait(&f->s, 0, 0, 25000) == MTP_OK;
    fz_check(ok);
    f->s.on_event = fz_event;
    f->s.event_ctx = f;
}

/* Flushes everything the session has to say and checks each message. */
static inline void fz_drain(struct fz *f, void (*sink)(void *, const uint8_t *, size_t), void *sink_ctx)
{
    for (int i = 0; i < 64; i++) {
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, f->out, sizeof f->out, NULL);
        int rc = mtp_session_flush(&f->s, &w);
        fz_check(rc >= 0);
        if (rc == 0)
            return;
        fz_check(w.len % 16 == 0);
        struct mtp_rd r, body;
        mtp_rd_init(&r, w.p, w.len, NULL);
        struct mtp_msg_header h;
        fz_check(mtp_msg_parse(&r, &h, &body) == MTP_OK);
        fz_check(mtp_rd_left(&r) >= 12 && mtp_rd_left(&r) <= 1024);
        fz_check(h.session_id == f->s.session_id);
        fz_check(mtp_msgid_parity_ok(h.msg_id, f->s.role == MTP_SESSION_SERVER));
        /* Ids only go up, except that a client starting a new session starts over. */
        fz_check(h.msg_id > f->last_out_id || f->s.role == MTP_SESSION_CLIENT);
        f->last_out_id = h.msg_id;
        uint32_t ctor = 0;
        fz_check(mtp_rd_peek_u32(&body, &ctor, "body") == MTP_OK);
        if (ctor == MTP_SVC_msg_container) {
            struct mtp_container c;
            fz_check(mtp_container_open(&c, &body, h.msg_id, h.seqno, &f->s.cfg.container) == MTP_OK);
            fz_check(h.seqno % 2 == 0);
        }
        if (sink)
            sink(sink_ctx, w.p, w.len);
    }
}

/* The store of outgoing messages stays sorted and within its limits. */
static inline void fz_invariants(const struct fz *f)
{
    const struct mtp_session *s = &f->s;
    fz_check(s->out_n <= s->cfg.max_stored);
    size_t bytes = 0;
    for (size_t i = 0; i < s->out_n; i++) {
        if (i > 0)
            fz_check(s->out[i - 1].msg_id < s->out[i].msg_id);
        if (s->out[i].body)
            bytes += s->out[i].len;
        /* Scans for queued messages start at out_hint: nothing queued may hide below it. */
        if (i < s->out_hint)
            fz_check(!(s->out[i].flags & 1u /* MTP_OUT_QUEUED */));
    }
    fz_check(bytes == s->out_bytes && bytes <= s->cfg.max_stored_bytes);
    fz_check(s->acks_n <= s->cfg.ack_max);
    fz_check(s->window.n <= s->window.cap);
    for (size_t i = 1; i < s->window.n; i++)
        fz_check(s->window.e[i - 1].msg_id < s->window.e[i].msg_id);
}

/* Runs the records of one input through f. */
static inline void fz_run(struct fz *f, const uint8_t *data, size_t size)
{
    struct mtp_rd r;
    mtp_rd_init(&r, data, size, NULL);
    uint8_t adv;
    uint16_t len;
    const uint8_t *msg;
    while (mtp_rd_u8(&r, &adv, "advance") == MTP_OK && mtp_rd_u16(&r, &len, "length") == MTP_OK) {
        if (len > mtp_rd_left(&r))
            len = (uint16_t)mtp_rd_left(&r);
        fz_check(mtp_rd_raw(&r, len, &msg, "message") == MTP_OK);
        f->st.now_ms += (int64_t)adv * 1000;
        mtp_session_tick(&f->s);
        struct mtp_error err;
        int rc = mtp_session_recv(&f->s, msg, len, &err);
        /* A rejection always says why. */
        fz_check(rc == MTP_OK || (rc < 0 && err.code == rc && err.msg[0] != '\0'));
        fz_invariants(f);
        fz_drain(f, NULL, NULL);
        fz_invariants(f);
    }
}

#endif
