/* End to end: `mtprobe serve` on port 0, driven over real sockets by the
 * auth client machine and the session client (mtps_client) on every
 * transport; exact answers, exact transport errors, and that a broken
 * connection breaks nothing else. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mtp/hex.h"
#include "mtp_test.h"
#include "mtps_client.h"
#include "mtps_server.h"
#include "mtps_util.h"
#include "tlengine/tl_files.h"
#include "tlengine/tl_json.h"

struct server_proc {
    pid_t pid;
    FILE *out;
    uint16_t port;
    int dc;
    char fingerprint[17];
    char dir[64];
};

/* Starts mtprobe serve with extra arguments; waits for its listening line. */
static void server_start(struct server_proc *sp, const char *const *extra)
{
    snprintf(sp->dir, sizeof sp->dir, "/tmp/mtps_loop_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(sp->dir));
    char key[128], cmd[256];
    snprintf(key, sizeof key, "%s/key.pem", sp->dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", mtp_test_path("vectors/rsa/test_key_private.pem"), key);
    ck_assert_int_eq(system(cmd), 0);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    const char *argv[40] = {MTPROBE_BINARY, "serve", "--listen", "127.0.0.1:0", "--rsa-key", key};
    size_t n = 6;
    while (extra && *extra && n < 38)
        argv[n++] = *extra++;
    argv[n] = NULL;
    sp->pid = fork();
    ck_assert_int_ge(sp->pid, 0);
    if (sp->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (getenv("MTPS_TEST_LOG") == NULL)
            dup2(devnull, 2);
        execv(MTPROBE_BINARY, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    sp->out = fdopen(fds[0], "r");
    char line[256];
    ck_assert_msg(fgets(line, sizeof line, sp->out) != NULL, "mtprobe serve printed no listening line");
    unsigned port;
    ck_assert_msg(sscanf(line, "listening 127.0.0.1:%u dc %d fingerprint %16s", &port, &sp->dc, sp->fingerprint) ==
                      3,
                  "unexpected line: %s", line);
    sp->port = (uint16_t)port;
}

/* SIGTERM: the server must exit 0. */
static void server_stop(struct server_proc *sp)
{
    kill(sp->pid, SIGTERM);
    int status = 0;
    ck_assert_int_eq(waitpid(sp->pid, &status, 0), sp->pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mtprobe serve exited with status %d", status);
    fclose(sp->out);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sp->dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct peer {
    struct mtps_client c;
    int fd;
    bool eof;
    size_t reads, bytes; /* recv() calls that returned data, and their bytes */
};

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the server closed: the caller checks what it received */
        p += w;
        n -= (size_t)w;
    }
}

/* Sends what the client has, feeds it what arrives, until done(p) or 10 s. */
static void drive(struct peer *p, bool (*done)(const struct peer *))
{
    int64_t end = mono_ms() + 10000;
    while (!done(p) && !p->eof && mono_ms() < end) {
        if (p->c.out.len) {
            send_all(p->fd, p->c.out.p, p->c.out.len);
            mtp_wr_reset(&p->c.out);
        }
        struct pollfd pf = {.fd = p->fd, .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        uint8_t buf[65536];
        ssize_t r = recv(p->fd, buf, sizeof buf, 0);
        if (r <= 0) {
            p->eof = true;
            break;
        }
        p->reads++;
        p->bytes += (size_t)r;
        struct mtp_error err;
        mtp_error_clear(&err);
        int rc = mtps_client_feed(&p->c, buf, (size_t)r, &err);
        ck_assert_msg(rc == MTP_OK, "client: %s: %s", mtp_err_name(rc), err.msg);
    }
}

static struct mtp_rsa_key *public_key(void)
{
    size_t len;
    uint8_t *pem = mtp_test_read_file("vectors/rsa/test_key_public_pkcs1.pem", &len);
    struct mtp_rsa_key *k;
    ck_assert_ok(mtp_rsa_key_from_pem(pem, len, &k, NULL));
    return k;
}

static struct mtp_rsa_key *the_key;

static void peer_open(struct peer *p, uint16_t port, enum mtp_tr_kind kind, bool obfs, const struct mtp_env *env)
{
    memset(p, 0, sizeof *p);
    struct mtps_client_opts o = {.kind = kind, .obfuscated = obfs, .dc = 2, .server_key = the_key, .env = env};
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_init(&p->c, &o, &err));
    p->fd = dial(port);
}

static void peer_close(struct peer *p)
{
    mtps_client_free(&p->c);
    close(p->fd);
}

static bool is_ready(const struct peer *p) { return mtps_client_ready(&p->c) || p->c.state == MTPS_CL_FAILED; }
static bool got_pong(const struct peer *p) { return p->c.pongs > 0; }
static bool got_answer(const struct peer *p) { return p->c.results + p->c.rpc_errors > 0; }
static bool got_error(const struct peer *p) { return p->c.transport_error != 0; }

static size_t query(const char *inner, uint8_t *out, size_t cap)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"_\":\"invokeWithLayer\",\"layer\":198,\"query\":{\"_\":\"initConnection\",\"api_id\":1,"
             "\"device_model\":\"t\",\"system_version\":\"t\",\"app_version\":\"1\",\"system_lang_code\":\"en\","
             "\"lang_pack\":\"\",\"lang_code\":\"en\",\"query\":%s}}",
             inner);
    const char *names[1] = {"api"};
    struct mtp_tl_schema *s;
    ck_assert_ok(mtp_tl_schema_load(names, 1, &s, NULL));
    json_t *j = json_loads(text, 0, NULL);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, cap, NULL);
    ck_assert_ok(mtp_tl_json_encode(s, NULL, j, &w, NULL));
    json_decref(j);
    mtp_tl_schema_free(s);
    return w.len;
}

struct variant {
    enum mtp_tr_kind kind;
    bool obfuscated;
};
static const struct variant variants[] = {
    {MTP_TR_ABRIDGED, false}, {MTP_TR_INTERMEDIATE, false}, {MTP_TR_PADDED, false},
    {MTP_TR_FULL, false},     {MTP_TR_ABRIDGED, true},      {MTP_TR_INTERMEDIATE, true},
    {MTP_TR_PADDED, true},
};

START_TEST(every_transport_over_a_socket)
{
    the_key = public_key();
    struct server_proc sp;
    server_start(&sp, NULL);
    ck_assert_int_eq(sp.dc, 2);
    /* the printed fingerprint is the TL long's value in big-endian hex */
    uint8_t fp[8];
    ck_assert_ok(mtp_rsa_key_fingerprint(the_key, fp, NULL));
    char want[17];
    mtps_fingerprint_hex(fp, want);
    ck_assert_str_eq(sp.fingerprint, want);
    struct mtp_env env = mtp_env_system();
    uint8_t q[512];
    size_t qn = query("{\"_\":\"help.getNearestDc\"}", q, sizeof q);
    size_t un = query("{\"_\":\"help.getSupport\"}", q + qn, sizeof q - qn);
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        struct peer p;
        peer_open(&p, sp.port, variants[i].kind, variants[i].obfuscated, &env);
        struct mtp_error err;
        mtp_error_clear(&err);
        ck_assert_ok(mtps_client_start(&p.c, &err));
        drive(&p, is_ready);
        ck_assert_msg(mtps_client_ready(&p.c), "transport %zu: %s", i, p.c.error_text);
        ck_assert_ok(mtps_client_ping(&p.c, 1000 + i, &err));
        drive(&p, got_pong);
        ck_assert_uint_eq(p.c.last_pong_id, 1000 + i);
        ck_assert_ok(mtps_client_query(&p.c, q, qn, NULL, &err));
        drive(&p, got_answer);
        ck_assert_uint_eq(p.c.results, 1);
        /* nearestDc country:"ZZ" this_dc:2 nearest_dc:2 */
        ck_assert_hex_eq(p.c.last_result, p.c.last_result_len, "75171a8e025a5a000200000002000000");
        ck_assert_ok(mtps_client_query(&p.c, q + qn, un, NULL, &err));
        p.c.results = 0;
        drive(&p, got_answer);
        ck_assert_uint_eq(p.c.rpc_errors, 1);
        ck_assert_int_eq(p.c.last_rpc_code, 400);
        ck_assert_str_eq(p.c.last_rpc_message, "METHOD_NOT_SUPPORTED");
        peer_close(&p);
    }
    server_stop(&sp);
    mtp_rsa_key_free(the_key);
}
END_TEST

START_TEST(split_writes_send_the_output_a_byte_at_a_time)
{
    /* behaviour.split_writes 1: every frame boundary and header arrives split. */
    char path[] = "/tmp/mtps_split_XXXXXX.json";
    int fd = mkstemps(path, 5);
    ck_assert_int_ge(fd, 0);
    static const char json[] = "{\"name\":\"split\",\"description\":\"one byte every 2 ms\","
                               "\"behaviour\":{\"split_writes\":1,\"split_delay_ms\":2}}";
    ck_assert_int_eq(write(fd, json, sizeof json - 1), (ssize_t)(sizeof json - 1));
    close(fd);
    the_key = public_key();
    struct server_proc sp;
    const char *extra[] = {"--scenario", path, NULL};
    server_start(&sp, extra);
    struct mtp_env env = mtp_env_system();
    struct peer p;
    peer_open(&p, sp.port, MTP_TR_INTERMEDIATE, false, &env);
    ck_assert_ok(mtps_client_start(&p.c, NULL));
    int64_t t0 = mono_ms();
    drive(&p, is_ready);
    int64_t took = mono_ms() - t0;
    ck_assert_msg(mtps_client_ready(&p.c), "%s", p.c.error_text);
    /* resPQ, server_DH_params_ok and dh_gen_ok: hundreds of bytes, 2 ms apart */
    ck_assert_uint_gt(p.bytes, 600);
    ck_assert_int_ge(took, (int64_t)(p.bytes - 3) * 2 - 100);
    ck_assert_uint_ge(p.reads, p.bytes / 8);
    ck_assert_ok(mtps_client_ping(&p.c, 7, NULL));
    drive(&p, got_pong);
    ck_assert_uint_eq(p.c.pongs, 1);
    peer_close(&p);
    server_stop(&sp);
    mtp_rsa_key_free(the_key);
    unlink(path);
}
END_TEST

START_TEST(unknown_key_gets_404_and_garbage_closes_only_its_connection)
{
    the_key = public_key();
    struct server_proc sp;
    server_start(&sp, NULL);
    struct mtp_env env = mtp_env_system();
    struct peer honest;
    peer_open(&honest, sp.port, MTP_TR_INTERMEDIATE, true, &env);
    ck_assert_ok(mtps_client_start(&honest.c, NULL));
    drive(&honest, is_ready);
    ck_assert(mtps_client_ready(&honest.c));

    /* An encrypted packet under a key the server never made. */
    struct peer stranger;
    peer_open(&stranger, sp.port, MTP_TR_ABRIDGED, false, &env);
    uint8_t pkt[8 + 16 + 32];
    memset(pkt, 0x77, sizeof pkt);
    ck_assert_ok(mtps_client_send_raw(&stranger.c, pkt, sizeof pkt, NULL));
    drive(&stranger, got_error);
    ck_assert_int_eq(stranger.c.transport_error, -404);
    drive(&stranger, got_error); /* then the server closes */
    uint8_t b;
    ck_assert_int_eq(recv(stranger.fd, &b, 1, 0), 0);
    peer_close(&stranger);

    /* Garbage: the server closes that connection without a word. */
    int g = dial(sp.port);
    uint8_t junk[256];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    send_all(g, junk, sizeof junk);
    struct pollfd pf = {.fd = g, .events = POLLIN};
    ck_assert_int_eq(poll(&pf, 1, 5000), 1);
    ck_assert_int_eq(recv(g, &b, 1, 0), 0);
    close(g);

    /* An oversized length claim: closed as well. */
    g = dial(sp.port);
    static const uint8_t big[] = {0xee, 0xee, 0xee, 0xee, 0xff, 0xff, 0xff, 0x7f};
    send_all(g, big, sizeof big);
    ck_assert_int_eq(poll(&pf, 1, 5000), 1);
    pf.fd = g;
    ck_assert_int_eq(poll(&pf, 1, 5000), 1);
    ck_assert_int_eq(recv(g, &b, 1, 0), 0);
    close(g);

    /* The honest connection did not notice. */
    ck_assert_ok(mtps_client_ping(&honest.c, 77, NULL));
    drive(&honest, got_pong);
    ck_assert_uint_eq(honest.c.last_pong_id, 77);
    peer_close(&honest);
    server_stop(&sp);
    mtp_rsa_key_free(the_key);
}
END_TEST

static bool many_pongs(const struct peer *p) { return p->c.pongs >= 40 || p->c.transport_error != 0; }

START_TEST(flood_gets_429)
{
    the_key = public_key();
    struct server_proc sp;
    const char *extra[] = {"--flood-packets", "20", "--flood-interval", "10s", "--max-conns-per-ip", "3", NULL};
    server_start(&sp, extra);
    struct mtp_env env = mtp_env_system();
    struct peer p;
    peer_open(&p, sp.port, MTP_TR_ABRIDGED, false, &env);
    ck_assert_ok(mtps_client_start(&p.c, NULL));
    drive(&p, is_ready);
    ck_assert(mtps_client_ready(&p.c));
    /* 40 pings, each in its own packet */
    for (uint64_t i = 0; i < 40; i++) {
        ck_assert_ok(mtps_client_ping(&p.c, i, NULL));
        send_all(p.fd, p.c.out.p, p.c.out.len);
        mtp_wr_reset(&p.c.out);
    }
    drive(&p, many_pongs);
    ck_assert_int_eq(p.c.transport_error, -429);
    ck_assert_uint_lt(p.c.pongs, 20);

    /* Connections from one address: the fourth gets -429 once it has spoken. */
    struct peer q[4];
    for (int i = 0; i < 4; i++)
        peer_open(&q[i], sp.port, MTP_TR_INTERMEDIATE, false, &env);
    usleep(200000);
    ck_assert_ok(mtps_client_start(&q[3].c, NULL));
    drive(&q[3], got_error);
    ck_assert_int_eq(q[3].c.transport_error, -429);
    ck_assert_ok(mtps_client_start(&q[0].c, NULL));
    drive(&q[0], is_ready);
    ck_assert(mtps_client_ready(&q[0].c));
    for (int i = 0; i < 4; i++)
        peer_close(&q[i]);
    peer_close(&p);
    server_stop(&sp);
    mtp_rsa_key_free(the_key);
}
END_TEST

START_TEST(keylog_and_keys_file_let_a_client_come_back)
{
    the_key = public_key();
    struct server_proc sp;
    char keylog[128], keys[128];
    snprintf(keylog, sizeof keylog, "/tmp/mtps_keylog_%d.txt", (int)getpid());
    snprintf(keys, sizeof keys, "/tmp/mtps_keys_%d.txt", (int)getpid());
    unlink(keylog);
    unlink(keys);
    const char *extra[] = {"--keylog", keylog, "--keys-file", keys, NULL};
    server_start(&sp, extra);
    struct mtp_env env = mtp_env_system();
    struct peer p;
    peer_open(&p, sp.port, MTP_TR_INTERMEDIATE, true, &env);
    ck_assert_ok(mtps_client_start(&p.c, NULL));
    drive(&p, is_ready);
    ck_assert(mtps_client_ready(&p.c));
    struct mtp_auth_result key = p.c.key;
    peer_close(&p);
    server_stop(&sp);

    /* The key log: a comment, the obfuscated2 line, the key line. */
    FILE *f = fopen(keylog, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    char want[600], idh[17], keyh[513];
    mtp_hex_encode(key.auth_key_id, 8, idh);
    mtp_hex_encode(key.auth_key, 256, keyh);
    snprintf(want, sizeof want, "AUTH_KEY %s %s\n", idh, keyh);
    bool found = false, obfs = false;
    while (fgets(line, sizeof line, f)) {
        found |= strcmp(line, want) == 0;
        obfs |= strncmp(line, "OBFS2 ", 6) == 0 && strlen(line) == 6 + 128 + 1 + 64 + 1 + 32 + 1 + 64 + 1 + 32 + 1;
    }
    fclose(f);
    ck_assert_msg(found, "no AUTH_KEY line for the new key");
    ck_assert(obfs);

    /* A second server with the same keys file knows the key. */
    server_start(&sp, extra);
    struct peer back;
    peer_open(&back, sp.port, MTP_TR_INTERMEDIATE, false, &env);
    back.c.o.salt_zero = true;
    ck_assert_ok(mtps_client_resume(&back.c, &key, NULL));
    ck_assert_ok(mtps_client_ping(&back.c, 99, NULL));
    drive(&back, got_pong);
    ck_assert_int_eq(back.c.transport_error, 0);
    ck_assert_uint_eq(back.c.last_pong_id, 99);
    ck_assert_uint_eq(back.c.bad_salts, 1); /* salt 0 -> bad_server_salt, then the pong */
    peer_close(&back);
    server_stop(&sp);
    unlink(keylog);
    unlink(keys);
    mtp_rsa_key_free(the_key);
}
END_TEST


/* Runs mtprobe serve with args and returns its exit status (stderr to /dev/null). */
static int run_serve(const char *const *args)
{
    const char *argv[24] = {MTPROBE_BINARY, "serve"};
    size_t n = 2;
    while (*args && n < 22)
        argv[n++] = *args++;
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execv(MTPROBE_BINARY, (char *const *)argv);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(command_line_mistakes_and_a_fresh_key)
{
    const char *none[] = {NULL};
    ck_assert_int_eq(run_serve(none), 2);
    const char *help[] = {"--help", NULL};
    ck_assert_int_eq(run_serve(help), 0);
    const char *nokey[] = {"--listen", "127.0.0.1:0", NULL};
    ck_assert_int_eq(run_serve(nokey), 2);
    const char *badport[] = {"--listen", "127.0.0.1:99999", "--rsa-key", "k.pem", NULL};
    ck_assert_int_eq(run_serve(badport), 2);
    const char *dcfirst[] = {"--dc", "2", "--listen", "127.0.0.1:0", "--rsa-key", "k.pem", NULL};
    ck_assert_int_eq(run_serve(dcfirst), 2);
    const char *baddur[] = {"--listen", "127.0.0.1:0", "--rsa-key", "k.pem", "--idle-timeout", "5x", NULL};
    ck_assert_int_eq(run_serve(baddur), 2);
    const char *badscen[] = {"--listen", "127.0.0.1:0", "--rsa-key", "/nonexistent/k.pem", "--scenario",
                             "no_such_scenario", NULL};
    ck_assert_int_eq(run_serve(badscen), 3);

    /* A key file that does not exist is made, with its public half next to it. */
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/mtps_newkey_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char key[128], pub[128];
    snprintf(key, sizeof key, "%s/server.pem", dir);
    snprintf(pub, sizeof pub, "%s/server.pub.pem", dir);
    struct server_proc sp;
    const char *extra[] = {"--dc", "4", NULL};
    /* server_start copies the test key; start by hand with a missing key instead */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(MTPROBE_BINARY, MTPROBE_BINARY, "serve", "--listen", "127.0.0.1:0", "--rsa-key", key, extra[0],
              extra[1], (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    sp.pid = pid;
    sp.out = fdopen(fds[0], "r");
    char line[256];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, sp.out));
    unsigned port;
    ck_assert_int_eq(sscanf(line, "listening 127.0.0.1:%u dc %d fingerprint %16s", &port, &sp.dc, sp.fingerprint), 3);
    ck_assert_int_eq(sp.dc, 4);
    size_t len;
    char *pem = mtps_read_file(pub, 1u << 16, &len, NULL);
    ck_assert_ptr_nonnull(pem);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN RSA PUBLIC KEY-----"));
    struct mtp_rsa_key *k;
    ck_assert_ok(mtp_rsa_key_from_pem(pem, len, &k, NULL));
    free(pem);
    ck_assert(!mtp_rsa_key_has_private(k));
    uint8_t fp[8];
    ck_assert_ok(mtp_rsa_key_fingerprint(k, fp, NULL));
    char want[17];
    mtps_fingerprint_hex(fp, want);
    ck_assert_str_eq(sp.fingerprint, want);
    mtp_rsa_key_free(k);
    snprintf(sp.dir, sizeof sp.dir, "%s", dir);
    server_stop(&sp);
}
END_TEST

static bool got_result(const struct peer *p) { return p->c.results > 0 || p->c.rpc_errors > 0; }

START_TEST(several_dcs_from_one_process)
{
    the_key = public_key();
    struct server_proc sp;
    const char *extra[] = {"--dc", "2", "--listen", "127.0.0.1:0", "--dc", "4", NULL};
    server_start(&sp, extra);
    ck_assert_int_eq(sp.dc, 2);
    char line[256];
    unsigned port4;
    int dc4;
    char fp4[17];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, sp.out));
    ck_assert_int_eq(sscanf(line, "listening 127.0.0.1:%u dc %d fingerprint %16s", &port4, &dc4, fp4), 3);
    ck_assert_int_eq(dc4, 4);
    ck_assert_str_eq(fp4, sp.fingerprint);
    ck_assert_uint_ne(port4, sp.port);
    /* DC 4 says it is DC 4, and its config lists both addresses. */
    struct mtp_env env = mtp_env_system();
    struct peer p;
    peer_open(&p, (uint16_t)port4, MTP_TR_ABRIDGED, false, &env);
    ck_assert_ok(mtps_client_start(&p.c, NULL));
    drive(&p, is_ready);
    ck_assert(mtps_client_ready(&p.c));
    uint8_t q[512];
    size_t n = query("{\"_\":\"help.getNearestDc\"}", q, sizeof q);
    ck_assert_ok(mtps_client_query(&p.c, q, n, NULL, NULL));
    drive(&p, got_result);
    ck_assert_hex_eq(p.c.last_result, p.c.last_result_len, "75171a8e025a5a000400000004000000");
    n = query("{\"_\":\"help.getConfig\"}", q, sizeof q);
    p.c.results = 0;
    ck_assert_ok(mtps_client_query(&p.c, q, n, NULL, NULL));
    drive(&p, got_result);
    ck_assert_uint_eq(p.c.results, 1);
    /* dc_options: two dcOption#18b7a10d with flags 0, ids 2 and 4, "127.0.0.1", the two ports */
    uint8_t want[2][32];
    for (int i = 0; i < 2; i++) {
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, want[i], sizeof want[i], NULL);
        ck_assert_ok(mtp_wr_u32(&w, 0x18b7a10du));
        ck_assert_ok(mtp_wr_u32(&w, 0));
        ck_assert_ok(mtp_wr_u32(&w, i == 0 ? 2 : 4));
        ck_assert_ok(mtp_wr_raw(&w, "\x09" "127.0.0.1" "\0\0", 12));
        ck_assert_ok(mtp_wr_u32(&w, i == 0 ? sp.port : port4));
        ck_assert_uint_eq(w.len, 28);
    }
    bool found[2] = {false, false};
    for (size_t off = 0; off + 28 <= p.c.last_result_len; off += 4)
        for (int i = 0; i < 2; i++)
            found[i] |= memcmp(p.c.last_result + off, want[i], 28) == 0;
    ck_assert(found[0] && found[1]);
    peer_close(&p);
    server_stop(&sp);
    mtp_rsa_key_free(the_key);
}
END_TEST

Suite *mtps_loop_suite(void);
Suite *mtps_loop_suite(void)
{
    Suite *s = suite_create("mtps_loop");
    TCase *tc = tcase_create("e2e");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_transport_over_a_socket);
    tcase_add_test(tc, unknown_key_gets_404_and_garbage_closes_only_its_connection);
    tcase_add_test(tc, flood_gets_429);
    tcase_add_test(tc, keylog_and_keys_file_let_a_client_come_back);
    tcase_add_test(tc, command_line_mistakes_and_a_fresh_key);
    tcase_add_test(tc, several_dcs_from_one_process);
    tcase_add_test(tc, split_writes_send_the_output_a_byte_at_a_time);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_loop_suite)
