/* jsonrpc_codec.c -- the method catalog served as JSON-RPC over TCP: a server_codec for
 * rpc/server. */
#include "rpc/jsonrpc_codec.h"

#include <stdlib.h>
#include <string.h>

#include "wire/jsonrpc.h"

typedef struct jsonrpc_conn {
    size_t max_message;
    jsonscan_state scan; /* how far the request at the front of the input has been scanned */
    uint64_t requests;   /* feeds that took at least one whole JSON value */
} jsonrpc_conn;

static void *jsonrpc_open(size_t max_message)
{
    jsonrpc_conn *c = malloc(sizeof *c);
    if (c) {
        c->max_message = max_message;
        c->requests = 0;
        jsonscan_init(&c->scan);
    }
    return c;
}

static void jsonrpc_close(void *state) { free(state); }

static feed_result jsonrpc_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen)
{
    jsonrpc_conn *c = state;
    /* Where the first value in sight starts: jsonrpc_serve consumes past it only by taking
     * a whole value, so whitespace alone (the bytes it skips, NUL among them) is no request. */
    const char *p = (const char *)buf_data(in);
    size_t n = buf_size(in), first = 0;
    while (first < n && strchr(" \t\r\n", p[first]))
        first++;
    if (jsonrpc_serve(in, out, c->max_message, eof, &c->scan, err, errlen) < 0)
        return FEED_CLOSE;
    if (n - buf_size(in) > first)
        c->requests++;
    return FEED_OK;
}

static uint64_t jsonrpc_progress(void *state) { return ((jsonrpc_conn *)state)->requests; }

const server_codec jsonrpc_codec = {
    .name = "JSON-RPC",
    .protocol = "json",
    .default_listen = "127.0.0.1:8080",
    .open = jsonrpc_open,
    .close = jsonrpc_close,
    .feed = jsonrpc_feed,
    .progress = jsonrpc_progress,
};
