/* services.h -- the sample services (Arith, hello, Greeter), written once for every protocol.
 *
 * Each method names its argument and reply types in Go's terms (see DESIGN.md), so
 * the gob server can send the reply types Go's net/rpc clients expect and the JSON
 * server can check arguments the way Go's encoding/json would. */
#ifndef WB_SERVICES_H
#define WB_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "value/value.h"
#include "value/vtype.h"

/* Runs a method. arg conforms to the method's arg type (see vtype_coerce). On success
 * returns 0 and sets *reply (caller owns it); on failure returns -1 with the error
 * message the caller sends back, such as "divide by zero". */
typedef int (*method_fn)(const value *arg, value **reply, char *err, size_t errlen);

typedef struct method {
    const char *name; /* "Service.Method", as net/rpc spells it */
    const vtype *arg;
    const vtype *reply;
    method_fn fn;
    bool idempotent; /* safe to retry on another instance */
    const char *summary;
} method;

/* Finds a method by its net/rpc name. On failure returns NULL and writes the error
 * Go's net/rpc server would send ("rpc: can't find service X", ...). */
const method *service_find(const char *name, char *err, size_t errlen);
/* Every method, in a fixed order; *n receives the count. */
const method *service_methods(size_t *n);

/* Converts raw to m's argument type (caller owns the result). Returns NULL with a
 * message such as `Arith.Multiply: bad argument: field A: want int, got string "x"
 * (it takes Args{A int, B int})` when it cannot. */
value *service_argument(const method *m, const value *raw, char *err, size_t errlen);

/* Coerces raw to m's argument type and runs m. Returns 0 with *reply set, or -1 with
 * err set (a bad argument or the method's own error). */
int service_call(const method *m, const value *raw, value **reply, char *err, size_t errlen);

#endif
