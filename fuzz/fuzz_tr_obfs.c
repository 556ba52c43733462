/* Target functions: mtp_obfs_server_init, mtp_obfs_decrypt, mtp_obfs_wire, mtp_obfs_client_init,
 *                   mtp_tr_decode (behind the decryption)
 * Input: byte 0 picks the secret (none, a 16-byte one, a 0xdd one) and byte 1
 * the chunk sizes; then the 64-byte init as received, then the encrypted stream.
 * Oracles: an init the server accepts is one a client could have sent: the
 * client-side computation over the recovered plaintext gives back the same
 * tag and DC bytes, and the client accepts it too; the stream after it
 * decrypts and decodes the same in chunks as at once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/obfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret_bytes[17] = {0xdd, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                         0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

struct outcome {
    int rc;
    size_t frames;
    uint32_t hash;
};

static void decode_stream(const uint8_t wire[64], const struct mtp_obfs_secret *secret, const uint8_t *enc,
                          size_t len, uint8_t seed, bool chunked, struct outcome *out)
{
    memset(out, 0, sizeof *out);
    struct mtp_obfs o;
    out->rc = mtp_obfs_server_init(&o, wire, secret, NULL, NULL);
    if (out->rc != MTP_OK)
        return;
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        mtp_obfs_free(&o);
        return;
    }
    if (len)
        memcpy(buf, enc, len);
    struct mtp_tr_opts opts = {.no_tag = true, .max_frame = 4096};
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, o.kind, MTP_TR_CLIENT, &opts);
    uint32_t lcg = seed, h = 2166136261u;
    for (size_t at = 0; at < len;) {
        size_t chunk = len - at;
        if (chunked) {
            lcg = lcg * 1103515245u + 12345u;
            size_t c = 1 + (lcg >> 16) % 29;
            if (c < chunk)
                chunk = c;
        }
        if (mtp_obfs_decrypt(&o, buf + at, chunk) != MTP_OK)
            __builtin_trap();
        const uint8_t *q = buf + at;
        size_t left = chunk;
        at += chunk;
        int rc = MTP_OK;
        while (left > 0) {
            struct mtp_tr_frame f;
            size_t n = left;
            rc = mtp_tr_decode(&d, q, &n, &f, NULL);
            q += n;
            left -= n;
            if (rc != MTP_OK)
                break;
            out->frames++;
            for (size_t i = 0; i < f.len; i++)
                h = (h ^ f.data[i]) * 16777619u;
            h = (h ^ (f.quick_ack ? 1u : 0u)) * 16777619u;
        }
        if (rc != MTP_OK && rc != MTP_ERR_NEED_MORE) {
            out->rc = rc;
            break;
        }
    }
    out->hash = h;
    mtp_tr_decoder_free(&d);
    mtp_obfs_free(&o);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 + MTP_OBFS_INIT_LEN)
        return 0;
    struct mtp_obfs_secret secret;
    static const size_t secret_len[3] = {0, 16, 17};
    size_t choice = data[0] % 3;
    if (mtp_obfs_secret_parse(&secret, secret_bytes + (choice == 1), secret_len[choice], NULL) != MTP_OK)
        __builtin_trap();
    const uint8_t *wire = data + 2;
    const uint8_t *rest = wire + MTP_OBFS_INIT_LEN;
    size_t rest_len = size - 2 - MTP_OBFS_INIT_LEN;

    struct mtp_obfs s;
    if (mtp_obfs_server_init(&s, wire, &secret, NULL, NULL) == MTP_OK) {
        /* Rebuild the plaintext bytes 56..61 the client must have had and run the client side over them. */
        uint8_t init[MTP_OBFS_INIT_LEN], again[MTP_OBFS_INIT_LEN], wire2[MTP_OBFS_INIT_LEN];
        memcpy(init, wire, MTP_OBFS_INIT_LEN);
        mtp_store_u32(init + 56, s.tag);
        init[60] = (uint8_t)((uint16_t)s.dc & 0xff);
        init[61] = (uint8_t)((uint16_t)s.dc >> 8);
        if (mtp_obfs_wire(init, &secret, again) != MTP_OK || memcmp(again, wire, 62) != 0)
            __builtin_trap();
        struct mtp_obfs c;
        if (mtp_obfs_client_init(&c, init, &secret, wire2, NULL, NULL) != MTP_OK || memcmp(wire2, wire, 62) != 0 ||
            c.kind != s.kind || c.dc != s.dc)
            __builtin_trap();
        mtp_obfs_free(&c);
        mtp_obfs_free(&s);
    }

    struct outcome whole, split;
    decode_stream(wire, &secret, rest, rest_len, data[1], false, &whole);
    decode_stream(wire, &secret, rest, rest_len, data[1], true, &split);
    if (whole.rc != split.rc || whole.frames != split.frames || whole.hash != split.hash)
        __builtin_trap();
    return 0;
}
