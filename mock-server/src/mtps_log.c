#include "mtps_log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "mtp/hex.h"
#include "mtp/tl_value.h"

#define LOG_LINE_MAX 16384
#define LOG_BYTES_MAX 48 /* longer bytes fields are shortened in -v lines */

static void stamp(const struct mtps_log *l, char *buf, size_t cap)
{
    int64_t ms = l->env ? mtp_env_now_ms(l->env) : 0;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, cap, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void vlog(const struct mtps_log *l, uint64_t conn, const char *fmt, va_list ap) MTP_PRINTF(3, 0);
static void vlog(const struct mtps_log *l, uint64_t conn, const char *fmt, va_list ap)
{
    char ts[32], line[LOG_LINE_MAX];
    stamp(l, ts, sizeof ts);
    vsnprintf(line, sizeof line, fmt, ap);
    if (conn)
        fprintf(l->f, "%s conn %llu %s\n", ts, (unsigned long long)conn, line);
    else
        fprintf(l->f, "%s %s\n", ts, line);
    fflush(l->f);
}

void mtps_log(const struct mtps_log *l, uint64_t conn, const char *fmt, ...)
{
    if (l == NULL || l->f == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(l, conn, fmt, ap);
    va_end(ap);
}

void mtps_logv(const struct mtps_log *l, uint64_t conn, const char *fmt, ...)
{
    if (l == NULL || !mtps_log_verbose(l))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(l, conn, fmt, ap);
    va_end(ap);
}

size_t mtps_tl_render(const struct mtp_tl_schema *schema, const uint8_t *body, size_t len, size_t max_bytes,
                      char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, cap - 1, NULL);
    int rc = MTP_ERR_UNSUPPORTED;
    if (schema) {
        struct mtp_tl_arena a;
        mtp_tl_arena_init(&a, mtp_tl_decode_budget(len));
        struct mtp_tl_value v;
        struct mtp_error err;
        mtp_error_clear(&err);
        struct mtp_tl_decode_opts o = {.max_gzip = 1u << 20};
        rc = mtp_tl_decode(schema, NULL, body, len, &o, &a, &v, NULL, &err);
        if (rc == MTP_OK) {
            struct mtp_tl_text_opts to = {.multiline = false, .max_bytes = max_bytes};
            rc = mtp_tl_text(&v, &to, &w);
            if (rc < 0 && w.len > 0) {
                /* Too long for the buffer: keep what fits. */
                rc = MTP_OK;
                w.failed = false;
                if (w.len > 3)
                    memcpy(out + w.len - 3, "...", 3);
            }
        }
        mtp_tl_arena_free(&a);
    }
    if (rc < 0) {
        mtp_wr_reset(&w);
        char hex[2 * 64 + 1];
        size_t n = len < 64 ? len : 64;
        mtp_hex_encode(body, n, hex);
        uint32_t ctor = len >= 4 ? (uint32_t)body[0] | (uint32_t)body[1] << 8 | (uint32_t)body[2] << 16 |
                                       (uint32_t)body[3] << 24
                                 : 0;
        int k = snprintf(out, cap, "#%08x (%zu bytes, not in the schema) %s%s", ctor, len, hex, len > n ? "..." : "");
        w.len = k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
    }
    out[w.len] = '\0';
    return w.len;
}

void mtps_log_tl(const struct mtps_log *l, uint64_t conn, const char *dir, const char *what, const uint8_t *body,
                 size_t len)
{
    if (l == NULL || !mtps_log_verbose(l))
        return;
    char text[LOG_LINE_MAX - 256];
    mtps_tl_render(l->schema, body, len, LOG_BYTES_MAX, text, sizeof text);
    mtps_logv(l, conn, "%s %s %s", dir, what, text);
}
