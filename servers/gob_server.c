/* gob_server.c -- serves the sample services over Go's net/rpc default codec, gob. */
#include <stdio.h>

#include "base/i18n.h"
#include "rpc/gob_codec.h"
#include "rpc/server.h"
#include "services/services.h"

int main(int argc, char **argv)
{
    char err[256];
    if (server_lang(&argc, argv, "gob-server") != 0)
        return 2;
    if (services_register(err, sizeof err) < 0) {
        fprintf(stderr, "gob-server: %s\n", err);
        return 1;
    }
    return server_main(&gob_codec, "gob-server",
                       _("Serves the sample services with Go's net/rpc default codec, encoding/gob.\n"
                         "Go programs call it with rpc.Dial(\"tcp\", \"127.0.0.1:8081\"). Try:\n"
                         "  bin/workbench call gob://127.0.0.1:8081 Arith.Multiply '{\"A\":7,\"B\":8}' --wire"),
                       argc, argv);
}
