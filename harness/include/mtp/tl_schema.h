/* TL schemas (core.telegram.org/mtproto/TL, /mtproto/TL-formal): parsed from
 * text, linked into combinators and types the codec walks.
 *
 * A schema set holds one or more schema texts (e.g. the MTProto service
 * schema and the API schema).  Rules when several are loaded:
 *   - Constructor ids are one wire-level namespace.  The same id declared with
 *     the same canonical text in two schemas is one combinator (the later copy
 *     only serves name lookups inside its own schema); the same id with a
 *     different text is MTP_ERR_SCHEMA_CONFLICT.
 *   - Names are resolved inside the schema that uses them first, then in the
 *     other schemas in load order.  So mtproto's `vector<%Message>` finds
 *     mtproto's bare `message` even when the API schema (which has its own
 *     `Message` type) is loaded too.
 *   - Global name lookups (mtp_tl_find_name, a JSON "_" where any object is
 *     allowed, a type named on the command line) take the first schema loaded
 *     that defines the name.
 *   - Inside one schema a name or id declared twice is MTP_ERR_SCHEMA_DUPLICATE.
 *
 * Implicit ids: CRC32 (zlib) of the canonical text of the declaration: the
 * combinator name without `#id`, then each parameter and argument separated
 * by single spaces, ` = ` and the result type, with
 *   `{X:Type}` written `X:Type` (braces dropped), `Vector<long>` written
 *   `Vector long` (angle brackets dropped, commas become spaces), `[ t ]`
 *   spaced, an argument of plain type `bytes` written `string`, and
 *   conditional `true` arguments (`x:flags.N?true`) left out.
 * The explicit ids of the published API schema match these rules; known
 * exceptions are kept (the combinator records both ids) and reported. */
#ifndef MTP_TL_SCHEMA_H
#define MTP_TL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/err.h"

#define MTP_TL_ID_GZIP_PACKED 0x3072cfa1u
#define MTP_TL_ID_MSG_CONTAINER 0x73f1f8dcu
#define MTP_TL_ID_RPC_RESULT 0xf35c6d01u
#define MTP_TL_ID_MESSAGE 0x5bb8e511u /* implicit: message msg_id:long seqno:int bytes:int body:Object = Message */

/* Parser limits (MTP_ERR_SCHEMA_LIMIT beyond them). */
#define MTP_TL_MAX_ARGS 255    /* arguments of one combinator */
#define MTP_TL_MAX_PARAMS 16   /* {X:Type} / {n:#} parameters of one combinator */
#define MTP_TL_MAX_NATS 16     /* `#` arguments of one combinator */
#define MTP_TL_MAX_TYPE_DEPTH 32

enum mtp_tl_kind {
    MTP_TL_INT,         /* int: 4 bytes, signed */
    MTP_TL_NAT,         /* #: 4 bytes, unsigned (flags, counts) */
    MTP_TL_LONG,        /* long: 8 bytes, signed */
    MTP_TL_DOUBLE,      /* double: 8 bytes IEEE 754 */
    MTP_TL_INT128,      /* 16 raw bytes */
    MTP_TL_INT256,      /* 32 raw bytes */
    MTP_TL_BYTES,       /* bytes: length-prefixed, padded */
    MTP_TL_STRING,      /* string: same wire form, UTF-8 text by convention */
    MTP_TL_BOOL,        /* Bool: boolTrue / boolFalse */
    MTP_TL_TRUE,        /* true: no bytes; presence is the value */
    MTP_TL_VECTOR,      /* Vector<t>: vector#1cb5c415, count, elements */
    MTP_TL_BARE_VECTOR, /* vector<t> / %Vector<t>: count, elements */
    MTP_TL_BOXED,       /* a boxed type: constructor id then fields */
    MTP_TL_BARE,        /* one constructor's fields, no id */
    MTP_TL_OBJECT,      /* Object, !X, or an unbound type variable: any boxed combinator */
    MTP_TL_VAR,         /* a type parameter of the enclosing combinator */
    MTP_TL_ARRAY,       /* repetition N*[ ... ] */
    MTP_TL_NATCONST,    /* a number used as a type argument (Tuple t 3) */
};

struct mtp_tl_type;
struct mtp_tl_combinator;
struct mtp_tl_array;

/* A compiled type reference. */
struct mtp_tl_tref {
    uint8_t kind;  /* enum mtp_tl_kind */
    bool bang;     /* written !X: a function call whose result type is X */
    uint16_t var;  /* MTP_TL_VAR: parameter index */
    uint32_t nat;  /* MTP_TL_NATCONST: the value */
    uint16_t nargs;
    const struct mtp_tl_tref *const *args;       /* VECTOR/BARE_VECTOR: args[0] is the element; BOXED: type arguments */
    const struct mtp_tl_type *type;              /* BOXED */
    const struct mtp_tl_combinator *ctor;        /* BARE */
    const struct mtp_tl_array *array;            /* ARRAY */
};

enum mtp_tl_mult { MTP_TL_MULT_CONST, MTP_TL_MULT_ARG, MTP_TL_MULT_PARAM };

struct mtp_tl_array {
    uint8_t mult_kind; /* enum mtp_tl_mult */
    uint32_t mult;     /* CONST: the count; ARG: nat slot of an earlier `#` argument; PARAM: parameter index */
    /* The repeated record: its fields as a nameless combinator (one anonymous
     * field makes the array a plain list of values). */
    const struct mtp_tl_combinator *record;
};

struct mtp_tl_arg {
    const char *name;              /* NULL for anonymous arguments */
    const struct mtp_tl_tref *type;
    int16_t cond_arg;              /* index of the `#` argument this one is conditional on, or -1 */
    int16_t cond_slot;             /* that argument's nat slot, or -1 */
    uint8_t cond_bit;              /* flags.N: N */
    int8_t nat_slot;               /* for `#` arguments: where the decoder keeps the value, else -1 */
    bool is_flags;                 /* a `#` argument that later arguments are conditional on */
};

/* The decoder's program for one combinator: its arguments that take bytes
 * (`true` flags take none), with what the hot loop needs packed together. */
struct mtp_tl_step {
    uint8_t kind;      /* enum mtp_tl_kind of the argument */
    uint8_t cond_slot; /* nat slot of the flags it depends on; MTP_TL_MAX_NATS (always all ones) if unconditional */
    int8_t nat_slot;   /* `#` arguments: where the value goes, else -1 */
    bool is_flags;
    uint32_t cond_mask; /* 1 << flag bit (1 when unconditional) */
    uint16_t arg;      /* argument index */
    const struct mtp_tl_tref *type;
};

struct mtp_tl_param {
    const char *name;
    bool is_nat; /* {n:#} rather than {X:Type} */
};

enum mtp_tl_special {
    MTP_TL_SPECIAL_NONE,
    MTP_TL_SPECIAL_MESSAGE,    /* body bounded by its `bytes` field */
    MTP_TL_SPECIAL_RPC_RESULT, /* result typed by the pending request when known */
    MTP_TL_SPECIAL_GZIP,       /* gzip_packed: inflated and decoded in place */
};

struct mtp_tl_combinator {
    const char *name;            /* NULL for an array record */
    uint32_t id;                 /* the id used on the wire: explicit if given, else computed */
    uint32_t computed_id;        /* CRC32 of the canonical text */
    bool explicit_id;
    bool is_function;
    bool builtin;                /* declared `name ? = Type;` */
    uint8_t special;             /* enum mtp_tl_special */
    bool fixed_fields;           /* no conditional arguments: every step always takes a slot */
    bool shadowed;               /* a schema loaded earlier has another combinator of this name */
    uint16_t nargs;
    uint16_t nparams;
    uint8_t nnats;
    uint16_t nsteps;
    const struct mtp_tl_arg *args;
    const struct mtp_tl_step *steps;
    const struct mtp_tl_param *params;
    const struct mtp_tl_type *type;     /* constructors: the result type */
    const struct mtp_tl_tref *result;   /* functions: the result type (may be a VAR) */
    const int8_t *result_map;           /* constructors of generic types: result type argument i binds parameter result_map[i] (-1: none) */
    const char *canonical;              /* the text the CRC32 is computed over */
    const char *file;                   /* where it was declared */
    uint32_t line, col;
    uint16_t schema;                    /* index of the schema text it came from */
};

struct mtp_tl_type {
    const char *name;
    uint16_t nparams;
    uint16_t schema;
    uint32_t nctors;
    const struct mtp_tl_combinator *const *ctors;
};

struct mtp_tl_schema;

/* Flags for mtp_tl_schema_add_text. */
#define MTP_TL_ADD_STRICT_IDS 0x1u /* an explicit id that differs from its CRC32 is an error, not a note */

struct mtp_tl_schema *mtp_tl_schema_new(void);
void mtp_tl_schema_free(struct mtp_tl_schema *s);
/* Parses one schema text; file names it in errors ("api.tl:12:5: ...").  The
 * text need not be NUL-terminated.  Errors: SCHEMA_SYNTAX, SCHEMA_DUPLICATE,
 * SCHEMA_ID_MISMATCH, SCHEMA_LIMIT, NOMEM; err->offset is the byte offset. */
MTP_MUST_USE int mtp_tl_schema_add_text(struct mtp_tl_schema *s, const char *text, size_t len, const char *file,
                                        unsigned flags, struct mtp_error *err);
MTP_MUST_USE int mtp_tl_schema_add_file(struct mtp_tl_schema *s, const char *path, unsigned flags,
                                        struct mtp_error *err);
/* Resolves every type reference across all added texts and merges ids.  Must
 * be called once after the last add and before any lookup or codec call.
 * Errors: SCHEMA_UNKNOWN_TYPE, SCHEMA_BAD_ARG, SCHEMA_CONFLICT. */
MTP_MUST_USE int mtp_tl_schema_link(struct mtp_tl_schema *s, struct mtp_error *err);

/* Every combinator, in declaration order, across schemas (duplicates merged). */
size_t mtp_tl_schema_count(const struct mtp_tl_schema *s);
const struct mtp_tl_combinator *mtp_tl_schema_at(const struct mtp_tl_schema *s, size_t i);
/* Combinators whose explicit id differs from the computed one. */
size_t mtp_tl_schema_id_mismatches(const struct mtp_tl_schema *s);

const struct mtp_tl_combinator *mtp_tl_find_id(const struct mtp_tl_schema *s, uint32_t id);
/* Global lookups (first schema loaded that defines the name wins). */
const struct mtp_tl_combinator *mtp_tl_find_name(const struct mtp_tl_schema *s, const char *name);
const struct mtp_tl_type *mtp_tl_find_type(const struct mtp_tl_schema *s, const char *name);
/* The constructor of type t with that name, or NULL. */
const struct mtp_tl_combinator *mtp_tl_type_ctor(const struct mtp_tl_type *t, const char *name);

/* Shared trefs for the built-in kinds (int, long, ..., Object). */
const struct mtp_tl_tref *mtp_tl_builtin(enum mtp_tl_kind kind);

/* CRC32 of a canonical combinator text. */
uint32_t mtp_tl_crc32(const char *text, size_t len);

#endif
