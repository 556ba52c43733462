/* Encrypted packets between the two cores: the session layer over MTProto 2.0
 * message crypto, quick acks computed on both sides, and rejected packets. */
#include "mtp/msgcrypt.h"
#include "mtp_session_pair.h"

static const uint8_t QUERY[4] = {0x6b, 0x18, 0xf9, 0xc4};
static const uint8_t RESULT[8] = {0xaa, 0xbb, 0xcc, 0xdd, 9, 8, 7, 6};

static void keys(struct pair *p, uint8_t key[256])
{
    for (int i = 0; i < 256; i++)
        key[i] = (uint8_t)(i * 37 + 11);
    mtp_session_set_auth_key(&p->c, key);
    mtp_session_set_auth_key(&p->s, key);
}

/* One packet from `from` into p->buf. */
static int flush_packet(struct pair *p, struct mtp_session *from)
{
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, p->buf, sizeof p->buf, NULL);
    int rc = mtp_session_flush_packet(from, &w);
    p->len = rc > 0 ? w.len : 0;
    return rc;
}

START_TEST(query_and_result_encrypted)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t key[256];
    keys(p, key);
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(flush_packet(p, &p->c), 1);
    uint8_t id[8];
    mtp_auth_key_id(key, id);
    ck_assert_mem_eq(p->buf, id, 8);
    ck_assert_uint_eq((p->len - 24) % 16, 0);
    struct mtp_error err;
    uint32_t token = 0;
    ck_assert_ok(mtp_session_recv_packet(&p->s, p->buf, p->len, &token, &err));
    ck_assert_uint_eq(ev_last(&p->slog, MTP_SESSION_EV_MESSAGE)->msg_id, q);
    /* Both sides compute the same quick-ack token. */
    ck_assert_uint_eq(token, mtp_session_last_quick_ack(&p->c));
    ck_assert(mtp_session_quick_ack(&p->c, token));
    ck_assert_uint_eq(ev_last(&p->clog, MTP_SESSION_EV_QUICK_ACK)->ref, q);

    ck_assert_ok(mtp_session_send_result(&p->s, q, RESULT, 8, 0));
    ck_assert_int_eq(flush_packet(p, &p->s), 1);
    ck_assert_ok(mtp_session_recv_packet(&p->c, p->buf, p->len, NULL, &err));
    const struct ev_rec *r = ev_last(&p->clog, MTP_SESSION_EV_RESULT);
    ck_assert_uint_eq(r->ref, q);
    ck_assert_mem_eq(r->body, RESULT, 8);
    ck_assert_int_eq(flush_packet(p, &p->s), 0);
    pair_free(p);
}
END_TEST

START_TEST(tampered_packets_are_discarded)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t key[256];
    keys(p, key);
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, NULL));
    ck_assert_int_eq(flush_packet(p, &p->c), 1);
    struct mtp_error err;
    p->buf[40] ^= 1;
    ck_assert_rc(mtp_session_recv_packet(&p->s, p->buf, p->len, NULL, &err), MTP_ERR_MSG_KEY_MISMATCH);
    ck_assert_int_eq(ev_last(&p->slog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_MSG_KEY_MISMATCH);
    ck_assert_uint_eq(ev_count(&p->slog, MTP_SESSION_EV_MESSAGE), 0);
    ck_assert(!p->s.started);
    p->buf[40] ^= 1;
    /* Decrypted as if the server had sent it: the other x. */
    ck_assert_rc(mtp_session_recv_packet(&p->c, p->buf, p->len, NULL, &err), MTP_ERR_MSG_KEY_MISMATCH);
    /* Another key. */
    uint8_t other[256];
    memcpy(other, key, sizeof other);
    other[0] ^= 0xff;
    mtp_session_set_auth_key(&p->s, other);
    ck_assert_rc(mtp_session_recv_packet(&p->s, p->buf, p->len, NULL, &err), MTP_ERR_AUTH_KEY_ID_MISMATCH);
    mtp_session_set_auth_key(&p->s, key);
    ck_assert_ok(mtp_session_recv_packet(&p->s, p->buf, p->len, NULL, &err));
    pair_free(p);
}
END_TEST

START_TEST(packets_need_a_key)
{
    struct pair *p = pair_new(NULL, NULL);
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, NULL));
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, p->buf, sizeof p->buf, &err);
    ck_assert_rc(mtp_session_flush_packet(&p->c, &w), MTP_ERR_SES_STATE);
    ck_assert_str_eq(err.msg, "session: no auth key set for packets");
    ck_assert_rc(mtp_session_recv_packet(&p->s, p->buf, 64, NULL, &err), MTP_ERR_SES_STATE);
    ck_assert(mtp_session_has_output(&p->c)); /* nothing was lost */
    pair_free(p);
}
END_TEST

START_TEST(output_too_small_for_the_packet)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t key[256];
    keys(p, key);
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, NULL));
    uint8_t small[40];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, small, sizeof small, NULL);
    ck_assert_rc(mtp_session_flush_packet(&p->c, &w), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(w.len, 0);
    ck_assert(!w.failed);
    /* The message waits for a writer that can take it. */
    ck_assert_int_eq(flush_packet(p, &p->c), 1);
    struct mtp_error err;
    ck_assert_ok(mtp_session_recv_packet(&p->s, p->buf, p->len, NULL, &err));
    ck_assert_uint_eq(ev_count(&p->slog, MTP_SESSION_EV_MESSAGE), 1);
    ck_assert_int_eq(flush_packet(p, &p->c), 0);
    pair_free(p);
}
END_TEST

static Suite *packet_suite(void)
{
    Suite *s = suite_create("mtp_session_packet");
    TCase *tc = tcase_create("packet");
    tcase_add_test(tc, query_and_result_encrypted);
    tcase_add_test(tc, tampered_packets_are_discarded);
    tcase_add_test(tc, packets_need_a_key);
    tcase_add_test(tc, output_too_small_for_the_packet);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(packet_suite)
