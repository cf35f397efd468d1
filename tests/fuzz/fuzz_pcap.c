/* fuzz_pcap.c -- libFuzzer target: arbitrary bytes as a capture file (pcap or pcapng) read
 * through pcapin, every segment read and handed to the reassembler. Besides "no crash, no
 * leak, no undefined behaviour" it checks each segment: a known family, no more captured
 * than sent, every payload byte readable, and statistics that add up. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "capture/pcapin.h"
#include "capture/tcpflow.h"

static uint8_t sink;

static void on_data(void *ud, flow_conn *c, int dir, const uint8_t *p, size_t n, int64_t ts)
{
    (void)ud;
    (void)c;
    (void)ts;
    if ((dir != FLOW_C2S && dir != FLOW_S2C) || !p || n == 0)
        abort();
    sink ^= p[0] ^ p[n - 1];
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    bool magic = pcapin_is_capture(p, n);
    FILE *f = fmemopen((void *)p, n, "rb");
    if (!f)
        return 0;
    char err[512];
    pcapin *in = pcapin_open_fp(f, err, sizeof err);
    if (!in)
        return 0;
    if (!magic) /* libpcap read it: it must have had a magic number */
        abort();
    if (pcapin_fd(in) != -1 || !pcapin_linktype(in))
        abort();
    tcpflow_hooks h = {.data = on_data};
    tcpflow *flow = tcpflow_new(&h, NULL, &(tcpflow_limits){.max_conns = 8, .max_pending = 4096});
    tcp_seg s;
    int r;
    uint64_t got = 0;
    while ((r = pcapin_next(in, &s, 0, err, sizeof err)) == 1 && got < 100000) {
        got++;
        if ((s.family != 4 && s.family != 6) || s.len > s.wire_len || (s.len && !s.data))
            abort();
        for (size_t i = 0; i < s.len; i++)
            sink ^= s.data[i];
        tcpflow_add(flow, &s);
    }
    if (r == 0)
        abort(); /* a file never waits */
    pcapin_stats st;
    pcapin_get_stats(in, &st);
    if (st.segments != got || st.packets != st.segments + st.skipped || st.truncated > got ||
        st.dropped)
        abort();
    tcpflow_finish(flow, 0);
    tcpflow_free(flow);
    pcapin_free(in);
    return 0;
}
