/* gob.c -- Go's encoding/gob wire format: encoder, decoder and byte-by-byte explainer.
 *
 * Written from the format's documentation (encoding/gob/doc.go) and checked against
 * bytes captured from Go (tests/go/gobvectors). In short:
 *   - an unsigned integer below 128 is one byte; otherwise a byte holding minus the
 *     number of bytes that follow, then the value big-endian in as few bytes as fit;
 *   - a signed integer is sent as an unsigned one, zigzag style: the low bit says
 *     whether to complement the rest;
 *   - a float64 is its IEEE bits with the bytes reversed, sent as an unsigned integer;
 *   - strings and []byte are a length then the bytes; slices, arrays and maps a count
 *     then the items; a struct is a list of (field number delta, value) pairs with
 *     zero-valued fields left out, ended by a 0 delta;
 *   - a top-level value that is not a struct is sent as if it were field 0 of a struct:
 *     a 0 byte, then the value, zero or not;
 *   - every message is framed by its length; a message starts with a type id, negative
 *     when it defines that type (a wireType struct follows), positive for a value.
 * The decoder and the explainer share one walker, so what is explained is exactly what
 * is decoded. */
#include "wire/gob.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* Go's predefined type ids. */
enum { ID_BOOL = 1, ID_INT, ID_UINT, ID_FLOAT, ID_BYTES, ID_STRING, ID_COMPLEX, ID_IFACE };
#define FIRST_USER_ID 64 /* ids below this belong to gob itself */
/* Decoded types may nest at most this deep (other modules walk vtypes recursively). */
#define TYPE_DEPTH 20
/* A decoded type whose zero value alone has more parts than this is refused. */
#define MAX_ZERO_PARTS ((size_t)1 << 20)

/* ======================================================================== helpers */

static uint64_t zigzag(int64_t i)
{
    return i < 0 ? ((uint64_t)~i << 1) | 1 : (uint64_t)i << 1;
}

static int64_t unzigzag(uint64_t x)
{
    return (x & 1) ? (int64_t) ~(x >> 1) : (int64_t)(x >> 1);
}

static uint64_t reverse_bytes(uint64_t x)
{
    uint64_t r = 0;
    for (int i = 0; i < 8; i++, x >>= 8)
        r = (r << 8) | (x & 0xff);
    return r;
}

static uint64_t float_bits(double f)
{
    uint64_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static double bits_float(uint64_t b)
{
    double f;
    memcpy(&f, &b, sizeof f);
    return f;
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

/* Writes s[0..n) as a quoted Go-style string into out, escaping what is not printable
 * UTF-8 and cutting it at about max bytes. */
static void quote(const uint8_t *s, size_t n, char *out, size_t outlen, size_t max)
{
    size_t o = 0;
    if (outlen < 8)
        return;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (i >= max || o + 12 >= outlen) {
            o += (size_t)snprintf(out + o, outlen - o, "...");
            break;
        }
        uint8_t c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = len > 0 && len <= n - i;
        for (size_t k = 1; ok && k < len; k++)
            ok = (s[i + k] & 0xc0) == 0x80;
        if (len == 1 && (c < 0x20 || c == 0x7f))
            ok = false;
        if (!ok) {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        } else if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else {
            memcpy(out + o, s + i, len);
            o += len;
            i += len - 1;
        }
    }
    if (o + 2 <= outlen) {
        out[o++] = '"';
        out[o] = '\0';
    } else {
        out[outlen - 1] = '\0';
    }
}

/* Hex of up to max bytes: "00 01 ff". */
static void hexbytes(const uint8_t *p, size_t n, char *out, size_t outlen, size_t max)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o + 8 < outlen; i++) {
        if (i >= max) {
            snprintf(out + o, outlen - o, " ...");
            return;
        }
        o += (size_t)snprintf(out + o, outlen - o, "%s%02x", i ? " " : "", p[i]);
    }
}

/* A float as Go would print it: the shortest form that reads back the same. */
static void fmt_float(double f, char *out, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, f);
        if (strtod(out, NULL) == f)
            return;
    }
}

/* ======================================================================== encoder */

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
        err_set(c->err, c->errlen, "type nests more than %d levels deep", GOB_MAX_DEPTH);
        return -1;
    }
    long found = enc_find(e, t);
    if (found >= 0)
        return e->types[found].id;
    if (t->kind != T_SLICE && t->kind != T_ARRAY && t->kind != T_MAP && t->kind != T_STRUCT) {
        err_set(c->err, c->errlen, "gob cannot send this kind of type");
        return -1;
    }
    if ((t->kind == T_SLICE || t->kind == T_ARRAY) && !t->elem) {
        err_set(c->err, c->errlen, "slice or array type without an element type");
        return -1;
    }
    if (t->kind == T_MAP && (!t->key || !t->elem)) {
        err_set(c->err, c->errlen, "map type without a key or element type");
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
                err_set(c->err, c->errlen, "struct field %zu has no name or type", f);
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
    err_set(c->err, c->errlen, "out of memory");
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
        err_set(c->err, c->errlen, "internal error: type has no id");
        return -1;
    }
    if (e->types[i].sent)
        return 0;
    enc_undo *u = c->undo;
    if (u->nsent == u->capsent) {
        size_t ncap = u->capsent ? u->capsent * 2 : 16;
        size_t *ns = realloc(u->sent, ncap * sizeof *ns);
        if (!ns) {
            err_set(c->err, c->errlen, "out of memory");
            return -1;
        }
        u->sent = ns;
        u->capsent = ncap;
    }
    if (enc_write_def(e, (size_t)i, out) < 0) {
        err_set(c->err, c->errlen, "output buffer full");
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
        return enc_fail(c, "value nests more than %d levels deep", GOB_MAX_DEPTH);
    if (v && v->kind != V_STRUCT && v->kind != V_MAP && v->kind != V_NULL)
        return enc_fail(c, "want a struct, got %s", value_kind_name(v->kind));
    int last = -1;
    for (size_t i = 0; i < t->nfields; i++) {
        const value *fv = v && v->kind != V_NULL ? value_get(v, t->fields[i].name) : NULL;
        if (enc_omit(t->fields[i].type, fv))
            continue;
        if (put_uint(b, (uint64_t)((long)i - last)) < 0)
            return enc_fail(c, "output buffer full");
        last = (int)i;
        size_t old = path_push(c->path, sizeof c->path, "%s%s", c->path[0] ? "." : "",
                               t->fields[i].name);
        int r = enc_elem(c, t->fields[i].type, fv, b, depth + 1);
        c->path[old] = '\0';
        if (r < 0)
            return -1;
    }
    return put_uint(b, 0) < 0 ? enc_fail(c, "output buffer full") : 0;
}

/* Encodes v as an item of type t with no field delta, zero or not (array and map items,
 * slice elements and top-level values are always sent). */
static int enc_elem(enc_ctx *c, const vtype *t, const value *v, buf *b, int depth)
{
    char want[128];
    if (depth > GOB_MAX_DEPTH)
        return enc_fail(c, "value nests more than %d levels deep", GOB_MAX_DEPTH);
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
            return enc_fail(c, "an array [%zu] needs %zu items, got %zu", t->len, t->len, n);
        if (t->kind == T_ARRAY)
            n = t->len;
        if (put_uint(b, n) < 0)
            return enc_fail(c, "output buffer full");
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
            return enc_fail(c, "output buffer full");
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
            return enc_fail(c, "interface values cannot be sent with gob (only nil ones)");
        r = put_uint(b, 0); /* a nil interface: an empty type name */
        break;
    }
    return r < 0 ? enc_fail(c, "output buffer full") : 0;
mismatch:
    return enc_fail(c, "want %s, got %s", vtype_describe(t, want, sizeof want),
                    value_kind_name(v->kind));
}

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
            err_set(err, errlen, "output buffer full");
            goto fail;
        }
        int r;
        if (t->kind == T_STRUCT) {
            r = enc_struct(&c, t, vals[k], &val, 0);
        } else {
            /* a top-level non-struct is sent like field 0 of a struct: delta 0, value */
            r = put_uint(&val, 0) < 0 ? enc_fail(&c, "output buffer full")
                                      : enc_elem(&c, t, vals[k], &val, 0);
        }
        if (r < 0 || enc_send_type(&c, t, &all, 0) < 0)
            goto fail;
        if (put_message(&all, &val) < 0) {
            err_set(err, errlen, "output buffer full");
            goto fail;
        }
    }
    if (buf_append(out, buf_data(&all), buf_size(&all)) < 0) {
        err_set(err, errlen, "output buffer full");
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

/* ======================================================================== wire types */

enum wkind {
    W_BOOL = 1, W_INT, W_UINT, W_FLOAT, W_BYTES, W_STRING, W_COMPLEX, W_IFACE, /* = their ids */
    W_ARRAY, W_SLICE, W_STRUCT, W_MAP, W_GOBENC, W_BINARY, W_TEXT,
};

typedef struct wtype wtype;

typedef struct wfield {
    char *name;
    int32_t id;
    wtype *t;         /* linked by resolve */
    size_t zero_cost; /* parts of this field's zero value, as the struct's vtype sees it */
} wfield;

/* A type as the peer described it. */
struct wtype {
    enum wkind kind;
    int32_t id;
    const char *name; /* "" when it has none */
    int32_t elem_id, key_id;
    int64_t len;
    wfield *fields;
    size_t nfields;
    wtype *elem, *key;    /* linked by resolve */
    uint64_t stamp;       /* resolve's visit mark */
    unsigned defined_msg; /* explainer: which message defined it */
    const vtype *vt;      /* built on demand, owned by the decoder's typeset */
    bool vt_busy;
    int vt_depth;
    size_t zero_cost;
};

static wtype builtins[ID_IFACE + 1] = {
    [ID_BOOL] = {.kind = W_BOOL, .id = ID_BOOL, .name = "bool", .vt = &vtype_bool},
    [ID_INT] = {.kind = W_INT, .id = ID_INT, .name = "int", .vt = &vtype_int},
    [ID_UINT] = {.kind = W_UINT, .id = ID_UINT, .name = "uint", .vt = &vtype_uint},
    [ID_FLOAT] = {.kind = W_FLOAT, .id = ID_FLOAT, .name = "float64", .vt = &vtype_float},
    [ID_BYTES] = {.kind = W_BYTES, .id = ID_BYTES, .name = "[]byte", .vt = &vtype_bytes},
    [ID_STRING] = {.kind = W_STRING, .id = ID_STRING, .name = "string", .vt = &vtype_string},
    [ID_COMPLEX] = {.kind = W_COMPLEX, .id = ID_COMPLEX, .name = "complex128"},
    [ID_IFACE] = {.kind = W_IFACE, .id = ID_IFACE, .name = "interface {}", .vt = &vtype_any},
};

struct gob_dec {
    size_t max_message;
    wtype **types; /* sorted by id */
    size_t ntypes, cap;
    size_t type_bytes;
    typeset *ts;
    uint64_t stamp;
};

gob_dec *gob_dec_new(size_t max_message)
{
    gob_dec *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->max_message = max_message ? max_message : GOB_DEFAULT_MAX_MESSAGE;
    if (!(d->ts = typeset_new())) {
        free(d);
        return NULL;
    }
    return d;
}

static void wtype_free(wtype *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nfields; i++)
        free(t->fields[i].name);
    free(t->fields);
    free((char *)t->name);
    free(t);
}

void gob_dec_free(gob_dec *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ntypes; i++)
        wtype_free(d->types[i]);
    free(d->types);
    typeset_free(d->ts);
    free(d);
}

size_t gob_dec_max_message(const gob_dec *d) { return d->max_message; }

/* Index of the first type with id >= id. */
static size_t dec_slot(const gob_dec *d, int64_t id)
{
    size_t lo = 0, hi = d->ntypes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->types[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static wtype *dec_lookup(const gob_dec *d, int64_t id)
{
    if (id >= ID_BOOL && id <= ID_IFACE)
        return &builtins[id];
    size_t i = dec_slot(d, id);
    return i < d->ntypes && d->types[i]->id == id ? d->types[i] : NULL;
}

static int dec_insert(gob_dec *d, wtype *t)
{
    if (d->ntypes == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 16;
        wtype **nt = realloc(d->types, ncap * sizeof *nt);
        if (!nt)
            return -1;
        d->types = nt;
        d->cap = ncap;
    }
    size_t i = dec_slot(d, t->id);
    memmove(d->types + i + 1, d->types + i, (d->ntypes - i) * sizeof *d->types);
    d->types[i] = t;
    d->ntypes++;
    return 0;
}

/* Go's spelling of a wire type: its name, or "[]string", "map[string]int"... */
static char *wname(const gob_dec *d, const wtype *t, char *out, size_t n, int depth)
{
    char a[96], b[96];
    out[0] = '\0';
    if (!t) {
        snprintf(out, n, "?");
        return out;
    }
    if (t->name && t->name[0]) {
        snprintf(out, n, "%s", t->name);
        return out;
    }
    if (depth > 3) {
        snprintf(out, n, "...");
        return out;
    }
#define SUB(id, into) wname(d, dec_lookup(d, id), into, sizeof into, depth + 1)
    switch (t->kind) {
    case W_SLICE: snprintf(out, n, "[]%s", SUB(t->elem_id, a)); break;
    case W_ARRAY: snprintf(out, n, "[%lld]%s", (long long)t->len, SUB(t->elem_id, a)); break;
    case W_MAP: snprintf(out, n, "map[%s]%s", SUB(t->key_id, a), SUB(t->elem_id, b)); break;
    case W_STRUCT: {
        if (!t->nfields) {
            snprintf(out, n, "struct {}");
            break;
        }
        size_t o = (size_t)snprintf(out, n, "struct {");
        for (size_t i = 0; i < t->nfields && o < n; i++)
            o += (size_t)snprintf(out + o, n - o, "%s %s %s", i ? ";" : "", t->fields[i].name,
                                  SUB(t->fields[i].id, a));
        if (o < n)
            snprintf(out + o, n - o, " }");
        break;
    }
    default: snprintf(out, n, "type %d", (int)t->id); break;
    }
#undef SUB
    return out;
}

/* Links every type reachable from t; fails naming the first undefined type id. */
static int resolve_rec(gob_dec *d, wtype *t, char *err, size_t errlen)
{
    if (t->kind < W_ARRAY || t->stamp == d->stamp)
        return 0;
    t->stamp = d->stamp;
    char tn[128];
#define LINK(id, dst, what)                                                                   \
    do {                                                                                      \
        wtype *c_ = dec_lookup(d, id);                                                        \
        if (!c_) {                                                                            \
            err_set(err, errlen, "type %s uses type id %d as its %s, but that id was never "   \
                   "defined on this stream", wname(d, t, tn, sizeof tn, 0), (int)(id), what); \
            return -1;                                                                        \
        }                                                                                     \
        dst = c_;                                                                             \
        if (resolve_rec(d, c_, err, errlen) < 0)                                              \
            return -1;                                                                        \
    } while (0)
    switch (t->kind) {
    case W_ARRAY:
    case W_SLICE: LINK(t->elem_id, t->elem, "element type"); break;
    case W_MAP:
        LINK(t->key_id, t->key, "key type");
        LINK(t->elem_id, t->elem, "element type");
        break;
    case W_STRUCT:
        for (size_t i = 0; i < t->nfields; i++)
            LINK(t->fields[i].id, t->fields[i].t, "field type");
        break;
    default: break;
    }
#undef LINK
    return 0;
}

static int resolve(gob_dec *d, wtype *t, char *err, size_t errlen)
{
    d->stamp++;
    return resolve_rec(d, t, err, errlen);
}

static size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }
static size_t sat_mul(size_t a, size_t b) { return b && a > SIZE_MAX / b ? SIZE_MAX : a * b; }

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Builds the vtype of a resolved wire type (memoized). A type that refers back to one
 * still being built (a recursive type, e.g. a linked-list node) sees it as T_ANY, so
 * the vtypes handed out are always finite. *back says that happened for t itself. */
static const vtype *build_vt(gob_dec *d, wtype *t, int depth, bool *back, char *err, size_t errlen)
{
    char tn[128];
    *back = false;
    if (t->vt)
        return t->vt;
    if (t->kind == W_COMPLEX) {
        err_set(err, errlen, "complex numbers cannot be represented here");
        return NULL;
    }
    if (t->vt_busy) {
        *back = true;
        return &vtype_any;
    }
    if (depth > TYPE_DEPTH) {
        err_set(err, errlen, "type %s nests more than %d levels deep", wname(d, t, tn, sizeof tn, 0),
               TYPE_DEPTH);
        return NULL;
    }
    vtype *vt = typeset_alloc(d->ts, sizeof *vt);
    if (!vt || (t->name[0] && !(vt->name = typeset_strdup(d->ts, t->name))))
        goto oom;
    t->vt_busy = true;
    size_t cost = 1;
    int sub = 0;
    bool bk;
    switch (t->kind) {
    case W_ARRAY:
    case W_SLICE: {
        if (!(vt->elem = build_vt(d, t->elem, depth + 1, &bk, err, errlen)))
            goto fail;
        sub = bk ? 1 : t->elem->vt_depth;
        vt->kind = t->kind == W_ARRAY ? T_ARRAY : T_SLICE;
        if (t->kind == W_ARRAY) {
            if ((uint64_t)t->len > d->max_message) {
                err_set(err, errlen, "array type %s has %lld items, more than a message may hold",
                       wname(d, t, tn, sizeof tn, 0), (long long)t->len);
                goto fail;
            }
            vt->len = (size_t)t->len;
            cost = sat_add(1, sat_mul(vt->len, bk ? 1 : t->elem->zero_cost));
        }
        break;
    }
    case W_MAP:
        vt->kind = T_MAP;
        if (!(vt->key = build_vt(d, t->key, depth + 1, &bk, err, errlen)))
            goto fail;
        sub = bk ? 1 : t->key->vt_depth;
        if (!(vt->elem = build_vt(d, t->elem, depth + 1, &bk, err, errlen)))
            goto fail;
        if ((bk ? 1 : t->elem->vt_depth) > sub)
            sub = bk ? 1 : t->elem->vt_depth;
        break;
    case W_STRUCT: {
        vt->kind = T_STRUCT;
        vtype_field *f = typeset_alloc(d->ts, t->nfields * sizeof *f);
        char **names = malloc((t->nfields ? t->nfields : 1) * sizeof *names);
        if (!f || !names) {
            free(names);
            t->vt_busy = false;
            goto oom;
        }
        for (size_t i = 0; i < t->nfields; i++)
            names[i] = t->fields[i].name;
        qsort(names, t->nfields, sizeof *names, cmp_names);
        for (size_t i = 0; i < t->nfields; i++) {
            if (!names[i][0] || (i > 0 && strcmp(names[i], names[i - 1]) == 0)) {
                err_set(err, errlen, "struct type %s has %s field name%s%s%s",
                       wname(d, t, tn, sizeof tn, 0), names[i][0] ? "a repeated" : "an empty",
                       names[i][0] ? " \"" : "", names[i], names[i][0] ? "\"" : "");
                free(names);
                goto fail;
            }
        }
        free(names);
        for (size_t i = 0; i < t->nfields; i++) {
            wfield *wf = &t->fields[i];
            f[i].name = wf->name;
            if (!(f[i].type = build_vt(d, wf->t, depth + 1, &bk, err, errlen)))
                goto fail;
            wf->zero_cost = bk ? 1 : wf->t->zero_cost;
            cost = sat_add(cost, wf->zero_cost);
            if ((bk ? 1 : wf->t->vt_depth) > sub)
                sub = bk ? 1 : wf->t->vt_depth;
        }
        vt->fields = f;
        vt->nfields = t->nfields;
        break;
    }
    case W_GOBENC:
    case W_BINARY: vt->kind = T_BYTES; break;
    case W_TEXT: vt->kind = T_STRING; break;
    default: goto fail;
    }
    if (sub + 1 > TYPE_DEPTH) {
        /* checked here too: types built earlier are reused without recursing */
        err_set(err, errlen, "type %s nests more than %d levels deep", wname(d, t, tn, sizeof tn, 0),
               TYPE_DEPTH);
        goto fail;
    }
    if (cost > MAX_ZERO_PARTS) {
        err_set(err, errlen, "type %s is too large to represent (its zero value alone has more "
               "than %zu parts)", wname(d, t, tn, sizeof tn, 0), MAX_ZERO_PARTS);
        goto fail;
    }
    t->vt_busy = false;
    t->vt_depth = sub + 1;
    t->zero_cost = cost;
    t->vt = vt;
    return vt;
oom:
    err_set(err, errlen, "out of memory");
fail:
    t->vt_busy = false;
    return NULL;
}

/* ======================================================================== the walker */

/* Walks one message, decoding (build) and/or explaining (ex) it. */
typedef struct walk {
    gob_dec *d;
    const uint8_t *p; /* the message, length prefix included */
    size_t pos, end;  /* next byte; end of the current (sub)range */
    bool build;
    size_t budget; /* value parts still allowed */
    explain *ex;
    size_t base; /* offset of p in the explained capture */
    int depth;   /* span depth of the next leaf */
    size_t covered; /* bytes before this are explained */
    int32_t defining; /* id of the type being defined, if any */
    unsigned *told;   /* explaining: which encodings were already spelled out in full */
    char path[192];
    char *err;
    size_t errlen;
    bool failed;
} walk;

static int wfail(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int wfail(walk *w, const char *fmt, ...)
{
    if (w->failed)
        return -1;
    w->failed = true;
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(w->err, w->errlen, "%s", msg);
    return -1;
}

/* Records a leaf span for w->p[start..w->pos). Called through leaf(), which skips
 * formatting the words altogether when only decoding. */
static void leaf_add(walk *w, size_t start, span_class cls, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define leaf(w, ...)                                                                       \
    do {                                                                                   \
        if ((w)->ex)                                                                       \
            leaf_add(w, __VA_ARGS__);                                                      \
    } while (0)
static void leaf_add(walk *w, size_t start, span_class cls, const char *fmt, ...)
{
    if (!w->ex)
        return;
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    explain_add(w->ex, w->base + start, w->pos - start, w->depth, cls, "gob", "%s", msg);
    if (w->pos > w->covered)
        w->covered = w->pos;
}

/* Opens a container span at w->pos; its length is set by close_box. */
static int open_box_add(walk *w, span_class cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define open_box(w, ...) ((w)->ex ? open_box_add(w, __VA_ARGS__) : -1)
static int open_box_add(walk *w, span_class cls, const char *fmt, ...)
{
    if (!w->ex)
        return -1;
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int idx = explain_add(w->ex, w->base + w->pos, 0, w->depth, cls, "gob", "%s", msg);
    w->depth++;
    return idx;
}

static void close_box(walk *w, int idx)
{
    if (!w->ex)
        return;
    w->depth--;
    if (idx < 0)
        return;
    explain *e = w->ex;
    if (!w->failed) {
        explain_set_len(e, idx, w->base + w->pos - e->spans[idx].off);
        return;
    }
    /* after an error the box ends where the explained bytes end; an empty one goes */
    if ((size_t)idx == e->len - 1) {
        free(e->spans[idx].meaning);
        e->len--;
        return;
    }
    size_t end = w->base + w->covered;
    explain_set_len(e, idx, end > e->spans[idx].off ? end - e->spans[idx].off : 0);
}

/* Reads a gob uint; what names it in the error. */
static int rd_uint(walk *w, uint64_t *x, const char *what)
{
    size_t s = w->pos;
    if (s >= w->end)
        return wfail(w, "the data ends where %s should be", what);
    uint8_t b = w->p[s];
    if (b <= 0x7f) {
        *x = b;
        w->pos = s + 1;
        return 0;
    }
    size_t k = 256u - b;
    if (k > 8)
        return wfail(w, "bad %s: 0x%02x would announce %zu bytes, but a gob number has at most 8",
                     what, b, k);
    if (w->end - s - 1 < k)
        return wfail(w, "bad %s: 0x%02x announces %zu bytes but only %zu are left", what, b, k,
                     w->end - s - 1);
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++)
        v = (v << 8) | w->p[s + 1 + i];
    *x = v;
    w->pos = s + 1 + k;
    return 0;
}

/* Describes the bytes of the uint at p[start..end) in words:
 * "0x07" or "0xfe 0x01 0x2c: 0xfe = -2, so a 2-byte big-endian number follows". */
enum { TOLD_MULTIBYTE = 1, TOLD_ZIGZAG = 2 };

/* The first time on a stream an encoding is spelled out in full; later, briefly. */
static bool first_time(const walk *w, unsigned what)
{
    if (!w->told)
        return true;
    bool first = !(*w->told & what);
    *w->told |= what;
    return first;
}

static char *uint_words(const walk *w, size_t start, char *out, size_t n)
{
    size_t len = w->pos - start;
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < len && o + 6 < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s0x%02x", i ? " " : "", w->p[start + i]);
    if (len > 1 && o < n && first_time(w, TOLD_MULTIBYTE))
        snprintf(out + o, n - o, ": 0x%02x = -%zu, so a%s %zu-byte big-endian number follows",
                 w->p[start], len - 1, len == 9 ? "n" : "", len - 1);
    return out;
}

/* "zigzag 0x0e = 14, even: 14/2" */
static char *zigzag_words(const walk *w, size_t start, uint64_t x, char *out, size_t n)
{
    char u[160];
    uint_words(w, start, u, sizeof u);
    if (!first_time(w, TOLD_ZIGZAG))
        snprintf(out, n, "zigzag %s", u);
    else if (x & 1)
        snprintf(out, n, "zigzag %s = %llu, odd so negative: -(%llu+1)/2", u,
                 (unsigned long long)x, (unsigned long long)x);
    else
        snprintf(out, n, "zigzag %s = %llu, even so positive: %llu/2", u, (unsigned long long)x,
                 (unsigned long long)x);
    return out;
}

/* Reads a length or count that must fit in the bytes left. */
static int rd_count(walk *w, uint64_t *n, const char *what)
{
    if (rd_uint(w, n, what) < 0)
        return -1;
    if (*n > w->end - w->pos)
        return wfail(w, "%s of %llu is more than the %zu bytes left", what,
                     (unsigned long long)*n, w->end - w->pos);
    return 0;
}

/* Appends ".name" to the path (a struct field); returns the old length to restore. */
static size_t wpush_field(walk *w, const char *name)
{
    size_t old = strlen(w->path), n = strlen(name);
    size_t dot = old > 0;
    if (old + dot + n < sizeof w->path) {
        if (dot)
            w->path[old] = '.';
        memcpy(w->path + old + dot, name, n + 1);
    }
    return old;
}

static size_t wpush(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t wpush(walk *w, const char *fmt, ...)
{
    size_t old = strlen(w->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->path + old, sizeof w->path - old, fmt, ap);
    va_end(ap);
    return old;
}

/* Counts one more value part against the budget. */
static int spend(walk *w, size_t n)
{
    if (!w->build)
        return 0;
    if (n > w->budget)
        return wfail(w, "the value is too large to represent (too many parts for a %zu-byte "
                     "message)", w->end);
    w->budget -= n;
    return 0;
}

static int need(walk *w, value *v)
{
    return !w->build || v ? 0 : wfail(w, "out of memory");
}

static int dec_value(walk *w, wtype *t, value **out, int depth, char *brief, size_t blen);
static int dec_struct(walk *w, wtype *t, value **out, int depth, bool top);

/* Decodes a value message's body or an interface's concrete value: a struct, or a 0
 * byte and a value of any other type. */
static int dec_top(walk *w, wtype *t, value **out, int depth)
{
    if (t->kind == W_STRUCT)
        return dec_struct(w, t, out, depth, true);
    size_t s = w->pos;
    uint64_t z;
    if (rd_uint(w, &z, "the singleton marker") < 0)
        return -1;
    if (z != 0)
        return wfail(w, "a value that is not a struct must start with a 0 byte, not 0x%02x",
                     w->p[s]);
    leaf(w, s, SPAN_FRAME, "0x00: the value is not a struct, so it is sent like field 0 of one "
         "(delta 0), zero or not");
    return dec_value(w, t, out, depth, NULL, 0);
}

/* Says which fields from..to-1 the sender left out, for the explanation: gob sends no
 * field whose value is zero. Returns false when there are none. */
static bool skipped_fields(const wtype *t, long from, long to, char *out, size_t n)
{
    if (from >= to || n == 0)
        return false;
    size_t o = 0;
    out[0] = '\0';
    for (long i = from; i < to && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s%s", i > from ? ", " : "", t->fields[i].name);
    if (o < n)
        snprintf(out + o, n - o, " not sent: %s zero, and gob leaves zero fields out",
                 to - from == 1 ? "it is" : "they are");
    return true;
}

static int dec_struct(walk *w, wtype *t, value **out, int depth, bool top)
{
    char tn[128] = "";
    if (w->ex)
        wname(w->d, t, tn, sizeof tn, 0);
    if (depth > GOB_MAX_DEPTH)
        return wfail(w, "the value nests more than %d levels deep", GOB_MAX_DEPTH);
    if (spend(w, 1) < 0)
        return -1;
    value **vals = NULL;
    if (w->build && t->nfields && !(vals = calloc(t->nfields, sizeof *vals)))
        return wfail(w, "out of memory");
    int box = top ? -1 : open_box(w, SPAN_DATA, "%s: struct %s", w->path, tn);
    long fieldnum = -1;
    int r = -1;
    while (w->pos < w->end) {
        size_t s = w->pos;
        uint64_t delta;
        if (rd_uint(w, &delta, "a field delta") < 0)
            goto done;
        if (delta == 0) {
            char skipped[200];
            if (w->ex && skipped_fields(t, fieldnum + 1, (long)t->nfields, skipped, sizeof skipped))
                leaf(w, s, SPAN_FRAME, "0x00: end of struct %s; %s", tn, skipped);
            else
                leaf(w, s, SPAN_FRAME, "0x00: end of struct %s", tn);
            break;
        }
        if (delta > (uint64_t)((long)t->nfields - 1 - fieldnum)) {
            wname(w->d, t, tn, sizeof tn, 0);
            if (fieldnum < 0)
                wfail(w, "field delta +%llu: struct %s has only %zu field%s",
                      (unsigned long long)delta, tn, t->nfields, t->nfields == 1 ? "" : "s");
            else
                wfail(w, "field delta +%llu after field %s: struct %s has only %zu fields",
                      (unsigned long long)delta, t->fields[fieldnum].name, tn, t->nfields);
            goto done;
        }
        long prev = fieldnum;
        fieldnum += (long)delta;
        wfield *f = &t->fields[fieldnum];
        char skipped[200];
        if (w->ex && skipped_fields(t, prev + 1, fieldnum, skipped, sizeof skipped))
            leaf(w, s, SPAN_TYPE, "field delta +%llu → %s (field %ld of %s); %s",
                 (unsigned long long)delta, f->name, fieldnum, tn, skipped);
        else
            leaf(w, s, SPAN_TYPE, "field delta +%llu → %s (field %ld of %s)",
                 (unsigned long long)delta, f->name, fieldnum, tn);
        size_t old = wpush_field(w, f->name);
        int rr = dec_value(w, f->t, vals ? &vals[fieldnum] : NULL, depth + 1, NULL, 0);
        w->path[old] = '\0';
        if (rr < 0)
            goto done;
    }
    if (w->build) {
        value *sv = value_struct(t->name[0] ? t->name : NULL);
        value_field *fs = t->nfields ? calloc(t->nfields, sizeof *fs) : NULL;
        if (!sv || (t->nfields && !fs)) {
            value_free(sv);
            free(fs);
            wfail(w, "out of memory");
            goto done;
        }
        sv->u.st.fields = fs;
        sv->u.st.cap = t->nfields;
        for (size_t i = 0; i < t->nfields; i++) {
            value *fv = vals[i];
            if (!fv) {
                if (spend(w, t->fields[i].zero_cost) < 0 ||
                    need(w, fv = vtype_zero(t->vt->fields[i].type)) < 0) {
                    value_free(sv);
                    goto done;
                }
            }
            vals[i] = NULL;
            if (!(fs[i].name = strdup(t->fields[i].name))) {
                value_free(fv);
                value_free(sv);
                wfail(w, "out of memory");
                goto done;
            }
            fs[i].v = fv;
            sv->u.st.len = i + 1;
        }
        *out = sv;
    }
    r = 0;
done:
    close_box(w, box);
    if (vals) {
        for (size_t i = 0; i < t->nfields; i++)
            value_free(vals[i]);
        free(vals);
    }
    return r;
}

/* Decodes a length-prefixed blob (string, []byte, GobEncoder data). */
static int dec_blob(walk *w, const char *tname, bool text, value **out, char *brief, size_t blen)
{
    size_t s = w->pos;
    uint64_t n;
    char u[160], shown[200];
    if (rd_count(w, &n, text ? "string length" : "byte count") < 0 || spend(w, 1) < 0)
        return -1;
    const uint8_t *data = w->p + w->pos;
    shown[0] = '\0';
    if (w->ex || brief) {
        if (text)
            quote(data, n, shown, sizeof shown, 60);
        else
            hexbytes(data, n, shown, sizeof shown, 24);
    }
    if (brief)
        snprintf(brief, blen, "%s", shown);
    if (n == 0) {
        leaf(w, s, SPAN_DATA, "%s = %s (%s; length 0x00: empty)", w->path, text ? "\"\"" : "[]",
             tname);
    } else {
        leaf(w, s, SPAN_FRAME, "%s: %s length %s = %llu byte%s", w->path, tname,
             uint_words(w, s, u, sizeof u), (unsigned long long)n, n == 1 ? "" : "s");
        w->pos += n;
        leaf(w, w->pos - n, SPAN_DATA, "%s = %s%s", w->path, shown,
             text ? "" : " (raw bytes)");
    }
    if (w->build) {
        *out = text ? value_string((const char *)data, n) : value_bytes(data, n);
        return need(w, *out);
    }
    return 0;
}

static int dec_value(walk *w, wtype *t, value **out, int depth, char *brief, size_t blen)
{
    char u[320], tn[128], num[64];
    size_t s = w->pos;
    uint64_t x;
    if (depth > GOB_MAX_DEPTH)
        return wfail(w, "the value nests more than %d levels deep", GOB_MAX_DEPTH);
    if (brief && blen)
        brief[0] = '\0';
    switch (t->kind) {
    case W_BOOL:
        if (rd_uint(w, &x, "a bool") < 0 || spend(w, 1) < 0)
            return -1;
        leaf(w, s, SPAN_DATA, "%s = %s (bool, %s)", w->path, x ? "true" : "false",
             uint_words(w, s, u, sizeof u));
        if (brief)
            snprintf(brief, blen, "%s", x ? "true" : "false");
        if (w->build)
            return need(w, *out = value_bool(x != 0));
        return 0;
    case W_INT: {
        if (rd_uint(w, &x, "an int") < 0 || spend(w, 1) < 0)
            return -1;
        int64_t i = unzigzag(x);
        leaf(w, s, SPAN_DATA, "%s = %lld (int, %s)", w->path, (long long)i,
             zigzag_words(w, s, x, u, sizeof u));
        if (brief)
            snprintf(brief, blen, "%lld", (long long)i);
        if (w->build)
            return need(w, *out = value_int(i));
        return 0;
    }
    case W_UINT:
        if (rd_uint(w, &x, "a uint") < 0 || spend(w, 1) < 0)
            return -1;
        leaf(w, s, SPAN_DATA, "%s = %llu (uint, %s)", w->path, (unsigned long long)x,
             uint_words(w, s, u, sizeof u));
        if (brief)
            snprintf(brief, blen, "%llu", (unsigned long long)x);
        if (w->build)
            return need(w, *out = value_uint(x));
        return 0;
    case W_FLOAT: {
        if (rd_uint(w, &x, "a float") < 0 || spend(w, 1) < 0)
            return -1;
        double f = bits_float(reverse_bytes(x));
        fmt_float(f, num, sizeof num);
        leaf(w, s, SPAN_DATA, "%s = %s (float64 with bits 0x%016llx, sent byte-reversed as the "
             "number 0x%llx: %s)", w->path, num, (unsigned long long)reverse_bytes(x),
             (unsigned long long)x, uint_words(w, s, u, sizeof u));
        if (brief)
            snprintf(brief, blen, "%s", num);
        if (w->build)
            return need(w, *out = value_float(f));
        return 0;
    }
    case W_COMPLEX: {
        uint64_t y;
        if (rd_uint(w, &x, "a complex number's real part") < 0 ||
            rd_uint(w, &y, "a complex number's imaginary part") < 0)
            return -1;
        char im[64];
        fmt_float(bits_float(reverse_bytes(x)), num, sizeof num);
        fmt_float(bits_float(reverse_bytes(y)), im, sizeof im);
        leaf(w, s, SPAN_DATA, "%s = (%s%s%si) (complex128: real then imaginary part, each a "
             "byte-reversed float64)", w->path, num, im[0] == '-' ? "" : "+", im);
        if (w->build)
            return wfail(w, "%s: complex numbers cannot be represented here", w->path);
        return 0;
    }
    case W_STRING: return dec_blob(w, "string", true, out, brief, blen);
    case W_BYTES: return dec_blob(w, "[]byte", false, out, brief, blen);
    case W_GOBENC:
    case W_BINARY:
    case W_TEXT: {
        const char *how = t->kind == W_GOBENC ? "GobEncode" : t->kind == W_BINARY
                                                                  ? "MarshalBinary"
                                                                  : "MarshalText";
        snprintf(tn, sizeof tn, "%s's %s output", t->name[0] ? t->name : "the type", how);
        return dec_blob(w, tn, t->kind == W_TEXT, out, brief, blen);
    }
    case W_SLICE:
    case W_ARRAY: {
        tn[0] = '\0';
        if (w->ex)
            wname(w->d, t, tn, sizeof tn, 0);
        int box = open_box(w, SPAN_DATA, "%s: %s", w->path, tn);
        uint64_t n;
        int r = -1;
        value *l = NULL;
        if (rd_count(w, &n, t->kind == W_ARRAY ? "array length" : "slice length") < 0)
            goto list_done;
        if (t->kind == W_ARRAY && n != (uint64_t)t->len) {
            wfail(w, "%s: array %s sent with %llu items", w->path, tn, (unsigned long long)n);
            goto list_done;
        }
        if (t->kind == W_ARRAY)
            leaf(w, s, SPAN_FRAME, "%s: %llu items (%s; an array's length is sent although the "
                 "type fixes it)", w->path, (unsigned long long)n, uint_words(w, s, u, sizeof u));
        else
            leaf(w, s, SPAN_FRAME, "%s: %llu item%s (%s)", w->path, (unsigned long long)n,
                 n == 1 ? " follows" : "s follow", uint_words(w, s, u, sizeof u));
        if (spend(w, 1) < 0)
            goto list_done;
        if (w->build && !(l = value_list())) {
            wfail(w, "out of memory");
            goto list_done;
        }
        for (uint64_t i = 0; i < n; i++) {
            if (w->pos >= w->end) {
                wfail(w, "%s: the data ends after %llu of %llu items", w->path,
                      (unsigned long long)i, (unsigned long long)n);
                goto list_done;
            }
            value *item = NULL;
            size_t old = wpush(w, "[%llu]", (unsigned long long)i);
            int rr = dec_value(w, t->elem, l ? &item : NULL, depth + 1, NULL, 0);
            w->path[old] = '\0';
            if (rr < 0)
                goto list_done;
            if (l && value_list_push(l, item) < 0) {
                wfail(w, "out of memory");
                goto list_done;
            }
        }
        r = 0;
        if (w->build) {
            *out = l;
            l = NULL;
        }
    list_done:
        value_free(l);
        close_box(w, box);
        return r;
    }
    case W_MAP: {
        wname(w->d, t, tn, sizeof tn, 0);
        int box = open_box(w, SPAN_DATA, "%s: %s", w->path, tn);
        uint64_t n;
        int r = -1;
        value *m = NULL;
        if (rd_count(w, &n, "map size") < 0)
            goto map_done;
        leaf(w, s, SPAN_FRAME, "%s: %llu entr%s (%s)", w->path, (unsigned long long)n,
             n == 1 ? "y follows" : "ies follow", uint_words(w, s, u, sizeof u));
        if (spend(w, 1) < 0)
            goto map_done;
        if (w->build && !(m = value_map())) {
            wfail(w, "out of memory");
            goto map_done;
        }
        for (uint64_t i = 0; i < n; i++) {
            value *k = NULL, *v = NULL;
            char kb[96];
            if (w->pos >= w->end) {
                wfail(w, "%s: the data ends after %llu of %llu entries", w->path,
                      (unsigned long long)i, (unsigned long long)n);
                goto map_done;
            }
            size_t old = wpush(w, " key #%llu", (unsigned long long)i);
            int rr = dec_value(w, t->key, m ? &k : NULL, depth + 1, kb, sizeof kb);
            w->path[old] = '\0';
            if (rr < 0)
                goto map_done;
            if (w->pos >= w->end) {
                value_free(k);
                wfail(w, "%s: the data ends before the value of entry %llu", w->path,
                      (unsigned long long)i);
                goto map_done;
            }
            if (kb[0])
                old = wpush(w, "[%s]", kb);
            else
                old = wpush(w, "[#%llu]", (unsigned long long)i);
            rr = dec_value(w, t->elem, m ? &v : NULL, depth + 1, NULL, 0);
            w->path[old] = '\0';
            if (rr < 0) {
                value_free(k);
                goto map_done;
            }
            if (m && value_map_put(m, k, v) < 0) {
                wfail(w, "out of memory");
                goto map_done;
            }
        }
        r = 0;
        if (w->build) {
            *out = m;
            m = NULL;
        }
    map_done:
        value_free(m);
        close_box(w, box);
        return r;
    }
    case W_STRUCT: return dec_struct(w, t, out, depth, false);
    case W_IFACE: {
        int box = open_box(w, SPAN_DATA, "%s: interface value", w->path);
        int r = -1;
        uint64_t nlen, cnt;
        if (rd_count(w, &nlen, "interface type name length") < 0)
            goto iface_done;
        if (nlen == 0) {
            leaf(w, s, SPAN_DATA, "%s = nil (an empty concrete type name: the interface holds "
                 "nothing)", w->path);
            if (spend(w, 1) < 0)
                goto iface_done;
            if (w->build && need(w, *out = value_null()) < 0)
                goto iface_done;
            r = 0;
            goto iface_done;
        }
        if (nlen > 1024) {
            wfail(w, "%s: interface type name of %llu bytes is too long", w->path,
                  (unsigned long long)nlen);
            goto iface_done;
        }
        leaf(w, s, SPAN_FRAME, "%s: concrete type name length %llu", w->path,
             (unsigned long long)nlen);
        quote(w->p + w->pos, nlen, u, sizeof u, 80);
        w->pos += nlen;
        leaf(w, w->pos - nlen, SPAN_TYPE, "concrete type name %s, as the sender registered it "
             "with gob.Register", u);
        size_t is = w->pos;
        if (rd_uint(w, &x, "the interface's type id") < 0)
            goto iface_done;
        int64_t id = unzigzag(x);
        if (id < 0) {
            wfail(w, "%s: type definitions inside an interface value are not supported", w->path);
            goto iface_done;
        }
        wtype *ct = dec_lookup(w->d, id);
        if (!ct) {
            wfail(w, "%s: the interface holds type id %lld, which was never defined on this "
                  "stream", w->path, (long long)id);
            goto iface_done;
        }
        if (resolve(w->d, ct, w->err, w->errlen) < 0) {
            w->failed = true;
            goto iface_done;
        }
        bool bk;
        if (w->build && !build_vt(w->d, ct, 0, &bk, w->err, w->errlen)) {
            w->failed = true;
            goto iface_done;
        }
        leaf(w, is, SPAN_TYPE, "concrete type id %lld = %s (%s)", (long long)id,
             wname(w->d, ct, tn, sizeof tn, 0), zigzag_words(w, is, x, u, sizeof u));
        size_t cs = w->pos;
        if (rd_count(w, &cnt, "interface value length") < 0)
            goto iface_done;
        leaf(w, cs, SPAN_FRAME, "%s: the concrete value takes the next %llu bytes", w->path,
             (unsigned long long)cnt);
        size_t saved_end = w->end;
        w->end = w->pos + cnt;
        int rr = dec_top(w, ct, out, depth + 1);
        if (rr == 0 && w->pos != w->end)
            rr = wfail(w, "%s: the interface value leaves %zu of its %llu bytes unused", w->path,
                       w->end - w->pos, (unsigned long long)cnt);
        w->end = saved_end;
        if (rr < 0) {
            if (w->build) {
                value_free(*out);
                *out = NULL;
            }
            goto iface_done;
        }
        r = 0;
    iface_done:
        close_box(w, box);
        return r;
    }
    }
    return wfail(w, "unknown type kind");
}

/* ======================================================================== type definitions */

static const char *const wire_fields[] = {"ArrayT", "SliceT", "StructT", "MapT",
                                          "GobEncoderT", "BinaryMarshalerT", "TextMarshalerT"};
static const enum wkind wire_kinds[] = {W_ARRAY, W_SLICE, W_STRUCT, W_MAP,
                                        W_GOBENC, W_BINARY, W_TEXT};
static const char *const wire_notes[] = {
    "this defines an array type",
    "this defines a slice type",
    "this defines a struct type",
    "this defines a map type",
    "this defines a type that encodes itself (GobEncoder)",
    "this defines a type that encodes itself (encoding.BinaryMarshaler)",
    "this defines a type that encodes itself (encoding.TextMarshaler)",
};
static const char *const inner_names[] = {"arrayType", "sliceType", "structType", "mapType",
                                          "gobEncoderType", "gobEncoderType", "gobEncoderType"};
static const char *const inner_words[] = {
    "the array's name, id, element type and length",
    "the slice's name, id and element type",
    "the struct's name, id and fields",
    "the map's name, id, key type and element type",
    "the type's name and id (its values are the bytes its own method produces)",
    "the type's name and id (its values are the bytes its own method produces)",
    "the type's name and id (its values are the text its own method produces)",
};
static const char *const array_fields[] = {"CommonType", "Elem", "Len"};
static const char *const slice_fields[] = {"CommonType", "Elem"};
static const char *const struct_fields[] = {"CommonType", "Field"};
static const char *const map_fields[] = {"CommonType", "Key", "Elem"};
static const char *const common_fields[] = {"Name", "Id"};
static const char *const fieldtype_fields[] = {"Name", "Id"};

/* Reads one field delta of one of gob's own structs (nf fields called names). Returns
 * the field's index, -1 at the struct's end (a 0 delta, or the end of the data, which
 * Go accepts too), -2 on error. */
static int def_field(walk *w, long *fieldnum, int nf, const char *const *names,
                     const char *sname, const char *const *notes)
{
    if (w->pos >= w->end)
        return -1;
    size_t s = w->pos;
    uint64_t d;
    if (rd_uint(w, &d, "a field delta") < 0)
        return -2;
    if (d == 0) {
        leaf(w, s, SPAN_TYPE, "0x00: end of %s", sname);
        return -1;
    }
    if (d > (uint64_t)(nf - 1 - *fieldnum)) {
        wfail(w, "field delta +%llu goes past the %d field%s of gob's %s", (unsigned long long)d,
              nf, nf == 1 ? "" : "s", sname);
        return -2;
    }
    *fieldnum += (long)d;
    leaf(w, s, SPAN_TYPE, "field delta +%llu → %s%s%s", (unsigned long long)d, names[*fieldnum],
         notes ? ": " : "", notes ? notes[*fieldnum] : "");
    return (int)*fieldnum;
}

/* Says what a type id refers to, from inside a definition. */
static char *id_words(const walk *w, int64_t id, char *out, size_t n)
{
    char tn[128];
    wtype *t = dec_lookup(w->d, id);
    if (id == w->defining)
        snprintf(out, n, "this same type (it refers to itself)");
    else if (t && t->kind < W_ARRAY)
        snprintf(out, n, "%s, one of gob's predefined types", t->name);
    else if (t)
        snprintf(out, n, "%s", wname(w->d, t, tn, sizeof tn, 0));
    else if (id <= 0)
        snprintf(out, n, "not a valid type id");
    else
        snprintf(out, n, "a type not defined yet (its definition follows)");
    return out;
}

static int def_id(walk *w, int32_t *id, const char *what)
{
    size_t s = w->pos;
    uint64_t x;
    char a[160], b[320];
    if (rd_uint(w, &x, what) < 0)
        return -1;
    int64_t v = unzigzag(x);
    if (v < INT32_MIN || v > INT32_MAX)
        return wfail(w, "%s %lld is out of range", what, (long long)v);
    *id = (int32_t)v;
    leaf(w, s, SPAN_TYPE, "%s %lld = %s (%s)", what, (long long)v, id_words(w, v, a, sizeof a),
         zigzag_words(w, s, x, b, sizeof b));
    return 0;
}

static int def_string(walk *w, char **out, const char *what)
{
    size_t s = w->pos;
    uint64_t n;
    char q[200];
    if (rd_count(w, &n, what) < 0)
        return -1;
    char *str = malloc(n + 1);
    if (!str)
        return wfail(w, "out of memory");
    memcpy(str, w->p + w->pos, n);
    str[n] = '\0';
    free(*out);
    *out = str;
    if (n == 0) {
        leaf(w, s, SPAN_TYPE, "%s \"\" (length 0)", what);
        return 0;
    }
    leaf(w, s, SPAN_TYPE, "%s length %llu", what, (unsigned long long)n);
    quote(w->p + w->pos, n, q, sizeof q, 80);
    w->pos += n;
    leaf(w, w->pos - n, SPAN_TYPE, "%s %s", what, q);
    return 0;
}

static int def_common(walk *w, wtype *t)
{
    int box = open_box(w, SPAN_TYPE, "CommonType: the type's name and id");
    long fn = -1;
    int f;
    char z[160];
    while ((f = def_field(w, &fn, 2, common_fields, "CommonType", NULL)) >= 0) {
        if (f == 0) {
            char *name = (char *)t->name;
            int r = def_string(w, &name, "type name");
            t->name = name;
            if (r < 0)
                break;
        } else {
            size_t s = w->pos;
            uint64_t x;
            if (rd_uint(w, &x, "the type's own id") < 0)
                break;
            int64_t id = unzigzag(x);
            leaf(w, s, SPAN_TYPE, "type id %lld (%s)%s", (long long)id,
                 zigzag_words(w, s, x, z, sizeof z),
                 id == w->defining ? "" : " -- differs from the id the message defines; "
                                          "receivers go by the message's id");
        }
    }
    close_box(w, box);
    return w->failed ? -1 : 0;
}

static int def_fields(walk *w, wtype *t)
{
    size_t s = w->pos;
    uint64_t n;
    char u[160], a[160];
    if (rd_count(w, &n, "field count") < 0)
        return -1;
    leaf(w, s, SPAN_TYPE, "%llu field%s (%s)", (unsigned long long)n,
         n == 1 ? " follows" : "s follow", uint_words(w, s, u, sizeof u));
    if (n && !(t->fields = calloc(n, sizeof *t->fields)))
        return wfail(w, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        if (w->pos >= w->end)
            return wfail(w, "the definition ends after %llu of its %llu fields",
                         (unsigned long long)i, (unsigned long long)n);
        wfield *f = &t->fields[i];
        t->nfields = i + 1;
        int box = open_box(w, SPAN_TYPE, "field #%llu", (unsigned long long)i);
        long fn = -1;
        int k;
        while ((k = def_field(w, &fn, 2, fieldtype_fields, "fieldType", NULL)) >= 0) {
            if ((k == 0 ? def_string(w, &f->name, "field name")
                        : def_id(w, &f->id, "field type id")) < 0)
                break;
        }
        if (!f->name && !(f->name = strdup("")))
            wfail(w, "out of memory");
        if (!w->failed)
            explain_retitle(w->ex, box, "field #%llu: %s, of type %s", (unsigned long long)i, f->name,
                    id_words(w, f->id, a, sizeof a));
        close_box(w, box);
        if (w->failed)
            return -1;
    }
    return 0;
}

/* Reads the body of one wireType field: an arrayType, sliceType, structType, mapType or
 * gobEncoderType struct. */
static int def_inner(walk *w, wtype *t, int which)
{
    static const char *const *const field_names[] = {array_fields, slice_fields, struct_fields,
                                                      map_fields, common_fields, common_fields,
                                                      common_fields};
    static const int field_counts[] = {3, 2, 2, 3, 1, 1, 1};
    int box = open_box(w, SPAN_TYPE, "%s: %s", inner_names[which], inner_words[which]);
    long fn = -1;
    int f;
    char u[160];
    while ((f = def_field(w, &fn, field_counts[which], field_names[which], inner_names[which],
                          NULL)) >= 0) {
        int r = 0;
        if (f == 0) {
            r = def_common(w, t);
        } else if (t->kind == W_ARRAY && f == 2) {
            size_t s = w->pos;
            uint64_t x;
            if ((r = rd_uint(w, &x, "the array length")) == 0) {
                t->len = unzigzag(x);
                if (t->len < 0)
                    r = wfail(w, "array length %lld is negative", (long long)t->len);
                else
                    leaf(w, s, SPAN_TYPE, "array length %lld (%s)", (long long)t->len,
                         zigzag_words(w, s, x, u, sizeof u));
            }
        } else if (t->kind == W_STRUCT) {
            r = def_fields(w, t);
        } else if (t->kind == W_MAP && f == 1) {
            r = def_id(w, &t->key_id, "key type id");
        } else {
            r = def_id(w, &t->elem_id, "element type id");
        }
        if (r < 0)
            break;
    }
    close_box(w, box);
    return w->failed ? -1 : 0;
}

static int def_wiretype(walk *w, wtype *t)
{
    long fn = -1;
    int f;
    while ((f = def_field(w, &fn, 7, wire_fields, "wireType", wire_notes)) >= 0) {
        if (t->kind)
            return wfail(w, "the definition describes more than one type");
        t->kind = wire_kinds[f];
        if (def_inner(w, t, f) < 0)
            return -1;
    }
    if (f == -2)
        return -1;
    if (!t->kind)
        return wfail(w, "the type definition describes no type (no wireType field is set)");
    return 0;
}

/* Reads the type definition in the rest of w's message for id -neg_id. */
static int define(walk *w, int64_t neg_id, wtype **out)
{
    gob_dec *d = w->d;
    if (neg_id < -(int64_t)INT32_MAX)
        return wfail(w, "type id %lld is out of range", -(long long)(neg_id + 1) + 1);
    int64_t id = -neg_id;
    if (id < FIRST_USER_ID)
        return wfail(w, "type id %lld belongs to gob itself; a stream may only define ids from "
                     "%d up", (long long)id, FIRST_USER_ID);
    if (dec_lookup(d, id))
        return wfail(w, "type id %lld is defined a second time", (long long)id);
    if (d->ntypes >= GOB_MAX_TYPES)
        return wfail(w, "more than %d type definitions on one stream", GOB_MAX_TYPES);
    if (d->type_bytes + w->end > GOB_MAX_TYPE_BYTES)
        return wfail(w, "type definitions on this stream exceed %u bytes", GOB_MAX_TYPE_BYTES);
    wtype *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(""))) {
        free(t);
        return wfail(w, "out of memory");
    }
    t->id = (int32_t)id;
    w->defining = t->id;
    if (def_wiretype(w, t) < 0)
        goto fail;
    if (w->pos != w->end) {
        wfail(w, "%zu bytes of extra data after the type definition", w->end - w->pos);
        goto fail;
    }
    if (dec_insert(d, t) < 0) {
        wfail(w, "out of memory");
        goto fail;
    }
    d->type_bytes += w->end;
    if (out)
        *out = t;
    return 0;
fail:
    wtype_free(t);
    return -1;
}

/* ======================================================================== messages */

/* Reads a message's length prefix at p[0..n). Returns 1 with the prefix size in *hdr and
 * the message size in *len, 0 when more bytes are needed, -1 when malformed. */
static int frame(const uint8_t *p, size_t n, size_t max, size_t *hdr, size_t *len, char *err,
                 size_t errlen)
{
    if (n == 0)
        return 0;
    uint8_t b = p[0];
    uint64_t v = b;
    *hdr = 1;
    if (b > 0x7f) {
        size_t k = 256u - b;
        if (k > 8) {
            err_set(err, errlen, "0x%02x cannot start a message length (it would announce %zu "
                   "bytes; a gob number has at most 8)", b, k);
            return -1;
        }
        if (n - 1 < k)
            return 0;
        v = 0;
        for (size_t i = 0; i < k; i++)
            v = (v << 8) | p[1 + i];
        *hdr = 1 + k;
    }
    if (v == 0) {
        err_set(err, errlen, "empty message (length 0)");
        return -1;
    }
    if (v > max) {
        err_set(err, errlen, "a message of %llu bytes is over the %zu-byte limit",
               (unsigned long long)v, max);
        return -1;
    }
    *len = (size_t)v;
    return n - *hdr >= v ? 1 : 0;
}

/* Decodes (or explains) the value in the rest of w's message, of type id. */
static int value_message(walk *w, int64_t id, value **out, const vtype **type)
{
    gob_dec *d = w->d;
    if (id == 0 || id > INT32_MAX)
        return wfail(w, "type id %lld is not a valid type id", (long long)id);
    wtype *t = dec_lookup(d, id);
    if (!t)
        return wfail(w, "a value of type id %lld, but that id was never defined on this stream "
                     "(a type id used before its definition)", (long long)id);
    if (resolve(d, t, w->err, w->errlen) < 0) {
        w->failed = true;
        return -1;
    }
    const vtype *vt = NULL;
    bool bk;
    if (w->build && !(vt = build_vt(d, t, 0, &bk, w->err, w->errlen))) {
        w->failed = true;
        return -1;
    }
    if (t->kind != W_STRUCT)
        snprintf(w->path, sizeof w->path, "value");
    if (dec_top(w, t, out, 0) < 0)
        return -1;
    if (w->pos < w->end) {
        size_t s = w->pos;
        w->pos = w->end;
        leaf(w, s, SPAN_ERROR, "%zu byte%s after the value that nothing reads (Go ignores them "
             "too)", w->end - s, w->end - s == 1 ? "" : "s");
    }
    if (type)
        *type = vt;
    return 0;
}

int gob_decode(gob_dec *d, const uint8_t *p, size_t n, size_t *used, value **out,
               const vtype **type, char *err, size_t errlen)
{
    size_t pos = 0;
    *used = 0;
    *out = NULL;
    if (type)
        *type = NULL;
    for (;;) {
        size_t hdr, len;
        int r = frame(p + pos, n - pos, d->max_message, &hdr, &len, err, errlen);
        if (r <= 0) {
            *used = pos;
            return r == 0 ? GOB_MORE : GOB_BROKEN;
        }
        walk w = {.d = d, .p = p + pos, .pos = hdr, .end = hdr + len, .build = true,
                  .budget = sat_add(sat_mul(len, 4), 65536), .err = err, .errlen = errlen};
        uint64_t x;
        if (rd_uint(&w, &x, "the type id") < 0) {
            *used = pos;
            return GOB_BROKEN;
        }
        int64_t id = unzigzag(x);
        if (id < 0) {
            if (define(&w, id, NULL) < 0) {
                *used = pos;
                return GOB_BROKEN;
            }
            pos += hdr + len;
            continue;
        }
        pos += hdr + len;
        *used = pos;
        value *v = NULL;
        const vtype *vt = NULL;
        if (value_message(&w, id, &v, &vt) < 0) {
            value_free(v);
            return GOB_BAD_VALUE;
        }
        *out = v;
        if (type)
            *type = vt;
        return GOB_VALUE;
    }
}

long gob_scan(const uint8_t *p, size_t n, int count, size_t max_message, char *err, size_t errlen)
{
    size_t max = max_message ? max_message : GOB_DEFAULT_MAX_MESSAGE;
    size_t pos = 0;
    for (int got = 0; got < count;) {
        size_t hdr, len;
        int r = frame(p + pos, n - pos, max, &hdr, &len, err, errlen);
        if (r <= 0)
            return r;
        walk w = {.p = p + pos, .pos = hdr, .end = hdr + len};
        uint64_t x;
        if (rd_uint(&w, &x, "the type id") < 0) {
            err_set(err, errlen, "a message does not start with a valid type id");
            return -1;
        }
        if (!(x & 1)) /* zigzag: even means a non-negative id, so a value */
            got++;
        pos += hdr + len;
        if (pos > LONG_MAX)
            return -1;
    }
    return (long)pos;
}

/* ======================================================================== explainer */

struct gob_explainer {
    gob_dec *d;
    unsigned msgno;      /* messages explained so far */
    unsigned last_value; /* number of the last value message */
    unsigned told;       /* encodings already spelled out in full (TOLD_*) */
};

gob_explainer *gob_explainer_new(void)
{
    gob_explainer *x = calloc(1, sizeof *x);
    if (x && !(x->d = gob_dec_new(0))) {
        free(x);
        return NULL;
    }
    return x;
}

void gob_explainer_free(gob_explainer *x)
{
    if (!x)
        return;
    gob_dec_free(x->d);
    free(x);
}

int gob_explain_message(gob_explainer *x, const uint8_t *p, size_t n, size_t base, int depth,
                        explain *e, gob_msg_info *info)
{
    char err[320] = "", u[160], tn[128], how[320];
    size_t hdr, len;
    int r = frame(p, n, x->d->max_message, &hdr, &len, err, sizeof err);
    if (r == 0)
        return 0;
    if (r < 0) {
        explain_add(e, base, n, depth, SPAN_ERROR, "gob", "not a valid gob message: %s", err);
        return -1;
    }
    size_t total = hdr + len;
    int box = explain_add(e, base, total, depth, SPAN_FRAME, "gob", "message, %zu bytes",
                          total);
    walk w = {.d = x->d, .p = p, .pos = hdr, .end = total, .ex = e, .base = base,
              .depth = depth + 1, .err = err, .errlen = sizeof err, .told = &x->told};
    leaf(&w, 0, SPAN_FRAME, "message length %zu (%s): the rest of the message", len,
         uint_words(&w, 0, u, sizeof u));
    size_t s = w.pos;
    uint64_t raw;
    wtype *t = NULL;
    if (rd_uint(&w, &raw, "the type id") < 0)
        goto fail;
    int64_t id = unzigzag(raw);
    if (id < 0) {
        leaf(&w, s, SPAN_TYPE, "type id %lld (%s): negative, so this message defines type %lld",
             (long long)id, zigzag_words(&w, s, raw, how, sizeof how), -(long long)(id + 1) + 1);
        if (define(&w, id, &t) < 0)
            goto fail;
        t->defined_msg = ++x->msgno;
        wname(x->d, t, tn, sizeof tn, 0);
        explain_retitle(e, box, "message, %zu bytes: type definition for id %d (%s)", total,
                (int)t->id, t->name[0] ? t->name : tn);
    } else {
        wtype *vt = id > 0 && id <= INT32_MAX ? dec_lookup(x->d, id) : NULL;
        if (!vt)
            snprintf(how, sizeof how, "a type id that was never defined on this connection");
        else if (vt->kind < W_ARRAY)
            snprintf(how, sizeof how, "uses type %lld (%s), one of gob's predefined types, "
                     "which are never defined on the wire", (long long)id, vt->name);
        else if (vt->defined_msg > x->last_value)
            snprintf(how, sizeof how, "uses type %lld (%s), defined by a type definition message "
                     "just before this one", (long long)id, wname(x->d, vt, tn, sizeof tn, 0));
        else
            snprintf(how, sizeof how, "uses type %lld (%s), defined earlier on this connection: "
                     "its definition is not sent again", (long long)id,
                     wname(x->d, vt, tn, sizeof tn, 0));
        char zz[200];
        leaf(&w, s, SPAN_FRAME, "type id %lld (%s): a value; %s", (long long)id,
             zigzag_words(&w, s, raw, zz, sizeof zz), how);
        if (value_message(&w, id, NULL, NULL) < 0)
            goto fail;
        t = vt;
        x->last_value = ++x->msgno;
        explain_retitle(e, box, "message, %zu bytes: value of type %s (id %lld)", total,
                wname(x->d, t, tn, sizeof tn, 0), (long long)id);
    }
    if (info) {
        info->type_def = id < 0;
        info->type_id = (long)t->id;
        wname(x->d, t, info->type_name, sizeof info->type_name, 0);
        info->len = total;
    }
    return (int)total;
fail:
    explain_add(e, base + w.covered, n - w.covered, depth + 1, SPAN_ERROR, "gob",
                "not valid gob: %s", err[0] ? err : "malformed data");
    return -1;
}
