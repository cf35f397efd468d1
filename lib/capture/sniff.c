/* sniff.c -- the RPC calls in captured TCP traffic: segments through tcpflow, each
 * connection's protocol recognised by its bytes, and its decoder fed in order. */
#include "capture/sniff.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "capture/sniff_int.h"

const char *sniff_proto_name(sniff_proto p)
{
    switch (p) {
    case SNIFF_GOB: return "gob";
    case SNIFF_JSONRPC: return "json";
    case SNIFF_GRPC: return "grpc";
    case SNIFF_HTTP: return "http";
    default: return "?";
    }
}

rpc_proto sniff_dump_proto(sniff_proto p)
{
    switch (p) {
    case SNIFF_GOB: return PROTO_GOB;
    case SNIFF_GRPC: return PROTO_GRPC;
    default: return PROTO_JSON;
    }
}

static const sniff_ops *ops_for(sniff_proto p)
{
    switch (p) {
    case SNIFF_GOB: return &sniff_gob_ops;
    case SNIFF_JSONRPC: return &sniff_json_ops;
    case SNIFF_GRPC: return &sniff_h2_ops;
    case SNIFF_HTTP: return &sniff_http_ops;
    default: return NULL;
    }
}

/* ---- connection events ---- */

static void conn_event(sniff_conn *c, bool ended, const char *text)
{
    sniff *s = c->s;
    if (s->quiet || !s->h.conn)
        return;
    sniff_conn_event ev = {.conn_id = c->id, .proto = c->proto, .mid_stream = c->mid_stream,
                           .ended = ended, .text = text};
    snprintf(ev.client, sizeof ev.client, "%s", c->client);
    snprintf(ev.server, sizeof ev.server, "%s", c->server);
    s->h.conn(s->ud, &ev);
}

static void give_up(sniff_conn *c)
{
    c->gave_up = true;
    c->s->st.unknown_conns++;
    int dir = buf_size(&c->d[SNIFF_C2S].in) ? SNIFF_C2S : SNIFF_S2C;
    const sniff_dir *d = &c->d[dir];
    char q[160];
    explain_quote(q, sizeof q, buf_data(&d->in), buf_size(&d->in), 32, EXPLAIN_QUOTE_UTF8);
    char *t = sniff_strf(dir == SNIFF_C2S ? _("not an RPC protocol the workbench knows: the "
                                              "client's first %zu bytes begin %s")
                                          : _("not an RPC protocol the workbench knows: the "
                                              "server's first %zu bytes begin %s"),
                         buf_size(&d->in), q);
    conn_event(c, false, t ? t : "");
    free(t);
    for (int i = 0; i < 2; i++) {
        buf_done(&c->d[i].in);
        c->d[i].at = c->d[i].total;
        c->d[i].nts = 0;
        buf_done(&c->d[i].keep);
        c->d[i].keep_stopped = true;
    }
}

static void swap_roles(sniff_conn *c)
{
    sniff_dir t = c->d[0];
    c->d[0] = c->d[1];
    c->d[1] = t;
    char a[48];
    memcpy(a, c->client, sizeof a);
    memcpy(c->client, c->server, sizeof a);
    memcpy(c->server, a, sizeof a);
    c->swapped = !c->swapped;
}

static void recognised(sniff_conn *c, sniff_proto p, bool swap)
{
    if (swap)
        swap_roles(c);
    c->proto = p;
    c->ops = ops_for(p);
    if (c->ops->open(c) < 0) {
        c->ops = NULL;
        c->proto = SNIFF_UNKNOWN;
        give_up(c);
        return;
    }
    /* TRANSLATORS: the protocol, how much of the connection was seen, and a note */
    char *t = sniff_strf(_("%s, %s%s"), sniff_proto_title(p),
                         c->mid_stream ? _("caught mid-way") : _("from its start"),
                         swap ? _("; the bytes show which end is the client, the other way "
                                  "round from the guess") : "");
    conn_event(c, false, t ? t : "");
    free(t);
    c->ops->feed(c, SNIFF_C2S);
    c->ops->feed(c, SNIFF_S2C);
}

/* Tries to recognise the connection from what each direction has sent; final: no more
 * bytes will come. */
static void detect(sniff_conn *c, bool final)
{
    sniff_found f[2];
    sniff_proto p[2] = {SNIFF_UNKNOWN, SNIFF_UNKNOWN};
    for (int i = 0; i < 2; i++) {
        const sniff_dir *d = &c->d[i];
        f[i] = buf_size(&d->in) ? sniff_detect(buf_data(&d->in), buf_size(&d->in), d->at == 0,
                                               &p[i])
                                : SNIFF_FOUND_MORE;
    }
    for (int i = 0; i < 2; i++)
        if (f[i] == SNIFF_FOUND_CLIENT || f[i] == SNIFF_FOUND_SERVER) {
            bool is_client = f[i] == SNIFF_FOUND_CLIENT;
            recognised(c, p[i], is_client != (i == SNIFF_C2S));
            return;
        }
    for (int i = 0; i < 2; i++)
        if (f[i] == SNIFF_FOUND_EITHER) {
            recognised(c, p[i], false);
            return;
        }
    size_t n0 = buf_size(&c->d[0].in), n1 = buf_size(&c->d[1].in);
    bool full0 = n0 >= SNIFF_DETECT_BYTES, full1 = n1 >= SNIFF_DETECT_BYTES;
    bool none0 = n0 && f[0] == SNIFF_FOUND_NONE, none1 = n1 && f[1] == SNIFF_FOUND_NONE;
    if ((full0 && full1) || (full0 && none1) || (full1 && none0) || n0 >= SNIFF_DETECT_MAX ||
        n1 >= SNIFF_DETECT_MAX || (final && (n0 || n1)))
        give_up(c);
}

/* ---- tcpflow's hooks ---- */

/* What waits in dir's input, and n bytes after it, will not be decoded: the direction
 * goes on after them, caught mid-way again. */
static void lose(sniff_conn *c, int dir, uint64_t n, int64_t ts_us)
{
    sniff_dir *d = &c->d[dir];
    sniff_dir_consume(c, dir, buf_size(&d->in));
    d->total += n;
    d->at = d->total;
    d->nts = 0;
    d->last_us = ts_us;
    d->gapped = true;
    buf_clear(&d->keep);
    d->keep_base = d->total;
    sniff_wire_reset(c->wire, dir);
    if (c->ops)
        c->ops->gap(c, dir);
}

void sniff_flow_opened(void *ud, flow_conn *fc)
{
    sniff *s = ud;
    sniff_conn *c = calloc(1, sizeof *c);
    fc->user = c;
    if (!c)
        return;
    c->s = s;
    c->id = fc->id;
    c->mid_stream = !fc->saw_syn;
    tcp_endpoint_str(fc->family, fc->client, fc->cport, c->client, sizeof c->client);
    tcp_endpoint_str(fc->family, fc->server, fc->sport, c->server, sizeof c->server);
    for (int i = 0; i < 2; i++) {
        buf_init(&c->d[i].in, 0);
        buf_init(&c->d[i].keep, 0);
        c->d[i].keep_stopped = s->o.keep_bytes == 0;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->st.conns++;
}

void sniff_flow_data(void *ud, flow_conn *fc, int dir, const uint8_t *p, size_t n, int64_t ts_us)
{
    (void)ud;
    sniff_conn *c = fc->user;
    if (!c || n == 0)
        return;
    if (c->swapped)
        dir ^= 1;
    if (c->gave_up) {
        c->d[dir].total += n;
        return;
    }
    if (!c->ops) {
        size_t room = SNIFF_DETECT_MAX - buf_size(&c->d[dir].in);
        sniff_dir_add(c, dir, p, n < room ? n : room, ts_us, SNIFF_DETECT_MAX);
        detect(c, false);
        return;
    }
    size_t mm = sniff_max_message(c);
    if (sniff_dir_add(c, dir, p, n, ts_us, mm + mm / 4 + (64u << 10)) < 0) {
        /* the decoder cannot use what waits: it is skipped, as if it went missing */
        lose(c, dir, n, ts_us);
        return;
    }
    c->ops->feed(c, dir);
}

void sniff_flow_gap(void *ud, flow_conn *fc, int dir, uint64_t n, int64_t ts_us)
{
    sniff *s = ud;
    sniff_conn *c = fc->user;
    s->st.gap_bytes += n;
    if (!c)
        return;
    if (c->swapped)
        dir ^= 1;
    lose(c, dir, n, ts_us);
}

static void conn_end(sniff_conn *c, flow_end why, int64_t ts_us)
{
    sniff *s = c->s;
    if (!c->ops && !c->gave_up)
        detect(c, true);
    if (c->ops) {
        c->ops->finish(c, ts_us);
        sniff_wait_flush(c, ts_us);
        unsigned long long k = (unsigned long long)c->ncalls;
        const char *fmt = why == FLOW_END_FIN ? ngettext("closed after %llu call", "closed after %llu calls", k)
                        : why == FLOW_END_RST ? ngettext("reset after %llu call", "reset after %llu calls", k)
                        : why == FLOW_END_IDLE ? ngettext("idle for 5 minutes after %llu call, no longer followed",
                                                          "idle for 5 minutes after %llu calls, no longer followed", k)
                        : why == FLOW_END_EVICTED ? ngettext("no longer followed (too many connections) after %llu call",
                                                             "no longer followed (too many connections) after %llu calls", k)
                        : ngettext("still open when the capture ended, after %llu call",
                                   "still open when the capture ended, after %llu calls", k);
        char *t = sniff_strf(fmt, k);
        conn_event(c, true, t ? t : "");
        free(t);
        c->ops->done(c);
    } else if (c->gave_up)
        conn_event(c, true, why == FLOW_END_RST ? _("reset") : _("closed"));
    for (int i = 0; i < 2; i++) {
        buf_done(&c->d[i].in);
        buf_done(&c->d[i].keep);
    }
    sniff_req r;
    while (sniff_wait_take(c, NULL, &r))
        sniff_req_done(&r);
    sniff_wire_free(c->wire);
    free(c->wait);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

void sniff_flow_closed(void *ud, flow_conn *fc, flow_end why, int64_t ts_us)
{
    (void)ud;
    sniff_conn *c = fc->user;
    fc->user = NULL;
    if (c)
        conn_end(c, why, ts_us);
}

/* ---- the public face ---- */

sniff *sniff_new(const sniff_opts *o, const sniff_hooks *h, void *ud)
{
    sniff *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (o)
        s->o = *o;
    if (h)
        s->h = *h;
    s->ud = ud;
    if (s->o.nserver_ports) {
        s->ports = malloc(s->o.nserver_ports * sizeof *s->ports);
        if (!s->ports) {
            free(s);
            return NULL;
        }
        memcpy(s->ports, s->o.server_ports, s->o.nserver_ports * sizeof *s->ports);
        s->o.server_ports = s->ports;
    } else
        s->o.server_ports = NULL;
    static const tcpflow_hooks fh = {sniff_flow_opened, sniff_flow_data, sniff_flow_gap,
                                     sniff_flow_closed};
    tcpflow_limits lim = {.idle_us = 300 * INT64_C(1000000), .server_ports = s->ports,
                          .nserver_ports = s->o.nserver_ports};
    if (!(s->flow = tcpflow_new(&fh, s, &lim))) {
        free(s->ports);
        free(s);
        return NULL;
    }
    return s;
}

void sniff_add(sniff *s, const tcp_seg *seg)
{
    tcpflow_add(s->flow, seg);
}

void sniff_tick(sniff *s, int64_t now_us)
{
    tcpflow_expire(s->flow, now_us);
}

void sniff_finish(sniff *s, int64_t now_us)
{
    tcpflow_finish(s->flow, now_us);
    while (s->conns)
        conn_end(s->conns, FLOW_END_INPUT, now_us);
}

void sniff_get_stats(const sniff *s, sniff_stats *st)
{
    *st = s->st;
}

void sniff_free(sniff *s)
{
    if (!s)
        return;
    s->quiet = true;
    tcpflow_free(s->flow);
    while (s->conns)
        conn_end(s->conns, FLOW_END_INPUT, 0);
    free(s->ports);
    free(s);
}
