/* jsonrpc_server.c -- serves the sample services as JSON-RPC over TCP, as Go's net/rpc/jsonrpc does. */
#include <stdio.h>
#include <stdlib.h>

#include "rpc/server.h"
#include "services/services.h"
#include "wire/jsonrpc.h"

typedef struct jsonrpc_conn {
    size_t max_message;
} jsonrpc_conn;

static void *jsonrpc_open(size_t max_message)
{
    jsonrpc_conn *c = malloc(sizeof *c);
    if (c)
        c->max_message = max_message;
    return c;
}

static void jsonrpc_close(void *state) { free(state); }

static feed_result jsonrpc_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen)
{
    jsonrpc_conn *c = state;
    return jsonrpc_serve(in, out, c->max_message, eof, err, errlen) < 0 ? FEED_CLOSE : FEED_OK;
}

static const server_codec jsonrpc_codec = {
    .name = "JSON-RPC",
    .protocol = "json",
    .default_listen = "127.0.0.1:8080",
    .open = jsonrpc_open,
    .close = jsonrpc_close,
    .feed = jsonrpc_feed,
};

int main(int argc, char **argv)
{
    char err[256];
    if (services_register(err, sizeof err) < 0) {
        fprintf(stderr, "jsonrpc-server: %s\n", err);
        return 1;
    }
    return server_main(&jsonrpc_codec, "jsonrpc-server",
                       "Serves the sample services as JSON-RPC over plain TCP: Go's net/rpc/jsonrpc\n"
                       "form ({\"method\":M,\"params\":[ARG],\"id\":N}) and JSON-RPC 2.0. Try:\n"
                       "  echo '{\"method\":\"hello.HelloWorld\",\"params\":[\"李白\"],\"id\":0}' | nc -q 1 127.0.0.1 8080",
                       argc, argv);
}
