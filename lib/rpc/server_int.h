/* server_int.h -- what the shared TCP server's files share: the command line, read by
 * server_opts.c for server.c. */
#ifndef WB_SERVER_INT_H
#define WB_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "rpc/server.h"

/* Parses argv into o (printing --help, or what is wrong, itself). Returns -1 to go on
 * serving, else the exit code (0 after --help). */
int server_parse_options(server_opts *o, const server_codec *codec, const char *prog,
                         const char *about, int argc, char **argv);

#endif
