/* `mtprobe client`: the reference MTProto client against any server.  The
 * protocol is in harness/client (mtpc_client.h, the core; mtpc_net.h, the
 * socket loop); this file is the command line, the key log and the report. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "client/mtpc_call.h"
#include "client/mtpc_client.h"
#include "client/mtpc_fault.h"
#include "client/mtpc_net.h"
#include "client/mtpc_text.h"
#include "mtp/hex.h"
#include "mtp/rsa.h"
#include "mtp/tl_value.h"
#include "keylog/keylog.h"
#include "tlengine/tl_files.h"

#define SCHEMA_FILE_MAX ((size_t)16 << 20)
#define TRACE_LINE_MAX ((size_t)1 << 20)
#define MAX_CALLS 64
#define IMPLEMENTATION "mtprobe client"

extern const struct mtp_cli_cmd mtp_cli_cmd_client;

static void client_usage(FILE *out)
{
    fprintf(out,
            "usage: mtprobe client --server HOST:PORT --rsa-pub FILE.pem --transport T [--dc N]\n"
            "                      [--request LIST | --call JSON ...] [--keylog FILE] [--timeout S] [more options]\n"
            "       mtprobe client --list-faults\n\n"
            "Connects to an MTProto server, creates an auth key (every client-side check on), sends the\n"
            "requests one after the other on one session, and prints ONE JSON line, the last line on stdout:\n"
            "  ok, implementation, version, transport, auth_key_id, auth_key, server_salt, session_id (hex, wire\n"
            "  order), results (one per request, in order: the answer in the TL JSON mapping, an rpc_error as\n"
            "  {\"_\":\"rpc_error\",\"error_code\":N,\"error_message\":...}, null when none came), result (the last\n"
            "  call's answer; the last pong without calls) or error (\"step: what\"), step, error_code, and\n"
            "  counters of what the server sent (\"ignored\": messages discarded for a failed check).\n\n"
            "  --server HOST:PORT      the server ([V6ADDR]:PORT for IPv6)\n"
            "  --rsa-pub FILE.pem      the server's RSA key, public or private PEM (only n and e are used)\n"
            "  --transport T           abridged, intermediate, padded, full, obfuscated-abridged,\n"
            "                          obfuscated-intermediate, obfuscated-padded\n"
            "  --secret HEX            MTProxy secret for obfuscated2 (16 bytes, or dd + 16 bytes: padded only);\n"
            "                          empty: none\n"
            "  --dc N                  DC id for p_q_inner_data_dc and the obfuscated init (default 2;\n"
            "                          +10000 for test DCs, negative for media DCs)\n"
            "  --request LIST          comma-separated requests, sent in this order: ping, nearest_dc\n"
            "                          (help.getNearestDc), config (help.getConfig); API methods wrapped as for\n"
            "                          --call.  Replaces --ping-count and --call\n"
            "  --call JSON             a request in the TL JSON mapping, e.g. '{\"_\":\"help.getNearestDc\"}';\n"
            "                          API methods are wrapped in invokeWithLayer(initConnection(...)); give it\n"
            "                          again for more calls, sent in order after the pings\n"
            "  --raw                   send --call exactly as given (no wrapping)\n"
            "  --layer N               layer for invokeWithLayer (default: the API schema's LAYER comment)\n"
            "  --api-schema FILE       API schema to encode and decode with (default vectors/schema/api.tl)\n"
            "  --api-id N              initConnection.api_id (default 1)\n"
            "  --ping-count N          pings before the calls, one after the other (default 1; 0 for none)\n"
            "  --keylog FILE           append AUTH_KEY, TEMP_AUTH_KEY, BIND, OBFS2 and NEW_NONCE lines (the format of\n"
            "                          mtprobe serve --keylog)\n"
            "  --timeout S             deadline for the whole run in seconds, decimals allowed (default 10)\n"
            "  --salt-zero             start the session with salt 0, as Telethon and GramJS do\n"
            "  --dh-trust-known        skip the primality tests of a dh_prime the client knows\n"
            "  --max-frame BYTES       largest frame accepted from the server (default 1048576)\n"
            "  --lenient-transport     accept framing the spec rules out but deployed servers tolerate\n"
            "  --pfs                   Perfect Forward Secrecy (core.telegram.org/api/pfs): make a permanent key, then\n"
            "                          a temporary key on the same connection, bind it with auth.bindTempAuthKey,\n"
            "                          and send the requests with the temporary key; the JSON line gains\n"
            "                          temp_auth_key_id, temp_auth_key, temp_expires_at and bound\n"
            "  --temp-expires S        the temporary key's lifetime in seconds (expires_in; default 86400)\n"
            "  --perm-key HEX          with --pfs: bind to this permanent key (256 bytes) instead of making one\n"
            "  --max-auth-attempts N   attempts at one key exchange that the server ends with transport error -404;\n"
            "                          each restarts it on a new connection (default 3)\n"
            "  -v, --verbose           log every message in both directions as TL text on stderr\n\n"
            "testing the suite (never for real use):\n"
            "  --fault NAME            seeded fault: turn off exactly one client check, so that `mtprobe check\n"
            "                          client` can prove it notices; repeatable.  The JSON line gains \"faults\"\n"
            "  --list-faults           print every fault as one JSON object per line\n"
            "                          ({\"fault\", \"requirement\", \"what\"}) and exit\n\n"
            "exit codes:\n"
            "  0  the key was made and every request answered (an rpc_error is an answer: see results)\n"
            "  1  the server misbehaved or the exchange failed: a failed check of the key exchange, a transport\n"
            "     error (-444: invalid DC id; -404 on every attempt at a key exchange), a closed connection,\n"
            "     no answer before the deadline, an answer of the wrong type, a refused binding\n"
            "  2  bad command line (including a --call the schema cannot encode, an unknown request or fault)\n"
            "  3  could not proceed: cannot resolve or connect, unreadable or unusable key file,\n"
            "     schema not loadable, key log not writable, out of memory\n"
            "  (4, transport not supported, is never used: the reference client has all seven)\n");
}

struct client_args {
    const char *server, *rsa_pub, *transport, *secret_hex, *api_schema, *keylog, *perm_key_hex, *request;
    const char *calls[MAX_CALLS];
    size_t n_calls;
    int32_t dc, layer, api_id, temp_expires;
    unsigned pings, max_auth_attempts;
    double timeout_s;
    size_t max_frame;
    uint64_t faults;
    bool raw, verbose, salt_zero, trust_known, lenient, pfs, temp_expires_set, pings_set, list_faults;
};

static bool parse_long(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Prints the JSON line of a run that did not get as far as connecting. */
static int early_exit(int code, const char *step, const char *fmt, ...) MTP_PRINTF(3, 4);
static int early_exit(int code, const char *step, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:b, s:s, s:s, s:s, s:i}", "ok", 0, "error", msg, "step", step, "error_code",
                          code == MTP_EXIT_USAGE ? "usage" : "could_not_proceed", "exit", code);
    char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
    printf("%s\n", line ? line : "{\"ok\":false}");
    fflush(stdout);
    free(line);
    json_decref(j);
    fprintf(stderr, "mtprobe client: %s\n", msg);
    return code;
}

static bool takes_value(const char *o)
{
    static const char *const names[] = {
        "--server", "--rsa-pub",  "--rsa-key", "--transport", "--secret",       "--call",         "--request",
        "--fault",  "--api-schema", "--keylog", "--perm-key", "--temp-expires", "--max-auth-attempts", "--dc",
        "--layer",  "--api-id",   "--ping-count", "--max-frame", "--timeout",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(o, names[i]) == 0)
            return true;
    return false;
}

static int parse_args(int argc, char **argv, struct client_args *a)
{
    memset(a, 0, sizeof *a);
    a->dc = 2;
    a->api_id = 1;
    a->pings = 1;
    a->temp_expires = 86400;
    a->max_auth_attempts = 3;
    a->timeout_s = 10;
    a->max_frame = (size_t)1 << 20;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool flag = true;
        if (strcmp(o, "--raw") == 0)
            a->raw = true;
        else if (strcmp(o, "-v") == 0 || strcmp(o, "--verbose") == 0)
            a->verbose = true;
        else if (strcmp(o, "--salt-zero") == 0)
            a->salt_zero = true;
        else if (strcmp(o, "--dh-trust-known") == 0)
            a->trust_known = true;
        else if (strcmp(o, "--lenient-transport") == 0)
            a->lenient = true;
        else if (strcmp(o, "--pfs") == 0)
            a->pfs = true;
        else if (strcmp(o, "--list-faults") == 0)
            a->list_faults = true;
        else
            flag = false;
        if (flag)
            continue;
        if (!takes_value(o))
            return early_exit(MTP_EXIT_USAGE, "usage", "unknown option '%s' (see --help)", o);
        if (i + 1 >= argc)
            return early_exit(MTP_EXIT_USAGE, "usage", "%s needs a value (see --help)", o);
        const char *v = argv[++i];
        long long n;
        if (strcmp(o, "--server") == 0) {
            a->server = v;
        } else if (strcmp(o, "--rsa-pub") == 0 || strcmp(o, "--rsa-key") == 0) {
            a->rsa_pub = v;
        } else if (strcmp(o, "--transport") == 0) {
            a->transport = v;
        } else if (strcmp(o, "--secret") == 0) {
            a->secret_hex = v;
        } else if (strcmp(o, "--call") == 0) {
            if (a->n_calls == MAX_CALLS)
                return early_exit(MTP_EXIT_USAGE, "usage", "--call: at most %d calls", MAX_CALLS);
            a->calls[a->n_calls++] = v;
        } else if (strcmp(o, "--request") == 0) {
            if (a->request != NULL)
                return early_exit(MTP_EXIT_USAGE, "usage", "--request given twice (one comma-separated list)");
            a->request = v;
        } else if (strcmp(o, "--fault") == 0) {
            enum mtpc_fault f;
            if (mtpc_fault_from_name(v, &f) < 0)
                return early_exit(MTP_EXIT_USAGE, "usage", "--fault: unknown fault '%s' (see --list-faults)", v);
            a->faults |= MTPC_FAULT_BIT(f);
        } else if (strcmp(o, "--api-schema") == 0) {
            a->api_schema = v;
        } else if (strcmp(o, "--keylog") == 0) {
            a->keylog = v;
        } else if (strcmp(o, "--perm-key") == 0) {
            a->perm_key_hex = v;
        } else if (strcmp(o, "--temp-expires") == 0) {
            if (!parse_long(v, 1, INT32_MAX, &n))
                return early_exit(MTP_EXIT_USAGE, "usage", "--temp-expires needs seconds (1..2147483647), not '%s'", v);
            a->temp_expires = (int32_t)n;
            a->temp_expires_set = true;
        } else if (strcmp(o, "--max-auth-attempts") == 0) {
            if (!parse_long(v, 1, 100, &n))
                return early_exit(MTP_EXIT_USAGE, "usage", "--max-auth-attempts needs 1..100, not '%s'", v);
            a->max_auth_attempts = (unsigned)n;
        } else if (strcmp(o, "--dc") == 0) {
            if (!parse_long(v, -32768, 32767, &n))
                return early_exit(MTP_EXIT_USAGE, "usage", "--dc needs a DC id (-32768..32767), not '%s'", v);
            a->dc = (int32_t)n;
        } else if (strcmp(o, "--layer") == 0) {
            if (!parse_long(v, 1, INT32_MAX, &n))
                return early_exit(MTP_EXIT_USAGE, "usage", "--layer needs a positive number, not '%s'", v);
            a->layer = (int32_t)n;
        } else if (strcmp(o, "--api-id") == 0) {
            if (!parse_long(v, INT32_MIN, INT32_MAX, &n))
                return early_exit(MTP_EXIT_USAGE, "usage", "--api-id needs a number, not '%s'", v);
            a->api_id = (int32_t)n;
        } else if (strcmp(o, "--ping-count") == 0) {
            if (!parse_long(v, 0, 1000, &n))
                return early_exit(MTP_EXIT_USAGE, "usage", "--ping-count needs 0..1000, not '%s'", v);
            a->pings = (unsigned)n;
            a->pings_set = true;
        } else if (strcmp(o, "--max-frame") == 0) {
            if (!parse_long(v, 1024, 256LL << 20, &n))
                return early_exit(MTP_EXIT_USAGE, "usage", "--max-frame needs 1024..268435456 bytes, not '%s'", v);
            a->max_frame = (size_t)n;
        } else if (strcmp(o, "--timeout") == 0) {
            char *end;
            errno = 0;
            a->timeout_s = strtod(v, &end);
            if (errno || end == v || *end || !(a->timeout_s > 0 && a->timeout_s <= 86400))
                return early_exit(MTP_EXIT_USAGE, "usage", "--timeout needs seconds (0 < S <= 86400), not '%s'", v);
        } else {
            return early_exit(MTP_EXIT_USAGE, "usage", "unknown option '%s' (see --help)", o);
        }
    }
    if (a->list_faults)
        return MTP_EXIT_OK;
    if (a->server == NULL || a->rsa_pub == NULL || a->transport == NULL)
        return early_exit(MTP_EXIT_USAGE, "usage", "--server, --rsa-pub and --transport are required (see --help)");
    if (!a->pfs && (a->temp_expires_set || a->perm_key_hex != NULL))
        return early_exit(MTP_EXIT_USAGE, "usage", "--temp-expires and --perm-key need --pfs");
    if (a->request != NULL && (a->n_calls > 0 || a->pings_set))
        return early_exit(MTP_EXIT_USAGE, "usage", "--request replaces --call and --ping-count: give one or the other");
    return MTP_EXIT_OK;
}

/* A whole (small) file; NULL with err set. */
static char *read_file(const char *path, size_t max, size_t *len, struct mtp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool bad = buf == NULL || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        mtp_error_set(err, buf ? MTP_ERR_LIMIT : MTP_ERR_NOMEM, MTP_NO_OFFSET, "%s: unreadable or over %zu bytes",
                      path, max);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int parse_transport(const char *name, struct mtpc_config *cfg)
{
    static const char prefix[] = "obfuscated-";
    cfg->obfuscated = strncmp(name, prefix, sizeof prefix - 1) == 0;
    if (cfg->obfuscated)
        name += sizeof prefix - 1;
    if (mtp_tr_kind_from_name(name, &cfg->kind) < 0)
        return -1;
    return cfg->obfuscated && cfg->kind == MTP_TR_FULL ? -1 : 0;
}

struct tracer {
    const struct mtp_tl_schema *schema;
    struct mtp_wr line;
};

static void on_trace(void *ctx, const struct mtpc_trace *t)
{
    struct tracer *tr = ctx;
    /* Events that only say what the messages around them already show. */
    if (t->kind == MTPC_TRACE_EVENT && t->ev &&
        (t->ev->type == MTP_SESSION_EV_ACKED || t->ev->type == MTP_SESSION_EV_RESULT))
        return;
    mtp_wr_reset(&tr->line);
    if (mtpc_text_trace(tr->schema, t, 96, &tr->line) < 0 && tr->line.len == 0)
        return;
    fprintf(stderr, "mtprobe client: %.*s\n", (int)tr->line.len, (const char *)tr->line.p);
}

static void put_hex(json_t *j, const char *key, const void *p, size_t n)
{
    char *h = mtp_hex_alloc(p, n);
    if (h)
        json_object_set_new(j, key, json_string(h));
    free(h);
}

static void put_u64_wire(json_t *j, const char *key, uint64_t v)
{
    uint8_t b[8];
    mtp_store_u64(b, v);
    put_hex(j, key, b, sizeof b);
}

static const char *u64_str(uint64_t v, char buf[24])
{
    snprintf(buf, 24, "%" PRIu64, v);
    return buf;
}

static int exit_for(int code)
{
    switch (code) {
    case MTP_OK:
        return MTP_EXIT_OK;
    case MTP_ERR_CLIENT_CONNECT:
    case MTP_ERR_NOMEM:
    case MTP_ERR_OSSL:
    case MTP_ERR_INTERNAL:
        return MTP_EXIT_ERROR;
    default:
        return MTP_EXIT_FAIL;
    }
}

/* The requests: what goes to the core, and for each the call that decodes its answer (NULL: a ping). */
struct plan {
    struct mtpc_request reqs[MTPC_MAX_REQUESTS];
    const struct mtpc_call *call_of[MTPC_MAX_REQUESTS];
    size_t n;
    struct mtpc_call calls[MAX_CALLS];
    size_t n_calls;
};

/* A JSON string for text that may hold bytes from the server: as it is when
 * it is valid UTF-8, else with the offending bytes escaped. */
static json_t *json_text(const char *text)
{
    size_t len = strlen(text);
    if (mtp_tl_utf8_valid((const uint8_t *)text, len))
        return json_stringn(text, len);
    char buf[2048];
    return json_string(mtpc_text_escape((const uint8_t *)text, len, buf, sizeof buf));
}

static json_t *pong_json(const struct mtpc_answer *an)
{
    char id[24], msg_id[24];
    return json_pack("{s:s, s:s, s:s}", "_", "pong", "msg_id", u64_str(an->ping_msg_id, msg_id), "ping_id",
                     u64_str(an->ping_id, id));
}

/* results[i]: the answer to request i in the TL JSON mapping, or null.  An
 * answer that is not what its call returns is reported (*rc, *why) unless
 * an earlier failure is. */
static json_t *results_json(const struct mtpc_outcome *o, const struct plan *plan, const struct mtp_tl_schema *schema,
                            int *rc, char *why, size_t why_cap)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < o->n_answers && i < plan->n; i++) {
        const struct mtpc_answer *an = &o->answers[i];
        const struct mtpc_call *call = plan->call_of[i];
        json_t *r = NULL;
        if (!an->answered) {
            r = json_null();
        } else if (call == NULL) {
            r = pong_json(an);
        } else if (an->rpc_error) {
            r = mtpc_rpc_error_json(an->rpc_code, an->rpc_message, an->rpc_message_len);
        } else {
            struct mtp_error e;
            mtp_error_clear(&e);
            int arc = mtpc_call_answer_json(call, schema, an->result, an->result_len, &r, &e);
            if (arc < 0 && *rc == MTP_OK) {
                *rc = arc;
                snprintf(why, why_cap, "%s", e.msg);
            }
        }
        json_array_append_new(arr, r ? r : json_null());
    }
    return arr;
}

/* The report line. */
static json_t *report(const struct client_args *a, const struct mtpc_client *c, const struct plan *plan,
                      const struct mtp_tl_schema *schema, int64_t elapsed_ms, int *code)
{
    const struct mtpc_outcome *o = mtpc_outcome(c);
    json_t *j = json_object();
    json_object_set_new(j, "ok", json_false());
    json_object_set_new(j, "implementation", json_string(IMPLEMENTATION));
    json_object_set_new(j, "version", json_string(MTPROBE_VERSION));
    json_object_set_new(j, "client", json_string("mtprobe " MTPROBE_VERSION));
    json_object_set_new(j, "server", json_string(a->server));
    json_object_set_new(j, "transport", json_string(a->transport));
    json_object_set_new(j, "dc", json_integer(a->dc));
    if (o->have_key) {
        put_hex(j, "auth_key_id", o->key.auth_key_id, sizeof o->key.auth_key_id);
        put_hex(j, "auth_key", o->key.auth_key, sizeof o->key.auth_key);
    }
    if (o->have_temp_key) {
        put_hex(j, "temp_auth_key_id", o->temp_key.auth_key_id, sizeof o->temp_key.auth_key_id);
        put_hex(j, "temp_auth_key", o->temp_key.auth_key, sizeof o->temp_key.auth_key);
        json_object_set_new(j, "temp_expires_in", json_integer(o->temp_key.expires_in));
        if (o->temp_expires_at)
            json_object_set_new(j, "temp_expires_at", json_integer(o->temp_expires_at));
    }
    if (a->pfs)
        json_object_set_new(j, "bound", json_boolean(o->bound));
    /* The exchange of the key the session used: the temporary one with --pfs. */
    const struct mtp_auth_result *sk = o->have_temp_key ? &o->temp_key : o->have_key && !a->pfs ? &o->key : NULL;
    if (sk != NULL) {
        put_u64_wire(j, "server_salt", o->salt);
        put_hex(j, "handshake_salt", sk->server_salt, sizeof sk->server_salt);
        put_u64_wire(j, "session_id", o->session_id);
        put_hex(j, "fingerprint", sk->fingerprint, sizeof sk->fingerprint);
        json_object_set_new(j, "server_time", json_integer(sk->server_time));
        json_object_set_new(j, "time_offset_ms", json_integer(sk->time_offset_ms));
        json_object_set_new(j, "dh_retries", json_integer(sk->retries));
    }
    json_object_set_new(j, "auth_attempts", json_integer(o->auth_attempts));
    json_object_set_new(j, "pongs", json_integer(o->pongs));
    int rc = o->error;
    char why[MTP_ERROR_MSG_MAX] = "";
    json_t *results = results_json(o, plan, schema, &rc, why, sizeof why);
    if (rc != MTP_OK && o->error == MTP_OK) {
        json_object_set_new(j, "error", json_text(why));
        json_object_set_new(j, "step", json_string("call"));
    }
    /* "result": the last call's answer, or without calls the last pong. */
    json_t *result = NULL;
    for (size_t i = plan->n; results != NULL && i-- > 0;) {
        if (plan->call_of[i] == NULL && plan->n_calls > 0)
            continue;
        if (plan->call_of[i] != NULL)
            json_object_set_new(j, "method", json_string(plan->call_of[i]->method));
        json_t *r = json_array_get(results, i);
        if (json_is_null(r) && plan->call_of[i] == NULL)
            continue;
        result = json_is_null(r) ? NULL : json_incref(r);
        break;
    }
    if (result)
        json_object_set_new(j, "result", result);
    json_object_set_new(j, "results", results ? results : json_array());
    if (rc == MTP_OK) {
        json_object_set_new(j, "ok", json_true());
    } else if (o->error != MTP_OK) {
        json_object_set_new(j, "error", json_text(o->error_msg));
        json_object_set_new(j, "step", json_string(mtpc_step_name(o->error_step)));
    }
    if (rc != MTP_OK)
        json_object_set_new(j, "error_code", json_string(mtp_err_name(rc)));
    json_object_set_new(j, "received",
                        json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "bad_server_salt", (json_int_t)o->bad_salts,
                                  "bad_msg_notification", (json_int_t)o->bad_msgs, "new_session_created",
                                  (json_int_t)o->new_sessions, "quick_acks", (json_int_t)o->quick_acks, "acks",
                                  (json_int_t)o->acks, "ignored", (json_int_t)o->dropped, "updates",
                                  (json_int_t)o->updates));
    json_object_set_new(j, "resends", json_integer(o->resends));
    json_object_set_new(j, "bytes_out", json_integer((json_int_t)o->bytes_out));
    json_object_set_new(j, "bytes_in", json_integer((json_int_t)o->bytes_in));
    json_object_set_new(j, "elapsed_ms", json_integer(elapsed_ms));
    if (a->faults != 0) {
        json_t *f = json_array();
        for (unsigned i = 0; i < MTPC_FAULT_COUNT; i++)
            if (a->faults & MTPC_FAULT_BIT(i))
                json_array_append_new(f, json_string(mtpc_fault_info((enum mtpc_fault)i)->name));
        json_object_set_new(j, "faults", f);
    }
    *code = exit_for(rc);
    json_object_set_new(j, "exit", json_integer(*code));
    return j;
}

static void keylog_obfs(struct mtp_keylog *kl, const uint8_t *init, const struct mtp_obfs_secret *secret)
{
    uint8_t wire[MTP_OBFS_INIT_LEN];
    struct mtp_obfs_keys keys;
    /* The line names the keys by direction as the server's log does; the
     * server's pair is the mirror of ours. */
    if (mtp_obfs_wire(init, secret, wire) == MTP_OK && mtp_obfs_derive(init, secret, MTP_TR_SERVER, &keys) == MTP_OK)
        mtp_keylog_obfs2(kl, wire, &keys);
    mtp_wipe(&keys, sizeof keys);
}

static void keylog_new_nonce(void *ctx, const uint8_t nonce[16], const uint8_t server_nonce[16],
                             const uint8_t new_nonce[32])
{
    mtp_keylog_new_nonce(ctx, nonce, server_nonce, new_nonce);
}

/* The JSON of the calls --request names. */
static const struct {
    const char *name, *json;
} REQUEST_CALLS[] = {
    {"nearest_dc", "{\"_\":\"help.getNearestDc\"}"},
    {"config", "{\"_\":\"help.getConfig\"}"},
};

/* Splits a --request list into texts[] (NULL for a ping). */
static int plan_requests(const char *list, const char **texts, size_t *n, size_t *n_calls, struct mtp_error *err)
{
    *n = *n_calls = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        const char *text = NULL;
        bool known = len == 4 && strncmp(p, "ping", 4) == 0;
        for (size_t k = 0; !known && k < sizeof REQUEST_CALLS / sizeof REQUEST_CALLS[0]; k++)
            if (strlen(REQUEST_CALLS[k].name) == len && strncmp(p, REQUEST_CALLS[k].name, len) == 0) {
                text = REQUEST_CALLS[k].json;
                known = true;
            }
        if (!known)
            return mtp_error_set(err, MTP_ERR_ARG, (size_t)(p - list),
                                 "unknown request '%.*s' at offset %zu (ping, nearest_dc, config)", (int)len, p,
                                 (size_t)(p - list));
        if (*n == MTPC_MAX_REQUESTS || (text != NULL && *n_calls == MAX_CALLS))
            return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "more than %d requests or %d calls",
                                 MTPC_MAX_REQUESTS, MAX_CALLS);
        texts[(*n)++] = text;
        *n_calls += text != NULL;
        if (p[len] == '\0')
            return MTP_OK;
        p += len + 1;
    }
}

static int list_faults(void)
{
    for (unsigned i = 0; i < MTPC_FAULT_COUNT; i++) {
        const struct mtpc_fault_info *f = mtpc_fault_info((enum mtpc_fault)i);
        json_t *j = json_pack("{s:s, s:s, s:s}", "fault", f->name, "requirement", f->requirement, "what", f->what);
        char *line = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (line == NULL) {
            json_decref(j);
            return MTP_EXIT_ERROR;
        }
        printf("%s\n", line);
        free(line);
        json_decref(j);
    }
    fflush(stdout);
    return MTP_EXIT_OK;
}

static int client_run(int argc, char **argv)
{
    int64_t t0 = mtpc_net_now_ms();
    struct client_args a;
    int code = parse_args(argc, argv, &a);
    if (code != MTP_EXIT_OK)
        return code;
    if (a.list_faults)
        return list_faults();
    int64_t deadline = t0 + (int64_t)(a.timeout_s * 1000);

    struct mtpc_config cfg;
    mtpc_config_init(&cfg);
    if (parse_transport(a.transport, &cfg) < 0)
        return early_exit(MTP_EXIT_USAGE, "usage", "--transport: unknown transport '%s'", a.transport);
    struct mtp_error err;
    mtp_error_clear(&err);
    char host[256], port[32];
    if (mtpc_net_split(a.server, host, sizeof host, port, sizeof port, &err) < 0)
        return early_exit(MTP_EXIT_USAGE, "usage", "--server: %s", err.msg);
    /* An empty --secret is none: the runner always passes the option. */
    if (a.secret_hex != NULL && a.secret_hex[0] != '\0') {
        uint8_t raw[64];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, raw, sizeof raw, &err);
        if (mtp_hex_decode(a.secret_hex, strlen(a.secret_hex), &w, "--secret") < 0)
            return early_exit(MTP_EXIT_USAGE, "usage", "%s", err.msg);
        if (mtp_obfs_secret_parse(&cfg.secret, raw, w.len, &err) < 0)
            return early_exit(MTP_EXIT_USAGE, "usage", "--secret: %s", err.msg);
        if (!cfg.obfuscated)
            return early_exit(MTP_EXIT_USAGE, "usage", "--secret needs an obfuscated-* transport");
        if (cfg.secret.mode == MTP_OBFS_SECRET_FAKE_TLS)
            return early_exit(MTP_EXIT_USAGE, "usage", "--secret: fake-TLS (ee) secrets are not supported");
        if (cfg.secret.mode == MTP_OBFS_SECRET_PADDED && cfg.kind != MTP_TR_PADDED)
            return early_exit(MTP_EXIT_USAGE, "usage", "--secret: a dd secret needs obfuscated-padded");
    }

    struct mtp_rsa_key *key = NULL;
    uint8_t perm_key[256] = {0};
    struct mtp_tl_schema *schema = NULL;
    struct plan *plan = NULL;
    struct mtpc_client *c = NULL;
    struct mtp_keylog kl = {NULL};
    struct tracer tracer = {NULL, {0}};
    mtp_wr_init_dyn(&tracer.line, TRACE_LINE_MAX, NULL);
    int fd = -1;
    json_t *out = NULL;

    size_t pem_len;
    char *pem = read_file(a.rsa_pub, MTP_RSA_PEM_MAX, &pem_len, &err);
    int rc = pem ? mtp_rsa_key_from_pem(pem, pem_len, &key, &err) : err.code;
    free(pem);
    if (rc < 0) {
        code = early_exit(MTP_EXIT_ERROR, "setup", "--rsa-pub %s: %s", a.rsa_pub, err.msg);
        goto out;
    }

    /* The requests: --request names, or --ping-count pings then the --call list. */
    plan = calloc(1, sizeof *plan);
    if (plan == NULL) {
        code = early_exit(MTP_EXIT_ERROR, "setup", "out of memory");
        goto out;
    }
    const char *texts[MTPC_MAX_REQUESTS]; /* per request: the call's JSON, NULL for a ping */
    size_t n_calls = 0;
    if (a.request != NULL) {
        if (plan_requests(a.request, texts, &plan->n, &n_calls, &err) < 0) {
            code = early_exit(MTP_EXIT_USAGE, "usage", "--request: %s", err.msg);
            goto out;
        }
    } else {
        for (unsigned i = 0; i < a.pings; i++)
            texts[plan->n++] = NULL;
        for (size_t i = 0; i < a.n_calls; i++)
            texts[plan->n++] = a.calls[i];
        n_calls = a.n_calls;
    }
    if (n_calls > 0 || a.verbose) {
        const char *names[2] = {"api", NULL};
        size_t n = 1;
        if (a.api_schema) {
            names[0] = a.api_schema;
            names[1] = "mtproto";
            n = 2;
        }
        rc = mtp_tl_schema_load(names, n, &schema, &err);
        if (rc < 0 && n_calls > 0) {
            code = early_exit(MTP_EXIT_ERROR, "setup", "schema: %s", err.msg);
            goto out;
        }
        mtp_error_clear(&err);
    }
    struct mtpc_call_opts co;
    mtpc_call_opts_init(&co);
    co.raw = a.raw;
    co.api_id = a.api_id;
    co.layer = a.layer;
    if (co.layer == 0 && n_calls > 0) {
        char dir[3072], path[4096];
        if (a.api_schema)
            snprintf(path, sizeof path, "%s", a.api_schema);
        else
            snprintf(path, sizeof path, "%s/api.tl", mtp_tl_schema_dir(dir, sizeof dir));
        size_t len;
        char *text = read_file(path, SCHEMA_FILE_MAX, &len, &err);
        if (text)
            co.layer = mtpc_schema_layer(text, len);
        free(text);
        mtp_error_clear(&err);
    }
    for (size_t i = 0; i < plan->n; i++) {
        if (texts[i] == NULL) {
            plan->reqs[i].kind = MTPC_REQ_PING;
            continue;
        }
        struct mtpc_call *call = &plan->calls[plan->n_calls];
        rc = mtpc_call_build(call, schema, texts[i], &co, &err);
        if (rc < 0) {
            code = early_exit(MTP_EXIT_USAGE, "usage", "%s", err.msg);
            goto out;
        }
        plan->n_calls++;
        plan->reqs[i] = (struct mtpc_request){MTPC_REQ_CALL, call->bytes, call->len};
        plan->call_of[i] = call;
    }
    cfg.requests = plan->reqs;
    cfg.n_requests = plan->n;
    if (mtp_keylog_open(&kl, a.keylog, &err) < 0) {
        code = early_exit(MTP_EXIT_ERROR, "setup", "--keylog: %s", err.msg);
        goto out;
    }

    const struct mtp_rsa_key *keys[1] = {key};
    cfg.auth.keys = keys;
    cfg.auth.n_keys = 1;
    cfg.auth.dc = a.dc;
    if (a.trust_known)
        cfg.auth.dh_mode = MTP_DH_TRUST_KNOWN;
    cfg.obfs_dc = cfg.obfuscated ? (int16_t)a.dc : 0;
    cfg.max_frame = a.max_frame;
    cfg.strict_transport = !a.lenient;
    cfg.behaviour.salt_zero = a.salt_zero;
    cfg.faults = a.faults;
    cfg.max_auth_attempts = a.max_auth_attempts;
    if (a.pfs) {
        cfg.pfs.enabled = true;
        cfg.pfs.expires_in = a.temp_expires;
        if (a.perm_key_hex != NULL) {
            mtp_error_clear(&err);
            if (strlen(a.perm_key_hex) != 512 || mtp_hex_decode_exact(a.perm_key_hex, perm_key, sizeof perm_key, &err,
                                                                      "--perm-key") < 0) {
                code = early_exit(MTP_EXIT_USAGE, "usage", "--perm-key needs 256 bytes as 512 hex digits");
                goto out;
            }
            cfg.pfs.perm_key = perm_key;
        }
    }
    cfg.on_new_nonce = keylog_new_nonce;
    cfg.new_nonce_ctx = &kl;
    if (a.verbose) {
        tracer.schema = schema;
        cfg.trace = on_trace;
        cfg.trace_ctx = &tracer;
    }
    struct mtp_env env = mtp_env_system();
    if (mtpc_new(&cfg, &env, &c, &err) < 0) {
        code = early_exit(MTP_EXIT_ERROR, "setup", "%s", err.msg);
        goto out;
    }
    /* One connection per attempt at a key exchange: -404 during one restarts it on a new connection. */
    for (;;) {
        if (mtpc_obfs_init(c) != NULL)
            keylog_obfs(&kl, mtpc_obfs_init(c), &cfg.secret);
        mtp_error_clear(&err);
        rc = mtpc_net_connect(host, port, deadline, &fd, &err);
        if (rc < 0) {
            mtpc_fail(c, rc, "connect: %s", err.msg);
            break;
        }
        rc = mtpc_net_run(c, fd, deadline); /* the outcome has it all */
        if (!mtpc_wants_reconnect(c))
            break;
        close(fd);
        fd = -1;
        if (a.verbose)
            fprintf(stderr, "mtprobe client: transport error -404 during the key exchange: restarting it on a new "
                            "connection (attempt %u of %u)\n",
                    mtpc_outcome(c)->auth_attempts + 1, a.max_auth_attempts);
        if (mtpc_reconnect(c) < 0)
            break;
    }
    const struct mtpc_outcome *o = mtpc_outcome(c);
    if (o->have_key && cfg.pfs.perm_key == NULL)
        mtp_keylog_auth_key(&kl, o->key.auth_key_id, o->key.auth_key, false, 0);
    if (o->have_temp_key) {
        mtp_keylog_auth_key(&kl, o->temp_key.auth_key_id, o->temp_key.auth_key, true, o->temp_expires_at);
        if (o->bound)
            mtp_keylog_bind(&kl, o->temp_key.auth_key_id, o->key.auth_key_id, o->temp_expires_at);
    }
    out = report(&a, c, plan, schema, mtpc_net_now_ms() - t0, &code);
    char *line = json_dumps(out, JSON_COMPACT);
    printf("%s\n", line ? line : "{\"ok\":false,\"error\":\"out of memory\"}");
    fflush(stdout);
    if (line) {
        mtp_wipe(line, strlen(line));
        free(line);
    }
    const char *why = json_string_value(json_object_get(out, "error"));
    if (code != MTP_EXIT_OK)
        fprintf(stderr, "mtprobe client: %s\n", why ? why : "failed (see the JSON line)");

out:
    if (fd >= 0)
        close(fd);
    json_decref(out);
    mtpc_del(c);
    mtp_keylog_close(&kl);
    for (size_t i = 0; plan != NULL && i < plan->n_calls; i++)
        mtpc_call_free(&plan->calls[i]);
    free(plan);
    mtp_tl_schema_free(schema);
    mtp_rsa_key_free(key);
    mtp_wr_free(&tracer.line);
    mtp_wipe(perm_key, sizeof perm_key);
    return code;
}

const struct mtp_cli_cmd mtp_cli_cmd_client = {
    .name = "client",
    .summary = "the reference client: make a key, ping, call one method, print one JSON line",
    .run = client_run,
    .usage = client_usage,
};
