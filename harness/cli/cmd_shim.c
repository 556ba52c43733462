/* `mtprobe shim`: the reference implementation behind the shim protocol. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "shim/shim.h"

#define SHIM_LINE_MAX (64u << 20)

static void shim_usage(FILE *out)
{
    fprintf(out, "usage: mtprobe shim [--list]\n\n"
                 "Speaks the shim protocol (docs/shim.md) for mtprobe's reference implementation:\n"
                 "reads one JSON request per line on stdin, writes one JSON answer per line on stdout,\n"
                 "and exits 0 at the end of input.\n\n"
                 "  --list   print the supported ops, one per line, and exit\n");
}

static void print_op(const char *op, void *ctx)
{
    (void)ctx;
    printf("%s\n", op);
}

static int shim_run(int argc, char **argv)
{
    extern const struct mtp_cli_cmd mtp_cli_cmd_shim;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0) {
            mtp_shim_foreach(print_op, NULL);
            return MTP_EXIT_OK;
        }
        return mtp_cli_usage_error(&mtp_cli_cmd_shim, "unknown argument '%s'", argv[i]);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = MTP_EXIT_OK;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        char *ans;
        if ((size_t)n > SHIM_LINE_MAX)
            ans = strdup("{\"id\":null,\"ok\":false,\"error\":\"limit_exceeded\",\"message\":\"request line over 64 MiB\"}");
        else
            ans = mtp_shim_handle_line(line);
        if (ans == NULL) {
            fprintf(stderr, "mtprobe shim: out of memory\n");
            rc = MTP_EXIT_ERROR;
            break;
        }
        fputs(ans, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(ans);
    }
    free(line);
    return rc;
}

const struct mtp_cli_cmd mtp_cli_cmd_shim = {
    .name = "shim",
    .summary = "answer shim-protocol requests on stdin with the reference implementation",
    .run = shim_run,
    .usage = shim_usage,
};
