/* bindir.h -- where the running program lives, to find its siblings (bin/) and data. */
#ifndef WB_BINDIR_H
#define WB_BINDIR_H

#include <stddef.h>

/* The directory holding the running executable (read from /proc/self/exe), into dir
 * (n bytes). Returns 0, or -1 when it cannot be read or does not fit. */
int bindir_get(char *dir, size_t n);

#endif
