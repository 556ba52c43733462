#include "mtp/salts.h"

#include <string.h>

void mtp_salts_clear(struct mtp_salts *s) { s->n = 0; }

static void remove_at(struct mtp_salts *s, size_t i)
{
    memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof s->e[0]);
    s->n--;
}

void mtp_salts_add(struct mtp_salts *s, uint64_t salt, int64_t since_ms, int64_t until_ms)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].salt == salt) {
            remove_at(s, i);
            break;
        }
    if (s->n == MTP_SALTS_MAX)
        remove_at(s, 0);
    size_t i = s->n;
    while (i > 0 && s->e[i - 1].valid_since_ms > since_ms) {
        s->e[i] = s->e[i - 1];
        i--;
    }
    s->e[i] = (struct mtp_salt_entry){salt, since_ms, until_ms};
    s->n++;
}

const struct mtp_salt_entry *mtp_salts_at(const struct mtp_salts *s, int64_t now_ms)
{
    for (size_t i = s->n; i > 0; i--) {
        const struct mtp_salt_entry *e = &s->e[i - 1];
        if (e->valid_since_ms <= now_ms && now_ms < e->valid_until_ms)
            return e;
    }
    return NULL;
}

bool mtp_salts_accepts(const struct mtp_salts *s, uint64_t salt, int64_t now_ms, int64_t grace_ms)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct mtp_salt_entry *e = &s->e[i];
        if (e->salt == salt && e->valid_since_ms <= now_ms && now_ms < e->valid_until_ms + grace_ms)
            return true;
    }
    return false;
}

void mtp_salts_expire(struct mtp_salts *s, int64_t now_ms, int64_t grace_ms)
{
    size_t i = 0;
    while (i < s->n) {
        if (s->e[i].valid_until_ms + grace_ms <= now_ms)
            remove_at(s, i);
        else
            i++;
    }
}

int mtp_salts_extend(struct mtp_salts *s, int64_t now_ms, int64_t period_ms, size_t count,
                     const struct mtp_env *env)
{
    if (period_ms <= 0 || count == 0 || count > MTP_SVC_MAX_FUTURE_SALTS)
        return MTP_ERR_ARG;
    int64_t end = now_ms + (int64_t)count * period_ms;
    int64_t from = now_ms;
    if (s->n > 0 && s->e[s->n - 1].valid_until_ms > from)
        from = s->e[s->n - 1].valid_until_ms;
    while (from < end) {
        uint64_t salt;
        MTP_GUARD(mtp_env_rand(env, &salt, sizeof salt));
        mtp_salts_add(s, salt, from, from + period_ms);
        from += period_ms;
    }
    return MTP_OK;
}
