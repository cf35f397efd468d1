/* tui_req.c -- the TUI's requests made from the list in tui_req.h, the keys bound to them,
 * and what comes of the list: dispatch, completion and the help screen's lines. */
#include "tui_req.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curses.h>

#include "wire/catalog.h"
#include "wire/explain.h"

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
    {'\n', REQ_LESSON_KEY, "next"},   {KEY_ENTER, REQ_LESSON_KEY, "next"},
    {']', REQ_LESSON_KEY, "next"},    {'[', REQ_LESSON_KEY, "back"},    {'a', REQ_LESSON_KEY, "again"},
    {'L', REQ_LESSON_KEY, "off"},     {'?', REQ_HELP, NULL},            {KEY_F(1), REQ_HELP, NULL},
    {'q', REQ_QUIT, NULL},            {3, REQ_QUIT, NULL}, /* Ctrl-C */
};

int tui_req_key(tui *t, int ch)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].key == ch) {
            t->cmd_message = false;
            return requests[keys[i].req].fn(t, keys[i].arg);
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
    t->cmd_message = true;
    if (!r) {
        tui_say(t, "unknown command '%s' (Tab lists them; ? for help)", word);
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

enum { HELP_LINES = 48, HELP_TEXT = 4096, WRAP_COLS = 80 };

typedef struct help_book {
    tui_key_help line[HELP_LINES];
    size_t n;
    char text[HELP_TEXT]; /* the lines' text, each NUL-terminated */
    size_t used;
} help_book;

/* Adds a line of text[0..len) (the first of a request's when label is set). */
static void add_line(help_book *h, const char *label, const char *bar, const char *text, size_t len)
{
    if (h->n == HELP_LINES || h->used + len + 1 > sizeof h->text)
        return;
    char *s = h->text + h->used;
    memcpy(s, text, len);
    s[len] = '\0';
    h->used += len + 1;
    h->line[h->n++] = (tui_key_help){label ? label : "", bar, s};
}

/* Adds text as lines, a new one at each "\n". */
static void add_text(help_book *h, const char *label, const char *bar, const char *text)
{
    for (;;) {
        size_t len = strcspn(text, "\n");
        add_line(h, label, bar, text, len);
        if (!text[len])
            return;
        text += len + 1;
        label = bar = NULL;
    }
}

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

/* Adds text wrapped to WRAP_COLS columns, the lines after the first indented by two.
 * A line may end after ", " or before "|". */
static void add_wrapped(help_book *h, const char *label, const char *bar, const char *text)
{
    char line[512];
    const char *p = text;
    bool first = true;
    while (*p) {
        size_t indent = first ? 0 : 2, cut = 0, k = 0;
        for (; p[k]; k++) {
            if (((unsigned char)p[k] & 0xc0) == 0x80)
                continue; /* inside a character */
            if (utf8_width(p, k) + indent > WRAP_COLS)
                break;
            if ((p[k] == ' ' && k && p[k - 1] == ',') || (p[k] == '|' && k))
                cut = k;
        }
        if (!p[k] || !cut)
            cut = k;
        snprintf(line, sizeof line, "%*s%.*s", (int)indent, "", (int)cut, p);
        add_line(h, first ? label : NULL, first ? bar : NULL, line, strlen(line));
        p += cut;
        p += *p == ' ';
        first = false;
    }
}

const tui_key_help *tui_req_help(size_t *n)
{
    static help_book h;
    if (!h.n) {
        for (size_t i = 0; i < REQ_COUNT; i++) {
            const request *r = &requests[i];
            if (!r->label)
                continue;
            if (i == REQ_COMMAND) {
                char all[1024], list[900];
                command_list(list, sizeof list);
                snprintf(all, sizeof all, "%s %s", r->help, list);
                add_wrapped(&h, r->label, r->bar, all);
            } else {
                add_text(&h, r->label, r->bar, r->help);
            }
        }
    }
    *n = h.n;
    return h.line;
}
