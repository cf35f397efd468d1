/* buf.c -- growable byte buffer with a hard size cap. */
#include "base/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void buf_init(buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max ? max : SIZE_MAX;
}

void buf_done(buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->off = b->len = b->cap = 0;
}

int buf_reserve(buf *b, size_t n)
{
    size_t used = b->len - b->off;
    if (n > b->max || used > b->max - n)
        return BUF_TOO_BIG;
    if (b->cap - b->len >= n)
        return 0;
    if (b->off > 0) {
        memmove(b->p, b->p + b->off, used);
        b->off = 0;
        b->len = used;
        if (b->cap - b->len >= n)
            return 0;
    }
    size_t want = b->cap ? b->cap : 256;
    while (want - used < n)
        want = want > SIZE_MAX / 2 ? SIZE_MAX : want * 2;
    if (want > b->max && b->max >= used + n)
        want = b->max;
    uint8_t *np = realloc(b->p, want);
    if (!np)
        return BUF_NO_MEMORY;
    b->p = np;
    b->cap = want;
    return 0;
}

int buf_append(buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int r = buf_reserve(b, n);
    if (r < 0)
        return r;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

int buf_putc(buf *b, uint8_t c)
{
    return buf_append(b, &c, 1);
}

int buf_puts(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n <= 0)
        return n == 0 ? 0 : BUF_TOO_BIG;
    int r = buf_reserve(b, (size_t)n);
    if (r < 0)
        return r;
    if (b->cap - b->len > (size_t)n) {
        vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
        return 0;
    }
    /* the text fills the buffer to its cap: no room for vsnprintf's NUL */
    char *tmp = malloc((size_t)n + 1);
    if (!tmp)
        return BUF_NO_MEMORY;
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    memcpy(b->p + b->len, tmp, (size_t)n);
    b->len += (size_t)n;
    free(tmp);
    return 0;
}

int buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

void buf_consume(buf *b, size_t n)
{
    if (n >= b->len - b->off)
        b->off = b->len = 0;
    else
        b->off += n;
}

void buf_shrink(buf *b, size_t keep)
{
    size_t used = buf_size(b);
    if (b->cap <= keep || used > b->cap / 2)
        return;
    if (used == 0) {
        free(b->p);
        b->p = NULL;
        b->off = b->len = b->cap = 0;
        return;
    }
    memmove(b->p, b->p + b->off, used);
    b->off = 0;
    b->len = used;
    size_t want = used > keep ? used : keep;
    uint8_t *np = realloc(b->p, want);
    if (np) {
        b->p = np;
        b->cap = want;
    }
}

void buf_clear(buf *b)
{
    b->off = b->len = 0;
}

char *buf_take(buf *b)
{
    if (buf_reserve(b, 1) < 0)
        return NULL;
    size_t n = buf_size(b);
    if (b->off)
        memmove(b->p, b->p + b->off, n);
    char *s = (char *)b->p;
    s[n] = '\0';
    b->p = NULL;
    b->off = b->len = b->cap = 0;
    return s;
}

int buf_read_stream(buf *b, FILE *f)
{
    for (;;) {
        size_t room = b->max - buf_size(b) < 65536 ? b->max - buf_size(b) : 65536;
        if (room == 0) {
            char probe;
            return fread(&probe, 1, 1, f) == 1 ? BUF_TOO_BIG : ferror(f) ? -1 : 0;
        }
        int r = buf_reserve(b, room);
        if (r < 0)
            return r;
        size_t n = fread(b->p + b->len, 1, room, f);
        b->len += n;
        if (n == 0)
            return ferror(f) ? -1 : 0;
    }
}

int buf_read_file(buf *b, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int r = buf_read_stream(b, f);
    int e = errno;
    fclose(f);
    if (r == BUF_TOO_BIG)
        err_set(err, errlen, "%s: larger than %zu bytes", path, b->max);
    else if (r == BUF_NO_MEMORY)
        err_set(err, errlen, "%s: out of memory", path);
    else if (r < 0)
        err_set(err, errlen, "%s: %s", path, strerror(e));
    return r < 0 ? -1 : 0;
}
