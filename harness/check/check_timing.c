/* The timing side channel of the msg_key check, measured as tlsfuzzer
 * measures Bleichenbacher oracles.
 *
 * security_guidelines: "the response to any error encountered before the
 * msg_key check must be the same as the response to a failed msg_key check".
 * Every packet here fails the msg_key check: its msg_key is random, and the
 * probe (which holds the key) encrypts under the AES key that msg_key
 * derives, so the header the server decrypts says what the probe chose.  In
 * class A message_data_length is valid, in class B far beyond the packet.  A
 * server that looks at the length before it has checked msg_key (and skips
 * the rest of the work for B) answers B sooner.  Samples of the two classes
 * go out in a random interleaving, each on a fresh connection, with large
 * packets so that the skipped work is measurable; the time is from the last
 * byte written to the first byte (or the close) of the reaction.  The two
 * distributions are compared with the Mann-Whitney U test and a bootstrap
 * confidence interval of the difference of the medians. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check/check_probes.h"
#include "check/check_stats.h"
#include "mtp/aes_ige.h"
#include "mtp/msgcrypt.h"
#include "mtp/service.h"

#define DEFAULT_SAMPLES 200
#define DEFAULT_SIZE (128 * 1024)
#define DEFAULT_CONFIDENCE 0.999
#define BOOTSTRAP_ITERATIONS 2000

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One hostile packet of a class, then an honest ping in a session of its own
 * (so that a server that answers bad packets with silence still shows when it
 * was done with the first). */
static int build(struct probe *P, const struct probe_key *k, bool bad_length, size_t size, struct mtp_wr *out)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t *plain = malloc(size);
    if (plain == NULL)
        return probe_fail(P, "out of memory");
    int rc = mtp_env_rand(&P->env, plain, size);
    uint64_t sid = 0, pid = 0;
    PROBE_MUST(P, mtp_env_rand(&P->env, &sid, sizeof sid));
    PROBE_MUST(P, mtp_env_rand(&P->env, &pid, sizeof pid));
    uint64_t msg_id = mtp_msgid_from_ms(mtp_env_now_ms(&P->env) + k->offset_ms);
    mtp_store_u64(plain, k->salt);
    mtp_store_u64(plain + 8, sid);
    mtp_store_u64(plain + 16, msg_id);
    mtp_store_u32(plain + 24, 1);
    mtp_store_u32(plain + 28, bad_length ? 0x7ffffff0u : (uint32_t)(size - 32 - 16));
    uint8_t msg_key[16], key[32], iv[32];
    if (rc == 0)
        rc = mtp_env_rand(&P->env, msg_key, sizeof msg_key);
    if (rc == 0)
        rc = mtp_msg_kdf(k->auth_key, MTP_SENDER_CLIENT, msg_key, key, iv);
    uint8_t *p = NULL;
    if (rc == 0)
        rc = mtp_wr_raw(out, k->id, 8);
    if (rc == 0)
        rc = mtp_wr_raw(out, msg_key, 16);
    if (rc == 0)
        rc = mtp_wr_reserve(out, size, &p);
    if (rc == 0)
        rc = mtp_aes_ige_encrypt(key, 32, iv, plain, p, size, &err);
    mtp_wipe(key, sizeof key);
    mtp_wipe(iv, sizeof iv);
    free(plain);
    return rc < 0 ? probe_fail(P, "timing packet: %s", err.msg[0] ? err.msg : mtp_err_name(rc)) : 0;
}

static int build_sentinel(struct probe *P, const struct probe_key *k, struct mtp_wr *out)
{
    uint8_t plain[64];
    uint64_t sid = 0, pid = 0;
    PROBE_MUST(P, mtp_env_rand(&P->env, &sid, sizeof sid));
    PROBE_MUST(P, mtp_env_rand(&P->env, &pid, sizeof pid));
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, plain, sizeof plain, NULL);
    PROBE_MUST(P, mtp_wr_u64(&w, k->salt));
    PROBE_MUST(P, mtp_wr_u64(&w, sid));
    PROBE_MUST(P, mtp_wr_u64(&w, mtp_msgid_from_ms(mtp_env_now_ms(&P->env) + k->offset_ms) + 4));
    PROBE_MUST(P, mtp_wr_i32(&w, 1));
    PROBE_MUST(P, mtp_wr_u32(&w, 12));
    PROBE_MUST(P, mtp_svc_write_ping(&w, pid));
    uint8_t *pad;
    if (mtp_wr_reserve(&w, 20, &pad) < 0 || mtp_env_rand(&P->env, pad, 20) < 0)
        return probe_fail(P, "sentinel");
    struct mtp_error err;
    mtp_error_clear(&err);
    return mtp_msg_encrypt(k->auth_key, MTP_SENDER_CLIENT, w.p, w.len, out, &err) < 0 ? probe_fail(P, "sentinel") : 0;
}

/* What ended the wait: 1 bytes, 2 close, 0 nothing. */
struct sample {
    double us;
    int how;
};

static int one_sample(struct probe *P, const struct probe_key *k, bool bad, size_t size, struct sample *s)
{
    struct probe_conn c;
    struct mtp_wr pkt, sen;
    mtp_wr_init_dyn(&pkt, size + 64, NULL);
    mtp_wr_init_dyn(&sen, 256, NULL);
    int rc = build(P, k, bad, size, &pkt);
    if (rc == 0)
        rc = build_sentinel(P, k, &sen);
    if (rc == 0)
        rc = probe_open(P, &c, NULL);
    if (rc < 0) {
        mtp_wr_free(&pkt);
        mtp_wr_free(&sen);
        return -1;
    }
    /* Both frames go out in one write; the clock starts when the kernel has them all. */
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_tr_send m1 = {.data = pkt.p, .len = pkt.len}, m2 = {.data = sen.p, .len = sen.len};
    if (mtp_tr_conn_send(&c.tr, &m1, &c.out, &err) < 0 || mtp_tr_conn_send(&c.tr, &m2, &c.out, &err) < 0) {
        probe_close(&c);
        mtp_wr_free(&pkt);
        mtp_wr_free(&sen);
        return probe_fail(P, "timing frame: %s", err.msg);
    }
    size_t off = 0;
    while (off < c.out.len) {
        ssize_t n = send(c.fd, c.out.p + off, c.out.len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pw = {c.fd, POLLOUT, 0};
            (void)poll(&pw, 1, 1000);
        } else {
            break;
        }
    }
    int64_t t0 = mono_ns();
    struct pollfd pfd = {c.fd, POLLIN, 0};
    int pr = poll(&pfd, 1, (int)P->cfg.wait_ms);
    int64_t t1 = mono_ns();
    s->us = (double)(t1 - t0) / 1000.0;
    s->how = 0;
    if (pr == 1) {
        uint8_t b[64];
        ssize_t n = recv(c.fd, b, sizeof b, 0);
        s->how = n > 0 ? 1 : 2;
    }
    c.eof = true; /* quiet close */
    probe_close(&c);
    mtp_wr_free(&pkt);
    mtp_wr_free(&sen);
    return 0;
}

static void shuffle(struct probe *P, uint8_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        uint32_t r = 0;
        PROBE_MUST(P, mtp_env_rand(&P->env, &r, sizeof r));
        size_t j = r % i;
        uint8_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static json_t *us_array(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(round(v[i] * 10) / 10));
    return a;
}

int probe_timing(struct probe *P, const json_t *spec)
{
    size_t samples = (size_t)(json_integer_value(json_object_get(spec, "samples")) > 0
                                  ? json_integer_value(json_object_get(spec, "samples"))
                                  : DEFAULT_SAMPLES);
    size_t size = (size_t)(json_integer_value(json_object_get(spec, "size")) > 0
                               ? json_integer_value(json_object_get(spec, "size"))
                               : DEFAULT_SIZE);
    double confidence = json_is_number(json_object_get(spec, "confidence"))
                            ? json_number_value(json_object_get(spec, "confidence"))
                            : DEFAULT_CONFIDENCE;
    size -= size % 16;
    if (size < 1024 || samples < 10 || !(confidence > 0.5 && confidence < 1))
        return probe_fail(P, "timing: size %zu, samples %zu, confidence %g out of range", size, samples, confidence);
    int64_t started = probe_mono_ms();

    /* A real key: one honest exchange (logged), then the samples (not logged). */
    struct probe_conn c;
    struct probe_hs h;
    struct probe_key k;
    memset(&h, 0, sizeof h);
    memset(&k, 0, sizeof k);
    int rc = probe_open(P, &c, NULL);
    if (rc == 0)
        rc = probe_exchange(&c, NULL, &h, &k);
    probe_close(&c);
    probe_hs_free(&h);
    if (rc != 0) {
        probe_key_free(&k);
        return rc < 0 ? -1 : probe_fail(P, "the honest key exchange did not complete");
    }
    size_t warm = samples / 10 < 10 ? 10 : samples / 10;
    size_t total = warm + 2 * samples;
    uint8_t *order = malloc(total);
    double *a = calloc(samples, sizeof *a), *b = calloc(samples, sizeof *b);
    int how[2][3] = {{0}};
    size_t na = 0, nb = 0, lost = 0;
    if (order == NULL || a == NULL || b == NULL) {
        rc = probe_fail(P, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < warm; i++)
        order[i] = (uint8_t)(2 + i % 2); /* warm-up: not counted */
    for (size_t i = 0; i < samples; i++) {
        order[warm + 2 * i] = 0;
        order[warm + 2 * i + 1] = 1;
    }
    shuffle(P, order + warm, 2 * samples);
    P->quiet = true;
    for (size_t i = 0; i < total; i++) {
        bool bad = order[i] % 2 == 1;
        struct sample s = {0, 0};
        if ((rc = one_sample(P, &k, bad, size, &s)) < 0)
            break;
        if (order[i] >= 2)
            continue;
        how[bad][s.how]++;
        if (s.how == 0)
            lost++;
        else if (bad)
            b[nb++] = s.us;
        else
            a[na++] = s.us;
    }
    P->quiet = false;
    if (rc < 0)
        goto out;
    /* One packet of each class in the log, to show what was sent. */
    for (int cls = 0; cls < 2; cls++) {
        struct probe_conn ex;
        if (probe_open(P, &ex, NULL) < 0) {
            rc = -1;
            goto out;
        }
        ex.key = &k;
        struct probe_sess s;
        probe_sess_init(P, &s, &k);
        uint8_t body[16];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, body, sizeof body, NULL);
        PROBE_MUST(P, mtp_svc_write_ping(&w, 1));
        struct probe_msg m = {.body = body, .len = w.len, .content = true, .flip_msg_key = true,
                              .length_set = cls == 1, .length = 0x7ffffff0u,
                              .hostile = cls ? "class B: wrong msg_key, message_data_length beyond the packet"
                                             : "class A: wrong msg_key, a valid message_data_length"};
        rc = probe_send_msg(&ex, &s, &m, NULL, NULL);
        struct probe_rx r;
        if (rc == 0 && probe_recv(&ex, probe_mono_ms() + P->cfg.wait_ms, &r) == 0)
            probe_rx_free(&r);
        probe_close(&ex);
        if (rc < 0)
            goto out;
    }
    if (na < 10 || nb < 10) {
        rc = probe_fail(P, "timing: only %zu and %zu samples got a reaction within %lld ms", na, nb,
                        (long long)P->cfg.wait_ms);
        goto out;
    }
    struct stats_mwu mw = {0};
    struct stats_ci ci = {0};
    uint64_t seed = 0;
    PROBE_MUST(P, mtp_env_rand(&P->env, &seed, sizeof seed));
    bool tested = stats_mann_whitney(a, na, b, nb, &mw) == 0;
    if (stats_bootstrap_median_diff(a, na, b, nb, confidence, BOOTSTRAP_ITERATIONS, seed, &ci) < 0) {
        rc = probe_fail(P, "timing: bootstrap failed");
        goto out;
    }
    double alpha = 1 - confidence;
    /* A leak: the rank test rejects "same distribution" at the chosen level and
     * the interval of the median difference lies on one side of zero. */
    bool leak = tested && mw.p < alpha && (ci.lo > 0 || ci.hi < 0);
    /* The reactions themselves must be of the same kind too. */
    bool same_kind = (how[0][1] > 0) == (how[1][1] > 0) && (how[0][2] > 0) == (how[1][2] > 0);
    double ma = stats_median(a, na), mb = stats_median(b, nb);
    json_t *o = probe_ev_new(P, "timing", 0);
    json_object_set_new(o, "samples", json_integer((json_int_t)samples));
    json_object_set_new(o, "packet_bytes", json_integer((json_int_t)size));
    json_object_set_new(o, "confidence", json_real(confidence));
    json_object_set_new(o, "median_a_us", json_real(round(ma * 10) / 10));
    json_object_set_new(o, "median_b_us", json_real(round(mb * 10) / 10));
    json_object_set_new(o, "median_diff_us", json_real(round(ci.diff * 10) / 10));
    json_object_set_new(o, "ci_lo_us", json_real(round(ci.lo * 10) / 10));
    json_object_set_new(o, "ci_hi_us", json_real(round(ci.hi * 10) / 10));
    json_object_set_new(o, "mann_whitney_u", json_real(mw.u));
    json_object_set_new(o, "z", json_real(mw.z));
    json_object_set_new(o, "p_value", json_real(tested ? mw.p : 1));
    json_object_set_new(o, "leak", json_boolean(leak));
    json_object_set_new(o, "lost", json_integer((json_int_t)lost));
    json_object_set_new(o, "reactions_a", json_pack("{s:i, s:i}", "bytes", how[0][1], "close", how[0][2]));
    json_object_set_new(o, "reactions_b", json_pack("{s:i, s:i}", "bytes", how[1][1], "close", how[1][2]));
    json_object_set_new(o, "seconds", json_real((double)(probe_mono_ms() - started) / 1000.0));
    json_object_set_new(o, "a_us", us_array(a, na));
    json_object_set_new(o, "b_us", us_array(b, nb));
    size_t tev = probe_emit(P, o);
    const char *re = !same_kind ? "different-reaction" : leak ? "timing-leak" : "same-timing";
    probe_reaction(P, re, NULL, 0, &tev, 1,
                   "%zu + %zu samples of %zu-byte packets: median %.1f us (valid length) vs %.1f us (length out of "
                   "range), difference %.1f us, %.1f%% interval [%.1f, %.1f] us, Mann-Whitney p = %.3g%s%s",
                   na, nb, size, ma, mb, ci.diff, confidence * 100, ci.lo, ci.hi, tested ? mw.p : 1.0,
                   leak ? ": the length is looked at before msg_key" : "",
                   same_kind ? "" : "; the two classes got different kinds of reaction");
    rc = 0;
out:
    P->quiet = false;
    free(order);
    free(a);
    free(b);
    probe_key_free(&k);
    return rc;
}
