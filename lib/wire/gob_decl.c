/* gob_decl.c -- a gob stream's type definitions as Go declarations, and Go's nil for what a sender left out. */
#include <stdio.h>
#include <string.h>

#include "wire/gob.h"
#include "wire/gob_int.h"

int32_t gob_dec_last_id(const gob_dec *d) { return d->ntypes ? d->types[d->ntypes - 1]->id : 0; }

/* Whether the wire name is a Go identifier ("Student"), not a spelling ("[]int", "struct {...}"). */
static bool declared_name(const char *name)
{
    if (!name || !name[0] || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p >= 0x80))
            return false;
    return true;
}

int gob_dec_declare(const gob_dec *d, int32_t after, buf *out)
{
    int lines = 0;
    for (size_t i = 0; i < d->ntypes; i++) {
        const wtype *t = d->types[i];
        if (t->id <= after)
            continue;
        bool named = declared_name(t->name);
        if (!named && !(t->kind == W_STRUCT && !(t->name && t->name[0])))
            continue; /* "[]int", "map[string]int": spelled where they are used */
        wtype plain = *t;
        plain.name = "";
        char spelled[1024];
        gob_type_name(d, &plain, spelled, sizeof spelled, 0);
        if (named)
            buf_printf(out, "type %s %s\n", t->name, spelled);
        else
            buf_printf(out, "%s\n", spelled);
        lines++;
    }
    return lines;
}

/* Whether Go's decoder leaves v nil: an empty slice or []byte anywhere (decoding no
 * items into a nil slice keeps it nil), an empty map only where a struct field was left
 * out (a map that arrives is made, even empty). */
static bool decodes_nil(const value *v, bool field)
{
    return (v->kind == V_LIST && v->u.list.len == 0) || (v->kind == V_BYTES && v->u.s.len == 0) ||
           (field && v->kind == V_MAP && v->u.map.len == 0);
}

static void nil_slot(value **slot, bool field)
{
    value *v = *slot;
    if (decodes_nil(v, field)) {
        value *nil = value_null();
        if (nil) {
            value_free(v);
            *slot = nil;
        }
        return;
    }
    switch (v->kind) {
    case V_LIST:
        for (size_t i = 0; i < v->u.list.len; i++)
            nil_slot(&v->u.list.items[i], false);
        break;
    case V_MAP:
        for (size_t i = 0; i < v->u.map.len; i++)
            nil_slot(&v->u.map.items[i].v, false);
        break;
    case V_STRUCT:
        for (size_t i = 0; i < v->u.st.len; i++)
            nil_slot(&v->u.st.fields[i].v, true);
        break;
    default: break;
    }
}

value *gob_nil_empty(value *v)
{
    if (v)
        nil_slot(&v, false);
    return v;
}
