#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp_test.h"
#include "mtps_log.h"
#include "tlengine/tl_files.h"

#define T0 1700000000123ll /* 2023-11-14 22:13:20.123 UTC */

static char *buf;
static size_t len;
static struct mtp_det_state ds;
static struct mtp_env env;

static struct mtps_log open_log(int verbose, const struct mtp_tl_schema *s)
{
    env = mtp_env_deterministic(&ds, "log", 3, T0);
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    return (struct mtps_log){.f = f, .verbose = verbose, .schema = s, .env = &env};
}

static const char *close_log(struct mtps_log *l)
{
    fclose(l->f);
    return buf;
}

START_TEST(lines_carry_time_and_connection)
{
    struct mtps_log l = open_log(0, NULL);
    mtps_log(&l, 3, "open from %s", "127.0.0.1:5");
    mtps_log(&l, 0, "listening");
    mtps_logv(&l, 3, "not shown without -v");
    mtps_log_tl(&l, 3, "c2s", "plain", (const uint8_t *)"abcd", 4);
    ck_assert_str_eq(close_log(&l), "22:13:20.123 conn 3 open from 127.0.0.1:5\n22:13:20.123 listening\n");
    free(buf);
    struct mtps_log quiet = {.f = NULL};
    mtps_log(&quiet, 1, "nothing");
    mtps_logv(NULL, 1, "nothing");
}
END_TEST

START_TEST(verbose_messages_are_tl_text)
{
    const char *names[1] = {"mtproto"};
    struct mtp_tl_schema *s;
    ck_assert_ok(mtp_tl_schema_load(names, 1, &s, NULL));
    struct mtps_log l = open_log(1, s);
    size_t n;
    /* ping ping_id:5 */
    uint8_t *ping = mtp_test_hex("ec77be7a0500000000000000", &n);
    mtps_log_tl(&l, 7, "c2s", "enc msg_id=0x1", ping, n);
    /* an unknown constructor: id and hex */
    uint8_t *junk = mtp_test_hex("78563412ff", &n);
    mtps_log_tl(&l, 7, "s2c", "enc", junk, n);
    mtps_logv(&l, 7, "rule: %s", "drop");
    ck_assert_str_eq(close_log(&l), "22:13:20.123 conn 7 c2s enc msg_id=0x1 ping ping_id:5\n"
                                    "22:13:20.123 conn 7 s2c enc #12345678 (5 bytes, not in the schema) 78563412ff\n"
                                    "22:13:20.123 conn 7 rule: drop\n");
    free(buf);
    mtp_tl_schema_free(s);
}
END_TEST

Suite *mtps_log_suite(void);
Suite *mtps_log_suite(void)
{
    Suite *s = suite_create("mtps_log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, lines_carry_time_and_connection);
    tcase_add_test(tc, verbose_messages_are_tl_text);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_log_suite)
