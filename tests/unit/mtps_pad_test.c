/* The padding policy: the least, the most and an exact padding for every
 * body length modulo 16, and fillers whose length allows exactly N. */
#include <string.h>

#include "mtp/container.h"
#include "mtp/service.h"
#include "mtp_test.h"
#include "mtps_pad.h"

START_TEST(lengths_for_every_residue)
{
    static const struct {
        size_t body;
        size_t min, max;
    } cases[] = {
        {4, 12, 1020}, {8, 24, 1016}, {12, 20, 1012}, {16, 16, 1024}, {20, 12, 1020}, {1000, 24, 1016},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t b = cases[i].body;
        ck_assert_uint_eq(mtps_pad_len(MTPS_PAD_MIN, 0, b), cases[i].min);
        ck_assert_uint_eq(mtps_pad_len(MTPS_PAD_MAX, 0, b), cases[i].max);
        ck_assert_uint_eq((32 + b + cases[i].max) % 16, 0);
        /* exact: the number where the length allows it, else the nearest legal one */
        for (uint32_t n = 12; n <= 1024; n++) {
            size_t p = mtps_pad_len(MTPS_PAD_EXACT, n, b);
            ck_assert_uint_eq((32 + b + p) % 16, 0);
            ck_assert_uint_ge(p, 12);
            ck_assert_uint_le(p, 1024);
            if ((32 + b + n) % 16 == 0)
                ck_assert_uint_eq(p, n);
            else if (n < cases[i].min)
                ck_assert_uint_eq(p, cases[i].min);
            else if (n > cases[i].max)
                ck_assert_uint_eq(p, cases[i].max);
            else
                ck_assert_uint_le(p > n ? p - n : n - p, 8);
        }
    }
    /* ties go to the shorter: body 4 allows 12, 28, 44, ...; 36 is 8 from 28 and 44 */
    ck_assert_uint_eq(mtps_pad_len(MTPS_PAD_EXACT, 36, 4), 28);
    ck_assert_uint_eq(mtps_pad_len(MTPS_PAD_EXACT, 20, 4), 12);
    ck_assert_uint_eq(mtps_pad_len(MTPS_PAD_EXACT, 12, 4), 12);
    ck_assert_uint_eq(mtps_pad_len(MTPS_PAD_EXACT, 1024, 4), 1020);
    ck_assert_uint_eq(mtps_pad_len(MTPS_PAD_EXACT, 1024, 16), 1024);
}
END_TEST

START_TEST(fillers_allow_exactly_n)
{
    static const uint64_t ack = 0x6553f10000000004ull, id1 = 0x6553f1000000000bull, id2 = 0x6553f1000000000full;
    static const struct {
        uint32_t n;
        size_t len;
        uint32_t ctor;
    } cases[] = {
        {12, 20, MTP_SVC_msgs_ack}, {28, 20, MTP_SVC_msgs_ack},         {4 + 16, 28, MTP_SVC_msgs_ack},
        {1024, 80, MTP_SVC_msg_container}, {1016, 88, MTP_SVC_msg_container}, {100, 28, MTP_SVC_msgs_ack},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[128];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
        ck_assert_ok(mtps_pad_filler(cases[i].n, ack, id1, id2, 4, &w));
        ck_assert_uint_eq(w.len, cases[i].len);
        ck_assert_uint_eq((32 + w.len + cases[i].n) % 16, 0);
        ck_assert_uint_eq(mtp_load_u32(w.p), cases[i].ctor);
        if (cases[i].ctor == MTP_SVC_msgs_ack) {
            ck_assert_uint_eq(mtp_load_u64(w.p + 12), ack);
            continue;
        }
        /* two msgs_ack of the client's message, ids below the filler's own */
        struct mtp_rd r;
        mtp_rd_init(&r, w.p, w.len, NULL);
        struct mtp_container ct;
        struct mtp_container_limits lim = {MTP_CONTAINER_MAX_MSGS, MTP_CONTAINER_MAX_BYTES};
        ck_assert_ok(mtp_container_open(&ct, &r, id2 + 4, 4, &lim));
        struct mtp_nested m;
        ck_assert_int_eq(mtp_container_next(&ct, &m), 1);
        ck_assert_uint_eq(m.msg_id, id1);
        ck_assert_uint_eq(m.ctor, MTP_SVC_msgs_ack);
        ck_assert_int_eq(mtp_container_next(&ct, &m), 1);
        ck_assert_uint_eq(m.msg_id, id2);
        ck_assert_int_eq(m.seqno, 4);
        ck_assert_int_eq(mtp_container_next(&ct, &m), 0);
    }
}
END_TEST

START_TEST(repadding_a_message)
{
    struct mtp_det_state det;
    struct mtp_env env = mtp_env_deterministic(&det, "pad", 3, 1700000000000ll);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 4096, NULL);
    static const uint8_t body[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ck_assert_ok(mtps_pad_message(&w, 0x1111, 0x2222, 0x3333, 5, body, sizeof body, 24, &env));
    ck_assert_uint_eq(w.len, 32 + 8 + 24);
    ck_assert_uint_eq(mtp_load_u32(w.p + 28), 8);
    ck_assert_ok(mtps_pad_apply(&w, 1016, &env));
    ck_assert_uint_eq(w.len, 32 + 8 + 1016);
    ck_assert_mem_eq(w.p + 32, body, 8);
    ck_assert_uint_eq(mtp_load_u64(w.p + 16), 0x3333);
    /* a length the plaintext cannot hold is refused */
    mtp_store_u32(w.p + 28, 5000);
    ck_assert_rc(mtps_pad_apply(&w, 12, &env), MTP_ERR_ARG);
    mtp_wr_free(&w);
}
END_TEST

static Suite *pad_suite(void)
{
    Suite *s = suite_create("mtps_pad");
    TCase *tc = tcase_create("pad");
    tcase_add_test(tc, lengths_for_every_residue);
    tcase_add_test(tc, fillers_allow_exactly_n);
    tcase_add_test(tc, repadding_a_message);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(pad_suite)
