#!/usr/bin/env python3
"""One interop (or end-to-end) case: a fresh `mtprobe serve` on 127.0.0.1:0 and one
client run against it over one transport, then the checks.

    run_interop.py --mtprobe build/mtprobe --client telethon --transport obfuscated-padded [--secret HEX]

Clients: `mtprobe` (the reference client, `mtprobe client`), `telethon`
(harness/adapters/telethon_adapter.py under /usr/bin/python3), `gramjs`
(harness/adapters/gramjs_adapter.js under node; the npm package is found through
NODE_PATH or harness/adapters/node_modules).

Checks, each one a failure when it does not hold:
  - the client exits 0 within its deadline and prints one JSON line with "ok": true;
  - its auth_key is 256 bytes, its auth_key_id is the low 64 bits of SHA1(auth_key), and
    the server's key log (--keylog) has an AUTH_KEY line with exactly that id and key;
  - the request got its answer: a pong, and nearestDc with this_dc = the server's DC (the
    adapters' "results", in request order);
  - mtprobe only: its own key log holds the same AUTH_KEY line, and under obfuscation the
    same OBFS2 lines (init and the four keys, one per connection) as the server's; with the
    scenario bad_salt_first it saw a bad_server_salt and resent; with first_req_pq_404 it
    restarted the key exchange after the -404 (auth_attempts counts it);
  - --pfs (mtprobe only): the client made a permanent and a temporary key and bound them
    (core.telegram.org/api/pfs): "bound" is true, the server's key log has the temporary key
    as a TEMP_AUTH_KEY line and a BIND line naming both keys, and so has the client's.
Exit status: 0 pass, 1 fail, 77 the client does not support the transport (adapter exit 4:
registered as SKIP_RETURN_CODE, so it is never counted as a pass), 2 usage.

--known-bug REGEX REASON: the scenario triggers a known, reported client bug on every run.  The
test passes only when the client fails with an error or stderr matching REGEX ("known client
bug: REASON" is printed); a success fails the test (the bug no longer reproduces: drop
KNOWN_BUG), and so does any other failure.
"""
import argparse
import hashlib
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
EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_NA = 0, 1, 2, 77
ADAPTER_NOT_SUPPORTED = 4


class Failure(Exception):
    pass


def tail(path, n=40):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def read_keylog(path, with_binds=False):
    """{auth_key_id: auth_key} and the list of OBFS2 lines (and, with_binds, the set of
    (temp_id, perm_id) of the BIND lines and the ids of the TEMP_AUTH_KEY lines)."""
    keys, obfs, binds, temps = {}, [], set(), set()
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[0] in ("AUTH_KEY", "TEMP_AUTH_KEY"):
                    keys[parts[1]] = parts[2]
                    if parts[0] == "TEMP_AUTH_KEY":
                        temps.add(parts[1])
                elif len(parts) == 6 and parts[0] == "OBFS2":
                    obfs.append(" ".join(parts[1:]))
                elif len(parts) == 4 and parts[0] == "BIND":
                    binds.add((parts[1], parts[2]))
    except FileNotFoundError:
        pass
    if with_binds:
        return keys, obfs, binds, temps
    return keys, obfs


def start_server(args, work):
    key = os.path.join(work, "dc.pem")
    # A fixed test key saves a 2048-bit key generation per run (slow under ASan).
    shutil.copyfile(os.path.join(SOURCE, "vectors", "rsa", "test_key_private.pem"), key)
    os.chmod(key, 0o600)
    keylog = os.path.join(work, "server.keylog")
    cmd = [args.mtprobe, "serve", "--listen", "127.0.0.1:0", "--rsa-key", key, "--keylog", keylog]
    if args.secret:
        cmd += ["--secret", args.secret]
    if args.scenario:
        cmd += ["--scenario", args.scenario]
    err = open(os.path.join(work, "server.stderr"), "w")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True)
    err.close()
    # The server prints "listening HOST:PORT dc N fingerprint X" once it accepts connections.
    deadline = time.monotonic() + args.server_timeout
    line = ""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline and proc.poll() is None:
        if sel.select(timeout=0.2):
            line = proc.stdout.readline()
            break
    sel.close()
    parts = line.split()
    if len(parts) < 4 or parts[0] != "listening" or parts[2] != "dc":
        stop_server(proc)
        raise Failure("mtprobe serve did not print its listening line (got %r); its stderr:\n%s"
                      % (line, tail(os.path.join(work, "server.stderr"))))
    host, port = parts[1].rsplit(":", 1)
    return proc, host, int(port), int(parts[3]), key, keylog


def stop_server(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.stdout:
        proc.stdout.close()


def client_command(args, host, port, dc, key, work):
    pub = os.path.splitext(key)[0] + ".pub.pem"
    if args.client == "mtprobe":
        cmd = [args.mtprobe, "client", "--server", "%s:%d" % (host, port), "--rsa-pub", pub,
               "--transport", args.transport, "--dc", str(dc), "--call", '{"_":"help.getNearestDc"}',
               "--timeout", str(args.timeout), "--keylog", os.path.join(work, "client.keylog")]
        if args.pfs:
            cmd += ["--pfs", "--temp-expires", str(args.temp_expires)]
    elif args.client == "telethon":
        cmd = ["/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3",
               os.path.join(ADAPTERS, "telethon_adapter.py"), "--connect", "%s:%d" % (host, port),
               "--rsa-key", pub, "--transport", args.transport, "--dc", str(dc),
               "--request", "ping,nearest_dc", "--timeout", str(args.timeout)]
    else:
        cmd = [args.node, os.path.join(ADAPTERS, "gramjs_adapter.js"), "--connect", "%s:%d" % (host, port),
               "--rsa-key", pub, "--transport", args.transport, "--dc", str(dc),
               "--request", "ping,nearest_dc", "--timeout", str(args.timeout)]
    if args.secret:
        cmd += ["--secret", args.secret]
    return cmd


def run_client(cmd, args, work):
    # A hard deadline on top of the client's own: a hung client is a failure, not a hung test.
    hard = args.timeout + 15
    if shutil.which("timeout"):
        cmd = ["timeout", "-k", "5", str(hard)] + cmd
    err_path = os.path.join(work, "client.stderr")
    with open(err_path, "w") as err:
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True, timeout=hard + 10)
        except subprocess.TimeoutExpired:
            raise Failure("the client did not finish within %d s" % (hard + 10))
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    report = None
    if lines:
        try:
            report = json.loads(lines[-1])
        except ValueError:
            pass
    return p.returncode, report, lines, err_path


def check_key(report, server_keys, who):
    key, key_id = report.get("auth_key"), report.get("auth_key_id")
    if not isinstance(key, str) or len(key) != 512:
        raise Failure("%s: auth_key is not 256 bytes of hex: %r" % (who, key))
    want_id = hashlib.sha1(bytes.fromhex(key)).digest()[-8:].hex()
    if key_id != want_id:
        raise Failure("%s: auth_key_id %s is not the low 64 bits of SHA1(auth_key) (%s)" % (who, key_id, want_id))
    if server_keys.get(key_id) != key:
        raise Failure("%s: the server's key log has no AUTH_KEY %s with that key (it has %d keys: %s)"
                      % (who, key_id, len(server_keys), ", ".join(sorted(server_keys)) or "none"))


def check_answers(args, report, dc):
    if args.client == "mtprobe":
        if report.get("pongs", 0) < 1:
            raise Failure("mtprobe: no pong (pongs = %r)" % report.get("pongs"))
        results = [report.get("result")]
    else:
        # The adapters ask for ping,nearest_dc: results holds their answers in that order
        # (docs/check-client.md; tests/interop/contract_test.py checks the rest of the contract).
        results = report.get("results")
        types = [r.get("_") if isinstance(r, dict) else None for r in results or []]
        if types != ["pong", "nearestDc"]:
            raise Failure("%s: results %r, want [pong, nearestDc]" % (args.client, types))
    for r in results:
        if isinstance(r, dict) and r.get("_") == "nearestDc":
            if r.get("this_dc") != dc:
                raise Failure("%s: nearestDc.this_dc is %r, the server is DC %d" % (args.client, r.get("this_dc"), dc))
            return
    raise Failure("%s: no nearestDc among the answers: %s" % (args.client, json.dumps(results)[:500]))


def check_pfs(report, server_keylog, client_keys, client_binds):
    if report.get("bound") is not True:
        raise Failure("mtprobe --pfs: bound is %r" % report.get("bound"))
    perm, temp = report.get("auth_key_id"), report.get("temp_auth_key_id")
    if not isinstance(temp, str) or temp == perm:
        raise Failure("mtprobe --pfs: temp_auth_key_id %r (auth_key_id %r)" % (temp, perm))
    key = report.get("temp_auth_key", "")
    if hashlib.sha1(bytes.fromhex(key)).digest()[-8:].hex() != temp:
        raise Failure("mtprobe --pfs: temp_auth_key_id is not the id of temp_auth_key")
    server_keys, _, server_binds, server_temps = read_keylog(server_keylog, True)
    if temp not in server_temps or server_keys.get(temp) != key:
        raise Failure("mtprobe --pfs: the server's key log has no TEMP_AUTH_KEY %s with that key" % temp)
    if (temp, perm) not in server_binds:
        raise Failure("mtprobe --pfs: the server's key log has no BIND %s %s (it has %s)" % (temp, perm, server_binds))
    if client_keys.get(temp) != key or (temp, perm) not in client_binds:
        raise Failure("mtprobe --pfs: the client's key log lacks the temporary key or the binding")


def run(args):
    work = tempfile.mkdtemp(prefix="mtprobe-interop-")
    proc = None
    name = "%s/%s" % (args.client, args.transport)
    if args.secret:
        name += "+ddsecret" if args.secret.lower().startswith("dd") else "+secret"
    if args.scenario:
        name += "+" + os.path.splitext(os.path.basename(args.scenario))[0]
    if args.pfs:
        name += "+pfs"
    if args.temp_expires != 600:
        name += "+temp%d" % args.temp_expires
    try:
        proc, host, port, dc, key, keylog = start_server(args, work)
        cmd = client_command(args, host, port, dc, key, work)
        rc, report, lines, err_path = run_client(cmd, args, work)
        if rc == ADAPTER_NOT_SUPPORTED and args.client != "mtprobe":
            print("%s: not applicable: %s" % (name, (report or {}).get("error")))
            return EXIT_NA
        if report is None:
            raise Failure("%s: exit %d without a JSON line; stdout:\n%s\nstderr:\n%s"
                          % (args.client, rc, "\n".join(lines[-5:]), tail(err_path)))
        if (rc != 0 or report.get("ok") is not True) and args.known_bug:
            text = "\n".join([str(report.get("error")), str(report.get("stderr_tail", "")), tail(err_path, 200)])
            if re.search(args.known_bug[0], text):
                print("%s: known client bug reproduced as expected: %s\n  (error: %s)"
                      % (name, args.known_bug[1], report.get("error")))
                return EXIT_PASS
        if rc == 0 and report.get("ok") is True and args.known_bug:
            raise Failure("%s: the known client bug did not reproduce (%s): the client succeeded; "
                          "if it is fixed, drop KNOWN_BUG from tests/interop/interop.cmake" % (name, args.known_bug[1]))
        if rc != 0 or report.get("ok") is not True:
            raise Failure("%s: exit %d, ok=%r, error: %s\nstderr:\n%s"
                          % (args.client, rc, report.get("ok"), report.get("error"), tail(err_path)))
        server_keys, server_obfs = read_keylog(keylog)
        check_key(report, server_keys, args.client)
        check_answers(args, report, dc)
        if args.client == "mtprobe":
            client_keys, client_obfs, client_binds, _ = read_keylog(os.path.join(work, "client.keylog"), True)
            if client_keys.get(report["auth_key_id"]) != report["auth_key"]:
                raise Failure("mtprobe: its own key log does not hold the key it reported")
            if args.pfs:
                check_pfs(report, keylog, client_keys, client_binds)
            if args.scenario == "first_req_pq_404" and report.get("auth_attempts", 0) < 2:
                raise Failure("mtprobe: first_req_pq_404, but auth_attempts is %r: no restart after the -404"
                              % report.get("auth_attempts"))
            if args.scenario == "bad_salt_first":
                got = report.get("received", {}).get("bad_server_salt", 0)
                if got < 1 or report.get("resends", 0) < 1:
                    raise Failure("mtprobe: bad_salt_first, but %r bad_server_salt and %r resends"
                                  % (got, report.get("resends")))
            if args.transport.startswith("obfuscated-"):
                if not client_obfs or any(line not in server_obfs for line in client_obfs):
                    raise Failure("mtprobe: OBFS2 lines differ:\nclient %s\nserver %s" % (client_obfs, server_obfs))
        extra = ""
        if "auth_attempts" in report:
            extra = ", auth attempts %s" % report["auth_attempts"]
        print("%s: pass (auth_key_id %s, %s%s)" % (name, report["auth_key_id"],
                                                  report.get("client", args.client), extra))
        return EXIT_PASS
    except Failure as e:
        print("%s: FAIL: %s" % (name, e))
        if proc is not None:
            print("server stderr (tail):\n" + tail(os.path.join(work, "server.stderr")))
        return EXIT_FAIL
    finally:
        if proc is not None:
            stop_server(proc)
        if args.keep:
            print("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mtprobe", required=True, help="the mtprobe binary")
    p.add_argument("--client", required=True, choices=["mtprobe", "telethon", "gramjs"])
    p.add_argument("--transport", required=True)
    p.add_argument("--secret", help="MTProxy secret (hex) for server and client")
    p.add_argument("--scenario", help="mtprobe serve --scenario (a name or a .json path)")
    p.add_argument("--timeout", type=int, default=30, help="the client's deadline in seconds")
    p.add_argument("--server-timeout", type=int, default=60, help="seconds to wait for the listening line")
    p.add_argument("--node", default=shutil.which("node") or "node")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--pfs", action="store_true", help="mtprobe only: --pfs, and check the binding")
    p.add_argument("--temp-expires", type=int, default=600,
                   help="mtprobe --pfs only: the temporary key's expires_in (issue 13: 400000000 overflowed the server)")
    p.add_argument("--known-bug", nargs=2, metavar=("REGEX", "REASON"),
                   help="a failure matching REGEX is a known client bug (see above)")
    args = p.parse_args()
    if args.pfs and args.client != "mtprobe":
        print("run_interop: --pfs is for the mtprobe client")
        return EXIT_USAGE
    if args.temp_expires != 600 and not args.pfs:
        print("run_interop: --temp-expires goes with --pfs")
        return EXIT_USAGE
    if not os.access(args.mtprobe, os.X_OK):
        print("run_interop: %s is not an executable" % args.mtprobe)
        return EXIT_USAGE
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
