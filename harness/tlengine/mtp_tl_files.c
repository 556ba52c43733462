/* Bundled schema lookup: names to files under vectors/schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlengine/tl_files.h"

const char *mtp_tl_schema_dir(char *buf, size_t cap)
{
    const char *dir = getenv("MTPROBE_SCHEMA_DIR");
    if (dir && *dir) {
        snprintf(buf, cap, "%s", dir);
        return buf;
    }
    const char *src = getenv("MTPROBE_SOURCE_DIR");
    if (src == NULL || *src == '\0')
        src = MTPROBE_SOURCE_DIR;
    snprintf(buf, cap, "%s/vectors/schema", src);
    return buf;
}

static int add_bundled(struct mtp_tl_schema *s, const char *file, struct mtp_error *err)
{
    char dir[3072], path[4096];
    snprintf(path, sizeof path, "%s/%s", mtp_tl_schema_dir(dir, sizeof dir), file);
    return mtp_tl_schema_add_file(s, path, 0, err);
}

int mtp_tl_schema_add_named(struct mtp_tl_schema *s, const char *name, struct mtp_error *err)
{
    if (strcmp(name, "mtproto") == 0)
        return add_bundled(s, "mtproto.tl", err);
    if (strcmp(name, "api") == 0) {
        MTP_GUARD(add_bundled(s, "api.tl", err));
        return add_bundled(s, "mtproto.tl", err);
    }
    return mtp_tl_schema_add_file(s, name, 0, err);
}

int mtp_tl_schema_load(const char *const *names, size_t n, struct mtp_tl_schema **out, struct mtp_error *err)
{
    static const char *const fallback[] = {"mtproto"};
    if (n == 0) {
        names = fallback;
        n = 1;
    }
    struct mtp_tl_schema *s = mtp_tl_schema_new();
    if (s == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "out of memory loading schemas");
    int rc = MTP_OK;
    for (size_t i = 0; i < n && rc == MTP_OK; i++)
        rc = mtp_tl_schema_add_named(s, names[i], err);
    if (rc == MTP_OK)
        rc = mtp_tl_schema_link(s, err);
    if (rc < 0) {
        mtp_tl_schema_free(s);
        return rc;
    }
    *out = s;
    return MTP_OK;
}
