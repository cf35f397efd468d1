/* vtype.c -- Go-shaped type descriptors, inference and coercion. */
#include "value/vtype.h"

#include "base/err.h"
#include "base/i18n.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const vtype vtype_bool = {.kind = T_BOOL, .name = "bool"};
const vtype vtype_int = {.kind = T_INT, .name = "int"};
const vtype vtype_uint = {.kind = T_UINT, .name = "uint"};
const vtype vtype_float = {.kind = T_FLOAT, .name = "float64"};
const vtype vtype_string = {.kind = T_STRING, .name = "string"};
const vtype vtype_bytes = {.kind = T_BYTES, .name = "[]byte"};
const vtype vtype_any = {.kind = T_ANY, .name = "interface {}"};

struct typeset {
    void **blocks;
    size_t len, cap;
};

typeset *typeset_new(void) { return calloc(1, sizeof(typeset)); }

void typeset_free(typeset *ts)
{
    if (!ts)
        return;
    for (size_t i = 0; i < ts->len; i++)
        free(ts->blocks[i]);
    free(ts->blocks);
    free(ts);
}

void *typeset_alloc(typeset *ts, size_t n)
{
    if (ts->len == ts->cap) {
        size_t ncap = ts->cap ? ts->cap * 2 : 16;
        void **nb = realloc(ts->blocks, ncap * sizeof *nb);
        if (!nb)
            return NULL;
        ts->blocks = nb;
        ts->cap = ncap;
    }
    void *p = calloc(1, n ? n : 1);
    if (p)
        ts->blocks[ts->len++] = p;
    return p;
}

char *typeset_strdup(typeset *ts, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = typeset_alloc(ts, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

const vtype *vtype_infer(typeset *ts, const value *v, char *err, size_t errlen)
{
    switch (v->kind) {
    case V_NULL:
        err_set(err, errlen, "cannot tell the Go type of null");
        return NULL;
    case V_BOOL: return &vtype_bool;
    case V_INT: return &vtype_int;
    case V_UINT: return &vtype_uint;
    case V_FLOAT: return &vtype_float;
    case V_STRING: return &vtype_string;
    case V_BYTES: return &vtype_bytes;
    case V_LIST: {
        const vtype *elem = &vtype_any;
        if (v->u.list.len > 0 && !(elem = vtype_infer(ts, v->u.list.items[0], err, errlen)))
            return NULL;
        vtype *t = typeset_alloc(ts, sizeof *t);
        if (!t)
            goto oom;
        t->kind = T_SLICE;
        t->elem = elem;
        return t;
    }
    case V_MAP:
    case V_STRUCT: {
        size_t n = v->kind == V_MAP ? v->u.map.len : v->u.st.len;
        vtype *t = typeset_alloc(ts, sizeof *t);
        vtype_field *f = typeset_alloc(ts, n * sizeof *f);
        if (!t || !f)
            goto oom;
        t->kind = T_STRUCT;
        t->name = v->kind == V_STRUCT && v->u.st.name ? typeset_strdup(ts, v->u.st.name) : NULL;
        t->fields = f;
        t->nfields = n;
        for (size_t i = 0; i < n; i++) {
            const value *fv;
            const char *name;
            if (v->kind == V_MAP) {
                const value *k = v->u.map.items[i].k;
                if (k->kind != V_STRING) {
                    err_set(err, errlen, "object keys must be strings");
                    return NULL;
                }
                name = k->u.s.p;
                fv = v->u.map.items[i].v;
            } else {
                name = v->u.st.fields[i].name;
                fv = v->u.st.fields[i].v;
            }
            if (!(f[i].name = typeset_strdup(ts, name)))
                goto oom;
            if (!(f[i].type = vtype_infer(ts, fv, err, errlen)))
                return NULL;
        }
        return t;
    }
    }
oom:
    err_set(err, errlen, "out of memory");
    return NULL;
}

bool vtype_same(const vtype *a, const vtype *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->kind != b->kind || a->len != b->len || a->nfields != b->nfields ||
        a->ptr != b->ptr || strcmp(a->name ? a->name : "", b->name ? b->name : "") != 0)
        return false;
    if ((a->elem || b->elem) && !vtype_same(a->elem, b->elem))
        return false;
    if ((a->key || b->key) && !vtype_same(a->key, b->key))
        return false;
    for (size_t i = 0; i < a->nfields; i++)
        if (strcmp(a->fields[i].name, b->fields[i].name) != 0 ||
            !vtype_same(a->fields[i].type, b->fields[i].type))
            return false;
    return true;
}

typedef struct jinfer {
    typeset *ts;
    buf *notes;
    char path[256];
    char *err;
    size_t errlen;
} jinfer;

static const vtype *infer_json(jinfer *c, const value *v, int depth);

/* Appends ".name" or "[i]" (step) to the path for the duration of one inference. */
static const vtype *infer_child(jinfer *c, const value *v, int depth, const char *step)
{
    size_t old = strlen(c->path);
    snprintf(c->path + old, sizeof c->path - old, "%s%s", old && step[0] != '[' ? "." : "", step);
    const vtype *t = infer_json(c, v, depth + 1);
    c->path[old] = '\0';
    return t;
}

static const vtype *infer_fail(jinfer *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const vtype *infer_fail(jinfer *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(c->err, c->errlen, "%s%s%s", c->path, c->path[0] ? ": " : "", msg);
    return NULL;
}

static const vtype *infer_list(jinfer *c, const value *v, int depth)
{
    const vtype *elem = &vtype_any;
    for (size_t i = 0; i < v->u.list.len; i++) {
        char step[32];
        snprintf(step, sizeof step, "[%zu]", i);
        const vtype *e = infer_child(c, v->u.list.items[i], depth, step);
        if (!e)
            return NULL;
        if (i > 0 && !vtype_same(elem, e)) {
            char a[200], b[200], first[240], other[240];
            snprintf(first, sizeof first, "[0] is %s", vtype_describe(elem, a, sizeof a));
            snprintf(other, sizeof other, "[%zu] is %s", i, vtype_describe(e, b, sizeof b));
            return infer_fail(c, _("the items of a list must have one Go type: %s, %s"), first, other);
        }
        elem = e;
    }
    vtype *t = typeset_alloc(c->ts, sizeof *t);
    if (!t)
        return infer_fail(c, "out of memory");
    t->kind = T_SLICE;
    t->elem = elem;
    return t;
}

/* The exported name Go matches for an object key: "name" is sent as "Name" (noted). */
static const char *exported_name(jinfer *c, const char *key)
{
    if (key[0] >= 'A' && key[0] <= 'Z')
        return typeset_strdup(c->ts, key);
    if (!(key[0] >= 'a' && key[0] <= 'z')) {
        infer_fail(c, _("field \"%s\" cannot be sent: gob carries only exported fields, whose names "
                        "start with a capital letter A-Z"), key);
        return NULL;
    }
    char *name = typeset_strdup(c->ts, key);
    if (!name) {
        infer_fail(c, "out of memory");
        return NULL;
    }
    name[0] = (char)(name[0] - 'a' + 'A');
    char note[300];
    snprintf(note, sizeof note, _("(field \"%s\" sent as \"%s\": gob carries only exported fields)"), key,
             name);
    if (c->notes && buf_putc(c->notes, 0) == 0) { /* a terminator to search in, dropped again */
        bool said = strstr((const char *)buf_data(c->notes), note) != NULL;
        c->notes->len--;
        if (!said)
            buf_printf(c->notes, "%s\n", note);
    }
    return name;
}

static const vtype *infer_object(jinfer *c, const value *v, int depth)
{
    size_t n = v->u.map.len, kept = 0;
    vtype *t = typeset_alloc(c->ts, sizeof *t);
    vtype_field *f = typeset_alloc(c->ts, n * sizeof *f);
    if (!t || !f)
        return infer_fail(c, "out of memory");
    t->kind = T_STRUCT;
    t->fields = f;
    for (size_t i = 0; i < n; i++) {
        const value *k = v->u.map.items[i].k, *fv = v->u.map.items[i].v;
        if (k->kind != V_STRING)
            return infer_fail(c, "object keys must be strings");
        if (fv->kind == V_LIST && fv->u.list.len == 0)
            continue;
        const char *name = exported_name(c, k->u.s.p);
        if (!name)
            return NULL;
        for (size_t j = 0; j < kept; j++)
            if (strcmp(f[j].name, name) == 0)
                return infer_fail(c, _("two keys are both sent as field \"%s\""), name);
        f[kept].name = name;
        if (!(f[kept].type = infer_child(c, fv, depth, k->u.s.p)))
            return NULL;
        kept++;
    }
    t->nfields = kept;
    return t;
}

static const vtype *infer_json(jinfer *c, const value *v, int depth)
{
    if (depth > 64)
        return infer_fail(c, "nested too deeply");
    switch (v->kind) {
    case V_NULL:
        return infer_fail(c, "%s",
                          _("cannot tell the Go type of null: leave the field out for its zero value"));
    case V_LIST: return infer_list(c, v, depth);
    case V_MAP: return infer_object(c, v, depth);
    default: return vtype_infer(c->ts, v, c->err, c->errlen);
    }
}

const vtype *vtype_infer_json(typeset *ts, const value *v, buf *notes, char *err, size_t errlen)
{
    jinfer c = {.ts = ts, .notes = notes, .err = err, .errlen = errlen};
    return infer_json(&c, v, 0);
}

char *vtype_describe(const vtype *t, char *out, size_t n)
{
    if (n == 0)
        return out;
    out[0] = '\0';
    if (t->ptr) {
        vtype plain = *t;
        plain.ptr = false;
        char a[160];
        snprintf(out, n, "*%s", vtype_describe(&plain, a, sizeof a));
        return out;
    }
    if (t->name && t->name[0]) {
        snprintf(out, n, "%s", t->name);
        return out;
    }
    char a[128], b[128];
    switch (t->kind) {
    case T_SLICE: snprintf(out, n, "[]%s", vtype_describe(t->elem, a, sizeof a)); break;
    case T_ARRAY: snprintf(out, n, "[%zu]%s", t->len, vtype_describe(t->elem, a, sizeof a)); break;
    case T_MAP:
        snprintf(out, n, "map[%s]%s", vtype_describe(t->key, a, sizeof a),
                 vtype_describe(t->elem, b, sizeof b));
        break;
    case T_STRUCT: {
        size_t used = (size_t)snprintf(out, n, "struct {");
        for (size_t i = 0; i < t->nfields && used < n; i++)
            used += (size_t)snprintf(out + used, n - used, "%s %s %s", i ? ";" : "",
                                     t->fields[i].name, vtype_describe(t->fields[i].type, a, sizeof a));
        if (used < n)
            snprintf(out + used, n - used, t->nfields ? " }" : "}");
        break;
    }
    default: snprintf(out, n, "?"); break;
    }
    return out;
}

value *vtype_zero(const vtype *t)
{
    switch (t->kind) {
    case T_BOOL: return value_bool(false);
    case T_INT: return value_int(0);
    case T_UINT: return value_uint(0);
    case T_FLOAT: return value_float(0);
    case T_STRING: return value_string("", 0);
    case T_BYTES: return value_bytes("", 0);
    case T_SLICE: return value_list();
    case T_ANY: return value_null();
    case T_MAP: return value_map();
    case T_ARRAY: {
        value *l = value_list();
        for (size_t i = 0; l && i < t->len; i++)
            if (value_list_push(l, vtype_zero(t->elem)) < 0) {
                value_free(l);
                return NULL;
            }
        return l;
    }
    case T_STRUCT: {
        value *s = value_struct(t->name);
        for (size_t i = 0; s && i < t->nfields; i++)
            if (value_struct_set(s, t->fields[i].name, vtype_zero(t->fields[i].type)) < 0) {
                value_free(s);
                return NULL;
            }
        return s;
    }
    }
    return NULL;
}

/* Describes v briefly for an error message: `string "abc"`, `int 7`, `object`. */
static void brief(const value *v, char *out, size_t n)
{
    switch (v->kind) {
    case V_INT: snprintf(out, n, "number %lld", (long long)v->u.i); break;
    case V_UINT: snprintf(out, n, "number %llu", (unsigned long long)v->u.u); break;
    case V_FLOAT: snprintf(out, n, "number %g", v->u.f); break;
    case V_BOOL: snprintf(out, n, "%s", v->u.b ? "true" : "false"); break;
    case V_STRING:
        snprintf(out, n, "string \"%.*s\"%s", v->u.s.len > 24 ? 24 : (int)v->u.s.len, v->u.s.p,
                 v->u.s.len > 24 ? "..." : "");
        break;
    default: snprintf(out, n, "%s", value_kind_name(v->kind)); break;
    }
}

static value *mismatch(const vtype *t, const value *v, const char *path, char *err, size_t errlen)
{
    char want[160], got[64];
    brief(v, got, sizeof got);
    err_set(err, errlen, "%s%swant %s, got %s", path, path[0] ? ": " : "",
           vtype_describe(t, want, sizeof want), got);
    return NULL;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 with its '=' padding, skipping CR and LF, as Go's encoding/json
 * does for []byte (base64.StdEncoding). Returns NULL when s is not base64. */
static value *from_base64(const char *s, size_t n)
{
    unsigned char *out = malloc(n * 3 / 4 + 3);
    if (!out)
        return NULL;
    size_t o = 0, digits = 0, pad = 0;
    unsigned acc = 0;
    for (size_t i = 0; i < n; i++) {
        int d = b64val((unsigned char)s[i]);
        if (s[i] == '\r' || s[i] == '\n')
            continue;
        if (s[i] == '=') {
            pad++;
            continue;
        }
        if (d < 0 || pad)
            goto fail;
        acc = (acc << 6) | (unsigned)d;
        if (++digits % 4 == 0) {
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            acc = 0;
        }
    }
    size_t rem = digits % 4;
    if ((rem || pad) && (rem < 2 || rem + pad != 4))
        goto fail;
    if (rem == 2) {
        out[o++] = (unsigned char)(acc >> 4);
    } else if (rem == 3) {
        out[o++] = (unsigned char)(acc >> 10);
        out[o++] = (unsigned char)(acc >> 2);
    }
    value *v = value_bytes(out, o);
    free(out);
    return v;
fail:
    free(out);
    return NULL;
}

static value *coerce(const vtype *t, const value *v, char *path, size_t pathcap, char *err,
                     size_t errlen);

static value *coerce_child(const vtype *t, const value *v, char *path, size_t pathcap,
                           char *err, size_t errlen, const char *fmt, ...)
{
    size_t old = strlen(path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path + old, pathcap - old, fmt, ap);
    va_end(ap);
    value *r = coerce(t, v, path, pathcap, err, errlen);
    path[old] = '\0';
    return r;
}

/* The field a map key sets, as Go's encoding/json decides: the field of that exact name,
 * else the first whose name matches ignoring case; t->nfields when none. */
static size_t key_field(const vtype *t, const value *k)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (strcmp(t->fields[i].name, k->u.s.p) == 0)
            return i;
    for (size_t i = 0; i < t->nfields; i++)
        if (strcasecmp(t->fields[i].name, k->u.s.p) == 0)
            return i;
    return t->nfields;
}

/* The value that sets field i: with repeated keys the last one wins, as in Go. */
static const value *field_value(const vtype *t, size_t i, const value *v)
{
    if (v->kind != V_MAP)
        return value_get_fold(v, t->fields[i].name);
    for (size_t j = v->u.map.len; j-- > 0;)
        if (key_field(t, v->u.map.items[j].k) == i)
            return v->u.map.items[j].v;
    return NULL;
}

static value *coerce_struct(const vtype *t, const value *v, char *path, size_t pathcap,
                            char *err, size_t errlen)
{
    if (v->kind == V_MAP) {
        for (size_t i = 0; i < v->u.map.len; i++)
            if (v->u.map.items[i].k->kind != V_STRING)
                return mismatch(t, v, path, err, errlen);
    }
    value *s = value_struct(t->name);
    if (!s)
        goto oom;
    for (size_t i = 0; i < t->nfields; i++) {
        const vtype_field *f = &t->fields[i];
        const value *fv = field_value(t, i, v);
        value *c = fv ? coerce_child(f->type, fv, path, pathcap, err, errlen, "%s%s", path[0] ? "." : "field ", f->name)
                      : vtype_zero(f->type);
        if (!c) {
            value_free(s);
            if (!fv)
                goto oom;
            return NULL;
        }
        if (value_struct_set(s, f->name, c) < 0)
            goto oom;
    }
    return s;
oom:
    value_free(s);
    err_set(err, errlen, "out of memory");
    return NULL;
}

/* A slice or array from a list (or from []byte, for a list of bytes). */
static value *coerce_list(const vtype *t, const value *v, char *path, size_t pathcap, char *err,
                          size_t errlen)
{
    if (v->kind == V_BYTES && t->elem->kind == T_UINT) {
        size_t n = t->kind == T_ARRAY ? t->len : v->u.s.len;
        value *l = value_list();
        for (size_t i = 0; l && i < n; i++)
            if (value_list_push(l, value_uint(i < v->u.s.len ? (uint8_t)v->u.s.p[i] : 0)) < 0) {
                value_free(l);
                l = NULL;
            }
        return l;
    }
    /* As in Go's encoding/json, an array drops the items it has no room for. */
    value *l = value_list();
    if (!l)
        return NULL;
    size_t n = t->kind == T_ARRAY ? t->len : v->u.list.len;
    for (size_t i = 0; i < n; i++) {
        value *c = i < v->u.list.len
                       ? coerce_child(t->elem, v->u.list.items[i], path, pathcap, err, errlen, "[%zu]", i)
                       : vtype_zero(t->elem);
        if (!c || value_list_push(l, c) < 0) {
            value_free(l);
            return NULL;
        }
    }
    return l;
}

/* A map from a map; integer keys may come as decimal text, as JSON writes them. */
static value *coerce_map(const vtype *t, const value *v, char *path, size_t pathcap, char *err,
                         size_t errlen)
{
    value *m = value_map();
    for (size_t i = 0; m && i < v->u.map.len; i++) {
        const value *k = v->u.map.items[i].k;
        value *ck;
        if (k->kind == V_STRING && (t->key->kind == T_INT || t->key->kind == T_UINT)) {
            /* JSON object keys are text; Go accepts decimal text for integer keys. */
            char *end = NULL;
            const char *ks = k->u.s.p;
            bool neg_ok = t->key->kind == T_INT && ks[0] == '-';
            long long x = 0;
            unsigned long long ux = 0;
            errno = 0;
            if (t->key->kind == T_INT)
                x = strtoll(ks, &end, 10);
            else
                ux = strtoull(ks, &end, 10);
            /* digits only, as Go's strconv: no spaces or '+' (strtoll would take them) */
            if (errno || *end || !(ks[neg_ok] >= '0' && ks[neg_ok] <= '9')) {
                err_set(err, errlen, "%s%skey \"%s\" is not an integer", path, path[0] ? ": " : "", ks);
                value_free(m);
                return NULL;
            }
            ck = t->key->kind == T_INT ? value_int(x) : value_uint(ux);
        } else {
            ck = coerce_child(t->key, k, path, pathcap, err, errlen, "%s", path[0] ? " key" : "key");
        }
        value *cv = ck ? coerce_child(t->elem, v->u.map.items[i].v, path, pathcap, err, errlen, "[key %zu]", i) : NULL;
        if (!ck || !cv) {
            value_free(ck);
            value_free(m);
            return NULL;
        }
        if (value_map_put(m, ck, cv) < 0) {
            value_free(m);
            return NULL;
        }
    }
    return m;
}

/* An int8..int32 or uint8..uint32: in range, or an error as Go's encoding/json gives. */
static value *coerce_narrow(const vtype *t, const value *v, const char *path, char *err,
                            size_t errlen)
{
    int64_t lo = t->kind == T_INT ? -((int64_t)1 << (t->bits - 1)) : 0;
    int64_t hi = t->kind == T_INT ? ((int64_t)1 << (t->bits - 1)) - 1 : ((int64_t)1 << t->bits) - 1;
    bool fits = (v->kind == V_INT && v->u.i >= lo && v->u.i <= hi) ||
                (v->kind == V_UINT && v->u.u <= (uint64_t)hi);
    if (v->kind != V_INT && v->kind != V_UINT)
        return mismatch(t, v, path, err, errlen);
    if (!fits) {
        char got[64];
        brief(v, got, sizeof got);
        err_set(err, errlen, "%s%s%s overflows %s", path, path[0] ? ": " : "", got,
                t->name ? t->name : "its type");
        return NULL;
    }
    int64_t x = v->kind == V_INT ? v->u.i : (int64_t)v->u.u;
    return t->kind == T_INT ? value_int(x) : value_uint((uint64_t)x);
}

static value *coerce(const vtype *t, const value *v, char *path, size_t pathcap, char *err,
                     size_t errlen)
{
    if (t->kind == T_ANY)
        return value_clone(v);
    if (v->kind == V_NULL)
        return t->ptr ? value_null() : vtype_zero(t);
    if (t->bits && t->bits < 64 && (t->kind == T_INT || t->kind == T_UINT))
        return coerce_narrow(t, v, path, err, errlen);
    switch (t->kind) {
    case T_BOOL:
        if (v->kind == V_BOOL)
            return value_bool(v->u.b);
        break;
    case T_INT:
        if (v->kind == V_INT)
            return value_int(v->u.i);
        if (v->kind == V_UINT) {
            if (v->u.u > (uint64_t)INT64_MAX) {
                err_set(err, errlen, "%s%s%llu overflows int", path, path[0] ? ": " : "",
                       (unsigned long long)v->u.u);
                return NULL;
            }
            return value_int((int64_t)v->u.u);
        }
        break;
    case T_UINT:
        if (v->kind == V_UINT)
            return value_uint(v->u.u);
        if (v->kind == V_INT) {
            if (v->u.i < 0) {
                err_set(err, errlen, "%s%s%lld does not fit in uint", path, path[0] ? ": " : "",
                       (long long)v->u.i);
                return NULL;
            }
            return value_uint((uint64_t)v->u.i);
        }
        break;
    case T_FLOAT:
        if (v->kind == V_FLOAT)
            return value_float(t->bits == 32 ? (double)(float)v->u.f : v->u.f);
        if (v->kind == V_INT)
            return value_float((double)v->u.i);
        if (v->kind == V_UINT)
            return value_float((double)v->u.u);
        break;
    case T_STRING:
        if (v->kind == V_STRING)
            return value_string(v->u.s.p, v->u.s.len);
        break;
    case T_BYTES:
        if (v->kind == V_BYTES)
            return value_bytes(v->u.s.p, v->u.s.len);
        if (v->kind == V_STRING) {
            value *b = from_base64(v->u.s.p, v->u.s.len);
            if (b)
                return b;
            err_set(err, errlen, "%s%sa []byte is written as base64 text", path, path[0] ? ": " : "");
            return NULL;
        }
        break;
    case T_SLICE:
    case T_ARRAY:
        if (v->kind == V_LIST || (v->kind == V_BYTES && t->elem->kind == T_UINT))
            return coerce_list(t, v, path, pathcap, err, errlen);
        break;
    case T_MAP:
        if (v->kind == V_MAP)
            return coerce_map(t, v, path, pathcap, err, errlen);
        break;
    case T_STRUCT:
        if (v->kind == V_STRUCT || v->kind == V_MAP)
            return coerce_struct(t, v, path, pathcap, err, errlen);
        break;
    case T_ANY:
        break;
    }
    return mismatch(t, v, path, err, errlen);
}

value *vtype_coerce(const vtype *t, const value *v, char *err, size_t errlen)
{
    char path[256] = "";
    return coerce(t, v, path, sizeof path, err, errlen);
}
