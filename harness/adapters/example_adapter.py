#!/usr/bin/env python3
"""Example client-under-test adapter for `mtprobe check client`: copy it to wrap your library.

The runner starts the mock DC, fills in your command template, e.g.

    python3 harness/adapters/example_adapter.py --connect {host}:{port} --rsa-key {rsa_pub} \
        --transport {transport} --secret '{secret}' --dc {dc} --request {request} --timeout {timeout}

runs it, and reads the LAST line of its stdout: one JSON object (docs/check-client.md, "The
client-under-test contract"). Most verdicts come from what the mock DC sees on the wire; the JSON
adds what only the client knows: the answers its library handed back, and whether it crashed.

Here "the library" is mtprobe's own reference client (`mtprobe client`, found through --mtprobe,
$MTPROBE or build/mtprobe), run as a subprocess whose JSON output is translated. To wrap your own
library, replace run_library() with calls into it; the rest stays as it is.
"""
import argparse
import json
import os
import subprocess
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANNOT, EXIT_UNSUPPORTED = 0, 1, 2, 3, 4
TRANSPORTS = ("abridged", "intermediate", "padded", "full",
              "obfuscated-abridged", "obfuscated-intermediate", "obfuscated-padded")
SUPPORTED = set(TRANSPORTS)  # your library's subset: the others must exit 4, not fail
CALLS = {"nearest_dc": '{"_":"help.getNearestDc"}', "config": '{"_":"help.getConfig"}'}
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Usage(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # a usage error still ends with the JSON line (and exit 2)
        raise Usage(message)


def parse(argv):
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--connect", required=True, metavar="HOST:PORT")
    p.add_argument("--rsa-key", required=True, help="PEM with the mock DC's public key")
    p.add_argument("--transport", required=True, choices=TRANSPORTS)
    p.add_argument("--secret", default="", help="MTProxy secret in hex; '' means none")
    p.add_argument("--dc", type=int, default=2)
    p.add_argument("--request", default="ping", help="comma-separated: ping, nearest_dc, config")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds (a decimal is fine)")
    p.add_argument("--mtprobe", default=os.environ.get("MTPROBE")
                   or os.path.join(REPO, "build", "mtprobe"), help="the reference client")
    a = p.parse_args(argv)
    a.requests = a.request.split(",")
    if not set(a.requests) <= {"ping"} | set(CALLS):
        raise Usage("--request: unknown item in %r" % a.request)
    if not a.timeout > 0:
        raise Usage("--timeout must be positive")
    try:
        bytes.fromhex(a.secret)
    except ValueError:
        raise Usage("--secret is not hex")
    return a


def library_command(a):
    """mtprobe client's command line for the requests, or None when it cannot report them all."""
    cmd = [a.mtprobe, "client", "--server", a.connect, "--rsa-pub", a.rsa_key, "--transport",
           a.transport, "--dc", str(a.dc), "--timeout", str(a.timeout)]
    if a.secret:  # an empty {secret} means a plain (non-MTProxy) connection
        cmd += ["--secret", a.secret]
    help_text = subprocess.run([a.mtprobe, "client", "--help"], capture_output=True, text=True)
    if "--request" in help_text.stdout + help_text.stderr:
        return cmd + ["--request", a.request]  # every answer comes back in "results"
    # An older mtprobe client pings first, then makes at most one --call, and reports only one
    # answer ("result"): the pong's values are not printed when a call follows.
    if a.requests == ["ping"]:
        return cmd + ["--ping-count", "1"]
    if len(a.requests) == 1:
        return cmd + ["--ping-count", "0", "--call", CALLS[a.requests[0]]]
    return None


def tl_longs(value):
    """docs/tl-json.md writes a TL long as a signed decimal string (pong.msg_id, pong.ping_id)."""
    if isinstance(value, dict) and value.get("_") == "pong":
        for k in ("msg_id", "ping_id"):
            n = int(value[k])
            value[k] = str(n - (1 << 64) if n >= 1 << 63 else n)
    return value


def run_library(a, res):
    """Key exchange and requests; fills res, returns the exit code."""
    cmd = library_command(a)
    if cmd is None:
        res["error"] = "this mtprobe client reports one answer per run (no --request option)"
        return EXIT_CANNOT
    try:  # the library's stderr passes through to ours; its stdout is ours to parse
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=a.timeout + 2)
    except subprocess.TimeoutExpired:
        res["error"] = "timeout: no answer within %gs" % a.timeout
        return EXIT_FAILED
    except OSError as exc:
        res["error"] = "cannot run %s: %s" % (a.mtprobe, exc)
        return EXIT_CANNOT
    if p.returncode < 0:  # killed by a signal (an abort, a segfault): report it as a crash
        res.update(crash=True, signal=-p.returncode,
                   error="crash: the client process was killed by signal %d" % -p.returncode)
        return EXIT_FAILED
    lines = p.stdout.strip().splitlines()
    try:
        out = json.loads(lines[-1])
    except (IndexError, ValueError):
        res["error"] = "mtprobe client (exit %d) printed no JSON line" % p.returncode
        return EXIT_CANNOT
    # Only values the library handed back: never fill in an answer from anything else.
    answers = out.get("results", [out["result"]] if "result" in out else [])
    res["results"] = [tl_longs(r) for r in answers][:len(a.requests)]
    res["results"] += [None] * (len(a.requests) - len(res["results"]))
    res["version"] = out.get("client", "mtprobe ?").split()[-1]
    for k in ("auth_key", "auth_key_id", "auth_attempts", "error"):
        if out.get(k) is not None:
            res[k] = out[k]
    res["ok"] = p.returncode == 0 and out.get("ok") is True
    # mtprobe client: 0 ok, 1 the server misbehaved or the exchange failed, 3 could not proceed;
    # 2 (usage) means this adapter built a bad command line: the run could not proceed.
    return {0: EXIT_OK, 1: EXIT_FAILED}.get(p.returncode, EXIT_CANNOT)


def main(argv):
    res = {"ok": False, "implementation": "mtprobe"}
    try:
        a = parse(argv)
    except Usage as exc:
        res["error"] = "usage: %s" % exc
        return emit(res, EXIT_USAGE)
    res.update(transport=a.transport, results=[None] * len(a.requests))
    if a.transport not in SUPPORTED:
        res["error"] = "transport %s is not supported" % a.transport
        return emit(res, EXIT_UNSUPPORTED)
    code = run_library(a, res)
    if code != EXIT_OK:
        res["ok"] = False
        res.setdefault("error", "failed (exit %d)" % code)
    return emit(res, code)


def emit(res, code):
    print(json.dumps(res), flush=True)  # nothing may follow this line on stdout
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
