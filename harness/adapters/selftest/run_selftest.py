#!/usr/bin/python3
"""Throwaway check of the adapters against selftest/mini_dc.py (no mtprobe needed).

    /usr/bin/python3 harness/adapters/selftest/run_selftest.py [--quick] [--only telethon|gramjs]

For every client and every transport it supports, it runs the adapter against a fresh mini_dc in
each mode and checks: the first bytes on the wire (transport tag, then an unencrypted req_pq_multi
frame), the fingerprint the client picked, the RSA scheme and inner-data constructor it used, the
auth key and salt it reports against the server's, and the JSON failure lines for a server that
closes or never answers. Needs python3-cryptography (for mini_dc) besides the adapters' own needs.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ADAPTERS = os.path.dirname(HERE)
PY = "/usr/bin/python3"
CLIENTS = {
    "telethon": [PY, os.path.join(ADAPTERS, "telethon_adapter.py")],
    "gramjs": ["node", os.path.join(ADAPTERS, "gramjs_adapter.js")],
}
TAGS = {"abridged": "ef", "intermediate": "eeeeeeee", "padded": "dddddddd", "full": None}
SECRET = "00112233445566778899aabbccddeeff"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def run_case(client, transport, mode, key, secret=None, timeout=8.0, requests="ping,nearest_dc",
             attempts=1):
    with tempfile.TemporaryDirectory() as tmp:
        events, portf = os.path.join(tmp, "ev.jsonl"), os.path.join(tmp, "port")
        dc_cmd = [PY, os.path.join(HERE, "mini_dc.py"), "--key", key, "--mode", mode,
                  "--events", events, "--port-file", portf]
        if secret:
            dc_cmd += ["--secret", secret]
        dc = subprocess.Popen(dc_cmd)
        try:
            for _ in range(100):
                if os.path.exists(portf):
                    break
                time.sleep(0.05)
            port = open(portf).read().strip()
            cmd = CLIENTS[client] + ["--connect", "127.0.0.1:" + port, "--rsa-key", key,
                                     "--transport", transport, "--timeout", str(timeout),
                                     "--request", requests, "--auth-attempts", str(attempts)]
            if secret:
                cmd += ["--secret", secret]
            t0 = time.monotonic()
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 10)
            elapsed = time.monotonic() - t0
            time.sleep(0.2)
        finally:
            dc.kill()
            dc.wait()
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        check(len(lines) == 1, "adapter printed %d stdout lines: %r" % (len(lines), p.stdout))
        res = json.loads(lines[0])
        evs = [json.loads(l) for l in open(events)] if os.path.exists(events) else []
        return p.returncode, res, evs, elapsed


def first_event(evs, kind):
    for e in evs:
        if e["event"] == kind:
            return e
    return None


def check_first_packet(transport, secret, evs, res):
    """Tag and first frame; returns a line describing the observed first bytes."""
    fb = first_event(evs, "first_bytes")
    check(fb is not None, "server recorded no connection (adapter error: %s)" % res.get("error"))
    raw = bytes.fromhex(fb["hex"])
    ff = first_event(evs, "first_frame")
    check(ff is not None, "server saw no complete first frame")
    payload = bytes.fromhex(ff["payload"])
    check(len(payload) == 40, "first frame payload is %d bytes, want 40" % len(payload))
    check(payload[:8] == b"\0" * 8, "auth_key_id of the first message is not 0")
    msg_id, ln, cons = struct.unpack("<qiI", payload[8:24])
    check(msg_id != 0 and msg_id % 4 == 0, "client msg_id %d not divisible by 4" % msg_id)
    check(abs((msg_id >> 32) - time.time()) < 60, "client msg_id is not near the current time")
    check(ln == 20, "message_data_length %d, want 20" % ln)
    check(cons == 0xBE7E8EF1, "first constructor %08x, want be7e8ef1 (req_pq_multi)" % cons)
    base = transport.replace("obfuscated-", "")
    if transport.startswith("obfuscated-"):
        want = {"abridged": "efefefef", "intermediate": "eeeeeeee", "padded": "dddddddd"}[base]
        check(ff["obfuscated"] and ff["obfs_tag"] == want,
              "obfuscated tag %s, want %s" % (ff.get("obfs_tag"), want))
        check(raw[0] != 0xEF and raw[4:8] != b"\0" * 4, "forbidden obfuscation init bytes")
        return ("init[0:8]=%s (random) ... decrypted tag %s, dc field %d; then %s-framed "
                "req_pq_multi" % (raw[:8].hex(), ff["obfs_tag"], ff["obfs_dc"], base))
    check(not ff["obfuscated"] and ff["transport"] == transport,
          "server decoded transport %s, want %s" % (ff["transport"], transport))
    tag = TAGS[transport]
    if tag:
        check(raw.startswith(bytes.fromhex(tag)), "stream starts %s, want tag %s" % (raw[:4].hex(),
                                                                                     tag))
    pre = raw[:len(bytes.fromhex(tag))].hex() + " | " if tag else ""
    rest = raw[len(bytes.fromhex(tag)) if tag else 0:]
    if transport == "abridged":
        framing = rest[:1].hex()
    elif transport == "full":
        framing = rest[:8].hex()
    else:
        framing = rest[:4].hex()
    return "%s%s | %s | %s | %s | %s..." % (pre, framing, payload[:8].hex(), payload[8:16].hex(),
                                            payload[16:20].hex(), payload[20:24].hex())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=sorted(CLIENTS))
    ap.add_argument("--quick", action="store_true", help="skip the silent-server (timeout) runs")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mtprobe-adapters-")
    key = os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", key], check=True, capture_output=True)

    failures, observed, summary, short_keys = [], {}, {}, []
    for client in ([a.only] if a.only else sorted(CLIENTS)):
        listing = json.loads(subprocess.run(CLIENTS[client] + ["--list-transports"],
                                            capture_output=True, text=True).stdout)
        cases = [(t, None) for t, impl in listing["transports"].items() if impl]
        cases += [(t, ("dd" + SECRET) if t == "obfuscated-padded" else SECRET)
                  for t in listing["with_secret"]]
        unsupported = [t for t, impl in listing["transports"].items() if not impl]
        for t in unsupported:
            code, res, _, _ = run_case(client, t, "close", key, timeout=3)
            ok = code == 4 and res.get("unsupported") is True
            print("%-8s %-24s unsupported: exit %d %s" % (client, t, code, "ok" if ok else "BAD"))
            if not ok:
                failures.append((client, t, "unsupported", res.get("error")))
        for transport, secret in cases:
            label = transport + (" +secret" if secret else "")
            modes = ["full", "badhash", "respq", "close"] + ([] if a.quick else ["silent"])
            for mode in modes:
                try:
                    to = 3.0 if mode == "silent" else 10.0
                    code, res, evs, el = run_case(client, transport, mode, key, secret, to,
                                                  attempts=1 if mode in ("respq", "close",
                                                                         "silent") else 3)
                    line = check_first_packet(transport, secret, evs, res)
                    for e in evs:
                        if e["event"] == "auth_key" and e["short_key"]:
                            # The clients drop the leading zero byte of such a key and fail the
                            # new_nonce_hash1 check (about 1 exchange in 256); see README.
                            short_keys.append((client, label, mode, res.get("auth_attempts")))
                    observed[(client, label)] = line
                    if mode == "full":
                        # The last key: after a short key (see below) the client starts over.
                        ak = [e for e in evs if e["event"] == "auth_key"][-1]
                        check(code == 0 and res["ok"], "full: adapter failed: %s" % res.get("error"))
                        check(res["auth_key"] == ak["auth_key"], "auth_key differs from server's")
                        check(res["auth_key_id"] == ak["auth_key_id"], "auth_key_id differs")
                        check(res["server_salt"] == ak["server_salt"],
                              "salt %s, server's %s" % (res["server_salt"], ak["server_salt"]))
                        check([r["_"] for r in res["results"]] == ["pong", "nearestDc"],
                              "results %r" % res["results"])
                        check("bad_server_salt" in res["received"], "no bad_server_salt seen")
                        enc = [e for e in evs if e["event"] == "enc_recv"]
                        check(all(e["msg_key_ok"] for e in enc), "a client msg_key was wrong")
                        summary.setdefault(client, {})["first_salt"] = enc[0]["salt"]
                        summary[client]["encrypted_sequence"] = [e["top"] for e in enc]
                        summary[client]["acks"] = [e["names"] for e in evs
                                                   if e["event"] == "client_acks"]
                    elif mode == "badhash":
                        check(code == 0 and res["ok"], "badhash: adapter failed: %s" % res.get("error"))
                        check(res["auth_attempts"] >= 2, "auth_attempts %r" % res["auth_attempts"])
                        restarts = [e for e in evs if e["event"] == "auth_restart"]
                        conns = {e["conn"] for e in evs}
                        summary.setdefault(client, {})["after_bad_new_nonce_hash"] = (
                            "restarts with req_pq_multi on the same connection"
                            if restarts and len(conns) == 1 else "reconnects (%d connections)"
                            % len(conns))
                        ak = [e for e in evs if e["event"] == "auth_key"][-1]
                        check(res["auth_key"] == ak["auth_key"], "auth_key differs after retry")
                    elif mode == "respq":
                        dh = first_event(evs, "req_DH_params")
                        check(dh is not None and dh["inner_ok"], "req_DH_params not decrypted")
                        check(dh["fingerprint_wire"] == res["rsa_fingerprint_wire"],
                              "client used another fingerprint")
                        check(code == 1 and not res["ok"] and "auth_key" in res.get("error", ""),
                              "respq: want an auth_key failure, got %r" % res.get("error"))
                        summary.setdefault(client, {})["rsa"] = (dh["rsa_scheme"], dh["name"],
                                                                 dh["constructor"])
                    elif mode == "close":
                        check(code == 1 and not res["ok"] and res.get("error", "").startswith("auth_key"),
                              "close: got %d %r" % (code, res.get("error")))
                    else:
                        check(code == 1 and res.get("timed_out") and "timeout" in res.get("error", ""),
                              "silent: got %d %r" % (code, res.get("error")))
                        check(el < to + 2, "silent: adapter took %.1fs for timeout %.1fs" % (el, to))
                    print("%-8s %-24s %-6s ok   (exit %d, %.1fs) %s" % (client, label, mode, code, el,
                                                                     res.get("error") or ""))
                except Failure as exc:
                    print("%-8s %-24s %-6s FAIL %s" % (client, label, mode, exc))
                    failures.append((client, label, mode, str(exc)))
    print("\nObserved first bytes (tag | framing | auth_key_id | msg_id | length | constructor):")
    for (client, label), line in sorted(observed.items()):
        print("  %-8s %-24s %s" % (client, label, line))
    print("\nObserved behaviour:")
    print(json.dumps(summary, indent=1))
    print("\nExchanges whose auth_key began with a zero byte (client, transport, mode, attempts):")
    print("  %r" % short_keys if short_keys else "  none this run")
    print("\n%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
