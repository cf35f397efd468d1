/* sniff_conn.c -- the sniffer's bookkeeping per connection: each direction's bytes and
 * when they arrived, the requests waiting for replies, calls handed to the hook, and the
 * explaining state they carry. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "capture/sniff_int.h"
#include "wire/gob.h"
#include "wire/h2explain.h"
#include "wire/jsonval.h"
#include "wire/netrpc.h"

/* ---- text ---- */

char *sniff_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

char *sniff_join(const char *a, const char *b)
{
    if (!a || !b)
        return a || b ? strdup(a ? a : b) : NULL;
    buf o;
    buf_init(&o, 0);
    buf_puts(&o, a);
    while (*b) { /* each of b's "; "-separated parts that a does not already say */
        const char *e = strstr(b, "; ");
        size_t k = e ? (size_t)(e - b) : strlen(b);
        if (!memmem(a, strlen(a), b, k))
            buf_printf(&o, "; %.*s", (int)k, b);
        b += k + (e ? 2 : 0);
    }
    return buf_take(&o);
}

char *sniff_cut(char *s)
{
    if (!s || strlen(s) <= SNIFF_TEXT_MAX)
        return s;
    size_t k = SNIFF_TEXT_MAX - 3;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--;
    memcpy(s + k, "...", 4);
    return s;
}

char *sniff_json_text(const value *v)
{
    buf b;
    buf_init(&b, 1u << 26);
    if (jsonval_write(v, &b) < 0) {
        buf_done(&b);
        return NULL;
    }
    char *s = buf_take(&b);
    return sniff_cut(s);
}

/* ---- directions ---- */

size_t sniff_max_message(const sniff_conn *c)
{
    return c->s->o.max_message ? c->s->o.max_message : (4u << 20);
}

int sniff_dir_add(sniff_conn *c, int dir, const uint8_t *p, size_t n, int64_t ts_us, size_t cap)
{
    sniff_dir *d = &c->d[dir];
    if (buf_size(&d->in) + n > cap)
        return -1;
    if (n && buf_append(&d->in, p, n) < 0)
        return -1;
    if (!d->keep_stopped && n) {
        size_t room = c->s->o.keep_bytes > buf_size(&d->keep) ? c->s->o.keep_bytes - buf_size(&d->keep) : 0;
        if (n > room || buf_append(&d->keep, p, n) < 0)
            d->keep_stopped = true;
    }
    if (n) {
        if (d->nts == SNIFF_TS_MAX) { /* thin out: keep every other one after the first */
            size_t k = 1;
            for (size_t i = 2; i < d->nts; i += 2)
                d->ts[k++] = d->ts[i];
            d->nts = k;
        }
        d->ts[d->nts++] = (sniff_ts){d->total, ts_us};
    }
    d->total += n;
    d->last_us = ts_us;
    return 0;
}

void sniff_dir_consume(sniff_conn *c, int dir, size_t n)
{
    sniff_dir *d = &c->d[dir];
    if (n > buf_size(&d->in))
        n = buf_size(&d->in);
    buf_consume(&d->in, n);
    d->at += n;
    size_t drop = 0; /* chunks wholly before the new start, but the last of them */
    while (drop + 1 < d->nts && d->ts[drop + 1].off <= d->at)
        drop++;
    if (drop) {
        memmove(d->ts, d->ts + drop, (d->nts - drop) * sizeof *d->ts);
        d->nts -= drop;
    }
    if (buf_size(&d->in) == 0)
        buf_shrink(&d->in, 1u << 16);
}

int64_t sniff_dir_time(const sniff_conn *c, int dir, uint64_t off)
{
    const sniff_dir *d = &c->d[dir];
    int64_t t = d->last_us;
    for (size_t i = d->nts; i-- > 0;)
        if (d->ts[i].off <= off)
            return d->ts[i].us;
    if (d->nts)
        t = d->ts[0].us;
    return t;
}

/* ---- explaining state ---- */

sniff_wire *sniff_wire_new(void) { return calloc(1, sizeof(sniff_wire)); }

void sniff_wire_reset(sniff_wire *w, int dir)
{
    if (!w)
        return;
    sniff_wdir *d = &w->d[dir];
    netrpc_explainer_free(d->nx);
    gob_explainer_free(d->gx);
    explain_done(&d->win);
    memset(d, 0, sizeof *d);
    for (int i = 0; i < 2; i++) {
        h2explainer_free(w->h2[i]);
        w->h2[i] = NULL;
    }
}

void sniff_wire_free(sniff_wire *w)
{
    if (!w)
        return;
    sniff_wire_reset(w, SNIFF_C2S);
    sniff_wire_reset(w, SNIFF_S2C);
    free(w);
}

/* ---- waiting requests ---- */

void sniff_req_done(sniff_req *r)
{
    free(r->key);
    free(r->method);
    free(r->args);
    free(r->note);
    memset(r, 0, sizeof *r);
}

void sniff_wait_add(sniff_conn *c, sniff_req *r)
{
    if (c->nwait == SNIFF_MAX_WAITING) {
        sniff_req old;
        sniff_wait_take(c, NULL, &old);
        char *note = sniff_join(old.note, _("more calls waited for their replies than the "
                                            "sniffer follows (1024)"));
        free(old.note);
        old.note = note;
        sniff_rep rep = {.status = _("no reply"), .note = NULL};
        sniff_emit(c, &old, &rep);
        sniff_req_done(&old);
    }
    if (c->nwait == c->cwait) {
        size_t nc = c->cwait ? c->cwait * 2 : 8;
        sniff_req *w = realloc(c->wait, nc * sizeof *w);
        if (!w) {
            sniff_req_done(r);
            return;
        }
        c->wait = w;
        c->cwait = nc;
    }
    c->wait[c->nwait++] = *r;
    memset(r, 0, sizeof *r);
}

static long wait_index(const sniff_conn *c, const char *key)
{
    for (size_t i = 0; i < c->nwait; i++)
        if (!key || (c->wait[i].key && !strcmp(c->wait[i].key, key)))
            return (long)i;
    return -1;
}

sniff_req *sniff_wait_find(sniff_conn *c, const char *key)
{
    long i = wait_index(c, key);
    return i < 0 ? NULL : &c->wait[i];
}

bool sniff_wait_take(sniff_conn *c, const char *key, sniff_req *out)
{
    long i = wait_index(c, key);
    if (i < 0)
        return false;
    *out = c->wait[i];
    memmove(c->wait + i, c->wait + i + 1, (c->nwait - (size_t)i - 1) * sizeof *c->wait);
    c->nwait--;
    return true;
}

void sniff_wait_flush(sniff_conn *c, int64_t now_us)
{
    (void)now_us;
    sniff_req r;
    while (sniff_wait_take(c, NULL, &r)) {
        sniff_rep rep = {.status = _("no reply")};
        sniff_emit(c, &r, &rep);
        sniff_req_done(&r);
    }
}

/* ---- handing calls over ---- */

/* Where stream range [off, end) of dir lies in its kept bytes: false when not all kept. */
static bool kept_range(const sniff_dir *d, uint64_t off, uint64_t end, size_t *a, size_t *b)
{
    if (off < d->keep_base || end > d->keep_base + buf_size(&d->keep))
        return false;
    *a = (size_t)(off - d->keep_base);
    *b = (size_t)(end - d->keep_base);
    return true;
}

void sniff_emit(sniff_conn *c, const sniff_req *req, const sniff_rep *rep)
{
    sniff *s = c->s;
    s->st.calls++;
    c->ncalls++;
    if (s->quiet || !s->h.call)
        return;
    sniff_call k = {.conn_id = c->id, .n = c->ncalls, .proto = c->proto};
    snprintf(k.client, sizeof k.client, "%s", c->client);
    snprintf(k.server, sizeof k.server, "%s", c->server);
    k.method = req && req->method ? req->method : "";
    k.args = req ? req->args : NULL;
    k.result = rep ? rep->result : NULL;
    k.error = rep ? rep->error : NULL;
    k.status = rep && rep->status ? rep->status : _("no reply");
    char *note = sniff_join(req ? req->note : NULL, rep ? rep->note : NULL);
    k.note = note;
    k.start_us = req ? req->start_us : 0;
    k.end_us = rep && rep->status ? rep->end_us : 0;
    if (!req && rep)
        k.start_us = rep->end_us;
    const sniff_dir *dc = &c->d[SNIFF_C2S], *ds = &c->d[SNIFF_S2C];
    bool cok = true, sok = true;
    if (req && req->have_bytes)
        cok = kept_range(dc, req->off, req->end, &k.req_off, &k.req_end);
    if (rep && rep->end > rep->off)
        sok = kept_range(ds, rep->off, rep->end, &k.rep_off, &k.rep_end);
    if (cok && buf_size(&dc->keep)) {
        k.c2s = buf_data(&dc->keep);
        k.c2s_len = buf_size(&dc->keep);
    }
    if (sok && buf_size(&ds->keep)) {
        k.s2c = buf_data(&ds->keep);
        k.s2c_len = buf_size(&ds->keep);
    }
    if (!k.c2s)
        k.req_off = k.req_end = 0;
    if (!k.s2c)
        k.rep_off = k.rep_end = 0;
    k.from_start = !c->mid_stream && dc->keep_base == 0 && ds->keep_base == 0 && !dc->gapped &&
                   !ds->gapped;
    if ((k.c2s || k.s2c) && !c->wire)
        c->wire = sniff_wire_new();
    k.wire = c->wire;
    s->h.call(s->ud, &k);
    free(note);
}
