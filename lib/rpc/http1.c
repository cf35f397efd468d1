/* http1.c -- HTTP/1.1 on the shared server: http_parser per connection, replies in order. */
#include "rpc/http1.h"

#include <http_parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"

#define FREE_KEEP 1024  /* spare request structs kept for reuse */
#define BUF_KEEP 4096   /* a spare request's buffers over this are given back */
/* The head's buffer: the raw head, then the decoded path and query (at most twice the URL). */
#define HEAD_MAX (3 * cfg.max_head + 256)

typedef struct h1conn h1conn;

/* Where a request's head is in its parse. */
enum { PIECE_NONE, PIECE_URL, PIECE_FIELD, PIECE_VALUE };
/* The headers the codec itself reads. */
enum { FIELD_OTHER, FIELD_LENGTH, FIELD_CODING, FIELD_EXPECT };

struct http1_req {
    h1conn *c;              /* NULL once the connection went away */
    http1_req *next;        /* the connection's queue, or the free list */
    buf head;               /* URL\0, then name\0value\0 pairs, then path\0, then query pairs */
    buf body;
    buf reply;              /* a reply made before the earlier ones were written */
    const char *method;
    struct sockaddr_storage peer; /* kept when the connection goes away */
    size_t hdr_off, hdr_end, path_off, q_off, q_end;
    size_t piece_start;     /* where the header name or value being received starts */
    int piece;              /* PIECE_* */
    int field;              /* FIELD_*: the header whose value is being received */
    unsigned lengths;       /* Content-Length headers */
    bool chunked_te;        /* a Transfer-Encoding header */
    bool answered, close_after, http10, keep_alive, head_only, expect_100;
};

struct h1conn {
    server_conn *sc;
    http_parser p;
    http1_req *cur;             /* the request being parsed */
    http1_req *first, *last;    /* requests owed, oldest first */
    size_t owed;
    buf *out;                   /* the server's output buffer, during feed */
    buf pend;                   /* replies made outside feed, until the next feed */
    uint64_t head_timer;
    uint64_t head_due;          /* when the head awaited must have come; 0: none awaited */
    uint64_t heads, written;    /* progress */
    bool stop_parsing, stopping, timed_out;
    bool got_message, refused;  /* set by the parser's callbacks for feed */
    unsigned ref_status;
    const char *ref_code;
    char ref_msg[160];
};

static http1_config cfg;
static server_codec codec;
static http_parser_settings settings;
static http1_req *spare;
static loop *the_loop;
static size_t nspare;

/* ---- requests ---- */

static void req_free(http1_req *rq);

static http1_req *req_new(h1conn *c)
{
    http1_req *rq = spare;
    if (rq) {
        spare = rq->next;
        nspare--;
    } else {
        if (!(rq = calloc(1, sizeof *rq)))
            return NULL;
        buf_init(&rq->head, HEAD_MAX);
        buf_init(&rq->body, cfg.max_body);
        buf_init(&rq->reply, 0);
    }
    /* a spare kept from before http1_codec was given other caps takes today's */
    rq->head.max = HEAD_MAX;
    rq->body.max = cfg.max_body ? cfg.max_body : SIZE_MAX;
    rq->c = c;
    rq->next = NULL;
    rq->method = "";
    rq->hdr_off = rq->hdr_end = rq->path_off = rq->q_off = rq->q_end = rq->piece_start = 0;
    rq->piece = PIECE_NONE;
    rq->field = FIELD_OTHER;
    rq->lengths = 0;
    rq->chunked_te = rq->answered = rq->close_after = rq->http10 = rq->keep_alive = false;
    rq->head_only = rq->expect_100 = false;
    buf_clear(&rq->head);
    if (buf_putc(&rq->head, 0) < 0) { /* offset 0 is "" for every part not given */
        req_free(rq);
        return NULL;
    }
    return rq;
}

static void req_free(http1_req *rq)
{
    if (!rq)
        return;
    if (nspare >= FREE_KEEP || rq->body.max != cfg.max_body || rq->head.max != HEAD_MAX) {
        buf_done(&rq->head);
        buf_done(&rq->body);
        buf_done(&rq->reply);
        free(rq);
        return;
    }
    buf_clear(&rq->head);
    buf_clear(&rq->body);
    buf_clear(&rq->reply);
    buf_shrink(&rq->head, BUF_KEEP);
    buf_shrink(&rq->body, BUF_KEEP);
    buf_shrink(&rq->reply, BUF_KEEP);
    rq->c = NULL;
    rq->next = spare;
    spare = rq;
    nspare++;
}

static const char *hs(const http1_req *rq, size_t off) { return (const char *)rq->head.p + off; }

/* ---- the head, as the parser hands it over in pieces ---- */

/* Refuses the request being parsed: the parser stops, feed answers it. */
static int refuse(h1conn *c, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(h1conn *c, unsigned status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->ref_msg, sizeof c->ref_msg, fmt, ap);
    va_end(ap);
    c->refused = true;
    c->ref_status = status;
    c->ref_code = code;
    if (HTTP_PARSER_ERRNO(&c->p) == HPE_OK) /* http_parser asserts on pausing after an error */
        http_parser_pause(&c->p, 1);
    return 0;
}

static int head_over(h1conn *c)
{
    return refuse(c, 431, "RESOURCE_EXHAUSTED", "request head over %zu bytes", cfg.max_head);
}

static int head_append(h1conn *c, const char *at, size_t len)
{
    http1_req *rq = c->cur;
    if (buf_size(&rq->head) + len > cfg.max_head || buf_append(&rq->head, at, len) < 0)
        return head_over(c);
    return 0;
}

/* Ends the URL, header name or header value being received. Returns -1 when its end
 * mark found no room (the head is over its cap; it cannot be read). */
static int piece_end(http1_req *rq)
{
    if (rq->piece == PIECE_VALUE) {
        while (buf_size(&rq->head) > rq->piece_start &&
               (rq->head.p[rq->head.len - 1] == ' ' || rq->head.p[rq->head.len - 1] == '\t'))
            rq->head.len--;
    }
    if (rq->piece != PIECE_NONE && buf_putc(&rq->head, 0) < 0) { /* max_head leaves room */
        rq->piece = PIECE_NONE;
        return -1;
    }
    if (rq->piece == PIECE_FIELD) {
        const char *name = hs(rq, rq->piece_start);
        rq->field = strcasecmp(name, "content-length") == 0      ? FIELD_LENGTH
                    : strcasecmp(name, "transfer-encoding") == 0 ? FIELD_CODING
                    : strcasecmp(name, "expect") == 0            ? FIELD_EXPECT
                                                                 : FIELD_OTHER;
        rq->lengths += rq->field == FIELD_LENGTH;
        rq->chunked_te |= rq->field == FIELD_CODING;
    } else if (rq->piece == PIECE_VALUE && rq->field == FIELD_EXPECT) {
        rq->expect_100 |= strcasecmp(hs(rq, rq->piece_start), "100-continue") == 0;
    }
    if (rq->piece == PIECE_URL)
        rq->hdr_off = buf_size(&rq->head);
    else if (rq->piece == PIECE_VALUE)
        rq->hdr_end = buf_size(&rq->head);
    rq->piece = PIECE_NONE;
    return 0;
}

static int piece(http_parser *p, int kind, const char *at, size_t len)
{
    h1conn *c = p->data;
    http1_req *rq = c->cur;
    if (rq->piece != kind) {
        if (kind == PIECE_VALUE && rq->piece != PIECE_FIELD)
            return 0; /* http_parser gives a value only after its name */
        if (piece_end(rq) < 0)
            return head_over(c);
        if (kind == PIECE_FIELD && !rq->hdr_off)
            rq->hdr_off = buf_size(&rq->head);
        rq->piece = kind;
        rq->piece_start = buf_size(&rq->head);
    }
    return head_append(c, at, len);
}

static int on_url(http_parser *p, const char *at, size_t len) { return piece(p, PIECE_URL, at, len); }
static int on_field(http_parser *p, const char *at, size_t len) { return piece(p, PIECE_FIELD, at, len); }
static int on_value(http_parser *p, const char *at, size_t len) { return piece(p, PIECE_VALUE, at, len); }

static int on_message_begin(http_parser *p)
{
    h1conn *c = p->data;
    if (!c->cur && !(c->cur = req_new(c)))
        return refuse(c, 431, "RESOURCE_EXHAUSTED", "out of memory for the request head");
    return 0;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Appends b's own bytes [off, off + n) percent-decoded (and '+' as a space when plus),
 * then a NUL. A "%" not followed by two hex digits stays as it is. */
static void put_decoded(buf *b, size_t off, size_t n, bool plus)
{
    if (buf_reserve(b, n + 1) < 0)
        return;
    const char *s = (const char *)b->p + off; /* after the reserve, which may move it */
    uint8_t *o = b->p + b->len;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0 && (hi | lo)) { /* "%00" stays: strings end at NUL */
            *o++ = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = plus && s[i] == '+' ? ' ' : (uint8_t)s[i];
        }
    }
    *o++ = 0;
    b->len = (size_t)(o - b->p);
}

/* Splits the URL into the decoded path and query pairs. Returns 0, -1 when the URL is
 * none, or -2 when out of room. */
static int split_url(http1_req *rq, bool is_connect)
{
    struct http_parser_url u;
    http_parser_url_init(&u);
    const size_t url = 1; /* the URL's offset in the head */
    size_t n = strlen(hs(rq, url));
    if (http_parser_parse_url(hs(rq, url), n, is_connect, &u) != 0)
        return -1;
    if (buf_reserve(&rq->head, 2 * n + 4) < 0) /* what the pieces below can take */
        return -2;
    rq->path_off = buf_size(&rq->head);
    if (u.field_set & (1 << UF_PATH))
        put_decoded(&rq->head, url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len, false);
    else
        buf_putc(&rq->head, 0);
    rq->q_off = rq->q_end = buf_size(&rq->head);
    if (!(u.field_set & (1 << UF_QUERY)))
        return 0;
    size_t q = url + u.field_data[UF_QUERY].off, end = q + u.field_data[UF_QUERY].len;
    while (q < end) { /* offsets, not pointers: the head grows as the pairs are added */
        const char *s = hs(rq, q);
        const char *amp = memchr(s, '&', end - q), *eq = memchr(s, '=', (amp ? (size_t)(amp - s) : end - q));
        size_t item = amp ? (size_t)(amp - s) : end - q, name = eq ? (size_t)(eq - s) : item;
        if (item > 0) {
            put_decoded(&rq->head, q, name, true);
            if (eq)
                put_decoded(&rq->head, q + name + 1, item - name - 1, true);
            else
                buf_putc(&rq->head, 0);
        }
        q += item + 1;
    }
    rq->q_end = buf_size(&rq->head);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    h1conn *c = p->data;
    http1_req *rq = c->cur;
    if (rq->piece == PIECE_FIELD) { /* a name with no value: the value is "" */
        if (piece_end(rq) < 0)
            return head_over(c);
        rq->piece = PIECE_VALUE;
        rq->piece_start = buf_size(&rq->head);
    }
    if (piece_end(rq) < 0)
        return head_over(c);
    if (!rq->hdr_off)
        rq->hdr_off = rq->hdr_end = buf_size(&rq->head);
    rq->method = http_method_str((enum http_method)p->method);
    rq->http10 = p->http_major == 1 && p->http_minor == 0;
    rq->head_only = p->method == HTTP_HEAD;
    rq->keep_alive = http_should_keep_alive(p) && p->method != HTTP_CONNECT;
    c->heads++;
    c->head_due = 0; /* its timer, when it fires, finds nothing to do */
    int split = split_url(rq, p->method == HTTP_CONNECT);
    if (split == -1)
        return refuse(c, 400, "INVALID_ARGUMENT", "the request target is not a URL");
    if (split < 0)
        return head_over(c);
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > cfg.max_body)
        return refuse(c, 413, "RESOURCE_EXHAUSTED", "the body is %llu bytes; at most %zu",
                      (unsigned long long)p->content_length, cfg.max_body);
    bool body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length > 0);
    if (rq->expect_100 && body && c->owed == 0 && !c->stopping)
        buf_puts(c->out, "HTTP/1.1 100 Continue\r\n\r\n");
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    h1conn *c = p->data;
    if (buf_append(&c->cur->body, at, len) < 0)
        return refuse(c, 413, "RESOURCE_EXHAUSTED", "the body is larger than %zu bytes", cfg.max_body);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    h1conn *c = p->data;
    c->got_message = true;
    http_parser_pause(p, 1);
    return 0;
}

/* ---- replies ---- */

static char *put_uint(char *o, size_t v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (n > 0)
        *o++ = tmp[--n];
    return o;
}

/* Appends the whole reply to b. */
static void put_reply(buf *b, const http1_req *rq, bool close, unsigned status, const char *headers,
                      const char *body, size_t len)
{
    const char *reason = http_status_str((enum http_status)status);
    size_t rl = strlen(reason), hl = headers ? strlen(headers) : 0;
    if (buf_reserve(b, 128 + rl + hl + len) < 0)
        return;
    char *o = (char *)b->p + b->len;
    memcpy(o, "HTTP/1.1 ", 9);
    o = put_uint(o + 9, status);
    *o++ = ' ';
    memcpy(o, reason, rl);
    o += rl;
    static const char ct[] = "\r\nContent-Type: application/json\r\nContent-Length: ";
    memcpy(o, ct, sizeof ct - 1);
    o = put_uint(o + sizeof ct - 1, len);
    *o++ = '\r';
    *o++ = '\n';
    if (hl) {
        memcpy(o, headers, hl);
        o += hl;
    }
    if (close) {
        memcpy(o, "Connection: close\r\n", 19);
        o += 19;
    } else if (rq->http10) {
        memcpy(o, "Connection: keep-alive\r\n", 24);
        o += 24;
    }
    *o++ = '\r';
    *o++ = '\n';
    if (!rq->head_only) { /* a reply to HEAD says the length of a body it does not carry */
        memcpy(o, body, len);
        o += len;
    }
    b->len = (size_t)((uint8_t *)o - b->p);
}

static void on_head_timeout(loop *l, void *ud);

/* Starts the wait for a whole head. One timer serves many waits: when it fires early
 * for the current one, it is set again for the rest. */
static void await_head(h1conn *c)
{
    if (!cfg.head_timeout_s || c->stop_parsing || c->stopping)
        return;
    uint64_t ms = (uint64_t)cfg.head_timeout_s * 1000;
    c->head_due = clock_now_ms() + ms;
    if (!c->head_timer)
        c->head_timer = server_conn_timer(c->sc, ms, on_head_timeout, c);
}

/* Moves the answered requests at the front of the queue into b. */
static void drain_answered(h1conn *c, buf *b)
{
    while (c->first && c->first->answered) {
        http1_req *rq = c->first;
        c->first = rq->next;
        if (!c->first)
            c->last = NULL;
        c->owed--;
        c->written++;
        if (buf_size(&rq->reply))
            buf_append(b, buf_data(&rq->reply), buf_size(&rq->reply));
        req_free(rq);
    }
    if (!c->owed)
        await_head(c);
}

void http1_reply(http1_req *rq, unsigned status, const char *headers, const char *body, size_t len)
{
    h1conn *c = rq->c;
    if (!c) {
        req_free(rq);
        return;
    }
    bool close = rq->close_after || (c->stopping && !rq->next);
    bool first = rq == c->first;
    buf *b = !first ? &rq->reply : c->out ? c->out : &c->pend;
    put_reply(b, rq, close, status, headers, body ? body : "", body ? len : 0);
    rq->answered = true;
    if (first) {
        drain_answered(c, b);
        if (!c->out)
            server_conn_flush(c->sc);
    }
}

/* ---- the codec ---- */

static void on_head_timeout(loop *l, void *ud)
{
    (void)l;
    h1conn *c = ud;
    c->head_timer = 0;
    uint64_t now = clock_now_ms();
    if (!c->head_due || c->stop_parsing || c->stopping)
        return;
    if (now < c->head_due) {
        c->head_timer = server_conn_timer(c->sc, c->head_due - now, on_head_timeout, c);
        return;
    }
    c->timed_out = true;
    server_conn_flush(c->sc);
}

static void *h1_open_conn(server_conn *sc, size_t max_message)
{
    (void)max_message;
    h1conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sc = sc;
    http_parser_init(&c->p, HTTP_REQUEST);
    c->p.data = c;
    buf_init(&c->pend, 0);
    the_loop = server_conn_loop(sc);
    await_head(c);
    return c;
}

static void h1_close(void *state)
{
    h1conn *c = state;
    server_conn_timer_cancel(c->sc, c->head_timer);
    for (http1_req *rq = c->first, *next; rq; rq = next) {
        next = rq->next;
        if (rq->answered) {
            req_free(rq);
        } else {
            rq->peer = *server_conn_addr(c->sc);
            rq->c = NULL; /* its handler's http1_reply frees it */
            rq->next = NULL;
        }
    }
    req_free(c->cur);
    buf_done(&c->pend);
    free(c);
}

/* Queues the request just parsed. */
static void enqueue(h1conn *c, http1_req *rq)
{
    if (c->last)
        c->last->next = rq;
    else
        c->first = rq;
    c->last = rq;
    c->owed++;
}

/* The parser stopped with an error: says why in the request's terms. */
static void parse_error(h1conn *c)
{
    http1_req *rq = c->cur;
    enum http_errno e = HTTP_PARSER_ERRNO(&c->p);
    (void)piece_end(rq); /* what it fails to end is not read */
    if (rq->chunked_te && rq->lengths)
        refuse(c, 400, "INVALID_ARGUMENT", "the request has both Content-Length and Transfer-Encoding: send one of them");
    else if (rq->lengths > 1)
        refuse(c, 400, "INVALID_ARGUMENT", "the request has Content-Length headers that disagree: send one");
    else
        refuse(c, 400, "INVALID_ARGUMENT", "%s", http_errno_description(e));
}

/* Hands over the request the parser finished, or the one it refused. */
static void take(h1conn *c)
{
    http1_req *rq = c->cur;
    c->cur = NULL;
    if (c->refused) {
        c->stop_parsing = true;
        rq->close_after = true;
        enqueue(c, rq);
        cfg.on_refused(rq, c->ref_status, c->ref_code, c->ref_msg, cfg.ud);
        return;
    }
    if (!rq->keep_alive || c->stopping) {
        rq->close_after = true;
        c->stop_parsing = true;
    }
    enqueue(c, rq);
    cfg.on_request(rq, cfg.ud);
}

static feed_result h1_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen)
{
    (void)eof;
    h1conn *c = state;
    if (buf_size(&c->pend)) {
        buf_append(out, buf_data(&c->pend), buf_size(&c->pend));
        buf_clear(&c->pend);
        buf_shrink(&c->pend, BUF_KEEP);
    }
    if (c->timed_out) {
        snprintf(err, errlen, "closed without a whole request head within --header-timeout (%u s)",
                 cfg.head_timeout_s);
        return FEED_CLOSE;
    }
    c->out = out;
    while (!c->stop_parsing && c->owed < cfg.max_pipeline && buf_size(in) > 0) {
        if (!c->cur && !(c->cur = req_new(c)))
            break;
        size_t n = http_parser_execute(&c->p, &settings, (const char *)buf_data(in), buf_size(in));
        buf_consume(in, n);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->p);
        if (e != HPE_OK && e != HPE_PAUSED && !c->refused)
            parse_error(c);
        if (c->refused || c->got_message) {
            c->got_message = false;
            if (e == HPE_PAUSED)
                http_parser_pause(&c->p, 0);
            take(c);
        } else if (e != HPE_OK || n == 0) {
            break;
        }
    }
    c->out = NULL;
    if (c->stop_parsing)
        buf_consume(in, buf_size(in)); /* nothing after a refusal or a last request is read */
    if (c->owed == 0 && (c->stop_parsing || c->stopping))
        return FEED_DONE;
    return FEED_OK;
}

static void h1_shutdown(void *state)
{
    h1conn *c = state;
    c->stopping = true;
    c->stop_parsing = true;
    c->head_due = 0;
}

static bool h1_busy(void *state) { return ((h1conn *)state)->owed > 0; }

static uint64_t h1_progress(void *state)
{
    h1conn *c = state;
    return c->heads + c->written;
}

const server_codec *http1_codec(const http1_config *config)
{
    cfg = *config;
    if (!cfg.max_head)
        cfg.max_head = 16384;
    if (!cfg.max_body)
        cfg.max_body = 65536;
    if (!cfg.max_pipeline)
        cfg.max_pipeline = 16;
    settings = (http_parser_settings){
        .on_message_begin = on_message_begin,
        .on_url = on_url,
        .on_header_field = on_field,
        .on_header_value = on_value,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
    };
    codec = (server_codec){
        .name = cfg.name ? cfg.name : "HTTP/1.1",
        .protocol = cfg.protocol ? cfg.protocol : "http",
        .default_listen = cfg.default_listen,
        .open_conn = h1_open_conn,
        .close = h1_close,
        .feed = h1_feed,
        .shutdown = h1_shutdown,
        .busy = h1_busy,
        .progress = h1_progress,
    };
    return &codec;
}

/* ---- what a handler reads ---- */

const char *http1_method(const http1_req *rq) { return rq->method; }
const char *http1_path(const http1_req *rq) { return hs(rq, rq->path_off); }

/* The value of the first pair named name (compared by same) in the head's pairs
 * [off, end): NUL-terminated names, each followed by its NUL-terminated value. */
static const char *pair_find(const http1_req *rq, size_t off, size_t end, const char *name,
                             int (*same)(const char *, const char *))
{
    while (off < end) {
        const char *k = hs(rq, off);
        size_t kl = strlen(k);
        const char *v = k + kl + 1;
        if (same(k, name) == 0)
            return v;
        off += kl + 1 + strlen(v) + 1;
    }
    return NULL;
}

const char *http1_query(const http1_req *rq, const char *name)
{
    return pair_find(rq, rq->q_off, rq->q_end, name, strcmp);
}

const char *http1_header(const http1_req *rq, const char *name)
{
    return pair_find(rq, rq->hdr_off, rq->hdr_end, name, strcasecmp);
}

const uint8_t *http1_body(const http1_req *rq, size_t *len)
{
    *len = buf_size(&rq->body);
    return *len ? buf_data(&rq->body) : (const uint8_t *)"";
}

const struct sockaddr_storage *http1_peer(const http1_req *rq)
{
    return rq->c ? server_conn_addr(rq->c->sc) : &rq->peer;
}

loop *http1_loop(const http1_req *rq)
{
    (void)rq;
    return the_loop;
}
bool http1_gone(const http1_req *rq) { return rq->c == NULL; }
