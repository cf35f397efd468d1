/* tui_index.h -- a hash index from an address to its row in one of the TUI's arrays, so
 * that finding one of 500 instances costs no walk over them.
 *
 * The index keeps row numbers only; the caller keeps the rows, each with its key (a NUL-
 * terminated string) at the same place: row i's key is at first_key + i * stride. Rows
 * only ever added at the end need tui_index_add alone; after rows move or go, the caller
 * builds the index again (tui_index_rebuild), once per change. */
#ifndef WB_TUI_INDEX_H
#define WB_TUI_INDEX_H

#include <stddef.h>

typedef struct tui_index {
    int *slot;   /* row + 1, 0 when empty; open addressing, linear probing */
    size_t mask; /* slots - 1, slots a power of two at least twice max */
    size_t max;  /* rows it can hold */
} tui_index;

/* Prepares x for up to max rows. Returns 0, or -1 when out of memory. */
int tui_index_init(tui_index *x, size_t max);
/* Frees x's slots (x may have failed init, or be zeroed). */
void tui_index_done(tui_index *x);
/* Forgets every row. */
void tui_index_clear(tui_index *x);
/* Adds row i (below max; a key already there keeps its row). Returns 0, or -1 when i is
 * past max. */
int tui_index_add(tui_index *x, const char *first_key, size_t stride, int i);
/* The row whose key is key, or -1. */
int tui_index_find(const tui_index *x, const char *key, const char *first_key, size_t stride);
/* Forgets every row and adds rows 0..n). */
void tui_index_rebuild(tui_index *x, const char *first_key, size_t stride, size_t n);

#endif
