/* AES-IGE with AES-NI intrinsics.
 *
 * IGE is as serial as CBC encryption in both directions: block i needs the
 * output of block i-1 (the ciphertext when encrypting, the plaintext when
 * decrypting).  So the speed limit is the latency of one AES chain, and the
 * kernel keeps every extra XOR off that chain:
 *   - the input block is XORed with round key 0 before the previous output
 *     arrives, so the chain sees one XOR, exactly as in CBC;
 *   - the XOR with the other previous block is folded into the last round
 *     key, because AESENCLAST / AESDECLAST end with "XOR round key".
 * The result runs at CBC-encryption speed in both directions.
 *
 * Only this file is compiled with AES instructions enabled (per function, by
 * the target attribute), so the rest of the build needs no -maes and the
 * caller checks mtp_aesni_available() at run time. */
#include "crypto/mtp_aes_ige_internal.h"

#include "mtp/buf.h"

#if defined(__x86_64__) || defined(__i386__)

#include <emmintrin.h>
#include <wmmintrin.h>

#define AESNI_FN __attribute__((target("aes,sse2")))
#define AESNI_INLINE static inline __attribute__((always_inline, target("aes,sse2")))

/* Encryption keys, or (for decryption) the equivalent inverse cipher's keys. */
struct aesni_sched {
    __m128i rk[15];
    int rounds;
};

/* One step of the key expansion.  t carries SubWord/RotWord/Rcon of the
 * previous word broadcast to all four lanes; the shifts compute the running
 * XOR w0, w0^w1, w0^w1^w2, w0^w1^w2^w3 of the older key block in two steps. */
AESNI_INLINE __m128i expand_step(__m128i older, __m128i t)
{
    older = _mm_xor_si128(older, _mm_slli_si128(older, 4));
    older = _mm_xor_si128(older, _mm_slli_si128(older, 8));
    return _mm_xor_si128(older, t);
}

/* AESKEYGENASSIST needs its round constant as an immediate, hence macros. */
#define NEXT_ROT(older, newer, rcon) expand_step((older), _mm_shuffle_epi32(_mm_aeskeygenassist_si128((newer), (rcon)), 0xff))
#define NEXT_SUB(older, newer) expand_step((older), _mm_shuffle_epi32(_mm_aeskeygenassist_si128((newer), 0), 0xaa))

AESNI_INLINE void expand128(const uint8_t *key, __m128i rk[11])
{
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = NEXT_ROT(rk[0], rk[0], 0x01);
    rk[2] = NEXT_ROT(rk[1], rk[1], 0x02);
    rk[3] = NEXT_ROT(rk[2], rk[2], 0x04);
    rk[4] = NEXT_ROT(rk[3], rk[3], 0x08);
    rk[5] = NEXT_ROT(rk[4], rk[4], 0x10);
    rk[6] = NEXT_ROT(rk[5], rk[5], 0x20);
    rk[7] = NEXT_ROT(rk[6], rk[6], 0x40);
    rk[8] = NEXT_ROT(rk[7], rk[7], 0x80);
    rk[9] = NEXT_ROT(rk[8], rk[8], 0x1b);
    rk[10] = NEXT_ROT(rk[9], rk[9], 0x36);
}

/* AES-256 alternates the two kinds of step: every other block gets SubWord only. */
AESNI_INLINE void expand256(const uint8_t *key, __m128i rk[15])
{
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
    rk[2] = NEXT_ROT(rk[0], rk[1], 0x01);
    rk[3] = NEXT_SUB(rk[1], rk[2]);
    rk[4] = NEXT_ROT(rk[2], rk[3], 0x02);
    rk[5] = NEXT_SUB(rk[3], rk[4]);
    rk[6] = NEXT_ROT(rk[4], rk[5], 0x04);
    rk[7] = NEXT_SUB(rk[5], rk[6]);
    rk[8] = NEXT_ROT(rk[6], rk[7], 0x08);
    rk[9] = NEXT_SUB(rk[7], rk[8]);
    rk[10] = NEXT_ROT(rk[8], rk[9], 0x10);
    rk[11] = NEXT_SUB(rk[9], rk[10]);
    rk[12] = NEXT_ROT(rk[10], rk[11], 0x20);
    rk[13] = NEXT_SUB(rk[11], rk[12]);
    rk[14] = NEXT_ROT(rk[12], rk[13], 0x40);
}

AESNI_INLINE void sched_encrypt(struct aesni_sched *s, const uint8_t *key, size_t key_len)
{
    if (key_len == 32) {
        expand256(key, s->rk);
        s->rounds = 14;
    } else {
        expand128(key, s->rk);
        s->rounds = 10;
    }
}

/* The equivalent inverse cipher (FIPS-197 5.3.5): reversed keys, InvMixColumns on the inner ones. */
AESNI_INLINE void sched_decrypt(struct aesni_sched *s, const uint8_t *key, size_t key_len)
{
    struct aesni_sched e;
    sched_encrypt(&e, key, key_len);
    int nr = e.rounds;
    s->rounds = nr;
    s->rk[0] = e.rk[nr];
    for (int r = 1; r < nr; r++)
        s->rk[r] = _mm_aesimc_si128(e.rk[nr - r]);
    s->rk[nr] = e.rk[0];
    mtp_wipe(&e, sizeof e);
}

/* Compilers reassociate (in ^ rk0) ^ prev into (prev ^ rk0) ^ in, which puts
 * both XORs on the chain; an empty asm makes the first result opaque. */
#define KEEP_OFF_CHAIN(v) __asm__("" : "+x"(v))

/* y: previous ciphertext block, x: previous plaintext block.  nr is a
 * constant at each call site, so the round loop unrolls. */
AESNI_INLINE void ige_enc_blocks(const __m128i *rk, int nr, __m128i y, __m128i x, const uint8_t *in, uint8_t *out,
                                 size_t nblocks)
{
    for (size_t i = 0; i < nblocks; i++) {
        __m128i p = _mm_loadu_si128((const __m128i *)(in + 16 * i));
        __m128i s = _mm_xor_si128(p, rk[0]);
        KEEP_OFF_CHAIN(s);
        s = _mm_xor_si128(s, y);
        for (int r = 1; r < nr; r++)
            s = _mm_aesenc_si128(s, rk[r]);
        y = _mm_aesenclast_si128(s, _mm_xor_si128(rk[nr], x));
        _mm_storeu_si128((__m128i *)(out + 16 * i), y);
        x = p;
    }
}

AESNI_INLINE void ige_dec_blocks(const __m128i *dk, int nr, __m128i y, __m128i x, const uint8_t *in, uint8_t *out,
                                 size_t nblocks)
{
    for (size_t i = 0; i < nblocks; i++) {
        __m128i c = _mm_loadu_si128((const __m128i *)(in + 16 * i));
        __m128i s = _mm_xor_si128(c, dk[0]);
        KEEP_OFF_CHAIN(s);
        s = _mm_xor_si128(s, x);
        for (int r = 1; r < nr; r++)
            s = _mm_aesdec_si128(s, dk[r]);
        x = _mm_aesdeclast_si128(s, _mm_xor_si128(dk[nr], y));
        _mm_storeu_si128((__m128i *)(out + 16 * i), x);
        y = c;
    }
}

bool mtp_aesni_available(void) { return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse2"); }

AESNI_FN void mtp_aesni_ige_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[MTP_AES_IGE_IV_LEN],
                                    const uint8_t *in, uint8_t *out, size_t len)
{
    struct aesni_sched s;
    sched_encrypt(&s, key, key_len);
    __m128i y = _mm_loadu_si128((const __m128i *)iv);
    __m128i x = _mm_loadu_si128((const __m128i *)(iv + 16));
    if (s.rounds == 14)
        ige_enc_blocks(s.rk, 14, y, x, in, out, len / 16);
    else
        ige_enc_blocks(s.rk, 10, y, x, in, out, len / 16);
    mtp_wipe(&s, sizeof s);
}

AESNI_FN void mtp_aesni_ige_decrypt(const uint8_t *key, size_t key_len, const uint8_t iv[MTP_AES_IGE_IV_LEN],
                                    const uint8_t *in, uint8_t *out, size_t len)
{
    struct aesni_sched s;
    sched_decrypt(&s, key, key_len);
    __m128i y = _mm_loadu_si128((const __m128i *)iv);
    __m128i x = _mm_loadu_si128((const __m128i *)(iv + 16));
    if (s.rounds == 14)
        ige_dec_blocks(s.rk, 14, y, x, in, out, len / 16);
    else
        ige_dec_blocks(s.rk, 10, y, x, in, out, len / 16);
    mtp_wipe(&s, sizeof s);
}

AESNI_FN void mtp_aesni_block_encrypt(const uint8_t *key, size_t key_len, const uint8_t in[16], uint8_t out[16])
{
    struct aesni_sched s;
    sched_encrypt(&s, key, key_len);
    __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)in), s.rk[0]);
    for (int r = 1; r < s.rounds; r++)
        b = _mm_aesenc_si128(b, s.rk[r]);
    _mm_storeu_si128((__m128i *)out, _mm_aesenclast_si128(b, s.rk[s.rounds]));
    mtp_wipe(&s, sizeof s);
}

AESNI_FN void mtp_aesni_block_decrypt(const uint8_t *key, size_t key_len, const uint8_t in[16], uint8_t out[16])
{
    struct aesni_sched s;
    sched_decrypt(&s, key, key_len);
    __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)in), s.rk[0]);
    for (int r = 1; r < s.rounds; r++)
        b = _mm_aesdec_si128(b, s.rk[r]);
    _mm_storeu_si128((__m128i *)out, _mm_aesdeclast_si128(b, s.rk[s.rounds]));
    mtp_wipe(&s, sizeof s);
}

/* ---- several messages at once ----
 *
 * One chain waits about 4 cycles per AESDEC; eight chains side by side issue
 * one AESDEC per cycle.  Each lane is one message with its own key schedule
 * (read from memory: eight schedules do not fit in sixteen registers, and
 * loads are not on the chain).  Lanes run in lockstep for as many blocks as
 * the shortest of them has left; a lane that finishes takes the next job. */
struct ige_lane {
    struct aesni_sched s;
    __m128i y, x;
    const uint8_t *in;
    uint8_t *out;
    size_t left; /* blocks */
};

/* L lanes for m blocks, written out lane by lane so that each lane's state
 * stays in a register (the compiler does not unroll nested loops over
 * arrays of vectors into registers). */
#define LANE_IN(l)                                                                                                     \
    __m128i c##l = _mm_loadu_si128((const __m128i *)(ln[l].in + off));                                               \
    __m128i s##l = _mm_xor_si128(_mm_xor_si128(c##l, ln[l].s.rk[0]), x##l);
#define LANE_ROUND(l) s##l = _mm_aesdec_si128(s##l, ln[l].s.rk[r]);
#define LANE_OUT(l)                                                                                                    \
    x##l = _mm_aesdeclast_si128(s##l, _mm_xor_si128(ln[l].s.rk[14], y##l));                                         \
    _mm_storeu_si128((__m128i *)(ln[l].out + off), x##l);                                                            \
    y##l = c##l;
#define LANE_STATE(l) __m128i x##l = ln[l].x, y##l = ln[l].y;
#define LANE_SAVE(l) ln[l].x = x##l, ln[l].y = y##l;

#define EACH4(M) M(0) M(1) M(2) M(3)
#define EACH8(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)

AESNI_INLINE void lanes8(struct ige_lane *ln, size_t m)
{
    EACH8(LANE_STATE)
    for (size_t i = 0; i < m; i++) {
        size_t off = 16 * i;
        EACH8(LANE_IN)
        for (int r = 1; r < 14; r++) {
            EACH8(LANE_ROUND)
        }
        EACH8(LANE_OUT)
    }
    EACH8(LANE_SAVE)
}

AESNI_INLINE void lanes4(struct ige_lane *ln, size_t m)
{
    EACH4(LANE_STATE)
    for (size_t i = 0; i < m; i++) {
        size_t off = 16 * i;
        EACH4(LANE_IN)
        for (int r = 1; r < 14; r++) {
            EACH4(LANE_ROUND)
        }
        EACH4(LANE_OUT)
    }
    EACH4(LANE_SAVE)
}

/* m blocks of the first nl lanes: eight or four at once, the rest one by one. */
AESNI_INLINE void lanes_run(struct ige_lane *ln, int nl, size_t m)
{
    int l = 0;
    if (nl - l >= 8) {
        lanes8(ln + l, m);
        l += 8;
    }
    if (nl - l >= 4) {
        lanes4(ln + l, m);
        l += 4;
    }
    for (; l < nl; l++) {
        /* the chain's last blocks, for the next call on this lane (read before in == out is overwritten) */
        __m128i last_c = _mm_loadu_si128((const __m128i *)(ln[l].in + 16 * (m - 1)));
        ige_dec_blocks(ln[l].s.rk, 14, ln[l].y, ln[l].x, ln[l].in, ln[l].out, m);
        ln[l].y = last_c;
        ln[l].x = _mm_loadu_si128((const __m128i *)(ln[l].out + 16 * (m - 1)));
    }
    for (l = 0; l < nl; l++) {
        ln[l].in += 16 * m;
        ln[l].out += 16 * m;
        ln[l].left -= m;
    }
}

AESNI_FN static void lane_load(struct ige_lane *l, const struct mtp_aes_ige_job *j)
{
    sched_decrypt(&l->s, j->key, 32);
    l->y = _mm_loadu_si128((const __m128i *)j->iv);
    l->x = _mm_loadu_si128((const __m128i *)(j->iv + 16));
    l->in = j->in;
    l->out = j->out;
    l->left = j->len / 16;
}

AESNI_FN void mtp_aesni_ige_decrypt_many(const struct mtp_aes_ige_job *jobs, size_t n)
{
    struct ige_lane ln[MTP_AES_IGE_LANES];
    int nl = 0;
    size_t next = 0;
    for (;;) {
        while (nl < MTP_AES_IGE_LANES && next < n) {
            if (jobs[next].len > 0)
                lane_load(&ln[nl++], &jobs[next]);
            next++;
        }
        if (nl == 0)
            break;
        size_t m = ln[0].left;
        for (int l = 1; l < nl; l++)
            if (ln[l].left < m)
                m = ln[l].left;
        lanes_run(ln, nl, m);
        for (int l = 0; l < nl;) {
            if (ln[l].left == 0) {
                ln[l] = ln[nl - 1];
                nl--;
            } else {
                l++;
            }
        }
    }
    mtp_wipe(ln, sizeof ln);
}

#else /* no x86: the EVP path is the only one */

bool mtp_aesni_available(void) { return false; }

/* Unreachable: callers check mtp_aesni_available() first. */
void mtp_aesni_ige_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[MTP_AES_IGE_IV_LEN],
                           const uint8_t *in, uint8_t *out, size_t len)
{
    (void)key, (void)key_len, (void)iv, (void)in, (void)out, (void)len;
    __builtin_trap();
}

void mtp_aesni_ige_decrypt(const uint8_t *key, size_t key_len, const uint8_t iv[MTP_AES_IGE_IV_LEN],
                           const uint8_t *in, uint8_t *out, size_t len)
{
    (void)key, (void)key_len, (void)iv, (void)in, (void)out, (void)len;
    __builtin_trap();
}

void mtp_aesni_block_encrypt(const uint8_t *key, size_t key_len, const uint8_t in[16], uint8_t out[16])
{
    (void)key, (void)key_len, (void)in, (void)out;
    __builtin_trap();
}

void mtp_aesni_ige_decrypt_many(const struct mtp_aes_ige_job *jobs, size_t n)
{
    (void)jobs, (void)n;
    __builtin_trap();
}

void mtp_aesni_block_decrypt(const uint8_t *key, size_t key_len, const uint8_t in[16], uint8_t out[16])
{
    (void)key, (void)key_len, (void)in, (void)out;
    __builtin_trap();
}

#endif
