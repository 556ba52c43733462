/* The mock DC's memory: auth keys and the sessions living under them.
 *
 * Keys are found by auth_key_id (a hash table); each key owns its sessions
 * (found by session_id) and the server salts its sessions share, as on
 * Telegram's servers where salts belong to the key.  Sessions outlive
 * connections: a client that reconnects with its key and session_id finds the
 * session again (same msg_id window, same pending answers).
 *
 * Both tables are bounded (mtps_limits): when full, the least recently used
 * key or session that no live connection uses is forgotten (its client gets
 * -404 or new_session_created next time); when every slot is in use, adding
 * fails with MTP_ERR_SRV_SESSION_LIMIT. */
#ifndef MTPS_STORE_H
#define MTPS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/salts.h"
#include "mtp/session.h"

struct mtps_store;
struct mtps_key;

struct mtps_sess {
    struct mtps_store *store;
    struct mtps_key *key;
    uint64_t session_id;
    struct mtp_session core;
    void *conn;                      /* the connection it last heard from and answers on; NULL when none */
    int64_t used_ms;
    int32_t layer;                   /* from invokeWithLayer, 0 until seen */
    uint64_t last_sent_msg_id;       /* the msg_id of the last message sent in it (0: none yet) */
    bool exact_padding_sent;         /* session.padding N: a message with exactly N bytes went out */
    struct mtps_sess *knext;         /* the key's list */
    struct mtps_sess *lprev, *lnext; /* the store's LRU list, most recent first */
};

struct mtps_key {
    uint64_t id;                      /* auth_key_id: its 8 wire bytes as a LE integer */
    uint8_t auth_key[256];
    bool temp;
    int32_t expires_at;               /* temporary keys: unix time (s) */
    /* auth.bindTempAuthKey: a temporary key's permanent key, a permanent key's
     * temporary key (ids, 0 for none; a key that is forgotten takes its
     * binding with it). */
    uint64_t bound_perm;
    uint64_t bound_temp;
    int64_t created_ms, used_ms;
    struct mtp_salts salts;           /* shared by the key's sessions */
    uint64_t first_salt;              /* from the exchange, wire bytes as a LE integer */
    struct mtps_sess *sessions;
    uint32_t nsessions;
    uint32_t refs;                    /* live connections bound to the key */
    struct mtps_key *hnext;           /* hash chain */
    struct mtps_key *lprev, *lnext;   /* LRU list, most recent first */
};

/* Session events go here; the session tells which one. */
typedef void (*mtps_sess_event_fn)(void *ctx, struct mtps_sess *s, const struct mtp_session_event *ev);

struct mtps_store_cfg {
    uint32_t max_keys;
    uint32_t max_sessions;
    uint32_t max_sessions_per_key;
    struct mtp_session_cfg session;
};

struct mtps_store {
    struct mtps_store_cfg cfg;
    struct mtp_env env;
    mtps_sess_event_fn on_event;
    void *event_ctx;
    struct mtps_key **buckets;
    size_t nbuckets;                  /* a power of two */
    size_t nkeys, nsessions;
    struct mtps_key *klru, *klru_tail;
    struct mtps_sess *slru, *slru_tail;
};

MTP_MUST_USE int mtps_store_init(struct mtps_store *st, const struct mtps_store_cfg *cfg, const struct mtp_env *env,
                                 mtps_sess_event_fn on_event, void *event_ctx);
/* Frees every key (wiped) and session. */
void mtps_store_free(struct mtps_store *st);

uint64_t mtps_key_id_u64(const uint8_t wire[8]);
struct mtps_key *mtps_store_find_key(struct mtps_store *st, uint64_t id);
/* Adds a key; its first salt is valid from now for the session
 * configuration's salt period.  MTP_ERR_ARG if the id exists (the exchange
 * should have answered dh_gen_retry), MTP_ERR_SRV_SESSION_LIMIT when full. */
MTP_MUST_USE int mtps_store_add_key(struct mtps_store *st, const uint8_t auth_key[256], bool temp, int32_t expires_at,
                                    uint64_t first_salt, struct mtps_key **out, struct mtp_error *err);
/* Forgets a key and its sessions (no connection may be bound to it). */
void mtps_store_drop_key(struct mtps_store *st, struct mtps_key *k);
/* Marks a key used now (LRU). */
void mtps_store_touch_key(struct mtps_store *st, struct mtps_key *k);

/* The session session_id of key k, created (*created = true) if it does not
 * exist.  MTP_ERR_SRV_SESSION_LIMIT when there is no room. */
MTP_MUST_USE int mtps_store_session(struct mtps_store *st, struct mtps_key *k, uint64_t session_id,
                                    struct mtps_sess **out, bool *created, struct mtp_error *err);
struct mtps_sess *mtps_store_find_session(struct mtps_key *k, uint64_t session_id);
/* Forgets a session (its connection, if any, must unbind it first). */
void mtps_store_drop_session(struct mtps_store *st, struct mtps_sess *s);
void mtps_store_touch_session(struct mtps_store *st, struct mtps_sess *s);

/* Runs the session core's recv with the key's salts (copied in and back, as
 * the core keeps them per session). */
MTP_MUST_USE int mtps_sess_recv(struct mtps_sess *s, const uint8_t *plain, size_t len, struct mtp_error *err);
/* Replaces the key's salts with one fresh random salt valid from now (the
 * old ones are forgotten at once, without grace). */
MTP_MUST_USE int mtps_key_rotate_salt(struct mtps_store *st, struct mtps_key *k);

/* How mtps_store_bind went. */
enum mtps_bind_result {
    MTPS_BIND_NEW = 1,  /* bound; the permanent key had no temporary key */
    MTPS_BIND_SAME,     /* the two were bound already */
    MTPS_BIND_REPLACED, /* bound; the permanent key's previous temporary key (*replaced) is unbound */
    MTPS_BIND_TAKEN,    /* refused: the temporary key is bound to another permanent key */
};
/* Binds temporary key temp to permanent key perm ("each permanent key may
 * only be bound to one temporary key at a time, binding a new temporary key
 * overwrites the previous one").  expires_at, when earlier than the key's own
 * expiry, becomes it.  *replaced (may be NULL) gets the id of the temporary
 * key the binding replaced, 0 if none.  The caller checks that temp is
 * temporary and perm permanent. */
enum mtps_bind_result mtps_store_bind(struct mtps_store *st, struct mtps_key *temp, struct mtps_key *perm,
                                      int32_t expires_at, uint64_t *replaced);
/* The permanent key a temporary key is bound to; NULL when none. */
struct mtps_key *mtps_store_bound_perm(struct mtps_store *st, const struct mtps_key *temp);

/* Approximate fixed memory of one key / one session, for the stated bound. */
size_t mtps_store_key_bytes(void);
size_t mtps_store_session_bytes(const struct mtp_session_cfg *cfg);

#endif
