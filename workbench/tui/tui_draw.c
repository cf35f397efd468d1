/* tui_draw.c -- the TUI's panes: Instances, Traffic, Registry, Timeline, title, status, help. */
#include "tui_draw.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "tui_draw_int.h"
#include "wire/explain.h"

/* What the Instances and Traffic panes say about their counts (tui_addr_count's rule). */
#define COL_CALLS "calls"   /* answered, with a result or an error */
#define COL_ERRORS "errors" /* answered with an error */
#define COL_FAILED "failed" /* no answer: the connection failed */
#define TRAFFIC_TITLE_LONG "Traffic · the calls this workbench's load sent (not the gateway's) · " \
                           "round robin over every instance, whatever its protocol"
#define TRAFFIC_TITLE "Traffic · this workbench's load only · equal share per instance"

static const char *short_proto(rpc_proto p)
{
    return p == PROTO_GOB ? "gob" : p == PROTO_GRPC ? "grpc" : "json";
}

const char *tui_instance_kind(const instance *in)
{
    if (!in->program[0])
        return short_proto(in->proto);
    if (!strcmp(in->program, "gateway"))
        return "gw";
    return !strncmp(in->program, "order", 5) ? "order" : !strncmp(in->program, "user", 4) ? "user" : "svc";
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

static void frame(tui_screen *s, WINDOW *w, const char *title)
{
    werase(w);
    box(w, 0, 0);
    bool focus = s->focus[0] && strncasecmp(title, s->focus, strlen(s->focus)) == 0;
    if (focus)
        tui_draw_put(w, 0, 2, getmaxx(w) - 4, tui_draw_attr(s, PAIR_TITLE, A_REVERSE), " lesson ▸ %s ", title);
    else
        tui_draw_put(w, 0, 2, getmaxx(w) - 4, tui_draw_attr(s, PAIR_HEAD, A_BOLD), " %s ", title);
}

static int id_of_addr(const supervisor *sup, const char *addr)
{
    size_t n;
    const instance *in = supervisor_instances(sup, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(in[i].addr, addr) == 0)
            return in[i].id;
    return 0;
}

static void draw_title(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->title;
    int cols = getmaxx(w);
    werase(w);
    wbkgd(w, tui_draw_attr(s, PAIR_TITLE, A_REVERSE));
    tui_draw_put(w, 0, 0, cols, A_BOLD, " RPC Workbench");
    int x = 15;
    tui_draw_put(w, 0, x, cols - x, A_NORMAL, " · service %s · %s", v->service, v->registry);
    if (v->message[0]) {
        int len = (int)strlen(v->message);
        int mx = cols - len - 1 > cols / 2 ? cols - len - 1 : cols / 2;
        tui_draw_put(w, 0, mx, cols - mx, A_BOLD, " %s", v->message);
    }
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

/* The registry column: "reg 4s" (etcd: the lease's TTL left), Consul's check status,
 * "static" (on the load's list with no registry), or "-". */
static void reg_column(const tui_view *v, const instance *it, char *out, size_t cap)
{
    snprintf(out, cap, "-");
    if (v->is_static) {
        if (it->pid > 0 && tui_model_find_static(v->m, it->addr) >= 0)
            snprintf(out, cap, "static");
        return;
    }
    int k = tui_model_find_reg(v->m, it->addr);
    if (k < 0)
        return;
    const tui_reg_entry *e = &v->m->reg[k];
    if (e->inst.status[0])
        snprintf(out, cap, "%.8s", e->inst.status);
    else if (e->ttl >= 0)
        snprintf(out, cap, "reg %llds", (long long)e->ttl);
    else
        snprintf(out, cap, "reg");
}

static void draw_instances(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->inst;
    frame(s, w, "Instances");
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 3;
    enum { X_STATE = 39, X_REG = 48, X_CALLS = 57 };
    tui_draw_put(w, 1, 1, inner, tui_draw_attr(s, PAIR_HEAD, A_BOLD), " %-3s %-5s %-18s %7s %-8s %-8s %7s %6s %6s", "#",
        "proto", "address", "pid", "state", "registry", COL_CALLS, COL_ERRORS, COL_FAILED);
    size_t n, nnew = 0;
    const instance *in = supervisor_instances(v->sup, &n);
    for (size_t i = 0; i < v->nstarting; i++)
        nnew += v->starting[i].id == 0;
    if (n == 0 && nnew == 0) {
        tui_draw_put(w, 2, 2, inner - 1, A_DIM, "no servers yet: press j (JSON-RPC), b (gob), c (gRPC), o (orders) or u (users)");
        wnoutrefresh(w);
        return;
    }
    int first = first_row(v, rows), r = 0;
    for (; r < rows && first + r < (int)n; r++) {
        const instance *it = &in[first + r];
        bool sel = first + r == v->selected, up = starting(v, it->id);
        char reg[32];
        reg_column(v, it, reg, sizeof reg);
        uint64_t calls, errors, failed;
        tui_model_addr_counts(v->m, it->addr, &calls, &errors, &failed);
        char pid[16] = "-";
        if (it->pid > 0)
            snprintf(pid, sizeof pid, "%d", (int)it->pid);
        attr_t base = sel ? A_REVERSE : A_NORMAL;
        if (sel)
            mvwchgat(w, 2 + r, 1, inner, A_REVERSE, 0, NULL);
        tui_draw_put(w, 2 + r, 1, inner, base, "%s%-3d %-5s %-18s %7s ", sel ? (s->utf8 ? "▶" : ">") : " ", it->id,
            tui_instance_kind(it), it->addr, pid);
        tui_draw_put(w, 2 + r, X_STATE, inner + 1 - X_STATE, base | (up ? tui_draw_attr(s, PAIR_PAUSE, A_BOLD) : state_attr(s, it->state)),
            "%-8s", up ? "starting" : supervisor_state_name(it->state));
        tui_draw_put(w, 2 + r, X_REG, inner + 1 - X_REG, base | (reg[0] != '-' ? tui_draw_attr(s, PAIR_RUN, A_NORMAL) : A_DIM),
            "%-8s", reg);
        if (!tui_model_called(v->m, it->addr)) { /* the load never called it: nothing counted */
            tui_draw_put(w, 2 + r, X_CALLS, inner + 1 - X_CALLS, base | A_DIM, "%7s %6s %6s", "-", "-", "-");
            continue;
        }
        tui_draw_put(w, 2 + r, X_CALLS, inner + 1 - X_CALLS, base, "%7llu", (unsigned long long)calls);
        tui_draw_put(w, 2 + r, X_CALLS + 8, inner - 7 - X_CALLS, base | (errors ? tui_draw_attr(s, PAIR_PAUSE, A_BOLD) : 0),
            "%6llu", (unsigned long long)errors);
        tui_draw_put(w, 2 + r, X_CALLS + 15, inner - 14 - X_CALLS, base | (failed ? tui_draw_attr(s, PAIR_BAD, A_BOLD) : 0),
            "%6llu", (unsigned long long)failed);
    }
    /* new servers on their way up: the ids they will get, in order */
    int next = (int)n + 1;
    for (size_t i = 0; i < v->nstarting && r < rows; i++) {
        if (v->starting[i].id)
            continue;
        tui_draw_put(w, 2 + r, 1, inner, A_DIM, " %-3d %-5s %-18s %7s ", next++, v->starting[i].kind, "...", "-");
        tui_draw_put(w, 2 + r, X_STATE, inner + 1 - X_STATE, tui_draw_attr(s, PAIR_PAUSE, A_BOLD), "%-8s", "starting");
        r++;
    }
    wnoutrefresh(w);
}

int tui_draw_instance_at(const tui_screen *s, const tui_view *v, int y, int x)
{
    if (!s->inst || v->help || !wenclose(s->inst, y, x))
        return -1;
    int rows = getmaxy(s->inst) - 3, r = y - getbegy(s->inst) - 2;
    size_t n;
    supervisor_instances(v->sup, &n);
    int i = first_row(v, rows) + r;
    return r >= 0 && r < rows && i < (int)n ? i : -1;
}

static void draw_traffic(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->traffic;
    frame(s, w, (int)utf8_width(TRAFFIC_TITLE_LONG, strlen(TRAFFIC_TITLE_LONG)) + 6 <= getmaxx(w) ? TRAFFIC_TITLE_LONG
                                                                                           : TRAFFIC_TITLE);
    const tui_traffic *t = &v->m->traffic;
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 4;
    tui_draw_put(w, 1, 2, inner - 1, t->on ? tui_draw_attr(s, PAIR_RUN, A_BOLD) | A_BOLD : A_DIM, "load %s", t->on ? "ON " : "off");
    tui_draw_put(w, 1, 11, inner - 10, A_NORMAL, "%s at %d/s   now %.1f calls/s", v->load_desc, t->rate, t->calls_s);
    tui_draw_put(w, 2, 2, inner - 1, t->failed ? tui_draw_attr(s, PAIR_BAD, A_BOLD) : A_NORMAL,
        "failed %llu (%.1f/s)  retried %llu  errors %llu  p50 %.3f ms  p99 %.3f ms",
        (unsigned long long)t->failed, t->failed_s, (unsigned long long)t->retried,
        (unsigned long long)t->remote_errors, t->p50_us / 1000.0, t->p99_us / 1000.0);
    int barw = inner - 48;
    if (barw < 4)
        barw = 4;
    for (int r = 0; r < rows && r < (int)t->nrows; r++) {
        const tui_traffic_row *row = &t->rows[r];
        int id = id_of_addr(v->sup, row->addr);
        char label[16] = "";
        if (id)
            snprintf(label, sizeof label, "#%d", id);
        tui_draw_put(w, 3 + r, 2, inner - 1, A_NORMAL, "%-3s %-21s", label, row->addr);
        int fill = (int)(row->share * barw / 100.0 + 0.5);
        char bar[1024];
        size_t p = 0;
        for (int k = 0; k < barw && p < sizeof bar - 4; k++) {
            const char *g = k < fill ? (s->utf8 ? "█" : "#") : (s->utf8 ? "░" : ".");
            size_t gl = strlen(g);
            memcpy(bar + p, g, gl);
            p += gl;
        }
        bar[p] = '\0';
        tui_draw_put(w, 3 + r, 28, inner - 27, tui_draw_attr(s, PAIR_BAR, A_BOLD), "%s", bar);
        tui_draw_put(w, 3 + r, 28 + barw, inner - 27 - barw, A_NORMAL, " %5.1f%% %8.1f/s", row->share, row->rate);
    }
    if (t->nrows == 0)
        tui_draw_put(w, 3, 2, inner - 1, A_DIM, t->on ? "no registered instance to call yet" : "press l to start the load");
    wnoutrefresh(w);
}

static void draw_registry(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->reg;
    frame(s, w, "Registry");
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 3;
    const tui_model *m = v->m;
    if (v->is_static) {
        tui_draw_put(w, 1, 1, inner, A_NORMAL, "%s: %zu server%s", v->registry, m->nstatics, m->nstatics == 1 ? "" : "s");
        for (int r = 0; r < rows && r < (int)m->nstatics; r++)
            tui_draw_put(w, 2 + r, 1, inner, A_NORMAL, "%s %-4s alive, started here", m->statics[r].addr,
                short_proto(m->statics[r].proto));
        wnoutrefresh(w);
        return;
    }
    tui_draw_put(w, 1, 1, inner, m->watch_ok ? A_NORMAL : tui_draw_attr(s, PAIR_BAD, A_BOLD), "%s watch %s %zu key%s",
        v->registry, m->watch_ok ? "live" : "unreachable", m->nreg, m->nreg == 1 ? "" : "s");
    uint64_t now = clock_now_ms();
    for (int r = 0; r < rows && r < (int)m->nreg; r++) {
        const registry_instance *ri = &m->reg[r].inst;
        tui_draw_put(w, 2 + r, 1, inner, A_NORMAL, "%s/%s %-4s age %llus lease %016llx", ri->service, ri->addr, ri->protocol,
            (unsigned long long)((now - m->reg[r].since_ms) / 1000), (unsigned long long)ri->lease);
    }
    wnoutrefresh(w);
}

static void draw_timeline(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->timeline;
    frame(s, w, "Timeline");
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 2;
    size_t n;
    const sup_event *ev = supervisor_timeline(v->sup, &n);
    size_t back = v->tl_scroll > 0 ? (size_t)v->tl_scroll : 0;
    if (back + (size_t)rows > n)
        back = n > (size_t)rows ? n - (size_t)rows : 0;
    if (back) {
        char title[64];
        snprintf(title, sizeof title, "Timeline (%zu newer below: End)", back);
        frame(s, w, title);
    }
    n -= back;
    size_t first = n > (size_t)rows ? n - (size_t)rows : 0;
    for (size_t i = first; i < n; i++) {
        double d = ((double)ev[i].at_ms - (double)v->m->start_ms) / 1000.0;
        const char *what = ev[i].what;
        attr_t a = strstr(what, "SIGKILL") || strstr(what, "failed") || strstr(what, "unreachable")
                       ? tui_draw_attr(s, PAIR_BAD, A_BOLD)
                   : strstr(what, "registry") ? tui_draw_attr(s, PAIR_HEAD, A_NORMAL) : A_NORMAL;
        tui_draw_put(w, 1 + (int)(i - first), 1, inner, a, "%+6.1fs %s", d, what);
    }
    wnoutrefresh(w);
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
            int x = 2 + (int)utf8_width(line, strlen(line));
            tui_draw_put(w, 0, x, cols - x, A_NORMAL, " %s", v->cmd->matches);
        }
        wnoutrefresh(w);
        return;
    }
    if (v->status_message && v->status_message[0]) {
        tui_draw_put(w, 0, 0, cols, A_BOLD, " %s", v->status_message);
        wnoutrefresh(w);
        return;
    }
    int total = 0, nbar = 0;
    for (size_t i = 0; i < v->nkeys; i++)
        if (v->keys[i].bar) {
            int wd = (int)mbstowcs(NULL, v->keys[i].bar, 0);
            total += wd > 0 ? wd : (int)strlen(v->keys[i].bar);
            nbar++;
        }
    const char *sep = total + 2 * (nbar - 1) <= cols ? "  " : " ";
    int x = 0;
    for (size_t i = 0; i < v->nkeys && x < cols; i++) {
        const char *b = v->keys[i].bar;
        if (!b)
            continue;
        const char *sp = strchr(b, ' ');
        int kl = sp ? (int)(sp - b) : (int)strlen(b);
        char key[32];
        snprintf(key, sizeof key, "%s%.*s", x ? sep : "", kl, b);
        tui_draw_put(w, 0, x, cols - x, A_BOLD, "%s", key);
        int kw = (int)mbstowcs(NULL, key, 0);
        x += kw > 0 ? kw : (int)strlen(key);
        if (sp) {
            tui_draw_put(w, 0, x, cols - x, A_NORMAL, "%s", sp);
            x += (int)strlen(sp);
        }
    }
    wnoutrefresh(w);
}

static attr_t class_attr(const tui_screen *s, span_class c)
{
    switch (c) {
    case SPAN_FRAME: return tui_draw_attr(s, PAIR_HEAD, A_NORMAL);
    case SPAN_TYPE: return tui_draw_attr(s, PAIR_STOP, A_NORMAL);
    case SPAN_DATA: return tui_draw_attr(s, PAIR_RUN, A_BOLD);
    default: return tui_draw_attr(s, PAIR_BAD, A_BOLD);
    }
}

/* One protocol's dump in a column: header, totals, then one line per span. */
static void draw_wire_lane(tui_screen *s, const tui_wire *wi, int lane, int x, int cw, int top, int rows)
{
    WINDOW *w = s->wire;
    const tui_wire_lane *l = &wi->lanes[lane];
    int d = wi->response;
    bool sel = lane == wi->sel;
    const buf *b = &l->bytes[d];
    tui_draw_put(w, top, x, cw, sel ? A_BOLD | A_UNDERLINE : A_BOLD, "%s%s %s · %zu bytes%s%s", sel ? (s->utf8 ? "▶ " : "> ") : "",
        l->label, d ? "response" : "request", buf_size(b), l->addr[0] ? " · " : "", l->addr);
    if (!l->have) {
        tui_draw_put_wrapped(w, top + 2, x, cw, 3, A_DIM, l->note);
        return;
    }
    size_t t[4];
    tui_wire_totals(wi, lane, t);
    tui_draw_put(w, top + 1, x, cw, A_NORMAL, "framing %zu · type information %zu · payload %zu", t[0], t[1], t[2]);
    const explain *e = &l->ex[d];
    int list = rows - 2;
    if (list <= 0)
        return;
    size_t cur = l->cursor[d], first = 0;
    if (e->len > (size_t)list && cur >= (size_t)list / 2) {
        first = cur - (size_t)list / 2;
        if (first + (size_t)list > e->len)
            first = e->len - (size_t)list;
    }
    const uint8_t *bytes = buf_data(b);
    for (int r = 0; r < list && first + (size_t)r < e->len; r++) {
        size_t i = first + (size_t)r;
        const span *sp = &e->spans[i];
        bool leaf = i + 1 >= e->len || e->spans[i + 1].depth <= sp->depth;
        char hex[32] = "";
        if (!leaf || sp->len > 4)
            snprintf(hex, sizeof hex, "[%zu bytes]", sp->len);
        else
            for (size_t k = 0, p = 0; k < sp->len && sp->off + k < buf_size(b); k++)
                p += (size_t)snprintf(hex + p, sizeof hex - p, "%s%02x", k ? " " : "", bytes[sp->off + k]);
        int depth = sp->depth > 6 ? 6 : sp->depth;
        attr_t a = i == cur ? A_REVERSE | (sel ? A_BOLD : 0) : leaf ? class_attr(s, sp->cls) : A_DIM;
        if (i == cur)
            mvwchgat(w, top + 2 + r, x, cw, a, 0, NULL);
        tui_draw_put(w, top + 2 + r, x, cw, a, "%04zx %-11s %*s%s", sp->off, hex, depth, "", sp->meaning);
    }
}

static void draw_wire(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->wire;
    const tui_wire *wi = v->wire;
    char title[1300];
    snprintf(title, sizeof title, "Wire — %s %s, each protocol on a new connection — %s", wi->method, wi->args,
             wi->response ? "response" : "request");
    frame(s, w, title);
    int inner = getmaxx(w) - 2, h = getmaxy(w) - 2;
    if (wi->busy) {
        tui_draw_put(w, 2, 2, inner - 1, A_BOLD, "making the call in gob, JSON-RPC and gRPC...");
        wnoutrefresh(w);
        return;
    }
    enum { MIN_COL = 44, GAP = 2 };
    int ncols = inner >= 3 * MIN_COL + 2 * GAP ? 3 : 1;
    int cw = ncols == 3 ? (inner - 2 * GAP) / 3 : inner;
    int rows = h - 4; /* the meaning and the keys below */
    for (int c = 0; c < ncols; c++) {
        int lane = ncols == 3 ? c : wi->sel;
        draw_wire_lane(s, wi, lane, 1 + c * (cw + GAP), cw, 1, rows);
    }
    const tui_wire_lane *l = &wi->lanes[wi->sel];
    const span *sp = tui_wire_current(wi, wi->sel);
    int y = 1 + rows;
    mvwhline(w, y, 1, s->utf8 ? ACS_HLINE : '-', inner);
    if (sp) {
        char text[1200];
        snprintf(text, sizeof text, "%s %s at %04zx, %zu byte%s · %s: %s", l->label,
                 wi->response ? "response" : "request", sp->off, sp->len, sp->len == 1 ? "" : "s", sp->layer,
                 sp->meaning);
        tui_draw_put_wrapped(w, y + 1, 1, inner, 2, A_BOLD, text);
    }
    tui_draw_put(w, y + 3, 1, inner, A_DIM, "←→ move over the spans  %s  x request/response  w close",
        ncols == 3 ? "Tab/1/2/3 protocol" : "Tab/1/2/3 show gob, JSON-RPC, gRPC");
    wnoutrefresh(w);
}

static void draw_help(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->help;
    frame(s, w, "Help — any key closes");
    int inner = getmaxx(w) - 2, y = 2;
    tui_draw_put(w, 1, 2, inner - 1, A_BOLD, "RPC Workbench: spawn servers, put load on them, kill them, watch the failover.");
    for (size_t i = 0; i < v->nkeys && y < getmaxy(w) - 1; i++) {
        if (!v->keys[i].help[0])
            continue; /* a second key of the line before */
        tui_draw_put(w, y, 4, 10, A_BOLD, "%s", v->keys[i].label);
        tui_draw_put(w, y, 14, inner - 13, A_NORMAL, "%s", v->keys[i].help);
        y++;
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
                      &s->status, &s->help, &s->wire,    &s->lesson};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i]) {
            delwin(*all[i]);
            *all[i] = NULL;
        }
}

/* The usual panes in the rectangle at y,x of rows x cols. */
static void layout_panes(tui_screen *s, int y, int x, int rows, int cols)
{
    int ih = rows * 30 / 100 > 7 ? rows * 30 / 100 : 7;
    int th = rows * 30 / 100 > 7 ? rows * 30 / 100 : 7;
    int bh = rows - ih - th;
    int rw = cols * 40 / 100;
    s->inst = newwin(ih, cols, y, x);
    s->traffic = newwin(th, cols, y + ih, x);
    s->reg = newwin(bh, rw, y + ih + th, x);
    s->timeline = newwin(bh, cols - rw, y + ih + th, x + rw);
}

void tui_draw_layout(tui_screen *s, bool help, bool wire, bool with_lesson, const char *focus)
{
    tui_draw_done(s);
    int rows = LINES, cols = COLS;
    snprintf(s->focus, sizeof s->focus, "%s", with_lesson && focus ? focus : "");
    s->small = rows < TUI_MIN_ROWS || cols < TUI_MIN_COLS;
    if (help || s->small) {
        s->help = newwin(rows, cols, 0, 0);
        return;
    }
    s->title = newwin(1, cols, 0, 0);
    s->status = newwin(1, cols, rows - 1, 0);
    int avail = rows - 2;
    if (with_lesson && cols >= TUI_LESSON_SIDE_COLS) {
        int lw = cols * 42 / 100 > 50 ? cols * 42 / 100 : 50;
        s->lesson = newwin(avail, lw, 1, cols - lw);
        if (wire)
            s->wire = newwin(avail, cols - lw, 1, 0);
        else
            layout_panes(s, 1, 0, avail, cols - lw);
        return;
    }
    if (with_lesson) { /* narrow: the step's pane above, the lesson below */
        int top = avail * 35 / 100 > 6 ? avail * 35 / 100 : 6;
        WINDOW *w = newwin(top, cols, 1, 0);
        if (wire)
            s->wire = w;
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
    if (wire) {
        s->wire = newwin(avail, cols, 1, 0);
        return;
    }
    layout_panes(s, 1, 0, avail, cols);
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
        tui_draw_put(s->help, 0, 0, getmaxx(s->help), A_BOLD, "RPC Workbench needs %dx%d or more", TUI_MIN_COLS,
            TUI_MIN_ROWS);
        tui_draw_put(s->help, 1, 0, getmaxx(s->help), A_NORMAL, "(now %dx%d); q quits", COLS, LINES);
        wnoutrefresh(s->help);
    } else if (v->help) {
        if (s->help)
            draw_help(s, v);
    } else if (s->title && s->status) {
        if (dirty & DIRTY_STATUS)
            draw_title(s, v), draw_status(s, v);
        if ((dirty & DIRTY_WIRE) && s->wire)
            draw_wire(s, v);
        if ((dirty & DIRTY_INSTANCES) && s->inst)
            draw_instances(s, v);
        if ((dirty & DIRTY_TRAFFIC) && s->traffic)
            draw_traffic(s, v);
        if ((dirty & DIRTY_REGISTRY) && s->reg)
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
