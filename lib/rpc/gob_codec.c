/* gob_codec.c -- the method catalog served over Go's net/rpc default codec, gob: a
 * server_codec for rpc/server. */
#include "rpc/gob_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "value/vtype.h"
#include "wire/catalog.h"
#include "wire/gob.h"
#include "wire/netrpc.h"

/* A connection's two gob streams: what the client defined, and what we have sent. */
typedef struct gob_conn {
    gob_dec *dec;
    gob_enc *enc;
    size_t max_message;
    bool started; /* a call has been read: the stream is gob */
    uint64_t calls; /* whole calls (header and body) read */
} gob_conn;

static void gob_close(void *state)
{
    gob_conn *c = state;
    if (!c)
        return;
    gob_dec_free(c->dec);
    gob_enc_free(c->enc);
    free(c);
}

static void *gob_open(size_t max_message)
{
    gob_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->dec = gob_dec_new(max_message);
    c->enc = gob_enc_new();
    c->max_message = max_message;
    if (!c->dec || !c->enc) {
        gob_close(c);
        return NULL;
    }
    return c;
}

/* Go's decoder refuses a struct argument none of whose fields the method's type has. */
static bool no_field_matches(const vtype *wire, const vtype *want)
{
    if (!wire || !want || wire->kind != T_STRUCT || want->kind != T_STRUCT || !wire->nfields ||
        !want->nfields)
        return false;
    for (size_t i = 0; i < wire->nfields; i++)
        for (size_t j = 0; j < want->nfields; j++)
            if (strcmp(wire->fields[i].name, want->fields[j].name) == 0)
                return false;
    return true;
}

/* Encodes a successful reply in the method's declared type, or, for a method that
 * declares none, in the type the value itself suggests. Returns 0, or -1 with err. */
static int send_reply(gob_conn *c, const netrpc_msg *m, const catalog_method *mt, const value *reply,
                      buf *out, char *err, size_t errlen)
{
    if (mt->reply)
        return netrpc_write_response(c->enc, out, m->method, m->seq, NULL, mt->reply, reply, err,
                                     errlen);
    typeset *ts = typeset_new();
    const vtype *t = ts ? vtype_infer(ts, reply, err, errlen) : NULL;
    int r = t ? netrpc_write_response(c->enc, out, m->method, m->seq, NULL, t, reply, err, errlen) : -1;
    if (!ts)
        err_set(err, errlen, "out of memory");
    typeset_free(ts);
    return r;
}

/* Answers one request through the method catalog; a failure becomes an error reply, as
 * with Go's server. */
static void answer(gob_conn *c, const netrpc_msg *m, const char *decode_error, buf *out)
{
    char msg[512], err[256];
    value *reply = NULL;
    const catalog_method *mt = catalog_find(m->method, true, msg, sizeof msg);
    int failed = !mt;
    if (!failed && decode_error) {
        err_set(msg, sizeof msg, "%s", decode_error);
        failed = 1;
    }
    if (!failed && no_field_matches(m->body_type, mt->arg)) {
        err_set(msg, sizeof msg, "gob: type mismatch: no fields matched compiling decoder for %s",
                mt->arg->name);
        failed = 1;
    }
    if (!failed && catalog_call(mt, m->body, &reply, msg, sizeof msg) != CATALOG_OK)
        failed = 1;
    if (failed) {
        log_msg("error reply: %s", msg);
        netrpc_write_response(c->enc, out, m->method, m->seq, msg, NULL, NULL, err, sizeof err);
    } else if (send_reply(c, m, mt, reply, out, err, sizeof err) < 0) {
        log_msg("%s: cannot encode the reply: %s", m->method, err);
        netrpc_write_response(c->enc, out, m->method, m->seq, err, NULL, NULL, err, sizeof err);
    }
    value_free(reply);
}

/* Says what bytes that are not gob probably are, for the error message. */
static const char *guess_sender(const buf *in)
{
    const uint8_t *p = buf_data(in);
    size_t n = buf_size(in) < 16 ? buf_size(in) : 16;
    size_t printable = 0;
    for (size_t i = 0; i < n; i++)
        printable += (p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\r' || p[i] == '\n';
    if (n == 0 || printable < n)
        return "";
    if (p[0] == '{' || p[0] == '[')
        return " (they look like JSON: is a JSON-RPC client talking to the gob server?)";
    return " (they look like text, not gob)";
}

/* A JSON-RPC request sent here by mistake; it is answered in JSON, so nc users see why. */
static bool looks_like_json(const buf *in)
{
    const uint8_t *p = buf_data(in);
    size_t n = buf_size(in);
    return n >= 2 && (p[0] == '{' || p[0] == '[') &&
           (p[1] == '"' || p[1] == ' ' || p[1] == '\n' || p[1] == '{' || p[1] == '}');
}

static feed_result gob_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen)
{
    gob_conn *c = state;
    if (!c->started && looks_like_json(in)) {
        err_set(err, errlen, "a JSON request came to the gob server: answered in JSON and closed");
        buf_puts(out, "{\"id\":null,\"result\":null,\"error\":\"this is a gob server (Go net/rpc); "
                      "it cannot read JSON. Send JSON-RPC to jsonrpc-server (port 8080, json://)\"}\n");
        return FEED_CLOSE;
    }
    for (;;) {
        netrpc_msg m = {0};
        long r = netrpc_read(c->dec, buf_data(in), buf_size(in), false, &m, err, errlen);
        buf_consume(in, m.used);
        if (r == GOB_MORE) {
            netrpc_msg_done(&m);
            if (eof && buf_size(in) > 0) {
                err_set(err, errlen, "the client closed the connection in the middle of a call: %zu bytes never completed a gob message%s",
                         buf_size(in), guess_sender(in));
                return FEED_CLOSE;
            }
            return FEED_OK;
        }
        if (r == GOB_BROKEN) {
            size_t k = strlen(err);
            err_set(err + k, errlen - k, "%s", guess_sender(in));
            netrpc_msg_done(&m);
            return FEED_CLOSE;
        }
        c->started = true;
        c->calls++;
        answer(c, &m, r == GOB_BAD_VALUE ? err : NULL, out);
        netrpc_msg_done(&m);
    }
}

static uint64_t gob_progress(void *state) { return ((gob_conn *)state)->calls; }

const server_codec gob_codec = {
    .name = "gob (Go net/rpc)",
    .protocol = "gob",
    .default_listen = "127.0.0.1:8081",
    .open = gob_open,
    .close = gob_close,
    .feed = gob_feed,
    .progress = gob_progress,
};
