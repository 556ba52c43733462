#!/usr/bin/env python3
"""A third party's shim: an MTProto implementation of its own, written from the
first version of docs/shim.md (git show 5a8afed:docs/shim.md) and the spec
pages, with the Python 3 standard library only (AES included), naming its
errors its own way.  It stands for what a new user writes, so that the KAT
judge is tested the way such a user meets it (ctest kat/thirdparty,
tests/kat/thirdparty_test.py).

It knows the version 1 ops and arguments and nothing later: it says protocol 1
in its hello, takes 16- and 17-byte MTProxy secrets, decodes client streams,
answers no quick_ack / acks / next_wire, and answers "unsupported" to every
other op.  Where the spec leaves room it takes its own way: it computes the
obfuscation keys whatever transport a 17-byte secret asks for, and its list
of forbidden init prefixes is the page's prose (no TLS ClientHello).

Its error names are its own; tests/kat/thirdparty_errors.json maps them.
"""
import hashlib
import json
import struct
import sys
import zlib

# ---------------------------------------------------------------- AES (FIPS-197)


def _xtime(a):
    a <<= 1
    return (a ^ 0x11B) & 0xFF if a & 0x100 else a


def _gmul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a = _xtime(a)
        b >>= 1
    return r


def _sbox():
    inv = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            if _gmul(a, b) == 1:
                inv[a] = b
                break
    box = []
    for a in range(256):
        x = inv[a]
        s = x
        for _ in range(4):
            x = ((x << 1) | (x >> 7)) & 0xFF
            s ^= x
        box.append(s ^ 0x63)
    return box


SBOX = _sbox()
INV_SBOX = [0] * 256
for _i, _v in enumerate(SBOX):
    INV_SBOX[_v] = _i
MUL = {m: [_gmul(x, m) for x in range(256)] for m in (2, 3, 9, 11, 13, 14)}


class AES:
    def __init__(self, key):
        if len(key) not in (16, 32):
            raise Failure("bad-length", "AES key of %d bytes" % len(key))
        nk = len(key) // 4
        self.rounds = nk + 6
        w = [list(key[4 * i:4 * i + 4]) for i in range(nk)]
        rcon = 1
        for i in range(nk, 4 * (self.rounds + 1)):
            t = list(w[i - 1])
            if i % nk == 0:
                t = [SBOX[b] for b in t[1:] + t[:1]]
                t[0] ^= rcon
                rcon = _xtime(rcon)
            elif nk > 6 and i % nk == 4:
                t = [SBOX[b] for b in t]
            w.append([a ^ b for a, b in zip(w[i - nk], t)])
        self.keys = [sum(w[4 * r:4 * r + 4], []) for r in range(self.rounds + 1)]

    @staticmethod
    def _add(s, k):
        return [a ^ b for a, b in zip(s, k)]

    def encrypt(self, block):
        s = self._add(list(block), self.keys[0])
        for r in range(1, self.rounds + 1):
            s = [SBOX[b] for b in s]
            s = [s[(i + 4 * (i % 4)) % 16] for i in range(16)]  # ShiftRows on a column-major state
            if r != self.rounds:
                m2, m3 = MUL[2], MUL[3]
                out = []
                for c in range(4):
                    a0, a1, a2, a3 = s[4 * c:4 * c + 4]
                    out += [m2[a0] ^ m3[a1] ^ a2 ^ a3, a0 ^ m2[a1] ^ m3[a2] ^ a3,
                            a0 ^ a1 ^ m2[a2] ^ m3[a3], m3[a0] ^ a1 ^ a2 ^ m2[a3]]
                s = out
            s = self._add(s, self.keys[r])
        return bytes(s)

    def decrypt(self, block):
        s = self._add(list(block), self.keys[self.rounds])
        for r in range(self.rounds - 1, -1, -1):
            s = [s[(i - 4 * (i % 4)) % 16] for i in range(16)]
            s = [INV_SBOX[b] for b in s]
            s = self._add(s, self.keys[r])
            if r:
                m9, m11, m13, m14 = MUL[9], MUL[11], MUL[13], MUL[14]
                out = []
                for c in range(4):
                    a0, a1, a2, a3 = s[4 * c:4 * c + 4]
                    out += [m14[a0] ^ m11[a1] ^ m13[a2] ^ m9[a3], m9[a0] ^ m14[a1] ^ m11[a2] ^ m13[a3],
                            m13[a0] ^ m9[a1] ^ m14[a2] ^ m11[a3], m11[a0] ^ m13[a1] ^ m9[a2] ^ m14[a3]]
                s = out
        return bytes(s)


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def ige(key, iv, data, encrypt):
    if len(iv) != 32:
        raise Failure("bad-length", "IGE IV of %d bytes" % len(iv))
    if len(data) % 16:
        raise Failure("bad-length", "IGE data of %d bytes" % len(data))
    aes = AES(key)
    prev_c, prev_p = (iv[:16], iv[16:]) if encrypt else (iv[16:], iv[:16])
    out = bytearray()
    for i in range(0, len(data), 16):
        blk = data[i:i + 16]
        if encrypt:
            c = xor(aes.encrypt(xor(blk, prev_c)), prev_p)
            prev_c, prev_p = c, blk
            out += c
        else:
            p = xor(aes.decrypt(xor(blk, prev_c)), prev_p)
            prev_c, prev_p = p, blk
            out += p
    return bytes(out)


class CTR:
    def __init__(self, key, iv):
        self.aes, self.counter, self.stream = AES(key), int.from_bytes(iv, "big"), b""

    def apply(self, data):
        while len(self.stream) < len(data):
            self.stream += self.aes.encrypt(self.counter.to_bytes(16, "big"))
            self.counter = (self.counter + 1) % (1 << 128)
        out, self.stream = xor(data, self.stream), self.stream[len(data):]
        return out


# ---------------------------------------------------------------- helpers


class Failure(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def sha1(b):
    return hashlib.sha1(b).digest()


def sha256(b):
    return hashlib.sha256(b).digest()


def arg_bytes(req, name, length=None):
    v = req.get(name)
    if not isinstance(v, str):
        raise Failure("bad-input", "%s is missing" % name)
    try:
        b = bytes.fromhex(v)
    except ValueError:
        raise Failure("not-hex", "%s is not hex" % name)
    if length is not None and len(b) != length:
        raise Failure("bad-length", "%s must be %d bytes, not %d" % (name, length, len(b)))
    return b


def arg_x(req):
    s = req.get("sender")
    if s not in ("client", "server"):
        raise Failure("bad-input", "sender must be client or server")
    return 0 if s == "client" else 8


def num(b):
    return int.from_bytes(b, "big")


def be(n):
    return n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")


def is_probable_prime(n):
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53)
    for p in small:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in small:
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


# ---------------------------------------------------------------- MTProto 2.0 messages


def key_id(auth_key):
    return sha1(auth_key)[12:20]


def kdf(auth_key, x, msg_key):
    a = sha256(msg_key + auth_key[x:x + 36])
    b = sha256(auth_key[40 + x:76 + x] + msg_key)
    return a[:8] + b[8:24] + a[24:32], b[:8] + a[8:24] + b[24:32]


def msg_key_of(auth_key, x, plaintext):
    return sha256(auth_key[88 + x:120 + x] + plaintext)[8:24]


def op_msg_key(req):
    ak, x = arg_bytes(req, "auth_key", 256), arg_x(req)
    return {"msg_key": msg_key_of(ak, x, arg_bytes(req, "plaintext")).hex()}


def op_msg_kdf(req):
    ak, x = arg_bytes(req, "auth_key", 256), arg_x(req)
    k, iv = kdf(ak, x, arg_bytes(req, "msg_key", 16))
    return {"aes_key": k.hex(), "aes_iv": iv.hex()}


def op_msg_encrypt(req):
    ak, x, pt = arg_bytes(req, "auth_key", 256), arg_x(req), arg_bytes(req, "plaintext")
    if not pt or len(pt) % 16:
        raise Failure("bad-length", "plaintext must be padded to a multiple of 16")
    mk = msg_key_of(ak, x, pt)
    k, iv = kdf(ak, x, mk)
    return {"packet": (key_id(ak) + mk + ige(k, iv, pt, True)).hex()}


def op_msg_decrypt(req):
    ak, x, pkt = arg_bytes(req, "auth_key", 256), arg_x(req), arg_bytes(req, "packet")
    # In the order docs/shim.md gives.
    if pkt[:8] != key_id(ak):
        raise Failure("auth_key_id", "the packet is for another key")
    if len(pkt) < 24 or (len(pkt) - 24) % 16 or len(pkt) - 24 < 32:
        raise Failure("bad-length", "the encrypted part is not a multiple of 16 of at least 32 bytes")
    mk = pkt[8:24]
    k, iv = kdf(ak, x, mk)
    pt = ige(k, iv, pkt[24:], False)
    if msg_key_of(ak, x, pt) != mk:
        raise Failure("msg_key", "msg_key does not match the plaintext")
    length = struct.unpack_from("<I", pt, 28)[0]
    if length > len(pt) - 32:
        raise Failure("message-length", "message_data_length %d beyond the plaintext" % length)
    if length % 4:
        raise Failure("alignment", "message_data_length %d is not a multiple of 4" % length)
    if not 12 <= len(pt) - 32 - length <= 1024:
        raise Failure("padding", "%d bytes of padding" % (len(pt) - 32 - length))
    return {"plaintext": pt.hex()}


# ---------------------------------------------------------------- the key exchange


def op_pq_factor(req):
    pq = num(arg_bytes(req, "pq"))
    if pq >= 1 << 64:
        raise Failure("too-big", "pq has more than 64 bits")
    if pq < 15:  # the smallest product of two different odd primes
        raise Failure("too-small", "pq below 15")
    if pq % 2 == 0:
        raise Failure("even", "pq is even")
    if is_probable_prime(pq):
        raise Failure("prime", "pq is prime")
    r = int(pq ** 0.5)
    while r * r > pq:
        r -= 1
    while (r + 1) * (r + 1) <= pq:
        r += 1
    if r * r == pq and is_probable_prime(r):
        raise Failure("square", "pq is the square of a prime")
    p = rho(pq)
    q = pq // p
    p, q = min(p, q), max(p, q)
    if not (is_probable_prime(p) and is_probable_prime(q)):
        raise Failure("not-semiprime", "pq is not a product of two primes")
    return {"p": be(p).hex(), "q": be(q).hex()}


def rho(n):
    for c in range(1, 200):
        x = y = 2
        d = 1
        while d == 1:
            x = (x * x + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            d = _gcd(abs(x - y), n)
        if d != n:
            return d
    raise Failure("factor", "no factor found")


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def tl_bytes(b):
    if len(b) < 254:
        out = bytes([len(b)]) + b
    else:
        out = b"\xfe" + len(b).to_bytes(3, "little") + b
    return out + b"\0" * (-len(out) % 4)


def op_rsa_fingerprint(req):
    n, e = be(num(arg_bytes(req, "n"))), be(num(arg_bytes(req, "e")))
    return {"fingerprint": sha1(tl_bytes(n) + tl_bytes(e))[12:20].hex()}


def op_rsa_pad_encrypt(req):
    n, e = num(arg_bytes(req, "n")), num(arg_bytes(req, "e"))
    data, temp_key = arg_bytes(req, "data"), arg_bytes(req, "temp_key", 32)
    if len(data) > 144:
        raise Failure("too-long", "RSA_PAD takes at most 144 bytes")
    padding = arg_bytes(req, "random_padding")
    if len(data) + len(padding) != 192:
        raise Failure("bad-length", "data and padding must make 192 bytes")
    with_padding = data + padding
    with_hash = with_padding[::-1] + sha256(temp_key + with_padding)
    aes_encrypted = ige(temp_key, bytes(32), with_hash, True)
    key_aes_encrypted = xor(temp_key, sha256(aes_encrypted)) + aes_encrypted
    if num(key_aes_encrypted) >= n:
        raise Failure("retry", "key_aes_encrypted is not below the modulus: another temp_key is needed")
    return {"encrypted_data": pow(num(key_aes_encrypted), e, n).to_bytes(256, "big").hex()}


def op_tmp_aes(req):
    nn, sn = arg_bytes(req, "new_nonce", 32), arg_bytes(req, "server_nonce", 16)
    a, b = sha1(nn + sn), sha1(sn + nn)
    return {"tmp_aes_key": (a + b[:12]).hex(), "tmp_aes_iv": (b[12:20] + sha1(nn + nn) + nn[:4]).hex()}


def op_new_nonce_hash(req):
    nn, ak = arg_bytes(req, "new_nonce", 32), arg_bytes(req, "auth_key", 256)
    number = req.get("number")
    if number not in (1, 2, 3):
        raise Failure("bad-input", "number must be 1, 2 or 3")
    return {"hash": sha1(nn + bytes([number]) + sha1(ak)[:8])[4:20].hex()}


def op_server_salt(req):
    return {"salt": xor(arg_bytes(req, "new_nonce", 32)[:8], arg_bytes(req, "server_nonce", 16)[:8]).hex()}


def op_auth_key_id(req):
    return {"auth_key_id": key_id(arg_bytes(req, "auth_key", 256)).hex()}


def dh_reason(p, g, g_a):
    if not (1 << 2047) < p < (1 << 2048):
        return "dh_prime is not a 2048-bit number"
    if not is_probable_prime(p):
        return "dh_prime is not prime"
    if not is_probable_prime((p - 1) // 2):
        return "dh_prime is not a safe prime"
    if not 2 <= g <= 7:
        return "g is not between 2 and 7"
    ok = {2: p % 8 == 7, 3: p % 3 == 2, 4: True, 5: p % 5 in (1, 4), 6: p % 24 in (19, 23), 7: p % 7 in (3, 5, 6)}[g]
    if not ok:
        return "g does not generate the subgroup of order (p-1)/2"
    if not 1 < g_a < p - 1:
        return "g_a is not between 1 and dh_prime - 1"
    if not (1 << 1984) <= g_a <= p - (1 << 1984):
        return "g_a is within 2^1984 of 0 or of dh_prime"
    return None


def op_dh_check(req):
    g = req.get("g")
    if not isinstance(g, int):
        raise Failure("bad-input", "g must be an integer")
    reason = dh_reason(num(arg_bytes(req, "dh_prime")), g, num(arg_bytes(req, "g_a")))
    return {"valid": False, "reason": reason} if reason else {"valid": True}


# ---------------------------------------------------------------- transports (client streams)

TAGS = {"abridged": b"\xef", "intermediate": b"\xee" * 4, "padded": b"\xdd" * 4, "full": b""}


def op_transport_encode(req):
    kind, payload = req.get("transport"), arg_bytes(req, "payload")
    if kind not in TAGS:
        raise Failure("bad-input", "unknown transport")
    out = TAGS[kind] if req.get("first") else b""
    if kind == "abridged":
        if len(payload) % 4:
            raise Failure("bad-length", "abridged payloads are whole 4-byte words")
        words = len(payload) // 4
        out += bytes([words]) if words < 127 else b"\x7f" + words.to_bytes(3, "little")
        return {"data": (out + payload).hex()}
    if kind in ("intermediate", "padded"):
        return {"data": (out + struct.pack("<I", len(payload)) + payload).hex()}
    seq = req.get("seq", 0)
    head = struct.pack("<II", len(payload) + 12, seq) + payload
    return {"data": (head + struct.pack("<I", zlib.crc32(head))).hex()}


def op_transport_decode(req):
    kind, data = req.get("transport"), arg_bytes(req, "data")
    if kind not in TAGS:
        raise Failure("bad-input", "unknown transport")
    tag = TAGS[kind]
    if data[:len(tag)] != tag[:len(data)] or (data and len(data) < len(tag)):
        raise Failure("bad-tag", "the stream does not start with the %s tag" % kind)
    pos, payloads, seq = len(tag), [], 0
    while pos < len(data):
        if kind == "abridged":
            words = data[pos] & 0x7F
            pos += 1
            if words == 0x7F:
                if pos + 3 > len(data):
                    raise Failure("bad-length", "the stream ends inside a length")
                words = int.from_bytes(data[pos:pos + 3], "little")
                pos += 3
            n = words * 4
        elif kind in ("intermediate", "padded"):
            if pos + 4 > len(data):
                raise Failure("bad-length", "the stream ends inside a length")
            n = struct.unpack_from("<I", data, pos)[0] & 0x7FFFFFFF
            pos += 4
        else:
            if pos + 8 > len(data):
                raise Failure("bad-length", "the stream ends inside a header")
            total, fseq = struct.unpack_from("<II", data, pos)
            if total < 12:
                raise Failure("bad-length", "a full frame is at least 12 bytes")
            if pos + total > len(data):
                raise Failure("bad-length", "the stream ends inside a frame")
            frame = data[pos:pos + total]
            if struct.unpack_from("<I", frame, total - 4)[0] != zlib.crc32(frame[:-4]):
                raise Failure("crc", "CRC32 mismatch")
            if fseq != seq:
                raise Failure("seqno", "frame %d carries seqno %d" % (seq, fseq))
            seq += 1
            payloads.append(frame[8:-4].hex())
            pos += total
            continue
        if pos + n > len(data):
            raise Failure("bad-length", "the stream ends inside a frame")
        payloads.append(data[pos:pos + n].hex())
        pos += n
    return {"payloads": payloads}


# ---------------------------------------------------------------- obfuscation

FORBIDDEN = (b"HEAD", b"POST", b"GET ", b"OPTI", b"\xdd" * 4, b"\xee" * 4)


def op_obfuscated_init(req):
    init, x = arg_bytes(req, "init", 64), arg_x(req)
    secret = arg_bytes(req, "secret") if req.get("secret") is not None else b""
    if len(secret) not in (0, 16, 17):
        raise Failure("bad-input", "an MTProxy secret is 16 or 17 bytes")
    secret = secret[-16:]
    if init[0] == 0xEF or init[:4] in FORBIDDEN or init[4:8] == b"\0\0\0\0":
        raise Failure("forbidden-init", "the init would be read as another transport")
    rev = init[8:56][::-1]
    enc_key, enc_iv, dec_key, dec_iv = init[8:40], init[40:56], rev[:32], rev[32:]
    if secret:
        enc_key, dec_key = sha256(enc_key + secret), sha256(dec_key + secret)
    wire = init[:56] + CTR(enc_key, enc_iv).apply(init)[56:]
    if x:  # the receiver: it reads the tag back from the wire with its own keys
        enc_key, enc_iv, dec_key, dec_iv = dec_key, dec_iv, enc_key, enc_iv
        plain = CTR(dec_key, dec_iv).apply(wire)
    else:
        plain = init
    tag = plain[56:60]
    if tag not in (b"\xef" * 4, b"\xee" * 4, b"\xdd" * 4):
        raise Failure("unknown-tag", "no protocol tag at offset 56")
    return {"wire": wire.hex(), "enc_key": enc_key.hex(), "enc_iv": enc_iv.hex(), "dec_key": dec_key.hex(),
            "dec_iv": dec_iv.hex(), "tag": tag.hex(), "dc": struct.unpack_from("<h", plain, 60)[0]}


def op_aes(encrypt):
    def run(req):
        return {"out": ige(arg_bytes(req, "key"), arg_bytes(req, "iv"), arg_bytes(req, "data"), encrypt).hex()}
    return run


OPS = {
    "aes_ige_encrypt": op_aes(True), "aes_ige_decrypt": op_aes(False),
    "msg_key": op_msg_key, "msg_kdf": op_msg_kdf, "msg_encrypt": op_msg_encrypt, "msg_decrypt": op_msg_decrypt,
    "auth_key_id": op_auth_key_id, "pq_factor": op_pq_factor, "rsa_fingerprint": op_rsa_fingerprint,
    "rsa_pad_encrypt": op_rsa_pad_encrypt, "tmp_aes": op_tmp_aes, "new_nonce_hash": op_new_nonce_hash,
    "server_salt": op_server_salt, "dh_check": op_dh_check, "transport_encode": op_transport_encode,
    "transport_decode": op_transport_decode, "obfuscated_init": op_obfuscated_init,
}


def answer(line):
    try:
        req = json.loads(line)
    except ValueError as e:
        return {"id": None, "ok": False, "error": "not-json", "message": str(e)}
    rid, op = req.get("id"), req.get("op")
    if op == "hello":
        return {"id": rid, "ok": True, "implementation": "thirdparty-py 0.1", "protocol": 1,
                "ops": sorted(OPS)}
    if op not in OPS:
        return {"id": rid, "ok": False, "error": "unsupported", "message": "no op %r here" % op}
    try:
        out = OPS[op](req)
    except Failure as f:
        return {"id": rid, "ok": False, "error": f.code, "message": str(f)}
    return dict({"id": rid, "ok": True}, **out)


def main():
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(answer(line)) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
