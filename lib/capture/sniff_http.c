/* sniff_http.c -- HTTP/1.x sniffed with libhttp-parser: each request's method and target,
 * its body as the call's argument, the response's status and body as its result;
 * pipelined requests pair with responses in order. Caught mid-way, a direction starts at
 * a request line or a status line at the start of a line. */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "capture/sniff_int.h"
#include "wire/jsonval.h"

#define BODY_KEEP (64u << 10) /* bytes of a body kept for its text */
#define LINE_MAX 8192         /* the longest request or status line looked for */

/* ---- lines ---- */

static bool tchar(uint8_t b) { return b > 0x20 && b < 0x7f; }

/* Whether p[0..n) starts with a request line (1), a status line (2), either's beginning
 * cut short (0), or neither (-1). */
static int line_at(const uint8_t *p, size_t n, bool *request)
{
    static const char ver[] = "HTTP/1.";
    size_t k = n < 7 ? n : 7;
    if (!memcmp(p, ver, k)) {
        if (n < 12)
            return 0;
        if ((p[7] != '0' && p[7] != '1') || p[8] != ' ')
            return -1;
        for (int i = 9; i < 12; i++)
            if (p[i] < '0' || p[i] > '9')
                return -1;
        *request = false;
        return 2;
    }
    size_t i = 0;
    while (i < n && i < 12 && p[i] >= 'A' && p[i] <= 'Z')
        i++;
    if (i == n)
        return 0;
    if (i < 3 || i > 10 || p[i] != ' ')
        return -1;
    size_t t = ++i;
    while (i < n && i < LINE_MAX && tchar(p[i]))
        i++;
    if (i == n)
        return 0;
    if (i == t || p[i] != ' ' || (p[t] != '/' && p[t] != '*' && p[t] != 'h'))
        return -1;
    i++;
    for (size_t j = 0; j < 9; j++) {
        if (i + j == n)
            return 0;
        uint8_t want = j < 7 ? (uint8_t)ver[j] : j == 7 ? 0 : '\r';
        if (j == 7 ? (p[i + j] != '0' && p[i + j] != '1')
                   : j == 8 ? (p[i + j] != '\r' && p[i + j] != '\n') : p[i + j] != want)
            return -1;
    }
    *request = true;
    return 1;
}

long sniff_http_sync(const uint8_t *p, size_t n, bool *request)
{
    bool more = false;
    size_t scan = n < (64u << 10) ? n : (64u << 10);
    for (size_t i = 0; i < scan; i++) {
        if (i > 0 && p[i - 1] != '\n')
            continue;
        int r = line_at(p + i, n - i, request);
        if (r > 0)
            return (long)i;
        if (r == 0 && (i == 0 || n - i < LINE_MAX))
            more = true;
    }
    return more ? -1 : -2;
}

/* ---- one direction ---- */

typedef struct hdir {
    http_parser hp;
    bool synced, started;
    uint64_t msg_off;   /* where the message in progress began */
    buf url, reason, body;
    bool body_cut;
    bool head_next;     /* responses: the request answered was HEAD (no body) */
} hdir;

typedef struct hconn {
    hdir d[2];
    sniff_conn *c;
    int dir;            /* the direction being parsed */
    size_t base_at;     /* parsing in[0..) whose stream offset is base */
    int64_t first_us;   /* responses: when the message in progress began */
} hconn;

static void dir_reset(hdir *h, bool response)
{
    http_parser_init(&h->hp, response ? HTTP_RESPONSE : HTTP_REQUEST);
    buf_clear(&h->url);
    buf_clear(&h->reason);
    buf_clear(&h->body);
    h->body_cut = false;
    h->started = false;
}

static hconn *hc_of(http_parser *hp) { return hp->data; }

static int on_begin(http_parser *hp)
{
    hconn *hc = hc_of(hp);
    hc->d[hc->dir].started = true;
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t n)
{
    hconn *hc = hc_of(hp);
    buf_append(&hc->d[hc->dir].url, at, n);
    return 0;
}

static int on_status(http_parser *hp, const char *at, size_t n)
{
    hconn *hc = hc_of(hp);
    buf_append(&hc->d[hc->dir].reason, at, n);
    return 0;
}

static int on_headers(http_parser *hp)
{
    hconn *hc = hc_of(hp);
    if (hc->dir == SNIFF_S2C) {
        const sniff_req *r = sniff_wait_find(hc->c, NULL);
        if (r && r->method && !strncmp(r->method, "HEAD ", 5))
            return 1; /* the answer to HEAD has no body */
    }
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
    hconn *hc = hc_of(hp);
    hdir *h = &hc->d[hc->dir];
    size_t room = BODY_KEEP - buf_size(&h->body);
    if (n > room)
        h->body_cut = true;
    buf_append(&h->body, at, n < room ? n : room);
    return 0;
}

static int on_complete(http_parser *hp)
{
    http_parser_pause(hp, 1); /* execute returns here, where the message ends */
    return 0;
}

static const http_parser_settings SETTINGS = {
    .on_message_begin = on_begin, .on_url = on_url, .on_status = on_status,
    .on_headers_complete = on_headers, .on_body = on_body, .on_message_complete = on_complete};

/* A body in one line: JSON compacted, other text with its runs of white space made one
 * space and its other control bytes escaped; NULL when empty. *json says which. */
static char *body_text(const hdir *h, bool *json)
{
    size_t n = buf_size(&h->body);
    *json = false;
    if (n == 0)
        return NULL;
    const char *p = (const char *)buf_data(&h->body);
    if (!h->body_cut) {
        value *v = jsonval_parse(p, n, NULL, 0);
        if (v) {
            char *t = sniff_json_text(v);
            value_free(v);
            *json = true;
            return t;
        }
    }
    char *flat = malloc(n + 1), *q = malloc(SNIFF_TEXT_MAX + 16);
    if (!flat || !q) {
        free(flat);
        free(q);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool ws = p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n';
        if (!ws)
            flat[k++] = p[i];
        else if (k && flat[k - 1] != ' ')
            flat[k++] = ' ';
    }
    while (k && flat[k - 1] == ' ')
        k--;
    explain_quote(q, SNIFF_TEXT_MAX + 16, (const uint8_t *)flat, k, SNIFF_TEXT_MAX - 8,
                  EXPLAIN_QUOTE_BARE | EXPLAIN_QUOTE_UTF8);
    free(flat);
    if (h->body_cut && strlen(q) < SNIFF_TEXT_MAX - 3)
        strcat(q, "...");
    return q;
}

static void request_done(sniff_conn *c, hdir *h, uint64_t end)
{
    bool json;
    sniff_req r = {.method = sniff_strf("%s %.*s", http_method_str(h->hp.method),
                                        (int)buf_size(&h->url), (const char *)buf_data(&h->url)),
                   .args = body_text(h, &json), .off = h->msg_off, .end = end,
                   .have_bytes = true, .start_us = sniff_dir_time(c, SNIFF_C2S, h->msg_off)};
    sniff_wait_add(c, &r);
}

static void response_done(sniff_conn *c, hdir *h, uint64_t end)
{
    unsigned code = h->hp.status_code;
    const char *why = buf_size(&h->reason) ? (const char *)buf_data(&h->reason) : NULL;
    char *status = sniff_strf("%u %.*s", code, why ? (int)buf_size(&h->reason) : 64,
                              why ? why : http_status_str((enum http_status)code));
    bool json;
    char *text = body_text(h, &json);
    /* an error's text: the body when it says something short (JSON, or plain text), else
     * the status line's words (an HTML error page is no one-line message) */
    const char *etext = text && (json || (strlen(text) <= 200 && text[0] != '<'))
                            ? text : why ? status + 4 : status;
    int64_t first = sniff_dir_time(c, SNIFF_S2C, h->msg_off);
    sniff_req q;
    const sniff_req *w = sniff_wait_find(c, NULL);
    bool found = w && !(c->mid_stream && w->start_us > first) && sniff_wait_take(c, NULL, &q);
    sniff_rep rep = {.result = code < 400 ? text : NULL,
                     .error = code >= 400 ? etext : NULL, .status = status,
                     .end_us = sniff_dir_time(c, SNIFF_S2C, end - 1), .off = h->msg_off,
                     .end = end};
    if (!found)
        rep.note = _("the request went by before the capture began");
    sniff_emit(c, found ? &q : NULL, &rep);
    if (found)
        sniff_req_done(&q);
    free(status);
    free(text);
}

/* Parses what waits in dir's input; eof: the direction ended. */
static void parse(sniff_conn *c, int dir, bool eof)
{
    hconn *hc = c->dec;
    hdir *h = &hc->d[dir];
    sniff_dir *d = &c->d[dir];
    hc->c = c;
    hc->dir = dir;
    for (;;) {
        const uint8_t *p = buf_data(&d->in);
        size_t n = buf_size(&d->in);
        if (!h->synced) {
            bool req;
            long at = n ? sniff_http_sync(p, n, &req) : -1;
            if (at < 0 || req != (dir == SNIFF_C2S)) {
                if (at == -2 || (at >= 0 && n > 1))
                    sniff_dir_consume(c, dir, at >= 0 ? (size_t)at + 1 : n - 1);
                if (at >= 0)
                    continue;
                return;
            }
            sniff_dir_consume(c, dir, (size_t)at);
            h->synced = true;
            continue;
        }
        if (n == 0 && !eof)
            return;
        if (!h->started) {
            size_t ws = 0;
            while (ws < n && (p[ws] == '\r' || p[ws] == '\n'))
                ws++;
            sniff_dir_consume(c, dir, ws);
            p += ws;
            n -= ws;
            h->msg_off = d->at;
            if (n == 0 && !eof)
                return;
        }
        h->hp.data = hc;
        size_t used = http_parser_execute(&h->hp, &SETTINGS, (const char *)p, n);
        enum http_errno e = HTTP_PARSER_ERRNO(&h->hp);
        sniff_dir_consume(c, dir, used);
        if (e == HPE_PAUSED) {
            http_parser_pause(&h->hp, 0);
            if (dir == SNIFF_C2S)
                request_done(c, h, d->at);
            else
                response_done(c, h, d->at);
            dir_reset(h, dir == SNIFF_S2C);
            if (n == 0)
                return;
            continue;
        }
        if (e != HPE_OK || h->hp.upgrade) {
            dir_reset(h, dir == SNIFF_S2C);
            h->synced = false;
            if (buf_size(&d->in))
                sniff_dir_consume(c, dir, 1);
            if (!buf_size(&d->in))
                return;
            continue;
        }
        return;
    }
}

static void http_feed(sniff_conn *c, int dir) { parse(c, dir, false); }

static int http_open(sniff_conn *c)
{
    hconn *hc = calloc(1, sizeof *hc);
    if (!hc)
        return -1;
    for (int i = 0; i < 2; i++) {
        buf_init(&hc->d[i].url, LINE_MAX);
        buf_init(&hc->d[i].reason, 256);
        buf_init(&hc->d[i].body, BODY_KEEP);
        dir_reset(&hc->d[i], i == SNIFF_S2C);
        hc->d[i].synced = false; /* both start at a line found by sniff_http_sync */
    }
    c->dec = hc;
    return 0;
}

static void http_gap(sniff_conn *c, int dir)
{
    hconn *hc = c->dec;
    dir_reset(&hc->d[dir], dir == SNIFF_S2C);
    hc->d[dir].synced = false;
}

static void http_finish(sniff_conn *c, int64_t now_us)
{
    (void)now_us;
    hconn *hc = c->dec;
    if (hc->d[SNIFF_S2C].synced && hc->d[SNIFF_S2C].started)
        parse(c, SNIFF_S2C, true); /* a body that ends with the connection */
}

static void http_done(sniff_conn *c)
{
    hconn *hc = c->dec;
    if (!hc)
        return;
    for (int i = 0; i < 2; i++) {
        buf_done(&hc->d[i].url);
        buf_done(&hc->d[i].reason);
        buf_done(&hc->d[i].body);
    }
    free(hc);
    c->dec = NULL;
}

const sniff_ops sniff_http_ops = {http_open, http_feed, http_gap, http_finish, http_done};
