/* lesson_wrap.h -- lesson text cut into rows that fit a width in display columns.
 *
 * Latin text breaks at spaces, never inside a word that fits on a row. Chinese may break
 * between any two characters, but a row never starts with a closing mark (，。、：）and
 * the like) nor ends with an opening one (（「“). Widths are display columns (wcwidth),
 * so a hanzi counts two; the caller's locale must be a UTF-8 one (i18n_setup sees to it).
 * The terminal runner and the TUI's lesson pane both cut their text here. */
#ifndef WB_LESSON_WRAP_H
#define WB_LESSON_WRAP_H

#include <stddef.h>
#include <wchar.h>


/* text as wide characters into out (at most max - 1 and a terminator); bytes that are not
 * UTF-8, and control characters other than newline, become '?', so a command's binary
 * output still shows and cannot upset the terminal. Returns the count. */
size_t lesson_decode(const char *text, wchar_t *out, size_t max);

/* The display width of c: wcwidth, with a character that has none (a control, an
 * unassigned code) counted as one column. */
int lesson_char_width(wchar_t c);

/* The row of w (n characters) that starts at start and fits width columns and at most
 * max_chars characters: returns where it ends (exclusive) and sets *next to where the
 * following row starts (a space or newline at the break is skipped). A newline always
 * ends a row. A word wider than the row is cut where the row is full. */
size_t lesson_wrap_row(const wchar_t *w, size_t n, size_t start, int width, size_t max_chars, size_t *next);

/* Prose as paragraphs: single line breaks joined (with a space, or nothing between two
 * non-ASCII characters such as Chinese), a blank line kept as one break. Heap string the
 * caller frees, or NULL when out of memory. */
char *lesson_flow(const char *text);

/* text (UTF-8) cut into rows of at most width columns, each a heap string put in
 * rows[0..max). Returns the number of rows (at most max: the rest of the text is then
 * dropped), or -1 when out of memory. An empty text is one empty row. */
int lesson_wrap_lines(const char *text, int width, char **rows, int max);

#endif
