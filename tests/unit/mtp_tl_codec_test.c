#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "mtp/tl_prim.h"
#include "mtp/tl_value.h"
#include "mtp_test.h"
#include "tlengine/tl_files.h"

/* Loaded once per test case (unchecked fixture) and inherited by each forked test. */
static struct mtp_tl_schema *mt, *api;
static struct mtp_tl_arena arena;
static struct mtp_error err;

static void load_schemas(void)
{
    static const char *const m[] = {"mtproto"}, *const a[] = {"api"};
    mtp_error_clear(&err);
    ck_assert_msg(mtp_tl_schema_load(m, 1, &mt, &err) == MTP_OK, "%s", err.msg);
    ck_assert_msg(mtp_tl_schema_load(a, 1, &api, &err) == MTP_OK, "%s", err.msg);
}

static void free_schemas(void)
{
    mtp_tl_schema_free(mt);
    mtp_tl_schema_free(api);
}

static void setup(void)
{
    mtp_tl_arena_init(&arena, 0);
    mtp_error_clear(&err);
}

static void teardown(void) { mtp_tl_arena_free(&arena); }

static const struct mtp_tl_tref *type_of(const struct mtp_tl_schema *s, const char *t)
{
    if (t == NULL)
        return NULL;
    const struct mtp_tl_tref *r;
    ck_assert_msg(mtp_tl_type_parse(s, t, &arena, &r, &err) == MTP_OK, "%s", err.msg);
    return r;
}

static int dec(const struct mtp_tl_schema *s, const char *type, const uint8_t *p, size_t n,
               const struct mtp_tl_decode_opts *o, struct mtp_tl_value *v)
{
    mtp_error_clear(&err);
    return mtp_tl_decode(s, type_of(s, type), p, n, o, &arena, v, NULL, &err);
}

static int dec_hex(const struct mtp_tl_schema *s, const char *type, const char *hex,
                   const struct mtp_tl_decode_opts *o, struct mtp_tl_value *v)
{
    size_t n;
    const uint8_t *p = mtp_test_hex(hex, &n);
    return dec(s, type, p, n, o, v);
}

/* Encodes v and checks the bytes are exactly p[0..n). */
static void assert_reencodes(const struct mtp_tl_schema *s, const char *type, const struct mtp_tl_value *v,
                             const uint8_t *p, size_t n)
{
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1u << 24, &err);
    mtp_error_clear(&err);
    ck_assert_msg(mtp_tl_encode(s, type_of(s, type), v, &w, &err) == MTP_OK, "%s", err.msg);
    ck_assert_uint_eq(w.len, n);
    ck_assert_mem_eq(w.p, p, n);
    mtp_wr_free(&w);
}

static void roundtrip_hex(const struct mtp_tl_schema *s, const char *type, const char *hex)
{
    size_t n;
    const uint8_t *p = mtp_test_hex(hex, &n);
    struct mtp_tl_value v;
    ck_assert_msg(dec(s, type, p, n, NULL, &v) == MTP_OK, "%s", err.msg);
    assert_reencodes(s, type, &v, p, n);
}

/* msgs_state_info req_msg_id:1 info:<2 bytes 0102> in three forms */
#define MSI_HEAD "7db5de04" "0100000000000000"

START_TEST(non_canonical_forms_round_trip)
{
    struct mtp_tl_value v;
    /* canonical */
    roundtrip_hex(mt, NULL, MSI_HEAD "02010200");
    /* 4-byte length form for 2 bytes: accepted, kept, re-encoded as it came */
    ck_assert_ok(dec_hex(mt, NULL, MSI_HEAD "fe020000" "0102" "0000", NULL, &v));
    const struct mtp_tl_value *info = mtp_tl_obj_get(v.u.obj, "info");
    ck_assert_uint_eq(info->len, 2);
    ck_assert(info->flags & MTP_TL_VF_LONG_LEN);
    roundtrip_hex(mt, NULL, MSI_HEAD "fe020000" "0102" "0000");
    /* non-zero padding: kept */
    ck_assert_ok(dec_hex(mt, NULL, MSI_HEAD "02" "0102" "7f", NULL, &v));
    info = mtp_tl_obj_get(v.u.obj, "info");
    ck_assert(info->flags & MTP_TL_VF_PAD);
    ck_assert_uint_eq(info->pad[0], 0x7f);
    roundtrip_hex(mt, NULL, MSI_HEAD "02" "0102" "7f");
    roundtrip_hex(mt, NULL, MSI_HEAD "fe010000" "ab" "ffffff");
    /* strict mode rejects both, naming field and offset */
    struct mtp_tl_decode_opts strict = {.strict = true};
    ck_assert_rc(dec_hex(mt, NULL, MSI_HEAD "fe020000" "0102" "0000", &strict, &v), MTP_ERR_TL_NON_CANONICAL);
    ck_assert_str_eq(err.msg, "msgs_state_info.info: bytes: length 2 in the 4-byte form (offset 12), canonical is one byte");
    ck_assert_uint_eq(err.offset, 12);
    ck_assert_rc(dec_hex(mt, NULL, MSI_HEAD "02" "0102" "7f", &strict, &v), MTP_ERR_TL_BAD_PADDING);
    ck_assert_str_eq(err.msg, "msgs_state_info.info: bytes: non-zero padding 7f0000 after 2 bytes at offset 15");
    /* a 254-byte value in the long form is canonical in both modes */
    char hex[2 * (16 + 4 + 256) + 1];
    int k = snprintf(hex, sizeof hex, MSI_HEAD "fefe0000");
    for (int i = 0; i < 254; i++)
        k += snprintf(hex + k, sizeof hex - (size_t)k, "%02x", i);
    snprintf(hex + k, sizeof hex - (size_t)k, "0000");
    ck_assert_ok(dec_hex(mt, NULL, hex, &strict, &v));
    roundtrip_hex(mt, NULL, hex);
}
END_TEST

START_TEST(unknown_flag_bits)
{
    /* peerNotifySettings#99622c0c flags:# show_previews:flags.0?Bool ... with bit 31 set */
    static const char hex[] = "0c2c6299" "01000080" "b5757299";
    struct mtp_tl_value v;
    ck_assert_ok(dec_hex(api, NULL, hex, NULL, &v));
    ck_assert_uint_eq(mtp_tl_obj_get(v.u.obj, "flags")->u.nat, 0x80000001u);
    roundtrip_hex(api, NULL, hex);
    struct mtp_tl_decode_opts strict = {.strict = true};
    ck_assert_rc(dec_hex(api, NULL, hex, &strict, &v), MTP_ERR_TL_BAD_FLAGS);
    ck_assert_str_eq(err.msg, "peerNotifySettings.flags: flags 0x80000001 set bits 0x80000000 no field uses (offset 4)");
    /* Known bits only: strict is happy. */
    ck_assert_ok(dec_hex(api, NULL, "0c2c6299" "01000000" "b5757299", &strict, &v));
}
END_TEST

/* msg_container with ping then a body of unknown constructor */
START_TEST(error_paths)
{
    struct mtp_tl_value v;
    static const char container[] = "dcf8f173" "02000000"
                                    "0100000000000000" "01000000" "0c000000" "ec77be7a" "0700000000000000"
                                    "0200000000000000" "02000000" "04000000" "78563412";
    ck_assert_rc(dec_hex(mt, NULL, container, NULL, &v), MTP_ERR_TL_BAD_CTOR);
    ck_assert_str_eq(err.msg, "msg_container.messages[1].body: unknown constructor #12345678 at offset 52");
    ck_assert_uint_eq(err.offset, 52);
    ck_assert_uint_eq(v.kind, 0);

    /* A truncated rpc_result inside a container. */
    static const char rr[] = "dcf8f173" "01000000"
                             "0100000000000000" "01000000" "10000000" "016d5cf3" "0900000000000000" "c5737734";
    ck_assert_rc(dec_hex(mt, NULL, rr, NULL, &v), MTP_ERR_TL_SHORT);
    ck_assert_str_eq(err.msg,
                     "msg_container.messages[0].body.result.msg_id: expected long (8 bytes) at offset 40, only 0 left");

    /* Inside gzip_packed the offset in the message is the gzip_packed's. */
    uint8_t bad[] = {0x78, 0x56, 0x34, 0x12};
    uint8_t z[64];
    uLongf zn = sizeof z;
    ck_assert_int_eq(compress(z, &zn, bad, sizeof bad), Z_OK);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1024, &err);
    ck_assert_ok(mtp_tl_wr_long(&w, 0)); /* padding before, so the offset is not 0 */
    ck_assert_ok(mtp_tl_wr_uint(&w, MTP_TL_ID_RPC_RESULT));
    ck_assert_ok(mtp_tl_wr_long(&w, 5));
    ck_assert_ok(mtp_tl_wr_uint(&w, MTP_TL_ID_GZIP_PACKED));
    ck_assert_ok(mtp_tl_wr_bytes(&w, z, zn));
    ck_assert_rc(dec(mt, NULL, w.p + 8, w.len - 8, NULL, &v), MTP_ERR_TL_BAD_CTOR);
    ck_assert_str_eq(err.msg, "rpc_result.result.unpacked: unknown constructor #12345678 at offset 0 of the inflated data");
    ck_assert_uint_eq(err.offset, 12);
    mtp_wr_free(&w);

    /* Typed decode of the wrong type names both. */
    ck_assert_rc(dec_hex(mt, "ResPQ", "c5737734" "0100000000000000" "0200000000000000", NULL, &v), MTP_ERR_TL_TYPE);
    ck_assert_str_eq(err.msg, "ResPQ: expected a constructor of type ResPQ, found pong#347773c5 of type Pong at offset 0");
    ck_assert_rc(dec_hex(mt, "ResPQ", "ec77be7a" "0100000000000000", NULL, &v), MTP_ERR_TL_TYPE);
    ck_assert_str_eq(err.msg, "ResPQ: expected a constructor of type ResPQ, found ping#7abe77ec (a function) at offset 0");
    /* Trailing bytes */
    ck_assert_rc(dec_hex(mt, NULL, "c5737734" "0100000000000000" "0200000000000000" "00", NULL, &v), MTP_ERR_TRAILING);
    ck_assert_str_eq(err.msg, "pong: 1 bytes after the end of the value at offset 20");
    size_t used = 0;
    struct mtp_tl_decode_opts lax = {.allow_trailing = true};
    size_t n;
    const uint8_t *p = mtp_test_hex("c5737734" "0100000000000000" "0200000000000000" "00", &n);
    ck_assert_ok(mtp_tl_decode(mt, NULL, p, n, &lax, &arena, &v, &used, &err));
    ck_assert_uint_eq(used, 20);
}
END_TEST

/* Every strict prefix of a valid message fails cleanly; the whole message decodes. */
static const char *const whole[] = {
    /* container: ack + rpc_result(pong) */
    "dcf8f173" "02000000"
    "0100000000000000" "01000000" "14000000" "59b4d662" "15c4b51c" "01000000" "0100000000000000"
    "0200000000000000" "02000000" "20000000" "016d5cf3" "0100000000000000" "c5737734" "0300000000000000"
    "0400000000000000",
    /* resPQ (samples-auth_key) */
    "6324160575e622f3bc7d714632b833821fd7bb0c8ec53ec050cb2d475b457baf445b49f50816e748b29522c68f00000015c4b51c030000"
    "0085fd64de851d9dd0a5b7f709355fc30b216be86c022bb4c3",
    /* future_salts with one bare salt */
    "950850ae" "0100000000000000" "02000000" "01000000" "03000000" "04000000" "0500000000000000",
};

START_TEST(every_prefix_fails)
{
    size_t n;
    const uint8_t *p = mtp_test_hex(whole[_i], &n);
    struct mtp_tl_value v;
    ck_assert_ok(dec(mt, NULL, p, n, NULL, &v));
    assert_reencodes(mt, NULL, &v, p, n);
    for (size_t cut = 0; cut < n; cut++) {
        mtp_tl_arena_reset(&arena);
        int rc = dec(mt, NULL, p, cut, NULL, &v);
        ck_assert_msg(rc == MTP_ERR_TL_SHORT || rc == MTP_ERR_TL_CONTAINER || rc == MTP_ERR_TL_BAD_COUNT,
                      "cut %zu: %s (%s)", cut, mtp_err_name(rc), err.msg);
        ck_assert_msg(err.msg[0] != '\0' && err.offset <= cut, "cut %zu: offset %zu", cut, err.offset);
    }
}
END_TEST

static uint8_t *gzip_of(const uint8_t *p, size_t n, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = compressBound((uLong)n) + 32;
    uint8_t *z = malloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    zs.next_out = z;
    zs.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return z;
}

/* gzip_packed carrying msgs_state_info with `size` bytes of info */
static uint8_t *gzip_msg(size_t size, size_t *len)
{
    struct mtp_wr inner, outer;
    mtp_wr_init_dyn(&inner, 1u << 26, NULL);
    mtp_wr_init_dyn(&outer, 1u << 26, NULL);
    uint8_t *info = calloc(1, size + 1);
    ck_assert_ok(mtp_tl_wr_uint(&inner, 0x04deb57d));
    ck_assert_ok(mtp_tl_wr_long(&inner, 1));
    ck_assert_ok(mtp_tl_wr_bytes(&inner, info, size));
    size_t zn;
    uint8_t *z = gzip_of(inner.p, inner.len, &zn);
    ck_assert_ok(mtp_tl_wr_uint(&outer, MTP_TL_ID_GZIP_PACKED));
    ck_assert_ok(mtp_tl_wr_bytes(&outer, z, zn));
    free(z);
    free(info);
    mtp_wr_free(&inner);
    return mtp_wr_take(&outer, len);
}

START_TEST(gzip_limits)
{
    size_t n;
    uint8_t *p = gzip_msg(100000, &n);
    ck_assert_uint_lt(n, 400);
    struct mtp_tl_value v;
    ck_assert_ok(dec(mt, NULL, p, n, NULL, &v));
    ck_assert_uint_eq(v.kind, MTP_TL_V_GZIP);
    ck_assert_uint_eq(v.u.gz->data_len, 12 + 4 + 100000);
    ck_assert_uint_eq(mtp_tl_value_object(&v)->ctor->id, 0x04deb57d);
    assert_reencodes(mt, NULL, &v, p, n);
    /* A small bomb stops at the limit. */
    struct mtp_tl_decode_opts o = {.max_gzip = 50000};
    ck_assert_rc(dec(mt, NULL, p, n, &o, &v), MTP_ERR_TL_GZIP_LIMIT);
    ck_assert_str_eq(err.msg, "Object: gzip_packed: packed_data inflates beyond the limit of 50000 bytes");
    /* Exactly at the limit is fine. */
    o.max_gzip = 100016;
    ck_assert_ok(dec(mt, NULL, p, n, &o, &v));
    o.max_gzip = 100015;
    ck_assert_rc(dec(mt, NULL, p, n, &o, &v), MTP_ERR_TL_GZIP_LIMIT);
    free(p);

    /* The limit is for the whole decode: two 600-byte payloads under a 1000-byte limit. */
    size_t n1;
    uint8_t *g = gzip_msg(584, &n1);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 20, NULL);
    ck_assert_ok(mtp_tl_wr_uint(&w, MTP_TL_ID_MSG_CONTAINER));
    ck_assert_ok(mtp_tl_wr_int(&w, 2));
    for (int i = 0; i < 2; i++) {
        ck_assert_ok(mtp_tl_wr_long(&w, i + 1));
        ck_assert_ok(mtp_tl_wr_int(&w, i));
        ck_assert_ok(mtp_tl_wr_int(&w, (int32_t)n1));
        ck_assert_ok(mtp_wr_raw(&w, g, n1));
    }
    o.max_gzip = 1000;
    ck_assert_rc(dec(mt, NULL, w.p, w.len, &o, &v), MTP_ERR_TL_GZIP_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "msg_container.messages[1].body: "));
    o.max_gzip = 1200;
    ck_assert_ok(dec(mt, NULL, w.p, w.len, &o, &v));
    mtp_wr_free(&w);
    free(g);

    /* Not gzip, and gzip with junk after the stream. */
    ck_assert_rc(dec_hex(mt, NULL, "a1cf7230" "04" "01020304" "000000", NULL, &v), MTP_ERR_TL_GZIP);
    ck_assert_str_eq(err.msg, "Object: gzip_packed: packed_data does not inflate (incorrect header check)");
    size_t zn;
    uint8_t ping[12] = {0xec, 0x77, 0xbe, 0x7a, 1};
    uint8_t *z = gzip_of(ping, sizeof ping, &zn);
    uint8_t buf[128];
    memcpy(buf, z, zn);
    buf[zn] = 0;
    struct mtp_wr w2;
    mtp_wr_init_fixed(&w2, buf + 64, 64, NULL);
    ck_assert_ok(mtp_tl_wr_uint(&w2, MTP_TL_ID_GZIP_PACKED));
    ck_assert_ok(mtp_tl_wr_bytes(&w2, buf, zn + 1));
    ck_assert_rc(dec(mt, NULL, buf + 64, w2.len, NULL, &v), MTP_ERR_TL_GZIP);
    ck_assert_str_eq(err.msg, "Object: gzip_packed: 1 bytes after the end of the gzip stream");
    /* truncated stream */
    mtp_wr_init_fixed(&w2, buf + 64, 64, NULL);
    ck_assert_ok(mtp_tl_wr_uint(&w2, MTP_TL_ID_GZIP_PACKED));
    ck_assert_ok(mtp_tl_wr_bytes(&w2, buf, zn - 4));
    ck_assert_rc(dec(mt, NULL, buf + 64, w2.len, NULL, &v), MTP_ERR_TL_GZIP);
    ck_assert_str_eq(err.msg, "Object: gzip_packed: packed_data ends before the gzip stream does");
    free(z);
}
END_TEST

START_TEST(structural_limits)
{
    struct mtp_tl_value v;
    /* depth: rpc_result nested 5 deep under a limit of 4 */
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 16, NULL);
    for (int i = 0; i < 5; i++) {
        ck_assert_ok(mtp_tl_wr_uint(&w, MTP_TL_ID_RPC_RESULT));
        ck_assert_ok(mtp_tl_wr_long(&w, i));
    }
    ck_assert_ok(mtp_tl_wr_uint(&w, 0x347773c5));
    ck_assert_ok(mtp_tl_wr_long(&w, 1));
    ck_assert_ok(mtp_tl_wr_long(&w, 2));
    struct mtp_tl_decode_opts o = {.max_depth = 4};
    ck_assert_rc(dec(mt, NULL, w.p, w.len, &o, &v), MTP_ERR_TL_TOO_DEEP);
    ck_assert_str_eq(err.msg, "rpc_result.result.result.result.result: nesting deeper than 4 at offset 48");
    o.max_depth = 6;
    ck_assert_ok(dec(mt, NULL, w.p, w.len, &o, &v));
    assert_reencodes(mt, NULL, &v, w.p, w.len);
    mtp_wr_free(&w);

    /* memory budget */
    struct mtp_tl_arena small;
    mtp_tl_arena_init(&small, 64);
    size_t n;
    const uint8_t *p = mtp_test_hex(whole[0], &n);
    ck_assert_rc(mtp_tl_decode(mt, NULL, p, n, NULL, &small, &v, NULL, &err), MTP_ERR_TL_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "exceeds the memory budget of 64 bytes"));
    mtp_tl_arena_free(&small);
    mtp_tl_arena_init(&small, mtp_tl_decode_budget(n));
    mtp_error_clear(&err);
    ck_assert_ok(mtp_tl_decode(mt, NULL, p, n, NULL, &small, &v, NULL, &err));
    mtp_tl_arena_free(&small);

    /* elements that take no bytes are counted against max_elems */
    static const char text[] = "e = E; f x:vector<e> = F;";
    struct mtp_tl_schema *s = mtp_tl_schema_new();
    ck_assert_ok(mtp_tl_schema_add_text(s, text, strlen(text), "e.tl", 0, &err));
    ck_assert_ok(mtp_tl_schema_link(s, &err));
    char hex[64];
    snprintf(hex, sizeof hex, "%08x" "a0860100", __builtin_bswap32(mtp_tl_find_name(s, "f")->id));
    ck_assert_rc(dec_hex(s, NULL, hex, NULL, &v), MTP_ERR_TL_LIMIT);
    ck_assert_str_eq(err.msg, "f.x: vector count 100000 of elements without bytes is over the limit of 65536");
    o = (struct mtp_tl_decode_opts){.max_elems = 200000};
    /* 100000 nodes are more than the default budget for 8 bytes of input */
    ck_assert_rc(dec_hex(s, NULL, hex, &o, &v), MTP_ERR_TL_LIMIT);
    arena.limit = 8u << 20;
    ck_assert_ok(dec_hex(s, NULL, hex, &o, &v));
    arena.limit = 0;
    ck_assert_uint_eq(mtp_tl_obj_get(v.u.obj, "x")->len, 100000);
    mtp_tl_schema_free(s);

    /* Without a budget of its own the arena gets one proportional to the input:
     * 100 vectors of 65536 elements that take no bytes need 150 MiB of nodes. */
    static const char amp[] = "e = E; g y:vector<e> = G; f x:vector<g> = F;";
    s = mtp_tl_schema_new();
    ck_assert_ok(mtp_tl_schema_add_text(s, amp, strlen(amp), "amp.tl", 0, &err));
    ck_assert_ok(mtp_tl_schema_link(s, &err));
    mtp_wr_init_dyn(&w, 1 << 16, NULL);
    ck_assert_ok(mtp_tl_wr_uint(&w, mtp_tl_find_name(s, "f")->id));
    ck_assert_ok(mtp_tl_wr_int(&w, 100));
    for (int i = 0; i < 100; i++)
        ck_assert_ok(mtp_tl_wr_int(&w, 65536));
    struct mtp_tl_arena open;
    mtp_tl_arena_init(&open, 0);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_decode(s, NULL, w.p, w.len, NULL, &open, &v, NULL, &err), MTP_ERR_TL_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "exceeds the memory budget of 1055104 bytes"));
    ck_assert_uint_eq(open.limit, 0);
    mtp_tl_arena_free(&open);
    mtp_wr_free(&w);
    mtp_tl_schema_free(s);

    /* counts: negative, and larger than the bytes allow */
    ck_assert_rc(dec_hex(mt, NULL, "59b4d662" "15c4b51c" "ffffffff", NULL, &v), MTP_ERR_TL_BAD_COUNT);
    ck_assert_str_eq(err.msg, "msgs_ack.msg_ids: negative vector count -1 at offset 8");
    ck_assert_rc(dec_hex(mt, NULL, "59b4d662" "15c4b51c" "02000000" "0100000000000000", NULL, &v),
                 MTP_ERR_TL_BAD_COUNT);
    ck_assert_str_eq(err.msg, "msgs_ack.msg_ids: vector count 2 needs at least 16 bytes, only 8 left at offset 12");
    ck_assert_rc(dec_hex(mt, NULL, "59b4d662" "16c4b51c" "00000000", NULL, &v), MTP_ERR_TL_BAD_VECTOR);
    ck_assert_str_eq(err.msg, "msgs_ack.msg_ids: expected vector#1cb5c415, found #1cb5c416 at offset 4");
}
END_TEST

static const struct mtp_tl_tref *pick_type(void *ctx, int64_t req_msg_id)
{
    const struct mtp_tl_tref *const *types = ctx;
    return req_msg_id == 7 ? types[0] : req_msg_id == 8 ? types[1] : NULL;
}

START_TEST(rpc_result_types)
{
    struct mtp_tl_value v;
    /* Vector at an Object position: longs, by the bytes left */
    ck_assert_ok(dec_hex(mt, NULL, "016d5cf3" "0500000000000000" "15c4b51c" "02000000" "0100000000000000"
                                   "feffffffffffffff", NULL, &v));
    const struct mtp_tl_value *r = &v.u.obj->fields[1];
    ck_assert_uint_eq(r->kind, MTP_TL_V_VECTOR);
    ck_assert(r->flags & MTP_TL_VF_GUESSED);
    ck_assert_uint_eq(r->u.items[1].kind, MTP_TL_V_LONG);
    ck_assert_int_eq(r->u.items[1].u.l, -2);
    /* ints */
    ck_assert_ok(dec_hex(mt, NULL, "016d5cf3" "0500000000000000" "15c4b51c" "02000000" "01000000" "02000000", NULL, &v));
    ck_assert_uint_eq(v.u.obj->fields[1].u.items[0].kind, MTP_TL_V_INT);
    roundtrip_hex(mt, NULL, "016d5cf3" "0500000000000000" "15c4b51c" "02000000" "01000000" "02000000");
    /* boxed objects */
    ck_assert_ok(dec_hex(mt, NULL, "016d5cf3" "0500000000000000" "15c4b51c" "01000000" "c5737734" "0100000000000000"
                                   "0200000000000000", NULL, &v));
    ck_assert_uint_eq(v.u.obj->fields[1].u.items[0].kind, MTP_TL_V_OBJECT);
    /* empty */
    ck_assert_ok(dec_hex(mt, NULL, "016d5cf3" "0500000000000000" "15c4b51c" "00000000", NULL, &v));
    ck_assert_uint_eq(v.u.obj->fields[1].len, 0);
    /* undecidable: 3 elements in 8 bytes */
    ck_assert_rc(dec_hex(mt, NULL, "016d5cf3" "0500000000000000" "15c4b51c" "03000000" "0100000002000000", NULL, &v),
                 MTP_ERR_TL_TYPE);
    ck_assert_str_eq(err.msg, "rpc_result.result: vector of 3 elements of unknown type in 8 bytes at offset 20: give the "
                              "expected type");

    /* With the request's type: one type for all, or per req_msg_id */
    static const char two_ints[] = "016d5cf3" "0700000000000000" "15c4b51c" "02000000" "0100000002000000";
    static const char one_long[] = "016d5cf3" "0700000000000000" "15c4b51c" "01000000" "0100000002000000";
    struct mtp_tl_decode_opts o = {.rpc_result_type = type_of(mt, "Vector<long>")};
    ck_assert_ok(dec_hex(mt, NULL, one_long, &o, &v));
    ck_assert_uint_eq(v.u.obj->fields[1].len, 1);
    ck_assert_uint_eq(v.u.obj->fields[1].flags & MTP_TL_VF_GUESSED, 0);
    ck_assert_int_eq(v.u.obj->fields[1].u.items[0].u.l, 0x200000001ll);
    roundtrip_hex(mt, NULL, one_long);
    ck_assert_rc(dec_hex(mt, NULL, two_ints, &o, &v), MTP_ERR_TL_BAD_COUNT);
    const struct mtp_tl_tref *types[2] = {type_of(mt, "Vector<int>"), type_of(mt, "Pong")};
    o = (struct mtp_tl_decode_opts){.result_fn = pick_type, .result_ctx = types};
    ck_assert_ok(dec_hex(mt, NULL, two_ints, &o, &v));
    ck_assert_uint_eq(v.u.obj->fields[1].len, 2);
    /* an rpc_error answers any request */
    ck_assert_ok(dec_hex(mt, NULL, "016d5cf3" "0800000000000000" "19ca4421" "90010000" "03414243", &o, &v));
    ck_assert_str_eq(mtp_tl_value_object(&v.u.obj->fields[1])->ctor->name, "rpc_error");
    /* a wrong answer for a typed request */
    ck_assert_rc(dec_hex(mt, NULL, "016d5cf3" "0800000000000000" "59b4d662" "15c4b51c" "00000000", &o, &v),
                 MTP_ERR_TL_TYPE);
    ck_assert_str_eq(err.msg, "rpc_result.result: expected a constructor of type Pong, found msgs_ack#62d6b459 of type "
                              "MsgsAck at offset 12");
    /* Bool results */
    ck_assert_ok(dec_hex(mt, NULL, "016d5cf3" "0900000000000000" "379779bc", NULL, &v));
    ck_assert_uint_eq(v.u.obj->fields[1].kind, MTP_TL_V_BOOL);
    ck_assert(!v.u.obj->fields[1].u.b);
    ck_assert_rc(dec_hex(api, "Bool", "00000000", NULL, &v), MTP_ERR_TL_BAD_BOOL);
    ck_assert_str_eq(err.msg, "Bool: expected boolTrue or boolFalse, found #00000000 at offset 0");
}
END_TEST

START_TEST(generic_schema)
{
    static const char text[] = "int ? = Int;\n"
                               "maybe {t:Type} value:t = Maybe t;\n"
                               "nothing {t:Type} = Maybe t;\n"
                               "tuple {t:Type} {n:#} [ t ] = Tuple t n;\n"
                               "rec count:# items:count*[ key:int value:string ] = Rec;\n"
                               "thing#0000abcd x:Maybe<int> y:Maybe<string> z:Tuple<long,2> r:rec = Thing;\n";
    struct mtp_tl_schema *s = mtp_tl_schema_new();
    ck_assert_ok(mtp_tl_schema_add_text(s, text, strlen(text), "g.tl", 0, &err));
    ck_assert_ok(mtp_tl_schema_link(s, &err));
    char hex[512];
    snprintf(hex, sizeof hex,
             "cdab0000"
             "%08x" "05000000"                     /* maybe value:5 (t = int) */
             "%08x"                                /* nothing (t = string) */
             "%08x" "0100000000000000" "0200000000000000" /* tuple of 2 longs */
             "02000000" "0a000000" "0161" "0000" "0b000000" "0162" "0000",
             __builtin_bswap32(mtp_tl_find_name(s, "maybe")->id), __builtin_bswap32(mtp_tl_find_name(s, "nothing")->id),
             __builtin_bswap32(mtp_tl_find_name(s, "tuple")->id));
    struct mtp_tl_value v;
    ck_assert_msg(dec_hex(s, NULL, hex, NULL, &v) == MTP_OK, "%s", err.msg);
    const struct mtp_tl_object *o = v.u.obj;
    const struct mtp_tl_object *x = mtp_tl_obj_get(o, "x")->u.obj;
    ck_assert_str_eq(x->ctor->name, "maybe");
    ck_assert_uint_eq(x->fields[0].kind, MTP_TL_V_INT);
    ck_assert_int_eq(x->fields[0].u.i, 5);
    const struct mtp_tl_value *z = mtp_tl_obj_get(o, "z")->u.obj->fields;
    ck_assert_uint_eq(z->kind, MTP_TL_V_VECTOR);
    ck_assert_uint_eq(z->len, 2);
    ck_assert_int_eq(z->u.items[1].u.l, 2);
    const struct mtp_tl_value *items = mtp_tl_obj_get(mtp_tl_obj_get(o, "r")->u.obj, "items");
    ck_assert_uint_eq(items->len, 2);
    ck_assert_ptr_null(items->u.items[0].u.obj->ctor->name);
    ck_assert_int_eq(items->u.items[1].u.obj->fields[0].u.i, 11);
    roundtrip_hex(s, NULL, hex);
    /* A boxed built-in: int#a8509bda */
    ck_assert_ok(dec_hex(s, "Int", "da9b50a8" "07000000", NULL, &v));
    ck_assert_str_eq(v.u.obj->ctor->name, "int");
    ck_assert_int_eq(v.u.obj->fields[0].u.i, 7);
    /* The count of a repetition must fit the bytes. */
    ck_assert_rc(dec_hex(s, "rec", "ffffff7f", NULL, &v), MTP_ERR_TL_BAD_COUNT);
    mtp_tl_schema_free(s);
}
END_TEST

START_TEST(encoder_checks)
{
    struct mtp_tl_value v;
    static const char hex[] = "0c2c6299" "01000000" "b5757299";
    ck_assert_ok(dec_hex(api, NULL, hex, NULL, &v));
    /* A flag bit without its field */
    struct mtp_tl_object *o = v.u.obj;
    o->fields[0].u.nat = 3;
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 16, &err);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_encode(api, NULL, &v, &w, &err), MTP_ERR_TL_BAD_FLAGS);
    ck_assert_str_eq(err.msg, "peerNotifySettings.silent: missing although flags.1 is set");
    /* A field whose bit is clear */
    o->fields[0].u.nat = 0;
    mtp_error_clear(&err);
    mtp_wr_reset(&w);
    ck_assert_rc(mtp_tl_encode(api, NULL, &v, &w, &err), MTP_ERR_TL_BAD_FLAGS);
    ck_assert_str_eq(err.msg, "peerNotifySettings.show_previews: present although flags.0 is clear");
    /* A value of the wrong kind */
    o->fields[0].u.nat = 1;
    o->fields[1].kind = MTP_TL_V_INT;
    mtp_error_clear(&err);
    mtp_wr_reset(&w);
    ck_assert_rc(mtp_tl_encode(api, NULL, &v, &w, &err), MTP_ERR_TL_TYPE);
    ck_assert_str_eq(err.msg, "peerNotifySettings.show_previews: expected Bool, found a int value");
    o->fields[1].kind = MTP_TL_V_BOOL;
    /* The wrong type at a typed position */
    mtp_error_clear(&err);
    mtp_wr_reset(&w);
    ck_assert_rc(mtp_tl_encode(api, type_of(api, "User"), &v, &w, &err), MTP_ERR_TL_TYPE);
    ck_assert_str_eq(err.msg, "peerNotifySettings: expected a constructor of type User, found peerNotifySettings");
    mtp_wr_free(&w);
    /* Output limit */
    uint8_t small[8];
    mtp_wr_init_fixed(&w, small, sizeof small, &err);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_encode(api, NULL, &v, &w, &err), MTP_ERR_OVERFLOW);
    ck_assert_ptr_nonnull(strstr(err.msg, "output: cannot append 4 bytes at 8 (limit 8)"));
}
END_TEST

/* Deterministic noise: xorshift over real messages with mutations.  Whatever
 * decodes must re-encode to the same bytes, and nothing may crash. */
START_TEST(mutations_round_trip)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t base_n[3];
    const uint8_t *base[3];
    for (int i = 0; i < 3; i++)
        base[i] = mtp_test_hex(whole[i], &base_n[i]);
    uint8_t buf[256];
    unsigned ok = 0;
    for (int iter = 0; iter < 4000; iter++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int b = (int)(x % 3);
        size_t n = base_n[b];
        memcpy(buf, base[b], n);
        for (int m = 0; m < 1 + (int)(x >> 8) % 3; m++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[(x >> 16) % n] = (uint8_t)(x >> 40);
        }
        size_t len = (x >> 24) % 4 == 0 ? (x >> 32) % (n + 1) : n;
        struct mtp_tl_value v;
        mtp_tl_arena_reset(&arena);
        if (dec(mt, NULL, buf, len, NULL, &v) == MTP_OK) {
            assert_reencodes(mt, NULL, &v, buf, len);
            ok++;
        } else {
            ck_assert(err.code < 0 && err.msg[0]);
        }
    }
    ck_assert_uint_gt(ok, 100);
}
END_TEST

static Suite *tl_codec_suite(void)
{
    Suite *s = suite_create("tl_codec");
    TCase *tc = tcase_create("codec");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, load_schemas, free_schemas);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, non_canonical_forms_round_trip);
    tcase_add_test(tc, unknown_flag_bits);
    tcase_add_test(tc, error_paths);
    tcase_add_loop_test(tc, every_prefix_fails, 0, sizeof whole / sizeof whole[0]);
    tcase_add_test(tc, gzip_limits);
    tcase_add_test(tc, structural_limits);
    tcase_add_test(tc, rpc_result_types);
    tcase_add_test(tc, generic_schema);
    tcase_add_test(tc, encoder_checks);
    tcase_add_test(tc, mutations_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tl_codec_suite)
