/* jsonrpc_codec.c -- the method catalog served as JSON-RPC over TCP: a server_codec for
 * rpc/server. */
#include "rpc/jsonrpc_codec.h"

#include <stdlib.h>

#include "wire/jsonrpc.h"

typedef struct jsonrpc_conn {
    size_t max_message;
    jsonscan_state scan; /* how far the request at the front of the input has been scanned */
} jsonrpc_conn;

static void *jsonrpc_open(size_t max_message)
{
    jsonrpc_conn *c = malloc(sizeof *c);
    if (c) {
        c->max_message = max_message;
        jsonscan_init(&c->scan);
    }
    return c;
}

static void jsonrpc_close(void *state) { free(state); }

static feed_result jsonrpc_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen)
{
    jsonrpc_conn *c = state;
    return jsonrpc_serve(in, out, c->max_message, eof, &c->scan, err, errlen) < 0 ? FEED_CLOSE : FEED_OK;
}

const server_codec jsonrpc_codec = {
    .name = "JSON-RPC",
    .protocol = "json",
    .default_listen = "127.0.0.1:8080",
    .open = jsonrpc_open,
    .close = jsonrpc_close,
    .feed = jsonrpc_feed,
};
