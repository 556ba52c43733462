/* Binding a temporary auth key to a permanent one: auth.bindTempAuthKey
 * (core.telegram.org/method/auth.bindTempAuthKey, core.telegram.org/api/pfs).
 *
 *   auth.bindTempAuthKey#cdd42a05 perm_auth_key_id:long nonce:long expires_at:int
 *                                 encrypted_message:bytes = Bool;
 *   bind_auth_key_inner#75a3f765 nonce:long temp_auth_key_id:long perm_auth_key_id:long
 *                                temp_session_id:long expires_at:int = BindAuthKeyInner;
 *
 * The request is sent with the temporary key.  encrypted_message is the
 * binding message encrypted with MTProto 1.0 (mtp/msgcrypt_v1.h) with the
 * permanent key, x = 0:
 *   random:int128 (instead of salt and session_id) | msg_id (the request's) |
 *   seq_no = 0 | length = 40 | bind_auth_key_inner | 8 bytes of padding
 * so it is always 8 + 16 + 80 = 104 bytes.  Ids are their 8 wire bytes read as
 * a little-endian integer (the TL long's value). */
#ifndef MTP_AUTH_BIND_H
#define MTP_AUTH_BIND_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/msgcrypt.h"

#define MTP_BIND_TEMP_AUTH_KEY_ID 0xcdd42a05u /* auth.bindTempAuthKey */
#define MTP_BIND_AUTH_KEY_INNER_ID 0x75a3f765u
#define MTP_BIND_INNER_LEN 40
#define MTP_BIND_ENCRYPTED_LEN 104

struct mtp_bind_inner {
    uint64_t nonce;
    uint64_t temp_auth_key_id;
    uint64_t perm_auth_key_id;
    uint64_t temp_session_id;
    int32_t expires_at;
};

/* Client: appends encrypted_message (104 bytes) for a request that goes out
 * with msg_id; the random prefix and the padding come from env. */
MTP_MUST_USE int mtp_bind_encrypt(const uint8_t perm_key[MTP_AUTH_KEY_LEN], uint64_t msg_id,
                                  const struct mtp_bind_inner *in, const struct mtp_env *env, struct mtp_wr *out,
                                  struct mtp_error *err);

/* Client: appends the whole auth.bindTempAuthKey query (132 bytes with a
 * 104-byte encrypted_message). */
MTP_MUST_USE int mtp_bind_write_request(struct mtp_wr *out, uint64_t perm_auth_key_id, uint64_t nonce,
                                        int32_t expires_at, const uint8_t *encrypted, size_t encrypted_len);
/* Where encrypted_message's bytes start in that query: after the constructor,
 * the two longs, the int and the one-byte length. */
#define MTP_BIND_REQUEST_ENCRYPTED_AT 25
#define MTP_BIND_REQUEST_LEN 132

/* Server: what the binding message must say.  msg_id is the request's,
 * temp_auth_key_id the key and temp_session_id the session it came with;
 * nonce, perm_auth_key_id and expires_at are the request's fields. */
struct mtp_bind_expect {
    uint64_t msg_id;
    uint64_t nonce;
    uint64_t temp_auth_key_id;
    uint64_t perm_auth_key_id;
    uint64_t temp_session_id;
    int32_t expires_at;
};

/* Server: decrypts encrypted_message with perm_key (the key the request's
 * perm_auth_key_id names) and checks it, in this order: the MTProto 1.0
 * checks of mtp_msg_v1_decrypt (auth_key_id, lengths, msg_key, padding), then
 *   MTP_ERR_BIND_BAD_HEADER    seq_no not 0, or length not 40
 *   MTP_ERR_BIND_MSG_ID        msg_id not the request's
 *   MTP_ERR_BIND_BAD_INNER     not a bind_auth_key_inner
 *   MTP_ERR_BIND_NONCE, _TEMP_KEY, _PERM_KEY, _SESSION, _EXPIRES_AT
 *                              a field differs from want
 * Offsets are those of encrypted_message.  got (may be NULL) receives the
 * inner fields once they decoded, whatever the verdict. */
MTP_MUST_USE int mtp_bind_check(const uint8_t perm_key[MTP_AUTH_KEY_LEN], const uint8_t *encrypted, size_t len,
                                const struct mtp_bind_expect *want, struct mtp_bind_inner *got,
                                struct mtp_error *err);

#endif
