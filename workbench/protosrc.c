/* protosrc.c -- the --proto, -I and --protoset options, and learning a symbol's types from them or from reflection. */
#include "protosrc.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/i18n.h"
#include "proc/protoc.h"
#include "rpc/grpcreflect.h"
#include "wire/catalog.h"
#include "wire/pbdesc.h"

/* Whether arg is --NAME or --NAME=VALUE; *val gets what follows '=' (NULL without). */
static bool is_option(const char *arg, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
        return false;
    *val = arg[n] == '=' ? arg + n + 1 : NULL;
    return true;
}

static bool is_protocol(const char *v)
{
    return strcmp(v, "json") == 0 || strcmp(v, "gob") == 0 || strcmp(v, "grpc") == 0;
}

int protosrc_take(int *argc, char **argv, protosrc *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    int out = 1, i = 1;
    for (; i < *argc && strcmp(argv[i], "--") != 0; i++) {
        const char *arg = argv[i], *v = NULL;
        const char **into = NULL;
        size_t *count = NULL;
        const char *name = arg;
        if (is_option(arg, "--proto", &v) || is_option(arg, "-p", &v)) {
            const char *val = v ? v : i + 1 < *argc ? argv[i + 1] : NULL;
            if (!val || is_protocol(val)) {
                argv[out++] = argv[i];
                continue;
            }
            into = s->files, count = &s->nfiles, name = "--proto";
        } else if (is_option(arg, "--protoset", &v)) {
            into = s->sets, count = &s->nsets, name = "--protoset";
        } else if (is_option(arg, "--import-path", &v) || is_option(arg, "-I", &v)) {
            into = s->paths, count = &s->npaths, name = "--import-path";
        } else if (strncmp(arg, "-I", 2) == 0 && arg[2]) {
            into = s->paths, count = &s->npaths, v = arg + 2;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (!v && i + 1 >= *argc) {
            err_set(err, errlen, "%s wants a value", name);
            return -1;
        }
        if (*count == PROTOSRC_MAX) {
            err_set(err, errlen, "%s: at most %d", name, PROTOSRC_MAX);
            return -1;
        }
        into[(*count)++] = v ? v : argv[++i];
    }
    while (i < *argc)
        argv[out++] = argv[i++];
    argv[out] = NULL;
    *argc = out;
    return 0;
}

bool protosrc_given(const protosrc *s) { return s->nfiles > 0 || s->nsets > 0; }

int protosrc_load(const protosrc *s, char *err, size_t errlen)
{
    buf set;
    buf_init(&set, PROTOC_MAX_SET);
    int rc = 0;
    if (s->nfiles > 0) {
        rc = protoc_compile(s->files, s->nfiles, s->paths, s->npaths, &set, err, errlen);
        if (rc == 0 && pbdesc_add_set(buf_data(&set), buf_size(&set), err, errlen) < 0)
            rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < s->nsets; i++) {
        char why[512];
        buf_clear(&set);
        if (buf_read_file(&set, s->sets[i], err, errlen) < 0)
            rc = -1;
        else if (pbdesc_add_set(buf_data(&set), buf_size(&set), why, sizeof why) < 0) {
            err_set(err, errlen, "%s: %s", s->sets[i], why);
            rc = -1;
        }
    }
    buf_done(&set);
    char missing[512];
    if (rc == 0 && (s->nfiles || s->nsets) && pbdesc_link(err, errlen) < 0)
        rc = -1;
    if (rc == 0 && pbdesc_missing_import(missing, sizeof missing)) {
        err_set(err, errlen, "the descriptor set lacks %s, which its files import (make it with --include_imports)",
                missing);
        rc = -1;
    }
    return rc;
}

/* The service a symbol belongs to when it names a method ("pkg.Svc/Method" -> "pkg.Svc"),
 * else the symbol itself; a leading '/' dropped. */
static void symbol_to_ask(const char *symbol, char *out, size_t cap)
{
    if (symbol[0] == '/')
        symbol++;
    const char *slash = strrchr(symbol, '/');
    snprintf(out, cap, "%.*s", (int)(slash ? (size_t)(slash - symbol) : strlen(symbol)), symbol);
}

/* Loads symbol's files from reflection; a name without a package is also asked with a
 * leading dot, the only spelling grpc-js's reflection knows it by (it lists ".sum"). */
static reflect_status ask_symbol(grpcreflect *r, const char *symbol, char *err, size_t errlen)
{
    reflect_status st = grpcreflect_load_symbol(r, symbol, err, errlen);
    if (st == REFLECT_NOT_FOUND && !strchr(symbol, '.')) {
        char dotted[520];
        snprintf(dotted, sizeof dotted, ".%s", symbol);
        char why[512];
        if (grpcreflect_load_symbol(r, dotted, why, sizeof why) == REFLECT_OK)
            st = REFLECT_OK;
    }
    return st;
}

learn_status protosrc_learn(const protosrc *s, const char *addr, const char *symbol, int timeout_ms,
                            const char **how, char *err, size_t errlen)
{
    *how = "";
    if (catalog_find_grpc(symbol) || pbdesc_knows(symbol) || pbdesc_method(symbol))
        return LEARN_KNOWN;
    if (protosrc_given(s) || !addr)
        return LEARN_UNKNOWN;
    char ask[512];
    symbol_to_ask(symbol, ask, sizeof ask);
    grpcreflect *r = grpcreflect_new(addr, timeout_ms, err, errlen);
    if (!r)
        return LEARN_FAILED;
    reflect_status st = ask_symbol(r, ask, err, errlen);
    if (st == REFLECT_NOT_FOUND && strchr(ask, '.') && !strchr(symbol, '/')) {
        /* "pkg.Svc.Method": the service is what comes before the last dot */
        *strrchr(ask, '.') = '\0';
        st = ask_symbol(r, ask, err, errlen);
    }
    static char said[64];
    if (grpcreflect_service(r)) {
        const char *v = strrchr(grpcreflect_service(r), '.');
        snprintf(said, sizeof said, "%s", v ? v + 1 : grpcreflect_service(r));
        *how = said;
    }
    grpcreflect_free(r);
    if (st == REFLECT_OK)
        return pbdesc_knows(symbol) || pbdesc_method(symbol) ? LEARN_KNOWN : LEARN_UNKNOWN;
    return st == REFLECT_NOT_FOUND || st == REFLECT_UNSUPPORTED ? LEARN_UNKNOWN : LEARN_FAILED;
}
