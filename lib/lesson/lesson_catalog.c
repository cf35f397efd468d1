/* lesson_catalog.c -- every lesson of a directory, parsed and sorted by number: the list
 * `workbench lesson` prints and the TUI's help shows, and one lesson found by number. */
#include "lesson/lesson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"

/* Adds a line to the error text in err (the lines that fit). */
static void add_line(char *err, size_t errlen, const char *line)
{
    if (!err || !errlen)
        return;
    size_t n = strlen(err);
    snprintf(err + n, errlen - n, "%s%s", n ? "\n" : "", line);
}

int lesson_catalog_load(lesson_catalog *c, const char *dir, char *err, size_t errlen)
{
    char *paths[LESSON_CATALOG_MAX];
    c->n = 0;
    err_set(err, errlen, "%s", "");
    int n = lesson_list(dir, paths, LESSON_CATALOG_MAX, err, errlen);
    if (n < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char why[512];
        lesson *l = lesson_load(paths[i], why, sizeof why);
        free(paths[i]);
        if (!l) {
            add_line(err, errlen, why);
            rc = -1;
            continue;
        }
        int k = c->n++; /* in order of number (the files are, by name) */
        for (; k > 0 && c->l[k - 1]->number > l->number; k--)
            c->l[k] = c->l[k - 1];
        c->l[k] = l;
    }
    if (n == 0) {
        err_set(err, errlen, _("no lesson files (NN-name.txt) in %s"), dir);
        rc = -1;
    }
    return rc;
}

void lesson_catalog_free(lesson_catalog *c)
{
    for (int i = 0; i < c->n; i++)
        lesson_free(c->l[i]);
    c->n = 0;
}

lesson *lesson_catalog_find(const lesson_catalog *c, int number)
{
    for (int i = 0; i < c->n; i++)
        if (c->l[i]->number == number)
            return c->l[i];
    return NULL;
}

lesson *lesson_find(const char *dir, int number, char *err, size_t errlen)
{
    lesson_catalog c;
    char why[1024];
    int rc = lesson_catalog_load(&c, dir, why, sizeof why);
    lesson *found = NULL;
    for (int i = 0; i < c.n; i++) {
        if (c.l[i]->number == number && !found)
            found = c.l[i]; /* taken out of c */
        else
            lesson_free(c.l[i]);
    }
    if (!found) /* the files that do not parse may hold it */
        err_set(err, errlen, "there is no lesson %d in %s%s%s", number, dir, rc < 0 ? ": " : "", rc < 0 ? why : "");
    return found;
}
