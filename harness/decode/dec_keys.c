/* Key material for the decoder, from key logs (docs/keylog.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dec_internal.h"
#include "keylog/keylog.h"
#include "mtp/authcrypt.h"

static size_t bucket8(const uint8_t *p) { return (size_t)(mtp_load_u64(p) % DEC_KEY_BUCKETS); }

struct dec_key *dec_keys_find(const struct dec_keys *k, uint64_t id64)
{
    for (struct dec_key *e = k->keys[id64 % DEC_KEY_BUCKETS]; e; e = e->next)
        if (e->id64 == id64)
            return e;
    return NULL;
}

const struct dec_obfs_line *dec_keys_obfs(const struct dec_keys *k, const uint8_t init[MTP_OBFS_INIT_LEN])
{
    /* bytes 8..16 of an init are random and sent in the clear */
    for (const struct dec_obfs_line *e = k->obfs[bucket8(init + 8)]; e; e = e->next)
        if (memcmp(e->init, init, MTP_OBFS_INIT_LEN) == 0)
            return e;
    return NULL;
}

const struct dec_nonce_line *dec_keys_nonce(const struct dec_keys *k, const uint8_t nonce[16],
                                            const uint8_t server_nonce[16])
{
    for (const struct dec_nonce_line *e = k->nonces[bucket8(nonce)]; e; e = e->next)
        if (memcmp(e->nonce, nonce, 16) == 0 && memcmp(e->server_nonce, server_nonce, 16) == 0)
            return e;
    return NULL;
}

static int on_key(void *ctx, const uint8_t id[8], const uint8_t key[256], bool temp, int32_t expires_at,
                  struct mtp_error *err)
{
    (void)expires_at;
    struct dec_keys *k = ctx;
    uint64_t id64 = mtp_load_u64(id);
    if (dec_keys_find(k, id64))
        return MTP_OK; /* the same key in two logs, or logged by both ends */
    struct dec_key *e = calloc(1, sizeof *e);
    if (e == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "key log: out of memory");
    e->id64 = id64;
    memcpy(e->key, key, 256);
    mtp_authcrypt_auth_key_aux_hash(key, e->aux);
    e->temp = temp;
    e->next = k->keys[id64 % DEC_KEY_BUCKETS];
    k->keys[id64 % DEC_KEY_BUCKETS] = e;
    k->nkeys++;
    return MTP_OK;
}

static int on_obfs2(void *ctx, const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_keys *keys,
                    struct mtp_error *err)
{
    struct dec_keys *k = ctx;
    if (dec_keys_obfs(k, init))
        return MTP_OK;
    struct dec_obfs_line *e = calloc(1, sizeof *e);
    if (e == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "key log: out of memory");
    memcpy(e->init, init, MTP_OBFS_INIT_LEN);
    e->keys = *keys;
    size_t b = bucket8(init + 8);
    e->next = k->obfs[b];
    k->obfs[b] = e;
    k->nobfs++;
    return MTP_OK;
}

static int on_nonce(void *ctx, const uint8_t nonce[16], const uint8_t server_nonce[16], const uint8_t new_nonce[32],
                    struct mtp_error *err)
{
    struct dec_keys *k = ctx;
    if (dec_keys_nonce(k, nonce, server_nonce))
        return MTP_OK;
    struct dec_nonce_line *e = calloc(1, sizeof *e);
    if (e == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "key log: out of memory");
    memcpy(e->nonce, nonce, 16);
    memcpy(e->server_nonce, server_nonce, 16);
    memcpy(e->new_nonce, new_nonce, 32);
    size_t b = bucket8(nonce);
    e->next = k->nonces[b];
    k->nonces[b] = e;
    k->nnonces++;
    return MTP_OK;
}

/* A damaged key log still gives the lines that parse: the rest is reported. */
static void on_bad(void *ctx, size_t line, const char *what)
{
    struct dec_keys *k = ctx;
    if (k->bad_lines++ == 0)
        snprintf(k->first_bad, sizeof k->first_bad, "line %zu: %s", line, what);
}

static struct mtp_keylog_reader reader(struct dec_keys *k)
{
    return (struct mtp_keylog_reader){.key = on_key, .obfs2 = on_obfs2, .new_nonce = on_nonce, .bad_line = on_bad,
                                      .skip_unknown = true, .ctx = k};
}

int dec_keys_load(struct dec_keys *k, const char *path, struct mtp_error *err)
{
    struct mtp_keylog_reader rd = reader(k);
    return mtp_keylog_read(path, &rd, err);
}

int dec_keys_load_mem(struct dec_keys *k, const char *text, size_t len, struct mtp_error *err)
{
    struct mtp_keylog_reader rd = reader(k);
    return mtp_keylog_read_mem("key log", text, len, &rd, err);
}

void dec_keys_free(struct dec_keys *k)
{
    for (size_t i = 0; i < DEC_KEY_BUCKETS; i++) {
        for (struct dec_key *e = k->keys[i], *n; e; e = n) {
            n = e->next;
            mtp_msgcrypt_del(e->mc);
            mtp_wipe(e, sizeof *e);
            free(e);
        }
        for (struct dec_obfs_line *e = k->obfs[i], *n; e; e = n) {
            n = e->next;
            mtp_wipe(e, sizeof *e);
            free(e);
        }
        for (struct dec_nonce_line *e = k->nonces[i], *n; e; e = n) {
            n = e->next;
            mtp_wipe(e, sizeof *e);
            free(e);
        }
        k->keys[i] = NULL;
        k->obfs[i] = NULL;
        k->nonces[i] = NULL;
    }
}
