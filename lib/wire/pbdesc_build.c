/* pbdesc_build.c -- one FileDescriptorProto turned into protobuf-c descriptors, laid out as protoc-c would. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "wire/pbdesc_int.h"

#define MAX_FIELD_NUMBER 536870911

typedef struct bmsg {
    const pd_msgproto *mp;
    ProtobufCMessageDescriptor *d;
    char *full;
} bmsg;

typedef struct benum {
    const pd_enumproto *ep;
    ProtobufCEnumDescriptor *d;
    char *full;
} benum;

typedef struct bctx {
    pd_arena *a;
    uint32_t file;
    const pd_fileproto *fp;
    const char *fname, *pkg;
    bool proto3;
    char *err;
    size_t errlen;
    bmsg *msgs;
    size_t nmsgs, capmsgs;
    benum *enums;
    size_t nenums, capenums;
} bctx;

const char *pd_file_name(uint32_t idx) { return pd_files[idx].fp->name; }

static int oom(bctx *b)
{
    err_set(b->err, b->errlen, _("%s: out of memory, or the 64 MiB cap for descriptors reached"),
            b->fname);
    return -1;
}

/* Registers a symbol of this file; a name another definition holds is an error. */
static int define(bctx *b, const char *full, int kind, const void *proto, const void *built)
{
    pd_sym *clash = NULL;
    int r = pd_put(&pd_syms, full, kind, b->file, proto, built, &clash);
    if (r == 1) {
        err_set(b->err, b->errlen, _("%s: %s is defined twice (also in %s)"), b->fname, full,
                pd_file_name(clash->file));
        return -1;
    }
    if (r < 0) {
        err_set(b->err, b->errlen, _("%s: too many types (the cap is %d messages)"), b->fname,
                PD_MAX_MESSAGES);
        return -1;
    }
    return 0;
}

static int collect_enum(bctx *b, const pd_enumproto *ep, const char *scope)
{
    if (!ep->name || !ep->name[0]) {
        err_set(b->err, b->errlen, _("%s: an enum without a name"), b->fname);
        return -1;
    }
    if (b->nenums == b->capenums) {
        size_t nc = b->capenums ? 2 * b->capenums : 16;
        benum *ne = realloc(b->enums, nc * sizeof *ne);
        if (!ne)
            return oom(b);
        b->enums = ne;
        b->capenums = nc;
    }
    benum *e = &b->enums[b->nenums];
    e->ep = ep;
    e->full = pd_join(b->a, scope, ".", ep->name);
    e->d = pd_alloc(b->a, sizeof *e->d);
    if (!e->full || !e->d)
        return oom(b);
    b->nenums++;
    return define(b, e->full, PD_ENUM, ep, e->d);
}

/* Registers mp and everything nested in it, so that any field may point at any of them. */
static int collect_msg(bctx *b, const pd_msgproto *mp, const char *scope, int depth)
{
    if (!mp->name || !mp->name[0]) {
        err_set(b->err, b->errlen, _("%s: a message without a name"), b->fname);
        return -1;
    }
    if (depth > PD_MAX_DEPTH) {
        err_set(b->err, b->errlen, _("%s: messages nested deeper than %d"), b->fname, PD_MAX_DEPTH);
        return -1;
    }
    if (pd_nmessages + b->nmsgs >= PD_MAX_MESSAGES) {
        err_set(b->err, b->errlen, _("%s: too many types (the cap is %d messages)"), b->fname,
                PD_MAX_MESSAGES);
        return -1;
    }
    if (b->nmsgs == b->capmsgs) {
        size_t nc = b->capmsgs ? 2 * b->capmsgs : 16;
        bmsg *nm = realloc(b->msgs, nc * sizeof *nm);
        if (!nm)
            return oom(b);
        b->msgs = nm;
        b->capmsgs = nc;
    }
    bmsg *m = &b->msgs[b->nmsgs];
    m->mp = mp;
    m->full = pd_join(b->a, scope, ".", mp->name);
    m->d = pd_alloc(b->a, sizeof *m->d);
    if (!m->full || !m->d)
        return oom(b);
    b->nmsgs++;
    char *full = m->full; /* b->msgs may move */
    if (define(b, full, PD_MESSAGE, mp, b->msgs[b->nmsgs - 1].d) < 0)
        return -1;
    for (size_t i = 0; i < mp->n_nested_type; i++)
        if (collect_msg(b, mp->nested_type[i], full, depth + 1) < 0)
            return -1;
    for (size_t i = 0; i < mp->n_enum_type; i++)
        if (collect_enum(b, mp->enum_type[i], full) < 0)
            return -1;
    return 0;
}

/* protoc-c's number ranges over sorted values: runs of consecutive numbers, then {0, n}. */
static ProtobufCIntRange *make_ranges(pd_arena *a, const int *v, unsigned n, unsigned *nranges)
{
    *nranges = 0;
    if (n == 0)
        return NULL;
    unsigned nr = 1;
    for (unsigned i = 1; i < n; i++)
        if (v[i - 1] + 1 != v[i])
            nr++;
    ProtobufCIntRange *r = pd_alloc(a, (nr + 1) * sizeof *r);
    if (!r)
        return NULL;
    unsigned k = 0, start = 0;
    for (unsigned i = 1; i <= n; i++) {
        if (i == n || v[i - 1] + 1 != v[i]) {
            r[k].start_value = v[start];
            r[k].orig_index = start;
            k++;
            start = i;
        }
    }
    r[k].start_value = 0;
    r[k].orig_index = n;
    *nranges = nr;
    return r;
}

/* ---- enums ---- */

typedef struct eval {
    const char *name;
    int number;
    unsigned decl;
} eval;

static int cmp_eval_num(const void *x, const void *y)
{
    const eval *a = x, *b = y;
    if (a->number != b->number)
        return (a->number > b->number) - (a->number < b->number);
    return (a->decl > b->decl) - (a->decl < b->decl);
}

static int cmp_eval_name(const void *x, const void *y)
{
    return strcmp(((const eval *)x)->name, ((const eval *)y)->name);
}

static int build_enum(bctx *b, benum *e)
{
    const pd_enumproto *ep = e->ep;
    size_t n = ep->n_value;
    eval *v = calloc(n ? n : 1, sizeof *v);
    int *nums = calloc(n ? n : 1, sizeof *nums);
    if (!v || !nums) {
        free(v);
        free(nums);
        return oom(b);
    }
    for (size_t i = 0; i < n; i++) {
        if (!ep->value[i]->name || !ep->value[i]->name[0]) {
            err_set(b->err, b->errlen, _("%s: enum %s has a value without a name"), b->fname, e->full);
            goto fail;
        }
        v[i] = (eval){ep->value[i]->name, ep->value[i]->number, (unsigned)i};
    }
    ProtobufCEnumDescriptor *d = e->d;
    qsort(v, n, sizeof *v, cmp_eval_num);
    size_t nu = 0;
    ProtobufCEnumValue *vals = pd_alloc(b->a, (n ? n : 1) * sizeof *vals);
    ProtobufCEnumValueIndex *byname = pd_alloc(b->a, (n ? n : 1) * sizeof *byname);
    if (!vals || !byname) {
        oom(b);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (nu == 0 || vals[nu - 1].value != v[i].number) {
            vals[nu] = (ProtobufCEnumValue){v[i].name, v[i].name, v[i].number};
            nums[nu++] = v[i].number;
        }
        v[i].decl = (unsigned)(nu - 1); /* from here on: the index of its value */
    }
    qsort(v, n, sizeof *v, cmp_eval_name);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(v[i - 1].name, v[i].name) == 0) {
            err_set(b->err, b->errlen, _("%s: enum %s names value %s twice"), b->fname, e->full,
                    v[i].name);
            goto fail;
        }
        byname[i] = (ProtobufCEnumValueIndex){v[i].name, v[i].decl};
    }
    unsigned nr;
    ProtobufCIntRange *ranges = make_ranges(b->a, nums, (unsigned)nu, &nr);
    if (nu && !ranges) {
        oom(b);
        goto fail;
    }
    d->magic = PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC;
    d->name = e->full;
    d->short_name = ep->name;
    d->c_name = e->full;
    d->package_name = b->pkg;
    d->n_values = (unsigned)nu;
    d->values = vals;
    d->n_value_names = (unsigned)n;
    d->values_by_name = byname;
    d->n_value_ranges = nr;
    d->value_ranges = ranges;
    free(v);
    free(nums);
    return 0;
fail:
    free(v);
    free(nums);
    return -1;
}

/* ---- messages ---- */

static ProtobufCType c_type(int t)
{
    switch (t) {
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_DOUBLE: return PROTOBUF_C_TYPE_DOUBLE;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_FLOAT: return PROTOBUF_C_TYPE_FLOAT;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_INT64: return PROTOBUF_C_TYPE_INT64;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_UINT64: return PROTOBUF_C_TYPE_UINT64;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_INT32: return PROTOBUF_C_TYPE_INT32;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_FIXED64: return PROTOBUF_C_TYPE_FIXED64;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_FIXED32: return PROTOBUF_C_TYPE_FIXED32;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_BOOL: return PROTOBUF_C_TYPE_BOOL;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_STRING: return PROTOBUF_C_TYPE_STRING;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_MESSAGE: return PROTOBUF_C_TYPE_MESSAGE;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_BYTES: return PROTOBUF_C_TYPE_BYTES;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_UINT32: return PROTOBUF_C_TYPE_UINT32;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_ENUM: return PROTOBUF_C_TYPE_ENUM;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_SFIXED32: return PROTOBUF_C_TYPE_SFIXED32;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_SFIXED64: return PROTOBUF_C_TYPE_SFIXED64;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_SINT32: return PROTOBUF_C_TYPE_SINT32;
    case GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_SINT64: return PROTOBUF_C_TYPE_SINT64;
    default: return (ProtobufCType)-1;
    }
}

/* The C member of one value of type t: its size and alignment. */
static void c_member(ProtobufCType t, size_t *size, size_t *align)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        *size = sizeof(int32_t), *align = alignof(int32_t);
        return;
    case PROTOBUF_C_TYPE_ENUM: *size = sizeof(int), *align = alignof(int); return;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        *size = sizeof(int64_t), *align = alignof(int64_t);
        return;
    case PROTOBUF_C_TYPE_FLOAT: *size = sizeof(float), *align = alignof(float); return;
    case PROTOBUF_C_TYPE_DOUBLE: *size = sizeof(double), *align = alignof(double); return;
    case PROTOBUF_C_TYPE_BOOL:
        *size = sizeof(protobuf_c_boolean), *align = alignof(protobuf_c_boolean);
        return;
    case PROTOBUF_C_TYPE_BYTES:
        *size = sizeof(ProtobufCBinaryData), *align = alignof(ProtobufCBinaryData);
        return;
    default: *size = sizeof(void *), *align = alignof(void *); return;
    }
}

static size_t place(size_t *off, size_t *maxalign, size_t size, size_t align)
{
    *off = (*off + align - 1) / align * align;
    size_t at = *off;
    *off += size;
    if (align > *maxalign)
        *maxalign = align;
    return at;
}

static bool is_real_oneof_member(const pd_fieldproto *f)
{
    return f->has_oneof_index && !(f->has_proto3_optional && f->proto3_optional);
}

static int field_fail(bctx *b, const char *msg, const pd_fieldproto *f, const char *why)
{
    err_set(b->err, b->errlen, _("%s: field %s.%s: %s"), b->fname, msg, f->name ? f->name : "?", why);
    return -1;
}

/* A bytes default, which descriptors keep C-escaped ("a\\001b"). */
static int unescape_bytes(bctx *b, const char *msg, const pd_fieldproto *f, ProtobufCFieldDescriptor *fd,
                          ProtobufCBinaryData *bd)
{
    const char *s = f->default_value;
    uint8_t *out = pd_alloc(b->a, strlen(s) + 1);
    if (!out)
        return oom(b);
    size_t n = 0;
    while (*s) {
        if (*s != '\\') {
            out[n++] = (uint8_t)*s++;
            continue;
        }
        s++;
        /* pairs of an escape letter and what it stands for */
        static const char pairs[] = "n\nr\rt\ta\ab\bf\fv\v\\\\''\"\"??";
        const char *simple = *s ? strchr(pairs, *s) : NULL;
        if (simple && (simple - pairs) % 2 == 0) {
            out[n++] = (uint8_t)simple[1];
            s++;
        } else if (*s >= '0' && *s <= '7') {
            unsigned v = 0;
            for (int k = 0; k < 3 && *s >= '0' && *s <= '7'; k++)
                v = v * 8 + (unsigned)(*s++ - '0');
            out[n++] = (uint8_t)v;
        } else if (*s == 'x' && isxdigit((unsigned char)s[1])) {
            unsigned v = 0;
            for (s++; isxdigit((unsigned char)*s); s++)
                v = v * 16 + (unsigned)(isdigit((unsigned char)*s) ? *s - '0' : (*s | 0x20) - 'a' + 10);
            out[n++] = (uint8_t)v;
        } else {
            return field_fail(b, msg, f, _("its bytes default has a bad escape"));
        }
    }
    *bd = (ProtobufCBinaryData){n, out};
    fd->default_value = bd;
    return 0;
}

/* The proto2 [default = ...] of f, in heap storage of the field's C type. */
static int parse_default(bctx *b, const char *msg, const pd_fieldproto *f, ProtobufCFieldDescriptor *fd)
{
    const char *s = f->default_value;
    char *end = NULL;
    size_t size, align;
    c_member(fd->type, &size, &align);
    void *p = pd_alloc(b->a, size);
    if (!p)
        return oom(b);
    errno = 0;
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32: {
        long long v = strtoll(s, &end, 10);
        if (v < INT32_MIN || v > INT32_MAX)
            errno = ERANGE;
        *(int32_t *)p = (int32_t)v;
        break;
    }
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: {
        unsigned long long v = strtoull(s, &end, 10);
        if (v > UINT32_MAX || s[0] == '-')
            errno = ERANGE;
        *(uint32_t *)p = (uint32_t)v;
        break;
    }
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)p = strtoll(s, &end, 10);
        break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        if (s[0] == '-')
            errno = ERANGE;
        *(uint64_t *)p = strtoull(s, &end, 10);
        break;
    case PROTOBUF_C_TYPE_FLOAT: case PROTOBUF_C_TYPE_DOUBLE: {
        double v;
        if (strcmp(s, "inf") == 0)
            v = INFINITY, end = (char *)s + 3;
        else if (strcmp(s, "-inf") == 0)
            v = -INFINITY, end = (char *)s + 4;
        else if (strcmp(s, "nan") == 0)
            v = NAN, end = (char *)s + 3;
        else
            v = strtod(s, &end);
        errno = 0; /* underflow to a denormal is fine */
        if (fd->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)p = (float)v;
        else
            *(double *)p = v;
        break;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp(s, "true") && strcmp(s, "false"))
            return field_fail(b, msg, f, _("a bool default that is neither true nor false"));
        *(protobuf_c_boolean *)p = strcmp(s, "true") == 0;
        end = (char *)s + strlen(s);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(fd->descriptor, s);
        if (!ev)
            return field_fail(b, msg, f, _("its default is not a value of its enum"));
        *(int *)p = ev->value;
        end = (char *)s + strlen(s);
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        fd->default_value = pd_strdup(b->a, s);
        return fd->default_value ? 0 : oom(b);
    case PROTOBUF_C_TYPE_BYTES:
        return unescape_bytes(b, msg, f, fd, p);
    default:
        return 0;
    }
    if (errno || !end || end == s || *end)
        return field_fail(b, msg, f, _("its default does not fit its type"));
    fd->default_value = p;
    return 0;
}

/* Checks f and fills in everything of fd but the offsets. */
static int fill_field(bctx *b, const bmsg *m, const pd_fieldproto *f, ProtobufCFieldDescriptor *fd)
{
    const char *msg = m->full;
    if (!f->name || !f->name[0])
        return field_fail(b, msg, f, _("a field without a name"));
    if (!f->has_number || f->number < 1 || f->number > MAX_FIELD_NUMBER)
        return field_fail(b, msg, f, _("its number is not between 1 and 536870911"));
    int t = f->has_type ? (int)f->type : 0;
    pd_sym *ref = NULL;
    if (f->type_name) {
        ref = pd_resolve(f->type_name, msg);
        if (!ref || (ref->kind != PD_MESSAGE && ref->kind != PD_ENUM)) {
            char why[600];
            snprintf(why, sizeof why, _("no file defines its type %s"), f->type_name);
            return field_fail(b, msg, f, why);
        }
        if (!t)
            t = ref->kind == PD_MESSAGE ? GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_MESSAGE
                                        : GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_ENUM;
    }
    if (t == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_GROUP)
        return field_fail(b, msg, f, _("groups are not supported"));
    if ((int)c_type(t) < 0)
        return field_fail(b, msg, f, _("it has no known type"));
    fd->type = c_type(t);
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE || fd->type == PROTOBUF_C_TYPE_ENUM) {
        int want = fd->type == PROTOBUF_C_TYPE_MESSAGE ? PD_MESSAGE : PD_ENUM;
        if (!ref)
            return field_fail(b, msg, f, _("its type names no message or enum"));
        if (ref->kind != want)
            return field_fail(b, msg, f, want == PD_MESSAGE ? _("its type is not a message")
                                                            : _("its type is not an enum"));
        fd->descriptor = ref->built;
    }
    fd->name = f->name;
    fd->id = (uint32_t)f->number;
    bool repeated = f->has_label && f->label == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED;
    bool required = f->has_label && f->label == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REQUIRED;
    bool p3opt = f->has_proto3_optional && f->proto3_optional;
    if (is_real_oneof_member(f)) {
        if (repeated || required)
            return field_fail(b, msg, f, _("a oneof member must be singular"));
        if ((size_t)f->oneof_index >= m->mp->n_oneof_decl || f->oneof_index < 0)
            return field_fail(b, msg, f, _("its oneof does not exist"));
        fd->flags |= PROTOBUF_C_FIELD_FLAG_ONEOF;
        fd->label = b->proto3 ? PROTOBUF_C_LABEL_NONE : PROTOBUF_C_LABEL_OPTIONAL;
    } else if (repeated) {
        fd->label = PROTOBUF_C_LABEL_REPEATED;
    } else if (required) {
        fd->label = PROTOBUF_C_LABEL_REQUIRED;
    } else if (b->proto3 && !p3opt) {
        fd->label = PROTOBUF_C_LABEL_NONE;
    } else {
        fd->label = PROTOBUF_C_LABEL_OPTIONAL;
    }
    const Google__Protobuf__FieldOptions *o = f->options;
    if (repeated && fd->type != PROTOBUF_C_TYPE_STRING && fd->type != PROTOBUF_C_TYPE_BYTES &&
        fd->type != PROTOBUF_C_TYPE_MESSAGE && (o && o->has_packed ? o->packed : b->proto3))
        fd->flags |= PROTOBUF_C_FIELD_FLAG_PACKED;
    if (o && o->has_deprecated && o->deprecated)
        fd->flags |= PROTOBUF_C_FIELD_FLAG_DEPRECATED;
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return 0; /* no default: the members share one place, where protobuf-c's generic init
                   * (types without an init function) would write it, and a later member
                   * would be taken for a message to merge into */
    if (b->proto3 && !p3opt && fd->type == PROTOBUF_C_TYPE_STRING)
        fd->default_value = &protobuf_c_empty_string; /* repeated ones too, as protoc-c does */
    if (repeated)
        return 0;
    if (f->default_value && !b->proto3)
        return parse_default(b, msg, f, fd);
    if (!b->proto3 && fd->type == PROTOBUF_C_TYPE_ENUM) {
        /* proto2's default enum value is the first one declared, as generated inits set */
        const ProtobufCEnumDescriptor *ed = fd->descriptor;
        const pd_sym *es = pd_resolve(f->type_name, msg);
        const pd_enumproto *ep = es->proto;
        if (ep->n_value > 0) {
            const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, ep->value[0]->number);
            fd->default_value = ev ? &ev->value : NULL;
        }
    }
    return 0;
}

static int cmp_field_num(const void *x, const void *y)
{
    const ProtobufCFieldDescriptor *a = x, *b = y;
    return (a->id > b->id) - (a->id < b->id);
}

static const ProtobufCFieldDescriptor *sort_fields; /* for cmp_field_name, under the pool lock */

static int cmp_field_name(const void *x, const void *y)
{
    return strcmp(sort_fields[*(const unsigned *)x].name, sort_fields[*(const unsigned *)y].name);
}

/* The struct layout, as protoc-c declares it: ProtobufCMessage, each field outside a
 * oneof in declaration order (n_x before a repeated x, has_x before an optional scalar
 * x), then per oneof a uint32 case and a union of its members. */
static size_t lay_out(const pd_msgproto *mp, ProtobufCFieldDescriptor *fds, const unsigned *of_decl)
{
    size_t off = sizeof(ProtobufCMessage), maxalign = alignof(ProtobufCMessage);
    size_t size, align;
    for (size_t i = 0; i < mp->n_field; i++) {
        if (is_real_oneof_member(mp->field[i]))
            continue;
        ProtobufCFieldDescriptor *fd = &fds[of_decl[i]];
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            fd->quantifier_offset = (unsigned)place(&off, &maxalign, sizeof(size_t), alignof(size_t));
            fd->offset = (unsigned)place(&off, &maxalign, sizeof(void *), alignof(void *));
            continue;
        }
        if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->type != PROTOBUF_C_TYPE_STRING &&
            fd->type != PROTOBUF_C_TYPE_MESSAGE)
            fd->quantifier_offset = (unsigned)place(&off, &maxalign, sizeof(protobuf_c_boolean),
                                                    alignof(protobuf_c_boolean));
        c_member(fd->type, &size, &align);
        fd->offset = (unsigned)place(&off, &maxalign, size, align);
    }
    for (size_t k = 0; k < mp->n_oneof_decl; k++) {
        size_t usize = 0, ualign = 1;
        bool any = false;
        for (size_t i = 0; i < mp->n_field; i++) {
            const pd_fieldproto *f = mp->field[i];
            if (!is_real_oneof_member(f) || (size_t)f->oneof_index != k)
                continue;
            any = true;
            c_member(fds[of_decl[i]].type, &size, &align);
            usize = size > usize ? size : usize;
            ualign = align > ualign ? align : ualign;
        }
        if (!any)
            continue; /* proto3 optional's synthetic oneof */
        unsigned qoff = (unsigned)place(&off, &maxalign, sizeof(uint32_t), alignof(uint32_t));
        usize = (usize + ualign - 1) / ualign * ualign;
        unsigned uoff = (unsigned)place(&off, &maxalign, usize, ualign);
        for (size_t i = 0; i < mp->n_field; i++) {
            const pd_fieldproto *f = mp->field[i];
            if (is_real_oneof_member(f) && (size_t)f->oneof_index == k) {
                fds[of_decl[i]].quantifier_offset = qoff;
                fds[of_decl[i]].offset = uoff;
            }
        }
    }
    return (off + maxalign - 1) / maxalign * maxalign;
}

static int build_msg(bctx *b, bmsg *m)
{
    const pd_msgproto *mp = m->mp;
    size_t n = mp->n_field;
    ProtobufCFieldDescriptor *fds = pd_alloc(b->a, (n ? n : 1) * sizeof *fds);
    unsigned *byname = pd_alloc(b->a, (n ? n : 1) * sizeof *byname);
    unsigned *of_decl = calloc(n ? n : 1, sizeof *of_decl);
    int *nums = calloc(n ? n : 1, sizeof *nums);
    if (!fds || !byname || !of_decl || !nums) {
        oom(b);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        fds[i].reserved_flags = (unsigned)i; /* declaration index, until sorted */
        if (fill_field(b, m, mp->field[i], &fds[i]) < 0)
            goto fail;
    }
    qsort(fds, n, sizeof *fds, cmp_field_num);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && fds[i - 1].id == fds[i].id) {
            char why[80];
            snprintf(why, sizeof why, _("number %u is used twice"), fds[i].id);
            field_fail(b, m->full, mp->field[fds[i].reserved_flags], why);
            goto fail;
        }
        of_decl[fds[i].reserved_flags] = (unsigned)i;
        fds[i].reserved_flags = 0;
        nums[i] = (int)fds[i].id;
        byname[i] = (unsigned)i;
    }
    sort_fields = fds;
    qsort(byname, n, sizeof *byname, cmp_field_name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(fds[byname[i - 1]].name, fds[byname[i]].name) == 0) {
            err_set(b->err, b->errlen, _("%s: message %s has two fields named %s"), b->fname, m->full,
                    fds[byname[i]].name);
            goto fail;
        }
    ProtobufCMessageDescriptor *d = m->d;
    unsigned nr;
    d->field_ranges = make_ranges(b->a, nums, (unsigned)n, &nr);
    if (n && !d->field_ranges) {
        oom(b);
        goto fail;
    }
    d->n_field_ranges = nr;
    d->sizeof_message = lay_out(mp, fds, of_decl);
    d->magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC;
    d->name = m->full;
    d->short_name = mp->name;
    d->c_name = m->full;
    d->package_name = b->pkg;
    d->n_fields = (unsigned)n;
    d->fields = fds;
    d->fields_sorted_by_name = byname;
    d->message_init = NULL;
    free(of_decl);
    free(nums);
    return 0;
fail:
    free(of_decl);
    free(nums);
    return -1;
}

/* ---- services ---- */

static int build_services(bctx *b, pb_method ***methods, size_t *nmethods)
{
    size_t total = 0;
    for (size_t s = 0; s < b->fp->n_service; s++)
        total += b->fp->service[s]->n_method;
    pb_method **out = pd_alloc(b->a, (total ? total : 1) * sizeof *out);
    if (!out)
        return oom(b);
    size_t k = 0;
    for (size_t s = 0; s < b->fp->n_service; s++) {
        const pd_svcproto *sp = b->fp->service[s];
        if (!sp->name || !sp->name[0] || strchr(sp->name, '/')) {
            err_set(b->err, b->errlen, _("%s: a service without a proper name"), b->fname);
            return -1;
        }
        char *full = pd_join(b->a, b->pkg, ".", sp->name);
        if (!full)
            return oom(b);
        if (define(b, full, PD_SERVICE, sp, NULL) < 0)
            return -1;
        for (size_t i = 0; i < sp->n_method; i++) {
            const pd_methproto *mp = sp->method[i];
            if (!mp->name || !mp->name[0] || strchr(mp->name, '/')) {
                err_set(b->err, b->errlen, _("%s: service %s has a method without a proper name"),
                        b->fname, full);
                return -1;
            }
            const pd_sym *in = mp->input_type ? pd_resolve(mp->input_type, b->pkg) : NULL;
            const pd_sym *outp = mp->output_type ? pd_resolve(mp->output_type, b->pkg) : NULL;
            if (!in || in->kind != PD_MESSAGE) {
                err_set(b->err, b->errlen, _("%s: method %s.%s: no file defines its input type %s"),
                        b->fname, full, mp->name, mp->input_type ? mp->input_type : "?");
                return -1;
            }
            if (!outp || outp->kind != PD_MESSAGE) {
                err_set(b->err, b->errlen, _("%s: method %s.%s: no file defines its output type %s"),
                        b->fname, full, mp->name, mp->output_type ? mp->output_type : "?");
                return -1;
            }
            pb_method *pm = pd_alloc(b->a, sizeof *pm);
            char *dotted = pm ? pd_join(b->a, full, ".", mp->name) : NULL;
            char *path = pm ? pd_alloc(b->a, strlen(full) + strlen(mp->name) + 3) : NULL;
            if (path)
                sprintf(path, "/%s/%s", full, mp->name);
            if (!path || !dotted)
                return oom(b);
            *pm = (pb_method){path, full, mp->name, in->built, outp->built,
                              mp->has_client_streaming && mp->client_streaming,
                              mp->has_server_streaming && mp->server_streaming};
            if (define(b, dotted, PD_METHOD, mp, pm) < 0)
                return -1;
            out[k++] = pm;
        }
    }
    *methods = out;
    *nmethods = k;
    return 0;
}

int pd_build_file(uint32_t idx, pd_arena *a, pb_method ***methods, size_t *nmethods, char *err,
                  size_t errlen)
{
    const pd_fileproto *fp = pd_files[idx].fp;
    bctx b = {.a = a, .file = idx, .fp = fp, .fname = fp->name, .pkg = fp->package ? fp->package : "",
              .proto3 = fp->syntax && strcmp(fp->syntax, "proto3") == 0, .err = err, .errlen = errlen};
    int r = -1;
    *methods = NULL;
    *nmethods = 0;
    for (size_t i = 0; i < fp->n_message_type; i++)
        if (collect_msg(&b, fp->message_type[i], b.pkg, 0) < 0)
            goto done;
    for (size_t i = 0; i < fp->n_enum_type; i++)
        if (collect_enum(&b, fp->enum_type[i], b.pkg) < 0)
            goto done;
    for (size_t i = 0; i < b.nenums; i++)
        if (build_enum(&b, &b.enums[i]) < 0)
            goto done;
    for (size_t i = 0; i < b.nmsgs; i++)
        if (build_msg(&b, &b.msgs[i]) < 0)
            goto done;
    if (build_services(&b, methods, nmethods) < 0)
        goto done;
    pd_nmessages += b.nmsgs;
    r = 0;
done:
    free(b.msgs);
    free(b.enums);
    return r;
}
