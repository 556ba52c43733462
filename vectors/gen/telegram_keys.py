#!/usr/bin/python3
"""Fingerprints of Telegram's published RSA server keys -> vectors/rsa/telegram_keys.json.

Independent implementation: Telethon 1.25.1 (Debian python3-telethon), whose
telethon/crypto/rsa.py carries Telegram's keys (taken from DrKLO/Telegram
Handshake.cpp) and computes fingerprints with _compute_fingerprint; keys are
parsed with the python3-rsa module Telethon uses.  Two newer keys Telethon
1.25.1 does not carry (production D09D1D85DE64FD85 and test B25898DF208D2603,
as published by Telegram on my.telegram.org) are taken from
wiz0u/WTelegramClient src/Encryption.cs.

Run with /usr/bin/python3 (the system interpreter has Telethon).
"""
import json
import re
import struct
import sys
from pathlib import Path

import rsa
import telethon
from telethon.crypto import rsa as trsa

NEWER_KEYS = [
    ("production key D09D1D85DE64FD85 (my.telegram.org; via WTelegramClient src/Encryption.cs)", False, """-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEA6LszBcC1LGzyr992NzE0ieY+BSaOW622Aa9Bd4ZHLl+TuFQ4lo4g
5nKaMBwK/BIb9xUfg0Q29/2mgIR6Zr9krM7HjuIcCzFvDtr+L0GQjae9H0pRB2OO
62cECs5HKhT5DZ98K33vmWiLowc621dQuwKWSQKjWf50XYFw42h21P2KXUGyp2y/
+aEyZ+uVgLLQbRA1dEjSDZ2iGRy12Mk5gpYc397aYp438fsJoHIgJ2lgMv5h7WY9
t6N/byY9Nw9p21Og3AoXSL2q/2IJ1WRUhebgAdGVMlV1fkuOQoEzR7EdpqtQD9Cs
5+bfo3Nhmcyvk5ftB0WkJ9z6bNZ7yxrP8wIDAQAB
-----END RSA PUBLIC KEY-----
"""),
    ("test-DC key B25898DF208D2603 (my.telegram.org; via WTelegramClient src/Encryption.cs)", False, """-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAyMEdY1aR+sCR3ZSJrtztKTKqigvO/vBfqACJLZtS7QMgCGXJ6XIR
yy7mx66W0/sOFa7/1mAZtEoIokDP3ShoqF4fVNb6XeqgQfaUHd8wJpDWHcR2OFwv
plUUI1PLTktZ9uW2WE23b+ixNwJjJGwBDJPQEQFBE+vfmH0JP503wr5INS1poWg/
j25sIWeYPHYeOrFp/eXaqhISP6G+q2IeTaWTXpwZj4LzXq5YOpk4bYEQ6mvRq7D1
aHWfYmlEGepfaYR8Q0YqvvhYtMte3ITnuSJs171+GDqpdKcSwHnd6FudwGO4pcCO
j4WcDuXc2CTHgH8gFTNhp/Y8/SpDOhvn9QIDAQAB
-----END RSA PUBLIC KEY-----
"""),
]


def telethon_pems():
    """The PEM blocks in Telethon's rsa.py, in file order, with their old flag."""
    src = Path(trsa.__file__).read_text()
    out = []
    for m in re.finditer(r"for pub in \((.*?)\):\s*add_key\(pub, old=(True|False)\)", src, re.S):
        for pem in re.findall(r"'''(-----BEGIN RSA PUBLIC KEY-----.*?-----END RSA PUBLIC KEY-----)'''", m.group(1), re.S):
            out.append((pem.strip() + "\n", m.group(2) == "True"))
    return out


def wire(fp):
    return struct.pack("<q", fp).hex()


def main():
    keys = []
    for pem, old in telethon_pems():
        keys.append(("Telethon 1.25.1 telethon/crypto/rsa.py (" + ("old key" if old else "current key") + ")", old, pem))
    keys += NEWER_KEYS
    tests_ne, tests_pem = [], []
    tc = 1
    for comment, old, pem in keys:
        k = rsa.PublicKey.load_pkcs1(pem.encode())
        fp = trsa._compute_fingerprint(k)
        n = trsa.get_byte_array(k.n).hex()
        e = trsa.get_byte_array(k.e).hex()
        label = "%016x" % (fp & 0xFFFFFFFFFFFFFFFF)
        tests_ne.append({"tcId": tc, "comment": label + ": " + comment, "flags": ["OldKey"] if old else [],
                         "result": "valid", "args": {"n": n, "e": e}, "expect": {"fingerprint": wire(fp)}})
        tc += 1
        tests_pem.append({"tcId": tc, "comment": label + " from its PKCS#1 PEM: " + comment,
                          "flags": ["OldKey"] if old else [], "result": "valid", "args": {"pem": pem},
                          "expect": {"n": n, "e": e, "fingerprint": wire(fp)}})
        tc += 1
    # n with a leading zero byte must give the same fingerprint (numbers carry no leading zeros).
    first = tests_ne[0]
    tests_ne.append({"tcId": tc, "comment": "the first key again, n sent with a leading zero byte",
                     "flags": ["LeadingZero"], "result": "valid",
                     "args": {"n": "00" + first["args"]["n"], "e": first["args"]["e"]},
                     "expect": first["expect"]})
    doc = {
        "format": "mtprobe-vectors/1",
        "title": "RSA fingerprints of Telegram's published server keys",
        "source": "Keys: Telethon 1.25.1 telethon/crypto/rsa.py (from DrKLO/Telegram TMessagesProj/jni/tgnet/Handshake.cpp) "
                  "and, for D09D1D85DE64FD85 / B25898DF208D2603, Telegram's keys as published on my.telegram.org, copied "
                  "from wiz0u/WTelegramClient src/Encryption.cs. Fingerprints computed by Telethon.",
        "generator": "Telethon %s rsa._compute_fingerprint with python3-rsa %s; vectors/gen/telegram_keys.py" % (
            telethon.__version__, rsa.__version__),
        "spec": ["https://core.telegram.org/mtproto/auth_key#dh-exchange-initiation"],
        "requirements": ["C-HS-11"],
        "notes": {"OldKey": "a key Telegram has retired (Telethon marks it old)",
                  "LeadingZero": "the number is sent with a leading zero byte, which the fingerprint ignores"},
        "testGroups": [
            {"op": "rsa_fingerprint", "comment": "fingerprint = SHA1(TL bytes(n) + TL bytes(e))[12..20], the wire bytes of the long",
             "tests": tests_ne},
            {"op": "rsa_key_info", "comment": "the same keys parsed from Telegram's PKCS#1 'RSA PUBLIC KEY' PEM",
             "tests": tests_pem},
        ],
    }
    out = Path(__file__).resolve().parent.parent / "rsa" / "telegram_keys.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print("wrote", out, len(keys), "keys", file=sys.stderr)


if __name__ == "__main__":
    main()
