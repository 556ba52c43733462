/* The seeded faults' table and the two that need code of their own (mtps_fault.h). */
#include "mtps_fault.h"

#include <string.h>

#include "mtp/aes_ige.h"
#include "mtp/auth_server.h"
#include "mtp/buf.h"
#include "mtp/msgcrypt.h"
#include "mtp/msgcrypt_v1.h"
#include "mtp/service.h"
#include "mtp/session.h"

static const struct mtps_fault_info table[MTPS_FAULT_COUNT] = {
    [MTPS_FAULT_ACCEPT_WRONG_NONCE] = {"accept-wrong-nonce", "S-HS-1",
                                       "req_DH_params and set_client_DH_params are not checked for the run's nonce and "
                                       "server_nonce"},
    [MTPS_FAULT_SKIP_PQ_CHECK] = {"skip-pq-check", "S-HS-2", "p and q are not compared with the factors of pq"},
    [MTPS_FAULT_ACCEPT_UNKNOWN_FINGERPRINT] = {"accept-unknown-fingerprint", "S-HS-3",
                                               "a fingerprint the server did not offer is taken for its key"},
    [MTPS_FAULT_SKIP_RSA_PAD_HASH] = {"skip-rsa-pad-hash", "S-HS-4",
                                      "the SHA256 inside the RSA_PAD payload is not checked"},
    [MTPS_FAULT_SKIP_PQ_INNER_CHECK] = {"skip-pq-inner-check", "S-HS-5",
                                        "p_q_inner_data is not compared with the request it travels in"},
    [MTPS_FAULT_RESTART_ON_REPEAT] = {"restart-on-repeat", "S-HS-6",
                                      "a second req_DH_params with another new_nonce starts the run over"},
    [MTPS_FAULT_SKIP_CLIENT_INNER_HASH] = {"skip-client-inner-hash", "S-HS-7",
                                           "client_DH_inner_data's SHA1, padding and length are not checked"},
    [MTPS_FAULT_SKIP_G_B_RANGE] = {"skip-g-b-range", "S-HS-8", "g_b is not checked to lie in 2..dh_prime-2"},
    [MTPS_FAULT_SKIP_G_B_MARGIN] = {"skip-g-b-margin", "S-HS-9",
                                    "g_b is not checked to keep 2^1984 away from 0 and dh_prime"},
    [MTPS_FAULT_IGNORE_BAD_HANDSHAKE] = {"ignore-bad-handshake", "S-HS-11",
                                         "a refused key-exchange message gets no -404 and no close, just silence"},
    [MTPS_FAULT_EXECUTE_PLAIN] = {"execute-plain", "S-HS-12",
                                  "an unencrypted ping is answered with an unencrypted pong"},
    [MTPS_FAULT_UNKNOWN_KEY_SILENT] = {"unknown-key-silent", "S-ENC-14",
                                       "a packet for an unknown auth_key_id is ignored without -404"},
    [MTPS_FAULT_SKIP_MSG_KEY_CHECK] = {"skip-msg-key-check", "S-ENC-15",
                                       "msg_key is not compared with SHA256 of the plaintext"},
    [MTPS_FAULT_ACCEPT_SERVER_DIRECTION] = {"accept-server-direction", "S-ENC-16",
                                            "a packet made with x = 8 (the server's direction) is decrypted too"},
    [MTPS_FAULT_SKIP_LENGTH_CHECK] = {"skip-length-check", "S-ENC-17",
                                      "message_data_length is not checked against the plaintext"},
    [MTPS_FAULT_SKIP_PADDING_CHECK] = {"skip-padding-check", "S-ENC-17", "padding outside 12..1024 is accepted"},
    [MTPS_FAULT_ACCEPT_MTPROTO1] = {"accept-mtproto1", "S-ENC-18",
                                    "an MTProto 1.0 packet on a 2.0 connection is decrypted and executed"},
    [MTPS_FAULT_EARLY_LENGTH_CHECK] = {"early-length-check", "S-ENC-19",
                                       "message_data_length is looked at before msg_key, and a bad one is refused "
                                       "without the rest of the work (a timing side channel)"},
    [MTPS_FAULT_EVEN_MSG_IDS] = {"even-msg-ids", "S-SES-20", "the server's msg_ids are divisible by 4"},
    [MTPS_FAULT_SKIP_MSG_ID_PAST] = {"skip-msg-id-past", "S-SES-21",
                                     "a msg_id more than 300 s in the past is executed"},
    [MTPS_FAULT_SKIP_MSG_ID_FUTURE] = {"skip-msg-id-future", "S-SES-22",
                                       "a msg_id more than 30 s in the future is executed"},
    [MTPS_FAULT_SKIP_MSG_ID_LOW_BITS] = {"skip-msg-id-low-bits", "S-SES-23",
                                         "a client msg_id not divisible by 4 is executed"},
    [MTPS_FAULT_ACCEPT_CONTAINER_ID_REUSE] = {"accept-container-id-reuse", "S-SES-24",
                                              "a container with an already received msg_id is opened"},
    [MTPS_FAULT_SKIP_MSG_ID_WINDOW] = {"skip-msg-id-window", "S-SES-25",
                                       "a msg_id below every stored one is executed"},
    [MTPS_FAULT_SEQNO_LOW_AS_HIGH] = {"seqno-low-as-high", "S-SES-26",
                                      "a seqno too low gets code 33 (too high)"},
    [MTPS_FAULT_SEQNO_HIGH_AS_LOW] = {"seqno-high-as-low", "S-SES-27",
                                      "a seqno too high gets code 32 (too low)"},
    [MTPS_FAULT_SKIP_SERVICE_SEQNO_PARITY] = {"skip-service-seqno-parity", "S-SES-28",
                                              "a container with an odd seqno is taken"},
    [MTPS_FAULT_SKIP_CONTENT_SEQNO_PARITY] = {"skip-content-seqno-parity", "S-SES-29",
                                              "an API call with an even seqno is executed"},
    [MTPS_FAULT_ACCEPT_WRONG_SALT] = {"accept-wrong-salt", "S-SES-30", "any server_salt is accepted"},
    [MTPS_FAULT_ACCEPT_INVALID_CONTAINER] = {"accept-invalid-container", "S-SES-31",
                                             "a container breaking the container rules is opened anyway"},
    [MTPS_FAULT_NO_SALT_GRACE] = {"no-salt-grace", "S-SES-32",
                                  "the previous salt is refused as soon as it stops being current"},
    [MTPS_FAULT_EXECUTE_DUPLICATE] = {"execute-duplicate", "S-SES-33", "a repeated msg_id is executed again"},
    [MTPS_FAULT_NO_ACKS] = {"no-acks", "S-SES-34", "content-related messages are never acknowledged by msgs_ack"},
    [MTPS_FAULT_STATE_INFO_SHORT] = {"state-info-short", "S-SES-35",
                                     "msgs_state_info has one status byte fewer than msg_ids asked for"},
    [MTPS_FAULT_NO_RESEND] = {"no-resend", "S-SES-36", "msg_resend_req is ignored"},
    [MTPS_FAULT_EXTRA_FUTURE_SALT] = {"extra-future-salt", "S-SES-37", "get_future_salts returns num + 1 salts"},
    [MTPS_FAULT_DESTROY_SESSION_NONE] = {"destroy-session-none", "S-SES-38",
                                         "destroy_session answers destroy_session_none even for a session it has"},
    [MTPS_FAULT_NO_DISCONNECT_TIMER] = {"no-disconnect-timer", "S-SES-39",
                                        "ping_delay_disconnect never closes the connection"},
    [MTPS_FAULT_ACK_SERVICE_MESSAGES] = {"ack-service-messages", "S-SES-40",
                                         "msgs_ack (and every message with an even seqno) is acknowledged"},
    [MTPS_FAULT_NO_NEW_SESSION] = {"no-new-session", "S-SES-41", "a new session is not announced"},
    [MTPS_FAULT_ECHO_TRANSPORT_TAG] = {"echo-transport-tag", "S-TR-42",
                                       "the first reply starts with the client's transport tag"},
    [MTPS_FAULT_SKIP_TRANSPORT_CRC] = {"skip-transport-crc", "S-TR-43",
                                       "full frames with a wrong CRC32 or seqno are taken"},
    [MTPS_FAULT_NO_FRAME_LIMIT] = {"no-frame-limit", "S-TR-44",
                                   "a frame length of 2 GB is waited for instead of closing"},
    [MTPS_FAULT_WRONG_QUICK_ACK] = {"wrong-quick-ack", "S-TR-45",
                                    "quick-ack tokens are computed with the server's direction (x = 8)"},
    [MTPS_FAULT_SECRET_OPTIONAL] = {"secret-optional", "S-TR-47",
                                    "with --secret, an init that does not decode under the secret is taken without "
                                    "it"},
    [MTPS_FAULT_NO_FLOOD_LIMIT] = {"no-flood-limit", "S-TR-48",
                                   "containers of any number of messages are executed, never -429"},
};

const struct mtps_fault_info *mtps_fault_info(enum mtps_fault f)
{
    return (unsigned)f < MTPS_FAULT_COUNT ? &table[f] : NULL;
}

int mtps_fault_from_name(const char *name, enum mtps_fault *f)
{
    for (int i = 0; name && i < MTPS_FAULT_COUNT; i++)
        if (strcmp(table[i].name, name) == 0) {
            *f = (enum mtps_fault)i;
            return MTP_OK;
        }
    return MTP_ERR_ARG;
}

static const struct {
    enum mtps_fault f;
    unsigned bit;
} session_map[] = {
    {MTPS_FAULT_EVEN_MSG_IDS, MTP_SESSION_SF_EVEN_MSG_IDS},
    {MTPS_FAULT_SKIP_MSG_ID_PAST, MTP_SESSION_SF_SKIP_PAST},
    {MTPS_FAULT_SKIP_MSG_ID_FUTURE, MTP_SESSION_SF_SKIP_FUTURE},
    {MTPS_FAULT_SKIP_MSG_ID_LOW_BITS, MTP_SESSION_SF_SKIP_LOW_BITS},
    {MTPS_FAULT_ACCEPT_CONTAINER_ID_REUSE, MTP_SESSION_SF_CONTAINER_ID_REUSE},
    {MTPS_FAULT_SKIP_MSG_ID_WINDOW, MTP_SESSION_SF_SKIP_WINDOW},
    {MTPS_FAULT_SEQNO_LOW_AS_HIGH, MTP_SESSION_SF_SEQNO_LOW_AS_HIGH},
    {MTPS_FAULT_SEQNO_HIGH_AS_LOW, MTP_SESSION_SF_SEQNO_HIGH_AS_LOW},
    {MTPS_FAULT_SKIP_SERVICE_SEQNO_PARITY, MTP_SESSION_SF_SKIP_SERVICE_PARITY},
    {MTPS_FAULT_SKIP_CONTENT_SEQNO_PARITY, MTP_SESSION_SF_SKIP_CONTENT_PARITY},
    {MTPS_FAULT_ACCEPT_WRONG_SALT, MTP_SESSION_SF_ACCEPT_BAD_SALT},
    {MTPS_FAULT_ACCEPT_INVALID_CONTAINER, MTP_SESSION_SF_ACCEPT_BAD_CONTAINER},
    {MTPS_FAULT_NO_SALT_GRACE, MTP_SESSION_SF_NO_SALT_GRACE},
    {MTPS_FAULT_EXECUTE_DUPLICATE, MTP_SESSION_SF_EXECUTE_DUPLICATE},
    {MTPS_FAULT_NO_ACKS, MTP_SESSION_SF_NO_ACKS},
    {MTPS_FAULT_STATE_INFO_SHORT, MTP_SESSION_SF_STATE_INFO_SHORT},
    {MTPS_FAULT_NO_RESEND, MTP_SESSION_SF_NO_RESEND},
    {MTPS_FAULT_EXTRA_FUTURE_SALT, MTP_SESSION_SF_EXTRA_FUTURE_SALT},
    {MTPS_FAULT_NO_DISCONNECT_TIMER, MTP_SESSION_SF_NO_DISCONNECT},
    {MTPS_FAULT_ACK_SERVICE_MESSAGES, MTP_SESSION_SF_ACK_SERVICE},
    {MTPS_FAULT_NO_NEW_SESSION, MTP_SESSION_SF_NO_NEW_SESSION},
    {MTPS_FAULT_SKIP_LENGTH_CHECK, MTP_SESSION_SF_SKIP_LENGTH},
};

static const struct {
    enum mtps_fault f;
    unsigned bit;
} auth_map[] = {
    {MTPS_FAULT_ACCEPT_WRONG_NONCE, MTP_AUTH_SF_ACCEPT_WRONG_NONCE},
    {MTPS_FAULT_SKIP_PQ_CHECK, MTP_AUTH_SF_SKIP_PQ},
    {MTPS_FAULT_ACCEPT_UNKNOWN_FINGERPRINT, MTP_AUTH_SF_ACCEPT_UNKNOWN_KEY},
    {MTPS_FAULT_SKIP_RSA_PAD_HASH, MTP_AUTH_SF_SKIP_RSA_HASH},
    {MTPS_FAULT_SKIP_PQ_INNER_CHECK, MTP_AUTH_SF_SKIP_PQ_INNER},
    {MTPS_FAULT_RESTART_ON_REPEAT, MTP_AUTH_SF_RESTART_ON_REPEAT},
    {MTPS_FAULT_SKIP_CLIENT_INNER_HASH, MTP_AUTH_SF_SKIP_CLIENT_INNER_HASH},
    {MTPS_FAULT_SKIP_G_B_RANGE, MTP_AUTH_SF_SKIP_GB_RANGE},
    {MTPS_FAULT_SKIP_G_B_MARGIN, MTP_AUTH_SF_SKIP_GB_MARGIN},
};

uint32_t mtps_fault_session_bits(uint64_t faults)
{
    uint32_t bits = 0;
    for (size_t i = 0; i < sizeof session_map / sizeof session_map[0]; i++)
        if (mtps_fault_set(faults, session_map[i].f))
            bits |= MTP_SESSION_SF(session_map[i].bit);
    return bits;
}

uint32_t mtps_fault_auth_bits(uint64_t faults)
{
    uint32_t bits = 0;
    for (size_t i = 0; i < sizeof auth_map / sizeof auth_map[0]; i++)
        if (mtps_fault_set(faults, auth_map[i].f))
            bits |= MTP_AUTH_SF(auth_map[i].bit);
    return bits;
}

bool mtps_fault_early_length_reject(const uint8_t auth_key[256], const uint8_t *packet, size_t len)
{
    if (len < MTP_MSG_OUTER_HEADER_LEN + 32)
        return false;
    uint8_t key[32], iv[32], head[32];
    bool reject = false;
    struct mtp_error err;
    mtp_error_clear(&err);
    /* Only the first two blocks: IGE decrypts them without the rest. */
    if (mtp_msg_kdf(auth_key, MTP_SENDER_CLIENT, packet + 8, key, iv) == MTP_OK &&
        mtp_aes_ige_decrypt(key, 32, iv, packet + MTP_MSG_OUTER_HEADER_LEN, head, sizeof head, &err) == MTP_OK) {
        uint32_t n = mtp_load_u32(head + 28);
        reject = n > len - MTP_MSG_OUTER_HEADER_LEN - 32;
    }
    mtp_wipe(key, sizeof key);
    mtp_wipe(iv, sizeof iv);
    mtp_wipe(head, sizeof head);
    return reject;
}

int mtps_fault_decrypt(uint64_t faults, struct mtp_msgcrypt *mc, const uint8_t auth_key[256], const uint8_t *packet,
                       size_t len, struct mtp_wr *plain, struct mtp_error *err)
{
    unsigned skip = (mtps_fault_set(faults, MTPS_FAULT_SKIP_MSG_KEY_CHECK) ? MTP_MSGCRYPT_SKIP_MSG_KEY : 0) |
                    (mtps_fault_set(faults, MTPS_FAULT_SKIP_LENGTH_CHECK) ? MTP_MSGCRYPT_SKIP_LENGTH : 0) |
                    (mtps_fault_set(faults, MTPS_FAULT_SKIP_PADDING_CHECK) ? MTP_MSGCRYPT_SKIP_PADDING : 0);
    size_t start = plain->len;
    int rc = mtp_msgcrypt_decrypt_skip(mc, MTP_SENDER_CLIENT, skip, packet, len, plain, err);
    if (rc == MTP_ERR_MSG_KEY_MISMATCH && mtps_fault_set(faults, MTPS_FAULT_ACCEPT_SERVER_DIRECTION)) {
        plain->len = start;
        rc = mtp_msgcrypt_decrypt_skip(mc, MTP_SENDER_SERVER, skip, packet, len, plain, err);
    }
    if (rc == MTP_ERR_MSG_KEY_MISMATCH && mtps_fault_set(faults, MTPS_FAULT_ACCEPT_MTPROTO1)) {
        plain->len = start;
        rc = mtp_msg_v1_decrypt(auth_key, MTP_SENDER_CLIENT, packet, len, plain, err);
    }
    return rc;
}

bool mtps_fault_plain_pong(const uint8_t *body, size_t len, struct mtp_wr *out)
{
    if (len != 12 || mtp_load_u32(body) != MTP_SVC_ping)
        return false;
    /* pong's msg_id is the ping's; an unencrypted ping has none of its own here: 0. */
    return mtp_svc_write_pong(out, 0, mtp_load_u64(body + 4)) == MTP_OK;
}
