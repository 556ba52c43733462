/* The server machine: the mirror of mtp_auth_client.c, plus the behaviour
 * hooks through which a mock datacenter makes it misbehave on purpose. */
#include "mtp/auth_server.h"

#include <stdlib.h>
#include <string.h>

#include "auth/mtp_auth_internal.h"
#include "mtp/authcrypt.h"
#include "mtp/dh.h"
#include "mtp/msgcrypt.h"
#include "mtp/pq.h"

struct mtp_auth_server {
    struct mtp_auth_server_config cfg;
    struct mtp_auth_server_behaviour bh; /* zeroes when cfg.behaviour is NULL */
    struct mtp_env env;
    enum mtp_auth_server_state state;
    struct mtp_error error;
    uint8_t key_fps[MTP_AUTH_MAX_FINGERPRINTS][MTP_AUTH_LONG_LEN];

    uint8_t nonce[MTP_AUTH_NONCE_LEN];
    uint8_t server_nonce[MTP_AUTH_NONCE_LEN];
    uint8_t new_nonce[MTP_AUTH_NEW_NONCE_LEN];
    struct mtp_auth_bytes pq; /* as sent: pq_buf or the behaviour's */
    uint8_t pq_buf[8];
    bool pq_factored; /* p and q are known (always, unless the behaviour's pq is not p*q) */
    uint8_t p[8], q[8];
    size_t p_len, q_len;
    uint8_t advertised[MTP_AUTH_MAX_FINGERPRINTS][MTP_AUTH_LONG_LEN];
    uint32_t n_advertised;
    uint8_t tmp_key[32], tmp_iv[32];
    struct mtp_auth_bytes dh_prime; /* as sent */
    uint8_t a[MTP_DH_BYTES];
    uint8_t retry_id[MTP_AUTH_LONG_LEN]; /* expected in the next client_DH_inner_data */
    struct mtp_auth_server_attempt attempt;
    uint8_t sent_g_a[MTP_AUTH_INNER_BUF]; /* public: g_a as sent */
    size_t sent_g_a_len;
    struct mtp_auth_result res;

    /* The last request and its answer, resent for an identical request. */
    uint8_t last_req[MTP_AUTH_BODY_MAX];
    size_t last_req_len;
    uint8_t last_ans[MTP_AUTH_BODY_MAX];
    size_t last_ans_len;
    uint8_t out[MTP_AUTH_BODY_MAX];
    uint8_t inner[MTP_AUTH_INNER_BUF];
};

void mtp_auth_server_config_init(struct mtp_auth_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->g = 3;
    cfg->pq_p_bits = MTP_PQ_DEFAULT_BITS;
    cfg->pq_q_bits = MTP_PQ_DEFAULT_BITS;
}

static void wipe_secrets(struct mtp_auth_server *s)
{
    mtp_wipe(s->new_nonce, sizeof s->new_nonce);
    mtp_wipe(s->tmp_key, sizeof s->tmp_key);
    mtp_wipe(s->tmp_iv, sizeof s->tmp_iv);
    mtp_wipe(s->a, sizeof s->a);
    mtp_wipe(s->out, sizeof s->out);
    mtp_wipe(s->inner, sizeof s->inner);
}

int mtp_auth_server_new(const struct mtp_auth_server_config *cfg, const struct mtp_env *env,
                        struct mtp_auth_server **out, struct mtp_error *err)
{
    *out = NULL;
    if (cfg->n_keys == 0 || cfg->keys == NULL || cfg->n_keys > MTP_AUTH_MAX_FINGERPRINTS)
        return mtp_error_set(err, MTP_ERR_AUTH_CONFIG, MTP_NO_OFFSET, "server config: %zu RSA keys, want 1..%u",
                             cfg->n_keys, MTP_AUTH_MAX_FINGERPRINTS);
    const struct mtp_auth_server_behaviour *bh = cfg->behaviour;
    if (bh != NULL && bh->fingerprints != NULL && bh->n_fingerprints > MTP_AUTH_MAX_FINGERPRINTS)
        return mtp_error_set(err, MTP_ERR_AUTH_CONFIG, MTP_NO_OFFSET,
                             "server behaviour: %zu fingerprints to advertise, at most %u", bh->n_fingerprints,
                             MTP_AUTH_MAX_FINGERPRINTS);
    struct mtp_auth_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "auth server: out of memory");
    for (size_t i = 0; i < cfg->n_keys; i++) {
        int rc = MTP_OK;
        if (cfg->keys[i] == NULL)
            rc = mtp_error_set(err, MTP_ERR_AUTH_CONFIG, MTP_NO_OFFSET, "server config: keys[%zu] is NULL", i);
        else if (!mtp_rsa_key_has_private(cfg->keys[i]))
            rc = mtp_error_set(err, MTP_ERR_RSA_NOT_PRIVATE, MTP_NO_OFFSET,
                               "server config: keys[%zu] has no private half", i);
        else
            rc = mtp_rsa_key_fingerprint(cfg->keys[i], s->key_fps[i], err);
        if (rc < 0) {
            free(s);
            return rc;
        }
    }
    s->cfg = *cfg;
    if (bh != NULL)
        s->bh = *bh;
    if (s->cfg.dh_prime == NULL) {
        s->cfg.dh_prime = mtp_dh_telegram_prime;
        s->cfg.dh_prime_len = MTP_DH_BYTES;
    }
    s->env = *env;
    s->state = MTP_AUTH_S_AWAIT_REQ_PQ;
    mtp_error_clear(&s->error);
    *out = s;
    return MTP_OK;
}

void mtp_auth_server_del(struct mtp_auth_server *s)
{
    if (s == NULL)
        return;
    mtp_wipe(s, sizeof *s);
    free(s);
}

enum mtp_auth_server_state mtp_auth_server_state(const struct mtp_auth_server *s) { return s->state; }

const struct mtp_auth_server_attempt *mtp_auth_server_attempt(const struct mtp_auth_server *s) { return &s->attempt; }

const uint8_t *mtp_auth_server_sent_g_a(const struct mtp_auth_server *s, size_t *len)
{
    *len = s->sent_g_a_len;
    return s->sent_g_a;
}

bool mtp_auth_server_nonces(const struct mtp_auth_server *s, uint8_t nonce[16], uint8_t server_nonce[16],
                            uint8_t new_nonce[32])
{
    if (s->state != MTP_AUTH_S_AWAIT_SET_CLIENT_DH_PARAMS)
        return false;
    memcpy(nonce, s->nonce, MTP_AUTH_NONCE_LEN);
    memcpy(server_nonce, s->server_nonce, MTP_AUTH_NONCE_LEN);
    memcpy(new_nonce, s->new_nonce, MTP_AUTH_NEW_NONCE_LEN);
    return true;
}

const struct mtp_error *mtp_auth_server_error(const struct mtp_auth_server *s) { return &s->error; }

int mtp_auth_server_result(const struct mtp_auth_server *s, struct mtp_auth_result *res, struct mtp_error *err)
{
    if (s->state != MTP_AUTH_S_DONE)
        return mtp_error_set(err, MTP_ERR_AUTH_BAD_STATE, MTP_NO_OFFSET, "auth server: no key yet (%s)",
                             mtp_auth_server_state_name(s->state));
    *res = s->res;
    return MTP_OK;
}

/* --- checks shared by the handlers --- */

static bool corrupts(const struct mtp_auth_server *s, enum mtp_auth_corrupt point)
{
    return mtp_auth_corrupts(s->bh.corrupt, point);
}

/* A seeded fault of the mock DC (mtp_auth_server_behaviour.faults). */
static bool faulty(const struct mtp_auth_server *s, enum mtp_auth_server_fault f)
{
    return (s->bh.faults & MTP_AUTH_SF(f)) != 0;
}

static int check_nonces(const struct mtp_auth_server *s, const uint8_t nonce[MTP_AUTH_NONCE_LEN],
                        const uint8_t server_nonce[MTP_AUTH_NONCE_LEN], const char *object, size_t at,
                        struct mtp_error *e)
{
    if (mtp_ct_memcmp(nonce, s->nonce, MTP_AUTH_NONCE_LEN) != 0)
        return mtp_error_set(e, MTP_ERR_AUTH_NONCE, at, "%s.nonce does not match the nonce of req_pq_multi", object);
    if (mtp_ct_memcmp(server_nonce, s->server_nonce, MTP_AUTH_NONCE_LEN) != 0)
        return mtp_error_set(e, MTP_ERR_AUTH_SERVER_NONCE, at == MTP_NO_OFFSET ? at : at + MTP_AUTH_NONCE_LEN,
                             "%s.server_nonce does not match the server_nonce sent in resPQ", object);
    return MTP_OK;
}

static bool same_bytes(const struct mtp_auth_bytes *a, const uint8_t *b, size_t b_len)
{
    return a->len == b_len && (b_len == 0 || memcmp(a->p, b, b_len) == 0);
}

/* --- step 1 -> 2: req_pq_multi -> resPQ --- */

static int on_req_pq(struct mtp_auth_server *s, struct mtp_rd *r, struct mtp_wr *w, struct mtp_error *e)
{
    static const uint32_t ids[] = {MTP_AUTH_ID_REQ_PQ_MULTI, MTP_AUTH_ID_REQ_PQ};
    MTP_GUARD(mtp_auth_expect_ctor(r, ids, 2, "req_pq_multi or req_pq", "server: await req_pq_multi", e));
    struct mtp_auth_req_pq rq;
    MTP_GUARD(mtp_auth_tl_read_req_pq(r, &rq));
    MTP_GUARD(mtp_rd_end(r, rq.multi ? "req_pq_multi" : "req_pq"));
    if (!rq.multi && s->cfg.refuse_old)
        return mtp_error_set(e, MTP_ERR_AUTH_OLD_REFUSED, 0, "req_pq: the deprecated req_pq#60469778 is refused");
    memcpy(s->nonce, rq.nonce, sizeof s->nonce);
    s->res.req_pq_multi = rq.multi;
    int rc = mtp_env_rand(&s->env, s->server_nonce, sizeof s->server_nonce);
    if (rc < 0)
        return mtp_error_set(e, rc, MTP_NO_OFFSET, "server_nonce: no randomness");

    uint64_t p, q;
    if (s->bh.pq != NULL) {
        s->pq = (struct mtp_auth_bytes){s->bh.pq, s->bh.pq_len};
        struct mtp_error ignored;
        mtp_error_clear(&ignored);
        s->pq_factored = mtp_pq_factor_be(s->bh.pq, s->bh.pq_len, &p, &q, &ignored) == MTP_OK;
    } else {
        uint64_t pq;
        MTP_GUARD(
            mtp_auth_prefixed(mtp_pq_generate(&s->env, s->cfg.pq_p_bits, s->cfg.pq_q_bits, &pq, &p, &q, e), e, "pq"));
        s->pq = (struct mtp_auth_bytes){s->pq_buf, mtp_pq_to_be(pq, s->pq_buf)};
        s->pq_factored = true;
    }
    if (s->pq_factored) {
        s->p_len = mtp_pq_to_be(p, s->p);
        s->q_len = mtp_pq_to_be(q, s->q);
    }

    struct mtp_auth_res_pq rp = {.pq = s->pq};
    memcpy(rp.nonce, s->nonce, sizeof rp.nonce);
    memcpy(rp.server_nonce, s->server_nonce, sizeof rp.server_nonce);
    if (s->bh.fingerprints != NULL) {
        s->n_advertised = (uint32_t)s->bh.n_fingerprints;
        for (uint32_t i = 0; i < s->n_advertised; i++)
            memcpy(s->advertised[i], s->bh.fingerprints + (size_t)i * MTP_AUTH_LONG_LEN, MTP_AUTH_LONG_LEN);
    } else {
        s->n_advertised = (uint32_t)s->cfg.n_keys;
        memcpy(s->advertised, s->key_fps, sizeof s->advertised);
    }
    rp.n_fingerprints = s->n_advertised;
    memcpy(rp.fingerprints, s->advertised, sizeof rp.fingerprints);
    if (corrupts(s, MTP_AUTH_X_RES_PQ_NONCE))
        mtp_auth_flip_first(rp.nonce, sizeof rp.nonce);
    MTP_GUARD(mtp_auth_tl_write_res_pq(w, &rp));
    s->state = MTP_AUTH_S_AWAIT_REQ_DH_PARAMS;
    return MTP_OK;
}

/* --- step 5 -> 6: req_DH_params -> server_DH_params_ok / _fail --- */

/* Decrypts encrypted_data with RSA_PAD, or else with the old scheme, and
 * parses the p_q_inner_data inside. */
static int decrypt_pq_inner(struct mtp_auth_server *s, const struct mtp_rsa_key *key, const struct mtp_auth_bytes *ed,
                            struct mtp_auth_pq_inner *in, uint8_t buf[MTP_RSA_OLD_PADDED], struct mtp_error *e)
{
    struct mtp_error pad_err, old_err;
    mtp_error_clear(&pad_err);
    mtp_error_clear(&old_err);
    int rc = faulty(s, MTP_AUTH_SF_SKIP_RSA_HASH) ? mtp_rsa_pad_decrypt_unchecked(key, ed->p, ed->len, buf, &pad_err)
                                                 : mtp_rsa_pad_decrypt(key, ed->p, ed->len, buf, NULL, &pad_err);
    if (rc == MTP_OK) {
        struct mtp_rd r;
        mtp_rd_init(&r, buf, MTP_RSA_PAD_PADDED, &pad_err);
        rc = mtp_auth_tl_read_pq_inner(&r, in);
        if (rc == MTP_OK && r.pos > MTP_RSA_PAD_DATA_MAX)
            rc = mtp_error_set(&pad_err, MTP_ERR_RSA_DATA_TOO_LONG, 0, "%s is %zu bytes, RSA_PAD carries at most %u",
                               mtp_auth_inner_form_name(in->form), r.pos, MTP_RSA_PAD_DATA_MAX);
        if (rc < 0) {
            mtp_error_prefix(&pad_err, "req_DH_params.encrypted_data (RSA_PAD)");
            return mtp_auth_pass_error(e, &pad_err);
        }
        s->res.rsa_scheme = MTP_AUTH_RSA_PAD;
        return MTP_OK;
    }
    /* Not RSA_PAD: perhaps the old scheme (SHA1 + data + padding). */
    rc = mtp_rsa_old_decrypt(key, ed->p, ed->len, buf, &old_err);
    if (rc == MTP_OK) {
        struct mtp_rd r;
        mtp_rd_init(&r, buf + 20, MTP_RSA_OLD_PADDED - 20, &old_err);
        rc = mtp_auth_tl_read_pq_inner(&r, in);
        if (rc == MTP_OK)
            rc = mtp_rsa_old_check(buf, r.pos, &old_err);
    }
    if (rc < 0) {
        /* Report why RSA_PAD failed: that is the scheme a client should use. */
        mtp_error_prefix(&pad_err, "req_DH_params.encrypted_data");
        return mtp_auth_pass_error(e, &pad_err);
    }
    if (s->cfg.refuse_old)
        return mtp_error_set(e, MTP_ERR_AUTH_OLD_REFUSED, MTP_NO_OFFSET,
                             "req_DH_params.encrypted_data: the old RSA scheme (SHA1 + data + padding) is refused");
    s->res.rsa_scheme = MTP_AUTH_RSA_OLD;
    return MTP_OK;
}

static int check_pq_inner(struct mtp_auth_server *s, const struct mtp_auth_pq_inner *in, struct mtp_error *e)
{
    const char *form = mtp_auth_inner_form_name(in->form);
    if (!mtp_auth_inner_form_has_dc(in->form) && s->cfg.refuse_old)
        return mtp_error_set(e, MTP_ERR_AUTH_OLD_REFUSED, MTP_NO_OFFSET, "%s: the form without dc is refused", form);
    bool inner = !faulty(s, MTP_AUTH_SF_SKIP_PQ_INNER);
    if (inner)
        MTP_GUARD(check_nonces(s, in->nonce, in->server_nonce, form, MTP_NO_OFFSET, e));
    if (inner && !same_bytes(&in->pq, s->pq.p, s->pq.len))
        return mtp_error_set(e, MTP_ERR_AUTH_PQ_MISMATCH, MTP_NO_OFFSET, "%s.pq differs from the pq sent in resPQ",
                             form);
    if (!faulty(s, MTP_AUTH_SF_SKIP_PQ) && (!same_bytes(&in->p, s->p, s->p_len) || !same_bytes(&in->q, s->q, s->q_len)))
        return mtp_error_set(e, MTP_ERR_AUTH_PQ_MISMATCH, MTP_NO_OFFSET, "%s.p or .q are not the factors p < q of pq",
                             form);
    if (mtp_auth_inner_form_has_dc(in->form) && s->cfg.dc != 0 && in->dc != s->cfg.dc)
        return mtp_error_set(e, MTP_ERR_AUTH_DC, MTP_NO_OFFSET, "%s.dc is %d, this server is dc %d", form, in->dc,
                             s->cfg.dc);
    if (mtp_auth_inner_form_is_temp(in->form) && in->expires_in <= 0)
        return mtp_error_set(e, MTP_ERR_AUTH_EXPIRES_IN, MTP_NO_OFFSET, "%s.expires_in is %d, not positive", form,
                             in->expires_in);
    return MTP_OK;
}

/* a and the g_a to send.  With the behaviour's dh_prime or g the parameters
 * may be unusable for a proper key pair; then g_a is g^a without the range
 * rule, or the behaviour's own g_a. */
/* Tries for g_a below 2^2040: about one a in 200 gives one with Telegram's prime. */
#define LEADING_ZERO_TRIES 8192

static int make_g_a_once(struct mtp_auth_server *s, int32_t g, uint8_t g_a[MTP_DH_BYTES], struct mtp_auth_bytes *sent,
                         struct mtp_error *e);

static int make_g_a(struct mtp_auth_server *s, int32_t g, uint8_t g_a[MTP_DH_BYTES], struct mtp_auth_bytes *sent,
                    struct mtp_error *e)
{
    for (unsigned i = 0;; i++) {
        MTP_GUARD(make_g_a_once(s, g, g_a, sent, e));
        /* A value shorter than 256 bytes (the custom-parameter path) is below 2^2040 too. */
        if (!s->bh.g_a_leading_zero || s->bh.g_a != NULL || sent->len < MTP_DH_BYTES || g_a[0] == 0)
            break;
        if (i + 1 == LEADING_ZERO_TRIES)
            return mtp_error_set(e, MTP_ERR_AUTH_CONFIG, MTP_NO_OFFSET,
                                 "server behaviour: no g_a below 2^2040 in %d tries", LEADING_ZERO_TRIES);
    }
    if (s->bh.g_a_minimal && s->bh.g_a == NULL)
        while (sent->len > 1 && sent->p[0] == 0)
            *sent = (struct mtp_auth_bytes){sent->p + 1, sent->len - 1};
    return MTP_OK;
}

static int make_g_a_once(struct mtp_auth_server *s, int32_t g, uint8_t g_a[MTP_DH_BYTES], struct mtp_auth_bytes *sent,
                         struct mtp_error *e)
{
    *sent = (struct mtp_auth_bytes){g_a, MTP_DH_BYTES};
    if (s->bh.dh_prime == NULL && !s->bh.g_set) {
        MTP_GUARD(mtp_auth_prefixed(mtp_dh_keypair(&s->env, s->dh_prime.p, s->dh_prime.len, g, s->a, g_a, e), e, "a"));
    } else {
        int rc = mtp_env_rand(&s->env, s->a, sizeof s->a);
        if (rc < 0)
            return mtp_error_set(e, rc, MTP_NO_OFFSET, "a: no randomness");
        /* Plain modular exponentiation: mtp_dh_public insists on sane parameters. */
        uint32_t ug = (uint32_t)g;
        const uint8_t g_be[4] = {(uint8_t)(ug >> 24), (uint8_t)(ug >> 16), (uint8_t)(ug >> 8), (uint8_t)ug};
        size_t len = 0;
        struct mtp_error ignored;
        mtp_error_clear(&ignored);
        rc = mtp_dh_modexp(g_be, sizeof g_be, s->a, sizeof s->a, s->dh_prime.p, s->dh_prime.len, g_a, MTP_DH_BYTES,
                           &len, &ignored);
        if (rc < 0 && s->bh.g_a == NULL)
            return mtp_error_set(e, MTP_ERR_AUTH_CONFIG, MTP_NO_OFFSET,
                                 "server behaviour: no g_a can be computed with this dh_prime and g (%s); give g_a",
                                 ignored.msg);
        *sent = (struct mtp_auth_bytes){g_a, rc < 0 ? 0 : len};
    }
    if (s->bh.g_a != NULL)
        *sent = (struct mtp_auth_bytes){s->bh.g_a, s->bh.g_a_len};
    return MTP_OK;
}

static int on_req_dh_params(struct mtp_auth_server *s, struct mtp_rd *r, struct mtp_wr *w, struct mtp_error *e)
{
    static const uint32_t ids[] = {MTP_AUTH_ID_REQ_DH_PARAMS};
    MTP_GUARD(mtp_auth_expect_ctor(r, ids, 1, "req_DH_params", "server: await req_DH_params", e));
    struct mtp_auth_req_dh_params rq;
    MTP_GUARD(mtp_auth_tl_read_req_dh_params(r, &rq));
    MTP_GUARD(mtp_rd_end(r, "req_DH_params"));
    if (!faulty(s, MTP_AUTH_SF_ACCEPT_WRONG_NONCE))
        MTP_GUARD(check_nonces(s, rq.nonce, rq.server_nonce, "req_DH_params", 4, e));
    bool pq = !faulty(s, MTP_AUTH_SF_SKIP_PQ);
    if (!s->pq_factored)
        return mtp_error_set(e, MTP_ERR_AUTH_PQ_MISMATCH, 36,
                             "req_DH_params.p: the pq sent is not a product of two primes, no p and q can match");
    if (pq && !same_bytes(&rq.p, s->p, s->p_len))
        return mtp_error_set(e, MTP_ERR_AUTH_PQ_MISMATCH, 36, "req_DH_params.p is not the smaller prime factor of pq");
    if (pq && !same_bytes(&rq.q, s->q, s->q_len))
        return mtp_error_set(e, MTP_ERR_AUTH_PQ_MISMATCH, 36, "req_DH_params.q is not the larger prime factor of pq");

    const struct mtp_rsa_key *key = NULL;
    bool advertised = false;
    for (uint32_t i = 0; i < s->n_advertised; i++)
        advertised |= memcmp(s->advertised[i], rq.fingerprint, MTP_AUTH_LONG_LEN) == 0;
    for (size_t i = 0; advertised && i < s->cfg.n_keys && key == NULL; i++)
        if (memcmp(s->key_fps[i], rq.fingerprint, MTP_AUTH_LONG_LEN) == 0)
            key = s->cfg.keys[i];
    if (key == NULL && faulty(s, MTP_AUTH_SF_ACCEPT_UNKNOWN_KEY))
        key = s->cfg.keys[0];
    if (key == NULL)
        return mtp_error_set(e, MTP_ERR_AUTH_FINGERPRINT, MTP_NO_OFFSET,
                             "req_DH_params.public_key_fingerprint is not a key this server %s",
                             advertised ? "holds" : "offered in resPQ");
    memcpy(s->res.fingerprint, rq.fingerprint, sizeof s->res.fingerprint);

    uint8_t buf[MTP_RSA_OLD_PADDED];
    struct mtp_auth_pq_inner in;
    int rc = decrypt_pq_inner(s, key, &rq.encrypted_data, &in, buf, e);
    if (rc == MTP_OK)
        rc = check_pq_inner(s, &in, e);
    if (rc == MTP_OK) {
        memcpy(s->new_nonce, in.new_nonce, sizeof s->new_nonce);
        s->res.inner_form = in.form;
        s->res.dc = in.dc;
        s->res.temp = mtp_auth_inner_form_is_temp(in.form);
        s->res.expires_in = in.expires_in;
    }
    mtp_wipe(buf, sizeof buf);
    mtp_wipe(&in, sizeof in);
    MTP_GUARD(rc);
    mtp_authcrypt_tmp_aes(s->new_nonce, s->server_nonce, s->tmp_key, s->tmp_iv);

    struct mtp_auth_server_dh_params sp = {.ok = !s->bh.dh_params_fail};
    memcpy(sp.nonce, s->nonce, sizeof sp.nonce);
    memcpy(sp.server_nonce, s->server_nonce, sizeof sp.server_nonce);
    if (corrupts(s, MTP_AUTH_X_DH_PARAMS_NONCE))
        mtp_auth_flip_first(sp.nonce, sizeof sp.nonce);
    if (corrupts(s, MTP_AUTH_X_DH_PARAMS_SERVER_NONCE))
        mtp_auth_flip_first(sp.server_nonce, sizeof sp.server_nonce);
    if (!sp.ok) {
        mtp_authcrypt_dh_params_fail_hash(s->new_nonce, sp.new_nonce_hash);
        if (corrupts(s, MTP_AUTH_X_DH_PARAMS_FAIL_HASH))
            mtp_auth_flip_first(sp.new_nonce_hash, sizeof sp.new_nonce_hash);
        MTP_GUARD(mtp_auth_tl_write_server_dh_params(w, &sp));
        s->state = MTP_AUTH_S_ABORTED;
        return MTP_OK;
    }

    s->dh_prime = s->bh.dh_prime != NULL ? (struct mtp_auth_bytes){s->bh.dh_prime, s->bh.dh_prime_len}
                                         : (struct mtp_auth_bytes){s->cfg.dh_prime, s->cfg.dh_prime_len};
    int32_t g = s->bh.g_set ? s->bh.g : s->cfg.g;
    uint8_t g_a[MTP_DH_BYTES];
    struct mtp_auth_server_inner si = {.g = g, .dh_prime = s->dh_prime};
    MTP_GUARD(make_g_a(s, g, g_a, &si.g_a, e));
    s->sent_g_a_len = si.g_a.len < sizeof s->sent_g_a ? si.g_a.len : sizeof s->sent_g_a;
    memcpy(s->sent_g_a, si.g_a.p, s->sent_g_a_len);
    si.server_time = s->bh.server_time_set ? s->bh.server_time : (int32_t)(mtp_env_now_ms(&s->env) / 1000);
    memcpy(si.nonce, s->nonce, sizeof si.nonce);
    memcpy(si.server_nonce, s->server_nonce, sizeof si.server_nonce);
    if (corrupts(s, MTP_AUTH_X_SERVER_INNER_NONCE))
        mtp_auth_flip_first(si.nonce, sizeof si.nonce);
    if (corrupts(s, MTP_AUTH_X_SERVER_INNER_SERVER_NONCE))
        mtp_auth_flip_first(si.server_nonce, sizeof si.server_nonce);
    s->res.server_time = si.server_time;

    uint8_t answer[MTP_AUTH_INNER_BUF];
    struct mtp_wr aw;
    mtp_wr_init_fixed(&aw, answer, sizeof answer, e);
    MTP_GUARD(mtp_auth_prefixed(mtp_auth_tl_write_server_inner(&aw, &si), e, "server_DH_inner_data"));
    const uint8_t *data = answer;
    size_t data_len = aw.len;
    if (s->bh.answer != NULL) {
        data = s->bh.answer;
        data_len = s->bh.answer_len;
    }
    uint8_t encrypted[MTP_AUTH_INNER_BUF];
    size_t enc_len;
    MTP_GUARD(mtp_auth_prefixed(
        mtp_auth_seal(&s->env, s->tmp_key, s->tmp_iv, data, data_len, corrupts(s, MTP_AUTH_X_ANSWER_HASH),
                      corrupts(s, MTP_AUTH_X_ANSWER_PADDING), encrypted, sizeof encrypted, &enc_len, e),
        e, "server_DH_params_ok.encrypted_answer"));
    if (corrupts(s, MTP_AUTH_X_ENCRYPTED_ANSWER))
        mtp_auth_flip_last(encrypted, enc_len);
    sp.encrypted_answer = (struct mtp_auth_bytes){encrypted, enc_len};
    MTP_GUARD(mtp_auth_tl_write_server_dh_params(w, &sp));
    memset(s->retry_id, 0, sizeof s->retry_id);
    s->state = MTP_AUTH_S_AWAIT_SET_CLIENT_DH_PARAMS;
    return MTP_OK;
}

/* --- step 7 -> 9: set_client_DH_params -> dh_gen_ok / _retry / _fail --- */

static int parse_client_inner(struct mtp_rd *r, void *obj) { return mtp_auth_tl_read_client_inner(r, obj); }

static int on_set_client_dh(struct mtp_auth_server *s, struct mtp_rd *r, struct mtp_wr *w, struct mtp_error *e)
{
    static const uint32_t ids[] = {MTP_AUTH_ID_SET_CLIENT_DH_PARAMS};
    MTP_GUARD(mtp_auth_expect_ctor(r, ids, 1, "set_client_DH_params", "server: await set_client_DH_params", e));
    struct mtp_auth_set_client_dh sd;
    MTP_GUARD(mtp_auth_tl_read_set_client_dh(r, &sd));
    MTP_GUARD(mtp_rd_end(r, "set_client_DH_params"));
    if (!faulty(s, MTP_AUTH_SF_ACCEPT_WRONG_NONCE))
        MTP_GUARD(check_nonces(s, sd.nonce, sd.server_nonce, "set_client_DH_params", 4, e));
    struct mtp_auth_client_inner ci;
    if (faulty(s, MTP_AUTH_SF_SKIP_CLIENT_INNER_HASH))
        MTP_GUARD(mtp_auth_open_unchecked(s->tmp_key, s->tmp_iv, sd.encrypted_data.p, sd.encrypted_data.len, s->inner,
                                          sizeof s->inner, parse_client_inner, &ci,
                                          "set_client_DH_params.encrypted_data", e));
    else
        MTP_GUARD(mtp_auth_open(s->tmp_key, s->tmp_iv, sd.encrypted_data.p, sd.encrypted_data.len, s->inner,
                                sizeof s->inner, parse_client_inner, &ci, "set_client_DH_params.encrypted_data", e));
    MTP_GUARD(check_nonces(s, ci.nonce, ci.server_nonce, "client_DH_inner_data", 24, e));
    s->attempt = (struct mtp_auth_server_attempt){.n = s->attempt.n + 1,
                                                  .retry_id_ok =
                                                      mtp_ct_memcmp(ci.retry_id, s->retry_id, sizeof s->retry_id) == 0};
    memcpy(s->attempt.retry_id, ci.retry_id, sizeof s->attempt.retry_id);
    memcpy(s->attempt.expected, s->retry_id, sizeof s->attempt.expected);
    mtp_authcrypt_sha256(ci.g_b.p, ci.g_b.len, s->attempt.g_b_sha256);
    if (!s->attempt.retry_id_ok)
        return mtp_error_set(e, MTP_ERR_AUTH_RETRY_ID, 56,
                             s->res.retries == 0
                                 ? "client_DH_inner_data.retry_id is not 0 on the first attempt"
                                 : "client_DH_inner_data.retry_id is not auth_key_aux_hash of the attempt that got "
                                   "dh_gen_retry");
    if (faulty(s, MTP_AUTH_SF_SKIP_GB_RANGE) || faulty(s, MTP_AUTH_SF_SKIP_GB_MARGIN))
        MTP_GUARD(mtp_auth_prefixed(mtp_dh_check_ga_parts(s->dh_prime.p, s->dh_prime.len, ci.g_b.p, ci.g_b.len,
                                                          !faulty(s, MTP_AUTH_SF_SKIP_GB_RANGE),
                                                          !faulty(s, MTP_AUTH_SF_SKIP_GB_MARGIN), e),
                                    e, "client_DH_inner_data (g_b)"));
    else
        MTP_GUARD(mtp_auth_prefixed(mtp_dh_check_gb(s->dh_prime.p, s->dh_prime.len, ci.g_b.p, ci.g_b.len, e), e,
                                    "client_DH_inner_data"));

    uint8_t auth_key[MTP_AUTH_KEY_BYTES], aux[8], key_id[MTP_AUTH_KEY_ID_BYTES];
    MTP_GUARD(mtp_auth_prefixed(mtp_dh_shared(s->dh_prime.p, s->dh_prime.len, ci.g_b.p, ci.g_b.len, s->a, auth_key, e),
                                e, "auth_key"));
    mtp_authcrypt_auth_key_aux_hash(auth_key, aux);
    mtp_auth_key_id(auth_key, key_id);

    s->attempt.have_key = true;
    s->attempt.key_first_byte = auth_key[0];
    struct mtp_auth_dh_gen dg = {.number = 1};
    bool zero_retry = false;
    if (s->bh.dh_gen_fail)
        dg.number = 3;
    else if (s->res.retries < s->bh.dh_gen_retries ||
             (s->cfg.key_exists != NULL && s->cfg.key_exists(s->cfg.key_exists_ctx, key_id)))
        dg.number = 2;
    else if ((zero_retry = s->bh.zero_key_retries != NULL && auth_key[0] != 0 && *s->bh.zero_key_retries > 0))
        dg.number = 2;
    int hash_number =
        s->bh.dh_gen_hash_number >= 1 && s->bh.dh_gen_hash_number <= 3 ? s->bh.dh_gen_hash_number : dg.number;
    int rc = mtp_authcrypt_new_nonce_hash(s->new_nonce, hash_number, aux, dg.new_nonce_hash, e);
    memcpy(dg.nonce, s->nonce, sizeof dg.nonce);
    memcpy(dg.server_nonce, s->server_nonce, sizeof dg.server_nonce);
    if (corrupts(s, MTP_AUTH_X_DH_GEN_NONCE))
        mtp_auth_flip_first(dg.nonce, sizeof dg.nonce);
    if (corrupts(s, MTP_AUTH_X_DH_GEN_SERVER_NONCE))
        mtp_auth_flip_first(dg.server_nonce, sizeof dg.server_nonce);
    if (corrupts(s, MTP_AUTH_X_DH_GEN_HASH))
        mtp_auth_flip_first(dg.new_nonce_hash, sizeof dg.new_nonce_hash);
    if (rc == MTP_OK)
        rc = mtp_auth_tl_write_dh_gen(w, &dg);
    if (rc == MTP_OK) {
        s->attempt.answer = dg.number;
        switch (dg.number) {
        case 1:
            memcpy(s->res.auth_key, auth_key, sizeof s->res.auth_key);
            memcpy(s->res.auth_key_id, key_id, sizeof s->res.auth_key_id);
            mtp_authcrypt_server_salt(s->new_nonce, s->server_nonce, s->res.server_salt);
            s->state = MTP_AUTH_S_DONE;
            break;
        case 2:
            s->res.retries++;
            memcpy(s->retry_id, aux, sizeof s->retry_id);
            if (zero_retry)
                (*s->bh.zero_key_retries)--;
            break;
        default:
            s->state = MTP_AUTH_S_ABORTED;
            break;
        }
    }
    mtp_wipe(auth_key, sizeof auth_key);
    return rc;
}

/* --- the state table --- */

typedef int (*server_step_fn)(struct mtp_auth_server *s, struct mtp_rd *r, struct mtp_wr *w, struct mtp_error *e);

static const struct {
    const char *name;
    server_step_fn on_recv;
} server_steps[] = {
    [MTP_AUTH_S_AWAIT_REQ_PQ] = {"server: await req_pq_multi", on_req_pq},
    [MTP_AUTH_S_AWAIT_REQ_DH_PARAMS] = {"server: await req_DH_params", on_req_dh_params},
    [MTP_AUTH_S_AWAIT_SET_CLIENT_DH_PARAMS] = {"server: await set_client_DH_params", on_set_client_dh},
    [MTP_AUTH_S_DONE] = {"server: auth key agreed", NULL},
    [MTP_AUTH_S_ABORTED] = {"server: answered with a failure", NULL},
    [MTP_AUTH_S_FAILED] = {"server: failed", NULL},
};

const char *mtp_auth_server_state_name(enum mtp_auth_server_state st)
{
    return (size_t)st < sizeof server_steps / sizeof server_steps[0] ? server_steps[st].name : "server: unknown state";
}

int mtp_auth_server_recv(struct mtp_auth_server *s, const uint8_t *body, size_t len, struct mtp_wr *out,
                         struct mtp_error *err)
{
    /* "exactly the same request ... the server will simply re-send the same response" (auth_key, Error Handling) */
    if (s->state != MTP_AUTH_S_FAILED && s->last_ans_len > 0 && len == s->last_req_len &&
        memcmp(body, s->last_req, len) == 0)
        return mtp_wr_raw(out, s->last_ans, s->last_ans_len);

    server_step_fn step = server_steps[s->state].on_recv;
    if (faulty(s, MTP_AUTH_SF_RESTART_ON_REPEAT) && s->state == MTP_AUTH_S_AWAIT_SET_CLIENT_DH_PARAMS && len >= 4 &&
        mtp_load_u32(body) == MTP_AUTH_ID_REQ_DH_PARAMS)
        step = on_req_dh_params;
    if (step == NULL)
        return mtp_error_set(err, MTP_ERR_AUTH_BAD_STATE, MTP_NO_OFFSET, "auth server: a message in state \"%s\"",
                             mtp_auth_server_state_name(s->state));
    struct mtp_error e;
    mtp_error_clear(&e);
    int rc;
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, s->out, sizeof s->out, &e);
    if (len > MTP_AUTH_BODY_MAX) {
        rc = mtp_error_set(&e, MTP_ERR_LIMIT, MTP_NO_OFFSET, "%s: a %zu-byte message, at most %d accepted",
                           mtp_auth_server_state_name(s->state), len, MTP_AUTH_BODY_MAX);
    } else {
        struct mtp_rd r;
        mtp_rd_init(&r, body, len, &e);
        rc = step(s, &r, &w, &e);
    }
    if (rc == MTP_OK)
        rc = mtp_wr_raw(out, s->out, w.len);
    if (rc < 0) {
        if (e.code == MTP_OK)
            mtp_error_set(&e, rc, MTP_NO_OFFSET, "%s: the answer does not fit the output",
                          mtp_auth_server_state_name(s->state));
        s->state = MTP_AUTH_S_FAILED;
        s->error = e;
        wipe_secrets(s);
        return mtp_auth_pass_error(err, &e);
    }
    memcpy(s->last_req, body, len);
    s->last_req_len = len;
    memcpy(s->last_ans, s->out, w.len);
    s->last_ans_len = w.len;
    mtp_wipe(s->out, w.len);
    /* "they forget all other temporary data" (auth_key step 9); an identical
     * request still gets the stored answer. */
    if (s->state == MTP_AUTH_S_DONE || s->state == MTP_AUTH_S_ABORTED)
        wipe_secrets(s);
    return MTP_OK;
}
