/* registry_int.h -- what the registry's own files share; only lib/registry includes it.
 *   registry.c          the URL, argument checks, dispatch through a backend table; none
 *   registry_etcd.c     the etcd backend        registry_consul.c  the Consul backend
 *   registry_dns.c      the DNS backend (SRV records, read-only)
 *   registry_http.c     libcurl and JSON        registry_stop.c    the cancellable sleep
 *   registry_keeper.c   registration kept alive registry_watch.c   watch thread and queue
 *   registry_outage.c   how long the registry has been away
 *   mdns_backend.c      the mDNS backend (mdns_*.c, mdns_int.h: responder and browser) */
#ifndef WB_REGISTRY_INT_H
#define WB_REGISTRY_INT_H

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "registry/registry.h"

typedef struct cJSON cJSON;

enum { REGISTRY_MAX_ENDPOINTS = 16, REGISTRY_WATCH_QUEUE = 1024 };

/* What a backend does; registry.c checks the arguments and dispatches here. */
typedef struct registry_backend {
    /* Registers reg, whose service, addr, protocol, ttl and check are set; fills its
     * lease (etcd) or id (Consul). Returns 0, or -1 with a reason in err. */
    int (*add)(registry *r, registry_reg *reg, char *err, size_t errlen);
    /* As registry_keepalive, registry_deregister, registry_list and registry_services. */
    int (*keepalive)(registry *r, registry_reg *reg, char *err, size_t errlen);
    int (*deregister)(registry *r, registry_reg *reg, char *err, size_t errlen);
    int (*list)(registry *r, const char *service, registry_instance **out, size_t *n,
                int64_t *revision, char *err, size_t errlen);
    int (*services)(registry *r, buf *out, char *err, size_t errlen);
    /* As registry_lease_ttl; NULL for a backend without leases. */
    int (*lease_ttl)(registry *r, int64_t lease, int64_t *ttl, char *err, size_t errlen);
    /* -1 with the reason in err for a service name (already past registry_check_names)
     * that the backend cannot hold; NULL: every such name is fine. */
    int (*check_name)(const char *service, char *err, size_t errlen);
    /* The watch thread's loop: pushes events until the watch is cancelled. NULL: no watch. */
    void (*watch)(registry_watch *w);
} registry_backend;

extern const registry_backend registry_etcd_backend, registry_consul_backend, registry_dns_backend,
    registry_mdns_backend;

struct registry {
    registry_kind kind;
    const registry_backend *be;
    char *url;
    char *endpoints[REGISTRY_MAX_ENDPOINTS];
    size_t nend, cur;     /* cur: the endpoint that answered last */
    char *token, *user;   /* Consul ACL token; etcd NAME:PASSWORD */
    char *etcd_token;     /* from /v3/auth/authenticate */
    registry_check check; /* Consul */
    int interval, deregister; /* Consul: the URL's interval= and deregister= (s), 0: default */
    bool passing_only;    /* Consul */
    size_t list_left_out; /* entries the last list did not return (REGISTRY_MAX_INSTANCES) */
    _Atomic uint64_t bytes_read; /* registry_bytes_read: read by other threads */
    const atomic_bool *cancel;
    char mdns_iface[32];      /* mDNS: the URL's interface ("": the default) */
    int mdns_wait_ms;         /* mDNS: how long a list collects answers (?wait=MS) */
    struct mdns_resp *mdns;   /* mDNS: the responder of the registration, NULL: none */
};

/* Stops r's mDNS responder, if any, without a goodbye (registry_free). */
void registry_mdns_free(registry *r);

/* 0 when r's Consul check kind can pass for a server speaking protocol; -1 with a reason
 * in err for one that never could (check=grpc on a server without gRPC health). */
int registry_check_fits(const registry *r, const char *protocol, char *err, size_t errlen);

static inline void registry_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* ---- HTTP (registry_http.c) ---- */

typedef size_t (*registry_write_fn)(char *p, size_t size, size_t n, void *ctx);

/* One request. The caller sets method, path, body (NULL: none), write and write_ctx
 * (where the reply body goes), timeout_ms and need_auth; the reply's status and
 * X-Consul-Index come back in status and index. */
typedef struct registry_http_req {
    const char *method, *path, *body;
    registry_write_fn write;
    void *write_ctx;
    long timeout_ms;   /* 0: no total timeout (streams; cancel and TCP keepalive bound them) */
    long status;
    int64_t index;     /* X-Consul-Index */
    bool need_auth;    /* send the etcd token */
    bool compressed;   /* accept a compressed reply (write gets it decoded) from an
                          endpoint that is not on loopback: there compressing costs the
                          registry more time than the bytes it saves */
} registry_http_req;

/* A registry_write_fn that appends to the buf ctx (refusing what goes over its cap). */
size_t registry_http_write_buf(char *p, size_t size, size_t n, void *ctx);
/* Sends q to each endpoint of r in turn, starting with the one that answered last, until
 * one answers. Returns 0 with q->status set, or -1 with a reason in err (also at once when
 * the request was cancelled or its reply refused by q->write). */
int registry_http_do(registry *r, registry_http_req *q, char *err, size_t errlen);
/* registry_http_do with the reply into resp (cleared first) and the usual timeout, with
 * the etcd token; *out (when not NULL) receives the request with its status. */
int registry_http_call(registry *r, const char *method, const char *path, const char *body,
                       buf *resp, registry_http_req *out, char *err, size_t errlen);
/* s escaped for a URL path into out (s itself when escaping fails). */
void registry_http_escape(const char *s, char *out, size_t cap);

/* ---- JSON (registry_http.c) ---- */

/* Parses a reply; NULL with the start of the text in err when it is not JSON. */
cJSON *registry_json_parse(const char *text, size_t len, char *err, size_t errlen);
/* An int64 member that the gateway sends as a string (or a small number). */
bool registry_json_int(const cJSON *o, const char *name, int64_t *v);
/* A string member, or NULL. */
const char *registry_json_str(const cJSON *o, const char *name);
/* Appends j printed without spaces to out and frees j (which may be NULL: then -1). */
int registry_json_put(buf *out, cJSON *j);

/* ---- the cancellable sleep (registry_stop.c) ---- */

/* A stop flag that the keeper's and the watch's threads sleep on. stopped is also what
 * registry_set_cancel hands to libcurl, so that setting it aborts a request in flight. */
typedef struct registry_stop {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on the monotonic clock; broadcast on stop */
    atomic_bool stopped;
} registry_stop;

void registry_stop_init(registry_stop *s);
void registry_stop_done(registry_stop *s);
/* Sets the flag and wakes every waiter (any thread). */
void registry_stop_set(registry_stop *s);
static inline bool registry_stopped(registry_stop *s) { return atomic_load(&s->stopped); }
/* With s->mu held: waits once for a broadcast on s->cv until *until (NULL: no deadline).
 * Returns true when woken before the deadline and not stopped, so that the caller, after
 * checking its own condition, may wait again; false once stopped or past the deadline. */
bool registry_stop_wait(registry_stop *s, const struct timespec *until);
/* Sleeps ms milliseconds unless stopped first. Returns true when stopped. */
bool registry_stop_sleep(registry_stop *s, uint64_t ms);

/* ---- an outage (registry_outage.c) ---- */

enum { REGISTRY_OUTAGE_REPORT_MS = 30000 }; /* a summary line this often while it lasts */

/* One thread's view of the registry being away; zeroed: reachable. */
typedef struct registry_outage {
    bool down;
    unsigned attempts;                 /* failed, since the outage began */
    uint64_t since_ms, reported_ms;    /* clock_now_ms of its start and of its last report */
} registry_outage;

/* Counts a failed attempt. Returns 1 when it begins an outage (report the error itself),
 * 2 when a summary is due (msg gets "still unreachable for 60 s, N attempts"), else 0. */
int registry_outage_fail(registry_outage *o, char *msg, size_t cap);
/* Ends the outage, if one is going on: true with msg "reachable again after 12.3 s (N
 * failed attempts)"; false (msg untouched) when the registry was not away. */
bool registry_outage_end(registry_outage *o, char *msg, size_t cap);

/* ---- the watch (registry_watch.c), as the backends' watch loops see it ---- */

struct registry_watch {
    registry *r;      /* the watch's own */
    char service[128];
    int64_t revision; /* last revision seen */
    pthread_t thread;
    bool started;
    registry_stop stop; /* its mutex guards the queue; its cv also signals push and pop */
    registry_event *q;
    size_t head, count;
};

/* Queues ev, waiting while the queue is full; dropped once the watch is cancelled. */
void registry_watch_push(registry_watch *w, const registry_event *ev);
/* Queues an ERROR or RESUMED event with msg at the watch's revision. */
void registry_watch_status(registry_watch *w, registry_event_type t, const char *msg);
/* A failed attempt of the watch loop: ERROR with err when it begins an outage, an ERROR
 * with a summary when one is due, nothing otherwise. */
void registry_watch_failed(registry_watch *w, registry_outage *o, const char *err);
/* For a watch that polls whole listings: pushes what changed from known to now, by
 * address: DELETE for each one gone, PUT for each new or changed one (protocol, check
 * kind or check status; a status change alone carries the status before in was). */
void registry_watch_diff(registry_watch *w, const registry_instance *known, size_t nknown,
                         const registry_instance *now, size_t nnow, int64_t rev);
/* A failed attempt of a watch loop that polls: unless the watch was stopped, reports it
 * as registry_watch_failed does, then sleeps *backoff_ms and doubles it (at most 5 s).
 * Returns true when the watch was stopped, before or during the sleep. */
bool registry_watch_retry(registry_watch *w, registry_outage *o, const char *err, long *backoff_ms);
/* The watch reached the registry: RESUMED with the outage's length, if there was one. */
void registry_watch_back(registry_watch *w, registry_outage *o);

#endif
