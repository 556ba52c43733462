#include "mtps_hs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/dh.h"
#include "mtp/hex.h"

static int bad(struct mtp_error *err, const char *origin, const char *fmt, ...) MTP_PRINTF(3, 4);
static int bad(struct mtp_error *err, const char *origin, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mtp_error_set(err, MTP_ERR_SRV_SCENARIO, MTP_NO_OFFSET, "%s: auth.%s", origin, msg);
}

/* Decodes a hex string into a buffer the settings own. */
static int hex_value(struct mtps_auth_cfg *a, const json_t *v, const char *origin, const char *key,
                     const uint8_t **p, size_t *len, struct mtp_error *err)
{
    if (!json_is_string(v))
        return bad(err, origin, "%s: expected a hex string", key);
    if (a->nbufs == sizeof a->bufs / sizeof a->bufs[0])
        return bad(err, origin, "%s: too many byte values", key);
    struct mtp_error e;
    mtp_error_clear(&e);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1u << 16, &e);
    if (mtp_hex_decode(json_string_value(v), json_string_length(v), &w, key) < 0 || w.len == 0) {
        mtp_wr_free(&w);
        return bad(err, origin, "%s: not a non-empty hex string of at most 64 KiB", key);
    }
    size_t n;
    uint8_t *b = mtp_wr_take(&w, &n);
    a->bufs[a->nbufs++] = b;
    *p = b;
    *len = n;
    return MTP_OK;
}

static int int_value(const json_t *v, const char *origin, const char *key, int64_t lo, int64_t hi, int64_t *out,
                     struct mtp_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return bad(err, origin, "%s: expected an integer %lld..%lld", key, (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return MTP_OK;
}

static int bool_value(const json_t *v, const char *origin, const char *key, bool *out, struct mtp_error *err)
{
    if (!json_is_boolean(v))
        return bad(err, origin, "%s: expected true or false", key);
    *out = json_is_true(v);
    return MTP_OK;
}

typedef int (*setter_fn)(struct mtps_auth_cfg *a, const json_t *v, const char *origin, const char *key,
                         struct mtp_error *err);

static int set_dh_prime(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    return hex_value(a, v, o, k, &a->cfg.dh_prime, &a->cfg.dh_prime_len, e);
}

static int set_g(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    int64_t x = 0;
    MTP_GUARD(int_value(v, o, k, 2, 7, &x, e));
    a->cfg.g = (int32_t)x;
    return MTP_OK;
}

static int set_pq_bits(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    int64_t p = 0, q = 0;
    if (!json_is_array(v) || json_array_size(v) != 2)
        return bad(e, o, "%s: expected [p_bits, q_bits]", k);
    MTP_GUARD(int_value(json_array_get(v, 0), o, k, 2, 32, &p, e));
    MTP_GUARD(int_value(json_array_get(v, 1), o, k, 2, 32, &q, e));
    if (p + q > 63)
        return bad(e, o, "%s: p_bits + q_bits must be at most 63", k);
    a->cfg.pq_p_bits = (unsigned)p;
    a->cfg.pq_q_bits = (unsigned)q;
    return MTP_OK;
}

static int set_dc_check(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    return bool_value(v, o, k, &a->dc_check, e);
}

static int set_refuse_old(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    return bool_value(v, o, k, &a->cfg.refuse_old, e);
}

static int set_corrupt(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    if (!json_is_array(v))
        return bad(e, o, "%s: expected a list of field names", k);
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *n = json_array_get(v, i);
        int point = json_is_string(n) ? mtp_auth_corrupt_from_name(json_string_value(n)) : -1;
        if (point < 0 || !mtp_auth_corrupt_is_server((enum mtp_auth_corrupt)point))
            return bad(e, o, "%s[%zu]: not a field the server sends (see mtp/auth.h)", k, i);
        a->beh.corrupt |= MTP_AUTH_CORRUPT(point);
    }
    return MTP_OK;
}

static int set_send_pq(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    return hex_value(a, v, o, k, &a->beh.pq, &a->beh.pq_len, e);
}

static int set_send_fps(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    if (!json_is_array(v) || json_array_size(v) > MTP_AUTH_MAX_FINGERPRINTS)
        return bad(e, o, "%s: expected a list of at most %d fingerprints (16 hex digits, or \"server\")", k,
                   MTP_AUTH_MAX_FINGERPRINTS);
    if (a->nbufs == sizeof a->bufs / sizeof a->bufs[0])
        return bad(e, o, "%s: too many byte values", k);
    size_t n = json_array_size(v);
    uint8_t *b = calloc(n ? n : 1, 8);
    if (b == NULL)
        return mtp_error_set(e, MTP_ERR_NOMEM, MTP_NO_OFFSET, "%s: out of memory", o);
    a->bufs[a->nbufs++] = b;
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(v, i);
        struct mtp_error he;
        mtp_error_clear(&he);
        /* "server": the server's own key, which a client holds (a list mixing known and unknown ones). */
        if (json_is_string(f) && strcmp(json_string_value(f), "server") == 0) {
            a->fp_server |= 1u << i;
            continue;
        }
        if (!json_is_string(f) || mtp_hex_decode_exact(json_string_value(f), b + 8 * i, 8, &he, k) < 0)
            return bad(e, o, "%s[%zu]: expected 16 hex digits (the wire bytes) or \"server\"", k, i);
    }
    a->beh.fingerprints = b;
    a->beh.n_fingerprints = n;
    return MTP_OK;
}

static int set_send_dh_prime(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k,
                             struct mtp_error *e)
{
    return hex_value(a, v, o, k, &a->beh.dh_prime, &a->beh.dh_prime_len, e);
}

static int set_send_g(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    int64_t x = 0;
    MTP_GUARD(int_value(v, o, k, INT32_MIN, INT32_MAX, &x, e));
    a->beh.g_set = true;
    a->beh.g = (int32_t)x;
    return MTP_OK;
}

/* --- send_g_a as an expression of the prime sent ---
 * Terms p, 2^N and decimal numbers joined by + and - ("p-1", "2^1984-1",
 * "p-2^1984+1"): the values security_guidelines' g_a checks turn on,
 * whatever prime a scenario sends. */

#define EXPR_LIMBS 72 /* 2304 bits, room for anything near 2^2048 */

struct bigv {
    uint32_t l[EXPR_LIMBS]; /* little-endian limbs */
};

static bool big_add(struct bigv *a, const struct bigv *b, int sign)
{
    int64_t carry = 0;
    for (size_t i = 0; i < EXPR_LIMBS; i++) {
        int64_t x = (int64_t)a->l[i] + sign * (int64_t)b->l[i] + carry;
        a->l[i] = (uint32_t)x;
        carry = x < 0 ? -1 : x >> 32;
    }
    return carry == 0; /* no overflow, no negative result */
}

static bool big_from_be(struct bigv *v, const uint8_t *p, size_t n)
{
    memset(v, 0, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        size_t bit = 8 * (n - 1 - i);
        if (p[i] == 0)
            continue;
        if (bit / 32 >= EXPR_LIMBS)
            return false;
        v->l[bit / 32] |= (uint32_t)p[i] << (bit % 32);
    }
    return true;
}

/* One term at *s: p, 2^N or a decimal number. */
static bool term(const char **s, const uint8_t *prime, size_t prime_len, struct bigv *v)
{
    memset(v, 0, sizeof *v);
    const char *t = *s;
    if (*t == 'p') {
        *s = t + 1;
        return big_from_be(v, prime, prime_len);
    }
    if (*t < '0' || *t > '9')
        return false;
    uint64_t x = 0;
    while (*t >= '0' && *t <= '9' && x < (1ull << 40))
        x = x * 10 + (uint64_t)(*t++ - '0');
    if (*t >= '0' && *t <= '9')
        return false;
    if (*t == '^') {
        if (x != 2 || t[1] < '0' || t[1] > '9')
            return false;
        uint64_t n = 0;
        t++;
        while (*t >= '0' && *t <= '9' && n < 100000)
            n = n * 10 + (uint64_t)(*t++ - '0');
        if (n >= 32 * EXPR_LIMBS)
            return false;
        v->l[n / 32] = 1u << (n % 32);
    } else {
        v->l[0] = (uint32_t)x;
        v->l[1] = (uint32_t)(x >> 32);
    }
    *s = t;
    return true;
}

static int resolve_g_a(struct mtps_auth_cfg *a, const char *expr, const char *o, struct mtp_error *e)
{
    const uint8_t *prime = a->beh.dh_prime ? a->beh.dh_prime : a->cfg.dh_prime ? a->cfg.dh_prime : mtp_dh_telegram_prime;
    size_t prime_len = a->beh.dh_prime ? a->beh.dh_prime_len : a->cfg.dh_prime ? a->cfg.dh_prime_len : MTP_DH_BYTES;
    struct bigv acc, t;
    memset(&acc, 0, sizeof acc);
    const char *s = expr;
    int sign = 1;
    for (;;) {
        while (*s == ' ')
            s++;
        if (!term(&s, prime, prime_len, &t))
            return bad(e, o, "send_g_a: \"%s\": expected p, 2^N or a number at offset %d", expr, (int)(s - expr));
        if (!big_add(&acc, &t, sign))
            return bad(e, o, "send_g_a: \"%s\" is negative or too large", expr);
        while (*s == ' ')
            s++;
        if (*s == '\0')
            break;
        if (*s != '+' && *s != '-')
            return bad(e, o, "send_g_a: \"%s\": expected + or - at offset %d", expr, (int)(s - expr));
        sign = *s++ == '+' ? 1 : -1;
    }
    /* 256 bytes, as g_a goes on the wire; more only for a value that needs them. */
    size_t top = EXPR_LIMBS * 4;
    uint8_t be[EXPR_LIMBS * 4];
    for (size_t i = 0; i < top; i++)
        be[top - 1 - i] = (uint8_t)(acc.l[i / 4] >> (8 * (i % 4)));
    size_t skip = 0;
    while (skip < top - MTP_DH_BYTES && be[skip] == 0)
        skip++;
    if (a->nbufs == sizeof a->bufs / sizeof a->bufs[0])
        return bad(e, o, "send_g_a: too many byte values");
    uint8_t *b = malloc(top - skip);
    if (b == NULL)
        return mtp_error_set(e, MTP_ERR_NOMEM, MTP_NO_OFFSET, "%s: out of memory", o);
    memcpy(b, be + skip, top - skip);
    a->bufs[a->nbufs++] = b;
    a->beh.g_a = b;
    a->beh.g_a_len = top - skip;
    return MTP_OK;
}

static int set_send_g_a(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    /* An expression names p or a power of 2; anything else is hex. */
    if (json_is_string(v) && strpbrk(json_string_value(v), "p^") != NULL) {
        a->g_a_expr = json_string_value(v);
        return MTP_OK;
    }
    return hex_value(a, v, o, k, &a->beh.g_a, &a->beh.g_a_len, e);
}

static int set_send_answer(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k,
                           struct mtp_error *e)
{
    return hex_value(a, v, o, k, &a->beh.answer, &a->beh.answer_len, e);
}

static int set_time_offset(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k,
                           struct mtp_error *e)
{
    int64_t x = 0;
    MTP_GUARD(int_value(v, o, k, -(1ll << 30), 1ll << 30, &x, e));
    a->time_offset_set = true;
    a->time_offset_s = (int32_t)x;
    return MTP_OK;
}

static int set_params_fail(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k,
                           struct mtp_error *e)
{
    return bool_value(v, o, k, &a->beh.dh_params_fail, e);
}

static int set_gen_retries(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k,
                           struct mtp_error *e)
{
    int64_t x = 0;
    MTP_GUARD(int_value(v, o, k, 0, 100, &x, e));
    a->beh.dh_gen_retries = (unsigned)x;
    return MTP_OK;
}

static int set_gen_fail(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    return bool_value(v, o, k, &a->beh.dh_gen_fail, e);
}

static int set_gen_hash(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    int64_t x = 0;
    MTP_GUARD(int_value(v, o, k, 1, 3, &x, e));
    a->beh.dh_gen_hash_number = (int)x;
    return MTP_OK;
}

static int set_g_a_zero(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k,
                        struct mtp_error *e)
{
    return bool_value(v, o, k, &a->beh.g_a_leading_zero, e);
}

static int set_g_a_encoding(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k,
                            struct mtp_error *e)
{
    const char *t = json_is_string(v) ? json_string_value(v) : "";
    if (strcmp(t, "full") != 0 && strcmp(t, "minimal") != 0)
        return bad(e, o, "%s: expected \"full\" or \"minimal\"", k);
    a->beh.g_a_minimal = t[0] == 'm';
    return MTP_OK;
}

static int set_zero_key(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k, struct mtp_error *e)
{
    int64_t x = 0;
    MTP_GUARD(int_value(v, o, k, 1, 100000, &x, e));
    a->zero_key_set = true;
    a->zero_key_left = (unsigned)x;
    return MTP_OK;
}

static int set_from_exchange(struct mtps_auth_cfg *a, const json_t *v, const char *o, const char *k,
                             struct mtp_error *e)
{
    int64_t x = 0;
    MTP_GUARD(int_value(v, o, k, 1, 1000, &x, e));
    a->from_exchange = (uint32_t)x;
    return MTP_OK;
}

static const struct {
    const char *key;
    setter_fn set;
} settings[] = {
    {"dh_prime", set_dh_prime},
    {"g", set_g},
    {"pq_bits", set_pq_bits},
    {"dc_check", set_dc_check},
    {"refuse_old", set_refuse_old},
    {"corrupt", set_corrupt},
    {"send_pq", set_send_pq},
    {"send_fingerprints", set_send_fps},
    {"from_exchange", set_from_exchange},
    {"send_dh_prime", set_send_dh_prime},
    {"send_g", set_send_g},
    {"send_g_a", set_send_g_a},
    {"send_answer", set_send_answer},
    {"send_server_time_offset", set_time_offset},
    {"dh_params_fail", set_params_fail},
    {"dh_gen_retries", set_gen_retries},
    {"dh_gen_fail", set_gen_fail},
    {"dh_gen_hash_number", set_gen_hash},
    {"g_a_leading_zero", set_g_a_zero},
    {"g_a_encoding", set_g_a_encoding},
    {"auth_key_leading_zero", set_zero_key},
};

int mtps_auth_cfg_parse(struct mtps_auth_cfg *a, const json_t *auth, const char *origin, struct mtp_error *err)
{
    memset(a, 0, sizeof *a);
    mtp_auth_server_config_init(&a->cfg);
    if (auth == NULL)
        return MTP_OK;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)auth, key, v)
    {
        size_t i = 0;
        while (i < sizeof settings / sizeof settings[0] && strcmp(settings[i].key, key) != 0)
            i++;
        if (i == sizeof settings / sizeof settings[0]) {
            if (strcmp(key, "comment") == 0)
                continue;
            int rc = bad(err, origin, "%s: unknown setting", key);
            mtps_auth_cfg_free(a);
            return rc;
        }
        int rc = settings[i].set(a, v, origin, key, err);
        if (rc < 0) {
            mtps_auth_cfg_free(a);
            return rc;
        }
    }
    /* After every setting: the prime an expression refers to may come later. */
    if (a->g_a_expr) {
        int rc = resolve_g_a(a, a->g_a_expr, origin, err);
        a->g_a_expr = NULL;
        if (rc < 0) {
            mtps_auth_cfg_free(a);
            return rc;
        }
    }
    return MTP_OK;
}

void mtps_auth_cfg_set_fingerprint(struct mtps_auth_cfg *a, const uint8_t fingerprint[8])
{
    for (size_t i = 0; i < a->beh.n_fingerprints; i++)
        if (a->fp_server & (1u << i))
            memcpy((uint8_t *)a->beh.fingerprints + 8 * i, fingerprint, 8);
}

void mtps_auth_cfg_free(struct mtps_auth_cfg *a)
{
    for (size_t i = 0; i < a->nbufs; i++)
        free(a->bufs[i]);
    a->nbufs = 0;
}

void mtps_hs_free(struct mtps_hs *h)
{
    mtp_auth_server_del(h->m);
    h->m = NULL;
}

static bool starts_exchange(const uint8_t *body, size_t len)
{
    if (len < 4)
        return false;
    uint32_t id = mtp_load_u32(body);
    return id == MTP_AUTH_ID_REQ_PQ_MULTI || id == MTP_AUTH_ID_REQ_PQ;
}

static int start(struct mtps_hs *h, struct mtps_auth_cfg *a, const struct mtp_auth_server_config *cfg,
                 const struct mtp_env *env, struct mtp_error *err)
{
    mtps_hs_free(h);
    h->beh = a->beh;
    if (a->from_exchange && ++a->exchanges < a->from_exchange) {
        /* An honest exchange before the hostile ones (a client that caches verified
         * parameters must tell them apart); seeded faults stay. */
        uint32_t faults = h->beh.faults;
        memset(&h->beh, 0, sizeof h->beh);
        h->beh.faults = faults;
    }
    /* One counter for all the exchanges of the server whose settings these are. */
    h->beh.zero_key_retries = a->zero_key_set ? &a->zero_key_left : NULL;
    h->attempts_seen = 0;
    h->g_a_seen = false;
    h->nonces_seen = false;
    h->nretry_ids = 0;
    h->retry_ids_ok = true;
    if (a->time_offset_set) {
        h->beh.server_time_set = true;
        h->beh.server_time = (int32_t)(mtp_env_now_ms(env) / 1000 + a->time_offset_s);
    }
    struct mtp_auth_server_config c = *cfg;
    c.behaviour = &h->beh;
    return mtp_auth_server_new(&c, env, &h->m, err);
}

int mtps_hs_recv(struct mtps_hs *h, struct mtps_auth_cfg *a, const struct mtp_auth_server_config *cfg,
                 const struct mtp_env *env, const uint8_t *body, size_t len, struct mtp_wr *out, bool *done,
                 struct mtp_auth_result *res, struct mtp_error *err)
{
    *done = false;
    /* A new req_pq_multi starts a new exchange, unless it is the resent
     * first message of this one (which the machine answers again). */
    bool fresh = h->m == NULL;
    if (!fresh && starts_exchange(body, len) && mtp_auth_server_state(h->m) != MTP_AUTH_S_AWAIT_REQ_DH_PARAMS)
        fresh = true;
    if (fresh)
        MTP_GUARD(start(h, a, cfg, env, err));
    enum mtp_auth_server_state before = mtp_auth_server_state(h->m);
    size_t mark = out->len;
    int rc = mtp_auth_server_recv(h->m, body, len, out, err);
    if (rc < 0 && !fresh && starts_exchange(body, len)) {
        /* Not a resend after all: a new exchange on the same connection. */
        mtp_error_clear(err);
        out->len = mark;
        out->failed = false;
        MTP_GUARD(start(h, a, cfg, env, err));
        before = MTP_AUTH_S_AWAIT_REQ_PQ;
        rc = mtp_auth_server_recv(h->m, body, len, out, err);
    }
    if (rc < 0)
        return rc;
    if (before != MTP_AUTH_S_DONE && mtp_auth_server_state(h->m) == MTP_AUTH_S_DONE) {
        MTP_GUARD(mtp_auth_server_result(h->m, res, err));
        *done = true;
    }
    return MTP_OK;
}

const struct mtp_auth_server_attempt *mtps_hs_new_attempt(struct mtps_hs *h)
{
    if (h->m == NULL)
        return NULL;
    const struct mtp_auth_server_attempt *at = mtp_auth_server_attempt(h->m);
    if (at->n == h->attempts_seen)
        return NULL;
    h->attempts_seen = at->n;
    if (h->nretry_ids < MTPS_HS_RETRY_IDS)
        memcpy(h->retry_ids[h->nretry_ids++], at->retry_id, 8);
    h->retry_ids_ok &= at->retry_id_ok;
    return at;
}

const uint8_t *mtps_hs_new_g_a(struct mtps_hs *h, size_t *len)
{
    *len = 0;
    if (h->m == NULL || h->g_a_seen)
        return NULL;
    const uint8_t *g_a = mtp_auth_server_sent_g_a(h->m, len);
    if (*len == 0)
        return NULL;
    h->g_a_seen = true;
    return g_a;
}

bool mtps_hs_new_nonces(struct mtps_hs *h, uint8_t nonce[16], uint8_t server_nonce[16], uint8_t new_nonce[32])
{
    if (h->m == NULL || h->nonces_seen || !mtp_auth_server_nonces(h->m, nonce, server_nonce, new_nonce))
        return false;
    h->nonces_seen = true;
    return true;
}
