/* Merging the reports of several runs (implementations) into one matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Appends the items of src whose "id" (or "name") is not yet in dst. */
static void unite(json_t *dst, json_t *seen, const json_t *src, const char *idkey)
{
    size_t i;
    json_t *item;
    json_array_foreach(src, i, item)
    {
        const char *id = str_of(item, idkey);
        if (id == NULL || json_object_get(seen, id))
            continue;
        json_object_set_new(seen, id, json_true());
        json_array_append(dst, item);
    }
}

static char *unique_id(json_t *taken, const char *want)
{
    char buf[600];
    snprintf(buf, sizeof buf, "%.500s", want && *want ? want : "run");
    for (int k = 2; json_object_get(taken, buf); k++)
        snprintf(buf, sizeof buf, "%.500s (%d)", want && *want ? want : "run", k);
    json_object_set_new(taken, buf, json_true());
    return strdup(buf);
}

json_t *mtp_report_merge(json_t *const *reports, const char *const *labels, size_t n, char *why, size_t why_len)
{
    if (n == 0) {
        snprintf(why, why_len, "nothing to merge");
        return NULL;
    }
    const char *kind = str_of(reports[0], "kind");
    for (size_t i = 1; i < n; i++) {
        const char *k = str_of(reports[i], "kind");
        if (kind == NULL || k == NULL || strcmp(kind, k) != 0) {
            snprintf(why, why_len, "cannot merge reports of different kinds (%s and %s)", kind ? kind : "?",
                     k ? k : "?");
            return NULL;
        }
    }
    json_t *out = mtp_report_new("report merge", "");
    json_object_set_new(out, "kind", json_string(kind));
    json_t *runs = json_array(), *taken = json_object(), *seen_cases = json_object(), *seen_areas = json_object(),
           *seen_suites = json_object(), *suites = json_array();
    json_t *cases = json_object_get(out, "cases"), *areas = json_object_get(out, "areas"),
           *results = json_object_get(out, "results");
    char impl[2048] = "";
    double duration = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *r = reports[i];
        json_t *rename = json_object(); /* old run id -> new */
        size_t k;
        json_t *run;
        json_t *rruns = json_object_get(r, "runs");
        json_array_foreach(rruns, k, run)
        {
            char want[512];
            const char *old = str_of(run, "id") ? str_of(run, "id") : "run";
            if (labels && labels[i] && json_array_size(rruns) == 1)
                snprintf(want, sizeof want, "%s", labels[i]);
            else if (labels && labels[i])
                snprintf(want, sizeof want, "%s/%s", labels[i], old);
            else
                snprintf(want, sizeof want, "%s", old);
            char *id = unique_id(taken, want);
            json_t *copy = json_deep_copy(run); /* finishing recounts its summary: not the input's */
            json_object_set_new(copy, "id", json_string(id));
            json_array_append_new(runs, copy);
            json_object_set_new(rename, old, json_string(id));
            const char *ri = str_of(run, "implementation");
            size_t il = strlen(impl);
            snprintf(impl + il, sizeof impl - il, "%s%s", il ? ", " : "", ri ? ri : id);
            duration += json_number_value(json_object_get(run, "duration_s"));
            free(id);
        }
        json_t *res;
        json_array_foreach(json_object_get(r, "results"), k, res)
        {
            json_t *copy = json_copy(res);
            json_t *to = json_object_get(rename, str_of(res, "run") ? str_of(res, "run") : "");
            if (to)
                json_object_set(copy, "run", to);
            json_array_append_new(results, copy);
        }
        json_decref(rename);
        unite(cases, seen_cases, json_object_get(r, "cases"), "id");
        unite(areas, seen_areas, json_object_get(r, "areas"), "id");
        unite(suites, seen_suites, json_object_get(r, "suites"), "name");
    }
    json_object_set_new(out, "runs", runs);
    json_object_set_new(out, "implementation", json_string(impl));
    json_object_set_new(out, "duration_s", json_real(duration));
    if (json_array_size(suites))
        json_object_set_new(out, "suites", suites);
    else
        json_decref(suites);
    json_object_set_new(out, "options", json_pack("{s:i}", "inputs", (int)n));
    json_decref(taken);
    json_decref(seen_cases);
    json_decref(seen_areas);
    json_decref(seen_suites);
    if (mtp_report_finish(out, why, why_len) != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}
