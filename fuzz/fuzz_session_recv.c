/* Target functions: mtp_session_recv (server core) and everything it reaches:
 * mtp_msg_parse, mtp_container_open/next, mtp_svc_parse, mtp_gzip_packed_read,
 * the bad-message table, and mtp_session_flush for the answers.
 * Input: see fuzz/fuzz_session_common.h (configuration byte, then records of
 * decrypted client messages; msg_key is bypassed).  The server answers every
 * query, so rpc_result, acks and notifications are produced and checked too. */
#include <stdlib.h>

#include "fuzz_session_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct fz *f = malloc(sizeof *f); /* fresh state for every input */
    if (f == NULL)
        return 0;
    fz_server_init(f, data[0]);
    fz_run(f, data + 1, size - 1);
    mtp_session_free(&f->s);
    free(f);
    return 0;
}
