#!/usr/bin/python3
"""DH parameter check vectors -> vectors/dh/dh_checks.json.

The primes are data (dh_primes.json).  `dh_checks.py --new-primes` makes new
ones with dh_safe_prime.c (OpenSSL BN_generate_prime_ex2, asked for safe primes
with chosen residues, since a safe prime p > 7 always has p mod 3 = 2, p mod 4 = 3,
and never p mod 5 = 1 or p mod 7 = 1).  Every expected verdict is computed
here, independently of mtprobe and of OpenSSL: primality with 64-round
Miller-Rabin in Python, the residue rules of core.telegram.org/mtproto/auth_key
step 6 cross-checked with Euler's criterion (g is a quadratic residue mod p
iff g^((p-1)/2) = 1), and the g_a ranges of /mtproto/security_guidelines.
"""
import functools
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from samples_auth_key_data import NEW, OLD  # noqa: E402

TELEGRAM = int(OLD["dh_prime"], 16)
MARGIN = 1 << (2048 - 64)
ORDER = ["dh_prime_bad_size", "dh_prime_not_prime", "dh_prime_not_safe", "dh_g_out_of_range", "dh_g_bad_residue",
         "dh_ga_out_of_range", "dh_ga_unsafe"]

# name -> (bits, safe, add, rem, purpose)
WANTED = {
    "A": (2048, 1, 280, 79, "safe; p mod 8 = 7, mod 5 = 4, mod 7 = 2: g = 2, 4, 5, 6 pass, 7 fails"),
    "B": (2048, 1, 280, 227, "safe; p mod 8 = 3, mod 5 = 2, mod 7 = 3: g = 3, 4, 7 pass, 2, 5, 6 fail"),
    "C": (2047, 1, None, None, "safe prime of 2047 bits"),
    "D": (2049, 1, None, None, "safe prime of 2049 bits"),
    "E": (2048, 0, None, None, "prime whose (p-1)/2 is composite"),
}


@functools.lru_cache(maxsize=None)
def is_prime(n, rounds=64):
    if n < 2:
        return False
    for sp in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % sp == 0:
            return n == sp
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    rng = random.Random(n)  # deterministic witnesses, so the script's output is reproducible
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def residue_ok(p, g):
    rule = {2: p % 8 == 7, 3: p % 3 == 2, 4: True, 5: p % 5 in (1, 4), 6: p % 24 in (19, 23), 7: p % 7 in (3, 5, 6)}[g]
    euler = pow(g, (p - 1) // 2, p) == 1
    assert rule == euler, "the spec's residue rule and Euler's criterion disagree for g=%d" % g
    return rule


def verdict(p, g, ga):
    """The first failing check in the order of docs/shim.md, or None."""
    if not (1 << 2047) < p < (1 << 2048):
        return "dh_prime_bad_size"
    if not is_prime(p):
        return "dh_prime_not_prime"
    if not is_prime((p - 1) // 2):
        return "dh_prime_not_safe"
    if not 2 <= g <= 7:
        return "dh_g_out_of_range"
    if not residue_ok(p, g):
        return "dh_g_bad_residue"
    if not 1 < ga < p - 1:
        return "dh_ga_out_of_range"
    if not MARGIN <= ga <= p - MARGIN:
        return "dh_ga_unsafe"
    return None


def rsa_test_modulus():
    import rsa
    key = rsa.PrivateKey.load_pkcs1((ROOT / "rsa" / "test_key_private_pkcs1.pem").read_bytes())
    assert key.n.bit_length() == 2048 and key.n == key.p * key.q
    return key.n


def new_primes():
    exe = Path(tempfile.mkdtemp()) / "dh_safe_prime"
    subprocess.run(["cc", "-O2", "-o", str(exe), str(HERE / "dh_safe_prime.c"), "-lcrypto"], check=True)
    out = {}
    for name, (bits, safe, add, rem, purpose) in WANTED.items():
        args = [str(exe), str(bits), str(safe)] + ([str(add), str(rem)] if add else [])
        out[name] = {"purpose": purpose, "hex": subprocess.run(args, check=True, capture_output=True,
                                                                text=True).stdout.strip().lower()}
        print("made", name, file=sys.stderr)
    (HERE / "dh_primes.json").write_text(json.dumps(out, indent=2) + "\n")


def hexn(v, length=None):
    if length is None:
        length = max(1, (v.bit_length() + 7) // 8)
    return v.to_bytes(length, "big").hex()


def main():
    if "--new-primes" in sys.argv:
        new_primes()
    primes = {k: int(v["hex"], 16) for k, v in json.loads((HERE / "dh_primes.json").read_text()).items()}
    A, B, C, D, E = (primes[k] for k in "ABCDE")
    assert is_prime(A) and is_prime((A - 1) // 2) and A.bit_length() == 2048
    assert is_prime(B) and is_prime((B - 1) // 2) and B.bit_length() == 2048
    assert is_prime(C) and is_prime((C - 1) // 2) and C.bit_length() == 2047
    assert is_prime(D) and is_prime((D - 1) // 2) and D.bit_length() == 2049
    assert is_prime(E) and not is_prime((E - 1) // 2) and E.bit_length() == 2048
    ga_ok = int(NEW["g_a"], 16)  # a published g_a, inside the safe range of every 2048-bit prime here
    tc = [0]
    groups = []

    def test(comment, p, g, ga, flags, p_len=None, ga_len=None, p_hex=None, ga_hex=None):
        tc[0] += 1
        reason = verdict(p, g, ga)
        t = {"tcId": tc[0], "comment": comment, "flags": flags, "result": "invalid" if reason else "valid",
             "args": {"dh_prime": p_hex if p_hex is not None else hexn(p, p_len), "g": g,
                      "g_a": ga_hex if ga_hex is not None else hexn(ga, ga_len)},
             "expect": {"valid": False, "reason": reason} if reason else {"valid": True}}
        return margin(t, reason, ga, p, "dh_ga_unsafe", "GaMargin")

    def margin(t, reason, v, p, unsafe, flag):
        """The 2^1984 margin is only recommended: an implementation without it answers valid.  At exactly a
        bound the page does not say which side is inside, so either answer is allowed."""
        if reason == unsafe:
            t["flags"] = t["flags"] + [flag]
            t["lax"] = {"valid": True}
        elif reason is None and v in (MARGIN, p - MARGIN):
            t["flags"] = t["flags"] + ["MarginBound"]
            t["result"] = "acceptable"
            t["lax"] = {"valid": False, "reason": unsafe}
        return t

    t = [test("Telegram's dh_prime with g = 3 and the published g_a (req_pq_multi example)", TELEGRAM, 3, ga_ok,
              ["Telegram"])]
    for g in (2, 4, 5, 6, 7):
        t.append(test("Telegram's dh_prime with g = %d (p mod 8 = 3, mod 5 = 3, mod 24 = 11, mod 7 = 6)" % g,
                      TELEGRAM, g, ga_ok, ["Telegram", "Residue"]))
    for name, p in (("A", A), ("B", B)):
        for g in range(2, 8):
            t.append(test("generated safe prime %s (p mod 8 = %d, mod 5 = %d, mod 7 = %d) with g = %d" %
                          (name, p % 8, p % 5, p % 7, g), p, g, ga_ok, ["Generated", "Residue"]))
    groups.append({"op": "dh_check", "comment": "safe primes and every generator: the residue conditions of "
                   "auth_key step 6 (g = 3 can never fail for a safe prime > 7: it always has p mod 3 = 2; g = 4 has "
                   "no condition)", "tests": t})
    t = [
        test("Telegram's dh_prime + 4 (divisible by 3)", TELEGRAM + 4, 4, ga_ok, ["Composite"]),
        test("the product of two 1024-bit primes (the modulus of vectors/rsa/test_key_private_pkcs1.pem)",
             rsa_test_modulus(), 4, ga_ok, ["Composite"]),
        test("a 2048-bit prime whose (p-1)/2 is composite", E, 4, ga_ok, ["NotSafe"]),
        test("2047-bit safe prime", C, 4, ga_ok, ["Size"]),
        test("2049-bit safe prime", D, 4, ga_ok, ["Size"]),
        test("2^2047 exactly (not strictly above it)", 1 << 2047, 4, ga_ok, ["Size"]),
        test("2^2048 - 1", (1 << 2048) - 1, 4, ga_ok, ["Size", "Composite"]),
        test("255 bytes: Telegram's dh_prime without its first byte", TELEGRAM % (1 << 2040), 4, ga_ok, ["Size"]),
        test("Telegram's dh_prime sent with a leading zero byte (257 bytes, still 2048 bits)", TELEGRAM, 3, ga_ok,
             ["Telegram", "LeadingZero"], p_len=257),
        test("an empty dh_prime", 0, 3, ga_ok, ["Size"], p_hex=""),
    ]
    groups.append({"op": "dh_check", "comment": "dh_prime itself: size, primality, safety (g = 4 so that only the "
                   "prime can fail)", "tests": t})
    t = [test("g = %d" % g, TELEGRAM, g, ga_ok, ["GRange"]) for g in (0, 1, 8, -1, -3, 255, 2147483647, -2147483648)]
    groups.append({"op": "dh_check", "comment": "g outside 2..7", "tests": t})
    P = TELEGRAM
    cases = [
        ("g_a = 0", 0), ("g_a = 1", 1), ("g_a = 2", 2), ("g_a = 3", 3), ("g_a = p - 2", P - 2), ("g_a = p - 1", P - 1),
        ("g_a = p", P), ("g_a = p + 1", P + 1), ("g_a = 2^2048 - 1", (1 << 2048) - 1),
        ("g_a = 2^1984 - 1 (just below the safe range)", MARGIN - 1), ("g_a = 2^1984 (first safe value)", MARGIN),
        ("g_a = 2^1984 + 1", MARGIN + 1), ("g_a = p - 2^1984 - 1", P - MARGIN - 1),
        ("g_a = p - 2^1984 (last safe value)", P - MARGIN), ("g_a = p - 2^1984 + 1 (just above the safe range)",
                                                             P - MARGIN + 1),
    ]
    t = [test(c, P, 3, v, ["GaRange"], ga_len=256 if v < (1 << 2048) else 257) for c, v in cases]
    t.append(test("g_a = 2^2048 (257 bytes)", P, 3, 1 << 2048, ["GaRange"]))
    t.append(test("the published g_a with two leading zero bytes", P, 3, ga_ok, ["LeadingZero"], ga_len=258))
    t.append(test("g_a = 2 sent as one byte", P, 3, 2, ["GaRange"], ga_len=1))
    t.append(test("an empty g_a (zero)", P, 3, 0, ["GaRange"], ga_hex=""))
    t.append(test("generated prime A: g_a = A - 2^1984", A, 2, A - MARGIN, ["GaRange", "Generated"]))
    t.append(test("generated prime A: g_a = A - 2^1984 + 1", A, 2, A - MARGIN + 1, ["GaRange", "Generated"]))
    groups.append({"op": "dh_check", "comment": "g_a: 1 < g_a < p - 1 (dh_ga_out_of_range), then "
                   "2^1984 <= g_a <= p - 2^1984 (dh_ga_unsafe), with Telegram's dh_prime and g = 3", "tests": t})
    # The server's check of g_b uses the same bounds with its own codes.
    tb = []
    for c, v in cases:
        tc[0] += 1
        r = verdict(P, 3, v)
        r = {"dh_ga_out_of_range": "dh_gb_out_of_range", "dh_ga_unsafe": "dh_gb_unsafe"}.get(r, r)
        tb.append(margin({"tcId": tc[0], "comment": c.replace("g_a", "g_b"), "flags": ["GbRange"],
                          "result": "invalid" if r else "valid",
                          "args": {"dh_prime": hexn(P), "g_b": hexn(v, 256 if v < (1 << 2048) else 257)},
                          "expect": {"valid": False, "reason": r} if r else {"valid": True}},
                         r, v, P, "dh_gb_unsafe", "GbMargin"))
    groups.append({"op": "dh_check_gb", "comment": "the server's range checks of the client's g_b", "tests": tb})
    # Zero as a one-byte string, beside the empty strings above.
    t = [test("dh_prime = 0 sent as one zero byte", 0, 3, ga_ok, ["Size"], p_hex="00"),
         test("g_a = 0 sent as one zero byte", P, 3, 0, ["GaRange"], ga_hex="00")]
    groups.append({"op": "dh_check", "comment": "zero sent as one byte", "tests": t})
    doc = {
        "format": "mtprobe-vectors/1",
        "title": "DH parameter checks: dh_prime, g and g_a / g_b",
        "source": "Telegram's dh_prime from core.telegram.org/mtproto/samples-auth_key; other primes generated with "
                  "OpenSSL BN_generate_prime_ex2 (vectors/gen/dh_safe_prime.c) and recorded in "
                  "vectors/gen/dh_primes.json; rules from core.telegram.org/mtproto/auth_key step 6 and "
                  "/mtproto/security_guidelines",
        "generator": "Python %s (Miller-Rabin, Euler's criterion, the spec's bounds): vectors/gen/dh_checks.py" %
                     sys.version.split()[0],
        "spec": ["https://core.telegram.org/mtproto/auth_key#presenting-proof-of-work-server-authentication",
                 "https://core.telegram.org/mtproto/security_guidelines#validation-of-dh-parameters"],
        "requirements": ["C-DH-1", "C-DH-2", "C-DH-4", "C-DH-5"],
        "notes": {
            "Telegram": "Telegram's published dh_prime",
            "Generated": "a safe prime generated for these vectors",
            "Residue": "checks the generator's residue condition",
            "Composite": "dh_prime is composite", "NotSafe": "dh_prime is prime but (dh_prime-1)/2 is not",
            "Size": "dh_prime is not strictly between 2^2047 and 2^2048",
            "LeadingZero": "a number sent with leading zero bytes, which do not change its value",
            "GRange": "g outside 2..7", "GaRange": "the range checks of g_a", "GbRange": "the range checks of g_b",
            "GaMargin": {"description": "g_a within 2^1984 of 0 or of dh_prime but inside 1 < g_a < dh_prime - 1: "
                                        "only the recommended margin rejects it (\"We recommend checking that g_a "
                                        "and g_b are between 2^{2048-64} and dh_prime - 2^{2048-64} as well\")",
                         "level": "RECOMMENDED", "requirement": "C-DH-5"},
            "GbMargin": {"description": "the same margin for g_b, on the server's side", "level": "RECOMMENDED",
                         "requirement": "S-HS-9"},
            "MarginBound": {"description": "g_a or g_b exactly 2^1984 or dh_prime - 2^1984: the page does not say "
                                           "whether the bounds are inside the recommended range", "level": "MAY",
                            "requirement": "C-DH-5"},
            "order": "a failing vector has exactly one reason; where several checks fail, the first in the order " +
                     ", ".join(ORDER) + " is expected",
        },
        "testGroups": groups,
    }
    (ROOT / "dh" / "dh_checks.json").write_text(json.dumps(doc, indent=2) + "\n")
    print("wrote dh/dh_checks.json with", tc[0], "tests", file=sys.stderr)


if __name__ == "__main__":
    main()
