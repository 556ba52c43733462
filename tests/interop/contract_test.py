#!/usr/bin/env python3
"""The client-under-test contract of `mtprobe check client` (docs/check-client.md), checked for
one shipped adapter against a real `mtprobe serve`.

    contract_test.py --mtprobe build/mtprobe --adapter telethon|gramjs|example

Every check runs the adapter the way the runner does (the command template with its
placeholders filled in) and reads the last line of its stdout:
  - answers: --request ping,nearest_dc,config (ping,nearest_dc,config for the example only when
    its mtprobe client has --request; one request per run otherwise), --secret '' (no secret),
    a decimal --timeout: exit 0; every contract field has its type; auth_key is the key the
    server logged; results has one element per request, in order, each the value the server
    sent in the TL JSON mapping (docs/tl-json.md): a pong for the client's ping, nearestDc and
    config as mock-server/templates/ renders them for this server's DC;
  - a bad option: exit 2 with the JSON line;
  - a transport the library lacks: exit 4 (GramJS: intermediate; Telethon: a dd secret with
    obfuscated-abridged; the reference client has every transport);
  - nothing listening on the port: exit 3 (could not proceed), not 1;
  - the library's process killed by SIGABRT once the key is made: "crash": true, "signal": 6;
  - Telethon only, its real abort: padded intermediate with 13..15 bytes of padding on every
    frame (padding_unaligned.json; tests/interop/README.md, "Known client bugs") makes OpenSSL
    abort Telethon's process: "crash": true, "signal": 6, exit 1.
Exit status: 0 every check passed, 1 one failed, 2 usage.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_interop  # noqa: E402  (start_server, stop_server, read_keylog)

SOURCE = run_interop.SOURCE
ADAPTERS = run_interop.ADAPTERS
TEMPLATES = os.path.join(SOURCE, "mock-server", "templates")
TIMEOUT = "30.5"  # a decimal on purpose: the contract's {timeout} is a number of seconds
IMPLEMENTATION = {"telethon": "Telethon", "gramjs": "GramJS", "example": "mtprobe"}
INT64 = (-(1 << 63), (1 << 63) - 1)


class Failure(Exception):
    pass


def adapter_command(args, host, port, pub, transport, request, secret="", extra=()):
    """The runner's template with the placeholders substituted."""
    if args.adapter == "telethon":
        head = ["/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3",
                os.path.join(ADAPTERS, "telethon_adapter.py")]
    elif args.adapter == "gramjs":
        head = [args.node, os.path.join(ADAPTERS, "gramjs_adapter.js")]
    else:
        head = [sys.executable, os.path.join(ADAPTERS, "example_adapter.py")]
    return head + ["--connect", "%s:%d" % (host, port), "--rsa-key", pub, "--transport", transport,
                   "--secret", secret, "--dc", "2", "--request", request,
                   "--timeout", TIMEOUT] + list(extra)


def env_for(args):
    return dict(os.environ, MTPROBE=os.path.abspath(args.mtprobe))


def last_json(stdout, who):
    """The contract: one JSON object as the last line of stdout, nothing after it."""
    if not stdout.endswith("\n"):
        raise Failure("%s: stdout does not end with a complete line: %r" % (who, stdout[-200:]))
    last = stdout[:-1].rsplit("\n", 1)[-1]
    try:
        report = json.loads(last)
    except ValueError:
        raise Failure("%s: the last line of stdout is not JSON: %r" % (who, last[:300]))
    if not isinstance(report, dict):
        raise Failure("%s: the last line is JSON but not an object: %r" % (who, last[:300]))
    return report


def run_adapter(args, cmd, who):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=env_for(args), timeout=float(TIMEOUT) + 30)
    return p.returncode, last_json(p.stdout, who), p.stderr


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_types(r, who, args):
    """Each contract field present has exactly its type."""
    def want(cond, what):
        if not cond:
            raise Failure("%s: %s (JSON: %s)" % (who, what, json.dumps(r)[:600]))
    want(isinstance(r.get("ok"), bool), "ok is not a bool")
    for k in ("auth_key", "auth_key_id"):
        want(k not in r or (isinstance(r[k], str) and re.fullmatch(r"[0-9a-f]+", r[k])),
             "%s is not lower-case hex" % k)
    want("error" not in r or isinstance(r["error"], str), "error is neither absent nor text")
    want("results" not in r or isinstance(r["results"], list), "results is not a list")
    want(r.get("implementation") == IMPLEMENTATION[args.adapter],
         "implementation is %r, want %r" % (r.get("implementation"), IMPLEMENTATION[args.adapter]))
    want("version" not in r or (isinstance(r["version"], str)
                                and re.fullmatch(r"\d+(\.\d+)+", r["version"])), "version is not x.y.z")
    want("crash" not in r or isinstance(r["crash"], bool), "crash is not a bool")
    want("signal" not in r or (is_int(r["signal"]) and r.get("crash") is True),
         "signal is not an int that goes with crash: true")
    want("auth_attempts" not in r or (is_int(r["auth_attempts"]) and r["auth_attempts"] >= 0),
         "auth_attempts is not a count")
    want("transport" not in r or isinstance(r["transport"], str), "transport is not text")
    if r["ok"]:
        want("error" not in r, "ok is true but error is given")
    else:
        want(isinstance(r.get("error"), str) and r["error"], "ok is false without an error text")


def library_version(args):
    if args.adapter == "telethon":
        cmd = ["/usr/bin/python3", "-c", "import telethon; print(telethon.__version__)"]
    elif args.adapter == "gramjs":
        cmd = [args.node, "-e", 'console.log(require("telegram/package.json").version)']
        # The adapter finds the package next to it or through NODE_PATH; so does this.
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ADAPTERS).stdout.strip()
    else:
        cmd = [args.mtprobe, "--version"]
    return subprocess.run(cmd, capture_output=True, text=True).stdout.split()[-1]


def template(name, dc, port):
    """mock-server/templates/NAME.json as the mock DC renders it (the ${...} this test knows)."""
    with open(os.path.join(TEMPLATES, name + ".json")) as f:
        t = json.load(f)
    return {k: (dc if v == "${dc}" else v) for k, v in t.items()}


def check_pong(v, who):
    if not isinstance(v, dict) or v.get("_") != "pong" or set(v) != {"_", "msg_id", "ping_id"}:
        raise Failure("%s: results[ping] is not a pong: %r" % (who, v))
    for k in ("msg_id", "ping_id"):
        if not isinstance(v[k], str) or not re.fullmatch(r"-?[0-9]+", v[k]) \
                or not INT64[0] <= int(v[k]) <= INT64[1]:
            raise Failure("%s: pong.%s %r is not a long as a signed decimal string" % (who, k, v[k]))
    # pong.msg_id is the client's ping's msg_id: time-based, divisible by 4.
    msg_id = int(v["msg_id"]) % (1 << 64)
    if msg_id % 4 or abs((msg_id >> 32) - time.time()) > 300:
        raise Failure("%s: pong.msg_id %s is not a client msg_id of now" % (who, v["msg_id"]))


def check_results(r, requests, dc, port, who):
    results = r.get("results")
    if not isinstance(results, list) or len(results) != len(requests):
        raise Failure("%s: results %r: want one element per request %r" % (who, results, requests))
    for name, v in zip(requests, results):
        if name == "ping":
            check_pong(v, who)
        elif name == "nearest_dc":
            want = template("help.getNearestDc", dc, port)
            if v != want:
                raise Failure("%s: results[nearest_dc] %r, the server sent %r" % (who, v, want))
        else:
            want = template("help.getConfig", dc, port)
            if not isinstance(v, dict) or v.get("_") != "config":
                raise Failure("%s: results[config] is not a config: %r" % (who, v))
            for k, x in v.items():
                # Every field the template fixes, as the template has it (type included); the
                # ${now}-based dates below; ${dc_options} and the fields of other layers are not
                # this test's business.
                fixed = k in want and not (isinstance(want[k], str) and want[k].startswith("${"))
                if fixed and (x != want[k] or type(x) is not type(want[k])):
                    raise Failure("%s: config.%s is %r, the server sent %r" % (who, k, x, want[k]))
            if not (is_int(v.get("date")) and is_int(v.get("expires"))
                    and v["expires"] - v["date"] == 3600 and abs(v["date"] - time.time()) < 300):
                raise Failure("%s: config.date/expires %r/%r" % (who, v.get("date"), v.get("expires")))
            if v.get("this_dc") != dc or v.get("test_mode") is not False:
                raise Failure("%s: config.this_dc/test_mode %r/%r" % (who, v.get("this_dc"), v.get("test_mode")))


def has_request_option(args):
    out = subprocess.run([args.mtprobe, "client", "--help"], capture_output=True, text=True)
    return "--request" in out.stdout + out.stderr


class Server:
    def __init__(self, args, scenario=None):
        self.work = tempfile.mkdtemp(prefix="mtprobe-contract-")
        ns = argparse.Namespace(mtprobe=args.mtprobe, secret=None, scenario=scenario,
                                server_timeout=60)
        self.proc = None
        try:
            self.proc, self.host, self.port, self.dc, key, self.keylog = \
                run_interop.start_server(ns, self.work)
        except run_interop.Failure as e:
            raise Failure(str(e))
        self.pub = os.path.splitext(key)[0] + ".pub.pem"

    def keys(self):
        return run_interop.read_keylog(self.keylog)[0]

    def close(self):
        if self.proc is not None:
            run_interop.stop_server(self.proc)
        shutil.rmtree(self.work, ignore_errors=True)


def check_answers(args):
    srv = Server(args)
    try:
        if args.adapter != "example" or has_request_option(args):
            runs = [["ping", "nearest_dc", "config"]]
        else:  # one answer per run from an mtprobe client without --request
            runs = [["ping"], ["nearest_dc"], ["config"]]
        for requests in runs:
            who = "%s --request %s --secret ''" % (args.adapter, ",".join(requests))
            rc, r, err = run_adapter(args, adapter_command(
                args, srv.host, srv.port, srv.pub, "abridged", ",".join(requests)), who)
            check_types(r, who, args)
            if rc != 0 or r["ok"] is not True:
                raise Failure("%s: exit %d, ok %r, error %r\n%s" % (who, rc, r["ok"], r.get("error"), err[-2000:]))
            if r.get("version") != library_version(args):
                raise Failure("%s: version %r, the installed library is %r" % (who, r.get("version"), library_version(args)))
            if r.get("transport") != "abridged" or r.get("crash", False) is not False:
                raise Failure("%s: transport %r, crash %r" % (who, r.get("transport"), r.get("crash")))
            key, key_id = r.get("auth_key", ""), r.get("auth_key_id")
            if len(key) != 512 or hashlib.sha1(bytes.fromhex(key)).digest()[-8:].hex() != key_id \
                    or srv.keys().get(key_id) != key:
                raise Failure("%s: auth_key/auth_key_id are not a key the server logged" % who)
            if not is_int(r.get("auth_attempts")) or r["auth_attempts"] < 1:
                raise Failure("%s: auth_attempts %r" % (who, r.get("auth_attempts")))
            check_results(r, requests, srv.dc, srv.port, who)
        print("pass: answers (%s), empty --secret, decimal --timeout, field types, version %s"
              % ("; ".join(",".join(x) for x in runs), r["version"]))

        who = "%s --no-such-option" % args.adapter
        rc, r, _ = run_adapter(args, adapter_command(args, srv.host, srv.port, srv.pub, "abridged", "ping",
                                                     extra=["--no-such-option"]), who)
        check_types(r, who, args)
        if rc != 2 or r["ok"] is not False:
            raise Failure("%s: exit %d, ok %r: want exit 2" % (who, rc, r["ok"]))
        print("pass: a bad option exits 2 (%s)" % r["error"])

        lacking = {"gramjs": ("intermediate", ""),
                   "telethon": ("obfuscated-abridged", "dd" + "0123456789abcdef" * 2)}.get(args.adapter)
        if lacking:
            who = "%s --transport %s --secret %r" % (args.adapter, lacking[0], lacking[1])
            rc, r, _ = run_adapter(args, adapter_command(args, srv.host, srv.port, srv.pub, lacking[0], "ping",
                                                         secret=lacking[1]), who)
            check_types(r, who, args)
            if rc != 4 or r["ok"] is not False:
                raise Failure("%s: exit %d, ok %r: want exit 4" % (who, rc, r["ok"]))
            print("pass: a transport the library lacks exits 4 (%s)" % r["error"])
    finally:
        srv.close()

    # A port nobody listens on: bound, then closed (another process taking it at once is unlikely).
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    who = "%s against a closed port" % args.adapter
    rc, r, _ = run_adapter(args, adapter_command(args, "127.0.0.1", port, os.path.join(
        SOURCE, "vectors", "rsa", "test_key_public_pkcs1.pem"), "abridged", "ping"), who)
    check_types(r, who, args)
    if rc != 3 or r["ok"] is not False or r.get("results") != [None]:
        raise Failure("%s: exit %d, ok %r, results %r: want exit 3 and [null]" % (who, rc, r["ok"], r.get("results")))
    print("pass: an unreachable server exits 3 (%s)" % r["error"])


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def check_injected_crash(args):
    """SIGABRT to the library's process once the key is made: the adapter reports a crash."""
    srv = Server(args, "slow_answers")  # every encrypted answer 1.5 s late: time to strike
    try:
        who = "%s, library process killed by SIGABRT" % args.adapter
        cmd = adapter_command(args, srv.host, srv.port, srv.pub, "abridged", "nearest_dc")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env_for(args), start_new_session=True)
        try:
            deadline = time.monotonic() + 20
            while not srv.keys() and time.monotonic() < deadline and p.poll() is None:
                time.sleep(0.05)
            kids = children(p.pid)
            if not srv.keys() or len(kids) != 1:
                raise Failure("%s: no key made, or not one library process (%r)" % (who, kids))
            os.kill(kids[0], signal.SIGABRT)
            out, err = p.communicate(timeout=float(TIMEOUT) + 30)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        r = last_json(out, who)
        check_types(r, who, args)
        if p.returncode != 1 or r["ok"] is not False or r.get("crash") is not True \
                or r.get("signal") != signal.SIGABRT or r.get("results") != [None]:
            raise Failure("%s: exit %d, JSON %s" % (who, p.returncode, json.dumps(r)[:800]))
        print("pass: a library process killed by a signal is a crash (%s)" % r["error"])
    finally:
        srv.close()


def check_telethon_abort(args):
    srv = Server(args, os.path.join(HERE, "padding_unaligned.json"))
    try:
        who = "telethon padded, 13..15 bytes of padding"
        rc, r, err = run_adapter(args, adapter_command(args, srv.host, srv.port, srv.pub, "padded",
                                                       "ping,nearest_dc"), who)
        check_types(r, who, args)
        if rc != 1 or r["ok"] is not False or r.get("crash") is not True \
                or r.get("signal") != signal.SIGABRT or r.get("results") != [None, None]:
            raise Failure("%s: exit %d, JSON %s" % (who, rc, json.dumps(r)[:800]))
        if "AES_BLOCK_SIZE" not in r.get("stderr_tail", "") + err:
            raise Failure("%s: crashed, but not in OpenSSL's IGE assertion: %s" % (who, r.get("stderr_tail")))
        print("pass: Telethon's OpenSSL abort is reported as a crash, signal 6 (%s)" % r["error"])
    finally:
        srv.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mtprobe", required=True)
    p.add_argument("--adapter", required=True, choices=sorted(IMPLEMENTATION))
    p.add_argument("--node", default=shutil.which("node") or "node")
    args = p.parse_args()
    if not os.access(args.mtprobe, os.X_OK):
        print("contract_test: %s is not an executable" % args.mtprobe)
        return 2
    checks = [check_answers, check_injected_crash]
    if args.adapter == "telethon":
        checks.append(check_telethon_abort)
    failed = 0
    for check in checks:
        try:
            check(args)
        except (Failure, subprocess.TimeoutExpired) as e:
            print("FAIL: %s" % e)
            failed += 1
    print("%s: %d of %d checks failed" % (args.adapter, failed, len(checks)) if failed
          else "%s: every check passed" % args.adapter)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
