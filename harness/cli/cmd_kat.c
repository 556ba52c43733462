/* `mtprobe kat`: replay every known-answer vector against the reference
 * implementation or a shim, print a per-file summary, write reports. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "kat/kat.h"
#include "report/report.h"

extern const struct mtp_cli_cmd mtp_cli_cmd_kat;

static void kat_usage(FILE *out)
{
    fprintf(out,
            "usage: mtprobe kat [--vectors PATH]... [--shim CMD] [--error-map FILE] [--strict] [--timeout S]\n"
            "                   [--report-dir DIR] [--filter TEXT] [-v] [--keep-passing]\n\n"
            "Replays known-answer vectors (docs/vectors.md) against mtprobe's reference implementation, or,\n"
            "with --shim, against any implementation that speaks the shim protocol (docs/shim.md).\n\n"
            "  --vectors PATH     a vector file or a directory searched recursively for *.json\n"
            "                     (repeatable; default: ./vectors, else the source tree's vectors/)\n"
            "  --shim CMD         run CMD with /bin/sh -c and talk to it over stdin/stdout\n"
            "  --error-map FILE   the implementation's own error names to the shim protocol's (docs/shim.md)\n"
            "  --strict           fail wrong-error verdicts, and the lax answer to a check the spec only\n"
            "                     SHOULDs or RECOMMENDs (without it both count: wrong-error, acceptable)\n"
            "  --timeout S        seconds a shim may take per request before it counts as hung (default 10)\n"
            "  --report-dir DIR   where kat.json, kat.junit.xml and kat.html are written (default: reports)\n"
            "  --filter TEXT      only vector files whose path contains TEXT\n"
            "  -v, --verbose      list every vector, not only failures and wrong errors\n"
            "  --keep-passing     keep request and answer of passing vectors in the JSON report\n\n"
            "exit status: 0 no vector failed (unsupported ops, acceptable answers and wrong errors do not fail\n"
            "the run; with --strict wrong errors and SHOULD / RECOMMENDED alternatives do), 1 a vector failed or\n"
            "the shim crashed, hung or broke the protocol, 2 bad command line, 3 vectors, error map or reports\n"
            "unusable\n");
}

static const char *default_vectors(void)
{
    struct stat st;
    if (stat("vectors", &st) == 0 && S_ISDIR(st.st_mode))
        return "vectors";
    return MTPROBE_SOURCE_DIR "/vectors";
}

static double elapsed_s(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int kat_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"vectors", required_argument, NULL, 'V'},   {"shim", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},   {"report-dir", required_argument, NULL, 'r'},
        {"filter", required_argument, NULL, 'f'},    {"verbose", no_argument, NULL, 'v'},
        {"keep-passing", no_argument, NULL, 'k'},    {"strict", no_argument, NULL, 'S'},
        {"error-map", required_argument, NULL, 'e'}, {NULL, 0, NULL, 0},
    };
    const char *paths[64];
    size_t n_paths = 0;
    const char *shim = NULL, *report_dir = "reports", *errmap_path = NULL;
    double timeout_s = 10;
    struct kat_options opts = {.out = stdout};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
        switch (c) {
        case 'V':
            if (n_paths == sizeof paths / sizeof paths[0])
                return mtp_cli_usage_error(&mtp_cli_cmd_kat, "too many --vectors");
            paths[n_paths++] = optarg;
            break;
        case 's': shim = optarg; break;
        case 't': {
            char *end;
            timeout_s = strtod(optarg, &end);
            if (*end || timeout_s <= 0 || timeout_s > 3600)
                return mtp_cli_usage_error(&mtp_cli_cmd_kat, "--timeout wants seconds in (0, 3600], got '%s'", optarg);
            break;
        }
        case 'r': report_dir = optarg; break;
        case 'f': opts.filter = optarg; break;
        case 'v': opts.verbose = true; break;
        case 'k': opts.keep_passing = true; break;
        case 'S': opts.strict = true; break;
        case 'e': errmap_path = optarg; break;
        default:
            return mtp_cli_usage_error(&mtp_cli_cmd_kat, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return mtp_cli_usage_error(&mtp_cli_cmd_kat, "unexpected argument '%s'", argv[optind]);
    if (n_paths == 0)
        paths[n_paths++] = default_vectors();
    opts.paths = paths;
    opts.n_paths = n_paths;

    struct kat_target target = {0};
    char why[1024];
    struct kat_errmap *errmap = NULL;
    if (errmap_path) {
        errmap = kat_errmap_load(errmap_path, why, sizeof why);
        if (errmap == NULL) {
            fprintf(stderr, "mtprobe kat: --error-map: %s\n", why);
            return MTP_EXIT_ERROR;
        }
        opts.errmap = errmap;
    }
    if (shim) {
        target.proc = shim_proc_start(shim, (int)(timeout_s * 1000), why, sizeof why);
        if (target.proc == NULL) {
            fprintf(stderr, "mtprobe kat: cannot start the shim '%s': %s\n", shim, why);
            kat_errmap_free(errmap);
            return MTP_EXIT_ERROR;
        }
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *report = mtp_report_new("kat", shim ? shim : "mtprobe reference implementation");
    if (report == NULL) {
        shim_proc_free(target.proc);
        kat_errmap_free(errmap);
        return MTP_EXIT_ERROR;
    }
    /* Ask the implementation who it is and which protocol version and
     * features it has; without an answer it is a version 1 shim. */
    json_t *hello = json_pack("{s:i, s:s}", "id", 0, "op", "hello");
    json_t *hi = hello ? kat_target_call(&target, hello, why, sizeof why) : NULL;
    struct kat_caps caps;
    kat_caps_from_hello(&caps, hi);
    if (caps.hello)
        json_object_set(report, "hello", caps.hello);
    json_decref(hi);
    json_decref(hello);
    opts.caps = &caps;
    json_t *options = json_pack("{s:b, s:i}", "strict", opts.strict, "protocol", caps.protocol);
    if (options && errmap_path)
        json_object_set_new(options, "error_map", json_string(errmap_path));
    if (options && caps.features)
        json_object_set(options, "features", caps.features);
    if (options)
        json_object_set_new(report, "options", options);

    printf("mtprobe kat: vectors from");
    for (size_t i = 0; i < n_paths; i++)
        printf(" %s", paths[i]);
    printf(", against %s\n", shim ? shim : "the reference implementation");
    if (shim) {
        printf("shim: protocol %d", caps.protocol);
        size_t fi;
        json_t *f;
        json_array_foreach(caps.features, fi, f) printf("%s%s", fi ? ", " : "; features: ",
                                                        json_string_value(f) ? json_string_value(f) : "?");
        printf("%s%s%s\n", caps.hello ? "" : " (no hello answer)", errmap_path ? "; error map " : "",
               errmap_path ? errmap_path : "");
    }
    fflush(stdout);

    struct kat_totals tot;
    int run_rc = kat_run(&opts, &target, report, &tot);
    int exit_code = MTP_EXIT_OK;
    if (target.proc) {
        int st = shim_proc_stop(target.proc);
        if (st != 0) {
            printf("shim: exited with status %d at the end of its input (the protocol asks for 0)\n", st);
            json_object_set_new(report, "shim_exit_status", json_integer(st));
            exit_code = MTP_EXIT_FAIL;
        }
        const char *err = shim_proc_stderr(target.proc);
        if (err && *err)
            json_object_set_new(report, "shim_stderr_tail", json_string(err));
        shim_proc_free(target.proc);
    }
    json_object_set_new(report, "duration_s", json_real(elapsed_s(&t0)));
    kat_caps_clear(&caps);
    kat_errmap_free(errmap);
    printf("total: %zu files, %zu vectors: %zu passed", tot.files, tot.vectors, tot.passed);
    if (tot.acceptable)
        printf(", %zu acceptable", tot.acceptable);
    if (tot.wrong_error)
        printf(", %zu wrong-error", tot.wrong_error);
    printf(", %zu unsupported, %zu failed\n", tot.unsupported, tot.failed);
    if (tot.not_checked)
        printf("not checked: answer fields of features the implementation did not announce, in %zu vectors\n",
               tot.not_checked);
    if (tot.wrong_error && !errmap_path)
        printf("wrong-error: rejected for another reason than the vector names, or with the implementation's own\n"
               "error names; --error-map FILE says which of ours each of its names is (docs/shim.md)\n");
    if (mtp_report_finish(report, why, sizeof why) != 0 ||
        mtp_report_write_all(report, report_dir, "kat", why, sizeof why) != 0) {
        fprintf(stderr, "mtprobe kat: %s\n", why);
        json_decref(report);
        return MTP_EXIT_ERROR;
    }
    printf("reports: %s/kat.json %s/kat.junit.xml %s/kat.html\n", report_dir, report_dir, report_dir);
    json_decref(report);
    if (run_rc != 0)
        return MTP_EXIT_ERROR;
    if (tot.vectors == 0) {
        fprintf(stderr, "mtprobe kat: no vectors found\n");
        return MTP_EXIT_ERROR;
    }
    if (tot.failed)
        return MTP_EXIT_FAIL;
    return exit_code;
}

const struct mtp_cli_cmd mtp_cli_cmd_kat = {
    .name = "kat",
    .summary = "replay the known-answer vectors against the reference implementation or a shim",
    .run = kat_main,
    .usage = kat_usage,
};
