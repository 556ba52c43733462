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
#include "mtp/auth_bind.h"
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

/* secret and behaviour may be NULL. */
static inline void ts_init(struct ts_server *s, enum ts_mode mode, const struct mtp_rsa_key *key,
                           const struct mtp_obfs_secret *secret, const struct mtp_auth_server_behaviour *behaviour)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    if (behaviour)
        s->behaviour = *behaviour;
    s->env = mtp_env_deterministic(&s->det, "server", 6, TS_T0);
    mtp_msgid_gen_init(&s->ids);
    struct mtp_tr_conn_opts to = {.side = MTP_TR_SERVER, .env = &s->env};
    if (secret)
        to.secret = *secret;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_tr_conn_init(&s->tr, &to, &err) == MTP_OK, "server transport: %s", err.msg);
    struct mtp_auth_server_config ac;
    mtp_auth_server_config_init(&ac);
    s->keys[0] = key;
    ac.keys = s->keys;
    ac.n_keys = 1;
    ac.behaviour = &s->behaviour;
    ck_assert_msg(mtp_auth_server_new(&ac, &s->env, &s->auth, &err) == MTP_OK, "auth server: %s", err.msg);
    mtp_wr_init_dyn(&s->out, 8u << 20, NULL);
    mtp_wr_init_dyn(&s->scratch, 4u << 20, NULL);
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
    struct mtp_tr_send m = {.data = p, .len = len};
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
    }
}

static inline void ts_on_plain(struct ts_server *s, const uint8_t *p, size_t len)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_auth_plain pm;
    ck_assert_msg(mtp_auth_plain_unwrap(p, len, &pm, &err) == MTP_OK, "server: %s", err.msg);
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
        mtp_auth_server_config_init(&ac);
        ac.keys = s->keys;
        ac.n_keys = 1;
        ac.behaviour = &s->behaviour;
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
        struct mtp_session_cfg cfg;
        mtp_session_cfg_default(&cfg);
        if (s->mode == TS_BAD_SALT_LOOP)
            cfg.salt_grace_ms = 0;
        ck_assert_ok(mtp_session_init(&s->ses, MTP_SESSION_SERVER, &cfg, &s->env, ts_on_event, s));
        s->ses_init = true;
        mtp_session_set_auth_key(&s->ses, s->key.auth_key);
        ck_assert_ok(mtp_session_set_salt(&s->ses, mtp_load_u64(s->key.server_salt)));
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
        if (s->mode == TS_RPC_ERROR) {
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
