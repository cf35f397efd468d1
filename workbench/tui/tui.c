/* tui.c -- `workbench tui` (and `workbench` alone): the full-screen workbench. Starts a
 * private etcd, servers on keys, a load generator thread, and draws what happens. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <curses.h>

#include "base/clock.h"
#include "base/numopt.h"
#include "base/tempdir.h"
#include "commands.h"
#include "proc/spawn.h"
#include "proc/supervisor.h"
#include "registry/consulproc.h"
#include "registry/etcdproc.h"
#include "registry/registry.h"
#include "services/services.h"
#include "tui_cmdline.h"
#include "tui_draw.h"
#include "tui_lesson.h"
#include "tui_load.h"
#include "tui_model.h"
#include "tui_ops.h"
#include "tui_work.h"
#include "wire/jsonval.h"

#define SERVICE "workbench"
#define METHOD "Arith.Multiply"
#define ARGS "{\"A\":7,\"B\":8}"

enum { TTL = 5, GETCH_MS = 50, DRAW_MIN_MS = 100, TTL_POLL_MS = 1000, MAX_STARTING = 32 };

typedef struct tui {
    tui_model m;
    supervisor *sup;
    int selected;
    char message[300];
    uint64_t message_at;
    bool cmd_message; /* the message is a command's result: the status line shows it */
    bool help, quit;
    tui_cmdline cmd;
    tui_wire wire;
    bool show_wire;
    char method[128], args[1024]; /* what the load calls */
    etcdproc *etcd;               /* the private registry, which `e` stops and starts */
    /* the registry in use: the watch feeds the model (none when static) */
    regopt reg;
    char reg_url[256];            /* what the watch follows; "none" when static */
    char reg_label[96];           /* "etcd 127.0.0.1:2379", "static list (no registry)" */
    registry_watch *watch;
    bool switching;               /* a registry job is on the worker */
    bool etcd_busy;               /* a job is stopping or starting the private etcd */
    consulproc consul;            /* the consul agent -dev of :registry consul, once started */
    bool own_consul;
    tui_work *ops;                /* spawns, restarts and registry switches, in order */
    tui_work *side;               /* lease TTL queries and freeing old watches */
    tui_starting starting[MAX_STARTING]; /* servers on their way up, for the Instances pane */
    size_t nstarting;
    bool mouse;
    int tl_scroll;                /* Timeline lines scrolled back from the newest */
    bool ttl_pending;             /* a lease TTL query is on the side worker */
    int rolling[MAX_STARTING];    /* instances to restart into the new registry, one at a time */
    size_t nrolling;
    int draining;                 /* the next of them, leaving the load's list first */
    int wire_jobs;                /* Wire captures on the side worker */
    char dbdir[64];               /* the order and user services' SQLite files, made on first use */
    tui_lesson *lesson;           /* the open lesson (:lesson N), or NULL */
    tui_lesson_view lesson_view;  /* its snapshot, taken when it changes */
    char lesson_pane[16];         /* the pane its step is about, for the layout */
    bool lesson_wire;             /* the lesson opened the Wire pane */
    int lesson_scroll;            /* rows of the lesson's pane scrolled past (PgDn) */
    size_t lesson_step;           /* the step it shows, to scroll back to the top on a new one */
} tui;


static volatile sig_atomic_t got_signal;
static struct termios saved_tty;
static bool have_tty;

static void on_signal(int sig)
{
    got_signal = sig;
}

/* A crash: put the terminal back (only async-signal-safe calls), then die as we would. */
static void on_crash(int sig)
{
    static const char reset[] = "\033[?1049l\033[?25h\033[0m\r\n";
    if (have_tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
    ssize_t w = write(STDOUT_FILENO, reset, sizeof reset - 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void say(tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(tui *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->message, sizeof t->message, fmt, ap);
    va_end(ap);
    t->message_at = clock_now_ms();
}

static const instance *selected(tui *t)
{
    size_t n;
    const instance *in = supervisor_instances(t->sup, &n);
    return t->selected >= 0 && (size_t)t->selected < n ? &in[t->selected] : NULL;
}

/* An action runs from a key (arg as the key table says, often NULL: the selected
 * instance) or from the command line (arg: the rest of the line). Returns DIRTY_ flags. */
typedef int (*action_fn)(tui *t, const char *arg);

/* The instance arg names ("3"), or the selected one when arg is NULL or empty. */
static const instance *instance_arg(tui *t, const char *arg)
{
    if (!arg || !arg[0]) {
        const instance *in = selected(t);
        if (!in)
            say(t, "no instance selected");
        return in;
    }
    int id;
    const instance *in = numopt_int(arg, 1, 1 << 20, &id) == 0 ? supervisor_find(t->sup, id) : NULL;
    if (!in)
        say(t, "no instance %s (the # column)", arg);
    return in;
}

static int restart_instance(tui *t, const instance *in, int sig);
static int sync_static(tui *t);

/* Restarts the next instance waiting to move to the new registry, if none is starting:
 * one at a time, so the load always has the others to call, and only once the load has
 * let go of the old registry's connections, so no call is on its way to one stopping. */
static void roll_on(tui *t)
{
    if (t->draining) { /* off the load's list (static) once the load has applied it */
        if (!tui_model_members_applied(&t->m))
            return;
        const instance *in = supervisor_find(t->sup, t->draining);
        t->draining = 0;
        if (in && in->pid > 0)
            restart_instance(t, in, SIGTERM);
    }
    if (t->nrolling && t->nstarting == 0 && tui_model_members_applied(&t->m)) {
        t->draining = t->rolling[0];
        memmove(t->rolling, t->rolling + 1, --t->nrolling * sizeof t->rolling[0]);
        sync_static(t);
    }
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
            supervisor_note(t->sup, sj->id, "could not restart #%d: %s", sj->id, sj->err);
        else
            supervisor_note(t->sup, 0, "could not spawn %s: %s", supervisor_instance_program(&sj->like), sj->err);
        say(t, "%s failed: %s", sj->id ? "restart" : "spawn", sj->err);
        roll_on(t);
        return d;
    }
    supervisor_poll(t->sup); /* reaps the old process of a restart first */
    int id = supervisor_adopt(t->sup, sj->id, &sj->out);
    if (id < 0) {
        child c = {.pid = sj->out.pid};
        spawn_stop(&c, SIGTERM, 1000);
        say(t, "#%d is alive again already: stopped the new one", sj->id);
        roll_on(t);
        return d;
    }
    if (!sj->id)
        t->selected = id - 1;
    say(t, "%s #%d", sj->id ? "restarted" : "spawned", id);
    roll_on(t);
    return d;
}

/* Queues a start on the worker: a new server (id 0) or instance id again on its address
 * once old_pid (signalled already, or 0) has exited. The row shows "starting" meanwhile.
 * Returns 0, or -1 when too many are on their way already. */
static int start_server(tui *t, int id, const instance *like, pid_t old_pid, const char *addr)
{
    tui_spawn_job *j = t->nstarting < MAX_STARTING ? tui_spawn_job_new(t->sup, id, like, old_pid, addr) : NULL;
    if (!j) {
        say(t, "%d servers are starting already: wait a moment", MAX_STARTING);
        return -1;
    }
    j->job.finish = finish_start;
    tui_starting *st = &t->starting[t->nstarting++];
    st->id = id;
    snprintf(st->kind, sizeof st->kind, "%s", tui_instance_kind(like));
    tui_work_submit(t->ops, &j->job);
    return 0;
}

/* What the Registry pane watches: every service in etcd (the sample servers, and order,
 * user and the gateway beside them); Consul lists one service at a time. The load calls
 * only SERVICE's entries. */
static const char *watched_service(const regopt *o)
{
    bool consul = o->kind == REGOPT_CONSUL_DEV || (o->kind == REGOPT_URL && !strncmp(o->url, "consul", 6));
    return consul ? SERVICE : "";
}

/* The data services and the gateway (issue's tutorials 000 and 002): each registers under
 * its own name; order and user keep their data in SQLite files of this session, which
 * every instance of the service shares. */
static int service_like(tui *t, const char *word, instance *like)
{
    static const struct {
        const char *word, *program, *db;
    } kinds[] = {{"order", "order-server", "orders.db"}, {"user", "user-server", "users.db"}, {"gateway", "gateway", NULL}};
    /* the gateway's /arith route calls the sample gRPC servers, which register as SERVICE */
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(word, kinds[i].word) != 0)
            continue;
        if (t->reg.kind == REGOPT_STATIC && !kinds[i].db) {
            say(t, "the gateway finds its services in a registry: switch to one first (g)");
            return -1;
        }
        if (kinds[i].db && !t->dbdir[0]) {
            if (tempdir_make(t->dbdir, sizeof t->dbdir, "wb-tui") < 0) {
                say(t, "cannot make a directory for the databases: %s", strerror(errno));
                t->dbdir[0] = '\0';
                return -1;
            }
        }
        like->proto = PROTO_GRPC;
        snprintf(like->program, sizeof like->program, "%s", kinds[i].program);
        snprintf(like->service, sizeof like->service, "%s", kinds[i].word);
        snprintf(like->args[0], sizeof like->args[0], "%s", kinds[i].db ? "--db" : "--arith-service");
        if (kinds[i].db)
            snprintf(like->args[1], sizeof like->args[1], "%s/%s", t->dbdir, kinds[i].db);
        else
            snprintf(like->args[1], sizeof like->args[1], "%s", SERVICE);
        like->nargs = 2;
        return 0;
    }
    say(t, "no server kind '%s': json, gob, grpc, order, user or gateway", word);
    return -1;
}

static int act_spawn(tui *t, const char *arg)
{
    char word[16] = "";
    int n = 1, used = 0;
    if (sscanf(arg ? arg : "", "%15s %n", word, &used) < 1) {
        say(t, "spawn what? spawn json|gob|grpc|order|user|gateway [N]");
        return DIRTY_STATUS;
    }
    instance like = {0};
    if (strcmp(word, "json") == 0)
        like.proto = PROTO_JSON;
    else if (strcmp(word, "gob") == 0)
        like.proto = PROTO_GOB;
    else if (strcmp(word, "grpc") == 0)
        like.proto = PROTO_GRPC;
    else if (service_like(t, word, &like) < 0)
        return DIRTY_STATUS;
    if (arg[used] && numopt_int(arg + used, 1, 16, &n) < 0) {
        say(t, "spawn %s N: N is a count from 1 to 16, not '%s'", word, arg + used);
        return DIRTY_STATUS;
    }
    int queued = 0;
    for (int i = 0; i < n; i++)
        queued += start_server(t, 0, &like, 0, NULL) == 0;
    if (queued)
        say(t, "starting %d %s server%s...", queued, word, queued > 1 ? "s" : "");
    return DIRTY_INSTANCES | DIRTY_STATUS;
}

static int act_up(tui *t, const char *arg)
{
    (void)arg;
    if (t->selected > 0)
        t->selected--;
    return DIRTY_INSTANCES;
}

static int act_down(tui *t, const char *arg)
{
    (void)arg;
    size_t n;
    supervisor_instances(t->sup, &n);
    if ((size_t)t->selected + 1 < n)
        t->selected++;
    return DIRTY_INSTANCES;
}

static int send_sig(tui *t, const instance *in, int sig, const char *verb)
{
    if (!in)
        return DIRTY_STATUS;
    int id = in->id;
    if (supervisor_signal(t->sup, id, sig) < 0)
        say(t, "#%d is not running", id);
    else
        say(t, "%s #%d", verb, id);
    return DIRTY_INSTANCES | DIRTY_TIMELINE | DIRTY_STATUS;
}

static int act_kill(tui *t, const char *arg) { return send_sig(t, instance_arg(t, arg), SIGKILL, "killed"); }
static int act_term(tui *t, const char *arg) { return send_sig(t, instance_arg(t, arg), SIGTERM, "stopped"); }
static int act_resume(tui *t, const char *arg) { return send_sig(t, instance_arg(t, arg), SIGCONT, "resumed"); }

/* With no argument (the p key) it pauses or resumes the selected instance. */
static int act_pause(tui *t, const char *arg)
{
    const instance *in = instance_arg(t, arg);
    if (in && in->state == INST_PAUSED && (!arg || !arg[0]))
        return send_sig(t, in, SIGCONT, "resumed");
    return send_sig(t, in, SIGSTOP, "paused");
}

static bool is_starting(const tui *t, int id)
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
static int restart_instance(tui *t, const instance *in, int sig)
{
    int id = in->id;
    if (is_starting(t, id)) {
        say(t, "#%d is starting already", id);
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
    return start_server(t, id, &like, old, addr);
}

static int act_restart(tui *t, const char *arg)
{
    const instance *in = instance_arg(t, arg);
    if (!in)
        return DIRTY_STATUS;
    if (restart_instance(t, in, SIGKILL) == 0)
        say(t, "restarting #%d...", in->id);
    return DIRTY_INSTANCES | DIRTY_TIMELINE | DIRTY_STATUS;
}

/* "on", "off", or NULL (the l key): toggle. */
static int act_load(tui *t, const char *arg)
{
    bool on = !t->m.traffic.on;
    if (arg && strcmp(arg, "on") == 0)
        on = true;
    else if (arg && strcmp(arg, "off") == 0)
        on = false;
    else if (arg) {
        say(t, "load on or load off, not '%s'", arg);
        return DIRTY_STATUS;
    }
    tui_model_set_load(&t->m, on);
    t->m.traffic.on = on;
    supervisor_note(t->sup, 0, "load %s (%s at %d/s)", on ? "started" : "stopped", t->method, t->m.traffic.rate);
    say(t, "load %s", on ? "on" : "off");
    return DIRTY_TRAFFIC | DIRTY_TIMELINE | DIRTY_STATUS;
}

/* "+" or "-" (the keys): the next step up or down; else a number of calls/s. */
static int act_rate(tui *t, const char *arg)
{
    int r = t->m.traffic.rate, next = r;
    static const int steps[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
    int n = (int)(sizeof steps / sizeof steps[0]);
    if (arg && strcmp(arg, "+") == 0) {
        for (int i = 0; i < n && next == r; i++)
            if (steps[i] > r)
                next = steps[i];
    } else if (arg && strcmp(arg, "-") == 0) {
        for (int i = n - 1; i >= 0 && next == r; i--)
            if (steps[i] < r)
                next = steps[i];
    } else if (!arg || numopt_int(arg, 1, TUI_RATE_MAX, &next) < 0) {
        say(t, "rate N: calls per second from 1 to %d", TUI_RATE_MAX);
        return DIRTY_STATUS;
    }
    tui_model_set_rate(&t->m, next);
    t->m.traffic.rate = next;
    say(t, "rate %d/s", next);
    return DIRTY_TRAFFIC | DIRTY_STATUS;
}

enum { WIRE_TIMEOUT_MS = 1000 };

static int finish_wire(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_wire_job *c = (tui_wire_job *)j;
    c->w.sel = t->wire.sel;
    c->w.response = t->wire.response;
    if (--t->wire_jobs > 0) { /* a newer capture is coming */
        tui_wire_done(&c->w);
        return 0;
    }
    tui_wire_done(&t->wire);
    t->wire = c->w; /* takes over its buffers */
    t->wire.busy = false;
    return DIRTY_WIRE;
}

/* Makes the current call once per protocol on the first running instance of each, on the
 * side worker (a paused server makes a lane wait for its deadline); the pane says so
 * meanwhile. */
static void wire_capture(tui *t)
{
    static const rpc_proto order[TUI_WIRE_LANES] = {PROTO_GOB, PROTO_JSON, PROTO_GRPC};
    char addrs[TUI_WIRE_LANES][80] = {"", "", ""};
    size_t n;
    const instance *in = supervisor_instances(t->sup, &n);
    for (int k = 0; k < TUI_WIRE_LANES; k++)
        for (size_t i = 0; i < n && !addrs[k][0]; i++)
            if (in[i].proto == order[k] && !in[i].program[0] && in[i].state == INST_RUNNING &&
                !is_starting(t, in[i].id))
                snprintf(addrs[k], sizeof addrs[k], "%s", in[i].addr);
    tui_wire_job *j = tui_wire_job_new(t->method, t->args, addrs, WIRE_TIMEOUT_MS);
    if (!j) {
        say(t, "out of memory");
        return;
    }
    j->job.finish = finish_wire;
    t->wire_jobs++;
    t->wire.busy = true;
    tui_work_submit(t->side, &j->job);
}

/* Shows the Wire pane (making the call afresh) or goes back to the other panes. */
static int act_wire(tui *t, const char *arg)
{
    (void)arg;
    t->show_wire = !t->show_wire;
    if (t->show_wire)
        wire_capture(t);
    return DIRTY_LAYOUT;
}

/* "-" or "+" (Left, Right): the cursor over the selected protocol's spans. */
static int act_cursor(tui *t, const char *arg)
{
    if (!t->show_wire)
        return 0;
    tui_wire_move(&t->wire, arg && arg[0] == '-' ? -1 : 1);
    return DIRTY_WIRE;
}

/* "next" (Tab) or "1".."3": which protocol the cursor moves in (and is shown when narrow). */
static int act_lane(tui *t, const char *arg)
{
    if (!t->show_wire)
        return 0;
    if (arg && arg[0] >= '1' && arg[0] <= '0' + TUI_WIRE_LANES)
        t->wire.sel = arg[0] - '1';
    else
        t->wire.sel = (t->wire.sel + 1) % TUI_WIRE_LANES;
    return DIRTY_WIRE;
}

static int act_direction(tui *t, const char *arg)
{
    (void)arg;
    if (!t->show_wire)
        return 0;
    t->wire.response = !t->wire.response;
    return DIRTY_WIRE;
}

/* "METHOD JSON": what the load calls, once the method is known and the JSON fits it. */
static int act_call(tui *t, const char *arg)
{
    char name[128] = "", err[256];
    int used = 0;
    if (!arg || sscanf(arg, "%127s %n", name, &used) < 1 || !arg[used]) {
        say(t, "call METHOD JSON, e.g. call Arith.Multiply {\"A\":7,\"B\":8}");
        return DIRTY_STATUS;
    }
    const char *json = arg + used;
    const method *me = service_find(name, err, sizeof err);
    if (!me) {
        say(t, "call: %s", err);
        return DIRTY_STATUS;
    }
    value *raw = jsonval_parse(json, strlen(json), err, sizeof err);
    if (!raw) {
        say(t, "call: the arguments are not JSON: %s", err);
        return DIRTY_STATUS;
    }
    value *conv = service_argument(me, raw, err, sizeof err);
    value_free(raw);
    if (!conv) {
        say(t, "call: %s", err);
        return DIRTY_STATUS;
    }
    value_free(conv);
    snprintf(t->method, sizeof t->method, "%s", name);
    snprintf(t->args, sizeof t->args, "%s", json);
    tui_model_set_call(&t->m, t->method, t->args);
    int wd = 0;
    if (t->show_wire) {
        wire_capture(t);
        wd = DIRTY_WIRE;
    }
    supervisor_note(t->sup, 0, "the load now calls %s %s", t->method, t->args);
    say(t, "the load calls %s %s", t->method, t->args);
    return DIRTY_TRAFFIC | DIRTY_TIMELINE | DIRTY_STATUS | wd;
}

static int act_help(tui *t, const char *arg)
{
    (void)arg;
    t->help = true;
    return DIRTY_LAYOUT;
}

static void set_label(tui *t)
{
    if (t->reg.kind == REGOPT_STATIC)
        snprintf(t->reg_label, sizeof t->reg_label, "static (no registry)");
    else if (t->reg.kind == REGOPT_PRIVATE_ETCD)
        snprintf(t->reg_label, sizeof t->reg_label, "etcd %s", t->etcd->client);
    else if (t->reg.kind == REGOPT_CONSUL_DEV)
        snprintf(t->reg_label, sizeof t->reg_label, "consul -dev %s", t->consul.http);
    else /* "etcd HOST:PORT", "consul HOST:PORT" */
        snprintf(t->reg_label, sizeof t->reg_label, "%.*s %.80s", (int)strcspn(t->reg_url, ":"), t->reg_url,
                 strstr(t->reg_url, "://") ? strstr(t->reg_url, "://") + 3 : t->reg_url);
}

static void note_cb(void *ctx, const char *note)
{
    supervisor_note(ctx, 0, "%s", note);
}

/* The registry is open (or failed to): the model follows it from now on, and the running
 * servers are restarted into it, since a server takes its registry when it starts. */
static int finish_registry(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_registry_job *g = (tui_registry_job *)j;
    t->switching = false;
    if (g->start_etcd)
        t->etcd_busy = false;
    if (g->started_etcd)
        supervisor_note(t->sup, 0, "started the private etcd again (same data, same port)");
    if (g->started_consul) {
        t->consul = g->consul;
        t->own_consul = true;
        supervisor_note(t->sup, 0, "started a private consul agent -dev at %s", t->consul.http);
    }
    if (g->rc < 0) {
        supervisor_note(t->sup, 0, "could not switch the registry to %s: %s; staying on %s", regopt_name(&g->to),
                        g->err, t->reg_label);
        say(t, "registry %s: %s", regopt_name(&g->to), g->err);
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
    tui_model_clear_registry(&t->m);
    for (size_t i = 0; i < g->n; i++) {
        registry_event ev = {.type = REGISTRY_EV_PUT, .inst = g->list[i]};
        tui_model_apply(&t->m, &ev);
    }
    free(g->list);
    g->list = NULL;
    if (first) {
        if (t->reg.kind != REGOPT_PRIVATE_ETCD)
            supervisor_note(t->sup, 0, "registry: %s%s", t->reg_label,
                            t->reg.kind == REGOPT_STATIC ? ": the load calls the servers started here" : "");
        return DIRTY_ALL;
    }
    size_t n, moved = 0;
    const instance *in = supervisor_instances(t->sup, &n);
    /* a gateway finds its services in a registry: with none it stays where it is */
    bool is_static = t->reg.kind == REGOPT_STATIC;
    for (size_t i = 0; i < n; i++) {
        bool gateway = !strcmp(in[i].program, "gateway");
        if (gateway && is_static && in[i].pid > 0)
            supervisor_note(t->sup, in[i].id, "gateway #%d stays on the registry it started with: it needs one",
                            in[i].id);
        moved += in[i].pid > 0 && !is_starting(t, in[i].id) && !(gateway && is_static);
    }
    if (t->reg.kind == REGOPT_STATIC)
        supervisor_note(t->sup, 0, "registry: none now (a static list): the load calls the servers alive here");
    else
        supervisor_note(t->sup, 0, "registry: now %s, %zu entr%s: the load resolves from it", t->reg_label, g->n,
                        g->n == 1 ? "y" : "ies");
    if (moved)
        supervisor_note(t->sup, 0, "restarting %zu running server%s %s: a server registers when it starts", moved,
                        moved == 1 ? "" : "s", t->reg.kind == REGOPT_STATIC ? "without a registry" : "into it");
    t->nrolling = 0;
    for (size_t i = 0; i < n && t->nrolling < MAX_STARTING; i++)
        if (in[i].pid > 0 && !is_starting(t, in[i].id) && !(is_static && !strcmp(in[i].program, "gateway")))
            t->rolling[t->nrolling++] = in[i].id;
    roll_on(t);
    say(t, "registry: %s", t->reg_label);
    return DIRTY_ALL;
}

/* Queues the switch to o; the current registry stays in use until it is open. */
static int switch_registry(tui *t, const regopt *o)
{
    if (t->switching || t->etcd_busy) {
        say(t, "%s is under way: wait for it", t->switching ? "a registry switch" : "stopping or starting etcd");
        return DIRTY_STATUS;
    }
    if (o->kind == t->reg.kind && (o->kind != REGOPT_URL || strcmp(o->url, t->reg.url) == 0)) {
        say(t, "the registry is %s already", t->reg_label);
        return DIRTY_STATUS;
    }
    if (o->kind == REGOPT_CONSUL_DEV && !t->own_consul && !consulproc_available()) {
        supervisor_note(t->sup, 0, "consul is not installed (Debian 12 has no package for it); staying on %s",
                        t->reg_label);
        say(t, "consul is not installed (Debian 12 has no package): put a consul binary on PATH; "
            "staying on %s", t->reg_label);
        return DIRTY_TIMELINE | DIRTY_STATUS;
    }
    const char *url = o->kind == REGOPT_PRIVATE_ETCD ? t->etcd->url
                      : o->kind == REGOPT_CONSUL_DEV && t->own_consul ? t->consul.url : NULL;
    tui_registry_job *j = tui_registry_job_new(t->sup, o, url, watched_service(o));
    if (!j) {
        say(t, "out of memory");
        return DIRTY_STATUS;
    }
    j->job.finish = finish_registry;
    if (o->kind == REGOPT_PRIVATE_ETCD && t->etcd->proc.pid <= 0) {
        j->start_etcd = t->etcd;
        t->etcd_busy = true;
    }
    t->switching = true;
    tui_work_submit(t->ops, &j->job);
    supervisor_note(t->sup, 0, "switching the registry to %s...", regopt_name(o));
    say(t, "switching the registry to %s...", regopt_name(o));
    return DIRTY_TIMELINE | DIRTY_STATUS;
}

/* The private etcd stopped or started (on the worker, so the keys stay live meanwhile). */
static int finish_etcd(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_etcd_job *e = (tui_etcd_job *)j;
    t->etcd_busy = false;
    const char *unused = t->reg.kind == REGOPT_PRIVATE_ETCD ? "" : " (not the registry in use)";
    if (e->rc < 0) {
        supervisor_note(t->sup, 0, "could not start the private etcd: %s", e->err);
        say(t, "cannot start etcd: %s", e->err);
    } else if (e->start) {
        supervisor_note(t->sup, 0, "started the private etcd again (same data, same port)%s", unused);
        say(t, "started etcd");
    } else {
        supervisor_note(t->sup, 0, "stopped the private etcd%s: leases cannot be renewed; the load "
                        "keeps calling the instances it knows", unused);
        say(t, "stopped etcd");
    }
    return DIRTY_TIMELINE | DIRTY_REGISTRY | DIRTY_STATUS;
}

/* "on"/"off" (or no argument: the e key) stop and start the private etcd: the servers
 * cannot renew their leases while it is down, and the load keeps calling the instances
 * it already knows. Anything else names a registry to switch to (see regopt_parse). */
static int act_registry(tui *t, const char *arg)
{
    bool toggle = !arg || !arg[0];
    bool onoff = !toggle && (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0 || strcmp(arg, "start") == 0 ||
                             strcmp(arg, "stop") == 0);
    if (!toggle && !onoff) {
        regopt o;
        char err[300];
        if (regopt_parse(arg, &o, err, sizeof err) < 0) {
            say(t, "registry: %s", err);
            return DIRTY_STATUS;
        }
        return switch_registry(t, &o);
    }
    if (t->etcd_busy) {
        say(t, "etcd is stopping or starting already: wait for it");
        return DIRTY_STATUS;
    }
    bool running = t->etcd->proc.pid > 0;
    bool want = toggle ? !running : strcmp(arg, "on") == 0 || strcmp(arg, "start") == 0;
    if (want == running) {
        say(t, "the private etcd is already %s", running ? "running" : "stopped");
        return DIRTY_STATUS;
    }
    tui_etcd_job *j = tui_etcd_job_new(t->etcd, want);
    if (!j) {
        say(t, "out of memory");
        return DIRTY_STATUS;
    }
    j->job.finish = finish_etcd;
    t->etcd_busy = true;
    tui_work_submit(t->ops, &j->job);
    say(t, "%s the private etcd...", want ? "starting" : "stopping");
    return DIRTY_STATUS;
}

/* "up", "down" (a page of the Timeline) or "end" (the newest events). */
static int act_scroll(tui *t, const char *arg)
{
    enum { PAGE = 5 };
    if (t->lesson) { /* the lesson's pane scrolls instead (the drawing clamps it) */
        if (strcmp(arg, "end") == 0)
            t->lesson_scroll = 0;
        else
            t->lesson_scroll += strcmp(arg, "up") == 0 ? -PAGE : PAGE;
        if (t->lesson_scroll < 0)
            t->lesson_scroll = 0;
        return DIRTY_LESSON;
    }
    size_t n;
    supervisor_timeline(t->sup, &n);
    if (strcmp(arg, "end") == 0)
        t->tl_scroll = 0;
    else
        t->tl_scroll += strcmp(arg, "up") == 0 ? PAGE : -PAGE;
    if (t->tl_scroll > (int)n)
        t->tl_scroll = (int)n;
    if (t->tl_scroll < 0)
        t->tl_scroll = 0;
    return DIRTY_TIMELINE;
}

/* The g key: the command line, with "registry " typed. */
static int act_registry_prompt(tui *t, const char *arg)
{
    (void)arg;
    tui_cmdline_open(&t->cmd, "registry ");
    curs_set(1);
    return DIRTY_STATUS;
}

static int act_mouse(tui *t, const char *arg)
{
    bool on = arg && arg[0] ? strcmp(arg, "on") == 0 : !t->mouse;
    if (arg && arg[0] && strcmp(arg, "on") && strcmp(arg, "off")) {
        say(t, "mouse on or mouse off, not '%s'", arg);
        return DIRTY_STATUS;
    }
    t->mouse = on;
    mousemask(on ? BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED : 0, NULL);
    say(t, "mouse %s%s", on ? "on" : "off", on ? " (Shift+drag still selects text in most terminals)" : ": the terminal selects text again");
    return DIRTY_STATUS;
}

/* R in the Wire pane: the same call made again, on the instances running now. */
static int act_recapture(tui *t, const char *arg)
{
    (void)arg;
    if (!t->show_wire)
        return 0;
    wire_capture(t);
    say(t, "making the call again");
    return DIRTY_WIRE | DIRTY_STATUS;
}

static int close_lesson(tui *t)
{
    if (!t->lesson)
        return 0;
    tui_lesson_close(t->lesson);
    t->lesson = NULL;
    tui_lesson_view_done(&t->lesson_view);
    t->lesson_pane[0] = '\0';
    if (t->lesson_wire)
        t->show_wire = t->lesson_wire = false;
    return DIRTY_LAYOUT;
}

/* The snapshot of the lesson, when it changed; a step about another pane lays the
 * screen out again (the Wire pane opens for a step about it). */
static int sync_lesson(tui *t)
{
    if (!t->lesson || !tui_lesson_changed(t->lesson))
        return 0;
    tui_lesson_view_done(&t->lesson_view);
    tui_lesson_view_get(t->lesson, &t->lesson_view);
    if (t->lesson_view.step != t->lesson_step || t->lesson_view.phase == PHASE_RUNNING)
        t->lesson_scroll = 0;
    t->lesson_step = t->lesson_view.step;
    const char *pane = tui_lesson_pane(t->lesson);
    if (!pane)
        pane = "";
    if (!strcmp(pane, t->lesson_pane))
        return DIRTY_LESSON;
    snprintf(t->lesson_pane, sizeof t->lesson_pane, "%s", pane);
    bool wire = !strcmp(pane, "wire");
    if (wire && !t->show_wire) {
        t->show_wire = t->lesson_wire = true;
        wire_capture(t);
    } else if (!wire && t->lesson_wire) {
        t->show_wire = t->lesson_wire = false;
    }
    return DIRTY_LAYOUT;
}

/* lesson N [en|zh] opens lesson N beside the panes; lesson next|back|again|off. */
static int act_lesson(tui *t, const char *arg)
{
    char word[16] = "", lang[8] = "";
    if (sscanf(arg ? arg : "", "%15s %7s", word, lang) < 1) {
        say(t, "lesson N [en|zh] opens a lesson (workbench lesson lists them); lesson off closes it");
        return DIRTY_STATUS;
    }
    static const struct {
        const char *word;
        lesson_move move;
    } moves[] = {{"next", LESSON_NEXT}, {"back", LESSON_BACK}, {"again", LESSON_AGAIN}};
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (!strcmp(word, moves[i].word)) {
            if (t->lesson)
                tui_lesson_move(t->lesson, moves[i].move);
            return 0;
        }
    if (!strcmp(word, "off") || !strcmp(word, "close"))
        return close_lesson(t) | DIRTY_STATUS;
    int n;
    if (numopt_int(word, 1, 99, &n) < 0 || (lang[0] && strcmp(lang, "en") && strcmp(lang, "zh"))) {
        say(t, "lesson N [en|zh], lesson next|back|again|off: not '%s'", arg);
        return DIRTY_STATUS;
    }
    lesson_lang g = lang[0] ? (lang[0] == 'z' ? LANG_ZH : LANG_EN) : lesson_locale_lang();
    char err[300];
    int d = close_lesson(t);
    t->lesson = tui_lesson_open(n, g, err, sizeof err);
    if (!t->lesson) {
        say(t, "%s", err);
        return d | DIRTY_STATUS;
    }
    say(t, "lesson %d: Enter or ] next step, [ back, a again, L close", n);
    return DIRTY_LAYOUT | DIRTY_STATUS | sync_lesson(t);
}

/* A lesson key (Enter ] [ a L) does nothing without an open lesson. */
static int act_lesson_key(tui *t, const char *arg)
{
    if (!t->lesson)
        return 0;
    return act_lesson(t, arg);
}

static int act_quit(tui *t, const char *arg)
{
    (void)arg;
    t->quit = true;
    return 0;
}

/* m: the command line with the load's call in it, to edit (Tab completes method names). */
static int act_edit_call(tui *t, const char *arg)
{
    (void)arg;
    char line[1300];
    snprintf(line, sizeof line, "call %s %s", t->method, t->args);
    tui_cmdline_open(&t->cmd, line);
    curs_set(1);
    return DIRTY_STATUS;
}

static int act_command(tui *t, const char *arg)
{
    (void)arg;
    tui_cmdline_open(&t->cmd, "");
    curs_set(1);
    return DIRTY_STATUS;
}

typedef struct action {
    const char *name;  /* its command word */
    bool command;      /* can be run from the command line */
    action_fn fn;
} action;

static const action actions[] = {
    {"spawn", true, act_spawn},   {"kill", true, act_kill},       {"stop", true, act_term},
    {"pause", true, act_pause},   {"resume", true, act_resume},   {"restart", true, act_restart},
    {"load", true, act_load},     {"rate", true, act_rate},       {"call", true, act_call},
    {"help", true, act_help},     {"quit", true, act_quit},       {"up", false, act_up},
    {"down", false, act_down},    {"command", false, act_command}, {"wire", true, act_wire},
    {"cursor", false, act_cursor}, {"lane", false, act_lane},     {"direction", false, act_direction},
    {"registry", true, act_registry}, {"registry-prompt", false, act_registry_prompt},
    {"mouse", true, act_mouse},   {"recapture", false, act_recapture}, {"scroll", false, act_scroll},
    {"lesson", true, act_lesson}, {"lesson-key", false, act_lesson_key}, {"edit-call", false, act_edit_call},
};
#define NACTIONS (sizeof actions / sizeof actions[0])

static const action *find_action(const char *name)
{
    for (size_t i = 0; i < NACTIONS; i++)
        if (strcmp(actions[i].name, name) == 0)
            return &actions[i];
    return NULL;
}

typedef struct key_binding {
    int key, alt;       /* alt: a second key doing the same, 0 for none */
    const char *action; /* a name in actions */
    const char *arg;
    tui_key_help h;
} key_binding;

static const key_binding keys[] = {
    {'j', 0, "spawn", "json", {"j b c", "j/b/c spawn", "spawn a JSON-RPC, gob or gRPC server (in the registry in use)"}},
    {'b', 0, "spawn", "gob", {"", NULL, ""}},
    {'c', 0, "spawn", "grpc", {"", NULL, ""}},
    {'o', 0, "spawn", "order", {"o u", NULL, "spawn an order or a user service (gRPC, SQLite; :spawn gateway for REST)"}},
    {'u', 0, "spawn", "user", {"", NULL, ""}},
    {KEY_UP, 0, "up", NULL, {"↑↓", NULL, "select the instance above or below (or click it)"}},
    {KEY_DOWN, 0, "down", NULL, {"", NULL, ""}},
    {'k', 0, "kill", NULL, {"k", "k kill", "kill -9 the selected instance (its lease expires after the TTL)"}},
    {'t', 0, "stop", NULL, {"t", NULL, "stop the selected instance with SIGTERM (it deregisters at once)"}},
    {'p', 0, "pause", NULL, {"p", "p pause", "pause (SIGSTOP) or resume (SIGCONT) the selected instance"}},
    {'r', 0, "restart", NULL, {"r", NULL, "restart the selected instance on its old address"}},
    {'l', 0, "load", NULL, {"l", "l/+/- load", "start or stop the load (through the balancer)"}},
    {'+', '=', "rate", "+", {"+ -", NULL, "raise or lower the load's rate (1 to 5000 calls/s)"}},
    {'-', 0, "rate", "-", {"", NULL, ""}},
    {'m', 0, "edit-call", NULL, {"m", "m method", "pick the method and edit its arguments (:call, Tab completes)"}},
    {':', 0, "command", NULL, {":", ": cmd", "command line (Tab completes, ↑↓ history): spawn json|gob|grpc"}},
    {0, 0, NULL, NULL, {"", NULL, "  |order|user|gateway [N], kill|stop|pause|resume|restart N, load on|off, rate N,"}},
    {0, 0, NULL, NULL, {"", NULL, "  call METHOD JSON, registry R, mouse on|off, wire, lesson N, help, quit"}},
    {'w', 0, "wire", NULL, {"w", "w wire", "the Wire pane: the call in gob, JSON-RPC and gRPC, every byte"}},
    {'g', 0, "registry-prompt", NULL, {"g", "g registry", "switch the registry (:registry etcd|etcd URL|consul|static);"}},
    {0, 0, NULL, NULL, {"", NULL, "  running servers restart into it: a server registers at start"}},
    {'e', 0, "registry", NULL, {"e", NULL, "stop or start the private etcd: the calls go on without it"}},
    {KEY_PPAGE, 0, "scroll", "up", {"PgUp PgDn", NULL, "scroll the Timeline (End: the newest), or the lesson's pane"}},
    {KEY_NPAGE, 0, "scroll", "down", {"", NULL, ""}},
    {KEY_END, 0, "scroll", "end", {"", NULL, ""}},
    {0, 0, NULL, NULL, {"mouse", NULL, "click an instance to select it; the wheel scrolls the Timeline"}},
    {0, 0, NULL, NULL, {"", NULL, "  (Wire: the cursor). :mouse off or --no-mouse to select text"}},
    {KEY_LEFT, 0, "cursor", "-", {"←→", NULL, "Wire: move the cursor to the previous or next span"}},
    {KEY_RIGHT, 0, "cursor", "+", {"", NULL, ""}},
    {'\t', 0, "lane", "next", {"Tab 1 2 3", NULL, "Wire: the protocol the cursor moves in (gob, JSON-RPC, gRPC)"}},
    {'1', 0, "lane", "1", {"", NULL, ""}},
    {'2', 0, "lane", "2", {"", NULL, ""}},
    {'3', 0, "lane", "3", {"", NULL, ""}},
    {'x', 0, "direction", NULL, {"x", NULL, "Wire: show the request or the response"}},
    {'R', 0, "recapture", NULL, {"R", NULL, "Wire: make the call again (a :call while it is open does too)"}},
    {0, 0, NULL, NULL, {":lesson N", NULL, "a lesson beside the panes it is about (workbench lesson lists them):"}},
    {'\n', KEY_ENTER, "lesson-key", "next", {"Enter ] [", NULL, "  next step, previous step; a runs the step again, L closes it"}},
    {']', 0, "lesson-key", "next", {"", NULL, ""}},
    {'[', 0, "lesson-key", "back", {"", NULL, ""}},
    {'a', 0, "lesson-key", "again", {"", NULL, ""}},
    {'L', 0, "lesson-key", "off", {"", NULL, ""}},
    {'?', KEY_F(1), "help", NULL, {"?", "? help", "this help"}},
    {'q', 3, "quit", NULL, {"q", "q quit", "quit: stop the load, every server and etcd (also Ctrl-C)"}},
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* Runs one command line; errors go to the message. */
static int run_command(tui *t, const char *line)
{
    char word[32] = "";
    int used = 0;
    sscanf(line, " %31s %n", word, &used);
    const action *a = find_action(word);
    t->cmd_message = true;
    if (!a || !a->command) {
        say(t, "unknown command '%s' (Tab lists them; ? for help)", word);
        return DIRTY_STATUS;
    }
    char rest[512];
    snprintf(rest, sizeof rest, "%s", line + used);
    size_t n = strlen(rest);
    while (n && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
        rest[--n] = '\0';
    return a->fn(t, n ? rest : NULL) | DIRTY_STATUS;
}

/* Completion candidates: command words, then each command's first argument. */
static const char *complete(const char *cmd, int argi, size_t idx)
{
    static const char *kinds[] = {"json", "gob", "grpc", "order", "user", "gateway", NULL};
    static const char *lesson_words[] = {"next", "back", "again", "off", NULL};
    static const char *onoff[] = {"on", "off", NULL};
    static const char *registries[] = {"etcd", "static", "consul", "on", "off", NULL};
    if (argi == 0) {
        size_t k = 0;
        for (size_t i = 0; i < NACTIONS; i++)
            if (actions[i].command && k++ == idx)
                return actions[i].name;
        return NULL;
    }
    if (argi != 1)
        return NULL;
    if (strcmp(cmd, "spawn") == 0)
        return idx < 6 ? kinds[idx] : NULL;
    if (strcmp(cmd, "lesson") == 0)
        return idx < 4 ? lesson_words[idx] : NULL;
    if (strcmp(cmd, "load") == 0 || strcmp(cmd, "mouse") == 0)
        return idx < 2 ? onoff[idx] : NULL;
    if (strcmp(cmd, "registry") == 0)
        return idx < 5 ? registries[idx] : NULL;
    if (strcmp(cmd, "call") == 0) {
        size_t n;
        const method *ms = service_methods(&n);
        return idx < n ? ms[idx].name : NULL;
    }
    return NULL;
}

static int finish_ttl(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_ttl_job *q = (tui_ttl_job *)j;
    t->ttl_pending = false;
    if (strcmp(q->url, t->reg_url) != 0)
        return 0; /* asked of a registry no longer in use */
    for (size_t i = 0; i < q->n; i++) {
        int k = tui_model_find_reg(&t->m, q->addr[i]);
        if (k >= 0 && t->m.reg[k].inst.lease == q->lease[i])
            t->m.reg[k].ttl = q->ttl[i];
    }
    return DIRTY_INSTANCES;
}

/* Asks for the lease TTLs of the etcd entries on the side worker, one query at a time. */
static void poll_ttls(tui *t)
{
    if (t->ttl_pending || !t->m.nreg || strncmp(t->reg_url, "etcd://", 7) != 0)
        return;
    tui_ttl_job *q = tui_ttl_job_new(t->reg_url);
    if (!q)
        return;
    for (size_t i = 0; i < t->m.nreg && q->n < TUI_MAX_ADDRS; i++) {
        snprintf(q->addr[q->n], sizeof q->addr[0], "%s", t->m.reg[i].inst.addr);
        q->lease[q->n++] = t->m.reg[i].inst.lease;
    }
    q->job.finish = finish_ttl;
    t->ttl_pending = true;
    tui_work_submit(t->side, &q->job);
}

/* With no registry, the load calls the servers the supervisor has alive. */
static int sync_static(tui *t)
{
    if (t->reg.kind != REGOPT_STATIC)
        return 0;
    tui_member mb[TUI_MAX_ADDRS];
    memset(mb, 0, sizeof mb);
    size_t n, k = 0;
    const instance *in = supervisor_instances(t->sup, &n);
    for (size_t i = 0; i < n && k < TUI_MAX_ADDRS; i++)
        if (in[i].pid > 0 && !in[i].program[0] && !is_starting(t, in[i].id)) {
            snprintf(mb[k].addr, sizeof mb[k].addr, "%s", in[i].addr);
            mb[k++].proto = in[i].proto;
        }
    return tui_model_set_static(&t->m, mb, k);
}

/* A click on an Instances row selects it; the wheel scrolls the Timeline, or moves the
 * cursor in the Wire pane. */
static int on_mouse(tui *t, const tui_screen *scr, const tui_view *v)
{
    MEVENT me;
    if (getmouse(&me) != OK)
        return 0;
    if (me.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        bool up = me.bstate & BUTTON4_PRESSED;
        if (t->show_wire) {
            tui_wire_move(&t->wire, up ? -1 : 1);
            return DIRTY_WIRE;
        }
        size_t n;
        supervisor_timeline(t->sup, &n);
        t->tl_scroll += up ? 3 : -3;
        if (t->tl_scroll > (int)n)
            t->tl_scroll = (int)n;
        if (t->tl_scroll < 0)
            t->tl_scroll = 0;
        return DIRTY_TIMELINE;
    }
    if (me.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) {
        int row = tui_draw_instance_at(scr, v, me.y, me.x);
        if (row >= 0) {
            t->selected = row;
            return DIRTY_INSTANCES;
        }
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: workbench [tui] [--registry etcd|URL|static|consul-dev] [--no-mouse]\n"
               "The full-screen workbench: spawns servers on keys, puts load on them through the\n"
               "client-side balancer, and shows instances, traffic, registry entries and a\n"
               "timeline. Press ? in it for the keys.\n\n"
               "Options:\n"
               "  --registry R  where servers register and the load finds them: etcd (default: a\n"
               "                private etcd started for this run), etcd://HOST:PORT or\n"
               "                consul://HOST:PORT (running already), consul-dev (a private\n"
               "                `consul agent -dev`, when consul is installed: Debian 12 has no\n"
               "                package), or static (no registry: the servers it started are the\n"
               "                list). :registry switches while it runs. The private etcd is\n"
               "                started in every case, for :registry etcd.\n"
               "  --no-mouse    leave the mouse to the terminal (text selection); :mouse on|off\n");
}

int cmd_tui(int argc, char **argv)
{
    regopt start_reg = {.kind = REGOPT_PRIVATE_ETCD};
    bool mouse = true;
    char err[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--no-mouse") == 0) {
            mouse = false;
        } else if (strncmp(a, "--registry=", 11) == 0) {
            val = a + 11;
        } else if (strcmp(a, "--registry") == 0 && i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "workbench tui: unknown option %s\n\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
        if (val && regopt_parse(val, &start_reg, err, sizeof err) < 0) {
            fprintf(stderr, "workbench tui: --registry: %s\n", err);
            return EXIT_USAGE;
        }
    }
    if (start_reg.kind == REGOPT_CONSUL_DEV && !consulproc_available()) {
        fprintf(stderr, "workbench tui: --registry consul-dev: consul is not installed (Debian 12 has no "
                        "package for it); put a consul binary on PATH, or use etcd\n");
        return EXIT_FAILED;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "workbench tui: needs a terminal (see 'workbench --help' for the commands)\n");
        return EXIT_USAGE;
    }
    setlocale(LC_ALL, "");
    have_tty = tcgetattr(STDIN_FILENO, &saved_tty) == 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);

    int rc = EXIT_FAILED;
    static tui t;
    etcdproc etcd = {0};
    bool own_etcd = false;
    tui_load *load = NULL;
    tui_screen scr = {0};
    int saved_stderr = -1;
    bool curses = false;
    t.selected = -1;
    t.mouse = mouse;
    if (tui_model_init(&t.m) < 0) {
        fprintf(stderr, "workbench tui: cannot set up\n");
        return EXIT_FAILED;
    }
    t.m.service = SERVICE;

    printf("RPC Workbench: starting a private etcd...\n");
    fflush(stdout);
    if (etcdproc_start(&etcd, 10000, err, sizeof err) < 0)
        goto done;
    own_etcd = true;
    t.etcd = &etcd;
    /* the servers share our stderr: their log lines must not land on the screen */
    saved_stderr = dup(STDERR_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
        dup2(devnull, STDERR_FILENO);
        close(devnull);
    }
    t.sup = supervisor_new("none", SERVICE, TTL);
    if (!t.sup) {
        snprintf(err, sizeof err, "out of memory");
        goto done;
    }
    supervisor_note(t.sup, 0, "started a private etcd at %s", etcd.client);
    if (!(t.ops = tui_work_start(err, sizeof err)) || !(t.side = tui_work_start(err, sizeof err)))
        goto done;
    /* the first registry is opened here, the way :registry opens the next ones */
    if (start_reg.kind == REGOPT_CONSUL_DEV) {
        printf("RPC Workbench: starting a private consul agent -dev...\n");
        fflush(stdout);
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the watch thread takes no signals */
    tui_registry_job *first = tui_registry_job_new(t.sup, &start_reg,
                                                   start_reg.kind == REGOPT_PRIVATE_ETCD ? etcd.url : NULL,
                                                   watched_service(&start_reg));
    if (first)
        first->job.run(&first->job);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!first || first->rc < 0) {
        snprintf(err, sizeof err, "--registry %.60s: %.400s", regopt_name(&start_reg), first ? first->err : "out of memory");
        free(first);
        goto done;
    }
    finish_registry(&first->job, &t);
    free(first);
    snprintf(t.method, sizeof t.method, "%s", METHOD);
    snprintf(t.args, sizeof t.args, "%s", ARGS);
    if (!(load = tui_load_start(&t.m, METHOD, ARGS, err, sizeof err)))
        goto done;

    if (!initscr()) {
        snprintf(err, sizeof err, "cannot start the terminal UI");
        goto done;
    }
    curses = true;
    raw(); /* Ctrl-C is a key here (quit), so it does not reach the servers too */
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    mouseinterval(0); /* a press is a click at once */
    if (t.mouse)
        mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    timeout(GETCH_MS);
    tui_draw_init(&scr);
    tui_draw_layout(&scr, false, false, false, NULL);

    tui_key_help helps[NKEYS];
    for (size_t i = 0; i < NKEYS; i++)
        helps[i] = keys[i].h;
    char load_desc[1200];
    tui_cmdline_init(&t.cmd, complete);
    tui_wire_init(&t.wire);
    tui_view v = {.m = &t.m, .sup = t.sup, .service = SERVICE, .registry = t.reg_label,
                  .load_desc = load_desc, .keys = helps, .nkeys = NKEYS, .starting = t.starting};

    int dirty = DIRTY_ALL;
    uint64_t last_draw = 0, last_second = 0, last_ttl = 0;
    size_t ntimeline = 0;
    while (!t.quit && !got_signal) {
        uint64_t now = clock_now_ms();
        /* the model: registry events, the load's notes, the worker's results, children that exited */
        registry_event ev;
        while (t.watch && registry_watch_next(t.watch, &ev, 0) == 1) {
            dirty |= tui_model_apply(&t.m, &ev);
            if (ev.type == REGISTRY_EV_PUT)
                supervisor_note(t.sup, 0, "registry: %s registered", ev.inst.addr);
            else if (ev.type == REGISTRY_EV_DELETE)
                supervisor_note(t.sup, 0, "registry: %s removed", ev.inst.addr);
            else if (ev.type == REGISTRY_EV_ERROR)
                supervisor_note(t.sup, 0, "registry unreachable (%s)", ev.msg);
            else
                supervisor_note(t.sup, 0, "registry reachable again");
        }
        tui_model_take_notes(&t.m, note_cb, t.sup);
        dirty |= tui_work_poll(t.ops, &t) | tui_work_poll(t.side, &t);
        supervisor_poll(t.sup);
        dirty |= sync_static(&t);
        roll_on(&t);
        if (now - last_ttl >= TTL_POLL_MS) {
            last_ttl = now;
            poll_ttls(&t);
        }
        size_t ntl;
        supervisor_timeline(t.sup, &ntl);
        if (ntl != ntimeline) {
            if (t.tl_scroll) /* keep the lines read in place */
                t.tl_scroll += (int)(ntl - ntimeline);
            ntimeline = ntl;
            dirty |= DIRTY_TIMELINE | DIRTY_INSTANCES;
        }
        if (now - last_draw >= DRAW_MIN_MS)
            dirty |= tui_model_sample(&t.m, now);
        if (now - last_second >= 1000) {
            last_second = now;
            if (t.m.nreg)
                dirty |= DIRTY_REGISTRY; /* ages */
            if (t.message[0] && now - t.message_at > 5000) {
                t.message[0] = '\0';
                t.cmd_message = false;
                dirty |= DIRTY_STATUS;
            }
        }
        dirty |= sync_lesson(&t);
        if (dirty & DIRTY_LAYOUT)
            tui_draw_layout(&scr, t.help, t.show_wire, t.lesson != NULL, t.lesson_pane);
        v.lesson = t.lesson ? &t.lesson_view : NULL;
        v.lesson_scroll = &t.lesson_scroll;
        v.selected = t.selected;
        v.message = t.message;
        v.status_message = t.cmd_message ? t.message : "";
        v.cmd = &t.cmd;
        v.wire = &t.wire;
        v.nstarting = t.nstarting;
        v.is_static = t.reg.kind == REGOPT_STATIC;
        v.tl_scroll = t.tl_scroll;
        snprintf(load_desc, sizeof load_desc, "%s %s", t.method, t.args);
        v.help = t.help;
        if (dirty) {
            tui_draw(&scr, &v, dirty);
            last_draw = now;
            dirty = 0;
        }

        int ch = getch();
        if (ch == ERR)
            continue;
        if (ch == KEY_RESIZE) {
            dirty |= DIRTY_LAYOUT;
            continue;
        }
        if (t.cmd.active) {
            if (ch == KEY_MOUSE)
                continue;
            char line[512];
            if (tui_cmdline_key(&t.cmd, ch, line, sizeof line) == 1)
                dirty |= run_command(&t, line);
            if (!t.cmd.active)
                curs_set(0);
            dirty |= DIRTY_STATUS;
            continue;
        }
        if (t.help && ch != 'q' && ch != 3) {
            t.help = false;
            dirty |= DIRTY_LAYOUT;
            continue;
        }
        if (ch == KEY_MOUSE) {
            dirty |= on_mouse(&t, &scr, &v);
            continue;
        }
        for (size_t i = 0; i < NKEYS; i++)
            if (keys[i].action && (keys[i].key == ch || (keys[i].alt && keys[i].alt == ch))) {
                t.cmd_message = false;
                dirty |= find_action(keys[i].action)->fn(&t, keys[i].arg);
                break;
            }
    }
    rc = EXIT_OK;
    goto done;
done:
    close_lesson(&t);
    /* the terminal first, then everything we started */
    tui_cmdline_done(&t.cmd);
    tui_draw_done(&scr);
    if (curses && !isendwin())
        endwin();
    if (saved_stderr >= 0) {
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
    }
    if (rc != EXIT_OK)
        fprintf(stderr, "workbench tui: %s\n", err);
    tui_lesson_wait_closed(15000);
    if (got_signal)
        fprintf(stderr, "workbench tui: %s, stopping\n", strsignal(got_signal));
    size_t nin = 0;
    if (t.sup)
        supervisor_instances(t.sup, &nin);
    if (own_etcd)
        printf("RPC Workbench: stopping %zu server(s) and %s...\n", nin, t.own_consul ? "etcd and consul" : "etcd");
    /* the worker's last results (servers it started) go to the supervisor, which stops them */
    if (t.ops) {
        tui_work_stop(t.ops);
        tui_work_poll(t.ops, &t);
    }
    if (t.side) {
        tui_work_stop(t.side);
        tui_work_poll(t.side, &t);
    }
    tui_load_stop(load);
    registry_watch_free(t.watch);
    t.watch = NULL;
    supervisor_free(t.sup);
    t.sup = NULL;
    tempdir_remove(t.dbdir);
    /* etcd or consul started again by a job is the worker thread's child, and dies with
     * it: stop them properly first */
    if (t.own_consul)
        consulproc_stop(&t.consul);
    if (own_etcd)
        etcdproc_stop(&etcd, true);
    tui_work_free(t.ops); /* after the servers: they die with the thread that started them */
    tui_work_free(t.side);
    if (curses)
        tui_wire_done(&t.wire);
    tui_model_done(&t.m);
    return rc;
}
