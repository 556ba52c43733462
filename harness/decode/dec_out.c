/* The decoder's output: text like `tshark -V` (a summary line per message,
 * the fields below it), or JSON lines in the shape of the mock DC's
 * observation log (docs/events.md) so that a decoded capture can stand in
 * for a wire log; the per-connection summary and the totals. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "decode/dec_internal.h"
#include "mtp/hex.h"
#include "mtp/service.h"
#include "tlengine/tl_json.h"

#define TEXT_INDENT "    "
#define MAX_NAMES 64

static const char *dir_name(enum mtp_tcp_dir dir) { return dir == MTP_TCP_C2S ? "c2s" : "s2c"; }

double dec_rel_ms(const struct dec *d, int64_t ts) { return d->t0_set ? (double)(ts - d->t0_ns) / 1e6 : 0.0; }

/* msg_ids as 16 hex digits of their value, so that they sort by time (docs/events.md). */
static void msg_id_hex(char out[17], uint64_t v)
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, v >>= 4)
        out[i] = hx[v & 15];
    out[16] = '\0';
}

static void wire64(char out[17], uint64_t v)
{
    uint8_t b[8];
    mtp_store_u64(b, v);
    mtp_hex_encode(b, 8, out);
}

/* ---- names: the constructor, the messages of a container, the result inside an rpc_result ---- */

struct names {
    const char *v[MAX_NAMES];
    size_t n;
};

static void add_names(struct names *nm, const struct mtp_tl_value *v, int depth)
{
    const struct mtp_tl_object *o = mtp_tl_value_object(v);
    if (o == NULL || depth > 4 || nm->n == MAX_NAMES)
        return;
    if (v->kind == MTP_TL_V_GZIP && nm->n < MAX_NAMES)
        nm->v[nm->n++] = "gzip_packed";
    if (o->ctor->name && nm->n < MAX_NAMES)
        nm->v[nm->n++] = o->ctor->name;
    if (o->ctor->id == MTP_TL_ID_MSG_CONTAINER) {
        const struct mtp_tl_value *msgs = mtp_tl_obj_get(o, "messages");
        for (uint32_t i = 0; msgs && msgs->kind == MTP_TL_V_VECTOR && i < msgs->len; i++) {
            const struct mtp_tl_object *m = mtp_tl_value_object(&msgs->u.items[i]);
            const struct mtp_tl_value *body = m ? mtp_tl_obj_get(m, "body") : NULL;
            if (body)
                add_names(nm, body, depth + 1);
        }
    } else if (o->ctor->id == MTP_TL_ID_RPC_RESULT) {
        const struct mtp_tl_value *r = mtp_tl_obj_get(o, "result");
        if (r)
            add_names(nm, r, depth + 1);
    } else if (o->ctor->is_function) {
        /* invokeWithLayer(initConnection(help.getConfig)): the call inside names it */
        for (unsigned i = 0; i < o->ctor->nargs; i++)
            if (o->ctor->args[i].type->bang) {
                const struct mtp_tl_value *q = mtp_tl_obj_field(o, i);
                if (q)
                    add_names(nm, q, depth + 1);
            }
    }
}

static void names_of(const struct dec_msg *m, struct names *nm)
{
    nm->n = 0;
    if (m->value)
        add_names(nm, m->value, 0);
}

static bool filtered_out(const struct dec *d, const struct names *nm)
{
    if (d->o->filter == NULL)
        return false;
    for (size_t i = 0; i < nm->n; i++)
        if (strcmp(nm->v[i], d->o->filter) == 0)
            return false;
    return true;
}

static const char *ctor_text(const struct dec_msg *m, char buf[16])
{
    const struct mtp_tl_object *o = m->value ? mtp_tl_value_object(m->value) : NULL;
    if (o && o->ctor->name)
        return o->ctor->name;
    if (m->enc && !m->decrypted)
        return "(encrypted)";
    if (m->body_len >= 4) {
        snprintf(buf, 16, "#%08" PRIx32, mtp_load_u32(m->body));
        return buf;
    }
    return "(empty)";
}

/* Output collects in d->obuf and goes out in large writes. */
#define OBUF_FLUSH ((size_t)256 << 10)

void dec_out_flush(struct dec *d)
{
    if (d->obuf.len)
        fwrite(d->obuf.p, 1, d->obuf.len, d->out);
    mtp_wr_reset(&d->obuf);
}

/* ---- text ----
 *
 * Like the JSON lines, text collects in d->obuf (written in large pieces);
 * the line per message is put together by hand, the rest with tx(). */

static void tx(struct dec *d, const char *fmt, ...) MTP_PRINTF(2, 3);
static void tx(struct dec *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof buf) {
        if (mtp_wr_raw(&d->obuf, buf, (size_t)n) < 0)
            return;
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (mtp_wr_raw(&d->obuf, big, (size_t)n) < 0) {
        free(big);
        return;
    }
    free(big);
}

static void put(struct dec *d, const char *s)
{
    if (mtp_wr_raw(&d->obuf, s, strlen(s)) < 0)
        return;
}

static void put_u64(struct dec *d, uint64_t v)
{
    char buf[24];
    char *p = buf + sizeof buf;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (mtp_wr_raw(&d->obuf, p, (size_t)(buf + sizeof buf - p)) < 0)
        return;
}

/* Seconds since the first packet, to the microsecond. */
static void put_time(struct dec *d, int64_t ts)
{
    int64_t us = (d->t0_set ? ts - d->t0_ns : 0) / 1000;
    char buf[32];
    char *p = buf + sizeof buf;
    uint64_t u = us < 0 ? 0 : (uint64_t)us;
    for (int i = 0; i < 6; i++, u /= 10)
        *--p = (char)('0' + u % 10);
    *--p = '.';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (mtp_wr_raw(&d->obuf, p, (size_t)(buf + sizeof buf - p)) < 0)
        return;
}

static void text_indented(struct dec *d, const char *prefix, const char *text, size_t n)
{
    const char *p = text, *end = text + n;
    size_t pl = strlen(prefix);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
        uint8_t *o;
        if (mtp_wr_reserve(&d->obuf, pl + k + 1, &o) < 0)
            return;
        memcpy(o, prefix, pl);
        memcpy(o + pl, p, k);
        o[pl + k] = '\n';
        p += k + (nl ? 1 : 0);
    }
}

static void text_value(struct dec *d, const char *prefix, const struct mtp_tl_value *v)
{
    struct mtp_tl_text_opts to = {.multiline = true,
                                  .max_bytes = d->o->short_bytes == SIZE_MAX ? 0
                                               : d->o->short_bytes      ? d->o->short_bytes
                                                                        : 64};
    mtp_wr_reset(&d->line);
    if (mtp_tl_text(v, &to, &d->line) == MTP_OK)
        text_indented(d, prefix, (const char *)d->line.p, d->line.len);
}

static void text_msg(struct dec *d, const struct dec_msg *m, const struct names *nm)
{
    (void)nm;
    char ctor[16], id[17], tr[40];
    put_time(d, m->ts_ns);
    put(d, " #");
    put_u64(d, m->c->id);
    put(d, m->dir == MTP_TCP_C2S ? " c2s " : " s2c ");
    put(d, dec_conn_transport(m->c, tr, sizeof tr));
    put(d, m->enc ? " enc   msg_id=" : " plain msg_id=");
    msg_id_hex(id, m->msg_id);
    put(d, id);
    if (m->enc && m->decrypted) {
        put(d, " seqno=");
        if (m->seqno < 0)
            tx(d, "%d", (int)m->seqno);
        else
            put_u64(d, (uint64_t)m->seqno);
    }
    put(d, " ");
    put(d, ctor_text(m, ctor));
    put(d, " (");
    put_u64(d, m->body_len);
    put(d, " bytes)\n");
    if (m->enc) {
        wire64(id, m->auth_key_id);
        put(d, TEXT_INDENT "auth_key_id=");
        put(d, id);
        if (m->decrypted) {
            char salt[17], sess[17];
            wire64(salt, m->salt);
            wire64(sess, m->session_id);
            tx(d, " session_id=%s salt=%s padding=%zu", sess, salt, m->padding);
            if (m->sess && m->sess->layer)
                tx(d, " layer=%d", (int)m->sess->layer);
        }
        if (m->quick_ack)
            put(d, " quick_ack");
        put(d, "\n");
    }
    if (m->value)
        text_value(d, TEXT_INDENT, m->value);
    if (m->error)
        tx(d, TEXT_INDENT "! %s\n", m->error);
    if (m->inner_name) {
        if (m->inner) {
            tx(d, TEXT_INDENT "%s, decrypted with the logged new_nonce:\n", m->inner_name);
            text_value(d, TEXT_INDENT "  ", m->inner);
        } else if (m->inner_error) {
            tx(d, TEXT_INDENT "%s: %s\n", m->inner_name, m->inner_error);
        }
    }
    if (m->note[0])
        tx(d, TEXT_INDENT "%s\n", m->note);
    if (d->o->hex && m->body_len) {
        uint8_t *o;
        size_t pl = strlen(TEXT_INDENT "body: ");
        if (mtp_wr_reserve(&d->obuf, pl + 2 * m->body_len + 1, &o) == MTP_OK) {
            memcpy(o, TEXT_INDENT "body: ", pl);
            mtp_hex_encode(m->body, m->body_len, (char *)o + pl); /* writes a NUL where the newline goes */
            o[pl + 2 * m->body_len] = '\n';
        }
    }
    if (d->obuf.len >= OBUF_FLUSH)
        dec_out_flush(d);
}

/* ---- JSON lines ----
 *
 * Written straight into a buffer (no jansson tree per message: a capture has
 * millions of them); events and summaries, which are few, merge a jansson
 * object of fields. */

struct jw {
    struct mtp_wr *w;
    size_t start; /* where the line began */
    bool first;
};

/* Writers are sticky: a failed write fails every later one, and jw_finish
 * looks at the status once. */
static void sticky(int rc) { (void)rc; }

/* Keys are this file's own names: nothing to escape. */
static void jw_key(struct jw *j, const char *k)
{
    size_t n = strlen(k);
    uint8_t *o;
    if (mtp_wr_reserve(j->w, n + 4, &o) < 0)
        return;
    if (j->first)
        j->w->len--;
    else
        *o++ = ',';
    j->first = false;
    *o++ = '"';
    memcpy(o, k, n);
    o[n] = '"';
    o[n + 1] = ':';
}

static void jw_str(struct jw *j, const char *k, const char *v)
{
    jw_key(j, k);
    sticky(mtp_json_write_string(j->w, (const uint8_t *)v, strlen(v)));
}

static void jw_fmt(struct jw *j, const char *k, const char *fmt, ...) MTP_PRINTF(3, 4);
static void jw_fmt(struct jw *j, const char *k, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    jw_key(j, k);
    sticky(mtp_wr_raw(j->w, buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : 0));
}

static void jw_u64(struct jw *j, const char *k, uint64_t v)
{
    char buf[24];
    char *p = buf + sizeof buf;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    jw_key(j, k);
    sticky(mtp_wr_raw(j->w, p, (size_t)(buf + sizeof buf - p)));
}

static void jw_i64(struct jw *j, const char *k, int64_t v)
{
    if (v >= 0) {
        jw_u64(j, k, (uint64_t)v);
        return;
    }
    jw_fmt(j, k, "%" PRId64, v);
}

/* A fixed-point number: v / 10^decimals, exactly (times are nanoseconds). */
static void jw_fixed(struct jw *j, const char *k, int64_t v, int decimals)
{
    char buf[32];
    char *p = buf + sizeof buf;
    bool neg = v < 0;
    uint64_t u = neg ? 0ull - (uint64_t)v : (uint64_t)v;
    for (int i = 0; i < decimals; i++) {
        *--p = (char)('0' + u % 10);
        u /= 10;
    }
    *--p = '.';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg)
        *--p = '-';
    jw_key(j, k);
    sticky(mtp_wr_raw(j->w, p, (size_t)(buf + sizeof buf - p)));
}

static void jw_bool(struct jw *j, const char *k, bool v)
{
    jw_key(j, k);
    sticky(mtp_wr_raw(j->w, v ? "true" : "false", v ? 4 : 5));
}

static void jw_hex(struct jw *j, const char *k, const uint8_t *p, size_t n)
{
    jw_key(j, k);
    uint8_t *o;
    if (mtp_wr_reserve(j->w, 2 * n + 2, &o) < 0)
        return;
    *o++ = '"';
    mtp_hex_encode(p, n, (char *)o);
    o[2 * n] = '"';
}

static void jw_start(struct dec *d, struct jw *j, const struct dec_conn *c, const char *ev, int64_t ts, bool timed)
{
    j->w = &d->obuf;
    j->start = d->obuf.len;
    j->first = true;
    sticky(mtp_wr_u8(j->w, '{'));
    if (timed) {
        /* ms since the first packet and unix time, both to the microsecond */
        jw_fixed(j, "t", ((d->t0_set ? ts - d->t0_ns : 0)) / 1000, 3);
        jw_fixed(j, "time", ts / 1000, 6);
    }
    jw_str(j, "ev", ev);
    if (c)
        jw_u64(j, "conn", c->id);
}

/* Adds a jansson object's fields, then ends the line and writes it. */
static void jw_finish(struct dec *d, struct jw *j, json_t *fields)
{
    if (fields && json_object_size(fields)) {
        char *s = json_dumps(fields, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (s && s[0] == '{') {
            if (!j->first)
                sticky(mtp_wr_u8(j->w, ','));
            sticky(mtp_wr_raw(j->w, s + 1, strlen(s) - 2));
        }
        free(s);
    }
    json_decref(fields);
    sticky(mtp_wr_raw(j->w, "}\n", 2));
    if (mtp_wr_status(j->w) != MTP_OK) {
        /* a line too long for the buffer is lost, not the lines before it */
        j->w->failed = false;
        j->w->len = j->start;
        fprintf(stderr, "mtprobe decode: an output line exceeded the buffer and was dropped\n");
    }
    if (d->obuf.len >= OBUF_FLUSH)
        dec_out_flush(d);
}

static void json_msg(struct dec *d, const struct dec_msg *m, const struct names *nm)
{
    struct jw j;
    char buf[40], ctor[16];
    jw_start(d, &j, m->c, "msg", m->ts_ns, true);
    jw_str(&j, "dir", dir_name(m->dir));
    jw_str(&j, "transport", dec_conn_transport(m->c, buf, sizeof buf));
    jw_bool(&j, "enc", m->enc);
    jw_u64(&j, "offset", m->stream_off);
    if (m->enc) {
        wire64(buf, m->auth_key_id);
        jw_str(&j, "auth_key_id", buf);
    }
    if (!m->enc || m->decrypted) {
        if (m->enc) {
            wire64(buf, m->salt);
            jw_str(&j, "salt", buf);
            wire64(buf, m->session_id);
            jw_str(&j, "session_id", buf);
        }
        msg_id_hex(buf, m->msg_id);
        jw_str(&j, "msg_id", buf);
        if (m->enc) {
            jw_i64(&j, "seqno", m->seqno);
            jw_u64(&j, "plaintext_len", m->plaintext_len);
            jw_u64(&j, "padding", m->padding);
            if (m->sess && m->sess->layer)
                jw_i64(&j, "layer", m->sess->layer);
        }
    }
    if (m->quick_ack)
        jw_bool(&j, "quick_ack", true);
    jw_str(&j, "ctor", ctor_text(m, ctor));
    jw_key(&j, "names");
    sticky(mtp_wr_u8(j.w, '['));
    for (size_t i = 0; i < nm->n; i++) {
        if (i)
            sticky(mtp_wr_u8(j.w, ','));
        sticky(mtp_json_write_string(j.w, (const uint8_t *)nm->v[i], strlen(nm->v[i])));
    }
    sticky(mtp_wr_u8(j.w, ']'));
    jw_u64(&j, "len", m->body_len);
    if (m->value) {
        jw_key(&j, "json");
        sticky(mtp_tl_json_write(m->value, j.w));
    }
    if (m->value && d->o->tl_text) {
        /* the text goes after the line so far, then into the line as a string */
        size_t at = j.w->len;
        struct mtp_tl_text_opts to = {.max_bytes = 256};
        if (mtp_tl_text(m->value, &to, j.w) == MTP_OK) {
            size_t n = j.w->len - at;
            char *copy = malloc(n);
            if (copy) {
                memcpy(copy, j.w->p + at, n);
                j.w->len = at;
                jw_key(&j, "tl");
                sticky(mtp_json_write_string(j.w, (const uint8_t *)copy, n));
                free(copy);
            }
        }
    }
    if (d->o->hex && (!m->enc || m->decrypted))
        jw_hex(&j, "body", m->body, m->body_len);
    if (m->error)
        jw_str(&j, "error", m->error);
    if (m->inner_name) {
        jw_key(&j, "inner");
        struct jw in = {j.w, 0, true};
        sticky(mtp_wr_u8(j.w, '{'));
        jw_str(&in, "name", m->inner_name);
        if (m->inner) {
            jw_key(&in, "json");
            sticky(mtp_tl_json_write(m->inner, j.w));
        } else if (m->inner_error) {
            jw_str(&in, "error", m->inner_error);
        }
        sticky(mtp_wr_u8(j.w, '}'));
    }
    if (m->note[0])
        jw_str(&j, "note", m->note);
    jw_finish(d, &j, NULL);
}

void dec_out_msg(struct dec *d, const struct dec_msg *m)
{
    if (d->o->format == MTP_DECODE_NONE)
        return;
    struct names nm;
    names_of(m, &nm);
    if (filtered_out(d, &nm))
        return;
    if (d->o->format == MTP_DECODE_JSONL)
        json_msg(d, m, &nm);
    else
        text_msg(d, m, &nm);
}

void dec_out_event(struct dec *d, struct dec_conn *c, const char *ev, int64_t ts, json_t *fields)
{
    if (d->o->format == MTP_DECODE_NONE || d->o->filter) {
        json_decref(fields);
        return;
    }
    if (d->o->format == MTP_DECODE_JSONL) {
        struct jw j;
        jw_start(d, &j, c, ev, ts, true);
        jw_finish(d, &j, fields);
        return;
    }
    tx(d, "%.6f #%" PRIu64 " -- %s", dec_rel_ms(d, ts) / 1000.0, c ? c->id : 0, ev);
    const char *k;
    json_t *v;
    json_object_foreach(fields, k, v)
    {
        if (json_is_string(v))
            tx(d, " %s=%s", k, json_string_value(v));
        else if (json_is_integer(v))
            tx(d, " %s=%" JSON_INTEGER_FORMAT, k, json_integer_value(v));
        else if (json_is_boolean(v))
            tx(d, " %s=%s", k, json_is_true(v) ? "true" : "false");
    }
    put(d, "\n");
    json_decref(fields);
}

void dec_out_finding(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, int64_t ts, const struct dec_msg *m,
                     const char *req, const char *text)
{
    if (d->o->format == MTP_DECODE_NONE)
        return;
    const char *level = dec_check_level(d, req);
    if (d->o->format == MTP_DECODE_JSONL) {
        json_t *o = json_object();
        json_object_set_new(o, "dir", json_string(dir_name(dir)));
        json_object_set_new(o, "requirement", json_string(req));
        json_object_set_new(o, "level", json_string(level));
        if (m && m->msg_id) {
            char buf[17];
            snprintf(buf, sizeof buf, "%016" PRIx64, m->msg_id);
            json_object_set_new(o, "msg_id", json_string(buf));
        }
        json_object_set_new(o, "text", json_string(text));
        struct jw j;
        jw_start(d, &j, c, "check", ts, true);
        jw_finish(d, &j, o);
        return;
    }
    tx(d, "%.6f #%" PRIu64 " %s CHECK %s (%s): %s\n", dec_rel_ms(d, ts) / 1000.0, c->id, dir_name(dir), req,
            level, text);
}

void dec_out_summary(struct dec *d, const struct dec_conn *c)
{
    char a[MTP_TCP_ADDR_TEXT_MAX], b[MTP_TCP_ADDR_TEXT_MAX], tr[40];
    const struct mtp_tcp_conn *tc = c->tcp;
    if (d->o->format == MTP_DECODE_JSONL) {
        json_t *o = json_object();
        json_object_set_new(o, "client", json_string(mtp_tcp_addr_text(&tc->ep[0], a, sizeof a)));
        json_object_set_new(o, "server", json_string(mtp_tcp_addr_text(&tc->ep[1], b, sizeof b)));
        json_object_set_new(o, "transport", json_string(dec_conn_transport(c, tr, sizeof tr)));
        json_object_set_new(o, "duration_ms", json_real((double)(c->last_ns - c->first_ns) / 1e6));
        json_t *keys = json_array();
        for (unsigned i = 0; i < c->nkey_ids; i++) {
            char k[17];
            wire64(k, c->key_ids[i]);
            json_array_append_new(keys, json_string(k));
        }
        json_object_set_new(o, "auth_key_ids", keys);
        json_object_set_new(o, "msgs_c2s", json_integer((json_int_t)c->msgs[0]));
        json_object_set_new(o, "msgs_s2c", json_integer((json_int_t)c->msgs[1]));
        json_object_set_new(o, "plain", json_integer((json_int_t)c->plain));
        json_object_set_new(o, "encrypted", json_integer((json_int_t)c->encrypted));
        json_object_set_new(o, "undecrypted", json_integer((json_int_t)c->undecrypted));
        json_object_set_new(o, "tl_errors", json_integer((json_int_t)c->tl_errors));
        json_object_set_new(o, "quick_acks", json_integer((json_int_t)c->quick_acks));
        json_object_set_new(o, "transport_errors", json_integer((json_int_t)c->transport_errors));
        json_object_set_new(o, "bytes_lost", json_integer((json_int_t)c->lost));
        json_object_set_new(o, "resyncs", json_integer((json_int_t)c->resyncs));
        json_object_set_new(o, "findings", json_integer((json_int_t)c->findings));
        json_object_set_new(o, "end", json_string(c->end ? c->end : "?"));
        json_t *pr = json_array();
        for (unsigned i = 0; i < c->nproblems; i++)
            json_array_append_new(pr, json_string(c->problems[i]));
        if (c->more_problems) {
            char more[64];
            snprintf(more, sizeof more, "... and %u more", c->more_problems);
            json_array_append_new(pr, json_string(more));
        }
        json_object_set_new(o, "problems", pr);
        struct jw j;
        jw_start(d, &j, c, "summary", c->last_ns, true);
        jw_finish(d, &j, o);
        return;
    }
    tx(d, "connection #%" PRIu64 " %s -> %s %s, %.3f s, ended: %s\n", c->id,
            mtp_tcp_addr_text(&tc->ep[0], a, sizeof a), mtp_tcp_addr_text(&tc->ep[1], b, sizeof b),
            dec_conn_transport(c, tr, sizeof tr), (double)(c->last_ns - c->first_ns) / 1e9, c->end ? c->end : "?");
    put(d, TEXT_INDENT "auth_key_id:");
    if (c->nkey_ids == 0)
        put(d, " none");
    for (unsigned i = 0; i < c->nkey_ids; i++) {
        char k[17];
        wire64(k, c->key_ids[i]);
        tx(d, " %s", k);
    }
    tx(d,
            "\n" TEXT_INDENT "messages: %" PRIu64 " c2s, %" PRIu64 " s2c (%" PRIu64 " unencrypted, %" PRIu64
            " encrypted, %" PRIu64 " not decrypted, %" PRIu64 " TL errors); %" PRIu64 " quick acks, %" PRIu64
            " transport errors\n",
            c->msgs[0], c->msgs[1], c->plain, c->encrypted, c->undecrypted, c->tl_errors, c->quick_acks,
            c->transport_errors);
    if (c->lost || c->resyncs)
        tx(d, TEXT_INDENT "lost: %" PRIu64 " bytes in %" PRIu64 " gaps, %" PRIu64 " resynchronisations\n",
                c->lost, c->gaps, c->resyncs);
    if (c->findings)
        tx(d, TEXT_INDENT "check findings: %" PRIu64 "\n", c->findings);
    for (unsigned i = 0; i < c->nproblems; i++)
        tx(d, TEXT_INDENT "problem: %s\n", c->problems[i]);
    if (c->more_problems)
        tx(d, TEXT_INDENT "... and %u more problems\n", c->more_problems);
}

void dec_out_totals(struct dec *d)
{
    const struct mtp_decode_stats *st = d->st;
    if (d->o->format == MTP_DECODE_JSONL) {
        json_t *o = json_object();
        json_object_set_new(o, "packets", json_integer((json_int_t)st->packets));
        json_object_set_new(o, "connections", json_integer((json_int_t)st->connections));
        json_object_set_new(o, "messages", json_integer((json_int_t)st->messages));
        json_object_set_new(o, "undecrypted", json_integer((json_int_t)st->undecrypted));
        json_object_set_new(o, "tl_errors", json_integer((json_int_t)st->tl_errors));
        json_object_set_new(o, "bytes_lost", json_integer((json_int_t)st->bytes_lost));
        json_object_set_new(o, "truncated", json_boolean(st->truncated));
        if (d->o->check) {
            json_t *ch = json_array();
            for (size_t i = 0; i < d->nreqs; i++) {
                json_t *e = json_object();
                json_object_set_new(e, "requirement", json_string(d->reqs[i].id));
                json_object_set_new(e, "level", json_string(dec_check_level(d, d->reqs[i].id)));
                json_object_set_new(e, "checked", json_integer((json_int_t)d->reqs[i].checked));
                json_object_set_new(e, "failed", json_integer((json_int_t)d->reqs[i].failed));
                json_array_append_new(ch, e);
            }
            json_object_set_new(o, "checks", ch);
            json_object_set_new(o, "findings", json_integer((json_int_t)st->findings));
        }
        struct jw j;
        jw_start(d, &j, NULL, "end", 0, false);
        jw_finish(d, &j, o);
        return;
    }
    if (d->o->format == MTP_DECODE_NONE && !d->o->summary && !d->o->check)
        return;
    tx(d,
            "capture: %" PRIu64 " packets, %" PRIu64 " connections, %" PRIu64 " messages (%" PRIu64
            " not decrypted, %" PRIu64 " TL errors), %" PRIu64 " bytes lost%s\n",
            st->packets, st->connections, st->messages, st->undecrypted, st->tl_errors, st->bytes_lost,
            st->truncated ? ", the file is damaged or cut short" : "");
    if (!d->o->check)
        return;
    tx(d, "checks: %" PRIu64 " findings\n", st->findings);
    for (size_t i = 0; i < d->nreqs; i++)
        tx(d, TEXT_INDENT "%-9s %-11s %8" PRIu64 " checked %6" PRIu64 " failed\n", d->reqs[i].id,
                dec_check_level(d, d->reqs[i].id), d->reqs[i].checked, d->reqs[i].failed);
}
