/* tui_act_pane.c -- the TUI's actions on its two extra panes: the Wire pane (one call in
 * each protocol, or to any gRPC server, every byte) and an open lesson (:lesson N). */
#include <stdio.h>
#include <string.h>

#include "base/i18n.h"
#include "base/numopt.h"
#include "tui_int.h"
#include "tui_ops.h"
#include "wire/jsonval.h"
#include "wire/rpc_proto.h"

enum { WIRE_TIMEOUT_MS = 1000, ANY_TIMEOUT_MS = 3000 };

static int finish_wire(tui_job *j, void *ctx)
{
    tui *t = ctx;
    tui_wire_job *c = (tui_wire_job *)j;
    c->w.sel = t->wire.sel;
    c->w.response = t->wire.response;
    if (--t->wire_jobs > 0 || t->wire_sniffed) { /* a newer capture is coming, or a sniffed call shows */
        tui_wire_done(&c->w);
        return 0;
    }
    tui_wire_done(&t->wire);
    t->wire = c->w; /* takes over its buffers */
    t->wire.busy = false;
    return DIRTY_WIRE;
}

static void submit_wire(tui *t, tui_wire_job *j)
{
    if (!j) {
        tui_say(t, _("out of memory"));
        return;
    }
    j->job.finish = finish_wire;
    t->wire_sniffed = false;
    t->wire_jobs++;
    t->wire.busy = true;
    tui_work_submit(t->side, &j->job);
}

/* The call to any gRPC server, its types learned first, on the side worker; the pane's
 * title names it meanwhile. */
static void capture_any(tui *t)
{
    if (!t->wire.server[0]) /* from the load's call: the lane with the bytes */
        t->wire.sel = TUI_WIRE_GRPC;
    snprintf(t->wire.method, sizeof t->wire.method, "%s", t->wire_method);
    snprintf(t->wire.args, sizeof t->wire.args, "%s", t->wire_args);
    snprintf(t->wire.server, sizeof t->wire.server, "%s", t->wire_server);
    submit_wire(t, tui_wire_any_job_new(t->wire_server, t->wire_method, t->wire_args, &t->src, ANY_TIMEOUT_MS));
}

/* Makes the current call once per protocol on the first running instance of each, on the
 * side worker (a paused server makes a lane wait for its deadline); the pane says so
 * meanwhile. */
void tui_capture(tui *t)
{
    if (t->wire_server[0]) {
        capture_any(t);
        return;
    }
    static const rpc_proto order[TUI_WIRE_LANES] = {PROTO_GOB, PROTO_JSON, PROTO_GRPC};
    char addrs[TUI_WIRE_LANES][80] = {"", "", ""};
    size_t n;
    const instance *in = supervisor_instances(t->sup, &n);
    for (int k = 0; k < TUI_WIRE_LANES; k++)
        for (size_t i = 0; i < n && !addrs[k][0]; i++)
            if (in[i].proto == order[k] && !in[i].program[0] && in[i].state == INST_RUNNING &&
                !tui_is_starting(t, in[i].id))
                snprintf(addrs[k], sizeof addrs[k], "%s", in[i].addr);
    t->wire.server[0] = '\0'; /* the title and the note say what is on its way */
    snprintf(t->wire.method, sizeof t->wire.method, "%s", t->method);
    snprintf(t->wire.args, sizeof t->wire.args, "%s", t->args);
    submit_wire(t, tui_wire_job_new(t->method, t->args, addrs, WIRE_TIMEOUT_MS));
}

/* "grpc://HOST:PORT METHOD JSON": the Wire pane shows that one call to any gRPC server.
 * Returns DIRTY_ flags. */
static int wire_any(tui *t, const char *arg)
{
    char url[128] = "", method[128] = "", addr[80], err[256];
    int used = 0;
    rpc_proto proto;
    if (sscanf(arg, "%127s %127s %n", url, method, &used) < 2 || !arg[used]) {
        tui_say(t, _("wire grpc://HOST:PORT METHOD JSON, e.g. wire grpc://127.0.0.1:50051 pb.Svc/Method {}"));
        return DIRTY_STATUS;
    }
    if (rpc_proto_parse_url(url, &proto, addr, sizeof addr, err, sizeof err) < 0) {
        tui_say(t, _("wire: %s"), err);
        return DIRTY_STATUS;
    }
    if (proto != PROTO_GRPC) {
        tui_say(t, _("wire: only a gRPC server is called this way (grpc://HOST:PORT), not %s"), url);
        return DIRTY_STATUS;
    }
    const char *json = arg + used;
    value *v = jsonval_parse(json, strlen(json), err, sizeof err);
    if (!v) {
        tui_say(t, _("wire: the arguments are not JSON: %s"), err);
        return DIRTY_STATUS;
    }
    value_free(v);
    snprintf(t->wire_server, sizeof t->wire_server, "%s", addr);
    snprintf(t->wire_method, sizeof t->wire_method, "%s", method);
    snprintf(t->wire_args, sizeof t->wire_args, "%s", json);
    int d = t->show_wire ? DIRTY_WIRE : DIRTY_LAYOUT;
    t->show_wire = true;
    tui_capture(t);
    tui_say(t, _("calling %s on %s"), method, addr);
    return d | DIRTY_STATUS;
}

/* Shows the Wire pane (making the load's call afresh) or goes back to the other panes;
 * with "grpc://HOST:PORT METHOD JSON", shows that call instead. */
int act_wire(tui *t, const char *arg)
{
    if (arg)
        return wire_any(t, arg);
    t->show_wire = !t->show_wire;
    t->wire_server[0] = '\0';
    if (t->show_wire)
        tui_capture(t);
    return DIRTY_LAYOUT;
}

/* "-" or "+" (Left, Right): the cursor over the selected protocol's spans. */
int act_cursor(tui *t, const char *arg)
{
    if (!t->show_wire)
        return 0;
    tui_wire_move(&t->wire, arg && arg[0] == '-' ? -1 : 1);
    return DIRTY_WIRE;
}

/* "next" (Tab) or "1".."3": which protocol the cursor moves in (and is shown when narrow). */
int act_lane(tui *t, const char *arg)
{
    if (!t->show_wire)
        return 0;
    if (arg && arg[0] >= '1' && arg[0] <= '0' + TUI_WIRE_LANES)
        t->wire.sel = arg[0] - '1';
    else
        t->wire.sel = (t->wire.sel + 1) % TUI_WIRE_LANES;
    return DIRTY_WIRE;
}

int act_direction(tui *t, const char *arg)
{
    (void)arg;
    if (!t->show_wire)
        return 0;
    t->wire.response = !t->wire.response;
    return DIRTY_WIRE;
}

/* R in the Wire pane: the same call made again, on the instances running now. */
int act_recapture(tui *t, const char *arg)
{
    (void)arg;
    if (!t->show_wire)
        return 0;
    if (t->wire_sniffed) {
        tui_say(t, "%s", _("a call sniffed on the wire is not made again: w goes back to the Sniff pane"));
        return DIRTY_STATUS;
    }
    tui_capture(t);
    tui_say(t, _("making the call again"));
    return DIRTY_WIRE | DIRTY_STATUS;
}

int tui_close_lesson(tui *t)
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
int tui_sync_lesson(tui *t)
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
    if (!strcmp(pane, t->lesson_pane)) /* the lesson's servers and registry too */
        return DIRTY_LESSON | DIRTY_INSTANCES | DIRTY_REGISTRY;
    snprintf(t->lesson_pane, sizeof t->lesson_pane, "%s", pane);
    bool wire = !strcmp(pane, "wire");
    if (wire && !t->show_wire) {
        t->show_wire = t->lesson_wire = true;
        t->wire_server[0] = '\0';
        tui_capture(t);
    } else if (!wire && t->lesson_wire) {
        t->show_wire = t->lesson_wire = false;
    }
    return DIRTY_LAYOUT;
}

int tui_open_help(tui *t, lesson_lang lang, bool at_list)
{
    t->nlessons = tui_lesson_list(t->lessons, sizeof t->lessons / sizeof t->lessons[0], lang, t->lessons_err,
                                  sizeof t->lessons_err);
    t->help = true;
    t->help_scroll = at_list ? TUI_HELP_LESSONS : 0;
    return DIRTY_LAYOUT;
}

static bool is_lang(const char *word)
{
    return !strcmp(word, "en") || !strcmp(word, "zh");
}

/* lesson N [en|zh] opens lesson N beside the panes; lesson next|back|again|off; lesson
 * alone, or lesson list [en|zh], shows the help at the list of lessons. */
int act_lesson(tui *t, const char *arg)
{
    char word[16] = "", lang[8] = "";
    sscanf(arg ? arg : "", "%15s %7s", word, lang);
    if (!word[0] || is_lang(word) || (!strcmp(word, "list") && (!lang[0] || is_lang(lang)))) {
        const char *g = is_lang(word) ? word : lang;
        return tui_open_help(t, g[0] ? (g[0] == 'z' ? LANG_ZH : LANG_EN) : lesson_locale_lang(), true);
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
        return tui_close_lesson(t) | DIRTY_STATUS;
    int n;
    if (numopt_int(word, 1, 99, &n) < 0 || (lang[0] && strcmp(lang, "en") && strcmp(lang, "zh"))) {
        tui_say(t, _("lesson N [en|zh], lesson list, lesson next|back|again|off: not '%s'"), arg);
        return DIRTY_STATUS;
    }
    lesson_lang g = lang[0] ? (lang[0] == 'z' ? LANG_ZH : LANG_EN) : lesson_locale_lang();
    char err[300];
    int d = tui_close_lesson(t);
    t->lesson = tui_lesson_open(n, g, err, sizeof err);
    if (!t->lesson) {
        tui_say(t, "%s", err);
        return d | DIRTY_STATUS;
    }
    tui_say(t, _("lesson %d: Enter or ] next step, [ back, a again, L close"), n);
    return DIRTY_LAYOUT | DIRTY_STATUS | tui_sync_lesson(t);
}

/* A lesson key (Enter ] [ a L) does nothing without an open lesson; Enter in the Sniff
 * pane opens the selected call. */
int act_lesson_key(tui *t, const char *arg)
{
    if (t->show_sniff && !t->show_wire && !strcmp(arg, "next") && t->sniff_view.total)
        return act_sniff_open(t, NULL);
    if (!t->lesson)
        return 0;
    return act_lesson(t, arg);
}
