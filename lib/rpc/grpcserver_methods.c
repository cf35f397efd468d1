/* grpcserver_methods.c -- the gRPC server's one method table: the entries it takes, the
 * method each stream binds to by its :path, and the dispatch of a call's messages and
 * events to that method's handler or hooks. */
#include "rpc/grpcserver_int.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"

#define MAX_METHODS 64
#define STREAM_OUT_CAP (4u << 20)     /* replies a bidi call may queue for a client not reading them */

/* ---- the table ---- */

typedef struct bound {
    grpc_method method;
    const pb_method *pb;
} bound;

static bound table[MAX_METHODS];
static size_t ntable;

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

int gmethods_add(const grpc_method *t, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const pb_method *pb = check_entry(&t[i], err, errlen);
        if (!pb)
            return -1;
        table[ntable++] = (bound){t[i], pb};
    }
    return 0;
}

/* ---- dispatch ---- */

bool gmethods_service_served(const char *name)
{
    if (!name[0])
        return true;
    for (size_t i = 0; i < ntable; i++)
        if (strcmp(table[i].pb->service, name) == 0)
            return true;
    return false;
}

size_t gmethods_count(void) { return ntable; }

bool gmethods_bind(gstream *s)
{
    const bound *b = find_bound(s->path);
    if (b) {
        if (!gcall_admit(s, b->pb->service))
            return false;
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
