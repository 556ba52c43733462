/* Target functions: mtp_tl_decode -> mtp_tl_encode, and mtp_tl_json_from_value -> mtp_tl_json_encode
 * Input: one byte of options, then a message body, decoded with the API + MTProto schemas.
 * Oracle (traps): bytes -> tree -> bytes is exact; in strict mode JSON -> bytes -> JSON is exact. */
#include "fuzz_tl_decode_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mtp_tl_schema *schema;
static const char *const types[] = {"Object", "Vector<long>", "MessageContainer", "Updates"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return fuzz_load("api", &schema);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decode_one(schema, types, sizeof types / sizeof types[0], data, size, true);
    return 0;
}
