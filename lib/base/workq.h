/* workq.h -- a job queue served by worker threads: a job runs on a worker, then its
 * finish runs on the owner's thread, from workq_poll, where results may touch what only
 * the owner touches (an event loop's streams, the TUI's model).
 *
 * An owner with an event loop watches workq_fd, which is readable while finished jobs
 * wait; an owner that calls workq_poll every turn anyway may ignore it. Jobs start in
 * the order submitted (with one worker they also finish in that order). Workers run
 * with every signal blocked: signals stay the owner's. Everything but run is called
 * from the owner's thread. */
#ifndef WB_WORKQ_H
#define WB_WORKQ_H

#include <stddef.h>

typedef struct workq_job workq_job;

/* A job is a struct of the submitter's, allocated with malloc, that begins with a
 * workq_job. The queue frees it with free() after its finish or its drop. */
struct workq_job {
    void (*run)(workq_job *j);              /* on a worker thread; may block */
    int (*finish)(workq_job *j, void *ctx); /* on the owner's thread; returns flags for the
                                               owner (workq_poll ORs them); may be NULL */
    void (*drop)(workq_job *j);             /* instead of finish when the job will never be
                                               finished (dropped unrun, or never polled):
                                               frees what the job holds; may be NULL */
    workq_job *next;                        /* the queue's */
};

typedef struct workq workq;

/* Starts up to nthreads workers and the wake-up descriptor. Returns the queue (free it
 * with workq_free), or NULL with a reason in err when not even one worker started. */
workq *workq_new(int nthreads, char *err, size_t errlen);
/* Queues j and takes ownership of it. After workq_stop, j is dropped at once. */
void workq_submit(workq *q, workq_job *j);
/* A descriptor that becomes readable when a job has run; workq_poll empties it. */
int workq_fd(const workq *q);
/* Runs finish(j, ctx) for every job that has run, oldest first, and frees them. Returns
 * the OR of what the finishes returned. */
int workq_poll(workq *q, void *ctx);
/* Jobs submitted and not yet handed to workq_poll or dropped (queued, running, or run). */
size_t workq_pending(workq *q);
/* Drops the jobs not yet begun and waits for those running (their own deadlines bound
 * the wait). The workers stay, idle; call workq_poll afterwards to take the last
 * results. */
void workq_stop(workq *q);
/* Stops, ends the workers, drops the jobs never polled, and frees. Accepts NULL. */
void workq_free(workq *q);

#endif
