/* Target functions: mtp_dh_check (mtp_dh_check_params, mtp_dh_check_ga), mtp_dh_check_gb
 * Input: byte 0 = g (signed); byte 1: bit 7 = full primality tests, bit 6 = also compare with the
 * full mode, bits 0..5 choose the prime: 0 = Telegram's dh_prime with its last byte xored with
 * byte 2, anything else = the next 256 bytes; the rest of the input is g_a.
 * Oracles: only DH reason codes come back; the verdict does not change when p and g_a get a
 * leading zero byte; g_a and g_b range checks agree (with their own codes); with Telegram's
 * prime unchanged and bit 6 set, the full and the trusting mode agree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/dh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_dh_code(int rc) { return rc == MTP_OK || (rc <= MTP_ERR_DH_PRIME_BAD_SIZE && rc >= MTP_ERR_DH_GB_UNSAFE); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || size > 4096)
        return 0;
    int64_t g = (int8_t)data[0];
    enum mtp_dh_mode mode = (data[1] & 0x80) ? MTP_DH_FULL : MTP_DH_TRUST_KNOWN;
    uint8_t p[1 + MTP_DH_BYTES];
    const uint8_t *ga;
    size_t ga_len;
    p[0] = 0;
    if ((data[1] & 0x3f) == 0) {
        memcpy(p + 1, mtp_dh_telegram_prime, MTP_DH_BYTES);
        p[MTP_DH_BYTES] ^= data[2];
        ga = data + 3;
        ga_len = size - 3;
    } else {
        if (size < 2 + MTP_DH_BYTES)
            return 0;
        memcpy(p + 1, data + 2, MTP_DH_BYTES);
        ga = data + 2 + MTP_DH_BYTES;
        ga_len = size - 2 - MTP_DH_BYTES;
    }
    int rc = mtp_dh_check(p + 1, MTP_DH_BYTES, g, ga, ga_len, mode, NULL);
    if (!is_dh_code(rc))
        __builtin_trap();
    uint8_t *ga0 = malloc(ga_len + 1);
    if (ga0 == NULL)
        return 0;
    ga0[0] = 0;
    memcpy(ga0 + 1, ga, ga_len);
    if (mtp_dh_check(p, sizeof p, g, ga0, ga_len + 1, mode, NULL) != rc)
        __builtin_trap();
    int ra = mtp_dh_check_ga(p + 1, MTP_DH_BYTES, ga, ga_len, NULL);
    int rb = mtp_dh_check_gb(p + 1, MTP_DH_BYTES, ga0, ga_len + 1, NULL);
    int mapped = ra == MTP_ERR_DH_GA_OUT_OF_RANGE ? MTP_ERR_DH_GB_OUT_OF_RANGE
                 : ra == MTP_ERR_DH_GA_UNSAFE     ? MTP_ERR_DH_GB_UNSAFE
                                                  : ra;
    if (rb != mapped)
        __builtin_trap();
    /* Two full 2048-bit primality tests are slow: only when asked for (bit 6). */
    if ((data[1] & 0x40) && mtp_dh_prime_is_known(p, sizeof p) && mode == MTP_DH_TRUST_KNOWN &&
        mtp_dh_check(p, sizeof p, g, ga, ga_len, MTP_DH_FULL, NULL) != rc)
        __builtin_trap();
    free(ga0);
    return 0;
}
