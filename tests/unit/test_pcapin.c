/* test_pcapin.c -- reading TCP segments with pcapin: captures written with libpcap's own
 * writer for every link type (Ethernet with and without a VLAN tag, Linux cooked v1 and v2,
 * raw IP, BSD loopback), IPv4 and IPv6 with extension headers, and the packets to skip
 * (fragments, not TCP, cut short); a pcapng file written by tshark; live capture on lo. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/tempdir.h"
#include "capture/pcapin.h"
#include "capture/tcpflow.h"

#include "testkit.h"

/* ---- packets ---- */

static const uint8_t V4A[4] = {10, 1, 2, 3}, V4B[4] = {10, 9, 8, 7};
static const uint8_t V6A[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t V6B[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0xbe, [15] = 0xef};

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* A TCP header with optlen bytes of options (a multiple of 4), then n bytes of data. */
static size_t tcp(uint8_t *p, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                  uint8_t flags, size_t optlen, const void *data, size_t n)
{
    memset(p, 0, 20 + optlen);
    put16(p, sport);
    put16(p + 2, dport);
    put32(p + 4, seq);
    put32(p + 8, ack);
    p[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    p[13] = flags;
    put16(p + 14, 65535);
    for (size_t i = 0; i < optlen; i++)
        p[20 + i] = 1; /* NOP */
    memcpy(p + 20 + optlen, data, n);
    return 20 + optlen + n;
}

/* An IPv4 header (protocol proto, flags and fragment offset frag) before n payload bytes. */
static size_t ipv4(uint8_t *p, uint8_t proto, unsigned frag, const uint8_t *payload, size_t n)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    put16(p + 2, (unsigned)(20 + n));
    put16(p + 6, frag);
    p[8] = 64;
    p[9] = proto;
    memcpy(p + 12, V4A, 4);
    memcpy(p + 16, V4B, 4);
    memmove(p + 20, payload, n);
    return 20 + n;
}

/* An IPv6 header, with a hop-by-hop and a destination-options header when ext, then a
 * header of protocol proto (n bytes at payload). */
static size_t ipv6(uint8_t *p, bool ext, uint8_t proto, const uint8_t *payload, size_t n)
{
    uint8_t h[40 + 24] = {0x60};
    size_t hl = 40;
    h[6] = ext ? 0 : proto;
    h[7] = 64;
    memcpy(h + 8, V6A, 16);
    memcpy(h + 24, V6B, 16);
    if (ext) {
        h[40] = 60; /* hop-by-hop: 8 bytes, then destination options: 16 bytes */
        h[41] = 0;
        h[42] = 1; /* PadN */
        h[43] = 4;
        h[48] = proto;
        h[49] = 1;
        h[50] = 1;
        h[51] = 12;
        hl = 64;
    }
    put16(h + 4, (unsigned)(hl - 40 + n));
    memmove(p + hl, payload, n);
    memcpy(p, h, hl);
    return hl + n;
}

typedef struct pkt {
    uint8_t b[600];
    size_t len;    /* on the wire */
    size_t caplen; /* captured: len unless the test cuts it */
} pkt;

/* The link-layer header of dlt before an IP packet of version v. */
static size_t link_hdr(int dlt, int v, bool vlan, uint8_t *p)
{
    unsigned et = v == 4 ? 0x0800 : 0x86dd;
    switch (dlt) {
    case DLT_EN10MB:
        memset(p, 0, 12);
        p[5] = 1;
        p[11] = 2;
        if (vlan) {
            put16(p + 12, 0x8100);
            put16(p + 14, 42);
            put16(p + 16, et);
            return 18;
        }
        put16(p + 12, et);
        return 14;
    case DLT_LINUX_SLL:
        memset(p, 0, 16);
        put16(p + 2, 772);
        put16(p + 14, et);
        return 16;
    case DLT_LINUX_SLL2:
        memset(p, 0, 20);
        put16(p, et);
        put32(p + 4, 1);
        put16(p + 8, 772);
        return 20;
    case DLT_NULL: { /* host byte order */
        uint32_t fam = v == 4 ? 2 : 10;
        memcpy(p, &fam, 4);
        return 4;
    }
    case DLT_LOOP:
        put32(p, v == 4 ? 2 : 24);
        return 4;
    default:
        return 0;
    }
}

/* A whole packet: link header, then IP (version v) around the TCP bytes t. */
static pkt frame(int dlt, int v, bool vlan, bool ext, const uint8_t *t, size_t tn)
{
    pkt k = {0};
    size_t at = link_hdr(dlt, v, vlan, k.b);
    at += v == 4 ? ipv4(k.b + at, 6, 0, t, tn) : ipv6(k.b + at, ext, 6, t, tn);
    k.len = k.caplen = at;
    return k;
}

/* ---- captures in memory ---- */

typedef struct capture {
    char *p;
    size_t n;
} capture;

/* A capture of link type dlt holding the packets, stamped 1700000000.000001 s and on. */
static capture write_capture(int dlt, u_int precision, const pkt *pk, size_t n)
{
    capture c = {0};
    FILE *f = open_memstream(&c.p, &c.n);
    cr_assert(f);
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(dlt, 65535, precision);
    cr_assert(dead);
    pcap_dumper_t *d = pcap_dump_fopen(dead, f);
    cr_assert(d, "%s", pcap_geterr(dead));
    for (size_t i = 0; i < n; i++) {
        struct pcap_pkthdr h = {.caplen = (bpf_u_int32)pk[i].caplen, .len = (bpf_u_int32)pk[i].len};
        h.ts.tv_sec = 1700000000;
        h.ts.tv_usec = (suseconds_t)(i + 1);
        pcap_dump((u_char *)d, &h, pk[i].b);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return c;
}

static pcapin *open_capture(const capture *c)
{
    FILE *f = fmemopen(c->p, c->n, "rb");
    cr_assert(f);
    char err[256] = "";
    pcapin *in = pcapin_open_fp(f, err, sizeof err);
    cr_assert(in, "%s", err);
    return in;
}

static void next_seg(pcapin *in, tcp_seg *s)
{
    char err[256] = "";
    int r = pcapin_next(in, s, 0, err, sizeof err);
    cr_assert_eq(r, 1, "pcapin_next: %d %s", r, err);
}

static void assert_end(pcapin *in)
{
    tcp_seg s;
    char err[256] = "";
    cr_assert_eq(pcapin_next(in, &s, 0, err, sizeof err), -1, "%s", err);
}

static void assert_seg(const tcp_seg *s, int family, uint16_t sport, uint16_t dport, uint32_t seq,
                       uint32_t ack, uint8_t flags, const char *data, size_t wire_len)
{
    cr_assert_eq(s->family, family);
    if (family == 4) {
        cr_assert(memcmp(s->src, V4A, 4) == 0 && memcmp(s->dst, V4B, 4) == 0);
        for (int i = 4; i < 16; i++)
            cr_assert(s->src[i] == 0 && s->dst[i] == 0);
    } else {
        cr_assert(memcmp(s->src, V6A, 16) == 0 && memcmp(s->dst, V6B, 16) == 0);
    }
    cr_assert_eq(s->sport, sport);
    cr_assert_eq(s->dport, dport);
    cr_assert_eq(s->seq, seq);
    cr_assert_eq(s->ack, ack);
    cr_assert_eq(s->flags, flags);
    cr_assert_eq(s->len, strlen(data));
    cr_assert(memcmp(s->data, data, s->len) == 0);
    cr_assert_eq(s->wire_len, wire_len);
}

static void assert_stats(pcapin *in, uint64_t packets, uint64_t segments, uint64_t skipped,
                         uint64_t truncated)
{
    pcapin_stats st;
    pcapin_get_stats(in, &st);
    cr_assert_eq(st.packets, packets);
    cr_assert_eq(st.segments, segments);
    cr_assert_eq(st.skipped, skipped);
    cr_assert_eq(st.truncated, truncated);
    cr_assert_eq(st.dropped, 0);
}

/* ---- every link type ---- */

/* An IPv4 segment with options and "hello", then an IPv6 one with extension headers and
 * "six", read back from a capture of link type dlt. */
static void both_families(int dlt, const char *name)
{
    uint8_t t[128];
    pkt pk[2];
    size_t tn = tcp(t, 40000, 8080, 0x01020304, 0x0a0b0c0d, TCP_ACK | TCP_PSH, 12, "hello", 5);
    pk[0] = frame(dlt, 4, false, false, t, tn);
    tn = tcp(t, 40001, 443, 0xfffffff0, 7, TCP_ACK, 0, "six", 3);
    pk[1] = frame(dlt, 6, false, true, t, tn);
    capture c = write_capture(dlt, PCAP_TSTAMP_PRECISION_MICRO, pk, 2);
    pcapin *in = open_capture(&c);
    cr_assert_str_eq(pcapin_linktype(in), name);
    cr_assert_eq(pcapin_fd(in), -1);
    tcp_seg s;
    next_seg(in, &s);
    assert_seg(&s, 4, 40000, 8080, 0x01020304, 0x0a0b0c0d, TCP_ACK | TCP_PSH, "hello", 5);
    cr_assert_eq(s.ts_us, 1700000000000001LL);
    next_seg(in, &s);
    assert_seg(&s, 6, 40001, 443, 0xfffffff0, 7, TCP_ACK, "six", 3);
    cr_assert_eq(s.ts_us, 1700000000000002LL);
    assert_end(in);
    assert_end(in);
    assert_stats(in, 2, 2, 0, 0);
    pcapin_free(in);
    free(c.p);
}

Test(pcapin, ethernet) { both_families(DLT_EN10MB, "EN10MB"); }
Test(pcapin, linux_cooked) { both_families(DLT_LINUX_SLL, "LINUX_SLL"); }
Test(pcapin, linux_cooked_v2) { both_families(DLT_LINUX_SLL2, "LINUX_SLL2"); }
Test(pcapin, raw_ip) { both_families(DLT_RAW, "RAW"); }
Test(pcapin, bsd_loopback_host_order) { both_families(DLT_NULL, "NULL"); }
Test(pcapin, bsd_loopback_network_order) { both_families(DLT_LOOP, "LOOP"); }

Test(pcapin, raw_ipv4_and_ipv6_link_types)
{
    uint8_t t[64];
    size_t tn = tcp(t, 1, 2, 3, 4, TCP_SYN, 0, "", 0);
    pkt v4 = frame(DLT_IPV4, 4, false, false, t, tn), v6 = frame(DLT_IPV6, 6, false, false, t, tn);
    pkt mixed[2] = {v4, v6}; /* the IPv6 packet does not belong in an IPV4 capture */
    capture c = write_capture(DLT_IPV4, PCAP_TSTAMP_PRECISION_MICRO, mixed, 2);
    pcapin *in = open_capture(&c);
    tcp_seg s;
    next_seg(in, &s);
    assert_seg(&s, 4, 1, 2, 3, 4, TCP_SYN, "", 0);
    assert_end(in);
    assert_stats(in, 2, 1, 1, 0);
    pcapin_free(in);
    free(c.p);
    mixed[0] = v6;
    mixed[1] = v4;
    c = write_capture(DLT_IPV6, PCAP_TSTAMP_PRECISION_MICRO, mixed, 2);
    in = open_capture(&c);
    next_seg(in, &s);
    assert_seg(&s, 6, 1, 2, 3, 4, TCP_SYN, "", 0);
    assert_end(in);
    assert_stats(in, 2, 1, 1, 0);
    pcapin_free(in);
    free(c.p);
}

/* ---- what is skipped, cut or padded ---- */

Test(pcapin, ethernet_vlan_padding_fragments_and_cuts)
{
    uint8_t t[300], u[16] = {0x30, 0x39, 0x00, 0x35, 0x00, 0x10};
    char big[100];
    memset(big, 'x', sizeof big);
    pkt pk[9];
    size_t n = 0, tn;
    tn = tcp(t, 40000, 8080, 100, 0, TCP_SYN, 12, "", 0);
    pk[n++] = frame(DLT_EN10MB, 4, false, false, t, tn);
    tn = tcp(t, 40000, 8080, 101, 1, TCP_ACK | TCP_PSH, 0, "hello", 5);
    pk[n++] = frame(DLT_EN10MB, 4, true, false, t, tn); /* with a VLAN tag */
    tn = tcp(t, 40000, 8080, 106, 1, TCP_ACK, 0, "hi", 2);
    pk[n] = frame(DLT_EN10MB, 4, false, false, t, tn); /* padded to Ethernet's 60 bytes */
    pk[n].len = pk[n].caplen = 60;
    n++;
    pk[n] = frame(DLT_EN10MB, 4, false, false, t, tn); /* a first fragment */
    put16(pk[n].b + 14 + 6, 0x2000);
    n++;
    pk[n] = frame(DLT_EN10MB, 4, false, false, u, sizeof u); /* UDP */
    pk[n].b[14 + 9] = 17;
    n++;
    pk[n] = frame(DLT_EN10MB, 4, false, false, t, tn); /* ARP */
    put16(pk[n].b + 12, 0x0806);
    n++;
    tn = tcp(t, 40001, 443, 9, 0, TCP_ACK, 0, "frag", 4);
    pk[n] = frame(DLT_EN10MB, 6, false, false, t, tn); /* IPv6 with a fragment header */
    pk[n].b[14 + 6] = 44;
    n++;
    tn = tcp(t, 40000, 8080, 108, 1, TCP_ACK, 0, big, sizeof big);
    pk[n] = frame(DLT_EN10MB, 4, false, false, t, tn); /* the snapshot keeps 30 bytes */
    pk[n].caplen = pk[n].len - 70;
    n++;
    pk[n] = frame(DLT_EN10MB, 4, false, false, t, tn); /* cut in the TCP header */
    pk[n].caplen = 14 + 20 + 10;
    n++;
    capture c = write_capture(DLT_EN10MB, PCAP_TSTAMP_PRECISION_MICRO, pk, n);
    pcapin *in = open_capture(&c);
    tcp_seg s;
    next_seg(in, &s);
    assert_seg(&s, 4, 40000, 8080, 100, 0, TCP_SYN, "", 0);
    next_seg(in, &s);
    assert_seg(&s, 4, 40000, 8080, 101, 1, TCP_ACK | TCP_PSH, "hello", 5);
    next_seg(in, &s);
    assert_seg(&s, 4, 40000, 8080, 106, 1, TCP_ACK, "hi", 2);
    cr_assert_eq(s.ts_us, 1700000000000003LL);
    next_seg(in, &s);
    cr_assert_eq(s.seq, 108);
    cr_assert_eq(s.len, 30);
    cr_assert_eq(s.wire_len, 100);
    cr_assert(memcmp(s.data, big, 30) == 0);
    assert_end(in);
    assert_stats(in, 9, 4, 5, 1);
    pcapin_free(in);
    free(c.p);
}

Test(pcapin, nanosecond_capture)
{
    uint8_t t[64];
    size_t tn = tcp(t, 5, 6, 7, 8, TCP_FIN | TCP_ACK, 0, "z", 1);
    pkt pk = frame(DLT_EN10MB, 4, false, false, t, tn);
    capture c = write_capture(DLT_EN10MB, PCAP_TSTAMP_PRECISION_NANO, &pk, 1);
    cr_assert(pcapin_is_capture((const uint8_t *)c.p, c.n));
    pcapin *in = open_capture(&c);
    tcp_seg s;
    next_seg(in, &s);
    cr_assert_eq(s.ts_us, 1700000000000000LL); /* 1 ns */
    pcapin_free(in);
    free(c.p);
}

Test(pcapin, unsupported_link_type_and_bad_files)
{
    pkt pk = {.len = 10, .caplen = 10};
    capture c = write_capture(DLT_IEEE802_11, PCAP_TSTAMP_PRECISION_MICRO, &pk, 1);
    char err[256] = "";
    pcapin *in = pcapin_open_fp(fmemopen(c.p, c.n, "rb"), err, sizeof err);
    cr_assert_null(in);
    cr_assert(strstr(err, "IEEE802_11"), "%s", err);
    free(c.p);
    err[0] = '\0';
    cr_assert_null(pcapin_open_file("/nonexistent/x.pcap", err, sizeof err));
    cr_assert(strstr(err, "/nonexistent/x.pcap"), "%s", err);
    static char junk[] = "GET / HTTP/1.1\r\n\r\n";
    err[0] = '\0';
    cr_assert_null(pcapin_open_fp(fmemopen(junk, sizeof junk - 1, "rb"), err, sizeof err));
    cr_assert(err[0]);
}

Test(pcapin, magics)
{
    static const char *yes[] = {"a1b2c3d4", "d4c3b2a1", "a1b23c4d", "4d3cb2a1", "0a0d0d0a"};
    for (size_t i = 0; i < 5; i++) {
        bytes b = unhex(yes[i]);
        cr_assert(pcapin_is_capture(b.p, b.n), "%s", yes[i]);
        cr_assert(!pcapin_is_capture(b.p, 3));
        free(b.p);
    }
    bytes b = unhex("a1b2c3d5");
    cr_assert(!pcapin_is_capture(b.p, b.n));
    free(b.p);
    cr_assert(!pcapin_is_capture((const uint8_t *)"PRI * HTTP/2.0", 14));
}

Test(pcapin, endpoints)
{
    char out[48];
    cr_assert_str_eq(tcp_endpoint_str(4, V4A, 50051, out, sizeof out), "10.1.2.3:50051");
    cr_assert_str_eq(tcp_endpoint_str(6, V6B, 443, out, sizeof out), "[2001:db8::beef]:443");
    uint8_t lo6[16] = {[15] = 1};
    cr_assert_str_eq(tcp_endpoint_str(6, lo6, 1, out, sizeof out), "[::1]:1");
}

/* ---- a pcapng file from tshark ---- */

/* tshark -i lo -f "tcp port 55191" -w x.pcapng while curl fetched /hi.txt from
 * python3 -m http.server: the handshake, GET, an HTTP/1.0 reply in two segments, FINs. */
static const char CURL_PCAPNG[] =
    "0a0d0d0ab40000004d3c2b1a01000000ffffffffffffffff02002800496e74656c2852292058656f6e285229"
    "2050726f636573736f7220287769746820535345342e3229030016004c696e757820362e31382e34342d6663"
    "2d763130343500000400450044756d70636170202857697265736861726b2920342e302e3137202847697420"
    "76342e302e3137207061636b6167656420617320342e302e31372d302b646562313275332900000000000000"
    "b400000001000000580000000100000000000400020002006c6f000009000100090000000b000f0000746370"
    "20706f7274203535313931000c0016004c696e757820362e31382e34342d66632d7631303435000000000000"
    "58000000060000006c00000000000000719ded181bf4fc2d4a0000004a000000000000000000000000000000"
    "08004500003c36df4000400605db7f0000017f000001b68ed7973946e3dc00000000a002ffd7fe3000000204"
    "ffd70402080a57d91a5c000000000103030a00006c000000060000006c00000000000000719ded187e31fd2d"
    "4a0000004a00000000000000000000000000000008004500003c0000400040063cba7f0000017f000001d797"
    "b68ed5e41d453946e3dda012ffcbfe3000000204ffd70402080a9ac5e6b357d91a5c0103030a00006c000000"
    "060000006400000000000000719ded18e86ffd2d420000004200000000000000000000000000000008004500"
    "003436e04000400605e27f0000017f000001b68ed7973946e3ddd5e41d4680100040fe2800000101080a57d9"
    "1a5c9ac5e6b300006400000006000000b800000000000000719ded18ed2bfe2d970000009700000000000000"
    "000000000000000008004500008936e140004006058c7f0000017f000001b68ed7973946e3ddd5e41d468018"
    "0040fe7d00000101080a57d91a5c9ac5e6b3474554202f68692e74787420485454502f312e310d0a486f7374"
    "3a203132372e302e302e313a35353139310d0a557365722d4167656e743a206375726c2f372e38382e310d0a"
    "4163636570743a202a2f2a0d0a0d0a00b8000000060000006400000000000000719ded18683ffe2d42000000"
    "4200000000000000000000000000000008004500003446ae40004006f6137f0000017f000001d797b68ed5e4"
    "1d463946e43280100040fe2800000101080a9ac5e6b357d91a5c000064000000060000001c01000000000000"
    "719ded18ff874a2efc000000fc0000000000000000000000000000000800450000ee46af40004006f5587f00"
    "00017f000001d797b68ed5e41d463946e43280180040fee200000101080a9ac5e6b857d91a5c485454502f31"
    "2e3020323030204f4b0d0a5365727665723a2053696d706c65485454502f302e3620507974686f6e2f332e31"
    "312e370d0a446174653a205468752c2030332044656320323032362030323a32383a353520474d540d0a436f"
    "6e74656e742d747970653a20746578742f706c61696e0d0a436f6e74656e742d4c656e6774683a2032330d0a"
    "4c6173742d4d6f6469666965643a205468752c2030332044656320323032362030323a32383a353420474d54"
    "0d0a0d0a1c010000060000006400000000000000719ded18b2034b2e42000000420000000000000000000000"
    "0000000008004500003436e24000400605e07f0000017f000001b68ed7973946e432d5e41e0080100040fe28"
    "00000101080a57d91a619ac5e6b8000064000000060000007c00000000000000719ded18f3834b2e59000000"
    "5900000000000000000000000000000008004500004b46b040004006f5fa7f0000017f000001d797b68ed5e4"
    "1e003946e43280180040fe3f00000101080a9ac5e6b857d91a6168656c6c6f2066726f6d2074686520636170"
    "747572650a0000007c000000060000006400000000000000719ded18698e4b2e420000004200000000000000"
    "000000000000000008004500003436e34000400605df7f0000017f000001b68ed7973946e432d5e41e178010"
    "0040fe2800000101080a57d91a619ac5e6b8000064000000060000006400000000000000719ded1801214c2e"
    "420000004200000000000000000000000000000008004500003446b140004006f6107f0000017f000001d797"
    "b68ed5e41e173946e43280110040fe2800000101080a9ac5e6b857d91a610000640000000600000064000000"
    "00000000719ded18f6e34c2e420000004200000000000000000000000000000008004500003436e440004006"
    "05de7f0000017f000001b68ed7973946e432d5e41e1880110040fe2800000101080a57d91a619ac5e6b80000"
    "64000000060000006400000000000000719ded18029b4d2e4200000042000000000000000000000000000000"
    "08004500003446b240004006f60f7f0000017f000001d797b68ed5e41e183946e43380100040fe2800000101"
    "080a9ac5e6b857d91a61000064000000050000006c00000000000000b1610600dc70ab8501001c00436f756e"
    "746572732070726f76696465642062792064756d7063617002000800b1610600ffce6a8503000800b1610600"
    "8a70ab85040008000c00000000000000050008000000000000000000000000006c000000";

static void count_bytes(void *ud, flow_conn *c, int dir, const uint8_t *p, size_t n, int64_t ts)
{
    (void)c;
    (void)ts;
    buf *b = (buf *)ud + dir;
    cr_assert(buf_append(b, p, n) == 0);
}

static void closed_fin(void *ud, flow_conn *c, flow_end why, int64_t ts)
{
    (void)ud;
    (void)ts;
    cr_assert_eq(why, FLOW_END_FIN);
    cr_assert(c->saw_syn && !c->guessed);
    cr_assert_eq(c->sport, 55191);
    cr_assert_eq(c->cport, 46734);
}

Test(pcapin, pcapng_from_tshark)
{
    char dir[256], path[300];
    cr_assert_eq(tempdir_make(dir, sizeof dir, "wb-pcapin"), 0);
    snprintf(path, sizeof path, "%s/curl.pcapng", dir);
    bytes b = unhex(CURL_PCAPNG);
    cr_assert(pcapin_is_capture(b.p, b.n));
    FILE *out = fopen(path, "wb");
    cr_assert(out && fwrite(b.p, 1, b.n, out) == b.n);
    fclose(out);
    free(b.p);
    char err[256] = "";
    pcapin *in = pcapin_open_file(path, err, sizeof err);
    tempdir_remove(dir);
    cr_assert(in, "%s", err);
    cr_assert_str_eq(pcapin_linktype(in), "EN10MB");
    static const struct {
        uint16_t sport;
        uint32_t seq, ack;
        uint8_t flags;
        size_t len;
    } want[12] = {
        {46734, 960947164, 0, 0x02, 0},          {55191, 3588496709, 960947165, 0x12, 0},
        {46734, 960947165, 3588496710, 0x10, 0}, {46734, 960947165, 3588496710, 0x18, 85},
        {55191, 3588496710, 960947250, 0x10, 0}, {55191, 3588496710, 960947250, 0x18, 186},
        {46734, 960947250, 3588496896, 0x10, 0}, {55191, 3588496896, 960947250, 0x18, 23},
        {46734, 960947250, 3588496919, 0x10, 0}, {55191, 3588496919, 960947250, 0x11, 0},
        {46734, 960947250, 3588496920, 0x11, 0}, {55191, 3588496920, 960947251, 0x10, 0},
    };
    buf got[2];
    buf_init(&got[0], 4096);
    buf_init(&got[1], 4096);
    tcpflow_hooks h = {.data = count_bytes, .closed = closed_fin};
    tcpflow *f = tcpflow_new(&h, got, NULL);
    static const uint8_t lo[4] = {127, 0, 0, 1};
    tcp_seg s;
    for (int i = 0; i < 12; i++) {
        next_seg(in, &s);
        cr_assert_eq(s.family, 4);
        cr_assert(memcmp(s.src, lo, 4) == 0 && memcmp(s.dst, lo, 4) == 0);
        cr_assert_eq(s.sport, want[i].sport, "segment %d", i + 1);
        cr_assert_eq(s.dport, want[i].sport == 55191 ? 46734 : 55191);
        cr_assert_eq(s.seq, want[i].seq, "segment %d", i + 1);
        cr_assert_eq(s.ack, want[i].ack, "segment %d", i + 1);
        cr_assert_eq(s.flags, want[i].flags, "segment %d", i + 1);
        cr_assert_eq(s.len, want[i].len, "segment %d", i + 1);
        cr_assert_eq(s.wire_len, want[i].len);
        if (i == 0)
            cr_assert_eq(s.ts_us, 1796264935819113LL); /* from nanoseconds */
        if (i == 11)
            cr_assert_eq(s.ts_us, 1796264935824399LL);
        tcpflow_add(f, &s);
    }
    assert_end(in);
    assert_stats(in, 12, 12, 0, 0);
    pcapin_free(in);
    tcpflow_free(f);
    cr_assert_eq(buf_size(&got[0]), 85);
    cr_assert_eq(buf_size(&got[1]), 209);
    const char *req = "GET /hi.txt HTTP/1.1\r\nHost: 127.0.0.1:55191\r\n";
    cr_assert(memcmp(buf_data(&got[0]), req, strlen(req)) == 0);
    cr_assert(memcmp(buf_data(&got[1]), "HTTP/1.0 200 OK\r\n", 17) == 0);
    cr_assert(memcmp(buf_data(&got[1]) + 186, "hello from the capture\n", 23) == 0);
    buf_done(&got[0]);
    buf_done(&got[1]);
}

/* ---- live ---- */

static bool can_capture(void)
{
    char err[512];
    pcapin *in = pcapin_open_live("lo", NULL, 0, err, sizeof err);
    pcapin_free(in);
    return in != NULL;
}

Test(pcapin, live_on_loopback)
{
    if (!can_capture())
        cr_skip_test("capturing on lo needs root or cap_net_raw");
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    cr_assert(bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 1) == 0);
    getsockname(ls, (struct sockaddr *)&a, &al);
    uint16_t port = ntohs(a.sin_port), ports[2] = {1, port};
    char err[512] = "";
    pcapin *in = pcapin_open_live("lo", ports, 2, err, sizeof err);
    cr_assert(in, "%s", err);
    cr_assert(pcapin_fd(in) >= 0);
    cr_assert_str_eq(pcapin_linktype(in), "EN10MB");
    tcp_seg s;
    cr_assert_eq(pcapin_next(in, &s, 50, err, sizeof err), 0); /* nothing yet */
    int cs = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(connect(cs, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert(write(cs, "ping", 4) == 4);
    bool syn = false, ping = false;
    uint64_t until = clock_now_ms() + 3000;
    while (!(syn && ping) && clock_now_ms() < until) {
        int r = pcapin_next(in, &s, 200, err, sizeof err);
        cr_assert(r >= 0, "%d %s", r, err);
        if (r == 0)
            continue;
        cr_assert(s.sport == port || s.dport == port);
        syn |= (s.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && s.dport == port;
        ping |= s.len == 4 && memcmp(s.data, "ping", 4) == 0 && s.wire_len == 4;
    }
    cr_assert(syn && ping);
    pcapin_stats st;
    pcapin_get_stats(in, &st);
    cr_assert(st.segments >= 2 && st.packets == st.segments + st.skipped);
    pcapin_break(in);
    uint64_t t0 = clock_now_ms();
    cr_assert_eq(pcapin_next(in, &s, 5000, err, sizeof err), -1);
    cr_assert(clock_now_ms() - t0 < 1000);
    pcapin_free(in);
    close(cs);
    close(ls);
}

Test(pcapin, live_errors_say_what_to_do)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to have and to drop the capture capability");
    char err[1024] = "";
    cr_assert_null(pcapin_open_live("nosuchif0", NULL, 0, err, sizeof err));
    cr_assert(strstr(err, "nosuchif0") && strstr(err, "lo"), "%s", err);
    cr_assert(setuid(65534) == 0); /* this test's own process */
    err[0] = '\0';
    cr_assert_null(pcapin_open_live(NULL, NULL, 0, err, sizeof err));
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert(n > 0);
    exe[n] = '\0';
    char want[700];
    snprintf(want, sizeof want,
             "capturing on lo needs the capture capability: run it as root (sudo ...), or give "
             "the program the capability once: sudo setcap cap_net_raw,cap_net_admin=eip %s",
             exe);
    cr_assert_str_eq(err, want);
}
