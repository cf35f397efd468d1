/* loadevents.c -- `workbench load`'s lines on the lab's timeline: ejections and failed calls. */
#include "loadevents.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/eventlog.h"

static void on_balancer(void *ctx, const char *addr, lb_event_kind kind, uint64_t backoff_ms, const char *why)
{
    (void)ctx;
    if (kind == LB_EJECTED)
        eventlog_say("balancer", "ejected %s for %llu ms: %s", addr, (unsigned long long)backoff_ms, why);
    else
        eventlog_say("balancer", "back %s", addr);
}

void loadevents_watch_balancer(balancer *b) { balancer_on_event(b, on_balancer, NULL); }

void loadevents_flush(loadevents *le, bool now)
{
    if (!le->pending)
        return;
    uint64_t t = clock_now_ms();
    if (!now && le->last_ms && t - le->last_ms < LOADEVENTS_EVERY_MS)
        return;
    eventlog_say("calls", "failed %llu calls (%s: %s)", (unsigned long long)le->pending, le->addr, le->why);
    le->pending = 0;
    le->last_ms = t;
}

void loadevents_failed(loadevents *le, const char *addr, const char *why)
{
    if (!eventlog_on())
        return;
    le->pending++;
    snprintf(le->addr, sizeof le->addr, "%s", addr && *addr ? addr : "-");
    snprintf(le->why, sizeof le->why, "%s", why ? why : "");
    loadevents_flush(le, false);
}
