/* grpcserver.c -- the gRPC server codec's public face: connections opened with the
 * method table's hooks, the server's own methods added first, and the catalog's methods
 * served over gRPC. */
#include "rpc/grpcserver.h"

#include <pthread.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/log.h"
#include "rpc/grpcserver_int.h"
#include "wire/catalog.h"
#include "wire/pbvalue.h"

/* ---- the methods served ---- */

/* The server's own methods, added the way a program adds its. */
static const grpc_method builtins[] = {
    {"/grpc.health.v1.Health/Check", ghealth_check},
    {"/grpc.health.v1.Health/Watch", .message = ghealth_watch, .shutdown = ghealth_watch_shutdown},
    {"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", .message = greflect_answer,
     .input_done = gcall_end_ok},
    {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", .message = greflect_answer,
     .input_done = gcall_end_ok},
};

static pthread_once_t builtins_once = PTHREAD_ONCE_INIT;

static void add_builtins(void)
{
    char err[256];
    if (gmethods_add(builtins, sizeof builtins / sizeof builtins[0], err, sizeof err) < 0)
        log_msg("gRPC server: its own methods: %s", err);
}

int grpcserver_add_methods(const grpc_method *t, size_t n, char *err, size_t errlen)
{
    pthread_once(&builtins_once, add_builtins);
    return gmethods_add(t, n, err, errlen);
}

/* ---- the catalog's methods ---- */

/* A catalog method as a unary call: the request becomes a value, the catalog runs the
 * method, its reply becomes the reply message. */
static int catalog_unary(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const pb_method *pb = call->s->m;
    const catalog_method *cm = catalog_find_path(pb->path);
    if (!cm || !cm->fn) {
        err_set(msg, msglen, "no shared service for this method");
        return GRPC_UNIMPLEMENTED;
    }
    value *arg = pbvalue_from_message(req), *reply = NULL, *wrapped = NULL;
    if (!arg) {
        err_set(msg, msglen, "out of memory");
        return GRPC_RESOURCE_EXHAUSTED;
    }
    char why[512];
    int st = GRPC_OK;
    if (catalog_call(cm, arg, &reply, why, sizeof why) != CATALOG_OK) {
        err_set(msg, msglen, "%s", why);
        st = strcmp(why, "out of memory") == 0 ? GRPC_RESOURCE_EXHAUSTED : GRPC_INVALID_ARGUMENT;
        goto done;
    }
    /* A bare reply (Multiply's int) fills a reply message's only field (Product{value}). */
    const value *rv = reply;
    if (reply->kind != V_STRUCT && reply->kind != V_MAP && pb->output->n_fields == 1) {
        wrapped = value_struct(pb->output->short_name);
        if (!wrapped || value_struct_set(wrapped, pb->output->fields[0].name, value_clone(reply)) < 0) {
            err_set(msg, msglen, "out of memory");
            st = GRPC_RESOURCE_EXHAUSTED;
            goto done;
        }
        rv = wrapped;
    }
    ProtobufCMessage *out = pbvalue_to_message(pb->output, rv, why, sizeof why);
    if (!out) {
        err_set(msg, msglen, "cannot encode the reply as %s: %s", pb->output->name, why);
        st = GRPC_INTERNAL;
        goto done;
    }
    if (grpcserver_reply(call, out) < 0)
        st = GRPC_INTERNAL; /* the call has ended with INTERNAL already */
    protobuf_c_message_free_unpacked(out, NULL);
done:
    value_free(arg);
    value_free(reply);
    value_free(wrapped);
    return st;
}

int grpcserver_add_catalog(char *err, size_t errlen)
{
    const catalog_method *cm;
    for (size_t i = 0; (cm = catalog_at(i)); i++) {
        if (!cm->grpc_path || !cm->fn)
            continue;
        grpc_method e = {cm->grpc_path, catalog_unary};
        if (grpcserver_add_methods(&e, 1, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* ---- the codec ---- */

static const gconn_hooks hooks = {
    .bind = gmethods_bind,
    .message = gmethods_message,
    .input_done = gmethods_input_done,
    .more = gmethods_more,
    .shutdown = gmethods_shutdown,
    .abandon = gunary_abandon,
};

/* The server's own methods are served also by a program that adds none. */
static void *open_conn(server_conn *sc, size_t max_message)
{
    pthread_once(&builtins_once, add_builtins);
    return gconn_open(sc, max_message, &hooks);
}

const server_codec grpcserver_codec = {
    .name = "gRPC (HTTP/2, cleartext)",
    .protocol = "grpc",
    .default_listen = "127.0.0.1:50051",
    .open_conn = open_conn,
    .close = gconn_close,
    .feed = gconn_feed,
    .shutdown = gconn_shutdown,
    .feed_on_writable = true,
    .busy = gconn_busy,
    .progress = gconn_progress,
    .methods_help = N_(
        "Methods served (gRPC paths; the first three run the same code as the gob and\n"
        "JSON-RPC servers):\n"
        "  /helloworld.Greeter/SayHello  {name} -> {message: \"Hello \" + name}\n"
        "  /arith.Arith/Multiply         Args{A, B} -> Product{value: A*B}\n"
        "  /arith.Arith/Divide           Args{A, B} -> Quotient{Quo, Rem};\n"
        "                                B = 0 -> INVALID_ARGUMENT \"divide by zero\"\n"
        "  /tally.Tally/Count            {to, interval_ms} -> 1, 2, ... to\n"
        "                                (server streaming; interval_ms at most 1000)\n"
        "  /tally.Tally/Total            Numbers -> their sum (client streaming)\n"
        "  /tally.Tally/RunningTotal     Numbers -> the running sums (bidirectional)\n"
        "  /grpc.health.v1.Health/Check and /Watch\n"
        "  /grpc.reflection.v1.ServerReflection/ServerReflectionInfo, and v1alpha's\n"
        "A message over --max-message gets RESOURCE_EXHAUSTED; only its call fails.\n"
        "Requests may be gzip-compressed (grpc-encoding: gzip; capped at --max-message\n"
        "once inflated); replies go uncompressed.\n"),
};
