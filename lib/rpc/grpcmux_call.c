/* grpcmux_call.c -- the calls of a grpcmux: their frames, their replies, their deadlines. */
#include "rpc/grpcmux_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

void mlist_push(mlist *li, mcall *c)
{
    c->next = NULL;
    c->prev = li->tail;
    if (li->tail)
        li->tail->next = c;
    else
        li->head = c;
    li->tail = c;
}

void mlist_remove(mlist *li, mcall *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        li->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        li->tail = c->prev;
    c->prev = c->next = NULL;
}

static void msg_release(mcall *c)
{
    c->m->reply_bytes -= c->msg_cap;
    free(c->msg);
    c->msg = NULL;
    c->msg_cap = 0;
}

void mux_call_free(mcall *c)
{
    free(c->body);
    msg_release(c);
    free(c->grpc_message);
    free(c->text);
    free(c);
}

void mux_end(mcall *c, int status, const char *text, bool conn_failed, bool unsent)
{
    grpcmux *m = c->m;
    if (c->state != CALL_LIVE)
        return;
    mlist_remove(&m->live, c);
    c->state = CALL_DONE;
    mlist_push(&m->done, c);
    c->text = strdup(text ? text : "");
    c->r = (grpcmux_reply){.status = status, .message = c->text ? c->text : "",
                           .conn_failed = conn_failed, .unsent = unsent};
    if (status == GRPC_OK) {
        c->r.msg = c->msg ? c->msg : (const uint8_t *)"";
        c->r.len = c->msg_len;
    }
    free(c->body); /* nghttp2 asks no more of it: read_body defers a call no longer live */
    c->body = NULL;
}

/* Ends c on our side and resets its stream (CANCEL); the caller sees to the flush. */
static void end_and_reset(mcall *c, int status, const char *text)
{
    grpcmux *m = c->m;
    if (m->h2 && c->h2_open)
        nghttp2_submit_rst_stream(m->h2, NGHTTP2_FLAG_NONE, c->stream, NGHTTP2_CANCEL);
    mux_end(c, status, text, false, false);
}

void mux_expire(grpcmux *m)
{
    uint64_t now = clock_now_ms();
    char text[64];
    while (m->live.head && m->live.head->deadline <= now) {
        mcall *c = m->live.head;
        snprintf(text, sizeof text, "no reply within %d ms", c->timeout_ms);
        end_and_reset(c, GRPC_DEADLINE_EXCEEDED, text);
    }
}

void mux_drain(grpcmux *m)
{
    mlist batch = m->done;
    m->done = (mlist){0};
    while (batch.head) {
        mcall *c = batch.head;
        mlist_remove(&batch, c);
        m->npending--;
        c->fn(c->ud, &c->r);
        msg_release(c); /* the reply was the callback's only */
        if (c->h2_open) {
            c->state = CALL_ZOMBIE;
            mlist_push(&m->zombie, c);
        } else {
            m->nheld--;
            mux_call_free(c);
        }
    }
}

/* nghttp2's data source: the call's prefix and message in one DATA frame that ends the
 * stream, when they fit in a frame (no empty DATA frame after them). */
static ssize_t read_body(nghttp2_session *s, int32_t stream, uint8_t *out, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    (void)src;
    (void)ud;
    mcall *c = nghttp2_session_get_stream_user_data(s, stream);
    if (!c || c->state != CALL_LIVE || !c->body)
        return NGHTTP2_ERR_DEFERRED; /* ended: its RST_STREAM goes first and drops this */
    size_t left = c->body_len - c->body_off, n = left < len ? left : len;
    memcpy(out, c->body + c->body_off, n);
    c->body_off += n;
    if (c->body_off == c->body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

int mux_submit(grpcmux *m, mcall *c, const char *path)
{
    char timeout[24];
    if (c->timeout_ms <= 99999999)
        snprintf(timeout, sizeof timeout, "%dm", c->timeout_ms);
    else
        snprintf(timeout, sizeof timeout, "%dS", c->timeout_ms / 1000);
#define HDR(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv hdrs[7 + GRPCCLIENT_MAX_METADATA] = {
        HDR(":method", "POST"), HDR(":scheme", "http"), HDR(":path", path), HDR(":authority", m->addr),
        HDR("content-type", "application/grpc"), HDR("te", "trailers"), HDR("grpc-timeout", timeout),
    };
#undef HDR
    size_t n = 7;
    for (size_t i = 0; i < m->md.n; i++)
        hdrs[n++] = (nghttp2_nv){(uint8_t *)m->md.name[i], (uint8_t *)m->md.value[i], strlen(m->md.name[i]),
                                 strlen(m->md.value[i]), NGHTTP2_NV_FLAG_NO_INDEX};
    nghttp2_data_provider dp = {.source.ptr = c, .read_callback = read_body};
    int32_t id = nghttp2_submit_request(m->h2, NULL, hdrs, n, &dp, c);
    if (id < 0)
        return id;
    c->stream = id;
    c->h2_open = true;
    return 0;
}

/* The call a frame of stream belongs to, when it is still waiting for its reply. */
static mcall *live_call(nghttp2_session *s, int32_t stream)
{
    mcall *c = stream > 0 ? nghttp2_session_get_stream_user_data(s, stream) : NULL;
    return c && c->state == CALL_LIVE ? c : NULL;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    (void)flags;
    (void)ud;
    mcall *c = live_call(s, f->hd.stream_id);
    if (!c)
        return 0;
    if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
        c->http_status = 0;
        for (size_t i = 0; i < vlen && i < 3 && value[i] >= '0' && value[i] <= '9'; i++)
            c->http_status = c->http_status * 10 + (value[i] - '0');
    } else if (nlen == 12 && memcmp(name, "content-type", 12) == 0) {
        c->content_type_ok = vlen >= 16 && memcmp(value, "application/grpc", 16) == 0 &&
                             (vlen == 16 || value[16] == '+' || value[16] == ';');
    } else if (nlen == 11 && memcmp(name, "grpc-status", 11) == 0) {
        int st = 0;
        bool ok = vlen > 0 && vlen <= 3;
        for (size_t i = 0; ok && i < vlen; i++) {
            ok = value[i] >= '0' && value[i] <= '9';
            st = st * 10 + (value[i] - '0');
        }
        c->have_status = true;
        c->grpc_status = ok ? st : GRPC_UNKNOWN;
    } else if (nlen == 12 && memcmp(name, "grpc-message", 12) == 0) {
        free(c->grpc_message);
        if ((c->grpc_message = malloc(vlen + 1)))
            grpc_message_decode(value, vlen, c->grpc_message, vlen + 1);
    }
    return 0;
}

/* Takes the start of the reply message's prefix. Returns false when the call ended. */
static bool take_prefix(mcall *c)
{
    char text[128];
    const uint8_t *p = c->prefix;
    size_t n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
    if (p[0] == 1) {
        end_and_reset(c, GRPC_INTERNAL, "compressed replies are not supported");
        return false;
    }
    if (p[0] > 1) {
        snprintf(text, sizeof text, "bad gRPC message prefix (flag 0x%02x)", p[0]);
        end_and_reset(c, GRPC_INTERNAL, text);
        return false;
    }
    if (c->nmsgs > 0) {
        end_and_reset(c, GRPC_INTERNAL, "more than one reply message to a unary call");
        return false;
    }
    if (n > MUX_MAX_REPLY) {
        snprintf(text, sizeof text, "reply message of %zu bytes is larger than the limit of %d", n, MUX_MAX_REPLY);
        end_and_reset(c, GRPC_RESOURCE_EXHAUSTED, text);
        return false;
    }
    c->msg_want = n;
    c->msg_len = 0;
    return true;
}

/* Makes room for k more bytes of the reply message, growing as its bytes come (not as
 * its prefix announces them), within the mux's budget. False when the call ended. */
static bool msg_room(mcall *c, size_t k)
{
    grpcmux *m = c->m;
    if (c->msg_len + k <= c->msg_cap)
        return true;
    size_t cap = c->msg_cap ? c->msg_cap * 2 : 4096;
    if (cap > c->msg_want)
        cap = c->msg_want;
    if (cap < c->msg_len + k)
        cap = c->msg_len + k;
    if (m->reply_bytes + (cap - c->msg_cap) > MUX_REPLY_BUDGET) {
        char text[128];
        snprintf(text, sizeof text, "the replies held at once would pass %d MiB", MUX_REPLY_BUDGET >> 20);
        end_and_reset(c, GRPC_RESOURCE_EXHAUSTED, text);
        return false;
    }
    uint8_t *p = realloc(c->msg, cap);
    if (!p) {
        end_and_reset(c, GRPC_RESOURCE_EXHAUSTED, "out of memory for the reply");
        return false;
    }
    m->reply_bytes += cap - c->msg_cap;
    c->msg = p;
    c->msg_cap = cap;
    return true;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream, const uint8_t *data, size_t len,
                   void *ud)
{
    (void)flags;
    (void)ud;
    mcall *c = live_call(s, stream);
    if (c && (c->http_status != 200 || !c->content_type_ok))
        return 0; /* not gRPC: finish says so, from its headers */
    while (c && len > 0) {
        if (c->prefix_got < 5) {
            size_t k = 5 - c->prefix_got < len ? 5 - c->prefix_got : len;
            memcpy(c->prefix + c->prefix_got, data, k);
            c->prefix_got += k;
            data += k;
            len -= k;
            if (c->prefix_got == 5 && !take_prefix(c))
                return 0;
        }
        size_t k = c->msg_want - c->msg_len < len ? c->msg_want - c->msg_len : len;
        if (k && !msg_room(c, k))
            return 0;
        if (k) {
            memcpy(c->msg + c->msg_len, data, k);
            c->msg_len += k;
            data += k;
            len -= k;
        }
        if (c->prefix_got == 5 && c->msg_len == c->msg_want) {
            c->nmsgs++;
            c->prefix_got = 0; /* a second prefix is refused by take_prefix */
        }
    }
    return 0;
}

/* The status of a reset without grpc-status, as gRPC maps HTTP/2's error codes. */
static int reset_status(uint32_t code)
{
    switch (code) {
    case NGHTTP2_REFUSED_STREAM: return GRPC_UNAVAILABLE;
    case NGHTTP2_CANCEL: return GRPC_CANCELLED;
    case NGHTTP2_ENHANCE_YOUR_CALM: return GRPC_RESOURCE_EXHAUSTED;
    case NGHTTP2_INADEQUATE_SECURITY: return GRPC_PERMISSION_DENIED;
    default: return GRPC_INTERNAL;
    }
}

/* Ends c, whose stream closed with code, from what its reply said. */
static void finish(grpcmux *m, mcall *c, uint32_t code)
{
    char text[200];
    if (c->have_status) {
        int st = c->grpc_status;
        const char *msg = c->grpc_message ? c->grpc_message : "";
        if (st == GRPC_OK && (c->nmsgs != 1 || c->prefix_got)) {
            st = GRPC_INTERNAL;
            msg = c->nmsgs ? "the reply ended inside a message" : "the reply has no message";
        }
        mux_end(c, st, msg, false, false);
    } else if (code == NGHTTP2_REFUSED_STREAM) {
        /* the server took none of it: it is going away, or it refused this one */
        if (m->goaway)
            mux_end(c, GRPC_UNAVAILABLE, "the server is going away (GOAWAY) and did not take the call", true, true);
        else
            mux_end(c, GRPC_UNAVAILABLE, "the server refused the stream (REFUSED_STREAM)", true, true);
    } else if (code != NGHTTP2_NO_ERROR) {
        snprintf(text, sizeof text, "the server reset the stream (%s)", nghttp2_http2_strerror(code));
        mux_end(c, reset_status(code), text, false, false);
    } else if (c->http_status != 200) {
        int st = c->http_status == 429 || (c->http_status >= 502 && c->http_status <= 504) ? GRPC_UNAVAILABLE
                                                                                          : GRPC_INTERNAL;
        snprintf(text, sizeof text, "the server answered HTTP status %d, not a gRPC reply", c->http_status);
        mux_end(c, st, text, false, false);
    } else if (!c->content_type_ok) {
        mux_end(c, GRPC_INTERNAL, "the reply is not gRPC (its content-type is not application/grpc)", false, false);
    } else {
        mux_end(c, GRPC_INTERNAL, "the reply ended without a grpc-status trailer", false, false);
    }
}

static int on_close(nghttp2_session *s, int32_t stream, uint32_t code, void *ud)
{
    grpcmux *m = ud;
    mcall *c = nghttp2_session_get_stream_user_data(s, stream);
    if (!c || !m->h2)
        return 0;
    c->h2_open = false;
    if (c->state == CALL_ZOMBIE) {
        mlist_remove(&m->zombie, c);
        m->nheld--;
        mux_call_free(c);
    } else if (c->state == CALL_LIVE) {
        finish(m, c, code);
    }
    return 0;
}

static int before_send(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    grpcmux *m = ud;
    if (f->hd.type == NGHTTP2_HEADERS) {
        mcall *c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
        if (c && !c->headers_out) {
            c->headers_out = true;
            c->first_byte = m->produced;
        }
    }
    return 0;
}

static int on_send(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    grpcmux *m = ud;
    if (f->hd.type < 10)
        m->stats.frames_sent[f->hd.type]++;
    return 0;
}

static int on_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    grpcmux *m = ud;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        m->goaway = true;
        m->goaway_last = f->goaway.last_stream_id;
    } else if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
               (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        /* the reply is whole: the call ends now, even if its request has not all gone
         * (the server answered early); what is left of it is not sent */
        mcall *c = live_call(s, f->hd.stream_id);
        if (c) {
            if (!nghttp2_session_get_stream_local_close(s, f->hd.stream_id))
                nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_CANCEL);
            finish(m, c, NGHTTP2_NO_ERROR);
        }
    }
    return 0;
}

void mux_set_callbacks(nghttp2_session_callbacks *cb)
{
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_callbacks_set_before_frame_send_callback(cb, before_send);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_send);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_recv);
}
