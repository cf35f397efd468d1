/* numopt.c -- whole-text decimal numbers within a range. */
#include "base/numopt.h"

#include <errno.h>
#include <stdlib.h>

int numopt_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int numopt_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = s ? strtoull(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || s[0] == '-')
        return -1;
    *out = (size_t)v;
    return 0;
}
