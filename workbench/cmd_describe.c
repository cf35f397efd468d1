/* cmd_describe.c -- `workbench list` and `workbench describe`: a gRPC server's services, methods and
 * messages, from its reflection or from .proto files, as grpcurl's list and describe print them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "base/numopt.h"
#include "commands.h"
#include "protosrc.h"
#include "rpc/grpcreflect.h"
#include "wire/pbdesc.h"
#include "wire/rpc_proto.h"

enum { MAX_SERVICES = 1024 };

static void usage(FILE *f, bool list)
{
    if (list)
        fputs(_("Usage: workbench list [grpc://HOST:PORT] [SERVICE] [options]\n"
                "Lists the services of a gRPC server, or the methods of one SERVICE, as\n"
                "grpcurl's list does: from the server's reflection (v1, else v1alpha), or\n"
                "from --proto/--protoset files (then no server is needed).\n"),
              f);
    else
        fputs(_("Usage: workbench describe [grpc://HOST:PORT] [SYMBOL] [options]\n"
                "Prints the definition of SYMBOL (a service, method, message, enum or field)\n"
                "as protobuf source, as grpcurl's describe does; without SYMBOL, every\n"
                "service. Types come from the server's reflection or from --proto files.\n"),
              f);
    fputs(_("\nOptions:\n"
            "  -t, --timeout MS     give up after MS milliseconds (default 5000)\n"),
          f);
    fputs(_(PROTOSRC_HELP), f);
    fputs(list ? _("\nExamples:\n"
                   "  workbench list grpc://127.0.0.1:50051\n"
                   "  workbench list grpc://127.0.0.1:50051 helloworld.Greeter\n"
                   "  workbench list --proto student.proto\n")
               : _("\nExamples:\n"
                   "  workbench describe grpc://127.0.0.1:50051 helloworld.Greeter\n"
                   "  workbench describe grpc://127.0.0.1:50051 helloworld.HelloRequest\n"
                   "  workbench describe --proto student.proto pb.Student\n"),
          f);
    fputs(_("\nExit status: 0 printed; 1 the server or the files do not know the symbol;\n"
            "2 bad usage; 3 no answer (connection, deadline, no reflection).\n"),
          f);
}

typedef struct describe_opts {
    protosrc src;
    int timeout;
    char addr[300]; /* "" without a server */
    const char *symbol; /* NULL: all */
} describe_opts;

/* Fills o from argv. Returns -1 to go on, or the exit code. */
static int parse_options(int argc, char **argv, bool list, describe_opts *o)
{
    static const struct option opts[] = {{"timeout", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *cmd = list ? "list" : "describe";
    char err[512];
    memset(o, 0, sizeof *o);
    o->timeout = 5000;
    if (protosrc_take(&argc, argv, &o->src, err, sizeof err) < 0) {
        fprintf(stderr, "workbench %s: %s\n", cmd, err);
        return EXIT_USAGE;
    }
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            if (numopt_int(optarg, 1, 3600000, &o->timeout) < 0) {
                fprintf(stderr, _("workbench %s: --timeout wants a positive number of milliseconds\n"), cmd);
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout, list); return EXIT_OK;
        default: usage(stderr, list); return EXIT_USAGE;
        }
    }
    int i = optind;
    if (i < argc && strstr(argv[i], "://")) {
        rpc_proto proto;
        if (rpc_proto_parse_url(argv[i], &proto, o->addr, sizeof o->addr, err, sizeof err) < 0 ||
            proto != PROTO_GRPC) {
            fprintf(stderr, _("workbench %s: %s: only a gRPC server describes itself: grpc://HOST:PORT\n"), cmd,
                    argv[i]);
            return EXIT_USAGE;
        }
        i++;
    }
    if (i < argc)
        o->symbol = argv[i++];
    if (i < argc || (!o->addr[0] && !protosrc_given(&o->src))) {
        fprintf(stderr, i < argc ? _("workbench %s: too many arguments\n\n")
                                 : _("workbench %s: give a server, grpc://HOST:PORT, or --proto files\n\n"),
                cmd);
        usage(stderr, list);
        return EXIT_USAGE;
    }
    return -1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The services, sorted, into lines (pointing into names): the server's list, or the
 * files'. Returns -1 to go on, or the exit code after saying why not. */
static int gather_services(const describe_opts *o, const char *cmd, buf *names, char **lines, size_t *n)
{
    char err[1024];
    *n = 0;
    if (!protosrc_given(&o->src)) {
        grpcreflect *r = grpcreflect_new(o->addr, o->timeout, err, sizeof err);
        reflect_status st = r ? grpcreflect_services(r, names, err, sizeof err) : REFLECT_FAILED;
        grpcreflect_free(r);
        if (st != REFLECT_OK) {
            fprintf(stderr, "workbench %s: %s\n", cmd, err);
            return EXIT_FAILED;
        }
    } else {
        size_t k;
        const char *const *all = pbdesc_services(&k);
        for (size_t i = 0; i < k; i++)
            buf_printf(names, "%s\n", all[i]);
    }
    if (buf_putc(names, 0) < 0) {
        fprintf(stderr, _("workbench %s: out of memory\n"), cmd);
        return EXIT_FAILED;
    }
    for (char *s = (char *)buf_data(names), *nl; *n < MAX_SERVICES && (nl = strchr(s, '\n')); s = nl + 1) {
        *nl = '\0';
        lines[(*n)++] = s;
    }
    qsort(lines, *n, sizeof *lines, compare_names);
    return -1;
}

/* Learns symbol's types from the files or the server; says why not on stderr. */
static int learn(const describe_opts *o, const char *cmd, const char *symbol)
{
    char err[1024], shown[1200];
    const char *how;
    learn_status st = protosrc_learn(&o->src, o->addr[0] ? o->addr : NULL, symbol, o->timeout, &how, err, sizeof err);
    if (st == LEARN_KNOWN)
        return -1;
    esc_str(shown, sizeof shown, symbol);
    if (st == LEARN_FAILED)
        fprintf(stderr, "workbench %s: %s\n", cmd, err);
    else if (protosrc_given(&o->src))
        fprintf(stderr, _("workbench %s: the given files do not define %s\n"), cmd, shown);
    else
        fprintf(stderr, _("workbench %s: the server's reflection does not know %s (%s)\n"), cmd, shown, err);
    return st == LEARN_FAILED ? EXIT_FAILED : EXIT_REMOTE_ERROR;
}

static int list_methods(const describe_opts *o)
{
    int rc = learn(o, "list", o->symbol);
    if (rc >= 0)
        return rc;
    size_t n = 0;
    for (const pb_method *m; (m = pbdesc_service_method(o->symbol, n)); n++)
        printf("%s.%s\n", m->service, m->name);
    if (n == 0) {
        char shown[600];
        fprintf(stderr, _("workbench list: %s is not a service\n"), esc_str(shown, sizeof shown, o->symbol));
        return EXIT_REMOTE_ERROR;
    }
    return EXIT_OK;
}

static int describe_one(const describe_opts *o, const char *symbol)
{
    int rc = learn(o, "describe", symbol);
    if (rc >= 0)
        return rc;
    char err[512];
    buf out;
    buf_init(&out, 4 * 1024 * 1024);
    if (pbdesc_describe(symbol, &out, err, sizeof err) < 0) {
        fprintf(stderr, "workbench describe: %s\n", err);
        buf_done(&out);
        return EXIT_REMOTE_ERROR;
    }
    fwrite(buf_data(&out), 1, buf_size(&out), stdout);
    buf_done(&out);
    return EXIT_OK;
}

static int run(int argc, char **argv, bool list)
{
    describe_opts o;
    int rc = parse_options(argc, argv, list, &o);
    if (rc >= 0)
        return rc;
    char err[1024];
    if (protosrc_load(&o.src, err, sizeof err) < 0) {
        fprintf(stderr, "workbench %s: %s\n", list ? "list" : "describe", err);
        return EXIT_USAGE;
    }
    if (o.symbol)
        return list ? list_methods(&o) : describe_one(&o, o.symbol);
    buf names;
    buf_init(&names, 1024 * 1024);
    static char *lines[MAX_SERVICES];
    size_t n;
    rc = gather_services(&o, list ? "list" : "describe", &names, lines, &n);
    for (size_t i = 0; rc < 0 && i < n; i++) {
        char shown[600];
        if (list)
            printf("%s\n", esc_str(shown, sizeof shown, lines[i]));
        else if (describe_one(&o, lines[i]) != EXIT_OK)
            rc = EXIT_FAILED;
    }
    buf_done(&names);
    return rc < 0 ? EXIT_OK : rc;
}

int cmd_list(int argc, char **argv) { return run(argc, argv, true); }

int cmd_describe(int argc, char **argv) { return run(argc, argv, false); }
