/* sniff_gob.c -- Go's net/rpc over gob, sniffed: each direction split into gob messages,
 * headers paired by Seq, arguments and replies decoded with the types the stream defined.
 *
 * Caught mid-way, the type definitions went by before the capture began (gob sends each
 * type once per connection). Message boundaries are found by their shape, a header is
 * recognised by net/rpc's (a string, then an unsigned integer, then for a Response a
 * string), and a value of a type never defined in the capture is shown as far as the
 * bytes alone tell, labelled as a guess. A type defined later decodes from then on. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "capture/sniff_int.h"
#include "wire/gob.h"

#define GOB_USER_ID 64   /* ids below belong to gob itself */
#define GOB_ID_SPAN 4096 /* a mid-way boundary's type id is below 64 + this */

/* ---- the wire, without types ---- */

/* A gob unsigned integer at p[0..n): its bytes (> 0), 0 when cut short, -1 malformed. */
static int guint(const uint8_t *p, size_t n, uint64_t *v)
{
    if (n == 0)
        return 0;
    if (p[0] < 0x80) {
        *v = p[0];
        return 1;
    }
    size_t k = 256u - p[0];
    if (k > 8)
        return -1;
    if (n - 1 < k)
        return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < k; i++)
        x = x << 8 | p[1 + i];
    *v = x;
    return (int)k + 1;
}

static int64_t unzig(uint64_t x) { return x & 1 ? ~(int64_t)(x >> 1) : (int64_t)(x >> 1); }

/* The message at p[0..n): 1 with its prefix size and length, 0 when not all here, -1 when
 * not a message. */
static int gframe(const uint8_t *p, size_t n, size_t max, size_t *hdr, size_t *len)
{
    uint64_t v;
    int k = guint(p, n, &v);
    if (k <= 0)
        return k;
    if (v == 0 || v > max)
        return -1;
    *hdr = (size_t)k;
    *len = (size_t)v;
    return n - (size_t)k >= v ? 1 : 0;
}

/* Whether message body m[0..len) looks like one a mid-way boundary may start at: a type
 * id from the user range, and a value that ends a struct or starts a singleton, or a
 * singleton of one of gob's basic types (bool to interface). Sets *id. */
static bool plausible(const uint8_t *m, size_t len, int64_t *id)
{
    uint64_t x;
    int k = guint(m, len, &x);
    if (k <= 0 || (size_t)k >= len)
        return false;
    *id = unzig(x);
    if (*id > 0 && *id <= 8) /* a value of one of gob's own types: a singleton */
        return m[k] == 0;
    int64_t a = *id < 0 ? -*id : *id;
    if (a < GOB_USER_ID || a >= GOB_USER_ID + GOB_ID_SPAN)
        return false;
    return m[len - 1] == 0 || m[k] == 0;
}

long sniff_gob_sync(const uint8_t *p, size_t n, size_t max_message)
{
    bool more = false;
    size_t scan = n < (64u << 10) ? n : (64u << 10);
    for (size_t i = 0; i < scan; i++) {
        size_t at = i;
        int got = 0;
        for (;;) {
            size_t hdr, len;
            int64_t id;
            int r = gframe(p + at, n - at, max_message, &hdr, &len);
            if (r < 0 || (r == 1 && !plausible(p + at + hdr, len, &id)))
                break;
            if (r == 0) {
                more = more || got >= 1 || at == i;
                break;
            }
            at += hdr + len;
            if (++got >= 2 || (got >= 1 && at == n && i == 0))
                return (long)i;
        }
    }
    return more ? -1 : -2;
}

/* A string of printable text at p: its bytes (length prefix included), or 0. */
static size_t text_at(const uint8_t *p, size_t n, size_t *off, size_t *len)
{
    uint64_t l;
    int k = guint(p, n, &l);
    if (k <= 0 || l > n - (size_t)k)
        return 0;
    for (size_t i = 0; i < l; i++)
        if (p[k + i] < 0x20 || p[k + i] == 0x7f)
            return 0;
    *off = (size_t)k;
    *len = (size_t)l;
    return (size_t)k + (size_t)l;
}

bool sniff_gob_header_shape(const uint8_t *p, size_t n, bool response, char *method,
                            size_t mcap, uint64_t *seq, char *error, size_t ecap, bool *has_error)
{
    size_t at = 0, so, sl;
    int field = -1;
    *seq = 0;
    *has_error = false;
    if (ecap)
        error[0] = '\0';
    bool named = false;
    for (;;) {
        uint64_t delta;
        int k = guint(p + at, n - at, &delta);
        if (k <= 0)
            return false;
        at += (size_t)k;
        if (delta == 0)
            return at == n && named;
        if (delta > 3 || field + (int)delta > (response ? 2 : 1))
            return false;
        field += (int)delta;
        if (field == 1) {
            if ((k = guint(p + at, n - at, seq)) <= 0)
                return false;
            at += (size_t)k;
            continue;
        }
        size_t used = text_at(p + at, n - at, &so, &sl);
        if (!used)
            return false;
        if (field == 0) {
            if (sl < 3 || !memchr(p + at + so, '.', sl))
                return false;
            snprintf(method, mcap, "%.*s", (int)sl, (const char *)p + at + so);
            named = true;
        } else {
            snprintf(error, ecap, "%.*s", (int)sl, (const char *)p + at + so);
            *has_error = true;
        }
        at += used;
    }
}

int sniff_gob_headers(const uint8_t *p, size_t n, size_t at)
{
    int seen = -1;
    for (int k = 0; k < 8 && at < n; k++) {
        size_t hdr, len;
        uint64_t x;
        if (gframe(p + at, n - at, 4u << 20, &hdr, &len) != 1)
            break;
        const uint8_t *m = p + at + hdr;
        int il = guint(m, len, &x);
        char meth[128], err[128];
        uint64_t seq;
        bool has_err;
        if (il > 0 && (size_t)il < len && unzig(x) > 0 &&
            sniff_gob_header_shape(m + il, len - (size_t)il, true, meth, sizeof meth, &seq, err,
                                   sizeof err, &has_err)) {
            if (has_err)
                return 1;
            seen = 0;
        }
        at += hdr + len;
    }
    return seen;
}

/* The value message m[0..len) (its type id first) as the bytes alone tell, one line. */
static char *guess_value(const uint8_t *m, size_t len)
{
    buf b;
    buf_init(&b, SNIFF_TEXT_MAX + 64);
    uint64_t x;
    size_t at = (size_t)guint(m, len, &x);
    bool single = at < len && m[at] == 0;
    buf_puts(&b, single ? "" : "{");
    int field = -1, shown = 0;
    while (at < len) {
        uint64_t d, v;
        int k = guint(m + at, len - at, &d);
        if (k <= 0)
            break;
        at += (size_t)k;
        if (d == 0 && !single)
            break;
        field += (int)d;
        size_t so, sl, used = text_at(m + at, len - at, &so, &sl);
        if (shown++)
            buf_puts(&b, ", ");
        if (!single)
            buf_printf(&b, "#%d: ", field);
        if (used && sl > 0) {
            buf_printf(&b, "\"%.*s\"", (int)(sl > 200 ? 200 : sl), (const char *)m + at + so);
            at += used;
        } else if ((k = guint(m + at, len - at, &v)) > 0) {
            buf_printf(&b, "%" PRIu64 " (int %" PRId64 "?)", v, unzig(v));
            at += (size_t)k;
        } else
            break;
        if (single)
            break;
    }
    if (at < len && len - at > (single ? 0u : 1u)) {
        char hx[120];
        explain_hex(hx, sizeof hx, m + at, len - at, 16, 0);
        buf_printf(&b, "%sbytes %s", shown ? ", " : "", hx);
    }
    buf_puts(&b, single ? "" : "}");
    return sniff_cut(buf_take(&b));
}

/* ---- one direction ---- */

typedef struct gdir {
    gob_dec *dec;
    bool synced;        /* in starts at a message boundary */
    int64_t hdr_id;     /* the headers' type id; 0 until one is seen */
    int64_t *known;     /* type ids defined in the capture */
    size_t nknown;
    bool have_hdr;      /* a header was read; its body comes next */
    char method[256], error[512];
    bool has_error, hdr_guessed;
    uint64_t seq;
    uint64_t call_off;  /* where the call's first message (or definition) began */
    bool call_open;
    int64_t told[16];   /* types whose missing definition a note has told of */
    size_t ntold;
} gdir;

typedef struct gconn {
    gdir d[2];
    bool hdr_told;      /* a note has told the headers were read from their shape */
} gconn;

/* Whether the note that type id's definition is missing is still to be told (once per
 * type and direction; past 16 types, every time). */
static bool tell_type(gdir *g, int64_t id)
{
    for (size_t i = 0; i < g->ntold; i++)
        if (g->told[i] == id)
            return false;
    if (g->ntold < sizeof g->told / sizeof g->told[0])
        g->told[g->ntold++] = id;
    return true;
}

static bool is_known(const gdir *g, int64_t id)
{
    if (id < GOB_USER_ID)
        return true;
    for (size_t i = 0; i < g->nknown; i++)
        if (g->known[i] == id)
            return true;
    return false;
}

static void define(gdir *g, const uint8_t *msg, size_t n, int64_t id)
{
    size_t used;
    value *v = NULL;
    char err[256];
    if (gob_decode(g->dec, msg, n, &used, &v, NULL, err, sizeof err) != GOB_MORE || used != n) {
        value_free(v);
        return;
    }
    int64_t *k = realloc(g->known, (g->nknown + 1) * sizeof *k);
    if (!k)
        return;
    g->known = k;
    g->known[g->nknown++] = -id;
}

/* The header at msg[0..n) (framed) with payload pl[0..pn) after its type id: true when it
 * is one, with g's header fields filled. */
static bool read_header(sniff_conn *c, int dir, gdir *g, const uint8_t *msg, size_t n,
                        const uint8_t *pl, size_t pn, int64_t id)
{
    (void)c;
    bool resp = dir == SNIFF_S2C;
    if (is_known(g, id)) {
        size_t used;
        value *v = NULL;
        const vtype *t;
        int r = gob_decode(g->dec, msg, n, &used, &v, &t, NULL, 0);
        const value *m = r == GOB_VALUE ? value_get(v, "ServiceMethod") : NULL;
        if (!m || m->kind != V_STRING || (v->kind == V_STRUCT && v->u.st.len > 3)) {
            value_free(v);
            return false;
        }
        const value *s = value_get(v, "Seq"), *e = value_get(v, "Error");
        snprintf(g->method, sizeof g->method, "%s", m->u.s.p);
        g->seq = s && s->kind == V_UINT ? s->u.u : s && s->kind == V_INT ? (uint64_t)s->u.i : 0;
        g->has_error = e && e->kind == V_STRING && e->u.s.len;
        snprintf(g->error, sizeof g->error, "%s", g->has_error ? e->u.s.p : "");
        g->hdr_guessed = false;
        value_free(v);
    } else {
        if (!sniff_gob_header_shape(pl, pn, resp, g->method, sizeof g->method, &g->seq,
                                    g->error, sizeof g->error, &g->has_error))
            return false;
        g->hdr_guessed = true;
    }
    g->hdr_id = id;
    g->have_hdr = true;
    return true;
}

/* The body at msg[0..n): its text (caller frees) and what could not be read in *note. */
static char *read_body(gdir *g, bool reply, const uint8_t *msg, size_t n, int64_t id,
                       const uint8_t *m, size_t mlen, char **note)
{
    if (!is_known(g, id)) {
        if (!tell_type(g, id))
            return guess_value(m, mlen);
        *note = sniff_strf(reply ? _("the reply is of type %" PRId64 ", whose definition was "
                                     "sent before the capture began: its fields cannot be named, "
                                     "and what is shown is a guess from the bytes alone (#field: "
                                     "number or text)")
                                 : _("the argument is of type %" PRId64 ", whose definition was "
                                     "sent before the capture began: its fields cannot be named, "
                                     "and what is shown is a guess from the bytes alone (#field: "
                                     "number or text)"), id);
        return guess_value(m, mlen);
    }
    size_t used;
    value *v = NULL;
    char err[300] = "";
    int r = gob_decode(g->dec, msg, n, &used, &v, NULL, err, sizeof err);
    if (r != GOB_VALUE) {
        *note = sniff_strf(_("the value of type %" PRId64 " could not be decoded: %s"), id, err);
        return guess_value(m, mlen);
    }
    v = gob_nil_empty(v);
    char *t = sniff_json_text(v);
    value_free(v);
    return t;
}

static void finish_call(sniff_conn *c, int dir, gdir *g, char *body, char *note, uint64_t end)
{
    gconn *gc = c->dec;
    bool tell = g->hdr_guessed && !gc->hdr_told;
    gc->hdr_told = gc->hdr_told || tell;
    char *hnote = tell ? strdup(_("the net/rpc headers' types were defined before the "
                                  "capture began: the method and seq were read from their "
                                  "shape"))
                       : NULL;
    char key[32];
    snprintf(key, sizeof key, "%" PRIu64, g->seq);
    if (dir == SNIFF_C2S) {
        sniff_req r = {.key = strdup(key), .method = strdup(g->method), .args = body,
                       .note = sniff_join(hnote, note), .off = g->call_off, .end = end,
                       .have_bytes = true};
        r.start_us = sniff_dir_time(c, dir, g->call_off);
        sniff_wait_add(c, &r);
    } else {
        sniff_req q;
        bool found = sniff_wait_take(c, key, &q);
        if (!found) {
            memset(&q, 0, sizeof q);
            q.method = strdup(g->method);
            q.start_us = sniff_dir_time(c, dir, g->call_off);
            q.note = strdup(c->mid_stream ? _("the request went by before the capture began")
                                          : _("no request with this seq was seen"));
        }
        char *rn = sniff_join(hnote, g->has_error ? NULL : note);
        sniff_rep rep = {.result = g->has_error ? NULL : body,
                         .error = g->has_error ? g->error : NULL,
                         .status = g->has_error ? "error" : "ok", .note = rn,
                         .end_us = sniff_dir_time(c, dir, end - 1), .off = g->call_off, .end = end};
        sniff_emit(c, &q, &rep);
        sniff_req_done(&q);
        free(rn);
        free(body);
    }
    free(note);
    free(hnote);
    g->have_hdr = false;
    g->call_open = false;
}

/* One whole message m (framed: hdr + len bytes) at stream offset off. */
static void message(sniff_conn *c, int dir, gdir *g, const uint8_t *m, size_t hdr, size_t len,
                    uint64_t off)
{
    uint64_t x;
    int k = guint(m + hdr, len, &x);
    if (k <= 0)
        return;
    int64_t id = unzig(x);
    if (!g->call_open) {
        g->call_open = true;
        g->call_off = off;
    }
    if (id < 0) {
        define(g, m, hdr + len, id);
        return;
    }
    const uint8_t *pl = m + hdr + k;
    size_t pn = len - (size_t)k;
    if (!g->have_hdr || id == g->hdr_id) {
        if (g->have_hdr) /* a header again: the body before it never came */
            g->call_off = off;
        if (!read_header(c, dir, g, m, hdr + len, pl, pn, id))
            g->call_open = false; /* a body whose header went by before the capture */
        return;
    }
    char *note = NULL;
    char *body = read_body(g, dir == SNIFF_S2C, m, hdr + len, id, m + hdr, len, &note);
    finish_call(c, dir, g, body, note, off + hdr + len);
}

static void gob_feed(sniff_conn *c, int dir)
{
    gconn *gc = c->dec;
    gdir *g = &gc->d[dir];
    sniff_dir *d = &c->d[dir];
    size_t mm = sniff_max_message(c);
    for (;;) {
        const uint8_t *p = buf_data(&d->in);
        size_t n = buf_size(&d->in);
        if (n == 0)
            return;
        if (!g->synced) {
            long at = sniff_gob_sync(p, n, mm);
            if (at < 0) {
                if (at == -2 && n > mm)
                    sniff_dir_consume(c, dir, n - 16);
                return;
            }
            sniff_dir_consume(c, dir, (size_t)at);
            g->synced = true;
            continue;
        }
        size_t hdr, len;
        int r = gframe(p, n, mm, &hdr, &len);
        if (r == 0)
            return;
        if (r < 0) {
            g->synced = false;
            g->have_hdr = g->call_open = false;
            sniff_dir_consume(c, dir, 1);
            continue;
        }
        message(c, dir, g, p, hdr, len, d->at);
        sniff_dir_consume(c, dir, hdr + len);
    }
}

static int gob_open(sniff_conn *c)
{
    gconn *gc = calloc(1, sizeof *gc);
    if (!gc)
        return -1;
    for (int i = 0; i < 2; i++) {
        gc->d[i].dec = gob_dec_new(sniff_max_message(c));
        gc->d[i].synced = !c->mid_stream;
        if (!gc->d[i].dec) {
            gob_dec_free(gc->d[0].dec);
            free(gc);
            return -1;
        }
    }
    c->dec = gc;
    return 0;
}

static void gob_gap(sniff_conn *c, int dir)
{
    gdir *g = &((gconn *)c->dec)->d[dir];
    g->synced = false;
    g->have_hdr = g->call_open = false;
}

static void gob_finish(sniff_conn *c, int64_t now_us)
{
    (void)c;
    (void)now_us;
}

static void gob_done(sniff_conn *c)
{
    gconn *gc = c->dec;
    if (!gc)
        return;
    for (int i = 0; i < 2; i++) {
        gob_dec_free(gc->d[i].dec);
        free(gc->d[i].known);
    }
    free(gc);
    c->dec = NULL;
}

const sniff_ops sniff_gob_ops = {gob_open, gob_feed, gob_gap, gob_finish, gob_done};
