/* TL values as compact JSON text without a jansson tree (tl_json.h): the
 * mapping of mtp_tl_json_from_value, the formatting of jansson's json_dumps
 * with JSON_COMPACT | JSON_ENSURE_ASCII (tests compare the two). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tlengine/tl_json.h"

static const char hexdig[] = "0123456789abcdef";
static const char HEXDIG[] = "0123456789ABCDEF";

static int lit(struct mtp_wr *w, const char *s) { return mtp_wr_raw(w, s, strlen(s)); }

/* Decimal digits of v at the end of buf[0..24); returns where they start. */
static char *digits(char buf[24], long long v)
{
    char *p = buf + 24;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return p;
}

static bool ascii(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 0x80)
            return false;
    return true;
}

static int hex_string(struct mtp_wr *w, const uint8_t *p, size_t n)
{
    uint8_t *o;
    MTP_GUARD(mtp_wr_reserve(w, 2 * n + 2, &o));
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        *o++ = (uint8_t)hexdig[p[i] >> 4];
        *o++ = (uint8_t)hexdig[p[i] & 15];
    }
    *o = '"';
    return MTP_OK;
}

static int u_escape(struct mtp_wr *w, uint32_t cp)
{
    char e[6] = {'\\', 'u', HEXDIG[(cp >> 12) & 15], HEXDIG[(cp >> 8) & 15], HEXDIG[(cp >> 4) & 15], HEXDIG[cp & 15]};
    return mtp_wr_raw(w, e, sizeof e);
}

/* Bytes written as they are: printable ASCII but the quote and the backslash. */
static const uint8_t as_is[256] = {
    ['\x20'] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20..0x2f, 0x22 is the quote */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,               /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,               /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,               /* 0x50, 0x5c is the backslash */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,               /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,               /* 0x70, DEL included as jansson does */
};

int mtp_json_write_string(struct mtp_wr *w, const uint8_t *p, size_t n)
{
    /* the common case, printable ASCII: one write */
    size_t plain = 0;
    while (plain < n && as_is[p[plain]])
        plain++;
    if (plain == n) {
        uint8_t *o;
        MTP_GUARD(mtp_wr_reserve(w, n + 2, &o));
        o[0] = '"';
        memcpy(o + 1, p, n);
        o[n + 1] = '"';
        return MTP_OK;
    }
    MTP_GUARD(mtp_wr_u8(w, '"'));
    size_t run = 0; /* plain bytes not written yet */
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (as_is[c]) {
            run++;
            i++;
            continue;
        }
        MTP_GUARD(mtp_wr_raw(w, p + i - run, run));
        run = 0;
        if (c < 0x80) {
            const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                          : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            MTP_GUARD(e ? lit(w, e) : u_escape(w, c));
            i++;
            continue;
        }
        /* valid UTF-8 (the caller's promise): decode the code point */
        uint32_t cp;
        size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (i + k > n)
            return MTP_ERR_ARG;
        cp = c & (k == 4 ? 0x07 : k == 3 ? 0x0f : 0x1f);
        for (size_t j = 1; j < k; j++)
            cp = cp << 6 | (p[i + j] & 0x3f);
        i += k;
        if (cp < 0x10000) {
            MTP_GUARD(u_escape(w, cp));
        } else {
            cp -= 0x10000;
            MTP_GUARD(u_escape(w, 0xd800 | (cp >> 10)));
            MTP_GUARD(u_escape(w, 0xdc00 | (cp & 0x3ff)));
        }
    }
    MTP_GUARD(mtp_wr_raw(w, p + n - run, run));
    return mtp_wr_u8(w, '"');
}

/* Field names are identifiers of the schema: ASCII without anything to escape. */
static int key(struct mtp_wr *w, const char *k, bool *first)
{
    size_t n = strlen(k);
    uint8_t *o;
    MTP_GUARD(mtp_wr_reserve(w, n + 4, &o));
    if (*first) {
        w->len--;
    } else {
        *o++ = ',';
    }
    *first = false;
    *o++ = '"';
    memcpy(o, k, n);
    o[n] = '"';
    o[n + 1] = ':';
    return MTP_OK;
}

static int integer(struct mtp_wr *w, long long v)
{
    char buf[24];
    char *p = digits(buf, v);
    return mtp_wr_raw(w, p, (size_t)(buf + 24 - p));
}

/* As jansson prints reals: %.17g, ".0" when that looks like an integer, no '+' or leading zeros in exponents. */
static int real(struct mtp_wr *w, double d)
{
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.17g", d);
    if (n < 0 || (size_t)n >= sizeof buf - 3)
        return MTP_ERR_INTERNAL;
    if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    char *e = strchr(buf, 'e');
    if (e) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(buf + n - end) + 1);
            n -= (int)(end - start);
        }
    }
    return mtp_wr_raw(w, buf, (size_t)n);
}

/* The bits of flags argument i (value nat) that the object's present
 * conditional fields account for: a `true` flag by its own bit, any other
 * field by being there.  One pass over the fields (they are in argument order). */
static uint32_t implied_flags(const struct mtp_tl_object *o, unsigned i, uint32_t nat)
{
    const struct mtp_tl_combinator *c = o->ctor;
    uint32_t bits = 0;
    for (unsigned k = i + 1; k < c->nargs; k++)
        if (c->args[k].cond_arg == (int)i && c->args[k].type->kind == MTP_TL_TRUE)
            bits |= nat & (1u << c->args[k].cond_bit);
    for (uint32_t f = 0; f < o->nfields; f++) {
        unsigned k = o->fields[f].arg;
        if (k > i && c->args[k].cond_arg == (int)i)
            bits |= 1u << c->args[k].cond_bit;
    }
    return bits;
}

int mtp_tl_json_write(const struct mtp_tl_value *v, struct mtp_wr *w)
{
    switch (v->kind) {
    case MTP_TL_V_INT:
        return integer(w, v->u.i);
    case MTP_TL_V_NAT:
        return integer(w, (long long)v->u.nat);
    case MTP_TL_V_LONG: {
        char buf[25];
        char *p = digits(buf, v->u.l);
        *--p = '"';
        buf[24] = '"';
        return mtp_wr_raw(w, p, (size_t)(buf + 25 - p));
    }
    case MTP_TL_V_DOUBLE:
        if (isnan(v->u.d))
            return lit(w, "\"NaN\"");
        if (isinf(v->u.d))
            return lit(w, v->u.d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return real(w, v->u.d);
    case MTP_TL_V_INT128:
        return hex_string(w, v->u.p, 16);
    case MTP_TL_V_INT256:
        return hex_string(w, v->u.p, 32);
    case MTP_TL_V_BYTES:
        return hex_string(w, v->u.p, v->len);
    case MTP_TL_V_STRING:
        if (ascii(v->u.p, v->len) || mtp_tl_utf8_valid(v->u.p, v->len))
            return mtp_json_write_string(w, v->u.p, v->len);
        MTP_GUARD(lit(w, "{\"bytes\":"));
        MTP_GUARD(hex_string(w, v->u.p, v->len));
        return mtp_wr_u8(w, '}');
    case MTP_TL_V_BOOL:
        return lit(w, v->u.b ? "true" : "false");
    case MTP_TL_V_TRUE:
        return lit(w, "true");
    case MTP_TL_V_VECTOR:
        MTP_GUARD(mtp_wr_u8(w, '['));
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                MTP_GUARD(mtp_wr_u8(w, ','));
            MTP_GUARD(mtp_tl_json_write(&v->u.items[i], w));
        }
        return mtp_wr_u8(w, ']');
    case MTP_TL_V_OBJECT: {
        const struct mtp_tl_object *o = v->u.obj;
        const struct mtp_tl_combinator *c = o->ctor;
        bool first = true;
        MTP_GUARD(mtp_wr_u8(w, '{'));
        if (c->name) {
            char qualified[256];
            const char *name = c->name;
            if (c->shadowed) {
                snprintf(qualified, sizeof qualified, "%s#%08x", c->name, c->id);
                name = qualified;
            }
            MTP_GUARD(key(w, "_", &first));
            MTP_GUARD(mtp_json_write_string(w, (const uint8_t *)name, strlen(name)));
        }
        uint32_t next = 0; /* the fields are in argument order: walk them along */
        for (unsigned i = 0; i < c->nargs; i++) {
            const struct mtp_tl_value *f = NULL;
            if (next < o->nfields && o->fields[next].arg == i)
                f = &o->fields[next++];
            else if (c->args[i].type->kind != MTP_TL_TRUE || !mtp_tl_obj_has(o, i))
                continue;
            if (c->args[i].is_flags && f && f->kind == MTP_TL_V_NAT && f->u.nat == implied_flags(o, i, f->u.nat))
                continue;
            char anon[16];
            const char *name = c->args[i].name;
            if (name == NULL) {
                snprintf(anon, sizeof anon, "_%u", i + 1);
                name = anon;
            }
            MTP_GUARD(key(w, name, &first));
            MTP_GUARD(f ? mtp_tl_json_write(f, w) : lit(w, "true"));
        }
        return mtp_wr_u8(w, '}');
    }
    case MTP_TL_V_GZIP: {
        const struct mtp_tl_gzip *gz = v->u.gz;
        MTP_GUARD(lit(w, "{\"_\":\"gzip_packed\""));
        if (gz->packed) {
            MTP_GUARD(lit(w, ",\"packed_data\":"));
            MTP_GUARD(hex_string(w, gz->packed, gz->packed_len));
        }
        MTP_GUARD(lit(w, ",\"unpacked\":"));
        MTP_GUARD(mtp_tl_json_write(&gz->inner, w));
        return mtp_wr_u8(w, '}');
    }
    default:
        return lit(w, "null");
    }
}
