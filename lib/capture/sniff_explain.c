/* sniff_explain.c -- one sniffed call explained byte by byte: its direction explained from
 * the first byte kept with the wire explainers, and the spans within the call's bytes
 * kept. A connection caught mid-way is explained from its first message boundary, with
 * what cannot be read without the bytes before the capture as SPAN_ERROR spans.
 *
 * A gob connection keeps its explainers' state per direction (sniff_wire): each call is
 * explained from where the one before ended, with the types defined so far, and gives the
 * spans explaining the whole direction up to it would give. Whatever the state cannot
 * answer so (a call before the spans kept, a call that ends inside a message) is
 * explained from the first byte as before. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/sorted.h"
#include "capture/sniff_int.h"
#include "wire/gob.h"
#include "wire/h2explain.h"
#include "wire/jsonrpc.h"
#include "wire/netrpc.h"

/* Copies into out the spans of all from index first lying within [lo, hi), shifted to
 * start at lo, their depths shifted so the shallowest is 0. */
static void keep_from(const explain *all, size_t first, size_t lo, size_t hi, explain *out)
{
    int mind = -1;
    for (size_t i = first; i < all->len; i++) {
        const span *s = &all->spans[i];
        if (!explain_is_summary(all, i) && s->off >= lo && s->off + s->len <= hi &&
            (mind < 0 || s->depth < mind))
            mind = s->depth;
    }
    for (size_t i = first; i < all->len; i++) {
        const span *s = &all->spans[i];
        if (!explain_is_summary(all, i) && s->off >= lo && s->off + s->len <= hi && s->len)
            explain_add(out, s->off - lo, s->len, s->depth - mind, s->cls, s->layer, "%s",
                        s->meaning);
    }
}

static void keep_range(const explain *all, size_t lo, size_t hi, explain *out)
{
    keep_from(all, 0, lo, hi, out);
}

/* ---- gob caught mid-way ---- */

/* The spans of message p[0..n) (framed) of a type never defined in the capture. */
static void gob_unknown(const uint8_t *p, size_t n, size_t hdr, size_t base, bool response,
                        explain *e)
{
    explain_add(e, base, n, 0, SPAN_FRAME, "gob", _("message, %zu bytes"), n);
    explain_add(e, base, hdr, 1, SPAN_FRAME, "gob", _("message length %zu"), n - hdr);
    size_t il = p[hdr] < 0x80 ? 1 : 1 + (size_t)(256u - p[hdr]);
    if (il > n - hdr)
        il = n - hdr;
    uint64_t x = 0;
    for (size_t i = il > 1 ? 1 : 0; i < il; i++)
        x = il > 1 ? x << 8 | p[hdr + i] : p[hdr];
    long long id = x & 1 ? ~(long long)(x >> 1) : (long long)(x >> 1);
    explain_add(e, base + hdr, il, 1, SPAN_FRAME, "gob", _("type id %lld: a value"), id);
    size_t a = hdr + il;
    if (a >= n)
        return;
    char m[256], er[256];
    uint64_t seq;
    bool has;
    if (sniff_gob_header_shape(p + a, n - a, response, m, sizeof m, &seq, er, sizeof er, &has)) {
        if (has)
            explain_add(e, base + a, n - a, 1, SPAN_FRAME, "rpc",
                        _("a net/rpc Response, read from its shape (its type %lld was defined "
                          "before the capture began): method \"%s\", seq %" PRIu64 ", error "
                          "\"%s\""), id, m, seq, er);
        else
            explain_add(e, base + a, n - a, 1, SPAN_FRAME, "rpc",
                        _("a net/rpc %s, read from its shape (its type %lld was defined before "
                          "the capture began): method \"%s\", seq %" PRIu64),
                        response ? "Response" : "Request", id, m, seq);
    } else
        explain_add(e, base + a, n - a, 1, SPAN_ERROR, "gob",
                    _("type %lld's definition was sent before the capture began: its fields "
                      "cannot be named"), id);
}

static size_t gframe_len(const uint8_t *p, size_t n, size_t *hdr)
{
    if (n == 0)
        return 0;
    size_t k = p[0] < 0x80 ? 0 : 256u - p[0];
    if (k > 8 || n - 1 < k)
        return 0;
    uint64_t v = k ? 0 : p[0];
    for (size_t i = 0; i < k; i++)
        v = v << 8 | p[1 + i];
    *hdr = 1 + k;
    return v && v <= n - 1 - k ? (size_t)v : 0;
}

/* Explains the messages from p[at..n) with x, and the message that has not wholly arrived
 * after them. Returns where the whole ones end. */
static size_t gob_frames(gob_explainer *x, const uint8_t *p, size_t n, size_t at, bool response,
                         explain *e)
{
    size_t hdr, len;
    for (; at < n && (len = gframe_len(p + at, n - at, &hdr));) {
        explain t;
        explain_init(&t);
        if (gob_explain_message(x, p + at, hdr + len, at, 0, &t, NULL) > 0)
            explain_append(e, &t, 0, 0);
        else
            gob_unknown(p + at, hdr + len, hdr, at, response, e);
        explain_done(&t);
        at += hdr + len;
    }
    if (at < n)
        explain_add(e, at, n - at, 0, SPAN_FRAME, "gob", "%s", _("incomplete: the rest of this "
                    "message has not arrived"));
    return at;
}

static void gob_midway(const uint8_t *p, size_t n, size_t off, bool response, explain *e)
{
    long s = sniff_gob_sync(p, n, GOB_DEFAULT_MAX_MESSAGE);
    size_t start = s >= 0 && (size_t)s <= off ? (size_t)s : off, at = start, hdr, len;
    while (at < off && (len = gframe_len(p + at, n - at, &hdr)))
        at += hdr + len;
    if (at != off)
        start = off;
    if (start)
        explain_add(e, 0, start, 0, SPAN_ERROR, "gob", "%s", _("the rest of a message that "
                    "began before the capture did"));
    gob_explainer *x = gob_explainer_new();
    if (!x)
        return;
    gob_frames(x, p, n, start, response, e);
    gob_explainer_free(x);
}

/* ---- the state kept per connection and direction ---- */

/* Spans kept of a gob direction from its start, for calls answered out of order. */
#define WIRE_WINDOW (64u << 10)
#define WIRE_TRIM_SPANS 4096

static int cmp_off_span(const void *key, const void *elem)
{
    size_t off = *(const size_t *)key, at = ((const span *)elem)->off;
    return off < at ? -1 : off > at;
}

/* The first span of d->win that starts at off or later (d->win.len: none). */
static size_t win_find(const sniff_wdir *d, size_t off)
{
    if (!d->sorted)
        return 0;
    return sorted_first(d->win.spans, d->win.len, sizeof *d->win.spans, &off, cmp_off_span);
}

/* Forgets the spans more than WIRE_WINDOW bytes behind pos, now and then. */
static void win_trim(sniff_wdir *d, size_t pos)
{
    if (d->win.len < d->next_trim || !d->sorted)
        return;
    if (pos > WIRE_WINDOW && pos - WIRE_WINDOW > d->lo) {
        d->lo = pos - WIRE_WINDOW;
        explain_drop_front(&d->win, win_find(d, d->lo));
    }
    d->next_trim = d->win.len * 2 > WIRE_TRIM_SPANS ? d->win.len * 2 : WIRE_TRIM_SPANS;
}

/* Whether a call of the spans in d->win begins at off (or the last ends there). */
static bool win_call_at(const sniff_wdir *d, size_t off)
{
    if (off == d->pos)
        return true;
    for (size_t i = win_find(d, off); i < d->win.len && d->win.spans[i].off == off; i++)
        if (d->win.spans[i].depth == 0)
            return true;
    return false;
}

/* A gob direction from its start: the spans of p[off..end), as netrpc_explain(p, end) gives
 * them, into out. Returns false when the state cannot tell them. */
static bool gob_kept(sniff_wdir *d, const uint8_t *p, size_t off, size_t end, bool response,
                     explain *out)
{
    if (!d->nx) {
        d->nx = netrpc_explainer_new(response);
        if (!d->nx)
            return false;
        d->win.max = 2 * EXPLAIN_MAX_SPANS;
        d->sorted = true;
    }
    if (off < d->lo || !d->sorted)
        return false;
    if (end > d->pos) {
        size_t from = d->win.len;
        d->pos = netrpc_explainer_feed(d->nx, p, end, &d->win);
        for (size_t i = from ? from : 1; i < d->win.len; i++)
            if (d->win.spans[i].off < d->win.spans[i - 1].off)
                d->sorted = false;
    }
    /* a call cut short is explained as one, which only the whole direction tells */
    if (d->win.drop.count || !d->sorted || end > d->pos || !win_call_at(d, end))
        return false;
    keep_from(&d->win, win_find(d, off), off, end, out);
    win_trim(d, d->pos);
    return true;
}

/* A gob direction caught mid-way: as gob_midway(p, end, off), into out. Returns false when
 * the state cannot tell. */
static bool gob_mid_kept(sniff_wdir *d, const uint8_t *p, size_t off, size_t end, bool response,
                         explain *out)
{
    long s = sniff_gob_sync(p, end, GOB_DEFAULT_MAX_MESSAGE);
    if (s < 0 || (size_t)s > off)
        return false; /* explained from off alone: no cost to save */
    if (!d->gx || d->start != (size_t)s) {
        gob_explainer_free(d->gx);
        if (!(d->gx = gob_explainer_new()))
            return false;
        d->start = d->pos = (size_t)s;
    }
    size_t hdr, len;
    explain skip;
    explain_init(&skip);
    while (d->pos < off && (len = gframe_len(p + d->pos, end - d->pos, &hdr))) {
        gob_frames(d->gx, p, d->pos + hdr + len, d->pos, response, &skip);
        d->pos += hdr + len;
        explain_done(&skip);
    }
    if (d->pos != off)
        return false;
    explain t;
    explain_init(&t);
    d->pos = gob_frames(d->gx, p, end, off, response, &t);
    keep_range(&t, off, end, out);
    explain_done(&t);
    return true;
}

/* One direction of a gob call from the state w keeps (out: the call's spans). Returns
 * false when it is to be explained from the first byte. */
static bool gob_from_state(sniff_wire *w, const sniff_call *c, bool response, explain *out)
{
    sniff_wdir *d = &w->d[response ? SNIFF_S2C : SNIFF_C2S];
    const uint8_t *p = response ? c->s2c : c->c2s;
    size_t off = response ? c->rep_off : c->req_off, end = response ? c->rep_end : c->req_end;
    if (d->on && d->from_start != c->from_start)
        sniff_wire_reset(w, response ? SNIFF_S2C : SNIFF_C2S);
    d->on = true;
    d->from_start = c->from_start;
    return c->from_start ? gob_kept(d, p, off, end, response, out)
                         : gob_mid_kept(d, p, off, end, response, out);
}

/* ---- gRPC ---- */

static void h2_drop(sniff_wire *w, int dir)
{
    for (int i = dir; i < 2; i++) { /* the server's goes with the client's */
        h2explainer_free(w->h2[i]);
        w->h2[i] = NULL;
    }
}

/* Direction dir's explainer, reading as asked (made anew otherwise), fed up to end.
 * NULL when it cannot answer. */
static h2explainer *h2_fed(sniff_wire *w, int dir, const uint8_t *p, size_t n, size_t end,
                           bool mid, size_t at, size_t horizon)
{
    if (w->h2[dir] && (w->h2_mid[dir] != mid || w->h2_at[dir] != at))
        h2_drop(w, dir);
    if (w->h2[dir] && dir == SNIFF_S2C && !h2explainer_horizon(w->h2[dir], horizon))
        h2_drop(w, dir);
    if (!w->h2[dir]) {
        h2_drop(w, dir);
        if (!(w->h2[dir] = h2explainer_new(dir == SNIFF_S2C, mid, at, w->h2[SNIFF_C2S])))
            return NULL;
        w->h2_mid[dir] = mid;
        w->h2_at[dir] = at;
        if (dir == SNIFF_S2C)
            h2explainer_horizon(w->h2[dir], horizon);
    }
    if (!h2explainer_feed(w->h2[dir], p, n, end, dir == SNIFF_C2S)) {
        h2_drop(w, dir); /* made anew for the next call, from the first byte */
        return NULL;
    }
    return w->h2[dir];
}

/* A gRPC call's spans from the explainers w keeps, as h2explain_exchange(_midway) gives
 * them from the first byte (client bytes from ca, server bytes from sa when mid). Returns
 * false when they cannot tell, having added nothing. */
static bool grpc_from_state(sniff_wire *w, const sniff_call *c, bool mid, size_t ca, size_t sa,
                            explain *req, explain *rep)
{
    h2explainer *x[2] = {NULL, NULL};
    if (c->c2s && !(x[0] = h2_fed(w, SNIFF_C2S, c->c2s, c->c2s_len, c->req_end, mid, ca, 0)))
        return false;
    if (c->s2c && !(x[1] = h2_fed(w, SNIFF_S2C, c->s2c, c->s2c_len, c->rep_end, mid, sa,
                                  c->c2s ? c->req_end : 0)))
        return false;
    explain a, b;
    explain_init(&a);
    explain_init(&b);
    bool ok = (!x[0] || h2explainer_spans(x[0], c->req_off, c->req_end, &a)) &&
              (!x[1] || h2explainer_spans(x[1], c->rep_off, c->rep_end, &b));
    if (ok) {
        explain_append(req, &a, 0, 0);
        explain_append(rep, &b, 0, 0);
    }
    explain_done(&a);
    explain_done(&b);
    return ok;
}

/* ---- HTTP/1.x ---- */

static void http_spans(const uint8_t *p, size_t n, bool response, explain *e)
{
    size_t at = 0;
    bool first = true;
    while (at < n) {
        const uint8_t *nl = memchr(p + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - p) + 1 : n;
        size_t tl = end - at;
        while (tl && (p[at + tl - 1] == '\n' || p[at + tl - 1] == '\r'))
            tl--;
        char q[300];
        explain_quote(q, sizeof q, p + at, tl, 200, EXPLAIN_QUOTE_BARE | EXPLAIN_QUOTE_UTF8);
        if (first)
            explain_add(e, at, end - at, 0, SPAN_FRAME, "http",
                        response ? _("status line: %s") : _("request line: %s"), q);
        else if (tl == 0) {
            explain_add(e, at, end - at, 0, SPAN_FRAME, "http", "%s",
                        _("an empty line: the end of the headers"));
            at = end;
            break;
        } else
            explain_add(e, at, end - at, 0, SPAN_TYPE, "http", _("header %s"), q);
        first = false;
        at = end;
    }
    if (at < n)
        explain_add(e, at, n - at, 0, SPAN_DATA, "http", _("body, %zu bytes"), n - at);
}

/* ---- the call ---- */

static int direction(const sniff_call *c, bool response, explain *all)
{
    const uint8_t *p = response ? c->s2c : c->c2s;
    size_t off = response ? c->rep_off : c->req_off, end = response ? c->rep_end : c->req_end;
    switch (c->proto) {
    case SNIFF_GOB:
        if (c->from_start)
            return netrpc_explain(p, end, response, all);
        gob_midway(p, end, off, response, all);
        return 0;
    case SNIFF_JSONRPC: {
        explain t;
        explain_init(&t);
        int r = jsonrpc_explain((const char *)p + off, end - off, response, &t);
        explain_append(all, &t, off, 0);
        explain_done(&t);
        return r;
    }
    case SNIFF_HTTP: {
        explain t;
        explain_init(&t);
        http_spans(p + off, end - off, response, &t);
        explain_append(all, &t, off, 0);
        explain_done(&t);
        return 0;
    }
    default:
        return 0;
    }
}

int sniff_explain_call(const sniff_call *c, explain *req, explain *rep)
{
    if (!c->c2s && !c->s2c)
        return -1;
    explain a, b;
    explain_init(&a);
    explain_init(&b);
    bool req_all = true, rep_all = true; /* false: the state gave the spans */
    if (c->proto == SNIFF_GRPC) {
        size_t cn = c->c2s ? c->req_end : 0, sn = c->s2c ? c->rep_end : 0;
        static const uint8_t none[1];
        const uint8_t *cp = c->c2s ? c->c2s : none, *sp = c->s2c ? c->s2c : none;
        bool mid = !c->from_start &&
                   !(cn >= 24 && !memcmp(cp, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24));
        size_t ca = 0, sa = 0;
        if (mid) {
            long l = sniff_h2_sync(cp, cn), m = sniff_h2_sync(sp, sn);
            ca = l >= 0 && (size_t)l <= c->req_off ? (size_t)l : c->req_off;
            sa = m >= 0 && (size_t)m <= c->rep_off ? (size_t)m : c->rep_off;
        }
        if (c->wire && grpc_from_state(c->wire, c, mid, ca, sa, req, rep))
            req_all = rep_all = false;
        else if (!mid)
            h2explain_exchange(cp, cn, sp, sn, &a, &b);
        else
            h2explain_exchange_midway(cp, cn, ca, sp, sn, sa, &a, &b);
    } else {
        bool gob = c->wire && c->proto == SNIFF_GOB;
        if (c->c2s && c->req_end > c->req_off) {
            if (gob && gob_from_state(c->wire, c, false, req))
                req_all = false;
            else
                direction(c, false, &a);
        }
        if (c->s2c && c->rep_end > c->rep_off) {
            if (gob && gob_from_state(c->wire, c, true, rep))
                rep_all = false;
            else
                direction(c, true, &b);
        }
    }
    if (c->c2s && req_all)
        keep_range(&a, c->req_off, c->req_end, req);
    if (c->s2c && rep_all)
        keep_range(&b, c->rep_off, c->rep_end, rep);
    explain_done(&a);
    explain_done(&b);
    return 0;
}
