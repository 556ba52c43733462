/* Target functions: mtpc_text_trace (unencrypted bodies and decrypted inner
 * messages from a server, rendered for `mtprobe client -v`), mtpc_call_answer_json
 * (an answer decoded as the call's result type, or as whatever it is), and
 * mtpc_schema_layer (the LAYER comment of a schema file).
 * Input: byte 0 picks the function (0 plain body, 1 inner message, 2 answer,
 * 3 schema text) and the byte-string limit of the text (bits 2-7); the rest
 * is the input.
 * Oracles: the text fits its bounded writer or the writer reports the
 * overflow; an answer that decodes has JSON; a layer is never negative. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/mtpc_call.h"
#include "client/mtpc_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Enough of the MTProto schema (core.telegram.org/schema/mtproto) and of the
 * API schema (help.getNearestDc, layer 198 as in vectors/schema/api.tl) for
 * the renderer and the answer decoder, so the target needs no files. */
static const char SCHEMA[] =
    "int ? = Int;\nlong ? = Long;\ndouble ? = Double;\nstring ? = String;\n"
    "vector {t:Type} # [ t ] = Vector t;\n"
    "int128 4*[ int ] = Int128;\nint256 8*[ int ] = Int256;\n"
    "boolFalse#bc799737 = Bool;\nboolTrue#997275b5 = Bool;\n"
    "resPQ#05162463 nonce:int128 server_nonce:int128 pq:bytes server_public_key_fingerprints:Vector<long> = ResPQ;\n"
    "server_DH_params_fail#79cb045d nonce:int128 server_nonce:int128 new_nonce_hash:int128 = Server_DH_Params;\n"
    "server_DH_params_ok#d0e8075c nonce:int128 server_nonce:int128 encrypted_answer:bytes = Server_DH_Params;\n"
    "dh_gen_ok#3bcbf734 nonce:int128 server_nonce:int128 new_nonce_hash1:int128 = Set_client_DH_params_answer;\n"
    "rpc_result#f35c6d01 req_msg_id:long result:Object = RpcResult;\n"
    "rpc_error#2144ca19 error_code:int error_message:string = RpcError;\n"
    "future_salt#0949d9dc valid_since:int valid_until:int salt:long = FutureSalt;\n"
    "future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt> = FutureSalts;\n"
    "pong#347773c5 msg_id:long ping_id:long = Pong;\n"
    "new_session_created#9ec20908 first_msg_id:long unique_id:long server_salt:long = NewSession;\n"
    "msg_container#73f1f8dc messages:vector<message> = MessageContainer;\n"
    "message msg_id:long seqno:int bytes:int body:Object = Message;\n"
    "gzip_packed#3072cfa1 packed_data:bytes = Object;\n"
    "msgs_ack#62d6b459 msg_ids:Vector<long> = MsgsAck;\n"
    "bad_msg_notification#a7eff811 bad_msg_id:long bad_msg_seqno:int error_code:int = BadMsgNotification;\n"
    "bad_server_salt#edab447b bad_msg_id:long bad_msg_seqno:int error_code:int new_server_salt:long = "
    "BadMsgNotification;\n"
    "nearestDc#8e1a1775 country:string this_dc:int nearest_dc:int = NearestDc;\n"
    "---functions---\n"
    "req_pq_multi#be7e8ef1 nonce:int128 = ResPQ;\n"
    "ping#7abe77ec ping_id:long = Pong;\n"
    "invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;\n"
    "help.getNearestDc#1fb33026 = NearestDc;\n";

static struct mtp_tl_schema *schema;
static struct mtpc_call call;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct mtp_error err;
    mtp_error_clear(&err);
    schema = mtp_tl_schema_new();
    if (schema == NULL || mtp_tl_schema_add_text(schema, SCHEMA, sizeof SCHEMA - 1, "fuzz.tl", 0, &err) < 0 ||
        mtp_tl_schema_link(schema, &err) < 0)
        __builtin_trap();
    struct mtpc_call_opts o;
    mtpc_call_opts_init(&o);
    o.raw = true;
    if (mtpc_call_build(&call, schema, "{\"_\":\"help.getNearestDc\"}", &o, &err) < 0)
        __builtin_trap();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (schema == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    if (size < 1)
        return 0;
    uint8_t mode = data[0] & 3;
    size_t max_bytes = data[0] >> 2;
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    if (mode == 0 || mode == 1) {
        uint8_t buf[4096];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
        struct mtpc_trace t = {.dir = MTPC_IN, .kind = mode == 0 ? MTPC_TRACE_PLAIN : MTPC_TRACE_INNER, .data = p,
                               .len = len};
        int rc = mtpc_text_trace(schema, &t, max_bytes, &w);
        if ((rc == MTP_OK) == w.failed || w.len > sizeof buf)
            __builtin_trap();
    } else if (mode == 2) {
        json_t *j = NULL;
        struct mtp_error err;
        mtp_error_clear(&err);
        int rc = mtpc_call_answer_json(&call, schema, p, len, &j, &err);
        if (rc == MTP_OK && j == NULL)
            __builtin_trap();
        if (rc != MTP_OK && rc != MTP_ERR_CLIENT_BAD_ANSWER && rc != MTP_ERR_NOMEM)
            __builtin_trap();
        json_decref(j);
    } else if (mtpc_schema_layer((const char *)p, len) < 0) {
        __builtin_trap();
    }
    return 0;
}
