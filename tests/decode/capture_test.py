#!/usr/bin/env python3
"""Real captures decoded: tcpdump on loopback while a client talks to `mtprobe serve --keylog`
over every transport it has, then `mtprobe decode` of the capture.

    capture_test.py --mtprobe build/mtprobe --client telethon [--ipv6] [--keep]

Clients: `mtprobe` (the reference client), `telethon` (harness/adapters/telethon_adapter.py under
/usr/bin/python3), `gramjs` (harness/adapters/gramjs_adapter.js; NODE_PATH or
harness/adapters/node_modules).  Two servers run on loopback: one plain (every transport the client
has), one with an MTProxy secret (its obfuscated transports); one tcpdump captures both.

What must hold (each a failure otherwise):
  - every client run succeeds, answers included (ping, nearest_dc, config);
  - the decoded capture shows every message of the servers' observation logs (--events): for each
    server connection, the same (direction, msg_id, constructor) both ways, and inside each container
    the same nested (msg_id, constructor); the key exchange's server_DH_inner_data and
    client_DH_inner_data decrypted with the NEW_NONCE lines; nothing undecrypted, no TL error, no
    byte lost, every transport named as the client used it;
  - the secret server's connections decode from its OBFS2 key log lines, and again from --secret
    with the OBFS2 lines taken out of the key log;
  - --check's findings are printed (the deviations each client shows) and must all name catalogue
    ids; --summary lists every connection.
Exit 0 pass, 1 fail, 2 usage.  Capturing needs root or CAP_NET_RAW (CI runs as root): without it
the test fails and says so.
"""
import argparse
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
ADAPTERS = os.path.join(SOURCE, "harness", "adapters")
SECRET = "0123456789abcdef0123456789abcdef"

TRANSPORTS = {
    "mtprobe": (["abridged", "intermediate", "padded", "full", "obfuscated-abridged", "obfuscated-intermediate",
                 "obfuscated-padded"], ["obfuscated-abridged", "obfuscated-intermediate", "obfuscated-padded"]),
    "telethon": (["abridged", "intermediate", "padded", "full", "obfuscated-abridged", "obfuscated-intermediate",
                  "obfuscated-padded"], ["obfuscated-abridged", "obfuscated-intermediate", "obfuscated-padded"]),
    "gramjs": (["abridged", "full", "obfuscated-abridged"], ["obfuscated-abridged"]),
}


class Failure(Exception):
    pass


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def start_server(args, work, name, secret, scenario=None):
    key = os.path.join(work, "dc.pem")
    if not os.path.exists(key):
        shutil.copyfile(os.path.join(SOURCE, "vectors", "rsa", "test_key_private.pem"), key)
        os.chmod(key, 0o600)
    host = "[::1]" if args.ipv6 else "127.0.0.1"
    files = {k: os.path.join(work, "%s.%s" % (name, k)) for k in ("keys", "events", "stderr")}
    cmd = [args.mtprobe, "serve", "--listen", host + ":0", "--rsa-key", key, "--keylog", files["keys"],
           "--events", files["events"]]
    if secret:
        cmd += ["--secret", secret]
    if scenario:
        cmd += ["--scenario", scenario]
    err = open(files["stderr"], "w")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
    err.close()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    line = proc.stdout.readline() if sel.select(timeout=60) else ""
    sel.close()
    parts = line.split()
    if len(parts) < 4 or parts[0] != "listening":
        stop(proc)
        raise Failure("mtprobe serve did not start: %r\n%s" % (line, tail(files["stderr"])))
    h, port = parts[1].rsplit(":", 1)
    return proc, h, int(port), int(parts[3]), files


def stop(proc, sig=signal.SIGTERM):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.stdout:
        proc.stdout.close()


def start_tcpdump(work, ports):
    if not shutil.which("tcpdump"):
        raise Failure("tcpdump is not installed (scripts/deps.sh installs it)")
    pcap = os.path.join(work, "capture.pcap")
    err_path = os.path.join(work, "tcpdump.stderr")
    err = open(err_path, "w")
    flt = " or ".join("tcp port %d" % p for p in ports)
    proc = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-s", "0", "-w", pcap, flt], stdout=subprocess.DEVNULL,
                            stderr=err, start_new_session=True)
    err.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if "listening on" in tail(err_path):
            return proc, pcap
        if proc.poll() is not None:
            raise Failure("tcpdump could not capture on lo (it needs root or CAP_NET_RAW; CI runs as root):\n%s"
                          % tail(err_path))
        time.sleep(0.05)
    stop(proc)
    raise Failure("tcpdump did not start listening:\n%s" % tail(err_path))


def settle(pcap, quiet=1.0, limit=20.0):
    """tcpdump writes what the kernel hands it, a little later: wait until the file stops growing."""
    deadline = time.monotonic() + limit
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = os.path.getsize(pcap) if os.path.exists(pcap) else 0
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def check_drops(work):
    """A capture that missed packets cannot show every message: say so rather than blame the decoder."""
    m = re.search(r"(\d+) packets? dropped by kernel", tail(os.path.join(work, "tcpdump.stderr")))
    if m and int(m.group(1)) > 0:
        raise Failure("tcpdump dropped %s packets (a loaded machine?): the capture is incomplete" % m.group(1))


def client_command(args, host, port, dc, work, transport, secret):
    pub = os.path.join(work, "dc.pub.pem")
    address = "%s:%d" % (host, port)
    if args.client == "mtprobe":
        cmd = [args.mtprobe, "client", "--server", address, "--rsa-pub", pub, "--transport", transport, "--dc",
               str(dc), "--request", "ping,nearest_dc,config", "--timeout", "30",
               "--keylog", os.path.join(work, "client.keys")]
    elif args.client == "telethon":
        cmd = ["/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3",
               os.path.join(ADAPTERS, "telethon_adapter.py"), "--connect", address, "--rsa-key", pub, "--transport",
               transport, "--dc", str(dc), "--request", "ping,nearest_dc,config", "--timeout", "30"]
    else:
        cmd = [shutil.which("node") or "node", os.path.join(ADAPTERS, "gramjs_adapter.js"), "--connect", address,
               "--rsa-key", pub, "--transport", transport, "--dc", str(dc), "--request", "ping,nearest_dc,config",
               "--timeout", "30"]
    if secret:
        cmd += ["--secret", secret]
    return cmd


def run_client(cmd, work, label):
    err_path = os.path.join(work, "client-%s.stderr" % label)
    with open(err_path, "w") as err:
        p = subprocess.run(["timeout", "-k", "5", "60"] + cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    try:
        report = json.loads(lines[-1]) if lines else None
    except ValueError:
        report = None
    if p.returncode != 0 or not report or report.get("ok") is not True:
        raise Failure("%s: exit %d, %s\n%s" % (label, p.returncode, (report or {}).get("error"), tail(err_path)))
    return report


def events(path):
    """Per connection of a server: its transport and its messages, with the nested ones."""
    conns = {}
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            c = conns.setdefault(e.get("conn"), {"msgs": [], "transport": None})
            if e["ev"] == "transport":
                c["transport"] = ("obfuscated-" if e.get("obfuscated") else "") + e["transport"]
            elif e["ev"] == "msg":
                nested = [(n["msg_id"], n["ctor"]) for n in e.get("nested", [])]
                c["msgs"].append((e["dir"], e.get("msg_id"), e.get("ctor"), tuple(nested)))
    conns.pop(None, None)
    return conns


def hex_id(decimal):
    return "%016x" % (int(decimal) & (2 ** 64 - 1))


def decoded(lines, ports):
    """The decoder's view per (server port, connection number on that server)."""
    conns, order, per_port = {}, {}, {p: 0 for p in ports}
    for e in lines:
        if e["ev"] == "open":
            port = int(e["server"].rsplit(":", 1)[1])
            per_port[port] += 1
            order[e["conn"]] = (port, per_port[port])
            conns[order[e["conn"]]] = {"msgs": [], "transport": None, "inner": [], "errors": []}
        c = conns.get(order.get(e.get("conn")))
        if c is None:
            continue
        if e["ev"] == "transport":
            c["transport"] = e["transport"]
        elif e["ev"] == "msg":
            nested = []
            body = e.get("json") or {}
            if body.get("_") == "msg_container":
                nested = [(hex_id(m["msg_id"]), (m.get("body") or {}).get("_", "?")) for m in body["messages"]]
            c["msgs"].append((e["dir"], e.get("msg_id"), e.get("ctor"), tuple(nested)))
            if "inner" in e:
                c["inner"].append((e["ctor"], e["inner"].get("name"), "json" in e["inner"]))
            if "error" in e:
                c["errors"].append(e["error"])
    return conns


def decode(args, pcap, keylogs, extra=()):
    cmd = [args.mtprobe, "decode", pcap, "--format", "jsonl", "--check", "--summary"] + list(extra)
    for k in keylogs:
        cmd += ["--keylog", k]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 1):
        raise Failure("mtprobe decode exited %d: %s" % (p.returncode, p.stderr))
    lines = [json.loads(ln) for ln in p.stdout.splitlines()]
    end = [e for e in lines if e["ev"] == "end"]
    if len(end) != 1:
        raise Failure("mtprobe decode: no single end line")
    if (p.returncode == 1) != (end[0].get("findings", 0) > 0):
        raise Failure("mtprobe decode: exit %d with %s findings" % (p.returncode, end[0].get("findings")))
    return lines, end[0]


def compare(server_name, want, got, port, exchange_names):
    for n, conn in sorted(want.items()):
        d = got.get((port, n))
        if d is None:
            raise Failure("%s connection %d: not in the decoded capture" % (server_name, n))
        if conn["transport"] != d["transport"]:
            raise Failure("%s connection %d: transport %s, decoded as %s"
                          % (server_name, n, conn["transport"], d["transport"]))
        if sorted(conn["msgs"]) != sorted(d["msgs"]):
            missing = sorted(set(conn["msgs"]) - set(d["msgs"]))
            extra = sorted(set(d["msgs"]) - set(conn["msgs"]))
            raise Failure("%s connection %d (%s): messages differ\n  in the server's log only: %s\n"
                          "  decoded only: %s" % (server_name, n, conn["transport"], missing, extra))
        if d["errors"]:
            raise Failure("%s connection %d: decoder errors: %s" % (server_name, n, d["errors"]))
        ctors = [m[2] for m in conn["msgs"]]
        if "server_DH_params_ok" in ctors:
            inner = {(c, name) for c, name, ok in d["inner"] if ok}
            for need in exchange_names:
                if need not in inner:
                    raise Failure("%s connection %d: %s not decrypted (inner data: %s)"
                                  % (server_name, n, need, d["inner"]))


def run(args):
    work = tempfile.mkdtemp(prefix="mtprobe-capture-")
    procs, tcpdump = [], None
    plain_transports, secret_transports = TRANSPORTS[args.client]
    if args.transports:
        chosen = args.transports.split(",")
        plain_transports = [t for t in chosen if not t.endswith("+secret")]
        secret_transports = [t[:-len("+secret")] for t in chosen if t.endswith("+secret")]
    try:
        plain = start_server(args, work, "plain", None)
        procs.append(plain[0])
        withsecret = start_server(args, work, "secret", SECRET)
        procs.append(withsecret[0])
        tcpdump, pcap = start_tcpdump(work, [plain[2], withsecret[2]])
        answered = []
        for server, transports, secret in ((plain, plain_transports, None), (withsecret, secret_transports, SECRET)):
            for t in transports:
                label = t + ("+secret" if secret else "")
                report = run_client(client_command(args, server[1], server[2], server[3], work, t, secret), work,
                                    label)
                answered.append(label)
        settle(pcap)
        stop(tcpdump, signal.SIGINT)
        check_drops(work)
        for p in procs:
            stop(p)  # the observation log ends with the server
        keylogs = [plain[4]["keys"], withsecret[4]["keys"]]
        lines, end = decode(args, pcap, keylogs)
        ports = [plain[2], withsecret[2]]
        got = decoded(lines, ports)
        exchange = [("server_DH_params_ok", "server_DH_inner_data"), ("set_client_DH_params", "client_DH_inner_data")]
        want_plain, want_secret = events(plain[4]["events"]), events(withsecret[4]["events"])
        if len(want_plain) != len(plain_transports) or len(want_secret) != len(secret_transports):
            raise Failure("the servers saw %d and %d connections, the client made %d and %d"
                          % (len(want_plain), len(want_secret), len(plain_transports), len(secret_transports)))
        compare("plain server", want_plain, got, plain[2], exchange)
        compare("secret server", want_secret, got, withsecret[2], exchange)
        for k in ("undecrypted", "tl_errors", "bytes_lost"):
            if end.get(k):
                raise Failure("decoder: %s = %s" % (k, end[k]))
        summaries = [e for e in lines if e["ev"] == "summary"]
        if len(summaries) != len(want_plain) + len(want_secret):
            raise Failure("--summary: %d connections, %d expected" % (len(summaries), len(want_plain) + len(want_secret)))
        catalogue = {r["id"] for r in json.load(open(os.path.join(SOURCE, "vectors", "cases",
                                                                  "requirements.json")))["requirements"]}
        findings = [e for e in lines if e["ev"] == "check"]
        for f in findings:
            if f["requirement"] not in catalogue:
                raise Failure("a finding names %s, which is no catalogue id" % f["requirement"])
        # The secret server's connections again, from --secret instead of the OBFS2 lines.
        stripped = os.path.join(work, "secret.keys.no-obfs2")
        with open(withsecret[4]["keys"]) as src, open(stripped, "w") as dst:
            dst.writelines(ln for ln in src if not ln.startswith("OBFS2 "))
        lines2, end2 = decode(args, pcap, [plain[4]["keys"], stripped], ["--secret", SECRET])
        compare("secret server (--secret)", want_secret, decoded(lines2, ports), withsecret[2], exchange)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            shutil.copyfile(pcap, os.path.join(args.save, "capture.pcap"))
            with open(os.path.join(args.save, "keys.log"), "w") as out:
                for k in keylogs:
                    out.writelines(open(k).readlines())
            for name in ("plain", "secret"):
                shutil.copyfile(os.path.join(work, name + ".events"), os.path.join(args.save, name + ".events"))
        messages = sum(len(c["msgs"]) for c in list(want_plain.values()) + list(want_secret.values()))
        print("%s: pass: %d connections (%s), %d messages both ways decoded, key exchanges decrypted"
              % (args.client, len(answered), ", ".join(answered), messages))
        by_req = {}
        for f in findings:
            by_req.setdefault((f["requirement"], f["level"]), []).append(f["text"])
        print("--check: %d findings" % len(findings))
        for (req, level), texts in sorted(by_req.items()):
            print("  %s (%s) x%d, e.g. %s" % (req, level, len(texts), texts[0]))
        return 0
    except Failure as e:
        print("%s: FAIL: %s" % (args.client, e))
        return 1
    finally:
        if tcpdump is not None:
            stop(tcpdump, signal.SIGINT)
        for p in procs:
            stop(p)
        if args.keep:
            print("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


# --deviations: the reference client with its seeded faults and the mock DC with its hostile
# scenarios; each connection's findings must name the rule broken.
DEVIATIONS = [
    # name, scenario, client faults, transport, runs, requirements the capture must show
    ("own-msg-id-not-mod4", None, ["own-msg-id-not-mod4"], "intermediate", 1, {"C-SES-23"}),
    ("resend-same-msg-id", "bad_salt_first", ["resend-same-msg-id"], "abridged", 1, {"C-SES-27"}),
    ("res-pq-wrong-nonce", "res_pq_wrong_nonce", ["accept-wrong-nonce"], "obfuscated-intermediate", 1, {"C-HS-7"}),
    ("dh-prime-not-safe", "dh_prime_not_safe", ["skip-dh-prime-check"], "padded", 1, {"C-DH-1"}),
    ("fixed-b", None, ["fixed-b"], "full", 2, {"C-DH-6"}),
    ("retry-id-zero", "dh_gen_retry", ["retry-id-zero"], "intermediate", 1, {"C-HS-9"}),
]


def run_deviations(args):
    work = tempfile.mkdtemp(prefix="mtprobe-capture-dev-")
    procs, tcpdump, servers = [], None, []
    try:
        for name, scenario, faults, transport, runs, want in DEVIATIONS:
            proc, host, port, dc, files = start_server(args, work, name, None, scenario)
            procs.append(proc)
            servers.append((name, host, port, dc, files, faults, transport, runs, want))
        tcpdump, pcap = start_tcpdump(work, [s[2] for s in servers])
        for name, host, port, dc, files, faults, transport, runs, want in servers:
            for i in range(runs):
                cmd = client_command(args, host, port, dc, work, transport, None)
                for f in faults:
                    cmd += ["--fault", f]
                # a client with a check left out may still fail later: its exit is not the point
                subprocess.run(["timeout", "-k", "5", "60"] + cmd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        settle(pcap)
        stop(tcpdump, signal.SIGINT)
        check_drops(work)
        keylogs = [s[4]["keys"] for s in servers]
        lines, end = decode(args, pcap, keylogs)
        conn_port, found = {}, {}
        for e in lines:
            if e["ev"] == "open":
                conn_port[e["conn"]] = int(e["server"].rsplit(":", 1)[1])
            elif e["ev"] == "check":
                found.setdefault(conn_port.get(e["conn"]), []).append(e)
        failed = []
        for name, host, port, dc, files, faults, transport, runs, want in servers:
            got = {f["requirement"] for f in found.get(port, [])}
            # exactly these: a finding of anything else is a false alarm of the decoder
            status = "ok" if want == got else "want %s" % sorted(want)
            if want != got:
                failed.append(name)
            example = next((f["text"] for f in found.get(port, []) if f["requirement"] in want), "-")
            print("  %-22s %-24s found %s: %s (%s)" % (name, "+".join(faults), sorted(got), status, example))
        if failed:
            raise Failure("findings other than the seeded deviations: %s" % ", ".join(failed))
        print("deviations: pass: every seeded fault and hostile scenario shows in --check")
        return 0
    except Failure as e:
        print("deviations: FAIL: %s" % e)
        return 1
    finally:
        if tcpdump is not None:
            stop(tcpdump, signal.SIGINT)
        for p in procs:
            stop(p)
        if args.keep:
            print("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mtprobe", required=True)
    p.add_argument("--client", choices=sorted(TRANSPORTS))
    p.add_argument("--deviations", action="store_true",
                   help="the reference client's seeded faults and the mock DC's hostile scenarios, each found by --check")
    p.add_argument("--ipv6", action="store_true", help="serve and capture on ::1")
    p.add_argument("--keep", action="store_true", help="keep the work directory (capture, key logs, events)")
    p.add_argument("--transports", help="comma-separated subset (NAME+secret for the secret server)")
    p.add_argument("--save", help="copy the capture, one key log of both servers and their events here")
    args = p.parse_args()
    if not os.access(args.mtprobe, os.X_OK):
        print("capture_test: %s is not an executable" % args.mtprobe)
        return 2
    if args.deviations:
        args.client = "mtprobe"
        return run_deviations(args)
    if not args.client:
        print("capture_test: --client or --deviations")
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
