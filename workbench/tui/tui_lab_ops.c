/* tui_lab_ops.c -- what the TUI does to and asks of its lab: faults (on the ops worker),
 * who leads etcd, and the new lines of the timeline file (on the side worker). */
#include "tui_lab_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"
#include "proc/labtimeline.h"

enum { READ_MAX = 4 << 20 };

void tui_lab_ask_leader(etcdcluster *c, tui_lab_leader *out)
{
    etcdcluster_view v;
    char err[256];
    *out = (tui_lab_leader){0};
    if (etcdcluster_leader(c, &v, 0, err, sizeof err) < 0)
        return;
    out->answered = v.answered;
    if (v.quorum && v.leader >= 0) {
        out->leader = c->m[v.leader].host;
        out->term = v.term;
    }
}

int tui_lab_find(const tui_lab_info *info, const char *name)
{
    return info->n > 0 ? netlab_plan_find(name, info->n) : -1;
}

void tui_lab_fill_info(const tui_lab *L, tui_lab_info *out)
{
    *out = (tui_lab_info){.n = netlab_hosts(L->lab), .split = netlab_is_split(L->lab), .t0 = L->t0,
                          .netfd = netlab_netns_fd(L->lab, NETLAB_CLIENT), .nmembers = L->etcd.n};
    for (int h = 0; h <= out->n && h <= TUI_LAB_MAX_HOSTS; h++) {
        tui_lab_host *o = &out->host[h];
        snprintf(o->name, sizeof o->name, "%s", netlab_name(L->lab, h));
        snprintf(o->addr, sizeof o->addr, "%s", netlab_addr(L->lab, h));
        o->cut = netlab_is_cut(L->lab, h);
        o->aside = netlab_in_split(L->lab, h);
        o->loss = L->loss[h];
        o->killed = L->killed[h];
        o->member = etcdcluster_on(&L->etcd, h) + 1;
    }
    out->etcd = L->etcd;
    snprintf(out->url, sizeof out->url, "%s", L->etcd.url);
    snprintf(out->events, sizeof out->events, "%s", L->events);
    snprintf(out->dir, sizeof out->dir, "%s", L->dir);
}

/* ---- faults ---- */

/* "host1 host2" of the hosts given into out. */
static void host_list(const tui_lab *L, const int *hosts, int n, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? " " : "", netlab_name(L->lab, hosts[i]));
}

static int heal(tui_lab *L, tui_lab_fault_job *f)
{
    if (f->nhosts == 1) {
        int h = f->hosts[0];
        snprintf(f->text, sizeof f->text, "heal %s", netlab_name(L->lab, h));
        if (L->loss[h] && netlab_loss(L->lab, h, 0, NULL, f->err, sizeof f->err) == 0)
            L->loss[h] = 0;
        return netlab_heal(L->lab, h, f->err, sizeof f->err);
    }
    snprintf(f->text, sizeof f->text, "heal all");
    int rc = 0;
    for (int h = 1; h <= netlab_hosts(L->lab); h++) {
        if (netlab_is_cut(L->lab, h))
            rc |= netlab_heal(L->lab, h, f->err, sizeof f->err);
        if (L->loss[h] && netlab_loss(L->lab, h, 0, NULL, f->err, sizeof f->err) == 0)
            L->loss[h] = 0;
    }
    if (netlab_is_split(L->lab))
        rc |= netlab_partition(L->lab, NULL, 0, f->err, sizeof f->err);
    return rc ? -1 : 0;
}

static int partition(tui_lab *L, tui_lab_fault_job *f)
{
    if (netlab_partition(L->lab, f->hosts, f->nhosts, f->err, sizeof f->err) < 0)
        return -1;
    char one[120], other[160];
    host_list(L, f->hosts, f->nhosts, one, sizeof one);
    int rest[NETLAB_MAX_HOSTS + 1], nr = 0;
    for (int h = 0; h <= netlab_hosts(L->lab); h++)
        if (!netlab_in_split(L->lab, h))
            rest[nr++] = h;
    host_list(L, rest, nr, other, sizeof other);
    snprintf(f->text, sizeof f->text, "partition %s | %s", one, other);
    return 0;
}

static int kill_leader(tui_lab *L, tui_lab_fault_job *f)
{
    tui_lab_leader v;
    tui_lab_ask_leader(&L->etcd, &v);
    if (v.leader <= 0)
        return err_set(f->err, sizeof f->err, _("no etcd member leads now (%d of %d answer)"), v.answered,
                       L->etcd.n), -1;
    snprintf(f->text, sizeof f->text, "kill-leader etcd %s", netlab_name(L->lab, v.leader));
    if (netlab_kill_host(L->lab, v.leader, f->err, sizeof f->err) < 0)
        return -1;
    L->killed[v.leader] = true;
    return 0;
}

static void fault_run(tui_job *j)
{
    tui_lab_fault_job *f = (tui_lab_fault_job *)j;
    tui_lab *L = f->lab;
    int64_t ms = (int64_t)clock_now_ms() - L->t0;
    int h = f->nhosts ? f->hosts[0] : 0, killed = 0;
    const char *name = netlab_name(L->lab, h), *how = NULL;
    switch (f->kind) {
    case FAULT_CUT:
        snprintf(f->text, sizeof f->text, "cut %s", name);
        f->rc = netlab_cut(L->lab, h, f->err, sizeof f->err);
        break;
    case FAULT_HEAL: f->rc = heal(L, f); break;
    case FAULT_KILL_HOST:
        killed = netlab_kill_host(L->lab, h, f->err, sizeof f->err);
        snprintf(f->text, sizeof f->text, "kill %s (%d processes)", name, killed);
        f->rc = killed < 0 ? -1 : 0;
        L->killed[h] |= killed >= 0;
        break;
    case FAULT_LOSS:
        f->rc = netlab_loss(L->lab, h, f->percent, &how, f->err, sizeof f->err);
        if (f->rc == 0)
            L->loss[h] = f->percent;
        snprintf(f->text, sizeof f->text, "loss %s %d%% (%s)", name, f->percent, how ? how : "-");
        break;
    case FAULT_PARTITION: f->rc = partition(L, f); break;
    case FAULT_KILL_LEADER: f->rc = kill_leader(L, f); break;
    }
    if (f->rc == 0)
        eventlog_append(L->events, ms, "lab", "fault", f->text);
    tui_lab_fill_info(L, &f->info);
}

tui_lab_fault_job *tui_lab_fault_job_new(tui_lab *lab, tui_fault kind)
{
    tui_lab_fault_job *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->job.run = fault_run;
    f->lab = lab;
    f->kind = kind;
    return f;
}

/* ---- the timeline file, read on the side worker ---- */

/* The address a balancer or registry line of e is about ("ejected ADDR for..", "back
 * ADDR", "added ADDR", "dropped ADDR") into out; false for other lines. */
static bool line_addr(const eventlog_line *e, char *out, size_t cap)
{
    if (strcmp(e->who, "balancer") != 0 && strcmp(e->who, "registry") != 0)
        return false;
    const char *sp = strchr(e->text, ' ');
    if (!sp)
        return false;
    size_t len = strcspn(sp + 1, " ");
    if (!len || len >= cap)
        return false;
    memcpy(out, sp + 1, len);
    out[len] = '\0';
    return true;
}

/* Whether all[i] repeats the ejection that is the last word of its host about the same
 * address ("ejected ADDR for MS ms", the same MS): a balancer at its longest backoff
 * ejects a dead server again every MS until the registry drops it, and those lines would
 * push everything else off the Timeline's few rows. */
static bool repeated_ejection(const eventlog_line *all, size_t i)
{
    const eventlog_line *e = &all[i];
    char addr[64], other[64];
    if (strcmp(e->who, "balancer") != 0 || strncmp(e->text, "ejected ", 8) != 0 || !line_addr(e, addr, sizeof addr))
        return false;
    const char *reason = strstr(e->text, " ms: "); /* "ejected ADDR for MS ms" is the head */
    size_t head = reason ? (size_t)(reason - e->text) + 3 : strlen(e->text);
    while (i-- > 0)
        if (!strcmp(all[i].host, e->host) && line_addr(&all[i], other, sizeof other) && !strcmp(other, addr))
            return !strcmp(all[i].who, "balancer") && !strncmp(all[i].text, e->text, head);
    return false;
}

static void read_run(tui_job *j)
{
    tui_lab_read_job *r = (tui_lab_read_job *)j;
    eventlog_line *all = NULL;
    size_t n = 0;
    if (eventlog_read(r->events, 0, READ_MAX, &all, &n, r->err, sizeof r->err) == 0 && n > r->seen) {
        size_t take = n - r->seen < TUI_LAB_MAX_EVENTS ? n - r->seen : TUI_LAB_MAX_EVENTS;
        if ((r->lines = malloc(take * sizeof *r->lines))) {
            for (size_t i = r->seen; i < r->seen + take; i++)
                if (!repeated_ejection(all, i))
                    r->lines[r->n++] = all[i];
            r->seen += take;
        }
        static labtl_fault f[64];
        size_t nf = labtimeline_faults(all, n, 0, f, sizeof f / sizeof f[0]);
        for (size_t i = nf; i-- > 0;) /* the newest fault whose traffic moved */
            if (f[i].outcome == LABTL_MOVED) {
                r->detect_ms = f[i].detect_ms;
                snprintf(r->detect_fault, sizeof r->detect_fault, "%.90s", all[f[i].at].text);
                break;
            }
    }
    free(all);
    if (r->ask_leader)
        tui_lab_ask_leader(&r->etcd, &r->leader);
}

static void read_drop(tui_job *j) { free(((tui_lab_read_job *)j)->lines); }

tui_lab_read_job *tui_lab_read_job_new(const tui_lab_info *info, size_t seen, bool ask_leader)
{
    tui_lab_read_job *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->job.run = read_run;
    r->job.drop = read_drop;
    snprintf(r->events, sizeof r->events, "%s", info->events);
    r->seen = seen;
    r->detect_ms = -1;
    r->ask_leader = ask_leader;
    r->etcd = info->etcd;
    return r;
}
