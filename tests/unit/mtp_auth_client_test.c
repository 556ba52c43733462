/* The client machine against the published worked examples of
 * core.telegram.org/mtproto/samples-auth_key (a byte-for-byte replay driven by
 * the recorded randomness), and against hand-made server messages that each
 * break one rule.  Client-versus-server runs are in mtp_auth_server_test.c. */
#include <string.h>

#include "mtp/auth_client.h"
#include "mtp/authcrypt.h"
#include "mtp/msgcrypt.h"
#include "mtp_auth_testutil.h"
#include "mtp_test.h"

/* temp_key is not published, so the replay uses temp_keys of our own:
 * candidate i is the bytes 0x21 + 0x20 i, 0x22 + 0x20 i, ...  The script holds
 * the candidates up to the first one for which key_aes_encrypted is below the
 * modulus, so any rejected ones before it also exercise the client's retry. */
static void temp_key_candidate(int i, uint8_t tk[32])
{
    for (int j = 0; j < 32; j++)
        tk[j] = (uint8_t)(0x21 + j + 0x20 * i);
}

/* Hex of padding + candidates; *chosen gets the temp_key that will be used. */
static char *rsa_pad_random(const struct mtp_rsa_key *key, uint8_t chosen[32])
{
    size_t data_len, pad_len;
    const uint8_t *data = sample_bytes("new", "values", "inner_data", &data_len);
    const uint8_t *pad = sample_bytes("new", "client_random", "rsa_random_padding", &pad_len);
    const char *pad_hex = sample_hex("new", "client_random", "rsa_random_padding");
    char *hex = malloc(strlen(pad_hex) + 16 * 64 + 1);
    ck_assert_ptr_nonnull(hex);
    strcpy(hex, pad_hex);
    for (int i = 0; i < 16; i++) {
        temp_key_candidate(i, chosen);
        for (int j = 0; j < 32; j++)
            snprintf(hex + strlen(hex), 3, "%02x", chosen[j]);
        uint8_t enc[MTP_RSA_BYTES];
        int rc = mtp_rsa_pad_encrypt(key, data, data_len, pad, pad_len, chosen, enc, NULL);
        if (rc == MTP_OK)
            return hex;
        ck_assert_rc(rc, MTP_ERR_RSA_RETRY);
    }
    ck_abort_msg("no candidate temp_key works");
    return NULL;
}

/* The old example's RSA padding is not published either: 139 bytes of our own. */
#define OLD_RSA_PADDING_BYTE "5a"

/* Offsets in req_DH_params: ctor 0, nonce 4, server_nonce 20, p 36, q 44 (4-byte
 * primes: 8 bytes of TL each), public_key_fingerprint 52, encrypted_data 60
 * (4-byte length prefix, then 256 bytes). */
#define REQ_DH_FP_AT 52
#define REQ_DH_DATA_AT 64
#define REQ_DH_LEN 320

static char *repeat_hex(const char *byte, size_t n)
{
    char *s = malloc(2 * n + 1);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + 2 * i, byte, 2);
    s[2 * n] = '\0';
    return s;
}

static const char *fp_of(const char *ex) { return sample_hex(ex, "values", "public_key_fingerprint"); }

static int64_t msg_id_of(const char *ex, const char *section, const char *msg)
{
    size_t n;
    const uint8_t *m = sample_bytes(ex, section, msg, &n);
    struct mtp_auth_plain plain;
    ck_assert_ok(mtp_auth_plain_unwrap(m, n, &plain, NULL));
    return plain.msg_id;
}

/* The envelope around our body with the published msg_id must be the published message. */
static void assert_published_message(const char *ex, const char *msg, const uint8_t *body, size_t len)
{
    uint8_t buf[MTP_AUTH_BODY_MAX + MTP_AUTH_PLAIN_HEADER_LEN];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_auth_plain_wrap(&w, msg_id_of(ex, "client_messages", msg), body, len));
    ck_assert_hex_eq(buf, w.len, sample_hex(ex, "client_messages", msg));
}

struct replay {
    /* in */
    const char *ex; /* "new" or "old" */
    const struct mtp_rsa_key *key;
    const char *rsa_random_hex; /* what RSA encryption draws: padding (+ temp_key for RSA_PAD) */
    const char *b_before;       /* drawn before the published b (NULL: nothing) */
    const uint8_t *res_pq;      /* NULL: the published resPQ */
    size_t res_pq_len;
    /* out */
    uint8_t req_dh[MTP_AUTH_BODY_MAX];
    size_t req_dh_len;
    struct mtp_auth_result res;
};

static void client_config(const char *ex, const struct mtp_rsa_key *const *keys, struct mtp_auth_client_config *cfg)
{
    mtp_auth_client_config_init(cfg);
    cfg->keys = keys;
    cfg->n_keys = 1;
    if (strcmp(ex, "old") == 0) {
        cfg->req_pq_old = true;
        cfg->inner = MTP_AUTH_INNER_PLAIN;
        cfg->rsa = MTP_AUTH_RSA_OLD;
        cfg->lax_g_residue = true; /* see old_example_g_fails_the_residue_check */
    } else {
        cfg->dc = 2; /* p_q_inner_data_dc of the example: "dc 2" */
    }
}

/* Runs the client through the whole published exchange; every client
 * message but req_DH_params must be the published one byte for byte, and
 * req_DH_params everywhere but its RSA-encrypted data (and the fingerprint
 * when a resPQ of our own lists another key). */
static void run_replay(struct replay *rp)
{
    const char *ex = rp->ex;
    size_t script_len;
    const uint8_t *script =
        hex_concat(&script_len, sample_hex(ex, "client_random", "nonce"), sample_hex(ex, "client_random", "new_nonce"),
                   rp->rsa_random_hex, rp->b_before ? rp->b_before : "", sample_hex(ex, "client_random", "b"),
                   sample_hex(ex, "client_random", "client_dh_inner_padding"), NULL);
    int64_t server_time = sample_int(ex, "server_time");
    struct mtp_script_state st;
    struct mtp_env env = mtp_env_scripted(&st, script, script_len, server_time * 1000 - 1500);
    const struct mtp_rsa_key *keys[] = {rp->key};
    struct mtp_auth_client_config cfg;
    client_config(ex, keys, &cfg);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_auth_client *c;
    ck_assert_ok(mtp_auth_client_new(&cfg, &env, &c, &err));
    ck_assert_int_eq(mtp_auth_client_state(c), MTP_AUTH_C_INIT);

    uint8_t buf[MTP_AUTH_BODY_MAX];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, &err);

    /* 1) req_pq_multi (req_pq in the old example) */
    ck_assert_ok(mtp_auth_client_start(c, &w, &err));
    size_t want_len;
    const uint8_t *want = sample_body(ex, "client_messages", "req_pq", &want_len);
    ck_assert_uint_eq(w.len, want_len);
    ck_assert_mem_eq(buf, want, want_len);
    assert_published_message(ex, "req_pq", buf, w.len);
    ck_assert_str_eq(mtp_auth_client_state_name(mtp_auth_client_state(c)), "client: await resPQ");

    /* 2) resPQ -> 5) req_DH_params */
    size_t res_pq_len;
    const uint8_t *res_pq = sample_body(ex, "server_messages", "resPQ", &res_pq_len);
    if (rp->res_pq != NULL) {
        res_pq = rp->res_pq;
        res_pq_len = rp->res_pq_len;
    }
    uint8_t nonce[16], server_nonce[16], new_nonce[32];
    ck_assert(!mtp_auth_client_nonces(c, nonce, server_nonce, new_nonce));
    mtp_wr_reset(&w);
    int rc = mtp_auth_client_recv(c, res_pq, res_pq_len, &w, &err);
    ck_assert_msg(rc == MTP_OK, "resPQ: %s", err.msg);
    /* what a key log's NEW_NONCE line gets */
    ck_assert(mtp_auth_client_nonces(c, nonce, server_nonce, new_nonce));
    ck_assert_hex_eq(nonce, 16, sample_hex(ex, "client_random", "nonce"));
    ck_assert_hex_eq(server_nonce, 16, sample_hex(ex, "server_random", "server_nonce"));
    ck_assert_hex_eq(new_nonce, 32, sample_hex(ex, "client_random", "new_nonce"));
    want = sample_body(ex, "client_messages", "req_DH_params", &want_len);
    ck_assert_uint_eq(w.len, REQ_DH_LEN);
    ck_assert_uint_eq(want_len, REQ_DH_LEN);
    ck_assert_mem_eq(buf, want, REQ_DH_FP_AT);
    ck_assert_mem_eq(buf + REQ_DH_FP_AT + 8, want + REQ_DH_FP_AT + 8, REQ_DH_DATA_AT - REQ_DH_FP_AT - 8);
    uint8_t fp[8];
    ck_assert_ok(mtp_rsa_key_fingerprint(rp->key, fp, NULL));
    ck_assert_mem_eq(buf + REQ_DH_FP_AT, fp, 8);
    memcpy(rp->req_dh, buf, w.len);
    rp->req_dh_len = w.len;

    /* 6) server_DH_params_ok -> 7) set_client_DH_params */
    size_t len;
    const uint8_t *msg = sample_body(ex, "server_messages", "server_DH_params_ok", &len);
    mtp_wr_reset(&w);
    rc = mtp_auth_client_recv(c, msg, len, &w, &err);
    ck_assert_msg(rc == MTP_OK, "server_DH_params_ok: %s", err.msg);
    want = sample_body(ex, "client_messages", "set_client_DH_params", &want_len);
    ck_assert_uint_eq(w.len, want_len);
    ck_assert_mem_eq(buf, want, want_len);
    assert_published_message(ex, "set_client_DH_params", buf, w.len);

    /* 9) dh_gen_ok */
    msg = sample_body(ex, "server_messages", "dh_gen_ok", &len);
    mtp_wr_reset(&w);
    rc = mtp_auth_client_recv(c, msg, len, &w, &err);
    ck_assert_msg(rc == MTP_OK, "dh_gen_ok: %s", err.msg);
    ck_assert_uint_eq(w.len, 0);
    ck_assert_int_eq(mtp_auth_client_state(c), MTP_AUTH_C_DONE);
    ck_assert_str_eq(mtp_auth_client_state_name(MTP_AUTH_C_DONE), "client: auth key agreed");
    ck_assert(!mtp_auth_client_nonces(c, nonce, server_nonce, new_nonce));
    ck_assert_uint_eq(st.pos, script_len); /* every recorded random byte used, no more */

    ck_assert_ok(mtp_auth_client_result(c, &rp->res, &err));
    ck_assert_hex_eq(rp->res.auth_key, 256, sample_hex(ex, "values", "auth_key"));
    ck_assert_hex_eq(rp->res.auth_key_id, 8, sample_hex(ex, "values", "auth_key_id"));
    ck_assert_hex_eq(rp->res.server_salt, 8, sample_hex(ex, "values", "server_salt"));
    ck_assert_int_eq(rp->res.server_time, server_time);
    ck_assert_int_eq(rp->res.time_offset_ms, 1500);
    ck_assert_mem_eq(rp->res.fingerprint, fp, 8);
    ck_assert_uint_eq(rp->res.retries, 0);
    ck_assert(!rp->res.temp);
    mtp_auth_client_del(c);
}

START_TEST(replay_new_example_with_telegram_key)
{
    struct replay rp = {.ex = "new", .key = telegram_key(fp_of("new"))};
    uint8_t temp_key[32];
    char *random = rsa_pad_random(rp.key, temp_key);
    rp.rsa_random_hex = random;
    run_replay(&rp);
    free(random);
    ck_assert_int_eq(rp.res.inner_form, MTP_AUTH_INNER_DC);
    ck_assert_int_eq(rp.res.rsa_scheme, MTP_AUTH_RSA_PAD);
    ck_assert_int_eq(rp.res.dc, 2);
    ck_assert(rp.res.req_pq_multi);
    /* With our temp_key, RSA_PAD of the published data and padding is what the client sent. */
    size_t data_len, pad_len;
    const uint8_t *data = sample_bytes("new", "values", "inner_data", &data_len);
    const uint8_t *pad = sample_bytes("new", "client_random", "rsa_random_padding", &pad_len);
    uint8_t enc[MTP_RSA_BYTES];
    ck_assert_ok(mtp_rsa_pad_encrypt(rp.key, data, data_len, pad, pad_len, temp_key, enc, NULL));
    ck_assert_mem_eq(rp.req_dh + REQ_DH_DATA_AT, enc, MTP_RSA_BYTES);
}
END_TEST

START_TEST(replay_redraws_b_whose_g_b_is_unsafe)
{
    /* b = 0 gives g_b = 1, outside 1 < g_b < dh_prime - 1: the client must
     * draw b again (auth_key step 7 and the g_b range rule), and then sends
     * the published set_client_DH_params with the published b. */
    struct replay rp = {.ex = "new", .key = telegram_key(fp_of("new"))};
    uint8_t temp_key[32];
    char *random = rsa_pad_random(rp.key, temp_key);
    char *zero_b = repeat_hex("00", 256);
    rp.rsa_random_hex = random;
    rp.b_before = zero_b;
    run_replay(&rp);
    free(random);
    free(zero_b);
}
END_TEST

/* The published resPQ with the fingerprint list replaced by one key. */
static const uint8_t *res_pq_listing(const char *ex, const struct mtp_rsa_key *key, size_t *len)
{
    size_t n;
    const uint8_t *body = sample_body(ex, "server_messages", "resPQ", &n);
    struct mtp_rd r;
    mtp_rd_init(&r, body, n, NULL);
    struct mtp_auth_res_pq rp;
    ck_assert_ok(mtp_auth_tl_read_res_pq(&r, &rp));
    rp.n_fingerprints = 1;
    ck_assert_ok(mtp_rsa_key_fingerprint(key, rp.fingerprints[0], NULL));
    static uint8_t buf[MTP_AUTH_BODY_MAX]; /* per test process */
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_auth_tl_write_res_pq(&w, &rp));
    *len = w.len;
    return buf;
}

START_TEST(replay_new_example_decrypted_with_test_key)
{
    /* The server keys' private halves are secret, so the same run with our own
     * key in resPQ lets us open encrypted_data and see the published
     * p_q_inner_data_dc and padding, and our temp_key. */
    const struct mtp_rsa_key *key = test_key();
    struct replay rp = {.ex = "new", .key = key};
    rp.res_pq = res_pq_listing("new", key, &rp.res_pq_len);
    uint8_t chosen[32];
    char *random = rsa_pad_random(key, chosen);
    rp.rsa_random_hex = random;
    run_replay(&rp);
    free(random);
    uint8_t dwp[MTP_RSA_PAD_PADDED], temp_key[MTP_RSA_PAD_TEMP_KEY];
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_rsa_pad_decrypt(key, rp.req_dh + REQ_DH_DATA_AT, MTP_RSA_BYTES, dwp, temp_key, &err) == MTP_OK,
                  "%s", err.msg);
    size_t data_len, pad_len;
    const uint8_t *data = sample_bytes("new", "values", "inner_data", &data_len);
    const uint8_t *pad = sample_bytes("new", "client_random", "rsa_random_padding", &pad_len);
    ck_assert_uint_eq(data_len + pad_len, MTP_RSA_PAD_PADDED);
    ck_assert_mem_eq(dwp, data, data_len);
    ck_assert_mem_eq(dwp + data_len, pad, pad_len);
    ck_assert_mem_eq(temp_key, chosen, 32);
}
END_TEST

static char *old_rsa_random(void)
{
    /* SHA1 (20) + p_q_inner_data (96) + padding = 255 */
    return repeat_hex(OLD_RSA_PADDING_BYTE, MTP_RSA_OLD_PADDED - 20 - 96);
}

START_TEST(replay_old_example_with_telegram_key)
{
    struct replay rp = {.ex = "old", .key = telegram_key(fp_of("old"))};
    char *random = old_rsa_random();
    rp.rsa_random_hex = random;
    run_replay(&rp);
    ck_assert_int_eq(rp.res.inner_form, MTP_AUTH_INNER_PLAIN);
    ck_assert_int_eq(rp.res.rsa_scheme, MTP_AUTH_RSA_OLD);
    ck_assert_int_eq(rp.res.dc, 0);
    ck_assert(!rp.res.req_pq_multi);
    size_t data_len, pad_len;
    const uint8_t *data = sample_bytes("old", "values", "inner_data", &data_len);
    const uint8_t *pad = mtp_test_hex(random, &pad_len);
    free(random);
    uint8_t enc[MTP_RSA_BYTES];
    ck_assert_ok(mtp_rsa_old_encrypt(rp.key, data, data_len, pad, pad_len, enc, NULL));
    ck_assert_mem_eq(rp.req_dh + REQ_DH_DATA_AT, enc, MTP_RSA_BYTES);
}
END_TEST

START_TEST(replay_old_example_decrypted_with_test_key)
{
    const struct mtp_rsa_key *key = test_key();
    struct replay rp = {.ex = "old", .key = key};
    rp.res_pq = res_pq_listing("old", key, &rp.res_pq_len);
    char *random = old_rsa_random();
    rp.rsa_random_hex = random;
    run_replay(&rp);
    uint8_t dwh[MTP_RSA_OLD_PADDED];
    ck_assert_ok(mtp_rsa_old_decrypt(key, rp.req_dh + REQ_DH_DATA_AT, MTP_RSA_BYTES, dwh, NULL));
    size_t data_len, pad_len;
    const uint8_t *data = sample_bytes("old", "values", "inner_data", &data_len);
    const uint8_t *pad = mtp_test_hex(random, &pad_len);
    free(random);
    ck_assert_ok(mtp_rsa_old_check(dwh, data_len, NULL));
    ck_assert_mem_eq(dwh + 20, data, data_len);
    ck_assert_mem_eq(dwh + 20 + data_len, pad, pad_len);
}
END_TEST

START_TEST(old_example_g_fails_the_residue_check)
{
    /* The older example sends g = 2, but its dh_prime is 3 mod 8, so 2 is not a
     * quadratic residue and generates the whole group: a client following
     * today's auth_key page rejects it.  (The replays above waive this one
     * check with lax_g_residue.) */
    const struct mtp_rsa_key *keys[] = {telegram_key(fp_of("old"))};
    char *random = old_rsa_random();
    size_t script_len;
    const uint8_t *script = hex_concat(&script_len, sample_hex("old", "client_random", "nonce"),
                                       sample_hex("old", "client_random", "new_nonce"), random, NULL);
    free(random);
    struct mtp_script_state st;
    struct mtp_env env = mtp_env_scripted(&st, script, script_len, sample_int("old", "server_time") * 1000);
    struct mtp_auth_client_config cfg;
    client_config("old", keys, &cfg);
    cfg.lax_g_residue = false;
    struct mtp_auth_client *c;
    ck_assert_ok(mtp_auth_client_new(&cfg, &env, &c, NULL));
    uint8_t buf[MTP_AUTH_BODY_MAX];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_auth_client_start(c, &w, NULL));
    size_t len;
    const uint8_t *m = sample_body("old", "server_messages", "resPQ", &len);
    ck_assert_ok(mtp_auth_client_recv(c, m, len, &w, NULL));
    m = sample_body("old", "server_messages", "server_DH_params_ok", &len);
    mtp_wr_reset(&w);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_client_recv(c, m, len, &w, &err), MTP_ERR_DH_G_BAD_RESIDUE);
    ck_assert_str_eq(err.msg, "server_DH_inner_data: g: 2 does not generate the subgroup of order (p-1)/2 "
                              "(dh_prime mod 8 = 3)");
    ck_assert_uint_eq(w.len, 0);
    mtp_auth_client_del(c);
}
END_TEST

/* --- hand-made server messages, each breaking one rule --- */

/* A client of the new example driven to `upto` published server messages
 * (0: started, awaiting resPQ; 1: awaiting server_DH_params; 2: awaiting
 * dh_gen).  extra_random is appended to its script (for retries). */
struct at_state {
    struct mtp_script_state st;
    struct mtp_env env;
    const struct mtp_rsa_key *keys[1];
    struct mtp_auth_client_config cfg;
    struct mtp_auth_client *c;
    uint8_t out[MTP_AUTH_BODY_MAX];
    struct mtp_wr w;
    struct mtp_error err;
};

static void client_at(struct at_state *a, int upto, const char *extra_random, int64_t clock_shift_ms,
                      unsigned max_retries, int64_t max_skew_s)
{
    uint8_t temp_key[32];
    char *random = rsa_pad_random(telegram_key(fp_of("new")), temp_key);
    size_t script_len;
    const uint8_t *script = hex_concat(
        &script_len, sample_hex("new", "client_random", "nonce"), sample_hex("new", "client_random", "new_nonce"),
        random, sample_hex("new", "client_random", "b"), sample_hex("new", "client_random", "client_dh_inner_padding"),
        extra_random ? extra_random : "", NULL);
    free(random);
    a->env = mtp_env_scripted(&a->st, script, script_len, sample_int("new", "server_time") * 1000 + clock_shift_ms);
    a->keys[0] = telegram_key(fp_of("new"));
    client_config("new", a->keys, &a->cfg);
    a->cfg.max_retries = max_retries;
    a->cfg.max_clock_skew_s = max_skew_s;
    mtp_error_clear(&a->err);
    ck_assert_ok(mtp_auth_client_new(&a->cfg, &a->env, &a->c, &a->err));
    mtp_wr_init_fixed(&a->w, a->out, sizeof a->out, &a->err);
    ck_assert_ok(mtp_auth_client_start(a->c, &a->w, &a->err));
    static const char *const msgs[] = {"resPQ", "server_DH_params_ok"};
    for (int i = 0; i < upto; i++) {
        size_t len;
        const uint8_t *m = sample_body("new", "server_messages", msgs[i], &len);
        mtp_wr_reset(&a->w);
        ck_assert_ok(mtp_auth_client_recv(a->c, m, len, &a->w, &a->err));
    }
    mtp_wr_reset(&a->w);
}

/* Feeds a message that must be rejected with code and exactly msg (NULL: any
 * message); the client must then be FAILED, have written nothing, and refuse
 * further input. */
static void assert_rejects(struct at_state *a, const uint8_t *m, size_t len, int code, const char *msg)
{
    mtp_error_clear(&a->err);
    int rc = mtp_auth_client_recv(a->c, m, len, &a->w, &a->err);
    ck_assert_msg(rc == code, "got %s (%s), want %s", mtp_err_name(rc), a->err.msg, mtp_err_name(code));
    if (msg != NULL)
        ck_assert_str_eq(a->err.msg, msg);
    ck_assert_uint_eq(a->w.len, 0);
    ck_assert_int_eq(mtp_auth_client_state(a->c), MTP_AUTH_C_FAILED);
    ck_assert_int_eq(mtp_auth_client_error(a->c)->code, code);
    ck_assert_str_eq(mtp_auth_client_error(a->c)->msg, a->err.msg);
    ck_assert_str_eq(mtp_auth_client_state_name(MTP_AUTH_C_FAILED), "client: failed");
    struct mtp_error again;
    mtp_error_clear(&again);
    ck_assert_rc(mtp_auth_client_recv(a->c, m, len, &a->w, &again), MTP_ERR_AUTH_BAD_STATE);
    struct mtp_auth_result res;
    ck_assert_rc(mtp_auth_client_result(a->c, &res, NULL), MTP_ERR_AUTH_BAD_STATE);
    mtp_auth_client_del(a->c);
}

static uint8_t *copy_of(const uint8_t *p, size_t len)
{
    static uint8_t bufs[8][MTP_AUTH_BODY_MAX + 64]; /* per test process */
    static size_t next;
    uint8_t *b = bufs[next++ % 8];
    memcpy(b, p, len);
    return b;
}

static const uint8_t *published(const char *msg, size_t *len)
{
    return sample_body("new", "server_messages", msg, len);
}

static const uint8_t *nonce_new(void) { return sample_bytes("new", "client_random", "nonce", NULL); }
static const uint8_t *server_nonce_new(void) { return sample_bytes("new", "server_random", "server_nonce", NULL); }

static const uint8_t *make_res_pq(const uint8_t *pq, size_t pq_len, const char *fp_hex, size_t *len)
{
    struct mtp_auth_res_pq rp = {.pq = {pq, pq_len}, .n_fingerprints = 1};
    memcpy(rp.nonce, nonce_new(), 16);
    memcpy(rp.server_nonce, server_nonce_new(), 16);
    memcpy(rp.fingerprints[0], mtp_test_hex(fp_hex, NULL), 8);
    static uint8_t buf[MTP_AUTH_BODY_MAX];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_auth_tl_write_res_pq(&w, &rp));
    *len = w.len;
    return buf;
}

START_TEST(res_pq_rejections)
{
    struct at_state a;
    size_t len;
    const uint8_t *res_pq = published("resPQ", &len);

    client_at(&a, 0, NULL, 0, 5, 0);
    uint8_t *m = copy_of(res_pq, len);
    m[4] ^= 1;
    assert_rejects(&a, m, len, MTP_ERR_AUTH_NONCE, "resPQ.nonce does not match the nonce sent");

    client_at(&a, 0, NULL, 0, 5, 0);
    m = copy_of(res_pq, len);
    memset(m + len, 0, 4);
    assert_rejects(&a, m, len + 4, MTP_ERR_TRAILING, NULL);

    client_at(&a, 0, NULL, 0, 5, 0);
    assert_rejects(&a, res_pq, len - 1, MTP_ERR_TL_BAD_COUNT, NULL);

    client_at(&a, 0, NULL, 0, 5, 0);
    assert_rejects(&a, res_pq, 3, MTP_ERR_SHORT, NULL);

    size_t dlen;
    const uint8_t *dh_gen_ok = published("dh_gen_ok", &dlen);
    client_at(&a, 0, NULL, 0, 5, 0);
    assert_rejects(&a, dh_gen_ok, dlen, MTP_ERR_AUTH_UNEXPECTED,
                   "client: await resPQ: got dh_gen_ok#3bcbf734, expected resPQ");
    client_at(&a, 0, NULL, 0, 5, 0);
    static const uint8_t junk[] = {0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0};
    assert_rejects(&a, junk, sizeof junk, MTP_ERR_AUTH_UNEXPECTED,
                   "client: await resPQ: got unknown constructor #deadbeef, expected resPQ");

    /* pq: prime, too large, a square, even */
    client_at(&a, 0, NULL, 0, 5, 0);
    const uint8_t *pq = mtp_test_hex("7fffffffffffffe7", NULL); /* 2^63 - 25, prime */
    m = (uint8_t *)make_res_pq(pq, 8, fp_of("new"), &len);
    assert_rejects(&a, m, len, MTP_ERR_PQ_PRIME, NULL);
    ck_assert_str_eq(a.err.msg, "resPQ: pq: 9223372036854775783 is prime");

    client_at(&a, 0, NULL, 0, 5, 0);
    m = (uint8_t *)make_res_pq(mtp_test_hex("01130b7475669feb8b", NULL), 9, fp_of("new"), &len);
    assert_rejects(&a, m, len, MTP_ERR_PQ_TOO_LARGE, NULL);

    /* 65537^2 */
    client_at(&a, 0, NULL, 0, 5, 0);
    m = (uint8_t *)make_res_pq(mtp_test_hex("0100020001", NULL), 5, fp_of("new"), &len);
    assert_rejects(&a, m, len, MTP_ERR_PQ_EQUAL_FACTORS, NULL);

    client_at(&a, 0, NULL, 0, 5, 0);
    m = (uint8_t *)make_res_pq(mtp_test_hex("130b7475669feb8a", NULL), 8, fp_of("new"), &len);
    assert_rejects(&a, m, len, MTP_ERR_PQ_EVEN_FACTOR, NULL);

    /* a fingerprint the client does not know (an old Telegram key it is not configured with) */
    client_at(&a, 0, NULL, 0, 5, 0);
    m = (uint8_t *)make_res_pq(mtp_test_hex(sample_hex("new", "values", "pq"), NULL), 8, "216be86c022bb4c3", &len);
    assert_rejects(&a, m, len, MTP_ERR_AUTH_NO_COMMON_KEY,
                   "resPQ.server_public_key_fingerprints: none of the 1 listed is one of the client's 1 keys");
}
END_TEST

static const uint8_t *make_server_dh_params(bool ok, const uint8_t *nonce, const uint8_t *server_nonce,
                                            const uint8_t *payload, size_t payload_len, size_t *len)
{
    struct mtp_auth_server_dh_params sp = {.ok = ok, .encrypted_answer = {payload, payload_len}};
    memcpy(sp.nonce, nonce, 16);
    memcpy(sp.server_nonce, server_nonce, 16);
    if (!ok)
        memcpy(sp.new_nonce_hash, payload, 16);
    static uint8_t buf[MTP_AUTH_BODY_MAX];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_auth_tl_write_server_dh_params(&w, &sp));
    *len = w.len;
    return buf;
}

START_TEST(server_dh_params_rejections)
{
    struct at_state a;
    size_t len, ok_len;
    const uint8_t *ok = published("server_DH_params_ok", &ok_len);
    len = ok_len;

    client_at(&a, 1, NULL, 0, 5, 0);
    uint8_t *m = copy_of(ok, len);
    m[20] ^= 0x80;
    assert_rejects(&a, m, len, MTP_ERR_AUTH_SERVER_NONCE,
                   "server_DH_params_ok.server_nonce does not match the server_nonce of resPQ");

    client_at(&a, 1, NULL, 0, 5, 0);
    m = copy_of(ok, len);
    m[len - 1] ^= 1; /* the last block of encrypted_answer */
    assert_rejects(&a, m, len, MTP_ERR_INNER_HASH, NULL);

    client_at(&a, 1, NULL, 0, 5, 0);
    m = copy_of(ok, len);
    m[40 + 30] ^= 1; /* early in encrypted_answer: IGE garbles everything after it */
    assert_rejects(&a, m, len, MTP_ERR_INNER_HASH, NULL);

    /* encrypted_answer cut to 576 bytes: decrypts fine, but the 564-byte answer no longer fits */
    client_at(&a, 1, NULL, 0, 5, 0);
    m = (uint8_t *)make_server_dh_params(true, nonce_new(), server_nonce_new(), ok + 40, 576, &len);
    assert_rejects(&a, m, len, MTP_ERR_INNER_HASH, NULL);

    client_at(&a, 1, NULL, 0, 5, 0);
    m = (uint8_t *)make_server_dh_params(true, nonce_new(), server_nonce_new(), ok + 40, 100, &len);
    assert_rejects(&a, m, len, MTP_ERR_INNER_BAD_LENGTH, NULL);

    /* server_DH_params_fail: with the right hash it is a refusal, with a wrong one a forgery */
    uint8_t fail_hash[16];
    mtp_authcrypt_dh_params_fail_hash(sample_bytes("new", "client_random", "new_nonce", NULL), fail_hash);
    client_at(&a, 1, NULL, 0, 5, 0);
    m = (uint8_t *)make_server_dh_params(false, nonce_new(), server_nonce_new(), fail_hash, 16, &len);
    assert_rejects(&a, m, len, MTP_ERR_AUTH_DH_PARAMS_FAIL, NULL);
    fail_hash[15] ^= 1;
    client_at(&a, 1, NULL, 0, 5, 0);
    m = (uint8_t *)make_server_dh_params(false, nonce_new(), server_nonce_new(), fail_hash, 16, &len);
    assert_rejects(&a, m, len, MTP_ERR_AUTH_NEW_NONCE_HASH,
                   "server_DH_params_fail.new_nonce_hash is not the low 128 bits of SHA1(new_nonce)");

    /* server_time an hour off, with a client that allows a minute */
    client_at(&a, 1, NULL, 3600 * 1000, 5, 60);
    assert_rejects(&a, ok, ok_len, MTP_ERR_AUTH_SERVER_TIME,
                   "server_DH_inner_data.server_time: 1735910891 is -3600 s from the local clock, more than 60");

    client_at(&a, 1, NULL, 0, 5, 0);
    size_t rlen;
    const uint8_t *res_pq = published("resPQ", &rlen);
    assert_rejects(&a, res_pq, rlen, MTP_ERR_AUTH_UNEXPECTED,
                   "client: await server_DH_params: got resPQ#05162463, expected server_DH_params_ok or "
                   "server_DH_params_fail");
}
END_TEST

static const uint8_t *make_dh_gen(int number, const char *hash_hex, size_t *len)
{
    struct mtp_auth_dh_gen dg = {.number = number};
    memcpy(dg.nonce, nonce_new(), 16);
    memcpy(dg.server_nonce, server_nonce_new(), 16);
    memcpy(dg.new_nonce_hash, mtp_test_hex(hash_hex, NULL), 16);
    static uint8_t buf[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_auth_tl_write_dh_gen(&w, &dg));
    *len = w.len;
    return buf;
}

START_TEST(dh_gen_answers)
{
    struct at_state a;
    size_t len;
    uint8_t *m;
    const char *nnh1 = sample_hex("new", "values", "new_nonce_hash1");
    const char *nnh2 = sample_hex("new", "values", "new_nonce_hash2");
    const char *nnh3 = sample_hex("new", "values", "new_nonce_hash3");

    /* hash2 in a dh_gen_ok: the distinct bytes are what stop an ok/retry swap */
    client_at(&a, 2, NULL, 0, 5, 0);
    m = (uint8_t *)make_dh_gen(1, nnh2, &len);
    assert_rejects(&a, m, len, MTP_ERR_AUTH_NEW_NONCE_HASH,
                   "dh_gen_ok.new_nonce_hash1 does not match SHA1(new_nonce + 1 + auth_key_aux_hash)");
    client_at(&a, 2, NULL, 0, 5, 0);
    m = (uint8_t *)make_dh_gen(2, nnh1, &len);
    assert_rejects(&a, m, len, MTP_ERR_AUTH_NEW_NONCE_HASH,
                   "dh_gen_retry.new_nonce_hash2 does not match SHA1(new_nonce + 2 + auth_key_aux_hash)");
    client_at(&a, 2, NULL, 0, 5, 0);
    m = (uint8_t *)make_dh_gen(3, nnh3, &len);
    assert_rejects(&a, m, len, MTP_ERR_AUTH_DH_GEN_FAIL, NULL);
    client_at(&a, 2, NULL, 0, 0, 0);
    m = (uint8_t *)make_dh_gen(2, nnh2, &len);
    assert_rejects(&a, m, len, MTP_ERR_AUTH_RETRY_LIMIT, "dh_gen_retry: already retried 0 times, the limit");

    const uint8_t *ok = published("dh_gen_ok", &len);
    client_at(&a, 2, NULL, 0, 5, 0);
    m = copy_of(ok, len);
    m[4] ^= 1;
    assert_rejects(&a, m, len, MTP_ERR_AUTH_NONCE, "dh_gen_ok.nonce does not match the nonce sent");
    client_at(&a, 2, NULL, 0, 5, 0);
    assert_rejects(&a, ok, len - 1, MTP_ERR_SHORT, NULL);
}
END_TEST

START_TEST(dh_gen_retry_sends_a_new_b_with_retry_id)
{
    /* A second b and padding for the retry. */
    char *extra = malloc(2 * (256 + 12) + 1);
    for (int i = 0; i < 256 + 12; i++)
        snprintf(extra + 2 * i, 3, "%02x", (unsigned)(0x80 + i * 7) & 0xff);
    struct at_state a;
    client_at(&a, 2, extra, 0, 5, 0);
    size_t len;
    const uint8_t *retry = make_dh_gen(2, sample_hex("new", "values", "new_nonce_hash2"), &len);
    ck_assert_ok(mtp_auth_client_recv(a.c, retry, len, &a.w, &a.err));
    ck_assert_int_eq(mtp_auth_client_state(a.c), MTP_AUTH_C_AWAIT_DH_GEN);
    ck_assert_uint_eq(a.st.pos, a.st.len);

    /* Open it with the published tmp_aes key: retry_id is auth_key_aux_hash of
     * the published auth_key, and g_b is g^b for the new b. */
    struct mtp_rd r;
    mtp_rd_init(&r, a.out, a.w.len, NULL);
    struct mtp_auth_set_client_dh sd;
    ck_assert_ok(mtp_auth_tl_read_set_client_dh(&r, &sd));
    uint8_t plain[MTP_AUTHCRYPT_INNER_MAX];
    ck_assert_ok(mtp_authcrypt_inner_decrypt(sample_bytes("new", "values", "tmp_aes_key", NULL),
                                             sample_bytes("new", "values", "tmp_aes_iv", NULL), sd.encrypted_data.p,
                                             sd.encrypted_data.len, plain, sizeof plain, NULL));
    mtp_rd_init(&r, plain + 20, sd.encrypted_data.len - 20, NULL);
    struct mtp_auth_client_inner ci;
    ck_assert_ok(mtp_auth_tl_read_client_inner(&r, &ci));
    ck_assert_ok(mtp_authcrypt_inner_check(plain, sd.encrypted_data.len, r.pos, NULL));
    ck_assert_hex_eq(ci.retry_id, 8, sample_hex("new", "values", "auth_key_aux_hash"));
    const uint8_t *b2 = mtp_test_hex(extra, NULL);
    uint8_t g_b[256];
    ck_assert_ok(mtp_dh_public(mtp_dh_telegram_prime, 256, 3, b2, g_b, NULL));
    ck_assert_uint_eq(ci.g_b.len, 256);
    ck_assert_mem_eq(ci.g_b.p, g_b, 256);
    free(extra);
    mtp_auth_client_del(a.c);
}
END_TEST

START_TEST(config_and_state_misuse)
{
    struct mtp_auth_client_config cfg;
    mtp_auth_client_config_init(&cfg);
    ck_assert_int_eq(cfg.inner, MTP_AUTH_INNER_DC);
    ck_assert_int_eq(cfg.rsa, MTP_AUTH_RSA_PAD);
    ck_assert_uint_eq(cfg.max_retries, 5);
    struct mtp_det_state det;
    struct mtp_env env = mtp_env_deterministic(&det, "x", 1, 0);
    struct mtp_auth_client *c = (struct mtp_auth_client *)&cfg;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_client_new(&cfg, &env, &c, &err), MTP_ERR_AUTH_CONFIG);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err.msg, "client config: no RSA public keys");
    const struct mtp_rsa_key *keys[] = {test_key()};
    cfg.keys = keys;
    cfg.n_keys = 1;
    cfg.inner = (enum mtp_auth_inner_form)9;
    ck_assert_rc(mtp_auth_client_new(&cfg, &env, &c, NULL), MTP_ERR_AUTH_CONFIG);
    cfg.inner = MTP_AUTH_INNER_DC;
    ck_assert_ok(mtp_auth_client_new(&cfg, &env, &c, NULL));

    uint8_t small[8];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, small, sizeof small, NULL);
    ck_assert_rc(mtp_auth_client_recv(c, small, 0, &w, NULL), MTP_ERR_AUTH_BAD_STATE);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_client_start(c, &w, &err), MTP_ERR_OVERFLOW);
    ck_assert_int_eq(mtp_auth_client_state(c), MTP_AUTH_C_FAILED);
    ck_assert_rc(mtp_auth_client_start(c, &w, NULL), MTP_ERR_AUTH_BAD_STATE);
    mtp_auth_client_del(c);
    mtp_auth_client_del(NULL);

    ck_assert_str_eq(mtp_auth_client_state_name(MTP_AUTH_C_INIT), "client: not started");
    ck_assert_str_eq(mtp_auth_client_state_name(MTP_AUTH_C_AWAIT_SERVER_DH_PARAMS), "client: await server_DH_params");
    ck_assert_str_eq(mtp_auth_client_state_name(MTP_AUTH_C_AWAIT_DH_GEN), "client: await dh_gen_ok/retry/fail");
    ck_assert_str_eq(mtp_auth_client_state_name((enum mtp_auth_client_state)42), "client: unknown state");

    /* an oversized message is refused before parsing */
    ck_assert_ok(mtp_auth_client_new(&cfg, &env, &c, NULL));
    uint8_t buf[MTP_AUTH_BODY_MAX];
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_auth_client_start(c, &w, NULL));
    static uint8_t big[MTP_AUTH_BODY_MAX + 1];
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_client_recv(c, big, sizeof big, &w, &err), MTP_ERR_LIMIT);
    ck_assert_str_eq(err.msg, "client: await resPQ: a 2049-byte message, at most 2048 accepted");
    mtp_auth_client_del(c);
}
END_TEST

static Suite *auth_client_suite(void)
{
    Suite *s = suite_create("auth_client");
    TCase *t = tcase_create("replay");
    tcase_add_checked_fixture(t, auth_test_setup, auth_test_teardown);
    tcase_add_test(t, replay_new_example_with_telegram_key);
    tcase_add_test(t, replay_new_example_decrypted_with_test_key);
    tcase_add_test(t, replay_redraws_b_whose_g_b_is_unsafe);
    tcase_add_test(t, replay_old_example_with_telegram_key);
    tcase_add_test(t, replay_old_example_decrypted_with_test_key);
    tcase_add_test(t, old_example_g_fails_the_residue_check);
    suite_add_tcase(s, t);
    t = tcase_create("rejections");
    tcase_add_checked_fixture(t, auth_test_setup, auth_test_teardown);
    tcase_add_test(t, res_pq_rejections);
    tcase_add_test(t, server_dh_params_rejections);
    tcase_add_test(t, dh_gen_answers);
    tcase_add_test(t, dh_gen_retry_sends_a_new_b_with_retry_id);
    tcase_add_test(t, config_and_state_misuse);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(auth_client_suite)
