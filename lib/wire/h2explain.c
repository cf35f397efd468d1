/* h2explain.c -- captured HTTP/2 + gRPC bytes explained frame by frame, header field by
 * header field, message by message. */
#include "wire/h2explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/hpack.h"
#include "wire/pbcatalog.h"
#include "wire/pbexplain.h"

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN 24

enum { F_DATA, F_HEADERS, F_PRIORITY, F_RST_STREAM, F_SETTINGS, F_PUSH_PROMISE, F_PING,
       F_GOAWAY, F_WINDOW_UPDATE, F_CONTINUATION };
enum { FL_END_STREAM = 0x1, FL_ACK = 0x1, FL_END_HEADERS = 0x4, FL_PADDED = 0x8,
       FL_PRIORITY = 0x20 };
enum { TOLD_HEADER = 1, TOLD_STREAM = 2, TOLD_PAD = 4, TOLD_SETTINGS = 8, TOLD_WINDOW = 16,
       TOLD_PING = 32 };

/* A reassembled unit (a gRPC message), explained once in its own coordinates and emitted
 * frame by frame. */
typedef struct unit {
    explain x;
    size_t total, done;
} unit;

typedef struct h2stream {
    uint32_t id;
    char *path;
    const pb_method *m;
    unsigned blocks, msgs;
    bool in_msg;
    unit msg;
} h2stream;

typedef struct h2x {
    const uint8_t *p;
    size_t n;
    bool server;
    const pb_method *hint;
    const struct h2x *peer; /* the client's pass, when explaining an exchange */
    explain *e;
    hpack_dec hp;
    h2stream *st;
    size_t nst, cst;
    unsigned told, told_hpack, told_pb, told_grpc, told_flags;
    bool failed; /* some bytes made no sense */
    bool stop;   /* a connection error: nothing after it is read */
} h2x;

typedef struct fh {
    size_t off;
    uint32_t len;
    uint8_t type, flags;
    uint32_t sid;
    bool reserved;
} fh;

/* ---- names ---- */

const char *h2explain_frame_type(unsigned type)
{
    static const char *const names[] = {"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
                                        "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE",
                                        "CONTINUATION"};
    return type < 10 ? names[type] : "UNKNOWN";
}

const char *h2explain_error_code(uint32_t code)
{
    static const char *const names[] = {"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR",
                                        "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
                                        "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
                                        "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
                                        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};
    return code < 14 ? names[code] : "UNKNOWN";
}

static const char *error_words(uint32_t code)
{
    switch (code) {
    case 0: return "no error, a graceful close";
    case 1: return "the peer broke the protocol";
    case 2: return "the sender failed internally";
    case 3: return "flow control was violated";
    case 5: return "a frame arrived for a closed stream";
    case 6: return "a frame had the wrong size";
    case 7: return "the stream was refused before any processing, so it is safe to retry";
    case 8: return "the stream is no longer needed (gRPC sends this when a call is cancelled)";
    case 9: return "the header compression state broke";
    case 11: return "the peer is generating too much load";
    default: return "";
    }
}

const char *h2explain_setting(unsigned id)
{
    switch (id) {
    case 1: return "SETTINGS_HEADER_TABLE_SIZE";
    case 2: return "SETTINGS_ENABLE_PUSH";
    case 3: return "SETTINGS_MAX_CONCURRENT_STREAMS";
    case 4: return "SETTINGS_INITIAL_WINDOW_SIZE";
    case 5: return "SETTINGS_MAX_FRAME_SIZE";
    case 6: return "SETTINGS_MAX_HEADER_LIST_SIZE";
    case 8: return "SETTINGS_ENABLE_CONNECT_PROTOCOL";
    case 9: return "SETTINGS_NO_RFC7540_PRIORITIES";
    case 0xfe03: return "GRPC_ALLOW_TRUE_BINARY_METADATA";
    default: return NULL;
    }
}

static const char *setting_words(unsigned id)
{
    switch (id) {
    case 1: return "the most bytes the peer's header compressor may keep in the dynamic table "
                   "this side decodes with";
    case 2: return "whether the server may push streams the client did not ask for (0 = no)";
    case 3: return "how many streams (calls) may be open at once";
    case 4: return "how many bytes the peer may send on each new stream before it must wait "
                   "for a WINDOW_UPDATE (flow control)";
    case 5: return "the largest frame payload this side accepts";
    case 6: return "the largest header list, uncompressed, this side accepts";
    case 8: return "whether the extended CONNECT method may be used (RFC 8441)";
    case 9: return "1 = this side ignores the old RFC 7540 stream priorities (RFC 9218)";
    case 0xfe03: return "a gRPC-specific setting: binary header values may be sent raw instead "
                        "of base64";
    default: return "a setting this explainer does not know; receivers ignore unknown ones";
    }
}

const char *h2explain_grpc_status(unsigned long code)
{
    static const char *const names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                        "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                        "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                        "UNAUTHENTICATED"};
    return code < 17 ? names[code] : "UNKNOWN";
}

static const char *type_words(unsigned type)
{
    switch (type) {
    case F_DATA: return "a piece of the stream's body";
    case F_HEADERS: return "compressed header fields that open a stream, or end it (trailers)";
    case F_PRIORITY: return "advice on which stream matters more";
    case F_RST_STREAM: return "ends one stream at once, with an error code";
    case F_SETTINGS: return "connection parameters for the peer";
    case F_PUSH_PROMISE: return "a stream the server starts on its own (gRPC never uses it)";
    case F_PING: return "a round trip check, echoed by the peer";
    case F_GOAWAY: return "the sender is closing the connection";
    case F_WINDOW_UPDATE: return "flow control: the peer may send more bytes";
    case F_CONTINUATION: return "the rest of a header block that did not fit";
    default: return "an extension frame type; receivers ignore types they do not know";
    }
}

/* ---- helpers ---- */

static bool first_time(unsigned *told, unsigned what)
{
    bool first = !(*told & what);
    *told |= what;
    return first;
}

static bool first_h2(h2x *x, unsigned what) { return first_time(&x->told, what); }

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void hexs(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        if (i == 16 && n > 17) {
            snprintf(out + o, cap - o, " ...");
            break;
        }
        o += (size_t)snprintf(out + o, cap - o, "%s%02x", i ? " " : "", p[i]);
    }
}

/* Reads the frame header at off; true when the whole frame is in the capture. */
static bool frame_at(const uint8_t *p, size_t n, size_t off, fh *f)
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
static bool data_bounds(const uint8_t *p, const fh *f, size_t *a, size_t *b)
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
static bool fragment_bounds(const uint8_t *p, const fh *f, size_t *a, size_t *b)
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

static h2stream *stream_get(h2x *x, uint32_t id)
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
static void emit_unit(h2x *x, const explain *u, size_t lo, size_t len, size_t cap)
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
static void fail_rest(h2x *x, const fh *f, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_rest(h2x *x, const fh *f, size_t at, const char *fmt, ...)
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

typedef struct flagdef {
    uint8_t bit;
    const char *name, *words;
} flagdef;

static void flag_words(const fh *f, char *out, size_t cap, bool full)
{
    static const flagdef data[] = {{FL_END_STREAM, "END_STREAM", "the sender's last frame on this stream"},
                {FL_PADDED, "PADDED", "padding follows the data, to hide its length"}},
      headers[] = {{FL_END_STREAM, "END_STREAM", "the sender's last frame on this stream"},
                   {FL_END_HEADERS, "END_HEADERS", "the header block is complete"},
                   {FL_PADDED, "PADDED", "padding follows the block"},
                   {FL_PRIORITY, "PRIORITY", "stream priority fields come first"}},
      push[] = {{FL_END_HEADERS, "END_HEADERS", "the header block is complete"},
                {FL_PADDED, "PADDED", "padding follows the block"}},
      ack[] = {{FL_ACK, "ACK", "an acknowledgement of the peer's frame"}},
      cont[] = {{FL_END_HEADERS, "END_HEADERS", "the header block is complete"}};
    const void *tab = NULL;
    size_t nt = 0;
#define USE(t) (tab = (t), nt = sizeof(t) / sizeof(t)[0])
    switch (f->type) {
    case F_DATA: USE(data); break;
    case F_HEADERS: USE(headers); break;
    case F_PUSH_PROMISE: USE(push); break;
    case F_SETTINGS:
    case F_PING: USE(ack); break;
    case F_CONTINUATION: USE(cont); break;
    default: break;
    }
#undef USE
    const flagdef *t = tab;
    size_t o = (size_t)snprintf(out, cap, "flags 0x%02x", f->flags);
    if (f->flags == 0) {
        snprintf(out + o, cap - o, ": none set");
        return;
    }
    uint8_t known = 0;
    const char *sep = ": ";
    for (size_t i = 0; i < nt && o < cap; i++)
        if (f->flags & t[i].bit) {
            known |= t[i].bit;
            if (full)
                o += (size_t)snprintf(out + o, cap - o, "%s%s (%s)", sep, t[i].name, t[i].words);
            else
                o += (size_t)snprintf(out + o, cap - o, "%s%s", sep, t[i].name);
            sep = full ? "; " : " | ";
        }
    if ((f->flags & ~known) && o < cap)
        snprintf(out + o, cap - o, "%s0x%02x unused by this frame type, ignored", sep,
                 f->flags & ~known);
}

/* Opens the frame's container and explains its 9-byte header. Returns the container. */
static int frame_open(h2x *x, const fh *f, bool complete)
{
    size_t total = complete ? 9 + (size_t)f->len : x->n - f->off;
    int box = explain_add(x->e, f->off, total, 0, SPAN_FRAME, "h2", "%s frame, stream %" PRIu32
                          ", %" PRIu32 "-byte payload", h2explain_frame_type(f->type), f->sid,
                          f->len);
    bool full = first_h2(x, TOLD_HEADER);
    char hx[40];
    hexs(x->p + f->off, 3, hx, sizeof hx);
    explain_add(x->e, f->off, 3, 1, SPAN_FRAME, "h2", "length %s = %" PRIu32 ": the payload "
                "bytes after this 9-byte header%s", hx, f->len,
                full ? " (every HTTP/2 frame starts with a 3-byte big-endian length, a type, "
                       "flags and a stream id)" : "");
    explain_add(x->e, f->off + 3, 1, 1, SPAN_FRAME, "h2", "type 0x%02x = %s: %s", f->type,
                h2explain_frame_type(f->type), type_words(f->type));
    char fw[600];
    flag_words(f, fw, sizeof fw, f->flags && first_time(&x->told_flags, 1u << (f->type < 10 ? f->type : 10)));
    explain_add(x->e, f->off + 4, 1, 1, SPAN_FRAME, "h2", "%s", fw);
    hexs(x->p + f->off + 5, 4, hx, sizeof hx);
    const char *sw;
    if (f->sid == 0)
        sw = ": the connection as a whole, not one stream";
    else if (first_h2(x, TOLD_STREAM))
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
static void pad_length(h2x *x, const fh *f)
{
    explain_add(x->e, f->off + 9, 1, 1, SPAN_FRAME, "h2", "pad length %u: that many padding "
                "bytes end the frame%s", x->p[f->off + 9],
                first_h2(x, TOLD_PAD) ? " (padding hides the true size of the content)" : "");
}

static void padding(h2x *x, const fh *f)
{
    if (!(f->flags & FL_PADDED) || f->len < 1)
        return;
    size_t pad = x->p[f->off + 9], end = f->off + 9 + f->len;
    if (pad)
        explain_add(x->e, end - pad, pad, 1, SPAN_FRAME, "h2", "%zu bytes of padding, "
                    "meaningless (they should be zero)", pad);
}

static void incomplete(h2x *x, size_t at, int depth, const char *what)
{
    if (at < x->n)
        explain_add(x->e, at, x->n - at, depth, SPAN_FRAME, "h2",
                    "incomplete: the capture ends %s", what);
}

/* ---- header blocks ---- */

/* What a gRPC-relevant header means, or NULL. */
static void grpc_note(const hpack_field *f, char *out, size_t cap)
{
    const char *n = f->name ? f->name : "", *v = f->value ? f->value : "";
    out[0] = '\0';
    if (!strcmp(n, ":path")) {
        const pb_method *m = pbcatalog_find(v);
        if (m)
            snprintf(out, cap, "the method to call: %s.%s, which takes a %s and returns a %s",
                     m->service, m->name, m->input->name, m->output->name);
        else
            snprintf(out, cap, "the method to call, as /package.Service/Method (not one the "
                     "workbench knows)");
    } else if (!strcmp(n, ":method"))
        snprintf(out, cap, "gRPC calls are always POST");
    else if (!strcmp(n, ":scheme"))
        snprintf(out, cap, "%s", !strcmp(v, "https") ? "over TLS" : "plain TCP, no TLS");
    else if (!strcmp(n, ":authority"))
        snprintf(out, cap, "the server the client meant to reach");
    else if (!strcmp(n, ":status"))
        snprintf(out, cap, "%s", !strcmp(v, "200") ? "HTTP success; the call's own outcome "
                 "comes in the trailers" : "an HTTP error: the call did not reach a gRPC "
                 "handler");
    else if (!strcmp(n, "content-type"))
        snprintf(out, cap, "the body is gRPC messages, each with a 5-byte prefix");
    else if (!strcmp(n, "te"))
        snprintf(out, cap, "gRPC requires it: the client accepts trailers, where the call's "
                 "status arrives");
    else if (!strcmp(n, "grpc-timeout")) {
        char *end;
        unsigned long t = strtoul(v, &end, 10);
        const char *un = *end == 'H' ? "hours" : *end == 'M' ? "minutes" : *end == 'S' ? "seconds"
                           : *end == 'm' ? "milliseconds" : *end == 'u' ? "microseconds"
                           : *end == 'n' ? "nanoseconds" : NULL;
        if (un && end != v && end[1] == '\0')
            snprintf(out, cap, "the deadline: the call fails if it takes more than %lu %s", t,
                     un);
        else
            snprintf(out, cap, "the deadline, though not in gRPC's number-and-unit form");
    } else if (!strcmp(n, "grpc-encoding"))
        snprintf(out, cap, "how this side's messages are compressed");
    else if (!strcmp(n, "grpc-accept-encoding"))
        snprintf(out, cap, "the compressions this side can read");
    else if (!strcmp(n, "user-agent"))
        snprintf(out, cap, "the client library and its version");
    else if (!strcmp(n, "grpc-status")) {
        char *end;
        unsigned long c = strtoul(v, &end, 10);
        if (end != v && *end == '\0')
            snprintf(out, cap, "the call's outcome: %lu = %s%s", c, h2explain_grpc_status(c),
                     c == 0 ? ", the call succeeded" : "");
        else
            snprintf(out, cap, "the call's outcome, though not a number");
    } else if (!strcmp(n, "grpc-message"))
        snprintf(out, cap, "the error text (percent-encoded)");
    else if (strlen(n) > 4 && !strcmp(n + strlen(n) - 4, "-bin"))
        snprintf(out, cap, "binary metadata: a name ending in -bin carries base64");
}

typedef struct hblock {
    fh frames[64]; /* HEADERS/PUSH_PROMISE, then CONTINUATIONs */
    size_t fa[64], fb[64];
    size_t nf;
    bool complete;     /* END_HEADERS seen */
    bool broken;       /* a frame other than CONTINUATION interrupted the block */
    fh breaker;
    bool truncated;    /* the capture ended first */
    bool toolong;      /* more CONTINUATIONs than this explainer follows */
} hblock;

/* Explains a HEADERS or PUSH_PROMISE frame and its CONTINUATIONs. */
static size_t header_group(h2x *x, const fh *first)
{
    hblock hb = {.nf = 0};
    size_t a, b;
    if (!fragment_bounds(x->p, first, &a, &b)) {
        frame_open(x, first, true);
        fail_rest(x, first, first->off + 9, "the padding%s is longer than the payload",
                  first->type == F_HEADERS && (first->flags & FL_PRIORITY)
                      ? " plus the priority fields" : "");
        return x->n;
    }
    hb.frames[0] = *first;
    hb.fa[0] = a;
    hb.fb[0] = b;
    hb.nf = 1;
    hb.complete = first->flags & FL_END_HEADERS;
    size_t o = first->off + 9 + first->len;
    while (!hb.complete) {
        fh c;
        if (!frame_at(x->p, x->n, o, &c)) {
            hb.truncated = true;
            break;
        }
        if (hb.nf == 64) {
            hb.toolong = true;
            break;
        }
        if (c.type != F_CONTINUATION || c.sid != first->sid) {
            hb.broken = true;
            hb.breaker = c;
            break;
        }
        fragment_bounds(x->p, &c, &a, &b);
        hb.frames[hb.nf] = c;
        hb.fa[hb.nf] = a;
        hb.fb[hb.nf] = b;
        hb.nf++;
        hb.complete = c.flags & FL_END_HEADERS;
        o = c.off + 9 + c.len;
    }
    /* the block, in one piece */
    size_t blen = 0;
    for (size_t i = 0; i < hb.nf; i++)
        blen += hb.fb[i] - hb.fa[i];
    uint8_t *block = malloc(blen ? blen : 1);
    if (!block) {
        x->failed = x->stop = true;
        return x->n;
    }
    blen = 0;
    for (size_t i = 0; i < hb.nf; i++) {
        memcpy(block + blen, x->p + hb.fa[i], hb.fb[i] - hb.fa[i]);
        blen += hb.fb[i] - hb.fa[i];
    }
    h2stream *s = first->type == F_HEADERS && first->sid ? stream_get(x, first->sid) : NULL;
    explain u;
    explain_init(&u);
    hpack_begin_block(&x->hp);
    bool fatal = false, status = false;
    char what[400] = "";
    char *path = NULL;
    for (size_t off = 0; off < blen;) {
        hpack_field f;
        char err[300] = "";
        long r = hpack_decode_field(&x->hp, block, blen, off, &f, err, sizeof err);
        if (r < 0) {
            hpack_field_done(&f);
            if (!hb.complete && hb.truncated)
                explain_add(&u, off, blen - off, 1, SPAN_FRAME, "hpack", "incomplete: the "
                            "capture ends inside this header block");
            else if (!hb.complete)
                explain_add(&u, off, blen - off, 1, SPAN_ERROR, "hpack", "the start of a "
                            "header field whose rest never came");
            else {
                explain_add(&u, off, blen - off, 1, SPAN_ERROR, "hpack", "not valid HPACK: %s",
                            err);
                fatal = true;
            }
            break;
        }
        size_t idx = u.len;
        hpack_explain_field(&f, block, 0, 1, &x->told_hpack, &u);
        char note[400];
        grpc_note(&f, note, sizeof note);
        if (note[0] && idx < u.len)
            explain_retitle(&u, (int)idx, "%s; gRPC: %s", u.spans[idx].meaning, note);
        if (f.name && !strcmp(f.name, ":path") && !path)
            path = strdup(f.value);
        if (f.name && !strcmp(f.name, "grpc-status"))
            snprintf(what, sizeof what, "%s: grpc-status %s (%s)", status ? "a trailers-only "
                     "response (headers and trailers in one block)" : "trailers", f.value,
                     h2explain_grpc_status(strtoul(f.value, NULL, 10)));
        if (f.name && !strcmp(f.name, ":status") && !what[0]) {
            status = true;
            snprintf(what, sizeof what, "response headers, HTTP status %s", f.value);
        }
        hpack_field_done(&f);
        off += (size_t)r;
    }
    if (s) {
        s->blocks++;
        if (path && !x->server && !s->path) {
            s->path = path;
            path = NULL;
            s->m = pbcatalog_find(s->path);
            if (!s->m)
                s->m = x->hint;
        }
        if (!what[0] && !x->server)
            snprintf(what, sizeof what, s->blocks == 1 ? "request headers%s%s" : "trailers",
                     s->path ? ", calling " : "", s->path ? s->path : "");
        else if (!what[0])
            snprintf(what, sizeof what, "%s", s->blocks == 1 ? "response headers" : "trailers");
    } else if (first->type == F_PUSH_PROMISE)
        snprintf(what, sizeof what, "the request the server promises to answer");
    free(path);

    /* the frames, each with its part of the block */
    size_t lo = 0;
    for (size_t i = 0; i < hb.nf; i++) {
        const fh *f = &hb.frames[i];
        int box = frame_open(x, f, true);
        if (i == 0 && what[0])
            explain_retitle(x->e, box, "%s frame, stream %" PRIu32 ", %" PRIu32 "-byte payload: %s%s",
                    h2explain_frame_type(f->type), f->sid, f->len, what,
                    hb.nf > 1 ? " (the block continues in CONTINUATION frames)" : "");
        size_t q = f->off + 9;
        if (f->type != F_CONTINUATION && (f->flags & FL_PADDED)) {
            pad_length(x, f);
            q++;
        }
        if (f->type == F_HEADERS && (f->flags & FL_PRIORITY)) {
            uint32_t dep = be32(x->p + q);
            explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", "stream dependency %" PRIu32 "%s: "
                        "old-style priority (RFC 7540), widely ignored", dep & 0x7fffffff,
                        dep >> 31 ? ", exclusive" : "");
            explain_add(x->e, q + 4, 1, 1, SPAN_FRAME, "h2", "weight %u (the byte + 1)",
                        x->p[q + 4] + 1u);
            q += 5;
        }
        if (f->type == F_PUSH_PROMISE) {
            explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", "promised stream id %" PRIu32,
                        be32(x->p + q) & 0x7fffffff);
            q += 4;
        }
        size_t flen = hb.fb[i] - hb.fa[i];
        emit_unit(x, &u, lo, flen, hb.fa[i]);
        lo += flen;
        if (f->type != F_CONTINUATION)
            padding(x, f);
    }
    explain_done(&u);
    free(block);
    const fh *last = &hb.frames[hb.nf - 1];
    size_t end = last->off + 9 + last->len;
    if (fatal) {
        x->failed = true;
        fail_rest(x, NULL, end, "the header compression state is lost");
    } else if (hb.broken)
        fail_rest(x, NULL, end, "a %s frame on stream %" PRIu32 " where the CONTINUATION of "
                  "stream %" PRIu32 "'s header block must come",
                  h2explain_frame_type(hb.breaker.type), hb.breaker.sid, first->sid);
    else if (hb.toolong)
        fail_rest(x, NULL, end, "the header block goes on in more than 63 CONTINUATION frames, "
                  "more than this explainer follows");
    else if (hb.truncated) {
        incomplete(x, end, 0, "before the header block's END_HEADERS");
        x->stop = true;
    }
    return end;
}

/* ---- gRPC messages ---- */

/* Copies up to need bytes of stream sid's DATA, starting at p[a..b) in the frame that ends
 * at fend and continuing in later frames. Returns the count. */
static size_t gather(h2x *x, uint32_t sid, size_t a, size_t b, size_t fend, size_t need,
                     uint8_t *out, bool end_stream)
{
    size_t got = b - a < need ? b - a : need;
    memcpy(out, x->p + a, got);
    size_t o = fend;
    fh f;
    while (got < need && !end_stream && frame_at(x->p, x->n, o, &f)) {
        o = f.off + 9 + f.len;
        if (f.sid != sid)
            continue;
        if (f.type == F_RST_STREAM || f.type == F_HEADERS)
            break;
        size_t da, db;
        if (f.type != F_DATA || !data_bounds(x->p, &f, &da, &db))
            continue;
        size_t k = db - da < need - got ? db - da : need - got;
        memcpy(out + got, x->p + da, k);
        got += k;
        end_stream = f.flags & FL_END_STREAM;
    }
    return got;
}

/* Reassembles and explains the gRPC message starting at p[a] (in unit coordinates). */
static void start_message(h2x *x, h2stream *s, const fh *f, size_t a, size_t b)
{
    bool es = f->flags & FL_END_STREAM;
    size_t fend = f->off + 9 + f->len;
    uint8_t pre[5];
    size_t got = gather(x, s->id, a, b, fend, 5, pre, es);
    explain *u = &s->msg.x;
    explain_init(u);
    s->in_msg = true;
    s->msg.done = 0;
    unsigned no = ++s->msgs;
    const ProtobufCMessageDescriptor *d =
        s->m ? (x->server ? s->m->output : s->m->input) : NULL;
    if (got < 5) {
        s->msg.total = got;
        explain_add(u, 0, got, 1, SPAN_FRAME, "grpc", "incomplete: the capture ends inside "
                    "the 5-byte prefix of gRPC message %u", no);
        return;
    }
    uint32_t len = be32(pre + 1);
    size_t need = 5 + (size_t)len;
    if (need > x->n)
        need = x->n; /* it cannot all be here */
    uint8_t *m = malloc(need);
    if (!m) {
        s->msg.total = got;
        explain_add(u, 0, got, 1, SPAN_ERROR, "grpc", "out of memory");
        x->failed = true;
        return;
    }
    got = gather(x, s->id, a, b, fend, need, m, es);
    s->msg.total = got;
    bool whole = got == 5 + (size_t)len;
    explain_add(u, 0, got, 1, SPAN_FRAME, "grpc", "gRPC message %u on stream %" PRIu32 ", %"
                PRIu32 " bytes after its 5-byte prefix%s%s%s", no, s->id, len,
                d ? ": " : "", d ? d->name : "", whole ? "" : " (incomplete)");
    bool full = first_time(&x->told_grpc, 1);
    if (m[0] > 1) {
        explain_add(u, 0, 1, 2, SPAN_ERROR, "grpc", "compressed flag %u: only 0 and 1 are "
                    "allowed", m[0]);
        x->failed = true;
    } else
        explain_add(u, 0, 1, 2, SPAN_FRAME, "grpc", "compressed flag %u: %s%s", m[0],
                    m[0] ? "the message is compressed with the stream's grpc-encoding (shown "
                           "as it is, not decompressed)" : "the message is not compressed",
                    full ? " (gRPC puts this byte and a 4-byte length before every message, "
                           "so messages can share or span DATA frames)" : "");
    char hx[40];
    hexs(m + 1, 4, hx, sizeof hx);
    explain_add(u, 1, 4, 2, SPAN_FRAME, "grpc", "message length %s = %" PRIu32 "%s", hx, len,
                full ? " (4 bytes, big-endian)" : "");
    if (!whole)
        explain_add(u, 5, got - 5, 2, SPAN_FRAME, "grpc", "incomplete: the capture ends %zu "
                    "bytes into the message's %" PRIu32, got - 5, len);
    else if (m[0] == 1 && len)
        explain_add(u, 5, len, 2, SPAN_DATA, "grpc", "%" PRIu32 " compressed bytes", len);
    else if (len && pbexplain_message(d, m + 5, len, 5, 2, &x->told_pb, u) < 0)
        x->failed = true;
    free(m);
}

static void data_frame(h2x *x, const fh *f)
{
    size_t a, b;
    int box = frame_open(x, f, true);
    if (f->sid == 0) {
        fail_rest(x, f, f->off + 9, "a DATA frame must belong to a stream, not stream 0");
        return;
    }
    if (!data_bounds(x->p, f, &a, &b)) {
        fail_rest(x, f, f->off + 9, "the padding is longer than the payload");
        return;
    }
    if (f->flags & FL_PADDED)
        pad_length(x, f);
    h2stream *s = stream_get(x, f->sid);
    if (!s) {
        fail_rest(x, f, a, "out of memory");
        return;
    }
    unsigned whole = 0, parts = 0;
    for (size_t pos = a; pos < b;) {
        if (!s->in_msg)
            start_message(x, s, f, pos, b);
        size_t left = s->msg.total - s->msg.done, take = b - pos < left ? b - pos : left;
        if (s->msg.done == 0 && take == s->msg.total)
            whole++;
        else
            parts++;
        emit_unit(x, &s->msg.x, s->msg.done, take, pos);
        s->msg.done += take;
        pos += take;
        if (s->msg.done == s->msg.total) {
            explain_done(&s->msg.x);
            s->in_msg = false;
        }
    }
    padding(x, f);
    char what[200] = "";
    if (whole + parts == 0)
        snprintf(what, sizeof what, "%s", (f->flags & FL_END_STREAM) ? ": no data, it just "
                 "ends the stream" : ": empty");
    else if (parts == 0)
        snprintf(what, sizeof what, ": %u whole gRPC message%s", whole, whole == 1 ? "" : "s");
    else if (whole == 0)
        snprintf(what, sizeof what, ": %s split across frames",
                 parts == 1 ? "a piece of a gRPC message" : "pieces of gRPC messages");
    else
        snprintf(what, sizeof what, ": %u whole gRPC message%s and %s split across frames",
                 whole, whole == 1 ? "" : "s", parts == 1 ? "a piece of one" : "pieces of two");
    explain_retitle(x->e, box, "DATA frame, stream %" PRIu32 ", %" PRIu32 "-byte payload%s%s", f->sid,
            f->len, what, (f->flags & FL_END_STREAM) ? "; the sender is done with this stream"
                                                      : "");
}

/* ---- control frames ---- */

static void settings_frame(h2x *x, const fh *f)
{
    int box = frame_open(x, f, true);
    if (f->sid != 0) {
        fail_rest(x, f, f->off + 9, "SETTINGS must be sent on stream 0");
        return;
    }
    if (f->flags & FL_ACK) {
        if (f->len) {
            fail_rest(x, f, f->off + 9, "a SETTINGS acknowledgement must be empty");
            return;
        }
        explain_retitle(x->e, box, "SETTINGS frame with ACK: the peer's settings arrived and are in "
                "force");
        return;
    }
    if (f->len % 6) {
        fail_rest(x, f, f->off + 9, "a SETTINGS payload is 6-byte entries, but %" PRIu32
                  " is not a multiple of 6", f->len);
        return;
    }
    bool full = first_h2(x, TOLD_SETTINGS);
    for (size_t q = f->off + 9; q < f->off + 9 + f->len; q += 6) {
        unsigned id = (unsigned)x->p[q] << 8 | x->p[q + 1];
        uint32_t v = be32(x->p + q + 2);
        const char *nm = h2explain_setting(id);
        char hx[40];
        hexs(x->p + q, 6, hx, sizeof hx);
        explain_add(x->e, q, 6, 1, SPAN_FRAME, "h2", "%s: %s (0x%04x) = %" PRIu32 ": %s%s", hx,
                    nm ? nm : "setting", id, v, setting_words(id),
                    full ? " (each entry: a 2-byte id and a 4-byte value)" : "");
        full = false;
        if ((id == 2 && v > 1) || (id == 4 && v > 0x7fffffff) ||
            (id == 5 && (v < 16384 || v > 16777215))) {
            x->e->spans[x->e->len - 1].cls = SPAN_ERROR;
            x->failed = true;
        }
    }
    explain_retitle(x->e, box, "SETTINGS frame, %" PRIu32 " setting%s: %s", f->len / 6,
            f->len == 6 ? "" : "s", f->len ? "the sender's parameters for this connection"
                                           : "none changed; it still must be acknowledged");
}

static void control_frame(h2x *x, const fh *f)
{
    size_t q = f->off + 9;
    int box = frame_open(x, f, true);
    char hx[80];
    switch (f->type) {
    case F_PRIORITY:
        if (f->sid == 0 || f->len != 5) {
            fail_rest(x, f, q, f->sid == 0 ? "PRIORITY must name a stream"
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
            fail_rest(x, f, q, f->sid == 0 ? "RST_STREAM must name a stream"
                                           : "a RST_STREAM payload is exactly 4 bytes");
            return;
        }
        uint32_t c = be32(x->p + q);
        explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", "error code %" PRIu32 " = %s%s%s", c,
                    h2explain_error_code(c), *error_words(c) ? ": " : "", error_words(c));
        explain_retitle(x->e, box, "RST_STREAM frame: stream %" PRIu32 " ends now, %s", f->sid,
                h2explain_error_code(c));
        break;
    }
    case F_PING:
        if (f->sid != 0 || f->len != 8) {
            fail_rest(x, f, q, f->sid ? "PING must be sent on stream 0"
                                      : "a PING payload is exactly 8 bytes");
            return;
        }
        hexs(x->p + q, 8, hx, sizeof hx);
        explain_add(x->e, q, 8, 1, SPAN_FRAME, "h2", "opaque data %s: %s%s", hx,
                    f->flags & FL_ACK ? "the same 8 bytes the peer's PING carried"
                                      : "the peer must send these 8 bytes back in a PING with ACK",
                    first_h2(x, TOLD_PING) ? " (gRPC pings to keep connections alive and to "
                                             "measure the connection's speed)" : "");
        explain_retitle(x->e, box, "PING frame%s", f->flags & FL_ACK ? " with ACK: the answer to a ping"
                                                             : ": a round trip check");
        break;
    case F_GOAWAY: {
        if (f->sid != 0 || f->len < 8) {
            fail_rest(x, f, q, f->sid ? "GOAWAY must be sent on stream 0"
                                      : "a GOAWAY payload is at least 8 bytes");
            return;
        }
        uint32_t last = be32(x->p + q) & 0x7fffffff, c = be32(x->p + q + 4);
        explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", "last stream id %" PRIu32 ": streams up to "
                    "this one may still be answered; later ones were not processed and can be "
                    "retried elsewhere", last);
        explain_add(x->e, q + 4, 4, 1, SPAN_FRAME, "h2", "error code %" PRIu32 " = %s%s%s", c,
                    h2explain_error_code(c), *error_words(c) ? ": " : "", error_words(c));
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
            fail_rest(x, f, q, "a WINDOW_UPDATE payload is exactly 4 bytes");
            return;
        }
        uint32_t inc = be32(x->p + q) & 0x7fffffff;
        hexs(x->p + q, 4, hx, sizeof hx);
        int i = explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", "window increment %s = %" PRIu32
                            ": the peer may send %" PRIu32 " more bytes of DATA on %s%s", hx,
                            inc, inc, f->sid ? "this stream" : "the connection as a whole",
                            first_h2(x, TOLD_WINDOW) ? " (flow control: a receiver grants "
                            "room as it consumes data, and each side starts with 65535 bytes)"
                                                     : "");
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
        fail_rest(x, f, q, "a CONTINUATION frame must follow a HEADERS frame without "
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
            incomplete(x, 0, 0, "inside the 24-byte client connection preface");
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
            incomplete(x, off, 0, "inside a 9-byte frame header");
            break;
        }
        if (!frame_at(x->p, x->n, off, &f)) {
            frame_open(x, &f, false);
            incomplete(x, off + 9, 1, "before the end of this frame's payload");
            break;
        }
        switch (f.type) {
        case F_DATA: data_frame(x, &f); break;
        case F_HEADERS:
        case F_PUSH_PROMISE:
            if (f.sid == 0) {
                frame_open(x, &f, true);
                fail_rest(x, &f, off + 9, "%s must belong to a stream, not stream 0",
                          h2explain_frame_type(f.type));
                off = x->n;
                continue;
            }
            off = header_group(x, &f);
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
    x->hint = hint ? pbcatalog_find(hint) : NULL;
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
