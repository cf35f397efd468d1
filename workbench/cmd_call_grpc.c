/* cmd_call_grpc.c -- the gRPC part of `workbench call`: metadata, headers and trailers,
 * streamed replies as they arrive, and an error's status details. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "commands.h"
#include "callgrpc.h"
#include "wire/grpc_status.h"
#include "wire/jsonval.h"

int callgrpc_set_headers(rpcclient *c, const char *const *headers, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        char name[256], why[300], shown[600];
        const char *val;
        if (grpcclient_metadata_parse(headers[i], name, sizeof name, &val, why, sizeof why) < 0 ||
            rpcclient_add_metadata(c, name, val, why, sizeof why) < 0) {
            err_set(err, errlen, "-H %s: %s", esc_str(shown, sizeof shown, headers[i]), why);
            return -1;
        }
    }
    return 0;
}

int callgrpc_learn(const protosrc *src, const char *addr, const char *method, int timeout_ms)
{
    char err[1024] = "", why[1100], shown[600];
    const char *how;
    learn_status st = protosrc_learn(src, addr, method, timeout_ms, &how, err, sizeof err);
    esc_str(shown, sizeof shown, method);
    esc_str(why, sizeof why, err);
    if (st == LEARN_FAILED) {
        fprintf(stderr, _("workbench call: asking the server's reflection about %s: %s\n"), shown, why);
        return EXIT_FAILED;
    }
    if (st == LEARN_KNOWN && how[0])
        fprintf(stderr, _("(%s: types from the server's reflection %s)\n"), shown, how);
    else if (st == LEARN_UNKNOWN && protosrc_given(src))
        fprintf(stderr, _("(%s is in none of the given files)\n"), shown);
    else if (st == LEARN_UNKNOWN)
        fprintf(stderr, _("(%s: the server's reflection does not describe it:\n  %s)\n"), shown, why);
    return -1;
}

static void print_value(const value *v)
{
    buf out;
    buf_init(&out, 0);
    jsonval_write(v, &out);
    printf("%.*s\n", (int)buf_size(&out), (const char *)buf_data(&out));
    buf_done(&out);
}

void callgrpc_print_reply(const value *reply, bool streamed)
{
    if (!streamed || reply->kind != V_LIST) {
        print_value(reply);
        return;
    }
    for (size_t i = 0; i < reply->u.list.len; i++)
        print_value(reply->u.list.items[i]);
}

/* Headers or trailers, one "  name: value" a line; those in skip[] are left out. */
static void print_md(const grpc_md *m, const char *const *skip, size_t nskip)
{
    size_t shown_n = 0;
    for (size_t i = 0; m && i < m->n; i++) {
        const char *name = grpc_md_name(m, i);
        bool skipped = false;
        for (size_t k = 0; k < nskip; k++)
            skipped |= strcmp(name, skip[k]) == 0;
        if (skipped)
            continue;
        char n[300], v[2048];
        printf("  %s: %s\n", esc_str(n, sizeof n, name), esc_str(v, sizeof v, grpc_md_value(m, i)));
        shown_n++;
    }
    if (shown_n == 0)
        puts(_("  (none)"));
    if (m && m->dropped)
        printf(_("  (%zu more not kept: too many or too long)\n"), m->dropped);
}

static void print_headers(callgrpc *g, const rpcclient *c)
{
    if (!g->verbose || g->said_headers)
        return;
    g->said_headers = true;
    puts(_("Response headers received:"));
    print_md(rpcclient_grpc_headers(c), NULL, 0);
}

/* The reply hook: a streamed message, printed as it arrives (after the headers, with -v). */
static int print_streamed(const value *reply, void *ud, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    callgrpc *g = ud;
    print_headers(g, g->client);
    print_value(reply);
    fflush(stdout);
    return 0;
}

void callgrpc_begin(callgrpc *g, rpcclient *c, bool wire)
{
    g->client = c;
    if (!wire)
        rpcclient_on_reply(c, print_streamed, g);
    if (!g->verbose)
        return;
    puts(_("Request metadata sent (besides gRPC's own headers):"));
    for (int i = 0; i < g->nheaders; i++) {
        char name[256], why[128], n[600], v[2048];
        const char *val;
        if (grpcclient_metadata_parse(g->headers[i], name, sizeof name, &val, why, sizeof why) == 0)
            printf("  %s: %s\n", esc_str(n, sizeof n, name), esc_str(v, sizeof v, val));
    }
    if (g->nheaders == 0)
        puts(_("  (none)"));
}

void callgrpc_after(callgrpc *g, rpcclient *c, call_status st, const value *reply, char *err, size_t errlen)
{
    int code = rpcclient_status(c);
    if (st == CALL_FAILED && (code == GRPC_DEADLINE_EXCEEDED || code == GRPC_CANCELLED)) {
        char why[1024];
        snprintf(why, sizeof why, "%s", err);
        err_set(err, errlen, "%s: %s", grpc_status_name(code), why);
    }
    if (st == CALL_OK || st == CALL_REMOTE_ERROR || g->said_headers)
        print_headers(g, c);
    if (st == CALL_OK && reply)
        callgrpc_print_reply(reply, true);
    if (!g->verbose || (st != CALL_OK && st != CALL_REMOTE_ERROR))
        return;
    static const char *const own[] = {"grpc-status", "grpc-message", "grpc-status-details-bin"};
    puts(_("Response trailers received (besides the status):"));
    print_md(rpcclient_grpc_trailers(c), own, sizeof own / sizeof own[0]);
    char msg[1024];
    esc_str(msg, sizeof msg, rpcclient_status_message(c));
    printf(_("Status: %d %s%s%s\n"), code, grpc_status_name(code), msg[0] ? ": " : "", msg);
}

void callgrpc_details(const rpcclient *c)
{
    size_t n;
    const uint8_t *p = rpcclient_grpc_details(c, &n);
    if (n == 0 || rpcclient_status(c) == GRPC_OK)
        return;
    grpc_status_details d;
    char err[256], a[1024], b[4096];
    fflush(stdout);
    if (grpc_status_details_decode(p, n, &d, err, sizeof err) < 0) {
        fprintf(stderr, _("  (grpc-status-details-bin came too, but %s)\n"), err);
        return;
    }
    fputs(_("  details of the error (a google.rpc.Status in grpc-status-details-bin):\n"), stderr);
    fprintf(stderr, _("    code: %d %s\n"), d.code, grpc_status_name(d.code));
    fprintf(stderr, _("    message: %s\n"), esc_str(a, sizeof a, d.message));
    for (size_t i = 0; i < d.n; i++) {
        const grpc_status_detail *it = &d.items[i];
        esc_str(a, sizeof a, it->type_url);
        if (it->decoded) {
            buf out;
            buf_init(&out, 0);
            jsonval_write(it->decoded, &out);
            fprintf(stderr, _("    detail %zu: %s\n"), i + 1, a);
            fprintf(stderr, "      %s\n", esc_bytes(b, sizeof b, buf_data(&out), buf_size(&out)));
            buf_done(&out);
        } else {
            fprintf(stderr, _("    detail %zu: %s (a type the workbench does not know: its bytes in base64)\n"),
                    i + 1, a);
            fprintf(stderr, "      %s\n", esc_str(b, sizeof b, it->base64));
        }
    }
    grpc_status_details_done(&d);
}
