/* gateway_calls.c -- the gateway's calls to its services, on the loop: the argument
 * packed as protobuf, an instance picked by the service's balancer, one multiplexed
 * gRPC connection per instance address (grpcmux), the retry on another instance, and
 * the outcome mapped to an HTTP status. */
#include "gateway_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "rpc/grpcmux.h"
#include "rpc/grpcserver.h"
#include "wire/grpc_status.h"
#include "wire/pbcatalog.h"
#include "wire/pbvalue.h"

#define SWEEP_MS 1000
#define MUX_IDLE_MS 60000 /* a connection no call used this long is closed */

/* One connection to one instance address (with the caller secret or without). */
typedef struct mux_slot {
    char addr[128];
    bool secret;
    grpcmux *m;
    uint64_t used_ms;
} mux_slot;

static struct {
    loop *l;
    mux_slot *slot;
    size_t n, cap;
    grpcmux **retired; /* replaced while calls were still on them */
    size_t nretired, capretired;
    uint64_t sweep;
    bool stopping;
    /* the methods seen, by their name's address (the routes pass literals) */
    struct {
        const char *name;
        const pb_method *m;
    } seen[16];
    size_t nseen;
} calls;

/* One call, from gateway_call to done. */
typedef struct gcall {
    int svc;
    const pb_method *m;
    uint8_t *req;
    size_t len;
    bool idempotent;
    int tries;
    int inst;
    char addr[128];
    uint64_t t0_us;
    outcome first; /* the first attempt's failure, when it is tried again */
    gateway_done_fn done;
    void *ctx;
} gcall;

/* ---- the outcome as HTTP ---- */

static const struct {
    int code;
    unsigned http;
} status_map[] = {
    {GRPC_INVALID_ARGUMENT, 400}, {GRPC_OUT_OF_RANGE, 400},  {GRPC_FAILED_PRECONDITION, 400},
    {GRPC_UNAUTHENTICATED, 401},  {GRPC_PERMISSION_DENIED, 403}, {GRPC_NOT_FOUND, 404},
    {GRPC_ALREADY_EXISTS, 409},   {GRPC_ABORTED, 409},       {GRPC_RESOURCE_EXHAUSTED, 429},
    {GRPC_CANCELLED, 499},        {GRPC_UNIMPLEMENTED, 501}, {GRPC_UNAVAILABLE, 503},
    {GRPC_DEADLINE_EXCEEDED, 504},
};

static unsigned http_status(int code)
{
    for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
        if (status_map[i].code == code)
            return status_map[i].http;
    return 500;
}

static void fail(outcome *o, unsigned http, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(outcome *o, unsigned http, const char *code, const char *fmt, ...)
{
    o->reply = NULL;
    o->http = http, o->code = code, o->retry_after = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->msg, sizeof o->msg, fmt, ap);
    va_end(ap);
}

/* A status the service answered with, other than OK. */
static void remote_error(int svc, int status, const char *message, outcome *o)
{
    bool known = grpc_status_known(status);
    int code = known ? status : GRPC_UNKNOWN;
    if (code == GRPC_UNAUTHENTICATED && strncmp(message, GRPC_CALLER_REFUSED, strlen(GRPC_CALLER_REFUSED)) == 0)
        /* the service refused the gateway, not the user */
        fail(o, 502, grpc_status_name(code),
             "the %s service refused the gateway (%.300s); give the gateway the services' --caller-secret-file",
             gw.dir[svc].name, message);
    else if (known)
        fail(o, http_status(code), grpc_status_name(code), "%s", message);
    else
        fail(o, 500, grpc_status_name(code), "code %d: %.500s", status, message);
}

/* ---- connections ---- */

static void retire(grpcmux *m)
{
    if (calls.nretired == calls.capretired) {
        size_t ncap = calls.capretired ? calls.capretired * 2 : 8;
        grpcmux **n = realloc(calls.retired, ncap * sizeof *n);
        if (!n) {
            grpcmux_free(m); /* its calls end now, cancelled */
            return;
        }
        calls.retired = n, calls.capretired = ncap;
    }
    calls.retired[calls.nretired++] = m;
}

/* Closes what no call needs: replaced connections whose calls have ended, and the ones
 * no call used for MUX_IDLE_MS. */
static void sweep(loop *l, void *ud)
{
    (void)ud;
    calls.sweep = 0;
    for (size_t i = 0; i < calls.nretired;)
        if (grpcmux_in_flight(calls.retired[i]) == 0) {
            grpcmux_free(calls.retired[i]);
            calls.retired[i] = calls.retired[--calls.nretired];
        } else {
            i++;
        }
    uint64_t now = clock_now_ms();
    for (size_t i = 0; i < calls.n;)
        if (now - calls.slot[i].used_ms > MUX_IDLE_MS && grpcmux_in_flight(calls.slot[i].m) == 0) {
            grpcmux_free(calls.slot[i].m);
            calls.slot[i] = calls.slot[--calls.n];
        } else {
            i++;
        }
    if (!calls.stopping)
        calls.sweep = loop_timer(l, SWEEP_MS, sweep, NULL);
}

/* The connection to addr, dialled when there is none or the one there failed. NULL
 * with err when it cannot be made. */
static grpcmux *mux_for(const char *addr, bool secret, char *err, size_t errlen)
{
    mux_slot *s = NULL;
    for (size_t i = 0; i < calls.n && !s; i++)
        if (calls.slot[i].secret == secret && strcmp(calls.slot[i].addr, addr) == 0)
            s = &calls.slot[i];
    if (s && grpcmux_usable(s->m)) {
        s->used_ms = clock_now_ms();
        return s->m;
    }
    int connect_ms = gw.timeout_ms < 1000 ? gw.timeout_ms : 1000;
    grpcmux *m = grpcmux_new(calls.l, addr, connect_ms, err, errlen);
    if (m && secret && grpcmux_set_metadata(m, GRPC_CALLER_HEADER, gw.caller_secret, err, errlen) < 0) {
        grpcmux_free(m);
        m = NULL;
    }
    if (!m)
        return NULL;
    if (s) {
        retire(s->m);
    } else {
        if (calls.n == calls.cap) {
            size_t ncap = calls.cap ? calls.cap * 2 : 8;
            mux_slot *n = realloc(calls.slot, ncap * sizeof *n);
            if (!n) {
                grpcmux_free(m);
                err_set(err, errlen, "out of memory");
                return NULL;
            }
            calls.slot = n, calls.cap = ncap;
        }
        s = &calls.slot[calls.n++];
        snprintf(s->addr, sizeof s->addr, "%s", addr);
        s->secret = secret;
    }
    s->m = m;
    s->used_ms = clock_now_ms();
    return m;
}

/* ---- a call ---- */

static void finish(gcall *c, outcome *o)
{
    gateway_done_fn done = c->done;
    void *ctx = c->ctx;
    free(c->req);
    free(c);
    done(ctx, o);
}

static void attempt(gcall *c, int avoid);

/* grpcmux's callback: settles the instance, tries another one when it may, else ends. */
static void on_reply(void *ud, const grpcmux_reply *r)
{
    gcall *c = ud;
    outcome o = {0};
    if (calls.stopping) {
        fail(&o, 503, "UNAVAILABLE", "the gateway is stopping");
        finish(c, &o);
        return;
    }
    uint64_t latency = clock_now_us() - c->t0_us;
    balancer *lb = gateway_balancer(c->svc);
    const char *svc = gw.dir[c->svc].name;
    bool late = !r->conn_failed && r->status == GRPC_DEADLINE_EXCEEDED;
    if (r->conn_failed || late) {
        if (lb)
            balancer_settle(lb, c->inst, c->addr, CALL_FAILED, latency, r->message);
        if (late)
            fail(&o, 504, "DEADLINE_EXCEEDED", "the %s service did not answer within %d ms", svc, gw.timeout_ms);
        else
            fail(&o, 503, "UNAVAILABLE", "the %s service is unavailable: %.400s", svc, r->message);
        if (r->conn_failed && (c->idempotent || r->unsent) && c->tries == 1) {
            c->first = o;
            attempt(c, c->inst);
            return;
        }
        finish(c, &o);
        return;
    }
    if (r->status != GRPC_OK) {
        if (lb)
            balancer_settle(lb, c->inst, c->addr, CALL_REMOTE_ERROR, latency, NULL);
        remote_error(c->svc, r->status, r->message, &o);
        finish(c, &o);
        return;
    }
    char why[400];
    if (!(o.reply = pbvalue_unpack(c->m->output, r->msg, r->len, why, sizeof why))) {
        if (lb)
            balancer_settle(lb, c->inst, c->addr, CALL_FAILED, latency, why);
        fail(&o, 503, "UNAVAILABLE", "the %s service is unavailable: reply 1 is not a %s: %.300s", svc,
             c->m->output->name, why);
        finish(c, &o);
        return;
    }
    if (lb)
        balancer_settle(lb, c->inst, c->addr, CALL_OK, latency, NULL);
    finish(c, &o);
}

/* Sends c to an instance other than avoid (-1: any). */
static void attempt(gcall *c, int avoid)
{
    outcome o = {0};
    balancer *lb = gateway_balancer(c->svc);
    if (!lb) {
        fail(&o, 500, "INTERNAL", "out of memory");
        finish(c, &o);
        return;
    }
    int i = balancer_pick(lb, avoid);
    if (i < 0) {
        if (avoid >= 0) /* no other instance: the first failure stands */
            o = c->first;
        else
            fail(&o, 503, "UNAVAILABLE", "no live instance of the %s service in the registry", gw.dir[c->svc].name);
        finish(c, &o);
        return;
    }
    size_t n;
    const lb_instance *in = balancer_instances(lb, &n);
    c->inst = i;
    c->tries++;
    snprintf(c->addr, sizeof c->addr, "%s", in[i].addr);
    char err[300];
    grpcmux *m = mux_for(c->addr, c->svc != SVC_ARITH && gw.caller_secret[0], err, sizeof err);
    if (!m) {
        balancer_settle(lb, i, c->addr, CALL_FAILED, 0, err);
        fail(&o, 503, "UNAVAILABLE", "the %s service is unavailable: %.400s", gw.dir[c->svc].name, err);
        if (c->tries == 1) { /* nothing was sent */
            c->first = o;
            attempt(c, i);
            return;
        }
        finish(c, &o);
        return;
    }
    c->t0_us = clock_now_us();
    grpcmux_call(m, c->m->path, c->req, c->len, gw.timeout_ms, on_reply, c);
}

static const pb_method *method_of(const char *name)
{
    for (size_t i = 0; i < calls.nseen; i++)
        if (calls.seen[i].name == name)
            return calls.seen[i].m;
    const pb_method *m = pbcatalog_find(name);
    if (m && calls.nseen < sizeof calls.seen / sizeof calls.seen[0]) {
        calls.seen[calls.nseen].name = name;
        calls.seen[calls.nseen++].m = m;
    }
    return m;
}

void gateway_call(int svc, const char *method, value *arg, bool idempotent, gateway_done_fn done, void *ctx)
{
    outcome o = {0};
    const pb_method *m = method_of(method);
    gcall *c = m && !calls.stopping ? calloc(1, sizeof *c) : NULL;
    char why[400];
    if (!c) {
        value_free(arg);
        if (calls.stopping)
            fail(&o, 503, "UNAVAILABLE", "the gateway is stopping");
        else
            fail(&o, 500, "INTERNAL", m ? "out of memory" : "no types known for %s", method);
        done(ctx, &o);
        return;
    }
    *c = (gcall){.svc = svc, .m = m, .idempotent = idempotent, .inst = -1, .done = done, .ctx = ctx};
    int packed = pbvalue_pack(m->input, arg, &c->req, &c->len, why, sizeof why);
    value_free(arg);
    if (packed < 0) {
        fail(&o, 400, "INVALID_ARGUMENT", "%s takes %s: %s", m->path + 1, m->input->name, why);
        finish(c, &o);
        return;
    }
    attempt(c, -1);
}

int gateway_calls_start(loop *l, char *err, size_t errlen)
{
    calls.l = l;
    calls.stopping = false;
    if (!(calls.sweep = loop_timer(l, SWEEP_MS, sweep, NULL))) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void gateway_calls_stop(void)
{
    calls.stopping = true;
    if (calls.sweep)
        loop_timer_cancel(calls.l, calls.sweep);
    calls.sweep = 0;
    /* each free ends its calls (their callbacks run now); nothing new is dialled */
    while (calls.n) {
        grpcmux *m = calls.slot[--calls.n].m;
        grpcmux_free(m);
    }
    while (calls.nretired)
        grpcmux_free(calls.retired[--calls.nretired]);
    free(calls.slot);
    free(calls.retired);
    calls.slot = NULL, calls.retired = NULL;
    calls.cap = calls.capretired = 0;
}
