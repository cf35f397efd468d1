/* tui_sniff.c -- the Sniff pane's calls: the sniffer's hooks keep the last calls and the
 * bytes to explain them within their caps; snapshots and explanations for the main thread. */
#include "tui_sniff_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/i18n.h"
#include "tui_text.h"

int tsn_init(tui_sniff *s)
{
    memset(s, 0, sizeof *s);
    if (!(s->calls = calloc(TUI_SNIFF_CALLS, sizeof *s->calls)))
        return -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    s->next_id = 1;
    return 0;
}

static void free_conns(tui_sniff *s)
{
    for (size_t i = 0; i < s->nconns; i++)
        for (int d = 0; d < 2; d++)
            buf_done(&s->conns[i].dir[d]);
    s->nconns = 0;
    s->bytes = 0;
}

void tsn_done(tui_sniff *s)
{
    free_conns(s);
    free(s->conns);
    free(s->calls);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

void tsn_clear(tui_sniff *s)
{
    free_conns(s);
    s->head = s->n = 0;
    s->next_id = 1;
    tui_sniff_mode mode = s->info.mode;
    memset(&s->info, 0, sizeof s->info);
    s->info.mode = mode;
    s->gen++;
}

/* ---- the bytes kept per connection ---- */

static tsn_conn *find_conn(tui_sniff *s, uint64_t id)
{
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i].id == id)
            return &s->conns[i];
    return NULL;
}

static tsn_conn *add_conn(tui_sniff *s, uint64_t id)
{
    if (s->nconns == s->capconns) {
        size_t cap = s->capconns ? 2 * s->capconns : 16;
        tsn_conn *c = realloc(s->conns, cap * sizeof *c);
        if (!c)
            return NULL;
        s->conns = c;
        s->capconns = cap;
    }
    tsn_conn *c = &s->conns[s->nconns++];
    memset(c, 0, sizeof *c);
    c->id = id;
    buf_init(&c->dir[0], TUI_SNIFF_KEEP);
    buf_init(&c->dir[1], TUI_SNIFF_KEEP);
    return c;
}

/* Forgets connection c's bytes: its calls say they were dropped. */
static void drop_conn(tui_sniff *s, tsn_conn *c, bool say)
{
    for (size_t k = 0; say && k < s->n; k++) {
        tui_sniff_call *call = &s->calls[(s->head + k) % TUI_SNIFF_CALLS];
        if (call->conn_id == c->id && call->row.has_bytes) {
            call->row.has_bytes = false;
            call->bytes_dropped = true;
        }
    }
    for (int d = 0; d < 2; d++) {
        s->bytes -= buf_size(&c->dir[d]);
        buf_done(&c->dir[d]);
    }
    *c = s->conns[--s->nconns];
}

/* Makes room for need more bytes beside keep: the connections whose newest call is the
 * oldest lose their bytes first. Returns whether there is room now. */
static bool make_room(tui_sniff *s, uint64_t keep, size_t need)
{
    while (s->bytes + need > TUI_SNIFF_BYTES) {
        tsn_conn *oldest = NULL;
        for (size_t i = 0; i < s->nconns; i++)
            if (s->conns[i].id != keep && (!oldest || s->conns[i].last_call < oldest->last_call))
                oldest = &s->conns[i];
        if (!oldest)
            return false;
        drop_conn(s, oldest, true);
    }
    return true;
}

/* Appends what the sniffer kept of direction d of connection id since the last call,
 * when it is more than what is here (the sniffer's copy only grows). Returns the
 * connection (making room may move it), or NULL when there is no room. */
static tsn_conn *catch_up(tui_sniff *s, uint64_t id, int d, const uint8_t *p, size_t len)
{
    tsn_conn *c = find_conn(s, id);
    size_t have = buf_size(&c->dir[d]);
    if (len <= have)
        return c;
    if (!make_room(s, id, len - have) || !(c = find_conn(s, id)) || buf_append(&c->dir[d], p + have, len - have) < 0)
        return NULL;
    s->bytes += len - have;
    return c;
}

/* Keeps the bytes of call c (copied into k): true when they are kept. */
static bool keep_bytes(tui_sniff *s, const sniff_call *c, tui_sniff_call *k)
{
    if (!c->c2s || c->req_end > c->c2s_len || (c->rep_end > c->rep_off && (!c->s2c || c->rep_end > c->s2c_len))) {
        k->bytes_past = true;
        return false;
    }
    tsn_conn *conn = find_conn(s, c->conn_id);
    if (conn && buf_size(&conn->dir[0]) > c->c2s_len) /* not the same bytes: start again */
        drop_conn(s, conn, true);
    if (!find_conn(s, c->conn_id) && !add_conn(s, c->conn_id))
        return false;
    if (!(conn = catch_up(s, c->conn_id, 0, c->c2s, c->c2s_len)) ||
        (c->s2c && !(conn = catch_up(s, c->conn_id, 1, c->s2c, c->s2c_len)))) {
        k->bytes_dropped = true;
        if ((conn = find_conn(s, c->conn_id)) && conn->ncalls == 0)
            drop_conn(s, conn, false);
        return false;
    }
    conn->last_call = k->row.id;
    conn->ncalls++;
    return true;
}

/* The oldest call leaves the list, and its connection's bytes when no other call of it
 * is left. */
static void drop_oldest(tui_sniff *s)
{
    tui_sniff_call *old = &s->calls[s->head];
    tsn_conn *conn = old->row.has_bytes ? find_conn(s, old->conn_id) : NULL;
    if (conn && --conn->ncalls == 0)
        drop_conn(s, conn, false);
    s->head = (s->head + 1) % TUI_SNIFF_CALLS;
    s->n--;
    s->info.dropped++;
}

static void copy_text(char *out, size_t cap, const char *text, bool *had)
{
    if (had)
        *had = text != NULL;
    snprintf(out, cap, "%s", text ? text : "");
}

void tui_sniff_take_call(tui_sniff *s, const sniff_call *c)
{
    pthread_mutex_lock(&s->mu);
    if (s->n == TUI_SNIFF_CALLS)
        drop_oldest(s);
    tui_sniff_call *k = &s->calls[(s->head + s->n) % TUI_SNIFF_CALLS];
    memset(k, 0, sizeof *k);
    k->row.id = s->next_id++;
    k->row.proto = c->proto;
    snprintf(k->row.client, sizeof k->row.client, "%s", c->client);
    snprintf(k->row.server, sizeof k->row.server, "%s", c->server);
    copy_text(k->row.method, sizeof k->row.method, c->method, NULL);
    copy_text(k->row.status, sizeof k->row.status, c->status, NULL);
    k->row.start_us = c->start_us;
    k->row.end_us = c->end_us;
    k->conn_id = c->conn_id;
    k->n = c->n;
    copy_text(k->args, sizeof k->args, c->args, &k->had_args);
    copy_text(k->result, sizeof k->result, c->result, &k->had_result);
    copy_text(k->error, sizeof k->error, c->error, NULL);
    copy_text(k->note, sizeof k->note, c->note, NULL);
    k->req_off = c->req_off;
    k->req_end = c->req_end;
    k->rep_off = c->rep_off;
    k->rep_end = c->rep_end;
    k->from_start = c->from_start;
    s->n++; /* before its bytes: a connection dropped for room marks it too */
    k->row.has_bytes = keep_bytes(s, c, k);
    s->info.calls++;
    s->gen++;
    pthread_mutex_unlock(&s->mu);
}

void tui_sniff_take_conn(tui_sniff *s, const sniff_conn_event *ev)
{
    pthread_mutex_lock(&s->mu);
    if (!ev->ended) {
        s->info.conns++;
        if (ev->proto == SNIFF_UNKNOWN)
            s->info.unknown++;
    }
    snprintf(s->info.last_conn, sizeof s->info.last_conn, "%s → %s: %s", ev->client, ev->server,
             ev->text ? ev->text : "");
    s->gen++;
    pthread_mutex_unlock(&s->mu);
}

/* ---- what the main thread reads ---- */

unsigned tui_sniff_gen(tui_sniff *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned g = s->gen;
    pthread_mutex_unlock(&s->mu);
    return g;
}

void tui_sniff_get_info(tui_sniff *s, tui_sniff_info *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->info;
    pthread_mutex_unlock(&s->mu);
}

/* The place in the list of the call with id sel (0: the newest); the lock held, the list
 * not empty. */
static size_t place_of(const tui_sniff *s, uint64_t sel)
{
    uint64_t oldest = s->calls[s->head].row.id;
    if (sel == 0 || sel >= oldest + s->n)
        return s->n - 1;
    return sel < oldest ? 0 : (size_t)(sel - oldest);
}

static const tui_sniff_call *call_at(const tui_sniff *s, size_t place)
{
    return &s->calls[(s->head + place) % TUI_SNIFF_CALLS];
}

void tui_sniff_snapshot(tui_sniff *s, uint64_t sel, tui_sniff_view *v)
{
    pthread_mutex_lock(&s->mu);
    v->info = s->info;
    v->total = s->n;
    v->nrows = v->first = 0;
    v->sel = -1;
    v->follow = sel == 0;
    if (s->n) {
        size_t at = place_of(s, sel), first = at > TUI_SNIFF_VIEW_ROWS / 2 ? at - TUI_SNIFF_VIEW_ROWS / 2 : 0;
        if (s->n > TUI_SNIFF_VIEW_ROWS && first > s->n - TUI_SNIFF_VIEW_ROWS)
            first = s->n - TUI_SNIFF_VIEW_ROWS;
        v->first = first;
        for (size_t i = first; i < s->n && v->nrows < TUI_SNIFF_VIEW_ROWS; i++)
            v->rows[v->nrows++] = call_at(s, i)->row;
        v->sel = (int)(at - first);
        v->detail = *call_at(s, at);
    }
    pthread_mutex_unlock(&s->mu);
}

uint64_t tui_sniff_move(tui_sniff *s, uint64_t sel, int delta)
{
    pthread_mutex_lock(&s->mu);
    uint64_t id = 0;
    if (s->n) {
        long at = (long)place_of(s, sel) + delta;
        if (at < 0)
            at = 0;
        if (at >= (long)s->n)
            at = (long)s->n - 1;
        id = call_at(s, (size_t)at)->row.id;
    }
    pthread_mutex_unlock(&s->mu);
    return id;
}

static int append(buf *b, const uint8_t *p, size_t n)
{
    return n ? buf_append(b, p, n) : 0;
}

/* Copies the kept bytes of the call with id into b (b->call too). Returns 0, or -1 with
 * a reason. */
static int copy_bytes(tui_sniff *s, uint64_t id, tui_sniff_bytes *b, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    uint64_t oldest = s->n ? s->calls[s->head].row.id : 0;
    if (!s->n || id < oldest || id >= oldest + s->n) {
        err_set(err, errlen, _("call #%llu is no longer in the list (it keeps the last %d calls)"),
                (unsigned long long)id, TUI_SNIFF_CALLS);
        goto out;
    }
    b->call = *call_at(s, (size_t)(id - oldest));
    const tui_sniff_call *c = &b->call;
    tsn_conn *conn = c->row.has_bytes ? find_conn(s, c->conn_id) : NULL;
    if (!conn) {
        if (c->bytes_past)
            err_set(err, errlen, _("call #%llu came after the first %d MiB of its connection each way, which is "
                                   "all that is kept of it"), (unsigned long long)id, TUI_SNIFF_KEEP >> 20);
        else
            err_set(err, errlen, _("the bytes of call #%llu were dropped to make room for newer calls (%d MiB are "
                                   "kept in all)"), (unsigned long long)id, TUI_SNIFF_BYTES >> 20);
        goto out;
    }
    size_t rep = c->rep_end < buf_size(&conn->dir[1]) ? c->rep_end : buf_size(&conn->dir[1]);
    if (b->call.rep_off > rep) /* no reply */
        b->call.rep_off = rep;
    b->call.rep_end = rep;
    if (append(&b->conn[0], buf_data(&conn->dir[0]), c->req_end) < 0 ||
        append(&b->conn[1], buf_data(&conn->dir[1]), rep) < 0) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int tui_sniff_explain(tui_sniff *s, uint64_t id, tui_sniff_bytes *b, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    for (int d = 0; d < 2; d++) {
        buf_init(&b->share[d], 0);
        buf_init(&b->conn[d], 0);
        explain_init(&b->ex[d]);
    }
    if (copy_bytes(s, id, b, err, errlen) < 0)
        return -1;
    const tui_sniff_call *c = &b->call;
    sniff_call sc = {
        .conn_id = c->conn_id, .n = c->n, .proto = c->row.proto, .method = c->row.method,
        .args = c->had_args ? c->args : NULL, .result = c->had_result ? c->result : NULL,
        .error = c->error[0] ? c->error : NULL, .status = c->row.status, .note = c->note[0] ? c->note : NULL,
        .start_us = c->row.start_us, .end_us = c->row.end_us,
        .c2s = buf_data(&b->conn[0]), .s2c = buf_data(&b->conn[1]),
        .c2s_len = buf_size(&b->conn[0]), .s2c_len = buf_size(&b->conn[1]),
        .req_off = c->req_off, .req_end = c->req_end, .rep_off = c->rep_off, .rep_end = c->rep_end,
        .from_start = c->from_start,
    };
    snprintf(sc.client, sizeof sc.client, "%s", c->row.client);
    snprintf(sc.server, sizeof sc.server, "%s", c->row.server);
    if (sniff_explain_call(&sc, &b->ex[0], &b->ex[1]) < 0) {
        err_set(err, errlen, _("call #%llu cannot be explained (%s)"), (unsigned long long)id,
                sniff_proto_name(c->row.proto));
        return -1;
    }
    if (append(&b->share[0], buf_data(&b->conn[0]) + c->req_off, c->req_end - c->req_off) < 0 ||
        append(&b->share[1], buf_data(&b->conn[1]) + c->rep_off, c->rep_end - c->rep_off) < 0) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void tui_sniff_bytes_done(tui_sniff_bytes *b)
{
    for (int d = 0; d < 2; d++) {
        buf_done(&b->share[d]);
        buf_done(&b->conn[d]);
        explain_done(&b->ex[d]);
    }
}

/* ---- pure helpers ---- */

int64_t tui_sniff_pace_us(int64_t gap_us, double speed, bool *cut)
{
    *cut = false;
    if (gap_us <= 0 || speed <= 0)
        return 0;
    double w = (double)gap_us / speed;
    if (w > TUI_SNIFF_SILENCE_US) {
        *cut = true;
        return TUI_SNIFF_SILENCE_US;
    }
    return (int64_t)w;
}

/* The end of text that fits width - 1 columns, after "…". */
static void keep_end(const char *text, int width, char *out, size_t cap)
{
    const char *p = text;
    while (*p && tui_text_width(p) > width - 1) {
        p++;
        while ((*p & 0xc0) == 0x80)
            p++;
    }
    snprintf(out, cap, "…%s", p);
}

/* text cut to width - 1 columns, then "…". */
static void keep_start(const char *text, int width, char *out, size_t cap)
{
    char cell[512];
    tui_text_pad(cell, sizeof cell, text, width - 1, false);
    size_t n = strlen(cell);
    while (n && cell[n - 1] == ' ')
        n--;
    snprintf(out, cap, "%.*s…", (int)n, cell);
}

void tui_sniff_short_method(const char *method, int width, char *out, size_t cap)
{
    if (width < 2 || tui_text_width(method) <= width) {
        snprintf(out, cap, "%s", method);
        return;
    }
    if (method[0] == '/' && strchr(method + 1, '/')) { /* gRPC: /package.Service/Method */
        const char *slash = strchr(method + 1, '/'), *svc = method + 1;
        for (const char *p = method + 1; p < slash; p++)
            if (*p == '.')
                svc = p + 1;
        if (tui_text_width(svc) + 1 <= width) {
            snprintf(out, cap, "…%s", svc);
            return;
        }
        keep_end(slash + 1, width, out, cap);
        return;
    }
    const char *sp = strchr(method, ' ');
    if (sp && sp > method && sp[1] == '/') { /* HTTP: the verb and the path's start */
        keep_start(method, width, out, cap);
        return;
    }
    for (const char *dot = strchr(method, '.'); dot; dot = strchr(dot + 1, '.'))
        if (tui_text_width(dot + 1) + 1 <= width) { /* Service.Method: from a dot on */
            snprintf(out, cap, "…%s", dot + 1);
            return;
        }
    keep_end(method, width, out, cap);
}
