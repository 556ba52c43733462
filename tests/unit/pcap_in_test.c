/* Reading captures: segments written by pcap_out in every link layer, over
 * IPv4 and IPv6, read back through libpcap field for field; the headers
 * pcap_out does not write (VLAN tags, IPv4 options, IPv6 extension headers,
 * fragments) and broken ones parsed from hand-made frames; a file cut short. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "decode/pcap_in.h"
#include "decode/pcap_out.h"
#include "mtp_test.h"

static struct mtp_tcp_addr v4(uint8_t last, uint16_t port)
{
    struct mtp_tcp_addr a = {.family = 4, .ip = {192, 168, 1, last}, .port = port};
    return a;
}

static struct mtp_tcp_addr v6(uint8_t last, uint16_t port)
{
    struct mtp_tcp_addr a = {.family = 6, .ip = {0x20, 0x01, 0x0d, 0xb8}, .port = port};
    a.ip[15] = last;
    return a;
}

static const int linktypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, DLT_RAW};

START_TEST(every_link_layer_round_trips)
{
    int lt = linktypes[_i / 2];
    bool six = _i % 2;
    char path[64];
    snprintf(path, sizeof path, "/tmp/pcap_in_%d.pcap", (int)getpid());
    FILE *f = fopen(path, "wb");
    struct mtp_pcap_out o;
    ck_assert_ok(mtp_pcap_out_open(&o, f, lt, NULL));
    static const uint8_t payload[] = "MTProto bytes";
    struct mtp_tcp_seg segs[3] = {
        {.ts_ns = 1700000000123456789ll, .src = six ? v6(1, 40000) : v4(1, 40000), .dst = six ? v6(2, 443) : v4(2, 443),
         .seq = 0xfffffff0u, .flags = MTP_TCP_SYN},
        {.ts_ns = 1700000000223456789ll, .src = six ? v6(2, 443) : v4(2, 443), .dst = six ? v6(1, 40000) : v4(1, 40000),
         .seq = 7, .ack = 0xfffffff1u, .flags = MTP_TCP_ACK, .data = payload, .len = sizeof payload - 1},
        /* a snaplen cut: 4 bytes captured of 13 */
        {.ts_ns = 1700000000323456789ll, .src = six ? v6(1, 40000) : v4(1, 40000), .dst = six ? v6(2, 443) : v4(2, 443),
         .seq = 0xfffffff1u, .ack = 20, .flags = MTP_TCP_ACK | MTP_TCP_FIN, .data = payload, .len = 4, .missing = 9},
    };
    for (int i = 0; i < 3; i++)
        ck_assert_ok(mtp_pcap_out_seg(&o, &segs[i]));
    fclose(f);
    struct mtp_pcap_in in;
    ck_assert_ok(mtp_pcap_open(&in, path, NULL));
    ck_assert_int_eq(in.linktype, lt);
    for (int i = 0; i < 3; i++) {
        struct mtp_tcp_seg s;
        ck_assert_int_eq(mtp_pcap_next(&in, &s), 1);
        ck_assert_int_eq(s.ts_ns, segs[i].ts_ns);
        ck_assert_int_eq(s.src.family, segs[i].src.family);
        ck_assert_mem_eq(s.src.ip, segs[i].src.ip, 16);
        ck_assert_mem_eq(s.dst.ip, segs[i].dst.ip, 16);
        ck_assert_uint_eq(s.src.port, segs[i].src.port);
        ck_assert_uint_eq(s.dst.port, segs[i].dst.port);
        ck_assert_uint_eq(s.seq, segs[i].seq);
        ck_assert_uint_eq(s.ack, segs[i].ack);
        ck_assert_uint_eq(s.flags, segs[i].flags);
        ck_assert_uint_eq(s.len, segs[i].len);
        ck_assert_uint_eq(s.missing, segs[i].missing);
        if (s.len)
            ck_assert_mem_eq(s.data, payload, s.len);
    }
    struct mtp_tcp_seg s;
    ck_assert_int_eq(mtp_pcap_next(&in, &s), 0);
    ck_assert_str_eq(in.trailer, "");
    ck_assert_uint_eq(in.packets, 3);
    ck_assert_uint_eq(in.cut, 1);
    mtp_pcap_close(&in);
    unlink(path);
}
END_TEST

/* Hand-made frames: what pcap_out never writes. */
START_TEST(headers_pcap_out_does_not_write)
{
    struct mtp_tcp_seg s;
    enum mtp_pcap_skip why;
    /* Ethernet, 802.1Q and QinQ tags, IPv4 with 4 bytes of options, TCP with 12 of options, 3 bytes, 2 of Ethernet padding */
    static const uint8_t tagged[] = {
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x88, 0xa8, 0, 5, 0x81, 0x00, 0, 7, 0x08, 0x00,
        0x46, 0, 0, 59, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 1, 1, 1, 0,
        0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 100, 0, 0, 0, 200, 0x80, 0x18, 0xff, 0xff, 0, 0, 0, 0,
        1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 'a', 'b', 'c', 0xee, 0xee};
    ck_assert_int_eq(mtp_pcap_parse(DLT_EN10MB, tagged, sizeof tagged, sizeof tagged, &s, &why), 1);
    ck_assert_uint_eq(s.src.port, 40000);
    ck_assert_uint_eq(s.dst.port, 443);
    ck_assert_uint_eq(s.seq, 100);
    ck_assert_uint_eq(s.ack, 200);
    ck_assert_uint_eq(s.len, 3);
    ck_assert_mem_eq(s.data, "abc", 3);
    ck_assert_uint_eq(s.missing, 0);
    /* the same cut inside the TCP options */
    ck_assert_int_eq(mtp_pcap_parse(DLT_EN10MB, tagged, 70, sizeof tagged, &s, &why), 0);
    ck_assert_int_eq(why, MTP_PCAP_SKIP_CUT_HEADER);
    /* an IPv4 fragment, and UDP */
    uint8_t frag[sizeof tagged];
    memcpy(frag, tagged, sizeof frag);
    frag[28] = 0x20; /* MF */
    ck_assert_int_eq(mtp_pcap_parse(DLT_EN10MB, frag, sizeof frag, sizeof frag, &s, &why), 0);
    ck_assert_int_eq(why, MTP_PCAP_SKIP_FRAGMENT);
    memcpy(frag, tagged, sizeof frag);
    frag[31] = 17;
    ck_assert_int_eq(mtp_pcap_parse(DLT_EN10MB, frag, sizeof frag, sizeof frag, &s, &why), 0);
    ck_assert_int_eq(why, MTP_PCAP_SKIP_NOT_TCP);
    /* an IPv4 length beyond the frame */
    memcpy(frag, tagged, sizeof frag);
    frag[25] = 200;
    ck_assert_int_eq(mtp_pcap_parse(DLT_EN10MB, frag, sizeof frag, sizeof frag, &s, &why), 0);
    ck_assert_int_eq(why, MTP_PCAP_SKIP_BAD_HEADER);
    /* raw IPv6 with a hop-by-hop and a destination options header, then TCP with 2 bytes */
    uint8_t six[40 + 8 + 16 + 20 + 2] = {0x60, 0, 0, 0, 0, 8 + 16 + 20 + 2, 0, 64};
    six[8] = 0xfe, six[24] = 0xfe, six[39] = 1;
    six[40] = 60, six[41] = 0;        /* hop-by-hop: next dest opts, 8 bytes */
    six[48] = 6, six[49] = 1;         /* dest opts: next TCP, 16 bytes */
    uint8_t *t = six + 64;
    t[0] = 0x01, t[1] = 0x02, t[2] = 0x03, t[3] = 0x04, t[12] = 0x50, t[13] = 0x02;
    six[84] = 'x', six[85] = 'y';
    ck_assert_int_eq(mtp_pcap_parse(DLT_RAW, six, sizeof six, sizeof six, &s, &why), 1);
    ck_assert_int_eq(s.src.family, 6);
    ck_assert_uint_eq(s.src.port, 0x0102);
    ck_assert_uint_eq(s.dst.port, 0x0304);
    ck_assert_uint_eq(s.flags, MTP_TCP_SYN);
    ck_assert_uint_eq(s.len, 2);
    six[48] = 44; /* a fragment header instead */
    ck_assert_int_eq(mtp_pcap_parse(DLT_RAW, six, sizeof six, sizeof six, &s, &why), 0);
    ck_assert_int_eq(why, MTP_PCAP_SKIP_FRAGMENT);
    /* not IP, unknown link type, empty */
    static const uint8_t arp[14] = {[12] = 0x08, [13] = 0x06};
    ck_assert_int_eq(mtp_pcap_parse(DLT_EN10MB, arp, sizeof arp, sizeof arp, &s, &why), 0);
    ck_assert_int_eq(why, MTP_PCAP_SKIP_NOT_IP);
    ck_assert_int_eq(mtp_pcap_parse(DLT_IEEE802_11, arp, sizeof arp, sizeof arp, &s, &why), 0);
    ck_assert_int_eq(why, MTP_PCAP_SKIP_LINKTYPE);
    ck_assert_int_eq(mtp_pcap_parse(DLT_RAW, arp, 0, 0, &s, &why), 0);
    ck_assert_int_eq(why, MTP_PCAP_SKIP_CUT_HEADER);
    ck_assert_str_eq(mtp_pcap_skip_name(MTP_PCAP_SKIP_FRAGMENT), "IP fragment");
}
END_TEST

START_TEST(a_file_cut_short_says_so)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/pcap_in_cut_%d.pcap", (int)getpid());
    FILE *f = fopen(path, "wb");
    struct mtp_pcap_out o;
    ck_assert_ok(mtp_pcap_out_open(&o, f, DLT_EN10MB, NULL));
    static const uint8_t payload[100] = {1};
    for (int i = 0; i < 4; i++) {
        struct mtp_tcp_seg s = {.src = v4(1, 1000), .dst = v4(2, 443), .seq = (uint32_t)(i * 100), .data = payload,
                                .len = sizeof payload, .flags = MTP_TCP_ACK};
        ck_assert_ok(mtp_pcap_out_seg(&o, &s));
    }
    long size = ftell(f);
    fclose(f);
    ck_assert_int_eq(truncate(path, size - 50), 0);
    struct mtp_pcap_in in;
    ck_assert_ok(mtp_pcap_open(&in, path, NULL));
    struct mtp_tcp_seg s;
    int n = 0;
    while (mtp_pcap_next(&in, &s) == 1)
        n++;
    ck_assert_int_eq(n, 3);
    ck_assert_msg(strstr(in.trailer, "truncated") != NULL, "%s", in.trailer);
    mtp_pcap_close(&in);
    /* not a capture at all */
    f = fopen(path, "wb");
    fputs("hello, this is text\n", f);
    fclose(f);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_pcap_open(&in, path, &err), MTP_ERR_PCAP);
    ck_assert_msg(strstr(err.msg, path) != NULL, "%s", err.msg);
    unlink(path);
}
END_TEST

static Suite *pcap_in_suite(void)
{
    Suite *s = suite_create("pcap_in");
    TCase *tc = tcase_create("read");
    tcase_add_loop_test(tc, every_link_layer_round_trips, 0, (int)(2 * sizeof linktypes / sizeof linktypes[0]));
    tcase_add_test(tc, headers_pcap_out_does_not_write);
    tcase_add_test(tc, a_file_cut_short_says_so);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(pcap_in_suite)
