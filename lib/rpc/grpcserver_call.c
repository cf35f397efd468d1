/* grpcserver_call.c -- a call as its handler sees it (reply, finish, its state), and where
 * a unary handler runs: on the loop, or for a slow method on a worker thread. */
#include "rpc/grpcserver_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/secret.h"
#include "base/workq.h"

enum { WORKERS = 2, SLOW_QUEUE_MAX = 256 };

/* A call of an on_worker method. The worker touches only fn, req, local, status, msg
 * and reply; s belongs to the loop. */
struct slow_call {
    workq_job job;     /* first: the queue frees the call with free() */
    gstream *s;        /* NULL once the stream is gone */
    grpc_unary_fn fn;
    ProtobufCMessage *req;
    char local[96];
    int status;
    char msg[512];
    buf reply; /* the framed reply, if the handler gave one */
    bool replied;
    atomic_bool cancelled; /* its stream finished or went away before a worker took it */
};

static workq *pool; /* started by the first on_worker call */
static char caller_secret[SECRET_MAX]; /* grpcserver_require_caller's; "": none asked */

int grpcserver_require_caller(const char *secret, char *err, size_t errlen)
{
    if (!secret) {
        caller_secret[0] = '\0';
        return 0;
    }
    if (!secret_header_safe(secret) || strlen(secret) >= sizeof caller_secret) {
        err_set(err, errlen, "a caller secret is 1 to %d visible ASCII characters (no spaces)", SECRET_MAX - 1);
        return -1;
    }
    memcpy(caller_secret, secret, strlen(secret) + 1);
    return 0;
}

bool gcall_admit(gstream *s, const char *service)
{
    if (!caller_secret[0] || strncmp(service, "grpc.", 5) == 0)
        return true;
    if (s->caller && secret_equal(caller_secret, s->caller, strlen(s->caller)))
        return true;
    if (!s->c->caller_logged) {
        s->c->caller_logged = true;
        log_msg("%s: a call with %s " GRPC_CALLER_HEADER " header refused (the caller secret is "
                "required); later ones on this connection are logged by their status only",
                server_conn_peer(s->c->sc), s->caller ? "a wrong" : "no");
    }
    gstream_finish(s, GRPC_UNAUTHENTICATED,
                   s->caller ? GRPC_CALLER_REFUSED "wrong: the " GRPC_CALLER_HEADER " header does not match "
                               "this server's"
                             : GRPC_CALLER_REFUSED "missing: this server answers only callers that send the "
                               GRPC_CALLER_HEADER " header (the gateway, given the same caller secret)");
    return false;
}

int grpcserver_reply(grpc_call *call, const ProtobufCMessage *reply)
{
    if (call->slow) {
        if (call->slow->replied || gstream_frame(&call->slow->reply, reply) < 0)
            return -1;
        call->slow->replied = true;
        return 0;
    }
    return gstream_send(call->s, reply);
}

const char *grpcserver_call_local(const grpc_call *call)
{
    return call->slow ? call->slow->local : server_conn_local(call->s->c->sc);
}

void grpcserver_finish(grpc_call *call, int status, const char *message)
{
    if (call->s)
        gstream_finish(call->s, status, message);
}

void *grpcserver_call_state(grpc_call *call, size_t size)
{
    if (!call->s)
        return NULL;
    if (!call->s->state)
        call->s->state = calloc(1, size);
    return call->s->state;
}

void gcall_end_ok(grpc_call *call) { gstream_finish(call->s, GRPC_OK, NULL); }

/* ---- unary calls on workers ---- */

/* On a worker: the handler runs, unless its stream finished while the call waited. */
static void slow_run(workq_job *j)
{
    slow_call *c = (slow_call *)j;
    if (atomic_load(&c->cancelled)) {
        c->status = GRPC_CANCELLED;
    } else {
        grpc_call call = {NULL, c};
        c->status = c->fn(c->req, &call, c->msg, sizeof c->msg);
    }
}

static void slow_drop(workq_job *j)
{
    slow_call *c = (slow_call *)j;
    protobuf_c_message_free_unpacked(c->req, NULL);
    buf_done(&c->reply);
}

void grpcserver_stop_workers(void)
{
    workq_free(pool); /* the calls queued are dropped: nobody is left to take them */
    pool = NULL;
}

/* Ends a call with its handler's result: the reply and OK, or the status it returned. */
static void finish_unary(gstream *s, int st, const char *msg, bool replied)
{
    if (st != GRPC_OK)
        gstream_finish(s, st, msg[0] ? msg : "the method failed");
    else if (!s->finished && !replied)
        gstream_finish(s, GRPC_INTERNAL, "the method sent no reply");
    else
        gstream_finish(s, GRPC_OK, NULL);
}

/* On the loop: a worker's result goes to its stream, if still there. */
static int slow_finish(workq_job *j, void *ctx)
{
    (void)ctx;
    slow_call *c = (slow_call *)j;
    gstream *s = c->s;
    if (s) {
        s->slow = NULL;
        if (!s->finished && c->status == GRPC_OK && c->replied) {
            if (buf_append(&s->out, buf_data(&c->reply), buf_size(&c->reply)) < 0) {
                c->status = GRPC_INTERNAL;
                snprintf(c->msg, sizeof c->msg, "out of memory for the reply");
            } else {
                gstream_start_response(s);
            }
        }
        finish_unary(s, c->status, c->msg, c->replied);
        server_conn_flush(s->c->sc);
    }
    slow_drop(j);
    return 0;
}

static void on_slow_done(loop *l, int fd, uint32_t events, void *ud)
{
    (void)l, (void)fd, (void)events, (void)ud;
    workq_poll(pool, NULL);
}

/* Starts the workers, once, and has the loop take their results. Returns 0 or -1. */
static int pool_start(server_conn *sc)
{
    if (pool)
        return 0;
    char err[128];
    if (!(pool = workq_new(WORKERS, err, sizeof err)))
        return -1;
    if (loop_watch(server_conn_loop(sc), workq_fd(pool), EPOLLIN, on_slow_done, NULL) < 0) {
        workq_free(pool);
        pool = NULL;
        return -1;
    }
    return 0;
}

/* Queues s's call for a worker. Returns 0, or -1 having finished the call. */
static int run_on_worker(gstream *s)
{
    slow_call *c = calloc(1, sizeof *c);
    if (!c || pool_start(s->c->sc) < 0) {
        free(c);
        gstream_finish(s, GRPC_INTERNAL, "cannot start the server's worker threads");
        return -1;
    }
    if (workq_pending(pool) >= SLOW_QUEUE_MAX) {
        free(c);
        gstream_finish(s, GRPC_RESOURCE_EXHAUSTED, "too many slow calls (password hashes) waiting: try again");
        return -1;
    }
    c->s = s;
    c->fn = s->method->unary;
    c->req = s->req;
    s->req = NULL;
    snprintf(c->local, sizeof c->local, "%s", server_conn_local(s->c->sc));
    buf_init(&c->reply, 0);
    c->job.run = slow_run;
    c->job.finish = slow_finish;
    c->job.drop = slow_drop;
    s->slow = c;
    workq_submit(pool, &c->job);
    return 0;
}

void gunary_run(gstream *s)
{
    if (s->method->on_worker) {
        run_on_worker(s);
        return;
    }
    char msg[600] = "";
    int st = s->method->unary(s->req, &s->call, msg, sizeof msg);
    finish_unary(s, st, msg, s->headers_sent);
}

void gunary_abandon(gstream *s, bool gone)
{
    if (!s->slow)
        return;
    if (gone)
        s->slow->s = NULL;
    atomic_store(&s->slow->cancelled, true);
}
