/* grpc_status.h -- gRPC's status codes (grpc-status in a call's trailers) and their names. */
#ifndef WB_GRPC_STATUS_H
#define WB_GRPC_STATUS_H

#include <stdbool.h>

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

#endif
