/* tui_cmdline.h -- the TUI's `:` command line: GNU readline (history, Tab completion) driven
 * through its callback interface from ncurses keys. It keeps the line being edited as a
 * model; tui_draw draws it on the status line. Readline is global, so there is one. */
#ifndef WB_TUI_CMDLINE_H
#define WB_TUI_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* The idx-th completion candidate (from 0) for word number argi (0: the command word) of
 * a line whose command word is cmd; NULL when there are no more. */
typedef const char *(*tui_complete_fn)(const char *cmd, int argi, size_t idx);

typedef struct tui_cmdline {
    bool active;
    char line[512];   /* what is typed, without the ':' */
    int point_cols;   /* display columns before the cursor */
    char matches[256];/* candidates listed after an ambiguous Tab, "" for none */
} tui_cmdline;

/* Sets readline up for use inside curses (no terminal handling, no signals) with the
 * given completer. Call once after initscr. */
void tui_cmdline_init(tui_cmdline *c, tui_complete_fn complete);
/* Starts editing a line holding text (usually ""), the cursor at its end. */
void tui_cmdline_open(tui_cmdline *c, const char *text);
/* Feeds one key from getch. Returns 0 while editing, 1 when a non-empty line was entered
 * (copied to out; the command line is closed and the line is in the history), -1 when
 * the user left (Esc, Ctrl-C, Ctrl-D or an empty Enter). */
int tui_cmdline_key(tui_cmdline *c, int ch, char *out, size_t outlen);
/* Leaves readline's callback mode if it is on. */
void tui_cmdline_done(tui_cmdline *c);

#endif
