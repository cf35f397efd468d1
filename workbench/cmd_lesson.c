/* cmd_lesson.c -- `workbench lesson`: list the lessons, run one step by step in the
 * terminal, or check them all without interaction. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "base/bindir.h"
#include "lesson/lesson.h"

enum { MAX_LESSONS = 99, SHOWN_LINES = 40 };

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
    fprintf(f, "Usage: workbench lesson [N] [--lang en|zh]\n"
               "       workbench lesson --check N|all [--lang en|zh]\n"
               "Lessons that follow the tutorials step by step: each step explains, runs real\n"
               "commands against real servers, and checks what they printed.\n\n"
               "  (no N)            list the lessons\n"
               "  N                 run lesson N step by step: Enter runs the next step,\n"
               "                    b goes back, r runs the step again, q quits\n"
               "  --check N|all     run without stopping; print ok/FAIL per step and a SKIP\n"
               "                    line for a lesson whose programs are not installed;\n"
               "                    exit status 1 when any step fails\n"
               "  --lang en|zh      the language (default: zh when the locale is Chinese,\n"
               "                    e.g. LANG=zh_CN.UTF-8, otherwise en)\n"
               "  --dir DIR         where the lesson files are (default: lessons/ beside bin/,\n"
               "                    or $WB_LESSONS)\n\n"
               "Inside the full-screen workbench, `:lesson N` shows the steps beside the panes.\n"
               "The file format is described in lessons/README.md.\n");
}

typedef struct catalog {
    lesson *l[MAX_LESSONS];
    int n;
} catalog;

static void catalog_free(catalog *c)
{
    for (int i = 0; i < c->n; i++)
        lesson_free(c->l[i]);
    c->n = 0;
}

static int catalog_load(catalog *c, const char *dir)
{
    char *paths[MAX_LESSONS];
    char err[512];
    int n = lesson_list(dir, paths, MAX_LESSONS, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "workbench lesson: %s\n", err);
        return -1;
    }
    int rc = 0;
    c->n = 0;
    for (int i = 0; i < n; i++) {
        lesson *l = lesson_load(paths[i], err, sizeof err);
        if (!l) {
            fprintf(stderr, "workbench lesson: %s\n", err);
            rc = -1;
        } else {
            c->l[c->n++] = l;
        }
        free(paths[i]);
    }
    if (n == 0) {
        fprintf(stderr, "workbench lesson: no lesson files (NN-name.txt) in %s\n", dir);
        rc = -1;
    }
    return rc;
}

static lesson *catalog_find(const catalog *c, int number)
{
    for (int i = 0; i < c->n; i++)
        if (c->l[i]->number == number)
            return c->l[i];
    return NULL;
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

/* Terminal attributes, empty when stdout is not a terminal or NO_COLOR is set. */
typedef struct text_style {
    const char *bold, *dim, *good, *bad, *off;
} text_style;
static text_style style = {"", "", "", "", ""};

static void style_init(void)
{
    const char *no = getenv("NO_COLOR");
    if (isatty(STDOUT_FILENO) && !(no && *no))
        style = (text_style){"\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[0m"};
}

static const char *const labels[2][6] = {
    {"Lesson", "Step", "Look", "running", "Enter: next · b: back · r: run again · q: quit", "finished"},
    {"第", "步骤", "看这里", "运行中", "回车:下一步 · b:上一步 · r:重新运行 · q:退出", "完成"},
};

/* A command as the learner types it: "$ " before its first line only. */
static void print_command(const char *cmd)
{
    const char *nl = cmd ? strchr(cmd, '\n') : NULL;
    printf("  $ %.*s\n", nl ? (int)(nl - cmd) : (int)strlen(cmd ? cmd : ""), cmd ? cmd : "");
    if (nl)
        print_indented(nl + 1, "    ", 0);
}

/* text with the run's variables filled in, indented. */
static void print_expanded(const lesson_run *r, const char *text, const char *indent)
{
    char *t = lesson_expand(r, text ? text : "");
    print_indented(t ? t : "", indent, 0);
    free(t);
}

static void print_step_text(const lesson_run *r, const lesson *l, size_t i, lesson_lang g)
{
    const lesson_step *s = &l->step[i];
    if (g == LANG_ZH)
        printf("\n%s── 第 %d 课 · 步骤 %zu/%zu:%s ──%s\n", style.bold, l->number, i + 1, l->nstep,
               lesson_text(s->title, g), style.off);
    else
        printf("\n%s── Lesson %d · Step %zu/%zu: %s ──%s\n", style.bold, l->number, i + 1, l->nstep,
               lesson_text(s->title, g), style.off);
    print_expanded(r, lesson_text(s->say, g), "  ");
    putchar('\n');
    for (size_t j = 0; j < s->nbackground; j++) {
        char *cmd = lesson_expand(r, s->background[j]);
        printf("  %s(%s)%s\n", style.dim, g == LANG_ZH ? "在后台运行" : "in the background", style.off);
        print_command(cmd);
        free(cmd);
    }
    for (size_t j = 0; j < s->nrun; j++) {
        char *cmd = lesson_expand(r, s->run[j]);
        print_command(cmd);
        free(cmd);
    }
}

static void print_checks(const lesson_step *s, const lesson_result *res, lesson_lang g, const char *indent)
{
    for (size_t j = 0; j < s->nexpect; j++) {
        char what[600];
        lesson_expect_describe(&s->expect[j], g, what, sizeof what);
        printf("%s%s%s%s %s", indent, res->met[j] ? style.good : style.bad, res->met[j] ? "✓" : "✗", style.off, what);
        if (!res->met[j] && s->expect[j].kind == EXPECT_EXIT && res->timed_out)
            printf(g == LANG_ZH ? "(超过了 %d 秒的时限)" : " (it ran past its %d s deadline)", s->timeout_s);
        else if (!res->met[j] && s->expect[j].kind == EXPECT_EXIT)
            printf(g == LANG_ZH ? "(实际是 %d)" : " (it was %d)", res->status);
        putchar('\n');
    }
}

/* One key from the terminal (raw, no echo), or a line's first character when stdin is
 * not a terminal. Returns 'q' at end of input. */
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
    if (interrupted || read(STDIN_FILENO, &c, 1) != 1)
        c = 'q';
    if (c == 0x1b) { /* an arrow key: ESC [ D is left */
        unsigned char seq[2] = {0, 0};
        if (read(STDIN_FILENO, seq, 2) == 2 && seq[0] == '[')
            c = seq[1] == 'D' || seq[1] == 'A' ? 'b' : '\n';
    }
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    return c == '\r' ? '\n' : c;
}

static int run_interactive(const lesson *l, const char *bindir, lesson_lang g)
{
    char skip[512] = "", err[512] = "";
    char verr[512];
    if (lesson_validate(l, verr, sizeof verr) < 0)
        fprintf(stderr, "workbench lesson: note: %s\n", verr);
    if (g == LANG_ZH)
        printf("%s第 %d 课:%s%s\n", style.bold, l->number, lesson_text(l->title, g), style.off);
    else
        printf("%sLesson %d: %s%s\n", style.bold, l->number, lesson_text(l->title, g), style.off);
    fflush(stdout);
    lesson_run *r = lesson_run_new(l, bindir, skip, sizeof skip, err, sizeof err);
    if (!r && !skip[0]) {
        fprintf(stderr, "workbench lesson: %s\n", err);
        return EXIT_FAILED;
    }
    if (l->intro[LANG_EN])
        print_expanded(r, lesson_text(l->intro, g), "  ");
    printf(g == LANG_ZH ? "  %s(想在另一个终端里自己敲这些命令,先运行 export PATH=%s:$PATH)%s\n"
                        : "  %s(To type the commands yourself in another terminal, first run: export PATH=%s:$PATH)%s\n",
           style.dim, bindir, style.off);
    if (!r) /* still worth reading: the steps without running them */
        printf(g == LANG_ZH ? "\n%s这一课需要的程序没有安装:%s。下面只列出步骤,命令不会运行。%s\n"
                            : "\n%sThis lesson needs something that is not installed: %s.\n"
                              "The steps follow for reading; their commands are not run.%s\n",
               style.bad, skip, style.off);
    int rc = EXIT_OK;
    size_t i = 0;
    running = r;
    while (i < l->nstep && !interrupted) {
        const lesson_step *s = &l->step[i];
        print_step_text(r, l, i, g);
        lesson_result res = {0};
        if (!r) {
            printf("\n  %s%s:%s\n", style.bold, labels[g][2], style.off);
            print_expanded(r, lesson_text(s->look, g), "  ");
        } else {
            printf("  %s%s…%s\n", style.dim, labels[g][3], style.off);
            fflush(stdout);
        }
        if (r && lesson_run_step(r, i, &res, err, sizeof err) < 0) {
            fprintf(stderr, "workbench lesson: %s\n", err);
            rc = EXIT_FAILED;
            break;
        }
        if (r) {
            print_indented(res.output, "  │ ", SHOWN_LINES);
            if (res.truncated)
                printf("  │ …\n");
            printf("\n  %s%s:%s\n", style.bold, labels[g][2], style.off);
            print_expanded(r, lesson_text(s->look, g), "  ");
            print_checks(s, &res, g, "  ");
            lesson_result_done(&res);
        }
        printf("\n  %s[%s]%s ", style.dim, labels[g][4], style.off);
        fflush(stdout);
        int key = read_key();
        putchar('\n');
        if (key == 'q' || key == 'Q' || key == 4)
            break;
        if (key == 'b' || key == 'B' || key == 'p')
            i = i > 0 ? i - 1 : 0;
        else if (key != 'r' && key != 'R')
            i++;
    }
    if (i >= l->nstep)
        printf(g == LANG_ZH ? "\n第 %d 课%s。\n" : "\nLesson %d %s.\n", l->number, labels[g][5]);
    running = NULL;
    lesson_run_free(r);
    if (interrupted) {
        printf("\n%s: %s\n", strsignal(interrupted), g == LANG_ZH ? "已停止这一课的服务" : "the lesson's servers are stopped");
        return 128 + interrupted;
    }
    return r || rc ? rc : EXIT_FAILED;
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
            print_checks(s, &res, LANG_EN, "     ");
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

static void list(const catalog *c, lesson_lang g)
{
    printf(g == LANG_ZH ? "课程(workbench lesson N 逐步运行):\n" : "Lessons (workbench lesson N runs one step by step):\n");
    for (int i = 0; i < c->n; i++) {
        const lesson *l = c->l[i];
        printf("  %2d  %s", l->number, lesson_text(l->title, g));
        char missing[256];
        if (lesson_missing(l, missing, sizeof missing))
            printf(g == LANG_ZH ? "  (无法运行:%s)" : "  (cannot run: %s)", missing);
        putchar('\n');
    }
}

int cmd_lesson(int argc, char **argv)
{
    static const struct option opts[] = {
        {"check", required_argument, NULL, 'c'}, {"lang", required_argument, NULL, 'L'},
        {"dir", required_argument, NULL, 'd'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *check = NULL, *dir_opt = NULL;
    lesson_lang g = lesson_locale_lang();
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:L:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': check = optarg; break;
        case 'd': dir_opt = optarg; break;
        case 'L':
            if (strcmp(optarg, "en") && strcmp(optarg, "zh")) {
                fprintf(stderr, "workbench lesson: --lang takes en or zh, not \"%s\"\n", optarg);
                return EXIT_USAGE;
            }
            g = optarg[0] == 'z' ? LANG_ZH : LANG_EN;
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc - 1 || (check && optind < argc)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    char dir[PATH_MAX], bindir[PATH_MAX];
    if (dir_opt)
        snprintf(dir, sizeof dir, "%s", dir_opt);
    else if (lesson_dir(dir, sizeof dir) < 0) {
        fprintf(stderr, "workbench lesson: the lessons directory path is too long\n");
        return EXIT_FAILED;
    }
    /* output that fits beside the runner's gutter, for programs that read COLUMNS */
    struct winsize ws;
    if (!check && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40) {
        char cols[16];
        snprintf(cols, sizeof cols, "%d", ws.ws_col - 4);
        setenv("COLUMNS", cols, 1);
    }
    if (bindir_get(bindir, sizeof bindir) < 0) {
        fprintf(stderr, "workbench lesson: cannot find the workbench's own directory\n");
        return EXIT_FAILED;
    }
    style_init();
    catalog cat = {0};
    int loaded = catalog_load(&cat, dir);
    const char *which = check ? check : optind < argc ? argv[optind] : NULL;
    int want = 0;
    if (which && strcmp(which, "all") != 0) {
        char *end;
        want = (int)strtol(which, &end, 10);
        if (end == which || *end || want <= 0) {
            fprintf(stderr, "workbench lesson: \"%s\" is not a lesson number\n", which);
            catalog_free(&cat);
            return EXIT_USAGE;
        }
        if (!catalog_find(&cat, want)) {
            fprintf(stderr, "workbench lesson: there is no lesson %d (workbench lesson lists them)\n", want);
            catalog_free(&cat);
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
    } else if (!which || !strcmp(which, "all")) {
        if (cat.n)
            list(&cat, g);
        rc = loaded < 0 ? EXIT_FAILED : EXIT_OK;
    } else {
        catch_interrupts();
        rc = run_interactive(catalog_find(&cat, want), bindir, g);
    }
    catalog_free(&cat);
    return rc;
}
