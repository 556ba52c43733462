#include "mtps_events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/buf.h"
#include "mtp/container.h"
#include "mtp/hex.h"
#include "mtp/service.h"
#include "mtps_log.h"

#define EV_TEXT_MAX 65536   /* TL text of one body */
#define EV_BYTES_MAX 256    /* bytes fields longer than this are shortened in the text (the hex has them all) */
#define EV_BODY_HEX_MAX 65536 /* bodies longer than this keep only their first bytes as hex */
#define EV_NAMES_MAX 64
#define EV_NESTED_BODY_MAX 128

int mtps_events_open(struct mtps_events *e, const char *path, const struct mtp_env *env, struct mtp_error *err)
{
    memset(e, 0, sizeof *e);
    e->env = env;
    e->t0_ms = env ? mtp_env_now_ms(env) : 0;
    if (path == NULL)
        return MTP_OK;
    e->f = fopen(path, "w");
    if (e->f == NULL)
        return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "events %s: %s", path, strerror(errno));
    /* The server's clock at t = 0, so readers can place msg_ids in time. */
    json_t *o = mtps_ev_new(e, "start", 0);
    json_object_set_new(o, "now_ms", json_integer(e->t0_ms));
    mtps_events_emit(e, o);
    return MTP_OK;
}

void mtps_events_close(struct mtps_events *e)
{
    if (e->f) {
        json_t *o = mtps_ev_new(e, "end", 0);
        mtps_events_emit(e, o);
        fclose(e->f);
    }
    e->f = NULL;
}

json_t *mtps_ev_new(const struct mtps_events *e, const char *ev, uint64_t conn)
{
    if (!mtps_events_on(e))
        return NULL;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int64_t now = e->env ? mtp_env_now_ms(e->env) : 0;
    json_object_set_new(o, "t", json_integer(now - e->t0_ms));
    json_object_set_new(o, "ev", json_string(ev));
    if (conn)
        json_object_set_new(o, "conn", json_integer((json_int_t)conn));
    return o;
}

void mtps_events_emit(const struct mtps_events *e, json_t *o)
{
    if (o == NULL)
        return;
    if (mtps_events_on(e)) {
        char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (line) {
            fprintf(e->f, "%s\n", line);
            fflush(e->f);
            free(line);
        }
    }
    json_decref(o);
}

void mtps_ev_set_u64(json_t *o, const char *key, uint64_t v)
{
    if (o == NULL)
        return;
    char buf[17];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    json_object_set_new(o, key, json_string(buf));
}

void mtps_ev_set_wire64(json_t *o, const char *key, uint64_t v)
{
    uint8_t b[8];
    mtp_store_u64(b, v);
    mtps_ev_set_hex(o, key, b, sizeof b);
}

void mtps_ev_set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
    if (o == NULL)
        return;
    char *hex = malloc(2 * n + 1);
    if (hex == NULL)
        return;
    mtp_hex_encode(p, n, hex);
    json_object_set_new(o, key, json_string(hex));
    free(hex);
}

static const char *name_of(const struct mtps_events *e, uint32_t id, char buf[12])
{
    const struct mtp_tl_combinator *c = e->schema ? mtp_tl_find_id(e->schema, id) : NULL;
    if (c && c->name)
        return c->name;
    return mtp_svc_name(id, buf);
}

/* msg_ids of a msgs_ack body (constructor, vector id, count, longs). */
static void add_acks(json_t *acks, struct mtp_rd r)
{
    uint32_t ctor, vec, n;
    if (mtp_rd_u32(&r, &ctor, "ctor") < 0 || ctor != MTP_SVC_msgs_ack || mtp_rd_u32(&r, &vec, "vector") < 0 ||
        mtp_rd_u32(&r, &n, "count") < 0)
        return;
    for (uint32_t i = 0; i < n && i < 8192; i++) {
        uint64_t id;
        if (mtp_rd_u64(&r, &id, "msg_id") < 0)
            return;
        char buf[17];
        snprintf(buf, sizeof buf, "%016" PRIx64, id);
        json_array_append_new(acks, json_string(buf));
    }
}

static void add_name(const struct mtps_events *e, json_t *names, struct mtp_rd body)
{
    char buf[12];
    uint32_t id;
    if (mtp_rd_peek_u32(&body, &id, "ctor") < 0 || json_array_size(names) >= EV_NAMES_MAX)
        return;
    json_array_append_new(names, json_string(name_of(e, id, buf)));
    /* The result inside an rpc_result names what the message answers. */
    uint32_t inner;
    if (id == MTP_SVC_rpc_result && mtp_rd_skip(&body, 12, "rpc_result") == MTP_OK &&
        mtp_rd_peek_u32(&body, &inner, "result") == MTP_OK)
        json_array_append_new(names, json_string(name_of(e, inner, buf)));
}

void mtps_ev_set_body(const struct mtps_events *e, json_t *o, const uint8_t *body, size_t len, uint64_t msg_id,
                      int32_t seqno)
{
    if (o == NULL)
        return;
    struct mtp_rd r;
    mtp_rd_init(&r, body, len, NULL);
    uint32_t id = 0;
    char buf[12];
    if (mtp_rd_peek_u32(&r, &id, "ctor") == MTP_OK)
        json_object_set_new(o, "ctor", json_string(name_of(e, id, buf)));
    json_t *names = json_array(), *acks = json_array();
    add_name(e, names, r);
    add_acks(acks, r);
    if (id == MTP_SVC_msg_container) {
        struct mtp_container ct;
        struct mtp_container_limits cl = {MTP_CONTAINER_MAX_MSGS, SIZE_MAX};
        if (mtp_container_open(&ct, &r, msg_id, seqno, &cl) == MTP_OK) {
            json_t *nested = json_array();
            struct mtp_nested m;
            while (mtp_container_next(&ct, &m) == 1) {
                json_t *n = json_object();
                mtps_ev_set_u64(n, "msg_id", m.msg_id);
                json_object_set_new(n, "seqno", json_integer(m.seqno));
                json_object_set_new(n, "ctor", json_string(name_of(e, m.ctor, buf)));
                /* Small messages (service messages: notifications, acks) keep their bytes, so a
                 * reader can tell which message they refer to; the container's tl has the rest. */
                if (mtp_rd_left(&m.body) <= EV_NESTED_BODY_MAX)
                    mtps_ev_set_hex(n, "body", mtp_rd_cur(&m.body), mtp_rd_left(&m.body));
                json_array_append_new(nested, n);
                add_name(e, names, m.body);
                add_acks(acks, m.body);
            }
            json_object_set_new(o, "nested", nested);
        } else {
            json_object_set_new(o, "bad_container", json_true());
        }
    }
    json_object_set_new(o, "names", names);
    if (json_array_size(acks))
        json_object_set_new(o, "acks", acks);
    else
        json_decref(acks);
    char *text = malloc(EV_TEXT_MAX);
    if (text) {
        mtps_tl_render(e->schema, body, len, EV_BYTES_MAX, text, EV_TEXT_MAX);
        json_object_set_new(o, "tl", json_string(text));
        free(text);
    }
    json_object_set_new(o, "len", json_integer((json_int_t)len));
    mtps_ev_set_hex(o, "body", body, len < EV_BODY_HEX_MAX ? len : EV_BODY_HEX_MAX);
}

void mtps_ev_set_inner(const struct mtps_events *e, json_t *o, uint64_t auth_key_id, const uint8_t *plain,
                       size_t len)
{
    if (o == NULL)
        return;
    mtps_ev_set_wire64(o, "auth_key_id", auth_key_id);
    if (len < 32) {
        json_object_set_new(o, "malformed", json_string("shorter than the 32-byte header"));
        return;
    }
    struct mtp_rd r;
    mtp_rd_init(&r, plain, len, NULL);
    uint64_t salt, session_id, msg_id;
    int32_t seqno;
    uint32_t n;
    if (mtp_rd_u64(&r, &salt, "salt") < 0 || mtp_rd_u64(&r, &session_id, "session_id") < 0 ||
        mtp_rd_u64(&r, &msg_id, "msg_id") < 0 || mtp_rd_i32(&r, &seqno, "seqno") < 0 ||
        mtp_rd_u32(&r, &n, "message_data_length") < 0)
        return;
    mtps_ev_set_wire64(o, "salt", salt);
    mtps_ev_set_wire64(o, "session_id", session_id);
    mtps_ev_set_u64(o, "msg_id", msg_id);
    json_object_set_new(o, "seqno", json_integer(seqno));
    json_object_set_new(o, "plaintext_len", json_integer((json_int_t)len));
    if (n > mtp_rd_left(&r)) {
        json_object_set_new(o, "malformed", json_string("message_data_length beyond the plaintext"));
        json_object_set_new(o, "message_data_length", json_integer((json_int_t)(int32_t)n));
        return;
    }
    json_object_set_new(o, "padding", json_integer((json_int_t)(len - 32 - n)));
    mtps_ev_set_body(e, o, mtp_rd_cur(&r), n, msg_id, seqno);
}
