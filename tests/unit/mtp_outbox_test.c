#include "mtp_session_pair.h"
#include "session/mtp_session_internal.h"

static const uint8_t PING[12] = {0xec, 0x77, 0xbe, 0x7a, 1, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t ACK[12] = {0x59, 0xb4, 0xd6, 0x62, 0x15, 0xc4, 0xb5, 0x1c, 0, 0, 0, 0};

struct box {
    struct mtp_det_state st;
    struct mtp_env env;
    struct mtp_session s;
    struct ev_log log;
};

static struct box *box_new(enum mtp_session_role role, size_t max_stored, size_t max_bytes)
{
    struct box *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    b->env = mtp_env_deterministic(&b->st, "outbox", 6, PAIR_T0);
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.max_stored = max_stored;
    cfg.max_stored_bytes = max_bytes;
    cfg.max_body = 32;
    ck_assert_ok(mtp_session_init(&b->s, role, &cfg, &b->env, ev_log_cb, &b->log));
    return b;
}

static void box_free(struct box *b)
{
    mtp_session_free(&b->s);
    free(b);
}

START_TEST(add_assigns_ids_and_seqnos)
{
    struct box *b = box_new(MTP_SESSION_CLIENT, 8, 1024);
    struct mtp_session_out *e;
    ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_CONTENT | MTP_OUT_AWAIT, 0, 1, &e));
    uint64_t a = e->msg_id;
    ck_assert_uint_eq(a % 4, 0);
    ck_assert_int_eq(e->seqno, 1);
    ck_assert_uint_eq(e->ctor, MTP_SVC_ping);
    ck_assert_uint_eq(e->orig_msg_id, a);
    ck_assert(e->flags & MTP_OUT_QUEUED);
    ck_assert_ok(mtp_outbox_add(&b->s, ACK, 12, 0, 0, 0, &e));
    ck_assert_int_eq(e->seqno, 2);
    ck_assert_uint_gt(e->msg_id, a);
    ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_CONTENT, 0, 0, &e));
    ck_assert_int_eq(e->seqno, 3);
    ck_assert_uint_eq(b->s.out_n, 3);
    ck_assert_uint_eq(b->s.out_bytes, 36);
    ck_assert_int_eq(mtp_outbox_find(&b->s, a), 0);
    ck_assert_int_eq(mtp_outbox_find(&b->s, a + 4 * 1000), -1);
    mtp_outbox_remove(&b->s, 0);
    ck_assert_uint_eq(b->s.out_bytes, 24);
    ck_assert_int_eq(mtp_outbox_find(&b->s, a), -1);
    ck_assert_rc(mtp_outbox_add(&b->s, PING, 36, 0, 0, 0, NULL), MTP_ERR_LIMIT);
    ck_assert_rc(mtp_outbox_add(&b->s, PING, 10, 0, 0, 0, NULL), MTP_ERR_ARG);
    box_free(b);
}
END_TEST

START_TEST(server_ids_by_response_flag)
{
    struct box *b = box_new(MTP_SESSION_SERVER, 8, 1024);
    struct mtp_session_out *e;
    ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_RESPONSE, 0, 0, &e));
    ck_assert_uint_eq(e->msg_id % 4, 1);
    ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, 0, 0, 0, &e));
    ck_assert_uint_eq(e->msg_id % 4, 3);
    box_free(b);
}
END_TEST

START_TEST(full_store_evicts_only_expirable)
{
    struct box *b = box_new(MTP_SESSION_CLIENT, 3, 1024);
    for (int i = 0; i < 3; i++)
        ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_CONTENT | MTP_OUT_AWAIT, 0, 0, NULL));
    /* Everything is queued or awaited: nothing may go. */
    ck_assert_rc(mtp_outbox_add(&b->s, ACK, 12, 0, 0, 0, NULL), MTP_ERR_SES_QUEUE_FULL);
    /* A sent, non-content message may be dropped to make room. */
    b->s.out[1].flags = 0;
    b->s.out[1].sent_ms = PAIR_T0;
    uint64_t gone = b->s.out[1].msg_id;
    ck_assert_ok(mtp_outbox_add(&b->s, ACK, 12, 0, 0, 0, NULL));
    ck_assert_int_eq(mtp_outbox_find(&b->s, gone), -1);
    ck_assert_uint_eq(b->s.out_n, 3);
    box_free(b);
}
END_TEST

START_TEST(byte_limit)
{
    struct box *b = box_new(MTP_SESSION_CLIENT, 8, 30);
    ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_CONTENT, 0, 0, NULL));
    ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_CONTENT, 0, 0, NULL));
    ck_assert_rc(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_CONTENT, 0, 0, NULL), MTP_ERR_SES_QUEUE_FULL);
    /* Once acknowledged, a body no longer counts. */
    b->s.out[0].flags = MTP_OUT_CONTENT | MTP_OUT_ACKED | MTP_OUT_AWAIT;
    mtp_outbox_drop_body(&b->s, 0);
    ck_assert_uint_eq(b->s.out_bytes, 12);
    ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_CONTENT, 0, 0, NULL));
    box_free(b);
}
END_TEST

START_TEST(requeue_moves_to_a_new_id)
{
    struct box *b = box_new(MTP_SESSION_CLIENT, 8, 1024);
    struct mtp_session_out *e;
    ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_CONTENT | MTP_OUT_AWAIT, 0, 0, &e));
    uint64_t first = e->msg_id;
    ck_assert_ok(mtp_outbox_add(&b->s, ACK, 12, 0, 0, 0, &e));
    uint64_t second = e->msg_id;
    b->s.out[0].flags &= (uint16_t)~MTP_OUT_QUEUED;
    b->s.out[0].container_id = 99;
    uint64_t id = mtp_outbox_requeue(&b->s, 0);
    ck_assert_uint_gt(id, second);
    ck_assert_uint_eq(b->s.out[0].msg_id, second);
    ck_assert_uint_eq(b->s.out[1].msg_id, id);
    ck_assert_uint_eq(b->s.out[1].orig_msg_id, first);
    ck_assert_uint_eq(b->s.out[1].container_id, 0);
    ck_assert_int_eq(b->s.out[1].seqno, 3); /* a new content-related seqno */
    ck_assert(b->s.out[1].flags & MTP_OUT_QUEUED);
    const struct ev_rec *ev = ev_last(&b->log, MTP_SESSION_EV_RESENT);
    ck_assert_uint_eq(ev->ref, first);
    ck_assert_uint_eq(ev->msg_id, id);
    ck_assert_uint_eq(ev->orig, first);
    /* KEEP_ID: same id, same place, no event. */
    size_t before = b->log.n;
    b->s.out[0].flags = MTP_OUT_KEEP_ID;
    ck_assert_uint_eq(mtp_outbox_requeue(&b->s, 0), second);
    ck_assert_uint_eq(b->s.out[0].msg_id, second);
    ck_assert_uint_eq(b->log.n, before);
    box_free(b);
}
END_TEST

START_TEST(expire_keeps_what_is_still_needed)
{
    struct box *b = box_new(MTP_SESSION_CLIENT, 8, 1024);
    ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_CONTENT, 0, 0, NULL));            /* unacked content */
    ck_assert_ok(mtp_outbox_add(&b->s, ACK, 12, 0, 0, 0, NULL));                            /* service */
    ck_assert_ok(mtp_outbox_add(&b->s, PING, 12, MTP_OUT_CONTENT | MTP_OUT_AWAIT, 0, 0, NULL)); /* request */
    ck_assert_ok(mtp_outbox_add(&b->s, ACK, 12, 0, 0, 0, NULL));                            /* still queued */
    for (int i = 0; i < 3; i++) {
        b->s.out[i].flags &= (uint16_t)~MTP_OUT_QUEUED;
        b->s.out[i].sent_ms = PAIR_T0;
    }
    mtp_outbox_expire(&b->s, PAIR_T0 + 300000);
    ck_assert_uint_eq(b->s.out_n, 4);
    mtp_outbox_expire(&b->s, PAIR_T0 + 300001);
    ck_assert_uint_eq(b->s.out_n, 3);
    ck_assert(b->s.out[0].flags & MTP_OUT_CONTENT);
    ck_assert(b->s.out[1].flags & MTP_OUT_AWAIT);
    ck_assert(b->s.out[2].flags & MTP_OUT_QUEUED);
    box_free(b);
}
END_TEST

static Suite *outbox_suite(void)
{
    Suite *s = suite_create("mtp_outbox");
    TCase *tc = tcase_create("outbox");
    tcase_add_test(tc, add_assigns_ids_and_seqnos);
    tcase_add_test(tc, server_ids_by_response_flag);
    tcase_add_test(tc, full_store_evicts_only_expirable);
    tcase_add_test(tc, byte_limit);
    tcase_add_test(tc, requeue_moves_to_a_new_id);
    tcase_add_test(tc, expire_keeps_what_is_still_needed);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(outbox_suite)
