/* The table of seeded faults: name, the requirement each breaks, and what the
 * client then does.  See mtpc_fault.h. */
#include "client/mtpc_fault.h"

#include <string.h>

static const struct mtpc_fault_info FAULTS[MTPC_FAULT_COUNT] = {
    [MTPC_FAULT_SKIP_DH_PRIME_CHECK] = {"skip-dh-prime-check", "C-DH-1",
                                        "dh_prime is used without checking that it is a safe 2048-bit prime"},
    [MTPC_FAULT_SKIP_G_CHECK] = {"skip-g-check", "C-DH-2",
                                 "g is used without checking that it is one of 2..7 with its residue condition"},
    [MTPC_FAULT_SKIP_G_A_RANGE] = {"skip-g-a-range", "C-DH-4",
                                   "g_a outside 1 < g_a < dh_prime - 1 is used"},
    [MTPC_FAULT_SKIP_G_A_MARGIN] = {"skip-g-a-margin", "C-DH-5",
                                    "g_a inside the range but within 2^(2048-64) of its ends is used"},
    [MTPC_FAULT_FIXED_B] = {"fixed-b", "C-DH-6",
                            "the secret b is 256 bytes of 0x42 in every exchange (g_b repeats)"},
    [MTPC_FAULT_ACCEPT_WRONG_NONCE] = {"accept-wrong-nonce", "C-HS-7",
                                       "nonce and server_nonce are not compared in resPQ, server_DH_params_*, "
                                       "server_DH_inner_data and dh_gen_*"},
    [MTPC_FAULT_SKIP_ANSWER_HASH] = {"skip-answer-hash", "C-HS-8",
                                     "answer_with_hash is parsed without checking its SHA1, its 0..15 bytes of "
                                     "padding or its length in whole blocks"},
    [MTPC_FAULT_SKIP_NEW_NONCE_HASH] = {"skip-new-nonce-hash", "C-HS-9",
                                        "new_nonce_hash1/2/3 of dh_gen_ok/retry/fail are not compared"},
    [MTPC_FAULT_RETRY_ID_ZERO] = {"retry-id-zero", "C-HS-9",
                                  "after dh_gen_retry the new client_DH_inner_data carries retry_id 0 instead of the "
                                  "failed key's auth_key_aux_hash"},
    [MTPC_FAULT_ACCEPT_BAD_PQ] = {"accept-bad-pq", "C-HS-10",
                                  "a pq that is not a product of two distinct primes below 2^64 is answered with "
                                  "p = 1, q = pq"},
    [MTPC_FAULT_ACCEPT_UNKNOWN_FINGERPRINT] = {"accept-unknown-fingerprint", "C-HS-11",
                                               "req_DH_params is sent with the client's key although the server "
                                               "does not list its fingerprint"},
    [MTPC_FAULT_NO_RESTART_ON_404] = {"no-restart-on-404", "C-HS-12",
                                      "transport error -404 during the key exchange ends the run instead of "
                                      "restarting the exchange"},
    [MTPC_FAULT_IGNORE_SERVER_TIME] = {"ignore-server-time", "C-HS-13",
                                       "the clock offset is not taken from server_time: msg_ids follow the local "
                                       "clock"},
    [MTPC_FAULT_SKIP_AUTH_KEY_ID_CHECK] = {"skip-auth-key-id-check", "C-ENC-14",
                                           "an encrypted message is accepted whatever auth_key_id it names"},
    [MTPC_FAULT_SKIP_MSG_KEY_CHECK] = {"skip-msg-key-check", "C-ENC-15",
                                       "messages are decrypted with the msg_key as sent, which is never compared "
                                       "with SHA256 of the plaintext"},
    [MTPC_FAULT_SKIP_LENGTH_CHECK] = {"skip-length-check", "C-ENC-17",
                                      "message_data_length beyond the plaintext, negative or not a multiple of 4 "
                                      "is accepted; the body runs as far as the bytes go (C-ENC-19 too)"},
    [MTPC_FAULT_SKIP_PADDING_CHECK] = {"skip-padding-check", "C-ENC-18",
                                       "padding outside 12..1024 bytes is accepted"},
    [MTPC_FAULT_ACCEPT_PLAIN_AFTER_KEY] = {"accept-plain-after-key", "C-ENC-21",
                                           "an unencrypted message (auth_key_id 0) after the key exchange is "
                                           "processed as a message of the session"},
    [MTPC_FAULT_SKIP_SESSION_ID_CHECK] = {"skip-session-id-check", "C-SES-22",
                                          "messages of any session_id are accepted"},
    [MTPC_FAULT_ACCEPT_EVEN_MSG_ID] = {"accept-even-msg-id", "C-SES-23",
                                       "server messages with an even msg_id are accepted"},
    [MTPC_FAULT_OWN_MSG_ID_NOT_MOD4] = {"own-msg-id-not-mod4", "C-SES-23",
                                        "the client's own encrypted msg_ids are 2 mod 4"},
    [MTPC_FAULT_ACCEPT_DUPLICATE_MSG_ID] = {"accept-duplicate-msg-id", "C-SES-24",
                                            "a msg_id already received (or below the window) is processed again"},
    [MTPC_FAULT_SKIP_TIME_WINDOW] = {"skip-time-window", "C-SES-25",
                                     "msg_ids more than 300 s old or 30 s ahead are accepted after the clock is "
                                     "synchronised"},
    [MTPC_FAULT_SKIP_CONTAINER_ORDER] = {"skip-container-order", "C-SES-26",
                                         "a container whose msg_id is not above its messages' is accepted"},
    [MTPC_FAULT_NO_ACKS] = {"no-acks", "C-SES-26", "the client never sends msgs_ack"},
    [MTPC_FAULT_RESEND_SAME_MSG_ID] = {"resend-same-msg-id", "C-SES-27",
                                       "after bad_server_salt the message is resent alone under its old msg_id"},
    [MTPC_FAULT_SKIP_TRANSPORT_CRC] = {"skip-transport-crc", "C-TR-28",
                                       "full transport: frames with a wrong CRC32 or sequence number are accepted"},
    [MTPC_FAULT_OBFS_INIT_ZERO] = {"obfs-init-zero", "C-TR-30",
                                   "the obfuscated init has bytes 4..7 zero"},
    [MTPC_FAULT_SALT_FROM_DROPPED] = {"salt-from-dropped", "C-MIS-31",
                                      "a bad_server_salt in a message dropped after decryption (wrong session_id, "
                                      "msg_id, ...) still sets the salt"},
};

const struct mtpc_fault_info *mtpc_fault_info(enum mtpc_fault f)
{
    return (unsigned)f < MTPC_FAULT_COUNT ? &FAULTS[f] : NULL;
}

int mtpc_fault_from_name(const char *name, enum mtpc_fault *f)
{
    for (unsigned i = 0; i < MTPC_FAULT_COUNT; i++)
        if (strcmp(FAULTS[i].name, name) == 0) {
            *f = (enum mtpc_fault)i;
            return MTP_OK;
        }
    return MTP_ERR_ARG;
}
