/* pcapin.h -- TCP segments read with libpcap, from a capture file (pcap or pcapng) or live
 * from an interface.
 *
 * libpcap does the reading and the filtering; this module peels the link layer (Ethernet,
 * Linux "cooked" v1 and v2, raw IP, BSD loopback), IPv4 or IPv6 and TCP off each packet and
 * hands over the segment. Packets that are not TCP, IP fragments and packets cut short by
 * the capture before the TCP header are counted and skipped. */
#ifndef WB_PCAPIN_H
#define WB_PCAPIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10 };

/* One TCP segment. data is valid until the next pcapin_next or pcapin_free. */
typedef struct tcp_seg {
    int64_t ts_us;            /* when it was captured, microseconds since the epoch */
    int family;               /* 4 or 6 */
    uint8_t src[16], dst[16]; /* addresses; IPv4 uses the first 4 bytes */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;            /* TCP_* */
    const uint8_t *data;      /* the payload as captured */
    size_t len;               /* bytes of payload captured */
    size_t wire_len;          /* bytes of payload sent; more than len when the snapshot
                               * length cut the packet */
} tcp_seg;

typedef struct pcapin_stats {
    uint64_t packets;   /* every packet read */
    uint64_t segments;  /* TCP segments handed over */
    uint64_t skipped;   /* not TCP over IP, fragments, or cut before the TCP header */
    uint64_t truncated; /* TCP segments whose payload the snapshot length cut */
    uint64_t dropped;   /* live: packets the kernel dropped (pcap_stats) */
} pcapin_stats;

typedef struct pcapin pcapin;

/* Opens a capture file, pcap or pcapng (as tcpdump -w or tshark -w write them). Returns
 * the reader (pcapin_free it), or NULL with a reason in err. */
pcapin *pcapin_open_file(const char *path, char *err, size_t errlen);

/* The same for a capture file already open for reading; takes f (closed by pcapin_free, or
 * here when it is not a capture file). */
pcapin *pcapin_open_fp(FILE *f, char *err, size_t errlen);

/* Starts capturing on iface ("lo" when NULL) in immediate mode, only TCP, and when nports
 * > 0 only the given ports (either end). Returns the reader, or NULL with a reason in err.
 * Without the capture capability, err says exactly what to run. */
pcapin *pcapin_open_live(const char *iface, const uint16_t *ports, size_t nports, char *err,
                         size_t errlen);

/* Reads the next TCP segment into *s, waiting at most timeout_ms for a live capture (a file
 * never waits). Returns 1 with *s filled, 0 when the wait ran out, -1 at the end of a file
 * or after pcapin_break, -2 with a reason in err when reading failed. */
int pcapin_next(pcapin *in, tcp_seg *s, int timeout_ms, char *err, size_t errlen);

/* Makes a pending or later pcapin_next return -1. Safe from a signal handler. */
void pcapin_break(pcapin *in);
/* A descriptor that becomes readable when packets wait (live), or -1 (a file). */
int pcapin_fd(const pcapin *in);
/* The link type's name, as libpcap spells it ("EN10MB", "LINUX_SLL2", ...). */
const char *pcapin_linktype(const pcapin *in);
void pcapin_get_stats(pcapin *in, pcapin_stats *st);
/* Whether the bytes look like the start of a capture file (pcap, either byte order and
 * precision, or pcapng). */
bool pcapin_is_capture(const uint8_t *p, size_t n);
/* Frees the reader. Accepts NULL. */
void pcapin_free(pcapin *in);

/* "127.0.0.1:50051" or "[::1]:50051" into out (cap bytes, 48 is enough). Returns out. */
char *tcp_endpoint_str(int family, const uint8_t *addr, uint16_t port, char *out, size_t cap);

#endif
