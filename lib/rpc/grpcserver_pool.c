/* grpcserver_pool.c -- the methods a program adds (grpcserver_set_methods); the slow ones
 * run on worker threads while the loop serves other calls. */
#include "rpc/grpcserver_int.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <pthread.h>

enum { WORKERS = 2, SLOW_QUEUE_MAX = 256 };

/* A call of an on_worker method. The worker touches only fn, req, local, status, msg
 * and reply; s belongs to the loop. */
struct slow_call {
    struct slow_call *next;
    gstream *s; /* NULL once the stream is gone */
    grpc_unary_fn fn;
    ProtobufCMessage *req;
    char local[96];
    int status;
    char msg[512];
    buf reply; /* the framed reply, if the handler gave one */
    bool replied;
    atomic_bool cancelled; /* its stream finished or went away before a worker took it */
};

struct grpc_call {
    gstream *s;      /* a call run on the loop */
    slow_call *slow; /* or one on a worker */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slow_call *todo, *done;
    size_t waiting; /* queued or running */
    int efd;        /* a worker's "done" wakes the loop */
    bool started, quit;
    pthread_t threads[WORKERS];
    int nthreads;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .efd = -1};

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

static void slow_list_push(slow_call **list, slow_call *c)
{
    c->next = NULL;
    while (*list)
        list = &(*list)->next;
    *list = c;
}

static void *slow_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (!pool.todo && !pool.quit)
            pthread_cond_wait(&pool.cv, &pool.mu);
        if (pool.quit)
            break;
        slow_call *c = pool.todo;
        pool.todo = c->next;
        pthread_mutex_unlock(&pool.mu);
        if (atomic_load(&c->cancelled)) {
            c->status = GRPC_CANCELLED;
        } else {
            grpc_call call = {NULL, c};
            c->status = c->fn(c->req, &call, c->msg, sizeof c->msg);
        }
        pthread_mutex_lock(&pool.mu);
        slow_list_push(&pool.done, c);
        uint64_t one = 1;
        if (write(pool.efd, &one, sizeof one) < 0) { /* the counter cannot overflow here */ }
    }
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

static void slow_call_free(slow_call *c)
{
    protobuf_c_message_free_unpacked(c->req, NULL);
    buf_done(&c->reply);
    free(c);
}

static void slow_list_free(slow_call *c)
{
    while (c) {
        slow_call *next = c->next;
        slow_call_free(c);
        c = next;
    }
}

void grpcserver_stop_workers(void)
{
    pthread_mutex_lock(&pool.mu);
    pool.quit = true;
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 0; i < pool.nthreads; i++) /* each ends after the call it is running */
        pthread_join(pool.threads[i], NULL);
    pool.nthreads = 0;
    slow_list_free(pool.todo); /* nobody is left to take these */
    slow_list_free(pool.done);
    pool.todo = pool.done = NULL;
    if (pool.efd >= 0)
        close(pool.efd);
    pool.efd = -1;
}

/* Ends a call with its handler's result: the reply and OK, or the status it returned. */
static void finish_extra(gstream *s, int st, const char *msg, bool replied)
{
    if (st != GRPC_OK)
        gstream_finish(s, st, msg[0] ? msg : "the method failed");
    else if (!s->finished && !replied)
        gstream_finish(s, GRPC_INTERNAL, "the method sent no reply");
    else
        gstream_finish(s, GRPC_OK, NULL);
}

/* On the loop: the workers' results go to their streams, if still there. */
static void on_slow_done(loop *l, int fd, uint32_t events, void *ud)
{
    (void)l, (void)events, (void)ud;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0) { /* EAGAIN: another wake-up took them */ }
    pthread_mutex_lock(&pool.mu);
    slow_call *done = pool.done;
    pool.done = NULL;
    pthread_mutex_unlock(&pool.mu);
    while (done) {
        slow_call *c = done;
        done = c->next;
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
            finish_extra(s, c->status, c->msg, c->replied);
            server_conn_flush(s->c->sc);
        }
        pthread_mutex_lock(&pool.mu);
        pool.waiting--;
        pthread_mutex_unlock(&pool.mu);
        slow_call_free(c);
    }
}

/* Starts the loop's wake-up descriptor and the workers, once. Returns 0 or -1. */
static int pool_start(server_conn *sc)
{
    if (pool.started)
        return 0;
    if (pool.efd < 0) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
            return -1;
        if (loop_watch(server_conn_loop(sc), fd, EPOLLIN, on_slow_done, NULL) < 0) {
            close(fd);
            return -1;
        }
        pool.efd = fd;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay the loop's */
    while (pool.nthreads < WORKERS && pthread_create(&pool.threads[pool.nthreads], NULL, slow_worker, NULL) == 0)
        pool.nthreads++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pool.started = pool.nthreads > 0;
    return pool.started ? 0 : -1;
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
    pthread_mutex_lock(&pool.mu);
    bool full = pool.waiting >= SLOW_QUEUE_MAX;
    if (!full)
        pool.waiting++;
    pthread_mutex_unlock(&pool.mu);
    if (full) {
        free(c);
        gstream_finish(s, GRPC_RESOURCE_EXHAUSTED, "too many slow calls (password hashes) waiting: try again");
        return -1;
    }
    c->s = s;
    c->fn = s->extra->fn;
    c->req = s->req;
    s->req = NULL;
    snprintf(c->local, sizeof c->local, "%s", server_conn_local(s->c->sc));
    buf_init(&c->reply, 0);
    s->slow = c;
    pthread_mutex_lock(&pool.mu);
    slow_list_push(&pool.todo, c);
    pthread_cond_signal(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    return 0;
}

/* A method the program added: its handler replies, or says what went wrong. */
void gextra_run(gstream *s)
{
    if (s->extra->on_worker) {
        run_on_worker(s);
        return;
    }
    char msg[512] = "";
    grpc_call call = {s, NULL};
    int st = s->extra->fn(s->req, &call, msg, sizeof msg);
    finish_extra(s, st, msg, s->headers_sent);
}

void gextra_abandon(gstream *s, bool gone)
{
    if (!s->slow)
        return;
    if (gone)
        s->slow->s = NULL;
    atomic_store(&s->slow->cancelled, true);
}
