/* Sorting a received frame into what it carries (mtp/transport.h). */
#include <string.h>

#include "mtp/transport.h"

const char *mtp_tr_packet_kind_name(enum mtp_tr_packet_kind kind)
{
    switch (kind) {
    case MTP_TR_PKT_QUICK_ACK:
        return "quick_ack";
    case MTP_TR_PKT_TRANSPORT_ERROR:
        return "transport_error";
    case MTP_TR_PKT_PLAIN:
        return "plain";
    case MTP_TR_PKT_ENCRYPTED:
        return "encrypted";
    }
    return "unknown";
}

int mtp_tr_sort_packet(enum mtp_tr_kind kind, enum mtp_tr_side from, const struct mtp_tr_frame *f,
                       struct mtp_tr_packet *out, struct mtp_error *err)
{
    memset(out, 0, sizeof *out);
    out->quick_ack = from == MTP_TR_CLIENT && f->quick_ack;
    if (from == MTP_TR_SERVER && f->is_ack) {
        out->kind = MTP_TR_PKT_QUICK_ACK;
        out->ack_token = f->ack_token;
        out->data = f->data;
        return MTP_OK;
    }
    size_t len = f->len;
    if (kind == MTP_TR_PADDED)
        MTP_GUARD(mtp_tr_padded_payload_len(f->data, f->len, &len, err));
    out->data = f->data;
    out->len = len;
    out->padding = f->len - len;
    /* A client's 4-byte frame is no transport error: only servers send those. */
    if (from == MTP_TR_SERVER && mtp_tr_error_frame(f->data, len, &out->error_code)) {
        out->kind = MTP_TR_PKT_TRANSPORT_ERROR;
        return MTP_OK;
    }
    struct mtp_rd r;
    mtp_rd_init(&r, f->data, len, NULL);
    if (mtp_rd_u64(&r, &out->auth_key_id, "auth_key_id") != MTP_OK)
        return mtp_error_set(err, MTP_ERR_TR_SHORT_PACKET, 0, "a %zu-byte packet has no auth_key_id", len);
    out->kind = out->auth_key_id == 0 ? MTP_TR_PKT_PLAIN : MTP_TR_PKT_ENCRYPTED;
    return MTP_OK;
}
