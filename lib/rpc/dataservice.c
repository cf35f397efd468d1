/* dataservice.c -- a gRPC data service over one SQLite file (user-, order- and post-server). */
#include "rpc/dataservice.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/secret.h"
#include "rpc/server.h"
#include "services/sqlstore.h"

static const char callers_help[] = N_(
    "Who may call (default: anyone who can reach the port):\n"
    "      --caller-secret-file PATH  answer only calls that carry the first\n"
    "                           line of PATH (chmod 600) in the request header\n"
    "                           wb-caller-secret, as the gateway sends it when\n"
    "                           given the same file; without the option, from\n"
    "                           $WB_CALLER_SECRET. Other calls get UNAUTHENTICATED;\n"
    "                           health checks and reflection stay open. Neither\n"
    "                           set: every call is answered, so grpcurl or the\n"
    "                           workbench can call the service directly");

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

int dataservice_reply_list(grpc_call *call, const ProtobufCMessageDescriptor *list, dataservice_fill_fn fill,
                           void *records, size_t n, char *msg, size_t msglen)
{
    const ProtobufCFieldDescriptor *f = &list->fields[0];
    if (list->n_fields != 1 || f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE) {
        err_set(msg, msglen, "%s is not a list of messages", list->name);
        return GRPC_INTERNAL;
    }
    const ProtobufCMessageDescriptor *item = f->descriptor;
    ProtobufCMessage *out = calloc(1, list->sizeof_message);
    char *items = calloc(n ? n : 1, item->sizeof_message);
    ProtobufCMessage **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    int rc;
    if (out && items && ptrs) {
        list->message_init(out);
        for (size_t i = 0; i < n; i++) {
            ptrs[i] = (ProtobufCMessage *)(items + i * item->sizeof_message);
            item->message_init(ptrs[i]);
            fill(ptrs[i], records, i);
        }
        *(size_t *)((char *)out + f->quantifier_offset) = n;
        *(ProtobufCMessage ***)((char *)out + f->offset) = ptrs;
        rc = grpcserver_reply(call, out) == 0 ? GRPC_OK : GRPC_INTERNAL;
    } else {
        err_set(msg, msglen, "out of memory for %zu %s", n, f->name);
        rc = GRPC_RESOURCE_EXHAUSTED;
    }
    free(ptrs);
    free(items);
    free(out);
    return rc;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* The caller secret of --caller-secret-file or $WB_CALLER_SECRET, for the gRPC server.
 * Returns 0, or -1 with err. */
static int require_caller(const char *file, char *err, size_t errlen)
{
    char secret[SECRET_MAX], why[400];
    int got = secret_pick(NULL, file, "WB_CALLER_SECRET", secret, sizeof secret, why, sizeof why);
    if (got < 0 || (got > 0 && grpcserver_require_caller(secret, why, sizeof why) < 0)) {
        err_set(err, errlen, "%s: %s", file ? "--caller-secret-file" : "$WB_CALLER_SECRET", why);
        got = -1;
    }
    memset(secret, 0, sizeof secret);
    return got < 0 ? -1 : 0;
}

int dataservice_main(const dataservice *ds, const server_codec *codec, const char *about,
                     const grpc_method *methods, size_t n, int argc, char **argv)
{
    char def[4096], err[512], text[4096];
    bool missing;
    if (server_lang(&argc, argv, ds->prog) != 0)
        return 2;
    const char *path = server_take_option(&argc, argv, "db", &missing);
    if (missing) {
        fprintf(stderr, "%s: %s\n", ds->prog, _("--db wants a file name"));
        return 2;
    }
    const char *secret_file = server_take_option(&argc, argv, "caller-secret-file", &missing);
    if (missing || grpcserver_take_options(&argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", ds->prog, missing ? _("--caller-secret-file wants a file name") : err);
        return 2;
    }
    if (grpcserver_add_methods(methods, n, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", ds->prog, err);
        return 1;
    }
    snprintf(text, sizeof text, "%s\n\n%s", _(about), _(callers_help));
    about = grpcserver_about(text);
    if (wants_help(argc, argv))
        return server_main(codec, ds->prog, about, argc, argv);
    if (require_caller(secret_file, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", ds->prog, err);
        return 2;
    }
    if (!path) {
        if (sqlstore_default_path(ds->db_name, def, sizeof def) < 0) {
            fprintf(stderr, _("%s: the default database path is too long; give --db\n"), ds->prog);
            return 2;
        }
        path = def;
    }
    if (ds->open(path, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", ds->prog, err);
        return 1;
    }
    server_codec named = *codec;
    named.default_service = ds->service;
    int rc = server_main(&named, ds->prog, about, argc, argv);
    grpcserver_stop_workers(); /* a call still on a worker uses the database */
    ds->close();
    return rc;
}
