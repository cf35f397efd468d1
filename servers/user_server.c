/* user_server.c -- the user service over gRPC: sign up, log in, verify a token; data in SQLite. */
#include <stdio.h>
#include <stdlib.h>

#include "base/i18n.h"
#include "base/numopt.h"
#include "rpc/dataservice.h"
#include "rpc/grpcserver.h"
#include "rpc/server.h"
#include "services/users.h"
#include "user.pb-c.h"

static users *db;
static int token_ttl = 3600; /* --token-ttl */

static int sign_up(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const User__Credentials *c = (const User__Credentials *)req;
    int64_t id = 0;
    store_status st = users_register(db, c->name, c->password, &id, msg, msglen);
    if (st != STORE_OK)
        return dataservice_status(st);
    User__Account a = USER__ACCOUNT__INIT;
    a.id = id;
    a.name = c->name;
    return grpcserver_reply(call, &a.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
}

static int login(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const User__Credentials *c = (const User__Credentials *)req;
    char token[USERS_TOKEN_LEN + 1];
    int64_t expires_ms = 0;
    store_status st = users_login(db, c->name, c->password, token, &expires_ms, msg, msglen);
    if (st != STORE_OK)
        return dataservice_status(st);
    User__Session s = USER__SESSION__INIT;
    s.token = token;
    s.expires_at = expires_ms / 1000;
    s.name = c->name;
    return grpcserver_reply(call, &s.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
}

static int verify(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const User__Token *t = (const User__Token *)req;
    char name[USERS_NAME_MAX + 1];
    int64_t id = 0;
    store_status st = users_verify(db, t->token, name, &id, msg, msglen);
    if (st != STORE_OK)
        return dataservice_status(st);
    User__Account a = USER__ACCOUNT__INIT;
    a.id = id;
    a.name = name;
    return grpcserver_reply(call, &a.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
}

static const grpc_method methods[] = {
    {"/user.User/SignUp", sign_up, .on_worker = true}, /* a password hash takes ~20 ms */
    {"/user.User/Login", login, .on_worker = true},
    {"/user.User/Verify", verify},
};

static int open_db(const char *path, char *err, size_t errlen)
{
    db = users_open(path, token_ttl, err, errlen);
    return db ? 0 : -1;
}

static void close_db(void)
{
    users_close(db);
}

int main(int argc, char **argv)
{
    static const char about[] = N_(
        "Serves the user service over gRPC (cleartext HTTP/2): accounts and login tokens,\n"
        "kept in a SQLite file that every instance shares. The gateway (bin/gateway)\n"
        "calls it for POST /user/register and /user/login, and to check tokens.\n"
        "Passwords are stored only as salted yescrypt hashes (crypt(3)), hashed on two\n"
        "worker threads so other calls go on; login tokens only as their SHA-256.\n"
        "\n"
        "Its own options:\n"
        "      --db PATH            the SQLite file (default: users.db in\n"
        "                           $XDG_STATE_HOME/rpc-workbench, else in\n"
        "                           ~/.local/state/rpc-workbench); give several\n"
        "                           instances the same file\n"
        "      --token-ttl SECONDS  how long a login token is valid (default 3600)\n"
        "The registry service name defaults to \"user\".");
    server_codec codec = grpcserver_codec;
    codec.default_listen = "127.0.0.1:8006";
    codec.methods_help = N_(
        "Methods served:\n"
        "  /user.User/SignUp   {name, password} -> {id, name}; ALREADY_EXISTS when taken,\n"
        "                      INVALID_ARGUMENT for an empty name or a password under\n"
        "                      8 bytes\n"
        "  /user.User/Login    {name, password} -> {token, expires_at, name};\n"
        "                      UNAUTHENTICATED for a wrong name or password\n"
        "  /user.User/Verify   {token} -> {id, name}; UNAUTHENTICATED when unknown or\n"
        "                      expired\n"
        "  /grpc.health.v1.Health/Check and /Watch, server reflection\n");
    if (server_lang(&argc, argv, "user-server") != 0)
        return 2;
    bool missing;
    const char *ttl = server_take_option(&argc, argv, "token-ttl", &missing);
    if (missing || (ttl && numopt_int(ttl, 1, 366 * 86400, &token_ttl) < 0)) {
        fprintf(stderr, "user-server: %s\n", _("--token-ttl wants a number of seconds"));
        return 2;
    }
    static const dataservice ds = {"user-server", "user", "users", open_db, close_db};
    return dataservice_main(&ds, &codec, about, methods, sizeof methods / sizeof methods[0], argc,
                            argv);
}
