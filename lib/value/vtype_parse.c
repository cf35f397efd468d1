/* vtype_parse.c -- the short Go-like type line: "Student{Name string, Score []int}", read and written. */
#include "value/vtype.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"

enum { MAX_DEPTH = 32, MAX_NAMED = 64, MAX_FIELDS = 256 };

/* A pointer to a struct still being read, copied before its fields were known. */
typedef struct ptr_copy {
    vtype *copy;
    const vtype *of;
} ptr_copy;

typedef struct parser {
    typeset *ts;
    const char *text, *p;
    vtype *named[MAX_NAMED]; /* struct types named so far, complete or being read */
    bool done[MAX_NAMED];
    size_t nnamed;
    ptr_copy copies[MAX_NAMED];
    size_t ncopies;
    char *err;
    size_t errlen;
    bool failed;
} parser;

static void skip_ws(parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

static const vtype *fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const vtype *fail(parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return NULL;
    ps->failed = true;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    skip_ws(ps);
    if (!*ps->p)
        err_set(ps->err, ps->errlen, _("the type ends too soon: %s"), msg);
    else
        err_set(ps->err, ps->errlen, _("%s, at column %d of the type"), msg, (int)(ps->p - ps->text) + 1);
    return NULL;
}

static bool eat(parser *ps, char c)
{
    skip_ws(ps);
    if (*ps->p != c)
        return false;
    ps->p++;
    return true;
}

/* Reads a Go identifier into out; 0 when there is none. */
static size_t ident(parser *ps, char *out, size_t n)
{
    skip_ws(ps);
    size_t len = 0;
    while (isalnum((unsigned char)ps->p[len]) || ps->p[len] == '_')
        len++;
    if (len == 0 || isdigit((unsigned char)ps->p[0]) || len >= n)
        return 0;
    memcpy(out, ps->p, len);
    out[len] = '\0';
    ps->p += len;
    return len;
}

static const struct basic {
    const char *name;
    vtype_kind kind;
    unsigned char bits;
} basics[] = {
    {"bool", T_BOOL, 0},    {"int", T_INT, 0},        {"int64", T_INT, 0},    {"int32", T_INT, 32},
    {"rune", T_INT, 32},    {"int16", T_INT, 16},     {"int8", T_INT, 8},     {"uint", T_UINT, 0},
    {"uint64", T_UINT, 0},  {"uintptr", T_UINT, 0},   {"uint32", T_UINT, 32}, {"uint16", T_UINT, 16},
    {"uint8", T_UINT, 8},   {"byte", T_UINT, 8},      {"float64", T_FLOAT, 0}, {"float32", T_FLOAT, 32},
    {"string", T_STRING, 0}, {"any", T_ANY, 0},
};

static const vtype *basic_type(parser *ps, const char *name)
{
    for (size_t i = 0; i < sizeof basics / sizeof *basics; i++) {
        if (strcmp(basics[i].name, name) != 0)
            continue;
        if (basics[i].kind == T_ANY)
            return &vtype_any;
        vtype *t = typeset_alloc(ps->ts, sizeof *t);
        if (!t || !(t->name = typeset_strdup(ps->ts, name)))
            return fail(ps, "out of memory");
        t->kind = basics[i].kind;
        t->bits = basics[i].bits;
        return t;
    }
    return NULL;
}

static const vtype *p_type(parser *ps, bool indirect, int depth);

/* The fields of a struct, from just after its '{' to its '}'. */
static const vtype *p_fields(parser *ps, vtype *t, int depth)
{
    vtype_field f[MAX_FIELDS];
    size_t n = 0;
    while (!eat(ps, '}')) {
        char name[128];
        if (n > 0 && !eat(ps, ',') && !eat(ps, ';'))
            return fail(ps, _("want ',' or '}' after a field"));
        if (eat(ps, '}'))
            break;
        if (!ident(ps, name, sizeof name))
            return fail(ps, _("want a field name"));
        if (!(name[0] >= 'A' && name[0] <= 'Z'))
            return fail(ps, _("field \"%s\": gob carries only exported fields, whose names start "
                              "with a capital letter"), name);
        for (size_t i = 0; i < n; i++)
            if (strcmp(f[i].name, name) == 0)
                return fail(ps, _("field \"%s\" twice"), name);
        if (n == MAX_FIELDS)
            return fail(ps, _("more than %d fields"), MAX_FIELDS);
        if (!(f[n].name = typeset_strdup(ps->ts, name)))
            return fail(ps, "out of memory");
        if (!(f[n].type = p_type(ps, false, depth + 1)))
            return NULL;
        n++;
    }
    vtype_field *fs = typeset_alloc(ps->ts, n * sizeof *fs);
    if (!fs)
        return fail(ps, "out of memory");
    memcpy(fs, f, n * sizeof *fs);
    t->fields = fs;
    t->nfields = n;
    for (size_t i = 0; i < ps->ncopies; i++) /* pointers to t taken while reading it */
        if (ps->copies[i].of == t) {
            ps->copies[i].copy->fields = fs;
            ps->copies[i].copy->nfields = n;
        }
    return t;
}

/* A struct type, named (name != NULL) or not, from just before its '{'. */
static const vtype *p_struct(parser *ps, const char *name, int depth)
{
    if (!eat(ps, '{'))
        return fail(ps, _("want '{' after %s"), name ? name : "struct");
    vtype *t = typeset_alloc(ps->ts, sizeof *t);
    if (!t)
        return fail(ps, "out of memory");
    t->kind = T_STRUCT;
    size_t slot = ps->nnamed;
    if (name) {
        for (size_t i = 0; i < ps->nnamed; i++)
            if (strcmp(ps->named[i]->name, name) == 0)
                return fail(ps, _("type %s is defined twice: after the first time, write %s alone"), name,
                            name);
        if (ps->nnamed == MAX_NAMED)
            return fail(ps, _("more than %d named types"), MAX_NAMED);
        if (!(t->name = typeset_strdup(ps->ts, name)))
            return fail(ps, "out of memory");
        ps->named[ps->nnamed++] = t;
    }
    if (!p_fields(ps, t, depth))
        return NULL;
    if (name)
        ps->done[slot] = true;
    return t;
}

/* A named type: a basic one, one defined earlier in the line, or a struct defined here. */
static const vtype *p_named(parser *ps, const char *name, bool indirect, int depth)
{
    const vtype *b = basic_type(ps, name);
    if (b || ps->failed)
        return b;
    if (strcmp(name, "map") == 0) {
        if (!eat(ps, '['))
            return fail(ps, _("want '[' after map"));
        const vtype *k = p_type(ps, false, depth + 1);
        if (!k)
            return NULL;
        if (k->kind == T_SLICE || k->kind == T_MAP || k->kind == T_BYTES)
            return fail(ps, _("a map key cannot be a slice or a map"));
        if (!eat(ps, ']'))
            return fail(ps, _("want ']' after the map's key type"));
        const vtype *e = p_type(ps, true, depth + 1);
        vtype *t = e ? typeset_alloc(ps->ts, sizeof *t) : NULL;
        if (!t)
            return e ? fail(ps, "out of memory") : NULL;
        t->kind = T_MAP;
        t->key = k;
        t->elem = e;
        return t;
    }
    if (strcmp(name, "interface") == 0) {
        if (!eat(ps, '{') || !eat(ps, '}'))
            return fail(ps, _("only the empty interface, interface{}, can be given"));
        return &vtype_any;
    }
    if (strcmp(name, "struct") == 0)
        return p_struct(ps, NULL, depth);
    skip_ws(ps);
    if (*ps->p == '{')
        return p_struct(ps, name, depth);
    for (size_t i = 0; i < ps->nnamed; i++) {
        if (strcmp(ps->named[i]->name, name) != 0)
            continue;
        if (!ps->done[i] && !indirect)
            return fail(ps, _("%s contains itself: use *%s"), name, name);
        return ps->named[i];
    }
    return fail(ps, _("unknown type %s: spell it out where it is first used, as %s{Field type, ...}"),
                name, name);
}

static const vtype *p_type(parser *ps, bool indirect, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(ps, _("the type nests more than %d levels deep"), MAX_DEPTH);
    skip_ws(ps);
    char name[128];
    if (eat(ps, '*')) {
        const vtype *e = p_type(ps, true, depth + 1);
        if (!e)
            return NULL;
        if (e->ptr)
            return fail(ps, _("gob cannot send a pointer to a pointer"));
        vtype *t = typeset_alloc(ps->ts, sizeof *t);
        if (!t)
            return fail(ps, "out of memory");
        *t = *e;
        t->ptr = true;
        for (size_t i = 0; i < ps->nnamed; i++)
            if (ps->named[i] == e && !ps->done[i] && ps->ncopies < MAX_NAMED)
                ps->copies[ps->ncopies++] = (ptr_copy){t, e};
        return t;
    }
    if (eat(ps, '[')) {
        skip_ws(ps);
        size_t len = 0;
        bool array = isdigit((unsigned char)*ps->p);
        if (array) {
            char *end;
            unsigned long long x = strtoull(ps->p, &end, 10);
            if (x > 1000000)
                return fail(ps, _("an array of more than 1000000 items"));
            len = (size_t)x;
            ps->p = end;
        }
        if (!eat(ps, ']'))
            return fail(ps, _("want ']'"));
        const vtype *e = p_type(ps, !array || indirect, depth + 1);
        if (!e)
            return NULL;
        if (!array && e->kind == T_UINT && e->bits == 8 && !e->ptr)
            return &vtype_bytes;
        vtype *t = typeset_alloc(ps->ts, sizeof *t);
        if (!t)
            return fail(ps, "out of memory");
        t->kind = array ? T_ARRAY : T_SLICE;
        t->elem = e;
        t->len = len;
        return t;
    }
    if (*ps->p == '{')
        return p_struct(ps, NULL, depth);
    if (!ident(ps, name, sizeof name))
        return fail(ps, "%s", _("want a type"));
    return p_named(ps, name, indirect, depth);
}

const vtype *vtype_parse(typeset *ts, const char *text, char *err, size_t errlen)
{
    parser ps = {.ts = ts, .text = text, .p = text, .err = err, .errlen = errlen};
    const vtype *t = p_type(&ps, false, 0);
    skip_ws(&ps);
    if (t && *ps.p)
        return fail(&ps, _("unexpected \"%.20s\" after the type"), ps.p);
    return t;
}

/* ---- writing ---- */

static void spell(const vtype *t, buf *b, const vtype **seen, size_t *nseen, int depth)
{
    if (depth > MAX_DEPTH) {
        buf_puts(b, "...");
        return;
    }
    if (t->ptr)
        buf_putc(b, '*');
    switch (t->kind) {
    case T_SLICE: buf_puts(b, "[]"); spell(t->elem, b, seen, nseen, depth + 1); return;
    case T_ARRAY: buf_printf(b, "[%zu]", t->len); spell(t->elem, b, seen, nseen, depth + 1); return;
    case T_MAP:
        buf_puts(b, "map[");
        spell(t->key, b, seen, nseen, depth + 1);
        buf_putc(b, ']');
        spell(t->elem, b, seen, nseen, depth + 1);
        return;
    case T_BYTES: buf_puts(b, "[]byte"); return;
    case T_ANY: buf_puts(b, "interface{}"); return;
    case T_STRUCT: break;
    default: {
        char tmp[64];
        vtype plain = *t;
        plain.ptr = false;
        buf_puts(b, vtype_describe(&plain, tmp, sizeof tmp));
        return;
    }
    }
    bool named = t->name && t->name[0];
    for (size_t i = 0; named && i < *nseen; i++)
        if (seen[i] == t || (seen[i]->name && strcmp(seen[i]->name, t->name) == 0)) {
            buf_puts(b, t->name);
            return;
        }
    if (named && *nseen < MAX_NAMED)
        seen[(*nseen)++] = t;
    buf_printf(b, "%s{", named ? t->name : "struct");
    for (size_t i = 0; i < t->nfields; i++) {
        buf_printf(b, "%s%s ", i ? ", " : "", t->fields[i].name);
        spell(t->fields[i].type, b, seen, nseen, depth + 1);
    }
    buf_putc(b, '}');
}

char *vtype_spell(const vtype *t, char *out, size_t n)
{
    if (n == 0)
        return out;
    const vtype *seen[MAX_NAMED];
    size_t nseen = 0;
    buf b;
    buf_init(&b, 0);
    spell(t, &b, seen, &nseen, 0);
    size_t len = buf_size(&b) < n - 1 ? buf_size(&b) : n - 1;
    if (len)
        memcpy(out, buf_data(&b), len);
    out[len] = '\0';
    buf_done(&b);
    return out;
}
