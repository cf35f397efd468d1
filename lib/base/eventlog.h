/* eventlog.h -- the lab's timeline: one file every program of a lab appends its events to.
 *
 * `workbench lab` makes the file and gives its commands two variables: WB_LAB_EVENTS, the
 * file's path, and WB_LAB_T0, the lab's start on the monotonic clock in milliseconds
 * (one clock for every namespace of the machine), and WB_LAB_HOST, the host a command
 * runs on. A program started anywhere else has no WB_LAB_EVENTS and says nothing.
 *
 * A line is "MS HOST WHO TEXT\n": MS the milliseconds since the lab began, HOST the
 * host's name ("client", "host1"; "lab" for the lab's own faults), WHO the part that
 * speaks (keepalive, registry, balancer, calls, fault), TEXT the event on one line. Each
 * line is one write(2) to a file opened with O_APPEND, so the lines of many processes
 * never interleave. A process writes at most EVENTLOG_CAP bytes; after that, one line
 * says so and the rest is dropped. */
#ifndef WB_EVENTLOG_H
#define WB_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { EVENTLOG_CAP = 1 << 20, EVENTLOG_LINE = 512 };

/* Whether this process writes events (WB_LAB_EVENTS is set and the file opened). */
bool eventlog_on(void);
/* Milliseconds since the lab began (WB_LAB_T0), or -1 when this process is in no lab. */
int64_t eventlog_now_ms(void);
/* Appends one event said by who, unless this process is in no lab. Thread-safe. Control
 * characters in the text become spaces; a text too long for a line is cut. */
void eventlog_say(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Makes this process write its events to the file at path from now on, as host, with
 * the lab's start t0_ms (monotonic ms), whatever its WB_LAB_* variables say; path NULL:
 * no more events. For a process that joins and leaves labs while it runs (the TUI).
 * Returns 0, or -1 with errno (nothing changed). */
int eventlog_use(const char *path, int64_t t0_ms, const char *host);

/* What the lab itself writes: the same line with host given, into the file at path
 * (the lab's own process has no WB_LAB_* variables). Returns 0, or -1 with errno. */
int eventlog_append(const char *path, int64_t ms, const char *host, const char *who, const char *text);

typedef struct eventlog_line {
    int64_t ms;
    char host[32], who[32];
    char text[EVENTLOG_LINE];
} eventlog_line;

/* Reads the events of the file at path written at or after since_ms, sorted by time
 * (stable: lines of one time keep their order), into a new array *out of *n (caller
 * frees). Lines that do not parse are skipped. Reads at most max_bytes of the file.
 * Returns 0 (a missing file is no event), or -1 with a reason in err. */
int eventlog_read(const char *path, int64_t since_ms, size_t max_bytes, eventlog_line **out, size_t *n,
                  char *err, size_t errlen);

#endif
