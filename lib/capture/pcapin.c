/* pcapin.c -- TCP segments from libpcap: link layer, IPv4/IPv6 and TCP peeled off each packet. */
#include "capture/pcapin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"

enum { SNAPLEN = 262144, BREAK_CHECK_MS = 100, LIVE_BUFFER = 32 << 20 };
enum { LINKTYPE_RAW = 101 }; /* raw IP as some files name it */

struct pcapin {
    pcap_t *p;
    bool live;
    int dlt;
    int fd;
    volatile sig_atomic_t stop;
    pcapin_stats st;
};

/* ---- link types ---- */

static bool link_supported(int dlt)
{
    return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 || dlt == DLT_RAW ||
           dlt == LINKTYPE_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6 || dlt == DLT_NULL ||
           dlt == DLT_LOOP;
}

static const char *link_name(int dlt)
{
    const char *n = pcap_datalink_val_to_name(dlt);
    return n ? n : "?";
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The IP version the link layer announces (4 or 6, 0: something else), and where the IP
 * header starts (*off). */
static int peel_link(int dlt, const uint8_t *p, size_t n, size_t *off)
{
    uint16_t type;
    if (dlt == DLT_EN10MB) {
        if (n < 14)
            return 0;
        size_t at = 12;
        type = be16(p + at);
        while ((type == 0x8100 || type == 0x88a8 || type == 0x9100) && at + 6 <= n) {
            at += 4; /* a VLAN tag */
            type = be16(p + at);
        }
        *off = at + 2;
    } else if (dlt == DLT_LINUX_SLL) {
        if (n < 16)
            return 0;
        type = be16(p + 14);
        *off = 16;
    } else if (dlt == DLT_LINUX_SLL2) {
        if (n < 20)
            return 0;
        type = be16(p);
        *off = 20;
    } else if (dlt == DLT_NULL || dlt == DLT_LOOP) {
        if (n < 4)
            return 0;
        /* the address family, in the capturing host's byte order or the network's */
        uint32_t fam = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                       (uint32_t)p[3] << 24;
        if (fam > 0xffff)
            fam = be32(p);
        *off = 4;
        if (fam == 2)
            return 4;
        /* AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS */
        return fam == 10 || fam == 24 || fam == 28 || fam == 30 ? 6 : 0;
    } else { /* raw IP: the version nibble says which */
        *off = 0;
        if (n < 1)
            return 0;
        int v = p[0] >> 4;
        if (dlt == DLT_IPV4)
            return v == 4 ? 4 : 0;
        if (dlt == DLT_IPV6)
            return v == 6 ? 6 : 0;
        return v == 4 || v == 6 ? v : 0;
    }
    return type == 0x0800 ? 4 : type == 0x86dd ? 6 : 0;
}

/* ---- IP and TCP ---- */

/* From the IPv4 header at p (n bytes captured, wire bytes of the packet from here on the
 * wire): the TCP header's offset (*tcp) and the TCP segment's length on the wire (*seglen).
 * Returns false for what is not a whole TCP packet: another protocol, a fragment, a header
 * cut short. */
static bool peel_ipv4(const uint8_t *p, size_t n, size_t wire, tcp_seg *s, size_t *tcp,
                      size_t *seglen)
{
    if (n < 20 || p[0] >> 4 != 4)
        return false;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = be16(p + 2);
    if (total == 0) /* segmentation offload: the length is left to the capture */
        total = wire;
    if (ihl < 20 || ihl > n || total < ihl)
        return false;
    if ((be16(p + 6) & 0x3fff) != 0 || p[9] != 6) /* a fragment, or not TCP */
        return false;
    s->family = 4;
    memset(s->src, 0, sizeof s->src);
    memset(s->dst, 0, sizeof s->dst);
    memcpy(s->src, p + 12, 4);
    memcpy(s->dst, p + 16, 4);
    *tcp = ihl;
    *seglen = total - ihl;
    return true;
}

/* The same for IPv6, walking the extension headers before TCP. */
static bool peel_ipv6(const uint8_t *p, size_t n, size_t wire, tcp_seg *s, size_t *tcp,
                      size_t *seglen)
{
    if (n < 40 || p[0] >> 4 != 6)
        return false;
    size_t total = 40 + (size_t)be16(p + 4);
    if (total == 40 && wire > 40) /* a jumbogram or segmentation offload */
        total = wire;
    int next = p[6];
    size_t at = 40;
    while (next != 6) {
        if (next != 0 && next != 43 && next != 60) /* hop-by-hop, routing, destination */
            return false;                         /* a fragment, or not TCP */
        if (at + 8 > n)
            return false;
        next = p[at];
        at += ((size_t)p[at + 1] + 1) * 8;
    }
    if (at > n || at > total)
        return false;
    s->family = 6;
    memcpy(s->src, p + 8, 16);
    memcpy(s->dst, p + 24, 16);
    *tcp = at;
    *seglen = total - at;
    return true;
}

/* Fills *s from one captured packet. Returns false (counted as skipped) when the packet
 * holds no whole TCP header. */
static bool parse_packet(pcapin *in, const struct pcap_pkthdr *h, const uint8_t *pkt, tcp_seg *s)
{
    size_t n = h->caplen, wire = h->len > h->caplen ? h->len : h->caplen, off = 0;
    int v = peel_link(in->dlt, pkt, n, &off);
    if (v == 0 || off > n)
        return false;
    const uint8_t *ip = pkt + off;
    size_t ipn = n - off, ipwire = wire - off, tcp, seglen;
    if (!(v == 4 ? peel_ipv4(ip, ipn, ipwire, s, &tcp, &seglen)
                 : peel_ipv6(ip, ipn, ipwire, s, &tcp, &seglen)))
        return false;
    const uint8_t *t = ip + tcp;
    size_t avail = ipn - tcp;
    if (avail < 20)
        return false;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < 20 || doff > avail || doff > seglen)
        return false;
    s->ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
    s->sport = be16(t);
    s->dport = be16(t + 2);
    s->seq = be32(t + 4);
    s->ack = be32(t + 8);
    s->flags = t[13];
    s->wire_len = seglen - doff;
    s->len = avail - doff < s->wire_len ? avail - doff : s->wire_len; /* no Ethernet padding */
    s->data = t + doff;
    if (s->len < s->wire_len)
        in->st.truncated++;
    return true;
}

/* ---- opening ---- */

static pcapin *wrap(pcap_t *p, bool live, char *err, size_t errlen, const char *what)
{
    int dlt = pcap_datalink(p);
    if (!link_supported(dlt)) {
        err_set(err, errlen,
                _("%s: link type %s (%d) is not one the workbench reads (Ethernet, Linux "
                  "cooked, raw IP, BSD loopback)"),
                what, link_name(dlt), dlt);
        pcap_close(p);
        return NULL;
    }
    pcapin *in = calloc(1, sizeof *in);
    if (!in) {
        err_set(err, errlen, "out of memory");
        pcap_close(p);
        return NULL;
    }
    in->p = p;
    in->live = live;
    in->dlt = dlt;
    in->fd = -1;
    return in;
}

pcapin *pcapin_open_file(const char *path, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (!p) {
        err_set(err, errlen, _("%s: cannot be read as a pcap or pcapng file: %s"), path, ebuf);
        return NULL;
    }
    return wrap(p, false, err, errlen, path);
}

pcapin *pcapin_open_fp(FILE *f, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (!p) {
        fclose(f);
        err_set(err, errlen, _("%s: cannot be read as a pcap or pcapng file: %s"), "-", ebuf);
        return NULL;
    }
    return wrap(p, false, err, errlen, "-");
}

/* The reason pcap_activate failed, as something a user can act on. */
static void activate_error(pcap_t *p, int rc, const char *iface, char *err, size_t errlen)
{
    const char *why = pcap_geterr(p);
    if (rc == PCAP_ERROR_PERM_DENIED || strstr(why, "Operation not permitted") ||
        strstr(why, "ermission denied")) {
        char exe[512];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            n = snprintf(exe, sizeof exe, "workbench");
        exe[n] = '\0';
        err_set(err, errlen,
                _("capturing on %s needs the capture capability: run it as root (sudo ...), or "
                  "give the program the capability once: sudo setcap cap_net_raw,cap_net_admin=eip "
                  "%s"),
                iface, exe);
        return;
    }
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
        char names[512] = "";
        size_t at = 0;
        pcap_if_t *all = NULL;
        char ebuf[PCAP_ERRBUF_SIZE];
        if (pcap_findalldevs(&all, ebuf) == 0) {
            for (pcap_if_t *d = all; d && at < sizeof names; d = d->next) {
                int k = snprintf(names + at, sizeof names - at, "%s%s", at ? ", " : "", d->name);
                if (k < 0)
                    break;
                at += (size_t)k;
            }
            pcap_freealldevs(all);
        }
        err_set(err, errlen, _("there is no interface named %s; the interfaces are: %s"), iface,
                names[0] ? names : "?");
        return;
    }
    err_set(err, errlen, _("capturing on %s failed: %s"), iface, why[0] ? why : pcap_statustostr(rc));
}

/* "tcp" or "tcp and (port A or port B ...)" into out. */
static void filter_text(const uint16_t *ports, size_t nports, char *out, size_t cap)
{
    size_t at = (size_t)snprintf(out, cap, "tcp");
    for (size_t i = 0; i < nports && at < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s%u", i ? " or port " : " and (port ",
                               (unsigned)ports[i]);
    if (nports && at < cap)
        snprintf(out + at, cap - at, ")");
}

pcapin *pcapin_open_live(const char *iface, const uint16_t *ports, size_t nports, char *err,
                         size_t errlen)
{
    if (!iface)
        iface = "lo";
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, ebuf);
    if (!p) {
        err_set(err, errlen, _("capturing on %s failed: %s"), iface, ebuf);
        return NULL;
    }
    pcap_set_snaplen(p, SNAPLEN);
    pcap_set_immediate_mode(p, 1);
    /* room for bursts while the reader prints: the kernel drops what does not fit */
    pcap_set_buffer_size(p, LIVE_BUFFER);
    int rc = pcap_activate(p);
    if (rc < 0) {
        activate_error(p, rc, iface, err, errlen);
        pcap_close(p);
        return NULL;
    }
    pcapin *in = wrap(p, true, err, errlen, iface);
    if (!in)
        return NULL;
    char filter[64 + 16 * 64];
    struct bpf_program prog;
    if (nports > 64)
        nports = 64;
    filter_text(ports, nports, filter, sizeof filter);
    int frc = pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN);
    if (frc == 0) {
        frc = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
    }
    if (frc < 0) {
        err_set(err, errlen, _("capturing on %s failed: %s"), iface, pcap_geterr(p));
        pcapin_free(in);
        return NULL;
    }
    if (pcap_setnonblock(p, 1, ebuf) < 0 || (in->fd = pcap_get_selectable_fd(p)) < 0) {
        err_set(err, errlen, _("capturing on %s failed: %s"), iface,
                in->fd < 0 ? "no descriptor to wait on" : ebuf);
        pcapin_free(in);
        return NULL;
    }
    return in;
}

/* ---- reading ---- */

/* Waits until packets wait, the deadline passes or pcapin_break: 1, 0 or -1. */
static int wait_live(pcapin *in, uint64_t deadline_ms)
{
    for (;;) {
        if (in->stop)
            return -1;
        uint64_t now = clock_now_ms();
        if (now >= deadline_ms)
            return 0;
        uint64_t left = deadline_ms - now;
        struct pollfd pfd = {.fd = in->fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)(left < BREAK_CHECK_MS ? left : BREAK_CHECK_MS));
        if (r > 0)
            return in->stop ? -1 : 1;
        if (r < 0 && errno != EINTR)
            return 1; /* let pcap_next_ex say what is wrong */
    }
}

int pcapin_next(pcapin *in, tcp_seg *s, int timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (in->stop)
            return -1;
        struct pcap_pkthdr *h;
        const u_char *pkt;
        int rc = pcap_next_ex(in->p, &h, &pkt);
        if (rc == 1) {
            in->st.packets++;
            memset(s, 0, sizeof *s);
            if (parse_packet(in, h, pkt, s)) {
                in->st.segments++;
                return 1;
            }
            in->st.skipped++;
            continue;
        }
        if (rc == PCAP_ERROR_BREAK && !in->live)
            return -1; /* the end of the file */
        if (rc < 0) {
            err_set(err, errlen, _("reading packets failed: %s"), pcap_geterr(in->p));
            return -2;
        }
        if (!in->live)
            return -1;
        int w = wait_live(in, deadline);
        if (w <= 0)
            return w;
    }
}

void pcapin_break(pcapin *in)
{
    if (in)
        in->stop = 1;
}

int pcapin_fd(const pcapin *in) { return in && in->live ? in->fd : -1; }

const char *pcapin_linktype(const pcapin *in) { return link_name(in->dlt); }

void pcapin_get_stats(pcapin *in, pcapin_stats *st)
{
    if (in->live) {
        struct pcap_stat ps;
        if (pcap_stats(in->p, &ps) == 0)
            in->st.dropped = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
    }
    *st = in->st;
}

bool pcapin_is_capture(const uint8_t *p, size_t n)
{
    if (n < 4)
        return false;
    uint32_t m = be32(p);
    return m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1 ||
           m == 0x0a0d0d0a;
}

void pcapin_free(pcapin *in)
{
    if (!in)
        return;
    pcap_close(in->p);
    free(in);
}

char *tcp_endpoint_str(int family, const uint8_t *addr, uint16_t port, char *out, size_t cap)
{
    char a[INET6_ADDRSTRLEN] = "?";
    inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof a);
    snprintf(out, cap, family == 6 ? "[%s]:%u" : "%s:%u", a, (unsigned)port);
    return out;
}
