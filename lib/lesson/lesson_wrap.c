/* lesson_wrap.c -- cutting lesson text into rows of a display width, Latin at spaces,
 * Chinese between characters but not before a closing mark. */
#include "lesson/lesson_wrap.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t lesson_decode(const char *text, wchar_t *out, size_t max)
{
    mbstate_t st = {0};
    size_t n = 0, len = text ? strlen(text) : 0;
    for (size_t i = 0; i < len && n + 1 < max;) {
        size_t used = mbrtowc(&out[n], text + i, len - i, &st);
        if (used == (size_t)-1 || used == (size_t)-2 || used == 0) {
            out[n] = L'?';
            used = 1;
            memset(&st, 0, sizeof st);
        } else if (out[n] != L'\n' && wcwidth(out[n]) < 0) {
            out[n] = L'?';
        }
        n++;
        i += used;
    }
    if (max)
        out[n] = L'\0';
    return n;
}

int lesson_char_width(wchar_t c)
{
    int w = wcwidth(c);
    return w < 0 ? 1 : w;
}

/* Marks a row may not start with (closing punctuation), and may not end with (opening). */
static bool closing(wchar_t c)
{
    return c && wcschr(L"，。、：；？！）」』》〉】…—”’,.;:!?)]}", c);
}

static bool opening(wchar_t c)
{
    return c && wcschr(L"（「『《〈【“‘([{", c);
}

/* Whether a row may end just before w[i] (start < i): at a space, or beside a wide
 * character, unless that would start a row with a closing mark or end one with an
 * opening mark. */
static bool breakable(const wchar_t *w, size_t start, size_t i)
{
    if (w[i] == L' ')
        return true;
    return i > start && w[i - 1] != L' ' && (lesson_char_width(w[i]) == 2 || lesson_char_width(w[i - 1]) == 2) &&
           !closing(w[i]) && !opening(w[i - 1]);
}

size_t lesson_wrap_row(const wchar_t *w, size_t n, size_t start, int width, size_t max_chars, size_t *next)
{
    size_t end = start, brk = start;
    int cols = 0;
    while (end < n && w[end] != L'\n' && end - start < max_chars) {
        int cw = lesson_char_width(w[end]);
        if (cols + cw > width && end > start)
            break;
        if (end > start && breakable(w, start, end))
            brk = end;
        cols += cw;
        end++;
    }
    if (end >= n || w[end] == L'\n') {
        *next = end < n ? end + 1 : end;
    } else {
        if (!breakable(w, start, end) && brk > start)
            end = brk;
        size_t k = end;
        while (k < n && w[k] == L' ')
            k++;
        *next = k;
    }
    while (end > start && w[end - 1] == L' ')
        end--;
    return end;
}

char *lesson_flow(const char *text)
{
    if (!text)
        text = "";
    char *flow = malloc(strlen(text) + 1);
    if (!flow)
        return NULL;
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (*p != '\n') {
            flow[n++] = *p;
            continue;
        }
        if (p[1] == '\n') {
            flow[n++] = '\n';
            while (p[1] == '\n')
                p++;
        } else if (!(p > text && (unsigned char)p[-1] >= 0x80 && (unsigned char)p[1] >= 0x80)) {
            flow[n++] = ' ';
        }
    }
    flow[n] = '\0';
    return flow;
}

/* w[from, to) as a UTF-8 heap string. */
static char *encode(const wchar_t *w, size_t from, size_t to)
{
    char *s = malloc((to - from) * MB_LEN_MAX + 1), *o = s;
    mbstate_t st = {0};
    for (size_t i = from; s && i < to; i++) {
        size_t k = wcrtomb(o, w[i], &st);
        if (k == (size_t)-1) {
            *o = '?', k = 1;
            memset(&st, 0, sizeof st);
        }
        o += k;
    }
    if (s)
        *o = '\0';
    return s;
}

int lesson_wrap_lines(const char *text, int width, char **rows, int max)
{
    size_t len = text ? strlen(text) : 0;
    wchar_t *w = malloc((len + 1) * sizeof *w);
    if (!w)
        return -1;
    size_t n = lesson_decode(text, w, len + 1), k = 0;
    int count = 0;
    do {
        size_t next, end = lesson_wrap_row(w, n, k, width, n + 1, &next);
        if (count == max)
            break;
        if (!(rows[count] = encode(w, k, end))) {
            while (count > 0)
                free(rows[--count]);
            free(w);
            return -1;
        }
        count++;
        k = next;
    } while (k < n);
    free(w);
    return count;
}
