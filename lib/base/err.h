/* err.h -- error messages written into a caller's buffer, which may be NULL. */
#ifndef WB_ERR_H
#define WB_ERR_H

#include <stddef.h>

/* Formats a message into err (errlen bytes, always NUL-terminated); does nothing when
 * err is NULL or errlen is 0. */
void err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
