#include "keylog/keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtp/hex.h"
#include "mtp/msgcrypt.h"

int mtp_keylog_open(struct mtp_keylog *kl, const char *path, struct mtp_error *err)
{
    kl->f = NULL;
    if (path == NULL)
        return MTP_OK;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", path, strerror(errno));
    struct stat sb;
    bool fresh = fstat(fd, &sb) == 0 && sb.st_size == 0;
    kl->f = fdopen(fd, "a");
    if (kl->f == NULL) {
        close(fd);
        return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", path, strerror(errno));
    }
    if (fresh) {
        fputs("# mtprobe key log (docs/keylog.md): hex in wire order\n", kl->f);
        fflush(kl->f);
    }
    return MTP_OK;
}

void mtp_keylog_close(struct mtp_keylog *kl)
{
    if (kl->f)
        fclose(kl->f);
    kl->f = NULL;
}

void mtp_keylog_auth_key(struct mtp_keylog *kl, const uint8_t id[8], const uint8_t key[256], bool temp,
                         int32_t expires_at)
{
    if (kl->f == NULL)
        return;
    char idh[17], keyh[513];
    mtp_hex_encode(id, 8, idh);
    mtp_hex_encode(key, 256, keyh);
    if (temp)
        fprintf(kl->f, "TEMP_AUTH_KEY %s %s %" PRId32 "\n", idh, keyh, expires_at);
    else
        fprintf(kl->f, "AUTH_KEY %s %s\n", idh, keyh);
    fflush(kl->f);
    mtp_wipe(keyh, sizeof keyh);
}

void mtp_keylog_obfs2(struct mtp_keylog *kl, const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_keys *k)
{
    if (kl->f == NULL)
        return;
    char ih[129], ck[65], civ[33], sk[65], siv[33];
    mtp_hex_encode(init, MTP_OBFS_INIT_LEN, ih);
    mtp_hex_encode(k->dec_key, 32, ck);
    mtp_hex_encode(k->dec_iv, 16, civ);
    mtp_hex_encode(k->enc_key, 32, sk);
    mtp_hex_encode(k->enc_iv, 16, siv);
    fprintf(kl->f, "OBFS2 %s %s %s %s %s\n", ih, ck, civ, sk, siv);
    fflush(kl->f);
    mtp_wipe(ck, sizeof ck);
    mtp_wipe(sk, sizeof sk);
}

void mtp_keylog_bind(struct mtp_keylog *kl, const uint8_t temp_id[8], const uint8_t perm_id[8], int32_t expires_at)
{
    if (kl->f == NULL)
        return;
    char th[17], ph[17];
    mtp_hex_encode(temp_id, 8, th);
    mtp_hex_encode(perm_id, 8, ph);
    fprintf(kl->f, "BIND %s %s %" PRId32 "\n", th, ph, expires_at);
    fflush(kl->f);
}

void mtp_keylog_new_nonce(struct mtp_keylog *kl, const uint8_t nonce[16], const uint8_t server_nonce[16],
                          const uint8_t new_nonce[32])
{
    if (kl->f == NULL)
        return;
    char nh[33], sh[33], nnh[65];
    mtp_hex_encode(nonce, 16, nh);
    mtp_hex_encode(server_nonce, 16, sh);
    mtp_hex_encode(new_nonce, 32, nnh);
    fprintf(kl->f, "NEW_NONCE %s %s %s\n", nh, sh, nnh);
    fflush(kl->f);
    mtp_wipe(nnh, sizeof nnh);
}

/* ---- reading ---- */

#define MAX_FIELDS 6

struct line_ctx {
    const struct mtp_keylog_reader *rd;
    const char *name;
    size_t line;
    struct mtp_error *err;
};

/* A malformed line: reported and skipped (lenient readers) or the end of reading. */
static int bad(struct line_ctx *lc, const char *what)
{
    if (lc->rd->bad_line) {
        lc->rd->bad_line(lc->rd->ctx, lc->line, what);
        return MTP_OK;
    }
    return mtp_error_set(lc->err, lc->rd->bad_code ? lc->rd->bad_code : MTP_ERR_KEYLOG, MTP_NO_OFFSET, "%s:%zu: %s",
                         lc->name, lc->line, what);
}

/* Exactly n bytes of hex. */
static bool hex_field(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return false;
    struct mtp_error e;
    mtp_error_clear(&e);
    return mtp_hex_decode_exact(s, out, n, &e, "field") == MTP_OK;
}

static bool time_field(const char *s, int32_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

static int key_line(struct line_ctx *lc, char **f, size_t n, bool temp)
{
    if (n != (temp ? 4u : 3u))
        return bad(lc, "wrong number of fields");
    uint8_t id[8], key[256], want[8];
    if (!hex_field(f[1], id, 8))
        return bad(lc, "auth_key_id is not 16 hex digits");
    if (!hex_field(f[2], key, 256))
        return bad(lc, "auth_key is not 512 hex digits");
    int rc = MTP_OK;
    int32_t expires_at = 0;
    mtp_auth_key_id(key, want);
    if (memcmp(id, want, 8) != 0)
        rc = bad(lc, "auth_key_id is not the id of the key");
    else if (temp && !time_field(f[3], &expires_at))
        rc = bad(lc, "expires_at is not a 32-bit integer");
    else
        rc = lc->rd->key(lc->rd->ctx, id, key, temp, expires_at, lc->err);
    mtp_wipe(key, sizeof key);
    return rc;
}

static int bind_line(struct line_ctx *lc, char **f, size_t n)
{
    if (n != 4)
        return bad(lc, "wrong number of fields");
    uint8_t temp_id[8], perm_id[8];
    int32_t expires_at;
    if (!hex_field(f[1], temp_id, 8))
        return bad(lc, "temp auth_key_id is not 16 hex digits");
    if (!hex_field(f[2], perm_id, 8))
        return bad(lc, "perm auth_key_id is not 16 hex digits");
    if (!time_field(f[3], &expires_at))
        return bad(lc, "expires_at is not a 32-bit integer");
    return lc->rd->bind(lc->rd->ctx, temp_id, perm_id, expires_at, lc->err);
}

static int obfs2_line(struct line_ctx *lc, char **f, size_t n)
{
    if (n != 6)
        return bad(lc, "wrong number of fields");
    uint8_t init[MTP_OBFS_INIT_LEN];
    struct mtp_obfs_keys k;
    int rc;
    if (!hex_field(f[1], init, sizeof init))
        rc = bad(lc, "init is not 128 hex digits");
    else if (!hex_field(f[2], k.dec_key, 32) || !hex_field(f[4], k.enc_key, 32))
        rc = bad(lc, "a key is not 64 hex digits");
    else if (!hex_field(f[3], k.dec_iv, 16) || !hex_field(f[5], k.enc_iv, 16))
        rc = bad(lc, "an iv is not 32 hex digits");
    else
        rc = lc->rd->obfs2(lc->rd->ctx, init, &k, lc->err);
    mtp_wipe(&k, sizeof k);
    return rc;
}

static int new_nonce_line(struct line_ctx *lc, char **f, size_t n)
{
    if (n != 4)
        return bad(lc, "wrong number of fields");
    uint8_t nonce[16], server_nonce[16], new_nonce[32];
    int rc;
    if (!hex_field(f[1], nonce, 16))
        rc = bad(lc, "nonce is not 32 hex digits");
    else if (!hex_field(f[2], server_nonce, 16))
        rc = bad(lc, "server_nonce is not 32 hex digits");
    else if (!hex_field(f[3], new_nonce, 32))
        rc = bad(lc, "new_nonce is not 64 hex digits");
    else
        rc = lc->rd->new_nonce(lc->rd->ctx, nonce, server_nonce, new_nonce, lc->err);
    mtp_wipe(new_nonce, sizeof new_nonce);
    return rc;
}

static int one_line(struct line_ctx *lc, char *s)
{
    char *f[MAX_FIELDS + 1];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
        if (n == MAX_FIELDS + 1)
            break;
        f[n++] = t;
    }
    if (n == 0 || f[0][0] == '#')
        return MTP_OK;
    const struct mtp_keylog_reader *rd = lc->rd;
    if (strcmp(f[0], "AUTH_KEY") == 0 || strcmp(f[0], "TEMP_AUTH_KEY") == 0)
        return rd->key ? key_line(lc, f, n, f[0][0] == 'T') : MTP_OK;
    if (strcmp(f[0], "BIND") == 0)
        return rd->bind ? bind_line(lc, f, n) : MTP_OK;
    if (strcmp(f[0], "OBFS2") == 0)
        return rd->obfs2 ? obfs2_line(lc, f, n) : MTP_OK;
    if (strcmp(f[0], "NEW_NONCE") == 0)
        return rd->new_nonce ? new_nonce_line(lc, f, n) : MTP_OK;
    return rd->skip_unknown ? MTP_OK : bad(lc, "unknown line type");
}

int mtp_keylog_read_mem(const char *name, const char *text, size_t len, const struct mtp_keylog_reader *rd,
                        struct mtp_error *err)
{
    struct line_ctx lc = {rd, name, 0, err};
    char *buf = NULL;
    size_t cap = 0;
    int rc = MTP_OK;
    for (size_t at = 0; rc == MTP_OK && at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        if (n + 1 > cap) {
            char *nb = malloc(n + 1);
            if (nb == NULL) {
                rc = mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "%s: out of memory", name);
                break;
            }
            if (buf) {
                mtp_wipe(buf, cap);
                free(buf);
            }
            buf = nb;
            cap = n + 1;
        }
        memcpy(buf, text + at, n);
        while (n > 0 && buf[n - 1] == '\r')
            n--;
        buf[n] = '\0';
        lc.line++;
        /* A NUL inside a line would hide the rest of it. */
        rc = memchr(text + at, '\0', n) ? bad(&lc, "a NUL byte") : one_line(&lc, buf);
        at += (nl ? (size_t)(nl - (text + at)) + 1 : len - at);
    }
    if (buf) {
        mtp_wipe(buf, cap);
        free(buf);
    }
    return rc;
}

int mtp_keylog_read(const char *path, const struct mtp_keylog_reader *rd, struct mtp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT && rd->missing_ok)
            return MTP_OK;
        return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", path, strerror(errno));
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc = MTP_OK;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? 2 * cap : 65536;
            char *nt = malloc(ncap);
            if (nt == NULL) {
                rc = mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "%s: out of memory", path);
                break;
            }
            if (text) {
                memcpy(nt, text, len);
                mtp_wipe(text, cap);
                free(text);
            }
            text = nt;
            cap = ncap;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                rc = mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (rc == MTP_OK)
        rc = mtp_keylog_read_mem(path, text ? text : "", len, rd, err);
    if (text) {
        mtp_wipe(text, cap);
        free(text);
    }
    return rc;
}
