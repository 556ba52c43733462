/* What an implementation announced in its hello answer: its shim protocol
 * version and the features it has beyond it.  An implementation without a
 * hello is one of version 1, which the first docs/shim.md described. */
#include <string.h>

#include "kat/kat.h"
#include "shim/shim.h"

void kat_caps_from_hello(struct kat_caps *c, const json_t *hello)
{
    memset(c, 0, sizeof *c);
    c->protocol = 1;
    if (!json_is_true(json_object_get(hello, "ok")))
        return;
    c->hello = json_incref((json_t *)hello);
    json_t *p = json_object_get(hello, "protocol");
    if (json_is_integer(p) && json_integer_value(p) > 1 && json_integer_value(p) < 1000)
        c->protocol = (int)json_integer_value(p);
    json_t *f = json_object_get(hello, "features");
    if (json_is_array(f))
        c->features = json_incref(f);
}

void kat_caps_clear(struct kat_caps *c)
{
    json_decref(c->features);
    json_decref(c->hello);
    memset(c, 0, sizeof *c);
}

bool kat_caps_has(const struct kat_caps *c, const char *feature)
{
    if (c == NULL)
        return true;
    const struct mtp_shim_feature *f = mtp_shim_feature_find(feature);
    if (f && c->protocol >= f->since)
        return true;
    size_t i;
    json_t *v;
    json_array_foreach(c->features, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), feature) == 0)
            return true;
    }
    return false;
}
