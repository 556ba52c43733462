/* Service messages: exact serialisations of the schema lines
 * (core.telegram.org/schema/mtproto), round trips, malformed input, and the
 * classification table. */
#include <string.h>

#include "mtp/service.h"
#include "mtp/tl_prim.h"
#include "mtp_test.h"

#define ID1 0x6553f10000000004ull
#define ID2 0x6553f10000000008ull

struct fixture {
    uint8_t buf[1024];
    struct mtp_wr w;
    struct mtp_error err;
};

static void fx_init(struct fixture *f)
{
    mtp_error_clear(&f->err);
    mtp_wr_init_fixed(&f->w, f->buf, sizeof f->buf, &f->err);
}

/* The parsed readers keep pointing at f->err, which lives as long as the test. */
static void parse_ok(struct fixture *f, struct mtp_svc *svc)
{
    mtp_error_clear(&f->err);
    struct mtp_rd r;
    mtp_rd_init(&r, f->w.p, f->w.len, &f->err);
    int rc = mtp_svc_parse(&r, svc);
    ck_assert_msg(rc == MTP_OK, "parse: %s", f->err.msg);
    ck_assert_uint_eq(mtp_rd_left(&r), 0);
}

START_TEST(msgs_ack_bytes)
{
    struct fixture f;
    fx_init(&f);
    uint64_t ids[] = {ID1, ID2};
    ck_assert_ok(mtp_svc_write_ids(&f.w, MTP_SVC_msgs_ack, ids, 2));
    ck_assert_hex_eq(f.w.p, f.w.len, "59b4d662" "15c4b51c" "02000000" "0400000000f15365" "0800000000f15365");
    struct mtp_svc svc;
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.id, MTP_SVC_msgs_ack);
    ck_assert_uint_eq(svc.u.ids.count, 2);
    uint64_t id;
    ck_assert_ok(mtp_svc_ids_next(&svc.u.ids, &id));
    ck_assert_uint_eq(id, ID1);
    ck_assert_ok(mtp_svc_ids_next(&svc.u.ids, &id));
    ck_assert_uint_eq(id, ID2);
    ck_assert_rc(mtp_svc_ids_next(&svc.u.ids, &id), MTP_ERR_SHORT);
}
END_TEST

START_TEST(bad_server_salt_bytes)
{
    struct fixture f;
    fx_init(&f);
    ck_assert_ok(mtp_svc_write_bad_server_salt(&f.w, ID1, 3, 0x1122334455667788ull));
    ck_assert_hex_eq(f.w.p, f.w.len, "7b44abed" "0400000000f15365" "03000000" "30000000" "8877665544332211");
    struct mtp_svc svc;
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.u.bad_msg.bad_msg_id, ID1);
    ck_assert_int_eq(svc.u.bad_msg.bad_msg_seqno, 3);
    ck_assert_int_eq(svc.u.bad_msg.error_code, 48);
    ck_assert_uint_eq(svc.u.bad_msg.new_server_salt, 0x1122334455667788ull);
}
END_TEST

START_TEST(future_salts_bare_vector_of_bare_salts)
{
    struct fixture f;
    fx_init(&f);
    struct mtp_svc_future_salt in[2] = {{1700000000, 1700003600, 0xaa}, {1700003600, 1700007200, 0xbb}};
    ck_assert_ok(mtp_svc_write_future_salts(&f.w, ID1, 1700000000, in, 2));
    /* salts:vector<future_salt>: count without the vector id, elements without constructor ids. */
    ck_assert_hex_eq(f.w.p, f.w.len,
                     "950850ae" "0400000000f15365" "00f15365" "02000000"
                     "00f15365" "10ff5365" "aa00000000000000"
                     "10ff5365" "200d5465" "bb00000000000000");
    struct mtp_svc svc;
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.u.future_salts.req_msg_id, ID1);
    ck_assert_int_eq(svc.u.future_salts.now, 1700000000);
    ck_assert_uint_eq(svc.u.future_salts.count, 2);
    struct mtp_svc_future_salt out;
    ck_assert_ok(mtp_svc_future_salt_next(&svc, &out));
    ck_assert_uint_eq(out.salt, 0xaa);
    ck_assert_ok(mtp_svc_future_salt_next(&svc, &out));
    ck_assert_int_eq(out.valid_until, 1700007200);
    ck_assert_uint_eq(out.salt, 0xbb);
}
END_TEST

START_TEST(roundtrip_every_writer)
{
    struct fixture f;
    struct mtp_svc svc;

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_rpc_result_head(&f.w, ID1));
    ck_assert_ok(mtp_svc_write_rpc_error(&f.w, 420, "FLOOD_WAIT_3", 12));
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.u.rpc_result.req_msg_id, ID1);
    struct mtp_svc inner;
    ck_assert_ok(mtp_svc_parse(&svc.u.rpc_result.result, &inner));
    ck_assert_uint_eq(inner.id, MTP_SVC_rpc_error);
    ck_assert_int_eq(inner.u.rpc_error.error_code, 420);
    ck_assert_mem_eq(inner.u.rpc_error.message, "FLOOD_WAIT_3", 12);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_bad_msg(&f.w, ID2, 7, 17));
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.id, MTP_SVC_bad_msg_notification);
    ck_assert_int_eq(svc.u.bad_msg.error_code, 17);
    ck_assert_uint_eq(svc.u.bad_msg.new_server_salt, 0);

    fx_init(&f);
    uint8_t info[2] = {4, 1};
    ck_assert_ok(mtp_svc_write_state_info(&f.w, MTP_SVC_msgs_state_info, ID1, NULL, 0, info, 2));
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.u.state_info.req_msg_id, ID1);
    ck_assert_uint_eq(svc.u.state_info.info_len, 2);
    ck_assert_mem_eq(svc.u.state_info.info, info, 2);

    fx_init(&f);
    uint64_t ids[2] = {ID1, ID2};
    ck_assert_ok(mtp_svc_write_state_info(&f.w, MTP_SVC_msgs_all_info, 0, ids, 2, info, 2));
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.id, MTP_SVC_msgs_all_info);
    ck_assert_uint_eq(svc.u.all_info.ids.count, 2);
    fx_init(&f);
    ck_assert_rc(mtp_svc_write_state_info(&f.w, MTP_SVC_msgs_all_info, 0, ids, 2, info, 1), MTP_ERR_ARG);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_detailed_info(&f.w, ID1, ID2 | 1, 1000, 0));
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.u.detailed_info.msg_id, ID1);
    ck_assert_uint_eq(svc.u.detailed_info.answer_msg_id, ID2 | 1);
    ck_assert_int_eq(svc.u.detailed_info.bytes, 1000);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_new_detailed_info(&f.w, ID2 | 3, 8, 0));
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.id, MTP_SVC_msg_new_detailed_info);
    ck_assert_uint_eq(svc.u.detailed_info.msg_id, 0);
    ck_assert_uint_eq(svc.u.detailed_info.answer_msg_id, ID2 | 3);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_get_future_salts(&f.w, 5));
    parse_ok(&f, &svc);
    ck_assert_int_eq(svc.u.get_future_salts.num, 5);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_ping(&f.w, 77));
    ck_assert_hex_eq(f.w.p, f.w.len, "ec77be7a" "4d00000000000000");
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.u.ping.ping_id, 77);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_ping_delay_disconnect(&f.w, 78, 75));
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.u.ping.ping_id, 78);
    ck_assert_int_eq(svc.u.ping.disconnect_delay, 75);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_pong(&f.w, ID1, 77));
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.u.pong.msg_id, ID1);
    ck_assert_uint_eq(svc.u.pong.ping_id, 77);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_session(&f.w, MTP_SVC_destroy_session_none, 0x55));
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.id, MTP_SVC_destroy_session_none);
    ck_assert_uint_eq(svc.u.session.session_id, 0x55);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_new_session_created(&f.w, ID1, 9, 0x77));
    ck_assert_hex_eq(f.w.p, f.w.len, "0809c29e" "0400000000f15365" "0900000000000000" "7700000000000000");
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.u.new_session.first_msg_id, ID1);
    ck_assert_uint_eq(svc.u.new_session.unique_id, 9);
    ck_assert_uint_eq(svc.u.new_session.server_salt, 0x77);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_http_wait(&f.w, 0, 0, 25000));
    parse_ok(&f, &svc);
    ck_assert_int_eq(svc.u.http_wait.max_wait, 25000);

    fx_init(&f);
    ck_assert_ok(mtp_svc_write_rpc_drop_answer(&f.w, ID1));
    parse_ok(&f, &svc);
    ck_assert_uint_eq(svc.u.drop_answer.req_msg_id, ID1);
}
END_TEST

static int parse_hex(const char *hex, struct mtp_svc *svc, struct mtp_error *err)
{
    size_t n;
    uint8_t *p = mtp_test_hex(hex, &n);
    mtp_error_clear(err);
    struct mtp_rd r;
    mtp_rd_init(&r, p, n, err);
    int rc = mtp_svc_parse(&r, svc);
    if (rc < 0)
        ck_assert_uint_eq(r.pos, 0); /* a failure consumes nothing */
    return rc;
}

START_TEST(malformed)
{
    struct mtp_svc svc;
    struct mtp_error err;
    /* Not a service constructor: named, at offset 0. */
    ck_assert_rc(parse_hex("78563412", &svc, &err), MTP_ERR_TL_BAD_CTOR);
    ck_assert_str_eq(err.msg, "constructor #12345678 at offset 0 is not a service message");
    /* pong missing its ping_id. */
    ck_assert_rc(parse_hex("c5737734" "0400000000f15365", &svc, &err), MTP_ERR_SHORT);
    ck_assert_uint_eq(err.offset, 12);
    ck_assert_str_eq(err.msg, "pong.ping_id: need 8 bytes at offset 12, only 0 left");
    /* Trailing bytes after a complete ping. */
    ck_assert_rc(parse_hex("ec77be7a" "4d00000000000000" "00000000", &svc, &err), MTP_ERR_TRAILING);
    ck_assert_uint_eq(err.offset, 12);
    /* msgs_ack without the vector constructor. */
    ck_assert_rc(parse_hex("59b4d662" "01000000" "0400000000f15365", &svc, &err), MTP_ERR_TL_BAD_CTOR);
    /* msgs_ack whose count exceeds the bytes left. */
    ck_assert_rc(parse_hex("59b4d662" "15c4b51c" "03000000" "0400000000f15365", &svc, &err), MTP_ERR_TL_BAD_COUNT);
    /* msgs_all_info with 2 ids and 1 status byte. */
    ck_assert_rc(parse_hex("31d1c08c" "15c4b51c" "02000000" "0400000000f15365" "0800000000f15365" "01040000", &svc,
                           &err),
                 MTP_ERR_SES_BAD_SERVICE);
    /* future_salts with more than 64 salts. */
    char big[64 + 8 + 2 * 65 * 32 + 1];
    strcpy(big, "950850ae" "0400000000f15365" "00f15365" "41000000");
    for (int i = 0; i < 65; i++)
        strcat(big, "00f15365" "10ff5365" "aa00000000000000");
    ck_assert_rc(parse_hex(big, &svc, &err), MTP_ERR_SES_BAD_SERVICE);
    /* rpc_result without a result object. */
    ck_assert_rc(parse_hex("016d5cf3" "0400000000f15365", &svc, &err), MTP_ERR_TL_SHORT);
}
END_TEST

START_TEST(more_than_8192_ids_is_a_flood)
{
    size_t n = 8193;
    size_t len = 12 + 8 * n;
    uint8_t *p = calloc(1, len);
    ck_assert_ptr_nonnull(p);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, p, len, NULL);
    ck_assert_ok(mtp_wr_u32(&w, MTP_SVC_msgs_ack));
    ck_assert_ok(mtp_wr_u32(&w, MTP_TL_ID_VECTOR));
    ck_assert_ok(mtp_wr_u32(&w, (uint32_t)n));
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd r;
    mtp_rd_init(&r, p, len, &err);
    struct mtp_svc svc;
    ck_assert_rc(mtp_svc_parse(&r, &svc), MTP_ERR_SES_FLOOD);
    uint64_t ids[1];
    mtp_wr_init_fixed(&w, p, len, NULL);
    ck_assert_rc(mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, ids, n), MTP_ERR_ARG);
    free(p);
}
END_TEST

START_TEST(classification)
{
    const struct mtp_svc_info *i = mtp_svc_info(MTP_SVC_msgs_ack);
    ck_assert_str_eq(i->name, "msgs_ack");
    ck_assert_int_eq(i->seq, MTP_SVC_SEQ_SERVICE);
    ck_assert_int_eq(mtp_svc_info(MTP_SVC_msg_container)->seq, MTP_SVC_SEQ_SERVICE);
    i = mtp_svc_info(MTP_SVC_rpc_result);
    ck_assert_int_eq(i->seq, MTP_SVC_SEQ_CONTENT);
    ck_assert_int_eq(i->from, MTP_SVC_FROM_SERVER);
    ck_assert(i->response);
    ck_assert_int_eq(mtp_svc_info(MTP_SVC_new_session_created)->seq, MTP_SVC_SEQ_CONTENT);
    ck_assert(!mtp_svc_info(MTP_SVC_new_session_created)->response);
    ck_assert_int_eq(mtp_svc_info(MTP_SVC_ping)->seq, MTP_SVC_SEQ_EITHER);
    ck_assert_int_eq(mtp_svc_info(MTP_SVC_pong)->seq, MTP_SVC_SEQ_SERVICE);
    ck_assert_int_eq(mtp_svc_info(MTP_SVC_bad_msg_notification)->seq, MTP_SVC_SEQ_SERVICE);
    ck_assert_int_eq(mtp_svc_info(MTP_SVC_get_future_salts)->from, MTP_SVC_FROM_CLIENT);
    ck_assert_ptr_null(mtp_svc_info(0x12345678));
    char nb[12];
    ck_assert_str_eq(mtp_svc_name(MTP_SVC_gzip_packed, nb), "gzip_packed");
    ck_assert_str_eq(mtp_svc_name(0xdeadbeef, nb), "#deadbeef");
    ck_assert_str_eq(mtp_bad_msg_code_text(35), "odd msg_seqno expected (relevant message), but even received");
    ck_assert_ptr_null(mtp_bad_msg_code_text(21));
}
END_TEST

static Suite *service_suite(void)
{
    Suite *s = suite_create("mtp_service");
    TCase *tc = tcase_create("service");
    tcase_add_test(tc, msgs_ack_bytes);
    tcase_add_test(tc, bad_server_salt_bytes);
    tcase_add_test(tc, future_salts_bare_vector_of_bare_salts);
    tcase_add_test(tc, roundtrip_every_writer);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, more_than_8192_ids_is_a_flood);
    tcase_add_test(tc, classification);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(service_suite)
