/* commands.h -- the workbench's subcommands; each returns the process exit code. */
#ifndef WB_COMMANDS_H
#define WB_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes shared by the commands. */
enum {
    EXIT_OK = 0,
    EXIT_REMOTE_ERROR = 1, /* the server answered with an error */
    EXIT_USAGE = 2,
    EXIT_FAILED = 3, /* could not connect, deadline passed, bytes not understood */
};

int cmd_call(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_describe(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_lesson(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_mdns(int argc, char **argv);
int cmd_sniff(int argc, char **argv);
/* `workbench explain FILE.pcap` (cmd_sniff.c): every RPC call in the capture file at path
 * shown as `workbench sniff` shows them live, then a summary. ports (nports may be 0)
 * keeps only connections to or from them; wire explains each call's bytes; color is
 * auto, always or never; only ("gob", "json" or "grpc"; NULL: all) keeps one protocol's
 * connections. Returns the exit code. */
int sniff_capture_file(const char *path, const uint16_t *ports, size_t nports, bool wire,
                       const char *color, const char *only);
/* The full-screen workbench; also what `workbench` with no command runs. */
int cmd_tui(int argc, char **argv);

#endif
