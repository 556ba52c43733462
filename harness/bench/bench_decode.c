/* The capture decoder against tshark: see bench_decode.h. */
#include "bench/bench_decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decode/dec_synth.h"
#include "decode/decode.h"

#define RUNS 3

struct capture {
    char dir[64], pcap[96], keys[96];
    double mb;
};

static int make_capture(struct capture *c)
{
    snprintf(c->dir, sizeof c->dir, "/tmp/mtprobe-bench-decode-XXXXXX");
    if (mkdtemp(c->dir) == NULL)
        return MTP_ERR_IO;
    snprintf(c->pcap, sizeof c->pcap, "%s/capture.pcap", c->dir);
    snprintf(c->keys, sizeof c->keys, "%s/keys.log", c->dir);
    FILE *f = fopen(c->pcap, "wb");
    if (f == NULL)
        return MTP_ERR_IO;
    struct mtp_synth_opts o = {.connections = 1000, .concurrent = 100, .pings = 20, .calls = 30, .fresh_every = 4,
                               .seed = 2024, .keylog = c->keys, .pcap = f};
    struct mtp_synth_stats st;
    int rc = mtp_synth_capture(&o, &st, NULL);
    if (fclose(f) != 0 && rc == MTP_OK)
        rc = MTP_ERR_IO;
    struct stat sb;
    if (rc == MTP_OK && stat(c->pcap, &sb) == 0)
        c->mb = (double)sb.st_size / 1e6;
    return rc;
}

static void remove_capture(const struct capture *c)
{
    unlink(c->pcap);
    unlink(c->keys);
    rmdir(c->dir);
}

/* Seconds of one tshark run, or a negative value when tshark is missing or fails. */
static double tshark_once(const char *pcap)
{
    double t0 = mtp_bench_now_s();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *devnull = freopen("/dev/null", "w", stdout);
        FILE *devnull2 = freopen("/dev/null", "w", stderr);
        (void)devnull, (void)devnull2;
        execlp("tshark", "tshark", "-n", "-r", pcap, "-q", "-z", "follow,tcp,raw,0", (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return mtp_bench_now_s() - t0;
}

/* Seconds of one decoder run at a stage. */
static int decode_once(const struct capture *c, int stop_after, enum mtp_decode_format format, double *secs)
{
    FILE *out = fopen("/dev/null", "w");
    if (out == NULL)
        return MTP_ERR_IO;
    struct mtp_decode_opts o = {.format = format, .stop_after = stop_after, .out = out};
    o.keylogs[o.nkeylogs++] = c->keys;
    struct mtp_decode_stats st;
    double t0 = mtp_bench_now_s();
    int rc = mtp_decode_file(c->pcap, &o, &st, NULL);
    *secs = mtp_bench_now_s() - t0;
    fclose(out);
    if (rc == MTP_OK && stop_after == 0 && (st.undecrypted || st.tl_errors || st.messages == 0))
        rc = MTP_ERR_INTERNAL; /* a decoder that gave up would look fast */
    return rc;
}

int mtp_bench_decode(const struct mtp_bench_sink *sink)
{
    struct capture c;
    memset(&c, 0, sizeof c);
    int rc = make_capture(&c);
    if (rc < 0) {
        remove_capture(&c);
        return rc;
    }
    static const struct {
        const char *name;
        int stop_after;
        enum mtp_decode_format format;
    } stages[] = {
        {"decode_reassemble", 1, MTP_DECODE_NONE},
        {"decode_decrypt", 2, MTP_DECODE_NONE},
        {"decode_jsonl", 0, MTP_DECODE_JSONL},
        {"decode_text", 0, MTP_DECODE_TEXT},
    };
    enum { NSTAGES = sizeof stages / sizeof stages[0] };
    double best[NSTAGES] = {0}, tshark = 0;
    bool have_tshark = true;
    /* Interleaved, so that the machine's load shifts both sides of each ratio alike. */
    for (int run = 0; run < RUNS && rc == MTP_OK; run++) {
        if (have_tshark && run < 2) {
            double t = tshark_once(c.pcap);
            if (t < 0)
                have_tshark = false;
            else if (c.mb / t > tshark)
                tshark = c.mb / t;
        }
        for (size_t s = 0; s < NSTAGES && rc == MTP_OK; s++) {
            double t;
            rc = decode_once(&c, stages[s].stop_after, stages[s].format, &t);
            if (rc == MTP_OK && c.mb / t > best[s])
                best[s] = c.mb / t;
        }
    }
    remove_capture(&c);
    if (rc < 0)
        return rc;
    sink->record(sink->ctx, "decode_capture", c.mb, "MB", 0);
    if (have_tshark)
        sink->record(sink->ctx, "tshark_follow_raw", tshark, "MB/s", 0);
    else
        fprintf(stderr, "mtprobe bench: tshark not found: the decoder's figures have no ceiling\n");
    for (size_t s = 0; s < NSTAGES; s++)
        sink->record(sink->ctx, stages[s].name, best[s], "MB/s", have_tshark ? tshark : 0);
    return MTP_OK;
}
