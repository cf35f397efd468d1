/* lesson_parse.c -- reading lesson files into lessons, checking them, and finding them on disk. */
#include "lesson/lesson.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/bindir.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/i18n.h"

/* ---- parsing ---- */

typedef struct entry {
    char key[24];
    int lang; /* -1: none given */
    int line;
    buf text;
    int blanks; /* blank lines seen since the last continuation line */
    bool open;
} entry;

/* The entry's text without trailing blank lines and spaces, as a heap string. */
static char *dup_text(const buf *b)
{
    size_t n = buf_size(b);
    while (n > 0 && (buf_data(b)[n - 1] == '\n' || buf_data(b)[n - 1] == ' '))
        n--;
    return n ? strndup((const char *)buf_data(b), n) : strdup("");
}

static int parse_expect(lesson_expect *e, const char *v, char *err, size_t errlen)
{
    static const struct {
        const char *word;
        expect_kind kind;
    } kinds[] = {{"contains", EXPECT_CONTAINS}, {"lacks", EXPECT_LACKS}, {"matches", EXPECT_MATCHES},
                 {"exit", EXPECT_EXIT}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].word);
        if (strncmp(v, kinds[i].word, n) != 0 || (v[n] != ' ' && v[n] != '\0'))
            continue;
        const char *arg = v + n;
        while (*arg == ' ')
            arg++;
        e->kind = kinds[i].kind;
        if (e->kind == EXPECT_EXIT) {
            char *end;
            if (strcmp(arg, "any") == 0)
                e->status = -1;
            else if (strcmp(arg, "nonzero") == 0)
                e->status = -2;
            else if ((e->status = (int)strtol(arg, &end, 10)) < 0 || end == arg || *end) {
                err_set(err, errlen, "\"expect: exit\" takes a status, \"any\" or \"nonzero\", not \"%s\"", arg);
                return -1;
            }
            return 0;
        }
        if (!*arg) {
            err_set(err, errlen, "\"expect: %s\" needs the text to look for", kinds[i].word);
            return -1;
        }
        if (e->kind == EXPECT_MATCHES) {
            regex_t re;
            int rc = regcomp(&re, arg, REG_EXTENDED | REG_NOSUB | REG_NEWLINE);
            if (rc != 0) {
                char why[128];
                regerror(rc, &re, why, sizeof why);
                err_set(err, errlen, "bad regular expression \"%s\": %s", arg, why);
                return -1;
            }
            regfree(&re);
        }
        e->text = strdup(arg);
        return e->text ? 0 : -1;
    }
    err_set(err, errlen, "\"expect:\" takes contains, lacks, matches or exit, not \"%s\"", v);
    return -1;
}

static int set_once(char **slot, const entry *en, char *err, size_t errlen)
{
    if (*slot) {
        err_set(err, errlen, "a second \"%s%s:\" here", en->key, en->lang == LANG_ZH ? ".zh" : "");
        return -1;
    }
    *slot = dup_text(&en->text);
    return *slot ? 0 : -1;
}

static int add_line(char **list, size_t *n, const entry *en, char *err, size_t errlen)
{
    if (*n >= LESSON_MAX_LINES) {
        err_set(err, errlen, "more than %d \"%s:\" lines", LESSON_MAX_LINES, en->key);
        return -1;
    }
    if (!(list[*n] = dup_text(&en->text)))
        return -1;
    (*n)++;
    return 0;
}

/* Without an "exit" check a step must exit 0: in English always, in Chinese when the
 * step has checks of its own there. */
static int finish_step(lesson_step *s)
{
    for (int g = LANG_EN; g <= LANG_ZH; g++) {
        lesson_lines *w = &s->written[g];
        bool exit_given = g == LANG_ZH && w->nexpect == 0;
        for (size_t i = 0; i < w->nexpect; i++)
            exit_given |= w->expect[i].kind == EXPECT_EXIT;
        if (exit_given)
            continue;
        if (w->nexpect >= LESSON_MAX_LINES)
            return -1;
        w->expect[w->nexpect++] = (lesson_expect){EXPECT_EXIT, NULL, 0};
    }
    return 0;
}

static int apply(lesson *l, const entry *en, char *err, size_t errlen)
{
    const char *k = en->key;
    int lang = en->lang < 0 ? LANG_EN : en->lang;
    bool texty = !strcmp(k, "title") || !strcmp(k, "step") || !strcmp(k, "say") || !strcmp(k, "look");
    bool twinned = !strcmp(k, "run") || !strcmp(k, "expect"); /* they see the output's language */
    if (en->lang >= 0 && !texty && !twinned) {
        err_set(err, errlen, "\"%s:\" is the same in every language; drop the language suffix", k);
        return -1;
    }
    if (!strcmp(k, "step")) {
        if (lang == LANG_EN || l->nstep == 0) {
            if (l->nstep && finish_step(&l->step[l->nstep - 1]) < 0)
                return -1;
            if (l->nstep >= LESSON_MAX_STEPS) {
                err_set(err, errlen, "more than %d steps", LESSON_MAX_STEPS);
                return -1;
            }
            lesson_step *s = &l->step[l->nstep++];
            s->line = en->line;
            s->timeout_s = LESSON_DEFAULT_TIMEOUT_S;
        }
        return set_once(&l->step[l->nstep - 1].title[lang], en, err, errlen);
    }
    if (l->nstep == 0) {
        if (!strcmp(k, "lesson")) {
            char *end;
            char *v = dup_text(&en->text);
            l->number = v ? (int)strtol(v, &end, 10) : 0;
            bool good = v && end != v && !*end && l->number > 0;
            free(v);
            if (!good) {
                err_set(err, errlen, "\"lesson:\" takes the lesson's number");
                return -1;
            }
            return 0;
        }
        if (!strcmp(k, "title"))
            return set_once(&l->title[lang], en, err, errlen);
        if (!strcmp(k, "say"))
            return set_once(&l->intro[lang], en, err, errlen);
        if (!strcmp(k, "server"))
            return add_line(l->server, &l->nserver, en, err, errlen);
        if (!strcmp(k, "needs")) {
            char *v = dup_text(&en->text), *save = NULL;
            if (!v)
                return -1;
            for (char *w = strtok_r(v, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
                if (l->nneeds >= LESSON_MAX_LINES || !(l->needs[l->nneeds] = strdup(w))) {
                    free(v);
                    err_set(err, errlen, "too many programs in \"needs:\"");
                    return -1;
                }
                l->nneeds++;
            }
            free(v);
            return 0;
        }
        err_set(err, errlen, "\"%s:\" belongs in a step; the header takes lesson, title, say, needs, server", k);
        return -1;
    }
    lesson_step *s = &l->step[l->nstep - 1];
    if (!strcmp(k, "say"))
        return set_once(&s->say[lang], en, err, errlen);
    if (!strcmp(k, "look"))
        return set_once(&s->look[lang], en, err, errlen);
    if (!strcmp(k, "pane"))
        return set_once(&s->pane, en, err, errlen);
    if (!strcmp(k, "run"))
        return add_line(s->written[lang].run, &s->written[lang].nrun, en, err, errlen);
    if (!strcmp(k, "background"))
        return add_line(s->background, &s->nbackground, en, err, errlen);
    if (!strcmp(k, "timeout")) {
        char *v = dup_text(&en->text), *end;
        s->timeout_s = v ? (int)strtol(v, &end, 10) : 0;
        bool good = v && end != v && !*end && s->timeout_s > 0 && s->timeout_s <= 600;
        free(v);
        if (!good) {
            err_set(err, errlen, "\"timeout:\" takes seconds, 1 to 600");
            return -1;
        }
        return 0;
    }
    if (!strcmp(k, "expect")) {
        lesson_lines *w = &s->written[lang];
        if (w->nexpect >= LESSON_MAX_LINES - 1) {
            err_set(err, errlen, "too many \"expect:\" lines");
            return -1;
        }
        char *v = dup_text(&en->text);
        if (!v)
            return -1;
        int rc = parse_expect(&w->expect[w->nexpect], v, err, errlen);
        free(v);
        if (rc == 0)
            w->nexpect++;
        return rc;
    }
    err_set(err, errlen, "unknown key \"%s:\" (a step takes say, run, background, look, expect, pane, timeout)", k);
    return -1;
}

/* Splits "key[.lang]: value" into en; returns the value, or NULL if the line is not one. */
static const char *parse_key(const char *line, entry *en)
{
    size_t i = 0;
    while (line[i] && (islower((unsigned char)line[i]) || line[i] == '-'))
        i++;
    if (i == 0 || i >= sizeof en->key)
        return NULL;
    memcpy(en->key, line, i);
    en->key[i] = '\0';
    en->lang = -1;
    if (!strncmp(line + i, ".zh", 3)) {
        en->lang = LANG_ZH;
        i += 3;
    } else if (!strncmp(line + i, ".en", 3)) {
        en->lang = LANG_EN;
        i += 3;
    }
    if (line[i] != ':')
        return NULL;
    i++;
    while (line[i] == ' ' || line[i] == '\t')
        i++;
    return line + i;
}

static int flush(lesson *l, entry *en, char *err, size_t errlen)
{
    if (!en->open)
        return 0;
    en->open = false;
    int rc = apply(l, en, err, errlen);
    buf_clear(&en->text);
    return rc;
}

static char *read_file(const char *path, char *err, size_t errlen)
{
    buf b;
    buf_init(&b, LESSON_MAX_FILE + 1);
    if (buf_read_file(&b, path, err, errlen) < 0 || buf_putc(&b, '\0') < 0) {
        if (buf_size(&b) >= LESSON_MAX_FILE)
            err_set(err, errlen, "%s: larger than %d bytes", path, LESSON_MAX_FILE);
        buf_done(&b);
        return NULL;
    }
    return buf_take(&b);
}

lesson *lesson_load(const char *path, char *err, size_t errlen)
{
    char *text = read_file(path, err, errlen);
    if (!text)
        return NULL;
    lesson *l = calloc(1, sizeof *l);
    entry en = {0};
    buf_init(&en.text, LESSON_MAX_FILE);
    char why[256] = "";
    int lineno = 0, rc = l ? 0 : -1;
    size_t indent = 0;
    char *save = NULL;
    for (char *line = text; rc == 0 && line; line = save) {
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        if (nl && nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
        lineno++;
        if (!nl && !*line)
            break;
        size_t lead = strspn(line, " \t");
        if (line[0] == '#')
            continue;
        if (!line[lead]) {
            if (en.open && buf_size(&en.text))
                en.blanks++;
            continue;
        }
        if (lead > 0) {
            if (!en.open) {
                err_set(why, sizeof why, "an indented line continues nothing");
                rc = -1;
                break;
            }
            if (buf_size(&en.text) == 0 || indent == 0)
                indent = lead;
            size_t cut = lead < indent ? lead : indent;
            for (; en.blanks > 0; en.blanks--)
                buf_putc(&en.text, '\n');
            if (buf_size(&en.text))
                buf_putc(&en.text, '\n');
            rc = buf_puts(&en.text, line + cut);
            continue;
        }
        if ((rc = flush(l, &en, why, sizeof why)) < 0) {
            lineno = en.line;
            break;
        }
        const char *v = parse_key(line, &en);
        if (!v) {
            err_set(why, sizeof why, "expected \"key: value\" (or an indented continuation), got \"%.60s\"", line);
            rc = -1;
            break;
        }
        en.open = true;
        en.line = lineno;
        en.blanks = 0;
        indent = 0;
        rc = buf_puts(&en.text, v);
    }
    if (rc == 0 && (rc = flush(l, &en, why, sizeof why)) < 0)
        lineno = en.line;
    if (rc == 0 && l->nstep)
        rc = finish_step(&l->step[l->nstep - 1]);
    if (rc == 0 && l->number == 0) {
        err_set(why, sizeof why, "no \"lesson: N\" line");
        rc = -1;
    }
    buf_done(&en.text);
    free(text);
    if (rc < 0) {
        err_set(err, errlen, "%s:%d: %s", path, lineno, why[0] ? why : "out of memory");
        lesson_free(l);
        return NULL;
    }
    l->path = strdup(path);
    lesson_use_lang(l, lesson_locale_lang());
    return l;
}

void lesson_use_lang(lesson *l, lesson_lang lang)
{
    for (size_t i = 0; i < l->nstep; i++) {
        lesson_step *s = &l->step[i];
        const lesson_lines *run = s->written[lang].nrun ? &s->written[lang] : &s->written[LANG_EN];
        const lesson_lines *expect = s->written[lang].nexpect ? &s->written[lang] : &s->written[LANG_EN];
        s->nrun = run->nrun;
        memcpy(s->run, run->run, sizeof s->run);
        s->nexpect = expect->nexpect;
        memcpy(s->expect, expect->expect, sizeof s->expect);
    }
}

void lesson_free(lesson *l)
{
    if (!l)
        return;
    for (int g = 0; g < 2; g++) {
        free(l->title[g]);
        free(l->intro[g]);
    }
    for (size_t i = 0; i < l->nneeds; i++)
        free(l->needs[i]);
    for (size_t i = 0; i < l->nserver; i++)
        free(l->server[i]);
    for (size_t i = 0; i < l->nstep; i++) {
        lesson_step *s = &l->step[i];
        for (int g = 0; g < 2; g++) {
            free(s->title[g]);
            free(s->say[g]);
            free(s->look[g]);
        }
        free(s->pane);
        for (int g = 0; g < 2; g++) {
            for (size_t j = 0; j < s->written[g].nrun; j++)
                free(s->written[g].run[j]);
            for (size_t j = 0; j < s->written[g].nexpect; j++)
                free(s->written[g].expect[j].text);
        }
        for (size_t j = 0; j < s->nbackground; j++)
            free(s->background[j]);
    }
    free(l->path);
    free(l);
}

const char *lesson_text(char *const text[2], lesson_lang lang)
{
    return text[lang] ? text[lang] : text[LANG_EN];
}

static const char *const panes[] = {"instances", "traffic", "wire", "registry", "timeline"};

int lesson_validate(const lesson *l, char *err, size_t errlen)
{
    static const char *const suffix[2] = {"", ".zh"};
    for (int g = 0; g < 2; g++)
        if (!l->title[g]) {
            err_set(err, errlen, "lesson %d has no \"title%s:\"", l->number, suffix[g]);
            return -1;
        }
    if (!l->nstep) {
        err_set(err, errlen, "lesson %d has no steps", l->number);
        return -1;
    }
    for (size_t i = 0; i < l->nstep; i++) {
        const lesson_step *s = &l->step[i];
        for (int g = 0; g < 2; g++) {
            const char *gap = !s->title[g] ? "step" : !s->say[g] ? "say" : !s->look[g] ? "look" : NULL;
            if (gap) {
                err_set(err, errlen, "lesson %d step %zu (line %d) has no \"%s%s:\"", l->number, i + 1, s->line,
                        gap, suffix[g]);
                return -1;
            }
        }
        if (!s->written[LANG_EN].nrun) {
            err_set(err, errlen, "lesson %d step %zu (line %d) has no \"run:\"", l->number, i + 1, s->line);
            return -1;
        }
        bool known = !s->pane;
        for (size_t p = 0; s->pane && p < sizeof panes / sizeof panes[0]; p++)
            known |= strcmp(s->pane, panes[p]) == 0;
        if (!known) {
            err_set(err, errlen, "lesson %d step %zu: pane \"%s\" is not one of instances, traffic, wire, registry, timeline",
                    l->number, i + 1, s->pane);
            return -1;
        }
    }
    return 0;
}

/* ---- finding lessons ---- */

static int by_number(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int lesson_list(const char *dir, char **paths, int max, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        err_set(err, errlen, "cannot read the lessons directory %s: %s", dir, strerror(errno));
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len < 7 || !isdigit((unsigned char)e->d_name[0]) || !isdigit((unsigned char)e->d_name[1]) ||
            e->d_name[2] != '-' || strcmp(e->d_name + len - 4, ".txt") != 0)
            continue;
        size_t need = strlen(dir) + len + 2;
        if (!(paths[n] = malloc(need)))
            break;
        snprintf(paths[n], need, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(paths, (size_t)n, sizeof *paths, by_number);
    return n;
}

int lesson_dir(char *dir, size_t n)
{
    const char *env = getenv("WB_LESSONS");
    if (env && *env)
        return snprintf(dir, n, "%s", env) < (int)n ? 0 : -1;
    char bindir[PATH_MAX];
    struct stat st;
    if (bindir_get(bindir, sizeof bindir) == 0) {
        snprintf(dir, n, "%s/../lessons", bindir);
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
    }
    return snprintf(dir, n, "lessons") < (int)n ? 0 : -1;
}

lesson_lang lesson_locale_lang(void)
{
    return i18n_current() == I18N_ZH ? LANG_ZH : LANG_EN;
}
