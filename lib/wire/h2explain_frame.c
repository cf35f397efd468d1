/* h2explain_frame.c -- the parts every HTTP/2 frame has, as the HTTP/2 explainer reads
 * them: the 9-byte header, padding and payload bounds, per-stream state, and the spans
 * for a reassembled unit, an early end or a connection error. */
#include "wire/h2explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/sorted.h"
#include "wire/h2explain_int.h"

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

static int cmp_id_stream(const void *key, const void *elem)
{
    uint32_t id = *(const uint32_t *)key, at = ((const h2stream *)elem)->id;
    return id < at ? -1 : id > at;
}

/* Where stream id is, or would go, in x->st (kept in the order of ids). */
static size_t stream_index(const h2x *x, uint32_t id)
{
    if (x->nst && x->st[x->nst - 1].id < id)
        return x->nst; /* a new stream: the usual case */
    return sorted_first(x->st, x->nst, sizeof *x->st, &id, cmp_id_stream);
}

const h2stream *h2x_stream_find(const h2x *x, uint32_t id)
{
    size_t i = stream_index(x, id);
    return i < x->nst && x->st[i].id == id ? &x->st[i] : NULL;
}

/* A kept server explainer's stream s: whether the client pass of [0, x->horizon) named its
 * method, and for which other passes that holds too. */
static const h2stream *kept_peer(h2x *x, h2stream *s)
{
    const h2stream *ps = h2x_stream_find(x->peer, s->id);
    if (!ps || !ps->path) {
        if (x->npending < H2X_PENDING)
            x->pending[x->npending++] = s->id;
        else if (x->hhi > x->horizon + 1)
            x->hhi = x->horizon + 1;
        return NULL;
    }
    bool named = ps->path_at <= x->horizon;
    if (ps->m) { /* read otherwise by passes on the other side of path_at */
        s->cond = true;
        s->clo = named ? ps->path_at : 0;
        s->chi = named ? SIZE_MAX : ps->path_at;
        s->alt = named ? x->hint : ps->m;
    }
    return named ? ps : NULL;
}

h2stream *h2x_stream_get(h2x *x, uint32_t id)
{
    size_t i = stream_index(x, id);
    if (i < x->nst && x->st[i].id == id)
        return &x->st[i];
    if (x->nst == x->cst) {
        size_t nc = x->cst ? 2 * x->cst : 8;
        h2stream *ns = realloc(x->st, nc * sizeof *ns);
        if (!ns)
            return NULL;
        x->st = ns;
        x->cst = nc;
    }
    memmove(x->st + i + 1, x->st + i, (x->nst - i) * sizeof *x->st);
    x->nst++;
    h2stream *s = &x->st[i];
    memset(s, 0, sizeof *s);
    s->id = id;
    /* a method named in a stream's first frame, as an exchange does; a kept explainer
     * looks it up once a message needs it, which reads the same */
    s->unnamed = x->kept && x->peer;
    const h2stream *ps = x->peer && !x->kept ? h2x_stream_find(x->peer, id) : NULL;
    if (ps && ps->path) {
        s->path = strdup(ps->path);
        s->m = ps->m;
    }
    if (!s->m)
        s->m = x->hint;
    return s;
}

const pb_method *h2x_stream_method(h2x *x, h2stream *s)
{
    if (s->unnamed) {
        s->unnamed = false;
        const h2stream *ps = kept_peer(x, s);
        if (ps && ps->path) {
            s->path = strdup(ps->path);
            s->m = ps->m;
        }
        if (!s->m)
            s->m = x->hint;
    }
    return s->m;
}

void h2x_streams_free(h2x *x)
{
    for (size_t i = 0; i < x->nst; i++) {
        free(x->st[i].path);
        explain_done(&x->st[i].msg.x);
    }
    free(x->st);
    x->st = NULL;
    x->nst = x->cst = 0;
}

/* Emits the spans of unit u that fall in [lo, lo + len), placed at capture offset cap.
 * The spans u dropped are counted once, in the piece where its summary starts. */
void h2x_emit_unit(h2x *x, const explain *u, size_t lo, size_t len, size_t cap)
{
    size_t hi = lo + len;
    for (size_t i = 0; i < u->len; i++) {
        const span *s = &u->spans[i];
        size_t a = s->off > lo ? s->off : lo, b = s->off + s->len < hi ? s->off + s->len : hi;
        if (explain_is_summary(u, i)) {
            if (s->off >= lo && s->off < hi)
                explain_merge_dropped(x->e, u, cap - lo, 0);
            continue;
        }
        if (a >= b)
            continue;
        const char *more = s->off < lo && s->off + s->len > hi
                               ? _(" (continued, and continues in the next frame)")
                           : s->off < lo          ? _(" (continued)")
                           : s->off + s->len > hi ? _(" (continues in the next frame)")
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
                    _("%s: a peer closes the connection after such an error, so nothing after "
                      "it is explained"), at < fend ? _("not read") : msg);
    x->failed = x->stop = true;
}

/* Opens the frame's container and explains its 9-byte header. Returns the container. */
int h2x_frame_open(h2x *x, const fh *f, bool complete)
{
    size_t total = complete ? 9 + (size_t)f->len : x->n - f->off;
    int box = explain_add(x->e, f->off, total, 0, SPAN_FRAME, "h2", _("%s frame, stream %" PRIu32
                          ", %" PRIu32 "-byte payload"), h2explain_frame_type(f->type), f->sid,
                          f->len);
    bool full = explain_first_time(&x->told, TOLD_HEADER);
    char hx[40];
    explain_hex(hx, sizeof hx, x->p + f->off, 3, SIZE_MAX, 0);
    explain_add(x->e, f->off, 3, 1, SPAN_FRAME, "h2", _("length %s = %" PRIu32 ": the payload "
                "bytes after this 9-byte header%s"), hx, f->len,
                full ? _(" (every HTTP/2 frame starts with a 3-byte big-endian length, a type, "
                         "flags and a stream id)") : "");
    explain_add(x->e, f->off + 3, 1, 1, SPAN_FRAME, "h2", _("type 0x%02x = %s: %s"), f->type,
                h2explain_frame_type(f->type), h2x_type_words(f->type));
    char fw[600];
    unsigned type_bit = 1u << (f->type < 10 ? f->type : 10);
    h2x_flag_words(f, fw, sizeof fw, f->flags && explain_first_time(&x->told_flags, type_bit));
    explain_add(x->e, f->off + 4, 1, 1, SPAN_FRAME, "h2", "%s", fw);
    explain_hex(hx, sizeof hx, x->p + f->off + 5, 4, SIZE_MAX, 0);
    const char *sw;
    if (f->sid == 0)
        sw = _(": the connection as a whole, not one stream");
    else if (explain_first_time(&x->told, TOLD_STREAM))
        sw = _(": one stream is one call; clients number theirs 1, 3, 5... and each call gets a "
               "fresh odd number");
    else
        sw = "";
    explain_add(x->e, f->off + 5, 4, 1, SPAN_FRAME, "h2", _("stream id %s = %" PRIu32 "%s%s"), hx,
                f->sid, sw, f->reserved ? _(" (the top bit is reserved and should be 0; "
                                            "receivers ignore it)") : "");
    return box;
}

/* The pad length byte and the padding of a PADDED frame. */
void h2x_pad_length(h2x *x, const fh *f)
{
    explain_add(x->e, f->off + 9, 1, 1, SPAN_FRAME, "h2", _("pad length %u: that many padding "
                "bytes end the frame%s"), x->p[f->off + 9],
                explain_first_time(&x->told, TOLD_PAD)
                    ? _(" (padding hides the true size of the content)") : "");
}

void h2x_padding(h2x *x, const fh *f)
{
    if (!(f->flags & FL_PADDED) || f->len < 1)
        return;
    size_t pad = x->p[f->off + 9], end = f->off + 9 + f->len;
    if (pad)
        explain_add(x->e, end - pad, pad, 1, SPAN_FRAME, "h2", _("%zu bytes of padding, "
                    "meaningless (they should be zero)"), pad);
}

void h2x_incomplete(h2x *x, size_t at, int depth, const char *what)
{
    if (at < x->n)
        explain_add(x->e, at, x->n - at, depth, SPAN_FRAME, "h2",
                    _("incomplete: the capture ends %s"), what);
}
