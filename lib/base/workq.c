/* workq.c -- worker threads take jobs from a queue; the owner finishes them. */
#include "base/workq.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/err.h"

struct workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* signalled on submit, when a job has run, on stop and on quit */
    workq_job *todo, *done;
    size_t pending;
    int running;            /* jobs a worker is running now */
    bool stop, quit;
    int efd;                /* counts jobs run: wakes the owner */
    pthread_t *threads;
    int nthreads;
};

static void append(workq_job **list, workq_job *j)
{
    j->next = NULL;
    while (*list)
        list = &(*list)->next;
    *list = j;
}

static void drop_list(workq_job *j)
{
    while (j) {
        workq_job *next = j->next;
        if (j->drop)
            j->drop(j);
        free(j);
        j = next;
    }
}

static void *worker_main(void *arg)
{
    workq *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->quit && (!q->todo || q->stop))
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->quit)
            break;
        workq_job *j = q->todo;
        q->todo = j->next;
        q->running++;
        pthread_mutex_unlock(&q->mu);
        j->run(j);
        pthread_mutex_lock(&q->mu);
        q->running--;
        append(&q->done, j);
        uint64_t one = 1;
        if (write(q->efd, &one, sizeof one) < 0) { /* the counter cannot overflow */ }
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

workq *workq_new(int nthreads, char *err, size_t errlen)
{
    workq *q = calloc(1, sizeof *q);
    if (!q || nthreads < 1 || !(q->threads = calloc((size_t)nthreads, sizeof *q->threads))) {
        err_set(err, errlen, nthreads < 1 ? "a work queue needs a thread" : "out of memory");
        goto fail;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    if ((q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        err_set(err, errlen, "cannot make the workers' wake-up descriptor");
        goto fail_sync;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the workers inherit the full mask */
    while (q->nthreads < nthreads &&
           pthread_create(&q->threads[q->nthreads], NULL, worker_main, q) == 0)
        q->nthreads++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (q->nthreads > 0)
        return q;
    err_set(err, errlen, "cannot start a worker thread");
    close(q->efd);
fail_sync:
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
fail:
    if (q)
        free(q->threads);
    free(q);
    return NULL;
}

void workq_submit(workq *q, workq_job *j)
{
    pthread_mutex_lock(&q->mu);
    if (q->stop) {
        pthread_mutex_unlock(&q->mu);
        j->next = NULL;
        drop_list(j);
        return;
    }
    append(&q->todo, j);
    q->pending++;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

int workq_fd(const workq *q) { return q->efd; }

int workq_poll(workq *q, void *ctx)
{
    uint64_t n;
    /* first the wake-ups, then the jobs: a job that ends in between wakes the owner again */
    if (read(q->efd, &n, sizeof n) < 0) { /* EAGAIN: nothing had run */ }
    pthread_mutex_lock(&q->mu);
    workq_job *done = q->done;
    q->done = NULL;
    for (workq_job *j = done; j; j = j->next)
        q->pending--;
    pthread_mutex_unlock(&q->mu);
    int flags = 0;
    while (done) {
        workq_job *next = done->next;
        if (done->finish)
            flags |= done->finish(done, ctx);
        free(done);
        done = next;
    }
    return flags;
}

size_t workq_pending(workq *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->pending;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void workq_stop(workq *q)
{
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    workq_job *todo = q->todo;
    q->todo = NULL;
    for (workq_job *j = todo; j; j = j->next)
        q->pending--;
    pthread_mutex_unlock(&q->mu);
    drop_list(todo);
    pthread_mutex_lock(&q->mu);
    while (q->running > 0)
        pthread_cond_wait(&q->cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

void workq_free(workq *q)
{
    if (!q)
        return;
    workq_stop(q);
    pthread_mutex_lock(&q->mu);
    q->quit = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    drop_list(q->done);
    close(q->efd);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q->threads);
    free(q);
}
