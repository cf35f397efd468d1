/* loop.c -- epoll event loop with timers and signalfd signals. */
#include "rpc/loop.h"

#include "base/clock.h"
#include "base/err.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define MAX_SIGNALS 8

typedef struct watch {
    int fd;
    loop_io_fn fn;
    void *ud;
} watch;

typedef struct timer {
    uint64_t seq, due; /* seq: the order they were set in */
    loop_timer_fn fn;
    void *ud;
    uint32_t slot;
} timer;

/* Where a timer is in the heap, found from its id (the slot's number + 1 in its low half),
 * so a cancel takes O(log n). The id's high half counts the slot's uses, so an id from an
 * earlier use is stale. A free slot keeps its last id and holds the next free slot in pos;
 * it is in use while the heap entry at pos names it. */
typedef struct timer_slot {
    uint64_t id;
    uint32_t pos;
} timer_slot;

struct loop {
    int ep;
    bool stop;
    watch **watches; /* indexed by fd */
    size_t nwatches;
    timer *timers; /* a binary heap, earliest (then first set) on top */
    size_t ntimers, timers_cap;
    uint64_t next_timer_seq;
    timer_slot *slots; /* timers_cap of them */
    uint32_t free_slot; /* the first free one; timers_cap when none */
    int sigfd;
    sigset_t sigs;
    struct {
        int signo;
        loop_signal_fn fn;
        void *ud;
    } sig[MAX_SIGNALS];
    int nsig;
};

loop *loop_new(char *err, size_t errlen)
{
    loop *l = calloc(1, sizeof *l);
    if (!l) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    l->sigfd = -1;
    sigemptyset(&l->sigs);
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) {
        err_set(err, errlen, "epoll_create1: %s", strerror(errno));
        free(l);
        return NULL;
    }
    return l;
}

void loop_free(loop *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nwatches; i++)
        free(l->watches[i]);
    free(l->watches);
    free(l->timers);
    free(l->slots);
    if (l->sigfd >= 0)
        close(l->sigfd);
    close(l->ep);
    free(l);
}

int loop_watch(loop *l, int fd, uint32_t events, loop_io_fn fn, void *ud)
{
    if (fd < 0)
        return errno = EBADF, -1;
    if ((size_t)fd >= l->nwatches) {
        size_t n = (size_t)fd + 64;
        watch **nw = realloc(l->watches, n * sizeof *nw);
        if (!nw)
            return errno = ENOMEM, -1;
        memset(nw + l->nwatches, 0, (n - l->nwatches) * sizeof *nw);
        l->watches = nw;
        l->nwatches = n;
    }
    watch *w = l->watches[fd];
    if (!w && !(w = calloc(1, sizeof *w)))
        return errno = ENOMEM, -1;
    *w = (watch){fd, fn, ud};
    l->watches[fd] = w;
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;
        free(w);
        l->watches[fd] = NULL;
        return errno = e, -1;
    }
    return 0;
}

int loop_rewatch(loop *l, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
}

void loop_unwatch(loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nwatches || !l->watches[fd])
        return;
    epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    free(l->watches[fd]);
    l->watches[fd] = NULL;
}

/* Whether a fires before b: earlier, or as early and set first. */
static bool timer_before(const timer *a, const timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void timer_place(loop *l, size_t i, timer t)
{
    l->timers[i] = t;
    l->slots[t.slot].pos = (uint32_t)i;
}

static void timer_up(loop *l, size_t i)
{
    timer t = l->timers[i];
    while (i > 0 && timer_before(&t, &l->timers[(i - 1) / 2])) {
        timer_place(l, i, l->timers[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    timer_place(l, i, t);
}

static void timer_down(loop *l, size_t i)
{
    timer *h = l->timers, t = h[i];
    size_t n = l->ntimers;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= n)
            break;
        if (k + 1 < n && timer_before(&h[k + 1], &h[k]))
            k++;
        if (!timer_before(&h[k], &t))
            break;
        timer_place(l, i, h[k]);
        i = k;
    }
    timer_place(l, i, t);
}

/* Takes the timer at i out of the heap and frees its slot. */
static void timer_remove(loop *l, size_t i)
{
    uint32_t slot = l->timers[i].slot;
    l->slots[slot].pos = l->free_slot;
    l->free_slot = slot;
    l->timers[i] = l->timers[--l->ntimers];
    if (i == l->ntimers)
        return;
    timer_up(l, i);
    timer_down(l, i);
}

/* Room for twice the timers (and their slots); false when out of memory. */
static bool timers_grow(loop *l)
{
    size_t n = l->timers_cap ? l->timers_cap * 2 : 8;
    if (n > UINT32_MAX)
        return false;
    timer *nt = realloc(l->timers, n * sizeof *nt);
    if (!nt)
        return false;
    l->timers = nt;
    timer_slot *ns = realloc(l->slots, n * sizeof *ns);
    if (!ns)
        return false;
    l->slots = ns;
    for (size_t i = l->timers_cap; i < n; i++)
        ns[i] = (timer_slot){.id = 0, .pos = (uint32_t)(i + 1)}; /* pos n: none */
    l->free_slot = (uint32_t)l->timers_cap;
    l->timers_cap = n;
    return true;
}

uint64_t loop_timer(loop *l, uint64_t ms, loop_timer_fn fn, void *ud)
{
    if (l->ntimers == l->timers_cap && !timers_grow(l))
        return 0;
    uint32_t slot = l->free_slot;
    timer_slot *ts = &l->slots[slot];
    l->free_slot = ts->pos;
    ts->id = ((ts->id >> 32) + 1) << 32 | ((uint64_t)slot + 1);
    l->timers[l->ntimers] = (timer){++l->next_timer_seq, clock_now_ms() + ms, fn, ud, slot};
    ts->pos = (uint32_t)l->ntimers++;
    timer_up(l, l->ntimers - 1);
    return ts->id;
}

void loop_timer_cancel(loop *l, uint64_t id)
{
    uint64_t slot = (id & UINT32_MAX) - 1; /* id 0, "none set", wraps past every slot */
    if (slot >= l->timers_cap || l->slots[slot].id != id)
        return;
    uint32_t pos = l->slots[slot].pos;
    if (pos < l->ntimers && l->timers[pos].slot == slot) /* else it fired or was cancelled */
        timer_remove(l, pos);
}

static void on_signalfd(loop *l, int fd, uint32_t events, void *ud)
{
    (void)events;
    (void)ud;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        for (int i = 0; i < l->nsig; i++)
            if (l->sig[i].signo == (int)si.ssi_signo)
                l->sig[i].fn(l, (int)si.ssi_signo, l->sig[i].ud);
    }
}

int loop_signal(loop *l, int signo, loop_signal_fn fn, void *ud)
{
    if (l->nsig == MAX_SIGNALS)
        return -1;
    sigaddset(&l->sigs, signo);
    if (sigprocmask(SIG_BLOCK, &l->sigs, NULL) < 0)
        return -1;
    int fd = signalfd(l->sigfd, &l->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (l->sigfd < 0 && loop_watch(l, fd, EPOLLIN, on_signalfd, NULL) < 0) {
        close(fd);
        return -1;
    }
    l->sigfd = fd;
    l->sig[l->nsig].signo = signo;
    l->sig[l->nsig].fn = fn;
    l->sig[l->nsig].ud = ud;
    l->nsig++;
    return 0;
}

/* Fires due timers, earliest first and the first set among equals; one set by a callback
 * waits for the next turn, so descriptors are served in between. Returns the
 * milliseconds until the next one, or -1 for none. */
static int run_timers(loop *l)
{
    uint64_t now = clock_now_ms(), last_seq = l->next_timer_seq;
    /* a timer set by a callback is due no earlier than the older ones due now, so while
     * any of those is left, one of them is on top */
    while (l->ntimers && l->timers[0].due <= now && l->timers[0].seq <= last_seq) {
        timer t = l->timers[0];
        timer_remove(l, 0);
        t.fn(l, t.ud);
        now = clock_now_ms();
    }
    if (!l->ntimers)
        return -1;
    uint64_t d = l->timers[0].due > now ? l->timers[0].due - now : 0;
    return d > 60000 ? 60000 : (int)d;
}

int loop_run(loop *l)
{
    struct epoll_event evs[MAX_EVENTS];
    l->stop = false;
    while (!l->stop) {
        int wait = run_timers(l);
        if (l->stop)
            break;
        int n = epoll_wait(l->ep, evs, MAX_EVENTS, wait);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            /* an earlier callback in this batch may have unwatched fd */
            if ((size_t)fd < l->nwatches && l->watches[fd]) {
                watch w = *l->watches[fd];
                w.fn(l, fd, evs[i].events, w.ud);
            }
        }
    }
    return 0;
}

void loop_stop(loop *l) { l->stop = true; }
