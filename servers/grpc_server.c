/* grpc_server.c -- serves the sample services, Tally, health and reflection over gRPC (HTTP/2). */
#include <stdio.h>

#include "base/i18n.h"
#include "rpc/grpcserver.h"
#include "rpc/server.h"
#include "services/services.h"

int main(int argc, char **argv)
{
    char err[256];
    if (server_lang(&argc, argv, "grpc-server") != 0)
        return 2;
    if (grpcserver_take_options(&argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "grpc-server: %s\n", err);
        return 2;
    }
    if (services_register(err, sizeof err) < 0 || grpcserver_add_catalog(err, sizeof err) < 0 ||
        grpcserver_add_methods(grpcserver_tally, grpcserver_ntally, err, sizeof err) < 0) {
        fprintf(stderr, "grpc-server: %s\n", err);
        return 1;
    }
    const char *about = grpcserver_about(_(
        "Serves gRPC over cleartext HTTP/2 (prior knowledge, as clients with insecure\n"
        "credentials speak it): helloworld.Greeter/SayHello, arith.Arith/Multiply and\n"
        "Divide, tally.Tally/Count|Total|RunningTotal (one of each streaming kind),\n"
        "grpc.health.v1.Health and server reflection (grpcurl -plaintext ... list). Try:\n"
        "  bin/workbench call grpc://127.0.0.1:50051 helloworld.Greeter/SayHello \\\n"
        "      '{\"name\":\"world\"}' --wire\n"
        "HTTP/2 limits: 128 streams per connection; a request's header list at most\n"
        "64 KiB as SETTINGS_MAX_HEADER_LIST_SIZE says (name + value + 32 per field): a\n"
        "longer one resets its stream, a second closes the connection with GOAWAY\n"
        "(ENHANCE_YOUR_CALM), as do headers sent faster than 512 KiB of them, decoded,\n"
        "are read per turn of the server's loop."));
    return server_main(&grpcserver_codec, "grpc-server", about, argc, argv);
}
