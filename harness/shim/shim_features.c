/* What the shim protocol added after its first version, by name: a shim
 * announces the ones it has in its hello answer, and the KAT judge neither
 * sends a shim a vector that needs one it lacks nor fails it for leaving out
 * an answer field one of them adds (docs/shim.md, "Versions and features"). */
#include <string.h>

#include "shim/shim.h"

const struct mtp_shim_feature mtp_shim_features[] = {
    {"sender", 2, NULL, {NULL},
     "transport_encode and transport_decode take sender \"server\": a server's stream, without the tag, whose "
     "MSB-set headers are quick-ack tokens"},
    {"quick_ack", 2, "transport_decode", {"quick_ack", "acks", NULL},
     "transport_encode takes quick_ack and ack; transport_decode answers quick_ack and acks"},
    {"padding", 2, NULL, {NULL},
     "transport_encode takes padding (padded intermediate: the padding bytes; none when absent), so its frames are "
     "known answers"},
    {"next_plain", 2, "obfuscated_init", {"next_wire", NULL},
     "obfuscated_init takes next_plain and answers next_wire (the AES-CTR counter carrying on)"},
    {"fake_tls_secret", 2, NULL, {NULL},
     "obfuscated_init and transport_detect take 0xee secrets (0xee, 16 bytes, then the domain to imitate)"},
    {NULL, 0, NULL, {NULL}, NULL},
};

const struct mtp_shim_feature *mtp_shim_feature_find(const char *name)
{
    for (const struct mtp_shim_feature *f = mtp_shim_features; name && f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

const struct mtp_shim_feature *mtp_shim_feature_of_field(const char *op, const char *field)
{
    for (const struct mtp_shim_feature *f = mtp_shim_features; op && field && f->name; f++) {
        if (f->op == NULL || strcmp(f->op, op) != 0)
            continue;
        for (size_t i = 0; f->fields[i]; i++)
            if (strcmp(f->fields[i], field) == 0)
                return f;
    }
    return NULL;
}
