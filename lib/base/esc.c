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

char *esc_bytes(char *out, size_t cap, const void *s, size_t n)
{
    const unsigned char *p = s;
    size_t o = 0;
    if (cap == 0)
        return out;
    for (size_t i = 0; i < n;) {
        char tmp[8];
        size_t l = plain_len(p + i, n - i), tl;
        const char *piece = (const char *)p + i;
        if (l > 0) {
            tl = l;
        } else {
            const char *named = p[i] == '\n' ? "\\n" : p[i] == '\r' ? "\\r" : p[i] == '\t' ? "\\t" : NULL;
            if (named)
                memcpy(tmp, named, 3);
            else
                snprintf(tmp, sizeof tmp, "\\x%02x", p[i]);
            piece = tmp;
            tl = strlen(tmp);
            l = 1;
        }
        /* Room for this piece, and for "..." if more is to come after it. */
        size_t need = tl + (i + l < n ? 3 : 0);
        if (o + need >= cap) {
            if (o + 3 < cap) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(out + o, piece, tl);
        o += tl;
        i += l;
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
