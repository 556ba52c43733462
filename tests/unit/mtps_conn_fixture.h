/* The mock DC's connection fed in memory, for the tests of mtps_conn.c and
 * mtps_rpc.c: a server from a scenario given as JSON, a mtps_client on an
 * in-memory wire (mtps_pair), a fake clock, and the observation log read back. */
#ifndef MTPS_CONN_FIXTURE_H
#define MTPS_CONN_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mtp/hex.h"
#include "mtp_test.h"
#include "mtps_client.h"
#include "mtps_conn.h"
#include "mtps_pair.h"
#include "tlengine/tl_json.h"

#define T0 1700000000000ll

/* Per test process (Check forks each test). */
static struct mtp_det_state sds, cds;
static struct mtps_scenario scen;
static struct mtps_server srv;
static struct mtp_rsa_key *rsa;
static struct mtps_conn conn;
static struct mtps_client cl;
static char ev_path[64];  /* the observation log, when a test turns it on (events_on) */
static bool cl_discard;   /* the client drops packets that fail a crypto check */

static inline struct mtp_rsa_key *test_key(void)
{
    size_t len;
    uint8_t *pem = mtp_test_read_file("vectors/rsa/test_key_private.pem", &len);
    struct mtp_rsa_key *k;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_rsa_key_from_pem(pem, len, &k, &err) == MTP_OK, "%s", err.msg);
    return k;
}

/* A server with the scenario given as JSON text (NULL: default) and limits changed by lim_fn. */
static inline void server_up(const char *scenario_json, void (*lim_fn)(struct mtps_limits *))
{
    struct mtp_error err;
    mtp_error_clear(&err);
    if (scenario_json)
        ck_assert_msg(mtps_scenario_parse(&scen, scenario_json, strlen(scenario_json), "test", &err) == MTP_OK, "%s",
                      err.msg);
    else
        mtps_scenario_default(&scen);
    struct mtps_limits lim;
    mtps_limits_default(&lim);
    mtps_scenario_apply_limits(&scen, &lim);
    if (lim_fn)
        lim_fn(&lim);
    rsa = test_key();
    struct mtps_server_cfg cfg = {
        .env = mtp_env_deterministic(&sds, "server", 6, T0),
        .limits = lim,
        .scenario = &scen,
        .rsa = rsa,
        .dc_ids = {2},
        .ndcs = 1,
        .events_path = ev_path[0] ? ev_path : NULL,
    };
    ck_assert_msg(mtps_server_init(&srv, &cfg, &err) == MTP_OK, "%s", err.msg);
    mtps_server_set_addr(&srv, 0, "127.0.0.1", 4430);
}

static inline void server_down(void)
{
    mtps_server_free(&srv);
    mtp_rsa_key_free(rsa);
    mtps_scenario_free(&scen);
    if (ev_path[0])
        unlink(ev_path);
}

static inline void events_on(void) { snprintf(ev_path, sizeof ev_path, "/tmp/mtps_conn_ev_%d.jsonl", (int)getpid()); }

/* Every line of the observation log so far. */
static inline json_t *events(void)
{
    FILE *f = fopen(ev_path, "r");
    ck_assert_ptr_nonnull(f);
    json_t *all = json_array();
    char line[1 << 17];
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        ck_assert_msg(o != NULL, "event line does not parse: %s", je.text);
        json_array_append_new(all, o);
    }
    fclose(f);
    return all;
}

static inline const char *str_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* The nth (0-based) event whose ev is `ev` and, when key is given, whose key is val; NULL when none. */
static inline json_t *find_ev(json_t *all, const char *ev, const char *key, const char *val, size_t nth)
{
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o)
    {
        if (strcmp(str_of(o, "ev"), ev) != 0 || (key && strcmp(str_of(o, key), val) != 0))
            continue;
        if (nth-- == 0)
            return o;
    }
    return NULL;
}

static inline size_t count_ev(json_t *all, const char *ev, const char *key, const char *val)
{
    size_t n = 0;
    while (find_ev(all, ev, key, val, n))
        n++;
    return n;
}

static inline void advance(int64_t ms)
{
    sds.now_ms += ms;
    cds.now_ms += ms;
}

static inline void client_up(enum mtp_tr_kind kind, bool obfuscated, bool salt_zero)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_env env = mtp_env_deterministic(&cds, "client", 6, T0);
    struct mtps_client_opts o = {.kind = kind, .obfuscated = obfuscated, .dc = 2, .server_key = rsa, .env = &env,
                                 .salt_zero = salt_zero, .discard_bad_packets = cl_discard};
    ck_assert_msg(mtps_client_init(&cl, &o, &err) == MTP_OK, "%s", err.msg);
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, &err));
}

static inline void pump(void)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtps_pair_pump(&conn, &cl, &err);
    ck_assert_msg(rc == MTP_OK, "pump: %s (%s)", mtp_err_name(rc), err.msg);
}

static inline void handshake(void)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_start(&cl, &err));
    pump();
    ck_assert_msg(mtps_client_ready(&cl), "client not ready: %s", cl.error_text);
}

static inline void both_down(void)
{
    mtps_client_free(&cl);
    mtps_conn_free(&conn);
}

/* The output the connection has for the socket, as hex. */
static inline void assert_output(const char *hex)
{
    size_t n;
    const uint8_t *p = mtps_conn_output(&conn, &n);
    ck_assert_hex_eq(p, n, hex);
}

static inline void feed_hex(const char *hex)
{
    size_t n;
    uint8_t *p = mtp_test_hex(hex, &n);
    mtps_conn_feed(&conn, p, n);
}

/* invokeWithLayer(layer, initConnection(..., query)) from JSON through the schema. */
static inline size_t encode_query(const char *inner_json, int layer, uint8_t *out, size_t cap)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"_\":\"invokeWithLayer\",\"layer\":%d,\"query\":{\"_\":\"initConnection\",\"api_id\":1,"
             "\"device_model\":\"t\",\"system_version\":\"t\",\"app_version\":\"1\",\"system_lang_code\":\"en\","
             "\"lang_pack\":\"\",\"lang_code\":\"en\",\"query\":%s}}",
             layer, inner_json);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    ck_assert_ptr_nonnull(j);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, cap, &err);
    ck_assert_msg(mtp_tl_json_encode(mtps_api_log_schema(&srv.api), NULL, j, &w, &err) == MTP_OK, "%s", err.msg);
    json_decref(j);
    return w.len;
}

/* --- what the knob tests share --- */

#define NEAREST_DC_HONEST "75171a8e025a5a000200000002000000"
/* nearestDc country:"CANARY" this_dc:2 nearest_dc:77 */
#define NEAREST_DC_CANARY "75171a8e0643414e41525900020000004d000000"

static inline void query_nearest_dc(void)
{
    uint8_t q[512];
    size_t n = encode_query("{\"_\":\"help.getNearestDc\"}", 198, q, sizeof q);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_query(&cl, q, n, NULL, &err));
    pump();
}

/* Time passes and the connection's timers run. */
static inline void later(int64_t ms)
{
    advance(ms);
    mtps_conn_tick(&conn);
    pump();
}

#endif
