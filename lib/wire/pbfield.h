/* pbfield.h -- what walkers over protobuf-c descriptors share: field kinds, element sizes, numbers from values.
 *
 * wire/pbvalue (Go-shaped values) and wire/pbjson (proto3's JSON mapping) walk messages
 * the same way; the pieces they both need live here. */
#ifndef WB_PBFIELD_H
#define WB_PBFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "value/value.h"

/* The member at byte offset off of a message. */
static inline void *pbfield_at(void *msg, unsigned off) { return (char *)msg + off; }
static inline const void *pbfield_cat(const void *msg, unsigned off) { return (const char *)msg + off; }

/* A map field: a repeated message whose type protoc generated as FooEntry{key=1, value=2}. */
bool pbfield_is_map(const ProtobufCFieldDescriptor *fd);
/* A fresh message of type d (free it with protobuf_c_message_free_unpacked), compiled
 * or built at run time (wire/pbdesc, which has no init function); NULL when memory ran
 * out. */
ProtobufCMessage *pbfield_new_message(const ProtobufCMessageDescriptor *d);
/* The bytes one element of type t takes in a repeated field's array. */
size_t pbfield_elem_size(ProtobufCType t);
/* "int32", "bytes", "message": the type as the .proto file names it. */
const char *pbfield_type_name(ProtobufCType t);
/* Whether a singular field is set: a oneof member that is the one set, an optional
 * with its has_ flag (or a string or message that is not NULL nor the default), a
 * message pointer that is not NULL; a proto3 field (no presence) counts as set. */
bool pbfield_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd);

/* What v is, for error messages: `string "x"`, `int 5`, `object`. */
void pbfield_describe(const value *v, char *out, size_t n);

/* Integers from an int, a uint, a float with no fractional part, or decimal text.
 * Return 0, PBFIELD_WRONG when v is none of these, PBFIELD_RANGE when it is outside
 * [lo, hi]. */
enum { PBFIELD_WRONG = -1, PBFIELD_RANGE = -2 };
int pbfield_get_i64(const value *v, int64_t lo, int64_t hi, int64_t *out);
int pbfield_get_u64(const value *v, uint64_t hi, uint64_t *out);
/* A double from a number, "NaN", "Infinity", "-Infinity" or decimal text; 0 or PBFIELD_WRONG. */
int pbfield_get_double(const value *v, double *out);

#endif
