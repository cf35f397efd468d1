/* supervisor.c -- server child processes, their signals and their timeline. */
#include "proc/supervisor.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/clock.h"
#include "base/bindir.h"
#include "base/err.h"
#include "base/i18n.h"
#include "proc/spawn.h"

#define MAX_INSTANCES 64
#define MAX_TIMELINE 1024

struct supervisor {
    char registry[256], service[128];
    int ttl;
    sup_launcher launch; /* NULL: spawn_server */
    void *launch_ctx;
    instance in[MAX_INSTANCES];
    size_t n;
    sup_event tl[MAX_TIMELINE];
    size_t ntl;
};

static const char *program_for(rpc_proto proto)
{
    return proto == PROTO_GOB ? "gob-server" : proto == PROTO_GRPC ? "grpc-server" : "jsonrpc-server";
}

const char *supervisor_state_name(inst_state st)
{
    static const char *names[] = {"running", "paused", "stopped", "killed", "exited"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

supervisor *supervisor_new(const char *registry_url, const char *service, int ttl)
{
    supervisor *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->registry, sizeof s->registry, "%s", registry_url ? registry_url : "none");
    snprintf(s->service, sizeof s->service, "%s", service ? service : "workbench");
    s->ttl = ttl > 0 ? ttl : 5;
    return s;
}

void supervisor_note(supervisor *s, int id, const char *fmt, ...)
{
    if (s->ntl == MAX_TIMELINE) { /* full: the oldest event goes */
        memmove(s->tl, s->tl + 1, (MAX_TIMELINE - 1) * sizeof s->tl[0]);
        s->ntl--;
    }
    sup_event *e = &s->tl[s->ntl++];
    e->at_ms = clock_now_ms();
    e->id = id;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->what, sizeof e->what, fmt, ap);
    va_end(ap);
}

const sup_event *supervisor_timeline(const supervisor *s, size_t *n)
{
    *n = s->ntl;
    return s->tl;
}

static int start(supervisor *s, instance *in, const char *listen, char *err, size_t errlen)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", s->ttl);
    const char *extra[8 + SUP_MAX_ARGS + 1] = {"--registry", s->registry, "--service",
                                               in->service[0] ? in->service : s->service, "--ttl", ttl};
    size_t n = 6;
    for (int i = 0; i < in->nargs; i++)
        extra[n++] = in->args[i];
    extra[n] = NULL;
    child c;
    if (s->launch) {
        char dir[PATH_MAX], path[PATH_MAX + 64];
        if (bindir_get(dir, sizeof dir) < 0)
            return err_set(err, errlen, "cannot find the workbench's own directory"), -1;
        snprintf(path, sizeof path, "%s/%s", dir, supervisor_instance_program(in));
        if (s->launch(s->launch_ctx, path, extra, listen, &c, err, errlen) < 0)
            return -1;
    } else {
        if (listen) {
            extra[n++] = "--listen";
            extra[n++] = listen;
        }
        extra[n] = NULL;
        if (spawn_server(supervisor_instance_program(in), extra, 5000, &c, err, errlen) < 0)
            return -1;
    }
    in->pid = c.pid;
    snprintf(in->addr, sizeof in->addr, "%s", c.addr);
    in->state = INST_RUNNING;
    in->exit_status = 0;
    return 0;
}

/* The next free instance, cleared, with its id and proto; it counts once s->n is raised
 * after a successful start. NULL with a reason in err when all are taken. */
static instance *slot(supervisor *s, rpc_proto proto, char *err, size_t errlen)
{
    if (s->n == MAX_INSTANCES) {
        err_set(err, errlen, "at most %d instances", MAX_INSTANCES);
        return NULL;
    }
    instance *in = &s->in[s->n];
    memset(in, 0, sizeof *in);
    in->id = (int)s->n + 1;
    in->proto = proto;
    return in;
}

int supervisor_spawn(supervisor *s, rpc_proto proto, char *err, size_t errlen)
{
    instance *in = slot(s, proto, err, errlen);
    if (!in)
        return -1;
    if (start(s, in, NULL, err, errlen) < 0)
        return -1;
    s->n++;
    supervisor_note(s, in->id, _("spawned %s #%d at %s (pid %d)"), program_for(proto), in->id,
                    in->addr, (int)in->pid);
    return in->id;
}

const char *supervisor_instance_program(const instance *in)
{
    return in->program[0] ? in->program : program_for(in->proto);
}

int supervisor_spawn_service(supervisor *s, const char *program, const char *service,
                             const char *const *args, char *err, size_t errlen)
{
    instance *in = slot(s, PROTO_GRPC, err, errlen);
    if (!in)
        return -1;
    snprintf(in->program, sizeof in->program, "%s", program);
    snprintf(in->service, sizeof in->service, "%s", service ? service : s->service);
    for (; args && args[in->nargs]; in->nargs++) {
        if (in->nargs == SUP_MAX_ARGS ||
            snprintf(in->args[in->nargs], sizeof in->args[0], "%s", args[in->nargs]) >= (int)sizeof in->args[0]) {
            err_set(err, errlen, "%s: at most %d arguments of %zu bytes", program, SUP_MAX_ARGS,
                    sizeof in->args[0] - 1);
            return -1;
        }
    }
    if (start(s, in, NULL, err, errlen) < 0)
        return -1;
    s->n++;
    supervisor_note(s, in->id, _("spawned %s #%d at %s as %s (pid %d)"), program, in->id, in->addr,
                    in->service, (int)in->pid);
    return in->id;
}

static instance *lookup(supervisor *s, int id)
{
    return id >= 1 && (size_t)id <= s->n ? &s->in[id - 1] : NULL;
}

const instance *supervisor_find(const supervisor *s, int id)
{
    return id >= 1 && (size_t)id <= s->n ? &s->in[id - 1] : NULL;
}

const instance *supervisor_instances(const supervisor *s, size_t *n)
{
    *n = s->n;
    return s->in;
}

int supervisor_signal(supervisor *s, int id, int signo)
{
    instance *in = lookup(s, id);
    if (!in || in->pid <= 0)
        return -1;
    if (kill(in->pid, signo) < 0)
        return -1;
    switch (signo) {
    case SIGKILL: in->state = INST_KILLED; break;
    case SIGTERM: in->state = INST_STOPPED; break;
    case SIGSTOP: in->state = INST_PAUSED; break;
    case SIGCONT: in->state = INST_RUNNING; break;
    default: break;
    }
    supervisor_note(s, id, _("sent SIG%s to #%d %s"), sigabbrev_np(signo) ? sigabbrev_np(signo) : "?", id,
                    in->addr);
    return 0;
}

void supervisor_poll(supervisor *s)
{
    for (size_t i = 0; i < s->n; i++) {
        instance *in = &s->in[i];
        if (in->pid <= 0)
            continue;
        int status;
        pid_t r = waitpid(in->pid, &status, WNOHANG);
        if (r == in->pid || (r < 0 && errno == ECHILD)) {
            in->exit_status = r == in->pid ? status : -1;
            in->pid = 0;
            if (in->state == INST_RUNNING || in->state == INST_PAUSED)
                in->state = INST_EXITED;
            if (r < 0) /* reaped by the lab that ran it (its host killed, the lab ended) */
                supervisor_note(s, in->id, _("#%d %s has ended with its host"), in->id, in->addr);
            else if (WIFSIGNALED(status))
                supervisor_note(s, in->id, _("#%d %s died of SIG%s"), in->id, in->addr,
                                sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
            else
                supervisor_note(s, in->id, _("#%d %s exited with status %d"), in->id, in->addr,
                                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
    }
}

int supervisor_restart(supervisor *s, int id, char *err, size_t errlen)
{
    instance *in = lookup(s, id);
    if (!in) {
        err_set(err, errlen, "no instance #%d", id);
        return -1;
    }
    if (in->pid > 0) {
        /* still alive (e.g. paused or shutting down): finish it first */
        child c = {.pid = in->pid};
        kill(in->pid, SIGCONT);
        in->exit_status = spawn_stop(&c, SIGKILL, 1000);
        in->pid = 0;
    }
    char addr[80];
    snprintf(addr, sizeof addr, "%s", in->addr);
    if (start(s, in, addr, err, errlen) < 0)
        return -1;
    supervisor_note(s, id, _("restarted #%d at %s (pid %d)"), id, in->addr, (int)in->pid);
    return 0;
}

void supervisor_free(supervisor *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        instance *in = &s->in[i];
        if (in->pid > 0) {
            kill(in->pid, SIGCONT);
            child c = {.pid = in->pid};
            spawn_stop(&c, SIGTERM, 3000);
        }
    }
    free(s);
}

void supervisor_set_registry(supervisor *s, const char *registry_url)
{
    snprintf(s->registry, sizeof s->registry, "%s", registry_url ? registry_url : "none");
}

int supervisor_launch_like(supervisor *s, const instance *like, const char *listen, instance *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->proto = like->proto;
    memcpy(out->program, like->program, sizeof out->program);
    memcpy(out->service, like->service, sizeof out->service);
    memcpy(out->args, like->args, sizeof out->args);
    out->nargs = like->nargs;
    return start(s, out, listen, err, errlen);
}

int supervisor_adopt(supervisor *s, int id, const instance *in)
{
    instance *old = id ? lookup(s, id) : NULL;
    if (id ? !old || old->pid > 0 : s->n == MAX_INSTANCES)
        return -1;
    instance *to = old ? old : &s->in[s->n++];
    *to = *in;
    to->id = old ? id : (int)s->n;
    supervisor_note(s, to->id, old ? _("restarted %s #%d at %s (pid %d)") : _("spawned %s #%d at %s (pid %d)"),
                    supervisor_instance_program(to), to->id, to->addr, (int)to->pid);
    return to->id;
}

void supervisor_set_launcher(supervisor *s, sup_launcher fn, void *ctx)
{
    s->launch = fn;
    s->launch_ctx = ctx;
}

void supervisor_set_ttl(supervisor *s, int ttl)
{
    if (ttl >= 1)
        s->ttl = ttl;
}

int supervisor_ttl(const supervisor *s) { return s->ttl; }
