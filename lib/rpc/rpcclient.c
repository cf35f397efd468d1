/* rpcclient.c -- blocking JSON-RPC and net/rpc gob client with deadlines and byte capture. */
#include "rpc/rpcclient.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/net.h"
#include "rpc/grpcclient.h"
#include "value/vtype.h"
#include "wire/catalog.h"
#include "wire/gob.h"
#include "wire/jsonrpc.h"
#include "wire/netrpc.h"
#include "wire/pbcatalog.h"
#include "wire/pbjson.h"
#include "wire/pbvalue.h"

#define MAX_REPLY (16u << 20)

struct rpcclient {
    rpc_proto proto;
    int fd;
    uint64_t seq;
    buf in;
    bool capture, eof;
    buf sent, received;
    pcapout_conn *rec;        /* rpcclient_record's (gob, JSON-RPC; gRPC's is grpcclient's) */
    gob_enc *genc;
    gob_dec *gdec;
    grpcclient *grpc; /* PROTO_GRPC: the HTTP/2 connection, in place of fd */
    const vtype *gob_type;    /* gob: the argument's type as given; NULL: catalog or inferred */
    buf gob_notes;            /* gob: what the last inference renamed, one line each */
    int status;               /* the last call's outcome as a gRPC status code */
    char status_message[512]; /* after a remote error, the server's message */
    grpc_result *gres;        /* PROTO_GRPC: the call in progress or the last one */
    rpc_reply_hook hook;      /* rpcclient_on_reply's */
    void *hook_ud;
    const pb_method *cur;     /* the gRPC method being called; NULL: one nobody describes */
    pbjson_opts json_opts;    /* how methods outside the workbench's own print (proto3 JSON) */
};

rpcclient *rpcclient_dial(const char *url, int timeout_ms, char *err, size_t errlen)
{
    char addr[300];
    rpc_proto proto;
    if (rpc_proto_parse_url(url, &proto, addr, sizeof addr, err, errlen) < 0)
        return NULL;
    rpcclient *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    c->proto = proto;
    buf_init(&c->in, MAX_REPLY);
    buf_init(&c->sent, 0);
    buf_init(&c->received, 0);
    buf_init(&c->gob_notes, 64 * 1024);
    if (proto == PROTO_GOB) {
        c->genc = gob_enc_new();
        c->gdec = gob_dec_new(MAX_REPLY);
        if (!c->genc || !c->gdec) {
            err_set(err, errlen, "out of memory");
            goto fail;
        }
    }
    if (proto == PROTO_GRPC) {
        c->fd = -1;
        if (!(c->gres = calloc(1, sizeof *c->gres))) {
            err_set(err, errlen, "out of memory");
            goto fail;
        }
        if (!(c->grpc = grpcclient_dial(addr, timeout_ms, err, errlen)))
            goto fail;
        return c;
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
    pcapout_conn_free(c->rec, 0);
    if (c->fd >= 0)
        close(c->fd);
    buf_done(&c->in);
    buf_done(&c->sent);
    buf_done(&c->received);
    buf_done(&c->gob_notes);
    gob_enc_free(c->genc);
    gob_dec_free(c->gdec);
    grpcclient_free(c->grpc);
    free(c->gres);
    free(c);
}

void rpcclient_capture(rpcclient *c, bool on)
{
    c->capture = on;
    if (c->grpc)
        grpcclient_capture(c->grpc, on);
}

void rpcclient_record(rpcclient *c, pcapout *o)
{
    if (c->grpc)
        grpcclient_record(c->grpc, o);
    else if (o && !c->rec)
        c->rec = pcapout_conn_socket(o, c->fd);
}

const buf *rpcclient_sent(const rpcclient *c) { return c->grpc ? grpcclient_sent(c->grpc) : &c->sent; }

const buf *rpcclient_received(const rpcclient *c)
{
    return c->grpc ? grpcclient_received(c->grpc) : &c->received;
}
rpc_proto rpcclient_proto(const rpcclient *c) { return c->proto; }

void rpcclient_set_gob_type(rpcclient *c, const vtype *t) { c->gob_type = t; }

const char *rpcclient_gob_notes(rpcclient *c)
{
    if (buf_size(&c->gob_notes) == 0 || buf_putc(&c->gob_notes, 0) < 0)
        return "";
    c->gob_notes.len--; /* the terminator stays past the end */
    return (const char *)buf_data(&c->gob_notes);
}

int rpcclient_set_metadata(rpcclient *c, const char *name, const char *val, char *err, size_t errlen)
{
    if (!c->grpc) {
        err_set(err, errlen, "only gRPC calls carry metadata");
        return -1;
    }
    return grpcclient_set_metadata(c->grpc, name, val, err, errlen);
}

int rpcclient_add_metadata(rpcclient *c, const char *name, const char *val, char *err, size_t errlen)
{
    if (!c->grpc) {
        err_set(err, errlen, "%s has no request headers: metadata is gRPC's (grpc://)",
                c->proto == PROTO_GOB ? "Go's net/rpc with gob" : "JSON-RPC");
        return -1;
    }
    return grpcclient_add_metadata(c->grpc, name, val, err, errlen);
}

void rpcclient_on_reply(rpcclient *c, rpc_reply_hook fn, void *ud)
{
    c->hook = fn;
    c->hook_ud = ud;
}

const grpc_md *rpcclient_grpc_headers(const rpcclient *c) { return c->gres ? &c->gres->headers : NULL; }

const grpc_md *rpcclient_grpc_trailers(const rpcclient *c) { return c->gres ? &c->gres->trailers : NULL; }

const uint8_t *rpcclient_grpc_details(const rpcclient *c, size_t *n)
{
    *n = c->gres ? c->gres->details_len : 0;
    return c->gres ? c->gres->details : NULL;
}

/* Reads more bytes into c->in before the deadline. Returns 0, or -1 with err. */
static int read_more(rpcclient *c, uint64_t deadline, char *err, size_t errlen)
{
    if (c->eof) {
        err_set(err, errlen, "the server closed the connection before replying in full");
        return -1;
    }
    int r = net_wait_readable(c->fd, deadline);
    if (r == 0) {
        err_set(err, errlen, "no reply before the deadline");
        c->status = GRPC_DEADLINE_EXCEEDED;
        return -1;
    }
    int room = buf_reserve(&c->in, 64 * 1024);
    if (room < 0) {
        if (room == BUF_NO_MEMORY)
            err_set(err, errlen, "out of memory for the reply");
        else
            err_set(err, errlen, "reply larger than %u bytes", MAX_REPLY);
        return -1;
    }
    ssize_t n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 0;
        err_set(err, errlen, "receive failed: %s", strerror(errno));
        return -1;
    }
    if (n == 0) {
        c->eof = true;
        return 0;
    }
    if (c->capture)
        buf_append(&c->received, c->in.p + c->in.len, (size_t)n);
    pcapout_conn_data(c->rec, true, c->in.p + c->in.len, (size_t)n, 0);
    c->in.len += (size_t)n;
    return 0;
}

static int send_request(rpcclient *c, const buf *req, uint64_t deadline, char *err, size_t errlen)
{
    if (c->capture)
        buf_append(&c->sent, buf_data(req), buf_size(req));
    int r = net_write_all(c->fd, buf_data(req), buf_size(req), deadline, err, errlen);
    if (r == 0)
        pcapout_conn_data(c->rec, false, buf_data(req), buf_size(req), 0);
    return r;
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
            err_set(err, errlen, "cannot encode the request");
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
                err_set(err, errlen, "the server could not read the request: %s", r.error);
                jsonrpc_reply_done(&r);
                return CALL_FAILED;
            }
            jsonrpc_reply_done(&r);
            continue; /* a late reply to an earlier call that timed out */
        }
        if (r.error) {
            err_set(err, errlen, "%s", r.error);
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
    err_set(err, errlen, "the server answered in JSON, not gob%s%s%s: is it a JSON-RPC server? Try json://",
             used > 0 && r.error ? " (\"" : "", used > 0 && r.error ? r.error : "",
             used > 0 && r.error ? "\")" : "");
    if (used > 0)
        jsonrpc_reply_done(&r);
    return CALL_FAILED;
}

/* The argument as gob sends it: converted to the type given, the catalog's, or the one
 * inferred from the JSON (*t is set). NULL with err when it cannot be. */
static value *gob_argument(rpcclient *c, const catalog_method *m, const value *arg, typeset *ts,
                           const vtype **t, char *err, size_t errlen)
{
    char why[512], want[512];
    value *typed;
    buf_clear(&c->gob_notes);
    if (c->gob_type) {
        *t = c->gob_type;
        if (!(typed = vtype_coerce(*t, arg, why, sizeof why)))
            err_set(err, errlen, _("the argument is not a %s: %s"), vtype_spell(*t, want, sizeof want), why);
        return typed;
    }
    if (m && m->arg) {
        *t = m->arg;
        return catalog_argument(m, arg, err, errlen);
    }
    if (!ts || !(*t = vtype_infer_json(ts, arg, &c->gob_notes, why, sizeof why)) ||
        !(typed = vtype_coerce(*t, arg, why, sizeof why))) {
        err_set(err, errlen, _("cannot send this argument with gob: %s"), ts ? why : "out of memory");
        return NULL;
    }
    return typed;
}

static call_status call_gob(rpcclient *c, const char *name, const value *arg, uint64_t deadline,
                            value **reply, char *err, size_t errlen)
{
    const vtype *t = NULL;
    typeset *ts = typeset_new();
    const catalog_method *m = catalog_find(name, false, NULL, 0);
    value *typed = gob_argument(c, m, arg, ts, &t, err, errlen);
    if (!typed) {
        typeset_free(ts);
        return CALL_BAD_ARGUMENT;
    }
    buf req;
    buf_init(&req, 0);
    uint64_t seq = c->seq++;
    int r = netrpc_write_request(c->genc, &req, name, seq, t, typed, err, errlen);
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
            err_set(err, errlen, "%s", msg.error);
            st = CALL_REMOTE_ERROR;
        } else if (used < 0 || !msg.body) {
            st = CALL_FAILED; /* err says why the body could not be read */
        } else {
            *reply = msg.body;
            msg.body = NULL;
            if (!(m && m->reply))
                *reply = gob_nil_empty(*reply); /* printed as Go's encoding/json prints what Go decodes */
            st = CALL_OK;
        }
        netrpc_msg_done(&msg);
        return st;
    }
}

/* Whether m's messages take proto3's JSON mapping (wire/pbjson): every method but the
 * workbench's own, whose Go-shaped values (wire/pbvalue) are what the lessons show. */
static bool json_mapped(const pb_method *m) { return pbcatalog_find(m->path) != m; }

/* v as message type d of the method being called, serialized into *out (caller frees). */
static int pack_message(const rpcclient *c, const ProtobufCMessageDescriptor *d, const value *v, uint8_t **out,
                        size_t *n, char *err, size_t errlen)
{
    if (!json_mapped(c->cur))
        return pbvalue_pack(d, v, out, n, err, errlen);
    ProtobufCMessage *msg = pbjson_to_message(d, v, err, errlen);
    if (!msg)
        return -1;
    *n = protobuf_c_message_get_packed_size(msg);
    if (!(*out = malloc(*n ? *n : 1))) {
        protobuf_c_message_free_unpacked(msg, NULL);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    protobuf_c_message_pack(msg, *out);
    protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}

/* A reply message of the method being called as a value (caller owns it); the raw bytes
 * when nobody describes the method. */
static value *unpack_message(const rpcclient *c, const uint8_t *p, size_t n, char *err, size_t errlen)
{
    if (!c->cur)
        return value_bytes(p, n);
    if (!json_mapped(c->cur))
        return pbvalue_unpack(c->cur->output, p, n, err, errlen);
    ProtobufCMessage *msg = protobuf_c_message_unpack(c->cur->output, NULL, n, p);
    if (!msg) {
        err_set(err, errlen, "not valid protobuf for this type");
        return NULL;
    }
    value *v = pbjson_from_message(msg, &c->json_opts, err, errlen);
    protobuf_c_message_free_unpacked(msg, NULL);
    return v;
}

/* Appends one message as grpcclient expects it: a 4-byte big-endian length, then the bytes. */
static int put_message(const rpcclient *c, buf *b, const ProtobufCMessageDescriptor *d, const value *v, char *err,
                       size_t errlen)
{
    uint8_t *p = NULL;
    size_t n = 0;
    if (pack_message(c, d, v, &p, &n, err, errlen) < 0)
        return -1;
    int r = grpcclient_put_message(b, p, n);
    free(p);
    if (r < 0)
        err_set(err, errlen, "out of memory");
    return r;
}

/* grpcclient's reply callback: decodes the message and hands it to the caller's hook. */
static int reply_to_hook(const uint8_t *msg, size_t len, void *ud, char *err, size_t errlen)
{
    rpcclient *c = ud;
    char why[400];
    value *v = unpack_message(c, msg, len, why, sizeof why);
    if (!v) {
        err_set(err, errlen, "reply %zu is not a %s: %s", c->gres->nreplies, c->cur->output->name, why);
        return -1;
    }
    int r = c->hook(v, c->hook_ud, err, errlen);
    value_free(v);
    return r;
}

/* The request messages of method m into reqs: arg itself, or each item of arg when
 * as_list (a client-streaming method's JSON list, or rpcclient_call_messages' list). */
static int put_requests(const rpcclient *c, buf *reqs, const pb_method *m, const value *arg, bool as_list,
                        char *err, size_t errlen)
{
    char why[400];
    if (!as_list) {
        if (put_message(c, reqs, m->input, arg, why, sizeof why) < 0) {
            err_set(err, errlen, "%s takes %s: %s", m->path + 1, m->input->name, why);
            return -1;
        }
        return 0;
    }
    if (arg->kind != V_LIST) {
        err_set(err, errlen, "%s streams from the client: give a JSON list of %s messages",
                m->path + 1, m->input->name);
        return -1;
    }
    if (!m->client_streaming && arg->u.list.len != 1) {
        err_set(err, errlen, "%s takes one %s message, not %zu", m->path + 1, m->input->name,
                arg->u.list.len);
        return -1;
    }
    for (size_t i = 0; i < arg->u.list.len; i++)
        if (put_message(c, reqs, m->input, arg->u.list.items[i], why, sizeof why) < 0) {
            err_set(err, errlen, "%s message %zu: %s", m->path + 1, i + 1, why);
            return -1;
        }
    return 0;
}

/* Whether v says nothing: null, {} or an empty list, which any message type can be. */
static bool says_nothing(const value *v)
{
    return v->kind == V_NULL || (v->kind == V_MAP && v->u.map.len == 0) ||
           (v->kind == V_STRUCT && v->u.st.len == 0) || (v->kind == V_LIST && v->u.list.len == 0);
}

/* The :path of a method nobody describes ("pkg.Svc/M", "/pkg.Svc/M" or "pkg.Svc.M"), when
 * arg can be sent without its type; else -1 with why not. */
static int unknown_path(const char *name, const value *arg, char *path, size_t cap, char *err, size_t errlen)
{
    const char *start = name[0] == '/' ? name + 1 : name;
    const char *cut = strrchr(start, '/');
    if (!cut)
        cut = strrchr(start, '.');
    if (!cut || cut == start || !cut[1]) {
        err_set(err, errlen, "\"%s\" is not a gRPC method: want package.Service/Method", name);
        return -1;
    }
    if (!says_nothing(arg)) {
        err_set(err, errlen, "no types known for \"%s\": give --proto FILE.proto, or {} to send it empty anyway",
                name);
        return -1;
    }
    snprintf(path, cap, "/%.*s/%s", (int)(cut - start), start, cut + 1);
    return 0;
}

static call_status call_grpc(rpcclient *c, const char *name, const value *arg, bool as_list, int timeout_ms,
                             value **reply, char *err, size_t errlen)
{
    const pb_method *m = catalog_find_grpc(name);
    char path[512];
    if (!m && unknown_path(name, arg, path, sizeof path, err, errlen) < 0)
        return CALL_BAD_ARGUMENT;
    buf reqs, reps;
    buf_init(&reqs, 0);
    buf_init(&reps, 64u << 20);
    char why[400];
    call_status st = CALL_BAD_ARGUMENT;
    c->cur = m;
    if (!m)
        grpcclient_put_message(&reqs, "", 0); /* the empty message, which any type can read */
    else if (put_requests(c, &reqs, m, arg, as_list || m->client_streaming, err, errlen) < 0)
        goto done;
    grpc_result *res = c->gres;
    res->replies = &reps;
    res->on_reply = c->hook && m && m->server_streaming ? reply_to_hook : NULL;
    res->reply_ud = c;
    st = CALL_FAILED;
    if (grpcclient_call(c->grpc, m ? m->path : path, &reqs, timeout_ms, res, err, errlen) < 0) {
        c->status = res->status;
        goto done;
    }
    c->status = GRPC_INTERNAL; /* unless the replies are what the method returns */
    if (res->status != GRPC_OK) {
        c->status = res->status;
        snprintf(c->status_message, sizeof c->status_message, "%s", res->message);
        if (grpc_status_known(res->status))
            err_set(err, errlen, "%s: %s", grpc_status_name(res->status), res->message);
        else
            err_set(err, errlen, "code %d: %s", res->status, res->message);
        st = CALL_REMOTE_ERROR;
        goto done;
    }
    if (res->on_reply) {
        st = CALL_OK; /* the hook had every reply */
        goto done;
    }
    value *list = value_list();
    const uint8_t *msg;
    size_t n, off = 0;
    for (size_t i = 0; list && i < res->nreplies && grpcclient_next_message(&reps, &off, &msg, &n); i++) {
        value *v = unpack_message(c, msg, n, why, sizeof why);
        if (!v) {
            err_set(err, errlen, "reply %zu is not a %s: %s", i + 1, m->output->name, why);
            value_free(list);
            goto done;
        }
        value_list_push(list, v);
    }
    if (!list) {
        err_set(err, errlen, "out of memory");
        goto done;
    }
    if (m ? m->server_streaming : list->u.list.len != 1) {
        *reply = list;
    } else if (list->u.list.len != 1) {
        err_set(err, errlen, "the server sent %zu reply messages to a unary call", list->u.list.len);
        value_free(list);
        goto done;
    } else {
        *reply = list->u.list.items[0];
        list->u.list.items[0] = NULL;
        value_free(list);
    }
    st = CALL_OK;
done:
    c->gres->replies = NULL;
    c->gres->on_reply = NULL;
    buf_done(&reqs);
    buf_done(&reps);
    return st;
}

/* rpcclient_call and rpcclient_call_messages: as_list says arg is a list of messages. */
static call_status call_any(rpcclient *c, const char *name, const value *arg, bool as_list, int timeout_ms,
                            value **reply, char *err, size_t errlen)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1);
    err[0] = '\0';
    *reply = NULL;
    c->status = GRPC_UNAVAILABLE; /* what a failure is, unless a step says otherwise */
    c->status_message[0] = '\0';
    call_status st;
    if (as_list && c->proto != PROTO_GRPC && (arg->kind != V_LIST || arg->u.list.len != 1)) {
        err_set(err, errlen, "%s takes one argument, not a stream of %zu",
                c->proto == PROTO_GOB ? "Go's net/rpc" : "JSON-RPC", arg->kind == V_LIST ? arg->u.list.len : 0);
        st = CALL_BAD_ARGUMENT;
    } else if (c->proto == PROTO_GRPC) {
        st = call_grpc(c, name, arg, as_list, timeout_ms, reply, err, errlen);
    } else {
        const value *one = as_list ? arg->u.list.items[0] : arg;
        if (c->proto == PROTO_GOB)
            st = call_gob(c, name, one, deadline, reply, err, errlen);
        else
            st = call_json(c, name, one, deadline, reply, err, errlen);
    }
    if (st == CALL_OK) {
        c->status = GRPC_OK;
    } else if (st == CALL_BAD_ARGUMENT) {
        c->status = GRPC_INVALID_ARGUMENT;
    } else if (st == CALL_REMOTE_ERROR && c->proto != PROTO_GRPC) {
        c->status = GRPC_UNKNOWN; /* net/rpc errors are text only */
        snprintf(c->status_message, sizeof c->status_message, "%s", err);
    }
    return st;
}

call_status rpcclient_call(rpcclient *c, const char *name, const value *arg, int timeout_ms,
                           value **reply, char *err, size_t errlen)
{
    return call_any(c, name, arg, false, timeout_ms, reply, err, errlen);
}

call_status rpcclient_call_messages(rpcclient *c, const char *name, const value *msgs, int timeout_ms,
                                    value **reply, char *err, size_t errlen)
{
    return call_any(c, name, msgs, true, timeout_ms, reply, err, errlen);
}

void rpcclient_set_json_opts(rpcclient *c, const pbjson_opts *opts) { c->json_opts = *opts; }

int rpcclient_status(const rpcclient *c) { return c->status; }

const char *rpcclient_status_message(const rpcclient *c) { return c->status_message; }
