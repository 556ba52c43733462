/* The server machine: a replay of the published server messages, and the
 * client and server machines run against each other in memory for every
 * path - the normal ones, every scenario behaviour that must make the client
 * fail, and every client misbehaviour the server must reject. */
#include <string.h>

#include "mtp/auth_client.h"
#include "mtp/auth_server.h"
#include "mtp/authcrypt.h"
#include "mtp/dh.h"
#include "mtp/msgcrypt.h"
#include "mtp/pq.h"
#include "mtp_auth_testutil.h"
#include "mtp_test.h"

#define CLOCK_MS INT64_C(1700000000123)

/* A 2048-bit prime whose (p-1)/2 is divisible by 3: not a safe prime.
 * Generated with `openssl prime -generate -bits 2048 -hex` (OpenSSL 3.0.19). */
#define UNSAFE_PRIME                                                                                                   \
    "EB74C09D82405C41DA4151B15B7F265B964D7B23B5824152B3C39DA98D5106B2953EAC62EF5984F80A69133A8885D19370BFA15DE6C5AA5C" \
    "3D001473A00A4D113C7AEEF929223E488ED09CCCF7C56D09A4ED790D0910279F88DDB45CA2BB83A62C81248BA6C3120B495C7EF665A63773" \
    "C7E6BA02663A9187328254A8B6E34F75DBCBAB4F30386D46EEFE8083109957F2F8C2A217A23172EC014CAC060B201E232F86BA4251E9EF24" \
    "B6F6782567A403DB0FC30C8BD892CF1EE2F013CC7F1CDAA5D7B557ED928D9A74FE0E86F680880D0C74AC2E30D425F873ECAADE9E713CB8A0" \
    "351E6E5D8A933DF074C11D0E698F723DBFEE86A4F5758F7C429F0A97A6CAF0EF"

/* --- the in-memory pair --- */

struct pair {
    struct mtp_auth_client_config cc;
    struct mtp_auth_server_config sc;
    struct mtp_auth_client_behaviour cb;
    struct mtp_auth_server_behaviour sb;
    const struct mtp_rsa_key *ckeys[2], *skeys[2];
    /* outcome */
    int client_rc, server_rc;
    struct mtp_error cerr, serr;
    enum mtp_auth_client_state cstate;
    enum mtp_auth_server_state sstate;
    struct mtp_auth_result cres, sres;
    unsigned client_msgs;
    unsigned rounds;                        /* messages each way at most (default 20) */
    struct mtp_auth_server_attempt attempt; /* the server's view of the last set_client_DH_params */
    uint8_t g_a[1040];                      /* g_a as the server sent it */
    size_t g_a_len;
    unsigned nonce_rounds;                  /* server messages after which both ends had the same new_nonce */
    bool nonces_after;                      /* either end still gave nonces at the end */
};

static void pair_init(struct pair *p)
{
    memset(p, 0, sizeof *p);
    p->ckeys[0] = p->skeys[0] = test_key();
    mtp_auth_client_config_init(&p->cc);
    p->cc.keys = p->ckeys;
    p->cc.n_keys = 1;
    p->cc.dc = 2;
    p->cc.behaviour = &p->cb;
    mtp_auth_server_config_init(&p->sc);
    p->sc.keys = p->skeys;
    p->sc.n_keys = 1;
    p->sc.behaviour = &p->sb;
}

/* Passes a body through the unencrypted envelope, as a transport would. */
static const uint8_t *through_envelope(struct mtp_msgid_gen *ids, const struct mtp_env *env, bool server,
                                       const uint8_t *body, size_t len, uint8_t *buf, size_t cap, size_t *out_len)
{
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, cap, NULL);
    uint64_t last = ids->last;
    ck_assert_ok(mtp_auth_plain_wrap_next(&w, ids, env, server, body, len));
    struct mtp_auth_plain plain;
    ck_assert_ok(mtp_auth_plain_unwrap(buf, w.len, &plain, NULL));
    ck_assert_ok(mtp_auth_msg_id_check(plain.msg_id, server, NULL));
    ck_assert_uint_gt((uint64_t)plain.msg_id, last);
    *out_len = plain.body_len;
    return plain.body;
}

static void pair_run(struct pair *p)
{
    struct mtp_det_state cdet, sdet;
    struct mtp_env cenv = mtp_env_deterministic(&cdet, "client", 6, CLOCK_MS);
    struct mtp_env senv = mtp_env_deterministic(&sdet, "server", 6, CLOCK_MS);
    struct mtp_auth_client *c;
    struct mtp_auth_server *s;
    mtp_error_clear(&p->cerr);
    mtp_error_clear(&p->serr);
    ck_assert_msg(mtp_auth_client_new(&p->cc, &cenv, &c, &p->cerr) == MTP_OK, "%s", p->cerr.msg);
    ck_assert_msg(mtp_auth_server_new(&p->sc, &senv, &s, &p->serr) == MTP_OK, "%s", p->serr.msg);
    struct mtp_msgid_gen cids, sids;
    mtp_msgid_gen_init(&cids);
    mtp_msgid_gen_init(&sids);
    uint8_t cbuf[MTP_AUTH_BODY_MAX], sbuf[MTP_AUTH_BODY_MAX], env_buf[MTP_AUTH_BODY_MAX + 20];
    struct mtp_wr cw, sw;
    mtp_wr_init_fixed(&cw, cbuf, sizeof cbuf, NULL);
    mtp_wr_init_fixed(&sw, sbuf, sizeof sbuf, NULL);
    p->client_rc = mtp_auth_client_start(c, &cw, &p->cerr);
    p->server_rc = MTP_OK;
    unsigned rounds = p->rounds ? p->rounds : 20;
    for (unsigned round = 0; round < rounds && p->client_rc == MTP_OK && cw.len > 0; round++) {
        p->client_msgs++;
        size_t len;
        const uint8_t *body = through_envelope(&cids, &cenv, false, cbuf, cw.len, env_buf, sizeof env_buf, &len);
        mtp_wr_reset(&sw);
        p->server_rc = mtp_auth_server_recv(s, body, len, &sw, &p->serr);
        if (p->server_rc != MTP_OK) {
            ck_assert_uint_eq(sw.len, 0);
            break;
        }
        ck_assert_uint_gt(sw.len, 0);
        /* what the two ends would write as a key log's NEW_NONCE line */
        uint8_t sn[16], ssn[16], snn[32], cn[16], csn[16], cnn[32];
        if (mtp_auth_server_nonces(s, sn, ssn, snn)) {
            ck_assert(mtp_auth_client_nonces(c, cn, csn, cnn));
            ck_assert_mem_eq(sn, cn, 16);
            ck_assert_mem_eq(ssn, csn, 16);
            ck_assert_mem_eq(snn, cnn, 32);
            p->nonce_rounds++;
        }
        body = through_envelope(&sids, &senv, true, sbuf, sw.len, env_buf, sizeof env_buf, &len);
        mtp_wr_reset(&cw);
        p->client_rc = mtp_auth_client_recv(c, body, len, &cw, &p->cerr);
    }
    uint8_t n1[16], n2[16], n3[32];
    p->nonces_after = mtp_auth_server_nonces(s, n1, n2, n3) || mtp_auth_client_nonces(c, n1, n2, n3);
    p->cstate = mtp_auth_client_state(c);
    p->sstate = mtp_auth_server_state(s);
    p->attempt = *mtp_auth_server_attempt(s);
    const uint8_t *g_a = mtp_auth_server_sent_g_a(s, &p->g_a_len);
    memcpy(p->g_a, g_a, p->g_a_len);
    if (p->cstate == MTP_AUTH_C_DONE)
        ck_assert_ok(mtp_auth_client_result(c, &p->cres, NULL));
    if (p->sstate == MTP_AUTH_S_DONE)
        ck_assert_ok(mtp_auth_server_result(s, &p->sres, NULL));
    if (p->cstate == MTP_AUTH_C_FAILED)
        ck_assert_int_eq(mtp_auth_client_error(c)->code, p->client_rc);
    if (p->sstate == MTP_AUTH_S_FAILED)
        ck_assert_int_eq(mtp_auth_server_error(s)->code, p->server_rc);
    mtp_auth_client_del(c);
    mtp_auth_server_del(s);
}

static void assert_agreed(const struct pair *p)
{
    ck_assert_msg(p->client_rc == MTP_OK && p->server_rc == MTP_OK, "client %s (%s), server %s (%s)",
                  mtp_err_name(p->client_rc), p->cerr.msg, mtp_err_name(p->server_rc), p->serr.msg);
    ck_assert_int_eq(p->cstate, MTP_AUTH_C_DONE);
    ck_assert_int_eq(p->sstate, MTP_AUTH_S_DONE);
    ck_assert_mem_eq(p->cres.auth_key, p->sres.auth_key, MTP_AUTH_KEY_BYTES);
    uint8_t id[8];
    mtp_auth_key_id(p->cres.auth_key, id);
    ck_assert_mem_eq(p->cres.auth_key_id, id, 8);
    ck_assert_mem_eq(p->sres.auth_key_id, id, 8);
    ck_assert_mem_eq(p->cres.server_salt, p->sres.server_salt, 8);
    ck_assert_mem_eq(p->cres.fingerprint, p->sres.fingerprint, 8);
    ck_assert_int_eq(p->cres.server_time, (int32_t)(CLOCK_MS / 1000));
    ck_assert_int_eq(p->sres.server_time, (int32_t)(CLOCK_MS / 1000));
    ck_assert_int_eq(p->cres.time_offset_ms, -123);
    ck_assert_int_eq(p->cres.req_pq_multi, p->sres.req_pq_multi);
    ck_assert_int_eq(p->cres.inner_form, p->sres.inner_form);
    ck_assert_int_eq(p->cres.rsa_scheme, p->sres.rsa_scheme);
    ck_assert_int_eq(p->cres.dc, p->sres.dc);
    ck_assert_int_eq(p->cres.temp, p->sres.temp);
    ck_assert_int_eq(p->cres.expires_in, p->sres.expires_in);
    ck_assert_uint_eq(p->cres.retries, p->sres.retries);
}

/* --- normal paths --- */

START_TEST(pair_rsa_pad_dc)
{
    struct pair p;
    pair_init(&p);
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_uint_eq(p.client_msgs, 3);
    ck_assert_uint_eq(p.nonce_rounds, 1);
    ck_assert(!p.nonces_after);
    ck_assert(p.cres.req_pq_multi);
    ck_assert_int_eq(p.cres.inner_form, MTP_AUTH_INNER_DC);
    ck_assert_int_eq(p.cres.rsa_scheme, MTP_AUTH_RSA_PAD);
    ck_assert_int_eq(p.sres.dc, 2);
    ck_assert(!p.sres.temp);
    ck_assert_int_eq(p.sres.expires_in, 0);
    ck_assert_uint_eq(p.sres.retries, 0);
    uint8_t fp[8];
    ck_assert_ok(mtp_rsa_key_fingerprint(test_key(), fp, NULL));
    ck_assert_mem_eq(p.sres.fingerprint, fp, 8);
}
END_TEST

START_TEST(pair_temp_key)
{
    struct pair p;
    pair_init(&p);
    p.cc.inner = MTP_AUTH_INNER_TEMP_DC;
    p.cc.expires_in = 86400;
    p.sc.dc = 2;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_int_eq(p.sres.inner_form, MTP_AUTH_INNER_TEMP_DC);
    ck_assert(p.sres.temp);
    ck_assert_int_eq(p.sres.expires_in, 86400);
    ck_assert_int_eq(p.sres.dc, 2);

    pair_init(&p);
    p.cc.inner = MTP_AUTH_INNER_TEMP;
    p.cc.expires_in = 600;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_int_eq(p.sres.inner_form, MTP_AUTH_INNER_TEMP);
    ck_assert_int_eq(p.sres.expires_in, 600);
    ck_assert_int_eq(p.sres.dc, 0);
}
END_TEST

START_TEST(pair_old_forms)
{
    struct pair p;
    pair_init(&p);
    p.cc.req_pq_old = true;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert(!p.sres.req_pq_multi);

    pair_init(&p);
    p.cc.req_pq_old = true;
    p.cc.inner = MTP_AUTH_INNER_PLAIN;
    p.cc.rsa = MTP_AUTH_RSA_OLD;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_int_eq(p.sres.inner_form, MTP_AUTH_INNER_PLAIN);
    ck_assert_int_eq(p.sres.rsa_scheme, MTP_AUTH_RSA_OLD);
    ck_assert_str_eq(mtp_auth_rsa_scheme_name(p.sres.rsa_scheme), "old RSA (SHA1 + data + padding)");
}
END_TEST

START_TEST(pair_retry_then_ok)
{
    struct pair p;
    pair_init(&p);
    p.sb.dh_gen_retries = 2;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_uint_eq(p.client_msgs, 5);
    ck_assert_uint_eq(p.cres.retries, 2);
    /* req_DH_params and the two retried set_client_DH_params */
    ck_assert_uint_eq(p.nonce_rounds, 3);
}
END_TEST

static unsigned collisions_left;
static bool key_exists_once(void *ctx, const uint8_t id[8])
{
    (void)id;
    ck_assert_ptr_eq(ctx, &collisions_left);
    if (collisions_left == 0)
        return false;
    collisions_left--;
    return true;
}

START_TEST(pair_attempts_are_reported)
{
    struct pair p;
    pair_init(&p);
    p.sb.dh_gen_retries = 2;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_uint_eq(p.attempt.n, 3);
    ck_assert(p.attempt.retry_id_ok);
    ck_assert_int_eq(p.attempt.answer, 1);
    ck_assert(p.attempt.have_key);
    ck_assert_uint_eq(p.attempt.key_first_byte, p.sres.auth_key[0]);
    /* the retry_id of the third attempt is the aux hash of the second key: not 0 */
    static const uint8_t zero[8];
    ck_assert(memcmp(p.attempt.retry_id, zero, 8) != 0);
    ck_assert_mem_eq(p.attempt.retry_id, p.attempt.expected, 8);
    /* A wrong retry_id is refused: the exchange fails (a mock DC answers -404). */
    pair_init(&p);
    p.cb.corrupt = MTP_AUTH_CORRUPT(MTP_AUTH_X_CLIENT_INNER_RETRY_ID);
    pair_run(&p);
    ck_assert_int_eq(p.server_rc, MTP_ERR_AUTH_RETRY_ID);
    ck_assert_uint_eq(p.attempt.n, 1);
    ck_assert(!p.attempt.retry_id_ok);
    ck_assert_int_eq(p.attempt.answer, 0);
    ck_assert(!p.attempt.have_key);
    ck_assert_mem_eq(p.attempt.expected, zero, 8);
    ck_assert(memcmp(p.attempt.retry_id, zero, 8) != 0);
}
END_TEST

START_TEST(pair_g_a_with_a_leading_zero_byte)
{
    struct pair p;
    pair_init(&p);
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_uint_eq(p.g_a_len, 256);
    ck_assert_uint_ne(p.g_a[0], 0); /* the seed's usual g_a */
    /* 256 bytes, the first 0: a client must take it as the same number */
    pair_init(&p);
    p.sb.g_a_leading_zero = true;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_uint_eq(p.g_a_len, 256);
    ck_assert_uint_eq(p.g_a[0], 0);
    ck_assert_uint_ne(p.g_a[1], 0);
    /* the minimal encoding: 255 bytes */
    pair_init(&p);
    p.sb.g_a_leading_zero = true;
    p.sb.g_a_minimal = true;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_uint_eq(p.g_a_len, 255);
    ck_assert_uint_ne(p.g_a[0], 0);
}
END_TEST

START_TEST(pair_retry_until_the_key_has_a_leading_zero_byte)
{
    struct pair p;
    pair_init(&p);
    unsigned budget = 3000;
    p.sb.zero_key_retries = &budget;
    p.cc.max_retries = 3000;
    p.rounds = 3010;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_uint_eq(p.sres.auth_key[0], 0);
    ck_assert_uint_ge(p.sres.retries, 1);
    ck_assert_uint_eq(budget, 3000 - p.sres.retries);
    ck_assert_uint_eq(p.attempt.n, p.sres.retries + 1);
    ck_assert_uint_eq(p.attempt.key_first_byte, 0);
    /* The budget runs out: dh_gen_ok with whatever key comes then. */
    unsigned first_retries = p.sres.retries;
    pair_init(&p);
    budget = first_retries - 1;
    p.sb.zero_key_retries = &budget;
    p.cc.max_retries = 3000;
    p.rounds = 3010;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_uint_eq(budget, 0);
    ck_assert_uint_eq(p.sres.retries, first_retries - 1);
    ck_assert_uint_ne(p.sres.auth_key[0], 0);
}
END_TEST

START_TEST(pair_retry_on_key_collision)
{
    struct pair p;
    pair_init(&p);
    collisions_left = 1;
    p.sc.key_exists = key_exists_once;
    p.sc.key_exists_ctx = &collisions_left;
    pair_run(&p);
    assert_agreed(&p);
    ck_assert_uint_eq(p.sres.retries, 1);
    ck_assert_uint_eq(collisions_left, 0);
}
END_TEST

START_TEST(pair_server_refusals)
{
    struct pair p;
    pair_init(&p);
    p.sb.dh_gen_fail = true;
    pair_run(&p);
    ck_assert_rc(p.client_rc, MTP_ERR_AUTH_DH_GEN_FAIL);
    ck_assert_int_eq(p.sstate, MTP_AUTH_S_ABORTED);
    ck_assert_str_eq(mtp_auth_server_state_name(p.sstate), "server: answered with a failure");

    pair_init(&p);
    p.sb.dh_params_fail = true;
    pair_run(&p);
    ck_assert_rc(p.client_rc, MTP_ERR_AUTH_DH_PARAMS_FAIL);
    ck_assert_str_eq(p.cerr.msg,
                     "server_DH_params_fail: the server refused req_DH_params (its new_nonce_hash checks out)");
    ck_assert_int_eq(p.sstate, MTP_AUTH_S_ABORTED);

    pair_init(&p);
    p.sb.dh_gen_retries = 10;
    pair_run(&p);
    ck_assert_rc(p.client_rc, MTP_ERR_AUTH_RETRY_LIMIT);
    ck_assert_str_eq(p.cerr.msg, "dh_gen_retry: already retried 5 times, the limit");
    ck_assert_uint_eq(p.client_msgs, 8); /* req_pq, req_DH_params, 1 + 5 set_client_DH_params */
    ck_assert_int_eq(p.sstate, MTP_AUTH_S_AWAIT_SET_CLIENT_DH_PARAMS);
}
END_TEST

/* --- the scenario behaviours: each must make the client fail for the named reason --- */

struct client_rejection {
    const char *name;
    enum mtp_auth_corrupt point; /* MTP_AUTH_X_COUNT: none */
    const char *pq, *fingerprints, *dh_prime, *g_a, *answer;
    bool prime_plus_4;   /* dh_prime = Telegram's prime + 4 (divisible by 3) */
    size_t g_a_ff_bytes; /* g_a = that many 0xff bytes */
    bool g_a_p_minus_1;  /* g_a = Telegram's prime - 1 */
    int32_t g;           /* 0: unchanged */
    bool server_time_set;
    int32_t server_time;
    int hash_number;
    bool dh_params_fail, dh_gen_fail;
    unsigned dh_gen_retries;
    int64_t max_skew_s;
    int want;
    const char *want_msg;
};

#define NONE MTP_AUTH_X_COUNT
static const struct client_rejection client_rejections[] = {
    {"resPQ.nonce", MTP_AUTH_X_RES_PQ_NONCE, .want = MTP_ERR_AUTH_NONCE,
     .want_msg = "resPQ.nonce does not match the nonce sent"},
    {"server_DH_params.nonce", MTP_AUTH_X_DH_PARAMS_NONCE, .want = MTP_ERR_AUTH_NONCE,
     .want_msg = "server_DH_params_ok.nonce does not match the nonce sent"},
    {"server_DH_params.server_nonce", MTP_AUTH_X_DH_PARAMS_SERVER_NONCE, .want = MTP_ERR_AUTH_SERVER_NONCE,
     .want_msg = "server_DH_params_ok.server_nonce does not match the server_nonce of resPQ"},
    {"encrypted_answer", MTP_AUTH_X_ENCRYPTED_ANSWER, .want = MTP_ERR_INNER_HASH},
    {"answer hash", MTP_AUTH_X_ANSWER_HASH, .want = MTP_ERR_INNER_HASH,
     .want_msg = "server_DH_params_ok.encrypted_answer: inner data: SHA1 of the 564-byte object differs from the "
                 "hash in front of it"},
    {"answer padding", MTP_AUTH_X_ANSWER_PADDING, .want = MTP_ERR_INNER_BAD_PADDING,
     .want_msg = "server_DH_params_ok.encrypted_answer: inner data: 24 padding bytes after the object, at most 15 "
                 "allowed"},
    {"server_DH_inner_data.nonce", MTP_AUTH_X_SERVER_INNER_NONCE, .want = MTP_ERR_AUTH_NONCE,
     .want_msg = "server_DH_inner_data.nonce does not match the nonce sent"},
    {"server_DH_inner_data.server_nonce", MTP_AUTH_X_SERVER_INNER_SERVER_NONCE, .want = MTP_ERR_AUTH_SERVER_NONCE},
    {"dh_gen.nonce", MTP_AUTH_X_DH_GEN_NONCE, .want = MTP_ERR_AUTH_NONCE,
     .want_msg = "dh_gen_ok.nonce does not match the nonce sent"},
    {"dh_gen.server_nonce", MTP_AUTH_X_DH_GEN_SERVER_NONCE, .want = MTP_ERR_AUTH_SERVER_NONCE},
    {"new_nonce_hash1", MTP_AUTH_X_DH_GEN_HASH, .want = MTP_ERR_AUTH_NEW_NONCE_HASH,
     .want_msg = "dh_gen_ok.new_nonce_hash1 does not match SHA1(new_nonce + 1 + auth_key_aux_hash)"},
    {"new_nonce_hash2", MTP_AUTH_X_DH_GEN_HASH, .dh_gen_retries = 1, .want = MTP_ERR_AUTH_NEW_NONCE_HASH,
     .want_msg = "dh_gen_retry.new_nonce_hash2 does not match SHA1(new_nonce + 2 + auth_key_aux_hash)"},
    {"new_nonce_hash3", MTP_AUTH_X_DH_GEN_HASH, .dh_gen_fail = true, .want = MTP_ERR_AUTH_NEW_NONCE_HASH,
     .want_msg = "dh_gen_fail.new_nonce_hash3 does not match SHA1(new_nonce + 3 + auth_key_aux_hash)"},
    {"server_DH_params_fail.new_nonce_hash", MTP_AUTH_X_DH_PARAMS_FAIL_HASH, .dh_params_fail = true,
     .want = MTP_ERR_AUTH_NEW_NONCE_HASH,
     .want_msg = "server_DH_params_fail.new_nonce_hash is not the low 128 bits of SHA1(new_nonce)"},
    {"server_DH_params_fail.nonce", MTP_AUTH_X_DH_PARAMS_NONCE, .dh_params_fail = true, .want = MTP_ERR_AUTH_NONCE,
     .want_msg = "server_DH_params_fail.nonce does not match the nonce sent"},
    {"hash2 in dh_gen_ok", NONE, .hash_number = 2, .want = MTP_ERR_AUTH_NEW_NONCE_HASH},
    {"pq prime", NONE, .pq = "7fffffffffffffe7", .want = MTP_ERR_PQ_PRIME},
    {"pq over 64 bits", NONE, .pq = "01000000000000000001", .want = MTP_ERR_PQ_TOO_LARGE},
    {"pq a square", NONE, .pq = "0100020001", .want = MTP_ERR_PQ_EQUAL_FACTORS},
    {"pq three primes", NONE, .pq = "69", .want = MTP_ERR_PQ_NOT_TWO_PRIMES}, /* 105 = 3 * 5 * 7 */
    {"unknown fingerprint", NONE, .fingerprints = "0123456789abcdef", .want = MTP_ERR_AUTH_NO_COMMON_KEY},
    {"no fingerprint", NONE, .fingerprints = "", .want = MTP_ERR_AUTH_NO_COMMON_KEY,
     .want_msg = "resPQ.server_public_key_fingerprints: none of the 0 listed is one of the client's 1 keys"},
    {"dh_prime not safe", NONE, .dh_prime = UNSAFE_PRIME, .want = MTP_ERR_DH_PRIME_NOT_SAFE},
    {"dh_prime composite", NONE, .prime_plus_4 = true, .want = MTP_ERR_DH_PRIME_NOT_PRIME},
    {"dh_prime 2047 bits", NONE, .dh_prime = "7fff", .want = MTP_ERR_DH_PRIME_BAD_SIZE},
    /* Telegram's prime is 3 mod 8, 3 mod 5 and 11 mod 24: 2, 5 and 6 are non-residues (7 and 4 would do) */
    {"g = 5", NONE, .g = 5, .want = MTP_ERR_DH_G_BAD_RESIDUE,
     .want_msg = "server_DH_inner_data: g: 5 does not generate the subgroup of order (p-1)/2 (dh_prime mod 5 = 3)"},
    {"g = 6", NONE, .g = 6, .want = MTP_ERR_DH_G_BAD_RESIDUE},
    {"g = -1", NONE, .g = -1, .want = MTP_ERR_DH_G_OUT_OF_RANGE},
    {"g = 2", NONE, .g = 2, .want = MTP_ERR_DH_G_BAD_RESIDUE},
    {"g = 1", NONE, .g = 1, .want = MTP_ERR_DH_G_OUT_OF_RANGE},
    {"g = 8", NONE, .g = 8, .want = MTP_ERR_DH_G_OUT_OF_RANGE},
    {"g_a = 1", NONE, .g_a = "01", .want = MTP_ERR_DH_GA_OUT_OF_RANGE},
    {"g_a = 2", NONE, .g_a = "02", .want = MTP_ERR_DH_GA_UNSAFE},
    {"g_a = 2^1984 - 1", NONE, .g_a_ff_bytes = 248, .want = MTP_ERR_DH_GA_UNSAFE},
    {"g_a = dh_prime - 1", NONE, .g_a_p_minus_1 = true, .want = MTP_ERR_DH_GA_OUT_OF_RANGE},
    {"server_time a day off", NONE, .server_time_set = true, .server_time = (int32_t)(CLOCK_MS / 1000) + 86400,
     .max_skew_s = 300, .want = MTP_ERR_AUTH_SERVER_TIME},
    {"answer truncated", NONE, .answer = "ba0d89b5", .want = MTP_ERR_SHORT},
    {"answer of another type", NONE, .answer = "34f7cb3b", .want = MTP_ERR_TL_BAD_CTOR},
};

START_TEST(scenario_makes_client_fail)
{
    const struct client_rejection *t = &client_rejections[_i];
    struct pair p;
    pair_init(&p);
    if (t->point != NONE) {
        ck_assert(mtp_auth_corrupt_is_server(t->point));
        p.sb.corrupt = MTP_AUTH_CORRUPT(t->point);
    }
    size_t n;
    if (t->pq) {
        p.sb.pq = mtp_test_hex(t->pq, &n);
        p.sb.pq_len = n;
    }
    if (t->fingerprints) {
        p.sb.fingerprints = mtp_test_hex(t->fingerprints, &n);
        p.sb.n_fingerprints = n / 8;
    }
    if (t->dh_prime) {
        p.sb.dh_prime = mtp_test_hex(t->dh_prime, &n);
        p.sb.dh_prime_len = n;
    }
    if (t->g_a) {
        p.sb.g_a = mtp_test_hex(t->g_a, &n);
        p.sb.g_a_len = n;
    }
    uint8_t prime[256], g_a[256];
    if (t->prime_plus_4 || t->g_a_p_minus_1) {
        memcpy(prime, mtp_dh_telegram_prime, sizeof prime);
        memcpy(g_a, mtp_dh_telegram_prime, sizeof g_a);
        prime[255] += 4; /* ...5b: no carry */
        g_a[255] -= 1;
        if (t->prime_plus_4) {
            p.sb.dh_prime = prime;
            p.sb.dh_prime_len = sizeof prime;
        }
        if (t->g_a_p_minus_1) {
            p.sb.g_a = g_a;
            p.sb.g_a_len = sizeof g_a;
        }
    }
    if (t->g_a_ff_bytes) {
        memset(g_a, 0xff, sizeof g_a);
        p.sb.g_a = g_a;
        p.sb.g_a_len = t->g_a_ff_bytes;
    }
    if (t->answer) {
        p.sb.answer = mtp_test_hex(t->answer, &n);
        p.sb.answer_len = n;
    }
    if (t->g) {
        p.sb.g_set = true;
        p.sb.g = t->g;
    }
    p.sb.server_time_set = t->server_time_set;
    p.sb.server_time = t->server_time;
    p.sb.dh_gen_hash_number = t->hash_number;
    p.sb.dh_params_fail = t->dh_params_fail;
    p.sb.dh_gen_fail = t->dh_gen_fail;
    p.sb.dh_gen_retries = t->dh_gen_retries;
    p.cc.max_clock_skew_s = t->max_skew_s;
    pair_run(&p);
    ck_assert_msg(p.server_rc == MTP_OK, "%s: the server failed: %s", t->name, p.serr.msg);
    ck_assert_msg(p.client_rc == t->want, "%s: client got %s (%s), want %s", t->name, mtp_err_name(p.client_rc),
                  p.cerr.msg, mtp_err_name(t->want));
    ck_assert_int_eq(p.cstate, MTP_AUTH_C_FAILED);
    if (t->want_msg)
        ck_assert_str_eq(p.cerr.msg, t->want_msg);
}
END_TEST

/* --- client misbehaviour: each must make the server fail for the named reason --- */

struct server_rejection {
    const char *name;
    enum mtp_auth_corrupt point;
    const char *g_b, *pq_inner, *client_inner;
    int32_t client_dc, server_dc;
    enum mtp_auth_inner_form inner;
    int32_t expires_in;
    bool req_pq_old, rsa_old, refuse_old;
    int want;
    const char *want_msg;
};

static const struct server_rejection server_rejections[] = {
    {"req_DH_params.nonce", MTP_AUTH_X_REQ_DH_NONCE, .want = MTP_ERR_AUTH_NONCE,
     .want_msg = "req_DH_params.nonce does not match the nonce of req_pq_multi"},
    {"req_DH_params.server_nonce", MTP_AUTH_X_REQ_DH_SERVER_NONCE, .want = MTP_ERR_AUTH_SERVER_NONCE,
     .want_msg = "req_DH_params.server_nonce does not match the server_nonce sent in resPQ"},
    {"req_DH_params.p", MTP_AUTH_X_REQ_DH_P, .want = MTP_ERR_AUTH_PQ_MISMATCH,
     .want_msg = "req_DH_params.p is not the smaller prime factor of pq"},
    {"req_DH_params.q", MTP_AUTH_X_REQ_DH_Q, .want = MTP_ERR_AUTH_PQ_MISMATCH,
     .want_msg = "req_DH_params.q is not the larger prime factor of pq"},
    {"req_DH_params.public_key_fingerprint", MTP_AUTH_X_REQ_DH_FINGERPRINT, .want = MTP_ERR_AUTH_FINGERPRINT,
     .want_msg = "req_DH_params.public_key_fingerprint is not a key this server offered in resPQ"},
    {"req_DH_params.encrypted_data", MTP_AUTH_X_REQ_DH_ENCRYPTED_DATA, .want = MTP_ERR_RSA_PAD_HASH},
    {"p_q_inner_data.nonce", MTP_AUTH_X_PQ_INNER_NONCE, .want = MTP_ERR_AUTH_NONCE,
     .want_msg = "p_q_inner_data_dc.nonce does not match the nonce of req_pq_multi"},
    {"p_q_inner_data.server_nonce", MTP_AUTH_X_PQ_INNER_SERVER_NONCE, .want = MTP_ERR_AUTH_SERVER_NONCE},
    {"p_q_inner_data.pq", MTP_AUTH_X_PQ_INNER_PQ, .want = MTP_ERR_AUTH_PQ_MISMATCH,
     .want_msg = "p_q_inner_data_dc.pq differs from the pq sent in resPQ"},
    {"set_client_DH_params.nonce", MTP_AUTH_X_SET_DH_NONCE, .want = MTP_ERR_AUTH_NONCE},
    {"set_client_DH_params.server_nonce", MTP_AUTH_X_SET_DH_SERVER_NONCE, .want = MTP_ERR_AUTH_SERVER_NONCE},
    {"set_client_DH_params.encrypted_data", MTP_AUTH_X_SET_DH_ENCRYPTED_DATA, .want = MTP_ERR_INNER_HASH},
    {"data_with_hash.hash", MTP_AUTH_X_CLIENT_INNER_HASH, .want = MTP_ERR_INNER_HASH,
     .want_msg = "set_client_DH_params.encrypted_data: inner data: SHA1 of the 304-byte object differs from the "
                 "hash in front of it"},
    {"client_DH_inner_data.nonce", MTP_AUTH_X_CLIENT_INNER_NONCE, .want = MTP_ERR_AUTH_NONCE,
     .want_msg = "client_DH_inner_data.nonce does not match the nonce of req_pq_multi"},
    {"client_DH_inner_data.server_nonce", MTP_AUTH_X_CLIENT_INNER_SERVER_NONCE, .want = MTP_ERR_AUTH_SERVER_NONCE},
    {"client_DH_inner_data.retry_id", MTP_AUTH_X_CLIENT_INNER_RETRY_ID, .want = MTP_ERR_AUTH_RETRY_ID,
     .want_msg = "client_DH_inner_data.retry_id is not 0 on the first attempt"},
    {"g_b = 1", NONE, .g_b = "01", .want = MTP_ERR_DH_GB_OUT_OF_RANGE},
    {"g_b = 2", NONE, .g_b = "02", .want = MTP_ERR_DH_GB_UNSAFE},
    {"g_b = dh_prime", NONE, .g_b = "", .want = MTP_ERR_DH_GB_OUT_OF_RANGE}, /* filled with the prime below */
    {"wrong dc", NONE, .client_dc = 3, .server_dc = 2, .want = MTP_ERR_AUTH_DC,
     .want_msg = "p_q_inner_data_dc.dc is 3, this server is dc 2"},
    {"temp key without expiry", NONE, .inner = MTP_AUTH_INNER_TEMP_DC, .expires_in = 0, .want = MTP_ERR_AUTH_EXPIRES_IN,
     .want_msg = "p_q_inner_data_temp_dc.expires_in is 0, not positive"},
    {"req_pq refused", NONE, .req_pq_old = true, .refuse_old = true, .want = MTP_ERR_AUTH_OLD_REFUSED},
    {"p_q_inner_data refused", NONE, .inner = MTP_AUTH_INNER_PLAIN, .refuse_old = true,
     .want = MTP_ERR_AUTH_OLD_REFUSED, .want_msg = "p_q_inner_data: the form without dc is refused"},
    {"old RSA refused", NONE, .rsa_old = true, .refuse_old = true, .want = MTP_ERR_AUTH_OLD_REFUSED},
    {"p_q_inner_data garbage", NONE, .pq_inner = "00000000", .want = MTP_ERR_TL_BAD_CTOR},
    {"client_DH_inner_data garbage", NONE, .client_inner = "0102030405060708", .want = MTP_ERR_TL_BAD_CTOR},
    {"client_DH_inner_data cut short", NONE, .client_inner = "54b64366", .want = MTP_ERR_SHORT},
};

START_TEST(client_behaviour_makes_server_fail)
{
    const struct server_rejection *t = &server_rejections[_i];
    struct pair p;
    pair_init(&p);
    if (t->point != NONE) {
        ck_assert(!mtp_auth_corrupt_is_server(t->point));
        p.cb.corrupt = MTP_AUTH_CORRUPT(t->point);
    }
    size_t n;
    if (t->g_b) {
        p.cb.g_b = t->g_b[0] ? mtp_test_hex(t->g_b, &n) : mtp_dh_telegram_prime;
        p.cb.g_b_len = t->g_b[0] ? n : MTP_DH_BYTES;
    }
    if (t->pq_inner) {
        p.cb.pq_inner = mtp_test_hex(t->pq_inner, &n);
        p.cb.pq_inner_len = n;
    }
    if (t->client_inner) {
        p.cb.client_inner = mtp_test_hex(t->client_inner, &n);
        p.cb.client_inner_len = n;
    }
    if (t->client_dc)
        p.cc.dc = t->client_dc;
    p.sc.dc = t->server_dc;
    p.cc.inner = t->inner;
    p.cc.expires_in = t->expires_in;
    p.cc.req_pq_old = t->req_pq_old;
    p.cc.rsa = t->rsa_old ? MTP_AUTH_RSA_OLD : MTP_AUTH_RSA_PAD;
    p.sc.refuse_old = t->refuse_old;
    pair_run(&p);
    ck_assert_msg(p.server_rc == t->want, "%s: server got %s (%s), want %s", t->name, mtp_err_name(p.server_rc),
                  p.serr.msg, mtp_err_name(t->want));
    ck_assert_int_eq(p.sstate, MTP_AUTH_S_FAILED);
    ck_assert_str_eq(mtp_auth_server_state_name(p.sstate), "server: failed");
    ck_assert_msg(p.client_rc == MTP_OK, "%s: the client failed first: %s", t->name, p.cerr.msg);
    if (t->want_msg)
        ck_assert_str_eq(p.serr.msg, t->want_msg);
}
END_TEST

START_TEST(every_corruption_point_is_exercised)
{
    for (int point = 0; point < MTP_AUTH_X_COUNT; point++) {
        bool seen = false;
        for (size_t i = 0; i < sizeof client_rejections / sizeof client_rejections[0]; i++)
            seen |= (int)client_rejections[i].point == point;
        for (size_t i = 0; i < sizeof server_rejections / sizeof server_rejections[0]; i++)
            seen |= (int)server_rejections[i].point == point;
        ck_assert_msg(seen, "no test corrupts %s", mtp_auth_corrupt_name((enum mtp_auth_corrupt)point));
    }
}
END_TEST

/* --- server replay of the published messages --- */

START_TEST(server_replays_published_res_pq)
{
    static const char *const examples[] = {"new", "old"};
    for (int i = 0; i < 2; i++) {
        const char *ex = examples[i];
        size_t script_len, pq_len, len;
        const uint8_t *script = sample_bytes(ex, "server_random", "server_nonce", &script_len);
        struct mtp_script_state st;
        struct mtp_env env = mtp_env_scripted(&st, script, script_len, sample_int(ex, "server_time") * 1000);
        /* The fingerprints as published in resPQ. */
        const uint8_t *res_pq = sample_body(ex, "server_messages", "resPQ", &len);
        struct mtp_rd r;
        mtp_rd_init(&r, res_pq, len, NULL);
        struct mtp_auth_res_pq rp;
        ck_assert_ok(mtp_auth_tl_read_res_pq(&r, &rp));
        struct mtp_auth_server_behaviour bh = {
            .pq = sample_bytes(ex, "values", "pq", &pq_len),
            .pq_len = pq_len,
            .fingerprints = rp.fingerprints[0],
            .n_fingerprints = rp.n_fingerprints,
        };
        const struct mtp_rsa_key *keys[] = {test_key()};
        struct mtp_auth_server_config cfg;
        mtp_auth_server_config_init(&cfg);
        cfg.keys = keys;
        cfg.n_keys = 1;
        cfg.behaviour = &bh;
        struct mtp_auth_server *s;
        ck_assert_ok(mtp_auth_server_new(&cfg, &env, &s, NULL));
        size_t req_len;
        const uint8_t *req = sample_body(ex, "client_messages", "req_pq", &req_len);
        uint8_t buf[MTP_AUTH_BODY_MAX];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
        ck_assert_ok(mtp_auth_server_recv(s, req, req_len, &w, NULL));
        ck_assert_uint_eq(w.len, len);
        ck_assert_mem_eq(buf, res_pq, len);
        ck_assert_uint_eq(st.pos, script_len);
        mtp_auth_server_del(s);
    }
}
END_TEST

START_TEST(server_replays_published_server_dh_params_ok)
{
    /* Our client, driven by the recorded randomness of the new example (with
     * our temp_key, and our test key listed in resPQ), against our server
     * driven by the recorded server_nonce and answer padding and told to send
     * the published g_a: server_DH_params_ok comes out as published. */
    const struct mtp_rsa_key *key = test_key();
    const struct mtp_rsa_key *keys[] = {key};
    uint8_t fp[8];
    ck_assert_ok(mtp_rsa_key_fingerprint(key, fp, NULL));

    size_t pq_len, g_a_len, sscript_len, cscript_len;
    char a_hex[2 * 256 + 1];
    for (int i = 0; i < 256; i++)
        snprintf(a_hex + 2 * i, 3, "%02x", (unsigned)(i * 13 + 1) & 0xff);
    const uint8_t *sscript = hex_concat(&sscript_len, sample_hex("new", "server_random", "server_nonce"), a_hex,
                                        sample_hex("new", "server_random", "answer_padding"), NULL);
    int64_t server_time = sample_int("new", "server_time");
    struct mtp_script_state sst;
    struct mtp_env senv = mtp_env_scripted(&sst, sscript, sscript_len, server_time * 1000 + 999);
    struct mtp_auth_server_behaviour bh = {
        .pq = sample_bytes("new", "values", "pq", &pq_len),
        .pq_len = pq_len,
        .g_a = sample_bytes("new", "values", "g_a", &g_a_len),
        .g_a_len = g_a_len,
    };
    struct mtp_auth_server_config scfg;
    mtp_auth_server_config_init(&scfg);
    scfg.keys = keys;
    scfg.n_keys = 1;
    scfg.behaviour = &bh;
    struct mtp_auth_server *s;
    ck_assert_ok(mtp_auth_server_new(&scfg, &senv, &s, NULL));

    /* The client's randomness: RSA_PAD draws the published padding, then
     * temp_keys until one fits below our key's modulus. */
    const uint8_t *cscript = hex_concat(&cscript_len, sample_hex("new", "client_random", "nonce"),
                                        sample_hex("new", "client_random", "new_nonce"),
                                        sample_hex("new", "client_random", "rsa_random_padding"), NULL);
    uint8_t *big = malloc(cscript_len + 32 * 16);
    memcpy(big, cscript, cscript_len);
    for (int i = 0; i < 16; i++)
        memset(big + cscript_len + 32 * i, 0x30 + i, 32);
    struct mtp_script_state cst;
    struct mtp_env cenv = mtp_env_scripted(&cst, big, cscript_len + 32 * 16, server_time * 1000);
    struct mtp_auth_client_config ccfg;
    mtp_auth_client_config_init(&ccfg);
    ccfg.keys = keys;
    ccfg.n_keys = 1;
    ccfg.dc = 2;
    struct mtp_auth_client *c;
    ck_assert_ok(mtp_auth_client_new(&ccfg, &cenv, &c, NULL));

    uint8_t cbuf[MTP_AUTH_BODY_MAX], sbuf[MTP_AUTH_BODY_MAX];
    struct mtp_wr cw, sw;
    mtp_wr_init_fixed(&cw, cbuf, sizeof cbuf, NULL);
    mtp_wr_init_fixed(&sw, sbuf, sizeof sbuf, NULL);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_auth_client_start(c, &cw, NULL));
    ck_assert_ok(mtp_auth_server_recv(s, cbuf, cw.len, &sw, NULL));
    mtp_wr_reset(&cw);
    ck_assert_ok(mtp_auth_client_recv(c, sbuf, sw.len, &cw, NULL));
    mtp_wr_reset(&sw);
    int rc = mtp_auth_server_recv(s, cbuf, cw.len, &sw, &err);
    ck_assert_msg(rc == MTP_OK, "%s", err.msg);
    size_t len;
    const uint8_t *want = sample_body("new", "server_messages", "server_DH_params_ok", &len);
    ck_assert_uint_eq(sw.len, len);
    ck_assert_mem_eq(sbuf, want, len);
    ck_assert_uint_eq(sst.pos, sscript_len);
    ck_assert_int_eq(mtp_auth_server_state(s), MTP_AUTH_S_AWAIT_SET_CLIENT_DH_PARAMS);
    free(big);
    mtp_auth_client_del(c);
    mtp_auth_server_del(s);
}
END_TEST

/* --- the server on its own --- */

START_TEST(server_resends_the_answer_to_an_identical_request)
{
    const struct mtp_rsa_key *keys[] = {test_key()};
    struct mtp_auth_server_config cfg;
    mtp_auth_server_config_init(&cfg);
    cfg.keys = keys;
    cfg.n_keys = 1;
    struct mtp_det_state det;
    struct mtp_env env = mtp_env_deterministic(&det, "s", 1, CLOCK_MS);
    struct mtp_auth_server *s;
    ck_assert_ok(mtp_auth_server_new(&cfg, &env, &s, NULL));
    size_t len;
    const uint8_t *req = sample_body("new", "client_messages", "req_pq", &len);
    uint8_t a[MTP_AUTH_BODY_MAX], b[MTP_AUTH_BODY_MAX];
    struct mtp_wr wa, wb;
    mtp_wr_init_fixed(&wa, a, sizeof a, NULL);
    mtp_wr_init_fixed(&wb, b, sizeof b, NULL);
    ck_assert_ok(mtp_auth_server_recv(s, req, len, &wa, NULL));
    ck_assert_ok(mtp_auth_server_recv(s, req, len, &wb, NULL));
    ck_assert_uint_eq(wa.len, wb.len);
    ck_assert_mem_eq(a, b, wa.len);
    ck_assert_int_eq(mtp_auth_server_state(s), MTP_AUTH_S_AWAIT_REQ_DH_PARAMS);
    ck_assert_str_eq(mtp_auth_server_state_name(MTP_AUTH_S_AWAIT_REQ_DH_PARAMS), "server: await req_DH_params");

    /* a different req_pq_multi now is out of place */
    uint8_t other[20];
    memcpy(other, req, 20);
    other[19] ^= 1;
    struct mtp_error err;
    mtp_error_clear(&err);
    mtp_wr_reset(&wb);
    ck_assert_rc(mtp_auth_server_recv(s, other, 20, &wb, &err), MTP_ERR_AUTH_UNEXPECTED);
    ck_assert_str_eq(err.msg, "server: await req_DH_params: got req_pq_multi#be7e8ef1, expected req_DH_params");
    ck_assert_uint_eq(wb.len, 0);
    ck_assert_rc(mtp_auth_server_recv(s, req, len, &wb, NULL), MTP_ERR_AUTH_BAD_STATE);
    struct mtp_auth_result res;
    ck_assert_rc(mtp_auth_server_result(s, &res, NULL), MTP_ERR_AUTH_BAD_STATE);
    mtp_auth_server_del(s);
}
END_TEST

START_TEST(server_resends_dh_gen_ok_after_done)
{
    /* The last answer survives the end of the exchange (and the wiping of its
     * secrets): a client that lost dh_gen_ok and sends set_client_DH_params
     * again gets the same dh_gen_ok. */
    const struct mtp_rsa_key *keys[] = {test_key()};
    struct mtp_auth_client_config cc;
    mtp_auth_client_config_init(&cc);
    cc.keys = keys;
    cc.n_keys = 1;
    struct mtp_auth_server_config sc;
    mtp_auth_server_config_init(&sc);
    sc.keys = keys;
    sc.n_keys = 1;
    struct mtp_det_state cdet, sdet;
    struct mtp_env cenv = mtp_env_deterministic(&cdet, "c", 1, CLOCK_MS);
    struct mtp_env senv = mtp_env_deterministic(&sdet, "s", 1, CLOCK_MS);
    struct mtp_auth_client *c;
    struct mtp_auth_server *s;
    ck_assert_ok(mtp_auth_client_new(&cc, &cenv, &c, NULL));
    ck_assert_ok(mtp_auth_server_new(&sc, &senv, &s, NULL));
    uint8_t cbuf[MTP_AUTH_BODY_MAX], sbuf[MTP_AUTH_BODY_MAX], again[MTP_AUTH_BODY_MAX];
    struct mtp_wr cw, sw, aw;
    mtp_wr_init_fixed(&cw, cbuf, sizeof cbuf, NULL);
    mtp_wr_init_fixed(&sw, sbuf, sizeof sbuf, NULL);
    mtp_wr_init_fixed(&aw, again, sizeof again, NULL);
    ck_assert_ok(mtp_auth_client_start(c, &cw, NULL));
    for (int i = 0; i < 3; i++) {
        mtp_wr_reset(&sw);
        ck_assert_ok(mtp_auth_server_recv(s, cbuf, cw.len, &sw, NULL));
        if (i < 2) {
            mtp_wr_reset(&cw);
            ck_assert_ok(mtp_auth_client_recv(c, sbuf, sw.len, &cw, NULL));
        }
    }
    ck_assert_int_eq(mtp_auth_server_state(s), MTP_AUTH_S_DONE);
    ck_assert_ok(mtp_auth_server_recv(s, cbuf, cw.len, &aw, NULL));
    ck_assert_uint_eq(aw.len, sw.len);
    ck_assert_mem_eq(again, sbuf, sw.len);
    mtp_wr_reset(&cw);
    ck_assert_ok(mtp_auth_client_recv(c, again, aw.len, &cw, NULL));
    ck_assert_int_eq(mtp_auth_client_state(c), MTP_AUTH_C_DONE);
    struct mtp_auth_result cr, sr;
    ck_assert_ok(mtp_auth_client_result(c, &cr, NULL));
    ck_assert_ok(mtp_auth_server_result(s, &sr, NULL));
    ck_assert_mem_eq(cr.auth_key, sr.auth_key, 256);
    mtp_auth_client_del(c);
    mtp_auth_server_del(s);
}
END_TEST

START_TEST(server_config_and_first_message)
{
    struct mtp_auth_server_config cfg;
    mtp_auth_server_config_init(&cfg);
    ck_assert_int_eq(cfg.g, 3);
    ck_assert_uint_eq(cfg.pq_p_bits, 31);
    struct mtp_det_state det;
    struct mtp_env env = mtp_env_deterministic(&det, "s", 1, CLOCK_MS);
    struct mtp_auth_server *s;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_server_new(&cfg, &env, &s, &err), MTP_ERR_AUTH_CONFIG);
    ck_assert_str_eq(err.msg, "server config: 0 RSA keys, want 1..32");
    /* a public key only */
    const struct mtp_rsa_key *pub[] = {telegram_key("85fd64de851d9dd0")};
    cfg.keys = pub;
    cfg.n_keys = 1;
    ck_assert_rc(mtp_auth_server_new(&cfg, &env, &s, NULL), MTP_ERR_RSA_NOT_PRIVATE);

    const struct mtp_rsa_key *keys[] = {test_key()};
    cfg.keys = keys;
    ck_assert_ok(mtp_auth_server_new(&cfg, &env, &s, NULL));
    uint8_t buf[MTP_AUTH_BODY_MAX];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    size_t len;
    const uint8_t *dh_gen = sample_body("new", "server_messages", "dh_gen_ok", &len);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_server_recv(s, dh_gen, len, &w, &err), MTP_ERR_AUTH_UNEXPECTED);
    ck_assert_str_eq(err.msg, "server: await req_pq_multi: got dh_gen_ok#3bcbf734, expected req_pq_multi or req_pq");
    ck_assert_int_eq(mtp_auth_server_state(s), MTP_AUTH_S_FAILED);
    ck_assert_int_eq(mtp_auth_server_error(s)->code, MTP_ERR_AUTH_UNEXPECTED);
    mtp_auth_server_del(s);
    mtp_auth_server_del(NULL);

    /* a generated pq is a product of two 31-bit primes */
    ck_assert_ok(mtp_auth_server_new(&cfg, &env, &s, NULL));
    const uint8_t *req = sample_body("new", "client_messages", "req_pq", &len);
    mtp_wr_reset(&w);
    ck_assert_ok(mtp_auth_server_recv(s, req, len, &w, NULL));
    struct mtp_rd r;
    mtp_rd_init(&r, buf, w.len, NULL);
    struct mtp_auth_res_pq rp;
    ck_assert_ok(mtp_auth_tl_read_res_pq(&r, &rp));
    ck_assert_uint_eq(rp.pq.len, 8);
    ck_assert_uint_lt(rp.pq.p[0], 0x40); /* below 2^62 */
    uint64_t p, q;
    ck_assert_ok(mtp_pq_factor_be(rp.pq.p, rp.pq.len, &p, &q, NULL));
    ck_assert_uint_ge(p, UINT64_C(1) << 30);
    ck_assert_uint_lt(q, UINT64_C(1) << 31);
    ck_assert_uint_eq(rp.n_fingerprints, 1);
    mtp_auth_server_del(s);
    ck_assert_str_eq(mtp_auth_server_state_name((enum mtp_auth_server_state)99), "server: unknown state");
}
END_TEST

static Suite *auth_server_suite(void)
{
    Suite *s = suite_create("auth_server");
    TCase *t = tcase_create("pair");
    tcase_add_checked_fixture(t, auth_test_setup, auth_test_teardown);
    tcase_add_test(t, pair_rsa_pad_dc);
    tcase_add_test(t, pair_temp_key);
    tcase_add_test(t, pair_old_forms);
    tcase_add_test(t, pair_retry_then_ok);
    tcase_add_test(t, pair_retry_on_key_collision);
    tcase_add_test(t, pair_attempts_are_reported);
    tcase_add_test(t, pair_g_a_with_a_leading_zero_byte);
    tcase_add_test(t, pair_retry_until_the_key_has_a_leading_zero_byte);
    tcase_add_test(t, pair_server_refusals);
    suite_add_tcase(s, t);
    t = tcase_create("scenarios");
    tcase_add_checked_fixture(t, auth_test_setup, auth_test_teardown);
    tcase_add_loop_test(t, scenario_makes_client_fail, 0,
                        (int)(sizeof client_rejections / sizeof client_rejections[0]));
    tcase_add_loop_test(t, client_behaviour_makes_server_fail, 0,
                        (int)(sizeof server_rejections / sizeof server_rejections[0]));
    suite_add_tcase(s, t);
    t = tcase_create("server");
    tcase_add_checked_fixture(t, auth_test_setup, auth_test_teardown);
    tcase_add_test(t, every_corruption_point_is_exercised);
    tcase_add_test(t, server_replays_published_res_pq);
    tcase_add_test(t, server_replays_published_server_dh_params_ok);
    tcase_add_test(t, server_resends_the_answer_to_an_identical_request);
    tcase_add_test(t, server_resends_dh_gen_ok_after_done);
    tcase_add_test(t, server_config_and_first_message);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(auth_server_suite)
