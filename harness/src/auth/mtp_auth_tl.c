#include "mtp/auth_tl.h"

#include <stdio.h>
#include <string.h>

#include "mtp/tl_prim.h"

struct tl_name {
    uint32_t id;
    const char *name;
};

static const struct tl_name tl_names[] = {
    {MTP_AUTH_ID_REQ_PQ_MULTI, "req_pq_multi"},
    {MTP_AUTH_ID_REQ_PQ, "req_pq"},
    {MTP_AUTH_ID_RES_PQ, "resPQ"},
    {MTP_AUTH_ID_P_Q_INNER_DATA, "p_q_inner_data"},
    {MTP_AUTH_ID_P_Q_INNER_DATA_DC, "p_q_inner_data_dc"},
    {MTP_AUTH_ID_P_Q_INNER_DATA_TEMP, "p_q_inner_data_temp"},
    {MTP_AUTH_ID_P_Q_INNER_DATA_TEMP_DC, "p_q_inner_data_temp_dc"},
    {MTP_AUTH_ID_REQ_DH_PARAMS, "req_DH_params"},
    {MTP_AUTH_ID_SERVER_DH_PARAMS_FAIL, "server_DH_params_fail"},
    {MTP_AUTH_ID_SERVER_DH_PARAMS_OK, "server_DH_params_ok"},
    {MTP_AUTH_ID_SERVER_DH_INNER_DATA, "server_DH_inner_data"},
    {MTP_AUTH_ID_SET_CLIENT_DH_PARAMS, "set_client_DH_params"},
    {MTP_AUTH_ID_CLIENT_DH_INNER_DATA, "client_DH_inner_data"},
    {MTP_AUTH_ID_DH_GEN_OK, "dh_gen_ok"},
    {MTP_AUTH_ID_DH_GEN_RETRY, "dh_gen_retry"},
    {MTP_AUTH_ID_DH_GEN_FAIL, "dh_gen_fail"},
};

const char *mtp_auth_tl_name(uint32_t id)
{
    for (size_t i = 0; i < sizeof tl_names / sizeof tl_names[0]; i++)
        if (tl_names[i].id == id)
            return tl_names[i].name;
    return NULL;
}

/* Indexed by enum mtp_auth_inner_form. */
static const struct {
    uint32_t id;
    const char *name;
    bool dc, temp;
} inner_forms[] = {
    [MTP_AUTH_INNER_DC] = {MTP_AUTH_ID_P_Q_INNER_DATA_DC, "p_q_inner_data_dc", true, false},
    [MTP_AUTH_INNER_TEMP_DC] = {MTP_AUTH_ID_P_Q_INNER_DATA_TEMP_DC, "p_q_inner_data_temp_dc", true, true},
    [MTP_AUTH_INNER_PLAIN] = {MTP_AUTH_ID_P_Q_INNER_DATA, "p_q_inner_data", false, false},
    [MTP_AUTH_INNER_TEMP] = {MTP_AUTH_ID_P_Q_INNER_DATA_TEMP, "p_q_inner_data_temp", false, true},
};
#define N_INNER_FORMS (sizeof inner_forms / sizeof inner_forms[0])

const char *mtp_auth_inner_form_name(enum mtp_auth_inner_form f)
{
    return (size_t)f < N_INNER_FORMS ? inner_forms[f].name : "unknown p_q_inner_data form";
}

bool mtp_auth_inner_form_has_dc(enum mtp_auth_inner_form f) { return (size_t)f < N_INNER_FORMS && inner_forms[f].dc; }

bool mtp_auth_inner_form_is_temp(enum mtp_auth_inner_form f)
{
    return (size_t)f < N_INNER_FORMS && inner_forms[f].temp;
}

uint32_t mtp_auth_dh_gen_id(int number)
{
    switch (number) {
    case 1:
        return MTP_AUTH_ID_DH_GEN_OK;
    case 2:
        return MTP_AUTH_ID_DH_GEN_RETRY;
    case 3:
        return MTP_AUTH_ID_DH_GEN_FAIL;
    default:
        return 0;
    }
}

/* A constructor that is none of the accepted ones, named in the error. */
static int bad_ctor(struct mtp_rd *r, uint32_t got, const char *what)
{
    const char *name = mtp_auth_tl_name(got);
    return mtp_rd_fail(r, MTP_ERR_TL_BAD_CTOR, "%s: found #%08x%s%s%s at offset %zu", what, got, name ? " (" : "",
                       name ? name : "", name ? ")" : "", mtp_rd_offset(r));
}

static int rd_bytes(struct mtp_rd *r, struct mtp_auth_bytes *b, const char *field)
{
    return mtp_tl_rd_bytes(r, &b->p, &b->len, false, field);
}

static int wr_bytes(struct mtp_wr *w, const struct mtp_auth_bytes *b)
{
    return mtp_tl_wr_bytes(w, b->len ? b->p : (const uint8_t *)"", b->len);
}

int mtp_auth_tl_read_req_pq(struct mtp_rd *r, struct mtp_auth_req_pq *out)
{
    struct mtp_rd t = *r;
    uint32_t id;
    MTP_GUARD(mtp_tl_rd_uint(&t, &id, "req_pq_multi"));
    if (id != MTP_AUTH_ID_REQ_PQ_MULTI && id != MTP_AUTH_ID_REQ_PQ)
        return bad_ctor(r, id, "expected req_pq_multi#be7e8ef1 or req_pq#60469778");
    out->multi = id == MTP_AUTH_ID_REQ_PQ_MULTI;
    MTP_GUARD(mtp_tl_rd_int128(&t, out->nonce, out->multi ? "req_pq_multi.nonce" : "req_pq.nonce"));
    *r = t;
    return MTP_OK;
}

int mtp_auth_tl_read_res_pq(struct mtp_rd *r, struct mtp_auth_res_pq *out)
{
    struct mtp_rd t = *r;
    MTP_GUARD(mtp_tl_rd_expect(&t, MTP_AUTH_ID_RES_PQ, "resPQ"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->nonce, "resPQ.nonce"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->server_nonce, "resPQ.server_nonce"));
    MTP_GUARD(rd_bytes(&t, &out->pq, "resPQ.pq"));
    uint32_t n;
    MTP_GUARD(mtp_tl_rd_vector_boxed(&t, MTP_AUTH_LONG_LEN, &n, "resPQ.server_public_key_fingerprints"));
    if (n > MTP_AUTH_MAX_FINGERPRINTS)
        return mtp_rd_fail(&t, MTP_ERR_LIMIT, "resPQ.server_public_key_fingerprints: %u entries, at most %u handled", n,
                           MTP_AUTH_MAX_FINGERPRINTS);
    for (uint32_t i = 0; i < n; i++)
        MTP_GUARD(mtp_rd_copy(&t, out->fingerprints[i], MTP_AUTH_LONG_LEN, "resPQ.server_public_key_fingerprints"));
    out->n_fingerprints = n;
    *r = t;
    return MTP_OK;
}

int mtp_auth_tl_read_pq_inner(struct mtp_rd *r, struct mtp_auth_pq_inner *out)
{
    struct mtp_rd t = *r;
    uint32_t id;
    MTP_GUARD(mtp_tl_rd_uint(&t, &id, "p_q_inner_data"));
    size_t f = 0;
    while (f < N_INNER_FORMS && inner_forms[f].id != id)
        f++;
    if (f == N_INNER_FORMS)
        return bad_ctor(r, id,
                        "expected p_q_inner_data_dc, p_q_inner_data_temp_dc, p_q_inner_data or p_q_inner_data_temp");
    /* Field names like "p_q_inner_data_temp_dc.new_nonce" for the errors. */
    char name[64];
    const char *form = inner_forms[f].name;
#define FIELD(x) (snprintf(name, sizeof name, "%s." x, form), name)
    out->form = (enum mtp_auth_inner_form)f;
    MTP_GUARD(rd_bytes(&t, &out->pq, FIELD("pq")));
    MTP_GUARD(rd_bytes(&t, &out->p, FIELD("p")));
    MTP_GUARD(rd_bytes(&t, &out->q, FIELD("q")));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->nonce, FIELD("nonce")));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->server_nonce, FIELD("server_nonce")));
    MTP_GUARD(mtp_tl_rd_int256(&t, out->new_nonce, FIELD("new_nonce")));
    out->dc = 0;
    out->expires_in = 0;
    if (inner_forms[f].dc)
        MTP_GUARD(mtp_tl_rd_int(&t, &out->dc, FIELD("dc")));
    if (inner_forms[f].temp)
        MTP_GUARD(mtp_tl_rd_int(&t, &out->expires_in, FIELD("expires_in")));
#undef FIELD
    *r = t;
    return MTP_OK;
}

int mtp_auth_tl_read_req_dh_params(struct mtp_rd *r, struct mtp_auth_req_dh_params *out)
{
    struct mtp_rd t = *r;
    MTP_GUARD(mtp_tl_rd_expect(&t, MTP_AUTH_ID_REQ_DH_PARAMS, "req_DH_params"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->nonce, "req_DH_params.nonce"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->server_nonce, "req_DH_params.server_nonce"));
    MTP_GUARD(rd_bytes(&t, &out->p, "req_DH_params.p"));
    MTP_GUARD(rd_bytes(&t, &out->q, "req_DH_params.q"));
    MTP_GUARD(mtp_rd_copy(&t, out->fingerprint, MTP_AUTH_LONG_LEN, "req_DH_params.public_key_fingerprint"));
    MTP_GUARD(rd_bytes(&t, &out->encrypted_data, "req_DH_params.encrypted_data"));
    *r = t;
    return MTP_OK;
}

int mtp_auth_tl_read_server_dh_params(struct mtp_rd *r, struct mtp_auth_server_dh_params *out)
{
    struct mtp_rd t = *r;
    uint32_t id;
    MTP_GUARD(mtp_tl_rd_uint(&t, &id, "server_DH_params"));
    if (id != MTP_AUTH_ID_SERVER_DH_PARAMS_OK && id != MTP_AUTH_ID_SERVER_DH_PARAMS_FAIL)
        return bad_ctor(r, id, "expected server_DH_params_ok#d0e8075c or server_DH_params_fail#79cb045d");
    out->ok = id == MTP_AUTH_ID_SERVER_DH_PARAMS_OK;
    MTP_GUARD(mtp_tl_rd_int128(&t, out->nonce, out->ok ? "server_DH_params_ok.nonce" : "server_DH_params_fail.nonce"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->server_nonce,
                               out->ok ? "server_DH_params_ok.server_nonce" : "server_DH_params_fail.server_nonce"));
    if (out->ok) {
        MTP_GUARD(rd_bytes(&t, &out->encrypted_answer, "server_DH_params_ok.encrypted_answer"));
        memset(out->new_nonce_hash, 0, sizeof out->new_nonce_hash);
    } else {
        MTP_GUARD(mtp_tl_rd_int128(&t, out->new_nonce_hash, "server_DH_params_fail.new_nonce_hash"));
        out->encrypted_answer = (struct mtp_auth_bytes){NULL, 0};
    }
    *r = t;
    return MTP_OK;
}

int mtp_auth_tl_read_server_inner(struct mtp_rd *r, struct mtp_auth_server_inner *out)
{
    struct mtp_rd t = *r;
    MTP_GUARD(mtp_tl_rd_expect(&t, MTP_AUTH_ID_SERVER_DH_INNER_DATA, "server_DH_inner_data"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->nonce, "server_DH_inner_data.nonce"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->server_nonce, "server_DH_inner_data.server_nonce"));
    MTP_GUARD(mtp_tl_rd_int(&t, &out->g, "server_DH_inner_data.g"));
    MTP_GUARD(rd_bytes(&t, &out->dh_prime, "server_DH_inner_data.dh_prime"));
    MTP_GUARD(rd_bytes(&t, &out->g_a, "server_DH_inner_data.g_a"));
    MTP_GUARD(mtp_tl_rd_int(&t, &out->server_time, "server_DH_inner_data.server_time"));
    *r = t;
    return MTP_OK;
}

int mtp_auth_tl_read_set_client_dh(struct mtp_rd *r, struct mtp_auth_set_client_dh *out)
{
    struct mtp_rd t = *r;
    MTP_GUARD(mtp_tl_rd_expect(&t, MTP_AUTH_ID_SET_CLIENT_DH_PARAMS, "set_client_DH_params"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->nonce, "set_client_DH_params.nonce"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->server_nonce, "set_client_DH_params.server_nonce"));
    MTP_GUARD(rd_bytes(&t, &out->encrypted_data, "set_client_DH_params.encrypted_data"));
    *r = t;
    return MTP_OK;
}

int mtp_auth_tl_read_client_inner(struct mtp_rd *r, struct mtp_auth_client_inner *out)
{
    struct mtp_rd t = *r;
    MTP_GUARD(mtp_tl_rd_expect(&t, MTP_AUTH_ID_CLIENT_DH_INNER_DATA, "client_DH_inner_data"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->nonce, "client_DH_inner_data.nonce"));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->server_nonce, "client_DH_inner_data.server_nonce"));
    MTP_GUARD(mtp_rd_copy(&t, out->retry_id, MTP_AUTH_LONG_LEN, "client_DH_inner_data.retry_id"));
    MTP_GUARD(rd_bytes(&t, &out->g_b, "client_DH_inner_data.g_b"));
    *r = t;
    return MTP_OK;
}

int mtp_auth_tl_read_dh_gen(struct mtp_rd *r, struct mtp_auth_dh_gen *out)
{
    struct mtp_rd t = *r;
    uint32_t id;
    MTP_GUARD(mtp_tl_rd_uint(&t, &id, "dh_gen"));
    int number = id == MTP_AUTH_ID_DH_GEN_OK      ? 1
                 : id == MTP_AUTH_ID_DH_GEN_RETRY ? 2
                 : id == MTP_AUTH_ID_DH_GEN_FAIL  ? 3
                                                  : 0;
    if (number == 0)
        return bad_ctor(r, id, "expected dh_gen_ok#3bcbf734, dh_gen_retry#46dc1fb9 or dh_gen_fail#a69dae02");
    static const char *const nonce_f[] = {"dh_gen_ok.nonce", "dh_gen_retry.nonce", "dh_gen_fail.nonce"};
    static const char *const snonce_f[] = {"dh_gen_ok.server_nonce", "dh_gen_retry.server_nonce",
                                           "dh_gen_fail.server_nonce"};
    static const char *const hash_f[] = {"dh_gen_ok.new_nonce_hash1", "dh_gen_retry.new_nonce_hash2",
                                         "dh_gen_fail.new_nonce_hash3"};
    out->number = number;
    MTP_GUARD(mtp_tl_rd_int128(&t, out->nonce, nonce_f[number - 1]));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->server_nonce, snonce_f[number - 1]));
    MTP_GUARD(mtp_tl_rd_int128(&t, out->new_nonce_hash, hash_f[number - 1]));
    *r = t;
    return MTP_OK;
}

int mtp_auth_tl_write_req_pq(struct mtp_wr *w, const struct mtp_auth_req_pq *in)
{
    MTP_GUARD(mtp_tl_wr_uint(w, in->multi ? MTP_AUTH_ID_REQ_PQ_MULTI : MTP_AUTH_ID_REQ_PQ));
    return mtp_tl_wr_int128(w, in->nonce);
}

int mtp_auth_tl_write_res_pq(struct mtp_wr *w, const struct mtp_auth_res_pq *in)
{
    if (in->n_fingerprints > MTP_AUTH_MAX_FINGERPRINTS)
        return mtp_error_set(w->err, MTP_ERR_ARG, MTP_NO_OFFSET, "resPQ: %u fingerprints, at most %u",
                             in->n_fingerprints, MTP_AUTH_MAX_FINGERPRINTS);
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_AUTH_ID_RES_PQ));
    MTP_GUARD(mtp_tl_wr_int128(w, in->nonce));
    MTP_GUARD(mtp_tl_wr_int128(w, in->server_nonce));
    MTP_GUARD(wr_bytes(w, &in->pq));
    MTP_GUARD(mtp_tl_wr_vector_boxed(w, in->n_fingerprints));
    for (uint32_t i = 0; i < in->n_fingerprints; i++)
        MTP_GUARD(mtp_wr_raw(w, in->fingerprints[i], MTP_AUTH_LONG_LEN));
    return MTP_OK;
}

int mtp_auth_tl_write_pq_inner(struct mtp_wr *w, const struct mtp_auth_pq_inner *in)
{
    if ((size_t)in->form >= N_INNER_FORMS)
        return mtp_error_set(w->err, MTP_ERR_ARG, MTP_NO_OFFSET, "p_q_inner_data: unknown form %d", (int)in->form);
    MTP_GUARD(mtp_tl_wr_uint(w, inner_forms[in->form].id));
    MTP_GUARD(wr_bytes(w, &in->pq));
    MTP_GUARD(wr_bytes(w, &in->p));
    MTP_GUARD(wr_bytes(w, &in->q));
    MTP_GUARD(mtp_tl_wr_int128(w, in->nonce));
    MTP_GUARD(mtp_tl_wr_int128(w, in->server_nonce));
    MTP_GUARD(mtp_tl_wr_int256(w, in->new_nonce));
    if (inner_forms[in->form].dc)
        MTP_GUARD(mtp_tl_wr_int(w, in->dc));
    if (inner_forms[in->form].temp)
        MTP_GUARD(mtp_tl_wr_int(w, in->expires_in));
    return MTP_OK;
}

int mtp_auth_tl_write_req_dh_params(struct mtp_wr *w, const struct mtp_auth_req_dh_params *in)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_AUTH_ID_REQ_DH_PARAMS));
    MTP_GUARD(mtp_tl_wr_int128(w, in->nonce));
    MTP_GUARD(mtp_tl_wr_int128(w, in->server_nonce));
    MTP_GUARD(wr_bytes(w, &in->p));
    MTP_GUARD(wr_bytes(w, &in->q));
    MTP_GUARD(mtp_wr_raw(w, in->fingerprint, MTP_AUTH_LONG_LEN));
    return wr_bytes(w, &in->encrypted_data);
}

int mtp_auth_tl_write_server_dh_params(struct mtp_wr *w, const struct mtp_auth_server_dh_params *in)
{
    MTP_GUARD(mtp_tl_wr_uint(w, in->ok ? MTP_AUTH_ID_SERVER_DH_PARAMS_OK : MTP_AUTH_ID_SERVER_DH_PARAMS_FAIL));
    MTP_GUARD(mtp_tl_wr_int128(w, in->nonce));
    MTP_GUARD(mtp_tl_wr_int128(w, in->server_nonce));
    if (in->ok)
        return wr_bytes(w, &in->encrypted_answer);
    return mtp_tl_wr_int128(w, in->new_nonce_hash);
}

int mtp_auth_tl_write_server_inner(struct mtp_wr *w, const struct mtp_auth_server_inner *in)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_AUTH_ID_SERVER_DH_INNER_DATA));
    MTP_GUARD(mtp_tl_wr_int128(w, in->nonce));
    MTP_GUARD(mtp_tl_wr_int128(w, in->server_nonce));
    MTP_GUARD(mtp_tl_wr_int(w, in->g));
    MTP_GUARD(wr_bytes(w, &in->dh_prime));
    MTP_GUARD(wr_bytes(w, &in->g_a));
    return mtp_tl_wr_int(w, in->server_time);
}

int mtp_auth_tl_write_set_client_dh(struct mtp_wr *w, const struct mtp_auth_set_client_dh *in)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_AUTH_ID_SET_CLIENT_DH_PARAMS));
    MTP_GUARD(mtp_tl_wr_int128(w, in->nonce));
    MTP_GUARD(mtp_tl_wr_int128(w, in->server_nonce));
    return wr_bytes(w, &in->encrypted_data);
}

int mtp_auth_tl_write_client_inner(struct mtp_wr *w, const struct mtp_auth_client_inner *in)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_AUTH_ID_CLIENT_DH_INNER_DATA));
    MTP_GUARD(mtp_tl_wr_int128(w, in->nonce));
    MTP_GUARD(mtp_tl_wr_int128(w, in->server_nonce));
    MTP_GUARD(mtp_wr_raw(w, in->retry_id, MTP_AUTH_LONG_LEN));
    return wr_bytes(w, &in->g_b);
}

int mtp_auth_tl_write_dh_gen(struct mtp_wr *w, const struct mtp_auth_dh_gen *in)
{
    uint32_t id = mtp_auth_dh_gen_id(in->number);
    if (id == 0)
        return mtp_error_set(w->err, MTP_ERR_ARG, MTP_NO_OFFSET, "dh_gen: number must be 1, 2 or 3, got %d",
                             in->number);
    MTP_GUARD(mtp_tl_wr_uint(w, id));
    MTP_GUARD(mtp_tl_wr_int128(w, in->nonce));
    MTP_GUARD(mtp_tl_wr_int128(w, in->server_nonce));
    return mtp_tl_wr_int128(w, in->new_nonce_hash);
}
