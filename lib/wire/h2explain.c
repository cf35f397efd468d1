/* h2explain.c -- captured HTTP/2 + gRPC bytes explained frame by frame: the frame walker,
 * the parts every frame has, and the control frames. Header blocks and gRPC messages are
 * in h2explain_grpc.c, the words for numbers on the wire in h2explain_names.c. */
#include "wire/h2explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/catalog.h"
#include "wire/h2explain_int.h"
#include "wire/hpack.h"

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN 24

/* ---- frames ---- */

/* Reads the frame header at off; true when the whole frame is in the capture. */
bool h2x_frame_at(const uint8_t *p, size_t n, size_t off, fh *f)
{
    if (off > n || n - off < 9)
        return false;
    f->off = off;
    f->len = (uint32_t)p[off] << 16 | (uint32_t)p[off + 1] << 8 | p[off + 2];
    f->type = p[off + 3];
    f->flags = p[off + 4];
    f->reserved = p[off + 5] & 0x80;
    f->sid = be32(p + off + 5) & 0x7fffffff;
    return n - off - 9 >= f->len;
}

/* The data of a DATA frame, without padding; false when the padding does not fit. */
bool h2x_data_bounds(const uint8_t *p, const fh *f, size_t *a, size_t *b)
{
    size_t s = f->off + 9, end = s + f->len;
    if (f->flags & FL_PADDED) {
        if (f->len < 1 || (size_t)p[s] > f->len - 1)
            return false;
        *a = s + 1;
        *b = end - p[s];
        return true;
    }
    *a = s;
    *b = end;
    return true;
}

/* The header block fragment of a HEADERS, PUSH_PROMISE or CONTINUATION frame. */
bool h2x_fragment_bounds(const uint8_t *p, const fh *f, size_t *a, size_t *b)
{
    size_t s = f->off + 9, end = s + f->len, pad = 0, skip = 0;
    if (f->type != F_CONTINUATION && (f->flags & FL_PADDED)) {
        if (f->len < 1)
            return false;
        pad = p[s];
        skip = 1;
    }
    if (f->type == F_HEADERS && (f->flags & FL_PRIORITY))
        skip += 5;
    if (f->type == F_PUSH_PROMISE)
        skip += 4;
    if (skip + pad > f->len)
        return false;
    *a = s + skip;
    *b = end - pad;
    return true;
}

h2stream *h2x_stream_get(h2x *x, uint32_t id)
{
    for (size_t i = 0; i < x->nst; i++)
        if (x->st[i].id == id)
            return &x->st[i];
    if (x->nst == x->cst) {
        size_t nc = x->cst ? 2 * x->cst : 8;
        h2stream *ns = realloc(x->st, nc * sizeof *ns);
        if (!ns)
            return NULL;
        x->st = ns;
        x->cst = nc;
    }
    h2stream *s = &x->st[x->nst++];
    memset(s, 0, sizeof *s);
    s->id = id;
    if (x->peer)
        for (size_t i = 0; i < x->peer->nst; i++)
            if (x->peer->st[i].id == id && x->peer->st[i].path) {
                s->path = strdup(x->peer->st[i].path);
                s->m = x->peer->st[i].m;
            }
    if (!s->m)
        s->m = x->hint;
    return s;
}

static void streams_free(h2x *x)
{
    for (size_t i = 0; i < x->nst; i++) {
        free(x->st[i].path);
        explain_done(&x->st[i].msg.x);
    }
    free(x->st);
    x->st = NULL;
    x->nst = x->cst = 0;
}

/* Emits the spans of unit u that fall in [lo, lo + len), placed at capture offset cap. */
void h2x_emit_unit(h2x *x, const explain *u, size_t lo, size_t len, size_t cap)
{
    size_t hi = lo + len;
    for (size_t i = 0; i < u->len; i++) {
        const span *s = &u->spans[i];
        size_t a = s->off > lo ? s->off : lo, b = s->off + s->len < hi ? s->off + s->len : hi;
        if (a >= b)
            continue;
        const char *more = s->off < lo && s->off + s->len > hi ? " (continued, and continues "
                                                                 "in the next frame)"
                           : s->off < lo                       ? " (continued)"
                           : s->off + s->len > hi ? " (continues in the next frame)"
                                                  : "";
        explain_add(x->e, cap + (a - lo), b - a, s->depth, s->cls, s->layer, "%s%s", s->meaning,
                    more);
    }
}

/* After a connection error inside frame f at capture offset at: the rest of the frame
 * and then the rest of the capture are error spans. */
void h2x_fail_rest(h2x *x, const fh *f, size_t at, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t fend = f ? f->off + 9 + f->len : at;
    if (fend > x->n)
        fend = x->n;
    if (at < fend)
        explain_add(x->e, at, fend - at, 1, SPAN_ERROR, "h2", "%s", msg);
    else
        fend = at;
    if (fend < x->n)
        explain_add(x->e, fend, x->n - fend, 0, SPAN_ERROR, "h2",
                    "%s: a peer closes the connection after such an error, so nothing after it "
                    "is explained", at < fend ? "not read" : msg);
    x->failed = x->stop = true;
}

/* Opens the frame's container and explains its 9-byte header. Returns the container. */
int h2x_frame_open(h2x *x, const fh *f, bool complete)
{
    size_t total = complete ? 9 + (size_t)f->len : x->n - f->off;
    int box = explain_add(x->e, f->off, total, 0, SPAN_FRAME, "h2", "%s frame, stream %" PRIu32
                          ", %" PRIu32 "-byte payload", h2explain_frame_type(f->type), f->sid,
                          f->len);
    bool full = explain_first_time(&x->told, TOLD_HEADER);
    char hx[40];
    explain_hex(hx, sizeof hx, x->p + f->off, 3, SIZE_MAX, 0);
    explain_add(x->e, f->off, 3, 1, SPAN_FRAME, "h2", "length %s = %" PRIu32 ": the payload "
                "bytes after this 9-byte header%s", hx, f->len,
                full ? " (every HTTP/2 frame starts with a 3-byte big-endian length, a type, "
                       "flags and a stream id)" : "");
    explain_add(x->e, f->off + 3, 1, 1, SPAN_FRAME, "h2", "type 0x%02x = %s: %s", f->type,
                h2explain_frame_type(f->type), h2x_type_words(f->type));
    char fw[600];
    unsigned type_bit = 1u << (f->type < 10 ? f->type : 10);
    h2x_flag_words(f, fw, sizeof fw, f->flags && explain_first_time(&x->told_flags, type_bit));
    explain_add(x->e, f->off + 4, 1, 1, SPAN_FRAME, "h2", "%s", fw);
    explain_hex(hx, sizeof hx, x->p + f->off + 5, 4, SIZE_MAX, 0);
    const char *sw;
    if (f->sid == 0)
        sw = ": the connection as a whole, not one stream";
    else if (explain_first_time(&x->told, TOLD_STREAM))
        sw = ": one stream is one call; clients number theirs 1, 3, 5... and each call gets a "
             "fresh odd number";
    else
        sw = "";
    explain_add(x->e, f->off + 5, 4, 1, SPAN_FRAME, "h2", "stream id %s = %" PRIu32 "%s%s", hx,
                f->sid, sw, f->reserved ? " (the top bit is reserved and should be 0; "
                                          "receivers ignore it)" : "");
    return box;
}

/* The pad length byte and the padding of a PADDED frame. */
void h2x_pad_length(h2x *x, const fh *f)
{
    explain_add(x->e, f->off + 9, 1, 1, SPAN_FRAME, "h2", "pad length %u: that many padding "
                "bytes end the frame%s", x->p[f->off + 9],
                explain_first_time(&x->told, TOLD_PAD)
                    ? " (padding hides the true size of the content)" : "");
}

void h2x_padding(h2x *x, const fh *f)
{
    if (!(f->flags & FL_PADDED) || f->len < 1)
        return;
    size_t pad = x->p[f->off + 9], end = f->off + 9 + f->len;
    if (pad)
        explain_add(x->e, end - pad, pad, 1, SPAN_FRAME, "h2", "%zu bytes of padding, "
                    "meaningless (they should be zero)", pad);
}

void h2x_incomplete(h2x *x, size_t at, int depth, const char *what)
{
    if (at < x->n)
        explain_add(x->e, at, x->n - at, depth, SPAN_FRAME, "h2",
                    "incomplete: the capture ends %s", what);
}

/* ---- control frames ---- */

static void settings_frame(h2x *x, const fh *f)
{
    int box = h2x_frame_open(x, f, true);
    if (f->sid != 0) {
        h2x_fail_rest(x, f, f->off + 9, "SETTINGS must be sent on stream 0");
        return;
    }
    if (f->flags & FL_ACK) {
        if (f->len) {
            h2x_fail_rest(x, f, f->off + 9, "a SETTINGS acknowledgement must be empty");
            return;
        }
        explain_retitle(x->e, box, "SETTINGS frame with ACK: the peer's settings arrived and "
                        "are in force");
        return;
    }
    if (f->len % 6) {
        h2x_fail_rest(x, f, f->off + 9, "a SETTINGS payload is 6-byte entries, but %" PRIu32
                      " is not a multiple of 6", f->len);
        return;
    }
    bool full = explain_first_time(&x->told, TOLD_SETTINGS);
    for (size_t q = f->off + 9; q < f->off + 9 + f->len; q += 6) {
        unsigned id = (unsigned)x->p[q] << 8 | x->p[q + 1];
        uint32_t v = be32(x->p + q + 2);
        const char *nm = h2explain_setting(id);
        char hx[40];
        explain_hex(hx, sizeof hx, x->p + q, 6, SIZE_MAX, 0);
        explain_add(x->e, q, 6, 1, SPAN_FRAME, "h2", "%s: %s (0x%04x) = %" PRIu32 ": %s%s", hx,
                    nm ? nm : "setting", id, v, h2x_setting_words(id),
                    full ? " (each entry: a 2-byte id and a 4-byte value)" : "");
        full = false;
        if ((id == 2 && v > 1) || (id == 4 && v > 0x7fffffff) ||
            (id == 5 && (v < 16384 || v > 16777215))) {
            x->e->spans[x->e->len - 1].cls = SPAN_ERROR;
            x->failed = true;
        }
    }
    explain_retitle(x->e, box, "SETTINGS frame, %" PRIu32 " setting%s: %s", f->len / 6,
                    f->len == 6 ? "" : "s",
                    f->len ? "the sender's parameters for this connection"
                           : "none changed; it still must be acknowledged");
}

static void control_frame(h2x *x, const fh *f)
{
    size_t q = f->off + 9;
    int box = h2x_frame_open(x, f, true);
    char hx[80];
    switch (f->type) {
    case F_PRIORITY:
        if (f->sid == 0 || f->len != 5) {
            h2x_fail_rest(x, f, q, f->sid == 0 ? "PRIORITY must name a stream"
                                               : "a PRIORITY payload is exactly 5 bytes");
            return;
        }
        explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", "stream dependency %" PRIu32 "%s",
                    be32(x->p + q) & 0x7fffffff, x->p[q] & 0x80 ? ", exclusive" : "");
        explain_add(x->e, q + 4, 1, 1, SPAN_FRAME, "h2", "weight %u (the byte + 1): old-style "
                    "priority (RFC 7540), widely ignored", x->p[q + 4] + 1u);
        break;
    case F_RST_STREAM: {
        if (f->sid == 0 || f->len != 4) {
            h2x_fail_rest(x, f, q, f->sid == 0 ? "RST_STREAM must name a stream"
                                               : "a RST_STREAM payload is exactly 4 bytes");
            return;
        }
        uint32_t c = be32(x->p + q);
        explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", "error code %" PRIu32 " = %s%s%s", c,
                    h2explain_error_code(c), *h2x_error_words(c) ? ": " : "",
                    h2x_error_words(c));
        explain_retitle(x->e, box, "RST_STREAM frame: stream %" PRIu32 " ends now, %s", f->sid,
                        h2explain_error_code(c));
        break;
    }
    case F_PING:
        if (f->sid != 0 || f->len != 8) {
            h2x_fail_rest(x, f, q, f->sid ? "PING must be sent on stream 0"
                                          : "a PING payload is exactly 8 bytes");
            return;
        }
        explain_hex(hx, sizeof hx, x->p + q, 8, SIZE_MAX, 0);
        explain_add(x->e, q, 8, 1, SPAN_FRAME, "h2", "opaque data %s: %s%s", hx,
                    f->flags & FL_ACK ? "the same 8 bytes the peer's PING carried"
                                      : "the peer must send these 8 bytes back in a PING with ACK",
                    explain_first_time(&x->told, TOLD_PING)
                        ? " (gRPC pings to keep connections alive and to measure the "
                          "connection's speed)" : "");
        explain_retitle(x->e, box, "PING frame%s",
                        f->flags & FL_ACK ? " with ACK: the answer to a ping"
                                          : ": a round trip check");
        break;
    case F_GOAWAY: {
        if (f->sid != 0 || f->len < 8) {
            h2x_fail_rest(x, f, q, f->sid ? "GOAWAY must be sent on stream 0"
                                          : "a GOAWAY payload is at least 8 bytes");
            return;
        }
        uint32_t last = be32(x->p + q) & 0x7fffffff, c = be32(x->p + q + 4);
        explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", "last stream id %" PRIu32 ": streams up to "
                    "this one may still be answered; later ones were not processed and can be "
                    "retried elsewhere", last);
        explain_add(x->e, q + 4, 4, 1, SPAN_FRAME, "h2", "error code %" PRIu32 " = %s%s%s", c,
                    h2explain_error_code(c), *h2x_error_words(c) ? ": " : "",
                    h2x_error_words(c));
        if (f->len > 8) {
            size_t dl = f->len - 8;
            bool text = true;
            for (size_t i = 0; i < dl; i++)
                if (x->p[q + 8 + i] < 0x20 || x->p[q + 8 + i] > 0x7e)
                    text = false;
            if (text)
                explain_add(x->e, q + 8, dl, 1, SPAN_FRAME, "h2", "debug data \"%.*s\"%s",
                            (int)(dl > 80 ? 80 : dl), (const char *)x->p + q + 8,
                            dl > 80 ? "..." : "");
            else
                explain_add(x->e, q + 8, dl, 1, SPAN_FRAME, "h2", "%zu bytes of debug data", dl);
        }
        explain_retitle(x->e, box, "GOAWAY frame: the sender closes the connection, %s",
                        h2explain_error_code(c));
        break;
    }
    case F_WINDOW_UPDATE: {
        if (f->len != 4) {
            h2x_fail_rest(x, f, q, "a WINDOW_UPDATE payload is exactly 4 bytes");
            return;
        }
        uint32_t inc = be32(x->p + q) & 0x7fffffff;
        explain_hex(hx, sizeof hx, x->p + q, 4, SIZE_MAX, 0);
        int i = explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", "window increment %s = %" PRIu32
                            ": the peer may send %" PRIu32 " more bytes of DATA on %s%s", hx,
                            inc, inc, f->sid ? "this stream" : "the connection as a whole",
                            explain_first_time(&x->told, TOLD_WINDOW)
                                ? " (flow control: a receiver grants room as it consumes data, "
                                  "and each side starts with 65535 bytes)" : "");
        if (inc == 0 && i >= 0) {
            x->e->spans[i].cls = SPAN_ERROR;
            explain_retitle(x->e, i, "window increment 0: not allowed (a PROTOCOL_ERROR)");
            x->failed = true;
        }
        explain_retitle(x->e, box, "WINDOW_UPDATE frame, %s: %" PRIu32 " more bytes",
                        f->sid ? "one stream" : "the connection", inc);
        break;
    }
    case F_CONTINUATION:
        h2x_fail_rest(x, f, q, "a CONTINUATION frame must follow a HEADERS frame without "
                      "END_HEADERS");
        return;
    default:
        if (f->len)
            explain_add(x->e, q, f->len, 1, SPAN_FRAME, "h2", "payload of a frame type this "
                        "explainer does not know; receivers ignore it");
        break;
    }
}

/* ---- the stream ---- */

static int run(h2x *x)
{
    size_t off = 0;
    if (!x->server) {
        size_t k = x->n < PREFACE_LEN ? x->n : PREFACE_LEN;
        if (memcmp(x->p, PREFACE, k) != 0) {
            explain_add(x->e, 0, x->n, 0, SPAN_ERROR, "h2", "not the HTTP/2 client connection "
                        "preface \"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\" a client must send "
                        "first%s", x->n && x->p[0] >= 'A' && x->p[0] <= 'Z'
                        ? " (this looks like HTTP/1 text)" : "");
            return -1;
        }
        if (k < PREFACE_LEN) {
            h2x_incomplete(x, 0, 0, "inside the 24-byte client connection preface");
            return 0;
        }
        explain_add(x->e, 0, PREFACE_LEN, 0, SPAN_FRAME, "h2", "client connection preface "
                    "\"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\": 24 fixed bytes that say the "
                    "client speaks HTTP/2 (an HTTP/1 server would reject them as a bad "
                    "request); the client's SETTINGS frame follows");
        off = PREFACE_LEN;
    }
    while (off < x->n && !x->stop) {
        fh f;
        if (x->n - off < 9) {
            h2x_incomplete(x, off, 0, "inside a 9-byte frame header");
            break;
        }
        if (!h2x_frame_at(x->p, x->n, off, &f)) {
            h2x_frame_open(x, &f, false);
            h2x_incomplete(x, off + 9, 1, "before the end of this frame's payload");
            break;
        }
        switch (f.type) {
        case F_DATA: h2x_data_frame(x, &f); break;
        case F_HEADERS:
        case F_PUSH_PROMISE:
            if (f.sid == 0) {
                h2x_frame_open(x, &f, true);
                h2x_fail_rest(x, &f, off + 9, "%s must belong to a stream, not stream 0",
                          h2explain_frame_type(f.type));
                off = x->n;
                continue;
            }
            off = h2x_header_group(x, &f);
            continue;
        case F_SETTINGS: settings_frame(x, &f); break;
        default: control_frame(x, &f); break;
        }
        off = f.off + 9 + f.len;
    }
    return x->failed ? -1 : 0;
}

static void h2x_init(h2x *x, const uint8_t *p, size_t n, bool server, const char *hint,
                     explain *e)
{
    memset(x, 0, sizeof *x);
    x->p = p;
    x->n = n;
    x->server = server;
    x->hint = hint ? catalog_find_grpc(hint) : NULL;
    x->e = e;
    hpack_dec_init(&x->hp, 4096);
    x->hp.limit = UINT32_MAX; /* the peer's SETTINGS, not seen here, may allow more */
}

static void h2x_done(h2x *x)
{
    streams_free(x);
    hpack_dec_done(&x->hp);
}

int h2explain_stream(const uint8_t *p, size_t n, bool from_server, const char *path_hint,
                     explain *e)
{
    h2x x;
    h2x_init(&x, p, n, from_server, path_hint, e);
    int r = run(&x);
    h2x_done(&x);
    return r;
}

int h2explain_exchange(const uint8_t *c2s, size_t cn, const uint8_t *s2c, size_t sn,
                       explain *client_e, explain *server_e)
{
    h2x c, s;
    h2x_init(&c, c2s, cn, false, NULL, client_e);
    int r1 = run(&c);
    h2x_init(&s, s2c, sn, true, NULL, server_e);
    s.peer = &c;
    int r2 = run(&s);
    h2x_done(&s);
    h2x_done(&c);
    return r1 < 0 || r2 < 0 ? -1 : 0;
}
