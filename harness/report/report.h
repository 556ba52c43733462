/* Run reports: one model for every producer (mtprobe kat, check client,
 * check server, fuzz campaigns), written three ways: report.json (the model
 * itself, JSON Schema in docs/report.schema.json, described in
 * docs/reports.md), JUnit XML, and a self-contained HTML matrix.
 *
 * The model in one breath:
 *
 *   {"report_format": "mtprobe-report/1", "tool", "version", "kind", "command",
 *    "implementation", "implementation_version", "started", "duration_s",
 *    "runs":    [{"id", "implementation", "implementation_version", "kind", "command",
 *                 "started", "duration_s", "transports", "summary", ...}],
 *    "areas":   [{"id", "title"}],                 row groups, in order
 *    "cases":   [{"id", "title", "area", "group", "requirement", "level", "spec", ...}],
 *    "results": [{"case", "run", "transport", "repeat", "verdict", "expected",
 *                 "observed", "duration_ms", "wire", ...}],
 *    "summary": {"total", "<verdict>": n ..., "must_failed", "should_failed"}}
 *
 * A producer fills the top-level fields, cases and results, then calls
 * mtp_report_finish(), which adds what can be derived (runs[0], each
 * result's run, the verdict counts) so every writer sees the same shape. */
#ifndef MTP_REPORT_H
#define MTP_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define MTP_REPORT_FORMAT "mtprobe-report/1"

/* Verdicts, mildest first: the order is the severity used when repeats of one
 * case are folded into one cell or one JUnit testcase. */
enum mtp_verdict {
    MTP_V_PASS = 0,
    MTP_V_ACCEPTABLE, /* kat: an "acceptable" vector took one of the allowed paths */
    MTP_V_WRONG_ERROR, /* kat: rejected as the vector wants, but naming another error; fails only under --strict */
    MTP_V_XFAIL,      /* failed, as the implementation's expectations file says it does */
    MTP_V_UNSUPPORTED,
    MTP_V_ERROR,      /* the harness failed; never counted against the implementation */
    MTP_V_XPASS,      /* passed although expected to fail: the expectations file is stale */
    MTP_V_FAIL,
    MTP_V_HANG,
    MTP_V_CRASH,
    MTP_V_COUNT
};
const char *mtp_verdict_name(enum mtp_verdict v);
/* MTP_V_ERROR for NULL or an unknown name, so a broken result is never a pass. */
enum mtp_verdict mtp_verdict_parse(const char *name);
/* fail, hang, crash and xpass: the verdicts that fail a run. */
bool mtp_verdict_bad(enum mtp_verdict v);

/* A new report with report_format, tool, version, kind (the command with
 * spaces as dashes: "kat", "check-client"), command, implementation, start
 * time, an empty summary, and empty cases, results and areas. */
json_t *mtp_report_new(const char *command, const char *implementation);

/* Derives what the model wants from what a producer wrote: runs (one run from
 * the top-level fields when there is none), each result's "run", the
 * summary's verdict counts, must_failed and should_failed (keys the producer
 * put in the summary are kept), and each run's own summary.  Reports written
 * before the model existed (no runs, no report_format) come out in the model
 * too.  Returns 0, or -1 with why[] set when the report is not one. */
int mtp_report_finish(json_t *report, char *why, size_t why_len);

/* A short label for a run's column: the implementation name when it is one,
 * else the program of a command ("/usr/bin/python3 x/telethon_adapter.py --a"
 * gives "telethon").  Returns a new string. */
char *mtp_report_run_label(const char *implementation);

/* Loads a report from a file, or from a run directory holding report.json or
 * kat.json, and finishes it.  NULL with why[] set on failure. */
json_t *mtp_report_load(const char *path, char *why, size_t why_len);

/* Combines reports of several runs (of one kind) into one matrix: runs
 * appended (labels[i], when not NULL, names the runs of reports[i]; ids are
 * made unique), cases and areas united by id in first-seen order, results
 * concatenated, summary recounted.  NULL with why[] set on failure. */
json_t *mtp_report_merge(json_t *const *reports, const char *const *labels, size_t n, char *why, size_t why_len);

/* Writes report as JSON to path (atomically: a temporary file renamed into place). */
int mtp_report_write_json(const json_t *report, const char *path, char *why, size_t why_len);

/* Writes report as JUnit XML: one <testsuite> per run x transport (runs
 * without transports: per run x case group, e.g. per vector file), one
 * <testcase> per case id (repeats folded, the worst verdict wins).
 * fail/crash/hang/xpass -> <failure>, error -> <error>, unsupported/xfail ->
 * <skipped>; the text is the requirement, expected and observed.  A
 * wrong-error testcase passes, with the judge's line (both error names) in
 * its <system-out>. */
int mtp_report_write_junit(const json_t *report, const char *path, char *why, size_t why_len);

/* The HTML report: one self-contained file (inline CSS and JS, no network).
 * Each result's details (expected/observed, client, wire log ...) are stored
 * as a separate blob (gzip + base64 when that is shorter), decoded only when its cell is
 * opened, so large reports open fast. */
struct mtp_report_html_options {
    bool plain_blobs;      /* blobs as JSON text instead of gzip + base64 (for debugging) */
    size_t body_hex_cap;   /* wire messages whose body hex is longer lose it in the page (0: keep all) */
};
int mtp_report_write_html(const json_t *report, const char *path, const struct mtp_report_html_options *o, char *why,
                          size_t why_len);

/* Creates dir if needed and writes the three files: with stem NULL
 * report.json, junit.xml and index.html; else <stem>.json, <stem>.junit.xml
 * and <stem>.html.  Returns 0 or -1 with why[] set. */
int mtp_report_write_all(const json_t *report, const char *dir, const char *stem, char *why, size_t why_len);

/* mkdir -p: creates dir and its missing parents.  0, or -1 with errno set. */
int mtp_report_mkdirs(const char *dir);
/* Escapes text for XML attribute/element content into a new string. */
char *mtp_report_xml_escape(const char *s);
/* Writes n bytes to path through a temporary file renamed into place. */
int mtp_report_write_file(const char *path, const char *data, size_t n, char *why, size_t why_len);

#endif
