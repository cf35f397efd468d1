/* pbdesc.h -- protobuf types learned at run time: descriptor sets, .proto files compiled by protoc, server reflection.
 *
 * The workbench's own services are compiled in (wire/pbcatalog). Any other service is
 * described by FileDescriptorProtos: a descriptor set (`protoc --descriptor_set_out
 * --include_imports`, grpcurl's protoset), or the files a server's reflection hands out.
 * This module turns them into protobuf-c descriptors built at run time, so that
 * protobuf-c itself packs, unpacks and frees messages of types it was never compiled
 * with, and every walker over descriptors (wire/pbvalue, wire/pbjson, wire/pbexplain)
 * works on them unchanged.
 *
 * One pool per process. Files are added, then linked: a file whose imports are all
 * present gets its messages, enums and services built, and its methods are added to
 * the method catalog (wire/catalog) as gRPC-only signatures, so the client, the
 * balancer and the explainer find them by path like any other method. A file already
 * built under the same name is skipped (the first to describe it wins); so is a method
 * path the catalog already knows.
 *
 * The descriptors are laid out as protoc-c would generate them (struct offsets, labels,
 * flags, defaults, number ranges), except that message_init is NULL: protobuf-c's
 * protobuf_c_message_init cannot be used on them. A fresh message of such a type comes
 * from protobuf_c_message_unpack(d, NULL, 0, NULL), which initializes it generically
 * (it fails for a type with required fields; wire/pbvalue builds those itself), and is
 * freed with protobuf_c_message_free_unpacked as usual. proto3 `optional` (which
 * protoc-c does not generate) is held like proto2's optional: has_x for scalars and
 * bytes, NULL for an unset string or message.
 *
 * An import that no added file provides but the workbench has compiled in (pbcatalog)
 * is taken from there and built like any other file; its services are not among
 * pbdesc_services. A file that fails to build stays failed, and so do the files that
 * import it. Caps: 4096 files, 65536 messages, 64 MiB of descriptors, nesting 64 deep.
 *
 * Threads: every function takes the pool's lock. What the lookups return lives for the
 * life of the process and never changes once returned. */
#ifndef WB_PBDESC_H
#define WB_PBDESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "base/buf.h"
#include "wire/pbcatalog.h"

/* Adds every FileDescriptorProto of a serialized FileDescriptorSet. Returns how many
 * files were new, or -1 with err when the bytes are not a descriptor set. */
int pbdesc_add_set(const uint8_t *p, size_t n, char *err, size_t errlen);
/* Adds one serialized FileDescriptorProto (as server reflection sends them). Returns 1
 * when new, 0 when a file of that name was already added, -1 with err when the bytes
 * are not a FileDescriptorProto. */
int pbdesc_add_file(const uint8_t *p, size_t n, char *err, size_t errlen);

/* The name of a file that an added file imports and nobody has added yet, copied into
 * out; false when none is missing. (The reflection client asks the server for it.) */
bool pbdesc_missing_import(char *out, size_t cap);

/* Builds every added file whose imports are present and not built yet, and adds its
 * methods to the catalog. Returns how many files were built, or -1 with err naming the
 * file and what is wrong (a type it refers to that no file defines, a field kind
 * protobuf-c cannot hold, a cap reached). Files left waiting for an import are not an
 * error; pbdesc_missing_import names what they wait for. */
int pbdesc_link(char *err, size_t errlen);

/* Lookups over the built files and, after them, the compiled-in ones (pbcatalog).
 * Names are package-qualified, with or without a leading dot. NULL when unknown. */
const ProtobufCMessageDescriptor *pbdesc_message(const char *full_name);
const ProtobufCEnumDescriptor *pbdesc_enum(const char *full_name);
/* A method by "/pkg.Service/Method", "pkg.Service/Method" or "pkg.Service.Method"
 * (a service with no package: "/sum/add", "sum/add", "sum.add"). */
const pb_method *pbdesc_method(const char *name);

/* The services the built files declare, in the order they were built; *n gets the count. */
const char *const *pbdesc_services(size_t *n);
/* The i-th method of service (a built file's or a compiled-in one), in declaration
 * order; NULL past the last. */
const pb_method *pbdesc_service_method(const char *service, size_t i);
/* Whether symbol is a service, method, message, enum or field (Message.field) of a built
 * file or a compiled-in one. */
bool pbdesc_knows(const char *symbol);

/* Appends to out what grpcurl's `describe` prints for symbol, as protobuf source: a
 * line saying what the symbol is ("helloworld.Greeter is a service:"), then its
 * definition (a service with its rpcs, a method's rpc line, a message with its fields,
 * nested types, oneofs and maps, an enum with its values, one field). Returns 0, or -1
 * with err when no file describes symbol. */
int pbdesc_describe(const char *symbol, buf *out, char *err, size_t errlen);

#endif
