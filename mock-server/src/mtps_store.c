#include "mtps_store.h"

#include <stdlib.h>
#include <string.h>

#include "mtp/buf.h"
#include "mtp/msgcrypt.h"

uint64_t mtps_key_id_u64(const uint8_t wire[8]) { return mtp_load_u64(wire); }

int mtps_store_init(struct mtps_store *st, const struct mtps_store_cfg *cfg, const struct mtp_env *env,
                    mtps_sess_event_fn on_event, void *event_ctx)
{
    memset(st, 0, sizeof *st);
    if (cfg->max_keys == 0 || cfg->max_sessions == 0 || cfg->max_sessions_per_key == 0)
        return MTP_ERR_ARG;
    st->cfg = *cfg;
    st->env = *env;
    st->on_event = on_event;
    st->event_ctx = event_ctx;
    st->nbuckets = 64;
    while (st->nbuckets < cfg->max_keys && st->nbuckets < (1u << 24))
        st->nbuckets <<= 1;
    st->buckets = calloc(st->nbuckets, sizeof *st->buckets);
    return st->buckets ? MTP_OK : MTP_ERR_NOMEM;
}

/* --- LRU lists (most recent at the head) --- */

#define LRU_UNLINK(head, tail, e)                                                                                      \
    do {                                                                                                               \
        if ((e)->lprev)                                                                                                \
            (e)->lprev->lnext = (e)->lnext;                                                                            \
        else                                                                                                           \
            (head) = (e)->lnext;                                                                                       \
        if ((e)->lnext)                                                                                                \
            (e)->lnext->lprev = (e)->lprev;                                                                            \
        else                                                                                                           \
            (tail) = (e)->lprev;                                                                                       \
        (e)->lprev = (e)->lnext = NULL;                                                                                \
    } while (0)

#define LRU_PUSH(head, tail, e)                                                                                        \
    do {                                                                                                               \
        (e)->lprev = NULL;                                                                                             \
        (e)->lnext = (head);                                                                                           \
        if (head)                                                                                                      \
            (head)->lprev = (e);                                                                                       \
        else                                                                                                           \
            (tail) = (e);                                                                                              \
        (head) = (e);                                                                                                  \
    } while (0)

static int64_t now_ms(const struct mtps_store *st) { return mtp_env_now_ms(&st->env); }

/* --- sessions --- */

static void sess_event(void *ctx, const struct mtp_session_event *ev)
{
    struct mtps_sess *s = ctx;
    if (s->store->on_event)
        s->store->on_event(s->store->event_ctx, s, ev);
}

static void sess_free(struct mtps_store *st, struct mtps_sess *s)
{
    struct mtps_key *k = s->key;
    for (struct mtps_sess **pp = &k->sessions; *pp; pp = &(*pp)->knext)
        if (*pp == s) {
            *pp = s->knext;
            break;
        }
    k->nsessions--;
    LRU_UNLINK(st->slru, st->slru_tail, s);
    st->nsessions--;
    mtp_session_free(&s->core);
    free(s);
}

void mtps_store_drop_session(struct mtps_store *st, struct mtps_sess *s) { sess_free(st, s); }

void mtps_store_touch_session(struct mtps_store *st, struct mtps_sess *s)
{
    s->used_ms = now_ms(st);
    LRU_UNLINK(st->slru, st->slru_tail, s);
    LRU_PUSH(st->slru, st->slru_tail, s);
}

struct mtps_sess *mtps_store_find_session(struct mtps_key *k, uint64_t session_id)
{
    for (struct mtps_sess *s = k->sessions; s; s = s->knext)
        if (s->session_id == session_id)
            return s;
    return NULL;
}

/* The least recently used session that no connection uses, optionally of one key. */
static struct mtps_sess *idle_session(struct mtps_store *st, const struct mtps_key *only)
{
    for (struct mtps_sess *s = st->slru_tail; s; s = s->lprev)
        if (s->conn == NULL && (only == NULL || s->key == only))
            return s;
    return NULL;
}

int mtps_store_session(struct mtps_store *st, struct mtps_key *k, uint64_t session_id, struct mtps_sess **out,
                       bool *created, struct mtp_error *err)
{
    *created = false;
    struct mtps_sess *s = mtps_store_find_session(k, session_id);
    if (s) {
        *out = s;
        return MTP_OK;
    }
    if (k->nsessions >= st->cfg.max_sessions_per_key) {
        struct mtps_sess *old = idle_session(st, k);
        if (old == NULL)
            return mtp_error_set(err, MTP_ERR_SRV_SESSION_LIMIT, MTP_NO_OFFSET,
                                 "session %#llx: the key already has %u sessions in use",
                                 (unsigned long long)session_id, st->cfg.max_sessions_per_key);
        sess_free(st, old);
    }
    if (st->nsessions >= st->cfg.max_sessions) {
        struct mtps_sess *old = idle_session(st, NULL);
        if (old == NULL)
            return mtp_error_set(err, MTP_ERR_SRV_SESSION_LIMIT, MTP_NO_OFFSET,
                                 "session %#llx: all %u sessions are in use", (unsigned long long)session_id,
                                 st->cfg.max_sessions);
        sess_free(st, old);
    }
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "session: out of memory");
    int rc = mtp_session_init(&s->core, MTP_SESSION_SERVER, &st->cfg.session, &st->env, sess_event, s);
    if (rc < 0) {
        free(s);
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "session: cannot initialise the session core");
    }
    s->store = st;
    s->key = k;
    s->session_id = session_id;
    mtp_session_set_auth_key(&s->core, k->auth_key);
    s->core.salts = k->salts;
    s->knext = k->sessions;
    k->sessions = s;
    k->nsessions++;
    st->nsessions++;
    s->used_ms = now_ms(st);
    LRU_PUSH(st->slru, st->slru_tail, s);
    *out = s;
    *created = true;
    return MTP_OK;
}

int mtps_sess_recv(struct mtps_sess *s, const uint8_t *plain, size_t len, struct mtp_error *err)
{
    /* The core keeps salts per session; on Telegram they belong to the key. */
    s->core.salts = s->key->salts;
    int rc = mtp_session_recv(&s->core, plain, len, err);
    s->key->salts = s->core.salts;
    return rc;
}

/* --- keys --- */

static size_t bucket(const struct mtps_store *st, uint64_t id) { return (size_t)(id & (st->nbuckets - 1)); }

struct mtps_key *mtps_store_find_key(struct mtps_store *st, uint64_t id)
{
    for (struct mtps_key *k = st->buckets[bucket(st, id)]; k; k = k->hnext)
        if (k->id == id)
            return k;
    return NULL;
}

void mtps_store_touch_key(struct mtps_store *st, struct mtps_key *k)
{
    k->used_ms = now_ms(st);
    LRU_UNLINK(st->klru, st->klru_tail, k);
    LRU_PUSH(st->klru, st->klru_tail, k);
}

static void unbind(struct mtps_store *st, struct mtps_key *k)
{
    struct mtps_key *o;
    if (k->bound_perm && (o = mtps_store_find_key(st, k->bound_perm)) != NULL && o->bound_temp == k->id)
        o->bound_temp = 0;
    if (k->bound_temp && (o = mtps_store_find_key(st, k->bound_temp)) != NULL && o->bound_perm == k->id)
        o->bound_perm = 0;
    k->bound_perm = k->bound_temp = 0;
}

static void key_free(struct mtps_store *st, struct mtps_key *k)
{
    unbind(st, k);
    while (k->sessions)
        sess_free(st, k->sessions);
    for (struct mtps_key **pp = &st->buckets[bucket(st, k->id)]; *pp; pp = &(*pp)->hnext)
        if (*pp == k) {
            *pp = k->hnext;
            break;
        }
    LRU_UNLINK(st->klru, st->klru_tail, k);
    st->nkeys--;
    mtp_wipe(k, sizeof *k);
    free(k);
}

void mtps_store_drop_key(struct mtps_store *st, struct mtps_key *k) { key_free(st, k); }

int mtps_store_add_key(struct mtps_store *st, const uint8_t auth_key[256], bool temp, int32_t expires_at,
                       uint64_t first_salt, struct mtps_key **out, struct mtp_error *err)
{
    struct mtps_key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "auth key: out of memory");
    memcpy(k->auth_key, auth_key, sizeof k->auth_key);
    uint8_t id[8];
    mtp_auth_key_id(auth_key, id);
    k->id = mtps_key_id_u64(id);
    if (mtps_store_find_key(st, k->id) != NULL) {
        mtp_wipe(k, sizeof *k);
        free(k);
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "auth key %016llx exists already",
                             (unsigned long long)mtps_key_id_u64(id));
    }
    if (st->nkeys >= st->cfg.max_keys) {
        struct mtps_key *old = NULL;
        for (struct mtps_key *c = st->klru_tail; c && old == NULL; c = c->lprev)
            if (c->refs == 0)
                old = c;
        if (old == NULL) {
            mtp_wipe(k, sizeof *k);
            free(k);
            return mtp_error_set(err, MTP_ERR_SRV_SESSION_LIMIT, MTP_NO_OFFSET, "all %u auth keys are in use",
                                 st->cfg.max_keys);
        }
        key_free(st, old);
    }
    k->temp = temp;
    k->expires_at = expires_at;
    k->created_ms = k->used_ms = now_ms(st);
    k->first_salt = first_salt;
    mtp_salts_clear(&k->salts);
    mtp_salts_add(&k->salts, first_salt, k->created_ms, k->created_ms + st->cfg.session.salt_period_ms);
    size_t b = bucket(st, k->id);
    k->hnext = st->buckets[b];
    st->buckets[b] = k;
    LRU_PUSH(st->klru, st->klru_tail, k);
    st->nkeys++;
    *out = k;
    return MTP_OK;
}

enum mtps_bind_result mtps_store_bind(struct mtps_store *st, struct mtps_key *temp, struct mtps_key *perm,
                                      int32_t expires_at, uint64_t *replaced)
{
    if (replaced)
        *replaced = 0;
    if (temp->bound_perm == perm->id && perm->bound_temp == temp->id)
        return MTPS_BIND_SAME;
    if (mtps_store_bound_perm(st, temp) != NULL)
        return MTPS_BIND_TAKEN;
    enum mtps_bind_result res = MTPS_BIND_NEW;
    struct mtps_key *old = perm->bound_temp ? mtps_store_find_key(st, perm->bound_temp) : NULL;
    if (old != NULL && old->bound_perm == perm->id) {
        old->bound_perm = 0;
        res = MTPS_BIND_REPLACED;
        if (replaced)
            *replaced = old->id;
    }
    perm->bound_temp = temp->id;
    temp->bound_perm = perm->id;
    if (expires_at < temp->expires_at)
        temp->expires_at = expires_at;
    return res;
}

struct mtps_key *mtps_store_bound_perm(struct mtps_store *st, const struct mtps_key *temp)
{
    struct mtps_key *p = temp->bound_perm ? mtps_store_find_key(st, temp->bound_perm) : NULL;
    return p != NULL && p->bound_temp == temp->id ? p : NULL;
}

int mtps_key_rotate_salt(struct mtps_store *st, struct mtps_key *k)
{
    uint64_t salt;
    MTP_GUARD(mtp_env_rand(&st->env, &salt, sizeof salt));
    int64_t now = now_ms(st);
    mtp_salts_clear(&k->salts);
    mtp_salts_add(&k->salts, salt, now, now + st->cfg.session.salt_period_ms);
    return MTP_OK;
}

void mtps_store_free(struct mtps_store *st)
{
    while (st->klru)
        key_free(st, st->klru);
    free(st->buckets);
    st->buckets = NULL;
}

size_t mtps_store_key_bytes(void) { return sizeof(struct mtps_key) + 16; }

size_t mtps_store_session_bytes(const struct mtp_session_cfg *cfg)
{
    /* The core's allocations at init: the msg_id window, the outgoing store, the ack list. */
    return sizeof(struct mtps_sess) + cfg->window * 16 + cfg->max_stored * sizeof(struct mtp_session_out) +
           cfg->ack_max * sizeof(uint64_t) + 64;
}
