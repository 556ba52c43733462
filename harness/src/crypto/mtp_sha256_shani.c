/* SHA-256 (FIPS 180-4) with the SHA extensions: SHA256RNDS2 does two rounds
 * on the state kept as ABEF / CDGH halves, SHA256MSG1/MSG2 extend the message
 * schedule four words at a time.  Only this file is compiled with them
 * enabled (per function), and only called when the CPU has them. */
#include "crypto/mtp_sha256_internal.h"

#include <string.h>

#include "mtp/buf.h"

#if defined(__x86_64__) || defined(__i386__)

#include <cpuid.h>
#include <immintrin.h>

#define SHANI_FN __attribute__((target("sha,sse4.1,ssse3")))
#define SHANI_INLINE static inline __attribute__((always_inline, target("sha,sse4.1,ssse3")))

/* The round constants: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t K[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Compresses one 64-byte block into the state (ABEF, CDGH). */
SHANI_INLINE void block(__m128i *abef, __m128i *cdgh, const uint8_t *p)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
    __m128i s0 = *abef, s1 = *cdgh;
    __m128i w[4];
    for (int g = 0; g < 16; g++) {
        __m128i cur;
        if (g < 4) {
            cur = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
        } else {
            /* W[t..t+3] from W[t-16..t-1]: sigma0 via MSG1, the W[t-7] terms via ALIGNR, sigma1 via MSG2 */
            __m128i a = w[g % 4], b = w[(g + 1) % 4], c = w[(g + 2) % 4], d = w[(g + 3) % 4];
            cur = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(a, b), _mm_alignr_epi8(d, c, 4)), d);
        }
        w[g % 4] = cur;
        __m128i msg = _mm_add_epi32(cur, _mm_load_si128((const __m128i *)(K + 4 * g)));
        s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
        s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(msg, 0x0e));
    }
    *abef = _mm_add_epi32(*abef, s0);
    *cdgh = _mm_add_epi32(*cdgh, s1);
}

bool mtp_sha256_shani_available(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29)))
        return false;
    return __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3");
}

SHANI_FN void mtp_sha256_shani(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[32])
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    /* ABEF = [f, e, b, a] and CDGH = [h, g, d, c] in lanes 0..3 */
    __m128i abef = _mm_set_epi32((int)h0[0], (int)h0[1], (int)h0[4], (int)h0[5]);
    __m128i cdgh = _mm_set_epi32((int)h0[2], (int)h0[3], (int)h0[6], (int)h0[7]);
    uint8_t buf[128];
    size_t have = 0; /* bytes waiting in buf */
    const uint8_t *parts[2] = {a, b};
    size_t lens[2] = {alen, blen};
    for (int i = 0; i < 2; i++) {
        const uint8_t *p = parts[i];
        size_t n = lens[i];
        if (n == 0)
            continue; /* p may be NULL then */
        if (have) {
            size_t k = 64 - have < n ? 64 - have : n;
            memcpy(buf + have, p, k);
            have += k, p += k, n -= k;
            if (have == 64) {
                block(&abef, &cdgh, buf);
                have = 0;
            }
        }
        for (; n >= 64; p += 64, n -= 64)
            block(&abef, &cdgh, p);
        if (n) {
            memcpy(buf, p, n);
            have = n;
        }
    }
    /* 0x80, zeros, and the length in bits, big-endian, ending a block */
    uint64_t bits = (uint64_t)(alen + blen) * 8;
    buf[have++] = 0x80;
    size_t end = have <= 56 ? 64 : 128;
    memset(buf + have, 0, end - 8 - have);
    for (int i = 0; i < 8; i++)
        buf[end - 1 - i] = (uint8_t)(bits >> (8 * i));
    block(&abef, &cdgh, buf);
    if (end == 128)
        block(&abef, &cdgh, buf + 64);
    /* back to a..h, big-endian bytes */
    __m128i feba = _mm_shuffle_epi32(abef, 0x1b);   /* [a, b, e, f] */
    __m128i ghcd = _mm_shuffle_epi32(cdgh, 0xb1);   /* [g, h, c, d] */
    __m128i abcd = _mm_blend_epi16(feba, ghcd, 0xf0);
    __m128i efgh = _mm_alignr_epi8(ghcd, feba, 8);
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
    _mm_storeu_si128((__m128i *)out, _mm_shuffle_epi8(abcd, bswap));
    _mm_storeu_si128((__m128i *)(out + 16), _mm_shuffle_epi8(efgh, bswap));
    mtp_wipe(buf, sizeof buf);
}

#else

bool mtp_sha256_shani_available(void) { return false; }

/* Unreachable: callers check mtp_sha256_shani_available() first. */
void mtp_sha256_shani(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[32])
{
    (void)a, (void)alen, (void)b, (void)blen, (void)out;
    __builtin_trap();
}

#endif
