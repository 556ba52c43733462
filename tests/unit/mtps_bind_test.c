/* auth.bindTempAuthKey in the mock DC: the binding and its bookkeeping, and
 * each refusal by its rpc_error and the check behind it. */
#include <string.h>

#include "mtp/auth_bind.h"
#include "mtp/msgcrypt.h"
#include "mtp_test.h"
#include "mtps_api.h"
#include "mtps_bind.h"
#include "mtps_scenario.h"
#include "mtps_store.h"

#define T0 1700000000000ll
#define MSG_ID 0x6553f10000001234ull
#define SESSION 0x5e55105e55105e55ull
#define NONCE 0x0123456789abcdefull
#define EXPIRES 1700003000

static struct mtp_det_state ds, rs;
static struct mtp_env rnd;
static struct mtps_store st;
static struct mtps_api api;
static struct mtps_key *perm, *perm2, *temp, *temp2;

static struct mtps_key *add(uint8_t seed, bool is_temp)
{
    uint8_t k[256];
    for (int i = 0; i < 256; i++)
        k[i] = (uint8_t)(seed * 37 + i * 3);
    struct mtps_key *key;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtps_store_add_key(&st, k, is_temp, is_temp ? 1700003600 : 0, 0x77, &key, &err) == MTP_OK, "%s",
                  err.msg);
    return key;
}

static void setup(void)
{
    struct mtps_scenario scen;
    mtps_scenario_default(&scen);
    struct mtps_store_cfg cfg = {16, 16, 4, scen.session};
    struct mtp_env env = mtp_env_deterministic(&ds, "bind store", 10, T0);
    ck_assert_ok(mtps_store_init(&st, &cfg, &env, NULL, NULL));
    rnd = mtp_env_deterministic(&rs, "bind client", 11, T0);
    perm = add(1, false);
    perm2 = add(2, false);
    temp = add(3, true);
    temp2 = add(4, true);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtps_api_behaviour beh = {400, "METHOD_NOT_SUPPORTED"};
    ck_assert_msg(mtps_api_init(&api, NULL, 0, NULL, &beh, &err) == MTP_OK, "%s", err.msg);
}

static void teardown(void)
{
    mtps_store_free(&st);
    mtps_api_free(&api);
}

/* What the client puts in the request and the binding message. */
struct req {
    const struct mtps_key *signer;  /* encrypts the binding message */
    uint64_t perm_id;               /* auth.bindTempAuthKey.perm_auth_key_id */
    uint64_t nonce;
    int32_t expires_at;
    uint64_t msg_id;                /* in the binding message */
    struct mtp_bind_inner inner;
    bool wrap;                      /* inside invokeWithLayer(initConnection(...)) */
};

static struct req good(const struct mtps_key *t, const struct mtps_key *p)
{
    struct req r = {p, p->id, NONCE, EXPIRES, MSG_ID, {NONCE, t->id, p->id, SESSION, EXPIRES}, false};
    return r;
}

static void prefix(struct mtp_wr *w)
{
    /* invokeWithLayer#da9b0d0d layer:198, initConnection#c1cd5ea9 with flags 0 and short strings */
    static const uint8_t head[] = {0x0d, 0x0d, 0x9b, 0xda, 198, 0, 0, 0, 0xa9, 0x5e, 0xcd, 0xc1, 0, 0, 0, 0,
                                   1, 0, 0, 0, 1, 'm', 0, 0, 1, 's', 0, 0, 1, 'a', 0, 0,
                                   2, 'e', 'n', 0, 0, 0, 0, 0, 2, 'e', 'n', 0};
    ck_assert_ok(mtp_wr_raw(w, head, sizeof head));
}

/* Sends r with key k in session SESSION as message MSG_ID; returns the answer. */
static struct mtps_answer run(const struct req *r, struct mtps_key *k, struct mtps_bind_outcome *bo,
                              struct mtp_wr *result)
{
    uint8_t enc[MTP_BIND_ENCRYPTED_LEN], body[400];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, enc, sizeof enc, NULL);
    ck_assert_ok(mtp_bind_encrypt(r->signer->auth_key, r->msg_id, &r->inner, &rnd, &w, NULL));
    mtp_wr_init_fixed(&w, body, sizeof body, NULL);
    if (r->wrap)
        prefix(&w);
    ck_assert_ok(mtp_bind_write_request(&w, r->perm_id, r->nonce, r->expires_at, enc, sizeof enc));
    struct mtps_rpc rpc;
    mtps_api_parse(&api, 0, body, w.len, &rpc);
    ck_assert_msg(rpc.decoded, "%s", rpc.err.msg);
    ck_assert_str_eq(rpc.method, "auth.bindTempAuthKey");
    struct mtps_answer ans;
    mtps_bind_answer(&st, k, SESSION, MSG_ID, rpc.call, result, &ans, bo);
    mtps_rpc_free(&rpc);
    return ans;
}

static void expect_true(const struct req *r, struct mtps_key *k, enum mtps_bind_result how, uint64_t replaced)
{
    uint8_t res[8];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, res, sizeof res, NULL);
    struct mtps_bind_outcome bo;
    struct mtps_answer ans = run(r, k, &bo, &w);
    ck_assert_msg(!ans.error, "%d %s: %s", (int)ans.code, ans.message, bo.why);
    ck_assert(bo.bound);
    ck_assert_int_eq(bo.how, how);
    ck_assert_uint_eq(bo.replaced_id, replaced);
    ck_assert_uint_eq(bo.temp_id, k->id);
    ck_assert_uint_eq(bo.perm_id, r->perm_id);
    ck_assert_hex_eq(res, w.len, "b5757299"); /* boolTrue */
}

static void expect_error(const struct req *r, struct mtps_key *k, const char *message, int check, const char *why)
{
    uint8_t res[8];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, res, sizeof res, NULL);
    struct mtps_bind_outcome bo;
    struct mtps_answer ans = run(r, k, &bo, &w);
    ck_assert(ans.error);
    ck_assert(!bo.bound);
    ck_assert_int_eq(ans.code, 400);
    ck_assert_str_eq(ans.message, message);
    ck_assert_msg(bo.check == check, "check %s, want %s (%s)", mtp_err_name(bo.check), mtp_err_name(check), bo.why);
    if (why)
        ck_assert_msg(strstr(bo.why, why) != NULL, "'%s' lacks '%s'", bo.why, why);
    ck_assert_uint_eq(w.len, 0);
}

START_TEST(binds_replaces_and_refuses_a_taken_key)
{
    struct req r = good(temp, perm);
    expect_true(&r, temp, MTPS_BIND_NEW, 0);
    ck_assert_ptr_eq(mtps_store_bound_perm(&st, temp), perm);
    ck_assert_uint_eq(perm->bound_temp, temp->id);
    /* the binding's expires_at is earlier than the key's own: the key now expires then */
    ck_assert_int_eq(temp->expires_at, EXPIRES);
    /* again (a resent request): still true, nothing changes */
    expect_true(&r, temp, MTPS_BIND_SAME, 0);
    /* a new temporary key for the same permanent key replaces the first */
    r = good(temp2, perm);
    r.wrap = true;
    expect_true(&r, temp2, MTPS_BIND_REPLACED, temp->id);
    ck_assert_ptr_eq(mtps_store_bound_perm(&st, temp2), perm);
    ck_assert_ptr_null(mtps_store_bound_perm(&st, temp));
    ck_assert_uint_eq(perm->bound_temp, temp2->id);
    /* the unbound key may bind to another permanent key ... */
    r = good(temp, perm2);
    expect_true(&r, temp, MTPS_BIND_NEW, 0);
    /* ... and is then taken: a bind to the first one is refused, and changes nothing */
    r = good(temp, perm);
    expect_error(&r, temp, "TEMP_AUTH_KEY_ALREADY_BOUND", MTP_OK, "is bound to");
    ck_assert_ptr_eq(mtps_store_bound_perm(&st, temp), perm2);
    ck_assert_ptr_eq(mtps_store_bound_perm(&st, temp2), perm);
    /* forgetting a key takes its binding with it */
    uint64_t temp2_id = temp2->id;
    mtps_store_drop_key(&st, temp2);
    ck_assert_uint_eq(perm->bound_temp, 0);
    (void)temp2_id;
    mtps_store_drop_key(&st, perm2);
    ck_assert_ptr_null(mtps_store_bound_perm(&st, temp));
    ck_assert_uint_eq(temp->bound_perm, 0);
}
END_TEST

START_TEST(refusals_before_the_message)
{
    struct req r = good(temp, perm);
    /* sent with the permanent key itself */
    expect_error(&r, perm, "TEMP_AUTH_KEY_EMPTY", MTP_OK, "permanent key");
    /* a permanent key the server does not know */
    r.perm_id = perm->id ^ 0x100;
    expect_error(&r, temp, "ENCRYPTED_MESSAGE_INVALID", MTP_ERR_SRV_UNKNOWN_KEY, "no key the server knows");
    /* a temporary key named as the permanent one */
    r.perm_id = temp2->id;
    expect_error(&r, temp, "ENCRYPTED_MESSAGE_INVALID", MTP_ERR_SRV_UNKNOWN_KEY, "a temporary key");
    ck_assert_uint_eq(temp->bound_perm, 0);
}
END_TEST

START_TEST(each_check_of_the_binding_message)
{
    struct req r = good(temp, perm);
    r.signer = perm2; /* encrypted with another permanent key */
    expect_error(&r, temp, "ENCRYPTED_MESSAGE_INVALID", MTP_ERR_AUTH_KEY_ID_MISMATCH, "auth_key_id_mismatch");
    r = good(temp, perm);
    r.msg_id = MSG_ID + 4;
    expect_error(&r, temp, "ENCRYPTED_MESSAGE_INVALID", MTP_ERR_BIND_MSG_ID, "msg_id");
    r = good(temp, perm);
    r.nonce = NONCE + 1;
    expect_error(&r, temp, "ENCRYPTED_MESSAGE_INVALID", MTP_ERR_BIND_NONCE, "nonce");
    r = good(temp, perm);
    r.inner.temp_auth_key_id = temp2->id;
    expect_error(&r, temp, "ENCRYPTED_MESSAGE_INVALID", MTP_ERR_BIND_TEMP_KEY, "temp_auth_key_id");
    r = good(temp, perm);
    r.inner.perm_auth_key_id = perm2->id;
    expect_error(&r, temp, "ENCRYPTED_MESSAGE_INVALID", MTP_ERR_BIND_PERM_KEY, "perm_auth_key_id");
    r = good(temp, perm);
    r.inner.temp_session_id = SESSION + 1;
    expect_error(&r, temp, "ENCRYPTED_MESSAGE_INVALID", MTP_ERR_BIND_SESSION, "temp_session_id");
    r = good(temp, perm);
    r.expires_at = EXPIRES + 60;
    expect_error(&r, temp, "ENCRYPTED_MESSAGE_INVALID", MTP_ERR_BIND_EXPIRES_AT, "expires_at");
    /* nothing was bound on the way */
    ck_assert_uint_eq(temp->bound_perm, 0);
    ck_assert_uint_eq(perm->bound_temp, 0);
    ck_assert_int_eq(temp->expires_at, 1700003600);
}
END_TEST

START_TEST(a_later_expires_at_keeps_the_keys_own)
{
    struct req r = good(temp, perm);
    r.expires_at = r.inner.expires_at = 1800000000;
    expect_true(&r, temp, MTPS_BIND_NEW, 0);
    ck_assert_int_eq(temp->expires_at, 1700003600);
}
END_TEST

static Suite *mtps_bind_suite(void)
{
    Suite *s = suite_create("mtps_bind");
    TCase *tc = tcase_create("bind");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, binds_replaces_and_refuses_a_taken_key);
    tcase_add_test(tc, refusals_before_the_message);
    tcase_add_test(tc, each_check_of_the_binding_message);
    tcase_add_test(tc, a_later_expires_at_keeps_the_keys_own);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_bind_suite)
