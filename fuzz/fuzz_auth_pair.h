/* Shared by fuzz_auth_client.c and fuzz_auth_server.c: an in-memory client and
 * server pair with deterministic environments, to reach any state of either
 * machine before the fuzzer's bytes are fed in. */
#ifndef FUZZ_AUTH_PAIR_H
#define FUZZ_AUTH_PAIR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mtp/auth.h"
#include "mtp/auth_client.h"
#include "mtp/auth_server.h"
#include "mtp/rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* One key for the whole run: generated from a fixed seed, never changed. */
static struct mtp_rsa_key *fz_key;

static inline void fz_init_key(void)
{
    if (fz_key != NULL)
        return;
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "fuzz_auth key", 13, 0);
    if (mtp_rsa_key_generate(&env, &fz_key, NULL) != MTP_OK)
        __builtin_trap();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_key();
    return 0;
}

#define FZ_CLOCK_MS INT64_C(1700000000000)

struct fz_pair {
    struct mtp_det_state cdet, sdet;
    struct mtp_env cenv, senv;
    const struct mtp_rsa_key *keys[1];
    struct mtp_auth_client_config cc;
    struct mtp_auth_server_config sc;
    struct mtp_auth_client *c;
    struct mtp_auth_server *s;
    uint8_t cbuf[MTP_AUTH_BODY_MAX], sbuf[MTP_AUTH_BODY_MAX];
    struct mtp_wr cw, sw; /* the client's last message, the server's last answer */
};

/* Default configurations; change p->cc / p->sc before fz_pair_start. */
static inline void fz_pair_init(struct fz_pair *p)
{
    fz_init_key();
    memset(p, 0, sizeof *p);
    p->cenv = mtp_env_deterministic(&p->cdet, "client", 6, FZ_CLOCK_MS);
    p->senv = mtp_env_deterministic(&p->sdet, "server", 6, FZ_CLOCK_MS);
    p->keys[0] = fz_key;
    mtp_auth_client_config_init(&p->cc);
    p->cc.keys = p->keys;
    p->cc.n_keys = 1;
    p->cc.dc = 2;
    mtp_auth_server_config_init(&p->sc);
    p->sc.keys = p->keys;
    p->sc.n_keys = 1;
    mtp_wr_init_fixed(&p->cw, p->cbuf, sizeof p->cbuf, NULL);
    mtp_wr_init_fixed(&p->sw, p->sbuf, sizeof p->sbuf, NULL);
}

/* Creates both machines; the client writes its first message. */
static inline bool fz_pair_start(struct fz_pair *p)
{
    if (mtp_auth_client_new(&p->cc, &p->cenv, &p->c, NULL) != MTP_OK)
        __builtin_trap();
    if (mtp_auth_server_new(&p->sc, &p->senv, &p->s, NULL) != MTP_OK)
        __builtin_trap();
    return mtp_auth_client_start(p->c, &p->cw, NULL) == MTP_OK;
}

/* The server answers the client's last message. */
static inline bool fz_server_turn(struct fz_pair *p)
{
    mtp_wr_reset(&p->sw);
    return p->cw.len > 0 && mtp_auth_server_recv(p->s, p->cbuf, p->cw.len, &p->sw, NULL) == MTP_OK;
}

/* The client answers the server's last message. */
static inline bool fz_client_turn(struct fz_pair *p)
{
    mtp_wr_reset(&p->cw);
    return p->sw.len > 0 && mtp_auth_client_recv(p->c, p->sbuf, p->sw.len, &p->cw, NULL) == MTP_OK;
}

/* Runs the exchange to its end. */
static inline void fz_pair_finish(struct fz_pair *p)
{
    for (int i = 0; i < 16 && mtp_auth_client_state(p->c) != MTP_AUTH_C_DONE; i++)
        if (!fz_server_turn(p) || !fz_client_turn(p))
            return;
}

static inline void fz_pair_free(struct fz_pair *p)
{
    mtp_auth_client_del(p->c);
    mtp_auth_server_del(p->s);
}

/* The oracle of every run: an agreed key is the same on both sides. */
static inline void fz_check_agreement(const struct fz_pair *p)
{
    if (mtp_auth_client_state(p->c) != MTP_AUTH_C_DONE)
        return;
    struct mtp_auth_result cr, sr;
    if (mtp_auth_server_state(p->s) != MTP_AUTH_S_DONE || mtp_auth_client_result(p->c, &cr, NULL) != MTP_OK ||
        mtp_auth_server_result(p->s, &sr, NULL) != MTP_OK ||
        memcmp(cr.auth_key, sr.auth_key, sizeof cr.auth_key) != 0 ||
        memcmp(cr.server_salt, sr.server_salt, sizeof cr.server_salt) != 0)
        __builtin_trap();
}

#endif
