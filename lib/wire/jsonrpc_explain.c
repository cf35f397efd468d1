/* jsonrpc_explain.c -- JSON-RPC bytes explained token by token: what each member of a
 * request or reply is for, and which bytes are framing, field names or values. */
#include "wire/jsonrpc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/i18n.h"
#include "wire/jsonscan.h"

static bool is_scalar(jtok_type t) { return t >= JT_STRING; }

/* What a top-level member means, or NULL for one nobody reads. *name is set to the
 * member's name for method, id and jsonrpc, whose meaning reads "NAME: MEANING" (or
 * "NAME VALUE: MEANING"), else to NULL. */
static const char *top_key_meaning(const char *k, size_t kl, bool response, const char **name)
{
    *name = NULL;
    if (kl == 6 && strncasecmp(k, "method", 6) == 0) {
        *name = "method";
        return _("which Service.Method to call");
    }
    if (kl == 2 && strncasecmp(k, "id", 2) == 0) {
        *name = "id";
        return response ? _("the id of the request this answers")
                        : _("the caller's number for this call; the reply carries it back");
    }
    if (kl == 7 && strncasecmp(k, "jsonrpc", 7) == 0) {
        *name = "jsonrpc";
        return _("protocol version 2.0");
    }
    if (kl == 6 && strncasecmp(k, "params", 6) == 0)
        return _("key \"params\": the arguments follow");
    if (kl == 6 && strncasecmp(k, "result", 6) == 0)
        return _("key \"result\": the method's reply follows");
    if (kl == 5 && strncasecmp(k, "error", 5) == 0)
        return _("key \"error\"");
    return NULL;
}

/* Shows a scalar token's text, shortened, for a meaning line. */
static void token_text(const char *p, const jtok *t, char *out, size_t n)
{
    size_t len = t->len < 48 ? t->len : 48;
    while (len < t->len && len > 0 && ((unsigned char)p[t->off + len] & 0xC0) == 0x80)
        len--; /* not inside a UTF-8 character */
    snprintf(out, n, "%.*s%s", (int)len, p + t->off, t->len > len ? "..." : "");
}

static const char *scalar_kind(jtok_type t)
{
    switch (t) {
    case JT_STRING: return "string";
    case JT_NUMBER: return "number";
    case JT_TRUE:
    case JT_FALSE: return "bool";
    default: return "null";
    }
}

/* One message being explained, token by token, as jsonscan finds them: nothing but the
 * token after the current one is held, so memory does not grow with the message. */
typedef struct json_walk {
    const char *p;
    explain *e;
    bool response;
    size_t base;          /* where the scanned bytes start in p */
    size_t cursor;        /* the first byte no span has taken yet */
    bool payload;         /* inside params or result */
    int payload_depth;
    const char *key;      /* the member name a scalar value belongs to */
    size_t keylen;
    jtok held;            /* the token to explain once the next one is known */
    bool have, skip;      /* held is set; held was taken as the previous key's value */
} json_walk;

/* Explains token t, v being the token after it (NULL at the end). Returns true when the
 * span took v as well. */
static bool explain_tok(json_walk *w, const jtok *t, const jtok *v)
{
    const char *p = w->p;
    explain *e = w->e;
    bool response = w->response;
    size_t cursor = w->cursor;
    size_t tend = t->off + t->len;
    char txt[64];
    w->cursor = tend;
    if (t->depth == 0) {
        const char *words = t->type == JT_OBJ_BEGIN
                                ? (response ? _("{ starts the reply object")
                                            : _("{ starts the request object"))
                                : (response ? _("} ends the reply") : _("} ends the request"));
        explain_add(e, cursor, tend - cursor, 1, SPAN_FRAME, "json", "%s", words);
        return false;
    }
    if (t->type == JT_KEY && t->depth == 1) {
        const char *k = p + t->off + 1;
        size_t kl = t->len - 2;
        const char *name;
        const char *meaning = top_key_meaning(k, kl, response, &name);
        bool carries = (kl == 6 && (strncasecmp(k, "params", 6) == 0 || strncasecmp(k, "result", 6) == 0)) ||
                       (kl == 5 && strncasecmp(k, "error", 5) == 0 && v && v->type != JT_NULL);
        if (v && !carries && is_scalar(v->type)) {
            token_text(p, v, txt, sizeof txt);
            if (kl == 5 && strncasecmp(k, "error", 5) == 0)
                explain_add(e, cursor, v->off + v->len - cursor, 1, SPAN_FRAME, "json", "%s",
                            _("error: null, the call succeeded"));
            else if (name) /* method "X": which Service.Method to call */
                explain_add(e, cursor, v->off + v->len - cursor, 1, SPAN_FRAME, "json",
                            _("%s %s: %s"), name, txt, meaning);
            else
                explain_add(e, cursor, v->off + v->len - cursor, 1, SPAN_FRAME, "json",
                            _("\"%.*s\" %s: an extra member nobody reads"), (int)kl, k, txt);
            w->cursor = v->off + v->len;
            return true;
        }
        if (name)
            explain_add(e, cursor, v ? v->off - cursor : tend - cursor, 1, SPAN_FRAME, "json",
                        _("%s: %s"), name, meaning);
        else
            explain_add(e, cursor, v ? v->off - cursor : tend - cursor, 1, SPAN_FRAME, "json",
                        "%s", meaning ? meaning : _("an extra member nobody reads"));
        w->cursor = v ? v->off : tend;
        w->payload = true;
        w->payload_depth = 1;
        return false;
    }
    if (!w->payload) {
        explain_add(e, cursor, tend - cursor, 1, SPAN_FRAME, "json", "%s",
                    _("part of an extra member"));
        return false;
    }
    int depth = 1 + (t->depth - w->payload_depth);
    if (t->type == JT_KEY) {
        w->key = p + t->off + 1;
        w->keylen = t->len - 2;
        size_t kend = v ? v->off : tend;
        explain_add(e, cursor, kend - cursor, depth, SPAN_TYPE, "json",
                    _("field name \"%.*s\" (JSON repeats it in every message)"), (int)w->keylen,
                    w->key);
        w->cursor = kend;
        return false;
    }
    if (t->type == JT_ARR_BEGIN || t->type == JT_OBJ_BEGIN) {
        bool is_params_list = t->depth == w->payload_depth && t->type == JT_ARR_BEGIN && !response;
        explain_add(e, cursor, tend - cursor, depth, is_params_list ? SPAN_FRAME : SPAN_TYPE, "json", "%s",
                    is_params_list ? _("[ the params list: net/rpc sends exactly one argument")
                    : t->type == JT_OBJ_BEGIN ? _("{ an object (a struct) starts")
                                              : _("[ a list starts"));
        w->key = NULL;
        return false;
    }
    if (t->type == JT_ARR_END || t->type == JT_OBJ_END) {
        bool is_params_list = t->depth == w->payload_depth && t->type == JT_ARR_END && !response;
        explain_add(e, cursor, tend - cursor, depth, is_params_list ? SPAN_FRAME : SPAN_TYPE, "json", "%s",
                    is_params_list ? _("] end of params")
                    : t->type == JT_OBJ_END ? _("} end of the object") : _("] end of the list"));
        if (t->depth == w->payload_depth)
            w->payload = false;
        w->key = NULL;
        return false;
    }
    token_text(p, t, txt, sizeof txt);
    if (w->key)
        explain_add(e, cursor, tend - cursor, depth, SPAN_DATA, "json", _("%.*s = %s (%s)"), (int)w->keylen, w->key, txt,
                    scalar_kind(t->type));
    else if (t->type == JT_STRING)
        explain_add(e, cursor, tend - cursor, depth, SPAN_DATA, "json",
                    _("string %s: %zu bytes of UTF-8 between quotes"),
                    txt, t->len - 2);
    else
        explain_add(e, cursor, tend - cursor, depth, SPAN_DATA, "json", "%s %s", scalar_kind(t->type), txt);
    w->key = NULL;
    if (t->depth == w->payload_depth)
        w->payload = false;
    return false;
}

/* jsonscan's callback: explains the token held before this one, now that its successor
 * is known, and holds this one. */
static int walk_tok(const jtok *t, void *ctx)
{
    json_walk *w = ctx;
    jtok next = *t;
    next.off += w->base;
    if (w->have) {
        if (w->skip)
            w->skip = false;
        else
            w->skip = explain_tok(w, &w->held, &next);
    }
    w->held = next;
    w->have = true;
    return 0;
}

/* Explains the message p[start..end), which jsonscan found whole in p[base..n). */
static void explain_one(const char *p, size_t n, size_t base, size_t start, size_t end,
                        bool response, int index, explain *e)
{
    explain_add(e, start, end - start, 0, SPAN_FRAME, "json",
                response ? _("JSON-RPC reply #%d, %zu bytes") : _("JSON-RPC request #%d, %zu bytes"),
                index, end - start);
    json_walk w = {.p = p, .e = e, .response = response, .base = base, .cursor = start};
    size_t s2, e2;
    char why[8];
    jsonscan(p + base, n - base, JSONSCAN_FINAL, &s2, &e2, walk_tok, &w, why, sizeof why);
    if (w.have && !w.skip)
        explain_tok(&w, &w.held, NULL);
    if (w.cursor < end)
        explain_add(e, w.cursor, end - w.cursor, 1, SPAN_FRAME, "json", "%s", _("punctuation"));
}

int jsonrpc_explain(const char *p, size_t n, bool response, explain *e)
{
    size_t off = 0;
    int index = 1;
    while (off < n) {
        size_t ws = off;
        while (ws < n && strchr(" \t\r\n", p[ws]))
            ws++;
        if (ws > off) {
            explain_add(e, off, ws - off, 0, SPAN_FRAME, "json",
                        "%s", _("white space between messages (Go's encoder ends each with a "
                                "newline)"));
            off = ws;
        }
        if (off >= n)
            break;
        size_t start, end;
        char why[200];
        /* the first scan only checks the message and finds its end; the second explains it */
        int r = jsonscan(p + off, n - off, JSONSCAN_FINAL, &start, &end, NULL, NULL, why, sizeof why);
        if (r != 1) {
            explain_add(e, off, n - off, 0, SPAN_ERROR, "json", _("not JSON: %s"), why);
            return -1;
        }
        explain_one(p, n, off, off + start, off + end, response, index++, e);
        off += end;
    }
    return 0;
}
