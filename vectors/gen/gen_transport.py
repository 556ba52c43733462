#!/usr/bin/python3
"""Generates vectors/transport/*.json with Telethon 1.25.1 as the independent
implementation (Debian's python3-telethon; run with /usr/bin/python3 from a
directory that is not inside the telethon package).

Telethon's packet codecs (telethon/network/connection/tcpabridged.py,
tcpintermediate.py incl. RandomizedIntermediatePacketCodec, tcpfull.py) and its
obfuscation headers (tcpobfuscated.ObfuscatedIO, tcpmtproxy.MTProxyIO) are
driven directly: encode_packet() for bytes, read_packet() over a fake reader
for payloads, init_header() with os.urandom / random.randint patched to hand
out the vector's bytes.  Telethon does not implement quick acks, server quick
ack answers, sequence number checks, 0xee secrets or the full list of
forbidden init prefixes; those expectations are computed here from the spec
text (each such test carries the flag SpecDerived and says so).

Every value is deterministic: "random" bytes come from SHA-256 of a label.
Usage: /usr/bin/python3 vectors/gen/gen_transport.py [output dir]
"""
import asyncio
import hashlib
import json
import os
import struct
import sys
import zlib
from unittest import mock

import telethon
from telethon.crypto import AESModeCTR
from telethon.errors import InvalidChecksumError
from telethon.network.connection import tcpintermediate, tcpmtproxy, tcpobfuscated
from telethon.network.connection.tcpabridged import AbridgedPacketCodec
from telethon.network.connection.tcpfull import FullPacketCodec
from telethon.network.connection.tcpintermediate import (IntermediatePacketCodec,
                                                         RandomizedIntermediatePacketCodec)

assert telethon.__version__ == "1.25.1", telethon.__version__

GENERATOR = ("Telethon %s (python3-telethon, telethon/network/connection/*.py) driven by "
             "vectors/gen/gen_transport.py; the abridged, full and abridged-obfuscation vectors are re-checked with "
             "GramJS 2.26.22 (npm telegram) by vectors/gen/gen_transport.js" % telethon.__version__)
SPEC = "https://core.telegram.org/mtproto/mtproto-transports"
NOTES = {
    "SpecDerived": "Telethon 1.25.1 has no code for this case; the expectation follows the spec text literally",
    "Boundary": "a length at the edge of an encoding form",
    "QuickAck": "quick-ack request bits (client) or quick-ack tokens (server)",
    "ServerStream": "bytes a server sends: no tag, MSB-set headers are quick-ack tokens",
    "Truncated": "the stream ends inside a tag, header or body",
    "Oversized": "a length claim beyond any sane frame limit (and beyond the data)",
    "EmptyPayload": {"description": "a zero-length payload: the framing can carry it and no rule forbids it, but no "
                                    "MTProto payload is empty, so an implementation may refuse it", "level": "MAY"},
    "Unaligned": {"description": "a payload whose length is not a multiple of 4: the page does not forbid it, but no "
                                 "MTProto payload has such a length, so a decoder may refuse it", "level": "MAY"},
    "LongFormShort": "the 0x7f long form for a length below 127 words: the page requires the long form from 127 words "
                     "on and does not forbid it below, so a decoder takes it",
    "CrcCheck": {"description": "a full-transport frame with a wrong CRC32: the page defines the field but gives the "
                                "receiver no reaction", "level": "INFO", "requirement": "C-TR-28"},
    "SeqCheck": {"description": "a full-transport frame whose seqno skips or repeats: the page numbers the frames but "
                                "gives the receiver no reaction", "level": "INFO", "requirement": "C-TR-28"},
    "PaddingRange": {"description": "padded intermediate padding outside 0..15 bytes: the page describes the padding "
                                    "(\"a random padding string of length 0-15\") without a requirement word",
                     "level": "INFO", "requirement": "C-TR-28"},
    "AckFraming": {"description": "a padded intermediate server header with the MSB set: the page frames a padded "
                                  "server's quick acks with a length, so the bit marks nothing there; a receiver's "
                                  "reaction is not stated", "level": "INFO", "requirement": "C-TR-28"},
    "TransportError": "a 4-byte frame with a negative LE int32 error code",
    "Padding": "padded intermediate padding (0..15 bytes, or 0..8 after a quick-ack token)",
    "Mirror": "sender server: the keys of the end that received the init",
    "MTProxy": "with an MTProxy secret: key = SHA256(key || secret)",
    "SecretKeys": {"description": "the keys with an MTProxy secret: \"the SHA256 hash of such string should be used as "
                                  "encryption/decryption key\"; an implementation without MTProxy secrets may refuse "
                                  "the secret", "level": "SHOULD", "requirement": "C-TR-30"},
    "SecretTransport": {"description": "a client with a secret of more than 16 bytes (0xdd, or 0xee and a domain) "
                                       "and a tag other than padded intermediate: \"clients should default to the "
                                       "padded intermediate transport whenever an additional byte in the secret is "
                                       "encountered\"", "level": "SHOULD", "requirement": "C-TR-30"},
    "SecretTransportServer": {"description": "the receiving end of an init whose tag the secret's extra byte argues "
                                             "against: the sentence binds the client, so a server may refuse it or "
                                             "accept it", "level": "MAY", "requirement": "C-TR-30"},
    "ForbiddenPrefix": "an init whose first bytes select another transport",
    "WrongSecret": {"description": "an init made for another MTProxy secret (or none): the page gives the key "
                                   "derivation, not what the receiver does with such an init", "level": "INFO",
                    "requirement": "S-TR-47"},
    "TlsPrefix": {"description": "an init opening with 16 03 01 02 (a TLS ClientHello): only the page's example code "
                                 "skips it, its prose does not forbid it", "level": "INFO", "requirement": "C-TR-30"},
    "ReceiverPrefix": {"description": "the receiving end's view of an init with a forbidden opening: the page binds "
                                      "the sender; a server reads such bytes as the transport they select, and the "
                                      "page gives its obfuscation code no rule", "level": "INFO",
                       "requirement": "S-TR-46"},
}

# Shim protocol features (docs/shim.md, "Versions and features") a vector needs: an implementation that does not
# announce one is not sent the vector, since it would ignore the argument and answer something else.
def features_of(op, args, expect):
    f = []
    if op in ("transport_encode", "transport_decode") and args.get("sender") == "server":
        f.append("sender")
    if op == "transport_encode" and (args.get("quick_ack") or "ack" in args):
        f.append("quick_ack")
    if op == "transport_decode" and (True in (expect or {}).get("quick_ack", []) or (expect or {}).get("acks")):
        f.append("quick_ack")
    if op == "transport_encode" and args.get("transport") == "padded":
        f.append("padding")
    secret = bytes.fromhex(args.get("secret", ""))
    if op in ("obfuscated_init", "transport_detect") and len(secret) > 17 and secret[0] == 0xee:
        f.append("fake_tls_secret")
    return f


def det(label, n):
    """Deterministic pseudo-random bytes."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"mtprobe-transport/" + label.encode() + struct.pack("<I", i)).digest()
        i += 1
    return out[:n]


def hx(b):
    return bytes(b).hex()


# ---------------------------------------------------------------- Telethon drivers

class FakeReader:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    async def readexactly(self, n):
        if self.pos + n > len(self.data):
            raise asyncio.IncompleteReadError(self.data[self.pos:], n)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out


def telethon_read_all(codec, data):
    """Every packet Telethon's read_packet finds in data (a server stream)."""
    async def run():
        r = FakeReader(data)
        out = []
        while r.pos < len(r.data):
            out.append(await codec.read_packet(r))
        return out
    return asyncio.run(run())


def abridged(payload):
    return AbridgedPacketCodec(None).encode_packet(payload)


def intermediate(payload):
    return IntermediatePacketCodec(None).encode_packet(payload)


def padded(payload, padding):
    codec = RandomizedIntermediatePacketCodec(None)
    with mock.patch.object(tcpintermediate.random, "randint", return_value=len(padding)), \
            mock.patch.object(tcpintermediate.os, "urandom", return_value=padding):
        return codec.encode_packet(payload)


def full(payload, seq):
    codec = FullPacketCodec(None)
    codec._send_counter = seq
    return codec.encode_packet(payload)


def read_abridged(data):
    return telethon_read_all(AbridgedPacketCodec(None), data)


def read_intermediate(data):
    # The base class returns what the length announces: payload and padding.
    return telethon_read_all(IntermediatePacketCodec(None), data)


def read_full(data):
    return telethon_read_all(FullPacketCodec(None), data)


# ---------------------------------------------------------------- spec-derived pieces

def qa_abridged(frame):
    """Sets the quick-ack MSB on the first byte of an abridged frame (spec)."""
    return bytes([frame[0] | 0x80]) + frame[1:]


def qa_len32(frame):
    """Sets the MSB of a 4-byte LE length (intermediate, padded)."""
    return frame[:3] + bytes([frame[3] | 0x80]) + frame[4:]


def ack_abridged(token_le):
    """Server quick ack in abridged: the token's 4 bytes "bswapped"."""
    return bytes(reversed(token_le))


def ack_intermediate(token_le):
    return bytes(token_le)


def ack_padded(token_le, padding):
    body = b"\xff\xff\xff\xff" + bytes(token_le) + padding
    return struct.pack("<I", len(body)) + body


def full_raw(payload, seq, length=None, crc_xor=0):
    length = len(payload) + 12 if length is None else length
    head = struct.pack("<II", length, seq) + payload
    return head + struct.pack("<I", zlib.crc32(head) ^ crc_xor)


# ---------------------------------------------------------------- vector file helpers

def test(comment, args, expect=None, result="valid", flags=(), error=None, lax=None):
    t = {"comment": comment, "flags": list(flags), "result": result, "args": args}
    if error is not None:
        t["expect"] = {"error": error}
    elif expect is not None:
        t["expect"] = expect
    if lax is not None:
        t["lax"] = lax
    return t


def group(op, comment, tests, args=None):
    g = {"op": op, "comment": comment}
    if args:
        g["args"] = args
    g["tests"] = tests
    return g


def write(outdir, stem, title, source, spec, reqs, groups):
    tc = 1
    for g in groups:
        for t in g["tests"]:
            t["tcId"] = tc
            tc += 1
            f = features_of(g["op"], dict(g.get("args", {}), **t["args"]), t.get("expect"))
            if f:
                t["features"] = f
            t.update({k: t.pop(k) for k in ["comment", "flags", "result", "args", "expect", "lax", "features"]
                      if k in t})
    used = sorted({f for g in groups for t in g["tests"] for f in t["flags"]})
    doc = {
        "format": "mtprobe-vectors/1",
        "title": title,
        "source": source,
        "generator": GENERATOR,
        "spec": spec,
        "requirements": reqs,
        "notes": {f: NOTES[f] for f in used},
        "testGroups": groups,
    }
    path = os.path.join(outdir, stem + ".json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote %s (%d tests)" % (path, tc - 1))


def P(label, n):
    return det("payload/" + label, n)


def decoded(payloads, quick=None, acks=None):
    e = {"payloads": [hx(p) for p in payloads]}
    if quick is not None:
        e["quick_ack"] = quick
    if acks is not None:
        e["acks"] = [hx(a) for a in acks]
    return e


TOKEN = bytes.fromhex("78563492")  # a quick-ack token as computed: LE, MSB of the last byte set
TOKEN2 = bytes.fromhex("0102a3ff")


def err_payload(code):
    return struct.pack("<i", code)


# ---------------------------------------------------------------- abridged

def gen_abridged(outdir):
    p4, p8 = P("a4", 4), P("a8", 8)
    p504, p508, p512, p1028 = P("a504", 504), P("a508", 508), P("a512", 512), P("a1028", 1028)
    enc = [
        test("4 bytes with the tag: 0xef, then length/4 in one byte", {"payload": hx(p4), "first": True},
             {"data": hx(b"\xef" + abridged(p4))}),
        test("4 bytes, not the first frame: no tag", {"payload": hx(p4), "first": False}, {"data": hx(abridged(p4))}),
        test("504 bytes: 0x7e words, the largest one-byte length", {"payload": hx(p504), "first": False},
             {"data": hx(abridged(p504))}, flags=["Boundary"]),
        test("508 bytes: 0x7f words, the smallest 0x7f + 3-byte length", {"payload": hx(p508), "first": False},
             {"data": hx(abridged(p508))}, flags=["Boundary"]),
        test("512 bytes: 0x80 words", {"payload": hx(p512), "first": False}, {"data": hx(abridged(p512))}),
        test("1028 bytes: 0x101 words, 3 length bytes little-endian", {"payload": hx(p1028), "first": False},
             {"data": hx(abridged(p1028))}),
        test("quick-ack request, short form: length byte | 0x80",
             {"payload": hx(p4), "first": True, "quick_ack": True},
             {"data": hx(b"\xef" + qa_abridged(abridged(p4)))}, flags=["QuickAck", "SpecDerived"]),
        test("quick-ack request, long form: header 0xff", {"payload": hx(p508), "first": False, "quick_ack": True},
             {"data": hx(qa_abridged(abridged(p508)))}, flags=["QuickAck", "SpecDerived", "Boundary"]),
        test("server frame: no tag", {"payload": hx(p8), "sender": "server"}, {"data": hx(abridged(p8))},
             flags=["ServerStream"]),
        test("server quick-ack answer: the token's bytes reversed, no length",
             {"sender": "server", "ack": hx(TOKEN)}, {"data": hx(ack_abridged(TOKEN))},
             flags=["QuickAck", "ServerStream", "SpecDerived"]),
        test("payload of 5 bytes: abridged counts 4-byte words", {"payload": hx(P("a5", 5)), "first": False},
             result="invalid", error="transport_bad_length"),
        test("empty payload: the one-byte length 0x00 (length/4 below 127 words)", {"payload": "", "first": False},
             {"data": "00"}, result="acceptable", flags=["EmptyPayload"]),
    ]
    stream = b"\xef" + abridged(p4) + abridged(p504) + abridged(p508) + abridged(p1028)
    assert read_abridged(stream[1:]) == [p4, p504, p508, p1028]
    qa_stream = b"\xef" + qa_abridged(abridged(p4)) + qa_abridged(abridged(p508)) + abridged(p8)
    srv = abridged(p4) + ack_abridged(TOKEN) + abridged(p8) + abridged(err_payload(-404))
    assert read_abridged(abridged(p4) + abridged(p8)) == [p4, p8]
    dec = [
        test("one frame after the tag", {"data": hx(b"\xef" + abridged(p4))}, decoded([p4], [False])),
        test("four frames across both length forms", {"data": hx(stream)},
             decoded([p4, p504, p508, p1028], [False] * 4), flags=["Boundary"]),
        test("quick-ack requests in both length forms, then a plain frame", {"data": hx(qa_stream)},
             decoded([p4, p508, p8], [True, True, False]), flags=["QuickAck", "SpecDerived"]),
        test("server stream: frame, quick-ack token, frame, transport error -404",
             {"data": hx(srv), "sender": "server"},
             decoded([p4, p8, err_payload(-404)], [False, False, False], [TOKEN]),
             flags=["ServerStream", "QuickAck", "TransportError", "SpecDerived"]),
        test("only the tag: no frames", {"data": "ef"}, decoded([], [])),
        test("nothing at all", {"data": ""}, decoded([], [])),
        test("no 0xef first byte", {"data": hx(b"\xee" + abridged(p4))}, result="invalid",
             error="transport_bad_tag"),
        test("body cut short", {"data": hx((b"\xef" + abridged(p8))[:-1])}, result="invalid",
             error="transport_bad_length", flags=["Truncated"]),
        test("3-byte length cut short", {"data": "ef7f01"}, result="invalid", error="transport_bad_length",
             flags=["Truncated"]),
        test("length 0xffffff words (64 MiB - 4) with 16 bytes behind it",
             {"data": hx(b"\xef\x7f\xff\xff\xff" + P("ov", 16))}, result="invalid", error="transport_bad_length",
             flags=["Oversized"]),
        test("a frame of length 0", {"data": "ef00" + hx(abridged(p4))}, decoded([b"", p4], [False, False]),
             result="acceptable", flags=["EmptyPayload"]),
        test("0x7f form for 1 word: legal, the long form is required only from 127 words on",
             {"data": hx(b"\xef\x7f\x01\x00\x00" + p4)}, decoded([p4], [False]), flags=["LongFormShort"]),
    ]
    write(outdir, "abridged", "Abridged transport framing, generated with Telethon",
          "Telethon 1.25.1 AbridgedPacketCodec.encode_packet/read_packet for the framing; quick-ack bits and "
          "server quick-ack answers from the spec text (" + SPEC + "#abridged)",
          [SPEC + "#abridged", SPEC + "#quick-ack"], ["C-TR-28", "C-TR-29"],
          [group("transport_encode", "client and server frames", enc, {"transport": "abridged"}),
           group("transport_decode", "whole streams", dec, {"transport": "abridged"})])


# ---------------------------------------------------------------- intermediate

def gen_intermediate(outdir):
    p4, p16, p5 = P("i4", 4), P("i16", 16), P("i5", 5)
    p1024 = P("i1024", 1024)
    tag = b"\xee" * 4
    enc = [
        test("4 bytes with the tag 0xeeeeeeee", {"payload": hx(p4), "first": True},
             {"data": hx(tag + intermediate(p4))}),
        test("16 bytes, not the first frame", {"payload": hx(p16), "first": False},
             {"data": hx(intermediate(p16))}),
        test("1024 bytes", {"payload": hx(p1024), "first": False}, {"data": hx(intermediate(p1024))}),
        test("quick-ack request: length | 0x80000000", {"payload": hx(p16), "first": True, "quick_ack": True},
             {"data": hx(tag + qa_len32(intermediate(p16)))}, flags=["QuickAck", "SpecDerived"]),
        test("server frame: no tag", {"payload": hx(p16), "sender": "server"}, {"data": hx(intermediate(p16))},
             flags=["ServerStream"]),
        test("server quick-ack answer: the token as is (LE), no length", {"sender": "server", "ack": hx(TOKEN)},
             {"data": hx(ack_intermediate(TOKEN))}, flags=["QuickAck", "ServerStream", "SpecDerived"]),
        test("5 bytes: intermediate carries any length", {"payload": hx(p5), "first": False},
             {"data": hx(intermediate(p5))}),
    ]
    stream = tag + intermediate(p4) + intermediate(p1024) + intermediate(p16)
    assert read_intermediate(stream[4:]) == [p4, p1024, p16]
    qa_stream = tag + qa_len32(intermediate(p16)) + intermediate(p4)
    srv = intermediate(p16) + ack_intermediate(TOKEN) + ack_intermediate(TOKEN2) + intermediate(err_payload(-429))
    dec = [
        test("three frames after the tag", {"data": hx(stream)}, decoded([p4, p1024, p16], [False] * 3)),
        test("a quick-ack request, then a plain frame", {"data": hx(qa_stream)},
             decoded([p16, p4], [True, False]), flags=["QuickAck", "SpecDerived"]),
        test("server stream: frame, two quick-ack tokens, transport error -429",
             {"data": hx(srv), "sender": "server"},
             decoded([p16, err_payload(-429)], [False, False], [TOKEN, TOKEN2]),
             flags=["ServerStream", "QuickAck", "TransportError", "SpecDerived"]),
        test("only the tag", {"data": hx(tag)}, decoded([], [])),
        test("tag of padded intermediate", {"data": hx(b"\xdd" * 4 + intermediate(p4))}, result="invalid",
             error="transport_bad_tag"),
        test("tag with one wrong byte", {"data": hx(b"\xee\xee\xee\xef" + intermediate(p4))}, result="invalid",
             error="transport_bad_tag"),
        test("stream ends inside the tag", {"data": "eeee"}, result="invalid", error="transport_bad_tag",
             flags=["Truncated"]),
        test("length cut short", {"data": hx(tag + b"\x04\x00")}, result="invalid", error="transport_bad_length",
             flags=["Truncated"]),
        test("body cut short", {"data": hx((tag + intermediate(p16))[:-3])}, result="invalid",
             error="transport_bad_length", flags=["Truncated"]),
        test("length 0x7fffffff with 16 bytes behind it", {"data": hx(tag + b"\xff\xff\xff\x7f" + P("ov", 16))},
             result="invalid", error="transport_bad_length", flags=["Oversized"]),
        test("length 16 MiB + 4 with 16 bytes behind it", {"data": hx(tag + struct.pack("<I", (16 << 20) + 4) +
                                                                        P("ov", 16))},
             result="invalid", error="transport_bad_length", flags=["Oversized"]),
        test("a frame of length 0", {"data": hx(tag + intermediate(b"") + intermediate(p4))},
             decoded([b"", p4], [False, False]), result="acceptable", flags=["EmptyPayload"]),
        test("a 5-byte frame (not 4-aligned)", {"data": hx(tag + intermediate(p5))}, decoded([p5], [False]),
             result="acceptable", flags=["Unaligned"]),
    ]
    write(outdir, "intermediate", "Intermediate transport framing, generated with Telethon",
          "Telethon 1.25.1 IntermediatePacketCodec.encode_packet/read_packet for the framing; quick-ack bits and "
          "server quick-ack answers from the spec text (" + SPEC + "#intermediate)",
          [SPEC + "#intermediate", SPEC + "#quick-ack"], ["C-TR-28", "C-TR-29"],
          [group("transport_encode", "client and server frames", enc, {"transport": "intermediate"}),
           group("transport_decode", "whole streams", dec, {"transport": "intermediate"})])


# ---------------------------------------------------------------- padded intermediate

def gen_padded(outdir):
    p16, p32, p4 = P("d16", 16), P("d32", 32), P("d4", 4)
    tag = b"\xdd" * 4
    enc = []
    for n in (0, 1, 3, 4, 15):
        pad = det("pad/%d" % n, n)
        enc.append(test("16 bytes with %d padding bytes" % n, {"payload": hx(p16), "first": n == 0,
                                                                 "padding": hx(pad)},
                        {"data": hx((tag if n == 0 else b"") + padded(p16, pad))}, flags=["Padding"]))
    pad7 = det("pad/7", 7)
    enc += [
        test("quick-ack request: total length | 0x80000000",
             {"payload": hx(p32), "first": False, "padding": hx(pad7), "quick_ack": True},
             {"data": hx(qa_len32(padded(p32, pad7)))}, flags=["QuickAck", "Padding", "SpecDerived"]),
        test("server frame: no tag", {"payload": hx(p32), "sender": "server", "padding": hx(pad7)},
             {"data": hx(padded(p32, pad7))}, flags=["ServerStream", "Padding"]),
        test("server quick-ack answer: FFFFFFFF, token, no padding", {"sender": "server", "ack": hx(TOKEN),
                                                                      "padding": ""},
             {"data": hx(ack_padded(TOKEN, b""))}, flags=["QuickAck", "ServerStream", "SpecDerived"]),
        test("server quick-ack answer with 8 padding bytes (the most allowed)",
             {"sender": "server", "ack": hx(TOKEN), "padding": hx(det("ackpad", 8))},
             {"data": hx(ack_padded(TOKEN, det("ackpad", 8)))},
             flags=["QuickAck", "ServerStream", "Padding", "SpecDerived"]),
        test("16 padding bytes: more than 15", {"payload": hx(p16), "padding": hx(det("pad/16", 16))},
             result="invalid", error="bad_argument", flags=["Padding", "PaddingRange"]),
    ]
    f1, f2, f3 = padded(p16, b""), padded(p32, det("pad/15", 15)), padded(p4, det("pad/3", 3))
    assert read_intermediate(f1 + f2 + f3) == [p16, p32 + det("pad/15", 15), p4 + det("pad/3", 3)]
    srv = (padded(p32, pad7) + ack_padded(TOKEN, det("ackpad", 5)) +
           padded(err_payload(-444), det("pad/3", 3)) + ack_padded(TOKEN2, b""))
    dec = [
        test("three frames: each payload comes back with its padding (the transport cannot tell them apart)",
             {"data": hx(tag + f1 + f2 + f3)},
             decoded([p16, p32 + det("pad/15", 15), p4 + det("pad/3", 3)], [False] * 3), flags=["Padding"]),
        test("a quick-ack request", {"data": hx(tag + qa_len32(padded(p32, pad7)))},
             decoded([p32 + pad7], [True]), flags=["QuickAck", "SpecDerived"]),
        test("server stream: frame, quick-ack token (5 padding bytes), transport error -444, token",
             {"data": hx(srv), "sender": "server"},
             decoded([p32 + pad7, err_payload(-444) + det("pad/3", 3)], [False, False], [TOKEN, TOKEN2]),
             flags=["ServerStream", "QuickAck", "TransportError", "Padding", "SpecDerived"]),
        test("intermediate's tag", {"data": hx(b"\xee" * 4 + f1)}, result="invalid", error="transport_bad_tag"),
        test("body cut short", {"data": hx((tag + f2)[:-1])}, result="invalid", error="transport_bad_length",
             flags=["Truncated"]),
        test("length 0x7fffffff with 16 bytes behind it", {"data": hx(tag + b"\xff\xff\xff\x7f" + P("ov", 16))},
             result="invalid", error="transport_bad_length", flags=["Oversized"]),
        test("server length with the MSB set (padded servers frame their quick acks)",
             {"data": hx(b"\x10\x00\x00\x80" + P("ov", 16)), "sender": "server"}, result="invalid",
             error="transport_bad_length", flags=["ServerStream", "SpecDerived", "AckFraming"]),
    ]
    write(outdir, "padded", "Padded intermediate transport framing, generated with Telethon",
          "Telethon 1.25.1 RandomizedIntermediatePacketCodec.encode_packet with random.randint/os.urandom patched "
          "to the vector's padding, IntermediatePacketCodec.read_packet for what a frame carries; quick acks from "
          "the spec text (" + SPEC + "#padded-intermediate).  Decoded payloads include the padding: "
          "the transport cannot strip it (Telethon's own read_packet strips len % 4, which assumes at most 3 "
          "padding bytes, while the spec allows 15)",
          [SPEC + "#padded-intermediate", SPEC + "#quick-ack"], ["C-TR-28", "C-TR-29"],
          [group("transport_encode", "client and server frames", enc, {"transport": "padded"}),
           group("transport_decode", "whole streams", dec, {"transport": "padded"})])


# ---------------------------------------------------------------- full

def gen_full(outdir):
    p4, p16, p1028, p13 = P("f4", 4), P("f16", 16), P("f1028", 1028), P("f13", 13)
    enc = [
        test("seq 0: length counts itself, seq and crc", {"payload": hx(p16), "seq": 0, "first": True},
             {"data": hx(full(p16, 0))}),
        test("seq 1", {"payload": hx(p4), "seq": 1}, {"data": hx(full(p4, 1))}),
        test("seq 2, 1028 bytes", {"payload": hx(p1028), "seq": 2}, {"data": hx(full(p1028, 2))}),
        test("seq 0x7fffffff", {"payload": hx(p4), "seq": 0x7fffffff}, {"data": hx(full(p4, 0x7fffffff))}),
        test("server frame", {"payload": hx(p16), "seq": 0, "sender": "server"}, {"data": hx(full(p16, 0))},
             flags=["ServerStream"]),
        test("empty payload: a bare 12-byte envelope", {"payload": "", "seq": 0}, {"data": hx(full(b"", 0))},
             result="acceptable", flags=["EmptyPayload"]),
    ]
    stream = full(p16, 0) + full(p4, 1) + full(p1028, 2)
    assert read_full(stream) == [p16, p4, p1028]
    bad_crc = full(p16, 0)[:-1] + bytes([full(p16, 0)[-1] ^ 1])
    flipped = bytearray(full(p16, 0))
    flipped[10] ^= 0x40
    for broken in (bad_crc, bytes(flipped)):
        try:
            read_full(broken)
            raise AssertionError("Telethon accepted a bad CRC")
        except InvalidChecksumError:
            pass
    dec = [
        test("three frames, seq 0, 1, 2", {"data": hx(stream)}, decoded([p16, p4, p1028], [False] * 3)),
        test("server stream with a transport error -404", {"data": hx(full(p16, 0) + full(err_payload(-404), 1)),
                                                            "sender": "server"},
             decoded([p16, err_payload(-404)]), flags=["ServerStream", "TransportError"]),
        test("nothing at all", {"data": ""}, decoded([], [])),
        test("CRC with one bit flipped", {"data": hx(bad_crc)}, result="invalid", error="transport_bad_crc",
             flags=["CrcCheck"]),
        test("payload with one bit flipped", {"data": hx(bytes(flipped))}, result="invalid",
             error="transport_bad_crc", flags=["CrcCheck"]),
        test("second frame's CRC broken", {"data": hx(full(p16, 0) + full_raw(p4, 1, crc_xor=0x80000000))},
             result="invalid", error="transport_bad_crc", flags=["CrcCheck"]),
        test("first frame numbered 1 (valid CRC)", {"data": hx(full_raw(p16, 1))}, result="invalid",
             error="transport_bad_seq", flags=["SpecDerived", "SeqCheck"]),
        test("seq 0 twice", {"data": hx(full(p16, 0) + full(p4, 0))}, result="invalid", error="transport_bad_seq",
             flags=["SpecDerived", "SeqCheck"]),
        test("seq 0, 2: one skipped", {"data": hx(full(p16, 0) + full(p4, 2))}, result="invalid",
             error="transport_bad_seq", flags=["SpecDerived", "SeqCheck"]),
        test("length 8: below the 12-byte envelope", {"data": hx(struct.pack("<II", 8, 0) + P("ov", 8))},
             result="invalid", error="transport_bad_length"),
        test("header cut short", {"data": hx(full(p16, 0)[:6])}, result="invalid", error="transport_bad_length",
             flags=["Truncated"]),
        test("crc cut short", {"data": hx(full(p16, 0)[:-2])}, result="invalid", error="transport_bad_length",
             flags=["Truncated"]),
        test("length 0x7fffffff with 16 bytes behind it",
             {"data": hx(struct.pack("<II", 0x7fffffff, 0) + P("ov", 16))}, result="invalid",
             error="transport_bad_length", flags=["Oversized"]),
        test("a bare 12-byte envelope (empty payload)", {"data": hx(full(b"", 0) + full(p4, 1))},
             decoded([b"", p4]), result="acceptable", flags=["EmptyPayload"]),
        test("a 13-byte payload (not 4-aligned)", {"data": hx(full(p13, 0))}, decoded([p13]),
             result="acceptable", flags=["Unaligned"]),
    ]
    write(outdir, "full", "Full transport framing, generated with Telethon",
          "Telethon 1.25.1 FullPacketCodec.encode_packet (with _send_counter set to seq) and read_packet, which "
          "raises InvalidChecksumError on the bad-CRC cases; Telethon does not check sequence numbers, those "
          "expectations follow the spec text (" + SPEC + "#full)",
          [SPEC + "#full"], ["C-TR-28"],
          [group("transport_encode", "frames", enc, {"transport": "full"}),
           group("transport_decode", "whole streams", dec, {"transport": "full"})])


# ---------------------------------------------------------------- transport errors

def gen_errors(outdir):
    tests_enc, tests_dec = [], []
    for code, what in ((-404, "auth key not found"), (-429, "transport flood"), (-444, "invalid DC")):
        e = err_payload(code)
        tests_enc += [
            test("abridged server frame carrying %d (%s)" % (code, what),
                 {"transport": "abridged", "payload": hx(e), "sender": "server"}, {"data": hx(abridged(e))},
                 flags=["TransportError", "ServerStream"]),
            test("intermediate server frame carrying %d" % code,
                 {"transport": "intermediate", "payload": hx(e), "sender": "server"}, {"data": hx(intermediate(e))},
                 flags=["TransportError", "ServerStream"]),
            test("full server frame carrying %d" % code,
                 {"transport": "full", "payload": hx(e), "sender": "server", "seq": 0}, {"data": hx(full(e, 0))},
                 flags=["TransportError", "ServerStream"]),
        ]
        assert read_abridged(abridged(e)) == [e] and read_intermediate(intermediate(e)) == [e]
        assert read_full(full(e, 0)) == [e]
        tests_dec += [
            test("abridged: %d" % code, {"transport": "abridged", "data": hx(abridged(e)), "sender": "server"},
                 decoded([e]), flags=["TransportError", "ServerStream"]),
            test("intermediate: %d" % code,
                 {"transport": "intermediate", "data": hx(intermediate(e)), "sender": "server"},
                 decoded([e]), flags=["TransportError", "ServerStream"]),
            test("padded, 2 padding bytes: %d" % code,
                 {"transport": "padded", "data": hx(padded(e, det("epad", 2))), "sender": "server"},
                 decoded([e + det("epad", 2)]), flags=["TransportError", "ServerStream", "Padding"]),
            test("full: %d" % code, {"transport": "full", "data": hx(full(e, 0)), "sender": "server"},
                 decoded([e]), flags=["TransportError", "ServerStream"]),
        ]
    write(outdir, "transport_errors", "Transport error frames (-404, -429, -444), generated with Telethon",
          "Frame bytes from Telethon 1.25.1's packet codecs around a signed LE int32 payload; the codes and their "
          "meaning from " + SPEC + "#transport-errors",
          [SPEC + "#transport-errors"], ["C-TR-29"],
          [group("transport_encode", "a server frames an error code", tests_enc),
           group("transport_decode", "a client receives an error code", tests_dec)])


# ---------------------------------------------------------------- obfuscation

TAGS = {"abridged": (b"\xef" * 4, AbridgedPacketCodec), "intermediate": (b"\xee" * 4, IntermediatePacketCodec),
        "padded": (b"\xdd" * 4, RandomizedIntermediatePacketCodec)}


def make_init(label, tag, dc_bytes=None):
    b = bytearray(det("init/" + label, 64))
    # Keep clear of every forbidden prefix so Telethon's own loop accepts the bytes at once.
    b[0] = 0x42
    b[56:60] = tag
    if dc_bytes is not None:
        b[60:62] = dc_bytes
    return bytes(b)


def once(value):
    calls = []

    def f(n):
        assert n == 64 and not calls, "Telethon asked for another init: it rejected ours"
        calls.append(n)
        return value
    return f


def expected_keys(init, secret16):
    def k(b):
        return hashlib.sha256(b + secret16).digest() if secret16 else b
    rev = init[55:7:-1]
    return k(init[8:40]), init[40:56], k(rev[:32]), rev[32:48]


def check_against(cipher, key, iv, skip, label):
    """Proves a Telethon cipher object runs under key/iv after skip bytes."""
    probe = det("probe/" + label, 48)
    mine = AESModeCTR(key, iv)
    mine.encrypt(bytes(skip))
    assert cipher.encrypt(probe) == mine.encrypt(probe), label


def obfs_case(label, transport, secret=None, dc=None, next_len=20):
    tag, codec = TAGS[transport]
    dc_bytes = struct.pack("<h", dc) if dc is not None else None
    init = make_init(label, tag, dc_bytes)
    secret16 = None
    if secret is None:
        with mock.patch.object(tcpobfuscated.os, "urandom", side_effect=once(init)):
            wire, enc, dec = tcpobfuscated.ObfuscatedIO.init_header(codec)
    else:
        # Telethon knows 16-byte and 0xdd 17-byte secrets; an 0xee secret is reduced to its 16 bytes here, the
        # reduction being what the spec and MTProxy prescribe for the obfuscation part of fake-TLS.
        telethon_secret = secret[1:17] if secret[0] == 0xee and len(secret) > 17 else secret
        secret16 = secret[1:17] if len(secret) > 16 else secret
        with mock.patch.object(tcpmtproxy.os, "urandom", side_effect=once(init)):
            wire, enc, dec = tcpmtproxy.MTProxyIO.init_header(telethon_secret, dc if dc is not None else 0, codec)
    wire = bytes(wire)
    ek, ei, dk, di = expected_keys(init, secret16)
    nxt = det("next/" + label, next_len)
    # Telethon's encryptor has run over the 64 init bytes; its decryptor is fresh.
    client_next = enc.encrypt(nxt)
    server_next = dec.encrypt(nxt)
    check_against(enc, ek, ei, 64 + next_len, label + "/enc")
    check_against(dec, dk, di, next_len, label + "/dec")
    dcv = struct.unpack("<h", init[60:62])[0]
    base = {"init": hx(init), "next_plain": hx(nxt)}
    if secret is not None:
        base["secret"] = hx(secret)
    flags = ["MTProxy", "SecretKeys"] if secret is not None else []
    client = test("%s, sender client" % label, dict(base, sender="client"),
                  {"wire": hx(wire), "enc_key": hx(ek), "enc_iv": hx(ei), "dec_key": hx(dk), "dec_iv": hx(di),
                   "tag": hx(tag), "dc": dcv, "next_wire": hx(client_next)}, flags=flags)
    server = test("%s, sender server (mirror keys)" % label, dict(base, sender="server"),
                  {"wire": hx(wire), "enc_key": hx(dk), "enc_iv": hx(di), "dec_key": hx(ek), "dec_iv": hx(ei),
                   "tag": hx(tag), "dc": dcv, "next_wire": hx(server_next)}, flags=flags + ["Mirror"])
    return client, server, wire, init


def gen_obfuscated(outdir):
    plain, proxy, bad = [], [], []
    wires = {}
    for t in ("abridged", "intermediate", "padded"):
        c, s, w, _ = obfs_case("plain-" + t, t)
        plain += [c, s]
        wires["plain-" + t] = w
    s16 = det("secret16", 16)
    cases = [
        ("secret16-intermediate-dc2", "intermediate", s16, 2),
        ("secret16-abridged-media-dc-2", "abridged", s16, -2),
        ("secret16-intermediate-test-dc10002", "intermediate", s16, 10002),
        ("secretdd-padded-dc4", "padded", b"\xdd" + det("secretdd", 16), 4),
        ("spec-example-secret-dd99-media-dc-4", "padded", bytes.fromhex("dd" + "99" * 16), -4),
        ("secretee-padded-dc1", "padded", b"\xee" + det("secretee", 16) + b"example.com", 1),
        ("secretee-intermediate-dc-5", "intermediate", b"\xee" + det("secretee", 16) + b"example.com", -5),
    ]
    for label, t, sec, dc in cases:
        c, s, w, _ = obfs_case(label, t, sec, dc)
        if t != "padded" and len(sec) > 16:
            # The secret's extra byte asks the client for padded intermediate ("should"): refusing the tag is the
            # strict answer, the keys the lax one; the receiving end may go either way.
            c.update(comment=label + ", sender client: the client should use padded intermediate with this secret",
                     flags=["MTProxy", "SecretTransport"], result="invalid", lax=c["expect"],
                     expect={"error": "obfs_bad_tag"})
            s.update(comment=label + ", sender server (mirror keys): it may refuse or accept the tag",
                     flags=["MTProxy", "Mirror", "SecretTransportServer"], result="acceptable")
        proxy += [c, s]
        wires[label] = (w, sec)
    good = make_init("forbidden-base", b"\xee" * 4)
    forbidden = [
        ("first byte 0xef (abridged)", b"\xef" + good[1:]),
        ("first int HEAD", b"HEAD" + good[4:]),
        ("first int POST", b"POST" + good[4:]),
        ("first int 'GET '", b"GET " + good[4:]),
        ("first int OPTI", b"OPTI" + good[4:]),
        ("first int 0xdddddddd (padded)", b"\xdd" * 4 + good[4:]),
        ("first int 0xeeeeeeee (intermediate)", b"\xee" * 4 + good[4:]),
        ("first int 0x02010316 (TLS ClientHello)", b"\x16\x03\x01\x02" + good[4:]),
        ("bytes 4..7 zero (full, seq 0)", good[:4] + b"\0\0\0\0" + good[8:]),
    ]
    for what, init in forbidden:
        for sender in ("client", "server"):
            flags = ["ForbiddenPrefix", "SpecDerived"] + (["TlsPrefix"] if init[:4] == b"\x16\x03\x01\x02" else [])
            bad.append(test("%s, sender %s" % (what, sender), {"init": hx(init), "sender": sender},
                            result="invalid", error="obfs_bad_init",
                            flags=flags + (["ReceiverPrefix"] if sender == "server" else [])))
    badtag = make_init("badtag", b"\x01\x02\x03\x04")
    for sender in ("client", "server"):
        bad.append(test("protocol tag 0x04030201, sender %s" % sender, {"init": hx(badtag), "sender": sender},
                        result="invalid", error="obfs_bad_tag"))
        bad.append(test("full has no protocol tag (0x00000000), sender %s" % sender,
                        {"init": hx(make_init("badtag0", b"\0\0\0\0")), "sender": sender},
                        result="invalid", error="obfs_bad_tag"))
    dd_init = make_init("dd-with-intermediate", b"\xee" * 4)
    try:
        tcpmtproxy.MTProxyIO.init_header(b"\xdd" + det("secretdd", 16), 2, IntermediatePacketCodec)
        raise AssertionError("Telethon accepted intermediate with a dd secret")
    except ValueError:
        pass
    # The keys of an implementation that lets the tag through: the spec's derivation with the 16 secret bytes.
    ek, ei, dk, di = expected_keys(dd_init, det("secretdd", 16))
    dd_wire = dd_init[:56] + AESModeCTR(ek, ei).encrypt(dd_init)[56:64]
    dd_dc = struct.unpack("<h", dd_init[60:62])[0]
    bad.append(test("0xdd secret with the intermediate tag, sender client: the client should use padded "
                    "intermediate with this secret",
                    {"init": hx(dd_init), "sender": "client", "secret": hx(b"\xdd" + det("secretdd", 16))},
                    result="invalid", error="obfs_bad_tag", flags=["MTProxy", "SecretTransport"],
                    lax={"wire": hx(dd_wire), "enc_key": hx(ek), "enc_iv": hx(ei), "dec_key": hx(dk),
                         "dec_iv": hx(di), "tag": "eeeeeeee", "dc": dd_dc}))
    bad.append(test("0xdd secret with the intermediate tag, sender server: it may refuse or accept the tag",
                    {"init": hx(dd_init), "sender": "server", "secret": hx(b"\xdd" + det("secretdd", 16))},
                    {"wire": hx(dd_wire), "enc_key": hx(dk), "enc_iv": hx(di), "dec_key": hx(ek), "dec_iv": hx(ei),
                     "tag": "eeeeeeee", "dc": dd_dc},
                    result="acceptable", flags=["MTProxy", "SecretTransportServer"]))
    write(outdir, "obfuscated", "Obfuscated2 init and key derivation, generated with Telethon",
          "Telethon 1.25.1 ObfuscatedIO.init_header (no secret) and MTProxyIO.init_header (16-byte and 0xdd "
          "secrets) with os.urandom patched to return the vector's init; the keys are the spec's (init[8:40], "
          "init[40:56], the same from the reversed init, SHA256(key || secret)) and are checked against the "
          "keystreams of Telethon's own cipher objects.  0xee secrets are fed to MTProxyIO as their 16 secret "
          "bytes.  The keys of the 0xdd secret with the intermediate tag (which Telethon refuses) are the spec's "
          "derivation, the wire bytes Telethon's AESModeCTR over the init.  Forbidden prefixes follow the spec's list (Telethon 1.25.1 only avoids 0xef, 'PVrG', "
          "'GET ', 'POST' and 0xeeeeeeee, and MTProxyIO does not check bytes 4..7 at all)",
          [SPEC + "#transport-obfuscation"], ["C-TR-30"],
          [group("obfuscated_init", "no secret: each protocol tag", plain),
           group("obfuscated_init", "MTProxy secrets and DC ids (test DCs +10000, media DCs negative)", proxy),
           group("obfuscated_init", "rejected inits", bad)])
    return wires


# ---------------------------------------------------------------- detection

def gen_detect(outdir, wires):
    p16 = P("det16", 16)
    t = [
        test("0xef: abridged", {"data": "ef" + hx(abridged(p16))},
             {"envelope": "plain", "transport": "abridged", "header_len": 1}),
        test("0xeeeeeeee: intermediate", {"data": "eeeeeeee" + hx(intermediate(p16))},
             {"envelope": "plain", "transport": "intermediate", "header_len": 4}),
        test("0xdddddddd: padded", {"data": "dddddddd" + hx(padded(p16, b""))},
             {"envelope": "plain", "transport": "padded", "header_len": 4}),
        test("length, then seq 0: full", {"data": hx(full(p16, 0))},
             {"envelope": "plain", "transport": "full", "header_len": 0}),
        test("HTTP POST", {"data": hx(b"POST /api HTTP/1.1\r\n")}, {"envelope": "http"}),
        test("HTTP GET", {"data": hx(b"GET / HTTP/1.1\r\n")}, {"envelope": "http"}),
        test("HTTP HEAD", {"data": hx(b"HEAD / HTTP/1.1\r\n")}, {"envelope": "http"}),
        test("HTTP OPTIONS", {"data": hx(b"OPTIONS / HTTP/1.1\r\n")}, {"envelope": "http"}),
        test("TLS ClientHello (MTProxy fake-TLS)", {"data": "1603010200010001fc0303" + hx(det("tls", 32))},
             {"envelope": "tls"}),
    ]
    for label in ("plain-abridged", "plain-intermediate", "plain-padded"):
        kind = label.split("-")[1]
        t.append(test("obfuscated init carrying %s" % kind, {"data": hx(wires[label])},
                      {"envelope": "obfuscated2", "transport": kind, "header_len": 64}))
    w, sec = wires["secretdd-padded-dc4"]
    t.append(test("obfuscated init with a 0xdd MTProxy secret, DC 4", {"data": hx(w), "secret": hx(sec)},
                  {"envelope": "obfuscated2", "transport": "padded", "header_len": 64, "dc": 4}, flags=["MTProxy"]))
    w, sec = wires["secret16-abridged-media-dc-2"]
    t.append(test("obfuscated init for media DC -2", {"data": hx(w), "secret": hx(sec)},
                  {"envelope": "obfuscated2", "transport": "abridged", "header_len": 64, "dc": -2},
                  flags=["MTProxy"]))
    t.append(test("obfuscated init read without its MTProxy secret: the tag does not decrypt",
                  {"data": hx(w)}, result="invalid", error="obfs_bad_tag", flags=["MTProxy", "WrongSecret"]))
    for data, what in (("ee", "one byte of a possible tag"), ("eeeeee", "three bytes of a possible tag"),
                       ("01000000", "a first int only"), ("0100000002000000", "8 bytes that are not full's"),
                       (hx(wires["plain-padded"][:63]), "63 bytes of an obfuscated init")):
        t.append(test("%s: undecided" % what, {"data": data}, result="invalid", error="need_more"))
    write(outdir, "detect", "Server-side transport detection",
          "The detection rule implied by " + SPEC + " (the server tells the transports apart by the header; the "
          "obfuscation section lists the prefixes a random init must avoid).  Obfuscated inits are the Telethon "
          "1.25.1 ones of obfuscated.json.  The op transport_detect is an mtprobe extension",
          [SPEC, SPEC + "#transport-obfuscation"], ["C-TR-28", "C-TR-30"],
          [group("transport_detect", "first bytes of a connection", t)])


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                               "transport")
    os.makedirs(outdir, exist_ok=True)
    gen_abridged(outdir)
    gen_intermediate(outdir)
    gen_padded(outdir)
    gen_full(outdir)
    gen_errors(outdir)
    wires = gen_obfuscated(outdir)
    gen_detect(outdir, wires)


if __name__ == "__main__":
    main()
