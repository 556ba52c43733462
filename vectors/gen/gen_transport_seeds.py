#!/usr/bin/env python3
"""Seeds fuzz/corpus/fuzz_tr_{frames,obfs,detect}/ from vectors/transport/*.json.

Obfuscated seeds need encrypted streams under the fuzz targets' fixed secret;
they are made by the reference shim (`mtprobe shim`, op obfuscated_init with
next_plain), whose obfuscation is checked against Telethon by the vectors.
Usage: python3 vectors/gen/gen_transport_seeds.py path/to/mtprobe
File names are the SHA-1 of the content, as libFuzzer writes them."""
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
KINDS = ["abridged", "intermediate", "padded", "full"]
FUZZ_SECRET = "00112233445566778899aabbccddeeff"  # as in fuzz_tr_obfs.c / fuzz_tr_detect.c


def load(stem):
    with open(os.path.join(ROOT, "vectors", "transport", stem + ".json")) as f:
        return json.load(f)


def save(target, blob):
    d = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(blob).hexdigest()), "wb") as f:
        f.write(blob)


def decode_vectors():
    for stem in ("abridged", "intermediate", "padded", "full", "transport_errors"):
        for g in load(stem)["testGroups"]:
            if g["op"] != "transport_decode":
                continue
            for t in g["tests"]:
                args = dict(g.get("args", {}), **t["args"])
                yield args["transport"], args.get("sender", "client"), bytes.fromhex(args["data"])


class Shim:
    def __init__(self, exe):
        self.p = subprocess.Popen([exe, "shim"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.id = 0

    def call(self, **req):
        self.id += 1
        req["id"] = self.id
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        ans = json.loads(self.p.stdout.readline())
        assert ans["ok"], ans
        return ans


def main():
    shim = Shim(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "mtprobe"))
    for kind, sender, data in decode_vectors():
        k = KINDS.index(kind)
        side = 4 if sender == "server" else 0
        save("fuzz_tr_frames", bytes([k | side, 0x5a]) + data)
        save("fuzz_tr_frames", bytes([k | side | 8 | 16, 0x17]) + data)
        if sender == "client":
            save("fuzz_tr_detect", bytes([0x10]) + data)

    # Obfuscated streams: an init per transport, then two frames the client sends.
    obfs = load("obfuscated")
    inits = [t["args"]["init"] for t in obfs["testGroups"][0]["tests"] if t["args"]["sender"] == "client"]
    for i, init in enumerate(inits):
        kind = {"ef": "abridged", "ee": "intermediate", "dd": "padded"}[init[112:114]]
        frames = ""
        for n, payload in enumerate(("0102030405060708", "11" * 40)):
            frames += shim.call(op="transport_encode", transport=kind, payload=payload, first=False,
                                quick_ack=n == 1)["data"]
        for choice, secret in ((0, None), (1, FUZZ_SECRET), (2, "dd" + FUZZ_SECRET)):
            if choice == 2 and kind != "padded":
                continue
            args = {"op": "obfuscated_init", "init": init, "sender": "client", "next_plain": frames}
            if secret:
                args["secret"] = secret
            a = shim.call(**args)
            stream = bytes.fromhex(a["wire"] + a["next_wire"])
            save("fuzz_tr_obfs", bytes([choice, 0x33 + i]) + stream)
            if choice < 2:
                save("fuzz_tr_detect", bytes([0x41 | (2 if choice else 0)]) + stream)
    for t in load("detect")["testGroups"][0]["tests"]:
        save("fuzz_tr_detect", bytes([0x20]) + bytes.fromhex(t["args"]["data"]))


if __name__ == "__main__":
    main()
