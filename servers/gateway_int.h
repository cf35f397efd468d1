/* gateway_int.h -- what the gateway's files share: the services it calls and who serves
 * them, its settings, and the seams between membership (gateway_members.c), the calls on
 * the loop (gateway_calls.c), login throttling (gateway_throttle.c) and main (gateway.c). */
#ifndef WB_GATEWAY_INT_H
#define WB_GATEWAY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/secret.h"
#include "registry/registry.h"
#include "rpc/balancer.h"
#include "rpc/loop.h"
#include "value/value.h"

#define MAX_MEMBERS 1024 /* instances of one service the gateway calls; more are logged and left out */
#define WATCH_POLL_MS 30

enum { SVC_USER, SVC_ORDER, SVC_ARITH, SVC_POST, NSVC };

typedef struct directory {
    char name[128];         /* the registry service name */
    pthread_mutex_t mu;
    char addrs[MAX_MEMBERS][128];
    size_t n;
    atomic_uint gen;        /* bumped on every change, with mu held */
    registry_watch *watch;  /* only the membership thread touches this */
} directory;

typedef struct gateway {
    char registry_url[512];
    char hub_addr[128]; /* --hub: ask the service hub, not the registry; "": none */
    registry_auth auth; /* its token and user: the gateway's own copies, or NULL */
    char caller_secret[SECRET_MAX]; /* sent to the user, order and post services; "": none */
    int timeout_ms, max_body;
    /* login throttling: failures per user name and per client address (burst, and
     * refilled per minute; burst 0 turns one off), and how many sign-ups and logins may
     * be in flight at once, with how many more may wait for a turn */
    int login_burst, login_rate, login_addr_burst, login_addr_rate;
    int login_concurrency, login_queue;
    bool quiet;
    directory dir[NSVC];
    atomic_bool stop;
    pthread_t members;
} gateway;

/* The one gateway of the process: set by main before any thread starts, read after. */
extern gateway gw;

/* ---- membership (gateway_members.c) ---- */

/* Names the services (names[SVC_USER]...), then starts the membership thread, which lists
 * each service in gw.registry_url and follows its watch. Returns 0, or -1 with err. */
int gateway_members_start(const char *const names[NSVC], char *err, size_t errlen);
/* Stops the membership thread and waits for it (at most about WATCH_POLL_MS, or one call
 * to the hub). */
void gateway_members_stop(void);
/* The loop's balancer for service svc, made the first time and synced with the
 * registry's members when they changed. NULL when memory ran out. Loop thread only. */
balancer *gateway_balancer(int svc);
/* Frees the loop's balancers. */
void gateway_balancers_free(void);

/* ---- the service hub (gateway_hub.c) ---- */

/* Keeps the n directories' members as the hub at addr says, until *stop: every 500 ms it
 * asks for the names under the services' common prefix (WatchService, which also makes
 * the hub follow them), then for the instances of each service the hub names
 * (GetServices); a service it does not name has none. While the hub does not answer, the
 * members known are kept; the outage is logged once. Every call has a 1 s deadline. */
void gateway_hub_follow(const char *addr, directory *dirs, size_t n, const atomic_bool *stop);

/* ---- calls to the services, on the loop (gateway_calls.c) ---- */

/* What a call to a service came to. */
typedef struct outcome {
    value *reply;  /* on success */
    unsigned http; /* on failure: the status to answer with */
    const char *code;
    int retry_after; /* seconds, for a 429; 0: no Retry-After */
    char msg[600];
} outcome;

/* How a call ended: o->reply is set on success (done owns it), else o->http says the
 * HTTP error. */
typedef void (*gateway_done_fn)(void *ctx, outcome *o);

/* Sets up the calls on loop l (the server's): the table of connections, one per instance
 * address. Returns 0, or -1 with err. */
int gateway_calls_start(loop *l, char *err, size_t errlen);
/* Ends every call in flight (their done runs, with 503 "the gateway is stopping") and
 * closes the connections. Calls made later fail at once. */
void gateway_calls_stop(void);
/* Calls method of service svc with arg (taken) on an instance the balancer picks, on one
 * multiplexed connection per instance, within --timeout; a call whose connection failed
 * is tried once on another instance when idempotent, or when not one byte of it was
 * sent. done(ctx, outcome) follows exactly once: later from the loop, or before this
 * returns when the call cannot start (no instance, an argument the method cannot take). */
void gateway_call(int svc, const char *method, value *arg, bool idempotent, gateway_done_fn done, void *ctx);

/* ---- login throttling (gateway_throttle.c) ---- */

typedef enum { THROTTLE_OK, THROTTLE_USER, THROTTLE_ADDR } throttle_verdict;

/* Seeds the hashes and sets the budgets from gw. */
void gateway_throttle_init(void);
/* Before a login of user from addr (NULL: unknown): THROTTLE_OK, or the budget that is
 * spent, with the seconds until it allows a try in *retry_after_s. Nothing is taken:
 * logins in flight together may overdraw a budget, and then its debt lasts longer. */
throttle_verdict gateway_throttle_check(const char *user, const struct sockaddr *addr, int *retry_after_s);
/* After a login the user service judged: a failure takes one from the user's and the
 * address's budget; a success clears the user's and leaves the address's alone. */
void gateway_throttle_settle(const char *user, const struct sockaddr *addr, bool failed);

/* A sign-up's or login's turn: fn(arg, NULL) once it may make its call (then
 * gateway_turn_end when the call has ended), or fn(arg, why) when it will not get one:
 * it waited past --timeout, or the gateway is stopping (why is the reply, a 429 or a
 * 503). At most gw.login_concurrency calls have a turn at once; at most gw.login_queue
 * more wait. */
typedef void (*gateway_turn_fn)(void *arg, const outcome *refused);
/* Asks for a turn on loop l: fn may run before this returns (a turn free at once).
 * False, with nothing queued, when gw.login_queue already wait. */
bool gateway_turn_ask(loop *l, gateway_turn_fn fn, void *arg);
/* A call that had a turn has ended: the next waiting one gets it. */
void gateway_turn_end(void);
/* Refuses every waiting one (the gateway is stopping), and any asked from now on. */
void gateway_turns_stop(void);

#endif
