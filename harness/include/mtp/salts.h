/* Server salts (description#server-salt, service_messages#request-for-several-future-salts).
 *
 * A salt is "a (random) 64-bit number periodically changed ... at the request
 * of the server"; messages with the old salt stay acceptable for a grace
 * period.  The server keeps a schedule of salts with validity intervals; the
 * client keeps the future salts it was given by get_future_salts.  Times are
 * unix milliseconds (the wire carries seconds). */
#ifndef MTP_SALTS_H
#define MTP_SALTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/env.h"
#include "mtp/service.h"

struct mtp_salt_entry {
    uint64_t salt;
    int64_t valid_since_ms;
    int64_t valid_until_ms;
};

#define MTP_SALTS_MAX (MTP_SVC_MAX_FUTURE_SALTS + 2)

struct mtp_salts {
    struct mtp_salt_entry e[MTP_SALTS_MAX]; /* ascending by valid_since_ms */
    size_t n;
};

void mtp_salts_clear(struct mtp_salts *s);
/* Adds or updates (same salt) an entry; when full, the oldest entry goes. */
void mtp_salts_add(struct mtp_salts *s, uint64_t salt, int64_t since_ms, int64_t until_ms);
/* The entry valid at now_ms (the latest-starting one if several are); NULL if none. */
const struct mtp_salt_entry *mtp_salts_at(const struct mtp_salts *s, int64_t now_ms);
/* True when salt is valid at now_ms, or was valid until no more than grace_ms ago. */
bool mtp_salts_accepts(const struct mtp_salts *s, uint64_t salt, int64_t now_ms, int64_t grace_ms);
/* Forgets entries that expired more than grace_ms before now_ms. */
void mtp_salts_expire(struct mtp_salts *s, int64_t now_ms, int64_t grace_ms);
/* Server: makes sure that salts exist from now_ms for at least count periods,
 * appending fresh random salts of period_ms each after the last one. */
MTP_MUST_USE int mtp_salts_extend(struct mtp_salts *s, int64_t now_ms, int64_t period_ms, size_t count,
                                  const struct mtp_env *env);

#endif
