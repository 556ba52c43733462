/* TL decode benchmark.  The corpus is built at start-up from JSON: server
 * containers carrying acks, rpc_results with message histories, update
 * batches, auth-exchange messages, client requests wrapped in
 * invokeWithLayer(initConnection(...)), salts and long texts, all encoded
 * with the API + MTProto schemas. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "bench/bench_tl.h"
#include "mtp/tl_value.h"
#include "tlengine/tl_files.h"
#include "tlengine/tl_json.h"

#define CORPUS_MAX 32

struct corpus {
    uint8_t *msg[CORPUS_MAX];
    size_t len[CORPUS_MAX];
    size_t n;
    size_t bytes;
};

/* Appends to a growing string; the corpus texts are assembled from pieces. */
struct sb {
    char *p;
    size_t n, cap;
};

static void sb_printf(struct sb *b, const char *fmt, ...) MTP_PRINTF(2, 3);
static void sb_printf(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            return;
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t ncap = (b->cap ? b->cap : 1024) * 2 + (size_t)k;
        char *np = realloc(b->p, ncap);
        if (np == NULL)
            return;
        b->p = np;
        b->cap = ncap;
    }
}

static void hex_fill(struct sb *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        sb_printf(b, "%02x", (unsigned)((i * 131u + seed * 7u + (i >> 3)) & 0xffu));
}

static void user_json(struct sb *b, unsigned i)
{
    sb_printf(b,
              "{\"_\":\"user\",\"contact\":true,\"id\":\"%u\",\"access_hash\":\"-%u9876543210\",\"first_name\":\"User%u\","
              "\"last_name\":\"Example\",\"username\":\"user_%u\",\"phone\":\"1555000%04u\",\"photo\":{\"_\":\"userProfilePhoto\","
              "\"photo_id\":\"%u123456789\",\"dc_id\":2},\"status\":{\"_\":\"userStatusRecently\"},\"lang_code\":\"en\","
              "\"stories_max_id\":%u}",
              1000 + i, i + 1, i, i, i, i + 1, i);
}

static void message_json(struct sb *b, unsigned i, size_t text_len)
{
    sb_printf(b,
              "{\"_\":\"message\",\"out\":%s,\"id\":%u,\"from_id\":{\"_\":\"peerUser\",\"user_id\":\"%u\"},"
              "\"peer_id\":{\"_\":\"peerUser\",\"user_id\":\"%u\"},\"reply_to\":{\"_\":\"messageReplyHeader\","
              "\"reply_to_msg_id\":%u},\"date\":%u,\"message\":\"",
              i % 2 ? "true" : "false", 5000 + i, 1000 + i % 3, 1000 + (i + 1) % 3, 4990 + i, 1700000000u + i);
    for (size_t k = 0; k < text_len; k++)
        sb_printf(b, "%c", "the quick brown fox jumps over the lazy dog "[k % 44]);
    sb_printf(b,
              "\",\"entities\":[{\"_\":\"messageEntityBold\",\"offset\":0,\"length\":3},{\"_\":\"messageEntityUrl\","
              "\"offset\":4,\"length\":5}],\"views\":%u,\"forwards\":%u,\"edit_date\":%u}",
              100 + i, i, 1700000100u + i);
}

static int build_corpus(const struct mtp_tl_schema *s, struct corpus *c, struct mtp_error *err)
{
    struct sb b[12];
    memset(b, 0, sizeof b);
    unsigned k = 0;

    /* 0: server container: ack + rpc_result(messages.messages) + new_session_created */
    sb_printf(&b[k], "{\"_\":\"msg_container\",\"messages\":[{\"msg_id\":\"7000000000000000001\",\"seqno\":0,\"body\":"
                     "{\"_\":\"msgs_ack\",\"msg_ids\":[\"6999999999999999004\",\"6999999999999999008\"]}},"
                     "{\"msg_id\":\"7000000000000000005\",\"seqno\":1,\"body\":{\"_\":\"rpc_result\",\"req_msg_id\":"
                     "\"6999999999999999008\",\"result\":{\"_\":\"messages.messages\",\"messages\":[");
    for (unsigned i = 0; i < 20; i++) {
        if (i)
            sb_printf(&b[k], ",");
        message_json(&b[k], i, 40 + i * 7);
    }
    sb_printf(&b[k], "],\"chats\":[],\"users\":[");
    for (unsigned i = 0; i < 3; i++) {
        if (i)
            sb_printf(&b[k], ",");
        user_json(&b[k], i);
    }
    sb_printf(&b[k], "]}}},{\"msg_id\":\"7000000000000000009\",\"seqno\":2,\"body\":{\"_\":\"new_session_created\","
                     "\"first_msg_id\":\"6999999999999999004\",\"unique_id\":\"123456789\",\"server_salt\":\"-42\"}}]}");
    k++;

    /* 1: an update batch */
    sb_printf(&b[k], "{\"_\":\"updates\",\"updates\":[");
    for (unsigned i = 0; i < 8; i++) {
        sb_printf(&b[k], "%s{\"_\":\"updateNewMessage\",\"message\":", i ? "," : "");
        message_json(&b[k], 100 + i, 20 + i * 13);
        sb_printf(&b[k], ",\"pts\":%u,\"pts_count\":1}", 900 + i);
    }
    sb_printf(&b[k], ",{\"_\":\"updateUserStatus\",\"user_id\":\"1001\",\"status\":{\"_\":\"userStatusRecently\"}}],"
                     "\"users\":[");
    for (unsigned i = 0; i < 4; i++) {
        if (i)
            sb_printf(&b[k], ",");
        user_json(&b[k], 10 + i);
    }
    sb_printf(&b[k], "],\"chats\":[],\"date\":1700000500,\"seq\":0}");
    k++;

    /* 2: resPQ, 3: server_DH_params_ok with a 592-byte answer */
    sb_printf(&b[k], "{\"_\":\"resPQ\",\"nonce\":\"3e0549828cca27e966b301a48fece2fc\",\"server_nonce\":"
                     "\"a5cf4d33f4a11ea877ba4aa573907330\",\"pq\":\"17ed48941a08f981\","
                     "\"server_public_key_fingerprints\":[\"-3414540481677951611\"]}");
    k++;
    sb_printf(&b[k], "{\"_\":\"server_DH_params_ok\",\"nonce\":\"3e0549828cca27e966b301a48fece2fc\",\"server_nonce\":"
                     "\"a5cf4d33f4a11ea877ba4aa573907330\",\"encrypted_answer\":\"");
    hex_fill(&b[k], 592, 3);
    sb_printf(&b[k], "\"}");
    k++;

    /* 4: the first client request */
    sb_printf(&b[k], "{\"_\":\"invokeWithLayer\",\"layer\":198,\"query\":{\"_\":\"initConnection\",\"api_id\":12345,"
                     "\"device_model\":\"bench\",\"system_version\":\"Linux 6\",\"app_version\":\"1.0\","
                     "\"system_lang_code\":\"en\",\"lang_pack\":\"\",\"lang_code\":\"en\",\"query\":"
                     "{\"_\":\"help.getConfig\"}}}");
    k++;

    /* 5: a send with entities */
    sb_printf(&b[k], "{\"_\":\"messages.sendMessage\",\"silent\":true,\"peer\":{\"_\":\"inputPeerUser\",\"user_id\":\"5\","
                     "\"access_hash\":\"-7\"},\"message\":\"hello there, this is a benchmark message\","
                     "\"random_id\":\"1234567890123\",\"entities\":[{\"_\":\"messageEntityBold\",\"offset\":0,"
                     "\"length\":5}]}");
    k++;

    /* 6: future salts, 7: a long ack, 8: rpc_error, 9: ping */
    sb_printf(&b[k], "{\"_\":\"future_salts\",\"req_msg_id\":\"7000000000000000101\",\"now\":1700000000,\"salts\":[");
    for (unsigned i = 0; i < 64; i++)
        sb_printf(&b[k], "%s{\"valid_since\":%u,\"valid_until\":%u,\"salt\":\"%u%u\"}", i ? "," : "",
                  1700000000u + i * 1800, 1700003600u + i * 1800, i + 1, 77777u * i);
    sb_printf(&b[k], "]}");
    k++;
    sb_printf(&b[k], "{\"_\":\"msgs_ack\",\"msg_ids\":[");
    for (unsigned i = 0; i < 100; i++)
        sb_printf(&b[k], "%s\"%llu\"", i ? "," : "", 7000000000000000000ull + 4ull * i);
    sb_printf(&b[k], "]}");
    k++;
    sb_printf(&b[k], "{\"_\":\"rpc_result\",\"req_msg_id\":\"7000000000000000201\",\"result\":{\"_\":\"rpc_error\","
                     "\"error_code\":420,\"error_message\":\"FLOOD_WAIT_31\"}}");
    k++;
    sb_printf(&b[k], "{\"_\":\"ping_delay_disconnect\",\"ping_id\":\"42\",\"disconnect_delay\":75}");
    k++;

    int rc = MTP_OK;
    for (unsigned i = 0; i < k && rc == MTP_OK; i++) {
        if (b[i].p == NULL) {
            rc = mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "bench corpus: out of memory");
            break;
        }
        json_error_t jerr;
        json_t *j = json_loads(b[i].p, 0, &jerr);
        if (j == NULL) {
            rc = mtp_error_set(err, MTP_ERR_JSON, MTP_NO_OFFSET, "bench corpus %u: %s", i, jerr.text);
            break;
        }
        struct mtp_wr w;
        mtp_wr_init_dyn(&w, 1u << 24, err);
        rc = mtp_tl_json_encode(s, NULL, j, &w, err);
        json_decref(j);
        if (rc == MTP_OK) {
            c->msg[c->n] = mtp_wr_take(&w, &c->len[c->n]);
            c->bytes += c->len[c->n];
            c->n++;
        } else {
            mtp_error_prefix(err, "bench corpus %u", i);
        }
        mtp_wr_free(&w);
    }
    for (unsigned i = 0; i < 12; i++)
        free(b[i].p);
    return rc;
}

static int decode_pass(const struct mtp_tl_schema *s, const struct corpus *c, struct mtp_tl_arena *a,
                       struct mtp_error *err)
{
    for (size_t i = 0; i < c->n; i++) {
        struct mtp_tl_value v;
        mtp_tl_arena_reset(a);
        MTP_GUARD(mtp_tl_decode(s, NULL, c->msg[i], c->len[i], NULL, a, &v, NULL, err));
    }
    return MTP_OK;
}

/* Keeps the compiler from dropping the ceiling loops. */

int mtp_bench_tl_run(const struct mtp_bench_sink *sink, const struct mtp_bench_tl_opts *opts, struct mtp_error *err)
{
    /* Results are stored here so the compiler cannot drop the measured loops. */
    volatile uint32_t sink_u32 = 0;
    (void)sink_u32;
    double secs = opts && opts->seconds > 0 ? opts->seconds : 1.0;
    static const char *const api[] = {"api"};
    struct mtp_tl_schema *s = NULL;
    double t0 = mtp_bench_now_s();
    MTP_GUARD(mtp_tl_schema_load(api, 1, &s, err));
    double load_ms = (mtp_bench_now_s() - t0) * 1e3;
    struct corpus c = {0};
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, 64u << 20);
    int rc = build_corpus(s, &c, err);
    if (rc < 0)
        goto out;

    if (opts && opts->iterations) {
        for (unsigned long it = 0; it < opts->iterations && rc == MTP_OK; it++)
            rc = decode_pass(s, &c, &a, err);
        if (rc == MTP_OK) {
            sink->record(sink->ctx, "tl_decode_corpus_bytes", (double)c.bytes, "bytes", 0);
            sink->record(sink->ctx, "tl_decode_bytes_total", (double)c.bytes * (double)opts->iterations, "bytes", 0);
        }
        goto out;
    }

    /* Decode. */
    unsigned long passes = 0;
    double start = mtp_bench_now_s(), el;
    do {
        rc = decode_pass(s, &c, &a, err);
        passes++;
        el = mtp_bench_now_s() - start;
    } while (rc == MTP_OK && el < secs);
    if (rc < 0)
        goto out;
    double decode_mbs = (double)c.bytes * (double)passes / el / 1e6;
    double msgs = (double)c.n * (double)passes / el;

    /* Ceilings over the same bytes. */
    uint8_t *dst = malloc(c.bytes);
    if (dst == NULL) {
        rc = mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "bench: out of memory");
        goto out;
    }
    passes = 0;
    start = mtp_bench_now_s();
    do {
        size_t off = 0;
        for (size_t i = 0; i < c.n; i++) {
            memcpy(dst + off, c.msg[i], c.len[i]);
            off += c.len[i];
        }
        sink_u32 = dst[passes % c.bytes];
        passes++;
        el = mtp_bench_now_s() - start;
    } while (el < secs);
    double memcpy_mbs = (double)c.bytes * (double)passes / el / 1e6;
    free(dst);
    passes = 0;
    start = mtp_bench_now_s();
    do {
        uLong crc = crc32(0L, Z_NULL, 0);
        for (size_t i = 0; i < c.n; i++)
            crc = crc32(crc, c.msg[i], (uInt)c.len[i]);
        sink_u32 = (uint32_t)crc;
        passes++;
        el = mtp_bench_now_s() - start;
    } while (el < secs);
    double crc_mbs = (double)c.bytes * (double)passes / el / 1e6;

    sink->record(sink->ctx, "tl_decode_mixed", decode_mbs, "MB/s", memcpy_mbs);
    sink->record(sink->ctx, "tl_decode_mixed_vs_crc32", decode_mbs, "MB/s", crc_mbs);
    sink->record(sink->ctx, "tl_decode_messages", msgs, "msg/s", 0);
    sink->record(sink->ctx, "tl_decode_corpus_bytes", (double)c.bytes, "bytes", 0);
    sink->record(sink->ctx, "tl_schema_load_api", load_ms, "ms", 0);
out:
    for (size_t i = 0; i < c.n; i++)
        free(c.msg[i]);
    mtp_tl_arena_free(&a);
    mtp_tl_schema_free(s);
    return rc;
}

int mtp_bench_tl(const struct mtp_bench_sink *sink)
{
    struct mtp_bench_tl_opts o = {.seconds = sink->min_seconds > 0 ? sink->min_seconds : 0.5};
    struct mtp_error err;
    mtp_error_clear(&err);
    return mtp_bench_tl_run(sink, &o, &err);
}
