#!/usr/bin/env python3
"""`mtprobe decode` on the committed captures (tests/decode/captures/, made with capture_test.py
--save: the reference client, Telethon and GramJS against `mtprobe serve`, one over IPv6, one also
as pcapng), then on damaged copies of one of them.

    captures_test.py --mtprobe build/mtprobe

Committed captures: every message of the server's observation log (kept as NAME.messages.json)
decodes, nested ones included, with the key exchange's inner data, and --check finds nothing.
Damaged copies of mtprobe.pcap (tests/decode/pcaptool.py), each with what must come out:
  - re-framed as Linux cooked v1 and v2, BSD null and loop, raw IP: the same messages;
  - segments swapped, every data segment sent twice: the same messages, no byte lost;
  - one server segment dropped, or cut short by a small snaplen: that one message is missing, a gap
    and a resynchronisation are reported, every other message is there;
  - one ciphertext byte flipped: that message does not decrypt (msg_key) and --check says C-ENC-15;
  - the file cut inside a record: what came before decodes, the damage is reported, exit 0;
  - a key or the NEW_NONCE lines left out of the key log: those messages are shown undecrypted;
  - the start of a plain connection not captured: its transport is guessed and its encrypted
    messages after the gap decode; an obfuscated one is reported undecodable, with no message made up;
  - a file that is no capture: exit 3.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pcaptool  # noqa: E402

CAPS = os.path.join(HERE, "captures")


class Failure(Exception):
    pass


def decode(mtprobe, pcap, keys, *extra):
    cmd = [mtprobe, "decode", pcap, "--format", "jsonl", "--check", "--summary"]
    for k in keys if isinstance(keys, list) else [keys]:
        cmd += ["--keylog", k]
    p = subprocess.run(cmd + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [json.loads(ln) for ln in p.stdout.splitlines()] if p.returncode in (0, 1) else []
    return p.returncode, lines, p.stderr


def msgs(lines):
    """(conn, dir, msg_id, ctor) of every decoded message, in order."""
    return [(e["conn"], e["dir"], e.get("msg_id"), e["ctor"]) for e in lines if e["ev"] == "msg"]


def end_of(lines):
    ends = [e for e in lines if e["ev"] == "end"]
    if len(ends) != 1:
        raise Failure("no end line")
    return ends[0]


def hex_id(decimal):
    return "%016x" % (int(decimal) & (2 ** 64 - 1))


def committed(args, name, pcap):
    rc, lines, err = decode(args.mtprobe, pcap, os.path.join(CAPS, name + ".keys"))
    if rc != 0:
        raise Failure("%s: exit %d: %s" % (pcap, rc, err))
    want = json.load(open(os.path.join(CAPS, name + ".messages.json")))
    # connections by server, in the order the servers' ports first appear
    ports, conns = [], {}
    for e in lines:
        if e["ev"] == "open":
            port = int(e["server"].rsplit(":", 1)[1])
            if port not in ports:
                ports.append(port)
            conns[e["conn"]] = {"server": ports.index(port), "msgs": [], "transport": None, "inner": 0}
        c = conns.get(e.get("conn"))
        if c is None:
            continue
        if e["ev"] == "transport":
            c["transport"] = e["transport"]
        if e["ev"] == "msg":
            body = e.get("json") or {}
            nested = [[hex_id(m["msg_id"]), m["body"]["_"]] for m in body.get("messages", [])] \
                if body.get("_") == "msg_container" else []
            c["msgs"].append([e["dir"], e.get("msg_id"), e["ctor"], nested])
            if "error" in e:
                raise Failure("%s: conn %d: %s" % (pcap, e["conn"], e["error"]))
            c["inner"] += 1 if "json" in e.get("inner", {}) else 0
    got = {}
    for c in conns.values():
        got.setdefault(c["server"], []).append(c)
    for si, server in enumerate(want["servers"]):
        have = got.get(si, [])
        if len(have) != len(server["connections"]):
            raise Failure("%s: server %s: %d connections decoded, %d in its log"
                          % (pcap, server["name"], len(have), len(server["connections"])))
        for n, (w, h) in enumerate(zip(server["connections"], have)):
            if w["transport"] != h["transport"] or sorted(w["msgs"]) != sorted(h["msgs"]):
                raise Failure("%s: %s connection %d (%s, decoded as %s) differs:\n log %s\n decoded %s"
                              % (pcap, server["name"], n + 1, w["transport"], h["transport"],
                                 sorted(w["msgs"]), sorted(h["msgs"])))
            if h["inner"] != 2:
                raise Failure("%s: connection %d: %d exchange inner data decrypted, 2 expected" % (pcap, n + 1, h["inner"]))
    end = end_of(lines)
    if end["findings"] or end["undecrypted"] or end["tl_errors"] or end["bytes_lost"]:
        raise Failure("%s: %s" % (pcap, end))
    return sum(len(c["msgs"]) for c in conns.values())


def stream_base(recs, port):
    """(client port, ISN + 1 of each direction) of the connection whose server port or client port is port."""
    base = {}
    for ts, data, wire in recs:
        t = pcaptool.tcp_of(data)
        if t and t[3] & 0x02 and port in (t[0], t[1]):
            base["c2s" if t[3] & 0x10 == 0 else "s2c"] = (t[2] + 1) & 0xffffffff
            if t[3] & 0x10 == 0:
                base["client"] = t[0]
    return base


def packet_of_message(recs, base, msg_offset, direction):
    """The index of the record whose payload holds the frame at msg_offset of that direction."""
    for i, (ts, data, wire) in enumerate(recs):
        t = pcaptool.tcp_of(data)
        if not t or t[5] == 0:
            continue
        d = "c2s" if t[0] == base["client"] else "s2c"
        if d != direction or base["client"] not in (t[0], t[1]):
            continue
        off = (t[2] - base[d]) & 0xffffffff
        if off <= msg_offset < off + t[5]:
            return i
    raise Failure("no record holds %s offset %d" % (direction, msg_offset))


def damaged(args, work):
    src = os.path.join(CAPS, "mtprobe.pcap")
    keys = os.path.join(CAPS, "mtprobe.keys")
    rc, ref_lines, err = decode(args.mtprobe, src, keys)
    ref = msgs(ref_lines)
    linktype, recs = pcaptool.read(src)
    results = []

    def write(name, r, lt=linktype):
        path = os.path.join(work, name + ".pcap")
        pcaptool.write(path, lt, r)
        return path

    # every link layer
    for lt in ("LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP", "RAW"):
        rc, lines, err = decode(args.mtprobe, write(lt, pcaptool.relink(recs, pcaptool.LINKTYPES[lt]),
                                                     pcaptool.LINKTYPES[lt]), keys)
        if rc != 0 or msgs(lines) != ref:
            raise Failure("link type %s: exit %d, %d messages of %d" % (lt, rc, len(msgs(lines)), len(ref)))
    results.append("5 link types")

    # reordered and duplicated segments
    data_idx = pcaptool.data_packets(recs)
    swapped = [list(r) for r in recs]
    for k in range(0, len(data_idx) - 1, 7):
        i, j = data_idx[k], data_idx[k + 1]
        swapped[i], swapped[j] = swapped[j], swapped[i]
    rc, lines, err = decode(args.mtprobe, write("swapped", swapped), keys)
    if sorted(msgs(lines)) != sorted(ref) or end_of(lines)["bytes_lost"]:
        raise Failure("swapped segments: %d messages of %d, %s" % (len(msgs(lines)), len(ref), end_of(lines)))
    twice = []
    for i, r in enumerate(recs):
        twice.append(r)
        if i in data_idx:
            twice.append(list(r))
    rc, lines, err = decode(args.mtprobe, write("twice", twice), keys)
    if msgs(lines) != ref or end_of(lines)["bytes_lost"]:
        raise Failure("retransmitted segments: %d messages of %d" % (len(msgs(lines)), len(ref)))
    results.append("reordered and retransmitted segments")

    # the first connection's msg_container from the server (new_session_created + pong)
    first = [e for e in ref_lines if e["ev"] == "msg" and e["conn"] == 1]
    victim = next(e for e in first if e["dir"] == "s2c" and e["ctor"] == "msg_container")
    server_port = int(next(e for e in ref_lines if e["ev"] == "open")["server"].rsplit(":", 1)[1])
    client_port = int(next(e for e in ref_lines if e["ev"] == "open")["client"].rsplit(":", 1)[1])
    base = stream_base(recs, client_port)
    vi = packet_of_message(recs, base, victim["offset"], "s2c")
    lost = (1, "s2c", victim["msg_id"], "msg_container")
    without = [m for m in ref if m != lost]

    def expect_lost(label, lines, rc):
        got = msgs(lines)
        evs = [e["ev"] for e in lines if e.get("conn") == 1]
        if rc != 0 or got != without or "gap" not in evs or "resync" not in evs:
            raise Failure("%s: exit %d, events %s, missing %s, extra %s" % (label, rc, sorted(set(evs)),
                                                                            [m for m in without if m not in got],
                                                                            [m for m in got if m not in without]))

    dropped = [r for i, r in enumerate(recs) if i != vi]
    rc, lines, err = decode(args.mtprobe, write("dropped", dropped), keys)
    expect_lost("a dropped segment", lines, rc)
    cut = [list(r) for r in recs]
    ts, data, wire = cut[vi]
    t = pcaptool.tcp_of(data)
    cut[vi] = [ts, data[:t[4] + 10], wire]  # 10 payload bytes captured, the rest cut by the snaplen
    rc, lines, err = decode(args.mtprobe, write("cut", cut), keys)
    expect_lost("a segment cut short", lines, rc)
    results.append("a dropped and a cut segment (one message lost, the rest resynchronised)")

    flipped = [list(r) for r in recs]
    ts, data, wire = flipped[vi]
    flipped[vi] = [ts, data[:-5] + bytes([data[-5] ^ 0x40]) + data[-4:], wire]
    rc, lines, err = decode(args.mtprobe, write("flipped", flipped), keys)
    bad = [e for e in lines if e["ev"] == "msg" and e.get("error")]
    checks = {e["requirement"] for e in lines if e["ev"] == "check"}
    if rc != 1 or len(bad) != 1 or "msg_key" not in bad[0]["error"] or checks != {"C-ENC-15"} or \
            [m for m in msgs(lines) if m[2]] != without:
        raise Failure("a flipped ciphertext byte: exit %d, errors %s, checks %s" % (rc, [e.get("error") for e in bad],
                                                                                checks))
    results.append("a flipped ciphertext byte (C-ENC-15)")

    raw = open(src, "rb").read()
    short = os.path.join(work, "short.pcap")
    open(short, "wb").write(raw[:len(raw) * 2 // 3 + 7])
    rc, lines, err = decode(args.mtprobe, short, keys)
    got = msgs(lines)
    if rc != 0 or not end_of(lines)["truncated"] or not got or any(m not in ref for m in got) or len(got) >= len(ref) \
            or "damaged" not in err:
        raise Failure("a cut file: exit %d, %d messages, %s" % (rc, len(got), err))
    results.append("a file cut inside a record (%d of %d messages)" % (len(got), len(ref)))

    key_id = next(e for e in ref_lines if e["ev"] == "msg" and e["conn"] == 1 and e["enc"])["auth_key_id"]
    nokey = os.path.join(work, "nokey.keys")
    open(nokey, "w").writelines(ln for ln in open(keys) if not ln.startswith("AUTH_KEY " + key_id))
    rc, lines, err = decode(args.mtprobe, src, nokey)
    undec = [e for e in lines if e["ev"] == "msg" and e["conn"] == 1 and e["enc"]]
    if rc != 0 or not undec or any("no key log line" not in e.get("error", "") for e in undec) or \
            end_of(lines)["undecrypted"] != len(undec):
        raise Failure("a key missing: exit %d, %s" % (rc, [e.get("error") for e in undec][:2]))
    nonce = os.path.join(work, "nononce.keys")
    open(nonce, "w").writelines(ln for ln in open(keys) if not ln.startswith("NEW_NONCE "))
    rc, lines, err = decode(args.mtprobe, src, nonce)
    inners = [e["inner"] for e in lines if e["ev"] == "msg" and e["ctor"] in ("server_DH_params_ok",
                                                                              "set_client_DH_params")]
    if rc != 0 or not inners or any("NEW_NONCE" not in i.get("error", "") for i in inners) or msgs(lines) != ref:
        raise Failure("NEW_NONCE missing: exit %d, %s" % (rc, inners[:2]))
    results.append("a key and the NEW_NONCE lines missing")

    # mid-connection: the first connection (intermediate) from its first encrypted message on
    first_enc = next(e for e in first if e["enc"])
    fi = packet_of_message(recs, base, first_enc["offset"], first_enc["dir"])
    late = [r for i, r in enumerate(recs)
            if i >= fi or client_port not in (pcaptool.tcp_of(r[1]) or (0, 0))[:2]]
    rc, lines, err = decode(args.mtprobe, write("late", late), keys)
    conn1 = [m for m in msgs(lines) if m[0] == 1]
    want1 = [(1,) + m[1:] for m in ref if m[0] == 1 and m[2] >= first_enc["msg_id"] and m[3] not in
             ("req_pq_multi", "resPQ", "req_DH_params", "server_DH_params_ok", "set_client_DH_params", "dh_gen_ok")]
    tr = [e for e in lines if e["ev"] == "transport_guessed" and e["conn"] == 1]
    if rc != 0 or sorted(conn1) != sorted(want1) or not tr or "intermediate" not in tr[0]["text"]:
        raise Failure("mid-connection (intermediate): exit %d, %s\n want %s, guessed %s" % (rc, conn1, want1, tr))
    # the obfuscated-padded connection (the second) without its init
    second = [e for e in ref_lines if e["ev"] == "open"][1]
    port2 = int(second["client"].rsplit(":", 1)[1])
    base2 = stream_base(recs, port2)
    recs_no_init = [r for r in recs if port2 not in (pcaptool.tcp_of(r[1]) or (0, 0))[:2]
                    or (pcaptool.tcp_of(r[1])[2] - base2.get("c2s", 0)) & 0xffffffff > 64
                    and (pcaptool.tcp_of(r[1])[2] - base2.get("s2c", 0)) & 0xffffffff > 64
                    and not pcaptool.tcp_of(r[1])[3] & 0x02]
    rc, lines, err = decode(args.mtprobe, write("noinit", recs_no_init), keys)
    conn2 = [e for e in lines if e["ev"] == "msg" and e["conn"] == 2]
    summary2 = next(e for e in lines if e["ev"] == "summary" and e["conn"] == 2)
    if rc != 0 or conn2 or not summary2["problems"]:
        raise Failure("mid-connection (obfuscated): exit %d, %d messages, problems %s" % (rc, len(conn2),
                                                                                    summary2["problems"]))
    results.append("mid-connection starts (a plain transport guessed, an obfuscated one given up)")

    junk = os.path.join(work, "junk.pcap")
    open(junk, "wb").write(b"this is not a capture\n" * 10)
    p = subprocess.run([args.mtprobe, "decode", junk], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 3 or "junk.pcap" not in p.stderr:
        raise Failure("not a capture: exit %d, %s" % (p.returncode, p.stderr))
    results.append("not a capture (exit 3)")
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mtprobe", required=True)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="mtprobe-captures-")
    try:
        for name, ext in (("mtprobe", "pcap"), ("mtprobe", "pcapng"), ("telethon", "pcap"), ("gramjs", "pcap"),
                          ("ipv6", "pcap")):
            n = committed(args, name, os.path.join(CAPS, "%s.%s" % (name, ext)))
            print("%s.%s: %d messages, every one of the server's log" % (name, ext, n))
        for r in damaged(args, work):
            print("damaged: %s: as expected" % r)
        print("pass")
        return 0
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        if args.keep:
            print("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
