/* tui_draw_wire.c -- the Wire pane: one call's bytes in gob, JSON-RPC and gRPC, a line per
 * span with its explanation wrapped under it, side by side when the screen is wide. */
#include <stdio.h>
#include <string.h>

#include "base/i18n.h"
#include "tui_draw_int.h"
#include "tui_text.h"

enum { MIN_COL = 44, GAP = 2, HEX_COLS = 17, MIN_MEANING = 12 };

static attr_t class_attr(const tui_screen *s, span_class c)
{
    switch (c) {
    case SPAN_FRAME: return tui_draw_attr(s, PAIR_HEAD, A_NORMAL);
    case SPAN_TYPE: return tui_draw_attr(s, PAIR_STOP, A_NORMAL);
    case SPAN_DATA: return tui_draw_attr(s, PAIR_RUN, A_BOLD);
    default: return tui_draw_attr(s, PAIR_BAD, A_BOLD);
    }
}

/* Where span i's explanation starts in a column, and how wide it may be. */
static int meaning_x(const span *sp)
{
    return HEX_COLS + (sp->depth > 6 ? 6 : sp->depth);
}

static int meaning_width(const span *sp, int cw)
{
    int mw = cw - meaning_x(sp);
    return mw < MIN_MEANING ? MIN_MEANING : mw;
}

/* The lines span i takes in a column cw wide. */
static int span_lines(const explain *e, size_t i, int cw)
{
    const span *sp = &e->spans[i];
    return tui_text_nlines(sp->meaning, meaning_width(sp, cw), 0);
}

/* The first span to show so that the cursor's is whole and, when it can be, in the
 * middle of list rows, with no blank rows after the last span. */
static size_t first_span(const explain *e, size_t cur, int cw, int list)
{
    if (cur >= e->len)
        return 0;
    int used = span_lines(e, cur, cw), before = (list - used) / 2;
    size_t first = cur;
    for (int acc = 0; first > 0 && acc + span_lines(e, first - 1, cw) <= before;)
        acc += span_lines(e, --first, cw);
    int total = 0;
    for (size_t i = first; i < e->len && total < list; i++)
        total += span_lines(e, i, cw);
    while (first > 0 && total + span_lines(e, first - 1, cw) <= list)
        total += span_lines(e, --first, cw);
    return first;
}

/* The hex of a leaf span of up to 4 bytes, else its size. */
static void span_hex(const span *sp, bool leaf, const buf *b, char *hex, size_t cap)
{
    hex[0] = '\0';
    if (!leaf || sp->len > 4) {
        snprintf(hex, cap, _("[%zu bytes]"), sp->len);
        return;
    }
    const uint8_t *bytes = buf_data(b);
    for (size_t k = 0, p = 0; k < sp->len && sp->off + k < buf_size(b) && p < cap; k++)
        p += (size_t)snprintf(hex + p, cap - p, "%s%02x", k ? " " : "", bytes[sp->off + k]);
}

/* One protocol's dump in a column: header, totals, then each span with its explanation
 * wrapped under the bytes. */
static void draw_wire_lane(tui_screen *s, const tui_wire *wi, int lane, int x, int cw, int top, int rows)
{
    WINDOW *w = s->wire;
    const tui_wire_lane *l = &wi->lanes[lane];
    int d = wi->response;
    bool sel = lane == wi->sel;
    const buf *b = &l->bytes[d];
    tui_draw_put(w, top, x, cw, sel ? A_BOLD | A_UNDERLINE : A_BOLD, _("%s%s %s · %zu bytes%s%s"),
                 sel ? (s->utf8 ? "▶ " : "> ") : "", l->label, d ? _("response") : _("request"), buf_size(b),
                 l->addr[0] ? " · " : "", l->addr);
    if (!l->have) {
        tui_draw_wrap(w, top + 2, x, cw, 0, 0, rows > 5 ? rows - 2 : 3, A_DIM, l->note);
        return;
    }
    size_t t[4];
    tui_wire_totals(wi, lane, t);
    tui_draw_put(w, top + 1, x, cw, A_NORMAL, _("framing %zu · type information %zu · payload %zu"), t[0], t[1], t[2]);
    const explain *e = &l->ex[d];
    int list = rows - 2;
    if (list <= 0)
        return;
    size_t cur = l->cursor[d];
    int y = top + 2;
    for (size_t i = first_span(e, cur, cw, list); i < e->len && y < top + 2 + list; i++) {
        const span *sp = &e->spans[i];
        bool leaf = i + 1 >= e->len || e->spans[i + 1].depth <= sp->depth;
        char hex[32];
        span_hex(sp, leaf, b, hex, sizeof hex);
        attr_t a = i == cur ? A_REVERSE | (sel ? A_BOLD : 0) : leaf ? class_attr(s, sp->cls) : A_DIM;
        int left = top + 2 + list - y, nl = span_lines(e, i, cw);
        if (nl > left && i != cur && y > top + 2)
            break; /* whole explanations only, but the cursor's */
        if (nl > left)
            nl = left;
        if (i == cur)
            for (int k = 0; k < nl; k++)
                mvwchgat(w, y + k, x, cw, a, 0, NULL);
        char cell[64];
        tui_text_pad(cell, sizeof cell, hex, 11, false);
        tui_draw_put(w, y, x, cw, a, "%04zx %s", sp->off, cell);
        y += tui_draw_wrap(w, y, x + meaning_x(sp), meaning_width(sp, cw), 0, 0, nl, a, sp->meaning);
    }
}

void tui_draw_wire(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->wire;
    const tui_wire *wi = v->wire;
    int inner = getmaxx(w) - 2, h = getmaxy(w) - 2;
    const char *dir = wi->response ? _("response") : _("request");
    char title[1400];
    if (wi->sniffed[0])
        snprintf(title, sizeof title, _("Wire — sniffed %s %s — %s"), wi->sniffed, wi->sniffed_conn, dir);
    else if (wi->server[0])
        snprintf(title, sizeof title, _("Wire — %s %s on %s — %s"), wi->method, wi->args, wi->server, dir);
    else
        snprintf(title, sizeof title, _("Wire — %s %s, each protocol on a new connection — %s"), wi->method, wi->args,
                 dir);
    if (tui_text_width(title) + 6 > getmaxx(w) && wi->sniffed[0])
        snprintf(title, sizeof title, _("Wire — sniffed %s — %s"), wi->sniffed, dir);
    else if (tui_text_width(title) + 6 > getmaxx(w))
        snprintf(title, sizeof title, _("Wire — %s %s — %s"), wi->method, wi->args, dir);
    tui_draw_frame(s, w, "wire", title);
    if (wi->busy) {
        char busy[300];
        if (wi->server[0])
            snprintf(busy, sizeof busy, _("learning the types of %s and making the call on %s..."), wi->method,
                     wi->server);
        else
            snprintf(busy, sizeof busy, "%s", _("making the call in gob, JSON-RPC and gRPC..."));
        tui_draw_wrap(w, 2, 2, inner - 1, 0, 0, h - 1, A_BOLD, busy);
        wnoutrefresh(w);
        return;
    }
    int ncols = inner >= 3 * MIN_COL + 2 * GAP ? 3 : 1;
    int cw = ncols == 3 ? (inner - 2 * GAP) / 3 : inner;
    const char *keys = ncols == 3 ? _("←→ move over the spans  Tab/1/2/3 protocol  x request/response  P pcap  w close")
                                  : _("←→ move over the spans  Tab/1/2/3 show gob, JSON-RPC, gRPC  x request/response  P pcap  w close");
    if (tui_text_width(keys) > inner)
        keys = _("←→ move over the spans  Tab/1/2/3 protocol  x request/response  P pcap  w close");
    if (tui_text_width(keys) > inner)
        keys = _("←→ move over the spans  Tab/1/2/3  x request/response  P pcap  w close");
    const tui_wire_lane *l = &wi->lanes[wi->sel];
    const span *sp = tui_wire_current(wi, wi->sel);
    char text[1200] = "";
    if (sp)
        snprintf(text, sizeof text,
                 ngettext("%s %s at %04zx, %zu byte · %s: %s", "%s %s at %04zx, %zu bytes · %s: %s", sp->len), l->label,
                 dir, sp->off, sp->len, sp->layer, sp->meaning);
    /* the meaning's room does not change as the cursor moves */
    int nkeys = tui_text_nlines(keys, inner, 2), ndetail = 2;
    int rows = h - 1 - ndetail - nkeys; /* the span lists; the rule, the meaning and the keys below */
    for (int c = 0; c < ncols; c++) {
        int lane = ncols == 3 ? c : wi->sel;
        draw_wire_lane(s, wi, lane, 1 + c * (cw + GAP), cw, 1, rows);
    }
    int y = 1 + rows;
    mvwhline(w, y, 1, s->utf8 ? ACS_HLINE : '-', inner);
    if (sp)
        tui_draw_wrap(w, y + 1, 1, inner, 0, 0, ndetail, A_BOLD, text);
    tui_draw_wrap(w, y + 1 + ndetail, 1, inner, 2, 0, nkeys, A_DIM, keys);
    wnoutrefresh(w);
}
