/* Quick acknowledgement token (mtproto-transports#quick-ack): "the 32
 * higher-order bits of SHA256 of the encrypted portion of the packet prepended
 * by 32 bytes from the authorization key (the same hash as computed for
 * verifying the message key), with the most significant bit set".
 *
 * That hash is msg_key_large = SHA256(substr(auth_key, 88 + x, 32) + plaintext
 * incl. padding), x = 0 for a client packet.  Its first four bytes are read as
 * a little-endian integer (as the intermediate transport carries it) and bit 31
 * is set; abridged byte-swaps the four bytes on the wire, which is the
 * transport's business. */
#ifndef MTP_QUICKACK_H
#define MTP_QUICKACK_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/err.h"

/* x = 0 (client -> server packets, the only ones quick-acked) or 8. */
MTP_MUST_USE int mtp_quick_ack_token(const uint8_t auth_key[256], int x, const uint8_t *plaintext, size_t len,
                                     uint32_t *token);

#endif
