/* Shared by the auth tests: the worked examples of
 * core.telegram.org/mtproto/samples-auth_key as recorded in
 * vectors/auth/samples_auth_key.kat-data.json, Telegram's public keys from
 * vectors/rsa/telegram_keys.json, the test key vectors/rsa/test_key_private.pem,
 * and a client-server pump.  Everything allocated here is released by
 * auth_test_teardown (a checked fixture). */
#ifndef MTP_AUTH_TESTUTIL_H
#define MTP_AUTH_TESTUTIL_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/auth.h"
#include "mtp/auth_client.h"
#include "mtp/auth_server.h"
#include "mtp/rsa.h"
#include "mtp_test.h"

/* Per test process (Check forks every test). */
static json_t *auth_test_json[4];
static struct mtp_rsa_key *auth_test_keys[8];
static char auth_test_key_names[8][20];

static inline void auth_test_setup(void) {}

static inline void auth_test_teardown(void)
{
    for (size_t i = 0; i < sizeof auth_test_json / sizeof auth_test_json[0]; i++) {
        json_decref(auth_test_json[i]);
        auth_test_json[i] = NULL;
    }
    for (size_t i = 0; i < sizeof auth_test_keys / sizeof auth_test_keys[0]; i++) {
        mtp_rsa_key_free(auth_test_keys[i]);
        auth_test_keys[i] = NULL;
    }
    mtp_test_free_all();
}

static inline json_t *auth_test_load_json(size_t slot, const char *rel)
{
    if (auth_test_json[slot] == NULL) {
        json_error_t jerr;
        auth_test_json[slot] = json_load_file(mtp_test_path(rel), 0, &jerr);
        ck_assert_msg(auth_test_json[slot] != NULL, "%s: %s", rel, jerr.text);
    }
    return auth_test_json[slot];
}

static inline struct mtp_rsa_key *auth_test_find_key(const char *name)
{
    for (size_t i = 0; i < sizeof auth_test_keys / sizeof auth_test_keys[0]; i++)
        if (auth_test_keys[i] != NULL && strcmp(auth_test_key_names[i], name) == 0)
            return auth_test_keys[i];
    return NULL;
}

static inline struct mtp_rsa_key *auth_test_keep_key(struct mtp_rsa_key *k, const char *name)
{
    for (size_t i = 0; i < sizeof auth_test_keys / sizeof auth_test_keys[0]; i++) {
        if (auth_test_keys[i] == NULL) {
            auth_test_keys[i] = k;
            snprintf(auth_test_key_names[i], sizeof auth_test_key_names[i], "%s", name);
            return k;
        }
    }
    ck_abort_msg("too many test keys");
    return NULL;
}

/* A value of the worked example ex ("new" or "old"), section "client_messages",
 * "server_messages", "client_random", "server_random" or "values". */
static inline const char *sample_hex(const char *ex, const char *section, const char *field)
{
    json_t *root = auth_test_load_json(0, "vectors/auth/samples_auth_key.kat-data.json");
    json_t *v =
        json_object_get(json_object_get(json_object_get(json_object_get(root, "examples"), ex), section), field);
    ck_assert_msg(json_is_string(v), "samples_auth_key.kat-data.json: no %s.%s.%s", ex, section, field);
    return json_string_value(v);
}

static inline const uint8_t *sample_bytes(const char *ex, const char *section, const char *field, size_t *len)
{
    return mtp_test_hex(sample_hex(ex, section, field), len);
}

static inline long long sample_int(const char *ex, const char *field)
{
    json_t *root = auth_test_load_json(0, "vectors/auth/samples_auth_key.kat-data.json");
    json_t *v =
        json_object_get(json_object_get(json_object_get(json_object_get(root, "examples"), ex), "values"), field);
    ck_assert_msg(json_is_integer(v), "samples_auth_key.kat-data.json: no integer %s.values.%s", ex, field);
    return json_integer_value(v);
}

/* The body of a published message (after the 20-byte envelope). */
static inline const uint8_t *sample_body(const char *ex, const char *section, const char *msg, size_t *len)
{
    size_t n;
    const uint8_t *m = sample_bytes(ex, section, msg, &n);
    struct mtp_auth_plain plain;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_auth_plain_unwrap(m, n, &plain, &err) == MTP_OK, "%s.%s: %s", ex, msg, err.msg);
    *len = plain.body_len;
    return plain.body;
}

/* Telegram's public key with this fingerprint (wire bytes, hex). */
static inline const struct mtp_rsa_key *telegram_key(const char *fingerprint_hex)
{
    if (auth_test_find_key(fingerprint_hex) != NULL)
        return auth_test_find_key(fingerprint_hex);
    json_t *root = auth_test_load_json(1, "vectors/rsa/telegram_keys.json");
    size_t gi, ti;
    json_t *group, *test;
    json_array_foreach(json_object_get(root, "testGroups"), gi, group)
    {
        json_array_foreach(json_object_get(group, "tests"), ti, test)
        {
            json_t *args = json_object_get(test, "args");
            const char *fp = json_string_value(json_object_get(json_object_get(test, "expect"), "fingerprint"));
            const char *n = json_string_value(json_object_get(args, "n"));
            const char *e = json_string_value(json_object_get(args, "e"));
            if (fp == NULL || n == NULL || e == NULL || strcmp(fp, fingerprint_hex) != 0)
                continue;
            size_t n_len, e_len;
            const uint8_t *nb = mtp_test_hex(n, &n_len), *eb = mtp_test_hex(e, &e_len);
            struct mtp_rsa_key *k = NULL;
            struct mtp_error err;
            mtp_error_clear(&err);
            ck_assert_msg(mtp_rsa_key_from_ne(nb, n_len, eb, e_len, &k, &err) == MTP_OK, "%s", err.msg);
            return auth_test_keep_key(k, fingerprint_hex);
        }
    }
    ck_abort_msg("no Telegram key with fingerprint %s", fingerprint_hex);
    return NULL;
}

/* The private test key of crypto-auth's vectors. */
static inline const struct mtp_rsa_key *test_key(void)
{
    if (auth_test_find_key("test") != NULL)
        return auth_test_find_key("test");
    size_t len;
    const uint8_t *pem = mtp_test_read_file("vectors/rsa/test_key_private.pem", &len);
    struct mtp_rsa_key *k = NULL;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_rsa_key_from_pem(pem, len, &k, &err) == MTP_OK, "%s", err.msg);
    return auth_test_keep_key(k, "test");
}

/* Concatenates hex strings (NULL-terminated list) and decodes them: a random script. */
static inline const uint8_t *hex_concat(size_t *len, ...)
{
    va_list ap;
    size_t total = 1;
    va_start(ap, len);
    for (const char *h = va_arg(ap, const char *); h != NULL; h = va_arg(ap, const char *))
        total += strlen(h);
    va_end(ap);
    char *all = malloc(total);
    ck_assert_ptr_nonnull(all);
    all[0] = '\0';
    va_start(ap, len);
    for (const char *h = va_arg(ap, const char *); h != NULL; h = va_arg(ap, const char *))
        strcat(all, h);
    va_end(ap);
    const uint8_t *p = mtp_test_hex(all, len);
    free(all);
    return p;
}

#endif
