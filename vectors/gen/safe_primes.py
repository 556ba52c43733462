#!/usr/bin/python3
"""DH primes for the mock DC's scenarios -> vectors/dh/safe_primes.json.

The client checks of dh_prime and g (core.telegram.org/mtproto/security_guidelines,
"Validation of DH parameters"; catalogue C-DH-1, C-DH-2) need, besides
Telegram's prime, other safe primes a client must accept with each legal g,
the same with each illegal g, and numbers that must be refused: 2047 and 2049
bits, composite, prime but not safe, and a composite that fools a weak
primality test.  A scenario uses one as "auth": {"dh_prime": hex, "g": n} (the
server computes with it) or "send_dh_prime" (sent only).

Where the numbers come from:
  - telegram: the published prime (core.telegram.org/mtproto/samples-auth_key);
  - A..E: vectors/gen/dh_primes.json (made for dh_checks.json with
    dh_safe_prime.c, OpenSSL BN_generate_prime_ex2);
  - F, G: `dh_safe_prime 2048 1 280 199` and `dh_safe_prime 2048 1 280 67`
    (safe primes with p mod 280 = 199 and 67: every g legal, and every g but
    3 and 4 illegal); made once, kept in the output (--new-primes makes them anew);
  - composite: the product of two 1024-bit primes drawn from a seeded RNG;
  - pseudoprime: n = p(2p - 1) with p and 2p - 1 prime, drawn from a seeded
    RNG until n is a strong pseudoprime to base 2: a Fermat test or a
    Miller-Rabin test with the single base 2 takes it for a prime (random
    bases do not).
A safe prime p > 7 always has p mod 3 = 2 and p mod 4 = 3, so g = 3 is always
legal and p mod 24 = 19 never occurs: there is no safe prime on which g = 3 is
illegal, and g = 6 is legal exactly when g = 2 is.

How every number is checked: primality of p and (p - 1) / 2 twice, with this
script's 64-round Miller-Rabin and with OpenSSL's BN_check_prime (`openssl
prime`); the residue rules of auth_key step 6 cross-checked with Euler's
criterion; the verdicts go into the file, and tests/unit/mtp_dh_test.c holds
mtp_dh_check_params to them.
"""
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "dh" / "safe_primes.json"
sys.path.insert(0, str(HERE))
from dh_checks import TELEGRAM, is_prime, residue_ok  # noqa: E402

SMALL = [q for q in range(3, 20000, 2) if all(q % d for d in range(3, int(q ** 0.5) + 1, 2))]
NEW = {
    "F": (199, "safe; p mod 8 = 7, mod 5 = 4, mod 7 = 3: every g 2..7 is legal"),
    "G": (67, "safe; p mod 8 = 3, mod 5 = 2, mod 7 = 4: g = 3, 4 legal; 2, 5, 6, 7 illegal"),
}


def openssl_prime(n):
    out = subprocess.run(["openssl", "prime", "-hex", "%x" % n], check=True, capture_output=True, text=True).stdout
    return out.strip().endswith("is prime")


def random_prime(rng, bits):
    while True:
        n = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        if all(n % q for q in SMALL) and is_prime(n):
            return n


def pseudoprime(rng):
    """n = p(2p - 1) with 2^2047 < n < 2^2048 (so p just above 2^1023), p and
    q = 2p - 1 prime, q = 1 mod 8 (2 is a square mod q, so 2^(n-1) = 1 mod n),
    and the powers of 2 in the orders of 2 mod p and mod q equal, which makes n
    a strong pseudoprime to base 2: Miller-Rabin with the single base 2 takes
    it for a prime."""
    while True:
        p = (1 << 1023) | rng.getrandbits(1021) | 1
        q = 2 * p - 1
        n = p * q
        if not (1 << 2047) < n < (1 << 2048) or q % 8 != 1:
            continue
        if any(p % s == 0 or q % s == 0 for s in SMALL):
            continue
        if is_prime(p) and is_prime(q) and strong_base2(n):
            return n, p


def strong_base2(n):
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    x = pow(2, d, n)
    if x in (1, n - 1):
        return True
    for _ in range(s - 1):
        x = x * x % n
        if x == n - 1:
            return True
    return False


def new_primes():
    exe = Path(tempfile.mkdtemp()) / "dh_safe_prime"
    subprocess.run(["cc", "-O2", "-o", str(exe), str(HERE / "dh_safe_prime.c"), "-lcrypto"], check=True)
    made = {}
    for name, (rem, _) in NEW.items():
        made[name] = subprocess.run([str(exe), "2048", "1", "280", str(rem)], check=True, capture_output=True,
                                    text=True).stdout.strip().lower()
    shutil.rmtree(exe.parent)
    return made


def entry(name, n, purpose, made):
    prime = is_prime(n)
    assert prime == openssl_prime(n), "%s: Python and OpenSSL disagree on primality" % name
    half = prime and is_prime((n - 1) // 2)
    if prime:
        assert half == openssl_prime((n - 1) // 2), "%s: Python and OpenSSL disagree on (p-1)/2" % name
    bits = n.bit_length()
    e = {"name": name, "purpose": purpose, "made": made, "bits": bits, "prime": prime, "half_prime": half,
         "residues": {"mod_8": n % 8, "mod_3": n % 3, "mod_5": n % 5, "mod_7": n % 7, "mod_24": n % 24}}
    if prime and half:
        e["g_legal"] = [g for g in range(2, 8) if residue_ok(n, g)]
        e["g_illegal"] = [g for g in range(2, 8) if not residue_ok(n, g)]
    e["check"] = ("ok" if bits == 2048 and prime and half else
                  "dh_prime_bad_size" if bits != 2048 else
                  "dh_prime_not_prime" if not prime else "dh_prime_not_safe")
    e["hex"] = "%0*x" % (2 * ((bits + 7) // 8), n)
    return e


def main():
    old = json.loads(OUT.read_text()) if OUT.exists() else {"numbers": []}
    kept = {e["name"]: e["hex"] for e in old["numbers"]}
    made_new = new_primes() if "--new-primes" in sys.argv or any(k not in kept for k in NEW) else {}
    src = json.loads((HERE / "dh_primes.json").read_text())
    numbers = [entry("telegram", TELEGRAM, "Telegram's published prime (g = 3 in the current example)",
                     "core.telegram.org/mtproto/samples-auth_key")]
    for k in "ABCDE":
        numbers.append(entry(k, int(src[k]["hex"], 16), src[k]["purpose"],
                             "vectors/gen/dh_primes.json (OpenSSL BN_generate_prime_ex2)"))
    for k, (rem, purpose) in NEW.items():
        numbers.append(entry(k, int(made_new.get(k) or kept[k], 16), purpose,
                             "vectors/gen/dh_safe_prime.c 2048 1 280 %d (OpenSSL BN_generate_prime_ex2)" % rem))
    rng = random.Random(20260501)
    p, q = random_prime(rng, 1024), random_prime(rng, 1024)
    while not (1 << 2047) < p * q < (1 << 2048):
        p, q = random_prime(rng, 1024), random_prime(rng, 1024)
    numbers.append(entry("composite", p * q, "2048 bits, the product of two 1024-bit primes",
                         "safe_primes.py, random.Random(20260501)"))
    n, p = pseudoprime(random.Random(20260502))
    e = entry("pseudoprime", n, "2048 bits, p(2p-1) with both prime: a strong pseudoprime to base 2",
              "safe_primes.py, random.Random(20260502)")
    assert pow(2, n - 1, n) == 1
    e["fermat_base_2"] = True
    e["strong_base_2"] = strong_base2(n)
    assert e["strong_base_2"]
    e["factor"] = "%x" % p
    numbers.append(e)
    doc = {
        "title": "DH primes for mock DC scenarios: other safe primes, each g legal and illegal, and numbers to refuse",
        "how": __doc__.strip(),
        "fields": {
            "bits": "bit length", "prime": "n is prime (Miller-Rabin, 64 rounds, and OpenSSL BN_check_prime agree)",
            "half_prime": "(n-1)/2 is prime (same two tests)", "residues": "n modulo 8, 3, 5, 7 and 24",
            "g_legal": "safe primes: the g in 2..7 whose residue rule holds (auth_key step 6; Euler's criterion agrees)",
            "g_illegal": "safe primes: the others",
            "check": "the first check of C-DH-1 a client's dh_prime validation fails (docs/shim.md order), or ok",
        },
        "numbers": numbers,
    }
    OUT.write_text(json.dumps(doc, indent=2) + "\n")
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
