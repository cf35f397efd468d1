/* jsonlines.c -- one JSON value a line, read through wire/jsonval. */
#include "wire/jsonlines.h"

#include <string.h>

#include "base/err.h"
#include "wire/jsonval.h"

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

value *jsonlines_parse(const char *text, size_t len, char *err, size_t errlen)
{
    value *list = value_list();
    if (!list) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    if (blank(text, len))
        return list;
    char why[256];
    value *whole = jsonval_parse(text, len, why, sizeof why);
    if (whole) {
        if (value_list_push(list, whole) < 0)
            goto no_memory;
        return list;
    }
    size_t line = 0;
    for (const char *p = text, *end = text + len; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!blank(p, n)) {
            value *v = jsonval_parse(p, n, why, sizeof why);
            if (!v) {
                err_set(err, errlen, "line %zu is not JSON: %s", line + 1, why);
                value_free(list);
                return NULL;
            }
            if (value_list_push(list, v) < 0)
                goto no_memory;
        }
        p += n + (nl ? 1 : 0);
    }
    return list;
no_memory:
    err_set(err, errlen, "out of memory");
    value_free(list);
    return NULL;
}
