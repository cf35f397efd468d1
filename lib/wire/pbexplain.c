/* pbexplain.c -- protobuf message bytes explained field by field, with or without a schema. */
#include "wire/pbexplain.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"

#define MAX_NEST 24
/* Bytes shown in hex as "0x0a 0x0b": at most 12 (13 whole) before " ...". */
#define HEX_MAX 12
#define HEX_FLAGS (EXPLAIN_HEX_0X | EXPLAIN_HEX_SPARE_ONE)

enum { TOLD_TAG = 1, TOLD_VARINT1 = 2, TOLD_VARINTN = 256, TOLD_ZIGZAG = 4, TOLD_FIXED = 8,
       TOLD_LEN = 16, TOLD_NEG = 32, TOLD_PACKED = 64, TOLD_GUESS = 128 };

typedef struct pw {
    const uint8_t *p; /* the outermost message */
    size_t base;      /* capture offset of p */
    unsigned *told;
    explain *e;
} pw;

/* Reads a varint at p[*pos..end); returns its byte count, 0 when it runs past end, -1
 * when longer than 10 bytes. */
static int rd_varint(const uint8_t *p, size_t *pos, size_t end, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (*pos + (size_t)i >= end)
            return 0;
        uint8_t b = p[*pos + (size_t)i];
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            *pos += (size_t)i + 1;
            return i + 1;
        }
    }
    return -1;
}

/* One field's layout, found before anything is explained. */
typedef struct pfield {
    size_t start, tag_end, len_end, end; /* tag at [start, tag_end), length prefix (wire
                                            type 2) at [tag_end, len_end), value to end */
    uint64_t num;
    int wt;
    uint64_t v; /* varint value or fixed bits */
} pfield;

static const char *wt_name(int wt)
{
    switch (wt) {
    case 0: return "varint";
    case 1: return _("64-bit");
    case 2: return _("length-delimited");
    case 3: return _("start group");
    case 4: return _("end group");
    case 5: return _("32-bit");
    default: return _("invalid");
    }
}

/* Parses one field at p[pos..end). Returns 0, or -1 with why. */
static int parse_field(const uint8_t *p, size_t pos, size_t end, pfield *f, char *why,
                       size_t wn)
{
    uint64_t tag;
    memset(f, 0, sizeof *f);
    f->start = pos;
    int k = rd_varint(p, &pos, end, &tag);
    if (k <= 0) {
        err_set(why, wn, "%s", k == 0 ? _("the bytes end inside a tag") : _("a tag longer than 10 bytes"));
        return -1;
    }
    f->tag_end = f->len_end = pos;
    f->num = tag >> 3;
    f->wt = (int)(tag & 7);
    if (f->num == 0 || f->num > 536870911) {
        err_set(why, wn, _("tag 0x%" PRIx64 " gives field number %" PRIu64 ", but field numbers "
                           "run from 1 to 536870911"), tag, f->num);
        return -1;
    }
    switch (f->wt) {
    case 0:
        k = rd_varint(p, &pos, end, &f->v);
        if (k <= 0) {
            err_set(why, wn, k == 0 ? _("the bytes end inside field %" PRIu64 "'s varint")
                                    : _("field %" PRIu64 "'s varint is longer than 10 bytes"),
                    f->num);
            return -1;
        }
        break;
    case 1:
    case 5: {
        size_t w = f->wt == 1 ? 8 : 4;
        if (end - pos < w) {
            err_set(why, wn, _("field %" PRIu64 " needs %zu bytes but only %zu are left"), f->num,
                    w, end - pos);
            return -1;
        }
        for (size_t i = 0; i < w; i++)
            f->v |= (uint64_t)p[pos + i] << (8 * i);
        pos += w;
        break;
    }
    case 2: {
        uint64_t len;
        k = rd_varint(p, &pos, end, &len);
        if (k <= 0) {
            err_set(why, wn, _("the bytes end inside field %" PRIu64 "'s length"), f->num);
            return -1;
        }
        f->len_end = pos;
        if (len > end - pos) {
            err_set(why, wn, _("field %" PRIu64 " says %" PRIu64 " bytes follow but only %zu are "
                               "left"), f->num, len, end - pos);
            return -1;
        }
        f->v = len;
        pos += (size_t)len;
        break;
    }
    default:
        if (f->wt == 3 || f->wt == 4)
            err_set(why, wn, _("field %" PRIu64 " has wire type %d (%s), which is an old proto2 "
                               "feature not used by proto3 messages"), f->num, f->wt, wt_name(f->wt));
        else
            err_set(why, wn, _("field %" PRIu64 " has wire type %d (%s), which does not exist"),
                    f->num, f->wt, wt_name(f->wt));
        return -1;
    }
    f->end = pos;
    return 0;
}

static bool parses_as_message(const uint8_t *p, size_t n)
{
    char why[160];
    if (n == 0)
        return false;
    for (size_t pos = 0; pos < n;) {
        pfield f;
        if (parse_field(p, pos, n, &f, why, sizeof why) < 0)
            return false;
        pos = f.end;
    }
    return true;
}

/* ---- words ---- */

/* "0x96 0x01 = 150" or, the first time, how the 7-bit groups add up. */
static void varint_words(pw *w, size_t s, size_t end, uint64_t v, char *out, size_t cap)
{
    char hx[120];
    explain_hex(hx, sizeof hx, w->p + s, end - s, HEX_MAX, HEX_FLAGS);
    size_t n = end - s;
    if (n == 1) {
        snprintf(out, cap, "varint %s = %" PRIu64 "%s", hx, v,
                 explain_first_time(w->told, TOLD_VARINT1)
                     ? _(" (a varint byte below 0x80 is the whole number)") : "");
        return;
    }
    if (n > 4 || !explain_first_time(w->told, TOLD_VARINTN)) {
        snprintf(out, cap, "varint %s = %" PRIu64 "%s", hx, v,
                 explain_first_time(w->told, TOLD_VARINTN)
                     ? _(" (7 bits per byte, low group first; a set top bit means another "
                         "byte follows)") : "");
        return;
    }
    size_t o = (size_t)snprintf(out, cap, _("varint %s: each byte carries 7 bits, low group "
                                "first, and its top bit says whether another byte follows:"), hx);
    for (size_t i = s; i < end && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s 0x%02x<<%zu", i == s ? "" : " +",
                              w->p[i] & 0x7f, 7 * (i - s));
    if (o < cap)
        snprintf(out + o, cap - o, " = %" PRIu64, v);
}

static void tag_words(pw *w, const pfield *f, const char *fname, char *out, size_t cap)
{
    char hx[80];
    explain_hex(hx, sizeof hx, w->p + f->start, f->tag_end - f->start, HEX_MAX, HEX_FLAGS);
    if (explain_first_time(w->told, TOLD_TAG))
        snprintf(out, cap, _("tag %s: a varint holding (field number << 3) | wire type, so "
                 "field %" PRIu64 "%s%s, wire type %d (%s)"), hx, f->num, fname[0] ? " " : "",
                 fname, f->wt, wt_name(f->wt));
    else
        snprintf(out, cap, _("tag %s: field %" PRIu64 "%s%s, wire type %d (%s)"), hx, f->num,
                 fname[0] ? " " : "", fname, f->wt, wt_name(f->wt));
}

static bool utf8_valid(const uint8_t *p, size_t n, bool *printable)
{
    *printable = true;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || len > n - i)
            return false;
        if (len == 2 && c < 0xc2)
            return false;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
        if (c < 0x20 || c == 0x7f)
            *printable = false;
        i += len;
    }
    return true;
}

static const char *type_name(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32: return "int32";
    case PROTOBUF_C_TYPE_SINT32: return "sint32";
    case PROTOBUF_C_TYPE_SFIXED32: return "sfixed32";
    case PROTOBUF_C_TYPE_INT64: return "int64";
    case PROTOBUF_C_TYPE_SINT64: return "sint64";
    case PROTOBUF_C_TYPE_SFIXED64: return "sfixed64";
    case PROTOBUF_C_TYPE_UINT32: return "uint32";
    case PROTOBUF_C_TYPE_FIXED32: return "fixed32";
    case PROTOBUF_C_TYPE_UINT64: return "uint64";
    case PROTOBUF_C_TYPE_FIXED64: return "fixed64";
    case PROTOBUF_C_TYPE_FLOAT: return "float";
    case PROTOBUF_C_TYPE_DOUBLE: return "double";
    case PROTOBUF_C_TYPE_BOOL: return "bool";
    case PROTOBUF_C_TYPE_ENUM:
        return fd->descriptor ? ((const ProtobufCEnumDescriptor *)fd->descriptor)->name : "enum";
    case PROTOBUF_C_TYPE_STRING: return "string";
    case PROTOBUF_C_TYPE_BYTES: return "bytes";
    case PROTOBUF_C_TYPE_MESSAGE:
        return fd->descriptor ? ((const ProtobufCMessageDescriptor *)fd->descriptor)->name
                              : "message";
    }
    return "?";
}

/* The wire type a field of this type uses (packed repeated fields use 2 as well). */
static int wire_of(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT: return 5;
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 1;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE: return 2;
    default: return 0;
    }
}

/* The value of a scalar (wire type 0, 1 or 5) in the field's type, e.g. "-2 (zigzag: ...)". */
static void scalar_value(pw *w, const ProtobufCFieldDescriptor *fd, int wt, uint64_t v,
                         char *out, size_t cap)
{
    if (!fd) {
        if (wt == 0)
            snprintf(out, cap, "%" PRIu64, v);
        else if (wt == 5) {
            float fl;
            uint32_t u = (uint32_t)v;
            memcpy(&fl, &u, 4);
            snprintf(out, cap, _("%" PRIu32 " (as a float %g)"), u, (double)fl);
        } else {
            double d;
            memcpy(&d, &v, 8);
            snprintf(out, cap, _("%" PRIu64 " (as a double %g)"), v, d);
        }
        return;
    }
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
        snprintf(out, cap, "%" PRId32 "%s", (int32_t)(uint32_t)v,
                 (int64_t)v < 0 && explain_first_time(w->told, TOLD_NEG)
                     ? _(" (a negative int is sent as its 64-bit two's complement, so it always "
                         "takes 10 bytes)") : "");
        break;
    case PROTOBUF_C_TYPE_INT64:
        snprintf(out, cap, "%" PRId64 "%s", (int64_t)v,
                 (int64_t)v < 0 && explain_first_time(w->told, TOLD_NEG)
                     ? _(" (a negative int is sent as its 64-bit two's complement, so it always "
                         "takes 10 bytes)") : "");
        break;
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SINT64: {
        int64_t z = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
        if (fd->type == PROTOBUF_C_TYPE_SINT32)
            z = (int32_t)(uint32_t)z;
        if (explain_first_time(w->told, TOLD_ZIGZAG))
            snprintf(out, cap, v & 1 ? _("%" PRId64 " (zigzag: even n means n/2, odd n means "
                                         "-(n+1)/2, so small negative numbers stay short; %"
                                         PRIu64 " is odd)")
                                       : _("%" PRId64 " (zigzag: even n means n/2, odd n means "
                                         "-(n+1)/2, so small negative numbers stay short; %"
                                         PRIu64 " is even)"), z, v);
        else
            snprintf(out, cap, "%" PRId64 " (zigzag %" PRIu64 ")", z, v);
        break;
    }
    case PROTOBUF_C_TYPE_UINT32: snprintf(out, cap, "%" PRIu32, (uint32_t)v); break;
    case PROTOBUF_C_TYPE_UINT64: snprintf(out, cap, "%" PRIu64, v); break;
    case PROTOBUF_C_TYPE_BOOL: snprintf(out, cap, "%s", v ? "true" : "false"); break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = fd->descriptor;
        const ProtobufCEnumValue *ev = ed && (int64_t)(int32_t)v == (int64_t)v
                                           ? protobuf_c_enum_descriptor_get_value(ed, (int)v)
                                           : NULL;
        if (ev)
            snprintf(out, cap, "%s (%" PRId32 ")", ev->name, (int32_t)v);
        else
            snprintf(out, cap, _("%" PRId32 " (a number the enum does not name)"), (int32_t)v);
        break;
    }
    case PROTOBUF_C_TYPE_FIXED32: snprintf(out, cap, "%" PRIu32, (uint32_t)v); break;
    case PROTOBUF_C_TYPE_SFIXED32: snprintf(out, cap, "%" PRId32, (int32_t)(uint32_t)v); break;
    case PROTOBUF_C_TYPE_FIXED64: snprintf(out, cap, "%" PRIu64, v); break;
    case PROTOBUF_C_TYPE_SFIXED64: snprintf(out, cap, "%" PRId64, (int64_t)v); break;
    case PROTOBUF_C_TYPE_FLOAT: {
        float fl;
        uint32_t u = (uint32_t)v;
        memcpy(&fl, &u, 4);
        snprintf(out, cap, "%.9g", (double)fl);
        break;
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double d;
        memcpy(&d, &v, 8);
        snprintf(out, cap, "%.17g", d);
        break;
    }
    default: snprintf(out, cap, "%" PRIu64, v); break;
    }
}

/* Words for the bytes of a fixed-width value at p[s..s+width). */
static void fixed_words(pw *w, size_t s, size_t width, char *out, size_t cap)
{
    char hx[80];
    explain_hex(hx, sizeof hx, w->p + s, width, HEX_MAX, HEX_FLAGS);
    snprintf(out, cap, "%s%s", hx,
             explain_first_time(w->told, TOLD_FIXED)
                 ? (width == 4 ? _(": 4 bytes, little-endian (lowest byte first)")
                               : _(": 8 bytes, little-endian (lowest byte first)"))
                 : "");
}

static int walk_msg(pw *w, const ProtobufCMessageDescriptor *d, size_t start, size_t end,
                    int depth, int nest);

/* Explains the content of a length-delimited value at [s, end) (length prefix already
 * explained) for field fd (NULL: guess). Returns 0 or -1 (error spans recorded). */
static int walk_bytes(pw *w, const ProtobufCFieldDescriptor *fd, const char *label, size_t s,
                      size_t end, int depth, int nest)
{
    size_t n = end - s;
    const uint8_t *c = w->p + s;
    char q[300];
    size_t base = w->base;
    if (n == 0)
        return 0;
    if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (nest >= MAX_NEST) {
            explain_add(w->e, base + s, n, depth, SPAN_DATA, "pb",
                        _("%zu bytes of a message nested too deeply to show"), n);
            return 0;
        }
        return walk_msg(w, fd->descriptor, s, end, depth, nest + 1);
    }
    bool printable, utf8 = utf8_valid(c, n, &printable);
    if (fd && fd->type == PROTOBUF_C_TYPE_STRING) {
        explain_quote(q, sizeof q, c, n, 60, 0);
        explain_add(w->e, base + s, n, depth, utf8 ? SPAN_DATA : SPAN_ERROR, "pb",
                    _("%s = %s: %zu bytes of UTF-8 text%s"), label, q, n,
                    utf8 ? "" : _(", except they are not valid UTF-8, which proto3 strings "
                                  "must be"));
        return utf8 ? 0 : -1;
    }
    if (fd && fd->type == PROTOBUF_C_TYPE_BYTES) {
        char hx[120];
        explain_hex(hx, sizeof hx, c, n, HEX_MAX, HEX_FLAGS);
        explain_add(w->e, base + s, n, depth, SPAN_DATA, "pb", _("%s = %zu raw bytes: %s"), label,
                    n, hx);
        return 0;
    }
    /* no schema: guess */
    const char *guess = explain_first_time(w->told, TOLD_GUESS)
                            ? _(" (without a schema the wire does not say whether this is "
                                "text, bytes or a message; it is shown as what it looks like)")
                            : "";
    if (utf8 && printable) {
        explain_quote(q, sizeof q, c, n, 60, 0);
        explain_add(w->e, base + s, n, depth, SPAN_DATA, "pb", _("%s = %s: %zu bytes that read "
                    "as text%s"), label, q, n, guess);
        return 0;
    }
    if (nest < MAX_NEST && parses_as_message(c, n)) {
        int box = explain_add(w->e, base + s, n, depth, SPAN_DATA, "pb",
                              _("%s: %zu bytes that parse as a nested message%s"), label, n,
                              guess);
        (void)box;
        return walk_msg(w, NULL, s, end, depth + 1, nest + 1);
    }
    if (utf8) {
        explain_quote(q, sizeof q, c, n, 60, 0);
        explain_add(w->e, base + s, n, depth, SPAN_DATA, "pb", _("%s = %s: %zu bytes of UTF-8 "
                    "text%s"), label, q, n, guess);
        return 0;
    }
    char hx[120];
    explain_hex(hx, sizeof hx, c, n, HEX_MAX, HEX_FLAGS);
    explain_add(w->e, base + s, n, depth, SPAN_DATA, "pb", _("%s = %zu bytes: %s%s"), label, n, hx,
                guess);
    return 0;
}

/* A packed repeated scalar: elements one after another in [s, end). */
static int walk_packed(pw *w, const ProtobufCFieldDescriptor *fd, size_t s, size_t end,
                       int depth)
{
    int wt = wire_of(fd->type);
    size_t pos = s;
    for (int i = 1; pos < end; i++) {
        size_t es = pos;
        uint64_t v = 0;
        char how[400], val[300];
        if (wt == 0) {
            int k = rd_varint(w->p, &pos, end, &v);
            if (k <= 0) {
                explain_add(w->e, w->base + es, end - es, depth, SPAN_ERROR, "pb",
                            _("the packed list ends inside element %d's varint"), i);
                return -1;
            }
            varint_words(w, es, pos, v, how, sizeof how);
        } else {
            size_t width = wt == 1 ? 8 : 4;
            if (end - pos < width) {
                explain_add(w->e, w->base + es, end - es, depth, SPAN_ERROR, "pb",
                            _("%zu bytes left: not a whole %zu-byte element"), end - pos, width);
                return -1;
            }
            for (size_t k = 0; k < width; k++)
                v |= (uint64_t)w->p[pos + k] << (8 * k);
            pos += width;
            fixed_words(w, es, width, how, sizeof how);
        }
        scalar_value(w, fd, wt, v, val, sizeof val);
        explain_add(w->e, w->base + es, pos - es, depth, SPAN_DATA, "pb", _("%s[%d] = %s: %s"),
                    fd->name, i - 1, val, how);
    }
    return 0;
}

/* Explains the fields in [start, end) as message d (NULL: no schema) at depth. */
static int walk_msg(pw *w, const ProtobufCMessageDescriptor *d, size_t start, size_t end,
                    int depth, int nest)
{
    int rc = 0;
    size_t pos = start;
    while (pos < end) {
        pfield f;
        char why[240];
        if (parse_field(w->p, pos, end, &f, why, sizeof why) < 0) {
            explain_add(w->e, w->base + pos, end - pos, depth, SPAN_ERROR, "pb",
                        _("not a valid protobuf field: %s"), why);
            return -1;
        }
        const ProtobufCFieldDescriptor *fd =
            d && f.num <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)f.num)
                                     : NULL;
        bool packed = false;
        char note[200] = "";
        if (fd) {
            int want = wire_of(fd->type);
            if (f.wt == 2 && want != 2 && fd->label == PROTOBUF_C_LABEL_REPEATED)
                packed = true;
            else if (f.wt != want) {
                snprintf(note, sizeof note, _(" (but %s is %s, which is sent as wire type %d, "
                         "so a parser rejects this field)"), fd->name, type_name(fd), want);
                fd = NULL;
                rc = -1;
            }
        } else if (d) {
            snprintf(note, sizeof note, _(" (%s has no field %" PRIu64 ": an unknown field, "
                     "which parsers skip or keep as they are)"), d->name, f.num);
        }
        char fname[200] = "", label[240], tag[400];
        if (fd)
            snprintf(fname, sizeof fname, _("%s (%s%s)"), fd->name,
                     fd->label == PROTOBUF_C_LABEL_REPEATED ? "repeated " : "", type_name(fd));
        if (fd)
            snprintf(label, sizeof label, "%s", fd->name);
        else
            snprintf(label, sizeof label, _("field %" PRIu64), f.num);
        tag_words(w, &f, fname, tag, sizeof tag);

        /* the field's container, titled with its value where it is short */
        char val[300] = "", how[400] = "";
        if (f.wt == 0) {
            varint_words(w, f.tag_end, f.end, f.v, how, sizeof how);
            scalar_value(w, fd, 0, f.v, val, sizeof val);
        } else if (f.wt == 1 || f.wt == 5) {
            fixed_words(w, f.tag_end, f.wt == 1 ? 8 : 4, how, sizeof how);
            scalar_value(w, fd, f.wt, f.v, val, sizeof val);
        }
        const uint8_t *c = w->p + f.len_end;
        size_t clen = f.end - f.len_end;
        bool printable = false, utf8 = f.wt == 2 && utf8_valid(c, clen, &printable);
        char title[800]; /* the field, its name and value (300) and a note (200) */
        if (f.wt != 2)
            snprintf(title, sizeof title, _("field %" PRIu64 " %s = %s%s"), f.num,
                     fd ? fname : "", val, note);
        else if (fd && fd->type == PROTOBUF_C_TYPE_STRING && utf8) {
            explain_quote(val, sizeof val, c, clen, 60, 0);
            snprintf(title, sizeof title, _("field %" PRIu64 " %s = %s"), f.num, fname, val);
        } else if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE)
            snprintf(title, sizeof title, _("field %" PRIu64 " %s: a nested message of %zu bytes"),
                     f.num, fname, clen);
        else if (packed)
            snprintf(title, sizeof title, _("field %" PRIu64 " %s, packed: %zu bytes of elements"),
                     f.num, fname, clen);
        else
            snprintf(title, sizeof title, _("field %" PRIu64 "%s%s: %zu bytes%s"), f.num,
                     fd ? " " : "", fd ? fname : "", clen, note);
        for (char *t = title; (t = strstr(t, "  ")); ) /* "field 1  = 5" when unnamed */
            memmove(t, t + 1, strlen(t));
        explain_add(w->e, w->base + f.start, f.end - f.start, depth, SPAN_FRAME, "pb", "%s",
                    title);
        explain_add(w->e, w->base + f.start, f.tag_end - f.start, depth + 1, SPAN_TYPE, "pb",
                    "%s", tag);
        if (f.wt != 2) {
            explain_add(w->e, w->base + f.tag_end, f.end - f.tag_end, depth + 1, SPAN_DATA, "pb",
                        _("%s = %s: %s"), label, val, how);
        } else {
            char lw[300];
            uint64_t len = f.v;
            varint_words(w, f.tag_end, f.len_end, len, lw, sizeof lw);
            const char *more = "";
            if (packed && explain_first_time(w->told, TOLD_PACKED))
                more = _(" (packed: a repeated number field sends all its elements in one "
                         "length-delimited value, back to back, with no tags between)");
            else if (!packed && explain_first_time(w->told, TOLD_LEN))
                more = _(" (a length-delimited value starts with its length in bytes)");
            explain_add(w->e, w->base + f.tag_end, f.len_end - f.tag_end, depth + 1, SPAN_FRAME,
                        "pb", ngettext("length, %s: %" PRIu64 " byte follows%s",
                                       "length, %s: %" PRIu64 " bytes follow%s", len),
                        lw, len, more);
            int r;
            if (packed)
                r = walk_packed(w, fd, f.len_end, f.end, depth + 1);
            else
                r = walk_bytes(w, fd, label, f.len_end, f.end, depth + 1, nest);
            if (r < 0)
                rc = -1;
        }
        pos = f.end;
    }
    return rc;
}

int pbexplain_message(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                      size_t base, int depth, unsigned *told, explain *e)
{
    pw w = {p, base, told, e};
    return walk_msg(&w, d, 0, n, depth, 0);
}
