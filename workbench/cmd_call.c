/* cmd_call.c -- `workbench call URL METHOD ARGS`: one call, its result, and optionally its bytes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/esc.h"
#include "base/net.h"
#include "base/numopt.h"
#include "commands.h"
#include "rpc/rpcclient.h"
#include "wire/jsonval.h"
#include "wire/wire.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: workbench call URL METHOD ARGS [--wire] [--timeout MS]\n"
            "Calls METHOD on the server at URL with ARGS, and prints the result as JSON.\n\n"
            "  URL      json://HOST:PORT   Go's net/rpc/jsonrpc (jsonrpc-server, port 8080)\n"
            "           gob://HOST:PORT    Go's net/rpc with gob (gob-server, port 8081)\n"
            "           grpc://HOST:PORT   gRPC, protobuf over HTTP/2 (grpc-server, port 50051)\n"
            "  METHOD   Service.Method, e.g. Arith.Multiply, hello.HelloWorld; over gRPC also\n"
            "           package.Service/Method, e.g. helloworld.Greeter/SayHello\n"
            "  ARGS     the argument as JSON: '{\"A\":7,\"B\":8}' or '\"李白\"'\n\n"
            "Options:\n"
            "  -w, --wire        print every byte sent and received, explained\n"
            "  -t, --timeout MS  give up after MS milliseconds (default 5000)\n"
            "  -n, --repeat N    make the call N times on the same connection (with --wire\n"
            "                    this shows that gob sends each type definition only once)\n"
            "      --color WHEN  colour the dump: auto (default), always, never\n\n"
            "Exit status: 0 result printed; 1 the server answered with an error;\n"
            "2 bad usage (including an argument the method cannot take);\n"
            "3 the call failed (connection, deadline, garbled reply).\n");
}

int cmd_call(int argc, char **argv)
{
    static const struct option opts[] = {{"wire", no_argument, NULL, 'w'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"color", required_argument, NULL, 'c'},
                                         {"repeat", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool wire = false;
    int timeout = 5000, repeat = 1;
    const char *color = "auto";
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "wt:n:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'w': wire = true; break;
        case 'n':
            if (numopt_int(optarg, 1, 1000, &repeat) < 0) {
                fprintf(stderr, "workbench call: --repeat wants a number from 1 to 1000\n");
                return EXIT_USAGE;
            }
            break;
        case 't':
            if (numopt_int(optarg, 1, 3600000, &timeout) < 0) {
                fprintf(stderr, "workbench call: --timeout wants a positive number of milliseconds\n");
                return EXIT_USAGE;
            }
            break;
        case 'c': color = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (argc - optind != 3) {
        fprintf(stderr, "workbench call: expected URL METHOD ARGS\n\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *url = argv[optind], *name = argv[optind + 1], *args = argv[optind + 2];
    char err[1024];
    explain_style style;
    if (wire_style(stdout, color, &style) < 0) {
        fprintf(stderr, "workbench call: --color wants auto, always or never\n");
        return EXIT_USAGE;
    }
    value *arg = jsonval_parse(args, strlen(args), err, sizeof err);
    if (!arg) {
        fprintf(stderr, "workbench call: ARGS is not JSON: %s\n"
                        "  (a string needs its quotes inside the shell quotes: '\"李白\"')\n", err);
        return EXIT_USAGE;
    }
    rpc_proto proto;
    char addr[300], host[256];
    int port;
    if (rpc_proto_parse_url(url, &proto, addr, sizeof addr, err, sizeof err) < 0 ||
        net_split(addr, host, sizeof host, &port, err, sizeof err) < 0) {
        fprintf(stderr, "workbench call: %s\n", err);
        value_free(arg);
        return EXIT_USAGE;
    }
    rpcclient *c = rpcclient_dial(url, timeout, err, sizeof err);
    if (!c) {
        static const char *const program[] = {[PROTO_JSON] = "jsonrpc-server", [PROTO_GOB] = "gob-server",
                                              [PROTO_GRPC] = "grpc-server"};
        if (strstr(err, "refused"))
            fprintf(stderr,
                    "workbench call: %s\n  (is the server running? `make servers` starts the sample servers;\n"
                    "  bin/%s --listen %s starts this one)\n",
                    err, program[proto], addr);
        else
            fprintf(stderr, "workbench call: %s\n", err);
        value_free(arg);
        return EXIT_FAILED;
    }
    rpcclient_capture(c, wire);
    value *reply = NULL;
    call_status st = CALL_OK;
    for (int i = 0; i < repeat && st == CALL_OK; i++) {
        value_free(reply);
        reply = NULL;
        st = rpcclient_call(c, name, arg, timeout, &reply, err, sizeof err);
    }
    if (wire) {
        const buf *sent = rpcclient_sent(c), *recv = rpcclient_received(c);
        explain es, er;
        explain_init(&es);
        explain_init(&er);
        wire_explain_pair(rpcclient_proto(c), buf_data(sent), buf_size(sent), buf_data(recv),
                          buf_size(recv), &es, &er);
        wire_print_explained(stdout, "sent", rpcclient_proto(c), buf_data(sent), buf_size(sent), &es, &style);
        wire_print_explained(stdout, "received", rpcclient_proto(c), buf_data(recv), buf_size(recv), &er, &style);
        wire_legend(stdout, &style);
        explain_done(&es);
        explain_done(&er);
    }
    fflush(stdout); /* the dump comes before any error message */
    int rc = EXIT_OK;
    char shown[4 * sizeof err]; /* what the server said, escaped for the terminal */
    if (st != CALL_OK)
        esc_str(shown, sizeof shown, err);
    if (st == CALL_OK) {
        buf out;
        buf_init(&out, 0);
        jsonval_write(reply, &out);
        printf("%.*s\n", (int)buf_size(&out), (const char *)buf_data(&out));
        buf_done(&out);
    } else if (st == CALL_REMOTE_ERROR) {
        fprintf(stderr, "error from server: %s\n", shown);
        rc = EXIT_REMOTE_ERROR;
    } else if (st == CALL_BAD_ARGUMENT) {
        fprintf(stderr, "workbench call: %s\n", shown);
        rc = EXIT_USAGE;
    } else {
        fprintf(stderr, "workbench call: %s\n", shown);
        rc = EXIT_FAILED;
    }
    value_free(reply);
    value_free(arg);
    rpcclient_free(c);
    return rc;
}
