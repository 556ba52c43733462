/* Target functions: mtp_session_recv (client core) and everything it reaches:
 * answers (rpc_result incl. gzip_packed and rpc_error, pong, future_salts,
 * msgs_state_info, destroy_session results), notifications with their
 * resends and time correction, new_session_created, containers, and
 * mtp_session_flush for acks and resends.
 * Input: see fuzz/fuzz_session_common.h (configuration byte, then records of
 * decrypted server messages; msg_key is bypassed).  The client starts with one
 * request of every kind in flight, with deterministic msg_ids. */
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
    fz_client_init(f, data[0]);
    fz_drain(f, NULL, NULL);
    fz_run(f, data + 1, size - 1);
    mtp_session_free(&f->s);
    free(f);
    return 0;
}
