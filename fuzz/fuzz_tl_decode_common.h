/* Shared body of the TL decoder fuzz targets: the first byte picks the
 * options (strict mode, a type to decode as), the rest is the message.  Every
 * value that decodes must re-encode to exactly the same bytes, render as
 * text and JSON, and (in strict mode) come back from its JSON unchanged. */
#ifndef MTP_FUZZ_TL_DECODE_COMMON_H
#define MTP_FUZZ_TL_DECODE_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/tl_value.h"
#include "tlengine/tl_files.h"
#include "tlengine/tl_json.h"

static int fuzz_load(const char *name, struct mtp_tl_schema **s)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_tl_schema_load(&name, 1, s, &err) != MTP_OK)
        abort(); /* the bundled schema must load */
    return 0;
}

/* JSON of a value, as compact text (malloc'ed), or NULL. */
static char *fuzz_json_text(const struct mtp_tl_value *v)
{
    json_t *j = mtp_tl_json_from_value(v);
    if (j == NULL)
        return NULL;
    char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    json_decref(j);
    return t;
}

static void fuzz_decode_one(const struct mtp_tl_schema *s, const char *const *types, size_t ntypes,
                            const uint8_t *data, size_t size, bool check_json)
{
    if (size == 0)
        return;
    uint8_t sel = data[0];
    data++;
    size--;
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, mtp_tl_decode_budget(size));
    const struct mtp_tl_tref *t = NULL;
    if ((sel & 0x1c) && ntypes)
        if (mtp_tl_type_parse(s, types[((sel >> 2) & 7) % ntypes], &a, &t, &err) != MTP_OK)
            abort();
    struct mtp_tl_decode_opts o = {.strict = (sel & 1) != 0, .allow_trailing = (sel & 2) != 0,
                                   .max_gzip = 1u << 20};
    struct mtp_tl_value v;
    size_t used = 0;
    int rc = mtp_tl_decode(s, t, data, size, &o, &a, &v, &used, &err);
    if (rc < 0) {
        if (err.code != rc || err.msg[0] == '\0')
            __builtin_trap();
        mtp_tl_arena_free(&a);
        return;
    }
    if (used > size || (!o.allow_trailing && used != size))
        __builtin_trap();
    /* exact re-encoding */
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 4 * size + 1024, NULL);
    if (mtp_tl_encode(s, t, &v, &w, NULL) != MTP_OK || w.len != used || memcmp(w.p, data, used) != 0)
        __builtin_trap();
    mtp_wr_free(&w);
    /* renderings */
    struct mtp_wr text;
    mtp_wr_init_dyn(&text, 1u << 26, NULL);
    struct mtp_tl_text_opts to = {.multiline = (sel & 0x20) != 0, .max_bytes = (sel & 0x40) ? 8 : 0};
    if (mtp_tl_text(&v, &to, &text) != MTP_OK)
        __builtin_trap();
    mtp_wr_free(&text);
    char *j1 = fuzz_json_text(&v);
    if (j1 == NULL)
        __builtin_trap();
    /* JSON -> bytes -> JSON is the identity (strict mode: no non-canonical forms to lose) */
    if (check_json && o.strict) {
        json_t *j = json_loads(j1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        struct mtp_wr w2;
        mtp_wr_init_dyn(&w2, 8 * size + 1024, NULL);
        if (j == NULL || mtp_tl_json_encode(s, t, j, &w2, &err) != MTP_OK)
            __builtin_trap();
        struct mtp_tl_arena a2;
        mtp_tl_arena_init(&a2, mtp_tl_decode_budget(w2.len));
        struct mtp_tl_value v2;
        if (mtp_tl_decode(s, t, w2.p, w2.len, &o, &a2, &v2, NULL, &err) != MTP_OK)
            __builtin_trap();
        char *j2 = fuzz_json_text(&v2);
        if (j2 == NULL || strcmp(j1, j2) != 0)
            __builtin_trap();
        free(j2);
        mtp_tl_arena_free(&a2);
        mtp_wr_free(&w2);
        json_decref(j);
    }
    free(j1);
    mtp_tl_arena_free(&a);
}

#endif
