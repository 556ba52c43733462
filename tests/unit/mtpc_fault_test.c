/* The seeded faults of the reference client (mtpc_fault.h): the table, and
 * for every fault a server that breaks the rule its check enforces, run once
 * without the fault (the client does what the spec asks) and once with it
 * (it does not).  A fault that changes nothing, or a check that is off
 * without its fault, fails here. */
#include <string.h>

#include "client/mtpc_fault.h"
#include "mtpc_testrun.h"

/* ---- the table ---- */

START_TEST(every_fault_has_a_name_a_requirement_and_a_description)
{
    for (unsigned i = 0; i < MTPC_FAULT_COUNT; i++) {
        const struct mtpc_fault_info *f = mtpc_fault_info((enum mtpc_fault)i);
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(f->name);
        ck_assert_msg(strncmp(f->requirement, "C-", 2) == 0, "%s: %s", f->name, f->requirement);
        ck_assert_uint_gt(strlen(f->what), 10);
        enum mtpc_fault back;
        ck_assert_ok(mtpc_fault_from_name(f->name, &back));
        ck_assert_uint_eq(back, i);
        for (unsigned k = 0; k < i; k++)
            ck_assert_str_ne(mtpc_fault_info((enum mtpc_fault)k)->name, f->name);
    }
    enum mtpc_fault f;
    ck_assert_rc(mtpc_fault_from_name("skip-everything", &f), MTP_ERR_ARG);
    ck_assert_ptr_null(mtpc_fault_info(MTPC_FAULT_COUNT));
    ck_assert_str_eq(mtpc_fault_info(MTPC_FAULT_SKIP_MSG_KEY_CHECK)->name, "skip-msg-key-check");
    ck_assert_str_eq(mtpc_fault_info(MTPC_FAULT_SKIP_MSG_KEY_CHECK)->requirement, "C-ENC-15");
}
END_TEST

/* ---- each fault against the server that tests it ---- */

struct fault_run {
    struct run r;
    struct sent_log sent;
    enum hostile hostile;
    struct mtp_auth_server_behaviour bh;
    struct ts_opts so;
    uint8_t *prime;
    uint8_t g_a[256];
};

typedef void (*setup_fn)(struct fault_run *x);
/* True when the client did what the check demands. */
typedef bool (*correct_fn)(struct fault_run *x);

static void reinit_server(struct fault_run *x, enum ts_mode mode)
{
    ts_free(&x->r.srv);
    ts_init_opts(&x->r.srv, mode, x->r.key, NULL, &x->bh, &x->so);
}

static bool ended_with(struct fault_run *x, int code)
{
    const struct mtpc_outcome *o = mtpc_outcome(x->r.c);
    return mtpc_state(x->r.c) == MTPC_FAILED && o->error == code;
}

static bool done(struct fault_run *x) { return mtpc_state(x->r.c) == MTPC_DONE; }

/* C-DH-1: a prime whose (p-1)/2 is composite (prime E; p mod 3 = 2, so g = 3 passes). */
static void s_not_safe(struct fault_run *x)
{
    x->prime = dh_prime_from_vectors("E");
    x->so.dh_prime = x->prime;
    x->so.dh_prime_len = 256;
    reinit_server(x, TS_NORMAL);
}
static bool c_not_safe(struct fault_run *x) { return ended_with(x, MTP_ERR_DH_PRIME_NOT_SAFE); }

/* C-DH-1: a safe prime of 2047 bits (prime C; p mod 3 = 2). */
static void s_2047_bits(struct fault_run *x)
{
    x->prime = dh_prime_from_vectors("C");
    x->so.dh_prime = x->prime;
    x->so.dh_prime_len = 256;
    reinit_server(x, TS_NORMAL);
}
static bool c_2047_bits(struct fault_run *x) { return ended_with(x, MTP_ERR_DH_PRIME_BAD_SIZE); }

/* C-DH-2: g = 2 with a prime whose p mod 8 = 3 (prime B). */
static void s_bad_g(struct fault_run *x)
{
    x->prime = dh_prime_from_vectors("B");
    x->so.dh_prime = x->prime;
    x->so.dh_prime_len = 256;
    x->so.g = 2;
    reinit_server(x, TS_NORMAL);
}
static bool c_bad_g(struct fault_run *x) { return ended_with(x, MTP_ERR_DH_G_BAD_RESIDUE); }

/* C-DH-2: g = 8 sent (the server computes with its own g). */
static void s_g8(struct fault_run *x)
{
    x->bh.g_set = true;
    x->bh.g = 8;
    reinit_server(x, TS_NORMAL);
}
static bool c_g8(struct fault_run *x) { return ended_with(x, MTP_ERR_DH_G_OUT_OF_RANGE) && x->r.srv.plain_in == 2; }

/* C-DH-4 and -5: g_a = 1, and g_a = 2^1984 - 1 (in range, inside the margin).
 * The server computes with its own a, so a client that goes on sends
 * set_client_DH_params and then fails on dh_gen's hash. */
static void s_g_a_one(struct fault_run *x)
{
    x->g_a[0] = 1;
    x->bh.g_a = x->g_a;
    x->bh.g_a_len = 1;
    reinit_server(x, TS_NORMAL);
}
static bool c_g_a_one(struct fault_run *x)
{
    return ended_with(x, MTP_ERR_DH_GA_OUT_OF_RANGE) && x->r.srv.plain_in == 2;
}
static void s_g_a_margin(struct fault_run *x)
{
    memset(x->g_a, 0xff, 248);
    x->bh.g_a = x->g_a;
    x->bh.g_a_len = 248;
    reinit_server(x, TS_NORMAL);
}
static bool c_g_a_margin(struct fault_run *x) { return ended_with(x, MTP_ERR_DH_GA_UNSAFE) && x->r.srv.plain_in == 2; }

/* C-DH-6: a second client with another seed against the same server makes
 * another key, unless b is fixed. */
static void s_plain(struct fault_run *x) { (void)x; }
static bool c_fresh_b(struct fault_run *x)
{
    const struct mtpc_outcome *o = mtpc_outcome(x->r.c);
    ck_assert(o->have_key);
    struct run r2;
    run_setup(&r2, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r2.env = mtp_env_deterministic(&r2.det, "client-2", 8, TS_T0);
    r2.cfg.faults = x->r.cfg.faults;
    run_start(&r2);
    const struct mtpc_outcome *o2 = done_ok(&r2);
    bool differ = memcmp(o->key.auth_key, o2->key.auth_key, 256) != 0;
    run_free(&r2);
    return differ;
}

static void s_corrupt(struct fault_run *x, enum mtp_auth_corrupt point)
{
    x->bh.corrupt = MTP_AUTH_CORRUPT(point);
    reinit_server(x, TS_NORMAL);
}
/* C-HS-7, -8, -9. */
static void s_wrong_nonce(struct fault_run *x) { s_corrupt(x, MTP_AUTH_X_SERVER_INNER_NONCE); }
static bool c_wrong_nonce(struct fault_run *x) { return ended_with(x, MTP_ERR_AUTH_NONCE); }
static void s_answer_hash(struct fault_run *x) { s_corrupt(x, MTP_AUTH_X_ANSWER_HASH); }
static bool c_answer_hash(struct fault_run *x) { return ended_with(x, MTP_ERR_INNER_HASH); }
static void s_dh_gen_hash(struct fault_run *x) { s_corrupt(x, MTP_AUTH_X_DH_GEN_HASH); }
static bool c_dh_gen_hash(struct fault_run *x) { return ended_with(x, MTP_ERR_AUTH_NEW_NONCE_HASH); }

/* C-HS-9: dh_gen_retry; the server checks retry_id and answers a wrong one with -404. */
static void s_retry(struct fault_run *x)
{
    x->bh.dh_gen_retries = 1;
    reinit_server(x, TS_NORMAL);
}
static bool c_retry(struct fault_run *x) { return done(x) && !x->r.srv.auth_failed; }

/* C-HS-10: pq = 2^31 - 1, a prime. */
static void s_prime_pq(struct fault_run *x)
{
    static const uint8_t pq[] = {0x7f, 0xff, 0xff, 0xff};
    x->bh.pq = pq;
    x->bh.pq_len = sizeof pq;
    reinit_server(x, TS_NORMAL);
}
static bool c_prime_pq(struct fault_run *x) { return ended_with(x, MTP_ERR_PQ_PRIME) && x->r.srv.plain_in == 1; }

/* C-HS-10: pq = 65537^2, and a pq of 9 bytes (two primes, above 2^64). */
static void s_square_pq(struct fault_run *x)
{
    static const uint8_t pq[] = {0x01, 0x00, 0x02, 0x00, 0x01};
    x->bh.pq = pq;
    x->bh.pq_len = sizeof pq;
    reinit_server(x, TS_NORMAL);
}
static bool c_square_pq(struct fault_run *x)
{
    return ended_with(x, MTP_ERR_PQ_EQUAL_FACTORS) && x->r.srv.plain_in == 1;
}
static void s_long_pq(struct fault_run *x)
{
    /* (2^32 + 15) * (2^32 + 61) */
    static const uint8_t pq[] = {0x01, 0x00, 0x00, 0x00, 0x4c, 0x00, 0x00, 0x03, 0x93};
    x->bh.pq = pq;
    x->bh.pq_len = sizeof pq;
    reinit_server(x, TS_NORMAL);
}
static bool c_long_pq(struct fault_run *x) { return ended_with(x, MTP_ERR_PQ_TOO_LARGE) && x->r.srv.plain_in == 1; }

/* C-HS-11: the server lists only a fingerprint the client does not know. */
static void s_unknown_fp(struct fault_run *x)
{
    static const uint8_t fp[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    x->bh.fingerprints = fp;
    x->bh.n_fingerprints = 1;
    reinit_server(x, TS_NORMAL);
}
static bool c_unknown_fp(struct fault_run *x)
{
    return ended_with(x, MTP_ERR_AUTH_NO_COMMON_KEY) && x->r.srv.plain_in == 1;
}

/* C-HS-12: -404 during the exchange. */
static void s_404(struct fault_run *x) { reinit_server(x, TS_ERR404); }
static bool c_404(struct fault_run *x) { return mtpc_wants_reconnect(x->r.c); }

/* C-HS-13: server_time an hour ahead of the local clock. */
static void s_time_ahead(struct fault_run *x)
{
    x->bh.server_time_set = true;
    x->bh.server_time = (int32_t)(TS_T0 / 1000) + 3600;
    reinit_server(x, TS_NORMAL);
}
static bool c_time_ahead(struct fault_run *x)
{
    ck_assert_uint_ge(x->sent.n, 1);
    return mtp_msgid_to_ms(x->sent.msg_id[0]) / 1000 == (int64_t)(TS_T0 / 1000) + 3600;
}

/* The encrypted layer and the session: a hostile canary before the honest answer. */
static void s_hostile(struct fault_run *x)
{
    x->r.srv.before_answer = send_hostile;
    x->r.srv.hook_ctx = &x->hostile;
}
static bool c_hostile(struct fault_run *x)
{
    char cc[3];
    result_country(done_ok(&x->r), cc);
    return strcmp(cc, "ZZ") == 0;
}
#define HOSTILE_SETUP(name, h)                                                                                         \
    static void name(struct fault_run *x)                                                                              \
    {                                                                                                                  \
        x->hostile = h;                                                                                                \
        s_hostile(x);                                                                                                  \
    }
HOSTILE_SETUP(s_other_key_id, HOSTILE_OTHER_KEY_ID)
HOSTILE_SETUP(s_fake_msg_key, HOSTILE_FAKE_MSG_KEY)
HOSTILE_SETUP(s_length_beyond, HOSTILE_LENGTH_BEYOND)
HOSTILE_SETUP(s_length_negative, HOSTILE_LENGTH_NEGATIVE)
HOSTILE_SETUP(s_length_unaligned, HOSTILE_LENGTH_UNALIGNED)
HOSTILE_SETUP(s_padding_short, HOSTILE_PADDING_SHORT)
HOSTILE_SETUP(s_padding_long, HOSTILE_PADDING_LONG)
HOSTILE_SETUP(s_plain_after_key, HOSTILE_PLAIN)
HOSTILE_SETUP(s_wrong_session, HOSTILE_WRONG_SESSION)
HOSTILE_SETUP(s_even_msg_id, HOSTILE_EVEN_MSG_ID)
HOSTILE_SETUP(s_duplicate, HOSTILE_DUPLICATE_MSG_ID)
HOSTILE_SETUP(s_too_old, HOSTILE_TOO_OLD)
HOSTILE_SETUP(s_too_new, HOSTILE_TOO_NEW)
HOSTILE_SETUP(s_container_order, HOSTILE_CONTAINER_ORDER)
HOSTILE_SETUP(s_salt_wrong_session, HOSTILE_SALT_WRONG_SESSION)

/* C-MIS-31: the salt of a discarded bad_server_salt is not used. */
static bool c_salt(struct fault_run *x)
{
    const struct mtpc_outcome *o = done_ok(&x->r);
    return o->salt == mtp_load_u64(o->key.server_salt) && o->salt != HOSTILE_SALT;
}

/* C-SES-23: the client's own msg_ids are divisible by 4. */
static bool c_own_ids(struct fault_run *x)
{
    ck_assert_uint_ge(x->sent.n, 1);
    return x->sent.msg_id[0] % 4 == 0;
}

/* C-SES-26: content-related messages (the pong's new_session_created, the
 * answers) are acknowledged. */
static bool c_acks(struct fault_run *x)
{
    done_ok(&x->r);
    return x->sent.n_acked > 0;
}

/* C-SES-27: bad_server_salt for the first ping (salt 0): resent under a new msg_id. */
static void s_salt_zero(struct fault_run *x) { x->r.cfg.behaviour.salt_zero = true; }
static bool c_resend_id(struct fault_run *x)
{
    ck_assert_uint_ge(x->sent.n, 2);
    ck_assert_uint_eq(x->sent.salt[0], 0);
    return x->sent.msg_id[1] != x->sent.msg_id[0];
}

/* C-TR-28: full transport, a wrong CRC32 on the server's first encrypted frame. */
static void s_bad_crc(struct fault_run *x)
{
    x->r.cfg.kind = MTP_TR_FULL;
    reinit_server(x, TS_BAD_CRC);
}
static bool c_bad_crc(struct fault_run *x) { return ended_with(x, MTP_ERR_TR_BAD_CRC); }

/* C-TR-30: the obfuscated init's bytes 4..7 are not all zero (zeros would
 * read as a full-transport frame with seq 0; the server cannot follow). */
static void s_obfuscated(struct fault_run *x)
{
    x->r.cfg.obfuscated = true;
    x->r.srv.tolerate_bad_stream = true;
}
static bool c_init(struct fault_run *x)
{
    const uint8_t *init = mtpc_obfs_init(x->r.c);
    ck_assert_ptr_nonnull(init);
    bool ok = mtp_load_u32(init + 4) != 0;
    ck_assert_int_eq(done(x), ok);
    return ok;
}

static const struct {
    enum mtpc_fault f;
    const char *what; /* the case, for failure messages */
    setup_fn setup;
    correct_fn correct;
} CASES[] = {
    {MTPC_FAULT_SKIP_DH_PRIME_CHECK, "dh_prime not safe", s_not_safe, c_not_safe},
    {MTPC_FAULT_SKIP_DH_PRIME_CHECK, "dh_prime of 2047 bits", s_2047_bits, c_2047_bits},
    {MTPC_FAULT_SKIP_G_CHECK, "g = 2, p mod 8 = 3", s_bad_g, c_bad_g},
    {MTPC_FAULT_SKIP_G_CHECK, "g = 8", s_g8, c_g8},
    {MTPC_FAULT_SKIP_G_A_RANGE, "g_a = 1", s_g_a_one, c_g_a_one},
    {MTPC_FAULT_SKIP_G_A_MARGIN, "g_a = 2^1984 - 1", s_g_a_margin, c_g_a_margin},
    {MTPC_FAULT_FIXED_B, "two exchanges", s_plain, c_fresh_b},
    {MTPC_FAULT_ACCEPT_WRONG_NONCE, "server_DH_inner_data.nonce", s_wrong_nonce, c_wrong_nonce},
    {MTPC_FAULT_SKIP_ANSWER_HASH, "answer_with_hash SHA1", s_answer_hash, c_answer_hash},
    {MTPC_FAULT_SKIP_NEW_NONCE_HASH, "new_nonce_hash1", s_dh_gen_hash, c_dh_gen_hash},
    {MTPC_FAULT_RETRY_ID_ZERO, "dh_gen_retry", s_retry, c_retry},
    {MTPC_FAULT_ACCEPT_BAD_PQ, "pq prime", s_prime_pq, c_prime_pq},
    {MTPC_FAULT_ACCEPT_BAD_PQ, "pq = p^2", s_square_pq, c_square_pq},
    {MTPC_FAULT_ACCEPT_BAD_PQ, "pq of 9 bytes", s_long_pq, c_long_pq},
    {MTPC_FAULT_ACCEPT_UNKNOWN_FINGERPRINT, "unknown fingerprint", s_unknown_fp, c_unknown_fp},
    {MTPC_FAULT_NO_RESTART_ON_404, "-404 during the exchange", s_404, c_404},
    {MTPC_FAULT_IGNORE_SERVER_TIME, "server_time an hour ahead", s_time_ahead, c_time_ahead},
    {MTPC_FAULT_SKIP_AUTH_KEY_ID_CHECK, "another auth_key_id", s_other_key_id, c_hostile},
    {MTPC_FAULT_SKIP_MSG_KEY_CHECK, "msg_key not the hash", s_fake_msg_key, c_hostile},
    {MTPC_FAULT_SKIP_LENGTH_CHECK, "message_data_length beyond", s_length_beyond, c_hostile},
    {MTPC_FAULT_SKIP_LENGTH_CHECK, "message_data_length negative", s_length_negative, c_hostile},
    {MTPC_FAULT_SKIP_LENGTH_CHECK, "message_data_length % 4", s_length_unaligned, c_hostile},
    {MTPC_FAULT_SKIP_PADDING_CHECK, "padding 4", s_padding_short, c_hostile},
    {MTPC_FAULT_SKIP_PADDING_CHECK, "padding 1044", s_padding_long, c_hostile},
    {MTPC_FAULT_ACCEPT_PLAIN_AFTER_KEY, "unencrypted after the key", s_plain_after_key, c_hostile},
    {MTPC_FAULT_SKIP_SESSION_ID_CHECK, "another session_id", s_wrong_session, c_hostile},
    {MTPC_FAULT_ACCEPT_EVEN_MSG_ID, "even msg_id", s_even_msg_id, c_hostile},
    {MTPC_FAULT_OWN_MSG_ID_NOT_MOD4, "own msg_ids", s_plain, c_own_ids},
    {MTPC_FAULT_ACCEPT_DUPLICATE_MSG_ID, "duplicate msg_id", s_duplicate, c_hostile},
    {MTPC_FAULT_SKIP_TIME_WINDOW, "msg_id 301 s old", s_too_old, c_hostile},
    {MTPC_FAULT_SKIP_TIME_WINDOW, "msg_id 31 s ahead", s_too_new, c_hostile},
    {MTPC_FAULT_SKIP_CONTAINER_ORDER, "container msg_id below its message's", s_container_order, c_hostile},
    {MTPC_FAULT_NO_ACKS, "acks", s_plain, c_acks},
    {MTPC_FAULT_RESEND_SAME_MSG_ID, "resend after bad_server_salt", s_salt_zero, c_resend_id},
    {MTPC_FAULT_SKIP_TRANSPORT_CRC, "full: bad CRC", s_bad_crc, c_bad_crc},
    {MTPC_FAULT_OBFS_INIT_ZERO, "obfuscated init", s_obfuscated, c_init},
    {MTPC_FAULT_SALT_FROM_DROPPED, "bad_server_salt of another session", s_salt_wrong_session, c_salt},
};
#define N_CASES (int)(sizeof CASES / sizeof CASES[0])

START_TEST(every_fault_has_a_case)
{
    for (unsigned f = 0; f < MTPC_FAULT_COUNT; f++) {
        bool found = false;
        for (int i = 0; i < N_CASES; i++)
            found = found || CASES[i].f == f;
        ck_assert_msg(found, "no case for fault %s", mtpc_fault_info((enum mtpc_fault)f)->name);
    }
}
END_TEST

/* _i = 2 * case + (fault on). */
START_TEST(fault_turns_its_check_off)
{
    int i = _i / 2;
    bool faulty = _i % 2 == 1;
    struct fault_run x;
    memset(&x, 0, sizeof x);
    run_setup(&x.r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    x.r.cfg.trace = log_sent;
    x.r.cfg.trace_ctx = &x.sent;
    if (faulty)
        x.r.cfg.faults = MTPC_FAULT_BIT(CASES[i].f);
    CASES[i].setup(&x);
    run_start(&x.r);
    bool correct = CASES[i].correct(&x);
    const struct mtpc_outcome *o = mtpc_outcome(x.r.c);
    ck_assert_msg(correct == !faulty, "%s (%s), fault %s: the client %s (state %d, %s: %s)", CASES[i].what,
                  mtpc_fault_info(CASES[i].f)->requirement, faulty ? "on" : "off",
                  correct ? "still did what the check demands" : "did not do what the check demands",
                  (int)mtpc_state(x.r.c), mtp_err_name(o->error), o->error_msg);
    run_free(&x.r);
}
END_TEST

START_TEST(no_fault_is_the_correct_client)
{
    /* Without faults every machine gets exactly its correct configuration. */
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    run_start(&r);
    done_ok(&r);
    struct mtp_session *s = mtpc_session(r.c);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->cfg.client_faults, 0);
    ck_assert(s->cfg.client_time_check);
    run_free(&r);
}
END_TEST

static Suite *mtpc_fault_suite(void)
{
    Suite *s = suite_create("mtpc_fault");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, every_fault_has_a_name_a_requirement_and_a_description);
    tcase_add_test(tc, every_fault_has_a_case);
    suite_add_tcase(s, tc);
    tc = tcase_create("behaviour");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, fault_turns_its_check_off, 0, 2 * N_CASES);
    tcase_add_test(tc, no_fault_is_the_correct_client);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtpc_fault_suite)
