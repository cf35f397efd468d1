/* protosrc.h -- where the workbench learns the types of a gRPC service it was not built with:
 * --proto files (compiled by protoc, with -I import paths), --protoset descriptor sets,
 * and else the server's own reflection. Shared by `call`, `list`, `describe` and `explain`. */
#ifndef WB_PROTOSRC_H
#define WB_PROTOSRC_H

#include <stdbool.h>
#include <stddef.h>

#include "base/i18n.h"

enum { PROTOSRC_MAX = 64 };

typedef struct protosrc {
    const char *files[PROTOSRC_MAX];  /* --proto FILE.proto */
    const char *paths[PROTOSRC_MAX];  /* -I DIR, --import-path DIR */
    const char *sets[PROTOSRC_MAX];   /* --protoset FILE */
    size_t nfiles, npaths, nsets;
} protosrc;

/* Takes --proto FILE, --protoset FILE and -I/--import-path DIR (also --NAME=VALUE) out of
 * argv up to a "--", into s; the rest stay in order for the command's own parsing. A
 * --proto whose value is json, gob or grpc is left in argv: that is `call`'s protocol
 * for a registry's entries. Returns 0, or -1 with err. */
int protosrc_take(int *argc, char **argv, protosrc *s, char *err, size_t errlen);
/* Whether any file or set was given: then the server's reflection is not asked. */
bool protosrc_given(const protosrc *s);
/* Compiles the .proto files, reads the sets, and makes their types known (wire/pbdesc).
 * Returns 0, or -1 with err (protoc's own complaint for a mistake in a file). */
int protosrc_load(const protosrc *s, char *err, size_t errlen);

typedef enum learn_status {
    LEARN_KNOWN = 0,    /* symbol's types are known now */
    LEARN_UNKNOWN = 1,  /* neither the given files nor the server's reflection describe it */
    LEARN_FAILED = -1,  /* err says why (connection, deadline, a broken file) */
} learn_status;

/* Makes sure symbol (a service, "pkg.Service/Method", a message...) is known: compiled in,
 * from the given files, or else asked of the reflection of the server at addr (NULL:
 * no server to ask). *how is the version of reflection that answered ("v1",
 * "v1alpha"), or "" when none was asked. */
learn_status protosrc_learn(const protosrc *s, const char *addr, const char *symbol, int timeout_ms,
                            const char **how, char *err, size_t errlen);

/* The options' help lines, marked for translation: fputs(_(PROTOSRC_HELP), f). */
#define PROTOSRC_HELP                                                                        \
    N_("      --proto FILE     a .proto file describing the service (repeatable),\n"          \
    "                       compiled with protoc; then reflection is not asked\n"              \
    "  -I, --import-path DIR  where imports of --proto files are found (repeatable;\n"       \
    "                       default: each file's own directory)\n"                           \
    "      --protoset FILE  a compiled descriptor set (protoc --include_imports\n"           \
    "                       --descriptor_set_out=FILE), as grpcurl's -protoset\n")

#endif
