/* pbdesc_print.c -- grpcurl's `describe`: a symbol of a FileDescriptorProto printed as protobuf source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/pbdesc_int.h"

typedef struct pctx {
    const pd_fileproto *fp;
    bool proto3;
    buf *out;
} pctx;

static void indent(pctx *c, int level)
{
    for (int i = 0; i < level; i++)
        buf_puts(c->out, "  ");
}

static const char *scalar_name(int t)
{
    static const char *names[] = {NULL,      "double", "float",   "int64",    "uint64", "int32",
                                  "fixed64", "fixed32", "bool",   "string",   "group",  NULL,
                                  "bytes",   "uint32", NULL,      "sfixed32", "sfixed64", "sint32",
                                  "sint64"};
    return t > 0 && (size_t)t < sizeof names / sizeof names[0] ? names[t] : NULL;
}

/* A message or enum type named in a file: fully qualified, as grpcurl writes it, also when
 * the file names it relative to scope (as protobuf.js writes descriptors). */
static void put_type_name(pctx *c, const char *scope, const char *name)
{
    const pd_sym *s = name[0] == '.' ? NULL : pd_resolve(name, scope);
    if (s)
        buf_printf(c->out, ".%s", s->name);
    else
        buf_printf(c->out, "%s%s", name[0] == '.' ? "" : ".", name);
}

/* A field's type as grpcurl writes it: a scalar's name or the fully-qualified ".pkg.Type". */
static void put_type(pctx *c, const char *scope, const pd_fieldproto *f)
{
    const char *s = f->type_name ? NULL : scalar_name(f->has_type ? (int)f->type : 0);
    if (s)
        buf_puts(c->out, s);
    else if (f->type_name)
        put_type_name(c, scope, f->type_name);
    else
        buf_puts(c->out, "?");
}

/* The map entry a repeated field of msg (full name msgfull) refers to, or NULL. */
static const pd_msgproto *map_entry(const pd_msgproto *msg, const char *msgfull, const pd_fieldproto *f)
{
    if (!f->has_label || f->label != GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED ||
        !f->type_name)
        return NULL;
    const char *tn = f->type_name[0] == '.' ? f->type_name + 1 : f->type_name;
    size_t ml = strlen(msgfull);
    if (strncmp(tn, msgfull, ml) != 0 || tn[ml] != '.')
        return NULL;
    for (size_t i = 0; i < msg->n_nested_type; i++) {
        const pd_msgproto *n = msg->nested_type[i];
        if (n->name && strcmp(n->name, tn + ml + 1) == 0 && n->options && n->options->map_entry &&
            n->n_field == 2)
            return n;
    }
    return NULL;
}

static void put_string(pctx *c, const char *s)
{
    buf_putc(c->out, '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            buf_printf(c->out, "\\%c", ch);
        else if (ch == '\n')
            buf_puts(c->out, "\\n");
        else if (ch < 0x20 || ch == 0x7f)
            buf_printf(c->out, "\\%03o", ch);
        else
            buf_putc(c->out, ch);
    }
    buf_putc(c->out, '"');
}

/* One field line without indentation: `repeated int32 score = 4 [packed = false];`. */
static void put_field(pctx *c, const pd_msgproto *msg, const char *msgfull, const pd_fieldproto *f,
                      bool in_oneof)
{
    const pd_msgproto *entry = map_entry(msg, msgfull, f);
    if (entry) {
        const pd_fieldproto *k = entry->field[0], *v = entry->field[1];
        if (k->number != 1) {
            k = entry->field[1];
            v = entry->field[0];
        }
        buf_puts(c->out, "map<");
        put_type(c, msgfull, k);
        buf_puts(c->out, ", ");
        put_type(c, msgfull, v);
        buf_puts(c->out, "> ");
    } else {
        int label = f->has_label ? (int)f->label : 0;
        if (label == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED)
            buf_puts(c->out, "repeated ");
        else if (label == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REQUIRED)
            buf_puts(c->out, "required ");
        else if ((f->has_proto3_optional && f->proto3_optional) || (!c->proto3 && !in_oneof))
            buf_puts(c->out, "optional ");
        put_type(c, msgfull, f);
        buf_putc(c->out, ' ');
    }
    buf_printf(c->out, "%s = %d", f->name ? f->name : "?", f->number);
    const char *sep = " [";
    if (f->default_value) {
        buf_printf(c->out, "%sdefault = ", sep);
        if (f->has_type && (f->type == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_STRING ||
                            f->type == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_BYTES))
            put_string(c, f->default_value);
        else
            buf_puts(c->out, f->default_value);
        sep = ", ";
    }
    if (f->options && f->options->has_packed) {
        buf_printf(c->out, "%spacked = %s", sep, f->options->packed ? "true" : "false");
        sep = ", ";
    }
    if (f->options && f->options->has_deprecated && f->options->deprecated) {
        buf_printf(c->out, "%sdeprecated = true", sep);
        sep = ", ";
    }
    buf_puts(c->out, sep[0] == ',' ? "];\n" : ";\n");
}

static void put_enum(pctx *c, const pd_enumproto *e, int level)
{
    indent(c, level);
    buf_printf(c->out, "enum %s {\n", e->name);
    if (e->options && e->options->has_allow_alias && e->options->allow_alias) {
        indent(c, level + 1);
        buf_puts(c->out, "option allow_alias = true;\n");
    }
    for (size_t i = 0; i < e->n_value; i++) {
        indent(c, level + 1);
        buf_printf(c->out, "%s = %d;\n", e->value[i]->name ? e->value[i]->name : "?",
                   e->value[i]->number);
    }
    indent(c, level);
    buf_puts(c->out, "}\n");
}

static int cmp_field_number(const void *x, const void *y)
{
    const pd_fieldproto *a = *(const pd_fieldproto *const *)x, *b = *(const pd_fieldproto *const *)y;
    return (a->number > b->number) - (a->number < b->number);
}

static bool real_oneof(const pd_fieldproto *f)
{
    return f->has_oneof_index && !(f->has_proto3_optional && f->proto3_optional);
}

static void put_message(pctx *c, const pd_msgproto *m, const char *full, int level)
{
    indent(c, level);
    buf_printf(c->out, "message %s {\n", m->name);
    const pd_fieldproto **sorted = malloc((m->n_field ? m->n_field : 1) * sizeof *sorted);
    if (!sorted)
        return;
    memcpy(sorted, m->field, m->n_field * sizeof *sorted);
    qsort(sorted, m->n_field, sizeof *sorted, cmp_field_number);
    for (size_t i = 0; i < m->n_field; i++) {
        const pd_fieldproto *f = sorted[i];
        if (!real_oneof(f)) {
            indent(c, level + 1);
            put_field(c, m, full, f, false);
            continue;
        }
        bool first = true; /* a oneof is printed where its lowest-numbered member stands */
        for (size_t k = 0; k < i && first; k++)
            if (real_oneof(sorted[k]) && sorted[k]->oneof_index == f->oneof_index)
                first = false;
        if (!first)
            continue;
        const char *oname = (size_t)f->oneof_index < m->n_oneof_decl && f->oneof_index >= 0 &&
                                    m->oneof_decl[f->oneof_index]->name
                                ? m->oneof_decl[f->oneof_index]->name
                                : "?";
        indent(c, level + 1);
        buf_printf(c->out, "oneof %s {\n", oname);
        for (size_t k = i; k < m->n_field; k++) {
            if (real_oneof(sorted[k]) && sorted[k]->oneof_index == f->oneof_index) {
                indent(c, level + 2);
                put_field(c, m, full, sorted[k], true);
            }
        }
        indent(c, level + 1);
        buf_puts(c->out, "}\n");
    }
    free(sorted);
    if (level < PD_MAX_DEPTH) {
        for (size_t i = 0; i < m->n_nested_type; i++) {
            const pd_msgproto *n = m->nested_type[i];
            if (!n->name || (n->options && n->options->map_entry))
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s.%s", full, n->name);
            put_message(c, n, sub, level + 1);
        }
        for (size_t i = 0; i < m->n_enum_type; i++)
            put_enum(c, m->enum_type[i], level + 1);
    }
    indent(c, level);
    buf_puts(c->out, "}\n");
}

static void put_rpc(pctx *c, const pd_methproto *m)
{
    const char *scope = c->fp->package ? c->fp->package : "";
    buf_printf(c->out, "rpc %s ( %s", m->name, m->client_streaming ? "stream " : "");
    put_type_name(c, scope, m->input_type ? m->input_type : "?");
    buf_printf(c->out, " ) returns ( %s", m->server_streaming ? "stream " : "");
    put_type_name(c, scope, m->output_type ? m->output_type : "?");
    buf_puts(c->out, " );\n");
}

/* Whether symbol is scope.name (scope may be empty). */
static bool named(const char *symbol, const char *scope, const char *name)
{
    if (!name)
        return false;
    size_t sl = strlen(scope);
    if (sl == 0)
        return strcmp(symbol, name) == 0;
    return strncmp(symbol, scope, sl) == 0 && symbol[sl] == '.' && strcmp(symbol + sl + 1, name) == 0;
}

static int find_in_messages(pctx *c, const char *symbol, const char *scope,
                            Google__Protobuf__DescriptorProto *const *msgs, size_t n,
                            Google__Protobuf__EnumDescriptorProto *const *enums, size_t ne, int depth)
{
    for (size_t i = 0; i < ne; i++)
        if (named(symbol, scope, enums[i]->name)) {
            buf_printf(c->out, "%s is an enum:\n", symbol);
            put_enum(c, enums[i], 0);
            return 0;
        }
    if (depth > PD_MAX_DEPTH)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const pd_msgproto *m = msgs[i];
        if (!m->name)
            continue;
        char full[1024];
        snprintf(full, sizeof full, "%s%s%s", scope, scope[0] ? "." : "", m->name);
        if (strcmp(symbol, full) == 0) {
            buf_printf(c->out, "%s is a message:\n", symbol);
            put_message(c, m, full, 0);
            return 0;
        }
        for (size_t k = 0; k < m->n_field; k++)
            if (named(symbol, full, m->field[k]->name)) {
                buf_printf(c->out, "%s is a field:\n", symbol);
                put_field(c, m, full, m->field[k], real_oneof(m->field[k]));
                return 0;
            }
        size_t fl = strlen(full);
        if (strncmp(symbol, full, fl) == 0 && symbol[fl] == '.' &&
            find_in_messages(c, symbol, full, m->nested_type, m->n_nested_type, m->enum_type,
                             m->n_enum_type, depth + 1) == 0)
            return 0;
    }
    return -1;
}

int pd_print(const pd_fileproto *fp, const char *symbol, buf *out)
{
    pctx c = {fp, fp->syntax && strcmp(fp->syntax, "proto3") == 0, out};
    const char *pkg = fp->package ? fp->package : "";
    for (size_t s = 0; s < fp->n_service; s++) {
        const pd_svcproto *sp = fp->service[s];
        if (!sp->name)
            continue;
        char full[1024];
        snprintf(full, sizeof full, "%s%s%s", pkg, pkg[0] ? "." : "", sp->name);
        if (strcmp(symbol, full) == 0) {
            buf_printf(out, "%s is a service:\nservice %s {\n", symbol, sp->name);
            for (size_t i = 0; i < sp->n_method; i++) {
                indent(&c, 1);
                put_rpc(&c, sp->method[i]);
            }
            buf_puts(out, "}\n");
            return 0;
        }
        for (size_t i = 0; i < sp->n_method; i++)
            if (named(symbol, full, sp->method[i]->name)) {
                buf_printf(out, "%s is a method:\n", symbol);
                put_rpc(&c, sp->method[i]);
                return 0;
            }
    }
    return find_in_messages(&c, symbol, pkg, fp->message_type, fp->n_message_type, fp->enum_type,
                            fp->n_enum_type, 0);
}
