#include "mtp/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_entry {
    int code;
    const char *name;
    const char *text;
};

static const struct err_entry err_table[] = {
    {MTP_OK, "ok", "success"},
#define MTP_ERR_DEF(sym, val, name, text) {(val), (name), (text)},
#include "mtp/errors/all.def"
#undef MTP_ERR_DEF
};

static const struct err_entry *err_find(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return &err_table[i];
    return NULL;
}

const char *mtp_err_name(int code)
{
    const struct err_entry *e = err_find(code);
    return e ? e->name : "unknown_error";
}

const char *mtp_err_text(int code)
{
    const struct err_entry *e = err_find(code);
    return e ? e->text : "unknown error code";
}

int mtp_err_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (strcmp(err_table[i].name, name) == 0)
            return err_table[i].code;
    return MTP_OK;
}

int mtp_error_set(struct mtp_error *e, int code, size_t offset, const char *fmt, ...)
{
    if (e == NULL || e->code != MTP_OK)
        return code;
    e->code = code;
    e->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

void mtp_error_clear(struct mtp_error *e)
{
    if (e == NULL)
        return;
    e->code = MTP_OK;
    e->offset = MTP_NO_OFFSET;
    e->msg[0] = '\0';
}

void mtp_error_prefix(struct mtp_error *e, const char *fmt, ...)
{
    if (e == NULL)
        return;
    char joined[MTP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(joined, sizeof joined, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof joined - 2)
        return;
    size_t at = (size_t)n;
    joined[at++] = ':';
    joined[at++] = ' ';
    size_t rest = strlen(e->msg);
    if (rest > sizeof joined - 1 - at)
        rest = sizeof joined - 1 - at;
    memcpy(joined + at, e->msg, rest);
    joined[at + rest] = '\0';
    memcpy(e->msg, joined, sizeof e->msg);
}
