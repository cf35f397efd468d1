/* pbdesc_int.h -- what pbdesc's files share: the pool of files, its symbol table and arenas. */
#ifndef WB_PBDESC_INT_H
#define WB_PBDESC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "wire/pbdesc.h"

typedef Google__Protobuf__FileDescriptorProto pd_fileproto;
typedef Google__Protobuf__DescriptorProto pd_msgproto;
typedef Google__Protobuf__FieldDescriptorProto pd_fieldproto;
typedef Google__Protobuf__EnumDescriptorProto pd_enumproto;
typedef Google__Protobuf__ServiceDescriptorProto pd_svcproto;
typedef Google__Protobuf__MethodDescriptorProto pd_methproto;

#define PD_MAX_FILES 4096
#define PD_MAX_MESSAGES 65536
#define PD_MAX_SYMBOLS (4 * PD_MAX_MESSAGES)
#define PD_MAX_BYTES ((size_t)64 << 20)
#define PD_MAX_DEPTH 64
#define PD_MAX_SERVICES 4096

enum pd_kind { PD_DEAD = 0, PD_MESSAGE, PD_ENUM, PD_SERVICE, PD_METHOD, PD_FILE };

/* One name in a table. proto is the DescriptorProto, EnumDescriptorProto,
 * ServiceDescriptorProto, MethodDescriptorProto or FileDescriptorProto; built is the
 * ProtobufCMessageDescriptor, ProtobufCEnumDescriptor or pb_method made from it. */
typedef struct pd_sym {
    char *name; /* owned by the table, kept when the entry dies */
    int kind;
    uint32_t file;
    const void *proto;
    const void *built;
} pd_sym;

typedef struct pd_table {
    pd_sym *slots;
    size_t cap, used; /* used counts dead entries too */
} pd_table;

enum pd_state { PD_WAITING, PD_VISITING, PD_BUILT, PD_FAILED };

/* Bump allocation that lives for the process, or is released whole when a file fails. */
typedef struct pd_chunk pd_chunk;
typedef struct pd_arena {
    pd_chunk *head;
    size_t total;
} pd_arena;

typedef struct pd_file {
    pd_fileproto *fp; /* owned: the unpacked descriptor, kept for describe */
    int state;
    bool compiled;    /* taken from pbcatalog to satisfy an import */
    pd_arena arena;   /* what its build made, once built: kept for the process */
} pd_file;

/* ---- pbdesc_pool.c: every function here expects the pool's lock (pbdesc.c) held ---- */

extern pd_file pd_files[PD_MAX_FILES];
extern size_t pd_bytes_total; /* serialized bytes added plus arena memory, against PD_MAX_BYTES */
extern size_t pd_nfiles;
extern pd_table pd_syms;
extern size_t pd_nmessages;

/* n zeroed bytes, 16-aligned; NULL when memory or PD_MAX_BYTES ran out. */
void *pd_alloc(pd_arena *a, size_t n);
void pd_arena_free(pd_arena *a);
char *pd_strdup(pd_arena *a, const char *s);
/* "a.b", or b when a is NULL or empty. */
char *pd_join(pd_arena *a, const char *x, const char *sep, const char *y);

pd_sym *pd_find(pd_table *t, const char *name);
/* A type name as a field or method writes it: ".pkg.Msg", or relative to scope (C++
 * scoping: the innermost scope first); a message or enum, else NULL. */
pd_sym *pd_resolve(const char *name, const char *scope);
/* Adds a live entry. Returns 0, 1 when the name is taken (*clash gets the holder), or -1
 * when memory or the cap ran out. */
int pd_put(pd_table *t, const char *name, int kind, uint32_t file, const void *proto,
           const void *built, pd_sym **clash);

/* ---- pbdesc_build.c ---- */

/* Builds pd_files[idx]: its messages, enums and services go into pd_syms, its methods
 * into methods (*nmethods of them, arena memory). Returns 0, or -1 with err (the caller
 * then kills the file's symbols and frees the arena). */
int pd_build_file(uint32_t idx, pd_arena *a, pb_method ***methods, size_t *nmethods, char *err,
                  size_t errlen);
const char *pd_file_name(uint32_t idx);

/* ---- pbdesc_print.c ---- */

/* What grpcurl's describe prints for symbol, which file fp declares. 0, or -1 when fp
 * does not declare it. */
int pd_print(const pd_fileproto *fp, const char *symbol, buf *out);

#endif
