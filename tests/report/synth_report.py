#!/usr/bin/env python3
"""Writes a synthetic check-client report of N results (default 5,000) in the report model
(docs/reports.md), with wire logs as large as real ones: for measuring how the HTML report
copes with big runs.  Deterministic (seeded).

  synth_report.py OUT.json [--results N] [--seed S]
"""
import argparse
import json
import random

AREAS = [("dh", "DH parameters"), ("handshake", "Key exchange messages"), ("encrypted", "Encrypted messages"),
         ("session", "Session: msg_id, seqno and service messages"), ("transport", "Transport"),
         ("mismatch", "Behaviour on mismatch")]
LEVELS = ["MUST"] * 6 + ["SHOULD"] * 2 + ["RECOMMENDED", "MAY"]
RUNS = [("impl-a", ["intermediate", "obfuscated-abridged", "padded"]), ("impl-b", ["intermediate", "full"])]
VERDICTS = ["pass"] * 85 + ["fail"] * 7 + ["crash"] * 2 + ["hang"] * 2 + ["unsupported"] * 2 + ["error", "xfail"]
# (ctor, direction, body bytes, encrypted): the shape of one key exchange and a call.
MESSAGES = [("req_pq_multi", "c2s", 20, False), ("resPQ", "s2c", 64, False), ("req_DH_params", "c2s", 320, False),
            ("server_DH_params_ok", "s2c", 652, False), ("set_client_DH_params", "c2s", 376, False),
            ("dh_gen_ok", "s2c", 72, False), ("invokeWithLayer", "c2s", 180, True), ("new_session_created", "s2c", 28, True),
            ("msgs_ack", "s2c", 20, True), ("rpc_result", "s2c", 96, True), ("msgs_ack", "c2s", 20, True),
            ("ping", "c2s", 12, True), ("pong", "s2c", 20, True)]


def wire(rng, hostile_at):
    t = 0
    ev = [{"t": 0, "ev": "start", "now_ms": 1796597700174}, {"t": 9, "ev": "open", "conn": 1, "peer": "127.0.0.1:40000", "dc": 2},
          {"t": 9, "ev": "transport", "conn": 1, "transport": "intermediate", "obfuscated": False}]
    for k, (ctor, d, n, enc) in enumerate(MESSAGES):
        t += rng.randint(0, 30)
        body = rng.randbytes(n).hex()
        e = {"t": t, "ev": "msg", "conn": 1, "dir": d, "enc": enc, "msg_id": rng.randbytes(8).hex(), "ctor": ctor,
             "names": [ctor], "tl": f"{ctor} nonce:0x{body[:32]} data:0x{body[32:400]}", "len": n, "body": body}
        if enc:
            e.update({"seqno": 2 * k + 1, "auth_key_id": "4fd4bf17d30ae1e5", "session_id": "cd99b34efb2a8a9c"})
        if k == hostile_at:
            e["hostile"] = "dh_prime replaced by a composite number"
        ev.append(e)
    ev.append({"t": t + 2, "ev": "close", "conn": 1, "by": "client", "bytes_in": 1272, "bytes_out": 1192})
    ev.append({"t": t + 150, "ev": "end"})
    return ev


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--results", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    columns = [(run, t) for run, ts in RUNS for t in ts]
    ncases = -(-a.results // len(columns))
    cases = []
    for i in range(ncases):
        area = AREAS[i % len(AREAS)][0]
        cases.append({"id": f"client.{area}.synthetic-{i:04d}", "requirement": f"C-{area[:3].upper()}-{i % 40 + 1}",
                      "level": LEVELS[i % len(LEVELS)], "title": f"synthetic case {i} of the {area} area",
                      "area": area, "group": area,
                      "spec": {"url": "https://core.telegram.org/mtproto/security_guidelines", "section": "Synthetic",
                               "quote": "Client is expected to check whether p = dh_prime is a safe 2048-bit prime."},
                      "tags": [], "expect": "reject_exchange", "hostile": "server_DH_params_ok", "checks": []})
    results = []
    for c in cases:
        for run, t in columns:
            if len(results) == a.results:
                break
            v = rng.choice(VERDICTS)
            w = wire(rng, 3)
            results.append({"case": c["id"], "run": run, "transport": t, "repeat": 0, "verdict": v,
                            "expected": "the client discards the hostile server_DH_params_ok",
                            "observed": "synthetic observation " + v, "marks": [{"event": 6, "why": "hostile"}],
                            "requirement": c["requirement"], "level": c["level"], "duration_ms": rng.randint(10, 900),
                            "client": {"command": "synthetic", "exit": 0, "signal": 0, "timed_out": False,
                                       "elapsed_ms": 100, "stderr_tail": ""},
                            "server_log": "synthetic\n", "wire": w})
    runs = [{"id": run, "implementation": run, "implementation_version": "1.0", "kind": "check-client",
             "command": "check client", "started": "2026-01-01T00:00:00Z", "duration_s": 100.0, "transports": ts,
             "summary": {}} for run, ts in RUNS]
    report = {"report_format": "mtprobe-report/1", "tool": "mtprobe", "version": "0.1.0", "kind": "check-client",
              "command": "check client", "implementation": "impl-a, impl-b", "implementation_version": None,
              "started": "2026-01-01T00:00:00Z", "duration_s": 200.0, "runs": runs,
              "areas": [{"id": i, "title": t} for i, t in AREAS], "cases": cases, "results": results,
              "summary": {}, "options": {"synthetic": True, "seed": a.seed}}
    with open(a.out, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
