/* tui_work.h -- a worker thread for the TUI's slow operations (starting servers, starting
 * or probing registries, asking etcd for lease TTLs), so the main loop never waits on a
 * child process or on HTTP. Jobs run in the order submitted; each job's finish runs on
 * the main thread, from tui_work_poll, where the results are applied to the model.
 * A work queue (base/workq) with one worker.
 *
 * A child process forked by a job dies when the worker's thread ends (PR_SET_PDEATHSIG
 * follows the thread that forked), so the owner ends the thread after stopping the
 * children (tui_work_free last). */
#ifndef WB_TUI_WORK_H
#define WB_TUI_WORK_H

#include <stddef.h>

#include "base/workq.h"

/* A job is a struct of the submitter's that begins with a tui_job: run on the worker
 * thread (may block, with deadlines); finish (may be NULL) on the main thread, returning
 * DIRTY_ flags; drop (may be NULL) frees what the job holds when it will never be
 * finished (dropped unrun, or never polled). */
typedef workq_job tui_job;

typedef struct tui_work tui_work;

/* Starts the thread (signals blocked in it). Returns NULL with a reason in err. */
tui_work *tui_work_start(char *err, size_t errlen);
/* Queues j; the worker takes ownership (it is freed with free() after its finish). */
void tui_work_submit(tui_work *w, tui_job *j);
/* Runs finish(j, ctx) for every job that has run, oldest first, and frees them.
 * Returns the OR of what the finishes returned. */
int tui_work_poll(tui_work *w, void *ctx);
/* Drops the jobs that have not started (drop, then freed) and waits for the one
 * running, if any (its own deadlines bound the wait). The thread stays, idle, so its
 * children live on; call tui_work_poll afterwards to take the last results. */
void tui_work_stop(tui_work *w);
/* Stops, ends the thread and frees (jobs never polled are dropped, not finished).
 * Accepts NULL. */
void tui_work_free(tui_work *w);

#endif
