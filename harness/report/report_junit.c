/* The JUnit XML writer: what any CI shows.  Built from the model's results,
 * so kat, check and merged reports come out the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "report/report_text.h"

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Each value a compact JSON text, strings as they are. */
static char *as_text(const json_t *v)
{
    if (v == NULL)
        return NULL;
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

static void line(struct mtp_text *t, const char *label, const json_t *v)
{
    char *s = as_text(v);
    if (s == NULL)
        return;
    mtp_text_add(t, "%s: ", label);
    mtp_text_add_escaped(t, s);
    mtp_text_add(t, "\n");
    free(s);
}

static const char *verdict_of(const json_t *r)
{
    return mtp_verdict_name(mtp_verdict_parse(str_of(r, "verdict")));
}

static void details(struct mtp_text *t, const json_t *c, const json_t *r, bool several)
{
    const char *verdict = verdict_of(r);
    if (several || str_of(r, "raw_verdict"))
        mtp_text_add(t, "[repeat %lld] %s%s%s%s\n", (long long)json_integer_value(json_object_get(r, "repeat")), verdict,
                     str_of(r, "raw_verdict") ? " (judged " : "", str_of(r, "raw_verdict") ? str_of(r, "raw_verdict") : "",
                     str_of(r, "raw_verdict") ? ")" : "");
    const char *req = str_of(r, "requirement") ? str_of(r, "requirement") : str_of(c, "requirement");
    const char *level = str_of(r, "level") ? str_of(r, "level") : str_of(c, "level");
    if (req) {
        mtp_text_add(t, "requirement: ");
        mtp_text_add_escaped(t, req);
        if (level) {
            mtp_text_add(t, " (");
            mtp_text_add_escaped(t, level);
            mtp_text_add(t, ")");
        }
        mtp_text_add(t, "\n");
    }
    line(t, "spec", json_object_get(json_object_get(c, "spec"), "url"));
    if (str_of(r, "message"))
        line(t, "message", json_object_get(r, "message"));
    line(t, "request", json_object_get(r, "request"));
    line(t, "expected", json_object_get(r, "expected"));
    line(t, "observed", json_object_get(r, "observed"));
    json_t *x = json_object_get(r, "expectation");
    if (x) {
        line(t, "expected to fail because", json_object_get(x, "reason"));
        line(t, "see", json_object_get(x, "ref"));
    }
}

/* The one-line summary of a result, for the message attribute. */
static char *headline(const json_t *c, const json_t *r)
{
    const char *obs = str_of(r, "message") ? str_of(r, "message") : str_of(r, "observed");
    const char *req = str_of(r, "requirement") ? str_of(r, "requirement") : str_of(c, "requirement");
    const char *level = str_of(r, "level") ? str_of(r, "level") : str_of(c, "level");
    char buf[1024];
    if (req)
        snprintf(buf, sizeof buf, "%s [%s %s] %.900s", verdict_of(r), req, level ? level : "", obs ? obs : "");
    else
        snprintf(buf, sizeof buf, "%.900s", obs ? obs : verdict_of(r));
    return strdup(buf);
}

struct tsuite {
    char *name, *classname;
    json_t *cases; /* case id -> [result, ...] in first-seen order */
};

static json_t *case_index(const json_t *report)
{
    json_t *idx = json_object();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(report, "cases"), i, c)
    {
        if (str_of(c, "id") && json_object_get(idx, str_of(c, "id")) == NULL)
            json_object_set(idx, str_of(c, "id"), c);
    }
    return idx;
}

static void suite_free(struct tsuite *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].name);
        free(s[i].classname);
        json_decref(s[i].cases);
    }
    free(s);
}

int mtp_report_write_junit(const json_t *report, const char *path, char *why, size_t why_len)
{
    json_t *cidx = case_index(report);
    json_t *results = json_object_get(report, "results");
    const char *kind = str_of(report, "kind") ? str_of(report, "kind") : "mtprobe";
    size_t nres = json_array_size(results), ns = 0;
    struct tsuite *suites = calloc(nres ? nres : 1, sizeof *suites);
    json_t *by_key = json_object(); /* suite key -> index */
    size_t i;
    json_t *r;
    int failed = suites == NULL || cidx == NULL || by_key == NULL;
    json_array_foreach(results, i, r)
    {
        if (failed)
            break;
        const char *run = str_of(r, "run") ? str_of(r, "run") : "run";
        const char *cid = str_of(r, "case") ? str_of(r, "case") : "?";
        const json_t *c = json_object_get(cidx, cid);
        const char *part = str_of(r, "transport");
        if (part == NULL)
            part = str_of(c, "group") ? str_of(c, "group") : (str_of(c, "area") ? str_of(c, "area") : "all");
        char key[1024];
        snprintf(key, sizeof key, "%s\x1f%s", run, part);
        json_t *k = json_object_get(by_key, key);
        size_t si;
        if (k == NULL) {
            si = ns++;
            json_object_set_new(by_key, key, json_integer((json_int_t)si));
            char name[1024], cls[1024];
            snprintf(name, sizeof name, "%s %s", run, part);
            snprintf(cls, sizeof cls, "%s.%s.%s", kind, run, part);
            suites[si].name = strdup(name);
            suites[si].classname = strdup(cls);
            suites[si].cases = json_object();
            failed |= suites[si].name == NULL || suites[si].classname == NULL || suites[si].cases == NULL;
        } else {
            si = (size_t)json_integer_value(k);
        }
        if (failed)
            break;
        json_t *list = json_object_get(suites[si].cases, cid);
        if (list == NULL) {
            list = json_array();
            json_object_set_new(suites[si].cases, cid, list);
        }
        json_array_append(list, r);
    }
    json_decref(by_key);
    if (failed) {
        json_decref(cidx);
        if (suites)
            suite_free(suites, ns);
        snprintf(why, why_len, "out of memory building the JUnit report");
        return -1;
    }

    struct mtp_text t = {0}, body = {0};
    size_t total = 0, nfail = 0, nerr = 0, nskip = 0;
    double total_s = 0;
    for (size_t s = 0; s < ns; s++) {
        size_t sf = 0, se = 0, sk = 0;
        double ss = 0;
        const char *cid;
        json_t *list;
        json_object_foreach(suites[s].cases, cid, list)
        {
            enum mtp_verdict worst = MTP_V_PASS;
            double secs = 0;
            size_t j;
            json_t *rr;
            json_array_foreach(list, j, rr)
            {
                enum mtp_verdict v = mtp_verdict_parse(str_of(rr, "verdict"));
                worst = v > worst ? v : worst;
                secs += json_number_value(json_object_get(rr, "duration_ms")) / 1000.0;
            }
            ss += secs;
            const json_t *c = json_object_get(cidx, cid);
            mtp_text_add(&body, "    <testcase classname=\"");
            mtp_text_add_escaped(&body, suites[s].classname);
            mtp_text_add(&body, "\" name=\"");
            mtp_text_add_escaped(&body, cid);
            mtp_text_add(&body, "\" time=\"%.3f\"", secs);
            if (worst == MTP_V_PASS || worst == MTP_V_ACCEPTABLE) {
                mtp_text_add(&body, "/>\n");
                continue;
            }
            mtp_text_add(&body, ">\n");
            /* The first result with the worst verdict speaks for the case. */
            const json_t *lead = NULL;
            json_array_foreach(list, j, rr)
            {
                if (lead == NULL && mtp_verdict_parse(str_of(rr, "verdict")) == worst)
                    lead = rr;
            }
            if (worst == MTP_V_WRONG_ERROR) {
                /* Not a failure (only --strict makes it one, and then the verdict is fail), but CI
                 * logs should still show both error names. */
                mtp_text_add(&body, "      <system-out>wrong-error: ");
                mtp_text_add_escaped(&body, str_of(lead, "message") ? str_of(lead, "message") : "");
                mtp_text_add(&body, "</system-out>\n    </testcase>\n");
                continue;
            }
            char *msg = headline(c, lead);
            if (worst == MTP_V_XFAIL || worst == MTP_V_UNSUPPORTED) {
                sk++;
                mtp_text_add(&body, "      <skipped message=\"");
                if (worst == MTP_V_XFAIL) {
                    const json_t *x = json_object_get(lead, "expectation");
                    mtp_text_add(&body, "expected failure: ");
                    mtp_text_add_escaped(&body, str_of(x, "reason") ? str_of(x, "reason") : "");
                } else {
                    mtp_text_add(&body, "unsupported by the implementation: ");
                    mtp_text_add_escaped(&body, msg);
                }
                mtp_text_add(&body, "\"/>\n");
            } else {
                const char *elem = worst == MTP_V_ERROR ? "error" : "failure";
                if (worst == MTP_V_ERROR)
                    se++;
                else
                    sf++;
                mtp_text_add(&body, "      <%s message=\"", elem);
                mtp_text_add_escaped(&body, msg);
                mtp_text_add(&body, "\" type=\"%s\">", mtp_verdict_name(worst));
                bool several = json_array_size(list) > 1;
                json_array_foreach(list, j, rr)
                {
                    if (several || rr == lead)
                        details(&body, c, rr, several);
                }
                mtp_text_add(&body, "</%s>\n", elem);
            }
            free(msg);
            mtp_text_add(&body, "    </testcase>\n");
        }
        size_t n = json_object_size(suites[s].cases);
        mtp_text_add(&t, "  <testsuite name=\"");
        mtp_text_add_escaped(&t, suites[s].name);
        mtp_text_add(&t, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n", n, sf, se,
                     sk, ss);
        if (body.p)
            mtp_text_put(&t, body.p, body.len);
        body.len = 0;
        mtp_text_add(&t, "  </testsuite>\n");
        total += n;
        nfail += sf;
        nerr += se;
        nskip += sk;
        total_s += ss;
    }
    free(body.p);
    failed = t.failed || body.failed;
    struct mtp_text head = {0};
    mtp_text_add(&head, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mtprobe ");
    mtp_text_add_escaped(&head, str_of(report, "command") ? str_of(report, "command") : kind);
    mtp_text_add(&head, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n", total, nfail,
                 nerr, nskip, total_s);
    if (t.p)
        mtp_text_put(&head, t.p, t.len);
    mtp_text_add(&head, "</testsuites>\n");
    free(t.p);
    suite_free(suites, ns);
    json_decref(cidx);
    if (failed || head.failed) {
        free(head.p);
        snprintf(why, why_len, "out of memory building the JUnit report");
        return -1;
    }
    int rc = mtp_report_write_file(path, head.p, head.len, why, why_len);
    free(head.p);
    return rc;
}
