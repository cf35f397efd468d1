/* sqlstore.h -- the SQLite database a service owns, shared safely by its instances.
 *
 * Each service (users, orders) keeps its data in one SQLite file. Several instances of
 * the service, in separate processes, open the same file: WAL journaling lets readers
 * go on while one writes, a busy timeout makes a writer wait its turn instead of
 * failing, and synchronous=FULL makes a commit durable before the reply is sent, so
 * an order survives the death of the instance that took it. */
#ifndef WB_SQLSTORE_H
#define WB_SQLSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* What a store operation came to; the service maps it to a gRPC status. */
typedef enum store_status {
    STORE_OK = 0,
    STORE_INVALID,   /* the request is wrong: a field is missing, empty or too long */
    STORE_EXISTS,    /* the name is taken */
    STORE_NOT_FOUND, /* no such record (or not the caller's) */
    STORE_DENIED,    /* wrong password, unknown or expired token */
    STORE_BUSY,      /* the database stayed locked past the busy timeout */
    STORE_FAILED,    /* the database failed (disk, corruption, out of memory) */
} store_status;

/* Under the gateway's default 2 s deadline: a database locked that long is answered
 * UNAVAILABLE (HTTP 503, try again) while the caller still waits for the answer. */
enum { SQLSTORE_BUSY_TIMEOUT_MS = 1500 };

/* Opens (creating when needed, with its parent directories) the database at path, in
 * WAL mode with the busy timeout, and runs schema (CREATE ... IF NOT EXISTS statements).
 * The file and its -wal and -shm files are the owner's alone (0600, whatever the
 * umask; an existing file of ours readable by others is made so).
 * Returns the handle (close with sqlite3_close), or NULL with a reason in err. */
sqlite3 *sqlstore_open(const char *path, const char *schema, char *err, size_t errlen);

/* The default file for a service's database: $XDG_STATE_HOME/rpc-workbench/NAME.db,
 * else $HOME/.local/state/rpc-workbench/NAME.db, else ./var/NAME.db. Returns 0, or -1
 * when out is too small. */
int sqlstore_default_path(const char *name, char *out, size_t n);

/* STORE_BUSY for a locked database, STORE_FAILED for anything else, with SQLite's
 * message and what was being done in err. */
store_status sqlstore_error(sqlite3 *db, int rc, const char *doing, char *err, size_t errlen);

/* A text field what of a record: 1 to max bytes, without control characters (newlines
 * and tabs are allowed when lines is set). STORE_INVALID with the reason otherwise. */
store_status sqlstore_check_text(const char *what, const char *s, size_t max, bool lines, char *err, size_t errlen);

/* Copies the current row of q into a record. */
typedef void (*sqlstore_read_fn)(sqlite3_stmt *q, void *rec);
/* The one row sql selects, read into rec by read: sql takes one integer (text NULL) or
 * two texts. STORE_NOT_FOUND when there is none; doing names the work in an error. */
store_status sqlstore_select_one(sqlite3 *db, const char *sql, int64_t num, const char *text, const char *text2,
                                 sqlstore_read_fn read, void *rec, const char *doing, char *err, size_t errlen);
/* Runs q, an "INSERT INTO table ... ON CONFLICT (user, request_id) DO NOTHING" that the
 * caller prepared (prepared: what sqlite3_prepare_v2 returned) and bound, finalizes it,
 * and reads the record into rec by read, selecting columns: the row just inserted, or,
 * when the same user's same request_id was stored before, that row (*replayed is then
 * true; the caller checks it is the same record). what names the record in errors
 * ("order"); STORE_FAILED when the request id's row is gone. */
store_status sqlstore_insert_once(sqlite3 *db, int prepared, sqlite3_stmt *q, const char *table,
                                  const char *columns, const char *user, const char *request_id,
                                  sqlstore_read_fn read, void *rec, const char *what, bool *replayed,
                                  char *err, size_t errlen);

#endif
