#!/usr/bin/python3
"""Generates vectors/aes_ige/aes256_telethon.json: AES-256-IGE known answers
computed by Telethon's own IGE code (telethon.crypto.aes.AES), forced onto
its pure-Python path over pyaes so that no OpenSSL code is involved.

Run with Debian's interpreter, which has python3-telethon installed:
    /usr/bin/python3 vectors/gen/gen_aes_ige_telethon.py
Inputs come from a SHA-256 counter stream with a fixed seed, so the output
is byte-for-byte reproducible.
"""
import hashlib
import importlib.metadata as md
import json
import os
import platform
import struct
import sys

import telethon.crypto.aes as aes_mod
import telethon.crypto.libssl as libssl_mod

SEED = b"mtprobe aes-ige vectors v1"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "aes_ige", "aes256_telethon.json")


class DetStream:
    """SHA-256(seed | label | counter) blocks: deterministic test inputs."""

    def __init__(self, label):
        self.prefix = SEED + b"|" + label.encode() + b"|"
        self.counter = 0
        self.buf = b""

    def read(self, n):
        while len(self.buf) < n:
            self.buf += hashlib.sha256(self.prefix + struct.pack("<Q", self.counter)).digest()
            self.counter += 1
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


# Telethon prefers cryptg, then the system libssl; both would make these
# vectors come from OpenSSL-like code rather than an independent one.
aes_mod.cryptg = None
libssl_mod.encrypt_ige = None
libssl_mod.decrypt_ige = None
AES = aes_mod.AES

BACKEND = ("Telethon %s telethon.crypto.aes.AES, pure-Python path (cryptg and libssl disabled) over pyaes %s, "
           "CPython %s" % (md.version("Telethon"), md.version("pyaes"), platform.python_version()))


def main():
    rnd = DetStream("inputs")
    enc_tests, dec_tests = [], []
    tc = 0
    lengths = [16, 32, 48, 64, 1024, 4096]
    in_place_lengths = {16, 48, 1024}
    for n in lengths:
        for in_place in ([False, True] if n in in_place_lengths else [False]):
            key, iv, plain = rnd.read(32), rnd.read(32), rnd.read(n)
            cipher = AES.encrypt_ige(plain, key, iv)
            assert len(cipher) == n and AES.decrypt_ige(cipher, key, iv) == plain
            flags = ["InPlace"] if in_place else []
            where = ", out == in" if in_place else ""
            tc += 1
            enc = {"tcId": tc, "comment": "%d bytes%s" % (n, where), "flags": flags, "result": "valid",
                   "args": {"key": key.hex(), "iv": iv.hex(), "data": plain.hex()}, "expect": {"out": cipher.hex()}}
            tc += 1
            dec = {"tcId": tc, "comment": "%d bytes%s" % (n, where), "flags": flags, "result": "valid",
                   "args": {"key": key.hex(), "iv": iv.hex(), "data": cipher.hex()}, "expect": {"out": plain.hex()}}
            if in_place:
                enc["args"]["in_place"] = True
                dec["args"]["in_place"] = True
            enc_tests.append(enc)
            dec_tests.append(dec)

    # Structured inputs: an all-zero key/IV/plaintext, and repeated plaintext
    # blocks (IGE, unlike ECB, must not repeat them in the ciphertext).
    special = [
        ("all-zero key, IV and data, 64 bytes", bytes(32), bytes(32), bytes(64)),
        ("repeated plaintext block x8", rnd.read(32), rnd.read(32), rnd.read(16) * 8),
        ("IV halves equal", rnd.read(32), rnd.read(16) * 2, rnd.read(96)),
    ]
    for comment, key, iv, plain in special:
        cipher = AES.encrypt_ige(plain, key, iv)
        assert AES.decrypt_ige(cipher, key, iv) == plain
        tc += 1
        enc_tests.append({"tcId": tc, "comment": comment, "flags": [], "result": "valid",
                          "args": {"key": key.hex(), "iv": iv.hex(), "data": plain.hex()},
                          "expect": {"out": cipher.hex()}})
        tc += 1
        dec_tests.append({"tcId": tc, "comment": comment, "flags": [], "result": "valid",
                          "args": {"key": key.hex(), "iv": iv.hex(), "data": cipher.hex()},
                          "expect": {"out": plain.hex()}})

    doc = {
        "format": "mtprobe-vectors/1",
        "title": "AES-256-IGE, generated with Telethon's pure-Python IGE",
        "source": "computed by an independent implementation (see generator) from inputs drawn from a "
                  "SHA-256 counter stream with a fixed seed",
        "generator": BACKEND + "; script vectors/gen/gen_aes_ige_telethon.py",
        "spec": ["https://core.telegram.org/mtproto/description#defining-aes-key-and-initialization-vector"],
        "requirements": ["C-ENC-20"],
        "notes": {
            "InPlace": "the shim is asked (optional argument in_place: true) to write the output over the input; "
                       "shims that ignore the argument still produce the same answer",
        },
        "testGroups": [
            {"op": "aes_ige_encrypt", "comment": "AES-256-IGE encryption, iv = previous ciphertext block | "
             "previous plaintext block", "tests": enc_tests},
            {"op": "aes_ige_decrypt", "comment": "AES-256-IGE decryption of the same cases", "tests": dec_tests},
        ],
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote %s (%d tests)" % (os.path.normpath(OUT), tc), file=sys.stderr)


if __name__ == "__main__":
    main()
