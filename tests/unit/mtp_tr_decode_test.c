#include <stdlib.h>
#include <string.h>

#include "mtp/transport.h"
#include "mtp_test.h"

/* ---- helpers: run a decoder over a stream in a given chunking and keep what it returns ---- */

#define MAX_FRAMES 16

struct seen {
    size_t n;
    uint8_t *data[MAX_FRAMES];
    size_t len[MAX_FRAMES];
    bool quick_ack[MAX_FRAMES];
    bool is_ack[MAX_FRAMES];
    uint32_t token[MAX_FRAMES];
    uint32_t seq[MAX_FRAMES];
    int32_t error[MAX_FRAMES];
    uint64_t offset[MAX_FRAMES];
    uint64_t end[MAX_FRAMES]; /* decoder offset right after the frame: where consumption stopped */
    int rc;                   /* first error, or MTP_OK */
};

static void seen_free(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->data[i]);
    memset(s, 0, sizeof *s);
}

/* Feeds one chunk, looping until the decoder has consumed all of it.
 * Checks the contract on the way: consumption never exceeds the input, and
 * NEED_MORE means everything was taken. */
static void feed(struct mtp_tr_decoder *d, const uint8_t *p, size_t len, struct seen *s)
{
    while (len > 0 && s->rc == MTP_OK) {
        struct mtp_error err;
        mtp_error_clear(&err);
        struct mtp_tr_frame f;
        size_t n = len;
        int rc = mtp_tr_decode(d, p, &n, &f, &err);
        if (n > len)
            ck_abort_msg("consumed %zu of %zu bytes", n, len);
        p += n;
        len -= n;
        if (rc == MTP_ERR_NEED_MORE) {
            if (len != 0)
                ck_abort_msg("NEED_MORE with %zu bytes not consumed", len);
            return;
        }
        if (rc < 0) {
            if (err.code != rc)
                ck_abort_msg("error %d recorded as %d", rc, err.code);
            s->rc = rc;
            return;
        }
        if (s->n == MAX_FRAMES)
            ck_abort_msg("more than %d frames", MAX_FRAMES);
        size_t i = s->n++;
        s->data[i] = malloc(f.len ? f.len : 1);
        if (s->data[i] == NULL)
            ck_abort_msg("out of memory");
        if (f.len)
            memcpy(s->data[i], f.data, f.len);
        s->len[i] = f.len;
        s->quick_ack[i] = f.quick_ack;
        s->is_ack[i] = f.is_ack;
        s->token[i] = f.ack_token;
        s->seq[i] = f.seq;
        s->error[i] = f.transport_error;
        s->offset[i] = f.offset;
        s->end[i] = d->offset;
    }
}

static void finish(struct mtp_tr_decoder *d, struct seen *s)
{
    if (s->rc != MTP_OK)
        return;
    struct mtp_error err;
    mtp_error_clear(&err);
    s->rc = mtp_tr_decoder_finish(d, &err);
}

static void decode_split(enum mtp_tr_kind kind, enum mtp_tr_side from, const struct mtp_tr_opts *opts,
                         const uint8_t *p, size_t len, size_t split, struct seen *s)
{
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, kind, from, opts);
    memset(s, 0, sizeof *s);
    feed(&d, p, split, s);
    feed(&d, p + split, len - split, s);
    finish(&d, s);
    mtp_tr_decoder_free(&d);
}

static void decode_bytewise(enum mtp_tr_kind kind, enum mtp_tr_side from, const struct mtp_tr_opts *opts,
                            const uint8_t *p, size_t len, struct seen *s)
{
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, kind, from, opts);
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < len; i++)
        feed(&d, p + i, 1, s);
    finish(&d, s);
    mtp_tr_decoder_free(&d);
}

/* Plain comparisons, one assertion per call: Check records every assertion
 * it passes, which is what would dominate the thousands of splits below. */
static const char *difference(const struct seen *a, const struct seen *b)
{
    if (a->rc != b->rc)
        return "result code";
    if (a->n != b->n)
        return "frame count";
    for (size_t i = 0; i < a->n; i++) {
        if (a->len[i] != b->len[i] || memcmp(a->data[i], b->data[i], a->len[i]) != 0)
            return "frame bytes";
        if (a->quick_ack[i] != b->quick_ack[i] || a->is_ack[i] != b->is_ack[i] || a->token[i] != b->token[i])
            return "quick-ack flags";
        if (a->seq[i] != b->seq[i] || a->error[i] != b->error[i])
            return "seq or transport error";
        if (a->offset[i] != b->offset[i] || a->end[i] != b->end[i])
            return "frame offsets (consumed past a frame's end?)";
    }
    return NULL;
}

/* The whole stream at once is the reference; every split point and one byte
 * at a time must give the same frames, ending at the same offsets. */
static void check_every_split(enum mtp_tr_kind kind, enum mtp_tr_side from, const struct mtp_tr_opts *opts,
                              const uint8_t *p, size_t len, struct seen *ref)
{
    decode_split(kind, from, opts, p, len, len, ref);
    for (size_t k = 0; k <= len; k++) {
        struct seen s;
        decode_split(kind, from, opts, p, len, k, &s);
        const char *diff = difference(ref, &s);
        if (diff != NULL)
            ck_abort_msg("split at %zu of %zu: %s differs from decoding at once", k, len, diff);
        seen_free(&s);
    }
    struct seen s;
    decode_bytewise(kind, from, opts, p, len, &s);
    const char *diff = difference(ref, &s);
    if (diff != NULL)
        ck_abort_msg("one byte at a time: %s differs from decoding at once", diff);
    seen_free(&s);
}

/* ---- literal streams: exact frames out of exact bytes ---- */

START_TEST(abridged_client_stream_both_length_forms)
{
    /* tag, 1 word; 0x7e words (largest short form); 0x7f words (0x7f + 3 bytes); quick-ack short; quick-ack long */
    size_t n504, n508;
    uint8_t *p504 = calloc(1, 504), *p508 = calloc(1, 508);
    ck_assert_ptr_nonnull(p504);
    ck_assert_ptr_nonnull(p508);
    for (size_t i = 0; i < 508; i++) {
        if (i < 504)
            p504[i] = (uint8_t)i;
        p508[i] = (uint8_t)(i * 7);
    }
    n504 = 504;
    n508 = 508;
    uint8_t stream[1 + 5 + 1 + 504 + 4 + 508 + 5 + 4 + 508];
    size_t at = 0;
    stream[at++] = 0xef;
    memcpy(stream + at, "\x01\xaa\xbb\xcc\xdd", 5);
    at += 5;
    stream[at++] = 0x7e;
    memcpy(stream + at, p504, n504);
    at += n504;
    memcpy(stream + at, "\x7f\x7f\x00\x00", 4);
    at += 4;
    memcpy(stream + at, p508, n508);
    at += n508;
    memcpy(stream + at, "\x81\x01\x02\x03\x04", 5);
    at += 5;
    memcpy(stream + at, "\xff\x7f\x00\x00", 4);
    at += 4;
    memcpy(stream + at, p508, n508);
    at += n508;
    ck_assert_uint_eq(at, sizeof stream);

    struct seen ref;
    check_every_split(MTP_TR_ABRIDGED, MTP_TR_CLIENT, NULL, stream, sizeof stream, &ref);
    ck_assert_int_eq(ref.rc, MTP_OK);
    ck_assert_uint_eq(ref.n, 5);
    ck_assert_hex_eq(ref.data[0], ref.len[0], "aabbccdd");
    ck_assert_uint_eq(ref.len[1], 504);
    ck_assert_mem_eq(ref.data[1], p504, 504);
    ck_assert_uint_eq(ref.len[2], 508);
    ck_assert_mem_eq(ref.data[2], p508, 508);
    ck_assert_hex_eq(ref.data[3], ref.len[3], "01020304");
    ck_assert_uint_eq(ref.len[4], 508);
    bool qa[5] = {false, false, false, true, true};
    uint64_t offs[5] = {1, 6, 511, 1023, 1028};
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(ref.quick_ack[i], qa[i]);
        ck_assert_uint_eq(ref.offset[i], offs[i]);
    }
    ck_assert_uint_eq(ref.end[4], sizeof stream);
    seen_free(&ref);
    free(p504);
    free(p508);
}
END_TEST

START_TEST(abridged_server_stream_quick_ack_is_bswapped)
{
    /* frame, quick ack (token 0x92345678 sent big-endian), long-form frame, transport error -404 */
    size_t len;
    uint8_t *stream = mtp_test_hex("0111223344"
                                   "92345678"
                                   "7f0100000102030405060708090a0b0c0d0e0f1011121314151617181920212223242526272829"
                                   "2a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f50"
                                   "5152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f70717273747576"
                                   "7778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d"
                                   "9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4"
                                   "c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaeb"
                                   "ecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfe"
                                   "016cfeffff",
                                   &len);
    /* that 0x7f frame claims 1 word only: non-canonical, accepted leniently */
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, MTP_TR_ABRIDGED, MTP_TR_SERVER, NULL);
    struct seen s;
    memset(&s, 0, sizeof s);
    feed(&d, stream, 9, &s);
    mtp_tr_decoder_free(&d);
    ck_assert_int_eq(s.rc, MTP_OK);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_hex_eq(s.data[0], s.len[0], "11223344");
    ck_assert(s.is_ack[1]);
    ck_assert_uint_eq(s.len[1], 0);
    ck_assert_uint_eq(s.token[1], 0x92345678u);
    ck_assert_uint_eq(s.offset[1], 5);
    ck_assert_uint_eq(s.end[1], 9);
    seen_free(&s);

    static const uint8_t srv[] = {0x01, 0x11, 0x22, 0x33, 0x44, 0x92, 0x34, 0x56, 0x78, 0x02, 1, 2, 3, 4, 5, 6, 7, 8,
                                  0x01, 0x6c, 0xfe, 0xff, 0xff};
    struct seen ref;
    check_every_split(MTP_TR_ABRIDGED, MTP_TR_SERVER, NULL, srv, sizeof srv, &ref);
    ck_assert_int_eq(ref.rc, MTP_OK);
    ck_assert_uint_eq(ref.n, 4);
    ck_assert(ref.is_ack[1]);
    ck_assert_uint_eq(ref.token[1], 0x92345678u);
    ck_assert_hex_eq(ref.data[2], ref.len[2], "0102030405060708");
    int32_t code;
    ck_assert(mtp_tr_error_frame(ref.data[3], ref.len[3], &code));
    ck_assert_int_eq(code, -404);
    ck_assert_int_eq(ref.error[3], -404);
    ck_assert_int_eq(ref.error[0], 0);
    seen_free(&ref);
}
END_TEST

START_TEST(intermediate_streams_both_sides)
{
    size_t len;
    /* client: tag, 4 bytes, quick-ack 8 bytes, 5 bytes (unaligned, lenient) */
    uint8_t *cli = mtp_test_hex("eeeeeeee" "04000000a1a2a3a4" "08000080b1b2b3b4b5b6b7b8" "05000000c1c2c3c4c5", &len);
    struct seen ref;
    check_every_split(MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, NULL, cli, len, &ref);
    ck_assert_int_eq(ref.rc, MTP_OK);
    ck_assert_uint_eq(ref.n, 3);
    ck_assert_hex_eq(ref.data[0], ref.len[0], "a1a2a3a4");
    ck_assert(!ref.quick_ack[0]);
    ck_assert_hex_eq(ref.data[1], ref.len[1], "b1b2b3b4b5b6b7b8");
    ck_assert(ref.quick_ack[1]);
    ck_assert_hex_eq(ref.data[2], ref.len[2], "c1c2c3c4c5");
    ck_assert_uint_eq(ref.offset[1], 12);
    seen_free(&ref);

    /* server: the token as is (LE 0x92345678), a frame, error -429 */
    uint8_t *srv = mtp_test_hex("78563492" "04000000a1a2a3a4" "0400000053feffff", &len);
    check_every_split(MTP_TR_INTERMEDIATE, MTP_TR_SERVER, NULL, srv, len, &ref);
    ck_assert_int_eq(ref.rc, MTP_OK);
    ck_assert_uint_eq(ref.n, 3);
    ck_assert(ref.is_ack[0]);
    ck_assert_uint_eq(ref.token[0], 0x92345678u);
    ck_assert_uint_eq(ref.end[0], 4);
    ck_assert_hex_eq(ref.data[1], ref.len[1], "a1a2a3a4");
    int32_t code;
    ck_assert(mtp_tr_error_frame(ref.data[2], ref.len[2], &code));
    ck_assert_int_eq(code, -429);
    ck_assert_int_eq(ref.error[2], -429);
    seen_free(&ref);
}
END_TEST

START_TEST(padded_streams_keep_padding_and_find_server_acks)
{
    size_t len;
    /* client: tag, 8 bytes + 3 padding, quick-ack 4 + 0 */
    uint8_t *cli = mtp_test_hex("dddddddd" "0b000000a1a2a3a4a5a6a7a8f1f2f3" "04000080b1b2b3b4", &len);
    struct seen ref;
    check_every_split(MTP_TR_PADDED, MTP_TR_CLIENT, NULL, cli, len, &ref);
    ck_assert_int_eq(ref.rc, MTP_OK);
    ck_assert_uint_eq(ref.n, 2);
    ck_assert_hex_eq(ref.data[0], ref.len[0], "a1a2a3a4a5a6a7a8f1f2f3");
    ck_assert(ref.quick_ack[1]);
    seen_free(&ref);

    /* server: ack with 0 padding, ack with 8, error -444 with 2 padding, then a 16-byte frame whose
     * first int happens to be ffffffff (longer than 16: not an ack) */
    uint8_t *srv = mtp_test_hex("08000000ffffffff78563492"
                                "10000000ffffffff0102a3ff0000000000000000"
                                "0600000044feffff9999"
                                "11000000ffffffff00000000000000000000000000"
                                "08000000ffffffff01020300",
                                &len);
    check_every_split(MTP_TR_PADDED, MTP_TR_SERVER, NULL, srv, len, &ref);
    ck_assert_int_eq(ref.rc, MTP_OK);
    ck_assert_uint_eq(ref.n, 5);
    ck_assert(ref.is_ack[0]);
    ck_assert_uint_eq(ref.token[0], 0x92345678u);
    ck_assert(ref.is_ack[1]);
    ck_assert_uint_eq(ref.token[1], 0xffa30201u);
    ck_assert(!ref.is_ack[2]);
    ck_assert_hex_eq(ref.data[2], ref.len[2], "44feffff9999");
    ck_assert_int_eq(ref.error[2], -444);
    /* 0xffffffff is "not a valid transport error" (spec), whatever follows it */
    ck_assert_int_eq(ref.error[4], 0);
    ck_assert(!ref.is_ack[3]);
    ck_assert_uint_eq(ref.len[3], 17);
    /* FFFFFFFF and a "token" without its MSB: no quick ack, just a (useless) data frame */
    ck_assert(!ref.is_ack[4]);
    ck_assert_hex_eq(ref.data[4], ref.len[4], "ffffffff01020300");
    seen_free(&ref);
}
END_TEST

START_TEST(full_stream_checks_crc_and_seq)
{
    size_t len;
    /* seq 0 and seq 1, 4-byte payloads; CRCs from zlib's crc32 (cross-checked with Python's zlib) */
    uint8_t *s = mtp_test_hex("1000000000000000a1a2a3a42654770c" "1000000001000000b1b2b3b462a297db", &len);
    struct seen ref;
    check_every_split(MTP_TR_FULL, MTP_TR_CLIENT, NULL, s, len, &ref);
    ck_assert_int_eq(ref.rc, MTP_OK);
    ck_assert_uint_eq(ref.n, 2);
    ck_assert_hex_eq(ref.data[0], ref.len[0], "a1a2a3a4");
    ck_assert_uint_eq(ref.seq[0], 0);
    ck_assert_hex_eq(ref.data[1], ref.len[1], "b1b2b3b4");
    ck_assert_uint_eq(ref.seq[1], 1);
    ck_assert_uint_eq(ref.end[1], 32);
    seen_free(&ref);
}
END_TEST

/* ---- round trips: encoder output, decoded at every split ---- */

static const uint8_t pad_bytes[15] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static void roundtrip(enum mtp_tr_kind kind, enum mtp_tr_side side)
{
    uint8_t payload[600];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 13 + 5);
    static const size_t sizes[] = {4, 8, 504, 508, 512, 600};
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 20, NULL);
    struct mtp_tr_encoder e;
    mtp_tr_encoder_init(&e, kind, side, true, NULL);
    size_t nframes = 0;
    bool can_ack = kind != MTP_TR_FULL;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct mtp_tr_send m = {.data = payload, .len = sizes[i]};
        m.quick_ack = side == MTP_TR_CLIENT && can_ack && i % 2 == 1;
        if (kind == MTP_TR_PADDED) {
            m.padding_given = true;
            m.padding = pad_bytes;
            m.padding_len = i * 3 % 16;
        }
        ck_assert_ok(mtp_tr_encode(&e, &m, &w, NULL));
        nframes++;
        if (side == MTP_TR_SERVER && can_ack && i == 2) {
            ck_assert_ok(mtp_tr_encode_ack(&e, 0x80000001u + (uint32_t)i, kind == MTP_TR_PADDED ? pad_bytes : NULL,
                                           kind == MTP_TR_PADDED ? 5 : 0, &w, NULL));
            nframes++;
        }
    }
    struct seen ref;
    check_every_split(kind, side, NULL, w.p, w.len, &ref);
    ck_assert_int_eq(ref.rc, MTP_OK);
    ck_assert_uint_eq(ref.n, nframes);
    size_t f = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++, f++) {
        size_t pad = kind == MTP_TR_PADDED ? i * 3 % 16 : 0;
        ck_assert_uint_eq(ref.len[f], sizes[i] + pad);
        ck_assert_mem_eq(ref.data[f], payload, sizes[i]);
        if (pad)
            ck_assert_mem_eq(ref.data[f] + sizes[i], pad_bytes, pad);
        ck_assert_int_eq(ref.quick_ack[f], side == MTP_TR_CLIENT && can_ack && i % 2 == 1);
        if (kind == MTP_TR_FULL)
            ck_assert_uint_eq(ref.seq[f], i);
        if (side == MTP_TR_SERVER && can_ack && i == 2) {
            f++;
            ck_assert(ref.is_ack[f]);
            ck_assert_uint_eq(ref.token[f], 0x80000003u);
        }
    }
    ck_assert_uint_eq(ref.end[ref.n - 1], w.len);
    seen_free(&ref);
    mtp_wr_free(&w);
}

START_TEST(roundtrip_every_transport_and_side)
{
    static const enum mtp_tr_kind kinds[] = {MTP_TR_ABRIDGED, MTP_TR_INTERMEDIATE, MTP_TR_PADDED, MTP_TR_FULL};
    roundtrip(kinds[_i / 2], _i % 2 ? MTP_TR_SERVER : MTP_TR_CLIENT);
}
END_TEST

/* ---- rejections, by exact code ---- */

static int decode_once(enum mtp_tr_kind kind, enum mtp_tr_side from, const struct mtp_tr_opts *opts, const char *hex,
                       struct mtp_error *err, size_t *consumed)
{
    size_t len;
    uint8_t *p = mtp_test_hex(hex, &len);
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, kind, from, opts);
    mtp_error_clear(err);
    int rc;
    size_t total = 0;
    do {
        size_t n = len - total;
        struct mtp_tr_frame f;
        rc = mtp_tr_decode(&d, p + total, &n, &f, err);
        total += n;
    } while (rc == MTP_OK && total < len);
    if (rc == MTP_ERR_NEED_MORE || (rc == MTP_OK && total == len))
        rc = mtp_tr_decoder_finish(&d, err);
    if (consumed)
        *consumed = total;
    mtp_tr_decoder_free(&d);
    return rc;
}

START_TEST(bad_tags)
{
    struct mtp_error err;
    size_t used;
    ck_assert_rc(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, NULL, "ee01aabbccdd", &err, &used), MTP_ERR_TR_BAD_TAG);
    ck_assert_uint_eq(err.offset, 0);
    ck_assert_uint_eq(used, 1); /* the offending byte was looked at, nothing after it */
    ck_assert_str_eq(err.msg, "abridged.tag: byte 0 is 0xee, expected 0xef");
    ck_assert_rc(decode_once(MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, NULL, "eeeeeeef04000000aabbccdd", &err, &used),
                 MTP_ERR_TR_BAD_TAG);
    ck_assert_uint_eq(err.offset, 3);
    ck_assert_uint_eq(used, 4);
    ck_assert_rc(decode_once(MTP_TR_PADDED, MTP_TR_CLIENT, NULL, "eeeeeeee04000000aabbccdd", &err, NULL),
                 MTP_ERR_TR_BAD_TAG);
    /* A stream that ends inside the tag */
    ck_assert_rc(decode_once(MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, NULL, "eeee", &err, NULL), MTP_ERR_TR_BAD_TAG);
    ck_assert_str_eq(err.msg, "intermediate.tag: the stream ends after 2 of the 4 tag bytes");
    /* no_tag: the same bytes are a length */
    struct mtp_tr_opts o = {.no_tag = true};
    ck_assert_ok(decode_once(MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, &o, "04000000aabbccdd", &err, NULL));
    /* Servers send no tag: 0xef from a server is a quick-ack token's first byte */
    ck_assert_ok(decode_once(MTP_TR_ABRIDGED, MTP_TR_SERVER, NULL, "ef000001", &err, NULL));
    /* Empty streams are fine */
    ck_assert_ok(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, NULL, "", &err, NULL));
    ck_assert_ok(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, NULL, "ef", &err, NULL));
}
END_TEST

START_TEST(truncated_streams)
{
    struct mtp_error err;
    ck_assert_rc(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, NULL, "ef7f01", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "abridged.length: the stream ends 2 bytes into the header of the frame at offset 1");
    ck_assert_rc(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, NULL, "ef02aabbccdd", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "abridged.length: the frame at offset 1 announces a 8-byte body, the stream ends after 4");
    ck_assert_rc(decode_once(MTP_TR_INTERMEDIATE, MTP_TR_SERVER, NULL, "0400", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_SERVER, NULL, "10000000000000", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_SERVER, NULL, "1000000000000000a1a2a3a4265477", &err, NULL),
                 MTP_ERR_TR_BAD_LENGTH);
    /* A server's abridged quick ack cut short */
    ck_assert_rc(decode_once(MTP_TR_ABRIDGED, MTP_TR_SERVER, NULL, "9234", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
}
END_TEST

START_TEST(oversized_claims_fail_before_buffering)
{
    struct mtp_tr_opts o = {.max_frame = 64};
    struct mtp_error err;
    size_t used;
    /* 64 is accepted, 68 is not: the error comes with the header, nothing of the body is needed */
    ck_assert_rc(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, &o, "ef11", &err, &used), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_uint_eq(used, 2);
    ck_assert_str_eq(err.msg, "abridged.length: exceeds the frame size limit (68) in the frame at offset 1");
    ck_assert_rc(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, &o, "ef10", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "abridged.length: the frame at offset 1 announces a 64-byte body, the stream ends after 0");
    ck_assert_rc(decode_once(MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, &o, "eeeeeeee41000000", &err, &used),
                 MTP_ERR_TR_BAD_LENGTH);
    ck_assert_uint_eq(used, 8);
    ck_assert_rc(decode_once(MTP_TR_PADDED, MTP_TR_CLIENT, &o, "dddddddd41000080", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_CLIENT, &o, "4d00000000000000", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_CLIENT, &o, "4c00000000000000", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "full.length: the frame at offset 0 announces a 68-byte body, the stream ends after 0");

    /* The default limit is 16 MiB */
    ck_assert_rc(decode_once(MTP_TR_INTERMEDIATE, MTP_TR_SERVER, NULL, "01000001", &err, &used),
                 MTP_ERR_TR_BAD_LENGTH);
    ck_assert_uint_eq(used, 4);
    ck_assert_rc(decode_once(MTP_TR_ABRIDGED, MTP_TR_SERVER, NULL, "7fffffff", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "abridged.length: exceeds the frame size limit (67108860) in the frame at offset 0");

    /* Nothing was allocated for the rejected body */
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, MTP_TR_INTERMEDIATE, MTP_TR_SERVER, &o);
    uint8_t hdr[4] = {0xff, 0xff, 0xff, 0x7f};
    size_t n = sizeof hdr;
    struct mtp_tr_frame f;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tr_decode(&d, hdr, &n, &f, &err), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_uint_eq(d.buf.cap, 0);
    mtp_tr_decoder_free(&d);

    /* A claim within the limit costs what arrives, not what it claims */
    mtp_tr_decoder_init(&d, MTP_TR_INTERMEDIATE, MTP_TR_SERVER, NULL);
    uint8_t claim[5] = {0x00, 0x00, 0x00, 0x01, 0xaa}; /* 16 MiB, then one byte */
    n = sizeof claim;
    ck_assert_rc(mtp_tr_decode(&d, claim, &n, &f, NULL), MTP_ERR_NEED_MORE);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_le(d.buf.cap, 64);
    mtp_tr_decoder_free(&d);
}
END_TEST

START_TEST(empty_frames_and_strict_mode)
{
    struct mtp_error err;
    ck_assert_rc(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, NULL, "ef00", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_rc(decode_once(MTP_TR_INTERMEDIATE, MTP_TR_SERVER, NULL, "00000000", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_rc(decode_once(MTP_TR_PADDED, MTP_TR_CLIENT, NULL, "dddddddd00000080", &err, NULL),
                 MTP_ERR_TR_BAD_LENGTH);
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_SERVER, NULL, "0c0000000000000000000000", &err, NULL),
                 MTP_ERR_TR_BAD_LENGTH);
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_SERVER, NULL, "0800000000000000", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "full.length: below the 12-byte envelope (8) in the frame at offset 0");
    /* A padded server frames its quick acks: an MSB in its length is an error */
    ck_assert_rc(decode_once(MTP_TR_PADDED, MTP_TR_SERVER, NULL, "08000080", &err, NULL), MTP_ERR_TR_BAD_LENGTH);

    struct mtp_tr_opts strict = {.strict = true};
    ck_assert_ok(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, NULL, "ef7f010000aabbccdd", &err, NULL));
    /* the 0x7f form for one word: unusual, not forbidden, so strict takes it too */
    ck_assert_ok(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, &strict, "ef7f010000aabbccdd", &err, NULL));
    /* the canonical 0x7f form passes the check and then waits for its 508 bytes */
    ck_assert_rc(decode_once(MTP_TR_ABRIDGED, MTP_TR_CLIENT, &strict, "ef7f7f0000", &err, NULL), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "abridged.length: the frame at offset 1 announces a 508-byte body, the stream ends after 0");
    ck_assert_ok(decode_once(MTP_TR_INTERMEDIATE, MTP_TR_SERVER, NULL, "05000000aabbccddee", &err, NULL));
    ck_assert_rc(decode_once(MTP_TR_INTERMEDIATE, MTP_TR_SERVER, &strict, "05000000aabbccddee", &err, NULL),
                 MTP_ERR_TR_BAD_LENGTH);
    ck_assert_str_eq(err.msg, "intermediate.length: not a multiple of 4 (strict) (5) in the frame at offset 0");
    /* padded lengths include padding: never alignment-checked */
    ck_assert_ok(decode_once(MTP_TR_PADDED, MTP_TR_SERVER, &strict, "05000000aabbccddee", &err, NULL));
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_SERVER, &strict, "0d00000000000000aa00000000", &err, NULL),
                 MTP_ERR_TR_BAD_LENGTH);
}
END_TEST

START_TEST(full_crc_and_seq_errors)
{
    struct mtp_error err;
    size_t used;
    /* CRC off by one bit */
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_SERVER, NULL, "1000000000000000a1a2a3a42654770d", &err, &used),
                 MTP_ERR_TR_BAD_CRC);
    ck_assert_uint_eq(err.offset, 12);
    ck_assert_str_eq(err.msg,
                     "full.crc: the frame at offset 0 carries 0x0d775426, CRC32 of length, seq and payload is 0x0c775426");
    /* payload bit flipped */
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_SERVER, NULL, "1000000000000000a1a2a3a52654770c", &err, NULL),
                 MTP_ERR_TR_BAD_CRC);
    /* seq 1 first, with a valid CRC */
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_SERVER, NULL, "1000000001000000b1b2b3b462a297db", &err, NULL),
                 MTP_ERR_TR_BAD_SEQ);
    ck_assert_uint_eq(err.offset, 4);
    ck_assert_str_eq(err.msg, "full.seq: the frame at offset 0 has seq 1, expected 0");
    /* seq 0 twice: the second frame fails, at its own offset */
    ck_assert_rc(decode_once(MTP_TR_FULL, MTP_TR_SERVER, NULL,
                             "1000000000000000a1a2a3a42654770c" "1000000000000000a1a2a3a42654770c", &err, &used),
                 MTP_ERR_TR_BAD_SEQ);
    ck_assert_uint_eq(err.offset, 20);
    ck_assert_uint_eq(used, 32);
}
END_TEST

START_TEST(full_skip_crc_accepts_what_the_checks_refuse)
{
    /* The seeded fault of the reference client: a wrong CRC and a wrong seq pass. */
    struct mtp_tr_opts lax = {.skip_crc = true};
    struct mtp_error err;
    mtp_error_clear(&err);
    const char *stream = "1000000000000000a1a2a3a42654770d" /* CRC off by one bit */
                         "1000000005000000b1b2b3b462a297db"; /* seq 5, second frame */
    size_t len;
    uint8_t *p = mtp_test_hex(stream, &len);
    struct seen s;
    decode_split(MTP_TR_FULL, MTP_TR_SERVER, &lax, p, len, 0, &s);
    ck_assert_int_eq(s.rc, MTP_OK);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_uint_eq(s.len[0], 4);
    ck_assert_mem_eq(s.data[0], "\xa1\xa2\xa3\xa4", 4);
    ck_assert_uint_eq(s.seq[1], 5);
    seen_free(&s);
    decode_split(MTP_TR_FULL, MTP_TR_SERVER, NULL, p, len, 0, &s);
    ck_assert_int_eq(s.rc, MTP_ERR_TR_BAD_CRC);
    seen_free(&s);
}
END_TEST

START_TEST(errors_are_sticky)
{
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, MTP_TR_ABRIDGED, MTP_TR_CLIENT, NULL);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_tr_frame f;
    uint8_t bad[] = {0x00, 0xef, 0x01, 1, 2, 3, 4};
    size_t n = sizeof bad;
    ck_assert_rc(mtp_tr_decode(&d, bad, &n, &f, &err), MTP_ERR_TR_BAD_TAG);
    n = sizeof bad - 1;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tr_decode(&d, bad + 1, &n, &f, &err), MTP_ERR_TR_BAD_TAG);
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(err.msg, "abridged decoder: the stream was already rejected (transport_bad_tag)");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tr_decoder_finish(&d, &err), MTP_ERR_TR_BAD_TAG);
    mtp_tr_decoder_free(&d);
}
END_TEST

START_TEST(frames_borrow_input_when_whole)
{
    /* A frame that arrives whole points into the input; a split one into the decoder's buffer. */
    size_t len;
    uint8_t *s = mtp_test_hex("0400000011223344", &len);
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, MTP_TR_INTERMEDIATE, MTP_TR_SERVER, NULL);
    struct mtp_tr_frame f;
    size_t n = len;
    ck_assert_ok(mtp_tr_decode(&d, s, &n, &f, NULL));
    ck_assert_ptr_eq(f.data, s + 4);
    ck_assert_uint_eq(d.buf.cap, 0);
    n = 6;
    ck_assert_rc(mtp_tr_decode(&d, s, &n, &f, NULL), MTP_ERR_NEED_MORE);
    n = 2;
    ck_assert_ok(mtp_tr_decode(&d, s + 6, &n, &f, NULL));
    ck_assert_ptr_eq(f.data, d.buf.p);
    ck_assert_hex_eq(f.data, f.len, "11223344");
    mtp_tr_decoder_free(&d);
}
END_TEST

static Suite *tr_decode_suite(void)
{
    Suite *s = suite_create("tr_decode");
    TCase *lit = tcase_create("streams");
    tcase_add_test(lit, abridged_client_stream_both_length_forms);
    tcase_add_test(lit, abridged_server_stream_quick_ack_is_bswapped);
    tcase_add_test(lit, intermediate_streams_both_sides);
    tcase_add_test(lit, padded_streams_keep_padding_and_find_server_acks);
    tcase_add_test(lit, full_stream_checks_crc_and_seq);
    tcase_add_test(lit, frames_borrow_input_when_whole);
    suite_add_tcase(s, lit);
    TCase *rt = tcase_create("roundtrip");
    tcase_add_loop_test(rt, roundtrip_every_transport_and_side, 0, 8);
    suite_add_tcase(s, rt);
    TCase *bad = tcase_create("malformed");
    tcase_add_test(bad, bad_tags);
    tcase_add_test(bad, truncated_streams);
    tcase_add_test(bad, oversized_claims_fail_before_buffering);
    tcase_add_test(bad, empty_frames_and_strict_mode);
    tcase_add_test(bad, full_crc_and_seq_errors);
    tcase_add_test(bad, full_skip_crc_accepts_what_the_checks_refuse);
    tcase_add_test(bad, errors_are_sticky);
    suite_add_tcase(s, bad);
    return s;
}

MTP_TEST_MAIN(tr_decode_suite)
