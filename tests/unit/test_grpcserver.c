/* test_grpcserver.c -- unit tests for the gRPC server's one method table: what it takes,
 * what it refuses, its own methods added like a program's, and the catalog's methods
 * served through it. Each test runs in a process of its own, with an empty table; what is
 * served is read with gmethods_service_served, which health and reflection list by. */
#include <criterion/criterion.h>
#include <string.h>

#include "rpc/grpcserver.h"
#include "rpc/grpcserver_int.h"
#include "services/services.h"
#include "wire/catalog.h"

static int no_reply(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    (void)req, (void)call, (void)msg, (void)msglen;
    return GRPC_UNIMPLEMENTED;
}

static void each_message(grpc_call *call, const ProtobufCMessage *req) { (void)call, (void)req; }

Test(grpcserver, a_program_adds_its_methods_and_only_they_are_served)
{
    static const grpc_method users[] = {
        {"/user.User/SignUp", no_reply, .on_worker = true},
        {"/user.User/Login", no_reply, .on_worker = true},
        {"/user.User/Verify", no_reply},
    };
    char err[256];
    cr_assert_eq(grpcserver_add_methods(users, 3, err, sizeof err), 0, "%s", err);
    cr_assert(gmethods_service_served("user.User"));
    cr_assert(gmethods_service_served("grpc.health.v1.Health"), "the server's own, added first");
    cr_assert(gmethods_service_served("grpc.reflection.v1alpha.ServerReflection"));
    cr_assert(gmethods_service_served(""), "\"\" is the whole server");
    cr_assert_not(gmethods_service_served("arith.Arith"), "no samples unless added");
    cr_assert_not(gmethods_service_served("tally.Tally"));
    cr_assert_not(gmethods_service_served("helloworld.Greeter"));
}

Test(grpcserver, refuses_what_it_could_not_serve)
{
    char err[256];
    grpc_method e = {"/nowhere.Else/Call", no_reply};
    cr_assert_eq(grpcserver_add_methods(&e, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "gRPC method /nowhere.Else/Call is not compiled in (proto/)");
    e = (grpc_method){"user.User/Login", no_reply};
    cr_assert_eq(grpcserver_add_methods(&e, 1, err, sizeof err), -1, "a path starts with /");
    e = (grpc_method){"/tally.Tally/Count", no_reply};
    cr_assert_eq(grpcserver_add_methods(&e, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "/tally.Tally/Count is a streaming method: it wants a message hook");
    e = (grpc_method){"/user.User/Login", .message = each_message};
    cr_assert_eq(grpcserver_add_methods(&e, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "/user.User/Login is a unary method: it wants a unary handler");
    e = (grpc_method){"/grpc.health.v1.Health/Check", no_reply};
    cr_assert_eq(grpcserver_add_methods(&e, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "/grpc.health.v1.Health/Check is served twice",
                     "health is in the same table as a program's methods");
    cr_assert_not(gmethods_service_served("user.User"), "nothing refused was added");
}

Test(grpcserver, entries_before_a_faulty_one_stay)
{
    grpc_method t[] = {
        {"/order.Order/Get", no_reply},
        {"/order.Order/Get", no_reply},
    };
    char err[256];
    cr_assert_eq(grpcserver_add_methods(t, 2, err, sizeof err), -1);
    cr_assert_str_eq(err, "/order.Order/Get is served twice");
    cr_assert(gmethods_service_served("order.Order"));
}

Test(grpcserver, grpc_server_serves_the_catalog_and_tally)
{
    char err[256];
    catalog_method remote = {"Remote.Echo", NULL, NULL, "/user.User/Verify", NULL, true, "", NULL};
    cr_assert_eq(catalog_add(&remote, 1, err, sizeof err), 1, "%s", err);
    cr_assert_eq(grpcserver_add_catalog(err, sizeof err), 0, "%s", err);
    cr_assert_not(gmethods_service_served("user.User"), "a method without a handler is not served");
    cr_assert_eq(services_register(err, sizeof err), 0, "%s", err);
    cr_assert_eq(grpcserver_add_catalog(err, sizeof err), 0, "%s", err);
    cr_assert(gmethods_service_served("arith.Arith"));
    cr_assert(gmethods_service_served("helloworld.Greeter"));
    cr_assert_not(gmethods_service_served("tally.Tally"), "Tally is not the catalog's");
    cr_assert_eq(grpcserver_add_methods(grpcserver_tally, grpcserver_ntally, err, sizeof err), 0,
                 "%s", err);
    cr_assert(gmethods_service_served("tally.Tally"));
    cr_assert_not(gmethods_service_served("user.User"));
}
