/* tui_index.c -- a hash index from an address to its row in one of the TUI's arrays. */
#include "tui_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: addresses are short, and this spreads their last digits well. */
static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)(h ^ (h >> 32));
}

int tui_index_init(tui_index *x, size_t max)
{
    size_t n = 16;
    while (n < 2 * max)
        n *= 2;
    x->slot = calloc(n, sizeof *x->slot);
    x->mask = n - 1;
    x->max = x->slot ? max : 0;
    return x->slot ? 0 : -1;
}

void tui_index_done(tui_index *x)
{
    free(x->slot);
    x->slot = NULL;
    x->mask = 0;
    x->max = 0;
}

void tui_index_clear(tui_index *x)
{
    if (x->slot)
        memset(x->slot, 0, (x->mask + 1) * sizeof *x->slot);
}

/* The slot of key's hash chain where key's row is; or the empty one that ends the chain. */
static size_t probe(const tui_index *x, const char *key, const char *first_key, size_t stride)
{
    size_t s = hash(key) & x->mask;
    while (x->slot[s] && strcmp(first_key + (size_t)(x->slot[s] - 1) * stride, key) != 0)
        s = (s + 1) & x->mask;
    return s;
}

int tui_index_find(const tui_index *x, const char *key, const char *first_key, size_t stride)
{
    if (!x->slot)
        return -1;
    return x->slot[probe(x, key, first_key, stride)] - 1;
}

int tui_index_add(tui_index *x, const char *first_key, size_t stride, int i)
{
    if (!x->slot || i < 0 || (size_t)i >= x->max)
        return -1;
    size_t s = probe(x, first_key + (size_t)i * stride, first_key, stride);
    if (!x->slot[s])
        x->slot[s] = i + 1;
    return 0;
}

void tui_index_rebuild(tui_index *x, const char *first_key, size_t stride, size_t n)
{
    tui_index_clear(x);
    for (size_t i = 0; i < n; i++)
        tui_index_add(x, first_key, stride, (int)i);
}
