/* pbvalue.c -- protobuf-c messages to neutral values and back, field by field through descriptors. */
#include "wire/pbvalue.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/i18n.h"
#include "wire/pbfield.h"

#define MAX_DEPTH 64

/* ---- helpers ---- */

/* Names match ignoring ASCII case and underscores: `file_by_filename` = `fileByFilename`. */
static bool name_match(const char *a, size_t alen, const char *b)
{
    size_t i = 0;
    for (;;) {
        while (i < alen && a[i] == '_')
            i++;
        while (*b == '_')
            b++;
        if (i == alen || !*b)
            return i == alen && !*b;
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)*b))
            return false;
        i++;
        b++;
    }
}

/* ---- message -> value ---- */

static value *from_message(const ProtobufCMessage *msg, int depth);

/* One element stored at p, of field fd's type. */
static value *from_scalar(const ProtobufCFieldDescriptor *fd, const void *p, int depth)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        return value_int(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        return value_int(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        return value_uint(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        return value_uint(*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT: return value_float(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE: return value_float(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL: return value_bool(*(const protobuf_c_boolean *)p != 0);
    case PROTOBUF_C_TYPE_ENUM: {
        int n = *(const int *)p;
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value((const ProtobufCEnumDescriptor *)fd->descriptor, n);
        return ev ? value_cstring(ev->name) : value_int(n);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return value_cstring(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        return value_bytes(b->data ? b->data : (const uint8_t *)"", b->len);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        return sub ? from_message(sub, depth + 1) : value_null();
    }
    }
    return NULL;
}

static value *from_map(const ProtobufCFieldDescriptor *fd, const ProtobufCMessage *const *entries,
                       size_t n, int depth)
{
    const ProtobufCMessageDescriptor *e = fd->descriptor;
    value *m = value_map();
    for (size_t i = 0; m && i < n; i++) {
        value *k = from_scalar(&e->fields[0], pbfield_cat(entries[i], e->fields[0].offset), depth);
        value *v = from_scalar(&e->fields[1], pbfield_cat(entries[i], e->fields[1].offset), depth);
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

static value *from_message(const ProtobufCMessage *msg, int depth)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    if (depth > MAX_DEPTH)
        return NULL;
    value *st = value_struct(d->short_name);
    if (!st)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        value *fv = NULL;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)pbfield_cat(msg, fd->quantifier_offset);
            const void *arr = *(void *const *)pbfield_cat(msg, fd->offset);
            if (pbfield_is_map(fd)) {
                fv = from_map(fd, arr, n, depth);
            } else {
                fv = value_list();
                size_t es = pbfield_elem_size(fd->type);
                for (size_t k = 0; fv && k < n; k++) {
                    value *item = from_scalar(fd, (const char *)arr + k * es, depth);
                    if (!item || value_list_push(fv, item) < 0) {
                        value_free(fv);
                        fv = NULL;
                    }
                }
            }
        } else {
            if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                uint32_t which = *(const uint32_t *)pbfield_cat(msg, fd->quantifier_offset);
                if (which != fd->id)
                    continue;
            }
            fv = from_scalar(fd, pbfield_cat(msg, fd->offset), depth);
        }
        if (!fv || value_struct_set(st, fd->name, fv) < 0) {
            value_free(st);
            return NULL;
        }
    }
    return st;
}

value *pbvalue_from_message(const ProtobufCMessage *msg)
{
    return msg ? from_message(msg, 0) : value_null();
}

/* ---- value -> message ---- */

typedef struct tctx {
    char *err;
    size_t errlen;
    char path[256]; /* the field being filled, "a.b[2]" */
} tctx;

static int to_fields(tctx *t, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg,
                     const value *v, int depth);

static int fail_want(tctx *t, const char *want, const value *v)
{
    char got[80];
    pbfield_describe(v, got, sizeof got);
    err_set(t->err, t->errlen, _("field \"%s\": want %s, got %s"), t->path, want, got);
    return -1;
}

/* Numbers through pbfield, with the error said for the field being filled. */
static int num_fail(tctx *t, int r, const char *want, const value *v)
{
    if (r == PBFIELD_RANGE) {
        err_set(t->err, t->errlen, _("field \"%s\": value out of range for %s"), t->path, want);
        return -1;
    }
    return fail_want(t, want, v);
}

static int get_i64(tctx *t, const value *v, const char *want, int64_t lo, int64_t hi, int64_t *out)
{
    int r = pbfield_get_i64(v, lo, hi, out);
    return r < 0 ? num_fail(t, r, want, v) : 0;
}

static int get_u64(tctx *t, const value *v, const char *want, uint64_t hi, uint64_t *out)
{
    int r = pbfield_get_u64(v, hi, out);
    return r < 0 ? num_fail(t, r, want, v) : 0;
}

static int get_double(tctx *t, const value *v, const char *want, double *out)
{
    return pbfield_get_double(v, out) < 0 ? fail_want(t, want, v) : 0;
}

/* Fills the element at p (of fd's type) from v. */
static int to_scalar(tctx *t, const ProtobufCFieldDescriptor *fd, void *p, const value *v, int depth)
{
    const char *want = pbfield_type_name(fd->type);
    int64_t i;
    uint64_t u;
    double d;
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        if (get_i64(t, v, want, INT32_MIN, INT32_MAX, &i) < 0)
            return -1;
        *(int32_t *)p = (int32_t)i;
        return 0;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        if (get_i64(t, v, want, INT64_MIN, INT64_MAX, &i) < 0)
            return -1;
        *(int64_t *)p = i;
        return 0;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        if (get_u64(t, v, want, UINT32_MAX, &u) < 0)
            return -1;
        *(uint32_t *)p = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        if (get_u64(t, v, want, UINT64_MAX, &u) < 0)
            return -1;
        *(uint64_t *)p = u;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        if (get_double(t, v, want, &d) < 0)
            return -1;
        *(float *)p = (float)d;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (get_double(t, v, want, &d) < 0)
            return -1;
        *(double *)p = d;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (v->kind != V_BOOL)
            return fail_want(t, want, v);
        *(protobuf_c_boolean *)p = v->u.b;
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = fd->descriptor;
        if (v->kind == V_STRING) {
            const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, v->u.s.p);
            if (!ev) {
                err_set(t->err, t->errlen, _("field \"%s\": \"%s\" is not a value of enum %s"), t->path,
                        v->u.s.p, ed->name);
                return -1;
            }
            *(int *)p = ev->value;
            return 0;
        }
        if (v->kind == V_STRING || v->kind == V_FLOAT)
            return fail_want(t, "enum name or number", v);
        if (get_i64(t, v, "enum name or number", INT32_MIN, INT32_MAX, &i) < 0)
            return -1;
        *(int *)p = (int)i;
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING: {
        if (v->kind != V_STRING)
            return fail_want(t, want, v);
        char *s = malloc(v->u.s.len + 1);
        if (!s)
            goto oom;
        memcpy(s, v->u.s.p, v->u.s.len);
        s[v->u.s.len] = '\0';
        *(char **)p = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *b = p;
        if (v->kind == V_BYTES) {
            b->data = malloc(v->u.s.len ? v->u.s.len : 1);
            if (!b->data)
                goto oom;
            memcpy(b->data, v->u.s.p, v->u.s.len);
            b->len = v->u.s.len;
            return 0;
        }
        if (v->kind == V_STRING) {
            b->data = malloc(v->u.s.len + 1);
            if (!b->data)
                goto oom;
            long n = b64_decode(v->u.s.p, v->u.s.len, b->data);
            if (n < 0) {
                free(b->data);
                b->data = NULL;
                b->len = 0;
                return fail_want(t, "bytes (base64 text)", v);
            }
            b->len = (size_t)n;
            return 0;
        }
        return fail_want(t, "bytes", v);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *sd = fd->descriptor;
        if (v->kind != V_STRUCT && v->kind != V_MAP && v->kind != V_NULL) {
            char w[160];
            snprintf(w, sizeof w, "message %s", sd->name);
            return fail_want(t, w, v);
        }
        ProtobufCMessage *sub = pbfield_new_message(sd);
        if (!sub)
            goto oom;
        *(ProtobufCMessage **)p = sub;
        return to_fields(t, sd, sub, v, depth + 1);
    }
    }
    return fail_want(t, want, v);
oom:
    err_set(t->err, t->errlen, _("out of memory"));
    return -1;
}

/* A map key arrives as a string (JSON object keys) or as a value of the key's type. */
static int to_map_key(tctx *t, const ProtobufCFieldDescriptor *kd, void *p, const value *k)
{
    if (k->kind == V_STRING && kd->type == PROTOBUF_C_TYPE_BOOL) {
        if (strcmp(k->u.s.p, "true") && strcmp(k->u.s.p, "false"))
            return fail_want(t, "bool map key", k);
        *(protobuf_c_boolean *)p = strcmp(k->u.s.p, "true") == 0;
        return 0;
    }
    return to_scalar(t, kd, p, k, 0);
}

static int path_push(tctx *t, const char *fmt, const char *name, size_t idx, size_t *saved)
{
    *saved = strlen(t->path);
    size_t room = sizeof t->path - *saved;
    if (fmt[0] == '.')
        snprintf(t->path + *saved, room, "%s%s", *saved ? "." : "", name);
    else
        snprintf(t->path + *saved, room, "[%zu]", idx);
    return 0;
}

static int to_repeated(tctx *t, const ProtobufCFieldDescriptor *fd, ProtobufCMessage *msg,
                       const value *v, int depth)
{
    size_t *np = pbfield_at(msg, fd->quantifier_offset);
    void **arr = pbfield_at(msg, fd->offset);
    if (v->kind == V_NULL)
        return 0;
    if (pbfield_is_map(fd)) {
        const ProtobufCMessageDescriptor *e = fd->descriptor;
        size_t n = v->kind == V_MAP ? v->u.map.len : v->kind == V_STRUCT ? v->u.st.len : 0;
        if (v->kind != V_MAP && v->kind != V_STRUCT)
            return fail_want(t, "map (an object)", v);
        *arr = calloc(n ? n : 1, sizeof(ProtobufCMessage *));
        if (!*arr)
            goto oom;
        ProtobufCMessage **ents = *arr;
        for (size_t i = 0; i < n; i++) {
            ProtobufCMessage *ent = pbfield_new_message(e);
            if (!ent)
                goto oom;
            ents[i] = ent;
            *np = i + 1;
            value *tmpk = NULL;
            const value *k, *val;
            if (v->kind == V_MAP) {
                k = v->u.map.items[i].k;
                val = v->u.map.items[i].v;
            } else {
                k = tmpk = value_cstring(v->u.st.fields[i].name);
                val = v->u.st.fields[i].v;
                if (!tmpk)
                    goto oom;
            }
            size_t saved;
            path_push(t, "[", NULL, i, &saved);
            int r = to_map_key(t, &e->fields[0], pbfield_at(ent, e->fields[0].offset), k);
            if (r == 0 && val->kind != V_NULL)
                r = to_scalar(t, &e->fields[1], pbfield_at(ent, e->fields[1].offset), val, depth);
            value_free(tmpk);
            if (r < 0)
                return -1;
            t->path[saved] = '\0';
        }
        return 0;
    }
    if (v->kind != V_LIST) {
        char w[64];
        snprintf(w, sizeof w, "a list of %s", pbfield_type_name(fd->type));
        return fail_want(t, w, v);
    }
    size_t n = v->u.list.len, es = pbfield_elem_size(fd->type);
    *arr = calloc(n ? n : 1, es);
    if (!*arr)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        void *slot = (char *)*arr + i * es;
        /* the element counts as present for free_unpacked only once it is filled */
        size_t saved;
        path_push(t, "[", NULL, i, &saved);
        if (fd->type == PROTOBUF_C_TYPE_STRING && v->u.list.items[i]->kind == V_NULL) {
            err_set(t->err, t->errlen, _("field \"%s\": want string, got null"), t->path);
            return -1;
        }
        int r = to_scalar(t, fd, slot, v->u.list.items[i], depth);
        if (r < 0) {
            /* a half-built message element is owned by the array now */
            if (fd->type == PROTOBUF_C_TYPE_MESSAGE && *(void **)slot)
                *np = i + 1;
            return -1;
        }
        *np = i + 1;
        t->path[saved] = '\0';
    }
    return 0;
oom:
    err_set(t->err, t->errlen, _("out of memory"));
    return -1;
}

static int to_field(tctx *t, const ProtobufCFieldDescriptor *fd, ProtobufCMessage *msg,
                    const value *v, int depth)
{
    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
        return to_repeated(t, fd, msg, v, depth);
    if (v->kind == V_NULL) /* proto3 JSON: null means the default */
        return 0;
    void *p = pbfield_at(msg, fd->offset);
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = pbfield_at(msg, fd->quantifier_offset);
        if (*which != 0) {
            err_set(t->err, t->errlen, _("field \"%s\": another member of its oneof is already set"),
                    t->path);
            return -1;
        }
        /* protobuf-c's free looks at the case: set it only once the member owns memory */
        if (fd->type == PROTOBUF_C_TYPE_STRING)
            *(char **)p = NULL;
        else if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
            *(void **)p = NULL;
        else if (fd->type == PROTOBUF_C_TYPE_BYTES)
            *(ProtobufCBinaryData *)p = (ProtobufCBinaryData){0, NULL};
        int r = to_scalar(t, fd, p, v, depth);
        bool owns = fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE
                        ? *(void **)p != NULL
                        : fd->type == PROTOBUF_C_TYPE_BYTES ? ((ProtobufCBinaryData *)p)->data != NULL
                                                            : r == 0;
        if (owns)
            *which = fd->id;
        return r;
    }
    if (fd->type == PROTOBUF_C_TYPE_STRING) {
        /* the default must not be freed; a NULL is safe for free_unpacked */
        char *old = *(char **)p;
        if (old && old != (const char *)fd->default_value)
            free(old); /* the same field named twice: the last one wins */
        *(char **)p = NULL;
    } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
        ProtobufCMessage *old = *(ProtobufCMessage **)p;
        if (old)
            protobuf_c_message_free_unpacked(old, NULL);
        *(void **)p = NULL;
    } else if (fd->type == PROTOBUF_C_TYPE_BYTES) {
        ProtobufCBinaryData *old = p;
        const ProtobufCBinaryData *def = fd->default_value;
        if (old->data && (!def || def->data != old->data))
            free(old->data);
        *(ProtobufCBinaryData *)p = (ProtobufCBinaryData){0, NULL};
    }
    int r = to_scalar(t, fd, p, v, depth);
    if (r == 0 && fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset &&
        fd->type != PROTOBUF_C_TYPE_STRING && fd->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)pbfield_at(msg, fd->quantifier_offset) = 1;
    return r;
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
                                                  const char *name, size_t len)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (name_match(name, len, d->fields[i].name))
            return &d->fields[i];
    return NULL;
}

/* Fills msg (already initialised) from v. */
static int to_fields(tctx *t, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg,
                     const value *v, int depth)
{
    if (depth > MAX_DEPTH) {
        err_set(t->err, t->errlen, _("field \"%s\": nested too deeply"), t->path);
        return -1;
    }
    if (v->kind == V_NULL)
        return 0;
    if (v->kind != V_STRUCT && v->kind != V_MAP) {
        char w[160];
        snprintf(w, sizeof w, "message %s (an object)", d->name);
        if (!t->path[0]) {
            char got[80];
            pbfield_describe(v, got, sizeof got);
            err_set(t->err, t->errlen, _("want %s, got %s"), w, got);
            return -1;
        }
        return fail_want(t, w, v);
    }
    size_t n = v->kind == V_STRUCT ? v->u.st.len : v->u.map.len;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        size_t nlen;
        const value *fv;
        if (v->kind == V_STRUCT) {
            name = v->u.st.fields[i].name;
            nlen = strlen(name);
            fv = v->u.st.fields[i].v;
        } else {
            const value *k = v->u.map.items[i].k;
            if (k->kind != V_STRING) {
                char got[80];
                pbfield_describe(k, got, sizeof got);
                err_set(t->err, t->errlen, _("field names of %s must be strings, got %s"), d->name, got);
                return -1;
            }
            name = k->u.s.p;
            nlen = k->u.s.len;
            fv = v->u.map.items[i].v;
        }
        const ProtobufCFieldDescriptor *fd = find_field(d, name, nlen);
        if (!fd) {
            err_set(t->err, t->errlen, _("unknown field \"%.*s\" for %s"), (int)nlen, name, d->name);
            return -1;
        }
        size_t saved;
        path_push(t, ".", fd->name, 0, &saved);
        if (to_field(t, fd, msg, fv, depth) < 0)
            return -1;
        t->path[saved] = '\0';
    }
    return 0;
}

ProtobufCMessage *pbvalue_to_message(const ProtobufCMessageDescriptor *d, const value *v,
                                     char *err, size_t errlen)
{
    ProtobufCMessage *msg = pbfield_new_message(d);
    if (!msg) {
        err_set(err, errlen, _("out of memory"));
        return NULL;
    }
    tctx t = {.err = err, .errlen = errlen};
    if (to_fields(&t, d, msg, v, 0) < 0) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return NULL;
    }
    return msg;
}

int pbvalue_pack(const ProtobufCMessageDescriptor *d, const value *v, uint8_t **out, size_t *len,
                 char *err, size_t errlen)
{
    ProtobufCMessage *msg = pbvalue_to_message(d, v, err, errlen);
    if (!msg)
        return -1;
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *p = malloc(n ? n : 1);
    if (!p) {
        protobuf_c_message_free_unpacked(msg, NULL);
        err_set(err, errlen, _("out of memory"));
        return -1;
    }
    protobuf_c_message_pack(msg, p);
    protobuf_c_message_free_unpacked(msg, NULL);
    *out = p;
    *len = n;
    return 0;
}

value *pbvalue_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, char *err,
                      size_t errlen)
{
    ProtobufCMessage *msg = protobuf_c_message_unpack(d, NULL, n, p);
    if (!msg) {
        err_set(err, errlen, _("%zu bytes are not a valid %s message"), n, d->name);
        return NULL;
    }
    value *v = pbvalue_from_message(msg);
    protobuf_c_message_free_unpacked(msg, NULL);
    if (!v)
        err_set(err, errlen, _("out of memory"));
    return v;
}
