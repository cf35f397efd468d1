/* balancer.h -- client-side load balancing over the instances of one service.
 *
 * The caller feeds membership (from a registry watch, or a static list) and makes
 * calls; the balancer picks an instance (round robin or pick-first), keeps one
 * connection per instance, retries a call that failed because its connection failed
 * once on another instance when the method is idempotent, and ejects an instance that
 * fails, trying it again after a backoff (by default after one failure, for 250 ms
 * doubling to 5 s: balancer_set_ejection). An instance the
 * registry drops is forgotten for picking but its counters stay for the report.
 * Single-threaded: one caller at a time. */
#ifndef WB_BALANCER_H
#define WB_BALANCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/rpcclient.h"

typedef enum pick_policy { PICK_ROUND_ROBIN, PICK_FIRST } pick_policy;

typedef struct lb_instance {
    char addr[128];
    bool present;          /* listed by the registry (or the static list) now */
    rpcclient *conn;       /* NULL until first used, or after a failure */
    int consecutive_failures;
    uint64_t ejected_until; /* clock_now_ms() time; 0 when not ejected */
    uint64_t backoff_ms;
    uint64_t calls, failures;   /* calls sent to it; of those, failed at the connection */
    uint64_t errors;            /* of those, answered with an error (CALL_REMOTE_ERROR) */
    uint64_t first_call_ms, last_call_ms; /* when calls were sent to it (0: never) */
    uint32_t *lat_us;           /* latency of each successful call */
    size_t nlat, caplat;
} lb_instance;

typedef struct balancer balancer;

/* A balancer for servers speaking proto; every call waits at most timeout_ms. */
balancer *balancer_new(rpc_proto proto, pick_policy policy, int timeout_ms);
enum { LB_EJECT_AFTER = 1, LB_BACKOFF_MIN_MS = 250, LB_BACKOFF_MAX_MS = 5000 };

/* The deadline of every later call (<= 0: 1000 ms). */
void balancer_set_timeout(balancer *b, int timeout_ms);
/* An instance is ejected after `after` (>= 1) attempts in a row fail at the connection,
 * for min_ms, doubling at each ejection in a row up to max_ms. A value out of range takes
 * the default (LB_EJECT_AFTER, LB_BACKOFF_MIN_MS, LB_BACKOFF_MAX_MS; max below min: min). */
void balancer_set_ejection(balancer *b, int after, int min_ms, int max_ms);

typedef enum lb_event_kind {
    LB_EJECTED, /* taken out for backoff_ms after failing (why: the last error) */
    LB_BACK,    /* answered again after an ejection */
} lb_event_kind;
/* Called from balancer_call, on the caller's thread, for each ejection and return. */
typedef void (*balancer_event_fn)(void *ctx, const char *addr, lb_event_kind kind, uint64_t backoff_ms,
                                  const char *why);
/* Sets the function told of ejections and returns (NULL: none). */
void balancer_on_event(balancer *b, balancer_event_fn fn, void *ctx);

/* The protocol its instances speak, as given to balancer_new. */
rpc_proto balancer_proto(const balancer *b);
/* Closes every connection and frees. Accepts NULL. */
void balancer_free(balancer *b);
/* Every gRPC call from now on carries the request header name: val (a credential,
 * say); one header per balancer, a second call replaces it. Open connections are
 * closed, to be dialled again with it. Returns 0, or -1 with err when memory ran out
 * (an unfit name or value, as rpcclient_set_metadata judges it, fails every call:
 * CALL_FAILED, status INTERNAL, nothing sent). */
int balancer_set_metadata(balancer *b, const char *name, const char *val, char *err, size_t errlen);
/* Keeps every byte of each connection dialled from now on (rpcclient_capture), for the
 * wire explainer: read them from balancer_instances' conn. */
void balancer_capture(balancer *b, bool on);
/* Writes every connection dialled from now on to o (rpcclient_record), for Wireshark or
 * tshark; NULL: no more. o must outlive b. */
void balancer_record(balancer *b, pcapout *o);
/* Marks addr present (adding it when new). Returns its index, or -1 when the table is
 * full (4096 instances, as many as a registry listing holds) or memory ran out. */
int balancer_add(balancer *b, const char *addr);
/* Marks addr absent and closes its connection. */
void balancer_remove(balancer *b, const char *addr);
/* Makes the present instances exactly addrs[0..n) (n may be 0, addrs then NULL): the ones
 * not listed are marked absent as by balancer_remove, the listed ones added or marked
 * present as by balancer_add. Instances stay in the table for their counters; when it is
 * full, the absent ones are forgotten (counters and all) to make room. Returns 0, or -1
 * when more addresses are listed than the table holds (those past it are left out). */
int balancer_set_members(balancer *b, const char *const *addrs, size_t n);
/* The instances known so far (present or not), in the order first seen; valid until
 * the next balancer_add or balancer_set_members, which may move them. */
const lb_instance *balancer_instances(const balancer *b, size_t *n);

typedef struct lb_result {
    call_status st;
    int instance;    /* the index that answered (or failed last); -1 when none was tried */
    int failed_on;   /* the index whose connection failed first, when retried; else -1 */
    char first_error[256];
    int status;       /* the outcome as a gRPC status code, as rpcclient_status says it */
    char message[512]; /* after CALL_REMOTE_ERROR, the server's own message */
} lb_result;

/* Calls method on a picked instance. On CALL_OK *reply is set (caller owns it); on any
 * other status err says why. res (may be NULL) says which instances were involved and
 * the outcome's status code. */
call_status balancer_call(balancer *b, const char *method, const value *arg, bool idempotent,
                          value **reply, lb_result *res, char *err, size_t errlen);

/* For a caller that makes its calls itself (an asynchronous client): the instance for
 * the next call, picked as balancer_call picks, never avoid (-1: no such wish); -1 when
 * none is present. The call is counted as sent to it; say how it ended with
 * balancer_settle. */
int balancer_pick(balancer *b, int avoid);
/* How a call that balancer_pick sent to instance i (whose address was addr: the
 * instance is found again by it should the table have changed meanwhile, and forgotten
 * when gone) ended: CALL_OK or CALL_REMOTE_ERROR (answered, its latency recorded; an
 * ejected instance is back), CALL_FAILED (at the connection or the deadline: counted,
 * and ejected as balancer_call ejects, why saying what went wrong). */
void balancer_settle(balancer *b, int i, const char *addr, call_status st, uint64_t latency_us,
                     const char *why);

/* Latency percentile p (0..100) of an instance's successful calls, in microseconds. */
uint32_t balancer_percentile(const lb_instance *in, double p);

#endif
