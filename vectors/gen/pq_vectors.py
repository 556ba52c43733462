#!/usr/bin/python3
"""pq factorisation vectors -> vectors/pq/pq.json.

Valid cases are factored by Telethon 1.25.1 (telethon.crypto.factorization,
Pollard-Brent) and checked here (p * q = pq, both prime by Miller-Rabin with the
twelve bases that are exact below 3.3e24); rejections are classified by that
primality test and trial division.  The pq values of the worked example come
from core.telegram.org/mtproto/samples-auth_key (several published versions).
"""
import json
import sys
from pathlib import Path

import telethon
from telethon.crypto.factorization import Factorization

ROOT = Path(__file__).resolve().parent.parent
BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)


def is_prime(n):
    if n < 2:
        return False
    for b in BASES:
        if n % b == 0:
            return n == b
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in BASES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def be(v):
    return v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big").hex()


def main():
    tests = []

    def add(comment, pq_hex, flags, expect):
        tests.append({"tcId": len(tests) + 1, "comment": comment, "flags": flags,
                      "result": "invalid" if "error" in expect else "valid",
                      "args": {"pq": pq_hex}, "expect": expect})

    def factors(pq, comment):
        p, q = sorted(Factorization.factorize(pq))
        assert p * q == pq and p < q and is_prime(p) and is_prime(q), comment
        return {"p": be(p), "q": be(q)}

    def valid(comment, pq, flags, pq_hex=None):
        # The page: "Normally, pq is less than or equal to 2^63-1"; a client may refuse a larger one.
        add(comment, pq_hex or be(pq), flags + (["Over63Bits"] if pq > 2**63 - 1 else []), factors(pq, comment))

    valid("samples-auth_key, older example: 17ED48941A08F981 = 494C553B * 53911073", 0x17ED48941A08F981,
          ["Published"])
    valid("samples-auth_key, req_pq_multi example (crawl 579fe13c): 1372318559046200203", 1372318559046200203,
          ["Published"])
    valid("samples-auth_key, a later version of the page: 2694724800268887959", 2694724800268887959, ["Published"])
    valid("samples-auth_key, a later version of the page: 1468428376148703121", 1468428376148703121, ["Published"])
    valid("samples-auth_key, the version of the page's markdown source: 2E9CDB98C80CDA4B", 0x2E9CDB98C80CDA4B,
          ["Published"])
    valid("64-bit: (2^32 - 17)(2^32 - 5)", (2**32 - 17) * (2**32 - 5), ["Large"])
    valid("63-bit: (2^31 - 1)(2^32 - 5)", (2**31 - 1) * (2**32 - 5), ["Large"])
    valid("64-bit, unbalanced: 3 * 6148914691236517199", 3 * 6148914691236517199, ["Large", "Unbalanced"])
    valid("63-bit, unbalanced: 1000003 * 9223344366799", 1000003 * 9223344366799, ["Large", "Unbalanced"])
    valid("the smallest valid pq: 15 = 3 * 5", 15, ["Small"])
    valid("pq with two leading zero bytes", 0x17ED48941A08F981, ["LeadingZero"], pq_hex="0000" + be(0x17ED48941A08F981))

    def invalid(comment, pq_hex, code, flags):
        add(comment, pq_hex, flags, {"error": code})

    invalid("9 significant bytes: 2^64", "010000000000000000", "pq_too_large", ["TooLarge"])
    semi = (2**33 - 9) * (2**32 - 5)
    add("9 significant bytes: a 65-bit semiprime, which may be refused or factored", be(semi),
        ["TooLarge", "Over63Bits"], {"error": "pq_too_large"})
    tests[-1].update(result="acceptable", lax=factors(semi, "65-bit semiprime"))
    invalid("16 bytes of 0xff", "ff" * 16, "pq_too_large", ["TooLarge"])
    invalid("an empty pq (zero)", "", "pq_too_small", ["TooSmall"])
    for v in (0, 1, 9, 14):
        invalid("pq = %d" % v, be(v), "pq_too_small", ["TooSmall"])
    for v, c in ((16, "16"), (2 * (2**32 - 5), "2 * (2^32 - 5)"), (2**64 - 2, "2^64 - 2")):
        assert v % 2 == 0
        invalid("even pq: " + c, be(v), "pq_even_factor", ["Even"])
    for v, c in ((17, "17"), (2**61 - 1, "2^61 - 1"), (2**64 - 59, "2^64 - 59")):
        assert is_prime(v)
        invalid("prime pq: " + c, be(v), "pq_prime", ["Prime"])
    for v, c in ((25, "5^2"), (49, "7^2"), ((2**32 - 5) ** 2, "(2^32 - 5)^2"), (3037000493 ** 2, "3037000493^2")):
        r = int(v ** 0.5)
        while r * r < v:
            r += 1
        assert r * r == v and is_prime(r)
        invalid("square of a prime: " + c, be(v), "pq_equal_factors", ["Square"])
    for v, c in ((105, "3 * 5 * 7"), (27, "3^3"), (81, "9^2 (9 composite)"), (561, "Carmichael number 561"),
                 (1000003 * 1000033 * 1000037, "1000003 * 1000033 * 1000037"),
                 (3825123056546413051, "strong pseudoprime to bases 2..23"), (3**40, "3^40"),
                 (2**64 - 1, "2^64 - 1 = 3 * 5 * 17 * 257 * 641 * 65537 * 6700417"),
                 (3 * 5 * (2**32 - 5), "3 * 5 * (2^32 - 5)")):
        assert v % 2 == 1 and not is_prime(v)
        invalid("more than two prime factors: " + c, be(v), "pq_not_two_primes", ["NotTwoPrimes"])
    doc = {
        "format": "mtprobe-vectors/1",
        "title": "pq factorisation (proof of work) and its rejections",
        "source": "pq values of core.telegram.org/mtproto/samples-auth_key (older example; the req_pq_multi examples "
                  "of the crawls in MarshalX/telegram-crawler, commits 579fe13c, 130dde83 and 00171f4e; the page's "
                  "markdown source); the other numbers were chosen for the edge they test",
        "generator": "Telethon %s telethon.crypto.factorization (valid cases) and Python Miller-Rabin / trial "
                     "division (rejections): vectors/gen/pq_vectors.py" % telethon.__version__,
        "spec": ["https://core.telegram.org/mtproto/auth_key#dh-exchange-initiation"],
        "requirements": ["C-HS-10"],
        "notes": {
            "Published": "pq from a version of the worked example",
            "Large": "a 63- or 64-bit pq", "Unbalanced": "one factor much smaller than the other",
            "Small": "the smallest pq there is", "LeadingZero": "leading zero bytes, which do not change the value",
            "TooLarge": "more than 64 bits", "TooSmall": "below 15", "Even": "has the factor 2",
            "Over63Bits": {"description": "a product of two primes above 2^63 - 1: \"Normally, pq is less than or "
                                          "equal to 2^63-1\" describes pq without a requirement, so a client may "
                                          "factor it or refuse it", "level": "MAY", "requirement": "C-HS-10"},
            "Prime": "pq is prime", "Square": "p = q", "NotTwoPrimes": "not a product of exactly two primes",
            "order": "the checks run in the order pq_too_large, pq_too_small, pq_even_factor, pq_prime, "
                     "pq_equal_factors, pq_not_two_primes; each vector fails exactly one of them",
        },
        "testGroups": [{"op": "pq_factor", "comment": "p < q, big-endian without leading zeros", "tests": tests}],
    }
    (ROOT / "pq" / "pq.json").write_text(json.dumps(doc, indent=2) + "\n")
    print("wrote pq/pq.json with %d tests" % len(tests), file=sys.stderr)


if __name__ == "__main__":
    main()
