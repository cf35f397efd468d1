/* labtimeline.h -- a lab's timeline: the lab's own fault lines written to it, and the
 * timeline read back: each event on a line, and for each fault what followed it.
 *
 * The lab writes "fault" lines (host "lab") to the events file every program of the lab
 * appends to (base/eventlog.h): cut host1, heal host1, heal all, kill host2 (3 processes),
 * loss host1 30% (nftables), partition host1 | client host2 host3, kill-leader etcd host2,
 * cut-follower consul host3, leader etcd host1 (term 3).
 *
 * A fault is one that harms a host: cut, kill, loss above 0%, partition (the side without
 * the client is harmed), kill-leader, cut-follower. heal, leader and loss 0% are events,
 * not faults. A fault's window runs to the next fault, or to the end of the events. In it:
 *   - detection: from the fault to the first "balancer ejected ADDR" or "registry dropped
 *     ADDR" whose ADDR (HOST:PORT, HOST an address of the lab's plan or a host's name) is
 *     on a harmed host: the time the traffic took to move;
 *   - failed calls: the sum of the N of "calls failed N calls (...)";
 *   - for kill-leader: the time until the next "leader CLUSTER HOST" line. */
#ifndef WB_LABTIMELINE_H
#define WB_LABTIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/eventlog.h"

enum { LABTL_MAX_HOSTS = 16, LABTL_WIDTH = 80 };

typedef enum labtl_outcome {
    LABTL_MOVED,       /* a line showed the traffic leaving a harmed host */
    LABTL_NO_INSTANCE, /* no instance was ever seen on a harmed host */
    LABTL_NEVER_MOVED, /* there was one, and nothing showed the traffic leaving it */
} labtl_outcome;

typedef struct labtl_fault {
    size_t at;                            /* its fault line's index in the events */
    size_t end;                           /* one past the last event of its window */
    char hosts[LABTL_MAX_HOSTS][16];      /* the harmed hosts */
    int n_hosts;
    labtl_outcome outcome;
    int64_t detect_ms;                    /* LABTL_MOVED: fault to the first line that shows it */
    size_t detect_at;                     /* LABTL_MOVED: that line's index */
    long long failed;                     /* calls failed in the window */
    char cluster[8];                      /* kill-leader: "etcd" or "consul"; else "" */
    int64_t leader_ms;                    /* kill-leader: until a leader was seen; -1: not seen */
    size_t leader_at;                     /* that leader line's index */
} labtl_fault;

/* Makes the lab's events file at path empty, and notes it and the lab's start t0_ms
 * (clock_now_ms) for labtimeline_fault. Returns 0, or -1 with err. */
int labtimeline_open(const char *path, uint64_t t0_ms, char *err, size_t errlen);
/* The path given to labtimeline_open, or NULL before it. */
const char *labtimeline_path(void);
/* Appends a fault line (host "lab", who "fault") stamped now; nothing before
 * labtimeline_open. The text is one of the shapes above. */
void labtimeline_fault(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The faults among ev[0..n) at index from or later, with what followed each (instances
 * are known from every event, from 0 on). Pure. Returns how many, at most cap, in out. */
size_t labtimeline_faults(const eventlog_line *ev, size_t n, size_t from, labtl_fault *out, size_t cap);

/* One event as "+12.345 s  host1   keepalive refreshed via ..." into out, in lines of at
 * most width columns (continuations indented under the text; a text longer than a few
 * lines is cut with "..."). Bytes that are not printable UTF-8 are escaped (base/esc).
 * Returns out. */
char *labtimeline_format(const eventlog_line *e, int width, char *out, size_t cap);

/* Prints ev[from..n), then a summary of each fault among them, every line after margin
 * spaces and at most width columns in all. */
void labtimeline_print(FILE *f, const eventlog_line *ev, size_t n, size_t from, int margin, int width);

#endif
