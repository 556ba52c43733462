#include <stdio.h>
#include <string.h>

#include "mtp/tl_value.h"
#include "mtp_test.h"

static struct mtp_error err;

/* Parses and links one or more schema texts; returns the schema or NULL with err set. */
static struct mtp_tl_schema *load_texts(const char *const *texts, size_t n, unsigned flags, int *rc)
{
    mtp_error_clear(&err);
    struct mtp_tl_schema *s = mtp_tl_schema_new();
    ck_assert_ptr_nonnull(s);
    *rc = MTP_OK;
    for (size_t i = 0; i < n && *rc == MTP_OK; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%zu.tl", i);
        *rc = mtp_tl_schema_add_text(s, texts[i], strlen(texts[i]), name, flags, &err);
    }
    if (*rc == MTP_OK)
        *rc = mtp_tl_schema_link(s, &err);
    if (*rc < 0) {
        mtp_tl_schema_free(s);
        return NULL;
    }
    return s;
}

static struct mtp_tl_schema *load_text(const char *text)
{
    int rc;
    struct mtp_tl_schema *s = load_texts(&text, 1, 0, &rc);
    ck_assert_msg(s != NULL, "schema failed: %s", err.msg);
    return s;
}

static struct mtp_tl_schema *load_files(const char *const *files, size_t n)
{
    mtp_error_clear(&err);
    struct mtp_tl_schema *s = mtp_tl_schema_new();
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(mtp_tl_schema_add_file(s, mtp_test_path(files[i]), 0, &err) == MTP_OK, "%s", err.msg);
    ck_assert_msg(mtp_tl_schema_link(s, &err) == MTP_OK, "%s", err.msg);
    return s;
}

static void check_all_ids(const struct mtp_tl_schema *s)
{
    for (size_t i = 0; i < mtp_tl_schema_count(s); i++) {
        const struct mtp_tl_combinator *c = mtp_tl_schema_at(s, i);
        ck_assert_msg(c->id == c->computed_id, "%s#%08x: CRC32 of '%s' is %08x", c->name, c->id, c->canonical,
                      c->computed_id);
        ck_assert_ptr_eq(mtp_tl_find_id(s, c->id), c);
    }
    ck_assert_uint_eq(mtp_tl_schema_id_mismatches(s), 0);
}

START_TEST(mtproto_schema_ids)
{
    static const char *const files[] = {"vectors/schema/mtproto.tl"};
    struct mtp_tl_schema *s = load_files(files, 1);
    ck_assert_uint_eq(mtp_tl_schema_count(s), 59);
    check_all_ids(s);
    static const struct {
        const char *name;
        uint32_t id;
        bool explicit_id, function;
    } known[] = {
        {"req_pq_multi", 0xbe7e8ef1, true, true},        {"req_pq", 0x60469778, true, true},
        {"resPQ", 0x05162463, true, false},              {"p_q_inner_data_dc", 0xa9f55f95, true, false},
        {"p_q_inner_data_temp_dc", 0x56fddf88, true, false}, {"bind_auth_key_inner", 0x75a3f765, true, false},
        {"set_client_DH_params", 0xf5045f1f, true, true}, {"msg_container", 0x73f1f8dc, true, false},
        {"gzip_packed", 0x3072cfa1, true, false},         {"ping_delay_disconnect", 0xf3427b8c, true, true},
        /* implicit ids: CRC32 of the canonical text */
        {"message", 0x5bb8e511, false, false},            {"vector", 0x1cb5c415, false, false},
        {"int", 0xa8509bda, false, false},                {"long", 0x22076cba, false, false},
        {"double", 0x2210c154, false, false},             {"string", 0xb5286e24, false, false},
        {"rsa_public_key", 0x7a19cb76, false, false},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const struct mtp_tl_combinator *c = mtp_tl_find_name(s, known[i].name);
        ck_assert_msg(c != NULL, "%s", known[i].name);
        ck_assert_msg(c->id == known[i].id, "%s: %08x", known[i].name, c->id);
        ck_assert_int_eq(c->explicit_id, known[i].explicit_id);
        ck_assert_int_eq(c->is_function, known[i].function);
    }
    ck_assert_int_eq(mtp_tl_find_name(s, "message")->special, MTP_TL_SPECIAL_MESSAGE);
    ck_assert_int_eq(mtp_tl_find_name(s, "rpc_result")->special, MTP_TL_SPECIAL_RPC_RESULT);
    ck_assert_int_eq(mtp_tl_find_name(s, "gzip_packed")->special, MTP_TL_SPECIAL_GZIP);
    ck_assert(mtp_tl_find_name(s, "int")->builtin);
    ck_assert_str_eq(mtp_tl_find_name(s, "vector")->canonical, "vector t:Type # [ t ] = Vector t");
    ck_assert_str_eq(mtp_tl_find_name(s, "int128")->canonical, "int128 4*[ int ] = Int128");
    ck_assert_str_eq(mtp_tl_find_name(s, "rsa_public_key")->canonical, "rsa_public_key n:string e:string = RSAPublicKey");
    const struct mtp_tl_type *t = mtp_tl_find_type(s, "Set_client_DH_params_answer");
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->nctors, 3);
    ck_assert_ptr_eq(mtp_tl_type_ctor(t, "dh_gen_retry"), mtp_tl_find_name(s, "dh_gen_retry"));
    ck_assert_ptr_null(mtp_tl_type_ctor(t, "resPQ"));
    mtp_tl_schema_free(s);
}
END_TEST

START_TEST(api_schema_ids)
{
    static const char *const files[] = {"vectors/schema/api.tl", "vectors/schema/mtproto.tl"};
    struct mtp_tl_schema *s = load_files(files, 2);
    /* 2091 declarations in api.tl (689 functions) plus 59 in mtproto.tl (10 functions), vector in both. */
    ck_assert_uint_eq(mtp_tl_schema_count(s), 2149);
    check_all_ids(s);
    size_t explicit_ids = 0, functions = 0;
    for (size_t i = 0; i < mtp_tl_schema_count(s); i++) {
        explicit_ids += mtp_tl_schema_at(s, i)->explicit_id;
        functions += mtp_tl_schema_at(s, i)->is_function;
    }
    ck_assert_uint_eq(explicit_ids, 2141);
    ck_assert_uint_eq(functions, 699);
    const struct mtp_tl_combinator *u = mtp_tl_find_name(s, "user");
    ck_assert_uint_eq(u->id, 0x4b46c37e);
    /* flags and flags2: both `#`, both carry flag bits */
    unsigned flags_args = 0;
    for (unsigned i = 0; i < u->nargs; i++)
        flags_args += u->args[i].is_flags;
    ck_assert_uint_eq(flags_args, 2);
    const struct mtp_tl_combinator *iwl = mtp_tl_find_name(s, "invokeWithLayer");
    ck_assert_uint_eq(iwl->nparams, 1);
    ck_assert_int_eq(iwl->result->kind, MTP_TL_VAR);
    ck_assert_int_eq(iwl->args[1].type->kind, MTP_TL_VAR);
    ck_assert(iwl->args[1].type->bang);
    /* Both schemas name a `message`: global lookups take the API one (loaded
     * first), mtproto's container still finds its own bare message. */
    ck_assert_uint_eq(mtp_tl_find_name(s, "message")->id, 0x96fdbbe9);
    ck_assert_str_eq(mtp_tl_find_name(s, "message")->file, "api.tl");
    const struct mtp_tl_combinator *mc = mtp_tl_find_id(s, MTP_TL_ID_MSG_CONTAINER);
    const struct mtp_tl_tref *elem = mc->args[0].type->args[0];
    ck_assert_int_eq(elem->kind, MTP_TL_BARE);
    ck_assert_uint_eq(elem->ctor->id, MTP_TL_ID_MESSAGE);
    ck_assert_str_eq(elem->ctor->file, "mtproto.tl");
    mtp_tl_schema_free(s);
}
END_TEST

/* Canonical texts and their CRC32 (core.telegram.org/mtproto/TL, "combinator number"). */
static const struct {
    const char *decl;
    const char *canonical;
    uint32_t id; /* 0: not checked */
} canon_cases[] = {
    {"vector#1cb5c415 {t:Type} # [ t ] = Vector t;", "vector t:Type # [ t ] = Vector t", 0x1cb5c415},
    {"resPQ#05162463 nonce:int128 server_nonce:int128 pq:bytes server_public_key_fingerprints:Vector<long> = ResPQ;",
     "resPQ nonce:int128 server_nonce:int128 pq:string server_public_key_fingerprints:Vector long = ResPQ",
     0x05162463},
    {"userStatusRecently#7b197dc8 flags:# by_me:flags.0?true = UserStatus;", "userStatusRecently flags:# = UserStatus",
     0x7b197dc8},
    {"inputMediaPoll#f94e5f1 flags:# poll:Poll correct_answers:flags.0?Vector<bytes> solution:flags.1?string "
     "solution_entities:flags.1?Vector<MessageEntity> = InputMedia;",
     "inputMediaPoll flags:# poll:Poll correct_answers:flags.0?Vector bytes solution:flags.1?string "
     "solution_entities:flags.1?Vector MessageEntity = InputMedia",
     0x0f94e5f1},
    {"invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;", "invokeWithLayer X:Type layer:int query:!X = X",
     0xda9b0d0d},
    {"msg_container#73f1f8dc messages:vector<message> = MessageContainer;",
     "msg_container messages:vector message = MessageContainer", 0x73f1f8dc},
    /* The schema page's spelling: same wire form, another CRC32. */
    {"msg_container messages:vector<%Message> = MessageContainer;",
     "msg_container messages:vector %Message = MessageContainer", 0x29c1636d},
    {"int ? = Int;", "int ? = Int", 0xa8509bda},
    {"tuple {t:Type} {n:#} [ t ] = Tuple t n;", "tuple t:Type n:# [ t ] = Tuple t n", 0},
    {"pair (a b:int) c:%Foo = Pair;", "pair (a b:int) c:%Foo = Pair", 0},
    {"nest x:Vector<Vector<bytes>> = Nest;", "nest x:Vector Vector bytes = Nest", 0},
};

START_TEST(canonical_text)
{
    /* Types the cases refer to. */
    char text[1024];
    snprintf(text, sizeof text,
             "poll#1 = Poll; messageEntity#2 = MessageEntity; foo = Foo; message msg_id:long seqno:int bytes:int "
             "body:Object = Message;\n%s",
             canon_cases[_i].decl);
    struct mtp_tl_schema *s = load_text(text);
    const struct mtp_tl_combinator *c = mtp_tl_schema_at(s, mtp_tl_schema_count(s) - 1);
    ck_assert_str_eq(c->canonical, canon_cases[_i].canonical);
    ck_assert_uint_eq(c->computed_id, mtp_tl_crc32(c->canonical, strlen(c->canonical)));
    if (canon_cases[_i].id)
        ck_assert_msg(c->computed_id == canon_cases[_i].id, "%08x", c->computed_id);
    mtp_tl_schema_free(s);
}
END_TEST

/* Lines of Telegram Desktop's mtproto.tl (as GramJS ships it) whose explicit
 * ids are not the CRC32 of the canonical text: the loader keeps the explicit
 * id and reports both. */
START_TEST(known_id_exceptions)
{
    static const char text[] =
        "ipPort#d433ad73 ipv4:int port:int = IpPort;\n"
        "ipPortSecret#37982646 ipv4:int port:int secret:bytes = IpPort;\n"
        "accessPointRule#4679b65f phone_prefix_rules:string dc_id:int ips:vector<IpPort> = AccessPointRule;\n"
        "help.configSimple#5a592a6c date:int expires:int rules:vector<AccessPointRule> = help.ConfigSimple;\n";
    struct mtp_tl_schema *s = load_text(text);
    ck_assert_uint_eq(mtp_tl_schema_id_mismatches(s), 3);
    static const struct {
        const char *name;
        uint32_t id, computed;
    } ex[] = {{"ipPort", 0xd433ad73, 0xd433ad73},
              {"ipPortSecret", 0x37982646, 0x402d9b47},
              {"accessPointRule", 0x4679b65f, 0x020634ce},
              {"help.configSimple", 0x5a592a6c, 0x066d2808}};
    for (size_t i = 0; i < 4; i++) {
        const struct mtp_tl_combinator *c = mtp_tl_find_name(s, ex[i].name);
        ck_assert_uint_eq(c->id, ex[i].id);
        ck_assert_uint_eq(c->computed_id, ex[i].computed);
        ck_assert_ptr_eq(mtp_tl_find_id(s, ex[i].id), c);
    }
    /* ipPortSecret's id is the CRC32 of its text with `bytes` left as bytes. */
    static const char raw[] = "ipPortSecret ipv4:int port:int secret:bytes = IpPort";
    ck_assert_uint_eq(mtp_tl_crc32(raw, strlen(raw)), 0x37982646);
    mtp_tl_schema_free(s);

    /* Strict ids make the first exception an error naming both numbers. */
    const char *t = text;
    int rc;
    ck_assert_ptr_null(load_texts(&t, 1, MTP_TL_ADD_STRICT_IDS, &rc));
    ck_assert_rc(rc, MTP_ERR_SCHEMA_ID_MISMATCH);
    ck_assert_str_eq(err.msg, "t0.tl:2:1: ipPortSecret#37982646: the CRC32 of 'ipPortSecret ipv4:int port:int "
                              "secret:string = IpPort' is 402d9b47");
    ck_assert_uint_eq(err.offset, 44);
}
END_TEST

static const struct {
    const char *text;
    int code;
    const char *msg;
} bad_schemas[] = {
    {"foo#1 x:int = Foo", MTP_ERR_SCHEMA_SYNTAX,
     "t0.tl:1:18: expected ';' after the result type of 'foo', found end of input"},
    {"Foo#1 = Foo;", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:1:1: expected a combinator name starting in lower case, found 'Foo'"},
    {"foo#123456789 = Foo;", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:1:4: constructor id '#123456789' has more than 8 hex digits"},
    {"foo#12g4 = Foo;", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:1:4: constructor id is not a hex number"},
    {"foo x: = Foo;", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:1:8: expected a type, found '='"},
    {"foo x:flags?int = Foo;", MTP_ERR_SCHEMA_SYNTAX,
     "t0.tl:1:7: conditional field 'x' needs a bit number: expected 'flags.N?'"},
    {"foo x:flags.a?int = Foo;", MTP_ERR_SCHEMA_SYNTAX,
     "t0.tl:1:7: conditional field 'x' needs a bit number: expected 'flags.a.N?'"},
    {"foo x:Vector<int = Foo;", MTP_ERR_SCHEMA_SYNTAX,
     "t0.tl:1:18: expected ',' or '>' in type arguments of 'Vector', found '='"},
    {"foo@ = Foo;", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:1:4: unexpected character '@'"},
    {"foo = Foo; /* unterminated", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:1:12: unterminated /* comment */"},
    {"---typos---\n", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:1:1: expected ---types--- or ---functions---"},
    {"foo {X:Type = Foo;", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:1:13: expected '}' to close the parameter, found '='"},
    {"// comment\n\n  foo x:int\n  y:long = ;", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:4:12: expected a type, found ';'"},
    {"foo x:int;", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:1:10: expected '=' before ';'"},
    {"foo = foo;", MTP_ERR_SCHEMA_SYNTAX, "t0.tl:1:7: foo: result type 'foo' must start in upper case"},
    {"foo x:Bar = Foo;", MTP_ERR_SCHEMA_UNKNOWN_TYPE, "t0.tl:1:7: foo: unknown type 'Bar'"},
    {"foo x:bar = Foo;", MTP_ERR_SCHEMA_UNKNOWN_TYPE, "t0.tl:1:7: foo: unknown constructor 'bar'"},
    {"foo x:int y:x.0?int = Foo;", MTP_ERR_SCHEMA_BAD_ARG,
     "t0.tl:1:11: foo: 'y' is conditional on 'x', which is not an earlier '#' argument"},
    {"foo y:f.0?int f:# = Foo;", MTP_ERR_SCHEMA_BAD_ARG,
     "t0.tl:1:5: foo: 'y' is conditional on 'f', which is not an earlier '#' argument"},
    {"foo f:# y:f.32?int = Foo;", MTP_ERR_SCHEMA_BAD_ARG, "t0.tl:1:9: foo: flag bit 32 of 'y' is over 31"},
    {"a = T; b = T; foo x:%T = Foo;", MTP_ERR_SCHEMA_BAD_ARG,
     "t0.tl:1:21: foo: bare '%T' needs a type with exactly one constructor, it has 2"},
    {"foo x:Vector = Foo;", MTP_ERR_SCHEMA_BAD_ARG, "t0.tl:1:7: foo: 'Vector' takes 1 type argument, not 0"},
    {"foo x:int<long> = Foo;", MTP_ERR_SCHEMA_BAD_ARG, "t0.tl:1:7: foo: 'int' takes 0 type arguments, not 1"},
    {"foo x:Type = Foo;", MTP_ERR_SCHEMA_BAD_ARG, "t0.tl:1:7: foo: 'Type' is only valid in {X:Type}"},
    {"foo {X:int} = Foo;", MTP_ERR_SCHEMA_BAD_ARG, "t0.tl:1:8: foo: parameter 'X' must be {X:Type} or {X:#}"},
    {"foo x:[ int ] = Foo;", MTP_ERR_SCHEMA_BAD_ARG,
     "t0.tl:1:5: foo: repetition without a count: no earlier '#' argument"},
    {"foo n:int x:n*[ int ] = Foo;", MTP_ERR_SCHEMA_BAD_ARG,
     "t0.tl:1:11: foo: repetition count 'n' is not an earlier '#' argument or {n:#} parameter"},
    {"bar ? = Bar;", MTP_ERR_SCHEMA_BAD_ARG, "t0.tl:1:1: 'bar ? = ...' declares an unknown built-in type"},
    {"foo = Foo; foo = Bar;", MTP_ERR_SCHEMA_DUPLICATE, "t0.tl:1:12: 'foo' is already declared at line 1"},
    {"foo#1 = Foo;\nbar#00000001 = Foo;", MTP_ERR_SCHEMA_DUPLICATE,
     "t0.tl:2:1: 'bar' has id 00000001, already used by 'foo' at line 1"},
    {"foo = Foo; bar x:Foo y:Foo<int> = Bar;", MTP_ERR_SCHEMA_BAD_ARG,
     "t0.tl:1:24: bar: type 'Foo' takes 0 arguments, not 1"},
};

START_TEST(malformed_schemas)
{
    const char *t = bad_schemas[_i].text;
    int rc;
    ck_assert_ptr_null(load_texts(&t, 1, 0, &rc));
    ck_assert_rc(rc, bad_schemas[_i].code);
    ck_assert_str_eq(err.msg, bad_schemas[_i].msg);
}
END_TEST

START_TEST(schema_features)
{
    static const char text[] =
        "// comment line\n"
        "/* block\n   comment */\n"
        "int ? = Int;\n"
        "New Foo;\n"
        "---types---\n"
        "maybe {t:Type} value:t = Maybe t;\n"
        "nothing {t:Type} = Maybe t;\n"
        "tuple {t:Type} {n:#} [ t ] = Tuple t n;\n"
        "rec count:# items:count*[ key:int value:string ] = Rec;\n"
        "pair (a b:int) c:string = Pair;\n"
        "ns.thing#0000abcd x:Maybe<int> y:%Maybe<long> z:int128 = ns.Thing;\n"
        "---functions---\n"
        "ns.getThing#12345678 {X:Type} q:!X = X;\n"
        "ping x:long = Pong; pong x:long = Pong;\n"
        "---types---\n"
        "after = After;\n"
        "// LAYER 198\n";
    int rc;
    const char *t = text;
    struct mtp_tl_schema *s = load_texts(&t, 1, 0, &rc);
    /* %Maybe with two constructors is a schema error; replace by a one-constructor type */
    ck_assert_ptr_null(s);
    ck_assert_rc(rc, MTP_ERR_SCHEMA_BAD_ARG);
    ck_assert_str_eq(err.msg, "t0.tl:12:34: ns.thing: bare '%Maybe' needs a type with exactly one constructor, it has 2");

    static const char text2[] = "int ? = Int;\n"
                                "maybe {t:Type} value:t = Maybe t;\n"
                                "nothing {t:Type} = Maybe t;\n"
                                "box {t:Type} value:t = Box t;\n"
                                "tuple {t:Type} {n:#} [ t ] = Tuple t n;\n"
                                "rec count:# items:count*[ key:int value:string ] = Rec;\n"
                                "pair (a b:int) c:string = Pair;\n"
                                "ns.thing#0000abcd x:Maybe<int> y:%Box<long> z:Tuple<int,3> = ns.Thing;\n"
                                "---functions---\n"
                                "ns.getThing#12345678 {X:Type} q:!X = X;\n"
                                "ping x:long = Pong;\n"
                                "---types---\n"
                                "pong x:long = Pong;\n";
    s = load_text(text2);
    ck_assert_uint_eq(mtp_tl_schema_count(s), 11);
    ck_assert(mtp_tl_find_name(s, "ns.getThing")->is_function);
    ck_assert(mtp_tl_find_name(s, "ping")->is_function);
    ck_assert(!mtp_tl_find_name(s, "pong")->is_function);
    const struct mtp_tl_combinator *th = mtp_tl_find_name(s, "ns.thing");
    ck_assert_uint_eq(th->id, 0xabcd);
    ck_assert_int_eq(th->args[0].type->kind, MTP_TL_BOXED);
    ck_assert_uint_eq(th->args[0].type->nargs, 1);
    ck_assert_int_eq(th->args[1].type->kind, MTP_TL_BARE);
    ck_assert_int_eq(th->args[2].type->args[1]->kind, MTP_TL_NATCONST);
    ck_assert_uint_eq(th->args[2].type->args[1]->nat, 3);
    const struct mtp_tl_combinator *rec = mtp_tl_find_name(s, "rec");
    ck_assert_int_eq(rec->args[1].type->kind, MTP_TL_ARRAY);
    ck_assert_int_eq(rec->args[1].type->array->mult_kind, MTP_TL_MULT_ARG);
    ck_assert_uint_eq(rec->args[1].type->array->record->nargs, 2);
    const struct mtp_tl_combinator *tup = mtp_tl_find_name(s, "tuple");
    ck_assert_int_eq(tup->args[0].type->array->mult_kind, MTP_TL_MULT_PARAM);
    ck_assert_uint_eq(tup->args[0].type->array->mult, 1);
    const struct mtp_tl_combinator *pair = mtp_tl_find_name(s, "pair");
    ck_assert_uint_eq(pair->nargs, 3);
    ck_assert_str_eq(pair->args[1].name, "b");
    ck_assert_int_eq(pair->args[1].type->kind, MTP_TL_INT);
    const struct mtp_tl_combinator *maybe = mtp_tl_find_name(s, "maybe");
    ck_assert_int_eq(maybe->result_map[0], 0);
    ck_assert_int_eq(maybe->args[0].type->kind, MTP_TL_VAR);
    ck_assert_ptr_eq(mtp_tl_find_type(s, "Maybe"), maybe->type);
    mtp_tl_schema_free(s);
}
END_TEST

START_TEST(several_schemas)
{
    /* Identical declarations merge; a different one with the same id conflicts. */
    static const char *const same[] = {"boolTrue#997275b5 = Bool; a#1 x:int = A;", "boolTrue#997275b5 = Bool; b#2 = B;"};
    int rc;
    struct mtp_tl_schema *s = load_texts(same, 2, 0, &rc);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(mtp_tl_schema_count(s), 3);
    ck_assert_str_eq(mtp_tl_find_id(s, 0x997275b5)->file, "t0.tl");
    mtp_tl_schema_free(s);

    static const char *const clash[] = {"a#1 x:int = A;", "b#1 x:long = B;"};
    ck_assert_ptr_null(load_texts(clash, 2, 0, &rc));
    ck_assert_rc(rc, MTP_ERR_SCHEMA_CONFLICT);
    ck_assert_str_eq(err.msg, "t1.tl:1:1: b#00000001 conflicts with t0.tl:1:1: 'a' has the same id");

    /* The same name in two schemas: own schema first inside, load order outside. */
    static const char *const names[] = {"item#10 x:int = Item; list#11 xs:Vector<item> = List;",
                                        "item#20 y:long = Item; bag#21 xs:vector<item> = Bag;"};
    s = load_texts(names, 2, 0, &rc);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(mtp_tl_find_name(s, "item")->id, 0x10);
    ck_assert_uint_eq(mtp_tl_find_name(s, "list")->args[0].type->args[0]->ctor->id, 0x10);
    ck_assert_uint_eq(mtp_tl_find_name(s, "bag")->args[0].type->args[0]->ctor->id, 0x20);
    ck_assert_ptr_eq(mtp_tl_find_id(s, 0x20), mtp_tl_find_name(s, "bag")->args[0].type->args[0]->ctor);
    mtp_tl_schema_free(s);

    /* A schema can use types another one declares. */
    static const char *const cross[] = {"holder#30 x:Thing = Holder;", "thing#31 = Thing;"};
    s = load_texts(cross, 2, 0, &rc);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(mtp_tl_find_name(s, "holder")->args[0].type->type->name, "Thing");
    mtp_tl_schema_free(s);

    /* Adding after link, or after a failed add, is refused. */
    s = mtp_tl_schema_new();
    ck_assert_rc(mtp_tl_schema_add_text(s, "x = ;", 5, "bad.tl", 0, &err), MTP_ERR_SCHEMA_SYNTAX);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_schema_add_text(s, "y = Y;", 6, "ok.tl", 0, &err), MTP_ERR_ARG);
    ck_assert_rc(mtp_tl_schema_link(s, &err), MTP_ERR_ARG);
    mtp_tl_schema_free(s);
    s = load_text("y = Y;");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_schema_add_text(s, "z = Z;", 6, "late.tl", 0, &err), MTP_ERR_ARG);
    mtp_tl_schema_free(s);
}
END_TEST

START_TEST(limits)
{
    /* 256 arguments */
    char *text = malloc(8192);
    size_t n = (size_t)snprintf(text, 8192, "big");
    for (int i = 0; i < 256; i++)
        n += (size_t)snprintf(text + n, 8192 - n, " a%d:int", i);
    snprintf(text + n, 8192 - n, " = Big;");
    const char *t = text;
    int rc;
    ck_assert_ptr_null(load_texts(&t, 1, 0, &rc));
    ck_assert_rc(rc, MTP_ERR_SCHEMA_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "more than 255 arguments"));
    /* types nested 40 deep */
    n = (size_t)snprintf(text, 8192, "deep x:");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, 8192 - n, "Vector<");
    n += (size_t)snprintf(text + n, 8192 - n, "int");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, 8192 - n, ">");
    snprintf(text + n, 8192 - n, " = Deep;");
    ck_assert_ptr_null(load_texts(&t, 1, 0, &rc));
    ck_assert_rc(rc, MTP_ERR_SCHEMA_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.msg, "type nested deeper than 32"));
    /* 17 `#` arguments */
    n = (size_t)snprintf(text, 8192, "nats");
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(text + n, 8192 - n, " f%d:#", i);
    snprintf(text + n, 8192 - n, " = Nats;");
    ck_assert_ptr_null(load_texts(&t, 1, 0, &rc));
    ck_assert_rc(rc, MTP_ERR_SCHEMA_LIMIT);
    free(text);
    /* A missing file is an I/O error naming it. */
    struct mtp_tl_schema *s = mtp_tl_schema_new();
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_schema_add_file(s, "/nonexistent/x.tl", 0, &err), MTP_ERR_IO);
    ck_assert_str_eq(err.msg, "/nonexistent/x.tl: No such file or directory");
    mtp_tl_schema_free(s);
}
END_TEST

START_TEST(type_expressions)
{
    static const char *const files[] = {"vectors/schema/mtproto.tl"};
    struct mtp_tl_schema *s = load_files(files, 1);
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, 0);
    const struct mtp_tl_tref *t;
    ck_assert_ok(mtp_tl_type_parse(s, "Vector<long>", &a, &t, &err));
    ck_assert_int_eq(t->kind, MTP_TL_VECTOR);
    ck_assert_int_eq(t->args[0]->kind, MTP_TL_LONG);
    ck_assert_ok(mtp_tl_type_parse(s, "%Message", &a, &t, &err));
    ck_assert_int_eq(t->kind, MTP_TL_BARE);
    ck_assert_uint_eq(t->ctor->id, MTP_TL_ID_MESSAGE);
    ck_assert_ok(mtp_tl_type_parse(s, "resPQ", &a, &t, &err));
    ck_assert_int_eq(t->kind, MTP_TL_BARE);
    ck_assert_ok(mtp_tl_type_parse(s, "ResPQ", &a, &t, &err));
    ck_assert_int_eq(t->kind, MTP_TL_BOXED);
    ck_assert_str_eq(t->type->name, "ResPQ");
    ck_assert_ok(mtp_tl_type_parse(s, "Object", &a, &t, &err));
    ck_assert_int_eq(t->kind, MTP_TL_OBJECT);
    ck_assert_ok(mtp_tl_type_parse(s, "vector<future_salt>", &a, &t, &err));
    ck_assert_int_eq(t->kind, MTP_TL_BARE_VECTOR);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_type_parse(s, "NoSuch", &a, &t, &err), MTP_ERR_TL_UNKNOWN_TYPE);
    ck_assert_str_eq(err.msg, "type 'NoSuch': unknown type 'NoSuch'");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_type_parse(s, "Vector<long", &a, &t, &err), MTP_ERR_TL_UNKNOWN_TYPE);
    ck_assert_str_eq(err.msg, "type 'Vector<long': type:1:12: expected ',' or '>' in type arguments of 'Vector', "
                              "found end of input");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_type_parse(s, "ResPQ ResPQ", &a, &t, &err), MTP_ERR_TL_UNKNOWN_TYPE);
    mtp_tl_arena_free(&a);
    mtp_tl_schema_free(s);
}
END_TEST

static Suite *tl_schema_suite(void)
{
    Suite *s = suite_create("tl_schema");
    TCase *tc = tcase_create("schemas");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, mtproto_schema_ids);
    tcase_add_test(tc, api_schema_ids);
    tcase_add_loop_test(tc, canonical_text, 0, sizeof canon_cases / sizeof canon_cases[0]);
    tcase_add_test(tc, known_id_exceptions);
    tcase_add_loop_test(tc, malformed_schemas, 0, sizeof bad_schemas / sizeof bad_schemas[0]);
    tcase_add_test(tc, schema_features);
    tcase_add_test(tc, several_schemas);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, type_expressions);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tl_schema_suite)
