/* Internals of the capture decoder shared by its files (decode.h says what
 * each stage does).  Not an API. */
#ifndef MTP_DECODE_DEC_INTERNAL_H
#define MTP_DECODE_DEC_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "decode/tcp_reasm.h"
#include "mtp/buf.h"
#include "mtp/msgcrypt.h"
#include "mtp/obfs.h"
#include "mtp/tl_schema.h"
#include "mtp/tl_value.h"
#include "mtp/transport.h"

/* ---- key material from the key logs (dec_keys.c) ---- */

struct dec_key {
    struct dec_key *next;
    uint64_t id64;           /* auth_key_id as the LE integer of its wire bytes */
    uint8_t key[256];
    uint8_t aux[8];          /* auth_key_aux_hash */
    bool temp;
    struct mtp_msgcrypt *mc; /* made on first use */
};

struct dec_obfs_line {
    struct dec_obfs_line *next;
    uint8_t init[MTP_OBFS_INIT_LEN];
    struct mtp_obfs_keys keys;
};

struct dec_nonce_line {
    struct dec_nonce_line *next;
    uint8_t nonce[16], server_nonce[16], new_nonce[32];
};

#define DEC_KEY_BUCKETS 4096

struct dec_keys {
    struct dec_key *keys[DEC_KEY_BUCKETS];
    struct dec_obfs_line *obfs[DEC_KEY_BUCKETS];
    struct dec_nonce_line *nonces[DEC_KEY_BUCKETS];
    size_t nkeys, nobfs, nnonces, bad_lines;
    char first_bad[200];
};

MTP_MUST_USE int dec_keys_load(struct dec_keys *k, const char *path, struct mtp_error *err);
MTP_MUST_USE int dec_keys_load_mem(struct dec_keys *k, const char *text, size_t len, struct mtp_error *err);
void dec_keys_free(struct dec_keys *k);
struct dec_key *dec_keys_find(const struct dec_keys *k, uint64_t id64);
const struct dec_obfs_line *dec_keys_obfs(const struct dec_keys *k, const uint8_t init[MTP_OBFS_INIT_LEN]);
const struct dec_nonce_line *dec_keys_nonce(const struct dec_keys *k, const uint8_t nonce[16],
                                            const uint8_t server_nonce[16]);

/* ---- schemas ---- */

/* Loaded when a session first needs it (parsing the API schema is the
 * largest fixed cost of a run). */
struct dec_schema {
    struct mtp_tl_schema *s;
    int32_t layer;
    char path[4608];
    bool failed;
    bool borrowed;           /* the caller's (mtp_decode_opts.loaded): not freed */
};

/* ---- sessions (dec_msg.c): one per (auth_key_id, session_id) ---- */

#define DEC_PENDING 512
#define DEC_RECENT 64

struct dec_pending {
    uint64_t msg_id;
    const struct mtp_tl_tref *type;
    const struct dec_schema *schema;
};

/* What --check remembers of one direction of a session. */
struct dec_side {
    bool any;
    uint64_t last_msg_id;
    int32_t max_seqno;
    uint64_t recent[DEC_RECENT]; /* msg_ids, for duplicates */
    uint64_t recent_salt[DEC_RECENT]; /* the salt each was sent with */
    unsigned nrecent;
};

struct dec_sess {
    struct dec_sess *hnext, *lru_prev, *lru_next;
    uint64_t key_id, session_id;
    uint32_t hash;
    int32_t layer;
    const struct dec_schema *schema;
    struct dec_pending pend[DEC_PENDING];
    unsigned pend_next;
    struct dec_side side[2];
    bool salt_given;          /* a bad_server_salt told the client which salt to use: */
    uint64_t given_salt;
};

/* ---- connections (dec_conn.c) ---- */

enum dec_dir_state {
    DEC_DIR_WAIT = 0, /* before the transport is known: bytes kept in rs */
    DEC_DIR_DETECT,   /* c2s: the detector is reading the first bytes */
    DEC_DIR_FRAMES,   /* decoding frames */
    DEC_DIR_RESYNC,   /* after a gap or a mid-connection start: looking for a frame boundary */
    DEC_DIR_DEAD,     /* nothing more can be decoded */
};

struct dec_dir {
    enum dec_dir_state state;
    struct mtp_tr_decoder dec;
    bool dec_init;
    uint64_t dec_base;     /* stream offset where the decoder started */
    struct mtp_wr rs;      /* WAIT: bytes as received; RESYNC: deobfuscated bytes not yet framed */
    uint64_t rs_off;       /* stream offset of rs.p[0] */
    uint64_t ks_off;       /* obfuscated: stream offset the keystream is at */
    bool lost_start;       /* WAIT: bytes were lost before the transport was known */
    uint64_t skipped;      /* bytes given up while resynchronising */
    uint64_t skipped_run;  /* ... since the last frame */
    bool broken;           /* RESYNC after frames were decoded (a gap, a broken frame) */
};

/* The key exchange in progress on a connection. */
struct dec_exch {
    bool active;
    uint8_t nonce[16], server_nonce[16];
    bool have_server_nonce;
    bool have_new_nonce;
    uint8_t new_nonce[32];
    uint8_t tmp_key[32], tmp_iv[32];
    uint8_t dh_prime[512];
    size_t dh_prime_len;
    int32_t g;
    bool have_dh;
    unsigned attempts;       /* set_client_DH_params seen */
    uint8_t retry_aux[8];    /* auth_key_aux_hash of the key that got dh_gen_retry, when known */
    bool retry_known;
};

#define DEC_MAX_PROBLEMS 6
#define DEC_MAX_CONN_KEYS 4

struct dec_conn {
    struct mtp_tcp_conn *tcp;
    uint64_t id;
    bool skip;               /* --connection names another one */
    bool detected;           /* the transport is known */
    bool dead;
    struct mtp_tr_detector det;
    enum mtp_tr_kind kind;
    bool obfuscated, obfs_keys_logged;
    bool obfs_no_secret;     /* --secret given, but this connection's init needs none */
    struct mtp_obfs obfs;
    int16_t dc;
    struct dec_dir d[2];
    struct dec_exch ex;
    uint32_t qa_tokens[16];  /* quick-ack tokens the client's packets asked for */
    unsigned nqa;
    uint64_t msgs[2], plain, encrypted, undecrypted, quick_acks, transport_errors, tl_errors, findings;
    uint64_t lost, gaps, resyncs;
    uint64_t key_ids[DEC_MAX_CONN_KEYS];
    unsigned nkey_ids;
    char problems[DEC_MAX_PROBLEMS][200];
    unsigned nproblems, more_problems;
    int64_t first_ns, last_ns;
    const char *end;
    char transport[32];      /* its name, once known */
};

/* ---- one decoded message (dec_msg.c), handed to the checks and the output ---- */

struct dec_msg {
    struct dec_conn *c;
    enum mtp_tcp_dir dir;
    int64_t ts_ns;
    uint64_t stream_off;     /* of the frame */
    bool enc;
    bool decrypted;          /* enc: the key was known and the packet decrypted */
    const char *error;       /* why it is not shown in full (NULL: it is) */
    char error_buf[512];
    uint64_t auth_key_id;    /* enc */
    uint64_t salt, session_id, msg_id;
    int32_t seqno;
    uint32_t data_len;       /* message_data_length as sent */
    size_t plaintext_len, padding;
    bool quick_ack;
    const uint8_t *body;
    size_t body_len;
    const struct mtp_tl_value *value; /* the body decoded, or NULL */
    const struct dec_schema *schema;
    struct dec_sess *sess;   /* enc, decrypted */
    /* Key exchange: the inner data decrypted with the logged new_nonce. */
    const char *inner_name;
    const struct mtp_tl_value *inner;
    const uint8_t *inner_body;
    size_t inner_len;
    const char *inner_error;
    char inner_error_buf[512];
    char note[160];          /* something learnt from it (the key an exchange made) */
};

/* ---- the decoder ---- */

#define DEC_SESS_BUCKETS 4096
#define DEC_MAX_SESSIONS 65536
#define DEC_REQS 80
#define DEC_GB_SEEN 4096

struct dec_req_count {
    char id[16];
    uint64_t checked, failed;
};

struct dec {
    const struct mtp_decode_opts *o;
    struct mtp_decode_stats *st;
    FILE *out;
    struct dec_keys keys;
    struct dec_schema schemas[MTP_DECODE_MAX_SCHEMAS];
    size_t nschemas;
    struct dec_schema *newest;
    struct dec_sess *sess[DEC_SESS_BUCKETS];
    struct dec_sess *lru_head, *lru_tail;
    size_t nsess;
    struct mtp_tcp_reasm reasm;
    struct mtp_wr plain;     /* decrypted packets */
    struct mtp_wr scratch;   /* deobfuscated bytes */
    struct mtp_wr inner;     /* decrypted exchange inner data */
    struct mtp_wr line;      /* scratch for text output */
    struct mtp_wr obuf;      /* JSON lines not written yet */
    struct mtp_tl_arena arena;
    int64_t t0_ns;
    bool t0_set;
    json_t *catalogue;       /* requirements.json, for levels and titles; may be NULL */
    struct dec_req_count reqs[DEC_REQS];
    size_t nreqs;
    uint64_t gb_seen[DEC_GB_SEEN]; /* hashes of the last g_b values, for repeats (C-DH-6) */
    size_t ngb;
};

/* decode.c: loads a schema the first time it is needed. */
MTP_MUST_USE int dec_schema_load(struct dec_schema *sch, struct mtp_error *err);

/* dec_conn.c */
void dec_conn_open(struct dec *d, struct mtp_tcp_conn *tc);
void dec_conn_data(struct dec *d, struct mtp_tcp_conn *tc, enum mtp_tcp_dir dir, uint64_t off, const uint8_t *p,
                   size_t n, int64_t ts);
void dec_conn_gap(struct dec *d, struct mtp_tcp_conn *tc, enum mtp_tcp_dir dir, uint64_t off, uint64_t n, int64_t ts);
void dec_conn_close(struct dec *d, struct mtp_tcp_conn *tc, enum mtp_tcp_end how, int64_t ts);
const char *dec_conn_transport(const struct dec_conn *c, char *buf, size_t cap);
void dec_problem(struct dec_conn *c, const char *fmt, ...) MTP_PRINTF(2, 3);

/* dec_msg.c: one packet of a connection, already sorted. */
void dec_packet(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, const struct mtp_tr_packet *pk, int64_t ts,
                uint64_t off);
/* Whether a packet at the start of a resynchronisation is real: an encrypted
 * one under a logged key whose msg_key checks out, or a well-formed
 * unencrypted one.  have: the bytes there so far; want: the frame's payload
 * length.  0 no, 1 yes, -1 cannot tell yet (not enough bytes). */
int dec_packet_plausible(struct dec *d, enum mtp_tcp_dir dir, const uint8_t *p, size_t have, size_t want,
                         int64_t ts);
void dec_sessions_free(struct dec *d);

/* dec_check.c */
void dec_check_msg(struct dec *d, struct dec_msg *m);
/* The obfuscated init (NULL for plain transports) once the transport is known. */
void dec_check_transport(struct dec *d, struct dec_conn *c, const uint8_t *init, int64_t ts);
void dec_check_finding(struct dec *d, struct dec_conn *c, const struct dec_msg *m, enum mtp_tcp_dir dir,
                       const char *req, const char *fmt, ...) MTP_PRINTF(6, 7);
void dec_check_count(struct dec *d, const char *req);
const char *dec_check_level(const struct dec *d, const char *req);

/* dec_out.c */
void dec_out_msg(struct dec *d, const struct dec_msg *m);
void dec_out_event(struct dec *d, struct dec_conn *c, const char *ev, int64_t ts, json_t *fields);
void dec_out_finding(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, int64_t ts, const struct dec_msg *m,
                     const char *req, const char *text);
void dec_out_summary(struct dec *d, const struct dec_conn *c);
void dec_out_totals(struct dec *d);
void dec_out_flush(struct dec *d);
double dec_rel_ms(const struct dec *d, int64_t ts);

#endif
