/* The seeded faults of the mock DC: the table (names, the catalogue items they
 * name), the bits handed to the session core and the auth server, and the two
 * faults with code of their own. */
#include <jansson.h>
#include <string.h>

#include "mtp/aes_ige.h"
#include "mtp/auth_server.h"
#include "mtp/msgcrypt.h"
#include "mtp/service.h"
#include "mtp/session.h"
#include "mtp_test.h"
#include "mtps_fault.h"

START_TEST(table_names_and_requirements)
{
    json_error_t je;
    json_t *cat = json_load_file(mtp_test_path("vectors/cases/requirements.json"), 0, &je);
    ck_assert_msg(cat != NULL, "%s", je.text);
    for (int i = 0; i < MTPS_FAULT_COUNT; i++) {
        const struct mtps_fault_info *f = mtps_fault_info((enum mtps_fault)i);
        ck_assert_msg(f && f->name && f->requirement && f->what, "fault %d has no table entry", i);
        enum mtps_fault back;
        ck_assert_ok(mtps_fault_from_name(f->name, &back));
        ck_assert_int_eq(back, i);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(f->name, mtps_fault_info((enum mtps_fault)j)->name);
        /* a server requirement of the catalogue */
        ck_assert_msg(strncmp(f->requirement, "S-", 2) == 0, "%s: %s", f->name, f->requirement);
        bool found = false;
        size_t k;
        json_t *r;
        json_array_foreach(json_object_get(cat, "requirements"), k, r)
        {
            found |= strcmp(json_string_value(json_object_get(r, "id")), f->requirement) == 0;
        }
        ck_assert_msg(found, "%s names %s, which is not in the catalogue", f->name, f->requirement);
    }
    json_decref(cat);
    enum mtps_fault f;
    ck_assert_rc(mtps_fault_from_name("no-such-fault", &f), MTP_ERR_ARG);
    ck_assert_rc(mtps_fault_from_name(NULL, &f), MTP_ERR_ARG);
    ck_assert_ptr_null(mtps_fault_info(MTPS_FAULT_COUNT));
}
END_TEST

START_TEST(bits_for_the_cores)
{
    ck_assert_uint_eq(mtps_fault_session_bits(0), 0);
    ck_assert_uint_eq(mtps_fault_auth_bits(0), 0);
    uint64_t set = MTPS_FAULT_BIT(MTPS_FAULT_NO_ACKS) | MTPS_FAULT_BIT(MTPS_FAULT_SKIP_G_B_RANGE) |
                   MTPS_FAULT_BIT(MTPS_FAULT_SKIP_LENGTH_CHECK);
    ck_assert_uint_eq(mtps_fault_session_bits(set),
                      MTP_SESSION_SF(MTP_SESSION_SF_NO_ACKS) | MTP_SESSION_SF(MTP_SESSION_SF_SKIP_LENGTH));
    ck_assert_uint_eq(mtps_fault_auth_bits(set), MTP_AUTH_SF(MTP_AUTH_SF_SKIP_GB_RANGE));
    /* a connection-level fault reaches neither core */
    uint64_t conn = MTPS_FAULT_BIT(MTPS_FAULT_ECHO_TRANSPORT_TAG);
    ck_assert_uint_eq(mtps_fault_session_bits(conn) | mtps_fault_auth_bits(conn), 0);
}
END_TEST

/* A packet under auth_key whose msg_key is random and whose header, decrypted
 * with the key that msg_key derives, says message_data_length = n. */
static size_t packet_with_length(const uint8_t key[256], uint32_t n, uint8_t *out, size_t plain_len)
{
    uint8_t plain[256], msg_key[16], k[32], iv[32];
    memset(plain, 0x11, sizeof plain);
    mtp_store_u32(plain + 28, n);
    memset(msg_key, 0x5a, sizeof msg_key);
    ck_assert_ok(mtp_msg_kdf(key, MTP_SENDER_CLIENT, msg_key, k, iv));
    mtp_auth_key_id(key, out);
    memcpy(out + 8, msg_key, 16);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_aes_ige_encrypt(k, 32, iv, plain, out + 24, plain_len, &err));
    return 24 + plain_len;
}

START_TEST(early_length_reject)
{
    uint8_t key[256], pkt[300];
    for (int i = 0; i < 256; i++)
        key[i] = (uint8_t)(i * 7 + 3);
    size_t n = packet_with_length(key, 256 - 32 - 16, pkt, 256);
    ck_assert(!mtps_fault_early_length_reject(key, pkt, n));
    n = packet_with_length(key, 0x7ffffff0u, pkt, 256);
    ck_assert(mtps_fault_early_length_reject(key, pkt, n));
    n = packet_with_length(key, 256 - 32 + 4, pkt, 256); /* 4 bytes beyond */
    ck_assert(mtps_fault_early_length_reject(key, pkt, n));
    ck_assert(!mtps_fault_early_length_reject(key, pkt, 40)); /* too short to tell */
}
END_TEST

START_TEST(plain_pong)
{
    uint8_t ping[12], buf[32];
    mtp_store_u32(ping, MTP_SVC_ping);
    mtp_store_u64(ping + 4, 0x1122334455667788ull);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert(mtps_fault_plain_pong(ping, sizeof ping, &w));
    ck_assert_hex_eq(w.p, w.len, "c57377340000000000000000" "8877665544332211");
    mtp_wr_reset(&w);
    mtp_store_u32(ping, MTP_SVC_msgs_ack);
    ck_assert(!mtps_fault_plain_pong(ping, sizeof ping, &w));
    ck_assert(!mtps_fault_plain_pong(ping, 8, &w));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mtps_fault");
    TCase *t = tcase_create("fault");
    tcase_add_test(t, table_names_and_requirements);
    tcase_add_test(t, bits_for_the_cores);
    tcase_add_test(t, early_length_reject);
    tcase_add_test(t, plain_pong);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(suite)
