/* `mtprobe tl`: the TL schema engine on the command line. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_tl.h"
#include "cli/cli.h"
#include "mtp/hex.h"
#include "mtp/tl_value.h"
#include "tlengine/tl_files.h"
#include "tlengine/tl_json.h"

#define INPUT_MAX (256u << 20)
#define MAX_SCHEMAS 16

extern const struct mtp_cli_cmd mtp_cli_cmd_tl;

static void tl_usage(FILE *out)
{
    fprintf(out,
            "usage: mtprobe tl decode [options] [FILE]   bytes (hex or raw) -> TL text or JSON\n"
            "       mtprobe tl encode [options] [FILE]   JSON -> bytes (hex, or raw with --raw)\n"
            "       mtprobe tl ids [--schema S]... [--check]\n"
            "       mtprobe tl bench [--seconds N] [--iterations N]\n"
            "\n"
            "Decodes and encodes any object of the loaded TL schemas.  FILE defaults to stdin ('-').\n"
            "\n"
            "options:\n"
            "  --schema S        mtproto (default), api (API + MTProto), or a .tl file; repeatable.\n"
            "                    Bundled schemas are in $MTPROBE_SCHEMA_DIR or <source>/vectors/schema.\n"
            "  --type T          the type to decode/encode: ResPQ, Vector<long>, %%Message, resPQ (bare).\n"
            "                    Default: any boxed object, found by its constructor id.\n"
            "  --result-type T   decode every rpc_result.result as T (the pending request's return type)\n"
            "  --json            decode: print JSON (docs/tl-json.md) instead of TL text\n"
            "  --oneline         decode: TL text on one line\n"
            "  --short N         decode: shorten bytes and strings longer than N bytes\n"
            "  --strict          decode: reject non-zero padding, non-canonical lengths, unknown flag bits\n"
            "  --trailing        decode: allow bytes after the value (their count goes to stderr)\n"
            "  --hex / --raw     decode: input is hex / raw bytes (default: hex if it looks like hex)\n"
            "                    encode: --raw writes raw bytes instead of hex\n"
            "  --check           ids: exit 1 when an explicit id differs from its CRC32\n"
            "  --seconds N       bench: time per measurement (default 1)\n"
            "  --iterations N    bench: decode the corpus exactly N times, no timing (for callgrind)\n"
            "\n"
            "ids prints '<8 hex digit id> <name>' for every combinator; id mismatches go to stderr.\n"
            "exit codes: 0 ok, 1 input malformed (or --check found a mismatch), 2 usage, 3 could not proceed\n");
}

struct tl_args {
    const char *schemas[MAX_SCHEMAS];
    size_t nschemas;
    const char *type;
    const char *result_type;
    const char *file;
    bool json, oneline, strict, trailing, hex, raw, check;
    size_t short_n;
    double seconds;
    unsigned long iterations;
};

static bool parse_num(const char *s, unsigned long *v)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(s, &end, 10);
    if (errno || *s == '\0' || *end || s[0] == '-')
        return false;
    *v = x;
    return true;
}

static int parse_args(int argc, char **argv, struct tl_args *a)
{
    memset(a, 0, sizeof *a);
    a->seconds = 1.0;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(o, "--schema") == 0 || strcmp(o, "--type") == 0 || strcmp(o, "--result-type") == 0 ||
                     strcmp(o, "--short") == 0 || strcmp(o, "--seconds") == 0 || strcmp(o, "--iterations") == 0;
        if (takes && val == NULL)
            return mtp_cli_usage_error(&mtp_cli_cmd_tl, "%s needs a value", o);
        unsigned long n;
        if (strcmp(o, "--schema") == 0) {
            if (a->nschemas == MAX_SCHEMAS)
                return mtp_cli_usage_error(&mtp_cli_cmd_tl, "at most %d --schema options", MAX_SCHEMAS);
            a->schemas[a->nschemas++] = val;
            i++;
        } else if (strcmp(o, "--type") == 0) {
            a->type = val;
            i++;
        } else if (strcmp(o, "--result-type") == 0) {
            a->result_type = val;
            i++;
        } else if (strcmp(o, "--short") == 0) {
            if (!parse_num(val, &n))
                return mtp_cli_usage_error(&mtp_cli_cmd_tl, "--short needs a number, not '%s'", val);
            a->short_n = n;
            i++;
        } else if (strcmp(o, "--seconds") == 0) {
            char *end;
            a->seconds = strtod(val, &end);
            if (*end || !(a->seconds > 0 && a->seconds < 3600))
                return mtp_cli_usage_error(&mtp_cli_cmd_tl, "--seconds needs a number of seconds, not '%s'", val);
            i++;
        } else if (strcmp(o, "--iterations") == 0) {
            if (!parse_num(val, &n) || n == 0)
                return mtp_cli_usage_error(&mtp_cli_cmd_tl, "--iterations needs a positive number, not '%s'", val);
            a->iterations = n;
            i++;
        } else if (strcmp(o, "--json") == 0) {
            a->json = true;
        } else if (strcmp(o, "--oneline") == 0) {
            a->oneline = true;
        } else if (strcmp(o, "--strict") == 0) {
            a->strict = true;
        } else if (strcmp(o, "--trailing") == 0) {
            a->trailing = true;
        } else if (strcmp(o, "--hex") == 0) {
            a->hex = true;
        } else if (strcmp(o, "--raw") == 0) {
            a->raw = true;
        } else if (strcmp(o, "--check") == 0) {
            a->check = true;
        } else if (o[0] == '-' && o[1] != '\0') {
            return mtp_cli_usage_error(&mtp_cli_cmd_tl, "unknown option '%s'", o);
        } else if (a->file == NULL) {
            a->file = o;
        } else {
            return mtp_cli_usage_error(&mtp_cli_cmd_tl, "more than one input file ('%s')", o);
        }
    }
    if (a->hex && a->raw && strcmp(argv[1], "decode") == 0)
        return mtp_cli_usage_error(&mtp_cli_cmd_tl, "--hex and --raw exclude each other");
    return MTP_EXIT_OK;
}

static int read_input(const char *file, uint8_t **out, size_t *len)
{
    FILE *f = (file == NULL || strcmp(file, "-") == 0) ? stdin : fopen(file, "rb");
    if (f == NULL) {
        fprintf(stderr, "mtprobe tl: %s: %s\n", file, strerror(errno));
        return MTP_EXIT_ERROR;
    }
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= INPUT_MAX) {
                fprintf(stderr, "mtprobe tl: input larger than %u bytes\n", INPUT_MAX);
                free(buf);
                buf = NULL;
                n = 0;
                break;
            }
            uint8_t *nb = realloc(buf, cap * 2 + 1);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    bool bad = ferror(f) != 0;
    if (f != stdin)
        fclose(f);
    if (buf == NULL || bad) {
        if (bad)
            fprintf(stderr, "mtprobe tl: read error on %s\n", file ? file : "stdin");
        free(buf);
        return MTP_EXIT_ERROR;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return MTP_EXIT_OK;
}

static bool looks_hex(const uint8_t *p, size_t n)
{
    size_t digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (isxdigit(p[i]))
            digits++;
        else if (!isspace(p[i]))
            return false;
    }
    return digits > 0 && digits % 2 == 0;
}

/* Hex with any whitespace between digits -> bytes, in place. */
static int unhex(uint8_t *p, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (!isspace(p[i]))
            p[k++] = p[i];
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, p, k / 2, &err);
    if (k % 2 || mtp_hex_decode((const char *)p, k, &w, "input") < 0) {
        fprintf(stderr, "mtprobe tl: input is not valid hex%s\n", k % 2 ? " (odd number of digits)" : "");
        return MTP_EXIT_FAIL;
    }
    *n = w.len;
    return MTP_EXIT_OK;
}

static int load_schemas(const struct tl_args *a, struct mtp_tl_schema **s)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_tl_schema_load(a->schemas, a->nschemas, s, &err) < 0) {
        fprintf(stderr, "mtprobe tl: cannot load schema: %s (%s)\n", err.msg, mtp_err_name(err.code));
        return MTP_EXIT_ERROR;
    }
    return MTP_EXIT_OK;
}

static int parse_type(struct mtp_tl_schema *s, const char *text, struct mtp_tl_arena *ar,
                      const struct mtp_tl_tref **out)
{
    *out = NULL;
    if (text == NULL)
        return MTP_EXIT_OK;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_tl_type_parse(s, text, ar, out, &err) < 0) {
        fprintf(stderr, "mtprobe tl: %s\n", err.msg);
        return MTP_EXIT_USAGE;
    }
    return MTP_EXIT_OK;
}

static int tl_decode(const struct tl_args *a)
{
    struct mtp_tl_schema *s = NULL;
    uint8_t *in = NULL;
    size_t n = 0;
    struct mtp_tl_arena ar;
    mtp_tl_arena_init(&ar, 0);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, SIZE_MAX / 2, NULL);
    int rc = load_schemas(a, &s);
    const struct mtp_tl_tref *type = NULL;
    struct mtp_tl_decode_opts o = {.strict = a->strict, .allow_trailing = a->trailing};
    if (rc == MTP_EXIT_OK)
        rc = parse_type(s, a->type, &ar, &type);
    if (rc == MTP_EXIT_OK)
        rc = parse_type(s, a->result_type, &ar, &o.rpc_result_type);
    if (rc == MTP_EXIT_OK)
        rc = read_input(a->file, &in, &n);
    if (rc == MTP_EXIT_OK && (a->hex || (!a->raw && looks_hex(in, n))))
        rc = unhex(in, &n);
    if (rc != MTP_EXIT_OK)
        goto out;
    ar.limit = mtp_tl_decode_budget(n);
    struct mtp_tl_value v;
    size_t used = 0;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_tl_decode(s, type, in, n, &o, &ar, &v, &used, &err) < 0) {
        if (err.offset != MTP_NO_OFFSET)
            fprintf(stderr, "mtprobe tl: decode failed at offset %zu: %s (%s)\n", err.offset, err.msg,
                    mtp_err_name(err.code));
        else
            fprintf(stderr, "mtprobe tl: decode failed: %s (%s)\n", err.msg, mtp_err_name(err.code));
        rc = MTP_EXIT_FAIL;
        goto out;
    }
    if (a->json) {
        json_t *j = mtp_tl_json_from_value(&v);
        char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(j);
        if (text == NULL) {
            fprintf(stderr, "mtprobe tl: out of memory\n");
            rc = MTP_EXIT_ERROR;
            goto out;
        }
        printf("%s\n", text);
        free(text);
    } else {
        struct mtp_tl_text_opts to = {.multiline = !a->oneline, .max_bytes = a->short_n};
        if (mtp_tl_text(&v, &to, &w) < 0) {
            fprintf(stderr, "mtprobe tl: out of memory\n");
            rc = MTP_EXIT_ERROR;
            goto out;
        }
        fwrite(w.p, 1, w.len, stdout);
        fputc('\n', stdout);
    }
    if (used < n)
        fprintf(stderr, "mtprobe tl: %zu bytes after the value (offset %zu)\n", n - used, used);
out:
    mtp_wr_free(&w);
    mtp_tl_arena_free(&ar);
    mtp_tl_schema_free(s);
    free(in);
    return rc;
}

static int tl_encode(const struct tl_args *a)
{
    struct mtp_tl_schema *s = NULL;
    uint8_t *in = NULL;
    size_t n = 0;
    struct mtp_tl_arena ar;
    mtp_tl_arena_init(&ar, 0);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1u << 30, &err);
    json_t *j = NULL;
    const struct mtp_tl_tref *type = NULL;
    int rc = load_schemas(a, &s);
    if (rc == MTP_EXIT_OK)
        rc = parse_type(s, a->type, &ar, &type);
    if (rc == MTP_EXIT_OK)
        rc = read_input(a->file, &in, &n);
    if (rc != MTP_EXIT_OK)
        goto out;
    json_error_t jerr;
    j = json_loadb((const char *)in, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (j == NULL) {
        fprintf(stderr, "mtprobe tl: input is not JSON: line %d column %d: %s\n", jerr.line, jerr.column, jerr.text);
        rc = MTP_EXIT_FAIL;
        goto out;
    }
    if (mtp_tl_json_encode(s, type, j, &w, &err) < 0) {
        fprintf(stderr, "mtprobe tl: encode failed: %s (%s)\n", err.msg, mtp_err_name(err.code));
        rc = MTP_EXIT_FAIL;
        goto out;
    }
    if (a->raw) {
        fwrite(w.p, 1, w.len, stdout);
    } else {
        char *hex = mtp_hex_alloc(w.p, w.len);
        if (hex == NULL) {
            rc = MTP_EXIT_ERROR;
            goto out;
        }
        printf("%s\n", hex);
        free(hex);
    }
out:
    json_decref(j);
    mtp_wr_free(&w);
    mtp_tl_arena_free(&ar);
    mtp_tl_schema_free(s);
    free(in);
    return rc;
}

static int tl_ids(const struct tl_args *a)
{
    struct mtp_tl_schema *s = NULL;
    int rc = load_schemas(a, &s);
    if (rc != MTP_EXIT_OK)
        return rc;
    size_t n = mtp_tl_schema_count(s);
    for (size_t i = 0; i < n; i++) {
        const struct mtp_tl_combinator *c = mtp_tl_schema_at(s, i);
        printf("%08x %s\n", c->id, c->name);
        if (c->explicit_id && c->id != c->computed_id)
            fprintf(stderr, "note: %s:%u: %s#%08x: CRC32 of '%s' is %08x\n", c->file, c->line, c->name, c->id,
                    c->canonical, c->computed_id);
    }
    if (a->check && mtp_tl_schema_id_mismatches(s) > 0)
        rc = MTP_EXIT_FAIL;
    mtp_tl_schema_free(s);
    return rc;
}

static void print_figure(void *ctx, const char *name, double value, const char *unit, double ceiling)
{
    (void)ctx;
    if (ceiling > 0)
        printf("%-34s %12.2f %-12s (ceiling %.2f %s, %.1f%%)\n", name, value, unit, ceiling, unit,
               100.0 * value / ceiling);
    else
        printf("%-34s %12.2f %s\n", name, value, unit);
}

static int tl_bench(const struct tl_args *a)
{
    struct mtp_bench_sink sink = {print_figure, NULL, 0};
    struct mtp_bench_tl_opts o = {.seconds = a->seconds, .iterations = a->iterations};
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_bench_tl_run(&sink, &o, &err) < 0) {
        fprintf(stderr, "mtprobe tl bench: %s (%s)\n", err.msg, mtp_err_name(err.code));
        return MTP_EXIT_ERROR;
    }
    return MTP_EXIT_OK;
}

static int tl_run(int argc, char **argv)
{
    if (argc < 2)
        return mtp_cli_usage_error(&mtp_cli_cmd_tl, "expected decode, encode, ids or bench");
    struct tl_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != MTP_EXIT_OK)
        return rc;
    if (strcmp(argv[1], "decode") == 0)
        return tl_decode(&a);
    if (strcmp(argv[1], "encode") == 0)
        return tl_encode(&a);
    if (strcmp(argv[1], "ids") == 0)
        return a.file ? mtp_cli_usage_error(&mtp_cli_cmd_tl, "ids takes no input file") : tl_ids(&a);
    if (strcmp(argv[1], "bench") == 0)
        return tl_bench(&a);
    return mtp_cli_usage_error(&mtp_cli_cmd_tl, "unknown subcommand '%s'", argv[1]);
}

const struct mtp_cli_cmd mtp_cli_cmd_tl = {
    .name = "tl",
    .summary = "decode, encode and list TL objects of the MTProto/API schemas",
    .run = tl_run,
    .usage = tl_usage,
};
