/* grpcreflect.h -- a client of gRPC server reflection: the services a server lists, and the files that describe them.
 *
 * It asks grpc.reflection.v1 first and, when the server answers UNIMPLEMENTED, the
 * older v1alpha (the same messages under another name), as grpcurl does; what worked is
 * kept for the next question. The files a server hands out go into the pool of types
 * learned at run time (wire/pbdesc), with every file they import, so that the client,
 * the balancer and the explainer then know the server's methods like their own. It
 * keeps a connection of its own, so the bytes of a call shown with --wire are the
 * call's only. */
#ifndef WB_GRPCREFLECT_H
#define WB_GRPCREFLECT_H

#include <stddef.h>

#include "base/buf.h"

typedef struct grpcreflect grpcreflect;

typedef enum reflect_status {
    REFLECT_OK = 0,
    REFLECT_FAILED = -1,      /* the connection, a deadline, or a reply that is not reflection */
    REFLECT_UNSUPPORTED = -2, /* the server serves neither version of reflection */
    REFLECT_NOT_FOUND = -3,   /* the server's reflection does not know the symbol */
} reflect_status;

/* Connects to HOST:PORT within timeout_ms; every question then has that deadline too.
 * Returns the client (caller frees), or NULL with err. */
grpcreflect *grpcreflect_new(const char *addr, int timeout_ms, char *err, size_t errlen);
void grpcreflect_free(grpcreflect *r);
/* "grpc.reflection.v1" or "grpc.reflection.v1alpha": the one that answered; NULL before. */
const char *grpcreflect_service(const grpcreflect *r);

/* Appends the names of the services the server lists to out, one a line. */
reflect_status grpcreflect_services(grpcreflect *r, buf *out, char *err, size_t errlen);
/* Fetches the file that defines symbol (a service, method, message or enum), and every
 * file it imports that is not known yet, into wire/pbdesc, and links them. */
reflect_status grpcreflect_load_symbol(grpcreflect *r, const char *symbol, char *err, size_t errlen);

#endif
