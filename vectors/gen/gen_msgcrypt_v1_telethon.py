#!/usr/bin/python3
"""Generates vectors/msgcrypt/msgcrypt_v1_telethon.json: MTProto 1.0 message
crypto (msg_v1_key, msg_v1_kdf, msg_v1_encrypt, msg_v1_decrypt), the scheme of
auth.bindTempAuthKey's encrypted_message.

Neither Telethon 1.25.1 nor GramJS 2.26.22 implements MTProto 1.0 any more
(their MTProtoState._calc_key / _calcKey are the 2.0 SHA-256 ones), so the
MTProto 1.0 formulas are written out here from core.telegram.org/mtproto/description_v1
("Defining AES Key and Initialization Vector") with hashlib SHA-1, and the
only borrowed piece is the block cipher:

  - auth_key_id:   the last 8 bytes of SHA1(auth_key) (telethon.crypto.AuthKey(key).key_id)
  - msg_key:       SHA1(plaintext without padding)[4:20], "the 128 lower-order bits"
  - aes key / iv:  sha1_a = SHA1(msg_key + auth_key[x:x+32])
                   sha1_b = SHA1(auth_key[32+x:48+x] + msg_key + auth_key[48+x:64+x])
                   sha1_c = SHA1(auth_key[64+x:96+x] + msg_key)
                   sha1_d = SHA1(msg_key + auth_key[96+x:128+x])
                   aes_key = sha1_a[0:8] + sha1_b[8:20] + sha1_c[4:16]
                   aes_iv = sha1_a[8:20] + sha1_b[0:8] + sha1_c[16:20] + sha1_d[0:8]
                   x = 0 from the client, 8 from the server
  - AES-256-IGE:   telethon.crypto.aes.AES on its pure-Python path (cryptg and
                   libssl disabled) over pyaes

The script also checks its KDF against the published values of gotd/td
(crypto/kdf_v1_test.go), which vectors/msgcrypt/msgcrypt_v1_gotd.json carries.

Negative msg_v1_decrypt cases are built by encrypting crafted plaintexts with
those same pieces (so that msg_key verifies and only the intended later check
fails), or by damaging a valid packet for the earlier checks.  When a crafted
message_data_length claims more than the plaintext holds, msg_key covers the
whole plaintext (what mtp_msg_v1_encrypt does; a receiver rejects the length
either way).

Run:  /usr/bin/python3 vectors/gen/gen_msgcrypt_v1_telethon.py
Inputs come from a SHA-256 counter stream with a fixed seed; the output is
reproducible byte for byte.
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
from telethon.crypto import AuthKey

SEED = b"mtprobe msgcrypt v1 vectors v1"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "msgcrypt", "msgcrypt_v1_telethon.json")

aes_mod.cryptg = None
libssl_mod.encrypt_ige = None
libssl_mod.decrypt_ige = None
AES = aes_mod.AES

GENERATOR = ("MTProto 1.0 formulas of core.telegram.org/mtproto/description_v1 written out with hashlib SHA-1 "
             "(CPython %s), AES-256-IGE from Telethon %s telethon.crypto.aes.AES on its pure-Python path over "
             "pyaes %s, auth_key_id from telethon.crypto.AuthKey; script vectors/gen/gen_msgcrypt_v1_telethon.py"
             % (platform.python_version(), md.version("Telethon"), md.version("pyaes")))

ID_BIND_AUTH_KEY_INNER = 0x75A3F765


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


def sha1(b):
    return hashlib.sha1(b).digest()


def x_of(sender):
    return 0 if sender == "client" else 8


def key_id(auth_key):
    return struct.pack("<Q", AuthKey(auth_key).key_id)


def msg_key_of(unpadded):
    return sha1(unpadded)[4:20]


def kdf(auth_key, sender, msg_key):
    x = x_of(sender)
    a = sha1(msg_key + auth_key[x:x + 32])
    b = sha1(auth_key[32 + x:48 + x] + msg_key + auth_key[48 + x:64 + x])
    c = sha1(auth_key[64 + x:96 + x] + msg_key)
    d = sha1(msg_key + auth_key[96 + x:128 + x])
    return a[0:8] + b[8:20] + c[4:16], a[8:20] + b[0:8] + c[16:20] + d[0:8]


def hashed_part(plain):
    """The bytes msg_key covers: header and message_data_length bytes of data, at most all."""
    mdl = struct.unpack("<I", plain[28:32])[0]
    return plain[:32 + min(mdl, len(plain) - 32)]


def encrypt_with_key(auth_key, sender, plain, msg_key):
    aes_key, aes_iv = kdf(auth_key, sender, msg_key)
    return key_id(auth_key) + msg_key + AES.encrypt_ige(plain, aes_key, aes_iv)


def encrypt(auth_key, sender, plain):
    assert len(plain) % 16 == 0 and len(plain) >= 32
    return encrypt_with_key(auth_key, sender, plain, msg_key_of(hashed_part(plain)))


def decrypt_check(auth_key, sender, packet, plain):
    """Round trip through Telethon's decrypt_ige: the packet holds the plaintext."""
    aes_key, aes_iv = kdf(auth_key, sender, packet[8:24])
    assert AES.decrypt_ige(packet[24:], aes_key, aes_iv) == plain


def header(rnd, sender, mdl, msg_id=None, seq_no=None):
    if msg_id is None:
        msg_id = (0x66000000 << 32) | (struct.unpack("<I", rnd.read(4))[0] & ~3)
        if sender == "server":
            msg_id |= 1
    if seq_no is None:
        seq_no = 1
    return rnd.read(16) + struct.pack("<qiI", msg_id, seq_no, mdl & 0xFFFFFFFF)


def plaintext(rnd, sender, data, pad_len, mdl=None):
    mdl = len(data) if mdl is None else mdl
    plain = header(rnd, sender, mdl) + data + rnd.read(pad_len)
    assert len(plain) % 16 == 0, (len(data), pad_len)
    return plain


def min_padding(n):
    return -n % 16


class Builder:
    def __init__(self):
        self.rnd = DetStream("inputs")
        self.tc = 0
        self.auth_key = self.rnd.read(256)
        self.other_key = self.rnd.read(256)

    def test(self, comment, result, args, expect, flags=()):
        self.tc += 1
        return {"tcId": self.tc, "comment": comment, "flags": list(flags), "result": result, "args": args,
                "expect": expect}


def gotd_cross_check():
    """gotd/td crypto/kdf_v1_test.go pins these (x = 0, auth_key 00..ff, msg_key 00..0f)."""
    k, iv = kdf(bytes(range(256)), "client", bytes(range(16)))
    assert k.hex() == "17d7295ca9213d1ab656acdb1ad48b2ea7f3a8f7095098d5508b900bbd5fccfc", k.hex()
    assert iv.hex() == "2d7d16a65a84108e9805656caa474501cc580aa2edc33abfd0bfad785464d1c6", iv.hex()
    assert msg_key_of(b"bind-message-test-payload").hex() == "fc11a3669566de22b87f66550dc3de6d"


def main():
    gotd_cross_check()
    b = Builder()
    rnd = b.rnd
    auth_key = b.auth_key

    key_tests, kdf_tests = [], []
    for n in (0, 32, 72, 100, 1000):
        p = rnd.read(n)
        key_tests.append(b.test("SHA1 of %d bytes, bytes 4..20" % n, "valid", {"plaintext": p.hex()},
                                {"msg_key": msg_key_of(p).hex()}))
    for sender in ("client", "server"):
        for _ in range(3):
            mk = rnd.read(16)
            k, iv = kdf(auth_key, sender, mk)
            kdf_tests.append(b.test("x = %d" % x_of(sender), "valid", {"sender": sender, "msg_key": mk.hex()},
                                    {"aes_key": k.hex(), "aes_iv": iv.hex()}, [sender.title() + "Sender"]))

    enc_tests, dec_tests = [], []
    valid = {}
    for sender in ("client", "server"):
        cases = []
        for data_len, pad, what in ((40, None, "40-byte body (a bind_auth_key_inner's size), 8 bytes of padding"),
                                    (48, 0, "48-byte body, no padding"),
                                    (36, 12, "36-byte body, 12 bytes of padding"),
                                    (4, 12, "4-byte body"),
                                    (100, None, "100-byte body"),
                                    (1000, 8, "1000-byte body"),
                                    (44, 4, "44-byte body, 4 bytes of padding")):
            if pad is None:
                pad = min_padding(32 + data_len)
            plain = plaintext(rnd, sender, rnd.read(data_len), pad)
            packet = encrypt(auth_key, sender, plain)
            decrypt_check(auth_key, sender, packet, plain)
            flags = [sender.title() + "Sender"] + (["Boundary"] if pad in (0, 15) else [])
            cases.append((what, plain, packet, flags))
        valid[sender] = cases
        for what, plain, packet, flags in cases:
            enc_tests.append(b.test("%s, from the %s" % (what, sender), "valid",
                                    {"sender": sender, "plaintext": plain.hex()}, {"packet": packet.hex()}, flags))
            dec_tests.append(b.test("%s, from the %s" % (what, sender), "valid",
                                    {"sender": sender, "packet": packet.hex()}, {"plaintext": plain.hex()}, flags))

    # The binding message of auth.bindTempAuthKey: random:int128 instead of salt and session_id,
    # the request's msg_id, seq_no 0, length 40, bind_auth_key_inner, 8 bytes of padding.
    bind_tests = []
    for i in range(2):
        perm = rnd.read(256)
        msg_id = (0x66000000 << 32) | (struct.unpack("<I", rnd.read(4))[0] & ~3)
        inner = struct.pack("<Iqqqqi", ID_BIND_AUTH_KEY_INNER, *struct.unpack("<qqqq", rnd.read(32)),
                            1700086400 + i)
        plain = rnd.read(16) + struct.pack("<qiI", msg_id, 0, len(inner)) + inner + rnd.read(8)
        assert len(plain) == 80
        packet = encrypt(perm, "client", plain)
        args = {"auth_key": perm.hex(), "sender": "client"}
        bind_tests.append(("encrypt", b.test("binding message %d" % (i + 1), "valid",
                                             dict(args, plaintext=plain.hex()), {"packet": packet.hex()},
                                             ["ClientSender", "BindMessage"])))
        bind_tests.append(("decrypt", b.test("binding message %d" % (i + 1), "valid",
                                             dict(args, packet=packet.hex()), {"plaintext": plain.hex()},
                                             ["ClientSender", "BindMessage"])))

    bad_tests = []

    def bad(sender, comment, packet, error, flags):
        bad_tests.append(b.test(comment + " (from the %s)" % sender, "invalid",
                                {"sender": sender, "packet": packet.hex()}, {"error": error},
                                [sender.title() + "Sender"] + flags))

    for sender in ("client", "server"):
        other = "server" if sender == "client" else "client"
        _, plain, packet, _ = valid[sender][4]  # 100-byte body
        kid, mk, ct = packet[:8], packet[8:24], packet[24:]
        # 1. auth_key_id
        bad(sender, "auth_key_id of another key", key_id(b.other_key) + packet[8:], "auth_key_id_mismatch",
            ["WrongAuthKeyId", "KeyIdOnly"])
        bad(sender, "auth_key_id zero", bytes(8) + packet[8:], "auth_key_id_mismatch", ["WrongAuthKeyId", "KeyIdOnly"])
        bad(sender, "wrong auth_key_id and a truncated ciphertext", key_id(b.other_key) + packet[8:-3],
            "auth_key_id_mismatch", ["WrongAuthKeyId", "CheckOrder"])
        bad(sender, "5-byte packet", kid[:5], "auth_key_id_mismatch", ["WrongAuthKeyId", "Truncated"])
        # 2. ciphertext length
        bad(sender, "packet ends inside msg_key", packet[:20], "bad_ciphertext_length", ["BadLength", "Truncated"])
        bad(sender, "no ciphertext", packet[:24], "bad_ciphertext_length", ["BadLength", "Truncated"])
        bad(sender, "one block: shorter than the 32-byte header", packet[:40], "bad_ciphertext_length",
            ["BadLength", "Truncated"])
        bad(sender, "valid packet plus 8 bytes", packet + rnd.read(8), "bad_ciphertext_length", ["BadLength"])
        bad(sender, "valid packet minus its last byte", packet[:-1], "bad_ciphertext_length", ["BadLength"])
        # 3. msg_key
        bad(sender, "bit 0 of the first ciphertext byte flipped", kid + mk + bytes([ct[0] ^ 1]) + ct[1:],
            "v1_msg_key_mismatch", ["MsgKey", "FlippedBit"])
        bad(sender, "bit 7 of msg_key flipped", kid + bytes([mk[0] ^ 0x80]) + mk[1:] + ct, "v1_msg_key_mismatch",
            ["MsgKey", "FlippedBit"])
        bad(sender, "encrypted with the other direction's x = %d" % x_of(other), encrypt(auth_key, other, plain),
            "v1_msg_key_mismatch", ["MsgKey", "WrongDirection"])
        bad(sender, "msg_key over the padded plaintext (not MTProto 1.0)",
            encrypt_with_key(auth_key, sender, plain, msg_key_of(plain)), "v1_msg_key_mismatch", ["MsgKey"])
        bad(sender, "msg_key the first 16 bytes of SHA1 instead of the last 16",
            encrypt_with_key(auth_key, sender, plain, sha1(hashed_part(plain))[0:16]), "v1_msg_key_mismatch",
            ["MsgKey"])
        bad(sender, "MTProto 2.0 msg_key (SHA256 of auth_key[88+x, 32) and the plaintext) with MTProto 1.0 keys",
            encrypt_with_key(auth_key, sender, plain,
                             hashlib.sha256(auth_key[88 + x_of(sender):120 + x_of(sender)] + plain).digest()[8:24]),
            "v1_msg_key_mismatch", ["MsgKey", "Mtproto2"])
        bad(sender, "encrypted with another key, sent with this key's auth_key_id",
            kid + encrypt(b.other_key, sender, plain)[8:], "v1_msg_key_mismatch", ["MsgKey"])
        # 4.-6. message_data_length and padding
        bad(sender, "valid packet plus one block: msg_key (which does not cover the padding) still verifies, "
            "28 bytes of padding", packet + rnd.read(16), "v1_bad_padding_length", ["BadPadding", "Appended"])
        for mdl_of, comment, error, flags in (
                (lambda room: room + 4, "message_data_length 4 bytes beyond the plaintext", "bad_message_length",
                 ["BadMessageLength"]),
                (lambda room: 0x80000000, "message_data_length 0x80000000", "bad_message_length",
                 ["BadMessageLength", "NegativeLength"]),
                (lambda room: 0xFFFFFFFF, "message_data_length -1 (also unaligned)", "bad_message_length",
                 ["BadMessageLength", "NegativeLength", "CheckOrder"]),
                (lambda room: room - 2, "message_data_length not a multiple of 4", "unaligned_message_length",
                 ["UnalignedLength", "AlignmentOnly"]),
                (lambda room: room - 16, "16 bytes of padding", "v1_bad_padding_length", ["BadPadding"]),
                (lambda room: room - 28, "28 bytes of padding", "v1_bad_padding_length", ["BadPadding"]),
                (lambda room: 0, "no data, 80 bytes of padding", "v1_bad_padding_length", ["BadPadding"])):
            p = plaintext(rnd, sender, rnd.read(80), 0)
            room = len(p) - 32
            p = p[:28] + struct.pack("<I", mdl_of(room) & 0xFFFFFFFF) + p[32:]
            bad(sender, comment, encrypt(auth_key, sender, p), error, flags)

    doc = {
        "format": "mtprobe-vectors/1",
        "title": "MTProto 1.0 message crypto (the binding message of auth.bindTempAuthKey), both directions",
        "source": "computed from the formulas of core.telegram.org/mtproto/description_v1 (see generator) from "
                  "inputs drawn from a SHA-256 counter stream with a fixed seed; the KDF reproduces the published "
                  "values of gotd/td crypto/kdf_v1_test.go; the binding message layout is that of "
                  "core.telegram.org/method/auth.bindTempAuthKey",
        "generator": GENERATOR,
        "spec": ["https://core.telegram.org/mtproto/description_v1#defining-aes-key-and-initialization-vector",
                 "https://core.telegram.org/method/auth.bindTempAuthKey#encrypting-the-binding-message"],
        "requirements": [],
        "notes": {
            "ClientSender": "message sent by the client: x = 0",
            "ServerSender": "message sent by the server: x = 8",
            "Boundary": "padding at a bound of 0..15",
            "BindMessage": "an auth.bindTempAuthKey binding message: random:int128, msg_id, seq_no 0, length 40, "
                           "bind_auth_key_inner, 8 bytes of padding",
            "WrongAuthKeyId": "auth_key_id is not the key's",
            "KeyIdOnly": {"description": "a packet whose only fault is its auth_key_id: no page tells the receiver "
                                         "to compare it (the msg_key check is what catches another key)",
                          "level": "INFO", "requirement": "C-ENC-14"},
            "Truncated": "packet cut short inside the outer header or the inner 32-byte header",
            "BadLength": "ciphertext not a multiple of 16 or shorter than 32 bytes",
            "MsgKey": "msg_key does not verify",
            "FlippedBit": "one bit of a valid packet flipped",
            "WrongDirection": "packet built with the other direction's x",
            "Mtproto2": "MTProto 2.0 style msg_key",
            "BadMessageLength": "message_data_length (read unsigned) beyond the plaintext after the header",
            "NegativeLength": "message_data_length negative as a signed int32",
            "UnalignedLength": "message_data_length not a multiple of 4",
            "AlignmentOnly": {"description": "message_data_length not a multiple of 4, and every MUST check passes: "
                                             "only \"The length should be always divisible by 4\" rejects it",
                              "level": "SHOULD", "requirement": "C-ENC-19"},
            "BadPadding": "more than 15 bytes of padding",
            "Appended": "a block appended to a valid packet",
            "CheckOrder": "several checks fail; the error is the first in the documented order",
        },
        "testGroups": [
            {"op": "msg_v1_key", "comment": "msg_key = SHA1(plaintext without padding)[4, 20)", "tests": key_tests},
            {"op": "msg_v1_kdf", "comment": "aes_key / aes_iv from msg_key", "args": {"auth_key": auth_key.hex()},
             "tests": kdf_tests},
            {"op": "msg_v1_encrypt", "comment": "complete padded plaintexts to packets",
             "args": {"auth_key": auth_key.hex()}, "tests": enc_tests},
            {"op": "msg_v1_decrypt", "comment": "valid packets to plaintexts", "args": {"auth_key": auth_key.hex()},
             "tests": dec_tests},
            {"op": "msg_v1_encrypt", "comment": "binding messages, each with its own permanent key",
             "tests": [t for kind, t in bind_tests if kind == "encrypt"]},
            {"op": "msg_v1_decrypt", "comment": "binding messages, each with its own permanent key",
             "tests": [t for kind, t in bind_tests if kind == "decrypt"]},
            {"op": "msg_v1_decrypt", "comment": "packets a receiver must reject, with the first failed check",
             "args": {"auth_key": auth_key.hex()}, "tests": bad_tests},
        ],
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote %s (%d tests)" % (os.path.normpath(OUT), b.tc), file=sys.stderr)


if __name__ == "__main__":
    main()
