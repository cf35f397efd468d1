/* gob_type.c -- the types a gob stream defines: reading each wireType definition into the
 * stream's table, naming and linking them, and turning them into vtypes. */
#include "wire/gob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "wire/gob_int.h"

/* Decoded types may nest at most this deep (other modules walk vtypes recursively). */
#define TYPE_DEPTH 20
/* A decoded type whose zero value alone has more parts than this is refused. */
#define MAX_ZERO_PARTS ((size_t)1 << 20)

/* ---- the table ---- */

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

wtype *gob_type_lookup(const gob_dec *d, int64_t id)
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
char *gob_type_name(const gob_dec *d, const wtype *t, char *out, size_t n, int depth)
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
#define SUB(id, into) gob_type_name(d, gob_type_lookup(d, id), into, sizeof into, depth + 1)
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
        wtype *c_ = gob_type_lookup(d, id);                                                   \
        if (!c_) {                                                                            \
            err_set(err, errlen, _("type %s uses type id %d as its %s, but that id was never " \
                                   "defined on this stream"),                                 \
                    gob_type_name(d, t, tn, sizeof tn, 0), (int)(id), _(what));               \
            return -1;                                                                        \
        }                                                                                     \
        dst = c_;                                                                             \
        if (resolve_rec(d, c_, err, errlen) < 0)                                              \
            return -1;                                                                        \
    } while (0)
    switch (t->kind) {
    case W_ARRAY:
    case W_SLICE: LINK(t->elem_id, t->elem, N_("element type")); break;
    case W_MAP:
        LINK(t->key_id, t->key, N_("key type"));
        LINK(t->elem_id, t->elem, N_("element type"));
        break;
    case W_STRUCT:
        for (size_t i = 0; i < t->nfields; i++)
            LINK(t->fields[i].id, t->fields[i].t, N_("field type"));
        break;
    default: break;
    }
#undef LINK
    return 0;
}

int gob_type_resolve(gob_dec *d, wtype *t, char *err, size_t errlen)
{
    d->stamp++;
    return resolve_rec(d, t, err, errlen);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Builds the vtype of a resolved wire type (memoized). A type that refers back to one
 * still being built (a recursive type, e.g. a linked-list node) sees it as T_ANY, so
 * the vtypes handed out are always finite. *back says that happened for t itself. */
const vtype *gob_type_build(gob_dec *d, wtype *t, int depth, bool *back, char *err, size_t errlen)
{
    char tn[128];
    *back = false;
    if (t->vt)
        return t->vt;
    if (t->kind == W_COMPLEX) {
        err_set(err, errlen, _("complex numbers cannot be represented here"));
        return NULL;
    }
    if (t->vt_busy) {
        *back = true;
        return &vtype_any;
    }
    if (depth > TYPE_DEPTH) {
        err_set(err, errlen, _("type %s nests more than %d levels deep"),
                gob_type_name(d, t, tn, sizeof tn, 0), TYPE_DEPTH);
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
        if (!(vt->elem = gob_type_build(d, t->elem, depth + 1, &bk, err, errlen)))
            goto fail;
        sub = bk ? 1 : t->elem->vt_depth;
        vt->kind = t->kind == W_ARRAY ? T_ARRAY : T_SLICE;
        if (t->kind == W_ARRAY) {
            if ((uint64_t)t->len > d->max_message) {
                err_set(err, errlen, _("array type %s has %lld items, more than a message may hold"),
                        gob_type_name(d, t, tn, sizeof tn, 0), (long long)t->len);
                goto fail;
            }
            vt->len = (size_t)t->len;
            cost = sat_add(1, sat_mul(vt->len, bk ? 1 : t->elem->zero_cost));
        }
        break;
    }
    case W_MAP:
        vt->kind = T_MAP;
        if (!(vt->key = gob_type_build(d, t->key, depth + 1, &bk, err, errlen)))
            goto fail;
        sub = bk ? 1 : t->key->vt_depth;
        if (!(vt->elem = gob_type_build(d, t->elem, depth + 1, &bk, err, errlen)))
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
                gob_type_name(d, t, tn, sizeof tn, 0);
                if (names[i][0])
                    err_set(err, errlen, _("struct type %s has a repeated field name \"%s\""), tn,
                            names[i]);
                else
                    err_set(err, errlen, _("struct type %s has an empty field name"), tn);
                free(names);
                goto fail;
            }
        }
        free(names);
        for (size_t i = 0; i < t->nfields; i++) {
            wfield *wf = &t->fields[i];
            f[i].name = wf->name;
            if (!(f[i].type = gob_type_build(d, wf->t, depth + 1, &bk, err, errlen)))
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
        err_set(err, errlen, _("type %s nests more than %d levels deep"),
                gob_type_name(d, t, tn, sizeof tn, 0), TYPE_DEPTH);
        goto fail;
    }
    if (cost > MAX_ZERO_PARTS) {
        err_set(err, errlen, _("type %s is too large to represent (its zero value alone has more "
                "than %zu parts)"), gob_type_name(d, t, tn, sizeof tn, 0), MAX_ZERO_PARTS);
        goto fail;
    }
    t->vt_busy = false;
    t->vt_depth = sub + 1;
    t->zero_cost = cost;
    t->vt = vt;
    return vt;
oom:
    err_set(err, errlen, _("out of memory"));
fail:
    t->vt_busy = false;
    return NULL;
}

/* ---- reading a definition ---- */

static const char *const wire_fields[] = {"ArrayT", "SliceT", "StructT", "MapT",
                                          "GobEncoderT", "BinaryMarshalerT", "TextMarshalerT"};
static const enum wkind wire_kinds[] = {W_ARRAY, W_SLICE, W_STRUCT, W_MAP,
                                        W_GOBENC, W_BINARY, W_TEXT};
static const char *const wire_notes[] = {
    N_("this defines an array type"),
    N_("this defines a slice type"),
    N_("this defines a struct type"),
    N_("this defines a map type"),
    N_("this defines a type that encodes itself (GobEncoder)"),
    N_("this defines a type that encodes itself (encoding.BinaryMarshaler)"),
    N_("this defines a type that encodes itself (encoding.TextMarshaler)"),
};
static const char *const inner_names[] = {"arrayType", "sliceType", "structType", "mapType",
                                          "gobEncoderType", "gobEncoderType", "gobEncoderType"};
static const char *const inner_words[] = {
    N_("the array's name, id, element type and length"),
    N_("the slice's name, id and element type"),
    N_("the struct's name, id and fields"),
    N_("the map's name, id, key type and element type"),
    N_("the type's name and id (its values are the bytes its own method produces)"),
    N_("the type's name and id (its values are the bytes its own method produces)"),
    N_("the type's name and id (its values are the text its own method produces)"),
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
    if (gob_walk_uint(w, &d, N_("a field delta")) < 0)
        return -2;
    if (d == 0) {
        leaf(w, s, SPAN_TYPE, _("0x00: end of %s"), sname);
        return -1;
    }
    if (d > (uint64_t)(nf - 1 - *fieldnum)) {
        gob_walk_fail(w, ngettext("field delta +%llu goes past the %d field of gob's %s",
                                  "field delta +%llu goes past the %d fields of gob's %s", nf),
                      (unsigned long long)d, nf, sname);
        return -2;
    }
    *fieldnum += (long)d;
    if (notes)
        leaf(w, s, SPAN_TYPE, _("field delta +%llu → %s: %s"), (unsigned long long)d,
             names[*fieldnum], _(notes[*fieldnum]));
    else
        leaf(w, s, SPAN_TYPE, _("field delta +%llu → %s"), (unsigned long long)d,
             names[*fieldnum]);
    return (int)*fieldnum;
}

/* Says what a type id refers to, from inside a definition. */
static char *id_words(const walk *w, int64_t id, char *out, size_t n)
{
    char tn[128];
    wtype *t = gob_type_lookup(w->d, id);
    if (id == w->defining)
        snprintf(out, n, "%s", _("this same type (it refers to itself)"));
    else if (t && t->kind < W_ARRAY)
        snprintf(out, n, _("%s, one of gob's predefined types"), t->name);
    else if (t)
        snprintf(out, n, "%s", gob_type_name(w->d, t, tn, sizeof tn, 0));
    else if (id <= 0)
        snprintf(out, n, "%s", _("not a valid type id"));
    else
        snprintf(out, n, "%s", _("a type not defined yet (its definition follows)"));
    return out;
}

static int def_id(walk *w, int32_t *id, const char *what)
{
    size_t s = w->pos;
    uint64_t x;
    char a[200], b[320];
    if (gob_walk_uint(w, &x, what) < 0)
        return -1;
    int64_t v = unzigzag(x);
    if (v < INT32_MIN || v > INT32_MAX)
        return gob_walk_fail(w, _("%s %lld is out of range"), _(what), (long long)v);
    *id = (int32_t)v;
    leaf(w, s, SPAN_TYPE, _("%s %lld = %s (%s)"), _(what), (long long)v, id_words(w, v, a, sizeof a),
         gob_zigzag_words(w, s, x, b, sizeof b));
    return 0;
}

static int def_string(walk *w, char **out, const char *what)
{
    size_t s = w->pos;
    uint64_t n;
    char q[200];
    if (gob_walk_count(w, &n, what) < 0)
        return -1;
    char *str = malloc(n + 1);
    if (!str)
        return gob_walk_fail(w, _("out of memory"));
    memcpy(str, w->p + w->pos, n);
    str[n] = '\0';
    free(*out);
    *out = str;
    if (n == 0) {
        leaf(w, s, SPAN_TYPE, _("%s \"\" (length 0)"), _(what));
        return 0;
    }
    leaf(w, s, SPAN_TYPE, _("%s length %llu"), _(what), (unsigned long long)n);
    explain_quote(q, sizeof q, w->p + w->pos, n, 80, EXPLAIN_QUOTE_UTF8);
    w->pos += n;
    leaf(w, w->pos - n, SPAN_TYPE, "%s %s", _(what), q);
    return 0;
}

static int def_common(walk *w, wtype *t)
{
    int box = open_box(w, SPAN_TYPE, "%s", _("CommonType: the type's name and id"));
    long fn = -1;
    int f;
    char z[320];
    while ((f = def_field(w, &fn, 2, common_fields, "CommonType", NULL)) >= 0) {
        if (f == 0) {
            char *name = (char *)t->name;
            int r = def_string(w, &name, N_("type name"));
            t->name = name;
            if (r < 0)
                break;
        } else {
            size_t s = w->pos;
            uint64_t x;
            if (gob_walk_uint(w, &x, N_("the type's own id")) < 0)
                break;
            int64_t id = unzigzag(x);
            if (id == w->defining)
                leaf(w, s, SPAN_TYPE, _("type id %lld (%s)"), (long long)id,
                     gob_zigzag_words(w, s, x, z, sizeof z));
            else
                leaf(w, s, SPAN_TYPE, _("type id %lld (%s) -- differs from the id the message "
                     "defines; receivers go by the message's id"), (long long)id,
                     gob_zigzag_words(w, s, x, z, sizeof z));
        }
    }
    gob_walk_close(w, box);
    return w->failed ? -1 : 0;
}

static int def_fields(walk *w, wtype *t)
{
    size_t s = w->pos;
    uint64_t n;
    char u[256], a[200];
    if (gob_walk_count(w, &n, N_("field count")) < 0)
        return -1;
    leaf(w, s, SPAN_TYPE, ngettext("%llu field follows (%s)", "%llu fields follow (%s)",
                                   (unsigned long)n),
         (unsigned long long)n, gob_uint_words(w, s, u, sizeof u));
    if (n && !(t->fields = calloc(n, sizeof *t->fields)))
        return gob_walk_fail(w, _("out of memory"));
    for (uint64_t i = 0; i < n; i++) {
        if (w->pos >= w->end)
            return gob_walk_fail(w, _("the definition ends after %llu of its %llu fields"),
                                 (unsigned long long)i, (unsigned long long)n);
        wfield *f = &t->fields[i];
        t->nfields = i + 1;
        int box = open_box(w, SPAN_TYPE, _("field #%llu"), (unsigned long long)i);
        long fn = -1;
        int k;
        while ((k = def_field(w, &fn, 2, fieldtype_fields, "fieldType", NULL)) >= 0) {
            if ((k == 0 ? def_string(w, &f->name, N_("field name"))
                        : def_id(w, &f->id, N_("field type id"))) < 0)
                break;
        }
        if (!f->name && !(f->name = strdup("")))
            gob_walk_fail(w, _("out of memory"));
        if (!w->failed)
            explain_retitle(w->ex, box, _("field #%llu: %s, of type %s"), (unsigned long long)i,
                            f->name, id_words(w, f->id, a, sizeof a));
        gob_walk_close(w, box);
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
    int box = open_box(w, SPAN_TYPE, "%s: %s", inner_names[which], _(inner_words[which]));
    long fn = -1;
    int f;
    char u[320];
    while ((f = def_field(w, &fn, field_counts[which], field_names[which], inner_names[which],
                          NULL)) >= 0) {
        int r = 0;
        if (f == 0) {
            r = def_common(w, t);
        } else if (t->kind == W_ARRAY && f == 2) {
            size_t s = w->pos;
            uint64_t x;
            if ((r = gob_walk_uint(w, &x, N_("the array length"))) == 0) {
                t->len = unzigzag(x);
                if (t->len < 0)
                    r = gob_walk_fail(w, _("array length %lld is negative"), (long long)t->len);
                else
                    leaf(w, s, SPAN_TYPE, _("array length %lld (%s)"), (long long)t->len,
                         gob_zigzag_words(w, s, x, u, sizeof u));
            }
        } else if (t->kind == W_STRUCT) {
            r = def_fields(w, t);
        } else if (t->kind == W_MAP && f == 1) {
            r = def_id(w, &t->key_id, N_("key type id"));
        } else {
            r = def_id(w, &t->elem_id, N_("element type id"));
        }
        if (r < 0)
            break;
    }
    gob_walk_close(w, box);
    return w->failed ? -1 : 0;
}

static int def_wiretype(walk *w, wtype *t)
{
    long fn = -1;
    int f;
    while ((f = def_field(w, &fn, 7, wire_fields, "wireType", wire_notes)) >= 0) {
        if (t->kind)
            return gob_walk_fail(w, _("the definition describes more than one type"));
        t->kind = wire_kinds[f];
        if (def_inner(w, t, f) < 0)
            return -1;
    }
    if (f == -2)
        return -1;
    if (!t->kind)
        return gob_walk_fail(w, _("the type definition describes no type (no wireType field is set)"));
    return 0;
}

/* Reads the type definition in the rest of w's message for id -neg_id. */
int gob_type_define(walk *w, int64_t neg_id, wtype **out)
{
    gob_dec *d = w->d;
    if (neg_id < -(int64_t)INT32_MAX)
        return gob_walk_fail(w, _("type id %lld is out of range"), -(long long)(neg_id + 1) + 1);
    int64_t id = -neg_id;
    if (id < FIRST_USER_ID)
        return gob_walk_fail(w, _("type id %lld belongs to gob itself; a stream may only define "
                             "ids from %d up"), (long long)id, FIRST_USER_ID);
    if (gob_type_lookup(d, id))
        return gob_walk_fail(w, _("type id %lld is defined a second time"), (long long)id);
    if (d->ntypes >= GOB_MAX_TYPES)
        return gob_walk_fail(w, _("more than %d type definitions on one stream"), GOB_MAX_TYPES);
    if (d->type_bytes + w->end > GOB_MAX_TYPE_BYTES)
        return gob_walk_fail(w, _("type definitions on this stream exceed %u bytes"),
                             GOB_MAX_TYPE_BYTES);
    wtype *t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(""))) {
        free(t);
        return gob_walk_fail(w, _("out of memory"));
    }
    t->id = (int32_t)id;
    w->defining = t->id;
    if (def_wiretype(w, t) < 0)
        goto fail;
    if (w->pos != w->end) {
        gob_walk_fail(w, _("%zu bytes of extra data after the type definition"), w->end - w->pos);
        goto fail;
    }
    if (dec_insert(d, t) < 0) {
        gob_walk_fail(w, _("out of memory"));
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
