/* tcpflow.h -- reassembles both directions of every TCP connection from captured segments.
 *
 * Segments arrive as the capture saw them: retransmitted, overlapping, out of order, and
 * perhaps starting in the middle of a connection. Each direction delivers its bytes in
 * order, each byte once. Segments ahead of the next expected byte wait (up to a cap per
 * direction); when the cap is reached, or the connection or the input ends with bytes
 * still missing, the hole is reported as a gap and delivery goes on after it.
 *
 * No library was used: libnids, the one Debian has, follows only connections whose SYN it
 * saw, and a capture that starts mid-connection is a case this must handle. */
#ifndef WB_TCPFLOW_H
#define WB_TCPFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/pcapin.h"

/* Directions of a connection. */
enum { FLOW_C2S = 0, FLOW_S2C = 1 };

/* Why a connection ended. */
typedef enum flow_end {
    FLOW_END_FIN,     /* both sides sent FIN (and every byte before it arrived) */
    FLOW_END_RST,     /* a reset */
    FLOW_END_EVICTED, /* too many connections: the one idle longest made room */
    FLOW_END_IDLE,    /* no segment for the idle limit */
    FLOW_END_INPUT,   /* the input ended (tcpflow_finish) */
} flow_end;

typedef struct flow_conn {
    uint64_t id;                   /* 1, 2, ... in the order connections were first seen */
    int family;                    /* 4 or 6 */
    uint8_t client[16], server[16];
    uint16_t cport, sport;
    bool saw_syn;      /* the handshake was captured: the roles are known and every byte
                        * from the first is delivered */
    bool guessed;      /* no SYN: which end is the server was guessed (a port of
                        * tcpflow_limits.server_ports, else the lower port) */
    int64_t first_us, last_us;     /* first and latest segment */
    uint64_t bytes[2];             /* delivered per direction */
    uint64_t missing[2];           /* bytes reported as gaps per direction */
    void *user;                    /* the caller's, for its own state */
} flow_conn;

typedef struct tcpflow_hooks {
    /* A new connection: the first segment of a 4-tuple not being followed. */
    void (*opened)(void *ud, flow_conn *c);
    /* The next bytes of direction dir (FLOW_*), in order. ts_us is the capture time of the
     * segment that completed them. */
    void (*data)(void *ud, flow_conn *c, int dir, const uint8_t *p, size_t n, int64_t ts_us);
    /* n bytes of direction dir will never arrive; data goes on after them. */
    void (*gap)(void *ud, flow_conn *c, int dir, uint64_t n, int64_t ts_us);
    /* The connection ended; c is freed after this returns (free c->user here). */
    void (*closed)(void *ud, flow_conn *c, flow_end why, int64_t ts_us);
} tcpflow_hooks;

typedef struct tcpflow_limits {
    size_t max_conns;       /* followed at once; 0: 4096 */
    size_t max_pending;     /* out-of-order bytes held per direction; 0: 1 MiB */
    int64_t idle_us;        /* a connection with no segment this long ends; 0: never */
    const uint16_t *server_ports; /* for guessing roles without a SYN; may be NULL */
    size_t nserver_ports;
} tcpflow_limits;

typedef struct tcpflow tcpflow;

/* A reassembler calling h (with ud). lim may be NULL for the defaults. Returns it, or NULL
 * when memory ran out. */
tcpflow *tcpflow_new(const tcpflow_hooks *h, void *ud, const tcpflow_limits *lim);
/* Takes one segment (in capture order). */
void tcpflow_add(tcpflow *f, const tcp_seg *s);
/* Ends connections idle since before now_us - idle_us (call from time to time live). */
void tcpflow_expire(tcpflow *f, int64_t now_us);
/* The input ended: delivers what waits (reporting the holes before it as gaps) and ends
 * every connection with FLOW_END_INPUT. */
void tcpflow_finish(tcpflow *f, int64_t now_us);
/* Frees the reassembler. Connections still open get the closed hook (FLOW_END_INPUT)
 * first, so their user state is freed, but no data or gap. Accepts NULL. */
void tcpflow_free(tcpflow *f);

#endif
