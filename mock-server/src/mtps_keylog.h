/* Key log and keys file (docs/keylog.md).
 *
 * One line per secret, SSLKEYLOGFILE-style: '#' starts a comment, fields are
 * separated by one space, byte strings are lower-case hex in wire order.
 *   AUTH_KEY <auth_key_id, 8 bytes> <auth_key, 256 bytes>
 *   TEMP_AUTH_KEY <auth_key_id> <auth_key> <expires_at, decimal unix time>
 *   OBFS2 <init: the first 64 bytes the client sent> <c2s key 32> <c2s iv 16> <s2c key 32> <s2c iv 16>
 *   BIND <temp auth_key_id> <perm auth_key_id> <expires_at, decimal unix time>
 * The keys file (--keys-file) is the same format, read back at start so that
 * clients can reconnect with their stored keys and bindings; OBFS2 lines are
 * skipped there. */
#ifndef MTPS_KEYLOG_H
#define MTPS_KEYLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mtp/err.h"
#include "mtp/obfs.h"

struct mtps_keylog {
    FILE *f;
};

/* Opens path for appending (created with mode 0600), writing a header comment
 * into a new file.  A NULL path leaves the log closed: writes do nothing. */
MTP_MUST_USE int mtps_keylog_open(struct mtps_keylog *kl, const char *path, struct mtp_error *err);
void mtps_keylog_close(struct mtps_keylog *kl);
/* Each writes one line and flushes it. */
void mtps_keylog_auth_key(struct mtps_keylog *kl, const uint8_t id[8], const uint8_t key[256], bool temp,
                          int32_t expires_at);
void mtps_keylog_obfs2(struct mtps_keylog *kl, const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_keys *k);
/* auth.bindTempAuthKey bound temporary key temp_id to permanent key perm_id (ids in wire order). */
void mtps_keylog_bind(struct mtps_keylog *kl, const uint8_t temp_id[8], const uint8_t perm_id[8], int32_t expires_at);

/* Called for each key line of a keys file. */
typedef int (*mtps_keylog_key_fn)(void *ctx, const uint8_t id[8], const uint8_t key[256], bool temp,
                                  int32_t expires_at, struct mtp_error *err);
/* Called for each BIND line of a keys file. */
typedef int (*mtps_keylog_bind_fn)(void *ctx, const uint8_t temp_id[8], const uint8_t perm_id[8], int32_t expires_at,
                                   struct mtp_error *err);
/* Reads a keys file (a missing file is no error: nothing to read).  Lines
 * that are comments, blank or OBFS2 are skipped, and so are BIND lines when
 * bind_fn is NULL; a malformed line, or a key line whose id is not the key's,
 * is MTP_ERR_SRV_KEYS_FILE naming the line. */
MTP_MUST_USE int mtps_keylog_read(const char *path, mtps_keylog_key_fn fn, mtps_keylog_bind_fn bind_fn, void *ctx,
                                  struct mtp_error *err);

#endif
