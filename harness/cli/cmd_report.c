/* `mtprobe report`: merging runs of several implementations into one matrix,
 * and (re)rendering a report as HTML (docs/reports.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "report/report.h"

extern const struct mtp_cli_cmd mtp_cli_cmd_report;

#define MAX_INPUTS 256

static void report_usage(FILE *out)
{
    fprintf(out,
            "usage: mtprobe report merge [LABEL=]RUN... --out DIR\n"
            "       mtprobe report html REPORT [--out FILE] [--body-cap N] [--plain-blobs]\n\n"
            "merge combines the reports of several runs (one per implementation, of one kind: kat,\n"
            "check-client, check-server or fuzz) into one matrix and writes DIR/report.json,\n"
            "DIR/junit.xml and DIR/index.html.  RUN is a run directory (holding report.json or kat.json)\n"
            "or a report file; LABEL names its column (default: the implementation).\n\n"
            "html renders REPORT (a report file or run directory) as one self-contained HTML file,\n"
            "by default next to it (report.json -> index.html, kat.json -> kat.html).\n\n"
            "  --out DIR|FILE   where to write\n"
            "  --body-cap N     leave out of the page the hex of wire messages longer than N bytes\n"
            "                   (report.json keeps it; default 0: keep all)\n"
            "  --plain-blobs    store each result's details as JSON text, not gzip + base64\n\n"
            "exit status: 0 written, 2 bad command line, 3 a report could not be read or written\n");
}

/* LABEL=PATH, where LABEL has no '/': the label of that run's column. */
static void split_label(char *arg, const char **label, const char **path)
{
    char *eq = strchr(arg, '=');
    char *slash = strchr(arg, '/');
    if (eq && eq != arg && (slash == NULL || slash > eq)) {
        *eq = '\0';
        *label = arg;
        *path = eq + 1;
    } else {
        *label = NULL;
        *path = arg;
    }
}

static int merge_main(int argc, char **argv, const char *out_dir)
{
    if (out_dir == NULL)
        return mtp_cli_usage_error(&mtp_cli_cmd_report, "merge wants --out DIR");
    if (argc == 0)
        return mtp_cli_usage_error(&mtp_cli_cmd_report, "merge wants at least one run");
    if (argc > MAX_INPUTS)
        return mtp_cli_usage_error(&mtp_cli_cmd_report, "at most %d runs", MAX_INPUTS);
    json_t *reports[MAX_INPUTS];
    const char *labels[MAX_INPUTS];
    char why[1024];
    int n = 0, rc = MTP_EXIT_OK;
    for (int i = 0; i < argc; i++) {
        const char *path;
        split_label(argv[i], &labels[i], &path);
        reports[i] = mtp_report_load(path, why, sizeof why);
        if (reports[i] == NULL) {
            fprintf(stderr, "mtprobe report: %s\n", why);
            rc = MTP_EXIT_ERROR;
            break;
        }
        n++;
        size_t k;
        json_t *run;
        json_array_foreach(json_object_get(reports[i], "runs"), k, run)
        {
            if (json_object_get(run, "source") == NULL)
                json_object_set_new(run, "source", json_string(path));
        }
    }
    json_t *merged = rc == MTP_EXIT_OK ? mtp_report_merge(reports, labels, (size_t)n, why, sizeof why) : NULL;
    if (rc == MTP_EXIT_OK && merged == NULL) {
        fprintf(stderr, "mtprobe report: %s\n", why);
        rc = MTP_EXIT_ERROR;
    }
    if (merged && mtp_report_write_all(merged, out_dir, NULL, why, sizeof why) != 0) {
        fprintf(stderr, "mtprobe report: %s\n", why);
        rc = MTP_EXIT_ERROR;
    } else if (merged) {
        json_t *s = json_object_get(merged, "summary");
        printf("merged %zu runs, %lld results (%lld pass, %lld fail, %lld MUST failed): %s/report.json, "
               "%s/junit.xml, %s/index.html\n",
               json_array_size(json_object_get(merged, "runs")), json_integer_value(json_object_get(s, "total")),
               json_integer_value(json_object_get(s, "pass")), json_integer_value(json_object_get(s, "fail")),
               json_integer_value(json_object_get(s, "must_failed")), out_dir, out_dir, out_dir);
    }
    json_decref(merged);
    for (int i = 0; i < n; i++)
        json_decref(reports[i]);
    return rc;
}

static int html_main(int argc, char **argv, const char *out, const struct mtp_report_html_options *ho)
{
    if (argc != 1)
        return mtp_cli_usage_error(&mtp_cli_cmd_report, "html wants one report");
    char why[1024];
    json_t *r = mtp_report_load(argv[0], why, sizeof why);
    if (r == NULL) {
        fprintf(stderr, "mtprobe report: %s\n", why);
        return MTP_EXIT_ERROR;
    }
    char path[4096];
    if (out) {
        snprintf(path, sizeof path, "%s", out);
    } else {
        /* Next to the report: report.json -> index.html, NAME.json -> NAME.html, DIR -> DIR/index.html. */
        size_t n = strlen(argv[0]);
        if (n > 5 && strcmp(argv[0] + n - 5, ".json") == 0) {
            const char *base = strrchr(argv[0], '/');
            base = base ? base + 1 : argv[0];
            if (strcmp(base, "report.json") == 0)
                snprintf(path, sizeof path, "%.*sindex.html", (int)(base - argv[0]), argv[0]);
            else
                snprintf(path, sizeof path, "%.*s.html", (int)(n - 5), argv[0]);
        } else {
            snprintf(path, sizeof path, "%s/index.html", argv[0]);
        }
    }
    int rc = mtp_report_write_html(r, path, ho, why, sizeof why);
    json_decref(r);
    if (rc != 0) {
        fprintf(stderr, "mtprobe report: %s\n", why);
        return MTP_EXIT_ERROR;
    }
    printf("%s\n", path);
    return MTP_EXIT_OK;
}

static int report_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},
        {"body-cap", required_argument, NULL, 'b'},
        {"plain-blobs", no_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    struct mtp_report_html_options ho = {0};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'p': ho.plain_blobs = true; break;
        case 'b': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || end == optarg || v > (1ul << 30))
                return mtp_cli_usage_error(&mtp_cli_cmd_report, "--body-cap wants a byte count, got '%s'", optarg);
            ho.body_hex_cap = (size_t)v * 2;
            break;
        }
        default:
            return mtp_cli_usage_error(&mtp_cli_cmd_report, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return mtp_cli_usage_error(&mtp_cli_cmd_report, "which: merge or html?");
    const char *what = argv[optind];
    if (strcmp(what, "merge") == 0)
        return merge_main(argc - optind - 1, argv + optind + 1, out);
    if (strcmp(what, "html") == 0)
        return html_main(argc - optind - 1, argv + optind + 1, out, &ho);
    return mtp_cli_usage_error(&mtp_cli_cmd_report, "unknown action '%s' (merge or html)", what);
}

const struct mtp_cli_cmd mtp_cli_cmd_report = {
    .name = "report",
    .summary = "merge runs of several implementations into one matrix; render a report as HTML",
    .run = report_main,
    .usage = report_usage,
};
