/* tui_sniff_int.h -- private to tui_sniff.c (the calls and bytes kept, below) and
 * tui_sniff_run.c (the capture thread, above): the model's state. */
#ifndef WB_TUI_SNIFF_INT_H
#define WB_TUI_SNIFF_INT_H

#include <pthread.h>

#include "tui_sniff.h"

/* The bytes kept of one connection: each direction from the first byte the sniffer kept. */
typedef struct tsn_conn {
    uint64_t id;          /* sniff_call.conn_id */
    buf dir[2];           /* [0] client to server, [1] server to client */
    uint64_t last_call;   /* the id of its newest call (the oldest lose their bytes first) */
    size_t ncalls;        /* its calls in the list */
} tsn_conn;

struct tui_sniff {
    pthread_mutex_t mu;       /* everything below, but for what the thread owns */
    pthread_cond_t cv;        /* a replay's waits (CLOCK_MONOTONIC); stop signals it */
    unsigned gen;
    tui_sniff_info info;
    tui_sniff_call *calls;    /* a ring of TUI_SNIFF_CALLS, the oldest at head */
    size_t head, n;
    uint64_t next_id;
    tsn_conn *conns;          /* connections with bytes kept */
    size_t nconns, capconns;
    size_t bytes;             /* kept in all, at most TUI_SNIFF_BYTES */
    bool stop;                /* the thread is to end */
    /* the main thread starts and joins the thread, which owns in and sn meanwhile */
    pthread_t thread;
    bool have_thread;
    pcapin *in;
    sniff *sn;
    uint16_t ports[TUI_SNIFF_PORTS]; /* the sniffer's server ports, while it lives */
};

/* Prepares s (nothing kept). Returns 0, or -1 when memory ran out. */
int tsn_init(tui_sniff *s);
void tsn_done(tui_sniff *s);
/* Forgets every call, byte and count (the lock held, or no thread). */
void tsn_clear(tui_sniff *s);

#endif
