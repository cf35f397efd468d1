/* grpcclient.c -- a blocking gRPC client on nghttp2. */
#include "rpc/grpcclient.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/net.h"

#define MAX_REPLY_BYTES (64u << 20)

struct grpcclient {
    int fd;
    char authority[300];
    nghttp2_session *h2;
    bool capture, eof;
    buf sent, received;
    pcapout_conn *rec; /* grpcclient_record's */
    /* the call in progress */
    int32_t stream;
    bool done;
    const uint8_t *req;
    size_t req_len, req_off;
    buf data; /* reply DATA, not yet split into messages */
    int http_status;
    bool have_grpc_status, content_type_ok;
    int grpc_status;
    grpc_result *res;
    char proto_err[256];
    bool cancelled;        /* res->on_reply asked to stop */
    char cancel_err[256];  /* and why */
    /* grpcclient_set_metadata's and _add_metadata's headers, sent with every call */
    grpc_sendmd md;
};

/* Appends one header to m, or counts it as dropped when m is full. */
static void md_keep(grpc_md *m, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen)
{
    if (m->n == GRPC_MD_MAX || nlen + vlen + 2 > GRPC_MD_BYTES - m->used) {
        m->dropped++;
        return;
    }
    m->off[m->n++] = (uint16_t)m->used;
    memcpy(m->bytes + m->used, name, nlen);
    m->bytes[m->used + nlen] = '\0';
    memcpy(m->bytes + m->used + nlen + 1, value, vlen);
    m->bytes[m->used + nlen + 1 + vlen] = '\0';
    m->used += nlen + vlen + 2;
}

const char *grpc_md_name(const grpc_md *m, size_t i) { return i < m->n ? m->bytes + m->off[i] : NULL; }

const char *grpc_md_value(const grpc_md *m, size_t i)
{
    const char *name = grpc_md_name(m, i);
    return name ? name + strlen(name) + 1 : NULL;
}

const char *grpc_md_find(const grpc_md *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(grpc_md_name(m, i), name) == 0)
            return grpc_md_value(m, i);
    return NULL;
}

/* A -bin header's value: base64, padded or not (gRPC senders may leave the '=' out).
 * Returns the length decoded into out, or 0 when it is not base64 or does not fit. */
static size_t base64_decode(const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
    while (n > 0 && p[n - 1] == '=')
        n--;
    size_t padded = (n + 3) / 4 * 4;
    if (n % 4 == 1 || padded / 4 * 3 > cap)
        return 0;
    unsigned char *in = malloc(padded + 1);
    if (!in)
        return 0;
    memcpy(in, p, n);
    memset(in + n, '=', padded - n);
    int got = EVP_DecodeBlock(out, in, (int)padded);
    free(in);
    if (got < 0)
        return 0;
    return (size_t)got - (padded - n); /* EVP_DecodeBlock counts the padding as zero bytes */
}

static ssize_t on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)s;
    (void)flags;
    grpcclient *c = ud;
    ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
    if (c->capture)
        buf_append(&c->sent, data, (size_t)w);
    pcapout_conn_data(c->rec, false, data, (size_t)w, 0);
    return w;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
    (void)s;
    (void)flags;
    grpcclient *c = ud;
    if (f->hd.stream_id != c->stream || !c->res)
        return 0;
    if (nlen > 0 && name[0] != ':') {
        bool trailer = f->hd.type == NGHTTP2_HEADERS &&
                       ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) || f->headers.cat == NGHTTP2_HCAT_HEADERS);
        md_keep(trailer ? &c->res->trailers : &c->res->headers, name, nlen, value, vlen);
    }
    if (nlen == 23 && memcmp(name, "grpc-status-details-bin", 23) == 0) {
        c->res->details_len = base64_decode(value, vlen, c->res->details, sizeof c->res->details);
    } else if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
        c->http_status = atoi((const char *)value);
    } else if (nlen == 12 && memcmp(name, "content-type", 12) == 0) {
        c->content_type_ok = vlen >= 16 && memcmp(value, "application/grpc", 16) == 0;
    } else if (nlen == 11 && memcmp(name, "grpc-status", 11) == 0) {
        char tmp[16];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(vlen < 15 ? vlen : 15), (const char *)value);
        c->grpc_status = atoi(tmp);
        c->have_grpc_status = true;
    } else if (nlen == 12 && memcmp(name, "grpc-message", 12) == 0) {
        grpc_message_decode(value, vlen, c->res->message, sizeof c->res->message);
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream, const uint8_t *data,
                   size_t len, void *ud)
{
    (void)flags;
    grpcclient *c = ud;
    if (stream != c->stream || c->cancelled)
        return 0;
    int r = buf_append(&c->data, data, len);
    if (r < 0) {
        if (r == BUF_NO_MEMORY)
            err_set(c->proto_err, sizeof c->proto_err, "out of memory for the reply");
        else
            err_set(c->proto_err, sizeof c->proto_err, "reply larger than %u bytes", MAX_REPLY_BYTES);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    /* split off every complete length-prefixed message */
    while (buf_size(&c->data) >= 5) {
        const uint8_t *p = buf_data(&c->data);
        uint32_t mlen = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
        if (p[0] > 1) {
            snprintf(c->proto_err, sizeof c->proto_err, "bad gRPC message prefix (flag 0x%02x)", p[0]);
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        if (p[0] == 1) {
            snprintf(c->proto_err, sizeof c->proto_err, "the server sent a compressed message; the workbench asks for none");
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        if (buf_size(&c->data) - 5 < mlen)
            break;
        if (c->res->on_reply) {
            c->res->nreplies++;
            if (!c->cancelled &&
                c->res->on_reply(p + 5, mlen, c->res->reply_ud, c->cancel_err, sizeof c->cancel_err) < 0) {
                c->cancelled = true;
                nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, stream, NGHTTP2_CANCEL);
            }
            buf_consume(&c->data, 5 + mlen);
            continue;
        }
        uint8_t hdr[4] = {p[1], p[2], p[3], p[4]};
        int put = buf_append(c->res->replies, hdr, 4);
        if (put == 0)
            put = buf_append(c->res->replies, p + 5, mlen);
        if (put < 0) {
            if (put == BUF_NO_MEMORY)
                err_set(c->proto_err, sizeof c->proto_err, "out of memory for the replies");
            else
                err_set(c->proto_err, sizeof c->proto_err, "replies larger than %u bytes", MAX_REPLY_BYTES);
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        c->res->nreplies++;
        buf_consume(&c->data, 5 + mlen);
    }
    return 0;
}

static int on_close(nghttp2_session *s, int32_t stream, uint32_t code, void *ud)
{
    (void)s;
    grpcclient *c = ud;
    if (stream != c->stream)
        return 0;
    c->done = true;
    if (code != NGHTTP2_NO_ERROR && !c->have_grpc_status && !c->proto_err[0] && !c->cancelled)
        snprintf(c->proto_err, sizeof c->proto_err, "the server reset the stream (%s)",
                 nghttp2_http2_strerror(code));
    return 0;
}

static ssize_t read_request(nghttp2_session *s, int32_t stream, uint8_t *out, size_t len,
                            uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)s;
    (void)stream;
    (void)src;
    grpcclient *c = ud;
    size_t left = c->req_len - c->req_off;
    size_t n = left < len ? left : len;
    memcpy(out, c->req + c->req_off, n);
    c->req_off += n;
    if (c->req_off == c->req_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

grpcclient *grpcclient_dial(const char *addr, int timeout_ms, char *err, size_t errlen)
{
    grpcclient *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    buf_init(&c->sent, 0);
    buf_init(&c->received, 0);
    buf_init(&c->data, MAX_REPLY_BYTES);
    snprintf(c->authority, sizeof c->authority, "%s", addr);
    c->fd = net_connect(addr, timeout_ms, err, errlen);
    if (c->fd < 0) {
        grpcclient_free(c);
        return NULL;
    }
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        err_set(err, errlen, "out of memory");
        grpcclient_free(c);
        return NULL;
    }
    nghttp2_session_callbacks_set_send_callback(cb, on_send);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    int r = nghttp2_session_client_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (r != 0) {
        err_set(err, errlen, "cannot start an HTTP/2 session: %s", nghttp2_strerror(r));
        grpcclient_free(c);
        return NULL;
    }
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
                                         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 8 << 20);
    return c;
}

void grpcclient_free(grpcclient *c)
{
    if (!c)
        return;
    nghttp2_session_del(c->h2);
    pcapout_conn_free(c->rec, 0);
    if (c->fd >= 0)
        close(c->fd);
    buf_done(&c->sent);
    buf_done(&c->received);
    buf_done(&c->data);
    grpc_sendmd_clear(&c->md);
    free(c);
}

/* Why a caller may not set the header name, or NULL when it may. */
static const char *metadata_name_refused(const char *name)
{
    static const char *const http1[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                        "upgrade"};
    static const char *const own[] = {"te", "content-type", "user-agent"};
    if (!name[0])
        return "the name is empty";
    if (name[0] == ':')
        return "pseudo-headers (:path, :authority, ...) are HTTP/2's own";
    if (strcmp(name, "grpc-timeout") == 0)
        return "gRPC's own header: --timeout sets the deadline it carries";
    if (strncmp(name, "grpc-", 5) == 0)
        return "names starting with grpc- are reserved for gRPC itself";
    if (strcmp(name, "host") == 0)
        return "HTTP/2 names the host in :authority";
    for (size_t i = 0; i < sizeof http1 / sizeof http1[0]; i++)
        if (strcmp(name, http1[i]) == 0)
            return "HTTP/2 forbids HTTP/1's connection headers";
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (strcmp(name, own[i]) == 0)
            return "the client sends it itself, as gRPC requires";
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
            return "a name has only lowercase letters, digits, '-', '_' and '.'";
    return NULL;
}

int grpcclient_metadata_check(const char *name, const char *val, char *err, size_t errlen)
{
    const char *why = metadata_name_refused(name);
    if (why) {
        err_set(err, errlen, "\"%s\" cannot be a metadata key: %s", name, why);
        return -1;
    }
    size_t n = strlen(name);
    bool binary = n > 4 && strcmp(name + n - 4, "-bin") == 0;
    for (const char *p = val; *p; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            err_set(err, errlen, "the value of %s must be visible ASCII", name);
            return -1;
        }
        bool b64 = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                   *p == '+' || *p == '/' || *p == '=';
        if (binary && !b64) {
            err_set(err, errlen, "%s is binary (its name ends in -bin): give its value as base64 text", name);
            return -1;
        }
    }
    return 0;
}

int grpcclient_metadata_parse(const char *text, char *name, size_t ncap, const char **val, char *err,
                              size_t errlen)
{
    const char *colon = strchr(text, ':');
    if (colon == text) /* ":authority: x" names a pseudo-header: keep its colon */
        colon = strchr(text + 1, ':');
    if (!colon) {
        err_set(err, errlen, "a header is written \"name: value\"");
        return -1;
    }
    size_t n = (size_t)(colon - text);
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= ncap) {
        err_set(err, errlen, n ? "the header name is too long" : "the header name is empty");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        name[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] - 'A' + 'a' : text[i]);
    name[n] = '\0';
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    *val = v;
    return 0;
}

int grpc_sendmd_set(grpc_sendmd *s, const char *name, const char *val, bool add, char *err, size_t errlen)
{
    if (grpcclient_metadata_check(name, val, err, errlen) < 0)
        return -1;
    size_t i = 0;
    while (!add && i < s->n && strcmp(s->name[i], name) != 0)
        i++;
    if (add)
        i = s->n;
    if (i == GRPCCLIENT_MAX_METADATA) {
        err_set(err, errlen, "at most %d metadata headers", GRPCCLIENT_MAX_METADATA);
        return -1;
    }
    char *n = strdup(name), *v = strdup(val);
    if (!n || !v) {
        free(n);
        free(v);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    if (i < s->n) {
        free(s->name[i]);
        free(s->value[i]);
    } else {
        s->n++;
    }
    s->name[i] = n;
    s->value[i] = v;
    return 0;
}

void grpc_sendmd_clear(grpc_sendmd *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->name[i]);
        free(s->value[i]);
    }
    s->n = 0;
}

int grpcclient_set_metadata(grpcclient *c, const char *name, const char *val, char *err, size_t errlen)
{
    return grpc_sendmd_set(&c->md, name, val, false, err, errlen);
}

int grpcclient_add_metadata(grpcclient *c, const char *name, const char *val, char *err, size_t errlen)
{
    return grpc_sendmd_set(&c->md, name, val, true, err, errlen);
}

void grpcclient_capture(grpcclient *c, bool on) { c->capture = on; }

void grpcclient_record(grpcclient *c, pcapout *o)
{
    if (o && !c->rec)
        c->rec = pcapout_conn_socket(o, c->fd);
}
const buf *grpcclient_sent(const grpcclient *c) { return &c->sent; }
const buf *grpcclient_received(const grpcclient *c) { return &c->received; }

/* Sends every frame nghttp2 has queued, gathered into as few writes as fit in 16 KiB
 * (a call's HEADERS and DATA go out in one segment, so the server wakes once). */
static int flush(grpcclient *c, uint64_t deadline, char *err, size_t errlen)
{
    uint8_t out[16384];
    size_t n = 0;
    for (;;) {
        const uint8_t *p;
        ssize_t k = nghttp2_session_mem_send(c->h2, &p);
        if (k < 0) {
            err_set(err, errlen, "HTTP/2 send failed: %s", nghttp2_strerror((int)k));
            return -1;
        }
        if (k == 0 || n + (size_t)k > sizeof out) {
            if (n > 0 && net_write_all(c->fd, out, n, deadline, err, errlen) < 0)
                return -1;
            if (c->capture)
                buf_append(&c->sent, out, n);
            pcapout_conn_data(c->rec, false, out, n, 0);
            n = 0;
        }
        if (k == 0)
            return 0;
        if ((size_t)k > sizeof out) {
            if (net_write_all(c->fd, p, (size_t)k, deadline, err, errlen) < 0)
                return -1;
            if (c->capture)
                buf_append(&c->sent, p, (size_t)k);
            pcapout_conn_data(c->rec, false, p, (size_t)k, 0);
            continue;
        }
        memcpy(out + n, p, (size_t)k);
        n += (size_t)k;
    }
}

/* Sends what nghttp2 has queued, then waits for and feeds in the peer's bytes, until
 * the call is done or the deadline passes. Returns 0, or -1 with err (and
 * c->res->status GRPC_DEADLINE_EXCEEDED when the deadline passed). */
static int pump(grpcclient *c, uint64_t deadline, char *err, size_t errlen)
{
    uint8_t in[16384];
    while (!c->done) {
        if (flush(c, deadline, err, errlen) < 0)
            return -1;
        if (c->done)
            break;
        if (c->eof) {
            err_set(err, errlen, "the server closed the connection before the call completed");
            return -1;
        }
        int w = net_wait_readable(c->fd, deadline);
        if (w == 0) {
            err_set(err, errlen, "no complete reply before the deadline");
            c->res->status = GRPC_DEADLINE_EXCEEDED;
            return -1;
        }
        ssize_t n = recv(c->fd, in, sizeof in, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            err_set(err, errlen, "receive failed: %s", strerror(errno));
            return -1;
        }
        if (n == 0) {
            c->eof = true;
            continue;
        }
        if (c->capture)
            buf_append(&c->received, in, (size_t)n);
        pcapout_conn_data(c->rec, true, in, (size_t)n, 0);
        ssize_t used = nghttp2_session_mem_recv(c->h2, in, (size_t)n);
        if (used < 0) {
            if (c->proto_err[0])
                err_set(err, errlen, "%s", c->proto_err);
            else
                err_set(err, errlen, "the server's bytes are not HTTP/2: %s (is it a gRPC server?)",
                        nghttp2_strerror((int)used));
            return -1;
        }
    }
    char ignored[128]; /* acknowledging what arrived last (window updates, settings) may fail */
    flush(c, deadline, ignored, sizeof ignored);
    return 0;
}

int grpcclient_put_message(buf *b, const void *p, size_t n)
{
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    return buf_append(b, len, 4) < 0 || buf_append(b, p, n) < 0 ? -1 : 0;
}

bool grpcclient_next_message(const buf *b, size_t *off, const uint8_t **msg, size_t *len)
{
    size_t left = buf_size(b) - *off;
    if (*off > buf_size(b) || left < 4)
        return false;
    const uint8_t *p = buf_data(b) + *off;
    size_t n = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    if (n > left - 4)
        return false;
    *msg = p + 4;
    *len = n;
    *off += 4 + n;
    return true;
}

int grpcclient_call(grpcclient *c, const char *path, const buf *reqs, int timeout_ms,
                    grpc_result *res, char *err, size_t errlen)
{
    /* the requests, as gRPC length-prefixed messages */
    buf body;
    buf_init(&body, 0);
    const uint8_t *msg;
    size_t len;
    for (size_t off = 0; grpcclient_next_message(reqs, &off, &msg, &len);) {
        buf_putc(&body, 0); /* not compressed */
        grpcclient_put_message(&body, msg, len);
    }
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%dm", timeout_ms > 0 ? timeout_ms : 1);
#define HDR(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv hdrs[8 + GRPCCLIENT_MAX_METADATA] = {
        HDR(":method", "POST"),   HDR(":scheme", "http"),
        HDR(":path", path),       HDR(":authority", c->authority),
        HDR("content-type", "application/grpc"), HDR("te", "trailers"),
        HDR("grpc-timeout", timeout), HDR("user-agent", "rpc-workbench/0.1"),
    };
#undef HDR
    size_t nhdrs = 8;
    for (size_t i = 0; i < c->md.n; i++)
        hdrs[nhdrs++] = (nghttp2_nv){(uint8_t *)c->md.name[i], (uint8_t *)c->md.value[i], strlen(c->md.name[i]),
                                     strlen(c->md.value[i]), NGHTTP2_NV_FLAG_NO_INDEX};
    c->req = buf_data(&body);
    c->req_len = buf_size(&body);
    c->req_off = 0;
    c->done = false;
    c->res = res;
    c->http_status = 0;
    c->have_grpc_status = false;
    c->content_type_ok = false;
    c->proto_err[0] = '\0';
    c->cancelled = false;
    c->cancel_err[0] = '\0';
    buf_clear(&c->data);
    res->status = GRPC_UNKNOWN;
    res->message[0] = '\0';
    res->nreplies = 0;
    res->headers.n = res->headers.dropped = res->headers.used = 0;
    res->trailers.n = res->trailers.dropped = res->trailers.used = 0;
    res->details_len = 0;
    nghttp2_data_provider dp = {.read_callback = read_request};
    c->stream = nghttp2_submit_request(c->h2, NULL, hdrs, nhdrs, &dp, c);
    int rc = -1;
    if (c->stream < 0) {
        err_set(err, errlen, "cannot start the call: %s", nghttp2_strerror(c->stream));
        res->status = GRPC_INTERNAL;
        goto done;
    }
    if (pump(c, clock_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1), err, errlen) < 0) {
        if (res->status != GRPC_DEADLINE_EXCEEDED)
            res->status = GRPC_UNAVAILABLE;
        goto done;
    }
    if (c->cancelled) {
        err_set(err, errlen, "%s", c->cancel_err[0] ? c->cancel_err : "the call was cancelled");
        res->status = GRPC_CANCELLED;
        goto done;
    }
    res->status = GRPC_INTERNAL; /* unless the reply turns out to be gRPC */
    if (c->proto_err[0]) {
        err_set(err, errlen, "%s", c->proto_err);
        goto done;
    }
    if (c->http_status != 200 && !c->have_grpc_status) {
        err_set(err, errlen, "the server answered HTTP status %d, not a gRPC reply", c->http_status);
        goto done;
    }
    if (!c->have_grpc_status) {
        err_set(err, errlen, "the reply ended without a grpc-status trailer");
        goto done;
    }
    res->status = c->grpc_status;
    rc = 0;
done:
    c->res = NULL;
    c->req = NULL;
    buf_done(&body);
    return rc;
}
