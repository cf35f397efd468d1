/* pbcatalog.h -- every protobuf service, method, message and file compiled into the workbench.
 *
 * The generated protobuf-c code knows messages and each method's input and output; the
 * embedded descriptor set (protoc's FileDescriptorSet of proto/) adds what protobuf-c
 * leaves out: which methods stream, and each file's serialized descriptor, which server
 * reflection hands to grpcurl and friends.
 *
 * Threads: any function may be called from any thread at any time; the first call fills
 * the tables (once, under pthread_once), and every other caller waits for it to finish. */
#ifndef WB_PBCATALOG_H
#define WB_PBCATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

typedef struct pb_method {
    const char *path;     /* "/helloworld.Greeter/SayHello", as in gRPC's :path */
    const char *service;  /* "helloworld.Greeter" */
    const char *name;     /* "SayHello" */
    const ProtobufCMessageDescriptor *input, *output;
    bool client_streaming, server_streaming;
} pb_method;

typedef struct pb_file {
    const char *name;     /* "helloworld.proto" */
    const char *package;  /* "helloworld" */
    const uint8_t *bytes; /* the serialized FileDescriptorProto */
    size_t len;
} pb_file;

/* Every method of every compiled-in service; *n receives the count. */
const pb_method *pbcatalog_methods(size_t *n);
/* Finds a method by "/pkg.Service/Method", "pkg.Service/Method" or "pkg.Service.Method".
 * NULL when unknown. (Its net/rpc name, "Arith.Multiply", is the method catalog's to
 * know: catalog_find_grpc in wire/catalog.h.) */
const pb_method *pbcatalog_find(const char *name);
/* Distinct service names ("helloworld.Greeter", ...); *n receives the count. */
const char *const *pbcatalog_services(size_t *n);
/* A message type by its full name, with or without the leading dot. */
const ProtobufCMessageDescriptor *pbcatalog_message(const char *full_name);

/* A file by its name ("helloworld.proto"); NULL when none has it. */
const pb_file *pbcatalog_file_by_name(const char *name);
/* The file declaring a symbol: a package-qualified service, method, message or enum. */
const pb_file *pbcatalog_file_for_symbol(const char *symbol);

#endif
