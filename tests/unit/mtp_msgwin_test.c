#include "mtp/msgwin.h"
#include "mtp_test.h"

START_TEST(duplicates_and_order)
{
    struct mtp_msgwin w;
    ck_assert_ok(mtp_msgwin_init(&w, 4));
    ck_assert_int_eq(mtp_msgwin_check(&w, 100), MTP_MSGWIN_NEW);
    mtp_msgwin_insert(&w, 300, 3);
    mtp_msgwin_insert(&w, 100, 1);
    mtp_msgwin_insert(&w, 200, 2);
    ck_assert_uint_eq(w.n, 3);
    ck_assert_uint_eq(w.e[0].msg_id, 100);
    ck_assert_uint_eq(w.e[1].msg_id, 200);
    ck_assert_uint_eq(w.e[2].msg_id, 300);
    ck_assert_int_eq(mtp_msgwin_check(&w, 200), MTP_MSGWIN_DUPLICATE);
    /* Not full: an id below all stored ones is still provably new. */
    ck_assert_int_eq(mtp_msgwin_check(&w, 50), MTP_MSGWIN_NEW);
    ck_assert_int_eq(mtp_msgwin_check(&w, 250), MTP_MSGWIN_NEW);
    int32_t seq = -1;
    ck_assert(mtp_msgwin_lookup(&w, 300, &seq));
    ck_assert_int_eq(seq, 3);
    ck_assert(!mtp_msgwin_lookup(&w, 301, &seq));
    ck_assert_uint_eq(mtp_msgwin_min(&w), 100);
    ck_assert_uint_eq(mtp_msgwin_max(&w), 300);
    mtp_msgwin_free(&w);
}
END_TEST

START_TEST(full_window_evicts_lowest_and_rejects_below)
{
    struct mtp_msgwin w;
    ck_assert_ok(mtp_msgwin_init(&w, 3));
    mtp_msgwin_insert(&w, 10, 1);
    mtp_msgwin_insert(&w, 20, 3);
    mtp_msgwin_insert(&w, 30, 5);
    ck_assert(mtp_msgwin_full(&w));
    ck_assert_int_eq(mtp_msgwin_check(&w, 5), MTP_MSGWIN_BELOW);
    ck_assert_int_eq(mtp_msgwin_check(&w, 15), MTP_MSGWIN_NEW);
    mtp_msgwin_insert(&w, 15, 2); /* evicts 10 */
    ck_assert_uint_eq(w.n, 3);
    ck_assert_uint_eq(mtp_msgwin_min(&w), 15);
    ck_assert_int_eq(mtp_msgwin_check(&w, 10), MTP_MSGWIN_BELOW);
    mtp_msgwin_insert(&w, 40, 7); /* evicts 15 */
    ck_assert_uint_eq(w.e[0].msg_id, 20);
    ck_assert_uint_eq(w.e[2].msg_id, 40);
    /* An id below everything is not kept by a full window. */
    mtp_msgwin_insert(&w, 1, 0);
    ck_assert_uint_eq(w.e[0].msg_id, 20);
    mtp_msgwin_clear(&w);
    ck_assert_uint_eq(w.n, 0);
    ck_assert_uint_eq(mtp_msgwin_min(&w), 0);
    mtp_msgwin_free(&w);
}
END_TEST

START_TEST(neighbours)
{
    struct mtp_msgwin w;
    ck_assert_ok(mtp_msgwin_init(&w, 8));
    const struct mtp_msgwin_entry *lo, *hi;
    mtp_msgwin_neighbours(&w, 5, &lo, &hi);
    ck_assert_ptr_null(lo);
    ck_assert_ptr_null(hi);
    mtp_msgwin_insert(&w, 10, 1);
    mtp_msgwin_insert(&w, 20, 3);
    mtp_msgwin_neighbours(&w, 15, &lo, &hi);
    ck_assert_uint_eq(lo->msg_id, 10);
    ck_assert_uint_eq(hi->msg_id, 20);
    mtp_msgwin_neighbours(&w, 20, &lo, &hi); /* the id itself is skipped */
    ck_assert_uint_eq(lo->msg_id, 10);
    ck_assert_ptr_null(hi);
    mtp_msgwin_neighbours(&w, 5, &lo, &hi);
    ck_assert_ptr_null(lo);
    ck_assert_uint_eq(hi->msg_id, 10);
    mtp_msgwin_free(&w);
}
END_TEST

START_TEST(init_rejects_zero)
{
    struct mtp_msgwin w;
    ck_assert_rc(mtp_msgwin_init(&w, 0), MTP_ERR_ARG);
    mtp_msgwin_free(&w);
}
END_TEST

static Suite *msgwin_suite(void)
{
    Suite *s = suite_create("mtp_msgwin");
    TCase *tc = tcase_create("window");
    tcase_add_test(tc, duplicates_and_order);
    tcase_add_test(tc, full_window_evicts_lowest_and_rejects_below);
    tcase_add_test(tc, neighbours);
    tcase_add_test(tc, init_rejects_zero);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(msgwin_suite)
