/* post_server.c -- the post service over gRPC: create, get and list posts; data in SQLite. */
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/i18n.h"
#include "post.pb-c.h"
#include "rpc/dataservice.h"
#include "rpc/grpcserver.h"
#include "rpc/server.h"
#include "services/posts.h"

static posts *db;

static void fill(Post__PostInfo *o, post_rec *r)
{
    post__post_info__init(o);
    o->id = r->id;
    o->user = r->user;
    o->title = r->title;
    o->body = r->body;
    o->created_at = r->created_ms;
    o->served_by = r->served_by;
}

static int create(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const Post__NewPost *p = (const Post__NewPost *)req;
    post_rec *r = malloc(sizeof *r); /* a post is 10 KB: not on the loop's stack */
    bool replayed;
    if (!r) {
        err_set(msg, msglen, "out of memory");
        return GRPC_RESOURCE_EXHAUSTED;
    }
    store_status st = posts_create(db, p->user, p->title, p->body, p->request_id, grpcserver_call_local(call), r,
                                   &replayed, msg, msglen);
    int rc = dataservice_status(st);
    if (st == STORE_OK) {
        Post__PostInfo o;
        fill(&o, r);
        rc = grpcserver_reply(call, &o.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
    }
    free(r);
    return rc;
}

static int get(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const Post__GetPost *g = (const Post__GetPost *)req;
    post_rec *r = malloc(sizeof *r);
    if (!r) {
        err_set(msg, msglen, "out of memory");
        return GRPC_RESOURCE_EXHAUSTED;
    }
    store_status st = posts_get(db, g->id, r, msg, msglen);
    int rc = dataservice_status(st);
    if (st == STORE_OK) {
        Post__PostInfo o;
        fill(&o, r);
        rc = grpcserver_reply(call, &o.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
    }
    free(r);
    return rc;
}

static void fill_item(ProtobufCMessage *item, void *records, size_t i)
{
    fill((Post__PostInfo *)item, &((post_rec *)records)[i]);
}

static int list(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const Post__ListPosts *l = (const Post__ListPosts *)req;
    post_rec *recs = NULL;
    size_t n = 0;
    store_status st = posts_list(db, l->user, l->limit > 0 ? (size_t)l->limit : 0, &recs, &n, msg, msglen);
    if (st != STORE_OK)
        return dataservice_status(st);
    int rc = dataservice_reply_list(call, &post__post_list__descriptor, fill_item, recs, n, msg, msglen);
    free(recs);
    return rc;
}

static const grpc_method methods[] = {
    {"/post.Post/Create", create},
    {"/post.Post/Get", get},
    {"/post.Post/List", list},
};

static int open_db(const char *path, char *err, size_t errlen)
{
    db = posts_open(path, err, errlen);
    return db ? 0 : -1;
}

static void close_db(void)
{
    posts_close(db);
}

int main(int argc, char **argv)
{
    static const char about[] = N_(
        "Serves the post service over gRPC (cleartext HTTP/2): write, read and list\n"
        "posts, kept in a SQLite file that every instance shares, so a post written\n"
        "through one instance is read through any other, even after the first one dies.\n"
        "The gateway (bin/gateway) checks the writer's token and fills in the user.\n"
        "\n"
        "Its own option:\n"
        "      --db PATH            the SQLite file (default: posts.db in\n"
        "                           $XDG_STATE_HOME/rpc-workbench, else in\n"
        "                           ~/.local/state/rpc-workbench); give several\n"
        "                           instances the same file\n"
        "The registry service name defaults to \"post\".");
    server_codec codec = grpcserver_codec;
    codec.default_listen = "127.0.0.1:8005";
    codec.methods_help = N_(
        "Methods served:\n"
        "  /post.Post/Create  {user, title, body, request_id} -> the post {id, user,\n"
        "                     title, body, created_at (ms), served_by}; committed before\n"
        "                     the reply; the same user's same request_id again returns\n"
        "                     the same post; INVALID_ARGUMENT for an empty title or body,\n"
        "                     a title over 200 bytes or not one line, a body over 10000\n"
        "  /post.Post/Get     {id} -> the post, whoever wrote it; NOT_FOUND when none\n"
        "  /post.Post/List    {user, limit} -> {posts}, newest first, at most 100; an\n"
        "                     empty user lists everyone's\n"
        "  /grpc.health.v1.Health/Check and /Watch, server reflection\n");
    static const dataservice ds = {"post-server", "post", "posts", open_db, close_db};
    return dataservice_main(&ds, &codec, about, methods, sizeof methods / sizeof methods[0], argc,
                            argv);
}
