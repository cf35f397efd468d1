/* tui_draw_help.c -- the help screen: what the workbench is, a line per key, then the
 * lessons (:lesson N opens one), scrolled by lines. */
#include "tui_draw.h"

#include <stdio.h>
#include <string.h>

#include "base/i18n.h"
#include "tui_draw_int.h"
#include "tui_text.h"

/* x of a key's label and of its help; of a lesson's number and of its title */
enum { HELP_LABEL_X = 4, HELP_TEXT_X = 14, LESSON_NUMBER_X = 4, LESSON_TITLE_X = 8 };

/* Where the help's parts are at the window's width, in lines from its top. */
typedef struct help_lines {
    int keys;    /* the first key's line (after the intro) */
    int lessons; /* the lessons' heading (after a blank line) */
    int total;
} help_lines;

/* The columns a lesson's title and the reason it cannot run have in w. */
static int title_width(WINDOW *w)
{
    return getmaxx(w) - 1 - LESSON_TITLE_X;
}

/* Whether why goes on the title's row (else wrapped below it). */
static bool why_beside(const tui_lesson_item *it, int tw)
{
    return tui_text_width(it->title) + 2 + tui_text_width(it->why) <= tw;
}

static int item_lines(const tui_lesson_item *it, int tw)
{
    return !it->why[0] || why_beside(it, tw) ? 1 : 1 + tui_text_nlines(it->why, tw, 0);
}

static help_lines measure(WINDOW *w, const tui_view *v, const char *intro)
{
    int inner = getmaxx(w) - 2, tw = inner - HELP_TEXT_X + 1, lw = title_width(w);
    help_lines h = {.keys = tui_text_nlines(intro, inner - 2, 0)};
    h.lessons = h.keys;
    for (size_t i = 0; i < v->nkeys; i++)
        if (v->keys[i].help[0])
            h.lessons += tui_text_nlines(v->keys[i].help, tw, 0);
    h.lessons++; /* a blank line */
    h.total = h.lessons + 1;
    for (size_t i = 0; i < v->nlessons; i++)
        h.total += item_lines(&v->lessons[i], lw);
    if (v->lessons_err && v->lessons_err[0])
        h.total += tui_text_nlines(v->lessons_err, inner - 2, 0);
    return h;
}

/* text cut to width display columns into out, ending in "…" when cut. */
static void cut(char *out, size_t cap, const char *text, int width)
{
    if (tui_text_width(text) <= width) {
        snprintf(out, cap, "%s", text);
        return;
    }
    tui_text_pad(out, cap - 4, text, width - 1, false); /* a hanzi that would cross: a space */
    size_t n = strlen(out);
    while (n && out[n - 1] == ' ')
        n--;
    snprintf(out + n, cap - n, "…");
}

/* Draws the lines of text wrapped at width from help line line on, those of them between
 * top and top + rows; returns the line after them. */
static int wrap_at(WINDOW *w, int line, int top, int rows, int x, int width, attr_t a, const char *text)
{
    int nl = tui_text_nlines(text, width, 0), skip = top > line ? top - line : 0;
    if (skip < nl && line + skip - top < rows)
        tui_draw_wrap(w, 1 + line + skip - top, x, width, 0, skip, rows - (line + skip - top), a, text);
    return line + nl;
}

/* The lessons' heading at help line line, then a row per lesson: its number, its title
 * cut to the window, and why it cannot run here. */
static void draw_lessons(tui_screen *s, WINDOW *w, const tui_view *v, int line, int top, int rows)
{
    int inner = getmaxx(w) - 2, tw = title_width(w);
    if (line >= top && line - top < rows)
        tui_draw_put(w, 1 + line - top, 2, inner - 2, tui_draw_attr(s, PAIR_HEAD, A_BOLD), "%s",
                     _("Lessons (:lesson N opens one)"));
    line++;
    for (size_t i = 0; i < v->nlessons && line - top < rows; i++) {
        const tui_lesson_item *it = &v->lessons[i];
        bool beside = it->why[0] && why_beside(it, tw);
        if (line >= top) {
            int y = 1 + line - top;
            char title[sizeof it->title + 4];
            cut(title, sizeof title, it->title, tw);
            tui_draw_put(w, y, LESSON_NUMBER_X, LESSON_TITLE_X - LESSON_NUMBER_X, A_BOLD, "%2d", it->number);
            tui_draw_put(w, y, LESSON_TITLE_X, tw, A_NORMAL, "%s", title);
            int x = LESSON_TITLE_X + tui_text_width(title) + 2;
            if (beside)
                tui_draw_put(w, y, x, LESSON_TITLE_X + tw - x, A_DIM, "%s", it->why);
        }
        line++;
        if (it->why[0] && !beside)
            line = wrap_at(w, line, top, rows, LESSON_TITLE_X, tw, A_DIM, it->why);
    }
    if (v->lessons_err && v->lessons_err[0])
        wrap_at(w, line, top, rows, 2, inner - 2, tui_draw_attr(s, PAIR_BAD, A_NORMAL), v->lessons_err);
}

/* The help's lines, wrapped to the window: the first line, then each key's (its label in
 * the first line's column), then the lessons, from *help_scroll on; keeps it in range. */
void tui_draw_help(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->help;
    tui_draw_frame(s, w, "help", _("Help — ↑↓ PgUp PgDn scroll · any other key closes"));
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 2, tw = inner - HELP_TEXT_X + 1;
    const char *intro = _("RPC Workbench: spawn servers, put load on them, kill them, watch the failover.");
    help_lines h = measure(w, v, intro);
    int top = v->help_scroll ? *v->help_scroll : 0;
    if (top == TUI_HELP_LESSONS)
        top = h.lessons;
    if (top > h.total - rows)
        top = h.total - rows;
    if (top < 0)
        top = 0;
    if (v->help_scroll)
        *v->help_scroll = top;
    int line = h.keys, y;
    if (top < line)
        tui_draw_wrap(w, 1, 2, inner - 2, 0, top, rows, A_BOLD, intro);
    for (size_t i = 0; i < v->nkeys && line - top < rows; i++) {
        if (!v->keys[i].help[0])
            continue; /* a second key of the line before */
        int nl = tui_text_nlines(v->keys[i].help, tw, 0), skip = top > line ? top - line : 0;
        y = 1 + line + skip - top;
        if (skip < nl) {
            if (!skip)
                tui_draw_put(w, y, HELP_LABEL_X, HELP_TEXT_X - HELP_LABEL_X, A_BOLD, "%s", v->keys[i].label);
            tui_draw_wrap(w, y, HELP_TEXT_X, tw, 0, skip, rows + 1 - y, A_NORMAL, v->keys[i].help);
        }
        line += nl;
    }
    if (h.lessons - top < rows)
        draw_lessons(s, w, v, h.lessons, top, rows);
    tui_draw_more(w, top, h.total - top - rows);
    wnoutrefresh(w);
}
