/* tui_sniff_run.c -- the Sniff pane's capture thread: a live capture, or a capture file
 * replayed at its recorded pace, read with pcapin into the sniffer, whose hooks fill the
 * model (tui_sniff.c). */
#include "tui_sniff_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"

enum { LIVE_WAIT_MS = 200, TICK_US = 1000000, COUNT_MS = 2000 };

static void on_call(void *ud, const sniff_call *c)
{
    tui_sniff_take_call(ud, c);
}

static void on_conn(void *ud, const sniff_conn_event *ev)
{
    tui_sniff_take_conn(ud, ev);
}

static bool stopping(tui_sniff *s)
{
    pthread_mutex_lock(&s->mu);
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* The thread ends: why, when it was not asked to. */
static void ended(tui_sniff *s, const char *err, bool finished)
{
    pthread_mutex_lock(&s->mu);
    s->info.running = false;
    s->info.finished = finished;
    s->info.silence_us = 0;
    if (err && !s->stop)
        snprintf(s->info.error, sizeof s->info.error, "%s", err);
    s->gen++;
    pthread_mutex_unlock(&s->mu);
}

static void counted(tui_sniff *s, const tcp_seg *seg)
{
    pthread_mutex_lock(&s->mu);
    s->info.segments++;
    s->info.at_us = seg->ts_us;
    if (!s->info.first_us)
        s->info.first_us = seg->ts_us;
    s->gen++;
    pthread_mutex_unlock(&s->mu);
}

static void *live_main(void *arg)
{
    tui_sniff *s = arg;
    char err[300] = "";
    int64_t last_tick = clock_wall_ms() * 1000;
    int r = 0;
    while (!stopping(s)) {
        tcp_seg seg;
        r = pcapin_next(s->in, &seg, LIVE_WAIT_MS, err, sizeof err);
        if (r < 0)
            break;
        if (r == 1) {
            sniff_add(s->sn, &seg);
            counted(s, &seg);
        }
        int64_t now = clock_wall_ms() * 1000;
        if (now - last_tick >= TICK_US) {
            last_tick = now;
            sniff_tick(s->sn, now);
            pcapin_stats st;
            pcapin_get_stats(s->in, &st);
            pthread_mutex_lock(&s->mu);
            if (st.dropped != s->info.kernel_dropped)
                s->gen++;
            s->info.kernel_dropped = st.dropped;
            pthread_mutex_unlock(&s->mu);
        }
    }
    ended(s, r == -2 ? err : NULL, false);
    return NULL;
}

/* Counts the TCP segments of the file and notes the capture times of the first and the
 * last, within COUNT_MS (a bigger file shows no total). */
static void count_file(tui_sniff *s)
{
    char err[300];
    pcapin *in = pcapin_open_file(s->info.file, err, sizeof err);
    if (!in)
        return;
    uint64_t n = 0, deadline = clock_now_ms() + COUNT_MS;
    int64_t first = 0, last = 0;
    tcp_seg seg;
    int r;
    while ((r = pcapin_next(in, &seg, 0, err, sizeof err)) == 1) {
        if (!n++)
            first = seg.ts_us;
        last = seg.ts_us;
        if ((n & 1023) == 0 && (clock_now_ms() > deadline || stopping(s)))
            break;
    }
    pcapin_free(in);
    if (r != -1)
        return;
    pthread_mutex_lock(&s->mu);
    s->info.total = n;
    s->info.first_us = first;
    s->info.last_us = last;
    s->gen++;
    pthread_mutex_unlock(&s->mu);
}

/* Waits until due (clock_now_us) or a stop. Returns false on a stop. */
static bool wait_until(tui_sniff *s, uint64_t due)
{
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        uint64_t now = clock_now_us();
        if (now >= due)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (due - now) * 1000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    bool go = !s->stop;
    pthread_mutex_unlock(&s->mu);
    return go;
}

static void silence(tui_sniff *s, int64_t us)
{
    pthread_mutex_lock(&s->mu);
    s->info.silence_us = us;
    s->gen++;
    pthread_mutex_unlock(&s->mu);
}

static void *replay_main(void *arg)
{
    tui_sniff *s = arg;
    count_file(s);
    char err[300] = "";
    int64_t prev = 0;
    bool have_prev = false;
    uint64_t due = clock_now_us();
    int r;
    tcp_seg seg;
    while ((r = pcapin_next(s->in, &seg, 0, err, sizeof err)) >= 0) {
        if (r == 0)
            continue;
        if (have_prev) {
            bool cut;
            due += (uint64_t)tui_sniff_pace_us(seg.ts_us - prev, s->info.speed, &cut);
            if (cut)
                silence(s, seg.ts_us - prev);
            if (!wait_until(s, due))
                break;
            if (cut)
                silence(s, 0);
        }
        prev = seg.ts_us;
        have_prev = true;
        sniff_add(s->sn, &seg);
        counted(s, &seg);
    }
    bool finished = r == -1 && !stopping(s);
    if (finished)
        sniff_finish(s->sn, prev);
    ended(s, r == -2 ? err : NULL, finished);
    return NULL;
}

/* Starts the thread on the reader and sniffer already made (signals blocked in it). */
static int start_thread(tui_sniff *s, void *(*fn)(void *), char *err, size_t errlen)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, fn, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        err_set(err, errlen, "cannot start a thread: %s", strerror(rc));
        return -1;
    }
    s->have_thread = true;
    return 0;
}

/* Makes the sniffer for the reader in s->in and forgets what was kept. Returns 0, or -1
 * (the reader freed). */
static int begin(tui_sniff *s, tui_sniff_mode mode, const uint16_t *ports, size_t n, char *err, size_t errlen)
{
    if (n > TUI_SNIFF_PORTS)
        n = TUI_SNIFF_PORTS;
    if (n)
        memcpy(s->ports, ports, n * sizeof *ports);
    sniff_opts o = {.keep_bytes = TUI_SNIFF_KEEP, .server_ports = n ? s->ports : NULL, .nserver_ports = n};
    sniff_hooks h = {.call = on_call, .conn = on_conn};
    if (!(s->sn = sniff_new(&o, &h, s))) {
        pcapin_free(s->in);
        s->in = NULL;
        err_set(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    tsn_clear(s);
    s->info.mode = mode;
    s->info.running = true;
    s->info.nports = n;
    if (n)
        memcpy(s->info.ports, ports, n * sizeof *ports);
    s->stop = false;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int tui_sniff_live(tui_sniff *s, const char *iface, const uint16_t *ports, size_t n, char *err, size_t errlen)
{
    tui_sniff_stop(s);
    if (!iface || !iface[0])
        iface = "lo";
    if (!(s->in = pcapin_open_live(iface, ports, n, err, errlen)))
        return -1;
    if (begin(s, TUI_SNIFF_LIVE, ports, n, err, errlen) < 0)
        return -1;
    snprintf(s->info.iface, sizeof s->info.iface, "%s", iface);
    if (start_thread(s, live_main, err, errlen) < 0) {
        s->info.running = false;
        return -1;
    }
    return 0;
}

int tui_sniff_replay(tui_sniff *s, const char *path, double speed, char *err, size_t errlen)
{
    tui_sniff_stop(s);
    if (!(speed > 0 && speed <= 1000)) {
        err_set(err, errlen, _("the speed is a number above 0, up to 1000 (1: as recorded), not %g"), speed);
        return -1;
    }
    if (!(s->in = pcapin_open_file(path, err, errlen)))
        return -1;
    if (begin(s, TUI_SNIFF_REPLAY, NULL, 0, err, errlen) < 0)
        return -1;
    snprintf(s->info.file, sizeof s->info.file, "%s", path);
    s->info.speed = speed;
    if (start_thread(s, replay_main, err, errlen) < 0) {
        s->info.running = false;
        return -1;
    }
    return 0;
}

bool tui_sniff_stop(tui_sniff *s)
{
    if (!s->have_thread) {
        if (s->sn || s->in) { /* made, but the thread did not start */
            sniff_free(s->sn);
            pcapin_free(s->in);
            s->sn = NULL;
            s->in = NULL;
        }
        return false;
    }
    pthread_mutex_lock(&s->mu);
    bool was = s->info.running;
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pcapin_break(s->in);
    pthread_join(s->thread, NULL);
    s->have_thread = false;
    sniff_free(s->sn);
    pcapin_free(s->in);
    s->sn = NULL;
    s->in = NULL;
    pthread_mutex_lock(&s->mu);
    s->info.running = false;
    s->info.silence_us = 0;
    s->gen++;
    pthread_mutex_unlock(&s->mu);
    return was;
}

tui_sniff *tui_sniff_new(void)
{
    tui_sniff *s = malloc(sizeof *s);
    if (!s || tsn_init(s) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

void tui_sniff_free(tui_sniff *s)
{
    if (!s)
        return;
    tui_sniff_stop(s);
    tsn_done(s);
    free(s);
}
