/* grpcserver_health.c -- grpc.health.v1.Health: Check, and Watch until shutdown. */
#include "rpc/grpcserver_int.h"

#include <stdio.h>

#include "base/err.h"
#include "health.pb-c.h"

#define WATCH_END_DELAY_MS 200        /* on shutdown, between NOT_SERVING and the end of a Watch */

static int health_status(const gconn *c, const char *service)
{
    if (!gmethods_service_served(service))
        return GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    return c->shutting_down ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
                            : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
}

static int send_health(grpc_call *call, int status)
{
    Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
    return grpcserver_reply(call, &r.base);
}

int ghealth_check(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const char *svc = ((const Grpc__Health__V1__HealthCheckRequest *)req)->service;
    int st = health_status(call->s->c, svc);
    if (st == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN) {
        char m[300];
        snprintf(m, sizeof m, "unknown service %s", svc);
        err_set(msg, msglen, "%s", m);
        return GRPC_NOT_FOUND;
    }
    return send_health(call, st) == 0 ? GRPC_OK : GRPC_INTERNAL;
}

void ghealth_watch(grpc_call *call, const ProtobufCMessage *req)
{
    const char *svc = ((const Grpc__Health__V1__HealthCheckRequest *)req)->service;
    send_health(call, health_status(call->s->c, svc));
    if (call->s->c->shutting_down)
        grpcserver_finish(call, GRPC_UNAVAILABLE, "the server is shutting down");
}

static void on_watch_end(loop *l, void *ud)
{
    (void)l;
    gstream *s = ud;
    s->tick_timer = 0;
    gstream_finish(s, GRPC_UNAVAILABLE, "the server is shutting down");
    server_conn_flush(s->c->sc);
}

void ghealth_watch_shutdown(grpc_call *call)
{
    /* A watch would never end: tell it NOT_SERVING, then end it a little later (a client
     * that learns the status at once may drop a message it has not read yet). */
    gstream *s = call->s;
    if (!s->req)
        return; /* not watching yet: the request has not come */
    send_health(call, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
    if (!s->tick_timer)
        s->tick_timer = server_conn_timer(s->c->sc, WATCH_END_DELAY_MS, on_watch_end, s);
}
