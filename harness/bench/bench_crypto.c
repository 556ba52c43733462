/* Crypto benchmarks: AES-IGE against the AES-256-CBC ceiling, and MTProto 2.0
 * message encryption.  IGE is as serial as CBC encryption (each block waits
 * for the previous one), so CBC encryption streaming on one context is the
 * speed IGE can reach; the IGE figures pay a key set-up per message on top,
 * because MTProto derives a new key for every message. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "mtp/aes_ige.h"
#include "mtp/msgcrypt.h"
#include "src/crypto/mtp_aes_ige_internal.h"

#define KEY_POOL 64
#define REPETITIONS 3

struct sized {
    size_t len;
    const char *tag;
};
static const struct sized sizes[] = {{1024, "1k"}, {8192, "8k"}, {65536, "64k"}, {1048576, "1m"}};
#define N_SIZES (sizeof sizes / sizeof sizes[0])

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One operation on message number i; returns MTP_OK or a code. */
typedef int (*bench_op)(void *ctx, size_t i);

/* Operations per second: the best of REPETITIONS runs of at least `seconds` each.
 * The clock is read every `batch` operations so that it costs nothing measurable. */
static int rate(bench_op op, void *ctx, size_t batch, double seconds, double *best)
{
    *best = 0;
    size_t i = 0;
    for (int rep = 0; rep < REPETITIONS; rep++) {
        size_t done = 0;
        double t0 = now_s(), dt;
        do {
            for (size_t b = 0; b < batch; b++, i++)
                MTP_GUARD(op(ctx, i));
            done += batch;
            dt = now_s() - t0;
        } while (dt < seconds);
        if ((double)done / dt > *best)
            *best = (double)done / dt;
    }
    return MTP_OK;
}

struct aes_ctx {
    uint8_t keys[KEY_POOL][32];
    uint8_t ivs[KEY_POOL][32];
    uint8_t *buf;
    size_t len;
    enum mtp_aes_impl impl;
    bool encrypt;
    EVP_CIPHER_CTX *cbc;
};

static int op_cbc(void *ctx, size_t i)
{
    (void)i;
    struct aes_ctx *a = ctx;
    int outl = 0;
    return EVP_EncryptUpdate(a->cbc, a->buf, &outl, a->buf, (int)a->len) == 1 ? MTP_OK : MTP_ERR_OSSL;
}

static int op_ige(void *ctx, size_t i)
{
    struct aes_ctx *a = ctx;
    size_t k = i % KEY_POOL;
    return mtp_aes_ige_crypt_impl(a->impl, a->encrypt, a->keys[k], 32, a->ivs[k], a->buf, a->buf, a->len, NULL);
}

struct msg_ctx {
    uint8_t auth_key[MTP_AUTH_KEY_LEN];
    uint8_t plain[1024];
    uint8_t packet[1024 + MTP_MSG_OUTER_HEADER_LEN];
    uint8_t out[1024 + MTP_MSG_OUTER_HEADER_LEN];
};

static int op_msg_encrypt(void *ctx, size_t i)
{
    (void)i;
    struct msg_ctx *m = ctx;
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, m->out, sizeof m->out, NULL);
    return mtp_msg_encrypt(m->auth_key, MTP_SENDER_CLIENT, m->plain, sizeof m->plain, &w, NULL);
}

static int op_msg_decrypt(void *ctx, size_t i)
{
    (void)i;
    struct msg_ctx *m = ctx;
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, m->out, sizeof m->out, NULL);
    return mtp_msg_decrypt(m->auth_key, MTP_SENDER_CLIENT, m->packet, sizeof m->packet, &w, NULL);
}

/* Deterministic filler: the figures must not depend on the data, and the run must not need randomness. */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static size_t batch_for(size_t len) { return len >= 65536 ? 1 : 65536 / len; }

static int bench_aes(const struct mtp_bench_sink *sink, double seconds)
{
    struct aes_ctx *a = calloc(1, sizeof *a);
    uint8_t *buf = malloc(sizes[N_SIZES - 1].len);
    int rc = MTP_OK;
    if (a == NULL || buf == NULL) {
        rc = MTP_ERR_NOMEM;
        goto out;
    }
    a->buf = buf;
    for (size_t k = 0; k < KEY_POOL; k++) {
        fill(a->keys[k], 32, (uint32_t)(2 * k + 1));
        fill(a->ivs[k], 32, (uint32_t)(2 * k + 2));
    }
    fill(buf, sizes[N_SIZES - 1].len, 99);
    double cbc[N_SIZES];
    for (size_t s = 0; s < N_SIZES; s++) {
        a->len = sizes[s].len;
        a->cbc = EVP_CIPHER_CTX_new();
        if (a->cbc == NULL || EVP_EncryptInit_ex2(a->cbc, EVP_aes_256_cbc(), a->keys[0], a->ivs[0], NULL) != 1 ||
            EVP_CIPHER_CTX_set_padding(a->cbc, 0) != 1) {
            EVP_CIPHER_CTX_free(a->cbc);
            rc = MTP_ERR_OSSL;
            goto out;
        }
        double per_s;
        rc = rate(op_cbc, a, batch_for(a->len), seconds, &per_s);
        EVP_CIPHER_CTX_free(a->cbc);
        if (rc < 0)
            goto out;
        cbc[s] = per_s * (double)a->len / 1e6;
        char name[64];
        snprintf(name, sizeof name, "aes_256_cbc_encrypt_%s", sizes[s].tag);
        sink->record(sink->ctx, name, cbc[s], "MB/s", 0);
    }
    static const struct {
        enum mtp_aes_impl impl;
        const char *prefix;
        size_t n_sizes;
    } runs[] = {{MTP_AES_IMPL_AUTO, "aes_ige", N_SIZES}, {MTP_AES_IMPL_EVP, "aes_ige_evp", 2}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        a->impl = runs[r].impl;
        for (int enc = 1; enc >= 0; enc--) {
            a->encrypt = enc;
            for (size_t s = 0; s < runs[r].n_sizes; s++) {
                a->len = sizes[s].len;
                double per_s;
                MTP_TRY(rate(op_ige, a, batch_for(a->len), seconds, &per_s));
                char name[64];
                snprintf(name, sizeof name, "%s_%s_%s", runs[r].prefix, enc ? "encrypt" : "decrypt", sizes[s].tag);
                sink->record(sink->ctx, name, per_s * (double)a->len / 1e6, "MB/s", cbc[s]);
            }
        }
    }
out:
    free(buf);
    free(a);
    return rc;
}

static int bench_msg(const struct mtp_bench_sink *sink, double seconds)
{
    struct msg_ctx *m = calloc(1, sizeof *m);
    if (m == NULL)
        return MTP_ERR_NOMEM;
    int rc = MTP_OK;
    fill(m->auth_key, sizeof m->auth_key, 7);
    fill(m->plain, sizeof m->plain, 8);
    /* a valid message: 976 bytes of data and 16 of padding */
    mtp_store_u32(m->plain + 28, (uint32_t)(sizeof m->plain - MTP_MSG_INNER_HEADER_LEN - 16));
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, m->packet, sizeof m->packet, NULL);
    MTP_TRY(mtp_msg_encrypt(m->auth_key, MTP_SENDER_CLIENT, m->plain, sizeof m->plain, &w, NULL));
    double per_s;
    MTP_TRY(rate(op_msg_encrypt, m, 64, seconds, &per_s));
    sink->record(sink->ctx, "msg_encrypt_1k", per_s, "msg/s", 0);
    MTP_TRY(rate(op_msg_decrypt, m, 64, seconds, &per_s));
    sink->record(sink->ctx, "msg_decrypt_1k", per_s, "msg/s", 0);
out:
    free(m);
    return rc;
}

int mtp_bench_crypto(const struct mtp_bench_sink *sink)
{
    double seconds = sink->min_seconds > 0 ? sink->min_seconds : 0.25;
    MTP_GUARD(bench_aes(sink, seconds));
    return bench_msg(sink, seconds);
}
