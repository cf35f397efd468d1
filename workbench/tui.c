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

#include "commands.h"
#include "etcdproc.h"
#include "loop.h"
#include "registry.h"
#include "supervisor.h"
#include "tui_draw.h"
#include "tui_load.h"
#include "tui_model.h"

#define SERVICE "workbench"
#define METHOD "Arith.Multiply"
#define ARGS "{\"A\":7,\"B\":8}"

enum { TTL = 5, GETCH_MS = 50, DRAW_MIN_MS = 100 };

typedef struct tui {
    tui_model m;
    supervisor *sup;
    int selected;
    char message[160];
    uint64_t message_at;
    bool help, quit;
} tui;

typedef int (*key_fn)(tui *t);

typedef struct key_binding {
    int key, alt;   /* alt: a second key doing the same, 0 for none */
    key_fn fn;
    tui_key_help h;
} key_binding;

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
    t->message_at = loop_now_ms();
}

static const instance *selected(tui *t)
{
    size_t n;
    const instance *in = supervisor_instances(t->sup, &n);
    return t->selected >= 0 && (size_t)t->selected < n ? &in[t->selected] : NULL;
}

static int spawn(tui *t, rpc_proto p)
{
    char err[256];
    int id = supervisor_spawn(t->sup, p, err, sizeof err);
    if (id < 0) {
        say(t, "spawn failed: %s", err);
        supervisor_note(t->sup, 0, "could not spawn %s: %s", supervisor_program(p), err);
    } else {
        t->selected = id - 1;
        say(t, "spawned #%d", id);
    }
    return DIRTY_INSTANCES | DIRTY_TIMELINE | DIRTY_STATUS;
}

static int act_json(tui *t) { return spawn(t, PROTO_JSON); }
static int act_gob(tui *t) { return spawn(t, PROTO_GOB); }
static int act_grpc(tui *t) { return spawn(t, PROTO_GRPC); }

static int act_up(tui *t)
{
    if (t->selected > 0)
        t->selected--;
    return DIRTY_INSTANCES;
}

static int act_down(tui *t)
{
    size_t n;
    supervisor_instances(t->sup, &n);
    if ((size_t)t->selected + 1 < n)
        t->selected++;
    return DIRTY_INSTANCES;
}

static int send_sig(tui *t, int sig, const char *verb)
{
    const instance *in = selected(t);
    if (!in)
        say(t, "no instance selected");
    else if (supervisor_signal(t->sup, in->id, sig) < 0)
        say(t, "#%d is not running", in->id);
    else
        say(t, "%s #%d", verb, in->id);
    return DIRTY_INSTANCES | DIRTY_TIMELINE | DIRTY_STATUS;
}

static int act_kill(tui *t) { return send_sig(t, SIGKILL, "killed"); }
static int act_term(tui *t) { return send_sig(t, SIGTERM, "stopped"); }

static int act_pause(tui *t)
{
    const instance *in = selected(t);
    if (in && in->state == INST_PAUSED)
        return send_sig(t, SIGCONT, "resumed");
    return send_sig(t, SIGSTOP, "paused");
}

static int act_restart(tui *t)
{
    const instance *in = selected(t);
    char err[256];
    if (!in)
        say(t, "no instance selected");
    else if (supervisor_restart(t->sup, in->id, err, sizeof err) < 0)
        say(t, "restart failed: %s", err);
    else
        say(t, "restarted #%d", in->id);
    return DIRTY_INSTANCES | DIRTY_TIMELINE | DIRTY_STATUS;
}

static int act_load(tui *t)
{
    bool on = !t->m.traffic.on;
    tui_model_set_load(&t->m, on);
    t->m.traffic.on = on;
    supervisor_note(t->sup, 0, "load %s (%s at %d/s)", on ? "started" : "stopped", METHOD, t->m.traffic.rate);
    say(t, "load %s", on ? "on" : "off");
    return DIRTY_TRAFFIC | DIRTY_TIMELINE | DIRTY_STATUS;
}

static int change_rate(tui *t, bool up)
{
    int r = t->m.traffic.rate;
    static const int steps[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
    int n = (int)(sizeof steps / sizeof steps[0]), next = r;
    if (up) {
        for (int i = 0; i < n && next == r; i++)
            if (steps[i] > r)
                next = steps[i];
    } else {
        for (int i = n - 1; i >= 0 && next == r; i--)
            if (steps[i] < r)
                next = steps[i];
    }
    tui_model_set_rate(&t->m, next);
    t->m.traffic.rate = next;
    say(t, "rate %d/s", next);
    return DIRTY_TRAFFIC | DIRTY_STATUS;
}

static int act_faster(tui *t) { return change_rate(t, true); }
static int act_slower(tui *t) { return change_rate(t, false); }

static int act_help(tui *t)
{
    t->help = true;
    return DIRTY_LAYOUT;
}

static int act_quit(tui *t)
{
    t->quit = true;
    return 0;
}

static const key_binding keys[] = {
    {'j', 0, act_json, {"j", "j/b/c spawn", "spawn a JSON-RPC server (registers in etcd)"}},
    {'b', 0, act_gob, {"b", NULL, "spawn a gob server (Go net/rpc)"}},
    {'c', 0, act_grpc, {"c", NULL, "spawn a gRPC server"}},
    {KEY_UP, 0, act_up, {"↑", "↑↓ select", "select the instance above"}},
    {KEY_DOWN, 0, act_down, {"↓", NULL, "select the instance below"}},
    {'k', 0, act_kill, {"k", "k kill", "kill -9 the selected instance (its lease expires after the TTL)"}},
    {'t', 0, act_term, {"t", "t term", "stop the selected instance with SIGTERM (it deregisters at once)"}},
    {'p', 0, act_pause, {"p", "p pause", "pause (SIGSTOP) or resume (SIGCONT) the selected instance"}},
    {'r', 0, act_restart, {"r", "r restart", "start the selected instance again on its old address"}},
    {'l', 0, act_load, {"l", "l/+/- load", "start or stop the load (Arith.Multiply through the balancer)"}},
    {'+', '=', act_faster, {"+", NULL, "raise the load's rate (up to 5000 calls/s)"}},
    {'-', 0, act_slower, {"-", NULL, "lower the load's rate"}},
    {'?', KEY_F(1), act_help, {"?", "? help", "this help"}},
    {'q', 3, act_quit, {"q", "q quit", "quit: stop the load, every server and etcd (also Ctrl-C)"}},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static void note_cb(void *ctx, const char *note)
{
    supervisor_note(ctx, 0, "%s", note);
}

int cmd_tui(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: workbench [tui]\n"
               "The full-screen workbench: starts a private etcd, spawns servers on keys, puts\n"
               "load on them through the client-side balancer, and shows instances, traffic,\n"
               "registry entries and a timeline. Press ? in it for the keys.\n");
        return EXIT_OK;
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
    char err[512];
    static tui t;
    etcdproc etcd = {0};
    bool own_etcd = false;
    registry *reg = NULL;
    registry_watch *watch = NULL;
    tui_load *load = NULL;
    tui_screen scr = {0};
    int saved_stderr = -1;
    bool curses = false;
    t.selected = -1;
    if (tui_model_init(&t.m) < 0) {
        fprintf(stderr, "workbench tui: cannot set up\n");
        return EXIT_FAILED;
    }

    printf("RPC Workbench: starting a private etcd...\n");
    fflush(stdout);
    if (etcdproc_start(&etcd, 10000, err, sizeof err) < 0)
        goto done;
    own_etcd = true;
    /* the servers share our stderr: their log lines must not land on the screen */
    saved_stderr = dup(STDERR_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
        dup2(devnull, STDERR_FILENO);
        close(devnull);
    }
    t.sup = supervisor_new(etcd.url, SERVICE, TTL);
    if (!t.sup) {
        snprintf(err, sizeof err, "out of memory");
        goto done;
    }
    supervisor_note(t.sup, 0, "started a private etcd at %s", etcd.client);
    if (!(reg = registry_new(etcd.url, NULL, err, sizeof err)))
        goto done;
    registry_instance *list = NULL;
    size_t nlist = 0;
    int64_t rev = 0;
    if (registry_list(reg, SERVICE, &list, &nlist, &rev, err, sizeof err) < 0)
        goto done;
    for (size_t i = 0; i < nlist; i++) {
        registry_event ev = {.type = REGISTRY_EV_PUT, .inst = list[i]};
        tui_model_apply(&t.m, &ev);
    }
    free(list);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the watch thread takes no signals */
    watch = registry_watch_start(reg, SERVICE, rev, err, sizeof err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!watch)
        goto done;
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
    timeout(GETCH_MS);
    tui_draw_init(&scr);
    tui_draw_layout(&scr, false);

    tui_key_help helps[NKEYS];
    for (size_t i = 0; i < NKEYS; i++)
        helps[i] = keys[i].h;
    char registry_label[96];
    snprintf(registry_label, sizeof registry_label, "etcd %s", etcd.client);
    char load_desc[96];
    snprintf(load_desc, sizeof load_desc, "%s %s", METHOD, ARGS);
    tui_view v = {.m = &t.m, .sup = t.sup, .service = SERVICE, .registry = registry_label,
                  .load_desc = load_desc, .keys = helps, .nkeys = NKEYS};

    int dirty = DIRTY_ALL;
    uint64_t last_draw = 0, last_second = 0;
    size_t ntimeline = 0;
    while (!t.quit && !got_signal) {
        uint64_t now = loop_now_ms();
        /* the model: registry events, the load's notes, children that exited */
        registry_event ev;
        while (registry_watch_next(watch, &ev, 0) == 1) {
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
        supervisor_poll(t.sup);
        size_t ntl;
        supervisor_timeline(t.sup, &ntl);
        if (ntl != ntimeline) {
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
                dirty |= DIRTY_STATUS;
            }
        }
        if (dirty & DIRTY_LAYOUT)
            tui_draw_layout(&scr, t.help);
        v.selected = t.selected;
        v.message = t.message;
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
        if (t.help && ch != 'q' && ch != 3) {
            t.help = false;
            dirty |= DIRTY_LAYOUT;
            continue;
        }
        for (size_t i = 0; i < NKEYS; i++)
            if (keys[i].key == ch || (keys[i].alt && keys[i].alt == ch)) {
                dirty |= keys[i].fn(&t);
                break;
            }
    }
    rc = EXIT_OK;
    goto done;
done:
    /* the terminal first, then everything we started */
    tui_draw_done(&scr);
    if (curses && !isendwin())
        endwin();
    if (saved_stderr >= 0) {
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
    }
    if (rc != EXIT_OK)
        fprintf(stderr, "workbench tui: %s\n", err);
    if (got_signal)
        fprintf(stderr, "workbench tui: %s, stopping\n", strsignal(got_signal));
    size_t nin = 0;
    if (t.sup)
        supervisor_instances(t.sup, &nin);
    if (own_etcd)
        printf("RPC Workbench: stopping %zu server(s) and etcd...\n", nin);
    tui_load_stop(load);
    registry_watch_free(watch);
    registry_free(reg);
    supervisor_free(t.sup);
    t.sup = NULL;
    if (own_etcd)
        etcdproc_stop(&etcd, true);
    tui_model_done(&t.m);
    return rc;
}
