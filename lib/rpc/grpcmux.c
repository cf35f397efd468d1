/* grpcmux.c -- an asynchronous gRPC client on the loop: one HTTP/2 connection, many calls. */
#include "rpc/grpcmux_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/net.h"

static void mux_want_flush(grpcmux *m);

static void on_drain(loop *l, void *ud)
{
    (void)l;
    grpcmux *m = ud;
    m->drain_timer = 0;
    mux_drain(m);
}

static void mux_want_drain(grpcmux *m)
{
    if (!m->drain_timer && !m->closing)
        m->drain_timer = loop_timer(m->l, 0, on_drain, m);
}

/* The connection is over: every live call ends (conn_failed; unsent when none of its
 * bytes reached the socket), and so does the session. */
static void fail(grpcmux *m, const char *why)
{
    if (m->failed)
        return;
    m->failed = true;
    char text[400];
    snprintf(text, sizeof text, "the connection to %s failed: %s", m->addr, why);
    while (m->live.head) {
        mcall *c = m->live.head;
        mux_end(c, GRPC_UNAVAILABLE, text, true, !c->headers_out || m->written <= c->first_byte);
    }
    if (m->fd >= 0) {
        loop_unwatch(m->l, m->fd);
        close(m->fd);
        m->fd = -1;
    }
    if (m->connect_timer)
        loop_timer_cancel(m->l, m->connect_timer);
    if (m->flush_timer)
        loop_timer_cancel(m->l, m->flush_timer);
    if (m->deadline_timer)
        loop_timer_cancel(m->l, m->deadline_timer);
    m->connect_timer = m->flush_timer = m->deadline_timer = 0;
    nghttp2_session *h = m->h2;
    m->h2 = NULL; /* on_close ignores what nghttp2_session_del may report */
    nghttp2_session_del(h);
    for (mcall *c = m->done.head; c; c = c->next)
        c->h2_open = false;
    while (m->zombie.head) {
        mcall *c = m->zombie.head;
        mlist_remove(&m->zombie, c);
        m->nheld--;
        mux_call_free(c);
    }
    buf_done(&m->out);
    m->out_off = 0;
    mux_want_drain(m);
}

/* Sends what is made and not sent; when that is all, makes every frame nghttp2 has
 * queued and sends them in one send(). EPOLLOUT only while the socket is full. */
static void pump_out(grpcmux *m)
{
    while (!m->failed && m->connected) {
        if (m->out_off == buf_size(&m->out)) {
            buf_clear(&m->out);
            m->out_off = 0;
            while (buf_size(&m->out) < MUX_OUT_CHUNK) {
                const uint8_t *p;
                ssize_t k = nghttp2_session_mem_send(m->h2, &p);
                if (k < 0) {
                    char why[128];
                    snprintf(why, sizeof why, "HTTP/2: %s", nghttp2_strerror((int)k));
                    fail(m, why);
                    return;
                }
                if (k == 0)
                    break;
                if (buf_append(&m->out, p, (size_t)k) < 0) {
                    fail(m, "out of memory");
                    return;
                }
                m->produced += (uint64_t)k;
            }
            if (buf_size(&m->out) == 0)
                break;
        }
        size_t left = buf_size(&m->out) - m->out_off;
        ssize_t w = send(m->fd, buf_data(&m->out) + m->out_off, left, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w < 0) {
            fail(m, strerror(errno));
            return;
        }
        m->stats.writes++;
        m->stats.bytes_sent += (uint64_t)w;
        m->written += (uint64_t)w;
        m->out_off += (size_t)w;
        if ((size_t)w < left)
            break;
    }
    if (m->failed || !m->connected)
        return;
    bool full = m->out_off < buf_size(&m->out);
    if (full != m->want_out) {
        m->want_out = full;
        loop_rewatch(m->l, m->fd, EPOLLIN | (full ? EPOLLOUT : 0));
    }
    if (!nghttp2_session_want_read(m->h2) && !nghttp2_session_want_write(m->h2) && !full)
        fail(m, m->goaway ? "the server closed the connection after GOAWAY" : "the HTTP/2 session ended");
}

static void on_flush(loop *l, void *ud)
{
    (void)l;
    grpcmux *m = ud;
    m->flush_timer = 0;
    pump_out(m);
    mux_drain(m);
}

static void mux_want_flush(grpcmux *m)
{
    if (!m->flush_timer && m->connected && !m->failed && !m->want_out)
        m->flush_timer = loop_timer(m->l, 0, on_flush, m);
}

static void on_deadline(loop *l, void *ud);

/* Keeps the deadline timer at or before the earliest deadline (c just became it). */
static void mux_arm(grpcmux *m, const mcall *c)
{
    if (m->deadline_timer && m->deadline_due <= c->deadline)
        return;
    if (m->deadline_timer)
        loop_timer_cancel(m->l, m->deadline_timer);
    uint64_t now = clock_now_ms();
    m->deadline_due = c->deadline;
    m->deadline_timer = loop_timer(m->l, c->deadline > now ? c->deadline - now : 0, on_deadline, m);
}

static void on_deadline(loop *l, void *ud)
{
    (void)l;
    grpcmux *m = ud;
    m->deadline_timer = 0;
    mux_expire(m);
    if (m->live.head)
        mux_arm(m, m->live.head);
    mux_want_flush(m); /* the resets */
    mux_drain(m);
}

static void on_connect_timeout(loop *l, void *ud)
{
    (void)l;
    grpcmux *m = ud;
    m->connect_timer = 0;
    char why[64];
    snprintf(why, sizeof why, "not connected within %d ms", m->connect_timeout_ms);
    fail(m, why);
    mux_drain(m);
}

/* Reads what has arrived, in large chunks, and hands all of it to nghttp2. */
static void read_in(grpcmux *m)
{
    for (int i = 0; i < MUX_READS_PER_TURN && !m->failed; i++) {
        ssize_t n = recv(m->fd, m->rbuf, MUX_READ_CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            fail(m, n == 0 ? "the server closed the connection" : strerror(errno));
            return;
        }
        m->stats.reads++;
        m->stats.bytes_received += (uint64_t)n;
        ssize_t used = nghttp2_session_mem_recv(m->h2, m->rbuf, (size_t)n);
        if (used < 0) {
            char why[160];
            snprintf(why, sizeof why, "the server's bytes are not HTTP/2 as gRPC speaks it: %s",
                     nghttp2_strerror((int)used));
            fail(m, why);
            return;
        }
        if (n < MUX_READ_CHUNK)
            return;
    }
}

static void on_io(loop *l, int fd, uint32_t events, void *ud)
{
    (void)l;
    (void)fd;
    grpcmux *m = ud;
    if (!m->connected) {
        char why[300];
        if (net_connect_result(m->fd, m->addr, why, sizeof why) < 0) {
            fail(m, why);
            mux_drain(m);
            return;
        }
        loop_timer_cancel(m->l, m->connect_timer);
        m->connect_timer = 0;
        m->connected = true;
        loop_rewatch(m->l, m->fd, EPOLLIN);
        mux_want_flush(m);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        read_in(m);
    if (!m->failed && (events & EPOLLOUT))
        pump_out(m);
    else if (!m->failed && (nghttp2_session_want_write(m->h2) || !nghttp2_session_want_read(m->h2)))
        mux_want_flush(m);
    mux_drain(m);
}

/* Opens the nghttp2 session and queues the preface: our SETTINGS and a large connection
 * window, so small calls never wait on WINDOW_UPDATE. Returns 0, or -1 with err. */
static int start_session(grpcmux *m, char *err, size_t errlen)
{
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    mux_set_callbacks(cb);
    nghttp2_option_set_no_closed_streams(opt, 1);
    int r = nghttp2_session_client_new2(&m->h2, cb, m, opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    if (r != 0) {
        err_set(err, errlen, "cannot start an HTTP/2 session: %s", nghttp2_strerror(r));
        return -1;
    }
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, MUX_STREAM_WINDOW},
                                         {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 64 << 10}};
    nghttp2_submit_settings(m->h2, NGHTTP2_FLAG_NONE, settings, 3);
    nghttp2_session_set_local_window_size(m->h2, NGHTTP2_FLAG_NONE, 0, MUX_CONN_WINDOW);
    return 0;
}

grpcmux *grpcmux_new(loop *l, const char *addr, int connect_timeout_ms, char *err, size_t errlen)
{
    char host[256];
    int port;
    if (net_split(addr, host, sizeof host, &port, err, errlen) < 0)
        return NULL;
    grpcmux *m = calloc(1, sizeof *m);
    if (!m || !(m->rbuf = malloc(MUX_READ_CHUNK))) {
        free(m);
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    m->l = l;
    m->fd = -1;
    m->connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : 1;
    snprintf(m->addr, sizeof m->addr, "%s", addr);
    buf_init(&m->out, 2 * MUX_OUT_CHUNK);
    if (start_session(m, err, errlen) < 0) {
        free(m->rbuf);
        free(m);
        return NULL;
    }
    char why[300];
    m->fd = net_connect_start(addr, why, sizeof why);
    if (m->fd < 0 || loop_watch(l, m->fd, EPOLLOUT, on_io, m) < 0) {
        if (m->fd >= 0) {
            snprintf(why, sizeof why, "cannot watch the socket: %s", strerror(errno));
            close(m->fd);
            m->fd = -1;
        }
        fail(m, why); /* the calls made now end with UNAVAILABLE */
        return m;
    }
    m->connect_timer = loop_timer(l, (uint64_t)m->connect_timeout_ms, on_connect_timeout, m);
    return m;
}

void grpcmux_free(grpcmux *m)
{
    if (!m)
        return;
    if (m->drain_timer)
        loop_timer_cancel(m->l, m->drain_timer);
    m->drain_timer = 0;
    while (m->live.head) {
        mcall *c = m->live.head;
        mux_end(c, GRPC_CANCELLED, "the client is closing", true,
                !c->headers_out || m->written <= c->first_byte);
    }
    if (!m->failed && m->connected && m->out_off == buf_size(&m->out)) {
        /* a polite GOAWAY, when it can go at once */
        nghttp2_session_terminate_session(m->h2, NGHTTP2_NO_ERROR);
        const uint8_t *p;
        ssize_t k;
        while ((k = nghttp2_session_mem_send(m->h2, &p)) > 0)
            if (send(m->fd, p, (size_t)k, MSG_NOSIGNAL | MSG_DONTWAIT) != k)
                break;
    }
    fail(m, "the client is closing");
    m->closing = true; /* calls made by the callbacks below end at once */
    if (m->drain_timer)
        loop_timer_cancel(m->l, m->drain_timer);
    m->drain_timer = 0;
    while (m->done.head)
        mux_drain(m);
    grpc_sendmd_clear(&m->md);
    free(m->rbuf);
    free(m);
}

int grpcmux_set_metadata(grpcmux *m, const char *name, const char *val, char *err, size_t errlen)
{
    return grpc_sendmd_set(&m->md, name, val, false, err, errlen);
}

/* Puts c in the deadline list, from the tail: most calls share one timeout. */
static void insert_by_deadline(grpcmux *m, mcall *c)
{
    mcall *after = m->live.tail;
    while (after && after->deadline > c->deadline)
        after = after->prev;
    c->prev = after;
    c->next = after ? after->next : m->live.head;
    if (c->next)
        c->next->prev = c;
    else
        m->live.tail = c;
    if (after)
        after->next = c;
    else
        m->live.head = c;
    if (!after)
        mux_arm(m, c);
}

void grpcmux_call(grpcmux *m, const char *path, const uint8_t *req, size_t len, int timeout_ms,
                  grpcmux_done_fn fn, void *ud)
{
    mcall *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "grpcmux: out of memory for a call\n");
        abort();
    }
    c->m = m;
    c->fn = fn;
    c->ud = ud;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    c->deadline = clock_now_ms() + (uint64_t)c->timeout_ms;
    c->state = CALL_LIVE;
    mlist_push(&m->live, c); /* mux_end takes it from there when it cannot start */
    m->nheld++;
    m->npending++;
    char text[400];
    if (m->failed || m->goaway || m->closing) {
        if (m->closing)
            snprintf(text, sizeof text, "the client is closing");
        else
            snprintf(text, sizeof text, "the connection to %s is %s", m->addr,
                     m->goaway ? "going away (GOAWAY)" : "down");
        mux_end(c, m->closing ? GRPC_CANCELLED : GRPC_UNAVAILABLE, text, true, true);
        mux_want_drain(m); /* called back on a later turn, never from here */
        return;
    }
    if (m->nheld > MUX_MAX_CALLS) {
        snprintf(text, sizeof text, "more than %d calls wait on %s", MUX_MAX_CALLS, m->addr);
        mux_end(c, GRPC_RESOURCE_EXHAUSTED, text, false, true);
        mux_want_drain(m);
        return;
    }
    if (len > MUX_MAX_REPLY || !(c->body = malloc(5 + len))) {
        mux_end(c, GRPC_RESOURCE_EXHAUSTED, len > MUX_MAX_REPLY ? "the request is larger than 4 MiB"
                                                                : "out of memory for the request",
                false, true);
        mux_want_drain(m);
        return;
    }
    c->body[0] = 0;
    c->body[1] = (uint8_t)(len >> 24);
    c->body[2] = (uint8_t)(len >> 16);
    c->body[3] = (uint8_t)(len >> 8);
    c->body[4] = (uint8_t)len;
    if (len)
        memcpy(c->body + 5, req, len);
    c->body_len = 5 + len;
    int r = mux_submit(m, c, path);
    if (r == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE)
        m->goaway = true; /* its stream ids are spent: a new connection is wanted */
    if (r < 0) {
        snprintf(text, sizeof text, "cannot start the call on %s: %s", m->addr, nghttp2_strerror(r));
        mux_end(c, GRPC_UNAVAILABLE, text, true, true);
        mux_want_drain(m);
        return;
    }
    mlist_remove(&m->live, c);
    insert_by_deadline(m, c);
    mux_want_flush(m);
}

bool grpcmux_usable(const grpcmux *m) { return !m->failed && !m->goaway && !m->closing; }
size_t grpcmux_in_flight(const grpcmux *m) { return m->npending; }
const char *grpcmux_addr(const grpcmux *m) { return m->addr; }
void grpcmux_get_stats(const grpcmux *m, grpcmux_stats *out) { *out = m->stats; }
