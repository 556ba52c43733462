/* The inner (plaintext) MTProto 2.0 message, as it is before encryption and
 * after decryption (description#encrypted-message-encrypted-data):
 *
 *   salt:int64 session_id:int64 msg_id:int64 seq_no:int32 message_data_length:int32
 *   message_data padding(12..1024, total length a multiple of 16)
 *
 * The message_data length and padding checks of a decrypted message are done
 * by mtp_msg_decrypt (crypto layer); mtp_msg_parse re-checks the length so
 * that plaintext fed directly (tests, fuzzing) is held to the same bounds. */
#ifndef MTP_MESSAGE_H
#define MTP_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/env.h"

#define MTP_MSG_HEADER_LEN 32
#define MTP_MSG_MIN_PADDING 12
#define MTP_MSG_MAX_PADDING 1024

struct mtp_msg_header {
    uint64_t salt;
    uint64_t session_id;
    uint64_t msg_id;
    int32_t seqno;
    uint32_t length; /* message_data_length */
};

/* Parses the header from r (which covers the whole plaintext) and returns a
 * reader over message_data in body.  Fails with MTP_ERR_SES_SHORT (under 32
 * bytes) or MTP_ERR_SES_BAD_LENGTH (negative, not a multiple of 4, or beyond
 * the plaintext).  Whatever follows message_data is padding and ignored. */
MTP_MUST_USE int mtp_msg_parse(struct mtp_rd *r, struct mtp_msg_header *h, struct mtp_rd *body);

/* Padding length for a body of body_len bytes: 12..27 bytes so that the total
 * is a multiple of 16, plus extra_blocks * 16. */
size_t mtp_msg_padding_len(size_t body_len, unsigned extra_blocks);

/* Writes header, body and padding_len random padding bytes from env
 * (h->length is taken from body_len). */
MTP_MUST_USE int mtp_msg_build(struct mtp_wr *w, const struct mtp_msg_header *h, const uint8_t *body,
                               size_t body_len, size_t padding_len, const struct mtp_env *env);

#endif
