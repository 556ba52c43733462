#include <string.h>

#include "mtp/msgcrypt.h"
#include "mtp_test.h"
#include "mtps_scenario.h"
#include "mtps_store.h"

#define T0 1700000000000ll

static struct mtp_det_state ds;
static struct mtps_store st;
static unsigned events;

static void count_event(void *ctx, struct mtps_sess *s, const struct mtp_session_event *ev)
{
    (void)ctx;
    (void)s;
    (void)ev;
    events++;
}

static void up(uint32_t keys, uint32_t sessions, uint32_t per_key)
{
    struct mtps_scenario scen;
    mtps_scenario_default(&scen);
    struct mtps_store_cfg cfg = {keys, sessions, per_key, scen.session};
    struct mtp_env env = mtp_env_deterministic(&ds, "store", 5, T0);
    ck_assert_ok(mtps_store_init(&st, &cfg, &env, count_event, NULL));
}

static void make_key(uint8_t k[256], uint8_t seed)
{
    for (int i = 0; i < 256; i++)
        k[i] = (uint8_t)(seed * 31 + i);
}

static struct mtps_key *add(uint8_t seed)
{
    uint8_t k[256];
    make_key(k, seed);
    struct mtps_key *key;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtps_store_add_key(&st, k, false, 0, 0x1000u + seed, &key, &err) == MTP_OK, "%s", err.msg);
    return key;
}

START_TEST(keys_are_found_by_their_id)
{
    up(8, 8, 4);
    struct mtps_key *k = add(1);
    uint8_t id[8];
    mtp_auth_key_id(k->auth_key, id);
    ck_assert_uint_eq(k->id, mtp_load_u64(id));
    ck_assert_ptr_eq(mtps_store_find_key(&st, k->id), k);
    ck_assert_ptr_null(mtps_store_find_key(&st, k->id ^ 1));
    /* the exchange's salt is valid from now for one salt period */
    ck_assert_uint_eq(k->salts.n, 1);
    ck_assert_uint_eq(k->salts.e[0].salt, 0x1001u);
    ck_assert_int_eq(k->salts.e[0].valid_since_ms, T0);
    ck_assert_int_eq(k->salts.e[0].valid_until_ms, T0 + 3600000);
    /* the same key twice is refused */
    uint8_t again[256];
    make_key(again, 1);
    struct mtps_key *dup;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtps_store_add_key(&st, again, false, 0, 0, &dup, &err), MTP_ERR_ARG);
    ck_assert_uint_eq(st.nkeys, 1);
    uint64_t id64 = k->id;
    mtps_store_drop_key(&st, k);
    ck_assert_uint_eq(st.nkeys, 0);
    ck_assert_ptr_null(mtps_store_find_key(&st, id64));
    mtps_store_free(&st);
}
END_TEST

START_TEST(full_store_forgets_the_least_recently_used_idle_key)
{
    up(3, 8, 4);
    struct mtps_key *a = add(1), *b = add(2), *c = add(3);
    uint64_t ida = a->id, idb = b->id;
    mtps_store_touch_key(&st, a); /* b is now the oldest */
    add(4);
    ck_assert_uint_eq(st.nkeys, 3);
    ck_assert_ptr_null(mtps_store_find_key(&st, idb));
    ck_assert_ptr_nonnull(mtps_store_find_key(&st, ida));
    /* keys in use are never forgotten */
    a->refs = c->refs = 1;
    struct mtps_key *d = mtps_store_find_key(&st, add(5)->id);
    ck_assert_ptr_nonnull(d);
    d->refs = 1;
    uint8_t k[256];
    make_key(k, 6);
    struct mtps_key *e;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtps_store_add_key(&st, k, false, 0, 0, &e, &err), MTP_ERR_SRV_SESSION_LIMIT);
    ck_assert_str_eq(err.msg, "all 3 auth keys are in use");
    mtps_store_free(&st);
}
END_TEST

START_TEST(sessions_live_under_their_key)
{
    up(4, 3, 2);
    struct mtps_key *k = add(1);
    struct mtps_sess *s1, *s2, *s3, *again;
    bool created;
    ck_assert_ok(mtps_store_session(&st, k, 11, &s1, &created, NULL));
    ck_assert(created);
    ck_assert_ok(mtps_store_session(&st, k, 11, &again, &created, NULL));
    ck_assert(!created);
    ck_assert_ptr_eq(again, s1);
    ck_assert_ok(mtps_store_session(&st, k, 12, &s2, &created, NULL));
    /* per key: 2 -> the idle one of this key goes (s1 is older) */
    ck_assert_ok(mtps_store_session(&st, k, 13, &s3, &created, NULL));
    ck_assert_uint_eq(k->nsessions, 2);
    ck_assert_ptr_null(mtps_store_find_session(k, 11));
    /* bound sessions stay: with both bound, a third cannot be made */
    s2->conn = s3->conn = &st;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtps_store_session(&st, k, 14, &again, &created, &err), MTP_ERR_SRV_SESSION_LIMIT);
    ck_assert_str_eq(err.msg, "session 0xe: the key already has 2 sessions in use");
    s2->conn = s3->conn = NULL;
    mtps_store_drop_session(&st, s2);
    ck_assert_uint_eq(st.nsessions, 1);
    ck_assert_uint_eq(k->nsessions, 1);
    mtps_store_free(&st);
}
END_TEST

START_TEST(sessions_share_the_keys_salts)
{
    up(4, 4, 4);
    struct mtps_key *k = add(1);
    struct mtps_sess *s;
    bool created;
    ck_assert_ok(mtps_store_session(&st, k, 11, &s, &created, NULL));
    ck_assert_uint_eq(s->core.salts.n, 1);
    ck_assert_uint_eq(s->core.salts.e[0].salt, 0x1001u);
    ck_assert_ok(mtps_key_rotate_salt(&st, k));
    ck_assert_uint_eq(k->salts.n, 1);
    ck_assert_uint_ne(k->salts.e[0].salt, 0x1001u);
    /* the next recv sees the key's salts; a message with the old salt gets bad_server_salt */
    uint8_t plain[64];
    memset(plain, 0, sizeof plain);
    mtp_store_u64(plain, 0x1001u);
    mtp_store_u64(plain + 8, 11);
    mtp_store_u64(plain + 16, (uint64_t)(T0 / 1000) << 32 | 4);
    mtp_store_u32(plain + 24, 1);
    mtp_store_u32(plain + 28, 12);
    mtp_store_u32(plain + 32, 0x7abe77ecu); /* ping */
    events = 0;
    ck_assert_rc(mtps_sess_recv(s, plain, sizeof plain, NULL), MTP_ERR_SES_BAD_SALT);
    ck_assert_uint_ge(events, 1);
    ck_assert_uint_eq(s->core.salts.e[0].salt, k->salts.e[0].salt);
    mtps_store_free(&st);
}
END_TEST

START_TEST(sizes_for_the_memory_bound)
{
    struct mtps_scenario scen;
    mtps_scenario_default(&scen);
    ck_assert_uint_gt(mtps_store_session_bytes(&scen.session), sizeof(struct mtps_sess));
    ck_assert_uint_lt(mtps_store_session_bytes(&scen.session), 64u << 10);
    ck_assert_uint_lt(mtps_store_key_bytes(), 4096);
}
END_TEST

static struct mtps_key *add_temp(uint8_t seed, int32_t expires_at)
{
    uint8_t k[256];
    make_key(k, seed);
    struct mtps_key *key;
    ck_assert_ok(mtps_store_add_key(&st, k, true, expires_at, 0x2000u + seed, &key, NULL));
    return key;
}

START_TEST(bindings_one_temporary_key_per_permanent_key)
{
    up(8, 8, 4);
    struct mtps_key *p1 = add(1), *p2 = add(2);
    struct mtps_key *t1 = add_temp(3, 1700086400), *t2 = add_temp(4, 1700086400);
    uint64_t replaced = 99;
    ck_assert_int_eq(mtps_store_bind(&st, t1, p1, 1700090000, &replaced), MTPS_BIND_NEW);
    ck_assert_uint_eq(replaced, 0);
    ck_assert_ptr_eq(mtps_store_bound_perm(&st, t1), p1);
    ck_assert_int_eq(t1->expires_at, 1700086400); /* a later expires_at does not extend the key */
    ck_assert_int_eq(mtps_store_bind(&st, t1, p1, 1700080000, NULL), MTPS_BIND_SAME);
    ck_assert_int_eq(t1->expires_at, 1700086400); /* nor does binding again */
    ck_assert_int_eq(mtps_store_bind(&st, t2, p1, 1700050000, &replaced), MTPS_BIND_REPLACED);
    ck_assert_uint_eq(replaced, t1->id);
    ck_assert_int_eq(t2->expires_at, 1700050000); /* an earlier one shortens it */
    ck_assert_ptr_null(mtps_store_bound_perm(&st, t1));
    ck_assert_ptr_eq(mtps_store_bound_perm(&st, t2), p1);
    ck_assert_int_eq(mtps_store_bind(&st, t2, p2, 1700050000, NULL), MTPS_BIND_TAKEN);
    ck_assert_uint_eq(p2->bound_temp, 0);
    ck_assert_int_eq(mtps_store_bind(&st, t1, p2, 1700086400, NULL), MTPS_BIND_NEW);
    /* a forgotten permanent key unbinds its temporary key, and the other way round */
    mtps_store_drop_key(&st, p1);
    ck_assert_ptr_null(mtps_store_bound_perm(&st, t2));
    ck_assert_uint_eq(t2->bound_perm, 0);
    mtps_store_drop_key(&st, t1);
    ck_assert_uint_eq(p2->bound_temp, 0);
    mtps_store_free(&st);
}
END_TEST

Suite *mtps_store_suite(void);
Suite *mtps_store_suite(void)
{
    Suite *s = suite_create("mtps_store");
    TCase *tc = tcase_create("keys");
    tcase_add_test(tc, keys_are_found_by_their_id);
    tcase_add_test(tc, full_store_forgets_the_least_recently_used_idle_key);
    tcase_add_test(tc, bindings_one_temporary_key_per_permanent_key);
    suite_add_tcase(s, tc);
    tc = tcase_create("sessions");
    tcase_add_test(tc, sessions_live_under_their_key);
    tcase_add_test(tc, sessions_share_the_keys_salts);
    tcase_add_test(tc, sizes_for_the_memory_bound);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_store_suite)
