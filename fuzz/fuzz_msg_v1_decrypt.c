/* Target functions: mtp_msg_v1_decrypt (and mtp_msg_v1_encrypt as its oracle)
 * Input: byte 0 picks the mode and the sender, the rest is
 *   mode 0 (bit 0 clear): a packet as received, decrypted as from the client
 *          and as from the server with a fixed auth key (00 01 .. ff);
 *   mode 1 (bit 0 set):   a plaintext, cut to a multiple of 16, encrypted with
 *          the right key for sender (bit 1) and decrypted again, so that the
 *          checks after msg_key see fuzzer-chosen headers and paddings.
 * Oracles: a rejection appends nothing and reports a decrypt error code; an
 * acceptance returns exactly the plaintext, which re-encrypts to the same
 * packet; in mode 1 the verdict matches an independent reading of the header,
 * and the other direction's keys never open the packet. */
#include <stdint.h>
#include <string.h>

#include "mtp/msgcrypt_v1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX (1u << 20)

static void fixed_key(uint8_t key[MTP_AUTH_KEY_LEN])
{
    for (size_t i = 0; i < MTP_AUTH_KEY_LEN; i++)
        key[i] = (uint8_t)i;
}

static bool is_decrypt_error(int rc)
{
    return rc == MTP_ERR_AUTH_KEY_ID_MISMATCH || rc == MTP_ERR_BAD_CIPHERTEXT_LENGTH ||
           rc == MTP_ERR_V1_MSG_KEY_MISMATCH || rc == MTP_ERR_BAD_MESSAGE_LENGTH ||
           rc == MTP_ERR_UNALIGNED_MESSAGE_LENGTH || rc == MTP_ERR_V1_BAD_PADDING_LENGTH;
}

static int check_decrypt(const uint8_t *key, enum mtp_sender s, const uint8_t *packet, size_t len)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr plain;
    mtp_wr_init_dyn(&plain, FUZZ_MAX, &err);
    int rc = mtp_msg_v1_decrypt(key, s, packet, len, &plain, &err);
    if (rc != MTP_OK) {
        if (!is_decrypt_error(rc) || err.code != rc || plain.len != 0)
            __builtin_trap();
    } else {
        if (len < MTP_MSG_OUTER_HEADER_LEN || plain.len != len - MTP_MSG_OUTER_HEADER_LEN)
            __builtin_trap();
        struct mtp_wr again;
        mtp_wr_init_dyn(&again, FUZZ_MAX + MTP_MSG_OUTER_HEADER_LEN, NULL);
        if (mtp_msg_v1_encrypt(key, s, plain.p, plain.len, &again, NULL) != MTP_OK || again.len != len ||
            memcmp(again.p, packet, len) != 0)
            __builtin_trap();
        mtp_wr_free(&again);
    }
    mtp_wr_free(&plain);
    return rc;
}

/* What the header says, read without the library: the expected verdict. */
static int expected_verdict(const uint8_t *plain, size_t len)
{
    uint32_t mdl = mtp_load_u32(plain + 28);
    size_t room = len - MTP_MSG_INNER_HEADER_LEN;
    if (mdl > room)
        return MTP_ERR_BAD_MESSAGE_LENGTH;
    if (mdl % 4)
        return MTP_ERR_UNALIGNED_MESSAGE_LENGTH;
    if (room - mdl > 15)
        return MTP_ERR_V1_BAD_PADDING_LENGTH;
    return MTP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > FUZZ_MAX)
        return 0;
    uint8_t key[MTP_AUTH_KEY_LEN];
    fixed_key(key);
    uint8_t mode = data[0];
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    if ((mode & 1) == 0) {
        check_decrypt(key, MTP_SENDER_CLIENT, body, len);
        check_decrypt(key, MTP_SENDER_SERVER, body, len);
        return 0;
    }
    enum mtp_sender s = (mode & 2) ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT;
    len -= len % 16;
    if (len < MTP_MSG_INNER_HEADER_LEN)
        return 0;
    struct mtp_wr packet;
    mtp_wr_init_dyn(&packet, FUZZ_MAX + MTP_MSG_OUTER_HEADER_LEN, NULL);
    if (mtp_msg_v1_encrypt(key, s, body, len, &packet, NULL) != MTP_OK)
        __builtin_trap();
    if (check_decrypt(key, s, packet.p, packet.len) != expected_verdict(body, len))
        __builtin_trap();
    if (check_decrypt(key, s == MTP_SENDER_CLIENT ? MTP_SENDER_SERVER : MTP_SENDER_CLIENT, packet.p, packet.len) !=
        MTP_ERR_V1_MSG_KEY_MISMATCH)
        __builtin_trap();
    mtp_wr_free(&packet);
    return 0;
}
