/* Target functions: mtp_tl_rd_* (TL primitive reader) and mtp_tl_wr_* (writer)
 * Input: a script. Each byte selects the next primitive to read from the rest
 * of the input; whatever is read is written back and must re-read identically. */
#include <stdint.h>
#include <string.h>

#include "mtp/tl_prim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip_bytes(const uint8_t *p, size_t n)
{
    uint8_t buf[4096 + 8];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    if (mtp_tl_wr_bytes(&w, p, n) != MTP_OK)
        return;
    struct mtp_rd r;
    mtp_rd_init(&r, buf, w.len, NULL);
    const uint8_t *q;
    size_t m;
    if (mtp_tl_rd_bytes(&r, &q, &m, true, "x") != MTP_OK || m != n || memcmp(p, q, n) != 0 || mtp_rd_left(&r) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rd script, r;
    mtp_rd_init(&script, data, size / 8 + 1, &err);
    mtp_rd_init(&r, data + size / 8 + 1, size - (size / 8 + 1), &err);
    uint8_t op;
    while (mtp_rd_u8(&script, &op, "op") == MTP_OK) {
        size_t before = r.pos;
        int rc = MTP_OK;
        switch (op % 8) {
        case 0: {
            int32_t v;
            rc = mtp_tl_rd_int(&r, &v, "int");
            break;
        }
        case 1: {
            int64_t v;
            rc = mtp_tl_rd_long(&r, &v, "long");
            break;
        }
        case 2: {
            double v;
            rc = mtp_tl_rd_double(&r, &v, "double");
            break;
        }
        case 3: {
            uint8_t v[32];
            rc = (op & 8) ? mtp_tl_rd_int256(&r, v, "int256") : mtp_tl_rd_int128(&r, v, "int128");
            break;
        }
        case 4: {
            const uint8_t *p;
            size_t n;
            rc = mtp_tl_rd_bytes(&r, &p, &n, (op & 8) != 0, "bytes");
            if (rc == MTP_OK) {
                if (p < r.p || p + n > r.p + r.len)
                    __builtin_trap();
                if (n <= 4096)
                    roundtrip_bytes(p, n);
            }
            break;
        }
        case 5: {
            bool v;
            rc = mtp_tl_rd_bool(&r, &v, "bool");
            break;
        }
        case 6: {
            uint32_t n;
            rc = (op & 8) ? mtp_tl_rd_vector_boxed(&r, op >> 4, &n, "vector")
                          : mtp_tl_rd_vector_bare(&r, op >> 4, &n, "vector");
            if (rc == MTP_OK && (op >> 4) > 0 && (size_t)n * (op >> 4) > mtp_rd_left(&r))
                __builtin_trap();
            break;
        }
        default: {
            struct mtp_rd sub;
            rc = mtp_rd_sub(&r, op >> 3, &sub, "sub");
            break;
        }
        }
        /* A failed read consumes nothing; a successful one never runs past the end. */
        if (rc != MTP_OK && r.pos != before)
            __builtin_trap();
        if (r.pos > r.len)
            __builtin_trap();
        mtp_error_clear(&err);
    }
    return 0;
}
