/* pbjson.h -- protobuf messages to values shaped as proto3's JSON mapping, and back.
 *
 * What grpcurl and every protobuf runtime print and read as JSON: fields by their
 * lowerCamelCase JSON name (the proto name is accepted too on the way in), int64 and
 * uint64 (and fixed64, sint64, sfixed64) as decimal strings, bytes as base64, enums by
 * value name (a number on the way in, and out when no name has it), repeated fields as
 * lists, maps as objects keyed by the key's text, a oneof by its member that is set,
 * NaN and Infinity as strings, and the well-known types in their own forms:
 * Timestamp as RFC 3339 text ("1972-01-01T10:00:20.021Z"), Duration as "1.5s", the
 * wrappers (Int32Value ...) as their bare value, Struct/Value/ListValue as the JSON they
 * hold, Empty as {}, FieldMask as "a.b,c", Any as its message with "@type".
 *
 * The values are jsonval's (wire/jsonval): jsonval_write prints the result as JSON and
 * jsonval_parse reads what pbjson_to_message takes, with integers exact both ways.
 * Works on any protobuf-c descriptor: compiled in, or built at run time (wire/pbdesc). */
#ifndef WB_PBJSON_H
#define WB_PBJSON_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "value/value.h"

typedef struct pbjson_opts {
    /* print fields at their zero value too, as grpcurl's -emit-defaults (protojson's
     * EmitUnpopulated): 0, "", false, [], {}, the first enum value, and null for an
     * unset message; unset oneof members and optionals stay out */
    bool emit_defaults;
    bool proto_names;   /* print fields by their proto name, not the JSON name */
} pbjson_opts;

/* The JSON form of msg as a value (caller owns it): a V_STRUCT named after the message
 * with its fields in field-number order (jsonval_write keeps that order), or for a
 * well-known type its own form; proto maps and Struct are V_MAP. NULL with err when
 * memory ran out or a value cannot be written (a Timestamp out of range, an Any whose
 * type no file describes). */
value *pbjson_from_message(const ProtobufCMessage *msg, const pbjson_opts *opts, char *err, size_t errlen);

/* Builds a message of type d from the JSON form v (as jsonval_parse gives it, or a
 * V_STRUCT; V_NULL gives an empty message). A field named twice, or two members of one
 * oneof, is an error. The caller frees the result with
 * protobuf_c_message_free_unpacked(msg, NULL). Returns NULL with err naming the field
 * path and what is wrong, such as `field "p.weight": want int32, got string "x"`,
 * `unknown field "foo" in pb.Student`, `field "w": no value "Sunday" in enum pb.Week`. */
ProtobufCMessage *pbjson_to_message(const ProtobufCMessageDescriptor *d, const value *v, char *err,
                                    size_t errlen);

#endif
