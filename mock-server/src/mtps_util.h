/* Small helpers shared by the mock DC's sources. */
#ifndef MTPS_UTIL_H
#define MTPS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/err.h"

/* $MTPROBE_SOURCE_DIR if set, else the source tree the tool was built from. */
const char *mtps_source_dir(void);
/* Reads a whole file (at most max bytes, else MTP_ERR_LIMIT) into a malloc'ed,
 * NUL-terminated buffer; NULL with err set on failure. */
char *mtps_read_file(const char *path, size_t max, size_t *len, struct mtp_error *err);
/* "HOST:PORT" -> host (NUL-terminated, brackets of "[::1]:443" removed) and port.
 * MTP_ERR_ARG when malformed. */
MTP_MUST_USE int mtps_parse_hostport(const char *s, char *host, size_t host_cap, uint16_t *port,
                                     struct mtp_error *err);

#endif
