/* tui_draw_lesson.c -- the TUI's lesson pane: a step's text, its commands and their
 * output, and its checks, cut into rows that fit (Chinese included) and scrolled; and the
 * lesson's own servers and registry in the Instances and Registry panes. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "base/i18n.h"
#include "lesson/lesson_wrap.h"
#include "tui_draw_int.h"

/* Lesson text cut into screen rows: at newlines, and at spaces (or anywhere, for
 * text without them, such as Chinese) to fit width display columns. */
typedef struct text_row {
    attr_t a;
    wchar_t w[160];
    int n;
} text_row;

typedef struct text_rows {
    text_row row[160];
    int n;
} text_rows;

/* Adds text as rows of at most width columns; with keep_last, a full list drops its
 * first rows instead of the new ones. */
static void add_rows_ex(text_rows *r, attr_t a, const wchar_t *prefix, const char *text, int width, bool keep_last)
{
    enum { ROWS = sizeof r->row / sizeof r->row[0], ROW_CHARS = sizeof r->row[0].w / sizeof(wchar_t) };
    static wchar_t wide[8192];
    size_t n = lesson_decode(text, wide, sizeof wide / sizeof wide[0]);
    int pw = (int)wcslen(prefix), avail = width - pw;
    if (avail < 8 || avail > 150)
        avail = avail < 8 ? 8 : 150;
    size_t k = 0;
    do {
        if (r->n >= ROWS) {
            if (!keep_last)
                return;
            memmove(&r->row[0], &r->row[1], (ROWS - 1) * sizeof r->row[0]);
            r->n--;
        }
        size_t start = k, next, end = lesson_wrap_row(wide, n, k, avail, (size_t)(ROW_CHARS - 1 - pw), &next);
        r->row[r->n].a = a;
        wcscpy(r->row[r->n].w, prefix);
        wmemcpy(r->row[r->n].w + pw, wide + start, end - start);
        r->row[r->n].n = pw + (int)(end - start);
        r->n++;
        k = next;
    } while (k < n);
}

static void add_rows(text_rows *r, attr_t a, const wchar_t *prefix, const char *text, int width)
{
    add_rows_ex(r, a, prefix, text, width, false);
}

/* The end of a long text: its last max bytes, from a line start when there is one. */
static const char *text_tail(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return s;
    const char *p = s + len - max, *nl = strchr(p, '\n');
    return nl && nl[1] ? nl + 1 : p;
}

/* Prose as paragraphs (lesson_flow), cut into rows. */
static void add_prose(text_rows *r, attr_t a, const char *text, int width)
{
    char *flow = lesson_flow(text);
    add_rows(r, a, L"", flow ? flow : "", width);
    free(flow);
}

/* The pane's text as rows of at most inner columns: head (the step and its commands),
 * out (what they printed) and tail (what to look at, the checks). */
static void lesson_rows(const tui_screen *s, const tui_lesson_view *lv, int inner, text_rows *head, text_rows *out,
                        text_rows *tail)
{
    const lesson *l = lv->l;
    const lesson_step *st = &l->step[lv->step];
    head->n = out->n = tail->n = 0;
    if (lv->phase == PHASE_SKIPPED || lv->phase == PHASE_FAILED) {
        add_rows(head, A_BOLD, L"", lesson_text(l->title, lv->lang), inner);
        add_rows(head, tui_draw_attr(s, PAIR_BAD, A_BOLD), L"",
                 lv->phase == PHASE_SKIPPED ? _("This lesson cannot run here:") : _("The lesson could not start:"),
                 inner);
        add_rows(head, A_NORMAL, L"", lv->why, inner);
    } else {
        add_rows(head, A_DIM, L"",
                 _("(Instances and Registry show this lesson's own servers and registry; Traffic and Timeline "
                   "stay the workbench's)"),
                 inner);
        add_rows(head, A_BOLD, L"", lesson_text(st->title, lv->lang), inner);
        add_prose(head, A_NORMAL, lv->say ? lv->say : lesson_text(st->say, lv->lang), inner);
        add_rows(head, A_NORMAL, L"", "", inner);
        if (lv->commands)
            add_rows(head, tui_draw_attr(s, PAIR_HEAD, A_BOLD), L"", lv->commands, inner);
        if (lv->phase == PHASE_STARTING)
            add_rows(out, A_DIM, L"", _("starting the lesson's servers..."), inner);
        else if (lv->phase == PHASE_RUNNING)
            add_rows(out, A_DIM, L"", _("running..."), inner);
        else if (lv->output)
            add_rows_ex(out, A_DIM, L"│ ", text_tail(lv->output, 6000), inner, true);
        else if (lv->why[0])
            add_rows(out, tui_draw_attr(s, PAIR_BAD, A_BOLD), L"", lv->why, inner);
        if (lv->phase == PHASE_SHOWN) {
            add_rows(tail, A_BOLD, L"", _("Look:"), inner);
            add_prose(tail, A_NORMAL, lv->look ? lv->look : lesson_text(st->look, lv->lang), inner);
            for (size_t j = 0; j < st->nexpect; j++) {
                char what[600];
                lesson_expect_describe(&st->expect[j], lv->lang, what, sizeof what);
                add_rows(tail, lv->met[j] ? tui_draw_attr(s, PAIR_RUN, A_NORMAL) : tui_draw_attr(s, PAIR_BAD, A_BOLD),
                         lv->met[j] ? L"✓ " : L"✗ ", what, inner);
            }
            if (lv->finished)
                add_rows(tail, A_BOLD, L"", _("End of the lesson. L closes it."), inner);
        }
    }
}

void tui_draw_lesson(tui_screen *s, const tui_lesson_view *lv, int *scroll_io)
{
    static text_rows head, out, tail;
    WINDOW *w = s->lesson;
    const lesson *l = lv->l;
    char title[200];
    snprintf(title, sizeof title, _("Lesson %d · step %zu/%zu"), l->number, lv->step + 1,
             l->nstep);
    werase(w);
    box(w, 0, 0);
    tui_draw_put(w, 0, 2, getmaxx(w) - 4, tui_draw_attr(s, PAIR_HEAD, A_BOLD), " %s ", title);
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 3; /* the keys take the last row */
    lesson_rows(s, lv, inner, &head, &out, &tail);
    /* head, the output's last lines (what the rest leaves, at least 3), tail; when that
     * is more than fits, PgUp/PgDn scroll through it */
    int nout = rows - head.n - tail.n;
    if (nout < 3)
        nout = 3;
    if (nout > out.n)
        nout = out.n;
    int total = head.n + nout + tail.n;
    int scroll = *scroll_io;
    if (scroll > total - rows)
        scroll = total - rows > 0 ? total - rows : 0;
    *scroll_io = scroll;
    for (int k = scroll, y = 1; k < total && y <= rows; k++, y++) {
        const text_row *row = k < head.n          ? &head.row[k]
                              : k < head.n + nout ? &out.row[out.n - nout + (k - head.n)]
                                                  : &tail.row[k - head.n - nout];
        wattron(w, row->a);
        mvwaddnwstr(w, y, 1, row->w, row->n);
        wattroff(w, row->a);
    }
    if (scroll > 0)
        tui_draw_put(w, 0, getmaxx(w) - 12, 10, A_BOLD, " ↑ PgUp ");
    if (scroll + rows < total)
        tui_draw_put(w, rows + 2 - 1 + 1, getmaxx(w) - 12, 10, A_BOLD, " ↓ PgDn ");
    tui_draw_put(w, rows + 1, 1, inner, A_DIM, "%s",
        _("Enter/] next · [ back · a run again · L close"));
    wnoutrefresh(w);
}
static const char *proc_word(lesson_proc_state st)
{
    return st == PROC_GONE ? _("gone") : st == PROC_STOPPED ? _("stopped") : _("running");
}

bool tui_draw_lesson_instances(tui_screen *s, const tui_lesson_view *lv)
{
    if (!lv || !lv->mine)
        return false;
    WINDOW *w = s->inst;
    char title[120];
    snprintf(title, sizeof title, _("Instances · lesson %d's servers"), lv->l->number);
    tui_draw_frame(s, w, "instances", title);
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 3;
    if (lv->nserver == 0) {
        tui_draw_wrap(w, 1, 2, inner - 1, 0, 0, rows + 1, A_DIM, _("starting the lesson's servers..."));
        wnoutrefresh(w);
        return true;
    }
    tui_draw_put(w, 1, 2, inner - 1, tui_draw_attr(s, PAIR_HEAD, A_BOLD), "%-7s %-10s %-21s %7s  %s", _("kind"),
                 _("name"), _("address"), _("pid"), _("state"));
    size_t k = 0;
    for (; k < lv->nserver && (int)k < rows; k++) {
        const tui_lesson_server *sv = &lv->server[k];
        char pid[16] = "-";
        if (sv->pid > 0)
            snprintf(pid, sizeof pid, "%d", sv->pid);
        int y = 2 + (int)k;
        tui_draw_put(w, y, 2, inner - 1, A_NORMAL, "%-7s %-10s %-21s %7s", sv->kind, sv->name, sv->addr, pid);
        attr_t a = sv->state == PROC_RUNNING   ? tui_draw_attr(s, PAIR_RUN, A_NORMAL)
                   : sv->state == PROC_STOPPED ? tui_draw_attr(s, PAIR_PAUSE, A_BOLD)
                                               : tui_draw_attr(s, PAIR_BAD, A_BOLD);
        tui_draw_put(w, y, 51, inner - 50, a, "%s", proc_word(sv->state));
    }
    if (k < lv->nserver)
        tui_draw_put(w, getmaxy(w) - 1, 2, inner - 2, A_BOLD, _(" %zu more "), lv->nserver - k);
    wnoutrefresh(w);
    return true;
}

bool tui_draw_lesson_registry(tui_screen *s, const tui_lesson_view *lv)
{
    if (!lv || !lv->mine)
        return false;
    WINDOW *w = s->reg;
    char line[400];
    snprintf(line, sizeof line, _("Registry · lesson %d's"), lv->l->number);
    tui_draw_frame(s, w, "registry", line);
    int inner = getmaxx(w) - 2, rows = getmaxy(w) - 2, y = 0;
    if (!lv->registry[0]) {
        tui_draw_wrap(w, 1, 1, inner, 2, 0, rows, A_DIM,
                      lv->nserver ? _("this lesson has no registry") : _("starting the lesson's servers..."));
        wnoutrefresh(w);
        return true;
    }
    snprintf(line, sizeof line, ngettext("%s: %zu key", "%s: %zu keys", lv->reg_total), lv->registry, lv->reg_total);
    if (!lv->reg_ok)
        snprintf(line, sizeof line, _("%s: unreachable"), lv->registry);
    y += tui_draw_wrap(w, 1, 1, inner, 2, 0, rows, lv->reg_ok ? A_NORMAL : tui_draw_attr(s, PAIR_BAD, A_BOLD), line);
    size_t k = 0;
    for (; k < lv->nreg && y < rows; k++) {
        const registry_instance *ri = &lv->reg[k];
        if (ri->status[0])
            snprintf(line, sizeof line, "%s/%s %s %s", ri->service, ri->addr, ri->protocol, ri->status);
        else
            snprintf(line, sizeof line, _("%s/%s %s lease %llx"), ri->service, ri->addr, ri->protocol,
                     (unsigned long long)ri->lease);
        y += tui_draw_wrap(w, 1 + y, 1, inner, 2, 0, rows - y, A_NORMAL, line);
    }
    if (k < lv->reg_total)
        tui_draw_put(w, getmaxy(w) - 1, 2, inner - 2, A_BOLD, _(" %zu more "), lv->reg_total - k);
    wnoutrefresh(w);
    return true;
}
