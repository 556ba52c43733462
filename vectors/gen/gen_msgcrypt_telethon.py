#!/usr/bin/python3
"""Generates vectors/msgcrypt/msgcrypt_telethon.json: MTProto 2.0 message
crypto (auth_key_id, msg_key, msg_kdf, msg_encrypt, msg_decrypt) in both
directions, computed with Telethon:

  - auth_key_id:        telethon.crypto.AuthKey(key).key_id
  - aes key/iv:         MTProtoState._calc_key(auth_key, msg_key, client)
                        (client=True for x = 0, client=False for x = 8)
  - AES-256-IGE:        telethon.crypto.aes.AES, pure-Python path (cryptg and
                        libssl disabled) over pyaes
  - client packets:     also produced end to end by MTProtoState.encrypt_message_data
                        and required to match the packets built from the pieces
  - server packets:     the valid ones carrying a bad_server_salt body are
                        required to pass MTProtoState.decrypt_message_data
  - msg_key:            SHA256(auth_key[88+x:120+x] + plaintext)[8:24], the
                        expression Telethon's encrypt/decrypt_message_data use
                        (with hashlib), written out here for x = 0 and x = 8

Negative msg_decrypt cases are built by encrypting crafted plaintexts with
those same pieces, so that msg_key is valid and only the intended later check
fails; or by damaging a valid packet for the earlier checks.

Run:  /usr/bin/python3 vectors/gen/gen_msgcrypt_telethon.py
Inputs come from a SHA-256 counter stream with a fixed seed; the output is
reproducible byte for byte.  vectors/gen/gen_msgcrypt_gramjs.js uses the same
stream and seed, so its file shares these inputs.
"""
import hashlib
import importlib.metadata as md
import json
import logging
import os
import platform
import struct
import sys

import telethon.crypto.aes as aes_mod
import telethon.crypto.libssl as libssl_mod
import telethon.network.mtprotostate as state_mod
from telethon.crypto import AuthKey
from telethon.tl.types import BadServerSalt

SEED = b"mtprobe msgcrypt vectors v1"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "msgcrypt", "msgcrypt_telethon.json")

aes_mod.cryptg = None
libssl_mod.encrypt_ige = None
libssl_mod.decrypt_ige = None
AES = aes_mod.AES
MTProtoState = state_mod.MTProtoState

GENERATOR = ("Telethon %s (AuthKey, MTProtoState._calc_key / encrypt_message_data / decrypt_message_data, "
             "telethon.crypto.aes.AES on its pure-Python path over pyaes %s), hashlib SHA-256, CPython %s; "
             "script vectors/gen/gen_msgcrypt_telethon.py"
             % (md.version("Telethon"), md.version("pyaes"), platform.python_version()))


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


def x_of(sender):
    return 0 if sender == "client" else 8


def key_id(auth_key):
    return struct.pack("<Q", AuthKey(auth_key).key_id)


def msg_key_of(auth_key, sender, plain):
    x = x_of(sender)
    return hashlib.sha256(auth_key[88 + x:88 + x + 32] + plain).digest()[8:24]


def encrypt_with_key(auth_key, sender, plain, msg_key):
    aes_key, aes_iv = MTProtoState._calc_key(auth_key, msg_key, sender == "client")
    return key_id(auth_key) + msg_key + AES.encrypt_ige(plain, aes_key, aes_iv)


def encrypt(auth_key, sender, plain):
    assert len(plain) % 16 == 0
    return encrypt_with_key(auth_key, sender, plain, msg_key_of(auth_key, sender, plain))


def plaintext(rnd, sender, data, pad_len, mdl=None, session_id=None):
    salt = rnd.read(8)
    session_id = session_id if session_id is not None else rnd.read(8)
    # Server msg_ids are odd, client ones divisible by 4; the time part is arbitrary here.
    msg_id = (0x66000000 << 32) | (struct.unpack("<I", rnd.read(4))[0] & ~3)
    if sender == "server":
        msg_id |= 1
    seq_no = 1
    mdl = len(data) if mdl is None else mdl
    header = salt + session_id + struct.pack("<qiI", msg_id, seq_no, mdl & 0xFFFFFFFF)
    plain = header + data + rnd.read(pad_len)
    assert len(plain) % 16 == 0, (len(data), pad_len)
    return plain


def min_padding(n):
    return -(n + 12) % 16 + 12


class Telethon:
    """End-to-end cross-checks through Telethon's own MTProtoState code paths."""

    class _Loggers(dict):
        def __missing__(self, name):
            return logging.getLogger(name)

    @classmethod
    def client_packet(cls, auth_key, plain):
        """encrypt_message_data prepends salt and session_id and draws its
        padding from os.urandom: feed it the plaintext's own padding."""
        state = MTProtoState(AuthKey(auth_key), cls._Loggers())
        state.salt = struct.unpack("<q", plain[0:8])[0]
        state.id = struct.unpack("<q", plain[8:16])[0]
        body = plain[16:]
        mdl = struct.unpack("<I", plain[28:32])[0]
        inner = body[:16 + mdl]
        padding = body[16 + mdl:]
        assert len(padding) == min_padding(16 + len(inner)), "Telethon only makes minimal padding"
        real_urandom = state_mod.os.urandom
        state_mod.os.urandom = lambda n: padding if n == len(padding) else real_urandom(n)
        try:
            return state.encrypt_message_data(inner)
        finally:
            state_mod.os.urandom = real_urandom

    @classmethod
    def accepts_server_packet(cls, auth_key, packet, session_id):
        state = MTProtoState(AuthKey(auth_key), cls._Loggers())
        state.id = struct.unpack("<q", session_id)[0]
        msg = state.decrypt_message_data(packet)
        return msg is not None and isinstance(msg.obj, BadServerSalt)


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


def main():
    b = Builder()
    rnd = b.rnd
    auth_key = b.auth_key

    # auth_key_id
    id_tests = []
    for i, k in enumerate([auth_key, b.other_key, bytes(256), b"\xff" * 256, rnd.read(256)]):
        name = ["the main key of this file", "the second key of this file", "all-zero key", "all-0xff key",
                "random key"][i]
        id_tests.append(b.test(name, "valid", {"auth_key": k.hex()}, {"auth_key_id": key_id(k).hex()}))

    # msg_key over assorted plaintexts, and the KDF for assorted msg_keys.
    mk_tests, kdf_tests = [], []
    for sender in ("client", "server"):
        for n in (48, 64, 128, 1040):
            p = rnd.read(n)
            mk_tests.append(b.test("%d-byte plaintext from the %s" % (n, sender), "valid",
                                   {"sender": sender, "plaintext": p.hex()},
                                   {"msg_key": msg_key_of(auth_key, sender, p).hex()}, [sender.title() + "Sender"]))
        for _ in range(3):
            mk = rnd.read(16)
            k, iv = MTProtoState._calc_key(auth_key, mk, sender == "client")
            kdf_tests.append(b.test("x = %d" % x_of(sender), "valid", {"sender": sender, "msg_key": mk.hex()},
                                    {"aes_key": k.hex(), "aes_iv": iv.hex()}, [sender.title() + "Sender"]))

    # Valid messages in both directions: encrypt and decrypt.
    enc_tests, dec_tests = [], []
    cross_checked = {"client": 0, "server": 0}
    valid = {}
    for sender in ("client", "server"):
        cases = []
        for data_len, pad, what in ((28, None, "28-byte body, minimal padding"),
                                    (36, 12, "padding exactly 12 bytes"),
                                    (100, None, "100-byte body"),
                                    (1000, 200, "1000-byte body, 200 bytes of padding"),
                                    (48, 1024, "padding exactly 1024 bytes"),
                                    (4096, None, "4096-byte body")):
            session_id = rnd.read(8)
            # Every body starts with a bad_server_salt object, so that Telethon's
            # decrypt_message_data (which parses one TL object and skips the
            # msg_id time check for this type) can verify the server packets.
            data = bytes(BadServerSalt(bad_msg_id=0x66000000 << 32, bad_msg_seqno=3, error_code=48,
                                       new_server_salt=struct.unpack("<q", rnd.read(8))[0]))
            assert len(data) == 28
            data += rnd.read(data_len - 28)
            if pad is None:
                pad = min_padding(32 + data_len)
            assert (32 + data_len + pad) % 16 == 0, (data_len, pad)
            plain = plaintext(rnd, sender, data, pad, session_id=session_id)
            packet = encrypt(auth_key, sender, plain)
            if sender == "client" and pad == min_padding(32 + data_len):
                assert Telethon.client_packet(auth_key, plain) == packet
                cross_checked["client"] += 1
            if sender == "server":
                assert Telethon.accepts_server_packet(auth_key, packet, session_id)
                cross_checked["server"] += 1
            flags = [sender.title() + "Sender"] + (["Boundary"] if pad in (12, 1024) else [])
            cases.append((what, plain, packet, flags))
        valid[sender] = cases
        for what, plain, packet, flags in cases:
            enc_tests.append(b.test("%s, from the %s" % (what, sender), "valid",
                                    {"sender": sender, "plaintext": plain.hex()}, {"packet": packet.hex()}, flags))
            dec_tests.append(b.test("%s, from the %s" % (what, sender), "valid",
                                    {"sender": sender, "packet": packet.hex()}, {"plaintext": plain.hex()}, flags))

    # Rejections, in check order.  Each case names the check that must fail first.
    bad_tests = []

    def bad(sender, comment, packet, error, flags):
        bad_tests.append(b.test(comment + " (from the %s)" % sender, "invalid", {"sender": sender,
                                "packet": packet.hex()}, {"error": error}, [sender.title() + "Sender"] + flags))

    for sender in ("client", "server"):
        other = "server" if sender == "client" else "client"
        _, plain, packet, _ = valid[sender][2]  # 100-byte body
        kid, mk, ct = packet[:8], packet[8:24], packet[24:]
        # 1. auth_key_id
        bad(sender, "auth_key_id of another key", key_id(b.other_key) + packet[8:], "auth_key_id_mismatch",
            ["WrongAuthKeyId", "KeyIdOnly"])
        bad(sender, "auth_key_id zero (an unencrypted message's)", bytes(8) + packet[8:], "auth_key_id_mismatch",
            ["WrongAuthKeyId", "KeyIdOnly"])
        bad(sender, "auth_key_id byte-swapped (read as big-endian)", kid[::-1] + packet[8:], "auth_key_id_mismatch",
            ["WrongAuthKeyId", "KeyIdOnly"])
        bad(sender, "wrong auth_key_id and a ciphertext length that is not a multiple of 16",
            key_id(b.other_key) + packet[8:] + b"\x00" * 5, "auth_key_id_mismatch", ["WrongAuthKeyId", "CheckOrder"])
        bad(sender, "wrong auth_key_id and a flipped ciphertext bit", key_id(b.other_key) + mk +
            bytes([ct[0] ^ 1]) + ct[1:], "auth_key_id_mismatch", ["WrongAuthKeyId", "CheckOrder"])
        bad(sender, "4-byte packet: no room for auth_key_id", kid[:4], "auth_key_id_mismatch",
            ["WrongAuthKeyId", "Truncated"])
        # 2. ciphertext length
        bad(sender, "packet ends inside msg_key", packet[:18], "bad_ciphertext_length", ["BadLength", "Truncated"])
        bad(sender, "no ciphertext at all", packet[:24], "bad_ciphertext_length", ["BadLength", "Truncated"])
        bad(sender, "one 16-byte block: shorter than the 32-byte header", packet[:40], "bad_ciphertext_length",
            ["BadLength", "Truncated"])
        bad(sender, "valid packet plus 4 bytes", packet + rnd.read(4), "bad_ciphertext_length", ["BadLength"])
        bad(sender, "valid packet minus its last byte", packet[:-1], "bad_ciphertext_length", ["BadLength"])
        bad(sender, "valid packet plus 15 bytes (msg_key also fails)", packet + rnd.read(15),
            "bad_ciphertext_length", ["BadLength", "CheckOrder"])
        # 3. msg_key
        bad(sender, "valid packet plus one whole block", packet + rnd.read(16), "msg_key_mismatch", ["MsgKey"])
        bad(sender, "valid packet without its last block", packet[:-16], "msg_key_mismatch", ["MsgKey"])
        bad(sender, "bit 0 of the first ciphertext byte flipped", kid + mk + bytes([ct[0] ^ 1]) + ct[1:],
            "msg_key_mismatch", ["MsgKey", "FlippedBit"])
        bad(sender, "bit 7 of the last ciphertext byte flipped", kid + mk + ct[:-1] + bytes([ct[-1] ^ 0x80]),
            "msg_key_mismatch", ["MsgKey", "FlippedBit"])
        bad(sender, "bit 0 of msg_key flipped", kid + bytes([mk[0] ^ 1]) + mk[1:] + ct, "msg_key_mismatch",
            ["MsgKey", "FlippedBit"])
        bad(sender, "msg_key and ciphertext of the other direction's formula (x = %d)" % x_of(other),
            encrypt(auth_key, other, plain), "msg_key_mismatch", ["MsgKey", "WrongDirection"])
        unpadded = plain[:32 + struct.unpack("<I", plain[28:32])[0]]
        bad(sender, "msg_key over the plaintext without its padding",
            encrypt_with_key(auth_key, sender, plain, msg_key_of(auth_key, sender, unpadded)),
            "msg_key_mismatch", ["MsgKey"])
        bad(sender, "MTProto 1.0 msg_key (SHA1 of the unpadded plaintext, bytes 4..20) with MTProto 2.0 keys",
            encrypt_with_key(auth_key, sender, plain, hashlib.sha1(unpadded).digest()[4:20]), "msg_key_mismatch",
            ["MsgKey", "Mtproto1"])
        bad(sender, "encrypted with another auth key, sent with this key's auth_key_id",
            kid + encrypt(b.other_key, sender, plain)[8:], "msg_key_mismatch", ["MsgKey"])
        # 4.-6. message_data_length and padding (valid msg_key: built with the pieces)
        for mdl_of, comment, error, flags in (
                (lambda room: room + 4, "message_data_length 4 bytes beyond the plaintext", "bad_message_length",
                 ["BadMessageLength"]),
                (lambda room: room + 1, "message_data_length 1 byte beyond the plaintext (also unaligned)",
                 "bad_message_length", ["BadMessageLength", "CheckOrder"]),
                (lambda room: 0x7FFFFFFC, "message_data_length 0x7ffffffc", "bad_message_length",
                 ["BadMessageLength"]),
                (lambda room: 0x80000000, "message_data_length 0x80000000 (negative as int32)",
                 "bad_message_length", ["BadMessageLength", "NegativeLength"]),
                (lambda room: 0xFFFFFFFC, "message_data_length -4", "bad_message_length",
                 ["BadMessageLength", "NegativeLength"]),
                (lambda room: 0xFFFFFFFF, "message_data_length -1 (also unaligned)", "bad_message_length",
                 ["BadMessageLength", "NegativeLength", "CheckOrder"]),
                (lambda room: 30, "message_data_length 30: not a multiple of 4", "unaligned_message_length",
                 ["UnalignedLength", "AlignmentOnly"]),
                (lambda room: room - 1, "message_data_length room - 1: unaligned, padding 1 byte",
                 "unaligned_message_length", ["UnalignedLength", "CheckOrder"]),
                (lambda room: room, "message_data_length = everything: no padding", "bad_padding_length",
                 ["BadPadding"]),
                (lambda room: room - 4, "padding 4 bytes", "bad_padding_length", ["BadPadding"]),
                (lambda room: room - 8, "padding 8 bytes", "bad_padding_length", ["BadPadding"])):
            data = rnd.read(100)
            p = plaintext(rnd, sender, data, min_padding(132))
            room = len(p) - 32
            p = p[:28] + struct.pack("<I", mdl_of(room) & 0xFFFFFFFF) + p[32:]
            bad(sender, comment, encrypt(auth_key, sender, p), error, flags)
        for pad in (1028, 1040, 4000):
            p = plaintext(rnd, sender, rnd.read(16 + (-(48 + pad)) % 16), pad)
            bad(sender, "padding %d bytes" % pad, encrypt(auth_key, sender, p), "bad_padding_length", ["BadPadding"])

    doc = {
        "format": "mtprobe-vectors/1",
        "title": "MTProto 2.0 message crypto (both directions), generated with Telethon",
        "source": "computed by an independent implementation (see generator) from inputs drawn from a SHA-256 "
                  "counter stream with a fixed seed; the formulas are those of core.telegram.org/mtproto/description "
                  "and the checks those of core.telegram.org/mtproto/security_guidelines",
        "generator": GENERATOR,
        "spec": ["https://core.telegram.org/mtproto/description#defining-aes-key-and-initialization-vector",
                 "https://core.telegram.org/mtproto/security_guidelines#checking-sha256-hash-value-of-msg-key",
                 "https://core.telegram.org/mtproto/security_guidelines#checking-message-length"],
        "requirements": ["C-ENC-14", "C-ENC-15", "C-ENC-16", "C-ENC-17", "C-ENC-18", "C-ENC-19", "C-ENC-20"],
        "notes": {
            "ClientSender": "message sent by the client: x = 0",
            "ServerSender": "message sent by the server: x = 8",
            "Boundary": "padding at a bound of 12..1024",
            "WrongAuthKeyId": "auth_key_id is not the key's",
            "KeyIdOnly": {"description": "a packet whose only fault is its auth_key_id: no page tells the receiver "
                                         "to compare it (the msg_key check is what catches another key)",
                          "level": "INFO", "requirement": "C-ENC-14"},
            "Truncated": "packet cut short inside the outer header or the inner 32-byte header",
            "BadLength": "ciphertext not a multiple of 16 or shorter than 32 bytes",
            "MsgKey": "msg_key does not verify",
            "FlippedBit": "one bit of a valid packet flipped",
            "WrongDirection": "packet built with the other direction's x",
            "Mtproto1": "MTProto 1.0 style msg_key (computed by the script with hashlib SHA-1)",
            "BadMessageLength": "message_data_length (read unsigned) beyond the plaintext after the header",
            "NegativeLength": "message_data_length negative as a signed int32",
            "UnalignedLength": "message_data_length not a multiple of 4",
            "AlignmentOnly": {"description": "message_data_length not a multiple of 4, and every MUST check passes: "
                                             "only \"The length should be always divisible by 4\" rejects it",
                              "level": "SHOULD", "requirement": "C-ENC-19"},
            "BadPadding": "padding outside 12..1024 bytes",
            "CheckOrder": "several checks fail; the error is the first in the documented order",
        },
        "testGroups": [
            {"op": "auth_key_id", "comment": "low 64 bits of SHA1(auth_key), as on the wire", "tests": id_tests},
            {"op": "msg_key", "comment": "msg_key = SHA256(auth_key[88+x, 32) | plaintext)[8, 24)",
             "args": {"auth_key": auth_key.hex()}, "tests": mk_tests},
            {"op": "msg_kdf", "comment": "aes_key / aes_iv from msg_key", "args": {"auth_key": auth_key.hex()},
             "tests": kdf_tests},
            {"op": "msg_encrypt", "comment": "complete padded plaintexts to packets",
             "args": {"auth_key": auth_key.hex()}, "tests": enc_tests},
            {"op": "msg_decrypt", "comment": "valid packets to plaintexts", "args": {"auth_key": auth_key.hex()},
             "tests": dec_tests},
            {"op": "msg_decrypt", "comment": "packets a receiver must reject, with the first failed check",
             "args": {"auth_key": auth_key.hex()}, "tests": bad_tests},
        ],
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote %s (%d tests; Telethon end-to-end cross-checks: %s)" % (os.path.normpath(OUT), b.tc,
          cross_checked), file=sys.stderr)


if __name__ == "__main__":
    main()
