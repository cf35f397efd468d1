/* tui_ops.h -- the TUI's slow operations as worker jobs (see tui_work.h): starting and
 * restarting servers, switching to another registry, and asking etcd for lease TTLs.
 * Each job's run does the blocking part on the worker; the caller sets finish, which
 * applies the result on the main thread. Every wait in them has a deadline. */
#ifndef WB_TUI_OPS_H
#define WB_TUI_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "proc/supervisor.h"
#include "registry/consulproc.h"
#include "registry/etcdproc.h"
#include "registry/registry.h"
#include "regopt.h"
#include "tui_model.h"
#include "tui_wire.h"
#include "tui_work.h"

/* Starts a server (a new one when id is 0, else instance id again on addr once its old
 * process old_pid, already signalled, has exited). */
typedef struct tui_spawn_job {
    tui_job job;
    supervisor *sup; /* only supervisor_launch_like is called on it, from the worker */
    int id;
    instance like; /* its protocol, or its program, service and arguments */
    pid_t old_pid;
    char addr[80];
    instance out;
    int rc;
    char err[256];
} tui_spawn_job;

/* Opens a registry: starts a consul agent for REGOPT_CONSUL_DEV, lists the service,
 * starts a watch from the listed revision, then points the supervisor's new servers at
 * it (supervisor_set_registry, on the worker like every launch). For REGOPT_STATIC only
 * the last step ("none"). */
typedef struct tui_registry_job {
    tui_job job;
    supervisor *sup;
    regopt to;
    char url[256];          /* in: the URL for REGOPT_PRIVATE_ETCD (or a consul-dev already
                               running); out: the URL opened, "none" for static */
    const char *service;
    const registry_auth *auth; /* in: the credentials (or NULL), kept by the caller */
    etcdproc *start_etcd;   /* in: the private etcd, stopped, to start first (or NULL) */
    bool started_etcd;
    consulproc consul;      /* out: the agent started for REGOPT_CONSUL_DEV */
    bool started_consul;
    registry_instance *list; /* out: the entries listed (free()) */
    size_t n, left_out;      /* out: their number, and the entries past the listing's cap */
    registry_watch *watch;  /* out: the watch, signals blocked in its thread */
    int rc;
    char err[512];
} tui_registry_job;

/* Stops the private etcd, or starts it again (same data, same port). Nothing else
 * touches etcd from the job's submission until its finish. */
typedef struct tui_etcd_job {
    tui_job job;
    etcdproc *etcd;
    bool start;
    int rc;
    char err[256];
} tui_etcd_job;

/* Asks etcd for the TTL left on each lease, one request each: so at most TUI_TTL_BATCH
 * (the entries of the rows on screen), whatever the number of entries. */
typedef struct tui_ttl_job {
    tui_job job;
    char url[256];
    const registry_auth *auth; /* the credentials (or NULL), kept by the caller */
    size_t n;
    char addr[TUI_TTL_BATCH][80];
    int64_t lease[TUI_TTL_BATCH];
    int64_t ttl[TUI_TTL_BATCH]; /* out: seconds, -1 when gone or unknown */
} tui_ttl_job;

/* Frees a watch there (its thread ends within about a second). */
typedef struct tui_free_watch_job {
    tui_job job;
    registry_watch *watch;
} tui_free_watch_job;

/* Makes the Wire pane's call once per protocol into a new tui_wire, whose buffers the
 * finish takes over (tui_wire_done frees them otherwise); or, with server set, learns
 * the method's types and makes the one gRPC call to that server (tui_wire_capture_any). */
typedef struct tui_wire_job {
    tui_job job;
    char method[128], args[1024];
    char addrs[TUI_WIRE_LANES][80]; /* "" for a protocol with no running server */
    char server[80];                /* HOST:PORT of any gRPC server, or "" */
    const protosrc *src;            /* the types given to the TUI; read only, kept by the caller */
    int timeout_ms;
    tui_wire w;
} tui_wire_job;

/* Each returns a new job with run set (finish left to the caller), or NULL. */
tui_spawn_job *tui_spawn_job_new(supervisor *sup, int id, const instance *like, pid_t old_pid, const char *addr);
tui_registry_job *tui_registry_job_new(supervisor *sup, const regopt *to, const char *url, const char *service);
tui_etcd_job *tui_etcd_job_new(etcdproc *etcd, bool start);
tui_ttl_job *tui_ttl_job_new(const char *url);
tui_free_watch_job *tui_free_watch_job_new(registry_watch *w);
tui_wire_job *tui_wire_job_new(const char *method, const char *args,
                               const char addrs[TUI_WIRE_LANES][80], int timeout_ms);
tui_wire_job *tui_wire_any_job_new(const char *server, const char *method, const char *args, const protosrc *src,
                                   int timeout_ms);

#endif
