/* tui_draw_kit.c -- the drawing primitives every pane uses: colour attributes, and writing
 * text into a window cut, padded or wrapped to a width in display columns. */
#include "tui_draw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "base/esc.h"
#include "base/i18n.h"
#include "tui_draw_int.h"
#include "tui_text.h"

attr_t tui_draw_attr(const tui_screen *s, int pair, attr_t mono)
{
    return s->color ? (attr_t)COLOR_PAIR(pair) : mono;
}

void tui_draw_frame(tui_screen *s, WINDOW *w, const char *pane, const char *title)
{
    werase(w);
    box(w, 0, 0);
    if (s->focus[0] && strcmp(pane, s->focus) == 0)
        tui_draw_put(w, 0, 2, getmaxx(w) - 4, tui_draw_attr(s, PAIR_TITLE, A_REVERSE), " %s ▸ %s ", _("lesson"), title);
    else
        tui_draw_put(w, 0, 2, getmaxx(w) - 4, tui_draw_attr(s, PAIR_HEAD, A_BOLD), " %s ", title);
}

/* How many of the n wide characters fit in width display columns; characters that have
 * no width (unprintable) become '?'. */
static size_t fit(wchar_t *wide, size_t n, int width)
{
    int cols = 0;
    size_t k = 0;
    for (; k < n; k++) {
        int cw = wcwidth(wide[k]);
        if (cw < 0)
            wide[k] = L'?', cw = 1;
        if (cols + cw > width)
            break;
        cols += cw;
    }
    return k;
}

void tui_draw_put(WINDOW *w, int y, int x, int width, attr_t a, const char *fmt, ...)
{
    if (width <= 0)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    wchar_t wide[1024];
    size_t n = mbstowcs(wide, text, sizeof wide / sizeof wide[0] - 1);
    wattron(w, a);
    if (n == (size_t)-1) {
        mvwaddnstr(w, y, x, text, width);
    } else {
        mvwaddnwstr(w, y, x, wide, (int)fit(wide, n, width));
    }
    wattroff(w, a);
}

int tui_draw_wrap(WINDOW *w, int y, int x, int width, int indent, int skip, int maxlines, attr_t a, const char *text)
{
    if (width <= 0 || maxlines <= 0)
        return 0;
    size_t at = 0, len = strlen(text);
    int line = 0, drawn = 0;
    do {
        int in = line ? indent : 0;
        size_t next, n = tui_text_line(text + at, width - in, &next);
        if (line >= skip) {
            tui_draw_put(w, y + drawn, x + in, width - in, a, "%.*s", (int)n, text + at);
            drawn++;
        }
        at += next;
        line++;
    } while (at < len && drawn < maxlines);
    return drawn;
}

void tui_draw_cell(WINDOW *w, int y, int x, int width, bool right, attr_t a, const char *text)
{
    char cell[512];
    tui_text_pad(cell, sizeof cell, text, width, right);
    tui_draw_put(w, y, x, width, a, "%s", cell);
}

void tui_draw_more(WINDOW *w, int above, int below)
{
    char text[96] = "", part[48];
    if (above > 0) {
        snprintf(part, sizeof part, _("↑ %d more"), above);
        snprintf(text, sizeof text, " %s ", part);
    }
    if (below > 0) {
        snprintf(part, sizeof part, _("↓ %d more"), below);
        size_t n = strlen(text);
        snprintf(text + n, sizeof text - n, " %s ", part);
    }
    if (text[0])
        tui_draw_put(w, getmaxy(w) - 1, 2, getmaxx(w) - 4, A_BOLD, "%s", text);
}

int tui_draw_check(const tui_model *m, const tui_reg_entry *e, uint64_t now_ms, char *out, size_t cap)
{
    const registry_instance *ri = &e->inst;
    char reap[64] = "", output[sizeof ri->output * 4];
    int64_t left = tui_model_reap_left(m, e, now_ms);
    if (left > 0)
        snprintf(reap, sizeof reap, _(", reaped in %llds"), (long long)left);
    else if (left == 0)
        snprintf(reap, sizeof reap, "%s", _(", reap due"));
    esc_str(output, sizeof output, ri->output);
    snprintf(out, cap, "%s %s%s", ri->check[0] ? ri->check : "-", ri->status, reap);
    if (output[0]) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, " · %s", output);
    }
    return !strcmp(ri->status, "passing") ? PAIR_RUN : !strcmp(ri->status, "critical") ? PAIR_BAD : PAIR_PAUSE;
}

const char *tui_short_proto(rpc_proto p)
{
    return p == PROTO_GOB ? "gob" : p == PROTO_GRPC ? "grpc" : "json";
}

const char *tui_instance_kind(const instance *in)
{
    if (!in->program[0])
        return tui_short_proto(in->proto);
    if (!strcmp(in->program, "gateway"))
        return "gw";
    return !strncmp(in->program, "order", 5) ? "order" : !strncmp(in->program, "user", 4) ? "user" : "svc";
}
