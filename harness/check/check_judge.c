/* Judging a run (docs/cases.md, "How a run is judged"). */
#define _GNU_SOURCE /* strcasestr */
#include "check/check_judge.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The canary values the mock DC puts in hostile answers (docs/scenarios.md, "inject"). */
#define CANARY_TEXT "CANARY" /* nearestDc.country; config.dc_txt_domain_name has it in lower case */
#define CANARY_NEAREST_DC 77
#define CANARY_CONFIG_DATE 1234567890
#define CANARY_SALT_WIRE "43414e4152592121" /* "CANARY!!" */

enum nc { NC_PASS, NC_FAIL, NC_NA };

struct jctx {
    const struct check_case *c;
    const json_t *ev;
    const struct check_client_run *run;
    json_t *marks;
    char *obs;
    size_t obs_cap;
    int64_t start_ms; /* the server clock at t = 0 */
};

static void say(struct jctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct jctx *x, const char *fmt, ...)
{
    size_t used = strlen(x->obs);
    if (used + 1 >= x->obs_cap)
        return;
    if (used > 0 && x->obs[used - 1] != ' ' && used + 2 < x->obs_cap) {
        x->obs[used++] = ';';
        x->obs[used++] = ' ';
        x->obs[used] = '\0';
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->obs + used, x->obs_cap - used, fmt, ap);
    va_end(ap);
}

static void mark(struct jctx *x, size_t index, const char *why)
{
    json_array_append_new(x->marks, json_pack("{s:I, s:s}", "event", (json_int_t)index, "why", why));
}

/* --- reading events --- */

static const char *str(const json_t *e, const char *k) { return json_string_value(json_object_get(e, k)); }
static bool is(const json_t *e, const char *kind)
{
    const char *v = str(e, "ev");
    return v && strcmp(v, kind) == 0;
}
static bool is_msg(const json_t *e, const char *dir)
{
    const char *d = str(e, "dir");
    return is(e, "msg") && d && strcmp(d, dir) == 0;
}
static json_int_t conn(const json_t *e) { return json_integer_value(json_object_get(e, "conn")); }
static bool enc(const json_t *e) { return json_is_true(json_object_get(e, "enc")); }
static uint64_t hex64(const char *s) { return s ? strtoull(s, NULL, 16) : 0; }
static uint64_t msg_id(const json_t *e) { return hex64(str(e, "msg_id")); }
static bool ctor_is(const json_t *e, const char *name)
{
    const char *c = str(e, "ctor");
    return c && strcmp(c, name) == 0;
}
static bool has_name(const json_t *e, const char *name)
{
    size_t i;
    const json_t *n;
    json_array_foreach(json_object_get(e, "names"), i, n)
    {
        if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
            return true;
    }
    return false;
}
static int64_t server_ms(const struct jctx *x, const json_t *e)
{
    return x->start_ms + json_integer_value(json_object_get(e, "t"));
}
/* The client's nonce in a key-exchange message body (bytes 4..20). */
static bool nonce_of(const json_t *e, char out[33])
{
    const char *b = str(e, "body");
    if (b == NULL || strlen(b) < 40)
        return false;
    memcpy(out, b + 8, 32);
    out[32] = '\0';
    return true;
}
static bool acked(const json_t *e, const char *id)
{
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(e, "acks"), i, a)
    {
        if (json_is_string(a) && strcmp(json_string_value(a), id) == 0)
            return true;
    }
    return false;
}
/* Content-related: everything but acks, containers and the service messages that answer nothing. */
static bool content_related(const char *ctor)
{
    static const char *const not_content[] = {"msgs_ack", "msg_container", "http_wait", "gzip_packed"};
    if (ctor == NULL)
        return false;
    for (size_t i = 0; i < sizeof not_content / sizeof not_content[0]; i++)
        if (strcmp(ctor, not_content[i]) == 0)
            return false;
    return true;
}

/* --- the client --- */

static bool client_ok(const struct check_client_run *r)
{
    return r->started && !r->exit.timed_out && r->exit.code == 0 && r->line &&
           json_is_true(json_object_get(r->line, "ok"));
}
static bool client_crashed(const struct check_client_run *r)
{
    return r->started && !r->exit.timed_out &&
           (r->exit.signal != 0 || (r->line && json_is_true(json_object_get(r->line, "crash"))));
}

static void describe_client(struct jctx *x)
{
    const struct check_client_run *r = x->run;
    if (!r->started) {
        say(x, "the client command could not be started");
        return;
    }
    if (r->exit.timed_out) {
        say(x, "the client neither finished nor ended within %.1f s and was killed", (double)r->exit.elapsed_ms / 1000);
        return;
    }
    if (r->exit.signal)
        say(x, "the client was killed by signal %d after %.1f s", r->exit.signal, (double)r->exit.elapsed_ms / 1000);
    else
        say(x, "the client exited %d after %.1f s", r->exit.code, (double)r->exit.elapsed_ms / 1000);
    const char *err = r->line ? str(r->line, "error") : NULL;
    if (err)
        say(x, "its error: %.300s", err);
    else if (r->line == NULL && r->line_error)
        say(x, "no JSON line: %s", r->line_error);
}

/* The canary of a hostile answer in what the client returned (decided by the adapter's line). */
static bool canary_in(const json_t *v)
{
    if (json_is_string(v))
        return strcasestr(json_string_value(v), CANARY_TEXT) != NULL;
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            if (canary_in(e))
                return true;
        }
    }
    if (json_is_object(v)) {
        const char *t = str(v, "_");
        if (t && strcmp(t, "nearestDc") == 0 &&
            json_integer_value(json_object_get(v, "nearest_dc")) == CANARY_NEAREST_DC)
            return true;
        if (t && strcmp(t, "config") == 0 && json_integer_value(json_object_get(v, "date")) == CANARY_CONFIG_DATE)
            return true;
        const char *k;
        const json_t *e;
        json_object_foreach((json_t *)v, k, e)
        {
            if (canary_in(e))
                return true;
        }
    }
    return false;
}

/* --- named checks --- */

typedef enum nc (*named_fn)(struct jctx *x);

/* One message of a packet: the packet itself, or each message of its container. */
struct item {
    const char *id, *ctor;
    json_int_t seqno;
};

static size_t items_of(const json_t *e, struct item *items, size_t cap)
{
    size_t m = 0;
    const json_t *nested = json_object_get(e, "nested");
    if (nested) {
        size_t k;
        const json_t *it;
        json_array_foreach(nested, k, it)
        {
            if (m < cap)
                items[m++] = (struct item){str(it, "msg_id"), str(it, "ctor"),
                                           json_integer_value(json_object_get(it, "seqno"))};
        }
    } else if (cap > 0) {
        items[m++] = (struct item){str(e, "msg_id"), str(e, "ctor"), json_integer_value(json_object_get(e, "seqno"))};
    }
    return m;
}

/* C-SES-23: the client's msg_ids are divisible by 4; per session they grow. */
static enum nc nc_client_msg_ids(struct jctx *x)
{
    size_t i;
    const json_t *e;
    size_t seen = 0;
    json_t *last = json_object(); /* session_id -> last top-level msg_id */
    enum nc res = NC_PASS;
    json_array_foreach(x->ev, i, e)
    {
        if (!is_msg(e, "c2s"))
            continue;
        uint64_t id = msg_id(e);
        seen++;
        if (id % 4 != 0) {
            say(x, "conn %" JSON_INTEGER_FORMAT ": the client's msg_id %016" PRIx64 " is not divisible by 4 (%s)",
                conn(e), id, str(e, "ctor") ? str(e, "ctor") : "?");
            mark(x, i, "msg_id not divisible by 4");
            res = NC_FAIL;
            break;
        }
        size_t k;
        const json_t *n;
        json_array_foreach(json_object_get(e, "nested"), k, n)
        {
            uint64_t nid = hex64(str(n, "msg_id"));
            if (nid % 4 != 0 || nid >= id) {
                say(x, "the client's container %016" PRIx64 " holds msg_id %016" PRIx64 " (%s)", id, nid,
                    nid % 4 ? "not divisible by 4" : "not below the container's");
                mark(x, i, "nested msg_id");
                res = NC_FAIL;
            }
        }
        if (res == NC_FAIL)
            break;
        if (!enc(e))
            continue;
        const char *sid = str(e, "session_id");
        json_t *prev = sid ? json_object_get(last, sid) : NULL;
        if (prev && hex64(json_string_value(prev)) >= id) {
            say(x, "the client's msg_id %016" PRIx64 " is not above its previous one in the session, %s", id,
                json_string_value(prev));
            mark(x, i, "msg_id not increasing");
            res = NC_FAIL;
            break;
        }
        if (sid)
            json_object_set_new(last, sid, json_string(str(e, "msg_id")));
    }
    json_decref(last);
    return seen ? res : NC_NA;
}

/* C-SES-26: content-related messages carry odd seqnos, the others even ones. */
static enum nc nc_client_seqno(struct jctx *x)
{
    size_t i;
    const json_t *e;
    size_t seen = 0;
    json_array_foreach(x->ev, i, e)
    {
        if (is(e, "deviation")) {
            const char *req = str(e, "requirement");
            if (req && strcmp(req, "C-SES-26") == 0) {
                say(x, "the server tolerated: %s", str(e, "what") ? str(e, "what") : "?");
                mark(x, i, "deviation");
                return NC_FAIL;
            }
        }
        if (!is_msg(e, "c2s") || !enc(e))
            continue;
        seen++;
        struct item items[64];
        size_t n = items_of(e, items, 64);
        for (size_t k = 0; k < n; k++) {
            bool odd = (items[k].seqno & 1) != 0;
            if (odd != content_related(items[k].ctor)) {
                say(x, "the client sent %s with seqno %" JSON_INTEGER_FORMAT " (%s expected)",
                    items[k].ctor ? items[k].ctor : "?", items[k].seqno, odd ? "even" : "odd");
                mark(x, i, "seqno parity");
                return NC_FAIL;
            }
        }
    }
    return seen ? NC_PASS : NC_NA;
}

/* C-SES-26: content-related server messages are acknowledged (when the client went on talking). */
static enum nc nc_acks_content(struct jctx *x)
{
    size_t n = json_array_size(x->ev), checked = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(x->ev, i);
        if (!is_msg(e, "s2c") || !enc(e) || json_object_get(e, "hostile"))
            continue;
        struct item items[64];
        size_t m = items_of(e, items, 64);
        for (size_t k = 0; k < m; k++) {
            if (!(items[k].seqno & 1) || items[k].id == NULL)
                continue;
            /* Only messages after which the client sent at least two more packets on the
             * connection: acks may be batched with the next message. */
            size_t later = 0;
            bool found = false;
            for (size_t j = i + 1; j < n; j++) {
                const json_t *f = json_array_get(x->ev, j);
                if (!is_msg(f, "c2s") || conn(f) != conn(e))
                    continue;
                later++;
                found |= acked(f, items[k].id);
            }
            if (!found && later < 2)
                continue;
            checked++;
            if (!found) {
                say(x, "the server's %s (msg_id %s, content-related) was never acknowledged although the client sent "
                       "%zu more packets", items[k].ctor ? items[k].ctor : "?", items[k].id, later);
                mark(x, i, "not acknowledged");
                return NC_FAIL;
            }
        }
    }
    return checked ? NC_PASS : NC_NA;
}

/* The msg_id a server notification refers to: from the session core's event,
 * or from the body of a bad_msg_notification / bad_server_salt the server sent
 * on its own (bad_msg_id is the first field after the constructor). */
static const char *refused_msg_id(const json_t *e, char buf[17], const char **what)
{
    if (is(e, "session")) {
        const char *w = str(e, "what");
        if (w && (strcmp(w, "bad_server_salt") == 0 || strcmp(w, "bad_msg_notification") == 0)) {
            *what = w;
            return str(e, "ref_msg_id");
        }
        return NULL;
    }
    if (!is_msg(e, "s2c") || json_object_get(e, "hostile") ||
        !(ctor_is(e, "bad_msg_notification") || ctor_is(e, "bad_server_salt")))
        return NULL;
    const char *b = str(e, "body");
    if (b == NULL || strlen(b) < 24)
        return NULL;
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--) {
        char byte[3] = {b[8 + 2 * k], b[9 + 2 * k], 0};
        v = v << 8 | strtoull(byte, NULL, 16);
    }
    snprintf(buf, 17, "%016" PRIx64, v);
    *what = str(e, "ctor");
    return buf;
}

/* C-SES-27: a message the server refused (bad_server_salt, bad_msg_notification) is resent under a new msg_id. */
static enum nc nc_resend_new_msg_id(struct jctx *x)
{
    size_t n = json_array_size(x->ev), checked = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(x->ev, i);
        char buf[17];
        const char *what = NULL;
        const char *ref = refused_msg_id(e, buf, &what);
        /* A notification inside a container of the server's. */
        size_t k0;
        const json_t *m0;
        json_array_foreach(is_msg(e, "s2c") && !ref ? json_object_get(e, "nested") : NULL, k0, m0)
        {
            json_t *as_msg = json_pack("{s:s, s:s, s:s, s:s}", "ev", "msg", "dir", "s2c", "ctor",
                                       str(m0, "ctor") ? str(m0, "ctor") : "", "body", str(m0, "body") ? str(m0, "body") : "");
            ref = refused_msg_id(as_msg, buf, &what);
            if (ref && what == str(as_msg, "ctor"))
                what = ctor_is(as_msg, "bad_server_salt") ? "bad_server_salt" : "bad_msg_notification";
            json_decref(as_msg);
            if (ref)
                break;
        }
        if (ref == NULL)
            continue;
        checked++;
        mark(x, i, what);
        for (size_t j = i + 1; j < n; j++) {
            const json_t *f = json_array_get(x->ev, j);
            if (!is_msg(f, "c2s"))
                continue;
            bool same = strcmp(str(f, "msg_id") ? str(f, "msg_id") : "", ref) == 0;
            size_t k;
            const json_t *m;
            json_array_foreach(json_object_get(f, "nested"), k, m)
            {
                same |= strcmp(str(m, "msg_id") ? str(m, "msg_id") : "", ref) == 0;
            }
            if (same) {
                say(x, "after %s for msg_id %s the client sent msg_id %s again", what, ref, ref);
                mark(x, j, "msg_id reused");
                return NC_FAIL;
            }
        }
    }
    if (checked == 0)
        say(x, "the server refused no message of the client (no bad_server_salt or bad_msg_notification)");
    return checked ? NC_PASS : NC_NA;
}

/* Why the 64 bytes of an obfuscated init break the rules, or NULL. */
static const char *init_fault(const char *init)
{
    /* HEAD, POST, GET, OPTIONS (HTTP methods the servers accept), padded intermediate, intermediate.  The
     * page's example code also skips 16 03 01 02 (a TLS record), which the text does not require. */
    static const char *const forbidden[] = {"48454144", "504f5354", "47455420", "4f505449", "dddddddd", "eeeeeeee"};
    if (strncmp(init, "ef", 2) == 0)
        return "its first byte is 0xef";
    for (size_t k = 0; k < sizeof forbidden / sizeof forbidden[0]; k++)
        if (strncmp(init, forbidden[k], 8) == 0)
            return "its first four bytes are a forbidden value";
    if (strncmp(init + 8, "00000000", 8) == 0)
        return "bytes 4..7 are zero";
    return NULL;
}

/* C-TR-30: the obfuscated init's first bytes obey the rules.  Inits the mock DC
 * recognised are in the transport events; over an obfuscated transport, a
 * connection the mock DC did not take for obfuscated is judged by the bytes it
 * opened with (the close event's "first"). */
static enum nc nc_obfs_init(struct jctx *x)
{
    bool obfs_run = x->run->transport && strncmp(x->run->transport, "obfuscated", 10) == 0;
    json_t *seen_obfs = json_object(); /* conns recognised as obfuscated */
    size_t i;
    const json_t *e;
    size_t seen = 0;
    enum nc res = NC_PASS;
    json_array_foreach(x->ev, i, e)
    {
        const char *init = NULL;
        char cid[32];
        snprintf(cid, sizeof cid, "%" JSON_INTEGER_FORMAT, conn(e));
        if (is(e, "transport") && json_is_true(json_object_get(e, "obfuscated"))) {
            json_object_set_new(seen_obfs, cid, json_true());
            init = str(e, "init");
        } else if (obfs_run && is(e, "close") && json_object_get(seen_obfs, cid) == NULL) {
            init = str(e, "first");
        }
        if (init == NULL || strlen(init) != 128)
            continue;
        seen++;
        const char *why = init_fault(init);
        if (why) {
            say(x, "conn %" JSON_INTEGER_FORMAT ": obfuscated init %.16s...: %s", conn(e), init, why);
            mark(x, i, why);
            res = NC_FAIL;
            break;
        }
    }
    json_decref(seen_obfs);
    return res == NC_FAIL ? NC_FAIL : seen ? NC_PASS : NC_NA;
}

/* C-HS-13: once the key exists the client's msg_ids follow the server's clock (within 30 s). */
static enum nc nc_time_synced(struct jctx *x)
{
    size_t i;
    const json_t *e;
    json_array_foreach(x->ev, i, e)
    {
        if (!is_msg(e, "c2s") || !enc(e))
            continue;
        double sent = (double)(msg_id(e) >> 32) + (double)(msg_id(e) & 0xffffffffu) / 4294967296.0;
        double now = (double)server_ms(x, e) / 1000.0;
        double d = sent - now;
        if (d > 30.0 || d < -30.0) {
            say(x, "the client's first encrypted msg_id is %.0f s %s the server's clock", d > 0 ? d : -d,
                d > 0 ? "ahead of" : "behind");
            mark(x, i, "msg_id time");
            return NC_FAIL;
        }
        say(x, "the client's first encrypted msg_id is within %.1f s of the server's clock", d > 0 ? d : -d);
        return NC_PASS;
    }
    return NC_NA;
}

/* C-HS-13 (INFO): the first encrypted message uses the salt the exchange derived. */
static enum nc nc_salt_derived(struct jctx *x)
{
    size_t i;
    const json_t *e;
    const char *salt = NULL;
    json_array_foreach(x->ev, i, e)
    {
        if (is(e, "key"))
            salt = str(e, "server_salt");
        if (!is_msg(e, "c2s") || !enc(e) || salt == NULL)
            continue;
        const char *used = str(e, "salt");
        if (used && strcmp(used, salt) == 0)
            return NC_PASS;
        say(x, "the client's first encrypted message uses salt %s, not the exchange's %s", used ? used : "?", salt);
        mark(x, i, "salt");
        return NC_FAIL;
    }
    return NC_NA;
}

/* The mock DC tolerated a deviation of this case's requirement (events "deviation"). */
static enum nc nc_no_deviation(struct jctx *x)
{
    size_t i;
    const json_t *e;
    json_array_foreach(x->ev, i, e)
    {
        const char *req = str(e, "requirement");
        if (is(e, "deviation") && req && strcmp(req, x->c->requirement) == 0) {
            say(x, "the server tolerated: %s", str(e, "what") ? str(e, "what") : "?");
            mark(x, i, "deviation");
            return NC_FAIL;
        }
    }
    return NC_PASS;
}

/* The mock DC refused nothing the client sent in the key exchange (its own checks
 * of p and q, the fingerprint, the RSA payload, client_DH_inner_data). */
static enum nc nc_no_bad_packet(struct jctx *x)
{
    size_t i;
    const json_t *e;
    bool exchanged = false;
    json_array_foreach(x->ev, i, e)
    {
        if (is_msg(e, "c2s") && ctor_is(e, "req_DH_params"))
            exchanged = true;
        if (is(e, "bad_packet") && str(e, "what") && strcmp(str(e, "what"), "auth-key exchange") == 0) {
            say(x, "the mock DC refused the client's key-exchange message: %s", str(e, "text") ? str(e, "text") : "?");
            mark(x, i, "refused");
            return NC_FAIL;
        }
    }
    return exchanged ? NC_PASS : NC_NA;
}

/* C-ENC-16: every hostile message got the same kind of reaction: the client
 * closed the connection before the server's next message on it, or it did not. */
static enum nc nc_same_reaction(struct jctx *x)
{
    size_t n = json_array_size(x->ev);
    /* A client that took one of them did not see an error there at all: its own
     * case (C-ENC-15, C-ENC-17 ...) judges that, not this one. */
    if (x->run->line && canary_in(json_object_get(x->run->line, "results"))) {
        say(x, "the client took a hostile message for an answer, so it saw no error to react to");
        return NC_NA;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(x->ev, i);
        if (!is_msg(e, "s2c") || str(e, "hostile") == NULL || str(e, "msg_id") == NULL)
            continue;
        for (size_t k = i + 1; k < n; k++)
            if (is_msg(json_array_get(x->ev, k), "c2s") && acked(json_array_get(x->ev, k), str(e, "msg_id"))) {
                say(x, "the client acknowledged the hostile %s, so it saw no error to react to", str(e, "hostile"));
                return NC_NA;
            }
    }
    const char *first = NULL;
    size_t first_at = 0, seen = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(x->ev, i);
        if (!is_msg(e, "s2c") || json_object_get(e, "hostile") == NULL)
            continue;
        const char *reaction = "went on";
        for (size_t k = i + 1; k < n; k++) {
            const json_t *f = json_array_get(x->ev, k);
            if (conn(f) != conn(e))
                continue;
            if (is(f, "close")) {
                const char *by = str(f, "by");
                if (by && strcmp(by, "client") == 0)
                    reaction = "closed the connection";
                break;
            }
            if (is_msg(f, "s2c") || is_msg(f, "c2s"))
                break;
        }
        seen++;
        if (first == NULL) {
            first = reaction;
            first_at = i;
            continue;
        }
        if (strcmp(first, reaction) != 0) {
            say(x, "to the hostile %s the client reacted: %s; to the hostile %s: %s", str(json_array_get(x->ev, first_at), "hostile"),
                first, str(e, "hostile"), reaction);
            mark(x, i, "another reaction");
            return NC_FAIL;
        }
    }
    if (seen < 2) {
        say(x, "fewer than two hostile messages were sent");
        return NC_NA;
    }
    say(x, "to each of %zu hostile messages the client reacted the same way: %s", seen, first);
    return NC_PASS;
}

/* C-TR-29: after -404 for an encrypted packet the key is gone: never used again. */
static enum nc nc_no_dead_key(struct jctx *x)
{
    size_t n = json_array_size(x->ev), checked = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(x->ev, i);
        if (!is(e, "transport_error") || json_integer_value(json_object_get(e, "code")) != -404)
            continue;
        /* The key the refused packet was sent under: the connection's last encrypted
         * packet's, else the last key the exchange made (a rule may refuse the very
         * first encrypted packet before it is decrypted). */
        const char *key = NULL, *made = NULL;
        bool encrypted_before = false;
        for (size_t k = 0; k < i; k++) {
            const json_t *f = json_array_get(x->ev, k);
            if (is(f, "key"))
                made = str(f, "auth_key_id");
            if (conn(f) == conn(e) && is_msg(f, "c2s") && enc(f)) {
                key = str(f, "auth_key_id");
                encrypted_before = true;
            }
            if (conn(f) == conn(e) && is(f, "unknown_key"))
                key = str(f, "auth_key_id");
        }
        if (key == NULL && !encrypted_before)
            key = made;
        if (key == NULL)
            continue;
        checked++;
        mark(x, i, "-404");
        for (size_t k = i + 1; k < n; k++) {
            const json_t *f = json_array_get(x->ev, k);
            if (is_msg(f, "c2s") && enc(f) && str(f, "auth_key_id") && strcmp(str(f, "auth_key_id"), key) == 0) {
                say(x, "after -404 the client went on sending under the dead key %s", key);
                mark(x, k, "dead key used");
                return NC_FAIL;
            }
        }
    }
    if (!checked) {
        say(x, "the server never answered an encrypted packet with -404");
        return NC_NA;
    }
    return NC_PASS;
}

/* C-DH-6: no g_b repeats over the exchanges of the run (the server's dh_attempt events). */
static enum nc nc_g_b_fresh(struct jctx *x)
{
    json_t *seen = json_object();
    size_t attempts = 0;
    size_t i;
    const json_t *e;
    enum nc res = NC_PASS;
    json_array_foreach(x->ev, i, e)
    {
        const char *g_b = is(e, "dh_attempt") ? str(e, "g_b_sha256") : NULL;
        if (g_b == NULL)
            continue;
        attempts++;
        if (json_object_get(seen, g_b)) {
            say(x, "the client sent the same g_b in two attempts (SHA256 %.16s...)", g_b);
            mark(x, i, "g_b repeated");
            res = NC_FAIL;
            break;
        }
        json_object_set_new(seen, g_b, json_true());
    }
    json_decref(seen);
    if (res == NC_PASS && attempts < 2) {
        say(x, "fewer than two attempts at set_client_DH_params");
        return NC_NA;
    }
    if (res == NC_PASS)
        say(x, "%zu attempts, every g_b different", attempts);
    return res;
}

/* Exercised edges: the server really sent what the case is about. */
static enum nc exercised_padding(struct jctx *x, json_int_t want)
{
    size_t i;
    const json_t *e;
    json_array_foreach(x->ev, i, e)
    {
        if (is_msg(e, "s2c") && enc(e) && json_integer_value(json_object_get(e, "padding")) == want) {
            mark(x, i, "the edge");
            return NC_PASS;
        }
    }
    say(x, "the server never sent a message with exactly %" JSON_INTEGER_FORMAT " bytes of padding", want);
    return NC_NA;
}
static enum nc nc_padding_12(struct jctx *x) { return exercised_padding(x, 12); }
static enum nc nc_padding_1024(struct jctx *x) { return exercised_padding(x, 1024); }

static enum nc exercised_name(struct jctx *x, const char *name)
{
    size_t i;
    const json_t *e;
    json_array_foreach(x->ev, i, e)
    {
        if (is_msg(e, "s2c") && has_name(e, name)) {
            mark(x, i, "the edge");
            return NC_PASS;
        }
    }
    say(x, "the server never sent %s", name);
    return NC_NA;
}
static enum nc nc_sent_gzip(struct jctx *x) { return exercised_name(x, "gzip_packed"); }
static enum nc nc_sent_container(struct jctx *x) { return exercised_name(x, "msg_container"); }

/* A key whose first byte is zero was made and the client used it. */
static enum nc nc_zero_key_used(struct jctx *x)
{
    size_t i;
    const json_t *e;
    const char *zero = NULL;
    size_t at = 0;
    json_array_foreach(x->ev, i, e)
    {
        if (is(e, "key") && json_integer_value(json_object_get(e, "first_byte")) == 0 && zero == NULL) {
            zero = str(e, "auth_key_id");
            at = i;
        }
        if (zero && is_msg(e, "c2s") && enc(e) && str(e, "auth_key_id") && strcmp(str(e, "auth_key_id"), zero) == 0) {
            mark(x, at, "key with a zero first byte");
            return NC_PASS;
        }
    }
    if (zero == NULL) {
        say(x, "no exchange produced a key with a zero first byte");
        return NC_NA;
    }
    mark(x, at, "key with a zero first byte");
    say(x, "the server made key %s (first byte 0) and the client never used it", zero);
    return NC_FAIL;
}

static const struct {
    const char *name;
    named_fn fn;
    const char *what;
} named[] = {
    {"client_msg_ids", nc_client_msg_ids, "C-SES-23: the client's msg_ids are divisible by 4 and grow within a session"},
    {"client_seqno", nc_client_seqno, "C-SES-26: content-related messages odd seqno, others even"},
    {"acks_content", nc_acks_content, "C-SES-26: content-related server messages are acknowledged"},
    {"resend_new_msg_id", nc_resend_new_msg_id, "C-SES-27: a refused message is resent under a new msg_id"},
    {"obfs_init", nc_obfs_init, "C-TR-30: the obfuscated init's first bytes obey the rules"},
    {"time_synced", nc_time_synced, "C-HS-13: the client's msg_ids follow the server's clock"},
    {"salt_derived", nc_salt_derived, "C-HS-13: the first encrypted message uses the derived salt"},
    {"same_reaction", nc_same_reaction, "C-ENC-16: every hostile message got the same reaction (closed or went on)"},
    {"no_dead_key", nc_no_dead_key, "C-TR-29: after -404 for an encrypted packet the key is never used again"},
    {"g_b_fresh", nc_g_b_fresh, "C-DH-6: no g_b repeats over the run's attempts"},
    {"no_bad_packet", nc_no_bad_packet, "C-HS-10/11: the mock DC refused none of the client's key-exchange messages"},
    {"no_deviation", nc_no_deviation, "the mock DC tolerated no deviation of the case's requirement"},
    {"padding_12", nc_padding_12, "edge: the server sent a message with exactly 12 bytes of padding"},
    {"padding_1024", nc_padding_1024, "edge: the server sent a message with exactly 1024 bytes of padding"},
    {"sent_gzip", nc_sent_gzip, "edge: the server sent a gzip_packed answer"},
    {"sent_container", nc_sent_container, "edge: the server sent a msg_container"},
    {"zero_key_used", nc_zero_key_used, "edge: a key with a zero first byte was made and used"},
};

static named_fn find_named(const char *name)
{
    for (size_t i = 0; name && i < sizeof named / sizeof named[0]; i++)
        if (strcmp(named[i].name, name) == 0)
            return named[i].fn;
    return NULL;
}

bool check_named_known(const char *name) { return find_named(name) != NULL; }

void check_named_list(void (*fn)(void *ctx, const char *name, const char *what), void *ctx)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        fn(ctx, named[i].name, named[i].what);
}

/* Runs the case's named checks: NC_FAIL if one fails, NC_NA if one was not exercised. */
static enum nc run_named(struct jctx *x)
{
    enum nc res = NC_PASS;
    size_t i;
    const json_t *n;
    json_array_foreach(x->c->checks, i, n)
    {
        named_fn fn = find_named(json_string_value(n));
        enum nc r = fn ? fn(x) : NC_NA;
        if (r == NC_FAIL)
            return NC_FAIL;
        if (r == NC_NA)
            res = NC_NA;
    }
    return res;
}

/* --- expectations --- */

static const char *method_of(const char *request)
{
    if (strcmp(request, "nearest_dc") == 0)
        return "help.getNearestDc";
    if (strcmp(request, "config") == 0)
        return "help.getConfig";
    return NULL;
}

/* Every request of the case was answered by the server. */
static bool answered_all(struct jctx *x, char *missing, size_t cap)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", x->c->requests);
    char *save = NULL;
    for (char *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        const char *method = method_of(r);
        bool found = false;
        size_t i;
        const json_t *e;
        json_array_foreach(x->ev, i, e)
        {
            if (method && is(e, "rpc") && str(e, "method") && strcmp(str(e, "method"), method) == 0 &&
                strcmp(str(e, "answer") ? str(e, "answer") : "", "result") == 0)
                found = true;
            if (!method && is_msg(e, "s2c") && has_name(e, "pong"))
                found = true;
        }
        if (!found) {
            snprintf(missing, cap, "%s", r);
            return false;
        }
    }
    return true;
}

static const char *last_server_msg(const json_t *ev)
{
    const char *last = NULL;
    size_t i;
    const json_t *e;
    json_array_foreach(ev, i, e)
    {
        if (is_msg(e, "s2c"))
            last = str(e, "ctor");
    }
    return last ? last : "nothing";
}

static enum check_verdict judge_accept(struct jctx *x, struct check_judgement *j)
{
    snprintf(j->expected, sizeof j->expected,
             "the client accepts this legitimate behaviour of the server and completes: every request (%s) answered, "
             "exit 0 with \"ok\": true", x->c->requests);
    enum nc named_res = run_named(x);
    char missing[64] = "";
    bool answered = answered_all(x, missing, sizeof missing);
    if (client_ok(x->run) && answered && named_res == NC_PASS) {
        say(x, "the client completed; every request was answered");
        return CHECK_PASS;
    }
    if (named_res == NC_FAIL)
        return CHECK_FAIL;
    if (named_res == NC_NA && !client_crashed(x->run) && !x->run->exit.timed_out) {
        /* The edge never happened: whatever stopped the client, it was not this case's edge. */
        say(x, "not exercised: the case's edge never happened, so it cannot be judged");
        describe_client(x);
        return CHECK_UNSUPPORTED;
    }
    if (client_crashed(x->run)) {
        describe_client(x);
        return CHECK_CRASH;
    }
    if (x->run->exit.timed_out) {
        describe_client(x);
        return CHECK_HANG;
    }
    if (x->run->exit.code == 4) {
        say(x, "the client does not support this transport (exit 4)");
        return CHECK_UNSUPPORTED;
    }
    if (!answered)
        say(x, "the server never answered %s (the last thing it sent: %s)", missing, last_server_msg(x->ev));
    describe_client(x);
    return CHECK_FAIL;
}

/* What the client sends next when it goes on after a server message of the
 * key exchange; NULL: it goes on by using the key (dh_gen_ok) or by sending
 * encrypted messages on the connection (dh_gen_fail). */
static const char *follow_up(const char *hostile)
{
    if (strcmp(hostile, "resPQ") == 0)
        return "req_DH_params";
    if (strcmp(hostile, "server_DH_params_ok") == 0 || strcmp(hostile, "dh_gen_retry") == 0)
        return "set_client_DH_params";
    return NULL;
}

/* After the server message at index i, did the client go on with that exchange?
 * Returns the index of the message that shows it, or 0. */
static size_t went_on(const json_t *ev, size_t i, const char *hostile, const char *cur_nonce)
{
    size_t n = json_array_size(ev);
    const json_t *e = json_array_get(ev, i);
    const char *next = follow_up(hostile);
    /* The key made at a dh_gen_ok, if the server stored one. */
    const char *key = NULL;
    if (next == NULL && strcmp(hostile, "dh_gen_ok") == 0 && i + 1 < n && is(json_array_get(ev, i + 1), "key"))
        key = str(json_array_get(ev, i + 1), "auth_key_id");
    for (size_t k = i + 1; k < n; k++) {
        const json_t *f = json_array_get(ev, k);
        if (!is_msg(f, "c2s"))
            continue;
        bool restart = conn(f) == conn(e) && !enc(f) && (ctor_is(f, "req_pq_multi") || ctor_is(f, "req_pq"));
        if (restart && !key)
            return 0; /* a new exchange on this connection */
        char fn[33];
        if (next && conn(f) == conn(e) && !enc(f) && ctor_is(f, next) && nonce_of(f, fn) && cur_nonce &&
            strcmp(fn, cur_nonce) == 0)
            return k;
        if (!next && enc(f) &&
            (key ? (str(f, "auth_key_id") && strcmp(str(f, "auth_key_id"), key) == 0) : conn(f) == conn(e)))
            return k;
    }
    return 0;
}

/* The end of a run that did nothing wrong: ended (any way), or still running at the deadline. */
static enum check_verdict ended_cleanly(struct jctx *x)
{
    if (client_crashed(x->run)) {
        describe_client(x);
        return CHECK_CRASH;
    }
    if (x->run->exit.timed_out) {
        describe_client(x);
        return CHECK_HANG;
    }
    if (x->run->exit.code == 4) {
        say(x, "the client does not support this transport (exit 4)");
        return CHECK_UNSUPPORTED;
    }
    describe_client(x);
    return CHECK_PASS;
}

static void expect_exchange(const char *hostile, bool reject, char *out, size_t cap)
{
    const char *next = follow_up(hostile);
    if (reject && next)
        snprintf(out, cap, "the client discards the hostile %s and does not go on with that exchange (no %s for its "
                 "nonce); it may close, restart the exchange or give up", hostile, next);
    else if (reject)
        snprintf(out, cap, "the client discards the hostile %s and never uses that exchange's key; it may close, "
                 "restart the exchange or give up", hostile);
    else if (next)
        snprintf(out, cap, "the client accepts this legal %s and goes on with the exchange (sends %s)", hostile, next);
    else
        snprintf(out, cap, "the client accepts this legal %s and uses the key", hostile);
}

static enum check_verdict judge_exchange(struct jctx *x, struct check_judgement *j, bool reject)
{
    const char *hostile = x->c->hostile;
    expect_exchange(hostile, reject, j->expected, sizeof j->expected);
    size_t n = json_array_size(x->ev), hostiles = 0, continued = 0;
    unsigned seen_ctor = 0;
    json_t *nonces = json_object(); /* conn -> current exchange nonce */
    bool failed = false;
    for (size_t i = 0; i < n && !failed; i++) {
        const json_t *e = json_array_get(x->ev, i);
        char cid[32];
        snprintf(cid, sizeof cid, "%" JSON_INTEGER_FORMAT, conn(e));
        char nonce[33];
        if (is_msg(e, "c2s") && !enc(e) && (ctor_is(e, "req_pq_multi") || ctor_is(e, "req_pq")) && nonce_of(e, nonce))
            json_object_set_new(nonces, cid, json_string(nonce));
        if (!is_msg(e, "s2c") || !ctor_is(e, hostile))
            continue;
        if (++seen_ctor < x->c->hostile_from)
            continue; /* an honest one before the hostile ones */
        hostiles++;
        mark(x, i, reject ? "hostile" : "the edge");
        size_t k = went_on(x->ev, i, hostile, str(nonces, cid));
        if (k && reject) {
            mark(x, k, "went on with the exchange");
            if (follow_up(hostile))
                say(x, "after the hostile %s the client sent %s for the same nonce", hostile, follow_up(hostile));
            else
                say(x, "after the hostile %s the client sent an encrypted %s %s", hostile,
                    str(json_array_get(x->ev, k), "ctor") ? str(json_array_get(x->ev, k), "ctor") : "message",
                    strcmp(hostile, "dh_gen_ok") == 0 ? "with that exchange's key" : "on that connection");
            failed = true;
        } else if (k) {
            mark(x, k, "went on");
            continued++;
        }
    }
    json_decref(nonces);
    if (failed) {
        describe_client(x);
        return CHECK_FAIL;
    }
    if (hostiles == 0 && seen_ctor > 0) {
        /* The honest ones came, the client stopped before the hostile one: the case
         * needs what it did not do (restart after -404, say), which its own case judges. */
        say(x, "not exercised: the client stopped after %u honest %s, before the hostile one (number %u)", seen_ctor,
            hostile, x->c->hostile_from);
        describe_client(x);
        return client_crashed(x->run) ? CHECK_CRASH : CHECK_UNSUPPORTED;
    }
    if (hostiles == 0) {
        say(x, "not exercised: the server never sent %s (the last thing it sent: %s)", hostile, last_server_msg(x->ev));
        describe_client(x);
        return client_crashed(x->run) ? CHECK_CRASH : x->run->exit.code == 4 ? CHECK_UNSUPPORTED : CHECK_ERROR;
    }
    if (run_named(x) == NC_FAIL)
        return CHECK_FAIL;
    if (!reject) {
        if (continued == 0) {
            say(x, "the client did not go on after %s: it rejected a legal value", hostile);
            describe_client(x);
            return client_crashed(x->run) ? CHECK_CRASH : x->run->exit.timed_out ? CHECK_HANG : CHECK_FAIL;
        }
        say(x, "the client went on after %zu of %zu %s", continued, hostiles, hostile);
        if (client_crashed(x->run)) {
            describe_client(x);
            return CHECK_CRASH;
        }
        return CHECK_PASS;
    }
    say(x, "the client did not go on after %zu hostile %s", hostiles, hostile);
    return ended_cleanly(x);
}

static enum check_verdict judge_give_up(struct jctx *x, struct check_judgement *j)
{
    snprintf(j->expected, sizeof j->expected,
             "the server can never satisfy the client: it stops with an error (it may retry a few times first), "
             "without crashing and without trying forever");
    size_t conns = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(x->ev, i, e)
    {
        conns += is(e, "open");
    }
    if (client_ok(x->run)) {
        say(x, "the client reported success although the server never answered properly");
        return CHECK_FAIL;
    }
    say(x, "%zu connection%s", conns, conns == 1 ? "" : "s");
    return ended_cleanly(x);
}

static enum check_verdict judge_reject_message(struct jctx *x, struct check_judgement *j)
{
    snprintf(j->expected, sizeof j->expected,
             "the client discards the hostile message and uses nothing from it: no acknowledgement of its msg_id, "
             "its canary never returned, its salt never used; it then finishes with the honest answer, or closes");
    size_t n = json_array_size(x->ev), hostiles = 0;
    enum check_verdict v = CHECK_PASS;
    for (size_t i = 0; i < n && v == CHECK_PASS; i++) {
        const json_t *e = json_array_get(x->ev, i);
        /* Hostile: made so (inject), or spoiled on its way out by a rule (a bad
         * CRC or sequence number: the rule event right after the message says so). */
        const char *hostile = str(e, "hostile");
        if (is_msg(e, "s2c") && hostile == NULL && i + 1 < n) {
            const json_t *r = json_array_get(x->ev, i + 1);
            if (is(r, "rule") && conn(r) == conn(e) && str(r, "hostile") && !json_is_true(json_object_get(r, "skipped")))
                hostile = str(r, "hostile");
        }
        if (!is_msg(e, "s2c") || hostile == NULL)
            continue;
        hostiles++;
        char why[96];
        snprintf(why, sizeof why, "hostile: %s", hostile);
        mark(x, i, why);
        /* Its msg_ids, unless an honest message already carried the same id (then an ack proves nothing). */
        const char *ids[65];
        size_t nid = 0;
        ids[nid++] = str(e, "msg_id");
        size_t k;
        const json_t *m;
        json_array_foreach(json_object_get(e, "nested"), k, m)
        {
            if (nid < 65)
                ids[nid++] = str(m, "msg_id");
        }
        for (size_t a = 0; a < nid; a++) {
            if (ids[a] == NULL)
                continue;
            for (size_t p = 0; p < i; p++) {
                const json_t *q = json_array_get(x->ev, p);
                if (is_msg(q, "s2c") && str(q, "msg_id") && strcmp(str(q, "msg_id"), ids[a]) == 0)
                    ids[a] = NULL;
            }
        }
        const char *salt = str(e, "canary_salt");
        for (k = i + 1; k < n && v == CHECK_PASS; k++) {
            const json_t *f = json_array_get(x->ev, k);
            if (!is_msg(f, "c2s"))
                continue;
            for (size_t a = 0; a < nid; a++)
                if (ids[a] && acked(f, ids[a])) {
                    say(x, "the client acknowledged the hostile message (msg_id %s)", ids[a]);
                    mark(x, k, "acknowledged the hostile message");
                    v = CHECK_FAIL;
                }
            const char *used = str(f, "salt");
            if (v == CHECK_PASS && enc(f) && used &&
                (strcmp(used, CANARY_SALT_WIRE) == 0 || (salt && strcmp(used, salt) == 0))) {
                say(x, "the client took the salt %s from the hostile message", used);
                mark(x, k, "used the hostile salt");
                v = CHECK_FAIL;
            }
        }
    }
    if (v == CHECK_PASS && x->run->line && canary_in(json_object_get(x->run->line, "results"))) {
        say(x, "the client returned the hostile message's canary to its caller (from its JSON line)");
        v = CHECK_FAIL;
    }
    if (v == CHECK_FAIL) {
        describe_client(x);
        return v;
    }
    if (hostiles == 0) {
        say(x, "not exercised: the server never sent the hostile message (the last thing it sent: %s)",
            last_server_msg(x->ev));
        describe_client(x);
        return client_crashed(x->run) ? CHECK_CRASH : x->run->exit.code == 4 ? CHECK_UNSUPPORTED : CHECK_ERROR;
    }
    if (run_named(x) == NC_FAIL)
        return CHECK_FAIL;
    say(x, "the client used nothing from %zu hostile message%s", hostiles, hostiles == 1 ? "" : "s");
    return ended_cleanly(x);
}

static enum check_verdict judge_restart(struct jctx *x, struct check_judgement *j)
{
    snprintf(j->expected, sizeof j->expected,
             "after the transport error during the key exchange the client opens a new connection and starts the "
             "exchange again");
    size_t n = json_array_size(x->ev);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(x->ev, i);
        if (!is(e, "transport_error"))
            continue;
        mark(x, i, "the fault");
        for (size_t k = i + 1; k < n; k++) {
            const json_t *f = json_array_get(x->ev, k);
            if (is_msg(f, "c2s") && conn(f) != conn(e) && (ctor_is(f, "req_pq_multi") || ctor_is(f, "req_pq"))) {
                mark(x, k, "restarted");
                say(x, "the client restarted the exchange on connection %" JSON_INTEGER_FORMAT, conn(f));
                if (client_crashed(x->run)) {
                    describe_client(x);
                    return CHECK_CRASH;
                }
                return CHECK_PASS;
            }
        }
        say(x, "the client never opened a new connection for a new exchange after transport error %" JSON_INTEGER_FORMAT,
            json_integer_value(json_object_get(e, "code")));
        describe_client(x);
        if (client_crashed(x->run))
            return CHECK_CRASH;
        return x->run->exit.timed_out ? CHECK_HANG : CHECK_FAIL;
    }
    say(x, "not exercised: the server never sent a transport error");
    describe_client(x);
    return CHECK_ERROR;
}

static enum check_verdict judge_passive(struct jctx *x, struct check_judgement *j)
{
    snprintf(j->expected, sizeof j->expected, "what the client sends obeys the rule (checks:");
    size_t i;
    const json_t *nm;
    json_array_foreach(x->c->checks, i, nm)
    {
        size_t used = strlen(j->expected);
        snprintf(j->expected + used, sizeof j->expected - used, " %s", json_string_value(nm));
    }
    size_t used = strlen(j->expected);
    snprintf(j->expected + used, sizeof j->expected - used, ")");
    enum nc r = run_named(x);
    if (r == NC_FAIL) {
        describe_client(x);
        return CHECK_FAIL;
    }
    if (client_crashed(x->run)) {
        describe_client(x);
        return CHECK_CRASH;
    }
    if (r == NC_NA) {
        say(x, "not exercised: the client did not send what the check looks at");
        describe_client(x);
        return x->run->exit.timed_out ? CHECK_HANG : CHECK_UNSUPPORTED;
    }
    describe_client(x);
    return CHECK_PASS;
}

void check_judge(const struct check_case *c, const json_t *events, const struct check_client_run *run,
                 struct check_judgement *j)
{
    memset(j->expected, 0, sizeof j->expected);
    memset(j->observed, 0, sizeof j->observed);
    j->marks = json_array();
    struct jctx x = {.c = c, .ev = events, .run = run, .marks = j->marks, .obs = j->observed,
                     .obs_cap = sizeof j->observed};
    const json_t *first = json_array_get(events, 0);
    if (first && is(first, "start"))
        x.start_ms = json_integer_value(json_object_get(first, "now_ms"));
    if (!run->started) {
        snprintf(j->expected, sizeof j->expected, "the client command runs");
        describe_client(&x);
        j->verdict = CHECK_ERROR;
        return;
    }
    switch (c->expect) {
    case CHECK_EXPECT_ACCEPT:
        j->verdict = judge_accept(&x, j);
        break;
    case CHECK_EXPECT_REJECT_EXCHANGE:
        j->verdict = judge_exchange(&x, j, true);
        break;
    case CHECK_EXPECT_CONTINUE_EXCHANGE:
        j->verdict = judge_exchange(&x, j, false);
        break;
    case CHECK_EXPECT_GIVE_UP:
        j->verdict = judge_give_up(&x, j);
        break;
    case CHECK_EXPECT_REJECT_MESSAGE:
        j->verdict = judge_reject_message(&x, j);
        break;
    case CHECK_EXPECT_RESTART:
        j->verdict = judge_restart(&x, j);
        break;
    case CHECK_EXPECT_PASSIVE:
        j->verdict = judge_passive(&x, j);
        break;
    default:
        j->verdict = CHECK_ERROR;
        break;
    }
}
