/* tui_work.c -- the TUI's worker thread: a job queue in, a done queue out. */
#include "tui_work.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "base/err.h"

struct tui_work {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on submit, on a job done, and on stop */
    tui_job *todo, *done;
    size_t pending;
    bool running, stop, quit;
};

static void append(tui_job **list, tui_job *j)
{
    j->next = NULL;
    while (*list)
        list = &(*list)->next;
    *list = j;
}

static void drop_list(tui_job *j)
{
    while (j) {
        tui_job *next = j->next;
        if (j->drop)
            j->drop(j);
        free(j);
        j = next;
    }
}

static void *work_main(void *arg)
{
    tui_work *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->quit && (!w->todo || w->stop))
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->quit)
            break;
        tui_job *j = w->todo;
        w->todo = j->next;
        w->running = true;
        pthread_mutex_unlock(&w->mu);
        j->run(j);
        pthread_mutex_lock(&w->mu);
        w->running = false;
        append(&w->done, j);
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

tui_work *tui_work_start(char *err, size_t errlen)
{
    tui_work *w = calloc(1, sizeof *w);
    if (!w) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, work_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        err_set(err, errlen, "cannot start the worker thread");
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    return w;
}

void tui_work_submit(tui_work *w, tui_job *j)
{
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
        j->next = NULL;
        drop_list(j);
    } else {
        append(&w->todo, j);
        w->pending++;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

int tui_work_poll(tui_work *w, void *ctx)
{
    pthread_mutex_lock(&w->mu);
    tui_job *done = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->mu);
    int dirty = 0;
    size_t n = 0;
    while (done) {
        tui_job *next = done->next;
        if (done->finish)
            dirty |= done->finish(done, ctx);
        free(done);
        done = next;
        n++;
    }
    if (n) {
        pthread_mutex_lock(&w->mu);
        w->pending -= n;
        pthread_mutex_unlock(&w->mu);
    }
    return dirty;
}

size_t tui_work_pending(tui_work *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->pending;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void tui_work_stop(tui_work *w)
{
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    for (tui_job *j = w->todo; j; j = j->next)
        w->pending--;
    drop_list(w->todo);
    w->todo = NULL;
    while (w->running)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void tui_work_free(tui_work *w)
{
    if (!w)
        return;
    tui_work_stop(w);
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    drop_list(w->done);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
