/* auth.bindTempAuthKey's binding message: exact bytes of the client's
 * request, the round trip, and every rejection of mtp_bind_check by its code. */
#include <string.h>

#include "mtp/auth_bind.h"
#include "mtp/env.h"
#include "mtp/msgcrypt_v1.h"
#include "mtp_test.h"

/* perm key 00 01 .. ff (auth_key_id 32d1586ea457dfc8 = 0xc8df57a46e58d132),
 * msg_id 0x6600000012345678, random prefix 40..4f, padding 8 x ee.  Expected
 * bytes from the MTProto 1.0 formulas in Python with Telethon's pure-Python
 * AES-IGE (the functions of vectors/gen/gen_msgcrypt_v1_telethon.py). */
#define PERM_ID 0xc8df57a46e58d132ull
#define MSG_ID 0x6600000012345678ull
#define NONCE 0x0102030405060708ull
#define TEMP_ID 0x1112131415161718ull
#define SESSION 0x2122232425262728ull
#define EXPIRES 1700086400
#define ENCRYPTED                                                                                                      \
    "32d1586ea457dfc8db0251e33a629ef1e662bc05cc563275c49e5310d32ee1c1794900824c6c040fe634877973e252c4009e8b3887623610" \
    "fca648a1b11f6818298c2115f0d49188d0fe8e7161c91c250045e3f457b81e4e3edd05e87ff46601907be5a67d150b24"
#define REQUEST                                                                                                        \
    "052ad4cd32d1586ea457dfc80807060504030201804255656832d1586ea457dfc8db0251e33a629ef1e662bc05cc563275c49e5310d32ee1" \
    "c1794900824c6c040fe634877973e252c4009e8b3887623610fca648a1b11f6818298c2115f0d49188d0fe8e7161c91c250045e3f457b81e" \
    "4e3edd05e87ff46601907be5a67d150b24000000"

static uint8_t perm[MTP_AUTH_KEY_LEN];

static void setup(void)
{
    for (size_t i = 0; i < sizeof perm; i++)
        perm[i] = (uint8_t)i;
}

static const struct mtp_bind_inner INNER = {NONCE, TEMP_ID, PERM_ID, SESSION, EXPIRES};
static const struct mtp_bind_expect WANT = {MSG_ID, NONCE, TEMP_ID, PERM_ID, SESSION, EXPIRES};

static struct mtp_env scripted(struct mtp_script_state *ss, uint8_t bytes[24])
{
    for (int i = 0; i < 16; i++)
        bytes[i] = (uint8_t)(0x40 + i);
    memset(bytes + 16, 0xee, 8);
    return mtp_env_scripted(ss, bytes, 24, 0);
}

START_TEST(known_request_bytes)
{
    struct mtp_script_state ss;
    uint8_t rnd[24];
    struct mtp_env env = scripted(&ss, rnd);
    uint8_t enc[MTP_BIND_ENCRYPTED_LEN], req[200];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, enc, sizeof enc, NULL);
    ck_assert_ok(mtp_bind_encrypt(perm, MSG_ID, &INNER, &env, &w, NULL));
    ck_assert_uint_eq(w.len, MTP_BIND_ENCRYPTED_LEN);
    ck_assert_hex_eq(enc, w.len, ENCRYPTED);
    mtp_wr_init_fixed(&w, req, sizeof req, NULL);
    ck_assert_ok(mtp_bind_write_request(&w, PERM_ID, NONCE, EXPIRES, enc, sizeof enc));
    ck_assert_uint_eq(w.len, 132);
    ck_assert_hex_eq(req, w.len, REQUEST);
    ck_assert_mem_eq(req + MTP_BIND_REQUEST_ENCRYPTED_AT, enc, sizeof enc);
}
END_TEST

START_TEST(round_trip_and_fields)
{
    size_t n;
    const uint8_t *enc = mtp_test_hex(ENCRYPTED, &n);
    struct mtp_bind_inner got;
    memset(&got, 0, sizeof got);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_bind_check(perm, enc, n, &WANT, &got, &err));
    ck_assert_uint_eq(got.nonce, NONCE);
    ck_assert_uint_eq(got.temp_auth_key_id, TEMP_ID);
    ck_assert_uint_eq(got.perm_auth_key_id, PERM_ID);
    ck_assert_uint_eq(got.temp_session_id, SESSION);
    ck_assert_int_eq(got.expires_at, EXPIRES);
    /* a random env gives other bytes that check all the same */
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "bind", 4, 0);
    uint8_t buf[MTP_BIND_ENCRYPTED_LEN];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_bind_encrypt(perm, MSG_ID, &INNER, &env, &w, NULL));
    ck_assert(memcmp(buf, enc, n) != 0);
    ck_assert_ok(mtp_bind_check(perm, buf, w.len, &WANT, NULL, NULL));
}
END_TEST

/* A binding message from a crafted plaintext: header fields and inner as given. */
static size_t craft(uint8_t *out, size_t cap, uint64_t msg_id, uint32_t seqno, uint32_t length, uint32_t ctor,
                    const struct mtp_bind_inner *in, size_t pad)
{
    uint8_t plain[256];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, plain, sizeof plain, NULL);
    ck_assert_ok(mtp_wr_zero(&w, 16));
    ck_assert_ok(mtp_wr_u64(&w, msg_id));
    ck_assert_ok(mtp_wr_u32(&w, seqno));
    ck_assert_ok(mtp_wr_u32(&w, length));
    ck_assert_ok(mtp_wr_u32(&w, ctor));
    ck_assert_ok(mtp_wr_u64(&w, in->nonce));
    ck_assert_ok(mtp_wr_u64(&w, in->temp_auth_key_id));
    ck_assert_ok(mtp_wr_u64(&w, in->perm_auth_key_id));
    ck_assert_ok(mtp_wr_u64(&w, in->temp_session_id));
    ck_assert_ok(mtp_wr_i32(&w, in->expires_at));
    ck_assert_ok(mtp_wr_zero(&w, pad));
    struct mtp_wr o;
    mtp_wr_init_fixed(&o, out, cap, NULL);
    ck_assert_ok(mtp_msg_v1_encrypt(perm, MTP_SENDER_CLIENT, plain, w.len, &o, NULL));
    return o.len;
}

static void expect(const uint8_t *enc, size_t n, int code, size_t offset, const char *msg)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtp_bind_check(perm, enc, n, &WANT, NULL, &err);
    ck_assert_msg(rc == code, "got %s (%s), want %s", mtp_err_name(rc), err.msg, mtp_err_name(code));
    ck_assert_int_eq(err.code, code);
    ck_assert_uint_eq(err.offset, offset);
    if (msg)
        ck_assert_str_eq(err.msg, msg);
}

START_TEST(each_rejection)
{
    uint8_t enc[300];
    size_t n;
    struct mtp_bind_inner in = INNER;
    /* valid as crafted */
    n = craft(enc, sizeof enc, MSG_ID, 0, 40, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    ck_assert_ok(mtp_bind_check(perm, enc, n, &WANT, NULL, NULL));

    /* MTProto 1.0: another key, a flipped bit, 24 bytes of padding */
    uint8_t other[MTP_AUTH_KEY_LEN];
    memset(other, 7, sizeof other);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_bind_check(other, enc, n, &WANT, NULL, &err), MTP_ERR_AUTH_KEY_ID_MISMATCH);
    enc[50] ^= 1;
    expect(enc, n, MTP_ERR_V1_MSG_KEY_MISMATCH, 8, NULL);
    n = craft(enc, sizeof enc, MSG_ID, 0, 40, MTP_BIND_AUTH_KEY_INNER_ID, &in, 24);
    expect(enc, n, MTP_ERR_V1_BAD_PADDING_LENGTH, 24 + 72, NULL);
    expect(enc, 10, MTP_ERR_BAD_CIPHERTEXT_LENGTH, 10, NULL);

    /* the header */
    n = craft(enc, sizeof enc, MSG_ID, 1, 40, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    expect(enc, n, MTP_ERR_BIND_BAD_HEADER, 48, "binding message seq_no: 1, must be 0");
    n = craft(enc, sizeof enc, MSG_ID, 0, 44, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    expect(enc, n, MTP_ERR_BIND_BAD_HEADER, 52, "binding message length: 44, bind_auth_key_inner has 40");
    n = craft(enc, sizeof enc, MSG_ID, 0, 36, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    expect(enc, n, MTP_ERR_BIND_BAD_HEADER, 52, NULL);
    n = craft(enc, sizeof enc, MSG_ID + 4, 0, 40, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    expect(enc, n, MTP_ERR_BIND_MSG_ID, 40,
           "binding message msg_id: 0x660000001234567c, the request's is 0x6600000012345678");
    n = craft(enc, sizeof enc, MSG_ID, 0, 40, 0x75a3f766, &in, 8);
    expect(enc, n, MTP_ERR_BIND_BAD_INNER, 56,
           "binding message: constructor 0x75a3f766, not bind_auth_key_inner#75a3f765");

    /* the fields, in order */
    in.nonce++;
    n = craft(enc, sizeof enc, MSG_ID, 0, 40, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    expect(enc, n, MTP_ERR_BIND_NONCE, 60,
           "bind_auth_key_inner.nonce: 0x102030405060709, the request's is 0x102030405060708");
    in.temp_auth_key_id = 1; /* nonce still wrong: nonce is reported */
    n = craft(enc, sizeof enc, MSG_ID, 0, 40, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    expect(enc, n, MTP_ERR_BIND_NONCE, 60, NULL);
    in = INNER;
    in.temp_auth_key_id = PERM_ID;
    n = craft(enc, sizeof enc, MSG_ID, 0, 40, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    expect(enc, n, MTP_ERR_BIND_TEMP_KEY, 68,
           "bind_auth_key_inner.temp_auth_key_id: 0xc8df57a46e58d132, the request came with 0x1112131415161718");
    in = INNER;
    in.perm_auth_key_id = TEMP_ID;
    n = craft(enc, sizeof enc, MSG_ID, 0, 40, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    expect(enc, n, MTP_ERR_BIND_PERM_KEY, 76, NULL);
    in = INNER;
    in.temp_session_id = 0;
    n = craft(enc, sizeof enc, MSG_ID, 0, 40, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    expect(enc, n, MTP_ERR_BIND_SESSION, 84,
           "bind_auth_key_inner.temp_session_id: 0, the request came in session 0x2122232425262728");
    in = INNER;
    in.expires_at = EXPIRES + 1;
    n = craft(enc, sizeof enc, MSG_ID, 0, 40, MTP_BIND_AUTH_KEY_INNER_ID, &in, 8);
    expect(enc, n, MTP_ERR_BIND_EXPIRES_AT, 92,
           "bind_auth_key_inner.expires_at: 1700086401, the request's is 1700086400");
    /* got holds the fields even when one is refused */
    struct mtp_bind_inner got;
    memset(&got, 0, sizeof got);
    ck_assert_rc(mtp_bind_check(perm, enc, n, &WANT, &got, NULL), MTP_ERR_BIND_EXPIRES_AT);
    ck_assert_int_eq(got.expires_at, EXPIRES + 1);
    ck_assert_uint_eq(got.nonce, NONCE);
}
END_TEST

START_TEST(random_source_failure)
{
    struct mtp_script_state ss;
    struct mtp_env empty = mtp_env_scripted(&ss, NULL, 0, 0);
    uint8_t buf[MTP_BIND_ENCRYPTED_LEN];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_bind_encrypt(perm, MSG_ID, &INNER, &empty, &w, &err), MTP_ERR_LIMIT);
    ck_assert_uint_eq(w.len, 0);
    ck_assert_str_eq(err.msg, "binding message: the random source failed");
    /* enough for the prefix, not for the padding */
    uint8_t sixteen[16] = {0};
    struct mtp_env short_env = mtp_env_scripted(&ss, sixteen, sizeof sixteen, 0);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_bind_encrypt(perm, MSG_ID, &INNER, &short_env, &w, &err), MTP_ERR_LIMIT);
    ck_assert_uint_eq(w.len, 0);
    /* no room for the result */
    uint8_t rnd[24];
    struct mtp_env env = scripted(&ss, rnd);
    mtp_wr_init_fixed(&w, buf, 50, NULL);
    ck_assert_rc(mtp_bind_encrypt(perm, MSG_ID, &INNER, &env, &w, NULL), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(w.len, 0);
}
END_TEST

static Suite *auth_bind_suite(void)
{
    Suite *s = suite_create("auth_bind");
    TCase *tc = tcase_create("bind");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, known_request_bytes);
    tcase_add_test(tc, round_trip_and_fields);
    tcase_add_test(tc, each_rejection);
    tcase_add_test(tc, random_source_failure);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(auth_bind_suite)
