#include <stdlib.h>
#include <string.h>

#include "mtp/transport.h"
#include "mtp_test.h"

struct out {
    uint8_t buf[4096];
    struct mtp_wr w;
    struct mtp_error err;
};

static void out_init(struct out *o)
{
    mtp_wr_init_fixed(&o->w, o->buf, sizeof o->buf, NULL);
    mtp_error_clear(&o->err);
}

static int enc(struct mtp_tr_encoder *e, struct out *o, const char *hex, bool quick_ack)
{
    size_t len;
    uint8_t *p = mtp_test_hex(hex, &len);
    struct mtp_tr_send m = {.data = p, .len = len, .quick_ack = quick_ack};
    return mtp_tr_encode(e, &m, &o->w, &o->err);
}

static uint8_t *pattern(size_t n)
{
    uint8_t *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i + 1);
    return p;
}

START_TEST(abridged_bytes)
{
    struct mtp_tr_encoder e;
    struct out o;
    out_init(&o);
    mtp_tr_encoder_init(&e, MTP_TR_ABRIDGED, MTP_TR_CLIENT, true, NULL);
    ck_assert_ok(enc(&e, &o, "01020304", false));
    ck_assert_ok(enc(&e, &o, "0102030405060708", true));
    ck_assert_hex_eq(o.w.p, o.w.len, "ef0101020304" "820102030405060708");

    /* the boundary: 0x7e words in one byte, 0x7f words in 0x7f + 3 bytes LE */
    uint8_t *p = pattern(1028);
    static const struct {
        size_t len;
        bool qa;
        const char *hdr;
    } cases[] = {
        {504, false, "7e"}, {508, false, "7f7f0000"}, {512, false, "7f800000"},
        {1028, false, "7f010100"}, {504, true, "fe"}, {508, true, "ff7f0000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        out_init(&o);
        mtp_tr_encoder_init(&e, MTP_TR_ABRIDGED, MTP_TR_CLIENT, false, NULL);
        struct mtp_tr_send m = {.data = p, .len = cases[i].len, .quick_ack = cases[i].qa};
        ck_assert_ok(mtp_tr_encode(&e, &m, &o.w, &o.err));
        size_t hl = strlen(cases[i].hdr) / 2;
        ck_assert_uint_eq(o.w.len, hl + cases[i].len);
        ck_assert_hex_eq(o.w.p, hl, cases[i].hdr);
        ck_assert_mem_eq(o.w.p + hl, p, cases[i].len);
    }
    free(p);
}
END_TEST

START_TEST(intermediate_padded_full_bytes)
{
    struct mtp_tr_encoder e;
    struct out o;
    out_init(&o);
    mtp_tr_encoder_init(&e, MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, true, NULL);
    ck_assert_ok(enc(&e, &o, "01020304", false));
    ck_assert_ok(enc(&e, &o, "0102030405", true));
    ck_assert_hex_eq(o.w.p, o.w.len, "eeeeeeee0400000001020304" "050000800102030405");

    out_init(&o);
    mtp_tr_encoder_init(&e, MTP_TR_PADDED, MTP_TR_CLIENT, true, NULL);
    static const uint8_t pad[3] = {0xf1, 0xf2, 0xf3};
    struct mtp_tr_send m = {.data = (const uint8_t *)"\x01\x02\x03\x04", .len = 4, .padding_given = true,
                            .padding = pad, .padding_len = 3};
    ck_assert_ok(mtp_tr_encode(&e, &m, &o.w, &o.err));
    m.quick_ack = true;
    m.padding_len = 0;
    ck_assert_ok(mtp_tr_encode(&e, &m, &o.w, &o.err));
    ck_assert_hex_eq(o.w.p, o.w.len, "dddddddd0700000001020304f1f2f3" "0400008001020304");

    /* full: no tag even when asked; seq counts up; CRC32 from zlib (checked with Python's zlib) */
    out_init(&o);
    mtp_tr_encoder_init(&e, MTP_TR_FULL, MTP_TR_CLIENT, true, NULL);
    ck_assert_ok(enc(&e, &o, "a1a2a3a4", false));
    ck_assert_ok(enc(&e, &o, "a1a2a3a4", false));
    ck_assert_uint_eq(e.seq, 2);
    ck_assert_hex_eq(o.w.p, o.w.len, "1000000000000000a1a2a3a42654770c" "1000000001000000a1a2a3a4b854ddc0");
}
END_TEST

START_TEST(faults_for_receiver_tests)
{
    struct mtp_tr_encoder e;
    struct out o;
    out_init(&o);
    /* abridged: the long form for one word, then the usual short one */
    mtp_tr_encoder_init(&e, MTP_TR_ABRIDGED, MTP_TR_SERVER, false, NULL);
    struct mtp_tr_send m = {.data = (const uint8_t *)"\xa1\xa2\xa3\xa4", .len = 4, .abridged_long = true};
    ck_assert_ok(mtp_tr_encode(&e, &m, &o.w, &o.err));
    ck_assert_ok(enc(&e, &o, "a1a2a3a4", false));
    ck_assert_hex_eq(o.w.p, o.w.len, "7f010000a1a2a3a4" "01a1a2a3a4");

    /* full: the honest frames are 1000000000000000a1a2a3a42654770c and 1000000001000000a1a2a3a4b854ddc0 */
    out_init(&o);
    mtp_tr_encoder_init(&e, MTP_TR_FULL, MTP_TR_SERVER, false, NULL);
    m = (struct mtp_tr_send){.data = (const uint8_t *)"\xa1\xa2\xa3\xa4", .len = 4, .full_bad_crc = true};
    ck_assert_ok(mtp_tr_encode(&e, &m, &o.w, &o.err));
    m.full_bad_crc = false;
    m.full_bad_seq = true;
    ck_assert_ok(mtp_tr_encode(&e, &m, &o.w, &o.err));
    ck_assert_ok(enc(&e, &o, "a1a2a3a4", false));
    ck_assert_uint_eq(e.seq, 3);
    ck_assert_hex_eq(o.w.p, o.w.len,
                     "1000000000000000a1a2a3a42754770c"   /* CRC with its lowest bit flipped */
                     "1000000002000000a1a2a3a4" "5b53524e" /* seq 2 where 1 is due, its CRC right */
                     "1000000002000000a1a2a3a45b53524e"); /* then seq 2, as counted */

    /* a client's decoder refuses both (an honest stream starts at seq 0) */
    static const struct {
        const char *hex;
        int rc;
    } bad[] = {
        {"1000000000000000a1a2a3a42754770c", MTP_ERR_TR_BAD_CRC},
        {"1000000001000000a1a2a3a4b854ddc0", MTP_ERR_TR_BAD_SEQ},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mtp_tr_decoder d;
        mtp_tr_decoder_init(&d, MTP_TR_FULL, MTP_TR_SERVER, NULL);
        size_t n;
        uint8_t *in = mtp_test_hex(bad[i].hex, &n);
        struct mtp_tr_frame f;
        ck_assert_rc(mtp_tr_decode(&d, in, &n, &f, NULL), bad[i].rc); /* the second is seq 1 as the first frame */
        mtp_tr_decoder_free(&d);
    }
}
END_TEST

START_TEST(server_frames_and_quick_acks)
{
    struct mtp_tr_encoder e;
    struct out o;
    out_init(&o);
    /* Servers never send a tag, even with send_tag */
    mtp_tr_encoder_init(&e, MTP_TR_ABRIDGED, MTP_TR_SERVER, true, NULL);
    ck_assert_ok(enc(&e, &o, "01020304", false));
    ck_assert_ok(mtp_tr_encode_ack(&e, 0x92345678u, NULL, 0, &o.w, &o.err));
    ck_assert_hex_eq(o.w.p, o.w.len, "0101020304" "92345678");

    out_init(&o);
    mtp_tr_encoder_init(&e, MTP_TR_INTERMEDIATE, MTP_TR_SERVER, false, NULL);
    ck_assert_ok(mtp_tr_encode_ack(&e, 0x92345678u, NULL, 0, &o.w, &o.err));
    ck_assert_hex_eq(o.w.p, o.w.len, "78563492");

    out_init(&o);
    mtp_tr_encoder_init(&e, MTP_TR_PADDED, MTP_TR_SERVER, false, NULL);
    static const uint8_t pad[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    ck_assert_ok(mtp_tr_encode_ack(&e, 0x92345678u, pad, 0, &o.w, &o.err));
    ck_assert_ok(mtp_tr_encode_ack(&e, 0x92345678u, pad, 8, &o.w, &o.err));
    ck_assert_hex_eq(o.w.p, o.w.len, "08000000ffffffff78563492" "10000000ffffffff785634920102030405060708");
    ck_assert_rc(mtp_tr_encode_ack(&e, 0x92345678u, pad, 9, &o.w, &o.err), MTP_ERR_ARG);

    /* what is not allowed */
    out_init(&o);
    ck_assert_rc(mtp_tr_encode_ack(&e, 0x12345678u, pad, 0, &o.w, &o.err), MTP_ERR_ARG);
    ck_assert_str_eq(o.err.msg, "padded.encode_ack: token 0x12345678 lacks the MSB");
    mtp_tr_encoder_init(&e, MTP_TR_FULL, MTP_TR_SERVER, false, NULL);
    ck_assert_rc(mtp_tr_encode_ack(&e, 0x92345678u, NULL, 0, &o.w, NULL), MTP_ERR_ARG);
    mtp_tr_encoder_init(&e, MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, false, NULL);
    ck_assert_rc(mtp_tr_encode_ack(&e, 0x92345678u, NULL, 0, &o.w, NULL), MTP_ERR_ARG);
    mtp_tr_encoder_init(&e, MTP_TR_INTERMEDIATE, MTP_TR_SERVER, false, NULL);
    ck_assert_rc(mtp_tr_encode_ack(&e, 0x92345678u, pad, 1, &o.w, NULL), MTP_ERR_ARG);
    mtp_error_clear(&o.err);
    ck_assert_rc(enc(&e, &o, "01020304", true), MTP_ERR_ARG);
    ck_assert_str_eq(o.err.msg, "intermediate.encode: only clients request quick acks");
    ck_assert_uint_eq(o.w.len, 0);
}
END_TEST

START_TEST(padding_from_env)
{
    /* env hands out: a length byte (0x23 -> 35 % 16 = 3), then the 3 padding bytes */
    static const uint8_t script[] = {0x23, 0xaa, 0xbb, 0xcc, 0x10, 0x09, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    struct mtp_script_state st;
    struct mtp_env env = mtp_env_scripted(&st, script, sizeof script, 0);
    struct mtp_tr_encoder e;
    struct out o;
    out_init(&o);
    mtp_tr_encoder_init(&e, MTP_TR_PADDED, MTP_TR_CLIENT, false, &env);
    ck_assert_ok(enc(&e, &o, "01020304", false));
    /* 0x10 -> 0 padding bytes */
    ck_assert_ok(enc(&e, &o, "05060708", false));
    ck_assert_hex_eq(o.w.p, o.w.len, "0700000001020304aabbcc" "0400000005060708");
    /* server ack padding: 0x09 -> 9 % 9 = 0; then the script runs dry */
    mtp_tr_encoder_init(&e, MTP_TR_PADDED, MTP_TR_SERVER, false, &env);
    out_init(&o);
    ck_assert_ok(mtp_tr_encode_ack(&e, 0x80000000u, NULL, 0, &o.w, &o.err));
    ck_assert_hex_eq(o.w.p, o.w.len, "08000000ffffffff00000080");
    st.pos = sizeof script; /* nothing left */
    ck_assert_rc(enc(&e, &o, "01020304", false), MTP_ERR_LIMIT);
    ck_assert_str_eq(o.err.msg, "padded.encode: randomness for the padding length failed");
    /* no env and no padding */
    mtp_tr_encoder_init(&e, MTP_TR_PADDED, MTP_TR_CLIENT, false, NULL);
    out_init(&o);
    ck_assert_rc(enc(&e, &o, "01020304", false), MTP_ERR_ARG);
}
END_TEST

START_TEST(unencodable_payloads)
{
    struct mtp_tr_encoder e;
    struct out o;
    out_init(&o);
    mtp_tr_encoder_init(&e, MTP_TR_ABRIDGED, MTP_TR_CLIENT, true, NULL);
    ck_assert_rc(enc(&e, &o, "0102030405", false), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_str_eq(o.err.msg, "abridged.encode: not a multiple of 4 (payload of 5 bytes)");
    ck_assert_uint_eq(o.w.len, 0);
    ck_assert(e.tag_pending);
    static const enum mtp_tr_kind kinds[] = {MTP_TR_ABRIDGED, MTP_TR_INTERMEDIATE, MTP_TR_PADDED, MTP_TR_FULL};
    for (size_t i = 0; i < 4; i++) {
        mtp_tr_encoder_init(&e, kinds[i], MTP_TR_CLIENT, true, NULL);
        struct mtp_tr_send m = {.data = NULL, .len = 0, .padding_given = true};
        out_init(&o);
        ck_assert_rc(mtp_tr_encode(&e, &m, &o.w, &o.err), MTP_ERR_TR_BAD_LENGTH);
    }
    /* a payload whose word count needs more than 3 bytes (not allocated: never read) */
    mtp_tr_encoder_init(&e, MTP_TR_ABRIDGED, MTP_TR_CLIENT, false, NULL);
    struct mtp_tr_send huge = {.data = o.buf, .len = (size_t)1 << 26};
    ck_assert_rc(mtp_tr_encode(&e, &huge, &o.w, &o.err), MTP_ERR_TR_BAD_LENGTH);
    mtp_tr_encoder_init(&e, MTP_TR_FULL, MTP_TR_CLIENT, false, NULL);
    ck_assert_rc(enc(&e, &o, "01020304", true), MTP_ERR_ARG);
    mtp_tr_encoder_init(&e, MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, false, NULL);
    struct mtp_tr_send padded_wrong = {.data = o.buf, .len = 4, .padding_given = true};
    ck_assert_rc(mtp_tr_encode(&e, &padded_wrong, &o.w, NULL), MTP_ERR_ARG);
    mtp_tr_encoder_init(&e, MTP_TR_PADDED, MTP_TR_CLIENT, false, NULL);
    uint8_t pad[16] = {0};
    struct mtp_tr_send too_much = {.data = o.buf, .len = 4, .padding_given = true, .padding = pad, .padding_len = 16};
    ck_assert_rc(mtp_tr_encode(&e, &too_much, &o.w, NULL), MTP_ERR_ARG);
}
END_TEST

START_TEST(output_overflow_leaves_nothing_behind)
{
    uint8_t small[7];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, small, sizeof small, NULL);
    struct mtp_tr_encoder e;
    mtp_tr_encoder_init(&e, MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, true, NULL);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_tr_send m = {.data = (const uint8_t *)"\x01\x02\x03\x04", .len = 4};
    ck_assert_rc(mtp_tr_encode(&e, &m, &w, &err), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(w.len, 0);
    ck_assert(e.tag_pending);
    ck_assert_uint_eq(e.seq, 0);

    mtp_wr_init_fixed(&w, small, sizeof small, NULL);
    mtp_tr_encoder_init(&e, MTP_TR_FULL, MTP_TR_CLIENT, false, NULL);
    ck_assert_rc(mtp_tr_encode(&e, &m, &w, NULL), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(e.seq, 0);

    /* the tag alone, when asked for */
    mtp_wr_init_fixed(&w, small, sizeof small, NULL);
    mtp_tr_encoder_init(&e, MTP_TR_PADDED, MTP_TR_CLIENT, true, NULL);
    ck_assert_ok(mtp_tr_encode_tag(&e, &w, NULL));
    ck_assert_ok(mtp_tr_encode_tag(&e, &w, NULL));
    ck_assert_hex_eq(w.p, w.len, "dddddddd");
}
END_TEST

static Suite *tr_encode_suite(void)
{
    Suite *s = suite_create("tr_encode");
    TCase *tc = tcase_create("bytes");
    tcase_add_test(tc, abridged_bytes);
    tcase_add_test(tc, intermediate_padded_full_bytes);
    tcase_add_test(tc, server_frames_and_quick_acks);
    tcase_add_test(tc, faults_for_receiver_tests);
    tcase_add_test(tc, padding_from_env);
    suite_add_tcase(s, tc);
    TCase *bad = tcase_create("malformed");
    tcase_add_test(bad, unencodable_payloads);
    tcase_add_test(bad, output_overflow_leaves_nothing_behind);
    suite_add_tcase(s, bad);
    return s;
}

MTP_TEST_MAIN(tr_encode_suite)
