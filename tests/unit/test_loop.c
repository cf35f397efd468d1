/* test_loop.c -- unit tests for the event loop: timers, descriptors, signals, stopping.
 *
 * Each test runs one loop on the test's own thread, with a deadline (.timeout) and a
 * guard timer that stops a loop which would otherwise run forever. No helpers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "rpc/loop.h"

/* One deadline for every test of this program: Criterion's sandbox (BoxFort 0.1) leaks its
 * record of a deadline when a test that started later is due first, and AddressSanitizer
 * fails the run for that leak. */
#define DEADLINE .timeout = 10
#define GUARD_MS 3000 /* a loop still running this long failed to stop itself */

/* ---- helpers ---- */

/* What the callbacks saw, in order. */
typedef struct trace {
    int seen[32];
    int n;
    uint64_t at[32]; /* clock_now_ms() when each was seen */
} trace;

static void saw(trace *t, int what)
{
    cr_assert_lt(t->n, 32);
    t->at[t->n] = clock_now_ms();
    t->seen[t->n++] = what;
}

static void assert_trace(const trace *t, int n, const int *want)
{
    cr_assert_eq(t->n, n, "saw %d callbacks, expected %d", t->n, n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(t->seen[i], want[i], "callback %d was %d, expected %d", i, t->seen[i], want[i]);
}

static bool guard_fired;

static void on_guard(loop *l, void *ud)
{
    (void)ud;
    guard_fired = true;
    loop_stop(l);
}

/* A new loop with a guard timer armed. */
static loop *new_loop(void)
{
    char err[128] = "";
    loop *l = loop_new(err, sizeof err);
    cr_assert_not_null(l, "loop_new: %s", err);
    guard_fired = false;
    cr_assert_neq(loop_timer(l, GUARD_MS, on_guard, NULL), 0);
    return l;
}

static void run(loop *l)
{
    cr_assert_eq(loop_run(l), 0);
}

static void on_stop(loop *l, void *ud)
{
    (void)ud;
    loop_stop(l);
}

/* A timer callback that records which timer it was (the number is in ud). */
typedef struct tagged {
    trace *t;
    int tag;
} tagged;

static void on_tagged(loop *l, void *ud)
{
    (void)l;
    tagged *g = ud;
    saw(g->t, g->tag);
}

/* ---- timers ---- */

Test(loop, timers_fire_in_order_of_their_delays, DEADLINE)
{
    loop *l = new_loop();
    trace t = {0};
    tagged g[] = {{&t, 30}, {&t, 10}, {&t, 20}};
    for (int i = 0; i < 3; i++)
        loop_timer(l, (uint64_t)g[i].tag, on_tagged, &g[i]);
    loop_timer(l, 60, on_stop, NULL);
    run(l);
    assert_trace(&t, 3, (int[]){10, 20, 30});
    cr_assert(!guard_fired);
    loop_free(l);
}

/* Timers that all came due while the loop was busy fire earliest first, and those due
 * at the same moment in the order they were set (libuv's timer_order). */
Test(loop, timers_due_together_fire_earliest_first_then_in_order_set, DEADLINE)
{
    loop *l = new_loop();
    trace t = {0};
    tagged g[] = {{&t, 1}, {&t, 2}, {&t, 3}, {&t, 4}, {&t, 5}, {&t, 6}};
    uint64_t delay[] = {20, 5, 20, 5, 20, 0};
    for (int i = 0; i < 6; i++)
        loop_timer(l, delay[i], on_tagged, &g[i]);
    loop_timer(l, 40, on_stop, NULL);
    clock_sleep_ms(30); /* every one is due before the loop first looks */
    run(l);
    assert_trace(&t, 6, (int[]){6, 2, 4, 1, 3, 5});
    loop_free(l);
}

/* Many timers, half of them cancelled: the rest fire in order of (due, set), whatever
 * order they were set and cancelled in. */
typedef struct order_log {
    int fired[2000];
    int n;
} order_log;

static order_log many_log;

static void on_many(loop *l, void *ud)
{
    (void)l;
    many_log.fired[many_log.n++] = (int)(intptr_t)ud;
}

Test(loop, many_timers_with_cancels_fire_in_order, DEADLINE)
{
    loop *l = new_loop();
    many_log.n = 0;
    enum { N = 2000 };
    static uint64_t ids[N];
    static int due[N];
    for (int i = 0; i < N; i++) {
        due[i] = (i * 7919) % 40; /* every delay from 0 to 39 ms, scattered */
        ids[i] = loop_timer(l, (uint64_t)due[i], on_many, (void *)(intptr_t)i);
    }
    for (int i = 0; i < N; i += 2)
        loop_timer_cancel(l, ids[i]);
    loop_timer(l, 80, on_stop, NULL);
    clock_sleep_ms(45); /* all due before the loop first looks */
    run(l);
    cr_assert_eq(many_log.n, N / 2);
    for (int k = 0; k < many_log.n; k++) {
        int i = many_log.fired[k];
        cr_assert(i % 2 == 1, "timer %d was cancelled", i);
        if (k > 0) {
            int p = many_log.fired[k - 1];
            /* setting them all may straddle a millisecond: a delay 1 ms longer, set a
             * tick earlier, is due at the same time */
            cr_assert(due[p] < due[i] || ((due[p] == due[i] || due[p] == due[i] + 1) && p < i),
                      "%d fired before %d", p, i);
        }
    }
    loop_free(l);
}

Test(loop, a_timer_fires_once, DEADLINE)
{
    loop *l = new_loop();
    trace t = {0};
    tagged g = {&t, 1};
    uint64_t t0 = clock_now_ms();
    loop_timer(l, 10, on_tagged, &g);
    loop_timer(l, 100, on_stop, NULL);
    run(l);
    assert_trace(&t, 1, (int[]){1});
    cr_assert_geq(t.at[0] - t0, 10, "fired after %llu ms, before its delay", (unsigned long long)(t.at[0] - t0));
    loop_free(l);
}

Test(loop, a_cancelled_timer_never_fires, DEADLINE)
{
    loop *l = new_loop();
    trace t = {0};
    tagged a = {&t, 1}, b = {&t, 2};
    uint64_t ida = loop_timer(l, 10, on_tagged, &a);
    loop_timer(l, 20, on_tagged, &b);
    loop_timer_cancel(l, ida);
    loop_timer_cancel(l, ida); /* twice: the second is ignored */
    loop_timer_cancel(l, 987654); /* unknown ids are ignored */
    loop_timer(l, 60, on_stop, NULL);
    run(l);
    assert_trace(&t, 1, (int[]){2});
    loop_free(l);
}

/* A timer set after one was cancelled may take its place; the old id still names the
 * cancelled one, so cancelling with it again leaves the new timer alone. */
Test(loop, an_old_id_does_not_cancel_the_timer_set_after_it, DEADLINE)
{
    loop *l = new_loop();
    trace t = {0};
    tagged a = {&t, 1}, b = {&t, 2};
    uint64_t ida = loop_timer(l, 10, on_tagged, &a);
    loop_timer_cancel(l, ida);
    uint64_t idb = loop_timer(l, 10, on_tagged, &b);
    cr_assert_neq(ida, idb);
    loop_timer_cancel(l, ida);
    loop_timer(l, 60, on_stop, NULL);
    run(l);
    assert_trace(&t, 1, (int[]){2});
    loop_free(l);
}

/* A callback's timer takes the slot of the timer that just fired; cancelling with the
 * fired one's id leaves it alone. */
typedef struct resetter {
    trace *t;
    uint64_t fired_id;
    tagged next;
} resetter;

static void on_reset(loop *l, void *ud)
{
    resetter *r = ud;
    saw(r->t, 1);
    loop_timer(l, 5, on_tagged, &r->next);
    loop_timer_cancel(l, r->fired_id);
}

Test(loop, a_fired_timer_id_does_not_cancel_the_timer_its_callback_set, DEADLINE)
{
    loop *l = new_loop();
    trace t = {0};
    resetter r = {&t, 0, {&t, 2}};
    r.fired_id = loop_timer(l, 5, on_reset, &r);
    loop_timer(l, 60, on_stop, NULL);
    run(l);
    assert_trace(&t, 2, (int[]){1, 2});
    loop_free(l);
}

typedef struct canceller {
    trace *t;
    uint64_t victim;
} canceller;

static void on_cancel_victim(loop *l, void *ud)
{
    canceller *c = ud;
    saw(c->t, 1);
    loop_timer_cancel(l, c->victim);
}

/* The victim is already due when the first callback cancels it. */
Test(loop, a_timer_cancelled_by_an_earlier_callback_never_fires, DEADLINE)
{
    loop *l = new_loop();
    trace t = {0};
    tagged v = {&t, 2};
    canceller c = {&t, 0};
    loop_timer(l, 5, on_cancel_victim, &c);
    c.victim = loop_timer(l, 10, on_tagged, &v);
    loop_timer(l, 40, on_stop, NULL);
    clock_sleep_ms(20);
    run(l);
    assert_trace(&t, 1, (int[]){1});
    loop_free(l);
}

typedef struct chain {
    trace *t;
    uint64_t added_at;
} chain;

static void on_second(loop *l, void *ud)
{
    chain *c = ud;
    saw(c->t, 2);
    loop_stop(l);
}

static void on_first(loop *l, void *ud)
{
    chain *c = ud;
    saw(c->t, 1);
    c->added_at = clock_now_ms();
    cr_assert_neq(loop_timer(l, 20, on_second, c), 0);
}

Test(loop, a_timer_set_from_a_callback_fires_after_its_own_delay, DEADLINE)
{
    loop *l = new_loop();
    trace t = {0};
    chain c = {&t, 0};
    loop_timer(l, 5, on_first, &c);
    run(l);
    assert_trace(&t, 2, (int[]){1, 2});
    cr_assert_geq(t.at[1] - c.added_at, 20);
    cr_assert(!guard_fired);
    loop_free(l);
}

/* A callback that sets itself again with no delay, as a server does to come back to a
 * connection that still has output to make. */
typedef struct spinner {
    int rounds;
    int rounds_when_read; /* rounds done when the descriptor was served; -1: never */
} spinner;

static void on_spin(loop *l, void *ud)
{
    spinner *s = ud;
    if (++s->rounds < 100000) /* bounded, so that the test ends either way */
        loop_timer(l, 0, on_spin, s);
}

static void on_read_between_spins(loop *l, int fd, uint32_t events, void *ud)
{
    (void)events;
    spinner *s = ud;
    char c;
    cr_assert_eq(read(fd, &c, 1), 1);
    s->rounds_when_read = s->rounds;
    loop_stop(l);
}

/* A timer set from a timer callback waits for the next turn, even with no delay, so a
 * ready descriptor is served in between: one busy connection cannot starve the others. */
Test(loop, a_timer_set_from_a_callback_waits_for_the_next_turn, DEADLINE)
{
    loop *l = new_loop();
    int fd[2];
    cr_assert_eq(pipe2(fd, O_NONBLOCK | O_CLOEXEC), 0);
    cr_assert_eq(write(fd[1], "x", 1), 1);
    spinner s = {0, -1};
    cr_assert_eq(loop_watch(l, fd[0], EPOLLIN, on_read_between_spins, &s), 0);
    loop_timer(l, 0, on_spin, &s);
    run(l);
    cr_assert_eq(s.rounds_when_read, 1, "the ready descriptor waited for %d timer rounds",
                 s.rounds_when_read);
    loop_free(l);
    close(fd[0]);
    close(fd[1]);
}

Test(loop, timer_ids_are_not_reused, DEADLINE)
{
    loop *l = new_loop();
    uint64_t a = loop_timer(l, 1, on_stop, NULL);
    run(l);
    uint64_t b = loop_timer(l, 1, on_stop, NULL);
    cr_assert_gt(a, 0);
    cr_assert_neq(a, b, "a fired timer's id came back");
    loop_timer_cancel(l, a); /* names nothing now: must not cancel b */
    run(l);
    cr_assert(!guard_fired, "b was cancelled through a's old id");
    loop_free(l);
}

/* ---- descriptors ---- */

typedef struct pipe_io {
    int fd[2];
    trace t;
    uint32_t events;
    char got[16];
} pipe_io;

static void make_pipe(pipe_io *p)
{
    memset(p, 0, sizeof *p);
    cr_assert_eq(pipe2(p->fd, O_NONBLOCK | O_CLOEXEC), 0);
}

static void close_pipe(pipe_io *p)
{
    close(p->fd[0]);
    close(p->fd[1]);
}

static void on_readable(loop *l, int fd, uint32_t events, void *ud)
{
    pipe_io *p = ud;
    p->events = events;
    ssize_t n = read(fd, p->got, sizeof p->got - 1);
    cr_assert_gt(n, 0, "called back for EPOLLIN with nothing to read");
    p->got[n] = '\0';
    saw(&p->t, 1);
    loop_stop(l);
}

static void on_write_later(loop *l, void *ud)
{
    (void)l;
    pipe_io *p = ud;
    cr_assert_eq(write(p->fd[1], "ping", 4), 4);
}

Test(loop, a_descriptor_is_called_back_when_it_becomes_readable, DEADLINE)
{
    loop *l = new_loop();
    pipe_io p;
    make_pipe(&p);
    cr_assert_eq(loop_watch(l, p.fd[0], EPOLLIN, on_readable, &p), 0);
    loop_timer(l, 20, on_write_later, &p);
    run(l);
    assert_trace(&p.t, 1, (int[]){1});
    cr_assert(p.events & EPOLLIN);
    cr_assert_str_eq(p.got, "ping");
    cr_assert(!guard_fired);
    loop_free(l);
    close_pipe(&p);
}

static void on_writable(loop *l, int fd, uint32_t events, void *ud)
{
    pipe_io *p = ud;
    p->events = events;
    saw(&p->t, 2);
    loop_rewatch(l, fd, EPOLLIN); /* a pipe's write end never becomes readable */
}

Test(loop, rewatch_changes_what_a_descriptor_waits_for, DEADLINE)
{
    loop *l = new_loop();
    pipe_io p;
    make_pipe(&p);
    cr_assert_eq(loop_watch(l, p.fd[1], EPOLLOUT, on_writable, &p), 0);
    loop_timer(l, 50, on_stop, NULL);
    run(l);
    assert_trace(&p.t, 1, (int[]){2}); /* once: after the rewatch it waits for input */
    cr_assert(p.events & EPOLLOUT);
    loop_free(l);
    close_pipe(&p);
}

Test(loop, an_unwatched_descriptor_is_not_called_back, DEADLINE)
{
    loop *l = new_loop();
    pipe_io p;
    make_pipe(&p);
    cr_assert_eq(loop_watch(l, p.fd[0], EPOLLIN, on_readable, &p), 0);
    loop_unwatch(l, p.fd[0]);
    loop_unwatch(l, p.fd[0]); /* twice: ignored */
    cr_assert_eq(write(p.fd[1], "x", 1), 1);
    loop_timer(l, 50, on_stop, NULL);
    run(l);
    cr_assert_eq(p.t.n, 0);
    /* and it can be watched again */
    cr_assert_eq(loop_watch(l, p.fd[0], EPOLLIN, on_readable, &p), 0);
    run(l);
    assert_trace(&p.t, 1, (int[]){1});
    cr_assert_str_eq(p.got, "x");
    loop_free(l);
    close_pipe(&p);
}

/* Two descriptors ready in the same turn; whichever is called first unwatches and
 * closes the other, which must then not be called. */
typedef struct pair {
    int fd[2][2];
    int calls;
} pair;

static void on_either(loop *l, int fd, uint32_t events, void *ud)
{
    (void)events;
    pair *p = ud;
    p->calls++;
    int other = fd == p->fd[0][0] ? p->fd[1][0] : p->fd[0][0];
    loop_unwatch(l, other);
    close(other);
    loop_unwatch(l, fd);
    close(fd);
}

Test(loop, a_descriptor_unwatched_by_an_earlier_callback_in_the_same_turn_is_skipped, DEADLINE)
{
    loop *l = new_loop();
    pair p = {0};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(pipe2(p.fd[i], O_NONBLOCK | O_CLOEXEC), 0);
        cr_assert_eq(write(p.fd[i][1], "x", 1), 1);
        cr_assert_eq(loop_watch(l, p.fd[i][0], EPOLLIN, on_either, &p), 0);
    }
    loop_timer(l, 50, on_stop, NULL);
    run(l);
    cr_assert_eq(p.calls, 1);
    close(p.fd[0][1]);
    close(p.fd[1][1]);
    loop_free(l);
}

Test(loop, watching_a_bad_descriptor_fails, DEADLINE)
{
    loop *l = new_loop();
    cr_assert_eq(loop_watch(l, -1, EPOLLIN, on_readable, NULL), -1);
    cr_assert_eq(errno, EBADF);
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    close(fd[0]);
    close(fd[1]);
    cr_assert_eq(loop_watch(l, fd[0], EPOLLIN, on_readable, NULL), -1, "a closed descriptor");
    loop_unwatch(l, fd[0]); /* nothing was left behind to unwatch */
    loop_free(l);
}

/* ---- signals ---- */

typedef struct sigs {
    trace t;
} sigs;

static void on_signal(loop *l, int signo, void *ud)
{
    (void)l;
    sigs *s = ud;
    saw(&s->t, signo);
}

static void on_raise_both(loop *l, void *ud)
{
    (void)l;
    (void)ud;
    raise(SIGUSR2);
    raise(SIGUSR1);
}

Test(loop, signals_arrive_as_callbacks_on_the_loop, DEADLINE)
{
    loop *l = new_loop();
    sigs a = {0}, b = {0};
    cr_assert_eq(loop_signal(l, SIGUSR1, on_signal, &a), 0);
    cr_assert_eq(loop_signal(l, SIGUSR2, on_signal, &b), 0);
    /* both signals would kill the process if the loop had not taken them over */
    loop_timer(l, 10, on_raise_both, NULL);
    loop_timer(l, 200, on_stop, NULL);
    run(l);
    assert_trace(&a.t, 1, (int[]){SIGUSR1});
    assert_trace(&b.t, 1, (int[]){SIGUSR2});
    loop_free(l);
}

Test(loop, a_signal_sent_before_the_loop_runs_is_delivered, DEADLINE)
{
    loop *l = new_loop();
    sigs a = {0};
    cr_assert_eq(loop_signal(l, SIGUSR1, on_signal, &a), 0);
    cr_assert_eq(kill(getpid(), SIGUSR1), 0);
    loop_timer(l, 100, on_stop, NULL);
    run(l);
    assert_trace(&a.t, 1, (int[]){SIGUSR1});
    loop_free(l);
}

/* ---- stopping ---- */

static void on_count_and_stop(loop *l, void *ud)
{
    (*(int *)ud)++;
    loop_stop(l);
}

Test(loop, stop_from_a_timer_returns_from_run_and_run_resumes, DEADLINE)
{
    loop *l = new_loop();
    int a = 0, b = 0;
    loop_timer(l, 5, on_count_and_stop, &a);
    loop_timer(l, 30, on_count_and_stop, &b);
    run(l);
    cr_assert_eq(a, 1);
    cr_assert_eq(b, 0, "run went on after loop_stop");
    run(l); /* the other timer is still set */
    cr_assert_eq(b, 1);
    cr_assert(!guard_fired);
    loop_free(l);
}

Test(loop, stop_from_a_descriptor_callback_returns_from_run, DEADLINE)
{
    loop *l = new_loop();
    pipe_io p;
    make_pipe(&p);
    cr_assert_eq(write(p.fd[1], "go", 2), 2);
    cr_assert_eq(loop_watch(l, p.fd[0], EPOLLIN, on_readable, &p), 0);
    run(l); /* on_readable stops it */
    assert_trace(&p.t, 1, (int[]){1});
    cr_assert(!guard_fired);
    loop_free(l);
    close_pipe(&p);
}

Test(loop, free_accepts_null, DEADLINE) { loop_free(NULL); }
