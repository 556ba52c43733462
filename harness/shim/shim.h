/* The shim protocol (docs/shim.md): one JSON request per line in, one JSON
 * answer per line out.  This file is the in-process side: the op registry and
 * the argument helpers op handlers use.  Op groups live in ops_<group>.c, each
 * defining a NULL-terminated `const struct mtp_shim_op mtp_shim_ops_<group>[]`. */
#ifndef MTP_SHIM_H
#define MTP_SHIM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/err.h"

/* 1: the first published version; 2 adds the features of mtp_shim_features. */
#define MTP_SHIM_PROTOCOL_VERSION 2

/* A part of the protocol added after version 1 (docs/shim.md, "Versions and features"). */
struct mtp_shim_feature {
    const char *name;
    int since;              /* the protocol version that has it */
    const char *op;         /* the op whose answer fields it adds; NULL when it adds none */
    const char *fields[3];  /* those answer fields, NULL-terminated */
    const char *what;       /* one line for docs and reports */
};
/* Every feature, ended by an entry whose name is NULL. */
extern const struct mtp_shim_feature mtp_shim_features[];
const struct mtp_shim_feature *mtp_shim_feature_find(const char *name);
/* The feature that added answer field `field` of op, or NULL when the field is version 1's. */
const struct mtp_shim_feature *mtp_shim_feature_of_field(const char *op, const char *field);

struct mtp_shim_op {
    const char *name;
    /* Reads arguments from req and adds answer fields to ans.  Returns MTP_OK,
     * or a negative code with err set: the answer is then
     * {"ok": false, "error": mtp_err_name(code), "message": err->msg}. */
    int (*run)(const json_t *req, json_t *ans, struct mtp_error *err);
};

/* Finds an op by name across every registered group; NULL if unknown. */
const struct mtp_shim_op *mtp_shim_find(const char *op);
/* Calls every registered op name in turn (for `mtprobe shim --list`). */
void mtp_shim_foreach(void (*fn)(const char *op, void *ctx), void *ctx);

/* Runs one request object and returns a new answer object with "id" and "ok". */
json_t *mtp_shim_handle(const json_t *req);
/* Runs one request line; returns a malloc'ed answer line (no newline). */
char *mtp_shim_handle_line(const char *line);

/* Argument helpers.  Each reports a missing or malformed argument as
 * MTP_ERR_ARG / MTP_ERR_HEX with the argument's name in the message. */
MTP_MUST_USE int mtp_shim_arg_hex(const json_t *req, const char *key, struct mtp_wr *out, struct mtp_error *err);
MTP_MUST_USE int mtp_shim_arg_hex_exact(const json_t *req, const char *key, void *dst, size_t n,
                                        struct mtp_error *err);
/* Like mtp_shim_arg_hex_exact, but accepts any length from min to max bytes and reports it. */
MTP_MUST_USE int mtp_shim_arg_hex_range(const json_t *req, const char *key, void *dst, size_t min, size_t max,
                                        size_t *len, struct mtp_error *err);
MTP_MUST_USE int mtp_shim_arg_int(const json_t *req, const char *key, int64_t *v, struct mtp_error *err);
MTP_MUST_USE int mtp_shim_arg_bool(const json_t *req, const char *key, bool *v, struct mtp_error *err);
MTP_MUST_USE int mtp_shim_arg_str(const json_t *req, const char *key, const char **v, struct mtp_error *err);
/* Optional variants: return MTP_OK and leave *present false when the key is absent or null. */
MTP_MUST_USE int mtp_shim_arg_hex_opt(const json_t *req, const char *key, struct mtp_wr *out, bool *present,
                                      struct mtp_error *err);
MTP_MUST_USE int mtp_shim_arg_int_opt(const json_t *req, const char *key, int64_t *v, bool *present,
                                      struct mtp_error *err);
MTP_MUST_USE int mtp_shim_arg_bool_opt(const json_t *req, const char *key, bool *v, bool *present,
                                       struct mtp_error *err);
/* "client" -> 0, "server" -> 1; anything else is MTP_ERR_ARG. */
MTP_MUST_USE int mtp_shim_arg_sender(const json_t *req, const char *key, int *is_server, struct mtp_error *err);

/* Answer helpers. */
MTP_MUST_USE int mtp_shim_set_hex(json_t *ans, const char *key, const void *p, size_t n);

#endif
