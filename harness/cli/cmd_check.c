/* `mtprobe check`: the conformance suites (docs/check-client.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/check.h"
#include "check/check_judge.h"
#include "check/check_probes.h"
#include "check/check_server.h"
#include "cli/cli.h"

extern const struct mtp_cli_cmd mtp_cli_cmd_check;

static void check_usage(FILE *out)
{
    fprintf(out,
            "usage: mtprobe check client --cmd TEMPLATE [--transports LIST] [--report-dir DIR] [options]\n"
            "       mtprobe check server --server HOST:PORT --rsa-pub FILE [--secret HEX] [--dc N] [options]\n"
            "       mtprobe check --validate [CASE_DIR]...\n"
            "       mtprobe check --list [client|server] | --list-checks | --list-probes\n\n"
            "Judges an MTProto client requirement by requirement (docs/check-client.md): for every case of\n"
            "vectors/cases/client/ and every transport, starts the mock DC with the case's hostile scenario,\n"
            "runs the client command, and judges from what the mock DC saw on the wire (and, where a case\n"
            "says so, from the client's JSON line).  Each case names its catalogue item (docs/requirements.md)\n"
            "and its level; the report shows expected vs observed and the wire log of every run.\n\n"
            "The client command (--cmd) is run with /bin/sh -c after these placeholders are filled in:\n"
            "  {host} {port}   the mock DC          {rsa_pub}  PEM file of its public key\n"
            "  {transport}     abridged, intermediate, padded, full, obfuscated-abridged,\n"
            "                  obfuscated-intermediate, obfuscated-padded\n"
            "  {secret}        MTProxy secret hex, or empty     {dc}  the DC id\n"
            "  {request}       ping, nearest_dc, config (comma-separated)   {timeout}  seconds\n"
            "It must print one JSON line last on stdout ({\"ok\": bool, \"results\": [...], \"error\": ...}) and\n"
            "exit 0 ok, 1 failed, 2 usage, 3 could not proceed, 4 transport not supported.\n\n"
            "check server (docs/check-server.md) judges an MTProto server or MTProxy the same way: for every\n"
            "case of vectors/cases/server/ and every transport, a probe built on the reference implementation\n"
            "connects to --server, sends what a broken or hostile client would send, and the case judges the\n"
            "server's reaction (what it answered, or that it closed, sent a transport error or kept silent).\n"
            "  --server HOST:PORT    the server under test\n"
            "  --rsa-pub FILE        PEM of its RSA public key (the fingerprint it offers in resPQ)\n"
            "  --secret HEX          its MTProxy secret (obfuscated transports)\n"
            "  --dc N                the DC id to name (p_q_inner_data_dc, the obfuscated init; default 2)\n"
            "  --timing              also run the timing side-channel case (minutes; SHOULD level)\n"
            "  --timing-samples N    samples per class for it (default: the case's)\n\n"
            "  --cmd TEMPLATE        the client under test (see above)\n"
            "  --transports LIST     all (default), plain, obfuscated, or comma-separated names\n"
            "  --cases GLOBS         only cases whose id matches one of these (e.g. 'client.dh.*,client.hs.*')\n"
            "  --tag TAG             only cases with this tag, group or area\n"
            "  --requirement GLOBS   only cases of these catalogue items (e.g. 'C-DH-*,C-HS-9')\n"
            "  --expect FILE         expected failures of this implementation (xfail / xpass)\n"
            "  --strict              SHOULD and RECOMMENDED failures fail the run too\n"
            "  --require-pass        every run must pass: any other verdict (unsupported, INFO failures\n"
            "                        too) fails the run; for a reference implementation\n"
            "  --jobs N              runs in parallel, each with its own mock DC (default 2)\n"
            "  --repeat N            run every case N times (flakiness)\n"
            "  --seed N              seeds the mock DC of every run (with the case, transport and repeat):\n"
            "                        its side of each run replays (default 0; the report names each run's seed)\n"
            "  --timeout S           every case's timeout in seconds (default: the case's own)\n"
            "  --timeout-scale X     multiply every case's timeout (slow machines, sanitizers)\n"
            "  --report-dir DIR      report.json, junit.xml, index.html and runs/ (default reports/check-<side>)\n"
            "  --implementation NAME the name in reports (default: the client's JSON line, else the command)\n"
            "  --cases-dir DIR       case files (default vectors/cases/<side>)\n"
            "  --catalogue FILE      the requirements catalogue (default vectors/cases/requirements.json)\n"
            "  --keep                keep the scratch files of passing runs too\n"
            "  -v, --verbose         print what was observed for every run that did not pass\n\n"
            "exit status: 0 every MUST case passed (and every SHOULD one with --strict; expected failures\n"
            "excepted), 1 a case failed, crashed, hung, or an expected failure passed, 2 bad command line,\n"
            "3 the run could not proceed (bad case files, no cases selected, a harness error in a run)\n");
}

static const char *default_dir(const char *rel, char *buf, size_t cap)
{
    struct stat st;
    if (stat(rel, &st) == 0)
        return rel;
    snprintf(buf, cap, "%s/%s", MTPROBE_SOURCE_DIR, rel);
    return buf;
}

static int parse_transports(const char *s, uint32_t *out)
{
    *out = 0;
    if (strcmp(s, "all") == 0) {
        *out = (1u << CHECK_MAX_TRANSPORTS) - 1;
        return 0;
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "plain") == 0) {
            *out |= 0x0f;
            continue;
        }
        if (strcmp(t, "obfuscated") == 0) {
            *out |= 0x70;
            continue;
        }
        int i = check_transport_index(t);
        if (i < 0)
            return -1;
        *out |= 1u << i;
    }
    return *out ? 0 : -1;
}

static void print_check(void *ctx, const char *name, const char *what)
{
    fprintf(ctx, "%-20s %s\n", name, what);
}

static int validate(char **dirs, int n, const char *catalogue)
{
    char buf[PATH_MAX];
    const char *def[2] = {"vectors/cases/client", "vectors/cases/server"};
    int problems = 0, files = 0;
    size_t cases = 0;
    for (int i = 0; i < (n ? n : 1); i++) {
        const char *dir = n ? dirs[i] : default_dir(def[0], buf, sizeof buf);
        struct stat st;
        if (n == 0 && i == 0) {
            /* Both sides by default, the server side only once it exists. */
            char b2[PATH_MAX];
            const char *sdir = default_dir(def[1], b2, sizeof b2);
            if (stat(sdir, &st) == 0) {
                struct check_suite s;
                int p = check_suite_load(&s, sdir, catalogue, stderr);
                problems += p < 0 ? 1 : p;
                cases += s.n;
                files++;
                check_suite_free(&s);
            }
        }
        struct check_suite s;
        int p = check_suite_load(&s, dir, catalogue, stderr);
        problems += p < 0 ? 1 : p;
        cases += s.n;
        files++;
        check_suite_free(&s);
    }
    if (problems) {
        fprintf(stderr, "mtprobe check --validate: %d problem%s\n", problems, problems == 1 ? "" : "s");
        return MTP_EXIT_FAIL;
    }
    printf("%zu cases valid in %d director%s\n", cases, files, files == 1 ? "y" : "ies");
    return MTP_EXIT_OK;
}

static void print_probe(void *ctx, const char *name, const char *what) { fprintf(ctx, "%-18s %s\n", name, what); }

static int list_cases(const char *dir, const char *catalogue)
{
    struct check_suite s;
    if (check_suite_load(&s, dir, catalogue, stderr) != 0) {
        check_suite_free(&s);
        return MTP_EXIT_ERROR;
    }
    for (size_t i = 0; i < s.n; i++) {
        const struct check_case *c = &s.cases[i];
        printf("%-48s %-10s %-11s %-16s %s\n", c->id, c->requirement, check_level_name(c->level),
               check_expect_name(c->expect), c->title);
    }
    check_suite_free(&s);
    return MTP_EXIT_OK;
}

static int check_main(int argc, char **argv)
{
    const struct mtp_cli_cmd *cmd = &mtp_cli_cmd_check;
    enum { O_CMD = 256, O_TRANSPORTS, O_CASES, O_TAG, O_EXPECT, O_STRICT, O_JOBS, O_REPEAT, O_SEED, O_TIMEOUT,
           O_SCALE, O_REPORT, O_IMPL, O_CASES_DIR, O_CATALOGUE, O_KEEP, O_VALIDATE, O_LIST, O_LIST_CHECKS, O_REQ,
           O_REQUIRE_PASS, O_SERVER, O_RSA_PUB, O_SECRET, O_DC, O_TIMING, O_TIMING_SAMPLES, O_LIST_PROBES };
    static const struct option longopts[] = {
        {"cmd", required_argument, NULL, O_CMD},
        {"transports", required_argument, NULL, O_TRANSPORTS},
        {"cases", required_argument, NULL, O_CASES},
        {"tag", required_argument, NULL, O_TAG},
        {"requirement", required_argument, NULL, O_REQ},
        {"expect", required_argument, NULL, O_EXPECT},
        {"strict", no_argument, NULL, O_STRICT},
        {"require-pass", no_argument, NULL, O_REQUIRE_PASS},
        {"jobs", required_argument, NULL, O_JOBS},
        {"repeat", required_argument, NULL, O_REPEAT},
        {"seed", required_argument, NULL, O_SEED},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"timeout-scale", required_argument, NULL, O_SCALE},
        {"report-dir", required_argument, NULL, O_REPORT},
        {"implementation", required_argument, NULL, O_IMPL},
        {"cases-dir", required_argument, NULL, O_CASES_DIR},
        {"catalogue", required_argument, NULL, O_CATALOGUE},
        {"keep", no_argument, NULL, O_KEEP},
        {"validate", no_argument, NULL, O_VALIDATE},
        {"list", no_argument, NULL, O_LIST},
        {"list-checks", no_argument, NULL, O_LIST_CHECKS},
        {"list-probes", no_argument, NULL, O_LIST_PROBES},
        {"server", required_argument, NULL, O_SERVER},
        {"rsa-pub", required_argument, NULL, O_RSA_PUB},
        {"secret", required_argument, NULL, O_SECRET},
        {"dc", required_argument, NULL, O_DC},
        {"timing", no_argument, NULL, O_TIMING},
        {"timing-samples", required_argument, NULL, O_TIMING_SAMPLES},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct check_options o = {.side = "client", .jobs = 2, .repeat = 1, .timeout_scale = 1.0, .out = stdout,
                              .transports = (1u << CHECK_MAX_TRANSPORTS) - 1, .dc = 2};
    const char *expect_path = NULL, *cases_dir = NULL, *catalogue = NULL;
    double timeout_fixed = 0;
    bool do_validate = false, do_list = false;
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (ch) {
        case O_CMD: o.cmd = optarg; break;
        case O_TRANSPORTS:
            if (parse_transports(optarg, &o.transports) < 0)
                return mtp_cli_usage_error(cmd, "--transports %s: expected all, plain, obfuscated or transport names",
                                           optarg);
            break;
        case O_CASES: o.case_glob = optarg; break;
        case O_TAG: o.tag = optarg; break;
        case O_REQ: o.requirement = optarg; break;
        case O_EXPECT: expect_path = optarg; break;
        case O_STRICT: o.strict = true; break;
        case O_REQUIRE_PASS: o.require_pass = true; break;
        case O_JOBS: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 64)
                return mtp_cli_usage_error(cmd, "--jobs %s: expected 1..64", optarg);
            o.jobs = (unsigned)v;
            break;
        }
        case O_REPEAT: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 1000)
                return mtp_cli_usage_error(cmd, "--repeat %s: expected 1..1000", optarg);
            o.repeat = (unsigned)v;
            break;
        }
        case O_SEED: {
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end || errno || optarg[0] == '-')
                return mtp_cli_usage_error(cmd, "--seed %s: expected a non-negative integer", optarg);
            o.seed = v;
            break;
        }
        case O_TIMEOUT:
            timeout_fixed = strtod(optarg, &end);
            if (*end || !(timeout_fixed > 0 && timeout_fixed <= 600))
                return mtp_cli_usage_error(cmd, "--timeout %s: expected seconds in (0, 600]", optarg);
            break;
        case O_SCALE:
            o.timeout_scale = strtod(optarg, &end);
            if (*end || !(o.timeout_scale > 0 && o.timeout_scale <= 100))
                return mtp_cli_usage_error(cmd, "--timeout-scale %s: expected a factor in (0, 100]", optarg);
            break;
        case O_REPORT: o.report_dir = optarg; break;
        case O_IMPL: o.implementation = optarg; break;
        case O_CASES_DIR: cases_dir = optarg; break;
        case O_CATALOGUE: catalogue = optarg; break;
        case O_KEEP: o.keep_work = true; break;
        case O_VALIDATE: do_validate = true; break;
        case O_LIST: do_list = true; break;
        case O_LIST_CHECKS:
            check_named_list(print_check, stdout);
            check_server_named_list(print_check, stdout);
            return MTP_EXIT_OK;
        case O_LIST_PROBES: probe_list(print_probe, stdout); return MTP_EXIT_OK;
        case O_SERVER: o.server = optarg; break;
        case O_RSA_PUB: o.rsa_pub = optarg; break;
        case O_SECRET: o.secret = optarg; break;
        case O_DC: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < -32768 || v > 32767 || v == 0)
                return mtp_cli_usage_error(cmd, "--dc %s: expected a non-zero DC id", optarg);
            o.dc = (int)v;
            break;
        }
        case O_TIMING: o.timing = true; break;
        case O_TIMING_SAMPLES: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 10 || v > 100000)
                return mtp_cli_usage_error(cmd, "--timing-samples %s: expected 10..100000", optarg);
            o.timing_samples = (unsigned)v;
            o.timing = true;
            break;
        }
        case 'v': o.verbose = true; break;
        case 'h': check_usage(stdout); return MTP_EXIT_OK;
        default:
            if (optopt)
                return mtp_cli_usage_error(cmd, "option needs a value or is unknown: %s", argv[optind - 1]);
            return mtp_cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    char cbuf[PATH_MAX], kbuf[PATH_MAX];
    if (catalogue == NULL)
        catalogue = default_dir("vectors/cases/requirements.json", kbuf, sizeof kbuf);
    if (do_validate)
        return validate(argv + optind, argc - optind, catalogue);
    const char *side = optind < argc ? argv[optind] : NULL;
    if (side && strcmp(side, "client") != 0 && strcmp(side, "server") != 0)
        return mtp_cli_usage_error(cmd, "unknown suite '%s' (client or server)", side);
    bool server = side && strcmp(side, "server") == 0;
    if (cases_dir == NULL)
        cases_dir = default_dir(server ? "vectors/cases/server" : "vectors/cases/client", cbuf, sizeof cbuf);
    if (do_list)
        return list_cases(cases_dir, catalogue);
    if (side == NULL)
        return mtp_cli_usage_error(cmd, "which suite? (mtprobe check client --cmd ...)");
    if (optind + 1 < argc)
        return mtp_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    if (server) {
        o.side = "server";
        o.exec = check_server_execute;
        if (o.cmd)
            return mtp_cli_usage_error(cmd, "--cmd is for check client; check server takes --server HOST:PORT");
        if (o.server == NULL || strrchr(o.server, ':') == NULL)
            return mtp_cli_usage_error(cmd, "--server HOST:PORT is required (the server under test)");
        if (o.rsa_pub == NULL)
            return mtp_cli_usage_error(cmd, "--rsa-pub FILE is required (the server's RSA public key, PEM)");
        if (o.secret) {
            size_t n = strlen(o.secret);
            bool hex = n == 32 || n == 34;
            for (size_t i = 0; i < n; i++)
                hex &= strchr("0123456789abcdefABCDEF", o.secret[i]) != NULL;
            if (!hex)
                return mtp_cli_usage_error(cmd, "--secret %s: expected 16 bytes of hex, or dd + 16 bytes", o.secret);
        }
        if (access(o.rsa_pub, R_OK) != 0) {
            fprintf(stderr, "mtprobe check: cannot read --rsa-pub %s: %s\n", o.rsa_pub, strerror(errno));
            return MTP_EXIT_ERROR;
        }
        if (o.report_dir == NULL)
            o.report_dir = "reports/check-server";
    } else {
        if (o.server || o.rsa_pub || o.secret || o.timing)
            return mtp_cli_usage_error(cmd, "--server, --rsa-pub, --secret and --timing are for check server");
        if (o.cmd == NULL || *o.cmd == '\0')
            return mtp_cli_usage_error(cmd, "--cmd TEMPLATE is required (the client under test)");
        if (o.report_dir == NULL)
            o.report_dir = "reports/check-client";
    }
    static char self[PATH_MAX];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        fprintf(stderr, "mtprobe check: cannot find its own binary: %s\n", strerror(errno));
        return MTP_EXIT_ERROR;
    }
    self[sl] = '\0';
    o.mtprobe = self;
    struct check_suite suite;
    int problems = check_suite_load(&suite, cases_dir, catalogue, stderr);
    if (problems != 0) {
        fprintf(stderr, "mtprobe check: the case files have problems (mtprobe check --validate shows them)\n");
        check_suite_free(&suite);
        return MTP_EXIT_ERROR;
    }
    if (timeout_fixed > 0)
        for (size_t i = 0; i < suite.n; i++)
            suite.cases[i].timeout_s = timeout_fixed;
    struct check_expectations xf = {0};
    if (expect_path) {
        char why[512];
        if (check_expectations_load(&xf, expect_path, why, sizeof why) < 0) {
            fprintf(stderr, "mtprobe check: %s\n", why);
            check_suite_free(&suite);
            return MTP_EXIT_ERROR;
        }
        o.expect = &xf;
        if (o.implementation == NULL)
            o.implementation = xf.implementation;
    }
    struct check_totals t;
    int rc = check_run(&o, &suite, &t);
    check_suite_free(&suite);
    check_expectations_free(&xf);
    if (rc < 0)
        return MTP_EXIT_ERROR;
    if (t.by_verdict[CHECK_ERROR])
        return MTP_EXIT_ERROR;
    if (t.must_failed || (o.strict && t.should_failed))
        return MTP_EXIT_FAIL;
    if (o.require_pass && t.by_verdict[CHECK_PASS] != t.runs)
        return MTP_EXIT_FAIL;
    return MTP_EXIT_OK;
}

const struct mtp_cli_cmd mtp_cli_cmd_check = {
    .name = "check",
    .summary = "judge an MTProto client (against the mock DC) or server (with a probe) requirement by requirement",
    .run = check_main,
    .usage = check_usage,
};
