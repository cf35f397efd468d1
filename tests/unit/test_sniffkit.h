/* test_sniffkit.h -- what the sniffer's tests share: a recorder of the calls and connection events
 * the sniffer hands over (each call also explained, its spans checked to lie within its
 * bytes and to be those the call's direction explained from its first byte gives), and a driver that feeds a direction's bytes in segments through tcpflow's hooks.
 * Header-only: each test is a program of its own. */
#ifndef WB_SNIFFKIT_H
#define WB_SNIFFKIT_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "capture/sniff.h"
#include "capture/sniff_int.h"

typedef struct got_call {
    char *method, *args, *result, *error, *status, *note;
    char client[48], server[48];
    int64_t start_us, end_us;
    uint64_t n;
    sniff_proto proto;
    bool from_start, bytes;
    char *req_x, *rep_x; /* the explanation's meanings, a line each */
    int req_errors, rep_errors;
} got_call;

typedef struct rec {
    got_call c[64];
    size_t n;
    char *ev[32];
    size_t nev;
} rec;

static inline char *sk_dup(const char *s) { return s ? strdup(s) : NULL; }

/* The meanings of e, a line each, checking each span lies within n bytes; counts errors. */
static inline char *sk_meanings(const explain *e, size_t n, int *errors)
{
    buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < e->len; i++) {
        const span *s = &e->spans[i];
        cr_assert(s->off + s->len <= n, "span %s at %zu+%zu beyond %zu", s->meaning, s->off,
                  s->len, n);
        *errors += s->cls == SPAN_ERROR;
        buf_printf(&b, "%s\n", s->meaning);
    }
    buf_putc(&b, 0);
    char *t = strdup((char *)buf_data(&b));
    buf_done(&b);
    return t;
}

/* Checks that call c explained from the connection's state (q, p) is explained the same
 * from the first byte kept (a copy of c, without the state). */
static inline void sk_same_whole(const sniff_call *c, const explain *q, const explain *p)
{
    sniff_call k = *c;
    k.wire = NULL;
    explain wq, wp;
    explain_init(&wq);
    explain_init(&wp);
    cr_assert(sniff_explain_call(&k, &wq, &wp) == 0);
    cr_assert(explain_equal(q, &wq), "call %llu's request is explained otherwise from the state",
              (unsigned long long)c->n);
    cr_assert(explain_equal(p, &wp), "call %llu's reply is explained otherwise from the state",
              (unsigned long long)c->n);
    explain_done(&wq);
    explain_done(&wp);
}

static inline void sk_on_call(void *ud, const sniff_call *c)
{
    rec *r = ud;
    cr_assert(r->n < 64);
    got_call *g = &r->c[r->n++];
    g->method = sk_dup(c->method);
    g->args = sk_dup(c->args);
    g->result = sk_dup(c->result);
    g->error = sk_dup(c->error);
    g->status = sk_dup(c->status);
    g->note = sk_dup(c->note);
    memcpy(g->client, c->client, 48);
    memcpy(g->server, c->server, 48);
    g->start_us = c->start_us;
    g->end_us = c->end_us;
    g->n = c->n;
    g->proto = c->proto;
    g->from_start = c->from_start;
    g->bytes = c->c2s || c->s2c;
    explain q, p;
    explain_init(&q);
    explain_init(&p);
    if (sniff_explain_call(c, &q, &p) == 0) {
        g->req_x = sk_meanings(&q, c->req_end - c->req_off, &g->req_errors);
        g->rep_x = sk_meanings(&p, c->rep_end - c->rep_off, &g->rep_errors);
        sk_same_whole(c, &q, &p);
    }
    explain_done(&q);
    explain_done(&p);
}

static inline void sk_on_conn(void *ud, const sniff_conn_event *ev)
{
    rec *r = ud;
    if (r->nev < 32)
        r->ev[r->nev++] = strdup(ev->text);
}

static inline void sk_free(rec *r)
{
    for (size_t i = 0; i < r->n; i++) {
        got_call *g = &r->c[i];
        free(g->method);
        free(g->args);
        free(g->result);
        free(g->error);
        free(g->status);
        free(g->note);
        free(g->req_x);
        free(g->rep_x);
    }
    for (size_t i = 0; i < r->nev; i++)
        free(r->ev[i]);
    memset(r, 0, sizeof *r);
}

/* The call whose method is m (the first, or the k-th when more have it). */
static inline got_call *sk_call(rec *r, const char *m, int k)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->c[i].method, m) && k-- == 0)
            return &r->c[i];
    cr_assert_fail("no call %s", m);
    return NULL;
}

static inline sniff *sk_new(rec *r, size_t keep)
{
    sniff_opts o = {.keep_bytes = keep};
    sniff_hooks h = {sk_on_call, sk_on_conn};
    sniff *s = sniff_new(&o, &h, r);
    cr_assert(s);
    return s;
}

/* A connection 127.0.0.1:cport -> 127.0.0.1:sport, opened on s. */
static inline void sk_open(sniff *s, flow_conn *fc, uint64_t id, uint16_t cport, uint16_t sport,
                           bool syn)
{
    memset(fc, 0, sizeof *fc);
    fc->id = id;
    fc->family = 4;
    fc->client[0] = fc->server[0] = 127;
    fc->client[3] = fc->server[3] = 1;
    fc->cport = cport;
    fc->sport = sport;
    fc->saw_syn = syn;
    fc->guessed = !syn;
    sniff_flow_opened(s, fc);
}

/* Feeds p[0..n) to direction dir in segments of chunk bytes, a millisecond apart. */
static inline void sk_feed(sniff *s, flow_conn *fc, int dir, const void *p, size_t n, size_t chunk,
                           int64_t *t)
{
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        *t += 1000;
        sniff_flow_data(s, fc, dir, (const uint8_t *)p + i, k, *t);
    }
}

static inline bool sk_has_event(const rec *r, const char *needle)
{
    for (size_t i = 0; i < r->nev; i++)
        if (strstr(r->ev[i], needle))
            return true;
    return false;
}

#endif
