/* Run reports.  Every runner (kat, and later the conformance runner) builds
 * one JSON model and hands it here to be written as JSON and JUnit XML, so
 * every report says the same things the same way:
 *
 *   {"tool": "mtprobe", "version", "command", "implementation", "started",
 *    "duration_s", "summary": {"total", "passed", "failed", "unsupported", ...},
 *    "suites": [{"name", "title", "source", "spec": [...], "requirements": [...],
 *                "cases": [{"id", "name", "status", "message", "spec",
 *                           "requirements", "request", "expected", "observed"}]}]}
 *
 * status is one of "pass", "acceptable", "unsupported", "fail", "error". */
#ifndef MTP_REPORT_H
#define MTP_REPORT_H

#include <jansson.h>
#include <stddef.h>

/* A new report object with tool, version, command and start time filled in. */
json_t *mtp_report_new(const char *command, const char *implementation);
/* Writes report as JSON to path (atomically: a temporary file renamed into place). */
int mtp_report_write_json(const json_t *report, const char *path, char *why, size_t why_len);
/* Writes report as JUnit XML to path: one <testsuite> per suite, one <testcase>
 * per case; fail/error -> <failure>, unsupported -> <skipped>. */
int mtp_report_write_junit(const json_t *report, const char *path, char *why, size_t why_len);
/* Creates dir if needed and writes <dir>/<stem>.json and <dir>/<stem>.junit.xml.
 * Returns 0 or -1 with why[] set. */
int mtp_report_write_all(const json_t *report, const char *dir, const char *stem, char *why, size_t why_len);
/* mkdir -p: creates dir and its missing parents.  0, or -1 with errno set. */
int mtp_report_mkdirs(const char *dir);
/* Escapes text for XML attribute/element content into a new string. */
char *mtp_report_xml_escape(const char *s);

#endif
