/* jsonval.h -- JSON text to values and back, through cJSON, keeping int64 and uint64 exact.
 *
 * cJSON stores numbers as doubles, which cannot hold every int64. The reader asks
 * jsonscan for each number's literal text and reads integers from it exactly; the
 * writer emits integers as raw text. Objects become V_MAP with string keys, in order.
 * Strings are UTF-8 both ways: bytes that are not well-formed UTF-8, read or written, are
 * replaced by U+FFFD, as Go's encoding/json does, so what is written is always JSON. */
#ifndef WB_JSONVAL_H
#define WB_JSONVAL_H

#include <cJSON.h>

#include "base/buf.h"
#include "value/value.h"

/* Parses one complete JSON text (nothing but white space may follow it). Returns a
 * new value, or NULL with a reason (and the byte where it went wrong) in err. */
value *jsonval_parse(const char *text, size_t len, char *err, size_t errlen);
/* Converts an already parsed cJSON tree. Numbers are read from their literal text in
 * text[0..len), which must be the text the tree was parsed from. */
value *jsonval_from_cjson(const cJSON *j, const char *text, size_t len, char *err, size_t errlen);

/* Appends p[0..n) as a JSON string literal: quotes, backslashes and control characters
 * (NUL included) escaped, invalid UTF-8 replaced by \ufffd. Returns 0, or -1 when out
 * is full. */
int jsonval_put_string(buf *out, const char *p, size_t n);

/* Appends v as compact JSON text. Returns 0, or -1 when out is full. */
int jsonval_write(const value *v, buf *out);

#endif
