/* auth.bindTempAuthKey in the mock DC (core.telegram.org/method/auth.bindTempAuthKey,
 * core.telegram.org/api/pfs): binds the temporary key a request came with to
 * the permanent key it names, after checking the binding message
 * (mtp/auth_bind.h).  Answers, as the method page lists them:
 *   boolTrue                           bound (or already bound to that key)
 *   400 TEMP_AUTH_KEY_EMPTY            the request came with a permanent key
 *   400 ENCRYPTED_MESSAGE_INVALID      perm_auth_key_id names no permanent key the
 *                                      server knows (the pfs page tells clients to
 *                                      handle this error when the permanent key is
 *                                      gone), or the binding message fails a check
 *   400 TEMP_AUTH_KEY_ALREADY_BOUND    the temporary key is bound to another permanent key
 * A permanent key has at most one temporary key: a new binding replaces the
 * old, which is then unbound. */
#ifndef MTPS_BIND_H
#define MTPS_BIND_H

#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/err.h"
#include "mtp/tl_value.h"
#include "mtps_api.h"
#include "mtps_store.h"

/* What a request did, for the logs. */
struct mtps_bind_outcome {
    bool bound;                 /* answered boolTrue */
    enum mtps_bind_result how;  /* when bound */
    uint64_t temp_id, perm_id;  /* the request's key and the one it named */
    uint64_t replaced_id;       /* MTPS_BIND_REPLACED: the unbound temporary key */
    int32_t expires_at;         /* the request's */
    int check;                  /* ENCRYPTED_MESSAGE_INVALID: the failed check (an mtp error code) */
    char why[MTP_ERROR_MSG_MAX];/* refusals: the reason, with field and offset */
};

/* Answers the decoded auth.bindTempAuthKey call that arrived as message
 * msg_id in session session_id with key k: boolTrue appended to result, or an
 * rpc_error in ans.  Never fails as a whole. */
void mtps_bind_answer(struct mtps_store *st, struct mtps_key *k, uint64_t session_id, uint64_t msg_id,
                      const struct mtp_tl_value *call, struct mtp_wr *result, struct mtps_answer *ans,
                      struct mtps_bind_outcome *out);

#endif
