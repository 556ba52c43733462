/* Scenarios: the mock DC's behaviour as data (docs/scenarios.md).
 *
 * A scenario is a JSON object loaded once at start.  It holds
 *   - "auth": settings of the auth-key exchange (handed to the handshake
 *     adapter, mtps_hs.h, which maps them onto the auth server machine);
 *   - "session": overrides of the session core's configuration;
 *   - "limits": overrides of the server's limits (flood control, timeouts);
 *   - "api": how the API layer answers (templates, the error for methods
 *     without one);
 *   - "rules": fault hooks, each {at, match, nth, times, do, ...} evaluated at
 *     fixed points of the connection code (enum mtps_at) with per-connection
 *     counters.
 * Nothing in the connection code tests for a scenario by name: it asks the
 * rule table what to do at each point. */
#ifndef MTPS_SCENARIO_H
#define MTPS_SCENARIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/err.h"
#include "mtp/session.h"

#define MTPS_MAX_RULES 32
#define MTPS_NAME_MAX 64
#define MTPS_RPC_MESSAGE_MAX 128

/* Where a rule is evaluated. */
enum mtps_at {
    MTPS_AT_C2S_PACKET = 1, /* each transport frame received, before anything else; match "plain"/"encrypted" */
    MTPS_AT_C2S_MESSAGE,    /* each decrypted message, before the session core; match its top-level constructor */
    MTPS_AT_RPC,            /* each API call, after invokeWithLayer & co. are unwrapped; match the method */
    MTPS_AT_S2C_PACKET,     /* each packet the server sends; match a constructor in it, or "plain"/"encrypted" */
};

enum mtps_action {
    MTPS_DO_DROP = 1,         /* c2s: ignore the packet/message; rpc: never answer; s2c: do not send */
    MTPS_DO_DELAY,            /* s2c: send it ms later */
    MTPS_DO_CLOSE,            /* close the connection (s2c: instead of sending) */
    MTPS_DO_CLOSE_AFTER,      /* s2c: send it, then close */
    MTPS_DO_TRANSPORT_ERROR,  /* send transport error `code` and close */
    MTPS_DO_RPC_ERROR,        /* rpc: answer rpc_error `code` `message` */
    MTPS_DO_BAD_SALT,         /* c2s_message: replace the key's salts first, so the message gets bad_server_salt */
    MTPS_DO_DUPLICATE,        /* s2c: send it twice */
    MTPS_DO_CORRUPT,          /* s2c: flip a bit of msg_key (encrypted) or of the last byte (plain) */
    MTPS_DO_BOOL_FALSE,       /* rpc: answer boolFalse (e.g. auth.bindTempAuthKey refused without an error) */
    MTPS_DO_INJECT,           /* rpc: a hostile message with a canary first, the honest answer ms later */
    MTPS_DO_PUSH,             /* rpc: an unsolicited service message `message` before the answer */
    MTPS_DO_BAD_CRC,          /* s2c (full transport): a frame with a wrong CRC32 */
    MTPS_DO_BAD_SEQ,          /* s2c (full transport): a frame with a wrong sequence number */
};

/* "inject": what makes the hostile message one a conformant client discards
 * (mtps_inject.h builds it).  Each breaks exactly one check. */
enum mtps_mutation {
    MTPS_MUT_NONE = 1,          /* nothing: an honest-looking second answer (a control) */
    MTPS_MUT_MSG_KEY,           /* msg_key not the SHA256 one; AES key/iv derived from the msg_key sent */
    MTPS_MUT_AUTH_KEY_ID,       /* another key's id in the header, encrypted with the real key */
    MTPS_MUT_CLIENT_DIRECTION,  /* msg_key and key/iv with x = 0 (client to server) */
    MTPS_MUT_MTPROTO1,          /* MTProto 1.0 msg_key and key derivation */
    MTPS_MUT_SESSION_ID,        /* another session_id */
    MTPS_MUT_MSG_ID_EVEN,       /* msg_id divisible by 4 */
    MTPS_MUT_MSG_ID_DUPLICATE,  /* the msg_id of the session's previous message */
    MTPS_MUT_MSG_ID_OLD,        /* msg_id 301 s in the past */
    MTPS_MUT_MSG_ID_FUTURE,     /* msg_id 31 s in the future */
    MTPS_MUT_LENGTH_BEYOND,     /* message_data_length 4 bytes beyond the plaintext */
    MTPS_MUT_LENGTH_UNALIGNED,  /* message_data_length + 1 (the byte is padding) */
    MTPS_MUT_LENGTH_NEGATIVE,   /* message_data_length 0xfffffffc */
    MTPS_MUT_PADDING_SHORT,     /* 0..11 bytes of padding */
    MTPS_MUT_PADDING_LONG,      /* 1025..1040 bytes of padding */
    MTPS_MUT_CONTAINER_ORDER,   /* a msg_container whose msg_id is below its message's */
    MTPS_MUT_PLAIN_AFTER_KEY,   /* the message unencrypted (auth_key_id 0) */
};
#define MTPS_MUT_COUNT 17

/* "inject": what the hostile message carries. */
enum mtps_carry {
    MTPS_CARRY_RPC_RESULT = 1, /* an rpc_result for the call with the method's canary answer */
    MTPS_CARRY_BAD_SERVER_SALT, /* a bad_server_salt for the call with the salt "CANARY!!" */
};

/* "push": the service message sent before the answer. */
enum mtps_push {
    MTPS_PUSH_FUTURE_SALTS = 1,
    MTPS_PUSH_MSGS_ACK,
    MTPS_PUSH_NEW_SESSION_CREATED,
    MTPS_PUSH_BAD_MSG_NOTIFICATION, /* the call is then not answered: the client must send it again */
};

/* session.padding: how much padding every encrypted message gets. */
enum mtps_padding {
    MTPS_PAD_RANDOM = 0, /* the session core's (12..27 plus extra_padding_blocks) */
    MTPS_PAD_MIN,        /* the least legal: 12..27 */
    MTPS_PAD_MAX,        /* the most legal: 1009..1024 */
    MTPS_PAD_EXACT,      /* exactly padding_exact bytes where the length allows, else the nearest legal */
};

struct mtps_rule {
    uint8_t at;           /* enum mtps_at */
    uint8_t action;       /* enum mtps_action */
    bool per_server;      /* count matches across all connections ("per": "server"), not per connection */
    char match[MTPS_NAME_MAX]; /* "" or "*": everything */
    uint32_t nth;         /* fires from the nth match on (1-based) */
    uint32_t times;       /* ... this many times; 0 = every match from the nth on */
    int64_t ms;           /* delay; inject and push: the honest answer this much later */
    int32_t code;         /* transport error (negative), rpc_error code, or push's bad_msg_notification code */
    char message[MTPS_RPC_MESSAGE_MAX]; /* rpc_error: the error; push: the service message's name */
    uint8_t mutation;     /* inject: enum mtps_mutation */
    uint8_t carry;        /* inject: enum mtps_carry */
    uint8_t push;         /* push: enum mtps_push */
};

/* Server limits; every one can be set on the command line and in "limits". */
struct mtps_limits {
    uint32_t max_conns;          /* connections served at once */
    uint32_t max_conns_per_ip;   /* from one address; more get -429 (0: no limit) */
    uint32_t max_frame;          /* largest transport frame accepted */
    uint32_t max_output;         /* bytes queued for one connection before it counts as a slow reader */
    uint64_t max_memory;         /* all connections' buffers together */
    uint32_t max_keys;           /* auth keys kept in memory */
    uint32_t max_sessions;       /* sessions kept, all keys together */
    uint32_t max_sessions_per_key;
    uint32_t flood_packets;      /* per flood_interval_ms and connection; more get -429 (0: no limit) */
    uint64_t flood_bytes;        /* per flood_interval_ms and connection (0: no limit) */
    int64_t flood_interval_ms;
    int64_t idle_timeout_ms;     /* close when no complete frame arrived for this long */
    int64_t frame_timeout_ms;    /* close when a started frame (or the header) stays incomplete this long */
    int64_t close_linger_ms;     /* how long a closing connection may take to flush its last bytes */
};

void mtps_limits_default(struct mtps_limits *l);

/* What to answer when the API layer has no template for a method. */
struct mtps_api_behaviour {
    int32_t unknown_method_code;              /* 400 */
    char unknown_method_message[MTPS_RPC_MESSAGE_MAX]; /* METHOD_NOT_SUPPORTED */
};

struct mtps_scenario {
    char name[MTPS_NAME_MAX];
    char *description;                /* malloc'ed, may be NULL */
    json_t *root;                     /* the whole document (owned), or NULL for the built-in default */
    const json_t *auth;               /* its "auth" object, or NULL */
    struct mtp_session_cfg session;   /* the session core configuration, defaults + "session" */
    uint32_t limits_set;              /* bit i: the scenario sets limit i of the limits table */
    struct mtps_limits limits;        /* values for the limits it sets */
    struct mtps_api_behaviour api;
    bool quick_ack;                   /* answer quick-ack requests (default true) */
    bool require_obfs;                /* refuse plain transports (MTProxy-like) */
    bool bad_packet_closes;           /* a packet that fails decryption gets -404 and a close (default true) */
    uint32_t padding_min;             /* padded intermediate: random padding of padding_min..padding_max bytes */
    uint32_t padding_max;             /* (default 0..3, which clients that strip len % 4 bytes, like Telethon,
                                       * read; the spec allows up to 15) */
    bool abridged_long_form;          /* abridged frames always with 0x7f and a 3-byte length */
    uint32_t split_writes;            /* the shell writes the output this many bytes at a time (0: at once) */
    uint32_t split_delay_ms;          /* ... this long apart (default 1) */
    int64_t clock_offset_ms;          /* the server's clock runs this far ahead (negative: behind) */
    uint8_t padding_policy;           /* session.padding: enum mtps_padding */
    uint32_t padding_exact;           /* MTPS_PAD_EXACT: the padding asked for, 12..1024 */
    struct mtps_rule rules[MTPS_MAX_RULES];
    size_t nrules;
};

/* The built-in default: no rules, Telegram-like settings. */
void mtps_scenario_default(struct mtps_scenario *s);
/* Loads a scenario from JSON text; unknown keys are errors (MTP_ERR_SRV_SCENARIO
 * naming the key), so a typo never silently does nothing. */
MTP_MUST_USE int mtps_scenario_parse(struct mtps_scenario *s, const char *text, size_t len, const char *origin,
                                     struct mtp_error *err);
/* NAME -> <dir>/NAME.json, or a path when NAME contains '/' or ends in ".json".
 * dir NULL means the source tree's mock-server/scenarios. */
MTP_MUST_USE int mtps_scenario_load(struct mtps_scenario *s, const char *name, const char *dir, struct mtp_error *err);
void mtps_scenario_free(struct mtps_scenario *s);
/* Copies the limits the scenario sets over l. */
void mtps_scenario_apply_limits(const struct mtps_scenario *s, struct mtps_limits *l);

const char *mtps_at_name(enum mtps_at at);
const char *mtps_action_name(enum mtps_action a);
const char *mtps_mutation_name(enum mtps_mutation m);
const char *mtps_carry_name(enum mtps_carry c);
const char *mtps_push_name(enum mtps_push p);

/* Per-connection rule state: how often each rule matched and fired.  Rules
 * counted per server use the counters of `shared` (the server's state) when it
 * is set, their own otherwise. */
struct mtps_rule_state {
    uint32_t matched[MTPS_MAX_RULES];
    uint32_t fired[MTPS_MAX_RULES];
    struct mtps_rule_state *shared;
};

/* The first rule at `at` that fires for a packet/message described by the
 * names in names[0..n) (constructor names, "plain"/"encrypted", a method),
 * updating the counters of every rule that matched; NULL when none fires. */
const struct mtps_rule *mtps_rules_eval(const struct mtps_scenario *s, struct mtps_rule_state *st, enum mtps_at at,
                                        const char *const *names, size_t n);

#endif
