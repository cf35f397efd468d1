/* tui_wire.h -- the Wire pane's model: one call made in each protocol on a fresh
 * connection (or one gRPC call to any server, or one call sniffed on the wire), the bytes
 * captured both ways, their explain spans, and a cursor over the spans of each protocol
 * and direction; and those bytes written as a pcap file. Nothing here draws. */
#ifndef WB_TUI_WIRE_H
#define WB_TUI_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "protosrc.h"
#include "rpc/rpcclient.h"
#include "tui_sniff.h"
#include "wire/explain.h"

enum { TUI_WIRE_LANES = 3, TUI_WIRE_GRPC = 2 }; /* gob, JSON-RPC, gRPC, in that order */

typedef struct tui_wire_lane {
    rpc_proto proto;
    const char *label;  /* "gob", "JSON-RPC", "gRPC" */
    bool have;          /* bytes were captured */
    char note[300];     /* why there are none, or the call's error; "" when it went well */
    char addr[80];      /* the instance called */
    char client[48];    /* a sniffed call's client, or "" */
    buf bytes[2];       /* [0] sent (the request), [1] received (the response) */
    buf conn[2];        /* a sniffed call: its connection's bytes up to its end, or empty */
    int64_t start_us, end_us; /* a sniffed call's capture times; 0: made now */
    explain ex[2];
    size_t cursor[2];   /* index of the span under the cursor, per direction */
} tui_wire_lane;

typedef struct tui_wire {
    tui_wire_lane lanes[TUI_WIRE_LANES];
    int sel;       /* the lane Left/Right move in */
    bool response; /* showing what came back instead of what was sent */
    char method[128], args[1024];
    char server[80]; /* HOST:PORT of the gRPC server called alone (tui_wire_capture_any), or "" */
    char sniffed[200]; /* "#12 Arith.Multiply": the call sniffed on the wire shown
                        * (tui_wire_show_sniffed), or "" */
    char sniffed_conn[120]; /* its "127.0.0.1:4321 → 127.0.0.1:1234" */
    bool busy;     /* a capture is under way (on the TUI's worker) */
} tui_wire;

void tui_wire_init(tui_wire *w);
void tui_wire_done(tui_wire *w);

/* Calls method with the JSON args once on a new connection to addrs[i] (HOST:PORT of a
 * running server of lane i's protocol; NULL or "" when there is none) for each lane,
 * capturing both directions and explaining them. Blocks up to timeout_ms per lane. The
 * cursors start on each dump's first payload byte. */
void tui_wire_capture(tui_wire *w, const char *method, const char *args,
                      const char *const addrs[TUI_WIRE_LANES], int timeout_ms);

/* Learns method's types (protosrc_learn: the files in src, else the server's reflection),
 * then calls it with the JSON args once on a new connection to the gRPC server at addr
 * (HOST:PORT), capturing and explaining the gRPC lane; the other lanes get a note that
 * the call is gRPC only, and the gRPC lane's note says what went wrong, if anything.
 * Selects the gRPC lane. Blocks up to timeout_ms for the types and as long for the call. */
void tui_wire_capture_any(tui_wire *w, const char *addr, const char *method, const char *args,
                          const protosrc *src, int timeout_ms);

/* Shows the call sniffed on the wire that b holds in the lane of its protocol (HTTP in
 * the JSON-RPC lane, named HTTP), taking b's buffers; the other lanes say why they are
 * empty. Selects its lane. */
void tui_wire_show_sniffed(tui_wire *w, tui_sniff_bytes *b);

/* Writes the bytes of every lane that has some as one TCP connection each to the pcap
 * file path: from the client's address and port to the server's as the call used them,
 * else from 127.0.0.1 to the instance called. Returns the connections written, or -1
 * with a reason in err (none has bytes, the file cannot be written). */
int tui_wire_write_pcap(const tui_wire *w, const char *path, char *err, size_t errlen);

/* Moves the selected lane's cursor delta spans (clamped). */
void tui_wire_move(tui_wire *w, int delta);
/* The span under lane i's cursor in the shown direction, or NULL. */
const span *tui_wire_current(const tui_wire *w, int lane);
/* Bytes per class (framing, type information, payload, error) of lane i, shown direction. */
void tui_wire_totals(const tui_wire *w, int lane, size_t t[4]);

#endif
