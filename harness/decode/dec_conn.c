/* The decoder's transport stage: per connection, detection (the client's
 * first bytes), obfuscation (keys from the key log, or derived from the init
 * with or without --secret), framing in both directions, and finding frame
 * boundaries again after a gap or a mid-connection start. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "decode/dec_internal.h"

/* Resynchronisation: the bytes looked at for a frame boundary before the
 * oldest are given up, and the largest frame believed (real MTProto frames
 * stay far below). */
#define RESYNC_WINDOW ((size_t)256 << 10)
#define RESYNC_MAX_FRAME ((size_t)2 << 20)
/* Bytes kept while the transport is not known yet. */
#define WAIT_MAX ((size_t)1 << 20)

void dec_problem(struct dec_conn *c, const char *fmt, ...)
{
    if (c->nproblems == DEC_MAX_PROBLEMS) {
        c->more_problems++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->problems[c->nproblems++], sizeof c->problems[0], fmt, ap);
    va_end(ap);
}

const char *dec_conn_transport(const struct dec_conn *c, char *buf, size_t cap)
{
    (void)buf, (void)cap;
    return c->detected ? c->transport : "unknown";
}

/* The transport is known from here on. */
static void known(struct dec_conn *c)
{
    c->detected = true;
    snprintf(c->transport, sizeof c->transport, "%s%s", c->obfuscated ? "obfuscated-" : "", mtp_tr_kind_name(c->kind));
}

static const char *dir_name(enum mtp_tcp_dir dir) { return dir == MTP_TCP_C2S ? "c2s" : "s2c"; }

/* Something about the transport, in the output and the summary. */
static void note(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, int64_t ts, uint64_t off, const char *ev,
                 const char *fmt, ...) MTP_PRINTF(7, 8);
static void note(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, int64_t ts, uint64_t off, const char *ev,
                 const char *fmt, ...)
{
    char text[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    dec_problem(c, "%s at %" PRIu64 ": %s: %s", dir_name(dir), off, ev, text);
    json_t *o = json_object();
    json_object_set_new(o, "dir", json_string(dir_name(dir)));
    json_object_set_new(o, "offset", json_integer((json_int_t)off));
    json_object_set_new(o, "text", json_string(text));
    dec_out_event(d, c, ev, ts, o);
}

void dec_conn_open(struct dec *d, struct mtp_tcp_conn *tc)
{
    struct dec_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    tc->user = c;
    c->tcp = tc;
    c->id = tc->id;
    c->skip = d->o->connection && d->o->connection != c->id;
    c->first_ns = c->last_ns = tc->first_ns;
    mtp_tr_detector_init(&c->det);
    for (int i = 0; i < 2; i++)
        mtp_wr_init_dyn(&c->d[i].rs, RESYNC_WINDOW + RESYNC_MAX_FRAME + WAIT_MAX, NULL);
    d->st->connections++;
    if (c->skip)
        return;
    json_t *o = json_object();
    char a[MTP_TCP_ADDR_TEXT_MAX], b[MTP_TCP_ADDR_TEXT_MAX];
    json_object_set_new(o, "client", json_string(mtp_tcp_addr_text(&tc->ep[0], a, sizeof a)));
    json_object_set_new(o, "server", json_string(mtp_tcp_addr_text(&tc->ep[1], b, sizeof b)));
    if (!tc->roles_from_syn)
        json_object_set_new(o, "mid_connection", json_true());
    dec_out_event(d, c, "open", tc->first_ns, o);
}

/* ---- obfuscation ---- */

/* Deobfuscates p in place: the direction's keystream is moved to the bytes'
 * stream offset first (past a gap). */
static bool deobfuscate(struct dec_conn *c, enum mtp_tcp_dir dir, uint64_t off, uint8_t *p, size_t n)
{
    struct dec_dir *dd = &c->d[dir];
    bool rx = dir == MTP_TCP_C2S; /* the decoder holds the server's end: rx is what the client sent */
    if (off > dd->ks_off && mtp_obfs_skip(&c->obfs, rx, off - dd->ks_off) < 0)
        return false;
    dd->ks_off = off + n;
    return (rx ? mtp_obfs_decrypt(&c->obfs, p, n) : mtp_obfs_encrypt(&c->obfs, p, n)) == MTP_OK;
}

/* ---- frames ---- */

static void start_decoder(struct dec_conn *c, enum mtp_tcp_dir dir, uint64_t base, uint32_t full_seq)
{
    struct dec_dir *dd = &c->d[dir];
    if (dd->dec_init)
        mtp_tr_decoder_free(&dd->dec);
    struct mtp_tr_opts o = {.no_tag = true};
    mtp_tr_decoder_init(&dd->dec, c->kind, dir == MTP_TCP_C2S ? MTP_TR_CLIENT : MTP_TR_SERVER, &o);
    dd->dec.seq = full_seq;
    dd->dec_init = true;
    dd->dec_base = base;
    dd->state = DEC_DIR_FRAMES;
}

static void resync_from(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, uint64_t off);
static void release_s2c(struct dec *d, struct dec_conn *c, int64_t ts);
static void resync_add(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, const uint8_t *p, size_t n,
                       uint64_t off, int64_t ts);

/* Frames from deobfuscated bytes at stream offset off. */
static void frames(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, const uint8_t *p, size_t n, uint64_t off,
                   int64_t ts)
{
    struct dec_dir *dd = &c->d[dir];
    enum mtp_tr_side from = dir == MTP_TCP_C2S ? MTP_TR_CLIENT : MTP_TR_SERVER;
    while (n > 0 && dd->state == DEC_DIR_FRAMES) {
        struct mtp_tr_frame f;
        struct mtp_error err;
        mtp_error_clear(&err);
        size_t used = n;
        int rc = mtp_tr_decode(&dd->dec, p, &used, &f, &err);
        p += used;
        n -= used;
        off += used;
        if (rc == MTP_ERR_NEED_MORE)
            return;
        if (rc < 0) {
            note(d, c, dir, ts, dd->dec_base + dd->dec.frame_offset, "transport_error_in_stream", "%s: %s",
                 mtp_err_name(rc), err.msg);
            /* what follows the broken frame may still hold frames */
            resync_from(d, c, dir, off);
            resync_add(d, c, dir, p, n, off, ts);
            return;
        }
        d->st->frames++;
        struct mtp_tr_packet pk;
        mtp_error_clear(&err);
        rc = mtp_tr_sort_packet(c->kind, from, &f, &pk, &err);
        if (rc < 0) {
            note(d, c, dir, ts, dd->dec_base + f.offset, "bad_frame", "%s: %s", mtp_err_name(rc), err.msg);
            continue;
        }
        dec_packet(d, c, dir, &pk, ts, dd->dec_base + f.offset);
    }
}

/* ---- resynchronisation ----
 *
 * After a gap (or without the start of a stream) the next frame boundary is
 * unknown.  Each position is tried as the start of a frame of the transport
 * (of every transport while it is not known): the header must announce a
 * believable length and the packet inside must be real - under a logged key
 * with a msg_key that checks out, or a well-formed unencrypted message (see
 * dec_packet_plausible).  Random bytes pass that test essentially never. */

static const enum mtp_tr_kind all_kinds[] = {MTP_TR_INTERMEDIATE, MTP_TR_PADDED, MTP_TR_ABRIDGED, MTP_TR_FULL};

/* Header of kind at p: *hl header bytes, *plen payload bytes, *tl trailer bytes.
 * 0 when it is no frame header, -1 when more bytes are needed, 1 otherwise. */
static int frame_header(enum mtp_tr_kind kind, enum mtp_tcp_dir dir, const uint8_t *p, size_t len, size_t *hl,
                        size_t *plen, size_t *tl, uint32_t *seq)
{
    struct mtp_rd r;
    mtp_rd_init(&r, p, len, NULL);
    *tl = 0;
    *seq = 0;
    switch (kind) {
    case MTP_TR_ABRIDGED: {
        uint8_t b;
        if (mtp_rd_u8(&r, &b, "len") < 0)
            return -1;
        if (dir == MTP_TCP_S2C && (b & 0x80))
            return 0; /* a quick ack: nothing to resynchronise on */
        uint32_t words = b & 0x7f;
        if (words == 0x7f && mtp_rd_u24(&r, &words, "len") < 0)
            return -1;
        *hl = r.pos;
        *plen = (size_t)words * 4;
        return 1;
    }
    case MTP_TR_INTERMEDIATE:
    case MTP_TR_PADDED: {
        uint32_t v;
        if (mtp_rd_u32(&r, &v, "len") < 0)
            return -1;
        if (dir == MTP_TCP_C2S)
            v &= ~MTP_TR_QUICK_ACK_BIT;
        *hl = 4;
        *plen = v;
        return 1;
    }
    case MTP_TR_FULL: {
        uint32_t v;
        if (mtp_rd_u32(&r, &v, "len") < 0 || mtp_rd_u32(&r, seq, "seq") < 0)
            return -1;
        if (v < 12)
            return 0;
        *hl = 8;
        *plen = v - 12;
        *tl = 4;
        return 1;
    }
    }
    return 0;
}

/* Whether a frame of kind starts at p: 1, 0 or -1 (need more bytes). */
static int frame_at(struct dec *d, enum mtp_tr_kind kind, enum mtp_tcp_dir dir, const uint8_t *p, size_t len,
                    int64_t ts, uint32_t *seq)
{
    size_t hl, plen, tl;
    int rc = frame_header(kind, dir, p, len, &hl, &plen, &tl, seq);
    if (rc <= 0)
        return rc;
    if (plen < 24 || plen > RESYNC_MAX_FRAME)
        return 0;
    size_t have = len - hl;
    rc = dec_packet_plausible(d, dir, p + hl, have < plen ? have : plen, plen, ts);
    if (rc <= 0)
        return rc;
    if (kind == MTP_TR_FULL) {
        if (have < plen + tl)
            return -1;
        uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)(hl + plen));
        if (crc != mtp_load_u32(p + hl + plen))
            return 0;
    }
    return 1;
}

static void resync_from(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, uint64_t off)
{
    (void)d;
    struct dec_dir *dd = &c->d[dir];
    /* framing was lost (not merely never found): say so when it is found again */
    dd->broken |= dd->state == DEC_DIR_FRAMES;
    dd->state = DEC_DIR_RESYNC;
    mtp_wr_reset(&dd->rs);
    dd->rs_off = off;
}

static void resync_scan(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, int64_t ts)
{
    struct dec_dir *dd = &c->d[dir];
    size_t pos = 0;
    bool wait = false;
    while (pos < dd->rs.len && !wait) {
        const uint8_t *p = dd->rs.p + pos;
        size_t left = dd->rs.len - pos;
        size_t nk = c->detected ? 1 : sizeof all_kinds / sizeof all_kinds[0];
        for (size_t k = 0; k < nk; k++) {
            enum mtp_tr_kind kind = c->detected ? c->kind : all_kinds[k];
            uint32_t seq;
            int rc = frame_at(d, kind, dir, p, left, ts, &seq);
            if (rc < 0) {
                wait = true;
                break;
            }
            if (rc == 0)
                continue;
            uint64_t at = dd->rs_off + pos;
            if (!c->detected) {
                c->kind = kind;
                known(c);
                note(d, c, dir, ts, at, "transport_guessed", "%s, from a frame found without the stream's start",
                     mtp_tr_kind_name(kind));
            }
            if (pos > 0 || dd->skipped_run > 0 || dd->broken) {
                c->resyncs++;
                d->st->resyncs++;
                note(d, c, dir, ts, at, "resync", "frames again after %s and %" PRIu64 " bytes that could not be framed",
                     dd->broken ? "a gap or a broken frame" : "the stream's start", dd->skipped_run + pos);
            }
            dd->broken = false;
            dd->skipped += pos;
            dd->skipped_run = 0;
            start_decoder(c, dir, at, seq);
            /* the window's bytes are decrypted already: hand them over */
            struct mtp_wr w = dd->rs;
            mtp_wr_init_dyn(&dd->rs, RESYNC_WINDOW + RESYNC_MAX_FRAME + WAIT_MAX, NULL);
            frames(d, c, dir, w.p + pos, w.len - pos, at, ts);
            mtp_wr_free(&w);
            /* the other direction may have been waiting for the transport */
            enum mtp_tcp_dir o = (enum mtp_tcp_dir)!dir;
            if (c->d[o].state == DEC_DIR_RESYNC && c->d[o].rs.len > 0)
                resync_scan(d, c, o, ts);
            else if (o == MTP_TCP_S2C && c->d[o].state == DEC_DIR_WAIT)
                release_s2c(d, c, ts);
            return;
        }
        if (!wait)
            pos++;
    }
    if (pos > 0) {
        dd->skipped += pos;
        dd->skipped_run += pos;
        memmove(dd->rs.p, dd->rs.p + pos, dd->rs.len - pos);
        dd->rs.len -= pos;
        dd->rs_off += pos;
    }
    /* A believable header that never completes must not hold everything up. */
    if (dd->rs.len > RESYNC_WINDOW + RESYNC_MAX_FRAME) {
        size_t drop = dd->rs.len - RESYNC_WINDOW;
        dd->skipped += drop;
        dd->skipped_run += drop;
        memmove(dd->rs.p, dd->rs.p + drop, dd->rs.len - drop);
        dd->rs.len -= drop;
        dd->rs_off += drop;
    }
}

static void resync_add(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, const uint8_t *p, size_t n,
                       uint64_t off, int64_t ts)
{
    struct dec_dir *dd = &c->d[dir];
    if (n == 0)
        return;
    if (dd->rs.len == 0)
        dd->rs_off = off;
    if (mtp_wr_raw(&dd->rs, p, n) < 0) {
        mtp_wr_reset(&dd->rs);
        dd->rs_off = off + n;
        return;
    }
    resync_scan(d, c, dir, ts);
}

/* ---- detection ---- */

static void input(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, const uint8_t *p, size_t n, uint64_t off,
                  int64_t ts);

static void kill(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, int64_t ts, uint64_t off, const char *why)
{
    note(d, c, dir, ts, off, "undecodable", "%s", why);
    c->dead = true;
    c->d[0].state = c->d[1].state = DEC_DIR_DEAD;
}

/* The server's bytes that arrived before the transport was known. */
static void release_s2c(struct dec *d, struct dec_conn *c, int64_t ts)
{
    struct dec_dir *dd = &c->d[MTP_TCP_S2C];
    if (dd->state != DEC_DIR_WAIT)
        return;
    struct mtp_wr w = dd->rs;
    uint64_t off = dd->rs_off;
    mtp_wr_init_dyn(&dd->rs, RESYNC_WINDOW + RESYNC_MAX_FRAME + WAIT_MAX, NULL);
    /* The server speaks only after the client: from the client's first byte
     * on, the server's first byte seen is its first byte sent. */
    if (c->d[MTP_TCP_C2S].state == DEC_DIR_FRAMES && c->tcp->s[MTP_TCP_C2S].from_syn && !dd->lost_start)
        start_decoder(c, MTP_TCP_S2C, off, 0);
    else
        resync_from(d, c, MTP_TCP_S2C, off);
    input(d, c, MTP_TCP_S2C, w.p, w.len, off, ts);
    mtp_wr_free(&w);
}

static bool obfs_setup(struct dec *d, struct dec_conn *c, const uint8_t *init, struct mtp_error *err)
{
    const struct dec_obfs_line *line = dec_keys_obfs(&d->keys, init);
    int rc;
    if (line) {
        rc = mtp_obfs_from_keys(&c->obfs, init, &line->keys, err);
        c->obfs_keys_logged = rc == MTP_OK;
    } else {
        rc = mtp_obfs_server_init(&c->obfs, init, &d->o->secret, NULL, err);
        /* a capture may hold connections with and without the proxy's secret */
        if (rc == MTP_ERR_OBFS_BAD_TAG && d->o->secret.mode != MTP_OBFS_SECRET_NONE) {
            mtp_error_clear(err);
            rc = mtp_obfs_server_init(&c->obfs, init, NULL, NULL, err);
            c->obfs_no_secret = rc == MTP_OK;
        }
    }
    if (rc < 0)
        return false;
    c->obfuscated = true;
    c->kind = c->obfs.kind;
    c->dc = c->obfs.dc;
    c->d[MTP_TCP_C2S].ks_off = MTP_OBFS_INIT_LEN;
    return true;
}

/* The client's first bytes: the tag, the obfuscated init, or full's first frame. */
static void detect(struct dec *d, struct dec_conn *c, const uint8_t *p, size_t n, uint64_t off, int64_t ts)
{
    struct mtp_tr_detection det;
    struct mtp_error err;
    mtp_error_clear(&err);
    size_t used = n;
    int rc = mtp_tr_detect(&c->det, p, &used, &det, &err);
    if (rc == MTP_ERR_NEED_MORE)
        return;
    if (rc < 0) {
        kill(d, c, MTP_TCP_C2S, ts, off, err.msg);
        return;
    }
    p += used;
    n -= used;
    off += used;
    if (det.envelope == MTP_TR_ENV_HTTP || det.envelope == MTP_TR_ENV_TLS) {
        kill(d, c, MTP_TCP_C2S, ts, 0,
             det.envelope == MTP_TR_ENV_HTTP ? "HTTP: not a TCP transport of MTProto"
                                             : "a TLS ClientHello (MTProxy fake-TLS): not decoded");
        return;
    }
    if (det.envelope == MTP_TR_ENV_OBFS2 && !obfs_setup(d, c, det.init, &err)) {
        char why[512];
        snprintf(why, sizeof why,
                 "obfuscated2 with keys this decoder does not have (%s): an MTProxy secret? give --secret HEX, or "
                 "the key log with the connection's OBFS2 line",
                 err.msg);
        kill(d, c, MTP_TCP_C2S, ts, 0, why);
        return;
    }
    if (det.envelope == MTP_TR_ENV_PLAIN)
        c->kind = det.kind;
    known(c);
    char tr[40];
    json_t *o = json_object();
    json_object_set_new(o, "transport", json_string(dec_conn_transport(c, tr, sizeof tr)));
    json_object_set_new(o, "obfuscated", json_boolean(c->obfuscated));
    if (c->obfuscated) {
        json_object_set_new(o, "dc_field", json_integer(c->dc));
        json_object_set_new(o, "keys", json_string(c->obfs_keys_logged                       ? "key log"
                                                   : d->o->secret.mode && !c->obfs_no_secret ? "--secret"
                                                                                             : "from the init"));
    }
    dec_out_event(d, c, "transport", ts, o);
    if (d->o->check)
        dec_check_transport(d, c, det.envelope == MTP_TR_ENV_OBFS2 ? det.init : NULL, ts);
    start_decoder(c, MTP_TCP_C2S, det.header_len, 0);
    if (det.replay_len) {
        /* full: the detector took the first frame's first bytes (plain: never obfuscated) */
        uint8_t replay[64];
        memcpy(replay, det.replay, det.replay_len);
        frames(d, c, MTP_TCP_C2S, replay, det.replay_len, off - det.replay_len, ts);
    }
    release_s2c(d, c, ts);
    input(d, c, MTP_TCP_C2S, p, n, off, ts);
}

/* A stream seen without its SYN: its first bytes are the stream's start only
 * if they look like it (a logged obfuscated init, or a tag). */
static bool looks_like_start(const struct dec *d, const uint8_t *p, size_t n)
{
    if (n >= 1 && p[0] == 0xef)
        return true;
    if (n >= 4 && (mtp_load_u32(p) == 0xeeeeeeeeu || mtp_load_u32(p) == 0xddddddddu))
        return true;
    return n >= MTP_OBFS_INIT_LEN && dec_keys_obfs(&d->keys, p) != NULL;
}

static void input(struct dec *d, struct dec_conn *c, enum mtp_tcp_dir dir, const uint8_t *p, size_t n, uint64_t off,
                  int64_t ts)
{
    struct dec_dir *dd = &c->d[dir];
    if (n == 0)
        return;
    switch (dd->state) {
    case DEC_DIR_WAIT:
        if (dir == MTP_TCP_S2C && c->tcp->s[MTP_TCP_C2S].started && !c->tcp->s[MTP_TCP_C2S].from_syn) {
            /* the client's start is not in the capture either: look for frames here too */
            resync_from(d, c, dir, off);
            resync_add(d, c, dir, p, n, off, ts);
            return;
        }
        if (dir == MTP_TCP_S2C || !c->tcp->s[MTP_TCP_C2S].from_syn) {
            if (dd->rs.len == 0)
                dd->rs_off = off;
            if (dd->rs.len + n > WAIT_MAX || mtp_wr_raw(&dd->rs, p, n) < 0) {
                mtp_wr_reset(&dd->rs);
                dd->rs_off = off + n;
                dd->lost_start = true;
                return;
            }
            if (dir == MTP_TCP_S2C || dd->rs.len < MTP_OBFS_INIT_LEN)
                return;
            /* the client's stream without its SYN: decide once 64 bytes are in */
            struct mtp_wr w = dd->rs;
            uint64_t at = dd->rs_off;
            mtp_wr_init_dyn(&dd->rs, RESYNC_WINDOW + RESYNC_MAX_FRAME + WAIT_MAX, NULL);
            if (at == 0 && looks_like_start(d, w.p, w.len)) {
                dd->state = DEC_DIR_DETECT;
                detect(d, c, w.p, w.len, at, ts);
            } else {
                resync_from(d, c, dir, at);
                resync_add(d, c, dir, w.p, w.len, at, ts);
            }
            mtp_wr_free(&w);
            return;
        }
        dd->state = DEC_DIR_DETECT;
        detect(d, c, p, n, off, ts);
        return;
    case DEC_DIR_DETECT:
        detect(d, c, p, n, off, ts);
        return;
    case DEC_DIR_FRAMES:
    case DEC_DIR_RESYNC: {
        const uint8_t *q = p;
        if (c->obfuscated) {
            uint8_t *s;
            mtp_wr_reset(&d->scratch);
            if (mtp_wr_reserve(&d->scratch, n, &s) < 0 || (memcpy(s, p, n), !deobfuscate(c, dir, off, s, n))) {
                kill(d, c, dir, ts, off, "obfuscation failed");
                return;
            }
            q = s;
        }
        if (dd->state == DEC_DIR_FRAMES)
            frames(d, c, dir, q, n, off, ts);
        else
            resync_add(d, c, dir, q, n, off, ts);
        return;
    }
    case DEC_DIR_DEAD:
        return;
    }
}

void dec_conn_data(struct dec *d, struct mtp_tcp_conn *tc, enum mtp_tcp_dir dir, uint64_t off, const uint8_t *p,
                   size_t n, int64_t ts)
{
    struct dec_conn *c = tc->user;
    if (c == NULL || c->skip || d->o->stop_after == 1)
        return;
    c->last_ns = ts;
    input(d, c, dir, p, n, off, ts);
}

void dec_conn_gap(struct dec *d, struct mtp_tcp_conn *tc, enum mtp_tcp_dir dir, uint64_t off, uint64_t n, int64_t ts)
{
    struct dec_conn *c = tc->user;
    d->st->gaps++;
    d->st->bytes_lost += n;
    if (c == NULL || c->skip)
        return;
    c->gaps++;
    c->lost += n;
    struct dec_dir *dd = &c->d[dir];
    json_t *o = json_object();
    json_object_set_new(o, "dir", json_string(dir_name(dir)));
    json_object_set_new(o, "offset", json_integer((json_int_t)off));
    json_object_set_new(o, "bytes", json_integer((json_int_t)n));
    dec_out_event(d, c, "gap", ts, o);
    dec_problem(c, "%s at %" PRIu64 ": %" PRIu64 " bytes not captured", dir_name(dir), off, n);
    switch (dd->state) {
    case DEC_DIR_WAIT:
        if (dir == MTP_TCP_S2C) {
            mtp_wr_reset(&dd->rs);
            dd->rs_off = off + n;
            dd->lost_start = true;
            return;
        }
        /* the client's first bytes are gone: the transport must be guessed from frames */
        resync_from(d, c, dir, off + n);
        return;
    case DEC_DIR_DETECT:
        if (c->detected)
            break;
        resync_from(d, c, dir, off + n);
        return;
    case DEC_DIR_FRAMES:
    case DEC_DIR_RESYNC:
        break;
    case DEC_DIR_DEAD:
        return;
    }
    /* the keystream (obfuscated) moves on by itself at the next bytes: see deobfuscate */
    resync_from(d, c, dir, off + n);
}

void dec_conn_close(struct dec *d, struct mtp_tcp_conn *tc, enum mtp_tcp_end how, int64_t ts)
{
    struct dec_conn *c = tc->user;
    if (c == NULL)
        return;
    c->end = mtp_tcp_end_name(how);
    c->last_ns = ts > c->last_ns ? ts : c->last_ns;
    if (!c->skip) {
        for (int i = 0; i < 2; i++) {
            struct dec_dir *dd = &c->d[i];
            struct mtp_error err;
            mtp_error_clear(&err);
            if (dd->state == DEC_DIR_FRAMES && mtp_tr_decoder_finish(&dd->dec, &err) < 0)
                dec_problem(c, "%s: the stream ends inside a frame (%s)", dir_name((enum mtp_tcp_dir)i), err.msg);
            if (dd->state == DEC_DIR_RESYNC && dd->rs.len + dd->skipped_run > 0)
                dec_problem(c, "%s: %" PRIu64 " bytes at the end could not be framed", dir_name((enum mtp_tcp_dir)i),
                            (uint64_t)dd->rs.len + dd->skipped_run);
            if (i == MTP_TCP_C2S && (dd->state == DEC_DIR_WAIT || dd->state == DEC_DIR_DETECT) &&
                tc->s[i].delivered > 0)
                dec_problem(c, "c2s: the connection ended before its transport could be told (%" PRIu64 " bytes)",
                            tc->s[i].delivered);
        }
        json_t *o = json_object();
        json_object_set_new(o, "how", json_string(c->end));
        json_object_set_new(o, "bytes_c2s", json_integer((json_int_t)tc->s[0].delivered));
        json_object_set_new(o, "bytes_s2c", json_integer((json_int_t)tc->s[1].delivered));
        dec_out_event(d, c, "close", ts, o);
        if (d->o->summary)
            dec_out_summary(d, c);
    }
    for (int i = 0; i < 2; i++) {
        if (c->d[i].dec_init)
            mtp_tr_decoder_free(&c->d[i].dec);
        mtp_wr_free(&c->d[i].rs);
    }
    mtp_obfs_free(&c->obfs);
    mtp_wipe(&c->ex, sizeof c->ex);
    free(c);
    tc->user = NULL;
}
