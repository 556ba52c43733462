/* Receiving, both roles: framing errors, acknowledgements, ping/pong, message
 * status requests and resends, detailed info, gzip_packed. */
#include "mtp/container.h"
#include "mtp/gzip.h"
#include "mtp_session_pair.h"

static const uint8_t QUERY[4] = {0x6b, 0x18, 0xf9, 0xc4};
static const uint8_t UPD[4] = {1, 2, 3, 4};

static uint64_t srv_id(int64_t ms_from_t0, unsigned kind) { return mtp_msgid_from_ms(PAIR_T0 + ms_from_t0) | kind; }

static int to_client(struct pair *p, uint64_t msg_id, int32_t seqno, const uint8_t *body, size_t len)
{
    uint8_t buf[4096];
    size_t n = craft(buf, sizeof buf, PAIR_SALT, p->c.session_id, msg_id, seqno, body, len);
    struct mtp_error err;
    return mtp_session_recv(&p->c, buf, n, &err);
}

START_TEST(framing_errors)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t buf[64] = {0};
    struct mtp_error err;
    ck_assert_rc(mtp_session_recv(&p->c, buf, 31, &err), MTP_ERR_SES_SHORT);
    mtp_store_u32(buf + 28, 40);
    ck_assert_rc(mtp_session_recv(&p->s, buf, 48, &err), MTP_ERR_SES_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "message.message_data_length: 40 at offset 28 is beyond the plaintext (16 bytes follow)");
    ck_assert_int_eq(ev_last(&p->slog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_BAD_LENGTH);
    ck_assert_rc(mtp_session_recv(&p->s, NULL, 0, NULL), MTP_ERR_SES_SHORT);
    pair_free(p);
}
END_TEST

START_TEST(acks_settle_sent_messages)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q;
    ck_assert_ok(mtp_session_send(&p->c, QUERY, 4, MTP_SEND_CONTENT, &q)); /* content, no answer awaited */
    ck_assert_int_eq(pair_c2s(p), 1);
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    uint64_t ids[2] = {q, srv_id(-50, 0)}; /* the second was never sent: ignored */
    ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, ids, 2));
    ck_assert_ok(to_client(p, srv_id(10, 3), 0, b, w.len));
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_ACKED), 1);
    const struct ev_rec *a = ev_last(&p->clog, MTP_SESSION_EV_ACKED);
    ck_assert_uint_eq(a->ref, q);
    ck_assert_uint_eq(a->ctor, 0xc4f9186bu);
    ck_assert_int_eq(p->c.acks_n, 0); /* msgs_ack itself is not acknowledged */
    /* A second ack of the same message changes nothing. */
    ck_assert_ok(to_client(p, srv_id(20, 3), 0, b, w.len));
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_ACKED), 1);
    pair_free(p);
}
END_TEST

START_TEST(acked_request_keeps_waiting_for_its_answer)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_c2s(p), 1);
    mtp_session_flush_acks_now(&p->s);
    ck_assert_int_eq(pair_s2c(p), 1); /* new_session_created + msgs_ack(q) */
    ck_assert_uint_eq(ev_last(&p->clog, MTP_SESSION_EV_ACKED)->ref, q);
    ck_assert_ok(mtp_session_send_result(&p->s, q, UPD, 4, 0));
    ck_assert_int_eq(pair_s2c(p), 1);
    ck_assert_uint_eq(ev_last(&p->clog, MTP_SESSION_EV_RESULT)->ref, q);
    pair_free(p);
}
END_TEST

START_TEST(server_initiated_ping)
{
    struct pair *p = pair_new(NULL, NULL);
    mtp_session_set_session_id(&p->s, p->c.session_id);
    uint64_t ping;
    ck_assert_ok(mtp_session_ping(&p->s, 0x55, -1, &ping));
    ck_assert_int_eq(pair_s2c(p), 1);
    ck_assert_uint_eq(ev_last(&p->clog, MTP_SESSION_EV_PING)->value, 0x55);
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_PING)->code, -1);
    ck_assert_int_eq(pair_c2s(p), 1);
    const struct ev_rec *pong = ev_last(&p->slog, MTP_SESSION_EV_PONG);
    ck_assert_uint_eq(pong->ref, ping);
    ck_assert_uint_eq(pong->value, 0x55);
    pair_free(p);
}
END_TEST

START_TEST(state_req_answer)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.window = 4;
    struct pair *p = pair_new(&cfg, NULL);
    uint64_t content_acked = srv_id(100, 3), content_pending = srv_id(200, 3), service = srv_id(300, 3);
    uint8_t b[128];
    struct mtp_wr w;
    ck_assert_ok(to_client(p, content_acked, 1, UPD, 4));
    mtp_session_flush_acks_now(&p->c);
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    ck_assert_ok(to_client(p, content_pending, 3, UPD, 4));
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    uint64_t none[1] = {1};
    ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, none, 1));
    ck_assert_ok(to_client(p, service, 4, b, w.len));
    /* Ask about: acked content, pending content, service, a gap, a future id. */
    uint64_t ask[5] = {content_acked, content_pending, service, srv_id(150, 3), srv_id(900, 3)};
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msgs_state_req, ask, 5));
    uint64_t req = srv_id(400, 3);
    ck_assert_ok(to_client(p, req, 5, b, w.len));
    /* The window is full now (4): an id below it is unknown. */
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(p->buf, p->len, &h, &body);
    struct mtp_container c;
    ck_assert_ok(mtp_container_open(&c, &body, h.msg_id, h.seqno, &cfg.container));
    struct mtp_nested m;
    int found = 0;
    while (mtp_container_next(&c, &m) == 1) {
        if (m.ctor != MTP_SVC_msgs_state_info)
            continue;
        struct mtp_svc svc;
        ck_assert_ok(mtp_svc_parse(&m.body, &svc));
        ck_assert_uint_eq(svc.u.state_info.req_msg_id, req);
        ck_assert_hex_eq(svc.u.state_info.info, svc.u.state_info.info_len, "0c04140203");
        ck_assert_int_eq(m.seqno % 2, 0);
        found++;
    }
    ck_assert_int_eq(found, 1);
    /* The state request was answered, so it is not acknowledged separately; the pending content is. */
    ck_assert_uint_eq(p->c.acks_n, 0);
    ask[0] = srv_id(10, 3);
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msgs_state_req, ask, 1));
    ck_assert_ok(to_client(p, srv_id(500, 3), 7, b, w.len));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    parse_out(p->buf, p->len, &h, &body);
    struct mtp_svc svc;
    ck_assert_ok(mtp_svc_parse(&body, &svc));
    ck_assert_hex_eq(svc.u.state_info.info, svc.u.state_info.info_len, "01");
    pair_free(p);
}
END_TEST

START_TEST(state_info_for_our_request)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q, req;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_ok(mtp_session_state_req(&p->c, &q, 1, &req));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_int_eq(pair_s2c(p), 1);
    const struct ev_rec *si = ev_last(&p->clog, MTP_SESSION_EV_STATE_INFO);
    ck_assert_uint_eq(si->ref, req);
    ck_assert_uint_eq(si->body_len, 1);
    ck_assert_uint_eq(si->body[0], MTP_STATE_RECEIVED); /* received, answer pending, not yet acked */
    pair_free(p);
}
END_TEST

START_TEST(resend_req_resends_same_id_in_a_container)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_flush(p, &p->c), 1); /* lost on the way */
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msg_resend_req, &q, 1));
    ck_assert_ok(to_client(p, srv_id(100, 3), 1, b, w.len));
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_RESENT), 0);
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(p->buf, p->len, &h, &body);
    ck_assert_uint_gt(h.msg_id, q);
    struct mtp_container c;
    ck_assert_ok(mtp_container_open(&c, &body, h.msg_id, h.seqno, &p->c.cfg.container));
    struct mtp_nested m;
    int same = 0;
    while (mtp_container_next(&c, &m) == 1)
        same += m.msg_id == q && m.seqno == 1;
    ck_assert_int_eq(same, 1);
    /* The server takes it (the first time it sees q). */
    struct mtp_error err;
    ck_assert_ok(mtp_session_recv(&p->s, p->buf, p->len, &err));
    ck_assert_uint_eq(ev_last(&p->slog, MTP_SESSION_EV_MESSAGE)->msg_id, q);
    pair_free(p);
}
END_TEST

START_TEST(resend_req_for_unknown_ids_gets_state_info)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    uint64_t unknown = mtp_msgid_from_ms(PAIR_T0 - 100);
    ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msg_resend_req, &unknown, 1));
    ck_assert_ok(to_client(p, srv_id(100, 3), 1, b, w.len));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(p->buf, p->len, &h, &body);
    struct mtp_svc svc;
    ck_assert_ok(mtp_svc_parse(&body, &svc));
    ck_assert_uint_eq(svc.id, MTP_SVC_msgs_state_info);
    ck_assert_uint_eq(svc.u.state_info.req_msg_id, srv_id(100, 3));
    ck_assert_uint_eq(svc.u.state_info.info_len, 1);
    pair_free(p);
}
END_TEST

START_TEST(all_info_and_detailed_info)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    uint64_t ids[1] = {srv_id(1, 0)};
    uint8_t info[1] = {4};
    ck_assert_ok(mtp_svc_write_state_info(&w, MTP_SVC_msgs_all_info, 0, ids, 1, info, 1));
    ck_assert_ok(to_client(p, srv_id(10, 3), 0, b, w.len));
    const struct ev_rec *ai = ev_last(&p->clog, MTP_SESSION_EV_ALL_INFO);
    ck_assert_int_eq(ai->code, 1);
    ck_assert_uint_eq(ai->body[0], 4);

    /* detailed info about our query: the answer is unknown, so it is requested again. */
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    uint64_t answer = srv_id(20, 1);
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_detailed_info(&w, q, answer, 100, 0));
    ck_assert_ok(to_client(p, srv_id(30, 3), 0, b, w.len));
    const struct ev_rec *di = ev_last(&p->clog, MTP_SESSION_EV_DETAILED_INFO);
    ck_assert_uint_eq(di->ref, answer);
    ck_assert_uint_eq(di->value, q);
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(p->buf, p->len, &h, &body);
    struct mtp_svc svc;
    ck_assert_ok(mtp_svc_parse(&body, &svc));
    ck_assert_uint_eq(svc.id, MTP_SVC_msg_resend_req);
    uint64_t asked;
    ck_assert_ok(mtp_svc_ids_next(&svc.u.ids, &asked));
    ck_assert_uint_eq(asked, answer);

    /* new detailed info about a message we have: acknowledged instead. */
    uint64_t have = srv_id(40, 3);
    ck_assert_ok(to_client(p, have, 0, UPD, 4));
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_new_detailed_info(&w, have, 4, 0));
    ck_assert_ok(to_client(p, srv_id(50, 3), 0, b, w.len));
    ck_assert_uint_eq(p->c.acks_n, 1);
    ck_assert_uint_eq(p->c.acks[0], have);
    pair_free(p);
}
END_TEST

START_TEST(gzip_packed_messages)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.gzip_max = 4096;
    struct pair *p = pair_new(&cfg, NULL);
    uint8_t update[64];
    memset(update, 7, sizeof update);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 20, NULL);
    ck_assert_ok(mtp_gzip_packed_write(&w, update, sizeof update));
    ck_assert_ok(to_client(p, srv_id(10, 3), 1, w.p, w.len));
    const struct ev_rec *m = ev_last(&p->clog, MTP_SESSION_EV_MESSAGE);
    ck_assert_uint_eq(m->msg_id, srv_id(10, 3));
    ck_assert_uint_eq(m->body_len, 64);
    ck_assert_mem_eq(m->body, update, 64);
    ck_assert_uint_eq(p->c.acks_n, 1); /* acknowledged once, as itself */

    /* gzip_packed inside gzip_packed. */
    struct mtp_wr w2;
    mtp_wr_init_dyn(&w2, 1 << 20, NULL);
    ck_assert_ok(mtp_gzip_packed_write(&w2, w.p, w.len));
    ck_assert_ok(to_client(p, srv_id(20, 3), 3, w2.p, w2.len));
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_NESTED_GZIP);

    /* A bomb. */
    uint8_t *zeros = calloc(1, 1 << 20);
    mtp_wr_reset(&w2);
    ck_assert_ok(mtp_gzip_packed_write(&w2, zeros, 1 << 20));
    free(zeros);
    ck_assert_ok(to_client(p, srv_id(30, 3), 5, w2.p, w2.len));
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_TL_GZIP_LIMIT);

    /* A packed container is not taken apart. */
    uint8_t empty[8] = {0xdc, 0xf8, 0xf1, 0x73, 0, 0, 0, 0};
    mtp_wr_reset(&w2);
    ck_assert_ok(mtp_gzip_packed_write(&w2, empty, 8));
    ck_assert_ok(to_client(p, srv_id(40, 3), 7, w2.p, w2.len));
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_UNSUPPORTED);

    /* Corrupt data. */
    mtp_wr_reset(&w2);
    uint8_t junk[12] = {0xa1, 0xcf, 0x72, 0x30, 7, 1, 2, 3, 4, 5, 6, 7};
    ck_assert_ok(to_client(p, srv_id(50, 3), 9, junk, 12));
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_TL_GZIP);
    mtp_wr_free(&w);
    mtp_wr_free(&w2);
    pair_free(p);
}
END_TEST

START_TEST(msg_copy_and_wrong_direction)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t copy[32] = {0xb2, 0x46, 0x60, 0xe0};
    ck_assert_ok(to_client(p, srv_id(10, 3), 1, copy, 32));
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_UNSUPPORTED);
    uint8_t b[16];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_get_future_salts(&w, 3));
    ck_assert_ok(to_client(p, srv_id(20, 3), 3, b, w.len));
    const struct ev_rec *d = ev_last(&p->clog, MTP_SESSION_EV_DROPPED);
    ck_assert_int_eq(d->code, MTP_ERR_SES_UNEXPECTED);
    ck_assert_str_eq(d->text, "get_future_salts: only the client sends it (offset 32)");
    pair_free(p);
}
END_TEST

static Suite *recv_suite(void)
{
    Suite *s = suite_create("mtp_session_recv");
    TCase *tc = tcase_create("recv");
    tcase_add_test(tc, framing_errors);
    tcase_add_test(tc, acks_settle_sent_messages);
    tcase_add_test(tc, acked_request_keeps_waiting_for_its_answer);
    tcase_add_test(tc, server_initiated_ping);
    tcase_add_test(tc, state_req_answer);
    tcase_add_test(tc, state_info_for_our_request);
    tcase_add_test(tc, resend_req_resends_same_id_in_a_container);
    tcase_add_test(tc, resend_req_for_unknown_ids_gets_state_info);
    tcase_add_test(tc, all_info_and_detailed_info);
    tcase_add_test(tc, gzip_packed_messages);
    tcase_add_test(tc, msg_copy_and_wrong_direction);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(recv_suite)
