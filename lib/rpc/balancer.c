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

int balancer_add(balancer *b, const char *addr)
{
    int i = find(b, addr);
    if (i < 0) {
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
        i = (int)b->n++;
        memset(&b->in[i], 0, sizeof b->in[i]);
        snprintf(b->in[i].addr, sizeof b->in[i].addr, "%s", addr);
    }
    lb_instance *in = &b->in[i];
    if (!in->present) {
        /* back in the registry: give it a fresh chance */
        in->present = true;
        in->ejected_until = 0;
        in->consecutive_failures = 0;
        in->backoff_ms = 0;
    }
    return i;
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

int balancer_set_members(balancer *b, const char *const *addrs, size_t n)
{
    for (size_t i = 0; i < b->n; i++) {
        bool listed = false;
        for (size_t k = 0; k < n && !listed; k++)
            listed = strcmp(addrs[k], b->in[i].addr) == 0;
        if (b->in[i].present && !listed) {
            b->in[i].present = false;
            rpcclient_free(b->in[i].conn);
            b->in[i].conn = NULL;
        }
    }
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        if (balancer_add(b, addrs[k]) >= 0)
            continue;
        forget_absent(b);
        if (balancer_add(b, addrs[k]) < 0)
            rc = -1;
    }
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
