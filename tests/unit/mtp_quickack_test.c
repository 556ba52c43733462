#include "mtp/quickack.h"
#include "mtp_test.h"

/* Expected values computed independently with Python's hashlib:
 *   key = bytes(i & 0xff for i in range(256)); pt = bytes((i * 7) & 0xff for i in range(48))
 *   d = sha256(key[88 + x : 120 + x] + pt).digest(); int.from_bytes(d[:4], 'little') | 0x80000000 */
START_TEST(token_is_msg_key_large_prefix_with_msb)
{
    uint8_t key[256], pt[48];
    for (int i = 0; i < 256; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 48; i++)
        pt[i] = (uint8_t)(i * 7);
    uint32_t t = 0;
    ck_assert_ok(mtp_quick_ack_token(key, 0, pt, sizeof pt, &t));
    ck_assert_uint_eq(t, 0x8a8e4c4du);
    ck_assert_ok(mtp_quick_ack_token(key, 8, pt, sizeof pt, &t));
    ck_assert_uint_eq(t, 0x970fc876u);
    ck_assert_rc(mtp_quick_ack_token(key, 4, pt, sizeof pt, &t), MTP_ERR_ARG);
}
END_TEST

static Suite *quickack_suite(void)
{
    Suite *s = suite_create("mtp_quickack");
    TCase *tc = tcase_create("token");
    tcase_add_test(tc, token_is_msg_key_large_prefix_with_msb);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(quickack_suite)
