/* gunzip.h -- inflates one gzip-compressed gRPC message (grpc-encoding: gzip) through
 * zlib, with a cap on what it may grow to, so a small "zip bomb" costs nothing. */
#ifndef WB_GUNZIP_H
#define WB_GUNZIP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

typedef enum gunzip_result {
    GUNZIP_OK = 0,
    GUNZIP_CORRUPT = -1,  /* not one whole gzip member, or trailing bytes after it */
    GUNZIP_TOO_LARGE = -2, /* it would inflate to more than max bytes */
    GUNZIP_NO_MEMORY = -3,
} gunzip_result;

/* Inflates the gzip member p[0..n) into out (emptied first). err says why otherwise. */
gunzip_result gunzip_message(const uint8_t *p, size_t n, size_t max, buf *out, char *err, size_t errlen);

#endif
