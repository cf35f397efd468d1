/* tui_cmdline.c -- readline's callback interface fed from getch, displayed by the TUI. */
#include "tui_cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "wire/explain.h"

static tui_cmdline *cur;
static tui_complete_fn completer;
static unsigned char pending[64]; /* the bytes of the key being fed to readline */
static size_t npending, pendpos;
static int result;                /* set by on_line: 1 entered, -1 left */
static char *entered;

static int feed_getc(FILE *f)
{
    (void)f;
    if (pendpos < npending)
        return pending[pendpos++];
    return EOF;
}

static int feed_available(void)
{
    return pendpos < npending;
}

static void no_prep(int meta)
{
    (void)meta;
}

static void no_deprep(void)
{
}

/* Readline's display: copy the line into the model; tui_draw shows it. */
static void redisplay(void)
{
    if (!cur)
        return;
    snprintf(cur->line, sizeof cur->line, "%s", rl_line_buffer ? rl_line_buffer : "");
    int point = rl_point < 0 ? 0 : rl_point;
    if ((size_t)point > strlen(cur->line))
        point = (int)strlen(cur->line);
    cur->point_cols = (int)utf8_width(cur->line, (size_t)point);
}

static void show_matches(char **matches, int n, int maxlen)
{
    (void)maxlen;
    if (!cur)
        return;
    size_t p = 0;
    cur->matches[0] = '\0';
    for (int i = 1; i <= n && p + 2 < sizeof cur->matches; i++) {
        int w = snprintf(cur->matches + p, sizeof cur->matches - p, "%s%s", i > 1 ? " " : "", matches[i]);
        if (w < 0)
            break;
        p += (size_t)w;
    }
    if (p >= sizeof cur->matches)
        cur->matches[sizeof cur->matches - 1] = '\0';
}

static void on_line(char *line)
{
    if (line && line[strspn(line, " \t")]) {
        add_history(line);
        entered = line;
        result = 1;
    } else {
        free(line);
        result = -1;
    }
    rl_callback_handler_remove();
}

/* Which word the completion is for, and the command word of the line. */
static char cmd_word[64];
static int arg_index;

static char *generate(const char *text, int state)
{
    static size_t idx;
    if (state == 0)
        idx = 0;
    const char *cand;
    size_t tl = strlen(text);
    while ((cand = completer(cmd_word, arg_index, idx++)) != NULL)
        if (strncmp(cand, text, tl) == 0)
            return strdup(cand);
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1; /* never file names */
    const char *b = rl_line_buffer;
    size_t i = strspn(b, " \t"), wl = strcspn(b + i, " \t");
    snprintf(cmd_word, sizeof cmd_word, "%.*s", (int)wl, b + i);
    arg_index = 0;
    bool inword = false;
    for (int k = 0; k < start; k++) {
        bool sp = b[k] == ' ' || b[k] == '\t';
        if (!sp && !inword)
            arg_index++;
        inword = !sp;
    }
    if (!completer)
        return NULL;
    return rl_completion_matches(text, generate);
}

void tui_cmdline_init(tui_cmdline *c, tui_complete_fn complete_fn)
{
    memset(c, 0, sizeof *c);
    completer = complete_fn;
    rl_readline_name = "workbench";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_prep_term_function = no_prep;
    rl_deprep_term_function = no_deprep;
    rl_getc_function = feed_getc;
    rl_input_available_hook = feed_available;
    rl_redisplay_function = redisplay;
    rl_completion_display_matches_hook = show_matches;
    rl_attempted_completion_function = complete;
    static FILE *null;
    if (!null)
        null = fopen("/dev/null", "w");
    if (null)
        rl_outstream = null; /* bells and anything else readline writes */
    rl_variable_bind("show-all-if-ambiguous", "on");
    rl_variable_bind("bell-style", "none");
    using_history();
}

void tui_cmdline_open(tui_cmdline *c, const char *text)
{
    cur = c;
    c->active = true;
    c->line[0] = '\0';
    c->point_cols = 0;
    c->matches[0] = '\0';
    rl_callback_handler_install(":", on_line);
    if (text && text[0]) {
        rl_insert_text(text);
        redisplay();
    }
}

static void close_line(tui_cmdline *c)
{
    c->active = false;
    c->line[0] = '\0';
    c->matches[0] = '\0';
    npending = pendpos = 0;
}

int tui_cmdline_key(tui_cmdline *c, int ch, char *out, size_t outlen)
{
    if (!c->active)
        return -1;
    if (ch == 27 || ch == 3) { /* Esc (a lone one: keypad turns sequences into KEY_*), Ctrl-C */
        rl_replace_line("", 1);
        rl_callback_handler_remove();
        using_history();
        close_line(c);
        return -1;
    }
    const char *seq = NULL;
    char one[2] = {0, 0};
    switch (ch) {
    case KEY_UP: seq = "\033[A"; break;
    case KEY_DOWN: seq = "\033[B"; break;
    case KEY_RIGHT: seq = "\033[C"; break;
    case KEY_LEFT: seq = "\033[D"; break;
    case KEY_HOME: seq = "\033[H"; break;
    case KEY_END: seq = "\033[F"; break;
    case KEY_DC: seq = "\033[3~"; break;
    case KEY_BACKSPACE: seq = "\177"; break;
    case KEY_ENTER: seq = "\r"; break;
    default:
        if (ch < 0 || ch > 255)
            return 0; /* other function keys: ignored */
        one[0] = (char)ch;
        seq = one;
        if (ch == 0)
            return 0;
    }
    c->matches[0] = '\0';
    npending = strlen(seq);
    memcpy(pending, seq, npending);
    pendpos = 0;
    result = 0;
    entered = NULL;
    while (pendpos < npending && result == 0)
        rl_callback_read_char();
    int r = result;
    if (r == 1) {
        snprintf(out, outlen, "%s", entered);
        free(entered);
        entered = NULL;
    }
    if (r != 0)
        close_line(c);
    return r;
}

void tui_cmdline_done(tui_cmdline *c)
{
    if (c->active) {
        rl_callback_handler_remove();
        close_line(c);
    }
    cur = NULL;
}
