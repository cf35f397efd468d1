/* consignments.c -- consignments and their containers in SQLite: create, list. */
#include "services/consignments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/clock.h"
#include "base/err.h"

struct consignments {
    sqlite3 *db;
};

/* seq orders the consignments as they were stored; id is the caller's (or a UUID). */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS consignments ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  description TEXT NOT NULL,"
    "  weight INTEGER NOT NULL,"
    "  vessel_id TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS containers ("
    "  consignment INTEGER NOT NULL REFERENCES consignments (seq) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL,"
    "  id TEXT NOT NULL,"
    "  customer_id TEXT NOT NULL,"
    "  origin TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  PRIMARY KEY (consignment, pos));";

consignments *consignments_open(const char *path, char *err, size_t errlen)
{
    consignments *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    if (!(c->db = sqlstore_open(path, schema, err, errlen))) {
        free(c);
        return NULL;
    }
    return c;
}

void consignments_close(consignments *c)
{
    if (!c)
        return;
    sqlite3_close(c->db);
    free(c);
}

/* A text that may be empty; otherwise as sqlstore_check_text. */
static store_status check_opt(const char *what, const char *s, size_t max, bool lines, char *err, size_t errlen)
{
    return s[0] ? sqlstore_check_text(what, s, max, lines, err, errlen) : STORE_OK;
}

store_status consignments_check(const consignment_rec *c, char *err, size_t errlen)
{
    if (c->weight < 0) {
        err_set(err, errlen, "weight must be 0 or more, not %ld", (long)c->weight);
        return STORE_INVALID;
    }
    if (c->n_containers > CONSIGNMENTS_CONTAINERS_MAX) {
        err_set(err, errlen, "%zu containers; at most %d in one consignment", c->n_containers,
                CONSIGNMENTS_CONTAINERS_MAX);
        return STORE_INVALID;
    }
    store_status st = check_opt("id", c->id, CONSIGNMENTS_ID_MAX, false, err, errlen);
    if (st == STORE_OK)
        st = check_opt("description", c->description, CONSIGNMENTS_DESCRIPTION_MAX, true, err, errlen);
    if (st == STORE_OK)
        st = check_opt("vessel_id", c->vessel_id, CONSIGNMENTS_FIELD_MAX, false, err, errlen);
    for (size_t i = 0; st == STORE_OK && i < c->n_containers; i++) {
        const container_rec *k = &c->containers[i];
        const char *const val[] = {k->id, k->customer_id, k->origin, k->user_id};
        static const char *const name[] = {"id", "customer_id", "origin", "user_id"};
        for (size_t f = 0; st == STORE_OK && f < 4; f++) {
            char what[48];
            snprintf(what, sizeof what, "containers[%zu].%s", i, name[f]);
            st = check_opt(what, val[f], f == 0 ? CONSIGNMENTS_ID_MAX : CONSIGNMENTS_FIELD_MAX, false, err, errlen);
        }
    }
    return st;
}

store_status consignments_set_text(char *dst, size_t dst_size, const char *src, const char *what, char *err,
                                   size_t errlen)
{
    store_status st = check_opt(what, src, dst_size - 1, strcmp(what, "description") == 0, err, errlen);
    if (st == STORE_OK)
        memcpy(dst, src, strlen(src) + 1);
    return st;
}

/* A random (version 4) UUID into out. Returns 0, or -1 with err. */
static int new_id(char out[CONSIGNMENTS_ID_MAX + 1], char *err, size_t errlen)
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        err_set(err, errlen, "no random bytes for a new id");
        return -1;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char *p = out;
    for (int i = 0; i < 16; i++) {
        p += sprintf(p, "%02x", b[i]);
        if (i == 3 || i == 5 || i == 7 || i == 9)
            *p++ = '-';
    }
    *p = '\0';
    return 0;
}

/* Inserts c's row and its containers; the caller holds the transaction. */
static store_status insert(sqlite3 *db, const consignment_rec *c, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO consignments (id, description, weight, vessel_id, created_ms) "
                                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, c->description, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, c->weight);
        sqlite3_bind_text(q, 4, c->vessel_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 5, clock_wall_ms());
        rc = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return sqlstore_error(db, rc, "storing the consignment", err, errlen);
    if (sqlite3_changes(db) != 1) {
        err_set(err, errlen, "consignment %s exists already", c->id);
        return STORE_EXISTS;
    }
    sqlite3_int64 seq = sqlite3_last_insert_rowid(db);
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO containers (consignment, pos, id, customer_id, origin, user_id) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            -1, &q, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < c->n_containers; i++) {
        const container_rec *k = &c->containers[i];
        sqlite3_bind_int64(q, 1, seq);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)i);
        sqlite3_bind_text(q, 3, k->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, k->customer_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, k->origin, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 6, k->user_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
            rc = sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_OK ? STORE_OK : sqlstore_error(db, rc, "storing the containers", err, errlen);
}

store_status consignments_create(consignments *db, consignment_rec *c, char *err, size_t errlen)
{
    store_status st = consignments_check(c, err, errlen);
    if (st != STORE_OK)
        return st;
    if (!c->id[0] && new_id(c->id, err, errlen) < 0)
        return STORE_FAILED;
    int rc = sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlstore_error(db->db, rc, "storing the consignment", err, errlen);
    st = insert(db->db, c, err, errlen);
    if (st == STORE_OK && (rc = sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
        st = sqlstore_error(db->db, rc, "committing the consignment", err, errlen);
    if (st != STORE_OK)
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *q, int col)
{
    const char *s = (const char *)sqlite3_column_text(q, col);
    snprintf(dst, n, "%s", s ? s : "");
}

/* r's containers, from the row seq; q is the prepared containers query. */
static int read_containers(sqlite3_stmt *q, sqlite3_int64 seq, consignment_rec *r)
{
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, seq);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (r->n_containers % 8 == 0) {
            container_rec *more = realloc(r->containers, (r->n_containers + 8) * sizeof *more);
            if (!more)
                return SQLITE_NOMEM;
            r->containers = more;
        }
        container_rec *k = &r->containers[r->n_containers++];
        copy_col(k->id, sizeof k->id, q, 0);
        copy_col(k->customer_id, sizeof k->customer_id, q, 1);
        copy_col(k->origin, sizeof k->origin, q, 2);
        copy_col(k->user_id, sizeof k->user_id, q, 3);
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The rows of the list, inside the caller's read transaction. */
static int read_list(sqlite3 *db, size_t limit, consignment_rec *recs, size_t *n, size_t *total)
{
    sqlite3_stmt *q = NULL, *cq = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM consignments", -1, &q, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        *total = (size_t)sqlite3_column_int64(q, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "SELECT seq, id, description, weight, vessel_id FROM "
                                "(SELECT * FROM consignments ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                                -1, &q, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "SELECT id, customer_id, origin, user_id FROM containers "
                                "WHERE consignment = ? ORDER BY pos",
                                -1, &cq, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, (sqlite3_int64)limit);
        while (rc == SQLITE_OK && *n < limit && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            consignment_rec *r = &recs[(*n)++];
            copy_col(r->id, sizeof r->id, q, 1);
            copy_col(r->description, sizeof r->description, q, 2);
            r->weight = (int32_t)sqlite3_column_int64(q, 3);
            copy_col(r->vessel_id, sizeof r->vessel_id, q, 4);
            rc = read_containers(cq, sqlite3_column_int64(q, 0), r);
        }
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    sqlite3_finalize(cq);
    return rc;
}

store_status consignments_list(consignments *db, size_t limit, consignment_rec **out, size_t *n, size_t *total,
                               char *err, size_t errlen)
{
    *out = NULL;
    *n = *total = 0;
    if (limit == 0 || limit > CONSIGNMENTS_LIST_MAX)
        limit = CONSIGNMENTS_LIST_MAX;
    consignment_rec *recs = calloc(limit, sizeof *recs);
    if (!recs) {
        err_set(err, errlen, "out of memory");
        return STORE_FAILED;
    }
    int rc = sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        rc = read_list(db->db, limit, recs, n, total);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        store_status st = STORE_FAILED;
        if (rc == SQLITE_NOMEM)
            err_set(err, errlen, "out of memory for the containers");
        else
            st = sqlstore_error(db->db, rc, "listing the consignments", err, errlen);
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
        consignments_list_free(recs, *n);
        *n = *total = 0;
        return st;
    }
    *out = recs;
    return STORE_OK;
}

void consignments_list_free(consignment_rec *list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        free(list[i].containers);
    free(list);
}
