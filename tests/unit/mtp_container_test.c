#include "mtp/container.h"
#include "mtp/service.h"
#include "mtp_test.h"

#define CID 0x6553f10000000010ull
#define PING "ec77be7a" "4d00000000000000"
#define ACK "59b4d662" "15c4b51c" "00000000"

static const struct mtp_container_limits lim = {MTP_CONTAINER_MAX_MSGS, MTP_CONTAINER_MAX_BYTES};

static int open_hex(const char *hex, uint64_t id, int32_t seqno, const struct mtp_container_limits *l,
                    struct mtp_container *c, struct mtp_error *err)
{
    size_t n;
    uint8_t *p = mtp_test_hex(hex, &n);
    mtp_error_clear(err);
    struct mtp_rd r;
    mtp_rd_init(&r, p, n, err);
    return mtp_container_open(c, &r, id, seqno, l);
}

START_TEST(write_then_read)
{
    uint8_t buf[256];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    struct mtp_container_wr cw;
    size_t pn, an;
    uint8_t *ping = mtp_test_hex(PING, &pn), *ack = mtp_test_hex(ACK, &an);
    ck_assert_ok(mtp_container_begin(&cw, &w));
    ck_assert_ok(mtp_container_add(&cw, 0x6553f10000000004ull, 1, ping, pn));
    ck_assert_ok(mtp_container_add(&cw, 0x6553f10000000008ull, 2, ack, an));
    ck_assert_ok(mtp_container_end(&cw));
    ck_assert_hex_eq(w.p, w.len,
                     "dcf8f173" "02000000"
                     "0400000000f15365" "01000000" "0c000000" PING
                     "0800000000f15365" "02000000" "0c000000" ACK);
    ck_assert_uint_eq(w.len, 8 + mtp_container_item_size(pn) + mtp_container_item_size(an));

    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd r;
    mtp_rd_init(&r, w.p, w.len, &err);
    struct mtp_container c;
    ck_assert_ok(mtp_container_open(&c, &r, CID, 2, &lim));
    ck_assert_uint_eq(c.count, 2);
    struct mtp_nested m;
    ck_assert_int_eq(mtp_container_next(&c, &m), 1);
    ck_assert_uint_eq(m.msg_id, 0x6553f10000000004ull);
    ck_assert_int_eq(m.seqno, 1);
    ck_assert_uint_eq(m.ctor, MTP_SVC_ping);
    ck_assert_uint_eq(m.offset, 8);
    ck_assert_uint_eq(mtp_rd_left(&m.body), 12);
    ck_assert_int_eq(mtp_container_next(&c, &m), 1);
    ck_assert_uint_eq(m.ctor, MTP_SVC_msgs_ack);
    ck_assert_int_eq(mtp_container_next(&c, &m), 0);
}
END_TEST

START_TEST(empty_container_is_allowed)
{
    struct mtp_container c;
    struct mtp_error err;
    ck_assert_ok(open_hex("dcf8f173" "00000000", CID, 0, &lim, &c, &err));
    struct mtp_nested m;
    ck_assert_int_eq(mtp_container_next(&c, &m), 0);
}
END_TEST

START_TEST(invalid_containers)
{
    struct mtp_container c;
    struct mtp_error err;
    /* Nested msg_id equal to the container's. */
    ck_assert_rc(open_hex("dcf8f173" "01000000" "1000000000f15365" "01000000" "0c000000" PING, CID, 2, &lim, &c, &err),
                 MTP_ERR_SES_BAD_CONTAINER);
    ck_assert_uint_eq(err.offset, 8);
    ck_assert_str_eq(err.msg, "msg_container.message.msg_id: 0x6553f10000000010 is not below the container's "
                              "0x6553f10000000010 at offset 8");
    /* Nested seqno above the container's. */
    ck_assert_rc(open_hex("dcf8f173" "01000000" "0400000000f15365" "03000000" "0c000000" PING, CID, 2, &lim, &c, &err),
                 MTP_ERR_SES_BAD_CONTAINER);
    ck_assert_uint_eq(err.offset, 16);
    /* A container inside a container. */
    ck_assert_rc(open_hex("dcf8f173" "01000000" "0400000000f15365" "00000000" "08000000" "dcf8f173" "00000000", CID, 2,
                          &lim, &c, &err),
                 MTP_ERR_SES_BAD_CONTAINER);
    ck_assert_uint_eq(err.offset, 24);
    /* bytes not a multiple of 4, too small, beyond the end. */
    ck_assert_rc(open_hex("dcf8f173" "01000000" "0400000000f15365" "01000000" "0b000000" PING, CID, 2, &lim, &c, &err),
                 MTP_ERR_SES_BAD_CONTAINER);
    ck_assert_uint_eq(err.offset, 20);
    ck_assert_rc(open_hex("dcf8f173" "01000000" "0400000000f15365" "01000000" "00000000" PING, CID, 2, &lim, &c, &err),
                 MTP_ERR_SES_BAD_CONTAINER);
    ck_assert_rc(open_hex("dcf8f173" "01000000" "0400000000f15365" "01000000" "10000000" PING, CID, 2, &lim, &c, &err),
                 MTP_ERR_SES_BAD_CONTAINER);
    /* Bytes after the last message. */
    ck_assert_rc(open_hex("dcf8f173" "01000000" "0400000000f15365" "01000000" "0c000000" PING "00000000", CID, 2, &lim,
                          &c, &err),
                 MTP_ERR_SES_BAD_CONTAINER);
    ck_assert_uint_eq(err.offset, 36);
    /* A count that cannot fit, and a negative one. */
    ck_assert_rc(open_hex("dcf8f173" "02000000" "0400000000f15365" "01000000" "0c000000" PING, CID, 2, &lim, &c, &err),
                 MTP_ERR_SES_BAD_CONTAINER);
    ck_assert_uint_eq(err.offset, 4);
    ck_assert_rc(open_hex("dcf8f173" "ffffffff", CID, 2, &lim, &c, &err), MTP_ERR_SES_BAD_CONTAINER);
    /* Negative nested seqno. */
    ck_assert_rc(open_hex("dcf8f173" "01000000" "0400000000f15365" "feffffff" "0c000000" PING, CID, 2, &lim, &c, &err),
                 MTP_ERR_SES_BAD_CONTAINER);
    /* Not a container at all. */
    ck_assert_rc(open_hex(PING, CID, 2, &lim, &c, &err), MTP_ERR_TL_BAD_CTOR);
    /* Truncated item header. */
    ck_assert_rc(open_hex("dcf8f173" "01000000" "0400000000f15365" "01000000" "0c000000" "ec77", CID, 2, &lim, &c, &err),
                 MTP_ERR_SES_BAD_CONTAINER);
}
END_TEST

/* The mock DC's seeded fault: the rules about ids, seqnos and nesting are
 * skipped, the structure is still read. */
START_TEST(unchecked_open_skips_the_rules_only)
{
    size_t n;
    uint8_t *p = mtp_test_hex("dcf8f173" "01000000" "1000000000f15365" "03000000" "0c000000" PING, &n);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd r;
    mtp_rd_init(&r, p, n, &err);
    struct mtp_container c;
    ck_assert_rc(mtp_container_open(&c, &r, CID, 2, &lim), MTP_ERR_SES_BAD_CONTAINER);
    ck_assert_ok(mtp_container_open_unchecked(&c, &r, CID, 2, &lim));
    struct mtp_nested m;
    ck_assert_int_eq(mtp_container_next(&c, &m), 1);
    ck_assert_uint_eq(m.msg_id, CID);
    ck_assert_int_eq(m.seqno, 3);
    ck_assert_uint_eq(m.ctor, MTP_SVC_ping);
    ck_assert_int_eq(mtp_container_next(&c, &m), 0);
    /* a length beyond the end is still refused */
    p = mtp_test_hex("dcf8f173" "01000000" "0400000000f15365" "01000000" "10000000" PING, &n);
    mtp_rd_init(&r, p, n, &err);
    ck_assert_rc(mtp_container_open_unchecked(&c, &r, CID, 2, &lim), MTP_ERR_SES_BAD_CONTAINER);
}
END_TEST

START_TEST(limits_are_a_flood)
{
    struct mtp_container c;
    struct mtp_error err;
    struct mtp_container_limits two = {1, 1000};
    ck_assert_rc(open_hex("dcf8f173" "02000000" "0400000000f15365" "01000000" "0c000000" PING
                          "0800000000f15365" "01000000" "0c000000" PING,
                          CID, 2, &two, &c, &err),
                 MTP_ERR_SES_FLOOD);
    ck_assert_str_eq(err.msg, "msg_container.count: 2 messages, more than the 1 allowed at offset 4");
    struct mtp_container_limits small = {10, 20};
    ck_assert_rc(open_hex("dcf8f173" "01000000" "0400000000f15365" "01000000" "0c000000" PING, CID, 2, &small, &c,
                          &err),
                 MTP_ERR_SES_FLOOD);
    ck_assert_uint_eq(err.offset, 0);
}
END_TEST

static Suite *container_suite(void)
{
    Suite *s = suite_create("mtp_container");
    TCase *tc = tcase_create("container");
    tcase_add_test(tc, write_then_read);
    tcase_add_test(tc, empty_container_is_allowed);
    tcase_add_test(tc, invalid_containers);
    tcase_add_test(tc, unchecked_open_skips_the_rules_only);
    tcase_add_test(tc, limits_are_a_flood);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(container_suite)
