/* tui_draw_kit.c -- the drawing primitives every pane uses: colour attributes, and writing
 * text into a window cut or wrapped to a width in display columns. */
#include "tui_draw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#include "tui_draw_int.h"

attr_t tui_draw_attr(const tui_screen *s, int pair, attr_t mono)
{
    return s->color ? (attr_t)COLOR_PAIR(pair) : mono;
}

/* How many of the n wide characters fit in width display columns; characters that have
 * no width (unprintable) become '?'. */
static size_t fit(wchar_t *wide, size_t n, int width)
{
    int cols = 0;
    size_t k = 0;
    for (; k < n; k++) {
        int cw = wcwidth(wide[k]);
        if (cw < 0)
            wide[k] = L'?', cw = 1;
        if (cols + cw > width)
            break;
        cols += cw;
    }
    return k;
}

void tui_draw_put(WINDOW *w, int y, int x, int width, attr_t a, const char *fmt, ...)
{
    if (width <= 0)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    wchar_t wide[1024];
    size_t n = mbstowcs(wide, text, sizeof wide / sizeof wide[0] - 1);
    wattron(w, a);
    if (n == (size_t)-1) {
        mvwaddnstr(w, y, x, text, width);
    } else {
        mvwaddnwstr(w, y, x, wide, (int)fit(wide, n, width));
    }
    wattroff(w, a);
}

int tui_draw_put_wrapped(WINDOW *w, int y, int x, int width, int maxlines, attr_t a, const char *text)
{
    wchar_t wide[2048];
    size_t n = mbstowcs(wide, text, sizeof wide / sizeof wide[0] - 1);
    if (n == (size_t)-1 || width <= 0) {
        tui_draw_put(w, y, x, width, a, "%s", text);
        return 1;
    }
    size_t k = 0;
    int line = 0;
    wattron(w, a);
    while (k < n && line < maxlines) {
        size_t start = k;
        k += fit(wide + start, n - start, width);
        mvwaddnwstr(w, y + line, x, wide + start, (int)(k - start));
        line++;
    }
    wattroff(w, a);
    return line;
}
