/* The client machine.  Each state has one handler (the table below); a
 * handler parses the server's message, runs every check the spec and the
 * security guidelines ask for, and builds the next message.  Any failure is
 * final. */
#include "mtp/auth_client.h"

#include <stdlib.h>
#include <string.h>

#include "auth/mtp_auth_internal.h"
#include "mtp/authcrypt.h"
#include "mtp/msgcrypt.h"
#include "mtp/pq.h"

#define DEFAULT_RETRIES 5u

struct mtp_auth_client {
    struct mtp_auth_client_config cfg;
    struct mtp_auth_client_behaviour bh; /* zeroes when cfg.behaviour is NULL */
    struct mtp_env env;
    enum mtp_auth_client_state state;
    struct mtp_error error;

    uint8_t nonce[MTP_AUTH_NONCE_LEN];
    uint8_t server_nonce[MTP_AUTH_NONCE_LEN];
    uint8_t new_nonce[MTP_AUTH_NEW_NONCE_LEN];
    uint8_t tmp_key[32], tmp_iv[32];
    uint8_t dh_prime[MTP_DH_BYTES]; /* as checked, left-padded */
    int32_t g;
    uint8_t g_a[MTP_DH_BYTES];
    uint8_t b[MTP_DH_BYTES];
    uint8_t auth_key[MTP_AUTH_KEY_BYTES]; /* of the attempt in flight */
    uint8_t aux_hash[8];
    uint8_t retry_id[MTP_AUTH_LONG_LEN];
    struct mtp_auth_result res;

    uint8_t out[MTP_AUTH_BODY_MAX];    /* the message being built */
    uint8_t inner[MTP_AUTH_INNER_BUF]; /* decrypted answer_with_hash */
};

void mtp_auth_client_config_init(struct mtp_auth_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->inner = MTP_AUTH_INNER_DC;
    cfg->rsa = MTP_AUTH_RSA_PAD;
    cfg->dh_mode = MTP_DH_TRUST_KNOWN;
    cfg->max_retries = DEFAULT_RETRIES;
}

static void wipe_secrets(struct mtp_auth_client *c)
{
    mtp_wipe(c->new_nonce, sizeof c->new_nonce);
    mtp_wipe(c->tmp_key, sizeof c->tmp_key);
    mtp_wipe(c->tmp_iv, sizeof c->tmp_iv);
    mtp_wipe(c->b, sizeof c->b);
    mtp_wipe(c->auth_key, sizeof c->auth_key);
    mtp_wipe(c->out, sizeof c->out);
    mtp_wipe(c->inner, sizeof c->inner);
}

int mtp_auth_client_new(const struct mtp_auth_client_config *cfg, const struct mtp_env *env,
                        struct mtp_auth_client **out, struct mtp_error *err)
{
    *out = NULL;
    if (cfg->n_keys == 0 || cfg->keys == NULL)
        return mtp_error_set(err, MTP_ERR_AUTH_CONFIG, MTP_NO_OFFSET, "client config: no RSA public keys");
    for (size_t i = 0; i < cfg->n_keys; i++)
        if (cfg->keys[i] == NULL)
            return mtp_error_set(err, MTP_ERR_AUTH_CONFIG, MTP_NO_OFFSET, "client config: keys[%zu] is NULL", i);
    if ((unsigned)cfg->inner > MTP_AUTH_INNER_TEMP || (unsigned)cfg->rsa > MTP_AUTH_RSA_OLD ||
        (cfg->dh_mode != MTP_DH_TRUST_KNOWN && cfg->dh_mode != MTP_DH_FULL))
        return mtp_error_set(err, MTP_ERR_AUTH_CONFIG, MTP_NO_OFFSET,
                             "client config: unknown inner form, RSA scheme or DH mode");
    if (cfg->max_clock_skew_s < 0)
        return mtp_error_set(err, MTP_ERR_AUTH_CONFIG, MTP_NO_OFFSET, "client config: negative max_clock_skew_s");
    struct mtp_auth_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "auth client: out of memory");
    c->cfg = *cfg;
    if (cfg->behaviour != NULL)
        c->bh = *cfg->behaviour;
    c->env = *env;
    c->state = MTP_AUTH_C_INIT;
    mtp_error_clear(&c->error);
    *out = c;
    return MTP_OK;
}

void mtp_auth_client_del(struct mtp_auth_client *c)
{
    if (c == NULL)
        return;
    mtp_wipe(c, sizeof *c);
    free(c);
}

enum mtp_auth_client_state mtp_auth_client_state(const struct mtp_auth_client *c) { return c->state; }

bool mtp_auth_client_nonces(const struct mtp_auth_client *c, uint8_t nonce[16], uint8_t server_nonce[16],
                            uint8_t new_nonce[32])
{
    if (c->state != MTP_AUTH_C_AWAIT_SERVER_DH_PARAMS && c->state != MTP_AUTH_C_AWAIT_DH_GEN)
        return false;
    memcpy(nonce, c->nonce, MTP_AUTH_NONCE_LEN);
    memcpy(server_nonce, c->server_nonce, MTP_AUTH_NONCE_LEN);
    memcpy(new_nonce, c->new_nonce, MTP_AUTH_NEW_NONCE_LEN);
    return true;
}

const struct mtp_error *mtp_auth_client_error(const struct mtp_auth_client *c) { return &c->error; }

int mtp_auth_client_result(const struct mtp_auth_client *c, struct mtp_auth_result *res, struct mtp_error *err)
{
    if (c->state != MTP_AUTH_C_DONE)
        return mtp_error_set(err, MTP_ERR_AUTH_BAD_STATE, MTP_NO_OFFSET, "auth client: no key yet (%s)",
                             mtp_auth_client_state_name(c->state));
    *res = c->res;
    return MTP_OK;
}

/* --- checks shared by the handlers --- */

static bool faulty(const struct mtp_auth_client *c, enum mtp_auth_client_fault f)
{
    return (c->bh.faults & MTP_AUTH_CF(f)) != 0;
}

/* Peeks at the constructor: MTP_ERR_AUTH_UNEXPECTED, naming it, unless it is one of ids. */
static int check_nonces(const struct mtp_auth_client *c, const uint8_t nonce[MTP_AUTH_NONCE_LEN],
                        const uint8_t server_nonce[MTP_AUTH_NONCE_LEN], const char *object, size_t at,
                        struct mtp_error *e)
{
    if (faulty(c, MTP_AUTH_CF_ACCEPT_WRONG_NONCE))
        return MTP_OK;
    if (mtp_ct_memcmp(nonce, c->nonce, MTP_AUTH_NONCE_LEN) != 0)
        return mtp_error_set(e, MTP_ERR_AUTH_NONCE, at, "%s.nonce does not match the nonce sent", object);
    if (server_nonce != NULL && mtp_ct_memcmp(server_nonce, c->server_nonce, MTP_AUTH_NONCE_LEN) != 0)
        return mtp_error_set(e, MTP_ERR_AUTH_SERVER_NONCE, at + MTP_AUTH_NONCE_LEN,
                             "%s.server_nonce does not match the server_nonce of resPQ", object);
    return MTP_OK;
}

/* Copies a big-endian number of at most 256 significant bytes into a 256-byte
 * left-padded array.  The checks guarantee the size; with some of them left
 * out (seeded faults) a longer number can arrive, and no key can be made. */
static int store_num(uint8_t dst[MTP_DH_BYTES], const uint8_t *p, size_t len, const char *name, struct mtp_error *e)
{
    mtp_auth_strip_zeros(&p, &len);
    if (len > MTP_DH_BYTES)
        return mtp_error_set(e, MTP_ERR_DH_PRIME_BAD_SIZE, MTP_NO_OFFSET,
                             "server_DH_inner_data.%s: %zu significant bytes, more than 256", name, len);
    memset(dst, 0, MTP_DH_BYTES);
    memcpy(dst + MTP_DH_BYTES - len, p, len);
    return MTP_OK;
}

static bool corrupts(const struct mtp_auth_client *c, enum mtp_auth_corrupt point)
{
    return mtp_auth_corrupts(c->bh.corrupt, point);
}

/* --- step 1: req_pq_multi --- */

int mtp_auth_client_start(struct mtp_auth_client *c, struct mtp_wr *out, struct mtp_error *err)
{
    if (c->state != MTP_AUTH_C_INIT)
        return mtp_error_set(err, MTP_ERR_AUTH_BAD_STATE, MTP_NO_OFFSET, "auth client: start in state \"%s\"",
                             mtp_auth_client_state_name(c->state));
    struct mtp_error e;
    mtp_error_clear(&e);
    struct mtp_auth_req_pq rq = {.multi = !c->cfg.req_pq_old};
    int rc = mtp_env_rand(&c->env, c->nonce, sizeof c->nonce);
    if (rc < 0)
        rc = mtp_error_set(&e, rc, MTP_NO_OFFSET, "nonce: no randomness");
    memcpy(rq.nonce, c->nonce, sizeof rq.nonce);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, c->out, sizeof c->out, &e);
    if (rc == MTP_OK)
        rc = mtp_auth_tl_write_req_pq(&w, &rq);
    if (rc == MTP_OK)
        rc = mtp_wr_raw(out, c->out, w.len);
    if (rc < 0) {
        c->state = MTP_AUTH_C_FAILED;
        if (e.code == MTP_OK)
            mtp_error_set(&e, rc, MTP_NO_OFFSET, "req_pq_multi: output does not fit");
        c->error = e;
        wipe_secrets(c);
        return mtp_auth_pass_error(err, &e);
    }
    c->res.req_pq_multi = rq.multi;
    c->state = MTP_AUTH_C_AWAIT_RES_PQ;
    return MTP_OK;
}

/* --- steps 2-5: resPQ -> req_DH_params --- */

static int choose_key(struct mtp_auth_client *c, const struct mtp_auth_res_pq *rp, const struct mtp_rsa_key **key,
                      struct mtp_error *e)
{
    for (size_t i = 0; i < c->cfg.n_keys; i++) {
        uint8_t fp[MTP_RSA_FINGERPRINT];
        MTP_GUARD(mtp_rsa_key_fingerprint(c->cfg.keys[i], fp, e));
        for (uint32_t j = 0; j < rp->n_fingerprints; j++) {
            if (memcmp(fp, rp->fingerprints[j], sizeof fp) == 0) {
                *key = c->cfg.keys[i];
                memcpy(c->res.fingerprint, fp, sizeof fp);
                return MTP_OK;
            }
        }
    }
    if (faulty(c, MTP_AUTH_CF_ACCEPT_UNKNOWN_KEY)) {
        *key = c->cfg.keys[0];
        return mtp_rsa_key_fingerprint(*key, c->res.fingerprint, e);
    }
    return mtp_error_set(e, MTP_ERR_AUTH_NO_COMMON_KEY, MTP_NO_OFFSET,
                         "resPQ.server_public_key_fingerprints: none of the %u listed is one of the client's %zu keys",
                         rp->n_fingerprints, c->cfg.n_keys);
}

static int on_res_pq(struct mtp_auth_client *c, struct mtp_rd *r, struct mtp_wr *w, struct mtp_error *e)
{
    static const uint32_t ids[] = {MTP_AUTH_ID_RES_PQ};
    MTP_GUARD(mtp_auth_expect_ctor(r, ids, 1, "resPQ", "client: await resPQ", e));
    struct mtp_auth_res_pq rp;
    MTP_GUARD(mtp_auth_tl_read_res_pq(r, &rp));
    MTP_GUARD(mtp_rd_end(r, "resPQ"));
    MTP_GUARD(check_nonces(c, rp.nonce, NULL, "resPQ", 4, e));
    memcpy(c->server_nonce, rp.server_nonce, sizeof c->server_nonce);

    uint64_t p, q;
    int prc = mtp_pq_factor_be(rp.pq.p, rp.pq.len, &p, &q, e);
    if (prc < 0 && faulty(c, MTP_AUTH_CF_ACCEPT_BAD_PQ)) {
        /* Go on regardless: p = 1, q = pq (its low 64 bits when longer). */
        mtp_error_clear(e);
        p = 1;
        q = 0;
        for (size_t i = rp.pq.len > 8 ? rp.pq.len - 8 : 0; i < rp.pq.len; i++)
            q = q << 8 | rp.pq.p[i];
        prc = MTP_OK;
    }
    MTP_GUARD(mtp_auth_prefixed(prc, e, "resPQ"));
    const struct mtp_rsa_key *key = NULL;
    MTP_GUARD(choose_key(c, &rp, &key, e));

    int rc = mtp_env_rand(&c->env, c->new_nonce, sizeof c->new_nonce);
    if (rc < 0)
        return mtp_error_set(e, rc, MTP_NO_OFFSET, "new_nonce: no randomness");

    uint8_t p_be[8], q_be[8], pq_copy[64];
    size_t p_len = mtp_pq_to_be(p, p_be), q_len = mtp_pq_to_be(q, q_be);
    /* pq goes back exactly as received. */
    const uint8_t *pq = rp.pq.p;
    size_t pq_len = rp.pq.len;
    struct mtp_auth_pq_inner in = {
        .form = c->cfg.inner,
        .pq = {pq, pq_len},
        .p = {p_be, p_len},
        .q = {q_be, q_len},
        .dc = mtp_auth_inner_form_has_dc(c->cfg.inner) ? c->cfg.dc : 0,
        .expires_in = mtp_auth_inner_form_is_temp(c->cfg.inner) ? c->cfg.expires_in : 0,
    };
    memcpy(in.nonce, c->nonce, sizeof in.nonce);
    memcpy(in.server_nonce, c->server_nonce, sizeof in.server_nonce);
    memcpy(in.new_nonce, c->new_nonce, sizeof in.new_nonce);
    if (corrupts(c, MTP_AUTH_X_PQ_INNER_NONCE))
        mtp_auth_flip_first(in.nonce, sizeof in.nonce);
    if (corrupts(c, MTP_AUTH_X_PQ_INNER_SERVER_NONCE))
        mtp_auth_flip_first(in.server_nonce, sizeof in.server_nonce);
    if (corrupts(c, MTP_AUTH_X_PQ_INNER_PQ) && pq_len <= sizeof pq_copy) {
        memcpy(pq_copy, pq, pq_len);
        mtp_auth_flip_last(pq_copy, pq_len);
        in.pq.p = pq_copy;
    }

    uint8_t data[MTP_RSA_OLD_PADDED];
    const uint8_t *inner = data;
    size_t inner_len;
    struct mtp_wr dw;
    mtp_wr_init_fixed(&dw, data, sizeof data, e);
    rc = mtp_auth_tl_write_pq_inner(&dw, &in);
    mtp_wipe(in.new_nonce, sizeof in.new_nonce);
    MTP_GUARD(rc);
    inner_len = dw.len;
    if (c->bh.pq_inner != NULL) {
        inner = c->bh.pq_inner;
        inner_len = c->bh.pq_inner_len;
    }

    uint8_t encrypted[MTP_RSA_BYTES];
    if (c->cfg.rsa == MTP_AUTH_RSA_PAD)
        rc = mtp_rsa_pad_encrypt_env(key, &c->env, inner, inner_len, encrypted, e);
    else
        rc = mtp_rsa_old_encrypt_env(key, &c->env, inner, inner_len, encrypted, e);
    mtp_wipe(data, sizeof data);
    MTP_GUARD(mtp_auth_prefixed(rc, e, "req_DH_params.encrypted_data"));
    if (corrupts(c, MTP_AUTH_X_REQ_DH_ENCRYPTED_DATA))
        mtp_auth_flip_last(encrypted, sizeof encrypted);

    struct mtp_auth_req_dh_params rq = {
        .p = {p_be, p_len},
        .q = {q_be, q_len},
        .encrypted_data = {encrypted, sizeof encrypted},
    };
    memcpy(rq.nonce, c->nonce, sizeof rq.nonce);
    memcpy(rq.server_nonce, c->server_nonce, sizeof rq.server_nonce);
    memcpy(rq.fingerprint, c->res.fingerprint, sizeof rq.fingerprint);
    if (corrupts(c, MTP_AUTH_X_REQ_DH_NONCE))
        mtp_auth_flip_first(rq.nonce, sizeof rq.nonce);
    if (corrupts(c, MTP_AUTH_X_REQ_DH_SERVER_NONCE))
        mtp_auth_flip_first(rq.server_nonce, sizeof rq.server_nonce);
    if (corrupts(c, MTP_AUTH_X_REQ_DH_FINGERPRINT))
        mtp_auth_flip_first(rq.fingerprint, sizeof rq.fingerprint);
    uint8_t p_bad[8], q_bad[8];
    if (corrupts(c, MTP_AUTH_X_REQ_DH_P)) {
        memcpy(p_bad, p_be, p_len);
        mtp_auth_flip_last(p_bad, p_len);
        rq.p.p = p_bad;
    }
    if (corrupts(c, MTP_AUTH_X_REQ_DH_Q)) {
        memcpy(q_bad, q_be, q_len);
        mtp_auth_flip_last(q_bad, q_len);
        rq.q.p = q_bad;
    }
    MTP_GUARD(mtp_auth_tl_write_req_dh_params(w, &rq));

    mtp_authcrypt_tmp_aes(c->new_nonce, c->server_nonce, c->tmp_key, c->tmp_iv);
    c->res.inner_form = c->cfg.inner;
    c->res.rsa_scheme = c->cfg.rsa;
    c->res.dc = in.dc;
    c->res.temp = mtp_auth_inner_form_is_temp(c->cfg.inner);
    c->res.expires_in = in.expires_in;
    c->state = MTP_AUTH_C_AWAIT_SERVER_DH_PARAMS;
    return MTP_OK;
}

/* --- steps 6-7: server_DH_params -> set_client_DH_params --- */

/* b and g_b: a fresh b from env whose g_b is in the safe range, or what the
 * seeded faults ask for (the same b every time; any g, g_b as it comes). */
static int make_b(struct mtp_auth_client *c, uint8_t g_b[MTP_DH_BYTES], struct mtp_error *e)
{
    if (faulty(c, MTP_AUTH_CF_FIXED_B)) {
        memset(c->b, 0x42, sizeof c->b);
        return mtp_dh_public(c->dh_prime, sizeof c->dh_prime, c->g, c->b, g_b, e);
    }
    if (!faulty(c, MTP_AUTH_CF_SKIP_G) || (c->g >= 2 && c->g <= 7))
        return mtp_dh_keypair(&c->env, c->dh_prime, sizeof c->dh_prime, c->g, c->b, g_b, e);
    /* A g the real checks refuse: g^b mod p however it turns out. */
    MTP_GUARD(mtp_env_rand(&c->env, c->b, sizeof c->b));
    uint32_t gv = (uint32_t)c->g;
    uint8_t g_be[4] = {(uint8_t)(gv >> 24), (uint8_t)(gv >> 16), (uint8_t)(gv >> 8), (uint8_t)gv}, out[MTP_DH_BYTES];
    size_t n = 0;
    MTP_GUARD(mtp_dh_modexp(g_be, sizeof g_be, c->b, sizeof c->b, c->dh_prime, sizeof c->dh_prime, out, sizeof out, &n,
                            e));
    memset(g_b, 0, MTP_DH_BYTES);
    memcpy(g_b + MTP_DH_BYTES - n, out, n);
    return MTP_OK;
}

/* Draws b, computes g_b and the auth_key of this attempt, and writes
 * set_client_DH_params (also after dh_gen_retry). */
static int send_client_dh(struct mtp_auth_client *c, struct mtp_wr *w, struct mtp_error *e)
{
    uint8_t g_b[MTP_DH_BYTES];
    MTP_GUARD(mtp_auth_prefixed(make_b(c, g_b, e), e, "b"));
    MTP_GUARD(mtp_auth_prefixed(
        mtp_dh_shared(c->dh_prime, sizeof c->dh_prime, c->g_a, sizeof c->g_a, c->b, c->auth_key, e), e, "auth_key"));
    mtp_authcrypt_auth_key_aux_hash(c->auth_key, c->aux_hash);

    struct mtp_auth_client_inner in = {.g_b = {g_b, sizeof g_b}};
    memcpy(in.nonce, c->nonce, sizeof in.nonce);
    memcpy(in.server_nonce, c->server_nonce, sizeof in.server_nonce);
    memcpy(in.retry_id, c->retry_id, sizeof in.retry_id);
    if (c->bh.g_b != NULL)
        in.g_b = (struct mtp_auth_bytes){c->bh.g_b, c->bh.g_b_len};
    if (corrupts(c, MTP_AUTH_X_CLIENT_INNER_NONCE))
        mtp_auth_flip_first(in.nonce, sizeof in.nonce);
    if (corrupts(c, MTP_AUTH_X_CLIENT_INNER_SERVER_NONCE))
        mtp_auth_flip_first(in.server_nonce, sizeof in.server_nonce);
    if (corrupts(c, MTP_AUTH_X_CLIENT_INNER_RETRY_ID))
        mtp_auth_flip_first(in.retry_id, sizeof in.retry_id);

    uint8_t data[MTP_AUTH_INNER_BUF];
    struct mtp_wr dw;
    mtp_wr_init_fixed(&dw, data, sizeof data, e);
    MTP_GUARD(mtp_auth_prefixed(mtp_auth_tl_write_client_inner(&dw, &in), e, "client_DH_inner_data"));
    const uint8_t *inner = data;
    size_t inner_len = dw.len;
    if (c->bh.client_inner != NULL) {
        inner = c->bh.client_inner;
        inner_len = c->bh.client_inner_len;
    }
    uint8_t encrypted[MTP_AUTH_INNER_BUF];
    size_t enc_len;
    int rc = mtp_auth_seal(&c->env, c->tmp_key, c->tmp_iv, inner, inner_len, corrupts(c, MTP_AUTH_X_CLIENT_INNER_HASH),
                           false, encrypted, sizeof encrypted, &enc_len, e);
    mtp_wipe(data, sizeof data);
    MTP_GUARD(mtp_auth_prefixed(rc, e, "set_client_DH_params.encrypted_data"));
    if (corrupts(c, MTP_AUTH_X_SET_DH_ENCRYPTED_DATA))
        mtp_auth_flip_last(encrypted, enc_len);

    struct mtp_auth_set_client_dh sd = {.encrypted_data = {encrypted, enc_len}};
    memcpy(sd.nonce, c->nonce, sizeof sd.nonce);
    memcpy(sd.server_nonce, c->server_nonce, sizeof sd.server_nonce);
    if (corrupts(c, MTP_AUTH_X_SET_DH_NONCE))
        mtp_auth_flip_first(sd.nonce, sizeof sd.nonce);
    if (corrupts(c, MTP_AUTH_X_SET_DH_SERVER_NONCE))
        mtp_auth_flip_first(sd.server_nonce, sizeof sd.server_nonce);
    MTP_GUARD(mtp_auth_tl_write_set_client_dh(w, &sd));
    c->state = MTP_AUTH_C_AWAIT_DH_GEN;
    return MTP_OK;
}

/* dh_prime, g and g_a (mtp_dh_check), with the residue condition waived when
 * the configuration says so. */
static int check_dh(struct mtp_auth_client *c, const struct mtp_auth_server_inner *si, struct mtp_error *e)
{
    struct mtp_error local;
    mtp_error_clear(&local);
    const uint8_t *p = si->dh_prime.p;
    size_t p_len = si->dh_prime.len;
    int rc = MTP_OK;
    if (!faulty(c, MTP_AUTH_CF_SKIP_DH_PRIME))
        rc = mtp_dh_check_prime(p, p_len, c->cfg.dh_mode, &local);
    if (rc == MTP_OK && !faulty(c, MTP_AUTH_CF_SKIP_G)) {
        rc = mtp_dh_check_g(p, p_len, si->g, &local);
        if (rc == MTP_ERR_DH_G_BAD_RESIDUE && c->cfg.lax_g_residue) {
            mtp_error_clear(&local);
            rc = MTP_OK;
        }
    }
    bool range = !faulty(c, MTP_AUTH_CF_SKIP_GA_RANGE), margin = !faulty(c, MTP_AUTH_CF_SKIP_GA_MARGIN);
    if (rc == MTP_OK && (range || margin))
        rc = mtp_dh_check_ga_parts(p, p_len, si->g_a.p, si->g_a.len, range, margin, &local);
    if (rc < 0) {
        mtp_error_prefix(&local, "server_DH_inner_data");
        return mtp_auth_pass_error(e, &local);
    }
    return MTP_OK;
}

static int parse_server_inner(struct mtp_rd *r, void *obj) { return mtp_auth_tl_read_server_inner(r, obj); }

static int on_server_dh_params(struct mtp_auth_client *c, struct mtp_rd *r, struct mtp_wr *w, struct mtp_error *e)
{
    static const uint32_t ids[] = {MTP_AUTH_ID_SERVER_DH_PARAMS_OK, MTP_AUTH_ID_SERVER_DH_PARAMS_FAIL};
    MTP_GUARD(mtp_auth_expect_ctor(r, ids, 2, "server_DH_params_ok or server_DH_params_fail",
                                   "client: await server_DH_params", e));
    struct mtp_auth_server_dh_params sp;
    MTP_GUARD(mtp_auth_tl_read_server_dh_params(r, &sp));
    const char *object = sp.ok ? "server_DH_params_ok" : "server_DH_params_fail";
    MTP_GUARD(mtp_rd_end(r, object));
    MTP_GUARD(check_nonces(c, sp.nonce, sp.server_nonce, object, 4, e));

    if (!sp.ok) {
        uint8_t want[MTP_AUTH_HASH_LEN];
        mtp_authcrypt_dh_params_fail_hash(c->new_nonce, want);
        if (mtp_ct_memcmp(want, sp.new_nonce_hash, sizeof want) != 0 && !faulty(c, MTP_AUTH_CF_SKIP_NEW_NONCE_HASH))
            return mtp_error_set(e, MTP_ERR_AUTH_NEW_NONCE_HASH, 36,
                                 "server_DH_params_fail.new_nonce_hash is not the low 128 bits of SHA1(new_nonce)");
        return mtp_error_set(e, MTP_ERR_AUTH_DH_PARAMS_FAIL, 0,
                             "server_DH_params_fail: the server refused req_DH_params (its new_nonce_hash checks out)");
    }

    struct mtp_auth_server_inner si;
    MTP_GUARD((faulty(c, MTP_AUTH_CF_SKIP_ANSWER_HASH) ? mtp_auth_open_unchecked : mtp_auth_open)(
        c->tmp_key, c->tmp_iv, sp.encrypted_answer.p, sp.encrypted_answer.len, c->inner, sizeof c->inner,
        parse_server_inner, &si, "server_DH_params_ok.encrypted_answer", e));
    MTP_GUARD(check_nonces(c, si.nonce, si.server_nonce, "server_DH_inner_data", 24, e));
    MTP_GUARD(check_dh(c, &si, e));

    int64_t offset = (int64_t)si.server_time * 1000 - mtp_env_now_ms(&c->env);
    if (c->cfg.max_clock_skew_s > 0 &&
        (offset > c->cfg.max_clock_skew_s * 1000 || offset < -c->cfg.max_clock_skew_s * 1000))
        return mtp_error_set(e, MTP_ERR_AUTH_SERVER_TIME, MTP_NO_OFFSET,
                             "server_DH_inner_data.server_time: %d is %lld s from the local clock, more than %lld",
                             si.server_time, (long long)(offset / 1000), (long long)c->cfg.max_clock_skew_s);
    c->res.server_time = si.server_time;
    c->res.time_offset_ms = offset;
    MTP_GUARD(store_num(c->dh_prime, si.dh_prime.p, si.dh_prime.len, "dh_prime", e));
    MTP_GUARD(store_num(c->g_a, si.g_a.p, si.g_a.len, "g_a", e));
    c->g = si.g;
    memset(c->retry_id, 0, sizeof c->retry_id);
    return send_client_dh(c, w, e);
}

/* --- step 9: dh_gen_ok / dh_gen_retry / dh_gen_fail --- */

static int on_dh_gen(struct mtp_auth_client *c, struct mtp_rd *r, struct mtp_wr *w, struct mtp_error *e)
{
    static const uint32_t ids[] = {MTP_AUTH_ID_DH_GEN_OK, MTP_AUTH_ID_DH_GEN_RETRY, MTP_AUTH_ID_DH_GEN_FAIL};
    MTP_GUARD(mtp_auth_expect_ctor(r, ids, 3, "dh_gen_ok, dh_gen_retry or dh_gen_fail", "client: await dh_gen", e));
    struct mtp_auth_dh_gen dg;
    MTP_GUARD(mtp_auth_tl_read_dh_gen(r, &dg));
    const char *object = mtp_auth_tl_name(mtp_auth_dh_gen_id(dg.number));
    MTP_GUARD(mtp_rd_end(r, object));
    MTP_GUARD(check_nonces(c, dg.nonce, dg.server_nonce, object, 4, e));

    uint8_t want[MTP_AUTH_HASH_LEN];
    MTP_GUARD(mtp_authcrypt_new_nonce_hash(c->new_nonce, dg.number, c->aux_hash, want, e));
    if (mtp_ct_memcmp(want, dg.new_nonce_hash, sizeof want) != 0 && !faulty(c, MTP_AUTH_CF_SKIP_NEW_NONCE_HASH))
        return mtp_error_set(e, MTP_ERR_AUTH_NEW_NONCE_HASH, 36,
                             "%s.new_nonce_hash%d does not match SHA1(new_nonce + %d + auth_key_aux_hash)", object,
                             dg.number, dg.number);
    switch (dg.number) {
    case 1:
        memcpy(c->res.auth_key, c->auth_key, sizeof c->res.auth_key);
        mtp_auth_key_id(c->auth_key, c->res.auth_key_id);
        mtp_authcrypt_server_salt(c->new_nonce, c->server_nonce, c->res.server_salt);
        c->state = MTP_AUTH_C_DONE;
        /* "they forget all other temporary data" (auth_key step 9) */
        wipe_secrets(c);
        return MTP_OK;
    case 2:
        if (c->res.retries >= c->cfg.max_retries)
            return mtp_error_set(e, MTP_ERR_AUTH_RETRY_LIMIT, 0, "dh_gen_retry: already retried %u times, the limit",
                                 c->res.retries);
        c->res.retries++;
        /* auth_key step 9: retry_id is the auth_key_aux_hash of the key that failed. */
        if (!faulty(c, MTP_AUTH_CF_RETRY_ID_ZERO))
            memcpy(c->retry_id, c->aux_hash, sizeof c->retry_id);
        return send_client_dh(c, w, e);
    default:
        return mtp_error_set(e, MTP_ERR_AUTH_DH_GEN_FAIL, 0,
                             "dh_gen_fail: the server refused set_client_DH_params (its new_nonce_hash3 checks out)");
    }
}

/* --- the state table --- */

typedef int (*client_step_fn)(struct mtp_auth_client *c, struct mtp_rd *r, struct mtp_wr *w, struct mtp_error *e);

static const struct {
    const char *name;
    client_step_fn on_recv;
} client_steps[] = {
    [MTP_AUTH_C_INIT] = {"client: not started", NULL},
    [MTP_AUTH_C_AWAIT_RES_PQ] = {"client: await resPQ", on_res_pq},
    [MTP_AUTH_C_AWAIT_SERVER_DH_PARAMS] = {"client: await server_DH_params", on_server_dh_params},
    [MTP_AUTH_C_AWAIT_DH_GEN] = {"client: await dh_gen_ok/retry/fail", on_dh_gen},
    [MTP_AUTH_C_DONE] = {"client: auth key agreed", NULL},
    [MTP_AUTH_C_FAILED] = {"client: failed", NULL},
};

const char *mtp_auth_client_state_name(enum mtp_auth_client_state s)
{
    return (size_t)s < sizeof client_steps / sizeof client_steps[0] ? client_steps[s].name : "client: unknown state";
}

int mtp_auth_client_recv(struct mtp_auth_client *c, const uint8_t *body, size_t len, struct mtp_wr *out,
                         struct mtp_error *err)
{
    client_step_fn step = client_steps[c->state].on_recv;
    if (step == NULL)
        return mtp_error_set(err, MTP_ERR_AUTH_BAD_STATE, MTP_NO_OFFSET, "auth client: a message in state \"%s\"",
                             mtp_auth_client_state_name(c->state));
    struct mtp_error e;
    mtp_error_clear(&e);
    int rc;
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, c->out, sizeof c->out, &e);
    if (len > MTP_AUTH_BODY_MAX) {
        rc = mtp_error_set(&e, MTP_ERR_LIMIT, MTP_NO_OFFSET, "%s: a %zu-byte message, at most %d accepted",
                           mtp_auth_client_state_name(c->state), len, MTP_AUTH_BODY_MAX);
    } else {
        struct mtp_rd r;
        mtp_rd_init(&r, body, len, &e);
        rc = step(c, &r, &w, &e);
    }
    if (rc == MTP_OK && w.len > 0)
        rc = mtp_wr_raw(out, c->out, w.len);
    if (rc < 0) {
        if (e.code == MTP_OK)
            mtp_error_set(&e, rc, MTP_NO_OFFSET, "%s: the answer does not fit the output",
                          mtp_auth_client_state_name(c->state));
        c->state = MTP_AUTH_C_FAILED;
        c->error = e;
        wipe_secrets(c);
        return mtp_auth_pass_error(err, &e);
    }
    mtp_wipe(c->out, w.len);
    return MTP_OK;
}
