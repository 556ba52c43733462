/* `mtprobe decode`: the stages put together (decode.h). */
#include "decode/decode.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dec_internal.h"
#include "decode/pcap_in.h"
#include "tlengine/tl_files.h"

static const char *source_dir(void)
{
    const char *s = getenv("MTPROBE_SOURCE_DIR");
    return s && s[0] ? s : MTPROBE_SOURCE_DIR;
}

/* The "LAYER N" a schema file declares in a comment (0 when none), as the mock DC reads it. */
static int32_t schema_layer(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    char line[512];
    int32_t layer = 0;
    while (layer == 0 && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "LAYER");
        if (strncmp(line, "//", 2) != 0 || p == NULL)
            continue;
        p += 5;
        while (*p == ' ' || *p == '=' || *p == ':')
            p++;
        long v = strtol(p, NULL, 10);
        if (v > 0 && v < 100000)
            layer = (int32_t)v;
    }
    fclose(f);
    return layer;
}

/* By default the schemas the mock DC loads: the bundled api.tl and every .tl of mock-server/schemas. */
static int load_schemas(struct dec *d, struct mtp_error *err)
{
    size_t n = 0;
    if (d->o->nloaded) {
        for (size_t i = 0; i < d->o->nloaded && i < MTP_DECODE_MAX_SCHEMAS; i++) {
            d->schemas[i].s = d->o->loaded[i];
            d->schemas[i].layer = d->o->loaded_layers ? d->o->loaded_layers[i] : 0;
            d->schemas[i].borrowed = true;
        }
        d->nschemas = d->o->nloaded < MTP_DECODE_MAX_SCHEMAS ? d->o->nloaded : MTP_DECODE_MAX_SCHEMAS;
        d->newest = &d->schemas[0];
        for (size_t i = 1; i < d->nschemas; i++)
            if (d->schemas[i].layer > d->newest->layer)
                d->newest = &d->schemas[i];
        return MTP_OK;
    }
    if (d->o->nschemas) {
        for (size_t i = 0; i < d->o->nschemas; i++)
            snprintf(d->schemas[n++].path, sizeof d->schemas[0].path, "%s", d->o->schemas[i]);
    } else {
        char dirbuf[4096], dir[4200];
        snprintf(d->schemas[n++].path, sizeof d->schemas[0].path, "%s/api.tl",
                 mtp_tl_schema_dir(dirbuf, sizeof dirbuf));
        snprintf(dir, sizeof dir, "%s/mock-server/schemas", source_dir());
        struct dirent **list = NULL;
        int k = scandir(dir, &list, NULL, alphasort);
        for (int i = 0; i < k; i++) {
            size_t len = strlen(list[i]->d_name);
            if (len > 3 && strcmp(list[i]->d_name + len - 3, ".tl") == 0 && n < MTP_DECODE_MAX_SCHEMAS &&
                strlen(dir) + len + 2 <= sizeof d->schemas[0].path)
                snprintf(d->schemas[n++].path, sizeof d->schemas[0].path, "%s/%s", dir, list[i]->d_name);
            free(list[i]);
        }
        free(list);
    }
    d->nschemas = n;
    d->newest = &d->schemas[0];
    for (size_t i = 0; i < n; i++) {
        d->schemas[i].layer = schema_layer(d->schemas[i].path);
        if (d->schemas[i].layer > d->newest->layer)
            d->newest = &d->schemas[i];
    }
    /* the newest now: it decodes the exchange and every session until its invokeWithLayer, and a
     * --schema that does not load is a usage error; the others when a session asks for their layer */
    return dec_schema_load(d->newest, err);
}

int dec_schema_load(struct dec_schema *sch, struct mtp_error *err)
{
    if (sch->s || sch->failed)
        return sch->s ? MTP_OK : MTP_ERR_SCHEMA_SYNTAX;
    const char *names[2] = {sch->path, "mtproto"};
    int rc = mtp_tl_schema_load(names, 2, &sch->s, err);
    sch->failed = rc < 0;
    return rc;
}

static void cb_open(void *ctx, struct mtp_tcp_conn *c) { dec_conn_open(ctx, c); }
static void cb_data(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_dir dir, uint64_t off, const uint8_t *p, size_t n,
                    int64_t ts)
{
    dec_conn_data(ctx, c, dir, off, p, n, ts);
}
static void cb_gap(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_dir dir, uint64_t off, uint64_t n, int64_t ts)
{
    dec_conn_gap(ctx, c, dir, off, n, ts);
}
static void cb_close(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_end how, int64_t ts)
{
    dec_conn_close(ctx, c, how, ts);
}

static void dec_free(struct dec *d)
{
    mtp_tcp_reasm_free(&d->reasm);
    dec_sessions_free(d);
    dec_keys_free(&d->keys);
    for (size_t i = 0; i < d->nschemas; i++)
        if (d->schemas[i].s && !d->schemas[i].borrowed)
            mtp_tl_schema_free(d->schemas[i].s);
    mtp_wr_free(&d->plain);
    mtp_wr_free(&d->scratch);
    mtp_wr_free(&d->inner);
    mtp_wr_free(&d->line);
    mtp_wr_free(&d->obuf);
    mtp_tl_arena_free(&d->arena);
    json_decref(d->catalogue);
}

static int run(struct mtp_pcap_in *in, const struct mtp_decode_opts *o, struct mtp_decode_stats *st,
               struct mtp_error *err)
{
    struct dec *d = calloc(1, sizeof *d);
    if (d == NULL) {
        mtp_pcap_close(in);
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "out of memory");
    }
    memset(st, 0, sizeof *st);
    d->o = o;
    d->st = st;
    d->out = o->out ? o->out : stdout;
    mtp_wr_init_dyn(&d->plain, (size_t)64 << 20, NULL);
    mtp_wr_init_dyn(&d->scratch, (size_t)64 << 20, NULL);
    mtp_wr_init_dyn(&d->inner, (size_t)64 << 20, NULL);
    mtp_wr_init_dyn(&d->line, (size_t)256 << 20, NULL);
    mtp_wr_init_dyn(&d->obuf, (size_t)256 << 20, NULL);
    mtp_tl_arena_init(&d->arena, 0);
    int rc = MTP_OK;
    for (size_t i = 0; i < o->nkeylogs && rc == MTP_OK; i++)
        rc = dec_keys_load(&d->keys, o->keylogs[i], err);
    if (rc == MTP_OK && o->keylog_text)
        rc = dec_keys_load_mem(&d->keys, o->keylog_text, o->keylog_text_len, err);
    if (rc == MTP_OK)
        rc = load_schemas(d, err);
    if (rc == MTP_OK && o->check) {
        char path[4200];
        snprintf(path, sizeof path, "%s/vectors/cases/requirements.json", source_dir());
        d->catalogue = json_load_file(path, 0, NULL);
    }
    if (rc < 0) {
        mtp_pcap_close(in);
        dec_free(d);
        free(d);
        return rc;
    }
    if (d->keys.bad_lines && o->format != MTP_DECODE_NONE)
        fprintf(stderr, "mtprobe decode: %zu malformed key log lines skipped (first: %s)\n", d->keys.bad_lines,
                d->keys.first_bad);
    struct mtp_tcp_reasm_cb cb = {cb_open, cb_data, cb_gap, cb_close, d};
    mtp_tcp_reasm_init(&d->reasm, &cb, NULL);
    struct mtp_tcp_seg seg;
    while (mtp_pcap_next(in, &seg) == 1) {
        if (!d->t0_set) {
            d->t0_ns = seg.ts_ns;
            d->t0_set = true;
        }
        st->segments++;
        mtp_tcp_reasm_add(&d->reasm, &seg);
    }
    mtp_tcp_reasm_finish(&d->reasm, in->last_ns);
    st->packets = in->packets;
    st->truncated = in->trailer[0] != '\0';
    if (st->truncated) {
        json_t *f = json_object();
        json_object_set_new(f, "text", json_string(in->trailer));
        json_object_set_new(f, "packets_read", json_integer((json_int_t)in->packets));
        dec_out_event(d, NULL, "capture_damaged", in->last_ns, f);
    }
    uint64_t skipped = 0;
    for (int i = 0; i < MTP_PCAP_SKIP_COUNT; i++)
        if (i != MTP_PCAP_SKIP_NOT_IP && i != MTP_PCAP_SKIP_NOT_TCP)
            skipped += in->skipped[i];
    if (skipped) {
        json_t *f = json_object();
        for (int i = 0; i < MTP_PCAP_SKIP_COUNT; i++)
            if (in->skipped[i])
                json_object_set_new(f, mtp_pcap_skip_name((enum mtp_pcap_skip)i),
                                    json_integer((json_int_t)in->skipped[i]));
        dec_out_event(d, NULL, "packets_skipped", in->last_ns, f);
    }
    dec_out_totals(d);
    dec_out_flush(d);
    fflush(d->out);
    mtp_pcap_close(in);
    dec_free(d);
    free(d);
    return MTP_OK;
}

int mtp_decode_file(const char *path, const struct mtp_decode_opts *o, struct mtp_decode_stats *st,
                    struct mtp_error *err)
{
    struct mtp_pcap_in in;
    MTP_GUARD(mtp_pcap_open(&in, path, err));
    return run(&in, o, st, err);
}

int mtp_decode_stream(FILE *f, const struct mtp_decode_opts *o, struct mtp_decode_stats *st, struct mtp_error *err)
{
    struct mtp_pcap_in in;
    MTP_GUARD(mtp_pcap_open_stream(&in, f, err));
    return run(&in, o, st, err);
}
