/* Runs the mock DC benchmarks (harness/bench/bench_server.h) and prints one
 * line per figure, until `mtprobe bench` runs them. */
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench_server.h"

static void print(void *ctx, const char *name, double value, const char *unit, double ceiling)
{
    (void)ctx;
    if (ceiling > 0)
        printf("%-20s %12.2f %-4s ceiling %12.2f  (%.0f%%)\n", name, value, unit, ceiling, 100.0 * value / ceiling);
    else
        printf("%-20s %12.2f %s\n", name, value, unit);
}

int main(int argc, char **argv)
{
    struct mtp_bench_sink sink = {print, NULL, argc > 1 ? atof(argv[1]) : 0};
    int rc = mtp_bench_server(&sink);
    if (rc < 0)
        fprintf(stderr, "mtps_bench: %s\n", mtp_err_name(rc));
    return rc < 0 ? 1 : 0;
}
