#include "mtps_util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mtps_source_dir(void)
{
    const char *d = getenv("MTPROBE_SOURCE_DIR");
    return d && d[0] ? d : MTPROBE_SOURCE_DIR;
}

char *mtps_read_file(const char *path, size_t max, size_t *len, struct mtp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = max < 4096 ? max : 4096, n = 0;
    char *p = malloc(cap + 1);
    while (p != NULL) {
        size_t got = fread(p + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break; /* end of file (or an error, checked below) */
        if (cap >= max) {
            if (fgetc(f) == EOF)
                break;
            free(p);
            fclose(f);
            mtp_error_set(err, MTP_ERR_LIMIT, MTP_NO_OFFSET, "%s: larger than %zu bytes", path, max);
            return NULL;
        }
        cap = cap > max / 2 ? max : cap * 2;
        char *q = realloc(p, cap + 1);
        if (q == NULL)
            free(p);
        p = q;
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (p == NULL) {
        mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "%s: out of memory", path);
        return NULL;
    }
    if (failed) {
        free(p);
        mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: read error", path);
        return NULL;
    }
    p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

int mtps_parse_hostport(const char *s, char *host, size_t host_cap, uint16_t *port, struct mtp_error *err)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || colon[1] == '\0')
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "'%s': expected HOST:PORT", s);
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= host_cap)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "'%s': bad host", s);
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || p > 65535 || colon[1] == '-' || colon[1] == '+')
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "'%s': bad port", s);
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return MTP_OK;
}
