/* Schema-driven TL decoder and encoder (core.telegram.org/mtproto/serialize,
 * /mtproto/TL-combinators, /mtproto/service_messages).
 *
 * The decoder walks the combinator arguments and builds a value tree in an
 * arena.  Object fields are collected on a scratch stack and copied into an
 * exactly sized block when the object is complete, so absent fields cost
 * nothing.  Errors record the innermost cause once; each level adds its path
 * segment while the error unwinds, so the success path pays nothing for
 * "msg_container.messages[3].body" style messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mtp/tl_prim.h"
#include "mtp/tl_value.h"
#include "tl/mtp_tl_schema_internal.h"

#define PATH_MAX_SEGS 48
#define DEFAULT_MAX_ELEMS (1u << 16)
#define ID_RPC_ERROR 0x2144ca19u

struct binding {
    const struct mtp_tl_tref *t;
    const struct env *env;
};

struct env {
    const struct binding *types; /* per parameter; t NULL when unbound */
    const uint32_t *nats;        /* per parameter */
};

enum seg_kind { SEG_FIELD, SEG_INDEX, SEG_UNPACKED };

struct seg {
    uint8_t kind;
    uint32_t index;
    const char *name;
};

/* Failure state shared by the decoder and the encoder. */
struct failure {
    int code;
    size_t offset;
    char msg[MTP_ERROR_MSG_MAX];
    struct seg path[PATH_MAX_SEGS];
    unsigned npath;
    bool truncated;
};

struct dec {
    const struct mtp_tl_schema *s;
    const struct mtp_tl_idmap *ids;
    const struct mtp_tl_decode_opts *o;
    struct mtp_tl_arena *a;
    struct mtp_tl_value *stack;
    size_t top, cap;
    bool stack_on_heap;
    size_t gzip_left;
    size_t max_elems;
    uint32_t max_depth;
    unsigned gz_level;  /* > 0 while decoding inflated data */
    unsigned speculating;
    struct failure f;
};

static int record(struct failure *f, int code, size_t offset, const char *fmt, va_list ap) MTP_PRINTF(4, 0);
static int record(struct failure *f, int code, size_t offset, const char *fmt, va_list ap)
{
    if (f->code != MTP_OK)
        return code;
    f->code = code;
    f->offset = offset;
    vsnprintf(f->msg, sizeof f->msg, fmt, ap);
    return code;
}

static int dfail(struct dec *d, const struct mtp_rd *r, int code, const char *fmt, ...) MTP_PRINTF(4, 5);
static int dfail(struct dec *d, const struct mtp_rd *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(&d->f, code, mtp_rd_offset(r), fmt, ap);
    va_end(ap);
    return code;
}

static int seg_add(struct failure *f, enum seg_kind kind, const char *name, uint32_t index, int rc)
{
    if (rc >= 0)
        return rc;
    if (f->npath < PATH_MAX_SEGS)
        f->path[f->npath++] = (struct seg){.kind = (uint8_t)kind, .index = index, .name = name};
    else
        f->truncated = true;
    return rc;
}

static int seg_field(struct failure *f, const struct mtp_tl_combinator *c, unsigned arg, int rc)
{
    const char *name = arg < c->nargs ? c->args[arg].name : NULL;
    return seg_add(f, SEG_FIELD, name, arg, rc);
}

static const char *kind_name(enum mtp_tl_kind k)
{
    static const char *const names[] = {
        [MTP_TL_INT] = "int",         [MTP_TL_NAT] = "#",          [MTP_TL_LONG] = "long",
        [MTP_TL_DOUBLE] = "double",   [MTP_TL_INT128] = "int128",  [MTP_TL_INT256] = "int256",
        [MTP_TL_BYTES] = "bytes",     [MTP_TL_STRING] = "string",  [MTP_TL_BOOL] = "Bool",
        [MTP_TL_TRUE] = "true",       [MTP_TL_VECTOR] = "Vector",  [MTP_TL_BARE_VECTOR] = "vector",
        [MTP_TL_BOXED] = "boxed type", [MTP_TL_BARE] = "bare type", [MTP_TL_OBJECT] = "Object",
        [MTP_TL_VAR] = "type variable", [MTP_TL_ARRAY] = "repetition", [MTP_TL_NATCONST] = "number",
    };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static const char *tref_name(const struct mtp_tl_tref *t)
{
    if (t == NULL)
        return "Object";
    if (t->kind == MTP_TL_BOXED)
        return t->type->name;
    if (t->kind == MTP_TL_BARE)
        return t->ctor->name ? t->ctor->name : "record";
    return kind_name((enum mtp_tl_kind)t->kind);
}

/* Writes "root.a.b[3].c: message" into err. */
static void finish_error(const struct failure *f, const char *root, size_t offset, struct mtp_error *err)
{
    char path[160];
    size_t n = (size_t)snprintf(path, sizeof path, "%s", root);
    if (f->truncated && n < sizeof path)
        n += (size_t)snprintf(path + n, sizeof path - n, "...");
    for (unsigned i = f->npath; i-- > 0 && n < sizeof path;) {
        const struct seg *sg = &f->path[i];
        if (sg->kind == SEG_INDEX)
            n += (size_t)snprintf(path + n, sizeof path - n, "[%u]", sg->index);
        else if (sg->kind == SEG_UNPACKED)
            n += (size_t)snprintf(path + n, sizeof path - n, ".unpacked");
        else if (sg->name)
            n += (size_t)snprintf(path + n, sizeof path - n, ".%s", sg->name);
        else
            n += (size_t)snprintf(path + n, sizeof path - n, "._%u", sg->index);
    }
    mtp_error_set(err, f->code, offset, "%s: %s", path, f->msg);
}

/* ------------------------------------------------------------------ */
/* decoder: primitives                                                  */

static const char *where(const struct dec *d) { return d->gz_level ? " of the inflated data" : ""; }

static int short_input(struct dec *d, const struct mtp_rd *r, size_t need, const char *what)
{
    return dfail(d, r, MTP_ERR_TL_SHORT, "expected %s (%zu bytes) at offset %zu%s, only %zu left", what, need,
                 mtp_rd_offset(r), where(d), mtp_rd_left(r));
}

static inline int rd_u32(struct dec *d, struct mtp_rd *r, uint32_t *v, const char *what)
{
    if (mtp_rd_u32(r, v, what) == MTP_OK)
        return MTP_OK;
    return short_input(d, r, 4, what);
}

static inline int rd_u64(struct dec *d, struct mtp_rd *r, uint64_t *v, const char *what)
{
    if (mtp_rd_u64(r, v, what) == MTP_OK)
        return MTP_OK;
    return short_input(d, r, 8, what);
}

static int rd_raw(struct dec *d, struct mtp_rd *r, size_t n, const uint8_t **p, const char *what)
{
    if (mtp_rd_raw(r, n, p, what) == MTP_OK)
        return MTP_OK;
    return short_input(d, r, n, what);
}

/* bytes/string, keeping the length form and padding for an exact re-encoding. */
static int dfail_at(struct dec *d, size_t offset, int code, const char *fmt, ...) MTP_PRINTF(4, 5);
static int dfail_at(struct dec *d, size_t offset, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(&d->f, code, offset, fmt, ap);
    va_end(ap);
    return code;
}

static int rd_bytes(struct dec *d, struct mtp_rd *r, struct mtp_tl_value *v, const char *what)
{
    size_t at = mtp_rd_offset(r);
    uint8_t first;
    if (mtp_rd_u8(r, &first, what) != MTP_OK)
        return short_input(d, r, 1, what);
    size_t n = first, head = 1;
    if (first >= 0xfe) {
        if (first == 0xff)
            return dfail_at(d, at, MTP_ERR_TL_BAD_LENGTH, "%s: 0xff is not a length prefix (offset %zu%s)", what, at,
                            where(d));
        uint32_t n24;
        if (mtp_rd_u24(r, &n24, what) != MTP_OK)
            return dfail_at(d, at, MTP_ERR_TL_SHORT, "expected %s (4-byte length) at offset %zu%s, only %zu left", what,
                            at, where(d), mtp_rd_left(r) + 1);
        n = n24;
        head = 4;
        if (n < 254) {
            if (d->o->strict)
                return dfail_at(d, at, MTP_ERR_TL_NON_CANONICAL,
                                "%s: length %zu in the 4-byte form (offset %zu%s), canonical is one byte", what, n, at,
                                where(d));
            v->flags |= MTP_TL_VF_LONG_LEN;
        }
    }
    size_t pad = (4 - ((head + n) & 3)) & 3;
    if (n + pad > mtp_rd_left(r))
        return dfail_at(d, at, MTP_ERR_TL_SHORT, "%s: length %zu (+%zu padding) at offset %zu%s exceeds the %zu bytes left",
                        what, n, pad, at, where(d), mtp_rd_left(r));
    if (mtp_rd_raw(r, n, &v->u.p, what) != MTP_OK)
        return short_input(d, r, n, what);
    v->len = (uint32_t)n;
    if (pad) {
        uint8_t pb[3] = {0, 0, 0};
        if (mtp_rd_copy(r, pb, pad, what) != MTP_OK)
            return short_input(d, r, pad, what);
        if (pb[0] | pb[1] | pb[2]) {
            if (d->o->strict)
                return dfail(d, r, MTP_ERR_TL_BAD_PADDING,
                             "%s: non-zero padding %02x%02x%02x after %zu bytes at offset %zu%s", what, pb[0], pb[1],
                             pb[2], n, mtp_rd_offset(r) - pad, where(d));
            memcpy(v->pad, pb, sizeof pb);
            v->flags |= MTP_TL_VF_PAD;
        }
    }
    return MTP_OK;
}

/* The fewest bytes a value of type t can take (0 when unknown), for count checks. */
static size_t min_size(const struct mtp_tl_tref *t, unsigned depth)
{
    switch (t->kind) {
    case MTP_TL_INT:
    case MTP_TL_NAT:
    case MTP_TL_BYTES:
    case MTP_TL_STRING:
    case MTP_TL_BOOL:
    case MTP_TL_BOXED:
    case MTP_TL_OBJECT:
    case MTP_TL_BARE_VECTOR:
        return 4;
    case MTP_TL_LONG:
    case MTP_TL_DOUBLE:
    case MTP_TL_VECTOR:
        return 8;
    case MTP_TL_INT128:
        return 16;
    case MTP_TL_INT256:
        return 32;
    case MTP_TL_BARE: {
        if (depth > 8)
            return 0;
        size_t sum = 0;
        for (unsigned i = 0; i < t->ctor->nargs; i++)
            if (t->ctor->args[i].cond_arg < 0)
                sum += min_size(t->ctor->args[i].type, depth + 1);
        return sum;
    }
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ */
/* decoder: structure                                                   */

static int dec_value(struct dec *d, struct mtp_rd *r, const struct mtp_tl_tref *t, const struct env *env,
                     const uint32_t *nat, unsigned depth, struct mtp_tl_value *out);
static int dec_boxed(struct dec *d, struct mtp_rd *r, const struct mtp_tl_tref *t, const struct env *env,
                     unsigned depth, struct mtp_tl_value *out);
static int dec_fields(struct dec *d, struct mtp_rd *r, const struct mtp_tl_combinator *c, const struct env *env,
                      unsigned depth, struct mtp_tl_object **out);

static int nomem(struct dec *d, const struct mtp_rd *r)
{
    if (d->a->over)
        return dfail(d, r, MTP_ERR_TL_LIMIT, "decoded tree exceeds the memory budget of %zu bytes (offset %zu%s)",
                     d->a->limit, mtp_rd_offset(r), where(d));
    return dfail(d, r, MTP_ERR_NOMEM, "out of memory at offset %zu", mtp_rd_offset(r));
}

static int count_check(struct dec *d, const struct mtp_rd *r, uint32_t count, const struct mtp_tl_tref *elem,
                       const char *what)
{
    size_t min = min_size(elem, 0);
    if (min > 0) {
        if (count > mtp_rd_left(r) / min)
            return dfail(d, r, MTP_ERR_TL_BAD_COUNT,
                         "%s count %u needs at least %zu bytes, only %zu left at offset %zu%s", what, count,
                         (size_t)count * min, mtp_rd_left(r), mtp_rd_offset(r), where(d));
    } else if (count > d->max_elems) {
        return dfail(d, r, MTP_ERR_TL_LIMIT, "%s count %u of elements without bytes is over the limit of %zu", what,
                     count, d->max_elems);
    }
    return MTP_OK;
}

static int dec_items(struct dec *d, struct mtp_rd *r, const struct mtp_tl_tref *elem, const struct env *env,
                     const uint32_t *nat, uint32_t count, unsigned depth, struct mtp_tl_value *out)
{
    struct mtp_tl_value *items = NULL;
    if (count) {
        items = mtp_tl_arena_alloc(d->a, (size_t)count * sizeof *items);
        if (items == NULL)
            return nomem(d, r);
    }
    uint32_t i = 0;
    int rc = MTP_OK;
    /* Vectors of ints and longs (acks, ids) skip the general dispatch. */
    if (elem->kind == MTP_TL_LONG) {
        for (; i < count && rc == MTP_OK; i++) {
            uint64_t l;
            items[i].offset = (uint32_t)mtp_rd_offset(r);
            rc = rd_u64(d, r, &l, "long");
            items[i].kind = MTP_TL_V_LONG;
            items[i].flags = 0;
            items[i].arg = 0;
            items[i].u.l = (int64_t)l;
        }
    } else if (elem->kind == MTP_TL_INT) {
        for (; i < count && rc == MTP_OK; i++) {
            items[i].offset = (uint32_t)mtp_rd_offset(r);
            rc = rd_u32(d, r, &items[i].u.nat, "int");
            items[i].kind = MTP_TL_V_INT;
            items[i].flags = 0;
            items[i].arg = 0;
        }
    } else if (elem->kind == MTP_TL_BOXED && depth < d->max_depth) {
        for (; i < count && rc == MTP_OK; i++) {
            items[i].offset = (uint32_t)mtp_rd_offset(r);
            items[i].flags = 0;
            items[i].arg = 0;
            rc = dec_boxed(d, r, elem, env, depth + 1, &items[i]);
        }
    } else {
        for (; i < count && rc == MTP_OK; i++) {
            items[i].flags = 0;
            items[i].arg = 0;
            rc = dec_value(d, r, elem, env, nat, depth, &items[i]);
        }
    }
    if (rc < 0)
        return seg_add(&d->f, SEG_INDEX, NULL, i - 1, rc);
    out->kind = MTP_TL_V_VECTOR;
    out->len = count;
    out->u.items = items;
    return MTP_OK;
}

static int dec_vector_body(struct dec *d, struct mtp_rd *r, const struct mtp_tl_tref *elem, const struct env *env,
                           unsigned depth, struct mtp_tl_value *out)
{
    uint32_t count;
    MTP_GUARD(rd_u32(d, r, &count, "vector count"));
    if (count > INT32_MAX)
        return dfail(d, r, MTP_ERR_TL_BAD_COUNT, "negative vector count %d at offset %zu%s", (int32_t)count,
                     mtp_rd_offset(r) - 4, where(d));
    MTP_GUARD(count_check(d, r, count, elem, "vector"));
    return dec_items(d, r, elem, env, NULL, count, depth, out);
}

/* gzip_packed: inflate with a hard limit, then decode the inner value as t. */
static int inflate_limited(struct dec *d, const struct mtp_rd *at, const uint8_t *in, size_t in_len, uint8_t **out,
                           size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return dfail(d, at, MTP_ERR_NOMEM, "gzip_packed: cannot start zlib");
    size_t limit = d->gzip_left;
    size_t cap = in_len * 4 < 4096 ? 4096 : in_len * 4;
    if (cap > limit)
        cap = limit;
    uint8_t *buf = malloc(cap ? cap : 1);
    int rc = MTP_OK, z = Z_OK;
    size_t n = 0;
    if (buf == NULL) {
        rc = dfail(d, at, MTP_ERR_NOMEM, "gzip_packed: out of memory");
        goto done;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)in_len;
    for (;;) {
        if (n == cap) {
            if (cap >= limit) {
                /* Full at the limit: one more byte of output means the limit is hit. */
                uint8_t probe;
                zs.next_out = &probe;
                zs.avail_out = 1;
                z = inflate(&zs, Z_NO_FLUSH);
                if (zs.avail_out == 0) {
                    rc = dfail(d, at, MTP_ERR_TL_GZIP_LIMIT,
                               "gzip_packed: packed_data inflates beyond the limit of %zu bytes", limit);
                    goto done;
                }
                break;
            }
            size_t ncap = cap * 2 > limit ? limit : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (nb == NULL) {
                rc = dfail(d, at, MTP_ERR_NOMEM, "gzip_packed: out of memory");
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t room = cap - n;
        if (room > 0x40000000u)
            room = 0x40000000u;
        zs.next_out = buf + n;
        zs.avail_out = (uInt)room;
        z = inflate(&zs, Z_NO_FLUSH);
        n += room - zs.avail_out;
        if (z == Z_STREAM_END)
            break;
        if (z != Z_OK) {
            if (z == Z_BUF_ERROR && zs.avail_in == 0)
                rc = dfail(d, at, MTP_ERR_TL_GZIP, "gzip_packed: packed_data ends before the gzip stream does");
            else
                rc = dfail(d, at, MTP_ERR_TL_GZIP, "gzip_packed: packed_data does not inflate (%s)",
                           zs.msg ? zs.msg : "zlib error");
            goto done;
        }
    }
    if (z != Z_STREAM_END) {
        rc = dfail(d, at, MTP_ERR_TL_GZIP, "gzip_packed: packed_data ends before the gzip stream does");
        goto done;
    }
    if (zs.avail_in != 0) {
        rc = dfail(d, at, MTP_ERR_TL_GZIP, "gzip_packed: %u bytes after the end of the gzip stream", zs.avail_in);
        goto done;
    }
done:
    inflateEnd(&zs);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = n;
    return MTP_OK;
}

static int dec_gzip(struct dec *d, struct mtp_rd *r, const struct mtp_rd *at, const struct mtp_tl_tref *t,
                    const struct env *env, unsigned depth, struct mtp_tl_value *out)
{
    struct mtp_tl_value packed = {0};
    if (t == NULL)
        t = mtp_tl_builtin(MTP_TL_OBJECT);
    int rc = rd_bytes(d, r, &packed, "gzip_packed.packed_data");
    if (rc < 0)
        return rc;
    struct mtp_tl_gzip *gz = mtp_tl_arena_alloc(d->a, sizeof *gz);
    if (gz == NULL)
        return nomem(d, at);
    uint8_t *data = NULL;
    size_t n = 0;
    MTP_GUARD(inflate_limited(d, at, packed.u.p, packed.len, &data, &n));
    if (n > UINT32_MAX) {
        free(data);
        return dfail(d, at, MTP_ERR_TL_GZIP_LIMIT, "gzip_packed: inflated size over 4 GiB");
    }
    d->gzip_left -= n;
    /* The tree built from the inflated bytes is allowed in proportion to them. */
    if (d->a->limit) {
        size_t extra = mtp_tl_decode_budget(n);
        d->a->limit = d->a->limit > SIZE_MAX - extra - n ? SIZE_MAX : d->a->limit + extra + n;
    }
    if (!mtp_tl_arena_adopt(d->a, data, n ? n : 1))
        return nomem(d, at);
    gz->packed = packed.u.p;
    gz->packed_len = packed.len;
    gz->data = data;
    gz->data_len = (uint32_t)n;
    memset(&gz->inner, 0, sizeof gz->inner);
    struct mtp_rd in;
    mtp_rd_init(&in, data, n, NULL);
    d->gz_level++;
    rc = dec_value(d, &in, t, env, NULL, depth + 1, &gz->inner);
    if (rc == MTP_OK && mtp_rd_left(&in) != 0)
        rc = dfail(d, &in, MTP_ERR_TL_GZIP, "%zu bytes left after the packed object at offset %zu of the inflated data",
                   mtp_rd_left(&in), mtp_rd_offset(&in));
    d->gz_level--;
    if (rc < 0) {
        if (d->gz_level == 0 && !d->speculating)
            d->f.offset = mtp_rd_offset(at);
        return seg_add(&d->f, SEG_UNPACKED, NULL, 0, rc);
    }
    out->kind = MTP_TL_V_GZIP;
    out->flags = packed.flags;
    memcpy(out->pad, packed.pad, sizeof out->pad);
    out->len = 0;
    out->u.gz = gz;
    return MTP_OK;
}

/* A vector where any object may stand: the element type is not written, so
 * try boxed objects, then longs, then ints (by the bytes left). */
static int dec_vector_guess(struct dec *d, struct mtp_rd *r, unsigned depth, struct mtp_tl_value *out)
{
    uint32_t count;
    MTP_GUARD(rd_u32(d, r, &count, "vector count"));
    if (count > INT32_MAX)
        return dfail(d, r, MTP_ERR_TL_BAD_COUNT, "negative vector count %d at offset %zu%s", (int32_t)count,
                     mtp_rd_offset(r) - 4, where(d));
    out->flags |= MTP_TL_VF_GUESSED;
    const struct mtp_tl_tref *object = mtp_tl_builtin(MTP_TL_OBJECT);
    if (count <= mtp_rd_left(r) / 4) {
        struct mtp_rd save = *r;
        struct failure keep = d->f;
        size_t top = d->top;
        d->speculating++;
        int rc = dec_items(d, r, object, NULL, NULL, count, depth, out);
        d->speculating--;
        if (rc == MTP_OK)
            return MTP_OK;
        if (rc == MTP_ERR_NOMEM || rc == MTP_ERR_TL_LIMIT || rc == MTP_ERR_TL_GZIP_LIMIT)
            return rc;
        *r = save;
        d->f = keep;
        d->top = top;
    }
    size_t left = mtp_rd_left(r);
    if ((uint64_t)count * 8 == left)
        return dec_items(d, r, mtp_tl_builtin(MTP_TL_LONG), NULL, NULL, count, depth, out);
    if ((uint64_t)count * 4 == left)
        return dec_items(d, r, mtp_tl_builtin(MTP_TL_INT), NULL, NULL, count, depth, out);
    return dfail(d, r, MTP_ERR_TL_TYPE,
                 "vector of %u elements of unknown type in %zu bytes at offset %zu%s: give the expected type", count,
                 left, mtp_rd_offset(r), where(d));
}

static int dec_ctor(struct dec *d, struct mtp_rd *r, const struct mtp_tl_combinator *c, const struct env *env,
                    unsigned depth, bool boxed, struct mtp_tl_value *out)
{
    struct mtp_tl_object *o = NULL;
    MTP_GUARD(dec_fields(d, r, c, env, depth, &o));
    out->kind = MTP_TL_V_OBJECT;
    out->flags |= boxed ? MTP_TL_VF_BOXED : 0;
    out->len = 0;
    out->u.obj = o;
    return MTP_OK;
}

/* Any boxed combinator (functions too: a message body may be a request). */
static int dec_any(struct dec *d, struct mtp_rd *r, unsigned depth, struct mtp_tl_value *out)
{
    struct mtp_rd at = *r;
    uint32_t id;
    MTP_GUARD(rd_u32(d, r, &id, "constructor id"));
    switch (id) {
    case MTP_TL_ID_GZIP_PACKED:
        return dec_gzip(d, r, &at, NULL, NULL, depth, out);
    case MTP_TL_ID_VECTOR:
        out->kind = MTP_TL_V_VECTOR;
        out->flags |= MTP_TL_VF_BOXED;
        return dec_vector_guess(d, r, depth, out);
    case MTP_TL_ID_BOOL_TRUE:
    case MTP_TL_ID_BOOL_FALSE:
        out->kind = MTP_TL_V_BOOL;
        out->flags |= MTP_TL_VF_BOXED;
        out->u.b = id == MTP_TL_ID_BOOL_TRUE;
        return MTP_OK;
    default:
        break;
    }
    const struct mtp_tl_combinator *c = mtp_tl_idmap_get(d->ids, id);
    if (c == NULL)
        return dfail(d, &at, MTP_ERR_TL_BAD_CTOR, "unknown constructor #%08x at offset %zu%s", id, mtp_rd_offset(&at),
                     where(d));
    return dec_ctor(d, r, c, NULL, depth, true, out);
}

static bool ctor_of(const struct mtp_tl_combinator *c, const struct mtp_tl_type *t)
{
    return c->type == t || (c->type && !c->is_function && strcmp(c->type->name, t->name) == 0);
}

static int dec_boxed(struct dec *d, struct mtp_rd *r, const struct mtp_tl_tref *t, const struct env *env,
                     unsigned depth, struct mtp_tl_value *out)
{
    struct mtp_rd at = *r;
    uint32_t id;
    MTP_GUARD(rd_u32(d, r, &id, "constructor id"));
    if (id == MTP_TL_ID_GZIP_PACKED)
        return dec_gzip(d, r, &at, t, env, depth, out);
    const struct mtp_tl_combinator *c = mtp_tl_idmap_get(d->ids, id);
    if (c == NULL)
        return dfail(d, &at, MTP_ERR_TL_BAD_CTOR, "expected a constructor of type %s, found unknown #%08x at offset %zu%s",
                     t->type->name, id, mtp_rd_offset(&at), where(d));
    if (!ctor_of(c, t->type))
        return dfail(d, &at, MTP_ERR_TL_TYPE, "expected a constructor of type %s, found %s#%08x%s%s at offset %zu%s",
                     t->type->name, c->name, id, c->is_function ? " (a function)" : " of type ",
                     c->is_function ? "" : c->type->name, mtp_rd_offset(&at), where(d));
    if (t->nargs == 0 || c->result_map == NULL)
        return dec_ctor(d, r, c, NULL, depth, true, out);
    /* Generic type: bind the constructor's parameters from the type arguments. */
    struct binding b[MTP_TL_MAX_PARAMS] = {{0}};
    uint32_t nats[MTP_TL_MAX_PARAMS] = {0};
    for (unsigned i = 0; i < t->nargs; i++) {
        int pi = c->result_map[i];
        if (pi < 0)
            continue;
        const struct mtp_tl_tref *ta = t->args[i];
        if (ta->kind == MTP_TL_NATCONST)
            nats[pi] = ta->nat;
        else if (ta->kind == MTP_TL_VAR && env && env->types[ta->var].t == NULL)
            nats[pi] = env->nats[ta->var];
        else
            b[pi] = (struct binding){ta, env};
    }
    struct env e = {b, nats};
    return dec_ctor(d, r, c, &e, depth, true, out);
}

static int dec_array(struct dec *d, struct mtp_rd *r, const struct mtp_tl_array *arr, const struct env *env,
                     const uint32_t *nat, unsigned depth, struct mtp_tl_value *out)
{
    uint32_t count;
    if (arr->mult_kind == MTP_TL_MULT_CONST)
        count = arr->mult;
    else if (arr->mult_kind == MTP_TL_MULT_ARG && nat)
        count = nat[arr->mult];
    else if (arr->mult_kind == MTP_TL_MULT_PARAM && env)
        count = env->nats[arr->mult];
    else
        return dfail(d, r, MTP_ERR_TL_TYPE, "repetition count is not known at offset %zu%s", mtp_rd_offset(r),
                     where(d));
    const struct mtp_tl_combinator *rec = arr->record;
    bool plain = rec->nargs == 1 && rec->args[0].name == NULL && rec->args[0].cond_arg < 0;
    if (plain) {
        MTP_GUARD(count_check(d, r, count, rec->args[0].type, "repetition"));
        MTP_GUARD(dec_items(d, r, rec->args[0].type, env, NULL, count, depth, out));
        return MTP_OK;
    }
    struct mtp_tl_tref bare = {.kind = MTP_TL_BARE, .ctor = rec};
    MTP_GUARD(count_check(d, r, count, &bare, "repetition"));
    struct mtp_tl_value *items = NULL;
    if (count) {
        items = mtp_tl_arena_alloc(d->a, (size_t)count * sizeof *items);
        if (items == NULL)
            return nomem(d, r);
    }
    for (uint32_t i = 0; i < count; i++) {
        memset(&items[i], 0, sizeof items[i]);
        items[i].offset = (uint32_t)mtp_rd_offset(r);
        int rc = dec_ctor(d, r, rec, env, depth, false, &items[i]);
        if (rc < 0)
            return seg_add(&d->f, SEG_INDEX, NULL, i, rc);
    }
    out->kind = MTP_TL_V_VECTOR;
    out->len = count;
    out->u.items = items;
    return MTP_OK;
}

static int dec_value(struct dec *d, struct mtp_rd *r, const struct mtp_tl_tref *t, const struct env *env,
                     const uint32_t *nat, unsigned depth, struct mtp_tl_value *out)
{
    out->offset = (uint32_t)mtp_rd_offset(r);
    out->flags = 0;
    switch (t->kind) {
    case MTP_TL_INT:
    case MTP_TL_NAT: {
        uint32_t v;
        MTP_GUARD(rd_u32(d, r, &v, t->kind == MTP_TL_INT ? "int" : "#"));
        out->kind = t->kind == MTP_TL_INT ? MTP_TL_V_INT : MTP_TL_V_NAT;
        out->u.nat = v;
        return MTP_OK;
    }
    case MTP_TL_LONG:
    case MTP_TL_DOUBLE: {
        uint64_t v;
        MTP_GUARD(rd_u64(d, r, &v, t->kind == MTP_TL_LONG ? "long" : "double"));
        if (t->kind == MTP_TL_LONG) {
            out->kind = MTP_TL_V_LONG;
            out->u.l = (int64_t)v;
        } else {
            out->kind = MTP_TL_V_DOUBLE;
            memcpy(&out->u.d, &v, sizeof v);
        }
        return MTP_OK;
    }
    case MTP_TL_INT128:
        out->kind = MTP_TL_V_INT128;
        return rd_raw(d, r, 16, &out->u.p, "int128");
    case MTP_TL_INT256:
        out->kind = MTP_TL_V_INT256;
        return rd_raw(d, r, 32, &out->u.p, "int256");
    case MTP_TL_BYTES:
    case MTP_TL_STRING:
        out->kind = t->kind == MTP_TL_BYTES ? MTP_TL_V_BYTES : MTP_TL_V_STRING;
        return rd_bytes(d, r, out, t->kind == MTP_TL_BYTES ? "bytes" : "string");
    case MTP_TL_BOOL: {
        uint32_t id;
        MTP_GUARD(rd_u32(d, r, &id, "Bool"));
        if (id != MTP_TL_ID_BOOL_TRUE && id != MTP_TL_ID_BOOL_FALSE)
            return dfail(d, r, MTP_ERR_TL_BAD_BOOL, "expected boolTrue or boolFalse, found #%08x at offset %zu%s", id,
                         mtp_rd_offset(r) - 4, where(d));
        out->kind = MTP_TL_V_BOOL;
        out->flags = MTP_TL_VF_BOXED;
        out->u.b = id == MTP_TL_ID_BOOL_TRUE;
        return MTP_OK;
    }
    case MTP_TL_TRUE:
        out->kind = MTP_TL_V_TRUE;
        out->u.b = true;
        return MTP_OK;
    default:
        break;
    }
    if (depth >= d->max_depth)
        return dfail(d, r, MTP_ERR_TL_TOO_DEEP, "nesting deeper than %u at offset %zu%s", d->max_depth,
                     mtp_rd_offset(r), where(d));
    depth++;
    switch (t->kind) {
    case MTP_TL_VECTOR: {
        struct mtp_rd at = *r;
        uint32_t id;
        MTP_GUARD(rd_u32(d, r, &id, "vector id"));
        if (id == MTP_TL_ID_GZIP_PACKED)
            return dec_gzip(d, r, &at, t, env, depth, out);
        if (id != MTP_TL_ID_VECTOR)
            return dfail(d, &at, MTP_ERR_TL_BAD_VECTOR, "expected vector#1cb5c415, found #%08x at offset %zu%s", id,
                         mtp_rd_offset(&at), where(d));
        MTP_GUARD(dec_vector_body(d, r, t->args[0], env, depth, out));
        out->flags |= MTP_TL_VF_BOXED;
        return MTP_OK;
    }
    case MTP_TL_BARE_VECTOR:
        return dec_vector_body(d, r, t->args[0], env, depth, out);
    case MTP_TL_BOXED:
        return dec_boxed(d, r, t, env, depth, out);
    case MTP_TL_BARE: {
        if (t->nargs == 0 || t->ctor->result_map == NULL)
            return dec_ctor(d, r, t->ctor, NULL, depth, false, out);
        struct binding b[MTP_TL_MAX_PARAMS] = {{0}};
        uint32_t nats[MTP_TL_MAX_PARAMS] = {0};
        for (unsigned i = 0; i < t->nargs; i++) {
            int pi = t->ctor->result_map[i];
            if (pi < 0)
                continue;
            if (t->args[i]->kind == MTP_TL_NATCONST)
                nats[pi] = t->args[i]->nat;
            else
                b[pi] = (struct binding){t->args[i], env};
        }
        struct env e = {b, nats};
        return dec_ctor(d, r, t->ctor, &e, depth, false, out);
    }
    case MTP_TL_VAR:
        if (env && env->types[t->var].t) {
            const struct binding *b = &env->types[t->var];
            return dec_value(d, r, b->t, b->env, NULL, depth - 1, out);
        }
        return dec_any(d, r, depth, out);
    case MTP_TL_OBJECT:
        return dec_any(d, r, depth, out);
    case MTP_TL_ARRAY:
        return dec_array(d, r, t->array, env, nat, depth, out);
    default:
        return dfail(d, r, MTP_ERR_TL_TYPE, "cannot decode a %s at offset %zu%s", kind_name((enum mtp_tl_kind)t->kind),
                     mtp_rd_offset(r), where(d));
    }
}

/* message msg_id:long seqno:int bytes:int body:Object: the body takes exactly `bytes` bytes. */
static int dec_message(struct dec *d, struct mtp_rd *r, unsigned depth, struct mtp_tl_value f[4])
{
    static const char *const names[] = {"msg_id", "seqno", "bytes"};
    for (unsigned i = 0; i < 3; i++) {
        f[i].offset = (uint32_t)mtp_rd_offset(r);
        f[i].flags = 0;
        f[i].arg = (uint16_t)i;
        int rc;
        if (i == 0) {
            uint64_t v;
            rc = rd_u64(d, r, &v, names[i]);
            f[i].kind = MTP_TL_V_LONG;
            f[i].u.l = (int64_t)v;
        } else {
            uint32_t v;
            rc = rd_u32(d, r, &v, names[i]);
            f[i].kind = MTP_TL_V_INT;
            f[i].u.i = (int32_t)v;
        }
        if (rc < 0)
            return seg_add(&d->f, SEG_FIELD, names[i], i, rc);
    }
    int32_t len = f[2].u.i;
    if (len < 0 || len % 4 != 0 || (size_t)len > mtp_rd_left(r)) {
        dfail(d, r, MTP_ERR_TL_CONTAINER,
              len < 0 || len % 4 ? "message length %d is not a non-negative multiple of 4 (offset %zu%s)"
                                 : "message length %d at offset %zu%s exceeds the %zu bytes left",
              len, mtp_rd_offset(r) - 4, where(d), mtp_rd_left(r));
        return seg_add(&d->f, SEG_FIELD, "bytes", 2, MTP_ERR_TL_CONTAINER);
    }
    struct mtp_rd body;
    if (mtp_rd_sub(r, (size_t)len, &body, "body") != MTP_OK)
        return short_input(d, r, (size_t)len, "message body");
    f[3].arg = 3;
    f[3].flags = 0;
    int rc = dec_value(d, &body, mtp_tl_builtin(MTP_TL_OBJECT), NULL, NULL, depth, &f[3]);
    if (rc == MTP_OK && mtp_rd_left(&body) != 0)
        rc = dfail(d, &body, MTP_ERR_TL_CONTAINER, "message body ends %zu bytes before its length %d (offset %zu%s)",
                   mtp_rd_left(&body), len, mtp_rd_offset(&body), where(d));
    f[3].arg = 3;
    if (rc < 0)
        return seg_add(&d->f, SEG_FIELD, "body", 3, rc);
    return MTP_OK;
}

/* rpc_result req_msg_id:long result:Object, the result typed by the request when the caller knows it. */
static int dec_rpc_result(struct dec *d, struct mtp_rd *r, unsigned depth, struct mtp_tl_value f[2])
{
    uint64_t id;
    f[0].offset = (uint32_t)mtp_rd_offset(r);
    f[0].flags = 0;
    f[0].arg = 0;
    int rc = rd_u64(d, r, &id, "req_msg_id");
    if (rc < 0)
        return seg_add(&d->f, SEG_FIELD, "req_msg_id", 0, rc);
    f[0].kind = MTP_TL_V_LONG;
    f[0].u.l = (int64_t)id;
    const struct mtp_tl_tref *t = NULL;
    if (d->o->result_fn)
        t = d->o->result_fn(d->o->result_ctx, (int64_t)id);
    else
        t = d->o->rpc_result_type;
    uint32_t next;
    /* An error answers any request. */
    if (t && mtp_rd_peek_u32(r, &next, "result") == MTP_OK && next == ID_RPC_ERROR)
        t = NULL;
    f[1].flags = 0;
    rc = dec_value(d, r, t ? t : mtp_tl_builtin(MTP_TL_OBJECT), NULL, NULL, depth, &f[1]);
    f[1].arg = 1;
    if (rc < 0)
        return seg_add(&d->f, SEG_FIELD, "result", 1, rc);
    return MTP_OK;
}

static uint32_t used_bits(const struct mtp_tl_combinator *c, unsigned flags_arg)
{
    uint32_t m = 0;
    for (unsigned i = flags_arg + 1; i < c->nargs; i++)
        if (c->args[i].cond_arg == (int)flags_arg)
            m |= 1u << c->args[i].cond_bit;
    return m;
}

static int grow_stack(struct dec *d, const struct mtp_rd *r, size_t need)
{
    size_t ncap = d->cap ? d->cap : 256;
    while (ncap - d->top < need)
        ncap *= 2;
    struct mtp_tl_value *ns = d->stack_on_heap ? realloc(d->stack, ncap * sizeof *ns) : malloc(ncap * sizeof *ns);
    if (ns == NULL)
        return dfail(d, r, MTP_ERR_NOMEM, "out of memory at offset %zu", mtp_rd_offset(r));
    if (!d->stack_on_heap && d->top)
        memcpy(ns, d->stack, d->top * sizeof *ns);
    d->stack = ns;
    d->cap = ncap;
    d->stack_on_heap = true;
    return MTP_OK;
}

static int flags_check(struct dec *d, const struct mtp_rd *r, const struct mtp_tl_combinator *c, unsigned arg,
                       uint32_t v)
{
    uint32_t extra = v & ~used_bits(c, arg);
    if (extra == 0)
        return MTP_OK;
    return dfail(d, r, MTP_ERR_TL_BAD_FLAGS, "flags 0x%08x set bits 0x%08x no field uses (offset %zu%s)", v, extra,
                 mtp_rd_offset(r) - 4, where(d));
}

/* One field.  Primitives are read in place; the rest go through dec_value
 * into a temporary, because decoding them may move the scratch stack. */
#define NOT_PRIMITIVE 1

static inline __attribute__((always_inline)) int dec_step(struct dec *d, struct mtp_rd *r, const struct mtp_tl_combinator *c,
                           const struct mtp_tl_step *st, uint32_t *nat, struct mtp_tl_value *v)
{
    int rc;
    v->offset = (uint32_t)mtp_rd_offset(r);
    v->flags = 0;
    v->arg = st->arg;
    switch (st->kind) {
    case MTP_TL_INT:
        v->kind = MTP_TL_V_INT;
        return rd_u32(d, r, &v->u.nat, "int");
    case MTP_TL_NAT:
        v->kind = MTP_TL_V_NAT;
        rc = rd_u32(d, r, &v->u.nat, "#");
        if (rc == MTP_OK && st->nat_slot >= 0) {
            nat[st->nat_slot] = v->u.nat;
            if (st->is_flags && d->o->strict)
                rc = flags_check(d, r, c, st->arg, v->u.nat);
        }
        return rc;
    case MTP_TL_LONG: {
        uint64_t l;
        v->kind = MTP_TL_V_LONG;
        rc = rd_u64(d, r, &l, "long");
        v->u.l = (int64_t)l;
        return rc;
    }
    case MTP_TL_INT128:
        v->kind = MTP_TL_V_INT128;
        return rd_raw(d, r, 16, &v->u.p, "int128");
    case MTP_TL_INT256:
        v->kind = MTP_TL_V_INT256;
        return rd_raw(d, r, 32, &v->u.p, "int256");
    case MTP_TL_BYTES:
        v->kind = MTP_TL_V_BYTES;
        return rd_bytes(d, r, v, "bytes");
    case MTP_TL_STRING:
        v->kind = MTP_TL_V_STRING;
        return rd_bytes(d, r, v, "string");
    default:
        return NOT_PRIMITIVE;
    }
}

/* Boxed objects, the most common non-primitive field, skip dec_value's dispatch. */
static inline __attribute__((always_inline)) int dec_complex(struct dec *d, struct mtp_rd *r,
                                                             const struct mtp_tl_tref *t, const struct env *env,
                                                             const uint32_t *nat, unsigned depth,
                                                             struct mtp_tl_value *out)
{
    if (t->kind != MTP_TL_BOXED || depth >= d->max_depth)
        return dec_value(d, r, t, env, nat, depth, out);
    out->offset = (uint32_t)mtp_rd_offset(r);
    out->flags = 0;
    return dec_boxed(d, r, t, env, depth + 1, out);
}

static int dec_special(struct dec *d, struct mtp_rd *r, const struct mtp_tl_combinator *c, unsigned depth,
                       struct mtp_tl_object **out)
{
    unsigned n = c->special == MTP_TL_SPECIAL_MESSAGE ? 4 : 2;
    struct mtp_tl_object *o = mtp_tl_arena_alloc(d->a, sizeof *o + n * sizeof o->fields[0]);
    if (o == NULL)
        return nomem(d, r);
    o->ctor = c;
    o->nfields = n;
    memset(o->fields, 0, n * sizeof o->fields[0]);
    MTP_GUARD(c->special == MTP_TL_SPECIAL_MESSAGE ? dec_message(d, r, depth, o->fields)
                                                    : dec_rpc_result(d, r, depth, o->fields));
    *out = o;
    return MTP_OK;
}

/* The hot loop: one step per argument that takes bytes.  Without flags the
 * field count is known, so fields go straight into the object; with flags
 * they collect on the scratch stack and are copied once the count is known. */
static int dec_fields(struct dec *d, struct mtp_rd *r, const struct mtp_tl_combinator *c, const struct env *env,
                      unsigned depth, struct mtp_tl_object **out)
{
    struct mtp_tl_object *o;
    const struct mtp_tl_step *st = c->steps, *end = c->nsteps ? st + c->nsteps : st;
    if (c->special != MTP_TL_SPECIAL_NONE && c->special != MTP_TL_SPECIAL_GZIP)
        return dec_special(d, r, c, depth, out);
    if (c->fixed_fields) {
        o = mtp_tl_arena_alloc(d->a, sizeof *o + c->nsteps * sizeof o->fields[0]);
        if (o == NULL)
            return nomem(d, r);
        o->ctor = c;
        o->nfields = c->nsteps;
        uint32_t nat[MTP_TL_MAX_NATS + 1];
        struct mtp_tl_value *v = o->fields;
        for (; st < end; st++, v++) {
            int rc = dec_step(d, r, c, st, nat, v);
            if (rc == NOT_PRIMITIVE) {
                rc = dec_complex(d, r, st->type, env, nat, depth, v);
                v->arg = st->arg;
            }
            if (rc < 0)
                return seg_field(&d->f, c, st->arg, rc);
        }
        *out = o;
        return MTP_OK;
    }
    /* One extra slot, all ones, that unconditional steps test. */
    uint32_t nat[MTP_TL_MAX_NATS + 1] = {0};
    nat[MTP_TL_MAX_NATS] = UINT32_MAX;
    size_t base = d->top;
    if (d->cap - base < c->nsteps)
        MTP_GUARD(grow_stack(d, r, c->nsteps));
    for (; st < end; st++) {
        if (!(nat[st->cond_slot] & st->cond_mask))
            continue;
        int rc = dec_step(d, r, c, st, nat, &d->stack[d->top]);
        if (rc == NOT_PRIMITIVE) {
            struct mtp_tl_value tmp;
            rc = dec_complex(d, r, st->type, env, nat, depth, &tmp);
            tmp.arg = st->arg;
            d->stack[d->top] = tmp;
        }
        if (rc < 0) {
            d->top = base;
            return seg_field(&d->f, c, st->arg, rc);
        }
        d->top++;
    }
    size_t n = d->top - base;
    o = mtp_tl_arena_alloc(d->a, sizeof *o + n * sizeof o->fields[0]);
    if (o == NULL) {
        d->top = base;
        return nomem(d, r);
    }
    o->ctor = c;
    o->nfields = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        o->fields[i] = d->stack[base + i];
    d->top = base;
    *out = o;
    return MTP_OK;
}

int mtp_tl_decode(const struct mtp_tl_schema *s, const struct mtp_tl_tref *type, const uint8_t *p, size_t len,
                  const struct mtp_tl_decode_opts *opts, struct mtp_tl_arena *a, struct mtp_tl_value *out,
                  size_t *consumed, struct mtp_error *err)
{
    static const struct mtp_tl_decode_opts defaults = {0};
    struct dec d;
    d.s = s;
    d.ids = mtp_tl_schema_idmap(s);
    d.o = opts ? opts : &defaults;
    d.a = a;
    d.top = 0;
    d.gz_level = 0;
    d.speculating = 0;
    /* The failure record is filled only when something fails. */
    d.f.code = MTP_OK;
    d.f.offset = MTP_NO_OFFSET;
    d.f.npath = 0;
    d.f.truncated = false;
    d.f.msg[0] = '\0';
    d.max_depth = d.o->max_depth ? d.o->max_depth : MTP_TL_DEFAULT_DEPTH;
    d.gzip_left = d.o->max_gzip ? d.o->max_gzip : MTP_TL_DEFAULT_GZIP;
    d.max_elems = d.o->max_elems ? d.o->max_elems : DEFAULT_MAX_ELEMS;
    memset(out, 0, sizeof *out);
    if (len > UINT32_MAX)
        return mtp_error_set(err, MTP_ERR_TL_LIMIT, MTP_NO_OFFSET, "input of %zu bytes is over 4 GiB", len);
    if (type == NULL)
        type = mtp_tl_builtin(MTP_TL_OBJECT);
    /* Most messages fit this scratch; bigger ones move to the heap. */
    struct mtp_tl_value scratch[96];
    d.stack = scratch;
    d.cap = sizeof scratch / sizeof scratch[0];
    d.stack_on_heap = false;
    /* An arena without a budget gets one proportional to this input. */
    size_t saved_limit = a->limit;
    if (saved_limit == 0)
        a->limit = a->used + mtp_tl_decode_budget(len);
    struct mtp_rd r;
    mtp_rd_init(&r, p, len, NULL);
    int rc = dec_value(&d, &r, type, NULL, NULL, 0, out);
    if (rc == MTP_OK && !d.o->allow_trailing && mtp_rd_left(&r) != 0)
        rc = dfail(&d, &r, MTP_ERR_TRAILING, "%zu bytes after the end of the value at offset %zu", mtp_rd_left(&r),
                   mtp_rd_offset(&r));
    a->limit = saved_limit; /* gzip_packed may have raised it for this call */
    if (d.stack_on_heap)
        free(d.stack);
    if (rc < 0) {
        const char *root = tref_name(type);
        if (out->kind == MTP_TL_V_OBJECT && out->u.obj && out->u.obj->ctor->name)
            root = out->u.obj->ctor->name;
        else if (rc != MTP_ERR_TRAILING && len >= 4 && (type->kind == MTP_TL_OBJECT || type->kind == MTP_TL_BOXED)) {
            /* Name the outer constructor even though its object was never completed. */
            struct mtp_rd r0;
            uint32_t id;
            mtp_rd_init(&r0, p, len, NULL);
            if (mtp_rd_u32(&r0, &id, "id") == MTP_OK) {
                const struct mtp_tl_combinator *c = mtp_tl_find_id(s, id);
                if (c && d.f.npath > 0)
                    root = c->name;
            }
        }
        if (d.f.code == MTP_OK)
            d.f.code = rc;
        finish_error(&d.f, root, d.f.offset, err);
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (consumed)
        *consumed = mtp_rd_offset(&r);
    return MTP_OK;
}

/* ------------------------------------------------------------------ */
/* encoder                                                              */

struct enc {
    const struct mtp_tl_schema *s;
    struct mtp_wr *w;
    struct failure f;
};

static int efail(struct enc *e, int code, const char *fmt, ...) MTP_PRINTF(3, 4);
static int efail(struct enc *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(&e->f, code, e->w->len, fmt, ap);
    va_end(ap);
    return code;
}

static int wr_status(struct enc *e)
{
    int rc = mtp_wr_status(e->w);
    if (rc < 0)
        return efail(e, rc, "output: cannot write at %zu (limit %zu)", e->w->len, e->w->max);
    return MTP_OK;
}

/* Writer failures are sticky; report the first at the point it happens. */
#define WR(x)                                                                                                          \
    do {                                                                                                               \
        if ((x) < 0)                                                                                                   \
            return wr_status(e);                                                                                       \
    } while (0)

static const char *vkind_name(unsigned k)
{
    static const char *const names[] = {
        [MTP_TL_V_INT] = "int",       [MTP_TL_V_NAT] = "#",         [MTP_TL_V_LONG] = "long",
        [MTP_TL_V_DOUBLE] = "double", [MTP_TL_V_INT128] = "int128", [MTP_TL_V_INT256] = "int256",
        [MTP_TL_V_BYTES] = "bytes",   [MTP_TL_V_STRING] = "string", [MTP_TL_V_BOOL] = "Bool",
        [MTP_TL_V_TRUE] = "true",     [MTP_TL_V_VECTOR] = "vector", [MTP_TL_V_OBJECT] = "object",
        [MTP_TL_V_GZIP] = "gzip_packed",
    };
    return k < sizeof names / sizeof names[0] && names[k] ? names[k] : "nothing";
}

static int mismatch(struct enc *e, const struct mtp_tl_tref *t, const struct mtp_tl_value *v)
{
    return efail(e, MTP_ERR_TL_TYPE, "expected %s, found a %s value", tref_name(t), vkind_name(v->kind));
}

static int wr_bytes(struct enc *e, const struct mtp_tl_value *v, const uint8_t *p, size_t n)
{
    if (n > MTP_TL_BYTES_MAX)
        return efail(e, MTP_ERR_TL_TOO_LONG, "bytes of length %zu exceed the TL maximum of %u", n, MTP_TL_BYTES_MAX);
    size_t head;
    if (n < 254 && !(v->flags & MTP_TL_VF_LONG_LEN)) {
        WR(mtp_wr_u8(e->w, (uint8_t)n));
        head = 1;
    } else {
        WR(mtp_wr_u8(e->w, 0xfe));
        WR(mtp_wr_u24(e->w, (uint32_t)n));
        head = 4;
    }
    WR(mtp_wr_raw(e->w, p, n));
    size_t pad = (4 - (head + n) % 4) % 4;
    if (v->flags & MTP_TL_VF_PAD)
        WR(mtp_wr_raw(e->w, v->pad, pad));
    else
        WR(mtp_wr_zero(e->w, pad));
    return wr_status(e);
}

static int enc_value(struct enc *e, const struct mtp_tl_tref *t, const struct env *env, const uint32_t *nat,
                     const struct mtp_tl_value *v, unsigned depth);
static int enc_fields(struct enc *e, const struct mtp_tl_combinator *c, const struct env *env,
                      const struct mtp_tl_object *o, unsigned depth);

static int enc_items(struct enc *e, const struct mtp_tl_tref *elem, const struct env *env, const struct mtp_tl_value *v,
                     unsigned depth)
{
    for (uint32_t i = 0; i < v->len; i++) {
        int rc = enc_value(e, elem, env, NULL, &v->u.items[i], depth);
        if (rc < 0)
            return seg_add(&e->f, SEG_INDEX, NULL, i, rc);
    }
    return MTP_OK;
}

static int enc_gzip(struct enc *e, const struct mtp_tl_tref *t, const struct env *env, const struct mtp_tl_value *v,
                    unsigned depth)
{
    const struct mtp_tl_gzip *gz = v->u.gz;
    WR(mtp_wr_u32(e->w, MTP_TL_ID_GZIP_PACKED));
    if (gz->packed)
        return wr_bytes(e, v, gz->packed, gz->packed_len);
    /* Built from JSON: compress the inner value. */
    struct mtp_error inner_err;
    mtp_error_clear(&inner_err);
    struct mtp_wr tmp;
    mtp_wr_init_dyn(&tmp, e->w->max, &inner_err);
    struct mtp_wr *saved = e->w;
    e->w = &tmp;
    int rc = enc_value(e, t, env, NULL, &gz->inner, depth);
    e->w = saved;
    if (rc < 0) {
        mtp_wr_free(&tmp);
        return seg_add(&e->f, SEG_UNPACKED, NULL, 0, rc);
    }
    uLongf zcap = compressBound((uLong)tmp.len) + 32;
    uint8_t *z = malloc(zcap);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    rc = MTP_OK;
    if (z == NULL || deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        mtp_wr_free(&tmp);
        return efail(e, MTP_ERR_NOMEM, "gzip_packed: cannot start zlib");
    }
    zs.next_in = tmp.p;
    zs.avail_in = (uInt)tmp.len;
    zs.next_out = z;
    zs.avail_out = (uInt)zcap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        rc = efail(e, MTP_ERR_TL_GZIP, "gzip_packed: deflate failed");
    size_t zn = zcap - zs.avail_out;
    deflateEnd(&zs);
    mtp_wr_free(&tmp);
    if (rc == MTP_OK)
        rc = wr_bytes(e, v, z, zn);
    free(z);
    return rc;
}

/* A value at an Object position, written from its own kind. */
static int enc_any(struct enc *e, const struct mtp_tl_value *v, unsigned depth, bool elem)
{
    switch (v->kind) {
    case MTP_TL_V_OBJECT: {
        const struct mtp_tl_combinator *c = v->u.obj->ctor;
        if (c->name == NULL)
            return efail(e, MTP_ERR_TL_TYPE, "a repetition record cannot stand for an object");
        if (!elem || (v->flags & MTP_TL_VF_BOXED))
            WR(mtp_wr_u32(e->w, c->id));
        return enc_fields(e, c, NULL, v->u.obj, depth);
    }
    case MTP_TL_V_BOOL:
        WR(mtp_wr_u32(e->w, v->u.b ? MTP_TL_ID_BOOL_TRUE : MTP_TL_ID_BOOL_FALSE));
        return wr_status(e);
    case MTP_TL_V_GZIP:
        return enc_gzip(e, mtp_tl_builtin(MTP_TL_OBJECT), NULL, v, depth);
    case MTP_TL_V_VECTOR:
        if (!elem || (v->flags & MTP_TL_VF_BOXED))
            WR(mtp_wr_u32(e->w, MTP_TL_ID_VECTOR));
        WR(mtp_wr_u32(e->w, v->len));
        for (uint32_t i = 0; i < v->len; i++) {
            int rc = enc_any(e, &v->u.items[i], depth + 1, true);
            if (rc < 0)
                return seg_add(&e->f, SEG_INDEX, NULL, i, rc);
        }
        return wr_status(e);
    default:
        if (!elem)
            return efail(e, MTP_ERR_TL_TYPE, "expected an object, found a %s value", vkind_name(v->kind));
        break;
    }
    /* Elements of a vector of primitives at an Object position. */
    switch (v->kind) {
    case MTP_TL_V_INT:
    case MTP_TL_V_NAT:
        WR(mtp_wr_u32(e->w, v->u.nat));
        return wr_status(e);
    case MTP_TL_V_LONG:
        WR(mtp_wr_i64(e->w, v->u.l));
        return wr_status(e);
    case MTP_TL_V_DOUBLE:
        WR(mtp_tl_wr_double(e->w, v->u.d));
        return wr_status(e);
    case MTP_TL_V_INT128:
        WR(mtp_wr_raw(e->w, v->u.p, 16));
        return wr_status(e);
    case MTP_TL_V_INT256:
        WR(mtp_wr_raw(e->w, v->u.p, 32));
        return wr_status(e);
    case MTP_TL_V_BYTES:
    case MTP_TL_V_STRING:
        return wr_bytes(e, v, v->u.p, v->len);
    default:
        return efail(e, MTP_ERR_TL_TYPE, "cannot write a %s value here", vkind_name(v->kind));
    }
}

static int enc_value(struct enc *e, const struct mtp_tl_tref *t, const struct env *env, const uint32_t *nat,
                     const struct mtp_tl_value *v, unsigned depth)
{
    if (depth > 4 * MTP_TL_DEFAULT_DEPTH)
        return efail(e, MTP_ERR_TL_TOO_DEEP, "value nested deeper than %d", 4 * MTP_TL_DEFAULT_DEPTH);
    switch (t->kind) {
    case MTP_TL_INT:
        if (v->kind != MTP_TL_V_INT)
            return mismatch(e, t, v);
        WR(mtp_wr_i32(e->w, v->u.i));
        return wr_status(e);
    case MTP_TL_NAT:
        if (v->kind != MTP_TL_V_NAT)
            return mismatch(e, t, v);
        WR(mtp_wr_u32(e->w, v->u.nat));
        return wr_status(e);
    case MTP_TL_LONG:
        if (v->kind != MTP_TL_V_LONG)
            return mismatch(e, t, v);
        WR(mtp_wr_i64(e->w, v->u.l));
        return wr_status(e);
    case MTP_TL_DOUBLE:
        if (v->kind != MTP_TL_V_DOUBLE)
            return mismatch(e, t, v);
        WR(mtp_tl_wr_double(e->w, v->u.d));
        return wr_status(e);
    case MTP_TL_INT128:
    case MTP_TL_INT256:
        if (v->kind != (t->kind == MTP_TL_INT128 ? MTP_TL_V_INT128 : MTP_TL_V_INT256))
            return mismatch(e, t, v);
        WR(mtp_wr_raw(e->w, v->u.p, t->kind == MTP_TL_INT128 ? 16 : 32));
        return wr_status(e);
    case MTP_TL_BYTES:
    case MTP_TL_STRING:
        if (v->kind != MTP_TL_V_BYTES && v->kind != MTP_TL_V_STRING)
            return mismatch(e, t, v);
        return wr_bytes(e, v, v->u.p, v->len);
    case MTP_TL_BOOL:
        if (v->kind != MTP_TL_V_BOOL)
            return mismatch(e, t, v);
        WR(mtp_wr_u32(e->w, v->u.b ? MTP_TL_ID_BOOL_TRUE : MTP_TL_ID_BOOL_FALSE));
        return wr_status(e);
    case MTP_TL_TRUE:
        return MTP_OK;
    case MTP_TL_VECTOR:
        if (v->kind == MTP_TL_V_GZIP)
            return enc_gzip(e, t, env, v, depth + 1);
        if (v->kind != MTP_TL_V_VECTOR)
            return mismatch(e, t, v);
        WR(mtp_wr_u32(e->w, MTP_TL_ID_VECTOR));
        WR(mtp_wr_u32(e->w, v->len));
        return enc_items(e, t->args[0], env, v, depth + 1);
    case MTP_TL_BARE_VECTOR:
        if (v->kind != MTP_TL_V_VECTOR)
            return mismatch(e, t, v);
        WR(mtp_wr_u32(e->w, v->len));
        return enc_items(e, t->args[0], env, v, depth + 1);
    case MTP_TL_BOXED: {
        if (v->kind == MTP_TL_V_GZIP)
            return enc_gzip(e, t, env, v, depth + 1);
        if (v->kind != MTP_TL_V_OBJECT)
            return mismatch(e, t, v);
        const struct mtp_tl_combinator *c = v->u.obj->ctor;
        if (c->name == NULL || !ctor_of(c, t->type))
            return efail(e, MTP_ERR_TL_TYPE, "expected a constructor of type %s, found %s", t->type->name,
                         c->name ? c->name : "a repetition record");
        WR(mtp_wr_u32(e->w, c->id));
        struct binding b[MTP_TL_MAX_PARAMS] = {{0}};
        uint32_t nats[MTP_TL_MAX_PARAMS] = {0};
        struct env ce = {b, nats};
        if (t->nargs && c->result_map)
            for (unsigned i = 0; i < t->nargs; i++) {
                int pi = c->result_map[i];
                if (pi < 0)
                    continue;
                if (t->args[i]->kind == MTP_TL_NATCONST)
                    nats[pi] = t->args[i]->nat;
                else
                    b[pi] = (struct binding){t->args[i], env};
            }
        return enc_fields(e, c, &ce, v->u.obj, depth + 1);
    }
    case MTP_TL_BARE: {
        if (v->kind != MTP_TL_V_OBJECT)
            return mismatch(e, t, v);
        const struct mtp_tl_combinator *c = v->u.obj->ctor;
        if (c != t->ctor && (c->name == NULL || t->ctor->name == NULL || strcmp(c->name, t->ctor->name) != 0))
            return efail(e, MTP_ERR_TL_TYPE, "expected bare %s, found %s", t->ctor->name ? t->ctor->name : "record",
                         c->name ? c->name : "a record");
        struct binding b[MTP_TL_MAX_PARAMS] = {{0}};
        uint32_t nats[MTP_TL_MAX_PARAMS] = {0};
        struct env ce = {b, nats};
        if (t->nargs && t->ctor->result_map)
            for (unsigned i = 0; i < t->nargs; i++) {
                int pi = t->ctor->result_map[i];
                if (pi < 0)
                    continue;
                if (t->args[i]->kind == MTP_TL_NATCONST)
                    nats[pi] = t->args[i]->nat;
                else
                    b[pi] = (struct binding){t->args[i], env};
            }
        return enc_fields(e, t->ctor, &ce, v->u.obj, depth + 1);
    }
    case MTP_TL_VAR:
        if (env && env->types[t->var].t)
            return enc_value(e, env->types[t->var].t, env->types[t->var].env, NULL, v, depth + 1);
        return enc_any(e, v, depth + 1, false);
    case MTP_TL_OBJECT:
        return enc_any(e, v, depth + 1, false);
    case MTP_TL_ARRAY: {
        const struct mtp_tl_array *arr = t->array;
        uint32_t want = 0;
        bool known = true;
        if (arr->mult_kind == MTP_TL_MULT_CONST)
            want = arr->mult;
        else if (arr->mult_kind == MTP_TL_MULT_ARG && nat)
            want = nat[arr->mult];
        else if (arr->mult_kind == MTP_TL_MULT_PARAM && env)
            want = env->nats[arr->mult];
        else
            known = false;
        if (v->kind != MTP_TL_V_VECTOR)
            return mismatch(e, t, v);
        if (known && v->len != want)
            return efail(e, MTP_ERR_TL_BAD_COUNT, "repetition has %u elements, its count says %u", v->len, want);
        const struct mtp_tl_combinator *rec = arr->record;
        if (rec->nargs == 1 && rec->args[0].name == NULL && rec->args[0].cond_arg < 0)
            return enc_items(e, rec->args[0].type, env, v, depth + 1);
        struct mtp_tl_tref bare = {.kind = MTP_TL_BARE, .ctor = rec};
        return enc_items(e, &bare, env, v, depth + 1);
    }
    default:
        return efail(e, MTP_ERR_TL_TYPE, "cannot encode a %s", kind_name((enum mtp_tl_kind)t->kind));
    }
}

static int enc_fields(struct enc *e, const struct mtp_tl_combinator *c, const struct env *env,
                      const struct mtp_tl_object *o, unsigned depth)
{
    uint32_t nat[MTP_TL_MAX_NATS] = {0};
    uint32_t j = 0;
    for (unsigned i = 0; i < c->nargs; i++) {
        const struct mtp_tl_arg *a = &c->args[i];
        const struct mtp_tl_value *f = j < o->nfields && o->fields[j].arg == i ? &o->fields[j] : NULL;
        bool on = a->cond_slot < 0 || (nat[a->cond_slot] >> a->cond_bit & 1u);
        if (!on || a->type->kind == MTP_TL_TRUE) {
            if (f) {
                if (on)
                    efail(e, MTP_ERR_TL_FIELD, "a true flag takes no value slot");
                else
                    efail(e, MTP_ERR_TL_BAD_FLAGS, "present although %s.%u is clear", c->args[a->cond_arg].name,
                          a->cond_bit);
                return seg_field(&e->f, c, i, e->f.code);
            }
            continue;
        }
        if (f == NULL) {
            if (a->cond_arg >= 0)
                efail(e, MTP_ERR_TL_BAD_FLAGS, "missing although %s.%u is set", c->args[a->cond_arg].name,
                      a->cond_bit);
            else
                efail(e, MTP_ERR_TL_FIELD, "missing field");
            return seg_field(&e->f, c, i, e->f.code);
        }
        int rc = enc_value(e, a->type, env, nat, f, depth);
        if (rc < 0)
            return seg_field(&e->f, c, i, rc);
        if (a->nat_slot >= 0)
            nat[a->nat_slot] = f->u.nat;
        j++;
    }
    if (j != o->nfields)
        return efail(e, MTP_ERR_TL_FIELD, "%s: %u field%s out of order or not in the constructor",
                     c->name ? c->name : "record", o->nfields - j, o->nfields - j == 1 ? "" : "s");
    return MTP_OK;
}

int mtp_tl_encode(const struct mtp_tl_schema *s, const struct mtp_tl_tref *type, const struct mtp_tl_value *v,
                  struct mtp_wr *w, struct mtp_error *err)
{
    struct enc e = {.s = s, .w = w};
    if (type == NULL)
        type = mtp_tl_builtin(MTP_TL_OBJECT);
    int rc = enc_value(&e, type, NULL, NULL, v, 0);
    if (rc < 0) {
        const char *root = tref_name(type);
        const struct mtp_tl_object *o = mtp_tl_value_object(v);
        if (o && o->ctor->name)
            root = o->ctor->name;
        if (e.f.code == MTP_OK)
            e.f.code = rc;
        finish_error(&e.f, root, e.f.offset, err);
    }
    return rc;
}
