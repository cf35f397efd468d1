/* test_pcapout.c -- pcapout's files read back with libpcap (pcap_open_offline) and every
 * packet checked: link type, IPv4/IPv6 and TCP headers, checksums, flags, sequence and
 * acknowledgement numbers, segment sizes, and the bytes each side sent. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/tempdir.h"
#include "capture/pcapout.h"

enum { F_FIN = 0x01, F_SYN = 0x02, F_PSH = 0x08, F_ACK = 0x10, SEG_MAX = 32768 };

/* One packet as read back. */
typedef struct pkt {
    int64_t ts_us;
    int family;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t mss; /* 0: no MSS option */
    uint8_t *data;
    size_t len;
} pkt;

typedef struct capture {
    pkt *p;
    size_t n;
} capture;

static char dir[256], path[300];
static char err[256];

static void setup(void)
{
    cr_assert_eq(tempdir_make(dir, sizeof dir, "wb-pcapout"), 0);
    snprintf(path, sizeof path, "%s/out.pcap", dir);
}

static void teardown(void) { tempdir_remove(dir); }

TestSuite(pcapout, .init = setup, .fini = teardown);

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }

/* The one's complement sum of p[0..n) over sum, folded: 0xffff over a header whose
 * checksum is right. */
static uint32_t csum(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

/* Parses and checks the headers of one frame (Ethernet, IP, TCP) into *k. */
static void parse(const struct pcap_pkthdr *h, const uint8_t *f, pkt *k)
{
    cr_assert_eq(h->caplen, h->len, "every frame is kept whole");
    cr_assert_geq(h->len, 14 + 20 + 20);
    for (int i = 0; i < 12; i++)
        cr_assert_eq(f[i], 0, "zero MACs, as on lo");
    uint32_t type = be16(f + 12);
    const uint8_t *ip = f + 14, *tcp;
    size_t tcp_total;
    uint32_t pseudo;
    memset(k, 0, sizeof *k);
    k->ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
    if (type == 0x0800) {
        k->family = AF_INET;
        cr_assert_eq(ip[0], 0x45);
        cr_assert_eq(be16(ip + 2), h->len - 14, "IPv4 total length");
        cr_assert_eq(ip[9], IPPROTO_TCP);
        cr_assert_eq(be16(ip + 6), 0x4000, "don't fragment");
        cr_assert_eq(csum(0, ip, 20), 0xffff, "IPv4 header checksum");
        memcpy(k->src, ip + 12, 4);
        memcpy(k->dst, ip + 16, 4);
        tcp = ip + 20;
        tcp_total = h->len - 34;
        pseudo = csum(csum(0, ip + 12, 8), (const uint8_t[]){0, IPPROTO_TCP}, 2);
    } else {
        cr_assert_eq(type, 0x86dd, "IPv4 or IPv6");
        k->family = AF_INET6;
        cr_assert_eq(ip[0] >> 4, 6);
        cr_assert_eq(be16(ip + 4), h->len - 54, "IPv6 payload length");
        cr_assert_eq(ip[6], IPPROTO_TCP);
        memcpy(k->src, ip + 8, 16);
        memcpy(k->dst, ip + 24, 16);
        tcp = ip + 40;
        tcp_total = h->len - 54;
        pseudo = csum(csum(0, ip + 8, 32), (const uint8_t[]){0, IPPROTO_TCP}, 2);
    }
    uint8_t tl[2] = {(uint8_t)(tcp_total >> 8), (uint8_t)tcp_total};
    cr_assert_eq(csum(csum(pseudo, tl, 2), tcp, tcp_total), 0xffff, "TCP checksum");
    size_t off = (size_t)(tcp[12] >> 4) * 4;
    cr_assert(off >= 20 && off <= tcp_total);
    k->sport = (uint16_t)be16(tcp);
    k->dport = (uint16_t)be16(tcp + 2);
    k->seq = be32(tcp + 4);
    k->ack = be32(tcp + 8);
    k->flags = tcp[13];
    if (off == 24) {
        cr_assert_eq(tcp[20], 2, "the option is MSS");
        cr_assert_eq(tcp[21], 4);
        k->mss = (uint16_t)be16(tcp + 22);
    }
    k->len = tcp_total - off;
    k->data = malloc(k->len + 1);
    memcpy(k->data, tcp + off, k->len);
}

static capture read_back(void)
{
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, perr);
    cr_assert(p, "%s", perr);
    cr_assert_eq(pcap_datalink(p), DLT_EN10MB);
    capture c = {NULL, 0};
    size_t cap = 0;
    struct pcap_pkthdr *h;
    const uint8_t *f;
    int r;
    while ((r = pcap_next_ex(p, &h, &f)) == 1) {
        if (c.n == cap)
            c.p = realloc(c.p, (cap = cap ? cap * 2 : 64) * sizeof *c.p);
        parse(h, f, &c.p[c.n++]);
    }
    cr_assert_eq(r, PCAP_ERROR_BREAK, "the file ends cleanly: %s", pcap_geterr(p));
    pcap_close(p);
    return c;
}

static void capture_free(capture *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->p[i].data);
    free(c->p);
}

/* Whether k goes between the client (cport) and the server, either way. */
static bool of_conn(const pkt *k, uint16_t cport) { return k->sport == cport || k->dport == cport; }

/* Walks the packets of the connection from client port cport and checks the TCP
 * conversation: handshake with MSS, every segment's seq and ack continuing the last,
 * data in PSH/ACK segments of at most 32 KiB each ACKed at once by the other side, and
 * the closing FIN/ACK exchange. The bytes each side sent go into c2s and s2c. Returns the
 * number of packets. */
static size_t check_conn(const capture *cap, uint16_t cport, buf *c2s, buf *s2c)
{
    const pkt *k[4096];
    size_t n = 0;
    for (size_t i = 0; i < cap->n; i++)
        if (of_conn(&cap->p[i], cport)) {
            cr_assert_lt(n, 4096);
            k[n++] = &cap->p[i];
        }
    cr_assert_geq(n, 7, "handshake and close at least");
    cr_assert_eq(k[0]->flags, F_SYN, "SYN first");
    cr_assert_eq(k[0]->sport, cport);
    cr_assert_gt(k[0]->mss, 0);
    cr_assert_eq(k[1]->flags, F_SYN | F_ACK, "then SYN-ACK");
    cr_assert_eq(k[1]->ack, k[0]->seq + 1);
    cr_assert_gt(k[1]->mss, 0);
    uint16_t sport = k[0]->dport;
    uint32_t next_c = k[0]->seq + 1, next_s = k[1]->seq + 1;
    for (size_t i = 2; i < n; i++) {
        const pkt *p = k[i];
        bool from_client = p->sport == cport;
        cr_assert_eq(from_client ? p->dport : p->sport, sport);
        cr_assert_eq(memcmp(p->src, from_client ? k[0]->src : k[0]->dst, 16), 0, "addresses stay");
        cr_assert_eq(p->seq, from_client ? next_c : next_s, "packet %zu continues its side's sequence", i);
        cr_assert(p->flags & F_ACK, "packet %zu has ACK", i);
        cr_assert_eq(p->ack, from_client ? next_s : next_c, "packet %zu acknowledges all the peer sent", i);
        cr_assert_eq(p->mss, 0, "only SYNs carry options");
        if (p->len) {
            cr_assert_eq(p->flags, F_PSH | F_ACK);
            cr_assert_leq(p->len, SEG_MAX, "segments of at most 32 KiB");
            buf_append(from_client ? c2s : s2c, p->data, p->len);
            cr_assert_lt(i + 1, n);
            const pkt *a = k[i + 1];
            cr_assert_eq(a->flags, F_ACK, "each data segment is ACKed by the other side");
            cr_assert_eq(a->sport, p->dport);
            cr_assert_eq(a->len, 0);
            cr_assert_eq(a->ack, p->seq + (uint32_t)p->len);
        } else {
            cr_assert(p->flags == F_ACK || p->flags == (F_FIN | F_ACK), "packet %zu: flags %#x", i, p->flags);
        }
        uint32_t used = (uint32_t)p->len + ((p->flags & F_FIN) ? 1 : 0);
        if (from_client)
            next_c += used;
        else
            next_s += used;
    }
    cr_assert_eq(k[n - 4]->flags, F_FIN | F_ACK, "the client closes");
    cr_assert_eq(k[n - 4]->sport, cport);
    cr_assert_eq(k[n - 3]->flags, F_ACK);
    cr_assert_eq(k[n - 2]->flags, F_FIN | F_ACK, "then the server");
    cr_assert_eq(k[n - 2]->dport, cport);
    cr_assert_eq(k[n - 1]->flags, F_ACK);
    cr_assert_eq(k[n - 1]->sport, cport);
    return n;
}

static struct sockaddr_in v4(const char *a, uint16_t port)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
    cr_assert_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
    return s;
}

static struct sockaddr_in6 v6(const char *a, uint16_t port)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    cr_assert_eq(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
    return s;
}

static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + seed + i / 251);
    return p;
}

static void assert_buf(const buf *b, const uint8_t *want, size_t n, const char *what)
{
    cr_assert_eq(buf_size(b), n, "%s: %zu bytes, want %zu", what, buf_size(b), n);
    cr_assert_eq(memcmp(buf_data(b), want, n), 0, "%s: the bytes", what);
}

/* A conversation both ways, with a reply over 32 KiB (three full segments and a part)
 * and an odd-sized request (the checksum's padding byte), over the family of cli/srv. */
static void conversation(const struct sockaddr *cli, const struct sockaddr *srv, uint16_t cport, int family)
{
    size_t big = 3 * SEG_MAX + 4097;
    uint8_t *req = pattern(4001, 1), *rep = pattern(big, 2), *more = pattern(SEG_MAX, 3);
    pcapout *o = pcapout_new(path, err, sizeof err);
    cr_assert(o, "%s", err);
    int64_t t0 = 1700000000123456;
    pcapout_conn *c = pcapout_conn_new(o, cli, srv, t0);
    cr_assert(c);
    pcapout_conn_data(c, false, req, 4001, t0 + 10);
    pcapout_conn_data(c, true, rep, big, t0 + 20);
    pcapout_conn_data(c, false, more, SEG_MAX, t0 + 30);
    pcapout_conn_data(c, true, (const uint8_t *)"", 0, t0 + 35); /* nothing: no packet */
    pcapout_conn_free(c, t0 + 40);
    cr_assert_eq(pcapout_conns(o), 1);
    cr_assert_eq(pcapout_free(o, err, sizeof err), 0, "%s", err);

    capture cap = read_back();
    buf c2s, s2c;
    buf_init(&c2s, 0);
    buf_init(&s2c, 0);
    size_t n = check_conn(&cap, cport, &c2s, &s2c);
    cr_assert_eq(n, cap.n, "one connection in the file");
    cr_assert_eq(n, 3 + 2 * (1 + 4 + 1) + 4, "handshake, six data segments and their ACKs, close");
    cr_assert_eq(cap.p[0].family, family);
    cr_assert_eq(cap.p[0].ts_us, t0, "the handshake's time as given");
    cr_assert_eq(cap.p[3].ts_us, t0 + 10);
    cr_assert_eq(cap.p[5].len, SEG_MAX, "a chunk over 32 KiB is split");
    cr_assert_eq(cap.p[5].ts_us, t0 + 20);
    cr_assert_eq(cap.p[n - 1].ts_us, t0 + 40);
    cr_assert_eq(buf_size(&c2s), 4001 + SEG_MAX, "client to server");
    cr_assert_eq(memcmp(buf_data(&c2s), req, 4001), 0);
    cr_assert_eq(memcmp(buf_data(&c2s) + 4001, more, SEG_MAX), 0);
    assert_buf(&s2c, rep, big, "server to client");
    buf_done(&c2s);
    buf_done(&s2c);
    capture_free(&cap);
    free(req);
    free(rep);
    free(more);
}

Test(pcapout, ipv4_both_ways)
{
    struct sockaddr_in cli = v4("127.0.0.1", 40001), srv = v4("127.0.0.1", 50051);
    conversation((struct sockaddr *)&cli, (struct sockaddr *)&srv, 40001, AF_INET);
}

Test(pcapout, ipv6_both_ways)
{
    struct sockaddr_in6 cli = v6("::1", 40002), srv = v6("fe80::1:2", 8080);
    conversation((struct sockaddr *)&cli, (struct sockaddr *)&srv, 40002, AF_INET6);
}

Test(pcapout, addresses_and_ports_as_given)
{
    struct sockaddr_in cli = v4("10.1.2.3", 40003), srv = v4("192.168.7.9", 8081);
    pcapout *o = pcapout_new(path, err, sizeof err);
    pcapout_conn *c = pcapout_conn_new(o, (struct sockaddr *)&cli, (struct sockaddr *)&srv, 0);
    pcapout_conn_data(c, false, (const uint8_t *)"x", 1, 0);
    pcapout_conn_free(c, 0);
    cr_assert_eq(pcapout_free(o, err, sizeof err), 0, "%s", err);
    capture cap = read_back();
    cr_assert_eq(memcmp(cap.p[0].src, "\x0a\x01\x02\x03", 4), 0);
    cr_assert_eq(memcmp(cap.p[0].dst, "\xc0\xa8\x07\x09", 4), 0);
    cr_assert_eq(cap.p[0].sport, 40003);
    cr_assert_eq(cap.p[0].dport, 8081);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    cr_assert(cap.p[0].ts_us <= now_us && cap.p[0].ts_us > now_us - 60000000, "a time of 0 is now");
    buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    check_conn(&cap, 40003, &a, &b);
    assert_buf(&a, (const uint8_t *)"x", 1, "one byte");
    cr_assert_eq(buf_size(&b), 0);
    buf_done(&a);
    buf_done(&b);
    capture_free(&cap);
}

/* Connections written by several threads at once into one writer. */
typedef struct worker {
    pcapout *o;
    int id;
} worker;

enum { THREADS = 4, CONNS_EACH = 25 };

static void *write_conns(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < CONNS_EACH; i++) {
        uint16_t port = (uint16_t)(20000 + w->id * 100 + i);
        struct sockaddr_in cli = v4("127.0.0.1", port), srv = v4("127.0.0.1", 9000);
        pcapout_conn *c = pcapout_conn_new(w->o, (struct sockaddr *)&cli, (struct sockaddr *)&srv, 0);
        char msg[64];
        int n = snprintf(msg, sizeof msg, "request %d from %d", i, w->id);
        pcapout_conn_data(c, false, (const uint8_t *)msg, (size_t)n, 0);
        pcapout_conn_data(c, true, (const uint8_t *)msg, (size_t)n, 0);
        pcapout_conn_free(c, 0);
    }
    return NULL;
}

Test(pcapout, many_conns_from_threads)
{
    pcapout *o = pcapout_new(path, err, sizeof err);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){o, i};
        pthread_create(&t[i], NULL, write_conns, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(pcapout_conns(o), THREADS * CONNS_EACH);
    cr_assert_eq(pcapout_free(o, err, sizeof err), 0, "%s", err);
    capture cap = read_back();
    cr_assert_eq(cap.n, THREADS * CONNS_EACH * (3 + 4 + 4));
    size_t total = 0;
    for (int id = 0; id < THREADS; id++)
        for (int i = 0; i < CONNS_EACH; i++) {
            buf a, b;
            buf_init(&a, 0);
            buf_init(&b, 0);
            total += check_conn(&cap, (uint16_t)(20000 + id * 100 + i), &a, &b);
            char msg[64];
            int n = snprintf(msg, sizeof msg, "request %d from %d", i, id);
            assert_buf(&a, (const uint8_t *)msg, (size_t)n, "request");
            assert_buf(&b, (const uint8_t *)msg, (size_t)n, "reply");
            buf_done(&a);
            buf_done(&b);
        }
    cr_assert_eq(total, cap.n, "every packet belongs to a connection");
    capture_free(&cap);
}

Test(pcapout, refuses_what_it_cannot_write)
{
    cr_assert_null(pcapout_new("/nonexistent-dir/x.pcap", err, sizeof err));
    cr_assert(strstr(err, "No such file or directory"), "%s", err);
    pcapout *o = pcapout_new(path, err, sizeof err);
    struct sockaddr_in cli = v4("127.0.0.1", 1);
    struct sockaddr_in6 srv = v6("::1", 2);
    struct sockaddr un = {.sa_family = AF_UNIX};
    cr_assert_null(pcapout_conn_new(o, (struct sockaddr *)&cli, (struct sockaddr *)&srv, 0), "families differ");
    cr_assert_null(pcapout_conn_new(o, &un, &un, 0), "not IP");
    pcapout_conn_free(NULL, 0);
    pcapout_conn_data(NULL, false, (const uint8_t *)"x", 1, 0);
    cr_assert_eq(pcapout_conns(o), 0);
    cr_assert_eq(pcapout_free(o, err, sizeof err), 0);
    cr_assert_eq(pcapout_free(NULL, err, sizeof err), 0);
}

Test(pcapout, stops_at_256_mib)
{
    enum { CHUNK = 1 << 20 };
    uint8_t *p = pattern(CHUNK, 5);
    pcapout *o = pcapout_new(path, err, sizeof err);
    struct sockaddr_in cli = v4("127.0.0.1", 40009), srv = v4("127.0.0.1", 9);
    pcapout_conn *c = pcapout_conn_new(o, (struct sockaddr *)&cli, (struct sockaddr *)&srv, 0);
    for (int i = 0; i < 260; i++)
        pcapout_conn_data(c, i % 2, p, CHUNK, 0);
    pcapout_conn_free(c, 0);
    pcapout_conn *late = pcapout_conn_new(o, (struct sockaddr *)&cli, (struct sockaddr *)&srv, 0);
    pcapout_conn_free(late, 0);
    cr_assert_eq(pcapout_conns(o), 1, "a connection after the cap is not counted");
    cr_assert_eq(pcapout_free(o, err, sizeof err), -1);
    cr_assert_str_eq(err, "capture stopped at 256 MiB");
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_leq(st.st_size, 256 << 20);
    cr_assert_gt(st.st_size, (256 << 20) - 2 * (SEG_MAX + 100), "it stops only at the cap");
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *r = pcap_open_offline(path, perr);
    cr_assert(r, "%s", perr);
    struct pcap_pkthdr *h;
    const uint8_t *f;
    int k;
    while ((k = pcap_next_ex(r, &h, &f)) == 1)
        ;
    cr_assert_eq(k, PCAP_ERROR_BREAK, "the file is whole up to the cap");
    pcap_close(r);
    free(p);
}

Test(pcapout, conn_from_a_connected_socket)
{
    int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = v4("127.0.0.1", 0), me;
    socklen_t n = sizeof a;
    cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(l, 1), 0);
    cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &n), 0);
    cr_assert_eq(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    n = sizeof me;
    cr_assert_eq(getsockname(c, (struct sockaddr *)&me, &n), 0);
    pcapout *o = pcapout_new(path, err, sizeof err);
    cr_assert_null(pcapout_conn_socket(o, l), "a listening socket has no peer");
    cr_assert_null(pcapout_conn_socket(o, -1));
    pcapout_conn *pc = pcapout_conn_socket(o, c);
    cr_assert(pc);
    pcapout_conn_free(pc, 0);
    cr_assert_eq(pcapout_free(o, err, sizeof err), 0, "%s", err);
    close(c);
    close(l);
    capture cap = read_back();
    cr_assert_eq(cap.p[0].sport, ntohs(me.sin_port), "our end is the client");
    cr_assert_eq(cap.p[0].dport, ntohs(a.sin_port), "the peer is the server");
    buf x, y;
    buf_init(&x, 0);
    buf_init(&y, 0);
    cr_assert_eq(check_conn(&cap, ntohs(me.sin_port), &x, &y), cap.n);
    buf_done(&x);
    buf_done(&y);
    capture_free(&cap);
}
