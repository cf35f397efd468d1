/* sniff_json.c -- JSON-RPC sniffed: each direction split into JSON values (jsonscan),
 * requests {"method","params","id"} paired with replies {"id","result","error"} by the
 * id's JSON text. Caught mid-way, a direction starts at the first '{' that opens a whole
 * JSON-RPC object, one after a newline preferably. */
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "capture/sniff_int.h"
#include "wire/jsonscan.h"
#include "wire/jsonval.h"

#define SCAN_MAX (64u << 10) /* where a mid-way boundary is looked for */
#define SYNC_TRIES 64        /* candidates tried per look */

typedef struct jroles {
    const char *s;
    bool method, reply;
} jroles;

static int role_key(const jtok *t, void *ctx)
{
    jroles *r = ctx;
    if (t->type != JT_KEY || t->depth != 1)
        return 0;
    const char *k = r->s + t->off;
    if (t->len == 8 && !memcmp(k, "\"method\"", 8))
        r->method = true;
    else if ((t->len == 8 && !memcmp(k, "\"result\"", 8)) ||
             (t->len == 7 && !memcmp(k, "\"error\"", 7)))
        r->reply = true;
    return 0;
}

sniff_found sniff_json_role(const uint8_t *p, size_t n)
{
    if (n == 0 || p[0] != '{')
        return SNIFF_FOUND_NONE;
    jroles r = {(const char *)p, false, false};
    size_t a, b;
    if (jsonscan(r.s, n, JSONSCAN_FINAL, &a, &b, role_key, &r, NULL, 0) != 1)
        return SNIFF_FOUND_NONE;
    if (r.method)
        return SNIFF_FOUND_CLIENT;
    return r.reply ? SNIFF_FOUND_SERVER : SNIFF_FOUND_NONE;
}

long sniff_json_sync(const uint8_t *p, size_t n)
{
    bool more = false;
    size_t scan = n < SCAN_MAX ? n : SCAN_MAX;
    int tries = 0; /* each candidate is scanned up to SCAN_MAX bytes: the work is capped */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < scan && tries < SYNC_TRIES; i++) {
            if (p[i] != '{' || (pass == 0 && i > 0 && p[i - 1] != '\n'))
                continue;
            size_t a, b, m = n - i < SCAN_MAX ? n - i : SCAN_MAX;
            tries++;
            int r = jsonscan((const char *)p + i, m, 0, &a, &b, NULL, NULL, NULL, 0);
            if (r == 0 && pass == 0)
                more = true;
            if (r == 1 && sniff_json_role(p + i, b) != SNIFF_FOUND_NONE)
                return (long)i;
        }
    return more ? -1 : -2;
}

/* ---- messages ---- */

/* The error member's text: a string as it is, an object by its message (and code), else
 * its JSON; NULL when null or absent. */
static char *error_text(const value *e)
{
    if (!e || e->kind == V_NULL)
        return NULL;
    if (e->kind == V_STRING)
        return sniff_cut(strdup(e->u.s.p));
    const value *m = value_get(e, "message"), *c = value_get(e, "code");
    if (m && m->kind == V_STRING && c && c->kind == V_INT)
        return sniff_cut(sniff_strf("%s (code %lld)", m->u.s.p, (long long)c->u.i));
    if (m && m->kind == V_STRING)
        return sniff_cut(strdup(m->u.s.p));
    return sniff_json_text(e);
}

static void request(sniff_conn *c, const value *v, uint64_t off, uint64_t end)
{
    const value *m = value_get(v, "method"), *pa = value_get(v, "params"), *id = value_get(v, "id");
    sniff_req r = {.method = strdup(m && m->kind == V_STRING ? m->u.s.p : ""),
                   .args = pa ? sniff_json_text(pa) : NULL, .off = off, .end = end,
                   .have_bytes = true, .start_us = sniff_dir_time(c, SNIFF_C2S, off)};
    if (!id || id->kind == V_NULL) { /* a notification: no reply is coming */
        sniff_rep rep = {.status = "notification", .end_us = r.start_us};
        sniff_emit(c, &r, &rep);
        sniff_req_done(&r);
        return;
    }
    r.key = sniff_json_text(id);
    sniff_wait_add(c, &r);
}

static void reply(sniff_conn *c, const value *v, uint64_t off, uint64_t end)
{
    const value *id = value_get(v, "id"), *res = value_get(v, "result");
    char *key = id ? sniff_json_text(id) : NULL;
    sniff_req q;
    bool found = key && sniff_wait_take(c, key, &q);
    char *err = error_text(value_get(v, "error"));
    char *result = !err && res ? sniff_json_text(res) : NULL;
    sniff_rep rep = {.result = result, .error = err, .status = err ? "error" : "ok",
                     .end_us = sniff_dir_time(c, SNIFF_S2C, end - 1), .off = off, .end = end};
    char *note = NULL;
    if (!found && c->mid_stream)
        note = strdup(_("the request went by before the capture began"));
    else if (!found)
        note = strdup(_("no request with this id was seen"));
    rep.note = note;
    sniff_emit(c, found ? &q : NULL, &rep);
    if (found)
        sniff_req_done(&q);
    free(note);
    free(key);
    free(err);
    free(result);
}

/* One JSON value text[0..len) at stream offset off of dir. */
static void message(sniff_conn *c, int dir, const char *text, size_t len, uint64_t off)
{
    value *v = jsonval_parse(text, len, NULL, 0);
    if (!v)
        return;
    size_t k = v->kind == V_LIST ? v->u.list.len : 1;
    for (size_t i = 0; i < k; i++) { /* a JSON-RPC 2.0 batch: each in turn */
        const value *o = v->kind == V_LIST ? v->u.list.items[i] : v;
        if (o->kind != V_MAP)
            continue;
        if (dir == SNIFF_C2S)
            request(c, o, off, off + len);
        else
            reply(c, o, off, off + len);
    }
    value_free(v);
}

typedef struct jconn {
    bool synced[2];
    jsonscan_state st[2]; /* the scan of the value at the front of each input */
} jconn;

/* Drops n bytes of dir's input; the value at the front is scanned afresh. */
static void consume(sniff_conn *c, int dir, size_t n)
{
    jsonscan_init(&((jconn *)c->dec)->st[dir]);
    sniff_dir_consume(c, dir, n);
}

static void json_feed(sniff_conn *c, int dir)
{
    jconn *j = c->dec;
    sniff_dir *d = &c->d[dir];
    for (;;) {
        const uint8_t *p = buf_data(&d->in);
        size_t n = buf_size(&d->in), ws = 0;
        while (ws < n && (p[ws] == ' ' || p[ws] == '\t' || p[ws] == '\r' || p[ws] == '\n'))
            ws++;
        if (ws) {
            consume(c, dir, ws);
            continue;
        }
        if (n == 0)
            return;
        if (!j->synced[dir]) {
            long at = sniff_json_sync(p, n);
            if (at < 0) {
                if (at == -2 || n > sniff_max_message(c))
                    consume(c, dir, n > 1 ? n - 1 : 0);
                return;
            }
            consume(c, dir, (size_t)at);
            j->synced[dir] = true;
            continue;
        }
        size_t a, b;
        int r = p[0] == '{' || p[0] == '['
                    ? jsonscan_resume(&j->st[dir], (const char *)p, n, 0, &a, &b, NULL, NULL, NULL,
                                      0)
                    : -1;
        if (r == 0 && n <= sniff_max_message(c))
            return;
        if (r != 1) {
            j->synced[dir] = false;
            consume(c, dir, 1);
            continue;
        }
        message(c, dir, (const char *)p + a, b - a, d->at + a);
        consume(c, dir, b);
    }
}

static int json_open(sniff_conn *c)
{
    jconn *j = calloc(1, sizeof *j);
    if (!j)
        return -1;
    j->synced[0] = j->synced[1] = !c->mid_stream;
    jsonscan_init(&j->st[0]);
    jsonscan_init(&j->st[1]);
    c->dec = j;
    return 0;
}

static void json_gap(sniff_conn *c, int dir)
{
    ((jconn *)c->dec)->synced[dir] = false;
    jsonscan_init(&((jconn *)c->dec)->st[dir]);
}

static void json_finish(sniff_conn *c, int64_t now_us)
{
    (void)c;
    (void)now_us;
}

static void json_done(sniff_conn *c)
{
    free(c->dec);
    c->dec = NULL;
}

const sniff_ops sniff_json_ops = {json_open, json_feed, json_gap, json_finish, json_done};
