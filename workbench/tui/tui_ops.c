/* tui_ops.c -- what the TUI's worker runs: server starts, registry switches, lease TTLs,
 * the Wire pane's calls. */
#include "tui_ops.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"

enum { OLD_EXIT_MS = 3000, LIST_MS = 5000, CONSUL_START_MS = 15000 };

/* Waits at most ms for pid to exit, leaving it to be reaped by the supervisor. */
static bool exited(pid_t pid, int ms)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)ms;
    for (;;) {
        siginfo_t si = {0};
        int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
        if ((r < 0 && errno == ECHILD) || (r == 0 && si.si_pid == pid))
            return true;
        if (clock_now_ms() >= deadline)
            return false;
        clock_sleep_ms(10);
    }
}

static void spawn_run(tui_job *j)
{
    tui_spawn_job *s = (tui_spawn_job *)j;
    if (s->old_pid > 0 && !exited(s->old_pid, OLD_EXIT_MS)) {
        kill(s->old_pid, SIGKILL); /* it did not stop in time: it must free the port */
        exited(s->old_pid, 1000);
    }
    s->rc = supervisor_launch_like(s->sup, &s->like, s->id ? s->addr : NULL, &s->out, s->err, sizeof s->err);
}

tui_spawn_job *tui_spawn_job_new(supervisor *sup, int id, const instance *like, pid_t old_pid, const char *addr)
{
    tui_spawn_job *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->job.run = spawn_run;
    s->sup = sup;
    s->id = id;
    s->like = *like;
    s->old_pid = old_pid;
    snprintf(s->addr, sizeof s->addr, "%s", addr ? addr : "");
    return s;
}

static void registry_run(tui_job *j)
{
    tui_registry_job *g = (tui_registry_job *)j;
    g->rc = -1;
    if (g->to.kind == REGOPT_STATIC) {
        snprintf(g->url, sizeof g->url, "none");
        supervisor_set_registry(g->sup, "none");
        g->rc = 0;
        return;
    }
    if (g->start_etcd) {
        if (etcdproc_restart(g->start_etcd, 0, g->err, sizeof g->err) < 0)
            return;
        g->started_etcd = true;
    }
    if (g->to.kind == REGOPT_URL)
        snprintf(g->url, sizeof g->url, "%s", g->to.url);
    if (g->to.kind == REGOPT_CONSUL_DEV && !g->url[0]) {
        if (consulproc_start(&g->consul, CONSUL_START_MS, g->err, sizeof g->err) < 0)
            return;
        g->started_consul = true;
        snprintf(g->url, sizeof g->url, "%s", g->consul.url);
    }
    registry *r = registry_new(g->url, g->auth, g->err, sizeof g->err);
    if (!r)
        goto fail;
    int64_t rev = 0;
    uint64_t deadline = clock_now_ms() + LIST_MS;
    while (registry_list(r, g->service, &g->list, &g->n, &rev, g->err, sizeof g->err) < 0) {
        if (clock_now_ms() >= deadline)
            goto fail;
        clock_sleep_ms(200); /* e.g. the private etcd, just started again */
    }
    g->left_out = registry_list_left_out(r);
    if (registry_get_kind(r) == REGISTRY_CONSUL)
        registry_set_passing_only(r, false); /* the Instances pane shows the check status */
    if (!(g->watch = registry_watch_start(r, g->service, rev, g->err, sizeof g->err)))
        goto fail;
    registry_free(r);
    supervisor_set_registry(g->sup, g->url);
    g->rc = 0;
    return;
fail:
    registry_free(r);
    free(g->list);
    g->list = NULL;
    g->n = 0;
    if (g->started_consul) {
        consulproc_stop(&g->consul);
        g->started_consul = false;
    }
}

static void registry_drop(tui_job *j)
{
    tui_registry_job *g = (tui_registry_job *)j;
    free(g->list);
    registry_watch_free(g->watch);
    if (g->started_consul)
        consulproc_stop(&g->consul);
}

tui_registry_job *tui_registry_job_new(supervisor *sup, const regopt *to, const char *url, const char *service)
{
    tui_registry_job *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->job.run = registry_run;
    g->job.drop = registry_drop;
    g->sup = sup;
    g->to = *to;
    snprintf(g->url, sizeof g->url, "%s", url ? url : "");
    g->service = service;
    return g;
}

static void etcd_run(tui_job *j)
{
    tui_etcd_job *e = (tui_etcd_job *)j;
    e->rc = 0;
    if (e->start)
        e->rc = etcdproc_restart(e->etcd, 0, e->err, sizeof e->err);
    else
        etcdproc_stop(e->etcd, false);
}

tui_etcd_job *tui_etcd_job_new(etcdproc *etcd, bool start)
{
    tui_etcd_job *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->job.run = etcd_run;
    e->etcd = etcd;
    e->start = start;
    return e;
}

static void ttl_run(tui_job *j)
{
    tui_ttl_job *t = (tui_ttl_job *)j;
    for (size_t i = 0; i < t->n; i++)
        t->ttl[i] = -1;
    registry *r = registry_new(t->url, t->auth, NULL, 0);
    for (size_t i = 0; r && i < t->n; i++)
        if (t->lease[i] && registry_lease_ttl(r, t->lease[i], &t->ttl[i], NULL, 0) < 0)
            break; /* unreachable: the rest would wait as long */
    registry_free(r);
}

tui_ttl_job *tui_ttl_job_new(const char *url)
{
    tui_ttl_job *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->job.run = ttl_run;
    snprintf(t->url, sizeof t->url, "%s", url);
    return t;
}

static void free_watch_run(tui_job *j)
{
    registry_watch_free(((tui_free_watch_job *)j)->watch);
}

tui_free_watch_job *tui_free_watch_job_new(registry_watch *w)
{
    tui_free_watch_job *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->job.run = free_watch_run;
    f->job.drop = free_watch_run;
    f->watch = w;
    return f;
}

static void wire_run(tui_job *j)
{
    tui_wire_job *c = (tui_wire_job *)j;
    const char *ap[TUI_WIRE_LANES];
    for (int i = 0; i < TUI_WIRE_LANES; i++)
        ap[i] = c->addrs[i];
    tui_wire_init(&c->w);
    if (c->server[0])
        tui_wire_capture_any(&c->w, c->server, c->method, c->args, c->src, c->timeout_ms);
    else
        tui_wire_capture(&c->w, c->method, c->args, ap, c->timeout_ms);
}

static void wire_drop(tui_job *j) { tui_wire_done(&((tui_wire_job *)j)->w); }

tui_wire_job *tui_wire_job_new(const char *method, const char *args,
                               const char addrs[TUI_WIRE_LANES][80], int timeout_ms)
{
    tui_wire_job *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->job.run = wire_run;
    c->job.drop = wire_drop;
    tui_wire_init(&c->w);
    snprintf(c->method, sizeof c->method, "%s", method);
    snprintf(c->args, sizeof c->args, "%s", args);
    memcpy(c->addrs, addrs, sizeof c->addrs);
    c->timeout_ms = timeout_ms;
    return c;
}

tui_wire_job *tui_wire_any_job_new(const char *server, const char *method, const char *args, const protosrc *src,
                                   int timeout_ms)
{
    static const char none[TUI_WIRE_LANES][80];
    tui_wire_job *c = tui_wire_job_new(method, args, none, timeout_ms);
    if (!c)
        return NULL;
    snprintf(c->server, sizeof c->server, "%s", server);
    c->src = src;
    return c;
}
