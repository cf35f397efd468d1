/* registry.h -- service registry client: etcd v3 (JSON gateway), the Consul agent API,
 * SRV records from a DNS server (Consul's DNS interface), and multicast DNS (no server).
 *
 * One interface over the backends, chosen by URL:
 *   etcd://HOST:PORT[,HOST:PORT...]   endpoints tried in turn until one answers
 *   consul://HOST:PORT[?check=tcp|grpc|ttl][&interval=S][&deregister=S]
 *                                     the check defaults to gRPC health for "grpc", TCP
 *                                     otherwise; ttl makes keepalive pass it; grpc is
 *                                     refused for a server that is not gRPC. interval:
 *                                     seconds between checks (default TTL/3, at least 1;
 *                                     not for ttl); deregister: Consul removes an instance
 *                                     critical this long (default max(3 TTL, 60), at
 *                                     least 60: Consul's own minimum)
 *   dns://HOST:PORT[/NAME.service.consul]   read-only (registering is refused): service
 *                                     S is asked as S.service.consul (a name with a dot
 *                                     as it is), no service as the URL's name; protocol
 *                                     from Consul's tag names (json.NAME...); the watch
 *                                     polls at the records' TTL (1 s to 30 s)
 *   mdns, mdns://IFACE[?wait=MS]      multicast DNS (RFC 6762) with DNS-SD (RFC 6763) on
 *                                     IFACE (default lo; eth0 in a lab host): no daemon,
 *                                     the server's own process answers for it (a
 *                                     responder thread), and a list or watch asks on the
 *                                     network. Service NAME (1 to 15 letters, digits, '-')
 *                                     is the type _NAME._tcp.local., an instance
 *                                     NAME-PORT._NAME._tcp.local. (renamed "NAME-PORT (2)"
 *                                     on a conflict), TXT protocol=P; records live --ttl
 *                                     seconds in others' caches, deregistering sends a
 *                                     goodbye. wait: how long a list collects answers
 *                                     (100 to 10000 ms, default 1000)
 *   none                              registering and listing do nothing
 *
 * etcd layout: key NAME/HOST:PORT, value {"Op":0,"Addr":"HOST:PORT","Metadata":{"protocol":P}}
 * on a lease (etcd's own gRPC naming). A name may hold '/' (/etcd3_naming/hello): a key is
 * split at its last '/', and service "a" does not list "a/b"'s keys (a/b/HOST:PORT).
 * Consul: service ID NAME-HOST-PORT, tag = protocol; names and IDs are escaped in paths.
 * mDNS: reg.id is the instance name chosen; keepalive says whether the responder still
 * holds it; the watch queries continuously and follows each record's TTL.
 *
 * All HTTP goes through libcurl with a connect and a total timeout, every response body
 * has a cap, and errors are readable text in a caller buffer (which may be NULL).
 * A registry object is used by one thread at a time; the keeper and the watch make their
 * own, so a server's event loop and a balancer thread never block on HTTP. */
#ifndef WB_REGISTRY_H
#define WB_REGISTRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/i18n.h"
#include "base/secret.h"

typedef enum registry_kind { REGISTRY_NONE, REGISTRY_ETCD, REGISTRY_CONSUL, REGISTRY_DNS, REGISTRY_MDNS } registry_kind;

/* Consul health check kinds. */
typedef enum registry_check { CHECK_DEFAULT, CHECK_TCP, CHECK_GRPC, CHECK_TTL } registry_check;

/* Credentials; either may be NULL. token: Consul ACL token (X-Consul-Token).
 * user: etcd "name:password" (authenticated once, re-authenticated when the token expires). */
typedef struct registry_auth {
    const char *token;
    const char *user;
} registry_auth;

/* The credentials as every program takes them (servers, gateway, workbench): for each of
 * the two, the option's value (--registry-token T, --registry-user U:P), else the first
 * line of its file (--registry-token-file, --registry-user-file; a file others cannot
 * read), else $WB_REGISTRY_TOKEN / $WB_REGISTRY_USER (base/secret.h's order). */
typedef struct registry_creds {
    registry_auth auth; /* points into token and user, NULL where none was given */
    char token[SECRET_MAX], user[SECRET_MAX];
} registry_creds;

/* The --help lines of those options, as the servers print them (within 80 columns);
 * marked for translation, so _(REGISTRY_CREDS_HELP) prints them in the learner's language. */
#define REGISTRY_CREDS_HELP                                                                 \
    N_("      --registry-token T   Consul ACL token\n"                                       \
    "      --registry-user U:P  etcd user and password\n"                                    \
    "      --registry-token-file PATH, --registry-user-file PATH\n"                          \
    "                           the same from the first line of a file that others\n"       \
    "                           cannot read (chmod 600); without any of these, from\n"      \
    "                           $WB_REGISTRY_TOKEN and $WB_REGISTRY_USER. A value on\n"     \
    "                           the command line is visible to every local user in\n"       \
    "                           /proc/PID/cmdline: prefer the file or the environment\n")

/* Fills c from the options' values (token, user), their files (token_file, user_file);
 * any may be NULL. Returns 0, or -1 with "--registry-token: why" (or -user) in err: a
 * file that cannot be read, others may read, or a value too long. */
int registry_creds_pick(registry_creds *c, const char *token, const char *token_file, const char *user,
                        const char *user_file, char *err, size_t errlen);
/* Puts c's credentials into this process's environment as $WB_REGISTRY_TOKEN and
 * $WB_REGISTRY_USER, so the servers it starts from now on register with them without a
 * command line that shows them (a process's environment is readable by its user only).
 * Call it before any thread starts. Returns 0, or -1 (out of memory). */
int registry_creds_export(const registry_creds *c);

enum {
    REGISTRY_CONNECT_TIMEOUT_MS = 1000,
    REGISTRY_TIMEOUT_MS = 3000,         /* total, per request (watches use their own wait) */
    REGISTRY_MAX_RESPONSE = 4 << 20,    /* bytes of one response body */
    REGISTRY_MAX_INSTANCES = 4096,      /* entries one list returns at most (the rest are
                                           counted: registry_list_left_out) */
};

/* One registered instance as a list reports it. */
typedef struct registry_instance {
    char service[128];
    char addr[128];     /* HOST:PORT */
    char protocol[16];  /* "gob", "json", "grpc", or "" when the entry does not say */
    int64_t lease;      /* etcd: the lease the key is attached to (0: none) */
    char status[16];    /* Consul: aggregated check status ("passing", "critical"...) */
    char check[16];     /* Consul: the kind of the service's own check, as Consul names it
                           ("grpc", "tcp", "ttl"...), "" when it has none */
    char output[200];   /* Consul: the last output of the check that decided status (the
                           service's own among equals); Consul's text, show it escaped */
    char instance[128]; /* mDNS: the instance's name without its type ("shipping-50051") */
    uint32_t ttl;       /* mDNS: the TTL its SRV record came with (s) */
    int64_t expire_ms;  /* mDNS: when that record runs out, on clock_now_ms()'s clock */
} registry_instance;

/* Whether calls may go to in: its check status is passing, or it has none (etcd). This is
 * what Consul's ?passing filter keeps; a warning or critical instance gets no calls. */
bool registry_instance_usable(const registry_instance *in);

typedef struct registry registry;

/* Parses url and prepares a client (no I/O yet). auth may be NULL; its strings are
 * copied. Returns NULL with a reason in err for a URL that is not understood. */
registry *registry_new(const char *url, const registry_auth *auth, char *err, size_t errlen);
/* Accepts NULL. */
void registry_free(registry *r);
registry_kind registry_get_kind(const registry *r);
/* The endpoint (HOST:PORT) that answered r's last request: after a failover, the one
 * that took over; the first of the URL before any answer, "" for none. */
const char *registry_endpoint(const registry *r);
/* Makes every request of r give up at once when *flag becomes true (another thread sets
 * it); NULL turns this off. Used by the keeper and the watch for bounded stops. */
void registry_set_cancel(registry *r, const atomic_bool *flag);
/* Consul lists only passing instances unless this is set false (the CLI shows all,
 * with their check status). Default true. */
void registry_set_passing_only(registry *r, bool passing_only);

/* ---- names ---- */

enum { REGISTRY_NAME_MAX = 127 }; /* bytes of a service name */

/* The one check of what a registration names; every program and command that takes a
 * service name, an address or a protocol checks them here. NULL skips a part.
 *   service  1 to REGISTRY_NAME_MAX bytes of UTF-8 text without spaces or control
 *            characters; '/' may be anywhere (/etcd3_naming/hello, user/v2) but at the
 *            end, never two in a row, and no part between them is "." or "..": etcd's
 *            key is NAME/HOST:PORT, so the name ends at its last '/'
 *   addr     HOST:PORT (or [V6]:PORT), a port from 1 to 65535, no '/' nor space
 *   protocol gob, json, grpc or http
 * Returns 0, or -1 with a reason a learner understands (which part, and why) in err. */
int registry_check_names(const char *service, const char *addr, const char *protocol, char *err,
                         size_t errlen);
/* registry_check_names of service, then what r's backend cannot hold: Consul's HTTP API
 * cleans its paths, so it refuses a name that begins with '/'; DNS refuses any '/' (it is
 * not a DNS label). Returns 0, or -1 with the reason in err. */
int registry_check_service(const registry *r, const char *service, char *err, size_t errlen);

/* A registration, as register fills it and keepalive/deregister use it. */
typedef struct registry_reg {
    char service[128], addr[128], protocol[16];
    int ttl;
    int64_t lease;   /* etcd */
    char id[300];    /* Consul service ID */
    registry_check check;
    int interval, deregister; /* Consul: the check's interval and DeregisterCriticalServiceAfter (s); 0: default */
} registry_reg;

/* Registers addr (HOST:PORT) as an instance of service speaking protocol ("gob", "json",
 * "grpc"), to expire ttl seconds (>= 1) after the last keepalive. Fills reg.
 * Returns 0, or -1 with a reason in err (also for a Consul check kind that protocol
 * cannot pass: ?check=grpc on a server that is not "grpc"). */
int registry_register(registry *r, const char *service, const char *addr, const char *protocol,
                      int ttl, registry_reg *reg, char *err, size_t errlen);
/* Keeps reg alive (etcd: lease keepalive; Consul: passes a TTL check, or asks the agent
 * whether the service is still registered). Returns 1 alive, 0 lost (register again:
 * the registry forgot it), -1 registry unreachable or failing (reason in err). */
int registry_keepalive(registry *r, registry_reg *reg, char *err, size_t errlen);
/* Removes reg at once (etcd: revokes the lease). Returns 0 (also when it was already
 * gone), or -1 with a reason in err. */
int registry_deregister(registry *r, registry_reg *reg, char *err, size_t errlen);

/* Lists the instances of service (every service when service is NULL or "") into a new
 * array *out (caller frees with free()) of *n entries, and the revision to watch from
 * (etcd revision or Consul index) into *revision when it is not NULL. Consul lists
 * passing instances of one service only; for all services use registry_services.
 * At most REGISTRY_MAX_INSTANCES entries come back; registry_list_left_out says how many
 * more the registry holds. Returns 0, or -1 with a reason in err. */
int registry_list(registry *r, const char *service, registry_instance **out, size_t *n,
                  int64_t *revision, char *err, size_t errlen);
/* How many entries the last successful registry_list on r left out because of
 * REGISTRY_MAX_INSTANCES: 0 when it returned every one. A listing that is cut says so
 * with this; callers show or log it. */
size_t registry_list_left_out(const registry *r);
/* The bytes r's HTTP requests have read from the registry so far: reply headers and
 * bodies as they came over the connection (compressed, when the reply was). Any thread. */
uint64_t registry_bytes_read(const registry *r);
/* Consul: the names of every service in the catalog (etcd: distinct key prefixes), as a
 * newline-separated list appended to out. Returns 0 or -1 with err. */
int registry_services(registry *r, buf *out, char *err, size_t errlen);
/* etcd: the seconds left on lease (into *ttl; -1 when the lease is gone). Returns 0 or -1. */
int registry_lease_ttl(registry *r, int64_t lease, int64_t *ttl, char *err, size_t errlen);

/* ---- the keeper: registration kept alive by a background thread ---- */

/* Called from the keeper's thread for every transition (registered, lease lost,
 * registry unreachable, registered again, deregistered); wall_ms is the wall-clock time
 * in milliseconds since the epoch, msg has no time stamp and no newline. */
typedef void (*registry_log_fn)(void *ctx, int64_t wall_ms, const char *msg);

typedef struct registry_keeper registry_keeper;

/* Starts a thread that registers addr, keeps it alive every ttl/3 seconds, registers
 * again after a loss, and retries with backoff (250 ms doubling to 5 s, never more than
 * ttl/3) while the registry is unreachable. It does not wait for the first registration.
 * log may be NULL (then lines go to log_msg). For url "none" returns a keeper that does
 * nothing. Returns NULL with a reason in err for a bad URL, name, address or TTL, or a
 * Consul check kind that does not fit protocol (as registry_register).
 * A server calls this once it knows its address; its event loop never waits on it. */
registry_keeper *registry_keeper_start(const char *url, const registry_auth *auth,
                                       const char *service, const char *addr,
                                       const char *protocol, int ttl, registry_log_fn log,
                                       void *log_ctx, char *err, size_t errlen);
/* Stops the thread (a request in flight is aborted within about a second), then, when
 * deregister is true and the instance is registered, deregisters it (at most
 * REGISTRY_TIMEOUT_MS per endpoint), and frees k. Graceful shutdown passes true; a
 * SIGKILLed process never gets here and its entry expires. Accepts NULL. */
void registry_keeper_stop(registry_keeper *k, bool deregister);

/* While the registry is away, the keeper and the watches say so once, then every 30 s
 * (ms here, process-wide; <= 0 restores 30 s) with how long and how many attempts, and
 * how long it lasted when it ends. Tests shorten the interval. */
void registry_set_outage_report_ms(int ms);

/* ---- the watch: changes to a service's instances, for a balancer thread ---- */

typedef enum registry_event_type {
    REGISTRY_EV_PUT,     /* instance added or changed (also its check status: was); inst
                            is filled; a PUT of an instance that is not usable
                            (registry_instance_usable) means: send it no calls */
    REGISTRY_EV_DELETE,  /* instance gone; inst.service and inst.addr are filled */
    REGISTRY_EV_ERROR,   /* the watch lost the registry (msg says why) and is retrying;
                            keep using the instances you know */
    REGISTRY_EV_RESUMED, /* the watch is connected again */
} registry_event_type;

typedef struct registry_event {
    registry_event_type type;
    registry_instance inst;
    char was[16]; /* a PUT that only changes a known instance's check status: the status
                     before (inst.status is the new one); "" for an addition or other change */
    int64_t revision; /* etcd mod revision / Consul index of the change */
    char msg[256];
} registry_event;

typedef struct registry_watch registry_watch;

/* Starts a thread watching service (every service when NULL or "", etcd only) from
 * after revision (what registry_list returned; 0: from now for etcd, the whole current
 * set as PUTs for Consul). It opens its own registry from r's URL and credentials, so r
 * stays the caller's. Typical balancer thread: list, start the watch at the revision,
 * then loop on registry_watch_next with a timeout, applying PUT (upsert) and DELETE.
 *   etcd: a /v3/watch stream from revision+1, read incrementally (jsonscan), re-opened
 *     from the last revision seen after a failure (ERROR, then RESUMED). A compacted or
 *     restarted etcd (history lost) is reported as an ERROR whose msg says to list again.
 *     A change costs its one event; every key under the prefix is followed, also keys
 *     past a listing's REGISTRY_MAX_INSTANCES.
 *   Consul: blocking queries on /v1/health/service/NAME?passing&index=I&wait=10s, each
 *     answer diffed with the previous one into PUT and DELETE events. Consul answers the
 *     whole list on every change: it is read an entry at a time (at most 64 MiB, gzip
 *     asked of an agent off loopback), up to 65,536 instances kept (more than a
 *     listing's REGISTRY_MAX_INSTANCES, so a change to any is seen; about 650 B each,
 *     for this answer and the one before), diffed by address in O(n log n). With passing_only
 *     (the default) an instance whose check fails leaves the answer (DELETE) and comes
 *     back when it passes (PUT); without it, a check status change is a PUT with was set.
 *     A change shows as soon as the agent runs the check (its interval: TTL/3, >= 1 s).
 * The queue holds 1024 events; a reader that falls behind holds the watch back.
 * Returns NULL with a reason in err. */
registry_watch *registry_watch_start(registry *r, const char *service, int64_t revision,
                                     char *err, size_t errlen);
/* Waits at most timeout_ms (0: do not wait) for the next event. Returns 1 with *ev
 * filled, 0 when none came in time, -1 once the watch has been cancelled. */
int registry_watch_next(registry_watch *w, registry_event *ev, int timeout_ms);
/* What w's thread has read from the registry so far (registry_bytes_read of its own). */
uint64_t registry_watch_bytes_read(const registry_watch *w);
/* Makes the watch stop (from any thread, also while another is in registry_watch_next,
 * which then returns -1). Events not yet taken are dropped. */
void registry_watch_cancel(registry_watch *w);
/* Cancels, joins the thread (bounded: requests in flight are aborted) and frees. Accepts NULL. */
void registry_watch_free(registry_watch *w);

/* ---- request bodies and response parsers (exposed for the unit tests) ---- */

/* The value etcd stores for an instance. */
int registry_etcd_value(const char *addr, const char *protocol, buf *out);
/* {"key":...,"value":...,"lease":"N"} for /v3/kv/put. */
int registry_etcd_put_body(const char *service, const char *addr, const char *protocol,
                           int64_t lease, buf *out);
/* The key range [key, range_end) of a service prefix ("" for every key), base64; a
 * listing (not a watch) asks for REGISTRY_MAX_INSTANCES + 1 keys at most, so etcd's reply
 * stays small and its count says how many there are. */
int registry_etcd_range_body(const char *service, int64_t start_revision, bool watch, buf *out);
/* Each parser returns 0 (or as said), or -1 with a reason in err, which for an error
 * response is etcd's own message. */
int registry_etcd_parse_grant(const char *text, size_t len, int64_t *lease, int64_t *ttl,
                              char *err, size_t errlen);
/* Returns 1 when the lease lives (*ttl > 0), 0 when it is gone (no TTL in the reply). */
int registry_etcd_parse_keepalive(const char *text, size_t len, int64_t *ttl, char *err,
                                  size_t errlen);
/* A range reply: at most REGISTRY_MAX_INSTANCES entries into *out; the keys past them
 * (those in the reply, or more when etcd's count says so) into *left_out when it is not
 * NULL. */
int registry_etcd_parse_range(const char *text, size_t len, registry_instance **out, size_t *n,
                              int64_t *revision, size_t *left_out, char *err, size_t errlen);
/* Fills inst from an etcd key and value (the value may be other JSON or not JSON:
 * the address then comes from the key). The key NAME/HOST:PORT is split at its last '/'
 * (a name may hold '/', an address never). Returns 0, or -1 when the key has no '/' or
 * nothing before or after the last one. */
int registry_etcd_instance(const char *key, const char *value, registry_instance *inst);
/* Whether in (read from a key under the prefix service + "/") is an instance of service
 * itself: the prefix a/ holds a/HOST:PORT but also a/b/HOST:PORT, an instance of a/b.
 * Every instance is, when service is NULL or "". */
bool registry_etcd_of_service(const registry_instance *in, const char *service);

/* Incremental reader of etcd's watch stream: bytes in any pieces, events out. */
typedef void (*registry_event_fn)(void *ctx, const registry_event *ev);
typedef struct registry_etcd_stream {
    buf in;
    int64_t revision;     /* highest revision seen (header or event) */
    int64_t compacted;    /* set when etcd cancelled the watch for compaction */
    bool created, canceled;
} registry_etcd_stream;
void registry_etcd_stream_init(registry_etcd_stream *s);
void registry_etcd_stream_done(registry_etcd_stream *s);
/* Feeds n bytes; calls fn for each event of each complete message. Returns 0, or -1 with
 * err for malformed JSON, an error message from etcd, or a message over the cap. */
int registry_etcd_stream_feed(registry_etcd_stream *s, const char *p, size_t n,
                              registry_event_fn fn, void *ctx, char *err, size_t errlen);

enum {
    REGISTRY_CONSUL_MIN_DEREGISTER_S = 60, /* Consul raises DeregisterCriticalServiceAfter to 1 min */
    REGISTRY_CONSUL_MAX_S = 86400,         /* the most interval= and deregister= take */
};

/* The body of PUT /v1/agent/service/register, with the default timing (interval TTL/3,
 * deregister after max(3 TTL, 60 s)). */
int registry_consul_register_body(const char *id, const char *service, const char *addr,
                                  const char *protocol, registry_check check, int ttl, buf *out);
/* The same with the check's interval and DeregisterCriticalServiceAfter in seconds (0:
 * the default). */
int registry_consul_register_body_timed(const char *id, const char *service, const char *addr,
                                        const char *protocol, registry_check check, int ttl, int interval,
                                        int deregister, buf *out);
/* GET /v1/health/service/NAME: every entry with Service.Address (or Node.Address when
 * empty), Port, the first tag as protocol, the worst check status with that check's
 * output, and the kind (Type) of the service's own check; at most
 * REGISTRY_MAX_INSTANCES, the number of entries past them into *left_out (may be NULL). */
int registry_consul_parse_health(const char *text, size_t len, registry_instance **out,
                                 size_t *n, size_t *left_out, char *err, size_t errlen);
/* GET /v1/catalog/services: the names, one per line, appended to out. */
int registry_consul_parse_services(const char *text, size_t len, buf *out, char *err,
                                   size_t errlen);

/* A DNS answer to an SRV question, in wire format: one instance per SRV record (at most
 * REGISTRY_MAX_INSTANCES, the rest counted in *left_out, which may be NULL), named
 * service, sorted by address: the target's A (else AAAA) record from the additional
 * section, else the target's name (the backend then asks for its address). *ttl gets the
 * smallest TTL of the records. NXDOMAIN is no instance. Returns 0, or -1 with err for a
 * reply that is not DNS, an error code (SERVFAIL, REFUSED...) or an SRV record without
 * a port or a target (then nothing of it is believed). */
int registry_dns_parse_srv(const uint8_t *wire, size_t len, const char *service, registry_instance **out,
                           size_t *n, size_t *left_out, uint32_t *ttl, char *err, size_t errlen);

#endif
