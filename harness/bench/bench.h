/* Benchmarks behind `mtprobe bench`.  Each benchmark reports its results
 * through a sink, one record per figure, so the command decides how to print
 * them (table, JSON).  A record carries the figure, its unit, and where one
 * exists the ceiling it is measured against (0 when there is none); the
 * ratio is value / ceiling. */
#ifndef MTP_BENCH_H
#define MTP_BENCH_H

#include <time.h>

#include "mtp/err.h"

/* Seconds on the monotonic clock: every benchmark times itself with this. */
static inline double mtp_bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct mtp_bench_sink {
    void (*record)(void *ctx, const char *name, double value, const char *unit, double ceiling);
    void *ctx;
    /* Length of one timed repetition in seconds (the best of five counts); 0 means 0.2. */
    double min_seconds;
};

/* Crypto throughput, all with a fresh key per message (key set-up included):
 *   aes_256_cbc_encrypt_{1k,8k,64k,1m}  MB/s   OpenSSL AES-256-CBC streaming on one context: the ceiling
 *   aes_ige_encrypt_{1k,8k,64k,1m}      MB/s   mtp_aes_ige_encrypt, ceiling = CBC at the same size
 *   aes_ige_decrypt_{1k,8k,64k,1m}      MB/s   mtp_aes_ige_decrypt, ceiling = CBC at the same size
 *   aes_ige_evp_encrypt_{1k,8k}, aes_ige_evp_decrypt_{1k,8k}
 *                                       MB/s   the portable EVP fallback, for comparison
 *   aes_ige_decrypt_many_{1k,8k,64k,1m} MB/s   8 independent messages per call, interleaved
 *                                              (mtp_aes_ige_decrypt_many), ceiling = aes_ige_decrypt
 *   msg_encrypt_1k, msg_decrypt_1k      msg/s  MTProto 2.0 messages of 1024 plaintext bytes (mtp_msg_*)
 *   msgcrypt_encrypt_1k, msgcrypt_decrypt_1k
 *                                       msg/s  the same through a per-key struct mtp_msgcrypt
 * MB is 10^6 bytes.  Returns MTP_OK, or a negative code when a measured call fails. */
int mtp_bench_crypto(const struct mtp_bench_sink *sink);

#endif
