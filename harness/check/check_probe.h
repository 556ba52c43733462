/* The probe of `mtprobe check server`: the client side of MTProto under the
 * harness's full control, for sending a server under test what a broken or
 * hostile client would send and recording what comes back.
 *
 * It is built on the library's pieces (transport connection, key-exchange
 * TL and crypto, message crypto, service messages) rather than on the
 * reference client, because every field of every message must be choosable:
 * a msg_id 301 s old, a seqno out of order, a padding of 11 bytes with a
 * correct msg_key, a set_client_DH_params under another new_nonce's key.
 *
 * Everything both ways goes to the observation log in the format of
 * docs/events.md, seen from the probe's side (c2s is what the probe sent,
 * hostile messages marked), so reports show server runs like client runs.
 * The log's event indices let a probe point at the events its verdict rests
 * on.  Blocking sockets with deadlines; one run per process. */
#ifndef MTP_CHECK_PROBE_H
#define MTP_CHECK_PROBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/auth.h"
#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/msgcrypt.h"
#include "mtp/msgid.h"
#include "mtp/obfs.h"
#include "mtp/rsa.h"
#include "mtp/tl_schema.h"
#include "mtp/tr_conn.h"
#include "mtp/transport.h"
#include "mtps_events.h"

#define PROBE_READ_CHUNK 65536

struct probe_cfg {
    const char *host, *port;
    enum mtp_tr_kind kind;
    bool obfuscated;
    struct mtp_obfs_secret secret;    /* the MTProxy secret given to the run (mode NONE: none) */
    int32_t dc;                       /* p_q_inner_data_dc and the obfuscated init's DC field */
    const struct mtp_rsa_key *rsa;    /* the server's public key */
    const struct mtp_tl_schema *schema; /* for TL text in the log and API calls */
    int64_t wait_ms;                  /* how long a reaction is waited for */
    int32_t layer;                    /* of the schema, for invokeWithLayer */
};

/* One run of one case. */
struct probe {
    struct probe_cfg cfg;
    struct mtp_env env;               /* system randomness and clock */
    struct mtps_events ev;            /* the observation log */
    size_t nev;                       /* events written so far: the index of the next */
    uint64_t next_conn;
    int64_t t0_mono;
    char error[512];                  /* why the run could not do its part (setup failed) */
    bool quiet;                       /* log nothing (the timing probe's thousands of samples) */
    char last_reaction[64];           /* the last reaction recorded (probe_reaction) */
    size_t last_reaction_ev;
};

MTP_MUST_USE int probe_init(struct probe *P, const struct probe_cfg *cfg, const char *events_path,
                            struct mtp_error *err);
void probe_free(struct probe *P);
/* Writes an event made with probe_ev_new; returns its index. */
size_t probe_emit(struct probe *P, json_t *o);
json_t *probe_ev_new(struct probe *P, const char *ev, uint64_t conn);
/* Records why the run could not proceed (first call wins); returns -1. */
int probe_fail(struct probe *P, const char *fmt, ...) MTP_PRINTF(2, 3);
/* A call of the probe's own making that cannot fail when the harness is sound
 * (a writer with room, the system's randomness): a failure becomes the run's
 * error (probe_fail), so the case ends in verdict "error", never in a verdict. */
void probe_must(struct probe *P, int rc, const char *what);
#define PROBE_MUST(P, call) probe_must((P), (call), #call)
/* CLOCK_MONOTONIC in ms. */
int64_t probe_mono_ms(void);

/* ---- a connection ---- */

struct probe_open_opts {
    bool raw;                         /* no transport at all: probe_send_raw only */
    const uint8_t *init;              /* obfuscated: this plaintext init, unchecked (forbidden openings) */
    const struct mtp_obfs_secret *secret; /* obfuscated: instead of the run's secret */
    bool dc_set;                      /* obfuscated: this DC id in the init instead of the run's */
    int16_t dc;
};

struct probe_conn {
    struct probe *P;
    uint64_t id;
    int fd;
    bool raw;
    struct mtp_tr_conn tr;
    bool tr_up;
    bool fed;                         /* the transport has been given bytes (it has none to read before) */
    struct mtp_wr out;
    uint8_t buf[PROBE_READ_CHUNK];
    bool eof;                         /* the server closed (or reset) the connection */
    bool closed;                      /* we closed it */
    uint8_t first[8];                 /* the first bytes the server sent, as received (plain transports) */
    size_t nfirst;
    uint64_t bytes_in, bytes_out;
    struct mtp_msgid_gen plain_ids;
    struct probe_key *key;            /* decrypts what the server sends, once there is one */
    struct mtp_wr last;               /* the last encrypted packet sent, as sent */
    struct mtp_wr last_rx;            /* the last encrypted packet received, as received */
    uint64_t last_rx_msg_id;          /* ... and its msg_id (0 when it did not decrypt) */
    uint32_t qack_token;              /* the quick-ack token the last message sent with quick_ack expects */
};

MTP_MUST_USE int probe_open(struct probe *P, struct probe_conn *c, const struct probe_open_opts *o);
/* Closes our side and logs it (nothing when already closed). */
void probe_close(struct probe_conn *c);

/* A frame as the probe sends it. */
struct probe_frame {
    bool quick_ack;
    bool bad_crc, bad_seq;            /* full only */
};
/* Frames payload and sends it (f may be NULL). */
MTP_MUST_USE int probe_send_frame(struct probe_conn *c, const uint8_t *payload, size_t len,
                                  const struct probe_frame *f);
/* Sends what is queued in c->out (bytes written there by hand). */
MTP_MUST_USE int probe_flush(struct probe_conn *c);
/* Bytes as they are, below the transport (the connection must be raw or
 * obfuscated-less); logged as a "raw" event. */
MTP_MUST_USE int probe_send_raw(struct probe_conn *c, const uint8_t *p, size_t n, const char *what);

/* ---- what the server sent ---- */

enum probe_rx_kind {
    PRX_TIMEOUT = 0,  /* nothing before the deadline */
    PRX_CLOSED,       /* the server closed the connection */
    PRX_TERR,         /* a transport error frame: code */
    PRX_QACK,         /* a quick-ack token: token */
    PRX_PLAIN,        /* an unencrypted message: msg_id, body */
    PRX_ENC,          /* an encrypted message we could decrypt: header fields, body */
    PRX_JUNK,         /* a frame that is neither (or does not decrypt): data */
};

struct probe_rx {
    enum probe_rx_kind kind;
    size_t ev;                        /* its event */
    int32_t code;
    uint32_t token;
    uint64_t msg_id, salt, session_id;
    int32_t seqno;
    uint8_t *data;                    /* plain: the body; enc: the plaintext; junk: the frame (owned) */
    size_t len;
    const uint8_t *body;              /* enc: message_data (into data) */
    size_t body_len;
};
void probe_rx_free(struct probe_rx *r);

/* The next thing the server sent, waiting until deadline (probe_mono_ms). */
MTP_MUST_USE int probe_recv(struct probe_conn *c, int64_t deadline, struct probe_rx *r);

/* ---- the key exchange ---- */

/* How the probe's exchange breaks a rule on purpose (data, filled from a case). */
struct probe_hs_faults {
    bool req_dh_nonce, req_dh_server_nonce;     /* the outer nonces of req_DH_params */
    bool p_q_swapped, p_wrong, q_wrong;         /* p > q; p + 2; q + 2 */
    bool fingerprint;                           /* a fingerprint the server did not offer */
    bool rsa_garbage, rsa_hash, rsa_range, rsa_short; /* RSA payload: flipped bit, wrong SHA256, >= n, 255 bytes */
    bool inner_nonce, inner_server_nonce, inner_pq, inner_new_nonce_pq; /* p_q_inner_data disagreeing */
    bool set_nonce, set_server_nonce;           /* the outer nonces of set_client_DH_params */
    bool new_nonce_changed;                     /* set_client_DH_params under another new_nonce's key */
    bool cinner_hash, cinner_padding16, cinner_unaligned; /* client_DH_inner_data's envelope */
    bool cinner_nonce, cinner_server_nonce, cinner_retry_id;
    const uint8_t *g_b;                         /* sent instead of g^b (big-endian, 256 bytes) */
    int32_t dc;                                 /* p_q_inner_data_dc: 0 = the run's */
    bool temp;                                  /* p_q_inner_data_temp_dc (expires_in 3600) */
};

/* Where an exchange stopped, and what the server did about it. */
enum probe_hs_step { PHS_REQ_PQ = 1, PHS_REQ_DH, PHS_SET_DH, PHS_DONE };

struct probe_key {
    uint8_t auth_key[MTP_AUTH_KEY_BYTES];
    uint8_t id[MTP_AUTH_KEY_ID_BYTES];
    uint64_t salt;                    /* as a LE value (the wire bytes) */
    int64_t offset_ms;                /* server clock - local clock */
    struct mtp_msgcrypt *mc;
};
void probe_key_free(struct probe_key *k);

struct probe_hs {
    uint8_t nonce[16], server_nonce[16], new_nonce[32];
    uint8_t tmp_key[32], tmp_iv[32];
    uint8_t g_a[256];
    size_t g_a_len;
    int32_t g;
    uint8_t dh_prime[256];
    uint8_t b[256];
    int32_t server_time;
    uint8_t req_dh[1024];             /* the req_DH_params body as sent (for repeats) */
    size_t req_dh_len;
    size_t hostile_ev;                /* the event of the message the faults broke (0: none) */
    enum probe_hs_step step;          /* the step whose answer did not come as it should */
    struct probe_rx answer;           /* what came instead (kind PRX_TIMEOUT when nothing) */
};
void probe_hs_free(struct probe_hs *h);

/* Runs the exchange on c up to the first step the faults break (a hostile
 * message is then sent and the server's answer kept in h->answer) or to the
 * end.  0: a key (k filled, c->key set); 1: the exchange stopped at h->step
 * (an answer that is not the next step, or none); -1: the run could not
 * proceed (probe_fail says why).  f may be NULL (an honest exchange). */
int probe_exchange(struct probe_conn *c, const struct probe_hs_faults *f, struct probe_hs *h, struct probe_key *k);
/* Sends one unencrypted message (a key-exchange body or anything else). */
MTP_MUST_USE int probe_send_plain(struct probe_conn *c, const uint8_t *body, size_t len, const char *hostile,
                                  size_t *ev);

/* ---- sessions and encrypted messages ---- */

struct probe_sess {
    struct probe_key *k;
    uint64_t session_id;
    struct mtp_msgid_gen ids;
    uint32_t content;                 /* content-related messages created so far (for seqno) */
};
void probe_sess_init(struct probe *P, struct probe_sess *s, struct probe_key *k);
/* The next client msg_id of the session (server time). */
uint64_t probe_next_msg_id(struct probe *P, struct probe_sess *s);
/* The server's time now, as the key exchange told it (ms). */
int64_t probe_server_now(struct probe *P, const struct probe_key *k);

/* One encrypted message as the probe sends it; every field a case may break. */
struct probe_msg {
    const uint8_t *body;
    size_t len;
    bool content;                     /* content-related: odd seqno */
    uint64_t msg_id;                  /* 0: the session's next */
    bool seqno_set;
    int32_t seqno;
    bool salt_set;
    uint64_t salt;
    bool session_set;
    uint64_t session_id;
    int padding;                      /* bytes of padding; 0: the usual 12..27 */
    bool length_set;                  /* message_data_length as sent (the plaintext keeps its size) */
    uint32_t length;
    bool flip_msg_key;                /* one bit of msg_key (the AES key and iv derived from the flipped one) */
    bool server_direction;            /* msg_key and key/iv with x = 8 */
    bool mtproto1;                    /* MTProto 1.0 msg_key and key derivation */
    bool unknown_key;                 /* another auth_key_id (and key) */
    size_t ct_extra;                  /* bytes appended to the ciphertext (not a multiple of 16) */
    struct probe_frame frame;
    const char *hostile;              /* marks the event: what the case made wrong */
};

/* Sends m; *msg_id (may be NULL) gets its msg_id, *ev (may be NULL) its event. */
MTP_MUST_USE int probe_send_msg(struct probe_conn *c, struct probe_sess *s, const struct probe_msg *m,
                                uint64_t *msg_id, size_t *ev);
/* The last encrypted packet sent, as sent (auth_key_id, msg_key, ciphertext). */
const uint8_t *probe_last_packet(const struct probe_conn *c, size_t *len);

/* ---- bodies ---- */

MTP_MUST_USE int probe_body_ping(struct mtp_wr *w, uint64_t ping_id);
/* help.getNearestDc inside invokeWithLayer(initConnection(...)), as a client's first API call. */
MTP_MUST_USE int probe_body_api(struct probe *P, struct mtp_wr *w);

/* ---- numbers ---- */

/* Big-endian 256-byte values for g_b cases: "0", "1", "p-1", "p", "p+1",
 * "2^1984-1", "2^1984", "p-2^1984", "p-2^1984+1", "2^2047" ...: p, 2^N or a
 * decimal number, then +/- terms of the same.  -1 when the text is not one. */
int probe_num_expr(const char *expr, const uint8_t p[256], uint8_t out[256]);

#endif
