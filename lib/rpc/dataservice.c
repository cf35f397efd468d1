/* dataservice.c -- a gRPC data service over one SQLite file (user-server, order-server). */
#include "rpc/dataservice.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/server.h"
#include "services/sqlstore.h"

int dataservice_status(store_status st)
{
    switch (st) {
    case STORE_OK: return GRPC_OK;
    case STORE_INVALID: return GRPC_INVALID_ARGUMENT;
    case STORE_EXISTS: return GRPC_ALREADY_EXISTS;
    case STORE_NOT_FOUND: return GRPC_NOT_FOUND;
    case STORE_DENIED: return GRPC_UNAUTHENTICATED;
    case STORE_BUSY: return GRPC_UNAVAILABLE;
    default: return GRPC_INTERNAL;
    }
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

int dataservice_main(const dataservice *ds, const server_codec *codec, const char *about,
                     const grpc_method *methods, size_t n, const char *path, int argc,
                     char **argv)
{
    char def[4096], err[512];
    if (grpcserver_take_options(&argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", ds->prog, err);
        return 2;
    }
    if (grpcserver_add_methods(methods, n, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", ds->prog, err);
        return 1;
    }
    about = grpcserver_about(about);
    if (wants_help(argc, argv))
        return server_main(codec, ds->prog, about, argc, argv);
    if (!path) {
        if (sqlstore_default_path(ds->db_name, def, sizeof def) < 0) {
            fprintf(stderr, "%s: the default database path is too long; give --db\n", ds->prog);
            return 2;
        }
        path = def;
    }
    if (ds->open(path, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", ds->prog, err);
        return 1;
    }
    char **av = calloc((size_t)argc + 3, sizeof *av);
    if (!av) {
        ds->close();
        return 1;
    }
    av[0] = argv[0];
    av[1] = "--service";
    av[2] = (char *)ds->service;
    memcpy(av + 3, argv + 1, (size_t)(argc - 1) * sizeof *av);
    int rc = server_main(codec, ds->prog, about, argc + 2, av);
    free(av);
    grpcserver_stop_workers(); /* a call still on a worker uses the database */
    ds->close();
    return rc;
}
