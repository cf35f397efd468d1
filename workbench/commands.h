/* commands.h -- the workbench's subcommands; each returns the process exit code. */
#ifndef WB_COMMANDS_H
#define WB_COMMANDS_H

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
/* The full-screen workbench; also what `workbench` with no command runs. */
int cmd_tui(int argc, char **argv);

#endif
