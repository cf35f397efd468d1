/* secret.c -- a credential from the command line, a private file or the environment. */
#include "base/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

int secret_read_file(const char *path, char *out, size_t n, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        err_set(err, errlen, "%s is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & 007) {
        err_set(err, errlen, "%s is mode %03o: others may read it; chmod o-rwx %s (0600 is usual)", path,
                (unsigned)(st.st_mode & 0777), path);
        close(fd);
        return -1;
    }
    char tmp[SECRET_MAX + 2];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof tmp - 1 && (k = read(fd, tmp + got, sizeof tmp - 1 - got)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            err_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        got += (size_t)k;
        if (memchr(tmp, '\n', got))
            break;
    }
    close(fd);
    tmp[got] = '\0';
    size_t len = strcspn(tmp, "\n");
    if (len > 0 && tmp[len - 1] == '\r')
        len--;
    if (len == 0) {
        err_set(err, errlen, "%s: the first line is empty", path);
        return -1;
    }
    if (len >= n || (len == got && got == sizeof tmp - 1)) {
        err_set(err, errlen, "%s: the first line is longer than %zu bytes", path, n - 1);
        return -1;
    }
    memcpy(out, tmp, len);
    out[len] = '\0';
    memset(tmp, 0, sizeof tmp);
    return 0;
}

int secret_pick(const char *given, const char *path, const char *env, char *out, size_t n, char *err,
                size_t errlen)
{
    if (given || !path) {
        const char *v = given ? given : env ? getenv(env) : NULL;
        if (!v || !v[0])
            return 0;
        if (strlen(v) >= n) {
            err_set(err, errlen, "%s is longer than %zu bytes", given ? "the value" : env, n - 1);
            return -1;
        }
        memcpy(out, v, strlen(v) + 1);
        return 1;
    }
    return secret_read_file(path, out, n, err, errlen) < 0 ? -1 : 1;
}

bool secret_equal(const char *want, const void *given, size_t n)
{
    const unsigned char *g = given;
    size_t len = strlen(want);
    volatile unsigned char diff = (unsigned char)(len != n);
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)((unsigned char)want[i] ^ (i < n ? g[i] : 0));
    return diff == 0;
}

bool secret_header_safe(const char *s)
{
    if (!s[0])
        return false;
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e)
            return false;
    return true;
}
