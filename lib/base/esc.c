/* esc.c -- control characters and invalid UTF-8 escaped before a peer's bytes are printed. */
#include "base/esc.h"

#include <stdio.h>
#include <string.h>

size_t esc_utf8_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

bool esc_utf8_valid(const void *s, size_t n)
{
    const unsigned char *p = s;
    for (size_t i = 0; i < n;) {
        size_t l = esc_utf8_len(p + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

/* How many bytes at p (n left) print as they are; 0 when the first byte must be escaped. */
static size_t plain_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x20 || p[0] == 0x7F)
        return 0;
    size_t l = esc_utf8_len(p, n);
    if (l == 2 && p[0] == 0xC2 && p[1] < 0xA0) /* a C1 control, U+0080..U+009F */
        return 0;
    return l;
}

bool esc_clean(const void *s, size_t n)
{
    const unsigned char *p = s;
    for (size_t i = 0; i < n;) {
        size_t l = plain_len(p + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

/* The text for the byte or character at p (n left) into piece; returns how many input
 * bytes it stands for and sets *len to the text's length. */
static size_t next_piece(const unsigned char *p, size_t n, char piece[8], size_t *len)
{
    size_t l = plain_len(p, n);
    if (l > 0) {
        memcpy(piece, p, l);
        *len = l;
        return l;
    }
    const char *named = p[0] == '\n' ? "\\n" : p[0] == '\r' ? "\\r" : p[0] == '\t' ? "\\t" : NULL;
    if (named)
        memcpy(piece, named, 3);
    else
        snprintf(piece, 8, "\\x%02x", p[0]);
    *len = strlen(piece);
    return 1;
}

char *esc_bytes(char *out, size_t cap, const void *s, size_t n)
{
    const unsigned char *p = s;
    char piece[8];
    size_t total = 0, tl;
    if (cap == 0)
        return out;
    for (size_t i = 0; i < n; total += tl)
        i += next_piece(p + i, n - i, piece, &tl);
    /* All of it when it fits; else as much as leaves room for "...". */
    bool cut = total >= cap;
    size_t room = !cut ? cap - 1 : cap > 4 ? cap - 4 : 0, o = 0;
    for (size_t i = 0; i < n;) {
        size_t used = next_piece(p + i, n - i, piece, &tl);
        if (o + tl > room)
            break;
        memcpy(out + o, piece, tl);
        o += tl;
        i += used;
    }
    if (cut && cap > 4) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

char *esc_str(char *out, size_t cap, const char *s)
{
    if (!s)
        s = "(null)";
    return esc_bytes(out, cap, s, strlen(s));
}
