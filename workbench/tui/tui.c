/* tui.c -- `workbench tui` (and `workbench` alone): the full-screen workbench. Starts a
 * private etcd, the workers and the load thread, then runs the main loop: each turn takes
 * what changed into the model, draws the dirty panes once, and reads one key. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <curses.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/eventlog.h"
#include "base/i18n.h"
#include "base/tempdir.h"
#include "commands.h"
#include "rpc/balancer.h"
#include "tui_int.h"
#include "tui_load.h"
#include "tui_ops.h"
#include "tui_req.h"

#define METHOD "Arith.Multiply"
#define ARGS "{\"A\":7,\"B\":8}"

enum { TTL = TUI_SERVER_TTL, GETCH_MS = 50, DRAW_MIN_MS = 100, TTL_POLL_MS = 1000, MESSAGE_MS = 5000 };

/* What the TUI starts besides its model, for cmd_tui to stop in order. */
typedef struct session {
    etcdproc etcd;
    bool own_etcd;
    tui_load *load;
    tui_screen scr;
    int saved_stderr;
    bool curses;
    char err[512];
} session;

/* The main loop's clocks and counts from one turn to the next. */
typedef struct turn {
    int dirty;
    uint64_t last_draw, last_second, last_ttl;
    size_t ntimeline;
} turn;

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

/* SIGINT, SIGTERM and SIGHUP end the loop; a crash restores the terminal first. */
static void catch_signals(void)
{
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
}

static void note_cb(void *ctx, const char *note)
{
    supervisor_note(ctx, 0, "%s", note);
}

static void usage(FILE *f)
{
    fputs(_("Usage: workbench [tui] [--registry etcd|URL|static|consul-dev] [--no-mouse]\n"
               "The full-screen workbench: spawns servers on keys, puts load on them through the\n"
               "client-side balancer, and shows instances, traffic, registry entries and a\n"
               "timeline. Press ? in it for the keys.\n\n"
               "Options:\n"
               "  --registry R  where servers register and the load finds them: etcd (default: a\n"
               "                private etcd started for this run), etcd://HOST:PORT or\n"
               "                consul://HOST:PORT (running already), consul-dev (a private\n"
               "                `consul agent -dev`; `make run` fetches Debian 11's consul), or\n"
               "                static (no registry: the servers it started are the\n"
               "                list). :registry switches while it runs. The private etcd is\n"
               "                started in every case, for :registry etcd.\n"
               "  --no-mouse    leave the mouse to the terminal (text selection); :mouse on|off\n"),
          f);
    fputs(_(REGISTRY_CREDS_HELP), f);
    fputs(_("                           for every registry it opens; the servers it starts\n"
            "                           get them through their environment\n"),
          f);
    fputs(_("\nThe types of `:wire grpc://HOST:PORT METHOD JSON` come from the server's\n"
            "reflection (v1, else v1alpha), or from files:\n"),
          f);
    fputs(_(PROTOSRC_HELP), f);
}

/* Returns -1 to go on, or the exit code (after --help, or a bad option). */
static int parse_options(int argc, char **argv, regopt *reg, bool *mouse, tui *t)
{
    char err[512];
    regopt_creds given = {NULL, NULL, NULL, NULL};
    registry_creds *creds = &t->creds;
    if (protosrc_take(&argc, argv, &t->src, err, sizeof err) < 0 ||
        regopt_take_creds(&argc, argv, &given, err, sizeof err) < 0 ||
        registry_creds_pick(creds, given.token, given.token_file, given.user, given.user_file, err,
                            sizeof err) < 0 ||
        registry_creds_export(creds) < 0) {
        fprintf(stderr, "workbench tui: %s\n", err);
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--no-mouse") == 0) {
            *mouse = false;
        } else if (strncmp(a, "--registry=", 11) == 0) {
            val = a + 11;
        } else if (strcmp(a, "--registry") == 0 && i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, _("workbench tui: unknown option %s\n\n"), a);
            usage(stderr);
            return EXIT_USAGE;
        }
        if (val && regopt_parse(val, reg, err, sizeof err) < 0) {
            fprintf(stderr, _("workbench tui: --registry: %s\n"), err);
            return EXIT_USAGE;
        }
    }
    if (reg->kind == REGOPT_CONSUL_DEV && !consulproc_available()) {
        fprintf(stderr, _("workbench tui: --registry consul-dev: consul is not installed (Debian 12 has no "
                        "package for it; `make run` fetches Debian 11's), or use etcd\n"));
        return EXIT_FAILED;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, _("workbench tui: needs a terminal (see 'workbench --help' for the commands)\n"));
        return EXIT_USAGE;
    }
    return -1;
}

/* Opens the registry the TUI starts with, the way :registry opens the next ones but
 * before the loop runs. Returns 0, or -1 with s->err. */
static int open_first_registry(tui *t, session *s, const regopt *reg)
{
    if (reg->kind == REGOPT_CONSUL_DEV) {
        printf(_("RPC Workbench: starting a private consul agent -dev...\n"));
        fflush(stdout);
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the watch thread takes no signals */
    tui_registry_job *first = tui_registry_job_new(t->sup, reg, reg->kind == REGOPT_PRIVATE_ETCD ? s->etcd.url : NULL,
                                                   tui_watched_service(reg));
    if (first) {
        first->auth = &t->creds.auth;
        first->job.run(&first->job);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!first || first->rc < 0) {
        err_set(s->err, sizeof s->err, "--registry %.60s: %.400s", regopt_name(reg), first ? first->err : "out of memory");
        free(first);
        return -1;
    }
    tui_finish_registry(&first->job, t);
    free(first);
    return 0;
}

static int start_curses(tui *t, session *s)
{
    if (!initscr()) {
        err_set(s->err, sizeof s->err, _("cannot start the terminal UI"));
        return -1;
    }
    s->curses = true;
    raw(); /* Ctrl-C is a key here (quit), so it does not reach the servers too */
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    mouseinterval(0); /* a press is a click at once */
    if (t->mouse)
        mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    timeout(GETCH_MS);
    tui_draw_init(&s->scr);
    tui_draw_layout(&s->scr, &(tui_layout){0});
    tui_cmdline_init(&t->cmd, tui_req_complete);
    tui_wire_init(&t->wire);
    return 0;
}

/* Everything the loop needs: etcd, the supervisor, the workers, the first registry, the
 * load thread and the terminal. Returns 0, or -1 with s->err. */
static int start(tui *t, session *s, const regopt *reg)
{
    if (protosrc_given(&t->src)) {
        printf(_("RPC Workbench: reading the types of --proto and --protoset...\n"));
        fflush(stdout);
        if (protosrc_load(&t->src, s->err, sizeof s->err) < 0)
            return -1;
    }
    printf(_("RPC Workbench: starting a private etcd...\n"));
    fflush(stdout);
    if (etcdproc_start(&s->etcd, 10000, s->err, sizeof s->err) < 0)
        return -1;
    s->own_etcd = true;
    t->etcd = &s->etcd;
    /* the servers share our stderr: their log lines must not land on the screen */
    s->saved_stderr = dup(STDERR_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
        dup2(devnull, STDERR_FILENO);
        close(devnull);
    }
    if (!(t->sup = supervisor_new("none", TUI_SERVICE, TTL))) {
        err_set(s->err, sizeof s->err, "out of memory");
        return -1;
    }
    supervisor_note(t->sup, 0, _("started a private etcd at %s"), s->etcd.client);
    t->orig_netfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    t->ttl = TTL;
    t->lb_deadline_ms = 500; /* tui_load's CALL_TIMEOUT_MS */
    t->lb_eject_after = LB_EJECT_AFTER;
    t->lb_backoff_min = LB_BACKOFF_MIN_MS;
    t->lb_backoff_max = LB_BACKOFF_MAX_MS;
    t->detect_ms = -1;
    if (!(t->ops = tui_work_start(s->err, sizeof s->err)) || !(t->side = tui_work_start(s->err, sizeof s->err)))
        return -1;
    if (open_first_registry(t, s, reg) < 0)
        return -1;
    snprintf(t->method, sizeof t->method, "%s", METHOD);
    snprintf(t->args, sizeof t->args, "%s", ARGS);
    if (!(s->load = tui_load_start(&t->m, METHOD, ARGS, s->err, sizeof s->err)))
        return -1;
    return start_curses(t, s);
}

/* The model's part of a turn: registry events, the load's notes, the workers' results,
 * children that exited, rates and timers. Returns the DIRTY_ flags it set. */
static int update(tui *t, turn *tn, uint64_t now)
{
    int dirty = 0;
    registry_event ev;
    while (t->watch && registry_watch_next(t->watch, &ev, 0) == 1) {
        char line[400];
        bool known = tui_model_find_reg(&t->m, ev.inst.addr) >= 0;
        if (ev.type == REGISTRY_EV_PUT && !known)
            eventlog_say("registry", "added %s", ev.inst.addr);
        else if (ev.type == REGISTRY_EV_DELETE && known)
            eventlog_say("registry", "dropped %s", ev.inst.addr);
        dirty |= tui_model_apply(&t->m, &ev);
        tui_model_event_note(&ev, line, sizeof line);
        supervisor_note(t->sup, 0, "%s", line);
    }
    tui_model_take_notes(&t->m, note_cb, t->sup);
    dirty |= tui_work_poll(t->ops, t) | tui_work_poll(t->side, t);
    supervisor_poll(t->sup);
    dirty |= tui_lab_poll(t, now);
    dirty |= tui_sniff_poll(t);
    dirty |= tui_sync_static(t);
    tui_roll_on(t);
    if (now - tn->last_ttl >= TTL_POLL_MS) {
        tn->last_ttl = now;
        tui_poll_ttls(t);
    }
    size_t ntl;
    supervisor_timeline(t->sup, &ntl);
    if (ntl != tn->ntimeline) {
        if (t->tl_scroll) /* keep the lines read in place */
            t->tl_scroll += (int)(ntl - tn->ntimeline);
        tn->ntimeline = ntl;
        dirty |= DIRTY_TIMELINE | DIRTY_INSTANCES;
    }
    if (now - tn->last_draw >= DRAW_MIN_MS)
        dirty |= tui_model_sample(&t->m, now);
    if (now - tn->last_second >= 1000) {
        tn->last_second = now;
        if (t->m.nreg)
            dirty |= DIRTY_REGISTRY | DIRTY_INSTANCES; /* ages, Consul reap countdowns */
        if (t->message[0] && t->message_at && now - t->message_at > MESSAGE_MS) {
            t->message[0] = '\0';
            dirty |= DIRTY_STATUS;
        }
    }
    return dirty | tui_sync_lesson(t);
}

/* What drawing reads this turn. */
static void fill_view(tui *t, tui_view *v, char *load_desc, size_t desclen)
{
    snprintf(load_desc, desclen, "%s %s", t->method, t->args);
    v->load_desc = load_desc;
    v->lesson = t->lesson ? &t->lesson_view : NULL;
    v->lesson_scroll = &t->lesson_scroll;
    v->selected = t->selected;
    v->message = t->message;
    v->help_scroll = &t->help_scroll;
    v->cmd = &t->cmd;
    v->wire = &t->wire;
    v->sniff = &t->sniff_view;
    v->sniff_err = t->sniff_err;
    v->nstarting = t->nstarting;
    v->is_static = t->reg.kind == REGOPT_STATIC;
    v->tl_scroll = t->tl_scroll;
    v->help = t->help;
    v->lessons = t->lessons;
    v->nlessons = t->nlessons;
    v->lessons_err = t->lessons_err;
    v->hosts = t->show_hosts;
    v->lab = &t->lab_info;
    v->lab_leader = &t->lab_leader;
    v->detect_ms = t->detect_ms;
    v->detect_fault = t->detect_fault;
}

/* A key while the help is shown: the arrows, PgUp, PgDn, Space, Home and End scroll it
 * (the drawing keeps it in range); any other key closes it. */
static int help_key(tui *t, int ch)
{
    int page = LINES > 6 ? LINES - 4 : 1;
    switch (ch) {
    case KEY_UP: t->help_scroll--; break;
    case KEY_DOWN: t->help_scroll++; break;
    case KEY_PPAGE: t->help_scroll -= page; break;
    case KEY_NPAGE:
    case ' ': t->help_scroll += page; break;
    case KEY_HOME: t->help_scroll = 0; break;
    case KEY_END: t->help_scroll = 1 << 20; break;
    case KEY_MOUSE: return 0;
    default: t->help = false; return DIRTY_LAYOUT;
    }
    if (t->help_scroll < 0)
        t->help_scroll = 0;
    return DIRTY_STATUS;
}

/* One key from getch: the command line's while it is open, any key closes the help,
 * the mouse, else the key table. Returns DIRTY_ flags. */
static int on_key(tui *t, int ch, const tui_screen *scr, const tui_view *v)
{
    if (ch == KEY_RESIZE)
        return DIRTY_LAYOUT;
    if (t->cmd.active) {
        if (ch == KEY_MOUSE)
            return 0;
        int dirty = DIRTY_STATUS;
        char line[512];
        if (tui_cmdline_key(&t->cmd, ch, line, sizeof line) == 1)
            dirty |= tui_req_command(t, line);
        if (!t->cmd.active)
            curs_set(0);
        return dirty;
    }
    if (t->help && ch != 'q' && ch != 3)
        return help_key(t, ch);
    if (t->show_hosts && ch != KEY_MOUSE) {
        t->show_hosts = false;
        return DIRTY_LAYOUT;
    }
    if (ch == KEY_MOUSE)
        return tui_on_mouse(t, scr, v);
    return tui_req_key(t, ch);
}

/* Fills l for this turn; true when the panes must be cut anew for it (the layout's own
 * changes, help, Wire and lesson, come with DIRTY_LAYOUT from the actions). */
static bool layout_changed(const tui *t, tui_layout *l)
{
    size_t n;
    supervisor_instances(t->sup, &n);
    for (size_t i = 0; i < t->nstarting; i++)
        n += t->starting[i].id == 0;
    int ninst = (int)n, ntraffic = (int)t->m.traffic.nrows;
    bool changed = ninst != l->ninst || ntraffic != l->ntraffic;
    *l = (tui_layout){.help = t->help || t->show_hosts, .wire = t->show_wire,
                      .sniff = t->show_sniff, .lesson = t->lesson != NULL, .focus = t->lesson_pane,
                      .ninst = ninst, .ntraffic = ntraffic};
    return changed;
}

/* Until q, :quit or a signal: the model, one draw (one doupdate) when something is
 * dirty, then a key (getch waits at most GETCH_MS). */
static void run(tui *t, session *s)
{
    char load_desc[1200];
    tui_view v = {.m = &t->m, .sup = t->sup, .service = TUI_SERVICE, .registry = t->reg_label,
                  .starting = t->starting};
    v.keys = tui_req_help(&v.nkeys);
    turn tn = {.dirty = DIRTY_ALL};
    tui_layout lay = {0};
    while (!t->quit && !got_signal) {
        uint64_t now = clock_now_ms();
        tn.dirty |= update(t, &tn, now);
        if (layout_changed(t, &lay))
            tn.dirty |= DIRTY_LAYOUT;
        if (tn.dirty & DIRTY_LAYOUT)
            tui_draw_layout(&s->scr, &lay);
        fill_view(t, &v, load_desc, sizeof load_desc);
        if (tn.dirty) {
            tui_draw(&s->scr, &v, tn.dirty);
            t->tl_page = s->scr.timeline_shown;
            t->inst_first = s->scr.inst_first;
            t->inst_shown = s->scr.inst_shown;
            tn.last_draw = now;
            if (t->message[0] && !t->message_at)
                t->message_at = now; /* shown from now on, even after a slow turn */
            tn.dirty = 0;
        }
        int ch = getch();
        if (ch != ERR)
            tn.dirty |= on_key(t, ch, &s->scr, &v);
    }
}

/* The terminal first, then everything started, the servers before the worker threads
 * that started them. */
static void stop(tui *t, session *s, int rc)
{
    tui_close_lesson(t);
    tui_sniff_free(t->sniff); /* its capture thread first */
    t->sniff = NULL;
    tui_cmdline_done(&t->cmd);
    tui_draw_done(&s->scr);
    if (s->curses && !isendwin())
        endwin();
    if (s->saved_stderr >= 0) {
        dup2(s->saved_stderr, STDERR_FILENO);
        close(s->saved_stderr);
    }
    if (rc != EXIT_OK)
        fprintf(stderr, _("workbench tui: %s\n"), s->err);
    tui_lesson_wait_closed(15000);
    if (got_signal)
        fprintf(stderr, _("workbench tui: %s, stopping\n"), strsignal(got_signal));
    size_t nin = 0;
    if (t->sup)
        supervisor_instances(t->sup, &nin);
    if (s->own_etcd)
        printf(t->own_consul ? ngettext("RPC Workbench: stopping %zu server and etcd and consul...\n",
                                        "RPC Workbench: stopping %zu servers and etcd and consul...\n", nin)
                             : ngettext("RPC Workbench: stopping %zu server and etcd...\n",
                                        "RPC Workbench: stopping %zu servers and etcd...\n", nin),
               nin);
    /* the worker's last results (servers it started) go to the supervisor, which stops them */
    if (t->ops) {
        tui_work_stop(t->ops);
        tui_work_poll(t->ops, t);
    }
    if (t->side) {
        tui_work_stop(t->side);
        tui_work_poll(t->side, t);
    }
    tui_load_stop(s->load);
    registry_watch_free(t->watch);
    t->watch = NULL;
    tui_lab_end(t); /* its servers die with its hosts */
    supervisor_free(t->sup);
    t->sup = NULL;
    tempdir_remove(t->dbdir);
    /* etcd or consul started again by a job is the worker thread's child, and dies with
     * it: stop them properly first */
    if (t->own_consul)
        consulproc_stop(&t->consul);
    if (s->own_etcd)
        etcdproc_stop(&s->etcd, true);
    tui_work_free(t->ops); /* after the servers: they die with the thread that started them */
    tui_work_free(t->side);
    if (s->curses)
        tui_wire_done(&t->wire);
    tui_model_done(&t->m);
    if (t->orig_netfd >= 0)
        close(t->orig_netfd);
}

int cmd_tui(int argc, char **argv)
{
    regopt reg = {.kind = REGOPT_PRIVATE_ETCD};
    bool mouse = true;
    static tui t;
    int rc = parse_options(argc, argv, &reg, &mouse, &t);
    if (rc >= 0)
        return rc;
    catch_signals();
    static session s;
    s.saved_stderr = -1;
    t.selected = -1;
    t.mouse = mouse;
    if (tui_model_init(&t.m) < 0) {
        fprintf(stderr, "workbench tui: cannot set up\n");
        return EXIT_FAILED;
    }
    t.m.service = TUI_SERVICE;
    rc = EXIT_FAILED;
    if (start(&t, &s, &reg) == 0) {
        run(&t, &s);
        rc = EXIT_OK;
    }
    stop(&t, &s, rc);
    return rc;
}
