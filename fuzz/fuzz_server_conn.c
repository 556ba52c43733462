/* Target functions: mtps_conn_feed / _tick / _eof (one mock-DC connection in
 * memory) and everything behind it: transport detection and framing,
 * obfuscation, the auth server machine, key lookup and message decryption,
 * the session server core, the API layer (schema decode, templates), the
 * scenario rules and the memory accounting.
 * Input: byte 0 picks the transport (low 3 bits: abridged, intermediate,
 * padded, full, obfuscated abridged/intermediate/padded) and limits (bit 3:
 * flood control at 8 packets; bit 4: a rule set that drops, delays,
 * duplicates and closes; bit 5, instead: the client-check knobs, hostile
 * injected messages, pushed service messages, exact padding with fillers,
 * containers always, a moved clock).  Then records, each an op byte (op % 5) and its data:
 *   0 RAW   n:u8, n bytes fed to the connection as they are
 *   1 ENC   flags:u8 seqno:u8 dmsg:u16 n:u16 body[n]: a message encrypted with
 *           the key the harness installed (real msg_key), framed by a client
 *           transport.  flags: 1 quick-ack request, 2 salt 0, 4 another session.
 *           msg_id = the clock's msg_id + 4 * dmsg.
 *   2 TICK  ms:u16: the clock moves on, timers run
 *   3 PLAIN n:u16 body[n]: an unencrypted message (auth-key exchange)
 *   4 EOF   the peer closes; the input ends
 * Oracles: the connection releases every byte it accounted and every
 * session binding when freed. */
#include <stdlib.h>
#include <string.h>

#include "mtp/msgcrypt.h"
#include "mtp/msgid.h"
#include "mtps_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define T0 1700000000000ll

struct harness {
    struct mtps_scenario plain, rules, knobs;
    struct mtp_rsa_key *rsa;
    struct mtps_server srv[5]; /* [flood][rules], then the knobs */
    struct mtp_det_state sds, cds;
    bool ready;
};

/* One harness per process; every input starts from the same state. */
static struct harness *H;

static const char rules_json[] =
    "{\"rules\":[{\"at\":\"s2c_packet\",\"match\":\"pong\",\"nth\":2,\"do\":\"drop\"},"
    "{\"at\":\"s2c_packet\",\"match\":\"rpc_result\",\"do\":\"delay\",\"ms\":50},"
    "{\"at\":\"s2c_packet\",\"match\":\"new_session_created\",\"do\":\"duplicate\"},"
    "{\"at\":\"c2s_message\",\"nth\":3,\"do\":\"bad_salt\"},"
    "{\"at\":\"rpc\",\"match\":\"help.getConfig\",\"nth\":2,\"do\":\"rpc_error\",\"code\":420,\"message\":\"FLOOD_WAIT_1\"},"
    "{\"at\":\"s2c_packet\",\"nth\":40,\"do\":\"close_after\"}]}";

static const char knobs_json[] =
    "{\"session\":{\"padding\":12},\"behaviour\":{\"container_always\":true,\"abridged_long_form\":true,"
    "\"clock_offset_ms\":5000},\"rules\":["
    "{\"at\":\"rpc\",\"match\":\"help.getNearestDc\",\"do\":\"inject\",\"mutation\":\"msg_id_duplicate\","
    "\"times\":0,\"ms\":20},"
    "{\"at\":\"rpc\",\"match\":\"help.getConfig\",\"nth\":2,\"do\":\"push\",\"message\":\"bad_msg_notification\","
    "\"code\":16,\"times\":0},"
    "{\"at\":\"rpc\",\"match\":\"help.getConfig\",\"do\":\"inject\",\"mutation\":\"padding_short\",\"ms\":0,"
    "\"times\":0},"
    "{\"at\":\"rpc\",\"nth\":2,\"do\":\"inject\",\"mutation\":\"container_order\",\"carry\":\"bad_server_salt\","
    "\"times\":0},"
    "{\"at\":\"rpc\",\"do\":\"push\",\"message\":\"future_salts\",\"ms\":10,\"times\":0},"
    "{\"at\":\"s2c_packet\",\"match\":\"pong\",\"do\":\"bad_seq\",\"times\":0}]}";

static uint8_t fuzz_key[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    H = calloc(1, sizeof *H);
    if (H == NULL)
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors/rsa/test_key_private.pem", MTPROBE_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    char pem[8192];
    size_t n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    if (mtp_rsa_key_from_pem(pem, n, &H->rsa, NULL) < 0)
        return 0;
    mtps_scenario_default(&H->plain);
    if (mtps_scenario_parse(&H->rules, rules_json, strlen(rules_json), "fuzz", NULL) < 0 ||
        mtps_scenario_parse(&H->knobs, knobs_json, strlen(knobs_json), "fuzz", NULL) < 0)
        return 0;
    for (int i = 0; i < 256; i++)
        fuzz_key[i] = (uint8_t)(i * 13 + 7);
    for (int i = 0; i < 5; i++) {
        struct mtps_server_cfg cfg = {
            .env = mtp_env_deterministic(&H->sds, "fuzz", 4, T0),
            .scenario = i == 4 ? &H->knobs : (i & 2) ? &H->rules : &H->plain,
            .rsa = H->rsa,
            .dc_ids = {2},
            .ndcs = 1,
        };
        mtps_limits_default(&cfg.limits);
        cfg.limits.max_frame = 1u << 16;
        if (i & 1 && i != 4) {
            cfg.limits.flood_packets = 8;
            cfg.limits.flood_interval_ms = 1000;
        }
        if (mtps_server_init(&H->srv[i], &cfg, NULL) < 0)
            return 0;
    }
    H->ready = true;
    return 0;
}

struct rd {
    const uint8_t *p;
    size_t n;
};

static bool take(struct rd *r, size_t k, const uint8_t **out)
{
    if (r->n < k)
        return false;
    *out = r->p;
    r->p += k;
    r->n -= k;
    return true;
}

static bool take_u8(struct rd *r, unsigned *v)
{
    const uint8_t *p;
    if (!take(r, 1, &p))
        return false;
    *v = p[0];
    return true;
}

static bool take_u16(struct rd *r, unsigned *v)
{
    const uint8_t *p;
    if (!take(r, 2, &p))
        return false;
    *v = (unsigned)p[0] | (unsigned)p[1] << 8;
    return true;
}

static void feed(struct mtps_conn *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    uint8_t *copy = malloc(n);
    if (copy == NULL)
        return;
    memcpy(copy, p, n);
    mtps_conn_feed(c, copy, n);
    free(copy);
    size_t out;
    mtps_conn_output(c, &out);
    mtps_conn_sent(c, 0);
}

/* Frames payload with the client's transport and feeds it. */
static void send_payload(struct mtps_conn *c, struct mtp_tr_conn *tr, const uint8_t *payload, size_t n, bool quick_ack)
{
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, (1u << 17), NULL);
    struct mtp_tr_send m = {.data = payload, .len = n, .quick_ack = quick_ack};
    if (mtp_tr_conn_send(tr, &m, &w, NULL) == MTP_OK)
        feed(c, w.p, w.len);
    mtp_wr_free(&w);
}

static void run(struct mtps_server *srv, struct rd *r, enum mtp_tr_kind kind, bool obfs)
{
    /* The installed key, as if an earlier exchange had made it. */
    struct mtps_key *key;
    if (mtps_store_add_key(&srv->store, fuzz_key, false, 0, 0x0102030405060708ull, &key, NULL) < 0)
        return;
    struct mtps_conn c;
    if (mtps_conn_init(&c, srv, 2, "fuzz", 0, NULL) < 0)
        return;
    struct mtp_env cenv = mtp_env_deterministic(&H->cds, "fuzz-client", 11, T0);
    struct mtp_tr_conn tr;
    struct mtp_tr_conn_opts to = {.side = MTP_TR_CLIENT, .kind = kind, .obfuscated = obfs, .env = &cenv};
    if (mtp_tr_conn_init(&tr, &to, NULL) < 0) {
        mtps_conn_free(&c);
        return;
    }
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 128, NULL);
    if (mtp_tr_conn_start(&tr, &w, NULL) == MTP_OK)
        feed(&c, w.p, w.len);
    mtp_wr_free(&w);
    uint64_t session_id = 0x1111111111111111ull;
    struct mtp_msgid_gen ids;
    mtp_msgid_gen_init(&ids);
    unsigned op;
    while (mtps_conn_state(&c) != MTPS_CONN_CLOSED && take_u8(r, &op)) {
        unsigned a, b, dmsg, n;
        const uint8_t *p;
        switch (op % 5) {
        case 0:
            if (!take_u8(r, &n) || !take(r, n, &p))
                goto done;
            feed(&c, p, n);
            break;
        case 1: {
            if (!take_u8(r, &a) || !take_u8(r, &b) || !take_u16(r, &dmsg) || !take_u16(r, &n) || !take(r, n, &p))
                goto done;
            if (a & 4)
                session_id++;
            size_t pad = 12 + (16 - (32 + n + 12) % 16) % 16;
            size_t len = 32 + n + pad;
            uint8_t *plain = calloc(1, len);
            if (plain == NULL)
                goto done;
            uint64_t msg_id = mtp_msgid_from_ms(H->sds.now_ms) + 4ull * dmsg;
            mtp_store_u64(plain, (a & 2) ? 0 : key->salts.n ? key->salts.e[0].salt : 0);
            mtp_store_u64(plain + 8, session_id);
            mtp_store_u64(plain + 16, msg_id);
            mtp_store_u32(plain + 24, b);
            mtp_store_u32(plain + 28, n);
            memcpy(plain + 32, p, n);
            struct mtp_wr pkt;
            mtp_wr_init_dyn(&pkt, len + 64, NULL);
            if (mtp_msg_encrypt(fuzz_key, MTP_SENDER_CLIENT, plain, len, &pkt, NULL) == MTP_OK)
                send_payload(&c, &tr, pkt.p, pkt.len, a & 1);
            mtp_wr_free(&pkt);
            free(plain);
            break;
        }
        case 2:
            if (!take_u16(r, &n))
                goto done;
            H->sds.now_ms += n;
            mtps_conn_tick(&c);
            mtps_conn_sent(&c, 0);
            break;
        case 3: {
            if (!take_u16(r, &n) || !take(r, n, &p))
                goto done;
            uint8_t *msg = malloc(20 + n);
            if (msg == NULL)
                goto done;
            memset(msg, 0, 8);
            mtp_store_u64(msg + 8, mtp_msgid_next(&ids, H->sds.now_ms, MTP_MSGID_CLIENT));
            mtp_store_u32(msg + 16, n);
            memcpy(msg + 20, p, n);
            send_payload(&c, &tr, msg, 20 + n, false);
            free(msg);
            break;
        }
        default:
            mtps_conn_eof(&c);
            goto done;
        }
    }
done:
    mtps_conn_tick(&c);
    mtp_tr_conn_free(&tr);
    mtps_conn_free(&c);
    if (srv->mem_used != 0 || srv->nconns != 0 || key->refs != 0)
        __builtin_trap();
    for (struct mtps_sess *s = key->sessions; s; s = s->knext)
        if (s->conn != NULL)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (H == NULL || !H->ready || size == 0)
        return 0;
    static const struct {
        enum mtp_tr_kind kind;
        bool obfs;
    } variants[8] = {
        {MTP_TR_ABRIDGED, false}, {MTP_TR_INTERMEDIATE, false}, {MTP_TR_PADDED, false}, {MTP_TR_FULL, false},
        {MTP_TR_ABRIDGED, true},  {MTP_TR_INTERMEDIATE, true},  {MTP_TR_PADDED, true},  {MTP_TR_FULL, false},
    };
    unsigned cfg = data[0];
    struct mtps_server *srv = (cfg & 0x20) ? &H->srv[4] : &H->srv[((cfg >> 3) & 1) | (((cfg >> 4) & 1) << 1)];
    /* Fresh state for every input: clock, randomness, keys and sessions. */
    mtp_env_deterministic(&H->sds, "fuzz", 4, T0);
    struct mtps_store_cfg sc = srv->store.cfg;
    mtps_store_free(&srv->store);
    if (mtps_store_init(&srv->store, &sc, &srv->env, srv->store.on_event, srv->store.event_ctx) < 0)
        return 0;
    srv->next_conn_id = 0;
    memset(&srv->stats, 0, sizeof srv->stats);
    struct rd r = {data + 1, size - 1};
    run(srv, &r, variants[cfg & 7].kind, variants[cfg & 7].obfs);
    return 0;
}
