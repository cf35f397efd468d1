/* b64.h -- base64 text (RFC 4648) to bytes and back. */
#ifndef WB_B64_H
#define WB_B64_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Appends the standard base64 of p[0..n), with padding, to out. Returns 0, or -1 when
 * out is full. */
int b64_encode(const void *p, size_t n, buf *out);

/* Decodes s[0..n), standard or URL-safe base64, padding optional, into out, which must
 * hold n * 3 / 4 + 1 bytes. Returns the length, or -1 when s is not base64. */
long b64_decode(const char *s, size_t n, uint8_t *out);

/* The standard base64 of p[0..n) as a NUL-terminated heap string (caller frees), or NULL
 * when memory ran out. */
char *b64_encode_str(const void *p, size_t n);
/* Decodes the NUL-terminated base64 text s into out as a NUL-terminated string of at most
 * cap - 1 bytes. Returns the length, or -1 when s is not base64 or out has no room. */
long b64_decode_str(const char *s, char *out, size_t cap);

#endif
