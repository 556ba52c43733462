/* What travels inside transport frames: names and tags of the transports,
 * transport error frames, quick-ack tokens, and padded-intermediate padding. */
#include <openssl/evp.h>
#include <string.h>

#include "mtp/transport.h"

struct kind_entry {
    enum mtp_tr_kind kind;
    const char *name;
    uint32_t obfs_tag;
};

static const struct kind_entry kinds[] = {
    {MTP_TR_ABRIDGED, "abridged", 0xefefefefu},
    {MTP_TR_INTERMEDIATE, "intermediate", 0xeeeeeeeeu},
    {MTP_TR_PADDED, "padded", 0xddddddddu},
    {MTP_TR_FULL, "full", 0},
};

const char *mtp_tr_kind_name(enum mtp_tr_kind kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "unknown";
}

int mtp_tr_kind_from_name(const char *name, enum mtp_tr_kind *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, name) == 0) {
            *kind = kinds[i].kind;
            return MTP_OK;
        }
    return MTP_ERR_ARG;
}

uint32_t mtp_tr_obfs_tag(enum mtp_tr_kind kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind == kind)
            return kinds[i].obfs_tag;
    return 0;
}

int mtp_tr_kind_from_obfs_tag(uint32_t tag, enum mtp_tr_kind *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].obfs_tag != 0 && kinds[i].obfs_tag == tag) {
            *kind = kinds[i].kind;
            return MTP_OK;
        }
    return MTP_ERR_OBFS_BAD_TAG;
}

bool mtp_tr_error_frame(const uint8_t *payload, size_t len, int32_t *code)
{
    if (len != 4)
        return false;
    struct mtp_rd r;
    mtp_rd_init(&r, payload, len, NULL);
    int32_t v;
    /* FFFFFFFF is "not a valid transport error" (it marks padded quick acks). */
    if (mtp_rd_i32(&r, &v, "transport_error") != MTP_OK || v >= 0 || v == -1)
        return false;
    *code = v;
    return true;
}

void mtp_tr_error_payload(int32_t code, uint8_t out[4]) { mtp_store_u32(out, (uint32_t)code); }

const char *mtp_tr_error_name(int32_t code)
{
    switch (code) {
    case MTP_TR_ERROR_FORBIDDEN:
        return "forbidden";
    case MTP_TR_ERROR_AUTH_KEY:
        return "auth_key_not_found";
    case MTP_TR_ERROR_FLOOD:
        return "flood";
    case MTP_TR_ERROR_BAD_DC:
        return "invalid_dc";
    default:
        return "unknown";
    }
}

uint32_t mtp_tr_quick_ack_token(const uint8_t msg_key_large[32])
{
    return mtp_load_u32(msg_key_large) | MTP_TR_QUICK_ACK_BIT;
}

int mtp_tr_quick_ack_compute(const uint8_t auth_key[256], enum mtp_tr_side sender, const uint8_t *plaintext,
                             size_t len, uint32_t *token)
{
    size_t x = sender == MTP_TR_SERVER ? 8 : 0;
    uint8_t md[32];
    unsigned int md_len = 0;
    int ok = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx != NULL)
        ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, auth_key + 88 + x, 32) == 1 &&
             EVP_DigestUpdate(ctx, plaintext, len) == 1 && EVP_DigestFinal_ex(ctx, md, &md_len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return MTP_ERR_OSSL;
    *token = mtp_tr_quick_ack_token(md);
    mtp_wipe(md, sizeof md);
    return MTP_OK;
}

/* Shortest MTProto packets: an unencrypted message has auth_key_id, msg_id,
 * message_data_length (20 bytes) and a constructor; an encrypted one has
 * auth_key_id, msg_key and at least one 16-byte block. */
#define PLAIN_HEADER 20
#define CRYPT_HEADER 24

int mtp_tr_padded_payload_len(const uint8_t *frame, size_t len, size_t *payload_len, struct mtp_error *err)
{
    struct mtp_rd r;
    mtp_rd_init(&r, frame, len, err);
    /* A transport error is 4 bytes; with at most 15 bytes of padding the
     * frame stays below the shortest MTProto packet (24 bytes). */
    if (len < 4)
        return mtp_error_set(err, MTP_ERR_TR_BAD_LENGTH, 0, "padded.payload: %zu bytes is no packet at all", len);
    if (len < PLAIN_HEADER + 4) {
        int32_t code;
        MTP_GUARD(mtp_rd_i32(&r, &code, "padded.transport_error"));
        if (code < 0 && code != -1 && len - 4 <= MTP_TR_PADDING_MAX) {
            *payload_len = 4;
            return MTP_OK;
        }
        return mtp_error_set(err, MTP_ERR_TR_BAD_LENGTH, 0,
                             "padded.payload: %zu bytes is neither a transport error nor an MTProto packet", len);
    }
    uint64_t auth_key_id;
    MTP_GUARD(mtp_rd_u64(&r, &auth_key_id, "padded.auth_key_id"));
    if (auth_key_id == 0) {
        uint32_t data_len;
        MTP_GUARD(mtp_rd_skip(&r, 8, "padded.msg_id"));
        MTP_GUARD(mtp_rd_u32(&r, &data_len, "padded.message_data_length"));
        if (data_len > len - PLAIN_HEADER || len - PLAIN_HEADER - data_len > MTP_TR_PADDING_MAX)
            return mtp_error_set(err, MTP_ERR_TR_BAD_LENGTH, 16,
                                 "padded.message_data_length: %u leaves %lld bytes of padding in a %zu-byte frame "
                                 "(0..15 allowed)",
                                 data_len, (long long)(len - PLAIN_HEADER) - (long long)data_len, len);
        *payload_len = PLAIN_HEADER + data_len;
        return MTP_OK;
    }
    if (len < CRYPT_HEADER + 16)
        return mtp_error_set(err, MTP_ERR_TR_BAD_LENGTH, 0,
                             "padded.payload: %zu bytes is too short for an encrypted message", len);
    *payload_len = CRYPT_HEADER + (len - CRYPT_HEADER) / 16 * 16;
    return MTP_OK;
}
