/* tempdir.h -- scratch directories under /tmp: made with a recognisable name, removed
 * with everything in them. */
#ifndef WB_TEMPDIR_H
#define WB_TEMPDIR_H

#include <stddef.h>

/* Makes $TMPDIR/NAME.XXXXXX (TMPDIR defaults to /tmp; mode 0700) into dir. Returns 0, or -1 with errno set. */
int tempdir_make(char *dir, size_t n, const char *name);
/* Removes dir and everything below it, without following symbolic links. Accepts NULL
 * and "". */
void tempdir_remove(const char *dir);

#endif
