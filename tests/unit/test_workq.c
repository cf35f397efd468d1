/* test_workq.c -- unit tests for the work queue (base/workq): jobs run on workers and
 * finish on the owner's thread, the owner is woken through workq_fd, dropped jobs are
 * freed, and stopping waits for the jobs running. */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/workq.h"
#include "threadtest.h"

/* What the jobs of one test report. */
static struct {
    pthread_t owner;
    atomic_int ran, finished, dropped, running, most_running;
    atomic_bool bad_thread;   /* a run on the owner's thread, or a finish off it */
    int order[64];            /* finishes, in order */
    int norder;
} seen;

typedef struct job {
    workq_job base;
    int id;
    unsigned sleep_ms;        /* how long run takes */
    int *payload;             /* something the job holds, freed by finish or drop */
} job;

static void job_run(workq_job *j)
{
    job *x = (job *)j;
    if (pthread_equal(pthread_self(), seen.owner))
        atomic_store(&seen.bad_thread, true);
    int now = atomic_fetch_add(&seen.running, 1) + 1;
    int most = atomic_load(&seen.most_running);
    while (now > most && !atomic_compare_exchange_weak(&seen.most_running, &most, now))
        ;
    if (x->sleep_ms)
        clock_sleep_ms(x->sleep_ms);
    atomic_fetch_sub(&seen.running, 1);
    atomic_fetch_add(&seen.ran, 1);
}

static int job_finish(workq_job *j, void *ctx)
{
    job *x = (job *)j;
    if (!pthread_equal(pthread_self(), seen.owner))
        atomic_store(&seen.bad_thread, true);
    if (seen.norder < 64)
        seen.order[seen.norder++] = x->id;
    atomic_fetch_add(&seen.finished, 1);
    free(x->payload);
    return *(int *)ctx << x->id;
}

static void job_drop(workq_job *j)
{
    atomic_fetch_add(&seen.dropped, 1);
    free(((job *)j)->payload);
}

static job *job_new(int id, unsigned sleep_ms)
{
    job *x = calloc(1, sizeof *x);
    TT_CHECK(x != NULL, "out of memory");
    x->base.run = job_run;
    x->base.finish = job_finish;
    x->base.drop = job_drop;
    x->id = id;
    x->sleep_ms = sleep_ms;
    x->payload = malloc(sizeof *x->payload); /* a leak checker sees it if neither frees it */
    return x;
}

static void reset(void)
{
    memset(&seen, 0, sizeof seen);
    seen.owner = pthread_self();
}

/* Waits on workq_fd and polls until n jobs have finished (at most 5 s). Returns the OR of
 * the finishes' flags. */
static int poll_until(workq *q, int n)
{
    int flags = 0, one = 1;
    uint64_t give_up = clock_now_ms() + 5000;
    while (atomic_load(&seen.finished) < n && clock_now_ms() < give_up) {
        struct pollfd p = {.fd = workq_fd(q), .events = POLLIN};
        poll(&p, 1, 100);
        flags |= workq_poll(q, &one);
    }
    return flags;
}

TT_TEST(workq, jobs_run_on_workers_and_finish_on_the_owner)
{
    reset();
    char err[128];
    workq *q = workq_new(1, err, sizeof err);
    TT_CHECK(q != NULL, "%s", err);
    for (int i = 0; i < 8; i++)
        workq_submit(q, &job_new(i, 0)->base);
    int flags = poll_until(q, 8);
    TT_CHECK(atomic_load(&seen.ran) == 8, "%d jobs ran, not 8", atomic_load(&seen.ran));
    TT_CHECK(atomic_load(&seen.finished) == 8, "%d finished, not 8", atomic_load(&seen.finished));
    TT_CHECK(!atomic_load(&seen.bad_thread), "a run on the owner, or a finish off it");
    TT_CHECK(flags == 0xff, "the finishes' flags are ORed: 0x%x", flags);
    for (int i = 0; i < 8; i++)
        TT_CHECK(seen.order[i] == i, "one worker finishes in submission order: #%d is %d", i,
                 seen.order[i]);
    TT_CHECK(workq_pending(q) == 0, "%zu pending", workq_pending(q));
    workq_free(q);
    TT_CHECK(atomic_load(&seen.dropped) == 0, "%d dropped", atomic_load(&seen.dropped));
}

TT_TEST(workq, the_fd_wakes_the_owner_and_poll_empties_it)
{
    reset();
    char err[128];
    workq *q = workq_new(1, err, sizeof err);
    TT_CHECK(q != NULL, "%s", err);
    struct pollfd p = {.fd = workq_fd(q), .events = POLLIN};
    TT_CHECK(poll(&p, 1, 0) == 0, "readable before anything ran");
    workq_submit(q, &job_new(0, 0)->base);
    TT_CHECK(poll(&p, 1, 5000) == 1, "a job that ran wakes the owner");
    int one = 1, flags = workq_poll(q, &one);
    TT_CHECK(flags == 1, "the job's finish ran: flags 0x%x", flags);
    TT_CHECK(poll(&p, 1, 0) == 0, "workq_poll took the wake-up");
    workq_free(q);
}

TT_TEST(workq, several_workers_run_at_once)
{
    reset();
    char err[128];
    workq *q = workq_new(2, err, sizeof err);
    TT_CHECK(q != NULL, "%s", err);
    for (int i = 0; i < 4; i++)
        workq_submit(q, &job_new(i, 100)->base);
    poll_until(q, 4);
    TT_CHECK(atomic_load(&seen.finished) == 4, "%d finished, not 4", atomic_load(&seen.finished));
    TT_CHECK(atomic_load(&seen.most_running) == 2, "at most %d ran at once, not 2",
             atomic_load(&seen.most_running));
    TT_CHECK(!atomic_load(&seen.bad_thread), "a run on the owner, or a finish off it");
    workq_free(q);
}

TT_TEST(workq, pending_counts_until_polled)
{
    reset();
    char err[128];
    workq *q = workq_new(1, err, sizeof err);
    TT_CHECK(q != NULL, "%s", err);
    for (int i = 0; i < 3; i++)
        workq_submit(q, &job_new(i, 20)->base);
    TT_CHECK(workq_pending(q) == 3, "%zu pending after three submits", workq_pending(q));
    while (atomic_load(&seen.ran) < 3)
        clock_sleep_ms(5);
    TT_CHECK(workq_pending(q) == 3, "run but not yet polled: %zu pending", workq_pending(q));
    poll_until(q, 3);
    TT_CHECK(workq_pending(q) == 0, "%zu pending after poll", workq_pending(q));
    workq_free(q);
}

TT_TEST(workq, stop_drops_the_queued_and_waits_for_the_running)
{
    reset();
    char err[128];
    workq *q = workq_new(1, err, sizeof err);
    TT_CHECK(q != NULL, "%s", err);
    workq_submit(q, &job_new(0, 150)->base);
    while (atomic_load(&seen.running) == 0)
        clock_sleep_ms(1);
    for (int i = 1; i < 4; i++)
        workq_submit(q, &job_new(i, 0)->base);
    workq_stop(q);
    TT_CHECK(atomic_load(&seen.ran) == 1, "stop waited for the running job: %d ran",
             atomic_load(&seen.ran));
    TT_CHECK(atomic_load(&seen.dropped) == 3, "the queued ones are dropped unrun: %d dropped",
             atomic_load(&seen.dropped));
    TT_CHECK(workq_pending(q) == 1, "the one that ran waits for poll: %zu pending", workq_pending(q));
    workq_submit(q, &job_new(9, 0)->base);
    TT_CHECK(atomic_load(&seen.dropped) == 4, "a job submitted after stop is dropped at once");
    int one = 1, flags = workq_poll(q, &one);
    TT_CHECK(flags == 1, "the last result is still finished: flags 0x%x", flags);
    TT_CHECK(atomic_load(&seen.finished) == 1, "%d finished, not 1", atomic_load(&seen.finished));
    workq_free(q);
}

TT_TEST(workq, free_joins_and_drops_what_was_never_polled)
{
    reset();
    char err[128];
    workq *q = workq_new(2, err, sizeof err);
    TT_CHECK(q != NULL, "%s", err);
    workq_submit(q, &job_new(0, 0)->base);
    while (atomic_load(&seen.ran) == 0)
        clock_sleep_ms(1);
    workq_submit(q, &job_new(1, 150)->base);
    while (atomic_load(&seen.running) == 0)
        clock_sleep_ms(1);
    workq_free(q);
    TT_CHECK(atomic_load(&seen.ran) == 2, "free waited for the running job: %d ran",
             atomic_load(&seen.ran));
    TT_CHECK(atomic_load(&seen.finished) == 0, "nothing is finished after free");
    TT_CHECK(atomic_load(&seen.dropped) == 2, "both results are dropped: %d dropped",
             atomic_load(&seen.dropped));
}

TT_TEST(workq, free_accepts_null)
{
    workq_free(NULL);
}

TT_TEST(workq, no_threads_is_an_error)
{
    char err[128] = "";
    TT_CHECK(workq_new(0, err, sizeof err) == NULL, "a queue with no worker");
    TT_CHECK(err[0] != '\0', "no reason given");
}
