/* The server's verdict on a client message: accept it, ignore it silently,
 * answer with bad_msg_notification / bad_server_salt, or report a flood.
 *
 * The checks run first and record what they found as a set of facts; one
 * ordered table then turns the facts into a verdict, so the priority between
 * simultaneous faults is in one place and each row has its own unit test.
 * The codes and their meaning are from service_messages_about_messages
 * (#notice-of-ignored-error-message). */
#ifndef MTP_BADMSG_H
#define MTP_BADMSG_H

#include <stdbool.h>
#include <stdint.h>

enum mtp_badmsg_fact {
    MTP_FACT_ID_LOW_BITS = 1u << 0,        /* client msg_id not divisible by 4 */
    MTP_FACT_ID_ZERO_LOW32 = 1u << 1,      /* lower 32 bits of the client msg_id empty */
    MTP_FACT_ID_TOO_OLD = 1u << 2,         /* > 300 s in the past (top level only) */
    MTP_FACT_ID_TOO_NEW = 1u << 3,         /* > 30 s in the future (top level only) */
    MTP_FACT_BAD_SALT = 1u << 4,           /* salt not valid now (top level only) */
    MTP_FACT_DUPLICATE = 1u << 5,          /* msg_id already received */
    MTP_FACT_CONTAINER = 1u << 6,          /* the message is a msg_container */
    MTP_FACT_BELOW_WINDOW = 1u << 7,       /* below every stored id, window full */
    MTP_FACT_CONTAINER_FLOOD = 1u << 8,    /* over 1020 messages or 2^15 bytes */
    MTP_FACT_CONTAINER_INVALID = 1u << 9,  /* container rules broken */
    MTP_FACT_SEQNO_ODD_FOR_SERVICE = 1u << 10,  /* odd seqno on a message that is not content-related */
    MTP_FACT_SEQNO_EVEN_FOR_CONTENT = 1u << 11, /* even seqno on a content-related message */
    MTP_FACT_SEQNO_TOO_LOW = 1u << 12,     /* a lower msg_id has a higher (or equal odd) seqno */
    MTP_FACT_SEQNO_TOO_HIGH = 1u << 13,    /* a higher msg_id has a lower (or equal odd) seqno */
};

enum mtp_badmsg_action {
    MTP_BADMSG_ACCEPT = 0,
    MTP_BADMSG_IGNORE = 1, /* drop silently */
    MTP_BADMSG_NOTIFY = 2, /* bad_msg_notification with code */
    MTP_BADMSG_SALT = 3,   /* bad_server_salt with the current salt (code 48) */
    MTP_BADMSG_FLOOD = 4,  /* drop; the caller closes with transport error -429 */
};

struct mtp_badmsg_verdict {
    enum mtp_badmsg_action action;
    int32_t code; /* bad_msg_notification error_code (NOTIFY, SALT) */
    int err;      /* the mtp error code that names the fault (0 for ACCEPT) */
    uint32_t fact; /* the fact that decided */
};

/* Applies the table to a fact set (a bitwise OR of enum mtp_badmsg_fact). */
struct mtp_badmsg_verdict mtp_badmsg_decide(uint32_t facts);

/* Seqno facts of a message with seqno whose content-relatedness is given by
 * class (enum mtp_svc_seq), against its stored neighbours (NULL when none). */
struct mtp_msgwin_entry;
uint32_t mtp_badmsg_seqno_facts(int32_t seqno, int seq_class, const struct mtp_msgwin_entry *below,
                                const struct mtp_msgwin_entry *above);

#endif
