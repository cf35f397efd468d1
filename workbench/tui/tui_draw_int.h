/* tui_draw_int.h -- private to the tui_draw*.c files: colours and the ways text reaches a
 * window (tui_draw_kit.c, below the others), the Wire pane (tui_draw_wire.c), the Sniff
 * pane (tui_draw_sniff.c), the lesson pane (tui_draw_lesson.c) and the help
 * (tui_draw_help.c). */
#ifndef WB_TUI_DRAW_INT_H
#define WB_TUI_DRAW_INT_H

#include "tui_draw.h"

enum { PAIR_TITLE = 1, PAIR_RUN, PAIR_PAUSE, PAIR_BAD, PAIR_STOP, PAIR_HEAD, PAIR_BAR };

/* The colour pair's attribute, or mono when the screen has no colours. */
attr_t tui_draw_attr(const tui_screen *s, int pair, attr_t mono);
/* Clears w and draws its box with title on top; the pane the lesson's step is about
 * (pane: "instances", "traffic", "registry", "timeline", "wire") is marked. */
void tui_draw_frame(tui_screen *s, WINDOW *w, const char *pane, const char *title);
/* Writes formatted text at y,x cut to width display columns (UTF-8 aware; characters
 * that have no width become '?'). Nothing when width <= 0. */
void tui_draw_put(WINDOW *w, int y, int x, int width, attr_t a, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Writes lines [skip, skip + maxlines) of text wrapped at width display columns at words
 * (tui_text_line), the lines after the first indent columns further in, from y,x. Returns
 * the lines written. */
int tui_draw_wrap(WINDOW *w, int y, int x, int width, int indent, int skip, int maxlines, attr_t a, const char *text);
/* Writes text at y,x as a cell of exactly width display columns: cut, or padded with
 * spaces (on the left when right is set). */
void tui_draw_cell(WINDOW *w, int y, int x, int width, bool right, attr_t a, const char *text);
/* "↑ 2 more" and "↓ 3 more" on the bottom border of w: rows scrolled out of sight. */
void tui_draw_more(WINDOW *w, int above, int below);
/* Consul: entry e's check as one line, "tcp critical, reaped in 48s · OUTPUT" (the
 * kind, the status, when critical the seconds until Consul reaps it, and the check's last
 * output escaped), into out; returns the colour pair of its status. */
int tui_draw_check(const tui_model *m, const tui_reg_entry *e, uint64_t now_ms, char *out, size_t cap);
/* The Wire pane (tui_draw_wire.c). */
void tui_draw_wire(tui_screen *s, const tui_view *v);
/* The Sniff pane (tui_draw_sniff.c). */
void tui_draw_sniff(tui_screen *s, const tui_view *v);
/* The help (tui_draw_help.c): what the workbench is, a line per key, then the lessons;
 * scrolled by *v->help_scroll lines (kept in range; TUI_HELP_LESSONS: to the lessons). */
void tui_draw_help(tui_screen *s, const tui_view *v);
/* "json", "gob" or "grpc". */
const char *tui_short_proto(rpc_proto p);
/* The :hosts view (tui_draw_lab.c): the lab's hosts, their faults, servers and etcd. */
void tui_draw_hosts(tui_screen *s, const tui_view *v);
/* The lesson pane: the step's text, its commands' output and its checks, scrolled by
 * *scroll_io rows (kept in range). */
void tui_draw_lesson(tui_screen *s, const tui_lesson_view *lv, int *scroll_io);
/* While a lesson runs (lv not NULL, lv->mine), the Instances and the Registry pane show
 * its own servers and registry instead of the workbench's: these draw them and return
 * true; false when the workbench's are to be drawn. */
bool tui_draw_lesson_instances(tui_screen *s, const tui_lesson_view *lv);
bool tui_draw_lesson_registry(tui_screen *s, const tui_lesson_view *lv);

#endif
