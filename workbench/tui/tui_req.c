/* tui_req.c -- the TUI's key and command tables: which action a key or a `:` command
 * runs, completion of the command line, and the lines of the help screen. */
#include "tui_req.h"

#include <stdio.h>
#include <string.h>

#include <curses.h>

#include "services/services.h"

typedef struct action {
    const char *name;  /* its command word */
    bool command;      /* can be run from the command line */
    tui_action fn;
} action;

static const action actions[] = {
    {"spawn", true, act_spawn},   {"kill", true, act_kill},       {"stop", true, act_term},
    {"pause", true, act_pause},   {"resume", true, act_resume},   {"restart", true, act_restart},
    {"load", true, act_load},     {"rate", true, act_rate},       {"call", true, act_call},
    {"help", true, act_help},     {"quit", true, act_quit},       {"up", false, act_up},
    {"down", false, act_down},    {"command", false, act_command}, {"wire", true, act_wire},
    {"cursor", false, act_cursor}, {"lane", false, act_lane},     {"direction", false, act_direction},
    {"registry", true, act_registry}, {"registry-prompt", false, act_registry_prompt},
    {"mouse", true, act_mouse},   {"recapture", false, act_recapture}, {"scroll", false, act_scroll},
    {"lesson", true, act_lesson}, {"lesson-key", false, act_lesson_key}, {"edit-call", false, act_edit_call},
};
#define NACTIONS (sizeof actions / sizeof actions[0])

static const action *find_action(const char *name)
{
    for (size_t i = 0; i < NACTIONS; i++)
        if (strcmp(actions[i].name, name) == 0)
            return &actions[i];
    return NULL;
}

typedef struct key_binding {
    int key, alt;       /* alt: a second key doing the same, 0 for none */
    const char *action; /* a name in actions */
    const char *arg;
    tui_key_help h;
} key_binding;

static const key_binding keys[] = {
    {'j', 0, "spawn", "json", {"j b c", "j/b/c spawn", "spawn a JSON-RPC, gob or gRPC server (in the registry in use)"}},
    {'b', 0, "spawn", "gob", {"", NULL, ""}},
    {'c', 0, "spawn", "grpc", {"", NULL, ""}},
    {'o', 0, "spawn", "order", {"o u", NULL, "spawn an order or a user service (gRPC, SQLite; :spawn gateway for REST)"}},
    {'u', 0, "spawn", "user", {"", NULL, ""}},
    {KEY_UP, 0, "up", NULL, {"↑↓", NULL, "select the instance above or below (or click it)"}},
    {KEY_DOWN, 0, "down", NULL, {"", NULL, ""}},
    {'k', 0, "kill", NULL, {"k", "k kill", "kill -9 the selected instance (its lease expires after the TTL)"}},
    {'t', 0, "stop", NULL, {"t", NULL, "stop the selected instance with SIGTERM (it deregisters at once)"}},
    {'p', 0, "pause", NULL, {"p", "p pause", "pause (SIGSTOP) or resume (SIGCONT) the selected instance"}},
    {'r', 0, "restart", NULL, {"r", NULL, "restart the selected instance on its old address"}},
    {'l', 0, "load", NULL, {"l", "l/+/- load", "start or stop the load (through the balancer)"}},
    {'+', '=', "rate", "+", {"+ -", NULL, "raise or lower the load's rate (1 to 5000 calls/s)"}},
    {'-', 0, "rate", "-", {"", NULL, ""}},
    {'m', 0, "edit-call", NULL, {"m", "m method", "pick the method and edit its arguments (:call, Tab completes)"}},
    {':', 0, "command", NULL, {":", ": cmd", "command line (Tab completes, ↑↓ history): spawn json|gob|grpc"}},
    {0, 0, NULL, NULL, {"", NULL, "  |order|user|gateway [N], kill|stop|pause|resume|restart N, load on|off, rate N,"}},
    {0, 0, NULL, NULL, {"", NULL, "  call METHOD JSON, registry R, mouse on|off, wire, lesson N, help, quit"}},
    {'w', 0, "wire", NULL, {"w", "w wire", "the Wire pane: the call in gob, JSON-RPC and gRPC, every byte"}},
    {'g', 0, "registry-prompt", NULL, {"g", "g registry", "switch the registry (:registry etcd|etcd URL|consul|static);"}},
    {0, 0, NULL, NULL, {"", NULL, "  running servers restart into it: a server registers at start"}},
    {'e', 0, "registry", NULL, {"e", NULL, "stop or start the private etcd: the calls go on without it"}},
    {KEY_PPAGE, 0, "scroll", "up", {"PgUp PgDn", NULL, "scroll the Timeline (End: the newest), or the lesson's pane"}},
    {KEY_NPAGE, 0, "scroll", "down", {"", NULL, ""}},
    {KEY_END, 0, "scroll", "end", {"", NULL, ""}},
    {0, 0, NULL, NULL, {"mouse", NULL, "click an instance to select it; the wheel scrolls the Timeline"}},
    {0, 0, NULL, NULL, {"", NULL, "  (Wire: the cursor). :mouse off or --no-mouse to select text"}},
    {KEY_LEFT, 0, "cursor", "-", {"←→", NULL, "Wire: move the cursor to the previous or next span"}},
    {KEY_RIGHT, 0, "cursor", "+", {"", NULL, ""}},
    {'\t', 0, "lane", "next", {"Tab 1 2 3", NULL, "Wire: the protocol the cursor moves in (gob, JSON-RPC, gRPC)"}},
    {'1', 0, "lane", "1", {"", NULL, ""}},
    {'2', 0, "lane", "2", {"", NULL, ""}},
    {'3', 0, "lane", "3", {"", NULL, ""}},
    {'x', 0, "direction", NULL, {"x", NULL, "Wire: show the request or the response"}},
    {'R', 0, "recapture", NULL, {"R", NULL, "Wire: make the call again (a :call while it is open does too)"}},
    {0, 0, NULL, NULL, {":lesson N", NULL, "a lesson beside the panes it is about (workbench lesson lists them):"}},
    {'\n', KEY_ENTER, "lesson-key", "next", {"Enter ] [", NULL, "  next step, previous step; a runs the step again, L closes it"}},
    {']', 0, "lesson-key", "next", {"", NULL, ""}},
    {'[', 0, "lesson-key", "back", {"", NULL, ""}},
    {'a', 0, "lesson-key", "again", {"", NULL, ""}},
    {'L', 0, "lesson-key", "off", {"", NULL, ""}},
    {'?', KEY_F(1), "help", NULL, {"?", "? help", "this help"}},
    {'q', 3, "quit", NULL, {"q", "q quit", "quit: stop the load, every server and etcd (also Ctrl-C)"}},
};
#define NKEYS (sizeof keys / sizeof keys[0])

int tui_req_command(tui *t, const char *line)
{
    char word[32] = "";
    int used = 0;
    sscanf(line, " %31s %n", word, &used);
    const action *a = find_action(word);
    t->cmd_message = true;
    if (!a || !a->command) {
        tui_say(t, "unknown command '%s' (Tab lists them; ? for help)", word);
        return DIRTY_STATUS;
    }
    char rest[512];
    snprintf(rest, sizeof rest, "%s", line + used);
    size_t n = strlen(rest);
    while (n && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
        rest[--n] = '\0';
    return a->fn(t, n ? rest : NULL) | DIRTY_STATUS;
}

const char *tui_req_complete(const char *cmd, int argi, size_t idx)
{
    static const char *kinds[] = {"json", "gob", "grpc", "order", "user", "gateway", NULL};
    static const char *lesson_words[] = {"next", "back", "again", "off", NULL};
    static const char *onoff[] = {"on", "off", NULL};
    static const char *registries[] = {"etcd", "static", "consul", "on", "off", NULL};
    if (argi == 0) {
        size_t k = 0;
        for (size_t i = 0; i < NACTIONS; i++)
            if (actions[i].command && k++ == idx)
                return actions[i].name;
        return NULL;
    }
    if (argi != 1)
        return NULL;
    if (strcmp(cmd, "spawn") == 0)
        return idx < 6 ? kinds[idx] : NULL;
    if (strcmp(cmd, "lesson") == 0)
        return idx < 4 ? lesson_words[idx] : NULL;
    if (strcmp(cmd, "load") == 0 || strcmp(cmd, "mouse") == 0)
        return idx < 2 ? onoff[idx] : NULL;
    if (strcmp(cmd, "registry") == 0)
        return idx < 5 ? registries[idx] : NULL;
    if (strcmp(cmd, "call") == 0) {
        size_t n;
        const method *ms = service_methods(&n);
        return idx < n ? ms[idx].name : NULL;
    }
    return NULL;
}

int tui_req_key(tui *t, int ch)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].action && (keys[i].key == ch || (keys[i].alt && keys[i].alt == ch))) {
            t->cmd_message = false;
            return find_action(keys[i].action)->fn(t, keys[i].arg);
        }
    return 0;
}

const tui_key_help *tui_req_help(size_t *n)
{
    static tui_key_help helps[NKEYS];
    for (size_t i = 0; i < NKEYS; i++)
        helps[i] = keys[i].h;
    *n = NKEYS;
    return helps;
}
