/* The padding of the mock DC's encrypted messages (scenario session.padding,
 * docs/scenarios.md): the least legal, the most legal, or an exact number of
 * bytes, so that a case can check that a client accepts every legal padding
 * (12..1024 bytes, total a multiple of 16: description#encrypted-message).
 *
 * Exact padding of N bytes needs a body whose length is -N modulo 16; a run
 * whose answers never have such a length gets one filler message (a msgs_ack
 * of the client's message, or a container of two) that does. */
#ifndef MTPS_PAD_H
#define MTPS_PAD_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/err.h"
#include "mtps_scenario.h"

/* The padding a body of body_len bytes gets under policy (MTPS_PAD_EXACT:
 * exact bytes where legal, else the nearest legal length, the shorter on a
 * tie).  Not for MTPS_PAD_RANDOM. */
size_t mtps_pad_len(enum mtps_padding policy, uint32_t exact, size_t body_len);

/* Replaces the padding of an inner message (header, body, padding) with len
 * random bytes from env. */
MTP_MUST_USE int mtps_pad_apply(struct mtp_wr *plain, size_t len, const struct mtp_env *env);

/* A filler body whose length allows exactly `padding` bytes of padding:
 * msgs_ack[ack] (20 bytes), msgs_ack[ack, ack] (28), or a msg_container of
 * two msgs_ack (80 or 88 bytes; nested ids id1 < id2, both below the id the
 * filler itself will carry, seqno the even seqno of a service message). */
MTP_MUST_USE int mtps_pad_filler(uint32_t padding, uint64_t ack, uint64_t id1, uint64_t id2, int32_t seqno,
                                 struct mtp_wr *out);

/* An inner message with the given header fields, body and padding length. */
MTP_MUST_USE int mtps_pad_message(struct mtp_wr *plain, uint64_t salt, uint64_t session_id, uint64_t msg_id,
                                  int32_t seqno, const uint8_t *body, size_t len, size_t padding,
                                  const struct mtp_env *env);

#endif
