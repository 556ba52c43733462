/* The server fields of case files (docs/cases.md, "Server cases"). */
#include <stdio.h>
#include <string.h>

#include "check/check_probes.h"
#include "check/check_server.h"

/* The catalogue's reactions, and what the probes call the rest of what a server may do. */
static const char *const reactions[] = {
    "ignore", "close", "restart", "silence", "error", "accept", "transport-404", "transport-429", "transport-444",
    "dh_gen_fail", "bad_msg_notification", "bad_server_salt", "msg_detailed_info", "stored-answer", "answer",
    /* the probes' own */
    "same-timing", "same-reaction",
};

bool check_server_reaction_known(const char *name)
{
    for (size_t i = 0; name && i < sizeof reactions / sizeof reactions[0]; i++)
        if (strcmp(reactions[i], name) == 0)
            return true;
    return false;
}

static const struct {
    const char *name, *what;
} named[] = {
    {"server_msg_ids", "S-SES-20: every msg_id the server sends is odd, and per session they increase"},
    {"server_msg_id_classes", "S-SES-20 (INFO part): answers (rpc_result, pong, future_salts, msgs_state_info) "
                              "have msg_id 1 mod 4, new_session_created and msgs_ack 3 mod 4"},
};

bool check_server_named_known(const char *name)
{
    for (size_t i = 0; name && i < sizeof named / sizeof named[0]; i++)
        if (strcmp(named[i].name, name) == 0)
            return true;
    return false;
}

void check_server_named_list(void (*fn)(void *ctx, const char *name, const char *what), void *ctx)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        fn(ctx, named[i].name, named[i].what);
}

void check_server_case_load(const json_t *c, const json_t *req, struct check_case *out, check_problem_fn problem,
                            void *ctx)
{
    char why[512];
    const json_t *probe = json_object_get(c, "probe");
    if (probe == NULL)
        problem(ctx, out->id, "a server case needs \"probe\": {\"do\": ..., ...}");
    else if (!probe_spec_valid(probe, why, sizeof why))
        problem(ctx, out->id, why);
    out->probe = probe ? json_deep_copy(probe) : json_object();
    const json_t *allowed = json_object_get(c, "allowed");
    if (allowed == NULL && out->expect == CHECK_EXPECT_SERVE)
        out->allowed = json_pack("[s]", "answer");
    else if (allowed == NULL)
        out->allowed = json_deep_copy(json_object_get(req, "allowed"));
    else
        out->allowed = json_deep_copy(allowed);
    if (out->allowed == NULL)
        out->allowed = json_array();
    if (!json_is_array(out->allowed)) {
        problem(ctx, out->id, "\"allowed\" must be an array of reactions");
    } else {
        size_t i;
        const json_t *v;
        json_array_foreach(out->allowed, i, v)
        {
            if (!check_server_reaction_known(json_string_value(v))) {
                snprintf(why, sizeof why, "\"allowed\": unknown reaction \"%s\"",
                         json_is_string(v) ? json_string_value(v) : "?");
                problem(ctx, out->id, why);
            }
        }
    }
    if (out->expect == CHECK_EXPECT_REACTION && json_array_size(out->allowed) == 0)
        problem(ctx, out->id, "a reaction case needs the reactions that pass (\"allowed\", or the catalogue's)");
    const json_t *ex = json_object_get(c, "exclusive");
    if (ex && !json_is_boolean(ex))
        problem(ctx, out->id, "\"exclusive\" must be true or false");
    out->exclusive = json_is_true(ex);
}
