/* The socket loop: HOST:PORT parsing, connecting, and whole runs over a
 * socketpair against the in-memory test server in a child process, a silent
 * peer (the deadline) and a peer that hangs up. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/mtpc_net.h"
#include "mtpc_testserver.h"

START_TEST(split_host_port)
{
    char host[64], port[8];
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtpc_net_split("127.0.0.1:443", host, sizeof host, port, sizeof port, &err));
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_str_eq(port, "443");
    ck_assert_ok(mtpc_net_split("[::1]:80", host, sizeof host, port, sizeof port, &err));
    ck_assert_str_eq(host, "::1");
    ck_assert_str_eq(port, "80");
    ck_assert_ok(mtpc_net_split("fe80::1:8443", host, sizeof host, port, sizeof port, &err));
    ck_assert_str_eq(host, "fe80::1");
    ck_assert_str_eq(port, "8443");
    static const char *const bad[] = {"nohost", ":80", "host:", "[::1:80", "[]:80", "h:123456789"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mtp_error_clear(&err);
        ck_assert_msg(mtpc_net_split(bad[i], host, sizeof host, port, sizeof port, &err) == MTP_ERR_ARG, "%s",
                      bad[i]);
    }
}
END_TEST

/* A listening socket on 127.0.0.1:0; *port gets its port. */
static int listener(char port[8], bool listening)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    snprintf(port, 8, "%u", (unsigned)ntohs(a.sin_port));
    if (listening)
        ck_assert_int_eq(listen(s, 4), 0);
    return s;
}

START_TEST(connect_and_refused)
{
    char port[8];
    int l = listener(port, true);
    struct mtp_error err;
    mtp_error_clear(&err);
    int fd = -1;
    ck_assert_ok(mtpc_net_connect("127.0.0.1", port, mtpc_net_now_ms() + 5000, &fd, &err));
    ck_assert_int_ge(fd, 0);
    close(fd);
    close(l);
    /* The port is free again now: nobody listens. */
    l = listener(port, false);
    ck_assert_rc(mtpc_net_connect("127.0.0.1", port, mtpc_net_now_ms() + 5000, &fd, &err), MTP_ERR_CLIENT_CONNECT);
    ck_assert_int_eq(fd, -1);
    ck_assert_msg(strstr(err.msg, "cannot connect to 127.0.0.1 port") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, strerror(ECONNREFUSED)) != NULL, "%s", err.msg);
    close(l);
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_net_connect("127.0.0.1", "not-a-port-name", mtpc_net_now_ms() + 5000, &fd, &err),
                 MTP_ERR_CLIENT_CONNECT);
    ck_assert_msg(strstr(err.msg, "cannot resolve") != NULL, "%s", err.msg);
}
END_TEST

struct net_run {
    struct mtp_rsa_key *key;
    const struct mtp_rsa_key *keys[1];
    struct mtp_det_state det;
    struct mtp_env env;
    struct mtpc_config cfg;
    struct mtpc_client *c;
    int sv[2];
};

static const uint8_t CALL[4] = {0x26, 0x30, 0xb3, 0x1f};

static void net_setup(struct net_run *r)
{
    memset(r, 0, sizeof *r);
    r->key = ts_load_key();
    r->keys[0] = r->key;
    r->env = mtp_env_deterministic(&r->det, "client", 6, TS_T0);
    mtpc_config_init(&r->cfg);
    r->cfg.auth.keys = r->keys;
    r->cfg.auth.n_keys = 1;
    r->cfg.auth.dh_mode = MTP_DH_TRUST_KNOWN;
    r->cfg.call = CALL;
    r->cfg.call_len = sizeof CALL;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->sv), 0);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtpc_new(&r->cfg, &r->env, &r->c, &err));
}

static void net_free(struct net_run *r)
{
    mtpc_del(r->c);
    mtp_rsa_key_free(r->key);
    if (r->sv[0] >= 0)
        close(r->sv[0]);
    if (r->sv[1] >= 0)
        close(r->sv[1]);
}

/* The child: the test server behind fd until the client hangs up. */
static void serve(int fd, const struct mtp_rsa_key *key, enum ts_mode mode)
{
    struct ts_server s;
    ts_init(&s, mode, key, NULL, NULL);
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        ts_feed(&s, buf, (size_t)n);
        size_t off = 0;
        while (off < s.out.len) {
            ssize_t w = write(fd, s.out.p + off, s.out.len - off);
            if (w <= 0)
                _exit(3);
            off += (size_t)w;
        }
        mtp_wr_reset(&s.out);
    }
    ts_free(&s);
    _exit(0);
}

START_TEST(whole_run_over_a_socket)
{
    struct net_run r;
    net_setup(&r);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(r.sv[0]);
        serve(r.sv[1], r.key, TS_NORMAL);
    }
    close(r.sv[1]);
    r.sv[1] = -1;
    ck_assert_ok(mtpc_net_run(r.c, r.sv[0], mtpc_net_now_ms() + 30000));
    const struct mtpc_outcome *o = mtpc_outcome(r.c);
    ck_assert_int_eq(mtpc_state(r.c), MTPC_DONE);
    ck_assert(o->have_key);
    ck_assert_uint_eq(o->pongs, 1);
    ck_assert(o->answered);
    ck_assert_uint_eq(o->result_ctor, 0x8e1a1775u);
    close(r.sv[0]);
    r.sv[0] = -1;
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    net_free(&r);
}
END_TEST

START_TEST(silent_peer_hits_the_deadline)
{
    struct net_run r;
    net_setup(&r);
    int64_t t0 = mtpc_net_now_ms();
    ck_assert_rc(mtpc_net_run(r.c, r.sv[0], t0 + 200), MTP_ERR_TIMEOUT);
    ck_assert_int_ge(mtpc_net_now_ms() - t0, 200);
    const struct mtpc_outcome *o = mtpc_outcome(r.c);
    ck_assert_int_eq(o->error_step, MTPC_STEP_AUTH_KEY);
    ck_assert_msg(strstr(o->error_msg, "auth_key: still waiting for resPQ after") != NULL, "%s", o->error_msg);
    net_free(&r);
}
END_TEST

START_TEST(silent_server_after_the_key)
{
    /* The server makes the key, then ignores every encrypted packet. */
    struct net_run r;
    net_setup(&r);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(r.sv[0]);
        serve(r.sv[1], r.key, TS_SILENT_AFTER_KEY);
    }
    close(r.sv[1]);
    r.sv[1] = -1;
    ck_assert_rc(mtpc_net_run(r.c, r.sv[0], mtpc_net_now_ms() + 1000), MTP_ERR_TIMEOUT);
    close(r.sv[0]);
    r.sv[0] = -1;
    waitpid(pid, NULL, 0);
    ck_assert(mtpc_outcome(r.c)->have_key);
    net_free(&r);
}
END_TEST

START_TEST(peer_hangs_up)
{
    struct net_run r;
    net_setup(&r);
    close(r.sv[1]);
    r.sv[1] = -1;
    ck_assert_rc(mtpc_net_run(r.c, r.sv[0], mtpc_net_now_ms() + 5000), MTP_ERR_CLIENT_PEER_CLOSED);
    ck_assert_int_eq(mtpc_outcome(r.c)->error_step, MTPC_STEP_AUTH_KEY);
    net_free(&r);
}
END_TEST

START_TEST(error_404_returns_for_a_new_connection)
{
    /* -404 during the exchange: the loop hands the run back at once (no
     * waiting for the deadline) so that the caller can connect again. */
    struct net_run r;
    net_setup(&r);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(r.sv[0]);
        serve(r.sv[1], r.key, TS_ERR404);
    }
    close(r.sv[1]);
    r.sv[1] = -1;
    int64_t t0 = mtpc_net_now_ms();
    ck_assert_ok(mtpc_net_run(r.c, r.sv[0], t0 + 30000));
    ck_assert_int_lt(mtpc_net_now_ms() - t0, 20000);
    ck_assert(mtpc_wants_reconnect(r.c));
    ck_assert_int_eq(mtpc_state(r.c), MTPC_RUNNING);
    close(r.sv[0]);
    r.sv[0] = -1;
    waitpid(pid, NULL, 0);
    /* the second connection's server works */
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(sv[0]);
        serve(sv[1], r.key, TS_NORMAL);
    }
    close(sv[1]);
    ck_assert_ok(mtpc_reconnect(r.c));
    ck_assert_ok(mtpc_net_run(r.c, sv[0], mtpc_net_now_ms() + 30000));
    ck_assert_int_eq(mtpc_state(r.c), MTPC_DONE);
    ck_assert_uint_eq(mtpc_outcome(r.c)->auth_attempts, 2);
    close(sv[0]);
    waitpid(pid, NULL, 0);
    net_free(&r);
}
END_TEST

static Suite *mtpc_net_suite(void)
{
    Suite *s = suite_create("mtpc_net");
    TCase *tc = tcase_create("net");
    tcase_add_test(tc, split_host_port);
    tcase_add_test(tc, connect_and_refused);
    tcase_add_test(tc, whole_run_over_a_socket);
    tcase_add_test(tc, silent_peer_hits_the_deadline);
    tcase_add_test(tc, silent_server_after_the_key);
    tcase_add_test(tc, peer_hangs_up);
    tcase_add_test(tc, error_404_returns_for_a_new_connection);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtpc_net_suite)
