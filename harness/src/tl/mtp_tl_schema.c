/* TL schema text -> combinators and types (core.telegram.org/mtproto/TL,
 * /mtproto/TL-formal, /mtproto/TL-combinators).
 *
 * Two phases: mtp_tl_schema_add_text() lexes and parses declarations into a
 * small syntax tree and computes each combinator's canonical text and CRC32;
 * mtp_tl_schema_link() resolves every type reference once all texts are in,
 * so schemas may refer to each other.  Everything lives in one arena owned by
 * the schema. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tl/mtp_tl_schema_internal.h"

#define SCHEMA_TEXT_MAX (64u << 20)
#define SCHEMA_DECLS_MAX (1u << 16)
#define LOOKAHEAD 4

/* ------------------------------------------------------------------ */
/* syntax tree                                                          */

struct texpr {
    const char *name; /* identifier or "#"; NULL for a number */
    uint32_t num;
    bool bare;        /* % */
    bool bang;        /* ! */
    bool paren;       /* written (...) */
    uint16_t nargs;
    struct texpr **args;
    uint32_t line, col;
    size_t off;
};

struct aarg {
    const char *name;        /* NULL: anonymous */
    const char *cond;        /* flags field name of `name:flags.N?T`, or NULL */
    uint32_t cond_bit;
    struct texpr *type;      /* NULL for a repetition */
    /* repetition [ ... ] */
    bool is_array;
    bool has_mult;
    const char *mult_name;   /* N*[...] with N an identifier */
    uint32_t mult_num;
    uint16_t nsub;
    struct aarg *sub;
    uint16_t group;          /* (a b c:T): number of names in the group, on the first arg; 0 otherwise */
    bool in_group;           /* a later arg of such a group */
    uint32_t line, col;
    size_t off;
};

struct aparam {
    const char *name;
    struct texpr *type;      /* "Type" or "#" */
    uint16_t group;
    bool in_group;
};

struct decl {
    struct mtp_tl_combinator *c;
    uint16_t nparams;
    struct aparam *params;
    uint16_t nargs;
    struct aarg *args;
    struct texpr *result;
};

/* Name tables: one entry per (name, schema); entries for the same name from
 * other schemas hang off `also`, in load order. */
struct nentry {
    const char *name;
    uint32_t hash;
    uint16_t schema;
    void *ptr;
    struct nentry *also;
};

struct nmap {
    struct nentry **slots;
    size_t cap;
    size_t n;
};

struct mtype {
    struct mtp_tl_type t;
    const struct mtp_tl_combinator **ctors;
    uint32_t cap;
    const struct mtp_tl_tref *boxed; /* cached reference to this type without arguments */
};

struct mtp_tl_schema {
    struct mtp_tl_arena arena;
    struct decl *decls;
    size_t ndecls, cap;
    const struct mtp_tl_combinator **all; /* after link: unique combinators */
    size_t nall;
    struct nmap ctor_names;
    struct nmap type_names;
    struct mtp_tl_idmap ids;
    uint16_t nschemas;
    size_t mismatches;
    bool linked;
    bool broken; /* an add failed: the schema can only be freed */
};

/* ------------------------------------------------------------------ */
/* built-in references                                                  */

#define BUILTIN(k) {.kind = (k)}
static const struct mtp_tl_tref builtins[] = {
    [MTP_TL_INT] = BUILTIN(MTP_TL_INT),       [MTP_TL_NAT] = BUILTIN(MTP_TL_NAT),
    [MTP_TL_LONG] = BUILTIN(MTP_TL_LONG),     [MTP_TL_DOUBLE] = BUILTIN(MTP_TL_DOUBLE),
    [MTP_TL_INT128] = BUILTIN(MTP_TL_INT128), [MTP_TL_INT256] = BUILTIN(MTP_TL_INT256),
    [MTP_TL_BYTES] = BUILTIN(MTP_TL_BYTES),   [MTP_TL_STRING] = BUILTIN(MTP_TL_STRING),
    [MTP_TL_BOOL] = BUILTIN(MTP_TL_BOOL),     [MTP_TL_TRUE] = BUILTIN(MTP_TL_TRUE),
    [MTP_TL_VECTOR] = BUILTIN(MTP_TL_VECTOR), [MTP_TL_BARE_VECTOR] = BUILTIN(MTP_TL_BARE_VECTOR),
    [MTP_TL_BOXED] = BUILTIN(MTP_TL_BOXED),   [MTP_TL_BARE] = BUILTIN(MTP_TL_BARE),
    [MTP_TL_OBJECT] = BUILTIN(MTP_TL_OBJECT), [MTP_TL_VAR] = BUILTIN(MTP_TL_VAR),
    [MTP_TL_ARRAY] = BUILTIN(MTP_TL_ARRAY),   [MTP_TL_NATCONST] = BUILTIN(MTP_TL_NATCONST),
};
static const struct mtp_tl_tref bang_object = {.kind = MTP_TL_OBJECT, .bang = true};

const struct mtp_tl_tref *mtp_tl_builtin(enum mtp_tl_kind kind)
{
    if ((size_t)kind >= sizeof builtins / sizeof builtins[0])
        return NULL;
    return &builtins[kind];
}

struct builtin_name {
    const char *name;
    uint8_t kind;
    uint8_t nargs; /* type arguments it takes */
};
static const struct builtin_name builtin_names[] = {
    {"int", MTP_TL_INT, 0},        {"long", MTP_TL_LONG, 0},       {"double", MTP_TL_DOUBLE, 0},
    {"string", MTP_TL_STRING, 0},  {"bytes", MTP_TL_BYTES, 0},     {"int128", MTP_TL_INT128, 0},
    {"int256", MTP_TL_INT256, 0},  {"true", MTP_TL_TRUE, 0},       {"Bool", MTP_TL_BOOL, 0},
    {"Object", MTP_TL_OBJECT, 0},  {"Vector", MTP_TL_VECTOR, 1},   {"vector", MTP_TL_BARE_VECTOR, 1},
    {"#", MTP_TL_NAT, 0},
};

static const struct builtin_name *find_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof builtin_names / sizeof builtin_names[0]; i++)
        if (strcmp(builtin_names[i].name, name) == 0)
            return &builtin_names[i];
    return NULL;
}

uint32_t mtp_tl_crc32(const char *text, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        crc = crc32(crc, (const Bytef *)text, n);
        text += n;
        len -= n;
    }
    return (uint32_t)crc;
}

/* ------------------------------------------------------------------ */
/* small helpers                                                        */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static char *arena_strndup(struct mtp_tl_arena *a, const char *p, size_t n)
{
    char *s = mtp_tl_arena_alloc(a, n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Whether a (possibly namespaced) identifier names a constructor: its last
 * segment starts in lower case. */
static bool ident_is_lower(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *last = dot ? dot + 1 : name;
    return islower((unsigned char)last[0]) != 0 || last[0] == '_';
}

static int nmap_grow(struct nmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 256;
    struct nentry **ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return MTP_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        struct nentry *e = m->slots[i];
        if (e == NULL)
            continue;
        size_t j = e->hash & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = e;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return MTP_OK;
}

static struct nentry *nmap_find(const struct nmap *m, const char *name)
{
    if (m->cap == 0)
        return NULL;
    uint32_t h = hash_str(name);
    for (size_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        struct nentry *e = m->slots[j];
        if (e == NULL)
            return NULL;
        if (e->hash == h && strcmp(e->name, name) == 0)
            return e;
    }
}

/* The entry of `name` in `schema`, or NULL. */
static struct nentry *nmap_find_in(const struct nmap *m, const char *name, uint16_t schema)
{
    for (struct nentry *e = nmap_find(m, name); e; e = e->also)
        if (e->schema == schema)
            return e;
    return NULL;
}

/* Own schema first, then load order. */
static void *nmap_resolve(const struct nmap *m, const char *name, int prefer)
{
    struct nentry *first = nmap_find(m, name);
    for (struct nentry *e = first; e; e = e->also)
        if ((int)e->schema == prefer)
            return e->ptr;
    return first ? first->ptr : NULL;
}

static int nmap_add(struct nmap *m, struct mtp_tl_arena *a, const char *name, uint16_t schema, void *ptr)
{
    struct nentry *head = nmap_find(m, name);
    struct nentry *e = mtp_tl_arena_alloc(a, sizeof *e);
    if (e == NULL)
        return MTP_ERR_NOMEM;
    e->name = name;
    e->hash = hash_str(name);
    e->schema = schema;
    e->ptr = ptr;
    e->also = NULL;
    if (head) {
        while (head->also)
            head = head->also;
        head->also = e;
        return MTP_OK;
    }
    if ((m->n + 1) * 2 > m->cap)
        MTP_GUARD(nmap_grow(m));
    size_t j = e->hash & (m->cap - 1);
    while (m->slots[j])
        j = (j + 1) & (m->cap - 1);
    m->slots[j] = e;
    m->n++;
    return MTP_OK;
}

static int idmap_put(struct mtp_tl_idmap *m, uint32_t id, const struct mtp_tl_combinator *c)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        uint32_t *nk = calloc(ncap, sizeof *nk);
        const struct mtp_tl_combinator **nv = calloc(ncap, sizeof *nv);
        if (nk == NULL || nv == NULL) {
            free(nk);
            free(nv);
            return MTP_ERR_NOMEM;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->vals[i] == NULL)
                continue;
            size_t j = (m->keys[i] ^ (m->keys[i] >> 16)) & (ncap - 1);
            while (nv[j])
                j = (j + 1) & (ncap - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = nk;
        m->vals = nv;
        m->cap = ncap;
    }
    size_t mask = m->cap - 1;
    size_t j = (id ^ (id >> 16)) & mask;
    while (m->vals[j])
        j = (j + 1) & mask;
    m->keys[j] = id;
    m->vals[j] = c;
    m->n++;
    return MTP_OK;
}

/* ------------------------------------------------------------------ */
/* lexer                                                                */

enum tk {
    T_EOF, T_IDENT, T_NUM, T_HASH, T_COLON, T_SEMI, T_EQ, T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK,
    T_LPAREN, T_RPAREN, T_LT, T_GT, T_COMMA, T_QUEST, T_BANG, T_PERCENT, T_STAR, T_DOT,
    T_TYPES, T_FUNCTIONS,
};

static const char *const tk_names[] = {
    [T_EOF] = "end of input", [T_IDENT] = "identifier", [T_NUM] = "number", [T_HASH] = "'#'",
    [T_COLON] = "':'", [T_SEMI] = "';'", [T_EQ] = "'='", [T_LBRACE] = "'{'", [T_RBRACE] = "'}'",
    [T_LBRACK] = "'['", [T_RBRACK] = "']'", [T_LPAREN] = "'('", [T_RPAREN] = "')'", [T_LT] = "'<'",
    [T_GT] = "'>'", [T_COMMA] = "','", [T_QUEST] = "'?'", [T_BANG] = "'!'", [T_PERCENT] = "'%'",
    [T_STAR] = "'*'", [T_DOT] = "'.'", [T_TYPES] = "---types---", [T_FUNCTIONS] = "---functions---",
};

struct tok {
    enum tk kind;
    const char *p;
    size_t n;
    size_t off;
    uint32_t line, col;
    bool has_id;
    uint32_t id;
    uint32_t num;
};

struct parser {
    struct mtp_tl_schema *s;
    const char *text;
    size_t len;
    size_t pos;
    uint32_t line, col;
    const char *file;
    uint16_t schema;
    bool functions;
    unsigned depth;
    struct tok la[LOOKAHEAD];
    unsigned nla;
    struct mtp_tl_idmap seen; /* ids declared in this text */
    struct mtp_error *err;
};

static int perr(struct parser *ps, const struct tok *t, int code, const char *fmt, ...) MTP_PRINTF(4, 5);
static int perr(struct parser *ps, const struct tok *t, int code, const char *fmt, ...)
{
    char msg[MTP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mtp_error_set(ps->err, code, t->off, "%s:%u:%u: %s", ps->file, t->line, t->col, msg);
}

/* Describes a token for messages: its text (shortened) or its kind. */
static const char *tok_desc(const struct tok *t, char *buf, size_t cap)
{
    if (t->kind == T_EOF)
        return "end of input";
    if (t->kind == T_IDENT || t->kind == T_NUM) {
        snprintf(buf, cap, "'%.*s'", (int)(t->n > 40 ? 40 : t->n), t->p);
        return buf;
    }
    return tk_names[t->kind];
}

static void advance(struct parser *ps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ps->text[ps->pos] == '\n') {
            ps->line++;
            ps->col = 1;
        } else {
            ps->col++;
        }
        ps->pos++;
    }
}

static bool is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static int skip_space(struct parser *ps, struct tok *t)
{
    for (;;) {
        while (ps->pos < ps->len && isspace((unsigned char)ps->text[ps->pos]))
            advance(ps, 1);
        if (ps->pos + 1 < ps->len && ps->text[ps->pos] == '/' && ps->text[ps->pos + 1] == '/') {
            while (ps->pos < ps->len && ps->text[ps->pos] != '\n')
                advance(ps, 1);
            continue;
        }
        if (ps->pos + 1 < ps->len && ps->text[ps->pos] == '/' && ps->text[ps->pos + 1] == '*') {
            t->off = ps->pos;
            t->line = ps->line;
            t->col = ps->col;
            advance(ps, 2);
            for (;;) {
                if (ps->pos + 1 >= ps->len) {
                    t->kind = T_EOF;
                    return perr(ps, t, MTP_ERR_SCHEMA_SYNTAX, "unterminated /* comment */");
                }
                if (ps->text[ps->pos] == '*' && ps->text[ps->pos + 1] == '/') {
                    advance(ps, 2);
                    break;
                }
                advance(ps, 1);
            }
            continue;
        }
        return MTP_OK;
    }
}

static int lex(struct parser *ps, struct tok *t)
{
    memset(t, 0, sizeof *t);
    MTP_GUARD(skip_space(ps, t));
    t->off = ps->pos;
    t->line = ps->line;
    t->col = ps->col;
    t->p = ps->text + ps->pos;
    if (ps->pos >= ps->len) {
        t->kind = T_EOF;
        return MTP_OK;
    }
    const char *p = ps->text;
    size_t i = ps->pos;
    char c = p[i];
    if (c == '-' && i + 2 < ps->len && p[i + 1] == '-' && p[i + 2] == '-') {
        static const struct {
            const char *text;
            enum tk kind;
        } sections[] = {{"---types---", T_TYPES}, {"---functions---", T_FUNCTIONS}};
        for (size_t k = 0; k < 2; k++) {
            size_t n = strlen(sections[k].text);
            if (ps->len - i >= n && memcmp(p + i, sections[k].text, n) == 0) {
                t->kind = sections[k].kind;
                t->n = n;
                advance(ps, n);
                return MTP_OK;
            }
        }
        t->kind = T_EOF;
        return perr(ps, t, MTP_ERR_SCHEMA_SYNTAX, "expected ---types--- or ---functions---");
    }
    if (is_ident_start(c)) {
        size_t j = i;
        for (;;) {
            while (j < ps->len && is_ident_char(p[j]))
                j++;
            /* A dot followed by a letter continues a namespaced name; followed by
             * a digit it is the flags.N of a conditional field. */
            if (j + 1 < ps->len && p[j] == '.' && is_ident_start(p[j + 1])) {
                j++;
                continue;
            }
            break;
        }
        t->kind = T_IDENT;
        t->n = j - i;
        if (j < ps->len && p[j] == '#' && j + 1 < ps->len && isxdigit((unsigned char)p[j + 1])) {
            size_t k = j + 1;
            uint32_t id = 0;
            while (k < ps->len && isxdigit((unsigned char)p[k])) {
                if (k - j > 8) {
                    advance(ps, j - i);
                    t->off = ps->pos;
                    t->line = ps->line;
                    t->col = ps->col;
                    t->kind = T_EOF;
                    return perr(ps, t, MTP_ERR_SCHEMA_SYNTAX, "constructor id '%.*s' has more than 8 hex digits",
                                (int)(k - j + 1), p + j);
                }
                int d = isdigit((unsigned char)p[k]) ? p[k] - '0' : (tolower((unsigned char)p[k]) - 'a' + 10);
                id = id << 4 | (uint32_t)d;
                k++;
            }
            if (k < ps->len && is_ident_char(p[k])) {
                advance(ps, j - i);
                t->off = ps->pos;
                t->line = ps->line;
                t->col = ps->col;
                t->kind = T_EOF;
                return perr(ps, t, MTP_ERR_SCHEMA_SYNTAX, "constructor id is not a hex number");
            }
            t->has_id = true;
            t->id = id;
            advance(ps, k - i);
            return MTP_OK;
        }
        advance(ps, j - i);
        return MTP_OK;
    }
    if (isdigit((unsigned char)c)) {
        size_t j = i;
        uint64_t v = 0;
        while (j < ps->len && isdigit((unsigned char)p[j])) {
            v = v * 10 + (uint64_t)(p[j] - '0');
            if (v > UINT32_MAX) {
                t->kind = T_EOF;
                return perr(ps, t, MTP_ERR_SCHEMA_SYNTAX, "number too large");
            }
            j++;
        }
        t->kind = T_NUM;
        t->num = (uint32_t)v;
        t->n = j - i;
        advance(ps, j - i);
        return MTP_OK;
    }
    static const char punct[] = "#:;={}[]()<>,?!%*.";
    static const enum tk punct_kind[] = {T_HASH,   T_COLON, T_SEMI,  T_EQ,    T_LBRACE, T_RBRACE,
                                         T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN, T_LT, T_GT,
                                         T_COMMA,  T_QUEST, T_BANG,  T_PERCENT, T_STAR, T_DOT};
    const char *hit = c ? strchr(punct, c) : NULL;
    if (hit == NULL) {
        t->kind = T_EOF;
        if (isprint((unsigned char)c))
            return perr(ps, t, MTP_ERR_SCHEMA_SYNTAX, "unexpected character '%c'", c);
        return perr(ps, t, MTP_ERR_SCHEMA_SYNTAX, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
    }
    t->kind = punct_kind[hit - punct];
    t->n = 1;
    advance(ps, 1);
    return MTP_OK;
}

static int peek(struct parser *ps, unsigned k, const struct tok **out)
{
    while (ps->nla <= k)
        MTP_GUARD(lex(ps, &ps->la[ps->nla++]));
    *out = &ps->la[k];
    return MTP_OK;
}

static int next(struct parser *ps, struct tok *out)
{
    const struct tok *t;
    MTP_GUARD(peek(ps, 0, &t));
    *out = *t;
    memmove(ps->la, ps->la + 1, (ps->nla - 1) * sizeof ps->la[0]);
    ps->nla--;
    return MTP_OK;
}

static int expect(struct parser *ps, enum tk kind, const char *context, struct tok *out)
{
    struct tok t;
    MTP_GUARD(next(ps, &t));
    if (t.kind != kind) {
        char buf[64];
        return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX, "expected %s %s, found %s", tk_names[kind], context,
                    tok_desc(&t, buf, sizeof buf));
    }
    if (out)
        *out = t;
    return MTP_OK;
}

static int peek_kind(struct parser *ps, unsigned k, enum tk *kind)
{
    const struct tok *t;
    MTP_GUARD(peek(ps, k, &t));
    *kind = t->kind;
    return MTP_OK;
}

static int tok_str(struct parser *ps, const struct tok *t, const char **out)
{
    *out = arena_strndup(&ps->s->arena, t->p, t->n);
    return *out ? MTP_OK : MTP_ERR_NOMEM;
}

static void *palloc(struct parser *ps, size_t n)
{
    void *p = mtp_tl_arena_alloc(&ps->s->arena, n);
    if (p)
        memset(p, 0, n);
    return p;
}

/* ------------------------------------------------------------------ */
/* parser                                                               */

static int parse_type_expr(struct parser *ps, bool juxtapose, struct texpr **out);

/* term := ['!'] ['%'] ( '#' | ident ['<' expr (',' expr)* '>'] | '(' expr ')' | number ) */
static int parse_term(struct parser *ps, struct texpr **out)
{
    if (++ps->depth > MTP_TL_MAX_TYPE_DEPTH) {
        const struct tok *t;
        MTP_GUARD(peek(ps, 0, &t));
        return perr(ps, t, MTP_ERR_SCHEMA_LIMIT, "type nested deeper than %d", MTP_TL_MAX_TYPE_DEPTH);
    }
    struct texpr *e = palloc(ps, sizeof *e);
    if (e == NULL)
        return MTP_ERR_NOMEM;
    struct tok t;
    MTP_GUARD(next(ps, &t));
    e->line = t.line;
    e->col = t.col;
    e->off = t.off;
    if (t.kind == T_BANG) {
        e->bang = true;
        MTP_GUARD(next(ps, &t));
    }
    if (t.kind == T_PERCENT) {
        e->bare = true;
        MTP_GUARD(next(ps, &t));
    }
    if (t.kind == T_HASH) {
        e->name = "#";
    } else if (t.kind == T_NUM) {
        e->num = t.num;
    } else if (t.kind == T_LPAREN) {
        struct texpr *inner;
        MTP_GUARD(parse_type_expr(ps, true, &inner));
        MTP_GUARD(expect(ps, T_RPAREN, "to close the parenthesised type", NULL));
        inner->paren = true;
        inner->bare = inner->bare || e->bare;
        inner->bang = inner->bang || e->bang;
        *out = inner;
        ps->depth--;
        return MTP_OK;
    } else if (t.kind == T_IDENT) {
        if (t.has_id)
            return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX, "a constructor id cannot appear in a type");
        MTP_GUARD(tok_str(ps, &t, &e->name));
        enum tk k;
        MTP_GUARD(peek_kind(ps, 0, &k));
        if (k == T_LT) {
            MTP_GUARD(next(ps, &t));
            struct texpr *list[MTP_TL_MAX_PARAMS];
            unsigned n = 0;
            for (;;) {
                if (n == MTP_TL_MAX_PARAMS)
                    return perr(ps, &t, MTP_ERR_SCHEMA_LIMIT, "more than %d type arguments", MTP_TL_MAX_PARAMS);
                MTP_GUARD(parse_type_expr(ps, true, &list[n++]));
                MTP_GUARD(next(ps, &t));
                if (t.kind == T_GT)
                    break;
                if (t.kind != T_COMMA) {
                    char buf[64];
                    return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX, "expected ',' or '>' in type arguments of '%s', found %s",
                                e->name, tok_desc(&t, buf, sizeof buf));
                }
            }
            e->args = palloc(ps, n * sizeof *e->args);
            if (e->args == NULL)
                return MTP_ERR_NOMEM;
            memcpy(e->args, list, n * sizeof *list);
            e->nargs = (uint16_t)n;
        }
    } else {
        char buf[64];
        return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX, "expected a type, found %s", tok_desc(&t, buf, sizeof buf));
    }
    *out = e;
    ps->depth--;
    return MTP_OK;
}

static bool starts_term(enum tk k)
{
    return k == T_IDENT || k == T_HASH || k == T_NUM || k == T_LPAREN || k == T_PERCENT || k == T_BANG;
}

/* expr := term term* (juxtaposition applies the head to the rest: `Vector t`) */
static int parse_type_expr(struct parser *ps, bool juxtapose, struct texpr **out)
{
    struct texpr *head;
    MTP_GUARD(parse_term(ps, &head));
    if (!juxtapose) {
        *out = head;
        return MTP_OK;
    }
    struct texpr *list[MTP_TL_MAX_PARAMS];
    unsigned n = 0;
    for (;;) {
        enum tk k;
        MTP_GUARD(peek_kind(ps, 0, &k));
        if (!starts_term(k))
            break;
        const struct tok *t;
        MTP_GUARD(peek(ps, 0, &t));
        if (n == MTP_TL_MAX_PARAMS)
            return perr(ps, t, MTP_ERR_SCHEMA_LIMIT, "more than %d type arguments", MTP_TL_MAX_PARAMS);
        if (head->name == NULL || head->nargs > 0 || head->paren)
            return perr(ps, t, MTP_ERR_SCHEMA_SYNTAX, "type arguments follow a type that cannot take them");
        MTP_GUARD(parse_term(ps, &list[n++]));
    }
    if (n > 0) {
        head->args = palloc(ps, n * sizeof *head->args);
        if (head->args == NULL)
            return MTP_ERR_NOMEM;
        memcpy(head->args, list, n * sizeof *list);
        head->nargs = (uint16_t)n;
    }
    *out = head;
    return MTP_OK;
}

struct arglist {
    struct aarg *v;
    size_t n, cap;
};

static int arglist_push(struct parser *ps, struct arglist *l, const struct tok *at, struct aarg **out)
{
    if (l->n == MTP_TL_MAX_ARGS)
        return perr(ps, at, MTP_ERR_SCHEMA_LIMIT, "more than %d arguments", MTP_TL_MAX_ARGS);
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        struct aarg *nv = realloc(l->v, ncap * sizeof *nv);
        if (nv == NULL)
            return MTP_ERR_NOMEM;
        l->v = nv;
        l->cap = ncap;
    }
    *out = &l->v[l->n++];
    memset(*out, 0, sizeof **out);
    (*out)->line = at->line;
    (*out)->col = at->col;
    (*out)->off = at->off;
    return MTP_OK;
}

static int arglist_finish(struct parser *ps, struct arglist *l, struct aarg **out, uint16_t *n)
{
    *n = (uint16_t)l->n;
    *out = NULL;
    if (l->n) {
        *out = palloc(ps, l->n * sizeof **out);
        if (*out == NULL)
            return MTP_ERR_NOMEM;
        memcpy(*out, l->v, l->n * sizeof **out);
    }
    free(l->v);
    l->v = NULL;
    return MTP_OK;
}

static int parse_args(struct parser *ps, enum tk end, struct aarg **out, uint16_t *nout);

/* After an optional `name:` and `N*`: '[' args ']' */
static int parse_array(struct parser *ps, struct aarg *a)
{
    MTP_GUARD(expect(ps, T_LBRACK, "to open a repetition", NULL));
    a->is_array = true;
    if (++ps->depth > MTP_TL_MAX_TYPE_DEPTH) {
        const struct tok *t;
        MTP_GUARD(peek(ps, 0, &t));
        return perr(ps, t, MTP_ERR_SCHEMA_LIMIT, "repetition nested deeper than %d", MTP_TL_MAX_TYPE_DEPTH);
    }
    MTP_GUARD(parse_args(ps, T_RBRACK, &a->sub, &a->nsub));
    ps->depth--;
    return expect(ps, T_RBRACK, "to close the repetition", NULL);
}

/* N* before a repetition: a number or an identifier. */
static int parse_mult(struct parser *ps, struct aarg *a)
{
    struct tok t;
    MTP_GUARD(next(ps, &t));
    a->has_mult = true;
    if (t.kind == T_NUM)
        a->mult_num = t.num;
    else
        MTP_GUARD(tok_str(ps, &t, &a->mult_name));
    return expect(ps, T_STAR, "after the multiplicity", NULL);
}

static int parse_one_arg(struct parser *ps, struct arglist *l)
{
    const struct tok *t0;
    MTP_GUARD(peek(ps, 0, &t0));
    struct tok start = *t0;
    enum tk k0 = start.kind, k1;
    MTP_GUARD(peek_kind(ps, 1, &k1));
    struct aarg *a;

    if (k0 == T_LPAREN) {
        /* (a b c:T): several arguments of one type */
        struct tok t;
        MTP_GUARD(next(ps, &t));
        size_t first = l->n;
        for (;;) {
            MTP_GUARD(next(ps, &t));
            if (t.kind == T_COLON)
                break;
            if (t.kind != T_IDENT) {
                char buf[64];
                return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX, "expected argument names then ':' in '(...)', found %s",
                            tok_desc(&t, buf, sizeof buf));
            }
            MTP_GUARD(arglist_push(ps, l, &t, &a));
            MTP_GUARD(tok_str(ps, &t, &a->name));
            a->in_group = l->n - 1 > first;
        }
        if (l->n == first)
            return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX, "expected argument names before ':' in '(...)'");
        struct texpr *type;
        MTP_GUARD(parse_type_expr(ps, true, &type));
        MTP_GUARD(expect(ps, T_RPAREN, "to close the argument group", NULL));
        for (size_t i = first; i < l->n; i++)
            l->v[i].type = type;
        l->v[first].group = (uint16_t)(l->n - first);
        return MTP_OK;
    }

    MTP_GUARD(arglist_push(ps, l, &start, &a));
    if (k0 == T_LBRACK)
        return parse_array(ps, a);
    if ((k0 == T_NUM || k0 == T_IDENT) && k1 == T_STAR) {
        MTP_GUARD(parse_mult(ps, a));
        return parse_array(ps, a);
    }
    if (k0 == T_IDENT && k1 == T_COLON) {
        struct tok t;
        MTP_GUARD(next(ps, &t));
        if (t.has_id)
            return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX, "an argument name cannot carry a constructor id");
        MTP_GUARD(tok_str(ps, &t, &a->name));
        MTP_GUARD(next(ps, &t));
        MTP_GUARD(peek_kind(ps, 0, &k0));
        MTP_GUARD(peek_kind(ps, 1, &k1));
        if (k0 == T_LBRACK)
            return parse_array(ps, a);
        if ((k0 == T_NUM || k0 == T_IDENT) && k1 == T_STAR) {
            MTP_GUARD(parse_mult(ps, a));
            return parse_array(ps, a);
        }
        if (k0 == T_IDENT && (k1 == T_DOT || k1 == T_QUEST)) {
            MTP_GUARD(next(ps, &t));
            MTP_GUARD(tok_str(ps, &t, &a->cond));
            if (k1 == T_QUEST)
                return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX,
                            "conditional field '%s' needs a bit number: expected '%s.N?'", a->name, a->cond);
            MTP_GUARD(next(ps, &t));
            MTP_GUARD(expect(ps, T_NUM, "(the flag bit) after '.'", &t));
            a->cond_bit = t.num;
            MTP_GUARD(expect(ps, T_QUEST, "after the flag bit", NULL));
        }
        return parse_type_expr(ps, false, &a->type);
    }
    if (!starts_term(k0)) {
        char buf[64];
        return perr(ps, &start, MTP_ERR_SCHEMA_SYNTAX, "expected an argument or '=', found %s",
                    tok_desc(&start, buf, sizeof buf));
    }
    return parse_type_expr(ps, false, &a->type);
}

static int parse_args(struct parser *ps, enum tk end, struct aarg **out, uint16_t *nout)
{
    struct arglist l = {0};
    int rc = MTP_OK;
    for (;;) {
        enum tk k;
        MTP_TRY(peek_kind(ps, 0, &k));
        if (k == end)
            break;
        if (k == T_SEMI || k == T_EOF) {
            const struct tok *t;
            MTP_TRY(peek(ps, 0, &t));
            char buf[64];
            rc = perr(ps, t, MTP_ERR_SCHEMA_SYNTAX, "expected %s before %s", tk_names[end],
                      tok_desc(t, buf, sizeof buf));
            goto out;
        }
        MTP_TRY(parse_one_arg(ps, &l));
    }
    return arglist_finish(ps, &l, out, nout);
out:
    free(l.v);
    return rc;
}

/* {X:Type} / {n:#} / {a b:Type} */
static int parse_params(struct parser *ps, struct decl *d)
{
    struct aparam list[MTP_TL_MAX_PARAMS];
    unsigned n = 0;
    for (;;) {
        enum tk k;
        MTP_GUARD(peek_kind(ps, 0, &k));
        if (k != T_LBRACE)
            break;
        struct tok t;
        MTP_GUARD(next(ps, &t));
        unsigned first = n;
        for (;;) {
            MTP_GUARD(next(ps, &t));
            if (t.kind == T_COLON)
                break;
            if (t.kind != T_IDENT) {
                char buf[64];
                return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX, "expected a parameter name then ':' in '{...}', found %s",
                            tok_desc(&t, buf, sizeof buf));
            }
            if (n == MTP_TL_MAX_PARAMS)
                return perr(ps, &t, MTP_ERR_SCHEMA_LIMIT, "more than %d parameters", MTP_TL_MAX_PARAMS);
            memset(&list[n], 0, sizeof list[n]);
            MTP_GUARD(tok_str(ps, &t, &list[n].name));
            list[n].in_group = n > first;
            n++;
        }
        if (n == first)
            return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX, "expected a parameter name before ':' in '{...}'");
        struct texpr *type;
        MTP_GUARD(parse_type_expr(ps, true, &type));
        MTP_GUARD(expect(ps, T_RBRACE, "to close the parameter", NULL));
        for (unsigned i = first; i < n; i++)
            list[i].type = type;
        list[first].group = (uint16_t)(n - first);
    }
    d->nparams = (uint16_t)n;
    if (n) {
        d->params = palloc(ps, n * sizeof *d->params);
        if (d->params == NULL)
            return MTP_ERR_NOMEM;
        memcpy(d->params, list, n * sizeof *list);
    }
    return MTP_OK;
}

/* ------------------------------------------------------------------ */
/* canonical text                                                       */

struct sbuf {
    char *p;
    size_t n, cap;
    bool failed;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 128;
        while (ncap < b->n + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (np == NULL) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_str(struct sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_num(struct sbuf *b, uint32_t v)
{
    char tmp[16];
    int n = snprintf(tmp, sizeof tmp, "%u", v);
    sb_add(b, tmp, (size_t)n);
}

static void canon_texpr(struct sbuf *b, const struct texpr *e)
{
    if (e->paren)
        sb_str(b, "(");
    if (e->bang)
        sb_str(b, "!");
    if (e->bare)
        sb_str(b, "%");
    if (e->name)
        sb_str(b, e->name);
    else
        sb_num(b, e->num);
    for (unsigned i = 0; i < e->nargs; i++) {
        sb_str(b, " ");
        canon_texpr(b, e->args[i]);
    }
    if (e->paren)
        sb_str(b, ")");
}

static bool texpr_is(const struct texpr *e, const char *name)
{
    return e && e->name && !e->bare && !e->bang && !e->paren && e->nargs == 0 && strcmp(e->name, name) == 0;
}

static void canon_args(struct sbuf *b, const struct aarg *args, unsigned n, bool *first);

static void canon_arg(struct sbuf *b, const struct aarg *a)
{
    if (a->is_array) {
        if (a->name) {
            sb_str(b, a->name);
            sb_str(b, ":");
        }
        if (a->has_mult) {
            if (a->mult_name)
                sb_str(b, a->mult_name);
            else
                sb_num(b, a->mult_num);
            sb_str(b, "*");
        }
        sb_str(b, "[");
        bool first = false;
        canon_args(b, a->sub, a->nsub, &first);
        sb_str(b, " ]");
        return;
    }
    if (a->name) {
        sb_str(b, a->name);
        sb_str(b, ":");
    }
    if (a->cond) {
        sb_str(b, a->cond);
        sb_str(b, ".");
        sb_num(b, a->cond_bit);
        sb_str(b, "?");
    }
    /* The published ids treat an argument of plain type bytes as string. */
    if (a->name && texpr_is(a->type, "bytes"))
        sb_str(b, "string");
    else
        canon_texpr(b, a->type);
}

static void canon_args(struct sbuf *b, const struct aarg *args, unsigned n, bool *first)
{
    for (unsigned i = 0; i < n; i++) {
        const struct aarg *a = &args[i];
        if (a->cond && texpr_is(a->type, "true"))
            continue;
        if (a->in_group)
            continue;
        if (!*first)
            sb_str(b, " ");
        *first = false;
        if (a->group > 0) {
            sb_str(b, "(");
            for (unsigned g = 0; g < a->group; g++) {
                if (g)
                    sb_str(b, " ");
                sb_str(b, args[i + g].name);
            }
            sb_str(b, ":");
            canon_texpr(b, a->type);
            sb_str(b, ")");
            continue;
        }
        canon_arg(b, a);
    }
}

static void canon_decl(struct sbuf *b, const struct decl *d, bool builtin)
{
    sb_str(b, d->c->name);
    if (builtin) {
        sb_str(b, " ?");
    } else {
        for (unsigned i = 0; i < d->nparams; i++) {
            const struct aparam *p = &d->params[i];
            if (p->in_group)
                continue;
            sb_str(b, " ");
            for (unsigned g = 0; g < (p->group ? p->group : 1u); g++) {
                if (g)
                    sb_str(b, " ");
                sb_str(b, d->params[i + g].name);
            }
            sb_str(b, ":");
            canon_texpr(b, p->type);
        }
        bool first = false;
        canon_args(b, d->args, d->nargs, &first);
    }
    sb_str(b, " = ");
    canon_texpr(b, d->result);
}

/* ------------------------------------------------------------------ */
/* declarations                                                         */

static int push_decl(struct parser *ps, const struct tok *at, struct decl **out)
{
    struct mtp_tl_schema *s = ps->s;
    if (s->ndecls >= SCHEMA_DECLS_MAX)
        return perr(ps, at, MTP_ERR_SCHEMA_LIMIT, "more than %u declarations", SCHEMA_DECLS_MAX);
    if (s->ndecls == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        struct decl *nd = realloc(s->decls, ncap * sizeof *nd);
        if (nd == NULL)
            return MTP_ERR_NOMEM;
        s->decls = nd;
        s->cap = ncap;
    }
    *out = &s->decls[s->ndecls];
    memset(*out, 0, sizeof **out);
    return MTP_OK;
}

static int parse_decl(struct parser *ps, const struct tok *name, unsigned flags)
{
    struct decl *d = NULL;
    MTP_GUARD(push_decl(ps, name, &d));
    struct mtp_tl_combinator *c = palloc(ps, sizeof *c);
    if (c == NULL)
        return MTP_ERR_NOMEM;
    d->c = c;
    MTP_GUARD(tok_str(ps, name, &c->name));
    if (!ident_is_lower(c->name))
        return perr(ps, name, MTP_ERR_SCHEMA_SYNTAX,
                    "expected a combinator name starting in lower case, found '%s'", c->name);
    c->explicit_id = name->has_id;
    c->id = name->id;
    c->is_function = ps->functions;
    c->file = ps->file;
    c->line = name->line;
    c->col = name->col;
    c->schema = ps->schema;

    enum tk k;
    MTP_GUARD(peek_kind(ps, 0, &k));
    if (k == T_QUEST) {
        struct tok t;
        MTP_GUARD(next(ps, &t));
        c->builtin = true;
        MTP_GUARD(expect(ps, T_EQ, "after '?' of a built-in type", NULL));
    } else {
        MTP_GUARD(parse_params(ps, d));
        MTP_GUARD(parse_args(ps, T_EQ, &d->args, &d->nargs));
        MTP_GUARD(expect(ps, T_EQ, "before the result type", NULL));
    }
    MTP_GUARD(parse_type_expr(ps, true, &d->result));
    struct tok semi;
    MTP_GUARD(next(ps, &semi));
    if (semi.kind != T_SEMI) {
        char buf[64];
        return perr(ps, &semi, MTP_ERR_SCHEMA_SYNTAX, "expected ';' after the result type of '%s', found %s",
                    c->name, tok_desc(&semi, buf, sizeof buf));
    }

    struct sbuf b = {0};
    canon_decl(&b, d, c->builtin);
    if (b.failed) {
        free(b.p);
        return MTP_ERR_NOMEM;
    }
    c->canonical = arena_strndup(&ps->s->arena, b.p, b.n);
    c->computed_id = mtp_tl_crc32(b.p, b.n);
    free(b.p);
    if (c->canonical == NULL)
        return MTP_ERR_NOMEM;
    if (!c->explicit_id)
        c->id = c->computed_id;
    else if (c->id != c->computed_id && (flags & MTP_TL_ADD_STRICT_IDS))
        return perr(ps, name, MTP_ERR_SCHEMA_ID_MISMATCH, "%s#%08x: the CRC32 of '%s' is %08x", c->name, c->id,
                    c->canonical, c->computed_id);

    /* Inside one schema a name or an id is declared once. */
    struct nentry *dup = nmap_find_in(&ps->s->ctor_names, c->name, ps->schema);
    if (dup) {
        const struct mtp_tl_combinator *o = dup->ptr;
        return perr(ps, name, MTP_ERR_SCHEMA_DUPLICATE, "'%s' is already declared at line %u", c->name, o->line);
    }
    const struct mtp_tl_combinator *o = mtp_tl_idmap_get(&ps->seen, c->id);
    if (o)
        return perr(ps, name, MTP_ERR_SCHEMA_DUPLICATE, "'%s' has id %08x, already used by '%s' at line %u", c->name,
                    c->id, o->name, o->line);
    MTP_GUARD(idmap_put(&ps->seen, c->id, c));
    MTP_GUARD(nmap_add(&ps->s->ctor_names, &ps->s->arena, c->name, ps->schema, c));
    ps->s->ndecls++;
    return MTP_OK;
}

/* `New T;`, `Final T;`, `Empty T;` (TL-formal partial declarations): accepted, no effect. */
static bool is_final_keyword(const struct tok *t)
{
    static const char *const kw[] = {"New", "Final", "Empty"};
    for (size_t i = 0; i < 3; i++)
        if (t->n == strlen(kw[i]) && memcmp(t->p, kw[i], t->n) == 0)
            return true;
    return false;
}

static int parse_text(struct parser *ps, unsigned flags)
{
    for (;;) {
        struct tok t;
        MTP_GUARD(next(ps, &t));
        switch (t.kind) {
        case T_EOF:
            return MTP_OK;
        case T_TYPES:
            ps->functions = false;
            continue;
        case T_FUNCTIONS:
            ps->functions = true;
            continue;
        case T_SEMI:
            continue;
        case T_IDENT:
            if (!t.has_id && is_final_keyword(&t)) {
                enum tk k1;
                MTP_GUARD(peek_kind(ps, 0, &k1));
                if (k1 == T_IDENT) {
                    MTP_GUARD(next(ps, &t));
                    MTP_GUARD(expect(ps, T_SEMI, "after the type of a New/Final/Empty declaration", NULL));
                    continue;
                }
            }
            MTP_GUARD(parse_decl(ps, &t, flags));
            continue;
        default: {
            char buf[64];
            return perr(ps, &t, MTP_ERR_SCHEMA_SYNTAX, "expected a combinator declaration, found %s",
                        tok_desc(&t, buf, sizeof buf));
        }
        }
    }
}

/* ------------------------------------------------------------------ */
/* public: building                                                     */

struct mtp_tl_schema *mtp_tl_schema_new(void)
{
    struct mtp_tl_schema *s = calloc(1, sizeof *s);
    if (s)
        mtp_tl_arena_init(&s->arena, 0);
    return s;
}

void mtp_tl_schema_free(struct mtp_tl_schema *s)
{
    if (s == NULL)
        return;
    free(s->decls);
    free(s->all);
    free(s->ctor_names.slots);
    free(s->type_names.slots);
    free(s->ids.keys);
    free(s->ids.vals);
    mtp_tl_arena_free(&s->arena);
    free(s);
}

int mtp_tl_schema_add_text(struct mtp_tl_schema *s, const char *text, size_t len, const char *file, unsigned flags,
                           struct mtp_error *err)
{
    if (s->linked || s->broken)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "%s: schema already linked or failed to load", file);
    if (len > SCHEMA_TEXT_MAX)
        return mtp_error_set(err, MTP_ERR_SCHEMA_LIMIT, MTP_NO_OFFSET, "%s: schema text of %zu bytes is over %u",
                             file, len, SCHEMA_TEXT_MAX);
    if (s->nschemas == UINT16_MAX)
        return mtp_error_set(err, MTP_ERR_SCHEMA_LIMIT, MTP_NO_OFFSET, "%s: too many schemas", file);
    struct parser ps = {
        .s = s, .text = text, .len = len, .line = 1, .col = 1, .schema = s->nschemas, .err = err,
    };
    ps.file = arena_strndup(&s->arena, file, strlen(file));
    if (ps.file == NULL)
        return MTP_ERR_NOMEM;
    int rc = parse_text(&ps, flags);
    free(ps.seen.keys);
    free(ps.seen.vals);
    if (rc < 0) {
        /* Half-added texts cannot be taken back out of the name tables. */
        s->broken = true;
        if (rc == MTP_ERR_NOMEM)
            mtp_error_set(err, rc, MTP_NO_OFFSET, "%s: out of memory", file);
        return rc;
    }
    s->nschemas++;
    return MTP_OK;
}

int mtp_tl_schema_add_file(struct mtp_tl_schema *s, const char *path, unsigned flags, struct mtp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    int rc = MTP_OK;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n > SCHEMA_TEXT_MAX) {
            rc = mtp_error_set(err, MTP_ERR_SCHEMA_LIMIT, MTP_NO_OFFSET, "%s: larger than %u bytes", path,
                               SCHEMA_TEXT_MAX);
            break;
        }
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    bool ioerr = ferror(f) != 0;
    fclose(f);
    if (buf == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "%s: out of memory", path);
    if (rc == MTP_OK && ioerr)
        rc = mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: read error", path);
    if (rc == MTP_OK) {
        const char *base = strrchr(path, '/');
        rc = mtp_tl_schema_add_text(s, buf, n, base ? base + 1 : path, flags, err);
    }
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* linking                                                              */

struct scope {
    struct mtp_tl_schema *s;
    const struct decl *d;          /* NULL for free-standing type expressions */
    const struct aarg *args;       /* the argument list being resolved (combinator or repetition) */
    const struct mtp_tl_arg *done; /* resolved arguments so far */
    unsigned ndone;
    struct mtp_tl_arena *a;
    int schema;
    struct mtp_error *err;
};

static int lerr(const struct scope *sc, uint32_t line, uint32_t col, size_t off, int code, const char *fmt, ...)
    MTP_PRINTF(6, 7);
static int lerr(const struct scope *sc, uint32_t line, uint32_t col, size_t off, int code, const char *fmt, ...)
{
    char msg[MTP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sc->d)
        return mtp_error_set(sc->err, code, off, "%s:%u:%u: %s: %s", sc->d->c->file, line, col, sc->d->c->name, msg);
    return mtp_error_set(sc->err, code, off, "%s", msg);
}

static void *salloc(struct mtp_tl_arena *a, size_t n)
{
    void *p = mtp_tl_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

static int param_index(const struct decl *d, const char *name)
{
    if (d == NULL)
        return -1;
    for (unsigned i = 0; i < d->nparams; i++)
        if (strcmp(d->params[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool param_is_nat(const struct decl *d, unsigned i) { return texpr_is(d->params[i].type, "#"); }

static int resolve(const struct scope *sc, const struct texpr *e, const struct mtp_tl_tref **out);

static int resolve_args(const struct scope *sc, const struct texpr *e, struct mtp_tl_tref *t)
{
    if (e->nargs == 0)
        return MTP_OK;
    const struct mtp_tl_tref **args = salloc(sc->a, e->nargs * sizeof *args);
    if (args == NULL)
        return MTP_ERR_NOMEM;
    for (unsigned i = 0; i < e->nargs; i++)
        MTP_GUARD(resolve(sc, e->args[i], &args[i]));
    t->args = args;
    t->nargs = e->nargs;
    return MTP_OK;
}

static int resolve(const struct scope *sc, const struct texpr *e, const struct mtp_tl_tref **out)
{
    struct mtp_tl_tref *t;
    if (e->name == NULL) {
        if (e->bare || e->bang)
            return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_BAD_ARG, "a number cannot be bare or a function");
        t = salloc(sc->a, sizeof *t);
        if (t == NULL)
            return MTP_ERR_NOMEM;
        t->kind = MTP_TL_NATCONST;
        t->nat = e->num;
        *out = t;
        return MTP_OK;
    }
    int pi = param_index(sc->d, e->name);
    if (pi >= 0) {
        if (e->nargs)
            return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_BAD_ARG, "type variable '%s' takes no arguments",
                        e->name);
        if (!e->bang && param_is_nat(sc->d, (unsigned)pi)) {
            t = salloc(sc->a, sizeof *t);
            if (t == NULL)
                return MTP_ERR_NOMEM;
            t->kind = MTP_TL_VAR;
            t->var = (uint16_t)pi;
            *out = t;
            return MTP_OK;
        }
        t = salloc(sc->a, sizeof *t);
        if (t == NULL)
            return MTP_ERR_NOMEM;
        t->kind = MTP_TL_VAR;
        t->var = (uint16_t)pi;
        t->bang = e->bang;
        *out = t;
        return MTP_OK;
    }
    if (e->bang) {
        /* !T for a concrete T: any function call of that result type; decoded as any object. */
        *out = &bang_object;
        return MTP_OK;
    }
    const struct builtin_name *bn = find_builtin(e->name);
    if (bn) {
        if (e->nargs != bn->nargs)
            return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_BAD_ARG, "'%s' takes %u type argument%s, not %u",
                        e->name, bn->nargs, bn->nargs == 1 ? "" : "s", e->nargs);
        if (bn->nargs == 0 && !(e->bare && (bn->kind == MTP_TL_BOOL || bn->kind == MTP_TL_OBJECT))) {
            *out = &builtins[bn->kind];
            return MTP_OK;
        }
        if (bn->nargs == 0)
            return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_BAD_ARG, "'%%%s' has no bare form", e->name);
        t = salloc(sc->a, sizeof *t);
        if (t == NULL)
            return MTP_ERR_NOMEM;
        t->kind = (bn->kind == MTP_TL_VECTOR && e->bare) ? MTP_TL_BARE_VECTOR : bn->kind;
        MTP_GUARD(resolve_args(sc, e, t));
        if (t->args[0]->kind == MTP_TL_NATCONST)
            return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_BAD_ARG, "vector of a number");
        *out = t;
        return MTP_OK;
    }
    if (strcmp(e->name, "Type") == 0)
        return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_BAD_ARG, "'Type' is only valid in {X:Type}");

    if (ident_is_lower(e->name)) {
        const struct mtp_tl_combinator *c = nmap_resolve(&sc->s->ctor_names, e->name, sc->schema);
        if (c == NULL || c->is_function)
            return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_UNKNOWN_TYPE, "unknown constructor '%s'", e->name);
        t = salloc(sc->a, sizeof *t);
        if (t == NULL)
            return MTP_ERR_NOMEM;
        t->kind = MTP_TL_BARE;
        t->ctor = c;
        MTP_GUARD(resolve_args(sc, e, t));
        if (t->nargs != c->type->nparams)
            return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_BAD_ARG, "'%s' takes %u type arguments, not %u",
                        e->name, c->type->nparams, t->nargs);
        *out = t;
        return MTP_OK;
    }
    struct mtype *ty = nmap_resolve(&sc->s->type_names, e->name, sc->schema);
    if (ty == NULL)
        return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_UNKNOWN_TYPE, "unknown type '%s'", e->name);
    if (e->nargs != ty->t.nparams)
        return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_BAD_ARG, "type '%s' takes %u arguments, not %u",
                    e->name, ty->t.nparams, e->nargs);
    if (e->bare) {
        if (ty->t.nctors != 1)
            return lerr(sc, e->line, e->col, e->off, MTP_ERR_SCHEMA_BAD_ARG,
                        "bare '%%%s' needs a type with exactly one constructor, it has %u", e->name, ty->t.nctors);
        t = salloc(sc->a, sizeof *t);
        if (t == NULL)
            return MTP_ERR_NOMEM;
        t->kind = MTP_TL_BARE;
        t->ctor = ty->t.ctors[0];
        MTP_GUARD(resolve_args(sc, e, t));
        *out = t;
        return MTP_OK;
    }
    if (e->nargs == 0 && ty->boxed) {
        *out = ty->boxed;
        return MTP_OK;
    }
    t = salloc(sc->a, sizeof *t);
    if (t == NULL)
        return MTP_ERR_NOMEM;
    t->kind = MTP_TL_BOXED;
    t->type = &ty->t;
    MTP_GUARD(resolve_args(sc, e, t));
    if (e->nargs == 0 && sc->a == &sc->s->arena)
        ty->boxed = t; /* cache only what the schema owns */
    *out = t;
    return MTP_OK;
}

/* The most recent `#` argument before index `upto` (by name, or any when name is NULL). */
static int find_nat_arg(const struct scope *sc, const char *name)
{
    for (int i = (int)sc->ndone - 1; i >= 0; i--) {
        const struct mtp_tl_arg *a = &sc->done[i];
        if (a->type->kind != MTP_TL_NAT)
            continue;
        if (name == NULL || (a->name && strcmp(a->name, name) == 0))
            return i;
    }
    return -1;
}

static int link_args(struct scope *sc, const struct aarg *src, unsigned n, const struct mtp_tl_arg **out,
                     uint8_t *nnats);
static int make_steps(struct mtp_tl_arena *a, struct mtp_tl_combinator *c);

static int link_array(struct scope *sc, const struct aarg *aa, struct mtp_tl_arg *dst)
{
    struct mtp_tl_array *arr = salloc(sc->a, sizeof *arr);
    struct mtp_tl_tref *t = salloc(sc->a, sizeof *t);
    struct mtp_tl_combinator *rec = salloc(sc->a, sizeof *rec);
    if (arr == NULL || t == NULL || rec == NULL)
        return MTP_ERR_NOMEM;
    t->kind = MTP_TL_ARRAY;
    t->array = arr;
    if (aa->has_mult && aa->mult_name == NULL) {
        arr->mult_kind = MTP_TL_MULT_CONST;
        arr->mult = aa->mult_num;
    } else {
        int ai = find_nat_arg(sc, aa->mult_name);
        if (ai >= 0) {
            arr->mult_kind = MTP_TL_MULT_ARG;
            arr->mult = (uint32_t)sc->done[ai].nat_slot;
        } else {
            int pi = aa->mult_name ? param_index(sc->d, aa->mult_name) : -1;
            if (pi < 0 && aa->mult_name == NULL && sc->d)
                for (int i = (int)sc->d->nparams - 1; i >= 0 && pi < 0; i--)
                    if (param_is_nat(sc->d, (unsigned)i))
                        pi = i;
            if (pi < 0 || !param_is_nat(sc->d, (unsigned)pi))
                return lerr(sc, aa->line, aa->col, aa->off, MTP_ERR_SCHEMA_BAD_ARG,
                            aa->mult_name ? "repetition count '%s' is not an earlier '#' argument or {n:#} parameter"
                                          : "repetition without a count: no earlier '#' argument%s",
                            aa->mult_name ? aa->mult_name : "");
            arr->mult_kind = MTP_TL_MULT_PARAM;
            arr->mult = (uint32_t)pi;
        }
    }
    /* The record's fields see the enclosing parameters but start their own argument list. */
    struct scope sub = *sc;
    sub.done = NULL;
    sub.ndone = 0;
    rec->nparams = 0;
    rec->file = sc->d ? sc->d->c->file : NULL;
    rec->line = aa->line;
    rec->col = aa->col;
    rec->schema = (uint16_t)sc->schema;
    MTP_GUARD(link_args(&sub, aa->sub, aa->nsub, &rec->args, &rec->nnats));
    rec->nargs = aa->nsub;
    MTP_GUARD(make_steps(sc->a, rec));
    arr->record = rec;
    dst->type = t;
    return MTP_OK;
}

static int link_args(struct scope *sc, const struct aarg *src, unsigned n, const struct mtp_tl_arg **out,
                     uint8_t *nnats)
{
    struct mtp_tl_arg *args = n ? salloc(sc->a, n * sizeof *args) : NULL;
    if (n && args == NULL)
        return MTP_ERR_NOMEM;
    sc->done = args;
    sc->ndone = 0;
    unsigned slots = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct aarg *aa = &src[i];
        struct mtp_tl_arg *a = &args[i];
        a->name = aa->name;
        a->cond_arg = -1;
        a->cond_slot = -1;
        a->nat_slot = -1;
        if (aa->is_array) {
            MTP_GUARD(link_array(sc, aa, a));
        } else {
            MTP_GUARD(resolve(sc, aa->type, &a->type));
            if (a->type->kind == MTP_TL_NATCONST)
                return lerr(sc, aa->line, aa->col, aa->off, MTP_ERR_SCHEMA_BAD_ARG, "argument of type number");
            if (a->type->kind == MTP_TL_VAR && sc->d && param_is_nat(sc->d, a->type->var))
                return lerr(sc, aa->line, aa->col, aa->off, MTP_ERR_SCHEMA_BAD_ARG,
                            "'%s' is a number parameter, not a type", sc->d->params[a->type->var].name);
        }
        if (aa->cond) {
            int fi = -1;
            for (int j = (int)i - 1; j >= 0; j--)
                if (args[j].name && strcmp(args[j].name, aa->cond) == 0) {
                    fi = j;
                    break;
                }
            if (fi < 0 || args[fi].type->kind != MTP_TL_NAT)
                return lerr(sc, aa->line, aa->col, aa->off, MTP_ERR_SCHEMA_BAD_ARG,
                            "'%s' is conditional on '%s', which is not an earlier '#' argument", aa->name, aa->cond);
            if (aa->cond_bit > 31)
                return lerr(sc, aa->line, aa->col, aa->off, MTP_ERR_SCHEMA_BAD_ARG, "flag bit %u of '%s' is over 31",
                            aa->cond_bit, aa->name);
            a->cond_arg = (int16_t)fi;
            a->cond_slot = args[fi].nat_slot;
            a->cond_bit = (uint8_t)aa->cond_bit;
            args[fi].is_flags = true;
        }
        if (a->type->kind == MTP_TL_NAT) {
            if (slots == MTP_TL_MAX_NATS)
                return lerr(sc, aa->line, aa->col, aa->off, MTP_ERR_SCHEMA_LIMIT, "more than %d '#' arguments",
                            MTP_TL_MAX_NATS);
            a->nat_slot = (int8_t)slots++;
        }
        sc->ndone = i + 1;
    }
    *out = args;
    *nnats = (uint8_t)slots;
    return MTP_OK;
}

static int make_steps(struct mtp_tl_arena *a, struct mtp_tl_combinator *c)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->nargs; i++)
        n += c->args[i].type->kind != MTP_TL_TRUE;
    struct mtp_tl_step *st = n ? salloc(a, n * sizeof *st) : NULL;
    if (n && st == NULL)
        return MTP_ERR_NOMEM;
    n = 0;
    for (unsigned i = 0; i < c->nargs; i++) {
        const struct mtp_tl_arg *g = &c->args[i];
        if (g->type->kind == MTP_TL_TRUE)
            continue;
        st[n++] = (struct mtp_tl_step){
            .kind = g->type->kind,
            .cond_slot = g->cond_slot >= 0 ? (uint8_t)g->cond_slot : MTP_TL_MAX_NATS,
            .cond_mask = g->cond_slot >= 0 ? 1u << g->cond_bit : 1u,
            .nat_slot = g->nat_slot,
            .arg = (uint16_t)i,
            .is_flags = g->is_flags,
            .type = g->type,
        };
    }
    c->steps = st;
    c->nsteps = (uint16_t)n;
    c->fixed_fields = true;
    for (unsigned i = 0; i < n; i++)
        if (st[i].cond_slot != MTP_TL_MAX_NATS)
            c->fixed_fields = false;
    return MTP_OK;
}

static int add_type(struct mtp_tl_schema *s, struct decl *d, struct mtp_error *err)
{
    struct mtp_tl_combinator *c = d->c;
    const struct texpr *r = d->result;
    struct scope sc = {.s = s, .d = d, .a = &s->arena, .schema = c->schema, .err = err};
    if (r->name == NULL || r->bare || r->bang || strcmp(r->name, "#") == 0)
        return lerr(&sc, r->line, r->col, r->off, MTP_ERR_SCHEMA_SYNTAX, "result type must be a type name");
    if (ident_is_lower(r->name) && !c->builtin)
        return lerr(&sc, r->line, r->col, r->off, MTP_ERR_SCHEMA_SYNTAX,
                    "result type '%s' must start in upper case", r->name);
    struct nentry *e = nmap_find_in(&s->type_names, r->name, c->schema);
    struct mtype *ty = e ? e->ptr : NULL;
    if (ty == NULL) {
        ty = salloc(&s->arena, sizeof *ty);
        if (ty == NULL)
            return MTP_ERR_NOMEM;
        ty->t.name = r->name;
        ty->t.nparams = r->nargs;
        ty->t.schema = c->schema;
        MTP_GUARD(nmap_add(&s->type_names, &s->arena, r->name, c->schema, ty));
    } else if (ty->t.nparams != r->nargs) {
        return lerr(&sc, r->line, r->col, r->off, MTP_ERR_SCHEMA_BAD_ARG,
                    "type '%s' has %u arguments here but %u elsewhere", r->name, r->nargs, ty->t.nparams);
    }
    if (ty->t.nctors == ty->cap) {
        uint32_t ncap = ty->cap ? ty->cap * 2 : 4;
        const struct mtp_tl_combinator **nv = mtp_tl_arena_alloc(&s->arena, ncap * sizeof *nv);
        if (nv == NULL)
            return MTP_ERR_NOMEM;
        if (ty->t.nctors)
            memcpy(nv, ty->ctors, ty->t.nctors * sizeof *nv);
        ty->ctors = nv;
        ty->cap = ncap;
    }
    ty->ctors[ty->t.nctors++] = c;
    ty->t.ctors = ty->ctors;
    c->type = &ty->t;
    if (r->nargs) {
        int8_t *map = salloc(&s->arena, r->nargs);
        if (map == NULL)
            return MTP_ERR_NOMEM;
        for (unsigned i = 0; i < r->nargs; i++) {
            const struct texpr *ra = r->args[i];
            int pi = ra->name ? param_index(d, ra->name) : -1;
            map[i] = (int8_t)pi;
        }
        c->result_map = map;
    }
    return MTP_OK;
}

static int link_builtin(struct mtp_tl_schema *s, struct decl *d, struct mtp_error *err)
{
    struct mtp_tl_combinator *c = d->c;
    const struct builtin_name *bn = find_builtin(c->name);
    if (bn == NULL || bn->nargs || bn->kind == MTP_TL_TRUE || bn->kind == MTP_TL_OBJECT || bn->kind == MTP_TL_BOOL)
        return mtp_error_set(err, MTP_ERR_SCHEMA_BAD_ARG, MTP_NO_OFFSET,
                             "%s:%u:%u: '%s ? = ...' declares an unknown built-in type", c->file, c->line, c->col,
                             c->name);
    struct mtp_tl_arg *a = salloc(&s->arena, sizeof *a);
    if (a == NULL)
        return MTP_ERR_NOMEM;
    a->type = &builtins[bn->kind];
    a->cond_arg = -1;
    a->cond_slot = -1;
    a->nat_slot = -1;
    c->args = a;
    c->nargs = 1;
    return MTP_OK;
}

static bool arg_kind_is(const struct mtp_tl_combinator *c, unsigned i, enum mtp_tl_kind k)
{
    return i < c->nargs && c->args[i].cond_arg < 0 && c->args[i].type->kind == k;
}

static void mark_special(struct mtp_tl_combinator *c)
{
    if (c->is_function)
        return;
    if (c->id == MTP_TL_ID_GZIP_PACKED && c->nargs == 1 &&
        (arg_kind_is(c, 0, MTP_TL_BYTES) || arg_kind_is(c, 0, MTP_TL_STRING)))
        c->special = MTP_TL_SPECIAL_GZIP;
    else if (c->id == MTP_TL_ID_RPC_RESULT && c->nargs == 2 && arg_kind_is(c, 0, MTP_TL_LONG) &&
             arg_kind_is(c, 1, MTP_TL_OBJECT))
        c->special = MTP_TL_SPECIAL_RPC_RESULT;
    else if (c->nargs == 4 && strcmp(c->name, "message") == 0 && arg_kind_is(c, 0, MTP_TL_LONG) &&
             arg_kind_is(c, 1, MTP_TL_INT) && arg_kind_is(c, 2, MTP_TL_INT) && arg_kind_is(c, 3, MTP_TL_OBJECT))
        c->special = MTP_TL_SPECIAL_MESSAGE;
}

int mtp_tl_schema_link(struct mtp_tl_schema *s, struct mtp_error *err)
{
    if (s->linked || s->broken)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "schema already linked or failed to load");
    /* Types first, so arguments can refer to constructors declared later. */
    for (size_t i = 0; i < s->ndecls; i++)
        if (!s->decls[i].c->is_function)
            MTP_GUARD(add_type(s, &s->decls[i], err));
    for (size_t i = 0; i < s->ndecls; i++) {
        struct decl *d = &s->decls[i];
        struct mtp_tl_combinator *c = d->c;
        if (c->builtin) {
            MTP_GUARD(link_builtin(s, d, err));
        } else {
            struct scope sc = {.s = s, .d = d, .a = &s->arena, .schema = c->schema, .err = err};
            MTP_GUARD(link_args(&sc, d->args, d->nargs, &c->args, &c->nnats));
            c->nargs = d->nargs;
            if (d->nparams) {
                struct mtp_tl_param *p = salloc(&s->arena, d->nparams * sizeof *p);
                if (p == NULL)
                    return MTP_ERR_NOMEM;
                for (unsigned k = 0; k < d->nparams; k++) {
                    p[k].name = d->params[k].name;
                    p[k].is_nat = param_is_nat(d, k);
                    if (!p[k].is_nat && !texpr_is(d->params[k].type, "Type"))
                        return lerr(&sc, d->params[k].type->line, d->params[k].type->col, d->params[k].type->off,
                                    MTP_ERR_SCHEMA_BAD_ARG, "parameter '%s' must be {%s:Type} or {%s:#}", p[k].name,
                                    p[k].name, p[k].name);
                }
                c->params = p;
                c->nparams = d->nparams;
            }
            if (c->is_function) {
                sc.done = NULL;
                sc.ndone = 0;
                MTP_GUARD(resolve(&sc, d->result, &c->result));
            }
        }
        mark_special(c);
        MTP_GUARD(make_steps(&s->arena, c));
    }
    /* One wire id, one combinator. */
    s->all = calloc(s->ndecls ? s->ndecls : 1, sizeof *s->all);
    if (s->all == NULL)
        return MTP_ERR_NOMEM;
    for (size_t i = 0; i < s->ndecls; i++) {
        struct mtp_tl_combinator *c = s->decls[i].c;
        const struct mtp_tl_combinator *o = mtp_tl_idmap_get(&s->ids, c->id);
        if (o) {
            if (strcmp(o->canonical, c->canonical) == 0 && strcmp(o->name, c->name) == 0)
                continue;
            return mtp_error_set(err, MTP_ERR_SCHEMA_CONFLICT, MTP_NO_OFFSET,
                                 "%s:%u:%u: %s#%08x conflicts with %s:%u:%u: '%s' has the same id", c->file, c->line,
                                 c->col, c->name, c->id, o->file, o->line, o->col, o->name);
        }
        MTP_GUARD(idmap_put(&s->ids, c->id, c));
        s->all[s->nall++] = c;
        c->shadowed = mtp_tl_find_name(s, c->name) != c;
        if (c->explicit_id && c->id != c->computed_id)
            s->mismatches++;
    }
    s->linked = true;
    return MTP_OK;
}

/* ------------------------------------------------------------------ */
/* lookups                                                              */

size_t mtp_tl_schema_count(const struct mtp_tl_schema *s) { return s->nall; }

const struct mtp_tl_combinator *mtp_tl_schema_at(const struct mtp_tl_schema *s, size_t i)
{
    return i < s->nall ? s->all[i] : NULL;
}

size_t mtp_tl_schema_id_mismatches(const struct mtp_tl_schema *s) { return s->mismatches; }

const struct mtp_tl_combinator *mtp_tl_find_id(const struct mtp_tl_schema *s, uint32_t id)
{
    return mtp_tl_idmap_get(&s->ids, id);
}

const struct mtp_tl_idmap *mtp_tl_schema_idmap(const struct mtp_tl_schema *s) { return &s->ids; }

const struct mtp_tl_combinator *mtp_tl_find_name(const struct mtp_tl_schema *s, const char *name)
{
    struct nentry *e = nmap_find(&s->ctor_names, name);
    return e ? e->ptr : NULL;
}

const struct mtp_tl_type *mtp_tl_find_type(const struct mtp_tl_schema *s, const char *name)
{
    struct nentry *e = nmap_find(&s->type_names, name);
    return e ? &((struct mtype *)e->ptr)->t : NULL;
}

const struct mtp_tl_combinator *mtp_tl_type_ctor(const struct mtp_tl_type *t, const char *name)
{
    for (uint32_t i = 0; i < t->nctors; i++)
        if (strcmp(t->ctors[i]->name, name) == 0)
            return t->ctors[i];
    return NULL;
}

/* A free-standing type expression, for the command line and the codec API. */
int mtp_tl_schema_parse_type(const struct mtp_tl_schema *s, const char *text, struct mtp_tl_arena *a,
                             const struct mtp_tl_tref **out, struct mtp_error *err)
{
    /* The parser allocates its syntax tree in the schema arena; parse into a
     * scratch schema that shares nothing but lookups. */
    struct mtp_tl_schema scratch;
    memset(&scratch, 0, sizeof scratch);
    mtp_tl_arena_init(&scratch.arena, 1u << 20);
    struct mtp_error perr_;
    mtp_error_clear(&perr_);
    struct parser ps = {
        .s = &scratch, .text = text, .len = strlen(text), .line = 1, .col = 1, .file = "type", .err = &perr_,
    };
    struct texpr *e = NULL;
    int rc = parse_type_expr(&ps, true, &e);
    if (rc == MTP_OK) {
        enum tk k;
        rc = peek_kind(&ps, 0, &k);
        if (rc == MTP_OK && k != T_EOF) {
            const struct tok *t;
            rc = peek(&ps, 0, &t);
            if (rc == MTP_OK) {
                char buf[64];
                rc = perr(&ps, t, MTP_ERR_SCHEMA_SYNTAX, "unexpected %s after the type", tok_desc(t, buf, sizeof buf));
            }
        }
    }
    if (rc == MTP_OK) {
        struct scope sc = {.s = (struct mtp_tl_schema *)s, .a = a, .schema = -1, .err = &perr_};
        rc = resolve(&sc, e, out);
    }
    mtp_tl_arena_free(&scratch.arena);
    if (rc < 0) {
        int code = (rc == MTP_ERR_SCHEMA_UNKNOWN_TYPE || rc == MTP_ERR_SCHEMA_SYNTAX || rc == MTP_ERR_SCHEMA_BAD_ARG ||
                    rc == MTP_ERR_SCHEMA_LIMIT)
                       ? MTP_ERR_TL_UNKNOWN_TYPE
                       : rc;
        return mtp_error_set(err, code, MTP_NO_OFFSET, "type '%s': %s", text, perr_.msg);
    }
    return MTP_OK;
}
