/* Target functions: mtp_decode_stream (the whole capture decoder: libpcap's
 *                   reading, link/IP/TCP parsing, reassembly, transport
 *                   detection, obfuscation, framing, resynchronisation, the
 *                   key exchange, decryption, TL, --check, both output formats)
 * Input: a whole pcap or pcapng file.  The key log of the seed captures
 * (fuzz_decode_pcap_keys.h) is given, so mutations of the seeds reach
 * decryption and the TL engine.
 * Oracles: decoding the same bytes twice gives the same output (no state
 * survives a run); every line of the JSON output is one JSON object. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "fuzz_decode_pcap_keys.h"
#include "tlengine/tl_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The API schema, parsed once: a run would otherwise spend most of its time on it. */
static struct mtp_tl_schema *api;
static const int32_t api_layer = 198;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *names[1] = {"api"};
    if (mtp_tl_schema_load(names, 1, &api, NULL) != MTP_OK)
        __builtin_trap();
    return 0;
}

static char *run(const uint8_t *data, size_t size, enum mtp_decode_format format, bool check, size_t *len)
{
    char *out = NULL;
    *len = 0;
    FILE *o = open_memstream(&out, len);
    FILE *in = fmemopen((void *)data, size, "rb");
    if (o == NULL || in == NULL)
        __builtin_trap();
    struct mtp_decode_opts opts = {.format = format, .check = check, .summary = true, .out = o,
                                   .keylog_text = fuzz_decode_keylog, .keylog_text_len = sizeof fuzz_decode_keylog - 1,
                                   .loaded = &api, .loaded_layers = &api_layer, .nloaded = 1};
    struct mtp_decode_stats st;
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtp_decode_stream(in, &opts, &st, &err); /* owns in */
    if (rc != MTP_OK && rc != MTP_ERR_PCAP)
        __builtin_trap(); /* the key log and the schemas always load: only the capture may be refused */
    fclose(o);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > (1u << 20))
        return 0;
    size_t a_len, b_len;
    char *a = run(data, size, MTP_DECODE_JSONL, true, &a_len);
    char *b = run(data, size, MTP_DECODE_JSONL, true, &b_len);
    if (a_len != b_len || (a_len && memcmp(a, b, a_len) != 0))
        __builtin_trap();
    for (char *p = a, *nl; p && p < a + a_len; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(a + a_len - p));
        if (nl == NULL)
            __builtin_trap(); /* every line ends */
        json_t *j = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j))
            __builtin_trap();
        json_decref(j);
    }
    free(a);
    free(b);
    size_t t_len;
    char *t = run(data, size, MTP_DECODE_TEXT, size % 2 == 0, &t_len);
    free(t);
    return 0;
}
