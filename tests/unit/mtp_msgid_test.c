#include "mtp/msgid.h"
#include "mtp_test.h"

#define T0 1700000000000LL

START_TEST(msgid_is_unixtime_times_2_32)
{
    /* 1700000000.123 s: seconds in the high half, 0.123 * 2^32 = 0x1f7ced91 in the low half, low bits cleared. */
    ck_assert_uint_eq(mtp_msgid_from_ms(T0 + 123), 0x6553f1001f7ced90ull);
    ck_assert_uint_eq(mtp_msgid_from_ms(T0), 0x6553f10000000000ull);
    ck_assert_int_eq(mtp_msgid_to_ms(0x6553f1001f7ced90ull), T0 + 122); /* truncation of the 2 cleared bits */
    ck_assert_int_eq(mtp_msgid_to_ms(mtp_msgid_from_ms(T0 + 500)), T0 + 500); /* 2^31: exact */
    ck_assert_uint_eq(mtp_msgid_from_ms(-5), 0);
}
END_TEST

START_TEST(client_ids_divisible_by_4_and_increasing_when_clock_stalls)
{
    struct mtp_msgid_gen g;
    mtp_msgid_gen_init(&g);
    uint64_t prev = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t id = mtp_msgid_next(&g, T0 + 7, MTP_MSGID_CLIENT);
        ck_assert_uint_eq(id % 4, 0);
        ck_assert_uint_gt(id, prev);
        prev = id;
    }
    /* Still close to the clock: 1000 ids in one ms move the id by 4000 units (< 1 ms = 4294967 units). */
    ck_assert_uint_lt(prev - mtp_msgid_from_ms(T0 + 7), 4 * 1001);
}
END_TEST

START_TEST(avoided_id_is_never_generated)
{
    struct mtp_msgid_gen g;
    mtp_msgid_gen_init(&g);
    uint64_t refused = mtp_msgid_next(&g, 1700000000123, MTP_MSGID_CLIENT);
    /* The clock set back to the same instant (a new session after bad_msg_notification 17). */
    g.last = 0;
    g.avoid = refused;
    uint64_t again = mtp_msgid_next(&g, 1700000000123, MTP_MSGID_CLIENT);
    ck_assert_uint_ne(again, refused);
    ck_assert_uint_eq(again, refused + 4);
    ck_assert_uint_eq(again % 4, 0);
}
END_TEST

START_TEST(ids_increase_when_clock_goes_back)
{
    struct mtp_msgid_gen g;
    mtp_msgid_gen_init(&g);
    uint64_t a = mtp_msgid_next(&g, T0 + 10000, MTP_MSGID_CLIENT);
    uint64_t b = mtp_msgid_next(&g, T0, MTP_MSGID_CLIENT);
    ck_assert_uint_gt(b, a);
    ck_assert_uint_eq(b, a + 4);
    uint64_t c = mtp_msgid_next(&g, T0 + 20000, MTP_MSGID_CLIENT);
    /* T0 + 20 s is a whole second: the time-based id has an empty low half and moves up by 4. */
    ck_assert_uint_eq(c, mtp_msgid_from_ms(T0 + 20000) + 4);
    uint64_t d = mtp_msgid_next(&g, T0 + 20250, MTP_MSGID_CLIENT);
    ck_assert_uint_eq(d, mtp_msgid_from_ms(T0 + 20250));
}
END_TEST

START_TEST(server_ids_odd_by_kind)
{
    struct mtp_msgid_gen g;
    mtp_msgid_gen_init(&g);
    uint64_t prev = 0;
    for (int i = 0; i < 50; i++) {
        enum mtp_msgid_kind k = (i % 3) ? MTP_MSGID_SERVER_RESPONSE : MTP_MSGID_SERVER_OTHER;
        uint64_t id = mtp_msgid_next(&g, T0, k);
        ck_assert_uint_eq(id % 4, (uint64_t)k);
        ck_assert_uint_gt(id, prev);
        ck_assert(mtp_msgid_parity_ok(id, true));
        ck_assert(!mtp_msgid_parity_ok(id, false));
        prev = id;
    }
}
END_TEST

START_TEST(client_id_low_half_never_empty)
{
    struct mtp_msgid_gen g;
    mtp_msgid_gen_init(&g);
    /* Exactly on a second boundary the time-based low half is 0. */
    uint64_t id = mtp_msgid_next(&g, T0, MTP_MSGID_CLIENT);
    ck_assert_uint_ne(id & 0xffffffffu, 0);
    ck_assert_uint_eq(id, 0x6553f10000000004ull);
}
END_TEST

START_TEST(sync_from_peer_msg_id_and_server_time)
{
    struct mtp_msgid_gen g;
    mtp_msgid_gen_init(&g);
    ck_assert(!g.synced);
    /* The peer is 42.5 s ahead. */
    mtp_msgid_sync(&g, T0, mtp_msgid_from_ms(T0 + 42500) | 1);
    ck_assert(g.synced);
    ck_assert_int_eq(g.offset_ms, 42500);
    ck_assert_int_eq(mtp_msgid_now(&g, T0), T0 + 42500);
    uint64_t id = mtp_msgid_next(&g, T0, MTP_MSGID_CLIENT);
    ck_assert_uint_eq(id, mtp_msgid_from_ms(T0 + 42500));
    mtp_msgid_sync_seconds(&g, T0 + 250, T0 / 1000 - 10);
    ck_assert_int_eq(g.offset_ms, -10250);
}
END_TEST

START_TEST(parity_rules)
{
    ck_assert(mtp_msgid_parity_ok(0x6553f10000000004ull, false));
    ck_assert(!mtp_msgid_parity_ok(0x6553f10000000006ull, false));
    ck_assert(!mtp_msgid_parity_ok(0x6553f10000000001ull, false));
    ck_assert(mtp_msgid_parity_ok(0x6553f10000000001ull, true));
    ck_assert(mtp_msgid_parity_ok(0x6553f10000000003ull, true));
    ck_assert(!mtp_msgid_parity_ok(0x6553f10000000004ull, true));
}
END_TEST

START_TEST(time_window_boundaries)
{
    int64_t now = T0 + 1000;
    ck_assert_int_eq(mtp_msgid_time_cmp(mtp_msgid_from_ms(now), now, 300000, 30000), 0);
    ck_assert_int_eq(mtp_msgid_time_cmp(mtp_msgid_from_ms(now - 300000), now, 300000, 30000), 0);
    ck_assert_int_eq(mtp_msgid_time_cmp(mtp_msgid_from_ms(now - 300002), now, 300000, 30000), -1);
    ck_assert_int_eq(mtp_msgid_time_cmp(mtp_msgid_from_ms(now + 30000), now, 300000, 30000), 0);
    ck_assert_int_eq(mtp_msgid_time_cmp(mtp_msgid_from_ms(now + 30002), now, 300000, 30000), 1);
    ck_assert_int_eq(mtp_msgid_time_cmp(0, now, 300000, 30000), -1);
    ck_assert_int_eq(mtp_msgid_time_cmp(UINT64_MAX, now, 300000, 30000), 1);
}
END_TEST

START_TEST(seqno_counts_content_related_messages)
{
    struct mtp_seqno s;
    mtp_seqno_init(&s);
    ck_assert_int_eq(mtp_seqno_next(&s, false), 0); /* e.g. msgs_ack before anything */
    ck_assert_int_eq(mtp_seqno_next(&s, true), 1);
    ck_assert_int_eq(mtp_seqno_next(&s, true), 3);
    ck_assert_int_eq(mtp_seqno_next(&s, false), 4); /* container after two content messages */
    ck_assert_int_eq(mtp_seqno_next(&s, false), 4);
    ck_assert_int_eq(mtp_seqno_next(&s, true), 5);
    ck_assert(mtp_seqno_is_content(5));
    ck_assert(!mtp_seqno_is_content(4));
}
END_TEST

static Suite *msgid_suite(void)
{
    Suite *s = suite_create("mtp_msgid");
    TCase *tc = tcase_create("msgid");
    tcase_add_test(tc, msgid_is_unixtime_times_2_32);
    tcase_add_test(tc, avoided_id_is_never_generated);
    tcase_add_test(tc, client_ids_divisible_by_4_and_increasing_when_clock_stalls);
    tcase_add_test(tc, ids_increase_when_clock_goes_back);
    tcase_add_test(tc, server_ids_odd_by_kind);
    tcase_add_test(tc, client_id_low_half_never_empty);
    tcase_add_test(tc, sync_from_peer_msg_id_and_server_time);
    tcase_add_test(tc, parity_rules);
    tcase_add_test(tc, time_window_boundaries);
    tcase_add_test(tc, seqno_counts_content_related_messages);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(msgid_suite)
