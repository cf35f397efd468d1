/* fuzzkit.h -- what the explainer fuzz targets check of every explanation: each span lies
 * within the bytes and says something, nested spans lie within their parent, and the
 * top-level spans cover the bytes exactly, in order. Header-only: each target is a
 * program of its own. */
#ifndef WB_FUZZKIT_H
#define WB_FUZZKIT_H

#include <stdlib.h>

#include "wire/explain.h"

static inline void check_spans(const explain *e, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < e->len; i++) {
        const span *s = &e->spans[i];
        if (s->off > n || s->len > n - s->off || !s->meaning || !s->layer)
            abort();
        if (i + 1 < e->len && e->spans[i + 1].depth > s->depth) {
            const span *c = &e->spans[i + 1];
            if (c->off < s->off || c->off + c->len > s->off + s->len)
                abort();
            continue;
        }
        if (s->off != at)
            abort();
        at = s->off + s->len;
    }
    if (at != n)
        abort();
}

#endif
