/* The mtprobe command line: one binary, one file per subcommand
 * (harness/cli/cmd_<name>.c defines `const struct mtp_cli_cmd mtp_cli_cmd_<name>`;
 * the registry is generated from the file names). */
#ifndef MTP_CLI_H
#define MTP_CLI_H

#include <stdio.h>

/* Exit codes every subcommand uses, so CI can tell a failed check from a broken run. */
enum {
    MTP_EXIT_OK = 0,       /* everything passed */
    MTP_EXIT_FAIL = 1,     /* a check, vector or scenario failed */
    MTP_EXIT_USAGE = 2,    /* bad command line */
    MTP_EXIT_ERROR = 3,    /* the run itself could not proceed (missing file, I/O, internal error) */
};

struct mtp_cli_cmd {
    const char *name;
    const char *summary;              /* one line, for `mtprobe --help` */
    int (*run)(int argc, char **argv);  /* argv[0] is the command name; returns an MTP_EXIT_* code */
    void (*usage)(FILE *out);         /* full help for `mtprobe <cmd> --help` */
};

/* Prints "mtprobe <cmd>: <message>" to stderr and returns MTP_EXIT_USAGE. */
int mtp_cli_usage_error(const struct mtp_cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
