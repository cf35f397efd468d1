/* callgob.h -- what `workbench call gob://` adds for a learner's own Go server: the
 * argument's type given with --type, and the type definitions shown with --types. */
#ifndef WB_CALLGOB_H
#define WB_CALLGOB_H

#include <stdbool.h>

#include "rpc/rpcclient.h"
#include "value/vtype.h"

typedef struct callgob_opts {
    const char *type_line; /* --type, or NULL */
    bool types;            /* --types */
    typeset *ts;           /* callgob_check: owns t */
    const vtype *t;        /* --type read; NULL when not given */
} callgob_opts;

/* The options' lines for `workbench call --help` (translated). */
const char *callgob_help(void);
/* Reads --type, and refuses --type and --types for a URL that is not gob://. Returns 0,
 * or -1 after saying why on stderr. */
int callgob_check(callgob_opts *o, const char *url);
/* Frees what callgob_check made. */
void callgob_done(callgob_opts *o);
/* After the calls, before the result: the renamings the inference made (stderr) and,
 * with --types, the type definitions sent and received (stdout, from c's capture). */
void callgob_report(const callgob_opts *o, rpcclient *c);
/* After the outcome: a hint when the argument's inferred type is the likely cause of st. */
void callgob_hint(const callgob_opts *o, const rpcclient *c, call_status st, const char *err);

#endif
