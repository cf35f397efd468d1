/* tui_act.c -- the TUI's actions on instances and the load, and on what the view shows:
 * spawn, kill, stop, pause, restart, the load's rate and call, selection and scrolling. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "base/numopt.h"
#include "base/tempdir.h"
#include "base/i18n.h"
#include "tui_int.h"
#include "wire/catalog.h"
#include "wire/jsonval.h"

static const instance *selected(tui *t)
{
    size_t n;
    const instance *in = supervisor_instances(t->sup, &n);
    return t->selected >= 0 && (size_t)t->selected < n ? &in[t->selected] : NULL;
}

/* The instance arg names ("3"), or the selected one when arg is NULL or empty. */
static const instance *instance_arg(tui *t, const char *arg)
{
    if (!arg || !arg[0]) {
        const instance *in = selected(t);
        if (!in)
            tui_say(t, _("no instance selected"));
        return in;
    }
    int id;
    const instance *in = numopt_int(arg, 1, 1 << 20, &id) == 0 ? supervisor_find(t->sup, id) : NULL;
    if (!in)
        tui_say(t, _("no instance %s (the # column)"), arg);
    return in;
}

/* The data services and the gateway (issue's tutorials 000 and 002): each registers under
 * its own name; order and user keep their data in SQLite files of this session, which
 * every instance of the service shares. */
static int service_like(tui *t, const char *word, instance *like)
{
    static const struct {
        const char *word, *program, *db;
    } kinds[] = {{"order", "order-server", "orders.db"}, {"user", "user-server", "users.db"}, {"gateway", "gateway", NULL}};
    /* the gateway's /arith route calls the sample gRPC servers, which register as TUI_SERVICE */
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(word, kinds[i].word) != 0)
            continue;
        if (t->reg.kind == REGOPT_STATIC && !kinds[i].db) {
            tui_say(t, _("the gateway finds its services in a registry: switch to one first (g)"));
            return -1;
        }
        if (kinds[i].db && !t->dbdir[0]) {
            if (tempdir_make(t->dbdir, sizeof t->dbdir, "wb-tui") < 0) {
                tui_say(t, _("cannot make a directory for the databases: %s"), strerror(errno));
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
            snprintf(like->args[1], sizeof like->args[1], "%s", TUI_SERVICE);
        like->nargs = 2;
        return 0;
    }
    tui_say(t, _("no server kind '%s': json, gob, grpc, order, user or gateway"), word);
    return -1;
}

int act_spawn(tui *t, const char *arg)
{
    char word[16] = "";
    int n = 1, used = 0;
    if (sscanf(arg ? arg : "", "%15s %n", word, &used) < 1) {
        tui_say(t, _("spawn what? spawn json|gob|grpc|order|user|gateway [N]"));
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
        tui_say(t, _("spawn %s N: N is a count from 1 to 16, not '%s'"), word, arg + used);
        return DIRTY_STATUS;
    }
    int queued = 0;
    for (int i = 0; i < n; i++)
        queued += tui_start_server(t, 0, &like, 0, NULL) == 0;
    if (queued)
        tui_say(t, ngettext("starting %d %s server...", "starting %d %s servers...", queued), queued, word);
    return DIRTY_INSTANCES | DIRTY_STATUS;
}

/* "up" or "down" (the arrow keys): the instance above or below the selected one. */
int act_select(tui *t, const char *arg)
{
    if (t->show_sniff && !t->show_wire)
        return tui_sniff_select(t, strcmp(arg, "up") == 0 ? -1 : 1);
    size_t n;
    supervisor_instances(t->sup, &n);
    if (strcmp(arg, "up") == 0) {
        if (t->selected > 0)
            t->selected--;
    } else if ((size_t)t->selected + 1 < n) {
        t->selected++;
    }
    return DIRTY_INSTANCES;
}

/* Sends sig to in and says so with done, a format with the instance's #%d. */
static int send_sig(tui *t, const instance *in, int sig, const char *done)
{
    if (!in)
        return DIRTY_STATUS;
    int id = in->id;
    if (supervisor_signal(t->sup, id, sig) < 0)
        tui_say(t, _("#%d is not running"), id);
    else
        tui_say(t, done, id);
    return DIRTY_INSTANCES | DIRTY_TIMELINE | DIRTY_STATUS;
}

int act_kill(tui *t, const char *arg) { return send_sig(t, instance_arg(t, arg), SIGKILL, _("killed #%d")); }
int act_term(tui *t, const char *arg) { return send_sig(t, instance_arg(t, arg), SIGTERM, _("stopped #%d")); }
int act_resume(tui *t, const char *arg) { return send_sig(t, instance_arg(t, arg), SIGCONT, _("resumed #%d")); }

/* With no argument (the p key) it pauses or resumes the selected instance. */
int act_pause(tui *t, const char *arg)
{
    const instance *in = instance_arg(t, arg);
    if (in && in->state == INST_PAUSED && (!arg || !arg[0]))
        return send_sig(t, in, SIGCONT, _("resumed #%d"));
    return send_sig(t, in, SIGSTOP, _("paused #%d"));
}

int act_restart(tui *t, const char *arg)
{
    const instance *in = instance_arg(t, arg);
    if (!in)
        return DIRTY_STATUS;
    if (tui_restart_instance(t, in, SIGKILL) == 0)
        tui_say(t, _("restarting #%d..."), in->id);
    return DIRTY_INSTANCES | DIRTY_TIMELINE | DIRTY_STATUS;
}

/* "on", "off", or NULL (the l key): toggle. */
int act_load(tui *t, const char *arg)
{
    bool on = !t->m.traffic.on;
    if (arg && strcmp(arg, "on") == 0)
        on = true;
    else if (arg && strcmp(arg, "off") == 0)
        on = false;
    else if (arg) {
        tui_say(t, _("load on or load off, not '%s'"), arg);
        return DIRTY_STATUS;
    }
    tui_model_set_load(&t->m, on);
    t->m.traffic.on = on;
    supervisor_note(t->sup, 0, on ? _("load started (%s at %d/s)") : _("load stopped (%s at %d/s)"), t->method,
                    t->m.traffic.rate);
    tui_say(t, "%s", on ? _("load on") : _("load off"));
    return DIRTY_TRAFFIC | DIRTY_TIMELINE | DIRTY_STATUS;
}

/* "+" or "-" (the keys): the next step up or down; else a number of calls/s. */
int act_rate(tui *t, const char *arg)
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
        tui_say(t, _("rate N: calls per second from 1 to %d"), TUI_RATE_MAX);
        return DIRTY_STATUS;
    }
    tui_model_set_rate(&t->m, next);
    t->m.traffic.rate = next;
    tui_say(t, _("rate %d/s"), next);
    return DIRTY_TRAFFIC | DIRTY_STATUS;
}

/* "METHOD JSON": what the load calls, once the method is known and the JSON fits it. */
int act_call(tui *t, const char *arg)
{
    char name[128] = "", err[256];
    int used = 0;
    if (!arg || sscanf(arg, "%127s %n", name, &used) < 1 || !arg[used]) {
        tui_say(t, _("call METHOD JSON, e.g. call Arith.Multiply {\"A\":7,\"B\":8}"));
        return DIRTY_STATUS;
    }
    const char *json = arg + used;
    const catalog_method *me = catalog_find(name, false, err, sizeof err);
    if (!me) {
        tui_say(t, _("call: %s"), err);
        return DIRTY_STATUS;
    }
    value *raw = jsonval_parse(json, strlen(json), err, sizeof err);
    if (!raw) {
        tui_say(t, _("call: the arguments are not JSON: %s"), err);
        return DIRTY_STATUS;
    }
    value *conv = catalog_argument(me, raw, err, sizeof err);
    value_free(raw);
    if (!conv) {
        tui_say(t, _("call: %s"), err);
        return DIRTY_STATUS;
    }
    value_free(conv);
    snprintf(t->method, sizeof t->method, "%s", name);
    snprintf(t->args, sizeof t->args, "%s", json);
    tui_model_set_call(&t->m, t->method, t->args);
    int wd = 0;
    if (t->show_wire) {
        t->wire_server[0] = '\0'; /* the pane shows the load's call again */
        tui_capture(t);
        wd = DIRTY_WIRE;
    }
    supervisor_note(t->sup, 0, _("the load now calls %s %s"), t->method, t->args);
    tui_say(t, _("the load calls %s %s"), t->method, t->args);
    return DIRTY_TRAFFIC | DIRTY_TIMELINE | DIRTY_STATUS | wd;
}

int act_help(tui *t, const char *arg)
{
    (void)arg;
    return tui_open_help(t, lesson_locale_lang(), false);
}

/* "up", "down" (a page of the Timeline) or "end" (the newest events). */
int act_scroll(tui *t, const char *arg)
{
    enum { PAGE = 5, SNIFF_PAGE = 10 };
    if (t->show_sniff && !t->show_wire && !t->lesson) /* End: follow the newest call */
        return tui_sniff_select(t, strcmp(arg, "end") == 0 ? 0 : strcmp(arg, "up") == 0 ? -SNIFF_PAGE : SNIFF_PAGE);
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
        t->tl_scroll += (strcmp(arg, "up") == 0 ? 1 : -1) * (t->tl_page > 0 ? t->tl_page : 1);
    if (t->tl_scroll > (int)n)
        t->tl_scroll = (int)n;
    if (t->tl_scroll < 0)
        t->tl_scroll = 0;
    return DIRTY_TIMELINE;
}

int act_mouse(tui *t, const char *arg)
{
    bool on = arg && arg[0] ? strcmp(arg, "on") == 0 : !t->mouse;
    if (arg && arg[0] && strcmp(arg, "on") && strcmp(arg, "off")) {
        tui_say(t, _("mouse on or mouse off, not '%s'"), arg);
        return DIRTY_STATUS;
    }
    t->mouse = on;
    mousemask(on ? BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED : 0, NULL);
    tui_say(t, "%s", on ? _("mouse on (Shift+drag still selects text in most terminals)")
                        : _("mouse off: the terminal selects text again"));
    return DIRTY_STATUS;
}

int act_quit(tui *t, const char *arg)
{
    (void)arg;
    t->quit = true;
    return 0;
}

/* m: the command line with the load's call in it, to edit (Tab completes method names). */
int act_edit_call(tui *t, const char *arg)
{
    (void)arg;
    char line[1300];
    snprintf(line, sizeof line, "call %s %s", t->method, t->args);
    tui_cmdline_open(&t->cmd, line);
    curs_set(1);
    return DIRTY_STATUS;
}

int act_command(tui *t, const char *arg)
{
    (void)arg;
    tui_cmdline_open(&t->cmd, "");
    curs_set(1);
    return DIRTY_STATUS;
}

/* A click on an Instances row selects it; the wheel scrolls the Timeline, or moves the
 * cursor in the Wire pane, or the selection in the Sniff pane. */
int tui_on_mouse(tui *t, const tui_screen *scr, const tui_view *v)
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
        if (t->show_sniff)
            return tui_sniff_select(t, up ? -3 : 3);
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
