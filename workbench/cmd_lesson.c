/* cmd_lesson.c -- `workbench lesson`: list the lessons, run one step by step in the
 * terminal, or check them all without interaction. */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "base/bindir.h"
#include "base/i18n.h"
#include "lesson/lesson.h"
#include "lesson/lesson_page.h"
#include "lesson/lesson_wrap.h"

enum { SHOWN_LINES = 40 };

/* Ctrl-C, SIGTERM or SIGHUP: the running step is stopped and the lesson ends the usual
 * way, so its servers, processes and scratch directory go too. */
static volatile sig_atomic_t interrupted;
static lesson_run *volatile running;

static void on_interrupt(int sig)
{
    interrupted = sig;
    lesson_run *r = running;
    if (r)
        lesson_run_cancel(r);
}

static void catch_interrupts(void)
{
    struct sigaction sa = {.sa_handler = on_interrupt}; /* no SA_RESTART: a waiting read ends */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void usage(FILE *f)
{
    fputs(_("Usage: workbench lesson [N] [--lang en|zh]\n"
            "       workbench lesson --check N|all [--lang en|zh]\n"
            "       workbench lesson N|all --render [--width COLS] [--height ROWS]\n"
            "Lessons that follow the tutorials step by step: each step explains, runs real\n"
            "commands against real servers, and checks what they printed.\n\n"
            "  (no N)            list the lessons\n"
            "  N                 run lesson N step by step, a screen per step: Enter runs\n"
            "                    the next step, b goes back, r runs the step again, q quits;\n"
            "                    a screen taller than the terminal scrolls under the\n"
            "                    step's explanation: Space, PgDn, Down; PgUp, Up\n"
            "  --check N|all     run without stopping; print ok/FAIL per step and a SKIP\n"
            "                    line for a lesson whose programs are not installed;\n"
            "                    exit status 1 when any step fails\n"
            "  --render          run the steps without stopping and print every screen the\n"
            "                    learner would see, as plain text (default 80x24)\n"
            "  --lang en|zh      the language (default: zh when the locale is Chinese,\n"
            "                    e.g. LANG=zh_CN.UTF-8, otherwise en)\n"
            "  --dir DIR         where the lesson files are (default: lessons/ beside bin/,\n"
            "                    or $WB_LESSONS)\n\n"
            "Inside the full-screen workbench, `:lesson N` shows the steps beside the panes.\n"
            "The file format is described in lessons/README.md.\n"),
          f);
}

/* Loads the lessons of dir into c; says what could not be read, a line each. */
static int load_lessons(lesson_catalog *c, const char *dir)
{
    char err[2048];
    int rc = lesson_catalog_load(c, dir, err, sizeof err);
    for (char *line = err; rc < 0 && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        fprintf(stderr, _("workbench lesson: %s\n"), line);
        line = nl;
    }
    return rc;
}

/* Prints text with every line indented; control bytes other than newline and tab print
 * as '.', so captured binary cannot upset the terminal. */
static void print_indented(const char *text, const char *indent, int max_lines)
{
    int lines = 0;
    bool start = true;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (start) {
            if (max_lines > 0 && lines == max_lines) {
                int rest = 0;
                for (const unsigned char *q = p; *q; q++)
                    rest += *q == '\n';
                printf("%s… (%d more lines)\n", indent, rest + 1);
                return;
            }
            fputs(indent, stdout);
            start = false;
        }
        if (*p == '\n') {
            putchar('\n');
            start = true;
            lines++;
        } else {
            putchar(*p < 0x20 && *p != '\t' ? '.' : *p == 0x7f ? '.' : *p);
        }
    }
    if (!start)
        putchar('\n');
}

static void print_checks(const lesson_run *r, const lesson_step *s, const lesson_result *res, lesson_lang g,
                         const char *indent)
{
    for (size_t j = 0; j < s->nexpect; j++) {
        char line[800];
        lesson_check_text(r, s, res, j, g, line, sizeof line);
        printf("%s%s\n", indent, line);
    }
}

/* Terminal attributes, empty when stdout is not a terminal or NO_COLOR is set. */
static const char *row_on[5] = {"", "", "", "", ""}, *row_off = "";

static void style_init(void)
{
    const char *no = getenv("NO_COLOR");
    if (isatty(STDOUT_FILENO) && !(no && *no)) {
        static const char *const on[5] = {"", "\033[1m", "\033[2m", "\033[32m", "\033[31m"};
        memcpy(row_on, on, sizeof row_on);
        row_off = "\033[0m";
    }
}

/* The screen: a terminal's size, or a size given for --render. paged: draw frames
 * (clear, scroll); otherwise every row is printed, as into a file. */
typedef struct screen {
    int cols, rows;
    bool paged, render;
} screen;

static void screen_size(screen *sc)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        sc->cols = ws.ws_col;
        sc->rows = ws.ws_row;
    }
}

/* Draws frame f of page p with its prompt at the bottom (none while the step runs: no
 * key does anything then). */
static void draw_frame(const screen *sc, const lesson_page *p, const lesson_frame *f, lesson_lang g, bool intro,
                       bool busy)
{
    char prompt[400] = "";
    if (!busy)
        lesson_page_prompt(p, f, g, intro, prompt, sizeof prompt);
    if (sc->paged && !sc->render)
        fputs("\033[H\033[2J", stdout);
    for (int k = 0; k < p->n; k++) {
        if (sc->paged && !(k < f->pinned || (k >= f->from && k < f->to)))
            continue;
        printf("%s%s%s\n", row_on[p->row[k].style], p->row[k].text, row_off);
    }
    if (sc->paged && !sc->render)
        printf("\033[%d;1H", sc->rows);
    if (!busy)
        printf("%s%s%s%s", row_on[ROW_DIM], prompt, row_off, sc->render ? "\n" : " ");
    fflush(stdout);
}

enum { KEY_UP = 0x100, KEY_DOWN, KEY_PGUP, KEY_PGDN, KEY_LEFT, KEY_RIGHT, KEY_RESIZE };
static volatile sig_atomic_t resized;

static void on_resize(int sig)
{
    (void)sig;
    resized = 1;
}

/* One key from the terminal (raw, no echo; arrows and PgUp/PgDn as KEY_*; KEY_RESIZE
 * when the window changed size), or a line's first character when stdin is not a
 * terminal. Returns 'q' at end of input. */
static int read_key(void)
{
    if (!isatty(STDIN_FILENO)) {
        char line[64];
        if (!fgets(line, sizeof line, stdin))
            return 'q';
        return line[0] == '\n' ? '\n' : line[0];
    }
    struct termios old, raw;
    tcgetattr(STDIN_FILENO, &old);
    raw = old;
    raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    unsigned char c = 'q';
    int key;
    ssize_t got = interrupted ? 0 : read(STDIN_FILENO, &c, 1);
    if (got < 0 && resized)
        key = KEY_RESIZE;
    else if (got != 1)
        key = 'q';
    else if (c == 0x1b) { /* ESC [ A..D, ESC [ 5 ~, ESC [ 6 ~ (a lone ESC times out) */
        unsigned char seq[3] = {0, 0, 0};
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 1;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        ssize_t n = read(STDIN_FILENO, seq, 1);
        n += n == 1 ? read(STDIN_FILENO, seq + 1, 1) : 0;
        if (n == 2 && (seq[1] == '5' || seq[1] == '6') && (read(STDIN_FILENO, seq + 2, 1) != 1 || seq[2] != '~'))
            seq[1] = 0;
        key = n < 2 || (seq[0] != '[' && seq[0] != 'O') ? 0x1b
              : seq[1] == 'A' ? KEY_UP
              : seq[1] == 'B' ? KEY_DOWN
              : seq[1] == 'C' ? KEY_RIGHT
              : seq[1] == 'D' ? KEY_LEFT
              : seq[1] == '5' ? KEY_PGUP
              : seq[1] == '6' ? KEY_PGDN
                              : 0;
    } else {
        key = c == '\r' ? '\n' : c;
    }
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    resized = 0;
    return key;
}

/* What a key asks of a step's screen. */
typedef enum step_move { MOVE_NEXT, MOVE_BACK, MOVE_AGAIN, MOVE_QUIT } step_move;

/* What a page is built from, so that a resize can build it again. */
typedef struct page_src {
    const lesson_run *r;
    const lesson *l;
    size_t step;
    lesson_lang g;
    const lesson_result *res;
    const char *why, *bindir, *missing;
    bool intro;
} page_src;

static int build_page(lesson_page *p, const page_src *s)
{
    return s->intro ? lesson_page_intro(p, s->r, s->l, s->g, s->bindir, s->missing)
                    : lesson_page_step(p, s->r, s->l, s->step, s->g, s->res, s->why);
}

/* Shows the page of src until a key leaves it: scroll keys move within it; a resize
 * lays it out again. Without a terminal to page on, shows it all and reads one key. */
static step_move show_page(screen *sc, lesson_page *p, const page_src *src)
{
    int scroll = 0;
    for (;;) {
        lesson_frame f;
        lesson_page_frame(p, sc->paged ? sc->rows : p->n + 1, &scroll, &f);
        draw_frame(sc, p, &f, src->g, src->intro, false);
        int shown = f.to - f.from > 0 ? f.to - f.from : 1; /* a page, as --render turns them */
        int key = read_key();
        if (!sc->paged)
            putchar('\n');
        if (interrupted)
            return MOVE_QUIT;
        switch (key) {
        case 'q': case 'Q': case 4: return MOVE_QUIT;
        case 'b': case 'B': case 'p': case KEY_LEFT: return MOVE_BACK;
        case 'r': case 'R': return MOVE_AGAIN;
        case '\n': case 'n': case KEY_RIGHT: return MOVE_NEXT;
        case KEY_DOWN: case 'j': scroll++; break;
        case KEY_UP: case 'k': scroll--; break;
        case KEY_PGDN: scroll += shown; break;
        case KEY_PGUP: scroll -= shown; break;
        case ' ':
            if (!f.below)
                return MOVE_NEXT;
            scroll += shown;
            break;
        case KEY_RESIZE:
            screen_size(sc);
            lesson_page_done(p);
            lesson_page_init(p, sc->cols);
            build_page(p, src);
            break;
        default: break;
        }
    }
}

/* --render: every frame of the page, one after another, as plain text under a line that
 * names it; a frame is what the screen shows, its prompt on its last row. */
static void render_page(const screen *sc, const lesson_page *p, const page_src *src)
{
    int scroll = 0, frames = 0;
    for (;;) {
        lesson_frame f;
        lesson_page_frame(p, sc->rows, &scroll, &f);
        frames++;
        printf("=== lesson %d %s %zu screen %d (%dx%d)\n", src->l->number, src->intro ? "intro" : "step",
               src->intro ? (size_t)0 : src->step + 1, frames, sc->cols, sc->rows);
        draw_frame(sc, p, &f, src->g, src->intro, false);
        if (!f.below || frames > 10000)
            break;
        scroll += f.to - f.from;
    }
}

/* Builds src's page and renders it (--render) or shows it for the learner's keys; the
 * move the learner chose (MOVE_NEXT when rendering). */
static step_move present(screen *sc, const page_src *src)
{
    step_move m = MOVE_NEXT;
    lesson_page p;
    lesson_page_init(&p, sc->cols);
    build_page(&p, src);
    if (sc->render)
        render_page(sc, &p, src);
    else
        m = show_page(sc, &p, src);
    lesson_page_done(&p);
    return m;
}

/* Step i's screen while its commands run ("running…"), on a terminal; then runs them
 * into res. */
static int run_step(screen *sc, lesson_run *r, page_src *src, lesson_result *res, char *err, size_t errlen)
{
    lesson_page p;
    if (sc->paged && !sc->render) {
        lesson_page_init(&p, sc->cols);
        build_page(&p, src);
        int scroll = 0;
        lesson_frame f;
        lesson_page_frame(&p, sc->rows, &scroll, &f);
        draw_frame(sc, &p, &f, src->g, false, true);
        lesson_page_done(&p);
    }
    return lesson_run_step(r, src->step, res, err, errlen);
}

/* One lesson, step by step: on a terminal a screen per step, scrolled when it is taller
 * than the terminal; with --render, every screen of every step printed in turn. A lesson
 * whose programs are missing is shown for reading, its commands not run. */
static int run_interactive(const lesson *l, const char *bindir, lesson_lang g, screen *sc)
{
    char skip[512] = "", err[512] = "";
    if (lesson_validate(l, err, sizeof err) < 0)
        fprintf(stderr, _("workbench lesson: note: %s\n"), err);
    if (sc->paged && !sc->render) {
        fputs("\033[H\033[2J", stdout);
        printf(_("Lesson %d: starting the lesson's servers…\n"), l->number);
        fflush(stdout);
    }
    lesson_run *r = lesson_run_new(l, bindir, skip, sizeof skip, err, sizeof err);
    if (!r && !skip[0]) {
        fprintf(stderr, _("workbench lesson: %s\n"), err);
        return EXIT_FAILED;
    }
    if (!r && !(r = lesson_run_dry(l, bindir))) {
        fprintf(stderr, _("workbench lesson: out of memory\n"));
        return EXIT_FAILED;
    }
    bool dry = lesson_run_is_dry(r);
    running = dry ? NULL : r;
    int rc = EXIT_OK;
    size_t i = 0;
    step_move m = MOVE_NEXT;
    page_src src = {.r = r, .l = l, .g = g, .bindir = bindir, .missing = skip, .intro = true};
    m = present(sc, &src);
    src.intro = false;
    while (m != MOVE_QUIT && i < l->nstep && !interrupted) {
        lesson_result res = {0};
        src.step = i;
        src.res = NULL;
        src.why = dry ? skip : NULL;
        if (!dry) {
            if (run_step(sc, r, &src, &res, err, sizeof err) < 0) {
                fprintf(stderr, _("workbench lesson: %s\n"), err);
                rc = EXIT_FAILED;
                break;
            }
            src.res = &res;
        }
        m = present(sc, &src);
        lesson_result_done(&res);
        if (m == MOVE_BACK)
            i = i > 0 ? i - 1 : 0;
        else if (m == MOVE_NEXT)
            i++;
    }
    if (sc->paged && !sc->render)
        fputs("\033[H\033[2J", stdout);
    if (i >= l->nstep && !sc->render)
        printf(_("Lesson %d finished.\n"), l->number);
    running = NULL;
    lesson_run_free(r);
    if (interrupted) {
        printf("\n%s: %s\n", strsignal(interrupted), _("the lesson's servers are stopped"));
        return 128 + interrupted;
    }
    return rc;
}

/* Runs every step of l; returns the number of failures. */
static int check_lesson(const lesson *l, const char *bindir, int *passed, int *skipped)
{
    char skip[512] = "", err[512] = "";
    if (lesson_validate(l, err, sizeof err) < 0) {
        printf("FAIL lesson %d: %s\n", l->number, err);
        return 1;
    }
    lesson_run *r = lesson_run_new(l, bindir, skip, sizeof skip, err, sizeof err);
    if (!r) {
        if (skip[0]) {
            printf("SKIP lesson %d (%s): %s\n", l->number, l->title[LANG_EN], skip);
            (*skipped)++;
            return 0;
        }
        printf("FAIL lesson %d: %s\n", l->number, err);
        return 1;
    }
    int failed = 0;
    running = r;
    for (size_t i = 0; i < l->nstep && !interrupted; i++) {
        const lesson_step *s = &l->step[i];
        lesson_result res;
        if (lesson_run_step(r, i, &res, err, sizeof err) < 0) {
            printf("FAIL lesson %d step %zu: %s\n", l->number, i + 1, err);
            failed++;
            continue;
        }
        if (res.ok) {
            printf("ok   lesson %d step %zu: %s\n", l->number, i + 1, s->title[LANG_EN]);
            (*passed)++;
        } else {
            printf("FAIL lesson %d step %zu: %s (%s:%d)\n", l->number, i + 1, s->title[LANG_EN], l->path, s->line);
            print_checks(r, s, &res, LANG_EN, "     ");
            printf("     output:\n");
            print_indented(res.output, "     | ", SHOWN_LINES);
            failed++;
        }
        fflush(stdout);
        lesson_result_done(&res);
    }
    running = NULL;
    lesson_run_free(r);
    return failed + (interrupted != 0);
}

static void list(const lesson_catalog *c, lesson_lang g)
{
    printf(_("Lessons (workbench lesson N runs one step by step):\n"));
    for (int i = 0; i < c->n; i++) {
        const lesson *l = c->l[i];
        printf("  %2d  %s", l->number, lesson_text(l->title, g));
        char missing[256];
        if (lesson_missing(l, missing, sizeof missing))
            printf(_("  (cannot run: %s)"), missing);
        putchar('\n');
    }
}

/* The screen lessons are shown on: --render's size, the terminal's, or (output into a
 * file or pipe) COLUMNS or 80 columns, unpaged. Also tells the commands, through COLUMNS,
 * how wide their output may be: what is left beside the output's gutter ("  │ ") and
 * the last column, which stays empty. Check mode lays out as for 80 columns. */
static void screen_init(screen *sc, bool render, int width, int height)
{
    *sc = (screen){.cols = 80, .rows = 24, .paged = render, .render = render};
    const char *cols = getenv("COLUMNS");
    if (render) {
        sc->cols = width;
        sc->rows = height;
    } else if (isatty(STDOUT_FILENO)) {
        screen_size(sc);
        sc->paged = true;
    } else if (cols && atoi(cols) >= 20 && atoi(cols) <= 1000) {
        sc->cols = atoi(cols);
    }
    char out[16];
    snprintf(out, sizeof out, "%d", sc->cols - 5);
    setenv("COLUMNS", out, 1);
}

int cmd_lesson(int argc, char **argv)
{
    static const struct option opts[] = {
        {"check", required_argument, NULL, 'c'}, {"lang", required_argument, NULL, 'L'},
        {"dir", required_argument, NULL, 'd'},   {"render", no_argument, NULL, 'r'},
        {"width", required_argument, NULL, 'W'}, {"height", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *check = NULL, *dir_opt = NULL;
    bool render = false;
    int width = 80, height = 24;
    lesson_lang g = lesson_locale_lang();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:L:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': check = optarg; break;
        case 'd': dir_opt = optarg; break;
        case 'r': render = true; break;
        case 'W':
        case 'H': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < (c == 'W' ? 40 : 10) || v > 1000) {
                fprintf(stderr, _("workbench lesson: --%s takes %s, not \"%s\"\n"), c == 'W' ? "width" : "height",
                        c == 'W' ? _("40 to 1000 columns") : _("10 to 1000 rows"), optarg);
                return EXIT_USAGE;
            }
            *(c == 'W' ? &width : &height) = (int)v;
            break;
        }
        case 'L':
            if (strcmp(optarg, "en") && strcmp(optarg, "zh")) {
                fprintf(stderr, _("workbench lesson: --lang takes en or zh, not \"%s\"\n"), optarg);
                return EXIT_USAGE;
            }
            g = optarg[0] == 'z' ? LANG_ZH : LANG_EN;
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc - 1 || (check && optind < argc) || (check && render) || (render && optind == argc)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    char dir[PATH_MAX], bindir[PATH_MAX];
    if (dir_opt)
        snprintf(dir, sizeof dir, "%s", dir_opt);
    else if (lesson_dir(dir, sizeof dir) < 0) {
        fprintf(stderr, _("workbench lesson: the lessons directory path is too long\n"));
        return EXIT_FAILED;
    }
    screen sc;
    screen_init(&sc, render || check, width, height);
    if (bindir_get(bindir, sizeof bindir) < 0) {
        fprintf(stderr, _("workbench lesson: cannot find the workbench's own directory\n"));
        return EXIT_FAILED;
    }
    if (!render)
        style_init();
    lesson_catalog cat = {0};
    int loaded = load_lessons(&cat, dir);
    const char *which = check ? check : optind < argc ? argv[optind] : NULL;
    int want = 0;
    if (which && strcmp(which, "all") != 0) {
        char *end;
        want = (int)strtol(which, &end, 10);
        if (end == which || *end || want <= 0) {
            fprintf(stderr, _("workbench lesson: \"%s\" is not a lesson number\n"), which);
            lesson_catalog_free(&cat);
            return EXIT_USAGE;
        }
        if (!lesson_catalog_find(&cat, want)) {
            fprintf(stderr, _("workbench lesson: there is no lesson %d (workbench lesson lists them)\n"), want);
            lesson_catalog_free(&cat);
            return EXIT_USAGE;
        }
    }
    int rc = EXIT_OK;
    if (check) {
        int passed = 0, failed = loaded < 0 ? 1 : 0, skipped = 0;
        catch_interrupts();
        for (int i = 0; i < cat.n && !interrupted; i++)
            if (!want || cat.l[i]->number == want)
                failed += check_lesson(cat.l[i], bindir, &passed, &skipped);
        printf("lessons: %d steps passed, %d failed, %d lessons skipped\n", passed, failed, skipped);
        rc = failed ? EXIT_REMOTE_ERROR : EXIT_OK;
    } else if (render) {
        catch_interrupts();
        for (int i = 0; i < cat.n && !interrupted && rc == EXIT_OK; i++)
            if (!want || cat.l[i]->number == want)
                rc = run_interactive(cat.l[i], bindir, g, &sc);
    } else if (!which || !strcmp(which, "all")) {
        if (cat.n)
            list(&cat, g);
        rc = loaded < 0 ? EXIT_FAILED : EXIT_OK;
    } else {
        catch_interrupts();
        struct sigaction sa = {.sa_handler = on_resize}; /* no SA_RESTART: a waiting read ends */
        sigemptyset(&sa.sa_mask);
        if (sc.paged)
            sigaction(SIGWINCH, &sa, NULL);
        rc = run_interactive(lesson_catalog_find(&cat, want), bindir, g, &sc);
    }
    lesson_catalog_free(&cat);
    return rc;
}
