/* The TL objects of the auth-key exchange (core.telegram.org/mtproto/auth_key,
 * constructor ids from core.telegram.org/schema/mtproto).
 *
 * Readers take the boxed object (constructor id first) and borrow byte
 * strings from the input: the struct is valid while the input is.  Writers
 * take the same structs.  Big numbers (pq, p, q, dh_prime, g_a, g_b) are TL
 * bytes holding big-endian numbers; nonces, hashes and fingerprints are kept
 * as the bytes on the wire. */
#ifndef MTP_AUTH_TL_H
#define MTP_AUTH_TL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"

#define MTP_AUTH_ID_REQ_PQ_MULTI 0xbe7e8ef1u
#define MTP_AUTH_ID_REQ_PQ 0x60469778u
#define MTP_AUTH_ID_RES_PQ 0x05162463u
#define MTP_AUTH_ID_P_Q_INNER_DATA 0x83c95aecu
#define MTP_AUTH_ID_P_Q_INNER_DATA_DC 0xa9f55f95u
#define MTP_AUTH_ID_P_Q_INNER_DATA_TEMP 0x3c6a84d4u
#define MTP_AUTH_ID_P_Q_INNER_DATA_TEMP_DC 0x56fddf88u
#define MTP_AUTH_ID_REQ_DH_PARAMS 0xd712e4beu
#define MTP_AUTH_ID_SERVER_DH_PARAMS_FAIL 0x79cb045du
#define MTP_AUTH_ID_SERVER_DH_PARAMS_OK 0xd0e8075cu
#define MTP_AUTH_ID_SERVER_DH_INNER_DATA 0xb5890dbau
#define MTP_AUTH_ID_SET_CLIENT_DH_PARAMS 0xf5045f1fu
#define MTP_AUTH_ID_CLIENT_DH_INNER_DATA 0x6643b654u
#define MTP_AUTH_ID_DH_GEN_OK 0x3bcbf734u
#define MTP_AUTH_ID_DH_GEN_RETRY 0x46dc1fb9u
#define MTP_AUTH_ID_DH_GEN_FAIL 0xa69dae02u

#define MTP_AUTH_NONCE_LEN 16
#define MTP_AUTH_NEW_NONCE_LEN 32
#define MTP_AUTH_HASH_LEN 16 /* new_nonce_hash* */
#define MTP_AUTH_LONG_LEN 8  /* fingerprints, retry_id: the wire bytes of a TL long */
/* A resPQ with more fingerprints than this is rejected (MTP_ERR_LIMIT); real
 * servers list a handful. */
#define MTP_AUTH_MAX_FINGERPRINTS 32

/* A borrowed byte string. */
struct mtp_auth_bytes {
    const uint8_t *p;
    size_t len;
};

/* The constructor name for reports ("resPQ", "dh_gen_ok", ...), or NULL. */
const char *mtp_auth_tl_name(uint32_t id);

/* req_pq_multi#be7e8ef1 / req_pq#60469778 nonce:int128 */
struct mtp_auth_req_pq {
    bool multi;
    uint8_t nonce[MTP_AUTH_NONCE_LEN];
};

/* resPQ#05162463 nonce:int128 server_nonce:int128 pq:string
 *   server_public_key_fingerprints:Vector<long> */
struct mtp_auth_res_pq {
    uint8_t nonce[MTP_AUTH_NONCE_LEN];
    uint8_t server_nonce[MTP_AUTH_NONCE_LEN];
    struct mtp_auth_bytes pq;
    uint32_t n_fingerprints;
    uint8_t fingerprints[MTP_AUTH_MAX_FINGERPRINTS][MTP_AUTH_LONG_LEN];
};

/* The four forms of the data RSA-encrypted in req_DH_params. */
enum mtp_auth_inner_form {
    MTP_AUTH_INNER_DC,      /* p_q_inner_data_dc#a9f55f95 ... dc:int */
    MTP_AUTH_INNER_TEMP_DC, /* p_q_inner_data_temp_dc#56fddf88 ... dc:int expires_in:int */
    MTP_AUTH_INNER_PLAIN,   /* p_q_inner_data#83c95aec (deprecated, no dc) */
    MTP_AUTH_INNER_TEMP,    /* p_q_inner_data_temp#3c6a84d4 ... expires_in:int (deprecated) */
};
const char *mtp_auth_inner_form_name(enum mtp_auth_inner_form f);
bool mtp_auth_inner_form_has_dc(enum mtp_auth_inner_form f);
bool mtp_auth_inner_form_is_temp(enum mtp_auth_inner_form f);

/* pq:string p:string q:string nonce:int128 server_nonce:int128 new_nonce:int256 [dc:int] [expires_in:int] */
struct mtp_auth_pq_inner {
    enum mtp_auth_inner_form form;
    struct mtp_auth_bytes pq, p, q;
    uint8_t nonce[MTP_AUTH_NONCE_LEN];
    uint8_t server_nonce[MTP_AUTH_NONCE_LEN];
    uint8_t new_nonce[MTP_AUTH_NEW_NONCE_LEN];
    int32_t dc;         /* 0 for the forms without it */
    int32_t expires_in; /* 0 for the permanent forms */
};

/* req_DH_params#d712e4be nonce:int128 server_nonce:int128 p:string q:string
 *   public_key_fingerprint:long encrypted_data:string */
struct mtp_auth_req_dh_params {
    uint8_t nonce[MTP_AUTH_NONCE_LEN];
    uint8_t server_nonce[MTP_AUTH_NONCE_LEN];
    struct mtp_auth_bytes p, q;
    uint8_t fingerprint[MTP_AUTH_LONG_LEN];
    struct mtp_auth_bytes encrypted_data;
};

/* server_DH_params_ok#d0e8075c nonce server_nonce encrypted_answer:string
 * server_DH_params_fail#79cb045d nonce server_nonce new_nonce_hash:int128 */
struct mtp_auth_server_dh_params {
    bool ok;
    uint8_t nonce[MTP_AUTH_NONCE_LEN];
    uint8_t server_nonce[MTP_AUTH_NONCE_LEN];
    struct mtp_auth_bytes encrypted_answer;    /* ok */
    uint8_t new_nonce_hash[MTP_AUTH_HASH_LEN]; /* fail */
};

/* server_DH_inner_data#b5890dba nonce server_nonce g:int dh_prime:string g_a:string server_time:int */
struct mtp_auth_server_inner {
    uint8_t nonce[MTP_AUTH_NONCE_LEN];
    uint8_t server_nonce[MTP_AUTH_NONCE_LEN];
    int32_t g;
    struct mtp_auth_bytes dh_prime, g_a;
    int32_t server_time;
};

/* set_client_DH_params#f5045f1f nonce server_nonce encrypted_data:string */
struct mtp_auth_set_client_dh {
    uint8_t nonce[MTP_AUTH_NONCE_LEN];
    uint8_t server_nonce[MTP_AUTH_NONCE_LEN];
    struct mtp_auth_bytes encrypted_data;
};

/* client_DH_inner_data#6643b654 nonce server_nonce retry_id:long g_b:string */
struct mtp_auth_client_inner {
    uint8_t nonce[MTP_AUTH_NONCE_LEN];
    uint8_t server_nonce[MTP_AUTH_NONCE_LEN];
    uint8_t retry_id[MTP_AUTH_LONG_LEN];
    struct mtp_auth_bytes g_b;
};

/* dh_gen_ok#3bcbf734 / dh_gen_retry#46dc1fb9 / dh_gen_fail#a69dae02
 *   nonce server_nonce new_nonce_hash{1,2,3}:int128 */
struct mtp_auth_dh_gen {
    int number; /* 1 ok, 2 retry, 3 fail: also the byte mixed into its new_nonce_hash */
    uint8_t nonce[MTP_AUTH_NONCE_LEN];
    uint8_t server_nonce[MTP_AUTH_NONCE_LEN];
    uint8_t new_nonce_hash[MTP_AUTH_HASH_LEN];
};
uint32_t mtp_auth_dh_gen_id(int number);

/* Readers: the constructor first; MTP_ERR_TL_BAD_CTOR for any other (naming
 * what was found), TL errors naming "<object>.<field>" otherwise.  They read
 * exactly one object and leave the reader after it. */
MTP_MUST_USE int mtp_auth_tl_read_req_pq(struct mtp_rd *r, struct mtp_auth_req_pq *out);
MTP_MUST_USE int mtp_auth_tl_read_res_pq(struct mtp_rd *r, struct mtp_auth_res_pq *out);
MTP_MUST_USE int mtp_auth_tl_read_pq_inner(struct mtp_rd *r, struct mtp_auth_pq_inner *out);
MTP_MUST_USE int mtp_auth_tl_read_req_dh_params(struct mtp_rd *r, struct mtp_auth_req_dh_params *out);
MTP_MUST_USE int mtp_auth_tl_read_server_dh_params(struct mtp_rd *r, struct mtp_auth_server_dh_params *out);
MTP_MUST_USE int mtp_auth_tl_read_server_inner(struct mtp_rd *r, struct mtp_auth_server_inner *out);
MTP_MUST_USE int mtp_auth_tl_read_set_client_dh(struct mtp_rd *r, struct mtp_auth_set_client_dh *out);
MTP_MUST_USE int mtp_auth_tl_read_client_inner(struct mtp_rd *r, struct mtp_auth_client_inner *out);
MTP_MUST_USE int mtp_auth_tl_read_dh_gen(struct mtp_rd *r, struct mtp_auth_dh_gen *out);

MTP_MUST_USE int mtp_auth_tl_write_req_pq(struct mtp_wr *w, const struct mtp_auth_req_pq *in);
/* MTP_ERR_ARG if n_fingerprints > MTP_AUTH_MAX_FINGERPRINTS. */
MTP_MUST_USE int mtp_auth_tl_write_res_pq(struct mtp_wr *w, const struct mtp_auth_res_pq *in);
MTP_MUST_USE int mtp_auth_tl_write_pq_inner(struct mtp_wr *w, const struct mtp_auth_pq_inner *in);
MTP_MUST_USE int mtp_auth_tl_write_req_dh_params(struct mtp_wr *w, const struct mtp_auth_req_dh_params *in);
MTP_MUST_USE int mtp_auth_tl_write_server_dh_params(struct mtp_wr *w, const struct mtp_auth_server_dh_params *in);
MTP_MUST_USE int mtp_auth_tl_write_server_inner(struct mtp_wr *w, const struct mtp_auth_server_inner *in);
MTP_MUST_USE int mtp_auth_tl_write_set_client_dh(struct mtp_wr *w, const struct mtp_auth_set_client_dh *in);
MTP_MUST_USE int mtp_auth_tl_write_client_inner(struct mtp_wr *w, const struct mtp_auth_client_inner *in);
/* MTP_ERR_ARG unless number is 1..3. */
MTP_MUST_USE int mtp_auth_tl_write_dh_gen(struct mtp_wr *w, const struct mtp_auth_dh_gen *in);

#endif
