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
};

struct mtps_rule {
    uint8_t at;           /* enum mtps_at */
    uint8_t action;       /* enum mtps_action */
    bool per_server;      /* count matches across all connections ("per": "server"), not per connection */
    char match[MTPS_NAME_MAX]; /* "" or "*": everything */
    uint32_t nth;         /* fires from the nth match on (1-based) */
    uint32_t times;       /* ... this many times; 0 = every match from the nth on */
    int64_t ms;           /* delay */
    int32_t code;         /* transport error (negative) or rpc_error code */
    char message[MTPS_RPC_MESSAGE_MAX];
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
