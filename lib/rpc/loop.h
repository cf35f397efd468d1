/* loop.h -- the event loop every server shares: epoll, timers and signals on one thread.
 *
 * File descriptors are watched for readiness and call back with the epoll events.
 * Timers fire once after a delay. Signals given to loop_signal are blocked and
 * delivered through a signalfd, so handlers run as ordinary callbacks. */
#ifndef WB_LOOP_H
#define WB_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

typedef struct loop loop;

typedef void (*loop_io_fn)(loop *l, int fd, uint32_t events, void *ud);
typedef void (*loop_timer_fn)(loop *l, void *ud);
typedef void (*loop_signal_fn)(loop *l, int signo, void *ud);

/* Returns a new loop, or NULL with a reason in err. */
loop *loop_new(char *err, size_t errlen);
/* Closes the loop's own descriptors (not the watched ones) and frees it. Accepts NULL. */
void loop_free(loop *l);

/* Watches fd for events (EPOLLIN, EPOLLOUT...). Returns 0 or -1 (errno set). */
int loop_watch(loop *l, int fd, uint32_t events, loop_io_fn fn, void *ud);
/* Changes the events a watched fd waits for. */
int loop_rewatch(loop *l, int fd, uint32_t events);
/* Stops watching fd; call before closing it. */
void loop_unwatch(loop *l, int fd);

/* Calls fn once, ms milliseconds from now. Timers due together fire earliest first (the
 * first set among equals); one set from a callback fires on a later turn, after the
 * descriptors that are ready. Returns a timer id (> 0) or 0 when out of memory. */
uint64_t loop_timer(loop *l, uint64_t ms, loop_timer_fn fn, void *ud);
/* Cancels a timer that has not fired; unknown ids are ignored. */
void loop_timer_cancel(loop *l, uint64_t id);

/* Delivers signo to fn from the loop. Returns 0 or -1. */
int loop_signal(loop *l, int signo, loop_signal_fn fn, void *ud);

/* Runs until loop_stop. Returns 0, or -1 if epoll failed. */
int loop_run(loop *l);
void loop_stop(loop *l);

#endif
