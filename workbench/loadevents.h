/* loadevents.h -- what a load (`workbench load`, the TUI's) writes to the lab's timeline
 * (base/eventlog.h): the balancer's ejections and returns, and its failed calls summed at
 * most every 100 ms.
 * Outside a lab every function here does nothing. */
#ifndef WB_LOADEVENTS_H
#define WB_LOADEVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "rpc/balancer.h"

enum { LOADEVENTS_EVERY_MS = 100 }; /* at most one "calls failed" line this often */

/* The failed calls not written yet; zeroed: none. */
typedef struct loadevents {
    uint64_t last_ms;   /* clock_now_ms of the last "calls failed" line (0: none yet) */
    uint64_t pending;   /* failed calls since */
    char addr[128];     /* the instance the last of them failed on ("-": none was known) */
    char why[200];      /* and its error */
} loadevents;

/* Makes b write "balancer ejected ADDR for MS ms: REASON" and "balancer back ADDR" while
 * this process is in a lab (eventlog_use may put it in one later). */
void loadevents_watch_balancer(balancer *b);
/* Counts one call that failed after retries, on addr (NULL: no instance) with why; writes
 * "calls failed N calls (ADDR: REASON)" when the last such line is LOADEVENTS_EVERY_MS old. */
void loadevents_failed(loadevents *le, const char *addr, const char *why);
/* Writes the calls counted but not written once LOADEVENTS_EVERY_MS have passed since the
 * last line (now: at once). */
void loadevents_flush(loadevents *le, bool now);

#endif
