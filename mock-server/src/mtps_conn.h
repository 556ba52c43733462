/* One client connection of the mock DC, sans-IO: bytes in (mtps_conn_feed),
 * bytes out (mtps_conn_output), time passing (mtps_conn_tick).  The libevent
 * shell (mtps_loop.c) only moves bytes and arms a timer at
 * mtps_conn_deadline; tests and the fuzz target drive the same object in
 * memory.
 *
 * Per received frame:
 *   transport (detection, obfuscation, framing; -429 flood control)
 *   -> auth_key_id 0: the auth-key exchange (mtps_hs), answers unencrypted
 *   -> else: key lookup (-404 when unknown), decryption (-404 when it fails),
 *      the session core of (key, session_id), which answers service messages
 *      and hands RPC queries to the API layer (mtps_api).
 * The scenario's rules are asked at each step (mtps_scenario.h).
 *
 * A connection's failure is its own: every error ends in a close of this
 * connection only, with a transport error first where the protocol has one. */
#ifndef MTPS_CONN_H
#define MTPS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/auth.h"
#include "mtp/msgcrypt.h"
#include "mtp/msgid.h"
#include "mtp/tr_conn.h"
#include "mtps_hs.h"
#include "mtps_inject.h"
#include "mtps_scenario.h"
#include "mtps_server.h"

#define MTPS_CONN_MAX_SESSIONS 8   /* sessions answering on one connection at once */
#define MTPS_CONN_MAX_DELAYED 64   /* packets held back by "delay" rules */
#define MTPS_CONN_MAX_DESTROY 16   /* destroy_session requests handled per message */
#define MTPS_CONN_MAX_PENDING 16   /* honest answers held back behind an injected message */
#define MTPS_CONN_MAX_INJECT 4     /* hostile messages waiting for the end of the received message */

enum mtps_conn_state {
    MTPS_CONN_OPEN = 1,   /* reading and writing */
    MTPS_CONN_DRAIN,      /* no more reading: write what is queued, then close */
    MTPS_CONN_CLOSED,     /* close now */
};

struct mtps_delayed {
    int64_t due_ms;
    uint8_t *data;
    size_t len;
    bool close_after;
};

/* An answer the API layer made, sent when due ("inject", "push" with ms). */
struct mtps_pending {
    int64_t due_ms;
    uint64_t key_id;      /* the session's key (a connection may change keys meanwhile) */
    uint64_t session_id;
    uint64_t req_msg_id;
    bool error;
    int32_t code;
    char message[MTPS_RPC_MESSAGE_MAX];
    uint8_t *result;
    size_t len;
};

/* A hostile message to send once the received message is processed. */
struct mtps_injection {
    const struct mtps_rule *rule;
    uint64_t key_id;
    uint64_t session_id;
    struct mtps_canary canary;
};

struct mtps_conn {
    struct mtps_server *srv;
    int32_t dc;                         /* the DC id of the listening address */
    uint64_t id;
    char peer[64];
    enum mtps_conn_state state;
    int reason;                         /* why it closes (an error code), MTP_OK while open */
    char reason_text[160];
    int32_t sent_error;                 /* the transport error sent before closing, 0 if none */

    struct mtp_tr_conn tr;
    bool tr_known;                      /* detection finished (logged once) */
    int32_t refuse_code;                /* answer the first frame with this transport error (-429) */

    struct mtp_wr out;                  /* bytes for the socket */
    struct mtp_wr plain;                /* scratch: decrypted message / outgoing plaintext */
    struct mtp_wr pkt;                  /* scratch: outgoing payload */

    struct mtps_hs hs;                  /* the auth-key exchange in progress */
    struct mtp_msgid_gen plain_ids;     /* msg_ids of our unencrypted answers */

    struct mtps_key *key;               /* the key this connection speaks with (refs held) */
    struct mtp_msgcrypt *mc;
    struct mtps_sess *sessions[MTPS_CONN_MAX_SESSIONS]; /* bound to this connection, most recent first */
    size_t nsessions;
    struct mtps_sess *cur;              /* the session of the message being processed */
    uint64_t destroy[MTPS_CONN_MAX_DESTROY];
    size_t ndestroy;

    struct mtps_rule_state rules;
    struct mtps_delayed delayed[MTPS_CONN_MAX_DELAYED];
    size_t ndelayed;
    struct mtps_pending pending[MTPS_CONN_MAX_PENDING];
    size_t npending;
    struct mtps_injection inject[MTPS_CONN_MAX_INJECT];
    size_t ninject;
    uint64_t last_c2s_msg_id;           /* of the last encrypted message received (for fillers) */

    int64_t opened_ms, last_frame_ms, partial_since_ms, closing_since_ms;
    int64_t flood_window_ms;
    uint32_t flood_packets;
    uint64_t flood_bytes;
    uint64_t mem_accounted;             /* what this connection has added to srv->mem_used */
    uint64_t queued_elsewhere;          /* bytes the shell still holds for the socket */
    uint64_t bytes_in, bytes_out, frames_in, frames_out;
    uint8_t first[64];                  /* the first bytes received, as they came (for the observation log) */
    size_t first_len;
};

/* A new connection from peer (text for logs) on DC dc.  refuse_code != 0:
 * the shell already knows the connection is one too many (-429 for too many
 * from one address); it is answered with that error once its transport is
 * known, then closed. */
MTP_MUST_USE int mtps_conn_init(struct mtps_conn *c, struct mtps_server *srv, int32_t dc, const char *peer,
                                int32_t refuse_code, struct mtp_error *err);
/* Logs the close, releases keys and sessions, wipes secrets. */
void mtps_conn_free(struct mtps_conn *c);

/* Received bytes (decrypted in place for obfuscated connections). */
void mtps_conn_feed(struct mtps_conn *c, uint8_t *buf, size_t len);
/* The peer closed its side: nothing more arrives. */
void mtps_conn_eof(struct mtps_conn *c);
/* Runs timers whose time has come (idle and frame timeouts, delayed packets,
 * session timers such as ping_delay_disconnect and pending acks). */
void mtps_conn_tick(struct mtps_conn *c);
/* Local time (ms, the env clock) of the next timer; INT64_MAX for none. */
int64_t mtps_conn_deadline(const struct mtps_conn *c);

/* Output for the socket; the shell takes it all and calls mtps_conn_sent. */
static inline const uint8_t *mtps_conn_output(const struct mtps_conn *c, size_t *len)
{
    *len = c->out.len;
    return c->out.p;
}
/* The shell took the output; queued is what it still holds unsent for this
 * connection (its socket buffer), which counts against max_output and the
 * server's memory budget. */
void mtps_conn_sent(struct mtps_conn *c, size_t queued);

static inline enum mtps_conn_state mtps_conn_state(const struct mtps_conn *c) { return c->state; }
/* Session events of sessions bound to a connection (the store's callback). */
void mtps_conn_session_event(struct mtps_server *srv, struct mtps_sess *s, const struct mtp_session_event *ev);

/* Closes with reason (an error code) and no transport error. */
void mtps_conn_close(struct mtps_conn *c, int reason, const char *fmt, ...) MTP_PRINTF(3, 4);

#endif
