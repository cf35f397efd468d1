/* dataservice.h -- a gRPC data service over one SQLite file: what user-server,
 * order-server and post-server share around their methods (--help, the --db default,
 * open, serve, close, list replies). */
#ifndef WB_DATASERVICE_H
#define WB_DATASERVICE_H

#include <stddef.h>

#include "rpc/grpcserver.h"
#include "services/sqlstore.h"

typedef struct dataservice {
    const char *prog;    /* "order-server": in --help and in error messages */
    const char *service; /* the registry service name by default: "order" */
    const char *db_name; /* the default file's name, for sqlstore_default_path: "orders" */
    /* Opens the store at path into the program's own state. Returns 0, or -1 with a
     * reason in err. */
    int (*open)(const char *path, char *err, size_t errlen);
    /* Closes what open opened. */
    void (*close)(void);
} dataservice;

/* Serves methods (as grpcserver_add_methods; the samples are not served) with codec and
 * about in --help. Takes --db PATH and --caller-secret-file PATH out of argv; with the
 * latter, or else with $WB_CALLER_SECRET set, only calls carrying that secret are
 * answered (grpcserver_require_caller). --help and -h are answered without opening the
 * database or the secret's file; otherwise the file at --db's path (without it, the
 * default file for ds->db_name) is opened, server_main runs with ds->service as the
 * codec's default_service (so --service or $MICRO_SERVER_NAME wins), and the database is
 * closed afterwards. A program's other options are taken out of argv first, with
 * server_take_option. Returns the process exit code: 2 for --db without a path, a default
 * path too long or a caller secret that cannot be read, 1 when the methods cannot be
 * served or the database cannot be opened, else server_main's. */
int dataservice_main(const dataservice *ds, const server_codec *codec, const char *about,
                     const grpc_method *methods, size_t n, int argc, char **argv);

/* The gRPC status a data service answers with when a store operation came to st:
 * GRPC_OK, INVALID_ARGUMENT, ALREADY_EXISTS, NOT_FOUND, UNAUTHENTICATED, UNAVAILABLE
 * (busy: try again) or INTERNAL. */
int dataservice_status(store_status st);

/* Fills item, a message of a list's item type (initialised), from records[i]. */
typedef void (*dataservice_fill_fn)(ProtobufCMessage *item, void *records, size_t i);

/* Answers call with a message of type list, whose one field is a repeated message,
 * holding n items filled by fill from records. Returns GRPC_OK, or the status with a
 * reason in msg (RESOURCE_EXHAUSTED when out of memory). */
int dataservice_reply_list(grpc_call *call, const ProtobufCMessageDescriptor *list, dataservice_fill_fn fill,
                           void *records, size_t n, char *msg, size_t msglen);

#endif
