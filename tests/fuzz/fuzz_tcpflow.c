/* fuzz_tcpflow.c -- libFuzzer target: bytes decoded as a series of TCP segments (which of a
 * few connections and directions, flags, sequence offset, length, bytes lost to the
 * snapshot) into the reassembler, with limits taken from the input. Each payload byte is
 * its sequence number's low byte, so the hooks can check that every direction's bytes
 * arrive in sequence order, that delivered plus missing bytes never go backwards and match
 * the counters, that data pointers and lengths are sane, and that every connection opened
 * is closed exactly once and gets no hook after that. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/tcpflow.h"

typedef struct track {
    uint64_t pos[2];  /* delivered + missing so far, per direction */
    int base[2];      /* the low byte of the first sequence number, or -1 before any */
} track;

static uint64_t opened, closed;

static track *tr(flow_conn *c)
{
    if (!c || !c->user)
        abort(); /* a hook for a connection never opened, or already closed */
    return c->user;
}

static void on_open(void *ud, flow_conn *c)
{
    (void)ud;
    if (c->user || (c->family != 4 && c->family != 6))
        abort();
    track *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    t->base[0] = t->base[1] = -1;
    c->user = t;
    opened++;
}

static void on_data(void *ud, flow_conn *c, int dir, const uint8_t *p, size_t n, int64_t ts)
{
    (void)ud;
    (void)ts;
    track *t = tr(c);
    if ((dir != FLOW_C2S && dir != FLOW_S2C) || !p || n == 0 || n > (1 << 16))
        abort();
    if (c->bytes[dir] + c->missing[dir] != t->pos[dir] + n)
        abort();
    if (t->base[dir] < 0)
        t->base[dir] = (uint8_t)(p[0] - t->pos[dir]);
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(t->base[dir] + t->pos[dir] + i))
            abort(); /* a byte out of its place */
    t->pos[dir] += n;
}

static void on_gap(void *ud, flow_conn *c, int dir, uint64_t n, int64_t ts)
{
    (void)ud;
    (void)ts;
    track *t = tr(c);
    if ((dir != FLOW_C2S && dir != FLOW_S2C) || n == 0 || n > ((uint64_t)1 << 32))
        abort();
    if (c->bytes[dir] + c->missing[dir] != t->pos[dir] + n)
        abort();
    t->pos[dir] += n;
}

static void on_closed(void *ud, flow_conn *c, flow_end why, int64_t ts)
{
    (void)ud;
    (void)ts;
    track *t = tr(c);
    if (why > FLOW_END_INPUT || c->bytes[0] + c->missing[0] != t->pos[0] ||
        c->bytes[1] + c->missing[1] != t->pos[1])
        abort();
    free(t);
    c->user = NULL;
    closed++;
}

static const tcpflow_hooks HOOKS = {on_open, on_data, on_gap, on_closed};

/* Four tuples: two share a client port, the third is IPv6, the fourth starts near 2^32. */
static void tuple(int k, int dir, tcp_seg *s)
{
    uint8_t a[16] = {127, 0, 0, 1}, b[16] = {127, 0, 0, 2};
    s->family = k == 2 ? 6 : 4;
    if (k == 2) {
        memset(a, 0, 16);
        memset(b, 0, 16);
        a[15] = 1;
        b[15] = 2;
    }
    uint16_t cport = k == 1 ? 40000 : (uint16_t)(40000 + k), sport = k == 1 ? 8081 : 8080;
    memcpy(s->src, dir ? b : a, 16);
    memcpy(s->dst, dir ? a : b, 16);
    s->sport = dir ? sport : cport;
    s->dport = dir ? cport : sport;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n < 4)
        return 0;
    uint16_t ports[1] = {40003};
    tcpflow_limits lim = {
        .max_conns = 1 + p[0] % 4,
        .max_pending = 1 + (size_t)p[1] * 8,
        .idle_us = p[2] & 1 ? 1000 : 0,
        .server_ports = p[2] & 2 ? ports : NULL,
        .nserver_ports = p[2] & 2 ? 1 : 0,
    };
    static const uint32_t isn[4][2] = {{1000, 5000}, {1000, 7000}, {77, 0x80000000u},
                                       {0xffffff00u, 0xfffffff0u}};
    opened = closed = 0;
    tcpflow *f = tcpflow_new(&HOOKS, NULL, &lim);
    if (!f)
        return 0;
    uint8_t data[256];
    int64_t ts = 0;
    for (size_t at = 3; at + 6 <= n; at += 6) {
        const uint8_t *r = p + at;
        int dir = r[0] & 1, k = (r[0] >> 1) & 3;
        tcp_seg s = {0};
        tuple(k, dir, &s);
        ts += r[0] >> 4;
        s.ts_us = ts;
        s.flags = r[1];
        s.seq = isn[k][dir] + (uint32_t)(int32_t)(int16_t)(r[2] << 8 | r[3]);
        s.ack = isn[k][!dir] + 1;
        s.len = r[4];
        s.wire_len = s.len + (r[5] & 7);
        uint32_t first = s.seq + (s.flags & TCP_SYN ? 1 : 0);
        for (size_t i = 0; i < s.len; i++)
            data[i] = (uint8_t)(first + i);
        s.data = data;
        tcpflow_add(f, &s);
        if (r[5] & 0x80)
            tcpflow_expire(f, ts);
    }
    if (p[2] & 4) {
        tcpflow_finish(f, ts);
        if (opened != closed)
            abort(); /* finish ends every connection */
    }
    tcpflow_free(f);
    if (opened != closed)
        abort();
    return 0;
}
