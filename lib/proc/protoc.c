/* protoc.c -- running protoc (or protoc-c) on .proto files and reading the descriptor set it writes. */
#include "proc/protoc.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/tempdir.h"
#include "proc/spawn.h"

enum {
    MAX_ARGS = 256,
    COMPILE_MS = 30000,
    SHOWN_ERRORS = 2048, /* bytes of protoc's complaint kept */
};

/* Why protoc failed, from its output file: its first lines, trimmed. */
static void complaint(const char *log, int status, char *err, size_t errlen)
{
    buf out;
    buf_init(&out, SHOWN_ERRORS);
    char why[256];
    buf_read_file(&out, log, why, sizeof why); /* a cut-off complaint is still worth showing */
    size_t n = buf_size(&out);
    const char *p = (const char *)buf_data(&out);
    while (n && (p[n - 1] == '\n' || p[n - 1] == ' '))
        n--;
    if (n)
        err_set(err, errlen, "protoc: %.*s", (int)n, p);
    else
        err_set(err, errlen, "protoc exited with status %d", status);
    buf_done(&out);
}

int protoc_compile(const char *const *files, size_t nfiles, const char *const *import_paths, size_t npaths,
                   buf *set, char *err, size_t errlen)
{
    const char *compiler = spawn_on_path("protoc") ? "protoc" : spawn_on_path("protoc-c") ? "protoc-c" : NULL;
    if (!compiler) {
        err_set(err, errlen, "no protoc to compile .proto files: install Debian's protobuf-compiler");
        return -1;
    }
    if (nfiles == 0 || nfiles + npaths * 2 + 8 > MAX_ARGS) {
        err_set(err, errlen, "protoc: %zu files and %zu import paths are not a command", nfiles, npaths);
        return -1;
    }
    char dir[256], out_arg[300], log[300];
    if (tempdir_make(dir, sizeof dir, "wb-protoc") < 0) {
        err_set(err, errlen, "protoc: no scratch directory: %s", strerror(errno));
        return -1;
    }
    snprintf(out_arg, sizeof out_arg, "--descriptor_set_out=%s/set.pb", dir);
    snprintf(log, sizeof log, "%s/protoc.log", dir);
    const char *argv[MAX_ARGS];
    char *own[MAX_ARGS]; /* directories made here, freed at the end */
    size_t argc = 0, nown = 0;
    argv[argc++] = compiler;
    argv[argc++] = "--include_imports";
    argv[argc++] = out_arg;
    for (size_t i = 0; i < npaths; i++) {
        argv[argc++] = "-I";
        argv[argc++] = import_paths[i];
    }
    for (size_t i = 0; npaths == 0 && i < nfiles; i++) {
        char *copy = strdup(files[i]);
        if (!copy)
            break;
        own[nown++] = copy;
        argv[argc++] = "-I";
        argv[argc++] = dirname(copy);
    }
    for (size_t i = 0; i < nfiles; i++)
        argv[argc++] = files[i];
    argv[argc] = NULL;
    int rc = -1;
    int status = spawn_command(argv, log, COMPILE_MS, err, errlen);
    if (status > 0)
        complaint(log, status, err, errlen);
    else if (status == 0) {
        char path[300];
        snprintf(path, sizeof path, "%s/set.pb", dir);
        rc = buf_read_file(set, path, err, errlen);
    }
    for (size_t i = 0; i < nown; i++)
        free(own[i]);
    tempdir_remove(dir);
    return rc;
}
