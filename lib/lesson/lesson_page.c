/* lesson_page.c -- a lesson step laid out as rows of a terminal, and the frame of it a
 * screen of some height shows. */
#include "lesson/lesson_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/i18n.h"
#include "lesson/lesson_wrap.h"

/* What the runner says: English, or its translation in po/zh.po. */
enum {
    L_STEP_TITLE, L_LESSON_TITLE, L_LOOK, L_RUNNING, L_BACKGROUND, L_NOT_RUN, L_PATH_HINT, L_MISSING,
    L_KEYS, L_KEYS_SHORT, L_START, L_MORE, L_UP, L_PAST_DEADLINE, L_WAS, L_COUNT
};
static const char *const say_en[L_COUNT] = {
    N_("── Lesson %d · Step %zu/%zu: %s ──"),
    N_("Lesson %d: %s"),
    N_("Look:"),
    N_("running…"),
    N_("(in the background)"),
    N_("(not run here: %s)"),
    N_("(To type the commands yourself in another terminal, first run: export PATH=%s:$PATH)"),
    N_("This lesson cannot run here: %s. The steps follow for reading; their commands are "
       "not run."),
    N_("Enter: next · b: back · r: run again · q: quit"),
    N_("Enter: next · b: back · r: again · q: quit"),
    N_("Enter: start · q: quit"),
    N_("↓ Space: %d more lines"),
    N_("↑ PgUp: back up"),
    N_(" (it ran past its %d s deadline)"),
    N_(" (it was %d)"),
};

/* Text k of the runner in language g: the catalog's Chinese, which i18n_setup has chosen
 * whenever a lesson is shown in Chinese, or the English itself. */
static const char *say(lesson_lang g, int k)
{
    return g == LANG_ZH ? _(say_en[k]) : say_en[k];
}

static void say_all(lesson_lang g, const char *t[L_COUNT])
{
    for (int k = 0; k < L_COUNT; k++)
        t[k] = say(g, k);
}

void lesson_page_init(lesson_page *p, int width)
{
    memset(p, 0, sizeof *p);
    p->width = width < 20 ? 20 : width;
}

void lesson_page_done(lesson_page *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->row[i].text);
    free(p->row);
    p->row = NULL;
    p->n = p->cap = 0;
}

int lesson_text_width(const char *s)
{
    size_t len = strlen(s);
    wchar_t *w = malloc((len + 1) * sizeof *w);
    if (!w)
        return (int)len;
    size_t n = lesson_decode(s, w, len + 1);
    int cols = 0;
    for (size_t i = 0; i < n; i++)
        cols += lesson_char_width(w[i]);
    free(w);
    return cols;
}

/* A program's output made printable: tabs to the next multiple of 8 columns (counted
 * in bytes, which is right for the ASCII that tabs line up), other control bytes '.', the
 * newlines at its end dropped. */
static char *printable(const char *text)
{
    buf b;
    buf_init(&b, 0);
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\t') {
            do
                buf_putc(&b, ' ');
            while (++col % 8);
        } else {
            buf_putc(&b, *p == '\n' || (*p >= 0x20 && *p != 0x7f) ? *p : '.');
            col = *p == '\n' ? 0 : col + 1;
        }
    }
    buf_putc(&b, '\0');
    char *s = buf_take(&b);
    size_t n = s ? strlen(s) : 0;
    while (n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
    return s;
}

static int push(lesson_page *p, lesson_row_style style, const char *prefix, char *text)
{
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        lesson_row *r = realloc(p->row, (size_t)cap * sizeof *r);
        if (!r)
            return -1;
        p->row = r;
        p->cap = cap;
    }
    size_t lp = strlen(prefix), lt = strlen(text);
    char *s = malloc(lp + lt + 1);
    if (!s)
        return -1;
    memcpy(s, prefix, lp);
    memcpy(s + lp, text, lt + 1);
    p->row[p->n++] = (lesson_row){s, style};
    return 0;
}

int lesson_page_add(lesson_page *p, lesson_row_style style, const char *first, const char *rest, const char *text,
                    int flags)
{
    char *own = flags & PAGE_PROSE ? lesson_flow(text) : flags & PAGE_VERBATIM ? printable(text ? text : "")
                                                                                : strdup(text ? text : "");
    if (!own)
        return -1;
    int usable = p->width - 1, wf = lesson_text_width(first), wr = lesson_text_width(rest);
    /* a line's first row and its continuations may have prefixes of different widths:
     * cut to the narrower room, so that every row fits */
    int cut = usable - (wf > wr ? wf : wr);
    if (cut < 8)
        cut = 8;
    int rc = 0;
    char *line = own;
    for (;;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        int max = (int)strlen(line) + 1;
        char **rows = malloc((size_t)max * sizeof *rows);
        int n = rows ? lesson_wrap_lines(line, cut, rows, max) : -1;
        if (n < 0)
            rc = -1;
        for (int i = 0; i < n; i++) {
            if (rc == 0 && push(p, style, i ? rest : first, rows[i]) < 0)
                rc = -1;
            free(rows[i]);
        }
        free(rows);
        if (!nl || rc < 0)
            break;
        line = nl + 1;
    }
    free(own);
    return rc;
}

void lesson_page_end_title(lesson_page *p)
{
    p->title = p->n;
}

void lesson_page_end_head(lesson_page *p)
{
    p->head = p->n;
}

void lesson_page_frame(const lesson_page *p, int height, int *scroll, lesson_frame *f)
{
    int avail = height - 1 > 1 ? height - 1 : 1;
    memset(f, 0, sizeof *f);
    if (p->n <= avail) {
        *scroll = 0;
        f->pinned = p->n;
        f->from = f->to = p->n;
        return;
    }
    f->pinned = p->head <= avail - PAGE_MIN_BODY ? p->head : p->title <= avail - PAGE_MIN_BODY ? p->title : 0;
    int body = p->n - f->pinned, shown = avail - f->pinned;
    int max = body - shown;
    if (*scroll > max)
        *scroll = max;
    if (*scroll < 0)
        *scroll = 0;
    f->from = f->pinned + *scroll;
    f->to = f->from + shown;
    f->above = *scroll;
    f->below = p->n - f->to;
}

/* text with the run's variables filled in, as prose. */
static int add_expanded(lesson_page *p, lesson_row_style style, const lesson_run *r, const char *text)
{
    char *t = lesson_expand(r, text ? text : "");
    int rc = t ? lesson_page_add(p, style, "  ", "  ", t, PAGE_PROSE) : -1;
    free(t);
    return rc;
}

/* A command as the learner types it: "$ " before its first line only; a line too wide
 * for the screen goes on indented. */
static int add_command(lesson_page *p, lesson_row_style style, const lesson_run *r, const char *cmd)
{
    char *c = lesson_expand(r, cmd ? cmd : "");
    if (!c)
        return -1;
    char *nl = strchr(c, '\n');
    if (nl)
        *nl = '\0';
    int rc = lesson_page_add(p, style, "  $ ", "      ", c, 0);
    if (rc == 0 && nl)
        rc = lesson_page_add(p, style, "    ", "      ", nl + 1, 0);
    free(c);
    return rc;
}

int lesson_page_intro(lesson_page *p, const lesson_run *r, const lesson *l, lesson_lang g, const char *bindir,
                      const char *missing)
{
    const char *t[L_COUNT];
    say_all(g, t);
    char line[1024];
    snprintf(line, sizeof line, t[L_LESSON_TITLE], l->number, lesson_text(l->title, g));
    int rc = lesson_page_add(p, ROW_BOLD, "", "", line, PAGE_PROSE);
    lesson_page_end_title(p);
    rc |= lesson_page_add(p, ROW_PLAIN, "", "", "", 0);
    if (l->intro[LANG_EN])
        rc |= add_expanded(p, ROW_PLAIN, r, lesson_text(l->intro, g));
    rc |= lesson_page_add(p, ROW_PLAIN, "", "", "", 0);
    snprintf(line, sizeof line, t[L_PATH_HINT], bindir);
    rc |= lesson_page_add(p, ROW_DIM, "  ", "  ", line, PAGE_PROSE);
    if (missing && missing[0]) {
        rc |= lesson_page_add(p, ROW_PLAIN, "", "", "", 0);
        snprintf(line, sizeof line, t[L_MISSING], missing);
        rc |= lesson_page_add(p, ROW_BAD, "  ", "  ", line, PAGE_PROSE);
    }
    lesson_page_end_head(p);
    return rc ? -1 : 0;
}

void lesson_check_text(const lesson_run *r, const lesson_step *s, const lesson_result *res, size_t j,
                       lesson_lang g, char *out, size_t n)
{
    char what[600], why[96] = "";
    lesson_expect_describe(&s->expect[j], g, what, sizeof what);
    char *filled = lesson_expand(r, what);
    if (filled)
        snprintf(what, sizeof what, "%s", filled);
    free(filled);
    if (!res->met[j] && s->expect[j].kind == EXPECT_EXIT && res->timed_out)
        snprintf(why, sizeof why, say(g, L_PAST_DEADLINE), s->timeout_s);
    else if (!res->met[j] && s->expect[j].kind == EXPECT_EXIT)
        snprintf(why, sizeof why, say(g, L_WAS), res->status);
    snprintf(out, n, "%s %s%s", res->met[j] ? "✓" : "✗", what, why);
}

int lesson_page_step(lesson_page *p, const lesson_run *r, const lesson *l, size_t i, lesson_lang g,
                     const lesson_result *res, const char *why)
{
    const char *t[L_COUNT];
    say_all(g, t);
    const lesson_step *s = &l->step[i];
    char line[1024];
    snprintf(line, sizeof line, t[L_STEP_TITLE], l->number, i + 1, l->nstep, lesson_text(s->title, g));
    int rc = lesson_page_add(p, ROW_BOLD, "", "", line, PAGE_PROSE);
    lesson_page_end_title(p);
    rc |= add_expanded(p, ROW_PLAIN, r, lesson_text(s->say, g));
    rc |= lesson_page_add(p, ROW_PLAIN, "", "", "", 0);
    for (size_t j = 0; j < s->nbackground; j++) {
        rc |= lesson_page_add(p, ROW_DIM, "  ", "  ", t[L_BACKGROUND], 0);
        rc |= add_command(p, ROW_DIM, r, s->background[j]);
    }
    for (size_t j = 0; j < s->nrun; j++)
        rc |= add_command(p, ROW_PLAIN, r, s->run[j]);
    lesson_page_end_head(p);
    if (!res && !why)
        return lesson_page_add(p, ROW_DIM, "  ", "  ", t[L_RUNNING], 0) | rc ? -1 : 0;
    if (res) {
        rc |= lesson_page_add(p, ROW_DIM, "  │ ", "  ┊ ", res->output, PAGE_VERBATIM);
        if (res->truncated)
            rc |= lesson_page_add(p, ROW_DIM, "  │ ", "  ┊ ", "…", 0);
    } else {
        snprintf(line, sizeof line, t[L_NOT_RUN], why);
        rc |= lesson_page_add(p, ROW_DIM, "  ", "  ", line, PAGE_PROSE);
    }
    rc |= lesson_page_add(p, ROW_PLAIN, "", "", "", 0);
    rc |= lesson_page_add(p, ROW_BOLD, "  ", "  ", t[L_LOOK], 0);
    rc |= add_expanded(p, ROW_PLAIN, r, lesson_text(s->look, g));
    for (size_t j = 0; res && j < s->nexpect; j++) {
        lesson_check_text(r, s, res, j, g, line, sizeof line);
        rc |= lesson_page_add(p, res->met[j] ? ROW_GOOD : ROW_BAD, "  ", "    ", line, 0);
    }
    return rc ? -1 : 0;
}

void lesson_page_prompt(const lesson_page *p, const lesson_frame *f, lesson_lang g, bool intro, char *out,
                        size_t n)
{
    const char *t[L_COUNT];
    say_all(g, t);
    char scroll[96] = "";
    if (f->below)
        snprintf(scroll, sizeof scroll, t[L_MORE], f->below);
    else if (f->above)
        snprintf(scroll, sizeof scroll, "%s", t[L_UP]);
    const char *keys = intro ? t[L_START] : t[L_KEYS];
    snprintf(out, n, "[%s%s%s]", scroll, scroll[0] ? " · " : "", keys);
    if (!intro && lesson_text_width(out) > p->width - 1)
        snprintf(out, n, "[%s%s%s]", scroll, scroll[0] ? " · " : "", t[L_KEYS_SHORT]);
}
