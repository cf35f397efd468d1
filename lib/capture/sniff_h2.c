/* sniff_h2.c -- gRPC over cleartext HTTP/2 sniffed: frames per direction, HPACK per
 * direction (wire/hpack), streams by id: the method from :path, request and response
 * messages (gunzipped when compressed), grpc-status and grpc-message from the trailers,
 * RST_STREAM. Caught mid-way, a direction starts at the first run of plausible frame
 * headers, and header fields that point into the part of HPACK's dynamic table built
 * before the capture began cannot be read: the call says which. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "capture/sniff_int.h"
#include "wire/catalog.h"
#include "wire/grpc_status.h"
#include "wire/gunzip.h"
#include "wire/h2explain.h"
#include "wire/hpack.h"
#include "wire/pbcatalog.h"

enum { F_DATA, F_HEADERS, F_PRIORITY, F_RST_STREAM, F_SETTINGS, F_PUSH_PROMISE, F_PING,
       F_GOAWAY, F_WINDOW_UPDATE, F_CONTINUATION };
enum { FL_END_STREAM = 0x1, FL_END_HEADERS = 0x4, FL_PADDED = 0x8, FL_PRIORITY = 0x20 };

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define MAX_FRAME (1u << 24)
#define MAX_BLOCK (256u << 10) /* a header block, CONTINUATIONs joined */
#define UNREAD_MAX 8           /* dynamic table indexes named in a note */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- mid-way: frame boundaries ---- */

/* Whether the 9 bytes at p are a frame header HTTP/2 allows; *len gets its length. */
static bool plausible(const uint8_t *p, uint32_t *len)
{
    uint32_t l = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    uint8_t t = p[3], fl = p[4];
    uint32_t sid = be32(p + 5);
    static const uint8_t flags[] = {0x09, 0x2d, 0, 0, 0x01, 0x0c, 0x01, 0, 0, 0x04};
    if (sid >> 31 || t > F_CONTINUATION || (fl & ~flags[t]) || l > MAX_FRAME - 1)
        return false;
    bool zero = t == F_SETTINGS || t == F_PING || t == F_GOAWAY;
    if (zero != (sid == 0) && t != F_WINDOW_UPDATE)
        return false;
    if ((t == F_SETTINGS && l % 6) || (t == F_PING && l != 8) || (t == F_GOAWAY && l < 8) ||
        (t == F_WINDOW_UPDATE && l != 4) || (t == F_RST_STREAM && l != 4) ||
        (t == F_PRIORITY && l != 5))
        return false;
    *len = l;
    return true;
}

long sniff_h2_sync(const uint8_t *p, size_t n)
{
    bool more = false;
    size_t scan = n < (64u << 10) ? n : (64u << 10);
    for (size_t i = 0; i < scan; i++) {
        size_t at = i;
        int got = 0;
        uint32_t len;
        while (n - at >= 9 && plausible(p + at, &len)) {
            if (n - at - 9 < len) {
                more = more || i == 0 || got > 0;
                break;
            }
            at += 9 + len;
            if (++got >= 3 || (at == n && (got >= 2 || i == 0)))
                return (long)i;
        }
        if (n - at < 9 && got > 0)
            more = true;
    }
    return more ? -1 : -2;
}

/* ---- streams ---- */

typedef struct h2call {
    uint32_t sid;
    char *path;
    const pb_method *m;
    bool hdrs[2];         /* the direction's first header block was seen */
    buf data[2];          /* gRPC message bytes not yet whole */
    buf text[2];          /* the messages' texts */
    unsigned nmsg[2];
    bool partial[2];      /* a message began before the capture did */
    uint64_t unread[2][UNREAD_MAX];
    unsigned nunread[2];
    char *note;
    bool have_status;
    int code;
    char *gmsg;
    char http_status[8];
    int64_t start_us;
    uint64_t off[2], end[2];
    bool seen[2];
} h2call;

typedef struct h2dir {
    hpack_dec hp;
    bool synced;
    size_t preface;       /* bytes of the client preface still to come */
    buf block;            /* a header block whose END_HEADERS has not come */
    uint32_t block_sid;
    bool in_block, block_es;
} h2dir;

typedef struct h2conn {
    h2dir d[2];
    h2call *calls;
    size_t n, cap;
} h2conn;

static void add_note(h2call *k, const char *t)
{
    if (!t || (k->note && strstr(k->note, t)))
        return;
    char *j = sniff_join(k->note, t);
    free(k->note);
    k->note = j;
}

static void call_end(sniff_conn *c, h2call *k, const char *status, const char *error, bool done,
                     int64_t end_us);

static h2call *call_get(sniff_conn *c, uint32_t sid, bool make)
{
    h2conn *h = c->dec;
    for (size_t i = 0; i < h->n; i++)
        if (h->calls[i].sid == sid)
            return &h->calls[i];
    if (!make)
        return NULL;
    if (h->n == SNIFF_MAX_WAITING) {
        add_note(&h->calls[0], _("more calls waited for their replies than the sniffer "
                                 "follows (1024)"));
        call_end(c, &h->calls[0], NULL, NULL, false, 0);
    }
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 8;
        h2call *k = realloc(h->calls, nc * sizeof *k);
        if (!k)
            return NULL;
        h->calls = k;
        h->cap = nc;
    }
    h2call *k = &h->calls[h->n++];
    memset(k, 0, sizeof *k);
    k->sid = sid;
    for (int i = 0; i < 2; i++) {
        buf_init(&k->data[i], sniff_max_message(c) + 5);
        buf_init(&k->text[i], SNIFF_TEXT_MAX + 64);
    }
    return k;
}

static void call_free(h2call *k)
{
    for (int i = 0; i < 2; i++) {
        buf_done(&k->data[i]);
        buf_done(&k->text[i]);
    }
    free(k->path);
    free(k->note);
    free(k->gmsg);
}

/* What could not be read of direction dir's headers, for the note. */
static char *unread_note(const h2call *k, int dir)
{
    if (!k->nunread[dir])
        return NULL;
    char ix[96] = "";
    size_t o = 0;
    for (unsigned i = 0; i < k->nunread[dir] && i < UNREAD_MAX; i++)
        o += (size_t)snprintf(ix + o, sizeof ix - o, "%s%" PRIu64, i ? ", " : "",
                              k->unread[dir][i]);
    return sniff_strf(dir == SNIFF_C2S
                          ? _("HPACK's dynamic table was built before the capture began: request "
                              "header fields from its entries %s cannot be read%s")
                          : _("HPACK's dynamic table was built before the capture began: response "
                              "header fields from its entries %s cannot be read%s"),
                      ix, dir == SNIFF_C2S && !k->path ? _(", the method among them") : "");
}

/* Hands call k over (its reply complete, or not when done is false) and drops it. */
static void call_end(sniff_conn *c, h2call *k, const char *status, const char *error, bool done,
                     int64_t end_us)
{
    for (int i = 0; i < 2; i++) {
        char *u = unread_note(k, i);
        add_note(k, u);
        free(u);
        if (buf_size(&k->data[i]))
            add_note(k, i == SNIFF_C2S ? _("the last request message never came whole")
                                       : _("the last response message never came whole"));
    }
    if (!k->hdrs[SNIFF_C2S] && c->mid_stream)
        add_note(k, _("the request's headers went by before the capture began"));
    char *args = buf_size(&k->text[0]) ? sniff_cut(strndup((char *)buf_data(&k->text[0]),
                                                          buf_size(&k->text[0]))) : NULL;
    char *res = buf_size(&k->text[1]) ? sniff_cut(strndup((char *)buf_data(&k->text[1]),
                                                         buf_size(&k->text[1]))) : NULL;
    sniff_req r = {.method = k->path, .args = args, .note = k->note, .start_us = k->start_us,
                   .off = k->off[0], .end = k->end[0], .have_bytes = k->seen[0]};
    if (!k->seen[0])
        r.start_us = sniff_dir_time(c, SNIFF_S2C, k->off[1]);
    sniff_rep rep = {.result = res, .error = error, .status = status, .end_us = end_us,
                     .off = k->off[1], .end = k->seen[1] ? k->end[1] : k->off[1]};
    sniff_emit(c, &r, done || k->seen[1] ? &rep : NULL);
    free(args);
    free(res);
    call_free(k);
    h2conn *h = c->dec;
    size_t i = (size_t)(k - h->calls);
    memmove(h->calls + i, h->calls + i + 1, (h->n - i - 1) * sizeof *h->calls);
    h->n--;
}

/* The call's status from its trailers. */
static void call_done(sniff_conn *c, h2call *k, int64_t end_us)
{
    char st[96];
    const char *err = NULL;
    if (k->have_status && k->code == 0)
        snprintf(st, sizeof st, "OK");
    else if (k->have_status) {
        snprintf(st, sizeof st, "%s (%d)", grpc_status_name(k->code), k->code);
        err = k->gmsg ? k->gmsg : "";
    } else if (k->http_status[0] && strcmp(k->http_status, "200")) {
        snprintf(st, sizeof st, "HTTP %s", k->http_status);
        err = st;
    } else if (k->nunread[SNIFF_S2C])
        snprintf(st, sizeof st, "%s", _("unknown: the header fields that carry it could not be "
                                        "read"));
    else
        snprintf(st, sizeof st, "%s", _("ended without grpc-status"));
    call_end(c, k, st, err, true, end_us);
}

/* ---- messages ---- */

static void messages(sniff_conn *c, h2call *k, int dir)
{
    buf *b = &k->data[dir];
    while (buf_size(b) >= 5) {
        const uint8_t *p = buf_data(b);
        uint32_t len = be32(p + 1);
        if (p[0] > 1 || len > sniff_max_message(c)) {
            add_note(k, k->partial[dir] || !k->hdrs[dir]
                            ? _("a message began before the capture did")
                            : _("a message's 5-byte prefix makes no sense"));
            buf_clear(b);
            return;
        }
        if (buf_size(b) - 5 < len)
            return;
        buf gz;
        buf_init(&gz, sniff_max_message(c));
        const uint8_t *m = p + 5;
        size_t ml = len;
        char *note = NULL, *t = NULL, e[200];
        if (p[0] == 1 && gunzip_message(m, ml, sniff_max_message(c), &gz, e, sizeof e) != GUNZIP_OK)
            note = sniff_strf(_("a compressed message could not be inflated: %s"), e);
        else {
            if (p[0] == 1) {
                m = buf_data(&gz);
                ml = buf_size(&gz);
            }
            const ProtobufCMessageDescriptor *d = k->m ? (dir ? k->m->output : k->m->input) : NULL;
            t = sniff_pb_text(d, m, ml, &note);
            if (!d && k->path)
                add_note(k, _("the method is not one the workbench knows: messages are shown by "
                              "field number, their types guessed from the wire"));
        }
        add_note(k, note);
        free(note);
        if (t) {
            if (k->nmsg[dir]++)
                buf_putc(&k->text[dir], ' ');
            buf_puts(&k->text[dir], t);
            free(t);
        }
        buf_done(&gz);
        buf_consume(b, 5 + len);
    }
}

static void data_frame(sniff_conn *c, int dir, h2call *k, const uint8_t *p, uint32_t len,
                       uint8_t flags)
{
    size_t a = 0, z = len;
    if (flags & FL_PADDED) {
        if (len < 1 || p[0] >= len)
            return;
        a = 1;
        z = len - p[0];
    }
    if (!k->hdrs[dir] && k->nmsg[dir] == 0 && buf_size(&k->data[dir]) == 0)
        k->partial[dir] = c->mid_stream;
    if (buf_append(&k->data[dir], p + a, z - a) < 0) {
        add_note(k, _("a message was larger than the sniffer decodes"));
        buf_clear(&k->data[dir]);
        return;
    }
    messages(c, k, dir);
}

/* ---- header blocks ---- */

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* "%41%42" percent-decoded, as grpc-message is sent. */
static char *pct_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    size_t j = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (s[i] == '%' && hi >= 0 && lo >= 0) {
            o[j++] = (char)(hi << 4 | lo);
            i += 2;
        } else
            o[j++] = s[i];
    }
    o[j] = '\0';
    return o;
}

static void field(h2call *k, int dir, const hpack_field *f)
{
    if (f->name_unknown || f->value_unknown) {
        if (k->nunread[dir] < UNREAD_MAX)
            k->unread[dir][k->nunread[dir]] = f->index;
        k->nunread[dir]++;
        if (f->name_unknown)
            return;
    }
    const char *n = f->name, *v = f->value;
    if (f->value_unknown || !n || !v) /* unknown, or a table size update */
        return;
    if (dir == SNIFF_C2S && !strcmp(n, ":path") && !k->path) {
        k->path = strndup(v, f->value_len);
        k->m = k->path ? catalog_find_grpc(k->path) : NULL;
    } else if (dir == SNIFF_S2C && !strcmp(n, ":status"))
        snprintf(k->http_status, sizeof k->http_status, "%s", v);
    else if (dir == SNIFF_S2C && !strcmp(n, "grpc-status")) {
        k->have_status = true;
        k->code = atoi(v);
    } else if (dir == SNIFF_S2C && !strcmp(n, "grpc-message")) {
        free(k->gmsg);
        k->gmsg = pct_decode(v, f->value_len);
    }
}

/* Decodes a whole header block of stream sid from direction dir. */
static void header_block(sniff_conn *c, int dir, uint32_t sid, const uint8_t *p, size_t n,
                         bool end_stream, uint64_t off)
{
    h2conn *h = c->dec;
    h2dir *hd = &h->d[dir];
    h2call *k = call_get(c, sid, true);
    hpack_begin_block(&hd->hp);
    for (size_t o = 0; o < n;) {
        hpack_field f;
        long r = hpack_decode_field(&hd->hp, p, n, o, &f, NULL, 0);
        if (r < 0) {
            hpack_field_done(&f);
            if (k)
                add_note(k, _("a header block did not decode: the header compression state is "
                              "lost, and later headers may be misread"));
            hd->hp.midway = true;
            break;
        }
        if (k)
            field(k, dir, &f);
        hpack_field_done(&f);
        o += (size_t)r;
    }
    if (!k)
        return;
    if (!k->hdrs[dir] && dir == SNIFF_C2S)
        k->start_us = sniff_dir_time(c, dir, off);
    k->hdrs[dir] = true;
    if (end_stream && dir == SNIFF_S2C)
        call_done(c, k, c->d[dir].last_us);
}

/* ---- frames ---- */

static void mark(h2call *k, int dir, uint64_t off, uint64_t end)
{
    if (!k->seen[dir]) {
        k->seen[dir] = true;
        k->off[dir] = off;
    }
    k->end[dir] = end;
}

static void headers_frame(sniff_conn *c, int dir, const uint8_t *p, uint32_t len, uint8_t fl,
                          uint32_t sid, uint64_t off)
{
    h2dir *hd = &((h2conn *)c->dec)->d[dir];
    size_t a = 0, z = len;
    if (fl & FL_PADDED) {
        if (len < 1 || p[0] >= len)
            return;
        a = 1;
        z = len - p[0];
    }
    if (fl & FL_PRIORITY)
        a += 5;
    if (a > z)
        return;
    h2call *k = call_get(c, sid, true);
    if (k)
        mark(k, dir, off, off + 9 + len);
    if (fl & FL_END_HEADERS) {
        header_block(c, dir, sid, p + a, z - a, fl & FL_END_STREAM, off);
        return;
    }
    buf_clear(&hd->block);
    buf_append(&hd->block, p + a, z - a);
    hd->in_block = true;
    hd->block_sid = sid;
    hd->block_es = fl & FL_END_STREAM;
}

static void frame(sniff_conn *c, int dir, const uint8_t *f, uint64_t off)
{
    h2conn *h = c->dec;
    h2dir *hd = &h->d[dir];
    uint32_t len = (uint32_t)f[0] << 16 | (uint32_t)f[1] << 8 | f[2], sid = be32(f + 5) & 0x7fffffff;
    uint8_t type = f[3], fl = f[4];
    const uint8_t *p = f + 9;
    h2call *k;
    if (hd->in_block && type != F_CONTINUATION)
        hd->in_block = false;
    switch (type) {
    case F_DATA:
        if (!sid || !(k = call_get(c, sid, true)))
            return;
        mark(k, dir, off, off + 9 + len);
        data_frame(c, dir, k, p, len, fl);
        if ((fl & FL_END_STREAM) && dir == SNIFF_S2C)
            call_done(c, k, c->d[dir].last_us);
        return;
    case F_HEADERS:
        if (sid)
            headers_frame(c, dir, p, len, fl, sid, off);
        return;
    case F_CONTINUATION:
        if (!hd->in_block || sid != hd->block_sid)
            return;
        if ((k = call_get(c, sid, false)))
            mark(k, dir, off, off + 9 + len);
        if (buf_append(&hd->block, p, len) < 0) {
            hd->in_block = false;
            hd->hp.midway = true;
            return;
        }
        if (fl & FL_END_HEADERS) {
            hd->in_block = false;
            header_block(c, dir, sid, buf_data(&hd->block), buf_size(&hd->block), hd->block_es,
                         off);
        }
        return;
    case F_RST_STREAM:
        if (len != 4 || !(k = call_get(c, sid, false)))
            return;
        mark(k, dir, off, off + 9 + len);
        {
            char st[64], er[160];
            const char *code = h2explain_error_code(be32(p));
            snprintf(st, sizeof st, "RST_STREAM %s", code);
            snprintf(er, sizeof er, dir == SNIFF_C2S ? _("the client reset the stream: %s")
                                                     : _("the server reset the stream: %s"), code);
            call_end(c, k, st, er, true, c->d[dir].last_us);
        }
        return;
    default:
        return;
    }
}

static void h2_feed(sniff_conn *c, int dir)
{
    h2conn *h = c->dec;
    h2dir *hd = &h->d[dir];
    sniff_dir *d = &c->d[dir];
    for (;;) {
        const uint8_t *p = buf_data(&d->in);
        size_t n = buf_size(&d->in);
        if (n == 0)
            return;
        if (hd->preface) {
            size_t k = n < hd->preface ? n : hd->preface;
            if (memcmp(p, PREFACE + 24 - hd->preface, k)) {
                hd->preface = 0;
                hd->synced = false;
                continue;
            }
            hd->preface -= k;
            sniff_dir_consume(c, dir, k);
            continue;
        }
        if (!hd->synced) {
            long at = sniff_h2_sync(p, n);
            if (at < 0) {
                if (at == -2 && n > 8)
                    sniff_dir_consume(c, dir, n - 8);
                return;
            }
            sniff_dir_consume(c, dir, (size_t)at);
            hd->synced = true;
            hd->hp.midway = true;
            hd->in_block = false;
            continue;
        }
        if (n < 9)
            return;
        uint32_t len;
        if (!plausible(p, &len) || len > sniff_max_message(c) + 64) {
            hd->synced = false;
            sniff_dir_consume(c, dir, 1);
            continue;
        }
        if (n - 9 < len)
            return;
        frame(c, dir, p, d->at);
        sniff_dir_consume(c, dir, 9 + len);
    }
}

static int h2_open(sniff_conn *c)
{
    h2conn *h = calloc(1, sizeof *h);
    if (!h)
        return -1;
    for (int i = 0; i < 2; i++) {
        h2dir *hd = &h->d[i];
        hpack_dec_init(&hd->hp, 4096);
        hd->hp.limit = UINT32_MAX; /* the peer's SETTINGS may have allowed more */
        buf_init(&hd->block, MAX_BLOCK);
        const sniff_dir *d = &c->d[i];
        bool pre = i == SNIFF_C2S && buf_size(&d->in) && d->at == 0 &&
                   !memcmp(buf_data(&d->in), PREFACE, buf_size(&d->in) < 24 ? buf_size(&d->in) : 24);
        hd->preface = pre ? 24 : 0;
        /* from the start when the client's preface is there, or its server answered it */
        hd->synced = pre || (!c->mid_stream && d->at == 0);
        hd->hp.midway = !hd->synced;
    }
    c->dec = h;
    return 0;
}

static void h2_gap(sniff_conn *c, int dir)
{
    h2dir *hd = &((h2conn *)c->dec)->d[dir];
    hd->synced = false;
    hd->preface = 0;
    hd->in_block = false;
    hd->hp.midway = true;
}

static void h2_finish(sniff_conn *c, int64_t now_us)
{
    h2conn *h = c->dec;
    while (h->n) {
        h2call *k = &h->calls[0];
        if (k->seen[SNIFF_S2C])
            call_end(c, k, _("no status (the capture ended first)"), NULL, true,
                     c->d[SNIFF_S2C].last_us);
        else
            call_end(c, k, NULL, NULL, false, now_us);
    }
}

static void h2_done(sniff_conn *c)
{
    h2conn *h = c->dec;
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        call_free(&h->calls[i]);
    free(h->calls);
    for (int i = 0; i < 2; i++) {
        hpack_dec_done(&h->d[i].hp);
        buf_done(&h->d[i].block);
    }
    free(h);
    c->dec = NULL;
}

const sniff_ops sniff_h2_ops = {h2_open, h2_feed, h2_gap, h2_finish, h2_done};
