/* Target functions: mtp_auth_server_recv in every state (and the client
 * machine that drives it there)
 * Input: byte 0 picks the mode, the rest is
 *   0: a client message to a fresh server (req_pq_multi expected);
 *   1: a client message to a server awaiting req_DH_params (after a real req_pq_multi);
 *   2: a p_q_inner_data, which the client RSA_PAD-encrypts properly for the
 *      server's key, so that the fuzzer reaches the parser behind RSA;
 *   3: a client message to a server awaiting set_client_DH_params;
 *   4: a client_DH_inner_data, which the client hashes and encrypts properly;
 *   5: a client behaviour: corruption set (8 bytes), flags, then g_b.
 * Oracles: a rejected message appends nothing and leaves the server FAILED
 * with that error; an accepted one always produces an answer; whenever both
 * sides agree on a key it is the same key; a client corruption never goes
 * unnoticed by the server. */
#include <stdint.h>
#include <string.h>

#include "fuzz_auth_pair.h"
#include "mtp/buf.h"

static void feed_server(struct fz_pair *p, const uint8_t *m, size_t len)
{
    mtp_wr_reset(&p->sw);
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtp_auth_server_recv(p->s, m, len, &p->sw, &err);
    if (rc < 0) {
        if (p->sw.len != 0 || mtp_auth_server_state(p->s) != MTP_AUTH_S_FAILED || err.code != rc ||
            mtp_auth_server_error(p->s)->code != rc || err.msg[0] == '\0')
            __builtin_trap();
    } else if (rc != MTP_OK || p->sw.len == 0 || mtp_auth_server_state(p->s) == MTP_AUTH_S_FAILED) {
        __builtin_trap();
    }
}

static void run_behaviour(struct fz_pair *p, const uint8_t *data, size_t size)
{
    struct mtp_auth_client_behaviour bh;
    memset(&bh, 0, sizeof bh);
    struct mtp_rd r;
    mtp_rd_init(&r, data, size, NULL);
    uint64_t corrupt = 0;
    uint8_t flags = 0;
    if (mtp_rd_u64(&r, &corrupt, "corrupt") != MTP_OK || mtp_rd_u8(&r, &flags, "flags") != MTP_OK)
        return;
    /* only the client's points */
    bh.corrupt = corrupt & ~(MTP_AUTH_CORRUPT(MTP_AUTH_X_REQ_DH_NONCE) - 1) & (MTP_AUTH_CORRUPT(MTP_AUTH_X_COUNT) - 1);
    if (flags & 1) {
        bh.g_b = mtp_rd_cur(&r);
        bh.g_b_len = mtp_rd_left(&r);
    }
    p->cc.behaviour = &bh;
    p->cc.inner = (enum mtp_auth_inner_form)((flags >> 1) % 4);
    p->cc.expires_in = (flags & 8) ? 3600 : 0;
    p->cc.req_pq_old = (flags & 16) != 0;
    p->cc.rsa = (flags & 32) ? MTP_AUTH_RSA_OLD : MTP_AUTH_RSA_PAD;
    p->sc.refuse_old = (flags & 64) != 0;
    if (!fz_pair_start(p))
        __builtin_trap();
    fz_pair_finish(p);
    fz_check_agreement(p);
    if (bh.corrupt != 0 && mtp_auth_server_state(p->s) != MTP_AUTH_S_FAILED)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct fz_pair p;
    fz_pair_init(&p);
    uint8_t mode = data[0] % 6;
    data++;
    size--;
    struct mtp_auth_client_behaviour inner = {0};
    switch (mode) {
    case 0:
        if (!fz_pair_start(&p))
            __builtin_trap();
        feed_server(&p, data, size);
        break;
    case 1:
    case 3:
        if (!fz_pair_start(&p) || !fz_server_turn(&p))
            __builtin_trap();
        if (mode == 3 && (!fz_client_turn(&p) || !fz_server_turn(&p)))
            __builtin_trap();
        feed_server(&p, data, size);
        break;
    case 2:
    case 4:
        if (mode == 2) {
            if (size > MTP_RSA_PAD_DATA_MAX) /* RSA_PAD carries no more */
                break;
            inner.pq_inner = data;
            inner.pq_inner_len = size;
        } else {
            if (size > 900)
                break;
            inner.client_inner = data;
            inner.client_inner_len = size;
        }
        p.cc.behaviour = &inner;
        if (!fz_pair_start(&p) || !fz_server_turn(&p) || !fz_client_turn(&p))
            __builtin_trap();
        if (mode == 4 && (!fz_server_turn(&p) || !fz_client_turn(&p)))
            __builtin_trap();
        feed_server(&p, p.cbuf, p.cw.len);
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
