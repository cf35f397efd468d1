/* test_tcpflow.c -- TCP reassembly: in order, out of order, retransmissions, mid-stream
 * starts, wrap-around, gaps, the ends of a connection and the limits, checked by the exact
 * bytes delivered and the order of the hooks. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/tcpflow.h"

/* Every hook call, one line each, e.g. "data 1 c2s 'hello'". */
typedef struct log {
    char text[65536];
    size_t n;
} log;

static void say(log *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->text + l->n, sizeof l->text - l->n, fmt, ap);
    va_end(ap);
    cr_assert(k >= 0 && (size_t)k < sizeof l->text - l->n, "the log overflowed");
    l->n += (size_t)k;
}

/* "10.0.0.1:40000" or "[::1]:443" */
static char *endpoint(int family, const uint8_t *addr, uint16_t port, char *out, size_t cap)
{
    char a[INET6_ADDRSTRLEN];
    inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof a);
    snprintf(out, cap, family == 6 ? "[%s]:%u" : "%s:%u", a, (unsigned)port);
    return out;
}

static const char *dname(int dir) { return dir == FLOW_C2S ? "c2s" : "s2c"; }

static void on_open(void *ud, flow_conn *c)
{
    char cl[48], sv[48];
    endpoint(c->family, c->client, c->cport, cl, sizeof cl);
    endpoint(c->family, c->server, c->sport, sv, sizeof sv);
    say(ud, "open %llu %s>%s%s%s\n", (unsigned long long)c->id, cl, sv,
        c->saw_syn ? " syn" : "", c->guessed ? " guessed" : "");
}

static void on_data(void *ud, flow_conn *c, int dir, const uint8_t *p, size_t n, int64_t ts)
{
    say(ud, "data %llu %s '%.*s' @%lld\n", (unsigned long long)c->id, dname(dir), (int)n,
        (const char *)p, (long long)ts);
}

static void on_gap(void *ud, flow_conn *c, int dir, uint64_t n, int64_t ts)
{
    (void)ts;
    say(ud, "gap %llu %s %llu\n", (unsigned long long)c->id, dname(dir), (unsigned long long)n);
}

static void on_closed(void *ud, flow_conn *c, flow_end why, int64_t ts)
{
    static const char *names[] = {"fin", "rst", "evicted", "idle", "input"};
    say(ud, "close %llu %s @%lld c2s=%llu/%llu s2c=%llu/%llu\n", (unsigned long long)c->id,
        names[why], (long long)ts, (unsigned long long)c->bytes[0],
        (unsigned long long)c->missing[0], (unsigned long long)c->bytes[1],
        (unsigned long long)c->missing[1]);
}

static const tcpflow_hooks HOOKS = {on_open, on_data, on_gap, on_closed};

/* The client 10.0.0.1:40000 and the server 10.0.0.2:8080 unless a test says otherwise. */
enum { CPORT = 40000, SPORT = 8080 };
static const uint32_t CISN = 1000, SISN = 5000;

static tcp_seg seg(int64_t ts, int dir, uint32_t seq, uint8_t flags, const char *data)
{
    tcp_seg s = {.ts_us = ts, .family = 4, .flags = flags};
    uint8_t c[4] = {10, 0, 0, 1}, sv[4] = {10, 0, 0, 2};
    memcpy(s.src, dir == FLOW_C2S ? c : sv, 4);
    memcpy(s.dst, dir == FLOW_C2S ? sv : c, 4);
    s.sport = dir == FLOW_C2S ? CPORT : SPORT;
    s.dport = dir == FLOW_C2S ? SPORT : CPORT;
    s.seq = seq;
    s.data = (const uint8_t *)data;
    s.len = s.wire_len = data ? strlen(data) : 0;
    return s;
}

static void add(tcpflow *f, int64_t ts, int dir, uint32_t seq, uint8_t flags, const char *data)
{
    tcp_seg s = seg(ts, dir, seq, flags, data);
    if (flags & TCP_ACK)
        s.ack = 1;
    tcpflow_add(f, &s);
}

/* Client payload byte k (0-based) has sequence number CISN + 1 + k. */
#define C(k) (CISN + 1 + (k))
#define S(k) (SISN + 1 + (k))

static void handshake(tcpflow *f)
{
    add(f, 1, FLOW_C2S, CISN, TCP_SYN, NULL);
    add(f, 2, FLOW_S2C, SISN, TCP_SYN | TCP_ACK, NULL);
    add(f, 3, FLOW_C2S, C(0), TCP_ACK, NULL);
}

static tcpflow *make(log *l, const tcpflow_limits *lim)
{
    memset(l, 0, sizeof *l);
    tcpflow *f = tcpflow_new(&HOOKS, l, lim);
    cr_assert(f);
    return f;
}

static void expect(tcpflow *f, log *l, const char *want)
{
    tcpflow_free(f);
    cr_assert_str_eq(l->text, want);
}

#define OPEN1 "open 1 10.0.0.1:40000>10.0.0.2:8080 syn\n"

Test(tcpflow, in_order_with_fin_both_ways)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(0), TCP_ACK | TCP_PSH, "hello ");
    add(f, 11, FLOW_C2S, C(6), TCP_ACK | TCP_PSH, "world");
    add(f, 12, FLOW_S2C, S(0), TCP_ACK | TCP_PSH, "hi");
    add(f, 13, FLOW_C2S, C(11), TCP_ACK | TCP_FIN, NULL);
    add(f, 14, FLOW_S2C, S(2), TCP_ACK | TCP_FIN, NULL);
    add(f, 15, FLOW_C2S, C(12), TCP_ACK, NULL); /* the last ACK opens nothing */
    expect(f, &l,
           OPEN1 "data 1 c2s 'hello ' @10\n"
                 "data 1 c2s 'world' @11\n"
                 "data 1 s2c 'hi' @12\n"
                 "close 1 fin @14 c2s=11/0 s2c=2/0\n");
}

Test(tcpflow, fin_waits_for_the_bytes_before_it)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(3), TCP_ACK | TCP_FIN, "def");
    add(f, 11, FLOW_S2C, S(0), TCP_ACK | TCP_FIN, NULL);
    add(f, 12, FLOW_C2S, C(0), TCP_ACK, "abc");
    expect(f, &l,
           OPEN1 "data 1 c2s 'abc' @12\n"
                 "data 1 c2s 'def' @12\n"
                 "close 1 fin @12 c2s=6/0 s2c=0/0\n");
}

/* Delivers "abcdefghij" in four pieces sent in the order given. */
static void permutation(const int order[4], const char *want)
{
    static const struct {
        int at;
        const char *s;
    } piece[4] = {{0, "abc"}, {3, "de"}, {5, "fgh"}, {8, "ij"}};
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    for (int i = 0; i < 4; i++)
        add(f, 10 + i, FLOW_C2S, C(piece[order[i]].at), TCP_ACK, piece[order[i]].s);
    expect(f, &l, want);
}

Test(tcpflow, out_of_order)
{
    permutation((int[]){1, 0, 2, 3}, OPEN1 "data 1 c2s 'abc' @11\n"
                                           "data 1 c2s 'de' @11\n"
                                           "data 1 c2s 'fgh' @12\n"
                                           "data 1 c2s 'ij' @13\n"
                                           "close 1 input @13 c2s=10/0 s2c=0/0\n");
    permutation((int[]){3, 2, 1, 0}, OPEN1 "data 1 c2s 'abc' @13\n"
                                           "data 1 c2s 'de' @13\n"
                                           "data 1 c2s 'fgh' @13\n"
                                           "data 1 c2s 'ij' @13\n"
                                           "close 1 input @13 c2s=10/0 s2c=0/0\n");
    permutation((int[]){2, 0, 3, 1}, OPEN1 "data 1 c2s 'abc' @11\n"
                                           "data 1 c2s 'de' @13\n"
                                           "data 1 c2s 'fgh' @13\n"
                                           "data 1 c2s 'ij' @13\n"
                                           "close 1 input @13 c2s=10/0 s2c=0/0\n");
    permutation((int[]){0, 3, 1, 2}, OPEN1 "data 1 c2s 'abc' @10\n"
                                           "data 1 c2s 'de' @12\n"
                                           "data 1 c2s 'fgh' @13\n"
                                           "data 1 c2s 'ij' @13\n"
                                           "close 1 input @13 c2s=10/0 s2c=0/0\n");
}

Test(tcpflow, retransmission_whole_and_partial)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(0), TCP_ACK, "abcd");
    add(f, 11, FLOW_C2S, C(0), TCP_ACK, "abcd");   /* whole */
    add(f, 12, FLOW_C2S, C(2), TCP_ACK, "cdefg");  /* partial: "efg" is new */
    add(f, 13, FLOW_C2S, C(10), TCP_ACK, "klm");   /* waits */
    add(f, 14, FLOW_C2S, C(9), TCP_ACK, "jklmn");  /* "j" fills, "klm" waits already, "n" new */
    add(f, 15, FLOW_C2S, C(7), TCP_ACK, "hi");     /* fills the hole */
    expect(f, &l,
           OPEN1 "data 1 c2s 'abcd' @10\n"
                 "data 1 c2s 'efg' @12\n"
                 "data 1 c2s 'hi' @15\n"
                 "data 1 c2s 'j' @15\n"
                 "data 1 c2s 'klm' @15\n"
                 "data 1 c2s 'n' @15\n"
                 "close 1 input @15 c2s=14/0 s2c=0/0\n");
}

Test(tcpflow, overlap_covering_waiting_segments)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(2), TCP_ACK, "cd");
    add(f, 11, FLOW_C2S, C(6), TCP_ACK, "gh");
    add(f, 12, FLOW_C2S, C(1), TCP_ACK, "BCDEFGHI"); /* the waiting bytes win */
    add(f, 13, FLOW_C2S, C(0), TCP_ACK, "abcdefghijk");
    expect(f, &l,
           OPEN1 "data 1 c2s 'abcdefghijk' @13\n"
                 "close 1 input @13 c2s=11/0 s2c=0/0\n");
    /* the same, but the first byte arrives before the long one */
    f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(2), TCP_ACK, "cd");
    add(f, 11, FLOW_C2S, C(6), TCP_ACK, "gh");
    add(f, 12, FLOW_C2S, C(1), TCP_ACK, "BCDEFGHI");
    add(f, 13, FLOW_C2S, C(0), TCP_ACK, "a");
    expect(f, &l,
           OPEN1 "data 1 c2s 'a' @13\n"
                 "data 1 c2s 'B' @13\n"
                 "data 1 c2s 'cd' @13\n"
                 "data 1 c2s 'EF' @13\n"
                 "data 1 c2s 'gh' @13\n"
                 "data 1 c2s 'I' @13\n"
                 "close 1 input @13 c2s=9/0 s2c=0/0\n");
}

Test(tcpflow, keepalive_probe_is_a_retransmission)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(0), TCP_ACK, "ab");
    add(f, 20, FLOW_C2S, C(1), TCP_ACK, "x"); /* one byte before next */
    add(f, 21, FLOW_S2C, S(0), TCP_ACK, NULL);
    add(f, 22, FLOW_C2S, C(2), TCP_ACK, "c");
    expect(f, &l,
           OPEN1 "data 1 c2s 'ab' @10\n"
                 "data 1 c2s 'c' @22\n"
                 "close 1 input @22 c2s=3/0 s2c=0/0\n");
}

Test(tcpflow, mid_stream_roles_by_server_ports)
{
    log l;
    uint16_t ports[] = {40000}; /* here the higher port is the server */
    tcpflow_limits lim = {.server_ports = ports, .nserver_ports = 1};
    tcpflow *f = make(&l, &lim);
    add(f, 10, FLOW_C2S, 777, TCP_ACK, NULL);     /* an ACK alone opens nothing */
    add(f, 11, FLOW_S2C, 123456, TCP_ACK, "req"); /* 10.0.0.2:8080 -> 10.0.0.1:40000 */
    add(f, 12, FLOW_C2S, 999, TCP_ACK, "rep");
    add(f, 13, FLOW_S2C, 123459, TCP_ACK, "2");
    add(f, 14, FLOW_S2C, 123455, TCP_ACK, "xre");  /* before the first: a retransmission */
    expect(f, &l,
           "open 1 10.0.0.2:8080>10.0.0.1:40000 guessed\n"
           "data 1 c2s 'req' @11\n"
           "data 1 s2c 'rep' @12\n"
           "data 1 c2s '2' @13\n"
           "close 1 input @14 c2s=4/0 s2c=3/0\n");
}

Test(tcpflow, mid_stream_roles_by_lower_port)
{
    log l;
    tcpflow *f = make(&l, NULL);
    add(f, 10, FLOW_S2C, 123456, TCP_ACK, "reply");
    add(f, 11, FLOW_C2S, 42, TCP_ACK | TCP_PSH, "next");
    expect(f, &l,
           "open 1 10.0.0.1:40000>10.0.0.2:8080 guessed\n"
           "data 1 s2c 'reply' @10\n"
           "data 1 c2s 'next' @11\n"
           "close 1 input @11 c2s=4/0 s2c=5/0\n");
}

Test(tcpflow, syn_ack_alone_gives_roles_and_the_client_isn)
{
    log l;
    tcpflow *f = make(&l, NULL);
    tcp_seg s = seg(1, FLOW_S2C, SISN, TCP_SYN | TCP_ACK, NULL);
    s.ack = C(0);
    tcpflow_add(f, &s);
    add(f, 2, FLOW_C2S, C(3), TCP_ACK, "def"); /* waits: the client's first bytes are known */
    add(f, 3, FLOW_C2S, C(0), TCP_ACK, "abc");
    expect(f, &l,
           OPEN1 "data 1 c2s 'abc' @3\n"
                 "data 1 c2s 'def' @3\n"
                 "close 1 input @3 c2s=6/0 s2c=0/0\n");
}

Test(tcpflow, both_directions_interleaved)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(3), TCP_ACK, "2");
    add(f, 11, FLOW_S2C, S(2), TCP_ACK, "B");
    add(f, 12, FLOW_C2S, C(0), TCP_ACK, "q1 ");
    add(f, 13, FLOW_S2C, S(0), TCP_ACK, "r1");
    add(f, 14, FLOW_C2S, C(4), TCP_ACK, "!");
    add(f, 15, FLOW_S2C, S(3), TCP_ACK, "C");
    expect(f, &l,
           OPEN1 "data 1 c2s 'q1 ' @12\n"
                 "data 1 c2s '2' @12\n"
                 "data 1 s2c 'r1' @13\n"
                 "data 1 s2c 'B' @13\n"
                 "data 1 c2s '!' @14\n"
                 "data 1 s2c 'C' @15\n"
                 "close 1 input @15 c2s=5/0 s2c=4/0\n");
}

Test(tcpflow, sequence_wraps_around)
{
    log l;
    tcpflow *f = make(&l, NULL);
    uint32_t isn = 0xfffffffd; /* the data starts at 0xfffffffe */
    add(f, 1, FLOW_C2S, isn, TCP_SYN, NULL);
    add(f, 2, FLOW_S2C, SISN, TCP_SYN | TCP_ACK, NULL);
    add(f, 3, FLOW_C2S, 0x00000002, TCP_ACK, "ef");  /* past the wrap, waits */
    add(f, 4, FLOW_C2S, 0xfffffffe, TCP_ACK, "abc"); /* crosses it */
    add(f, 5, FLOW_C2S, 0x00000001, TCP_ACK, "d");
    add(f, 6, FLOW_C2S, 0xffffffff, TCP_ACK, "bcdef"); /* old */
    add(f, 7, FLOW_C2S, 0x00000004, TCP_ACK | TCP_FIN, "g");
    add(f, 8, FLOW_S2C, S(0), TCP_ACK | TCP_FIN, NULL);
    expect(f, &l,
           OPEN1 "data 1 c2s 'abc' @4\n"
                 "data 1 c2s 'd' @5\n"
                 "data 1 c2s 'ef' @5\n"
                 "data 1 c2s 'g' @7\n"
                 "close 1 fin @8 c2s=7/0 s2c=0/0\n");
}

Test(tcpflow, pending_cap_reports_a_gap)
{
    log l;
    tcpflow_limits lim = {.max_pending = 6};
    tcpflow *f = make(&l, &lim);
    handshake(f);
    add(f, 10, FLOW_C2S, C(0), TCP_ACK, "ab");
    add(f, 11, FLOW_C2S, C(5), TCP_ACK, "fgh");  /* "cde" is missing */
    add(f, 12, FLOW_C2S, C(10), TCP_ACK, "klm"); /* 6 bytes wait: at the cap */
    add(f, 13, FLOW_C2S, C(14), TCP_ACK, "o");   /* would pass it */
    add(f, 14, FLOW_C2S, C(2), TCP_ACK, "cde");  /* too late */
    add(f, 15, FLOW_C2S, C(15), TCP_ACK, "0123456789"); /* bigger than the cap itself */
    add(f, 16, FLOW_C2S, C(13), TCP_ACK, "n");
    expect(f, &l,
           OPEN1 "data 1 c2s 'ab' @10\n"
                 "gap 1 c2s 3\n"
                 "data 1 c2s 'fgh' @13\n"
                 "gap 1 c2s 2\n"
                 "data 1 c2s 'klm' @15\n"
                 "gap 1 c2s 1\n"
                 "data 1 c2s 'o' @15\n"
                 "data 1 c2s '0123456789' @15\n"
                 "close 1 input @16 c2s=19/6 s2c=0/0\n");
}

Test(tcpflow, holes_at_finish)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(0), TCP_ACK, "ab");
    add(f, 11, FLOW_C2S, C(4), TCP_ACK, "ef");
    add(f, 12, FLOW_C2S, C(9), TCP_ACK, "j");
    add(f, 13, FLOW_S2C, S(3), TCP_ACK, "xyz");
    tcpflow_finish(f, 99);
    cr_assert_str_eq(l.text, OPEN1 "data 1 c2s 'ab' @10\n"
                                   "gap 1 c2s 2\n"
                                   "data 1 c2s 'ef' @99\n"
                                   "gap 1 c2s 3\n"
                                   "data 1 c2s 'j' @99\n"
                                   "gap 1 s2c 3\n"
                                   "data 1 s2c 'xyz' @99\n"
                                   "close 1 input @99 c2s=5/5 s2c=3/3\n");
    l.n = 0;
    l.text[0] = '\0';
    expect(f, &l, ""); /* nothing left to close */
}

Test(tcpflow, free_closes_without_data)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(4), TCP_ACK, "ef");
    expect(f, &l, OPEN1 "close 1 input @10 c2s=0/0 s2c=0/0\n");
}

Test(tcpflow, snapshot_cut_is_a_gap)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    tcp_seg s = seg(10, FLOW_C2S, C(0), TCP_ACK, "abc");
    s.wire_len = 10; /* 7 bytes not captured */
    tcpflow_add(f, &s);
    add(f, 11, FLOW_C2S, C(10), TCP_ACK, "k");
    expect(f, &l,
           OPEN1 "data 1 c2s 'abc' @10\n"
                 "gap 1 c2s 7\n"
                 "data 1 c2s 'k' @11\n"
                 "close 1 input @11 c2s=4/7 s2c=0/0\n");
}

Test(tcpflow, rst_delivers_the_contiguous_bytes_and_ends)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(0), TCP_ACK, "ab");
    add(f, 11, FLOW_C2S, C(5), TCP_ACK, "fg"); /* never delivered */
    add(f, 12, FLOW_C2S, C(2), TCP_ACK | TCP_RST, "c");
    add(f, 13, FLOW_S2C, S(0), TCP_ACK, "late"); /* opens nothing */
    expect(f, &l,
           OPEN1 "data 1 c2s 'ab' @10\n"
                 "data 1 c2s 'c' @12\n"
                 "close 1 rst @12 c2s=3/0 s2c=0/0\n");
}

Test(tcpflow, eviction_at_max_conns)
{
    log l;
    tcpflow_limits lim = {.max_conns = 2};
    tcpflow *f = make(&l, &lim);
    for (int i = 0; i < 3; i++) {
        tcp_seg s = seg(10 + i, FLOW_C2S, 100, TCP_ACK, "x");
        s.sport = (uint16_t)(50000 + i);
        tcpflow_add(f, &s);
    }
    tcp_seg s = seg(20, FLOW_C2S, 101, TCP_ACK, "y"); /* the first, evicted: opens again */
    s.sport = 50000;
    tcpflow_add(f, &s);
    expect(f, &l,
           "open 1 10.0.0.1:50000>10.0.0.2:8080 guessed\n"
           "data 1 c2s 'x' @10\n"
           "open 2 10.0.0.1:50001>10.0.0.2:8080 guessed\n"
           "data 2 c2s 'x' @11\n"
           "close 1 evicted @12 c2s=1/0 s2c=0/0\n"
           "open 3 10.0.0.1:50002>10.0.0.2:8080 guessed\n"
           "data 3 c2s 'x' @12\n"
           "close 2 evicted @20 c2s=1/0 s2c=0/0\n"
           "open 4 10.0.0.1:50000>10.0.0.2:8080 guessed\n"
           "data 4 c2s 'y' @20\n"
           "close 3 input @20 c2s=1/0 s2c=0/0\n"
           "close 4 input @20 c2s=1/0 s2c=0/0\n");
}

Test(tcpflow, idle_expiry)
{
    log l;
    tcpflow_limits lim = {.idle_us = 100};
    tcpflow *f = make(&l, &lim);
    handshake(f);
    add(f, 10, FLOW_C2S, C(0), TCP_ACK, "a");
    add(f, 50, FLOW_C2S, C(2), TCP_ACK, "c");
    tcpflow_expire(f, 150);
    cr_assert_str_eq(l.text, OPEN1 "data 1 c2s 'a' @10\n");
    tcpflow_expire(f, 151);
    add(f, 200, FLOW_C2S, C(3), TCP_ACK, "d"); /* it comes back: a new connection */
    expect(f, &l,
           OPEN1 "data 1 c2s 'a' @10\n"
                 "gap 1 c2s 1\n"
                 "data 1 c2s 'c' @151\n"
                 "close 1 idle @151 c2s=2/1 s2c=0/0\n"
                 "open 2 10.0.0.1:40000>10.0.0.2:8080 guessed\n"
                 "data 2 c2s 'd' @200\n"
                 "close 2 input @200 c2s=1/0 s2c=0/0\n");
}

Test(tcpflow, port_reuse)
{
    log l;
    tcpflow *f = make(&l, NULL);
    handshake(f);
    add(f, 10, FLOW_C2S, C(0), TCP_ACK, "one");
    add(f, 11, FLOW_C2S, CISN, TCP_SYN, NULL); /* the same SYN again: nothing new */
    add(f, 12, FLOW_C2S, 9000, TCP_SYN, NULL); /* another ISN: a new connection */
    add(f, 13, FLOW_C2S, 9001, TCP_ACK, "two");
    add(f, 14, FLOW_C2S, 9004, TCP_ACK | TCP_FIN, NULL);
    add(f, 15, FLOW_S2C, 7000, TCP_ACK | TCP_FIN, NULL); /* mid-stream: its first segment */
    add(f, 16, FLOW_C2S, 20000, TCP_SYN, NULL);          /* after the end: new again */
    add(f, 17, FLOW_C2S, 20001, TCP_ACK, "three");
    expect(f, &l,
           OPEN1 "data 1 c2s 'one' @10\n"
                 "close 1 idle @12 c2s=3/0 s2c=0/0\n"
                 "open 2 10.0.0.1:40000>10.0.0.2:8080 syn\n"
                 "data 2 c2s 'two' @13\n"
                 "close 2 fin @15 c2s=3/0 s2c=0/0\n"
                 "open 3 10.0.0.1:40000>10.0.0.2:8080 syn\n"
                 "data 3 c2s 'three' @17\n"
                 "close 3 input @17 c2s=5/0 s2c=0/0\n");
}

Test(tcpflow, ipv6_and_many_connections)
{
    log l;
    tcpflow *f = make(&l, NULL);
    for (int i = 0; i < 200; i++) {
        tcp_seg s = seg(i, FLOW_C2S, 1, TCP_ACK, "x");
        s.family = 6;
        memset(s.src, 0, 16);
        memset(s.dst, 0, 16);
        s.src[15] = s.dst[15] = 1;
        s.sport = (uint16_t)(30000 + i);
        s.dport = 443;
        tcpflow_add(f, &s);
        s.seq = 2;
        tcpflow_add(f, &s); /* the second byte finds the same connection */
    }
    tcpflow_finish(f, 1000);
    tcpflow_free(f);
    cr_assert(strstr(l.text, "open 1 [::1]:30000>[::1]:443 guessed\n"));
    cr_assert(strstr(l.text, "data 200 c2s 'x' @199\ndata 200 c2s 'x' @199\n"));
    cr_assert(strstr(l.text, "close 200 input @1000 c2s=2/0 s2c=0/0\n"));
    cr_assert_null(strstr(l.text, "open 201"));
}
