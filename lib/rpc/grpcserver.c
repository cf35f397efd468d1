/* grpcserver.c -- the gRPC server codec: HTTP/2 via nghttp2, messages via protobuf-c. */
#include "rpc/grpcserver.h"

#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <pthread.h>

#include "base/err.h"
#include "health.pb-c.h"
#include "base/log.h"
#include "wire/gunzip.h"
#include "wire/pbcatalog.h"
#include "wire/pbvalue.h"
#include "reflection.pb-c.h"
#include "services/services.h"
#include "tally.pb-c.h"

#define MAX_STREAMS 128               /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define STREAM_WINDOW (1u << 20)      /* SETTINGS_INITIAL_WINDOW_SIZE */
#define CONN_WINDOW (16u << 20)       /* the connection's receive window */
#define OUT_BUDGET (1u << 20)         /* bytes of frames produced per feed */
#define COUNT_CHUNK (64u * 1024)      /* Count without interval: messages made per read */
#define MAX_INTERVAL_MS 1000
#define STREAM_OUT_CAP (4u << 20)     /* replies a bidi call may queue for a client not reading them */
#define MAX_HEADER_LIST (64u * 1024)  /* SETTINGS_MAX_HEADER_LIST_SIZE */
#define WATCH_END_DELAY_MS 200        /* on shutdown, between NOT_SERVING and the end of a Watch */

typedef enum handler {
    H_SERVICE,      /* Greeter, Arith: unary, through the shared services */
    H_COUNT,        /* server streaming */
    H_TOTAL,        /* client streaming */
    H_RUNNING,      /* bidirectional */
    H_HEALTH_CHECK,
    H_HEALTH_WATCH,
    H_REFLECTION,   /* bidirectional */
    H_EXTRA,        /* unary, a method the program added (grpcserver_set_methods) */
} handler;

typedef struct gconn gconn;

/* A call of an on_worker method. The worker touches only fn, req, local, status, msg
 * and reply; s belongs to the loop. */
typedef struct slow_call {
    struct slow_call *next;
    struct gstream *s; /* NULL once the stream is gone */
    grpc_unary_fn fn;
    ProtobufCMessage *req;
    char local[96];
    int status;
    char msg[512];
    buf reply; /* the framed reply, if the handler gave one */
    bool replied;
    atomic_bool cancelled; /* its stream finished or went away before a worker took it */
} slow_call;

typedef struct gstream {
    gconn *c;
    int32_t id;
    struct gstream *prev, *next;
    /* request headers */
    char *path;
    bool is_post, grpc_content_type, have_timeout, bad_timeout;
    uint64_t timeout_ms;
    char encoding[32];       /* grpc-encoding: "" (identity), "gzip", or one not served */
    /* request */
    const pb_method *m;
    handler h;
    const grpc_unary *extra;
    struct slow_call *slow;  /* its call on a worker thread, until the loop takes the result */
    buf in;                  /* DATA not yet framed into whole messages */
    ProtobufCMessage *req;   /* unary and server-streaming: the one request */
    bool input_done;         /* END_STREAM seen */
    /* response */
    buf out;                 /* framed messages not yet handed to nghttp2 */
    bool headers_sent;       /* response HEADERS submitted (with a data provider) */
    bool finished;           /* the status is decided */
    bool trailers_sent;
    int status;
    char *message;
    /* state of the streaming methods */
    int64_t sum;
    int64_t count_next, count_to;
    int interval_ms;
    bool counting;
    bool watching;
    uint64_t deadline_timer, tick_timer;
} gstream;

struct gconn {
    server_conn *sc;
    nghttp2_session *h2;
    size_t max_message;
    gstream *streams;
    size_t nstreams;
    bool shutting_down;
    char h2err[256]; /* nghttp2's reason for a connection error */
    buf inflated;    /* the gzip message being handled, inflated */
};

static const grpc_unary *extra_methods;
static size_t nextra_methods;
static bool serve_samples = true;

void grpcserver_set_methods(const grpc_unary *table, size_t n, bool samples)
{
    extra_methods = table;
    nextra_methods = n;
    serve_samples = samples;
}

/* ---- small helpers ---- */

int grpcserver_parse_timeout(const char *s, uint64_t *ms)
{
    size_t n = strlen(s);
    if (n < 2 || n > 9)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    switch (s[n - 1]) {
    case 'H': *ms = v * 3600000; return 0;
    case 'M': *ms = v * 60000; return 0;
    case 'S': *ms = v * 1000; return 0;
    case 'm': *ms = v; return 0;
    case 'u': *ms = (v + 999) / 1000; return 0;
    case 'n': *ms = (v + 999999) / 1000000; return 0;
    default: return -1;
    }
}

char *grpcserver_percent_encode(const char *msg, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && o + 4 <= n; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '%') {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    if (n)
        out[o < n ? o : n - 1] = '\0';
    return out;
}

static nghttp2_nv nv(const char *name, const char *val)
{
    return (nghttp2_nv){(uint8_t *)name, (uint8_t *)val, strlen(name), strlen(val),
                        NGHTTP2_NV_FLAG_NONE};
}

/* ---- streams ---- */

static gstream *stream_new(gconn *c, int32_t id)
{
    gstream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->c = c;
    s->id = id;
    buf_init(&s->in, 0);
    buf_init(&s->out, 0);
    s->next = c->streams;
    if (c->streams)
        c->streams->prev = s;
    c->streams = s;
    c->nstreams++;
    return s;
}

static void stream_free(gstream *s)
{
    if (!s)
        return;
    gconn *c = s->c;
    server_conn_timer_cancel(c->sc, s->deadline_timer);
    server_conn_timer_cancel(c->sc, s->tick_timer);
    if (s->prev)
        s->prev->next = s->next;
    else
        c->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    c->nstreams--;
    if (s->slow) { /* the worker's result will find no one to answer */
        s->slow->s = NULL;
        atomic_store(&s->slow->cancelled, true);
    }
    buf_done(&s->in);
    buf_done(&s->out);
    if (s->req)
        protobuf_c_message_free_unpacked(s->req, NULL);
    free(s->path);
    free(s->message);
    free(s);
}

static ssize_t read_response(nghttp2_session *h2, int32_t id, uint8_t *dst, size_t len,
                             uint32_t *flags, nghttp2_data_source *src, void *ud);

static void stream_stop_timers(gstream *s)
{
    server_conn_timer_cancel(s->c->sc, s->deadline_timer);
    server_conn_timer_cancel(s->c->sc, s->tick_timer);
    s->deadline_timer = s->tick_timer = 0;
    s->counting = false;
}

/* Response headers (and a data provider that sends s->out, then the trailers). */
static void stream_start_response(gstream *s)
{
    if (s->headers_sent)
        return;
    s->headers_sent = true;
    nghttp2_nv hdrs[] = {nv(":status", "200"), nv("content-type", "application/grpc"),
                         nv("grpc-accept-encoding", "identity,gzip")};
    nghttp2_data_provider dp = {.source.ptr = s, .read_callback = read_response};
    nghttp2_submit_response(s->c->h2, s->id, hdrs, sizeof hdrs / sizeof hdrs[0], &dp);
}

static void stream_resume(gstream *s)
{
    if (s->headers_sent)
        nghttp2_session_resume_data(s->c->h2, s->id); /* harmless when not deferred */
}

/* Decides the call's status. Before any message it is a Trailers-Only response;
 * otherwise the trailers follow the queued messages. */
static void stream_finish(gstream *s, int status, const char *message)
{
    if (s->finished)
        return;
    s->finished = true;
    s->watching = false;
    if (s->slow) /* e.g. its deadline: a worker that has not begun it need not */
        atomic_store(&s->slow->cancelled, true);
    stream_stop_timers(s);
    s->status = status;
    s->message = message && *message ? strdup(message) : NULL;
    if (status != GRPC_OK)
        log_msg("%s: %s: status %d%s%s", server_conn_peer(s->c->sc), s->path ? s->path : "?",
                status, message ? ": " : "", message ? message : "");
    if (!s->headers_sent) {
        s->headers_sent = true;
        s->trailers_sent = true;
        char code[16], enc[1024];
        snprintf(code, sizeof code, "%d", status);
        nghttp2_nv hdrs[4] = {nv(":status", "200"), nv("content-type", "application/grpc"),
                              nv("grpc-status", code)};
        size_t n = 3;
        if (s->message)
            hdrs[n++] = nv("grpc-message", grpcserver_percent_encode(s->message, enc, sizeof enc));
        nghttp2_submit_response(s->c->h2, s->id, hdrs, n, NULL);
        return;
    }
    stream_resume(s);
}

/* Queues one message, framed with gRPC's 5-byte prefix. Returns 0 or -1 (and finishes
 * the call with INTERNAL). */
/* Appends msg to out with gRPC's 5-byte prefix (uncompressed). Returns 0 or -1. */
static int frame_message(buf *out, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t hdr[5] = {0, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    if (n > UINT32_MAX || buf_reserve(out, 5 + n) < 0)
        return -1;
    buf_append(out, hdr, 5);
    protobuf_c_message_pack(msg, out->p + out->len);
    out->len += n;
    return 0;
}

static int stream_send(gstream *s, const ProtobufCMessage *msg)
{
    if (s->finished)
        return -1;
    if (frame_message(&s->out, msg) < 0) {
        stream_finish(s, GRPC_INTERNAL, "out of memory for the reply");
        return -1;
    }
    stream_start_response(s);
    stream_resume(s);
    return 0;
}

static void count_make(gstream *s, size_t budget)
{
    while (s->counting && s->count_next <= s->count_to && buf_size(&s->out) < budget) {
        Tally__Number num = TALLY__NUMBER__INIT;
        num.value = s->count_next++;
        if (stream_send(s, &num.base) < 0)
            return;
    }
    if (s->counting && s->count_next > s->count_to) {
        s->counting = false;
        stream_finish(s, GRPC_OK, NULL);
    }
}

static ssize_t read_response(nghttp2_session *h2, int32_t id, uint8_t *dst, size_t len,
                             uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)ud;
    gstream *s = src->ptr;
    if (buf_size(&s->out) == 0 && s->counting && s->interval_ms == 0 && !s->finished)
        count_make(s, COUNT_CHUNK);
    size_t n = buf_size(&s->out);
    if (n > 0) {
        if (n > len)
            n = len;
        memcpy(dst, buf_data(&s->out), n);
        buf_consume(&s->out, n);
        if (buf_size(&s->out) == 0)
            buf_clear(&s->out);
        return (ssize_t)n;
    }
    if (!s->finished)
        return NGHTTP2_ERR_DEFERRED;
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    if (!s->trailers_sent) {
        s->trailers_sent = true;
        char code[16], enc[1024];
        snprintf(code, sizeof code, "%d", s->status);
        nghttp2_nv tr[2] = {nv("grpc-status", code)};
        size_t k = 1;
        if (s->message)
            tr[k++] = nv("grpc-message", grpcserver_percent_encode(s->message, enc, sizeof enc));
        if (nghttp2_submit_trailer(h2, id, tr, k) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return 0;
}

/* ---- the methods ---- */

/* Go's int64 addition: wraps around instead of overflowing. */
static int64_t add_wrap(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

static bool path_served(const char *path);

/* True when some method of service name ("user.User") is served; "" is the server. */
static bool service_served(const char *name)
{
    if (!name[0])
        return true;
    size_t n;
    const pb_method *all = pbcatalog_methods(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].service, name) == 0 && path_served(all[i].path))
            return true;
    return false;
}

static int health_status(const gconn *c, const char *service)
{
    if (!service_served(service))
        return GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    return c->shutting_down ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
                            : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
}

static void send_health(gstream *s, int status)
{
    Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
    stream_send(s, &r.base);
}

/* Greeter and Arith: the request becomes a value, the shared service runs, its reply
 * becomes the reply message. */
static void run_service(gstream *s)
{
    char err[512];
    value *arg = NULL, *reply = NULL, *wrapped = NULL;
    const method *sm = s->m->rpc_name ? service_find(s->m->rpc_name, err, sizeof err) : NULL;
    if (!sm) {
        stream_finish(s, GRPC_UNIMPLEMENTED, "no shared service for this method");
        return;
    }
    arg = pbvalue_from_message(s->req);
    if (!arg) {
        stream_finish(s, GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    if (service_call(sm, arg, &reply, err, sizeof err) < 0) {
        stream_finish(s, strcmp(err, "out of memory") == 0 ? GRPC_RESOURCE_EXHAUSTED
                                                            : GRPC_INVALID_ARGUMENT,
                      err);
        goto done;
    }
    /* A bare reply (Multiply's int) fills a reply message's only field (Product{value}). */
    const value *rv = reply;
    if (reply->kind != V_STRUCT && reply->kind != V_MAP && s->m->output->n_fields == 1) {
        wrapped = value_struct(s->m->output->short_name);
        value *copy = value_clone(reply);
        if (!wrapped || value_struct_set(wrapped, s->m->output->fields[0].name, copy) < 0) {
            stream_finish(s, GRPC_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        rv = wrapped;
    }
    ProtobufCMessage *out = pbvalue_to_message(s->m->output, rv, err, sizeof err);
    if (!out) {
        char msg[600];
        snprintf(msg, sizeof msg, "cannot encode the reply as %s: %s", s->m->output->name, err);
        stream_finish(s, GRPC_INTERNAL, msg);
        goto done;
    }
    if (stream_send(s, out) == 0)
        stream_finish(s, GRPC_OK, NULL);
    protobuf_c_message_free_unpacked(out, NULL);
done:
    value_free(arg);
    value_free(reply);
    value_free(wrapped);
}

/* ---- methods the program added; the slow ones on worker threads ---- */

enum { WORKERS = 2, SLOW_QUEUE_MAX = 256 };


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
        if (call->slow->replied || frame_message(&call->slow->reply, reply) < 0)
            return -1;
        call->slow->replied = true;
        return 0;
    }
    return stream_send(call->s, reply);
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
        stream_finish(s, st, msg[0] ? msg : "the method failed");
    else if (!s->finished && !replied)
        stream_finish(s, GRPC_INTERNAL, "the method sent no reply");
    else
        stream_finish(s, GRPC_OK, NULL);
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
                    stream_start_response(s);
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
        stream_finish(s, GRPC_INTERNAL, "cannot start the server's worker threads");
        return -1;
    }
    pthread_mutex_lock(&pool.mu);
    bool full = pool.waiting >= SLOW_QUEUE_MAX;
    if (!full)
        pool.waiting++;
    pthread_mutex_unlock(&pool.mu);
    if (full) {
        free(c);
        stream_finish(s, GRPC_RESOURCE_EXHAUSTED, "too many slow calls (password hashes) waiting: try again");
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
static void run_extra(gstream *s)
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

static void on_count_tick(loop *l, void *ud)
{
    (void)l;
    gstream *s = ud;
    s->tick_timer = 0;
    if (!s->counting)
        return;
    count_make(s, 1); /* one message */
    if (s->counting)
        s->tick_timer = server_conn_timer(s->c->sc, (uint64_t)s->interval_ms, on_count_tick, s);
    server_conn_flush(s->c->sc);
}

static void start_count(gstream *s)
{
    const Tally__CountRequest *r = (const Tally__CountRequest *)s->req;
    if (r->interval_ms < 0 || r->interval_ms > MAX_INTERVAL_MS) {
        char msg[128];
        snprintf(msg, sizeof msg, "interval_ms must be between 0 and %d, not %" PRId32,
                 MAX_INTERVAL_MS, r->interval_ms);
        stream_finish(s, GRPC_INVALID_ARGUMENT, msg);
        return;
    }
    s->count_next = 1;
    s->count_to = r->to;
    s->interval_ms = r->interval_ms;
    s->counting = true;
    stream_start_response(s);
    if (s->interval_ms == 0) {
        count_make(s, COUNT_CHUNK);
        return;
    }
    count_make(s, 1);
    if (s->counting)
        s->tick_timer = server_conn_timer(s->c->sc, (uint64_t)s->interval_ms, on_count_tick, s);
}

/* The FileDescriptorProto's dependency names (field 3), for the files a file imports. */
static size_t file_imports(const pb_file *f, const pb_file **out, size_t max)
{
    size_t n = 0;
    const uint8_t *p = f->bytes, *end = f->bytes + f->len;
    while (p < end && n < max) {
        uint64_t key = 0, len = 0;
        int sh = 0;
        while (p < end && sh < 64) {
            uint8_t b = *p++;
            key |= (uint64_t)(b & 0x7f) << sh;
            sh += 7;
            if (!(b & 0x80))
                break;
        }
        int wire = (int)(key & 7);
        if (wire == 0) {
            while (p < end && (*p++ & 0x80))
                ;
            continue;
        }
        if (wire == 1 || wire == 5) {
            p += wire == 1 ? 8 : 4;
            continue;
        }
        if (wire != 2)
            break;
        sh = 0;
        while (p < end && sh < 64) {
            uint8_t b = *p++;
            len |= (uint64_t)(b & 0x7f) << sh;
            sh += 7;
            if (!(b & 0x80))
                break;
        }
        if (len > (uint64_t)(end - p))
            break;
        if ((key >> 3) == 3) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)len, (const char *)p);
            const pb_file *dep = pbcatalog_file_by_name(name);
            if (dep)
                out[n++] = dep;
        }
        p += len;
    }
    return n;
}

static void reflect(gstream *s, const Grpc__Reflection__V1alpha__ServerReflectionRequest *q)
{
    Grpc__Reflection__V1alpha__ServerReflectionResponse r =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__FileDescriptorResponse fdr =
        GRPC__REFLECTION__V1ALPHA__FILE_DESCRIPTOR_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ListServiceResponse lsr =
        GRPC__REFLECTION__V1ALPHA__LIST_SERVICE_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ExtensionNumberResponse enr =
        GRPC__REFLECTION__V1ALPHA__EXTENSION_NUMBER_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ErrorResponse er = GRPC__REFLECTION__V1ALPHA__ERROR_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ServiceResponse svc[16];
    Grpc__Reflection__V1alpha__ServiceResponse *svcp[16];
    ProtobufCBinaryData files[17];
    char msg[512] = ""; /* set: the answer is a NOT_FOUND error saying this */
    r.valid_host = q->host;
    r.original_request = (Grpc__Reflection__V1alpha__ServerReflectionRequest *)q;
    const pb_file *f = NULL;
    switch (q->message_request_case) {
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES: {
        size_t n;
        const char *const *names = pbcatalog_services(&n);
        size_t k = 0;
        for (size_t i = 0; i < n && k < 16; i++) {
            if (!service_served(names[i]))
                continue;
            grpc__reflection__v1alpha__service_response__init(&svc[k]);
            svc[k].name = (char *)names[i];
            svcp[k] = &svc[k];
            k++;
        }
        lsr.n_service = k;
        lsr.service = svcp;
        r.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
        r.list_services_response = &lsr;
        break;
    }
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        f = pbcatalog_file_by_name(q->file_by_filename);
        if (!f)
            snprintf(msg, sizeof msg, "file not found: %s", q->file_by_filename);
        goto file;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        f = pbcatalog_file_for_symbol(q->file_containing_symbol);
        if (!f)
            snprintf(msg, sizeof msg, "symbol not found: %s", q->file_containing_symbol);
    file:
        if (f) {
            const pb_file *deps[16];
            size_t nd = file_imports(f, deps, 16);
            files[0] = (ProtobufCBinaryData){f->len, (uint8_t *)f->bytes};
            for (size_t i = 0; i < nd; i++)
                files[i + 1] = (ProtobufCBinaryData){deps[i]->len, (uint8_t *)deps[i]->bytes};
            fdr.n_file_descriptor_proto = nd + 1;
            fdr.file_descriptor_proto = files;
            r.message_response_case =
                GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
            r.file_descriptor_response = &fdr;
        }
        break;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
        if (!pbcatalog_message(q->all_extension_numbers_of_type) &&
            !pbcatalog_file_for_symbol(q->all_extension_numbers_of_type)) {
            snprintf(msg, sizeof msg, "type not found: %s", q->all_extension_numbers_of_type);
            break;
        }
        enr.base_type_name = q->all_extension_numbers_of_type;
        r.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
        r.all_extension_numbers_response = &enr;
        break;
    default:
        snprintf(msg, sizeof msg, "%s",
                 q->message_request_case ==
                         GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION
                     ? "extensions are not used by this server's files"
                     : "empty reflection request");
        break;
    }
    if (msg[0]) {
        er.error_code = GRPC_NOT_FOUND;
        er.error_message = msg;
        r.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
        r.error_response = &er;
    }
    stream_send(s, &r.base);
}

/* One whole request message arrived. */
static void on_message(gstream *s, const uint8_t *p, size_t n)
{
    ProtobufCMessage *msg = protobuf_c_message_unpack(s->m->input, NULL, n, p);
    if (!msg) {
        char m[256];
        snprintf(m, sizeof m, "grpc: error unmarshalling request: %zu bytes are not a valid %s",
                 n, s->m->input->name);
        stream_finish(s, GRPC_INTERNAL, m);
        return;
    }
    if ((s->h == H_RUNNING || s->h == H_REFLECTION) && buf_size(&s->out) > STREAM_OUT_CAP) {
        /* the trailers could not get past the replies it does not read: reset the stream */
        protobuf_c_message_free_unpacked(msg, NULL);
        log_msg("%s: %s: the client sends requests but does not read the replies (over %u bytes "
                "queued): stream reset", server_conn_peer(s->c->sc), s->path, STREAM_OUT_CAP);
        s->finished = true;
        stream_stop_timers(s);
        buf_done(&s->out);
        nghttp2_submit_rst_stream(s->c->h2, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_ENHANCE_YOUR_CALM);
        return;
    }
    switch (s->h) {
    case H_SERVICE: case H_COUNT: case H_HEALTH_CHECK: case H_HEALTH_WATCH: case H_EXTRA:
        if (s->req) {
            protobuf_c_message_free_unpacked(msg, NULL);
            stream_finish(s, GRPC_INTERNAL,
                          "grpc: a second request message on a method that takes one");
            return;
        }
        s->req = msg;
        /* streaming replies start without waiting for the client's half-close */
        if (s->h == H_COUNT)
            start_count(s);
        else if (s->h == H_HEALTH_WATCH) {
            const char *svc = ((Grpc__Health__V1__HealthCheckRequest *)msg)->service;
            s->watching = true;
            send_health(s, health_status(s->c, svc));
            if (s->c->shutting_down)
                stream_finish(s, GRPC_UNAVAILABLE, "the server is shutting down");
        }
        return;
    case H_TOTAL:
        s->sum = add_wrap(s->sum, ((Tally__Number *)msg)->value);
        break;
    case H_RUNNING: {
        s->sum = add_wrap(s->sum, ((Tally__Number *)msg)->value);
        Tally__Number r = TALLY__NUMBER__INIT;
        r.value = s->sum;
        stream_send(s, &r.base);
        break;
    }
    case H_REFLECTION:
        reflect(s, (Grpc__Reflection__V1alpha__ServerReflectionRequest *)msg);
        break;
    }
    protobuf_c_message_free_unpacked(msg, NULL);
}

/* The client half-closed: answer what waits for the whole request. */
static void on_input_done(gstream *s)
{
    s->input_done = true;
    if (s->finished || !s->m)
        return;
    if ((s->h == H_SERVICE || s->h == H_COUNT || s->h == H_HEALTH_CHECK || s->h == H_HEALTH_WATCH ||
         s->h == H_EXTRA) &&
        !s->req) {
        stream_finish(s, GRPC_INTERNAL, "grpc: the client sent no request message");
        return;
    }
    switch (s->h) {
    case H_SERVICE: run_service(s); break;
    case H_EXTRA: run_extra(s); break;
    case H_HEALTH_CHECK: {
        const char *svc = ((Grpc__Health__V1__HealthCheckRequest *)s->req)->service;
        int st = health_status(s->c, svc);
        if (st == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN) {
            char m[300];
            snprintf(m, sizeof m, "unknown service %s", svc);
            stream_finish(s, GRPC_NOT_FOUND, m);
            break;
        }
        send_health(s, st);
        stream_finish(s, GRPC_OK, NULL);
        break;
    }
    case H_TOTAL: {
        Tally__Number r = TALLY__NUMBER__INIT;
        r.value = s->sum;
        if (stream_send(s, &r.base) == 0)
            stream_finish(s, GRPC_OK, NULL);
        break;
    }
    case H_RUNNING: case H_REFLECTION: stream_finish(s, GRPC_OK, NULL); break;
    case H_COUNT: case H_HEALTH_WATCH: break; /* they go on */
    }
}

static void on_deadline(loop *l, void *ud)
{
    (void)l;
    gstream *s = ud;
    s->deadline_timer = 0;
    if (s->finished)
        return;
    stream_finish(s, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
    server_conn_flush(s->c->sc);
}

static const struct {
    const char *path;
    handler h;
    bool sample;
} handlers[] = {
    {"/helloworld.Greeter/SayHello", H_SERVICE, true},
    {"/arith.Arith/Multiply", H_SERVICE, true},
    {"/arith.Arith/Divide", H_SERVICE, true},
    {"/tally.Tally/Count", H_COUNT, true},
    {"/tally.Tally/Total", H_TOTAL, true},
    {"/tally.Tally/RunningTotal", H_RUNNING, true},
    {"/grpc.health.v1.Health/Check", H_HEALTH_CHECK},
    {"/grpc.health.v1.Health/Watch", H_HEALTH_WATCH},
    {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", H_REFLECTION},
};

static bool path_served(const char *path)
{
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (strcmp(handlers[i].path, path) == 0 && (serve_samples || !handlers[i].sample))
            return true;
    for (size_t i = 0; i < nextra_methods; i++)
        if (strcmp(extra_methods[i].path, path) == 0)
            return true;
    return false;
}

/* The request headers are complete: find the method, check the headers, arm the deadline. */
static void on_request(gstream *s)
{
    char m[600];
    if (!s->path || !s->path[0]) {
        stream_finish(s, GRPC_UNIMPLEMENTED, "no :path in the request");
        return;
    }
    if (!s->is_post || !s->grpc_content_type) {
        snprintf(m, sizeof m, "%s", !s->is_post ? "gRPC requests use POST"
                                                : "content-type must be application/grpc");
        stream_finish(s, GRPC_INTERNAL, m);
        return;
    }
    if (s->bad_timeout) {
        stream_finish(s, GRPC_INTERNAL, "malformed grpc-timeout header");
        return;
    }
    if (s->encoding[0] && strcmp(s->encoding, "gzip") != 0) {
        snprintf(m, sizeof m, "grpc: Decompressor is not installed for grpc-encoding \"%s\" (this server "
                 "takes gzip or identity)", s->encoding);
        stream_finish(s, GRPC_UNIMPLEMENTED, m);
        return;
    }
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (strcmp(handlers[i].path, s->path) == 0 && (serve_samples || !handlers[i].sample)) {
            s->m = pbcatalog_find(s->path);
            s->h = handlers[i].h;
        }
    for (size_t i = 0; !s->m && i < nextra_methods; i++)
        if (strcmp(extra_methods[i].path, s->path) == 0 && (s->m = pbcatalog_find(s->path))) {
            s->h = H_EXTRA;
            s->extra = &extra_methods[i];
        }
    if (!s->m) {
        /* grpc-go's wording: unknown service, or unknown method of a known service */
        const char *p = s->path[0] == '/' ? s->path + 1 : s->path;
        const char *slash = strchr(p, '/');
        char svc[256];
        snprintf(svc, sizeof svc, "%.*s", slash ? (int)(slash - p) : (int)strlen(p), p);
        if (slash && service_served(svc))
            snprintf(m, sizeof m, "unknown method %s for service %s", slash + 1, svc);
        else
            snprintf(m, sizeof m, "unknown service %s", svc);
        stream_finish(s, GRPC_UNIMPLEMENTED, m);
        return;
    }
    if (s->have_timeout) {
        if (s->timeout_ms == 0) {
            stream_finish(s, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
            return;
        }
        s->deadline_timer = server_conn_timer(s->c->sc, s->timeout_ms, on_deadline, s);
    }
}

/* ---- nghttp2 callbacks ---- */

static int cb_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
    gconn *c = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    gstream *s = stream_new(c, f->hd.stream_id);
    if (!s)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    nghttp2_session_set_stream_user_data(h2, f->hd.stream_id, s);
    return 0;
}

static int cb_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *val, size_t vlen, uint8_t flags, void *ud)
{
    (void)flags;
    (void)ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    gstream *s = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (!s)
        return 0;
#define IS(lit) (nlen == sizeof lit - 1 && memcmp(name, lit, nlen) == 0)
    if (IS(":path")) {
        free(s->path);
        s->path = strndup((const char *)val, vlen);
    } else if (IS(":method")) {
        s->is_post = vlen == 4 && memcmp(val, "POST", 4) == 0;
    } else if (IS("content-type")) {
        s->grpc_content_type = vlen >= 16 && memcmp(val, "application/grpc", 16) == 0 &&
                               (vlen == 16 || val[16] == '+' || val[16] == ';');
    } else if (IS("grpc-encoding")) {
        snprintf(s->encoding, sizeof s->encoding, "%.*s", vlen < 31 ? (int)vlen : 31, (const char *)val);
        if (strcmp(s->encoding, "identity") == 0)
            s->encoding[0] = '\0';
    } else if (IS("grpc-timeout")) {
        char t[16];
        snprintf(t, sizeof t, "%.*s", vlen < 15 ? (int)vlen : 15, (const char *)val);
        s->have_timeout = true;
        s->bad_timeout = vlen > 15 || grpcserver_parse_timeout(t, &s->timeout_ms) < 0;
    }
#undef IS
    return 0;
}

static int cb_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
    (void)ud;
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
        return 0;
    gstream *s = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (!s)
        return 0;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
        on_request(s);
    if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) && !s->input_done) {
        if (!s->finished && buf_size(&s->in) > 0)
            stream_finish(s, GRPC_INTERNAL, "the request ended in the middle of a message");
        on_input_done(s);
    }
    return 0;
}

/* A message with the compressed flag, in the stream's grpc-encoding (gzip), into
 * s->c->inflated. Returns 0, or -1 after finishing the call with a status that says why. */
static int inflate_message(gstream *s, const uint8_t *p, size_t n)
{
    char why[160], m[256];
    gunzip_result r = gunzip_message(p, n, s->c->max_message, &s->c->inflated, why, sizeof why);
    if (r == GUNZIP_OK)
        return 0;
    if (r == GUNZIP_TOO_LARGE)
        snprintf(m, sizeof m, "grpc: received message after decompression larger than max (%zu)",
                 s->c->max_message);
    else
        snprintf(m, sizeof m, "grpc: failed to decompress the received message: %s", why);
    stream_finish(s, r == GUNZIP_CORRUPT ? GRPC_INTERNAL : GRPC_RESOURCE_EXHAUSTED, m);
    return -1;
}

static int cb_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *ud)
{
    (void)flags;
    gconn *c = ud;
    gstream *s = nghttp2_session_get_stream_user_data(h2, id);
    if (!s || s->finished || !s->m)
        return 0;
    if (buf_append(&s->in, data, len) < 0) {
        stream_finish(s, GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return 0;
    }
    while (!s->finished && buf_size(&s->in) >= 5) {
        const uint8_t *p = buf_data(&s->in);
        uint32_t n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
        if (p[0] == 1 && !s->encoding[0]) {
            stream_finish(s, GRPC_INTERNAL, "grpc: compressed flag set with identity or empty encoding "
                                            "(a compressed message needs a grpc-encoding header)");
            break;
        }
        if (p[0] > 1) {
            char m[128];
            snprintf(m, sizeof m, "grpc: bad compressed-flag byte 0x%02x in the message prefix", p[0]);
            stream_finish(s, GRPC_INTERNAL, m);
            break;
        }
        if (n > c->max_message) {
            char m[160];
            snprintf(m, sizeof m, "grpc: received message larger than max (%" PRIu32 " vs. %zu)", n,
                     c->max_message);
            stream_finish(s, GRPC_RESOURCE_EXHAUSTED, m);
            break;
        }
        if (buf_size(&s->in) < 5 + (size_t)n)
            break;
        if (p[0] == 1) {
            if (inflate_message(s, p + 5, n) == 0)
                on_message(s, buf_data(&c->inflated), buf_size(&c->inflated));
            buf_clear(&c->inflated);
        } else {
            on_message(s, p + 5, n);
        }
        buf_consume(&s->in, 5 + (size_t)n);
    }
    if (s->finished)
        buf_done(&s->in);
    else if (buf_size(&s->in) == 0)
        buf_clear(&s->in);
    return 0;
}

static int cb_frame_send(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
    (void)ud;
    /* Our trailers went out while the client is still sending: end its half too. */
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
        nghttp2_session_get_stream_remote_close(h2, f->hd.stream_id) == 0)
        nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_NO_ERROR);
    return 0;
}

static int cb_stream_close(nghttp2_session *h2, int32_t id, uint32_t code, void *ud)
{
    (void)code;
    (void)ud;
    gstream *s = nghttp2_session_get_stream_user_data(h2, id);
    if (s) {
        nghttp2_session_set_stream_user_data(h2, id, NULL);
        stream_free(s);
    }
    return 0;
}

static int cb_error(nghttp2_session *h2, int lib_error, const char *msg, size_t len, void *ud)
{
    (void)h2;
    (void)lib_error;
    gconn *c = ud;
    snprintf(c->h2err, sizeof c->h2err, "HTTP/2: %.*s", (int)len, msg);
    return 0;
}

/* ---- the codec ---- */

static void grpc_close(void *state)
{
    gconn *c = state;
    if (!c)
        return;
    nghttp2_session_del(c->h2); /* closes the streams through cb_stream_close */
    while (c->streams)
        stream_free(c->streams);
    buf_done(&c->inflated);
    free(c);
}

static void *grpc_open(server_conn *sc, size_t max_message)
{
    gconn *c = calloc(1, sizeof *c);
    nghttp2_session_callbacks *cbs = NULL;
    nghttp2_option *opt = NULL;
    if (!c || nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opt) != 0)
        goto fail;
    c->sc = sc;
    c->max_message = max_message;
    buf_init(&c->inflated, 0);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, cb_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, cb_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cb_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, cb_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_stream_close);
    nghttp2_session_callbacks_set_error_callback2(cbs, cb_error);
    nghttp2_option_set_no_http_messaging(opt, 0);
    if (nghttp2_session_server_new2(&c->h2, cbs, c, opt) != 0)
        goto fail;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST},
    };
    if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0 ||
        nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW) != 0)
        goto fail;
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    return c;
fail:
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    if (c && c->h2)
        nghttp2_session_del(c->h2);
    free(c);
    return NULL;
}

static void on_watch_end(loop *l, void *ud)
{
    (void)l;
    gstream *s = ud;
    s->tick_timer = 0;
    stream_finish(s, GRPC_UNAVAILABLE, "the server is shutting down");
    server_conn_flush(s->c->sc);
}

static void grpc_shutdown(void *state)
{
    gconn *c = state;
    if (c->shutting_down)
        return;
    c->shutting_down = true;
    nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->h2),
                          NGHTTP2_NO_ERROR, (const uint8_t *)"server shutting down", 20);
    /* Watches would never end: tell them NOT_SERVING, then end them a little later (a
     * client that learns the status at once may drop a message it has not read yet). */
    for (gstream *s = c->streams; s; s = s->next)
        if (s->watching && !s->finished) {
            send_health(s, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
            if (!s->tick_timer)
                s->tick_timer = server_conn_timer(c->sc, WATCH_END_DELAY_MS, on_watch_end, s);
        }
}

/* Appends the frames nghttp2 has ready, up to OUT_BUDGET bytes. Returns 0 or -1. */
static int pump(gconn *c, buf *out, char *err, size_t errlen)
{
    while (buf_size(out) < OUT_BUDGET) {
        const uint8_t *p;
        ssize_t k = nghttp2_session_mem_send(c->h2, &p);
        if (k < 0) {
            err_set(err, errlen, "HTTP/2: %s", nghttp2_strerror((int)k));
            return -1;
        }
        if (k == 0)
            break;
        if (buf_append(out, p, (size_t)k) < 0) {
            err_set(err, errlen, "out of memory for output");
            return -1;
        }
    }
    return 0;
}

/* "GET / HTTP/1.1": an HTTP/1 request line (a method in capitals, then a space). */
static bool looks_like_http1(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < 8 && p[i] >= 'A' && p[i] <= 'Z')
        i++;
    return i >= 3 && i < n && p[i] == ' ';
}

static feed_result grpc_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen)
{
    gconn *c = state;
    size_t n = buf_size(in);
    if (n > 0) {
        const uint8_t *data = buf_data(in); /* stays valid after buf_consume */
        ssize_t r = nghttp2_session_mem_recv(c->h2, data, n);
        buf_consume(in, n);
        if (r == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
            err_set(err, errlen, "the client did not start with the HTTP/2 preface: gRPC here is "
                                 "cleartext HTTP/2 with prior knowledge (not HTTP/1.1, not TLS)");
            if (looks_like_http1(data, n)) {
                static const char body[] = "This is a gRPC server: it speaks HTTP/2 only (cleartext, "
                                           "prior knowledge), not HTTP/1.1.\n";
                buf_printf(out, "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain\r\n"
                                "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                           sizeof body - 1, body);
            }
            return FEED_CLOSE;
        }
        if (r < 0) {
            char why[256];
            snprintf(why, sizeof why, "%s", c->h2err[0] ? c->h2err : nghttp2_strerror((int)r));
            pump(c, out, err, errlen); /* a GOAWAY nghttp2 may have queued */
            err_set(err, errlen, "%s", why);
            return FEED_CLOSE;
        }
    }
    if (pump(c, out, err, errlen) < 0)
        return FEED_CLOSE;
    if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2)) {
        if (c->h2err[0] && !c->shutting_down) {
            err_set(err, errlen, "%s", c->h2err);
            return FEED_CLOSE;
        }
        return FEED_DONE;
    }
    if (c->shutting_down && c->nstreams == 0 && !nghttp2_session_want_write(c->h2))
        return FEED_DONE;
    (void)eof; /* the server closes the connection once out is flushed */
    return FEED_OK;
}

static bool grpc_busy(void *state) { return ((const gconn *)state)->nstreams > 0; }

const server_codec grpcserver_codec = {
    .name = "gRPC (HTTP/2, cleartext)",
    .protocol = "grpc",
    .default_listen = "127.0.0.1:50051",
    .open_conn = grpc_open,
    .close = grpc_close,
    .feed = grpc_feed,
    .shutdown = grpc_shutdown,
    .feed_on_writable = true,
    .busy = grpc_busy,
    .methods_help =
        "Methods served (gRPC paths; the first three run the same code as the gob and\n"
        "JSON-RPC servers):\n"
        "  /helloworld.Greeter/SayHello  {name} -> {message: \"Hello \" + name}\n"
        "  /arith.Arith/Multiply         Args{A, B} -> Product{value: A*B}\n"
        "  /arith.Arith/Divide           Args{A, B} -> Quotient{Quo, Rem};\n"
        "                                B = 0 -> INVALID_ARGUMENT \"divide by zero\"\n"
        "  /tally.Tally/Count            {to, interval_ms} -> 1, 2, ... to\n"
        "                                (server streaming; interval_ms at most 1000)\n"
        "  /tally.Tally/Total            Numbers -> their sum (client streaming)\n"
        "  /tally.Tally/RunningTotal     Numbers -> the running sums (bidirectional)\n"
        "  /grpc.health.v1.Health/Check and /Watch\n"
        "  /grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo\n"
        "A message over --max-message gets RESOURCE_EXHAUSTED; only its call fails.\n"
        "Requests may be gzip-compressed (grpc-encoding: gzip; capped at --max-message\n"
        "once inflated); replies go uncompressed.\n",
};
