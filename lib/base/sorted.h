/* sorted.h -- where a key falls in an array kept in order: bsearch's lower bound. */
#ifndef WB_SORTED_H
#define WB_SORTED_H

#include <stddef.h>

/* The index of the first of the n elements (each size bytes, from base) that is not below
 * key, or n when all are: cmp(key, elem) is negative, zero or positive as key is below,
 * equal to or above elem, and the elements are in that order. */
size_t sorted_first(const void *base, size_t n, size_t size, const void *key,
                    int (*cmp)(const void *key, const void *elem));

#endif
