/* gunzip.c -- one gzip member into a buffer, capped (zlib's inflate with a gzip header). */
#include "wire/gunzip.h"

#include <zlib.h>

#include "base/err.h"

enum { STEP = 64 * 1024 };

gunzip_result gunzip_message(const uint8_t *p, size_t n, size_t max, buf *out, char *err, size_t errlen)
{
    buf_clear(out);
    z_stream z = {0};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) { /* 16: a gzip header, not zlib's */
        err_set(err, errlen, "cannot start zlib");
        return GUNZIP_NO_MEMORY;
    }
    gunzip_result r = GUNZIP_OK;
    size_t fed = 0;
    int zr = Z_OK;
    uint8_t probe; /* where one byte over the cap would go: zlib reads it back later */
    while (zr != Z_STREAM_END) {
        size_t room = max - buf_size(out) < STEP ? max - buf_size(out) : STEP;
        if (room == 0) {
            /* full: one more byte of output would be over the cap */
            z.next_out = &probe;
            z.avail_out = 1;
        } else {
            if (buf_reserve(out, room) < 0) {
                err_set(err, errlen, "out of memory inflating the message");
                r = GUNZIP_NO_MEMORY;
                break;
            }
            z.next_out = out->p + out->len;
            z.avail_out = (uInt)room;
        }
        if (z.avail_in == 0 && fed < n) {
            size_t chunk = n - fed < (size_t)UINT32_MAX ? n - fed : (size_t)UINT32_MAX;
            z.next_in = (Bytef *)(p + fed);
            z.avail_in = (uInt)chunk;
            fed += chunk;
        }
        uInt before = z.avail_out;
        zr = inflate(&z, Z_NO_FLUSH);
        size_t made = before - z.avail_out;
        if (room == 0 && made > 0) {
            err_set(err, errlen, "the message inflates to more than %zu bytes", max);
            r = GUNZIP_TOO_LARGE;
            break;
        }
        out->len += made;
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && z.avail_in == 0 && fed == n) {
            err_set(err, errlen, "the gzip data ends before its end (%zu bytes)", n);
            r = GUNZIP_CORRUPT;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            err_set(err, errlen, "not valid gzip data: %s", z.msg ? z.msg : zError(zr));
            r = zr == Z_MEM_ERROR ? GUNZIP_NO_MEMORY : GUNZIP_CORRUPT;
            break;
        }
    }
    if (r == GUNZIP_OK && (z.avail_in > 0 || fed < n)) {
        err_set(err, errlen, "%zu bytes follow the gzip data", (size_t)z.avail_in + (n - fed));
        r = GUNZIP_CORRUPT;
    }
    inflateEnd(&z);
    if (r != GUNZIP_OK)
        buf_clear(out);
    return r;
}
