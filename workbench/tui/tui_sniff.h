/* tui_sniff.h -- the Sniff pane's model: the calls seen on the wire between other
 * programs, from a live capture (:sniff) or from a capture file replayed at its recorded
 * pace (:replay), kept in a capped list with the bytes to explain each of them.
 *
 * A capture thread reads pcapin into the sniffer (capture/sniff); the sniffer's hooks copy
 * what is kept into this model under its lock; the main thread takes snapshots of it for
 * drawing and explains a call's bytes for the Wire pane. Nothing here draws. */
#ifndef WB_TUI_SNIFF_H
#define WB_TUI_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "capture/sniff.h"
#include "wire/explain.h"

enum {
    TUI_SNIFF_CALLS = 1000,            /* calls kept; older ones are dropped and counted */
    TUI_SNIFF_BYTES = 8 << 20,         /* bytes kept in all to explain calls; the calls
                                        * seen longest ago lose theirs first */
    TUI_SNIFF_KEEP = 1 << 20,          /* bytes the sniffer keeps of each direction of a
                                        * connection */
    TUI_SNIFF_SILENCE_US = 5000000,    /* replay: the longest wait between two packets */
    TUI_SNIFF_PORTS = 16,              /* ports a live capture may be limited to */
    TUI_SNIFF_VIEW_ROWS = 120,         /* rows a snapshot holds around the selected call */
};

typedef enum tui_sniff_mode {
    TUI_SNIFF_NONE,   /* nothing was started */
    TUI_SNIFF_LIVE,   /* :sniff, on an interface */
    TUI_SNIFF_REPLAY, /* :replay FILE */
} tui_sniff_mode;

/* What runs, for the pane's title. */
typedef struct tui_sniff_info {
    tui_sniff_mode mode;
    bool running;             /* false: stopped, or the file was played to its end */
    bool finished;            /* a replay reached the end of its file */
    char iface[32];           /* live: the interface */
    uint16_t ports[TUI_SNIFF_PORTS];
    size_t nports;            /* live: the ports asked for (0: every TCP port) */
    char file[256];           /* replay: the file as given */
    double speed;             /* replay: 1 is the recorded pace, 2 twice as fast */
    uint64_t segments;        /* TCP segments fed to the sniffer */
    uint64_t total;           /* replay: TCP segments in the file (0: not counted) */
    int64_t first_us, at_us, last_us; /* replay: capture times of the file's first
                                       * segment, of the one fed last, of its last one */
    int64_t silence_us;       /* replay: the silence being cut short now (0: none) */
    uint64_t calls, dropped;  /* calls seen; of those, dropped from the list (the oldest) */
    uint64_t conns, unknown;  /* connections seen; of those, in no protocol known */
    uint64_t kernel_dropped;  /* live: packets the kernel dropped */
    char error[300];          /* why the capture stopped on its own, or "" */
    char last_conn[300];      /* the latest connection event: "A → B: gRPC ..." */
} tui_sniff_info;

/* One call, as the list shows it. */
typedef struct tui_sniff_row {
    uint64_t id;              /* 1, 2, ... in the order the calls were seen */
    sniff_proto proto;
    char client[48], server[48];
    char method[160];
    char status[48];
    int64_t start_us, end_us; /* capture times; end_us 0: no reply */
    bool has_bytes;           /* its bytes are kept: it can be opened in the Wire pane */
} tui_sniff_row;

/* One call whole: what the pane says of the selected one. */
typedef struct tui_sniff_call {
    tui_sniff_row row;
    uint64_t conn_id, n;      /* its connection (sniff_call.conn_id) and its place on it */
    char args[400], result[400], error[300], note[300]; /* "" when none */
    bool had_args, had_result;
    bool bytes_dropped;       /* its bytes were kept until newer calls needed the room */
    bool bytes_past;          /* its bytes came past what the sniffer keeps of a connection */
    /* where it lies in its connection's bytes (sniff_call) */
    size_t req_off, req_end, rep_off, rep_end;
    bool from_start;
} tui_sniff_call;

/* What the pane draws: the info, and rows around the selected call. */
typedef struct tui_sniff_view {
    tui_sniff_info info;
    tui_sniff_row rows[TUI_SNIFF_VIEW_ROWS];
    size_t nrows;
    size_t first;             /* the place of rows[0] among the calls kept (0: the oldest) */
    size_t total;             /* calls kept */
    int sel;                  /* index of the selected call in rows, -1: none */
    bool follow;              /* the selection follows the newest call */
    tui_sniff_call detail;    /* the selected call, when sel >= 0 */
} tui_sniff_view;

/* A call's bytes and their explanation, for the Wire pane (tui_sniff_explain). */
typedef struct tui_sniff_bytes {
    tui_sniff_call call;
    buf share[2];             /* [0] the request, c2s[req_off..req_end); [1] the reply */
    buf conn[2];              /* the connection's bytes each way up to the call's end */
    explain ex[2];            /* spans over share[0] and share[1] */
} tui_sniff_bytes;

typedef struct tui_sniff tui_sniff;

/* A model with nothing running. Returns NULL when memory ran out. */
tui_sniff *tui_sniff_new(void);
/* Stops what runs and frees. Accepts NULL. */
void tui_sniff_free(tui_sniff *s);

/* Starts a live capture on iface ("lo" when NULL or "") of the given ports (every TCP
 * port when n is 0), forgetting the calls kept. Returns 0, or -1 with pcapin's reason in
 * err (without the capture capability: what to run). Stops what ran first. */
int tui_sniff_live(tui_sniff *s, const char *iface, const uint16_t *ports, size_t n, char *err, size_t errlen);
/* Starts replaying the capture file path (pcap or pcapng) at speed times its recorded
 * pace (0 < speed <= 1000), forgetting the calls kept. Returns 0, or -1 with a reason. */
int tui_sniff_replay(tui_sniff *s, const char *path, double speed, char *err, size_t errlen);
/* Stops the capture or the replay (the calls stay). Returns false when nothing ran. */
bool tui_sniff_stop(tui_sniff *s);

/* A number that moves whenever what a snapshot shows changes. */
unsigned tui_sniff_gen(tui_sniff *s);
void tui_sniff_get_info(tui_sniff *s, tui_sniff_info *out);
/* Fills v for the call with id sel (0: the newest, which the selection then follows; a
 * call no longer kept: the oldest kept). */
void tui_sniff_snapshot(tui_sniff *s, uint64_t sel, tui_sniff_view *v);
/* The id of the call delta places after the one with id sel (0: the newest), kept in the
 * list; 0 when the list is empty. */
uint64_t tui_sniff_move(tui_sniff *s, uint64_t sel, int delta);

/* Explains the call with id id from its kept bytes into *out (tui_sniff_bytes_done it
 * whatever this returns). Returns 0, or -1 with a reason in err (its bytes are not kept,
 * it is no longer in the list, memory ran out). */
int tui_sniff_explain(tui_sniff *s, uint64_t id, tui_sniff_bytes *out, char *err, size_t errlen);
void tui_sniff_bytes_done(tui_sniff_bytes *b);

/* The sniffer's hooks, which the capture thread runs; they take the lock. Open for the
 * unit tests, which feed calls without a capture. */
void tui_sniff_take_call(tui_sniff *s, const sniff_call *c);
void tui_sniff_take_conn(tui_sniff *s, const sniff_conn_event *ev);

/* The wait before a segment captured gap_us after the one before, at speed: gap_us /
 * speed, at most TUI_SNIFF_SILENCE_US (then *cut is set), 0 for a segment stamped before
 * the one before it. */
int64_t tui_sniff_pace_us(int64_t gap_us, double speed, bool *cut);
/* The method as a list cell of at most width columns: a gRPC path's package and a
 * long HTTP query are cut first ("…Greeter/SayHello", "GET /arith/mul…"), else its end is
 * cut. */
void tui_sniff_short_method(const char *method, int width, char *out, size_t cap);

#endif
