/* Client core: answers, notifications and the resends they call for, salts,
 * time correction, and the checks on server messages
 * (security_guidelines#checking-msg-id, #checking-session-id). */
#include "mtp/container.h"
#include "mtp/gzip.h"
#include "mtp_session_pair.h"

static const uint8_t QUERY[4] = {0x6b, 0x18, 0xf9, 0xc4};
static const uint8_t RESULT[8] = {0xaa, 0xbb, 0xcc, 0xdd, 9, 8, 7, 6};

static uint64_t srv_id(int64_t ms_from_t0, unsigned kind) { return mtp_msgid_from_ms(PAIR_T0 + ms_from_t0) | kind; }

/* A message crafted as the server would send it, fed to the client. */
static int to_client(struct pair *p, uint64_t msg_id, int32_t seqno, const uint8_t *body, size_t len)
{
    uint8_t buf[4096];
    size_t n = craft(buf, sizeof buf, PAIR_SALT, p->c.session_id, msg_id, seqno, body, len);
    struct mtp_error err;
    return mtp_session_recv(&p->c, buf, n, &err);
}

static uint64_t query_answered(struct pair *p)
{
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_ok(p->last_rc);
    ck_assert_ok(mtp_session_send_result(&p->s, ev_last(&p->slog, MTP_SESSION_EV_MESSAGE)->msg_id, RESULT, 8, 0));
    ck_assert_int_eq(pair_s2c(p), 1);
    ck_assert_ok(p->last_rc);
    return q;
}

START_TEST(rpc_result_delivered_and_acknowledged)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q = query_answered(p);
    const struct ev_rec *r = ev_last(&p->clog, MTP_SESSION_EV_RESULT);
    ck_assert_uint_eq(r->ref, q);
    ck_assert_uint_eq(r->orig, q);
    ck_assert_uint_eq(r->ctor, 0xddccbbaau);
    ck_assert_uint_eq(r->body_len, 8);
    ck_assert_mem_eq(r->body, RESULT, 8);
    ck_assert_uint_eq(ev_last(&p->clog, MTP_SESSION_EV_NEW_SESSION)->ref, q);
    ck_assert_uint_eq(p->c.out_n, 0); /* the answer settled the request */
    /* new_session_created and rpc_result are content-related: both acked next time. */
    ck_assert_uint_eq(p->c.acks_n, 2);
    mtp_session_flush_acks_now(&p->c);
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_uint_eq(ev_count(&p->slog, MTP_SESSION_EV_ACKED), 2);
    ck_assert_uint_eq(ev_nth(&p->slog, MTP_SESSION_EV_ACKED, 0)->ctor, MTP_SVC_new_session_created);
    ck_assert_uint_eq(ev_nth(&p->slog, MTP_SESSION_EV_ACKED, 1)->ctor, MTP_SVC_rpc_result);
    pair_free(p);
}
END_TEST

START_TEST(rpc_error_and_gzip_result)
{
    struct mtp_session_cfg scfg;
    mtp_session_cfg_default(&scfg);
    scfg.gzip_min = 100;
    struct pair *p = pair_new(NULL, &scfg);
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_ok(mtp_session_send_error(&p->s, q, 420, "FLOOD_WAIT_7"));
    ck_assert_int_eq(pair_s2c(p), 1);
    const struct ev_rec *e = ev_last(&p->clog, MTP_SESSION_EV_RPC_ERROR);
    ck_assert_uint_eq(e->ref, q);
    ck_assert_int_eq(e->code, 420);
    ck_assert_uint_eq(e->body_len, 12);
    ck_assert_mem_eq(e->body, "FLOOD_WAIT_7", 12);

    uint8_t big[200];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i / 10);
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_ok(mtp_session_send_result(&p->s, q, big, sizeof big, 0));
    ck_assert_int_eq(pair_s2c(p), 1);
    const struct ev_rec *r = ev_last(&p->clog, MTP_SESSION_EV_RESULT);
    ck_assert_uint_eq(r->ref, q);
    ck_assert_uint_eq(r->body_len, sizeof big);
    ck_assert_mem_eq(r->body, big, sizeof big);
    pair_free(p);
}
END_TEST

START_TEST(gzip_bomb_in_a_result_is_dropped)
{
    struct mtp_session_cfg ccfg;
    mtp_session_cfg_default(&ccfg);
    ccfg.gzip_max = 65536;
    struct pair *p = pair_new(&ccfg, NULL);
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    size_t big = 2u << 20;
    uint8_t *zeros = calloc(1, big);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 20, NULL);
    ck_assert_ok(mtp_svc_write_rpc_result_head(&w, q));
    ck_assert_ok(mtp_gzip_packed_write(&w, zeros, big));
    free(zeros);
    ck_assert_ok(to_client(p, srv_id(100, 1), 1, w.p, w.len));
    mtp_wr_free(&w);
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_RESULT), 0);
    const struct ev_rec *d = ev_last(&p->clog, MTP_SESSION_EV_DROPPED);
    ck_assert_int_eq(d->code, MTP_ERR_TL_GZIP_LIMIT);
    ck_assert_ptr_nonnull(strstr(d->text, "65536-byte limit"));
    pair_free(p);
}
END_TEST

START_TEST(result_for_unknown_request_dropped)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t b[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_rpc_result_head(&w, srv_id(5, 0)));
    ck_assert_ok(mtp_wr_raw(&w, RESULT, 8));
    ck_assert_ok(to_client(p, srv_id(100, 1), 1, b, w.len));
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_RESULT), 0);
    const struct ev_rec *d = ev_last(&p->clog, MTP_SESSION_EV_DROPPED);
    ck_assert_int_eq(d->code, MTP_ERR_SES_UNKNOWN_REQUEST);
    char want[96];
    snprintf(want, sizeof want, "rpc_result.req_msg_id: refers to msg_id %#llx", (unsigned long long)srv_id(5, 0));
    ck_assert_ptr_nonnull(strstr(d->text, want));
    pair_free(p);
}
END_TEST

START_TEST(bad_server_salt_resends_under_a_new_msg_id)
{
    struct pair *p = pair_new(NULL, NULL);
    ck_assert_ok(mtp_session_set_salt(&p->c, 0xbad));
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_rc(p->last_rc, MTP_ERR_SES_BAD_SALT);
    ck_assert_int_eq(pair_s2c(p), 1);
    const struct ev_rec *bs = ev_last(&p->clog, MTP_SESSION_EV_BAD_SALT);
    ck_assert_uint_eq(bs->ref, q);
    ck_assert_uint_eq(bs->value, PAIR_SALT);
    ck_assert_uint_eq(p->c.salt, PAIR_SALT);
    const struct ev_rec *rs = ev_last(&p->clog, MTP_SESSION_EV_RESENT);
    ck_assert_uint_eq(rs->ref, q);
    ck_assert_uint_gt(rs->msg_id, q);
    uint64_t q2 = rs->msg_id;
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_ok(p->last_rc);
    ck_assert_uint_eq(ev_last(&p->slog, MTP_SESSION_EV_MESSAGE)->msg_id, q2);
    ck_assert_ok(mtp_session_send_result(&p->s, q2, RESULT, 8, 0));
    ck_assert_int_eq(pair_s2c(p), 1);
    const struct ev_rec *r = ev_last(&p->clog, MTP_SESSION_EV_RESULT);
    ck_assert_uint_eq(r->ref, q2);
    ck_assert_uint_eq(r->orig, q); /* the caller's handle survives the resend */
    pair_free(p);
}
END_TEST

START_TEST(bad_server_salt_about_a_container_resends_its_contents)
{
    struct pair *p = pair_new(NULL, NULL);
    ck_assert_ok(mtp_session_set_salt(&p->c, 0xbad));
    uint64_t a, b;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &a));
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &b));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_rc(p->last_rc, MTP_ERR_SES_BAD_SALT);
    ck_assert_int_eq(pair_s2c(p), 1);
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_RESENT), 2);
    ck_assert_uint_eq(ev_nth(&p->clog, MTP_SESSION_EV_RESENT, 0)->ref, a);
    ck_assert_uint_eq(ev_nth(&p->clog, MTP_SESSION_EV_RESENT, 1)->ref, b);
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_ok(p->last_rc);
    ck_assert_uint_eq(ev_count(&p->slog, MTP_SESSION_EV_MESSAGE), 2);
    pair_free(p);
}
END_TEST

START_TEST(time_correction_from_code16)
{
    struct pair *p = pair_new(NULL, NULL);
    /* The client's clock is 400 s behind (it believes itself synchronised). */
    p->cst.now_ms -= 400000;
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_rc(p->last_rc, MTP_ERR_SES_MSG_ID_TOO_OLD);
    ck_assert_int_eq(pair_s2c(p), 1);
    const struct ev_rec *bm = ev_last(&p->clog, MTP_SESSION_EV_BAD_MSG);
    ck_assert_int_eq(bm->code, 16);
    ck_assert_uint_eq(bm->ref, q);
    /* The offset now comes from the notification's msg_id. */
    ck_assert_int_ge(p->c.ids.offset_ms, 399990);
    ck_assert_int_le(p->c.ids.offset_ms, 400000);
    uint64_t q2 = ev_last(&p->clog, MTP_SESSION_EV_RESENT)->msg_id;
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_ok(p->last_rc);
    ck_assert_uint_eq(ev_last(&p->slog, MTP_SESSION_EV_MESSAGE)->msg_id, q2);
    pair_free(p);
}
END_TEST

START_TEST(time_correction_from_code17_renews_the_session)
{
    struct pair *p = pair_new(NULL, NULL);
    p->cst.now_ms += 60000;
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_rc(p->last_rc, MTP_ERR_SES_MSG_ID_TOO_NEW);
    uint64_t old_session = p->c.session_id;
    ck_assert_int_eq(pair_s2c(p), 1);
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_BAD_MSG)->code, 17);
    /* Ids ahead of the corrected clock cannot continue in this session: a new one starts. */
    ck_assert_uint_ne(p->c.session_id, old_session);
    const struct ev_rec *rs = ev_last(&p->clog, MTP_SESSION_EV_RESENT);
    ck_assert_uint_eq(rs->orig, q);
    ck_assert_int_le(mtp_msgid_to_ms(rs->msg_id), PAIR_T0 + 1000);
    ck_assert_int_ge(mtp_msgid_to_ms(rs->msg_id), PAIR_T0 - 1000);
    /* A fresh server core for the new session accepts it. */
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "s2", 2, PAIR_T0);
    struct mtp_session s2;
    struct ev_log *log = calloc(1, sizeof *log);
    ck_assert_ok(mtp_session_init(&s2, MTP_SESSION_SERVER, NULL, &env, ev_log_cb, log));
    ck_assert_ok(mtp_session_set_salt(&s2, PAIR_SALT));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    struct mtp_error err;
    ck_assert_ok(mtp_session_recv(&s2, p->buf, p->len, &err));
    ck_assert_uint_eq(ev_last(log, MTP_SESSION_EV_MESSAGE)->msg_id, rs->msg_id);
    mtp_session_free(&s2);
    free(log);
    pair_free(p);
}
END_TEST

/* Sends one query (discarding the bytes) and feeds a crafted bad_msg_notification about it. */
static uint64_t notified(struct pair *p, int32_t code, uint64_t about)
{
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    uint8_t b[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_bad_msg(&w, about ? about : q, 1, code));
    ck_assert_ok(to_client(p, srv_id(100 + code, 1), 2, b, w.len));
    return q;
}

START_TEST(unfixable_codes_fail_the_request)
{
    static const int32_t codes[] = {18, 19, 32, 33, 34, 35, 64};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        struct pair *p = pair_new(NULL, NULL);
        uint64_t q = notified(p, codes[i], 0);
        const struct ev_rec *f = ev_last(&p->clog, MTP_SESSION_EV_FAILED);
        ck_assert_uint_eq(f->ref, q);
        ck_assert_int_eq(f->code, codes[i]);
        ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_RESENT), 0);
        ck_assert_uint_eq(p->c.out_n, 0);
        pair_free(p);
    }
}
END_TEST

START_TEST(code20_resends)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q = notified(p, 20, 0);
    ck_assert_uint_eq(ev_last(&p->clog, MTP_SESSION_EV_RESENT)->ref, q);
    ck_assert(mtp_session_has_output(&p->c));
    pair_free(p);
}
END_TEST

START_TEST(notification_about_an_unknown_message_is_ignored)
{
    struct pair *p = pair_new(NULL, NULL);
    int64_t offset = p->c.ids.offset_ms;
    (void)notified(p, 16, mtp_msgid_from_ms(PAIR_T0 - 5000));
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_UNKNOWN_REQUEST);
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_BAD_MSG), 0);
    ck_assert_int_eq(p->c.ids.offset_ms, offset);
    /* bad_server_salt likewise does not change the salt. */
    uint8_t b[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_bad_server_salt(&w, mtp_msgid_from_ms(PAIR_T0 - 7000), 1, 0x666));
    ck_assert_ok(to_client(p, srv_id(500, 1), 2, b, w.len));
    ck_assert_uint_eq(p->c.salt, PAIR_SALT);
    pair_free(p);
}
END_TEST

START_TEST(new_session_created_updates_salt_and_resends_older_requests)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t old;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &old));
    ck_assert_int_eq(pair_flush(p, &p->c), 1); /* lost */
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    uint8_t b[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_new_session_created(&w, q, 0xabc, 0x9999));
    ck_assert_ok(to_client(p, srv_id(200, 3), 1, b, w.len));
    const struct ev_rec *ns = ev_last(&p->clog, MTP_SESSION_EV_NEW_SESSION);
    ck_assert_uint_eq(ns->ref, q);
    ck_assert_uint_eq(ns->value, 0xabc);
    ck_assert_uint_eq(p->c.salt, 0x9999);
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_RESENT), 1);
    ck_assert_uint_eq(ev_last(&p->clog, MTP_SESSION_EV_RESENT)->ref, old);
    pair_free(p);
}
END_TEST

START_TEST(future_salts_are_used_when_due)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q;
    ck_assert_ok(mtp_session_get_future_salts(&p->c, 2, &q));
    pair_pump(p);
    const struct ev_rec *fs = ev_last(&p->clog, MTP_SESSION_EV_FUTURE_SALTS);
    ck_assert_uint_eq(fs->ref, q);
    ck_assert_int_eq(fs->code, 2);
    ck_assert_uint_eq(p->c.salts.n, 2);
    uint64_t next = p->c.salts.e[1].salt;
    ck_assert_uint_ne(next, PAIR_SALT);
    /* After the first salt's hour the client switches on its own, and the server agrees. */
    pair_advance(p, 3600000 + 10);
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, NULL));
    ck_assert_int_eq(pair_c2s(p), 1);
    ck_assert_uint_eq(p->c.salt, next);
    ck_assert_ok(p->last_rc);
    pair_free(p);
}
END_TEST

START_TEST(future_salts_for_another_request_dropped)
{
    struct pair *p = pair_new(NULL, NULL);
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    struct mtp_svc_future_salt fs = {PAIR_T0 / 1000, PAIR_T0 / 1000 + 60, 0x5};
    ck_assert_ok(mtp_svc_write_future_salts(&w, mtp_msgid_from_ms(PAIR_T0 - 10), PAIR_T0 / 1000, &fs, 1));
    ck_assert_ok(to_client(p, srv_id(100, 1), 2, b, w.len));
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_UNKNOWN_REQUEST);
    ck_assert_uint_eq(p->c.salts.n, 0);
    pair_free(p);
}
END_TEST

START_TEST(destroy_session_round_trip)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q;
    ck_assert_ok(mtp_session_destroy_session(&p->c, 0x77, &q));
    ck_assert_int_eq(pair_c2s(p), 1);
    const struct ev_rec *req = ev_last(&p->slog, MTP_SESSION_EV_DESTROY_SESSION);
    ck_assert_uint_eq(req->value, 0x77);
    ck_assert_ok(mtp_session_send_destroy_result(&p->s, req->msg_id, 0x77, true));
    ck_assert_int_eq(pair_s2c(p), 1);
    const struct ev_rec *r = ev_last(&p->clog, MTP_SESSION_EV_DESTROY_SESSION);
    ck_assert_uint_eq(r->value, 0x77);
    ck_assert_int_eq(r->code, 1);
    ck_assert_uint_eq(r->ref, q);
    pair_free(p);
}
END_TEST

START_TEST(ping_pong)
{
    struct pair *p = pair_new(NULL, NULL);
    uint64_t q;
    ck_assert_ok(mtp_session_ping(&p->c, 0x1234, -1, &q));
    pair_pump(p);
    const struct ev_rec *pong = ev_last(&p->clog, MTP_SESSION_EV_PONG);
    ck_assert_uint_eq(pong->ref, q);
    ck_assert_uint_eq(pong->value, 0x1234);
    ck_assert_uint_eq(ev_last(&p->slog, MTP_SESSION_EV_PING)->value, 0x1234);
    /* A pong nobody asked for. */
    uint8_t b[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_pong(&w, q, 0x1234));
    ck_assert_ok(to_client(p, srv_id(900, 1), 2, b, w.len));
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_UNKNOWN_REQUEST);
    pair_free(p);
}
END_TEST

START_TEST(checks_on_server_messages)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.window = 3;
    struct pair *p = pair_new(&cfg, NULL);
    static const uint8_t UPD[4] = {1, 2, 3, 4};
    /* Even msg_id from a server. */
    ck_assert_rc(to_client(p, srv_id(100, 0), 1, UPD, 4), MTP_ERR_SES_MSG_ID_PARITY);
    ck_assert_rc(to_client(p, srv_id(100, 2), 1, UPD, 4), MTP_ERR_SES_MSG_ID_PARITY);
    /* Another session. */
    uint8_t buf[128];
    size_t n = craft(buf, sizeof buf, PAIR_SALT, p->c.session_id ^ 1, srv_id(100, 3), 1, UPD, 4);
    struct mtp_error err;
    ck_assert_rc(mtp_session_recv(&p->c, buf, n, &err), MTP_ERR_SES_WRONG_SESSION);
    ck_assert_uint_eq(err.offset, 8);
    /* Replay. */
    ck_assert_ok(to_client(p, srv_id(100, 3), 1, UPD, 4));
    ck_assert_rc(to_client(p, srv_id(100, 3), 1, UPD, 4), MTP_ERR_SES_DUPLICATE);
    ck_assert_ok(to_client(p, srv_id(200, 3), 3, UPD, 4));
    ck_assert_ok(to_client(p, srv_id(300, 3), 5, UPD, 4));
    /* The window is full: an id below all stored ones is too old to verify. */
    ck_assert_rc(to_client(p, srv_id(50, 3), 1, UPD, 4), MTP_ERR_SES_BELOW_WINDOW);
    /* Synchronised: ids far from the clock are ignored... */
    ck_assert_rc(to_client(p, srv_id(-300100, 3), 7, UPD, 4), MTP_ERR_SES_MSG_ID_TOO_OLD);
    ck_assert_rc(to_client(p, srv_id(30100, 3), 7, UPD, 4), MTP_ERR_SES_MSG_ID_TOO_NEW);
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_MESSAGE), 3);
    /* ...except a salt change or a time notification about a message we sent. */
    uint64_t q;
    ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
    ck_assert_int_eq(pair_flush(p, &p->c), 1);
    uint8_t b[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_bad_server_salt(&w, q, 1, 0x4242));
    ck_assert_ok(to_client(p, srv_id(40100, 1), 2, b, w.len));
    ck_assert_uint_eq(p->c.salt, 0x4242);
    pair_free(p);
}
END_TEST

START_TEST(client_faults_let_each_check_through)
{
    /* The seeded faults of a reference client: each bit lets exactly its
     * message through, which the same client refuses without it. */
    static const uint8_t UPD[4] = {1, 2, 3, 4};
    for (int faulty = 0; faulty < 2; faulty++) {
        struct mtp_session_cfg cfg;
        mtp_session_cfg_default(&cfg);
        if (faulty)
            cfg.client_faults = MTP_SESSION_CF(MTP_SESSION_CF_SKIP_SESSION_ID) |
                                MTP_SESSION_CF(MTP_SESSION_CF_ACCEPT_EVEN_MSG_ID) |
                                MTP_SESSION_CF(MTP_SESSION_CF_ACCEPT_DUPLICATE) |
                                MTP_SESSION_CF(MTP_SESSION_CF_SKIP_CONTAINER_ORDER) |
                                MTP_SESSION_CF(MTP_SESSION_CF_SKIP_LENGTH);
        struct pair *p = pair_new(&cfg, NULL);
        int want_refused[] = {MTP_ERR_SES_WRONG_SESSION, MTP_ERR_SES_MSG_ID_PARITY, MTP_ERR_SES_DUPLICATE,
                              MTP_ERR_SES_BAD_CONTAINER, MTP_ERR_SES_BAD_LENGTH};
        int got[5];
        uint8_t buf[256];
        size_t n = craft(buf, sizeof buf, PAIR_SALT, p->c.session_id ^ 1, srv_id(100, 3), 1, UPD, 4);
        got[0] = mtp_session_recv(&p->c, buf, n, NULL);
        got[1] = to_client(p, srv_id(110, 2), 1, UPD, 4);
        ck_assert_ok(to_client(p, srv_id(120, 3), 1, UPD, 4));
        got[2] = to_client(p, srv_id(120, 3), 1, UPD, 4);
        /* a container whose msg_id is below its message's */
        uint8_t ct[64];
        mtp_store_u32(ct, MTP_SVC_msg_container);
        mtp_store_u32(ct + 4, 1);
        mtp_store_u64(ct + 8, srv_id(140, 3));
        mtp_store_u32(ct + 16, 1);
        mtp_store_u32(ct + 20, 4);
        memcpy(ct + 24, UPD, 4);
        got[3] = to_client(p, srv_id(130, 3), 2, ct, 28);
        /* message_data_length beyond the plaintext */
        n = craft(buf, sizeof buf, PAIR_SALT, p->c.session_id, srv_id(150, 3), 1, UPD, 4);
        mtp_store_u32(buf + 28, 400);
        got[4] = mtp_session_recv(&p->c, buf, n, NULL);
        for (int i = 0; i < 5; i++)
            ck_assert_msg(got[i] == (faulty ? MTP_OK : want_refused[i]), "message %d, faults %s: %s", i,
                          faulty ? "on" : "off", mtp_err_name(got[i]));
        ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_MESSAGE), faulty ? 6 : 1);
        pair_free(p);
    }
}
END_TEST

START_TEST(client_faults_on_what_it_sends)
{
    for (int faulty = 0; faulty < 2; faulty++) {
        struct mtp_session_cfg cfg;
        mtp_session_cfg_default(&cfg);
        if (faulty)
            cfg.client_faults = MTP_SESSION_CF(MTP_SESSION_CF_OWN_MSG_ID_NOT_MOD4) |
                                MTP_SESSION_CF(MTP_SESSION_CF_NO_ACKS) |
                                MTP_SESSION_CF(MTP_SESSION_CF_RESEND_SAME_MSG_ID);
        struct pair *p = pair_new(&cfg, NULL);
        uint64_t q;
        ck_assert_ok(mtp_session_send_query(&p->c, QUERY, 4, &q));
        ck_assert_uint_eq(q % 4, faulty ? 2 : 0);
        ck_assert_int_eq(pair_flush(p, &p->c), 1);
        /* content-related: acknowledged unless NO_ACKS */
        static const uint8_t UPD[4] = {1, 2, 3, 4};
        ck_assert_ok(to_client(p, srv_id(100, 3), 1, UPD, 4));
        ck_assert_uint_eq(p->c.acks_n, faulty ? 0 : 1);
        /* bad_server_salt: resent under a new msg_id, or (fault) the old one, alone */
        uint8_t b[32];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, b, sizeof b, NULL);
        ck_assert_ok(mtp_svc_write_bad_server_salt(&w, q, 1, 0x4242));
        ck_assert_ok(to_client(p, srv_id(200, 1), 2, b, w.len));
        const struct ev_rec *r = ev_last(&p->clog, MTP_SESSION_EV_RESENT);
        ck_assert_ptr_nonnull(r);
        ck_assert_uint_eq(r->ref, q);
        ck_assert_int_eq(r->msg_id == q, faulty);
        uint8_t out[512];
        mtp_wr_init_fixed(&w, out, sizeof out, NULL);
        ck_assert_int_eq(mtp_session_flush(&p->c, &w), 1);
        struct mtp_msg_header h;
        struct mtp_rd body;
        parse_out(out, w.len, &h, &body);
        if (faulty) {
            ck_assert_uint_eq(h.msg_id, q);
            ck_assert_uint_eq(mtp_load_u32(out + 32), mtp_load_u32(QUERY));
        } else {
            ck_assert_uint_ne(h.msg_id, q);
        }
        ck_assert_uint_eq(h.salt, 0x4242);
        pair_free(p);
    }
}
END_TEST

START_TEST(unsynchronised_client_accepts_any_time)
{
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "c", 1, PAIR_T0);
    struct mtp_session c;
    struct ev_log *log = calloc(1, sizeof *log);
    ck_assert_ok(mtp_session_init(&c, MTP_SESSION_CLIENT, NULL, &env, ev_log_cb, log));
    uint8_t buf[128];
    static const uint8_t UPD[4] = {1, 2, 3, 4};
    size_t n = craft(buf, sizeof buf, 0, c.session_id, mtp_msgid_from_ms(PAIR_T0 - 3600000) | 3, 1, UPD, 4);
    struct mtp_error err;
    ck_assert_ok(mtp_session_recv(&c, buf, n, &err));
    ck_assert_uint_eq(ev_count(log, MTP_SESSION_EV_MESSAGE), 1);
    mtp_session_free(&c);
    free(log);
}
END_TEST

START_TEST(server_containers)
{
    struct pair *p = pair_new(NULL, NULL);
    static const uint8_t UPD[4] = {1, 2, 3, 4};
    uint8_t c[256];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, c, sizeof c, NULL);
    struct mtp_container_wr cw;
    ck_assert_ok(mtp_container_begin(&cw, &w));
    ck_assert_ok(mtp_container_add(&cw, srv_id(100, 3), 1, UPD, 4));
    ck_assert_ok(mtp_container_add(&cw, srv_id(101, 0), 3, UPD, 4)); /* even: dropped alone */
    ck_assert_ok(mtp_container_add(&cw, srv_id(102, 3), 3, UPD, 4));
    ck_assert_ok(mtp_container_end(&cw));
    ck_assert_ok(to_client(p, srv_id(110, 3), 4, c, w.len));
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_MESSAGE), 2);
    ck_assert_int_eq(ev_last(&p->clog, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_MSG_ID_PARITY);
    /* The same container again: a replay of its id. */
    ck_assert_rc(to_client(p, srv_id(110, 3), 4, c, w.len), MTP_ERR_SES_DUPLICATE);
    /* An invalid container is dropped whole. */
    mtp_wr_init_fixed(&w, c, sizeof c, NULL);
    ck_assert_ok(mtp_container_begin(&cw, &w));
    ck_assert_ok(mtp_container_add(&cw, srv_id(200, 3), 1, UPD, 4));
    ck_assert_ok(mtp_container_add(&cw, srv_id(300, 3), 3, UPD, 4)); /* above the container's id */
    ck_assert_ok(mtp_container_end(&cw));
    ck_assert_rc(to_client(p, srv_id(250, 3), 4, c, w.len), MTP_ERR_SES_BAD_CONTAINER);
    ck_assert_uint_eq(ev_count(&p->clog, MTP_SESSION_EV_MESSAGE), 2);
    pair_free(p);
}
END_TEST

static Suite *client_suite(void)
{
    Suite *s = suite_create("mtp_session_client");
    TCase *a = tcase_create("answers");
    tcase_add_test(a, rpc_result_delivered_and_acknowledged);
    tcase_add_test(a, rpc_error_and_gzip_result);
    tcase_add_test(a, gzip_bomb_in_a_result_is_dropped);
    tcase_add_test(a, result_for_unknown_request_dropped);
    tcase_add_test(a, destroy_session_round_trip);
    tcase_add_test(a, ping_pong);
    suite_add_tcase(s, a);
    TCase *n = tcase_create("notifications");
    tcase_add_test(n, bad_server_salt_resends_under_a_new_msg_id);
    tcase_add_test(n, bad_server_salt_about_a_container_resends_its_contents);
    tcase_add_test(n, time_correction_from_code16);
    tcase_add_test(n, time_correction_from_code17_renews_the_session);
    tcase_add_test(n, unfixable_codes_fail_the_request);
    tcase_add_test(n, code20_resends);
    tcase_add_test(n, notification_about_an_unknown_message_is_ignored);
    tcase_add_test(n, new_session_created_updates_salt_and_resends_older_requests);
    tcase_add_test(n, future_salts_are_used_when_due);
    tcase_add_test(n, future_salts_for_another_request_dropped);
    suite_add_tcase(s, n);
    TCase *c = tcase_create("checks");
    tcase_add_test(c, checks_on_server_messages);
    tcase_add_test(c, client_faults_let_each_check_through);
    tcase_add_test(c, client_faults_on_what_it_sends);
    tcase_add_test(c, unsynchronised_client_accepts_any_time);
    tcase_add_test(c, server_containers);
    suite_add_tcase(s, c);
    return s;
}

MTP_TEST_MAIN(client_suite)
