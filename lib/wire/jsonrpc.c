/* jsonrpc.c -- JSON-RPC 1.0 (Go's net/rpc/jsonrpc) and 2.0 over a TCP stream. */
#include "wire/jsonrpc.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/esc.h"
#include "base/log.h"
#include "wire/catalog.h"
#include "wire/jsonscan.h"
#include "wire/jsonval.h"

#define MAX_BATCH 1024

/* The direct children of a top-level object or array, as byte spans of its text. */
typedef struct member {
    size_t koff, klen; /* key without quotes; klen 0 for array items */
    size_t voff, vlen;
    jtok_type vtype;
} member;

typedef struct members {
    member m[MAX_BATCH];
    size_t n;
    bool overflow;
    jtok_type top;
    bool open; /* a value at depth 1 has begun but not ended */
} members;

static int collect_member(const jtok *t, void *ctx)
{
    members *ms = ctx;
    if (t->depth == 0) {
        if (t->type == JT_OBJ_BEGIN || t->type == JT_ARR_BEGIN)
            ms->top = t->type;
        return 0;
    }
    if (t->depth != 1)
        return 0;
    size_t cap = MAX_BATCH;
    if (t->type == JT_KEY) {
        if (ms->n == cap) {
            ms->overflow = true;
            return 0;
        }
        ms->m[ms->n] = (member){t->off + 1, t->len - 2, 0, 0, JT_NULL};
        ms->open = true;
        return 0;
    }
    if (t->type == JT_OBJ_END || t->type == JT_ARR_END) {
        if (ms->open && ms->n < cap) {
            member *m = &ms->m[ms->n];
            m->vlen = t->off + 1 - m->voff;
            ms->n++;
            ms->open = false;
        }
        return 0;
    }
    if (ms->top == JT_ARR_BEGIN && !ms->open) {
        if (ms->n == cap) {
            ms->overflow = true;
            return 0;
        }
        ms->m[ms->n] = (member){0, 0, 0, 0, JT_NULL};
        ms->open = true;
    }
    if (!ms->open || ms->n == cap)
        return 0;
    member *m = &ms->m[ms->n];
    m->voff = t->off;
    m->vtype = t->type;
    if (t->type == JT_OBJ_BEGIN || t->type == JT_ARR_BEGIN)
        return 0; /* ends at the matching END at depth 1 */
    m->vlen = t->len;
    ms->n++;
    ms->open = false;
    return 0;
}

/* Scans one complete JSON text and lists its top-level children. */
static int scan_members(const char *p, size_t n, members *ms, char *err, size_t errlen)
{
    memset(ms, 0, sizeof *ms);
    ms->top = JT_NULL; /* not a container until the scan says so */
    return jsonscan(p, n, JSONSCAN_FINAL, NULL, NULL, collect_member, ms, err, errlen) == 1 ? 0 : -1;
}

static const member *find_member(const members *ms, const char *text, const char *key)
{
    const member *found = NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < ms->n; i++) /* the last one wins, as in Go */
        if (ms->m[i].klen == kl && strncasecmp(text + ms->m[i].koff, key, kl) == 0)
            found = &ms->m[i];
    return found;
}

/* Decodes the method's JSON string token into a heap string; NULL when it is not a
 * string. Invalid UTF-8 is replaced, as Go's decoder does. A name holding a NUL byte
 * (sent as \u0000) is no method's, and would be cut short as a C string: it comes back
 * with the NUL spelled \x00, so the lookup fails in Go's words, "can't find method". */
static char *method_token(const char *p, size_t n)
{
    if (n < 2 || p[0] != '"')
        return NULL;
    value *v = jsonval_parse(p, n, NULL, 0);
    char *s = NULL;
    if (v && v->kind == V_STRING) {
        if (memchr(v->u.s.p, '\0', v->u.s.len)) {
            size_t cap = 4 * v->u.s.len + 4;
            s = malloc(cap);
            if (s)
                esc_bytes(s, cap, v->u.s.p, v->u.s.len);
        } else {
            s = strdup(v->u.s.p);
        }
    }
    value_free(v);
    return s;
}

static void put_json_string(buf *out, const char *s)
{
    jsonval_put_string(out, s, strlen(s));
}

typedef struct request {
    const char *text;
    bool v2;
    const char *id; /* raw text of the id, or NULL when absent */
    size_t idlen;
} request;

/* The request's id exactly as it was sent, or null when it had none. */
static void put_id(buf *out, const request *rq)
{
    if (!rq->id) {
        buf_puts(out, "null");
    } else if (esc_utf8_valid(rq->id, rq->idlen)) {
        buf_append(out, rq->id, rq->idlen);
    } else { /* echoed raw, it would make the reply invalid JSON: decoded and written again */
        value *v = jsonval_parse(rq->id, rq->idlen, NULL, 0);
        if (!v || jsonval_write(v, out) < 0)
            buf_puts(out, "null");
        value_free(v);
    }
}

static void reply_ok(buf *out, const request *rq, const value *result)
{
    if (rq->v2) {
        buf_puts(out, "{\"jsonrpc\":\"2.0\",\"result\":");
        if (jsonval_write(result, out) < 0)
            buf_puts(out, "null");
        buf_puts(out, ",\"id\":");
        put_id(out, rq);
        buf_puts(out, "}");
        return;
    }
    buf_puts(out, "{\"id\":");
    put_id(out, rq);
    buf_puts(out, ",\"result\":");
    if (jsonval_write(result, out) < 0)
        buf_puts(out, "null");
    buf_puts(out, ",\"error\":null}");
}

static const char *code_message(int code)
{
    switch (code) {
    case JSONRPC_PARSE_ERROR: return "Parse error";
    case JSONRPC_INVALID_REQUEST: return "Invalid Request";
    case JSONRPC_METHOD_NOT_FOUND: return "Method not found";
    case JSONRPC_INVALID_PARAMS: return "Invalid params";
    case JSONRPC_INTERNAL_ERROR: return "Internal error";
    default: return "Server error";
    }
}

/* In 2.0 the standard text goes in message and our explanation in data; a method's
 * own failure (divide by zero) is the message itself. */
static void reply_error(buf *out, const request *rq, int code, const char *msg)
{
    log_msg("error reply: %s", msg);
    if (rq->v2) {
        buf_printf(out, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":%d,\"message\":", code);
        if (code == JSONRPC_SERVER_ERROR) {
            put_json_string(out, msg);
        } else {
            put_json_string(out, code_message(code));
            buf_puts(out, ",\"data\":");
            put_json_string(out, msg);
        }
        buf_puts(out, "},\"id\":");
        put_id(out, rq);
        buf_puts(out, "}");
        return;
    }
    buf_puts(out, "{\"id\":");
    put_id(out, rq);
    buf_puts(out, ",\"result\":null,\"error\":");
    put_json_string(out, msg);
    buf_puts(out, "}");
}

/* Edit distance, small strings only: to catch "paras" for "params". */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t d[24][24];
    if (la > 22 || lb > 22)
        return 99;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + ((a[i - 1] | 32) != (b[j - 1] | 32));
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

/* Builds the missing-params message, naming a misspelt key if there is one. */
static void missing_params(const members *ms, const char *text, char *msg, size_t n)
{
    for (size_t i = 0; i < ms->n; i++) {
        const member *m = &ms->m[i];
        const char *k = text + m->koff;
        if (distance(k, m->klen, "params", 6) <= 2 && !(m->klen == 6 && strncasecmp(k, "params", 6) == 0)) {
            err_set(msg, n, "jsonrpc: request body missing params (found \"%.*s\"; the field is spelled \"params\")",
                     (int)m->klen, k);
            return;
        }
    }
    err_set(msg, n, "jsonrpc: request body missing params (send \"params\":[ARGUMENT])");
}

/* Turns params into the method's single argument. Go's form is [ARG]; 2.0 also allows
 * an object (the argument itself) and a list of a struct's fields in order. */
static value *params_argument(const catalog_method *m, const char *text, const member *pm, bool v2,
                              char *msg, size_t n)
{
    char why[256];
    value *pv = jsonval_parse(text + pm->voff, pm->vlen, why, sizeof why);
    if (!pv) {
        err_set(msg, n, "jsonrpc: params: %s", why);
        return NULL;
    }
    if (pv->kind == V_LIST) {
        size_t cnt = pv->u.list.len;
        value *arg = NULL;
        if (cnt == 0) {
            arg = value_null();
        } else if (cnt == 1 || !v2) { /* Go reads the first item and ignores the rest */
            arg = pv->u.list.items[0];
            pv->u.list.items[0] = NULL;
        } else if (m->arg && m->arg->kind == T_STRUCT && cnt <= m->arg->nfields) {
            arg = value_map();
            for (size_t i = 0; arg && i < cnt; i++) {
                if (value_map_put(arg, value_cstring(m->arg->fields[i].name), pv->u.list.items[i]) < 0)
                    arg = NULL;
                pv->u.list.items[i] = NULL;
            }
        } else {
            err_set(msg, n, "%s takes one argument, or its fields in order", m->name);
        }
        value_free(pv);
        return arg;
    }
    if (v2 && pv->kind == V_MAP)
        return pv;
    err_set(msg, n, v2 ? "jsonrpc: params must be an array or an object"
                        : "jsonrpc: params must be an array holding the one argument, like [ARG]");
    value_free(pv);
    return NULL;
}

/* The JSON-RPC 2.0 code for how a catalog call ended; 0 for success. */
static int call_code(catalog_status st)
{
    switch (st) {
    case CATALOG_OK: return 0;
    case CATALOG_NOT_SERVED: return JSONRPC_METHOD_NOT_FOUND;
    case CATALOG_BAD_ARGUMENT: return JSONRPC_INVALID_PARAMS;
    default: return JSONRPC_SERVER_ERROR;
    }
}

/* Answers one request object at text[0..len). Appends nothing for a 2.0 notification.
 * in_batch: the request is an item of a 2.0 batch, so its errors are in 2.0 form too. */
static void handle_request(const char *text, size_t len, bool in_batch, buf *out)
{
    static __thread members ms;
    request rq = {text, in_batch, NULL, 0};
    char msg[512], err[256];
    if (scan_members(text, len, &ms, err, sizeof err) < 0 || ms.top != JT_OBJ_BEGIN) {
        reply_error(out, &rq, JSONRPC_INVALID_REQUEST, "jsonrpc: a request is a JSON object");
        return;
    }
    if (ms.overflow) {
        reply_error(out, &rq, JSONRPC_INVALID_REQUEST, "jsonrpc: a request has at most 1024 members");
        return;
    }
    const member *ver = find_member(&ms, text, "jsonrpc");
    const member *idm = find_member(&ms, text, "id");
    const member *mm = find_member(&ms, text, "method");
    const member *pm = find_member(&ms, text, "params");
    if (idm) {
        rq.id = text + idm->voff;
        rq.idlen = idm->vlen;
    }
    if (ver) {
        if (ver->vlen != 5 || memcmp(text + ver->voff, "\"2.0\"", 5) != 0) {
            rq.v2 = true;
            reply_error(out, &rq, JSONRPC_INVALID_REQUEST, "jsonrpc: \"jsonrpc\" must be \"2.0\"");
            return;
        }
        rq.v2 = true;
        if (idm && idm->vtype != JT_STRING && idm->vtype != JT_NUMBER && idm->vtype != JT_NULL) {
            rq.id = NULL;
            reply_error(out, &rq, JSONRPC_INVALID_REQUEST, "jsonrpc: id must be a string, a number or null");
            return;
        }
    }
    bool notification = rq.v2 && !idm;
    char *name = mm ? method_token(text + mm->voff, mm->vlen) : NULL;
    if (!name) { /* not a valid request, so not a notification either: always answered */
        reply_error(out, &rq, JSONRPC_INVALID_REQUEST,
                    mm ? "jsonrpc: method must be a string" : "jsonrpc: request has no method");
        return;
    }
    const catalog_method *m = catalog_find(name, true, msg, sizeof msg);
    value *arg = NULL, *result = NULL;
    int code = 0;
    if (!m) {
        code = JSONRPC_METHOD_NOT_FOUND;
    } else if (!pm || (pm->vtype == JT_NULL)) {
        if (rq.v2) {
            arg = value_null();
        } else {
            missing_params(&ms, text, msg, sizeof msg);
            code = JSONRPC_INVALID_PARAMS;
        }
    } else if (!(arg = params_argument(m, text, pm, rq.v2, msg, sizeof msg))) {
        code = JSONRPC_INVALID_PARAMS;
    }
    if (!code)
        code = call_code(catalog_call(m, arg, &result, msg, sizeof msg));
    if (code && !esc_utf8_valid(text, len)) { /* say why the name or argument looks odd */
        size_t l = strlen(msg);
        err_set(msg + l, sizeof msg - l, " (invalid UTF-8 in the request was replaced by U+FFFD)");
    }
    if (!notification) {
        if (code)
            reply_error(out, &rq, code, msg);
        else
            reply_ok(out, &rq, result);
    }
    value_free(arg);
    value_free(result);
    free(name);
}

static void handle_batch(const char *text, size_t len, buf *out)
{
    members *items = malloc(sizeof *items);
    request rq = {text, true, NULL, 0};
    char err[256];
    if (!items || scan_members(text, len, items, err, sizeof err) < 0) {
        reply_error(out, &rq, JSONRPC_INTERNAL_ERROR, "out of memory");
        free(items);
        return;
    }
    if (items->n == 0 || items->overflow) {
        reply_error(out, &rq, JSONRPC_INVALID_REQUEST,
                    items->n ? "jsonrpc: a batch holds at most 1024 requests" : "jsonrpc: empty batch");
        free(items);
        return;
    }
    size_t mark = out->len;
    buf_putc(out, '[');
    size_t before = out->len;
    for (size_t i = 0; i < items->n; i++) {
        size_t at = out->len;
        if (out->len > before)
            buf_putc(out, ',');
        size_t start = out->len;
        handle_request(text + items->m[i].voff, items->m[i].vlen, true, out);
        if (out->len == start) /* a notification: nothing to say */
            out->len = at;
    }
    if (out->len == before)
        out->len = mark; /* all notifications: no reply at all */
    else
        buf_putc(out, ']');
    free(items);
}

/* Explains bytes that cannot start a request, guessing where they came from. */
static void not_json_hint(const char *p, size_t n, char *err, size_t errlen)
{
    size_t look = n < 8 ? n : 8;
    bool text = true;
    for (size_t i = 0; i < look; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f)
            text = false;
    }
    const char *hint = "";
    if (!text)
        hint = " (binary data: is a gob client talking to the JSON-RPC server?)";
    else if (n >= 3 && memcmp(p, "-e ", 3) == 0)
        hint = " (the shell's echo printed its -e option: run the line in bash, or use printf)";
    else if (n >= 4 && (memcmp(p, "GET ", 4) == 0 || memcmp(p, "POST", 4) == 0))
        hint = " (an HTTP request: this server speaks JSON-RPC over plain TCP, not HTTP)";
    if (text)
        err_set(err, errlen, "jsonrpc: a request must be a JSON object; got '%c' at the start of a message%s",
                 p[0], hint);
    else
        err_set(err, errlen, "jsonrpc: a request must be a JSON object; got byte 0x%02x at the start of a message%s",
                 (unsigned char)p[0], hint);
}

/* Readies the scan for the next message; what it has examined so far stays counted. */
static void rescan(jsonscan_state *scan)
{
    size_t examined = scan->examined;
    jsonscan_init(scan);
    scan->examined = examined;
}

int jsonrpc_serve(buf *in, buf *out, size_t max_message, bool eof, jsonscan_state *scan,
                  char *err, size_t errlen)
{
    jsonscan_state fresh;
    if (!scan) {
        scan = &fresh;
        jsonscan_init(scan);
    }
    for (;;) {
        const char *p = (const char *)buf_data(in);
        size_t n = buf_size(in), start, end;
        size_t ws = 0;
        while (ws < n && strchr(" \t\r\n", p[ws]))
            ws++;
        if (ws > 0) /* only before a message: the scan has not begun */
            rescan(scan);
        buf_consume(in, ws);
        p += ws;
        n -= ws;
        if (n == 0)
            return 0;
        size_t window = n > max_message ? max_message : n;
        request none = {p, false, NULL, 0};
        if (p[0] != '{' && p[0] != '[') {
            /* The first line, or 8 bytes, tell what this is, however the stream was split. */
            const char *nl = memchr(p, '\n', n < 8 ? n : 8);
            size_t look = nl ? (size_t)(nl - p) + 1 : n < 8 ? n : 8;
            if (look < 8 && !nl && !eof)
                return 0;
            not_json_hint(p, look, err, errlen);
            reply_error(out, &none, JSONRPC_PARSE_ERROR, err);
            buf_putc(out, '\n');
            buf_clear(in);
            rescan(scan);
            return -1;
        }
        char why[200];
        bool capped = n >= max_message;
        /* the scan goes on from where the last read left it, so a request that comes in many
         * small reads is looked at once */
        int r = jsonscan_resume(scan, p, window, eof && !capped ? JSONSCAN_FINAL : 0, &start, &end,
                                NULL, NULL, why, sizeof why);
        /* Before a request is understood, its version is guessed from the bytes up to the
         * fault, which are the same however the stream was split. */
        if (r < 0 || (r == 0 && capped))
            none.v2 = memmem(p, r == 0 ? window : end, "\"jsonrpc\"", 9) != NULL;
        if (r != 0)
            rescan(scan); /* spent: the next message starts a new scan */
        if (r == 0 && capped) {
            err_set(err, errlen, "jsonrpc: request larger than %zu bytes", max_message);
            reply_error(out, &none, JSONRPC_INVALID_REQUEST, err);
            buf_putc(out, '\n');
            buf_clear(in);
            return -1;
        }
        if (r == 0)
            return 0;
        if (r < 0) {
            err_set(err, errlen, "jsonrpc: malformed JSON: %s", why);
            reply_error(out, &none, JSONRPC_PARSE_ERROR, err);
            buf_putc(out, '\n');
            buf_clear(in);
            return -1;
        }
        size_t before = out->len;
        if (p[start] == '[')
            handle_batch(p + start, end - start, out);
        else
            handle_request(p + start, end - start, false, out);
        if (out->len > before) /* one reply per line, as Go's json.Encoder writes them */
            buf_putc(out, '\n');
        buf_consume(in, end);
    }
}

int jsonrpc_write_request(buf *out, const char *name, const value *arg, uint64_t id)
{
    buf_puts(out, "{\"method\":");
    put_json_string(out, name);
    buf_puts(out, ",\"params\":[");
    if (jsonval_write(arg, out) < 0)
        return -1;
    return buf_printf(out, "],\"id\":%llu}\n", (unsigned long long)id);
}

void jsonrpc_reply_done(jsonrpc_reply *r)
{
    if (!r)
        return;
    value_free(r->id);
    value_free(r->result);
    free(r->error);
    memset(r, 0, sizeof *r);
}

long jsonrpc_read_reply(const char *p, size_t n, bool eof, jsonrpc_reply *r, char *err,
                        size_t errlen)
{
    size_t start, end;
    char why[200];
    memset(r, 0, sizeof *r);
    size_t ws = 0;
    while (ws < n && strchr(" \t\r\n", p[ws]) && p[ws])
        ws++;
    if (ws == n) { /* nothing but the white space after an earlier reply */
        if (!eof)
            return 0;
        err_set(err, errlen, "the server closed the connection before replying");
        return -1;
    }
    int s = jsonscan(p, n, eof ? JSONSCAN_FINAL : 0, &start, &end, NULL, NULL, why, sizeof why);
    if (s == 0)
        return 0;
    if (s < 0) {
        err_set(err, errlen, "the reply is not JSON: %s", why);
        return -1;
    }
    value *v = jsonval_parse(p + start, end - start, why, sizeof why);
    if (!v || v->kind != V_MAP) {
        err_set(err, errlen, "the reply is not a JSON-RPC reply object%s%s", v ? "" : ": ", v ? "" : why);
        value_free(v);
        return -1;
    }
    const value *id = value_get(v, "id"), *res = value_get(v, "result"), *e = value_get(v, "error");
    r->id = id ? value_clone(id) : value_null();
    if (e && e->kind != V_NULL) {
        buf b;
        buf_init(&b, 0);
        if (e->kind == V_STRING) {
            buf_append(&b, e->u.s.p, e->u.s.len);
        } else { /* a 2.0 error object */
            const value *code = value_get(e, "code"), *m = value_get(e, "message"),
                        *data = value_get(e, "data");
            if (m && m->kind == V_STRING)
                buf_append(&b, m->u.s.p, m->u.s.len);
            if (code && code->kind == V_INT)
                buf_printf(&b, " (code %lld)", (long long)code->u.i);
            if (data && data->kind == V_STRING)
                buf_printf(&b, ": %s", data->u.s.p);
        }
        r->error = buf_take(&b);
    } else {
        r->result = res ? value_clone(res) : value_null();
    }
    value_free(v);
    return (long)end;
}
