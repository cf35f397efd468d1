/* tui_model.h -- what the TUI shows, apart from how it is drawn: the registry entries
 * the watch reported, the load generator's shared counters, and rates computed from them.
 *
 * The main thread owns everything except `tui_shared`, which the load thread also uses
 * under its mutex. Membership reaches the load thread as a list plus a generation
 * counter it polls.
 *
 * It holds up to TUI_MAX_ADDRS instances, a registry listing's most, in arrays made by
 * tui_model_init; finding one by its address goes through a hash index (tui_index.h), so
 * what a call, a sample or a drawn row costs does not grow with the instances. What a
 * full array leaves out is counted (the *_left_out fields), for the panes to say. */
#ifndef WB_TUI_MODEL_H
#define WB_TUI_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry/registry.h"
#include "rpc/rpcclient.h"
#include "tui_index.h"

enum {
    TUI_MAX_ADDRS = REGISTRY_MAX_INSTANCES, /* instances, registry entries, counters */
    TUI_LAT_RING = 2048, /* latency of the most recent calls, for p50/p99 */
    TUI_HIST = 32,       /* counter samples, one per TUI_SAMPLE_MS */
    TUI_SAMPLE_MS = 100,
    TUI_MAX_NOTES = 32,
    TUI_RATE_MAX = 5000,
    TUI_NPROTO = 3, /* rpc_proto's values */
    TUI_SERVER_TTL = 5, /* seconds: the lease or check TTL of the servers the TUI spawns */
    TUI_TTL_BATCH = 32,       /* lease TTLs asked of etcd at most per poll */
    TUI_TTL_FRESH_MS = 3000,  /* a lease TTL older than this is not shown */
};

/* Which panes need drawing again: handlers and model updates return these. */
enum {
    DIRTY_INSTANCES = 1 << 0,
    DIRTY_TRAFFIC = 1 << 1,
    DIRTY_REGISTRY = 1 << 2,
    DIRTY_TIMELINE = 1 << 3,
    DIRTY_STATUS = 1 << 4,
    DIRTY_LAYOUT = 1 << 5, /* windows must be made again (resize, help on/off) */
    DIRTY_WIRE = 1 << 6,
    DIRTY_LESSON = 1 << 7,
    DIRTY_SNIFF = 1 << 8,
    DIRTY_ALL = 0x1ff,
};

typedef struct tui_member {
    char addr[80];
    rpc_proto proto;
} tui_member;

/* One instance's counts, by the rule the Instances pane, the Traffic pane and `workbench
 * load` share: a call the instance answered is one of its calls, whether the answer is a
 * result or an error (then it is one of its errors too); a call whose connection to it
 * failed (refused, reset, no reply before the deadline) is one of its failures and not
 * one of its calls. */
typedef struct tui_addr_count {
    char addr[80];
    uint64_t calls, errors, failed; /* answered; of those, with an error; connection failed */
    bool fail_noted;     /* a failure was reported to the timeline since its last answer */
} tui_addr_count;

/* Shared between the main thread and the load thread; every field under mu. */
typedef struct tui_shared {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when on, rate, quit or membership change */
    bool on, quit;
    int rate;
    char method[128], args[1024]; /* what the load calls, changed by tui_model_set_call */
    unsigned call_gen;
    tui_member *members; /* TUI_MAX_ADDRS */
    size_t nmembers;
    unsigned member_gen;
    unsigned reset_gen; /* bumped when the registry changed: drop every connection */
    unsigned member_done; /* the member_gen the load thread has applied */
    tui_addr_count *addrs; /* TUI_MAX_ADDRS, in the order first called; never removed */
    size_t naddrs;
    tui_index addr_index;  /* addrs by address */
    uint64_t calls_left_out; /* calls not counted per instance: addrs was full */
    uint64_t calls, failed, remote_errors, retried;
    uint32_t lat_us[TUI_LAT_RING];
    size_t nlat, latpos;
    char notes[TUI_MAX_NOTES][200]; /* for the timeline, taken by the main thread */
    size_t nnotes;
    /* the balancers' knobs (:set), applied by the load thread when knob_gen moves */
    int lb_timeout_ms, lb_eject_after, lb_backoff_min_ms, lb_backoff_max_ms;
    unsigned knob_gen;
    int netns_fd;       /* the network namespace the load thread joins when netns_gen moves */
    unsigned netns_gen;
} tui_shared;

/* One instance's traffic as the Traffic pane shows it. */
typedef struct tui_traffic_row {
    char addr[80];
    uint64_t calls, errors, failed; /* as tui_addr_count */
    double rate;  /* answered calls per second over the last second */
    double share; /* of all answered calls over the last second, 0..100 */
} tui_traffic_row;

/* The Traffic pane's numbers; compared field by field and row by row to decide whether
 * to draw again. rows[i] is the shared addrs[i] as of the last sample. */
typedef struct tui_traffic {
    bool on;
    int rate;
    double calls_s, failed_s;
    uint64_t calls, failed, remote_errors, retried, calls_left_out;
    uint32_t p50_us, p99_us;
    tui_traffic_row *rows; /* TUI_MAX_ADDRS */
    size_t nrows;
} tui_traffic;

typedef struct tui_sample {
    uint64_t at_ms, calls, failed;
    uint64_t *answered; /* per instance, nanswered of them (the rows of that time) */
    size_t nanswered;
} tui_sample;

typedef struct tui_reg_entry {
    registry_instance inst;
    uint64_t since_ms;
    int64_t ttl; /* etcd: seconds left on the lease at the last query; -1: not known */
    uint64_t ttl_at; /* when that query answered (clock_now_ms()); 0: never */
    uint64_t critical_ms; /* Consul: when its check was seen turn critical (an entry first
                             seen critical: when it was seen); 0 while it is not critical */
} tui_reg_entry;

typedef struct tui_model {
    tui_shared sh;
    /* main thread only */
    tui_reg_entry *reg; /* TUI_MAX_ADDRS */
    size_t nreg;
    tui_index reg_index;      /* reg by address */
    size_t reg_left_out;      /* entries the watch reported that reg had no room for */
    tui_member *statics;      /* TUI_MAX_ADDRS; with no registry: the list the load calls */
    size_t nstatics, statics_left_out;
    bool watch_ok;
    tui_sample hist[TUI_HIST];
    size_t nhist, histpos;
    tui_traffic traffic;
    tui_traffic_row *spare_rows; /* the next sample's rows, swapped with traffic.rows */
    tui_index row_index;         /* traffic.rows by address */
    uint64_t start_ms;
    const char *service; /* the load calls only this service's entries (NULL: every one) */
    bool sync_ok;     /* sh's mutex and condition are made */
    int reap_after_s; /* Consul: the DeregisterCriticalServiceAfter the servers register
                         with (tui_model_reap_after of their TTL) */
} tui_model;

/* Prepares m (rate 100/s, load off), making its arrays. Returns 0, or -1 when out of
 * memory. */
int tui_model_init(tui_model *m);
/* Frees what init made (after a failed init too). */
void tui_model_done(tui_model *m);

/* The DeregisterCriticalServiceAfter, in seconds, that a server registering on Consul with
 * check TTL ttl asks for: 3 x ttl, and no less than the minute Consul's reaper accepts
 * (registry_consul.c's rule). Consul 1.8 does not report it in its health answers. */
int tui_model_reap_after(int ttl);
/* Seconds until Consul reaps entry e at now_ms (0 once it is due: the agent's reaper
 * removes it on its next round), or -1 when e is not critical. */
int64_t tui_model_reap_left(const tui_model *m, const tui_reg_entry *e, uint64_t now_ms);

/* Applies a registry watch event (PUT, DELETE, ERROR, RESUMED) and publishes the new
 * membership to the load thread. A PUT of a new entry when TUI_MAX_ADDRS are kept is
 * counted in reg_left_out (and forgotten again on its DELETE). Returns the DIRTY_ flags
 * to set. */
int tui_model_apply(tui_model *m, const registry_event *ev);
/* Forgets every entry (as tui_model_clear_registry), then takes list[0..n), a registry's
 * listing of which left_out more were not returned, and publishes the membership once.
 * Returns the DIRTY_ flags to set. */
int tui_model_load(tui_model *m, const registry_instance *list, size_t n, size_t left_out);
/* The Timeline's line for a watch event ("registry: 127.0.0.1:8080 registered"). */
void tui_model_event_note(const registry_event *ev, char *out, size_t outlen);
/* Index of addr among the registry entries, or -1. */
int tui_model_find_reg(const tui_model *m, const char *addr);
/* Forgets every registry entry and static member (another registry is coming), and
 * publishes the empty membership. */
void tui_model_clear_registry(tui_model *m);
/* Whether the load thread has applied the last membership published (and dropped the
 * connections of the last registry). */
bool tui_model_members_applied(tui_model *m);
/* With no registry: makes mb[0..n) the membership (published only when it changed); past
 * TUI_MAX_ADDRS they are counted in statics_left_out. Returns the DIRTY_ flags to set. */
int tui_model_set_static(tui_model *m, const tui_member *mb, size_t n);
/* Index of addr among the static members, or -1. */
int tui_model_find_static(const tui_model *m, const char *addr);

/* Load control from the main thread. */
void tui_model_set_load(tui_model *m, bool on);
void tui_model_set_rate(tui_model *m, int rate);
void tui_model_quit(tui_model *m);
/* The balancers' deadline and ejection (balancer_set_timeout, balancer_set_ejection) from
 * the load's next call on. */
void tui_model_set_knobs(tui_model *m, int timeout_ms, int eject_after, int backoff_min_ms, int backoff_max_ms);
/* Makes the load thread join the network namespace fd (setns; the caller keeps fd open
 * until the thread has) before its next call. */
void tui_model_set_netns(tui_model *m, int fd);
/* Makes the load call method with the JSON text args from its next call on (the caller
 * has checked both). */
void tui_model_set_call(tui_model *m, const char *method, const char *args);

/* One call the load made, as the model counts it. */
typedef struct tui_call {
    call_status st;
    const char *addr;        /* the instance that answered, or failed last; NULL: none was tried */
    const char *failed_addr; /* the instance whose connection failed first, then retried; NULL: none */
    const char *first_error; /* why failed_addr failed */
    uint64_t lat_us;         /* the whole call, retry included */
} tui_call;

/* Counts call c into the shared counters (from the load thread; takes the mutex): every
 * call; a retried one; per instance, by tui_addr_count's rule, calls answered (CALL_OK or
 * CALL_REMOTE_ERROR), errors among them, and failed connections; server errors; the
 * latency of an answered call (server errors too); a call no instance answered as failed.
 * An instance's first failure since it last answered leaves a note for the Timeline. */
void tui_model_count(tui_model *m, const tui_call *c);

/* The load's rule for spreading its calls when the instances speak different protocols
 * (one balancer each): every instance gets an equal share, whatever its protocol. The
 * protocol of each call is picked by smooth weighted round robin (nginx's), each protocol
 * weighted by the number of its instances the load can call now. */
typedef struct tui_spread {
    size_t n[TUI_NPROTO]; /* the weights of the last pick */
    int credit[TUI_NPROTO];
} tui_spread;

/* The protocol of the next call, given n[p], the instances of protocol p the load can
 * call now (s starts zeroed; new weights start a new round). With 2 JSON-RPC instances
 * and 1 gob: json, gob, json, so each instance gets a third. Returns -1 when every n[p]
 * is 0. */
int tui_spread_next(tui_spread *s, const size_t n[TUI_NPROTO]);

/* Takes a counter sample when TUI_SAMPLE_MS have passed and recomputes m->traffic.
 * Returns DIRTY_TRAFFIC | DIRTY_INSTANCES when what is shown changed, else 0. */
int tui_model_sample(tui_model *m, uint64_t now_ms);
/* Moves the load thread's notes into out (calls fn for each). Returns how many. */
size_t tui_model_take_notes(tui_model *m, void (*fn)(void *ctx, const char *note), void *ctx);
/* addr's row in m->traffic (as of the last sample), or NULL when the load had not called it. */
const tui_traffic_row *tui_model_traffic_row(const tui_model *m, const char *addr);
/* Whether the load had called addr (answered or not) as of the last sample. */
bool tui_model_called(const tui_model *m, const char *addr);
/* addr's counts as of the last sample, by tui_addr_count's rule (all 0 when the load
 * never called it). */
void tui_model_addr_counts(const tui_model *m, const char *addr, uint64_t *calls, uint64_t *errors,
                           uint64_t *failed);

#endif
