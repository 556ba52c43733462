#include <stdlib.h>
#include <string.h>

#include "mtp/obfs.h"
#include "mtp_test.h"

/* Known answers from Telethon 1.25.1 (vectors/transport/obfuscated.json #1 and #13). */
static const char *plain_init =
    "42294a5d01fafcea611c59b34ef09ab81468de680e49cf93964b9ac590b8e209d58e32afd82a6ddb267b6ab5f0efeffe21b53633f9c6c068"
    "efefefef5c359dd9";
static const char *plain_wire =
    "42294a5d01fafcea611c59b34ef09ab81468de680e49cf93964b9ac590b8e209d58e32afd82a6ddb267b6ab5f0efeffe21b53633f9c6c068"
    "50376b9446763371";
static const char *plain_next = "13ed8001b0d1a55481f3d1555ffb3162b1808280";
static const char *plain_next_wire = "d6efbc7c7efe182c81a400a3c89d377f7be7e265";

static const char *dd_init =
    "4226937b9d3d088f64aabac55ae0a6a3727c115bc3009caeddf94a847de7c5984eb374ae6831b650f83f99f690cfee3e1636f8b4a6468f2d"
    "dddddddd040089bf";
static const char *dd_secret = "ddd8126e73d27f55ebcb3a6d2d1c12fce7";
static const char *dd_wire =
    "4226937b9d3d088f64aabac55ae0a6a3727c115bc3009caeddf94a847de7c5984eb374ae6831b650f83f99f690cfee3e1636f8b4a6468f2d"
    "f204a90c113b6fb8";
static const char *dd_next = "2307df8c597f7ccc9bcaf9849d7d24f17b2380aa";
static const char *dd_next_wire = "cf60dda915970df1bbf86ce35d709261026ef182";

static void parse_secret(const char *hex, struct mtp_obfs_secret *s)
{
    size_t len;
    uint8_t *p = mtp_test_hex(hex, &len);
    ck_assert_ok(mtp_obfs_secret_parse(s, p, len, NULL));
}

START_TEST(secrets)
{
    struct mtp_obfs_secret s;
    ck_assert_ok(mtp_obfs_secret_parse(&s, NULL, 0, NULL));
    ck_assert_int_eq(s.mode, MTP_OBFS_SECRET_NONE);
    parse_secret("00112233445566778899aabbccddeeff", &s);
    ck_assert_int_eq(s.mode, MTP_OBFS_SECRET_SIMPLE);
    ck_assert_hex_eq(s.key, 16, "00112233445566778899aabbccddeeff");
    parse_secret("dd00112233445566778899aabbccddeeff", &s);
    ck_assert_int_eq(s.mode, MTP_OBFS_SECRET_PADDED);
    ck_assert_hex_eq(s.key, 16, "00112233445566778899aabbccddeeff");
    /* any other extra first byte also means padded ("clients should default to the padded intermediate") */
    parse_secret("0100112233445566778899aabbccddeeff", &s);
    ck_assert_int_eq(s.mode, MTP_OBFS_SECRET_PADDED);
    parse_secret("ee00112233445566778899aabbccddeeff6578616d706c652e636f6d", &s);
    ck_assert_int_eq(s.mode, MTP_OBFS_SECRET_FAKE_TLS);
    ck_assert_hex_eq(s.key, 16, "00112233445566778899aabbccddeeff");
    struct mtp_error err;
    mtp_error_clear(&err);
    size_t len;
    uint8_t *p = mtp_test_hex("dd00112233445566778899aabbccddeeff00", &len);
    ck_assert_rc(mtp_obfs_secret_parse(&s, p, len, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "secret: 18 bytes; expected 16, 17 (0xdd + 16) or 0xee + 16 + domain");
    ck_assert_rc(mtp_obfs_secret_parse(&s, p, 15, NULL), MTP_ERR_ARG);
}
END_TEST

static void known_answer(const char *init_hex, const char *secret_hex, const char *wire_hex, const char *next_hex,
                         const char *next_wire_hex, enum mtp_tr_kind kind, int16_t dc)
{
    uint8_t init[64], wire[64];
    memcpy(init, mtp_test_hex(init_hex, NULL), 64);
    struct mtp_obfs_secret secret = {0};
    if (secret_hex)
        parse_secret(secret_hex, &secret);
    struct mtp_obfs c, s;
    struct mtp_obfs_keys ck, sk;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_obfs_client_init(&c, init, &secret, wire, &ck, &err));
    ck_assert_hex_eq(wire, 64, wire_hex);
    ck_assert_int_eq(c.kind, kind);
    ck_assert_int_eq(c.dc, dc);
    uint8_t w2[64];
    ck_assert_ok(mtp_obfs_wire(init, &secret, w2));
    ck_assert_mem_eq(w2, wire, 64);

    ck_assert_ok(mtp_obfs_server_init(&s, wire, &secret, &sk, &err));
    ck_assert_int_eq(s.kind, kind);
    ck_assert_int_eq(s.dc, dc);
    ck_assert_mem_eq(sk.enc_key, ck.dec_key, 32);
    ck_assert_mem_eq(sk.enc_iv, ck.dec_iv, 16);
    ck_assert_mem_eq(sk.dec_key, ck.enc_key, 32);
    ck_assert_mem_eq(sk.dec_iv, ck.enc_iv, 16);

    /* the client's stream continues after the 64 init bytes */
    size_t n;
    uint8_t *msg = mtp_test_hex(next_hex, &n);
    ck_assert_ok(mtp_obfs_encrypt(&c, msg, n));
    ck_assert_hex_eq(msg, n, next_wire_hex);
    ck_assert_ok(mtp_obfs_decrypt(&s, msg, n));
    ck_assert_hex_eq(msg, n, next_hex);
    /* and the other direction starts at counter 0 on both ends */
    ck_assert_ok(mtp_obfs_encrypt(&s, msg, n));
    ck_assert_ok(mtp_obfs_decrypt(&c, msg, n));
    ck_assert_hex_eq(msg, n, next_hex);
    mtp_obfs_free(&c);
    mtp_obfs_free(&s);
}

START_TEST(telethon_known_answers)
{
    known_answer(plain_init, NULL, plain_wire, plain_next, plain_next_wire, MTP_TR_ABRIDGED, 13660);
    known_answer(dd_init, dd_secret, dd_wire, dd_next, dd_next_wire, MTP_TR_PADDED, 4);
}
END_TEST

START_TEST(derived_keys_are_the_spec_slices)
{
    uint8_t init[64];
    for (size_t i = 0; i < 64; i++)
        init[i] = (uint8_t)i;
    struct mtp_obfs_keys k;
    ck_assert_ok(mtp_obfs_derive(init, NULL, MTP_TR_CLIENT, &k));
    ck_assert_hex_eq(k.enc_key, 32, "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627");
    ck_assert_hex_eq(k.enc_iv, 16, "28292a2b2c2d2e2f3031323334353637");
    ck_assert_hex_eq(k.dec_key, 32, "37363534333231302f2e2d2c2b2a292827262524232221201f1e1d1c1b1a1918");
    ck_assert_hex_eq(k.dec_iv, 16, "17161514131211100f0e0d0c0b0a0908");
    /* with a secret: SHA256(key || secret); SHA256 of 08..27 || 00*16 from Python's hashlib */
    struct mtp_obfs_secret s = {.mode = MTP_OBFS_SECRET_SIMPLE};
    ck_assert_ok(mtp_obfs_derive(init, &s, MTP_TR_SERVER, &k));
    ck_assert_hex_eq(k.dec_iv, 16, "28292a2b2c2d2e2f3031323334353637");
    ck_assert_hex_eq(k.enc_iv, 16, "17161514131211100f0e0d0c0b0a0908");
    ck_assert_hex_eq(k.dec_key, 32, "e6899f489d5cbf619bd9b816974c7e2864991230318c32ee74f030641a5fa4c7");
}
END_TEST

START_TEST(forbidden_inits)
{
    uint8_t base[64];
    memcpy(base, mtp_test_hex(plain_init, NULL), 64);
    ck_assert_ok(mtp_obfs_check_init(base, NULL));
    static const struct {
        const char *first8;
        size_t offset;
    } bad[] = {
        {"ef294a5d01fafcea", 0}, {"48454144" "01fafcea", 0}, {"504f5354" "01fafcea", 0}, {"47455420" "01fafcea", 0},
        {"4f505449" "01fafcea", 0}, {"dddddddd" "01fafcea", 0}, {"eeeeeeee" "01fafcea", 0}, {"16030102" "01fafcea", 0},
        {"42294a5d" "00000000", 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t init[64], wire[64];
        memcpy(init, base, 64);
        memcpy(init, mtp_test_hex(bad[i].first8, NULL), 8);
        struct mtp_error err;
        mtp_error_clear(&err);
        ck_assert_rc(mtp_obfs_check_init(init, &err), MTP_ERR_OBFS_BAD_INIT);
        ck_assert_uint_eq(err.offset, bad[i].offset);
        struct mtp_obfs o;
        ck_assert_rc(mtp_obfs_client_init(&o, init, NULL, wire, NULL, NULL), MTP_ERR_OBFS_BAD_INIT);
        ck_assert_rc(mtp_obfs_server_init(&o, init, NULL, NULL, NULL), MTP_ERR_OBFS_BAD_INIT);
        /* the seeded fault's way round the check: the same 64 bytes as mtp_obfs_wire */
        uint8_t want[64];
        ck_assert_ok(mtp_obfs_client_init_unchecked(&o, init, NULL, wire, NULL, NULL));
        ck_assert_ok(mtp_obfs_wire(init, NULL, want));
        ck_assert_mem_eq(wire, want, 64);
        mtp_obfs_free(&o);
    }
    /* bytes 4..7 only matter when all four are zero; 0xef only as the first byte */
    memcpy(base + 4, "\x00\x00\x00\x01", 4);
    base[1] = 0xef;
    ck_assert_ok(mtp_obfs_check_init(base, NULL));
}
END_TEST

START_TEST(bad_tags)
{
    uint8_t init[64], wire[64];
    memcpy(init, mtp_test_hex(plain_init, NULL), 64);
    struct mtp_obfs o;
    struct mtp_error err;
    static const uint32_t tags[] = {0x04030201u, 0, 0xefefefeeu, 0x000000efu};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        mtp_store_u32(init + 56, tags[i]);
        mtp_error_clear(&err);
        ck_assert_rc(mtp_obfs_client_init(&o, init, NULL, wire, NULL, &err), MTP_ERR_OBFS_BAD_TAG);
        ck_assert_uint_eq(err.offset, 56);
        ck_assert_ok(mtp_obfs_wire(init, NULL, wire));
        ck_assert_rc(mtp_obfs_server_init(&o, wire, NULL, NULL, NULL), MTP_ERR_OBFS_BAD_TAG);
    }
    /* a 0xdd secret allows padded only, on both ends; a plain 16-byte secret allows any tag */
    struct mtp_obfs_secret dd, simple;
    parse_secret(dd_secret, &dd);
    parse_secret("d8126e73d27f55ebcb3a6d2d1c12fce7", &simple);
    mtp_store_u32(init + 56, 0xeeeeeeeeu);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_obfs_client_init(&o, init, &dd, wire, NULL, &err), MTP_ERR_OBFS_BAD_TAG);
    ck_assert_str_eq(err.msg, "init[56..60): intermediate with a padded-only (0xdd) secret, which requires padded");
    ck_assert_ok(mtp_obfs_wire(init, &dd, wire));
    ck_assert_rc(mtp_obfs_server_init(&o, wire, &dd, NULL, NULL), MTP_ERR_OBFS_BAD_TAG);
    ck_assert_ok(mtp_obfs_server_init(&o, wire, &simple, NULL, NULL));
    ck_assert_int_eq(o.kind, MTP_TR_INTERMEDIATE);
    mtp_obfs_free(&o);
    /* the 0xdd prefix is a hint to clients: a server holding the same 16 bytes reads the init */
    uint8_t good[64];
    memcpy(good, mtp_test_hex(dd_wire, NULL), 64);
    ck_assert_ok(mtp_obfs_server_init(&o, good, &simple, NULL, NULL));
    ck_assert_int_eq(o.kind, MTP_TR_PADDED);
    mtp_obfs_free(&o);
    /* the wrong secret (or none) garbles the tag */
    struct mtp_obfs_secret wrong;
    parse_secret("d8126e73d27f55ebcb3a6d2d1c12fce8", &wrong);
    ck_assert_rc(mtp_obfs_server_init(&o, good, NULL, NULL, NULL), MTP_ERR_OBFS_BAD_TAG);
    ck_assert_rc(mtp_obfs_server_init(&o, good, &wrong, NULL, NULL), MTP_ERR_OBFS_BAD_TAG);
}
END_TEST

START_TEST(make_init_redraws_forbidden_bytes)
{
    /* first draw starts with 0xef, second is usable */
    uint8_t script[128];
    memset(script, 0x11, sizeof script);
    script[0] = 0xef;
    struct mtp_script_state st;
    struct mtp_env env = mtp_env_scripted(&st, script, sizeof script, 0);
    uint8_t init[64];
    ck_assert_ok(mtp_obfs_make_init(&env, MTP_TR_PADDED, -2, init, NULL));
    ck_assert_uint_eq(st.pos, 128);
    ck_assert_hex_eq(init, 8, "1111111111111111");
    ck_assert_hex_eq(init + 56, 8, "ddddddddfeff1111");
    /* dc 0: bytes 60..61 stay random */
    env = mtp_env_scripted(&st, script + 64, 64, 0);
    ck_assert_ok(mtp_obfs_make_init(&env, MTP_TR_ABRIDGED, 0, init, NULL));
    ck_assert_hex_eq(init + 56, 8, "efefefef11111111");
    /* randomness that runs out, or never gives a usable init */
    struct mtp_error err;
    mtp_error_clear(&err);
    env = mtp_env_scripted(&st, script, 10, 0);
    ck_assert_rc(mtp_obfs_make_init(&env, MTP_TR_PADDED, 0, init, &err), MTP_ERR_LIMIT);
    uint8_t *zeros = calloc(64, 64);
    ck_assert_ptr_nonnull(zeros);
    env = mtp_env_scripted(&st, zeros, 64 * 64, 0);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_obfs_make_init(&env, MTP_TR_PADDED, 0, init, &err), MTP_ERR_LIMIT);
    ck_assert_str_eq(err.msg, "obfuscation: 64 random inits in a row were unusable");
    free(zeros);
    ck_assert_rc(mtp_obfs_make_init(&env, MTP_TR_FULL, 0, init, NULL), MTP_ERR_ARG);
}
END_TEST

START_TEST(round_trip_any_chunking)
{
    struct mtp_det_state ds;
    struct mtp_env env = mtp_env_deterministic(&ds, "obfs", 4, 0);
    static const char *secret_hex[] = {NULL, "00112233445566778899aabbccddeeff", "dd00112233445566778899aabbccddeeff",
                                    "ee00112233445566778899aabbccddeeff676f6f676c652e636f6d"};
    for (size_t si = 0; si < 4; si++) {
        struct mtp_obfs_secret secret = {0};
        if (secret_hex[si])
            parse_secret(secret_hex[si], &secret);
        uint8_t init[64], wire[64];
        ck_assert_ok(mtp_obfs_make_init(&env, MTP_TR_PADDED, 2, init, NULL));
        struct mtp_obfs c, s;
        ck_assert_ok(mtp_obfs_client_init(&c, init, &secret, wire, NULL, NULL));
        ck_assert_ok(mtp_obfs_server_init(&s, wire, &secret, NULL, NULL));
        uint8_t plain[1000], buf[1000];
        for (size_t i = 0; i < sizeof plain; i++)
            plain[i] = (uint8_t)(i * 31 + si);
        /* encrypt in pieces of 1, 2, 3, ... bytes; decrypt in pieces of 17 */
        memcpy(buf, plain, sizeof buf);
        for (size_t at = 0, step = 1; at < sizeof buf; at += step, step++)
            ck_assert_ok(mtp_obfs_encrypt(&c, buf + at, at + step > sizeof buf ? sizeof buf - at : step));
        ck_assert_int_ne(memcmp(buf, plain, sizeof buf), 0);
        for (size_t at = 0; at < sizeof buf; at += 17)
            ck_assert_ok(mtp_obfs_decrypt(&s, buf + at, at + 17 > sizeof buf ? sizeof buf - at : 17));
        ck_assert_mem_eq(buf, plain, sizeof buf);
        /* server to client */
        ck_assert_ok(mtp_obfs_encrypt(&s, buf, 500));
        ck_assert_ok(mtp_obfs_encrypt(&s, buf + 500, 500));
        ck_assert_ok(mtp_obfs_decrypt(&c, buf, 999));
        ck_assert_ok(mtp_obfs_decrypt(&c, buf + 999, 1));
        ck_assert_mem_eq(buf, plain, sizeof buf);
        mtp_obfs_free(&c);
        mtp_obfs_free(&s);
    }
    struct mtp_obfs none = {0};
    uint8_t b[1];
    ck_assert_rc(mtp_obfs_encrypt(&none, b, 1), MTP_ERR_ARG);
}
END_TEST

/* A decoder's end from logged keys (the Telethon dd-secret known answer,
 * whose keys the decoder cannot derive without the secret): the init checks
 * out, both directions decrypt, a skipped stretch keeps the streams in step,
 * and keys that do not fit the init are refused by its tag. */
START_TEST(from_logged_keys)
{
    size_t n;
    struct mtp_obfs_secret secret;
    parse_secret(dd_secret, &secret);
    const uint8_t *init = mtp_test_hex(dd_init, &n);
    const uint8_t *wire = mtp_test_hex(dd_wire, &n);
    struct mtp_obfs_keys keys;
    ck_assert_ok(mtp_obfs_derive(init, &secret, MTP_TR_SERVER, &keys));
    struct mtp_obfs o, c;
    ck_assert_ok(mtp_obfs_from_keys(&o, wire, &keys, NULL));
    ck_assert_int_eq(o.kind, MTP_TR_PADDED);
    ck_assert_int_eq(o.dc, 4);
    uint8_t buf[20];
    memcpy(buf, mtp_test_hex(dd_next_wire, &n), sizeof buf);
    ck_assert_ok(mtp_obfs_decrypt(&o, buf, sizeof buf));
    ck_assert_hex_eq(buf, sizeof buf, dd_next);
    /* s2c: what a real client end decrypts, the logged end decrypts with its tx stream */
    uint8_t w2[64];
    ck_assert_ok(mtp_obfs_client_init(&c, init, &secret, w2, NULL, NULL));
    ck_assert_mem_eq(w2, wire, 64);
    uint8_t s2c[300], want[300];
    for (size_t i = 0; i < sizeof s2c; i++)
        s2c[i] = want[i] = (uint8_t)(i * 7);
    struct mtp_obfs srv;
    ck_assert_ok(mtp_obfs_server_init(&srv, wire, &secret, NULL, NULL));
    ck_assert_ok(mtp_obfs_encrypt(&srv, s2c, sizeof s2c));
    /* 100 bytes never seen (a gap in a capture), then the rest decrypts */
    ck_assert_ok(mtp_obfs_skip(&o, false, 100));
    ck_assert_ok(mtp_obfs_encrypt(&o, s2c + 100, 200));
    ck_assert_mem_eq(s2c + 100, want + 100, 200);
    mtp_obfs_free(&srv);
    mtp_obfs_free(&c);
    mtp_obfs_free(&o);
    /* the keys of no secret do not decrypt this init to a tag */
    ck_assert_ok(mtp_obfs_derive(init, NULL, MTP_TR_SERVER, &keys));
    ck_assert_rc(mtp_obfs_from_keys(&o, wire, &keys, NULL), MTP_ERR_OBFS_BAD_TAG);
    ck_assert_ptr_null(o.rx);
}
END_TEST

static Suite *obfs_suite(void)
{
    Suite *s = suite_create("obfs");
    TCase *tc = tcase_create("obfs");
    tcase_add_test(tc, secrets);
    tcase_add_test(tc, telethon_known_answers);
    tcase_add_test(tc, derived_keys_are_the_spec_slices);
    tcase_add_test(tc, round_trip_any_chunking);
    tcase_add_test(tc, from_logged_keys);
    suite_add_tcase(s, tc);
    TCase *bad = tcase_create("malformed");
    tcase_add_test(bad, forbidden_inits);
    tcase_add_test(bad, bad_tags);
    tcase_add_test(bad, make_init_redraws_forbidden_bytes);
    suite_add_tcase(s, bad);
    return s;
}

MTP_TEST_MAIN(obfs_suite)
