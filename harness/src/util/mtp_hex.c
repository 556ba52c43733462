#include "mtp/hex.h"

#include <stdlib.h>

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int mtp_hex_decode(const char *hex, size_t hex_len, struct mtp_wr *w, const char *field)
{
    if (hex_len % 2)
        return mtp_error_set(w->err, MTP_ERR_HEX, MTP_NO_OFFSET, "%s: hex string has odd length %zu", field,
                             hex_len);
    uint8_t *out;
    MTP_GUARD(mtp_wr_reserve(w, hex_len / 2, &out));
    for (size_t i = 0; i < hex_len; i += 2) {
        int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            w->len -= hex_len / 2;
            return mtp_error_set(w->err, MTP_ERR_HEX, MTP_NO_OFFSET, "%s: not a hex digit at character %zu", field,
                                 hi < 0 ? i : i + 1);
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return MTP_OK;
}

int mtp_hex_decode_exact(const char *hex, void *dst, size_t n, struct mtp_error *err, const char *field)
{
    size_t len = 0;
    while (hex[len])
        len++;
    if (len != 2 * n)
        return mtp_error_set(err, MTP_ERR_HEX, MTP_NO_OFFSET, "%s: expected %zu bytes (%zu hex digits), got %zu digits",
                             field, n, 2 * n, len);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, dst, n, err);
    return mtp_hex_decode(hex, len, &w, field);
}

void mtp_hex_encode(const void *src, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *s = (const uint8_t *)src;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[s[i] >> 4];
        out[2 * i + 1] = digits[s[i] & 15];
    }
    out[2 * n] = '\0';
}

char *mtp_hex_alloc(const void *src, size_t n)
{
    char *out = malloc(2 * n + 1);
    if (out)
        mtp_hex_encode(src, n, out);
    return out;
}
