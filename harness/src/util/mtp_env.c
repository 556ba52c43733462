#include "mtp/env.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>

#include "mtp/buf.h"

static int system_rand(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        if (RAND_bytes(out, chunk) != 1)
            return MTP_ERR_OSSL;
        out += chunk;
        n -= (size_t)chunk;
    }
    return MTP_OK;
}

static int64_t system_now_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct mtp_env mtp_env_system(void) { return (struct mtp_env){system_rand, system_now_ms, NULL}; }

static int det_rand(void *ctx, uint8_t *out, size_t n)
{
    struct mtp_det_state *st = ctx;
    while (n > 0) {
        if (st->used == sizeof st->block) {
            uint8_t in[40];
            memcpy(in, st->seed, 32);
            mtp_store_u64(in + 32, st->counter++);
            unsigned int outlen = 0;
            if (EVP_Digest(in, sizeof in, st->block, &outlen, EVP_sha256(), NULL) != 1)
                return MTP_ERR_OSSL;
            st->used = 0;
        }
        size_t take = sizeof st->block - st->used;
        if (take > n)
            take = n;
        memcpy(out, st->block + st->used, take);
        st->used += take;
        out += take;
        n -= take;
    }
    return MTP_OK;
}

static int64_t det_now_ms(void *ctx) { return ((struct mtp_det_state *)ctx)->now_ms; }

struct mtp_env mtp_env_deterministic(struct mtp_det_state *st, const void *seed, size_t seed_len, int64_t start_ms)
{
    memset(st, 0, sizeof *st);
    unsigned int outlen = 0;
    if (EVP_Digest(seed, seed_len, st->seed, &outlen, EVP_sha256(), NULL) != 1)
        memset(st->seed, 0, sizeof st->seed);
    st->used = sizeof st->block;
    st->now_ms = start_ms;
    return (struct mtp_env){det_rand, det_now_ms, st};
}

static int script_rand(void *ctx, uint8_t *out, size_t n)
{
    struct mtp_script_state *st = ctx;
    if (n > st->len - st->pos)
        return MTP_ERR_LIMIT;
    memcpy(out, st->bytes + st->pos, n);
    st->pos += n;
    return MTP_OK;
}

static int64_t script_now_ms(void *ctx) { return ((struct mtp_script_state *)ctx)->now_ms; }

struct mtp_env mtp_env_scripted(struct mtp_script_state *st, const uint8_t *bytes, size_t len, int64_t now_ms)
{
    st->bytes = bytes;
    st->len = len;
    st->pos = 0;
    st->now_ms = now_ms;
    return (struct mtp_env){script_rand, script_now_ms, st};
}
