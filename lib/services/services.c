/* services.c -- Arith, hello and Greeter, and their one registration in the method catalog. */
#include "services/services.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static const vtype_field args_fields[] = {{"A", &vtype_int}, {"B", &vtype_int}};
static const vtype args_type = {.kind = T_STRUCT, .name = "Args", .fields = args_fields, .nfields = 2};
static const vtype_field quotient_fields[] = {{"Quo", &vtype_int}, {"Rem", &vtype_int}};
static const vtype quotient_type = {
    .kind = T_STRUCT, .name = "Quotient", .fields = quotient_fields, .nfields = 2};
static const vtype_field hello_request_fields[] = {{"Name", &vtype_string}};
static const vtype hello_request_type = {
    .kind = T_STRUCT, .name = "HelloRequest", .fields = hello_request_fields, .nfields = 1};
static const vtype_field hello_reply_fields[] = {{"Message", &vtype_string}};
static const vtype hello_reply_type = {
    .kind = T_STRUCT, .name = "HelloReply", .fields = hello_reply_fields, .nfields = 1};

static int64_t field_int(const value *st, const char *name)
{
    const value *f = value_get(st, name);
    return f && f->kind == V_INT ? f->u.i : 0;
}

static int arith_multiply(const value *arg, value **reply, char *err, size_t errlen)
{
    /* Go's int multiplication wraps on overflow; do it in uint64 where wrapping is defined. */
    uint64_t p = (uint64_t)field_int(arg, "A") * (uint64_t)field_int(arg, "B");
    *reply = value_int((int64_t)p);
    if (!*reply)
        err_set(err, errlen, "out of memory");
    return *reply ? 0 : -1;
}

static int arith_divide(const value *arg, value **reply, char *err, size_t errlen)
{
    int64_t a = field_int(arg, "A"), b = field_int(arg, "B");
    if (b == 0) {
        err_set(err, errlen, "divide by zero");
        return -1;
    }
    /* The one overflowing case: Go gives quotient MinInt64 and remainder 0. */
    int64_t quo = (a == INT64_MIN && b == -1) ? INT64_MIN : a / b;
    int64_t rem = (a == INT64_MIN && b == -1) ? 0 : a % b;
    value *q = value_struct("Quotient");
    if (!q || value_struct_set(q, "Quo", value_int(quo)) < 0 ||
        value_struct_set(q, "Rem", value_int(rem)) < 0) {
        value_free(q);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    *reply = q;
    return 0;
}

static value *concat(const char *a, size_t alen, const char *b, size_t blen)
{
    char *s = malloc(alen + blen + 1);
    if (!s)
        return NULL;
    memcpy(s, a, alen);
    memcpy(s + alen, b, blen);
    value *v = value_string(s, alen + blen);
    free(s);
    return v;
}

static int hello_world(const value *arg, value **reply, char *err, size_t errlen)
{
    static const char suffix[] = " 你好....";
    *reply = concat(arg->u.s.p, arg->u.s.len, suffix, sizeof suffix - 1);
    if (!*reply)
        err_set(err, errlen, "out of memory");
    return *reply ? 0 : -1;
}

static int greeter_say_hello(const value *arg, value **reply, char *err, size_t errlen)
{
    const value *name = value_get(arg, "Name");
    value *msg = concat("Hello ", 6, name ? name->u.s.p : "", name ? name->u.s.len : 0);
    value *r = value_struct("HelloReply");
    if (!r || value_struct_set(r, "Message", msg) < 0) {
        value_free(r);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    *reply = r;
    return 0;
}

static const catalog_method methods[] = {
    {"Arith.Multiply", &args_type, &vtype_int, "/arith.Arith/Multiply", NULL, true, "A*B",
     arith_multiply},
    {"Arith.Divide", &args_type, &quotient_type, "/arith.Arith/Divide", NULL, true,
     "{Quo: A/B, Rem: A%B}", arith_divide},
    {"hello.HelloWorld", &vtype_string, &vtype_string, NULL, NULL, true, "name + \" 你好....\"",
     hello_world},
    {"Greeter.SayHello", &hello_request_type, &hello_reply_type, "/helloworld.Greeter/SayHello",
     NULL, true, "{Message: \"Hello \" + Name}", greeter_say_hello},
};
#define NMETHODS (sizeof methods / sizeof methods[0])

static pthread_once_t registered = PTHREAD_ONCE_INIT;
static char register_error[256]; /* written once, inside pthread_once */

static void register_samples(void)
{
    if (catalog_add(methods, NMETHODS, register_error, sizeof register_error) < 0 &&
        !register_error[0])
        err_set(register_error, sizeof register_error, "the catalog refused the sample methods");
}

int services_register(char *err, size_t errlen)
{
    pthread_once(&registered, register_samples);
    if (!register_error[0])
        return 0;
    err_set(err, errlen, "%s", register_error);
    return -1;
}
