/* esc.h -- a peer's bytes made safe to print in a log or on a terminal. */
#ifndef WB_ESC_H
#define WB_ESC_H

#include <stdbool.h>
#include <stddef.h>

/* The length (1 to 4) of the well-formed UTF-8 sequence at the start of s, which has n
 * bytes; 0 when s does not start one: a stray continuation byte, a sequence cut short,
 * an overlong form, a UTF-16 surrogate, or a code point past U+10FFFF. Go's
 * utf8.DecodeRune accepts the same sequences. */
size_t esc_utf8_len(const unsigned char *s, size_t n);

/* True when s[0..n) is well-formed UTF-8 throughout (NUL bytes included). */
bool esc_utf8_valid(const void *s, size_t n);

/* True when esc_bytes would copy s[0..n) unchanged. */
bool esc_clean(const void *s, size_t n);

/* Copies s[0..n) into out (cap bytes, always NUL-terminated when cap > 0) so that no
 * byte can move a terminal's cursor, change its state or start a new log line: newline,
 * carriage return and tab become \n \r \t; other control characters (C0, DEL, and C1 as
 * UTF-8) and every byte that is not part of well-formed UTF-8 become \xNN. Printable
 * text, UTF-8 included, and backslashes are copied as they are. When out is too small
 * the copy stops at a character boundary and ends with "...". Returns out. */
char *esc_bytes(char *out, size_t cap, const void *s, size_t n);

/* esc_bytes of the NUL-terminated string s (NULL is printed as "(null)"). */
char *esc_str(char *out, size_t cap, const char *s);

#endif
