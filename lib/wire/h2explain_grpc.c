/* h2explain_grpc.c -- HTTP/2 header blocks (HPACK fields, and what gRPC's headers mean)
 * and gRPC messages, each reassembled across the frames that carry it, explained once and
 * cut where the frames cut it. */
#include "wire/h2explain.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "wire/catalog.h"
#include "wire/grpc_status.h"
#include "wire/h2explain_int.h"
#include "wire/hpack.h"
#include "wire/pbexplain.h"

/* ---- header blocks ---- */

/* A grpc-status value's name; a code outside gRPC's table reads as UNKNOWN, which is
 * what a client makes of it. */
static const char *status_name(unsigned long code)
{
    return code <= INT_MAX && grpc_status_known((int)code) ? grpc_status_name((int)code) : "UNKNOWN";
}

/* What a gRPC-relevant header means, or NULL. */
static void grpc_note(const hpack_field *f, char *out, size_t cap)
{
    const char *n = f->name ? f->name : "", *v = f->value ? f->value : "";
    out[0] = '\0';
    if (!strcmp(n, ":path")) {
        const pb_method *m = catalog_find_grpc(v);
        if (m)
            snprintf(out, cap, _("the method to call: %s.%s, which takes a %s and returns a %s"),
                     m->service, m->name, m->input->name, m->output->name);
        else
            snprintf(out, cap, "%s", _("the method to call, as /package.Service/Method (not one "
                                       "the workbench knows)"));
    } else if (!strcmp(n, ":method"))
        snprintf(out, cap, "%s", _("gRPC calls are always POST"));
    else if (!strcmp(n, ":scheme"))
        snprintf(out, cap, "%s", !strcmp(v, "https") ? _("over TLS") : _("plain TCP, no TLS"));
    else if (!strcmp(n, ":authority"))
        snprintf(out, cap, "%s", _("the server the client meant to reach"));
    else if (!strcmp(n, ":status"))
        snprintf(out, cap, "%s", !strcmp(v, "200") ? _("HTTP success; the call's own outcome "
                 "comes in the trailers") : _("an HTTP error: the call did not reach a gRPC "
                 "handler"));
    else if (!strcmp(n, "content-type"))
        snprintf(out, cap, "%s", _("the body is gRPC messages, each with a 5-byte prefix"));
    else if (!strcmp(n, "te"))
        snprintf(out, cap, "%s", _("gRPC requires it: the client accepts trailers, where the "
                                   "call's status arrives"));
    else if (!strcmp(n, "grpc-timeout")) {
        char *end;
        unsigned long t = strtoul(v, &end, 10);
        const char *un = *end == 'H' ? _("hours") : *end == 'M' ? _("minutes")
                           : *end == 'S' ? _("seconds") : *end == 'm' ? _("milliseconds")
                           : *end == 'u' ? _("microseconds") : *end == 'n' ? _("nanoseconds")
                           : NULL;
        if (un && end != v && end[1] == '\0')
            snprintf(out, cap, _("the deadline: the call fails if it takes more than %lu %s"), t,
                     un);
        else
            snprintf(out, cap, "%s", _("the deadline, though not in gRPC's number-and-unit form"));
    } else if (!strcmp(n, "grpc-encoding"))
        snprintf(out, cap, "%s", _("how this side's messages are compressed"));
    else if (!strcmp(n, "grpc-accept-encoding"))
        snprintf(out, cap, "%s", _("the compressions this side can read"));
    else if (!strcmp(n, "user-agent"))
        snprintf(out, cap, "%s", _("the client library and its version"));
    else if (!strcmp(n, "grpc-status")) {
        char *end;
        unsigned long c = strtoul(v, &end, 10);
        if (end != v && *end == '\0')
            snprintf(out, cap, _("the call's outcome: %lu = %s%s"), c, status_name(c),
                     c == 0 ? _(", the call succeeded") : "");
        else
            snprintf(out, cap, "%s", _("the call's outcome, though not a number"));
    } else if (!strcmp(n, "grpc-message"))
        snprintf(out, cap, "%s", _("the error text (percent-encoded)"));
    else if (strlen(n) > 4 && !strcmp(n + strlen(n) - 4, "-bin"))
        snprintf(out, cap, "%s", _("binary metadata: a name ending in -bin carries base64"));
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

/* Finds the frames of the header block that first opens: first, then its CONTINUATIONs
 * up to END_HEADERS, or up to what stops the block. False when first's own fragment does
 * not fit in its payload. */
static bool collect_block(h2x *x, const fh *first, hblock *hb)
{
    size_t a, b;
    if (!h2x_fragment_bounds(x->p, first, &a, &b))
        return false;
    hb->frames[0] = *first;
    hb->fa[0] = a;
    hb->fb[0] = b;
    hb->nf = 1;
    hb->complete = first->flags & FL_END_HEADERS;
    size_t o = first->off + 9 + first->len;
    while (!hb->complete) {
        fh c;
        if (!h2x_frame_at(x->p, x->n, o, &c)) {
            hb->truncated = x->cut = true;
            break;
        }
        if (hb->nf == 64) {
            hb->toolong = true;
            break;
        }
        if (c.type != F_CONTINUATION || c.sid != first->sid) {
            hb->broken = true;
            hb->breaker = c;
            break;
        }
        h2x_fragment_bounds(x->p, &c, &a, &b);
        hb->frames[hb->nf] = c;
        hb->fa[hb->nf] = a;
        hb->fb[hb->nf] = b;
        hb->nf++;
        hb->complete = c.flags & FL_END_HEADERS;
        o = c.off + 9 + c.len;
    }
    return true;
}

/* The block's fragments joined in one piece (the caller frees it); NULL when memory ran
 * out. */
static uint8_t *join_block(h2x *x, const hblock *hb, size_t *len)
{
    size_t blen = 0;
    for (size_t i = 0; i < hb->nf; i++)
        blen += hb->fb[i] - hb->fa[i];
    uint8_t *block = malloc(blen ? blen : 1);
    if (!block)
        return NULL;
    blen = 0;
    for (size_t i = 0; i < hb->nf; i++) {
        memcpy(block + blen, x->p + hb->fa[i], hb->fb[i] - hb->fa[i]);
        blen += hb->fb[i] - hb->fa[i];
    }
    *len = blen;
    return block;
}

/* Decodes the header fields of block[0..blen) into spans in u, in block coordinates.
 * *path receives the first :path (the caller frees it), what (wcap bytes) what a
 * :status or grpc-status says the block is. Returns false when the block does not
 * decode, which loses the connection's header compression state. */
static bool decode_fields(h2x *x, const hblock *hb, const uint8_t *block, size_t blen,
                          explain *u, char **path, char *what, size_t wcap)
{
    bool status = false;
    hpack_begin_block(&x->hp);
    for (size_t off = 0; off < blen;) {
        hpack_field f;
        char err[300] = "";
        long r = hpack_decode_field(&x->hp, block, blen, off, &f, err, sizeof err);
        if (r < 0) {
            hpack_field_done(&f);
            if (!hb->complete && hb->truncated)
                explain_add(u, off, blen - off, 1, SPAN_FRAME, "hpack", "%s", _("incomplete: the "
                            "capture ends inside this header block"));
            else if (!hb->complete)
                explain_add(u, off, blen - off, 1, SPAN_ERROR, "hpack", "%s", _("the start of a "
                            "header field whose rest never came"));
            else {
                explain_add(u, off, blen - off, 1, SPAN_ERROR, "hpack", _("not valid HPACK: %s"),
                            err);
                return false;
            }
            break;
        }
        size_t idx = u->len;
        hpack_explain_field(&f, block, 0, 1, &x->told_hpack, u);
        char note[400];
        grpc_note(&f, note, sizeof note);
        if (note[0] && idx < u->len)
            explain_retitle(u, (int)idx, _("%s; gRPC: %s"), u->spans[idx].meaning, note);
        if (f.name && !strcmp(f.name, ":path") && !*path)
            *path = strdup(f.value);
        if (f.name && !strcmp(f.name, "grpc-status"))
            snprintf(what, wcap, status ? _("a trailers-only response (headers and trailers in "
                                            "one block): grpc-status %s (%s)")
                                        : _("trailers: grpc-status %s (%s)"),
                     f.value, status_name(strtoul(f.value, NULL, 10)));
        if (f.name && !strcmp(f.name, ":status") && !what[0]) {
            status = true;
            snprintf(what, wcap, _("response headers, HTTP status %s"), f.value);
        }
        hpack_field_done(&f);
        off += (size_t)r;
    }
    return true;
}

/* Counts the block on stream s (NULL: none), which learns its method from the
 * request's :path (taking path over), and says what the block is when its fields did
 * not. */
static void name_block(h2x *x, const fh *first, h2stream *s, char **path, char *what,
                       size_t wcap)
{
    if (s) {
        s->blocks++;
        if (*path && !x->server && !s->path) {
            s->path = *path;
            *path = NULL;
            s->m = catalog_find_grpc(s->path);
            if (!s->m)
                s->m = x->hint;
        }
        if (!what[0] && !x->server && s->blocks == 1 && s->path)
            snprintf(what, wcap, _("request headers, calling %s"), s->path);
        else if (!what[0] && !x->server)
            snprintf(what, wcap, "%s", s->blocks == 1 ? _("request headers") : _("trailers"));
        else if (!what[0])
            snprintf(what, wcap, "%s", s->blocks == 1 ? _("response headers") : _("trailers"));
    } else if (first->type == F_PUSH_PROMISE)
        snprintf(what, wcap, "%s", _("the request the server promises to answer"));
}

/* Emits the block's frames, each with its own fields and its part of the block's spans
 * u; the first frame's title says what the block is. */
static void emit_block(h2x *x, const hblock *hb, const explain *u, const char *what)
{
    size_t lo = 0;
    for (size_t i = 0; i < hb->nf; i++) {
        const fh *f = &hb->frames[i];
        int box = h2x_frame_open(x, f, true);
        if (i == 0 && what[0])
            explain_retitle(x->e, box, _("%s frame, stream %" PRIu32 ", %" PRIu32 "-byte payload: "
                            "%s%s"), h2explain_frame_type(f->type), f->sid, f->len, what,
                            hb->nf > 1 ? _(" (the block continues in CONTINUATION frames)") : "");
        size_t q = f->off + 9;
        if (f->type != F_CONTINUATION && (f->flags & FL_PADDED)) {
            h2x_pad_length(x, f);
            q++;
        }
        if (f->type == F_HEADERS && (f->flags & FL_PRIORITY)) {
            uint32_t dep = be32(x->p + q);
            explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", _("stream dependency %" PRIu32 "%s: "
                        "old-style priority (RFC 7540), widely ignored"), dep & 0x7fffffff,
                        dep >> 31 ? _(", exclusive") : "");
            explain_add(x->e, q + 4, 1, 1, SPAN_FRAME, "h2", _("weight %u (the byte + 1)"),
                        x->p[q + 4] + 1u);
            q += 5;
        }
        if (f->type == F_PUSH_PROMISE) {
            explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", _("promised stream id %" PRIu32),
                        be32(x->p + q) & 0x7fffffff);
            q += 4;
        }
        size_t flen = hb->fb[i] - hb->fa[i];
        h2x_emit_unit(x, u, lo, flen, hb->fa[i]);
        lo += flen;
        if (f->type != F_CONTINUATION)
            h2x_padding(x, f);
    }
}

size_t h2x_header_group(h2x *x, const fh *first)
{
    hblock hb = {.nf = 0};
    if (!collect_block(x, first, &hb)) {
        h2x_frame_open(x, first, true);
        h2x_fail_rest(x, first, first->off + 9, "%s",
                      first->type == F_HEADERS && (first->flags & FL_PRIORITY)
                          ? _("the padding plus the priority fields is longer than the payload")
                          : _("the padding is longer than the payload"));
        return x->n;
    }
    size_t blen;
    uint8_t *block = join_block(x, &hb, &blen);
    if (!block) {
        x->failed = x->stop = true;
        return x->n;
    }
    h2stream *s = first->type == F_HEADERS && first->sid ? h2x_stream_get(x, first->sid) : NULL;
    explain u;
    explain_init(&u);
    char what[400] = "";
    char *path = NULL;
    bool fatal = !decode_fields(x, &hb, block, blen, &u, &path, what, sizeof what);
    name_block(x, first, s, &path, what, sizeof what);
    free(path);
    emit_block(x, &hb, &u, what);
    explain_done(&u);
    free(block);
    const fh *last = &hb.frames[hb.nf - 1];
    size_t end = last->off + 9 + last->len;
    if (s && s->path && !s->path_at)
        s->path_at = end;
    if (fatal) {
        x->failed = true;
        h2x_fail_rest(x, NULL, end, "%s", _("the header compression state is lost"));
    } else if (hb.broken)
        h2x_fail_rest(x, NULL, end, _("a %s frame on stream %" PRIu32 " where the CONTINUATION "
                      "of stream %" PRIu32 "'s header block must come"),
                      h2explain_frame_type(hb.breaker.type), hb.breaker.sid, first->sid);
    else if (hb.toolong)
        h2x_fail_rest(x, NULL, end, "%s", _("the header block goes on in more than 63 "
                      "CONTINUATION frames, more than this explainer follows"));
    else if (hb.truncated) {
        h2x_incomplete(x, end, 0, _("before the header block's END_HEADERS"));
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
    while (got < need && !end_stream) {
        if (!h2x_frame_at(x->p, x->n, o, &f)) {
            x->cut = true;
            break;
        }
        o = f.off + 9 + f.len;
        if (f.sid != sid)
            continue;
        if (f.type == F_RST_STREAM || f.type == F_HEADERS)
            break;
        size_t da, db;
        if (f.type != F_DATA || !h2x_data_bounds(x->p, &f, &da, &db))
            continue;
        size_t k = db - da < need - got ? db - da : need - got;
        memcpy(out + got, x->p + da, k);
        got += k;
        end_stream = f.flags & FL_END_STREAM;
    }
    if (o > x->reach)
        x->reach = o;
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
    const pb_method *sm = h2x_stream_method(x, s);
    const ProtobufCMessageDescriptor *d = sm ? (x->server ? sm->output : sm->input) : NULL;
    if (got < 5) {
        s->msg.total = got;
        explain_add(u, 0, got, 1, SPAN_FRAME, "grpc", _("incomplete: the capture ends inside "
                    "the 5-byte prefix of gRPC message %u"), no);
        return;
    }
    uint32_t len = be32(pre + 1);
    size_t need = 5 + (size_t)len;
    if (need > x->n)
        need = x->n; /* it cannot all be here */
    uint8_t *m = malloc(need);
    if (!m) {
        s->msg.total = got;
        explain_add(u, 0, got, 1, SPAN_ERROR, "grpc", "%s", _("out of memory"));
        x->failed = true;
        return;
    }
    got = gather(x, s->id, a, b, fend, need, m, es);
    s->msg.total = got;
    bool whole = got == 5 + (size_t)len;
    const char *cut = whole ? "" : _(" (incomplete)");
    if (d)
        explain_add(u, 0, got, 1, SPAN_FRAME, "grpc", _("gRPC message %u on stream %" PRIu32
                    ", %" PRIu32 " bytes after its 5-byte prefix: %s%s"), no, s->id, len,
                    d->name, cut);
    else
        explain_add(u, 0, got, 1, SPAN_FRAME, "grpc", _("gRPC message %u on stream %" PRIu32
                    ", %" PRIu32 " bytes after its 5-byte prefix, of a type the workbench does not "
                    "know (--proto FILE or --protoset FILE describes it)%s"), no, s->id, len, cut);
    bool full = explain_first_time(&x->told_grpc, 1);
    if (m[0] > 1) {
        explain_add(u, 0, 1, 2, SPAN_ERROR, "grpc", _("compressed flag %u: only 0 and 1 are "
                    "allowed"), m[0]);
        x->failed = true;
    } else
        explain_add(u, 0, 1, 2, SPAN_FRAME, "grpc", _("compressed flag %u: %s%s"), m[0],
                    m[0] ? _("the message is compressed with the stream's grpc-encoding (shown "
                             "as it is, not decompressed)") : _("the message is not compressed"),
                    full ? _(" (gRPC puts this byte and a 4-byte length before every message, "
                             "so messages can share or span DATA frames)") : "");
    char hx[40];
    explain_hex(hx, sizeof hx, m + 1, 4, SIZE_MAX, 0);
    explain_add(u, 1, 4, 2, SPAN_FRAME, "grpc", _("message length %s = %" PRIu32 "%s"), hx, len,
                full ? _(" (4 bytes, big-endian)") : "");
    if (!whole)
        explain_add(u, 5, got - 5, 2, SPAN_FRAME, "grpc", _("incomplete: the capture ends %zu "
                    "bytes into the message's %" PRIu32), got - 5, len);
    else if (m[0] == 1 && len)
        explain_add(u, 5, len, 2, SPAN_DATA, "grpc", _("%" PRIu32 " compressed bytes"), len);
    else if (len) {
        unsigned told = x->told_pb;
        if (pbexplain_message(d, m + 5, len, 5, 2, &x->told_pb, u) < 0)
            x->failed = true;
        if (s->cond) { /* read with the other method, would it tell later messages less? */
            explain alt;
            explain_init(&alt);
            const pb_method *am = s->alt;
            pbexplain_message(am ? (x->server ? am->output : am->input) : NULL, m + 5, len, 5, 2,
                              &told, &alt);
            explain_done(&alt);
            if (told != x->told_pb) {
                x->hlo = s->clo > x->hlo ? s->clo : x->hlo;
                x->hhi = s->chi < x->hhi ? s->chi : x->hhi;
            }
        }
    }
    free(m);
}

void h2x_data_frame(h2x *x, const fh *f)
{
    size_t a, b;
    int box = h2x_frame_open(x, f, true);
    if (f->sid == 0) {
        h2x_fail_rest(x, f, f->off + 9, "%s", _("a DATA frame must belong to a stream, not "
                                                "stream 0"));
        return;
    }
    if (!h2x_data_bounds(x->p, f, &a, &b)) {
        h2x_fail_rest(x, f, f->off + 9, "%s", _("the padding is longer than the payload"));
        return;
    }
    if (f->flags & FL_PADDED)
        h2x_pad_length(x, f);
    h2stream *s = h2x_stream_get(x, f->sid);
    if (!s) {
        h2x_fail_rest(x, f, a, "%s", _("out of memory"));
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
        h2x_emit_unit(x, &s->msg.x, s->msg.done, take, pos);
        s->msg.done += take;
        pos += take;
        if (s->msg.done == s->msg.total) {
            explain_done(&s->msg.x);
            s->in_msg = false;
        }
    }
    h2x_padding(x, f);
    if (s->cond && b > a) { /* its spans are those of some client passes only */
        x->slo = s->clo > x->slo ? s->clo : x->slo;
        x->shi = s->chi < x->shi ? s->chi : x->shi;
    }
    char what[200] = "";
    if (whole + parts == 0)
        snprintf(what, sizeof what, "%s", (f->flags & FL_END_STREAM) ? _(": no data, it just "
                 "ends the stream") : _(": empty"));
    else if (parts == 0)
        snprintf(what, sizeof what, ngettext(": %u whole gRPC message", ": %u whole gRPC messages",
                                             whole), whole);
    else if (whole == 0)
        snprintf(what, sizeof what, "%s", parts == 1 ? _(": a piece of a gRPC message split "
                                                         "across frames")
                                                     : _(": pieces of gRPC messages split "
                                                         "across frames"));
    else if (parts == 1)
        snprintf(what, sizeof what, ngettext(": %u whole gRPC message and a piece of one split "
                                             "across frames",
                                             ": %u whole gRPC messages and a piece of one split "
                                             "across frames", whole), whole);
    else
        snprintf(what, sizeof what, ngettext(": %u whole gRPC message and pieces of two split "
                                             "across frames",
                                             ": %u whole gRPC messages and pieces of two split "
                                             "across frames", whole), whole);
    explain_retitle(x->e, box, _("DATA frame, stream %" PRIu32 ", %" PRIu32 "-byte payload%s%s"),
                    f->sid, f->len, what,
                    (f->flags & FL_END_STREAM) ? _("; the sender is done with this stream") : "");
}
