/* lesson_page.h -- one screen's worth of a lesson step, laid out for a terminal.
 *
 * A page is the step's text cut into rows that fit the terminal (lesson_wrap): first its
 * title, explanation and commands (the head), then the commands' output, what to look
 * at and the checks. When the page is taller than the screen, the head stays in place
 * and the rest scrolls below it (only the title stays when the head alone would fill
 * most of the screen). Rows never reach the terminal's last column, so the terminal
 * itself never wraps them. The terminal runner draws pages; its --render mode prints
 * the same frames as plain text. */
#ifndef WB_LESSON_PAGE_H
#define WB_LESSON_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "lesson/lesson.h"

typedef enum lesson_row_style { ROW_PLAIN, ROW_BOLD, ROW_DIM, ROW_GOOD, ROW_BAD } lesson_row_style;

enum {
    PAGE_PROSE = 1,    /* text is prose: its lines flow into paragraphs (lesson_flow) */
    PAGE_VERBATIM = 2, /* text is a program's output: tabs become spaces, controls '.' */
    PAGE_MIN_BODY = 6, /* rows the scrolled part keeps at least, or only the title stays */
};

typedef struct lesson_row {
    char *text;
    lesson_row_style style;
} lesson_row;

typedef struct lesson_page {
    lesson_row *row;
    int n, cap;
    int width; /* the terminal's columns; rows use at most width - 1 */
    int title; /* rows [0, title) are the step's title */
    int head;  /* rows [0, head) are its title, explanation and commands */
} lesson_page;

/* Which rows a screen shows: [0, pinned) at the top, then [from, to); the rows of the
 * scrolled part above and below it. */
typedef struct lesson_frame {
    int pinned, from, to;
    int above, below;
} lesson_frame;

/* An empty page for a terminal of width columns (at least 20 are assumed). */
void lesson_page_init(lesson_page *p, int width);
/* Frees the rows; the page may be used again after lesson_page_init. */
void lesson_page_done(lesson_page *p);
/* Adds text (UTF-8, may hold newlines) cut to the page's width: each of its lines starts
 * a row after the prefix first, and goes on, when too wide, in rows after rest (prefixes
 * count in the width). flags: PAGE_PROSE, PAGE_VERBATIM. Returns 0, or -1 when out of
 * memory. */
int lesson_page_add(lesson_page *p, lesson_row_style style, const char *first, const char *rest, const char *text,
                    int flags);
/* Marks the rows added so far as the title, or as the head. */
void lesson_page_end_title(lesson_page *p);
void lesson_page_end_head(lesson_page *p);
/* The screen of height rows, the last kept for the prompt, scrolled by *scroll rows
 * (clamped into range and written back). */
void lesson_page_frame(const lesson_page *p, int height, int *scroll, lesson_frame *f);
/* The lesson's first screen: its title, introduction, how to type the commands
 * elsewhere (bindir on PATH) and, when missing is set, that the lesson cannot run here
 * and why. r fills in the variables (a dry run when the lesson cannot run). */
int lesson_page_intro(lesson_page *p, const lesson_run *r, const lesson *l, lesson_lang g, const char *bindir,
                      const char *missing);
/* Step i: title, explanation, commands (variables filled in from r); then, with res,
 * the output, what to look at and the checks; without res and with why, what to look
 * at after a note that the commands are not run (why); without either, "running". */
int lesson_page_step(lesson_page *p, const lesson_run *r, const lesson *l, size_t i, lesson_lang g,
                     const lesson_result *res, const char *why);
/* The prompt row under frame f: the keys, and how to scroll when there is more. intro:
 * the lesson's first screen (Enter starts). Fits width - 1 columns down to 60. */
void lesson_page_prompt(const lesson_page *p, const lesson_frame *f, lesson_lang g, bool intro, char *out,
                        size_t n);
/* Expectation j of step s, met or not, as "✓ output contains `56`" (with why it was not
 * met, for an exit status), its variables filled in from r as in the commands. */
void lesson_check_text(const lesson_run *r, const lesson_step *s, const lesson_result *res, size_t j,
                       lesson_lang g, char *out, size_t n);
/* The display width of a UTF-8 string in columns. */
int lesson_text_width(const char *s);

#endif
