/* `mtprobe bench`: every benchmark in harness/bench/, printed as a table and
 * written as JSON.  Each figure is set against a ceiling measured in the same
 * run (e.g. OpenSSL's AES-256-CBC for AES-IGE), so ratios mean the same on any
 * machine; absolute numbers are for the record only. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "report/report.h"

#define MTP_REGISTRY_ENTRY(sym, name) int sym(const struct mtp_bench_sink *sink);
#include "benches.inc"
#undef MTP_REGISTRY_ENTRY

struct bench_entry {
    const char *name;
    int (*run)(const struct mtp_bench_sink *sink);
};

static const struct bench_entry benches[] = {
#define MTP_REGISTRY_ENTRY(sym, name) {#name, sym},
#include "benches.inc"
#undef MTP_REGISTRY_ENTRY
    {NULL, NULL},
};

extern const struct mtp_cli_cmd mtp_cli_cmd_bench;

static void bench_usage(FILE *out)
{
    fprintf(out, "usage: mtprobe bench [--out FILE] [--only NAME] [--seconds S] [--list]\n\n"
                 "Runs the benchmarks and prints each figure beside the ceiling it is measured against\n"
                 "(measured in the same run) and their ratio.\n\n"
                 "  --out FILE     JSON list of {name, value, unit, ceiling, ratio} (default reports/bench.json)\n"
                 "  --only NAME    run only the benchmark group NAME (repeatable; see --list)\n"
                 "  --seconds S    length of one timed repetition (default 0.2; the best of several counts)\n"
                 "  --list         print the benchmark groups and exit\n");
}

struct collect {
    json_t *list;
    FILE *out;
};

static void record(void *ctx, const char *name, double value, const char *unit, double ceiling)
{
    struct collect *c = ctx;
    double ratio = ceiling > 0 ? value / ceiling : 0;
    json_t *r = json_pack("{s:s, s:f, s:s}", "name", name, "value", value, "unit", unit);
    if (r) {
        json_object_set_new(r, "ceiling", ceiling > 0 ? json_real(ceiling) : json_null());
        json_object_set_new(r, "ratio", ceiling > 0 ? json_real(ratio) : json_null());
        json_array_append_new(c->list, r);
    }
    if (ceiling > 0)
        fprintf(c->out, "  %-34s %14.1f %-6s %14.1f %6.2f\n", name, value, unit, ceiling, ratio);
    else
        fprintf(c->out, "  %-34s %14.1f %-6s %14s %6s\n", name, value, unit, "-", "-");
    fflush(c->out);
}

static int bench_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},     {"only", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 's'}, {"list", no_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *out = "reports/bench.json";
    const char *only[16];
    size_t n_only = 0;
    double seconds = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'n':
            if (n_only == sizeof only / sizeof only[0])
                return mtp_cli_usage_error(&mtp_cli_cmd_bench, "too many --only");
            only[n_only++] = optarg;
            break;
        case 's': {
            char *end;
            seconds = strtod(optarg, &end);
            if (*end || seconds <= 0 || seconds > 60)
                return mtp_cli_usage_error(&mtp_cli_cmd_bench, "--seconds wants a number in (0, 60], got '%s'", optarg);
            break;
        }
        case 'l':
            for (const struct bench_entry *b = benches; b->name; b++)
                printf("%s\n", b->name);
            return MTP_EXIT_OK;
        default:
            return mtp_cli_usage_error(&mtp_cli_cmd_bench, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return mtp_cli_usage_error(&mtp_cli_cmd_bench, "unexpected argument '%s'", argv[optind]);
    for (size_t i = 0; i < n_only; i++) {
        const struct bench_entry *b = benches;
        while (b->name && strcmp(b->name, only[i]) != 0)
            b++;
        if (b->name == NULL)
            return mtp_cli_usage_error(&mtp_cli_cmd_bench, "no benchmark group '%s' (see --list)", only[i]);
    }

    struct collect col = {json_array(), stdout};
    struct mtp_bench_sink sink = {record, &col, seconds};
    printf("  %-34s %14s %-6s %14s %6s\n", "benchmark", "value", "unit", "ceiling", "ratio");
    int rc = MTP_EXIT_OK;
    for (const struct bench_entry *b = benches; b->name; b++) {
        bool wanted = n_only == 0;
        for (size_t i = 0; i < n_only; i++)
            wanted |= strcmp(b->name, only[i]) == 0;
        if (!wanted)
            continue;
        int brc = b->run(&sink);
        if (brc < 0) {
            fprintf(stderr, "mtprobe bench: %s failed: %s\n", b->name, mtp_err_name(brc));
            rc = MTP_EXIT_ERROR;
        }
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (mtp_report_mkdirs(dir) != 0)
            fprintf(stderr, "mtprobe bench: cannot create %s: %s\n", dir, strerror(errno));
    }
    if (json_dump_file(col.list, out, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "mtprobe bench: cannot write %s: %s\n", out, strerror(errno));
        rc = MTP_EXIT_ERROR;
    } else {
        printf("written: %s\n", out);
    }
    json_decref(col.list);
    return rc;
}

const struct mtp_cli_cmd mtp_cli_cmd_bench = {
    .name = "bench",
    .summary = "measure throughput against ceilings measured in the same run; write reports/bench.json",
    .run = bench_main,
    .usage = bench_usage,
};
