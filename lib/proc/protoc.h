/* protoc.h -- .proto files compiled into a descriptor set by protoc, as grpcurl's -proto does.
 *
 * The learner's .proto files are read by the real compiler (Debian's protoc, else
 * protoc-c, which takes the same options), never by a parser of ours: what protoc
 * accepts is what the workbench knows, and its error messages are the learner's. */
#ifndef WB_PROTOC_H
#define WB_PROTOC_H

#include <stddef.h>

#include "base/buf.h"

enum { PROTOC_MAX_SET = 16 * 1024 * 1024 }; /* bytes of descriptor set taken */

/* Compiles files (each under one of import_paths; with none given, each file's own
 * directory is its import path) with --include_imports into a FileDescriptorSet,
 * appended to set. Returns 0, or -1 with err: no compiler installed, or what protoc
 * printed (the file, line and column of a mistake). */
int protoc_compile(const char *const *files, size_t nfiles, const char *const *import_paths, size_t npaths,
                   buf *set, char *err, size_t errlen);

#endif
