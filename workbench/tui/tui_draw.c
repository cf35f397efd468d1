/* tui_draw.c -- the TUI's panes: Instances, Traffic, Registry, Timeline, title, status,
 * and how the screen is cut into them (the help: tui_draw_help.c). */
#include "tui_draw.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/i18n.h"
#include "tui_draw_int.h"
#include "tui_text.h"

/* What the Instances and Traffic panes say about their counts (tui_addr_count's rule). */
#define COL_CALLS N_("calls")   /* answered, with a result or an error */
#define COL_ERRORS N_("errors") /* answered with an error */
#define COL_FAILED N_("failed") /* no answer: the connection failed */
#define TRAFFIC_TITLE_LONG N_("Traffic · the calls this workbench's load sent (not the gateway's) · " \
                              "round robin over every instance, whatever its protocol")
#define TRAFFIC_TITLE N_("Traffic · this workbench's load only · equal share per instance")

/* The Instances pane's columns: x in the window, width in display columns. */
enum { C_ID, C_PROTO, C_ADDR, C_PID, C_STATE, C_REG, C_CALLS, C_ERRORS, C_FAILED, NCOLS };
static const struct {
    const char *head;
    int x, width;
    bool right;
} inst_cols[NCOLS] = {
    {"#", 2, 3, false},          {N_("proto"), 6, 5, false},  {N_("address"), 12, 18, false},
    {N_("pid"), 31, 7, true},    {N_("state"), 39, 8, false}, {N_("registry"), 48, 8, false},
    {COL_CALLS, 57, 7, true},    {COL_ERRORS, 65, 6, true},   {COL_FAILED, 72, 6, true},
};

/* The Registry and Timeline panes keep at least this many rows (borders included) when the
 * Instances and Traffic panes grow to show every server. */
enum { BOTTOM_MIN = 6, PANE_MIN = 7, TIME_COLS = 8 };

static const char *short_proto(rpc_proto p) { return tui_short_proto(p); }


/* An instance's state in the learner's language. */
static const char *state_word(inst_state st)
{
    static const char *const words[] = {N_("running"), N_("paused"), N_("stopped"), N_("killed"), N_("exited")};
    return (unsigned)st < sizeof words / sizeof words[0] ? _(words[st]) : "?";
}

static attr_t state_attr(const tui_screen *s, inst_state st)
{
    switch (st) {
    case INST_RUNNING: return tui_draw_attr(s, PAIR_RUN, A_NORMAL);
    case INST_PAUSED: return tui_draw_attr(s, PAIR_PAUSE, A_BOLD);
    case INST_KILLED: return tui_draw_attr(s, PAIR_BAD, A_BOLD);
    default: return tui_draw_attr(s, PAIR_STOP, A_DIM);
    }
}


static void draw_title(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->title;
    int cols = getmaxx(w);
    werase(w);
    wbkgd(w, tui_draw_attr(s, PAIR_TITLE, A_REVERSE));
    tui_draw_put(w, 0, 0, cols, A_BOLD, " RPC Workbench");
    int x = 15;
    tui_draw_put(w, 0, x, cols - x, A_NORMAL, _(" · service %s · %s"), v->service, v->registry);
    wnoutrefresh(w);
}

static bool starting(const tui_view *v, int id)
{
    for (size_t i = 0; i < v->nstarting; i++)
        if (v->starting[i].id == id)
            return true;
    return false;
}

/* The first instance shown when the pane has rows lines for them. */
static int first_row(const tui_view *v, int rows)
{
    return v->selected >= rows ? v->selected - rows + 1 : 0;
}

/* The registry column: "reg 4s" (etcd: the lease's TTL left), Consul's check status
 * ("reap 48s" when critical: the seconds until Consul removes it), "static" (on the load's list with no registry), or "-". */
static void reg_column(const tui_view *v, const instance *it, char *out, size_t cap)
{
    snprintf(out, cap, "-");
    if (v->is_static) {
        if (it->pid > 0 && tui_model_find_static(v->m, it->addr) >= 0)
            snprintf(out, cap, "%s", _("static"));
        return;
    }
    int k = tui_model_find_reg(v->m, it->addr);
    if (k < 0)
        return;
    const tui_reg_entry *e = &v->m->reg[k];
    uint64_t now = clock_now_ms();
    int64_t left = tui_model_reap_left(v->m, e, now);
    if (e->inst.status[0] && left >= 0) /* Consul: critical, reaped in so many seconds */
        snprintf(out, cap, _("reap %llds"), (long long)left);
    else if (e->inst.status[0])
        snprintf(out, cap, "%.8s", e->inst.status);
    else if (e->ttl >= 0 && now - e->ttl_at <= TUI_TTL_FRESH_MS) /* asked while on screen */
        snprintf(out, cap, _("reg %llds"), (long long)e->ttl);
    else
        snprintf(out, cap, "%s", _("reg"));
}

static void put_col(WINDOW *w, int y, int c, attr_t a, const char *text)
{
    int room = getmaxx(w) - 1 - inst_cols[c].x;
    int width = inst_cols[c].width < room ? inst_cols[c].width : room;
    tui_draw_cell(w, y, inst_cols[c].x, width, inst_cols[c].right, a, text);
}

static void put_num(WINDOW *w, int y, int c, attr_t a, uint64_t n)
{
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)n);
    put_col(w, y, c, a, text);
}

static void instance_row(tui_screen *s, const tui_view *v, int y, const instance *it, bool sel)
{
    WINDOW *w = s->inst;
    bool up = starting(v, it->id);
    char reg[32], id[16], pid[16] = "-";
    reg_column(v, it, reg, sizeof reg);
    snprintf(id, sizeof id, "%d", it->id);
    if (it->pid > 0)
        snprintf(pid, sizeof pid, "%d", (int)it->pid);
    attr_t base = sel ? A_REVERSE : A_NORMAL;
    if (sel)
        mvwchgat(w, y, 1, getmaxx(w) - 2, A_REVERSE, 0, NULL);
    tui_draw_put(w, y, 1, 1, base, "%s", sel ? (s->utf8 ? "▶" : ">") : " ");
    put_col(w, y, C_ID, base, id);
    put_col(w, y, C_PROTO, base, tui_instance_kind(it));
    put_col(w, y, C_ADDR, base, it->addr);
    put_col(w, y, C_PID, base, pid);
    put_col(w, y, C_STATE, base | (up ? tui_draw_attr(s, PAIR_PAUSE, A_BOLD) : state_attr(s, it->state)),
            up ? _("starting") : state_word(it->state));
    attr_t ra = reg[0] != '-' ? tui_draw_attr(s, PAIR_RUN, A_NORMAL) : A_DIM;
    int k = v->is_static ? -1 : tui_model_find_reg(v->m, it->addr);
    if (k >= 0 && v->m->reg[k].inst.status[0] && strcmp(v->m->reg[k].inst.status, "passing") != 0)
        ra = tui_draw_attr(s, PAIR_BAD, A_BOLD); /* Consul: failing its check */
    put_col(w, y, C_REG, base | ra, reg);
    if (!tui_model_called(v->m, it->addr)) { /* the load never called it: nothing counted */
        for (int c = C_CALLS; c <= C_FAILED; c++)
            put_col(w, y, c, base | A_DIM, "-");
        return;
    }
    uint64_t calls, errors, failed;
    tui_model_addr_counts(v->m, it->addr, &calls, &errors, &failed);
    put_num(w, y, C_CALLS, base, calls);
    put_num(w, y, C_ERRORS, base | (errors ? tui_draw_attr(s, PAIR_PAUSE, A_BOLD) : 0), errors);
    put_num(w, y, C_FAILED, base | (failed ? tui_draw_attr(s, PAIR_BAD, A_BOLD) : 0), failed);
}

/* Consul: the selected instance's check on the pane's last row, when that row is free. */
static void check_line(tui_screen *s, const tui_view *v, const instance *it)
{
    int k = v->is_static ? -1 : tui_model_find_reg(v->m, it->addr);
    if (k < 0 || !v->m->reg[k].inst.status[0])
        return;
    char text[600];
    int pair = tui_draw_check(v->m, &v->m->reg[k], clock_now_ms(), text, sizeof text);
    WINDOW *w = s->inst;
    int y = getmaxy(w) - 2, x = inst_cols[C_ID].x;
    char id[64];
    snprintf(id, sizeof id, _("#%d check "), it->id);
    tui_draw_put(w, y, x, getmaxx(w) - 1 - x, A_DIM, "%s", id);
    x += tui_text_width(id);
    tui_draw_put(w, y, x, getmaxx(w) - 1 - x, tui_draw_attr(s, pair, A_NORMAL), "%s", text);
}

static void draw_instances(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->inst;
    tui_draw_frame(s, w, "instances", _("Instances"));
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 3;
    attr_t head = tui_draw_attr(s, PAIR_HEAD, A_BOLD);
    for (int c = 0; c < NCOLS; c++)
        put_col(w, 1, c, head, _(inst_cols[c].head));
    size_t n, nnew = 0;
    const instance *in = supervisor_instances(v->sup, &n);
    for (size_t i = 0; i < v->nstarting; i++)
        nnew += v->starting[i].id == 0;
    if (n == 0 && nnew == 0) {
        tui_draw_wrap(w, 2, 2, inner - 1, 0, 0, rows,
                      A_DIM, _("no servers yet: press j (JSON-RPC), b (gob), c (gRPC), o (orders) or u (users)"));
        wnoutrefresh(w);
        return;
    }
    int first = first_row(v, rows), r = 0;
    for (; r < rows && first + r < (int)n; r++)
        instance_row(s, v, 2 + r, &in[first + r], first + r == v->selected);
    s->inst_first = first;
    s->inst_shown = r;
    /* new servers on their way up: the ids they will get, in order */
    int next = (int)n + 1, hidden = 0;
    for (size_t i = 0; i < v->nstarting; i++) {
        if (v->starting[i].id)
            continue;
        if (r >= rows) {
            hidden++;
            continue;
        }
        char id[16];
        snprintf(id, sizeof id, "%d", next++);
        put_col(w, 2 + r, C_ID, A_DIM, id);
        put_col(w, 2 + r, C_PROTO, A_DIM, v->starting[i].kind);
        put_col(w, 2 + r, C_ADDR, A_DIM, "...");
        put_col(w, 2 + r, C_PID, A_DIM, "-");
        put_col(w, 2 + r, C_STATE, tui_draw_attr(s, PAIR_PAUSE, A_BOLD), _("starting"));
        r++;
    }
    if (r < rows && v->selected >= 0 && v->selected < (int)n)
        check_line(s, v, &in[v->selected]);
    int below = (int)n - first - rows;
    tui_draw_more(w, first, (below > 0 ? below : 0) + hidden);
    wnoutrefresh(w);
}

int tui_draw_instance_at(const tui_screen *s, const tui_view *v, int y, int x)
{
    if (!s->inst || v->help || (v->lesson && v->lesson->mine) || !wenclose(s->inst, y, x))
        return -1;
    int rows = getmaxy(s->inst) - 3, r = y - getbegy(s->inst) - 2;
    size_t n;
    supervisor_instances(v->sup, &n);
    int i = first_row(v, rows) + r;
    return r >= 0 && r < rows && i < (int)n ? i : -1;
}

/* A share as a bar of width cells. */
static void put_bar(tui_screen *s, WINDOW *w, int y, int x, int width, double share)
{
    int fill = (int)(share * width / 100.0 + 0.5);
    char bar[1024];
    size_t p = 0;
    for (int k = 0; k < width && p < sizeof bar - 4; k++) {
        const char *g = k < fill ? (s->utf8 ? "█" : "#") : (s->utf8 ? "░" : ".");
        size_t gl = strlen(g);
        memcpy(bar + p, g, gl);
        p += gl;
    }
    bar[p] = '\0';
    tui_draw_put(w, y, x, width, tui_draw_attr(s, PAIR_BAR, A_BOLD), "%s", bar);
}

/* One instance's share at y,x in width columns: "#1  ADDRESS  bar  share  rate", or, when
 * compact, "#1 bar share rate" (the Instances pane has the address). id: its instance's,
 * 0 when it is no instance of this workbench. */
static void traffic_cell(tui_screen *s, const tui_traffic_row *row, int id, int y, int x, int width, bool compact)
{
    WINDOW *w = s->traffic;
    char label[32] = "";
    if (id)
        snprintf(label, sizeof label, "#%d", id);
    else if (compact && strrchr(row->addr, ':'))
        snprintf(label, sizeof label, "%s", strrchr(row->addr, ':'));
    int lw = compact ? (id ? 4 : 7) : 26, tail = 17, barw = width - lw - tail;
    if (barw < 4)
        barw = 4;
    if (compact)
        tui_draw_put(w, y, x, lw, A_NORMAL, "%s", label);
    else
        tui_draw_put(w, y, x, lw, A_NORMAL, "%-3s %-21s", label, row->addr);
    put_bar(s, w, y, x + lw, barw, row->share);
    tui_draw_put(w, y, x + lw + barw, width - lw - barw, A_NORMAL, " %5.1f%% %7.1f/s", row->share, row->rate);
}

/* The first max Traffic rows to show into row[] and id[]: those of this workbench's
 * instances in the order of their ids, then the others in the order first called. One
 * look-up per instance here (at most 64) and one pass over the rows: the cost of a
 * drawing grows with the rows shown, not with the rows. Returns how many. */
static size_t rows_to_show(const tui_view *v, const tui_traffic_row **row, int *id, size_t max)
{
    const tui_traffic *t = &v->m->traffic;
    size_t n, k = 0;
    const instance *in = supervisor_instances(v->sup, &n);
    tui_index ours = {0}; /* the instances here by address */
    if (n && tui_index_init(&ours, n) == 0)
        tui_index_rebuild(&ours, in[0].addr, sizeof in[0], n);
    for (size_t i = 0; i < n && k < max; i++) { /* in the order of their ids */
        const tui_traffic_row *r = tui_model_traffic_row(v->m, in[i].addr);
        if (r && tui_index_find(&ours, in[i].addr, in[0].addr, sizeof in[0]) == (int)i) {
            row[k] = r;
            id[k++] = in[i].id;
        }
    }
    for (size_t i = 0; i < t->nrows && k < max; i++)
        if (!n || tui_index_find(&ours, t->rows[i].addr, in[0].addr, sizeof in[0]) < 0) {
            row[k] = &t->rows[i];
            id[k++] = 0;
        }
    tui_index_done(&ours);
    return k;
}

static void draw_traffic(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->traffic;
    const char *title = _(TRAFFIC_TITLE_LONG);
    if (tui_text_width(title) + 6 > getmaxx(w))
        title = _(TRAFFIC_TITLE);
    tui_draw_frame(s, w, "traffic", title);
    const tui_traffic *t = &v->m->traffic;
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 4;
    const char *onoff = t->on ? _("load ON ") : _("load off");
    int ow = tui_text_width(onoff);
    tui_draw_put(w, 1, 2, inner - 1, t->on ? tui_draw_attr(s, PAIR_RUN, A_BOLD) | A_BOLD : A_DIM, "%s", onoff);
    tui_draw_put(w, 1, 3 + ow, inner - 2 - ow, A_NORMAL, _("%s at %d/s   now %.1f calls/s"), v->load_desc, t->rate,
                 t->calls_s);
    tui_draw_put(w, 2, 2, inner - 1, t->failed ? tui_draw_attr(s, PAIR_BAD, A_BOLD) : A_NORMAL,
                 _("failed %llu (%.1f/s)  retried %llu  errors %llu  p50 %.3f ms  p99 %.3f ms"),
                 (unsigned long long)t->failed, t->failed_s, (unsigned long long)t->retried,
                 (unsigned long long)t->remote_errors, t->p50_us / 1000.0, t->p99_us / 1000.0);
    if (t->nrows == 0) {
        tui_draw_put(w, 3, 2, inner - 1, A_DIM, "%s",
                     t->on ? _("no registered instance to call yet") : _("press l to start the load"));
        wnoutrefresh(w);
        return;
    }
    int y = 3;
    if (t->calls_left_out && rows > 1) { /* the counters' table is full */
        tui_draw_put(w, y++, 2, inner - 1, tui_draw_attr(s, PAIR_BAD, A_BOLD),
                     _("%llu calls to instances past the first %d are not counted per instance"),
                     (unsigned long long)t->calls_left_out, TUI_MAX_ADDRS);
        rows--;
    }
    /* two to a line when one to a line does not fit and the pane is wide enough */
    enum { COMPACT_MIN = 34, MAX_SHOWN = 512 };
    int per = (int)t->nrows > rows && (inner - 2) / 2 >= COMPACT_MIN ? 2 : 1;
    int cw = per == 2 ? (inner - 2) / 2 - 1 : inner - 2, shown = 0;
    const tui_traffic_row *row[MAX_SHOWN];
    int id[MAX_SHOWN];
    size_t room = rows > 0 ? (size_t)(rows * per) : 0;
    int nshow = (int)rows_to_show(v, row, id, room < MAX_SHOWN ? room : MAX_SHOWN);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < per && shown < nshow; c++, shown++)
            traffic_cell(s, row[shown], id[shown], y + r, 2 + c * (cw + 2), cw, per == 2);
    tui_draw_more(w, 0, (int)t->nrows - shown);
    wnoutrefresh(w);
}

/* A Consul entry in the Registry pane at y (maxlines rows left): its key, protocol and
 * age, then its check indented, cut to the pane. Returns the rows used. */
static int consul_entry(tui_screen *s, WINDOW *w, int y, int inner, int maxlines, const tui_model *m,
                        const tui_reg_entry *e, uint64_t now)
{
    const registry_instance *ri = &e->inst;
    char line[600];
    snprintf(line, sizeof line, _("%s/%s %-4s age %llus"), ri->service, ri->addr, ri->protocol,
             (unsigned long long)((now - e->since_ms) / 1000));
    if (tui_text_width(line) > inner) /* narrow: the key and its protocol */
        snprintf(line, sizeof line, "%s/%s %s", ri->service, ri->addr, ri->protocol);
    int used = tui_draw_wrap(w, y, 1, inner, 2, 0, maxlines, A_NORMAL, line);
    if (used >= maxlines)
        return used;
    int pair = tui_draw_check(m, e, now, line, sizeof line);
    tui_draw_put(w, y + used, 3, inner - 2, tui_draw_attr(s, pair, A_NORMAL), "%s", line);
    return used + 1;
}

/* When the model had no room for n entries, a line at y saying so (rows left: room).
 * Returns the rows used. */
static int left_out_line(tui_screen *s, WINDOW *w, int y, int inner, int room, size_t n)
{
    if (!n || room <= 0)
        return 0;
    char line[200];
    snprintf(line, sizeof line,
             ngettext("%zu entry left out: the workbench holds %d", "%zu entries left out: the workbench holds %d", n),
             n, TUI_MAX_ADDRS);
    return tui_draw_wrap(w, y, 1, inner, 2, 0, room, tui_draw_attr(s, PAIR_BAD, A_BOLD), line);
}

static void draw_registry(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->reg;
    tui_draw_frame(s, w, "registry", _("Registry"));
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 2, y = 0, k = 0;
    const tui_model *m = v->m;
    char line[600];
    if (v->is_static) {
        snprintf(line, sizeof line, ngettext("%s: %zu server", "%s: %zu servers", m->nstatics), v->registry,
                 m->nstatics);
        y += tui_draw_wrap(w, 1, 1, inner, 2, 0, rows, A_NORMAL, line);
        y += left_out_line(s, w, 1 + y, inner, rows - y, m->statics_left_out);
        for (; k < (int)m->nstatics && y < rows; k++) {
            snprintf(line, sizeof line, _("%s %-4s alive, started here"), m->statics[k].addr,
                     short_proto(m->statics[k].proto));
            y += tui_draw_wrap(w, 1 + y, 1, inner, 2, 0, rows - y, A_NORMAL, line);
        }
        tui_draw_more(w, 0, (int)m->nstatics - k);
        wnoutrefresh(w);
        return;
    }
    const char *watch = m->watch_ok ? _("live") : _("unreachable");
    snprintf(line, sizeof line, ngettext("%s watch %s %zu key", "%s watch %s %zu keys", m->nreg), v->registry, watch,
             m->nreg);
    if (tui_text_width(line) > inner) /* the title bar names the registry */
        snprintf(line, sizeof line, ngettext("watch %s, %zu key", "watch %s, %zu keys", m->nreg), watch, m->nreg);
    y += tui_draw_wrap(w, 1, 1, inner, 2, 0, rows, m->watch_ok ? A_NORMAL : tui_draw_attr(s, PAIR_BAD, A_BOLD), line);
    y += left_out_line(s, w, 1 + y, inner, rows - y, m->reg_left_out);
    uint64_t now = clock_now_ms();
    for (; k < (int)m->nreg && y < rows; k++) {
        const registry_instance *ri = &m->reg[k].inst;
        if (ri->status[0]) { /* Consul: no lease, the check instead */
            y += consul_entry(s, w, 1 + y, inner, rows - y, m, &m->reg[k], now);
            continue;
        }
        unsigned long long age = (now - m->reg[k].since_ms) / 1000;
        if (ri->instance[0]) /* mDNS: an instance name and its records' TTL, no key */
            snprintf(line, sizeof line, _("%s %s %-4s age %llus TTL %us"), ri->instance, ri->addr, ri->protocol, age,
                     (unsigned)ri->ttl);
        else
            snprintf(line, sizeof line, _("%s/%s %-4s age %llus lease %016llx"), ri->service, ri->addr, ri->protocol,
                     age, (unsigned long long)ri->lease);
        if (tui_text_width(line) > inner) /* narrow: the key and its protocol */
            snprintf(line, sizeof line, "%s/%s %s", ri->service, ri->addr, ri->protocol);
        y += tui_draw_wrap(w, 1 + y, 1, inner, 2, 0, rows - y, A_NORMAL, line);
    }
    tui_draw_more(w, 0, (int)m->nreg - k);
    wnoutrefresh(w);
}

/* A Timeline line's colour: failures red, registry events cyan. */
static attr_t event_attr(const tui_screen *s, const char *what)
{
    static const char *const bad[] = {"SIGKILL", N_("failed"), N_("unreachable")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strstr(what, bad[i]) || strstr(what, _(bad[i])))
            return tui_draw_attr(s, PAIR_BAD, A_BOLD);
    if (strstr(what, "registry") || strstr(what, _("registry")))
        return tui_draw_attr(s, PAIR_HEAD, A_NORMAL);
    return A_NORMAL;
}

/* The newest events that fit, each wrapped under its time, tl_scroll events back from the
 * newest; the oldest of them is shown from its end when even the newest alone is too long. */
static void draw_timeline(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->timeline;
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 2, tw = inner - TIME_COLS;
    size_t n;
    const sup_event *ev = supervisor_timeline(v->sup, &n);
    size_t back = v->tl_scroll > 0 ? (size_t)v->tl_scroll : 0;
    if (back + 1 > n)
        back = n > 0 ? n - 1 : 0;
    char title[96];
    if (back)
        snprintf(title, sizeof title, _("Timeline (%zu newer below: End)"), back);
    tui_draw_frame(s, w, "timeline", back ? title : _("Timeline"));
    size_t end = n - back, first = end;
    int used = 0, skip = 0;
    while (first > 0) {
        int nl = tui_text_nlines(ev[first - 1].what, tw, 0);
        if (used + nl > rows) {
            if (used == 0) /* the newest alone is too long: its end */
                first--, skip = nl - rows, used = rows;
            break;
        }
        used += nl;
        first--;
    }
    s->timeline_shown = (int)(end - first);
    int y = 1;
    for (size_t i = first; i < end; i++) {
        const char *what = ev[i].what;
        attr_t a = event_attr(s, what);
        if (!skip) {
            double d = ((double)ev[i].at_ms - (double)v->m->start_ms) / 1000.0;
            tui_draw_put(w, y, 1, TIME_COLS, a, "%+6.1fs ", d);
        }
        y += tui_draw_wrap(w, y, 1 + TIME_COLS, tw, 0, skip, rows + 1 - y, a, what);
        skip = 0;
    }
    wnoutrefresh(w);
}

/* The key hints that fit in cols: from the right, those before the last two ("? help",
 * "q quit") go first. Sets keep[i] and returns the separator. */
static const char *fit_hints(const tui_view *v, int cols, bool *keep)
{
    int total = 0, nbar = 0;
    for (size_t i = 0; i < v->nkeys; i++) {
        keep[i] = v->keys[i].bar != NULL;
        if (keep[i])
            total += tui_text_width(v->keys[i].bar), nbar++;
    }
    if (total + 2 * (nbar - 1) <= cols)
        return "  ";
    int seen = 0;
    for (size_t i = v->nkeys; i-- > 0 && total + nbar - 1 > cols;) {
        if (!keep[i] || ++seen <= 2)
            continue;
        keep[i] = false;
        total -= tui_text_width(v->keys[i].bar);
        nbar--;
    }
    return " ";
}

static void draw_status(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->status;
    int cols = getmaxx(w);
    werase(w);
    wbkgd(w, tui_draw_attr(s, PAIR_TITLE, A_REVERSE));
    if (v->cmd && v->cmd->active) {
        /* keep the cursor on screen: show the end of a line longer than the bar */
        int skip = 1 + v->cmd->point_cols >= cols ? 2 + v->cmd->point_cols - cols : 0;
        const char *line = v->cmd->line;
        for (int k = 0; k < skip && *line; k++)
            line++;
        tui_draw_put(w, 0, 0, cols, A_BOLD, ":%s", line);
        if (v->cmd->matches[0]) {
            int x = 2 + tui_text_width(line);
            tui_draw_put(w, 0, x, cols - x, A_NORMAL, " %s", v->cmd->matches);
        }
        wnoutrefresh(w);
        return;
    }
    if (v->message && v->message[0]) {
        tui_draw_put(w, 0, 0, cols, A_BOLD, " %s", v->message);
        wnoutrefresh(w);
        return;
    }
    bool keep[64] = {false};
    const char *sep = fit_hints(v, cols, keep);
    int x = 0;
    for (size_t i = 0; i < v->nkeys && i < 64 && x < cols; i++) {
        const char *b = v->keys[i].bar;
        if (!keep[i])
            continue;
        const char *sp = strchr(b, ' ');
        int kl = sp ? (int)(sp - b) : (int)strlen(b);
        char key[32];
        snprintf(key, sizeof key, "%s%.*s", x ? sep : "", kl, b);
        tui_draw_put(w, 0, x, cols - x, A_BOLD, "%s", key);
        x += tui_text_width(key);
        if (sp) {
            tui_draw_put(w, 0, x, cols - x, A_NORMAL, "%s", sp);
            x += tui_text_width(sp);
        }
    }
    wnoutrefresh(w);
}

void tui_draw_init(tui_screen *s)
{
    const char *nc = getenv("NO_COLOR");
    s->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    s->color = !(nc && nc[0]) && has_colors() && start_color() == OK;
    if (!s->color)
        return;
    short bg = use_default_colors() == OK ? -1 : COLOR_BLACK;
    init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
    init_pair(PAIR_RUN, COLOR_GREEN, bg);
    init_pair(PAIR_PAUSE, COLOR_YELLOW, bg);
    init_pair(PAIR_BAD, COLOR_RED, bg);
    init_pair(PAIR_STOP, COLOR_MAGENTA, bg);
    init_pair(PAIR_HEAD, COLOR_CYAN, bg);
    init_pair(PAIR_BAR, COLOR_GREEN, bg);
}

void tui_draw_done(tui_screen *s)
{
    WINDOW **all[] = {&s->title,  &s->inst, &s->traffic, &s->reg,   &s->timeline,
                      &s->status, &s->help, &s->wire,    &s->lesson,   &s->sniff};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i]) {
            delwin(*all[i]);
            *all[i] = NULL;
        }
}

/* Rows moved to a pane that needs more than it has: from the bottom panes down to
 * BOTTOM_MIN, then from the other pane's rows beyond its own need. */
static void grow(int *pane, int need, int *bottom, int *other, int other_need)
{
    int want = need - *pane;
    if (want <= 0)
        return;
    int from_bottom = *bottom - BOTTOM_MIN > 0 ? *bottom - BOTTOM_MIN : 0;
    int g = want < from_bottom ? want : from_bottom;
    *pane += g, *bottom -= g, want -= g;
    int spare = *other - (other_need > PANE_MIN ? other_need : PANE_MIN);
    g = want < spare ? want : spare;
    if (g > 0)
        *pane += g, *other -= g;
}

/* The usual panes in the rectangle at y,x of rows x cols: Instances and Traffic grow to
 * show every server (ninst, ntraffic rows) before the Registry and Timeline below. */
static void layout_panes(tui_screen *s, int y, int x, int rows, int cols, int ninst, int ntraffic)
{
    int ih = rows * 30 / 100 > PANE_MIN ? rows * 30 / 100 : PANE_MIN;
    int th = ih, bh = rows - ih - th;
    for (; bh < BOTTOM_MIN - 2 && th > 4; bh += 2) /* a short terminal: a line or two each */
        ih--, th--;
    int ineed = 3 + (ninst > 1 ? ninst : 1), tneed = 4 + (ntraffic > 1 ? ntraffic : 1);
    grow(&ih, ineed, &bh, &th, tneed);
    grow(&th, tneed, &bh, &ih, ineed);
    int rw = cols * 40 / 100;
    s->inst = newwin(ih, cols, y, x);
    s->traffic = newwin(th, cols, y + ih, x);
    s->reg = newwin(bh, rw, y + ih + th, x);
    s->timeline = newwin(bh, cols - rw, y + ih + th, x + rw);
}

void tui_draw_layout(tui_screen *s, const tui_layout *l)
{
    tui_draw_done(s);
    int rows = LINES, cols = COLS;
    snprintf(s->focus, sizeof s->focus, "%s", l->lesson && l->focus ? l->focus : "");
    s->small = rows < TUI_MIN_ROWS || cols < TUI_MIN_COLS;
    if (l->help || s->small) {
        s->help = newwin(rows, cols, 0, 0);
        return;
    }
    s->title = newwin(1, cols, 0, 0);
    s->status = newwin(1, cols, rows - 1, 0);
    int avail = rows - 2;
    if (l->lesson && cols >= TUI_LESSON_SIDE_COLS) {
        int lw = cols * 42 / 100 > 50 ? cols * 42 / 100 : 50;
        s->lesson = newwin(avail, lw, 1, cols - lw);
        if (l->wire)
            s->wire = newwin(avail, cols - lw, 1, 0);
        else if (l->sniff)
            s->sniff = newwin(avail, cols - lw, 1, 0);
        else
            layout_panes(s, 1, 0, avail, cols - lw, l->ninst, l->ntraffic);
        return;
    }
    if (l->lesson) { /* narrow: the step's pane above, the lesson below */
        int top = avail * 35 / 100 > 6 ? avail * 35 / 100 : 6;
        WINDOW *w = newwin(top, cols, 1, 0);
        if (l->wire)
            s->wire = w;
        else if (l->sniff)
            s->sniff = w;
        else if (!strcmp(s->focus, "traffic"))
            s->traffic = w;
        else if (!strcmp(s->focus, "registry"))
            s->reg = w;
        else if (!strcmp(s->focus, "timeline"))
            s->timeline = w;
        else
            s->inst = w;
        s->lesson = newwin(avail - top, cols, 1 + top, 0);
        return;
    }
    if (l->wire) {
        s->wire = newwin(avail, cols, 1, 0);
        return;
    }
    if (l->sniff) {
        s->sniff = newwin(avail, cols, 1, 0);
        return;
    }
    layout_panes(s, 1, 0, avail, cols, l->ninst, l->ntraffic);
}

void tui_draw(tui_screen *s, const tui_view *v, int dirty)
{
    if (!dirty)
        return;
    if (dirty & DIRTY_LAYOUT) {
        clearok(curscr, TRUE);
        wnoutrefresh(stdscr); /* blank behind the panes, and untouched for getch */
        dirty = DIRTY_ALL;
    }
    if (s->small && s->help) {
        werase(s->help);
        tui_draw_put(s->help, 0, 0, getmaxx(s->help), A_BOLD, _("RPC Workbench needs %dx%d or more"), TUI_MIN_COLS,
                     TUI_MIN_ROWS);
        tui_draw_put(s->help, 1, 0, getmaxx(s->help), A_NORMAL, _("(now %dx%d); q quits"), COLS, LINES);
        wnoutrefresh(s->help);
    } else if (v->hosts) {
        if (s->help)
            tui_draw_hosts(s, v);
    } else if (v->help) {
        if (s->help)
            tui_draw_help(s, v);
    } else if (s->title && s->status) {
        if (dirty & DIRTY_STATUS)
            draw_title(s, v), draw_status(s, v);
        if ((dirty & DIRTY_WIRE) && s->wire)
            tui_draw_wire(s, v);
        if ((dirty & DIRTY_SNIFF) && s->sniff)
            tui_draw_sniff(s, v);
        if ((dirty & DIRTY_INSTANCES) && s->inst && !tui_draw_lesson_instances(s, v->lesson))
            draw_instances(s, v);
        if ((dirty & DIRTY_TRAFFIC) && s->traffic)
            draw_traffic(s, v);
        if ((dirty & DIRTY_REGISTRY) && s->reg && !tui_draw_lesson_registry(s, v->lesson))
            draw_registry(s, v);
        if ((dirty & DIRTY_TIMELINE) && s->timeline)
            draw_timeline(s, v);
        if ((dirty & DIRTY_LESSON) && s->lesson && v->lesson)
            tui_draw_lesson(s, v->lesson, v->lesson_scroll);
        if (v->cmd && v->cmd->active) { /* the terminal's cursor at the line's point */
            int x = 1 + v->cmd->point_cols;
            wmove(s->status, 0, x < getmaxx(s->status) ? x : getmaxx(s->status) - 1);
            wnoutrefresh(s->status);
        }
    }
    doupdate();
}
