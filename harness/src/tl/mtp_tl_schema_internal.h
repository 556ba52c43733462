/* Internals shared by the TL schema, value and codec sources (not public). */
#ifndef MTP_TL_SCHEMA_INTERNAL_H
#define MTP_TL_SCHEMA_INTERNAL_H

#include "mtp/tl_schema.h"
#include "mtp/tl_value.h"

/* Open-addressing map from 32-bit ids to combinators. */
struct mtp_tl_idmap {
    uint32_t *keys;
    const struct mtp_tl_combinator **vals;
    size_t cap; /* power of two, 0 when empty */
    size_t n;
};

/* Resolves a type expression in the scope of no combinator (for
 * mtp_tl_type_parse); trefs go to arena a. */
int mtp_tl_schema_parse_type(const struct mtp_tl_schema *s, const char *text, struct mtp_tl_arena *a,
                             const struct mtp_tl_tref **out, struct mtp_error *err);

static inline const struct mtp_tl_combinator *mtp_tl_idmap_get(const struct mtp_tl_idmap *m, uint32_t id)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = (id ^ (id >> 16)) & mask;; i = (i + 1) & mask) {
        if (m->vals[i] == NULL)
            return NULL;
        if (m->keys[i] == id)
            return m->vals[i];
    }
}

const struct mtp_tl_idmap *mtp_tl_schema_idmap(const struct mtp_tl_schema *s);

#endif
