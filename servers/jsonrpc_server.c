/* jsonrpc_server.c -- serves the sample services as JSON-RPC over TCP, as Go's net/rpc/jsonrpc does. */
#include <stdio.h>

#include "base/i18n.h"
#include "rpc/jsonrpc_codec.h"
#include "rpc/server.h"
#include "services/services.h"

int main(int argc, char **argv)
{
    char err[256];
    if (server_lang(&argc, argv, "jsonrpc-server") != 0)
        return 2;
    if (services_register(err, sizeof err) < 0) {
        fprintf(stderr, "jsonrpc-server: %s\n", err);
        return 1;
    }
    return server_main(&jsonrpc_codec, "jsonrpc-server",
                       _("Serves the sample services as JSON-RPC over plain TCP: Go's net/rpc/jsonrpc\n"
                         "form ({\"method\":M,\"params\":[ARG],\"id\":N}) and JSON-RPC 2.0. Try:\n"
                         "  echo '{\"method\":\"hello.HelloWorld\",\"params\":[\"李白\"],\"id\":0}' |\n"
                         "      nc -q 1 127.0.0.1 8080"),
                       argc, argv);
}
