/* main.c -- the workbench command: dispatches to its subcommands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "base/i18n.h"
#include "services/services.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
} command;

static const command commands[] = {
    {"call", cmd_call, N_("call URL METHOD ARGS [--wire]   call a method, print the result")},
    {"list", cmd_list, N_("list grpc://HOST:PORT [SERVICE] a gRPC server's services or methods")},
    {"describe", cmd_describe, N_("describe grpc://HOST:PORT SYM   a service or message as .proto source")},
    {"explain", cmd_explain, N_("explain FORMAT [FILE]|FILE.pcap explain bytes (gob, json, grpc, dns)")},
    {"load", cmd_load, N_("load --service NAME ...         calls at a rate through the balancer")},
    {"registry", cmd_registry, N_("registry URL [NAME] [--watch]   list (and follow) a registry")},
    {"lesson", cmd_lesson, N_("lesson [N]                      the tutorials' lessons (--check N|all)")},
    {"mdns", cmd_mdns, N_("mdns [--interface IF] [--wire]  the multicast DNS packets on a link")},
    {"sniff", cmd_sniff, N_("sniff [--port P] [--wire]       the RPC calls other programs make, live")},
    {"lab", cmd_lab, N_("lab --hosts N --run STEP...      hosts in namespaces, programs, faults")},
    {"tui", cmd_tui, N_("tui [--registry R] [--no-mouse] the full-screen workbench (the default)")},
    {"compare", cmd_compare, N_("compare METHOD ARGS             one call in every encoding, side by side")},
};

static void usage(FILE *f)
{
    fputs(_("Usage: workbench [--lang en|zh] [COMMAND [ARGS...]]\n"
            "RPC Workbench: call real RPC servers and see every byte of every call.\n\n"
            "Without a command it opens the full-screen workbench (workbench tui).\n\n"
            "Commands:\n"),
          f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %s\n", _(commands[i].synopsis));
    fputs(_("\n"
            "  --lang en|zh  the language of all it prints, anywhere on the line (default:\n"
            "                Chinese when the locale is, e.g. LANG=zh_CN.UTF-8; else English)\n"
            "\n"
            "Examples:\n"),
          f);
    fputs("  workbench call json://127.0.0.1:8080 hello.HelloWorld '\"李白\"'\n"
          "  workbench call gob://127.0.0.1:8081 Arith.Divide '{\"A\":7,\"B\":2}' --wire\n"
          "  workbench explain gob capture.bin\n"
          "  workbench sniff --port 8080\n"
          "  workbench compare Arith.Multiply '{\"A\":7,\"B\":8}'\n"
          "  workbench load --service hello --codec json --spawn 2 --rate 200 \\\n"
          "                 --duration 8 --kill-after 3\n"
          "  workbench --lang zh lesson 2\n\n",
          f);
    fputs(_("'workbench COMMAND --help' describes one command.\n"), f);
}

int main(int argc, char **argv)
{
    char err[256];
    if (i18n_setup(i18n_take_lang(&argc, argv), err, sizeof err) < 0) {
        fprintf(stderr, "workbench: %s\n", err);
        return EXIT_USAGE;
    }
    if (services_register(err, sizeof err) < 0) { /* the sample methods' signatures, for calls */
        fprintf(stderr, "workbench: %s\n", err);
        return EXIT_FAILED;
    }
    if (argc < 2 || strncmp(argv[1], "--registry", 10) == 0 || /* also --registry-user... */
        strcmp(argv[1], "--no-mouse") == 0 || strncmp(argv[1], "--proto", 7) == 0 || /* also --protoset */
        strncmp(argv[1], "-I", 2) == 0 || strncmp(argv[1], "--import-path", 13) == 0)
        return cmd_tui(argc, argv); /* the TUI's options without the word tui */
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, _("workbench: unknown command \"%s\"\n\n"), argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
