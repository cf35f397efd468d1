/* pbjson.c -- protobuf messages to values shaped as proto3's JSON mapping, and back; the well-known types' own forms. */
#include "wire/pbjson.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/i18n.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/field_mask.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "wire/pbdesc.h"
#include "wire/pbfield.h"
#include "wire/pbjson_int.h"

#define TS_MIN (-62135596800LL)  /* 0001-01-01T00:00:00Z */
#define TS_MAX 253402300799LL    /* 9999-12-31T23:59:59Z */
#define DUR_MAX 315576000000LL   /* 10000 years */
#define MASK_MAX 4096            /* bytes of one FieldMask path */

pj_wkt pj_wkt_of(const ProtobufCMessageDescriptor *d)
{
    static const struct {
        const char *name;
        pj_wkt k;
    } tab[] = {
        {"Any", PJ_ANY}, {"Timestamp", PJ_TIMESTAMP}, {"Duration", PJ_DURATION}, {"Struct", PJ_STRUCT},
        {"Value", PJ_VALUE}, {"ListValue", PJ_LIST}, {"FieldMask", PJ_FIELDMASK}, {"Empty", PJ_EMPTY},
        {"DoubleValue", PJ_WRAPPER}, {"FloatValue", PJ_WRAPPER}, {"Int64Value", PJ_WRAPPER},
        {"UInt64Value", PJ_WRAPPER}, {"Int32Value", PJ_WRAPPER}, {"UInt32Value", PJ_WRAPPER},
        {"BoolValue", PJ_WRAPPER}, {"StringValue", PJ_WRAPPER}, {"BytesValue", PJ_WRAPPER},
    };
    if (strncmp(d->name, "google.protobuf.", 16) != 0)
        return PJ_PLAIN;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(d->name + 16, tab[i].name) == 0)
            return tab[i].k;
    return PJ_PLAIN;
}

/* Any's type by its URL: a type learned at run time or compiled in (wire/pbdesc), else
 * one of the well-known types. */
static const ProtobufCMessageDescriptor *pj_resolve(const char *type_url)
{
    static const ProtobufCMessageDescriptor *const own[] = {
        &google__protobuf__any__descriptor,        &google__protobuf__timestamp__descriptor,
        &google__protobuf__duration__descriptor,   &google__protobuf__struct__descriptor,
        &google__protobuf__value__descriptor,      &google__protobuf__list_value__descriptor,
        &google__protobuf__field_mask__descriptor, &google__protobuf__empty__descriptor,
        &google__protobuf__double_value__descriptor, &google__protobuf__float_value__descriptor,
        &google__protobuf__int64_value__descriptor,  &google__protobuf__uint64_value__descriptor,
        &google__protobuf__int32_value__descriptor,  &google__protobuf__uint32_value__descriptor,
        &google__protobuf__bool_value__descriptor,   &google__protobuf__string_value__descriptor,
        &google__protobuf__bytes_value__descriptor,
    };
    const char *slash = strrchr(type_url, '/');
    const char *name = slash ? slash + 1 : type_url;
    const ProtobufCMessageDescriptor *d = pbdesc_message(name);
    for (size_t i = 0; !d && i < sizeof own / sizeof own[0]; i++)
        if (strcmp(own[i]->name, name) == 0)
            d = own[i];
    return d;
}

/* ---- Timestamp and Duration ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ".021", ".000021", ".000000021" or nothing: 0, 3, 6 or 9 digits as protobuf prints them. */
static void frac_text(int32_t nanos, char *out, size_t n)
{
    if (nanos == 0)
        out[0] = '\0';
    else if (nanos % 1000000 == 0)
        snprintf(out, n, ".%03" PRId32, nanos / 1000000);
    else if (nanos % 1000 == 0)
        snprintf(out, n, ".%06" PRId32, nanos / 1000);
    else
        snprintf(out, n, ".%09" PRId32, nanos);
}

/* Reads ".ddd" (1 to 9 digits) at *s as nanoseconds; none is 0. -1 when malformed. */
static int64_t frac_read(const char **s)
{
    if (**s != '.')
        return 0;
    (*s)++;
    int64_t ns = 0;
    int k = 0;
    for (; **s >= '0' && **s <= '9'; (*s)++, k++) {
        if (k == 9)
            return -1;
        ns = ns * 10 + (**s - '0');
    }
    if (k == 0)
        return -1;
    for (; k < 9; k++)
        ns *= 10;
    return ns;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool secs_nanos(pj_ctx *c, const ProtobufCMessage *msg, int64_t *secs, int32_t *nanos)
{
    const ProtobufCFieldDescriptor *fs = pj_field(c, msg->descriptor, "seconds");
    const ProtobufCFieldDescriptor *fn = pj_field(c, msg->descriptor, "nanos");
    if (!fs || !fn)
        return false;
    *secs = *(const int64_t *)pbfield_cat(msg, fs->offset);
    *nanos = *(const int32_t *)pbfield_cat(msg, fn->offset);
    return true;
}

static int set_secs_nanos(pj_ctx *c, ProtobufCMessage *msg, int64_t secs, int32_t nanos)
{
    const ProtobufCFieldDescriptor *fs = pj_field(c, msg->descriptor, "seconds");
    const ProtobufCFieldDescriptor *fn = pj_field(c, msg->descriptor, "nanos");
    if (!fs || !fn)
        return -1;
    *(int64_t *)pbfield_at(msg, fs->offset) = secs;
    *(int32_t *)pbfield_at(msg, fn->offset) = nanos;
    return 0;
}

static value *timestamp_from(pj_ctx *c, const ProtobufCMessage *msg)
{
    int64_t secs, y;
    int32_t nanos;
    int m, d;
    if (!secs_nanos(c, msg, &secs, &nanos))
        return NULL;
    if (secs < TS_MIN || secs > TS_MAX || nanos < 0 || nanos > 999999999) {
        pj_fail(c, _("Timestamp %" PRId64 "s %" PRId32 "ns is outside 0001-01-01 to 9999-12-31"), secs, nanos);
        return NULL;
    }
    int64_t days = (secs >= 0 ? secs : secs - 86399) / 86400, rest = secs - days * 86400;
    civil_from_days(days, &y, &m, &d);
    char frac[16], out[64];
    frac_text(nanos, frac, sizeof frac);
    snprintf(out, sizeof out, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d%sZ", y, m, d, (int)(rest / 3600),
             (int)(rest / 60 % 60), (int)(rest % 60), frac);
    return value_cstring(out);
}

static int timestamp_to(pj_ctx *c, ProtobufCMessage *msg, const value *v)
{
    if (v->kind != V_STRING || v->u.s.len < 20)
        goto bad;
    const char *s = v->u.s.p;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
        mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 ||
        s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        goto bad;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        goto bad;
    const char *p = s + 19;
    int64_t ns = frac_read(&p);
    if (ns < 0)
        goto bad;
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && digits(p + 1, 2) >= 0 && p[3] == ':' && digits(p + 4, 2) >= 0) {
        int oh = digits(p + 1, 2), om = digits(p + 4, 2);
        if (oh > 23 || om > 59)
            goto bad;
        off = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        p += 6;
    } else {
        goto bad;
    }
    if ((size_t)(p - s) != v->u.s.len)
        goto bad;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    if (secs < TS_MIN || secs > TS_MAX)
        return pj_fail(c, _("Timestamp \"%s\" is outside 0001-01-01 to 9999-12-31"), s);
    return set_secs_nanos(c, msg, secs, (int32_t)ns);
bad:
    return pj_fail_want(c, _("Timestamp as RFC 3339 text (\"1972-01-01T10:00:20.021Z\")"), v);
}

static value *duration_from(pj_ctx *c, const ProtobufCMessage *msg)
{
    int64_t secs;
    int32_t nanos;
    if (!secs_nanos(c, msg, &secs, &nanos))
        return NULL;
    if (secs < -DUR_MAX || secs > DUR_MAX || nanos <= -1000000000 || nanos >= 1000000000 ||
        (secs > 0 && nanos < 0) || (secs < 0 && nanos > 0)) {
        pj_fail(c, _("Duration %" PRId64 "s %" PRId32 "ns is not valid"), secs, nanos);
        return NULL;
    }
    char frac[16], out[64];
    frac_text(nanos < 0 ? -nanos : nanos, frac, sizeof frac);
    snprintf(out, sizeof out, "%s%" PRId64 "%ss", secs < 0 || nanos < 0 ? "-" : "", secs < 0 ? -secs : secs, frac);
    return value_cstring(out);
}

static int duration_to(pj_ctx *c, ProtobufCMessage *msg, const value *v)
{
    if (v->kind != V_STRING)
        goto bad;
    const char *p = v->u.s.p;
    bool neg = *p == '-';
    p += neg;
    int64_t secs = 0;
    int k = 0;
    for (; *p >= '0' && *p <= '9'; p++, k++) {
        if (k == 12)
            goto range;
        secs = secs * 10 + (*p - '0');
    }
    int64_t ns = frac_read(&p);
    if (k == 0 || ns < 0 || p[0] != 's' || (size_t)(p + 1 - v->u.s.p) != v->u.s.len)
        goto bad;
    if (secs > DUR_MAX)
        goto range;
    return set_secs_nanos(c, msg, neg ? -secs : secs, (int32_t)(neg ? -ns : ns));
range:
    return pj_fail(c, _("Duration \"%s\" is beyond %lld seconds"), v->u.s.p, (long long)DUR_MAX);
bad:
    return pj_fail_want(c, _("Duration as text (\"1.5s\")"), v);
}

/* ---- FieldMask: paths "foo_bar.baz" print as "fooBar.baz", joined by commas ---- */

static value *fieldmask_from(pj_ctx *c, const ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *fd = pj_field(c, msg->descriptor, "paths");
    if (!fd)
        return NULL;
    size_t n = *(const size_t *)pbfield_cat(msg, fd->quantifier_offset);
    char *const *paths = *(char *const *const *)pbfield_cat(msg, fd->offset);
    buf out;
    buf_init(&out, 0);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&out, ',');
        for (const char *s = paths[i]; *s; s++) {
            if ((*s >= 'A' && *s <= 'Z') || (*s == '_' && !(s[1] >= 'a' && s[1] <= 'z'))) {
                buf_done(&out);
                pj_fail(c, _("FieldMask path \"%s\" has no JSON form"), paths[i]);
                return NULL;
            }
            if (*s == '_')
                buf_putc(&out, (uint8_t)(*++s - 'a' + 'A'));
            else
                buf_putc(&out, (uint8_t)*s);
        }
    }
    value *v = value_string(buf_size(&out) ? (const char *)buf_data(&out) : "", buf_size(&out));
    buf_done(&out);
    return v;
}

static int fieldmask_to(pj_ctx *c, ProtobufCMessage *msg, const value *v, int depth)
{
    const ProtobufCFieldDescriptor *fd = pj_field(c, msg->descriptor, "paths");
    if (!fd)
        return -1;
    if (v->kind != V_STRING)
        return pj_fail_want(c, _("FieldMask as text (\"a.b,c\")"), v);
    value *list = value_list();
    const char *s = v->u.s.p, *end = s + v->u.s.len;
    while (list && s < end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *stop = comma ? comma : end;
        char path[MASK_MAX];
        size_t o = 0;
        for (const char *q = s; q < stop; q++) {
            bool up = *q >= 'A' && *q <= 'Z';
            if (*q == '_' || o + 2 >= sizeof path) {
                value_free(list);
                return pj_fail_want(c, _("FieldMask paths in lowerCamelCase"), v);
            }
            if (up)
                path[o++] = '_';
            path[o++] = up ? (char)(*q - 'A' + 'a') : *q;
        }
        if (value_list_push(list, value_string(path, o)) < 0)
            list = NULL;
        s = stop + 1;
    }
    if (!list)
        return -1;
    int r = pj_to_field(c, fd, msg, list, depth);
    value_free(list);
    return r;
}

/* ---- Value: the member of its oneof that is set ---- */

static value *value_from(pj_ctx *c, const ProtobufCMessage *msg, int depth)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (!(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || !pbfield_present(msg, fd))
            continue;
        if (fd->type == PROTOBUF_C_TYPE_DOUBLE && !isfinite(*(const double *)pbfield_cat(msg, fd->offset))) {
            pj_fail(c, _("google.protobuf.Value cannot hold NaN or Infinity"));
            return NULL;
        }
        return pj_from_field(c, msg, fd, depth);
    }
    pj_fail(c, _("google.protobuf.Value has no kind set"));
    return NULL;
}

static int value_to(pj_ctx *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg, const value *v,
                    int depth)
{
    const char *member;
    switch (v->kind) {
    case V_NULL: member = "null_value"; break;
    case V_BOOL: member = "bool_value"; break;
    case V_INT: case V_UINT: case V_FLOAT: member = "number_value"; break;
    case V_STRING: member = "string_value"; break;
    case V_MAP: case V_STRUCT: member = "struct_value"; break;
    case V_LIST: member = "list_value"; break;
    default: return pj_fail_want(c, _("any JSON value"), v);
    }
    const ProtobufCFieldDescriptor *fd = pj_field(c, d, member);
    return fd ? pj_to_field(c, fd, msg, v, depth) : -1;
}

/* ---- Any: {"@type": URL, fields...}, or {"@type": URL, "value": form} for a well-known type ---- */

static value *any_from(pj_ctx *c, const ProtobufCMessage *msg, int depth)
{
    const ProtobufCFieldDescriptor *fu = pj_field(c, msg->descriptor, "type_url");
    const ProtobufCFieldDescriptor *fv = pj_field(c, msg->descriptor, "value");
    if (!fu || !fv)
        return NULL;
    const char *url = *(char *const *)pbfield_cat(msg, fu->offset);
    const ProtobufCBinaryData *b = pbfield_cat(msg, fv->offset);
    if (!url || !*url)
        return value_struct(msg->descriptor->name);
    const ProtobufCMessageDescriptor *d = pj_resolve(url);
    if (!d) {
        pj_fail(c, _("no file describes the type of Any \"%s\""), url);
        return NULL;
    }
    ProtobufCMessage *sub = protobuf_c_message_unpack(d, NULL, b->len, b->data);
    if (!sub) {
        pj_fail(c, _("Any's %zu bytes are not a valid %s"), b->len, d->name);
        return NULL;
    }
    value *st = value_struct(msg->descriptor->name);
    int r = st && value_struct_set(st, "@type", value_cstring(url)) == 0 ? 0 : -1;
    if (r == 0 && pj_wkt_of(d) != PJ_PLAIN) {
        value *inner = pj_from_message(c, sub, depth + 1);
        r = inner ? value_struct_set(st, "value", inner) : -1;
    } else if (r == 0) {
        r = pj_from_fields(c, sub, st, depth + 1);
    }
    protobuf_c_message_free_unpacked(sub, NULL);
    if (r < 0) {
        value_free(st);
        return NULL;
    }
    return st;
}

static int any_to(pj_ctx *c, ProtobufCMessage *msg, const value *v, int depth)
{
    if (v->kind != V_MAP && v->kind != V_STRUCT)
        return pj_fail_want(c, _("Any (an object with \"@type\")"), v);
    const value *url = value_get(v, "@type");
    if (!url) {
        if ((v->kind == V_MAP ? v->u.map.len : v->u.st.len) == 0)
            return 0;
        return pj_fail(c, _("Any needs \"@type\""));
    }
    if (url->kind != V_STRING)
        return pj_fail_want(c, _("\"@type\" as text"), url);
    const ProtobufCMessageDescriptor *d = pj_resolve(url->u.s.p);
    if (!d)
        return pj_fail(c, _("no file describes the type of Any \"%s\""), url->u.s.p);
    const ProtobufCFieldDescriptor *fu = pj_field(c, msg->descriptor, "type_url");
    const ProtobufCFieldDescriptor *fv = pj_field(c, msg->descriptor, "value");
    ProtobufCMessage *sub = pbfield_new_message(d);
    if (!fu || !fv || !sub) {
        if (sub)
            protobuf_c_message_free_unpacked(sub, NULL);
        return -1;
    }
    int r;
    if (pj_wkt_of(d) != PJ_PLAIN) {
        const value *inner = value_get(v, "value");
        size_t n = v->kind == V_MAP ? v->u.map.len : v->u.st.len;
        if (n > 1u + (inner != NULL))
            r = pj_fail(c, _("Any holding %s takes only \"@type\" and \"value\""), d->name);
        else
            r = inner ? pj_to_message(c, d, sub, inner, depth + 1) : 0;
    } else {
        r = pj_to_fields(c, d, sub, v, depth + 1, "@type");
    }
    uint8_t *bytes = NULL;
    size_t len = r == 0 ? protobuf_c_message_get_packed_size(sub) : 0;
    if (r == 0 && !(bytes = malloc(len ? len : 1)))
        r = -1;
    if (r == 0)
        protobuf_c_message_pack(sub, bytes);
    protobuf_c_message_free_unpacked(sub, NULL);
    if (r < 0)
        return -1;
    *(ProtobufCBinaryData *)pbfield_at(msg, fv->offset) = (ProtobufCBinaryData){len, bytes};
    return pj_to_field(c, fu, msg, url, depth);
}

/* ---- dispatch ---- */

static value *pj_wkt_from(pj_ctx *c, pj_wkt k, const ProtobufCMessage *msg, int depth)
{
    const char *only = k == PJ_WRAPPER ? "value" : k == PJ_STRUCT ? "fields" : k == PJ_LIST ? "values" : NULL;
    if (only) {
        const ProtobufCFieldDescriptor *fd = pj_field(c, msg->descriptor, only);
        return fd ? pj_from_field(c, msg, fd, depth) : NULL;
    }
    switch (k) {
    case PJ_ANY: return any_from(c, msg, depth);
    case PJ_TIMESTAMP: return timestamp_from(c, msg);
    case PJ_DURATION: return duration_from(c, msg);
    case PJ_FIELDMASK: return fieldmask_from(c, msg);
    case PJ_VALUE: return value_from(c, msg, depth);
    default: return value_struct(msg->descriptor->name);
    }
}

static int pj_wkt_to(pj_ctx *c, pj_wkt k, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg,
                     const value *v, int depth)
{
    if (k == PJ_VALUE)
        return value_to(c, d, msg, v, depth);
    if (v->kind == V_NULL)
        return 0;
    const char *only = k == PJ_WRAPPER ? "value" : k == PJ_STRUCT ? "fields" : k == PJ_LIST ? "values" : NULL;
    if (only) {
        if (k == PJ_STRUCT && v->kind != V_MAP && v->kind != V_STRUCT)
            return pj_fail_want(c, _("Struct (an object)"), v);
        const ProtobufCFieldDescriptor *fd = pj_field(c, d, only);
        return fd ? pj_to_field(c, fd, msg, v, depth) : -1;
    }
    switch (k) {
    case PJ_ANY: return any_to(c, msg, v, depth);
    case PJ_TIMESTAMP: return timestamp_to(c, msg, v);
    case PJ_DURATION: return duration_to(c, msg, v);
    case PJ_FIELDMASK: return fieldmask_to(c, msg, v, depth);
    default: return pj_to_fields(c, d, msg, v, depth, NULL);
    }
}

/* ---- messages ---- */

value *pj_from_message(pj_ctx *c, const ProtobufCMessage *msg, int depth)
{
    if (depth > PJ_MAX_DEPTH) {
        pj_fail(c, _("nested more than %d deep"), PJ_MAX_DEPTH);
        return NULL;
    }
    pj_wkt k = pj_wkt_of(msg->descriptor);
    if (k != PJ_PLAIN && k != PJ_EMPTY)
        return pj_wkt_from(c, k, msg, depth);
    value *st = value_struct(msg->descriptor->name);
    if (st && pj_from_fields(c, msg, st, depth) < 0) {
        value_free(st);
        return NULL;
    }
    return st;
}

int pj_to_message(pj_ctx *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg, const value *v, int depth)
{
    if (depth > PJ_MAX_DEPTH)
        return pj_fail(c, _("nested more than %d deep"), PJ_MAX_DEPTH);
    pj_wkt k = pj_wkt_of(d);
    if (k != PJ_PLAIN && k != PJ_EMPTY)
        return pj_wkt_to(c, k, d, msg, v, depth);
    if (v->kind == V_NULL)
        return 0;
    if (v->kind != V_MAP && v->kind != V_STRUCT) {
        char w[200];
        snprintf(w, sizeof w, _("%s (an object)"), d->name);
        return pj_fail_want(c, w, v);
    }
    return pj_to_fields(c, d, msg, v, depth, NULL);
}

value *pbjson_from_message(const ProtobufCMessage *msg, const pbjson_opts *opts, char *err, size_t errlen)
{
    pj_ctx c = {.err = err, .errlen = errlen, .from_message = pj_from_message, .to_message = pj_to_message};
    if (opts)
        c.opts = *opts;
    value *v = msg ? pj_from_message(&c, msg, 0) : value_null();
    if (!v && !c.failed)
        err_set(err, errlen, _("out of memory"));
    return v;
}

ProtobufCMessage *pbjson_to_message(const ProtobufCMessageDescriptor *d, const value *v, char *err, size_t errlen)
{
    pj_ctx c = {.err = err, .errlen = errlen, .from_message = pj_from_message, .to_message = pj_to_message};
    ProtobufCMessage *msg = pbfield_new_message(d);
    if (!msg) {
        err_set(err, errlen, _("out of memory"));
        return NULL;
    }
    if (pj_to_message(&c, d, msg, v, 0) < 0) {
        if (!c.failed)
            err_set(err, errlen, _("out of memory"));
        protobuf_c_message_free_unpacked(msg, NULL);
        return NULL;
    }
    return msg;
}
