/* tui_wire.c -- the Wire pane's model: capture one call per protocol (or one gRPC call to
 * any server, its types learned first) and explain it. */
#include "tui_wire.h"

#include <stdio.h>
#include <string.h>

#include "base/i18n.h"
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
            explain_init(&l->ex[d]);
        }
    }
}

static void lane_clear(tui_wire_lane *l)
{
    for (int d = 0; d < 2; d++) {
        buf_done(&l->bytes[d]);
        buf_init(&l->bytes[d], 0);
        explain_done(&l->ex[d]);
        explain_init(&l->ex[d]);
        l->cursor[d] = 0;
    }
    l->have = false;
    l->note[0] = l->addr[0] = '\0';
}

void tui_wire_done(tui_wire *w)
{
    for (int i = 0; i < TUI_WIRE_LANES; i++) {
        lane_clear(&w->lanes[i]);
        for (int d = 0; d < 2; d++) {
            buf_done(&w->lanes[i].bytes[d]);
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
    w->server[0] = '\0';
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
