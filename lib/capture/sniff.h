/* sniff.h -- the RPC calls in captured TCP traffic: each connection's protocol recognised
 * by its bytes, and every call's method, argument, result, status and latency.
 *
 * Segments go through tcpflow; each connection's protocol is recognised from its first
 * bytes, not its port: Go's net/rpc with gob, JSON-RPC (Go's net/rpc/jsonrpc and the
 * workbench's), gRPC over cleartext HTTP/2, and HTTP/1.1 (the gateway). A connection caught
 * mid-way is recognised too, and its calls are decoded as far as the bytes allow: a gob
 * stream's type definitions and HTTP/2's header table were sent before the capture began,
 * and each call says what could not be decoded and why.
 *
 * The connection's bytes are kept (up to a cap) so that any call can be explained byte by
 * byte with the wire explainers (sniff_explain_call). */
#ifndef WB_SNIFF_H
#define WB_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/pcapin.h"
#include "capture/tcpflow.h"
#include "wire/explain.h"
#include "wire/rpc_proto.h"

typedef enum sniff_proto {
    SNIFF_UNKNOWN = 0, /* not yet recognised, or none the workbench knows */
    SNIFF_GOB,         /* Go net/rpc, gob */
    SNIFF_JSONRPC,     /* JSON-RPC, one JSON value per message */
    SNIFF_GRPC,        /* gRPC over cleartext HTTP/2 */
    SNIFF_HTTP,        /* HTTP/1.x */
} sniff_proto;

/* "gob", "json", "grpc", "http" or "?" */
const char *sniff_proto_name(sniff_proto p);

/* One call, as handed to the call hook. Strings are owned by the sniffer and valid during
 * the hook only. */
typedef struct sniff_call {
    uint64_t conn_id;      /* flow_conn.id */
    uint64_t n;            /* 1, 2, ... calls on this connection */
    sniff_proto proto;
    char client[48], server[48]; /* "127.0.0.1:43210" */
    const char *method;    /* "Arith.Multiply", "/helloworld.Greeter/SayHello",
                            * "GET /arith/multiply?a=6&b=7"; "" when unknown */
    const char *args;      /* one line: JSON where the protocol carries JSON or the
                            * schema is known, else a described form; NULL: none seen */
    const char *result;    /* one line, as args; NULL: none (an error, or no reply) */
    const char *error;     /* the server's error text or a non-OK status message; NULL */
    const char *status;    /* "ok", "error", "OK", "NOT_FOUND (5)", "200 OK", "no reply" */
    const char *note;      /* what could not be decoded, and why; NULL when all was */
    int64_t start_us;      /* when the request's first byte was captured */
    int64_t end_us;        /* when the reply's last byte was; 0: no reply */
    /* Where the call lies in the connection's kept bytes (sniff_explain_call). */
    const uint8_t *c2s, *s2c;   /* every byte kept of each direction so far; NULL when
                                 * none were kept */
    size_t c2s_len, s2c_len;
    size_t req_off, req_end;    /* the request's bytes within c2s */
    size_t rep_off, rep_end;    /* the reply's within s2c (equal: none) */
    bool from_start;            /* c2s and s2c start at the connection's first bytes */
    struct sniff_wire *wire;    /* the connection's explaining state: sniff_explain_call
                                 * goes on from the call before; NULL (a copy) explains
                                 * from the first byte kept */
} sniff_call;

/* A connection recognised, ended or given up on. */
typedef struct sniff_conn_event {
    uint64_t conn_id;
    sniff_proto proto;
    char client[48], server[48];
    bool mid_stream;       /* the capture began after the connection did */
    bool ended;            /* false: recognised (or found to be no known protocol) */
    const char *text;      /* one line for the learner: "gRPC over HTTP/2 (h2c), from its
                            * start", "not an RPC protocol the workbench knows: ..." ,
                            * "closed after 3 calls", ... */
} sniff_conn_event;

typedef struct sniff_hooks {
    void (*call)(void *ud, const sniff_call *c);
    void (*conn)(void *ud, const sniff_conn_event *ev); /* may be NULL */
} sniff_hooks;

typedef struct sniff_opts {
    size_t keep_bytes;       /* bytes kept per direction for explaining; 0: none kept.
                              * Past it, later calls have c2s/s2c NULL. */
    const uint16_t *server_ports; /* the ports asked for, to tell the server end of a
                                   * connection caught mid-way; may be NULL */
    size_t nserver_ports;
    size_t max_message;      /* the largest message decoded; 0: 4 MiB */
} sniff_opts;

typedef struct sniff sniff;

/* Returns the sniffer, or NULL when memory ran out. */
sniff *sniff_new(const sniff_opts *o, const sniff_hooks *h, void *ud);
/* Takes one captured segment. Hooks run from here. */
void sniff_add(sniff *s, const tcp_seg *seg);
/* Ends connections idle for 5 minutes (call from time to time when live). */
void sniff_tick(sniff *s, int64_t now_us);
/* The input ended: every call still waiting for its reply is handed over with status
 * "no reply", and every connection ends. */
void sniff_finish(sniff *s, int64_t now_us);
/* Counts so far. */
typedef struct sniff_stats {
    uint64_t conns, calls, unknown_conns, gap_bytes;
} sniff_stats;
void sniff_get_stats(const sniff *s, sniff_stats *st);
/* Frees the sniffer (as sniff_finish would, but without hooks). Accepts NULL. */
void sniff_free(sniff *s);

/* Explains call c's request and reply, from the bytes c points at (so call it from the
 * call hook, or on copies: c2s[0..req_end) and s2c[0..rep_end) are all it reads). From
 * the hook, with c->wire, a gob connection's calls cost their own bytes; a copy, with
 * wire NULL, costs every byte before the call too, and is explained the same. The
 * spans' offsets are relative to req_off (into req) and rep_off (into rep). A connection
 * caught mid-way is explained as far as possible: the bytes that cannot be read without
 * what came before are SPAN_ERROR spans saying why. Returns 0, or -1 when c has no kept
 * bytes or memory ran out. */
int sniff_explain_call(const sniff_call *c, explain *req, explain *rep);

/* The rpc_proto a sniffed protocol is dumped as (wire_print_explained); PROTO_NONE-like
 * values are not defined, so HTTP and unknown give PROTO_JSON. */
rpc_proto sniff_dump_proto(sniff_proto p);

#endif
