/* fuzz_http1.c -- libFuzzer target: arbitrary bytes into the HTTP/1.1 codec (rpc/http1),
 * fed in pieces, with handlers that answer at once or later (some after the connection
 * went away), the head timer firing and shutdown beginning at points the input picks.
 * Besides "no crash, no leak, no undefined behaviour" it checks that replies come out in
 * the order their requests came, and that none is owed when the codec says it is done.
 * The shared server is replaced by the few server_conn functions the codec calls. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "rpc/http1.h"
#include "rpc/server.h"

struct server_conn {
    int unused;
};

static server_conn the_conn;
static struct sockaddr_storage the_addr;
static loop_timer_fn timer_fn;
static void *timer_ud;
static uint64_t timer_id;

uint64_t server_conn_timer(server_conn *sc, uint64_t ms, loop_timer_fn fn, void *ud)
{
    (void)sc;
    (void)ms;
    timer_fn = fn;
    timer_ud = ud;
    return ++timer_id;
}

void server_conn_timer_cancel(server_conn *sc, uint64_t id)
{
    (void)sc;
    if (id == timer_id)
        timer_fn = NULL;
}

void server_conn_flush(server_conn *sc) { (void)sc; }
const struct sockaddr_storage *server_conn_addr(const server_conn *sc)
{
    (void)sc;
    return &the_addr;
}
loop *server_conn_loop(const server_conn *sc)
{
    (void)sc;
    return NULL;
}

#define MAX_LATER 64

static http1_req *later[MAX_LATER];
static size_t nlater;
static unsigned seq;    /* numbers the requests in the order the codec hands them over */
static bool answer_now; /* else the handler keeps the request for later */

static void answer(http1_req *rq, unsigned n)
{
    char body[32];
    int len = snprintf(body, sizeof body, "{\"n\":%u}", n);
    http1_reply(rq, 200, "X-Fuzz: 1\r\n", body, (size_t)len);
}

static void on_request(http1_req *rq, void *ud)
{
    (void)ud;
    size_t n;
    http1_body(rq, &n);
    if (!http1_method(rq) || !http1_path(rq))
        abort();
    http1_query(rq, "a");
    http1_header(rq, "host");
    if (answer_now || nlater == MAX_LATER) {
        answer(rq, seq++);
        return;
    }
    later[nlater++] = rq;
    seq++; /* its number is its place in later[], answered in any order below */
}

static void on_refused(http1_req *rq, unsigned status, const char *code, const char *msg, void *ud)
{
    (void)ud;
    if ((status != 400 && status != 413 && status != 431) || !code || !msg || !*msg)
        abort();
    http1_reply(rq, status, NULL, "{}", 2);
    seq++;
}

/* The replies' numbers in out rise. */
static void check_order(const buf *out)
{
    if (!buf_size(out))
        return;
    const char *p = (const char *)buf_data(out), *end = p + buf_size(out);
    long last = -1;
    while (p && p < end) {
        const char *hit = memmem(p, (size_t)(end - p), "{\"n\":", 5);
        if (!hit)
            break;
        long v = strtol(hit + 5, NULL, 10);
        if (v <= last)
            abort();
        last = v;
        p = hit + 5;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n < 3)
        return 0;
    http1_config cfg = {.on_request = on_request, .on_refused = on_refused, .head_timeout_s = 1};
    cfg.max_pipeline = 1 + p[0] % 4;
    cfg.max_head = 32 + (size_t)(p[0] >> 2) * 16;
    cfg.max_body = 1 + (size_t)p[1] * 4;
    answer_now = p[1] & 1;
    size_t chunk = 1 + p[2] % 64;
    p += 3;
    n -= 3;
    const server_codec *codec = http1_codec(&cfg);
    nlater = 0;
    seq = 0;
    timer_fn = NULL;
    void *st = codec->open_conn(&the_conn, 1 << 20);
    buf in, out;
    buf_init(&in, 0);
    buf_init(&out, 0);
    char err[256];
    feed_result r = FEED_OK;
    for (size_t off = 0; off < n && r == FEED_OK; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        buf_append(&in, p + off, k);
        r = codec->feed(st, &in, &out, false, err, sizeof err);
        uint8_t ctl = p[off];
        if (r == FEED_OK && nlater && (ctl & 3) == 0) { /* answer one kept request */
            size_t i = ctl % nlater;
            http1_req *rq = later[i];
            later[i] = later[--nlater];
            http1_reply(rq, 200, NULL, "{}", 2);
            r = codec->feed(st, &in, &out, false, err, sizeof err);
        }
        if (r == FEED_OK && ctl == 0x7f && timer_fn) {
            loop_timer_fn fn = timer_fn;
            timer_fn = NULL;
            fn(NULL, timer_ud);
            r = codec->feed(st, &in, &out, false, err, sizeof err);
        }
        if (r == FEED_OK && ctl == 0xfe) {
            codec->shutdown(st);
            r = codec->feed(st, &in, &out, false, err, sizeof err);
        }
    }
    if (r == FEED_DONE && codec->busy(st))
        abort();
    check_order(&out);
    codec->close(st);
    while (nlater) { /* the connection went away: these replies are only freed */
        http1_req *rq = later[--nlater];
        if (!http1_gone(rq))
            abort();
        http1_reply(rq, 200, NULL, "{}", 2);
    }
    buf_done(&in);
    buf_done(&out);
    return 0;
}
