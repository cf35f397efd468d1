/* jsonlines.h -- a stream of request messages typed as JSON text: one value a line. */
#ifndef WB_JSONLINES_H
#define WB_JSONLINES_H

#include <stddef.h>

#include "value/value.h"

/* Reads text[0..len) as messages into a new V_LIST (caller owns it): when the whole
 * text is one JSON value (it may span lines), that one value; otherwise each line that
 * is not blank is one value. Empty text gives an empty list. Returns NULL with a
 * reason naming the line in err. */
value *jsonlines_parse(const char *text, size_t len, char *err, size_t errlen);

#endif
