/* tui_act_lab.c -- the TUI's lab actions: :hosts N makes a lab of hosts and ends it, the
 * faults (:cut, :heal, :kill-host, :loss, :partition, :kill-leader), the live knobs (:set),
 * and the lab's share of each loop turn (its timeline read back, who leads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/i18n.h"
#include "tui_int.h"
#include "tui_lab.h"

enum { READ_MS = 500, LEADER_MS = 2000 };

static bool lab_ready(tui *t)
{
    if (t->lab_busy) {
        tui_say(t, _("the lab is busy: wait for it"));
        return false;
    }
    if (!t->lab) {
        tui_say(t, _("no lab: :hosts N makes one of N hosts"));
        return false;
    }
    return true;
}

static int finish_up(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_lab_up_job *u = (tui_lab_up_job *)j;
    t->lab_busy = false;
    if (u->rc < 0) {
        supervisor_note(t->sup, 0, _("no lab: %s"), u->err);
        tui_say(t, _("no lab: %s"), u->err);
        return DIRTY_TIMELINE | DIRTY_STATUS;
    }
    t->lab = u->lab;
    u->lab = NULL;
    t->lab_info = u->info;
    t->lab_seen = 0;
    t->detect_ms = -1;
    t->lab_leader = (tui_lab_leader){0};
    tui_model_set_netns(&t->m, t->lab_info.netfd);
    tui_netns_job *s = tui_netns_job_new(t->lab_info.netfd);
    if (s)
        tui_work_submit(t->side, &s->job);
    supervisor_note(t->sup, 0, _("lab: %d hosts, etcd on %d of them (%s); new servers go on the hosts in turn"),
                    t->lab_info.n, t->lab_info.nmembers, t->lab_info.url + 7);
    t->lab_prev = t->reg;
    regopt o;
    char err[300];
    if (regopt_parse(t->lab_info.url, &o, err, sizeof err) == 0)
        return tui_switch_registry(t, &o) | DIRTY_ALL;
    tui_say(t, "%s", err);
    return DIRTY_ALL;
}

/* The lab has ended: the servers that were on its hosts are seen gone first, so that the
 * registry before the lab comes back without them (none is restarted into it). */
static int finish_down(tui_job *j, void *ctx)
{
    (void)j;
    tui *t = ctx;
    t->lab_busy = false;
    supervisor_poll(t->sup);
    supervisor_note(t->sup, 0, _("lab: ended; its hosts and everything on them are gone"));
    int dirty = DIRTY_ALL;
    if (t->lab_prev.kind != REGOPT_URL || strncmp(t->lab_prev.url, "etcd://10.77.", 13) != 0)
        dirty |= tui_switch_registry(t, &t->lab_prev);
    tui_say(t, _("lab ended"));
    return dirty;
}

/* Ends the lab: the servers on its hosts die with it; the registry before it comes back. */
static int lab_down(tui *t)
{
    tui_lab_down_job *d = tui_lab_down_job_new(t->lab, t->sup, t->orig_netfd);
    if (!d) {
        tui_say(t, _("out of memory"));
        return DIRTY_STATUS;
    }
    tui_model_set_netns(&t->m, t->orig_netfd);
    tui_netns_job *s = tui_netns_job_new(t->orig_netfd);
    if (s)
        tui_work_submit(t->side, &s->job);
    d->job.finish = finish_down;
    t->lab_busy = true;
    tui_work_submit(t->ops, &d->job);
    t->lab = NULL;
    t->lab_info.n = 0;
    t->show_hosts = false;
    tui_say(t, _("ending the lab..."));
    return DIRTY_ALL;
}

/* :hosts N (1..7) makes a lab, :hosts 0 ends it, :hosts alone (and H) shows it. */
int act_hosts(tui *t, const char *arg)
{
    if (!arg || !arg[0]) {
        if (!t->lab) {
            tui_say(t, _("no lab: :hosts N makes one of N hosts"));
            return DIRTY_STATUS;
        }
        t->show_hosts = !t->show_hosts;
        return DIRTY_LAYOUT | DIRTY_ALL;
    }
    char *end;
    long n = strtol(arg, &end, 10);
    if (*end || n < 0 || n > TUI_LAB_MAX_HOSTS) {
        tui_say(t, _("hosts: a number of hosts from 1 to %d, or 0 to end the lab"), TUI_LAB_MAX_HOSTS);
        return DIRTY_STATUS;
    }
    if (t->lab_busy || t->switching) {
        tui_say(t, _("the lab or the registry is busy: wait for it"));
        return DIRTY_STATUS;
    }
    if (n == 0) {
        if (!t->lab) {
            tui_say(t, _("no lab to end"));
            return DIRTY_STATUS;
        }
        return lab_down(t);
    }
    if (t->lab) {
        tui_say(t, _("a lab of %d hosts runs already (:hosts 0 ends it)"), t->lab_info.n);
        return DIRTY_STATUS;
    }
    tui_lab_up_job *u = tui_lab_up_job_new((int)n, t->sup, t->orig_netfd);
    if (!u) {
        tui_say(t, _("out of memory"));
        return DIRTY_STATUS;
    }
    u->job.finish = finish_up;
    t->lab_busy = true;
    tui_work_submit(t->ops, &u->job);
    tui_say(t, _("making a lab of %ld hosts and starting etcd on them..."), n);
    return DIRTY_STATUS;
}

static int finish_fault(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_lab_fault_job *f = (tui_lab_fault_job *)j;
    t->lab_busy = false;
    if (t->lab)
        t->lab_info = f->info;
    if (f->rc < 0) {
        tui_say(t, "%s", f->err);
        return DIRTY_STATUS;
    }
    supervisor_note(t->sup, 0, "lab fault: %s", f->text);
    if (t->lab_leader.leader > 0 && f->info.host[t->lab_leader.leader].killed)
        t->lab_leader = (tui_lab_leader){0}; /* it led: no leader known until asked again */
    t->lab_leader_at = 0;                     /* who leads now: asked on the next read */
    tui_say(t, "%s", f->text);
    return DIRTY_TIMELINE | DIRTY_STATUS | DIRTY_LAYOUT;
}

/* Queues fault kind on the hosts named in arg (want: how many, -1: one or more, 0: none
 * or one); pct for loss. */
static int fault(tui *t, tui_fault kind, const char *arg, int want)
{
    if (!lab_ready(t))
        return DIRTY_STATUS;
    tui_lab_fault_job *f = tui_lab_fault_job_new(t->lab, kind);
    if (!f) {
        tui_say(t, _("out of memory"));
        return DIRTY_STATUS;
    }
    char words[256];
    snprintf(words, sizeof words, "%s", arg ? arg : "");
    bool pct_ok = kind != FAULT_LOSS; /* loss takes one percent after its host */
    for (char *w = strtok(words, " "); w; w = strtok(NULL, " ")) {
        if (kind == FAULT_LOSS && f->nhosts == 1) {
            char *end;
            long pct = strtol(w, &end, 10);
            pct_ok = !pct_ok && end != w && !*end && pct >= 0 && pct <= 100;
            f->percent = (int)(pct_ok ? pct : 0);
            continue;
        }
        int h = tui_lab_find(&t->lab_info, w);
        if (h < 0 || f->nhosts == TUI_LAB_MAX_HOSTS) {
            tui_say(t, _("no host %s in the lab (client, host1..host%d)"), w, t->lab_info.n);
            free(f);
            return DIRTY_STATUS;
        }
        f->hosts[f->nhosts++] = h;
    }
    if ((want > 0 && f->nhosts != want) || (want < 0 && f->nhosts < 1) || (want == 0 && f->nhosts > 1) || !pct_ok) {
        tui_say(t, "%s", kind == FAULT_LOSS ? _("loss HOST PERCENT (0 to 100)") : _("name the host: host1, host2..."));
        free(f);
        return DIRTY_STATUS;
    }
    f->job.finish = finish_fault;
    t->lab_busy = true;
    tui_work_submit(t->ops, &f->job);
    return DIRTY_STATUS;
}

int act_cut(tui *t, const char *arg) { return fault(t, FAULT_CUT, arg, 1); }
int act_heal(tui *t, const char *arg) { return fault(t, FAULT_HEAL, arg, 0); }
int act_kill_host(tui *t, const char *arg) { return fault(t, FAULT_KILL_HOST, arg, 1); }
int act_loss(tui *t, const char *arg) { return fault(t, FAULT_LOSS, arg, 1); }
int act_partition(tui *t, const char *arg) { return fault(t, FAULT_PARTITION, arg, -1); }
int act_kill_leader(tui *t, const char *arg)
{
    (void)arg;
    return fault(t, FAULT_KILL_LEADER, NULL, 0);
}

/* Sets the TTL of servers started from now on, on the worker that starts them. */
typedef struct ttl_set_job {
    tui_job job;
    supervisor *sup;
    int ttl;
} ttl_set_job;

static void ttl_set_run(tui_job *j)
{
    ttl_set_job *s = (ttl_set_job *)j;
    supervisor_set_ttl(s->sup, s->ttl);
}

/* :set interval S and :set deregister S: Consul's check timing belongs to each
 * registration, so the servers go into the same Consul again, its URL carrying the new
 * option (a registry switch, which restarts them one at a time). */
static int set_consul_timing(tui *t, const char *what, int secs)
{
    if (strncmp(t->reg_url, "consul://", 9) != 0) {
        tui_say(t, _("%s is Consul's check timing: switch to Consul first (:registry consul)"), what);
        return DIRTY_STATUS;
    }
    regopt o = {.kind = REGOPT_URL};
    size_t keylen = strlen(what), used = 0;
    const char *q = strchr(t->reg_url, '?');
    used = (size_t)snprintf(o.url, sizeof o.url, "%.*s", (int)(q ? q - t->reg_url : (long)strlen(t->reg_url)),
                            t->reg_url);
    char sep = '?';
    for (const char *opt = q; opt && used < sizeof o.url; opt = strchr(opt + 1, '&')) {
        size_t len = strcspn(opt + 1, "&");
        if (len > keylen && !strncmp(opt + 1, what, keylen) && opt[1 + keylen] == '=')
            continue; /* replaced below */
        used += (size_t)snprintf(o.url + used, sizeof o.url - used, "%c%.*s", sep, (int)len, opt + 1);
        sep = '&';
    }
    if (used < sizeof o.url)
        used += (size_t)snprintf(o.url + used, sizeof o.url - used, "%c%s=%d", sep, what, secs);
    char err[300];
    registry *r = used < sizeof o.url ? registry_new(o.url, NULL, err, sizeof err) : NULL;
    if (!r) {
        tui_say(t, "%s", used < sizeof o.url ? err : _("the registry URL is too long"));
        return DIRTY_STATUS;
    }
    registry_free(r);
    return tui_switch_registry(t, &o);
}

/* :set lists the knobs with the last detection time; :set ttl S, deadline MS, eject N,
 * backoff MIN[:MAX] change one; interval S and deregister S, Consul's check timing. */
int act_set(tui *t, const char *arg)
{
    char what[16] = "", val[64] = "";
    if (!arg || sscanf(arg, "%15s %63s", what, val) < 2) {
        char detect[64];
        if (t->detect_ms >= 0)
            snprintf(detect, sizeof detect, _("detected in %lld ms"), (long long)t->detect_ms);
        else
            snprintf(detect, sizeof detect, "%s", _("no detection yet"));
        tui_say(t, _("ttl %ds · deadline %dms · eject %d · backoff %d:%dms · %s"), t->ttl, t->lb_deadline_ms,
                t->lb_eject_after, t->lb_backoff_min, t->lb_backoff_max, detect);
        return DIRTY_STATUS;
    }
    int a = 0, b = 0;
    int got = sscanf(val, "%d:%d", &a, &b);
    if (got < 1 || a < 1) {
        tui_say(t, _("set: a whole number above 0, not %s"), val);
        return DIRTY_STATUS;
    }
    if (!strcmp(what, "ttl")) {
        ttl_set_job *j = calloc(1, sizeof *j);
        if (!j)
            return DIRTY_STATUS;
        j->job.run = ttl_set_run;
        j->sup = t->sup;
        j->ttl = t->ttl = a;
        tui_work_submit(t->ops, &j->job);
        supervisor_note(t->sup, 0, _("set ttl %d s: for the servers started from now on"), a);
        tui_say(t, _("ttl %d s for the servers started from now on"), a);
        return DIRTY_STATUS | DIRTY_TIMELINE;
    }
    if (!strcmp(what, "interval") || !strcmp(what, "deregister"))
        return set_consul_timing(t, what, a);
    if (!strcmp(what, "deadline"))
        t->lb_deadline_ms = a;
    else if (!strcmp(what, "eject"))
        t->lb_eject_after = a;
    else if (!strcmp(what, "backoff")) {
        t->lb_backoff_min = a;
        t->lb_backoff_max = got == 2 && b >= a ? b : a > t->lb_backoff_max ? a : t->lb_backoff_max;
    } else {
        tui_say(t, _("set: ttl, deadline, eject, backoff, interval or deregister"));
        return DIRTY_STATUS;
    }
    tui_model_set_knobs(&t->m, t->lb_deadline_ms, t->lb_eject_after, t->lb_backoff_min, t->lb_backoff_max);
    supervisor_note(t->sup, 0, _("set %s %s: the balancer from its next call"), what, val);
    tui_say(t, _("deadline %d ms · eject after %d · backoff %d:%d ms"), t->lb_deadline_ms, t->lb_eject_after,
            t->lb_backoff_min, t->lb_backoff_max);
    return DIRTY_STATUS | DIRTY_TIMELINE;
}

/* ---- the loop's share ---- */

static int finish_read(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_lab_read_job *r = (tui_lab_read_job *)j;
    t->lab_reading = false;
    if (!t->lab || strcmp(r->events, t->lab_info.events) != 0) {
        free(r->lines);
        return 0;
    }
    t->lab_seen = r->seen;
    int led = r->leader.leader;
    if (r->ask_leader && !(led > 0 && led <= t->lab_info.n && t->lab_info.host[led].killed))
        t->lab_leader = r->leader; /* a member killed since it was asked leads no more */
    if (r->detect_ms >= 0) {
        t->detect_ms = r->detect_ms;
        snprintf(t->detect_fault, sizeof t->detect_fault, "%s", r->detect_fault);
    }
    for (size_t i = 0; i < r->n; i++) {
        const eventlog_line *e = &r->lines[i];
        bool own = (!strcmp(e->host, "lab") && !strcmp(e->who, "fault")) ||
                   (!strcmp(e->host, "client") && !strcmp(e->who, "registry"));
        if (!own) /* the TUI noted its own faults and registry events already */
            supervisor_note(t->sup, 0, "%s %s: %s", e->host, e->who, e->text);
    }
    free(r->lines);
    return r->ask_leader && t->show_hosts ? DIRTY_ALL : 0;
}

int tui_lab_poll(tui *t, uint64_t now)
{
    if (!t->lab || t->lab_reading || now - t->lab_read_at < READ_MS)
        return 0;
    bool leader = now - t->lab_leader_at >= LEADER_MS;
    tui_lab_read_job *r = tui_lab_read_job_new(&t->lab_info, t->lab_seen, leader);
    if (!r)
        return 0;
    r->job.finish = finish_read;
    t->lab_read_at = now;
    if (leader)
        t->lab_leader_at = now;
    t->lab_reading = true;
    tui_work_submit(t->side, &r->job);
    return 0;
}

void tui_lab_end(tui *t)
{
    if (!t->lab)
        return;
    tui_lab_down_job *d = tui_lab_down_job_new(t->lab, t->sup, -1);
    t->lab = NULL;
    if (d) {
        d->job.run(&d->job);
        free(d);
    }
}
