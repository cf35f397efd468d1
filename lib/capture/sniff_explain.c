/* sniff_explain.c -- one sniffed call explained byte by byte: its direction explained from
 * the first byte kept with the wire explainers, and the spans within the call's bytes
 * kept. A connection caught mid-way is explained from its first message boundary, with
 * what cannot be read without the bytes before the capture as SPAN_ERROR spans. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "capture/sniff_int.h"
#include "wire/gob.h"
#include "wire/h2explain.h"
#include "wire/jsonrpc.h"
#include "wire/netrpc.h"

/* Copies into out the spans of all lying within [lo, hi), shifted to start at lo, their
 * depths shifted so the shallowest is 0. */
static void keep_range(const explain *all, size_t lo, size_t hi, explain *out)
{
    int mind = -1;
    for (size_t i = 0; i < all->len; i++) {
        const span *s = &all->spans[i];
        if (!explain_is_summary(all, i) && s->off >= lo && s->off + s->len <= hi &&
            (mind < 0 || s->depth < mind))
            mind = s->depth;
    }
    for (size_t i = 0; i < all->len; i++) {
        const span *s = &all->spans[i];
        if (!explain_is_summary(all, i) && s->off >= lo && s->off + s->len <= hi && s->len)
            explain_add(out, s->off - lo, s->len, s->depth - mind, s->cls, s->layer, "%s",
                        s->meaning);
    }
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
    for (at = start; at < n && (len = gframe_len(p + at, n - at, &hdr));) {
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
    gob_explainer_free(x);
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
    if (c->proto == SNIFF_GRPC) {
        size_t cn = c->c2s ? c->req_end : 0, sn = c->s2c ? c->rep_end : 0;
        static const uint8_t none[1];
        const uint8_t *cp = c->c2s ? c->c2s : none, *sp = c->s2c ? c->s2c : none;
        if (c->from_start)
            h2explain_exchange(cp, cn, sp, sn, &a, &b);
        else {
            long ca = sniff_h2_sync(cp, cn), sa = sniff_h2_sync(sp, sn);
            bool pre = cn >= 24 && !memcmp(cp, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
            if (pre)
                h2explain_exchange(cp, cn, sp, sn, &a, &b);
            else
                h2explain_exchange_midway(cp, cn, ca >= 0 && (size_t)ca <= c->req_off ? (size_t)ca : c->req_off,
                                          sp, sn, sa >= 0 && (size_t)sa <= c->rep_off ? (size_t)sa : c->rep_off,
                                          &a, &b);
        }
    } else {
        if (c->c2s && c->req_end > c->req_off)
            direction(c, false, &a);
        if (c->s2c && c->rep_end > c->rep_off)
            direction(c, true, &b);
    }
    if (c->c2s)
        keep_range(&a, c->req_off, c->req_end, req);
    if (c->s2c)
        keep_range(&b, c->rep_off, c->rep_end, rep);
    explain_done(&a);
    explain_done(&b);
    return 0;
}
