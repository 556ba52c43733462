/* Helpers the client and server machines share (implemented in mtp_auth_msg.c). */
#ifndef MTP_AUTH_INTERNAL_H
#define MTP_AUTH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/auth.h"
#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/err.h"

/* Room for any encrypted inner data either side accepts or builds
 * (MTP_AUTHCRYPT_INNER_MAX plus the 16 bytes a padding corruption adds). */
#define MTP_AUTH_INNER_BUF 1040

static inline bool mtp_auth_corrupts(uint64_t set, enum mtp_auth_corrupt point)
{
    return (set & MTP_AUTH_CORRUPT(point)) != 0;
}
/* The two ways of corrupting a field (see enum mtp_auth_corrupt). */
static inline void mtp_auth_flip_first(uint8_t *p, size_t n)
{
    if (n > 0)
        p[0] ^= 1;
}
static inline void mtp_auth_flip_last(uint8_t *p, size_t n)
{
    if (n > 0)
        p[n - 1] ^= 1;
}

/* Peeks at the constructor of a message: MTP_ERR_AUTH_UNEXPECTED, naming what
 * came and what was expected in this state, unless it is one of ids. */
MTP_MUST_USE int mtp_auth_expect_ctor(struct mtp_rd *r, const uint32_t *ids, size_t n, const char *expected,
                                      const char *state, struct mtp_error *e);

/* Returns rc, after prefixing the message it recorded with what. */
static inline int mtp_auth_prefixed(int rc, struct mtp_error *e, const char *what)
{
    if (rc < 0)
        mtp_error_prefix(e, "%s", what);
    return rc;
}

/* Copies src's failure into dst unless dst already holds one; returns its code. */
int mtp_auth_pass_error(struct mtp_error *dst, const struct mtp_error *src);

/* SHA1(data) + data + padding (drawn from env) encrypted with AES-256-IGE:
 * encrypted_answer and client_DH_inner_data's encrypted_data.  corrupt_hash
 * flips a bit of the hash, extra_padding adds 16 padding bytes (one block
 * more than the 15 allowed). */
MTP_MUST_USE int mtp_auth_seal(const struct mtp_env *env, const uint8_t key[32], const uint8_t iv[32],
                               const uint8_t *data, size_t len, bool corrupt_hash, bool extra_padding, uint8_t *out,
                               size_t cap, size_t *out_len, struct mtp_error *err);

/* Reads one TL object from r into obj. */
typedef int (*mtp_auth_parse_fn)(struct mtp_rd *r, void *obj);

/* The reverse of mtp_auth_seal: decrypts into buf and parses the object after
 * the hash.  The object is used only if SHA1 in front of it matches and at
 * most 15 bytes follow it.  When the object does not parse, the hash decides
 * the reported reason: no prefix matching it means the data is not authentic
 * (MTP_ERR_INNER_HASH); a match means an authentic but malformed object (the
 * parse error).  Messages start with what ("server_DH_params_ok.encrypted_answer"). */
MTP_MUST_USE int mtp_auth_open(const uint8_t key[32], const uint8_t iv[32], const uint8_t *in, size_t in_len,
                               uint8_t *buf, size_t cap, mtp_auth_parse_fn parse, void *obj, const char *what,
                               struct mtp_error *err);

/* mtp_auth_open without the checks (client fault SKIP_ANSWER_HASH): the whole
 * 16-byte blocks of in are decrypted and the object after the 20 hash bytes
 * is parsed whatever the hash, the padding or a trailing partial block. */
MTP_MUST_USE int mtp_auth_open_unchecked(const uint8_t key[32], const uint8_t iv[32], const uint8_t *in,
                                         size_t in_len, uint8_t *buf, size_t cap, mtp_auth_parse_fn parse, void *obj,
                                         const char *what, struct mtp_error *err);

/* Strips leading zero bytes of a big-endian number. */
static inline void mtp_auth_strip_zeros(const uint8_t **p, size_t *len)
{
    while (*len > 0 && (*p)[0] == 0) {
        (*p)++;
        (*len)--;
    }
}

#endif
