/* One test per bad_msg_notification code the server can emit, plus the
 * priority between simultaneous faults and the seqno fact rules
 * (service_messages_about_messages#notice-of-ignored-error-message). */
#include "mtp/badmsg.h"
#include "mtp/msgwin.h"
#include "mtp/service.h"
#include "mtp_test.h"

static void expect(uint32_t facts, enum mtp_badmsg_action action, int32_t code, int err)
{
    struct mtp_badmsg_verdict v = mtp_badmsg_decide(facts);
    ck_assert_int_eq(v.action, action);
    ck_assert_int_eq(v.code, code);
    ck_assert_rc(v.err, err);
}

START_TEST(accept_without_facts) { expect(0, MTP_BADMSG_ACCEPT, 0, MTP_OK); }
END_TEST
START_TEST(code16_msg_id_too_low)
{
    expect(MTP_FACT_ID_TOO_OLD, MTP_BADMSG_NOTIFY, 16, MTP_ERR_SES_MSG_ID_TOO_OLD);
}
END_TEST
START_TEST(code17_msg_id_too_high)
{
    expect(MTP_FACT_ID_TOO_NEW, MTP_BADMSG_NOTIFY, 17, MTP_ERR_SES_MSG_ID_TOO_NEW);
}
END_TEST
START_TEST(code18_low_bits) { expect(MTP_FACT_ID_LOW_BITS, MTP_BADMSG_NOTIFY, 18, MTP_ERR_SES_MSG_ID_PARITY); }
END_TEST
START_TEST(code19_container_id_reused)
{
    expect(MTP_FACT_DUPLICATE | MTP_FACT_CONTAINER, MTP_BADMSG_NOTIFY, 19, MTP_ERR_SES_DUPLICATE);
}
END_TEST
START_TEST(duplicate_ignored) { expect(MTP_FACT_DUPLICATE, MTP_BADMSG_IGNORE, 0, MTP_ERR_SES_DUPLICATE); }
END_TEST
START_TEST(code20_too_old_to_verify)
{
    expect(MTP_FACT_BELOW_WINDOW, MTP_BADMSG_NOTIFY, 20, MTP_ERR_SES_BELOW_WINDOW);
}
END_TEST
START_TEST(code32_seqno_too_low)
{
    expect(MTP_FACT_SEQNO_TOO_LOW, MTP_BADMSG_NOTIFY, 32, MTP_ERR_SES_SEQNO_ORDER);
}
END_TEST
START_TEST(code33_seqno_too_high)
{
    expect(MTP_FACT_SEQNO_TOO_HIGH, MTP_BADMSG_NOTIFY, 33, MTP_ERR_SES_SEQNO_ORDER);
}
END_TEST
START_TEST(code34_even_expected)
{
    expect(MTP_FACT_SEQNO_ODD_FOR_SERVICE, MTP_BADMSG_NOTIFY, 34, MTP_ERR_SES_SEQNO_PARITY);
}
END_TEST
START_TEST(code35_odd_expected)
{
    expect(MTP_FACT_SEQNO_EVEN_FOR_CONTENT, MTP_BADMSG_NOTIFY, 35, MTP_ERR_SES_SEQNO_PARITY);
}
END_TEST
START_TEST(code48_bad_salt) { expect(MTP_FACT_BAD_SALT, MTP_BADMSG_SALT, 48, MTP_ERR_SES_BAD_SALT); }
END_TEST
START_TEST(code64_invalid_container)
{
    expect(MTP_FACT_CONTAINER_INVALID | MTP_FACT_CONTAINER, MTP_BADMSG_NOTIFY, 64, MTP_ERR_SES_BAD_CONTAINER);
}
END_TEST
START_TEST(container_flood_closes)
{
    expect(MTP_FACT_CONTAINER_FLOOD | MTP_FACT_CONTAINER, MTP_BADMSG_FLOOD, 0, MTP_ERR_SES_FLOOD);
}
END_TEST
START_TEST(empty_low_half_ignored)
{
    expect(MTP_FACT_ID_ZERO_LOW32, MTP_BADMSG_IGNORE, 0, MTP_ERR_SES_MSG_ID_ZERO_LOW);
}
END_TEST

START_TEST(priorities)
{
    /* Time before salt: a client with a wrong clock learns the time first. */
    expect(MTP_FACT_ID_TOO_OLD | MTP_FACT_BAD_SALT, MTP_BADMSG_NOTIFY, 16, MTP_ERR_SES_MSG_ID_TOO_OLD);
    /* Shape of the id before its time. */
    expect(MTP_FACT_ID_LOW_BITS | MTP_FACT_ID_TOO_NEW, MTP_BADMSG_NOTIFY, 18, MTP_ERR_SES_MSG_ID_PARITY);
    /* Salt before duplicate: a replay with a stale salt still hears about the salt. */
    expect(MTP_FACT_BAD_SALT | MTP_FACT_DUPLICATE, MTP_BADMSG_SALT, 48, MTP_ERR_SES_BAD_SALT);
    /* A reused container id before its (possibly) bad structure. */
    expect(MTP_FACT_DUPLICATE | MTP_FACT_CONTAINER | MTP_FACT_CONTAINER_INVALID, MTP_BADMSG_NOTIFY, 19,
           MTP_ERR_SES_DUPLICATE);
    /* Container structure before the seqnos inside it. */
    expect(MTP_FACT_CONTAINER_INVALID | MTP_FACT_SEQNO_ODD_FOR_SERVICE, MTP_BADMSG_NOTIFY, 64,
           MTP_ERR_SES_BAD_CONTAINER);
    /* Parity before order. */
    expect(MTP_FACT_SEQNO_EVEN_FOR_CONTENT | MTP_FACT_SEQNO_TOO_LOW, MTP_BADMSG_NOTIFY, 35, MTP_ERR_SES_SEQNO_PARITY);
    expect(MTP_FACT_SEQNO_TOO_LOW | MTP_FACT_SEQNO_TOO_HIGH, MTP_BADMSG_NOTIFY, 32, MTP_ERR_SES_SEQNO_ORDER);
    /* A duplicate is ignored even when its seqno would be wrong now. */
    expect(MTP_FACT_DUPLICATE | MTP_FACT_SEQNO_TOO_LOW, MTP_BADMSG_IGNORE, 0, MTP_ERR_SES_DUPLICATE);
    /* Flood before invalid. */
    expect(MTP_FACT_CONTAINER_FLOOD | MTP_FACT_CONTAINER_INVALID, MTP_BADMSG_FLOOD, 0, MTP_ERR_SES_FLOOD);
}
END_TEST

START_TEST(seqno_facts)
{
    struct mtp_msgwin_entry lo = {100, 5}, hi = {300, 9};
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(7, MTP_SVC_SEQ_CONTENT, &lo, &hi), 0);
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(6, MTP_SVC_SEQ_SERVICE, &lo, &hi), 0);
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(6, MTP_SVC_SEQ_CONTENT, &lo, &hi), MTP_FACT_SEQNO_EVEN_FOR_CONTENT);
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(7, MTP_SVC_SEQ_SERVICE, &lo, &hi), MTP_FACT_SEQNO_ODD_FOR_SERVICE);
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(7, MTP_SVC_SEQ_EITHER, &lo, &hi), 0);
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(6, MTP_SVC_SEQ_EITHER, &lo, &hi), 0);
    /* Lower msg_id with a higher seqno: 32. */
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(3, MTP_SVC_SEQ_CONTENT, &lo, NULL), MTP_FACT_SEQNO_TOO_LOW);
    /* Lower msg_id with an equal odd seqno: 32 (two content messages cannot share one). */
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(5, MTP_SVC_SEQ_CONTENT, &lo, NULL), MTP_FACT_SEQNO_TOO_LOW);
    /* Equal even seqnos are fine (non-content messages in a row). */
    struct mtp_msgwin_entry even = {100, 4};
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(4, MTP_SVC_SEQ_SERVICE, &even, NULL), 0);
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(4, MTP_SVC_SEQ_SERVICE, NULL, &even), 0);
    /* Higher msg_id with a lower seqno: 33; with an equal odd one: 33. */
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(11, MTP_SVC_SEQ_CONTENT, NULL, &hi), MTP_FACT_SEQNO_TOO_HIGH);
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(9, MTP_SVC_SEQ_CONTENT, NULL, &hi), MTP_FACT_SEQNO_TOO_HIGH);
    ck_assert_uint_eq(mtp_badmsg_seqno_facts(7, MTP_SVC_SEQ_CONTENT, NULL, NULL), 0);
}
END_TEST

static Suite *badmsg_suite(void)
{
    Suite *s = suite_create("mtp_badmsg");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, accept_without_facts);
    tcase_add_test(tc, code16_msg_id_too_low);
    tcase_add_test(tc, code17_msg_id_too_high);
    tcase_add_test(tc, code18_low_bits);
    tcase_add_test(tc, code19_container_id_reused);
    tcase_add_test(tc, duplicate_ignored);
    tcase_add_test(tc, code20_too_old_to_verify);
    tcase_add_test(tc, code32_seqno_too_low);
    tcase_add_test(tc, code33_seqno_too_high);
    tcase_add_test(tc, code34_even_expected);
    tcase_add_test(tc, code35_odd_expected);
    tcase_add_test(tc, code48_bad_salt);
    tcase_add_test(tc, code64_invalid_container);
    tcase_add_test(tc, container_flood_closes);
    tcase_add_test(tc, empty_low_half_ignored);
    tcase_add_test(tc, priorities);
    tcase_add_test(tc, seqno_facts);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(badmsg_suite)
