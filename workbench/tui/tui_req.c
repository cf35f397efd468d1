/* tui_req.c -- the TUI's requests made from the list in tui_req.h, the keys bound to them,
 * and what comes of the list: dispatch, completion and the help screen's lines. */
#include "tui_req.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curses.h>

#include "base/i18n.h"
#include "wire/catalog.h"

/* REQ_(ID, command word, action, arguments, words, key label, bar hint, help), in the
 * order of the help screen and the status bar:
 *   command word  what `:` runs it by; NULL: keys only
 *   arguments     how the command is written after its word, for the help's command list
 *   words         what Tab offers for its first argument, separated by spaces
 *   key label     the keys, as the help screen names them; NULL: no help line
 *   bar hint      shown in the status bar ("KEYS what"); NULL: not there
 *   help          its help line, wrapped to the screen; "\n" starts a line more
 * The hints and help are translated (po/zh.po). */
#define TUI_REQ_INFO(REQ_)                                                                                       \
    REQ_(SPAWN, "spawn", act_spawn, "json|gob|grpc|order|user|gateway [N]", "json gob grpc order user gateway",  \
         "j b c", N_("j/b/c spawn"), N_("spawn a JSON-RPC, gob or gRPC server (in the registry in use)"))        \
    REQ_(SPAWN_SERVICE, NULL, act_spawn, NULL, NULL, "o u", NULL,                                                \
         N_("spawn an order or a user service (gRPC, SQLite; :spawn gateway for REST)"))                         \
    REQ_(SELECT, NULL, act_select, NULL, NULL, "↑↓", NULL, N_("select the instance above or below (or click it)")) \
    REQ_(KILL, "kill", act_kill, "N", NULL, "k", N_("k kill"),                                                   \
         N_("kill -9 the selected instance (its lease expires after the TTL)"))                                  \
    REQ_(STOP, "stop", act_term, "N", NULL, "t", NULL,                                                           \
         N_("stop the selected instance with SIGTERM (it deregisters at once)"))                                 \
    REQ_(PAUSE, "pause", act_pause, "N", NULL, "p", N_("p pause"),                                               \
         N_("pause (SIGSTOP) or resume (SIGCONT) the selected instance"))                                        \
    REQ_(RESUME, "resume", act_resume, "N", NULL, NULL, NULL, NULL)                                              \
    REQ_(RESTART, "restart", act_restart, "N", NULL, "r", NULL, N_("restart the selected instance on its old address")) \
    REQ_(LOAD, "load", act_load, "on|off", "on off", "l", N_("l/+/- load"),                                     \
         N_("start or stop the load (through the balancer)"))                                                    \
    REQ_(RATE, "rate", act_rate, "N", NULL, "+ -", NULL, N_("raise or lower the load's rate (1 to 5000 calls/s)")) \
    REQ_(EDIT_CALL, NULL, act_edit_call, NULL, NULL, "m", N_("m method"),                                        \
         N_("pick the method and edit its arguments (:call, Tab completes)"))                                    \
    REQ_(CALL, "call", act_call, "METHOD JSON", NULL, NULL, NULL, NULL)                                          \
    REQ_(COMMAND, NULL, act_command, NULL, NULL, ":", N_(": cmd"), N_("command line (Tab completes, ↑↓ history):")) \
    REQ_(WIRE, "wire", act_wire, "[grpc://HOST:PORT METHOD JSON]", NULL, "w", N_("w wire"),                      \
         N_("the Wire pane: the call in gob, JSON-RPC and gRPC, every byte"))                                    \
    REQ_(REGISTRY_PROMPT, NULL, act_registry_prompt, NULL, NULL, "g", N_("g registry"),                          \
         N_("switch the registry (:registry etcd|etcd URL|consul|static); running servers restart into it: "     \
            "a server registers at start"))                                                                      \
    REQ_(REGISTRY, "registry", act_registry, "R", "etcd static consul on off", "e", NULL,                        \
         N_("stop or start the private etcd: the calls go on without it"))                                       \
    REQ_(HOSTS, "hosts", act_hosts, "N", "0 1 2 3 4 5 6 7", "H", NULL,                                           \
         N_("the lab's hosts; :hosts N (1-7) makes a lab of N hosts with etcd on 3, new servers on the hosts "   \
            "in turn; :hosts 0 ends it (needs root)"))                                                           \
    REQ_(CUT, "cut", act_cut, "HOST", NULL, ":cut", NULL,                                                        \
         N_("faults, each on the Timeline: :cut HOST, :heal [HOST], :kill-host HOST, :loss HOST PCT, "           \
            ":partition HOST..., :kill-leader (etcd's)"))                                                        \
    REQ_(HEAL, "heal", act_heal, "[HOST]", NULL, NULL, NULL, NULL)                                               \
    REQ_(KILL_HOST, "kill-host", act_kill_host, "HOST", NULL, NULL, NULL, NULL)                                  \
    REQ_(LOSS, "loss", act_loss, "HOST PCT", NULL, NULL, NULL, NULL)                                             \
    REQ_(PARTITION, "partition", act_partition, "HOST...", NULL, NULL, NULL, NULL)                               \
    REQ_(KILL_LEADER, "kill-leader", act_kill_leader, "", NULL, NULL, NULL, NULL)                                \
    REQ_(SET, "set", act_set, "[ttl S|deadline MS|eject N|backoff MIN[:MAX]|interval S|deregister S]",          \
         "ttl deadline eject backoff interval deregister", ":set", NULL,                                         \
         N_("the knobs and the last fault's detection time; :set ttl S (new servers), deadline MS, "             \
            "eject N, backoff MIN[:MAX] (the balancer, at once), interval S, deregister S (Consul's "             \
            "check: the servers register again)"))                                                              \
    REQ_(SCROLL, NULL, act_scroll, NULL, NULL, "PgUp PgDn", NULL,                                                \
         N_("scroll the Timeline (End: the newest), or the lesson's pane"))                                      \
    REQ_(MOUSE, "mouse", act_mouse, "on|off", "on off", N_("mouse"), NULL,                                       \
         N_("click an instance to select it; the wheel scrolls the Timeline (Wire: the cursor). "                \
            ":mouse off or --no-mouse to select text"))                                                          \
    REQ_(CURSOR, NULL, act_cursor, NULL, NULL, "←→", NULL, N_("Wire: move the cursor to the previous or next span")) \
    REQ_(LANE, NULL, act_lane, NULL, NULL, "Tab 1 2 3", NULL,                                                    \
         N_("Wire: the protocol the cursor moves in (gob, JSON-RPC, gRPC)"))                                     \
    REQ_(DIRECTION, NULL, act_direction, NULL, NULL, "x", NULL, N_("Wire: show the request or the response"))    \
    REQ_(RECAPTURE, NULL, act_recapture, NULL, NULL, "R", NULL,                                                  \
         N_("Wire: make the call again (a :call while it is open does too)"))                                    \
    REQ_(WIRE_ANY, NULL, act_wire, NULL, NULL, ":wire URL", NULL,                                                \
         N_("Wire: :wire grpc://HOST:PORT METHOD JSON calls any gRPC server once; the types come from its "      \
            "reflection, or from workbench --proto FILE (-I DIR, --protoset FILE)"))                             \
    REQ_(PCAP, "pcap", act_pcap, "[FILE]", NULL, "P", NULL,                                                      \
         N_("Wire: write what it shows as a pcap file for Wireshark (wb-wire-HHMMSS.pcap here, or :pcap FILE)")) \
    REQ_(SNIFF_PANE, NULL, act_sniff_pane, NULL, NULL, "s", NULL,                                                \
         N_("the Sniff pane: calls seen on the wire between other programs, newest at the bottom; ↑↓ select, "  \
            "Enter opens one in the Wire pane"))                                                                 \
    REQ_(SNIFF, "sniff", act_sniff, "[PORT...] [--interface IF]|stop", "stop --interface", ":sniff", NULL,       \
         N_("Sniff: :sniff [PORT...] [--interface IF] captures live (on lo by default; needs root or the "       \
            "capture capability); :sniff stop"))                                                                 \
    REQ_(REPLAY, "replay", act_replay, "FILE [SPEED]|stop", "stop", ":replay", NULL,                             \
         N_("Sniff: :replay FILE [SPEED] plays a capture file (tcpdump -w, tshark -w) at its recorded pace, "    \
            "silences cut to 5 s; :replay stop"))                                                                \
    REQ_(LESSON, "lesson", act_lesson, "[N]", "list next back again off", ":lesson N", NULL,                     \
         N_("a lesson beside the panes it is about (:lesson lists them):"))                                \
    REQ_(LESSON_KEY, NULL, act_lesson_key, NULL, NULL, "Enter ] [", NULL,                                        \
         N_("  next step, previous step; a runs the step again, L closes it"))                                   \
    REQ_(HELP, "help", act_help, "", NULL, "?", N_("? help"), N_("this help"))                                   \
    REQ_(QUIT, "quit", act_quit, "", NULL, "q", N_("q quit"),                                                    \
         N_("quit: stop the load, every server and etcd (also Ctrl-C)"))

typedef enum tui_request {
#define REQ_ENUM(id, ...) REQ_##id,
    TUI_REQ_INFO(REQ_ENUM)
#undef REQ_ENUM
        REQ_COUNT
} tui_request;

typedef struct request {
    const char *name; /* the command word, or NULL */
    tui_action fn;
    const char *usage, *words, *label, *bar, *help;
} request;

static const request requests[REQ_COUNT] = {
#define REQ_ROW(id, name, fn, usage, words, label, bar, help) [REQ_##id] = {name, fn, usage, words, label, bar, help},
    TUI_REQ_INFO(REQ_ROW)
#undef REQ_ROW
};

typedef struct key_binding {
    int key;
    tui_request req;
    const char *arg; /* what the action gets; NULL: the selected instance, or a toggle */
} key_binding;

static const key_binding keys[] = {
    {'j', REQ_SPAWN, "json"},         {'b', REQ_SPAWN, "gob"},          {'c', REQ_SPAWN, "grpc"},
    {'o', REQ_SPAWN_SERVICE, "order"}, {'u', REQ_SPAWN_SERVICE, "user"},
    {KEY_UP, REQ_SELECT, "up"},       {KEY_DOWN, REQ_SELECT, "down"},
    {'k', REQ_KILL, NULL},            {'t', REQ_STOP, NULL},            {'p', REQ_PAUSE, NULL},
    {'r', REQ_RESTART, NULL},         {'l', REQ_LOAD, NULL},
    {'+', REQ_RATE, "+"},             {'=', REQ_RATE, "+"},             {'-', REQ_RATE, "-"},
    {'m', REQ_EDIT_CALL, NULL},       {':', REQ_COMMAND, NULL},         {'w', REQ_WIRE, NULL},
    {'g', REQ_REGISTRY_PROMPT, NULL}, {'e', REQ_REGISTRY, NULL},
    {KEY_PPAGE, REQ_SCROLL, "up"},    {KEY_NPAGE, REQ_SCROLL, "down"},  {KEY_END, REQ_SCROLL, "end"},
    {KEY_LEFT, REQ_CURSOR, "-"},      {KEY_RIGHT, REQ_CURSOR, "+"},
    {'\t', REQ_LANE, "next"},         {'1', REQ_LANE, "1"},             {'2', REQ_LANE, "2"},
    {'3', REQ_LANE, "3"},             {'x', REQ_DIRECTION, NULL},       {'R', REQ_RECAPTURE, NULL},
    {'P', REQ_PCAP, NULL},            {'s', REQ_SNIFF_PANE, NULL},
    {'\n', REQ_LESSON_KEY, "next"},   {KEY_ENTER, REQ_LESSON_KEY, "next"},
    {']', REQ_LESSON_KEY, "next"},    {'[', REQ_LESSON_KEY, "back"},    {'a', REQ_LESSON_KEY, "again"},
    {'L', REQ_LESSON_KEY, "off"},     {'?', REQ_HELP, NULL},            {KEY_F(1), REQ_HELP, NULL},
    {'H', REQ_HOSTS, NULL},           {'q', REQ_QUIT, NULL},            {3, REQ_QUIT, NULL}, /* Ctrl-C */
};

int tui_req_key(tui *t, int ch)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].key == ch) {
            int said = t->message[0] ? DIRTY_STATUS : 0; /* the key hints come back */
            t->message[0] = '\0';
            return said | requests[keys[i].req].fn(t, keys[i].arg);
        }
    return 0;
}

static const request *find_command(const char *word)
{
    for (size_t i = 0; i < REQ_COUNT; i++)
        if (requests[i].name && strcmp(requests[i].name, word) == 0)
            return &requests[i];
    return NULL;
}

int tui_req_command(tui *t, const char *line)
{
    char word[32] = "";
    int used = 0;
    sscanf(line, " %31s %n", word, &used);
    const request *r = find_command(word);
    t->message[0] = '\0';
    if (!r) {
        tui_say(t, _("unknown command '%s' (Tab lists them; ? for help)"), word);
        return DIRTY_STATUS;
    }
    char rest[512];
    snprintf(rest, sizeof rest, "%s", line + used);
    size_t n = strlen(rest);
    while (n && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
        rest[--n] = '\0';
    return r->fn(t, n ? rest : NULL) | DIRTY_STATUS;
}

/* The idx-th word of a space-separated list, or NULL. */
static const char *nth_word(const char *list, size_t idx)
{
    static char word[64];
    for (const char *p = list; p && *p; idx--) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ");
        if (!len)
            break;
        if (idx == 0) {
            snprintf(word, sizeof word, "%.*s", (int)len, p);
            return word;
        }
        p += len;
    }
    return NULL;
}

const char *tui_req_complete(const char *cmd, int argi, size_t idx)
{
    if (argi == 0) {
        for (size_t i = 0; i < REQ_COUNT; i++)
            if (requests[i].name && idx-- == 0)
                return requests[i].name;
        return NULL;
    }
    const request *r = argi == 1 ? find_command(cmd) : NULL;
    if (!r)
        return NULL;
    if (r == &requests[REQ_CALL]) {
        const catalog_method *m;
        for (size_t i = 0; (m = catalog_at(i)); i++)
            if (m->name && idx-- == 0)
                return m->name;
        return NULL;
    }
    return nth_word(r->words, idx);
}

/* ---- the help screen ---- */

/* "spawn json|gob|grpc|order|user|gateway [N], kill|stop|pause|resume|restart N, ...":
 * every command in the list's order, those written alike after their word together. */
static void command_list(char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < REQ_COUNT && n < cap; i++) {
        const request *r = &requests[i];
        if (!r->name)
            continue;
        const request *next = NULL;
        for (size_t k = i + 1; k < REQ_COUNT && !next; k++)
            if (requests[k].name)
                next = &requests[k];
        bool joined = next && r->usage[0] && strcmp(next->usage, r->usage) == 0;
        n += (size_t)snprintf(out + n, cap - n, "%s%s", r->name, joined ? "|" : "");
        if (!joined && n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s%s%s", r->usage[0] ? " " : "", r->usage, next ? ", " : "");
    }
}

const tui_key_help *tui_req_help(size_t *n)
{
    static tui_key_help line[REQ_COUNT];
    static char commands[1024];
    static size_t nline;
    if (!nline) {
        for (size_t i = 0; i < REQ_COUNT; i++) {
            const request *r = &requests[i];
            if (!r->label)
                continue;
            tui_key_help *h = &line[nline++];
            *h = (tui_key_help){_(r->label), r->bar ? _(r->bar) : NULL, _(r->help)};
            if (i == REQ_COMMAND) { /* the help, then every command */
                char list[900];
                command_list(list, sizeof list);
                size_t hl = strlen(h->help);
                bool wide = hl >= 3 && (unsigned char)h->help[hl - 3] >= 0xe0; /* "：" needs no space */
                snprintf(commands, sizeof commands, "%s%s%s", h->help, wide ? "" : " ", list);
                h->help = commands;
            }
        }
    }
    *n = nline;
    return line;
}
