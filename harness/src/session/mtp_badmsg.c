#include "mtp/badmsg.h"

#include "mtp/err.h"
#include "mtp/msgwin.h"
#include "mtp/service.h"

/* First matching row wins.  The order:
 * - msg_id shape and time come first: nothing else about a message whose id
 *   is malformed or out of the time window can be trusted (16/17/18);
 * - then the salt (48): a stale salt is the common case after rotation and the
 *   client resends under the new one;
 * - a container id seen before is 19; any other repeated id is a replay or a
 *   resend already received, ignored silently;
 * - 20 for an id too old to verify against the window;
 * - container limits (flood) and structure (64) before seqno, because a
 *   container that cannot be decomposed has no meaningful seqnos inside;
 * - seqno parity (34/35) before order (32/33): parity is a fact about this
 *   message alone, order depends on its neighbours.
 * An empty lower half of a client msg_id has no code of its own; it is
 * ignored rather than answered. */
static const struct rule {
    uint32_t fact;
    uint32_t also; /* extra facts that must be present too (0: none) */
    enum mtp_badmsg_action action;
    int32_t code;
    int err;
} rules[] = {
    {MTP_FACT_ID_LOW_BITS, 0, MTP_BADMSG_NOTIFY, MTP_BADMSG_ID_LOW_BITS, MTP_ERR_SES_MSG_ID_PARITY},
    {MTP_FACT_ID_ZERO_LOW32, 0, MTP_BADMSG_IGNORE, 0, MTP_ERR_SES_MSG_ID_ZERO_LOW},
    {MTP_FACT_ID_TOO_OLD, 0, MTP_BADMSG_NOTIFY, MTP_BADMSG_ID_TOO_LOW, MTP_ERR_SES_MSG_ID_TOO_OLD},
    {MTP_FACT_ID_TOO_NEW, 0, MTP_BADMSG_NOTIFY, MTP_BADMSG_ID_TOO_HIGH, MTP_ERR_SES_MSG_ID_TOO_NEW},
    {MTP_FACT_BAD_SALT, 0, MTP_BADMSG_SALT, MTP_BADMSG_BAD_SALT, MTP_ERR_SES_BAD_SALT},
    {MTP_FACT_DUPLICATE, MTP_FACT_CONTAINER, MTP_BADMSG_NOTIFY, MTP_BADMSG_CONTAINER_ID_REUSED,
     MTP_ERR_SES_DUPLICATE},
    {MTP_FACT_DUPLICATE, 0, MTP_BADMSG_IGNORE, 0, MTP_ERR_SES_DUPLICATE},
    {MTP_FACT_BELOW_WINDOW, 0, MTP_BADMSG_NOTIFY, MTP_BADMSG_TOO_OLD, MTP_ERR_SES_BELOW_WINDOW},
    {MTP_FACT_CONTAINER_FLOOD, 0, MTP_BADMSG_FLOOD, 0, MTP_ERR_SES_FLOOD},
    {MTP_FACT_CONTAINER_INVALID, 0, MTP_BADMSG_NOTIFY, MTP_BADMSG_BAD_CONTAINER, MTP_ERR_SES_BAD_CONTAINER},
    {MTP_FACT_SEQNO_ODD_FOR_SERVICE, 0, MTP_BADMSG_NOTIFY, MTP_BADMSG_SEQNO_EVEN_EXPECTED, MTP_ERR_SES_SEQNO_PARITY},
    {MTP_FACT_SEQNO_EVEN_FOR_CONTENT, 0, MTP_BADMSG_NOTIFY, MTP_BADMSG_SEQNO_ODD_EXPECTED, MTP_ERR_SES_SEQNO_PARITY},
    {MTP_FACT_SEQNO_TOO_LOW, 0, MTP_BADMSG_NOTIFY, MTP_BADMSG_SEQNO_TOO_LOW, MTP_ERR_SES_SEQNO_ORDER},
    {MTP_FACT_SEQNO_TOO_HIGH, 0, MTP_BADMSG_NOTIFY, MTP_BADMSG_SEQNO_TOO_HIGH, MTP_ERR_SES_SEQNO_ORDER},
};

struct mtp_badmsg_verdict mtp_badmsg_decide(uint32_t facts)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const struct rule *r = &rules[i];
        if ((facts & r->fact) && (facts & r->also) == r->also)
            return (struct mtp_badmsg_verdict){r->action, r->code, r->err, r->fact};
    }
    return (struct mtp_badmsg_verdict){MTP_BADMSG_ACCEPT, 0, MTP_OK, 0};
}

uint32_t mtp_badmsg_seqno_facts(int32_t seqno, int seq_class, const struct mtp_msgwin_entry *below,
                                const struct mtp_msgwin_entry *above)
{
    uint32_t f = 0;
    bool odd = (seqno & 1) != 0;
    if (seq_class == MTP_SVC_SEQ_SERVICE && odd)
        f |= MTP_FACT_SEQNO_ODD_FOR_SERVICE;
    if (seq_class == MTP_SVC_SEQ_CONTENT && !odd)
        f |= MTP_FACT_SEQNO_EVEN_FOR_CONTENT;
    /* 32: "the server has already received a message with a lower msg_id but
     * with either a higher or an equal and odd seqno". */
    if (below && (below->seqno > seqno || (below->seqno == seqno && (seqno & 1))))
        f |= MTP_FACT_SEQNO_TOO_LOW;
    /* 33: "there is a message with a higher msg_id but with either a lower or
     * an equal and odd seqno". */
    if (above && (above->seqno < seqno || (above->seqno == seqno && (seqno & 1))))
        f |= MTP_FACT_SEQNO_TOO_HIGH;
    return f;
}
