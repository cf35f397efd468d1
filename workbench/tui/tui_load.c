/* tui_load.c -- the TUI's load generator thread. Only this thread touches its balancers. */
#include "tui_load.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "loadevents.h"
#include "rpc/balancer.h"
#include "wire/jsonval.h"

enum { CALL_TIMEOUT_MS = 500, NPROTO = TUI_NPROTO };

struct tui_load {
    tui_model *m;
    pthread_t thread;
    char method[128];
    value *arg;
    balancer *lb[NPROTO]; /* indexed by rpc_proto */
    unsigned gen, call_gen, reset_gen, knob_gen, netns_gen;
    loadevents events; /* failed calls not yet written to the lab's timeline */
    tui_spread spread; /* which protocol's balancer makes the next call */
    tui_member *mb;    /* TUI_MAX_ADDRS: the membership taken from the model */
    const char **addrs; /* TUI_MAX_ADDRS: one protocol's part of it */
    /* next_balancer's weights, counted again only when they may have changed: after the
     * membership, a failed attempt (an ejection), or at the end of the first ejection */
    size_t callable[NPROTO], present[NPROTO];
    bool recount;
    uint64_t recount_at; /* clock_now_ms() time; 0: no ejection to wait for */
};

/* Makes each protocol's balancer call exactly the published members of its protocol. */
static void sync_members(tui_load *l, const tui_member *mb, size_t n)
{
    for (int p = 0; p < NPROTO; p++) {
        size_t k = 0;
        for (size_t i = 0; i < n && k < TUI_MAX_ADDRS; i++)
            if ((int)mb[i].proto == p)
                l->addrs[k++] = mb[i].addr;
        balancer_set_members(l->lb[p], l->addrs, k);
    }
    l->recount = true;
}

/* Counts each protocol's present and callable (present, not ejected) instances, and
 * notes when the first ejection ends. */
static void recount(tui_load *l, uint64_t now)
{
    l->recount = false;
    l->recount_at = 0;
    for (int p = 0; p < NPROTO; p++) {
        size_t n;
        const lb_instance *in = balancer_instances(l->lb[p], &n);
        l->present[p] = l->callable[p] = 0;
        for (size_t i = 0; i < n; i++) {
            if (!in[i].present)
                continue;
            l->present[p]++;
            if (in[i].ejected_until <= now)
                l->callable[p]++;
            else if (!l->recount_at || in[i].ejected_until < l->recount_at)
                l->recount_at = in[i].ejected_until;
        }
    }
}

/* The balancer of the next call, so that every instance gets the same share whatever
 * its protocol: each protocol weighted by its instances that can be called now (present,
 * not ejected), or, when all are ejected, by its present ones. NULL when none is present.
 * The instances are counted only when that may have changed, not on every call. */
static balancer *next_balancer(tui_load *l)
{
    uint64_t now = clock_now_ms();
    if (l->recount || (l->recount_at && now >= l->recount_at))
        recount(l, now);
    size_t all = 0;
    for (int p = 0; p < NPROTO; p++)
        all += l->callable[p];
    int p = tui_spread_next(&l->spread, all ? l->callable : l->present);
    return p >= 0 ? l->lb[p] : NULL;
}

static void one_call(tui_load *l, balancer *b)
{
    value *reply = NULL;
    lb_result res;
    char err[256];
    uint64_t t0 = clock_now_us();
    call_status st = balancer_call(b, l->method, l->arg, true, &reply, &res, err, sizeof err);
    tui_call c = {.st = st, .lat_us = clock_now_us() - t0, .first_error = res.first_error};
    value_free(reply);
    size_t ni;
    const lb_instance *in = balancer_instances(b, &ni);
    c.addr = res.instance >= 0 ? in[res.instance].addr : NULL;
    c.failed_addr = res.failed_on >= 0 ? in[res.failed_on].addr : NULL;
    tui_model_count(l->m, &c);
    if (res.failed_on >= 0 || (st != CALL_OK && st != CALL_REMOTE_ERROR))
        l->recount = true; /* an attempt failed: an instance may be ejected now */
    if (st != CALL_OK && st != CALL_REMOTE_ERROR)
        loadevents_failed(&l->events, c.addr ? c.addr : c.failed_addr, err);
    else
        loadevents_flush(&l->events, false);
}

static void *run(void *arg)
{
    tui_load *l = arg;
    tui_shared *sh = &l->m->sh;
    uint64_t base = 0, i = 0;
    int last_rate = 0;
    bool was_on = false;
    tui_member *mb = l->mb;
    for (;;) {
        size_t nmb = 0;
        bool sync = false;
        pthread_mutex_lock(&sh->mu);
        while (!sh->quit && !sh->on && sh->member_gen == l->gen && sh->knob_gen == l->knob_gen &&
               sh->netns_gen == l->netns_gen)
            pthread_cond_wait(&sh->cv, &sh->mu);
        if (sh->quit) {
            pthread_mutex_unlock(&sh->mu);
            break;
        }
        bool reset = sh->reset_gen != l->reset_gen;
        l->reset_gen = sh->reset_gen;
        if (sh->member_gen != l->gen) {
            l->gen = sh->member_gen;
            nmb = sh->nmembers;
            memcpy(mb, sh->members, nmb * sizeof mb[0]);
            sync = true;
        }
        bool knobs = sh->knob_gen != l->knob_gen;
        int knob[4] = {sh->lb_timeout_ms, sh->lb_eject_after, sh->lb_backoff_min_ms, sh->lb_backoff_max_ms};
        l->knob_gen = sh->knob_gen;
        int netns = sh->netns_gen != l->netns_gen ? sh->netns_fd : -1;
        l->netns_gen = sh->netns_gen;
        if (netns >= 0) /* joined under the lock: the owner closes the descriptor only after */
            setns(netns, CLONE_NEWNET);
        bool on = sh->on;
        int rate = sh->rate;
        char method[sizeof l->method], args[sizeof sh->args];
        bool new_call = sh->call_gen != l->call_gen;
        if (new_call) {
            l->call_gen = sh->call_gen;
            snprintf(method, sizeof method, "%s", sh->method);
            snprintf(args, sizeof args, "%s", sh->args);
        }
        pthread_mutex_unlock(&sh->mu);
        if (new_call) {
            char perr[256];
            value *a = jsonval_parse(args, strlen(args), perr, sizeof perr);
            if (a) { /* checked by the caller; a text that does not parse is ignored */
                value_free(l->arg);
                l->arg = a;
                snprintf(l->method, sizeof l->method, "%s", method);
            }
        }
        for (int p = 0; knobs && p < NPROTO; p++) {
            balancer_set_timeout(l->lb[p], knob[0]);
            balancer_set_ejection(l->lb[p], knob[1], knob[2], knob[3]);
            l->recount = true;
        }
        if (reset) /* another registry: its instances get new connections, even at old addresses */
            sync_members(l, NULL, 0);
        if (sync)
            sync_members(l, mb, nmb);
        if (sync) {
            pthread_mutex_lock(&sh->mu);
            sh->member_done = l->gen;
            pthread_mutex_unlock(&sh->mu);
        }
        if (!on) {
            was_on = false;
            continue;
        }
        uint64_t now = clock_now_us();
        if (!was_on || rate != last_rate) {
            base = now;
            i = 0;
            was_on = true;
            last_rate = rate;
        }
        uint64_t due = base + i * 1000000u / (uint64_t)rate;
        if (due > now) {
            uint64_t wait = due - now;
            clock_sleep_us(wait > 50000 ? 50000 : wait); /* then look at quit and rate again */
            if (wait > 50000)
                continue;
        } else if (now - due > 200000) {
            base = now; /* fell behind (calls waited on a deadline): do not burst */
            i = 0;
        }
        i++;
        balancer *b = next_balancer(l);
        if (b)
            one_call(l, b);
    }
    return NULL;
}

tui_load *tui_load_start(tui_model *m, const char *method, const char *args_json, char *err,
                         size_t errlen)
{
    tui_load *l = calloc(1, sizeof *l);
    if (!l) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    l->m = m;
    l->recount = true;
    snprintf(l->method, sizeof l->method, "%s", method);
    l->mb = calloc(TUI_MAX_ADDRS, sizeof *l->mb);
    l->addrs = calloc(TUI_MAX_ADDRS, sizeof *l->addrs);
    if (!l->mb || !l->addrs) {
        err_set(err, errlen, "out of memory");
        goto fail;
    }
    if (!(l->arg = jsonval_parse(args_json, strlen(args_json), err, errlen)))
        goto fail;
    for (int p = 0; p < NPROTO; p++)
        if (!(l->lb[p] = balancer_new((rpc_proto)p, PICK_ROUND_ROBIN, CALL_TIMEOUT_MS))) {
            err_set(err, errlen, "out of memory");
            goto fail;
        }
    for (int p = 0; p < NPROTO; p++)
        loadevents_watch_balancer(l->lb[p]);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&l->thread, NULL, run, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        err_set(err, errlen, "cannot start the load thread");
        goto fail;
    }
    return l;
fail:
    for (int p = 0; p < NPROTO; p++)
        balancer_free(l->lb[p]);
    value_free(l->arg);
    free(l->mb);
    free(l->addrs);
    free(l);
    return NULL;
}

void tui_load_stop(tui_load *l)
{
    if (!l)
        return;
    tui_model_quit(l->m);
    pthread_join(l->thread, NULL);
    for (int p = 0; p < NPROTO; p++)
        balancer_free(l->lb[p]);
    value_free(l->arg);
    free(l->mb);
    free(l->addrs);
    free(l);
}
