/* users.c -- accounts and tokens in SQLite, passwords through crypt(3), tokens kept as
 * SHA-256 digests (OpenSSL's libcrypto). */
#include "services/users.h"

#include "base/clock.h"

#include <crypt.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "base/err.h"

#define HASH_PREFIX "$y$" /* yescrypt, Debian's default for /etc/shadow */

struct users {
    sqlite3 *db; /* SQLite's serialized mode: callable from several threads */
    int ttl_s;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS users ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  password_hash TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL);"
    "DROP TABLE IF EXISTS tokens;" /* where earlier versions kept tokens in plain text */
    "CREATE TABLE IF NOT EXISTS token_digests ("
    "  sha256 TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id),"
    "  expires_ms INTEGER NOT NULL);";

enum { DIGEST_HEX = 64 };

/* The token as the table keeps it: its SHA-256 in lower-case hex (hex: DIGEST_HEX + 1).
 * A token is 256 random bits, so a fast digest is enough: nothing can be guessed. */
static int token_digest(const char *token, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL) || n * 2 != DIGEST_HEX)
        return -1;
    for (unsigned int i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

users *users_open(const char *path, int ttl_s, char *err, size_t errlen)
{
    users *u = calloc(1, sizeof *u);
    if (!u) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    u->ttl_s = ttl_s > 0 ? ttl_s : 3600;
    if (!(u->db = sqlstore_open(path, schema, err, errlen))) {
        users_close(u);
        return NULL;
    }
    return u;
}

void users_close(users *u)
{
    if (!u)
        return;
    sqlite3_close(u->db);
    free(u);
}

/* crypt_r(password, setting) into out (CRYPT_OUTPUT_SIZE bytes), with scratch space of
 * the call's own, so that calls on several threads do not share it. Returns out, or
 * NULL (errno set) when it failed. */
static const char *hash_password(const char *password, const char *setting, char *out)
{
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return NULL;
    const char *h = crypt_r(password, setting, cd);
    bool good = h && h[0] != '*';
    if (good)
        snprintf(out, CRYPT_OUTPUT_SIZE, "%s", h);
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return good ? out : NULL;
}

static store_status check_name(const char *name, char *err, size_t errlen)
{
    size_t n = strlen(name);
    if (n == 0) {
        err_set(err, errlen, "name is required");
        return STORE_INVALID;
    }
    if (n > USERS_NAME_MAX) {
        err_set(err, errlen, "name is %zu bytes; at most %d", n, USERS_NAME_MAX);
        return STORE_INVALID;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            err_set(err, errlen, "name contains a control character");
            return STORE_INVALID;
        }
    return STORE_OK;
}

static store_status check_password(const char *password, char *err, size_t errlen)
{
    size_t n = strlen(password);
    if (n == 0) {
        err_set(err, errlen, "password is required");
        return STORE_INVALID;
    }
    if (n < USERS_PASSWORD_MIN || n > USERS_PASSWORD_MAX) {
        err_set(err, errlen, "password is %zu bytes; it must be %d to %d", n, USERS_PASSWORD_MIN,
                USERS_PASSWORD_MAX);
        return STORE_INVALID;
    }
    return STORE_OK;
}

store_status users_register(users *u, const char *name, const char *password, int64_t *id,
                            char *err, size_t errlen)
{
    store_status st = check_name(name, err, errlen);
    if (st == STORE_OK)
        st = check_password(password, err, errlen);
    if (st != STORE_OK)
        return st;
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn(HASH_PREFIX, 0, NULL, 0, salt, sizeof salt)) {
        err_set(err, errlen, "cannot make a salt: %s", strerror(errno));
        return STORE_FAILED;
    }
    char out[CRYPT_OUTPUT_SIZE];
    const char *hash = hash_password(password, salt, out);
    if (!hash) {
        err_set(err, errlen, "cannot hash the password: %s", strerror(errno));
        return STORE_FAILED;
    }
    sqlite3_stmt *q = NULL;
    /* held until the row id and any error are read: another thread's insert would change them */
    sqlite3_mutex *mu = sqlite3_db_mutex(u->db);
    sqlite3_mutex_enter(mu);
    int rc = sqlite3_prepare_v2(u->db, "INSERT INTO users (name, password_hash, created_ms) VALUES (?, ?, ?)",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, clock_wall_ms());
        rc = sqlite3_step(q);
    }
    if (rc == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(u->db);
        st = STORE_OK;
    } else if (sqlite3_extended_errcode(u->db) == SQLITE_CONSTRAINT_UNIQUE) {
        err_set(err, errlen, "the name \"%s\" is taken", name);
        st = STORE_EXISTS;
    } else {
        st = sqlstore_error(u->db, rc, "storing the account", err, errlen);
    }
    sqlite3_finalize(q);
    sqlite3_mutex_leave(mu);
    return st;
}

/* Compares without stopping at the first difference. */
static bool same(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char d = na != nb;
    for (size_t i = 0; i < na && i < nb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

store_status users_login(users *u, const char *name, const char *password, char *token,
                         int64_t *expires_ms, char *err, size_t errlen)
{
    store_status st = check_name(name, err, errlen);
    if (st != STORE_OK)
        return st;
    if (!password[0]) {
        err_set(err, errlen, "password is required");
        return STORE_INVALID;
    }
    sqlite3_stmt *q = NULL;
    int64_t uid = 0;
    char hash[256] = "";
    sqlite3_mutex *mu = sqlite3_db_mutex(u->db); /* logins run on several threads: an error
                                                    message is ours only while we hold it */
    sqlite3_mutex_enter(mu);
    int rc = sqlite3_prepare_v2(u->db, "SELECT id, password_hash FROM users WHERE name = ?", -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
    }
    if (rc == SQLITE_ROW) {
        uid = sqlite3_column_int64(q, 0);
        snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(q, 1));
    } else if (rc != SQLITE_DONE) {
        st = sqlstore_error(u->db, rc, "looking up the account", err, errlen);
        sqlite3_finalize(q);
        sqlite3_mutex_leave(mu);
        return st;
    }
    sqlite3_finalize(q);
    sqlite3_mutex_leave(mu);
    /* an unknown name costs a hash too, so timing does not tell names apart */
    char salt[CRYPT_GENSALT_OUTPUT_SIZE] = "";
    if (!hash[0])
        crypt_gensalt_rn(HASH_PREFIX, 0, NULL, 0, salt, sizeof salt);
    char out[CRYPT_OUTPUT_SIZE];
    const char *got = hash_password(password, hash[0] ? hash : salt, out);
    if (!uid || !got || !same(got, hash)) {
        err_set(err, errlen, "wrong name or password");
        return STORE_DENIED;
    }
    uint8_t rnd[USERS_TOKEN_LEN / 2];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        err_set(err, errlen, "cannot make a token: %s", strerror(errno));
        return STORE_FAILED;
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(token + 2 * i, 3, "%02x", rnd[i]);
    explicit_bzero(rnd, sizeof rnd);
    char digest[DIGEST_HEX + 1];
    if (token_digest(token, digest) < 0) {
        err_set(err, errlen, "cannot make the token's SHA-256");
        return STORE_FAILED;
    }
    long long now = clock_wall_ms();
    *expires_ms = now + (long long)u->ttl_s * 1000;
    sqlite3_mutex_enter(mu);
    rc = sqlite3_prepare_v2(u->db, "INSERT INTO token_digests (sha256, user_id, expires_ms) VALUES (?, ?, ?)",
                            -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, digest, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, uid);
        sqlite3_bind_int64(q, 3, *expires_ms);
        rc = sqlite3_step(q);
    }
    st = rc == SQLITE_DONE ? STORE_OK : sqlstore_error(u->db, rc, "storing the token", err, errlen);
    sqlite3_finalize(q);
    if (st == STORE_OK) /* housekeeping: expired tokens go; a failure here changes nothing */
        sqlite3_exec(u->db, "DELETE FROM token_digests WHERE expires_ms < strftime('%s','now') * 1000", NULL,
                     NULL, NULL);
    sqlite3_mutex_leave(mu);
    return st;
}

store_status users_verify(users *u, const char *token, char *name, int64_t *id, char *err,
                          size_t errlen)
{
    if (!token[0]) {
        err_set(err, errlen, "token is required");
        return STORE_DENIED;
    }
    char digest[DIGEST_HEX + 1];
    if (token_digest(token, digest) < 0) {
        err_set(err, errlen, "cannot make the token's SHA-256");
        return STORE_FAILED;
    }
    sqlite3_stmt *q = NULL;
    store_status st;
    sqlite3_mutex *mu = sqlite3_db_mutex(u->db); /* see users_login */
    sqlite3_mutex_enter(mu);
    int rc = sqlite3_prepare_v2(u->db,
                                "SELECT users.id, users.name, t.expires_ms FROM token_digests AS t "
                                "JOIN users ON users.id = t.user_id WHERE t.sha256 = ?",
                                -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, digest, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
    }
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_int64(q, 2) < clock_wall_ms()) {
            err_set(err, errlen, "the token has expired: log in again");
            st = STORE_DENIED;
        } else {
            *id = sqlite3_column_int64(q, 0);
            snprintf(name, USERS_NAME_MAX + 1, "%s", (const char *)sqlite3_column_text(q, 1));
            st = STORE_OK;
        }
    } else if (rc == SQLITE_DONE) {
        err_set(err, errlen, "unknown token: log in to get one");
        st = STORE_DENIED;
    } else {
        st = sqlstore_error(u->db, rc, "looking up the token", err, errlen);
    }
    sqlite3_finalize(q);
    sqlite3_mutex_leave(mu);
    return st;
}
