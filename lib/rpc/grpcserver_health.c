/* grpcserver_health.c -- grpc.health.v1.Health: Check, and Watch until shutdown. */
#include "rpc/grpcserver_int.h"

#include <stdio.h>

#include "health.pb-c.h"

#define WATCH_END_DELAY_MS 200        /* on shutdown, between NOT_SERVING and the end of a Watch */

static int health_status(const gconn *c, const char *service)
{
    if (!gmethods_service_served(service))
        return GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    return c->shutting_down ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
                            : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
}

static void send_health(gstream *s, int status)
{
    Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
    gstream_send(s, &r.base);
}

void ghealth_check(gstream *s)
{
    const char *svc = ((Grpc__Health__V1__HealthCheckRequest *)s->req)->service;
    int st = health_status(s->c, svc);
    if (st == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN) {
        char m[300];
        snprintf(m, sizeof m, "unknown service %s", svc);
        gstream_finish(s, GRPC_NOT_FOUND, m);
        return;
    }
    send_health(s, st);
    gstream_finish(s, GRPC_OK, NULL);
}

void ghealth_watch(gstream *s)
{
    const char *svc = ((Grpc__Health__V1__HealthCheckRequest *)s->req)->service;
    s->watching = true;
    send_health(s, health_status(s->c, svc));
    if (s->c->shutting_down)
        gstream_finish(s, GRPC_UNAVAILABLE, "the server is shutting down");
}

static void on_watch_end(loop *l, void *ud)
{
    (void)l;
    gstream *s = ud;
    s->tick_timer = 0;
    gstream_finish(s, GRPC_UNAVAILABLE, "the server is shutting down");
    server_conn_flush(s->c->sc);
}

void ghealth_shutdown(gconn *c)
{
    /* Watches would never end: tell them NOT_SERVING, then end them a little later (a
     * client that learns the status at once may drop a message it has not read yet). */
    for (gstream *s = c->streams; s; s = s->next)
        if (s->watching && !s->finished) {
            send_health(s, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
            if (!s->tick_timer)
                s->tick_timer = server_conn_timer(c->sc, WATCH_END_DELAY_MS, on_watch_end, s);
        }
}
