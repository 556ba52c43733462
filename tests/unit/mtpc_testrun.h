/* Test helper for the client tests: one run of the client core against the
 * in-memory server of mtpc_testserver.h, with assertions on how it ended and
 * a log of what the client sent.  Static functions only. */
#ifndef MTPC_TESTRUN_H
#define MTPC_TESTRUN_H

#include <jansson.h>

#include "mtp/container.h"
#include "mtpc_testserver.h"

#define CALL_NEAREST_DC ((const uint8_t *)"\x26\x30\xb3\x1f")

struct run {
    struct mtp_rsa_key *key;
    struct ts_server srv;
    struct mtp_det_state det;
    struct mtp_env env;
    struct mtpc_config cfg;
    const struct mtp_rsa_key *keys[1];
    struct mtpc_client *c;
};

/* Client defaults for the tests: the known prime is trusted (the full
 * primality test runs once, in its own test), one ping, the getNearestDc call. */
static inline void run_setup(struct run *r, enum mtp_tr_kind kind, bool obfuscated, enum ts_mode mode)
{
    memset(r, 0, sizeof *r);
    r->key = ts_load_key();
    ts_init(&r->srv, mode, r->key, NULL, NULL);
    r->env = mtp_env_deterministic(&r->det, "client", 6, TS_T0);
    mtpc_config_init(&r->cfg);
    r->cfg.kind = kind;
    r->cfg.obfuscated = obfuscated;
    r->keys[0] = r->key;
    r->cfg.auth.keys = r->keys;
    r->cfg.auth.n_keys = 1;
    r->cfg.auth.dh_mode = MTP_DH_TRUST_KNOWN;
    r->cfg.call = CALL_NEAREST_DC;
    r->cfg.call_len = 4;
}

static inline void run_start(struct run *r)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtpc_new(&r->cfg, &r->env, &r->c, &err) == MTP_OK, "mtpc_new: %s", err.msg);
    ck_assert_int_eq(mtpc_step(r->c), MTPC_STEP_CONNECT);
    ck_assert_ok(mtpc_start(r->c));
    ck_assert_int_eq(mtpc_step(r->c), MTPC_STEP_AUTH_KEY);
    ts_pump(&r->srv, r->c);
}

static inline void run_free(struct run *r)
{
    mtpc_del(r->c);
    ts_free(&r->srv);
    mtp_rsa_key_free(r->key);
}

static inline const struct mtpc_outcome *done_ok(struct run *r)
{
    const struct mtpc_outcome *o = mtpc_outcome(r->c);
    ck_assert_msg(mtpc_state(r->c) == MTPC_DONE, "state %d, error %s: %s", (int)mtpc_state(r->c),
                  mtp_err_name(o->error), o->error_msg);
    return o;
}

static inline const struct mtpc_outcome *failed(struct run *r, int code, enum mtpc_step step, const char *text)
{
    const struct mtpc_outcome *o = mtpc_outcome(r->c);
    ck_assert_int_eq(mtpc_state(r->c), MTPC_FAILED);
    ck_assert_msg(o->error == code, "error %s (%s), want %s", mtp_err_name(o->error), o->error_msg,
                  mtp_err_name(code));
    ck_assert_int_eq(o->error_step, step);
    ck_assert_msg(strstr(o->error_msg, text) != NULL, "error message '%s' lacks '%s'", o->error_msg, text);
    return o;
}

/* The msg_id and salt of every encrypted message the client sends, and
 * every msg_id it acknowledges (msgs_ack, alone or in a container). */
struct sent_log {
    uint64_t msg_id[16], salt[16];
    uint32_t ctor[16];
    size_t n;
    uint64_t acked[64];
    size_t n_acked;
};

static inline void log_acks(struct sent_log *l, struct mtp_rd body)
{
    uint32_t ctor, vec, count;
    if (mtp_rd_u32(&body, &ctor, "ctor") < 0 || ctor != MTP_SVC_msgs_ack)
        return;
    ck_assert_ok(mtp_rd_u32(&body, &vec, "vector"));
    ck_assert_ok(mtp_rd_u32(&body, &count, "count"));
    for (uint32_t i = 0; i < count; i++) {
        uint64_t id;
        ck_assert_ok(mtp_rd_u64(&body, &id, "id"));
        if (l->n_acked < 64)
            l->acked[l->n_acked++] = id;
    }
}

static inline void log_sent(void *ctx, const struct mtpc_trace *t)
{
    struct sent_log *l = ctx;
    if (t->kind != MTPC_TRACE_INNER || t->dir != MTPC_OUT)
        return;
    ck_assert_uint_ge(t->len, 36);
    struct mtp_rd r, body;
    mtp_rd_init(&r, t->data, t->len, NULL);
    struct mtp_msg_header h;
    ck_assert_ok(mtp_msg_parse(&r, &h, &body));
    uint32_t ctor = mtp_load_u32(t->data + 32);
    if (l->n < 16) {
        l->salt[l->n] = h.salt;
        l->msg_id[l->n] = h.msg_id;
        l->ctor[l->n] = ctor;
        l->n++;
    }
    if (ctor != MTP_SVC_msg_container) {
        log_acks(l, body);
        return;
    }
    struct mtp_container_limits lim = {MTP_CONTAINER_MAX_MSGS, MTP_CONTAINER_MAX_BYTES};
    struct mtp_container c;
    /* UINT64_MAX: the container's own msg_id rules are not this log's business. */
    ck_assert_ok(mtp_container_open(&c, &body, UINT64_MAX, h.seqno, &lim));
    struct mtp_nested m;
    while (mtp_container_next(&c, &m) == 1)
        log_acks(l, m.body);
}

static inline bool was_acked(const struct sent_log *l, uint64_t id)
{
    for (size_t i = 0; i < l->n_acked; i++)
        if (l->acked[i] == id)
            return true;
    return false;
}

/* A hostile message sent just before the honest answer to the call: a
 * canary rpc_result (nearestDc "XX" where the honest one says "ZZ") that
 * breaks one rule, or (HOSTILE_SALT_WRONG_SESSION) a bad_server_salt in a
 * message of another session.  A client that discards it ends with "ZZ". */
enum hostile {
    HOSTILE_OTHER_KEY_ID,
    HOSTILE_FAKE_MSG_KEY,
    HOSTILE_WRONG_SESSION,
    HOSTILE_EVEN_MSG_ID,
    HOSTILE_DUPLICATE_MSG_ID,
    HOSTILE_TOO_OLD,
    HOSTILE_TOO_NEW,
    HOSTILE_LENGTH_BEYOND,
    HOSTILE_LENGTH_NEGATIVE,
    HOSTILE_LENGTH_UNALIGNED,
    HOSTILE_PADDING_SHORT,
    HOSTILE_PADDING_LONG,
    HOSTILE_CONTAINER_ORDER,
    HOSTILE_PLAIN,
    HOSTILE_SALT_WRONG_SESSION,
};
#define HOSTILE_SALT 0x5a17c0ffee000001ull

static inline void send_hostile(struct ts_server *s, void *ctx)
{
    enum hostile h = *(const enum hostile *)ctx;
    uint8_t dc[32], body[64];
    size_t n = ts_rpc_result(body, sizeof body, s->last_query_msg_id, dc, ts_nearest_dc_of(dc, "XX"));
    struct ts_craft m = {.body = body, .len = n};
    int64_t now = mtp_env_now_ms(&s->env);
    switch (h) {
    case HOSTILE_OTHER_KEY_ID:
        m.other_key_id = true;
        break;
    case HOSTILE_FAKE_MSG_KEY:
        m.fake_msg_key = true;
        break;
    case HOSTILE_WRONG_SESSION:
        m.session_id = s->ses.session_id ^ 1;
        m.session_set = true;
        break;
    case HOSTILE_EVEN_MSG_ID:
        m.msg_id = mtp_msgid_next(&s->ses.ids, now, MTP_MSGID_SERVER_OTHER) & ~(uint64_t)1;
        break;
    case HOSTILE_DUPLICATE_MSG_ID:
        ck_assert_uint_ne(s->last_sent_id, 0);
        m.msg_id = s->last_sent_id;
        break;
    case HOSTILE_TOO_OLD:
        m.msg_id = mtp_msgid_from_ms(now - 301000) | 3;
        break;
    case HOSTILE_TOO_NEW:
        m.msg_id = mtp_msgid_from_ms(now + 31000) | 3;
        break;
    case HOSTILE_LENGTH_BEYOND:
        m.declared_len = (int32_t)(n + mtp_msg_padding_len(n, 0) + 4);
        m.declared_set = true;
        break;
    case HOSTILE_LENGTH_NEGATIVE:
        m.declared_len = -4;
        m.declared_set = true;
        break;
    case HOSTILE_LENGTH_UNALIGNED:
        m.declared_len = (int32_t)n + 2;
        m.declared_set = true;
        break;
    case HOSTILE_PADDING_SHORT:
        ck_assert_uint_eq((32 + n + 4) % 16, 0);
        m.padding = 4;
        m.padding_set = true;
        break;
    case HOSTILE_PADDING_LONG:
        ck_assert_uint_eq((32 + n + 1044) % 16, 0);
        m.padding = 1044;
        m.padding_set = true;
        break;
    case HOSTILE_CONTAINER_ORDER: {
        /* The container's msg_id is below the message inside it. */
        static uint8_t ct[128];
        uint64_t low = mtp_msgid_next(&s->ses.ids, now, MTP_MSGID_SERVER_OTHER);
        uint64_t high = mtp_msgid_next(&s->ses.ids, now, MTP_MSGID_SERVER_OTHER);
        mtp_store_u32(ct, MTP_SVC_msg_container);
        mtp_store_u32(ct + 4, 1);
        mtp_store_u64(ct + 8, high);
        mtp_store_u32(ct + 16, 1);
        mtp_store_u32(ct + 20, (uint32_t)n);
        memcpy(ct + 24, body, n);
        m = (struct ts_craft){.body = ct, .len = 24 + n, .msg_id = low, .seqno = 2, .seqno_set = true};
        break;
    }
    case HOSTILE_PLAIN:
        m.plain = true;
        break;
    case HOSTILE_SALT_WRONG_SESSION: {
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, body, sizeof body, NULL);
        ck_assert_ok(mtp_svc_write_bad_server_salt(&w, s->last_query_msg_id, 1, HOSTILE_SALT));
        m = (struct ts_craft){.body = body, .len = w.len, .seqno = 0, .seqno_set = true,
                              .session_id = s->ses.session_id ^ 1, .session_set = true};
        break;
    }
    }
    ts_send_crafted(s, &m);
}

/* A 2048-bit prime of vectors/gen/dh_primes.json ("A", "B": safe; "E": (p-1)/2 composite). */
static inline uint8_t *dh_prime_from_vectors(const char *name)
{
    size_t n, len;
    uint8_t *text = mtp_test_read_file("vectors/gen/dh_primes.json", &n);
    json_error_t jerr;
    json_t *j = json_loadb((const char *)text, n, 0, &jerr);
    ck_assert_msg(j != NULL, "dh_primes.json: %s", jerr.text);
    const char *hex = json_string_value(json_object_get(json_object_get(j, name), "hex"));
    ck_assert_ptr_nonnull(hex);
    uint8_t *p = mtp_test_hex(hex, &len);
    ck_assert_uint_eq(len, 256);
    json_decref(j);
    return p;
}

/* The country of the nearestDc the run ended with ("ZZ" honest, "XX" the canary). */
static inline void result_country(const struct mtpc_outcome *o, char out[3])
{
    ck_assert_msg(o->answered && !o->rpc_error && o->result_len >= 8, "no nearestDc answer");
    ck_assert_uint_eq(mtp_load_u32(o->result), 0x8e1a1775u);
    ck_assert_uint_eq(o->result[4], 2);
    out[0] = (char)o->result[5];
    out[1] = (char)o->result[6];
    out[2] = '\0';
}

#endif
