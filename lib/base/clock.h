/* clock.h -- the one clock: monotonic time for deadlines and latencies, wall time for
 * what is stored, sleeps, and absolute times for pthread_cond_timedwait. */
#ifndef WB_CLOCK_H
#define WB_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds and microseconds on the monotonic clock (since an unspecified start). */
uint64_t clock_now_ms(void);
uint64_t clock_now_us(void);
/* Milliseconds since the Unix epoch, for timestamps that are stored or shown. */
int64_t clock_wall_ms(void);

/* Writes the local time of day as "HH:MM:SS.mmm" into out (n bytes, NUL-terminated):
 * the stamp on log lines and watch events. Returns out. */
char *clock_stamp(char *out, size_t n);

/* Sleeps ms milliseconds (us microseconds), through interruptions by signals. */
void clock_sleep_ms(uint64_t ms);
void clock_sleep_us(uint64_t us);

/* The time ms milliseconds from now on clock id (CLOCK_MONOTONIC for a condition
 * variable made with pthread_condattr_setclock, CLOCK_REALTIME otherwise). */
struct timespec clock_after(clockid_t id, uint64_t ms);

#endif
