/* Target functions: mtpc_start, mtpc_feed, mtpc_peer_closed, mtpc_timeout and
 * everything a server's bytes reach in the reference client core before a key
 * exists: transport decoding (every transport, obfuscated or not), transport
 * error frames, the unencrypted envelope and the auth client machine.
 * Input: byte 0 picks the transport (low 3 bits: abridged, intermediate,
 * padded, full, obfuscated abridged/intermediate/padded; 7 = intermediate)
 * and whether the stream ends with a hang-up (bit 3); byte 1 seeds the chunk
 * sizes; the rest is what the server sends.
 * Oracles: feeding in chunks ends exactly like feeding at once (state, error
 * code and message, output bytes); a failed run has a code and a message;
 * the output stays within max_output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/mtpc_client.h"
#include "mtp/rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* vectors/rsa/test_key_public_pkcs1.pem */
static const char TEST_KEY[] = "-----BEGIN RSA PUBLIC KEY-----\n"
                               "MIIBCgKCAQEAkdc6Kj4DDqBsviBB42aPJa48oWu28OZFY+HFgDEp78TGJw17dy4c\n"
                               "xPVwYXqPJ0BlbtkgIyj6TlJcGAEA1r/xkC1apuAa3243DyQyrg2xSAI25zo+2Ekl\n"
                               "gb8+BYY0CAiOIgwu01kEidZhPkKWdbxSxFnwg3YN4jBUY0MXcYa3/SymsIDM2Fsp\n"
                               "Yg+L2u8AemyPXH82gOlgQKPVWM9oXH/+sJrzc6b21EuF9e5i9ybhatSig32Pw+I/\n"
                               "T0Gy9jcVyIM4IygmzguR3r+vmvqBeEUjJOhWlr9OJgHlXxEZ8eDiJBSgVCKQ4t/O\n"
                               "K7RYwD08U5WPeJPcnsrXArsIpLQZQJg+IQIDAQAB\n"
                               "-----END RSA PUBLIC KEY-----\n";

#define MAX_OUTPUT 65536

struct result {
    enum mtpc_state state;
    int error;
    char msg[512];
    uint8_t out[MAX_OUTPUT];
    size_t out_len;
};

static const struct {
    enum mtp_tr_kind kind;
    bool obfuscated;
} TRANSPORTS[8] = {
    {MTP_TR_ABRIDGED, false}, {MTP_TR_INTERMEDIATE, false}, {MTP_TR_PADDED, false},
    {MTP_TR_FULL, false},     {MTP_TR_ABRIDGED, true},      {MTP_TR_INTERMEDIATE, true},
    {MTP_TR_PADDED, true},    {MTP_TR_INTERMEDIATE, false},
};

/* One run; chunk_seed 0 feeds everything at once. */
static void run(const struct mtp_rsa_key *key, uint8_t mode, uint8_t chunk_seed, const uint8_t *stream, size_t len,
                struct result *res)
{
    memset(res, 0, sizeof *res);
    struct mtp_det_state det;
    struct mtp_env env = mtp_env_deterministic(&det, "fuzz", 4, 1700000000000LL);
    struct mtpc_config cfg;
    mtpc_config_init(&cfg);
    cfg.kind = TRANSPORTS[mode & 7].kind;
    cfg.obfuscated = TRANSPORTS[mode & 7].obfuscated;
    const struct mtp_rsa_key *keys[1] = {key};
    cfg.auth.keys = keys;
    cfg.auth.n_keys = 1;
    cfg.auth.dh_mode = MTP_DH_TRUST_KNOWN;
    cfg.max_frame = 4096;
    cfg.max_output = MAX_OUTPUT;
    struct mtpc_client *c;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtpc_new(&cfg, &env, &c, &err) < 0)
        __builtin_trap();
    (void)mtpc_start(c);
    uint8_t *copy = malloc(len ? len : 1); /* decrypted in place when obfuscated */
    if (copy == NULL)
        __builtin_trap();
    memcpy(copy, stream, len);
    size_t off = 0;
    unsigned step = chunk_seed;
    while (off < len && mtpc_state(c) == MTPC_RUNNING) {
        size_t n = len - off;
        if (chunk_seed != 0) {
            step = step * 1103515245u + 12345u;
            size_t want = 1 + (step >> 16) % 97;
            if (want < n)
                n = want;
        }
        (void)mtpc_feed(c, copy + off, n);
        off += n;
        size_t pending;
        (void)mtpc_output(c, &pending);
        if (pending > MAX_OUTPUT)
            __builtin_trap();
    }
    free(copy);
    if (mode & 8)
        mtpc_peer_closed(c);
    else
        mtpc_timeout(c, 1000);
    const struct mtpc_outcome *o = mtpc_outcome(c);
    res->state = mtpc_state(c);
    res->error = o->error;
    memcpy(res->msg, o->error_msg, sizeof res->msg);
    if (res->state == MTPC_FAILED && (o->error >= 0 || o->error_msg[0] == '\0'))
        __builtin_trap();
    const uint8_t *p = mtpc_output(c, &res->out_len);
    if (res->out_len > MAX_OUTPUT)
        __builtin_trap();
    if (res->out_len)
        memcpy(res->out, p, res->out_len);
    mtpc_del(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct result whole, chunked;
    if (size < 2)
        return 0;
    struct mtp_rsa_key *key = NULL;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_rsa_key_from_pem(TEST_KEY, sizeof TEST_KEY - 1, &key, &err) < 0)
        __builtin_trap();
    run(key, data[0], 0, data + 2, size - 2, &whole);
    run(key, data[0], (uint8_t)(data[1] | 1), data + 2, size - 2, &chunked);
    /* The offsets inside error messages are stream offsets, so they agree too. */
    if (whole.state != chunked.state || whole.error != chunked.error || strcmp(whole.msg, chunked.msg) != 0 ||
        whole.out_len != chunked.out_len || memcmp(whole.out, chunked.out, whole.out_len) != 0)
        __builtin_trap();
    mtp_rsa_key_free(key);
    return 0;
}
