/* The TL objects of the auth-key exchange: every published message and inner
 * object of core.telegram.org/mtproto/samples-auth_key decodes to the
 * published values and encodes back to the same bytes; malformed input fails
 * with a named field and consumes nothing. */
#include <string.h>

#include "mtp/auth_tl.h"
#include "mtp_auth_testutil.h"
#include "mtp_test.h"

static const char *const examples[] = {"new", "old"};

typedef int (*read_fn)(struct mtp_rd *r, void *obj);
typedef int (*write_fn)(struct mtp_wr *w, const void *obj);

static int rd_req_pq(struct mtp_rd *r, void *o) { return mtp_auth_tl_read_req_pq(r, o); }
static int rd_res_pq(struct mtp_rd *r, void *o) { return mtp_auth_tl_read_res_pq(r, o); }
static int rd_pq_inner(struct mtp_rd *r, void *o) { return mtp_auth_tl_read_pq_inner(r, o); }
static int rd_req_dh(struct mtp_rd *r, void *o) { return mtp_auth_tl_read_req_dh_params(r, o); }
static int rd_server_dh(struct mtp_rd *r, void *o) { return mtp_auth_tl_read_server_dh_params(r, o); }
static int rd_server_inner(struct mtp_rd *r, void *o) { return mtp_auth_tl_read_server_inner(r, o); }
static int rd_set_dh(struct mtp_rd *r, void *o) { return mtp_auth_tl_read_set_client_dh(r, o); }
static int rd_client_inner(struct mtp_rd *r, void *o) { return mtp_auth_tl_read_client_inner(r, o); }
static int rd_dh_gen(struct mtp_rd *r, void *o) { return mtp_auth_tl_read_dh_gen(r, o); }
static int wr_req_pq(struct mtp_wr *w, const void *o) { return mtp_auth_tl_write_req_pq(w, o); }
static int wr_res_pq(struct mtp_wr *w, const void *o) { return mtp_auth_tl_write_res_pq(w, o); }
static int wr_pq_inner(struct mtp_wr *w, const void *o) { return mtp_auth_tl_write_pq_inner(w, o); }
static int wr_req_dh(struct mtp_wr *w, const void *o) { return mtp_auth_tl_write_req_dh_params(w, o); }
static int wr_server_dh(struct mtp_wr *w, const void *o) { return mtp_auth_tl_write_server_dh_params(w, o); }
static int wr_server_inner(struct mtp_wr *w, const void *o) { return mtp_auth_tl_write_server_inner(w, o); }
static int wr_set_dh(struct mtp_wr *w, const void *o) { return mtp_auth_tl_write_set_client_dh(w, o); }
static int wr_client_inner(struct mtp_wr *w, const void *o) { return mtp_auth_tl_write_client_inner(w, o); }
static int wr_dh_gen(struct mtp_wr *w, const void *o) { return mtp_auth_tl_write_dh_gen(w, o); }

union any_obj {
    struct mtp_auth_req_pq req_pq;
    struct mtp_auth_res_pq res_pq;
    struct mtp_auth_pq_inner pq_inner;
    struct mtp_auth_req_dh_params req_dh;
    struct mtp_auth_server_dh_params server_dh;
    struct mtp_auth_server_inner server_inner;
    struct mtp_auth_set_client_dh set_dh;
    struct mtp_auth_client_inner client_inner;
    struct mtp_auth_dh_gen dh_gen;
};

/* Decodes exactly len bytes, re-encodes them identically, and checks that
 * every shorter prefix fails without consuming anything. */
static void roundtrip(const uint8_t *in, size_t len, read_fn rd, write_fn wr, union any_obj *obj)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd r;
    mtp_rd_init(&r, in, len, &err);
    ck_assert_msg(rd(&r, obj) == MTP_OK, "%s", err.msg);
    ck_assert_uint_eq(r.pos, len);
    uint8_t buf[MTP_AUTH_BODY_MAX];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(wr(&w, obj));
    ck_assert_uint_eq(w.len, len);
    ck_assert_mem_eq(buf, in, len);
    for (size_t cut = 0; cut < len; cut++) {
        union any_obj scratch;
        mtp_error_clear(&err);
        mtp_rd_init(&r, in, cut, &err);
        int rc = rd(&r, &scratch);
        ck_assert_msg(rc < 0, "a %zu-byte prefix of %zu decoded", cut, len);
        ck_assert_uint_eq(r.pos, 0);
        ck_assert_int_eq(err.code, rc);
    }
}

START_TEST(published_messages)
{
    for (int i = 0; i < 2; i++) {
        const char *ex = examples[i];
        union any_obj o;
        size_t len, n;

        const uint8_t *m = sample_body(ex, "client_messages", "req_pq", &len);
        roundtrip(m, len, rd_req_pq, wr_req_pq, &o);
        ck_assert_int_eq(o.req_pq.multi, i == 0);
        ck_assert_hex_eq(o.req_pq.nonce, 16, sample_hex(ex, "client_random", "nonce"));

        m = sample_body(ex, "server_messages", "resPQ", &len);
        roundtrip(m, len, rd_res_pq, wr_res_pq, &o);
        ck_assert_hex_eq(o.res_pq.server_nonce, 16, sample_hex(ex, "server_random", "server_nonce"));
        ck_assert_hex_eq(o.res_pq.pq.p, o.res_pq.pq.len, sample_hex(ex, "values", "pq"));
        ck_assert_uint_eq(o.res_pq.n_fingerprints, i == 0 ? 3 : 1);
        bool listed = false;
        for (uint32_t k = 0; k < o.res_pq.n_fingerprints; k++)
            listed |=
                memcmp(o.res_pq.fingerprints[k], sample_bytes(ex, "values", "public_key_fingerprint", NULL), 8) == 0;
        ck_assert(listed);

        m = sample_bytes(ex, "values", "inner_data", &len);
        roundtrip(m, len, rd_pq_inner, wr_pq_inner, &o);
        ck_assert_int_eq(o.pq_inner.form, i == 0 ? MTP_AUTH_INNER_DC : MTP_AUTH_INNER_PLAIN);
        ck_assert_int_eq(o.pq_inner.dc, i == 0 ? 2 : 0);
        ck_assert_hex_eq(o.pq_inner.p.p, o.pq_inner.p.len, sample_hex(ex, "values", "p"));
        ck_assert_hex_eq(o.pq_inner.q.p, o.pq_inner.q.len, sample_hex(ex, "values", "q"));
        ck_assert_hex_eq(o.pq_inner.new_nonce, 32, sample_hex(ex, "client_random", "new_nonce"));

        m = sample_body(ex, "client_messages", "req_DH_params", &len);
        roundtrip(m, len, rd_req_dh, wr_req_dh, &o);
        ck_assert_hex_eq(o.req_dh.fingerprint, 8, sample_hex(ex, "values", "public_key_fingerprint"));
        ck_assert_hex_eq(o.req_dh.encrypted_data.p, o.req_dh.encrypted_data.len,
                         sample_hex(ex, "values", "encrypted_data"));

        m = sample_body(ex, "server_messages", "server_DH_params_ok", &len);
        roundtrip(m, len, rd_server_dh, wr_server_dh, &o);
        ck_assert(o.server_dh.ok);
        ck_assert_uint_eq(o.server_dh.encrypted_answer.len, 592);

        /* answer_with_hash = SHA1 + server_DH_inner_data (answer_len bytes) + padding */
        m = sample_bytes(ex, "values", "answer_with_hash", &n);
        len = (size_t)sample_int(ex, "answer_len");
        roundtrip(m + 20, len, rd_server_inner, wr_server_inner, &o);
        ck_assert_int_eq(o.server_inner.g, sample_int(ex, "g"));
        ck_assert_int_eq(o.server_inner.server_time, sample_int(ex, "server_time"));
        ck_assert_hex_eq(o.server_inner.dh_prime.p, o.server_inner.dh_prime.len, sample_hex(ex, "values", "dh_prime"));
        ck_assert_hex_eq(o.server_inner.g_a.p, o.server_inner.g_a.len, sample_hex(ex, "values", "g_a"));

        m = sample_body(ex, "client_messages", "set_client_DH_params", &len);
        roundtrip(m, len, rd_set_dh, wr_set_dh, &o);
        ck_assert_hex_eq(o.set_dh.encrypted_data.p, o.set_dh.encrypted_data.len,
                         sample_hex(ex, "values", "client_encrypted_data"));

        m = sample_bytes(ex, "values", "client_dh_inner_data", &len);
        roundtrip(m, len, rd_client_inner, wr_client_inner, &o);
        ck_assert_hex_eq(o.client_inner.retry_id, 8, "0000000000000000");
        ck_assert_hex_eq(o.client_inner.g_b.p, o.client_inner.g_b.len, sample_hex(ex, "values", "g_b"));

        m = sample_body(ex, "server_messages", "dh_gen_ok", &len);
        roundtrip(m, len, rd_dh_gen, wr_dh_gen, &o);
        ck_assert_int_eq(o.dh_gen.number, 1);
        ck_assert_hex_eq(o.dh_gen.new_nonce_hash, 16, sample_hex(ex, "values", "new_nonce_hash1"));
    }
}
END_TEST

START_TEST(every_form_roundtrips)
{
    static const uint8_t pq[] = {0x17, 0xed, 0x48, 0x94, 0x1a, 0x08, 0xf9, 0x81};
    static const uint8_t p[] = {0x49, 0x4c, 0x55, 0x3b}, q[] = {0x53, 0x91, 0x10, 0x73};
    for (int f = MTP_AUTH_INNER_DC; f <= MTP_AUTH_INNER_TEMP; f++) {
        struct mtp_auth_pq_inner in = {.form = (enum mtp_auth_inner_form)f,
                                       .pq = {pq, 8},
                                       .p = {p, 4},
                                       .q = {q, 4},
                                       .dc = -10002,
                                       .expires_in = 3600};
        memset(in.nonce, 0x11, 16);
        memset(in.server_nonce, 0x22, 16);
        memset(in.new_nonce, 0x33, 32);
        if (!mtp_auth_inner_form_has_dc(in.form))
            in.dc = 0;
        if (!mtp_auth_inner_form_is_temp(in.form))
            in.expires_in = 0;
        uint8_t buf[256];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
        ck_assert_ok(mtp_auth_tl_write_pq_inner(&w, &in));
        ck_assert_uint_eq(w.len, 96u + (in.dc ? 4 : 0) + (in.expires_in ? 4 : 0));
        union any_obj o;
        roundtrip(buf, w.len, rd_pq_inner, wr_pq_inner, &o);
        ck_assert_int_eq(o.pq_inner.form, f);
        ck_assert_int_eq(o.pq_inner.dc, in.dc);
        ck_assert_int_eq(o.pq_inner.expires_in, in.expires_in);
        ck_assert_str_eq(mtp_auth_tl_name(mtp_load_u32(buf)), mtp_auth_inner_form_name(in.form));
    }
    ck_assert_str_eq(mtp_auth_inner_form_name(MTP_AUTH_INNER_TEMP_DC), "p_q_inner_data_temp_dc");
    ck_assert_str_eq(mtp_auth_inner_form_name((enum mtp_auth_inner_form)7), "unknown p_q_inner_data form");
    ck_assert(!mtp_auth_inner_form_has_dc((enum mtp_auth_inner_form)7));

    for (int number = 1; number <= 3; number++) {
        struct mtp_auth_dh_gen dg = {.number = number};
        memset(dg.new_nonce_hash, number, 16);
        uint8_t buf[64];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
        ck_assert_ok(mtp_auth_tl_write_dh_gen(&w, &dg));
        ck_assert_uint_eq(mtp_load_u32(buf), mtp_auth_dh_gen_id(number));
        union any_obj o;
        roundtrip(buf, w.len, rd_dh_gen, wr_dh_gen, &o);
        ck_assert_int_eq(o.dh_gen.number, number);
    }
    struct mtp_auth_server_dh_params fail = {.ok = false};
    memset(fail.new_nonce_hash, 0x44, 16);
    uint8_t buf[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_auth_tl_write_server_dh_params(&w, &fail));
    ck_assert_uint_eq(w.len, 52);
    union any_obj o;
    roundtrip(buf, w.len, rd_server_dh, wr_server_dh, &o);
    ck_assert(!o.server_dh.ok);
    ck_assert_str_eq(mtp_auth_tl_name(MTP_AUTH_ID_SERVER_DH_PARAMS_FAIL), "server_DH_params_fail");
}
END_TEST

START_TEST(malformed_and_limits)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    size_t len;
    const uint8_t *dh_gen = sample_body("new", "server_messages", "dh_gen_ok", &len);
    struct mtp_rd r;
    mtp_rd_init(&r, dh_gen, len, &err);
    struct mtp_auth_res_pq rp;
    ck_assert_rc(mtp_auth_tl_read_res_pq(&r, &rp), MTP_ERR_TL_BAD_CTOR);
    ck_assert_uint_eq(r.pos, 0);
    mtp_error_clear(&err);
    struct mtp_auth_server_dh_params sp;
    ck_assert_rc(mtp_auth_tl_read_server_dh_params(&r, &sp), MTP_ERR_TL_BAD_CTOR);
    ck_assert_str_eq(err.msg, "expected server_DH_params_ok#d0e8075c or server_DH_params_fail#79cb045d: found "
                              "#3bcbf734 (dh_gen_ok) at offset 0");
    mtp_error_clear(&err);
    static const uint8_t unknown[] = {1, 2, 3, 4};
    mtp_rd_init(&r, unknown, 4, &err);
    struct mtp_auth_dh_gen dg;
    ck_assert_rc(mtp_auth_tl_read_dh_gen(&r, &dg), MTP_ERR_TL_BAD_CTOR);
    ck_assert_str_eq(err.msg, "expected dh_gen_ok#3bcbf734, dh_gen_retry#46dc1fb9 or dh_gen_fail#a69dae02: found "
                              "#04030201 at offset 0");
    ck_assert_ptr_null(mtp_auth_tl_name(0x04030201));

    /* 33 fingerprints are more than a resPQ may carry here */
    uint8_t buf[64 + 33 * 8];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    struct mtp_auth_res_pq big = {.n_fingerprints = 33};
    ck_assert_rc(mtp_auth_tl_write_res_pq(&w, &big), MTP_ERR_ARG);
    big.n_fingerprints = 32;
    ck_assert_ok(mtp_auth_tl_write_res_pq(&w, &big));
    ck_assert_uint_eq(w.len, 4 + 32 + 4 + 8 + 32 * 8);
    ck_assert_ok(mtp_wr_patch_u32(&w, 44, 33));
    ck_assert_ok(mtp_wr_zero(&w, 8));
    mtp_error_clear(&err);
    mtp_rd_init(&r, buf, w.len, &err);
    ck_assert_rc(mtp_auth_tl_read_res_pq(&r, &rp), MTP_ERR_LIMIT);
    ck_assert_str_eq(err.msg, "resPQ.server_public_key_fingerprints: 33 entries, at most 32 handled");
    ck_assert_uint_eq(r.pos, 0);
    /* a count beyond the bytes present */
    ck_assert_ok(mtp_wr_patch_u32(&w, 44, 1000));
    mtp_error_clear(&err);
    mtp_rd_init(&r, buf, w.len, &err);
    ck_assert_rc(mtp_auth_tl_read_res_pq(&r, &rp), MTP_ERR_TL_BAD_COUNT);

    struct mtp_auth_dh_gen bad = {.number = 4};
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_rc(mtp_auth_tl_write_dh_gen(&w, &bad), MTP_ERR_ARG);
    ck_assert_uint_eq(mtp_auth_dh_gen_id(0), 0);
    struct mtp_auth_pq_inner bad_form = {.form = (enum mtp_auth_inner_form)9};
    ck_assert_rc(mtp_auth_tl_write_pq_inner(&w, &bad_form), MTP_ERR_ARG);
    ck_assert_uint_eq(w.len, 0);
}
END_TEST

static Suite *auth_tl_suite(void)
{
    Suite *s = suite_create("auth_tl");
    TCase *t = tcase_create("objects");
    tcase_add_checked_fixture(t, auth_test_setup, auth_test_teardown);
    tcase_add_test(t, published_messages);
    tcase_add_test(t, every_form_roundtrips);
    tcase_add_test(t, malformed_and_limits);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(auth_tl_suite)
