/* tui_text.h -- text measured in display columns for the TUI's panes: lines cut to a width
 * at word boundaries (or between Chinese characters), and cells padded to a width. A
 * wide character (hanzi) takes 2 columns; UTF-8 in, no locale needed. */
#ifndef WB_TUI_TEXT_H
#define WB_TUI_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* The display columns of the UTF-8 text s. */
int tui_text_width(const char *s);

/* The first line of s that fits width display columns (width < 1 counts as 1): returns its
 * length in bytes and sets *next to where the next line starts (at the end of s, strlen).
 * A line ends at '\n', else at the last place that fits: a space (dropped with those
 * beside it), after '|', ',' or '/', or between two wide characters (never before
 * full-width punctuation such as "，" or "）"); a word longer than width is cut where the
 * width runs out. A line is never empty unless s is or begins with '\n'. */
size_t tui_text_line(const char *s, int width, size_t *next);

/* How many lines tui_text_line cuts s into: the first width columns wide, the others
 * width - indent (at least 1). An empty s is one line. */
int tui_text_nlines(const char *s, int width, int indent);

/* s cut to width display columns (a wide character that would cross it is left out) and
 * padded with spaces to exactly width, on the right, or on the left when right is set, into
 * out (always NUL-terminated when cap > 0). */
void tui_text_pad(char *out, size_t cap, const char *s, int width, bool right);

#endif
