/* Transport decode throughput against a memcpy ceiling.  The stream is built
 * once with the encoders; every repetition decodes all of it through a fresh
 * decoder, in recv()-sized pieces. */
#include "bench/bench_transport.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mtp/obfs.h"
#include "mtp/transport.h"

#define FRAME 1024
#define FRAMES 4096 /* 4 MiB of payload per pass */
#define PIECE 16384
#define REPETITIONS 5

struct stream {
    uint8_t *wire;      /* as sent: tag or obfuscated init, then frames */
    uint8_t *scratch;   /* where a pass copies and decrypts obfuscated bytes */
    size_t len;
    enum mtp_tr_kind kind;
    bool obfuscated;
    uint8_t init[MTP_OBFS_INIT_LEN];
};

static int build(struct stream *s, enum mtp_tr_kind kind, bool obfuscated)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->obfuscated = obfuscated;
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, (size_t)FRAMES * (FRAME + 8) + 64, NULL);
    uint8_t payload[FRAME];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 29 + 3);
    struct mtp_obfs o;
    memset(&o, 0, sizeof o);
    int rc = MTP_OK;
    if (obfuscated) {
        for (size_t i = 0; i < sizeof s->init; i++)
            s->init[i] = (uint8_t)(i + 0x40);
        mtp_store_u32(s->init + 56, mtp_tr_obfs_tag(kind));
        uint8_t wire[MTP_OBFS_INIT_LEN];
        MTP_TRY(mtp_obfs_client_init(&o, s->init, NULL, wire, NULL, NULL));
        MTP_TRY(mtp_wr_raw(&w, wire, sizeof wire));
    }
    struct mtp_tr_encoder e;
    mtp_tr_encoder_init(&e, kind, MTP_TR_CLIENT, !obfuscated, NULL);
    for (size_t i = 0; i < FRAMES; i++) {
        size_t mark = w.len;
        struct mtp_tr_send m = {.data = payload, .len = sizeof payload};
        MTP_TRY(mtp_tr_encode(&e, &m, &w, NULL));
        if (obfuscated)
            MTP_TRY(mtp_obfs_encrypt(&o, w.p + mark, w.len - mark));
    }
    s->scratch = malloc(w.len);
    if (s->scratch == NULL) {
        rc = MTP_ERR_NOMEM;
        goto out;
    }
    s->wire = mtp_wr_take(&w, &s->len);
out:
    mtp_obfs_free(&o);
    mtp_wr_free(&w);
    return rc;
}

static void release(struct stream *s)
{
    free(s->wire);
    free(s->scratch);
    memset(s, 0, sizeof *s);
}

/* One pass: what a server does with the connection's bytes.  Obfuscated
 * bytes are copied out first (standing in for recv() into a buffer that can
 * be decrypted in place); plain ones are decoded where they lie. */
static int decode_pass(struct stream *s, size_t *frames)
{
    struct mtp_obfs o;
    memset(&o, 0, sizeof o);
    size_t at = 0;
    int rc = MTP_OK;
    if (s->obfuscated) {
        MTP_TRY(mtp_obfs_server_init(&o, s->wire, NULL, NULL, NULL));
        at = MTP_OBFS_INIT_LEN;
    }
    struct mtp_tr_opts opts = {.no_tag = s->obfuscated};
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, s->kind, MTP_TR_CLIENT, &opts);
    while (at < s->len && rc == MTP_OK) {
        size_t piece = s->len - at < PIECE ? s->len - at : PIECE;
        const uint8_t *p = s->wire + at;
        if (s->obfuscated) {
            memcpy(s->scratch + at, p, piece);
            if ((rc = mtp_obfs_decrypt(&o, s->scratch + at, piece)) < 0)
                break;
            p = s->scratch + at;
        }
        at += piece;
        while (piece > 0) {
            struct mtp_tr_frame f;
            size_t n = piece;
            rc = mtp_tr_decode(&d, p, &n, &f, NULL);
            p += n;
            piece -= n;
            if (rc == MTP_OK)
                (*frames)++;
            else if (rc != MTP_ERR_NEED_MORE)
                break;
        }
        if (rc == MTP_ERR_NEED_MORE)
            rc = MTP_OK;
    }
    mtp_tr_decoder_free(&d);
out:
    mtp_obfs_free(&o);
    return rc;
}

/* The same bytes moved in the same pieces, and nothing else. */
static int copy_pass(struct stream *s, size_t *frames)
{
    for (size_t at = 0; at < s->len; at += PIECE)
        memcpy(s->scratch + at, s->wire + at, s->len - at < PIECE ? s->len - at : PIECE);
    *frames += FRAMES;
    return MTP_OK;
}

/* Best MB/s of REPETITIONS runs of at least `seconds` each. */
static int throughput(int (*pass)(struct stream *, size_t *), struct stream *s, double seconds, double *best)
{
    *best = 0;
    for (int rep = 0; rep < REPETITIONS; rep++) {
        size_t passes = 0, frames = 0;
        double t0 = mtp_bench_now_s(), dt;
        do {
            MTP_GUARD(pass(s, &frames));
            passes++;
            dt = mtp_bench_now_s() - t0;
        } while (dt < seconds);
        if (frames != passes * FRAMES)
            return MTP_ERR_INTERNAL;
        double mbs = (double)s->len * (double)passes / dt / 1e6;
        if (mbs > *best)
            *best = mbs;
    }
    return MTP_OK;
}

int mtp_bench_transport(const struct mtp_bench_sink *sink)
{
    static const struct {
        const char *name;
        enum mtp_tr_kind kind;
        bool obfuscated;
    } cases[] = {
        {"transport_decode_abridged_1k", MTP_TR_ABRIDGED, false},
        {"transport_decode_intermediate_1k", MTP_TR_INTERMEDIATE, false},
        {"transport_decode_obfs_intermediate_1k", MTP_TR_INTERMEDIATE, true},
    };
    double seconds = sink->min_seconds > 0 ? sink->min_seconds : 0.2;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct stream s;
        int rc = build(&s, cases[i].kind, cases[i].obfuscated);
        double value = 0, ceiling = 0;
        if (rc == MTP_OK)
            rc = throughput(copy_pass, &s, seconds, &ceiling);
        if (rc == MTP_OK)
            rc = throughput(decode_pass, &s, seconds, &value);
        release(&s);
        if (rc < 0)
            return rc;
        sink->record(sink->ctx, cases[i].name, value, "MB/s", ceiling);
    }
    return MTP_OK;
}
