/* Seeded faults of the mock DC: test-only switches (`mtprobe serve --fault
 * NAME`), each of which turns off (or breaks) exactly one server check of the
 * catalogue (docs/requirements.md, S-*), so that `mtprobe check server` can
 * prove it notices every one of them missing (tests/check/check_server*).
 *
 * The set is a bit mask in the server's configuration, no global: the
 * connection code asks mtps_faulty(); the session server core and the auth
 * server get their own bits (mtp_session_cfg.server_faults,
 * mtp_auth_server_behaviour.faults) from mtps_fault_session_bits /
 * mtps_fault_auth_bits.  No fault set: the server is exactly the correct one. */
#ifndef MTPS_FAULT_H
#define MTPS_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/err.h"

enum mtps_fault {
    /* the auth-key exchange (auth server) */
    MTPS_FAULT_ACCEPT_WRONG_NONCE,
    MTPS_FAULT_SKIP_PQ_CHECK,
    MTPS_FAULT_ACCEPT_UNKNOWN_FINGERPRINT,
    MTPS_FAULT_SKIP_RSA_PAD_HASH,
    MTPS_FAULT_SKIP_PQ_INNER_CHECK,
    MTPS_FAULT_RESTART_ON_REPEAT,
    MTPS_FAULT_SKIP_CLIENT_INNER_HASH,
    MTPS_FAULT_SKIP_G_B_RANGE,
    MTPS_FAULT_SKIP_G_B_MARGIN,
    /* the exchange as the connection runs it */
    MTPS_FAULT_IGNORE_BAD_HANDSHAKE,
    MTPS_FAULT_EXECUTE_PLAIN,
    /* encrypted packets */
    MTPS_FAULT_UNKNOWN_KEY_SILENT,
    MTPS_FAULT_SKIP_MSG_KEY_CHECK,
    MTPS_FAULT_ACCEPT_SERVER_DIRECTION,
    MTPS_FAULT_SKIP_LENGTH_CHECK,
    MTPS_FAULT_SKIP_PADDING_CHECK,
    MTPS_FAULT_ACCEPT_MTPROTO1,
    MTPS_FAULT_EARLY_LENGTH_CHECK,
    /* the session (session server core) */
    MTPS_FAULT_EVEN_MSG_IDS,
    MTPS_FAULT_SKIP_MSG_ID_PAST,
    MTPS_FAULT_SKIP_MSG_ID_FUTURE,
    MTPS_FAULT_SKIP_MSG_ID_LOW_BITS,
    MTPS_FAULT_ACCEPT_CONTAINER_ID_REUSE,
    MTPS_FAULT_SKIP_MSG_ID_WINDOW,
    MTPS_FAULT_SEQNO_LOW_AS_HIGH,
    MTPS_FAULT_SEQNO_HIGH_AS_LOW,
    MTPS_FAULT_SKIP_SERVICE_SEQNO_PARITY,
    MTPS_FAULT_SKIP_CONTENT_SEQNO_PARITY,
    MTPS_FAULT_ACCEPT_WRONG_SALT,
    MTPS_FAULT_ACCEPT_INVALID_CONTAINER,
    MTPS_FAULT_NO_SALT_GRACE,
    MTPS_FAULT_EXECUTE_DUPLICATE,
    MTPS_FAULT_NO_ACKS,
    MTPS_FAULT_STATE_INFO_SHORT,
    MTPS_FAULT_NO_RESEND,
    MTPS_FAULT_EXTRA_FUTURE_SALT,
    MTPS_FAULT_DESTROY_SESSION_NONE,
    MTPS_FAULT_NO_DISCONNECT_TIMER,
    MTPS_FAULT_ACK_SERVICE_MESSAGES,
    MTPS_FAULT_NO_NEW_SESSION,
    /* transports */
    MTPS_FAULT_ECHO_TRANSPORT_TAG,
    MTPS_FAULT_SKIP_TRANSPORT_CRC,
    MTPS_FAULT_NO_FRAME_LIMIT,
    MTPS_FAULT_WRONG_QUICK_ACK,
    MTPS_FAULT_SECRET_OPTIONAL,
    MTPS_FAULT_NO_FLOOD_LIMIT,
    MTPS_FAULT_COUNT
};

#define MTPS_FAULT_BIT(f) ((uint64_t)1 << (f))

struct mtps_fault_info {
    const char *name;        /* "skip-msg-key-check": the --fault name */
    const char *requirement; /* the catalogue item it breaks, "S-ENC-15" */
    const char *what;        /* what the server then does wrong, one sentence */
};

/* NULL for a value outside the enum. */
const struct mtps_fault_info *mtps_fault_info(enum mtps_fault f);
/* MTP_OK and *f for a known name, else MTP_ERR_ARG. */
MTP_MUST_USE int mtps_fault_from_name(const char *name, enum mtps_fault *f);
static inline bool mtps_fault_set(uint64_t faults, enum mtps_fault f) { return (faults & MTPS_FAULT_BIT(f)) != 0; }
/* The bits of the faults the session server core and the auth server implement. */
uint32_t mtps_fault_session_bits(uint64_t faults);
uint32_t mtps_fault_auth_bits(uint64_t faults);

/* EARLY_LENGTH_CHECK: a packet whose header, decrypted with the key its own
 * msg_key derives, claims a message_data_length beyond the packet is refused
 * at once, before anything else is decrypted or hashed: the shortcut that
 * makes the rejection of such packets measurably faster than a msg_key
 * failure (security_guidelines asks for the same response). */
bool mtps_fault_early_length_reject(const uint8_t auth_key[256], const uint8_t *packet, size_t len);

/* Decryption of a client packet with the faults of the set that concern it
 * (SKIP_MSG_KEY_CHECK, SKIP_LENGTH_CHECK, SKIP_PADDING_CHECK,
 * ACCEPT_SERVER_DIRECTION, ACCEPT_MTPROTO1); mtp_msgcrypt_decrypt otherwise. */
struct mtp_msgcrypt;
struct mtp_wr;
struct mtp_error;
MTP_MUST_USE int mtps_fault_decrypt(uint64_t faults, struct mtp_msgcrypt *mc, const uint8_t auth_key[256],
                                    const uint8_t *packet, size_t len, struct mtp_wr *plain, struct mtp_error *err);

/* EXECUTE_PLAIN: the pong body for an unencrypted ping (false when body is no ping). */
bool mtps_fault_plain_pong(const uint8_t *body, size_t len, struct mtp_wr *out);

#endif
