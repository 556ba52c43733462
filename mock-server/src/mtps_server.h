/* The mock DC's shared state: configuration, RSA key, the auth key and
 * session store, the API responder, logs.  One per process; it serves one or
 * more DC ids (one listening address each), which share the key store (a
 * client's key works on every DC of the process).
 *
 * Memory bound (README "Limits"): every connection accounts its buffers
 * against max_memory, sessions and keys are bounded by their counts. */
#ifndef MTPS_SERVER_H
#define MTPS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/obfs.h"
#include "mtp/rsa.h"
#include "mtps_api.h"
#include "mtps_events.h"
#include "mtps_fault.h"
#include "mtps_hs.h"
#include "keylog/keylog.h"
#include "mtps_log.h"
#include "mtps_scenario.h"
#include "mtps_store.h"

#define MTPS_MAX_DCS 8

struct mtps_server_cfg {
    struct mtp_env env;
    FILE *log;                          /* NULL: silent */
    int verbose;
    struct mtps_limits limits;          /* the scenario's limits already applied */
    const struct mtps_scenario *scenario; /* must outlive the server */
    const struct mtp_rsa_key *rsa;      /* private; must outlive the server */
    const char *const *api_schemas;     /* NULL/0: the bundled api.tl */
    size_t napi_schemas;
    const char *templates_dir;          /* NULL: mock-server/templates */
    const char *keylog_path;            /* NULL: none */
    const char *keys_path;              /* NULL: none */
    const char *events_path;            /* NULL: no observation log (docs/events.md) */
    struct mtp_obfs_secret secret;      /* MTProxy secret for obfuscated2 (mode NONE: none) */
    int32_t dc_ids[MTPS_MAX_DCS];
    size_t ndcs;                        /* at least 1 */
    uint64_t faults;                    /* MTPS_FAULT_BIT(f) of mtps_fault.h: test-only; 0 for a correct server */
};

struct mtps_stats {
    uint64_t conns_opened, conns_closed;
    uint64_t keys_created;
    uint64_t frames_in, frames_out;
    uint64_t bytes_in, bytes_out;
    uint64_t rpcs, errors_404, errors_429;
    uint64_t binds;                     /* auth.bindTempAuthKey answered boolTrue */
};

struct mtps_server {
    struct mtp_env env;                 /* the server's: the configured one, its clock moved by the scenario */
    struct mtp_env base_env;            /* the configured one */
    int64_t clock_offset_ms;            /* behaviour.clock_offset_ms */
    struct mtps_log log;
    struct mtps_limits limits;
    const struct mtps_scenario *scenario;
    struct mtps_auth_cfg auth;
    const struct mtp_rsa_key *rsa;
    const struct mtp_rsa_key *rsa_keys[1];
    uint8_t fingerprint[8];             /* wire order */
    struct mtp_obfs_secret secret;
    struct mtps_api api;
    struct mtps_store store;
    struct mtp_keylog keylog, keysfile;
    struct mtps_events events;          /* the observation log, for the conformance runner */
    struct mtps_dc_addr dcs[MTPS_MAX_DCS];
    size_t ndcs;
    uint64_t next_conn_id;
    size_t nconns;
    uint64_t mem_used;                  /* buffers of all connections */
    struct mtps_rule_state rules;       /* counters of the scenario rules counted per server */
    struct mtps_stats stats;
    uint64_t faults;                    /* the seeded faults (mtps_fault.h); 0: none */
};

static inline bool mtps_faulty(const struct mtps_server *srv, enum mtps_fault f) { return mtps_fault_set(srv->faults, f); }

MTP_MUST_USE int mtps_server_init(struct mtps_server *srv, const struct mtps_server_cfg *cfg, struct mtp_error *err);
void mtps_server_free(struct mtps_server *srv);
/* The address DC i listens on (after bind: the real port), for config answers and logs. */
void mtps_server_set_addr(struct mtps_server *srv, size_t i, const char *ip, uint16_t port);
/* The fingerprint as printed: the TL long's value as 16 hex digits (big-endian),
 * i.e. the 8 wire bytes reversed. */
void mtps_fingerprint_hex(const uint8_t wire[8], char out[17]);

#endif
