/* pcapout.c -- synthetic TCP connections written as Ethernet frames to a pcap file (libpcap). */
#include "capture/pcapout.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "capture/pcapin.h"

enum {
    SNAPLEN = 262144,
    MAX_SEGMENT = 32 * 1024, /* payload bytes per data segment */
    ETH_LEN = 14,
    IP4_LEN = 20,
    IP6_LEN = 40,
    TCP_LEN = 20,
    MSS_LEN = 4,           /* the MSS option of SYN and SYN-ACK */
    LOOPBACK_MSS = 65495,  /* what Linux announces on lo */
    WINDOW = 65535,
    FRAME_MAX = ETH_LEN + IP6_LEN + TCP_LEN + MSS_LEN + MAX_SEGMENT,
};

#define FILE_CAP ((uint64_t)256 << 20)

struct pcapout {
    pthread_mutex_t mu;
    pcap_t *dead;
    pcap_dumper_t *dump;
    uint64_t written; /* bytes in the file so far, headers included */
    bool stopped;     /* the cap was reached: nothing more is written */
    char fail[256];   /* the first failure, or "" */
    size_t conns;
    uint32_t rng;
    uint8_t frame[FRAME_MAX];
};

struct pcapout_conn {
    pcapout *o;
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[2][16]; /* [0] the client's, [1] the server's */
    uint16_t port[2];
    uint32_t seq[2];     /* the next sequence number each side sends */
    uint16_t ipid[2];
};

pcapout *pcapout_new(const char *path, char *err, size_t errlen)
{
    pcapout *o = calloc(1, sizeof *o);
    if (!o) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    if (!(o->dead = pcap_open_dead(DLT_EN10MB, SNAPLEN))) {
        err_set(err, errlen, "libpcap cannot write Ethernet frames");
        free(o);
        return NULL;
    }
    FILE *f = fopen(path, "wb");
    if (!f || !(o->dump = pcap_dump_fopen(o->dead, f))) {
        err_set(err, errlen, "%s", f ? pcap_geterr(o->dead) : strerror(errno));
        if (f)
            fclose(f);
        pcap_close(o->dead);
        free(o);
        return NULL;
    }
    pthread_mutex_init(&o->mu, NULL);
    o->written = 24; /* the file header */
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    o->rng = (uint32_t)t.tv_nsec ^ (uint32_t)t.tv_sec ^ 0x9e3779b9u;
    return o;
}

int pcapout_free(pcapout *o, char *err, size_t errlen)
{
    if (!o)
        return 0;
    if (pcap_dump_flush(o->dump) < 0 && !o->fail[0])
        snprintf(o->fail, sizeof o->fail, "writing the capture failed: %s", strerror(errno));
    pcap_dump_close(o->dump);
    pcap_close(o->dead);
    pthread_mutex_destroy(&o->mu);
    int rc = 0;
    if (o->fail[0]) {
        err_set(err, errlen, "%s", o->fail);
        rc = -1;
    }
    free(o);
    return rc;
}

size_t pcapout_conns(pcapout *o)
{
    pthread_mutex_lock(&o->mu);
    size_t n = o->conns;
    pthread_mutex_unlock(&o->mu);
    return n;
}

static uint32_t next_random(pcapout *o)
{
    uint32_t x = o->rng; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return o->rng = x;
}

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

/* The 16-bit one's complement sum of p[0..n), added to sum (not yet folded). */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Writes one frame of len bytes at ts_us, unless the file reached its cap. Called locked. */
static void write_frame(pcapout *o, size_t len, int64_t ts_us)
{
    if (o->stopped)
        return;
    if (o->written + 16 + len > FILE_CAP) {
        o->stopped = true;
        if (!o->fail[0])
            snprintf(o->fail, sizeof o->fail, "capture stopped at 256 MiB");
        return;
    }
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
    h.ts.tv_sec = (time_t)(ts_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
    pcap_dump((u_char *)o->dump, &h, o->frame);
    o->written += 16 + len;
    FILE *f = pcap_dump_file(o->dump);
    if (ferror(f) && !o->fail[0]) {
        snprintf(o->fail, sizeof o->fail, "writing the capture failed: %s", strerror(errno));
        o->stopped = true;
    }
}

/* Writes one segment from the server (from_server) or the client, with flags, and n
 * (at most MAX_SEGMENT) bytes of payload; advances that side's sequence number. Called
 * locked. */
static void segment(pcapout_conn *c, bool from_server, uint8_t flags, const uint8_t *p, size_t n, int64_t ts_us)
{
    pcapout *o = c->o;
    int me = from_server, peer = !from_server;
    bool v6 = c->family == AF_INET6;
    size_t alen = v6 ? 16 : 4, iplen = v6 ? IP6_LEN : IP4_LEN;
    size_t tcplen = TCP_LEN + ((flags & TCP_SYN) ? MSS_LEN : 0);
    uint8_t *f = o->frame, *ip = f + ETH_LEN, *tcp = ip + iplen;
    memset(f, 0, ETH_LEN + iplen + tcplen);
    put16(f + 12, v6 ? 0x86dd : 0x0800);
    if (v6) {
        ip[0] = 0x60;
        put16(ip + 4, (uint32_t)(tcplen + n));
        ip[6] = IPPROTO_TCP;
        ip[7] = 64;
        memcpy(ip + 8, c->addr[me], 16);
        memcpy(ip + 24, c->addr[peer], 16);
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint32_t)(IP4_LEN + tcplen + n));
        put16(ip + 4, c->ipid[me]++);
        put16(ip + 6, 0x4000); /* don't fragment */
        ip[8] = 64;
        ip[9] = IPPROTO_TCP;
        memcpy(ip + 12, c->addr[me], 4);
        memcpy(ip + 16, c->addr[peer], 4);
        put16(ip + 10, fold(sum16(0, ip, IP4_LEN)));
    }
    put16(tcp, c->port[me]);
    put16(tcp + 2, c->port[peer]);
    put32(tcp + 4, c->seq[me]);
    put32(tcp + 8, (flags & TCP_ACK) ? c->seq[peer] : 0);
    tcp[12] = (uint8_t)((tcplen / 4) << 4);
    tcp[13] = flags;
    put16(tcp + 14, WINDOW);
    if (flags & TCP_SYN) {
        tcp[20] = 2; /* MSS */
        tcp[21] = 4;
        put16(tcp + 22, LOOPBACK_MSS);
    }
    if (n)
        memcpy(tcp + tcplen, p, n);
    /* the pseudo-header: both addresses, the protocol and the TCP length */
    uint32_t sum = sum16(0, c->addr[me], alen);
    sum = sum16(sum, c->addr[peer], alen);
    sum += IPPROTO_TCP + (uint32_t)(tcplen + n);
    put16(tcp + 16, fold(sum16(sum, tcp, tcplen + n)));
    write_frame(o, ETH_LEN + iplen + tcplen + n, ts_us);
    c->seq[me] += (uint32_t)n + ((flags & (TCP_SYN | TCP_FIN)) ? 1u : 0u);
}

/* The address and port of sa into side i of c. False when sa is not IP of c's family. */
static bool take_addr(pcapout_conn *c, int i, const struct sockaddr *sa)
{
    if (!sa || sa->sa_family != c->family)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        memcpy(c->addr[i], &s->sin_addr, 4);
        c->port[i] = ntohs(s->sin_port);
    } else {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        memcpy(c->addr[i], &s->sin6_addr, 16);
        c->port[i] = ntohs(s->sin6_port);
    }
    return true;
}

pcapout_conn *pcapout_conn_new(pcapout *o, const struct sockaddr *client, const struct sockaddr *server,
                               int64_t ts_us)
{
    if (!o || !client || (client->sa_family != AF_INET && client->sa_family != AF_INET6))
        return NULL;
    pcapout_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->o = o;
    c->family = client->sa_family;
    if (!take_addr(c, 0, client) || !take_addr(c, 1, server)) {
        free(c);
        return NULL;
    }
    if (!ts_us)
        ts_us = now_us();
    pthread_mutex_lock(&o->mu);
    c->seq[0] = next_random(o);
    c->seq[1] = next_random(o);
    c->ipid[0] = (uint16_t)next_random(o);
    c->ipid[1] = (uint16_t)next_random(o);
    if (!o->stopped)
        o->conns++;
    segment(c, false, TCP_SYN, NULL, 0, ts_us);
    segment(c, true, TCP_SYN | TCP_ACK, NULL, 0, ts_us);
    segment(c, false, TCP_ACK, NULL, 0, ts_us);
    pthread_mutex_unlock(&o->mu);
    return c;
}

pcapout_conn *pcapout_conn_socket(pcapout *o, int fd)
{
    struct sockaddr_storage me, peer;
    socklen_t n1 = sizeof me, n2 = sizeof peer;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&me, &n1) < 0 ||
        getpeername(fd, (struct sockaddr *)&peer, &n2) < 0)
        return NULL;
    return pcapout_conn_new(o, (struct sockaddr *)&me, (struct sockaddr *)&peer, 0);
}

void pcapout_conn_data(pcapout_conn *c, bool from_server, const uint8_t *p, size_t n, int64_t ts_us)
{
    if (!c || n == 0)
        return;
    if (!ts_us)
        ts_us = now_us();
    pthread_mutex_lock(&c->o->mu);
    for (size_t off = 0; off < n;) {
        size_t k = n - off < MAX_SEGMENT ? n - off : MAX_SEGMENT;
        segment(c, from_server, TCP_PSH | TCP_ACK, p + off, k, ts_us);
        segment(c, !from_server, TCP_ACK, NULL, 0, ts_us);
        off += k;
    }
    pthread_mutex_unlock(&c->o->mu);
}

void pcapout_conn_free(pcapout_conn *c, int64_t ts_us)
{
    if (!c)
        return;
    if (!ts_us)
        ts_us = now_us();
    pthread_mutex_lock(&c->o->mu);
    segment(c, false, TCP_FIN | TCP_ACK, NULL, 0, ts_us);
    segment(c, true, TCP_ACK, NULL, 0, ts_us);
    segment(c, true, TCP_FIN | TCP_ACK, NULL, 0, ts_us);
    segment(c, false, TCP_ACK, NULL, 0, ts_us);
    pthread_mutex_unlock(&c->o->mu);
    free(c);
}
