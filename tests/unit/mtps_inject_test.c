/* Hostile messages with a canary: every mutation is refused by the check it
 * targets (with that check's exact code), and a decoder that lacks exactly
 * that check reads the canary; the canaries themselves decode to the values
 * docs/scenarios.md names. */
#include <string.h>

#include "mtp/aes_ige.h"
#include "mtp/container.h"
#include "mtp/message.h"
#include "mtp/msgcrypt.h"
#include "mtp/msgcrypt_v1.h"
#include "mtp/msgid.h"
#include "mtp/service.h"
#include "mtp/tl_value.h"
#include "mtp_test.h"
#include "mtps_inject.h"

#define T0 1700000000000ll
#define SID 0x1122334455667788ull
#define SALT 0x0a0b0c0d0e0f1011ull

static struct mtps_api api;
static uint8_t key[256];
static uint64_t key_id;
static struct mtp_det_state det;
static struct mtp_env env;

static void setup(void)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtps_api_behaviour beh = {400, "METHOD_NOT_SUPPORTED"};
    ck_assert_msg(mtps_api_init(&api, NULL, 0, NULL, &beh, &err) == MTP_OK, "%s", err.msg);
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 3);
    uint8_t id[8];
    mtp_auth_key_id(key, id);
    key_id = mtp_load_u64(id);
    env = mtp_env_deterministic(&det, "inject", 6, T0);
}

static void teardown(void) { mtps_api_free(&api); }

/* The rpc of a bare call (constructor id little-endian) at the newest layer. */
static void parse_call(const char *method_hex, struct mtps_rpc *rpc)
{
    uint8_t body[64];
    size_t n;
    uint8_t *p = mtp_test_hex(method_hex, &n);
    memcpy(body, p, n);
    mtps_api_parse(&api, 198, body, n, rpc);
    ck_assert_msg(rpc->decoded, "%s", rpc->err.msg);
}

static const struct mtps_api_env api_env = {.this_dc = 2, .now_s = T0 / 1000};
#define CALL_NEAREST_DC "2630b31f"
#define CALL_CONFIG "6b18f9c4"
#define REQ 0x6553f10c00000004ull

static void nearest_dc_canary(struct mtps_canary *c)
{
    struct mtps_rpc rpc;
    parse_call(CALL_NEAREST_DC, &rpc);
    ck_assert_ok(mtps_canary_rpc_result(&api, &rpc, &api_env, REQ, c, NULL));
    mtps_rpc_free(&rpc);
}

START_TEST(canaries_carry_the_documented_values)
{
    struct mtps_canary c;
    nearest_dc_canary(&c);
    ck_assert_uint_eq(c.n, 4);
    /* rpc_result#f35c6d01 req_msg_id nearestDc#8e1a1775 country:"CANARY" this_dc:2 nearest_dc:77 */
    ck_assert_hex_eq(c.body[0], c.len[0], "016d5cf3" "040000000cf15365" "75171a8e" "0643414e415259" "00"
                                          "02000000" "4d000000");
    ck_assert_hex_eq(c.body[1], c.len[1], "016d5cf3" "040000000cf15365" "75171a8e"
                                          "0a43414e41525930303030" "00" "02000000" "4d000000");
    for (size_t i = 1; i < c.n; i++)
        ck_assert_uint_eq(c.len[i], c.len[0] + 4 * i);
    mtps_canary_free(&c);

    struct mtps_rpc rpc;
    parse_call(CALL_CONFIG, &rpc);
    ck_assert_ok(mtps_canary_rpc_result(&api, &rpc, &api_env, REQ, &c, NULL));
    ck_assert_uint_eq(c.n, 4);
    for (size_t v = 0; v < c.n; v++) {
        struct mtp_tl_arena a;
        mtp_tl_arena_init(&a, 0);
        struct mtp_tl_value val;
        struct mtp_tl_decode_opts o = {.allow_trailing = false};
        ck_assert_ok(mtp_tl_decode(rpc.schema, NULL, c.body[v] + 12, c.len[v] - 12, &o, &a, &val, NULL, NULL));
        const struct mtp_tl_object *obj = mtp_tl_value_object(&val);
        ck_assert_str_eq(obj->ctor->name, "config");
        ck_assert_int_eq(mtp_tl_obj_get(obj, "date")->u.i, 1234567890);
        ck_assert_int_eq(mtp_tl_obj_get(obj, "this_dc")->u.i, 2);
        const struct mtp_tl_value *dom = mtp_tl_obj_get(obj, "dc_txt_domain_name");
        ck_assert_uint_eq(dom->len, 14 + 4 * v);
        ck_assert_mem_eq(dom->u.p, "canary", 6);
        mtp_tl_arena_free(&a);
        if (v)
            ck_assert_uint_eq(c.len[v], c.len[0] + 4 * v);
    }
    mtps_canary_free(&c);
    mtps_rpc_free(&rpc);

    /* No canary for other methods. */
    parse_call("54f8e361" "00000000", &rpc); /* help.getAppConfig hash:0 */
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtps_canary_rpc_result(&api, &rpc, &api_env, REQ, &c, &err), MTP_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg, "inject: no canary answer for help.getAppConfig");
    ck_assert_uint_eq(c.n, 0);
    mtps_rpc_free(&rpc);

    /* bad_server_salt#edab447b bad_msg_id bad_msg_seqno:3 error_code:48 new_server_salt:"CANARY!!" */
    ck_assert_ok(mtps_canary_bad_salt(REQ, 3, &c));
    ck_assert_uint_eq(c.n, 1);
    ck_assert_hex_eq(c.body[0], c.len[0], "7b44abed" "040000000cf15365" "03000000" "30000000" "43414e4152592121");
    mtps_canary_free(&c);
}
END_TEST

/* --- the mutations --- */

struct built {
    struct mtp_wr plain, payload;
    struct mtps_hostile h;
    uint64_t fresh, above, last;
};

static int build(enum mtps_mutation mut, const struct mtps_canary *c, struct built *b, struct mtp_error *err)
{
    b->fresh = mtp_msgid_from_ms(T0) | 1;
    b->above = b->fresh + 4;
    b->last = mtp_msgid_from_ms(T0 - 50) | 1;
    struct mtps_inject_in in = {.auth_key = key,
                                .auth_key_id = key_id,
                                .salt = SALT,
                                .session_id = SID,
                                .msg_id = b->fresh,
                                .msg_id_above = b->above,
                                .last_sent_msg_id = b->last,
                                .now_ms = T0,
                                .seqno = 5,
                                .env = &env};
    mtp_wr_init_dyn(&b->plain, 1 << 16, NULL);
    mtp_wr_init_dyn(&b->payload, 1 << 16, NULL);
    return mtps_inject_build(&in, mut, c, &b->plain, &b->payload, &b->h, err);
}

static void built_free(struct built *b)
{
    mtp_wr_free(&b->plain);
    mtp_wr_free(&b->payload);
}

/* Decrypts the way a client that skips every check does: AES key and iv from
 * the msg_key sent, with x of the given direction. */
static void lenient_decrypt(const struct built *b, enum mtp_sender x, uint8_t *out)
{
    uint8_t k[32], iv[32];
    ck_assert_ok(mtp_msg_kdf(key, x, b->payload.p + 8, k, iv));
    ck_assert_ok(mtp_aes_ige_decrypt(k, 32, iv, b->payload.p + 24, out, b->payload.len - 24, NULL));
}

static int strict_decrypt(const struct built *b, struct mtp_wr *out)
{
    mtp_wr_reset(out);
    return mtp_msg_decrypt(key, MTP_SENDER_SERVER, b->payload.p, b->payload.len, out, NULL);
}

/* The canary is at the start of message_data. */
static void assert_canary_at(const uint8_t *plain, const struct mtps_canary *c)
{
    bool found = false;
    for (size_t i = 0; i < c->n; i++)
        found |= memcmp(plain + 32, c->body[i], c->len[i]) == 0;
    ck_assert_msg(found, "no canary at offset 32");
}

START_TEST(crypto_mutations_break_one_check_each)
{
    struct mtps_canary c;
    nearest_dc_canary(&c);
    static const struct {
        enum mtps_mutation mut;
        int strict;
    } cases[] = {
        {MTPS_MUT_NONE, MTP_OK},
        {MTPS_MUT_MSG_KEY, MTP_ERR_MSG_KEY_MISMATCH},
        {MTPS_MUT_AUTH_KEY_ID, MTP_ERR_AUTH_KEY_ID_MISMATCH},
        {MTPS_MUT_CLIENT_DIRECTION, MTP_ERR_MSG_KEY_MISMATCH},
        {MTPS_MUT_MTPROTO1, MTP_ERR_MSG_KEY_MISMATCH},
        {MTPS_MUT_LENGTH_BEYOND, MTP_ERR_BAD_MESSAGE_LENGTH},
        {MTPS_MUT_LENGTH_UNALIGNED, MTP_ERR_UNALIGNED_MESSAGE_LENGTH},
        {MTPS_MUT_LENGTH_NEGATIVE, MTP_ERR_BAD_MESSAGE_LENGTH},
        {MTPS_MUT_PADDING_SHORT, MTP_ERR_BAD_PADDING_LENGTH},
        {MTPS_MUT_PADDING_LONG, MTP_ERR_BAD_PADDING_LENGTH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum mtps_mutation mut = cases[i].mut;
        struct built b;
        ck_assert_ok(build(mut, &c, &b, NULL));
        const struct mtps_hostile *h = &b.h;
        size_t plen = b.plain.len;
        ck_assert_uint_eq(plen % 16, 0);
        ck_assert_uint_eq(b.payload.len, 24 + plen);
        ck_assert_uint_eq(plen, 32 + h->body_len + h->padding);
        ck_assert(h->encrypted);
        ck_assert_uint_eq(h->msg_id, b.fresh);
        ck_assert_uint_eq(h->session_id, SID);
        ck_assert_int_eq(h->seqno, 5);
        struct mtp_wr out;
        mtp_wr_init_dyn(&out, 1 << 16, NULL);
        ck_assert_msg(strict_decrypt(&b, &out) == cases[i].strict, "%s: strict %s", mtps_mutation_name(mut),
                      mtp_err_name(strict_decrypt(&b, &out)));
        /* The check a client must make refuses it; a client without exactly that check reads the canary. */
        uint8_t lenient[2048];
        switch (mut) {
        case MTPS_MUT_AUTH_KEY_ID: {
            ck_assert_uint_eq(h->auth_key_id, key_id ^ 1);
            b.payload.p[0] ^= 1;
            ck_assert_ok(strict_decrypt(&b, &out));
            memcpy(lenient, out.p, out.len);
            break;
        }
        case MTPS_MUT_CLIENT_DIRECTION:
            mtp_wr_reset(&out);
            ck_assert_ok(mtp_msg_decrypt(key, MTP_SENDER_CLIENT, b.payload.p, b.payload.len, &out, NULL));
            memcpy(lenient, out.p, out.len);
            break;
        case MTPS_MUT_MTPROTO1:
            mtp_wr_reset(&out);
            ck_assert_ok(mtp_msg_v1_decrypt(key, MTP_SENDER_SERVER, b.payload.p, b.payload.len, &out, NULL));
            memcpy(lenient, out.p, out.len);
            /* 12 bytes of padding: legal in MTProto 1.0 (0..15) and 2.0 (12..1024) */
            ck_assert_uint_eq(h->padding, 12);
            break;
        default:
            lenient_decrypt(&b, MTP_SENDER_SERVER, lenient);
            if (mut != MTPS_MUT_MSG_KEY) {
                /* msg_key is the SHA256 one over the whole plaintext */
                uint8_t mk[16];
                ck_assert_ok(mtp_msg_key(key, MTP_SENDER_SERVER, lenient, plen, mk, NULL));
                ck_assert_mem_eq(mk, b.payload.p + 8, 16);
            }
            break;
        }
        ck_assert_mem_eq(lenient, b.plain.p, plen);
        assert_canary_at(lenient, &c);
        ck_assert_uint_eq(mtp_load_u64(lenient + 8), SID);
        ck_assert_uint_eq(mtp_load_u64(lenient + 16), b.fresh);
        uint32_t mdl = mtp_load_u32(lenient + 28);
        ck_assert_uint_eq(mdl, h->length);
        switch (mut) {
        case MTPS_MUT_LENGTH_BEYOND:
            ck_assert_uint_eq(mdl, plen - 32 + 4);
            break;
        case MTPS_MUT_LENGTH_UNALIGNED:
            ck_assert_uint_eq(mdl, h->body_len + 1);
            ck_assert_uint_ge(h->padding - 1, 12); /* the rest stays legal padding */
            break;
        case MTPS_MUT_LENGTH_NEGATIVE:
            ck_assert_uint_eq(mdl, 0xfffffffcu);
            break;
        case MTPS_MUT_PADDING_SHORT:
            ck_assert_uint_lt(h->padding, 12);
            ck_assert_uint_eq(mdl, h->body_len);
            break;
        case MTPS_MUT_PADDING_LONG:
            ck_assert_uint_gt(h->padding, 1024);
            ck_assert_uint_le(h->padding, 1040);
            break;
        default:
            ck_assert_uint_eq(mdl, h->body_len);
            ck_assert_uint_ge(h->padding, 12);
            break;
        }
        mtp_wr_free(&out);
        built_free(&b);
    }
    mtps_canary_free(&c);
}
END_TEST

START_TEST(session_mutations_decrypt_but_break_the_header)
{
    struct mtps_canary c;
    nearest_dc_canary(&c);
    static const enum mtps_mutation muts[] = {MTPS_MUT_SESSION_ID, MTPS_MUT_MSG_ID_EVEN, MTPS_MUT_MSG_ID_DUPLICATE,
                                              MTPS_MUT_MSG_ID_OLD, MTPS_MUT_MSG_ID_FUTURE};
    for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
        struct built b;
        ck_assert_ok(build(muts[i], &c, &b, NULL));
        struct mtp_wr out;
        mtp_wr_init_dyn(&out, 1 << 16, NULL);
        ck_assert_ok(strict_decrypt(&b, &out));
        assert_canary_at(out.p, &c);
        uint64_t sid = mtp_load_u64(out.p + 8), id = mtp_load_u64(out.p + 16);
        ck_assert_uint_eq(id, b.h.msg_id);
        ck_assert_uint_eq(sid, b.h.session_id);
        switch (muts[i]) {
        case MTPS_MUT_SESSION_ID:
            ck_assert_uint_eq(sid, SID ^ 1);
            ck_assert_uint_eq(id, b.fresh);
            break;
        case MTPS_MUT_MSG_ID_EVEN:
            ck_assert_uint_eq(id, b.fresh & ~3ull);
            ck_assert_uint_eq(id % 4, 0);
            break;
        case MTPS_MUT_MSG_ID_DUPLICATE:
            ck_assert_uint_eq(id, b.last);
            break;
        case MTPS_MUT_MSG_ID_OLD:
            ck_assert_uint_eq(id % 4, 1);
            ck_assert_int_le(llabs(mtp_msgid_to_ms(id) - (T0 - 301000)), 1);
            ck_assert_int_eq(mtp_msgid_time_cmp(id, T0, 300000, 30000), -1);
            break;
        default:
            ck_assert_uint_eq(id % 4, 1);
            ck_assert_int_le(llabs(mtp_msgid_to_ms(id) - (T0 + 31000)), 1);
            ck_assert_int_eq(mtp_msgid_time_cmp(id, T0, 300000, 30000), 1);
            break;
        }
        if (muts[i] != MTPS_MUT_SESSION_ID)
            ck_assert_uint_eq(sid, SID);
        mtp_wr_free(&out);
        built_free(&b);
    }
    mtps_canary_free(&c);
}
END_TEST

START_TEST(container_order_and_plain_after_key)
{
    struct mtps_canary c;
    nearest_dc_canary(&c);
    struct built b;
    ck_assert_ok(build(MTPS_MUT_CONTAINER_ORDER, &c, &b, NULL));
    struct mtp_wr out;
    mtp_wr_init_dyn(&out, 1 << 16, NULL);
    ck_assert_ok(strict_decrypt(&b, &out));
    ck_assert_uint_eq(b.h.msg_id, b.fresh);
    ck_assert_uint_eq(b.h.nested_msg_id, b.above);
    ck_assert_int_eq(b.h.seqno, 6); /* even, not below the nested 5 */
    struct mtp_rd r;
    mtp_rd_init(&r, out.p, out.len, NULL);
    struct mtp_msg_header hdr;
    struct mtp_rd body;
    ck_assert_ok(mtp_msg_parse(&r, &hdr, &body));
    ck_assert_uint_eq(mtp_load_u32(mtp_rd_cur(&body)), MTP_SVC_msg_container);
    /* A container whose msg_id is not above its message's is invalid... */
    struct mtp_container ct;
    struct mtp_container_limits lim = {MTP_CONTAINER_MAX_MSGS, MTP_CONTAINER_MAX_BYTES};
    struct mtp_rd cb = body;
    ck_assert_rc(mtp_container_open(&ct, &cb, hdr.msg_id, hdr.seqno, &lim), MTP_ERR_SES_BAD_CONTAINER);
    /* ... and without that check the canary is the message inside. */
    ck_assert_uint_eq(mtp_load_u64(mtp_rd_cur(&body) + 8), b.above);
    ck_assert_uint_eq(mtp_load_u32(mtp_rd_cur(&body) + 16), 5);
    ck_assert_uint_eq(mtp_load_u32(mtp_rd_cur(&body) + 20), c.len[0]);
    ck_assert_mem_eq(mtp_rd_cur(&body) + 24, c.body[0], c.len[0]);
    mtp_wr_free(&out);
    built_free(&b);

    ck_assert_ok(build(MTPS_MUT_PLAIN_AFTER_KEY, &c, &b, NULL));
    ck_assert(!b.h.encrypted);
    ck_assert_uint_eq(b.h.auth_key_id, 0);
    ck_assert_uint_eq(b.payload.len, 20 + c.len[0]);
    ck_assert_uint_eq(mtp_load_u64(b.payload.p), 0);
    ck_assert_uint_eq(mtp_load_u64(b.payload.p + 8), b.fresh);
    ck_assert_uint_eq(mtp_load_u32(b.payload.p + 16), c.len[0]);
    ck_assert_mem_eq(b.payload.p + 20, c.body[0], c.len[0]);
    built_free(&b);
    mtps_canary_free(&c);
}
END_TEST

START_TEST(bad_salt_canary_and_what_cannot_be_made)
{
    struct mtps_canary c;
    ck_assert_ok(mtps_canary_bad_salt(REQ, 3, &c));
    /* one 28-byte body: short padding 4, MTProto 1.0 padding 4 (its own rule) */
    struct built b;
    ck_assert_ok(build(MTPS_MUT_PADDING_SHORT, &c, &b, NULL));
    ck_assert_uint_eq(b.h.padding, 4);
    ck_assert_int_eq(b.h.seqno, 5);
    built_free(&b);
    ck_assert_ok(build(MTPS_MUT_MTPROTO1, &c, &b, NULL));
    ck_assert_uint_eq(b.h.padding, 4);
    struct mtp_wr out;
    mtp_wr_init_dyn(&out, 4096, NULL);
    ck_assert_ok(mtp_msg_v1_decrypt(key, MTP_SENDER_SERVER, b.payload.p, b.payload.len, &out, NULL));
    ck_assert_mem_eq(out.p + 32, c.body[0], c.len[0]);
    mtp_wr_free(&out);
    built_free(&b);

    /* msg_id_duplicate needs a message sent before */
    struct mtps_inject_in in = {.auth_key = key, .auth_key_id = key_id, .session_id = SID,
                                .msg_id = mtp_msgid_from_ms(T0) | 1, .now_ms = T0, .env = &env};
    struct mtp_wr p, q;
    mtp_wr_init_dyn(&p, 4096, NULL);
    mtp_wr_init_dyn(&q, 4096, NULL);
    struct mtps_hostile h;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtps_inject_build(&in, MTPS_MUT_MSG_ID_DUPLICATE, &c, &p, &q, &h, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "inject msg_id_duplicate: the session has sent no message yet");
    /* a body of 20 bytes only (padding 12): no short padding */
    struct mtps_canary one = {.n = 1, .len = {20}};
    uint8_t twenty[20] = {0};
    one.body[0] = twenty;
    mtp_error_clear(&err);
    ck_assert_rc(mtps_inject_build(&in, MTPS_MUT_PADDING_SHORT, &one, &p, &q, &h, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "inject padding_short: no body length allows it");
    mtp_wr_free(&p);
    mtp_wr_free(&q);
    mtps_canary_free(&c);
}
END_TEST

static Suite *inject_suite(void)
{
    Suite *s = suite_create("mtps_inject");
    TCase *tc = tcase_create("inject");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, canaries_carry_the_documented_values);
    tcase_add_test(tc, crypto_mutations_break_one_check_each);
    tcase_add_test(tc, session_mutations_decrypt_but_break_the_header);
    tcase_add_test(tc, container_order_and_plain_after_key);
    tcase_add_test(tc, bad_salt_canary_and_what_cannot_be_made);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(inject_suite)
