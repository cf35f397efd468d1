/* http1_echo.c -- a small HTTP/1.1 server on rpc/http1 for its tests: answers at once,
 * later from a loop timer, and echoes bodies and headers.
 *
 * Usage: http1_echo [--listen ADDR] [--header-timeout S] [--max-head N] [--max-body N]
 *                   [--max-pipeline N] [--quiet]
 * Routes: GET /echo?x=V      {"x":"V"} at once
 *         GET /later?ms=N    {"later":N} after N ms (from a loop timer)
 *         POST /body         {"length":N,"body":"..."}
 *         GET /header?name=H {"name":"H","value":"..."} (null when absent)
 * A refused request is {"error":"...","code":"..."}. Prints the address, then serves until
 * SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "rpc/http1.h"
#include "rpc/loop.h"
#include "rpc/server.h"

/* Appends s[0..n) as a JSON string. */
static void put_json_str(buf *b, const char *s, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, ch);
        } else if (ch < 0x20 || ch == 0x7f) {
            buf_printf(b, "\\u%04x", ch);
        } else {
            buf_putc(b, ch);
        }
    }
    buf_putc(b, '"');
}

static void reply_buf(http1_req *rq, unsigned status, buf *b)
{
    http1_reply(rq, status, NULL, (const char *)buf_data(b), buf_size(b));
    buf_done(b);
}

static void on_later(loop *l, void *ud)
{
    (void)l;
    http1_req *rq = ud;
    const char *ms = http1_query(rq, "ms");
    char body[64];
    int n = snprintf(body, sizeof body, "{\"later\":%d}", atoi(ms ? ms : "0"));
    if (http1_gone(rq))
        log_msg("a reply for a client that went away (/later?ms=%s): dropped", ms ? ms : "");
    http1_reply(rq, 200, NULL, body, (size_t)n);
}

static void on_request(http1_req *rq, void *ud)
{
    (void)ud;
    const char *m = http1_method(rq), *path = http1_path(rq);
    buf b;
    buf_init(&b, 0);
    if (strcmp(m, "GET") == 0 && strcmp(path, "/echo") == 0) {
        const char *x = http1_query(rq, "x");
        buf_puts(&b, "{\"x\":");
        if (x)
            put_json_str(&b, x, strlen(x));
        else
            buf_puts(&b, "null");
        buf_putc(&b, '}');
        reply_buf(rq, 200, &b);
    } else if (strcmp(m, "GET") == 0 && strcmp(path, "/later") == 0) {
        const char *ms = http1_query(rq, "ms");
        if (!loop_timer(http1_loop(rq), (uint64_t)atoi(ms ? ms : "0"), on_later, rq))
            http1_reply(rq, 500, NULL, "{\"error\":\"no timer\"}", 20);
    } else if (strcmp(m, "POST") == 0 && strcmp(path, "/body") == 0) {
        size_t n;
        const uint8_t *body = http1_body(rq, &n);
        buf_printf(&b, "{\"length\":%zu,\"body\":", n);
        put_json_str(&b, (const char *)body, n);
        buf_putc(&b, '}');
        reply_buf(rq, 200, &b);
    } else if (strcmp(m, "GET") == 0 && strcmp(path, "/header") == 0) {
        const char *name = http1_query(rq, "name");
        const char *v = name ? http1_header(rq, name) : NULL;
        buf_puts(&b, "{\"name\":");
        put_json_str(&b, name ? name : "", name ? strlen(name) : 0);
        buf_puts(&b, ",\"value\":");
        if (v)
            put_json_str(&b, v, strlen(v));
        else
            buf_puts(&b, "null");
        buf_putc(&b, '}');
        reply_buf(rq, 200, &b);
    } else {
        char msg[300];
        int n = snprintf(msg, sizeof msg, "no route %.16s %.200s", m, path);
        buf_puts(&b, "{\"error\":");
        put_json_str(&b, msg, (size_t)n);
        buf_putc(&b, '}');
        reply_buf(rq, 404, &b);
    }
}

static void on_refused(http1_req *rq, unsigned status, const char *code, const char *msg, void *ud)
{
    (void)ud;
    buf b;
    buf_init(&b, 0);
    log_msg("refused with %u: %s", status, msg);
    buf_puts(&b, "{\"error\":");
    put_json_str(&b, msg, strlen(msg));
    buf_printf(&b, ",\"code\":\"%s\"}", code);
    reply_buf(rq, status, &b);
}

int main(int argc, char **argv)
{
    http1_config cfg = {.name = "HTTP/1.1 echo", .protocol = "http", .on_request = on_request,
                        .on_refused = on_refused};
    server_opts o = {.listen_addr = "127.0.0.1:0", .registry_url = "none", .max_message = 1 << 20,
                     .max_conns = 10000, .ttl = 10};
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quiet") == 0) {
            quiet = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "http1_echo: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--listen") == 0)
            o.listen_addr = v;
        else if (strcmp(a, "--header-timeout") == 0)
            cfg.head_timeout_s = (unsigned)atoi(v);
        else if (strcmp(a, "--max-head") == 0)
            cfg.max_head = (size_t)atol(v);
        else if (strcmp(a, "--max-body") == 0)
            cfg.max_body = (size_t)atol(v);
        else if (strcmp(a, "--max-pipeline") == 0)
            cfg.max_pipeline = (size_t)atol(v);
        else {
            fprintf(stderr, "http1_echo: unknown option %s\n", a);
            return 2;
        }
    }
    o.quiet = quiet;
    log_setup("http1_echo", quiet);
    return server_run(http1_codec(&cfg), &o, NULL, "http1_echo");
}
