/* gateway_int.h -- what the gateway's files share: the services it calls and who serves
 * them, its settings, and the seams between membership (gateway_members.c), the routes
 * (gateway_routes.c), the connection limits (gateway_conns.c) and main (gateway.c). */
#ifndef WB_GATEWAY_INT_H
#define WB_GATEWAY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "base/secret.h"
#include "registry/registry.h"
#include "rpc/balancer.h"

#define MAX_MEMBERS 64
#define WATCH_POLL_MS 30

enum { SVC_USER, SVC_ORDER, SVC_ARITH, SVC_POST, NSVC };

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
    registry_auth auth; /* its token and user: the gateway's own copies, or NULL */
    char caller_secret[SECRET_MAX]; /* sent to the user and order services; "": none */
    int timeout_ms, max_body;
    /* login throttling: failures per user name and per client address (burst, and
     * refilled per minute; burst 0 turns one off), and the threads for the calls that
     * hash a password, with how many may wait for one */
    int login_burst, login_rate, login_addr_burst, login_addr_rate;
    int login_concurrency, login_queue;
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

/* ---- login throttling (gateway_throttle.c) ---- */

typedef enum { THROTTLE_OK, THROTTLE_USER, THROTTLE_ADDR } throttle_verdict;

/* Seeds the hashes and starts gw.login_concurrency threads for the slow calls. Returns
 * 0, or -1 with err. */
int gateway_throttle_start(char *err, size_t errlen);
/* Stops taking jobs, answers the ones waiting as cancelled, waits for the running ones
 * (their own deadlines bound the wait) and ends the threads. */
void gateway_throttle_stop(void);
/* Before a login of user from addr (NULL: unknown): THROTTLE_OK, or the budget that is
 * spent, with the seconds until it allows a try in *retry_after_s. Nothing is taken:
 * logins in flight together may overdraw a budget, and then its debt lasts longer. */
throttle_verdict gateway_throttle_check(const char *user, const struct sockaddr *addr, int *retry_after_s);
/* After a login the user service judged: a failure takes one from the user's and the
 * address's budget; a success clears the user's and leaves the address's alone. */
void gateway_throttle_settle(const char *user, const struct sockaddr *addr, bool failed);
/* A slow call: runs on a login thread, waited_ms after it was submitted; cancelled when
 * the gateway is stopping and the call must not be made. It must finish the request. */
typedef void (*gateway_slow_fn)(void *arg, uint64_t waited_ms, bool cancelled);
/* Queues fn(arg) for a login thread. False, with nothing queued, when
 * gw.login_queue jobs already wait for a busy thread, or the gateway is stopping. */
bool gateway_throttle_submit(gateway_slow_fn fn, void *arg);

/* ---- connection limits and the request-head deadline (gateway_conns.c) ---- */

/* Starts the thread that closes connections which have not sent a whole request head
 * header_timeout_s (0: never) after they connected or after their last reply, and sets
 * the limits: at most max_conns connections, at most per_addr from one client address
 * (IPv6 by /64). Returns 0, or -1 with err. */
int gateway_conns_start(size_t max_conns, size_t per_addr, unsigned header_timeout_s, char *err, size_t errlen);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback. A new connection beyond a limit
 * makes room by closing the connection (of its own address first) that has waited
 * longest for a request head; when every one has sent its head, the newcomer is closed. */
void gateway_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe);
/* From the access handler: c has sent a whole request head; its deadline is off. */
void gateway_conns_head_done(struct MHD_Connection *c);
/* From the completion callback: c's reply is finished; its next head's deadline starts. */
void gateway_conns_request_done(struct MHD_Connection *c);
/* Stops the thread (connections are no longer closed for lateness). */
void gateway_conns_stop(void);
/* Frees the address table, once the daemon has stopped (every connection closed). */
void gateway_conns_free(void);

/* libmicrohttpd's access handler and its completion callback: the routes. */
enum MHD_Result gateway_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version, const char *upload,
                                   size_t *upload_size, void **ctx);
void gateway_on_completed(void *cls, struct MHD_Connection *c, void **ctx,
                          enum MHD_RequestTerminationCode why);

#endif
