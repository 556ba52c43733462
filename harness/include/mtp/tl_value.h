/* TL values: the tree the schema-driven decoder builds and the encoder walks.
 *
 * Memory: every node lives in a caller-owned arena (one bump allocator,
 * freed at once); bytes, strings and int128/int256 borrow the input, so the
 * input must outlive the tree.  Objects store only the fields that take
 * bytes on the wire: an absent conditional field and a `true` flag have no
 * slot (a `true` flag's value is its bit in the flags field).
 *
 * Round trip: encode(decode(x)) == x for every x the decoder accepts.  In
 * the default (lenient) mode a bytes/string value written with non-zero
 * padding or with the 4-byte length form below 254 bytes is accepted and the
 * form is kept in the value, so it is re-encoded identically; flag bits no
 * field uses are kept in the flags value.  Strict mode rejects all three
 * (tl_bad_padding, tl_non_canonical, tl_bad_flags). */
#ifndef MTP_TL_VALUE_H
#define MTP_TL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/err.h"
#include "mtp/tl_schema.h"

/* ---- arena ---- */

struct mtp_tl_chunk;
struct mtp_tl_arena {
    struct mtp_tl_chunk *chunks;  /* every block, newest first */
    struct mtp_tl_chunk *current; /* the block allocations are carved from */
    unsigned char *cur, *end;     /* free space in current */
    size_t used;   /* bytes handed out (plus adopted blocks) */
    size_t limit;  /* budget for used; 0 means none */
    bool over;     /* the last failure was the budget, not malloc */
};

void mtp_tl_arena_init(struct mtp_tl_arena *a, size_t limit);
void mtp_tl_arena_free(struct mtp_tl_arena *a);
/* Forgets every allocation but keeps the current block for reuse (decoding
 * many messages one after another); the limit stays. */
void mtp_tl_arena_reset(struct mtp_tl_arena *a);
void *mtp_tl_arena_alloc_slow(struct mtp_tl_arena *a, size_t n);
/* 8-byte aligned, uninitialised; NULL when the budget or malloc runs out. */
static inline void *mtp_tl_arena_alloc(struct mtp_tl_arena *a, size_t n)
{
    n = n ? (n + 7) & ~(size_t)7 : 8;
    if (n <= (size_t)(a->end - a->cur) && (a->limit == 0 || n <= a->limit - a->used)) {
        void *p = a->cur;
        a->cur += n;
        a->used += n;
        return p;
    }
    return mtp_tl_arena_alloc_slow(a, n);
}
void *mtp_tl_arena_memdup(struct mtp_tl_arena *a, const void *p, size_t n);
/* Takes ownership of a malloc'ed block (freed with the arena); false (and the
 * block freed) when the budget does not allow it. */
bool mtp_tl_arena_adopt(struct mtp_tl_arena *a, void *block, size_t n);
/* A budget proportional to an input of len bytes, for decoding it. */
size_t mtp_tl_decode_budget(size_t len);

/* ---- values ---- */

enum mtp_tl_vkind {
    MTP_TL_V_INT = 1,
    MTP_TL_V_NAT,
    MTP_TL_V_LONG,
    MTP_TL_V_DOUBLE,
    MTP_TL_V_INT128,
    MTP_TL_V_INT256,
    MTP_TL_V_BYTES,
    MTP_TL_V_STRING,
    MTP_TL_V_BOOL,
    MTP_TL_V_TRUE,
    MTP_TL_V_VECTOR,
    MTP_TL_V_OBJECT,
    MTP_TL_V_GZIP,
};

#define MTP_TL_VF_LONG_LEN 0x01u /* bytes/string: 4-byte length form although shorter than 254 */
#define MTP_TL_VF_PAD 0x02u      /* bytes/string: non-zero padding, kept in pad[] */
#define MTP_TL_VF_GUESSED 0x04u  /* vector at an Object position: element type guessed */
#define MTP_TL_VF_BOXED 0x08u    /* vector/object/bool: read with its constructor id */

struct mtp_tl_object;
struct mtp_tl_gzip;

struct mtp_tl_value {
    uint8_t kind;     /* enum mtp_tl_vkind */
    uint8_t flags;    /* MTP_TL_VF_* */
    uint16_t arg;     /* in an object: index of the combinator argument this fills */
    uint32_t len;     /* bytes/string length, vector count */
    uint32_t offset;  /* where the value starts in its input (inside gzip_packed: in the inflated data) */
    uint8_t pad[3];   /* the padding bytes as read, when MTP_TL_VF_PAD */
    uint8_t reserved;
    union {
        int32_t i;
        uint32_t nat;
        int64_t l;
        double d;
        bool b;
        const uint8_t *p;             /* int128, int256, bytes, string */
        struct mtp_tl_value *items;   /* vector */
        struct mtp_tl_object *obj;    /* object */
        struct mtp_tl_gzip *gz;       /* gzip_packed */
    } u;
};

struct mtp_tl_object {
    const struct mtp_tl_combinator *ctor;
    uint32_t nfields;
    struct mtp_tl_value fields[]; /* present fields, in argument order */
};

struct mtp_tl_gzip {
    const uint8_t *packed;     /* packed_data as received (NULL in a tree built from JSON) */
    uint32_t packed_len;
    const uint8_t *data;       /* the inflated bytes (NULL in a tree built from JSON) */
    uint32_t data_len;
    struct mtp_tl_value inner;
};

/* The field filling argument `arg` of an object, or NULL when absent (or a `true` flag). */
const struct mtp_tl_value *mtp_tl_obj_field(const struct mtp_tl_object *o, unsigned arg);
const struct mtp_tl_value *mtp_tl_obj_get(const struct mtp_tl_object *o, const char *name);
/* Whether argument `arg` is present: its condition holds (for `true` flags, the value). */
bool mtp_tl_obj_has(const struct mtp_tl_object *o, unsigned arg);
/* The object a value carries, looking through gzip_packed; NULL if none. */
const struct mtp_tl_object *mtp_tl_value_object(const struct mtp_tl_value *v);

/* Parses a type expression ("ResPQ", "Vector<long>", "%Message", "resPQ" (bare),
 * "Object") against the schema; trefs are allocated in a.  MTP_ERR_TL_UNKNOWN_TYPE
 * for names the schema lacks. */
MTP_MUST_USE int mtp_tl_type_parse(const struct mtp_tl_schema *s, const char *text, struct mtp_tl_arena *a,
                                   const struct mtp_tl_tref **out, struct mtp_error *err);
/* The type a request (a decoded function call) returns, looking through !X
 * wrappers such as invokeWithLayer(initConnection(...)).  MTP_ERR_TL_TYPE
 * when req is not a function call. */
MTP_MUST_USE int mtp_tl_result_type(const struct mtp_tl_schema *s, const struct mtp_tl_value *req,
                                    const struct mtp_tl_tref **out, struct mtp_error *err);

/* ---- decoder / encoder ---- */

#define MTP_TL_DEFAULT_DEPTH 64
#define MTP_TL_DEFAULT_GZIP (16u << 20)

/* Picks the result type of an rpc_result by its req_msg_id; NULL: decode by constructor. */
typedef const struct mtp_tl_tref *(*mtp_tl_result_fn)(void *ctx, int64_t req_msg_id);

struct mtp_tl_decode_opts {
    bool strict;               /* reject non-zero padding, non-canonical lengths, unknown flag bits */
    bool allow_trailing;       /* stop after one value instead of failing on trailing bytes */
    uint32_t max_depth;        /* nesting limit; 0: MTP_TL_DEFAULT_DEPTH */
    size_t max_gzip;           /* total inflated bytes for this decode; 0: MTP_TL_DEFAULT_GZIP */
    size_t max_elems;          /* elements of vectors whose elements take no bytes; 0: 1 << 16 */
    const struct mtp_tl_tref *rpc_result_type; /* type of every rpc_result.result (if no result_fn) */
    mtp_tl_result_fn result_fn;
    void *result_ctx;
};

/* Decodes one value of type `type` (NULL: any boxed object) from p[0..len).
 * *consumed (if not NULL) gets the bytes used.  Errors name the type path and
 * offset: "msg_container.messages[3].body: expected ..." (err->offset).
 * Memory: the tree may use what a's limit allows; an arena without a limit
 * gets mtp_tl_decode_budget(len) for this call (MTP_ERR_TL_LIMIT beyond), and
 * the budget grows with data inflated from gzip_packed. */
MTP_MUST_USE int mtp_tl_decode(const struct mtp_tl_schema *s, const struct mtp_tl_tref *type, const uint8_t *p,
                               size_t len, const struct mtp_tl_decode_opts *opts, struct mtp_tl_arena *a,
                               struct mtp_tl_value *out, size_t *consumed, struct mtp_error *err);

/* Encodes v as type `type` (NULL: any boxed object).  The value must agree
 * with its flags (MTP_ERR_TL_BAD_FLAGS) and the schema (MTP_ERR_TL_TYPE,
 * MTP_ERR_TL_FIELD). */
MTP_MUST_USE int mtp_tl_encode(const struct mtp_tl_schema *s, const struct mtp_tl_tref *type,
                               const struct mtp_tl_value *v, struct mtp_wr *w, struct mtp_error *err);

/* ---- TL text ---- */

struct mtp_tl_text_opts {
    bool multiline;       /* one field per line, nested objects indented */
    size_t max_bytes;     /* shorten bytes/strings longer than this (0: never) */
};

/* Appends a readable rendering: `resPQ nonce:0x3e05... pq:0x17ed... server_public_key_fingerprints:[...]`. */
MTP_MUST_USE int mtp_tl_text(const struct mtp_tl_value *v, const struct mtp_tl_text_opts *opts, struct mtp_wr *w);

/* Whether p[0..n) is valid UTF-8 (no overlongs, surrogates or values above U+10FFFF). */
bool mtp_tl_utf8_valid(const uint8_t *p, size_t n);

#endif
