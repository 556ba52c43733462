/* What the machines share: the unencrypted envelope and msg_ids (against the
 * published messages), the names of the corruption points, and sealing and
 * opening the AES-encrypted inner data. */
#include <string.h>

#include "auth/mtp_auth_internal.h"
#include "mtp/auth.h"
#include "mtp/authcrypt.h"
#include "mtp_auth_testutil.h"
#include "mtp_test.h"

static const char *const client_msgs[] = {"req_pq", "req_DH_params", "set_client_DH_params"};
static const char *const server_msgs[] = {"resPQ", "server_DH_params_ok", "dh_gen_ok"};

START_TEST(published_envelopes)
{
    static const char *const examples[] = {"new", "old"};
    for (int e = 0; e < 2; e++) {
        for (int i = 0; i < 6; i++) {
            bool server = i >= 3;
            const char *msg = server ? server_msgs[i - 3] : client_msgs[i];
            size_t len;
            const uint8_t *m = sample_bytes(examples[e], server ? "server_messages" : "client_messages", msg, &len);
            struct mtp_auth_plain plain;
            ck_assert_ok(mtp_auth_plain_unwrap(m, len, &plain, NULL));
            ck_assert_uint_eq(plain.body_len + MTP_AUTH_PLAIN_HEADER_LEN, len);
            ck_assert_ptr_eq(plain.body, m + 20);
            /* The old example's client msg_ids (...4a, ...27, ...6d) are not
             * divisible by 4, as today's description page requires. */
            bool old_client = e == 1 && !server;
            ck_assert_rc(mtp_auth_msg_id_check(plain.msg_id, server, NULL), old_client ? MTP_ERR_AUTH_MSG_ID : MTP_OK);
            if (!old_client)
                ck_assert_rc(mtp_auth_msg_id_check(plain.msg_id, !server, NULL), MTP_ERR_AUTH_MSG_ID);
            uint8_t buf[MTP_AUTH_BODY_MAX];
            struct mtp_wr w;
            mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
            ck_assert_ok(mtp_auth_plain_wrap(&w, plain.msg_id, plain.body, plain.body_len));
            ck_assert_uint_eq(w.len, len);
            ck_assert_mem_eq(buf, m, len);
        }
    }
    /* the new example's req_pq_multi: msg_id 0x6777e5eb00059760, 20 bytes of body */
    size_t len;
    const uint8_t *m = sample_bytes("new", "client_messages", "req_pq", &len);
    struct mtp_auth_plain plain;
    ck_assert_ok(mtp_auth_plain_unwrap(m, len, &plain, NULL));
    ck_assert_int_eq(plain.msg_id, INT64_C(0x6777e5eb00059760));
    ck_assert_uint_eq(plain.body_len, 20);
}
END_TEST

START_TEST(envelope_rejections)
{
    size_t len;
    const uint8_t *m = sample_bytes("new", "server_messages", "resPQ", &len);
    uint8_t buf[MTP_AUTH_BODY_MAX];
    memcpy(buf, m, len);
    struct mtp_auth_plain plain;
    struct mtp_error err;

    buf[3] = 1;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_plain_unwrap(buf, len, &plain, &err), MTP_ERR_AUTH_NOT_PLAIN);
    ck_assert_str_eq(err.msg, "unencrypted message.auth_key_id: 0000000001000000, not 0");
    buf[3] = 0;

    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_plain_unwrap(buf, len - 1, &plain, &err), MTP_ERR_AUTH_PLAIN_LENGTH);
    ck_assert_str_eq(err.msg, "unencrypted message.message_data_length: 80, but 79 bytes follow");
    ck_assert_uint_eq(err.offset, 16);
    buf[len] = 0;
    ck_assert_rc(mtp_auth_plain_unwrap(buf, len + 1, &plain, NULL), MTP_ERR_AUTH_PLAIN_LENGTH);
    buf[19] = 0x80; /* 2^31 + 80 */
    ck_assert_rc(mtp_auth_plain_unwrap(buf, len, &plain, NULL), MTP_ERR_AUTH_PLAIN_LENGTH);
    for (size_t cut = 0; cut < MTP_AUTH_PLAIN_HEADER_LEN; cut++)
        ck_assert_rc(mtp_auth_plain_unwrap(m, cut, &plain, NULL), MTP_ERR_SHORT);

    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_msg_id_check(0, true, &err), MTP_ERR_AUTH_MSG_ID);
    ck_assert_str_eq(err.msg, "unencrypted message.msg_id: 0");
    ck_assert_ok(mtp_auth_msg_id_check(INT64_C(0x6777e5eb00000003), true, NULL));
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_msg_id_check(INT64_C(0x6777e5eb00000002), true, &err), MTP_ERR_AUTH_MSG_ID);
    ck_assert_str_eq(err.msg, "unencrypted message.msg_id: 6777e5eb00000002 from the server is 2 mod 4");
    ck_assert_rc(mtp_auth_msg_id_check(INT64_C(0x6777e5eb00000002), false, NULL), MTP_ERR_AUTH_MSG_ID);

    /* a body that cannot have a 32-bit length */
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, 8, NULL);
    ck_assert_rc(mtp_auth_plain_wrap(&w, 4, buf, (size_t)INT32_MAX + 1), MTP_ERR_ARG);
    ck_assert_rc(mtp_auth_plain_wrap(&w, 4, buf, 4), MTP_ERR_OVERFLOW);
}
END_TEST

START_TEST(msg_ids_from_the_clock)
{
    struct mtp_script_state st;
    struct mtp_env env = mtp_env_scripted(&st, NULL, 0, INT64_C(1735910891500));
    struct mtp_msgid_gen client, server;
    mtp_msgid_gen_init(&client);
    mtp_msgid_gen_init(&server);
    static const uint8_t body[] = {1, 2, 3, 4};
    uint8_t buf[64];
    struct mtp_wr w;
    struct mtp_auth_plain plain;
    /* 1735910891.5 s: the high half is the second, the low half half of 2^32 */
    static const int64_t want[] = {INT64_C(0x6777e5eb80000000), INT64_C(0x6777e5eb80000004),
                                   INT64_C(0x6777e5eb80000001), INT64_C(0x6777e5eb80000005)};
    for (int i = 0; i < 4; i++) {
        bool from_server = i >= 2;
        mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
        ck_assert_ok(mtp_auth_plain_wrap_next(&w, from_server ? &server : &client, &env, from_server, body, 4));
        ck_assert_ok(mtp_auth_plain_unwrap(buf, w.len, &plain, NULL));
        ck_assert_int_eq(plain.msg_id, want[i]);
        ck_assert_ok(mtp_auth_msg_id_check(plain.msg_id, from_server, NULL));
        ck_assert_uint_eq(plain.body_len, 4);
    }
    /* the offset a client takes from server_time moves its ids */
    mtp_msgid_sync_seconds(&client, mtp_env_now_ms(&env), 1735910892);
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_auth_plain_wrap_next(&w, &client, &env, false, body, 4));
    ck_assert_ok(mtp_auth_plain_unwrap(buf, w.len, &plain, NULL));
    ck_assert_int_eq(plain.msg_id, INT64_C(0x6777e5ec00000004)); /* the first id of a second is bumped past 0 */
    mtp_wr_init_fixed(&w, buf, 8, NULL);
    ck_assert_rc(mtp_auth_plain_wrap_next(&w, &client, &env, false, body, 4), MTP_ERR_OVERFLOW);
}
END_TEST

START_TEST(corruption_point_names)
{
    int servers = 0;
    for (int i = 0; i < MTP_AUTH_X_COUNT; i++) {
        const char *name = mtp_auth_corrupt_name((enum mtp_auth_corrupt)i);
        ck_assert_ptr_nonnull(name);
        ck_assert_int_eq(mtp_auth_corrupt_from_name(name), i);
        servers += mtp_auth_corrupt_is_server((enum mtp_auth_corrupt)i);
    }
    ck_assert_int_eq(servers, MTP_AUTH_X_REQ_DH_NONCE);
    ck_assert_str_eq(mtp_auth_corrupt_name(MTP_AUTH_X_RES_PQ_NONCE), "resPQ.nonce");
    ck_assert_str_eq(mtp_auth_corrupt_name(MTP_AUTH_X_DH_GEN_HASH), "dh_gen.new_nonce_hash");
    ck_assert_int_eq(mtp_auth_corrupt_from_name("client_DH_inner_data.retry_id"), MTP_AUTH_X_CLIENT_INNER_RETRY_ID);
    ck_assert_int_eq(mtp_auth_corrupt_from_name("resPQ.pq"), -1);
    ck_assert_ptr_null(mtp_auth_corrupt_name(MTP_AUTH_X_COUNT));
    ck_assert(!mtp_auth_corrupt_is_server(MTP_AUTH_X_COUNT));
    ck_assert_str_eq(mtp_auth_rsa_scheme_name(MTP_AUTH_RSA_PAD), "RSA_PAD");
    ck_assert_str_eq(mtp_auth_rsa_scheme_name((enum mtp_auth_rsa_scheme)5), "unknown RSA scheme");
    ck_assert_str_eq(mtp_err_name(MTP_ERR_AUTH_NONCE), "auth_nonce_mismatch");
}
END_TEST

static int parse_dh_gen(struct mtp_rd *r, void *obj) { return mtp_auth_tl_read_dh_gen(r, obj); }

START_TEST(seal_and_open)
{
    const uint8_t *key = sample_bytes("new", "values", "tmp_aes_key", NULL);
    const uint8_t *iv = sample_bytes("new", "values", "tmp_aes_iv", NULL);
    size_t obj_len;
    const uint8_t *obj = sample_body("new", "server_messages", "dh_gen_ok", &obj_len); /* any TL object: 52 bytes */
    struct mtp_det_state det;
    struct mtp_env env = mtp_env_deterministic(&det, "seal", 4, 0);
    uint8_t sealed[MTP_AUTH_INNER_BUF], buf[MTP_AUTH_INNER_BUF];
    size_t len;
    struct mtp_auth_dh_gen dg;
    struct mtp_error err;

    /* 20 + 52 = 72 -> 80 bytes: 8 of padding */
    ck_assert_ok(mtp_auth_seal(&env, key, iv, obj, obj_len, false, false, sealed, sizeof sealed, &len, NULL));
    ck_assert_uint_eq(len, 80);
    ck_assert_ok(mtp_auth_open(key, iv, sealed, len, buf, sizeof buf, parse_dh_gen, &dg, "x", NULL));
    ck_assert_int_eq(dg.number, 1);
    uint8_t h[20];
    mtp_authcrypt_sha1(obj, obj_len, h);
    ck_assert_mem_eq(buf, h, 20);

    ck_assert_ok(mtp_auth_seal(&env, key, iv, obj, obj_len, true, false, sealed, sizeof sealed, &len, NULL));
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_open(key, iv, sealed, len, buf, sizeof buf, parse_dh_gen, &dg, "x.data", &err),
                 MTP_ERR_INNER_HASH);
    ck_assert_str_eq(err.msg, "x.data: inner data: SHA1 of the 52-byte object differs from the hash in front of it");

    ck_assert_ok(mtp_auth_seal(&env, key, iv, obj, obj_len, false, true, sealed, sizeof sealed, &len, NULL));
    ck_assert_uint_eq(len, 96);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_open(key, iv, sealed, len, buf, sizeof buf, parse_dh_gen, &dg, "x.data", &err),
                 MTP_ERR_INNER_BAD_PADDING);
    ck_assert_str_eq(err.msg, "x.data: inner data: 24 padding bytes after the object, at most 15 allowed");

    /* not authentic and not parsable: the hash is the reason */
    uint8_t garbage[64];
    memset(garbage, 0x5a, sizeof garbage);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_open(key, iv, garbage, sizeof garbage, buf, sizeof buf, parse_dh_gen, &dg, "x.data", &err),
                 MTP_ERR_INNER_HASH);
    ck_assert_str_eq(err.msg, "x.data: the SHA1 in front of the decrypted data matches none of the lengths it may "
                              "have (29..44 bytes)");
    /* authentic but not the object expected: the parse error is the reason */
    ck_assert_ok(mtp_auth_seal(&env, key, iv, obj + 4, obj_len - 4, false, false, sealed, sizeof sealed, &len, NULL));
    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_open(key, iv, sealed, len, buf, sizeof buf, parse_dh_gen, &dg, "x.data", &err),
                 MTP_ERR_TL_BAD_CTOR);
    ck_assert_uint_eq(err.offset, 20);
    ck_assert_str_eq(err.msg, "x.data (authentic, malformed): expected dh_gen_ok#3bcbf734, dh_gen_retry#46dc1fb9 or "
                              "dh_gen_fail#a69dae02: found #b5aff079 at offset 20");

    mtp_error_clear(&err);
    ck_assert_rc(mtp_auth_open(key, iv, garbage, 40, buf, sizeof buf, parse_dh_gen, &dg, "x.data", &err),
                 MTP_ERR_INNER_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "x.data: encrypted inner data: 40 bytes, want a multiple of 16 in 32..1024");
    ck_assert_rc(mtp_auth_seal(&env, key, iv, obj, obj_len, true, false, sealed, 64, &len, NULL), MTP_ERR_OVERFLOW);

    /* no randomness left: the padding cannot be drawn */
    struct mtp_script_state st;
    struct mtp_env empty = mtp_env_scripted(&st, NULL, 0, 0);
    ck_assert_rc(mtp_auth_seal(&empty, key, iv, obj, obj_len, true, false, sealed, sizeof sealed, &len, NULL),
                 MTP_ERR_LIMIT);
    ck_assert_rc(mtp_auth_seal(&empty, key, iv, obj, obj_len, false, false, sealed, sizeof sealed, &len, NULL),
                 MTP_ERR_LIMIT);
}
END_TEST

static Suite *auth_msg_suite(void)
{
    Suite *s = suite_create("auth_msg");
    TCase *t = tcase_create("envelope");
    tcase_add_checked_fixture(t, auth_test_setup, auth_test_teardown);
    tcase_add_test(t, published_envelopes);
    tcase_add_test(t, envelope_rejections);
    tcase_add_test(t, msg_ids_from_the_clock);
    suite_add_tcase(s, t);
    t = tcase_create("shared");
    tcase_add_checked_fixture(t, auth_test_setup, auth_test_teardown);
    tcase_add_test(t, corruption_point_names);
    tcase_add_test(t, seal_and_open);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(auth_msg_suite)
