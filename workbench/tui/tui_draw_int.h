/* tui_draw_int.h -- private to the tui_draw*.c files: colours and the ways text reaches a
 * window (tui_draw_kit.c, below the others), and the lesson pane (tui_draw_lesson.c). */
#ifndef WB_TUI_DRAW_INT_H
#define WB_TUI_DRAW_INT_H

#include "tui_draw.h"

enum { PAIR_TITLE = 1, PAIR_RUN, PAIR_PAUSE, PAIR_BAD, PAIR_STOP, PAIR_HEAD, PAIR_BAR };

/* The colour pair's attribute, or mono when the screen has no colours. */
attr_t tui_draw_attr(const tui_screen *s, int pair, attr_t mono);
/* Writes formatted text at y,x cut to width display columns (UTF-8 aware; characters
 * that have no width become '?'). Nothing when width <= 0. */
void tui_draw_put(WINDOW *w, int y, int x, int width, attr_t a, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Writes text from y,x wrapped at width display columns over at most maxlines lines
 * (one, cut, when it is not valid UTF-8). Returns the lines it used. */
int tui_draw_put_wrapped(WINDOW *w, int y, int x, int width, int maxlines, attr_t a, const char *text);
/* The lesson pane: the step's text, its commands' output and its checks, scrolled by
 * *scroll_io rows (kept in range). */
void tui_draw_lesson(tui_screen *s, const tui_lesson_view *lv, int *scroll_io);

#endif
