/* The environment a protocol core runs in: randomness and the clock are
 * injected so that an exchange replays byte for byte from a vector and tests
 * are deterministic.  Nothing in the library calls time() or RAND_bytes
 * directly; it calls these. */
#ifndef MTP_ENV_H
#define MTP_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/err.h"

/* Fills out[0..n) with random bytes; returns MTP_OK or a negative code. */
typedef int (*mtp_rand_fn)(void *ctx, uint8_t *out, size_t n);
/* Wall-clock time in milliseconds since the Unix epoch. */
typedef int64_t (*mtp_now_fn)(void *ctx);

struct mtp_env {
    mtp_rand_fn rand;
    mtp_now_fn now_ms;
    void *ctx;
};

MTP_MUST_USE static inline int mtp_env_rand(const struct mtp_env *env, void *out, size_t n)
{
    return env->rand(env->ctx, (uint8_t *)out, n);
}
static inline int64_t mtp_env_now_ms(const struct mtp_env *env) { return env->now_ms(env->ctx); }

/* OpenSSL's CSPRNG and CLOCK_REALTIME. */
struct mtp_env mtp_env_system(void);

/* Deterministic environment for tests and fuzzing: an expanding SHA-256
 * stream from a seed, and a clock that only moves when told to. */
struct mtp_det_state {
    uint8_t seed[32];
    uint64_t counter;
    uint8_t block[32];
    size_t used;
    int64_t now_ms;
};
struct mtp_env mtp_env_deterministic(struct mtp_det_state *st, const void *seed, size_t seed_len, int64_t start_ms);

/* Scripted randomness: hands out the given byte string in order and fails with
 * MTP_ERR_LIMIT once it runs out, so a replay that asks for more randomness
 * than was recorded is caught.  The clock is fixed at now_ms. */
struct mtp_script_state {
    const uint8_t *bytes;
    size_t len;
    size_t pos;
    int64_t now_ms;
};
struct mtp_env mtp_env_scripted(struct mtp_script_state *st, const uint8_t *bytes, size_t len, int64_t now_ms);

#endif
