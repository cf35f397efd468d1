/* numopt.h -- numbers given on a command line or typed by the user: the whole text must
 * be a decimal number inside the range, so "12x", "" and values past the type's limits
 * are refused instead of read as something else. */
#ifndef WB_NUMOPT_H
#define WB_NUMOPT_H

#include <stddef.h>

/* s as an int from lo to hi into *out. Returns 0, or -1 (leaving *out) when it is not. */
int numopt_int(const char *s, long lo, long hi, int *out);
/* s as a non-negative size into *out. Returns 0 or -1. */
int numopt_size(const char *s, size_t *out);

#endif
