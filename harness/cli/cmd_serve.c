/* `mtprobe serve`: the mock datacenter (mock-server/README.md). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "mtp/hex.h"
#include "mtp/rsa.h"
#include "mtps_loop.h"
#include "mtps_server.h"
#include "mtps_util.h"

#define MAX_SCHEMAS MTPS_API_MAX_SCHEMAS

extern const struct mtp_cli_cmd mtp_cli_cmd_serve;

static void serve_usage(FILE *out)
{
    fprintf(out,
            "usage: mtprobe serve --listen HOST:PORT --rsa-key FILE.pem [--dc N] [--keylog FILE] [--scenario NAME] [-v]\n"
            "                     [more options]\n\n"
            "Runs a mock Telegram datacenter that real MTProto clients can connect to: every TCP transport\n"
            "(abridged, intermediate, padded, full, each also inside obfuscated2), the auth-key exchange,\n"
            "the session layer's service messages, and API answers from editable templates.\n\n"
            "Once it accepts connections it prints one line per address to stdout and flushes it:\n"
            "  listening HOST:PORT dc N fingerprint XXXXXXXXXXXXXXXX\n"
            "The fingerprint is the RSA key's TL long as its value in 16 hex digits (big-endian, the way\n"
            "clients key their tables: Python hex(fp & (2**64-1))); the 8 wire bytes are the same reversed.\n"
            "SIGINT/SIGTERM stop it cleanly (exit 0).  Logs go to stderr.\n\n"
            "  --listen HOST:PORT      address to serve (port 0: a free port, printed); repeat for more DCs\n"
            "  --dc N                  DC id of the preceding --listen (default 2, 3, ... in order)\n"
            "  --rsa-key FILE.pem      private RSA key; created (2048-bit) if missing; its public key is\n"
            "                          written next to it as FILE.pub.pem (PKCS#1, Telegram's form)\n"
            "  --keylog FILE           append every new key: AUTH_KEY <id> <key>, OBFS2 ... (docs/keylog.md)\n"
            "  --keys-file FILE        keep auth keys across restarts (read at start, appended to)\n"
            "  --seed N                the server's random choices (nonces, DH secrets, salts, padding) from a\n"
            "                          stream seeded with N, so its side of a run replays; the clock stays real\n"
            "  --events FILE           write the observation log: one JSON line per connection, message,\n"
            "                          key, call, rule and close, for programs (docs/events.md)\n"
            "  --scenario NAME|PATH    behaviour from mock-server/scenarios/NAME.json (docs/scenarios.md)\n"
            "  --api-schema FILE       API schema to answer with (repeat: one per layer; the client's\n"
            "                          invokeWithLayer picks the highest layer not above its own);\n"
            "                          default vectors/schema/api.tl (198) + mock-server/schemas/*.tl (143)\n"
            "  --templates DIR         answer templates (default mock-server/templates)\n"
            "  --secret HEX            MTProxy secret for obfuscated2 (16 bytes, or dd + 16 bytes)\n"
            "  --max-conns N           connections at once (default 4096; more get -429)\n"
            "  --max-conns-per-ip N    connections from one address (default 0: unlimited; more get -429)\n"
            "  --flood-packets N       packets per interval and connection before -429 (default 0: off)\n"
            "  --flood-bytes N         bytes per interval and connection before -429 (default 0: off)\n"
            "  --flood-interval T      the interval (default 1s)\n"
            "  --idle-timeout T        close a connection without a complete frame for T (default 120s)\n"
            "  --frame-timeout T       close a connection whose started frame stays incomplete (default 30s)\n"
            "  --max-frame BYTES       largest frame accepted (default 262144)\n"
            "  --max-output BYTES      output queued for one connection before it is a slow reader (1 MiB)\n"
            "  --max-memory BYTES      all connections' buffers together (default 128 MiB)\n"
            "  --max-keys N            auth keys kept in memory (default 16384)\n"
            "  --max-sessions N        sessions kept in memory (default 2048)\n"
            "  --fault NAME            seeded fault: turn off exactly one server check, so that `mtprobe check\n"
            "                          server` can prove it notices (test-only); repeatable\n"
            "  --list-faults           print every fault as one JSON object per line\n"
            "                          ({\"fault\", \"requirement\", \"what\"}) and exit\n"
            "  -v, --verbose           also log every message in both directions as TL text\n"
            "Durations: 250ms, 30s, 2m, or plain seconds.\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, &v) < 0 || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_duration_ms(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double mul = 1000;
    if (strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "m") == 0)
        mul = 60000;
    else if (*end != '\0' && strcmp(end, "s") != 0)
        return -1;
    if (v * mul > 1e12)
        return -1;
    *out = (int64_t)(v * mul);
    return 0;
}

/* FILE.pem -> FILE.pub.pem; anything else -> NAME.pub.pem. */
static void pub_path(const char *key, char *out, size_t cap)
{
    size_t n = strlen(key);
    if (n > 4 && strcmp(key + n - 4, ".pem") == 0)
        snprintf(out, cap, "%.*s.pub.pem", (int)(n - 4), key);
    else
        snprintf(out, cap, "%s.pub.pem", key);
}

static int write_file(const char *path, const char *text, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

/* Loads the server key, creating it (and its public half) when the file does not exist. */
static int load_or_create_key(const char *path, struct mtp_rsa_key **out, struct mtp_error *err)
{
    int rc;
    char pub[4096];
    pub_path(path, pub, sizeof pub);
    if (access(path, F_OK) != 0) {
        struct mtp_env env = mtp_env_system();
        MTP_GUARD(mtp_rsa_key_generate(&env, out, err));
        char *pem;
        size_t len;
        MTP_GUARD(mtp_rsa_key_to_pem(*out, true, &pem, &len, err));
        int w = write_file(path, pem, len, 0600);
        mtp_wipe(pem, len);
        free(pem);
        if (w < 0)
            return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", path, strerror(errno));
        fprintf(stderr, "mtprobe serve: created a 2048-bit RSA key in %s\n", path);
    } else {
        size_t len;
        char *pem = mtps_read_file(path, MTP_RSA_PEM_MAX, &len, err);
        if (pem == NULL)
            return err->code;
        rc = mtp_rsa_key_from_pem(pem, len, out, err);
        mtp_wipe(pem, len);
        free(pem);
        MTP_GUARD(rc);
        if (!mtp_rsa_key_has_private(*out))
            return mtp_error_set(err, MTP_ERR_RSA_NOT_PRIVATE, MTP_NO_OFFSET, "%s: not a private key", path);
    }
    if (access(pub, F_OK) != 0) {
        char *pem;
        size_t len;
        MTP_GUARD(mtp_rsa_key_to_pem(*out, false, &pem, &len, err));
        int w = write_file(pub, pem, len, 0644);
        free(pem);
        if (w < 0)
            return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", pub, strerror(errno));
        fprintf(stderr, "mtprobe serve: wrote the public key to %s\n", pub);
    }
    return MTP_OK;
}

struct opts {
    struct mtps_listen listens[MTPS_MAX_DCS];
    int32_t dc_ids[MTPS_MAX_DCS];
    bool dc_given[MTPS_MAX_DCS];
    size_t n;
    const char *rsa_key, *keylog, *keys_file, *scenario, *templates, *secret_hex, *events;
    bool seed_set;
    uint64_t seed;
    const char *schemas[MAX_SCHEMAS];
    size_t nschemas;
    int verbose;
    uint64_t faults;
    /* Limits given on the command line (they win over the scenario's). */
    struct mtps_limits lim;
    uint32_t set;
};

enum {
    L_MAX_CONNS = 1u << 0,
    L_PER_IP = 1u << 1,
    L_FLOOD_P = 1u << 2,
    L_FLOOD_B = 1u << 3,
    L_FLOOD_I = 1u << 4,
    L_IDLE = 1u << 5,
    L_FRAME_T = 1u << 6,
    L_FRAME = 1u << 7,
    L_OUTPUT = 1u << 8,
    L_MEMORY = 1u << 9,
    L_KEYS = 1u << 10,
    L_SESSIONS = 1u << 11,
};

static void apply_cli_limits(const struct opts *o, struct mtps_limits *l)
{
    if (o->set & L_MAX_CONNS)
        l->max_conns = o->lim.max_conns;
    if (o->set & L_PER_IP)
        l->max_conns_per_ip = o->lim.max_conns_per_ip;
    if (o->set & L_FLOOD_P)
        l->flood_packets = o->lim.flood_packets;
    if (o->set & L_FLOOD_B)
        l->flood_bytes = o->lim.flood_bytes;
    if (o->set & L_FLOOD_I)
        l->flood_interval_ms = o->lim.flood_interval_ms;
    if (o->set & L_IDLE)
        l->idle_timeout_ms = o->lim.idle_timeout_ms;
    if (o->set & L_FRAME_T)
        l->frame_timeout_ms = o->lim.frame_timeout_ms;
    if (o->set & L_FRAME)
        l->max_frame = o->lim.max_frame;
    if (o->set & L_OUTPUT)
        l->max_output = o->lim.max_output;
    if (o->set & L_MEMORY)
        l->max_memory = o->lim.max_memory;
    if (o->set & L_KEYS)
        l->max_keys = o->lim.max_keys;
    if (o->set & L_SESSIONS)
        l->max_sessions = o->lim.max_sessions;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    const struct mtp_cli_cmd *cmd = &mtp_cli_cmd_serve;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            serve_usage(stdout);
            return 1;
        }
        if (strcmp(a, "--list-faults") == 0) {
            for (int f = 0; f < MTPS_FAULT_COUNT; f++) {
                const struct mtps_fault_info *fi = mtps_fault_info((enum mtps_fault)f);
                json_t *j = json_pack("{s:s, s:s, s:s}", "fault", fi->name, "requirement", fi->requirement, "what",
                                      fi->what);
                char *line = json_dumps(j, JSON_COMPACT);
                printf("%s\n", line ? line : "{}");
                free(line);
                json_decref(j);
            }
            return 1;
        }
        if (strncmp(a, "--", 2) != 0)
            return mtp_cli_usage_error(cmd, "unexpected argument '%s'", a);
        if (i + 1 >= argc)
            return mtp_cli_usage_error(cmd, "%s needs a value", a);
        const char *v = argv[++i];
        int bad = 0;
        if (strcmp(a, "--listen") == 0) {
            if (o->n == MTPS_MAX_DCS)
                return mtp_cli_usage_error(cmd, "at most %d --listen addresses", MTPS_MAX_DCS);
            struct mtp_error err;
            mtp_error_clear(&err);
            struct mtps_listen *L = &o->listens[o->n];
            if (mtps_parse_hostport(v, L->host, sizeof L->host, &L->port, &err) < 0)
                return mtp_cli_usage_error(cmd, "--listen %s", err.msg);
            L->dc = o->n;
            o->n++;
        } else if (strcmp(a, "--dc") == 0) {
            char *end;
            long d = strtol(v, &end, 10);
            if (*end || end == v || d < -32768 || d > 32767 || d == 0)
                return mtp_cli_usage_error(cmd, "--dc %s: expected a DC id (1..32767, +10000 for test DCs)", v);
            if (o->n == 0)
                return mtp_cli_usage_error(cmd, "--dc must follow the --listen it names");
            o->dc_ids[o->n - 1] = (int32_t)d;
            o->dc_given[o->n - 1] = true;
        } else if (strcmp(a, "--rsa-key") == 0) {
            o->rsa_key = v;
        } else if (strcmp(a, "--keylog") == 0) {
            o->keylog = v;
        } else if (strcmp(a, "--seed") == 0) {
            bad = parse_u64(v, &o->seed);
            o->seed_set = true;
        } else if (strcmp(a, "--events") == 0) {
            o->events = v;
        } else if (strcmp(a, "--keys-file") == 0) {
            o->keys_file = v;
        } else if (strcmp(a, "--scenario") == 0) {
            o->scenario = v;
        } else if (strcmp(a, "--templates") == 0) {
            o->templates = v;
        } else if (strcmp(a, "--secret") == 0) {
            o->secret_hex = v;
        } else if (strcmp(a, "--fault") == 0) {
            enum mtps_fault f;
            if (mtps_fault_from_name(v, &f) < 0)
                return mtp_cli_usage_error(cmd, "--fault %s: unknown (mtprobe serve --list-faults)", v);
            o->faults |= MTPS_FAULT_BIT(f);
        } else if (strcmp(a, "--api-schema") == 0) {
            if (o->nschemas == MAX_SCHEMAS)
                return mtp_cli_usage_error(cmd, "at most %d --api-schema files", MAX_SCHEMAS);
            o->schemas[o->nschemas++] = v;
        } else if (strcmp(a, "--max-conns") == 0) {
            bad = parse_u32(v, &o->lim.max_conns) || o->lim.max_conns == 0;
            o->set |= L_MAX_CONNS;
        } else if (strcmp(a, "--max-conns-per-ip") == 0) {
            bad = parse_u32(v, &o->lim.max_conns_per_ip);
            o->set |= L_PER_IP;
        } else if (strcmp(a, "--flood-packets") == 0) {
            bad = parse_u32(v, &o->lim.flood_packets);
            o->set |= L_FLOOD_P;
        } else if (strcmp(a, "--flood-bytes") == 0) {
            bad = parse_u64(v, &o->lim.flood_bytes);
            o->set |= L_FLOOD_B;
        } else if (strcmp(a, "--flood-interval") == 0) {
            bad = parse_duration_ms(v, &o->lim.flood_interval_ms) || o->lim.flood_interval_ms == 0;
            o->set |= L_FLOOD_I;
        } else if (strcmp(a, "--idle-timeout") == 0) {
            bad = parse_duration_ms(v, &o->lim.idle_timeout_ms) || o->lim.idle_timeout_ms == 0;
            o->set |= L_IDLE;
        } else if (strcmp(a, "--frame-timeout") == 0) {
            bad = parse_duration_ms(v, &o->lim.frame_timeout_ms) || o->lim.frame_timeout_ms == 0;
            o->set |= L_FRAME_T;
        } else if (strcmp(a, "--max-frame") == 0) {
            bad = parse_u32(v, &o->lim.max_frame) || o->lim.max_frame < 64;
            o->set |= L_FRAME;
        } else if (strcmp(a, "--max-output") == 0) {
            bad = parse_u32(v, &o->lim.max_output) || o->lim.max_output < 4096;
            o->set |= L_OUTPUT;
        } else if (strcmp(a, "--max-memory") == 0) {
            bad = parse_u64(v, &o->lim.max_memory) || o->lim.max_memory < (1u << 20);
            o->set |= L_MEMORY;
        } else if (strcmp(a, "--max-keys") == 0) {
            bad = parse_u32(v, &o->lim.max_keys) || o->lim.max_keys == 0;
            o->set |= L_KEYS;
        } else if (strcmp(a, "--max-sessions") == 0) {
            bad = parse_u32(v, &o->lim.max_sessions) || o->lim.max_sessions == 0;
            o->set |= L_SESSIONS;
        } else {
            return mtp_cli_usage_error(cmd, "unknown option '%s'", a);
        }
        if (bad)
            return mtp_cli_usage_error(cmd, "%s %s: not a valid value", a, v);
    }
    if (o->n == 0)
        return mtp_cli_usage_error(cmd, "--listen HOST:PORT is required");
    if (o->rsa_key == NULL)
        return mtp_cli_usage_error(cmd, "--rsa-key FILE.pem is required");
    int32_t next = 2;
    for (size_t i = 0; i < o->n; i++) {
        if (!o->dc_given[i])
            o->dc_ids[i] = next;
        next = (o->dc_ids[i] > 0 ? o->dc_ids[i] : -o->dc_ids[i]) + 1;
        for (size_t j = 0; j < i; j++)
            if (o->dc_ids[j] == o->dc_ids[i])
                return mtp_cli_usage_error(cmd, "dc %d is given twice", (int)o->dc_ids[i]);
    }
    return 0;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int serve_run(int argc, char **argv)
{
    struct opts o;
    memset(&o, 0, sizeof o);
    int prc = parse_args(argc, argv, &o);
    if (prc != 0)
        return prc == 1 ? MTP_EXIT_OK : prc;
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_obfs_secret secret = {.mode = MTP_OBFS_SECRET_NONE};
    if (o.secret_hex) {
        uint8_t raw[64];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, raw, sizeof raw, &err);
        if (mtp_hex_decode(o.secret_hex, strlen(o.secret_hex), &w, "secret") < 0 ||
            mtp_obfs_secret_parse(&secret, raw, w.len, &err) < 0)
            return mtp_cli_usage_error(&mtp_cli_cmd_serve, "--secret: %s", err.msg);
        if (secret.mode == MTP_OBFS_SECRET_FAKE_TLS)
            return mtp_cli_usage_error(&mtp_cli_cmd_serve, "--secret: fake-TLS (ee) secrets are not supported");
    }
    struct mtps_scenario scen;
    if (o.scenario) {
        if (mtps_scenario_load(&scen, o.scenario, NULL, &err) < 0) {
            fprintf(stderr, "mtprobe serve: %s\n", err.msg);
            return MTP_EXIT_ERROR;
        }
    } else {
        mtps_scenario_default(&scen);
    }
    struct mtps_limits limits;
    mtps_limits_default(&limits);
    mtps_scenario_apply_limits(&scen, &limits);
    apply_cli_limits(&o, &limits);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);

    int exit_code = MTP_EXIT_ERROR;
    struct mtp_rsa_key *rsa = NULL;
    if (load_or_create_key(o.rsa_key, &rsa, &err) < 0) {
        fprintf(stderr, "mtprobe serve: %s\n", err.msg);
        mtps_scenario_free(&scen);
        return MTP_EXIT_ERROR;
    }
    struct mtp_env env = mtp_env_system();
    struct mtp_det_state det;
    if (o.seed_set) {
        /* Deterministic randomness, the system clock: a replayable server side of a live run. */
        uint8_t seed[8];
        mtp_store_u64(seed, o.seed);
        env = mtp_env_deterministic(&det, seed, sizeof seed, 0);
        env.now_ms = mtp_env_system().now_ms;
    }
    struct mtps_server_cfg cfg = {
        .env = env,
        .log = stderr,
        .verbose = o.verbose,
        .limits = limits,
        .scenario = &scen,
        .rsa = rsa,
        .api_schemas = o.schemas,
        .napi_schemas = o.nschemas,
        .templates_dir = o.templates,
        .keylog_path = o.keylog,
        .keys_path = o.keys_file,
        .events_path = o.events,
        .secret = secret,
        .ndcs = o.n,
        .faults = o.faults,
    };
    memcpy(cfg.dc_ids, o.dc_ids, sizeof cfg.dc_ids);
    for (int f = 0; f < MTPS_FAULT_COUNT; f++)
        if (mtps_fault_set(o.faults, (enum mtps_fault)f))
            fprintf(stderr, "mtprobe serve: seeded fault %s (%s): %s\n", mtps_fault_info((enum mtps_fault)f)->name,
                    mtps_fault_info((enum mtps_fault)f)->requirement, mtps_fault_info((enum mtps_fault)f)->what);
    struct mtps_server srv;
    if (mtps_server_init(&srv, &cfg, &err) < 0) {
        fprintf(stderr, "mtprobe serve: %s\n", err.msg);
        goto out;
    }
    mtps_log(&srv.log, 0, "scenario %s; limits: %u connections, %u per address, frames up to %u B, %llu B of buffers",
             scen.name, limits.max_conns, limits.max_conns_per_ip, limits.max_frame,
             (unsigned long long)limits.max_memory);
    struct mtps_loop_cfg lc = {.srv = &srv, .listens = o.listens, .nlistens = o.n, .ready = stdout};
    if (mtps_loop_run(&lc, &err) < 0) {
        fprintf(stderr, "mtprobe serve: %s\n", err.msg);
    } else {
        mtps_log(&srv.log, 0,
                 "stopped: %llu connections, %llu keys created, %llu frames in, %llu out, %llu rpcs, %llu x -404, "
                 "%llu x -429",
                 (unsigned long long)srv.stats.conns_opened, (unsigned long long)srv.stats.keys_created,
                 (unsigned long long)srv.stats.frames_in, (unsigned long long)srv.stats.frames_out,
                 (unsigned long long)srv.stats.rpcs, (unsigned long long)srv.stats.errors_404,
                 (unsigned long long)srv.stats.errors_429);
        exit_code = MTP_EXIT_OK;
    }
    mtps_server_free(&srv);
out:
    mtp_rsa_key_free(rsa);
    mtps_scenario_free(&scen);
    return exit_code;
}

const struct mtp_cli_cmd mtp_cli_cmd_serve = {
    .name = "serve",
    .summary = "run a mock datacenter that MTProto clients connect to (see --help)",
    .run = serve_run,
    .usage = serve_usage,
};
