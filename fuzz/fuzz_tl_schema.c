/* Target functions: mtp_tl_schema_add_text, mtp_tl_schema_link, mtp_tl_type_parse, and
 * mtp_tl_decode / mtp_tl_encode over whatever schema parsed.
 * Input: TL schema text.  When it parses, the same bytes are also decoded as an
 * object of that schema (small limits), and what decodes must re-encode exactly. */
#include <stdint.h>
#include <string.h>

#include "mtp/tl_value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_tl_schema *s = mtp_tl_schema_new();
    if (s == NULL)
        return 0;
    int rc = mtp_tl_schema_add_text(s, (const char *)data, size, "fuzz.tl", 0, &err);
    if (rc == MTP_OK)
        rc = mtp_tl_schema_link(s, &err);
    /* Every failure is reported with a code and a message. */
    if (rc < 0 && (err.code != rc || err.msg[0] == '\0'))
        __builtin_trap();
    if (rc == MTP_OK) {
        size_t n = mtp_tl_schema_count(s);
        for (size_t i = 0; i < n; i++) {
            const struct mtp_tl_combinator *c = mtp_tl_schema_at(s, i);
            if (mtp_tl_find_id(s, c->id) != c || c->id != (c->explicit_id ? c->id : c->computed_id) ||
                mtp_tl_crc32(c->canonical, strlen(c->canonical)) != c->computed_id)
                __builtin_trap();
        }
        struct mtp_tl_arena a;
        mtp_tl_arena_init(&a, 1u << 20);
        const struct mtp_tl_tref *t = NULL;
        if (n > 0 && mtp_tl_schema_at(s, 0)->type && !mtp_tl_schema_at(s, 0)->is_function)
            if (mtp_tl_type_parse(s, mtp_tl_schema_at(s, 0)->type->name, &a, &t, &err) != MTP_OK)
                t = NULL;
        struct mtp_tl_decode_opts o = {.max_depth = 16, .max_gzip = 1 << 16, .max_elems = 1024};
        struct mtp_tl_value v;
        mtp_error_clear(&err);
        if (mtp_tl_decode(s, t, data, size, &o, &a, &v, NULL, &err) == MTP_OK) {
            struct mtp_wr w;
            mtp_wr_init_dyn(&w, size + 64, NULL);
            if (mtp_tl_encode(s, t, &v, &w, NULL) != MTP_OK || w.len != size || memcmp(w.p, data, size) != 0)
                __builtin_trap();
            mtp_wr_free(&w);
        }
        mtp_tl_arena_free(&a);
    }
    mtp_tl_schema_free(s);
    return 0;
}
