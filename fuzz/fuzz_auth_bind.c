/* Target functions: mtp_bind_check (server side of auth.bindTempAuthKey)
 * Input: byte 0 picks the mode, the rest is
 *   mode 0 (bit 0 clear): encrypted_message as received, checked with a fixed
 *          permanent key (00 01 .. ff) against fixed expectations;
 *   mode 1 (bit 0 set):   the binding message's plaintext (cut to a multiple
 *          of 16), encrypted with the right key first, so that the checks after
 *          the MTProto 1.0 decryption see fuzzer-chosen headers and fields.
 * Oracles: the code is OK or one of the documented rejections and err agrees;
 * in mode 1 a plaintext made by mtp_bind_encrypt's layout from the
 * expectations is accepted. */
#include <stdint.h>
#include <string.h>

#include "mtp/auth_bind.h"
#include "mtp/msgcrypt_v1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX (1u << 16)

static const struct mtp_bind_expect WANT = {0x6600000012345678ull, 1, 2, 0, 3, 1700000000};

static bool documented(int rc)
{
    switch (rc) {
    case MTP_OK:
    case MTP_ERR_AUTH_KEY_ID_MISMATCH:
    case MTP_ERR_BAD_CIPHERTEXT_LENGTH:
    case MTP_ERR_V1_MSG_KEY_MISMATCH:
    case MTP_ERR_BAD_MESSAGE_LENGTH:
    case MTP_ERR_UNALIGNED_MESSAGE_LENGTH:
    case MTP_ERR_V1_BAD_PADDING_LENGTH:
    case MTP_ERR_BIND_BAD_HEADER:
    case MTP_ERR_BIND_MSG_ID:
    case MTP_ERR_BIND_BAD_INNER:
    case MTP_ERR_BIND_NONCE:
    case MTP_ERR_BIND_TEMP_KEY:
    case MTP_ERR_BIND_PERM_KEY:
    case MTP_ERR_BIND_SESSION:
    case MTP_ERR_BIND_EXPIRES_AT:
        return true;
    default:
        return false;
    }
}

static int check(const uint8_t *key, const struct mtp_bind_expect *want, const uint8_t *p, size_t n)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtp_bind_check(key, p, n, want, NULL, &err);
    if (!documented(rc) || err.code != rc)
        __builtin_trap();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > FUZZ_MAX)
        return 0;
    uint8_t key[MTP_AUTH_KEY_LEN], id[MTP_AUTH_KEY_ID_LEN];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)i;
    mtp_auth_key_id(key, id);
    struct mtp_bind_expect want = WANT;
    want.perm_auth_key_id = mtp_load_u64(id);
    if ((data[0] & 1) == 0) {
        check(key, &want, data + 1, size - 1);
        return 0;
    }
    size_t len = (size - 1) - (size - 1) % 16;
    if (len < MTP_MSG_INNER_HEADER_LEN)
        return 0;
    struct mtp_wr packet;
    mtp_wr_init_dyn(&packet, FUZZ_MAX + MTP_MSG_OUTER_HEADER_LEN, NULL);
    if (mtp_msg_v1_encrypt(key, MTP_SENDER_CLIENT, data + 1, len, &packet, NULL) != MTP_OK)
        __builtin_trap();
    check(key, &want, packet.p, packet.len);
    mtp_wr_free(&packet);
    /* The layout the spec gives, with the fuzzer's random prefix: always accepted. */
    uint8_t plain[80];
    memset(plain, 0, sizeof plain);
    memcpy(plain, data + 1, (size - 1) < 16 ? size - 1 : 16);
    mtp_store_u64(plain + 16, want.msg_id);
    mtp_store_u32(plain + 28, MTP_BIND_INNER_LEN);
    mtp_store_u32(plain + 32, MTP_BIND_AUTH_KEY_INNER_ID);
    mtp_store_u64(plain + 36, want.nonce);
    mtp_store_u64(plain + 44, want.temp_auth_key_id);
    mtp_store_u64(plain + 52, want.perm_auth_key_id);
    mtp_store_u64(plain + 60, want.temp_session_id);
    mtp_store_u32(plain + 68, (uint32_t)want.expires_at);
    uint8_t enc[MTP_BIND_ENCRYPTED_LEN];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, enc, sizeof enc, NULL);
    if (mtp_msg_v1_encrypt(key, MTP_SENDER_CLIENT, plain, sizeof plain, &w, NULL) != MTP_OK ||
        check(key, &want, enc, w.len) != MTP_OK)
        __builtin_trap();
    return 0;
}
