/* pbjson_field.c -- the JSON mapping's fields and scalars: names, presence, numbers, bytes, enums, lists, maps. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/i18n.h"
#include "wire/pbfield.h"
#include "wire/pbjson_int.h"

/* ---- shared with pbjson_wkt.c ---- */

int pj_fail(pj_ctx *c, const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c->path[0])
        err_set(c->err, c->errlen, _("field \"%s\": %s"), c->path, what);
    else
        err_set(c->err, c->errlen, "%s", what);
    c->failed = true;
    return -1;
}

int pj_fail_want(pj_ctx *c, const char *want, const value *v)
{
    char got[80];
    pbfield_describe(v, got, sizeof got);
    return pj_fail(c, _("want %s, got %s"), want, got);
}

const ProtobufCFieldDescriptor *pj_field(pj_ctx *c, const ProtobufCMessageDescriptor *d, const char *name)
{
    const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field_by_name(d, name);
    if (!fd)
        pj_fail(c, _("%s has no field \"%s\""), d->name, name);
    return fd;
}

static size_t path_push(pj_ctx *c, const char *fmt, const char *s, size_t i)
{
    size_t saved = strlen(c->path);
    size_t room = sizeof c->path - saved;
    if (fmt[0] == '.')
        snprintf(c->path + saved, room, "%s%s", saved ? "." : "", s);
    else if (s)
        snprintf(c->path + saved, room, "[%s]", s);
    else
        snprintf(c->path + saved, room, "[%zu]", i);
    return saved;
}

static bool is_null_enum(const ProtobufCFieldDescriptor *fd)
{
    return fd->type == PROTOBUF_C_TYPE_ENUM &&
           strcmp(((const ProtobufCEnumDescriptor *)fd->descriptor)->name, "google.protobuf.NullValue") == 0;
}

static bool is_value_msg(const ProtobufCFieldDescriptor *fd)
{
    return fd->type == PROTOBUF_C_TYPE_MESSAGE &&
           strcmp(((const ProtobufCMessageDescriptor *)fd->descriptor)->name, "google.protobuf.Value") == 0;
}

/* protoc's JSON name: underscores dropped, the letter after one upper-cased. */
static char *json_name(const char *name)
{
    char *out = malloc(strlen(name) + 1), *o = out;
    bool up = false;
    for (; out && *name; name++) {
        if (*name == '_') {
            up = true;
            continue;
        }
        *o++ = up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
        up = false;
    }
    if (out)
        *o = '\0';
    return out;
}

static bool json_name_is(const char *s, size_t n, const char *name)
{
    size_t i = 0;
    bool up = false;
    for (; *name; name++) {
        if (*name == '_') {
            up = true;
            continue;
        }
        char ch = up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
        if (i == n || s[i++] != ch)
            return false;
        up = false;
    }
    return i == n;
}

/* ---- message -> value ---- */

static value *num_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static value *num_text(const char *fmt, ...)
{
    char tmp[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return value_cstring(tmp);
}

/* NaN and the infinities as text; a float by the shortest text that reads back as it. */
static value *float_value(double d, bool single)
{
    if (isnan(d))
        return value_cstring("NaN");
    if (isinf(d))
        return value_cstring(d > 0 ? "Infinity" : "-Infinity");
    if (single) {
        float f = (float)d;
        char tmp[40];
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, (double)f);
            if (strtof(tmp, NULL) == f)
                break;
        }
        d = strtod(tmp, NULL);
    }
    return value_float(d);
}

static value *from_scalar(pj_ctx *c, const ProtobufCFieldDescriptor *fd, const void *p, int depth)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        return value_int(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        return value_uint(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        return num_text("%" PRId64, *(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        return num_text("%" PRIu64, *(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT: return float_value(*(const float *)p, true);
    case PROTOBUF_C_TYPE_DOUBLE: return float_value(*(const double *)p, false);
    case PROTOBUF_C_TYPE_BOOL: return value_bool(*(const protobuf_c_boolean *)p != 0);
    case PROTOBUF_C_TYPE_ENUM: {
        if (is_null_enum(fd))
            return value_null();
        int n = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, n);
        return ev ? value_cstring(ev->name) : value_int(n);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return value_cstring(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        buf out;
        buf_init(&out, 0);
        value *v = NULL;
        if (b64_encode(b->data, b->len, &out) == 0)
            v = value_string(buf_size(&out) ? (const char *)buf_data(&out) : "", buf_size(&out));
        buf_done(&out);
        return v;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        return sub ? c->from_message(c, sub, depth + 1) : value_null();
    }
    }
    return NULL;
}

/* A map key's text: JSON object keys are strings. */
static value *key_text(const ProtobufCFieldDescriptor *kd, const void *p)
{
    switch (kd->type) {
    case PROTOBUF_C_TYPE_BOOL: return value_cstring(*(const protobuf_c_boolean *)p ? "true" : "false");
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        return num_text("%" PRId32, *(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        return num_text("%" PRIu32, *(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        return num_text("%" PRId64, *(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        return num_text("%" PRIu64, *(const uint64_t *)p);
    default: {
        const char *s = *(char *const *)p;
        return value_cstring(s ? s : "");
    }
    }
}

static value *from_map(pj_ctx *c, const ProtobufCFieldDescriptor *fd, const ProtobufCMessage *const *ents,
                       size_t n, int depth)
{
    const ProtobufCMessageDescriptor *e = fd->descriptor;
    const ProtobufCFieldDescriptor *kd = &e->fields[0], *vd = &e->fields[1];
    value *m = value_map();
    for (size_t i = 0; m && i < n; i++) {
        value *k = key_text(kd, pbfield_cat(ents[i], kd->offset));
        size_t saved = path_push(c, "[", k ? k->u.s.p : "", 0);
        value *v = from_scalar(c, vd, pbfield_cat(ents[i], vd->offset), depth);
        c->path[saved] = '\0';
        if (!k || !v) {
            value_free(k);
            value_free(v);
            value_free(m);
            return NULL;
        }
        if (value_map_put(m, k, v) < 0) {
            value_free(m);
            return NULL;
        }
    }
    return m;
}

value *pj_from_field(pj_ctx *c, const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd, int depth)
{
    if (fd->label != PROTOBUF_C_LABEL_REPEATED)
        return from_scalar(c, fd, pbfield_cat(msg, fd->offset), depth);
    size_t n = *(const size_t *)pbfield_cat(msg, fd->quantifier_offset);
    const void *arr = *(void *const *)pbfield_cat(msg, fd->offset);
    if (pbfield_is_map(fd))
        return from_map(c, fd, arr, n, depth);
    value *list = value_list();
    size_t es = pbfield_elem_size(fd->type);
    for (size_t k = 0; list && k < n; k++) {
        size_t saved = path_push(c, "[", NULL, k);
        value *item = from_scalar(c, fd, (const char *)arr + k * es, depth);
        c->path[saved] = '\0';
        if (!item || value_list_push(list, item) < 0) {
            value_free(list);
            list = NULL;
        }
    }
    return list;
}

/* A proto3 field without presence at its zero value. */
static bool at_default(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
    const void *p = pbfield_cat(msg, fd->offset);
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(void *const *)p == NULL;
    case PROTOBUF_C_TYPE_BOOL: return *(const protobuf_c_boolean *)p == 0;
    default: {
        static const uint8_t zero[8];
        return memcmp(p, zero, pbfield_elem_size(fd->type)) == 0; /* -0.0 is not the default */
    }
    }
}

/* Whether the field is written: lists and maps when not empty, fields with presence when
 * set, the others when not at their zero value; with emit_defaults all but unset
 * optionals and oneof members. */
static bool written(pj_ctx *c, const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
        return c->opts.emit_defaults || *(const size_t *)pbfield_cat(msg, fd->quantifier_offset) > 0;
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return pbfield_present(msg, fd);
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
        return c->opts.emit_defaults || pbfield_present(msg, fd);
    if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
        return pbfield_present(msg, fd);
    return c->opts.emit_defaults || fd->label == PROTOBUF_C_LABEL_REQUIRED || !at_default(msg, fd);
}

int pj_from_fields(pj_ctx *c, const ProtobufCMessage *msg, value *st, int depth)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (!written(c, msg, fd))
            continue;
        size_t saved = path_push(c, ".", fd->name, 0);
        value *fv = pj_from_field(c, msg, fd, depth);
        c->path[saved] = '\0';
        if (!fv)
            return -1;
        char *jn = c->opts.proto_names ? NULL : json_name(fd->name);
        if (!c->opts.proto_names && !jn) {
            value_free(fv);
            return -1;
        }
        int r = value_struct_set(st, jn ? jn : fd->name, fv);
        free(jn);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* ---- value -> message ---- */

static int oom(pj_ctx *c)
{
    err_set(c->err, c->errlen, _("out of memory"));
    c->failed = true;
    return -1;
}

static int get_int(pj_ctx *c, const ProtobufCFieldDescriptor *fd, const value *v, bool is_unsigned,
                   uint64_t uhi, int64_t lo, int64_t hi, void *out)
{
    const char *want = fd->type == PROTOBUF_C_TYPE_ENUM ? _("enum name or number") : pbfield_type_name(fd->type);
    int r = is_unsigned ? pbfield_get_u64(v, uhi, out) : pbfield_get_i64(v, lo, hi, out);
    if (r == PBFIELD_RANGE) {
        char got[80];
        pbfield_describe(v, got, sizeof got);
        return pj_fail(c, _("%s is out of range for %s"), got, want);
    }
    return r < 0 ? pj_fail_want(c, want, v) : 0;
}

static int to_enum(pj_ctx *c, const ProtobufCFieldDescriptor *fd, int *p, const value *v)
{
    const ProtobufCEnumDescriptor *ed = fd->descriptor;
    if (v->kind == V_NULL && is_null_enum(fd)) {
        *p = 0;
        return 0;
    }
    if (v->kind == V_STRING) {
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, v->u.s.p);
        if (!ev)
            return pj_fail(c, _("no value \"%s\" in enum %s"), v->u.s.p, ed->name);
        *p = ev->value;
        return 0;
    }
    int64_t i;
    if (get_int(c, fd, v, false, 0, INT32_MIN, INT32_MAX, &i) < 0)
        return -1;
    *p = (int)i;
    return 0;
}

static int to_scalar(pj_ctx *c, const ProtobufCFieldDescriptor *fd, void *p, const value *v, int depth)
{
    const char *want = pbfield_type_name(fd->type);
    int64_t i;
    uint64_t u;
    double d;
    if (v->kind == V_NULL && !is_null_enum(fd) && !is_value_msg(fd))
        return pj_fail_want(c, want, v);
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        if (get_int(c, fd, v, false, 0, INT32_MIN, INT32_MAX, &i) < 0)
            return -1;
        *(int32_t *)p = (int32_t)i;
        return 0;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        return get_int(c, fd, v, false, 0, INT64_MIN, INT64_MAX, p);
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        if (get_int(c, fd, v, true, UINT32_MAX, 0, 0, &u) < 0)
            return -1;
        *(uint32_t *)p = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        return get_int(c, fd, v, true, UINT64_MAX, 0, 0, p);
    case PROTOBUF_C_TYPE_FLOAT: case PROTOBUF_C_TYPE_DOUBLE:
        if (pbfield_get_double(v, &d) < 0)
            return pj_fail_want(c, want, v);
        if (fd->type == PROTOBUF_C_TYPE_DOUBLE) {
            *(double *)p = d;
            return 0;
        }
        if (isfinite(d) && fabs(d) > FLT_MAX) {
            char got[80];
            pbfield_describe(v, got, sizeof got);
            return pj_fail(c, _("%s is out of range for %s"), got, want);
        }
        *(float *)p = (float)d;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (v->kind != V_BOOL)
            return pj_fail_want(c, want, v);
        *(protobuf_c_boolean *)p = v->u.b;
        return 0;
    case PROTOBUF_C_TYPE_ENUM: return to_enum(c, fd, p, v);
    case PROTOBUF_C_TYPE_STRING: {
        if (v->kind != V_STRING)
            return pj_fail_want(c, want, v);
        char *s = malloc(v->u.s.len + 1);
        if (!s)
            return oom(c);
        memcpy(s, v->u.s.p, v->u.s.len + 1);
        *(char **)p = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        if (v->kind != V_STRING && v->kind != V_BYTES)
            return pj_fail_want(c, _("bytes (base64 text)"), v);
        uint8_t *data = malloc(v->u.s.len + 1);
        if (!data)
            return oom(c);
        long n = (long)v->u.s.len;
        if (v->kind == V_BYTES)
            memcpy(data, v->u.s.p, v->u.s.len);
        else
            n = b64_decode(v->u.s.p, v->u.s.len, data);
        if (n < 0) {
            free(data);
            return pj_fail_want(c, _("bytes (base64 text)"), v);
        }
        *(ProtobufCBinaryData *)p = (ProtobufCBinaryData){(size_t)n, data};
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *sd = fd->descriptor;
        ProtobufCMessage *sub = pbfield_new_message(sd);
        if (!sub)
            return oom(c);
        *(ProtobufCMessage **)p = sub; /* the parent owns it from here, filled or not */
        return c->to_message(c, sd, sub, v, depth + 1);
    }
    }
    return pj_fail_want(c, want, v);
}

/* A map key arrives as an object's key: text, also for bool and integer keys. */
static int to_map_key(pj_ctx *c, const ProtobufCFieldDescriptor *kd, void *p, const value *k)
{
    if (kd->type == PROTOBUF_C_TYPE_BOOL) {
        if (k->kind != V_STRING || (strcmp(k->u.s.p, "true") && strcmp(k->u.s.p, "false")))
            return pj_fail_want(c, _("map key \"true\" or \"false\""), k);
        *(protobuf_c_boolean *)p = strcmp(k->u.s.p, "true") == 0;
        return 0;
    }
    return to_scalar(c, kd, p, k, 0);
}

static int to_map(pj_ctx *c, const ProtobufCFieldDescriptor *fd, ProtobufCMessage *msg, const value *v,
                  int depth)
{
    const ProtobufCMessageDescriptor *e = fd->descriptor;
    size_t *np = pbfield_at(msg, fd->quantifier_offset);
    ProtobufCMessage ***arr = pbfield_at(msg, fd->offset);
    if (v->kind != V_MAP && v->kind != V_STRUCT)
        return pj_fail_want(c, _("map (an object)"), v);
    size_t n = v->kind == V_MAP ? v->u.map.len : v->u.st.len;
    *arr = calloc(n ? n : 1, sizeof(ProtobufCMessage *));
    if (!*arr)
        return oom(c);
    for (size_t i = 0; i < n; i++) {
        ProtobufCMessage *ent = pbfield_new_message(e);
        if (!ent)
            return oom(c);
        (*arr)[i] = ent;
        *np = i + 1;
        value *tmpk = NULL;
        const value *k = v->kind == V_MAP ? v->u.map.items[i].k : (tmpk = value_cstring(v->u.st.fields[i].name));
        const value *val = v->kind == V_MAP ? v->u.map.items[i].v : v->u.st.fields[i].v;
        if (!k)
            return oom(c);
        size_t saved = path_push(c, "[", k->kind == V_STRING ? k->u.s.p : "?", 0);
        int r = to_map_key(c, &e->fields[0], pbfield_at(ent, e->fields[0].offset), k);
        if (r == 0)
            r = to_scalar(c, &e->fields[1], pbfield_at(ent, e->fields[1].offset), val, depth);
        value_free(tmpk);
        if (r < 0)
            return -1;
        c->path[saved] = '\0';
    }
    return 0;
}

static int to_repeated(pj_ctx *c, const ProtobufCFieldDescriptor *fd, ProtobufCMessage *msg, const value *v,
                       int depth)
{
    if (v->kind == V_NULL)
        return 0;
    if (pbfield_is_map(fd))
        return to_map(c, fd, msg, v, depth);
    if (v->kind != V_LIST) {
        char w[64];
        snprintf(w, sizeof w, _("a list of %s"), pbfield_type_name(fd->type));
        return pj_fail_want(c, w, v);
    }
    size_t *np = pbfield_at(msg, fd->quantifier_offset);
    void **arr = pbfield_at(msg, fd->offset);
    size_t n = v->u.list.len, es = pbfield_elem_size(fd->type);
    *arr = calloc(n ? n : 1, es);
    if (!*arr)
        return oom(c);
    for (size_t i = 0; i < n; i++) {
        void *slot = (char *)*arr + i * es;
        size_t saved = path_push(c, "[", NULL, i);
        int r = to_scalar(c, fd, slot, v->u.list.items[i], depth);
        /* an element counts for free_unpacked once it owns its memory (a message even half filled) */
        if (r == 0 || (fd->type == PROTOBUF_C_TYPE_MESSAGE && *(void **)slot))
            *np = i + 1;
        if (r < 0)
            return -1;
        c->path[saved] = '\0';
    }
    return 0;
}

int pj_to_field(pj_ctx *c, const ProtobufCFieldDescriptor *fd, ProtobufCMessage *msg, const value *v, int depth)
{
    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
        return to_repeated(c, fd, msg, v, depth);
    if (v->kind == V_NULL && !is_null_enum(fd) && !is_value_msg(fd))
        return 0; /* null means the default */
    void *p = pbfield_at(msg, fd->offset);
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = pbfield_at(msg, fd->quantifier_offset);
        if (*which != 0 && *which != fd->id) {
            const ProtobufCFieldDescriptor *other = protobuf_c_message_descriptor_get_field(msg->descriptor, *which);
            return pj_fail(c, _("\"%s\" is in the same oneof as \"%s\", which is set already"), fd->name,
                           other ? other->name : "?");
        }
        /* protobuf-c frees a member by the case: set it once the member owns memory */
        if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
            *(void **)p = NULL;
        else if (fd->type == PROTOBUF_C_TYPE_BYTES)
            *(ProtobufCBinaryData *)p = (ProtobufCBinaryData){0, NULL};
        int r = to_scalar(c, fd, p, v, depth);
        bool owns = fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE ? *(void **)p != NULL
                    : fd->type == PROTOBUF_C_TYPE_BYTES ? ((ProtobufCBinaryData *)p)->data != NULL
                                                        : r == 0;
        if (owns)
            *which = fd->id;
        return r;
    }
    int r = to_scalar(c, fd, p, v, depth);
    if (r == 0 && fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->type != PROTOBUF_C_TYPE_STRING &&
        fd->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)pbfield_at(msg, fd->quantifier_offset) = 1;
    return r;
}

/* A field by its JSON name or its proto name. */
static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d, const char *s, size_t n)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (json_name_is(s, n, d->fields[i].name) ||
            (strlen(d->fields[i].name) == n && memcmp(d->fields[i].name, s, n) == 0))
            return &d->fields[i];
    return NULL;
}

int pj_to_fields(pj_ctx *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg, const value *v, int depth,
                 const char *skip)
{
    size_t n = v->kind == V_STRUCT ? v->u.st.len : v->u.map.len;
    bool *seen = calloc(d->n_fields + 1, sizeof *seen);
    if (!seen)
        return oom(c);
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        const char *name = v->kind == V_STRUCT ? v->u.st.fields[i].name : v->u.map.items[i].k->u.s.p;
        size_t nlen = v->kind == V_STRUCT ? strlen(name) : v->u.map.items[i].k->u.s.len;
        const value *fv = v->kind == V_STRUCT ? v->u.st.fields[i].v : v->u.map.items[i].v;
        if (v->kind == V_MAP && v->u.map.items[i].k->kind != V_STRING) {
            r = pj_fail_want(c, _("a field name"), v->u.map.items[i].k);
            break;
        }
        if (skip && strcmp(name, skip) == 0)
            continue;
        const ProtobufCFieldDescriptor *fd = find_field(d, name, nlen);
        if (!fd) {
            r = pj_fail(c, _("unknown field \"%.*s\" in %s"), (int)(nlen > 80 ? 80 : nlen), name, d->name);
            break;
        }
        size_t saved = path_push(c, ".", fd->name, 0);
        if (seen[fd - d->fields])
            r = pj_fail(c, _("given twice"));
        else
            r = pj_to_field(c, fd, msg, fv, depth);
        seen[fd - d->fields] = true;
        if (r == 0)
            c->path[saved] = '\0';
    }
    free(seen);
    return r;
}
