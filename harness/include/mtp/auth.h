/* The auth-key exchange (core.telegram.org/mtproto/auth_key): what the client
 * and server machines share - the result, the scenario corruption points,
 * and the unencrypted message envelope.
 *
 * The machines themselves are in mtp/auth_client.h and mtp/auth_server.h.
 * They are sans-IO: they take and produce the *bodies* of unencrypted
 * messages (one TL object each); mtp_auth_plain_wrap / _unwrap add and remove
 * the envelope  auth_key_id = 0 (8) | msg_id (8) | message_data_length (4) | body,
 * and the transport framing belongs to the caller. */
#ifndef MTP_AUTH_H
#define MTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/auth_tl.h"
#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/msgid.h"

#define MTP_AUTH_KEY_BYTES 256
#define MTP_AUTH_KEY_ID_BYTES 8
/* The largest body either machine writes (server_DH_params_ok with a
 * 2048-bit prime is 636 bytes) and the largest it accepts. */
#define MTP_AUTH_BODY_MAX 2048

/* Which RSA encryption carries p_q_inner_data in req_DH_params. */
enum mtp_auth_rsa_scheme {
    MTP_AUTH_RSA_PAD, /* RSA_PAD, the current scheme */
    MTP_AUTH_RSA_OLD, /* SHA1(data) + data + padding, raw RSA (the older samples-auth_key example) */
};
const char *mtp_auth_rsa_scheme_name(enum mtp_auth_rsa_scheme s);

/* What an exchange produced, on both sides. */
struct mtp_auth_result {
    uint8_t auth_key[MTP_AUTH_KEY_BYTES];
    uint8_t auth_key_id[MTP_AUTH_KEY_ID_BYTES]; /* wire order */
    uint8_t server_salt[8];                     /* the first salt, wire order */
    int32_t server_time;                        /* from server_DH_inner_data */
    /* Client: server_time * 1000 minus the local clock when server_DH_params_ok
     * arrived, to be added to the local clock for msg_ids.  Server: 0. */
    int64_t time_offset_ms;
    uint8_t fingerprint[MTP_AUTH_LONG_LEN]; /* RSA key used */
    bool req_pq_multi;                      /* false: the client used the old req_pq */
    enum mtp_auth_inner_form inner_form;
    enum mtp_auth_rsa_scheme rsa_scheme;
    int32_t dc;         /* from p_q_inner_data (0 for the forms without it) */
    bool temp;          /* a temporary key ... */
    int32_t expires_in; /* ... for this many seconds */
    unsigned retries;   /* dh_gen_retry rounds before dh_gen_ok */
};

/* Scenario hooks: one field of one message that a machine corrupts on
 * purpose, so that conformance tests can check the peer's reaction.  A
 * behaviour holds a set of them (bit 1 << point).  Nonces, hashes and
 * fingerprints get their first byte XORed with 1; numbers (pq, p, q) their last
 * byte; encrypted blobs a bit of their last byte (so with IGE only the last
 * block decrypts to garbage and the hash check is what fails). */
enum mtp_auth_corrupt {
    /* made by the server */
    MTP_AUTH_X_RES_PQ_NONCE,              /* "resPQ.nonce" */
    MTP_AUTH_X_DH_PARAMS_NONCE,           /* "server_DH_params.nonce" (ok or fail) */
    MTP_AUTH_X_DH_PARAMS_SERVER_NONCE,    /* "server_DH_params.server_nonce" */
    MTP_AUTH_X_DH_PARAMS_FAIL_HASH,       /* "server_DH_params_fail.new_nonce_hash" */
    MTP_AUTH_X_ENCRYPTED_ANSWER,          /* "server_DH_params_ok.encrypted_answer" */
    MTP_AUTH_X_ANSWER_HASH,               /* "answer_with_hash.hash": the SHA1 in front of the answer */
    MTP_AUTH_X_ANSWER_PADDING,            /* "answer_with_hash.padding": 16 bytes more than allowed */
    MTP_AUTH_X_SERVER_INNER_NONCE,        /* "server_DH_inner_data.nonce" */
    MTP_AUTH_X_SERVER_INNER_SERVER_NONCE, /* "server_DH_inner_data.server_nonce" */
    MTP_AUTH_X_DH_GEN_NONCE,              /* "dh_gen.nonce" (whichever dh_gen_* is sent) */
    MTP_AUTH_X_DH_GEN_SERVER_NONCE,       /* "dh_gen.server_nonce" */
    MTP_AUTH_X_DH_GEN_HASH,               /* "dh_gen.new_nonce_hash" (hash1, 2 or 3) */
    /* made by the client */
    MTP_AUTH_X_REQ_DH_NONCE,              /* "req_DH_params.nonce" */
    MTP_AUTH_X_REQ_DH_SERVER_NONCE,       /* "req_DH_params.server_nonce" */
    MTP_AUTH_X_REQ_DH_P,                  /* "req_DH_params.p" */
    MTP_AUTH_X_REQ_DH_Q,                  /* "req_DH_params.q" */
    MTP_AUTH_X_REQ_DH_FINGERPRINT,        /* "req_DH_params.public_key_fingerprint" */
    MTP_AUTH_X_REQ_DH_ENCRYPTED_DATA,     /* "req_DH_params.encrypted_data" */
    MTP_AUTH_X_PQ_INNER_NONCE,            /* "p_q_inner_data.nonce" */
    MTP_AUTH_X_PQ_INNER_SERVER_NONCE,     /* "p_q_inner_data.server_nonce" */
    MTP_AUTH_X_PQ_INNER_PQ,               /* "p_q_inner_data.pq" */
    MTP_AUTH_X_SET_DH_NONCE,              /* "set_client_DH_params.nonce" */
    MTP_AUTH_X_SET_DH_SERVER_NONCE,       /* "set_client_DH_params.server_nonce" */
    MTP_AUTH_X_SET_DH_ENCRYPTED_DATA,     /* "set_client_DH_params.encrypted_data" */
    MTP_AUTH_X_CLIENT_INNER_HASH,         /* "data_with_hash.hash": the SHA1 in front of client_DH_inner_data */
    MTP_AUTH_X_CLIENT_INNER_NONCE,        /* "client_DH_inner_data.nonce" */
    MTP_AUTH_X_CLIENT_INNER_SERVER_NONCE, /* "client_DH_inner_data.server_nonce" */
    MTP_AUTH_X_CLIENT_INNER_RETRY_ID,     /* "client_DH_inner_data.retry_id" */
    MTP_AUTH_X_COUNT
};
#define MTP_AUTH_CORRUPT(point) (UINT64_C(1) << (point))
/* "resPQ.nonce", ...; NULL for an unknown point. */
const char *mtp_auth_corrupt_name(enum mtp_auth_corrupt point);
/* The point with that name, or -1. */
int mtp_auth_corrupt_from_name(const char *name);
/* True for the points the server machine applies, false for the client's. */
bool mtp_auth_corrupt_is_server(enum mtp_auth_corrupt point);

/* --- the unencrypted message envelope (core.telegram.org/mtproto/description#unencrypted-message) --- */
#define MTP_AUTH_PLAIN_HEADER_LEN 20

struct mtp_auth_plain {
    int64_t msg_id;
    const uint8_t *body; /* borrowed from the input */
    size_t body_len;
};

MTP_MUST_USE int mtp_auth_plain_wrap(struct mtp_wr *out, int64_t msg_id, const uint8_t *body, size_t len);
/* MTP_ERR_SHORT (header incomplete), MTP_ERR_AUTH_NOT_PLAIN (auth_key_id != 0),
 * MTP_ERR_AUTH_PLAIN_LENGTH (message_data_length is not the number of bytes
 * that follow: the transport delivers exactly one message). */
MTP_MUST_USE int mtp_auth_plain_unwrap(const uint8_t *msg, size_t len, struct mtp_auth_plain *out,
                                       struct mtp_error *err);
/* Parity of msg_id: client msg_ids are divisible by 4, server ones are odd
 * (1 mod 4 for answers, 3 otherwise); 0 is never valid.  MTP_ERR_AUTH_MSG_ID. */
MTP_MUST_USE int mtp_auth_msg_id_check(int64_t msg_id, bool from_server, struct mtp_error *err);

/* Wraps body with the next msg_id of gen (mtp/msgid.h) at the env clock plus
 * gen's offset: a client id (0 mod 4) or a server answer (1 mod 4).  After
 * the exchange, mtp_msgid_sync_seconds(gen, now, result.server_time) gives a
 * client the server's clock. */
MTP_MUST_USE int mtp_auth_plain_wrap_next(struct mtp_wr *out, struct mtp_msgid_gen *gen, const struct mtp_env *env,
                                          bool server, const uint8_t *body, size_t len);

#endif
