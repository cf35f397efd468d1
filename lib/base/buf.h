/* buf.h -- growable byte buffer with a hard size cap, used for every socket and codec buffer. */
#ifndef WB_BUF_H
#define WB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes live in p[off..len). cap is what is allocated; max is the cap nothing may exceed. */
typedef struct buf {
    uint8_t *p;
    size_t off, len, cap, max;
} buf;

/* Prepares an empty buffer that may never hold more than max bytes (0 = SIZE_MAX). */
void buf_init(buf *b, size_t max);
/* Releases the storage; the buffer is empty and reusable afterwards. Accepts NULL. */
void buf_done(buf *b);

static inline uint8_t *buf_data(const buf *b) { return b->p ? b->p + b->off : NULL; }
static inline size_t buf_size(const buf *b) { return b->len - b->off; }

/* Why a buffer could not grow. */
enum {
    BUF_TOO_BIG = -1,   /* the contents would exceed max */
    BUF_NO_MEMORY = -2, /* within max, but the allocation failed */
};

/* Makes room for n more bytes at the end. Returns 0, or BUF_TOO_BIG / BUF_NO_MEMORY;
 * the contents are unchanged either way. */
int buf_reserve(buf *b, size_t n);
/* Appends. Returns 0, or BUF_TOO_BIG / BUF_NO_MEMORY (nothing is appended then). */
int buf_append(buf *b, const void *p, size_t n);
int buf_putc(buf *b, uint8_t c);
int buf_puts(buf *b, const char *s);
/* Appends formatted text, as buf_append. Text longer than INT_MAX, which vsnprintf
 * cannot format, is BUF_TOO_BIG. */
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Drops n bytes from the front. */
void buf_consume(buf *b, size_t n);
/* Gives storage back after a large message: when more than keep bytes are allocated and
 * the contents use at most half of them, the storage shrinks to the larger of the
 * contents and keep, or is released when the buffer is empty. The contents stay; a
 * failed reallocation leaves the buffer as it was. */
void buf_shrink(buf *b, size_t keep);
/* Empties the buffer, keeping its storage. */
void buf_clear(buf *b);
/* Takes the buffer's storage: returns the contents as a NUL-terminated heap string,
 * which the caller owns, and leaves the buffer empty with no storage (buf_done is then
 * not needed). Returns NULL, leaving the buffer as it was, when memory ran out. */
char *buf_take(buf *b);

/* Appends everything f gives until its end. Returns 0, BUF_TOO_BIG (more than the
 * cap; what fitted is kept), BUF_NO_MEMORY, or -1 for a read error. */
int buf_read_stream(buf *b, FILE *f);
/* Appends the whole file at path. Returns 0, or -1 with err ("PATH: reason", "PATH:
 * larger than N bytes"). */
int buf_read_file(buf *b, const char *path, char *err, size_t errlen);

#endif
