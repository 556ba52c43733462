#include <stdio.h>
#include <string.h>

#include "mtp/transport.h"
#include "mtp_test.h"

/* A 64-byte obfuscated init as Telethon 1.25.1 sent it (vectors/transport/obfuscated.json #3). */
static const char *obfs_wire_hex(void)
{
    return "4280b581f07ca12b45fdff3d686ba2466a3e59a955c12ba4a330e0999514335cb0db9b66c2f545e5e1527ae4fa9508be7b"
           "8da6896fee2b0deb199cc655aaf384";
}

struct expect {
    enum mtp_tr_envelope envelope;
    enum mtp_tr_kind kind;
    size_t decided_at;  /* bytes needed before the answer */
    size_t header_len;
    size_t replay_len;
};

/* One byte at a time: NEED_MORE until exactly decided_at bytes, and each byte taken. */
static void check_bytewise(const char *hex, const struct expect *want)
{
    size_t len;
    uint8_t *p = mtp_test_hex(hex, &len);
    struct mtp_tr_detector det;
    mtp_tr_detector_init(&det);
    struct mtp_tr_detection d;
    int rc = MTP_ERR_NEED_MORE;
    size_t i;
    for (i = 0; i < len && rc == MTP_ERR_NEED_MORE; i++) {
        size_t n = 1;
        rc = mtp_tr_detect(&det, p + i, &n, &d, NULL);
        ck_assert_uint_eq(n, 1);
    }
    ck_assert_rc(rc, MTP_OK);
    ck_assert_uint_eq(i, want->decided_at);
    ck_assert_int_eq(d.envelope, want->envelope);
    if (want->envelope == MTP_TR_ENV_PLAIN)
        ck_assert_int_eq(d.kind, want->kind);
    ck_assert_uint_eq(d.header_len, want->header_len);
    ck_assert_uint_eq(d.replay_len, want->replay_len);
    if (d.replay_len)
        ck_assert_mem_eq(d.replay, p, d.replay_len);
    if (want->envelope == MTP_TR_ENV_OBFS2)
        ck_assert_mem_eq(d.init, p, 64);
}

/* All at once: consumes exactly what it needed and no byte of what follows. */
static void check_whole(const char *hex, const struct expect *want)
{
    size_t len;
    uint8_t *p = mtp_test_hex(hex, &len);
    struct mtp_tr_detector det;
    mtp_tr_detector_init(&det);
    struct mtp_tr_detection d;
    size_t n = len;
    ck_assert_ok(mtp_tr_detect(&det, p, &n, &d, NULL));
    ck_assert_uint_eq(n, want->decided_at);
    ck_assert_int_eq(d.envelope, want->envelope);
    ck_assert_uint_eq(d.header_len, want->header_len);
    /* decided: no more input taken */
    struct mtp_error err;
    mtp_error_clear(&err);
    n = len - want->decided_at;
    ck_assert_rc(mtp_tr_detect(&det, p + want->decided_at, &n, &d, &err), MTP_ERR_ARG);
    ck_assert_uint_eq(n, 0);
}

START_TEST(every_transport_one_byte_at_a_time)
{
    static const struct {
        const char *hex;
        struct expect want;
    } cases[] = {
        {"ef01aabbccdd", {MTP_TR_ENV_PLAIN, MTP_TR_ABRIDGED, 1, 1, 0}},
        {"eeeeeeee04000000aabbccdd", {MTP_TR_ENV_PLAIN, MTP_TR_INTERMEDIATE, 4, 4, 0}},
        {"dddddddd04000000aabbccdd", {MTP_TR_ENV_PLAIN, MTP_TR_PADDED, 4, 4, 0}},
        {"1000000000000000a1a2a3a42654770c", {MTP_TR_ENV_PLAIN, MTP_TR_FULL, 8, 0, 8}},
        {"504f5354202f61706920485454502f312e31", {MTP_TR_ENV_HTTP, 0, 4, 0, 4}},
        {"474554202f20485454502f312e31", {MTP_TR_ENV_HTTP, 0, 4, 0, 4}},
        {"48454144202f", {MTP_TR_ENV_HTTP, 0, 4, 0, 4}},
        {"4f5054494f4e53202f", {MTP_TR_ENV_HTTP, 0, 4, 0, 4}},
        {"1603010200010001fc0303", {MTP_TR_ENV_TLS, 0, 4, 0, 4}},
        /* a broken tag run is no tag: 8 bytes tell full (seq 0) ... */
        {"eeeeee0500000000", {MTP_TR_ENV_PLAIN, MTP_TR_FULL, 8, 0, 8}},
        {"dd00000000000000", {MTP_TR_ENV_PLAIN, MTP_TR_FULL, 8, 0, 8}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_bytewise(cases[i].hex, &cases[i].want);
        check_whole(cases[i].hex, &cases[i].want);
    }
    /* ... or 64 tell an obfuscated init */
    struct expect obfs = {MTP_TR_ENV_OBFS2, 0, 64, 64, 0};
    check_bytewise(obfs_wire_hex(), &obfs);
    char longer[2 * 70 + 1];
    snprintf(longer, sizeof longer, "%s0102030405", obfs_wire_hex());
    check_whole(longer, &obfs);
}
END_TEST

START_TEST(ambiguous_prefixes_wait)
{
    /* Each of these could still become more than one transport. */
    static const char *undecided[] = {"", "ee", "eeeeee", "dd", "dddddd", "01", "01000000", "0100000002000000",
                                      "0100000002000000030000000400000005000000060000000700000008000000"};
    for (size_t i = 0; i < sizeof undecided / sizeof undecided[0]; i++) {
        size_t len;
        uint8_t *p = mtp_test_hex(undecided[i], &len);
        struct mtp_tr_detector det;
        mtp_tr_detector_init(&det);
        struct mtp_tr_detection d;
        size_t n = len;
        ck_assert_rc(mtp_tr_detect(&det, p, &n, &d, NULL), MTP_ERR_NEED_MORE);
        ck_assert_uint_eq(n, len);
        ck_assert_uint_eq(det.have, len);
    }
    /* A first byte 0xef decides at once, whatever follows. */
    struct mtp_tr_detector det;
    mtp_tr_detector_init(&det);
    struct mtp_tr_detection d;
    uint8_t ef = 0xef;
    size_t n = 1;
    ck_assert_ok(mtp_tr_detect(&det, &ef, &n, &d, NULL));
    ck_assert_int_eq(d.kind, MTP_TR_ABRIDGED);
}
END_TEST

START_TEST(split_feeds)
{
    /* 3 + 3 + 2 bytes for full: the third feed decides and takes only what it needs */
    size_t len;
    uint8_t *p = mtp_test_hex("1000000000000000a1a2a3a42654770c", &len);
    struct mtp_tr_detector det;
    mtp_tr_detector_init(&det);
    struct mtp_tr_detection d;
    size_t n = 3;
    ck_assert_rc(mtp_tr_detect(&det, p, &n, &d, NULL), MTP_ERR_NEED_MORE);
    n = 3;
    ck_assert_rc(mtp_tr_detect(&det, p + 3, &n, &d, NULL), MTP_ERR_NEED_MORE);
    n = len - 6;
    ck_assert_ok(mtp_tr_detect(&det, p + 6, &n, &d, NULL));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(d.replay_len, 8);
    ck_assert_hex_eq(d.replay, d.replay_len, "1000000000000000");
}
END_TEST

static Suite *tr_detect_suite(void)
{
    Suite *s = suite_create("tr_detect");
    TCase *tc = tcase_create("detect");
    tcase_add_test(tc, every_transport_one_byte_at_a_time);
    tcase_add_test(tc, ambiguous_prefixes_wait);
    tcase_add_test(tc, split_feeds);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tr_detect_suite)
