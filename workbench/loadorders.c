/* loadorders.c -- the orders `workbench load --program order-server` places: a request id
 * per call, the ids answered OK, and reading them back after the run. */
#include "loadorders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/esc.h"
#include "base/i18n.h"

#define MAX_PLACED (1u << 22)

void loadorders_note(loadorders *o, const value *reply)
{
    const value *id = value_get(reply, "id");
    if (!id || id->kind != V_INT)
        return;
    if (o->n == o->cap) {
        size_t ncap = o->cap ? o->cap * 2 : 1024;
        int64_t *p = ncap <= MAX_PLACED ? realloc(o->ids, ncap * sizeof *p) : NULL;
        if (!p) {
            o->dropped = true;
            return;
        }
        o->ids = p;
        o->cap = ncap;
    }
    o->ids[o->n++] = id->u.i;
}

int loadorders_request_id(value *arg, uint64_t i)
{
    char rid[64];
    static unsigned long long run;
    if (!run)
        run = (unsigned long long)time(NULL);
    snprintf(rid, sizeof rid, "load-%d-%llu-%llu", (int)getpid(), run, (unsigned long long)i);
    if (arg->kind == V_MAP) {
        for (size_t k = 0; k < arg->u.map.len; k++)
            if (strcmp(arg->u.map.items[k].k->u.s.p, "request_id") == 0) {
                value_free(arg->u.map.items[k].v);
                arg->u.map.items[k].v = value_cstring(rid);
                return arg->u.map.items[k].v ? 0 : -1;
            }
        return value_map_put(arg, value_cstring("request_id"), value_cstring(rid));
    }
    return -1;
}

void loadorders_sign_up(balancer *lb, const value *arg)
{
    value *reply = NULL;
    char err[256];
    balancer_call(lb, "/user.User/SignUp", arg, false, &reply, NULL, err, sizeof err);
    value_free(reply);
}

void loadorders_check(balancer *lb, const value *arg, const loadorders *o)
{
    const value *user = value_get(arg, "user");
    size_t readable = 0, missing = 0, failed = 0;
    char err[512], first[600] = "";
    for (size_t i = 0; i < o->n; i++) {
        value *q = value_struct(NULL), *reply = NULL;
        if (!q || value_struct_set(q, "id", value_int(o->ids[i])) < 0 ||
            value_struct_set(q, "user", value_cstring(user && user->kind == V_STRING ? user->u.s.p : "")) < 0) {
            value_free(q);
            failed++;
            continue;
        }
        call_status st = balancer_call(lb, "/order.Order/Get", q, true, &reply, NULL, err, sizeof err);
        value_free(q);
        value_free(reply);
        if (st == CALL_OK)
            readable++;
        else if (st == CALL_REMOTE_ERROR && strncmp(err, "NOT_FOUND", 9) == 0)
            missing++;
        else
            failed++;
        if (st != CALL_OK && !first[0]) {
            char shown[2048]; /* the server's words, escaped for the terminal */
            snprintf(first, sizeof first, _(" (order %lld: %.500s)"), (long long)o->ids[i],
                     esc_str(shown, sizeof shown, err));
        }
    }
    printf(_("\nOrders: %zu placed (answered OK), %zu read back with Get after the run, %zu missing, "
             "%zu could not be read%s%s\n"),
           o->n, readable, missing, failed, first, o->dropped ? _("; only the first ids were kept") : "");
}
