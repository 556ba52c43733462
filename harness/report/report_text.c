#include "report/report_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

static int grow(struct mtp_text *t, size_t need)
{
    if (t->failed)
        return -1;
    if (t->len + need + 1 <= t->cap)
        return 0;
    size_t ncap = t->cap ? t->cap : 8192;
    while (ncap < t->len + need + 1)
        ncap *= 2;
    char *np = realloc(t->p, ncap);
    if (np == NULL) {
        t->failed = 1;
        return -1;
    }
    t->p = np;
    t->cap = ncap;
    return 0;
}

void mtp_text_put(struct mtp_text *t, const char *s, size_t n)
{
    if (grow(t, n) != 0)
        return;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

void mtp_text_add(struct mtp_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = 1;
        return;
    }
    if (grow(t, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void mtp_text_add_escaped(struct mtp_text *t, const char *s)
{
    char *e = mtp_report_xml_escape(s);
    if (e == NULL) {
        t->failed = 1;
        return;
    }
    mtp_text_put(t, e, strlen(e));
    free(e);
}
