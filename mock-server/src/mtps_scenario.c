/* Scenario files: JSON -> struct mtps_scenario, through tables of settings so
 * that a new setting is a table row, not a new branch. */
#include "mtps_scenario.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/transport.h"
#include "mtps_util.h"

enum field_type { F_U32, F_U64, F_SIZE, F_I64, F_UNSIGNED, F_BOOL, F_S64 };

struct field {
    const char *name;
    size_t offset;
    uint8_t type;
};

#define LIMIT(name, type) {#name, offsetof(struct mtps_limits, name), type}
static const struct field limit_fields[] = {
    LIMIT(max_conns, F_U32),        LIMIT(max_conns_per_ip, F_U32),    LIMIT(max_frame, F_U32),
    LIMIT(max_output, F_U32),       LIMIT(max_memory, F_U64),          LIMIT(max_keys, F_U32),
    LIMIT(max_sessions, F_U32),     LIMIT(max_sessions_per_key, F_U32), LIMIT(flood_packets, F_U32),
    LIMIT(flood_bytes, F_U64),      LIMIT(flood_interval_ms, F_I64),   LIMIT(idle_timeout_ms, F_I64),
    LIMIT(frame_timeout_ms, F_I64), LIMIT(close_linger_ms, F_I64),
};
#define NLIMITS (sizeof limit_fields / sizeof limit_fields[0])

#define SES(name, type) {#name, offsetof(struct mtp_session_cfg, name), type}
static const struct field session_fields[] = {
    SES(window, F_SIZE),
    SES(max_stored, F_SIZE),
    SES(max_stored_bytes, F_SIZE),
    SES(max_body, F_SIZE),
    SES(ack_max, F_SIZE),
    SES(ack_threshold, F_SIZE),
    SES(ack_delay_ms, F_I64),
    SES(max_past_ms, F_I64),
    SES(max_future_ms, F_I64),
    SES(salt_grace_ms, F_I64),
    SES(salt_period_ms, F_I64),
    SES(gzip_max, F_SIZE),
    SES(gzip_min, F_SIZE),
    SES(extra_padding_blocks, F_UNSIGNED),
    SES(strict_seqno_parity, F_BOOL),
    SES(strict_msg_id_low32, F_BOOL),
    {"container_max_msgs", offsetof(struct mtp_session_cfg, container) + offsetof(struct mtp_container_limits, max_msgs),
     F_U32},
    {"container_max_bytes",
     offsetof(struct mtp_session_cfg, container) + offsetof(struct mtp_container_limits, max_bytes), F_SIZE},
};

#define BEH(name) {#name, offsetof(struct mtps_scenario, name), F_BOOL}
static const struct field behaviour_fields[] = {
    BEH(quick_ack),
    BEH(require_obfs),
    BEH(bad_packet_closes),
    {"padding_min", offsetof(struct mtps_scenario, padding_min), F_U32},
    {"padding_max", offsetof(struct mtps_scenario, padding_max), F_U32},
    {"container_always", offsetof(struct mtps_scenario, session.container_always), F_BOOL},
    BEH(abridged_long_form),
    {"split_writes", offsetof(struct mtps_scenario, split_writes), F_U32},
    {"split_delay_ms", offsetof(struct mtps_scenario, split_delay_ms), F_U32},
    {"clock_offset_ms", offsetof(struct mtps_scenario, clock_offset_ms), F_S64},
};

/* The clock offset a scenario may set: a year either way. */
#define MAX_CLOCK_OFFSET_MS (366ll * 86400 * 1000)

static const char *const at_names[] = {
    [MTPS_AT_C2S_PACKET] = "c2s_packet",
    [MTPS_AT_C2S_MESSAGE] = "c2s_message",
    [MTPS_AT_RPC] = "rpc",
    [MTPS_AT_S2C_PACKET] = "s2c_packet",
};
#define NAT (sizeof at_names / sizeof at_names[0])

static const char *const action_names[] = {
    [MTPS_DO_DROP] = "drop",
    [MTPS_DO_DELAY] = "delay",
    [MTPS_DO_CLOSE] = "close",
    [MTPS_DO_CLOSE_AFTER] = "close_after",
    [MTPS_DO_TRANSPORT_ERROR] = "transport_error",
    [MTPS_DO_RPC_ERROR] = "rpc_error",
    [MTPS_DO_BAD_SALT] = "bad_salt",
    [MTPS_DO_DUPLICATE] = "duplicate",
    [MTPS_DO_CORRUPT] = "corrupt",
    [MTPS_DO_BOOL_FALSE] = "bool_false",
    [MTPS_DO_INJECT] = "inject",
    [MTPS_DO_PUSH] = "push",
    [MTPS_DO_BAD_CRC] = "bad_crc",
    [MTPS_DO_BAD_SEQ] = "bad_seq",
};
#define NACTION (sizeof action_names / sizeof action_names[0])

/* Which actions make sense where (bit = 1 << at). */
static const uint8_t action_points[] = {
    [MTPS_DO_DROP] = 1u << MTPS_AT_C2S_PACKET | 1u << MTPS_AT_C2S_MESSAGE | 1u << MTPS_AT_RPC | 1u << MTPS_AT_S2C_PACKET,
    [MTPS_DO_DELAY] = 1u << MTPS_AT_S2C_PACKET,
    [MTPS_DO_CLOSE] = 1u << MTPS_AT_C2S_PACKET | 1u << MTPS_AT_C2S_MESSAGE | 1u << MTPS_AT_RPC | 1u << MTPS_AT_S2C_PACKET,
    [MTPS_DO_CLOSE_AFTER] = 1u << MTPS_AT_S2C_PACKET,
    [MTPS_DO_TRANSPORT_ERROR] = 1u << MTPS_AT_C2S_PACKET | 1u << MTPS_AT_C2S_MESSAGE | 1u << MTPS_AT_RPC |
                                1u << MTPS_AT_S2C_PACKET,
    [MTPS_DO_RPC_ERROR] = 1u << MTPS_AT_RPC,
    [MTPS_DO_BAD_SALT] = 1u << MTPS_AT_C2S_MESSAGE,
    [MTPS_DO_DUPLICATE] = 1u << MTPS_AT_S2C_PACKET,
    [MTPS_DO_CORRUPT] = 1u << MTPS_AT_S2C_PACKET,
    [MTPS_DO_BOOL_FALSE] = 1u << MTPS_AT_RPC,
    [MTPS_DO_INJECT] = 1u << MTPS_AT_RPC,
    [MTPS_DO_PUSH] = 1u << MTPS_AT_RPC,
    [MTPS_DO_BAD_CRC] = 1u << MTPS_AT_S2C_PACKET,
    [MTPS_DO_BAD_SEQ] = 1u << MTPS_AT_S2C_PACKET,
};

static const char *const mutation_names[] = {
    [MTPS_MUT_NONE] = "none",
    [MTPS_MUT_MSG_KEY] = "msg_key",
    [MTPS_MUT_AUTH_KEY_ID] = "auth_key_id",
    [MTPS_MUT_CLIENT_DIRECTION] = "client_direction",
    [MTPS_MUT_MTPROTO1] = "mtproto1",
    [MTPS_MUT_SESSION_ID] = "session_id",
    [MTPS_MUT_MSG_ID_EVEN] = "msg_id_even",
    [MTPS_MUT_MSG_ID_DUPLICATE] = "msg_id_duplicate",
    [MTPS_MUT_MSG_ID_OLD] = "msg_id_old",
    [MTPS_MUT_MSG_ID_FUTURE] = "msg_id_future",
    [MTPS_MUT_LENGTH_BEYOND] = "length_beyond",
    [MTPS_MUT_LENGTH_UNALIGNED] = "length_unaligned",
    [MTPS_MUT_LENGTH_NEGATIVE] = "length_negative",
    [MTPS_MUT_PADDING_SHORT] = "padding_short",
    [MTPS_MUT_PADDING_LONG] = "padding_long",
    [MTPS_MUT_CONTAINER_ORDER] = "container_order",
    [MTPS_MUT_PLAIN_AFTER_KEY] = "plain_after_key",
};
#define NMUTATION (sizeof mutation_names / sizeof mutation_names[0])
_Static_assert(NMUTATION == MTPS_MUT_COUNT + 1, "a name for every mutation");

static const char *const carry_names[] = {
    [MTPS_CARRY_RPC_RESULT] = "rpc_result",
    [MTPS_CARRY_BAD_SERVER_SALT] = "bad_server_salt",
};
#define NCARRY (sizeof carry_names / sizeof carry_names[0])

static const char *const push_names[] = {
    [MTPS_PUSH_FUTURE_SALTS] = "future_salts",
    [MTPS_PUSH_MSGS_ACK] = "msgs_ack",
    [MTPS_PUSH_NEW_SESSION_CREATED] = "new_session_created",
    [MTPS_PUSH_BAD_MSG_NOTIFICATION] = "bad_msg_notification",
};
#define NPUSH (sizeof push_names / sizeof push_names[0])

/* Default delay of the honest answer after an injected message. */
#define INJECT_DEFAULT_MS 300

const char *mtps_at_name(enum mtps_at at)
{
    return (unsigned)at < NAT && at_names[at] ? at_names[at] : "?";
}

const char *mtps_action_name(enum mtps_action a)
{
    return (unsigned)a < NACTION && action_names[a] ? action_names[a] : "?";
}

const char *mtps_mutation_name(enum mtps_mutation m)
{
    return (unsigned)m < NMUTATION && mutation_names[m] ? mutation_names[m] : "?";
}

const char *mtps_carry_name(enum mtps_carry c)
{
    return (unsigned)c < NCARRY && carry_names[c] ? carry_names[c] : "?";
}

const char *mtps_push_name(enum mtps_push p)
{
    return (unsigned)p < NPUSH && push_names[p] ? push_names[p] : "?";
}

void mtps_limits_default(struct mtps_limits *l)
{
    *l = (struct mtps_limits){
        .max_conns = 4096,
        .max_conns_per_ip = 0,
        .max_frame = 256u << 10,
        .max_output = 1u << 20,
        .max_memory = 128ull << 20,
        .max_keys = 16384,
        .max_sessions = 2048,
        .max_sessions_per_key = 64,
        .flood_packets = 0,
        .flood_bytes = 0,
        .flood_interval_ms = 1000,
        .idle_timeout_ms = 120000,
        .frame_timeout_ms = 30000,
        .close_linger_ms = 2000,
    };
}

void mtps_scenario_default(struct mtps_scenario *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "default");
    mtp_session_cfg_default(&s->session);
    /* Smaller than the library defaults: a mock DC holds thousands of
     * sessions, and these bound each one's fixed memory (see README). */
    s->session.window = 256;
    s->session.max_stored = 128;
    s->session.max_stored_bytes = 32u << 10;
    s->session.max_body = 32u << 10;
    s->session.ack_max = 256;
    s->session.gzip_max = 64u << 10;
    /* The real service lets these pass (issue 7): reported as deviations instead. */
    s->session.strict_seqno_parity = false;
    s->session.strict_msg_id_low32 = false;
    s->api.unknown_method_code = 400;
    snprintf(s->api.unknown_method_message, sizeof s->api.unknown_method_message, "METHOD_NOT_SUPPORTED");
    s->quick_ack = true;
    s->require_obfs = false;
    s->bad_packet_closes = true;
    s->padding_max = 3;
    s->split_delay_ms = 1;
}

void mtps_scenario_free(struct mtps_scenario *s)
{
    free(s->description);
    s->description = NULL;
    if (s->root)
        json_decref(s->root);
    s->root = NULL;
    s->auth = NULL;
}

static int bad(struct mtp_error *err, const char *origin, const char *fmt, ...) MTP_PRINTF(3, 4);
static int bad(struct mtp_error *err, const char *origin, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mtp_error_set(err, MTP_ERR_SRV_SCENARIO, MTP_NO_OFFSET, "%s: %s", origin, msg);
}

static int set_field(void *base, const struct field *f, const json_t *v, const char *origin, const char *section,
                     struct mtp_error *err)
{
    uint8_t *p = (uint8_t *)base + f->offset;
    if (f->type == F_BOOL) {
        if (!json_is_boolean(v))
            return bad(err, origin, "%s.%s: expected true or false", section, f->name);
        bool b = json_is_true(v);
        memcpy(p, &b, sizeof b);
        return MTP_OK;
    }
    if (f->type == F_S64) {
        if (!json_is_integer(v))
            return bad(err, origin, "%s.%s: expected an integer", section, f->name);
        int64_t i = (int64_t)json_integer_value(v);
        memcpy(p, &i, sizeof i);
        return MTP_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(err, origin, "%s.%s: expected a non-negative integer", section, f->name);
    json_int_t x = json_integer_value(v);
    switch (f->type) {
    case F_U32: {
        if (x > UINT32_MAX)
            return bad(err, origin, "%s.%s: too large", section, f->name);
        uint32_t u = (uint32_t)x;
        memcpy(p, &u, sizeof u);
        return MTP_OK;
    }
    case F_UNSIGNED: {
        if (x > UINT_MAX)
            return bad(err, origin, "%s.%s: too large", section, f->name);
        unsigned u = (unsigned)x;
        memcpy(p, &u, sizeof u);
        return MTP_OK;
    }
    case F_U64: {
        uint64_t u = (uint64_t)x;
        memcpy(p, &u, sizeof u);
        return MTP_OK;
    }
    case F_SIZE: {
        size_t u = (size_t)x;
        memcpy(p, &u, sizeof u);
        return MTP_OK;
    }
    default: {
        int64_t i = (int64_t)x;
        memcpy(p, &i, sizeof i);
        return MTP_OK;
    }
    }
}

/* A key a section handles outside its table: 1 when it was one, 0 when not, or an error. */
typedef int (*special_fn)(struct mtps_scenario *s, const char *key, const json_t *v, const char *origin,
                          struct mtp_error *err);

/* Sets every key of obj through the table (after `special`, when given);
 * unknown keys are errors.  *set gets a bit per field set. */
static int set_fields(void *base, const struct field *fields, size_t n, const json_t *obj, const char *origin,
                      const char *section, uint32_t *set, struct mtps_scenario *sc, special_fn special,
                      struct mtp_error *err)
{
    if (!json_is_object(obj))
        return bad(err, origin, "%s: expected an object", section);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (special) {
            int done = special(sc, key, v, origin, err);
            if (done < 0)
                return done;
            if (done)
                continue;
        }
        size_t i = 0;
        while (i < n && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == n)
            return bad(err, origin, "%s: unknown setting \"%s\"", section, key);
        MTP_GUARD(set_field(base, &fields[i], v, origin, section, err));
        if (set)
            *set |= 1u << i;
    }
    return MTP_OK;
}

static int name_index(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 1; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

static int copy_str(char *dst, size_t cap, const json_t *v, const char *origin, const char *what,
                    struct mtp_error *err)
{
    if (!json_is_string(v))
        return bad(err, origin, "%s: expected a string", what);
    if (json_string_length(v) >= cap)
        return bad(err, origin, "%s: longer than the limit", what);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return MTP_OK;
}

/* session.padding: "min", "max", or a number of bytes 12..1024. */
static int session_padding(struct mtps_scenario *s, const char *key, const json_t *v, const char *origin,
                           struct mtp_error *err)
{
    if (strcmp(key, "padding") != 0)
        return 0;
    const char *t = json_is_string(v) ? json_string_value(v) : NULL;
    if (t && strcmp(t, "min") == 0) {
        s->padding_policy = MTPS_PAD_MIN;
    } else if (t && strcmp(t, "max") == 0) {
        s->padding_policy = MTPS_PAD_MAX;
    } else if (json_is_integer(v) && json_integer_value(v) >= 12 && json_integer_value(v) <= 1024) {
        s->padding_policy = MTPS_PAD_EXACT;
        s->padding_exact = (uint32_t)json_integer_value(v);
    } else {
        return bad(err, origin, "session.padding: expected \"min\", \"max\" or a number of bytes 12..1024");
    }
    return 1;
}

static bool bad_msg_code(int32_t c)
{
    static const int32_t codes[] = {16, 17, 18, 19, 20, 32, 33, 34, 35, 64};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i] == c)
            return true;
    return false;
}

/* Checks what the keys of one rule mean together. */
static int check_rule(struct mtps_rule *r, bool ms_set, const char *where, const char *origin, struct mtp_error *err)
{
    if (r->at == 0 || r->action == 0)
        return bad(err, origin, "%s: \"at\" and \"do\" are required", where);
    if (!(action_points[r->action] & (1u << r->at)))
        return bad(err, origin, "%s: \"%s\" cannot be done at this point", where, action_names[r->action]);
    if (r->nth == 0)
        return bad(err, origin, "%s: nth counts from 1", where);
    if (r->action == MTPS_DO_TRANSPORT_ERROR && r->code >= 0)
        return bad(err, origin, "%s: transport_error needs a negative code (e.g. -404)", where);
    if (r->action == MTPS_DO_RPC_ERROR && (r->code <= 0 || r->message[0] == '\0'))
        return bad(err, origin, "%s: rpc_error needs a positive code and a message", where);
    if ((r->mutation || r->carry) && r->action != MTPS_DO_INJECT)
        return bad(err, origin, "%s.%s: only for \"inject\"", where, r->mutation ? "mutation" : "carry");
    if (r->action == MTPS_DO_INJECT) {
        if (r->mutation == 0)
            return bad(err, origin, "%s: inject needs a \"mutation\"", where);
        if (r->carry == 0)
            r->carry = MTPS_CARRY_RPC_RESULT;
        if (!ms_set)
            r->ms = INJECT_DEFAULT_MS;
        if (r->code != 0 || r->message[0])
            return bad(err, origin, "%s.%s: not for \"inject\"", where, r->code ? "code" : "message");
    }
    if (r->action == MTPS_DO_PUSH) {
        int i = name_index(push_names, NPUSH, r->message);
        if (i < 0)
            return bad(err, origin,
                       "%s.message: push needs one of \"future_salts\", \"msgs_ack\", \"new_session_created\", "
                       "\"bad_msg_notification\"",
                       where);
        r->push = (uint8_t)i;
        if (r->push == MTPS_PUSH_BAD_MSG_NOTIFICATION && !bad_msg_code(r->code))
            return bad(err, origin, "%s.code: bad_msg_notification needs a code of 16, 17, 18, 19, 20, 32, 33, 34, 35, 64",
                       where);
        if (r->push != MTPS_PUSH_BAD_MSG_NOTIFICATION && r->code != 0)
            return bad(err, origin, "%s.code: only for bad_msg_notification", where);
    }
    return MTP_OK;
}

static int parse_rule(struct mtps_rule *r, const json_t *o, size_t idx, const char *origin, struct mtp_error *err)
{
    char where[32];
    snprintf(where, sizeof where, "rules[%zu]", idx);
    if (!json_is_object(o))
        return bad(err, origin, "%s: expected an object", where);
    memset(r, 0, sizeof *r);
    r->nth = 1;
    r->times = 1;
    bool ms_set = false;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        char sub[64];
        snprintf(sub, sizeof sub, "%s.%s", where, key);
        if (strcmp(key, "at") == 0 || strcmp(key, "do") == 0) {
            bool is_at = key[0] == 'a';
            if (!json_is_string(v))
                return bad(err, origin, "%s: expected a string", sub);
            int i = is_at ? name_index(at_names, NAT, json_string_value(v))
                          : name_index(action_names, NACTION, json_string_value(v));
            if (i < 0)
                return bad(err, origin, "%s: unknown value \"%s\"", sub, json_string_value(v));
            if (is_at)
                r->at = (uint8_t)i;
            else
                r->action = (uint8_t)i;
        } else if (strcmp(key, "match") == 0) {
            MTP_GUARD(copy_str(r->match, sizeof r->match, v, origin, sub, err));
        } else if (strcmp(key, "per") == 0) {
            const char *per = json_is_string(v) ? json_string_value(v) : "";
            if (strcmp(per, "connection") != 0 && strcmp(per, "server") != 0)
                return bad(err, origin, "%s: expected \"connection\" or \"server\"", sub);
            r->per_server = per[0] == 's';
        } else if (strcmp(key, "message") == 0) {
            MTP_GUARD(copy_str(r->message, sizeof r->message, v, origin, sub, err));
        } else if (strcmp(key, "nth") == 0 || strcmp(key, "times") == 0 || strcmp(key, "ms") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
                return bad(err, origin, "%s: expected an integer 0..2^32-1", sub);
            uint32_t x = (uint32_t)json_integer_value(v);
            if (key[0] == 'n') {
                r->nth = x;
            } else if (key[0] == 't') {
                r->times = x;
            } else {
                r->ms = x;
                ms_set = true;
            }
        } else if (strcmp(key, "mutation") == 0 || strcmp(key, "carry") == 0) {
            bool mut = key[0] == 'm';
            int i = !json_is_string(v) ? -1
                    : mut              ? name_index(mutation_names, NMUTATION, json_string_value(v))
                                       : name_index(carry_names, NCARRY, json_string_value(v));
            if (i < 0)
                return bad(err, origin, "%s: unknown value%s%s%s", sub, json_is_string(v) ? " \"" : "",
                           json_is_string(v) ? json_string_value(v) : "", json_is_string(v) ? "\"" : "");
            if (mut)
                r->mutation = (uint8_t)i;
            else
                r->carry = (uint8_t)i;
        } else if (strcmp(key, "code") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX)
                return bad(err, origin, "%s: expected a 32-bit integer", sub);
            r->code = (int32_t)json_integer_value(v);
        } else if (strcmp(key, "comment") != 0) {
            return bad(err, origin, "%s: unknown key \"%s\"", where, key);
        }
    }
    return check_rule(r, ms_set, where, origin, err);
}

static int parse_api(struct mtps_scenario *s, const json_t *o, const char *origin, struct mtp_error *err)
{
    if (!json_is_object(o))
        return bad(err, origin, "api: expected an object");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        if (strcmp(key, "unknown_method_error") == 0) {
            if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(json_array_get(v, 0)) ||
                json_integer_value(json_array_get(v, 0)) <= 0 || json_integer_value(json_array_get(v, 0)) > INT32_MAX)
                return bad(err, origin, "api.unknown_method_error: expected [code, \"MESSAGE\"]");
            s->api.unknown_method_code = (int32_t)json_integer_value(json_array_get(v, 0));
            MTP_GUARD(copy_str(s->api.unknown_method_message, sizeof s->api.unknown_method_message,
                               json_array_get(v, 1), origin, "api.unknown_method_error[1]", err));
        } else {
            return bad(err, origin, "api: unknown setting \"%s\"", key);
        }
    }
    return MTP_OK;
}

int mtps_scenario_parse(struct mtps_scenario *s, const char *text, size_t len, const char *origin,
                        struct mtp_error *err)
{
    mtps_scenario_default(s);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return mtp_error_set(err, MTP_ERR_SRV_SCENARIO, (size_t)je.position, "%s:%d:%d: %s", origin, je.line,
                             je.column, je.text);
    s->root = root;
    int rc = MTP_OK;
    if (!json_is_object(root)) {
        rc = bad(err, origin, "expected a JSON object");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "name") == 0) {
            MTP_TRY(copy_str(s->name, sizeof s->name, v, origin, "name", err));
        } else if (strcmp(key, "description") == 0) {
            if (!json_is_string(v)) {
                rc = bad(err, origin, "description: expected a string");
                goto out;
            }
            free(s->description);
            s->description = strdup(json_string_value(v));
            if (s->description == NULL) {
                rc = mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "%s: out of memory", origin);
                goto out;
            }
        } else if (strcmp(key, "auth") == 0) {
            if (!json_is_object(v)) {
                rc = bad(err, origin, "auth: expected an object");
                goto out;
            }
            s->auth = v;
        } else if (strcmp(key, "session") == 0) {
            MTP_TRY(set_fields(&s->session, session_fields, sizeof session_fields / sizeof session_fields[0], v,
                               origin, "session", NULL, s, session_padding, err));
        } else if (strcmp(key, "limits") == 0) {
            mtps_limits_default(&s->limits);
            MTP_TRY(set_fields(&s->limits, limit_fields, NLIMITS, v, origin, "limits", &s->limits_set, s, NULL, err));
        } else if (strcmp(key, "behaviour") == 0) {
            MTP_TRY(set_fields(s, behaviour_fields, sizeof behaviour_fields / sizeof behaviour_fields[0], v, origin,
                               "behaviour", NULL, s, NULL, err));
            if (s->clock_offset_ms > MAX_CLOCK_OFFSET_MS || s->clock_offset_ms < -MAX_CLOCK_OFFSET_MS) {
                rc = bad(err, origin, "behaviour.clock_offset_ms: at most a year (%lld ms) either way",
                         (long long)MAX_CLOCK_OFFSET_MS);
                goto out;
            }
            if (s->split_delay_ms > 60000) {
                rc = bad(err, origin, "behaviour.split_delay_ms: at most 60000");
                goto out;
            }
            if (s->padding_max > MTP_TR_PADDING_MAX) {
                rc = bad(err, origin, "behaviour.padding_max: at most %d", MTP_TR_PADDING_MAX);
                goto out;
            }
            if (s->padding_min > s->padding_max) {
                rc = bad(err, origin, "behaviour.padding_min: %u is above padding_max %u", s->padding_min,
                         s->padding_max);
                goto out;
            }
        } else if (strcmp(key, "api") == 0) {
            MTP_TRY(parse_api(s, v, origin, err));
        } else if (strcmp(key, "rules") == 0) {
            if (!json_is_array(v)) {
                rc = bad(err, origin, "rules: expected an array");
                goto out;
            }
            if (json_array_size(v) > MTPS_MAX_RULES) {
                rc = bad(err, origin, "rules: more than %d rules", MTPS_MAX_RULES);
                goto out;
            }
            for (size_t i = 0; i < json_array_size(v); i++)
                MTP_TRY(parse_rule(&s->rules[i], json_array_get(v, i), i, origin, err));
            s->nrules = json_array_size(v);
        } else if (strcmp(key, "comment") != 0) {
            rc = bad(err, origin, "unknown key \"%s\"", key);
            goto out;
        }
    }
    return MTP_OK;
out:
    mtps_scenario_free(s);
    return rc;
}

int mtps_scenario_load(struct mtps_scenario *s, const char *name, const char *dir, struct mtp_error *err)
{
    char path[4096];
    size_t n = strlen(name);
    if (strchr(name, '/') != NULL || (n > 5 && strcmp(name + n - 5, ".json") == 0))
        snprintf(path, sizeof path, "%s", name);
    else
        snprintf(path, sizeof path, "%s%s/%s.json", dir ? dir : mtps_source_dir(), dir ? "" : "/mock-server/scenarios", name);
    size_t len;
    char *text = mtps_read_file(path, 1u << 20, &len, err);
    if (text == NULL)
        return err && err->code ? err->code : MTP_ERR_IO;
    int rc = mtps_scenario_parse(s, text, len, path, err);
    free(text);
    return rc;
}

void mtps_scenario_apply_limits(const struct mtps_scenario *s, struct mtps_limits *l)
{
    for (size_t i = 0; i < NLIMITS; i++) {
        if (!(s->limits_set & (1u << i)))
            continue;
        const struct field *f = &limit_fields[i];
        size_t sz = f->type == F_U32 ? sizeof(uint32_t) : sizeof(uint64_t);
        memcpy((uint8_t *)l + f->offset, (const uint8_t *)&s->limits + f->offset, sz);
    }
}

static bool matches(const char *pattern, const char *const *names, size_t n)
{
    if (pattern[0] == '\0' || strcmp(pattern, "*") == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(pattern, names[i]) == 0)
            return true;
    return false;
}

const struct mtps_rule *mtps_rules_eval(const struct mtps_scenario *s, struct mtps_rule_state *st, enum mtps_at at,
                                        const char *const *names, size_t n)
{
    const struct mtps_rule *hit = NULL;
    for (size_t i = 0; i < s->nrules; i++) {
        const struct mtps_rule *r = &s->rules[i];
        if (r->at != at || !matches(r->match, names, n))
            continue;
        struct mtps_rule_state *c = r->per_server && st->shared ? st->shared : st;
        c->matched[i]++;
        if (hit != NULL || c->matched[i] < r->nth || (r->times != 0 && c->fired[i] >= r->times))
            continue;
        c->fired[i]++;
        hit = r;
    }
    return hit;
}
