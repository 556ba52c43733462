/* MTProto 2.0 message crypto: exact bytes for a known message in both
 * directions, round trips, and every rejection of mtp_msg_decrypt in the
 * documented order. */
#include <stdio.h>
#include <string.h>

#include "mtp/aes_ige.h"
#include "mtp/env.h"
#include "mtp/msgcrypt.h"
#include "mtp_test.h"

/* The known message: auth_key = 00 01 02 .. ff, and a 64-byte plaintext
 * (salt 11.., session_id 22.., msg_id 0x6600000000000004, seq_no 1,
 * message_data_length 16, data a0..af, padding 16 x 55).  Expected values
 * computed with Telethon 1.25.1 (AuthKey.key_id, MTProtoState._calc_key and
 * telethon.crypto.aes.AES on its pure-Python path), the method of
 * vectors/gen/gen_msgcrypt_telethon.py. */
#define KNOWN_PLAIN                                                                                                    \
    "1111111111111111222222222222222204000000000000660100000010000000"                                               \
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf55555555555555555555555555555555"
#define KNOWN_ID "32d1586ea457dfc8"
#define CLIENT_MSG_KEY "04a791f99211381ba2903639334c3991"
#define CLIENT_AES_KEY "2309b19e13a5df18f259938ccad76f783789d94d56a5fc3ee5ec18759823a80d"
#define CLIENT_AES_IV "4f3575193dafa1a47ca584a8af04a3365375e28d34268f81a3bcb4d00d28998d"
#define CLIENT_PACKET                                                                                                  \
    KNOWN_ID CLIENT_MSG_KEY "3c5818e4b24da511e7f600b91176c477a3dfab7adf00a9a84e05275e1c9ef49759693d3534" \
                            "b123cee4660b36856298a1bc0455070262e347b12f88bdaa9ae98d"
#define SERVER_MSG_KEY "7c334de7d0f654543325eddbc0e6f842"
#define SERVER_AES_KEY "9215bd687296314eb0bb0d4c8620df114e630ca03bf4d09cfdaabbb6d185d00c"
#define SERVER_AES_IV "35ce0f0d06a415bf2aef4c563fe470e3d5dd0805068fc41a445a1fd1407686ce"
#define SERVER_PACKET                                                                                                  \
    KNOWN_ID SERVER_MSG_KEY "d35d4d4a52692313aa1f7c0fb9432ce3fcf86d77ee7543d3978bd2f83143a0f753d10d132f" \
                            "81d2f824de1b366a2c50f6337f541450993c172a5706e19cbc44a0"

static uint8_t auth_key[MTP_AUTH_KEY_LEN];
static uint8_t other_key[MTP_AUTH_KEY_LEN];
/* The same key behind the per-key context API: every check runs through both. */
static struct mtp_msgcrypt *key_ctx;

static void setup(void)
{
    for (size_t i = 0; i < sizeof auth_key; i++) {
        auth_key[i] = (uint8_t)i;
        other_key[i] = (uint8_t)(255 - i);
    }
    ck_assert_ok(mtp_msgcrypt_new(auth_key, &key_ctx, NULL));
}

static void teardown(void)
{
    mtp_msgcrypt_del(key_ctx);
    key_ctx = NULL;
}

START_TEST(auth_key_id_is_low_sha1_bytes)
{
    uint8_t id[8];
    mtp_auth_key_id(auth_key, id);
    ck_assert_hex_eq(id, 8, KNOWN_ID);
    ck_assert_hex_eq(mtp_msgcrypt_auth_key_id(key_ctx), 8, KNOWN_ID);
}
END_TEST

START_TEST(known_message_both_directions)
{
    static const struct {
        enum mtp_sender s;
        const char *msg_key, *aes_key, *aes_iv, *packet;
    } dir[] = {
        {MTP_SENDER_CLIENT, CLIENT_MSG_KEY, CLIENT_AES_KEY, CLIENT_AES_IV, CLIENT_PACKET},
        {MTP_SENDER_SERVER, SERVER_MSG_KEY, SERVER_AES_KEY, SERVER_AES_IV, SERVER_PACKET},
    };
    size_t n;
    const uint8_t *plain = mtp_test_hex(KNOWN_PLAIN, &n);
    ck_assert_uint_eq(n, 64);
    for (size_t d = 0; d < 2; d++) {
        struct mtp_error err;
        mtp_error_clear(&err);
        uint8_t msg_key[16], key[32], iv[32];
        ck_assert_ok(mtp_msg_key(auth_key, dir[d].s, plain, n, msg_key, &err));
        ck_assert_hex_eq(msg_key, 16, dir[d].msg_key);
        ck_assert_ok(mtp_msg_kdf(auth_key, dir[d].s, msg_key, key, iv));
        ck_assert_hex_eq(key, 32, dir[d].aes_key);
        ck_assert_hex_eq(iv, 32, dir[d].aes_iv);

        uint8_t buf[200];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, buf, sizeof buf, &err);
        ck_assert_ok(mtp_msg_encrypt(auth_key, dir[d].s, plain, n, &w, &err));
        ck_assert_hex_eq(buf, w.len, dir[d].packet);

        size_t plen;
        const uint8_t *packet = mtp_test_hex(dir[d].packet, &plen);
        uint8_t out[100];
        struct mtp_wr o;
        mtp_wr_init_fixed(&o, out, sizeof out, &err);
        ck_assert_ok(mtp_msg_decrypt(auth_key, dir[d].s, packet, plen, &o, &err));
        ck_assert_hex_eq(out, o.len, KNOWN_PLAIN);
        ck_assert_int_eq(err.code, MTP_OK);

        mtp_wr_init_fixed(&w, buf, sizeof buf, &err);
        ck_assert_ok(mtp_msgcrypt_encrypt(key_ctx, dir[d].s, plain, n, &w, &err));
        ck_assert_hex_eq(buf, w.len, dir[d].packet);
        mtp_wr_init_fixed(&o, out, sizeof out, &err);
        ck_assert_ok(mtp_msgcrypt_decrypt(key_ctx, dir[d].s, packet, plen, &o, &err));
        ck_assert_hex_eq(out, o.len, KNOWN_PLAIN);
    }
}
END_TEST

/* Builds header | body | padding with mtp_msg_pad and checks both directions. */
START_TEST(round_trip_with_random_padding)
{
    static const size_t bodies[] = {0, 4, 28, 100, 1000, 4096, 65536};
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "msg round trip", 14, 0);
    for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
        for (int sv = 0; sv <= 1; sv++) {
            enum mtp_sender s = sv ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT;
            struct mtp_wr plain, packet, back;
            mtp_wr_init_dyn(&plain, 1 << 20, NULL);
            mtp_wr_init_dyn(&packet, 1 << 20, NULL);
            mtp_wr_init_dyn(&back, 1 << 20, NULL);
            uint8_t *hdr;
            ck_assert_ok(mtp_wr_reserve(&plain, 28, &hdr));
            ck_assert_ok(mtp_env_rand(&env, hdr, 28));
            ck_assert_ok(mtp_wr_u32(&plain, (uint32_t)bodies[b]));
            uint8_t *body;
            ck_assert_ok(mtp_wr_reserve(&plain, bodies[b], &body));
            ck_assert_ok(mtp_env_rand(&env, body, bodies[b]));
            ck_assert_ok(mtp_msg_pad(&plain, b % 2 ? MTP_MSG_MAX_PADDING : 27, &env, NULL));
            size_t pad = plain.len - 32 - bodies[b];
            ck_assert_uint_eq(plain.len % 16, 0);
            ck_assert(pad >= 12 && pad <= (b % 2 ? 1024u : 27u));

            ck_assert_ok(mtp_msg_encrypt(auth_key, s, plain.p, plain.len, &packet, NULL));
            ck_assert_uint_eq(packet.len, plain.len + 24);
            ck_assert_ok(mtp_msg_decrypt(auth_key, s, packet.p, packet.len, &back, NULL));
            ck_assert_uint_eq(back.len, plain.len);
            ck_assert_mem_eq(back.p, plain.p, plain.len);
            /* the other direction's keys do not open it */
            ck_assert_rc(mtp_msg_decrypt(auth_key, !sv ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT, packet.p, packet.len,
                                         &back, NULL),
                         MTP_ERR_MSG_KEY_MISMATCH);
            ck_assert_uint_eq(back.len, plain.len);
            /* the per-key context gives the same packet and opens it */
            struct mtp_wr packet2;
            mtp_wr_init_dyn(&packet2, 1 << 20, NULL);
            ck_assert_ok(mtp_msgcrypt_encrypt(key_ctx, s, plain.p, plain.len, &packet2, NULL));
            ck_assert_uint_eq(packet2.len, packet.len);
            ck_assert_mem_eq(packet2.p, packet.p, packet.len);
            mtp_wr_reset(&back);
            ck_assert_ok(mtp_msgcrypt_decrypt(key_ctx, s, packet2.p, packet2.len, &back, NULL));
            ck_assert_mem_eq(back.p, plain.p, plain.len);
            mtp_wr_free(&packet2);
            mtp_wr_free(&plain);
            mtp_wr_free(&packet);
            mtp_wr_free(&back);
        }
    }
}
END_TEST

/* A packet with msg_key valid for any plaintext we like: the lax encrypt. */
static size_t craft(uint8_t *packet, size_t cap, enum mtp_sender s, uint32_t mdl, size_t total)
{
    uint8_t plain[2048];
    ck_assert_uint_le(total, sizeof plain);
    for (size_t i = 0; i < total; i++)
        plain[i] = (uint8_t)(i * 7 + 1);
    mtp_store_u32(plain + 28, mdl);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, packet, cap, NULL);
    ck_assert_ok(mtp_msg_encrypt(auth_key, s, plain, total, &w, NULL));
    return w.len;
}

struct reject_case {
    const char *what;
    int want;
    size_t offset;
};

/* Decrypts into a writer that already holds 3 bytes: on rejection they must
 * be all that is there. */
static void expect_reject_one(const uint8_t *packet, size_t len, enum mtp_sender s, const struct reject_case *c,
                              bool with_ctx)
{
    uint8_t out[2100];
    memset(out, 0xcc, sizeof out);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, sizeof out, &err);
    ck_assert_ok(mtp_wr_raw(&w, "abc", 3));
    int rc = with_ctx ? mtp_msgcrypt_decrypt(key_ctx, s, packet, len, &w, &err)
                      : mtp_msg_decrypt(auth_key, s, packet, len, &w, &err);
    ck_assert_msg(rc == c->want, "%s%s: got %s, want %s (%s)", c->what, with_ctx ? " (context)" : "",
                  mtp_err_name(rc), mtp_err_name(c->want), err.msg);
    ck_assert_int_eq(err.code, c->want);
    ck_assert_msg(err.offset == c->offset, "%s: offset %zu, want %zu", c->what, err.offset, c->offset);
    ck_assert_uint_eq(w.len, 3);
    ck_assert_mem_eq(out, "abc", 3);
    /* the unverified plaintext was wiped, not left behind the writer's end */
    for (size_t i = 3; i < len && i < sizeof out; i++)
        ck_assert_msg(out[i] == 0xcc || out[i] == 0, "%s: byte %zu of the rejected plaintext left behind", c->what, i);
}

/* Decrypts into a writer that already holds 3 bytes: on rejection they must
 * be all that is there. */
static void expect_reject(const uint8_t *packet, size_t len, enum mtp_sender s, const struct reject_case *c)
{
    expect_reject_one(packet, len, s, c, false);
    expect_reject_one(packet, len, s, c, true);
}

START_TEST(rejections_in_order)
{
    enum mtp_sender s = _i ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT;
    uint8_t good[2200], p[2200];
    memset(p, 0x3c, sizeof p);
    size_t n = craft(good, sizeof good, s, 100, 144); /* 100-byte body, 12 bytes of padding */
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
    c.what = "bad length and a bad msg_key";
    memcpy(p, good, n);
    p[30] ^= 0x80;
    expect_reject(p, n + 5, s, &c);

    /* 3. msg_key */
    c = (struct reject_case){"flipped ciphertext bit", MTP_ERR_MSG_KEY_MISMATCH, 8};
    memcpy(p, good, n);
    p[n - 1] ^= 0x01;
    expect_reject(p, n, s, &c);
    c.what = "flipped msg_key bit";
    memcpy(p, good, n);
    p[8] ^= 0x40;
    expect_reject(p, n, s, &c);
    c.what = "an extra whole block";
    memcpy(p, good, n);
    memset(p + n, 0x5a, 16);
    expect_reject(p, n + 16, s, &c);

    /* 4.-6. after a valid msg_key: message_data_length, then padding.  room = 144 - 32 = 112. */
    static const struct {
        uint32_t mdl;
        size_t total;
        int want;
        size_t offset; /* 52 = message_data_length; padding errors point at the padding */
    } late[] = {
        {116, 144, MTP_ERR_BAD_MESSAGE_LENGTH, 52},       {113, 144, MTP_ERR_BAD_MESSAGE_LENGTH, 52},
        {0x7ffffffc, 144, MTP_ERR_BAD_MESSAGE_LENGTH, 52}, {0x80000000, 144, MTP_ERR_BAD_MESSAGE_LENGTH, 52},
        {0xffffffff, 144, MTP_ERR_BAD_MESSAGE_LENGTH, 52}, {30, 144, MTP_ERR_UNALIGNED_MESSAGE_LENGTH, 52},
        {111, 144, MTP_ERR_UNALIGNED_MESSAGE_LENGTH, 52},  {112, 144, MTP_ERR_BAD_PADDING_LENGTH, 168},
        {104, 144, MTP_ERR_BAD_PADDING_LENGTH, 160},       {0, 32, MTP_ERR_BAD_PADDING_LENGTH, 56},
        {4, 1072, MTP_ERR_BAD_PADDING_LENGTH, 60},
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
    uint8_t p[1200], out[1200];
    struct mtp_wr w;
    /* 12 bytes: 32 + 100 + 12 = 144; 1024 bytes: 32 + 16 + 1024 = 1072 */
    size_t n = craft(p, sizeof p, MTP_SENDER_CLIENT, 100, 144);
    mtp_wr_init_fixed(&w, out, sizeof out, NULL);
    ck_assert_ok(mtp_msg_decrypt(auth_key, MTP_SENDER_CLIENT, p, n, &w, NULL));
    ck_assert_uint_eq(w.len, 144);
    n = craft(p, sizeof p, MTP_SENDER_SERVER, 16, 1072);
    mtp_wr_init_fixed(&w, out, sizeof out, NULL);
    ck_assert_ok(mtp_msg_decrypt(auth_key, MTP_SENDER_SERVER, p, n, &w, NULL));
    ck_assert_uint_eq(w.len, 1072);
}
END_TEST

/* A packet whose msg_key is not SHA256 of the plaintext, but whose encryption
 * follows from that msg_key: only the msg_key comparison can catch it. */
static size_t craft_fake_key(uint8_t *packet, enum mtp_sender s, uint32_t mdl, size_t total)
{
    uint8_t plain[2048], msg_key[16], key[32], iv[32];
    for (size_t i = 0; i < total; i++)
        plain[i] = (uint8_t)(i * 7 + 1);
    mtp_store_u32(plain + 28, mdl);
    ck_assert_ok(mtp_msg_key(auth_key, s, plain, total, msg_key, NULL));
    msg_key[0] ^= 0x55;
    ck_assert_ok(mtp_msg_kdf(auth_key, s, msg_key, key, iv));
    mtp_auth_key_id(auth_key, packet);
    memcpy(packet + 8, msg_key, 16);
    ck_assert_ok(mtp_aes_ige_encrypt(key, 32, iv, plain, packet + 24, total, NULL));
    return 24 + total;
}

START_TEST(skip_bits_leave_out_one_check_each)
{
    /* Each broken packet passes with exactly its skip bit, and fails with all the others. */
    enum { ALL = MTP_MSGCRYPT_SKIP_AUTH_KEY_ID | MTP_MSGCRYPT_SKIP_MSG_KEY | MTP_MSGCRYPT_SKIP_LENGTH |
                 MTP_MSGCRYPT_SKIP_PADDING };
    uint8_t other_id[8];
    mtp_auth_key_id(other_key, other_id);
    static const struct {
        const char *what;
        unsigned skip;
        int want;
        uint32_t mdl;
        size_t total;
        bool other_id, fake_key;
    } cases[] = {
        {"another auth_key_id", MTP_MSGCRYPT_SKIP_AUTH_KEY_ID, MTP_ERR_AUTH_KEY_ID_MISMATCH, 100, 144, true, false},
        {"msg_key not the hash", MTP_MSGCRYPT_SKIP_MSG_KEY, MTP_ERR_MSG_KEY_MISMATCH, 100, 144, false, true},
        {"length beyond", MTP_MSGCRYPT_SKIP_LENGTH, MTP_ERR_BAD_MESSAGE_LENGTH, 116, 144, false, false},
        {"length negative", MTP_MSGCRYPT_SKIP_LENGTH, MTP_ERR_BAD_MESSAGE_LENGTH, 0xfffffffc, 144, false, false},
        {"length % 4", MTP_MSGCRYPT_SKIP_LENGTH, MTP_ERR_UNALIGNED_MESSAGE_LENGTH, 98, 144, false, false},
        {"padding 8", MTP_MSGCRYPT_SKIP_PADDING, MTP_ERR_BAD_PADDING_LENGTH, 104, 144, false, false},
        {"padding 1040", MTP_MSGCRYPT_SKIP_PADDING, MTP_ERR_BAD_PADDING_LENGTH, 0, 1072, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t p[1200], out[1200];
        size_t n = cases[i].fake_key ? craft_fake_key(p, MTP_SENDER_SERVER, cases[i].mdl, cases[i].total)
                                     : craft(p, sizeof p, MTP_SENDER_SERVER, cases[i].mdl, cases[i].total);
        if (cases[i].other_id)
            memcpy(p, other_id, 8);
        struct mtp_error err;
        struct mtp_wr w;
        mtp_error_clear(&err);
        mtp_wr_init_fixed(&w, out, sizeof out, NULL);
        int rc = mtp_msgcrypt_decrypt_skip(key_ctx, MTP_SENDER_SERVER, cases[i].skip, p, n, &w, &err);
        ck_assert_msg(rc == MTP_OK, "%s with its skip bit: %s (%s)", cases[i].what, mtp_err_name(rc), err.msg);
        ck_assert_uint_eq(w.len, cases[i].total);
        mtp_error_clear(&err);
        mtp_wr_init_fixed(&w, out, sizeof out, NULL);
        rc = mtp_msgcrypt_decrypt_skip(key_ctx, MTP_SENDER_SERVER, ALL & ~cases[i].skip, p, n, &w, &err);
        ck_assert_msg(rc == cases[i].want, "%s with the other bits: %s, want %s", cases[i].what, mtp_err_name(rc),
                      mtp_err_name(cases[i].want));
        mtp_wr_init_fixed(&w, out, sizeof out, NULL);
        ck_assert_rc(mtp_msgcrypt_decrypt_skip(key_ctx, MTP_SENDER_SERVER, 0, p, n, &w, NULL), cases[i].want);
    }
}
END_TEST

START_TEST(messages_name_the_field)
{
    uint8_t p[200], out[200];
    struct mtp_error err;
    struct mtp_wr w;
    size_t n = craft(p, sizeof p, MTP_SENDER_CLIENT, 0x80000000, 144);
    mtp_error_clear(&err);
    mtp_wr_init_fixed(&w, out, sizeof out, NULL);
    ck_assert_rc(mtp_msg_decrypt(auth_key, MTP_SENDER_CLIENT, p, n, &w, &err), MTP_ERR_BAD_MESSAGE_LENGTH);
    ck_assert_str_eq(err.msg, "message_data_length: 2147483648 (0x80000000) exceeds the 112 bytes after the header");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_msg_decrypt(auth_key, MTP_SENDER_CLIENT, p, 100, &w, &err), MTP_ERR_BAD_CIPHERTEXT_LENGTH);
    ck_assert_str_eq(err.msg, "ciphertext: 76 bytes, need a multiple of 16 and at least 32");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_msg_decrypt(other_key, MTP_SENDER_CLIENT, p, n, &w, &err), MTP_ERR_AUTH_KEY_ID_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "auth_key_id: 0x"));
    ck_assert_str_eq(mtp_err_name(MTP_ERR_MSG_KEY_MISMATCH), "msg_key_mismatch");
    ck_assert_str_eq(mtp_err_name(MTP_ERR_UNALIGNED_MESSAGE_LENGTH), "unaligned_message_length");
}
END_TEST

START_TEST(output_limits)
{
    size_t n;
    const uint8_t *plain = mtp_test_hex(KNOWN_PLAIN, &n);
    const uint8_t *packet = mtp_test_hex(CLIENT_PACKET, &n);
    uint8_t small[40];
    struct mtp_error err;
    struct mtp_wr w;
    /* decrypt: the plaintext does not fit */
    mtp_error_clear(&err);
    mtp_wr_init_fixed(&w, small, sizeof small, &err);
    ck_assert_rc(mtp_msg_decrypt(auth_key, MTP_SENDER_CLIENT, packet, n, &w, &err), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(w.len, 0);
    /* encrypt: the packet does not fit; nothing half-written stays */
    mtp_error_clear(&err);
    mtp_wr_init_fixed(&w, small, sizeof small, &err);
    ck_assert_rc(mtp_msg_encrypt(auth_key, MTP_SENDER_CLIENT, plain, 64, &w, &err), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(w.len, 0);
    /* encrypt: only complete, aligned plaintexts */
    static const size_t bad[] = {0, 15, 17, 63};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mtp_error_clear(&err);
        mtp_wr_init_fixed(&w, small, sizeof small, NULL);
        ck_assert_rc(mtp_msg_encrypt(auth_key, MTP_SENDER_CLIENT, plain, bad[i], &w, &err),
                     MTP_ERR_BAD_PLAINTEXT_LENGTH);
        ck_assert_uint_eq(w.len, 0);
    }
    ck_assert_str_eq(err.msg, "plaintext: 63 bytes, need a positive multiple of 16");
}
END_TEST

START_TEST(padding_helper)
{
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "pad", 3, 0);
    size_t seen_min = 2000, seen_max = 0;
    for (size_t len = 0; len < 64; len++) {
        for (int k = 0; k < 40; k++) {
            uint8_t buf[2048];
            struct mtp_wr w;
            mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
            ck_assert_ok(mtp_wr_zero(&w, 32 + len));
            ck_assert_ok(mtp_msg_pad(&w, MTP_MSG_MAX_PADDING, &env, NULL));
            size_t pad = w.len - 32 - len;
            ck_assert_uint_eq(w.len % 16, 0);
            ck_assert(pad >= 12 && pad <= 1024);
            seen_min = pad < seen_min ? pad : seen_min;
            seen_max = pad > seen_max ? pad : seen_max;
        }
    }
    /* uniform over the allowed lengths: both ends get hit */
    ck_assert_uint_le(seen_min, 15);
    ck_assert_uint_ge(seen_max, 1010);

    uint8_t buf[64];
    struct mtp_wr w;
    struct mtp_error err;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_msg_pad(&w, 26, &env, &err), MTP_ERR_ARG);
    ck_assert_rc(mtp_msg_pad(&w, 1025, &env, NULL), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "max_padding: 26, must be 27..1024");
    /* 27 always fits: the minimum padding for any length */
    for (size_t len = 0; len < 16; len++) {
        mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
        ck_assert_ok(mtp_wr_zero(&w, len));
        ck_assert_ok(mtp_msg_pad(&w, 27, &env, NULL));
        ck_assert_uint_eq(w.len, len + 12 + (16 - (len + 12) % 16) % 16);
    }
    /* a failing random source fails the call and appends nothing */
    struct mtp_script_state ss;
    struct mtp_env empty = mtp_env_scripted(&ss, NULL, 0, 0);
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_rc(mtp_msg_pad(&w, 27, &empty, NULL), MTP_ERR_LIMIT);
    ck_assert_uint_eq(w.len, 0);
    static const uint8_t four[4] = {0};
    struct mtp_env only_four = mtp_env_scripted(&ss, four, sizeof four, 0);
    ck_assert_rc(mtp_msg_pad(&w, 27, &only_four, NULL), MTP_ERR_LIMIT);
    ck_assert_uint_eq(w.len, 0);
    /* no room */
    mtp_wr_init_fixed(&w, buf, 10, NULL);
    ck_assert_rc(mtp_msg_pad(&w, 27, &env, NULL), MTP_ERR_OVERFLOW);
}
END_TEST

static Suite *msgcrypt_suite(void)
{
    Suite *s = suite_create("msgcrypt");
    TCase *tc = tcase_create("vectors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, auth_key_id_is_low_sha1_bytes);
    tcase_add_test(tc, known_message_both_directions);
    suite_add_tcase(s, tc);
    tc = tcase_create("roundtrip");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip_with_random_padding);
    tcase_add_test(tc, padding_bounds_accepted);
    tcase_add_test(tc, padding_helper);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, rejections_in_order, 0, 2);
    tcase_add_test(tc, skip_bits_leave_out_one_check_each);
    tcase_add_test(tc, messages_name_the_field);
    tcase_add_test(tc, output_limits);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(msgcrypt_suite)
