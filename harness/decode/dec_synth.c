/* Captures of real sessions made in memory (dec_synth.h). */
#include "decode/dec_synth.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "decode/pcap_out.h"
#include "mtp/rsa.h"
#include "mtps_client.h"
#include "mtps_conn.h"
#include "tlengine/tl_files.h"
#include "tlengine/tl_json.h"

#define T0_MS 1700000000000ll
#define MAX_KEYS 32

static const struct {
    int kind;
    bool obfuscated;
} transports[] = {
    {MTP_TR_ABRIDGED, false},    {MTP_TR_INTERMEDIATE, false}, {MTP_TR_PADDED, false}, {MTP_TR_FULL, false},
    {MTP_TR_ABRIDGED, true},     {MTP_TR_INTERMEDIATE, true},  {MTP_TR_PADDED, true},
};
#define NTRANSPORTS (sizeof transports / sizeof transports[0])

struct sconn {
    bool used;
    struct mtps_client cl;
    struct mtps_conn c;
    struct mtp_pcap_flow flow;
    struct mtp_det_state cds;
    unsigned pings, calls, answers_before;
    bool fresh;
};

struct synth {
    const struct mtp_synth_opts *o;
    struct mtp_synth_stats *st;
    struct mtp_det_state sds;
    struct mtp_env senv;
    struct mtp_rsa_key *rsa;
    struct mtps_scenario scen;
    struct mtps_server srv;
    bool srv_up;
    struct mtp_pcap_out out;
    struct mtp_auth_result keys[MAX_KEYS];
    size_t nkeys;
    uint8_t *query[2];
    size_t query_len[2];
    int64_t ns;  /* the capture clock: the server's, plus a step per packet */
};

static int64_t tick(struct synth *s)
{
    s->ns += 20000; /* 20 us a step */
    s->sds.now_ms = s->ns / 1000000;
    return s->ns;
}

/* The two API calls a session makes, wrapped as clients send them. */
static int make_queries(struct synth *s, struct mtp_error *err)
{
    static const char *calls[2] = {"help.getConfig", "help.getNearestDc"};
    const char *names[1] = {"api"};
    struct mtp_tl_schema *api;
    MTP_GUARD(mtp_tl_schema_load(names, 1, &api, err));
    int rc = MTP_OK;
    for (int i = 0; i < 2 && rc == MTP_OK; i++) {
        char js[512];
        snprintf(js, sizeof js,
                 "{\"_\":\"invokeWithLayer\",\"layer\":198,\"query\":{\"_\":\"initConnection\",\"api_id\":1,"
                 "\"device_model\":\"synth\",\"system_version\":\"1\",\"app_version\":\"1\",\"system_lang_code\":\"en\","
                 "\"lang_pack\":\"\",\"lang_code\":\"en\",\"query\":{\"_\":\"%s\"}}}",
                 calls[i]);
        json_t *j = json_loads(js, 0, NULL);
        struct mtp_wr w;
        mtp_wr_init_dyn(&w, 4096, err);
        rc = j ? mtp_tl_json_encode(api, NULL, j, &w, err) : MTP_ERR_INTERNAL;
        json_decref(j);
        if (rc == MTP_OK)
            s->query[i] = mtp_wr_take(&w, &s->query_len[i]);
        mtp_wr_free(&w);
    }
    mtp_tl_schema_free(api);
    return rc;
}

static int setup(struct synth *s, struct mtp_error *err)
{
    char path[4200];
    const char *src = getenv("MTPROBE_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/vectors/rsa/test_key_private.pem", src && src[0] ? src : MTPROBE_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: cannot open", path);
    char pem[8192];
    size_t n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    MTP_GUARD(mtp_rsa_key_from_pem(pem, n, &s->rsa, err));
    mtps_scenario_default(&s->scen);
    s->ns = T0_MS * 1000000;
    uint32_t seed[2] = {s->o->seed, 0x5e7};
    s->senv = mtp_env_deterministic(&s->sds, seed, sizeof seed, T0_MS);
    struct mtps_server_cfg cfg = {.env = s->senv, .scenario = &s->scen, .rsa = s->rsa, .keylog_path = s->o->keylog,
                                  .events_path = s->o->events, .dc_ids = {2}, .ndcs = 1};
    mtps_limits_default(&cfg.limits);
    cfg.limits.max_output = 64u << 20;
    cfg.limits.max_memory = 1ull << 30;
    cfg.limits.max_conns = 1u << 20;
    MTP_GUARD(mtps_server_init(&s->srv, &cfg, err));
    s->srv_up = true;
    MTP_GUARD(make_queries(s, err));
    return mtp_pcap_out_open(&s->out, s->o->pcap, s->o->linktype ? s->o->linktype : DLT_EN10MB, err);
}

static struct mtp_tcp_addr addr(const struct synth *s, bool server, size_t idx)
{
    struct mtp_tcp_addr a = {.family = s->o->ipv6 ? 6 : 4};
    if (s->o->ipv6) {
        a.ip[0] = 0xfd;
        a.ip[15] = server ? 1 : 2;
        a.ip[14] = server ? 0 : (uint8_t)(idx >> 14);
    } else {
        a.ip[0] = 10;
        a.ip[3] = server ? 1 : (uint8_t)(2 + (idx >> 14) % 250);
    }
    a.port = server ? 443 : (uint16_t)(20000 + idx % 16384);
    return a;
}

static int start(struct synth *s, struct sconn *sc, size_t idx, struct mtp_error *err)
{
    memset(sc, 0, sizeof *sc);
    sc->used = true;
    unsigned mask = s->o->transports ? s->o->transports : (1u << NTRANSPORTS) - 1;
    size_t t = idx % NTRANSPORTS;
    while (!(mask & (1u << t)))
        t = (t + 1) % NTRANSPORTS;
    uint32_t seed[2] = {s->o->seed, (uint32_t)idx};
    struct mtp_env cenv = mtp_env_deterministic(&sc->cds, seed, sizeof seed, s->ns / 1000000);
    struct mtps_client_opts co = {.kind = (enum mtp_tr_kind)transports[t].kind,
                                  .obfuscated = transports[t].obfuscated, .obfs_dc = 2, .dc = 2, .server_key = s->rsa,
                                  .env = &cenv, .salt_zero = true};
    MTP_GUARD(mtps_client_init(&sc->cl, &co, err));
    MTP_GUARD(mtps_conn_init(&sc->c, &s->srv, 2, "synth", 0, err));
    struct mtp_tcp_addr cli = addr(s, false, idx), srv = addr(s, true, idx);
    mtp_pcap_flow_init(&sc->flow, &cli, &srv, 0x10000000u + (uint32_t)idx * 7919u, 0x70000000u - (uint32_t)idx,
                       s->o->mss, mtp_pcap_flow_to_file, &s->out);
    MTP_GUARD(mtp_pcap_flow_open(&sc->flow, tick(s)));
    sc->fresh = s->o->fresh_every == 0 || s->nkeys == 0 || idx % s->o->fresh_every == 0;
    if (sc->fresh) {
        s->st->exchanges++;
        return mtps_client_start(&sc->cl, err);
    }
    return mtps_client_resume(&sc->cl, &s->keys[idx % s->nkeys], err);
}

/* Moves what each side has to say to the other; false once nothing moved. */
static int exchange_bytes(struct synth *s, struct sconn *sc, bool *moved)
{
    *moved = false;
    if (sc->cl.out.len > 0) {
        size_t n = sc->cl.out.len;
        uint8_t *copy = malloc(n);
        if (copy == NULL)
            return MTP_ERR_NOMEM;
        memcpy(copy, sc->cl.out.p, n);
        int rc = mtp_pcap_flow_send(&sc->flow, MTP_TCP_C2S, copy, n, tick(s));
        s->st->bytes_c2s += n;
        mtp_wr_reset(&sc->cl.out);
        mtps_conn_feed(&sc->c, copy, n);
        free(copy);
        MTP_GUARD(rc);
        *moved = true;
    }
    size_t n;
    const uint8_t *p = mtps_conn_output(&sc->c, &n);
    if (n > 0) {
        uint8_t *copy = malloc(n);
        if (copy == NULL)
            return MTP_ERR_NOMEM;
        memcpy(copy, p, n);
        mtps_conn_sent(&sc->c, 0);
        int rc = mtp_pcap_flow_send(&sc->flow, MTP_TCP_S2C, copy, n, tick(s));
        s->st->bytes_s2c += n;
        if (rc == MTP_OK)
            rc = mtps_client_feed(&sc->cl, copy, n, NULL);
        free(copy);
        MTP_GUARD(rc);
        *moved = true;
    }
    return MTP_OK;
}

/* One step of a connection: 1 while it goes on, 0 once it is done. */
static int step(struct synth *s, struct sconn *sc, struct mtp_error *err)
{
    bool moved;
    MTP_GUARD(exchange_bytes(s, sc, &moved));
    if (sc->cl.state == MTPS_CL_FAILED || mtps_conn_state(&sc->c) != MTPS_CONN_OPEN)
        return mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "synth: connection failed: %s%s",
                             sc->cl.error_text, sc->c.reason_text);
    if (moved)
        return 1;
    if (!mtps_client_ready(&sc->cl))
        return mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "synth: the key exchange stalled");
    /* quiet and ready: the next request, or the end */
    if (sc->fresh && sc->pings == 0 && sc->calls == 0 && s->nkeys < MAX_KEYS)
        s->keys[s->nkeys++] = sc->cl.key;
    if (sc->pings < s->o->pings) {
        size_t at = sc->cl.out.len;
        MTP_GUARD(mtps_client_ping(&sc->cl, 1000 + sc->pings, err));
        /* intermediate: the length's top bit asks for a quick ack (the small client never does) */
        if (s->o->quick_acks && sc->cl.o.kind == MTP_TR_INTERMEDIATE && !sc->cl.o.obfuscated &&
            sc->cl.out.len >= at + 4 + 24) {
            bool tag = at == 0 && mtp_load_u32(sc->cl.out.p) == 0xeeeeeeeeu;
            sc->cl.out.p[at + (tag ? 4 : 0) + 3] |= 0x80;
        }
        sc->pings++;
        return 1;
    }
    if (sc->calls < s->o->calls) {
        uint64_t id;
        int q = sc->calls % 2;
        MTP_GUARD(mtps_client_query(&sc->cl, s->query[q], s->query_len[q], &id, err));
        sc->calls++;
        return 1;
    }
    s->st->answers += sc->cl.results + sc->cl.pongs;
    MTP_GUARD(mtp_pcap_flow_close(&sc->flow, tick(s)));
    mtps_conn_free(&sc->c);
    mtps_client_free(&sc->cl);
    sc->used = false;
    s->st->connections++;
    return 0;
}

int mtp_synth_capture(const struct mtp_synth_opts *o, struct mtp_synth_stats *st, struct mtp_error *err)
{
    struct synth *s = calloc(1, sizeof *s);
    if (s == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "out of memory");
    memset(st, 0, sizeof *st);
    s->o = o;
    s->st = st;
    size_t width = o->concurrent ? o->concurrent : 1;
    struct sconn *conns = calloc(width, sizeof *conns);
    int rc = conns ? setup(s, err) : mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "out of memory");
    size_t started = 0, active = 0;
    while (rc == MTP_OK && (started < o->connections || active > 0)) {
        for (size_t i = 0; i < width && rc == MTP_OK; i++) {
            struct sconn *sc = &conns[i];
            if (!sc->used) {
                if (started == o->connections)
                    continue;
                rc = start(s, sc, started++, err);
                active++;
                continue;
            }
            /* the client's clock goes with the server's */
            sc->cds.now_ms = s->sds.now_ms;
            int r = step(s, sc, err);
            if (r < 0)
                rc = r;
            else if (r == 0)
                active--;
        }
    }
    st->packets = s->out.packets;
    for (size_t i = 0; conns && i < width; i++)
        if (conns[i].used) {
            mtps_conn_free(&conns[i].c);
            mtps_client_free(&conns[i].cl);
        }
    free(conns);
    if (s->srv_up)
        mtps_server_free(&s->srv);
    mtp_rsa_key_free(s->rsa);
    free(s->query[0]);
    free(s->query[1]);
    mtp_wipe(s->keys, sizeof s->keys);
    free(s);
    return rc;
}
