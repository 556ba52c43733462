#include "mtps_server.h"

#include <inttypes.h>
#include <string.h>

#include "mtps_conn.h"

void mtps_fingerprint_hex(const uint8_t wire[8], char out[17])
{
    /* The TL long is little-endian on the wire; clients key their tables by its value. */
    snprintf(out, 17, "%016" PRIx64, mtp_load_u64(wire));
}

static void on_session_event(void *ctx, struct mtps_sess *s, const struct mtp_session_event *ev)
{
    mtps_conn_session_event(ctx, s, ev);
}

static int load_key(void *ctx, const uint8_t id[8], const uint8_t key[256], bool temp, int32_t expires_at,
                    struct mtp_error *err)
{
    struct mtps_server *srv = ctx;
    (void)id;
    if (mtps_store_find_key(&srv->store, mtps_key_id_u64(id)) != NULL)
        return MTP_OK; /* the same key twice (appended again after a restart): keep one */
    struct mtps_key *k;
    /* Salt 0 is never valid: the client's first message gets bad_server_salt with a real one. */
    uint64_t salt;
    MTP_GUARD(mtp_env_rand(&srv->env, &salt, sizeof salt));
    return mtps_store_add_key(&srv->store, key, temp, expires_at, salt, &k, err);
}

/* A binding of the keys file: kept when both keys are still there (an expired
 * temporary key may not be). */
static int load_bind(void *ctx, const uint8_t temp_id[8], const uint8_t perm_id[8], int32_t expires_at,
                     struct mtp_error *err)
{
    struct mtps_server *srv = ctx;
    (void)err;
    struct mtps_key *t = mtps_store_find_key(&srv->store, mtps_key_id_u64(temp_id));
    struct mtps_key *p = mtps_store_find_key(&srv->store, mtps_key_id_u64(perm_id));
    if (t != NULL && p != NULL && t->temp && !p->temp)
        (void)mtps_store_bind(&srv->store, t, p, expires_at, NULL);
    return MTP_OK;
}

/* behaviour.clock_offset_ms: everything of the server (server_time, its
 * msg_ids, the window it checks client msg_ids against, salts, timers) runs
 * on one clock that far from the configured one. */
static int64_t offset_now(void *ctx)
{
    const struct mtps_server *srv = ctx;
    return mtp_env_now_ms(&srv->base_env) + srv->clock_offset_ms;
}

static int offset_rand(void *ctx, uint8_t *out, size_t n)
{
    const struct mtps_server *srv = ctx;
    return mtp_env_rand(&srv->base_env, out, n);
}

int mtps_server_init(struct mtps_server *srv, const struct mtps_server_cfg *cfg, struct mtp_error *err)
{
    memset(srv, 0, sizeof *srv);
    if (cfg->ndcs == 0 || cfg->ndcs > MTPS_MAX_DCS || cfg->rsa == NULL || cfg->scenario == NULL)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "server: needs 1..%d DCs, a key and a scenario",
                             MTPS_MAX_DCS);
    srv->env = cfg->env;
    srv->base_env = cfg->env;
    srv->clock_offset_ms = cfg->scenario ? cfg->scenario->clock_offset_ms : 0;
    if (srv->clock_offset_ms != 0)
        srv->env = (struct mtp_env){.rand = offset_rand, .now_ms = offset_now, .ctx = srv};
    srv->limits = cfg->limits;
    srv->scenario = cfg->scenario;
    srv->rsa = cfg->rsa;
    srv->rsa_keys[0] = cfg->rsa;
    srv->secret = cfg->secret;
    srv->ndcs = cfg->ndcs;
    for (size_t i = 0; i < cfg->ndcs; i++) {
        srv->dcs[i].id = cfg->dc_ids[i];
        snprintf(srv->dcs[i].ip, sizeof srv->dcs[i].ip, "127.0.0.1");
    }
    srv->log = (struct mtps_log){.f = cfg->log, .verbose = cfg->verbose, .env = &srv->env};
    int rc = MTP_OK;
    MTP_TRY(mtp_rsa_key_fingerprint(cfg->rsa, srv->fingerprint, err));
    MTP_TRY(mtps_auth_cfg_parse(&srv->auth, cfg->scenario->auth, cfg->scenario->name, err));
    mtps_auth_cfg_set_fingerprint(&srv->auth, srv->fingerprint);
    srv->faults = cfg->faults;
    srv->auth.beh.faults = mtps_fault_auth_bits(cfg->faults);
    MTP_TRY(mtps_api_init(&srv->api, cfg->api_schemas, cfg->napi_schemas, cfg->templates_dir, &cfg->scenario->api,
                          err));
    srv->log.schema = mtps_api_log_schema(&srv->api);
    struct mtps_store_cfg sc = {
        .max_keys = cfg->limits.max_keys,
        .max_sessions = cfg->limits.max_sessions,
        .max_sessions_per_key = cfg->limits.max_sessions_per_key,
        .session = cfg->scenario->session,
    };
    sc.session.server_faults = mtps_fault_session_bits(cfg->faults);
    if (mtps_faulty(srv, MTPS_FAULT_NO_FLOOD_LIMIT)) {
        sc.session.container.max_msgs = 1u << 16;
        sc.session.container.max_bytes = 1u << 22;
    }
    rc = mtps_store_init(&srv->store, &sc, &srv->env, on_session_event, srv);
    if (rc < 0) {
        mtp_error_set(err, rc, MTP_NO_OFFSET, "server: bad store limits");
        goto out;
    }
    if (cfg->keys_path) {
        /* Stricter than a capture decoder: an unknown line type is refused, naming the line. */
        struct mtp_keylog_reader rd = {.key = load_key, .bind = load_bind, .missing_ok = true,
                                       .bad_code = MTP_ERR_SRV_KEYS_FILE, .ctx = srv};
        MTP_TRY(mtp_keylog_read(cfg->keys_path, &rd, err));
        MTP_TRY(mtp_keylog_open(&srv->keysfile, cfg->keys_path, err));
        if (srv->store.nkeys)
            mtps_log(&srv->log, 0, "%zu auth keys loaded from %s", srv->store.nkeys, cfg->keys_path);
    }
    MTP_TRY(mtp_keylog_open(&srv->keylog, cfg->keylog_path, err));
    MTP_TRY(mtps_events_open(&srv->events, cfg->events_path, &srv->env, err));
    srv->events.schema = srv->log.schema;
    return MTP_OK;
out:
    mtps_server_free(srv);
    return rc;
}

void mtps_server_free(struct mtps_server *srv)
{
    mtps_store_free(&srv->store);
    mtps_api_free(&srv->api);
    mtps_auth_cfg_free(&srv->auth);
    mtp_keylog_close(&srv->keylog);
    mtp_keylog_close(&srv->keysfile);
    mtps_events_close(&srv->events);
}

void mtps_server_set_addr(struct mtps_server *srv, size_t i, const char *ip, uint16_t port)
{
    if (i >= srv->ndcs)
        return;
    snprintf(srv->dcs[i].ip, sizeof srv->dcs[i].ip, "%s", ip);
    srv->dcs[i].port = port;
}
