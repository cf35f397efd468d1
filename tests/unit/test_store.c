/* test_store.c -- unit tests for the services' SQLite modules (users, orders): salted hashes,
 * tokens, idempotent placing, ownership, and several processes writing one file at once. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "services/orders.h"
#include "services/users.h"

static char dir[64], path[128];
static char err[512];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/wb-store.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/sub/dir/test.db", dir); /* parents are created */
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(users, .init = make_dir, .fini = remove_dir);
TestSuite(orders, .init = make_dir, .fini = remove_dir);

/* The stored hash of name, read with SQLite directly. */
static void stored_hash(const char *name, char *out, size_t n)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT password_hash FROM users WHERE name = ?", -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

Test(users, passwords_are_salted_hashes)
{
    users *u = users_open(path, 60, err, sizeof err);
    cr_assert_not_null(u, "%s", err);
    int64_t a, b;
    cr_assert_eq(users_register(u, "li", "secret123", &a, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_eq(users_register(u, "zhang", "secret123", &b, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_neq(a, b);
    char ha[256], hb[256];
    stored_hash("li", ha, sizeof ha);
    stored_hash("zhang", hb, sizeof hb);
    cr_assert(strncmp(ha, "$y$", 3) == 0, "not yescrypt: %s", ha);
    cr_assert_null(strstr(ha, "secret123"));
    cr_assert_str_neq(ha, hb, "the same password gave the same hash: no salt");
    users_close(u);
}

Test(users, register_checks_and_refuses_a_taken_name)
{
    users *u = users_open(path, 60, err, sizeof err);
    int64_t id;
    cr_assert_eq(users_register(u, "li", "secret123", &id, err, sizeof err), STORE_OK);
    cr_assert_eq(users_register(u, "li", "another-one", &id, err, sizeof err), STORE_EXISTS);
    cr_assert_str_eq(err, "the name \"li\" is taken");
    cr_assert_eq(users_register(u, "", "secret123", &id, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "name is required");
    cr_assert_eq(users_register(u, "wang", "short", &id, err, sizeof err), STORE_INVALID);
    cr_assert_eq(users_register(u, "wang", "", &id, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "password is required");
    cr_assert_eq(users_register(u, "a\tb", "secret123", &id, err, sizeof err), STORE_INVALID);
    char long_name[80];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    cr_assert_eq(users_register(u, long_name, "secret123", &id, err, sizeof err), STORE_INVALID);
    users_close(u);
}

Test(users, login_verify_and_wrong_passwords)
{
    users *u = users_open(path, 60, err, sizeof err);
    int64_t id, vid, exp;
    char token[USERS_TOKEN_LEN + 1], token2[USERS_TOKEN_LEN + 1], name[USERS_NAME_MAX + 1];
    cr_assert_eq(users_register(u, "li", "secret123", &id, err, sizeof err), STORE_OK);
    cr_assert_eq(users_login(u, "li", "secret12", token, &exp, err, sizeof err), STORE_DENIED);
    cr_assert_str_eq(err, "wrong name or password");
    cr_assert_eq(users_login(u, "nobody", "secret123", token, &exp, err, sizeof err), STORE_DENIED);
    cr_assert_str_eq(err, "wrong name or password", "an unknown name must read like a wrong password");
    cr_assert_eq(users_login(u, "li", "secret123", token, &exp, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_eq(strlen(token), USERS_TOKEN_LEN);
    cr_assert_gt(exp, clock_wall_ms());
    cr_assert_eq(users_login(u, "li", "secret123", token2, &exp, err, sizeof err), STORE_OK);
    cr_assert_str_neq(token, token2, "tokens are random");
    cr_assert_eq(users_verify(u, token, name, &vid, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_str_eq(name, "li");
    cr_assert_eq(vid, id);
    cr_assert_eq(users_verify(u, "00ff", name, &vid, err, sizeof err), STORE_DENIED);
    cr_assert_eq(users_verify(u, "", name, &vid, err, sizeof err), STORE_DENIED);
    users_close(u);
}

Test(users, an_expired_token_is_refused)
{
    users *u = users_open(path, 60, err, sizeof err);
    int64_t id, exp;
    char token[USERS_TOKEN_LEN + 1], name[USERS_NAME_MAX + 1];
    cr_assert_eq(users_register(u, "li", "secret123", &id, err, sizeof err), STORE_OK);
    cr_assert_eq(users_login(u, "li", "secret123", token, &exp, err, sizeof err), STORE_OK);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "UPDATE token_digests SET expires_ms = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    cr_assert_eq(users_verify(u, token, name, &id, err, sizeof err), STORE_DENIED);
    cr_assert_str_eq(err, "the token has expired: log in again");
    users_close(u);
}

Test(users, a_second_handle_sees_the_first_ones_accounts)
{
    users *a = users_open(path, 60, err, sizeof err), *b = users_open(path, 60, err, sizeof err);
    cr_assert(a && b, "%s", err);
    int64_t id, exp;
    char token[USERS_TOKEN_LEN + 1], name[USERS_NAME_MAX + 1];
    cr_assert_eq(users_register(a, "li", "secret123", &id, err, sizeof err), STORE_OK);
    cr_assert_eq(users_login(b, "li", "secret123", token, &exp, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_eq(users_verify(a, token, name, &id, err, sizeof err), STORE_OK, "%s", err);
    users_close(a);
    users_close(b);
}

Test(users, open_fails_with_a_reason)
{
    cr_assert_null(users_open("/proc/no/such/dir/x.db", 60, err, sizeof err));
    cr_assert(strstr(err, "cannot create") || strstr(err, "cannot open"), "%s", err);
}

Test(orders, place_get_list)
{
    orders *o = orders_open(path, err, sizeof err);
    cr_assert_not_null(o, "%s", err);
    order_rec r, g;
    bool replayed;
    cr_assert_eq(orders_place(o, "li", "毛笔", 2, "", "127.0.0.1:1", &r, &replayed, err, sizeof err), STORE_OK, "%s", err);
    cr_assert(!replayed);
    cr_assert_gt(r.id, 0);
    cr_assert_str_eq(r.item, "毛笔");
    cr_assert_str_eq(r.served_by, "127.0.0.1:1");
    cr_assert_eq(orders_get(o, r.id, "li", &g, err, sizeof err), STORE_OK);
    cr_assert_eq(g.quantity, 2);
    cr_assert_eq(g.created_ms, r.created_ms);
    cr_assert_eq(orders_get(o, r.id, "zhang", &g, err, sizeof err), STORE_NOT_FOUND, "someone else's order");
    cr_assert_eq(orders_get(o, r.id + 100, "li", &g, err, sizeof err), STORE_NOT_FOUND);
    cr_assert_eq(orders_place(o, "li", "墨", 1, "", "x", &r, &replayed, err, sizeof err), STORE_OK);
    cr_assert_eq(orders_place(o, "zhang", "纸", 1, "", "x", &r, &replayed, err, sizeof err), STORE_OK);
    order_rec *list;
    size_t n;
    cr_assert_eq(orders_list(o, "li", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(list[0].item, "墨", "newest first");
    cr_assert_str_eq(list[1].item, "毛笔");
    free(list);
    cr_assert_eq(orders_list(o, "li", 1, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 1);
    free(list);
    cr_assert_eq(orders_list(o, "nobody", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 0);
    free(list);
    orders_close(o);
}

Test(orders, placing_checks_its_fields)
{
    orders *o = orders_open(path, err, sizeof err);
    order_rec r;
    bool replayed;
    cr_assert_eq(orders_place(o, "", "book", 1, "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_eq(orders_place(o, "li", "", 1, "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "item is required");
    cr_assert_eq(orders_place(o, "li", "book", 0, "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "quantity must be 1 to 1000000, not 0");
    cr_assert_eq(orders_place(o, "li", "book", -5, "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_eq(orders_place(o, "li", "book", 1000001, "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    char item[ORDERS_ITEM_MAX + 2];
    memset(item, 'i', sizeof item - 1);
    item[sizeof item - 1] = '\0';
    cr_assert_eq(orders_place(o, "li", item, 1, "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    order_rec *list;
    size_t n;
    cr_assert_eq(orders_list(o, "li", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 0, "nothing was stored");
    free(list);
    orders_close(o);
}

Test(orders, a_request_id_places_once)
{
    orders *o = orders_open(path, err, sizeof err);
    order_rec a, b;
    bool replayed;
    cr_assert_eq(orders_place(o, "li", "book", 1, "req-1", "first", &a, &replayed, err, sizeof err), STORE_OK);
    cr_assert(!replayed);
    cr_assert_eq(orders_place(o, "li", "book", 1, "req-1", "second", &b, &replayed, err, sizeof err), STORE_OK, "%s", err);
    cr_assert(replayed);
    cr_assert_eq(a.id, b.id);
    cr_assert_str_eq(b.served_by, "first", "the stored order, not a new one");
    cr_assert_eq(orders_place(o, "li", "pen", 3, "req-1", "x", &b, &replayed, err, sizeof err), STORE_EXISTS);
    cr_assert_str_eq(err, "request_id req-1 was used for a different order");
    cr_assert_eq(orders_place(o, "li", "book", 1, "", "x", &b, &replayed, err, sizeof err), STORE_OK);
    cr_assert_eq(orders_place(o, "li", "book", 1, "", "x", &b, &replayed, err, sizeof err), STORE_OK);
    cr_assert(!replayed, "no request id: every call places");
    order_rec *list;
    size_t n;
    cr_assert_eq(orders_list(o, "li", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 3);
    free(list);
    orders_close(o);
}

/* A request id is its user's: "alice:x" with id "y" and "alice" with id "x:y" are two
 * orders, and so are two users who pick the same id. */
Test(orders, request_ids_are_scoped_to_their_user)
{
    orders *o = orders_open(path, err, sizeof err);
    cr_assert_not_null(o, "%s", err);
    order_rec a, b, c, again;
    bool replayed;
    cr_assert_eq(orders_place(o, "alice:x", "book", 1, "y", "s", &a, &replayed, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_eq(orders_place(o, "alice", "pen", 2, "x:y", "s", &b, &replayed, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_eq(orders_place(o, "bob", "ink", 3, "y", "s", &c, &replayed, err, sizeof err), STORE_OK, "%s", err);
    cr_assert(!replayed, "bob's id y is not alice:x's");
    cr_assert(a.id != c.id && b.id != c.id && a.id != b.id);
    cr_assert_str_eq(c.user, "bob");
    cr_assert_eq(orders_place(o, "alice:x", "book", 1, "y", "s", &again, &replayed, err, sizeof err), STORE_OK);
    cr_assert(replayed);
    cr_assert_eq(again.id, a.id);
    orders_close(o);
}

/* A file made before request ids were scoped (request_id UNIQUE on its own, the gateway
 * writing "USER:KEY") opens: its orders and ids are kept, an old key still finds its
 * order, and another user may use the same key. */
Test(orders, an_old_table_is_scoped_when_opened)
{
    orders *o = orders_open(path, err, sizeof err); /* makes the parent directories */
    cr_assert_not_null(o, "%s", err);
    orders_close(o);
    unlink(path);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,"
                              " item TEXT NOT NULL, quantity INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
                              " served_by TEXT NOT NULL, request_id TEXT UNIQUE);"
                              "INSERT INTO orders VALUES (7, 'alice', 'book', 1, 1, 'old', 'alice:k1');"
                              "INSERT INTO orders VALUES (9, 'bob', 'pen', 2, 1, 'old', '0123abcd');",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    o = orders_open(path, err, sizeof err);
    cr_assert_not_null(o, "%s", err);
    order_rec r;
    bool replayed;
    cr_assert_eq(orders_place(o, "alice", "book", 1, "k1", "new", &r, &replayed, err, sizeof err), STORE_OK, "%s", err);
    cr_assert(replayed, "the key sent before the upgrade finds its order");
    cr_assert_eq(r.id, 7);
    cr_assert_eq(orders_place(o, "bob", "pen", 2, "0123abcd", "new", &r, &replayed, err, sizeof err), STORE_OK);
    cr_assert(replayed);
    cr_assert_eq(r.id, 9);
    cr_assert_eq(orders_place(o, "bob", "book", 1, "k1", "new", &r, &replayed, err, sizeof err), STORE_OK, "%s", err);
    cr_assert(!replayed);
    cr_assert_gt(r.id, 9, "new ids follow the old ones");
    orders_close(o);
    o = orders_open(path, err, sizeof err); /* a second open leaves the new table alone */
    cr_assert_not_null(o, "%s", err);
    cr_assert_eq(orders_get(o, 7, "alice", &r, err, sizeof err), STORE_OK);
    orders_close(o);
}

/* Under the usual umask 022 the database and its -wal and -shm files are the owner's
 * alone: they hold password hashes. A file left 0644 by an older version is tightened. */
Test(users, the_files_are_the_owners_alone)
{
    mode_t old = umask(022);
    users *u = users_open(path, 60, err, sizeof err);
    cr_assert_not_null(u, "%s", err);
    int64_t id;
    cr_assert_eq(users_register(u, "li", "secret123", &id, err, sizeof err), STORE_OK, "%s", err);
    const char *suffix[] = {"", "-wal", "-shm"};
    char p[160];
    struct stat st;
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        cr_assert_eq(stat(p, &st), 0, "%s is missing", p);
        cr_assert_eq(st.st_mode & 0777, 0600, "%s is %03o", p, st.st_mode & 0777);
    }
    users_close(u);
    chmod(path, 0644);
    u = users_open(path, 60, err, sizeof err);
    cr_assert_not_null(u, "%s", err);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "reopened: %03o", st.st_mode & 0777);
    users_close(u);
    umask(old);
}

/* Two processes, each with its own handle (as two order-server instances), place at the
 * same time; every order lands, none is lost to a lock. */
Test(orders, two_processes_write_one_file)
{
    enum { EACH = 200 };
    orders *o = orders_open(path, err, sizeof err); /* creates the file and the schema */
    cr_assert_not_null(o, "%s", err);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        cr_assert_geq(kids[k], 0);
        if (kids[k] == 0) {
            orders *mine = orders_open(path, err, sizeof err);
            if (!mine)
                _exit(10);
            for (int i = 0; i < EACH; i++) {
                order_rec r;
                bool replayed;
                char rid[32];
                snprintf(rid, sizeof rid, "%d-%d", k, i);
                if (orders_place(mine, "load", "item", 1, rid, k ? "b" : "a", &r, &replayed, err, sizeof err) != STORE_OK)
                    _exit(11);
            }
            orders_close(mine);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status;
        cr_assert_eq(waitpid(kids[k], &status, 0), kids[k]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed (status %d)", k, status);
    }
    order_rec *list;
    size_t n;
    cr_assert_eq(orders_list(o, "load", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 2 * EACH);
    free(list);
    orders_close(o);
}

Test(orders, the_default_path_follows_xdg_state_home)
{
    char p[256];
    setenv("XDG_STATE_HOME", "/var/tmp/state", 1);
    cr_assert_eq(sqlstore_default_path("orders", p, sizeof p), 0);
    cr_assert_str_eq(p, "/var/tmp/state/rpc-workbench/orders.db");
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/home/li", 1);
    cr_assert_eq(sqlstore_default_path("users", p, sizeof p), 0);
    cr_assert_str_eq(p, "/home/li/.local/state/rpc-workbench/users.db");
    cr_assert_eq(sqlstore_default_path("users", p, 8), -1);
}
