/* gob_enc.c -- the gob encoder: type ids handed out in Go's order, type definitions sent
 * once per stream, values framed as messages. */
#include "wire/gob.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "wire/gob_int.h"

/* ---- numbers and messages ---- */

static uint64_t zigzag(int64_t i)
{
    return i < 0 ? ((uint64_t)~i << 1) | 1 : (uint64_t)i << 1;
}

static uint64_t float_bits(double f)
{
    uint64_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static int put_uint(buf *b, uint64_t x)
{
    if (x <= 0x7f)
        return buf_putc(b, (uint8_t)x);
    uint8_t tmp[9];
    int n = 0;
    for (uint64_t y = x; y; y >>= 8)
        n++;
    tmp[0] = (uint8_t)(256 - n);
    for (int i = 0; i < n; i++)
        tmp[1 + i] = (uint8_t)(x >> (8 * (n - 1 - i)));
    return buf_append(b, tmp, (size_t)n + 1);
}

static int put_int(buf *b, int64_t i) { return put_uint(b, zigzag(i)); }

static int put_bytes(buf *b, const void *p, size_t n)
{
    return put_uint(b, n) < 0 || buf_append(b, p, n) < 0 ? -1 : 0;
}

/* Appends one framed message: its length, then its bytes. */
static int put_message(buf *out, const buf *m)
{
    return put_uint(out, buf_size(m)) < 0 || buf_append(out, buf_data(m), buf_size(m)) < 0 ? -1 : 0;
}

/* ---- types ---- */

typedef struct enc_type {
    const vtype *t;
    char *name; /* what Go puts in CommonType.Name */
    int id;     /* 0 while being built, as in Go */
    bool sent;
} enc_type;

struct gob_enc {
    enc_type *types;
    size_t len, cap;
    int last_id;
};

/* What an encode call changed, so that a failure can undo it. */
typedef struct enc_undo {
    size_t len;
    int last_id;
    size_t *sent;
    size_t nsent, capsent;
} enc_undo;

typedef struct enc_ctx {
    gob_enc *e;
    enc_undo *undo;
    char path[192];
    char *err;
    size_t errlen;
} enc_ctx;

gob_enc *gob_enc_new(void)
{
    gob_enc *e = calloc(1, sizeof *e);
    if (e)
        e->last_id = FIRST_USER_ID;
    return e;
}

void gob_enc_free(gob_enc *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->len; i++)
        free(e->types[i].name);
    free(e->types);
    free(e);
}

static int builtin_id(const vtype *t)
{
    switch (t->kind) {
    case T_BOOL: return ID_BOOL;
    case T_INT: return ID_INT;
    case T_UINT: return ID_UINT;
    case T_FLOAT: return ID_FLOAT;
    case T_BYTES: return ID_BYTES;
    case T_STRING: return ID_STRING;
    case T_ANY: return ID_IFACE;
    default: return 0;
    }
}

static bool named(const vtype *t) { return t->name && t->name[0]; }

typedef struct eq_pair {
    const vtype *a, *b;
    const struct eq_pair *up;
} eq_pair;

/* Same Go type: same kind and name, same structure. Pairs already being compared
 * further up count as equal, so recursive types terminate. */
static bool type_eq(const vtype *a, const vtype *b, const eq_pair *up, int depth)
{
    if (a == b)
        return true;
    if (!a || !b || a->kind != b->kind || depth > GOB_MAX_DEPTH)
        return false;
    if (builtin_id(a))
        return true;
    if (strcmp(a->name ? a->name : "", b->name ? b->name : "") != 0)
        return false;
    for (const eq_pair *p = up; p; p = p->up)
        if (p->a == a && p->b == b)
            return true;
    eq_pair here = {a, b, up};
    switch (a->kind) {
    case T_ARRAY:
        if (a->len != b->len)
            return false;
        /* fall through */
    case T_SLICE: return type_eq(a->elem, b->elem, &here, depth + 1);
    case T_MAP:
        return type_eq(a->key, b->key, &here, depth + 1) &&
               type_eq(a->elem, b->elem, &here, depth + 1);
    case T_STRUCT:
        if (a->nfields != b->nfields)
            return false;
        for (size_t i = 0; i < a->nfields; i++)
            if (strcmp(a->fields[i].name, b->fields[i].name) != 0 ||
                !type_eq(a->fields[i].type, b->fields[i].type, &here, depth + 1))
                return false;
        return true;
    default: return true;
    }
}

static long enc_find(const gob_enc *e, const vtype *t)
{
    for (size_t i = 0; i < e->len; i++)
        if (e->types[i].t == t)
            return (long)i;
    for (size_t i = 0; i < e->len; i++)
        if (type_eq(e->types[i].t, t, NULL, 0))
            return (long)i;
    return -1;
}

/* The id of an already assigned type (builtin or known). */
static int enc_id(const gob_enc *e, const vtype *t)
{
    int b = builtin_id(t);
    if (b)
        return b;
    long i = enc_find(e, t);
    return i < 0 ? 0 : e->types[i].id;
}

enum name_ctx { NAME_OWN, NAME_FIELD, NAME_NONE };

/* Go names a type after where it first meets it: its own name at top level and as a
 * slice element, its name or its spelling ("[]string") as a struct field, nothing as
 * an array element or map key/element. */
static char *go_name(const vtype *t, enum name_ctx ctx)
{
    char tmp[512] = "";
    if (ctx != NAME_NONE && named(t))
        snprintf(tmp, sizeof tmp, "%s", t->name);
    else if (ctx == NAME_FIELD)
        vtype_describe(t, tmp, sizeof tmp);
    return strdup(tmp);
}

/* Hands out type ids in the order Go's type registry does: a struct gets its id before
 * its fields' types, an array, slice or map after its element types. Returns the id,
 * 0 for a type still being built (a recursive reference), -1 on error. */
static int enc_assign(enc_ctx *c, const vtype *t, enum name_ctx ctx, int depth)
{
    gob_enc *e = c->e;
    int b = builtin_id(t);
    if (b)
        return b;
    if (depth > GOB_MAX_DEPTH) {
        err_set(c->err, c->errlen, _("type nests more than %d levels deep"), GOB_MAX_DEPTH);
        return -1;
    }
    long found = enc_find(e, t);
    if (found >= 0)
        return e->types[found].id;
    if (t->kind != T_SLICE && t->kind != T_ARRAY && t->kind != T_MAP && t->kind != T_STRUCT) {
        err_set(c->err, c->errlen, _("gob cannot send this kind of type"));
        return -1;
    }
    if ((t->kind == T_SLICE || t->kind == T_ARRAY) && !t->elem) {
        err_set(c->err, c->errlen, _("slice or array type without an element type"));
        return -1;
    }
    if (t->kind == T_MAP && (!t->key || !t->elem)) {
        err_set(c->err, c->errlen, _("map type without a key or element type"));
        return -1;
    }
    if (e->len == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 16;
        enc_type *nt = realloc(e->types, ncap * sizeof *nt);
        if (!nt)
            goto oom;
        e->types = nt;
        e->cap = ncap;
    }
    char *name = go_name(t, ctx);
    if (!name)
        goto oom;
    size_t i = e->len++;
    e->types[i] = (enc_type){t, name, 0, false};
    int r;
    switch (t->kind) {
    case T_ARRAY:
        if (enc_assign(c, t->elem, NAME_NONE, depth + 1) < 0)
            return -1;
        e->types[i].id = ++e->last_id;
        break;
    case T_MAP:
        if (enc_assign(c, t->key, NAME_NONE, depth + 1) < 0 ||
            enc_assign(c, t->elem, NAME_NONE, depth + 1) < 0)
            return -1;
        e->types[i].id = ++e->last_id;
        break;
    case T_SLICE:
        if ((r = enc_assign(c, t->elem, NAME_OWN, depth + 1)) < 0)
            return -1;
        e->types[i].id = ++e->last_id;
        if (r == 0)
            e->types[enc_find(e, t->elem)].id = ++e->last_id;
        break;
    case T_STRUCT:
        e->types[i].id = ++e->last_id;
        for (size_t f = 0; f < t->nfields; f++) {
            if (!t->fields[f].type || !t->fields[f].name) {
                err_set(c->err, c->errlen, _("struct field %zu has no name or type"), f);
                return -1;
            }
            if ((r = enc_assign(c, t->fields[f].type, NAME_FIELD, depth + 1)) < 0)
                return -1;
            if (r == 0)
                e->types[enc_find(e, t->fields[f].type)].id = ++e->last_id;
        }
        break;
    default: break;
    }
    return e->types[i].id;
oom:
    err_set(c->err, c->errlen, _("out of memory"));
    return -1;
}

/* Writes the fields of one of Go's typeId-valued struct fields: delta then id. */
static int put_field_int(buf *m, int *last, int idx, int64_t v)
{
    int r = put_uint(m, (uint64_t)(idx - *last)) | put_int(m, v);
    *last = idx;
    return r;
}

/* Appends the definition message of type entry i: (-id, wireType). */
static int enc_write_def(gob_enc *e, size_t i, buf *out)
{
    const vtype *t = e->types[i].t;
    buf m;
    buf_init(&m, 0);
    int r = put_int(&m, -(int64_t)e->types[i].id);
    /* wireType field: ArrayT 0, SliceT 1, StructT 2, MapT 3; delta from -1 */
    int wf = t->kind == T_ARRAY ? 0 : t->kind == T_SLICE ? 1 : t->kind == T_STRUCT ? 2 : 3;
    r |= put_uint(&m, (uint64_t)wf + 1);
    r |= put_uint(&m, 1); /* field 0 of arrayType/sliceType/...: CommonType */
    int last = -1;
    if (e->types[i].name[0]) {
        r |= put_uint(&m, 1) | put_bytes(&m, e->types[i].name, strlen(e->types[i].name));
        last = 0;
    }
    r |= put_field_int(&m, &last, 1, e->types[i].id);
    r |= put_uint(&m, 0); /* end of CommonType */
    last = 0;
    switch (t->kind) {
    case T_ARRAY:
        r |= put_field_int(&m, &last, 1, enc_id(e, t->elem));
        if (t->len)
            r |= put_field_int(&m, &last, 2, (int64_t)t->len);
        break;
    case T_SLICE: r |= put_field_int(&m, &last, 1, enc_id(e, t->elem)); break;
    case T_MAP:
        r |= put_field_int(&m, &last, 1, enc_id(e, t->key));
        r |= put_field_int(&m, &last, 2, enc_id(e, t->elem));
        break;
    case T_STRUCT:
        if (t->nfields) {
            r |= put_uint(&m, 1) | put_uint(&m, t->nfields);
            for (size_t f = 0; f < t->nfields; f++) {
                int fl = -1;
                const char *fname = t->fields[f].name;
                if (fname[0]) {
                    r |= put_uint(&m, 1) | put_bytes(&m, fname, strlen(fname));
                    fl = 0;
                }
                r |= put_field_int(&m, &fl, 1, enc_id(e, t->fields[f].type));
                r |= put_uint(&m, 0);
            }
        }
        break;
    default: break;
    }
    r |= put_uint(&m, 0); /* end of the arrayType/sliceType/... */
    r |= put_uint(&m, 0); /* end of wireType */
    if (r == 0)
        r = put_message(out, &m);
    buf_done(&m);
    return r < 0 ? -1 : 0;
}

/* Sends the definitions t still needs, in Go's order: the type itself, then the types
 * of its fields (or its element, or its key and element), depth first. */
static int enc_send_type(enc_ctx *c, const vtype *t, buf *out, int depth)
{
    gob_enc *e = c->e;
    if (builtin_id(t))
        return 0;
    long i = enc_find(e, t);
    if (i < 0 || e->types[i].id <= 0 || depth > GOB_MAX_TYPES) {
        err_set(c->err, c->errlen, _("internal error: type has no id"));
        return -1;
    }
    if (e->types[i].sent)
        return 0;
    enc_undo *u = c->undo;
    if (u->nsent == u->capsent) {
        size_t ncap = u->capsent ? u->capsent * 2 : 16;
        size_t *ns = realloc(u->sent, ncap * sizeof *ns);
        if (!ns) {
            err_set(c->err, c->errlen, _("out of memory"));
            return -1;
        }
        u->sent = ns;
        u->capsent = ncap;
    }
    if (enc_write_def(e, (size_t)i, out) < 0) {
        err_set(c->err, c->errlen, _("output buffer full"));
        return -1;
    }
    e->types[i].sent = true;
    u->sent[u->nsent++] = (size_t)i;
    t = e->types[i].t;
    switch (t->kind) {
    case T_STRUCT:
        for (size_t f = 0; f < t->nfields; f++)
            if (enc_send_type(c, t->fields[f].type, out, depth + 1) < 0)
                return -1;
        return 0;
    case T_ARRAY:
    case T_SLICE: return enc_send_type(c, t->elem, out, depth + 1);
    case T_MAP:
        return enc_send_type(c, t->key, out, depth + 1) < 0 ||
                       enc_send_type(c, t->elem, out, depth + 1) < 0
                   ? -1
                   : 0;
    default: return 0;
    }
}

/* ---- values ---- */

static int enc_fail(enc_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int enc_fail(enc_ctx *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->path[0])
        err_set(c->err, c->errlen, "%s: %s", c->path, msg);
    else
        err_set(c->err, c->errlen, "%s", msg);
    return -1;
}

static size_t path_push(char *path, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static size_t path_push(char *path, size_t cap, const char *fmt, ...)
{
    size_t old = strlen(path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path + old, cap - old, fmt, ap);
    va_end(ap);
    return old;
}

static int enc_elem(enc_ctx *c, const vtype *t, const value *v, buf *b, int depth);

/* Whether a struct field is left out: Go leaves out zero scalars, empty strings, slices
 * and maps, and nil pointers (which is what V_NULL or a missing field stands for);
 * arrays and structs are always sent. */
static bool enc_omit(const vtype *t, const value *v)
{
    if (!v || v->kind == V_NULL)
        return true;
    switch (t->kind) {
    case T_BOOL: return v->kind == V_BOOL && !v->u.b;
    case T_INT:
    case T_UINT:
    case T_FLOAT:
        return (v->kind == V_INT && v->u.i == 0) || (v->kind == V_UINT && v->u.u == 0) ||
               (v->kind == V_FLOAT && v->u.f == 0);
    case T_STRING:
    case T_BYTES: return (v->kind == V_STRING || v->kind == V_BYTES) && v->u.s.len == 0;
    case T_SLICE: return v->kind == V_LIST && v->u.list.len == 0;
    case T_MAP: return v->kind == V_MAP && v->u.map.len == 0;
    default: return false;
    }
}

static int enc_struct(enc_ctx *c, const vtype *t, const value *v, buf *b, int depth)
{
    if (depth > GOB_MAX_DEPTH)
        return enc_fail(c, _("value nests more than %d levels deep"), GOB_MAX_DEPTH);
    if (v && v->kind != V_STRUCT && v->kind != V_MAP && v->kind != V_NULL)
        return enc_fail(c, _("want a struct, got %s"), value_kind_name(v->kind));
    int last = -1;
    for (size_t i = 0; i < t->nfields; i++) {
        const value *fv = v && v->kind != V_NULL ? value_get(v, t->fields[i].name) : NULL;
        if (enc_omit(t->fields[i].type, fv))
            continue;
        if (put_uint(b, (uint64_t)((long)i - last)) < 0)
            return enc_fail(c, _("output buffer full"));
        last = (int)i;
        size_t old = path_push(c->path, sizeof c->path, "%s%s", c->path[0] ? "." : "",
                               t->fields[i].name);
        int r = enc_elem(c, t->fields[i].type, fv, b, depth + 1);
        c->path[old] = '\0';
        if (r < 0)
            return -1;
    }
    return put_uint(b, 0) < 0 ? enc_fail(c, _("output buffer full")) : 0;
}

/* Encodes v as an item of type t with no field delta, zero or not (array and map items,
 * slice elements and top-level values are always sent). */
static int enc_elem(enc_ctx *c, const vtype *t, const value *v, buf *b, int depth)
{
    char want[128];
    if (depth > GOB_MAX_DEPTH)
        return enc_fail(c, _("value nests more than %d levels deep"), GOB_MAX_DEPTH);
    bool zero = !v || v->kind == V_NULL;
    int r = 0;
    switch (t->kind) {
    case T_BOOL:
        if (!zero && v->kind != V_BOOL)
            goto mismatch;
        r = put_uint(b, zero ? 0 : v->u.b);
        break;
    case T_INT:
        if (zero)
            r = put_int(b, 0);
        else if (v->kind == V_INT)
            r = put_int(b, v->u.i);
        else if (v->kind == V_UINT && v->u.u <= (uint64_t)INT64_MAX)
            r = put_int(b, (int64_t)v->u.u);
        else
            goto mismatch;
        break;
    case T_UINT:
        if (zero)
            r = put_uint(b, 0);
        else if (v->kind == V_UINT)
            r = put_uint(b, v->u.u);
        else if (v->kind == V_INT && v->u.i >= 0)
            r = put_uint(b, (uint64_t)v->u.i);
        else
            goto mismatch;
        break;
    case T_FLOAT: {
        double f;
        if (zero)
            f = 0;
        else if (v->kind == V_FLOAT)
            f = v->u.f;
        else if (v->kind == V_INT)
            f = (double)v->u.i;
        else if (v->kind == V_UINT)
            f = (double)v->u.u;
        else
            goto mismatch;
        r = put_uint(b, reverse_bytes(float_bits(f)));
        break;
    }
    case T_STRING:
    case T_BYTES:
        if (zero)
            r = put_uint(b, 0);
        else if (v->kind == V_STRING || v->kind == V_BYTES)
            r = put_bytes(b, v->u.s.p, v->u.s.len);
        else
            goto mismatch;
        break;
    case T_SLICE:
    case T_ARRAY: {
        size_t n = zero ? 0 : v->kind == V_LIST ? v->u.list.len : SIZE_MAX;
        if (n == SIZE_MAX)
            goto mismatch;
        if (t->kind == T_ARRAY && !zero && n != t->len)
            return enc_fail(c, _("an array [%zu] needs %zu items, got %zu"), t->len, t->len, n);
        if (t->kind == T_ARRAY)
            n = t->len;
        if (put_uint(b, n) < 0)
            return enc_fail(c, _("output buffer full"));
        for (size_t i = 0; i < n; i++) {
            size_t old = path_push(c->path, sizeof c->path, "[%zu]", i);
            r = enc_elem(c, t->elem, zero ? NULL : v->u.list.items[i], b, depth + 1);
            c->path[old] = '\0';
            if (r < 0)
                return -1;
        }
        return 0;
    }
    case T_MAP: {
        if (!zero && v->kind != V_MAP)
            goto mismatch;
        size_t n = zero ? 0 : v->u.map.len;
        if (put_uint(b, n) < 0)
            return enc_fail(c, _("output buffer full"));
        for (size_t i = 0; i < n; i++) {
            size_t old = path_push(c->path, sizeof c->path, "[key %zu]", i);
            r = enc_elem(c, t->key, v->u.map.items[i].k, b, depth + 1);
            if (r == 0)
                r = enc_elem(c, t->elem, v->u.map.items[i].v, b, depth + 1);
            c->path[old] = '\0';
            if (r < 0)
                return -1;
        }
        return 0;
    }
    case T_STRUCT: return enc_struct(c, t, v, b, depth);
    case T_ANY:
        if (!zero)
            return enc_fail(c, _("interface values cannot be sent with gob (only nil ones)"));
        r = put_uint(b, 0); /* a nil interface: an empty type name */
        break;
    }
    return r < 0 ? enc_fail(c, _("output buffer full")) : 0;
mismatch:
    return enc_fail(c, _("want %s, got %s"), vtype_describe(t, want, sizeof want),
                    value_kind_name(v->kind));
}

/* ---- the calls ---- */

static void enc_rollback(gob_enc *e, enc_undo *u)
{
    for (size_t i = 0; i < u->nsent; i++)
        if (u->sent[i] < e->len)
            e->types[u->sent[i]].sent = false;
    for (size_t i = u->len; i < e->len; i++)
        free(e->types[i].name);
    e->len = u->len;
    e->last_id = u->last_id;
}

int gob_encode_many(gob_enc *e, size_t count, const vtype *const *types, const value *const *vals,
                    buf *out, char *err, size_t errlen)
{
    enc_undo u = {e->len, e->last_id, NULL, 0, 0};
    enc_ctx c = {e, &u, "", err, errlen};
    buf all, val;
    buf_init(&all, out->max);
    buf_init(&val, out->max);
    for (size_t k = 0; k < count; k++) {
        const vtype *t = types[k];
        int id = enc_assign(&c, t, NAME_OWN, 0);
        if (id < 0)
            goto fail;
        buf_clear(&val);
        if (put_int(&val, id) < 0) {
            err_set(err, errlen, _("output buffer full"));
            goto fail;
        }
        int r;
        if (t->kind == T_STRUCT) {
            r = enc_struct(&c, t, vals[k], &val, 0);
        } else {
            /* a top-level non-struct is sent like field 0 of a struct: delta 0, value */
            r = put_uint(&val, 0) < 0 ? enc_fail(&c, _("output buffer full"))
                                      : enc_elem(&c, t, vals[k], &val, 0);
        }
        if (r < 0 || enc_send_type(&c, t, &all, 0) < 0)
            goto fail;
        if (put_message(&all, &val) < 0) {
            err_set(err, errlen, _("output buffer full"));
            goto fail;
        }
    }
    if (buf_append(out, buf_data(&all), buf_size(&all)) < 0) {
        err_set(err, errlen, _("output buffer full"));
        goto fail;
    }
    buf_done(&all);
    buf_done(&val);
    free(u.sent);
    return 0;
fail:
    enc_rollback(e, &u);
    buf_done(&all);
    buf_done(&val);
    free(u.sent);
    return -1;
}

int gob_encode(gob_enc *e, const vtype *t, const value *v, buf *out, char *err, size_t errlen)
{
    return gob_encode_many(e, 1, &t, &v, out, err, errlen);
}
