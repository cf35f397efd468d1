/* h2explain.c -- captured HTTP/2 + gRPC bytes explained frame by frame: the frame walker
 * and the control frames. Header blocks and gRPC messages are in h2explain_grpc.c, the
 * parts every frame has in h2explain_frame.c, the words for numbers on the wire in
 * h2explain_names.c. */
#include "wire/h2explain.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/sorted.h"
#include "wire/catalog.h"
#include "wire/h2explain_int.h"
#include "wire/hpack.h"

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN 24

/* ---- control frames ---- */

static void settings_frame(h2x *x, const fh *f)
{
    int box = h2x_frame_open(x, f, true);
    if (f->sid != 0) {
        h2x_fail_rest(x, f, f->off + 9, "%s", _("SETTINGS must be sent on stream 0"));
        return;
    }
    if (f->flags & FL_ACK) {
        if (f->len) {
            h2x_fail_rest(x, f, f->off + 9, "%s", _("a SETTINGS acknowledgement must be empty"));
            return;
        }
        explain_retitle(x->e, box, "%s", _("SETTINGS frame with ACK: the peer's settings "
                                           "arrived and are in force"));
        return;
    }
    if (f->len % 6) {
        h2x_fail_rest(x, f, f->off + 9, _("a SETTINGS payload is 6-byte entries, but %" PRIu32
                      " is not a multiple of 6"), f->len);
        return;
    }
    bool full = explain_first_time(&x->told, TOLD_SETTINGS);
    for (size_t q = f->off + 9; q < f->off + 9 + f->len; q += 6) {
        unsigned id = (unsigned)x->p[q] << 8 | x->p[q + 1];
        uint32_t v = be32(x->p + q + 2);
        const char *nm = h2explain_setting(id);
        char hx[40];
        explain_hex(hx, sizeof hx, x->p + q, 6, SIZE_MAX, 0);
        int i = explain_add(x->e, q, 6, 1, SPAN_FRAME, "h2", _("%s: %s (0x%04x) = %" PRIu32 ": %s%s"),
                    hx, nm ? nm : _("setting"), id, v, h2x_setting_words(id),
                    full ? _(" (each entry: a 2-byte id and a 4-byte value)") : "");
        full = false;
        if ((id == 2 && v > 1) || (id == 4 && v > 0x7fffffff) ||
            (id == 5 && (v < 16384 || v > 16777215))) {
            if (i >= 0)
                x->e->spans[i].cls = SPAN_ERROR;
            x->failed = true;
        }
    }
    explain_retitle(x->e, box, ngettext("SETTINGS frame, %" PRIu32 " setting: %s",
                                        "SETTINGS frame, %" PRIu32 " settings: %s", f->len / 6),
                    f->len / 6,
                    f->len ? _("the sender's parameters for this connection")
                           : _("none changed; it still must be acknowledged"));
}

/* The 4-byte error code of a RST_STREAM or GOAWAY frame at q. */
static void error_code(h2x *x, size_t q, uint32_t c)
{
    const char *words = h2x_error_words(c);
    if (*words)
        explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", _("error code %" PRIu32 " = %s: %s"), c,
                    h2explain_error_code(c), words);
    else
        explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", _("error code %" PRIu32 " = %s"), c,
                    h2explain_error_code(c));
}

static void control_frame(h2x *x, const fh *f)
{
    size_t q = f->off + 9;
    int box = h2x_frame_open(x, f, true);
    char hx[80];
    switch (f->type) {
    case F_PRIORITY:
        if (f->sid == 0 || f->len != 5) {
            h2x_fail_rest(x, f, q, "%s", f->sid == 0 ? _("PRIORITY must name a stream")
                                                     : _("a PRIORITY payload is exactly 5 bytes"));
            return;
        }
        explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", _("stream dependency %" PRIu32 "%s"),
                    be32(x->p + q) & 0x7fffffff, x->p[q] & 0x80 ? _(", exclusive") : "");
        explain_add(x->e, q + 4, 1, 1, SPAN_FRAME, "h2", _("weight %u (the byte + 1): old-style "
                    "priority (RFC 7540), widely ignored"), x->p[q + 4] + 1u);
        break;
    case F_RST_STREAM: {
        if (f->sid == 0 || f->len != 4) {
            h2x_fail_rest(x, f, q, "%s", f->sid == 0 ? _("RST_STREAM must name a stream")
                                                     : _("a RST_STREAM payload is exactly 4 bytes"));
            return;
        }
        uint32_t c = be32(x->p + q);
        error_code(x, q, c);
        explain_retitle(x->e, box, _("RST_STREAM frame: stream %" PRIu32 " ends now, %s"), f->sid,
                        h2explain_error_code(c));
        break;
    }
    case F_PING:
        if (f->sid != 0 || f->len != 8) {
            h2x_fail_rest(x, f, q, "%s", f->sid ? _("PING must be sent on stream 0")
                                                : _("a PING payload is exactly 8 bytes"));
            return;
        }
        explain_hex(hx, sizeof hx, x->p + q, 8, SIZE_MAX, 0);
        explain_add(x->e, q, 8, 1, SPAN_FRAME, "h2", _("opaque data %s: %s%s"), hx,
                    f->flags & FL_ACK ? _("the same 8 bytes the peer's PING carried")
                                      : _("the peer must send these 8 bytes back in a PING with "
                                          "ACK"),
                    explain_first_time(&x->told, TOLD_PING)
                        ? _(" (gRPC pings to keep connections alive and to measure the "
                            "connection's speed)") : "");
        explain_retitle(x->e, box, "%s",
                        f->flags & FL_ACK ? _("PING frame with ACK: the answer to a ping")
                                          : _("PING frame: a round trip check"));
        break;
    case F_GOAWAY: {
        if (f->sid != 0 || f->len < 8) {
            h2x_fail_rest(x, f, q, "%s", f->sid ? _("GOAWAY must be sent on stream 0")
                                                : _("a GOAWAY payload is at least 8 bytes"));
            return;
        }
        uint32_t last = be32(x->p + q) & 0x7fffffff, c = be32(x->p + q + 4);
        explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2", _("last stream id %" PRIu32 ": streams up "
                    "to this one may still be answered; later ones were not processed and can "
                    "be retried elsewhere"), last);
        error_code(x, q + 4, c);
        if (f->len > 8) {
            size_t dl = f->len - 8;
            bool text = true;
            for (size_t i = 0; i < dl; i++)
                if (x->p[q + 8 + i] < 0x20 || x->p[q + 8 + i] > 0x7e)
                    text = false;
            if (text)
                explain_add(x->e, q + 8, dl, 1, SPAN_FRAME, "h2", _("debug data \"%.*s\"%s"),
                            (int)(dl > 80 ? 80 : dl), (const char *)x->p + q + 8,
                            dl > 80 ? "..." : "");
            else
                explain_add(x->e, q + 8, dl, 1, SPAN_FRAME, "h2", _("%zu bytes of debug data"), dl);
        }
        explain_retitle(x->e, box, _("GOAWAY frame: the sender closes the connection, %s"),
                        h2explain_error_code(c));
        break;
    }
    case F_WINDOW_UPDATE: {
        if (f->len != 4) {
            h2x_fail_rest(x, f, q, "%s", _("a WINDOW_UPDATE payload is exactly 4 bytes"));
            return;
        }
        uint32_t inc = be32(x->p + q) & 0x7fffffff;
        explain_hex(hx, sizeof hx, x->p + q, 4, SIZE_MAX, 0);
        const char *more = explain_first_time(&x->told, TOLD_WINDOW)
                               ? _(" (flow control: a receiver grants room as it consumes data, "
                                   "and each side starts with 65535 bytes)") : "";
        int i = explain_add(x->e, q, 4, 1, SPAN_FRAME, "h2",
                            f->sid ? _("window increment %s = %" PRIu32 ": the peer may send %"
                                       PRIu32 " more bytes of DATA on this stream%s")
                                   : _("window increment %s = %" PRIu32 ": the peer may send %"
                                       PRIu32 " more bytes of DATA on the connection as a "
                                       "whole%s"), hx, inc, inc, more);
        if (inc == 0 && i >= 0) {
            x->e->spans[i].cls = SPAN_ERROR;
            explain_retitle(x->e, i, "%s", _("window increment 0: not allowed (a PROTOCOL_ERROR)"));
            x->failed = true;
        }
        explain_retitle(x->e, box, f->sid ? _("WINDOW_UPDATE frame, one stream: %" PRIu32
                                              " more bytes")
                                          : _("WINDOW_UPDATE frame, the connection: %" PRIu32
                                              " more bytes"), inc);
        break;
    }
    case F_CONTINUATION:
        h2x_fail_rest(x, f, q, "%s", _("a CONTINUATION frame must follow a HEADERS frame "
                                       "without END_HEADERS"));
        return;
    default:
        if (f->len)
            explain_add(x->e, q, f->len, 1, SPAN_FRAME, "h2", "%s", _("payload of a frame type "
                        "this explainer does not know; receivers ignore it"));
        break;
    }
}

/* ---- the stream ---- */

/* Explains the frame (or header block) f begins; returns where the next one begins. */
static size_t step(h2x *x, const fh *f)
{
    switch (f->type) {
    case F_DATA: h2x_data_frame(x, f); break;
    case F_HEADERS:
    case F_PUSH_PROMISE:
        if (f->sid == 0) {
            h2x_frame_open(x, f, true);
            h2x_fail_rest(x, f, f->off + 9, _("%s must belong to a stream, not stream 0"),
                          h2explain_frame_type(f->type));
            return x->n;
        }
        return h2x_header_group(x, f);
    case F_SETTINGS: settings_frame(x, f); break;
    default: control_frame(x, f); break;
    }
    return f->off + 9 + f->len;
}

/* Explains what comes before the first frame: the client's preface, or the rest of a
 * frame a capture caught mid-way. Returns where the frames begin, or SIZE_MAX when
 * nothing more is explained. */
static size_t head(h2x *x)
{
    if (x->midway) {
        size_t off = x->start < x->n ? x->start : x->n;
        if (off)
            explain_add(x->e, 0, off, 0, SPAN_ERROR, "h2", "%s", _("the rest of a frame that "
                        "began before the capture did: its header was not captured, so these "
                        "bytes cannot be read"));
        return off;
    }
    if (x->server)
        return 0;
    size_t k = x->n < PREFACE_LEN ? x->n : PREFACE_LEN;
    if (memcmp(x->p, PREFACE, k) != 0) {
        explain_add(x->e, 0, x->n, 0, SPAN_ERROR, "h2", _("not the HTTP/2 client connection "
                    "preface \"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\" a client must send "
                    "first%s"), x->n && x->p[0] >= 'A' && x->p[0] <= 'Z'
                    ? _(" (this looks like HTTP/1 text)") : "");
        x->failed = x->stop = true;
        return SIZE_MAX;
    }
    if (k < PREFACE_LEN) {
        h2x_incomplete(x, 0, 0, _("inside the 24-byte client connection preface"));
        return SIZE_MAX;
    }
    explain_add(x->e, 0, PREFACE_LEN, 0, SPAN_FRAME, "h2", "%s", _("client connection "
                "preface \"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\": 24 fixed bytes that say "
                "the client speaks HTTP/2 (an HTTP/1 server would reject them as a bad "
                "request); the client's SETTINGS frame follows"));
    return PREFACE_LEN;
}

static int run(h2x *x)
{
    size_t off = head(x);
    if (off == SIZE_MAX)
        return x->failed ? -1 : 0;
    while (off < x->n && !x->stop) {
        fh f;
        if (x->n - off < 9) {
            h2x_incomplete(x, off, 0, _("inside a 9-byte frame header"));
            break;
        }
        if (!h2x_frame_at(x->p, x->n, off, &f)) {
            h2x_frame_open(x, &f, false);
            h2x_incomplete(x, off + 9, 1, _("before the end of this frame's payload"));
            break;
        }
        off = step(x, &f);
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
    h2x_streams_free(x);
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

static int exchange(const uint8_t *c2s, size_t cn, size_t c_at, const uint8_t *s2c, size_t sn,
                    size_t s_at, bool midway, explain *client_e, explain *server_e)
{
    h2x c, s;
    h2x_init(&c, c2s, cn, false, NULL, client_e);
    c.midway = c.hp.midway = midway;
    c.start = c_at;
    int r1 = run(&c);
    h2x_init(&s, s2c, sn, true, NULL, server_e);
    s.midway = s.hp.midway = midway;
    s.start = s_at;
    s.peer = &c;
    int r2 = run(&s);
    h2x_done(&s);
    h2x_done(&c);
    return r1 < 0 || r2 < 0 ? -1 : 0;
}

int h2explain_exchange(const uint8_t *c2s, size_t cn, const uint8_t *s2c, size_t sn,
                       explain *client_e, explain *server_e)
{
    return exchange(c2s, cn, 0, s2c, sn, 0, false, client_e, server_e);
}

int h2explain_exchange_midway(const uint8_t *c2s, size_t cn, size_t c_at, const uint8_t *s2c,
                              size_t sn, size_t s_at, explain *client_e, explain *server_e)
{
    return exchange(c2s, cn, c_at, s2c, sn, s_at, true, client_e, server_e);
}

/* ---- kept between calls ---- */

/* Frames explained by an h2explainer: where each began, its first span, and the end of the
 * farthest frame any frame up to it read. */
typedef struct h2step {
    size_t off, span, reach;
    size_t lo, hi; /* its spans are those of exchanges whose client bytes end in [lo, hi) */
} h2step;

struct h2explainer {
    h2x x;
    explain win;       /* the spans of the frames from steps[0] on */
    size_t sbase;      /* spans dropped before win's first */
    h2step *steps;
    size_t nsteps, csteps;
    size_t pos, reach; /* where the next frame begins; the farthest end read so far */
    bool begun, dead;
};

/* Spans of the frames this far behind the latest are forgotten. */
#define KEPT_WINDOW (64u << 10)

h2explainer *h2explainer_new(bool from_server, bool midway, size_t start, h2explainer *client)
{
    h2explainer *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    explain_init(&k->win);
    k->win.max = SIZE_MAX;
    h2x_init(&k->x, NULL, 0, from_server, NULL, &k->win);
    k->x.midway = k->x.hp.midway = midway;
    k->x.start = start;
    k->x.peer = client ? &client->x : NULL;
    k->x.kept = true;
    k->x.hhi = SIZE_MAX;
    return k;
}

void h2explainer_free(h2explainer *k)
{
    if (!k)
        return;
    h2x_done(&k->x);
    explain_done(&k->win);
    free(k->steps);
    free(k);
}

static bool step_add(h2explainer *k, size_t off)
{
    if (k->nsteps == k->csteps) {
        size_t nc = k->csteps ? 2 * k->csteps : 64;
        h2step *ns = realloc(k->steps, nc * sizeof *ns);
        if (!ns)
            return false;
        k->steps = ns;
        k->csteps = nc;
    }
    k->steps[k->nsteps++] = (h2step){off, k->sbase + k->win.len, 0, 0, SIZE_MAX};
    return true;
}

static int cmp_off_step(const void *key, const void *elem)
{
    size_t off = *(const size_t *)key, at = ((const h2step *)elem)->off;
    return off < at ? -1 : off > at;
}

/* The first step that begins at off or later. */
static size_t step_find(const h2explainer *k, size_t off)
{
    return sorted_first(k->steps, k->nsteps, sizeof *k->steps, &off, cmp_off_step);
}

/* Forgets the steps and spans more than KEPT_WINDOW bytes behind, now and then. */
static void trim(h2explainer *k)
{
    if (!k->nsteps || k->pos < 2 * KEPT_WINDOW || k->steps[0].off + 2 * KEPT_WINDOW > k->pos)
        return;
    size_t i = step_find(k, k->pos - KEPT_WINDOW);
    if (i == 0 || i >= k->nsteps)
        return;
    explain_drop_front(&k->win, k->steps[i].span - k->sbase);
    k->sbase = k->steps[i].span;
    memmove(k->steps, k->steps + i, (k->nsteps - i) * sizeof *k->steps);
    k->nsteps -= i;
}

/* Whether frame f reads nothing past its own end (nor makes an error of it, as far as its
 * header tells). */
static bool self_contained(const h2x *x, const fh *f)
{
    switch (f->type) {
    case F_HEADERS:
    case F_PUSH_PROMISE:
        return f->sid && (f->flags & FL_END_HEADERS);
    case F_DATA: {
        size_t a, b;
        if (!f->sid || !h2x_data_bounds(x->p, f, &a, &b))
            return false;
        if (f->flags & FL_END_STREAM)
            return true;
        const h2stream *s = h2x_stream_find(x, f->sid);
        size_t pos = a;
        if (s && s->in_msg) {
            size_t left = s->msg.total - s->msg.done;
            if (left >= b - a)
                return true;
            pos += left;
        }
        while (pos < b) {
            if (b - pos < 5 || be32(x->p + pos + 1) > b - pos - 5)
                return false;
            pos += 5 + (size_t)be32(x->p + pos + 1);
        }
        return true;
    }
    case F_SETTINGS:
        return !f->sid && f->len % 6 == 0 && (!(f->flags & FL_ACK) || !f->len);
    case F_PING:
        return !f->sid && f->len == 8;
    case F_WINDOW_UPDATE:
    case F_RST_STREAM:
        return f->len == 4 && (f->type == F_WINDOW_UPDATE || f->sid);
    default:
        return false;
    }
}

bool h2explainer_feed(h2explainer *k, const uint8_t *p, size_t n, size_t end, bool ahead)
{
    h2x *x = &k->x;
    if (k->dead)
        return false;
    x->p = p;
    x->n = n;
    if (!k->begun) {
        if (n < (x->midway ? x->start : x->server ? 0 : PREFACE_LEN) || !step_add(k, 0))
            return true; /* more bytes may come */
        k->pos = k->reach = head(x);
        k->begun = true;
        if (k->pos == SIZE_MAX) {
            k->dead = true;
            return false;
        }
        k->steps[0].reach = k->pos;
    }
    for (;;) {
        fh f;
        if (!h2x_frame_at(p, n, k->pos, &f) ||
            (k->pos >= end && !(ahead && self_contained(x, &f))) || !step_add(k, k->pos))
            break;
        x->reach = 0;
        x->slo = 0;
        x->shi = SIZE_MAX;
        size_t next = step(x, &f);
        k->steps[k->nsteps - 1].lo = x->slo;
        k->steps[k->nsteps - 1].hi = x->shi;
        if (x->stop || x->cut || k->win.drop.count) {
            k->dead = true;
            return false;
        }
        if (next > k->reach)
            k->reach = next;
        if (x->reach > k->reach)
            k->reach = x->reach;
        k->steps[k->nsteps - 1].reach = k->reach;
        k->pos = next;
    }
    trim(k);
    return true;
}

bool h2explainer_horizon(h2explainer *k, size_t h)
{
    h2x *x = &k->x;
    if (k->dead || h < x->hlo || h >= x->hhi)
        return false;
    for (size_t i = 0; i < x->npending;) {
        const h2stream *ps = x->peer ? h2x_stream_find(x->peer, x->pending[i]) : NULL;
        if (!ps || !ps->path) {
            i++;
            continue;
        }
        if (ps->m && ps->path_at <= h)
            return false;
        if (ps->m && ps->path_at < x->hhi)
            x->hhi = ps->path_at;
        x->pending[i] = x->pending[--x->npending];
    }
    x->horizon = h;
    return true;
}

bool h2explainer_spans(const h2explainer *k, size_t lo, size_t hi, explain *out)
{
    if (lo == hi)
        return true; /* no span lies in no bytes */
    if (k->dead || !k->begun || lo > hi || hi > k->pos)
        return false;
    size_t a = step_find(k, lo), b = step_find(k, hi);
    if (a >= k->nsteps || k->steps[a].off != lo)
        return false;
    if (b < k->nsteps ? k->steps[b].off != hi : hi != k->pos)
        return false;
    if (b > a && k->steps[b - 1].reach > hi)
        return false; /* a frame read past hi: explained up to hi, it reads otherwise */
    for (size_t i = a; i < b; i++)
        if (k->x.horizon < k->steps[i].lo || k->x.horizon >= k->steps[i].hi)
            return false; /* a message read with a method this call's client bytes lack */
    size_t s0 = k->steps[a].span, s1 = b < k->nsteps ? k->steps[b].span : k->sbase + k->win.len;
    if (s0 >= EXPLAIN_MAX_SPANS)
        return true; /* explained from the first byte, these spans are only counted */
    if (s1 > EXPLAIN_MAX_SPANS)
        return false;
    int mind = -1;
    for (size_t i = s0 - k->sbase; i < s1 - k->sbase; i++) {
        const span *s = &k->win.spans[i];
        if (s->off >= lo && s->off + s->len <= hi && (mind < 0 || s->depth < mind))
            mind = s->depth;
    }
    for (size_t i = s0 - k->sbase; i < s1 - k->sbase; i++) {
        const span *s = &k->win.spans[i];
        if (s->off >= lo && s->off + s->len <= hi && s->len)
            explain_add(out, s->off - lo, s->len, s->depth - mind, s->cls, s->layer, "%s",
                        s->meaning);
    }
    return true;
}
