/* MTProto 1.0 message crypto: published and independently computed known
 * answers, round trips with the padding helper, and every rejection of
 * mtp_msg_v1_decrypt in the documented order. */
#include <stdio.h>
#include <string.h>

#include "mtp/aes_ige.h"
#include "mtp/env.h"
#include "mtp/msgcrypt_v1.h"
#include "mtp_test.h"

/* A binding-message-shaped plaintext: 16 random bytes (11..), msg_id
 * 0x6600000000000004, seq_no 0, message_data_length 40, data a0..c7, padding
 * 8 x 55.  auth_key = 00 01 .. ff.  Expected values from the formulas of
 * description_v1 written out with hashlib SHA-1 and Telethon 1.25.1's
 * pure-Python AES-IGE (vectors/gen/gen_msgcrypt_v1_telethon.py). */
#define KNOWN_PLAIN                                                                                                    \
    "1111111111111111111111111111111104000000000000660000000028000000"                                               \
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c75555555555555555"
#define KNOWN_ID "32d1586ea457dfc8"
#define KNOWN_MSG_KEY "93a8b6836ec882f1813707dedc5abb6b"
#define CLIENT_AES_KEY "93480c0ded4606c4d332c770643ca667a2f80ec8c3085412b41a7ad4aa36ea16"
#define CLIENT_AES_IV "93c95b250a4164c7b75958f959615a53b65a214cb4bded607e9150d88a333d6e"
#define CLIENT_PACKET                                                                                                  \
    KNOWN_ID KNOWN_MSG_KEY "2c0a3b252d3361bc4924bac2a80f9c869e5f119b2ff2b18d7fd8553e55838ee3e07e9f216e9f015c903ed23144" \
                           "c9cfbb96d494ce1f4ffd4e0c445f9bfa2b13f56e0f37837b9495b3fc3eb92f1adabc3f"
#define SERVER_AES_KEY "3d181c2a46c9478fab1ecdfc1d8a0670701c185261fba1d47e2a911bc9f48ad7"
#define SERVER_AES_IV "78ced0ca8a92c28efecb38502163bc6c5821880af7270936bc337b24d08ef0ea"
#define SERVER_PACKET                                                                                                  \
    KNOWN_ID KNOWN_MSG_KEY "fdeed288faee259cc9ce650a3c4c87d59292f7715fb04425f2a7cca165173c5b92cc107378334dbd5ca841b82d" \
                           "de8e02cc3fa16f92a2361a9915e2ecb5dafd4a2effd9f884911a251bfaf82aa24131cf"

static uint8_t auth_key[MTP_AUTH_KEY_LEN];
static uint8_t other_key[MTP_AUTH_KEY_LEN];

static void setup(void)
{
    for (size_t i = 0; i < sizeof auth_key; i++) {
        auth_key[i] = (uint8_t)i;
        other_key[i] = (uint8_t)(255 - i);
    }
}

/* gotd/td crypto/kdf_v1_test.go (commit 60b1ec3a): published values. */
START_TEST(gotd_published_values)
{
    uint8_t msg_key[16], key[32], iv[32];
    static const char payload[] = "bind-message-test-payload";
    ck_assert_ok(mtp_msg_v1_key((const uint8_t *)payload, strlen(payload), msg_key, NULL));
    ck_assert_hex_eq(msg_key, 16, "fc11a3669566de22b87f66550dc3de6d");
    for (size_t i = 0; i < 16; i++)
        msg_key[i] = (uint8_t)i;
    ck_assert_ok(mtp_msg_v1_kdf(auth_key, MTP_SENDER_CLIENT, msg_key, key, iv));
    ck_assert_hex_eq(key, 32, "17d7295ca9213d1ab656acdb1ad48b2ea7f3a8f7095098d5508b900bbd5fccfc");
    ck_assert_hex_eq(iv, 32, "2d7d16a65a84108e9805656caa474501cc580aa2edc33abfd0bfad785464d1c6");
    /* x = 8 reads other key bytes: a different pair */
    ck_assert_ok(mtp_msg_v1_kdf(auth_key, MTP_SENDER_SERVER, msg_key, key, iv));
    ck_assert_hex_eq(key, 32, "bb17b07eb91110647098b069bd1a9b6fe5c4bcc3c31f8e67e831d07a61085f68");
    ck_assert_hex_eq(iv, 32, "5197fc1e25b41fe36f18b5a3a8b2b36cb2cb061f1f157b3514fe42e74fb58359");
}
END_TEST

START_TEST(known_message_both_directions)
{
    static const struct {
        enum mtp_sender s;
        const char *aes_key, *aes_iv, *packet;
    } dir[] = {
        {MTP_SENDER_CLIENT, CLIENT_AES_KEY, CLIENT_AES_IV, CLIENT_PACKET},
        {MTP_SENDER_SERVER, SERVER_AES_KEY, SERVER_AES_IV, SERVER_PACKET},
    };
    size_t n;
    const uint8_t *plain = mtp_test_hex(KNOWN_PLAIN, &n);
    ck_assert_uint_eq(n, 80);
    for (size_t d = 0; d < 2; d++) {
        struct mtp_error err;
        mtp_error_clear(&err);
        uint8_t msg_key[16], key[32], iv[32];
        /* msg_key covers the 72 bytes before the padding, whatever the direction */
        ck_assert_ok(mtp_msg_v1_key(plain, 72, msg_key, &err));
        ck_assert_hex_eq(msg_key, 16, KNOWN_MSG_KEY);
        ck_assert_ok(mtp_msg_v1_kdf(auth_key, dir[d].s, msg_key, key, iv));
        ck_assert_hex_eq(key, 32, dir[d].aes_key);
        ck_assert_hex_eq(iv, 32, dir[d].aes_iv);

        uint8_t buf[200];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, buf, sizeof buf, &err);
        ck_assert_ok(mtp_msg_v1_encrypt(auth_key, dir[d].s, plain, n, &w, &err));
        ck_assert_hex_eq(buf, w.len, dir[d].packet);

        size_t plen;
        const uint8_t *packet = mtp_test_hex(dir[d].packet, &plen);
        uint8_t out[100];
        struct mtp_wr o;
        mtp_wr_init_fixed(&o, out, sizeof out, &err);
        ck_assert_ok(mtp_msg_v1_decrypt(auth_key, dir[d].s, packet, plen, &o, &err));
        ck_assert_hex_eq(out, o.len, KNOWN_PLAIN);
        ck_assert_int_eq(err.code, MTP_OK);
    }
}
END_TEST

/* header | body | 0..15 bytes of padding, both directions. */
START_TEST(round_trip_with_the_padding_helper)
{
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "v1 round trip", 13, 0);
    for (size_t body = 0; body <= 64; body += 4) {
        for (int sv = 0; sv <= 1; sv++) {
            enum mtp_sender s = sv ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT;
            struct mtp_wr plain, packet, back;
            mtp_wr_init_dyn(&plain, 1 << 16, NULL);
            mtp_wr_init_dyn(&packet, 1 << 16, NULL);
            mtp_wr_init_dyn(&back, 1 << 16, NULL);
            uint8_t *p;
            ck_assert_ok(mtp_wr_reserve(&plain, 28, &p));
            ck_assert_ok(mtp_env_rand(&env, p, 28));
            ck_assert_ok(mtp_wr_u32(&plain, (uint32_t)body));
            ck_assert_ok(mtp_wr_reserve(&plain, body, &p));
            ck_assert_ok(mtp_env_rand(&env, p, body));
            ck_assert_ok(mtp_msg_v1_pad(&plain, &env, NULL));
            ck_assert_uint_eq(plain.len, (32 + body + 15) / 16 * 16);

            ck_assert_ok(mtp_msg_v1_encrypt(auth_key, s, plain.p, plain.len, &packet, NULL));
            ck_assert_uint_eq(packet.len, plain.len + 24);
            uint8_t want_key[16];
            ck_assert_ok(mtp_msg_v1_key(plain.p, 32 + body, want_key, NULL));
            ck_assert_mem_eq(packet.p + 8, want_key, 16);
            ck_assert_ok(mtp_msg_v1_decrypt(auth_key, s, packet.p, packet.len, &back, NULL));
            ck_assert_uint_eq(back.len, plain.len);
            ck_assert_mem_eq(back.p, plain.p, plain.len);
            /* the other direction's keys do not open it */
            mtp_wr_reset(&back);
            ck_assert_rc(mtp_msg_v1_decrypt(auth_key, sv ? MTP_SENDER_CLIENT : MTP_SENDER_SERVER, packet.p,
                                            packet.len, &back, NULL),
                         MTP_ERR_V1_MSG_KEY_MISMATCH);
            ck_assert_uint_eq(back.len, 0);
            mtp_wr_free(&plain);
            mtp_wr_free(&packet);
            mtp_wr_free(&back);
        }
    }
}
END_TEST

/* A packet whose msg_key verifies for any header we like (the lax encrypt). */
static size_t craft(uint8_t *packet, size_t cap, enum mtp_sender s, uint32_t mdl, size_t total)
{
    uint8_t plain[512];
    ck_assert_uint_le(total, sizeof plain);
    for (size_t i = 0; i < total; i++)
        plain[i] = (uint8_t)(i * 5 + 3);
    mtp_store_u32(plain + 28, mdl);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, packet, cap, NULL);
    ck_assert_ok(mtp_msg_v1_encrypt(auth_key, s, plain, total, &w, NULL));
    return w.len;
}

struct reject_case {
    const char *what;
    int want;
    size_t offset;
};

/* Decrypts into a writer that already holds 3 bytes: on rejection they are
 * all that is there, and the unverified plaintext is wiped. */
static void expect_reject(const uint8_t *packet, size_t len, enum mtp_sender s, const struct reject_case *c)
{
    uint8_t out[600];
    memset(out, 0xcc, sizeof out);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, sizeof out, &err);
    ck_assert_ok(mtp_wr_raw(&w, "abc", 3));
    int rc = mtp_msg_v1_decrypt(auth_key, s, packet, len, &w, &err);
    ck_assert_msg(rc == c->want, "%s: got %s, want %s (%s)", c->what, mtp_err_name(rc), mtp_err_name(c->want),
                  err.msg);
    ck_assert_int_eq(err.code, c->want);
    ck_assert_msg(err.offset == c->offset, "%s: offset %zu, want %zu", c->what, err.offset, c->offset);
    ck_assert_uint_eq(w.len, 3);
    ck_assert_mem_eq(out, "abc", 3);
    for (size_t i = 3; i < len && i < sizeof out; i++)
        ck_assert_msg(out[i] == 0xcc || out[i] == 0, "%s: byte %zu of the rejected plaintext left behind", c->what, i);
}

START_TEST(rejections_in_order)
{
    enum mtp_sender s = _i ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT;
    uint8_t good[600], p[600];
    memset(p, 0x3c, sizeof p);
    size_t n = craft(good, sizeof good, s, 40, 80); /* the binding message's shape */
    uint8_t other_id[8];
    mtp_auth_key_id(other_key, other_id);

    struct reject_case c;
    /* 1. auth_key_id */
    memcpy(p, good, n);
    memcpy(p, other_id, 8);
    c = (struct reject_case){"wrong auth_key_id", MTP_ERR_AUTH_KEY_ID_MISMATCH, 0};
    expect_reject(p, n, s, &c);
    c.what = "wrong auth_key_id and a bad length";
    expect_reject(p, n - 3, s, &c);
    c.what = "wrong auth_key_id and a bad msg_key";
    p[40] ^= 1;
    expect_reject(p, n, s, &c);
    c.what = "no auth_key_id at all";
    expect_reject(good, 7, s, &c);
    expect_reject(good, 0, s, &c);

    /* 2. ciphertext length */
    c = (struct reject_case){"packet ends in msg_key", MTP_ERR_BAD_CIPHERTEXT_LENGTH, 23};
    expect_reject(good, 23, s, &c);
    c = (struct reject_case){"no ciphertext", MTP_ERR_BAD_CIPHERTEXT_LENGTH, 24};
    expect_reject(good, 24, s, &c);
    c.what = "one block, shorter than the header";
    expect_reject(good, 40, s, &c);
    c.what = "one byte short";
    expect_reject(good, n - 1, s, &c);

    /* 3. msg_key */
    c = (struct reject_case){"flipped ciphertext bit", MTP_ERR_V1_MSG_KEY_MISMATCH, 8};
    memcpy(p, good, n);
    p[n - 1] ^= 0x01; /* the last block holds data and padding: IGE spreads the flip into the data */
    expect_reject(p, n, s, &c);
    c.what = "flipped msg_key bit";
    memcpy(p, good, n);
    p[8] ^= 0x40;
    expect_reject(p, n, s, &c);
    /* An appended block leaves the message before it intact: msg_key, which
     * does not cover the padding in MTProto 1.0, still verifies; only the
     * padding bound catches it. */
    c = (struct reject_case){"an extra whole block", MTP_ERR_V1_BAD_PADDING_LENGTH, 96};
    memcpy(p, good, n);
    memset(p + n, 0x5a, 16);
    expect_reject(p, n + 16, s, &c);

    /* 4.-6. after a valid msg_key: message_data_length, then padding.  room = 80 - 32 = 48. */
    static const struct {
        uint32_t mdl;
        size_t total;
        int want;
        size_t offset; /* 52 = message_data_length; padding errors point at the padding */
    } late[] = {
        {52, 80, MTP_ERR_BAD_MESSAGE_LENGTH, 52},         {49, 80, MTP_ERR_BAD_MESSAGE_LENGTH, 52},
        {0x80000000, 80, MTP_ERR_BAD_MESSAGE_LENGTH, 52}, {0xffffffff, 80, MTP_ERR_BAD_MESSAGE_LENGTH, 52},
        {46, 80, MTP_ERR_UNALIGNED_MESSAGE_LENGTH, 52},   {1, 80, MTP_ERR_UNALIGNED_MESSAGE_LENGTH, 52},
        {32, 80, MTP_ERR_V1_BAD_PADDING_LENGTH, 88},      {0, 80, MTP_ERR_V1_BAD_PADDING_LENGTH, 56},
        {4, 272, MTP_ERR_V1_BAD_PADDING_LENGTH, 60},
    };
    for (size_t i = 0; i < sizeof late / sizeof late[0]; i++) {
        size_t m = craft(p, sizeof p, s, late[i].mdl, late[i].total);
        char what[64];
        snprintf(what, sizeof what, "message_data_length %u of %zu", late[i].mdl, late[i].total);
        c = (struct reject_case){what, late[i].want, late[i].offset};
        expect_reject(p, m, s, &c);
    }
}
END_TEST

START_TEST(padding_bounds_accepted)
{
    uint8_t p[600], out[600];
    struct mtp_wr w;
    static const struct {
        uint32_t mdl;
        size_t total;
    } ok[] = {{48, 80}, {36, 80}, {33 * 4, 176}, {0, 32}, {44, 80}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = craft(p, sizeof p, MTP_SENDER_CLIENT, ok[i].mdl, ok[i].total);
        mtp_wr_init_fixed(&w, out, sizeof out, NULL);
        ck_assert_ok(mtp_msg_v1_decrypt(auth_key, MTP_SENDER_CLIENT, p, n, &w, NULL));
        ck_assert_uint_eq(w.len, ok[i].total);
    }
}
END_TEST

START_TEST(messages_name_the_field)
{
    uint8_t p[200], out[200];
    struct mtp_error err;
    struct mtp_wr w;
    size_t n = craft(p, sizeof p, MTP_SENDER_CLIENT, 0x80000000, 80);
    mtp_error_clear(&err);
    mtp_wr_init_fixed(&w, out, sizeof out, NULL);
    ck_assert_rc(mtp_msg_v1_decrypt(auth_key, MTP_SENDER_CLIENT, p, n, &w, &err), MTP_ERR_BAD_MESSAGE_LENGTH);
    ck_assert_str_eq(err.msg, "message_data_length: 2147483648 (0x80000000) exceeds the 48 bytes after the header");
    n = craft(p, sizeof p, MTP_SENDER_CLIENT, 20, 80);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_msg_v1_decrypt(auth_key, MTP_SENDER_CLIENT, p, n, &w, &err), MTP_ERR_V1_BAD_PADDING_LENGTH);
    ck_assert_str_eq(err.msg, "padding: 28 bytes, MTProto 1.0 pads with 0..15");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_msg_v1_decrypt(auth_key, MTP_SENDER_SERVER, p, n, &w, &err), MTP_ERR_V1_MSG_KEY_MISMATCH);
    ck_assert_str_eq(err.msg, "msg_key: does not match SHA1 of the decrypted plaintext without its padding");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_msg_v1_decrypt(other_key, MTP_SENDER_CLIENT, p, n, &w, &err), MTP_ERR_AUTH_KEY_ID_MISMATCH);
    ck_assert_str_eq(err.msg, "auth_key_id: 0xc8df57a46e58d132, expected 0x134a728f0eb1d196");
    ck_assert_str_eq(mtp_err_name(MTP_ERR_V1_MSG_KEY_MISMATCH), "v1_msg_key_mismatch");
    ck_assert_str_eq(mtp_err_name(MTP_ERR_V1_BAD_PADDING_LENGTH), "v1_bad_padding_length");
}
END_TEST

START_TEST(output_limits_and_bad_plaintexts)
{
    size_t n;
    const uint8_t *plain = mtp_test_hex(KNOWN_PLAIN, &n);
    const uint8_t *packet = mtp_test_hex(CLIENT_PACKET, &n);
    uint8_t small[40];
    struct mtp_error err;
    struct mtp_wr w;
    mtp_error_clear(&err);
    mtp_wr_init_fixed(&w, small, sizeof small, &err);
    ck_assert_rc(mtp_msg_v1_decrypt(auth_key, MTP_SENDER_CLIENT, packet, n, &w, &err), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(w.len, 0);
    mtp_error_clear(&err);
    mtp_wr_init_fixed(&w, small, sizeof small, &err);
    ck_assert_rc(mtp_msg_v1_encrypt(auth_key, MTP_SENDER_CLIENT, plain, 80, &w, &err), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(w.len, 0);
    static const size_t bad[] = {0, 16, 31, 33, 72};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mtp_error_clear(&err);
        mtp_wr_init_fixed(&w, small, sizeof small, NULL);
        ck_assert_rc(mtp_msg_v1_encrypt(auth_key, MTP_SENDER_CLIENT, plain, bad[i], &w, &err),
                     MTP_ERR_BAD_PLAINTEXT_LENGTH);
        ck_assert_uint_eq(w.len, 0);
    }
    ck_assert_str_eq(err.msg, "plaintext: 72 bytes, need a multiple of 16 that holds the 32-byte header");
}
END_TEST

START_TEST(padding_helper)
{
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "v1 pad", 6, 0);
    for (size_t len = 0; len < 48; len++) {
        uint8_t buf[64];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
        ck_assert_ok(mtp_wr_zero(&w, len));
        ck_assert_ok(mtp_msg_v1_pad(&w, &env, NULL));
        ck_assert_uint_eq(w.len, (len + 15) / 16 * 16);
    }
    /* a failing random source fails the call and appends nothing */
    uint8_t buf[96];
    struct mtp_wr w;
    struct mtp_script_state ss;
    struct mtp_env empty = mtp_env_scripted(&ss, NULL, 0, 0);
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_wr_zero(&w, 72));
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_msg_v1_pad(&w, &empty, &err), MTP_ERR_LIMIT);
    ck_assert_uint_eq(w.len, 72);
    ck_assert_str_eq(err.msg, "padding: the random source failed");
    /* nothing to add: no randomness needed */
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_wr_zero(&w, 48));
    ck_assert_ok(mtp_msg_v1_pad(&w, &empty, NULL));
    ck_assert_uint_eq(w.len, 48);
    /* no room */
    mtp_wr_init_fixed(&w, buf, 20, NULL);
    ck_assert_ok(mtp_wr_zero(&w, 18));
    ck_assert_rc(mtp_msg_v1_pad(&w, &env, NULL), MTP_ERR_OVERFLOW);
}
END_TEST

static Suite *msgcrypt_v1_suite(void)
{
    Suite *s = suite_create("msgcrypt_v1");
    TCase *tc = tcase_create("vectors");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, gotd_published_values);
    tcase_add_test(tc, known_message_both_directions);
    suite_add_tcase(s, tc);
    tc = tcase_create("roundtrip");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, round_trip_with_the_padding_helper);
    tcase_add_test(tc, padding_bounds_accepted);
    tcase_add_test(tc, padding_helper);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, rejections_in_order, 0, 2);
    tcase_add_test(tc, messages_name_the_field);
    tcase_add_test(tc, output_limits_and_bad_plaintexts);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(msgcrypt_v1_suite)
