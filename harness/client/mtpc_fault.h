/* Seeded faults of the reference client: test-only switches, each of which
 * turns off (or breaks) exactly one check of the catalogue
 * (../shared/REQUIREMENTS.md, docs/requirements.md), so that `mtprobe check
 * client` can prove it notices every one of them missing.
 *
 * A fault is a bit of mtpc_config.faults (MTPC_FAULT_BIT(f)); the client core
 * consults the bits itself and passes them on to the library machines it
 * drives (the auth client's behaviour faults, the session's client_faults and
 * client_time_check, the message decryption's skip bits, the transport's
 * skip_crc).  No fault set: the client is exactly the correct one. */
#ifndef MTPC_FAULT_H
#define MTPC_FAULT_H

#include <stdint.h>

#include "mtp/err.h"

enum mtpc_fault {
    MTPC_FAULT_SKIP_DH_PRIME_CHECK,
    MTPC_FAULT_SKIP_G_CHECK,
    MTPC_FAULT_SKIP_G_A_RANGE,
    MTPC_FAULT_SKIP_G_A_MARGIN,
    MTPC_FAULT_FIXED_B,
    MTPC_FAULT_ACCEPT_WRONG_NONCE,
    MTPC_FAULT_SKIP_ANSWER_HASH,
    MTPC_FAULT_SKIP_NEW_NONCE_HASH,
    MTPC_FAULT_RETRY_ID_ZERO,
    MTPC_FAULT_ACCEPT_BAD_PQ,
    MTPC_FAULT_ACCEPT_UNKNOWN_FINGERPRINT,
    MTPC_FAULT_NO_RESTART_ON_404,
    MTPC_FAULT_IGNORE_SERVER_TIME,
    MTPC_FAULT_SKIP_AUTH_KEY_ID_CHECK,
    MTPC_FAULT_SKIP_MSG_KEY_CHECK,
    MTPC_FAULT_SKIP_LENGTH_CHECK,
    MTPC_FAULT_SKIP_PADDING_CHECK,
    MTPC_FAULT_ACCEPT_PLAIN_AFTER_KEY,
    MTPC_FAULT_SKIP_SESSION_ID_CHECK,
    MTPC_FAULT_ACCEPT_EVEN_MSG_ID,
    MTPC_FAULT_OWN_MSG_ID_NOT_MOD4,
    MTPC_FAULT_ACCEPT_DUPLICATE_MSG_ID,
    MTPC_FAULT_SKIP_TIME_WINDOW,
    MTPC_FAULT_SKIP_CONTAINER_ORDER,
    MTPC_FAULT_NO_ACKS,
    MTPC_FAULT_RESEND_SAME_MSG_ID,
    MTPC_FAULT_SKIP_TRANSPORT_CRC,
    MTPC_FAULT_OBFS_INIT_ZERO,
    MTPC_FAULT_SALT_FROM_DROPPED,
    MTPC_FAULT_COUNT
};

#define MTPC_FAULT_BIT(f) ((uint64_t)1 << (f))

struct mtpc_fault_info {
    const char *name;        /* "skip-dh-prime-check": the --fault name */
    const char *requirement; /* the catalogue item it breaks, "C-DH-1" */
    const char *what;        /* what the client then does wrong, one sentence */
};

/* The fault's description; NULL for a value outside the enum. */
const struct mtpc_fault_info *mtpc_fault_info(enum mtpc_fault f);
/* MTP_OK and *f for a known name, else MTP_ERR_ARG. */
MTP_MUST_USE int mtpc_fault_from_name(const char *name, enum mtpc_fault *f);

#endif
