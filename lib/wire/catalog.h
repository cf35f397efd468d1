/* catalog.h -- one table of method signatures that every protocol binds to.
 *
 * An entry says what a method takes and gives: in Go's terms (vtype) for gob and
 * JSON-RPC, and in protobuf's (pb_method, from pbcatalog) where the method is also
 * served over gRPC. It says whether a retry is safe, what the method does in one line,
 * and, in a process that serves it, which handler runs it. A signature without a
 * handler can be called as a client but is not served.
 *
 * Sources add entries; nothing else writes here. The sample services add theirs with
 * services_register (services sit above wire/, so the arrow points down); later
 * sources (server reflection, .proto files read at run time) use the same catalog_add.
 * Servers dispatch through catalog_find and catalog_call, so every codec agrees on
 * names, argument rules and error texts; clients take a method's types from
 * catalog_find and never from the services themselves.
 *
 * Threads: entries are only ever added, never changed or removed, and each is published
 * only once complete. Any thread may look up at any time, even while another thread
 * adds, and a pointer returned stays valid for the life of the process. Adds are
 * serialized inside; in practice sources add at start-up, before the first call. */
#ifndef WB_CATALOG_H
#define WB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "value/value.h"
#include "value/vtype.h"

struct pb_method; /* wire/pbcatalog.h */

/* Runs a method. arg conforms to the method's argument type (see vtype_coerce). On
 * success returns 0 and sets *reply (caller owns it); on failure returns -1 with the
 * message the caller sends back, such as "divide by zero". */
typedef int (*catalog_handler)(const value *arg, value **reply, char *err, size_t errlen);

typedef struct catalog_method {
    const char *name;      /* "Arith.Multiply", as net/rpc spells it; NULL when gRPC only */
    const vtype *arg;      /* Go-shaped argument; NULL when unknown (a client infers it) */
    const vtype *reply;    /* Go-shaped reply; NULL when unknown */
    const char *grpc_path; /* "/arith.Arith/Multiply"; NULL when not a gRPC method */
    const struct pb_method *pb; /* its protobuf shape; catalog_add fills it from pbcatalog */
    bool idempotent;       /* safe to retry on another instance */
    const char *summary;   /* one line: what it computes */
    catalog_handler fn;    /* NULL: known to clients, not served here */
} catalog_method;

/* Adds n entries. Each struct is copied; what it points to (strings, types, descriptors,
 * handler) is not, and must stay valid for the life of the process: static tables, or
 * memory the source never frees. An entry whose name or gRPC path is already in the
 * catalog is skipped: the first source to describe a method wins. Where pb is NULL and
 * grpc_path names a method compiled into pbcatalog, pb is filled in. Returns how many
 * were added, or -1 with err when an entry has neither name nor path, a name is not
 * "Service.Method", a path is not "/pkg.Service/Method", or memory ran out (entries
 * before the faulty one stay added). */
int catalog_add(const catalog_method *entries, size_t n, char *err, size_t errlen);

/* Finds a method by its net/rpc name. served: count only entries with a handler (a
 * server's view). On failure returns NULL and writes the text Go's net/rpc server sends
 * ("rpc: can't find service X", "rpc: can't find method X" or "rpc: service/method
 * request ill-formed: X"). err may be NULL. */
const catalog_method *catalog_find(const char *name, bool served, char *err, size_t errlen);

/* Finds a method by its gRPC path ("/pkg.Service/Method"); NULL when none has it. */
const catalog_method *catalog_find_path(const char *path);

/* The protobuf shape of a gRPC method, named by its path in any spelling pbcatalog_find
 * takes ("/arith.Arith/Multiply", "arith.Arith/Multiply", "arith.Arith.Multiply") or by
 * the net/rpc name of a catalog entry that has a gRPC path ("Arith.Multiply"). NULL when
 * neither knows it. */
const struct pb_method *catalog_find_grpc(const char *name);

/* The i-th method, in the order added; NULL when i is past the last. Walk from 0 until
 * NULL to see every method added so far. */
const catalog_method *catalog_at(size_t i);

/* Converts raw to m's argument type (caller owns the result); a copy of raw when m has
 * no argument type. Returns NULL with a message such as `Arith.Multiply: bad argument:
 * field A: want int, got string "x" (it takes Args{A int, B int})` when it cannot. */
value *catalog_argument(const catalog_method *m, const value *raw, char *err, size_t errlen);

typedef enum catalog_status {
    CATALOG_OK = 0,
    CATALOG_NOT_SERVED,   /* m has no handler in this process */
    CATALOG_BAD_ARGUMENT, /* raw does not fit m's argument type */
    CATALOG_FAILED,       /* the handler returned an error */
} catalog_status;

/* Converts raw to m's argument type and runs m's handler: the one call path of every
 * server. On CATALOG_OK *reply is set (caller owns it); otherwise err says why, in the
 * words the caller sends back. */
catalog_status catalog_call(const catalog_method *m, const value *raw, value **reply, char *err,
                            size_t errlen);

#endif
