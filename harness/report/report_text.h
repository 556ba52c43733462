/* A growable text buffer for the writers (XML, HTML).  Errors are sticky:
 * after an allocation failure every add is a no-op and failed stays set. */
#ifndef MTP_REPORT_TEXT_H
#define MTP_REPORT_TEXT_H

#include <stddef.h>

struct mtp_text {
    char *p;
    size_t len, cap;
    int failed;
};

void mtp_text_add(struct mtp_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mtp_text_put(struct mtp_text *t, const char *s, size_t n);
/* Adds s escaped for XML/HTML text and attribute values. */
void mtp_text_add_escaped(struct mtp_text *t, const char *s);

#endif
