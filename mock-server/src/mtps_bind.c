/* auth.bindTempAuthKey in the mock DC (see mtps_bind.h). */
#include "mtps_bind.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mtp/auth_bind.h"

#define ID_BOOL_TRUE 0x997275b5u

static void refuse(struct mtps_answer *ans, struct mtps_bind_outcome *out, const char *message, int check,
                   const char *fmt, ...) MTP_PRINTF(5, 6);
static void refuse(struct mtps_answer *ans, struct mtps_bind_outcome *out, const char *message, int check,
                   const char *fmt, ...)
{
    ans->error = true;
    ans->code = 400;
    snprintf(ans->message, sizeof ans->message, "%s", message);
    out->check = check;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->why, sizeof out->why, fmt, ap);
    va_end(ap);
}

/* A field of the decoded call, of the kind the schema gives it. */
static const struct mtp_tl_value *field(const struct mtp_tl_object *o, const char *name, enum mtp_tl_vkind kind)
{
    const struct mtp_tl_value *v = o ? mtp_tl_obj_get(o, name) : NULL;
    return v && v->kind == kind ? v : NULL;
}

void mtps_bind_answer(struct mtps_store *st, struct mtps_key *k, uint64_t session_id, uint64_t msg_id,
                      const struct mtp_tl_value *call, struct mtp_wr *result, struct mtps_answer *ans,
                      struct mtps_bind_outcome *out)
{
    memset(ans, 0, sizeof *ans);
    memset(out, 0, sizeof *out);
    out->temp_id = k->id;
    const struct mtp_tl_object *o = mtp_tl_value_object(call);
    const struct mtp_tl_value *perm_v = field(o, "perm_auth_key_id", MTP_TL_V_LONG);
    const struct mtp_tl_value *nonce_v = field(o, "nonce", MTP_TL_V_LONG);
    const struct mtp_tl_value *exp_v = field(o, "expires_at", MTP_TL_V_INT);
    const struct mtp_tl_value *enc_v = field(o, "encrypted_message", MTP_TL_V_BYTES);
    if (perm_v == NULL || nonce_v == NULL || exp_v == NULL || enc_v == NULL) {
        /* The schema decoded it, so only a schema without these fields gets here. */
        ans->error = true;
        ans->code = 400;
        snprintf(ans->message, sizeof ans->message, "INPUT_FETCH_ERROR");
        snprintf(out->why, sizeof out->why, "the call lacks a field of auth.bindTempAuthKey");
        return;
    }
    out->perm_id = (uint64_t)perm_v->u.l;
    out->expires_at = exp_v->u.i;
    if (!k->temp) {
        refuse(ans, out, "TEMP_AUTH_KEY_EMPTY", MTP_OK, "the request came with permanent key %016" PRIx64, k->id);
        return;
    }
    struct mtps_key *perm = mtps_store_find_key(st, out->perm_id);
    if (perm == NULL || perm->temp) {
        refuse(ans, out, "ENCRYPTED_MESSAGE_INVALID", MTP_ERR_SRV_UNKNOWN_KEY,
               "perm_auth_key_id %016" PRIx64 " is %s", out->perm_id,
               perm == NULL ? "no key the server knows" : "a temporary key");
        return;
    }
    struct mtp_bind_expect want = {
        .msg_id = msg_id,
        .nonce = (uint64_t)nonce_v->u.l,
        .temp_auth_key_id = k->id,
        .perm_auth_key_id = out->perm_id,
        .temp_session_id = session_id,
        .expires_at = out->expires_at,
    };
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtp_bind_check(perm->auth_key, enc_v->u.p, enc_v->len, &want, NULL, &err);
    if (rc < 0) {
        refuse(ans, out, "ENCRYPTED_MESSAGE_INVALID", rc, "%s: %s", mtp_err_name(rc), err.msg);
        return;
    }
    out->how = mtps_store_bind(st, k, perm, out->expires_at, &out->replaced_id);
    if (out->how == MTPS_BIND_TAKEN) {
        refuse(ans, out, "TEMP_AUTH_KEY_ALREADY_BOUND", MTP_OK, "temporary key %016" PRIx64 " is bound to %016" PRIx64,
               k->id, k->bound_perm);
        return;
    }
    if (mtp_wr_u32(result, ID_BOOL_TRUE) < 0) {
        ans->error = true;
        ans->code = 500;
        snprintf(ans->message, sizeof ans->message, "INTERNAL");
        return;
    }
    out->bound = true;
}
