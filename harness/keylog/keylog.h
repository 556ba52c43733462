/* The key log (docs/keylog.md): one line per secret, SSLKEYLOGFILE-style, so
 * that a capture can be decrypted later.  Written by `mtprobe serve --keylog`
 * and `mtprobe client --keylog`, read back by `mtprobe serve --keys-file` (its
 * stored keys) and by `mtprobe decode --keylog` (everything).
 *
 *   AUTH_KEY <auth_key_id 8> <auth_key 256>
 *   TEMP_AUTH_KEY <auth_key_id 8> <auth_key 256> <expires_at, decimal unix time>
 *   BIND <temp auth_key_id 8> <perm auth_key_id 8> <expires_at>
 *   OBFS2 <init 64, as on the wire> <c2s key 32> <c2s iv 16> <s2c key 32> <s2c iv 16>
 *   NEW_NONCE <nonce 16> <server_nonce 16> <new_nonce 32>
 *
 * '#' starts a comment, fields are separated by one space, byte strings are
 * lower-case hex in wire order (read in either case). */
#ifndef MTP_KEYLOG_H
#define MTP_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mtp/err.h"
#include "mtp/obfs.h"

struct mtp_keylog {
    FILE *f;
};

/* Opens path for appending (created with mode 0600), writing a header comment
 * into a new file.  A NULL path leaves the log closed: writes do nothing. */
MTP_MUST_USE int mtp_keylog_open(struct mtp_keylog *kl, const char *path, struct mtp_error *err);
void mtp_keylog_close(struct mtp_keylog *kl);
/* Each writes one line and flushes it. */
void mtp_keylog_auth_key(struct mtp_keylog *kl, const uint8_t id[8], const uint8_t key[256], bool temp,
                         int32_t expires_at);
/* k is the server's view: its dec pair is what the client sent with (c2s). */
void mtp_keylog_obfs2(struct mtp_keylog *kl, const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_keys *k);
/* auth.bindTempAuthKey bound temporary key temp_id to permanent key perm_id (ids in wire order). */
void mtp_keylog_bind(struct mtp_keylog *kl, const uint8_t temp_id[8], const uint8_t perm_id[8], int32_t expires_at);
/* The new_nonce of the key exchange that nonce and server_nonce name: what
 * decrypts server_DH_inner_data and client_DH_inner_data. */
void mtp_keylog_new_nonce(struct mtp_keylog *kl, const uint8_t nonce[16], const uint8_t server_nonce[16],
                          const uint8_t new_nonce[32]);

/* What a reader wants of a file.  A NULL callback skips its lines unread. */
struct mtp_keylog_reader {
    int (*key)(void *ctx, const uint8_t id[8], const uint8_t key[256], bool temp, int32_t expires_at,
               struct mtp_error *err);
    int (*bind)(void *ctx, const uint8_t temp_id[8], const uint8_t perm_id[8], int32_t expires_at,
                struct mtp_error *err);
    /* keys: the server's view (dec = c2s, enc = s2c). */
    int (*obfs2)(void *ctx, const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_keys *keys,
                 struct mtp_error *err);
    int (*new_nonce)(void *ctx, const uint8_t nonce[16], const uint8_t server_nonce[16], const uint8_t new_nonce[32],
                     struct mtp_error *err);
    /* Not NULL: a malformed line is reported here and reading goes on.
     * NULL: it ends the reading with bad_code naming the line. */
    void (*bad_line)(void *ctx, size_t line, const char *what);
    bool skip_unknown; /* skip line types this version does not know (docs/keylog.md); else malformed */
    bool missing_ok;   /* a missing file reads as an empty one */
    int bad_code;      /* the error of a malformed line; 0: MTP_ERR_KEYLOG */
    void *ctx;
};

MTP_MUST_USE int mtp_keylog_read(const char *path, const struct mtp_keylog_reader *rd, struct mtp_error *err);
/* The same from memory; name stands for the file in messages. */
MTP_MUST_USE int mtp_keylog_read_mem(const char *name, const char *text, size_t len,
                                     const struct mtp_keylog_reader *rd, struct mtp_error *err);

#endif
