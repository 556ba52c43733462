/* The decoder's packet stage: unencrypted messages (the key exchange, its
 * inner data decrypted with the key log's new_nonce), encrypted packets
 * (decrypted with the key log's auth keys, msg_key verified), sessions (the
 * layer each one speaks, the requests whose answers are pending), and the
 * body through the TL engine. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dec_internal.h"
#include "mtp/aes_ige.h"
#include "mtp/auth.h"
#include "mtp/auth_tl.h"
#include "mtp/authcrypt.h"
#include "mtp/container.h"
#include "mtp/dh.h"
#include "mtp/service.h"

#define ID_INVOKE_WITH_LAYER 0xda9b0d0du
/* Unencrypted msg_ids may be this far from the capture clock and still be
 * taken for real while resynchronising. */
#define PLAUSIBLE_SKEW_S (2 * 86400)

/* ---- sessions ---- */

static uint32_t sess_hash(uint64_t key_id, uint64_t session_id)
{
    uint64_t h = key_id * 0x9e3779b97f4a7c15ull ^ session_id * 0xc2b2ae3d27d4eb4full;
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static void sess_unlink_lru(struct dec *d, struct dec_sess *s)
{
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else
        d->lru_head = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else
        d->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
}

static void sess_front(struct dec *d, struct dec_sess *s)
{
    if (d->lru_head == s)
        return;
    if (s->lru_prev || s->lru_next || d->lru_tail == s)
        sess_unlink_lru(d, s);
    s->lru_next = d->lru_head;
    if (d->lru_head)
        d->lru_head->lru_prev = s;
    d->lru_head = s;
    if (d->lru_tail == NULL)
        d->lru_tail = s;
}

static void sess_drop(struct dec *d, struct dec_sess *s)
{
    struct dec_sess **pp = &d->sess[s->hash % DEC_SESS_BUCKETS];
    while (*pp != s)
        pp = &(*pp)->hnext;
    *pp = s->hnext;
    sess_unlink_lru(d, s);
    d->nsess--;
    free(s);
}

static struct dec_sess *sess_find(struct dec *d, uint64_t key_id, uint64_t session_id)
{
    uint32_t h = sess_hash(key_id, session_id);
    for (struct dec_sess *s = d->sess[h % DEC_SESS_BUCKETS]; s; s = s->hnext)
        if (s->key_id == key_id && s->session_id == session_id) {
            sess_front(d, s);
            return s;
        }
    return NULL;
}

static struct dec_sess *sess_get(struct dec *d, uint64_t key_id, uint64_t session_id)
{
    struct dec_sess *s = sess_find(d, key_id, session_id);
    if (s)
        return s;
    /* Bounded: the session idle longest is forgotten. */
    if (d->nsess >= DEC_MAX_SESSIONS && d->lru_tail)
        sess_drop(d, d->lru_tail);
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->key_id = key_id;
    s->session_id = session_id;
    s->hash = sess_hash(key_id, session_id);
    s->schema = d->newest;
    s->hnext = d->sess[s->hash % DEC_SESS_BUCKETS];
    d->sess[s->hash % DEC_SESS_BUCKETS] = s;
    d->nsess++;
    sess_front(d, s);
    return s;
}

void dec_sessions_free(struct dec *d)
{
    while (d->lru_head)
        sess_drop(d, d->lru_head);
}

/* The schema of a layer: the highest not above it, else the lowest (as the mock DC picks). */
static const struct dec_schema *schema_for(struct dec *d, int32_t layer)
{
    struct dec_schema *best = NULL, *lowest = &d->schemas[0];
    for (size_t i = 0; i < d->nschemas; i++) {
        struct dec_schema *s = &d->schemas[i];
        if (s->layer <= layer && (best == NULL || s->layer > best->layer))
            best = s;
        if (s->layer < lowest->layer)
            lowest = s;
    }
    struct dec_schema *pick = best ? best : lowest;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (dec_schema_load(pick, &err) < 0) {
        if (!pick->failed || err.code != MTP_OK)
            fprintf(stderr, "mtprobe decode: layer %d: %s\n", (int)layer, err.msg);
        return d->newest;
    }
    return pick;
}

/* invokeWithLayer at the top of a client body, or in one of its container's messages. */
static int32_t body_layer(const uint8_t *body, size_t len, uint64_t msg_id, int32_t seqno)
{
    struct mtp_rd r;
    mtp_rd_init(&r, body, len, NULL);
    uint32_t id;
    int32_t layer;
    if (mtp_rd_u32(&r, &id, "ctor") < 0)
        return 0;
    if (id == ID_INVOKE_WITH_LAYER)
        return mtp_rd_i32(&r, &layer, "layer") == MTP_OK ? layer : 0;
    if (id != MTP_SVC_msg_container)
        return 0;
    struct mtp_container ct;
    struct mtp_container_limits cl = {MTP_CONTAINER_MAX_MSGS, SIZE_MAX};
    mtp_rd_init(&r, body, len, NULL);
    if (mtp_container_open(&ct, &r, msg_id, seqno, &cl) != MTP_OK)
        return 0;
    struct mtp_nested m;
    while (mtp_container_next(&ct, &m) == 1)
        if (m.ctor == ID_INVOKE_WITH_LAYER && mtp_rd_skip(&m.body, 4, "ctor") == MTP_OK &&
            mtp_rd_i32(&m.body, &layer, "layer") == MTP_OK)
            return layer;
    return 0;
}

static void pend_add(struct dec_sess *s, const struct dec_schema *sch, uint64_t msg_id, const struct mtp_tl_tref *t)
{
    struct dec_pending *p = &s->pend[s->pend_next++ % DEC_PENDING];
    p->msg_id = msg_id;
    p->type = t;
    p->schema = sch;
}

struct result_ctx {
    struct dec_sess *s;
    const struct dec_schema *schema;
};

/* rpc_result.result: typed by the request it answers, when the capture showed it. */
static const struct mtp_tl_tref *result_type(void *ctx, int64_t req_msg_id)
{
    struct result_ctx *rc = ctx;
    for (unsigned i = 0; i < DEC_PENDING; i++) {
        const struct dec_pending *p = &rc->s->pend[i];
        if (p->type && p->msg_id == (uint64_t)req_msg_id && p->schema == rc->schema)
            return p->type;
    }
    return NULL;
}

/* Remembers what each request of a client message returns: its own body, or each message of its container. */
static void note_requests(struct dec_sess *s, const struct dec_schema *sch, const struct mtp_tl_value *v,
                          uint64_t msg_id, int depth)
{
    const struct mtp_tl_object *o = mtp_tl_value_object(v);
    if (o == NULL || depth > 2)
        return;
    if (o->ctor->id == MTP_TL_ID_MSG_CONTAINER) {
        const struct mtp_tl_value *msgs = mtp_tl_obj_get(o, "messages");
        for (uint32_t i = 0; msgs && msgs->kind == MTP_TL_V_VECTOR && i < msgs->len; i++) {
            const struct mtp_tl_object *m = mtp_tl_value_object(&msgs->u.items[i]);
            const struct mtp_tl_value *id = m ? mtp_tl_obj_get(m, "msg_id") : NULL;
            const struct mtp_tl_value *body = m ? mtp_tl_obj_get(m, "body") : NULL;
            if (id && body)
                note_requests(s, sch, body, (uint64_t)id->u.l, depth + 1);
        }
        return;
    }
    const struct mtp_tl_tref *t;
    if (o->ctor->is_function && mtp_tl_result_type(sch->s, v, &t, NULL) == MTP_OK)
        pend_add(s, sch, msg_id, t);
}

/* ---- the body through the TL engine ---- */

static void decode_body(struct dec *d, struct dec_msg *m, const struct dec_schema *sch, struct dec_sess *s)
{
    if (m->body_len == 0)
        return;
    struct mtp_tl_value *v = mtp_tl_arena_alloc(&d->arena, sizeof *v);
    if (v == NULL)
        return;
    struct result_ctx rc = {s, sch};
    struct mtp_tl_decode_opts o = {.result_fn = s && m->dir == MTP_TCP_S2C ? result_type : NULL, .result_ctx = &rc};
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_tl_decode(sch->s, NULL, m->body, m->body_len, &o, &d->arena, v, NULL, &err) == MTP_OK) {
        m->value = v;
        m->schema = sch;
        return;
    }
    m->c->tl_errors++;
    d->st->tl_errors++;
    snprintf(m->error_buf, sizeof m->error_buf, "the body does not decode: %s: %s", mtp_err_name(err.code), err.msg);
    m->error = m->error_buf;
    m->schema = sch;
}

/* ---- the key exchange ---- */

static const char *hex8(uint64_t v, char buf[17])
{
    uint8_t b[8];
    mtp_store_u64(b, v);
    for (int i = 0; i < 8; i++)
        snprintf(buf + 2 * i, 3, "%02x", b[i]);
    return buf;
}

static void finding(struct dec *d, struct dec_msg *m, const char *req, const char *fmt, ...) MTP_PRINTF(4, 5);
static void finding(struct dec *d, struct dec_msg *m, const char *req, const char *fmt, ...)
{
    if (!d->o->check)
        return;
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    dec_check_finding(d, m->c, m, m->dir, req, "%s", text);
}

static void count(struct dec *d, const char *req)
{
    if (d->o->check)
        dec_check_count(d, req);
}

/* Nonces of the run: every later message carries the pair (auth_key, S-HS-1 / C-HS-7). */
static void check_nonces(struct dec *d, struct dec_msg *m, const char *what, const uint8_t nonce[16],
                         const uint8_t *server_nonce)
{
    struct dec_exch *ex = &m->c->ex;
    if (!ex->active)
        return;
    const char *req = m->dir == MTP_TCP_S2C ? "C-HS-7" : "S-HS-1";
    count(d, req);
    if (memcmp(nonce, ex->nonce, 16) != 0)
        finding(d, m, req, "%s.nonce is not the nonce of req_pq_multi", what);
    if (server_nonce && ex->have_server_nonce && memcmp(server_nonce, ex->server_nonce, 16) != 0)
        finding(d, m, req, "%s.server_nonce is not the server_nonce of resPQ", what);
}

/* Decrypts an exchange's encrypted_answer or encrypted_data with the logged new_nonce and decodes what it holds. */
static void inner_data(struct dec *d, struct dec_msg *m, const uint8_t *enc, size_t len, const char *name)
{
    struct dec_exch *ex = &m->c->ex;
    m->inner_name = name;
    if (!ex->have_new_nonce) {
        m->inner_error = "encrypted with new_nonce, which no key log line gives (NEW_NONCE)";
        return;
    }
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t *out;
    mtp_wr_reset(&d->inner);
    if (mtp_wr_reserve(&d->inner, len ? len : 1, &out) < 0 ||
        mtp_authcrypt_inner_decrypt(ex->tmp_key, ex->tmp_iv, enc, len, out, len, &err) < 0) {
        snprintf(m->inner_error_buf, sizeof m->inner_error_buf, "%s", err.msg[0] ? err.msg : "cannot decrypt");
        m->inner_error = m->inner_error_buf;
        finding(d, m, m->dir == MTP_TCP_S2C ? "C-HS-8" : "S-HS-7", "%s: %s", name, m->inner_error);
        return;
    }
    struct mtp_tl_value *v = mtp_tl_arena_alloc(&d->arena, sizeof *v);
    struct mtp_tl_decode_opts o = {.allow_trailing = true};
    size_t used = 0;
    if (v == NULL || len < 20 ||
        mtp_tl_decode(d->newest->s, NULL, out + 20, len - 20, &o, &d->arena, v, &used, &err) < 0) {
        snprintf(m->inner_error_buf, sizeof m->inner_error_buf, "decrypted, but does not decode: %s", err.msg);
        m->inner_error = m->inner_error_buf;
        finding(d, m, m->dir == MTP_TCP_S2C ? "C-HS-8" : "S-HS-7", "%s %s", name, m->inner_error);
        return;
    }
    m->inner = v;
    m->inner_body = out + 20;
    m->inner_len = used;
    const char *req = m->dir == MTP_TCP_S2C ? "C-HS-8" : "S-HS-7";
    count(d, req);
    mtp_error_clear(&err);
    if (mtp_authcrypt_inner_check(out, len, used, &err) < 0)
        finding(d, m, req, "%s: %s", m->dir == MTP_TCP_S2C ? "answer_with_hash" : "data_with_hash", err.msg);
}

static void dh_checks_server(struct dec *d, struct dec_msg *m)
{
    struct dec_exch *ex = &m->c->ex;
    struct mtp_rd r;
    mtp_rd_init(&r, m->inner_body, m->inner_len, NULL);
    struct mtp_auth_server_inner si;
    if (mtp_auth_tl_read_server_inner(&r, &si) < 0)
        return;
    check_nonces(d, m, "server_DH_inner_data", si.nonce, si.server_nonce);
    if (si.dh_prime.len <= sizeof ex->dh_prime) {
        memcpy(ex->dh_prime, si.dh_prime.p, si.dh_prime.len);
        ex->dh_prime_len = si.dh_prime.len;
        ex->g = si.g;
        ex->have_dh = true;
    }
    if (!d->o->check)
        return;
    struct mtp_error err;
    mtp_error_clear(&err);
    count(d, "C-DH-1");
    count(d, "C-DH-2");
    int rc = mtp_dh_check_prime(si.dh_prime.p, si.dh_prime.len, MTP_DH_TRUST_KNOWN, &err);
    if (rc < 0)
        finding(d, m, "C-DH-1", "server_DH_inner_data.dh_prime: %s", err.msg);
    mtp_error_clear(&err);
    if (rc == MTP_OK && mtp_dh_check_g(si.dh_prime.p, si.dh_prime.len, si.g, &err) < 0)
        finding(d, m, "C-DH-2", "server_DH_inner_data.g: %s", err.msg);
    count(d, "C-DH-4");
    count(d, "C-DH-5");
    mtp_error_clear(&err);
    if (mtp_dh_check_ga_parts(si.dh_prime.p, si.dh_prime.len, si.g_a.p, si.g_a.len, true, false, &err) < 0)
        finding(d, m, "C-DH-4", "server_DH_inner_data.g_a: %s", err.msg);
    else if (mtp_error_clear(&err),
             mtp_dh_check_ga_parts(si.dh_prime.p, si.dh_prime.len, si.g_a.p, si.g_a.len, false, true, &err) < 0)
        finding(d, m, "C-DH-5", "server_DH_inner_data.g_a: %s", err.msg);
}

static void dh_checks_client(struct dec *d, struct dec_msg *m)
{
    struct dec_exch *ex = &m->c->ex;
    struct mtp_rd r;
    mtp_rd_init(&r, m->inner_body, m->inner_len, NULL);
    struct mtp_auth_client_inner ci;
    if (mtp_auth_tl_read_client_inner(&r, &ci) < 0)
        return;
    check_nonces(d, m, "client_DH_inner_data", ci.nonce, ci.server_nonce);
    /* retry_id: 0 on the first attempt, then the failed key's auth_key_aux_hash (that key is in no
     * key log, so the capture shows only whether it is 0) */
    count(d, "C-HS-9");
    static const uint8_t zero[8];
    if (ex->attempts == 1 && memcmp(ci.retry_id, zero, 8) != 0)
        finding(d, m, "C-HS-9", "client_DH_inner_data.retry_id is not 0 on the first attempt");
    else if (ex->attempts > 1 && memcmp(ci.retry_id, zero, 8) == 0)
        finding(d, m, "C-HS-9", "client_DH_inner_data.retry_id is 0 after dh_gen_retry (attempt %u): it must be the "
                                "failed key's auth_key_aux_hash", ex->attempts);
    else if (ex->attempts > 1 && ex->retry_known && memcmp(ci.retry_id, ex->retry_aux, 8) != 0)
        finding(d, m, "C-HS-9", "client_DH_inner_data.retry_id is not the auth_key_aux_hash of the key that got "
                                "dh_gen_retry");
    /* a fresh secret b makes a fresh g_b: the same g_b twice means b came from no CSPRNG */
    count(d, "C-DH-6");
    uint8_t h[32];
    mtp_authcrypt_sha256(ci.g_b.p, ci.g_b.len, h);
    uint64_t tag = mtp_load_u64(h);
    bool repeat = false;
    for (size_t i = 0; i < DEC_GB_SEEN && i < d->ngb; i++)
        repeat |= d->gb_seen[i] == tag;
    if (repeat)
        finding(d, m, "C-DH-6", "client_DH_inner_data.g_b is the g_b of an earlier exchange: the secret b repeats");
    d->gb_seen[d->ngb++ % DEC_GB_SEEN] = tag;
    if (!ex->have_dh || !d->o->check)
        return;
    struct mtp_error err;
    mtp_error_clear(&err);
    count(d, "S-HS-8");
    count(d, "S-HS-9");
    if (mtp_dh_check_gb(ex->dh_prime, ex->dh_prime_len, ci.g_b.p, ci.g_b.len, &err) < 0)
        finding(d, m, err.code == MTP_ERR_DH_GB_UNSAFE ? "S-HS-9" : "S-HS-8", "client_DH_inner_data.g_b: %s",
                err.msg);
}

/* dh_gen_*: which logged key the exchange made (its new_nonce_hash says), and whether the hash is right. */
static void dh_gen(struct dec *d, struct dec_msg *m, const struct mtp_auth_dh_gen *g)
{
    struct dec_exch *ex = &m->c->ex;
    if (!ex->have_new_nonce)
        return;
    struct dec_key *found = NULL;
    for (size_t b = 0; b < DEC_KEY_BUCKETS && !found; b++)
        for (struct dec_key *k = d->keys.keys[b]; k && !found; k = k->next) {
            uint8_t h[16];
            if (mtp_authcrypt_new_nonce_hash(ex->new_nonce, g->number, k->aux, h, NULL) == MTP_OK &&
                memcmp(h, g->new_nonce_hash, 16) == 0)
                found = k;
        }
    if (found == NULL) {
        snprintf(m->note, sizeof m->note, "new_nonce_hash%d: no logged key matches", g->number);
        return;
    }
    char id[17];
    snprintf(m->note, sizeof m->note, "new_nonce_hash%d: the exchange made auth_key_id %s", g->number,
             hex8(found->id64, id));
    if (g->number == 2) {
        memcpy(ex->retry_aux, found->aux, 8);
        ex->retry_known = true;
    }
    if (m->c->nkey_ids < DEC_MAX_CONN_KEYS)
        m->c->key_ids[m->c->nkey_ids++] = found->id64;
}

static bool is_exchange_ctor(uint32_t id)
{
    return mtp_auth_tl_name(id) != NULL;
}

static void exchange(struct dec *d, struct dec_msg *m)
{
    struct dec_exch *ex = &m->c->ex;
    struct mtp_rd r;
    mtp_rd_init(&r, m->body, m->body_len, NULL);
    uint32_t id = 0;
    if (mtp_rd_peek_u32(&r, &id, "ctor") < 0)
        return;
    const char *unencrypted_req = m->dir == MTP_TCP_S2C ? "C-ENC-21" : "S-HS-12";
    count(d, unencrypted_req);
    if (!is_exchange_ctor(id)) {
        finding(d, m, unencrypted_req, "an unencrypted message that is not part of the key exchange (%s)",
                m->value ? mtp_tl_value_object(m->value)->ctor->name : "unknown constructor");
        return;
    }
    switch (id) {
    case 0xbe7e8ef1u: /* req_pq_multi */
    case 0x60469778u: /* req_pq */ {
        struct mtp_auth_req_pq rq;
        if (mtp_auth_tl_read_req_pq(&r, &rq) < 0)
            return;
        mtp_wipe(ex, sizeof *ex);
        ex->active = true;
        memcpy(ex->nonce, rq.nonce, 16);
        return;
    }
    case 0x05162463u: { /* resPQ */
        struct mtp_auth_res_pq rp;
        if (mtp_auth_tl_read_res_pq(&r, &rp) < 0)
            return;
        check_nonces(d, m, "resPQ", rp.nonce, NULL);
        memcpy(ex->server_nonce, rp.server_nonce, 16);
        ex->have_server_nonce = true;
        return;
    }
    case 0xd712e4beu: { /* req_DH_params */
        struct mtp_auth_req_dh_params rq;
        if (mtp_auth_tl_read_req_dh_params(&r, &rq) < 0)
            return;
        check_nonces(d, m, "req_DH_params", rq.nonce, rq.server_nonce);
        m->inner_name = "p_q_inner_data";
        m->inner_error = "RSA-encrypted with the server's key: not in a key log";
        return;
    }
    case 0xd0e8075cu:   /* server_DH_params_ok */
    case 0x79cb045du: { /* server_DH_params_fail */
        struct mtp_auth_server_dh_params sp;
        if (mtp_auth_tl_read_server_dh_params(&r, &sp) < 0)
            return;
        check_nonces(d, m, sp.ok ? "server_DH_params_ok" : "server_DH_params_fail", sp.nonce, sp.server_nonce);
        const struct dec_nonce_line *nl = dec_keys_nonce(&d->keys, sp.nonce, sp.server_nonce);
        if (nl && !ex->have_new_nonce) {
            memcpy(ex->new_nonce, nl->new_nonce, 32);
            ex->have_new_nonce = true;
            mtp_authcrypt_tmp_aes(ex->new_nonce, sp.server_nonce, ex->tmp_key, ex->tmp_iv);
        }
        if (!sp.ok)
            return;
        inner_data(d, m, sp.encrypted_answer.p, sp.encrypted_answer.len, "server_DH_inner_data");
        if (m->inner)
            dh_checks_server(d, m);
        return;
    }
    case 0xf5045f1fu: { /* set_client_DH_params */
        struct mtp_auth_set_client_dh sc;
        if (mtp_auth_tl_read_set_client_dh(&r, &sc) < 0)
            return;
        check_nonces(d, m, "set_client_DH_params", sc.nonce, sc.server_nonce);
        if (!ex->have_new_nonce) {
            const struct dec_nonce_line *nl = dec_keys_nonce(&d->keys, sc.nonce, sc.server_nonce);
            if (nl) {
                memcpy(ex->new_nonce, nl->new_nonce, 32);
                ex->have_new_nonce = true;
                mtp_authcrypt_tmp_aes(ex->new_nonce, sc.server_nonce, ex->tmp_key, ex->tmp_iv);
            }
        }
        ex->attempts++;
        inner_data(d, m, sc.encrypted_data.p, sc.encrypted_data.len, "client_DH_inner_data");
        if (m->inner)
            dh_checks_client(d, m);
        return;
    }
    case 0x3bcbf734u:   /* dh_gen_ok */
    case 0x46dc1fb9u:   /* dh_gen_retry */
    case 0xa69dae02u: { /* dh_gen_fail */
        struct mtp_auth_dh_gen g;
        if (mtp_auth_tl_read_dh_gen(&r, &g) < 0)
            return;
        check_nonces(d, m, mtp_auth_tl_name(id), g.nonce, g.server_nonce);
        dh_gen(d, m, &g);
        return;
    }
    default:
        return;
    }
}

static void plain_packet(struct dec *d, struct dec_conn *c, struct dec_msg *m, const struct mtp_tr_packet *pk)
{
    c->plain++;
    d->st->plain++;
    struct mtp_auth_plain pm;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_auth_plain_unwrap(pk->data, pk->len, &pm, &err) < 0) {
        snprintf(m->error_buf, sizeof m->error_buf, "unencrypted message: %s", err.msg);
        m->error = m->error_buf;
        m->body = pk->data;
        m->body_len = pk->len;
        return;
    }
    m->msg_id = (uint64_t)pm.msg_id;
    m->body = pm.body;
    m->body_len = pm.body_len;
    m->data_len = (uint32_t)pm.body_len;
    if (d->o->stop_after == 2)
        return;
    decode_body(d, m, d->newest, NULL);
    exchange(d, m);
}

static struct dec_key *key_for(struct dec *d, uint64_t id64)
{
    struct dec_key *k = dec_keys_find(&d->keys, id64);
    if (k && k->mc == NULL && mtp_msgcrypt_new(k->key, &k->mc, NULL) < 0)
        return NULL;
    return k;
}

static void encrypted_packet(struct dec *d, struct dec_conn *c, struct dec_msg *m, const struct mtp_tr_packet *pk)
{
    c->encrypted++;
    d->st->encrypted++;
    m->enc = true;
    m->auth_key_id = pk->auth_key_id;
    m->body = pk->data;
    m->body_len = pk->len;
    bool seen = false;
    for (unsigned i = 0; i < c->nkey_ids; i++)
        seen |= c->key_ids[i] == pk->auth_key_id;
    if (!seen && c->nkey_ids < DEC_MAX_CONN_KEYS)
        c->key_ids[c->nkey_ids++] = pk->auth_key_id;
    struct dec_key *k = key_for(d, pk->auth_key_id);
    char idh[17];
    if (k == NULL) {
        c->undecrypted++;
        d->st->undecrypted++;
        snprintf(m->error_buf, sizeof m->error_buf, "encrypted with auth_key_id %s, which no key log line gives",
                 hex8(pk->auth_key_id, idh));
        m->error = m->error_buf;
        if (!seen)
            dec_problem(c, "%s", m->error_buf);
        return;
    }
    struct mtp_error err;
    mtp_error_clear(&err);
    mtp_wr_reset(&d->plain);
    enum mtp_sender sender = m->dir == MTP_TCP_C2S ? MTP_SENDER_CLIENT : MTP_SENDER_SERVER;
    /* Length and padding are judged below, so that a message breaking them is still shown. */
    int rc = mtp_msgcrypt_decrypt_skip(k->mc, sender, MTP_MSGCRYPT_SKIP_LENGTH | MTP_MSGCRYPT_SKIP_PADDING, pk->data,
                                       pk->len, &d->plain, &err);
    const char *crypto_req = m->dir == MTP_TCP_S2C ? "C-ENC-15" : "S-ENC-15";
    count(d, crypto_req);
    if (rc < 0) {
        c->undecrypted++;
        d->st->undecrypted++;
        snprintf(m->error_buf, sizeof m->error_buf, "does not decrypt with auth_key_id %s: %s (%s)",
                 hex8(pk->auth_key_id, idh), err.msg, mtp_err_name(rc));
        m->error = m->error_buf;
        if (rc == MTP_ERR_MSG_KEY_MISMATCH || rc == MTP_ERR_BAD_CIPHERTEXT_LENGTH)
            finding(d, m, rc == MTP_ERR_MSG_KEY_MISMATCH ? crypto_req : "C-ENC-20", "%s", err.msg);
        return;
    }
    m->decrypted = true;
    const uint8_t *pl = d->plain.p;
    size_t plen = d->plain.len;
    struct mtp_rd r;
    mtp_rd_init(&r, pl, plen, NULL);
    if (mtp_rd_u64(&r, &m->salt, "salt") < 0 || mtp_rd_u64(&r, &m->session_id, "session_id") < 0 ||
        mtp_rd_u64(&r, &m->msg_id, "msg_id") < 0 || mtp_rd_i32(&r, &m->seqno, "seqno") < 0 ||
        mtp_rd_u32(&r, &m->data_len, "message_data_length") < 0) {
        m->error = "the plaintext is shorter than its 32-byte header";
        return;
    }
    m->plaintext_len = plen;
    size_t room = mtp_rd_left(&r);
    const char *len_req = m->dir == MTP_TCP_S2C ? "C-ENC-17" : "S-ENC-17";
    count(d, len_req);
    count(d, "C-ENC-20");
    if (m->data_len > room) {
        snprintf(m->error_buf, sizeof m->error_buf, "message_data_length %" PRIu32 " is beyond the %zu-byte plaintext",
                 m->data_len, plen);
        m->error = m->error_buf;
        finding(d, m, len_req, "%s", m->error_buf);
        m->body = mtp_rd_cur(&r);
        m->body_len = room;
    } else {
        m->body = mtp_rd_cur(&r);
        m->body_len = m->data_len;
        m->padding = room - m->data_len;
        if (m->padding < MTP_MSG_MIN_PADDING || m->padding > MTP_MSG_MAX_PADDING)
            finding(d, m, "C-ENC-20", "%zu bytes of padding (12..1024 allowed)", m->padding);
    }
    if (m->data_len % 4 != 0)
        finding(d, m, m->dir == MTP_TCP_S2C ? "C-ENC-19" : "S-ENC-17",
                "message_data_length %" PRIu32 " is not a multiple of 4", m->data_len);
    if (m->dir == MTP_TCP_C2S && pk->quick_ack) {
        uint32_t token;
        if (mtp_tr_quick_ack_compute(k->key, MTP_TR_CLIENT, pl, plen, &token) == MTP_OK)
            c->qa_tokens[c->nqa++ % 16] = token;
    }
    if (d->o->stop_after == 2)
        return;
    struct dec_sess *s = sess_get(d, m->auth_key_id, m->session_id);
    m->sess = s;
    const struct dec_schema *sch = d->newest;
    if (s) {
        if (m->dir == MTP_TCP_C2S) {
            int32_t layer = body_layer(m->body, m->body_len, m->msg_id, m->seqno);
            if (layer > 0 && layer != s->layer) {
                s->layer = layer;
                s->schema = schema_for(d, layer);
            }
        }
        sch = s->schema;
    }
    decode_body(d, m, sch, s);
    if (s && m->value && m->dir == MTP_TCP_C2S)
        note_requests(s, sch, m->value, m->msg_id, 0);
}

void dec_packet(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, const struct mtp_tr_packet *pk, int64_t ts,
                uint64_t off)
{
    mtp_tl_arena_reset(&d->arena);
    if (pk->kind == MTP_TR_PKT_QUICK_ACK || pk->kind == MTP_TR_PKT_TRANSPORT_ERROR) {
        json_t *o = json_object();
        json_object_set_new(o, "dir", json_string(dir == MTP_TCP_C2S ? "c2s" : "s2c"));
        if (pk->kind == MTP_TR_PKT_QUICK_ACK) {
            c->quick_acks++;
            d->st->quick_acks++;
            char tok[9];
            snprintf(tok, sizeof tok, "%08" PRIx32, pk->ack_token);
            json_object_set_new(o, "token", json_string(tok));
            bool known = false;
            for (unsigned i = 0; i < 16 && i < c->nqa; i++)
                known |= c->qa_tokens[i] == pk->ack_token;
            if (d->o->check && c->nqa > 0) {
                dec_check_count(d, "S-TR-45");
                if (!known)
                    dec_check_finding(d, c, NULL, dir, "S-TR-45",
                                      "quick ack %08" PRIx32 " is the token of no packet that asked for one", pk->ack_token);
            }
            if (d->o->stop_after != 2)
                dec_out_event(d, c, "quick_ack", ts, o);
            else
                json_decref(o);
        } else {
            c->transport_errors++;
            d->st->transport_errors++;
            json_object_set_new(o, "code", json_integer(pk->error_code));
            json_object_set_new(o, "name", json_string(mtp_tr_error_name(pk->error_code)));
            if (d->o->stop_after != 2)
                dec_out_event(d, c, "transport_error", ts, o);
            else
                json_decref(o);
        }
        return;
    }
    struct dec_msg m;
    memset(&m, 0, sizeof m);
    m.c = c;
    m.dir = dir;
    m.ts_ns = ts;
    m.stream_off = off;
    m.quick_ack = pk->quick_ack;
    m.padding = pk->padding;
    c->msgs[dir]++;
    d->st->messages++;
    if (pk->kind == MTP_TR_PKT_PLAIN)
        plain_packet(d, c, &m, pk);
    else
        encrypted_packet(d, c, &m, pk);
    if (d->o->stop_after == 2)
        return;
    if (d->o->check)
        dec_check_msg(d, &m);
    dec_out_msg(d, &m);
}

int dec_packet_plausible(struct dec *d, enum mtp_tcp_dir dir, const uint8_t *p, size_t have, size_t want, int64_t ts)
{
    struct mtp_rd r;
    mtp_rd_init(&r, p, have, NULL);
    uint64_t id;
    if (mtp_rd_u64(&r, &id, "auth_key_id") < 0)
        return -1;
    if (id == 0) {
        uint64_t msg_id;
        uint32_t len, ctor;
        if (mtp_rd_u64(&r, &msg_id, "msg_id") < 0 || mtp_rd_u32(&r, &len, "length") < 0 ||
            mtp_rd_u32(&r, &ctor, "ctor") < 0)
            return -1;
        int64_t sec = (int64_t)(msg_id >> 32), now = ts / 1000000000;
        if (len + 20 > want || want - (len + 20) > MTP_TR_PADDING_MAX || !is_exchange_ctor(ctor))
            return 0;
        if (ts > 0 && (sec < now - PLAUSIBLE_SKEW_S || sec > now + PLAUSIBLE_SKEW_S))
            return 0;
        return 1;
    }
    struct dec_key *k = key_for(d, id);
    if (k == NULL)
        return 0;
    if (want < 24 + 16)
        return 0;
    size_t pkt = 24 + (want - 24) / 16 * 16;
    if (have < pkt)
        return -1;
    mtp_wr_reset(&d->inner);
    int rc = mtp_msgcrypt_decrypt_skip(k->mc, dir == MTP_TCP_C2S ? MTP_SENDER_CLIENT : MTP_SENDER_SERVER,
                                       MTP_MSGCRYPT_SKIP_LENGTH | MTP_MSGCRYPT_SKIP_PADDING, p, pkt, &d->inner, NULL);
    return rc == MTP_OK ? 1 : 0;
}
