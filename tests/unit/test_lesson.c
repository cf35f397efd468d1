/* test_lesson.c -- unit tests for the lesson file parser and the step runner (real
 * shell commands; no servers). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/i18n.h"
#include "base/tempdir.h"
#include "lesson/lesson.h"
#include "lesson/lesson_page.h"
#include "lesson/lesson_wrap.h"

static char path[64];

/* Writes text to a temporary lesson file and parses it; err gets the reason on failure. */
static lesson *load_text(const char *text, char *err, size_t errlen)
{
    snprintf(path, sizeof path, "/tmp/wb-lesson-test.XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    lesson *l = lesson_load(path, err, errlen);
    unlink(path);
    return l;
}

static const char good[] = "# a comment\n"
                           "lesson: 7\n"
                           "title: Seven\n"
                           "title.zh: 第七\n"
                           "needs: sh  cat\n"
                           "say:\n"
                           "    First paragraph\n"
                           "    goes on.\n"
                           "\n"
                           "    Second paragraph.\n"
                           "say.zh: 介绍\n"
                           "\n"
                           "step: Echo\n"
                           "step.zh: 回显\n"
                           "pane: wire\n"
                           "say: s\n"
                           "say.zh: 说\n"
                           "run: echo one\n"
                           "run:\n"
                           "    for i in 1 2; do\n"
                           "      echo \"n$i\"\n"
                           "    done\n"
                           "look: l\n"
                           "look.zh: 看\n"
                           "expect: contains one\n"
                           "expect: matches ^n[12]$\n"
                           "expect: lacks three\n"
                           "step: Fails\n"
                           "step.zh: 失败\n"
                           "say: s\n"
                           "say.zh: 说\n"
                           "run: echo out; exit 3\n"
                           "timeout: 5\n"
                           "look: l\n"
                           "look.zh: 看\n"
                           "expect: exit 3\n";

Test(lesson, parses_header_steps_and_blocks)
{
    char err[256] = "";
    lesson *l = load_text(good, err, sizeof err);
    cr_assert(l, "%s", err);
    cr_assert_eq(l->number, 7);
    cr_assert_str_eq(l->title[LANG_ZH], "第七");
    cr_assert_eq(l->nneeds, 2);
    cr_assert_str_eq(l->needs[1], "cat");
    cr_assert_str_eq(l->intro[LANG_EN], "First paragraph\ngoes on.\n\nSecond paragraph.");
    cr_assert_eq(l->nstep, 2);
    const lesson_step *s = &l->step[0];
    cr_assert_str_eq(s->title[LANG_EN], "Echo");
    cr_assert_str_eq(s->pane, "wire");
    cr_assert_eq(s->nrun, 2);
    cr_assert_str_eq(s->run[1], "for i in 1 2; do\n  echo \"n$i\"\ndone");
    /* three given, plus the implicit "exit 0" */
    cr_assert_eq(s->nexpect, 4);
    cr_assert_eq(s->expect[3].kind, EXPECT_EXIT);
    cr_assert_eq(s->expect[3].status, 0);
    cr_assert_eq(l->step[1].nexpect, 1);
    cr_assert_eq(l->step[1].timeout_s, 5);
    cr_assert_eq(lesson_validate(l, err, sizeof err), 0, "%s", err);
    lesson_free(l);
}

Test(lesson, errors_name_the_line)
{
    char err[256] = "";
    cr_assert_null(load_text("lesson: 1\ntitle: t\nstep: s\nrun: x\nexpect: resembles y\n", err, sizeof err));
    cr_assert(strstr(err, ":5: \"expect:\" takes contains, lacks, matches or exit"), "%s", err);
    cr_assert_null(load_text("lesson: 1\n  stray\n", err, sizeof err));
    cr_assert_null(load_text("lesson: 1\nstep: a\nrun: x\npane.zh: wire\n", err, sizeof err));
    cr_assert(strstr(err, ":4: \"pane:\" is the same in every language"), "%s", err);
    cr_assert_null(load_text("lesson: 1\nrun: x\n", err, sizeof err));
    cr_assert(strstr(err, "belongs in a step"), "%s", err);
    cr_assert_null(load_text("title: t\n", err, sizeof err));
    cr_assert(strstr(err, "no \"lesson: N\" line"), "%s", err);
    cr_assert_null(load_text("lesson: 1\nstep: a\nexpect: matches (\n", err, sizeof err));
    cr_assert(strstr(err, "bad regular expression"), "%s", err);
    cr_assert_null(load_text("lesson: 1\nstep: a\nsay: x\nsay: y\n", err, sizeof err));
    cr_assert(strstr(err, ":4: a second \"say:\""), "%s", err);
}

static const char twins[] = "lesson: 8\ntitle: t\ntitle.zh: 题\n"
                            "step: a\nstep.zh: 甲\nsay: s\nsay.zh: 说\nlook: l\nlook.zh: 看\n"
                            "run: echo hello | grep -o hello\n"
                            "run: echo bytes\n"
                            "run.zh:\n"
                            "    echo 你好 | grep -o 你好\n"
                            "expect: contains hello\n"
                            "expect: exit any\n"
                            "expect.zh: contains 你好\n"
                            "step: b\nstep.zh: 乙\nsay: s\nsay.zh: 说\nlook: l\nlook.zh: 看\n"
                            "run: echo 56\n"
                            "expect: matches ^56$\n";

Test(lesson, run_and_expect_take_chinese_twins)
{
    char err[256] = "", skip[256] = "";
    lesson *l = load_text(twins, err, sizeof err);
    cr_assert(l, "%s", err);
    cr_assert_eq(lesson_validate(l, err, sizeof err), 0, "%s", err);
    lesson_use_lang(l, LANG_EN);
    const lesson_step *s = &l->step[0];
    cr_assert_eq(s->nrun, 2);
    cr_assert_str_eq(s->run[0], "echo hello | grep -o hello");
    cr_assert_eq(s->nexpect, 2);
    cr_assert_str_eq(s->expect[0].text, "hello");
    cr_assert_eq(s->expect[1].status, -1);
    lesson_use_lang(l, LANG_ZH);
    /* the .zh lines replace all of the English ones; the implicit "exit 0" is theirs too */
    cr_assert_eq(s->nrun, 1);
    cr_assert_str_eq(s->run[0], "echo 你好 | grep -o 你好");
    cr_assert_eq(s->nexpect, 2);
    cr_assert_str_eq(s->expect[0].text, "你好");
    cr_assert(s->expect[1].kind == EXPECT_EXIT && s->expect[1].status == 0);
    /* a step without twins is the same in both languages */
    cr_assert_eq(l->step[1].nrun, 1);
    cr_assert_str_eq(l->step[1].run[0], "echo 56");
    cr_assert_eq(l->step[1].nexpect, 2);

    lesson_run *r = lesson_run_new(l, "/nonexistent", skip, sizeof skip, err, sizeof err);
    cr_assert(r, "%s %s", skip, err);
    lesson_result res;
    cr_assert_eq(lesson_run_step(r, 0, &res, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(res.output, "你好\n");
    cr_assert(res.ok);
    lesson_result_done(&res);
    lesson_run_free(r);
    lesson_use_lang(l, LANG_EN);
    r = lesson_run_new(l, "/nonexistent", skip, sizeof skip, err, sizeof err);
    cr_assert(r, "%s %s", skip, err);
    cr_assert_eq(lesson_run_step(r, 0, &res, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(res.output, "hello\nbytes\n");
    cr_assert(res.ok);
    lesson_result_done(&res);
    lesson_run_free(r);
    lesson_free(l);
}

Test(lesson, only_run_and_expect_take_a_language)
{
    char err[256] = "";
    static const char *const refused[] = {"background.zh: nc -l 1\n", "timeout.zh: 5\n", "pane.zh: wire\n"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "lesson: 1\nstep: a\nrun: true\n%s", refused[i]);
        cr_assert_null(load_text(text, err, sizeof err), "%s", refused[i]);
        cr_assert(strstr(err, ":4: ") && strstr(err, "is the same in every language"), "%s", err);
    }
    cr_assert_null(load_text("lesson: 1\nneeds.zh: nc\n", err, sizeof err));
    cr_assert(strstr(err, "\"needs:\" is the same in every language"), "%s", err);
    cr_assert_null(load_text("lesson: 1\nstep: a\nrun: true\nexpect.zh: resembles y\n", err, sizeof err));
    cr_assert(strstr(err, ":4: \"expect:\" takes contains"), "%s", err);
    /* Chinese lines alone are not a step's commands */
    lesson *l = load_text("lesson: 1\ntitle: t\ntitle.zh: 题\nstep: a\nstep.zh: 甲\nsay: s\nsay.zh: 说\nlook: l\n"
                          "look.zh: 看\nrun.zh: true\n",
                          err, sizeof err);
    cr_assert(l, "%s", err);
    cr_assert_eq(lesson_validate(l, err, sizeof err), -1);
    cr_assert(strstr(err, "has no \"run:\""), "%s", err);
    lesson_free(l);
}

Test(lesson, validate_wants_both_languages)
{
    char err[256] = "";
    lesson *l = load_text("lesson: 2\ntitle: t\ntitle.zh: 题\nstep: a\nstep.zh: 甲\nsay: s\nrun: true\nlook: l\nlook.zh: 看\n",
                          err, sizeof err);
    cr_assert(l, "%s", err);
    cr_assert_eq(lesson_validate(l, err, sizeof err), -1);
    cr_assert(strstr(err, "has no \"say.zh:\""), "%s", err);
    cr_assert_str_eq(lesson_text(l->step[0].say, LANG_ZH), "s");
    lesson_free(l);
}

Test(lesson, runs_steps_and_checks_them)
{
    char err[256] = "", skip[256] = "";
    lesson *l = load_text(good, err, sizeof err);
    cr_assert(l, "%s", err);
    lesson_run *r = lesson_run_new(l, "/nonexistent", skip, sizeof skip, err, sizeof err);
    cr_assert(r, "%s %s", skip, err);
    lesson_result res;
    cr_assert_eq(lesson_run_step(r, 0, &res, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(res.output, "one\nn1\nn2\n");
    cr_assert(res.ok);
    lesson_result_done(&res);
    cr_assert_eq(lesson_run_step(r, 1, &res, err, sizeof err), 0, "%s", err);
    cr_assert_eq(res.status, 3);
    cr_assert(res.met[0] && res.ok);
    lesson_result_done(&res);
    cr_assert_eq(lesson_run_step(r, 2, &res, err, sizeof err), -1);
    lesson_run_free(r);
    lesson_free(l);
}

Test(lesson, expands_variables_and_keeps_others)
{
    char err[256] = "", skip[256] = "";
    lesson *l = load_text("lesson: 3\ntitle: t\nstep: a\nrun: echo $WORK ${PORT1} $HOME $PORT9 $\n", err, sizeof err);
    cr_assert(l, "%s", err);
    lesson_run *r = lesson_run_new(l, "/nonexistent", skip, sizeof skip, err, sizeof err);
    cr_assert(r, "%s", err);
    char *shown = lesson_expand(r, l->step[0].run[0]);
    cr_assert(strncmp(shown, "echo /tmp/wb-lesson03.", 22) == 0, "%s", shown);
    cr_assert(strstr(shown, " $HOME $PORT9 $"), "%s", shown);
    cr_assert_null(strstr(shown, "PORT1"), "%s", shown);
    free(shown);
    lesson_result res;
    cr_assert_eq(lesson_run_step(r, 0, &res, err, sizeof err), 0);
    cr_assert(strstr(res.output, "/tmp/wb-lesson03."), "%s", res.output);
    lesson_result_done(&res);
    lesson_run_free(r);
    lesson_free(l);
}

Test(lesson, deadline_and_background)
{
    char err[256] = "", skip[256] = "";
    lesson *l = load_text("lesson: 4\ntitle: t\n"
                          "step: slow\nrun: echo before; sleep 30\ntimeout: 1\n"
                          "step: bg\nbackground: echo from-bg > $WORK/bg.txt; sleep 30\nrun: cat $WORK/bg.txt\n"
                          "expect: contains from-bg\n",
                          err, sizeof err);
    cr_assert(l, "%s", err);
    lesson_run *r = lesson_run_new(l, "/nonexistent", skip, sizeof skip, err, sizeof err);
    cr_assert(r, "%s", err);
    lesson_result res;
    cr_assert_eq(lesson_run_step(r, 0, &res, err, sizeof err), 0);
    cr_assert(res.timed_out);
    cr_assert_not(res.ok);
    cr_assert_str_eq(res.output, "before\n");
    lesson_result_done(&res);
    cr_assert_eq(lesson_run_step(r, 1, &res, err, sizeof err), 0);
    cr_assert(res.ok, "%s", res.output);
    lesson_result_done(&res);
    lesson_run_free(r);
    lesson_free(l);
}

Test(lesson, missing_program_is_a_skip)
{
    char err[256] = "", skip[256] = "";
    lesson *l = load_text("lesson: 5\ntitle: t\nneeds: sh wb-no-such-tool\nstep: a\nrun: true\n", err, sizeof err);
    cr_assert(l, "%s", err);
    cr_assert_null(lesson_run_new(l, "/nonexistent", skip, sizeof skip, err, sizeof err));
    cr_assert_str_eq(skip, "wb-no-such-tool is not installed");
    lesson_free(l);
}

/* needs: root is met when this process may make a network namespace; a child that has
 * become an ordinary user (when the test runs as root) may not, and skips with the reason. */
Test(lesson, needs_root)
{
    char err[256] = "", skip[256] = "";
    lesson *l = load_text("lesson: 5\ntitle: t\nneeds: root sh\nstep: a\nrun: true\n", err, sizeof err);
    cr_assert(l, "%s", err);
    cr_assert_eq(l->nneeds, 2);
    if (geteuid() == 0) {
        cr_assert_not(lesson_missing(l, skip, sizeof skip), "%s", skip);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                _exit(2);
            _exit(lesson_missing(l, skip, sizeof skip) && strstr(skip, "it needs root") &&
                          strstr(skip, "CAP_SYS_ADMIN") ? 0 : 1);
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    } else {
        cr_assert(lesson_missing(l, skip, sizeof skip));
        cr_assert(strstr(skip, "it needs root"), "%s", skip);
    }
    lesson_free(l);
}

Test(lesson, follows_the_language_set_up)
{
    cr_assert_eq(i18n_setup("zh", NULL, 0), 0);
    cr_assert_eq(lesson_locale_lang(), LANG_ZH);
    cr_assert_eq(i18n_setup("en", NULL, 0), 0);
    cr_assert_eq(lesson_locale_lang(), LANG_EN);
}

/* rows of text cut to width, joined with '|' */
static const char *wrapped(const char *text, int width)
{
    static char out[512];
    char *rows[32];
    int n = lesson_wrap_lines(text, width, rows, 32);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strcat(out, i ? "|" : "");
        strcat(out, rows[i]);
        free(rows[i]);
    }
    return out;
}

Test(lesson, wrap_breaks_latin_at_spaces)
{
    i18n_setup(NULL, NULL, 0);
    cr_assert_str_eq(wrapped("the quick brown fox jumps", 10), "the quick|brown fox|jumps");
    cr_assert_str_eq(wrapped("a byte and another", 6), "a byte|and|anothe|r"); /* only a word wider than the row is cut */
    cr_assert_str_eq(wrapped("one\ntwo  three", 20), "one|two  three");
}

Test(lesson, wrap_measures_hanzi_as_two_columns)
{
    i18n_setup(NULL, NULL, 0);
    cr_assert_str_eq(wrapped("一二三四五六", 6), "一二三|四五六");
    /* never a closing mark at a row's start, nor an opening one at its end */
    cr_assert_str_eq(wrapped("一二三四五，六", 10), "一二三四|五，六");
    cr_assert_str_eq(wrapped("一二三四（五）", 10), "一二三四|（五）");
    cr_assert_str_eq(wrapped("用 gob 的 net/rpc：注册、监听、调用", 20), "用 gob 的 net/rpc：|注册、监听、调用");
}

Test(lesson, flow_joins_lines_into_paragraphs)
{
    char *f = lesson_flow("a line\ngoes on\n\nnext\n中文\n接着");
    cr_assert_str_eq(f, "a line goes on\nnext 中文接着");
    free(f);
}

Test(lesson, page_pins_the_head_and_scrolls_the_rest)
{
    i18n_setup(NULL, NULL, 0);
    lesson_page p;
    lesson_page_init(&p, 40);
    lesson_page_add(&p, ROW_BOLD, "", "", "Title", 0);
    lesson_page_end_title(&p);
    lesson_page_add(&p, ROW_PLAIN, "  ", "  ", "an explanation\nin three\nlines", 0);
    lesson_page_add(&p, ROW_PLAIN, "  $ ", "      ", "a command", 0);
    lesson_page_end_head(&p);
    char out[600] = "";
    for (int i = 0; i < 30; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "line %d\n", i);
    lesson_page_add(&p, ROW_DIM, "  │ ", "  ┊ ", out, PAGE_VERBATIM);
    cr_assert_eq(p.head, 5);
    cr_assert_eq(p.n, 35);
    int scroll = 0;
    lesson_frame f;
    lesson_page_frame(&p, 12, &scroll, &f); /* 11 rows and the prompt */
    cr_assert_eq(f.pinned, 5);
    cr_assert_eq(f.to - f.from, 6);
    cr_assert_eq(f.below, 24);
    scroll = 1000;
    lesson_page_frame(&p, 12, &scroll, &f);
    cr_assert_eq(scroll, 24);
    cr_assert_eq(f.to, 35);
    cr_assert_eq(f.below, 0);
    lesson_page_frame(&p, 8, &scroll, &f); /* the head would leave too little: only the title stays */
    cr_assert_eq(f.pinned, 1);
    for (int i = 0; i < p.n; i++)
        cr_assert_leq(lesson_text_width(p.row[i].text), 39, "row %d: %s", i, p.row[i].text);
    lesson_page_done(&p);
    lesson_page_init(&p, 21);
    lesson_page_add(&p, ROW_DIM, "  │ ", "  ┊ ", "a line of output that is too wide", PAGE_VERBATIM);
    cr_assert_str_eq(p.row[0].text, "  │ a line of output");
    cr_assert_str_eq(p.row[1].text, "  ┊ that is too wide");
    lesson_page_done(&p);
}

Test(lesson, dry_run_fills_every_variable)
{
    char err[256] = "";
    lesson *l = load_text("lesson: 9\ntitle: t\nserver: json\nserver: json J1\nserver: consul\nstep: a\nrun: true\n", err,
                          sizeof err);
    cr_assert(l, "%s", err);
    lesson_run *r = lesson_run_dry(l, "/nonexistent");
    cr_assert(r);
    cr_assert(lesson_run_is_dry(r));
    char *t = lesson_expand(r, "$JSON $JSON_PORT $J1_HOST $CONSUL_ADDR $WORK $PORT1 $JSON_PID");
    cr_assert(strncmp(t, "127.0.0.1:8080 8080 127.0.0.1 127.0.0.1:8500 /", 46) == 0, "%s", t);
    cr_assert_null(strstr(t, "$J"), "%s", t);
    cr_assert_null(strstr(t, "$P"), "%s", t);
    free(t);
    lesson_result res;
    cr_assert_eq(lesson_run_step(r, 0, &res, err, sizeof err), -1);
    lesson_run_free(r);
    lesson_free(l);
}

/* Writes text as file name in dir. */
static void put_file(const char *dir, const char *name, const char *text)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(lesson, catalog_loads_a_directory_by_number)
{
    char dir[256], err[512];
    cr_assert_eq(tempdir_make(dir, sizeof dir, "wb-lesson-cat"), 0);
    lesson_catalog c;
    cr_assert_eq(lesson_catalog_load(&c, dir, err, sizeof err), -1);
    cr_assert(strstr(err, "no lesson files"), "%s", err);
    put_file(dir, "07-seven.txt", good);
    char two[sizeof good];
    snprintf(two, sizeof two, "%s", good);
    memcpy(strstr(two, "lesson: 7"), "lesson: 2", 9);
    put_file(dir, "02-two.txt", two);
    put_file(dir, "README.md", "not a lesson\n");
    cr_assert_eq(lesson_catalog_load(&c, dir, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.n, 2);
    cr_assert_eq(c.l[0]->number, 2);
    cr_assert_eq(c.l[1]->number, 7);
    cr_assert_eq(lesson_catalog_find(&c, 7), c.l[1]);
    cr_assert_null(lesson_catalog_find(&c, 3));
    lesson_catalog_free(&c);
    put_file(dir, "05-broken.txt", "lesson: 5\nnot a key\n");
    cr_assert_eq(lesson_catalog_load(&c, dir, err, sizeof err), -1);
    cr_assert_eq(c.n, 2, "the lessons that parse are kept");
    cr_assert(strstr(err, "05-broken.txt:2:"), "%s", err);
    lesson_catalog_free(&c);
    lesson *l = lesson_find(dir, 7, err, sizeof err);
    cr_assert_not_null(l, "%s", err);
    cr_assert_eq(l->number, 7);
    lesson_free(l);
    cr_assert_null(lesson_find(dir, 5, err, sizeof err));
    cr_assert(strstr(err, "there is no lesson 5") && strstr(err, "05-broken.txt:2:"), "%s", err);
    tempdir_remove(dir);
}
