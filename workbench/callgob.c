/* callgob.c -- `workbench call gob://`'s --type and --types, for a learner's own Go server. */
#include "callgob.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "wire/netrpc.h"

const char *callgob_help(void)
{
    return _("      --type TYPE   gob: the argument's Go type, e.g. int32, '[]string' or\n"
             "                    'Student{Name string, Age int32, P People{Weight int},\n"
             "                    Tags map[string]int, Raw []byte}' (without it: the type\n"
             "                    of the JSON, objects as structs, numbers as int or float64)\n"
             "      --types       gob: print the type definitions sent and received, in Go\n"
             "                    syntax, before the result\n");
}

int callgob_check(callgob_opts *o, const char *url)
{
    if ((o->type_line || o->types) && strncmp(url, "gob://", 6) != 0) {
        fputs(_("workbench call: --type and --types are for gob://HOST:PORT\n"), stderr);
        return -1;
    }
    if (!o->type_line)
        return 0;
    char err[512], shown[2048];
    if (!(o->ts = typeset_new()) || !(o->t = vtype_parse(o->ts, o->type_line, err, sizeof err))) {
        fprintf(stderr, _("workbench call: --type: %s\n"), o->ts ? esc_str(shown, sizeof shown, err) : "out of memory");
        return -1;
    }
    return 0;
}

void callgob_done(callgob_opts *o)
{
    typeset_free(o->ts);
    o->ts = NULL;
    o->t = NULL;
}

/* One direction's definitions, each line after its prefix word. */
static void print_declared(const char *word, const buf *bytes, bool response)
{
    buf out;
    char err[512];
    buf_init(&out, 1u << 20);
    int r = netrpc_declare(buf_data(bytes), buf_size(bytes), response, &out, err, sizeof err);
    const char *p = (const char *)buf_data(&out), *end = p + buf_size(&out);
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char shown[4096];
        esc_bytes(shown, sizeof shown, p, len);
        printf("%s %s\n", word, shown);
        p += len + 1;
    }
    if (r < 0)
        printf("%s: %s\n", word, err);
    buf_done(&out);
}

void callgob_report(const callgob_opts *o, rpcclient *c)
{
    if (rpcclient_proto(c) != PROTO_GOB)
        return;
    const char *notes = rpcclient_gob_notes(c);
    if (notes[0])
        fputs(notes, stderr);
    if (!o->types)
        return;
    print_declared(_("sent"), rpcclient_sent(c), false);
    print_declared(_("received"), rpcclient_received(c), true);
    fflush(stdout);
}

void callgob_hint(const callgob_opts *o, const rpcclient *c, call_status st, const char *err)
{
    if (rpcclient_proto(c) != PROTO_GOB || o->t)
        return;
    if (st == CALL_BAD_ARGUMENT && !strstr(err, "(it takes "))
        fputs(_("  (--type gives the argument's Go type, e.g.\n"
                "  --type 'Student{Name string, Score []float64}')\n"), stderr);
    else if (st == CALL_REMOTE_ERROR && strncmp(err, "gob: ", 5) == 0)
        fputs(_("  (the server's Go type is not the one the JSON suggests: --type gives it,\n"
                "  and --types shows the type sent)\n"), stderr);
}
