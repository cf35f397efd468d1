/* grpcserver.c -- the gRPC server codec's public face, its method dispatch, and the
 * sample methods (Greeter and Arith through the shared services; Tally). */
#include "rpc/grpcserver.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "rpc/grpcserver_int.h"
#include "services/services.h"
#include "tally.pb-c.h"
#include "wire/pbvalue.h"

#define COUNT_CHUNK (64u * 1024)      /* Count without interval: messages made per read */
#define MAX_INTERVAL_MS 1000
#define STREAM_OUT_CAP (4u << 20)     /* replies a bidi call may queue for a client not reading them */

static const grpc_unary *extra_methods;
static size_t nextra_methods;
static bool serve_samples = true;

void grpcserver_set_methods(const grpc_unary *table, size_t n, bool samples)
{
    extra_methods = table;
    nextra_methods = n;
    serve_samples = samples;
}

/* ---- dispatch ---- */

/* Go's int64 addition: wraps around instead of overflowing. */
static int64_t add_wrap(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

static const struct {
    const char *path;
    handler h;
    bool sample;
} handlers[] = {
    {"/helloworld.Greeter/SayHello", H_SERVICE, true},
    {"/arith.Arith/Multiply", H_SERVICE, true},
    {"/arith.Arith/Divide", H_SERVICE, true},
    {"/tally.Tally/Count", H_COUNT, true},
    {"/tally.Tally/Total", H_TOTAL, true},
    {"/tally.Tally/RunningTotal", H_RUNNING, true},
    {"/grpc.health.v1.Health/Check", H_HEALTH_CHECK},
    {"/grpc.health.v1.Health/Watch", H_HEALTH_WATCH},
    {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", H_REFLECTION},
};

static bool path_served(const char *path)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (strcmp(handlers[i].path, path) == 0 && (serve_samples || !handlers[i].sample))
            return true;
    for (size_t i = 0; i < nextra_methods; i++)
        if (strcmp(extra_methods[i].path, path) == 0)
            return true;
    return false;
}

bool gmethods_service_served(const char *name)
{
    if (!name[0])
        return true;
    size_t n;
    const pb_method *all = pbcatalog_methods(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].service, name) == 0 && path_served(all[i].path))
            return true;
    return false;
}

bool gmethods_bind(gstream *s)
{
    char m[600];
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (strcmp(handlers[i].path, s->path) == 0 && (serve_samples || !handlers[i].sample)) {
            s->m = pbcatalog_find(s->path);
            s->h = handlers[i].h;
        }
    for (size_t i = 0; !s->m && i < nextra_methods; i++)
        if (strcmp(extra_methods[i].path, s->path) == 0 && (s->m = pbcatalog_find(s->path))) {
            s->h = H_EXTRA;
            s->extra = &extra_methods[i];
        }
    if (!s->m) {
        /* grpc-go's wording: unknown service, or unknown method of a known service */
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
    return true;
}

/* ---- the sample methods ---- */

/* Greeter and Arith: the request becomes a value, the shared service runs, its reply
 * becomes the reply message. */
static void run_service(gstream *s)
{
    char err[512];
    value *arg = NULL, *reply = NULL, *wrapped = NULL;
    const method *sm = s->m->rpc_name ? service_find(s->m->rpc_name, err, sizeof err) : NULL;
    if (!sm) {
        gstream_finish(s, GRPC_UNIMPLEMENTED, "no shared service for this method");
        return;
    }
    arg = pbvalue_from_message(s->req);
    if (!arg) {
        gstream_finish(s, GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    if (service_call(sm, arg, &reply, err, sizeof err) < 0) {
        gstream_finish(s, strcmp(err, "out of memory") == 0 ? GRPC_RESOURCE_EXHAUSTED
                                                            : GRPC_INVALID_ARGUMENT,
                      err);
        goto done;
    }
    /* A bare reply (Multiply's int) fills a reply message's only field (Product{value}). */
    const value *rv = reply;
    if (reply->kind != V_STRUCT && reply->kind != V_MAP && s->m->output->n_fields == 1) {
        wrapped = value_struct(s->m->output->short_name);
        value *copy = value_clone(reply);
        if (!wrapped || value_struct_set(wrapped, s->m->output->fields[0].name, copy) < 0) {
            gstream_finish(s, GRPC_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        rv = wrapped;
    }
    ProtobufCMessage *out = pbvalue_to_message(s->m->output, rv, err, sizeof err);
    if (!out) {
        char msg[600];
        snprintf(msg, sizeof msg, "cannot encode the reply as %s: %s", s->m->output->name, err);
        gstream_finish(s, GRPC_INTERNAL, msg);
        goto done;
    }
    if (gstream_send(s, out) == 0)
        gstream_finish(s, GRPC_OK, NULL);
    protobuf_c_message_free_unpacked(out, NULL);
done:
    value_free(arg);
    value_free(reply);
    value_free(wrapped);
}

/* Tally/Count: 1..to, as fast as the client reads, or one every interval_ms. */
static void count_make(gstream *s, size_t budget)
{
    while (s->counting && s->count_next <= s->count_to && buf_size(&s->out) < budget) {
        Tally__Number num = TALLY__NUMBER__INIT;
        num.value = s->count_next++;
        if (gstream_send(s, &num.base) < 0)
            return;
    }
    if (s->counting && s->count_next > s->count_to) {
        s->counting = false;
        gstream_finish(s, GRPC_OK, NULL);
    }
}

void gmethods_count_more(gstream *s)
{
    if (s->counting && s->interval_ms == 0 && !s->finished)
        count_make(s, COUNT_CHUNK);
}

static void on_count_tick(loop *l, void *ud)
{
    (void)l;
    gstream *s = ud;
    s->tick_timer = 0;
    if (!s->counting)
        return;
    count_make(s, 1); /* one message */
    if (s->counting)
        s->tick_timer = server_conn_timer(s->c->sc, (uint64_t)s->interval_ms, on_count_tick, s);
    server_conn_flush(s->c->sc);
}

static void start_count(gstream *s)
{
    const Tally__CountRequest *r = (const Tally__CountRequest *)s->req;
    if (r->interval_ms < 0 || r->interval_ms > MAX_INTERVAL_MS) {
        char msg[128];
        snprintf(msg, sizeof msg, "interval_ms must be between 0 and %d, not %" PRId32,
                 MAX_INTERVAL_MS, r->interval_ms);
        gstream_finish(s, GRPC_INVALID_ARGUMENT, msg);
        return;
    }
    s->count_next = 1;
    s->count_to = r->to;
    s->interval_ms = r->interval_ms;
    s->counting = true;
    gstream_start_response(s);
    if (s->interval_ms == 0) {
        count_make(s, COUNT_CHUNK);
        return;
    }
    count_make(s, 1);
    if (s->counting)
        s->tick_timer = server_conn_timer(s->c->sc, (uint64_t)s->interval_ms, on_count_tick, s);
}

/* ---- a call's messages ---- */

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
    if ((s->h == H_RUNNING || s->h == H_REFLECTION) && buf_size(&s->out) > STREAM_OUT_CAP) {
        /* the trailers could not get past the replies it does not read: reset the stream */
        protobuf_c_message_free_unpacked(msg, NULL);
        log_msg("%s: %s: the client sends requests but does not read the replies (over %u bytes "
                "queued): stream reset", server_conn_peer(s->c->sc), s->path, STREAM_OUT_CAP);
        s->finished = true;
        gstream_stop_timers(s);
        buf_done(&s->out);
        nghttp2_submit_rst_stream(s->c->h2, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_ENHANCE_YOUR_CALM);
        return;
    }
    switch (s->h) {
    case H_SERVICE: case H_COUNT: case H_HEALTH_CHECK: case H_HEALTH_WATCH: case H_EXTRA:
        if (s->req) {
            protobuf_c_message_free_unpacked(msg, NULL);
            gstream_finish(s, GRPC_INTERNAL,
                          "grpc: a second request message on a method that takes one");
            return;
        }
        s->req = msg;
        /* streaming replies start without waiting for the client's half-close */
        if (s->h == H_COUNT)
            start_count(s);
        else if (s->h == H_HEALTH_WATCH)
            ghealth_watch(s);
        return;
    case H_TOTAL:
        s->sum = add_wrap(s->sum, ((Tally__Number *)msg)->value);
        break;
    case H_RUNNING: {
        s->sum = add_wrap(s->sum, ((Tally__Number *)msg)->value);
        Tally__Number r = TALLY__NUMBER__INIT;
        r.value = s->sum;
        gstream_send(s, &r.base);
        break;
    }
    case H_REFLECTION:
        greflect_answer(s, (Grpc__Reflection__V1alpha__ServerReflectionRequest *)msg);
        break;
    }
    protobuf_c_message_free_unpacked(msg, NULL);
}

void gmethods_input_done(gstream *s)
{
    s->input_done = true;
    if (s->finished || !s->m)
        return;
    if ((s->h == H_SERVICE || s->h == H_COUNT || s->h == H_HEALTH_CHECK || s->h == H_HEALTH_WATCH ||
         s->h == H_EXTRA) &&
        !s->req) {
        gstream_finish(s, GRPC_INTERNAL, "grpc: the client sent no request message");
        return;
    }
    switch (s->h) {
    case H_SERVICE: run_service(s); break;
    case H_EXTRA: gextra_run(s); break;
    case H_HEALTH_CHECK: ghealth_check(s); break;
    case H_TOTAL: {
        Tally__Number r = TALLY__NUMBER__INIT;
        r.value = s->sum;
        if (gstream_send(s, &r.base) == 0)
            gstream_finish(s, GRPC_OK, NULL);
        break;
    }
    case H_RUNNING: case H_REFLECTION: gstream_finish(s, GRPC_OK, NULL); break;
    case H_COUNT: case H_HEALTH_WATCH: break; /* they go on */
    }
}

/* ---- the codec ---- */

const server_codec grpcserver_codec = {
    .name = "gRPC (HTTP/2, cleartext)",
    .protocol = "grpc",
    .default_listen = "127.0.0.1:50051",
    .open_conn = gconn_open,
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
