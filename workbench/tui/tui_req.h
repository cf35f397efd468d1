/* tui_req.h -- the TUI's requests: one list (in tui_req.c, with the keys bound to them)
 * that makes the `:` command words and their completion, the status bar's hints and the
 * help screen, so that keys, commands and help cannot disagree (tig's REQ_INFO). */
#ifndef WB_TUI_REQ_H
#define WB_TUI_REQ_H

#include <stddef.h>

#include "tui_int.h"

/* Runs what key ch is bound to (clearing a command's message first). Returns the
 * action's DIRTY_ flags, or 0 when ch is bound to nothing. */
int tui_req_key(tui *t, int ch);
/* Runs one `:` line ("WORD [ARG...]"); an unknown word is said on the status line.
 * Returns DIRTY_ flags. */
int tui_req_command(tui *t, const char *line);
/* Completion for the `:` line (a tui_complete_fn): the command words, then the words of
 * a command's first argument (the method names for call). */
const char *tui_req_complete(const char *cmd, int argi, size_t idx);
/* The help screen's lines, which also carry the status bar's hints; the command line's
 * line lists every command. Made on the first call; *n is set to how many. */
const tui_key_help *tui_req_help(size_t *n);

#endif
