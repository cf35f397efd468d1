/* tui_wire.h -- the Wire pane's model: one call made in each protocol on a fresh
 * connection (or one gRPC call to any server), the bytes captured both ways, their
 * explain spans, and a cursor over the spans of each protocol and direction. Nothing
 * here draws. */
#ifndef WB_TUI_WIRE_H
#define WB_TUI_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "protosrc.h"
#include "rpc/rpcclient.h"
#include "wire/explain.h"

enum { TUI_WIRE_LANES = 3, TUI_WIRE_GRPC = 2 }; /* gob, JSON-RPC, gRPC, in that order */

typedef struct tui_wire_lane {
    rpc_proto proto;
    const char *label;  /* "gob", "JSON-RPC", "gRPC" */
    bool have;          /* bytes were captured */
    char note[300];     /* why there are none, or the call's error; "" when it went well */
    char addr[80];      /* the instance called */
    buf bytes[2];       /* [0] sent (the request), [1] received (the response) */
    explain ex[2];
    size_t cursor[2];   /* index of the span under the cursor, per direction */
} tui_wire_lane;

typedef struct tui_wire {
    tui_wire_lane lanes[TUI_WIRE_LANES];
    int sel;       /* the lane Left/Right move in */
    bool response; /* showing what came back instead of what was sent */
    char method[128], args[1024];
    char server[80]; /* HOST:PORT of the gRPC server called alone (tui_wire_capture_any), or "" */
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

/* Moves the selected lane's cursor delta spans (clamped). */
void tui_wire_move(tui_wire *w, int delta);
/* The span under lane i's cursor in the shown direction, or NULL. */
const span *tui_wire_current(const tui_wire *w, int lane);
/* Bytes per class (framing, type information, payload, error) of lane i, shown direction. */
void tui_wire_totals(const tui_wire *w, int lane, size_t t[4]);

#endif
