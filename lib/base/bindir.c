/* bindir.c -- the running executable's directory, from /proc/self/exe. */
#include "base/bindir.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int bindir_get(char *dir, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -1;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return snprintf(dir, n, "%s", exe) < (int)n ? 0 : -1;
}
