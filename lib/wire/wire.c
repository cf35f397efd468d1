/* wire.c -- protocol dispatch for the explainers, and the printed dump. */
#include "wire/wire.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/i18n.h"
#include "wire/dnsexplain.h"
#include "wire/h2explain.h"
#include "wire/jsonrpc.h"
#include "wire/netrpc.h"

static int wire_explain(rpc_proto p, bool response, const char *path, const uint8_t *b, size_t n,
                 explain *e)
{
    if (p == PROTO_GOB)
        return netrpc_explain(b, n, response, e);
    if (p == PROTO_GRPC)
        return h2explain_stream(b, n, response, path, e);
    return jsonrpc_explain((const char *)b, n, response, e);
}

int wire_explain_pair(rpc_proto p, const uint8_t *sent, size_t sn, const uint8_t *recv, size_t rn,
                      explain *esent, explain *erecv)
{
    if (p == PROTO_GRPC)
        return h2explain_exchange(sent, sn, recv, rn, esent, erecv);
    int a = wire_explain(p, false, NULL, sent, sn, esent);
    int b = wire_explain(p, true, NULL, recv, rn, erecv);
    return a < 0 || b < 0 ? -1 : 0;
}

int wire_style(FILE *f, const char *when, explain_style *st)
{
    const char *nc = getenv("NO_COLOR");
    st->compact = false;
    if (strcmp(when, "always") == 0)
        st->color = true;
    else if (strcmp(when, "never") == 0)
        st->color = false;
    else if (strcmp(when, "auto") == 0)
        st->color = isatty(fileno(f)) && !(nc && nc[0]);
    else
        return -1;
    struct winsize ws;
    const char *cols = getenv("COLUMNS");
    st->width = 80;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        st->width = ws.ws_col;
    else if (cols && atoi(cols) > 0)
        st->width = atoi(cols);
    return 0;
}

int wire_print(FILE *f, const char *title, rpc_proto p, bool response, const char *path,
               const uint8_t *b, size_t n, const explain_style *st)
{
    explain e;
    explain_init(&e);
    int r = wire_explain(p, response, path, b, n, &e);
    wire_print_explained(f, title, p, b, n, &e, st);
    explain_done(&e);
    return r;
}

/* The title in the learner's language: workbench call names its dumps "sent" and
 * "received"; other callers pass titles already translated. */
static const char *title_words(const char *title)
{
    if (strcmp(title, "sent") == 0)
        return _("sent");
    if (strcmp(title, "received") == 0)
        return _("received");
    return title;
}

static void print_titled(FILE *f, const char *title, const char *proto, const uint8_t *b, size_t n,
                         const explain *e, const explain_style *st)
{
    buf out;
    buf_init(&out, 0);
    const char *bold = st && st->color ? "\033[1m" : "", *reset = st && st->color ? "\033[0m" : "";
    buf_puts(&out, bold);
    buf_printf(&out, _("── %s (%s, %zu bytes) ──"), title_words(title), proto, n);
    buf_printf(&out, "%s\n", reset);
    explain_render(e, b, n, st, &out);
    size_t t[4];
    explain_totals(e, t);
    buf_printf(&out, _("   %zu bytes: framing %zu · type information %zu · payload %zu"), n,
               t[SPAN_FRAME], t[SPAN_TYPE], t[SPAN_DATA]);
    if (t[SPAN_ERROR])
        buf_printf(&out, _(" · undecodable %zu"), t[SPAN_ERROR]);
    buf_puts(&out, "\n\n");
    fwrite(buf_data(&out), 1, buf_size(&out), f);
    buf_done(&out);
}

void wire_legend(FILE *f, const explain_style *st)
{
    const char *fr = "", *ty = "", *pa = "", *off = "";
    if (st && st->color) {
        fr = "\033[36m";
        ty = "\033[35m";
        pa = "\033[32m";
        off = "\033[0m";
    }
    fprintf(f, _("   %sframing%s: lengths, ids, method names, punctuation; %stype information%s: type\n"
                 "   definitions, field names and numbers; %spayload%s: the argument and result values.\n"),
            fr, off, ty, off, pa, off);
}

void wire_print_explained(FILE *f, const char *title, rpc_proto p, const uint8_t *b, size_t n,
                          const explain *e, const explain_style *st)
{
    print_titled(f, title, rpc_proto_name(p), b, n, e, st);
}

int wire_print_dns(FILE *f, const char *title, const uint8_t *b, size_t n,
                   const explain_style *st)
{
    explain e;
    explain_init(&e);
    int r = dnsexplain_message(b, n, &e);
    print_titled(f, title, "DNS", b, n, &e, st);
    explain_done(&e);
    return r;
}
