/* `mtprobe decode`: a capture to readable, decrypted MTProto (docs/decode.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "decode/decode.h"
#include "mtp/hex.h"

extern const struct mtp_cli_cmd mtp_cli_cmd_decode;

static void decode_usage(FILE *out)
{
    fprintf(out,
            "usage: mtprobe decode CAPTURE [--keylog FILE]... [--format text|jsonl] [--summary] [--check] [options]\n"
            "\n"
            "Decodes the MTProto connections of a pcap or pcapng capture (\"-\" reads stdin): every transport\n"
            "(abridged, intermediate, padded, full, each also obfuscated2), the key exchange with its inner data,\n"
            "and encrypted messages decrypted with the key log that `mtprobe serve --keylog` and\n"
            "`mtprobe client --keylog` write (docs/keylog.md).\n"
            "\n"
            "options:\n"
            "  --keylog FILE      key log (AUTH_KEY, TEMP_AUTH_KEY, OBFS2, NEW_NONCE lines); repeatable\n"
            "  --format F         text (default: a line per message, its fields below, like tshark -V) or\n"
            "                     jsonl (one JSON object per event, in the shape of docs/events.md)\n"
            "  --summary          per connection: addresses, transport, auth_key_ids, counts, problems\n"
            "                     (alone: only that)\n"
            "  --check            passive conformance checks: findings named by the catalogue's ids\n"
            "                     (docs/requirements.md), a table at the end; exit 1 when any is found\n"
            "  --schema FILE      API schema; repeatable (default: the schemas the mock DC loads, every layer,\n"
            "                     each session decoded with the layer of its invokeWithLayer)\n"
            "  --secret HEX       MTProxy secret for obfuscated2 connections without an OBFS2 key log line\n"
            "  --connection N     only connection N (numbered in order of their first packet)\n"
            "  --filter NAME      only messages with this constructor (itself, in a container, or the result\n"
            "                     of an rpc_result)\n"
            "  --hex              bodies as hex too\n"
            "  --tl               jsonl: the TL text too (\"tl\", as the mock DC's observation log has it)\n"
            "  --short N          text: shorten byte strings longer than N bytes (default 64, 0: never)\n"
            "  --out FILE         write there instead of stdout\n"
            "\n"
            "exit codes: 0 decoded, 1 --check found deviations, 2 usage, 3 the capture, a key log or a schema\n"
            "could not be read\n");
}

static bool parse_count(const char *s, unsigned long long *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *s == '\0' || *end || s[0] == '-')
        return false;
    *v = x;
    return true;
}

static int decode_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"keylog", required_argument, NULL, 'k'}, {"format", required_argument, NULL, 'f'},
        {"summary", no_argument, NULL, 's'},      {"check", no_argument, NULL, 'c'},
        {"schema", required_argument, NULL, 'S'}, {"secret", required_argument, NULL, 'x'},
        {"connection", required_argument, NULL, 'n'}, {"filter", required_argument, NULL, 'F'},
        {"hex", no_argument, NULL, 'h'},          {"tl", no_argument, NULL, 't'},
        {"short", required_argument, NULL, 'B'},  {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'H'},         {NULL, 0, NULL, 0},
    };
    struct mtp_decode_opts o;
    memset(&o, 0, sizeof o);
    const char *format = NULL, *out = NULL, *secret_hex = NULL;
    unsigned long long v;
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'k':
            if (o.nkeylogs == MTP_DECODE_MAX_KEYLOGS)
                return mtp_cli_usage_error(&mtp_cli_cmd_decode, "at most %d --keylog", MTP_DECODE_MAX_KEYLOGS);
            o.keylogs[o.nkeylogs++] = optarg;
            break;
        case 'S':
            if (o.nschemas == MTP_DECODE_MAX_SCHEMAS)
                return mtp_cli_usage_error(&mtp_cli_cmd_decode, "at most %d --schema", MTP_DECODE_MAX_SCHEMAS);
            o.schemas[o.nschemas++] = optarg;
            break;
        case 'f': format = optarg; break;
        case 's': o.summary = true; break;
        case 'c': o.check = true; break;
        case 'x': secret_hex = optarg; break;
        case 'n':
            if (!parse_count(optarg, &v) || v == 0)
                return mtp_cli_usage_error(&mtp_cli_cmd_decode, "--connection wants a number from 1, got '%s'", optarg);
            o.connection = v;
            break;
        case 'F': o.filter = optarg; break;
        case 'h': o.hex = true; break;
        case 't': o.tl_text = true; break;
        case 'B':
            if (!parse_count(optarg, &v))
                return mtp_cli_usage_error(&mtp_cli_cmd_decode, "--short wants a byte count, got '%s'", optarg);
            o.short_bytes = v == 0 ? SIZE_MAX : (size_t)v;
            break;
        case 'o': out = optarg; break;
        case 'H': decode_usage(stdout); return MTP_EXIT_OK;
        default:
            return mtp_cli_usage_error(&mtp_cli_cmd_decode, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return mtp_cli_usage_error(&mtp_cli_cmd_decode, optind >= argc ? "which capture?" : "one capture at a time");
    if (format == NULL)
        o.format = o.summary && !o.check ? MTP_DECODE_NONE : MTP_DECODE_TEXT;
    else if (strcmp(format, "text") == 0)
        o.format = MTP_DECODE_TEXT;
    else if (strcmp(format, "jsonl") == 0)
        o.format = MTP_DECODE_JSONL;
    else
        return mtp_cli_usage_error(&mtp_cli_cmd_decode, "--format: text or jsonl, not '%s'", format);
    struct mtp_error err;
    mtp_error_clear(&err);
    if (secret_hex) {
        uint8_t raw[64];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, raw, sizeof raw, &err);
        if (mtp_hex_decode(secret_hex, strlen(secret_hex), &w, "secret") < 0 ||
            mtp_obfs_secret_parse(&o.secret, raw, w.len, &err) < 0)
            return mtp_cli_usage_error(&mtp_cli_cmd_decode, "--secret: %s", err.msg);
    }
    FILE *f = NULL;
    if (out && (f = fopen(out, "w")) == NULL) {
        fprintf(stderr, "mtprobe decode: %s: %s\n", out, strerror(errno));
        return MTP_EXIT_ERROR;
    }
    o.out = f ? f : stdout;
    struct mtp_decode_stats st;
    int rc = mtp_decode_file(argv[optind], &o, &st, &err);
    if (f && fclose(f) != 0 && rc == MTP_OK)
        rc = mtp_error_set(&err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", out, strerror(errno));
    if (rc < 0) {
        fprintf(stderr, "mtprobe decode: %s\n", err.msg);
        return MTP_EXIT_ERROR;
    }
    if (st.truncated)
        fprintf(stderr, "mtprobe decode: the capture is damaged or cut short; everything before that was decoded\n");
    return o.check && st.findings ? MTP_EXIT_FAIL : MTP_EXIT_OK;
}

const struct mtp_cli_cmd mtp_cli_cmd_decode = {
    .name = "decode",
    .summary = "decode a pcap/pcapng capture: transports, the key exchange, decrypted messages, passive checks",
    .run = decode_main,
    .usage = decode_usage,
};
