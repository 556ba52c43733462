/* TL value trees: the arena they live in and the small queries every user of
 * a decoded tree needs (field by name, presence, a request's result type). */
#include <stdlib.h>
#include <string.h>

#include "mtp/tl_value.h"
#include "tl/mtp_tl_schema_internal.h"

struct mtp_tl_chunk {
    struct mtp_tl_chunk *next;
    size_t cap;
    void *adopted; /* a separate malloc'ed block, or NULL for a bump block */
    _Alignas(8) unsigned char mem[];
};

#define CHUNK_MIN 4096u
#define CHUNK_MAX (1u << 20)

void mtp_tl_arena_init(struct mtp_tl_arena *a, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->limit = limit;
}

void mtp_tl_arena_free(struct mtp_tl_arena *a)
{
    struct mtp_tl_chunk *c = a->chunks;
    while (c) {
        struct mtp_tl_chunk *n = c->next;
        free(c->adopted);
        free(c);
        c = n;
    }
    mtp_tl_arena_init(a, a->limit);
}

void mtp_tl_arena_reset(struct mtp_tl_arena *a)
{
    struct mtp_tl_chunk *keep = a->current;
    struct mtp_tl_chunk *c = a->chunks;
    while (c) {
        struct mtp_tl_chunk *n = c->next;
        if (c != keep) {
            free(c->adopted);
            free(c);
        }
        c = n;
    }
    a->chunks = keep;
    if (keep) {
        keep->next = NULL;
        a->cur = keep->mem;
        a->end = keep->mem + keep->cap;
    }
    a->used = 0;
    a->over = false;
}

static bool budget(struct mtp_tl_arena *a, size_t n)
{
    if (a->limit && (n > a->limit || a->used > a->limit - n)) {
        a->over = true;
        return false;
    }
    a->used += n;
    return true;
}

void *mtp_tl_arena_alloc_slow(struct mtp_tl_arena *a, size_t n)
{
    n = n ? (n + 7) & ~(size_t)7 : 8;
    if (!budget(a, n))
        return NULL;
    if (n <= (size_t)(a->end - a->cur)) {
        void *p = a->cur;
        a->cur += n;
        return p;
    }
    /* Big blocks get their own chunk; small ones start a new, larger current chunk. */
    bool big = n > CHUNK_MAX / 4;
    size_t cap = n;
    if (!big) {
        cap = a->current ? a->current->cap * 2 : CHUNK_MIN;
        if (cap > CHUNK_MAX)
            cap = CHUNK_MAX;
        /* A block that is not "big" can still exceed the next chunk size (e.g.
         * 5 KiB while chunks are 4 KiB): the chunk must hold it. */
        while (cap < n)
            cap *= 2;
    }
    struct mtp_tl_chunk *c = malloc(sizeof *c + cap);
    if (c == NULL) {
        a->used -= n;
        a->over = false;
        return NULL;
    }
    c->cap = cap;
    c->adopted = NULL;
    c->next = a->chunks;
    a->chunks = c;
    if (!big) {
        a->current = c;
        a->cur = c->mem + n;
        a->end = c->mem + cap;
    }
    return c->mem;
}

void *mtp_tl_arena_memdup(struct mtp_tl_arena *a, const void *p, size_t n)
{
    void *d = mtp_tl_arena_alloc(a, n);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

bool mtp_tl_arena_adopt(struct mtp_tl_arena *a, void *block, size_t n)
{
    if (!budget(a, n)) {
        free(block);
        return false;
    }
    struct mtp_tl_chunk *c = malloc(sizeof *c);
    if (c == NULL) {
        a->used -= n;
        a->over = false;
        free(block);
        return false;
    }
    c->cap = 0;
    c->adopted = block;
    c->next = a->chunks;
    a->chunks = c;
    return true;
}

size_t mtp_tl_decode_budget(size_t len)
{
    /* A node is 24 bytes and every node but the zero-size ones takes at least
     * 4 input bytes; 16x covers vectors of ints, the constant covers objects
     * made mostly of absent fields and the scratch of small inputs. */
    size_t b = 1u << 20;
    if (len > (SIZE_MAX - b) / 16)
        return SIZE_MAX;
    return b + len * 16;
}

const struct mtp_tl_value *mtp_tl_obj_field(const struct mtp_tl_object *o, unsigned arg)
{
    for (uint32_t i = 0; i < o->nfields; i++) {
        if (o->fields[i].arg == arg)
            return &o->fields[i];
        if (o->fields[i].arg > arg)
            break;
    }
    return NULL;
}

const struct mtp_tl_value *mtp_tl_obj_get(const struct mtp_tl_object *o, const char *name)
{
    const struct mtp_tl_combinator *c = o->ctor;
    for (unsigned i = 0; i < c->nargs; i++)
        if (c->args[i].name && strcmp(c->args[i].name, name) == 0)
            return mtp_tl_obj_field(o, i);
    return NULL;
}

bool mtp_tl_obj_has(const struct mtp_tl_object *o, unsigned arg)
{
    const struct mtp_tl_combinator *c = o->ctor;
    if (arg >= c->nargs)
        return false;
    const struct mtp_tl_arg *a = &c->args[arg];
    if (a->cond_arg >= 0) {
        const struct mtp_tl_value *f = mtp_tl_obj_field(o, (unsigned)a->cond_arg);
        if (f == NULL || !(f->u.nat >> a->cond_bit & 1))
            return false;
    }
    return a->type->kind == MTP_TL_TRUE || mtp_tl_obj_field(o, arg) != NULL;
}

const struct mtp_tl_object *mtp_tl_value_object(const struct mtp_tl_value *v)
{
    while (v && v->kind == MTP_TL_V_GZIP)
        v = &v->u.gz->inner;
    return v && v->kind == MTP_TL_V_OBJECT ? v->u.obj : NULL;
}

int mtp_tl_type_parse(const struct mtp_tl_schema *s, const char *text, struct mtp_tl_arena *a,
                      const struct mtp_tl_tref **out, struct mtp_error *err)
{
    return mtp_tl_schema_parse_type(s, text, a, out, err);
}

int mtp_tl_result_type(const struct mtp_tl_schema *s, const struct mtp_tl_value *req, const struct mtp_tl_tref **out,
                       struct mtp_error *err)
{
    (void)s;
    for (unsigned depth = 0; depth < MTP_TL_DEFAULT_DEPTH; depth++) {
        const struct mtp_tl_object *o = mtp_tl_value_object(req);
        if (o == NULL || o->ctor->name == NULL || !o->ctor->is_function)
            return mtp_error_set(err, MTP_ERR_TL_TYPE, req ? req->offset : MTP_NO_OFFSET,
                                 "result type: %s is not a function call",
                                 o && o->ctor->name ? o->ctor->name : "the value");
        const struct mtp_tl_tref *r = o->ctor->result;
        if (r->kind != MTP_TL_VAR) {
            *out = r;
            return MTP_OK;
        }
        /* X of a {X:Type} wrapper: the result of the !X argument. */
        const struct mtp_tl_value *next = NULL;
        for (unsigned i = 0; i < o->ctor->nargs; i++) {
            const struct mtp_tl_tref *t = o->ctor->args[i].type;
            if (t->kind == MTP_TL_VAR && t->bang && t->var == r->var) {
                next = mtp_tl_obj_field(o, i);
                break;
            }
        }
        if (next == NULL) {
            *out = mtp_tl_builtin(MTP_TL_OBJECT);
            return MTP_OK;
        }
        req = next;
    }
    return mtp_error_set(err, MTP_ERR_TL_TOO_DEEP, req->offset, "result type: wrappers nested too deep");
}

bool mtp_tl_utf8_valid(const uint8_t *p, size_t n)
{
    struct mtp_rd r;
    mtp_rd_init(&r, p, n, NULL);
    uint8_t c;
    while (mtp_rd_u8(&r, &c, "utf8") == MTP_OK) {
        if (c < 0x80)
            continue;
        unsigned len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1fu;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0fu;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07u;
            min = 0x10000;
        } else {
            return false;
        }
        for (unsigned k = 1; k < len; k++) {
            uint8_t cc;
            if (mtp_rd_u8(&r, &cc, "utf8") != MTP_OK || (cc & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (cc & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
    }
    return true;
}
