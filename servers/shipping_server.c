/* shipping_server.c -- the go-micro tutorial's shipping service over gRPC: create and list
 * consignments of containers; data in SQLite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/log.h"
#include "consignment.pb-c.h"
#include "rpc/dataservice.h"
#include "rpc/grpcserver.h"
#include "rpc/server.h"
#include "services/consignments.h"

typedef Go__Micro__Srv__Consignment__Consignment pb_consignment;
typedef Go__Micro__Srv__Consignment__Container pb_container;
typedef Go__Micro__Srv__Consignment__Response pb_response;

static consignments *db;

/* The request's consignment as a record whose containers (a new array, caller frees)
 * are checked and copied; STORE_INVALID with a reason for a field over its cap. */
static store_status from_pb(const pb_consignment *p, consignment_rec *r, char *msg, size_t msglen)
{
    memset(r, 0, sizeof *r);
    r->weight = p->weight;
    if (p->n_containers > CONSIGNMENTS_CONTAINERS_MAX) {
        err_set(msg, msglen, "%zu containers; at most %d in one consignment", p->n_containers,
                CONSIGNMENTS_CONTAINERS_MAX);
        return STORE_INVALID;
    }
    store_status st = consignments_set_text(r->id, sizeof r->id, p->id, "id", msg, msglen);
    if (st == STORE_OK)
        st = consignments_set_text(r->description, sizeof r->description, p->description, "description", msg,
                                   msglen);
    if (st == STORE_OK)
        st = consignments_set_text(r->vessel_id, sizeof r->vessel_id, p->vessel_id, "vessel_id", msg, msglen);
    if (st != STORE_OK || p->n_containers == 0)
        return st;
    if (!(r->containers = calloc(p->n_containers, sizeof *r->containers))) {
        err_set(msg, msglen, "out of memory");
        return STORE_FAILED;
    }
    r->n_containers = p->n_containers;
    for (size_t i = 0; st == STORE_OK && i < p->n_containers; i++) {
        const pb_container *c = p->containers[i];
        container_rec *k = &r->containers[i];
        char what[48];
#define SET(field)                                                                   \
    if (st == STORE_OK) {                                                            \
        snprintf(what, sizeof what, "containers[%zu]." #field, i);                   \
        st = consignments_set_text(k->field, sizeof k->field, c->field, what, msg, msglen); \
    }
        SET(id)
        SET(customer_id)
        SET(origin)
        SET(user_id)
#undef SET
    }
    return st;
}

/* The message form of r, pointing into r; *boxes and *ptrs are new arrays (caller frees). */
static int to_pb(consignment_rec *r, pb_consignment *p, pb_container **boxes, pb_container ***ptrs)
{
    go__micro__srv__consignment__consignment__init(p);
    p->id = r->id;
    p->description = r->description;
    p->weight = r->weight;
    p->vessel_id = r->vessel_id;
    *boxes = calloc(r->n_containers ? r->n_containers : 1, sizeof **boxes);
    *ptrs = calloc(r->n_containers ? r->n_containers : 1, sizeof **ptrs);
    if (!*boxes || !*ptrs)
        return -1;
    for (size_t i = 0; i < r->n_containers; i++) {
        pb_container *c = &(*boxes)[i];
        go__micro__srv__consignment__container__init(c);
        c->id = r->containers[i].id;
        c->customer_id = r->containers[i].customer_id;
        c->origin = r->containers[i].origin;
        c->user_id = r->containers[i].user_id;
        (*ptrs)[i] = c;
    }
    p->n_containers = r->n_containers;
    p->containers = *ptrs;
    return 0;
}

static int create(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    consignment_rec *r = malloc(sizeof *r); /* over 1 KB: not on the loop's stack */
    if (!r) {
        err_set(msg, msglen, "out of memory");
        return GRPC_RESOURCE_EXHAUSTED;
    }
    store_status st = from_pb((const pb_consignment *)req, r, msg, msglen);
    if (st == STORE_OK)
        st = consignments_create(db, r, msg, msglen);
    int rc = dataservice_status(st);
    if (st == STORE_OK) {
        pb_consignment p;
        pb_container *boxes = NULL, **ptrs = NULL;
        rc = GRPC_RESOURCE_EXHAUSTED;
        if (to_pb(r, &p, &boxes, &ptrs) == 0) {
            pb_response out = GO__MICRO__SRV__CONSIGNMENT__RESPONSE__INIT;
            out.created = true;
            out.consignment = &p;
            rc = grpcserver_reply(call, &out.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
        } else {
            err_set(msg, msglen, "out of memory");
        }
        free(boxes);
        free(ptrs);
    }
    free(r->containers);
    free(r);
    return rc;
}

/* Replies with the n records of recs. */
static int reply_list(grpc_call *call, consignment_rec *recs, size_t n, char *msg, size_t msglen)
{
    pb_consignment *items = calloc(n ? n : 1, sizeof *items);
    pb_consignment **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    pb_container **boxes = calloc(n ? n : 1, sizeof *boxes), ***bptrs = calloc(n ? n : 1, sizeof *bptrs);
    int rc = GRPC_RESOURCE_EXHAUSTED;
    size_t done = 0;
    if (items && ptrs && boxes && bptrs) {
        while (done < n && to_pb(&recs[done], &items[done], &boxes[done], &bptrs[done]) == 0) {
            ptrs[done] = &items[done];
            done++;
        }
    }
    if (done == n && items && ptrs && boxes && bptrs) {
        pb_response out = GO__MICRO__SRV__CONSIGNMENT__RESPONSE__INIT;
        out.n_consignments = n;
        out.consignments = ptrs;
        rc = grpcserver_reply(call, &out.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
    } else {
        err_set(msg, msglen, "out of memory for %zu consignments", n);
    }
    for (size_t i = 0; boxes && bptrs && i < n; i++) {
        free(boxes[i]);
        free(bptrs[i]);
    }
    free(items);
    free(ptrs);
    free(boxes);
    free(bptrs);
    return rc;
}

static int get_all(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    (void)req;
    consignment_rec *recs = NULL;
    size_t n = 0, total = 0;
    store_status st = consignments_list(db, 0, &recs, &n, &total, msg, msglen);
    if (st != STORE_OK)
        return dataservice_status(st);
    if (total > n)
        log_msg("GetConsignments: the %zu most recent of %zu consignments (the cap)", n, total);
    int rc = reply_list(call, recs, n, msg, msglen);
    consignments_list_free(recs, n);
    return rc;
}

static const grpc_method methods[] = {
    {"/go.micro.srv.consignment.ShippingService/CreateConsignment", create},
    {"/go.micro.srv.consignment.ShippingService/GetConsignments", get_all},
};

static int open_db(const char *path, char *err, size_t errlen)
{
    db = consignments_open(path, err, errlen);
    return db ? 0 : -1;
}

static void close_db(void)
{
    consignments_close(db);
}

int main(int argc, char **argv)
{
    static const char about[] = N_(
        "Serves the shipping service of the go-micro tutorial over gRPC (cleartext\n"
        "HTTP/2): consignments of containers, kept in a SQLite file that every instance\n"
        "shares, so a consignment created through one instance is listed by any other,\n"
        "and still there after a restart.\n"
        "\n"
        "Its own option:\n"
        "      --db PATH            the SQLite file (default: consignments.db in\n"
        "                           $XDG_STATE_HOME/rpc-workbench, else in\n"
        "                           ~/.local/state/rpc-workbench); give several\n"
        "                           instances the same file\n"
        "The registry service name defaults to \"shipping\".");
    server_codec codec = grpcserver_codec;
    codec.default_listen = "127.0.0.1:50051";
    codec.methods_help = N_(
        "Methods served (service go.micro.srv.consignment.ShippingService):\n"
        "  CreateConsignment  {id, description, weight, containers [{id, customer_id,\n"
        "                     origin, user_id}], vessel_id} -> {created: true,\n"
        "                     consignment}; an empty id gets a new one (a UUID);\n"
        "                     committed before the reply; ALREADY_EXISTS for an id\n"
        "                     taken; INVALID_ARGUMENT, with the reason, for a negative\n"
        "                     weight, over 100 containers, a description over 1000\n"
        "                     bytes, an id over 64, any other text over 64\n"
        "  GetConsignments    {} -> {consignments}, oldest first: the 1000 most recent\n"
        "  /grpc.health.v1.Health/Check and /Watch, server reflection\n");
    static const dataservice ds = {"shipping-server", "shipping", "consignments", open_db, close_db};
    return dataservice_main(&ds, &codec, about, methods, sizeof methods / sizeof methods[0], argc,
                            argv);
}
