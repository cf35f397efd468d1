/* grpcserver_conn.c -- the gRPC server's connections and streams: nghttp2 callbacks,
 * stream lifetime, replies and trailers, deadlines and flow control. What a stream's
 * method does is reached only through the hooks a connection gets when it opens. */
#include "rpc/grpcserver_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "wire/gunzip.h"

#define MAX_STREAMS 128               /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define STREAM_WINDOW (1u << 20)      /* SETTINGS_INITIAL_WINDOW_SIZE */
#define CONN_WINDOW (16u << 20)       /* the connection's receive window */
#define OUT_BUDGET (1u << 20)         /* bytes of frames produced per feed */
#define MAX_HEADER_LIST (64u * 1024)  /* SETTINGS_MAX_HEADER_LIST_SIZE, enforced in cb_header */
#define HEADER_STRIKES 2              /* lists over it on one connection: then GOAWAY */
#define TURN_HEADERS (8u * MAX_HEADER_LIST) /* header bytes decoded per feed, then wait a turn */
#define FEED_SLICE 4096               /* input handed to nghttp2 between budget checks */
#define TURN_BACKLOG (256u * 1024)    /* input left waiting on the budget: then GOAWAY */

/* Percent-encodes a grpc-message as the gRPC spec asks (bytes outside 0x20..0x7e, and
 * '%'), into out (NUL-terminated, truncated to n bytes). Returns out. */
static char *percent_encode(const char *msg, char *out, size_t n)
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

static void sweep_arm(gconn *c);

static gstream *stream_new(gconn *c, int32_t id)
{
    gstream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->c = c;
    s->id = id;
    s->call.s = s;
    buf_init(&s->in, 0);
    buf_init(&s->out, 0);
    s->next = c->streams;
    if (c->streams)
        c->streams->prev = s;
    c->streams = s;
    c->nstreams++;
    gguard_progress(s);
    sweep_arm(c);
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
    if (s->unconsumed)
        nghttp2_session_consume_connection(c->h2, s->unconsumed);
    c->hooks->abandon(s, true);
    buf_done(&s->in);
    buf_done(&s->out);
    if (s->req)
        protobuf_c_message_free_unpacked(s->req, NULL);
    free(s->path);
    free(s->caller);
    free(s->message);
    free(s->state);
    free(s);
}

static ssize_t read_response(nghttp2_session *h2, int32_t id, uint8_t *dst, size_t len,
                             uint32_t *flags, nghttp2_data_source *src, void *ud);

static void stop_timers(gstream *s)
{
    server_conn_timer_cancel(s->c->sc, s->deadline_timer);
    server_conn_timer_cancel(s->c->sc, s->tick_timer);
    s->deadline_timer = s->tick_timer = 0;
}

void gstream_start_response(gstream *s)
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

void gstream_finish(gstream *s, int status, const char *message)
{
    if (s->finished)
        return;
    s->finished = true;
    s->c->hooks->abandon(s, false); /* e.g. its deadline: a worker that has not begun it need not */
    stop_timers(s);
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
            hdrs[n++] = nv("grpc-message", percent_encode(s->message, enc, sizeof enc));
        nghttp2_submit_response(s->c->h2, s->id, hdrs, n, NULL);
        return;
    }
    stream_resume(s);
}

/* Appends to out the message packed as msg followed by the n bytes at tail. */
static int frame_parts(buf *out, const ProtobufCMessage *msg, const uint8_t *tail, size_t n)
{
    size_t m = protobuf_c_message_get_packed_size(msg);
    uint64_t all = (uint64_t)m + n;
    uint8_t hdr[5] = {0, (uint8_t)(all >> 24), (uint8_t)(all >> 16), (uint8_t)(all >> 8), (uint8_t)all};
    if (all > UINT32_MAX || buf_reserve(out, 5 + m + n) < 0)
        return -1;
    buf_append(out, hdr, 5);
    protobuf_c_message_pack(msg, out->p + out->len);
    out->len += m;
    if (n)
        buf_append(out, tail, n);
    return 0;
}

int gstream_frame(buf *out, const ProtobufCMessage *msg) { return frame_parts(out, msg, NULL, 0); }

int gstream_send_parts(gstream *s, const ProtobufCMessage *head, const uint8_t *tail, size_t n)
{
    if (s->finished)
        return -1;
    size_t before = buf_size(&s->out);
    if (frame_parts(&s->out, head, tail, n) < 0) {
        gstream_finish(s, GRPC_INTERNAL, "out of memory for the reply");
        return -1;
    }
    s->c->reply_turn += buf_size(&s->out) - before;
    gstream_start_response(s);
    stream_resume(s);
    return 0;
}

int gstream_send(gstream *s, const ProtobufCMessage *msg) { return gstream_send_parts(s, msg, NULL, 0); }

void gstream_abort(gstream *s, uint32_t code)
{
    if (!s->finished)
        s->c->hooks->abandon(s, false);
    s->finished = true;
    stop_timers(s);
    buf_done(&s->out);
    nghttp2_submit_rst_stream(s->c->h2, NGHTTP2_FLAG_NONE, s->id, code);
}

void gstream_reset(gstream *s) { gstream_abort(s, NGHTTP2_ENHANCE_YOUR_CALM); }

/* ---- what a connection may hold (the policy is grpcserver_guard.c's) ---- */

/* Ends s at once with RST_STREAM code, dropping what it holds. */
static void stream_drop(gstream *s, uint32_t code)
{
    gstream_abort(s, code);
    buf_done(&s->in);
}

/* Resets c's biggest streams while it is over a budget (ENHANCE_YOUR_CALM, which a gRPC
 * client reads as RESOURCE_EXHAUSTED). */
static void check_budget(gconn *c)
{
    gstream *s;
    while ((s = gguard_over_budget(c)) != NULL)
        stream_drop(s, NGHTTP2_ENHANCE_YOUR_CALM);
}

static void calm_down(gconn *c, const char *why);

/* Resets the streams that waited on their client past --stream-timeout (CANCEL); when
 * that was every stream of the connection, it is sent away too. */
static void sweep(loop *l, void *ud)
{
    (void)l;
    gconn *c = ud;
    c->sweep_timer = 0;
    uint64_t now = clock_now_ms();
    bool reset = false, all = true;
    for (gstream *s = c->streams; s; s = s->next) {
        size_t held;
        if (!gguard_stalled(s, now, &held)) {
            all = false;
            continue;
        }
        log_msg("%s: stream %" PRId32 " (%s): no progress for %" PRIu64 " s, %zu bytes held "
                "(--stream-timeout): stream reset (CANCEL)", server_conn_peer(c->sc), s->id,
                s->path ? s->path : "?", gguard_stream_timeout() / 1000, held);
        stream_drop(s, NGHTTP2_CANCEL);
        reset = true;
    }
    if (reset) {
        if (all)
            calm_down(c, "no progress on any of its streams for --stream-timeout");
        gguard_recount(c);
        server_conn_flush(c->sc);
    }
    if (c->nstreams > 0)
        sweep_arm(c);
}

/* Starts c's sweep, unless it runs: every second (or --stream-timeout if shorter) while
 * c has streams. */
static void sweep_arm(gconn *c)
{
    uint64_t ms = gguard_stream_timeout() < 1000 ? gguard_stream_timeout() : 1000;
    if (!c->sweep_timer)
        c->sweep_timer = server_conn_timer(c->sc, ms, sweep, c);
}

static ssize_t read_response(nghttp2_session *h2, int32_t id, uint8_t *dst, size_t len,
                             uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)ud;
    gstream *s = src->ptr;
    if (buf_size(&s->out) == 0)
        s->c->hooks->more(s);
    size_t n = buf_size(&s->out);
    if (n > 0) {
        if (n > len)
            n = len;
        memcpy(dst, buf_data(&s->out), n);
        buf_consume(&s->out, n);
        gguard_progress(s);
        s->c->progress++;
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
            tr[k++] = nv("grpc-message", percent_encode(s->message, enc, sizeof enc));
        if (nghttp2_submit_trailer(h2, id, tr, k) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return 0;
}

/* ---- requests and deadlines ---- */

static void on_deadline(loop *l, void *ud)
{
    (void)l;
    gstream *s = ud;
    s->deadline_timer = 0;
    if (s->finished)
        return;
    gstream_finish(s, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
    server_conn_flush(s->c->sc);
}

/* The request headers are complete: check them, find the method, arm the deadline. */
static void on_request(gstream *s)
{
    char m[600];
    if (!s->path || !s->path[0]) {
        gstream_finish(s, GRPC_UNIMPLEMENTED, "no :path in the request");
        return;
    }
    if (!s->is_post || !s->grpc_content_type) {
        snprintf(m, sizeof m, "%s", !s->is_post ? "gRPC requests use POST"
                                                : "content-type must be application/grpc");
        gstream_finish(s, GRPC_INTERNAL, m);
        return;
    }
    if (s->bad_timeout) {
        gstream_finish(s, GRPC_INTERNAL, "malformed grpc-timeout header");
        return;
    }
    if (s->encoding[0] && strcmp(s->encoding, "gzip") != 0) {
        snprintf(m, sizeof m, "grpc: Decompressor is not installed for grpc-encoding \"%s\" (this server "
                 "takes gzip or identity)", s->encoding);
        gstream_finish(s, GRPC_UNIMPLEMENTED, m);
        return;
    }
    if (!s->c->hooks->bind(s))
        return;
    if (s->have_timeout) {
        if (s->timeout_ms == 0) {
            gstream_finish(s, GRPC_DEADLINE_EXCEEDED, "deadline exceeded");
            return;
        }
        s->deadline_timer = server_conn_timer(s->c->sc, s->timeout_ms, on_deadline, s);
    }
}

/* ---- nghttp2 callbacks ---- */

/* Tells the client to calm down: GOAWAY (ENHANCE_YOUR_CALM) saying why; gconn_feed
 * reads nothing more and closes the connection once it is sent. */
static void calm_down(gconn *c, const char *why)
{
    if (c->calm)
        return;
    c->calm = true;
    snprintf(c->calm_why, sizeof c->calm_why, "%s", why);
    nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->h2),
                          NGHTTP2_ENHANCE_YOUR_CALM, (const uint8_t *)why, strlen(why));
}

/* A header block went over the advertised SETTINGS_MAX_HEADER_LIST_SIZE: its stream is
 * reset (ENHANCE_YOUR_CALM), and the connection sent away at the HEADER_STRIKES-th.
 * nghttp2 decodes the rest of the block without calling back, which keeps HPACK's
 * table in step at little cost. */
static int header_list_too_long(gconn *c, int32_t id)
{
    char why[160];
    snprintf(why, sizeof why, "a header list over the %u bytes advertised in "
             "SETTINGS_MAX_HEADER_LIST_SIZE", MAX_HEADER_LIST);
    if (++c->hdr_strikes >= HEADER_STRIKES) {
        calm_down(c, why);
    } else {
        log_msg("%s: stream %" PRId32 ": %s: stream reset", server_conn_peer(c->sc), id, why);
        nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, id, NGHTTP2_ENHANCE_YOUR_CALM);
    }
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

static int cb_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
    gconn *c = ud;
    c->hdr_block = 0;
    if (c->calm)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* skipped: the connection is going */
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    if (gguard_refuse()) {
        log_msg("%s: stream %" PRId32 " refused: the server holds more than 3/4 of --server-budget",
                server_conn_peer(c->sc), f->hd.stream_id);
        nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_REFUSED_STREAM);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
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
    gconn *c = ud;
    size_t size = nlen + vlen + 32;
    c->hdr_block += size;
    c->hdr_turn += size;
    if (c->hdr_block > MAX_HEADER_LIST)
        return header_list_too_long(c, f->hd.stream_id);
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    gstream *s = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (!s)
        return 0;
#define IS(lit) (nlen == sizeof lit - 1 && memcmp(name, lit, nlen) == 0)
    if (IS(":path")) {
        free(s->path);
        s->path = strndup((const char *)val, vlen);
    } else if (IS(GRPC_CALLER_HEADER)) {
        free(s->caller);
        s->caller = strndup((const char *)val, vlen);
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
        s->bad_timeout = vlen > 15 || gguard_parse_timeout(t, &s->timeout_ms) < 0;
    }
#undef IS
    return 0;
}

/* The client half-closed and every whole message of s was taken. */
static void input_end(gstream *s)
{
    if (!s->finished && buf_size(&s->in) > 0)
        gstream_finish(s, GRPC_INTERNAL, "the request ended in the middle of a message");
    s->input_done = true;
    s->c->hooks->input_done(s);
}

static int cb_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *ud)
{
    (void)ud;
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
        return 0;
    gstream *s = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (!s)
        return 0;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
        s->c->progress++; /* a call begun: its connection's first request */
        on_request(s);
    }
    if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) && !s->end_seen) {
        s->end_seen = true;
        if (!s->deferred)
            input_end(s);
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
    gstream_finish(s, r == GUNZIP_CORRUPT ? GRPC_INTERNAL : GRPC_RESOURCE_EXHAUSTED, m);
    return -1;
}

/* Hands s's whole request messages to its method while gguard_may_take lets it; the rest
 * wait in s->in (s->deferred) for a later turn, and with them the end of the input. */
static void take_messages(gstream *s)
{
    gconn *c = s->c;
    s->deferred = false;
    while (!s->finished && buf_size(&s->in) >= 5) {
        const uint8_t *p = buf_data(&s->in);
        uint32_t n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
        if (p[0] == 1 && !s->encoding[0]) {
            gstream_finish(s, GRPC_INTERNAL, "grpc: compressed flag set with identity or empty encoding "
                                            "(a compressed message needs a grpc-encoding header)");
            break;
        }
        if (p[0] > 1) {
            char m[128];
            snprintf(m, sizeof m, "grpc: bad compressed-flag byte 0x%02x in the message prefix", p[0]);
            gstream_finish(s, GRPC_INTERNAL, m);
            break;
        }
        if (n > c->max_message) {
            char m[160];
            snprintf(m, sizeof m, "grpc: received message larger than max (%" PRIu32 " vs. %zu)", n,
                     c->max_message);
            gstream_finish(s, GRPC_RESOURCE_EXHAUSTED, m);
            break;
        }
        if (buf_size(&s->in) < 5 + (size_t)n)
            break;
        if (!gguard_may_take(s)) {
            s->deferred = true;
            break;
        }
        c->msg_turn++;
        if (p[0] == 1) {
            if (inflate_message(s, p + 5, n) == 0)
                c->hooks->message(s, buf_data(&c->inflated), buf_size(&c->inflated));
            buf_clear(&c->inflated);
        } else {
            c->hooks->message(s, p + 5, n);
        }
        buf_consume(&s->in, 5 + (size_t)n);
    }
    if (s->finished)
        buf_done(&s->in);
    else if (buf_size(&s->in) == 0)
        buf_clear(&s->in);
    if (s->end_seen && !s->deferred && !s->input_done)
        input_end(s);
}

static int cb_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *ud)
{
    (void)flags;
    gconn *c = ud;
    gstream *s = nghttp2_session_get_stream_user_data(h2, id);
    /* The window opens again for what was read, unless the client leaves the stream's
     * replies unread or its messages wait: then it stays shut until they are taken and
     * the replies drain (release_windows). */
    if (s && !s->finished && (s->deferred || buf_size(&s->out) > GSTREAM_OUT_BACKLOG))
        s->unconsumed += len;
    else
        nghttp2_session_consume(h2, id, len);
    if (!s || s->finished || !s->m)
        return 0;
    gguard_progress(s);
    c->progress++;
    if (buf_append(&s->in, data, len) < 0) {
        gstream_finish(s, GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return 0;
    }
    take_messages(s);
    check_budget(c);
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

void gconn_close(void *state)
{
    gconn *c = state;
    if (!c)
        return;
    nghttp2_session_del(c->h2); /* closes the streams through cb_stream_close */
    while (c->streams)
        stream_free(c->streams);
    server_conn_timer_cancel(c->sc, c->sweep_timer);
    gguard_close(c);
    buf_done(&c->inflated);
    free(c);
}

void *gconn_open(server_conn *sc, size_t max_message, const gconn_hooks *hooks)
{
    gconn *c = calloc(1, sizeof *c);
    nghttp2_session_callbacks *cbs = NULL;
    nghttp2_option *opt = NULL;
    if (!c || nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opt) != 0)
        goto fail;
    c->sc = sc;
    c->hooks = hooks;
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
    nghttp2_option_set_no_auto_window_update(opt, 1); /* cb_data_chunk consumes */
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

void gconn_shutdown(void *state)
{
    gconn *c = state;
    if (c->shutting_down)
        return;
    c->shutting_down = true;
    nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->h2),
                          NGHTTP2_NO_ERROR, (const uint8_t *)"server shutting down", 20);
    for (gstream *s = c->streams; s; s = s->next)
        c->hooks->shutdown(s);
}

/* Opens the windows of streams whose replies were taken, or that have finished. */
static void release_windows(gconn *c)
{
    for (gstream *s = c->streams; s; s = s->next) {
        if (s->unconsumed && (s->finished || (!s->deferred && buf_size(&s->out) <= GSTREAM_OUT_BACKLOG))) {
            nghttp2_session_consume(c->h2, s->id, s->unconsumed);
            s->unconsumed = 0;
        }
    }
}

/* Appends the frames nghttp2 has ready, up to OUT_BUDGET bytes. Returns 0 or -1. */
static int pump(gconn *c, buf *out, char *err, size_t errlen)
{
    release_windows(c);
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

feed_result gconn_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen)
{
    gconn *c = state;
    c->hdr_turn = c->msg_turn = c->reply_turn = 0;
    for (gstream *s = c->streams; s; s = s->next) /* messages left waiting go first */
        if (s->deferred)
            take_messages(s);
    while (buf_size(in) > 0 && !c->calm) {
        if (c->hdr_turn >= TURN_HEADERS) {
            /* This turn's header work is done: the rest waits for the next one, unless
             * the client sends faster than that lets it be read. */
            if (buf_size(in) > TURN_BACKLOG)
                calm_down(c, "header blocks that decode to more than the server reads per turn");
            else
                server_conn_flush(c->sc);
            break;
        }
        const uint8_t *data = buf_data(in); /* stays valid after buf_consume */
        size_t n = buf_size(in) < FEED_SLICE ? buf_size(in) : FEED_SLICE;
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
    check_budget(c);
    if (gguard_turn_wanted(c))
        server_conn_flush(c->sc);
    if (c->calm) {
        buf_clear(in);
        err_set(err, errlen, "HTTP/2: %s: GOAWAY (ENHANCE_YOUR_CALM)", c->calm_why);
        return FEED_CLOSE;
    }
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

bool gconn_busy(void *state) { return gguard_busy(state); }

uint64_t gconn_progress(void *state) { return ((gconn *)state)->progress; }
