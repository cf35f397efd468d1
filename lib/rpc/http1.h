/* http1.h -- HTTP/1.1 served on the shared server (rpc/server.h): requests parsed by
 * http_parser, handed over whole (head and body), and answered in order, each whenever
 * its handler is ready: at once, or later from the loop after calls of its own.
 *
 * The codec owns the framing rules: a body over the cap is 413 and its connection
 * closes without reading it; a request whose length two parties could read two ways
 * (Content-Length with Transfer-Encoding, Content-Length values that disagree) is 400
 * and its connection closes; chunked bodies are decoded; "Expect: 100-continue" gets its
 * interim answer; pipelined requests are answered in the order they came; a connection
 * that has not sent a whole request head within the head timeout (after connecting, or
 * after its last reply) is closed. Single-threaded: everything runs on the loop. */
#ifndef WB_HTTP1_H
#define WB_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rpc/loop.h"
#include "rpc/server.h"

/* One request, from its whole arrival until http1_reply. */
typedef struct http1_req http1_req;

typedef struct http1_config {
    const char *name;          /* for the log: "HTTP/1.1 gateway" */
    const char *protocol;      /* what a registry entry says: "http" */
    const char *default_listen;
    size_t max_head;           /* request line and headers, in bytes (0: 16384); more: 431 */
    size_t max_body;           /* the largest body (0: 65536); more: 413, connection closed */
    unsigned head_timeout_s;   /* see above (0: never) */
    size_t max_pipeline;       /* requests taken ahead of their replies (0: 16); the rest wait
                                * unread */
    /* A whole request has arrived: answer it with http1_reply, now or later (exactly once). */
    void (*on_request)(http1_req *rq, void *ud);
    /* The codec refuses rq itself (status 400, 413 or 431; code a gRPC status name such as
     * "INVALID_ARGUMENT"; msg says why, in English): answer it with http1_reply, now, in the
     * program's error shape. The connection closes after that reply. Its method, path
     * and headers may be empty when the request line itself was bad. */
    void (*on_refused)(http1_req *rq, unsigned status, const char *code, const char *msg, void *ud);
    void *ud;
} http1_config;

/* A codec for server_run serving with cfg, which must outlive the server. One per
 * process: a second call replaces the first's settings. */
const server_codec *http1_codec(const http1_config *cfg);

/* The request line: "GET", and the path without its query, percent-decoded ("/orders/7"). */
const char *http1_method(const http1_req *rq);
const char *http1_path(const http1_req *rq);
/* The first query argument name, percent-decoded and '+' as a space; "" for "?name" or
 * "?name="; NULL when absent. */
const char *http1_query(const http1_req *rq, const char *name);
/* The first header called name (any case), its value with the blanks around it
 * trimmed; NULL when absent. */
const char *http1_header(const http1_req *rq, const char *name);
/* The body (chunked ones decoded); *len 0 when none. */
const uint8_t *http1_body(const http1_req *rq, size_t *len);
/* The client's address. */
const struct sockaddr_storage *http1_peer(const http1_req *rq);
/* The server's loop, for calls the handler makes. */
loop *http1_loop(const http1_req *rq);
/* The connection went away before the reply: it will be thrown away. */
bool http1_gone(const http1_req *rq);

/* Answers rq and ends it (rq is not to be used after): status, then headers (each
 * "Name: value\r\n", NULL for none; e.g. "Allow: GET, POST\r\n"), then body[0..len) as
 * Content-Type application/json. The connection is kept open unless the client asked
 * to close it (Connection: close, or HTTP/1.0 without keep-alive), the codec refused
 * the request, or the server is stopping. After the connection went away, it only
 * frees rq. */
void http1_reply(http1_req *rq, unsigned status, const char *headers, const char *body, size_t len);

#endif
