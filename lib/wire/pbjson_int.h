/* pbjson_int.h -- what pbjson.c (messages, the well-known types) and pbjson_field.c (fields, scalars) share. */
#ifndef WB_PBJSON_INT_H
#define WB_PBJSON_INT_H

#include "wire/pbjson.h"

#define PJ_MAX_DEPTH 64

typedef struct pj_ctx pj_ctx;
struct pj_ctx {
    pbjson_opts opts;
    /* a message field's message, either way (pbjson.c's, called by pbjson_field.c) */
    value *(*from_message)(pj_ctx *c, const ProtobufCMessage *msg, int depth);
    int (*to_message)(pj_ctx *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg, const value *v,
                      int depth);
    char *err;
    size_t errlen;
    bool failed;    /* err holds the reason; otherwise a NULL result means no memory */
    char path[256]; /* the field being read or written, "p.weight", "score[2]" */
};

/* The well-known types with a JSON form of their own, by the message's full name. */
typedef enum pj_wkt {
    PJ_PLAIN, PJ_ANY, PJ_TIMESTAMP, PJ_DURATION, PJ_WRAPPER, PJ_STRUCT, PJ_VALUE, PJ_LIST,
    PJ_FIELDMASK, PJ_EMPTY,
} pj_wkt;
pj_wkt pj_wkt_of(const ProtobufCMessageDescriptor *d);

/* Sets err: `field "path": ` and then fmt; returns -1. */
int pj_fail(pj_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pj_fail_want(pj_ctx *c, const char *want, const value *v);
/* The field's descriptor by its proto name; a well-known type with a field missing fails. */
const ProtobufCFieldDescriptor *pj_field(pj_ctx *c, const ProtobufCMessageDescriptor *d, const char *name);
/* A fresh message of type d with every field at its default, or NULL. */
ProtobufCMessage *pbfield_new_message(const ProtobufCMessageDescriptor *d);

/* message -> value. pj_from_message (pbjson.c) dispatches on the well-known types;
 * pj_from_fields appends msg's fields to the struct st; pj_from_field is one field's JSON whether it is
 * set or not (a list for a repeated field, an object for a map). NULL on failure. */
value *pj_from_message(pj_ctx *c, const ProtobufCMessage *msg, int depth);
int pj_from_fields(pj_ctx *c, const ProtobufCMessage *msg, value *st, int depth);
value *pj_from_field(pj_ctx *c, const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
                     int depth);

/* value -> message, filling msg (fresh from pbfield_new_message); pj_to_message is pbjson.c's.
 * pj_to_fields skips the key named skip (Any's "@type"). Return 0, or -1 with err. */
int pj_to_message(pj_ctx *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg, const value *v,
                  int depth);
int pj_to_fields(pj_ctx *c, const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg, const value *v,
                 int depth, const char *skip);
int pj_to_field(pj_ctx *c, const ProtobufCFieldDescriptor *fd, ProtobufCMessage *msg, const value *v,
                int depth);

#endif
