/* fuzz_sniff.c -- libFuzzer target: bytes split into segments of both directions of two
 * connections (with gaps) and fed to the sniffer through tcpflow's hooks, then the input's
 * end. Every call handed over is explained; besides "no crash, no leak, no undefined
 * behaviour" it checks that the call's ranges lie within the bytes it points at, that
 * every span lies within the call's bytes, and that the call explained from the
 * connection's state is explained the same from the first byte.
 *
 * The input: a first byte of options (bit 0: the handshake was seen; bits 1-2: bytes kept
 * per direction, none, 200 or 1 MiB), then records: a control byte (bit 0: the server's
 * direction; bit 1: a gap of `length` bytes rather than data; bit 2: the second
 * connection) and a length byte, then that many bytes of data. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/sniff_int.h"

static void check(const explain *e, size_t n)
{
    for (size_t i = 0; i < e->len; i++)
        if (e->spans[i].off > n || e->spans[i].len > n - e->spans[i].off || !e->spans[i].meaning)
            abort();
}

/* The call explained from the connection's state must be explained the same from the
 * first byte kept (a copy of the call, without the state). */
static void same_whole(const sniff_call *c, const explain *q, const explain *p)
{
    sniff_call k = *c;
    k.wire = NULL;
    explain wq, wp;
    explain_init(&wq);
    explain_init(&wp);
    if (sniff_explain_call(&k, &wq, &wp) != 0 || !explain_equal(q, &wq) || !explain_equal(p, &wp))
        abort();
    explain_done(&wq);
    explain_done(&wp);
}

static void on_call(void *ud, const sniff_call *c)
{
    (void)ud;
    if ((c->c2s && (c->req_off > c->req_end || c->req_end > c->c2s_len)) ||
        (c->s2c && (c->rep_off > c->rep_end || c->rep_end > c->s2c_len)) || !c->method ||
        !c->status)
        abort();
    explain q, p;
    explain_init(&q);
    explain_init(&p);
    if (sniff_explain_call(c, &q, &p) == 0) {
        check(&q, c->req_end - c->req_off);
        check(&p, c->rep_end - c->rep_off);
        same_whole(c, &q, &p);
    }
    explain_done(&q);
    explain_done(&p);
}

static void on_conn(void *ud, const sniff_conn_event *ev)
{
    (void)ud;
    if (!ev->text)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n < 1)
        return 0;
    static const size_t keeps[] = {0, 200, 1u << 20, 1u << 20};
    sniff_opts o = {.keep_bytes = keeps[(p[0] >> 1) & 3], .max_message = 1u << 16};
    sniff_hooks h = {on_call, on_conn};
    sniff *s = sniff_new(&o, &h, NULL);
    if (!s)
        return 0;
    flow_conn fc[2];
    memset(fc, 0, sizeof fc);
    for (int i = 0; i < 2; i++) {
        fc[i].id = (uint64_t)i + 1;
        fc[i].family = 4;
        fc[i].cport = (uint16_t)(40000 + i);
        fc[i].sport = 50051;
        fc[i].saw_syn = p[0] & 1;
        sniff_flow_opened(s, &fc[i]);
    }
    int64_t t = 1;
    for (size_t at = 1; at + 2 <= n;) {
        uint8_t ctl = p[at], len = p[at + 1];
        at += 2;
        flow_conn *c = &fc[(ctl >> 2) & 1];
        int dir = ctl & 1;
        t += 1000;
        if (ctl & 2) {
            sniff_flow_gap(s, c, dir, len, t);
            continue;
        }
        size_t k = n - at < len ? n - at : len;
        sniff_flow_data(s, c, dir, p + at, k, t);
        at += k;
    }
    sniff_flow_closed(s, &fc[0], FLOW_END_FIN, t);
    sniff_finish(s, t + 1);
    sniff_free(s);
    return 0;
}
