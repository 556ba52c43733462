/* Test helper for the client tests: a small in-memory MTProto server built
 * from the library's server-side machines (transport detection, the auth
 * server machine, the session server core), with switches that make it
 * misbehave, and a pump that moves bytes between it and a client core.
 * Static functions only: each test file that includes it gets its own copy.
 * Deterministic: both sides run on seeded environments with fake clocks. */
#ifndef MTPC_TESTSERVER_H
#define MTPC_TESTSERVER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/mtpc_client.h"
#include "mtp/aes_ige.h"
#include "mtp/auth_bind.h"
#include "mtp/message.h"
#include "mtp/msgcrypt.h"
#include "mtp/auth_server.h"
#include "mtp/rsa.h"
#include "mtp/service.h"
#include "mtp/session.h"
#include "mtp/tr_conn.h"
#include "mtp_test.h"

#define TS_T0 1700000000000LL
/* help.getNearestDc#1fb33026 = NearestDc; */
#define TS_ID_GET_NEAREST_DC 0x1fb33026u

enum ts_mode {
    TS_NORMAL = 0,
    TS_CLOSE_AFTER_RES_PQ, /* answers req_pq_multi, then closes */
    TS_GARBAGE_FRAME,      /* answers req_pq_multi with a well-framed payload of garbage */
    TS_GARBAGE_STREAM,     /* answers with bytes that are not a frame (a huge length) */
    TS_ERR404,             /* answers req_pq_multi with transport error -404 */
    TS_ERR444,             /* answers req_pq_multi with transport error -444 */
    TS_ERR429_AFTER_KEY,   /* answers the first encrypted packet with -429 */
    TS_SILENT,             /* never answers */
    TS_BAD_SALT_LOOP,      /* a new salt after every bad_server_salt: the client never catches up */
    TS_PLAIN_AFTER_KEY,    /* answers the first encrypted packet with an unencrypted message */
    TS_TAMPER,             /* flips a ciphertext byte of its first encrypted packet */
    TS_RPC_ERROR,          /* answers queries with rpc_error 400 TEST_ERROR */
    TS_QUICK_ACK,          /* sends a quick-ack frame before every encrypted answer */
    TS_BAD_FRAME_LEN,      /* a frame whose length claims 2 MiB */
    TS_WRONG_ANSWER,       /* answers getNearestDc with a boolTrue */
    TS_SILENT_AFTER_KEY,   /* makes the key, then ignores every encrypted packet */
    TS_BAD_CRC,            /* full: a wrong CRC32 on its first encrypted frame */
};

struct ts_server;
/* Called when an API query arrives, before the honest answer is queued:
 * may send crafted messages (ts_send_crafted) and set no_answer. */
typedef void (*ts_hook_fn)(struct ts_server *s, void *ctx);

/* Server settings beyond the mode; zeroes are the defaults. */
struct ts_opts {
    const char *seed;          /* of the server's deterministic env; NULL: "server" */
    const uint8_t *dh_prime;   /* the prime it really uses (and sends); NULL: Telegram's */
    size_t dh_prime_len;
    int32_t g;                 /* 0: 3 */
};

struct ts_server {
    enum ts_mode mode;
    struct mtp_det_state det;
    struct mtp_env env;
    struct mtp_tr_conn tr;
    struct mtp_auth_server *auth;
    struct mtp_auth_server_behaviour behaviour;
    const struct mtp_rsa_key *keys[1];
    struct mtp_msgid_gen ids;
    struct mtp_auth_result key;
    bool have_key;
    struct mtp_auth_result perm; /* the first key, once a second exchange (a temporary key) started */
    bool have_perm;
    unsigned binds_ok, binds_refused;
    int last_bind_check;
    uint8_t last_query[512];
    size_t last_query_len;
    struct mtp_session ses;
    bool ses_init;
    struct mtp_wr out;
    struct mtp_wr scratch;
    bool closed;           /* the server closed the connection */
    bool auth_failed;
    unsigned packets_in, bad_packets, queries, bad_salts_sent, bad_msgs_sent;
    int last_recv_rc;
    uint64_t last_query_msg_id;
    unsigned plain_in;         /* unencrypted messages received */
    uint64_t last_sent_id;     /* the last msg_id of an encrypted message it sent */
    uint64_t last_crafted_id;  /* the msg_id of the last ts_send_crafted message */
    bool crc_broken;
    int pad;                   /* padded intermediate: 0..15 bytes of padding per frame; -1 random */
    ts_hook_fn before_answer;
    void *hook_ctx;
    bool no_answer;            /* set by the hook: no honest answer to this query */
    bool tolerate_bad_stream;  /* a stream it cannot read closes the connection (else the test fails) */
    int stream_error;
    const uint8_t *dh_prime;
    size_t dh_prime_len;
    int32_t g;
};

static inline struct mtp_rsa_key *ts_load_key(void)
{
    size_t len;
    uint8_t *pem = mtp_test_read_file("vectors/rsa/test_key_private.pem", &len);
    struct mtp_rsa_key *k = NULL;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_rsa_key_from_pem(pem, len, &k, &err) == MTP_OK, "test key: %s", err.msg);
    return k;
}

static inline void ts_on_event(void *ctx, const struct mtp_session_event *ev)
{
    struct ts_server *s = ctx;
    switch (ev->type) {
    case MTP_SESSION_EV_MESSAGE:
        s->queries++;
        s->last_query_msg_id = ev->msg_id;
        s->last_query_len = ev->body_len < sizeof s->last_query ? ev->body_len : 0;
        if (s->last_query_len)
            memcpy(s->last_query, ev->body, ev->body_len);
        break;
    case MTP_SESSION_EV_BAD_SALT:
        s->bad_salts_sent++;
        break;
    case MTP_SESSION_EV_BAD_MSG:
        s->bad_msgs_sent++;
        break;
    default:
        break;
    }
}

static inline void ts_auth_config(struct ts_server *s, struct mtp_auth_server_config *ac)
{
    mtp_auth_server_config_init(ac);
    ac->keys = s->keys;
    ac->n_keys = 1;
    ac->behaviour = &s->behaviour;
    if (s->dh_prime) {
        ac->dh_prime = s->dh_prime;
        ac->dh_prime_len = s->dh_prime_len;
    }
    if (s->g)
        ac->g = s->g;
}

/* secret, behaviour and o may be NULL. */
static inline void ts_init_opts(struct ts_server *s, enum ts_mode mode, const struct mtp_rsa_key *key,
                                const struct mtp_obfs_secret *secret, const struct mtp_auth_server_behaviour *behaviour,
                                const struct ts_opts *o)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->pad = -1;
    if (behaviour)
        s->behaviour = *behaviour;
    const char *seed = o && o->seed ? o->seed : "server";
    if (o) {
        s->dh_prime = o->dh_prime;
        s->dh_prime_len = o->dh_prime_len;
        s->g = o->g;
    }
    s->env = mtp_env_deterministic(&s->det, seed, strlen(seed), TS_T0);
    mtp_msgid_gen_init(&s->ids);
    struct mtp_tr_conn_opts to = {.side = MTP_TR_SERVER, .env = &s->env};
    if (secret)
        to.secret = *secret;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_tr_conn_init(&s->tr, &to, &err) == MTP_OK, "server transport: %s", err.msg);
    struct mtp_auth_server_config ac;
    s->keys[0] = key;
    ts_auth_config(s, &ac);
    ck_assert_msg(mtp_auth_server_new(&ac, &s->env, &s->auth, &err) == MTP_OK, "auth server: %s", err.msg);
    mtp_wr_init_dyn(&s->out, 8u << 20, NULL);
    mtp_wr_init_dyn(&s->scratch, 4u << 20, NULL);
}

static inline void ts_init(struct ts_server *s, enum ts_mode mode, const struct mtp_rsa_key *key,
                           const struct mtp_obfs_secret *secret, const struct mtp_auth_server_behaviour *behaviour)
{
    ts_init_opts(s, mode, key, secret, behaviour, NULL);
}

static inline void ts_free(struct ts_server *s)
{
    mtp_auth_server_del(s->auth);
    if (s->ses_init)
        mtp_session_free(&s->ses);
    mtp_tr_conn_free(&s->tr);
    mtp_wr_free(&s->out);
    mtp_wr_free(&s->scratch);
}

static inline void ts_send(struct ts_server *s, const uint8_t *p, size_t len)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    static const uint8_t zeros[16];
    struct mtp_tr_send m = {.data = p, .len = len};
    if (s->pad >= 0 && s->tr.kind == MTP_TR_PADDED) {
        m.padding_given = true;
        m.padding = zeros;
        m.padding_len = (size_t)s->pad;
    }
    ck_assert_msg(mtp_tr_conn_send(&s->tr, &m, &s->out, &err) == MTP_OK, "server send: %s", err.msg);
}

static inline void ts_send_error(struct ts_server *s, int32_t code)
{
    uint8_t b[4];
    mtp_tr_error_payload(code, b);
    ts_send(s, b, sizeof b);
}

static inline void ts_send_plain(struct ts_server *s, const uint8_t *body, size_t len)
{
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1u << 16, NULL);
    ck_assert_ok(mtp_auth_plain_wrap_next(&w, &s->ids, &s->env, true, body, len));
    ts_send(s, w.p, w.len);
    mtp_wr_free(&w);
}

/* nearestDc#8e1a1775 country:string this_dc:int nearest_dc:int */
static inline size_t ts_nearest_dc(uint8_t out[16])
{
    static const uint8_t bytes[] = {0x75, 0x17, 0x1a, 0x8e, 0x02, 'Z', 'Z', 0x00, 0x02, 0, 0, 0, 0x02, 0, 0, 0};
    memcpy(out, bytes, sizeof bytes);
    return sizeof bytes;
}

static inline void ts_flush(struct ts_server *s)
{
    for (;;) {
        mtp_wr_reset(&s->scratch);
        int rc = mtp_session_flush_packet(&s->ses, &s->scratch);
        ck_assert_int_ge(rc, 0);
        if (rc == 0)
            return;
        if (s->mode == TS_TAMPER && s->packets_in == 1 && s->scratch.len > 40)
            s->scratch.p[40] ^= 1;
        if (s->mode == TS_QUICK_ACK) {
            struct mtp_error err;
            mtp_error_clear(&err);
            ck_assert_ok(mtp_tr_conn_send_ack(&s->tr, 0x80001234u, &s->out, &err));
        }
        ts_send(s, s->scratch.p, s->scratch.len);
        if (s->mode == TS_BAD_CRC && !s->crc_broken) {
            s->out.p[s->out.len - 1] ^= 0x01; /* full: the CRC32 is the last 4 bytes */
            s->crc_broken = true;
        }
        s->last_sent_id = s->ses.ids.last;
    }
}

/* A server message made by hand, to see what a client does with messages
 * that break (or just reach) the rules.  Zeroes give a correct message. */
struct ts_craft {
    const uint8_t *body;
    size_t len;
    uint64_t msg_id;      /* 0: the server's next id (3 mod 4) */
    int32_t seqno;        /* with seqno_set; else 1 (content-related) */
    bool seqno_set;
    uint64_t session_id;  /* with session_set; else the client's */
    bool session_set;
    int32_t declared_len; /* with declared_set: message_data_length as sent */
    bool declared_set;
    size_t padding;       /* with padding_set: padding bytes; else the least that aligns (12..27) */
    bool padding_set;
    bool other_key_id;    /* the auth_key_id of another key */
    bool fake_msg_key;    /* a msg_key that is not SHA256 of the plaintext, the encryption consistent with it */
    bool plain;           /* unencrypted (auth_key_id 0): the body alone */
};

static inline void ts_send_crafted(struct ts_server *s, const struct ts_craft *m)
{
    if (m->plain) {
        ts_send_plain(s, m->body, m->len);
        return;
    }
    uint64_t id = m->msg_id ? m->msg_id
                            : mtp_msgid_next(&s->ses.ids, mtp_env_now_ms(&s->env), MTP_MSGID_SERVER_OTHER);
    s->last_crafted_id = id;
    size_t pad = m->padding_set ? m->padding : mtp_msg_padding_len(m->len, 0);
    struct mtp_wr pl;
    mtp_wr_init_dyn(&pl, 1u << 20, NULL);
    ck_assert_ok(mtp_wr_u64(&pl, mtp_load_u64(s->key.server_salt)));
    ck_assert_ok(mtp_wr_u64(&pl, m->session_set ? m->session_id : s->ses.session_id));
    ck_assert_ok(mtp_wr_u64(&pl, id));
    ck_assert_ok(mtp_wr_i32(&pl, m->seqno_set ? m->seqno : 1));
    ck_assert_ok(mtp_wr_i32(&pl, m->declared_set ? m->declared_len : (int32_t)m->len));
    ck_assert_ok(mtp_wr_raw(&pl, m->body, m->len));
    for (size_t i = 0; i < pad; i++)
        ck_assert_ok(mtp_wr_u8(&pl, (uint8_t)(0xa5 ^ i)));
    ck_assert_msg(pl.len % 16 == 0, "crafted plaintext of %zu bytes", pl.len);
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t msg_key[16], aes_key[32], aes_iv[32];
    ck_assert_ok(mtp_msg_key(s->key.auth_key, MTP_SENDER_SERVER, pl.p, pl.len, msg_key, &err));
    if (m->fake_msg_key)
        msg_key[0] ^= 0x55;
    ck_assert_ok(mtp_msg_kdf(s->key.auth_key, MTP_SENDER_SERVER, msg_key, aes_key, aes_iv));
    struct mtp_wr pk;
    mtp_wr_init_dyn(&pk, 1u << 20, NULL);
    uint8_t key_id[8];
    memcpy(key_id, s->key.auth_key_id, 8);
    if (m->other_key_id)
        key_id[3] ^= 0x10;
    ck_assert_ok(mtp_wr_raw(&pk, key_id, 8));
    ck_assert_ok(mtp_wr_raw(&pk, msg_key, 16));
    uint8_t *ct;
    ck_assert_ok(mtp_wr_reserve(&pk, pl.len, &ct));
    ck_assert_ok(mtp_aes_ige_encrypt(aes_key, 32, aes_iv, pl.p, ct, pl.len, &err));
    ts_send(s, pk.p, pk.len);
    mtp_wr_free(&pl);
    mtp_wr_free(&pk);
}

/* rpc_result req_msg_id:long result:Object */
static inline size_t ts_rpc_result(uint8_t *out, size_t cap, uint64_t req_msg_id, const uint8_t *result, size_t len)
{
    ck_assert_uint_le(12 + len, cap);
    mtp_store_u32(out, MTP_SVC_rpc_result);
    mtp_store_u64(out + 4, req_msg_id);
    memcpy(out + 12, result, len);
    return 12 + len;
}

/* nearestDc#8e1a1775 with a country of 1..20 letters. */
static inline size_t ts_nearest_dc_of(uint8_t out[32], const char *country)
{
    size_t n = strlen(country), at = 0;
    ck_assert_uint_le(n, 20);
    mtp_store_u32(out, 0x8e1a1775u);
    at = 4;
    out[at++] = (uint8_t)n;
    memcpy(out + at, country, n);
    at += n;
    while (at % 4)
        out[at++] = 0;
    mtp_store_u32(out + at, 2);
    mtp_store_u32(out + at + 4, 2);
    return at + 8;
}

/* The server's session over the key just made (or for a new session of the client). */
static inline void ts_new_session(struct ts_server *s)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    if (s->mode == TS_BAD_SALT_LOOP)
        cfg.salt_grace_ms = 0;
    ck_assert_ok(mtp_session_init(&s->ses, MTP_SESSION_SERVER, &cfg, &s->env, ts_on_event, s));
    s->ses_init = true;
    mtp_session_set_auth_key(&s->ses, s->key.auth_key);
    ck_assert_ok(mtp_session_set_salt(&s->ses, mtp_load_u64(s->key.server_salt)));
}

static inline void ts_on_plain(struct ts_server *s, const uint8_t *p, size_t len)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_auth_plain pm;
    ck_assert_msg(mtp_auth_plain_unwrap(p, len, &pm, &err) == MTP_OK, "server: %s", err.msg);
    s->plain_in++;
    switch (s->mode) {
    case TS_ERR404:
        ts_send_error(s, -404);
        return;
    case TS_ERR444:
        ts_send_error(s, -444);
        return;
    case TS_SILENT:
        return;
    case TS_GARBAGE_FRAME: {
        static const uint8_t junk[24] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        ts_send(s, junk, sizeof junk);
        return;
    }
    case TS_GARBAGE_STREAM:
        ck_assert_ok(mtp_wr_raw(&s->out, "\xff\xff\xff\x7f garbage", 12));
        return;
    default:
        break;
    }
    if (mtp_auth_server_state(s->auth) == MTP_AUTH_S_DONE) {
        /* A second exchange on the connection (PFS: the temporary key); the first key is the permanent one. */
        s->perm = s->key;
        s->have_perm = true;
        s->have_key = false;
        if (s->ses_init)
            mtp_session_free(&s->ses);
        s->ses_init = false;
        mtp_auth_server_del(s->auth);
        struct mtp_auth_server_config ac;
        ts_auth_config(s, &ac);
        ck_assert_msg(mtp_auth_server_new(&ac, &s->env, &s->auth, &err) == MTP_OK, "auth server: %s", err.msg);
    }
    mtp_wr_reset(&s->scratch);
    if (mtp_auth_server_recv(s->auth, pm.body, pm.body_len, &s->scratch, &err) < 0) {
        /* What a real server does with a broken exchange. */
        s->auth_failed = true;
        ts_send_error(s, -404);
        return;
    }
    if (s->scratch.len)
        ts_send_plain(s, s->scratch.p, s->scratch.len);
    if (s->mode == TS_CLOSE_AFTER_RES_PQ)
        s->closed = true;
    if (mtp_auth_server_state(s->auth) == MTP_AUTH_S_DONE && !s->have_key) {
        ck_assert_ok(mtp_auth_server_result(s->auth, &s->key, &err));
        s->have_key = true;
        ts_new_session(s);
    }
}

static inline void ts_on_packet(struct ts_server *s, const uint8_t *p, size_t len)
{
    s->packets_in++;
    if (s->mode == TS_SILENT_AFTER_KEY)
        return;
    if (s->mode == TS_ERR429_AFTER_KEY) {
        ts_send_error(s, -429);
        return;
    }
    if (s->mode == TS_PLAIN_AFTER_KEY) {
        static const uint8_t body[] = {0x63, 0x24, 0x16, 0x05}; /* a bare resPQ id */
        ts_send_plain(s, body, sizeof body);
        return;
    }
    struct mtp_error err;
    mtp_error_clear(&err);
    unsigned queries = s->queries, bad_salts = s->bad_salts_sent;
    s->last_recv_rc = mtp_session_recv_packet(&s->ses, p, len, NULL, &err);
    if (s->last_recv_rc == MTP_ERR_SES_WRONG_SESSION) {
        /* The client started a new session: the server makes one for it. */
        mtp_session_free(&s->ses);
        ts_new_session(s);
        mtp_error_clear(&err);
        s->last_recv_rc = mtp_session_recv_packet(&s->ses, p, len, NULL, &err);
    }
    if (s->last_recv_rc < 0 && s->last_recv_rc != MTP_ERR_SES_BAD_SALT)
        s->bad_packets++;
    if (s->mode == TS_BAD_SALT_LOOP && s->bad_salts_sent > bad_salts) {
        /* The salt it just announced is already gone. */
        ck_assert_ok(mtp_session_set_salt(&s->ses, 0x1000 + s->bad_salts_sent));
    }
    if (s->queries > queries && s->last_query_len == MTP_BIND_REQUEST_LEN &&
        mtp_load_u32(s->last_query) == MTP_BIND_TEMP_AUTH_KEY_ID) {
        /* auth.bindTempAuthKey: checked against the first key, as a server does. */
        struct mtp_bind_expect want = {
            .msg_id = s->last_query_msg_id,
            .nonce = mtp_load_u64(s->last_query + 12),
            .temp_auth_key_id = mtp_load_u64(s->key.auth_key_id),
            .perm_auth_key_id = mtp_load_u64(s->last_query + 4),
            .temp_session_id = s->ses.session_id,
            .expires_at = (int32_t)mtp_load_u32(s->last_query + 20),
        };
        s->last_bind_check = s->have_perm && want.perm_auth_key_id == mtp_load_u64(s->perm.auth_key_id)
                                 ? mtp_bind_check(s->perm.auth_key, s->last_query + MTP_BIND_REQUEST_ENCRYPTED_AT,
                                                  MTP_BIND_ENCRYPTED_LEN, &want, NULL, NULL)
                                 : MTP_ERR_SRV_UNKNOWN_KEY;
        static const uint8_t bool_true[] = {0xb5, 0x75, 0x72, 0x99};
        if (s->last_bind_check == MTP_OK) {
            s->binds_ok++;
            ck_assert_ok(mtp_session_send_result(&s->ses, s->last_query_msg_id, bool_true, sizeof bool_true, 0));
        } else {
            s->binds_refused++;
            ck_assert_ok(mtp_session_send_error(&s->ses, s->last_query_msg_id, 400, "ENCRYPTED_MESSAGE_INVALID"));
        }
    } else if (s->queries > queries) {
        s->no_answer = false;
        if (s->before_answer)
            s->before_answer(s, s->hook_ctx);
        if (s->no_answer) {
            /* the hook answered, or the query stays unanswered */
        } else if (s->mode == TS_RPC_ERROR) {
            ck_assert_ok(mtp_session_send_error(&s->ses, s->last_query_msg_id, 400, "TEST_ERROR"));
        } else if (s->mode == TS_WRONG_ANSWER) {
            static const uint8_t bool_true[] = {0xb5, 0x75, 0x72, 0x99};
            ck_assert_ok(mtp_session_send_result(&s->ses, s->last_query_msg_id, bool_true, sizeof bool_true, 0));
        } else {
            uint8_t res[16];
            size_t n = ts_nearest_dc(res);
            ck_assert_ok(mtp_session_send_result(&s->ses, s->last_query_msg_id, res, n, 0));
        }
    }
    ts_flush(s);
}

/* Bytes from the client (decrypted in place when obfuscated). */
static inline void ts_feed(struct ts_server *s, uint8_t *buf, size_t len)
{
    if (s->closed)
        return;
    mtp_tr_conn_feed(&s->tr, buf, len);
    for (;;) {
        struct mtp_tr_frame f;
        struct mtp_error err;
        mtp_error_clear(&err);
        int rc = mtp_tr_conn_next(&s->tr, &f, &err);
        if (rc == MTP_ERR_NEED_MORE)
            return;
        if (rc < 0 && s->tolerate_bad_stream) {
            /* What a server does with a stream it cannot read: close. */
            s->closed = true;
            s->stream_error = rc;
            return;
        }
        ck_assert_msg(rc == MTP_OK, "server transport: %s", err.msg);
        size_t len2 = f.len;
        if (s->tr.kind == MTP_TR_PADDED)
            ck_assert_ok(mtp_tr_padded_payload_len(f.data, f.len, &len2, &err));
        if (s->mode == TS_BAD_FRAME_LEN) {
            ck_assert_ok(mtp_wr_raw(&s->out, "\x00\x00\x20\x00", 4)); /* 2 MiB, intermediate */
            return;
        }
        if (len2 >= 8 && mtp_load_u64(f.data) == 0)
            ts_on_plain(s, f.data, len2);
        else
            ts_on_packet(s, f.data, len2);
    }
}

/* Moves bytes both ways until nothing moves; returns the rounds it took. */
static inline unsigned ts_pump(struct ts_server *s, struct mtpc_client *c)
{
    unsigned rounds = 0;
    for (; rounds < 1000; rounds++) {
        size_t n;
        const uint8_t *p = mtpc_output(c, &n);
        bool moved = false;
        if (n > 0) {
            uint8_t *copy = malloc(n);
            ck_assert_ptr_nonnull(copy);
            memcpy(copy, p, n);
            mtpc_output_done(c, n);
            ts_feed(s, copy, n);
            free(copy);
            moved = true;
        }
        if (s->out.len > 0 && mtpc_state(c) == MTPC_RUNNING) {
            uint8_t *copy = malloc(s->out.len);
            ck_assert_ptr_nonnull(copy);
            size_t len = s->out.len;
            memcpy(copy, s->out.p, len);
            mtp_wr_reset(&s->out);
            (void)mtpc_feed(c, copy, len);
            free(copy);
            moved = true;
        }
        if (!moved)
            break;
    }
    if (s->closed && mtpc_state(c) == MTPC_RUNNING)
        mtpc_peer_closed(c);
    return rounds;
}

#endif
