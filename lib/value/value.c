/* value.c -- the neutral value tree. */
#include "value/value.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static value *value_alloc(value_kind k)
{
    value *v = calloc(1, sizeof *v);
    if (v)
        v->kind = k;
    return v;
}

static char *dup_mem(const void *p, size_t len)
{
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    if (len)
        memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

value *value_null(void) { return value_alloc(V_NULL); }

value *value_bool(bool b)
{
    value *v = value_alloc(V_BOOL);
    if (v)
        v->u.b = b;
    return v;
}

value *value_int(int64_t i)
{
    value *v = value_alloc(V_INT);
    if (v)
        v->u.i = i;
    return v;
}

value *value_uint(uint64_t u)
{
    value *v = value_alloc(V_UINT);
    if (v)
        v->u.u = u;
    return v;
}

value *value_float(double f)
{
    value *v = value_alloc(V_FLOAT);
    if (v)
        v->u.f = f;
    return v;
}

static value *value_blob(value_kind k, const void *p, size_t len)
{
    value *v = value_alloc(k);
    if (!v)
        return NULL;
    v->u.s.p = dup_mem(p, len);
    if (!v->u.s.p) {
        free(v);
        return NULL;
    }
    v->u.s.len = len;
    return v;
}

value *value_string(const char *p, size_t len) { return value_blob(V_STRING, p, len); }
value *value_cstring(const char *s) { return value_blob(V_STRING, s, strlen(s)); }
value *value_bytes(const void *p, size_t len) { return value_blob(V_BYTES, p, len); }
value *value_list(void) { return value_alloc(V_LIST); }
value *value_map(void) { return value_alloc(V_MAP); }

value *value_struct(const char *name)
{
    value *v = value_alloc(V_STRUCT);
    if (v && name) {
        v->u.st.name = dup_mem(name, strlen(name));
        if (!v->u.st.name) {
            free(v);
            return NULL;
        }
    }
    return v;
}

/* Grows an array of elements of size sz so that one more fits. */
static int grow(void **items, size_t *cap, size_t len, size_t sz)
{
    if (len < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *n = realloc(*items, ncap * sz);
    if (!n)
        return -1;
    *items = n;
    *cap = ncap;
    return 0;
}

int value_list_push(value *list, value *item)
{
    if (!item || grow((void **)&list->u.list.items, &list->u.list.cap, list->u.list.len,
                      sizeof(value *)) < 0) {
        value_free(item);
        return -1;
    }
    list->u.list.items[list->u.list.len++] = item;
    return 0;
}

int value_map_put(value *map, value *k, value *v)
{
    if (!k || !v || grow((void **)&map->u.map.items, &map->u.map.cap, map->u.map.len,
                         sizeof(value_pair)) < 0) {
        value_free(k);
        value_free(v);
        return -1;
    }
    map->u.map.items[map->u.map.len++] = (value_pair){k, v};
    return 0;
}

int value_struct_set(value *st, const char *name, value *v)
{
    for (size_t i = 0; v && i < st->u.st.len; i++) {
        if (strcmp(st->u.st.fields[i].name, name) == 0) {
            value_free(st->u.st.fields[i].v);
            st->u.st.fields[i].v = v;
            return 0;
        }
    }
    char *n = v ? dup_mem(name, strlen(name)) : NULL;
    if (!n || grow((void **)&st->u.st.fields, &st->u.st.cap, st->u.st.len,
                   sizeof(value_field)) < 0) {
        free(n);
        value_free(v);
        return -1;
    }
    st->u.st.fields[st->u.st.len++] = (value_field){n, v};
    return 0;
}

static const value *lookup(const value *v, const char *name,
                           int (*cmp)(const char *, const char *))
{
    if (!v)
        return NULL;
    if (v->kind == V_STRUCT) {
        for (size_t i = 0; i < v->u.st.len; i++)
            if (cmp(v->u.st.fields[i].name, name) == 0)
                return v->u.st.fields[i].v;
    } else if (v->kind == V_MAP) {
        for (size_t i = 0; i < v->u.map.len; i++) {
            const value *k = v->u.map.items[i].k;
            if (k->kind == V_STRING && cmp(k->u.s.p, name) == 0)
                return v->u.map.items[i].v;
        }
    }
    return NULL;
}

const value *value_get(const value *v, const char *name) { return lookup(v, name, strcmp); }

const value *value_get_fold(const value *v, const char *name)
{
    const value *exact = lookup(v, name, strcmp);
    return exact ? exact : lookup(v, name, strcasecmp);
}

value *value_clone(const value *v)
{
    if (!v)
        return NULL;
    value *c = NULL;
    switch (v->kind) {
    case V_NULL: return value_null();
    case V_BOOL: return value_bool(v->u.b);
    case V_INT: return value_int(v->u.i);
    case V_UINT: return value_uint(v->u.u);
    case V_FLOAT: return value_float(v->u.f);
    case V_STRING: return value_string(v->u.s.p, v->u.s.len);
    case V_BYTES: return value_bytes(v->u.s.p, v->u.s.len);
    case V_LIST:
        if (!(c = value_list()))
            return NULL;
        for (size_t i = 0; i < v->u.list.len; i++)
            if (value_list_push(c, value_clone(v->u.list.items[i])) < 0)
                goto fail;
        return c;
    case V_MAP:
        if (!(c = value_map()))
            return NULL;
        for (size_t i = 0; i < v->u.map.len; i++)
            if (value_map_put(c, value_clone(v->u.map.items[i].k),
                              value_clone(v->u.map.items[i].v)) < 0)
                goto fail;
        return c;
    case V_STRUCT:
        if (!(c = value_struct(v->u.st.name)))
            return NULL;
        for (size_t i = 0; i < v->u.st.len; i++)
            if (value_struct_set(c, v->u.st.fields[i].name, value_clone(v->u.st.fields[i].v)) < 0)
                goto fail;
        return c;
    }
fail:
    value_free(c);
    return NULL;
}

bool value_equal(const value *a, const value *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case V_NULL: return true;
    case V_BOOL: return a->u.b == b->u.b;
    case V_INT: return a->u.i == b->u.i;
    case V_UINT: return a->u.u == b->u.u;
    case V_FLOAT: return a->u.f == b->u.f;
    case V_STRING:
    case V_BYTES:
        return a->u.s.len == b->u.s.len && memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
    case V_LIST:
        if (a->u.list.len != b->u.list.len)
            return false;
        for (size_t i = 0; i < a->u.list.len; i++)
            if (!value_equal(a->u.list.items[i], b->u.list.items[i]))
                return false;
        return true;
    case V_MAP:
        if (a->u.map.len != b->u.map.len)
            return false;
        for (size_t i = 0; i < a->u.map.len; i++)
            if (!value_equal(a->u.map.items[i].k, b->u.map.items[i].k) ||
                !value_equal(a->u.map.items[i].v, b->u.map.items[i].v))
                return false;
        return true;
    case V_STRUCT:
        if (a->u.st.len != b->u.st.len)
            return false;
        for (size_t i = 0; i < a->u.st.len; i++)
            if (strcmp(a->u.st.fields[i].name, b->u.st.fields[i].name) != 0 ||
                !value_equal(a->u.st.fields[i].v, b->u.st.fields[i].v))
                return false;
        return true;
    }
    return false;
}

void value_free(value *v)
{
    if (!v)
        return;
    switch (v->kind) {
    case V_STRING:
    case V_BYTES:
        free(v->u.s.p);
        break;
    case V_LIST:
        for (size_t i = 0; i < v->u.list.len; i++)
            value_free(v->u.list.items[i]);
        free(v->u.list.items);
        break;
    case V_MAP:
        for (size_t i = 0; i < v->u.map.len; i++) {
            value_free(v->u.map.items[i].k);
            value_free(v->u.map.items[i].v);
        }
        free(v->u.map.items);
        break;
    case V_STRUCT:
        for (size_t i = 0; i < v->u.st.len; i++) {
            free(v->u.st.fields[i].name);
            value_free(v->u.st.fields[i].v);
        }
        free(v->u.st.fields);
        free(v->u.st.name);
        break;
    default:
        break;
    }
    free(v);
}

const char *value_kind_name(value_kind k)
{
    static const char *names[] = {"null", "bool",  "int",  "uint", "float",
                                  "string", "bytes", "list", "map",  "object"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}
