/* sqlstore.c -- opening a service's SQLite file for several processes at once. */
#include "services/sqlstore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

/* mkdir -p of path's parent directory. */
static int make_parent(const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        err_set(err, errlen, "the path %s is too long", path);
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            err_set(err, errlen, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        err_set(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Creates path 0600 when it is missing, so SQLite (which gives the -wal and -shm files
 * the database's mode) never makes it readable by others; and takes group and other
 * bits off the three files when an older version left them there (only our own files:
 * one another user shares with us on purpose is left as it is). */
static int make_private(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_set(err, errlen, "cannot open the database %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077) && st.st_uid == geteuid())
        fchmod(fd, st.st_mode & 0700);
    close(fd);
    static const char *const side[] = {"-wal", "-shm"};
    for (size_t i = 0; i < 2; i++) {
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s%s", path, side[i]) < (int)sizeof p && stat(p, &st) == 0 &&
            (st.st_mode & 077) && st.st_uid == geteuid())
            chmod(p, st.st_mode & 0700); /* SQLite recreates it from the database's mode anyway */
    }
    return 0;
}

sqlite3 *sqlstore_open(const char *path, const char *schema, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    if (make_parent(path, err, errlen) < 0 || make_private(path, err, errlen) < 0)
        return NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        err_set(err, errlen, "cannot open the database %s: %s", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(db, SQLSTORE_BUSY_TIMEOUT_MS);
    /* journal_mode=WAL itself takes a lock when another process creates the file at the
     * same moment; the busy timeout covers it. */
    rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                      NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, schema, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        err_set(err, errlen, "cannot prepare the database %s: %s", path, msg ? msg : sqlite3_errstr(rc));
        goto fail;
    }
    return db;
fail:
    sqlite3_free(msg);
    sqlite3_close(db);
    return NULL;
}

int sqlstore_default_path(const char *name, char *out, size_t n)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int k;
    if (xdg && xdg[0] == '/')
        k = snprintf(out, n, "%s/rpc-workbench/%s.db", xdg, name);
    else if (home && home[0])
        k = snprintf(out, n, "%s/.local/state/rpc-workbench/%s.db", home, name);
    else
        k = snprintf(out, n, "var/%s.db", name);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

store_status sqlstore_error(sqlite3 *db, int rc, const char *doing, char *err, size_t errlen)
{
    int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        err_set(err, errlen, "%s: the database stayed locked for %d ms", doing, SQLSTORE_BUSY_TIMEOUT_MS);
        return STORE_BUSY;
    }
    err_set(err, errlen, "%s: %s", doing, sqlite3_errmsg(db));
    return STORE_FAILED;
}

store_status sqlstore_check_text(const char *what, const char *s, size_t max, bool lines, char *err, size_t errlen)
{
    size_t n = strlen(s);
    if (n == 0) {
        err_set(err, errlen, "%s is required", what);
        return STORE_INVALID;
    }
    if (n > max) {
        err_set(err, errlen, "%s is %zu bytes; at most %zu", what, n, max);
        return STORE_INVALID;
    }
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if ((*c < 0x20 || *c == 0x7f) && !(lines && (*c == '\n' || *c == '\r' || *c == '\t'))) {
            err_set(err, errlen, "%s contains a control character (byte %zu)%s", what,
                    (size_t)(c - (const unsigned char *)s), lines ? "" : "; it is one line");
            return STORE_INVALID;
        }
    return STORE_OK;
}

store_status sqlstore_select_one(sqlite3 *db, const char *sql, int64_t num, const char *text, const char *text2,
                                 sqlstore_read_fn read, void *rec, const char *doing, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    store_status st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK) {
        if (text) {
            sqlite3_bind_text(q, 1, text, -1, SQLITE_STATIC);
            sqlite3_bind_text(q, 2, text2, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_int64(q, 1, num);
        }
        rc = sqlite3_step(q);
    }
    if (rc == SQLITE_ROW) {
        read(q, rec);
        st = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        st = STORE_NOT_FOUND;
    } else {
        st = sqlstore_error(db, rc, doing, err, errlen);
    }
    sqlite3_finalize(q);
    return st;
}

store_status sqlstore_insert_once(sqlite3 *db, int prepared, sqlite3_stmt *q, const char *table,
                                  const char *columns, const char *user, const char *request_id,
                                  sqlstore_read_fn read, void *rec, const char *what, bool *replayed,
                                  char *err, size_t errlen)
{
    char doing[64], sql[512];
    int rc = prepared == SQLITE_OK ? sqlite3_step(q) : prepared;
    *replayed = false;
    if (rc != SQLITE_DONE) {
        snprintf(doing, sizeof doing, "storing the %s", what);
        store_status st = sqlstore_error(db, rc, doing, err, errlen);
        sqlite3_finalize(q);
        return st;
    }
    sqlite3_finalize(q);
    snprintf(doing, sizeof doing, "reading the %s", what);
    if (sqlite3_changes(db) == 1) { /* autocommit: it is on disk now */
        snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE id = ?", columns, table);
        return sqlstore_select_one(db, sql, sqlite3_last_insert_rowid(db), NULL, NULL, read, rec, doing, err,
                                   errlen);
    }
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE user = ? AND request_id = ?", columns, table);
    store_status st = sqlstore_select_one(db, sql, 0, user, request_id, read, rec, doing, err, errlen);
    if (st == STORE_NOT_FOUND) {
        err_set(err, errlen, "request_id %s was seen but its %s is gone", request_id, what);
        return STORE_FAILED;
    }
    *replayed = st == STORE_OK;
    return st;
}
