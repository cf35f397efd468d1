/* tui_act_reg.c -- the TUI's registry actions: switching to another registry (and moving
 * the running servers into it), stopping and starting the private etcd, and lease TTLs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "base/clock.h"
#include "base/i18n.h"
#include "tui_int.h"
#include "tui_ops.h"

/* What the Registry pane watches: every service in etcd (the sample servers, and order,
 * user and the gateway beside them); Consul lists one service at a time. The load calls
 * only TUI_SERVICE's entries. */
const char *tui_watched_service(const regopt *o)
{
    bool consul = o->kind == REGOPT_CONSUL_DEV || (o->kind == REGOPT_URL && !strncmp(o->url, "consul", 6));
    return consul ? TUI_SERVICE : "";
}

static void set_label(tui *t)
{
    if (t->reg.kind == REGOPT_STATIC)
        snprintf(t->reg_label, sizeof t->reg_label, _("static (no registry)"));
    else if (t->reg.kind == REGOPT_PRIVATE_ETCD)
        snprintf(t->reg_label, sizeof t->reg_label, "etcd %s", t->etcd->client);
    else if (t->reg.kind == REGOPT_CONSUL_DEV)
        snprintf(t->reg_label, sizeof t->reg_label, "consul -dev %s", t->consul.http);
    else /* "etcd HOST:PORT", "consul HOST:PORT" */
        snprintf(t->reg_label, sizeof t->reg_label, "%.*s %.80s", (int)strcspn(t->reg_url, ":"), t->reg_url,
                 strstr(t->reg_url, "://") ? strstr(t->reg_url, "://") + 3 : t->reg_url);
}

/* The registry is open (or failed to): the model follows it from now on, and the running
 * servers are restarted into it, since a server takes its registry when it starts. */
int tui_finish_registry(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_registry_job *g = (tui_registry_job *)j;
    t->switching = false;
    if (g->start_etcd)
        t->etcd_busy = false;
    if (g->started_etcd)
        supervisor_note(t->sup, 0, _("started the private etcd again (same data, same port)"));
    if (g->started_consul) {
        t->consul = g->consul;
        t->own_consul = true;
        supervisor_note(t->sup, 0, _("started a private consul agent -dev at %s"), t->consul.http);
    }
    if (g->rc < 0) {
        supervisor_note(t->sup, 0, _("could not switch the registry to %s: %s; staying on %s"), regopt_name(&g->to),
                        g->err, t->reg_label);
        tui_say(t, _("registry %s: %s"), regopt_name(&g->to), g->err);
        return DIRTY_TIMELINE | DIRTY_STATUS;
    }
    bool first = !t->reg_url[0];
    if (t->watch) {
        registry_watch_cancel(t->watch);
        tui_free_watch_job *f = tui_free_watch_job_new(t->watch);
        if (f) {
            f->job.finish = NULL;
            tui_work_submit(t->side, &f->job);
        } else {
            registry_watch_free(t->watch);
        }
    }
    t->watch = g->watch;
    g->watch = NULL;
    t->reg = g->to;
    snprintf(t->reg_url, sizeof t->reg_url, "%s", g->url);
    set_label(t);
    tui_model_load(&t->m, g->list, g->n, g->left_out);
    if (t->m.reg_left_out)
        supervisor_note(t->sup, 0, _("registry: %zu entries listed, %zu left out: the workbench holds %d"), g->n,
                        t->m.reg_left_out, TUI_MAX_ADDRS);
    free(g->list);
    g->list = NULL;
    if (first) {
        if (t->reg.kind != REGOPT_PRIVATE_ETCD)
            supervisor_note(t->sup, 0,
                            t->reg.kind == REGOPT_STATIC ? _("registry: %s: the load calls the servers started here")
                                                         : _("registry: %s"),
                            t->reg_label);
        return DIRTY_ALL;
    }
    size_t n, moved = 0;
    const instance *in = supervisor_instances(t->sup, &n);
    /* a gateway finds its services in a registry: with none it stays where it is */
    bool is_static = t->reg.kind == REGOPT_STATIC;
    for (size_t i = 0; i < n; i++) {
        bool gateway = !strcmp(in[i].program, "gateway");
        if (gateway && is_static && in[i].pid > 0)
            supervisor_note(t->sup, in[i].id, _("gateway #%d stays on the registry it started with: it needs one"),
                            in[i].id);
        moved += in[i].pid > 0 && !tui_is_starting(t, in[i].id) && !(gateway && is_static);
    }
    if (t->reg.kind == REGOPT_STATIC)
        supervisor_note(t->sup, 0, _("registry: none now (a static list): the load calls the servers alive here"));
    else
        supervisor_note(t->sup, 0,
                        ngettext("registry: now %s, %zu entry: the load resolves from it",
                                 "registry: now %s, %zu entries: the load resolves from it", g->n),
                        t->reg_label, g->n);
    if (moved)
        supervisor_note(t->sup, 0,
                        t->reg.kind == REGOPT_STATIC
                            ? ngettext("restarting %zu running server without a registry: a server registers when it starts",
                                       "restarting %zu running servers without a registry: a server registers when it starts",
                                       moved)
                            : ngettext("restarting %zu running server into it: a server registers when it starts",
                                       "restarting %zu running servers into it: a server registers when it starts", moved),
                        moved);
    t->nrolling = 0;
    for (size_t i = 0; i < n && t->nrolling < TUI_MAX_STARTING; i++)
        if (in[i].pid > 0 && !tui_is_starting(t, in[i].id) && !(is_static && !strcmp(in[i].program, "gateway")))
            t->rolling[t->nrolling++] = in[i].id;
    tui_roll_on(t);
    tui_say(t, _("registry: %s"), t->reg_label);
    return DIRTY_ALL;
}

/* Queues the switch to o; the current registry stays in use until it is open. */
int tui_switch_registry(tui *t, const regopt *o)
{
    if (t->switching || t->etcd_busy) {
        tui_say(t, "%s", t->switching ? _("a registry switch is under way: wait for it")
                                      : _("stopping or starting etcd is under way: wait for it"));
        return DIRTY_STATUS;
    }
    if (o->kind == t->reg.kind && (o->kind != REGOPT_URL || strcmp(o->url, t->reg.url) == 0)) {
        tui_say(t, _("the registry is %s already"), t->reg_label);
        return DIRTY_STATUS;
    }
    if (o->kind == REGOPT_CONSUL_DEV && !t->own_consul && !consulproc_available()) {
        supervisor_note(t->sup, 0, _("consul is not installed (Debian 12 has no package for it); staying on %s"),
                        t->reg_label);
        tui_say(t, _("consul is not installed (Debian 12 has no package; `make run` fetches Debian 11's); "
            "staying on %s"), t->reg_label);
        return DIRTY_TIMELINE | DIRTY_STATUS;
    }
    const char *url = o->kind == REGOPT_PRIVATE_ETCD ? t->etcd->url
                      : o->kind == REGOPT_CONSUL_DEV && t->own_consul ? t->consul.url : NULL;
    tui_registry_job *j = tui_registry_job_new(t->sup, o, url, tui_watched_service(o));
    if (!j) {
        tui_say(t, _("out of memory"));
        return DIRTY_STATUS;
    }
    j->job.finish = tui_finish_registry;
    j->auth = &t->creds.auth;
    if (o->kind == REGOPT_PRIVATE_ETCD && t->etcd->proc.pid <= 0) {
        j->start_etcd = t->etcd;
        t->etcd_busy = true;
    }
    t->switching = true;
    tui_work_submit(t->ops, &j->job);
    supervisor_note(t->sup, 0, _("switching the registry to %s..."), regopt_name(o));
    tui_say(t, _("switching the registry to %s..."), regopt_name(o));
    return DIRTY_TIMELINE | DIRTY_STATUS;
}

/* The private etcd stopped or started (on the worker, so the keys stay live meanwhile). */
static int finish_etcd(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_etcd_job *e = (tui_etcd_job *)j;
    t->etcd_busy = false;
    const char *unused = t->reg.kind == REGOPT_PRIVATE_ETCD ? "" : _(" (not the registry in use)");
    if (e->rc < 0) {
        supervisor_note(t->sup, 0, _("could not start the private etcd: %s"), e->err);
        tui_say(t, _("cannot start etcd: %s"), e->err);
    } else if (e->start) {
        supervisor_note(t->sup, 0, _("started the private etcd again (same data, same port)%s"), unused);
        tui_say(t, _("started etcd"));
    } else {
        supervisor_note(t->sup, 0, _("stopped the private etcd%s: leases cannot be renewed; the load "
                        "keeps calling the instances it knows"), unused);
        tui_say(t, _("stopped etcd"));
    }
    return DIRTY_TIMELINE | DIRTY_REGISTRY | DIRTY_STATUS;
}

/* "on"/"off" (or no argument: the e key) stop and start the private etcd: the servers
 * cannot renew their leases while it is down, and the load keeps calling the instances
 * it already knows. Anything else names a registry to switch to (see regopt_parse). */
int act_registry(tui *t, const char *arg)
{
    bool toggle = !arg || !arg[0];
    bool onoff = !toggle && (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0 || strcmp(arg, "start") == 0 ||
                             strcmp(arg, "stop") == 0);
    if (!toggle && !onoff) {
        regopt o;
        char err[300];
        if (regopt_parse(arg, &o, err, sizeof err) < 0) {
            tui_say(t, _("registry: %s"), err);
            return DIRTY_STATUS;
        }
        return tui_switch_registry(t, &o);
    }
    if (t->etcd_busy) {
        tui_say(t, _("etcd is stopping or starting already: wait for it"));
        return DIRTY_STATUS;
    }
    bool running = t->etcd->proc.pid > 0;
    bool want = toggle ? !running : strcmp(arg, "on") == 0 || strcmp(arg, "start") == 0;
    if (want == running) {
        tui_say(t, "%s", running ? _("the private etcd is already running") : _("the private etcd is already stopped"));
        return DIRTY_STATUS;
    }
    tui_etcd_job *j = tui_etcd_job_new(t->etcd, want);
    if (!j) {
        tui_say(t, _("out of memory"));
        return DIRTY_STATUS;
    }
    j->job.finish = finish_etcd;
    t->etcd_busy = true;
    tui_work_submit(t->ops, &j->job);
    tui_say(t, "%s", want ? _("starting the private etcd...") : _("stopping the private etcd..."));
    return DIRTY_STATUS;
}

/* The g key: the command line, with "registry " typed. */
int act_registry_prompt(tui *t, const char *arg)
{
    (void)arg;
    tui_cmdline_open(&t->cmd, "registry ");
    curs_set(1);
    return DIRTY_STATUS;
}

static int finish_ttl(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_ttl_job *q = (tui_ttl_job *)j;
    t->ttl_pending = false;
    if (strcmp(q->url, t->reg_url) != 0)
        return 0; /* asked of a registry no longer in use */
    uint64_t now = clock_now_ms();
    for (size_t i = 0; i < q->n; i++) {
        int k = tui_model_find_reg(&t->m, q->addr[i]);
        if (k >= 0 && t->m.reg[k].inst.lease == q->lease[i]) {
            t->m.reg[k].ttl = q->ttl[i];
            t->m.reg[k].ttl_at = now;
        }
    }
    return DIRTY_INSTANCES;
}

void tui_poll_ttls(tui *t)
{
    if (t->ttl_pending || !t->m.nreg || t->inst_shown <= 0 || strncmp(t->reg_url, "etcd://", 7) != 0)
        return;
    size_t n;
    const instance *in = supervisor_instances(t->sup, &n);
    tui_ttl_job *q = tui_ttl_job_new(t->reg_url);
    if (!q)
        return;
    q->auth = &t->creds.auth;
    for (size_t i = (size_t)t->inst_first; i < n && i < (size_t)(t->inst_first + t->inst_shown) && q->n < TUI_TTL_BATCH;
         i++) {
        int k = tui_model_find_reg(&t->m, in[i].addr);
        if (k < 0 || !t->m.reg[k].inst.lease)
            continue;
        snprintf(q->addr[q->n], sizeof q->addr[0], "%s", in[i].addr);
        q->lease[q->n++] = t->m.reg[k].inst.lease;
    }
    if (!q->n) {
        free(q);
        return;
    }
    q->job.finish = finish_ttl;
    t->ttl_pending = true;
    tui_work_submit(t->side, &q->job);
}
