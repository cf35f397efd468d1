/* tui_req.h -- the TUI's requests: one list that makes the request enum, the `:` command
 * words and their completion, the status bar's hints and the help screen, so that keys,
 * commands and help cannot disagree (tig's REQ_INFO). Keys are bound to requests in
 * tui_req.c. */
#ifndef WB_TUI_REQ_H
#define WB_TUI_REQ_H

#include <stddef.h>

#include "tui_int.h"

/* REQ_(ID, command word, action, arguments, words, key label, bar hint, help), in the
 * order of the help screen and the status bar:
 *   command word  what `:` runs it by; NULL: keys only
 *   arguments     how the command is written after its word, for the help's command list
 *   words         what Tab offers for its first argument, separated by spaces
 *   key label     the keys, as the help screen names them; NULL: no help line
 *   bar hint      shown in the status bar; NULL: not there
 *   help          its help line; "\n" starts a line more */
#define TUI_REQ_INFO(REQ_)                                                                                       \
    REQ_(SPAWN, "spawn", act_spawn, "json|gob|grpc|order|user|gateway [N]", "json gob grpc order user gateway",  \
         "j b c", "j/b/c spawn", "spawn a JSON-RPC, gob or gRPC server (in the registry in use)")                \
    REQ_(SPAWN_SERVICE, NULL, act_spawn, NULL, NULL, "o u", NULL,                                                \
         "spawn an order or a user service (gRPC, SQLite; :spawn gateway for REST)")                             \
    REQ_(SELECT, NULL, act_select, NULL, NULL, "↑↓", NULL, "select the instance above or below (or click it)")  \
    REQ_(KILL, "kill", act_kill, "N", NULL, "k", "k kill",                                                       \
         "kill -9 the selected instance (its lease expires after the TTL)")                                      \
    REQ_(STOP, "stop", act_term, "N", NULL, "t", NULL,                                                           \
         "stop the selected instance with SIGTERM (it deregisters at once)")                                     \
    REQ_(PAUSE, "pause", act_pause, "N", NULL, "p", "p pause",                                                   \
         "pause (SIGSTOP) or resume (SIGCONT) the selected instance")                                            \
    REQ_(RESUME, "resume", act_resume, "N", NULL, NULL, NULL, NULL)                                              \
    REQ_(RESTART, "restart", act_restart, "N", NULL, "r", NULL, "restart the selected instance on its old address") \
    REQ_(LOAD, "load", act_load, "on|off", "on off", "l", "l/+/- load", "start or stop the load (through the balancer)") \
    REQ_(RATE, "rate", act_rate, "N", NULL, "+ -", NULL, "raise or lower the load's rate (1 to 5000 calls/s)")   \
    REQ_(EDIT_CALL, NULL, act_edit_call, NULL, NULL, "m", "m method",                                            \
         "pick the method and edit its arguments (:call, Tab completes)")                                        \
    REQ_(CALL, "call", act_call, "METHOD JSON", NULL, NULL, NULL, NULL)                                          \
    REQ_(COMMAND, NULL, act_command, NULL, NULL, ":", ": cmd", "command line (Tab completes, ↑↓ history):")     \
    REQ_(WIRE, "wire", act_wire, "", NULL, "w", "w wire", "the Wire pane: the call in gob, JSON-RPC and gRPC, every byte") \
    REQ_(REGISTRY_PROMPT, NULL, act_registry_prompt, NULL, NULL, "g", "g registry",                              \
         "switch the registry (:registry etcd|etcd URL|consul|static);\n"                                        \
         "  running servers restart into it: a server registers at start")                                       \
    REQ_(REGISTRY, "registry", act_registry, "R", "etcd static consul on off", "e", NULL,                        \
         "stop or start the private etcd: the calls go on without it")                                           \
    REQ_(SCROLL, NULL, act_scroll, NULL, NULL, "PgUp PgDn", NULL,                                                \
         "scroll the Timeline (End: the newest), or the lesson's pane")                                          \
    REQ_(MOUSE, "mouse", act_mouse, "on|off", "on off", "mouse", NULL,                                           \
         "click an instance to select it; the wheel scrolls the Timeline\n"                                      \
         "  (Wire: the cursor). :mouse off or --no-mouse to select text")                                        \
    REQ_(CURSOR, NULL, act_cursor, NULL, NULL, "←→", NULL, "Wire: move the cursor to the previous or next span") \
    REQ_(LANE, NULL, act_lane, NULL, NULL, "Tab 1 2 3", NULL,                                                    \
         "Wire: the protocol the cursor moves in (gob, JSON-RPC, gRPC)")                                         \
    REQ_(DIRECTION, NULL, act_direction, NULL, NULL, "x", NULL, "Wire: show the request or the response")        \
    REQ_(RECAPTURE, NULL, act_recapture, NULL, NULL, "R", NULL,                                                  \
         "Wire: make the call again (a :call while it is open does too)")                                        \
    REQ_(LESSON, "lesson", act_lesson, "N", "next back again off", ":lesson N", NULL,                            \
         "a lesson beside the panes it is about (workbench lesson lists them):")                                 \
    REQ_(LESSON_KEY, NULL, act_lesson_key, NULL, NULL, "Enter ] [", NULL,                                        \
         "  next step, previous step; a runs the step again, L closes it")                                       \
    REQ_(HELP, "help", act_help, "", NULL, "?", "? help", "this help")                                           \
    REQ_(QUIT, "quit", act_quit, "", NULL, "q", "q quit", "quit: stop the load, every server and etcd (also Ctrl-C)")

typedef enum tui_request {
#define REQ_ENUM(id, ...) REQ_##id,
    TUI_REQ_INFO(REQ_ENUM)
#undef REQ_ENUM
    REQ_COUNT
} tui_request;

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
