/* Sorting frames into quick acks, transport errors, unencrypted and encrypted
 * packets, for every transport, from frames the real decoders produce. */
#include <string.h>

#include "mtp/transport.h"
#include "mtp_test.h"

/* Encodes one payload (or, server only, a quick-ack token) and decodes it back as one frame. */
static struct mtp_tr_frame roundtrip(enum mtp_tr_kind kind, enum mtp_tr_side from, const uint8_t *p, size_t len,
                                     bool ack, uint32_t token, size_t padding, struct mtp_wr *w,
                                     struct mtp_tr_decoder *d)
{
    struct mtp_tr_encoder e;
    mtp_tr_encoder_init(&e, kind, from, from == MTP_TR_CLIENT, NULL);
    mtp_wr_init_dyn(w, 256, NULL);
    static const uint8_t pad[15] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    if (ack) {
        ck_assert_ok(mtp_tr_encode_ack(&e, token, kind == MTP_TR_PADDED ? pad : NULL, kind == MTP_TR_PADDED ? 3 : 0, w, NULL));
    } else {
        struct mtp_tr_send m = {.data = p, .len = len, .quick_ack = from == MTP_TR_CLIENT && kind != MTP_TR_FULL, .padding_given = kind == MTP_TR_PADDED,
                                .padding = pad, .padding_len = padding};
        ck_assert_ok(mtp_tr_encode(&e, &m, w, NULL));
    }
    mtp_tr_decoder_init(d, kind, from, NULL);
    struct mtp_tr_frame f;
    size_t n = w->len;
    ck_assert_ok(mtp_tr_decode(d, w->p, &n, &f, NULL));
    ck_assert_uint_eq(n, w->len);
    return f;
}

START_TEST(every_kind_on_every_transport)
{
    enum mtp_tr_kind kind = (enum mtp_tr_kind)(_i + 1);
    size_t padding = kind == MTP_TR_PADDED ? 7 : 0;
    struct mtp_wr w;
    struct mtp_tr_decoder d;
    struct mtp_tr_packet pk;
    /* an unencrypted message: auth_key_id 0, msg_id, length 4, a constructor */
    uint8_t plain[24] = {0};
    plain[16] = 4;
    memcpy(plain + 20, "\xf1\x8e\x7e\xbe", 4);
    struct mtp_tr_frame f = roundtrip(kind, MTP_TR_CLIENT, plain, sizeof plain, false, 0, padding, &w, &d);
    ck_assert_ok(mtp_tr_sort_packet(kind, MTP_TR_CLIENT, &f, &pk, NULL));
    ck_assert_int_eq(pk.kind, MTP_TR_PKT_PLAIN);
    ck_assert_uint_eq(pk.len, sizeof plain);
    ck_assert_uint_eq(pk.padding, padding);
    ck_assert(pk.quick_ack == (kind != MTP_TR_FULL));
    ck_assert_uint_eq(pk.auth_key_id, 0);
    mtp_tr_decoder_free(&d);
    mtp_wr_free(&w);
    /* an encrypted one: auth_key_id, msg_key, two blocks */
    uint8_t enc[56];
    for (size_t i = 0; i < sizeof enc; i++)
        enc[i] = (uint8_t)(i + 1);
    f = roundtrip(kind, MTP_TR_SERVER, enc, sizeof enc, false, 0, padding, &w, &d);
    ck_assert_ok(mtp_tr_sort_packet(kind, MTP_TR_SERVER, &f, &pk, NULL));
    ck_assert_int_eq(pk.kind, MTP_TR_PKT_ENCRYPTED);
    ck_assert_uint_eq(pk.len, sizeof enc);
    ck_assert(!pk.quick_ack);
    ck_assert_uint_eq(pk.auth_key_id, 0x0807060504030201ull);
    ck_assert_ptr_eq(pk.data, f.data);
    mtp_tr_decoder_free(&d);
    mtp_wr_free(&w);
    /* a transport error from the server ... */
    uint8_t code[4];
    mtp_tr_error_payload(-404, code);
    f = roundtrip(kind, MTP_TR_SERVER, code, 4, false, 0, padding ? 3 : 0, &w, &d);
    ck_assert_ok(mtp_tr_sort_packet(kind, MTP_TR_SERVER, &f, &pk, NULL));
    ck_assert_int_eq(pk.kind, MTP_TR_PKT_TRANSPORT_ERROR);
    ck_assert_int_eq(pk.error_code, -404);
    ck_assert_uint_eq(pk.len, 4);
    mtp_tr_decoder_free(&d);
    mtp_wr_free(&w);
    /* ... is a short packet from a client */
    f = roundtrip(kind, MTP_TR_CLIENT, code, 4, false, 0, 0, &w, &d);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tr_sort_packet(kind, MTP_TR_CLIENT, &f, &pk, &err), MTP_ERR_TR_SHORT_PACKET);
    ck_assert_str_eq(err.msg, "a 4-byte packet has no auth_key_id");
    mtp_tr_decoder_free(&d);
    mtp_wr_free(&w);
    /* a quick ack (full has none) */
    if (kind != MTP_TR_FULL) {
        f = roundtrip(kind, MTP_TR_SERVER, NULL, 0, true, 0x80c0ffeeu, 0, &w, &d);
        ck_assert_ok(mtp_tr_sort_packet(kind, MTP_TR_SERVER, &f, &pk, NULL));
        ck_assert_int_eq(pk.kind, MTP_TR_PKT_QUICK_ACK);
        ck_assert_uint_eq(pk.ack_token, 0x80c0ffeeu);
        ck_assert_uint_eq(pk.len, 0);
        mtp_tr_decoder_free(&d);
        mtp_wr_free(&w);
    }
}
END_TEST

START_TEST(padded_frames_that_fit_no_packet)
{
    /* 30 bytes with auth_key_id 0 and a length claim of 100 */
    uint8_t p[30] = {0};
    p[16] = 100;
    struct mtp_tr_frame f = {.data = p, .len = sizeof p};
    struct mtp_tr_packet pk;
    ck_assert_rc(mtp_tr_sort_packet(MTP_TR_PADDED, MTP_TR_CLIENT, &f, &pk, NULL), MTP_ERR_TR_BAD_LENGTH);
    /* the same bytes on intermediate are an unencrypted packet (its length is the session's business) */
    ck_assert_ok(mtp_tr_sort_packet(MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, &f, &pk, NULL));
    ck_assert_int_eq(pk.kind, MTP_TR_PKT_PLAIN);
    ck_assert_str_eq(mtp_tr_packet_kind_name(MTP_TR_PKT_TRANSPORT_ERROR), "transport_error");
}
END_TEST

static Suite *tr_packet_suite(void)
{
    Suite *s = suite_create("tr_packet");
    TCase *tc = tcase_create("sort");
    tcase_add_loop_test(tc, every_kind_on_every_transport, 0, 4);
    tcase_add_test(tc, padded_frames_that_fit_no_packet);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tr_packet_suite)
