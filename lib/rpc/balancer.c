/* balancer.c -- round robin / pick-first over a service's instances, with retry and ejection. */
#include "rpc/balancer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"

#define MAX_INSTANCES 4096 /* as many as a registry listing holds (REGISTRY_MAX_INSTANCES) */
#define MAX_SAMPLES (1u << 20)

struct balancer {
    rpc_proto proto;
    pick_policy policy;
    int timeout_ms;
    lb_instance *in; /* grown as instances come, up to MAX_INSTANCES */
    size_t n, cap;
    size_t next; /* round robin position */
    char *md_name, *md_value; /* balancer_set_metadata's header, or NULL */
    bool capture;             /* balancer_capture */
    pcapout *record;          /* balancer_record */
    int eject_after;          /* consecutive failures that eject (balancer_set_ejection) */
    uint64_t backoff_min_ms, backoff_max_ms;
    balancer_event_fn on_event;
    void *event_ctx;
};

rpc_proto balancer_proto(const balancer *b) { return b->proto; }

balancer *balancer_new(rpc_proto proto, pick_policy policy, int timeout_ms)
{
    balancer *b = calloc(1, sizeof *b);
    if (b) {
        b->proto = proto;
        b->policy = policy;
        b->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
        b->eject_after = LB_EJECT_AFTER;
        b->backoff_min_ms = LB_BACKOFF_MIN_MS;
        b->backoff_max_ms = LB_BACKOFF_MAX_MS;
    }
    return b;
}

void balancer_set_timeout(balancer *b, int timeout_ms) { b->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000; }

void balancer_set_ejection(balancer *b, int after, int min_ms, int max_ms)
{
    b->eject_after = after >= 1 ? after : LB_EJECT_AFTER;
    b->backoff_min_ms = min_ms >= 1 ? (uint64_t)min_ms : LB_BACKOFF_MIN_MS;
    b->backoff_max_ms = max_ms >= min_ms && max_ms >= 1 ? (uint64_t)max_ms : b->backoff_min_ms;
}

void balancer_on_event(balancer *b, balancer_event_fn fn, void *ctx)
{
    b->on_event = fn;
    b->event_ctx = ctx;
}

void balancer_free(balancer *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        rpcclient_free(b->in[i].conn);
        free(b->in[i].lat_us);
    }
    free(b->in);
    free(b->md_name);
    free(b->md_value);
    free(b);
}

int balancer_set_metadata(balancer *b, const char *name, const char *val, char *err, size_t errlen)
{
    char *n = strdup(name), *v = strdup(val);
    if (!n || !v) {
        free(n);
        free(v);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    free(b->md_name);
    free(b->md_value);
    b->md_name = n;
    b->md_value = v;
    for (size_t i = 0; i < b->n; i++) {
        rpcclient_free(b->in[i].conn);
        b->in[i].conn = NULL;
    }
    return 0;
}

void balancer_capture(balancer *b, bool on) { b->capture = on; }

void balancer_record(balancer *b, pcapout *o) { b->record = o; }

static int find(const balancer *b, const char *addr)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->in[i].addr, addr) == 0)
            return (int)i;
    return -1;
}

/* A new instance addr at the table's end. Returns its index, or -1 when full. */
static int append(balancer *b, const char *addr)
{
    if (b->n == b->cap) {
        if (b->n == MAX_INSTANCES)
            return -1;
        size_t ncap = b->cap ? b->cap * 2 : 16;
        if (ncap > MAX_INSTANCES)
            ncap = MAX_INSTANCES;
        lb_instance *grown = realloc(b->in, ncap * sizeof *grown);
        if (!grown)
            return -1;
        b->in = grown;
        b->cap = ncap;
    }
    int i = (int)b->n++;
    memset(&b->in[i], 0, sizeof b->in[i]);
    snprintf(b->in[i].addr, sizeof b->in[i].addr, "%s", addr);
    return i;
}

/* Marks instance i present; one back in the registry gets a fresh chance. */
static int revive(balancer *b, int i)
{
    lb_instance *in = &b->in[i];
    if (!in->present) {
        in->present = true;
        in->ejected_until = 0;
        in->consecutive_failures = 0;
        in->backoff_ms = 0;
    }
    return i;
}

int balancer_add(balancer *b, const char *addr)
{
    int i = find(b, addr);
    if (i < 0 && (i = append(b, addr)) < 0)
        return -1;
    return revive(b, i);
}

void balancer_remove(balancer *b, const char *addr)
{
    int i = find(b, addr);
    if (i < 0)
        return;
    b->in[i].present = false;
    rpcclient_free(b->in[i].conn);
    b->in[i].conn = NULL;
}

/* Drops the absent instances from the table, keeping the others' order. */
static void forget_absent(balancer *b)
{
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (!b->in[i].present) {
            rpcclient_free(b->in[i].conn);
            free(b->in[i].lat_us);
            continue;
        }
        if (k != i)
            b->in[k] = b->in[i];
        k++;
    }
    b->n = k;
    b->next = k ? b->next % k : 0;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An instance's address and index, to sort by the address (first, for cmp_str_ptr). */
typedef struct addr_index {
    const char *addr;
    size_t i;
} addr_index;

/* The instance called addr among the table's first `sorted` ones, through idx (their
 * addresses in order), else among those appended after them; -1 when none. */
static int find_sorted(const balancer *b, const addr_index *idx, size_t sorted, const char *addr)
{
    size_t lo = 0, hi = sorted;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(b->in[idx[mid].i].addr, addr); /* idx's own pointers die as the table grows */
        if (c == 0)
            return (int)idx[mid].i;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = sorted; i < b->n; i++)
        if (strcmp(b->in[i].addr, addr) == 0)
            return (int)i;
    return -1;
}

/* Both lists sorted once, so a change to a service of many instances costs
 * O((n + m) log(n + m)), not n * m comparisons. */
int balancer_set_members(balancer *b, const char *const *addrs, size_t n)
{
    const char **listed = malloc((n ? n : 1) * sizeof *listed);
    addr_index *idx = malloc((b->n ? b->n : 1) * sizeof *idx);
    if (!listed || !idx) {
        free(listed);
        free(idx);
        return -1;
    }
    if (n)
        memcpy(listed, addrs, n * sizeof *listed);
    qsort(listed, n, sizeof *listed, cmp_str_ptr);
    for (size_t i = 0; i < b->n; i++) {
        const char *key = b->in[i].addr;
        if (b->in[i].present && !bsearch(&key, listed, n, sizeof *listed, cmp_str_ptr)) {
            b->in[i].present = false;
            rpcclient_free(b->in[i].conn);
            b->in[i].conn = NULL;
        }
        idx[i] = (addr_index){b->in[i].addr, i};
    }
    size_t sorted = b->n;
    qsort(idx, sorted, sizeof *idx, cmp_str_ptr);
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        int i = find_sorted(b, idx, sorted, addrs[k]);
        if (i < 0)
            i = append(b, addrs[k]);
        if (i < 0) {
            /* full: forget the absent ones, and the index with them */
            forget_absent(b);
            sorted = 0;
            i = balancer_add(b, addrs[k]);
        }
        if (i >= 0)
            revive(b, i);
        else
            rc = -1;
    }
    free(listed);
    free(idx);
    return rc;
}

const lb_instance *balancer_instances(const balancer *b, size_t *n)
{
    *n = b->n;
    return b->in;
}

/* The next instance to use, skipping `avoid` and ejected ones; an ejected one whose
 * backoff has passed may be tried again. When every present instance is ejected, the
 * one due soonest is tried. -1 when none is present. */
static int pick(balancer *b, int avoid)
{
    uint64_t now = clock_now_ms();
    int soonest = -1;
    for (size_t k = 0; k < b->n; k++) {
        size_t i = b->policy == PICK_FIRST ? k : (b->next + k) % b->n;
        lb_instance *in = &b->in[i];
        if (!in->present || (int)i == avoid)
            continue;
        if (in->ejected_until <= now) {
            if (b->policy == PICK_ROUND_ROBIN)
                b->next = (i + 1) % b->n;
            return (int)i;
        }
        if (soonest < 0 || in->ejected_until < b->in[soonest].ejected_until)
            soonest = (int)i;
    }
    return soonest;
}

static void record_latency(lb_instance *in, uint64_t us)
{
    if (in->nlat == in->caplat) {
        if (in->caplat >= MAX_SAMPLES)
            return;
        size_t ncap = in->caplat ? in->caplat * 2 : 1024;
        uint32_t *n = realloc(in->lat_us, ncap * sizeof *n);
        if (!n)
            return;
        in->lat_us = n;
        in->caplat = ncap;
    }
    in->lat_us[in->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* A failed attempt on in (why: its error); ejects it once eject_after attempts in a row
 * have failed. */
static void failed(balancer *b, lb_instance *in, const char *why)
{
    in->failures++;
    in->consecutive_failures++;
    rpcclient_free(in->conn);
    in->conn = NULL;
    if (in->consecutive_failures < b->eject_after)
        return;
    in->backoff_ms = in->backoff_ms ? in->backoff_ms * 2 : b->backoff_min_ms;
    if (in->backoff_ms > b->backoff_max_ms)
        in->backoff_ms = b->backoff_max_ms;
    in->ejected_until = clock_now_ms() + in->backoff_ms;
    if (b->on_event)
        b->on_event(b->event_ctx, in->addr, LB_EJECTED, in->backoff_ms, why);
}

/* A successful attempt on in: an ejected instance is back. */
static void answered(balancer *b, lb_instance *in)
{
    bool was_out = in->backoff_ms != 0;
    in->consecutive_failures = 0;
    in->backoff_ms = 0;
    in->ejected_until = 0;
    if (was_out && b->on_event)
        b->on_event(b->event_ctx, in->addr, LB_BACK, 0, "");
}

/* One attempt on instance i; its status code goes into res. */
static call_status attempt(balancer *b, int i, const char *method, const value *arg, value **reply,
                           lb_result *res, char *err, size_t errlen)
{
    lb_instance *in = &b->in[i];
    uint64_t start = clock_now_ms();
    uint64_t t0 = clock_now_us();
    in->calls++;
    in->last_call_ms = start;
    if (!in->first_call_ms)
        in->first_call_ms = start;
    if (!in->conn) {
        char url[160];
        snprintf(url, sizeof url, "%s%s", rpc_proto_scheme(b->proto), in->addr);
        in->conn = rpcclient_dial(url, b->timeout_ms < 1000 ? b->timeout_ms : 1000, err, errlen);
        if (!in->conn) {
            res->status = GRPC_UNAVAILABLE;
            failed(b, in, err);
            return CALL_FAILED;
        }
        rpcclient_capture(in->conn, b->capture);
        rpcclient_record(in->conn, b->record);
        if (b->md_name && rpcclient_set_metadata(in->conn, b->md_name, b->md_value, err, errlen) < 0) {
            rpcclient_free(in->conn);
            in->conn = NULL;
            res->status = GRPC_INTERNAL;
            return CALL_FAILED;
        }
    }
    call_status st = rpcclient_call(in->conn, method, arg, b->timeout_ms, reply, err, errlen);
    res->status = rpcclient_status(in->conn);
    snprintf(res->message, sizeof res->message, "%s", rpcclient_status_message(in->conn));
    if (st == CALL_FAILED) {
        failed(b, in, err);
        return st;
    }
    record_latency(in, clock_now_us() - t0);
    in->errors += st == CALL_REMOTE_ERROR;
    answered(b, in);
    return st;
}

call_status balancer_call(balancer *b, const char *method, const value *arg, bool idempotent,
                          value **reply, lb_result *res, char *err, size_t errlen)
{
    lb_result local;
    if (!res)
        res = &local;
    res->instance = res->failed_on = -1;
    res->first_error[0] = res->message[0] = '\0';
    res->status = GRPC_UNAVAILABLE;
    int i = pick(b, -1);
    if (i < 0) {
        err_set(err, errlen, "no instance of the service is known");
        return res->st = CALL_FAILED;
    }
    res->instance = i;
    call_status st = attempt(b, i, method, arg, reply, res, err, errlen);
    if (st == CALL_FAILED && idempotent) {
        int j = pick(b, i);
        if (j >= 0) {
            res->failed_on = i;
            snprintf(res->first_error, sizeof res->first_error, "%s", err);
            res->instance = j;
            st = attempt(b, j, method, arg, reply, res, err, errlen);
        }
    }
    return res->st = st;
}

int balancer_pick(balancer *b, int avoid)
{
    int i = pick(b, avoid);
    if (i >= 0) {
        lb_instance *in = &b->in[i];
        in->calls++;
        in->last_call_ms = clock_now_ms();
        if (!in->first_call_ms)
            in->first_call_ms = in->last_call_ms;
    }
    return i;
}

void balancer_settle(balancer *b, int i, const char *addr, call_status st, uint64_t latency_us, const char *why)
{
    if (i < 0 || (size_t)i >= b->n || strcmp(b->in[i].addr, addr) != 0) {
        for (i = 0; (size_t)i < b->n && strcmp(b->in[i].addr, addr) != 0; i++)
            ;
        if ((size_t)i == b->n)
            return;
    }
    lb_instance *in = &b->in[i];
    if (st == CALL_FAILED) {
        failed(b, in, why);
        return;
    }
    record_latency(in, latency_us);
    in->errors += st == CALL_REMOTE_ERROR;
    answered(b, in);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t balancer_percentile(const lb_instance *in, double p)
{
    if (!in->nlat)
        return 0;
    qsort(in->lat_us, in->nlat, sizeof *in->lat_us, cmp_u32); /* the samples' order is no one's business */
    size_t k = (size_t)(p / 100.0 * (double)(in->nlat - 1) + 0.5);
    return in->lat_us[k < in->nlat ? k : in->nlat - 1];
}
