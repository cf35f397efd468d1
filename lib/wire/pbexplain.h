/* pbexplain.h -- explains the bytes of one protobuf message, field by field.
 *
 * Every field is a tag (field number and wire type in one varint) and a value: a varint,
 * 4 or 8 little-endian bytes, or a length and that many bytes. With the message's
 * protobuf-c descriptor the explanation names fields and types ("field 1 name (string)
 * = "world""), reads zigzag for sint, enums by name, packed repeated fields and nested
 * messages by their types. Without one (or for fields the descriptor does not know) it
 * says what the wire alone tells, and guesses what a length-delimited value holds:
 * printable text, a nested message when it parses as one, other UTF-8 text, or bytes.
 *
 * Spans use layer "pb": tags are SPAN_TYPE, lengths SPAN_FRAME, values SPAN_DATA, and
 * each field is a container holding its tag and value. */
#ifndef WB_PBEXPLAIN_H
#define WB_PBEXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "wire/explain.h"

/* Appends spans explaining p[0..n) as one message of type d (NULL: without a schema),
 * placed at capture offset base and nesting depth. *told remembers which encodings were
 * already spelled out in full, so later messages explain them briefly (start it at 0;
 * NULL = always in full). Any input is safe: nesting is capped and every length checked.
 * The leaves always tile p[0..n) exactly. Returns 0, or -1 when some bytes do not make a
 * valid message (they are covered by SPAN_ERROR spans saying why). */
int pbexplain_message(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                      size_t base, int depth, unsigned *told, explain *e);

#endif
