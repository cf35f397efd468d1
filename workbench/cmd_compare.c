/* cmd_compare.c -- `workbench compare METHOD ARGS`: one call in every encoding, bytes side by side. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/i18n.h"
#include "commands.h"
#include "pcapopt.h"
#include "proc/spawn.h"
#include "rpc/rpcclient.h"
#include "wire/explain.h"
#include "wire/jsonval.h"
#include "wire/wire.h"

#define CALLS 2

typedef struct lane {
    const char *label;
    const char *server; /* the program to spawn when no URL is given */
    const char *scheme;
    rpc_proto proto;
    char url[160];
    child child;
    call_status st;
    value *result;
    char error[512];
    size_t sent_at[CALLS], recv_at[CALLS]; /* captured bytes after each call */
    buf sent, recv;
    explain esent, erecv;
} lane;

static void usage(FILE *f)
{
    fputs(_("Usage: workbench compare METHOD ARGS [--gob URL] [--json URL] [--grpc URL]\n                         [--no-dump] [--pcap FILE]\n"
            "Makes the same call in every encoding the workbench speaks, twice on one\n"
            "connection each, and shows where the bytes go: framing, type information and\n"
            "payload, for the first call and for the later ones.\n\n"
            "Without URLs it starts private servers on free ports and stops them after.\n\n"
            "Options:\n"
            "      --gob URL     use this gob server (gob://HOST:PORT)\n"
            "      --json URL    use this JSON-RPC server (json://HOST:PORT)\n"
            "      --grpc URL    use this gRPC server (grpc://HOST:PORT); the net/rpc name\n"
            "                    Arith.Multiply calls arith.Arith/Multiply there\n"
            "      --no-dump     only the summary, not the explained bytes (which are side\n"
            "                    by side in a terminal 150 columns wide or wider)\n"
            "      --color WHEN  auto (default), always, never\n"
            "      --pcap FILE   write the three connections to FILE, a capture file that\n"
            "                    Wireshark and tshark open with their dissectors\n\n"
            "Example:\n"
            "  workbench compare Arith.Multiply '{\"A\":7,\"B\":8}'\n"), f);
}

static void lane_done(lane *l)
{
    value_free(l->result);
    buf_done(&l->sent);
    buf_done(&l->recv);
    explain_done(&l->esent);
    explain_done(&l->erecv);
    if (l->child.pid > 0)
        spawn_stop(&l->child, SIGTERM, 2000);
}

/* Whether the lane's calls failed before anything worth showing came back. */
static bool lane_failed(const lane *l)
{
    return l->st == CALL_FAILED || l->st == CALL_BAD_ARGUMENT;
}

/* Makes the calls on one connection and keeps what went over the wire. */
static void lane_run(lane *l, const char *name, const value *arg, int timeout, pcapout *rec)
{
    char err[512];
    if (!l->url[0]) {
        if (spawn_server(l->server, NULL, 3000, &l->child, err, sizeof err) < 0) {
            err_set(l->error, sizeof l->error, "%s", err);
            l->st = CALL_FAILED;
            return;
        }
        snprintf(l->url, sizeof l->url, "%s%s", l->scheme, l->child.addr);
    }
    rpcclient *c = rpcclient_dial(l->url, timeout, err, sizeof err);
    if (!c) {
        err_set(l->error, sizeof l->error, "%s", err);
        l->st = CALL_FAILED;
        return;
    }
    rpcclient_capture(c, true);
    rpcclient_record(c, rec);
    for (int i = 0; i < CALLS; i++) {
        value_free(l->result);
        l->result = NULL;
        l->st = rpcclient_call(c, name, arg, timeout, &l->result, l->error, sizeof l->error);
        l->sent_at[i] = buf_size(rpcclient_sent(c));
        l->recv_at[i] = buf_size(rpcclient_received(c));
        if (l->st == CALL_FAILED || l->st == CALL_BAD_ARGUMENT)
            break;
    }
    buf_append(&l->sent, buf_data(rpcclient_sent(c)), buf_size(rpcclient_sent(c)));
    buf_append(&l->recv, buf_data(rpcclient_received(c)), buf_size(rpcclient_received(c)));
    wire_explain_pair(l->proto, buf_data(&l->sent), buf_size(&l->sent), buf_data(&l->recv),
                      buf_size(&l->recv), &l->esent, &l->erecv);
    rpcclient_free(c);
}

/* Bytes per class of call number `call` (0-based), both directions. */
static void call_totals(const lane *l, int call, size_t t[4])
{
    size_t s0 = call ? l->sent_at[call - 1] : 0, r0 = call ? l->recv_at[call - 1] : 0;
    size_t a[4], b[4];
    explain_totals_range(&l->esent, s0, l->sent_at[call], a);
    explain_totals_range(&l->erecv, r0, l->recv_at[call], b);
    for (int k = 0; k < 4; k++)
        t[k] = a[k] + b[k];
}

/* Copies the spans lying within the first `end` bytes (a call's share of the capture). */
static void first_call_spans(const explain *all, size_t end, explain *out)
{
    for (size_t i = 0; i < all->len; i++) {
        const span *s = &all->spans[i];
        if (s->off < end && s->off + s->len <= end)
            explain_add(out, s->off, s->len, s->depth, s->cls, s->layer, "%s", s->meaning);
    }
}

/* Display columns of a line, not counting ANSI colour sequences. */
static size_t visible_width(const char *s, size_t n)
{
    size_t w = 0, i = 0;
    while (i < n) {
        if (s[i] == '\033') {
            while (i < n && s[i] != 'm')
                i++;
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && s[j] != '\033')
            j++;
        w += utf8_width(s + i, j - i);
        i = j;
    }
    return w;
}

/* Renders lane l's first call (what was sent, then what came back) at width w. */
static void render_first_call(const lane *l, explain_style st, int w, buf *out)
{
    st.width = w;
    st.compact = true;
    explain fs, fr;
    explain_init(&fs);
    explain_init(&fr);
    first_call_spans(&l->esent, l->sent_at[0], &fs);
    first_call_spans(&l->erecv, l->recv_at[0], &fr);
    buf_printf(out, _("── %s: sent, %zu bytes ──\n"), l->label, l->sent_at[0]);
    explain_render(&fs, buf_data(&l->sent), l->sent_at[0], &st, out);
    buf_printf(out, _("\n── %s: received, %zu bytes ──\n"), l->label, l->recv_at[0]);
    explain_render(&fr, buf_data(&l->recv), l->recv_at[0], &st, out);
    explain_done(&fs);
    explain_done(&fr);
}

/* Prints the lanes' dumps in columns, one per lane, as wide terminals allow. */
static void print_side_by_side(const lane *lanes, size_t nl, const explain_style *st)
{
    enum { GAP = 3 };
    int colw = (st->width - GAP * (int)(nl - 1)) / (int)nl;
    buf cols[3];
    const char *pos[3];
    size_t left[3];
    for (size_t i = 0; i < nl && i < 3; i++) {
        buf_init(&cols[i], 0);
        if (!lane_failed(&lanes[i]) && lanes[i].sent_at[0])
            render_first_call(&lanes[i], *st, colw, &cols[i]);
        pos[i] = (const char *)buf_data(&cols[i]);
        left[i] = buf_size(&cols[i]);
    }
    buf out;
    buf_init(&out, 0);
    for (;;) {
        bool any = false;
        for (size_t i = 0; i < nl && i < 3; i++)
            any = any || left[i] > 0;
        if (!any)
            break;
        for (size_t i = 0; i < nl && i < 3; i++) {
            const char *nlp = left[i] ? memchr(pos[i], '\n', left[i]) : NULL;
            size_t len = nlp ? (size_t)(nlp - pos[i]) : left[i];
            buf_append(&out, pos[i], len);
            if (i + 1 < nl) {
                size_t w = visible_width(pos[i], len);
                buf_printf(&out, "%*s", (int)((size_t)colw > w ? (size_t)colw - w : 0) + GAP, "");
            }
            pos[i] += len + (nlp ? 1 : 0);
            left[i] -= len + (nlp ? 1 : 0);
        }
        while (out.len > 0 && out.p[out.len - 1] == ' ')
            out.len--;
        buf_putc(&out, '\n');
    }
    fwrite(buf_data(&out), 1, buf_size(&out), stdout);
    buf_done(&out);
    for (size_t i = 0; i < nl && i < 3; i++)
        buf_done(&cols[i]);
}

static size_t sum4(const size_t t[4]) { return t[0] + t[1] + t[2] + t[3]; }

static void put_bar(buf *out, const size_t t[4], size_t max, int width, bool color)
{
    static const char *glyph[4] = {"█", "▒", "░", "×"};
    static const char *colour[4] = {"\033[36m", "\033[35m", "\033[32m", "\033[31m"};
    for (int k = 0; k < 4; k++) {
        int cells = max ? (int)((t[k] * (size_t)width + max / 2) / max) : 0;
        if (t[k] > 0 && cells == 0)
            cells = 1;
        if (color)
            buf_puts(out, colour[k]);
        for (int i = 0; i < cells; i++)
            buf_puts(out, glyph[k]);
        if (color)
            buf_puts(out, "\033[0m");
    }
}

static int used_cells(const size_t t[4], size_t max, int width)
{
    int n = 0;
    for (int k = 0; k < 4; k++) {
        int cells = max ? (int)((t[k] * (size_t)width + max / 2) / max) : 0;
        n += t[k] > 0 && cells == 0 ? 1 : cells;
    }
    return n;
}

/* The byte count of the largest call of any lane, both directions: the bars' full length. */
static size_t largest_call(const lane *lanes, size_t nl)
{
    size_t max = 0;
    for (size_t i = 0; i < nl; i++)
        for (int c = 0; c < CALLS; c++) {
            size_t t[4];
            if (lane_failed(&lanes[i]))
                continue;
            call_totals(&lanes[i], c, t);
            if (sum4(t) > max)
                max = sum4(t);
        }
    return max;
}

/* Prints the bytes of each call as bars, then each lane's result. Returns EXIT_OK, or
 * EXIT_FAILED when a lane's call failed. */
static int print_summary(const lane *lanes, size_t nl, const char *name, const char *args, const explain_style *st)
{
    buf out;
    buf_init(&out, 0);
    const char *b = st->color ? "\033[1m" : "", *r = st->color ? "\033[0m" : "";
    buf_printf(&out, "%s%s %s%s", b, name, args, r);
    buf_printf(&out, _(" — the same call in each encoding, %d times on one connection\n\n"), CALLS);
    size_t max = largest_call(lanes, nl);
    int barw = st->width - 12 - 10;
    if (barw < 20)
        barw = 20;
    int rc = EXIT_OK;
    for (int c = 0; c < CALLS; c++) {
        buf_printf(&out, "%s%s%s%s\n", b, c == 0 ? _("First call") : _("Every later call"), r,
                   _(" (request + reply)"));
        for (size_t i = 0; i < nl; i++) {
            const lane *l = &lanes[i];
            buf_printf(&out, "  %-9s ", l->label);
            if (lane_failed(l)) {
                buf_printf(&out, _("failed: %s\n"), l->error);
                rc = EXIT_FAILED;
                continue;
            }
            size_t t[4];
            call_totals(l, c, t);
            put_bar(&out, t, max, barw, st->color);
            buf_printf(&out, "%*s %4zu B\n", barw - used_cells(t, max, barw), "", sum4(t));
            buf_printf(&out, _("  %9s framing %zu · type information %zu · payload %zu\n"), "", t[0],
                       t[1], t[2]);
        }
        buf_putc(&out, '\n');
    }
    buf_printf(&out, _("  %s█%s framing   %s▒%s type information   %s░%s payload\n"),
               st->color ? "\033[36m" : "", r, st->color ? "\033[35m" : "", r, st->color ? "\033[32m" : "", r);
    buf_puts(&out, _("\nResults:\n"));
    for (size_t i = 0; i < nl; i++) {
        const lane *l = &lanes[i];
        buf_printf(&out, "  %-9s ", l->label);
        if (l->st == CALL_OK)
            jsonval_write(l->result, &out);
        else if (l->st == CALL_REMOTE_ERROR)
            buf_printf(&out, _("error: %s"), l->error);
        else
            buf_puts(&out, _("(no result)"));
        buf_putc(&out, '\n');
    }
    fwrite(buf_data(&out), 1, buf_size(&out), stdout);
    buf_done(&out);
    return rc;
}

/* Prints each lane's first call explained, one lane after another (for narrow terminals). */
static void print_one_after_another(const lane *lanes, size_t nl, const explain_style *st)
{
    for (size_t i = 0; i < nl; i++) {
        const lane *l = &lanes[i];
        if (lane_failed(l) || !l->sent_at[0])
            continue;
        char title[128];
        printf("\n");
        /* the dump of the first call: the spans that start within its bytes */
        explain fs, fr;
        explain_init(&fs);
        explain_init(&fr);
        first_call_spans(&l->esent, l->sent_at[0], &fs);
        first_call_spans(&l->erecv, l->recv_at[0], &fr);
        snprintf(title, sizeof title, _("%s: first call, sent"), l->label);
        wire_print_explained(stdout, title, l->proto, buf_data(&l->sent), l->sent_at[0], &fs, st);
        snprintf(title, sizeof title, _("%s: first call, received"), l->label);
        wire_print_explained(stdout, title, l->proto, buf_data(&l->recv), l->recv_at[0], &fr, st);
        explain_done(&fs);
        explain_done(&fr);
    }
    wire_legend(stdout, st);
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {{"gob", required_argument, NULL, 'g'},
                                         {"json", required_argument, NULL, 'j'},
                                         {"grpc", required_argument, NULL, 'r'},
                                         {"no-dump", no_argument, NULL, 'n'},
                                         {"color", required_argument, NULL, 'c'},
                                         {"pcap", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    lane lanes[] = {
        {.label = "gob", .server = "gob-server", .scheme = "gob://", .proto = PROTO_GOB},
        {.label = "JSON-RPC", .server = "jsonrpc-server", .scheme = "json://", .proto = PROTO_JSON},
        {.label = "gRPC", .server = "grpc-server", .scheme = "grpc://", .proto = PROTO_GRPC},
    };
    const size_t nl = sizeof lanes / sizeof lanes[0];
    bool dump = true;
    const char *color = "auto", *pcap = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'g': snprintf(lanes[0].url, sizeof lanes[0].url, "%s", optarg); break;
        case 'j': snprintf(lanes[1].url, sizeof lanes[1].url, "%s", optarg); break;
        case 'r': snprintf(lanes[2].url, sizeof lanes[2].url, "%s", optarg); break;
        case 'n': dump = false; break;
        case 'c': color = optarg; break;
        case 'p': pcap = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    explain_style st;
    if (wire_style(stdout, color, &st) < 0) {
        fprintf(stderr, "%s", _("workbench compare: --color wants auto, always or never\n"));
        return EXIT_USAGE;
    }
    const char *name = argv[optind], *args = argv[optind + 1];
    char err[512];
    value *arg = jsonval_parse(args, strlen(args), err, sizeof err);
    if (!arg) {
        fprintf(stderr, _("workbench compare: ARGS is not JSON: %s\n"), err);
        return EXIT_USAGE;
    }
    pcapout *rec = NULL;
    if (pcap && !(rec = pcapopt_open("compare", pcap))) {
        value_free(arg);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < nl; i++) {
        buf_init(&lanes[i].sent, 0);
        buf_init(&lanes[i].recv, 0);
        explain_init(&lanes[i].esent);
        explain_init(&lanes[i].erecv);
        lane_run(&lanes[i], name, arg, 5000, rec);
    }
    pcapopt_close("compare", rec, pcap);
    int rc = print_summary(lanes, nl, name, args, &st);
    if (dump && st.width >= 150) {
        fputs(_("\nThe first call's bytes, explained:\n\n"), stdout);
        print_side_by_side(lanes, nl, &st);
        wire_legend(stdout, &st);
    } else if (dump) {
        print_one_after_another(lanes, nl, &st);
    }
    for (size_t i = 0; i < nl; i++)
        lane_done(&lanes[i]);
    value_free(arg);
    return rc;
}
