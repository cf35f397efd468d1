/* secret.h -- a credential given on the command line, in a file or in the environment.
 *
 * A secret on the command line is in /proc/PID/cmdline for every local user to read; one
 * in the environment is in /proc/PID/environ, readable only by the same user; one in a
 * file is as private as the file's mode. */
#ifndef WB_SECRET_H
#define WB_SECRET_H

#include <stdbool.h>
#include <stddef.h>

enum { SECRET_MAX = 1024 }; /* bytes of a secret, its NUL included */

/* Reads the first line of the file at path into out (n bytes), its newline (and a CR
 * before it) dropped. Refuses a file others may read or write (mode & 007), an empty
 * first line, and one that does not fit. Returns 0, or -1 with a reason in err. */
int secret_read_file(const char *path, char *out, size_t n, char *err, size_t errlen);

/* The secret of an option: given (the command line's value) when not NULL, else the
 * first line of the file at path when path is not NULL, else the environment variable
 * env when it is set and not empty. Returns 1 with the secret in out, 0 when none of the
 * three is there, or -1 with a reason in err. */
int secret_pick(const char *given, const char *path, const char *env, char *out, size_t n, char *err,
                size_t errlen);

/* True when the n bytes at given are exactly the secret want (NUL-terminated). The
 * time taken depends on want's length only, not on where the bytes first differ nor on
 * n, so a caller cannot find the secret byte by byte by timing the answers. */
bool secret_equal(const char *want, const void *given, size_t n);

/* True when s can travel as an HTTP header value as it is: at least one byte, each
 * visible ASCII (0x21..0x7e). */
bool secret_header_safe(const char *s);

#endif
