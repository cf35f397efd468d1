/* sniff_pb.c -- a protobuf message as one line: proto3's JSON form when its type is known,
 * else what the wire alone tells (field numbers and values, "{#1: "world", #2: 7}"). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "base/i18n.h"
#include "capture/sniff_int.h"
#include "wire/pbjson.h"

#define PB_DEPTH 8

static int varint(const uint8_t *p, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n && i < 10; i++) {
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            return (int)i + 1;
        }
    }
    return -1;
}

static bool is_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* Appends p[0..n) as a message without a schema; -1 when it is not one. */
static int walk(buf *b, const uint8_t *p, size_t n, int depth)
{
    size_t at = 0;
    int k = 0;
    if (buf_putc(b, '{') < 0)
        return -1;
    while (at < n) {
        uint64_t tag, v;
        int r = varint(p + at, n - at, &tag);
        if (r < 0 || tag >> 3 == 0 || tag >> 3 > 536870911)
            return -1;
        at += (size_t)r;
        buf_printf(b, "%s#%" PRIu64 ": ", k++ ? ", " : "", tag >> 3);
        switch (tag & 7) {
        case 0:
            if ((r = varint(p + at, n - at, &v)) < 0)
                return -1;
            at += (size_t)r;
            buf_printf(b, "%" PRIu64, v);
            break;
        case 1:
        case 5: {
            size_t w = (tag & 7) == 1 ? 8 : 4;
            if (n - at < w)
                return -1;
            v = 0;
            for (size_t i = w; i-- > 0;)
                v = v << 8 | p[at + i];
            at += w;
            buf_printf(b, "0x%0*" PRIx64, (int)(2 * w), v);
            break;
        }
        case 2: {
            if ((r = varint(p + at, n - at, &v)) < 0 || v > n - at - (size_t)r)
                return -1;
            at += (size_t)r;
            const uint8_t *q = p + at;
            size_t ql = (size_t)v, mark = buf_size(b);
            at += ql;
            if (ql && depth < PB_DEPTH && walk(b, q, ql, depth + 1) == 0)
                break;
            b->len = b->off + mark;
            if (is_text(q, ql)) {
                char t[SNIFF_TEXT_MAX];
                explain_quote(t, sizeof t, q, ql, 1024, EXPLAIN_QUOTE_UTF8);
                buf_puts(b, t);
            } else {
                char hx[120];
                explain_hex(hx, sizeof hx, q, ql, 24, 0);
                buf_printf(b, "bytes(%s)", hx);
            }
            break;
        }
        default:
            return -1;
        }
    }
    return buf_putc(b, '}') < 0 ? -1 : 0;
}

char *sniff_pb_text(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, char **note)
{
    if (d) {
        ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p);
        if (m) {
            pbjson_opts o = {0};
            value *v = pbjson_from_message(m, &o, NULL, 0);
            protobuf_c_message_free_unpacked(m, NULL);
            if (v) {
                char *t = sniff_json_text(v);
                value_free(v);
                return t;
            }
        }
        *note = sniff_strf(_("a message did not parse as %s: shown by field number"), d->name);
    }
    buf b;
    buf_init(&b, 1u << 20);
    char *t = NULL;
    if (walk(&b, p, n, 0) == 0)
        t = sniff_cut(buf_take(&b));
    else {
        char hx[120];
        explain_hex(hx, sizeof hx, p, n, 32, 0);
        t = sniff_strf("bytes(%s)", hx);
    }
    buf_done(&b);
    return t;
}
