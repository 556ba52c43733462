#include "mtps_pair.h"

#include <stdlib.h>
#include <string.h>

int mtps_pair_pump(struct mtps_conn *conn, struct mtps_client *cl, struct mtp_error *err)
{
    for (;;) {
        bool moved = false;
        if (cl->out.len > 0 && mtps_conn_state(conn) == MTPS_CONN_OPEN) {
            /* The connection decrypts in place: hand it a copy, as a socket would. */
            size_t n = cl->out.len;
            uint8_t *copy = malloc(n);
            if (copy == NULL)
                return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "pair: out of memory");
            memcpy(copy, cl->out.p, n);
            mtp_wr_reset(&cl->out);
            mtps_conn_feed(conn, copy, n);
            free(copy);
            moved = true;
        } else if (cl->out.len > 0) {
            mtp_wr_reset(&cl->out); /* nobody reads any more */
        }
        size_t n;
        const uint8_t *p = mtps_conn_output(conn, &n);
        if (n > 0) {
            uint8_t *copy = malloc(n);
            if (copy == NULL)
                return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "pair: out of memory");
            memcpy(copy, p, n);
            mtps_conn_sent(conn, 0);
            int rc = mtps_client_feed(cl, copy, n, err);
            free(copy);
            if (rc < 0)
                return rc;
            moved = true;
        }
        if (!moved)
            return MTP_OK;
    }
}
