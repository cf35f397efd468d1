/* pbfield.c -- what walkers over protobuf-c descriptors share: field kinds, element sizes, numbers from values. */
#include "wire/pbfield.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pbfield_is_map(const ProtobufCFieldDescriptor *fd)
{
    if (fd->label != PROTOBUF_C_LABEL_REPEATED || fd->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessageDescriptor *e = fd->descriptor;
    size_t n = strlen(e->short_name);
    return e->n_fields == 2 && n > 5 && strcmp(e->short_name + n - 5, "Entry") == 0 &&
           e->fields[0].id == 1 && strcmp(e->fields[0].name, "key") == 0 && e->fields[1].id == 2 &&
           strcmp(e->fields[1].name, "value") == 0;
}

size_t pbfield_elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

const char *pbfield_type_name(ProtobufCType t)
{
    static const char *names[] = {"int32",  "sint32", "sfixed32", "int64", "sint64", "sfixed64",
                                  "uint32", "fixed32", "uint64",  "fixed64", "float", "double",
                                  "bool",   "enum",   "string",   "bytes", "message"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

bool pbfield_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)pbfield_cat(msg, fd->quantifier_offset) == fd->id;
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(void *const *)pbfield_cat(msg, fd->offset) != NULL;
    if (fd->label != PROTOBUF_C_LABEL_OPTIONAL)
        return true;
    if (fd->type == PROTOBUF_C_TYPE_STRING) {
        const void *p = *(void *const *)pbfield_cat(msg, fd->offset);
        return p && p != fd->default_value;
    }
    return *(const protobuf_c_boolean *)pbfield_cat(msg, fd->quantifier_offset);
}

void pbfield_describe(const value *v, char *out, size_t n)
{
    switch (v->kind) {
    case V_BOOL: snprintf(out, n, "bool %s", v->u.b ? "true" : "false"); break;
    case V_INT: snprintf(out, n, "int %" PRId64, v->u.i); break;
    case V_UINT: snprintf(out, n, "uint %" PRIu64, v->u.u); break;
    case V_FLOAT: snprintf(out, n, "float %g", v->u.f); break;
    case V_STRING:
        snprintf(out, n, "string \"%.*s%s\"", v->u.s.len > 40 ? 40 : (int)v->u.s.len, v->u.s.p,
                 v->u.s.len > 40 ? "..." : "");
        break;
    default: snprintf(out, n, "%s", value_kind_name(v->kind)); break;
    }
}

/* Decimal text with nothing around it (no blanks, no NUL inside). */
static bool whole_text(const value *v, const char *end)
{
    return end != v->u.s.p && !*end && v->u.s.len == strlen(v->u.s.p) &&
           !isspace((unsigned char)v->u.s.p[0]);
}

int pbfield_get_i64(const value *v, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t x;
    switch (v->kind) {
    case V_INT: x = v->u.i; break;
    case V_UINT:
        if (v->u.u > (uint64_t)INT64_MAX)
            return PBFIELD_RANGE;
        x = (int64_t)v->u.u;
        break;
    case V_FLOAT:
        if (!isfinite(v->u.f) || v->u.f != floor(v->u.f))
            return PBFIELD_WRONG;
        if (v->u.f < -9.2233720368547758e18 || v->u.f >= 9.2233720368547758e18)
            return PBFIELD_RANGE;
        x = (int64_t)v->u.f;
        break;
    case V_STRING: {
        char *end;
        errno = 0;
        long long ll = strtoll(v->u.s.p, &end, 10);
        if (!whole_text(v, end))
            return PBFIELD_WRONG;
        if (errno == ERANGE)
            return PBFIELD_RANGE;
        x = ll;
        break;
    }
    default: return PBFIELD_WRONG;
    }
    if (x < lo || x > hi)
        return PBFIELD_RANGE;
    *out = x;
    return 0;
}

int pbfield_get_u64(const value *v, uint64_t hi, uint64_t *out)
{
    uint64_t x;
    switch (v->kind) {
    case V_UINT: x = v->u.u; break;
    case V_INT:
        if (v->u.i < 0)
            return PBFIELD_RANGE;
        x = (uint64_t)v->u.i;
        break;
    case V_FLOAT:
        if (!isfinite(v->u.f) || v->u.f != floor(v->u.f))
            return PBFIELD_WRONG;
        if (v->u.f < 0 || v->u.f >= 1.8446744073709552e19)
            return PBFIELD_RANGE;
        x = (uint64_t)v->u.f;
        break;
    case V_STRING: {
        char *end;
        errno = 0;
        unsigned long long ull = strtoull(v->u.s.p, &end, 10);
        if (!whole_text(v, end))
            return PBFIELD_WRONG;
        if (errno == ERANGE || (v->u.s.p[0] == '-' && ull != 0))
            return PBFIELD_RANGE;
        x = v->u.s.p[0] == '-' ? 0 : ull;
        break;
    }
    default: return PBFIELD_WRONG;
    }
    if (x > hi)
        return PBFIELD_RANGE;
    *out = x;
    return 0;
}

int pbfield_get_double(const value *v, double *out)
{
    switch (v->kind) {
    case V_FLOAT: *out = v->u.f; return 0;
    case V_INT: *out = (double)v->u.i; return 0;
    case V_UINT: *out = (double)v->u.u; return 0;
    case V_STRING: {
        const char *s = v->u.s.p;
        if (strcmp(s, "NaN") == 0) { *out = NAN; return 0; }
        if (strcmp(s, "Infinity") == 0) { *out = INFINITY; return 0; }
        if (strcmp(s, "-Infinity") == 0) { *out = -INFINITY; return 0; }
        char *end;
        double d = strtod(s, &end);
        /* strtod also reads "nan", "inf" and hex; JSON's numbers are decimal */
        if (!whole_text(v, end) || strpbrk(s, "nNiIxX"))
            return PBFIELD_WRONG;
        *out = d;
        return 0;
    }
    default: return PBFIELD_WRONG;
    }
}

/* A fresh message of type d, or NULL when memory ran out. Generated types bring their
 * init; types learned at run time (wire/pbdesc) have none, and get what protobuf-c's
 * unpacking does for them: zeroes, then each singular field's default. (Unpacking no
 * bytes would do the same, but refuses a type with required fields.) */
ProtobufCMessage *pbfield_new_message(const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = malloc(d->sizeof_message);
    if (!m)
        return NULL;
    if (d->message_init) {
        d->message_init(m);
        return m;
    }
    memset(m, 0, d->sizeof_message);
    m->descriptor = d;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (!fd->default_value || fd->label == PROTOBUF_C_LABEL_REPEATED || (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        void *p = pbfield_at(m, fd->offset);
        if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
            *(const void **)p = fd->default_value;
        else
            memcpy(p, fd->default_value, pbfield_elem_size(fd->type));
    }
    return m;
}
