/* A connection's API calls: the answer from the API layer (or the binding,
 * for auth.bindTempAuthKey), the scenario's rules at the rpc point, the
 * answers held back behind an injected hostile message or a pushed service
 * message, and the injected messages themselves (built by mtps_inject). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/service.h"
#include "mtps_api.h"
#include "mtps_bind.h"
#include "mtps_conn_internal.h"
#include "mtps_inject.h"

#define ID_BOOL_FALSE 0xbc799737u

/* auth.bindTempAuthKey: the answer, and the binding in the logs. */
static void bind_temp_key(struct mtps_conn *c, struct mtps_sess *s, uint64_t msg_id, const struct mtps_rpc *rpc,
                          struct mtp_wr *res, struct mtps_answer *ans)
{
    struct mtps_server *srv = c->srv;
    struct mtps_bind_outcome bo;
    mtps_bind_answer(&srv->store, s->key, s->session_id, msg_id, rpc->call, res, ans, &bo);
    if (!bo.bound) {
        mtps_log(&srv->log, c->id, "auth.bindTempAuthKey from key %016" PRIx64 " refused: %d %s: %s", bo.temp_id,
                 (int)ans->code, ans->message, bo.why);
        return;
    }
    srv->stats.binds++;
    uint8_t temp[8], perm[8];
    mtp_store_u64(temp, bo.temp_id);
    mtp_store_u64(perm, bo.perm_id);
    if (bo.how != MTPS_BIND_SAME) {
        mtp_keylog_bind(&srv->keylog, temp, perm, bo.expires_at);
        mtp_keylog_bind(&srv->keysfile, temp, perm, bo.expires_at);
    }
    char replaced[64] = "";
    if (bo.how == MTPS_BIND_REPLACED)
        snprintf(replaced, sizeof replaced, ", replacing %016" PRIx64, bo.replaced_id);
    mtps_log(&srv->log, c->id, "temporary auth key %016" PRIx64 " bound to permanent key %016" PRIx64
             " (expires_at %" PRId32 "%s%s)", bo.temp_id, bo.perm_id, bo.expires_at,
             bo.how == MTPS_BIND_SAME ? ", already bound" : "", replaced);
}

/* An answer held back until due (behind an injected message, or a push's ms). */
static bool hold_answer(struct mtps_conn *c, struct mtps_sess *s, uint64_t req_msg_id, int64_t ms,
                        const struct mtps_answer *ans, const struct mtp_wr *res)
{
    if (c->npending == MTPS_CONN_MAX_PENDING)
        return false;
    struct mtps_pending p = {.due_ms = mtps_conn_now(c) + ms,
                             .key_id = s->key->id,
                             .session_id = s->session_id,
                             .req_msg_id = req_msg_id,
                             .error = ans->error,
                             .code = ans->code};
    snprintf(p.message, sizeof p.message, "%s", ans->message);
    if (!ans->error) {
        p.result = malloc(res->len ? res->len : 1);
        if (p.result == NULL)
            return false;
        memcpy(p.result, res->p, res->len);
        p.len = res->len;
    }
    c->pending[c->npending++] = p;
    return true;
}

/* "push": an unsolicited service message before the call's answer. */
static void push_service(struct mtps_conn *c, struct mtps_sess *s, const struct mtps_rule *r,
                         const struct mtp_session_event *ev)
{
    int64_t now = mtps_conn_now(c);
    uint8_t buf[64 + 16 * MTP_SVC_MAX_FUTURE_SALTS];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    unsigned flags = 0;
    int rc = MTP_OK;
    switch (r->push) {
    case MTPS_PUSH_FUTURE_SALTS: {
        /* As a real server answers get_future_salts (three salts from now on),
         * for a request the client did not send: the call's msg_id less one
         * second.  A client must not take it for the call's answer. */
        struct mtp_svc_future_salt out[3];
        size_t n = 0;
        struct mtp_salts *salts = &s->key->salts;
        rc = mtp_salts_extend(salts, now, s->core.cfg.salt_period_ms, 3, &c->srv->env);
        for (size_t i = 0; rc == MTP_OK && i < salts->n && n < 3; i++)
            if (salts->e[i].valid_until_ms > now)
                out[n++] = (struct mtp_svc_future_salt){(int32_t)(salts->e[i].valid_since_ms / 1000),
                                                        (int32_t)(salts->e[i].valid_until_ms / 1000), salts->e[i].salt};
        if (rc == MTP_OK)
            rc = mtp_svc_write_future_salts(&w, ev->msg_id - ((uint64_t)1 << 32), (int32_t)(now / 1000), out, n);
        flags = MTP_SEND_RESPONSE;
        break;
    }
    case MTPS_PUSH_MSGS_ACK:
        rc = mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, &ev->msg_id, 1);
        break;
    case MTPS_PUSH_NEW_SESSION_CREATED: {
        uint64_t unique = 0;
        rc = mtp_env_rand(&c->srv->env, &unique, sizeof unique);
        if (rc == MTP_OK)
            rc = mtp_svc_write_new_session_created(&w, ev->msg_id, unique, mtps_conn_salt(s, now));
        flags = MTP_SEND_CONTENT;
        break;
    }
    default:
        rc = mtp_svc_write_bad_msg(&w, ev->msg_id, ev->seqno, r->code);
        flags = MTP_SEND_RESPONSE;
        break;
    }
    if (rc == MTP_OK)
        rc = mtp_session_send(&s->core, w.p, w.len, flags, NULL);
    if (rc < 0)
        mtps_log(&c->srv->log, c->id, "push %s: cannot queue it: %s", mtps_push_name(r->push), mtp_err_name(rc));
}

/* "inject": the canary for the call, kept until the received message is processed. */
static bool prepare_injection(struct mtps_conn *c, struct mtps_sess *s, const struct mtps_rule *r,
                              const struct mtp_session_event *ev, const struct mtps_rpc *rpc,
                              const struct mtps_api_env *env, json_t *rule_ev)
{
    if (c->ninject == MTPS_CONN_MAX_INJECT) {
        json_object_set_new(rule_ev, "skipped", json_string("too many injections in one message"));
        return false;
    }
    struct mtps_injection *in = &c->inject[c->ninject];
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = r->carry == MTPS_CARRY_BAD_SERVER_SALT
                 ? mtps_canary_bad_salt(ev->msg_id, ev->seqno, &in->canary)
                 : mtps_canary_rpc_result(&c->srv->api, rpc, env, ev->msg_id, &in->canary, &err);
    if (rc < 0) {
        json_object_set_new(rule_ev, "skipped", json_string(err.code ? err.msg : mtp_err_name(rc)));
        return false;
    }
    in->rule = r;
    in->key_id = s->key->id;
    in->session_id = s->session_id;
    c->ninject++;
    return true;
}

void mtps_rpc_on_call(struct mtps_conn *c, struct mtps_sess *s, const struct mtp_session_event *ev)
{
    struct mtps_server *srv = c->srv;
    srv->stats.rpcs++;
    if (ev->ctor == MTP_SVC_rpc_drop_answer) {
        /* Every query is answered at once, so there is never one to drop. */
        uint8_t ans[4];
        mtp_store_u32(ans, MTP_SVC_rpc_answer_unknown);
        if (mtp_session_send_result(&s->core, ev->msg_id, ans, sizeof ans, 0) < 0)
            mtps_log(&srv->log, c->id, "rpc_drop_answer: cannot queue the answer");
        return;
    }
    struct mtps_rpc rpc;
    mtps_api_parse(&srv->api, s->layer, ev->body, ev->body_len, &rpc);
    if (rpc.layer)
        s->layer = rpc.layer;
    const struct mtps_rule *r = NULL;
    if (mtps_conn_scen(c)->nrules) {
        const char *nm[1] = {rpc.method};
        r = mtps_rules_eval(mtps_conn_scen(c), &c->rules, MTPS_AT_RPC, nm, 1);
    }
    struct mtps_answer ans = {.error = false};
    struct mtp_wr res;
    mtp_wr_init_dyn(&res, s->core.cfg.max_body, NULL);
    struct mtps_api_env env = {.this_dc = c->dc, .dcs = srv->dcs, .ndcs = srv->ndcs,
                               .now_s = mtp_env_now_ms(&srv->env) / 1000};
    /* Rules that still let the call be answered as usual (later, or after a pushed message). */
    bool usual = r == NULL || r->action == MTPS_DO_INJECT ||
                 (r->action == MTPS_DO_PUSH && r->push != MTPS_PUSH_BAD_MSG_NOTIFICATION);
    bool answer = usual, held = false;
    int64_t hold_ms = -1; /* >= 0: the answer goes out this much later */
    const char *source = "its template";
    if (r) {
        mtps_logv(&srv->log, c->id, "rule: %s at rpc (match \"%s\")", mtps_action_name(r->action), r->match);
        json_t *o = mtps_conn_ev_rule(c, r, "rpc");
        if (r->action == MTPS_DO_RPC_ERROR) {
            ans.error = true;
            ans.code = r->code;
            snprintf(ans.message, sizeof ans.message, "%s", r->message);
            answer = true;
        } else if (r->action == MTPS_DO_BOOL_FALSE) {
            answer = mtp_wr_u32(&res, ID_BOOL_FALSE) == MTP_OK;
            source = "a scenario rule";
        } else if (r->action == MTPS_DO_CLOSE) {
            mtps_conn_close(c, MTP_ERR_SRV_FAULT_CLOSE, "scenario rule: close at %s", rpc.method);
        } else if (r->action == MTPS_DO_TRANSPORT_ERROR) {
            mtps_conn_fail(c, r->code, MTP_ERR_SRV_FAULT_CLOSE, "scenario rule: transport error %d at %s", (int)r->code,
                      rpc.method);
        } else if (r->action == MTPS_DO_PUSH) {
            push_service(c, s, r, ev);
            if (r->ms > 0)
                hold_ms = r->ms;
        } else if (r->action == MTPS_DO_INJECT && prepare_injection(c, s, r, ev, &rpc, &env, o)) {
            hold_ms = r->ms;
        }
        mtps_events_emit(mtps_conn_evs(c), o);
    }
    if (usual && rpc.decoded && strcmp(rpc.method, "auth.bindTempAuthKey") == 0) {
        bind_temp_key(c, s, ev->msg_id, &rpc, &res, &ans);
        source = "the binding";
    } else if (usual) {
        struct mtp_error err;
        mtp_error_clear(&err);
        if (mtps_api_answer(&srv->api, &rpc, &env, &res, &ans, &err) < 0)
            mtps_log(&srv->log, c->id, "rpc %s: template failed: %s", rpc.method, err.msg);
    }
    /* A temporary key bound to a permanent one acts with its authorization
     * (api/pfs); the mock has no users, so that only shows in the log. */
    char as_perm[17] = "";
    const struct mtps_key *perm = s->key->temp ? mtps_store_bound_perm(&srv->store, s->key) : NULL;
    if (perm != NULL)
        snprintf(as_perm, sizeof as_perm, "%016" PRIx64, perm->id);
    if (answer) {
        int rc = MTP_OK;
        held = hold_ms >= 0 && hold_answer(c, s, ev->msg_id, hold_ms, &ans, &res);
        if (!held)
            rc = ans.error ? mtp_session_send_error(&s->core, ev->msg_id, ans.code, ans.message)
                           : mtp_session_send_result(&s->core, ev->msg_id, res.p, res.len, 0);
        if (rc < 0)
            mtps_log(&srv->log, c->id, "rpc %s: cannot queue the answer: %s", rpc.method, mtp_err_name(rc));
        if (ans.error)
            mtps_logv(&srv->log, c->id, "rpc %s (layer %d) -> rpc_error %d %s", rpc.method, (int)rpc.layer,
                      (int)ans.code, ans.message);
        else
            mtps_logv(&srv->log, c->id, "rpc %s (layer %d%s%s) -> %zu bytes from %s", rpc.method, (int)rpc.layer,
                      as_perm[0] ? ", as permanent key " : "", as_perm, res.len, source);
    }
    json_t *o = mtps_ev_new(mtps_conn_evs(c), "rpc", c->id);
    if (o) {
        json_object_set_new(o, "method", json_string(rpc.method));
        mtps_ev_set_u64(o, "req_msg_id", ev->msg_id);
        mtps_ev_set_wire64(o, "session_id", s->session_id);
        json_object_set_new(o, "layer", json_integer(rpc.layer));
        json_object_set_new(o, "answer", json_string(!answer ? "none" : ans.error ? "rpc_error" : "result"));
        if (answer && ans.error) {
            json_object_set_new(o, "error_code", json_integer(ans.code));
            json_object_set_new(o, "error_message", json_string(ans.message));
        }
        if (held)
            json_object_set_new(o, "answer_in_ms", json_integer(hold_ms));
        if (!rpc.decoded)
            json_object_set_new(o, "decode_error", json_string(rpc.err.msg));
        mtps_events_emit(mtps_conn_evs(c), o);
    }
    if (!rpc.decoded)
        mtps_logv(&srv->log, c->id, "rpc %s: does not decode: %s", rpc.method, rpc.err.msg);
    mtp_wr_free(&res);
    mtps_rpc_free(&rpc);
}

/* The observation log's line for a hostile message: what it carries on the wire. */
static void ev_hostile(const struct mtps_conn *c, const struct mtps_rule *r, const struct mtps_hostile *h,
                       const uint8_t *plain, size_t len)
{
    json_t *o = mtps_ev_new(mtps_conn_evs(c), "msg", c->id);
    if (o == NULL)
        return;
    json_object_set_new(o, "dir", json_string("s2c"));
    json_object_set_new(o, "enc", json_boolean(h->encrypted));
    json_object_set_new(o, "hostile", json_string(mtps_mutation_name(r->mutation)));
    json_object_set_new(o, "canary", json_true());
    json_object_set_new(o, "carry", json_string(mtps_carry_name(r->carry)));
    mtps_ev_set_wire64(o, "auth_key_id", h->auth_key_id);
    mtps_ev_set_u64(o, "msg_id", h->msg_id);
    const uint8_t *body = plain + 20;
    if (h->encrypted) {
        body = plain + 32;
        mtps_ev_set_wire64(o, "salt", mtp_load_u64(plain));
        mtps_ev_set_wire64(o, "session_id", h->session_id);
        json_object_set_new(o, "seqno", json_integer(h->seqno));
        json_object_set_new(o, "plaintext_len", json_integer((json_int_t)len));
        json_object_set_new(o, "message_data_length", json_integer((json_int_t)(int32_t)h->length));
        json_object_set_new(o, "padding", json_integer((json_int_t)h->padding));
    }
    if (h->nested_msg_id)
        mtps_ev_set_u64(o, "nested_msg_id", h->nested_msg_id);
    mtps_ev_set_body(mtps_conn_evs(c), o, body, h->body_len, h->msg_id, h->seqno);
    mtps_events_emit(mtps_conn_evs(c), o);
}

static void send_hostile(struct mtps_conn *c, struct mtps_sess *s, const struct mtps_injection *inj)
{
    const struct mtps_rule *r = inj->rule;
    int64_t now = mtps_conn_now(c);
    /* What the carried message would honestly be: the session's next msg_id and seqno. */
    struct mtps_inject_in in = {
        .auth_key = c->key->auth_key,
        .auth_key_id = c->key->id,
        .salt = mtps_conn_salt(s, now),
        .session_id = s->session_id,
        .msg_id = mtp_msgid_next(&s->core.ids, now, MTP_MSGID_SERVER_RESPONSE),
        .last_sent_msg_id = s->last_sent_msg_id,
        .now_ms = mtp_msgid_now(&s->core.ids, now),
        .seqno = (int32_t)(2 * s->core.seq.content_count) + (r->carry == MTPS_CARRY_RPC_RESULT ? 1 : 0),
        .env = &c->srv->env,
    };
    if (r->mutation == MTPS_MUT_CONTAINER_ORDER)
        in.msg_id_above = mtp_msgid_next(&s->core.ids, now, MTP_MSGID_SERVER_RESPONSE);
    mtp_wr_reset(&c->pkt);
    mtp_wr_reset(&c->plain);
    struct mtps_hostile h;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtps_inject_build(&in, r->mutation, &inj->canary, &c->pkt, &c->plain, &h, &err) < 0) {
        mtps_log(&c->srv->log, c->id, "inject %s: %s", mtps_mutation_name(r->mutation), err.msg);
        json_t *o = mtps_conn_ev_rule(c, r, "rpc");
        json_object_set_new(o, "skipped", json_string(err.msg));
        mtps_events_emit(mtps_conn_evs(c), o);
        return;
    }
    mtps_logv(&c->srv->log, c->id, "s2c hostile message (%s) msg_id=%#" PRIx64 " carrying a canary %s",
              mtps_mutation_name(r->mutation), h.msg_id, mtps_carry_name(r->carry));
    ev_hostile(c, r, &h, c->pkt.p, c->pkt.len);
    mtps_conn_transmit(c, c->plain.p, c->plain.len);
}

/* The session of a held answer or an injection, if its key and it still exist. */
static struct mtps_sess *find_session(struct mtps_conn *c, uint64_t key_id, uint64_t session_id)
{
    struct mtps_key *k = mtps_store_find_key(&c->srv->store, key_id);
    return k ? mtps_store_find_session(k, session_id) : NULL;
}

/* Hostile messages, once the received message is processed and the session
 * has sent what it had (so that msg_id_duplicate has a message to copy). */
void mtps_rpc_send_injections(struct mtps_conn *c)
{
    for (size_t i = 0; i < c->ninject; i++) {
        struct mtps_injection *in = &c->inject[i];
        struct mtps_sess *s = find_session(c, in->key_id, in->session_id);
        if (s != NULL && s->key == c->key && c->state == MTPS_CONN_OPEN && c->mc != NULL)
            send_hostile(c, s, in);
        mtps_canary_free(&in->canary);
    }
    c->ninject = 0;
}

/* Held answers whose time has come go to their session. */
void mtps_rpc_release_answers(struct mtps_conn *c)
{
    int64_t now = mtps_conn_now(c);
    size_t i = 0;
    while (i < c->npending && c->state == MTPS_CONN_OPEN) {
        if (c->pending[i].due_ms > now) {
            i++;
            continue;
        }
        struct mtps_pending p = c->pending[i];
        memmove(&c->pending[i], &c->pending[i + 1], (c->npending - i - 1) * sizeof p);
        c->npending--;
        struct mtps_sess *s = find_session(c, p.key_id, p.session_id);
        if (s != NULL) {
            int rc = p.error ? mtp_session_send_error(&s->core, p.req_msg_id, p.code, p.message)
                             : mtp_session_send_result(&s->core, p.req_msg_id, p.result, p.len, 0);
            if (rc < 0)
                mtps_log(&c->srv->log, c->id, "held answer to %#" PRIx64 ": cannot queue it: %s", p.req_msg_id,
                         mtp_err_name(rc));
            if (s->conn == c)
                mtps_conn_flush(c, s);
        }
        free(p.result);
    }
}
