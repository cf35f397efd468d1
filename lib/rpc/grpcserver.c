/* grpcserver.c -- the gRPC server codec's public face, its one method table and the
 * dispatch of each call's messages, and the catalog's methods served over gRPC. */
#include "rpc/grpcserver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "rpc/grpcserver_int.h"
#include "wire/catalog.h"
#include "wire/pbvalue.h"

#define MAX_METHODS 64
#define STREAM_OUT_CAP (4u << 20)     /* replies a bidi call may queue for a client not reading them */

/* ---- the method table ---- */

typedef struct bound {
    grpc_method method;
    const pb_method *pb;
} bound;

static bound table[MAX_METHODS];
static size_t ntable;

/* The server's own methods, added the way a program adds its. */
static const grpc_method builtins[] = {
    {"/grpc.health.v1.Health/Check", ghealth_check},
    {"/grpc.health.v1.Health/Watch", .message = ghealth_watch, .shutdown = ghealth_watch_shutdown},
    {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", .message = greflect_answer,
     .input_done = gcall_end_ok},
};

static const bound *find_bound(const char *path)
{
    for (size_t i = 0; i < ntable; i++)
        if (strcmp(table[i].method.path, path) == 0)
            return &table[i];
    return NULL;
}

/* Checks one entry against its compiled-in shape; returns it, or NULL with err. */
static const pb_method *check_entry(const grpc_method *e, char *err, size_t errlen)
{
    const pb_method *pb = e->path && e->path[0] == '/' ? pbcatalog_find(e->path) : NULL;
    if (!pb) {
        err_set(err, errlen, "gRPC method %s is not compiled in (proto/)", e->path ? e->path : "(null)");
        return NULL;
    }
    bool streaming = pb->client_streaming || pb->server_streaming;
    if (e->unary ? streaming || e->message : !streaming || !e->message) {
        err_set(err, errlen, "%s is a %s method: it wants %s", e->path,
                streaming ? "streaming" : "unary", streaming ? "a message hook" : "a unary handler");
        return NULL;
    }
    if (find_bound(e->path)) {
        err_set(err, errlen, "%s is served twice", e->path);
        return NULL;
    }
    if (ntable == MAX_METHODS) {
        err_set(err, errlen, "the gRPC server's method table is full (%d methods)", MAX_METHODS);
        return NULL;
    }
    return pb;
}

static int add(const grpc_method *t, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const pb_method *pb = check_entry(&t[i], err, errlen);
        if (!pb)
            return -1;
        table[ntable++] = (bound){t[i], pb};
    }
    return 0;
}

static pthread_once_t builtins_once = PTHREAD_ONCE_INIT;

static void add_builtins(void)
{
    char err[256];
    if (add(builtins, sizeof builtins / sizeof builtins[0], err, sizeof err) < 0)
        log_msg("gRPC server: its own methods: %s", err);
}

int grpcserver_add_methods(const grpc_method *t, size_t n, char *err, size_t errlen)
{
    pthread_once(&builtins_once, add_builtins);
    return add(t, n, err, errlen);
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

/* ---- dispatch ---- */

bool gmethods_service_served(const char *name)
{
    if (!name[0])
        return true;
    pthread_once(&builtins_once, add_builtins);
    for (size_t i = 0; i < ntable; i++)
        if (strcmp(table[i].pb->service, name) == 0)
            return true;
    return false;
}

bool gmethods_bind(gstream *s)
{
    pthread_once(&builtins_once, add_builtins);
    const bound *b = find_bound(s->path);
    if (b) {
        s->method = &b->method;
        s->m = b->pb;
        return true;
    }
    /* grpc-go's wording: unknown service, or unknown method of a known service */
    char m[600];
    const char *p = s->path[0] == '/' ? s->path + 1 : s->path;
    const char *slash = strchr(p, '/');
    char svc[256];
    snprintf(svc, sizeof svc, "%.*s", slash ? (int)(slash - p) : (int)strlen(p), p);
    if (slash && gmethods_service_served(svc))
        snprintf(m, sizeof m, "unknown method %s for service %s", slash + 1, svc);
    else
        snprintf(m, sizeof m, "unknown service %s", svc);
    gstream_finish(s, GRPC_UNIMPLEMENTED, m);
    return false;
}

void gmethods_message(gstream *s, const uint8_t *p, size_t n)
{
    ProtobufCMessage *msg = protobuf_c_message_unpack(s->m->input, NULL, n, p);
    if (!msg) {
        char m[256];
        snprintf(m, sizeof m, "grpc: error unmarshalling request: %zu bytes are not a valid %s",
                 n, s->m->input->name);
        gstream_finish(s, GRPC_INTERNAL, m);
        return;
    }
    if (s->m->client_streaming && s->m->server_streaming && buf_size(&s->out) > STREAM_OUT_CAP) {
        /* the trailers could not get past the replies it does not read: reset the stream */
        protobuf_c_message_free_unpacked(msg, NULL);
        log_msg("%s: %s: the client sends requests but does not read the replies (over %u bytes "
                "queued): stream reset", server_conn_peer(s->c->sc), s->path, STREAM_OUT_CAP);
        gstream_reset(s);
        return;
    }
    if (s->m->client_streaming) {
        s->method->message(&s->call, msg);
        protobuf_c_message_free_unpacked(msg, NULL);
        return;
    }
    if (s->req) {
        protobuf_c_message_free_unpacked(msg, NULL);
        gstream_finish(s, GRPC_INTERNAL, "grpc: a second request message on a method that takes one");
        return;
    }
    s->req = msg;
    if (s->method->message) /* a server stream starts without waiting for the half-close */
        s->method->message(&s->call, msg);
}

void gmethods_input_done(gstream *s)
{
    if (s->finished || !s->m)
        return;
    if (!s->m->client_streaming && !s->req) {
        gstream_finish(s, GRPC_INTERNAL, "grpc: the client sent no request message");
        return;
    }
    if (s->method->unary)
        gunary_run(s);
    else if (s->method->input_done)
        s->method->input_done(&s->call);
}

void gmethods_more(gstream *s)
{
    if (!s->finished && s->method && s->method->more)
        s->method->more(&s->call);
}

void gmethods_shutdown(gstream *s)
{
    if (!s->finished && s->method && s->method->shutdown)
        s->method->shutdown(&s->call);
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

static void *open_conn(server_conn *sc, size_t max_message)
{
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
    .methods_help =
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
        "  /grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo\n"
        "A message over --max-message gets RESOURCE_EXHAUSTED; only its call fails.\n"
        "Requests may be gzip-compressed (grpc-encoding: gzip; capped at --max-message\n"
        "once inflated); replies go uncompressed.\n",
};
