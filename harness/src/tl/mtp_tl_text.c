/* TL text rendering of value trees, for people reading reports and captures:
 *   resPQ nonce:0x3e0549... pq:0x17ed48941a08f981 server_public_key_fingerprints:[-3414540481677951611]
 * Nested objects are parenthesised, flags are hex, set `true` flags read
 * `name:true`, strings are quoted when they are UTF-8 and hex otherwise. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mtp/tl_value.h"

struct text {
    struct mtp_wr *w;
    const struct mtp_tl_text_opts *o;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (mtp_wr_raw(t->w, s, n) < 0)
        return; /* sticky: checked once at the end */
}

static void puts_(struct text *t, const char *s) { put(t, s, strlen(s)); }

static void putf(struct text *t, const char *fmt, ...) MTP_PRINTF(2, 3);
static void putf(struct text *t, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void indent(struct text *t, unsigned level)
{
    put(t, "\n", 1);
    for (unsigned i = 0; i < level; i++)
        put(t, "  ", 2);
}

static void hex(struct text *t, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t shown = n;
    if (t->o->max_bytes && n > t->o->max_bytes)
        shown = t->o->max_bytes;
    put(t, "0x", 2);
    char buf[64];
    size_t k = 0;
    struct mtp_rd r;
    mtp_rd_init(&r, p, shown, NULL);
    uint8_t b;
    while (mtp_rd_u8(&r, &b, "hex") == MTP_OK) {
        buf[k++] = digits[b >> 4];
        buf[k++] = digits[b & 15];
        if (k == sizeof buf) {
            put(t, buf, k);
            k = 0;
        }
    }
    put(t, buf, k);
    if (shown < n)
        putf(t, "...(%zu bytes)", n);
}

static void quoted(struct text *t, const uint8_t *p, size_t n)
{
    size_t shown = n;
    if (t->o->max_bytes && n > t->o->max_bytes) {
        shown = t->o->max_bytes;
        /* Cut at a character boundary. */
        while (shown > 0) {
            struct mtp_rd r;
            uint8_t b;
            mtp_rd_init(&r, p, n, NULL);
            if (mtp_rd_skip(&r, shown, "cut") != MTP_OK || mtp_rd_u8(&r, &b, "cut") != MTP_OK || (b & 0xc0) != 0x80)
                break;
            shown--;
        }
    }
    put(t, "\"", 1);
    struct mtp_rd r;
    mtp_rd_init(&r, p, shown, NULL);
    uint8_t b;
    while (mtp_rd_u8(&r, &b, "string") == MTP_OK) {
        if (b == '"' || b == '\\') {
            char e[2] = {'\\', (char)b};
            put(t, e, 2);
        } else if (b == '\n') {
            put(t, "\\n", 2);
        } else if (b == '\t') {
            put(t, "\\t", 2);
        } else if (b < 0x20 || b == 0x7f) {
            putf(t, "\\x%02x", b);
        } else {
            char c = (char)b;
            put(t, &c, 1);
        }
    }
    put(t, "\"", 1);
    if (shown < n)
        putf(t, "...(%zu bytes)", n);
}

static bool is_complex(const struct mtp_tl_value *v)
{
    if (v->kind == MTP_TL_V_OBJECT)
        return v->u.obj->nfields > 0 || v->u.obj->ctor->name == NULL;
    return v->kind == MTP_TL_V_GZIP || (v->kind == MTP_TL_V_VECTOR && v->len > 0 &&
                                        (v->u.items[0].kind == MTP_TL_V_OBJECT || v->u.items[0].kind == MTP_TL_V_GZIP));
}

static void value(struct text *t, const struct mtp_tl_value *v, unsigned level, bool top);

static void fields(struct text *t, const struct mtp_tl_object *o, unsigned level)
{
    const struct mtp_tl_combinator *c = o->ctor;
    bool first = c->name == NULL;
    for (unsigned i = 0; i < c->nargs; i++) {
        const struct mtp_tl_arg *a = &c->args[i];
        if (!mtp_tl_obj_has(o, i))
            continue;
        const struct mtp_tl_value *f = mtp_tl_obj_field(o, i);
        if (t->o->multiline)
            indent(t, level + 1);
        else if (!first)
            put(t, " ", 1);
        first = false;
        if (a->name) {
            puts_(t, a->name);
            put(t, ":", 1);
        }
        if (f == NULL)
            puts_(t, "true");
        else if (a->is_flags)
            putf(t, "0x%x", f->u.nat);
        else
            value(t, f, level + 1, false);
    }
}

static void value(struct text *t, const struct mtp_tl_value *v, unsigned level, bool top)
{
    switch (v->kind) {
    case MTP_TL_V_INT:
        putf(t, "%d", v->u.i);
        return;
    case MTP_TL_V_NAT:
        putf(t, "%u", v->u.nat);
        return;
    case MTP_TL_V_LONG:
        putf(t, "%lld", (long long)v->u.l);
        return;
    case MTP_TL_V_DOUBLE:
        putf(t, "%.17g", v->u.d);
        return;
    case MTP_TL_V_INT128:
        hex(t, v->u.p, 16);
        return;
    case MTP_TL_V_INT256:
        hex(t, v->u.p, 32);
        return;
    case MTP_TL_V_BYTES:
        hex(t, v->u.p, v->len);
        return;
    case MTP_TL_V_STRING:
        if (mtp_tl_utf8_valid(v->u.p, v->len))
            quoted(t, v->u.p, v->len);
        else
            hex(t, v->u.p, v->len);
        return;
    case MTP_TL_V_BOOL:
        puts_(t, v->u.b ? "true" : "false");
        return;
    case MTP_TL_V_TRUE:
        puts_(t, "true");
        return;
    case MTP_TL_V_VECTOR: {
        put(t, "[", 1);
        bool lines = t->o->multiline && is_complex(v);
        for (uint32_t i = 0; i < v->len; i++) {
            if (lines)
                indent(t, level + 1);
            else if (i)
                put(t, ", ", 2);
            value(t, &v->u.items[i], level + 1, false);
        }
        if (lines)
            indent(t, level);
        put(t, "]", 1);
        return;
    }
    case MTP_TL_V_OBJECT: {
        const struct mtp_tl_object *o = v->u.obj;
        bool wrap = !top && is_complex(v);
        if (o->ctor->name == NULL)
            put(t, "{", 1);
        else if (wrap)
            put(t, "(", 1);
        if (o->ctor->name)
            puts_(t, o->ctor->name);
        fields(t, o, level);
        if (o->ctor->name == NULL)
            put(t, "}", 1);
        else if (wrap)
            put(t, ")", 1);
        return;
    }
    case MTP_TL_V_GZIP: {
        const struct mtp_tl_gzip *gz = v->u.gz;
        if (!top)
            put(t, "(", 1);
        puts_(t, "gzip_packed");
        if (t->o->multiline)
            indent(t, level + 1);
        else
            put(t, " ", 1);
        if (gz->packed)
            putf(t, "packed_data:<%u bytes>", gz->packed_len);
        else
            puts_(t, "packed_data:<not packed yet>");
        if (t->o->multiline)
            indent(t, level + 1);
        else
            put(t, " ", 1);
        puts_(t, "unpacked:");
        value(t, &gz->inner, level + 1, false);
        if (!top)
            put(t, ")", 1);
        return;
    }
    default:
        puts_(t, "?");
        return;
    }
}

int mtp_tl_text(const struct mtp_tl_value *v, const struct mtp_tl_text_opts *opts, struct mtp_wr *w)
{
    static const struct mtp_tl_text_opts defaults = {0};
    struct text t = {w, opts ? opts : &defaults};
    value(&t, v, 0, true);
    return mtp_wr_status(w);
}
