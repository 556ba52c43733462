/* Server core: each bad_msg_notification code for a client that breaks the
 * rules, bad_server_salt and salt rotation, new_session_created, and the
 * server side of the service messages.  Client messages are crafted byte by
 * byte so that every rule can be broken on purpose. */
#include "mtp/container.h"
#include "mtp/gzip.h"
#include "mtp_session_pair.h"

#define SID 0x0102030405060708ull
static const uint8_t QUERY[4] = {0x6b, 0x18, 0xf9, 0xc4};

struct srv {
    struct mtp_det_state st;
    struct mtp_env env;
    struct mtp_session s;
    struct ev_log log;
    uint8_t in[1 << 16];
    uint8_t out[1 << 16];
    size_t out_len;
    struct mtp_error err;
};

static struct srv *srv_new(const struct mtp_session_cfg *cfg)
{
    struct srv *v = calloc(1, sizeof *v);
    ck_assert_ptr_nonnull(v);
    v->env = mtp_env_deterministic(&v->st, "server", 6, PAIR_T0);
    ck_assert_ok(mtp_session_init(&v->s, MTP_SESSION_SERVER, cfg, &v->env, ev_log_cb, &v->log));
    ck_assert_ok(mtp_session_set_salt(&v->s, PAIR_SALT));
    return v;
}

static void srv_free(struct srv *v)
{
    mtp_session_free(&v->s);
    free(v);
}

static uint64_t at(int64_t ms_from_t0) { return mtp_msgid_from_ms(PAIR_T0 + ms_from_t0); }

static int srv_recv_salt(struct srv *v, uint64_t salt, uint64_t msg_id, int32_t seqno, const uint8_t *body, size_t len)
{
    size_t n = craft(v->in, sizeof v->in, salt, SID, msg_id, seqno, body, len);
    return mtp_session_recv(&v->s, v->in, n, &v->err);
}

static int srv_recv(struct srv *v, uint64_t msg_id, int32_t seqno, const uint8_t *body, size_t len)
{
    return srv_recv_salt(v, PAIR_SALT, msg_id, seqno, body, len);
}

struct item {
    uint64_t msg_id;
    int32_t seqno;
    uint32_t ctor;
    struct mtp_svc svc; /* when ctor is a service message */
};

/* Flushes the server once and lists what it sent (the messages of a container, or the one message). */
static size_t srv_output(struct srv *v, struct item *items, size_t max, struct mtp_msg_header *hdr)
{
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, v->out, sizeof v->out, NULL);
    int rc = mtp_session_flush(&v->s, &w);
    ck_assert_int_ge(rc, 0);
    if (rc == 0)
        return 0;
    v->out_len = w.len;
    struct mtp_msg_header h;
    struct mtp_rd body;
    parse_out(v->out, w.len, &h, &body);
    if (hdr)
        *hdr = h;
    ck_assert_uint_eq(h.session_id, SID);
    ck_assert(mtp_msgid_parity_ok(h.msg_id, true));
    size_t n = 0;
    uint32_t ctor = mtp_load_u32(mtp_rd_cur(&body));
    if (ctor != MTP_SVC_msg_container) {
        items[0] = (struct item){h.msg_id, h.seqno, ctor, {0}};
        struct mtp_rd b = body;
        if (mtp_svc_info(ctor))
            ck_assert_ok(mtp_svc_parse(&b, &items[0].svc));
        return 1;
    }
    struct mtp_container c;
    ck_assert_ok(mtp_container_open(&c, &body, h.msg_id, h.seqno, &v->s.cfg.container));
    struct mtp_nested m;
    while (n < max && mtp_container_next(&c, &m) == 1) {
        items[n] = (struct item){m.msg_id, m.seqno, m.ctor, {0}};
        struct mtp_rd b = m.body;
        if (mtp_svc_info(m.ctor))
            ck_assert_ok(mtp_svc_parse(&b, &items[n].svc));
        n++;
    }
    return n;
}

static const struct item *find_item(const struct item *items, size_t n, uint32_t ctor)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].ctor == ctor)
            return &items[i];
    return NULL;
}

/* Starts the session with one good query at T0 and drains the server's output. */
static uint64_t start_session(struct srv *v)
{
    uint64_t id = at(100);
    ck_assert_ok(srv_recv(v, id, 1, QUERY, 4));
    struct item items[8];
    ck_assert_uint_ge(srv_output(v, items, 8, NULL), 1);
    return id;
}

/* Expects exactly one bad_msg_notification with code about (msg_id, seqno). */
static void expect_notification(struct srv *v, uint64_t msg_id, int32_t seqno, int32_t code)
{
    struct item items[8];
    struct mtp_msg_header h;
    size_t n = srv_output(v, items, 8, &h);
    const struct item *it = find_item(items, n, MTP_SVC_bad_msg_notification);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(it->svc.u.bad_msg.bad_msg_id, msg_id);
    ck_assert_int_eq(it->svc.u.bad_msg.bad_msg_seqno, seqno);
    ck_assert_int_eq(it->svc.u.bad_msg.error_code, code);
    /* A response (1 mod 4), not content-related. */
    ck_assert_uint_eq(it->msg_id % 4, 1);
    ck_assert_int_eq(it->seqno % 2, 0);
    const struct ev_rec *ev = ev_last(&v->log, MTP_SESSION_EV_BAD_MSG);
    ck_assert_uint_eq(ev->ref, msg_id);
    ck_assert_int_eq(ev->code, code);
}

START_TEST(first_message_creates_the_session)
{
    struct srv *v = srv_new(NULL);
    uint64_t id = at(100);
    ck_assert_ok(srv_recv(v, id, 1, QUERY, 4));
    ck_assert_uint_eq(v->s.session_id, SID);
    const struct ev_rec *q = ev_nth(&v->log, MTP_SESSION_EV_MESSAGE, 0);
    ck_assert_uint_eq(q->msg_id, id);
    ck_assert_uint_eq(q->ctor, 0xc4f9186bu);
    struct item items[8];
    size_t n = srv_output(v, items, 8, NULL);
    ck_assert_uint_eq(n, 2);
    const struct item *ns = find_item(items, n, MTP_SVC_new_session_created);
    ck_assert_ptr_nonnull(ns);
    ck_assert_uint_eq(ns->svc.u.new_session.first_msg_id, id);
    ck_assert_uint_eq(ns->svc.u.new_session.server_salt, PAIR_SALT);
    ck_assert_uint_eq(ns->msg_id % 4, 3); /* not a response */
    ck_assert_int_eq(ns->seqno, 1);       /* content-related: must be acknowledged */
    const struct item *ack = find_item(items, n, MTP_SVC_msgs_ack);
    ck_assert_ptr_nonnull(ack);
    uint64_t acked;
    struct mtp_svc_ids ids = ack->svc.u.ids;
    ck_assert_ok(mtp_svc_ids_next(&ids, &acked));
    ck_assert_uint_eq(acked, id);
    ck_assert_uint_eq(ev_last(&v->log, MTP_SESSION_EV_NEW_SESSION)->ref, id);
    srv_free(v);
}
END_TEST

START_TEST(lower_msg_id_in_a_young_session_is_announced_again)
{
    struct srv *v = srv_new(NULL);
    uint64_t first = at(100);
    ck_assert_ok(srv_recv(v, first, 3, QUERY, 4));
    struct item first_items[8];
    ck_assert_uint_ge(srv_output(v, first_items, 8, NULL), 1);
    /* Lower id, lower seqno: consistent, and new to a window that is not full. */
    uint64_t lower = at(50);
    ck_assert_ok(srv_recv(v, lower, 1, QUERY, 4));
    struct item items[8];
    size_t n = srv_output(v, items, 8, NULL);
    const struct item *ns = find_item(items, n, MTP_SVC_new_session_created);
    ck_assert_ptr_nonnull(ns);
    ck_assert_uint_eq(ns->svc.u.new_session.first_msg_id, lower);
    srv_free(v);
}
END_TEST

START_TEST(code16_too_old)
{
    struct srv *v = srv_new(NULL);
    uint64_t id = at(-300001 - 1);
    ck_assert_rc(srv_recv(v, id, 1, QUERY, 4), MTP_ERR_SES_MSG_ID_TOO_OLD);
    ck_assert_uint_eq(v->err.offset, 16);
    ck_assert_ptr_nonnull(strstr(v->err.msg, "ms in the past (limit 300000)"));
    expect_notification(v, id, 1, 16);
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_MESSAGE), 0);
    /* The session was not created by a rejected message. */
    ck_assert(!v->s.started);
    /* Just inside the limit is fine. */
    ck_assert_ok(srv_recv(v, at(-299999), 1, QUERY, 4));
    srv_free(v);
}
END_TEST

START_TEST(code17_too_new)
{
    struct srv *v = srv_new(NULL);
    uint64_t id = at(30001 + 1);
    ck_assert_rc(srv_recv(v, id, 1, QUERY, 4), MTP_ERR_SES_MSG_ID_TOO_NEW);
    expect_notification(v, id, 1, 17);
    ck_assert_ok(srv_recv(v, at(29999), 1, QUERY, 4));
    srv_free(v);
}
END_TEST

START_TEST(code18_low_bits)
{
    struct srv *v = srv_new(NULL);
    ck_assert_rc(srv_recv(v, at(100) | 2, 1, QUERY, 4), MTP_ERR_SES_MSG_ID_PARITY);
    expect_notification(v, at(100) | 2, 1, 18);
    ck_assert_rc(srv_recv(v, at(200) | 1, 1, QUERY, 4), MTP_ERR_SES_MSG_ID_PARITY);
    expect_notification(v, at(200) | 1, 1, 18);
    srv_free(v);
}
END_TEST

/* A container of one ping (content) with the given ids. */
static size_t container1(uint8_t *buf, size_t cap, uint64_t nested_id, int32_t nested_seqno)
{
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, cap, NULL);
    struct mtp_container_wr cw;
    uint8_t ping[12];
    struct mtp_wr pw;
    mtp_wr_init_fixed(&pw, ping, sizeof ping, NULL);
    ck_assert_ok(mtp_svc_write_ping(&pw, 7));
    ck_assert_ok(mtp_container_begin(&cw, &w));
    ck_assert_ok(mtp_container_add(&cw, nested_id, nested_seqno, ping, 12));
    ck_assert_ok(mtp_container_end(&cw));
    return w.len;
}

START_TEST(code19_container_id_reused)
{
    struct srv *v = srv_new(NULL);
    uint8_t c[64];
    size_t n = container1(c, sizeof c, at(100), 1);
    ck_assert_ok(srv_recv(v, at(101), 2, c, n));
    struct item items[8];
    ck_assert_uint_ge(srv_output(v, items, 8, NULL), 1);
    n = container1(c, sizeof c, at(99), 3);
    ck_assert_rc(srv_recv(v, at(101), 4, c, n), MTP_ERR_SES_DUPLICATE);
    expect_notification(v, at(101), 4, 19);
    srv_free(v);
}
END_TEST

/* Seeded faults (server_faults, for `mtprobe serve --fault`): each lets through exactly
 * what its check refuses, and nothing else changes. */
static struct srv *faulty_srv(enum mtp_session_server_fault f)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.server_faults = MTP_SESSION_SF(f);
    return srv_new(&cfg);
}

START_TEST(seeded_faults_let_through_what_they_name)
{
    struct srv *v = faulty_srv(MTP_SESSION_SF_SKIP_PAST);
    ck_assert_ok(srv_recv(v, at(-301003), 1, QUERY, 4));
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_MESSAGE), 1);
    ck_assert_rc(srv_recv(v, at(31003), 3, QUERY, 4), MTP_ERR_SES_MSG_ID_TOO_NEW); /* the other side stays */
    srv_free(v);

    v = faulty_srv(MTP_SESSION_SF_EXECUTE_DUPLICATE);
    uint64_t id = start_session(v);
    size_t before = ev_count(&v->log, MTP_SESSION_EV_MESSAGE);
    ck_assert_ok(srv_recv(v, id, 1, QUERY, 4));
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_MESSAGE), before + 1);
    srv_free(v);

    v = faulty_srv(MTP_SESSION_SF_ACCEPT_BAD_SALT);
    ck_assert_ok(srv_recv_salt(v, PAIR_SALT ^ 1, at(100), 1, QUERY, 4));
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_BAD_SALT), 0);
    srv_free(v);

    v = faulty_srv(MTP_SESSION_SF_NO_NEW_SESSION);
    ck_assert_ok(srv_recv(v, at(100), 1, QUERY, 4));
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_NEW_SESSION), 0);
    struct item items[8];
    size_t n = srv_output(v, items, 8, NULL);
    ck_assert_ptr_null(find_item(items, n, MTP_SVC_new_session_created));
    srv_free(v);

    v = faulty_srv(MTP_SESSION_SF_SEQNO_LOW_AS_HIGH);
    ck_assert_ok(srv_recv(v, at(100), 3, QUERY, 4));
    ck_assert_uint_ge(srv_output(v, items, 8, NULL), 1);
    ck_assert_rc(srv_recv(v, at(200), 1, QUERY, 4), MTP_ERR_SES_SEQNO_ORDER);
    expect_notification(v, at(200), 1, 33);
    srv_free(v);

    /* A client ignores the server's faults. */
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.server_faults = ~0u;
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "client", 6, PAIR_T0);
    struct mtp_session c;
    struct ev_log *log = calloc(1, sizeof *log);
    ck_assert_ptr_nonnull(log);
    ck_assert_ok(mtp_session_init(&c, MTP_SESSION_CLIENT, &cfg, &env, ev_log_cb, log));
    uint64_t cid;
    ck_assert_ok(mtp_session_send_query(&c, QUERY, 4, &cid));
    ck_assert_uint_eq(cid % 4, 0);
    mtp_session_free(&c);
    free(log);
}
END_TEST

START_TEST(duplicate_is_ignored_silently)
{
    struct srv *v = srv_new(NULL);
    uint64_t id = start_session(v);
    size_t before = ev_count(&v->log, MTP_SESSION_EV_MESSAGE);
    ck_assert_rc(srv_recv(v, id, 1, QUERY, 4), MTP_ERR_SES_DUPLICATE);
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_MESSAGE), before);
    ck_assert_int_eq(ev_last(&v->log, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_DUPLICATE);
    struct item items[8];
    ck_assert_uint_eq(srv_output(v, items, 8, NULL), 0);
    srv_free(v);
}
END_TEST

START_TEST(code20_below_full_window)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.window = 2;
    struct srv *v = srv_new(&cfg);
    ck_assert_ok(srv_recv(v, at(200), 1, QUERY, 4));
    ck_assert_ok(srv_recv(v, at(300), 3, QUERY, 4));
    struct item items[8];
    ck_assert_uint_ge(srv_output(v, items, 8, NULL), 1);
    ck_assert_rc(srv_recv(v, at(100), 1, QUERY, 4), MTP_ERR_SES_BELOW_WINDOW);
    expect_notification(v, at(100), 1, 20);
    srv_free(v);
}
END_TEST

START_TEST(code32_seqno_too_low)
{
    struct srv *v = srv_new(NULL);
    ck_assert_ok(srv_recv(v, at(100), 5, QUERY, 4));
    struct item items[8];
    ck_assert_uint_ge(srv_output(v, items, 8, NULL), 1);
    ck_assert_rc(srv_recv(v, at(200), 3, QUERY, 4), MTP_ERR_SES_SEQNO_ORDER);
    expect_notification(v, at(200), 3, 32);
    /* An equal odd seqno after a lower msg_id is too low as well. */
    ck_assert_rc(srv_recv(v, at(300), 5, QUERY, 4), MTP_ERR_SES_SEQNO_ORDER);
    expect_notification(v, at(300), 5, 32);
    srv_free(v);
}
END_TEST

START_TEST(code33_seqno_too_high)
{
    struct srv *v = srv_new(NULL);
    ck_assert_ok(srv_recv(v, at(500), 5, QUERY, 4));
    struct item items[8];
    ck_assert_uint_ge(srv_output(v, items, 8, NULL), 1);
    ck_assert_rc(srv_recv(v, at(400), 7, QUERY, 4), MTP_ERR_SES_SEQNO_ORDER);
    expect_notification(v, at(400), 7, 33);
    srv_free(v);
}
END_TEST

START_TEST(code34_even_expected)
{
    struct srv *v = srv_new(NULL);
    uint8_t ack[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, ack, sizeof ack, NULL);
    uint64_t none[1] = {at(1)};
    ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, none, 1));
    ck_assert_rc(srv_recv(v, at(100), 1, ack, w.len), MTP_ERR_SES_SEQNO_PARITY);
    ck_assert_str_eq(v->err.msg, "message.seq_no: 1 at offset 24 is odd, but the message is not content-related");
    expect_notification(v, at(100), 1, 34);
    /* A container with an odd seqno too. */
    uint8_t c[64];
    size_t n = container1(c, sizeof c, at(200), 1);
    ck_assert_rc(srv_recv(v, at(201), 3, c, n), MTP_ERR_SES_SEQNO_PARITY);
    expect_notification(v, at(201), 3, 34);
    srv_free(v);
}
END_TEST

START_TEST(code35_odd_expected)
{
    struct srv *v = srv_new(NULL);
    ck_assert_rc(srv_recv(v, at(100), 2, QUERY, 4), MTP_ERR_SES_SEQNO_PARITY);
    expect_notification(v, at(100), 2, 35);
    srv_free(v);
}
END_TEST

START_TEST(ping_accepted_with_either_parity)
{
    struct srv *v = srv_new(NULL);
    uint8_t ping[12];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, ping, sizeof ping, NULL);
    ck_assert_ok(mtp_svc_write_ping(&w, 1));
    ck_assert_ok(srv_recv(v, at(100), 1, ping, 12));
    ck_assert_ok(srv_recv(v, at(200), 2, ping, 12));
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_PING), 2);
    srv_free(v);
}
END_TEST

START_TEST(code48_bad_salt_gets_the_current_salt)
{
    struct srv *v = srv_new(NULL);
    ck_assert_rc(srv_recv_salt(v, 0xdead, at(100), 1, QUERY, 4), MTP_ERR_SES_BAD_SALT);
    ck_assert_str_eq(v->err.msg, "message.salt: 0xdead at offset 0 is not a valid server salt");
    struct item items[8];
    size_t n = srv_output(v, items, 8, NULL);
    const struct item *it = find_item(items, n, MTP_SVC_bad_server_salt);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(it->svc.u.bad_msg.bad_msg_id, at(100));
    ck_assert_int_eq(it->svc.u.bad_msg.bad_msg_seqno, 1);
    ck_assert_int_eq(it->svc.u.bad_msg.error_code, 48);
    ck_assert_uint_eq(it->svc.u.bad_msg.new_server_salt, PAIR_SALT);
    ck_assert_uint_eq(ev_last(&v->log, MTP_SESSION_EV_BAD_SALT)->value, PAIR_SALT);
    /* The resend under a new msg_id with the right salt is accepted. */
    ck_assert_ok(srv_recv(v, at(200), 3, QUERY, 4));
    srv_free(v);
}
END_TEST

START_TEST(code64_invalid_container)
{
    struct srv *v = srv_new(NULL);
    uint8_t c[64];
    /* Nested id above the container's. */
    size_t n = container1(c, sizeof c, at(300), 1);
    ck_assert_rc(srv_recv(v, at(200), 2, c, n), MTP_ERR_SES_BAD_CONTAINER);
    ck_assert_uint_eq(v->err.offset, 32 + 8);
    expect_notification(v, at(200), 2, 64);
    /* A container in a container. */
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, c, sizeof c, NULL);
    struct mtp_container_wr cw;
    uint8_t empty[8] = {0xdc, 0xf8, 0xf1, 0x73, 0, 0, 0, 0};
    ck_assert_ok(mtp_container_begin(&cw, &w));
    ck_assert_ok(mtp_container_add(&cw, at(400), 2, empty, 8));
    ck_assert_ok(mtp_container_end(&cw));
    ck_assert_rc(srv_recv(v, at(401), 2, c, w.len), MTP_ERR_SES_BAD_CONTAINER);
    expect_notification(v, at(401), 2, 64);
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_PING), 0);
    srv_free(v);
}
END_TEST

START_TEST(container_flood_no_notification)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.container.max_msgs = 3;
    struct srv *v = srv_new(&cfg);
    uint8_t c[512];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, c, sizeof c, NULL);
    struct mtp_container_wr cw;
    ck_assert_ok(mtp_container_begin(&cw, &w));
    for (int i = 0; i < 4; i++)
        ck_assert_ok(mtp_container_add(&cw, at(100 + i), 2 * i + 1, QUERY, 4));
    ck_assert_ok(mtp_container_end(&cw));
    ck_assert_rc(srv_recv(v, at(200), 8, c, w.len), MTP_ERR_SES_FLOOD);
    struct item items[8];
    ck_assert_uint_eq(srv_output(v, items, 8, NULL), 0);
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_MESSAGE), 0);
    srv_free(v);
}
END_TEST

START_TEST(too_many_ids_is_a_flood)
{
    struct srv *v = srv_new(NULL);
    size_t n = 8193, len = 12 + 8 * n;
    uint8_t *b = calloc(1, len);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, len, NULL);
    ck_assert_ok(mtp_wr_u32(&w, MTP_SVC_msgs_ack));
    ck_assert_ok(mtp_wr_u32(&w, 0x1cb5c415u));
    ck_assert_ok(mtp_wr_u32(&w, (uint32_t)n));
    uint8_t *in = malloc(len + 64);
    size_t m = craft(in, len + 64, PAIR_SALT, SID, at(100), 0, b, len);
    ck_assert_rc(mtp_session_recv(&v->s, in, m, &v->err), MTP_ERR_SES_FLOOD);
    ck_assert_int_eq(ev_last(&v->log, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_FLOOD);
    free(in);
    free(b);
    srv_free(v);
}
END_TEST

START_TEST(empty_low_half_ignored)
{
    struct srv *v = srv_new(NULL);
    ck_assert_rc(srv_recv(v, at(0), 1, QUERY, 4), MTP_ERR_SES_MSG_ID_ZERO_LOW);
    struct item items[8];
    ck_assert_uint_eq(srv_output(v, items, 8, NULL), 0);
    srv_free(v);
}
END_TEST

START_TEST(nested_faults_are_per_message)
{
    struct srv *v = srv_new(NULL);
    uint8_t c[256];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, c, sizeof c, NULL);
    struct mtp_container_wr cw;
    ck_assert_ok(mtp_container_begin(&cw, &w));
    ck_assert_ok(mtp_container_add(&cw, at(100), 1, QUERY, 4));     /* fine */
    ck_assert_ok(mtp_container_add(&cw, at(101), 2, QUERY, 4));     /* even seqno on a query: 35 */
    ck_assert_ok(mtp_container_add(&cw, at(102) | 2, 3, QUERY, 4)); /* bad low bits: 18 */
    ck_assert_ok(mtp_container_add(&cw, at(100), 3, QUERY, 4));     /* duplicate of the first: ignored */
    ck_assert_ok(mtp_container_end(&cw));
    ck_assert_ok(srv_recv(v, at(110), 4, c, w.len));
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_MESSAGE), 1);
    ck_assert_uint_eq(ev_nth(&v->log, MTP_SESSION_EV_MESSAGE, 0)->msg_id, at(100));
    struct item items[16];
    size_t n = srv_output(v, items, 16, NULL);
    int seen35 = 0, seen18 = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].ctor != MTP_SVC_bad_msg_notification)
            continue;
        if (items[i].svc.u.bad_msg.error_code == 35 && items[i].svc.u.bad_msg.bad_msg_id == at(101))
            seen35++;
        if (items[i].svc.u.bad_msg.error_code == 18 && items[i].svc.u.bad_msg.bad_msg_id == (at(102) | 2))
            seen18++;
    }
    ck_assert_int_eq(seen35, 1);
    ck_assert_int_eq(seen18, 1);
    ck_assert_int_eq(ev_last(&v->log, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_DUPLICATE);
    /* new_session_created names the lowest id of the container. */
    ck_assert_uint_eq(find_item(items, n, MTP_SVC_new_session_created)->svc.u.new_session.first_msg_id, at(100));
    srv_free(v);
}
END_TEST

START_TEST(old_salt_accepted_for_the_grace_period)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.salt_period_ms = 60000;
    struct srv *v = srv_new(&cfg);
    start_session(v);
    /* 61 s later a new salt is current; the old one is still accepted. */
    v->st.now_ms = PAIR_T0 + 61000;
    ck_assert_ok(srv_recv(v, at(61001), 3, QUERY, 4));
    uint64_t current = mtp_salts_at(&v->s.salts, v->st.now_ms)->salt;
    ck_assert_uint_ne(current, PAIR_SALT);
    /* Until 1800 s after it expired. */
    v->st.now_ms = PAIR_T0 + 60000 + 1800000 - 1;
    ck_assert_ok(srv_recv(v, at(60000 + 1800000 - 1), 5, QUERY, 4));
    v->st.now_ms = PAIR_T0 + 60000 + 1800000;
    struct item items[8];
    (void)srv_output(v, items, 8, NULL);
    ck_assert_rc(srv_recv(v, at(60000 + 1800000 + 1), 7, QUERY, 4), MTP_ERR_SES_BAD_SALT);
    size_t n = srv_output(v, items, 8, NULL);
    const struct item *it = find_item(items, n, MTP_SVC_bad_server_salt);
    ck_assert_ptr_nonnull(it);
    uint64_t now_salt = mtp_salts_at(&v->s.salts, v->st.now_ms)->salt;
    ck_assert_uint_eq(it->svc.u.bad_msg.new_server_salt, now_salt);
    ck_assert_uint_ne(now_salt, PAIR_SALT);
    ck_assert_int_eq(srv_recv_salt(v, now_salt, at(60000 + 1800000 + 10), 7, QUERY, 4), MTP_OK);
    srv_free(v);
}
END_TEST

START_TEST(get_future_salts_answer)
{
    struct srv *v = srv_new(NULL);
    start_session(v);
    uint8_t q[8];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, q, sizeof q, NULL);
    ck_assert_ok(mtp_svc_write_get_future_salts(&w, 3));
    ck_assert_ok(srv_recv(v, at(200), 3, q, 8));
    struct item items[8];
    size_t n = srv_output(v, items, 8, NULL);
    ck_assert_uint_eq(n, 1); /* the answer acknowledges the query: no msgs_ack */
    ck_assert_uint_eq(items[0].ctor, MTP_SVC_future_salts);
    ck_assert_uint_eq(items[0].msg_id % 4, 1);
    ck_assert_int_eq(items[0].seqno % 2, 0);
    struct mtp_svc fs = items[0].svc;
    ck_assert_uint_eq(fs.u.future_salts.req_msg_id, at(200));
    ck_assert_int_eq(fs.u.future_salts.now, PAIR_T0 / 1000);
    ck_assert_uint_eq(fs.u.future_salts.count, 3);
    struct mtp_svc_future_salt s0, s1, s2;
    ck_assert_ok(mtp_svc_future_salt_next(&fs, &s0));
    ck_assert_ok(mtp_svc_future_salt_next(&fs, &s1));
    ck_assert_ok(mtp_svc_future_salt_next(&fs, &s2));
    ck_assert_uint_eq(s0.salt, PAIR_SALT);
    ck_assert_int_eq(s0.valid_since, PAIR_T0 / 1000);
    ck_assert_int_eq(s0.valid_until, s1.valid_since);
    ck_assert_int_eq(s1.valid_until, s2.valid_since);
    ck_assert_int_eq(s2.valid_until - s2.valid_since, 3600);
    srv_free(v);
}
END_TEST

START_TEST(destroy_session_and_http_wait_reach_the_caller)
{
    struct srv *v = srv_new(NULL);
    start_session(v);
    uint8_t b[16];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_session(&w, MTP_SVC_destroy_session, 0x77));
    ck_assert_ok(srv_recv(v, at(200), 3, b, w.len));
    const struct ev_rec *ev = ev_last(&v->log, MTP_SESSION_EV_DESTROY_SESSION);
    ck_assert_uint_eq(ev->value, 0x77);
    ck_assert_ok(mtp_session_send_destroy_result(&v->s, ev->msg_id, 0x77, false));
    struct item items[8];
    size_t n = srv_output(v, items, 8, NULL);
    const struct item *it = find_item(items, n, MTP_SVC_destroy_session_none);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(it->svc.u.session.session_id, 0x77);
    ck_assert_ptr_null(find_item(items, n, MTP_SVC_msgs_ack)); /* answered, so not acked separately */

    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_http_wait(&w, 0, 0, 25000));
    ck_assert_ok(srv_recv(v, at(300), 4, b, w.len));
    ev = ev_last(&v->log, MTP_SESSION_EV_HTTP_WAIT);
    ck_assert_uint_eq(ev->body_len, 16);
    srv_free(v);
}
END_TEST

START_TEST(ping_delay_disconnect_timer)
{
    struct srv *v = srv_new(NULL);
    uint8_t b[16];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_ping_delay_disconnect(&w, 9, 75));
    ck_assert_ok(srv_recv(v, at(100), 1, b, w.len));
    struct item items[8];
    size_t n = srv_output(v, items, 8, NULL);
    const struct item *pong = find_item(items, n, MTP_SVC_pong);
    ck_assert_ptr_nonnull(pong);
    ck_assert_uint_eq(pong->svc.u.pong.msg_id, at(100));
    ck_assert_uint_eq(pong->svc.u.pong.ping_id, 9);
    ck_assert_uint_eq(pong->msg_id % 4, 1);
    ck_assert_ptr_null(find_item(items, n, MTP_SVC_msgs_ack)); /* the pong answers it */
    ck_assert_int_eq(mtp_session_next_deadline(&v->s), PAIR_T0 + 75000);
    /* A new ping_delay_disconnect resets the timer. */
    v->st.now_ms = PAIR_T0 + 60000;
    mtp_session_tick(&v->s);
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_ping_delay_disconnect(&w, 10, 75));
    ck_assert_ok(srv_recv(v, at(60001), 3, b, w.len));
    ck_assert_int_eq(mtp_session_next_deadline(&v->s), PAIR_T0 + 60000);
    (void)srv_output(v, items, 8, NULL);
    ck_assert_int_eq(mtp_session_next_deadline(&v->s), PAIR_T0 + 135000);
    v->st.now_ms = PAIR_T0 + 134999;
    mtp_session_tick(&v->s);
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_DISCONNECT), 0);
    v->st.now_ms = PAIR_T0 + 135000;
    mtp_session_tick(&v->s);
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_DISCONNECT), 1);
    mtp_session_tick(&v->s);
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_DISCONNECT), 1);
    srv_free(v);
}
END_TEST

START_TEST(wrong_session_and_unexpected_messages)
{
    struct srv *v = srv_new(NULL);
    start_session(v);
    size_t n = craft(v->in, sizeof v->in, PAIR_SALT, SID + 1, at(200), 3, QUERY, 4);
    ck_assert_rc(mtp_session_recv(&v->s, v->in, n, &v->err), MTP_ERR_SES_WRONG_SESSION);
    ck_assert_uint_eq(v->err.offset, 8);
    struct item items[8];
    ck_assert_uint_eq(srv_output(v, items, 8, NULL), 0);
    /* A server-only message from a client is dropped (but acknowledged: it was content-related). */
    uint8_t b[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(mtp_svc_write_new_session_created(&w, 1, 2, 3));
    ck_assert_ok(srv_recv(v, at(300), 3, b, w.len));
    ck_assert_int_eq(ev_last(&v->log, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_UNEXPECTED);
    /* Malformed service body: dropped with the parse error. */
    ck_assert_ok(srv_recv(v, at(400), 5, b, 8)); /* new_session_created cut after 4 bytes of first_msg_id */
    ck_assert_int_eq(ev_last(&v->log, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SES_UNEXPECTED);
    uint8_t ping_short[8] = {0xec, 0x77, 0xbe, 0x7a, 1, 0, 0, 0};
    ck_assert_ok(srv_recv(v, at(500), 7, ping_short, 8));
    ck_assert_int_eq(ev_last(&v->log, MTP_SESSION_EV_DROPPED)->code, MTP_ERR_SHORT);
    /* An empty body. */
    ck_assert_rc(srv_recv(v, at(600), 9, QUERY, 0), MTP_ERR_SHORT);
    srv_free(v);
}
END_TEST

START_TEST(result_replaces_ack_and_gzip_min)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.gzip_min = 64;
    struct srv *v = srv_new(&cfg);
    uint64_t q = at(100);
    ck_assert_ok(srv_recv(v, q, 1, QUERY, 4));
    uint8_t big[128];
    memset(big, 0, sizeof big);
    ck_assert_ok(mtp_session_send_result(&v->s, q, big, sizeof big, 0));
    ck_assert_ok(mtp_session_send_error(&v->s, q, 400, "BAD_REQUEST"));
    struct item items[8];
    size_t n = srv_output(v, items, 8, NULL);
    ck_assert_uint_eq(n, 3); /* new_session_created + two rpc_results, no msgs_ack */
    ck_assert_ptr_null(find_item(items, n, MTP_SVC_msgs_ack));
    const struct item *r = &items[1];
    ck_assert_uint_eq(r->ctor, MTP_SVC_rpc_result);
    ck_assert_uint_eq(r->msg_id % 4, 1);
    ck_assert_int_eq(r->seqno % 2, 1);
    ck_assert_uint_eq(r->svc.u.rpc_result.req_msg_id, q);
    struct mtp_rd res = r->svc.u.rpc_result.result;
    ck_assert_uint_eq(mtp_load_u32(mtp_rd_cur(&res)), MTP_SVC_gzip_packed);
    struct mtp_wr out;
    mtp_wr_init_dyn(&out, 1024, NULL);
    ck_assert_ok(mtp_gzip_packed_read(&res, &out, 1024));
    ck_assert_uint_eq(out.len, sizeof big);
    mtp_wr_free(&out);
    struct mtp_rd e = items[2].svc.u.rpc_result.result;
    struct mtp_svc err;
    ck_assert_ok(mtp_svc_parse(&e, &err));
    ck_assert_int_eq(err.u.rpc_error.error_code, 400);
    ck_assert_mem_eq(err.u.rpc_error.message, "BAD_REQUEST", 11);
    srv_free(v);
}
END_TEST

static struct srv *lenient_srv(void)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.strict_seqno_parity = false;
    cfg.strict_msg_id_low32 = false;
    return srv_new(&cfg);
}

static size_t ack_body(uint8_t *buf, size_t cap, uint64_t id)
{
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, cap, NULL);
    ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, &id, 1));
    return w.len;
}

START_TEST(odd_msgs_ack_tolerated_and_reported)
{
    struct srv *v = lenient_srv();
    start_session(v);
    /* A client that counts its msgs_ack as content-related without advancing
     * its count: the ack and the next query both carry seqno 3. */
    uint8_t ack[32];
    size_t n = ack_body(ack, sizeof ack, at(1));
    ck_assert_ok(srv_recv(v, at(200), 3, ack, n));
    const struct ev_rec *d = ev_last(&v->log, MTP_SESSION_EV_DEVIATION);
    ck_assert_uint_eq(d->msg_id, at(200));
    ck_assert_int_eq(d->seqno, 3);
    ck_assert_int_eq(d->code, MTP_ERR_SES_SEQNO_PARITY);
    ck_assert_uint_eq(d->value, 34);
    ck_assert_uint_eq(d->ctor, MTP_SVC_msgs_ack);
    ck_assert_str_eq(d->text, "msgs_ack with an odd seqno");
    ck_assert_ok(srv_recv(v, at(300), 3, QUERY, 4));
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_MESSAGE), 2);
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_BAD_MSG), 0);
    /* Judged as the even ack it should have been: the server does not acknowledge it. */
    mtp_session_flush_acks_now(&v->s);
    struct item items[8];
    size_t k = srv_output(v, items, 8, NULL);
    const struct item *a = find_item(items, k, MTP_SVC_msgs_ack);
    ck_assert_ptr_nonnull(a);
    struct mtp_svc_ids ids = a->svc.u.ids;
    uint64_t id, acked[4];
    size_t na = 0;
    while (na < 4 && mtp_svc_ids_next(&ids, &id) == MTP_OK)
        acked[na++] = id;
    ck_assert_uint_eq(na, 1); /* q was acknowledged with new_session_created */
    ck_assert_uint_eq(acked[0], at(300));
    /* Nested in a container: the same. */
    uint8_t c[128];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, c, sizeof c, NULL);
    struct mtp_container_wr cw;
    ck_assert_ok(mtp_container_begin(&cw, &w));
    ck_assert_ok(mtp_container_add(&cw, at(400), 5, ack, n));
    ck_assert_ok(mtp_container_end(&cw));
    ck_assert_ok(srv_recv(v, at(401), 6, c, w.len));
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_DEVIATION), 2);
    ck_assert_uint_eq(ev_last(&v->log, MTP_SESSION_EV_DEVIATION)->msg_id, at(400));
    /* Refused for another reason (a stale salt): bad_server_salt, and no deviation yet. */
    ck_assert_rc(srv_recv_salt(v, PAIR_SALT ^ 1, at(500), 7, ack, n), MTP_ERR_SES_BAD_SALT);
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_DEVIATION), 2);
    /* A container with an odd seqno is still refused. */
    size_t cn = container1(c, sizeof c, at(600), 7);
    ck_assert_rc(srv_recv(v, at(601), 9, c, cn), MTP_ERR_SES_SEQNO_PARITY);
    expect_notification(v, at(601), 9, 34);
    srv_free(v);
}
END_TEST

START_TEST(empty_low_half_tolerated_and_reported)
{
    struct srv *v = lenient_srv();
    ck_assert_ok(srv_recv(v, at(0), 1, QUERY, 4));
    ck_assert_uint_eq(ev_count(&v->log, MTP_SESSION_EV_MESSAGE), 1);
    const struct ev_rec *d = ev_last(&v->log, MTP_SESSION_EV_DEVIATION);
    ck_assert_uint_eq(d->msg_id, at(0));
    ck_assert_int_eq(d->code, MTP_ERR_SES_MSG_ID_ZERO_LOW);
    ck_assert_uint_eq(d->value, 0);
    ck_assert_str_eq(d->text, "a msg_id with empty lower 32 bits");
    srv_free(v);
}
END_TEST

START_TEST(container_always_wraps_a_single_answer)
{
    struct mtp_session_cfg cfg;
    mtp_session_cfg_default(&cfg);
    cfg.container_always = true;
    struct srv *v = srv_new(&cfg);
    start_session(v);
    uint64_t q = at(300);
    ck_assert_ok(srv_recv(v, q, 3, QUERY, 4));
    ck_assert_ok(mtp_session_send_result(&v->s, q, QUERY, 4, 0));
    struct item items[4];
    struct mtp_msg_header h;
    ck_assert_uint_eq(srv_output(v, items, 4, &h), 1);
    ck_assert_uint_eq(mtp_load_u32(v->out + 32), MTP_SVC_msg_container);
    ck_assert_uint_eq(items[0].ctor, MTP_SVC_rpc_result);
    ck_assert_uint_eq(items[0].svc.u.rpc_result.req_msg_id, q);
    ck_assert_uint_gt(h.msg_id, items[0].msg_id);
    ck_assert_int_eq(h.seqno, items[0].seqno + 1); /* even, and not below the answer's */
    ck_assert_uint_eq(h.msg_id % 4, 1);             /* it carries a response */
    srv_free(v);
}
END_TEST

static Suite *server_suite(void)
{
    Suite *s = suite_create("mtp_session_server");
    TCase *codes = tcase_create("bad_msg_codes");
    tcase_add_test(codes, code16_too_old);
    tcase_add_test(codes, code17_too_new);
    tcase_add_test(codes, code18_low_bits);
    tcase_add_test(codes, code19_container_id_reused);
    tcase_add_test(codes, code20_below_full_window);
    tcase_add_test(codes, code32_seqno_too_low);
    tcase_add_test(codes, code33_seqno_too_high);
    tcase_add_test(codes, code34_even_expected);
    tcase_add_test(codes, code35_odd_expected);
    tcase_add_test(codes, code48_bad_salt_gets_the_current_salt);
    tcase_add_test(codes, code64_invalid_container);
    tcase_add_test(codes, container_flood_no_notification);
    tcase_add_test(codes, duplicate_is_ignored_silently);
    tcase_add_test(codes, empty_low_half_ignored);
    tcase_add_test(codes, too_many_ids_is_a_flood);
    tcase_add_test(codes, nested_faults_are_per_message);
    tcase_add_test(codes, ping_accepted_with_either_parity);
    tcase_add_test(codes, odd_msgs_ack_tolerated_and_reported);
    tcase_add_test(codes, empty_low_half_tolerated_and_reported);
    suite_add_tcase(s, codes);
    TCase *svc = tcase_create("service");
    tcase_add_test(svc, first_message_creates_the_session);
    tcase_add_test(svc, lower_msg_id_in_a_young_session_is_announced_again);
    tcase_add_test(svc, old_salt_accepted_for_the_grace_period);
    tcase_add_test(svc, get_future_salts_answer);
    tcase_add_test(svc, destroy_session_and_http_wait_reach_the_caller);
    tcase_add_test(svc, ping_delay_disconnect_timer);
    tcase_add_test(svc, wrong_session_and_unexpected_messages);
    tcase_add_test(svc, result_replaces_ack_and_gzip_min);
    tcase_add_test(svc, container_always_wraps_a_single_answer);
    tcase_add_test(svc, seeded_faults_let_through_what_they_name);
    suite_add_tcase(s, svc);
    return s;
}

MTP_TEST_MAIN(server_suite)
