/* cmd_explain.c -- `workbench explain gob|json|grpc|dns [FILE]`: explains captured bytes;
 * `workbench explain FILE.pcap`: every RPC call in a capture file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/i18n.h"
#include "base/numopt.h"
#include "capture/pcapin.h"
#include "commands.h"
#include "protosrc.h"
#include "wire/wire.h"

#define MAX_INPUT (64u << 20)
#define MAX_PORTS 16

static void usage(FILE *f)
{
    fprintf(f,
            _("Usage: workbench explain gob|json|grpc|dns [--request|--reply] [FILE]\n"
            "Explains every byte of a captured net/rpc (gob), JSON-RPC or gRPC stream,\n"
            "one direction of one connection, or of one DNS or mDNS message (a UDP\n"
            "payload), read from FILE or from standard input. The\n"
            "direction is guessed from the bytes unless given. At most %d spans are\n"
            "explained in detail (a whole call has far fewer); the rest are counted in one\n"
            "summary line, and the byte totals still cover every byte.\n\n"
            "Options:\n"
            "      --request     the bytes are what a client sent\n"
            "      --reply       the bytes are what a server sent\n"
            "      --path PATH   gRPC replies: the method called, e.g.\n"
            "                    /helloworld.Greeter/SayHello, so the messages can be decoded\n"
            "                    with their types (requests carry their own :path)\n"
            "      --color WHEN  auto (default), always, never\n\n"
            "Example:\n"
            "  echo '{\"method\":\"hello.HelloWorld\",\"params\":[\"李白\"],\"id\":0}' |\n      workbench explain json\n"),
            EXPLAIN_MAX_SPANS);
    fputs(_("\nUsage: workbench explain [gob|json|grpc] FILE.pcap [--port P]... [--wire]\n"
            "A capture file (pcap or pcapng, as tcpdump -w and tshark -w write them):\n"
            "every RPC call in it, one line each as `workbench sniff` shows them, then\n"
            "a summary. A format keeps only that protocol's connections.\n"
            "      --port P      only connections to or from port P (repeatable)\n"
            "      --wire        also every byte of each request and reply, explained\n"
            "  workbench explain calls.pcap --port 8080 --wire\n"), f);
    fputs(_("\ngRPC messages of a service the workbench was not built with are decoded\n"
            "with their field names given its .proto files:\n"), f);
    fputs(_(PROTOSRC_HELP), f);
}

/* Guesses the direction: replies carry "result"/"error" (JSON) or a Response header (gob);
 * an HTTP/2 client starts with the connection preface. */
static bool looks_like_reply(rpc_proto p, const buf *b)
{
    if (p == PROTO_GRPC)
        return buf_size(b) < 3 || memcmp(buf_data(b), "PRI", 3) != 0;
    const char *needle = p == PROTO_GOB ? "Response" : "\"result\"";
    return memmem(buf_data(b), buf_size(b), needle, strlen(needle)) != NULL ||
           (p == PROTO_JSON && !memmem(buf_data(b), buf_size(b), "\"method\"", 8) &&
            memmem(buf_data(b), buf_size(b), "\"error\"", 7));
}

static int add_port(const char *s, uint16_t *ports, size_t *n)
{
    int port;
    if (numopt_int(s, 1, 65535, &port) < 0) {
        fprintf(stderr, _("workbench explain: --port wants a port from 1 to 65535, not \"%s\"\n"), s);
        return -1;
    }
    if (*n == MAX_PORTS) {
        fprintf(stderr, _("workbench explain: at most %d ports\n"), MAX_PORTS);
        return -1;
    }
    ports[(*n)++] = (uint16_t)port;
    return 0;
}

static bool is_format(const char *s)
{
    static const char *const names[] = {"gob", "json", "jsonrpc", "grpc", "h2", "dns", "mdns"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return true;
    return false;
}

/* The capture file named by the arguments left after the options: FILE alone, or FORMAT
 * FILE with a format of a TCP protocol. NULL when the file is not a capture. */
static const char *capture_arg(int argc, char **argv)
{
    const char *path = NULL;
    if (argc - optind == 1 && !is_format(argv[optind]))
        path = argv[optind];
    else if (argc - optind == 2 && is_format(argv[optind]) && strcmp(argv[optind], "dns") != 0 &&
             strcmp(argv[optind], "mdns") != 0)
        path = argv[optind + 1];
    if (!path || strcmp(path, "-") == 0)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return pcapin_is_capture(head, n) ? path : NULL;
}

/* Explains the bytes of path (NULL or "-": standard input) as format p (or DNS), one
 * direction: dir 0 requests, 1 replies, -1 guessed. Returns the exit code. */
static int explain_bytes(rpc_proto p, bool dns, int dir, const char *path_hint, const char *path,
                         const char *color)
{
    FILE *f = path && strcmp(path, "-") != 0 ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, _("workbench explain: cannot open %s: %s\n"), path, strerror(errno));
        return EXIT_FAILED;
    }
    buf in;
    buf_init(&in, MAX_INPUT);
    int r = buf_read_stream(&in, f);
    if (f != stdin)
        fclose(f);
    if (r == BUF_NO_MEMORY) {
        fprintf(stderr, _("workbench explain: out of memory reading %s\n"), path ? path : "stdin");
        buf_done(&in);
        return EXIT_FAILED;
    }
    if (r < 0) {
        fprintf(stderr, _("workbench explain: cannot read %s (over %u bytes?)\n"),
                path ? path : "stdin", MAX_INPUT);
        buf_done(&in);
        return EXIT_FAILED;
    }
    bool reply = dir >= 0 ? dir == 1 : looks_like_reply(p, &in);
    explain_style style;
    if (wire_style(stdout, color, &style) < 0) {
        fprintf(stderr, "%s", _("workbench explain: --color wants auto, always or never\n"));
        buf_done(&in);
        return EXIT_USAGE;
    }
    if (buf_size(&in) == 0) {
        fprintf(stderr, _("workbench explain: no bytes to explain in %s\n"),
                path ? path : _("standard input"));
        buf_done(&in);
        return EXIT_FAILED;
    }
    if (dns) {
        r = wire_print_dns(stdout, _("message"), buf_data(&in), buf_size(&in), &style);
        fputs(_("   framing: the header, counts, lengths and pointers; type information: record\n"
                "   types and classes; payload: names, TTLs and record data.\n"), stdout);
        buf_done(&in);
        return r < 0 ? EXIT_FAILED : EXIT_OK;
    }
    r = wire_print(stdout, reply ? _("replies") : _("requests"), p, reply, path_hint, buf_data(&in),
                   buf_size(&in), &style);
    wire_legend(stdout, &style);
    const uint8_t *b = buf_data(&in);
    if (p == PROTO_GOB && (b[0] == '{' || b[0] == '['))
        fprintf(stderr, "%s",
                _("workbench explain: these bytes look like JSON; try: workbench explain json\n"));
    buf_done(&in);
    return r < 0 ? EXIT_FAILED : EXIT_OK;
}

int cmd_explain(int argc, char **argv)
{
    static const struct option opts[] = {{"request", no_argument, NULL, 'q'},
                                         {"reply", no_argument, NULL, 'r'},
                                         {"color", required_argument, NULL, 'c'},
                                         {"path", required_argument, NULL, 'p'},
                                         {"port", required_argument, NULL, 'P'},
                                         {"wire", no_argument, NULL, 'w'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int dir = -1;
    const char *path_hint = NULL;
    const char *color = "auto";
    uint16_t ports[MAX_PORTS];
    size_t nports = 0;
    bool wire = false;
    protosrc src;
    char err[1024];
    if (protosrc_take(&argc, argv, &src, err, sizeof err) < 0) {
        fprintf(stderr, "workbench explain: %s\n", err);
        return EXIT_USAGE;
    }
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'q': dir = 0; break;
        case 'r': dir = 1; break;
        case 'c': color = optarg; break;
        case 'p': path_hint = optarg; break;
        case 'w': wire = true; break;
        case 'P':
            if (add_port(optarg, ports, &nports) < 0)
                return EXIT_USAGE;
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (argc - optind < 1 || argc - optind > 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *capture = capture_arg(argc, argv);
    if (capture) {
        if (dir >= 0 || path_hint) {
            fprintf(stderr, "%s", _("workbench explain: --request, --reply and --path are for one "
                                    "direction's bytes; a capture file has both\n"));
            return EXIT_USAGE;
        }
        if (protosrc_load(&src, err, sizeof err) < 0) {
            fprintf(stderr, "workbench explain: %s\n", err);
            return EXIT_USAGE;
        }
        return sniff_capture_file(capture, ports, nports, wire, color,
                                  argc - optind == 2 ? argv[optind] : NULL);
    }
    if (nports || wire) {
        fprintf(stderr, "%s", _("workbench explain: --port and --wire are for a capture file "
                                "(pcap or pcapng)\n"));
        return EXIT_USAGE;
    }
    rpc_proto p = PROTO_JSON;
    bool dns = false;
    if (strcmp(argv[optind], "dns") == 0 || strcmp(argv[optind], "mdns") == 0) {
        dns = true;
    } else if (strcmp(argv[optind], "gob") == 0) {
        p = PROTO_GOB;
    } else if (strcmp(argv[optind], "json") == 0 || strcmp(argv[optind], "jsonrpc") == 0) {
        p = PROTO_JSON;
    } else if (strcmp(argv[optind], "grpc") == 0 || strcmp(argv[optind], "h2") == 0) {
        p = PROTO_GRPC;
    } else if (argc - optind == 1 && access(argv[optind], R_OK) == 0) {
        fprintf(stderr, _("workbench explain: %s is not a capture file (pcap or pcapng); for other "
                          "bytes give their format first: gob, json, grpc or dns\n"),
                argv[optind]);
        return EXIT_USAGE;
    } else {
        fprintf(stderr, _("workbench explain: unknown format \"%s\"; use gob, json, grpc or dns\n"),
                argv[optind]);
        return EXIT_USAGE;
    }
    if (protosrc_load(&src, err, sizeof err) < 0) {
        fprintf(stderr, "workbench explain: %s\n", err);
        return EXIT_USAGE;
    }
    return explain_bytes(p, dns, dir, path_hint, argc - optind == 2 ? argv[optind + 1] : NULL,
                         color);
}
