/* Session core, common parts: configuration, the send API, flush (framing,
 * containers, acks, limits), quick acks, renewal. */
#include "mtp/container.h"
#include "mtp/quickack.h"
#include "mtp_session_pair.h"

/* help.getConfig#c4f9186b = Config; (any 4-byte application query will do) */
static const uint8_t QUERY[4] = {0x6b, 0x18, 0xf9, 0xc4};
/* An application update body for the server to push. */
static const uint8_t UPDATE[8] = {0x11, 0x22, 0x33, 0x44, 1, 2, 3, 4};

/* Server pushes need the session id the client uses. */
static void server_knows_session(struct pair *p) { mtp_session_set_session_id(&p->s, p->c.session_id); }

START_TEST(defaults_and_bad_config)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    ck_assert_uint_eq(cfg.window, 1024);
    ck_assert_uint_eq(cfg.ack_threshold, 16);
    ck_assert_int_eq(cfg.max_past_ms, 300000);
    ck_assert_int_eq(cfg.max_future_ms, 30000);
    ck_assert_int_eq(cfg.salt_grace_ms, 1800000);
    ck_assert_uint_eq(cfg.container.max_msgs, 1020);
    ck_assert_uint_eq(cfg.container.max_bytes, 32768);
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "x", 1, PAIR_T0);
    struct mtp_session s;
    ck_assert_ok(mtp_session_init(&s, MTP_SESSION_CLIENT, NULL, &env, NULL, NULL));
    ck_assert_uint_ne(s.session_id, 0);
    mtp_session_free(&s);
    mtp_session_free(&s); /* idempotent */
    ck_assert_ok(mtp_session_init(&s, MTP_SESSION_SERVER, NULL, &env, NULL, NULL));
    ck_assert_uint_eq(s.session_id, 0);
    mtp_session_free(&s);
    cfg.ack_max = 8193;
    ck_assert_rc(mtp_session_init(&s, MTP_SESSION_CLIENT, &cfg, &env, NULL, NULL), MTP_ERR_ARG);
    mtp_session_cfg_default(&cfg);
    cfg.window = 0;
    ck_assert_rc(mtp_session_init(&s, MTP_SESSION_CLIENT, &cfg, &env, NULL, NULL), MTP_ERR_ARG);
    ck_assert_rc(mtp_session_init(&s, (enum mtp_session_role)7, NULL, &env, NULL, NULL), MTP_ERR_ARG);
}
END_TEST

START_TEST(nothing_to_flush)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t buf[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_int_eq(mtp_session_flush(&p->c, &w), 0);
    ck_assert_uint_eq(w.len, 0);
    ck_assert(!mtp_session_has_output(&p->c));
    ck_assert_int_eq(mtp_session_next_deadline(&p->c), INT64_MAX);
    pair_free(p);
}
END_TEST

START_TEST(single_message_layout)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t id;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &id));
    ck_assert(mtp_session_has_output(&p->c));
    ck_assert_int_eq(mtp_session_next_deadline(&p->c), PAIR_T0);
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    ck_assert_uint_eq(p->len % 16, 0);
    ck_assert_uint_ge(p->len, 32 + 4 + 12);
    ck_assert_uint_le(p->len, 32 + 4 + 27);
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(p->buf, p->len, &h, &body);
    ck_assert_uint_eq(h.salt, PAIR_SALT);
    ck_assert_uint_eq(h.session_id, p->c.session_id);
    ck_assert_uint_eq(h.msg_id, id);
    ck_assert_uint_eq(h.msg_id % 4, 0);
    ck_assert_int_eq(mtp_msgid_to_ms(h.msg_id) / 1000, PAIR_T0 / 1000);
    ck_assert_int_eq(h.seqno, 1);
    ck_assert_uint_eq(h.length, 4);
    ck_assert_mem_eq(mtp_rd_cur(&body), QUERY, 4);
    ck_assert(!mtp_session_has_output(&p->c));
    pair_free(p);
}
END_TEST

START_TEST(container_packing)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t ids[3];
    for (int i = 0; i < 3; i++)
        ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &ids[i]));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(p->buf, p->len, &h, &body);
    /* "A container is always generated after its entire contents": higher id, even seqno >= theirs. */
    ck_assert_uint_gt(h.msg_id, ids[2]);
    ck_assert_int_eq(h.seqno, 6);
    struct mtp_container c;
    ck_assert_ok(mtp_container_open(&c, &body, h.msg_id, h.seqno, &p->c.cfg.container));
    struct mtp_nested m;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(mtp_container_next(&c, &m), 1);
        ck_assert_uint_eq(m.msg_id, ids[i]);
        ck_assert_int_eq(m.seqno, 2 * i + 1);
        ck_assert_uint_eq(m.ctor, 0xc4f9186bu);
    }
    ck_assert_int_eq(mtp_container_next(&c, &m), 0);
    /* The server accepts it as a whole. */
    struct mtp_error err;
    ck_assert_ok(mtp_session_recv(&p->s, p->buf, p->len, &err));
    ck_assert_uint_eq(ev_count(&p->slog, MTP_SESSION_EV_MESSAGE), 3);
    ck_assert_int_eq(pair_flush(p, &p->c), 0);
    pair_free(p);
}
END_TEST

START_TEST(acks_ride_with_the_next_message)
{
    struct pair *p = pair_new(NULL, NULL);
    server_knows_session(p);
    uint64_t upd;
    ck_assert_ok(mtp_session_send(&p->s, UPDATE, 8, MTP_SEND_CONTENT, &upd));
    ck_assert_int_eq(pair_s2c(p), 1);
    ck_assert_ok(p->last_rc);
    ck_assert_uint_eq(ev_nth(&p->clog, MTP_SESSION_EV_MESSAGE, 0)->msg_id, upd);
    /* One pending ack: below the threshold and not yet due. */
    ck_assert_uint_eq(p->c.acks_n, 1);
    ck_assert(!mtp_session_has_output(&p->c));
    ck_assert_int_eq(mtp_session_next_deadline(&p->c), PAIR_T0 + 60000);
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_ok(p->last_rc);
    ck_assert_uint_eq(p->c.acks_n, 0);
    /* The server saw the query and the ack of its update. */
    ck_assert_uint_eq(ev_nth(&p->slog, MTP_SESSION_EV_MESSAGE, 0)->msg_id, q);
    const struct ev_rec *ack = ev_nth(&p->slog, MTP_SESSION_EV_ACKED, 0);
    ck_assert_uint_eq(ack->ref, upd);
    pair_free(p);
}
END_TEST

START_TEST(ack_threshold_sends_standalone_ack)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.ack_threshold = 3;
    struct pair *p = pair_new(&cfg, NULL);
    server_knows_session(p);
    uint64_t u[3];
    for (int i = 0; i < 3; i++) {
        ck_assert_ok(mtp_session_send(&p->s, UPDATE, 8, MTP_SEND_CONTENT, &u[i]));
        ck_assert_int_eq(pair_s2c(p), 1);
        ck_assert_int_eq(mtp_session_has_output(&p->c), i == 2);
    }
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(p->buf, p->len, &h, &body);
    ck_assert_int_eq(h.seqno, 0); /* not content-related, nothing content-related sent before */
    struct mtp_svc svc;
    ck_assert_ok(mtp_svc_parse(&body, &svc));
    ck_assert_uint_eq(svc.id, MTP_SVC_msgs_ack);
    ck_assert_uint_eq(svc.u.ids.count, 3);
    for (int i = 0; i < 3; i++) {
        uint64_t id;
        ck_assert_ok(mtp_svc_ids_next(&svc.u.ids, &id));
        ck_assert_uint_eq(id, u[i]);
    }
    pair_free(p);
}
END_TEST

START_TEST(ack_timer)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.ack_delay_ms = 1000;
    struct pair *p = pair_new(&cfg, NULL);
    server_knows_session(p);
    ck_assert_ok(mtp_session_send(&p->s, UPDATE, 8, MTP_SEND_CONTENT, NULL));
    ck_assert_int_eq(pair_s2c(p), 1);
    ck_assert_int_eq(mtp_session_next_deadline(&p->c), PAIR_T0 + 1000);
    pair_advance(p, 999);
    ck_assert(!mtp_session_has_output(&p->c));
    ck_assert_int_eq(pair_flush(p, &p->c), 0);
    pair_advance(p, 1);
    ck_assert(mtp_session_has_output(&p->c));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_uint_eq(ev_count(&p->slog, MTP_SESSION_EV_ACKED), 1);
    /* Forcing: one more update, flushed at once. */
    ck_assert_ok(mtp_session_send(&p->s, UPDATE, 8, MTP_SEND_CONTENT, NULL));
    ck_assert_int_eq(pair_s2c(p), 1);
    ck_assert(!mtp_session_has_output(&p->c));
    mtp_session_flush_acks_now(&p->c);
    ck_assert(mtp_session_has_output(&p->c));
    ck_assert_int_eq(mtp_session_next_deadline(&p->c), PAIR_T0 + 1000);
    ck_assert_int_eq(pair_c2s(p), 1);
    /* The server's first answer carried new_session_created (for the first
     * client message, the ack) with the second update: both acknowledged. */
    ck_assert_uint_eq(ev_count(&p->slog, MTP_SESSION_EV_ACKED), 3);
    ck_assert_uint_eq(ev_nth(&p->slog, MTP_SESSION_EV_ACKED, 1)->ctor, MTP_SVC_new_session_created);
    pair_free(p);
}
END_TEST

START_TEST(full_ack_queue_drops_newcomers)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.ack_max = 2;
    struct pair *p = pair_new(&cfg, NULL);
    server_knows_session(p);
    uint64_t u[3];
    for (int i = 0; i < 3; i++)
        ck_assert_ok(mtp_session_send(&p->s, UPDATE, 8, MTP_SEND_CONTENT, &u[i]));
    ck_assert_int_eq(pair_s2c(p), 1); /* one container of three */
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_MESSAGE), 3);
    ck_assert_uint_eq(p->c.acks_n, 2);
    ck_assert_uint_eq(p->c.acks[0], u[0]);
    ck_assert_uint_eq(p->c.acks[1], u[1]);
    pair_free(p);
}
END_TEST

START_TEST(failed_flush_changes_nothing)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t a, b;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &a));
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &b));
    uint8_t small[40];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, small, sizeof small, NULL);
    ck_assert_rc(mtp_session_flush(&p->c, &w), MTP_ERR_OVERFLOW);
    ck_assert_uint_eq(w.len, 0);
    ck_assert(!w.failed);
    ck_assert_uint_eq(p->c.out_n, 2);
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(p->buf, p->len, &h, &body);
    struct mtp_container c;
    ck_assert_ok(mtp_container_open(&c, &body, h.msg_id, h.seqno, &p->c.cfg.container));
    ck_assert_uint_eq(c.count, 2);
    struct mtp_nested m;
    ck_assert_int_eq(mtp_container_next(&c, &m), 1);
    ck_assert_uint_eq(m.msg_id, a);
    ck_assert_int_eq(mtp_container_next(&c, &m), 1);
    ck_assert_uint_eq(m.msg_id, b);
    pair_free(p);
}
END_TEST

START_TEST(big_message_goes_alone_and_limits_split)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.container.max_bytes = 256;
    cfg.container.max_msgs = 2;
    struct pair *p = pair_new(&cfg, NULL);
    uint8_t big[300];
    memset(big, 0x42, sizeof big);
    uint64_t id_big, id[5];
    ck_assert_ok(mtp_session_send_query(&p->c, big, sizeof big, &id_big));
    for (int i = 0; i < 5; i++)
        ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &id[i]));
    struct mtp_msg_header h;
    struct mtp_rd body;
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    parse_out(p->buf, p->len, &h, &body);
    ck_assert_uint_eq(h.msg_id, id_big);
    ck_assert_uint_eq(h.length, 300);
    size_t counts[3];
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(pair_flush(p, &p->c), 1);
        parse_out(p->buf, p->len, &h, &body);
        if (k < 2) {
            struct mtp_container c;
            ck_assert_ok(mtp_container_open(&c, &body, h.msg_id, h.seqno, &cfg.container));
            counts[k] = c.count;
        } else {
            ck_assert_uint_eq(h.msg_id, id[4]);
            counts[k] = 1;
        }
    }
    ck_assert_uint_eq(counts[0], 2);
    ck_assert_uint_eq(counts[1], 2);
    ck_assert_int_eq(pair_flush(p, &p->c), 0);
    pair_free(p);
}
END_TEST

START_TEST(quick_ack_token_matches)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t key[256];
    for (int i = 0; i < 256; i++)
        key[i] = (uint8_t)(255 - i);
    mtp_session_set_auth_key(&p->c, key);
    uint64_t id;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &id));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    uint32_t want;
    ck_assert_ok(mtp_quick_ack_token(key, 0, p->buf, p->len, &want));
    ck_assert_uint_eq(mtp_session_last_quick_ack(&p->c), want);
    ck_assert_uint_ne(want & 0x80000000u, 0);
    ck_assert(!mtp_session_quick_ack(&p->c, want ^ 1));
    ck_assert(mtp_session_quick_ack(&p->c, want));
    ck_assert_uint_eq(ev_last(&p->clog, MTP_SESSION_EV_QUICK_ACK)->ref, id);
    ck_assert(!mtp_session_quick_ack(&p->c, want)); /* once */
    ck_assert(!mtp_session_quick_ack(&p->c, 0));
    pair_free(p);
}
END_TEST

START_TEST(gzip_flag_packs_the_body)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t body[400];
    mtp_store_u32(body, 0xc4f9186bu);
    memset(body + 4, 0x61, sizeof body - 4);
    uint64_t id;
    ck_assert_ok(mtp_session_send(&p->c, body, sizeof body, MTP_SEND_CONTENT | MTP_SEND_AWAIT | MTP_SEND_GZIP, &id));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    struct mtp_msg_header h;
    struct mtp_rd rb;
    parse_out(p->buf, p->len, &h, &rb);
    ck_assert_uint_lt(h.length, 100);
    ck_assert_uint_eq(mtp_load_u32(mtp_rd_cur(&rb)), MTP_SVC_gzip_packed);
    struct mtp_error err;
    ck_assert_ok(mtp_session_recv(&p->s, p->buf, p->len, &err));
    const struct ev_rec *m = ev_nth(&p->slog, MTP_SESSION_EV_MESSAGE, 0);
    ck_assert_uint_eq(m->msg_id, id);
    ck_assert_uint_eq(m->ctor, 0xc4f9186bu);
    ck_assert_uint_eq(m->body_len, sizeof body);
    ck_assert_mem_eq(m->body, body, sizeof body);
    pair_free(p);
}
END_TEST

START_TEST(role_checks)
{
    struct pair *p = pair_new(NULL, NULL);
    ck_assert_rc(mtp_session_send_result(&p->c, 1, QUERY, 4, 0), MTP_ERR_SES_STATE);
    ck_assert_rc(mtp_session_send_error(&p->c, 1, 400, "X"), MTP_ERR_SES_STATE);
    ck_assert_rc(mtp_session_send_destroy_result(&p->c, 1, 2, true), MTP_ERR_SES_STATE);
    ck_assert_rc(mtp_session_send(&p->c, QUERY, 4, MTP_SEND_RESPONSE, NULL), MTP_ERR_SES_STATE);
    ck_assert_rc(mtp_session_send_query(&p->s, QUERY, 4, NULL), MTP_ERR_SES_STATE);
    ck_assert_rc(mtp_session_get_future_salts(&p->s, 1, NULL), MTP_ERR_SES_STATE);
    ck_assert_rc(mtp_session_destroy_session(&p->s, 1, NULL), MTP_ERR_SES_STATE);
    ck_assert_rc(mtp_session_http_wait(&p->s, 0, 0, 1), MTP_ERR_SES_STATE);
    ck_assert_rc(mtp_session_ping(&p->s, 1, 75, NULL), MTP_ERR_SES_STATE);
    ck_assert_rc(mtp_session_renew(&p->s), MTP_ERR_SES_STATE);
    ck_assert_rc(mtp_session_send(&p->c, QUERY, 3, 0, NULL), MTP_ERR_ARG);
    pair_free(p);
}
END_TEST

START_TEST(server_salt_follows_schedule)
{
    struct mtp_session_cfg scfg;
    mtp_session_cfg_default(&scfg);
    scfg.salt_period_ms = 60000;
    struct pair *p = pair_new(NULL, &scfg);
    server_knows_session(p);
    ck_assert_ok(mtp_session_send(&p->s, UPDATE, 8, MTP_SEND_CONTENT, NULL));
    ck_assert_int_eq(pair_flush(p, &p->s), 1);
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(p->buf, p->len, &h, &body);
    ck_assert_uint_eq(h.salt, PAIR_SALT);
    ck_assert_uint_eq(h.msg_id % 4, 3);
    /* After the period a fresh salt is current (made when a message arrives). */
    pair_advance(p, 60000);
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, NULL));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_ok(p->last_rc); /* the old salt is within its grace period */
    ck_assert_ok(mtp_session_send(&p->s, UPDATE, 8, MTP_SEND_CONTENT, NULL));
    ck_assert_int_eq(pair_flush(p, &p->s), 1);
    parse_out(p->buf, p->len, &h, &body);
    ck_assert_uint_ne(h.salt, PAIR_SALT);
    pair_free(p);
}
END_TEST

START_TEST(renew_requeues_requests)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    uint64_t old = p->c.session_id;
    ck_assert_ok(mtp_session_renew(&p->c));
    ck_assert_uint_ne(p->c.session_id, old);
    const struct ev_rec *r = ev_last(&p->clog, MTP_SESSION_EV_RESENT);
    ck_assert_uint_eq(r->ref, q);
    ck_assert_uint_eq(r->orig, q);
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(p->buf, p->len, &h, &body);
    ck_assert_uint_eq(h.session_id, p->c.session_id);
    ck_assert_uint_eq(h.msg_id, r->msg_id);
    ck_assert_uint_gt(h.msg_id, q);
    ck_assert_int_eq(h.seqno, 1); /* counting restarts in the new session */
    pair_free(p);
}
END_TEST

START_TEST(cancel_forgets_a_request)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    pair_pump(p);
    mtp_session_cancel(&p->c, q);
    ck_assert_ok(mtp_session_send_result(&p->s, q, UPDATE, 8, 0));
    ck_assert_int_eq(pair_s2c(p), 1);
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_RESULT), 0);
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_UNKNOWN_REQUEST);
    pair_free(p);
}
END_TEST

static Suite *session_suite(void)
{
    Suite *s = suite_create("mtp_session");
    TCase *tc = tcase_create("send");
    tcase_add_test(tc, defaults_and_bad_config);
    tcase_add_test(tc, nothing_to_flush);
    tcase_add_test(tc, single_message_layout);
    tcase_add_test(tc, container_packing);
    tcase_add_test(tc, acks_ride_with_the_next_message);
    tcase_add_test(tc, ack_threshold_sends_standalone_ack);
    tcase_add_test(tc, ack_timer);
    tcase_add_test(tc, full_ack_queue_drops_newcomers);
    tcase_add_test(tc, failed_flush_changes_nothing);
    tcase_add_test(tc, big_message_goes_alone_and_limits_split);
    tcase_add_test(tc, quick_ack_token_matches);
    tcase_add_test(tc, gzip_flag_packs_the_body);
    tcase_add_test(tc, role_checks);
    tcase_add_test(tc, server_salt_follows_schedule);
    tcase_add_test(tc, renew_requeues_requests);
    tcase_add_test(tc, cancel_forgets_a_request);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(session_suite)
