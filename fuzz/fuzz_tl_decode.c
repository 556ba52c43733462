/* Target functions: mtp_tl_decode, mtp_tl_encode, mtp_tl_text, mtp_tl_json_from_value (MTProto schema)
 * Input: one byte of options (bit 0 strict, bit 1 allow trailing, bits 2-4 a type, bits 5-6 text
 * options), then a message body. */
#include "fuzz_tl_decode_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loaded once; read-only afterwards, so every input sees the same state. */
static struct mtp_tl_schema *schema;
static const char *const types[] = {"Object", "ResPQ", "Server_DH_Params", "%Message", "Vector<long>",
                                    "MessageContainer", "Set_client_DH_params_answer"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return fuzz_load("mtproto", &schema);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decode_one(schema, types, sizeof types / sizeof types[0], data, size, false);
    return 0;
}
