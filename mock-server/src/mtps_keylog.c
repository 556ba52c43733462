#include "mtps_keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtp/hex.h"
#include "mtp/msgcrypt.h"

int mtps_keylog_open(struct mtps_keylog *kl, const char *path, struct mtp_error *err)
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

void mtps_keylog_close(struct mtps_keylog *kl)
{
    if (kl->f)
        fclose(kl->f);
    kl->f = NULL;
}

void mtps_keylog_auth_key(struct mtps_keylog *kl, const uint8_t id[8], const uint8_t key[256], bool temp,
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

void mtps_keylog_obfs2(struct mtps_keylog *kl, const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_keys *k)
{
    if (kl->f == NULL)
        return;
    /* The server's dec pair is what the client sent with (c2s). */
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

void mtps_keylog_bind(struct mtps_keylog *kl, const uint8_t temp_id[8], const uint8_t perm_id[8], int32_t expires_at)
{
    if (kl->f == NULL)
        return;
    char th[17], ph[17];
    mtp_hex_encode(temp_id, 8, th);
    mtp_hex_encode(perm_id, 8, ph);
    fprintf(kl->f, "BIND %s %s %" PRId32 "\n", th, ph, expires_at);
    fflush(kl->f);
}

static int bad_line(struct mtp_error *err, const char *path, size_t line, const char *what)
{
    return mtp_error_set(err, MTP_ERR_SRV_KEYS_FILE, MTP_NO_OFFSET, "%s:%zu: %s", path, line, what);
}

static int parse_time(const char *s, int32_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < INT32_MIN || v > INT32_MAX)
        return -1;
    *out = (int32_t)v;
    return 0;
}

static int parse_bind_line(char *save, const char *path, size_t line, mtps_keylog_bind_fn fn, void *ctx,
                           struct mtp_error *err)
{
    char *th = strtok_r(NULL, " \t", &save);
    char *ph = strtok_r(NULL, " \t", &save);
    char *exp = strtok_r(NULL, " \t", &save);
    if (th == NULL || ph == NULL || exp == NULL || strtok_r(NULL, " \t", &save) != NULL)
        return bad_line(err, path, line, "wrong number of fields");
    uint8_t temp_id[8], perm_id[8];
    struct mtp_error e;
    mtp_error_clear(&e);
    if (strlen(th) != 16 || mtp_hex_decode_exact(th, temp_id, 8, &e, "temp auth_key_id") < 0)
        return bad_line(err, path, line, "temp auth_key_id is not 16 hex digits");
    if (strlen(ph) != 16 || mtp_hex_decode_exact(ph, perm_id, 8, &e, "perm auth_key_id") < 0)
        return bad_line(err, path, line, "perm auth_key_id is not 16 hex digits");
    int32_t expires_at;
    if (parse_time(exp, &expires_at) < 0)
        return bad_line(err, path, line, "expires_at is not a 32-bit integer");
    return fn ? fn(ctx, temp_id, perm_id, expires_at, err) : MTP_OK;
}

static int parse_key_line(char *s, const char *path, size_t line, mtps_keylog_key_fn fn, mtps_keylog_bind_fn bind_fn,
                          void *ctx, struct mtp_error *err)
{
    char *save = NULL;
    char *kind = strtok_r(s, " \t", &save);
    if (kind == NULL || kind[0] == '#')
        return MTP_OK;
    if (strcmp(kind, "BIND") == 0)
        return parse_bind_line(save, path, line, bind_fn, ctx, err);
    bool temp = strcmp(kind, "TEMP_AUTH_KEY") == 0;
    if (!temp && strcmp(kind, "AUTH_KEY") != 0)
        return strcmp(kind, "OBFS2") == 0 ? MTP_OK : bad_line(err, path, line, "unknown line type");
    char *idh = strtok_r(NULL, " \t", &save);
    char *keyh = strtok_r(NULL, " \t", &save);
    char *exp = temp ? strtok_r(NULL, " \t", &save) : NULL;
    if (idh == NULL || keyh == NULL || (temp && exp == NULL) || strtok_r(NULL, " \t", &save) != NULL)
        return bad_line(err, path, line, "wrong number of fields");
    uint8_t id[8], key[256], want[8];
    struct mtp_error e;
    mtp_error_clear(&e);
    if (strlen(idh) != 16 || mtp_hex_decode_exact(idh, id, 8, &e, "auth_key_id") < 0)
        return bad_line(err, path, line, "auth_key_id is not 16 hex digits");
    if (strlen(keyh) != 512 || mtp_hex_decode_exact(keyh, key, 256, &e, "auth_key") < 0)
        return bad_line(err, path, line, "auth_key is not 512 hex digits");
    mtp_auth_key_id(key, want);
    if (memcmp(id, want, 8) != 0) {
        mtp_wipe(key, sizeof key);
        return bad_line(err, path, line, "auth_key_id is not the id of the key");
    }
    int32_t expires_at = 0;
    if (temp && parse_time(exp, &expires_at) < 0) {
        mtp_wipe(key, sizeof key);
        return bad_line(err, path, line, "expires_at is not a 32-bit integer");
    }
    int rc = fn(ctx, id, key, temp, expires_at, err);
    mtp_wipe(key, sizeof key);
    return rc;
}

int mtps_keylog_read(const char *path, mtps_keylog_key_fn fn, mtps_keylog_bind_fn bind_fn, void *ctx,
                     struct mtp_error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT ? MTP_OK : mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0, line = 0;
    ssize_t n;
    int rc = MTP_OK;
    while (rc == MTP_OK && (n = getline(&buf, &cap, f)) >= 0) {
        line++;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        rc = parse_key_line(buf, path, line, fn, bind_fn, ctx, err);
    }
    if (buf) {
        mtp_wipe(buf, cap);
        free(buf);
    }
    fclose(f);
    return rc;
}
