/* tui_wire.c -- the Wire pane's model: capture one call per protocol (or one gRPC call to
 * any server, its types learned first) and explain it; show a sniffed call; write a pcap. */
#include "tui_wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/net.h"
#include "capture/pcapout.h"
#include "wire/jsonval.h"
#include "wire/wire.h"

void tui_wire_init(tui_wire *w)
{
    static const struct { rpc_proto p; const char *label; } order[TUI_WIRE_LANES] = {
        {PROTO_GOB, "gob"}, {PROTO_JSON, "JSON-RPC"}, {PROTO_GRPC, "gRPC"}};
    memset(w, 0, sizeof *w);
    for (int i = 0; i < TUI_WIRE_LANES; i++) {
        tui_wire_lane *l = &w->lanes[i];
        l->proto = order[i].p;
        l->label = order[i].label;
        for (int d = 0; d < 2; d++) {
            buf_init(&l->bytes[d], 0);
            buf_init(&l->conn[d], 0);
            explain_init(&l->ex[d]);
        }
    }
}

static void lane_clear(tui_wire_lane *l)
{
    for (int d = 0; d < 2; d++) {
        buf_done(&l->bytes[d]);
        buf_init(&l->bytes[d], 0);
        buf_done(&l->conn[d]);
        buf_init(&l->conn[d], 0);
        explain_done(&l->ex[d]);
        explain_init(&l->ex[d]);
        l->cursor[d] = 0;
    }
    l->have = false;
    l->note[0] = l->addr[0] = l->client[0] = '\0';
    l->start_us = l->end_us = 0;
}

void tui_wire_done(tui_wire *w)
{
    for (int i = 0; i < TUI_WIRE_LANES; i++) {
        lane_clear(&w->lanes[i]);
        for (int d = 0; d < 2; d++) {
            buf_done(&w->lanes[i].bytes[d]);
            buf_done(&w->lanes[i].conn[d]);
            explain_done(&w->lanes[i].ex[d]);
        }
    }
}

/* A leaf: the next span (pre-order) does not lie inside it. */
static bool is_leaf(const explain *e, size_t i)
{
    return i + 1 >= e->len || e->spans[i + 1].depth <= e->spans[i].depth;
}

static size_t first_payload(const explain *e)
{
    for (size_t i = 0; i < e->len; i++)
        if (e->spans[i].cls == SPAN_DATA && is_leaf(e, i))
            return i;
    return 0;
}

static void lane_capture(tui_wire_lane *l, const char *method, const value *arg, const char *addr,
                         int timeout_ms)
{
    lane_clear(l);
    if (!addr || !addr[0]) {
        snprintf(l->note, sizeof l->note, _("no running %s server: spawn one"), l->label);
        return;
    }
    snprintf(l->addr, sizeof l->addr, "%s", addr);
    char url[128], err[256];
    snprintf(url, sizeof url, "%s://%s", l->proto == PROTO_GOB ? "gob" : l->proto == PROTO_GRPC ? "grpc" : "json",
             addr);
    rpcclient *c = rpcclient_dial(url, timeout_ms, err, sizeof err);
    if (!c) {
        snprintf(l->note, sizeof l->note, "%s", err);
        return;
    }
    rpcclient_capture(c, true);
    value *reply = NULL;
    call_status st = rpcclient_call(c, method, arg, timeout_ms, &reply, err, sizeof err);
    value_free(reply);
    if (st == CALL_REMOTE_ERROR)
        snprintf(l->note, sizeof l->note, _("the server answered with an error: %s"), err);
    else if (st != CALL_OK)
        snprintf(l->note, sizeof l->note, "%s", err);
    const buf *b[2] = {rpcclient_sent(c), rpcclient_received(c)};
    for (int d = 0; d < 2; d++)
        buf_append(&l->bytes[d], buf_data(b[d]), buf_size(b[d]));
    rpcclient_free(c);
    wire_explain_pair(l->proto, buf_data(&l->bytes[0]), buf_size(&l->bytes[0]), buf_data(&l->bytes[1]),
                      buf_size(&l->bytes[1]), &l->ex[0], &l->ex[1]);
    l->have = buf_size(&l->bytes[0]) > 0;
    for (int d = 0; d < 2; d++)
        l->cursor[d] = first_payload(&l->ex[d]);
}

void tui_wire_capture(tui_wire *w, const char *method, const char *args,
                      const char *const addrs[TUI_WIRE_LANES], int timeout_ms)
{
    snprintf(w->method, sizeof w->method, "%s", method);
    snprintf(w->args, sizeof w->args, "%s", args);
    w->server[0] = w->sniffed[0] = '\0';
    char err[256];
    value *arg = jsonval_parse(args, strlen(args), err, sizeof err);
    for (int i = 0; i < TUI_WIRE_LANES; i++) {
        if (!arg) {
            lane_clear(&w->lanes[i]);
            snprintf(w->lanes[i].note, sizeof w->lanes[i].note, _("the arguments are not JSON: %s"), err);
            continue;
        }
        lane_capture(&w->lanes[i], method, arg, addrs[i], timeout_ms);
    }
    value_free(arg);
}

/* Whether method's types are known now; else a note in l says why not. */
static bool learn_types(tui_wire_lane *l, const char *addr, const char *method, const protosrc *src,
                        int timeout_ms)
{
    char err[512] = "";
    const char *how;
    learn_status st = protosrc_learn(src, addr, method, timeout_ms, &how, err, sizeof err);
    if (st == LEARN_KNOWN)
        return true;
    if (st == LEARN_FAILED)
        snprintf(l->note, sizeof l->note, _("asking the server's reflection about %s: %s"), method, err);
    else if (protosrc_given(src))
        snprintf(l->note, sizeof l->note, _("%s is in none of the files given with --proto or --protoset"), method);
    else if (err[0])
        snprintf(l->note, sizeof l->note, _("the server's reflection does not describe %s: %s"), method, err);
    else
        snprintf(l->note, sizeof l->note, _("the server's reflection does not describe %s"), method);
    return false;
}

void tui_wire_capture_any(tui_wire *w, const char *addr, const char *method, const char *args,
                          const protosrc *src, int timeout_ms)
{
    snprintf(w->method, sizeof w->method, "%s", method);
    snprintf(w->args, sizeof w->args, "%s", args);
    snprintf(w->server, sizeof w->server, "%s", addr);
    w->sniffed[0] = '\0';
    w->sel = TUI_WIRE_GRPC;
    for (int i = 0; i < TUI_WIRE_LANES; i++) {
        lane_clear(&w->lanes[i]);
        if (i != TUI_WIRE_GRPC)
            snprintf(w->lanes[i].note, sizeof w->lanes[i].note,
                     _("%s is a gRPC server: this call is gRPC only (3 shows it)"), addr);
    }
    tui_wire_lane *l = &w->lanes[TUI_WIRE_GRPC];
    char err[256];
    value *arg = jsonval_parse(args, strlen(args), err, sizeof err);
    if (!arg)
        snprintf(l->note, sizeof l->note, _("the arguments are not JSON: %s"), err);
    else if (learn_types(l, addr, method, src, timeout_ms))
        lane_capture(l, method, arg, addr, timeout_ms);
    value_free(arg);
    if (!l->have)
        snprintf(l->addr, sizeof l->addr, "%s", addr);
}

void tui_wire_show_sniffed(tui_wire *w, tui_sniff_bytes *b)
{
    const tui_sniff_call *c = &b->call;
    int lane = c->row.proto == SNIFF_GOB ? 0 : c->row.proto == SNIFF_GRPC ? TUI_WIRE_GRPC : 1;
    const char *label = c->row.proto == SNIFF_HTTP ? "HTTP" : w->lanes[lane].label;
    for (int i = 0; i < TUI_WIRE_LANES; i++) {
        lane_clear(&w->lanes[i]);
        if (i != lane)
            snprintf(w->lanes[i].note, sizeof w->lanes[i].note,
                     _("a call sniffed on the wire: it is in %s only (%d shows it)"), label, lane + 1);
    }
    tui_wire_lane *l = &w->lanes[lane];
    l->label = label;
    snprintf(l->addr, sizeof l->addr, "%s", c->row.server);
    snprintf(l->client, sizeof l->client, "%s", c->row.client);
    l->start_us = c->row.start_us;
    l->end_us = c->row.end_us;
    for (int d = 0; d < 2; d++) { /* taken over */
        l->bytes[d] = b->share[d];
        l->conn[d] = b->conn[d];
        l->ex[d] = b->ex[d];
        buf_init(&b->share[d], 0);
        buf_init(&b->conn[d], 0);
        explain_init(&b->ex[d]);
        l->cursor[d] = first_payload(&l->ex[d]);
    }
    l->have = true;
    if (c->row.status[0] && !c->row.end_us)
        snprintf(l->note, sizeof l->note, "%s", c->row.status);
    w->sel = lane;
    w->server[0] = '\0';
    snprintf(w->method, sizeof w->method, "%.127s", c->row.method);
    snprintf(w->args, sizeof w->args, "%s", c->args);
    snprintf(w->sniffed, sizeof w->sniffed, "#%llu %.160s", (unsigned long long)c->row.id,
             c->row.method[0] ? c->row.method : "?");
    snprintf(w->sniffed_conn, sizeof w->sniffed_conn, "%s → %s", c->row.client, c->row.server);
}

/* addr ("127.0.0.1:50051", "[::1]:50051") into *ss; a host that is no IP address is
 * 127.0.0.1. Returns 0, or -1 when it has no port. */
static int to_sockaddr(const char *addr, struct sockaddr_storage *ss)
{
    char host[64], err[128];
    int port;
    if (net_split(addr, host, sizeof host, &port, err, sizeof err) < 0)
        return -1;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return 0;
    }
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return 0;
}

/* Lane i's client: the sniffed call's, else 127.0.0.1 (::1 for an IPv6 server) on a port
 * of the dynamic range. */
static void client_of(const tui_wire_lane *l, int i, const struct sockaddr_storage *server,
                      struct sockaddr_storage *client)
{
    if (l->client[0] && to_sockaddr(l->client, client) == 0 && client->ss_family == server->ss_family)
        return;
    char addr[64];
    snprintf(addr, sizeof addr, server->ss_family == AF_INET6 ? "[::1]:%d" : "127.0.0.1:%d", 49152 + i);
    to_sockaddr(addr, client);
}

int tui_wire_write_pcap(const tui_wire *w, const char *path, char *err, size_t errlen)
{
    int n = 0;
    for (int i = 0; i < TUI_WIRE_LANES; i++)
        n += w->lanes[i].have;
    if (!n) {
        err_set(err, errlen, "%s", _("the Wire pane has no bytes to write"));
        return -1;
    }
    pcapout *o = pcapout_new(path, err, errlen);
    if (!o)
        return -1;
    n = 0;
    for (int i = 0; i < TUI_WIRE_LANES; i++) {
        const tui_wire_lane *l = &w->lanes[i];
        struct sockaddr_storage server, client;
        if (!l->have || to_sockaddr(l->addr, &server) < 0)
            continue;
        client_of(l, i, &server, &client);
        int64_t t0 = l->start_us, t1 = l->end_us ? l->end_us : l->start_us;
        pcapout_conn *c = pcapout_conn_new(o, (struct sockaddr *)&client, (struct sockaddr *)&server, t0);
        if (!c)
            continue;
        for (int d = 0; d < 2; d++) {
            const buf *b = buf_size(&l->conn[d]) ? &l->conn[d] : &l->bytes[d];
            if (buf_size(b))
                pcapout_conn_data(c, d == 1, buf_data(b), buf_size(b), d ? t1 : t0);
        }
        pcapout_conn_free(c, t1);
        n++;
    }
    if (pcapout_free(o, err, errlen) < 0)
        return -1;
    if (!n) {
        err_set(err, errlen, "%s", _("no call in the Wire pane has an address to write"));
        return -1;
    }
    return n;
}

void tui_wire_move(tui_wire *w, int delta)
{
    tui_wire_lane *l = &w->lanes[w->sel];
    int d = w->response;
    size_t n = l->ex[d].len;
    if (n == 0)
        return;
    long c = (long)l->cursor[d] + delta;
    if (c < 0)
        c = 0;
    if (c >= (long)n)
        c = (long)n - 1;
    l->cursor[d] = (size_t)c;
}

const span *tui_wire_current(const tui_wire *w, int lane)
{
    const tui_wire_lane *l = &w->lanes[lane];
    int d = w->response;
    return l->cursor[d] < l->ex[d].len ? &l->ex[d].spans[l->cursor[d]] : NULL;
}

void tui_wire_totals(const tui_wire *w, int lane, size_t t[4])
{
    explain_totals(&w->lanes[lane].ex[w->response], t);
}
