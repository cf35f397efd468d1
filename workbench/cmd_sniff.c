/* cmd_sniff.c -- `workbench sniff`: the RPC calls between other programs, live from an
 * interface, one line each as they happen; also how `workbench explain FILE.pcap` shows
 * the calls of a capture file. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "base/numopt.h"
#include "capture/pcapin.h"
#include "capture/sniff.h"
#include "commands.h"
#include "wire/explain.h"
#include "wire/wire.h"

enum {
    MAX_PORTS = 16,
    KEEP_BYTES = 1 << 20, /* kept per direction of a connection for --wire */
    SHOW_MAX = 4096,      /* bytes of one argument, result or note printed */
    INDENT = 14,          /* the columns before a call's second row: the time's */
};

/* How calls are shown, and what was shown so far. */
typedef struct view {
    FILE *out;
    bool wrap;           /* a terminal: rows wrapped to width */
    size_t width;
    size_t used;         /* columns used on the current row */
    size_t pend;         /* spaces not yet printed: a word must follow on the row */
    bool wire;
    explain_style st;
    sniff_proto only;    /* SNIFF_UNKNOWN: every protocol */
    long count;          /* calls to show before stopping; -1: no limit */
    uint64_t shown;      /* calls shown */
    bool done;           /* count reached: nothing more is shown */
    int64_t now_us;      /* capture time of the segment being handled */
} view;

static volatile sig_atomic_t stop_asked;
static pcapin *live_in;

static void on_signal(int sig)
{
    (void)sig;
    stop_asked = 1;
    if (live_in)
        pcapin_break(live_in);
}

static void usage(FILE *f)
{
    fputs(_("Usage: workbench sniff [--port P]... [--interface IF] [--wire] [--count N]\n"
            "                       [--seconds S] [--color WHEN]\n"
            "Watches the RPC calls other programs make over TCP and prints each call as\n"
            "it happens: the method, its arguments, the result or error, the status and\n"
            "the latency. The protocol of each connection is recognised by its bytes, not\n"
            "its port: Go's net/rpc (gob), JSON-RPC, gRPC over HTTP/2 and HTTP/1.1. A\n"
            "connection that began before the capture is followed too, as far as its\n"
            "bytes can be read; each call says what is missing and why.\n\n"
            "Options:\n"
            "  --port P        only connections to or from port P (repeatable; default:\n"
            "                  every TCP connection)\n"
            "  --interface IF  the interface (default: lo, the loopback)\n"
            "  --wire          also every byte of each request and reply, explained\n"
            "  --count N       stop after N calls\n"
            "  --seconds S     stop after S seconds (Ctrl-C stops it any time)\n"
            "  --color WHEN    auto (default), always, never\n\n"
            "Capturing needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN.\n"
            "`workbench explain FILE.pcap` shows the calls of a capture file the same way\n"
            "(tcpdump -w FILE, tshark -w FILE).\n\n"
            "Examples:\n"
            "  workbench sniff --port 8080           Go's net/rpc server of the tutorial\n"
            "  workbench sniff --port 50051 --wire   a gRPC server, every byte explained\n"
            "  workbench sniff --count 10 --seconds 30\n"),
          f);
}

/* ---- rows: text wrapped to the terminal's width, coloured ---- */

static void newrow(view *v, size_t indent)
{
    fprintf(v->out, "\n%*s", (int)indent, "");
    v->used = indent;
    v->pend = 0;
}

/* Prints one character (n bytes, w columns), starting a new row indented by indent when
 * it would pass the width. */
static void put_char(view *v, const char *s, size_t n, size_t w, size_t indent)
{
    if (v->wrap && v->used > indent && v->used + w > v->width)
        newrow(v, indent);
    fwrite(s, 1, n, v->out);
    v->used += w;
}

/* The bytes of the full-width punctuation mark at s that must not start a row, or 0. */
static size_t nostart_len(const char *s)
{
    static const char *const marks[] = {"，", "。", "：", "；", "、", "）", "！", "？"};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (strncmp(s, marks[i], strlen(marks[i])) == 0)
            return strlen(marks[i]);
    return 0;
}

/* The bytes of the word at s (not a space): up to a space, or through a comma; a wide
 * character (Chinese) is a word of its own, with the full-width punctuation after it, so
 * rows of Chinese are cut between any two characters, never before a comma. */
static size_t word_len(const char *s)
{
    size_t n = 0, len = strlen(s), pl;
    while (n < len && s[n] != ' ') {
        size_t cl = esc_utf8_len((const unsigned char *)s + n, len - n);
        if (cl == 0)
            cl = 1;
        bool wide = utf8_width(s + n, cl) == 2;
        if (wide && n > 0)
            return n; /* a word of narrow characters ends before a wide one */
        n += cl;
        if (s[n - 1] == ',')
            return n; /* the comma stays on the row it ends */
        if (wide) {
            while ((pl = nostart_len(s + n)) > 0)
                n += pl;
            return n;
        }
    }
    return n;
}

/* Prints s in colour sgr (an SGR code such as "1", or NULL). On a terminal, rows are cut
 * at a space (which is not printed) or after a comma where the next word would pass the
 * width, or anywhere in a word longer than a row; the rows after the first are indented
 * by indent columns. Spaces wait until a word follows them on the same row. */
static void emit(view *v, const char *s, const char *sgr, size_t indent)
{
    if (sgr && v->st.color)
        fprintf(v->out, "\033[%sm", sgr);
    while (*s) {
        if (*s == ' ') {
            v->pend++;
            s++;
            continue;
        }
        size_t len = word_len(s);
        size_t w = utf8_width(s, len);
        if (v->wrap && v->used > indent && v->used + v->pend + w > v->width)
            newrow(v, indent);
        fprintf(v->out, "%*s", (int)v->pend, "");
        v->used += v->pend;
        v->pend = 0;
        if (!v->wrap || v->used + w <= v->width) {
            fwrite(s, 1, len, v->out);
            v->used += w;
        } else { /* longer than a row: cut between characters */
            for (size_t i = 0; i < len;) {
                size_t cl = esc_utf8_len((const unsigned char *)s + i, len - i);
                if (cl == 0)
                    cl = 1;
                put_char(v, s + i, cl, utf8_width(s + i, cl), indent);
                i += cl;
            }
        }
        s += len;
    }
    if (sgr && v->st.color)
        fputs("\033[0m", v->out);
}

static void endrow(view *v)
{
    fputc('\n', v->out);
    v->used = 0;
    v->pend = 0;
}

/* A peer's text made safe to print, at most SHOW_MAX bytes of it. */
static const char *safe(char *out, size_t cap, const char *s)
{
    return esc_bytes(out, cap, s, strlen(s));
}

/* "12:04:05.123", the local time of a capture timestamp. */
static char *stamp(char *out, size_t cap, int64_t us)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    snprintf(out, cap, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(us % 1000000 / 1000));
    return out;
}

/* The start of every line: the time, a tag of 4 columns, and client -> server. */
static void lead(view *v, int64_t us, const char *tag, const char *client, const char *server)
{
    char t[32], c[128], s[128], row[320];
    size_t tw = utf8_width(tag, strlen(tag)); /* a translated tag may be wide characters */
    snprintf(row, sizeof row, "%s  %s%*s  ", stamp(t, sizeof t, us), tag,
             tw < 4 ? (int)(4 - tw) : 0, "");
    v->used = 0;
    emit(v, row, NULL, INDENT);
    snprintf(row, sizeof row, "%s -> %s", safe(c, sizeof c, client), safe(s, sizeof s, server));
    emit(v, row, NULL, INDENT);
}

static void latency(char *out, size_t cap, int64_t us)
{
    if (us < 1000)
        snprintf(out, cap, "%.2f ms", (double)us / 1000);
    else if (us < 1000000)
        snprintf(out, cap, "%.1f ms", (double)us / 1000);
    else
        snprintf(out, cap, "%.2f s", (double)us / 1000000);
}

/* ---- what the sniffer hands over ---- */

static void explain_wire(view *v, const sniff_call *c)
{
    explain req, rep;
    explain_init(&req);
    explain_init(&rep);
    char title[128];
    if (sniff_explain_call(c, &req, &rep) < 0) {
        fprintf(v->out, "%*s%s\n", INDENT, "",
                _("(its bytes were not kept: 1 MiB of each direction is kept)"));
    } else {
        rpc_proto p = sniff_dump_proto(c->proto);
        snprintf(title, sizeof title, _("call %" PRIu64 ": request"), c->n);
        wire_print_explained(v->out, title, p, c->c2s + c->req_off, c->req_end - c->req_off,
                             &req, &v->st);
        if (c->rep_end > c->rep_off) {
            snprintf(title, sizeof title, _("call %" PRIu64 ": reply"), c->n);
            wire_print_explained(v->out, title, p, c->s2c + c->rep_off,
                                 c->rep_end - c->rep_off, &rep, &v->st);
        }
    }
    explain_done(&req);
    explain_done(&rep);
}

static void on_call(void *ud, const sniff_call *c)
{
    view *v = ud;
    if (v->done || (v->only != SNIFF_UNKNOWN && c->proto != v->only))
        return;
    static char text[SHOW_MAX];
    char row[96];
    lead(v, c->start_us, sniff_proto_name(c->proto), c->client, c->server);
    emit(v, "  ", NULL, INDENT);
    emit(v, *c->method ? safe(text, sizeof text, c->method) : "?", "1", INDENT);
    if (v->wrap)
        newrow(v, INDENT);
    else
        emit(v, "  ", NULL, INDENT);
    if (c->args) { /* none: a request without a body, or one sent before the capture */
        emit(v, safe(text, sizeof text, c->args), NULL, INDENT);
        emit(v, " ", NULL, INDENT);
    }
    emit(v, "-> ", NULL, INDENT);
    bool err_shown = false;
    if (c->result) {
        emit(v, safe(text, sizeof text, c->result), NULL, INDENT);
    } else if (c->error) {
        emit(v, _("error: "), "31", INDENT);
        emit(v, safe(text, sizeof text, c->error), "31", INDENT);
        err_shown = true;
    } else {
        emit(v, "?", NULL, INDENT);
    }
    if (c->status && !(err_shown && strcmp(c->status, "error") == 0)) {
        emit(v, "  ", NULL, INDENT);
        bool good = strcmp(c->status, "ok") == 0 || strcmp(c->status, "OK") == 0 ||
                    strncmp(c->status, "2", 1) == 0;
        emit(v, safe(text, sizeof text, c->status), good ? NULL : "31", INDENT);
    }
    if (c->end_us > 0 && c->end_us >= c->start_us) {
        latency(row, sizeof row, c->end_us - c->start_us);
        emit(v, "  ", NULL, INDENT);
        emit(v, row, NULL, INDENT);
    }
    if (c->note) {
        newrow(v, INDENT);
        emit(v, _("note: "), "2", INDENT);
        emit(v, safe(text, sizeof text, c->note), "2", INDENT);
    }
    endrow(v);
    if (v->wire)
        explain_wire(v, c);
    fflush(v->out);
    v->shown++;
    if (v->count >= 0 && v->shown >= (uint64_t)v->count)
        v->done = true;
}

static void on_conn(void *ud, const sniff_conn_event *ev)
{
    view *v = ud;
    if (v->done || (v->only != SNIFF_UNKNOWN && ev->proto != v->only))
        return;
    char text[1024];
    lead(v, v->now_us, _("conn"), ev->client, ev->server);
    emit(v, "  ", NULL, INDENT);
    emit(v, safe(text, sizeof text, ev->text ? ev->text : ""), "2", INDENT);
    endrow(v);
    fflush(v->out);
}

/* ---- the run: a capture file or a live interface ---- */

static bool port_wanted(const tcp_seg *s, const uint16_t *ports, size_t n)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (s->sport == ports[i] || s->dport == ports[i])
            return true;
    return false;
}

/* Sets up v for printing on stdout. Returns 0, or -1 when color is not a known WHEN. */
static int view_init(view *v, const char *color, bool wire)
{
    memset(v, 0, sizeof *v);
    v->out = stdout;
    v->wire = wire;
    v->count = -1;
    if (wire_style(stdout, color, &v->st) < 0)
        return -1;
    v->wrap = isatty(STDOUT_FILENO);
    v->width = v->st.width >= 40 ? (size_t)v->st.width : 80;
    return 0;
}

static void summary(const view *v, const sniff_stats *ss, const char *last_label, uint64_t last)
{
    fprintf(v->out, _("connections: %" PRIu64 " (not RPC: %" PRIu64 "), calls: %" PRIu64
                      ", bytes lost in gaps: %" PRIu64 ", %s: %" PRIu64 "\n"),
            ss->conns, ss->unknown_conns, v->shown, ss->gap_bytes, last_label, last);
    if (v->wire)
        wire_legend(v->out, &v->st);
}

static sniff *sniff_open(view *v, const uint16_t *ports, size_t nports)
{
    sniff_opts so = {.keep_bytes = v->wire ? KEEP_BYTES : 0,
                     .server_ports = nports ? ports : NULL,
                     .nserver_ports = nports};
    sniff_hooks h = {.call = on_call, .conn = on_conn};
    return sniff_new(&so, &h, v);
}

int sniff_capture_file(const char *path, const uint16_t *ports, size_t nports, bool wire,
                       const char *color, const char *only)
{
    view v;
    if (view_init(&v, color, wire) < 0) {
        fprintf(stderr, "%s", _("workbench explain: --color wants auto, always or never\n"));
        return EXIT_USAGE;
    }
    if (only)
        v.only = strcmp(only, "gob") == 0    ? SNIFF_GOB
                 : strcmp(only, "grpc") == 0 || strcmp(only, "h2") == 0 ? SNIFF_GRPC
                                             : SNIFF_JSONRPC;
    char err[512];
    pcapin *in = pcapin_open_file(path, err, sizeof err);
    if (!in) {
        fprintf(stderr, "workbench explain: %s\n", err);
        return EXIT_FAILED;
    }
    sniff *s = sniff_open(&v, ports, nports);
    if (!s) {
        fprintf(stderr, "%s", _("workbench explain: out of memory\n"));
        pcapin_free(in);
        return EXIT_FAILED;
    }
    tcp_seg seg;
    int r;
    while ((r = pcapin_next(in, &seg, 0, err, sizeof err)) == 1) {
        if (!port_wanted(&seg, ports, nports))
            continue;
        v.now_us = seg.ts_us;
        sniff_add(s, &seg);
    }
    sniff_finish(s, v.now_us);
    sniff_stats ss;
    sniff_get_stats(s, &ss);
    pcapin_stats ps;
    pcapin_get_stats(in, &ps);
    summary(&v, &ss, _("packets read"), ps.packets);
    sniff_free(s);
    pcapin_free(in);
    if (r == -2) {
        fprintf(stderr, "workbench explain: %s: %s\n", path, err);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* Reads segments until the input ends, a signal, --count or the deadline (end_ms on the
 * monotonic clock; 0: none). Returns 0, or -1 with err when reading failed. */
static int live_loop(pcapin *in, sniff *s, view *v, uint64_t end_ms, char *err, size_t errlen)
{
    uint64_t last_tick = clock_now_ms();
    while (!stop_asked && !v->done) {
        int wait = 250;
        if (end_ms) {
            uint64_t now = clock_now_ms();
            if (now >= end_ms)
                break;
            wait = end_ms - now < 250 ? (int)(end_ms - now) : 250;
        }
        tcp_seg seg;
        int r = pcapin_next(in, &seg, wait, err, errlen);
        if (r == 1) {
            v->now_us = seg.ts_us;
            sniff_add(s, &seg);
        } else if (r == -1) {
            break;
        } else if (r == -2) {
            return -1;
        }
        if (clock_now_ms() - last_tick >= 1000) {
            last_tick = clock_now_ms();
            v->now_us = clock_wall_ms() * 1000;
            sniff_tick(s, v->now_us);
        }
    }
    return 0;
}

/* Takes sniff's options out of argv. Returns -1 when they are not good (said on stderr),
 * 1 for --help, else 0. */
static int parse(int argc, char **argv, uint16_t *ports, size_t *nports, const char **iface,
                 bool *wire, int *count, int *seconds, const char **color)
{
    static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                         {"interface", required_argument, NULL, 'i'},
                                         {"wire", no_argument, NULL, 'w'},
                                         {"count", required_argument, NULL, 'n'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"color", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int ch, port;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            if (numopt_int(optarg, 1, 65535, &port) < 0) {
                fprintf(stderr, _("workbench sniff: --port wants a port from 1 to 65535, not \"%s\"\n"),
                        optarg);
                return -1;
            }
            if (*nports == MAX_PORTS) {
                fprintf(stderr, _("workbench sniff: at most %d ports\n"), MAX_PORTS);
                return -1;
            }
            ports[(*nports)++] = (uint16_t)port;
            break;
        case 'i': *iface = optarg; break;
        case 'w': *wire = true; break;
        case 'c': *color = optarg; break;
        case 'n':
        case 's':
            if (numopt_int(optarg, 1, 1000000, ch == 'n' ? count : seconds) < 0) {
                fprintf(stderr, _("workbench sniff: --%s wants a number from 1 to 1000000\n"),
                        ch == 'n' ? "count" : "seconds");
                return -1;
            }
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

int cmd_sniff(int argc, char **argv)
{
    uint16_t ports[MAX_PORTS];
    size_t nports = 0;
    const char *iface = NULL, *color = "auto";
    bool wire = false;
    int count = -1, seconds = -1;
    int r = parse(argc, argv, ports, &nports, &iface, &wire, &count, &seconds, &color);
    if (r != 0)
        return r > 0 ? EXIT_OK : EXIT_USAGE;
    view v;
    if (view_init(&v, color, wire) < 0) {
        fprintf(stderr, "%s", _("workbench sniff: --color wants auto, always or never\n"));
        return EXIT_USAGE;
    }
    v.count = count;
    char err[1024];
    pcapin *in = pcapin_open_live(iface, ports, nports, err, sizeof err);
    if (!in) {
        fprintf(stderr, "workbench sniff: %s\n", err);
        return EXIT_USAGE;
    }
    sniff *s = sniff_open(&v, ports, nports);
    if (!s) {
        fprintf(stderr, "%s", _("workbench sniff: out of memory\n"));
        pcapin_free(in);
        return EXIT_FAILED;
    }
    live_in = in;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (nports == 0) {
        fprintf(stderr, _("workbench sniff: capturing on %s, every TCP port (Ctrl-C stops)\n"),
                iface ? iface : "lo");
    } else {
        char list[MAX_PORTS * 7] = "";
        for (size_t i = 0; i < nports; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%u", i ? ", " : "",
                     ports[i]);
        fprintf(stderr, _("workbench sniff: capturing on %s, port %s (Ctrl-C stops)\n"),
                iface ? iface : "lo", list);
    }
    uint64_t end_ms = seconds > 0 ? clock_now_ms() + (uint64_t)seconds * 1000 : 0;
    r = live_loop(in, s, &v, end_ms, err, sizeof err);
    if (!v.done) {
        v.now_us = clock_wall_ms() * 1000;
        sniff_finish(s, v.now_us);
    }
    live_in = NULL;
    sniff_stats ss;
    sniff_get_stats(s, &ss);
    pcapin_stats ps;
    pcapin_get_stats(in, &ps);
    summary(&v, &ss, _("packets the kernel dropped"), ps.dropped);
    sniff_free(s);
    pcapin_free(in);
    if (r < 0) {
        fprintf(stderr, "workbench sniff: %s\n", err);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}
