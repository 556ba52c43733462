/* One line of text per trace record (mtpc_text.h). */
#include "client/mtpc_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mtp/hex.h"
#include "mtp/message.h"
#include "mtp/tl_value.h"
#include "mtp/transport.h"

#define HEX_PREVIEW 32

static void put(struct mtp_wr *w, const char *fmt, ...) MTP_PRINTF(2, 3);
static void put(struct mtp_wr *w, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    if (mtp_wr_raw(w, buf, len) < 0)
        return; /* the writer stays failed; the caller sees it in the status */
}

static void put_hex(struct mtp_wr *w, const uint8_t *p, size_t n)
{
    char hex[2 * HEX_PREVIEW + 1];
    size_t shown = n < HEX_PREVIEW ? n : HEX_PREVIEW;
    mtp_hex_encode(p, shown, hex);
    put(w, "%s", hex);
    if (shown < n)
        put(w, "... (%zu bytes)", n);
}

const char *mtpc_event_name(enum mtp_session_event_type type)
{
    switch (type) {
    case MTP_SESSION_EV_MESSAGE:
        return "message";
    case MTP_SESSION_EV_RESULT:
        return "rpc_result";
    case MTP_SESSION_EV_RPC_ERROR:
        return "rpc_error";
    case MTP_SESSION_EV_ACKED:
        return "acked";
    case MTP_SESSION_EV_QUICK_ACK:
        return "quick_ack";
    case MTP_SESSION_EV_PONG:
        return "pong";
    case MTP_SESSION_EV_PING:
        return "ping";
    case MTP_SESSION_EV_BAD_MSG:
        return "bad_msg_notification";
    case MTP_SESSION_EV_BAD_SALT:
        return "bad_server_salt";
    case MTP_SESSION_EV_RESENT:
        return "resent";
    case MTP_SESSION_EV_FAILED:
        return "failed";
    case MTP_SESSION_EV_NEW_SESSION:
        return "new_session_created";
    case MTP_SESSION_EV_FUTURE_SALTS:
        return "future_salts";
    case MTP_SESSION_EV_STATE_INFO:
        return "msgs_state_info";
    case MTP_SESSION_EV_ALL_INFO:
        return "msgs_all_info";
    case MTP_SESSION_EV_DETAILED_INFO:
        return "msg_detailed_info";
    case MTP_SESSION_EV_DESTROY_SESSION:
        return "destroy_session";
    case MTP_SESSION_EV_HTTP_WAIT:
        return "http_wait";
    case MTP_SESSION_EV_DROPPED:
        return "dropped";
    case MTP_SESSION_EV_DISCONNECT:
        return "disconnect";
    case MTP_SESSION_EV_DEVIATION:
        return "deviation";
    }
    return "unknown";
}

/* One TL object as text, or why it is not one. */
static void put_body(const struct mtp_tl_schema *s, const uint8_t *p, size_t len, size_t max_bytes,
                     struct mtp_wr *w)
{
    if (s == NULL) {
        put_hex(w, p, len);
        return;
    }
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, mtp_tl_decode_budget(len));
    struct mtp_tl_decode_opts opts = {.max_gzip = (size_t)4 << 20};
    struct mtp_tl_value v;
    struct mtp_error e;
    mtp_error_clear(&e);
    if (mtp_tl_decode(s, NULL, p, len, &opts, &a, &v, NULL, &e) == MTP_OK) {
        struct mtp_tl_text_opts to = {.multiline = false, .max_bytes = max_bytes};
        size_t mark = w->len;
        if (mtp_tl_text(&v, &to, w) < 0 && !w->failed)
            w->len = mark;
    } else {
        put(w, "<not decodable: %s> ", e.msg);
        put_hex(w, p, len);
    }
    mtp_tl_arena_free(&a);
}

static void put_inner(const struct mtp_tl_schema *s, const uint8_t *p, size_t len, size_t max_bytes,
                      struct mtp_wr *w)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    struct mtp_rd r, body;
    mtp_rd_init(&r, p, len, &e);
    struct mtp_msg_header h;
    if (mtp_msg_parse(&r, &h, &body) < 0) {
        put(w, "<bad message: %s> ", e.msg);
        put_hex(w, p, len);
        return;
    }
    put(w, "msg_id=%#" PRIx64 " seqno=%" PRId32 " salt=%#" PRIx64 " session=%#" PRIx64 " len=%" PRIu32 " ", h.msg_id,
        h.seqno, h.salt, h.session_id, h.length);
    put_body(s, mtp_rd_cur(&body), mtp_rd_left(&body), max_bytes, w);
}

const char *mtpc_text_escape(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char one[8];
        uint8_t b = p[i];
        if (b == '\\')
            snprintf(one, sizeof one, "\\\\");
        else if (b >= 0x20 && b < 0x7f)
            snprintf(one, sizeof one, "%c", (char)b);
        else
            snprintf(one, sizeof one, "\\x%02x", b);
        size_t n = strlen(one);
        if (o + n + 4 > cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, one, n);
        o += n;
    }
    out[o] = '\0';
    return out;
}

static void put_event(const struct mtp_session_event *ev, struct mtp_wr *w)
{
    put(w, ".. event %s", mtpc_event_name(ev->type));
    if (ev->msg_id)
        put(w, " msg_id=%#" PRIx64, ev->msg_id);
    if (ev->ref_msg_id)
        put(w, " ref_msg_id=%#" PRIx64, ev->ref_msg_id);
    if (ev->orig_msg_id && ev->orig_msg_id != ev->ref_msg_id)
        put(w, " orig_msg_id=%#" PRIx64, ev->orig_msg_id);
    if (ev->value)
        put(w, " value=%#" PRIx64, ev->value);
    if (ev->code)
        put(w, " code=%" PRId32, ev->code);
    if (ev->type == MTP_SESSION_EV_RPC_ERROR) {
        char msg[256];
        put(w, " message=%s", mtpc_text_escape(ev->body, ev->body_len, msg, sizeof msg));
    }
    if (ev->text)
        put(w, " (%s)", ev->text);
}

int mtpc_text_trace(const struct mtp_tl_schema *s, const struct mtpc_trace *t, size_t max_bytes, struct mtp_wr *w)
{
    const char *arrow = t->dir == MTPC_OUT ? "->" : "<-";
    switch (t->kind) {
    case MTPC_TRACE_PLAIN:
        put(w, "%s plain msg_id=%#" PRIx64 " ", arrow, (uint64_t)t->msg_id);
        put_body(s, t->data, t->len, max_bytes, w);
        break;
    case MTPC_TRACE_INNER:
        put(w, "%s ", arrow);
        put_inner(s, t->data, t->len, max_bytes, w);
        break;
    case MTPC_TRACE_TRANSPORT:
        put(w, "%s transport error %" PRId32 " (%s)", arrow, t->code, mtp_tr_error_name(t->code));
        break;
    case MTPC_TRACE_QUICK_ACK:
        put(w, "%s quick ack %#" PRIx32, arrow, (uint32_t)t->code);
        break;
    case MTPC_TRACE_EVENT:
        if (t->ev != NULL)
            put_event(t->ev, w);
        break;
    case MTPC_TRACE_DROPPED:
        put(w, "%s dropped (%s): %.*s", arrow, mtp_err_name(t->code), (int)t->len, (const char *)t->data);
        break;
    }
    return mtp_wr_status(w);
}
