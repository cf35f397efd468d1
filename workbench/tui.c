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
#include "services.h"
#include "jsonval.h"
#include "tui_cmdline.h"
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
    char message[300];
    uint64_t message_at;
    bool cmd_message; /* the message is a command's result: the status line shows it */
    bool help, quit;
    tui_cmdline cmd;
    tui_wire wire;
    bool show_wire;
    char method[128], args[1024]; /* what the load calls */
    etcdproc *etcd;               /* the private registry, which `e` stops and starts */
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
    t->message_at = loop_now_ms();
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

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

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
    const instance *in = parse_int(arg, 1, 1 << 20, &id) == 0 ? supervisor_find(t->sup, id) : NULL;
    if (!in)
        say(t, "no instance %s (the # column)", arg);
    return in;
}

static int act_spawn(tui *t, const char *arg)
{
    char word[16] = "";
    int n = 1, used = 0;
    if (sscanf(arg ? arg : "", "%15s %n", word, &used) < 1) {
        say(t, "spawn what? spawn json|gob|grpc [N]");
        return DIRTY_STATUS;
    }
    rpc_proto p;
    if (strcmp(word, "json") == 0)
        p = PROTO_JSON;
    else if (strcmp(word, "gob") == 0)
        p = PROTO_GOB;
    else if (strcmp(word, "grpc") == 0)
        p = PROTO_GRPC;
    else {
        say(t, "no protocol '%s': json, gob or grpc", word);
        return DIRTY_STATUS;
    }
    if (arg[used] && parse_int(arg + used, 1, 16, &n) < 0) {
        say(t, "spawn %s N: N is a count from 1 to 16, not '%s'", word, arg + used);
        return DIRTY_STATUS;
    }
    int first = 0, last = 0;
    for (int i = 0; i < n; i++) {
        char err[256];
        int id = supervisor_spawn(t->sup, p, err, sizeof err);
        if (id < 0) {
            say(t, "spawn failed: %s", err);
            supervisor_note(t->sup, 0, "could not spawn %s: %s", supervisor_program(p), err);
            return DIRTY_INSTANCES | DIRTY_TIMELINE | DIRTY_STATUS;
        }
        t->selected = id - 1;
        if (!first)
            first = id;
        last = id;
    }
    if (first == last)
        say(t, "spawned #%d", first);
    else
        say(t, "spawned #%d..#%d", first, last);
    return DIRTY_INSTANCES | DIRTY_TIMELINE | DIRTY_STATUS;
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

static int act_restart(tui *t, const char *arg)
{
    const instance *in = instance_arg(t, arg);
    char err[256];
    if (!in)
        return DIRTY_STATUS;
    int id = in->id;
    if (supervisor_restart(t->sup, id, err, sizeof err) < 0)
        say(t, "restart failed: %s", err);
    else
        say(t, "restarted #%d", id);
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
    } else if (!arg || parse_int(arg, 1, TUI_RATE_MAX, &next) < 0) {
        say(t, "rate N: calls per second from 1 to %d", TUI_RATE_MAX);
        return DIRTY_STATUS;
    }
    tui_model_set_rate(&t->m, next);
    t->m.traffic.rate = next;
    say(t, "rate %d/s", next);
    return DIRTY_TRAFFIC | DIRTY_STATUS;
}

enum { WIRE_TIMEOUT_MS = 1000 };

/* Makes the current call once per protocol on the first running instance of each. */
static void wire_capture(tui *t)
{
    static const rpc_proto order[TUI_WIRE_LANES] = {PROTO_GOB, PROTO_JSON, PROTO_GRPC};
    char addrs[TUI_WIRE_LANES][80] = {"", "", ""};
    const char *ap[TUI_WIRE_LANES];
    size_t n;
    const instance *in = supervisor_instances(t->sup, &n);
    for (int k = 0; k < TUI_WIRE_LANES; k++) {
        for (size_t i = 0; i < n && !addrs[k][0]; i++)
            if (in[i].proto == order[k] && in[i].state == INST_RUNNING)
                snprintf(addrs[k], sizeof addrs[k], "%s", in[i].addr);
        ap[k] = addrs[k];
    }
    tui_wire_capture(&t->wire, t->method, t->args, ap, WIRE_TIMEOUT_MS);
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

/* Stops or starts the private etcd: the servers cannot renew their leases while it is
 * down, and the load keeps calling the instances it already knows. */
static int act_registry(tui *t, const char *arg)
{
    bool running = t->etcd->proc.pid > 0;
    bool want = arg && arg[0] ? strcmp(arg, "on") == 0 || strcmp(arg, "start") == 0 : !running;
    if (arg && arg[0] && strcmp(arg, "on") && strcmp(arg, "off") && strcmp(arg, "start") && strcmp(arg, "stop")) {
        say(t, "registry takes on or off");
        return DIRTY_STATUS;
    }
    if (want == running) {
        say(t, "the private etcd is already %s", running ? "running" : "stopped");
        return DIRTY_STATUS;
    }
    if (!want) {
        etcdproc_stop(t->etcd, false);
        supervisor_note(t->sup, 0, "stopped the private etcd: leases cannot be renewed; the load "
                        "keeps calling the instances it knows");
        say(t, "stopped etcd");
    } else {
        char err[256];
        if (etcdproc_restart(t->etcd, 0, err, sizeof err) < 0) {
            say(t, "cannot start etcd: %s", err);
            return DIRTY_STATUS;
        }
        supervisor_note(t->sup, 0, "started the private etcd again (same data, same port)");
        say(t, "started etcd");
    }
    return DIRTY_TIMELINE | DIRTY_REGISTRY | DIRTY_STATUS;
}

static int act_quit(tui *t, const char *arg)
{
    (void)arg;
    t->quit = true;
    return 0;
}

static int act_command(tui *t, const char *arg)
{
    (void)arg;
    tui_cmdline_open(&t->cmd);
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
    {"registry", true, act_registry},
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
    {'j', 0, "spawn", "json", {"j", "j/b/c spawn", "spawn a JSON-RPC server (registers in etcd)"}},
    {'b', 0, "spawn", "gob", {"b", NULL, "spawn a gob server (Go net/rpc)"}},
    {'c', 0, "spawn", "grpc", {"c", NULL, "spawn a gRPC server"}},
    {KEY_UP, 0, "up", NULL, {"↑", NULL, "select the instance above"}},
    {KEY_DOWN, 0, "down", NULL, {"↓", NULL, "select the instance below"}},
    {'k', 0, "kill", NULL, {"k", "k kill", "kill -9 the selected instance (its lease expires after the TTL)"}},
    {'t', 0, "stop", NULL, {"t", "t term", "stop the selected instance with SIGTERM (it deregisters at once)"}},
    {'p', 0, "pause", NULL, {"p", "p pause", "pause (SIGSTOP) or resume (SIGCONT) the selected instance"}},
    {'r', 0, "restart", NULL, {"r", NULL, "start the selected instance again on its old address"}},
    {'l', 0, "load", NULL, {"l", "l/+/- load", "start or stop the load (through the balancer)"}},
    {'+', '=', "rate", "+", {"+", NULL, "raise the load's rate (up to 5000 calls/s)"}},
    {'-', 0, "rate", "-", {"-", NULL, "lower the load's rate"}},
    {':', 0, "command", NULL, {":", ": cmd", "command line: spawn json|gob|grpc [N], kill|stop|pause|resume|restart N,"}},
    {0, 0, NULL, NULL, {"", NULL, "  load on|off, rate N, call METHOD JSON, registry on|off, wire, help, quit (Tab, ↑↓)"}},
    {'w', 0, "wire", NULL, {"w", "w wire", "the Wire pane: the call's bytes in gob, JSON-RPC and gRPC, explained"}},
    {'e', 0, "registry", NULL, {"e", NULL, "stop or start the private etcd (:registry on|off): calls go on without it"}},
    {KEY_LEFT, 0, "cursor", "-", {"←→", NULL, "Wire: move the cursor to the previous or next span"}},
    {KEY_RIGHT, 0, "cursor", "+", {"", NULL, ""}},
    {'\t', 0, "lane", "next", {"Tab 1 2 3", NULL, "Wire: the protocol the cursor moves in (gob, JSON-RPC, gRPC)"}},
    {'1', 0, "lane", "1", {"", NULL, ""}},
    {'2', 0, "lane", "2", {"", NULL, ""}},
    {'3', 0, "lane", "3", {"", NULL, ""}},
    {'x', 0, "direction", NULL, {"x", NULL, "Wire: show the request or the response"}},
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
    static const char *protos[] = {"json", "gob", "grpc", NULL};
    static const char *onoff[] = {"on", "off", NULL};
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
        return idx < 3 ? protos[idx] : NULL;
    if (strcmp(cmd, "load") == 0 || strcmp(cmd, "registry") == 0)
        return idx < 2 ? onoff[idx] : NULL;
    if (strcmp(cmd, "call") == 0) {
        size_t n;
        const method *ms = service_methods(&n);
        return idx < n ? ms[idx].name : NULL;
    }
    return NULL;
}

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
    t.etcd = &etcd;
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
    timeout(GETCH_MS);
    tui_draw_init(&scr);
    tui_draw_layout(&scr, false, false);

    tui_key_help helps[NKEYS];
    for (size_t i = 0; i < NKEYS; i++)
        helps[i] = keys[i].h;
    char registry_label[96];
    snprintf(registry_label, sizeof registry_label, "etcd %s", etcd.client);
    char load_desc[1200];
    tui_cmdline_init(&t.cmd, complete);
    tui_wire_init(&t.wire);
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
                t.cmd_message = false;
                dirty |= DIRTY_STATUS;
            }
        }
        if (dirty & DIRTY_LAYOUT)
            tui_draw_layout(&scr, t.help, t.show_wire);
        v.selected = t.selected;
        v.message = t.message;
        v.status_message = t.cmd_message ? t.message : "";
        v.cmd = &t.cmd;
        v.wire = &t.wire;
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
    if (curses)
        tui_wire_done(&t.wire);
    tui_model_done(&t.m);
    return rc;
}
