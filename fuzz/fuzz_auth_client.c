/* Target functions: mtp_auth_client_recv in every state (and the server
 * machine that drives it there)
 * Input: byte 0 picks the mode, the rest is
 *   0: a server message to a client awaiting resPQ;
 *   1: a server message to a client awaiting server_DH_params (after a real resPQ);
 *   2: a server_DH_inner_data, which the server hashes and encrypts properly,
 *      so that the fuzzer reaches the parser behind the AES layer;
 *   3: a server message to a client awaiting dh_gen_ok/retry/fail;
 *   4: a server behaviour: corruption set (8 bytes), flags, g, g_a - the whole
 *      scenario space of the mock datacenter.
 * Oracles: a rejected message appends nothing and leaves the client FAILED
 * with that error; an accepted one never leaves it FAILED; whenever the client
 * agrees on a key the server has the same key, and no behaviour that must be
 * detected was in effect. */
#include <stdint.h>
#include <string.h>

#include "fuzz_auth_pair.h"
#include "mtp/buf.h"

/* Feeds one message to the client and checks what a rejection or an acceptance must look like. */
static void feed_client(struct fz_pair *p, const uint8_t *m, size_t len)
{
    mtp_wr_reset(&p->cw);
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtp_auth_client_recv(p->c, m, len, &p->cw, &err);
    enum mtp_auth_client_state st = mtp_auth_client_state(p->c);
    if (rc < 0) {
        if (p->cw.len != 0 || st != MTP_AUTH_C_FAILED || err.code != rc || mtp_auth_client_error(p->c)->code != rc ||
            err.msg[0] == '\0')
            __builtin_trap();
    } else if (rc != MTP_OK || st == MTP_AUTH_C_FAILED || (st != MTP_AUTH_C_DONE && p->cw.len == 0)) {
        __builtin_trap();
    }
}

/* Mode 4: the behaviour comes from the input. */
static void run_behaviour(struct fz_pair *p, const uint8_t *data, size_t size)
{
    struct mtp_auth_server_behaviour bh;
    memset(&bh, 0, sizeof bh);
    struct mtp_rd r;
    mtp_rd_init(&r, data, size, NULL);
    uint64_t corrupt = 0;
    uint8_t flags = 0, retries = 0, hash_number = 0;
    int32_t g = 0;
    if (mtp_rd_u64(&r, &corrupt, "corrupt") != MTP_OK || mtp_rd_u8(&r, &flags, "flags") != MTP_OK ||
        mtp_rd_u8(&r, &retries, "retries") != MTP_OK || mtp_rd_u8(&r, &hash_number, "hash") != MTP_OK ||
        mtp_rd_i32(&r, &g, "g") != MTP_OK)
        return;
    /* only the server's points */
    bh.corrupt = corrupt & (MTP_AUTH_CORRUPT(MTP_AUTH_X_REQ_DH_NONCE) - 1);
    bh.dh_params_fail = (flags & 1) != 0;
    bh.dh_gen_fail = (flags & 2) != 0;
    bh.g_set = (flags & 4) != 0;
    bh.g = g;
    if (flags & 8) { /* the rest is g_a */
        bh.g_a = mtp_rd_cur(&r);
        bh.g_a_len = mtp_rd_left(&r);
    }
    bh.server_time_set = (flags & 16) != 0;
    bh.server_time = g;
    bh.dh_gen_retries = retries % 8;
    bh.dh_gen_hash_number = hash_number % 4;
    p->sc.behaviour = &bh;
    p->cc.max_clock_skew_s = (flags & 32) ? 3600 : 0;
    if (!fz_pair_start(p))
        __builtin_trap();
    fz_pair_finish(p);
    fz_check_agreement(p);
    if (mtp_auth_client_state(p->c) == MTP_AUTH_C_DONE) {
        /* a key was agreed although something the client must detect was done */
        uint64_t effective = bh.corrupt & ~MTP_AUTH_CORRUPT(MTP_AUTH_X_DH_PARAMS_FAIL_HASH);
        if (effective != 0 || bh.dh_params_fail || bh.dh_gen_fail || bh.dh_gen_hash_number > 1)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct fz_pair p;
    fz_pair_init(&p);
    uint8_t mode = data[0] % 5;
    data++;
    size--;
    struct mtp_auth_server_behaviour answer = {.answer = data, .answer_len = size};
    switch (mode) {
    case 0:
        if (!fz_pair_start(&p))
            __builtin_trap();
        feed_client(&p, data, size);
        break;
    case 1:
    case 3:
        if (!fz_pair_start(&p) || !fz_server_turn(&p) || !fz_client_turn(&p))
            __builtin_trap();
        if (mode == 3 && (!fz_server_turn(&p) || !fz_client_turn(&p)))
            __builtin_trap();
        feed_client(&p, data, size);
        break;
    case 2:
        if (size > 900) /* more than the encrypted answer can carry */
            break;
        p.sc.behaviour = &answer;
        if (!fz_pair_start(&p) || !fz_server_turn(&p) || !fz_client_turn(&p) || !fz_server_turn(&p))
            __builtin_trap();
        feed_client(&p, p.sbuf, p.sw.len);
        fz_pair_finish(&p);
        fz_check_agreement(&p);
        break;
    default:
        run_behaviour(&p, data, size);
        break;
    }
    fz_pair_free(&p);
    return 0;
}
