/* sorted.c -- the lower bound of a key in an array kept in order. */
#include "base/sorted.h"

size_t sorted_first(const void *base, size_t n, size_t size, const void *key,
                    int (*cmp)(const void *key, const void *elem))
{
    const char *p = base;
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (cmp(key, p + m * size) > 0)
            a = m + 1;
        else
            b = m;
    }
    return a;
}
