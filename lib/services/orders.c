/* orders.c -- orders in SQLite: place (idempotent by request id), get, list. */
#include "services/orders.h"

#include "base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

struct orders {
    sqlite3 *db;
};

/* A request id is the caller's: UNIQUE (user, request_id) scopes it to the user, so two
 * users' ids never meet, whatever characters either holds. */
#define TABLE_BODY                                                                        \
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"                                             \
    "  user TEXT NOT NULL,"                                                               \
    "  item TEXT NOT NULL,"                                                               \
    "  quantity INTEGER NOT NULL,"                                                        \
    "  created_ms INTEGER NOT NULL,"                                                      \
    "  served_by TEXT NOT NULL,"                                                          \
    "  request_id TEXT,"                                                                  \
    "  UNIQUE (user, request_id))"

static const char schema[] = "CREATE TABLE IF NOT EXISTS orders (" TABLE_BODY ";"
                             "CREATE INDEX IF NOT EXISTS orders_by_user ON orders (user, id);";

/* The table as the first versions made it: request_id UNIQUE across all users (the
 * gateway wrote "USER:KEY" there). Rebuilt into the scoped table, ids kept; an id that
 * starts with its own row's "USER:" loses that prefix, so a key sent before the upgrade
 * still finds its order, unless that would meet another of the user's ids. */
static const char migrate[] =
    "CREATE TABLE orders_scoped (" TABLE_BODY ";"
    "INSERT INTO orders_scoped SELECT id, user, item, quantity, created_ms, served_by, request_id FROM orders;"
    "UPDATE OR IGNORE orders_scoped SET request_id = substr(request_id, length(user) + 2)"
    "  WHERE substr(request_id, 1, length(user) + 1) = user || ':' AND length(request_id) > length(user) + 1;"
    "DROP TABLE orders;"
    "ALTER TABLE orders_scoped RENAME TO orders;"
    "CREATE INDEX IF NOT EXISTS orders_by_user ON orders (user, id);";

/* Whether the orders table is the old one, request_id unique on its own. */
static int is_old_table(sqlite3 *db, bool *old)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'orders'", -1,
                                &q, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(q, 0);
        *old = sql && strstr(sql, "request_id TEXT UNIQUE") != NULL;
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        *old = false;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    return rc;
}

/* Rebuilds an old table in one transaction; another instance opening the file at the
 * same moment waits for it and then finds the new table. */
static store_status upgrade(sqlite3 *db, char *err, size_t errlen)
{
    bool old = false;
    int rc = is_old_table(db, &old);
    if (rc != SQLITE_OK || !old)
        return rc == SQLITE_OK ? STORE_OK : sqlstore_error(db, rc, "reading the schema", err, errlen);
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = is_old_table(db, &old);
    if (rc == SQLITE_OK && old)
        rc = sqlite3_exec(db, migrate, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return STORE_OK;
    store_status st = sqlstore_error(db, rc, "scoping the request ids to their users", err, errlen);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

#define COLUMNS "id, user, item, quantity, created_ms, served_by"

orders *orders_open(const char *path, char *err, size_t errlen)
{
    orders *o = calloc(1, sizeof *o);
    if (!o) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    if (!(o->db = sqlstore_open(path, schema, err, errlen))) {
        free(o);
        return NULL;
    }
    if (upgrade(o->db, err, errlen) != STORE_OK) {
        orders_close(o);
        return NULL;
    }
    return o;
}

void orders_close(orders *o)
{
    if (!o)
        return;
    sqlite3_close(o->db);
    free(o);
}

static void read_row(sqlite3_stmt *q, void *rec)
{
    order_rec *r = rec;
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(q, 0);
    snprintf(r->user, sizeof r->user, "%s", (const char *)sqlite3_column_text(q, 1));
    snprintf(r->item, sizeof r->item, "%s", (const char *)sqlite3_column_text(q, 2));
    r->quantity = sqlite3_column_int64(q, 3);
    r->created_ms = sqlite3_column_int64(q, 4);
    snprintf(r->served_by, sizeof r->served_by, "%s", (const char *)sqlite3_column_text(q, 5));
}

store_status orders_place(orders *o, const char *user, const char *item, int64_t quantity,
                          const char *request_id, const char *served_by, order_rec *out,
                          bool *replayed, char *err, size_t errlen)
{
    *replayed = false;
    store_status st = sqlstore_check_text("user", user, ORDERS_USER_MAX, false, err, errlen);
    if (st == STORE_OK)
        st = sqlstore_check_text("item", item, ORDERS_ITEM_MAX, false, err, errlen);
    if (st != STORE_OK)
        return st;
    if (quantity < 1 || quantity > ORDERS_QUANTITY_MAX) {
        err_set(err, errlen, "quantity must be 1 to %d, not %lld", ORDERS_QUANTITY_MAX, (long long)quantity);
        return STORE_INVALID;
    }
    if (strlen(request_id) > ORDERS_REQUEST_ID_MAX) {
        err_set(err, errlen, "request_id is longer than %d bytes", ORDERS_REQUEST_ID_MAX);
        return STORE_INVALID;
    }
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(o->db,
                                "INSERT INTO orders (user, item, quantity, created_ms, served_by, request_id) "
                                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user, request_id) DO NOTHING",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, item, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, quantity);
        sqlite3_bind_int64(q, 4, clock_wall_ms());
        sqlite3_bind_text(q, 5, served_by, -1, SQLITE_STATIC);
        if (request_id[0])
            sqlite3_bind_text(q, 6, request_id, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 6);
    }
    st = sqlstore_insert_once(o->db, rc, q, "orders", COLUMNS, user, request_id, read_row, out, "order", replayed,
                              err, errlen);
    if (*replayed && (strcmp(out->item, item) != 0 || out->quantity != quantity)) {
        err_set(err, errlen, "request_id %s was used for a different order", request_id);
        *replayed = false;
        return STORE_EXISTS;
    }
    return st;
}

store_status orders_get(orders *o, int64_t id, const char *user, order_rec *out, char *err,
                        size_t errlen)
{
    store_status st = sqlstore_select_one(o->db, "SELECT " COLUMNS " FROM orders WHERE id = ?", id, NULL, NULL,
                                          read_row, out, "reading the order", err, errlen);
    if (st == STORE_OK && strcmp(out->user, user) != 0)
        st = STORE_NOT_FOUND; /* someone else's: not even its existence is told */
    if (st == STORE_NOT_FOUND)
        err_set(err, errlen, "no order %lld", (long long)id);
    return st;
}

store_status orders_list(orders *o, const char *user, size_t limit, order_rec **out, size_t *n,
                         char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    store_status st = sqlstore_check_text("user", user, ORDERS_USER_MAX, false, err, errlen);
    if (st != STORE_OK)
        return st;
    if (limit == 0 || limit > ORDERS_LIST_MAX)
        limit = ORDERS_LIST_MAX;
    order_rec *recs = calloc(limit, sizeof *recs);
    if (!recs) {
        err_set(err, errlen, "out of memory");
        return STORE_FAILED;
    }
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(o->db, "SELECT " COLUMNS " FROM orders WHERE user = ? ORDER BY id DESC LIMIT ?",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)limit);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < limit)
            read_row(q, &recs[(*n)++]);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        st = sqlstore_error(o->db, rc, "listing the orders", err, errlen);
        free(recs);
        *n = 0;
    } else {
        *out = recs;
    }
    sqlite3_finalize(q);
    return st;
}
