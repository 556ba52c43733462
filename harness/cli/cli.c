#include "cli/cli.h"

#include <stdarg.h>

int mtp_cli_usage_error(const struct mtp_cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mtprobe %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'mtprobe %s --help')\n", cmd->name);
    return MTP_EXIT_USAGE;
}
