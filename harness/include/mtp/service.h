/* MTProto service messages: constructor ids, their classification, and
 * readers/writers built on the TL primitives.
 *
 * Constructor ids and field lists are from core.telegram.org/schema/mtproto
 * (the schema line is quoted next to each id), plus msg_resend_ans_req from
 * /mtproto/service_messages_about_messages.  Names keep the schema spelling so
 * that one grep finds both. */
#ifndef MTP_SERVICE_H
#define MTP_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"

/* rpc_result#f35c6d01 req_msg_id:long result:Object = RpcResult; */
#define MTP_SVC_rpc_result 0xf35c6d01u
/* rpc_error#2144ca19 error_code:int error_message:string = RpcError; */
#define MTP_SVC_rpc_error 0x2144ca19u
/* rpc_answer_unknown#5e2ad36e = RpcDropAnswer; */
#define MTP_SVC_rpc_answer_unknown 0x5e2ad36eu
/* rpc_answer_dropped_running#cd78e586 = RpcDropAnswer; */
#define MTP_SVC_rpc_answer_dropped_running 0xcd78e586u
/* rpc_answer_dropped#a43ad8b7 msg_id:long seq_no:int bytes:int = RpcDropAnswer; */
#define MTP_SVC_rpc_answer_dropped 0xa43ad8b7u
/* future_salt#0949d9dc valid_since:int valid_until:int salt:long = FutureSalt; */
#define MTP_SVC_future_salt 0x0949d9dcu
/* future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt> = FutureSalts; */
#define MTP_SVC_future_salts 0xae500895u
/* pong#347773c5 msg_id:long ping_id:long = Pong; */
#define MTP_SVC_pong 0x347773c5u
/* destroy_session_ok#e22045fc session_id:long = DestroySessionRes; */
#define MTP_SVC_destroy_session_ok 0xe22045fcu
/* destroy_session_none#62d350c9 session_id:long = DestroySessionRes; */
#define MTP_SVC_destroy_session_none 0x62d350c9u
/* new_session_created#9ec20908 first_msg_id:long unique_id:long server_salt:long = NewSession; */
#define MTP_SVC_new_session_created 0x9ec20908u
/* msg_container#73f1f8dc messages:vector<%Message> = MessageContainer; */
#define MTP_SVC_msg_container 0x73f1f8dcu
/* msg_copy#e06046b2 orig_message:Message = MessageCopy; */
#define MTP_SVC_msg_copy 0xe06046b2u
/* gzip_packed#3072cfa1 packed_data:bytes = Object; */
#define MTP_SVC_gzip_packed 0x3072cfa1u
/* msgs_ack#62d6b459 msg_ids:Vector<long> = MsgsAck; */
#define MTP_SVC_msgs_ack 0x62d6b459u
/* bad_msg_notification#a7eff811 bad_msg_id:long bad_msg_seqno:int error_code:int = BadMsgNotification; */
#define MTP_SVC_bad_msg_notification 0xa7eff811u
/* bad_server_salt#edab447b bad_msg_id:long bad_msg_seqno:int error_code:int new_server_salt:long = BadMsgNotification; */
#define MTP_SVC_bad_server_salt 0xedab447bu
/* msg_resend_req#7d861a08 msg_ids:Vector<long> = MsgResendReq; */
#define MTP_SVC_msg_resend_req 0x7d861a08u
/* msg_resend_ans_req#8610baeb msg_ids:Vector long = MsgResendReq;  (service_messages_about_messages) */
#define MTP_SVC_msg_resend_ans_req 0x8610baebu
/* msgs_state_req#da69fb52 msg_ids:Vector<long> = MsgsStateReq; */
#define MTP_SVC_msgs_state_req 0xda69fb52u
/* msgs_state_info#04deb57d req_msg_id:long info:bytes = MsgsStateInfo; */
#define MTP_SVC_msgs_state_info 0x04deb57du
/* msgs_all_info#8cc0d131 msg_ids:Vector<long> info:bytes = MsgsAllInfo; */
#define MTP_SVC_msgs_all_info 0x8cc0d131u
/* msg_detailed_info#276d3ec6 msg_id:long answer_msg_id:long bytes:int status:int = MsgDetailedInfo; */
#define MTP_SVC_msg_detailed_info 0x276d3ec6u
/* msg_new_detailed_info#809db6df answer_msg_id:long bytes:int status:int = MsgDetailedInfo; */
#define MTP_SVC_msg_new_detailed_info 0x809db6dfu
/* ---functions--- */
/* rpc_drop_answer#58e4a740 req_msg_id:long = RpcDropAnswer; */
#define MTP_SVC_rpc_drop_answer 0x58e4a740u
/* get_future_salts#b921bd04 num:int = FutureSalts; */
#define MTP_SVC_get_future_salts 0xb921bd04u
/* ping#7abe77ec ping_id:long = Pong; */
#define MTP_SVC_ping 0x7abe77ecu
/* ping_delay_disconnect#f3427b8c ping_id:long disconnect_delay:int = Pong; */
#define MTP_SVC_ping_delay_disconnect 0xf3427b8cu
/* destroy_session#e7512126 session_id:long = DestroySessionRes; */
#define MTP_SVC_destroy_session 0xe7512126u
/* http_wait#9299359f max_delay:int wait_after:int max_wait:int = HttpWait; */
#define MTP_SVC_http_wait 0x9299359fu

/* "Max 8192 IDs are allowed per constructor" (msgs_ack, msgs_state_req, msg_resend_req). */
#define MTP_SVC_MAX_IDS 8192
/* get_future_salts: "between 1 and 64". */
#define MTP_SVC_MAX_FUTURE_SALTS 64

/* bad_msg_notification error codes (service_messages_about_messages#notice-of-ignored-error-message). */
enum mtp_bad_msg_code {
    MTP_BADMSG_ID_TOO_LOW = 16,
    MTP_BADMSG_ID_TOO_HIGH = 17,
    MTP_BADMSG_ID_LOW_BITS = 18,
    MTP_BADMSG_CONTAINER_ID_REUSED = 19,
    MTP_BADMSG_TOO_OLD = 20,
    MTP_BADMSG_SEQNO_TOO_LOW = 32,
    MTP_BADMSG_SEQNO_TOO_HIGH = 33,
    MTP_BADMSG_SEQNO_EVEN_EXPECTED = 34,
    MTP_BADMSG_SEQNO_ODD_EXPECTED = 35,
    MTP_BADMSG_BAD_SALT = 48,
    MTP_BADMSG_BAD_CONTAINER = 64,
};
/* "16" -> "msg_id too low" etc.; NULL for a code the spec does not list. */
const char *mtp_bad_msg_code_text(int32_t code);

/* msgs_state_info status bytes. */
enum {
    MTP_STATE_UNKNOWN = 1,      /* msg_id too low, may have been forgotten */
    MTP_STATE_NOT_RECEIVED = 2, /* inside the stored range, certainly not received */
    MTP_STATE_NOT_YET = 3,      /* msg_id too high, not received yet */
    MTP_STATE_RECEIVED = 4,
    MTP_STATE_F_ACKED = 8,
    MTP_STATE_F_NO_ACK = 16,
    MTP_STATE_F_RPC = 32,
    MTP_STATE_F_ANSWERED = 64,
    MTP_STATE_F_KNOWN = 128,
};

/* How a message is classified for seqno and msg_id purposes. */
enum mtp_svc_seq {
    MTP_SVC_SEQ_CONTENT = 0, /* content-related: odd seqno, must be acknowledged */
    MTP_SVC_SEQ_SERVICE = 1, /* not content-related: even seqno */
    MTP_SVC_SEQ_EITHER = 2,  /* the spec is not explicit and deployed clients differ: either is accepted */
};
enum {
    MTP_SVC_FROM_CLIENT = 1,
    MTP_SVC_FROM_SERVER = 2,
};
struct mtp_svc_info {
    uint32_t id;
    const char *name;
    uint8_t seq;      /* enum mtp_svc_seq */
    uint8_t from;     /* MTP_SVC_FROM_* bits: who may send it */
    bool response;    /* sent by the server in answer to a client message: msg_id 1 mod 4 */
};
/* The table entry of a service constructor; NULL for anything else (an
 * application message: content-related, either direction). */
const struct mtp_svc_info *mtp_svc_info(uint32_t id);
/* "msgs_ack" or "#1234abcd" style name (buffer of at least 12 bytes for unknown ids). */
const char *mtp_svc_name(uint32_t id, char buf[12]);

/* A Vector<long> of msg_ids inside a received message, not copied. */
struct mtp_svc_ids {
    uint32_t count;
    struct mtp_rd r; /* over exactly count * 8 bytes */
};
/* Reads the next id; MTP_ERR_SHORT after the last. */
MTP_MUST_USE int mtp_svc_ids_next(struct mtp_svc_ids *v, uint64_t *id);

struct mtp_svc_future_salt {
    int32_t valid_since;
    int32_t valid_until;
    uint64_t salt;
};

/* A parsed service message.  Byte fields borrow the input. */
struct mtp_svc {
    uint32_t id;
    union {
        struct {
            uint64_t req_msg_id;
            struct mtp_rd result; /* the Object: the rest of the body */
        } rpc_result;
        struct {
            int32_t error_code;
            const uint8_t *message;
            size_t message_len;
        } rpc_error;
        struct mtp_svc_ids ids; /* msgs_ack, msg_resend_req, msg_resend_ans_req, msgs_state_req */
        struct {
            uint64_t bad_msg_id;
            int32_t bad_msg_seqno;
            int32_t error_code;
            uint64_t new_server_salt; /* bad_server_salt only */
        } bad_msg;
        struct {
            uint64_t req_msg_id;
            const uint8_t *info;
            size_t info_len;
        } state_info;
        struct {
            struct mtp_svc_ids ids;
            const uint8_t *info;
            size_t info_len;
        } all_info;
        struct {
            uint64_t msg_id; /* 0 for msg_new_detailed_info */
            uint64_t answer_msg_id;
            int32_t bytes;
            int32_t status;
        } detailed_info;
        struct {
            uint64_t req_msg_id;
            int32_t now;
            uint32_t count;
            struct mtp_rd salts; /* count bare 16-byte future_salt values: mtp_svc_future_salt_next */
        } future_salts;
        struct {
            int32_t num;
        } get_future_salts;
        struct {
            uint64_t msg_id;
            uint64_t ping_id;
        } pong;
        struct {
            uint64_t ping_id;
            int32_t disconnect_delay; /* ping_delay_disconnect only */
        } ping;
        struct {
            uint64_t session_id;
        } session; /* destroy_session, destroy_session_ok, destroy_session_none */
        struct {
            uint64_t first_msg_id;
            uint64_t unique_id;
            uint64_t server_salt;
        } new_session;
        struct {
            int32_t max_delay;
            int32_t wait_after;
            int32_t max_wait;
        } http_wait;
        struct {
            uint64_t req_msg_id;
        } drop_answer;
        struct {
            uint64_t msg_id;
            int32_t seq_no;
            int32_t bytes;
        } answer_dropped;
        struct {
            const uint8_t *data;
            size_t len;
        } gzip;
    } u;
};

/* Parses one boxed service object that fills r exactly.  msg_container and
 * msg_copy are not parsed here (see container.h).  MTP_ERR_TL_BAD_CTOR for a
 * constructor that is not a service message; field errors name the field.
 * The readers in *out borrow r's bytes and report into r's error record, so
 * both must outlive *out. */
MTP_MUST_USE int mtp_svc_parse(struct mtp_rd *r, struct mtp_svc *out);
/* Reads the next future_salt of a future_salts answer.  salts:vector<future_salt>
 * is all lower case: a bare vector of bare values (16 bytes each, no ids). */
MTP_MUST_USE int mtp_svc_future_salt_next(struct mtp_svc *fs, struct mtp_svc_future_salt *out);

/* Writers: each appends one boxed object. */
MTP_MUST_USE int mtp_svc_write_ids(struct mtp_wr *w, uint32_t ctor, const uint64_t *ids, size_t n);
MTP_MUST_USE int mtp_svc_write_rpc_result_head(struct mtp_wr *w, uint64_t req_msg_id); /* the result follows */
MTP_MUST_USE int mtp_svc_write_rpc_error(struct mtp_wr *w, int32_t code, const char *message, size_t len);
MTP_MUST_USE int mtp_svc_write_bad_msg(struct mtp_wr *w, uint64_t bad_msg_id, int32_t bad_msg_seqno, int32_t code);
MTP_MUST_USE int mtp_svc_write_bad_server_salt(struct mtp_wr *w, uint64_t bad_msg_id, int32_t bad_msg_seqno,
                                               uint64_t new_server_salt);
MTP_MUST_USE int mtp_svc_write_state_info(struct mtp_wr *w, uint32_t ctor_info_or_all, uint64_t req_msg_id,
                                          const uint64_t *ids, size_t n, const uint8_t *info, size_t info_len);
MTP_MUST_USE int mtp_svc_write_detailed_info(struct mtp_wr *w, uint64_t msg_id, uint64_t answer_msg_id,
                                             int32_t bytes, int32_t status);
MTP_MUST_USE int mtp_svc_write_new_detailed_info(struct mtp_wr *w, uint64_t answer_msg_id, int32_t bytes,
                                                 int32_t status);
MTP_MUST_USE int mtp_svc_write_future_salts(struct mtp_wr *w, uint64_t req_msg_id, int32_t now,
                                            const struct mtp_svc_future_salt *salts, size_t n);
MTP_MUST_USE int mtp_svc_write_get_future_salts(struct mtp_wr *w, int32_t num);
MTP_MUST_USE int mtp_svc_write_ping(struct mtp_wr *w, uint64_t ping_id);
MTP_MUST_USE int mtp_svc_write_ping_delay_disconnect(struct mtp_wr *w, uint64_t ping_id, int32_t disconnect_delay);
MTP_MUST_USE int mtp_svc_write_pong(struct mtp_wr *w, uint64_t msg_id, uint64_t ping_id);
MTP_MUST_USE int mtp_svc_write_session(struct mtp_wr *w, uint32_t ctor, uint64_t session_id);
MTP_MUST_USE int mtp_svc_write_new_session_created(struct mtp_wr *w, uint64_t first_msg_id, uint64_t unique_id,
                                                   uint64_t server_salt);
MTP_MUST_USE int mtp_svc_write_http_wait(struct mtp_wr *w, int32_t max_delay, int32_t wait_after, int32_t max_wait);
MTP_MUST_USE int mtp_svc_write_rpc_drop_answer(struct mtp_wr *w, uint64_t req_msg_id);

#endif
