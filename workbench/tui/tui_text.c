/* tui_text.c -- cutting and padding text by display columns, for every pane of the TUI. */
#include "tui_text.h"

#include <string.h>

#include "wire/explain.h"

/* The bytes of the UTF-8 character at s (1 for a byte that starts none). */
static size_t char_len(const char *s)
{
    unsigned char c = (unsigned char)s[0];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    for (size_t k = 1; k < n; k++)
        if (((unsigned char)s[k] & 0xc0) != 0x80)
            return 1;
    return n;
}

/* Full-width punctuation that must not begin a line, and what must not end one. */
static bool no_line_start(const char *s, size_t len)
{
    static const char *const marks[] = {"，", "。", "：", "；", "）", "、", "！", "？", "」", "”", "』", "…"};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (len == strlen(marks[i]) && memcmp(s, marks[i], len) == 0)
            return true;
    return false;
}

static bool no_line_end(const char *s, size_t len)
{
    return (len == 3 && (memcmp(s, "（", 3) == 0 || memcmp(s, "“", 3) == 0 || memcmp(s, "「", 3) == 0));
}

int tui_text_width(const char *s)
{
    return (int)utf8_width(s, strlen(s));
}

size_t tui_text_line(const char *s, int width, size_t *next)
{
    if (width < 1)
        width = 1;
    size_t i = 0, brk = 0, brk_next = 0, prev = 0, prev_len = 0;
    int cols = 0, prev_w = 0;
    while (s[i] && s[i] != '\n') {
        size_t len = char_len(s + i);
        int cw = (int)utf8_width(s + i, len);
        if (i > 0) {
            char p = s[prev];
            if (s[i] == ' ' && p != ' ')
                brk = i, brk_next = i;
            else if (s[i] != ' ' && (p == '|' || p == ',' || (p == '/' && s[i] != '/'))) /* "grpc://" whole */
                brk = i, brk_next = i;
            else if ((cw == 2 || prev_w == 2) && s[i] != ' ' && p != ' ' && !no_line_start(s + i, len) &&
                     !no_line_end(s + prev, prev_len))
                brk = i, brk_next = i;
        }
        if (cols + cw > width && i > 0)
            break;
        cols += cw;
        prev = i, prev_len = len, prev_w = cw;
        i += len;
    }
    if (s[i] == '\n') {
        *next = i + 1;
        return i;
    }
    size_t end = i;
    *next = i;
    if (s[i] && brk > 0)
        end = brk, *next = brk_next;
    while (s[*next] == ' ')
        (*next)++;
    return end;
}

int tui_text_nlines(const char *s, int width, int indent)
{
    int n = 0;
    size_t at = 0, len = strlen(s);
    do {
        size_t next;
        tui_text_line(s + at, n ? width - indent : width, &next);
        at += next;
        n++;
    } while (at < len);
    return n;
}

void tui_text_pad(char *out, size_t cap, const char *s, int width, bool right)
{
    if (cap == 0)
        return;
    size_t take = 0;
    int cols = 0;
    while (s[take]) {
        size_t len = char_len(s + take);
        int cw = (int)utf8_width(s + take, len);
        if (cols + cw > width)
            break;
        cols += cw;
        take += len;
    }
    size_t pad = width > cols ? (size_t)(width - cols) : 0;
    if (take + pad + 1 > cap) { /* too small: as much as fits, cut at a character */
        take = 0;
        while (s[take] && take + char_len(s + take) + 1 <= cap)
            take += char_len(s + take);
        pad = 0;
    }
    size_t o = 0;
    if (right)
        memset(out, ' ', pad), o = pad;
    memcpy(out + o, s, take);
    o += take;
    if (!right)
        memset(out + o, ' ', pad), o += pad;
    out[o] = '\0';
}
