/* mtprobe: MTProto 2.0 conformance harness.  Dispatches to a subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define MTP_REGISTRY_ENTRY(sym, name) extern const struct mtp_cli_cmd sym;
#include "cli_cmds.inc"
#undef MTP_REGISTRY_ENTRY

static const struct mtp_cli_cmd *const commands[] = {
#define MTP_REGISTRY_ENTRY(sym, name) &sym,
#include "cli_cmds.inc"
#undef MTP_REGISTRY_ENTRY
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: mtprobe <command> [options]\n"
                 "       mtprobe <command> --help\n\n"
                 "MTProto 2.0 conformance harness (version %s).\n\ncommands:\n",
            MTPROBE_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nexit codes: 0 all passed, 1 a check failed, 2 bad command line, 3 the run could not proceed\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MTP_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return MTP_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("mtprobe %s\n", MTPROBE_VERSION);
        return MTP_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i]->name) != 0)
            continue;
        for (int a = 2; a < argc; a++) {
            if (strcmp(argv[a], "--") == 0)
                break;
            if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
                commands[i]->usage(stdout);
                return MTP_EXIT_OK;
            }
        }
        return commands[i]->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "mtprobe: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return MTP_EXIT_USAGE;
}
