/* posts.c -- posts in SQLite: create (idempotent by request id), get, list newest first. */
#include "services/posts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"

struct posts {
    sqlite3 *db;
};

/* A request id is its user's own, as for orders: UNIQUE (user, request_id). */
static const char schema[] = "CREATE TABLE IF NOT EXISTS posts ("
                             "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
                             "  user TEXT NOT NULL,"
                             "  title TEXT NOT NULL,"
                             "  body TEXT NOT NULL,"
                             "  created_ms INTEGER NOT NULL,"
                             "  served_by TEXT NOT NULL,"
                             "  request_id TEXT,"
                             "  UNIQUE (user, request_id));"
                             "CREATE INDEX IF NOT EXISTS posts_by_user ON posts (user, id);";

#define COLUMNS "id, user, title, body, created_ms, served_by"

posts *posts_open(const char *path, char *err, size_t errlen)
{
    posts *p = calloc(1, sizeof *p);
    if (!p) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    if (!(p->db = sqlstore_open(path, schema, err, errlen))) {
        free(p);
        return NULL;
    }
    return p;
}

void posts_close(posts *p)
{
    if (!p)
        return;
    sqlite3_close(p->db);
    free(p);
}

static void read_row(sqlite3_stmt *q, void *rec)
{
    post_rec *r = rec;
    r->id = sqlite3_column_int64(q, 0);
    snprintf(r->user, sizeof r->user, "%s", (const char *)sqlite3_column_text(q, 1));
    snprintf(r->title, sizeof r->title, "%s", (const char *)sqlite3_column_text(q, 2));
    snprintf(r->body, sizeof r->body, "%s", (const char *)sqlite3_column_text(q, 3));
    r->created_ms = sqlite3_column_int64(q, 4);
    snprintf(r->served_by, sizeof r->served_by, "%s", (const char *)sqlite3_column_text(q, 5));
}

static store_status check_post(const char *user, const char *title, const char *body, const char *request_id,
                               char *err, size_t errlen)
{
    store_status st = sqlstore_check_text("user", user, POSTS_USER_MAX, false, err, errlen);
    if (st == STORE_OK)
        st = sqlstore_check_text("title", title, POSTS_TITLE_MAX, false, err, errlen);
    if (st == STORE_OK)
        st = sqlstore_check_text("body", body, POSTS_BODY_MAX, true, err, errlen);
    if (st == STORE_OK && strlen(request_id) > POSTS_REQUEST_ID_MAX) {
        err_set(err, errlen, "request_id is longer than %d bytes", POSTS_REQUEST_ID_MAX);
        st = STORE_INVALID;
    }
    return st;
}

store_status posts_create(posts *p, const char *user, const char *title, const char *body,
                          const char *request_id, const char *served_by, post_rec *out,
                          bool *replayed, char *err, size_t errlen)
{
    *replayed = false;
    store_status st = check_post(user, title, body, request_id, err, errlen);
    if (st != STORE_OK)
        return st;
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(p->db,
                                "INSERT INTO posts (user, title, body, created_ms, served_by, request_id) "
                                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user, request_id) DO NOTHING",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, title, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, body, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, clock_wall_ms());
        sqlite3_bind_text(q, 5, served_by, -1, SQLITE_STATIC);
        if (request_id[0])
            sqlite3_bind_text(q, 6, request_id, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 6);
    }
    st = sqlstore_insert_once(p->db, rc, q, "posts", COLUMNS, user, request_id, read_row, out, "post", replayed,
                              err, errlen);
    if (*replayed && (strcmp(out->title, title) != 0 || strcmp(out->body, body) != 0)) {
        err_set(err, errlen, "request_id %s was used for a different post", request_id);
        *replayed = false;
        return STORE_EXISTS;
    }
    return st;
}

store_status posts_get(posts *p, int64_t id, post_rec *out, char *err, size_t errlen)
{
    store_status st = sqlstore_select_one(p->db, "SELECT " COLUMNS " FROM posts WHERE id = ?", id, NULL, NULL,
                                          read_row, out, "reading the post", err, errlen);
    if (st == STORE_NOT_FOUND)
        err_set(err, errlen, "no post %lld", (long long)id);
    return st;
}

store_status posts_list(posts *p, const char *user, size_t limit, post_rec **out, size_t *n,
                        char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (strlen(user) > POSTS_USER_MAX) {
        err_set(err, errlen, "user is %zu bytes; at most %d", strlen(user), POSTS_USER_MAX);
        return STORE_INVALID;
    }
    if (limit == 0 || limit > POSTS_LIST_MAX)
        limit = POSTS_LIST_MAX;
    post_rec *recs = calloc(limit, sizeof *recs);
    if (!recs) {
        err_set(err, errlen, "out of memory");
        return STORE_FAILED;
    }
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(p->db,
                                user[0] ? "SELECT " COLUMNS " FROM posts WHERE user = ?1 ORDER BY id DESC LIMIT ?2"
                                        : "SELECT " COLUMNS " FROM posts ORDER BY id DESC LIMIT ?2",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        if (user[0])
            sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)limit);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < limit)
            read_row(q, &recs[(*n)++]);
    }
    store_status st = STORE_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        st = sqlstore_error(p->db, rc, "listing the posts", err, errlen);
        free(recs);
        *n = 0;
    } else {
        *out = recs;
    }
    sqlite3_finalize(q);
    return st;
}
