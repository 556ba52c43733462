/* Transport obfuscation (obfuscated2): init, key derivation, AES-256-CTR. */
#include "mtp/obfs.h"

#include <limits.h>
#include <openssl/evp.h>
#include <string.h>

int mtp_obfs_secret_parse(struct mtp_obfs_secret *s, const uint8_t *p, size_t len, struct mtp_error *err)
{
    memset(s, 0, sizeof *s);
    if (p == NULL || len == 0)
        return MTP_OK;
    struct mtp_rd r;
    mtp_rd_init(&r, p, len, err);
    if (len == 16) {
        s->mode = MTP_OBFS_SECRET_SIMPLE;
        return mtp_rd_copy(&r, s->key, 16, "secret");
    }
    uint8_t prefix;
    MTP_GUARD(mtp_rd_u8(&r, &prefix, "secret.prefix"));
    /* 0xee secrets carry the domain to imitate after the 16 bytes. */
    if (prefix == 0xee && len >= 17) {
        s->mode = MTP_OBFS_SECRET_FAKE_TLS;
        return mtp_rd_copy(&r, s->key, 16, "secret");
    }
    /* "clients should default to the padded intermediate transport whenever
     * an additional byte in the secret is encountered" (usually 0xdd). */
    if (len == 17) {
        s->mode = MTP_OBFS_SECRET_PADDED;
        return mtp_rd_copy(&r, s->key, 16, "secret");
    }
    return mtp_error_set(err, MTP_ERR_ARG, 0,
                         "secret: %zu bytes; expected 16, 17 (0xdd + 16) or 0xee + 16 + domain", len);
}

static int sha256_key(uint8_t key[32], const struct mtp_obfs_secret *secret)
{
    if (secret == NULL || secret->mode == MTP_OBFS_SECRET_NONE)
        return MTP_OK;
    uint8_t in[48];
    memcpy(in, key, 32);
    memcpy(in + 32, secret->key, 16);
    unsigned int md_len = 0;
    int ok = EVP_Digest(in, sizeof in, key, &md_len, EVP_sha256(), NULL) == 1;
    mtp_wipe(in, sizeof in);
    return ok ? MTP_OK : MTP_ERR_OSSL;
}

int mtp_obfs_derive(const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_secret *secret,
                    enum mtp_tr_side role, struct mtp_obfs_keys *keys)
{
    /* The "secondary initialization payload" is the init reversed; its bytes
     * 8..56 are init[8..56) reversed. */
    uint8_t fwd[48], rev[48];
    struct mtp_rd r;
    mtp_rd_init(&r, init, MTP_OBFS_INIT_LEN, NULL);
    MTP_GUARD(mtp_rd_skip(&r, 8, "init.random"));
    MTP_GUARD(mtp_rd_copy(&r, fwd, sizeof fwd, "init.key_iv"));
    for (size_t i = 0; i < sizeof rev; i++)
        rev[i] = fwd[sizeof fwd - 1 - i];
    const uint8_t *mine = role == MTP_TR_CLIENT ? fwd : rev;
    const uint8_t *theirs = role == MTP_TR_CLIENT ? rev : fwd;
    memcpy(keys->enc_key, mine, 32);
    memcpy(keys->enc_iv, mine + 32, 16);
    memcpy(keys->dec_key, theirs, 32);
    memcpy(keys->dec_iv, theirs + 32, 16);
    mtp_wipe(fwd, sizeof fwd);
    mtp_wipe(rev, sizeof rev);
    int rc = sha256_key(keys->enc_key, secret);
    if (rc == MTP_OK)
        rc = sha256_key(keys->dec_key, secret);
    if (rc != MTP_OK)
        mtp_wipe(keys, sizeof *keys);
    return rc;
}

/* First ints a server takes for something else (mtp_tr_detect.c). */
static const uint32_t reserved_first_ints[] = {
    0x44414548u, /* "HEAD" */
    0x54534f50u, /* "POST" */
    0x20544547u, /* "GET " */
    0x4954504fu, /* "OPTI" */
    0xddddddddu, /* padded intermediate */
    0xeeeeeeeeu, /* intermediate */
    0x02010316u, /* TLS ClientHello */
};

int mtp_obfs_check_init(const uint8_t init[MTP_OBFS_INIT_LEN], struct mtp_error *err)
{
    struct mtp_rd r;
    mtp_rd_init(&r, init, MTP_OBFS_INIT_LEN, err);
    uint32_t first, second;
    MTP_GUARD(mtp_rd_u32(&r, &first, "init.first_int"));
    MTP_GUARD(mtp_rd_u32(&r, &second, "init.second_int"));
    if ((first & 0xff) == 0xef)
        return mtp_error_set(err, MTP_ERR_OBFS_BAD_INIT, 0, "init[0]: 0xef would select abridged");
    for (size_t i = 0; i < sizeof reserved_first_ints / sizeof reserved_first_ints[0]; i++)
        if (first == reserved_first_ints[i])
            return mtp_error_set(err, MTP_ERR_OBFS_BAD_INIT, 0,
                                 "init[0..4): 0x%08x is reserved for another transport", first);
    if (second == 0)
        return mtp_error_set(err, MTP_ERR_OBFS_BAD_INIT, 4, "init[4..8): zero would select full (seq 0)");
    return MTP_OK;
}

int mtp_obfs_make_init(const struct mtp_env *env, enum mtp_tr_kind kind, int16_t dc, uint8_t init[MTP_OBFS_INIT_LEN],
                       struct mtp_error *err)
{
    uint32_t tag = mtp_tr_obfs_tag(kind);
    if (tag == 0)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "obfuscation: %s has no protocol tag",
                             mtp_tr_kind_name(kind));
    /* A fresh draw fails the check with probability ~2^-8; 64 failures in a
     * row mean the randomness is broken, not unlucky. */
    for (int tries = 0; tries < 64; tries++) {
        int rc = mtp_env_rand(env, init, MTP_OBFS_INIT_LEN);
        if (rc < 0)
            return mtp_error_set(err, rc, MTP_NO_OFFSET, "obfuscation: randomness for the init failed");
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, init + 56, 8, NULL);
        MTP_GUARD(mtp_wr_u32(&w, tag));
        if (dc != 0)
            MTP_GUARD(mtp_wr_u16(&w, (uint16_t)dc));
        if (mtp_obfs_check_init(init, NULL) == MTP_OK)
            return MTP_OK;
    }
    return mtp_error_set(err, MTP_ERR_LIMIT, MTP_NO_OFFSET, "obfuscation: 64 random inits in a row were unusable");
}

static int ctr_new(struct evp_cipher_ctx_st **ctx, const uint8_t key[32], const uint8_t iv[16])
{
    *ctx = EVP_CIPHER_CTX_new();
    if (*ctx == NULL)
        return MTP_ERR_NOMEM;
    if (EVP_EncryptInit_ex(*ctx, EVP_aes_256_ctr(), NULL, key, iv) != 1)
        return MTP_ERR_OSSL;
    return MTP_OK;
}

static int ctr_apply(struct evp_cipher_ctx_st *ctx, uint8_t *buf, size_t n)
{
    if (ctx == NULL)
        return MTP_ERR_ARG;
    while (n > 0) {
        int chunk = n > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)n;
        int outl = 0;
        /* CTR keeps the offset inside a block across calls, so any split of
         * the stream gives the same bytes. */
        if (EVP_EncryptUpdate(ctx, buf, &outl, buf, chunk) != 1 || outl != chunk)
            return MTP_ERR_OSSL;
        buf += chunk;
        n -= (size_t)chunk;
    }
    return MTP_OK;
}

int mtp_obfs_encrypt(struct mtp_obfs *o, uint8_t *buf, size_t n) { return ctr_apply(o->tx, buf, n); }
int mtp_obfs_decrypt(struct mtp_obfs *o, uint8_t *buf, size_t n) { return ctr_apply(o->rx, buf, n); }

int mtp_obfs_skip(struct mtp_obfs *o, bool rx, uint64_t n)
{
    uint8_t zero[4096];
    while (n > 0) {
        size_t k = n < sizeof zero ? (size_t)n : sizeof zero;
        memset(zero, 0, k);
        MTP_GUARD(ctr_apply(rx ? o->rx : o->tx, zero, k));
        n -= k;
    }
    mtp_wipe(zero, sizeof zero);
    return MTP_OK;
}

void mtp_obfs_free(struct mtp_obfs *o)
{
    /* EVP_CIPHER_CTX_free cleanses the key schedule. */
    EVP_CIPHER_CTX_free(o->tx);
    EVP_CIPHER_CTX_free(o->rx);
    memset(o, 0, sizeof *o);
}

/* Reads the tag and DC id from a decrypted (or plaintext) init. */
static int check_tag(struct mtp_obfs *o, const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_secret *secret,
                     struct mtp_error *err)
{
    struct mtp_rd r;
    mtp_rd_init(&r, init, MTP_OBFS_INIT_LEN, err);
    uint16_t dc;
    MTP_GUARD(mtp_rd_skip(&r, 56, "init.random"));
    MTP_GUARD(mtp_rd_u32(&r, &o->tag, "init.tag"));
    MTP_GUARD(mtp_rd_u16(&r, &dc, "init.dc"));
    o->dc = (int16_t)dc;
    if (mtp_tr_kind_from_obfs_tag(o->tag, &o->kind) != MTP_OK)
        return mtp_error_set(err, MTP_ERR_OBFS_BAD_TAG, 56, "init[56..60): 0x%08x is no protocol tag", o->tag);
    if (secret != NULL && secret->mode == MTP_OBFS_SECRET_PADDED && o->kind != MTP_TR_PADDED)
        return mtp_error_set(err, MTP_ERR_OBFS_BAD_TAG, 56,
                             "init[56..60): %s with a padded-only (0xdd) secret, which requires padded",
                             mtp_tr_kind_name(o->kind));
    return MTP_OK;
}

static int setup(struct mtp_obfs *o, const struct mtp_obfs_keys *k)
{
    MTP_GUARD(ctr_new(&o->tx, k->enc_key, k->enc_iv));
    return ctr_new(&o->rx, k->dec_key, k->dec_iv);
}

static int client_init(struct mtp_obfs *o, const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_secret *secret,
                       uint8_t wire[MTP_OBFS_INIT_LEN], struct mtp_obfs_keys *keys, bool check, struct mtp_error *err)
{
    memset(o, 0, sizeof *o);
    if (check)
        MTP_GUARD(mtp_obfs_check_init(init, err));
    MTP_GUARD(check_tag(o, init, secret, err));
    struct mtp_obfs_keys k;
    int rc = MTP_OK;
    uint8_t enc[MTP_OBFS_INIT_LEN];
    MTP_TRY(mtp_obfs_derive(init, secret, MTP_TR_CLIENT, &k));
    MTP_TRY(setup(o, &k));
    /* The init is the first thing through the client's stream. */
    memcpy(enc, init, sizeof enc);
    MTP_TRY(ctr_apply(o->tx, enc, sizeof enc));
    memcpy(wire, init, 56);
    memcpy(wire + 56, enc + 56, 8);
    if (keys)
        *keys = k;
out:
    mtp_wipe(&k, sizeof k);
    mtp_wipe(enc, sizeof enc);
    if (rc < 0) {
        mtp_obfs_free(o);
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "obfuscation: cipher setup failed");
    }
    return MTP_OK;
}

int mtp_obfs_client_init(struct mtp_obfs *o, const uint8_t init[MTP_OBFS_INIT_LEN],
                         const struct mtp_obfs_secret *secret, uint8_t wire[MTP_OBFS_INIT_LEN],
                         struct mtp_obfs_keys *keys, struct mtp_error *err)
{
    return client_init(o, init, secret, wire, keys, true, err);
}

int mtp_obfs_client_init_unchecked(struct mtp_obfs *o, const uint8_t init[MTP_OBFS_INIT_LEN],
                                   const struct mtp_obfs_secret *secret, uint8_t wire[MTP_OBFS_INIT_LEN],
                                   struct mtp_obfs_keys *keys, struct mtp_error *err)
{
    return client_init(o, init, secret, wire, keys, false, err);
}

int mtp_obfs_server_init(struct mtp_obfs *o, const uint8_t wire[MTP_OBFS_INIT_LEN],
                         const struct mtp_obfs_secret *secret, struct mtp_obfs_keys *keys, struct mtp_error *err)
{
    memset(o, 0, sizeof *o);
    MTP_GUARD(mtp_obfs_check_init(wire, err));
    struct mtp_obfs_keys k;
    int rc = MTP_OK;
    uint8_t dec[MTP_OBFS_INIT_LEN];
    /* Bytes 8..56 travel in the clear, so the server derives from the wire. */
    MTP_TRY(mtp_obfs_derive(wire, secret, MTP_TR_SERVER, &k));
    MTP_TRY(setup(o, &k));
    memcpy(dec, wire, sizeof dec);
    MTP_TRY(ctr_apply(o->rx, dec, sizeof dec));
    rc = check_tag(o, dec, secret, err);
    if (rc == MTP_OK && keys)
        *keys = k;
    mtp_wipe(&k, sizeof k);
    mtp_wipe(dec, sizeof dec);
    if (rc < 0) {
        mtp_obfs_free(o);
        return rc;
    }
    return MTP_OK;
out:
    mtp_wipe(&k, sizeof k);
    mtp_wipe(dec, sizeof dec);
    mtp_obfs_free(o);
    return mtp_error_set(err, rc, MTP_NO_OFFSET, "obfuscation: cipher setup failed");
}

int mtp_obfs_from_keys(struct mtp_obfs *o, const uint8_t wire[MTP_OBFS_INIT_LEN], const struct mtp_obfs_keys *keys,
                       struct mtp_error *err)
{
    memset(o, 0, sizeof *o);
    uint8_t dec[MTP_OBFS_INIT_LEN];
    int rc = setup(o, keys);
    if (rc < 0) {
        mtp_obfs_free(o);
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "obfuscation: cipher setup failed");
    }
    memcpy(dec, wire, sizeof dec);
    rc = ctr_apply(o->rx, dec, sizeof dec);
    if (rc == MTP_OK)
        rc = check_tag(o, dec, NULL, err);
    else
        mtp_error_set(err, rc, MTP_NO_OFFSET, "obfuscation: cipher failed");
    mtp_wipe(dec, sizeof dec);
    if (rc < 0)
        mtp_obfs_free(o);
    return rc;
}

int mtp_obfs_wire(const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_secret *secret,
                  uint8_t wire[MTP_OBFS_INIT_LEN])
{
    struct mtp_obfs_keys k;
    struct evp_cipher_ctx_st *tx = NULL;
    uint8_t enc[MTP_OBFS_INIT_LEN];
    memcpy(enc, init, sizeof enc);
    int rc = MTP_OK;
    MTP_TRY(mtp_obfs_derive(init, secret, MTP_TR_CLIENT, &k));
    MTP_TRY(ctr_new(&tx, k.enc_key, k.enc_iv));
    MTP_TRY(ctr_apply(tx, enc, sizeof enc));
    memcpy(wire, init, 56);
    memcpy(wire + 56, enc + 56, 8);
out:
    EVP_CIPHER_CTX_free(tx);
    mtp_wipe(&k, sizeof k);
    mtp_wipe(enc, sizeof enc);
    return rc;
}
