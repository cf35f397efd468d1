/* rpcclient.c -- blocking JSON-RPC and net/rpc gob client with deadlines and byte capture. */
#include "rpcclient.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gob.h"
#include "jsonrpc.h"
#include "loop.h"
#include "net.h"
#include "netrpc.h"
#include "services.h"
#include "vtype.h"

#define MAX_REPLY (16u << 20)

struct rpcclient {
    rpc_proto proto;
    int fd;
    uint64_t seq;
    buf in;
    bool capture, eof;
    buf sent, received;
    gob_enc *genc;
    gob_dec *gdec;
};

const char *rpc_proto_name(rpc_proto p) { return p == PROTO_GOB ? "gob" : "JSON-RPC"; }

int rpc_parse_url(const char *url, rpc_proto *proto, char *addr, size_t addrlen, char *err,
                  size_t errlen)
{
    static const struct {
        const char *scheme;
        rpc_proto proto;
    } schemes[] = {{"json://", PROTO_JSON}, {"jsonrpc://", PROTO_JSON}, {"gob://", PROTO_GOB}};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].scheme);
        if (strncmp(url, schemes[i].scheme, n) == 0) {
            if (snprintf(addr, addrlen, "%s", url + n) >= (int)addrlen || !url[n]) {
                snprintf(err, errlen, "URL \"%s\" has no usable HOST:PORT", url);
                return -1;
            }
            *proto = schemes[i].proto;
            return 0;
        }
    }
    snprintf(err, errlen, "URL \"%s\" should start with json:// or gob:// (e.g. json://127.0.0.1:8080)", url);
    return -1;
}

rpcclient *rpcclient_dial(const char *url, int timeout_ms, char *err, size_t errlen)
{
    char addr[300];
    rpc_proto proto;
    if (rpc_parse_url(url, &proto, addr, sizeof addr, err, errlen) < 0)
        return NULL;
    rpcclient *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->proto = proto;
    buf_init(&c->in, MAX_REPLY);
    buf_init(&c->sent, 0);
    buf_init(&c->received, 0);
    if (proto == PROTO_GOB) {
        c->genc = gob_enc_new();
        c->gdec = gob_dec_new(MAX_REPLY);
        if (!c->genc || !c->gdec) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    c->fd = net_connect(addr, timeout_ms, err, errlen);
    if (c->fd < 0)
        goto fail;
    return c;
fail:
    c->fd = -1;
    rpcclient_free(c);
    return NULL;
}

void rpcclient_free(rpcclient *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    buf_done(&c->in);
    buf_done(&c->sent);
    buf_done(&c->received);
    gob_enc_free(c->genc);
    gob_dec_free(c->gdec);
    free(c);
}

void rpcclient_capture(rpcclient *c, bool on) { c->capture = on; }
const buf *rpcclient_sent(const rpcclient *c) { return &c->sent; }
const buf *rpcclient_received(const rpcclient *c) { return &c->received; }
rpc_proto rpcclient_proto(const rpcclient *c) { return c->proto; }

/* Reads more bytes into c->in before the deadline. Returns 0, or -1 with err. */
static int read_more(rpcclient *c, uint64_t deadline, char *err, size_t errlen)
{
    if (c->eof) {
        snprintf(err, errlen, "the server closed the connection before replying in full");
        return -1;
    }
    int r = net_wait_readable(c->fd, deadline);
    if (r == 0) {
        snprintf(err, errlen, "no reply before the deadline");
        return -1;
    }
    if (buf_reserve(&c->in, 64 * 1024) < 0) {
        snprintf(err, errlen, "reply larger than %u bytes", MAX_REPLY);
        return -1;
    }
    ssize_t n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 0;
        snprintf(err, errlen, "receive failed: %s", strerror(errno));
        return -1;
    }
    if (n == 0) {
        c->eof = true;
        return 0;
    }
    if (c->capture)
        buf_append(&c->received, c->in.p + c->in.len, (size_t)n);
    c->in.len += (size_t)n;
    return 0;
}

static int send_request(rpcclient *c, const buf *req, uint64_t deadline, char *err, size_t errlen)
{
    if (c->capture)
        buf_append(&c->sent, buf_data(req), buf_size(req));
    return net_write_all(c->fd, buf_data(req), buf_size(req), deadline, err, errlen);
}

static call_status call_json(rpcclient *c, const char *name, const value *arg, uint64_t deadline,
                             value **reply, char *err, size_t errlen)
{
    buf req;
    buf_init(&req, 0);
    uint64_t id = c->seq++;
    if (jsonrpc_write_request(&req, name, arg, id) < 0 ||
        send_request(c, &req, deadline, err, errlen) < 0) {
        if (!err[0])
            snprintf(err, errlen, "cannot encode the request");
        buf_done(&req);
        return CALL_FAILED;
    }
    buf_done(&req);
    for (;;) {
        jsonrpc_reply r;
        long used = jsonrpc_read_reply((const char *)buf_data(&c->in), buf_size(&c->in), c->eof, &r,
                                       err, errlen);
        if (used < 0)
            return CALL_FAILED;
        if (used == 0) {
            if (read_more(c, deadline, err, errlen) < 0)
                return CALL_FAILED;
            continue;
        }
        buf_consume(&c->in, (size_t)used);
        bool ours = r.id && ((r.id->kind == V_INT && (uint64_t)r.id->u.i == id) ||
                             (r.id->kind == V_UINT && r.id->u.u == id));
        if (!ours) {
            if (r.id && r.id->kind == V_NULL && r.error) {
                /* the server could not even read the request, so could not name its id */
                snprintf(err, errlen, "the server could not read the request: %s", r.error);
                jsonrpc_reply_done(&r);
                return CALL_FAILED;
            }
            jsonrpc_reply_done(&r);
            continue; /* a late reply to an earlier call that timed out */
        }
        if (r.error) {
            snprintf(err, errlen, "%s", r.error);
            jsonrpc_reply_done(&r);
            return CALL_REMOTE_ERROR;
        }
        *reply = r.result;
        r.result = NULL;
        jsonrpc_reply_done(&r);
        return CALL_OK;
    }
}

/* When a gob call fails on bytes that are JSON text, says so: the learner has most likely
 * pointed a gob client at a JSON-RPC server. */
static call_status gob_failed(rpcclient *c, char *err, size_t errlen)
{
    const char *p = (const char *)buf_data(&c->in);
    size_t n = buf_size(&c->in);
    if (n == 0 || p[0] != '{')
        return CALL_FAILED;
    jsonrpc_reply r;
    char why[64];
    long used = jsonrpc_read_reply(p, n, true, &r, why, sizeof why);
    snprintf(err, errlen, "the server answered in JSON, not gob%s%s%s: is it a JSON-RPC server? Try json://",
             used > 0 && r.error ? " (\"" : "", used > 0 && r.error ? r.error : "",
             used > 0 && r.error ? "\")" : "");
    if (used > 0)
        jsonrpc_reply_done(&r);
    return CALL_FAILED;
}

static call_status call_gob(rpcclient *c, const char *name, const value *arg, uint64_t deadline,
                            value **reply, char *err, size_t errlen)
{
    char why[256];
    const vtype *t;
    value *typed = NULL;
    typeset *ts = typeset_new();
    const method *m = service_find(name, why, sizeof why);
    if (m) {
        t = m->arg;
        if (!(typed = service_argument(m, arg, err, errlen))) {
            typeset_free(ts);
            return CALL_BAD_ARGUMENT;
        }
    } else if (!ts || !(t = vtype_infer(ts, arg, why, sizeof why))) {
        snprintf(err, errlen, "cannot send this argument with gob: %s", why);
        typeset_free(ts);
        return CALL_BAD_ARGUMENT;
    }
    buf req;
    buf_init(&req, 0);
    uint64_t seq = c->seq++;
    int r = netrpc_write_request(c->genc, &req, name, seq, t, typed ? typed : arg, err, errlen);
    value_free(typed);
    typeset_free(ts);
    if (r < 0 || send_request(c, &req, deadline, err, errlen) < 0) {
        buf_done(&req);
        return CALL_FAILED;
    }
    buf_done(&req);
    for (;;) {
        netrpc_msg msg = {0};
        long used = netrpc_read(c->gdec, buf_data(&c->in), buf_size(&c->in), true, &msg, err, errlen);
        if (used == 0) {
            netrpc_msg_done(&msg);
            if (read_more(c, deadline, err, errlen) < 0)
                return gob_failed(c, err, errlen);
            continue;
        }
        if (used == -1) {
            netrpc_msg_done(&msg);
            return gob_failed(c, err, errlen);
        }
        buf_consume(&c->in, msg.used);
        if (msg.seq != seq) {
            netrpc_msg_done(&msg);
            continue;
        }
        call_status st;
        if (msg.error && msg.error[0]) {
            snprintf(err, errlen, "%s", msg.error);
            st = CALL_REMOTE_ERROR;
        } else if (used < 0 || !msg.body) {
            st = CALL_FAILED; /* err says why the body could not be read */
        } else {
            *reply = msg.body;
            msg.body = NULL;
            st = CALL_OK;
        }
        netrpc_msg_done(&msg);
        return st;
    }
}

call_status rpcclient_call(rpcclient *c, const char *name, const value *arg, int timeout_ms,
                           value **reply, char *err, size_t errlen)
{
    uint64_t deadline = loop_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1);
    err[0] = '\0';
    *reply = NULL;
    return c->proto == PROTO_GOB ? call_gob(c, name, arg, deadline, reply, err, errlen)
                                 : call_json(c, name, arg, deadline, reply, err, errlen);
}
