/* users.h -- the user service's data: accounts with salted password hashes, and login
 * tokens, in a SQLite file the service's instances share (see sqlstore.h).
 *
 * A password is never stored: crypt(3) with a fresh random salt (yescrypt, "$y$")
 * turns it into the hash that is kept, and login compares hashes. A token is 32
 * random bytes in hex, valid for a set time; the table keeps its SHA-256, so the
 * database file alone lets no one in. No gRPC here: user-server maps the
 * results to statuses, and the unit tests call this directly. */
#ifndef WB_USERS_H
#define WB_USERS_H

#include <stdint.h>

#include "services/sqlstore.h"

enum {
    USERS_NAME_MAX = 64,       /* bytes of a user name */
    USERS_PASSWORD_MIN = 8,
    USERS_PASSWORD_MAX = 256,
    USERS_TOKEN_LEN = 64,      /* hex characters */
};

typedef struct users users;

/* Opens the database at path (see sqlstore_open); tokens live ttl_s seconds. Returns
 * NULL with a reason in err. */
users *users_open(const char *path, int ttl_s, char *err, size_t errlen);
/* Accepts NULL. */
void users_close(users *u);

/* Creates the account name with password. STORE_INVALID for an empty, too long or
 * control-character name or a password outside 8..256 bytes; STORE_EXISTS when the
 * name is taken. On STORE_OK *id is the new account's id. err says why otherwise. */
store_status users_register(users *u, const char *name, const char *password, int64_t *id,
                            char *err, size_t errlen);
/* Checks the password and issues a token (token: USERS_TOKEN_LEN + 1 bytes) expiring at
 * *expires_ms. STORE_DENIED for an unknown name or a wrong password (the same message
 * for both). */
store_status users_login(users *u, const char *name, const char *password, char *token,
                         int64_t *expires_ms, char *err, size_t errlen);
/* Whose token this is: the name (USERS_NAME_MAX + 1 bytes) and id. STORE_DENIED when the
 * token is unknown or expired. */
store_status users_verify(users *u, const char *token, char *name, int64_t *id, char *err,
                          size_t errlen);

#endif
