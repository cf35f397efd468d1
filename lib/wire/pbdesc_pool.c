/* pbdesc_pool.c -- pbdesc's storage: arenas that live for the process, and symbol tables. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "wire/pbdesc_int.h"

struct pd_chunk {
    pd_chunk *next;
    size_t used, cap;
    alignas(16) unsigned char mem[];
};

pd_file pd_files[PD_MAX_FILES];
size_t pd_nfiles;
pd_table pd_syms;
size_t pd_nmessages;

size_t pd_bytes_total;

/* ---- arenas ---- */

void *pd_alloc(pd_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        if (pd_bytes_total + cap > PD_MAX_BYTES)
            return NULL;
        pd_chunk *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
        a->total += cap;
        pd_bytes_total += cap;
    }
    void *p = a->head->mem + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

void pd_arena_free(pd_arena *a)
{
    while (a->head) {
        pd_chunk *c = a->head;
        a->head = c->next;
        free(c);
    }
    pd_bytes_total -= a->total;
    a->total = 0;
}

char *pd_strdup(pd_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = pd_alloc(a, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *pd_join(pd_arena *a, const char *x, const char *sep, const char *y)
{
    if (!x || !x[0])
        return pd_strdup(a, y);
    size_t lx = strlen(x), ls = strlen(sep), ly = strlen(y);
    char *p = pd_alloc(a, lx + ls + ly + 1);
    if (p) {
        memcpy(p, x, lx);
        memcpy(p + lx, sep, ls);
        memcpy(p + lx + ls, y, ly + 1);
    }
    return p;
}

/* ---- symbol tables: open addressing, FNV-1a ---- */

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static pd_sym *slot_for(const pd_table *t, const char *name)
{
    size_t mask = t->cap - 1;
    for (size_t i = hash(name) & mask;; i = (i + 1) & mask)
        if (!t->slots[i].name || strcmp(t->slots[i].name, name) == 0)
            return &t->slots[i];
}

pd_sym *pd_find(pd_table *t, const char *name)
{
    if (!t->cap)
        return NULL;
    pd_sym *s = slot_for(t, name);
    return s->name && s->kind != PD_DEAD ? s : NULL;
}

static int grow(pd_table *t)
{
    size_t nc = t->cap ? 2 * t->cap : 1024;
    pd_sym *old = t->slots;
    size_t oc = t->cap;
    t->slots = calloc(nc, sizeof *t->slots);
    if (!t->slots) {
        t->slots = old;
        return -1;
    }
    t->cap = nc;
    for (size_t i = 0; i < oc; i++)
        if (old[i].name)
            *slot_for(t, old[i].name) = old[i];
    free(old);
    return 0;
}

int pd_put(pd_table *t, const char *name, int kind, uint32_t file, const void *proto,
           const void *built, pd_sym **clash)
{
    if ((t->used + 1) * 2 > t->cap && (t->used >= PD_MAX_SYMBOLS || grow(t) < 0))
        return -1;
    pd_sym *s = slot_for(t, name);
    if (s->name && s->kind != PD_DEAD) {
        *clash = s;
        return 1;
    }
    if (!s->name) {
        s->name = strdup(name);
        if (!s->name)
            return -1;
        t->used++;
    }
    s->kind = kind;
    s->file = file;
    s->proto = proto;
    s->built = built;
    return 0;
}

/* A type name as a field or method writes it: ".pkg.Msg", or relative to scope. */
pd_sym *pd_resolve(const char *name, const char *scope)
{
    if (name[0] == '.')
        return pd_find(&pd_syms, name + 1);
    char tmp[1024];
    size_t sl = scope ? strlen(scope) : 0;
    for (;;) {
        int n = snprintf(tmp, sizeof tmp, "%.*s%s%s", (int)sl, scope ? scope : "", sl ? "." : "", name);
        if (n < 0 || (size_t)n >= sizeof tmp)
            return NULL;
        pd_sym *s = pd_find(&pd_syms, tmp);
        if (s && (s->kind == PD_MESSAGE || s->kind == PD_ENUM))
            return s;
        if (sl == 0)
            return NULL;
        while (sl > 0 && scope[sl - 1] != '.')
            sl--;
        if (sl > 0)
            sl--;
    }
}
