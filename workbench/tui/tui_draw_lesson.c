/* tui_draw_lesson.c -- the TUI's lesson pane: a step's text, its commands and their
 * output, and its checks, cut into rows that fit (Chinese included) and scrolled. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

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
    bool zh = lv->lang == LANG_ZH;
    head->n = out->n = tail->n = 0;
    if (lv->phase == PHASE_SKIPPED || lv->phase == PHASE_FAILED) {
        add_rows(head, A_BOLD, L"", lesson_text(l->title, lv->lang), inner);
        add_rows(head, tui_draw_attr(s, PAIR_BAD, A_BOLD), L"",
                 lv->phase == PHASE_SKIPPED ? (zh ? "这一课现在无法运行:" : "This lesson cannot run here:")
                                            : (zh ? "这一课没能启动:" : "The lesson could not start:"),
                 inner);
        add_rows(head, A_NORMAL, L"", lv->why, inner);
    } else {
        add_rows(head, A_DIM, L"",
                 zh ? "(这一课运行它自己的服务;旁边的窗格显示的是 workbench 自己的实例)"
                    : "(the lesson runs servers of its own; the panes show the workbench's)",
                 inner);
        add_rows(head, A_BOLD, L"", lesson_text(st->title, lv->lang), inner);
        add_prose(head, A_NORMAL, lv->say ? lv->say : lesson_text(st->say, lv->lang), inner);
        add_rows(head, A_NORMAL, L"", "", inner);
        if (lv->commands)
            add_rows(head, tui_draw_attr(s, PAIR_HEAD, A_BOLD), L"", lv->commands, inner);
        if (lv->phase == PHASE_STARTING)
            add_rows(out, A_DIM, L"", zh ? "正在启动这一课的服务……" : "starting the lesson's servers...", inner);
        else if (lv->phase == PHASE_RUNNING)
            add_rows(out, A_DIM, L"", zh ? "运行中……" : "running...", inner);
        else if (lv->output)
            add_rows_ex(out, A_DIM, L"│ ", text_tail(lv->output, 6000), inner, true);
        else if (lv->why[0])
            add_rows(out, tui_draw_attr(s, PAIR_BAD, A_BOLD), L"", lv->why, inner);
        if (lv->phase == PHASE_SHOWN) {
            add_rows(tail, A_BOLD, L"", zh ? "看这里:" : "Look:", inner);
            add_prose(tail, A_NORMAL, lv->look ? lv->look : lesson_text(st->look, lv->lang), inner);
            for (size_t j = 0; j < st->nexpect; j++) {
                char what[600];
                lesson_expect_describe(&st->expect[j], lv->lang, what, sizeof what);
                add_rows(tail, lv->met[j] ? tui_draw_attr(s, PAIR_RUN, A_NORMAL) : tui_draw_attr(s, PAIR_BAD, A_BOLD),
                         lv->met[j] ? L"✓ " : L"✗ ", what, inner);
            }
            if (lv->finished)
                add_rows(tail, A_BOLD, L"", zh ? "这一课结束了。L 关闭。" : "End of the lesson. L closes it.", inner);
        }
    }
}

void tui_draw_lesson(tui_screen *s, const tui_lesson_view *lv, int *scroll_io)
{
    static text_rows head, out, tail;
    WINDOW *w = s->lesson;
    const lesson *l = lv->l;
    bool zh = lv->lang == LANG_ZH;
    char title[200];
    snprintf(title, sizeof title, zh ? "第 %d 课 · 步骤 %zu/%zu" : "Lesson %d · step %zu/%zu", l->number, lv->step + 1,
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
        zh ? "回车/] 下一步 · [ 上一步 · a 重新运行 · L 关闭" : "Enter/] next · [ back · a run again · L close");
    wnoutrefresh(w);
}