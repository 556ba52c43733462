/* The capture decoder end to end, on captures made in memory by the mock
 * DC's connection code and the small client over every transport
 * (dec_synth.h): every message the server's observation log says went either
 * way is in the decoded output, decrypted and decoded; then the same capture
 * damaged on purpose, and in every link layer and IPv6. */
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "decode/dec_synth.h"
#include "decode/decode.h"
#include "mtp_test.h"

struct files {
    char dir[256], pcap[300], keys[300], events[300];
};

static void synth(struct files *f, const struct mtp_synth_opts *base)
{
    snprintf(f->dir, sizeof f->dir, "%s", mtp_test_tmpdir());
    snprintf(f->pcap, sizeof f->pcap, "%s/s.pcap", f->dir);
    snprintf(f->keys, sizeof f->keys, "%s/keys.log", f->dir);
    snprintf(f->events, sizeof f->events, "%s/events.jsonl", f->dir);
    struct mtp_synth_opts o = *base;
    o.keylog = f->keys;
    o.events = f->events;
    o.pcap = fopen(f->pcap, "wb");
    ck_assert_ptr_nonnull(o.pcap);
    struct mtp_synth_stats st;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_synth_capture(&o, &st, &err) == MTP_OK, "%s", err.msg);
    ck_assert_int_eq(fclose(o.pcap), 0);
    ck_assert_uint_eq(st.connections, o.connections);
}

/* Decodes to JSON lines in memory. */
static json_t *decode_jsonl(const char *pcap, const char *keys, bool check, struct mtp_decode_stats *st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct mtp_decode_opts o = {.format = MTP_DECODE_JSONL, .check = check, .summary = true, .out = out};
    if (keys)
        o.keylogs[o.nkeylogs++] = keys;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_decode_file(pcap, &o, st, &err) == MTP_OK, "%s", err.msg);
    fclose(out);
    json_t *lines = json_array();
    for (char *p = buf, *nl; p && *p; p = nl + 1) {
        nl = strchr(p, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = '\0';
        json_error_t je;
        json_t *j = json_loads(p, 0, &je);
        ck_assert_msg(j != NULL, "not JSON: %s (%s)", p, je.text);
        json_array_append_new(lines, j);
    }
    free(buf);
    return lines;
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* "dir msg_id ctor" of every message of the server's observation log, in order. */
static json_t *server_messages(const char *events)
{
    json_error_t je;
    FILE *f = fopen(events, "r");
    ck_assert_ptr_nonnull(f);
    json_t *out = json_array();
    char line[1 << 16];
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, &je);
        ck_assert_ptr_nonnull(j);
        if (strcmp(str(j, "ev"), "msg") == 0) {
            char k[128];
            snprintf(k, sizeof k, "%lld %s %s %s", (long long)json_integer_value(json_object_get(j, "conn")),
                     str(j, "dir"), str(j, "msg_id"), str(j, "ctor"));
            json_array_append_new(out, json_string(k));
        }
        json_decref(j);
    }
    fclose(f);
    return out;
}

static json_t *decoded_messages(const json_t *lines)
{
    json_t *out = json_array();
    size_t i;
    json_t *j;
    json_array_foreach(lines, i, j)
    {
        if (strcmp(str(j, "ev"), "msg") != 0)
            continue;
        char k[128];
        snprintf(k, sizeof k, "%lld %s %s %s", (long long)json_integer_value(json_object_get(j, "conn")),
                 str(j, "dir"), str(j, "msg_id") ? str(j, "msg_id") : "?", str(j, "ctor"));
        json_array_append_new(out, json_string(k));
    }
    return out;
}

/* Sorted, so that the order of the two directions (interleaved differently by the log and the capture) does not matter. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }
static char *sorted_text(const json_t *arr)
{
    size_t n = json_array_size(arr);
    const char **v = calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(arr, i));
    qsort(v, n, sizeof *v, cmp_str);
    size_t cap = 1;
    for (size_t i = 0; i < n; i++)
        cap += strlen(v[i]) + 1;
    char *s = calloc(1, cap);
    for (size_t i = 0; i < n; i++) {
        strcat(s, v[i]);
        strcat(s, "\n");
    }
    free(v);
    return s;
}

START_TEST(every_message_of_every_transport)
{
    struct files f;
    struct mtp_synth_opts o = {.connections = 14, .concurrent = 3, .pings = 2, .calls = 2, .fresh_every = 2,
                               .seed = 1};
    synth(&f, &o);
    struct mtp_decode_stats st;
    json_t *lines = decode_jsonl(f.pcap, f.keys, true, &st);
    json_t *want = server_messages(f.events), *got = decoded_messages(lines);
    char *ws = sorted_text(want), *gs = sorted_text(got);
    ck_assert_uint_ge(json_array_size(want), 14 * 6);
    ck_assert_msg(strcmp(ws, gs) == 0, "the server's log:\n%s\nthe decoder:\n%s", ws, gs);
    ck_assert_uint_eq(st.connections, 14);
    ck_assert_uint_eq(st.undecrypted, 0);
    ck_assert_uint_eq(st.tl_errors, 0);
    ck_assert_uint_eq(st.bytes_lost, 0);
    ck_assert_uint_eq(st.findings, 0);
    /* every transport was told and named */
    const char *names[] = {"abridged", "intermediate", "padded", "full", "obfuscated-abridged",
                           "obfuscated-intermediate", "obfuscated-padded"};
    for (size_t t = 0; t < 7; t++) {
        size_t i, seen = 0;
        json_t *j;
        json_array_foreach(lines, i, j)
            seen += strcmp(str(j, "ev"), "transport") == 0 && strcmp(str(j, "transport"), names[t]) == 0;
        ck_assert_msg(seen == 2, "%s: %zu connections", names[t], seen);
    }
    free(ws);
    free(gs);
    json_decref(want);
    json_decref(got);
    json_decref(lines);
    mtp_test_rmdir(f.dir);
}
END_TEST

/* Quick acks: the client's requests and the server's tokens, matched (S-TR-45). */
START_TEST(quick_acks_are_shown_and_matched)
{
    struct files f;
    struct mtp_synth_opts o = {.connections = 3, .concurrent = 1, .pings = 3, .calls = 1, .transports = 1u << 1,
                               .quick_acks = true, .seed = 5};
    synth(&f, &o);
    struct mtp_decode_stats st;
    json_t *lines = decode_jsonl(f.pcap, f.keys, true, &st);
    size_t acks = 0, asked = 0, i;
    json_t *j, *checks = NULL;
    json_array_foreach(lines, i, j)
    {
        const char *ev = str(j, "ev");
        if (strcmp(ev, "quick_ack") == 0) {
            acks++;
            ck_assert_str_eq(str(j, "dir"), "s2c");
            ck_assert_uint_eq(strlen(str(j, "token")), 8);
            ck_assert_uint_ge(str(j, "token")[0], '8'); /* the MSB is set */
        }
        if (strcmp(ev, "msg") == 0 && json_is_true(json_object_get(j, "quick_ack")))
            asked++;
        if (strcmp(ev, "end") == 0)
            checks = json_object_get(j, "checks");
    }
    ck_assert_uint_eq(asked, 9);
    ck_assert_uint_eq(acks, 9);
    ck_assert_uint_eq(st.quick_acks, 9);
    bool seen = false;
    json_array_foreach(checks, i, j)
        if (strcmp(str(j, "requirement"), "S-TR-45") == 0) {
            ck_assert_int_eq(json_integer_value(json_object_get(j, "checked")), 9);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "failed")), 0);
            seen = true;
        }
    ck_assert(seen);
    json_decref(lines);
    mtp_test_rmdir(f.dir);
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("decode");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_message_of_every_transport);
    tcase_add_test(tc, quick_acks_are_shown_and_matched);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(decode_suite)
