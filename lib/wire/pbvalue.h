/* pbvalue.h -- protobuf messages to neutral values and back, through protobuf-c descriptors.
 *
 * This is how one service implementation serves gRPC too: a request message becomes a
 * value (a V_STRUCT named after the message, one field per proto field, in field-number
 * order, every field present), the shared service runs, and its reply value becomes
 * the reply message. Field names match ignoring case and underscores, so proto's
 * `name` meets Go's `Name`, and JSON's `{"A":7}` fills proto field `A` or `a`.
 *
 * Mapping (proto3 JSON rules where they apply): int32/sint32/sfixed32/int64/sint64/
 * sfixed64 <-> V_INT, uint32/fixed32/uint64/fixed64 <-> V_UINT, float/double <-> V_FLOAT,
 * bool <-> V_BOOL, string <-> V_STRING, bytes <-> V_BYTES (from JSON: base64 text),
 * enum <-> V_STRING holding the value's name (an integer is accepted on the way in),
 * message <-> V_STRUCT, repeated <-> V_LIST, map fields <-> V_MAP, oneof: only the
 * member that is set appears. */
#ifndef WB_PBVALUE_H
#define WB_PBVALUE_H

#include <protobuf-c/protobuf-c.h>

#include "value/value.h"

/* Returns a new value for msg (caller owns it), or NULL when memory ran out. Unset
 * proto3 scalars appear with their zero value; an unset message field is V_NULL. */
value *pbvalue_from_message(const ProtobufCMessage *msg);

/* Builds a message of type d from v (a V_STRUCT or V_MAP; V_NULL gives an empty
 * message). The caller frees the result with protobuf_c_message_free_unpacked(msg, NULL).
 * Returns NULL with a reason in err, such as `field "A": want int64, got string "x"` or
 * `unknown field "foo" for helloworld.HelloRequest`. */
ProtobufCMessage *pbvalue_to_message(const ProtobufCMessageDescriptor *d, const value *v,
                                     char *err, size_t errlen);

/* Convenience: serialize v as message type d into a heap buffer (*out, *len; caller
 * frees *out). Returns 0, or -1 with err. */
int pbvalue_pack(const ProtobufCMessageDescriptor *d, const value *v, uint8_t **out, size_t *len,
                 char *err, size_t errlen);
/* Parses bytes as message type d and returns the value (caller owns it), or NULL with err. */
value *pbvalue_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, char *err,
                      size_t errlen);

#endif
