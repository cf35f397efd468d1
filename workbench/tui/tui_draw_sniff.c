/* tui_draw_sniff.c -- the Sniff pane: what runs, a row per call seen on the wire (time,
 * protocol, client → server, method, status, latency), the selected call in full. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/i18n.h"
#include "tui_draw_int.h"
#include "tui_text.h"

enum { DETAIL_ROWS = 4, WIDE = 110 };

/* The list's columns at a width: x of each, and the method's width. */
typedef struct cols {
    int time, proto, conn, method, status, lat;
    int wtime, wconn, wmethod, wstatus, wlat;
    bool wide;
} cols;

static cols columns(int inner)
{
    cols c = {.wide = inner >= WIDE};
    c.wtime = c.wide ? 12 : 8;
    c.wconn = c.wide ? 45 : 15;
    c.wstatus = c.wide ? 16 : 11;
    c.wlat = 8;
    c.time = 2;
    c.proto = c.time + c.wtime + 1;
    c.conn = c.proto + 6;
    c.method = c.conn + c.wconn + 1;
    c.wmethod = inner - (c.method - 1) - 1 - c.wstatus - 1 - c.wlat;
    if (c.wmethod < 8)
        c.wmethod = 8;
    c.status = c.method + c.wmethod + 1;
    c.lat = c.status + c.wstatus + 1;
    return c;
}

static void when(int64_t us, bool ms, char *out, size_t cap)
{
    time_t sec = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&sec, &tm);
    if (ms)
        snprintf(out, cap, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
    else
        snprintf(out, cap, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void latency(const tui_sniff_row *r, char *out, size_t cap)
{
    int64_t us = r->end_us ? r->end_us - r->start_us : -1;
    if (us < 0)
        snprintf(out, cap, "-");
    else if (us < 1000)
        snprintf(out, cap, "%d µs", (int)us);
    else if (us < 1000000)
        snprintf(out, cap, "%.1f ms", (double)us / 1000);
    else
        snprintf(out, cap, "%.2f s", (double)us / 1e6);
}

/* "client → server"; narrow and on one host, only the ports (":43210 → :50051"). */
static void conn_text(const tui_sniff_row *r, bool wide, char *out, size_t cap)
{
    const char *cp = strrchr(r->client, ':'), *sp = strrchr(r->server, ':');
    if (!wide && cp && sp && cp - r->client == sp - r->server && !strncmp(r->client, r->server, (size_t)(cp - r->client)))
        snprintf(out, cap, "%s → %s", cp, sp);
    else if (!wide && sp)
        snprintf(out, cap, "→ %s", r->server);
    else
        snprintf(out, cap, "%s → %s", r->client, r->server);
}

static attr_t status_attr(const tui_screen *s, const tui_sniff_row *r)
{
    if (!strcmp(r->status, "ok") || !strcmp(r->status, "OK") || r->status[0] == '2')
        return tui_draw_attr(s, PAIR_RUN, A_NORMAL);
    if (!r->end_us)
        return tui_draw_attr(s, PAIR_PAUSE, A_BOLD);
    return tui_draw_attr(s, PAIR_BAD, A_BOLD);
}

static void call_row(tui_screen *s, WINDOW *w, int y, const cols *c, const tui_sniff_row *r, bool sel)
{
    attr_t base = sel ? A_REVERSE : A_NORMAL;
    if (sel)
        mvwchgat(w, y, 1, getmaxx(w) - 2, A_REVERSE, 0, NULL);
    char text[200];
    tui_draw_put(w, y, 1, 1, base, "%s", sel ? (s->utf8 ? "▶" : ">") : " ");
    when(r->start_us, c->wide, text, sizeof text);
    tui_draw_cell(w, y, c->time, c->wtime, false, base, text);
    tui_draw_cell(w, y, c->proto, 5, false, base | tui_draw_attr(s, PAIR_HEAD, A_NORMAL), sniff_proto_name(r->proto));
    conn_text(r, c->wide, text, sizeof text);
    tui_draw_cell(w, y, c->conn, c->wconn, false, base, text);
    tui_sniff_short_method(r->method[0] ? r->method : "?", c->wmethod, text, sizeof text);
    tui_draw_cell(w, y, c->method, c->wmethod, false, base | A_BOLD, text);
    tui_draw_cell(w, y, c->status, c->wstatus, false, base | status_attr(s, r), r->status);
    latency(r, text, sizeof text);
    tui_draw_cell(w, y, c->lat, c->wlat, true, base, text);
}

/* What runs, for the title: "live on lo, ports 50051 8080", "replay f.pcap at x1 · 40%". */
static void title(const tui_sniff_info *in, char *out, size_t cap)
{
    char what[400] = "", ports[120] = "";
    for (size_t i = 0, p = 0; i < in->nports && p < sizeof ports; i++)
        p += (size_t)snprintf(ports + p, sizeof ports - p, "%s%u", i ? " " : "", in->ports[i]);
    const char *base = strrchr(in->file, '/') ? strrchr(in->file, '/') + 1 : in->file;
    if (in->mode == TUI_SNIFF_LIVE && in->nports)
        snprintf(what, sizeof what, in->running ? _("live on %s, ports %s") : _("stopped: live on %s, ports %s"),
                 in->iface, ports);
    else if (in->mode == TUI_SNIFF_LIVE)
        snprintf(what, sizeof what, in->running ? _("live on %s, every TCP port") : _("stopped: live on %s"),
                 in->iface);
    else if (in->mode == TUI_SNIFF_REPLAY && in->running && in->total)
        snprintf(what, sizeof what, _("replay %s at x%g · %d%%"), base, in->speed,
                 (int)(in->segments * 100 / in->total));
    else if (in->mode == TUI_SNIFF_REPLAY && in->running)
        snprintf(what, sizeof what, _("replay %s at x%g"), base, in->speed);
    else if (in->mode == TUI_SNIFF_REPLAY)
        snprintf(what, sizeof what, in->finished ? _("replay %s: played to its end") : _("replay %s: stopped"), base);
    else
        snprintf(what, sizeof what, "%s", _("nothing captured"));
    snprintf(out, cap, _("Sniff — %s"), what);
}

/* The line under the title: counts, and a replay's place in its file. */
static void progress(const tui_sniff_info *in, char *out, size_t cap)
{
    size_t p = 0;
    if (in->mode == TUI_SNIFF_REPLAY && in->total)
        p += (size_t)snprintf(out + p, cap - p, _("segment %llu of %llu · %.1f s of %.1f s · "),
                              (unsigned long long)in->segments, (unsigned long long)in->total,
                              (double)(in->at_us - in->first_us) / 1e6, (double)(in->last_us - in->first_us) / 1e6);
    else if (in->mode == TUI_SNIFF_REPLAY)
        p += (size_t)snprintf(out + p, cap - p, _("segment %llu · %.1f s · "), (unsigned long long)in->segments,
                              (double)(in->at_us - in->first_us) / 1e6);
    if (p < cap && in->silence_us)
        p += (size_t)snprintf(out + p, cap - p, _("%.1f s of silence, cut to %d s · "), (double)in->silence_us / 1e6,
                              TUI_SNIFF_SILENCE_US / 1000000);
    if (p < cap)
        p += (size_t)snprintf(out + p, cap - p, ngettext("%llu call", "%llu calls", in->calls),
                              (unsigned long long)in->calls);
    if (p < cap && in->dropped)
        p += (size_t)snprintf(out + p, cap - p, _(" (the oldest %llu dropped)"), (unsigned long long)in->dropped);
    if (p < cap)
        p += (size_t)snprintf(out + p, cap - p, ngettext(" · %llu connection", " · %llu connections", in->conns),
                              (unsigned long long)in->conns);
    if (p < cap && in->unknown)
        p += (size_t)snprintf(out + p, cap - p, _(" (%llu in no protocol known)"), (unsigned long long)in->unknown);
    if (p < cap && in->kernel_dropped)
        snprintf(out + p, cap - p, _(" · %llu packets dropped by the kernel"), (unsigned long long)in->kernel_dropped);
}

/* The selected call in full under the list: who, what went and came back, what could
 * not be decoded; rows lines from y. */
static void detail(tui_screen *s, WINDOW *w, int y, int inner, int rows, const tui_sniff_call *c)
{
    char line[1400], lat[32];
    const tui_sniff_row *r = &c->row;
    latency(r, lat, sizeof lat);
    snprintf(line, sizeof line, _("#%llu %s · %s · %s · %s → %s · call %llu on its connection"),
             (unsigned long long)r->id, sniff_proto_name(r->proto), r->status, lat, r->client, r->server,
             (unsigned long long)c->n);
    int used = tui_draw_wrap(w, y, 2, inner - 1, 2, 0, rows > 3 ? 2 : 1, A_BOLD, line);
    const char *res = c->error[0] ? c->error : c->had_result ? c->result : "";
    snprintf(line, sizeof line, "%s(%s)%s%s%s", r->method[0] ? r->method : "?", c->had_args ? c->args : "…",
             res[0] ? " → " : "", c->error[0] ? _("error: ") : "", res);
    used += tui_draw_wrap(w, y + used, 2, inner - 1, 2, 0, rows - used > 2 ? 2 : 1, A_NORMAL, line);
    y += used;
    const char *note = c->note;
    if (!r->has_bytes)
        note = c->bytes_past ? _("its bytes came after the part of its connection that is kept")
             : c->bytes_dropped ? _("its bytes were dropped to make room for newer calls")
                                : _("its bytes were not kept");
    if (note[0] && used < rows)
        tui_draw_wrap(w, y, 2, inner - 1, 2, 0, rows - used, tui_draw_attr(s, PAIR_PAUSE, A_NORMAL), note);
}

/* Nothing to list: how to start, why it did not, the last connection seen. */
static void empty(tui_screen *s, WINDOW *w, int y, int inner, int rows, const tui_view *v)
{
    const tui_sniff_info *in = &v->sniff->info;
    int used = 0;
    if (v->sniff_err && v->sniff_err[0])
        used += tui_draw_wrap(w, y, 2, inner - 1, 2, 0, rows, tui_draw_attr(s, PAIR_BAD, A_BOLD), v->sniff_err) + 1;
    if (in->last_conn[0] && used < rows)
        used += tui_draw_wrap(w, y + used, 2, inner - 1, 2, 0, rows - used, A_NORMAL, in->last_conn) + 1;
    if (used < rows)
        tui_draw_wrap(w, y + used, 2, inner - 1, 0, 0, rows - used, A_DIM,
                      in->running ? _("no call seen yet: the calls between other programs show here as they happen")
                                  : _(":sniff [PORT...] [--interface IF] captures live (lo by default; needs root or "
                                      "the capture capability). :replay FILE [SPEED] plays a capture file "
                                      "(tcpdump -w, tshark -w) at its recorded pace, to show it again."));
}

void tui_draw_sniff(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->sniff;
    const tui_sniff_view *sv = v->sniff;
    int inner = getmaxx(w) - 2, h = getmaxy(w) - 2;
    char text[1200];
    title(&sv->info, text, sizeof text);
    tui_draw_frame(s, w, "sniff", text);
    progress(&sv->info, text, sizeof text);
    if (sv->info.error[0] && !sv->info.running) /* why it stopped on its own */
        tui_draw_put(w, 1, 2, inner - 1, tui_draw_attr(s, PAIR_BAD, A_BOLD), "%s", sv->info.error);
    else
        tui_draw_put(w, 1, 2, inner - 1, sv->info.running ? tui_draw_attr(s, PAIR_RUN, A_NORMAL) : A_DIM, "%s",
                     text);
    const char *keys = _("↑↓ select  Enter its bytes in the Wire pane  End the newest  s close");
    int nkeys = tui_text_nlines(keys, inner - 1, 2);
    int list = h - 3 - DETAIL_ROWS - nkeys; /* the progress, the head, the rule; detail and keys below */
    if (sv->total == 0 || sv->sel < 0 || list < 1) {
        empty(s, w, 3, inner, h - 2 - nkeys, v);
        tui_draw_wrap(w, h + 1 - nkeys, 2, inner - 1, 2, 0, nkeys, A_DIM, keys);
        wnoutrefresh(w);
        return;
    }
    cols c = columns(inner);
    attr_t head = tui_draw_attr(s, PAIR_HEAD, A_BOLD);
    tui_draw_cell(w, 2, c.time, c.wtime, false, head, _("time"));
    tui_draw_cell(w, 2, c.proto, 5, false, head, _("proto"));
    tui_draw_cell(w, 2, c.conn, c.wconn, false, head, _("client → server"));
    tui_draw_cell(w, 2, c.method, c.wmethod, false, head, _("method"));
    tui_draw_cell(w, 2, c.status, c.wstatus, false, head, _("status"));
    tui_draw_cell(w, 2, c.lat, c.wlat, true, head, _("latency"));
    /* the selected call in the middle when there are calls after it, else the last rows */
    int sel = (int)sv->first + sv->sel, total = (int)sv->total;
    int first = sel - list / 2;
    if (first > total - list)
        first = total - list;
    if (first < 0)
        first = 0;
    int y = 3;
    for (int i = first; i < first + list && i < total; i++, y++) {
        int k = i - (int)sv->first;
        if (k >= 0 && k < (int)sv->nrows)
            call_row(s, w, y, &c, &sv->rows[k], i == sel);
    }
    tui_draw_more(w, first, total - first - list > 0 ? total - first - list : 0);
    int rule = 3 + list;
    mvwhline(w, rule, 1, s->utf8 ? ACS_HLINE : '-', inner);
    detail(s, w, rule + 1, inner, DETAIL_ROWS, &sv->detail);
    tui_draw_wrap(w, h + 1 - nkeys, 2, inner - 1, 2, 0, nkeys, A_DIM, keys);
    wnoutrefresh(w);
}
