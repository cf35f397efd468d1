/* testkit.h -- helpers the codec unit tests share: hex byte vectors, and checks on
 * explain spans. Header-only: each test is a program of its own. */
#ifndef WB_TESTKIT_H
#define WB_TESTKIT_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "wire/explain.h"

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes;

/* The bytes a hex string spells (caller frees .p). */
static inline bytes unhex(const char *h)
{
    bytes b = {malloc(strlen(h) / 2 + 1), strlen(h) / 2};
    for (size_t i = 0; i < b.n; i++) {
        unsigned x;
        cr_assert(sscanf(h + 2 * i, "%2x", &x) == 1);
        b.p[i] = (uint8_t)x;
    }
    return b;
}

/* Lower-case hex of p[0..n) (caller frees). */
static inline char *tohex(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(s + 2 * i, "%02x", p[i]);
    s[2 * n] = '\0';
    return s;
}

/* Asserts that out holds exactly the hex string want. */
static inline void assert_bytes(buf *out, const char *want)
{
    char *got = tohex(buf_data(out), buf_size(out));
    cr_assert_str_eq(got, want);
    free(got);
}

/* The first span whose meaning contains needle, or NULL. */
static inline const span *find_span(const explain *e, const char *needle)
{
    for (size_t i = 0; i < e->len; i++)
        if (strstr(e->spans[i].meaning, needle))
            return &e->spans[i];
    return NULL;
}

static inline size_t count_spans(const explain *e, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < e->len; i++)
        n += strstr(e->spans[i].meaning, needle) != NULL;
    return n;
}

/* Asserts that the leaf spans cover bytes 0..n exactly once, in order. */
static inline void assert_leaves_tile(const explain *e, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < e->len; i++) {
        if (i + 1 < e->len && e->spans[i + 1].depth > e->spans[i].depth)
            continue;
        cr_assert_eq(e->spans[i].off, at, "leaf %zu (%s) starts at %zu, expected %zu", i,
                     e->spans[i].meaning, e->spans[i].off, at);
        at += e->spans[i].len;
    }
    cr_assert_eq(at, n);
}

#endif
