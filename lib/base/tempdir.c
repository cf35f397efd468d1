/* tempdir.c -- making and removing scratch directories. */
#include "base/tempdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

int tempdir_make(char *dir, size_t n, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    if (snprintf(dir, n, "%s/%s.XXXXXX", tmp && tmp[0] ? tmp : "/tmp", name) >= (int)n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tempdir_remove(const char *dir)
{
    if (dir && dir[0])
        nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
