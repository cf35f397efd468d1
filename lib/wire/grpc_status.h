/* grpc_status.h -- gRPC's status codes (grpc-status in a call's trailers) and their names,
 * and the google.rpc.Status a server may send along (grpc-status-details-bin). */
#ifndef WB_GRPC_STATUS_H
#define WB_GRPC_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct value;

/* The codes as the gRPC spec numbers them. */
typedef enum grpc_code {
    GRPC_OK = 0,
    GRPC_CANCELLED = 1,
    GRPC_UNKNOWN = 2,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5,
    GRPC_ALREADY_EXISTS = 6,
    GRPC_PERMISSION_DENIED = 7,
    GRPC_RESOURCE_EXHAUSTED = 8,
    GRPC_FAILED_PRECONDITION = 9,
    GRPC_ABORTED = 10,
    GRPC_OUT_OF_RANGE = 11,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
    GRPC_DATA_LOSS = 15,
    GRPC_UNAUTHENTICATED = 16,
} grpc_code;

/* True when code is one of the seventeen above. */
bool grpc_status_known(int code);
/* The code's name ("INVALID_ARGUMENT" for 3), or "UNKNOWN_CODE" for a number outside the
 * table. The strings are constants: any thread may call this. */
const char *grpc_status_name(int code);

/* Decodes grpc-message's percent-encoding (p[0..n), as sent) into out, NUL-terminated
 * and cut to cap - 1 bytes. */
void grpc_message_decode(const uint8_t *p, size_t n, char *out, size_t cap);

/* One detail of a google.rpc.Status: a google.protobuf.Any. */
typedef struct grpc_status_detail {
    char *type_url; /* as sent, "type.googleapis.com/pkg.Message" */
    struct value *decoded; /* the message in proto3's JSON mapping, when its type is known
                              (compiled in or learned: wire/pbdesc.h) and its bytes parse as
                              that type; NULL otherwise */
    char *base64;   /* the message's bytes as base64 text (always set) */
} grpc_status_detail;

typedef struct grpc_status_details {
    int code;
    char *message;
    grpc_status_detail *items;
    size_t n;
} grpc_status_details;

/* Parses p[0..n) (grpc-status-details-bin, already base64-decoded) as a serialized
 * google.rpc.Status into *out, which grpc_status_details_done frees. Returns 0, or -1
 * with err when the bytes are not a Status (out is then empty). */
int grpc_status_details_decode(const uint8_t *p, size_t n, grpc_status_details *out, char *err,
                               size_t errlen);
/* Frees what grpc_status_details_decode filled in and empties d. Accepts an empty d. */
void grpc_status_details_done(grpc_status_details *d);

#endif
