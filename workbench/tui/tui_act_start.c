/* tui_act_start.c -- servers on their way up, which every action file asks about: starting
 * and restarting them, moving them one at a time into a new registry, the static list the
 * load calls meanwhile, and the message line the actions write to. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/spawn.h"
#include "base/i18n.h"
#include "tui_int.h"
#include "tui_ops.h"

void tui_say(tui *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->message, sizeof t->message, fmt, ap);
    va_end(ap);
    t->message_at = 0; /* its time starts when it is first drawn */
}

bool tui_is_starting(const tui *t, int id)
{
    if (id && id == t->draining)
        return true;
    for (size_t i = 0; i < t->nstarting; i++)
        if (t->starting[i].id == id)
            return true;
    return false;
}

/* Restarts instance in on its address, sending sig first if it is alive (a paused one is
 * resumed so that it can take it). */
int tui_restart_instance(tui *t, const instance *in, int sig)
{
    int id = in->id;
    if (tui_is_starting(t, id)) {
        tui_say(t, _("#%d is starting already"), id);
        return -1;
    }
    pid_t old = in->pid;
    instance like = *in;
    char addr[80];
    snprintf(addr, sizeof addr, "%s", in->addr);
    if (old > 0) {
        if (in->state == INST_PAUSED)
            supervisor_signal(t->sup, id, SIGCONT);
        supervisor_signal(t->sup, id, sig);
    }
    return tui_start_server(t, id, &like, old, addr);
}

/* With no registry, the load calls the servers the supervisor has alive. */
int tui_sync_static(tui *t)
{
    if (t->reg.kind != REGOPT_STATIC)
        return 0;
    size_t n, k = 0;
    const instance *in = supervisor_instances(t->sup, &n);
    tui_member *mb = calloc(n ? n : 1, sizeof *mb); /* the model keeps TUI_MAX_ADDRS, counts the rest */
    if (!mb)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (in[i].pid > 0 && !in[i].program[0] && !tui_is_starting(t, in[i].id)) {
            snprintf(mb[k].addr, sizeof mb[k].addr, "%s", in[i].addr);
            mb[k++].proto = in[i].proto;
        }
    int dirty = tui_model_set_static(&t->m, mb, k);
    free(mb);
    return dirty;
}

static int finish_start(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_spawn_job *sj = (tui_spawn_job *)j;
    for (size_t i = 0; i < t->nstarting; i++)
        if (t->starting[i].id == sj->id && !strcmp(t->starting[i].kind, tui_instance_kind(&sj->like))) {
            memmove(&t->starting[i], &t->starting[i + 1], (t->nstarting - i - 1) * sizeof t->starting[0]);
            t->nstarting--;
            break;
        }
    int d = DIRTY_INSTANCES | DIRTY_TIMELINE | DIRTY_STATUS;
    if (sj->rc < 0) {
        if (sj->id)
            supervisor_note(t->sup, sj->id, _("could not restart #%d: %s"), sj->id, sj->err);
        else
            supervisor_note(t->sup, 0, _("could not spawn %s: %s"), supervisor_instance_program(&sj->like), sj->err);
        tui_say(t, sj->id ? _("restart failed: %s") : _("spawn failed: %s"), sj->err);
        tui_roll_on(t);
        return d;
    }
    supervisor_poll(t->sup); /* reaps the old process of a restart first */
    int id = supervisor_adopt(t->sup, sj->id, &sj->out);
    if (id < 0) {
        child c = {.pid = sj->out.pid};
        spawn_stop(&c, SIGTERM, 1000);
        tui_say(t, _("#%d is alive again already: stopped the new one"), sj->id);
        tui_roll_on(t);
        return d;
    }
    if (!sj->id)
        t->selected = id - 1;
    tui_say(t, sj->id ? _("restarted #%d") : _("spawned #%d"), id);
    tui_roll_on(t);
    return d;
}

int tui_start_server(tui *t, int id, const instance *like, pid_t old_pid, const char *addr)
{
    tui_spawn_job *j = t->nstarting < TUI_MAX_STARTING ? tui_spawn_job_new(t->sup, id, like, old_pid, addr) : NULL;
    if (!j) {
        tui_say(t, _("%d servers are starting already: wait a moment"), TUI_MAX_STARTING);
        return -1;
    }
    j->job.finish = finish_start;
    tui_starting *st = &t->starting[t->nstarting++];
    st->id = id;
    snprintf(st->kind, sizeof st->kind, "%s", tui_instance_kind(like));
    tui_work_submit(t->ops, &j->job);
    return 0;
}

/* Restarts the next instance waiting to move to the new registry, if none is starting:
 * one at a time, so the load always has the others to call, and only once the load has
 * let go of the old registry's connections, so no call is on its way to one stopping. */
void tui_roll_on(tui *t)
{
    if (t->draining) { /* off the load's list (static) once the load has applied it */
        if (!tui_model_members_applied(&t->m))
            return;
        const instance *in = supervisor_find(t->sup, t->draining);
        t->draining = 0;
        if (in && in->pid > 0)
            tui_restart_instance(t, in, SIGTERM);
    }
    if (t->nrolling && t->nstarting == 0 && tui_model_members_applied(&t->m)) {
        t->draining = t->rolling[0];
        memmove(t->rolling, t->rolling + 1, --t->nrolling * sizeof t->rolling[0]);
        tui_sync_static(t);
    }
}
