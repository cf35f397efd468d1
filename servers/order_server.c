/* order_server.c -- the order service over gRPC: place, get and list orders; data in SQLite. */
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/i18n.h"
#include "order.pb-c.h"
#include "rpc/dataservice.h"
#include "rpc/grpcserver.h"
#include "rpc/server.h"
#include "services/orders.h"

static orders *db;

static void fill(Order__OrderInfo *o, order_rec *r)
{
    order__order_info__init(o);
    o->id = r->id;
    o->user = r->user;
    o->item = r->item;
    o->quantity = r->quantity;
    o->created_at = r->created_ms;
    o->served_by = r->served_by;
}

static int place(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const Order__PlaceRequest *p = (const Order__PlaceRequest *)req;
    order_rec r;
    bool replayed;
    store_status st = orders_place(db, p->user, p->item, p->quantity, p->request_id,
                                   grpcserver_call_local(call), &r, &replayed, msg, msglen);
    if (st != STORE_OK)
        return dataservice_status(st);
    Order__OrderInfo o;
    fill(&o, &r);
    return grpcserver_reply(call, &o.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
}

static int get(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const Order__GetRequest *g = (const Order__GetRequest *)req;
    order_rec r;
    store_status st = orders_get(db, g->id, g->user, &r, msg, msglen);
    if (st != STORE_OK)
        return dataservice_status(st);
    Order__OrderInfo o;
    fill(&o, &r);
    return grpcserver_reply(call, &o.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
}

static void fill_item(ProtobufCMessage *item, void *records, size_t i)
{
    fill((Order__OrderInfo *)item, &((order_rec *)records)[i]);
}

static int list(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const Order__ListRequest *l = (const Order__ListRequest *)req;
    order_rec *recs = NULL;
    size_t n = 0;
    store_status st = orders_list(db, l->user, l->limit > 0 ? (size_t)l->limit : 0, &recs, &n, msg, msglen);
    if (st != STORE_OK)
        return dataservice_status(st);
    int rc = dataservice_reply_list(call, &order__order_list__descriptor, fill_item, recs, n, msg, msglen);
    free(recs);
    return rc;
}

static const grpc_method methods[] = {
    {"/order.Order/Place", place},
    {"/order.Order/Get", get},
    {"/order.Order/List", list},
};

static int open_db(const char *path, char *err, size_t errlen)
{
    db = orders_open(path, err, errlen);
    return db ? 0 : -1;
}

static void close_db(void)
{
    orders_close(db);
}

int main(int argc, char **argv)
{
    static const char about[] = N_(
        "Serves the order service over gRPC (cleartext HTTP/2): place, get and list\n"
        "orders, kept in a SQLite file that every instance shares, so an order placed\n"
        "through one instance is read through any other, even after the first one dies.\n"
        "The gateway (bin/gateway) checks the caller's token and fills in the user.\n"
        "\n"
        "Its own option:\n"
        "      --db PATH            the SQLite file (default: orders.db in\n"
        "                           $XDG_STATE_HOME/rpc-workbench, else in\n"
        "                           ~/.local/state/rpc-workbench); give several\n"
        "                           instances the same file\n"
        "The registry service name defaults to \"order\".");
    server_codec codec = grpcserver_codec;
    codec.default_listen = "127.0.0.1:8005";
    codec.methods_help = N_(
        "Methods served:\n"
        "  /order.Order/Place  {user, item, quantity, request_id} -> the order {id, user,\n"
        "                      item, quantity, created_at (ms), served_by}; committed\n"
        "                      before the reply; the same user's same request_id again\n"
        "                      returns the same order (request ids are each user's own);\n"
        "                      INVALID_ARGUMENT for an empty item or a\n"
        "                      quantity outside 1..1000000\n"
        "  /order.Order/Get    {id, user} -> the order; NOT_FOUND when none is user's\n"
        "  /order.Order/List   {user, limit} -> {orders}, newest first, at most 1000\n"
        "  /grpc.health.v1.Health/Check and /Watch, server reflection\n");
    static const dataservice ds = {"order-server", "order", "orders", open_db, close_db};
    return dataservice_main(&ds, &codec, about, methods, sizeof methods / sizeof methods[0], argc,
                            argv);
}
