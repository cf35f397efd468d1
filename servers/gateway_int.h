/* gateway_int.h -- what the gateway's files share: the services it calls and who serves
 * them, its settings, and the seams between membership (gateway_members.c), the routes
 * (gateway_routes.c) and main (gateway.c). */
#ifndef WB_GATEWAY_INT_H
#define WB_GATEWAY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "registry/registry.h"
#include "rpc/balancer.h"

#define MAX_MEMBERS 64
#define WATCH_POLL_MS 30

enum { SVC_USER, SVC_ORDER, SVC_ARITH, NSVC };

typedef struct directory {
    char name[128];         /* the registry service name */
    pthread_mutex_t mu;
    char addrs[MAX_MEMBERS][128];
    size_t n;
    unsigned gen;           /* bumped on every change */
    registry_watch *watch;  /* only the membership thread touches this */
} directory;

typedef struct gateway {
    char registry_url[512];
    registry_auth auth; /* its token and user point into the two buffers below, or are NULL */
    char auth_token[1024], auth_user[1024];
    int timeout_ms, max_body;
    bool quiet;
    directory dir[NSVC];
    atomic_bool stop;
    pthread_t members;
    pthread_key_t worker_key;
} gateway;

/* The one gateway of the process: set by main before any thread starts, read after. */
extern gateway gw;

/* Names the services (names[SVC_USER]...), then starts the membership thread, which lists
 * each service in gw.registry_url and follows its watch. Returns 0, or -1 with err. */
int gateway_members_start(const char *const names[NSVC], char *err, size_t errlen);
/* Stops the membership thread and waits for it (at most about WATCH_POLL_MS). */
void gateway_members_stop(void);
/* The calling thread's balancer for service svc, made the first time and synced with the
 * registry's members when they changed. NULL when memory ran out. */
balancer *gateway_balancer(int svc);

/* libmicrohttpd's access handler and its completion callback: the routes. */
enum MHD_Result gateway_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version, const char *upload,
                                   size_t *upload_size, void **ctx);
void gateway_on_completed(void *cls, struct MHD_Connection *c, void **ctx,
                          enum MHD_RequestTerminationCode why);

#endif
