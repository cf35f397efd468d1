/* tui_work.c -- the TUI's worker thread: a work queue with one worker, polled by the main loop. */
#include "tui_work.h"

#include <stdlib.h>

#include "base/err.h"

struct tui_work {
    workq *q;
};

tui_work *tui_work_start(char *err, size_t errlen)
{
    tui_work *w = malloc(sizeof *w);
    if (!w) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    if (!(w->q = workq_new(1, err, errlen))) {
        free(w);
        return NULL;
    }
    return w;
}

void tui_work_submit(tui_work *w, tui_job *j) { workq_submit(w->q, j); }

int tui_work_poll(tui_work *w, void *ctx) { return workq_poll(w->q, ctx); }

void tui_work_stop(tui_work *w) { workq_stop(w->q); }

void tui_work_free(tui_work *w)
{
    if (!w)
        return;
    workq_free(w->q);
    free(w);
}
