/* services.c -- Arith, hello and Greeter. */
#include "services/services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        snprintf(err, errlen, "out of memory");
    return *reply ? 0 : -1;
}

static int arith_divide(const value *arg, value **reply, char *err, size_t errlen)
{
    int64_t a = field_int(arg, "A"), b = field_int(arg, "B");
    if (b == 0) {
        snprintf(err, errlen, "divide by zero");
        return -1;
    }
    /* The one overflowing case: Go gives quotient MinInt64 and remainder 0. */
    int64_t quo = (a == INT64_MIN && b == -1) ? INT64_MIN : a / b;
    int64_t rem = (a == INT64_MIN && b == -1) ? 0 : a % b;
    value *q = value_struct("Quotient");
    if (!q || value_struct_set(q, "Quo", value_int(quo)) < 0 ||
        value_struct_set(q, "Rem", value_int(rem)) < 0) {
        value_free(q);
        snprintf(err, errlen, "out of memory");
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
        snprintf(err, errlen, "out of memory");
    return *reply ? 0 : -1;
}

static int greeter_say_hello(const value *arg, value **reply, char *err, size_t errlen)
{
    const value *name = value_get(arg, "Name");
    value *msg = concat("Hello ", 6, name ? name->u.s.p : "", name ? name->u.s.len : 0);
    value *r = value_struct("HelloReply");
    if (!r || value_struct_set(r, "Message", msg) < 0) {
        value_free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *reply = r;
    return 0;
}

static const method methods[] = {
    {"Arith.Multiply", &args_type, &vtype_int, arith_multiply, true, "A*B"},
    {"Arith.Divide", &args_type, &quotient_type, arith_divide, true, "{Quo: A/B, Rem: A%B}"},
    {"hello.HelloWorld", &vtype_string, &vtype_string, hello_world, true, "name + \" 你好....\""},
    {"Greeter.SayHello", &hello_request_type, &hello_reply_type, greeter_say_hello, true,
     "{Message: \"Hello \" + Name}"},
};

const method *service_methods(size_t *n)
{
    *n = sizeof methods / sizeof methods[0];
    return methods;
}

const method *service_find(const char *name, char *err, size_t errlen)
{
    const char *dot = strrchr(name, '.');
    if (!dot) {
        snprintf(err, errlen, "rpc: service/method request ill-formed: %s", name);
        return NULL;
    }
    size_t slen = (size_t)(dot - name);
    bool service_known = false;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
        if (strncmp(methods[i].name, name, slen) == 0 && methods[i].name[slen] == '.')
            service_known = true;
    }
    snprintf(err, errlen, service_known ? "rpc: can't find method %s" : "rpc: can't find service %s",
             name);
    return NULL;
}

value *service_argument(const method *m, const value *raw, char *err, size_t errlen)
{
    char why[256];
    value *arg = vtype_coerce(m->arg, raw, why, sizeof why);
    if (!arg) {
        char want[160];
        if (m->arg->kind == T_STRUCT) {
            size_t used = (size_t)snprintf(want, sizeof want, "%s{", m->arg->name);
            for (size_t i = 0; i < m->arg->nfields && used < sizeof want; i++) {
                char ft[40];
                used += (size_t)snprintf(want + used, sizeof want - used, "%s%s %s", i ? ", " : "",
                                         m->arg->fields[i].name,
                                         vtype_describe(m->arg->fields[i].type, ft, sizeof ft));
            }
            if (used < sizeof want)
                snprintf(want + used, sizeof want - used, "}");
        } else {
            vtype_describe(m->arg, want, sizeof want);
        }
        snprintf(err, errlen, "%s: bad argument: %s (it takes %s)", m->name, why, want);
    }
    return arg;
}

int service_call(const method *m, const value *raw, value **reply, char *err, size_t errlen)
{
    value *arg = service_argument(m, raw, err, errlen);
    if (!arg)
        return -1;
    int r = m->fn(arg, reply, err, errlen);
    value_free(arg);
    return r;
}
