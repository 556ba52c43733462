/* Crypto benchmarks: AES-IGE against the AES-256-CBC ceiling, and MTProto 2.0
 * message encryption.  IGE is as serial as CBC encryption (each block waits
 * for the previous one), so CBC encryption streaming on one context is the
 * speed IGE can reach; the IGE figures pay a key set-up per message on top,
 * because MTProto derives a new key for every message.  A capture decoder
 * holds many independent messages at once: aes_ige_decrypt_many decrypts 8
 * of them interleaved, against the single-stream figure. */
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
#define REPETITIONS 5

struct sized {
    size_t len;
    const char *tag;
};
static const struct sized sizes[] = {{1024, "1k"}, {8192, "8k"}, {65536, "64k"}, {1048576, "1m"}};
#define N_SIZES (sizeof sizes / sizeof sizes[0])

/* One operation on message number i; returns MTP_OK or a code. */
typedef int (*bench_op)(void *ctx, size_t i);

/* Operations per second over one run of at least `seconds`; the clock is
 * read every `batch` operations so that it costs nothing measurable.  *i
 * numbers the messages across runs. */
static int rate_once(bench_op op, void *ctx, size_t batch, double seconds, size_t *i, double *per_s)
{
    size_t done = 0;
    double t0 = mtp_bench_now_s(), dt;
    do {
        for (size_t b = 0; b < batch; b++, (*i)++)
            MTP_GUARD(op(ctx, *i));
        done += batch;
        dt = mtp_bench_now_s() - t0;
    } while (dt < seconds);
    *per_s = (double)done / dt;
    return MTP_OK;
}

/* The best of REPETITIONS runs. */
static int rate(bench_op op, void *ctx, size_t batch, double seconds, double *best)
{
    *best = 0;
    size_t i = 0;
    for (int rep = 0; rep < REPETITIONS; rep++) {
        double r;
        MTP_GUARD(rate_once(op, ctx, batch, seconds, &i, &r));
        *best = r > *best ? r : *best;
    }
    return MTP_OK;
}

struct aes_ctx {
    uint8_t keys[KEY_POOL][32];
    uint8_t ivs[KEY_POOL][32];
    uint8_t *buf;
    uint8_t *lanes;         /* MTP_AES_IGE_LANES buffers of the largest size, for the batch */
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

/* MTP_AES_IGE_LANES independent messages in one call. */
static int op_ige_many(void *ctx, size_t i)
{
    struct aes_ctx *a = ctx;
    struct mtp_aes_ige_job jobs[MTP_AES_IGE_LANES];
    for (size_t l = 0; l < MTP_AES_IGE_LANES; l++) {
        size_t k = (i * MTP_AES_IGE_LANES + l) % KEY_POOL;
        uint8_t *b = a->lanes + l * sizes[N_SIZES - 1].len;
        jobs[l] = (struct mtp_aes_ige_job){a->keys[k], a->ivs[k], b, b, a->len};
    }
    return mtp_aes_ige_decrypt_many(jobs, MTP_AES_IGE_LANES, NULL);
}

struct msg_ctx {
    struct mtp_msgcrypt *keyed;
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

static int op_msgcrypt_encrypt(void *ctx, size_t i)
{
    (void)i;
    struct msg_ctx *m = ctx;
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, m->out, sizeof m->out, NULL);
    return mtp_msgcrypt_encrypt(m->keyed, MTP_SENDER_CLIENT, m->plain, sizeof m->plain, &w, NULL);
}

static int op_msgcrypt_decrypt(void *ctx, size_t i)
{
    (void)i;
    struct msg_ctx *m = ctx;
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, m->out, sizeof m->out, NULL);
    return mtp_msgcrypt_decrypt(m->keyed, MTP_SENDER_CLIENT, m->packet, sizeof m->packet, &w, NULL);
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

/* What is measured at each size: the CBC ceiling, then IGE through the
 * dispatcher and (at the small sizes) through the EVP fallback. */
struct aes_run {
    const char *name;
    enum mtp_aes_impl impl;
    bool encrypt;
    size_t n_sizes;
    size_t messages;  /* per operation */
    size_t ceiling;   /* the run it is measured against */
};
/* aes_ige_decrypt_many: 8 independent messages per call (mtp_aes_ige_decrypt_many),
 * measured against one message at a time (aes_ige_decrypt): the gain of interleaving. */
static const struct aes_run aes_runs[] = {
    {"aes_256_cbc_encrypt", MTP_AES_IMPL_AUTO, true, N_SIZES, 1, 0},
    {"aes_ige_encrypt", MTP_AES_IMPL_AUTO, true, N_SIZES, 1, 0},
    {"aes_ige_decrypt", MTP_AES_IMPL_AUTO, false, N_SIZES, 1, 0},
    {"aes_ige_evp_encrypt", MTP_AES_IMPL_EVP, true, 2, 1, 0},
    {"aes_ige_evp_decrypt", MTP_AES_IMPL_EVP, false, 2, 1, 0},
    {"aes_ige_decrypt_many", MTP_AES_IMPL_AUTO, false, N_SIZES, MTP_AES_IGE_LANES, 2},
};
#define N_AES_RUNS (sizeof aes_runs / sizeof aes_runs[0])

/* The runs of one size take turns, repetition by repetition, so that a
 * machine whose speed drifts (other load, frequency changes) shifts the
 * ceiling and the figures measured against it alike. */
static int bench_aes_size(struct aes_ctx *a, size_t s, double seconds, double best[N_AES_RUNS])
{
    a->len = sizes[s].len;
    a->cbc = EVP_CIPHER_CTX_new();
    int rc = MTP_OK;
    if (a->cbc == NULL || EVP_EncryptInit_ex2(a->cbc, EVP_aes_256_cbc(), a->keys[0], a->ivs[0], NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(a->cbc, 0) != 1) {
        rc = MTP_ERR_OSSL;
        goto out;
    }
    size_t msg[N_AES_RUNS] = {0};
    for (size_t r = 0; r < N_AES_RUNS; r++)
        best[r] = 0;
    for (int rep = 0; rep < REPETITIONS; rep++) {
        for (size_t r = 0; r < N_AES_RUNS; r++) {
            if (s >= aes_runs[r].n_sizes)
                continue;
            a->impl = aes_runs[r].impl;
            a->encrypt = aes_runs[r].encrypt;
            double per_s;
            bench_op op = r == 0 ? op_cbc : aes_runs[r].messages > 1 ? op_ige_many : op_ige;
            size_t batch = batch_for(a->len * aes_runs[r].messages);
            MTP_TRY(rate_once(op, a, batch ? batch : 1, seconds, &msg[r], &per_s));
            double mbs = per_s * (double)(a->len * aes_runs[r].messages) / 1e6;
            best[r] = mbs > best[r] ? mbs : best[r];
        }
    }
out:
    EVP_CIPHER_CTX_free(a->cbc);
    a->cbc = NULL;
    return rc;
}

static int bench_aes(const struct mtp_bench_sink *sink, double seconds)
{
    struct aes_ctx *a = calloc(1, sizeof *a);
    uint8_t *buf = malloc(sizes[N_SIZES - 1].len);
    uint8_t *lanes = malloc(sizes[N_SIZES - 1].len * MTP_AES_IGE_LANES);
    int rc = MTP_OK;
    if (a == NULL || buf == NULL || lanes == NULL) {
        rc = MTP_ERR_NOMEM;
        goto out;
    }
    a->buf = buf;
    a->lanes = lanes;
    fill(lanes, sizes[N_SIZES - 1].len * MTP_AES_IGE_LANES, 98);
    for (size_t k = 0; k < KEY_POOL; k++) {
        fill(a->keys[k], 32, (uint32_t)(2 * k + 1));
        fill(a->ivs[k], 32, (uint32_t)(2 * k + 2));
    }
    fill(buf, sizes[N_SIZES - 1].len, 99);
    double best[N_SIZES][N_AES_RUNS];
    for (size_t s = 0; s < N_SIZES; s++)
        MTP_TRY(bench_aes_size(a, s, seconds, best[s]));
    /* reported run by run, so that a table reads like the names */
    for (size_t r = 0; r < N_AES_RUNS; r++) {
        for (size_t s = 0; s < aes_runs[r].n_sizes; s++) {
            char name[64];
            snprintf(name, sizeof name, "%s_%s", aes_runs[r].name, sizes[s].tag);
            sink->record(sink->ctx, name, best[s][r], "MB/s", r == 0 ? 0 : best[s][aes_runs[r].ceiling]);
        }
    }
out:
    free(lanes);
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
    MTP_TRY(mtp_msgcrypt_new(m->auth_key, &m->keyed, NULL));
    MTP_TRY(rate(op_msgcrypt_encrypt, m, 64, seconds, &per_s));
    sink->record(sink->ctx, "msgcrypt_encrypt_1k", per_s, "msg/s", 0);
    MTP_TRY(rate(op_msgcrypt_decrypt, m, 64, seconds, &per_s));
    sink->record(sink->ctx, "msgcrypt_decrypt_1k", per_s, "msg/s", 0);
out:
    mtp_msgcrypt_del(m->keyed);
    free(m);
    return rc;
}

int mtp_bench_crypto(const struct mtp_bench_sink *sink)
{
    double seconds = sink->min_seconds > 0 ? sink->min_seconds : 0.2;
    MTP_GUARD(bench_aes(sink, seconds));
    return bench_msg(sink, seconds);
}
