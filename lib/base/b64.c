/* b64.c -- base64 text (RFC 4648) to bytes and back. */
#include "base/b64.h"

#include <string.h>

static const char TAB[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_encode(const void *p, size_t n, buf *out)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char q[4] = {TAB[v >> 18], TAB[(v >> 12) & 63], i + 1 < n ? TAB[(v >> 6) & 63] : '=',
                     i + 2 < n ? TAB[v & 63] : '='};
        if (buf_append(out, q, 4) < 0)
            return -1;
    }
    return 0;
}

static int digit(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

long b64_decode(const char *s, size_t n, uint8_t *out)
{
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (pad && (n + pad) % 4)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digit((unsigned char)s[i]);
        if (d < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits >= 6)
        return -1;
    return (long)o;
}

char *b64_encode_str(const void *p, size_t n)
{
    buf b;
    buf_init(&b, 0);
    if (b64_encode(p, n, &b) < 0 || buf_putc(&b, '\0') < 0) {
        buf_done(&b);
        return NULL;
    }
    return buf_take(&b);
}

long b64_decode_str(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s);
    if (cap == 0 || n / 4 * 3 + 3 > cap) /* room for what n characters can hold, and the NUL */
        return -1;
    long got = b64_decode(s, n, (uint8_t *)out);
    if (got >= 0)
        out[got] = '\0';
    return got;
}
