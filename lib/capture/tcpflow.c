/* tcpflow.c -- TCP reassembly: connections by 4-tuple, each direction delivered in order. */
#include "capture/tcpflow.h"

#include <stdlib.h>
#include <string.h>

/* A segment waiting for the bytes before it: span sequence numbers from seq, of which the
 * first len were captured (the rest were cut by the snapshot length and are lost). */
typedef struct pseg {
    struct pseg *next;
    uint32_t seq, span, len;
    uint8_t data[];
} pseg;

/* One direction of a connection. */
typedef struct half {
    bool known;       /* next is set: from the SYN or the first segment carrying data */
    bool syn, fin, fin_done;
    uint32_t next, isn, fin_seq;
    pseg *pending;    /* ordered by seq, not overlapping, all after next */
    size_t pending_bytes, pending_nodes;
} half;

typedef struct conn {
    flow_conn pub;
    half h[2];
    bool ended;                /* closed by FIN or RST: kept only to absorb late segments */
    struct conn *hnext;        /* hash chain */
    struct conn *prev, *next;  /* the live or the ended list, oldest activity first */
} conn;

typedef struct clist {
    conn *head, *tail;
    size_t n;
} clist;

struct tcpflow {
    tcpflow_hooks h;
    void *ud;
    size_t max_conns, max_pending;
    int64_t idle_us;
    uint16_t *server_ports;
    size_t nserver_ports;
    conn **buckets;
    size_t nbuckets;           /* a power of two */
    clist live, ended;
    uint64_t next_id;
};

enum {
    MAX_SPAN = 1 << 24,         /* a segment longer than this is taken as this long */
    MAX_PENDING_NODES = 4096,   /* waiting segments per direction, whatever their size */
};
#define ENDED_KEEP_US (60 * (int64_t)1000000) /* how long an ended tuple absorbs segments */

/* ---- the table and the lists ---- */

static uint64_t mix(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* The same for both directions: the two endpoints are hashed in a fixed order. */
static size_t bucket_of(const tcpflow *f, int family, const uint8_t *a, uint16_t ap,
                        const uint8_t *b, uint16_t bp)
{
    size_t alen = family == 6 ? 16 : 4;
    int c = memcmp(a, b, alen);
    if (c > 0 || (c == 0 && ap > bp)) {
        const uint8_t *t = a;
        a = b;
        b = t;
        uint16_t tp = ap;
        ap = bp;
        bp = tp;
    }
    uint8_t ports[5] = {(uint8_t)family, (uint8_t)(ap >> 8), (uint8_t)ap, (uint8_t)(bp >> 8),
                        (uint8_t)bp};
    uint64_t h = mix(1469598103934665603ULL, ports, sizeof ports);
    h = mix(h, a, alen);
    h = mix(h, b, alen);
    return (size_t)(h ^ (h >> 29)) & (f->nbuckets - 1);
}

static bool end_is(const conn *c, bool client, const uint8_t *addr, uint16_t port)
{
    size_t alen = c->pub.family == 6 ? 16 : 4;
    if (client)
        return c->pub.cport == port && memcmp(c->pub.client, addr, alen) == 0;
    return c->pub.sport == port && memcmp(c->pub.server, addr, alen) == 0;
}

/* The connection of the segment's tuple, and the segment's direction in it. */
static conn *lookup(tcpflow *f, const tcp_seg *s, int *dir)
{
    size_t b = bucket_of(f, s->family, s->src, s->sport, s->dst, s->dport);
    for (conn *c = f->buckets[b]; c; c = c->hnext) {
        if (c->pub.family != s->family)
            continue;
        if (end_is(c, true, s->src, s->sport) && end_is(c, false, s->dst, s->dport)) {
            *dir = FLOW_C2S;
            return c;
        }
        if (end_is(c, false, s->src, s->sport) && end_is(c, true, s->dst, s->dport)) {
            *dir = FLOW_S2C;
            return c;
        }
    }
    return NULL;
}

static void table_remove(tcpflow *f, conn *c)
{
    size_t b = bucket_of(f, c->pub.family, c->pub.client, c->pub.cport, c->pub.server,
                         c->pub.sport);
    for (conn **pp = &f->buckets[b]; *pp; pp = &(*pp)->hnext)
        if (*pp == c) {
            *pp = c->hnext;
            return;
        }
}

static void list_unlink(clist *l, conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
    l->n--;
}

static void list_append(clist *l, conn *c)
{
    c->next = NULL;
    c->prev = l->tail;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    l->n++;
}

static void pending_free(half *h)
{
    while (h->pending) {
        pseg *p = h->pending;
        h->pending = p->next;
        free(p);
    }
    h->pending_bytes = h->pending_nodes = 0;
}

/* Takes c out of the table and its list and frees it (no hook). */
static void conn_destroy(tcpflow *f, conn *c)
{
    table_remove(f, c);
    list_unlink(c->ended ? &f->ended : &f->live, c);
    pending_free(&c->h[0]);
    pending_free(&c->h[1]);
    free(c);
}

/* ---- delivery ---- */

static void emit_gap(tcpflow *f, conn *c, int d, uint64_t n, int64_t ts)
{
    if (n == 0)
        return;
    c->pub.missing[d] += n;
    if (f->h.gap)
        f->h.gap(f->ud, &c->pub, d, n, ts);
}

/* Delivers span sequence numbers starting at next: len captured bytes, the rest a gap. */
static void deliver(tcpflow *f, conn *c, int d, const uint8_t *p, uint32_t len, uint32_t span,
                    int64_t ts)
{
    if (len > 0) {
        c->pub.bytes[d] += len;
        if (f->h.data)
            f->h.data(f->ud, &c->pub, d, p, len, ts);
    }
    emit_gap(f, c, d, span - len, ts);
    c->h[d].next += span;
}

/* Delivers the waiting segments that now follow next, dropping what was already delivered. */
static void drain(tcpflow *f, conn *c, int d, int64_t ts)
{
    half *h = &c->h[d];
    while (h->pending) {
        pseg *p = h->pending;
        int32_t off = (int32_t)(p->seq - h->next);
        if (off > 0)
            break;
        uint32_t k = (uint32_t)-(int64_t)off;
        h->pending = p->next;
        h->pending_bytes -= p->len;
        h->pending_nodes--;
        if (k < p->span) {
            uint32_t skip = k < p->len ? k : p->len;
            deliver(f, c, d, p->data + skip, p->len - skip, p->span - k, ts);
        }
        free(p);
    }
}

/* Reports the hole before the first waiting segment as a gap and delivers on from it. */
static void skip_hole(tcpflow *f, conn *c, int d, int64_t ts)
{
    half *h = &c->h[d];
    if (!h->pending)
        return;
    emit_gap(f, c, d, h->pending->seq - h->next, ts);
    h->next = h->pending->seq;
    drain(f, c, d, ts);
}

/* Walks the waiting list for a segment ahead of next; the bytes already waiting win. With
 * dry set, only counts the captured bytes and pieces that would be added (into *bytes and
 * *nodes); else inserts them. Returns false when memory ran out. */
static bool place(half *h, uint32_t seq, uint32_t span, uint32_t len, const uint8_t *p, bool dry,
                  size_t *bytes, size_t *nodes)
{
    uint64_t a = (uint32_t)(seq - h->next), b = a + span; /* offsets from next */
    pseg **pp = &h->pending;
    *bytes = *nodes = 0;
    while (a < b) {
        pseg *n = *pp;
        uint64_t x = n ? (uint32_t)(n->seq - h->next) : UINT64_MAX;
        uint64_t y = n ? x + n->span : UINT64_MAX;
        if (n && y <= a) {
            pp = &n->next;
            continue;
        }
        uint64_t end = x < b ? x : b;
        if (a < end) {
            uint64_t from = a - (uint32_t)(seq - h->next);
            uint32_t pspan = (uint32_t)(end - a);
            uint32_t plen = from >= len ? 0 : (uint32_t)(len - from < pspan ? len - from : pspan);
            *bytes += plen;
            (*nodes)++;
            if (!dry) {
                pseg *q = malloc(sizeof *q + plen);
                if (!q)
                    return false;
                q->seq = h->next + (uint32_t)a;
                q->span = pspan;
                q->len = plen;
                if (plen)
                    memcpy(q->data, p + from, plen);
                q->next = n;
                *pp = q;
                pp = &q->next;
                h->pending_bytes += plen;
                h->pending_nodes++;
            }
        }
        if (!n)
            break;
        a = y > a ? y : a;
        pp = &n->next;
    }
    return true;
}

/* Takes span sequence numbers of direction d from seq (len of them captured at p). */
static void take(tcpflow *f, conn *c, int d, uint32_t seq, uint32_t span, uint32_t len,
                 const uint8_t *p, int64_t ts)
{
    half *h = &c->h[d];
    for (;;) {
        int32_t off = (int32_t)(seq - h->next);
        if (off < 0) { /* a retransmission: trim what was delivered */
            uint32_t k = (uint32_t)-(int64_t)off;
            if (k >= span)
                return;
            seq += k;
            span -= k;
            uint32_t skip = k < len ? k : len;
            p += skip;
            len -= skip;
        }
        if (h->fin) { /* nothing after the FIN */
            uint32_t to_fin = h->fin_seq - h->next, at = seq - h->next;
            if (at >= to_fin)
                return;
            if (span > to_fin - at)
                span = to_fin - at;
            if (len > span)
                len = span;
        }
        if (seq == h->next) {
            deliver(f, c, d, p, len, span, ts);
            drain(f, c, d, ts);
            return;
        }
        size_t bytes, nodes;
        place(h, seq, span, len, p, true, &bytes, &nodes);
        if (nodes == 0)
            return; /* already waiting, every byte of it */
        if (h->pending_bytes + bytes <= f->max_pending && h->pending_nodes < MAX_PENDING_NODES) {
            if (!place(h, seq, span, len, p, false, &bytes, &nodes))
                skip_hole(f, c, d, ts); /* out of memory: give up waiting */
            return;
        }
        if (h->pending)
            skip_hole(f, c, d, ts);
        else { /* too big to wait at all: the hole before it is a gap */
            emit_gap(f, c, d, (uint32_t)(seq - h->next), ts);
            h->next = seq;
        }
    }
}

/* Delivers every waiting segment, reporting the holes before them as gaps. */
static void flush(tcpflow *f, conn *c, int64_t ts)
{
    for (int d = 0; d < 2; d++)
        while (c->h[d].pending)
            skip_hole(f, c, d, ts);
}

/* ---- connections ---- */

static void close_conn(tcpflow *f, conn *c, flow_end why, int64_t ts)
{
    if (f->h.closed)
        f->h.closed(f->ud, &c->pub, why, ts);
    if (why != FLOW_END_FIN && why != FLOW_END_RST) {
        conn_destroy(f, c);
        return;
    }
    /* keep the tuple a while, so that the last ACKs and retransmissions open nothing */
    pending_free(&c->h[0]);
    pending_free(&c->h[1]);
    list_unlink(&f->live, c);
    c->ended = true;
    if (f->ended.n >= f->max_conns && f->ended.head)
        conn_destroy(f, f->ended.head);
    list_append(&f->ended, c);
}

static bool port_listed(const tcpflow *f, uint16_t port)
{
    for (size_t i = 0; i < f->nserver_ports; i++)
        if (f->server_ports[i] == port)
            return true;
    return false;
}

/* A new connection for segment s; *dir gets the segment's direction. NULL: no memory. */
static conn *open_conn(tcpflow *f, const tcp_seg *s, int *dir)
{
    if (f->live.n >= f->max_conns && f->live.head) {
        conn *old = f->live.head;
        flush(f, old, s->ts_us);
        close_conn(f, old, FLOW_END_EVICTED, s->ts_us);
    }
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    bool src_is_server;
    if (s->flags & TCP_SYN) {
        src_is_server = (s->flags & TCP_ACK) != 0;
        c->pub.saw_syn = true;
    } else {
        c->pub.guessed = true;
        if (port_listed(f, s->dport))
            src_is_server = false;
        else if (port_listed(f, s->sport))
            src_is_server = true;
        else
            src_is_server = s->sport < s->dport;
    }
    size_t alen = s->family == 6 ? 16 : 4;
    c->pub.id = ++f->next_id;
    c->pub.family = s->family;
    memcpy(src_is_server ? c->pub.server : c->pub.client, s->src, alen);
    memcpy(src_is_server ? c->pub.client : c->pub.server, s->dst, alen);
    c->pub.sport = src_is_server ? s->sport : s->dport;
    c->pub.cport = src_is_server ? s->dport : s->sport;
    c->pub.first_us = c->pub.last_us = s->ts_us;
    *dir = src_is_server ? FLOW_S2C : FLOW_C2S;
    size_t b = bucket_of(f, s->family, s->src, s->sport, s->dst, s->dport);
    c->hnext = f->buckets[b];
    f->buckets[b] = c;
    list_append(&f->live, c);
    if (f->h.opened)
        f->h.opened(f->ud, &c->pub);
    return c;
}

/* The connection segment s belongs to, opening one when s starts or carries data; NULL
 * when s is to be ignored. */
static conn *conn_for(tcpflow *f, const tcp_seg *s, uint32_t span, int *dir)
{
    bool syn_only = (s->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    conn *c = lookup(f, s, dir);
    if (c && c->ended) {
        if (!syn_only) { /* a late segment of a finished connection */
            c->pub.last_us = s->ts_us;
            list_unlink(&f->ended, c);
            list_append(&f->ended, c);
            return NULL;
        }
        conn_destroy(f, c);
        c = NULL;
    }
    if (c && syn_only && !(c->h[*dir].syn && c->h[*dir].isn == s->seq)) {
        flush(f, c, s->ts_us); /* the port was reused: the old connection went quiet */
        close_conn(f, c, FLOW_END_IDLE, s->ts_us);
        c = NULL;
    }
    if (c)
        return c;
    if (!(s->flags & TCP_SYN) && (span == 0 || (s->flags & TCP_RST)))
        return NULL; /* an ACK, FIN or RST alone opens nothing */
    return open_conn(f, s, dir);
}

/* The FIN of direction d ends at fin_seq; nothing after it is taken. */
static void note_fin(conn *c, int d, uint32_t fin_seq)
{
    half *h = &c->h[d];
    if (h->fin)
        return;
    if ((int32_t)(fin_seq - h->next) < 0)
        fin_seq = h->next;
    h->fin = true;
    h->fin_seq = fin_seq;
    pseg **pp = &h->pending;
    uint32_t to_fin = fin_seq - h->next;
    while (*pp) {
        pseg *p = *pp;
        uint32_t at = p->seq - h->next;
        if (at >= to_fin) {
            *pp = p->next;
            h->pending_bytes -= p->len;
            h->pending_nodes--;
            free(p);
            continue;
        }
        if (p->span > to_fin - at)
            p->span = to_fin - at;
        if (p->len > p->span) {
            h->pending_bytes -= p->len - p->span;
            p->len = p->span;
        }
        pp = &p->next;
    }
}

void tcpflow_add(tcpflow *f, const tcp_seg *s)
{
    if (!f || !s || (s->family != 4 && s->family != 6))
        return;
    size_t len = s->data ? s->len : 0;
    size_t span = s->wire_len > len ? s->wire_len : len;
    if (span > MAX_SPAN)
        span = MAX_SPAN;
    if (len > span)
        len = span;
    int d;
    conn *c = conn_for(f, s, (uint32_t)span, &d);
    if (!c)
        return;
    c->pub.last_us = s->ts_us;
    list_unlink(&f->live, c);
    list_append(&f->live, c);
    half *h = &c->h[d];
    uint32_t seq = s->seq;
    if (s->flags & TCP_SYN) {
        if (!h->syn) {
            h->syn = true;
            h->isn = seq;
        }
        if (!h->known) {
            h->known = true;
            h->next = seq + 1;
        }
        half *o = &c->h[!d]; /* a SYN+ACK acknowledges the other side's ISN */
        if ((s->flags & TCP_ACK) && !o->known) {
            o->known = true;
            o->next = s->ack;
        }
        seq++;
    }
    if (!h->known && (span > 0 || (s->flags & TCP_FIN))) {
        h->known = true; /* caught mid-stream: this segment's bytes are the first */
        h->next = seq;
    }
    if (h->known && !h->fin_done) {
        if (s->flags & TCP_FIN)
            note_fin(c, d, seq + (uint32_t)span);
        if (span > 0)
            take(f, c, d, seq, (uint32_t)span, (uint32_t)len, s->data, s->ts_us);
        if (h->fin && h->next == h->fin_seq) {
            h->fin_done = true;
            h->next++;
            pending_free(h);
        }
    }
    if (s->flags & TCP_RST)
        close_conn(f, c, FLOW_END_RST, s->ts_us);
    else if (c->h[0].fin_done && c->h[1].fin_done)
        close_conn(f, c, FLOW_END_FIN, s->ts_us);
}

/* ---- the reassembler ---- */

tcpflow *tcpflow_new(const tcpflow_hooks *h, void *ud, const tcpflow_limits *lim)
{
    tcpflow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    if (h)
        f->h = *h;
    f->ud = ud;
    f->max_conns = lim && lim->max_conns ? lim->max_conns : 4096;
    f->max_pending = lim && lim->max_pending ? lim->max_pending : (size_t)1 << 20;
    f->idle_us = lim && lim->idle_us > 0 ? lim->idle_us : 0;
    if (lim && lim->server_ports && lim->nserver_ports) {
        f->server_ports = malloc(lim->nserver_ports * sizeof *f->server_ports);
        if (!f->server_ports)
            goto fail;
        memcpy(f->server_ports, lim->server_ports, lim->nserver_ports * sizeof *f->server_ports);
        f->nserver_ports = lim->nserver_ports;
    }
    f->nbuckets = 64;
    while (f->nbuckets < 2 * f->max_conns && f->nbuckets < ((size_t)1 << 20))
        f->nbuckets *= 2;
    f->buckets = calloc(f->nbuckets, sizeof *f->buckets);
    if (!f->buckets)
        goto fail;
    return f;
fail:
    free(f->server_ports);
    free(f);
    return NULL;
}

void tcpflow_expire(tcpflow *f, int64_t now_us)
{
    if (!f)
        return;
    if (f->idle_us > 0)
        while (f->live.head && f->live.head->pub.last_us < now_us - f->idle_us) {
            conn *c = f->live.head;
            flush(f, c, now_us);
            close_conn(f, c, FLOW_END_IDLE, now_us);
        }
    int64_t keep = f->idle_us > 0 && f->idle_us < ENDED_KEEP_US ? f->idle_us : ENDED_KEEP_US;
    while (f->ended.head && f->ended.head->pub.last_us < now_us - keep)
        conn_destroy(f, f->ended.head);
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = (*(conn *const *)a)->pub.id, y = (*(conn *const *)b)->pub.id;
    return x < y ? -1 : x > y;
}

/* Ends every open connection with FLOW_END_INPUT, in the order they were first seen,
 * flushing their waiting bytes first when flush_first is set; forgets the ended ones. */
static void end_all(tcpflow *f, int64_t now_us, bool flush_first)
{
    size_t n = f->live.n;
    conn **v = n ? malloc(n * sizeof *v) : NULL;
    if (v) {
        size_t i = 0;
        for (conn *c = f->live.head; c; c = c->next)
            v[i++] = c;
        qsort(v, n, sizeof *v, by_id);
        for (i = 0; i < n; i++) {
            if (flush_first)
                flush(f, v[i], now_us);
            close_conn(f, v[i], FLOW_END_INPUT, now_us);
        }
        free(v);
    }
    while (f->live.head) { /* no memory to sort: in order of activity */
        if (flush_first)
            flush(f, f->live.head, now_us);
        close_conn(f, f->live.head, FLOW_END_INPUT, now_us);
    }
    while (f->ended.head)
        conn_destroy(f, f->ended.head);
}

void tcpflow_finish(tcpflow *f, int64_t now_us)
{
    if (f)
        end_all(f, now_us, true);
}

void tcpflow_free(tcpflow *f)
{
    if (!f)
        return;
    end_all(f, f->live.tail ? f->live.tail->pub.last_us : 0, false);
    free(f->buckets);
    free(f->server_ports);
    free(f);
}
