#!/usr/bin/python3
"""Throwaway scripted MTProto server for checking the adapters before mtprobe's C mock DC exists.

NOT a conformance tool and not an MTProto server to build on: it serves one connection at a time,
follows one fixed script, and checks only what the adapter selftest needs. Needs python3-cryptography
(Debian) for AES and nothing else.

Modes (--mode):
  close    record the first bytes and the first frame, then close the connection
  silent   record, then keep the connection open without answering
  respq    answer req_pq_multi with resPQ naming the key's fingerprint, decrypt req_DH_params with
           the private key, record what the client used (RSA scheme, inner data), then close
  full     complete the auth-key exchange, then serve encrypted messages: bad_server_salt for a
           wrong salt, new_session_created for a new session, msgs_ack for the client's requests,
           pong for ping, rpc_result(nearestDc) for help.getNearestDc inside
           invokeWithLayer/initConnection, rpc_error for anything else
  badhash  as full, but the first dh_gen_ok carries a wrong new_nonce_hash1 (and no msgs_ack)
  err404   answer req_pq_multi with the 4-byte transport error -404

Every event goes to --events (JSON lines) so the selftest driver can check it.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import socket
import struct
import threading
import time
import zlib

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# The 2048-bit safe prime from https://core.telegram.org/mtproto/auth_key (g = 3 is what the
# production servers send with it).
DH_PRIME = int(
    "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d225"
    "30f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f1"
    "8faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907"
    "e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc46"
    "5b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8"
    "115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b", 16)
DH_G = 3
PQ = 0x17ED48941A08F981  # 1229739323 * 1402015859, the example from the auth_key page

C = {  # constructors used here
    "req_pq_multi": 0xBE7E8EF1, "req_pq": 0x60469778, "resPQ": 0x05162463,
    "req_DH_params": 0xD712E4BE, "server_DH_params_ok": 0xD0E8075C,
    "server_DH_inner_data": 0xB5890DBA, "set_client_DH_params": 0xF5045F1F,
    "client_DH_inner_data": 0x6643B654, "dh_gen_ok": 0x3BCBF734,
    "p_q_inner_data": 0x83C95AEC, "p_q_inner_data_dc": 0xA9F55F95,
    "p_q_inner_data_temp": 0x3C6A84D4, "p_q_inner_data_temp_dc": 0x56FDDF88,
    "vector": 0x1CB5C415, "msg_container": 0x73F1F8DC, "msgs_ack": 0x62D6B459,
    "ping": 0x7ABE77EC, "ping_delay_disconnect": 0xF3427B8C, "pong": 0x347773C5,
    "bad_server_salt": 0xEDAB447B, "new_session_created": 0x9EC20908,
    "rpc_result": 0xF35C6D01, "rpc_error": 0x2144CA19, "invokeWithLayer": 0xDA9B0D0D,
    "initConnection": 0xC1CD5EA9, "help.getNearestDc": 0x1FB33026, "help.getConfig": 0xC4F9186B,
    "nearestDc": 0x8E1A1775, "gzip_packed": 0x3072CFA1,
}
NAMES = {v: k for k, v in C.items()}


# ---- small helpers ---------------------------------------------------------------------------

def tl_bytes(b):
    out = bytes([len(b)]) + b if len(b) < 254 else b"\xfe" + len(b).to_bytes(3, "little") + b
    return out + b"\0" * (-len(out) % 4)


def be(i, size=None):
    return i.to_bytes(size or (i.bit_length() + 7) // 8, "big")


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, n):
        if self.p + n > len(self.d):
            raise ValueError("short read: need %d at %d of %d" % (n, self.p, len(self.d)))
        out = self.d[self.p:self.p + n]
        self.p += n
        return out

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def i64(self):
        return struct.unpack("<q", self.take(8))[0]

    def bytes_(self):
        n = self.take(1)[0]
        head = 1
        if n == 254:
            n = int.from_bytes(self.take(3), "little")
            head = 4
        out = self.take(n)
        self.take(-(head + n) % 4)
        return out


def aes_ige(key, iv, data, encrypt):
    ecb = Cipher(algorithms.AES(key), modes.ECB())
    op = ecb.encryptor() if encrypt else ecb.decryptor()
    iv1, iv2 = iv[:16], iv[16:]

    def xor(a, b):
        return bytes(x ^ y for x, y in zip(a, b))

    out = bytearray()
    for i in range(0, len(data), 16):
        blk = data[i:i + 16]
        if encrypt:
            y = xor(op.update(xor(blk, iv1)), iv2)
            iv1, iv2 = y, blk
        else:
            y = xor(op.update(xor(blk, iv2)), iv1)
            iv1, iv2 = blk, y
        out += y
    return bytes(out)


def load_private_key(path):
    """n, e, d from a PEM RSA private key (PKCS#1 or PKCS#8)."""
    data = open(path, "rb").read()
    m = re.search(rb"-----BEGIN ([A-Z ]+)-----(.*?)-----END", data, re.S)
    der = base64.b64decode(b"".join(m.group(2).split()))

    def items(buf):
        pos, out = 0, []
        while pos < len(buf):
            tag, ln = buf[pos], buf[pos + 1]
            pos += 2
            if ln & 0x80:
                nb = ln & 0x7F
                ln = int.from_bytes(buf[pos:pos + nb], "big")
                pos += nb
            out.append((tag, buf[pos:pos + ln]))
            pos += ln
        return out

    seq = items(items(der)[0][1])
    if seq[1][0] == 0x30:  # PKCS#8: version, algorithm, OCTET STRING(RSAPrivateKey)
        seq = items(items(seq[2][1])[0][1])
    n, e, d = (int.from_bytes(seq[i][1], "big") for i in (1, 2, 3))
    return n, e, d


def fingerprint(n, e):
    return hashlib.sha1(tl_bytes(be(n)) + tl_bytes(be(e))).digest()[12:20]


# ---- transports (server side) ----------------------------------------------------------------

class Stream:
    """Reads exactly n bytes from the socket, through the obfuscation layer once it is set up."""

    def __init__(self, sock, record):
        self.sock, self.record, self.dec = sock, record, None
        self.buf = b""

    def raw(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("client closed the connection")
            self.record(chunk)
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read(self, n):
        data = self.raw(n)
        return self.dec.update(data) if self.dec else data


class Transport:
    def __init__(self, sock, record, secret=None):
        self.sock, self.s = sock, Stream(sock, record)
        self.kind, self.obfuscated, self.enc, self.seq_out, self.info = None, False, None, 0, {}
        self.pending = None
        self.secret = secret
        first = self.s.raw(1)
        if first == b"\xef":
            self.kind = "abridged"
            return
        rest3 = self.s.raw(3)
        head = first + rest3
        if head == b"\xee" * 4:
            self.kind = "intermediate"
        elif head == b"\xdd" * 4:
            self.kind = "padded"
        else:
            nxt = self.s.raw(4)
            if nxt == b"\0\0\0\0" and 12 < struct.unpack("<I", head)[0] < 1 << 20:
                self.kind = "full"
                self.pending = head + nxt
            else:
                self.obfuscated = True
                self._obfs(head + nxt + self.s.raw(56))

    def _obfs(self, init):
        def key(k):
            return hashlib.sha256(k + self.secret).digest() if self.secret else k

        rev = init[8:56][::-1]
        dec = Cipher(algorithms.AES(key(init[8:40])), modes.CTR(init[40:56])).encryptor()
        plain = dec.update(init)
        self.enc = Cipher(algorithms.AES(key(rev[:32])), modes.CTR(rev[32:48])).encryptor()
        self.s.dec = dec
        tag = plain[56:60]
        self.kind = {b"\xef" * 4: "abridged", b"\xee" * 4: "intermediate",
                     b"\xdd" * 4: "padded"}.get(tag, "unknown:" + tag.hex())
        self.info = {"obfs_tag": tag.hex(), "obfs_dc": struct.unpack("<h", plain[60:62])[0],
                     "obfs_init_first4": init[:4].hex(), "obfs_init_4_8": init[4:8].hex()}

    def recv(self):
        s = self.s
        if self.kind == "abridged":
            n = s.read(1)[0]
            if n >= 0x7F:
                n = int.from_bytes(s.read(3), "little")
            return s.read(n * 4)
        if self.kind in ("intermediate", "padded"):
            n = struct.unpack("<I", s.read(4))[0]
            data = s.read(n)
            # Padded: unencrypted messages state their length, encrypted ones are 16-aligned
            # after the 24-byte header, so the random tail can be cut here.
            if self.kind == "padded":
                if data[:8] == b"\0" * 8:
                    data = data[:20 + struct.unpack("<I", data[16:20])[0]]
                else:
                    data = data[:24 + (len(data) - 24) // 16 * 16]
            return data
        if self.kind == "full":
            head = self.pending if self.pending else s.read(8)
            self.pending = None
            n, seq = struct.unpack("<Ii", head)
            rest = s.read(n - 8)
            if zlib.crc32(head + rest[:-4]) != struct.unpack("<I", rest[-4:])[0]:
                raise ValueError("full transport: bad crc")
            return rest[:-4]
        raise ValueError("unknown transport " + str(self.kind))

    def send(self, payload):
        if self.kind == "abridged":
            n = len(payload) // 4
            frame = (bytes([n]) if n < 0x7F else b"\x7f" + n.to_bytes(3, "little")) + payload
        elif self.kind in ("intermediate", "padded"):
            frame = struct.pack("<I", len(payload)) + payload
        else:
            head = struct.pack("<Ii", len(payload) + 12, self.seq_out) + payload
            frame = head + struct.pack("<I", zlib.crc32(head))
            self.seq_out += 1
        self.sock.sendall(self.enc.update(frame) if self.enc else frame)


# ---- the script ------------------------------------------------------------------------------

class MsgIds:
    def __init__(self):
        self.last = 0

    def next(self, response):
        mid = (int(time.time()) << 32) | (int(time.time() * 1e6) % 1000000 << 2)
        mid = max(mid, self.last + 4)
        mid = (mid & ~3) | (1 if response else 3)
        self.last = mid
        return mid


def plain_msg(ids, body):
    return b"\0" * 8 + struct.pack("<qI", ids.next(True), len(body)) + body


def parse_plain(payload):
    r = Reader(payload)
    if r.take(8) != b"\0" * 8:
        raise ValueError("expected an unencrypted message")
    msg_id = r.i64()
    n = r.u32()
    body = r.take(n)
    return msg_id, body


def decrypt_inner(priv, blob):
    """Undo RSA_PAD or the older sha1+data+padding scheme; return (scheme, inner bytes)."""
    n, e, d = priv
    m = be(pow(int.from_bytes(blob, "big"), d, n), 256)
    # RSA_PAD: temp_key_xor(32) || aes_encrypted(224)
    temp_key = bytes(a ^ b for a, b in zip(m[:32], hashlib.sha256(m[32:]).digest()))
    dwh = aes_ige(temp_key, b"\0" * 32, m[32:], False)
    padded = dwh[:192][::-1]
    if hashlib.sha256(temp_key + padded).digest() == dwh[192:]:
        return "RSA_PAD", padded
    # Old scheme: 0x00? || sha1(data) || data || random, 255 bytes inside the 256-byte block.
    return "old", m[1:]


def parse_inner(scheme, data):
    r = Reader(data if scheme == "RSA_PAD" else data[20:])
    cons = r.u32()
    out = {"constructor": "%08x" % cons, "name": NAMES.get(cons, "unknown")}
    out["pq"], out["p"], out["q"] = r.bytes_().hex(), r.bytes_().hex(), r.bytes_().hex()
    out["nonce"], out["server_nonce"], out["new_nonce"] = r.take(16), r.take(16), r.take(32)
    if cons in (C["p_q_inner_data_dc"], C["p_q_inner_data_temp_dc"]):
        out["dc"] = struct.unpack("<i", r.take(4))[0]
    if cons in (C["p_q_inner_data_temp"], C["p_q_inner_data_temp_dc"]):
        out["expires_in"] = struct.unpack("<i", r.take(4))[0]
    if scheme == "old":
        out["sha1_ok"] = hashlib.sha1(data[20:20 + r.p]).digest() == data[:20]
    return out


def kdf(auth_key, msg_key, x):
    a = hashlib.sha256(msg_key + auth_key[x:x + 36]).digest()
    b = hashlib.sha256(auth_key[40 + x:76 + x] + msg_key).digest()
    return a[:8] + b[8:24] + a[24:32], b[:8] + a[8:24] + b[24:32]


class Session:
    def __init__(self, t, ev, priv, mode, dump_first_bytes):
        self.t, self.ev, self.priv, self.mode = t, ev, priv, mode
        self.dump_first_bytes = dump_first_bytes
        self.ids = MsgIds()
        self.seq = 0
        self.sessions = set()
        self.sent = {}  # msg_id -> constructor name, to name what the client acknowledges
        self.exchanges = 0

    def run(self):
        t, ev = self.t, self.ev
        payload = t.recv()
        ev("first_frame", transport=t.kind, obfuscated=t.obfuscated, payload=payload.hex(), **t.info)
        if self.mode == "silent":
            self.dump_first_bytes()
            time.sleep(3600)
        if self.mode == "close":
            return
        if self.mode == "err404":
            self.t.send(struct.pack("<i", -404))  # a transport error instead of resPQ
            time.sleep(2)
            return
        auth_key = self.handshake(payload)
        if auth_key is None:
            return
        while True:
            self.encrypted(auth_key, t.recv())

    def handshake(self, payload):
        t, ev, (n, e, _) = self.t, self.ev, self.priv
        while True:  # a client may start over on the same connection
            _, body = parse_plain(payload)
            r = Reader(body)
            cons = r.u32()
            ev("auth_recv", name=NAMES.get(cons, "%08x" % cons))
            if cons not in (C["req_pq_multi"], C["req_pq"]):
                raise ValueError("expected req_pq_multi, got %08x" % cons)
            nonce, server_nonce = r.take(16), os.urandom(16)
            t.send(plain_msg(self.ids, struct.pack("<I", C["resPQ"]) + nonce + server_nonce
                             + tl_bytes(be(PQ)) + struct.pack("<II", C["vector"], 1)
                             + fingerprint(n, e)))
            _, body = parse_plain(t.recv())
            r = Reader(body)
            if r.u32() != C["req_DH_params"]:
                raise ValueError("expected req_DH_params")
            r.take(32)
            p, q = r.bytes_(), r.bytes_()
            fp = r.take(8)
            blob = r.bytes_()
            scheme, data = decrypt_inner(self.priv, blob)
            inner = parse_inner(scheme, data)
            new_nonce = inner.pop("new_nonce")
            ok = (inner["nonce"] == nonce and inner["server_nonce"] == server_nonce
                  and int(inner["pq"], 16) == PQ and {int(inner["p"], 16), int(inner["q"], 16)}
                  == {1229739323, 1402015859} and fp == fingerprint(n, e))
            ev("req_DH_params", fingerprint_wire=fp.hex(), rsa_scheme=scheme,
               encrypted_len=len(blob), req_p=p.hex(), req_q=q.hex(), inner_ok=ok,
               **{k: v.hex() if isinstance(v, bytes) else v for k, v in inner.items()})
            if self.mode == "respq" or not ok:
                return None
            # server_DH_params_ok
            a = int.from_bytes(os.urandom(256), "big")
            g_a = pow(DH_G, a, DH_PRIME)
            answer = (struct.pack("<I", C["server_DH_inner_data"]) + nonce + server_nonce
                      + struct.pack("<i", DH_G) + tl_bytes(be(DH_PRIME)) + tl_bytes(be(g_a, 256))
                      + struct.pack("<i", int(time.time())))
            h1 = hashlib.sha1(new_nonce + server_nonce).digest()
            h2 = hashlib.sha1(server_nonce + new_nonce).digest()
            h3 = hashlib.sha1(new_nonce + new_nonce).digest()
            tkey, tiv = h1 + h2[:12], h2[12:20] + h3 + new_nonce[:4]
            awh = hashlib.sha1(answer).digest() + answer
            awh += os.urandom(-len(awh) % 16)
            t.send(plain_msg(self.ids, struct.pack("<I", C["server_DH_params_ok"]) + nonce
                             + server_nonce + tl_bytes(aes_ige(tkey, tiv, awh, True))))
            # set_client_DH_params
            _, body = parse_plain(t.recv())
            r = Reader(body)
            if r.u32() != C["set_client_DH_params"]:
                raise ValueError("expected set_client_DH_params")
            r.take(32)
            plain = aes_ige(tkey, tiv, r.bytes_(), False)
            cr = Reader(plain[20:])
            if cr.u32() != C["client_DH_inner_data"]:
                raise ValueError("expected client_DH_inner_data")
            cr.take(32)
            retry_id = cr.i64()
            g_b = int.from_bytes(cr.bytes_(), "big")
            auth_key = be(pow(g_b, a, DH_PRIME), 256)
            aux = hashlib.sha1(auth_key).digest()[:8]
            nnh1 = hashlib.sha1(new_nonce + b"\x01" + aux).digest()[4:20]
            self.exchanges += 1
            if self.mode == "badhash" and self.exchanges == 1:
                nnh1 = bytes(16)  # the client must reject this exchange and may start over
            t.send(plain_msg(self.ids, struct.pack("<I", C["dh_gen_ok"]) + nonce + server_nonce
                             + nnh1))
            self.salt = bytes(x ^ y for x, y in zip(new_nonce[:8], server_nonce[:8]))
            ev("auth_key", auth_key=auth_key.hex(),
               auth_key_id=hashlib.sha1(auth_key).digest()[12:20].hex(), retry_id=retry_id,
               short_key=auth_key[0] == 0, server_salt=self.salt.hex())
            payload = t.recv()
            if payload[:8] == b"\0" * 8:  # the client rejected dh_gen_ok and starts over
                ev("auth_restart")
                continue
            if self.mode == "authclose":
                ev("closing_after_auth")
                return None
            self.encrypted(auth_key, payload)
            return auth_key

    # -- encrypted phase --
    def send_enc(self, auth_key, session_id, items):
        """items: list of (body, content_related); more than one goes into a container."""
        def wrap(body, content):
            seq = self.seq * 2 + (1 if content else 0)
            if content:
                self.seq += 1
            mid = self.ids.next(True)
            self.sent[mid] = NAMES.get(struct.unpack("<I", body[:4])[0], "?")
            return struct.pack("<qii", mid, seq, len(body)) + body

        msgs = [wrap(b, c) for b, c in items]
        if len(msgs) == 1:
            data = msgs[0]
        else:
            body = struct.pack("<Ii", C["msg_container"], len(msgs)) + b"".join(msgs)
            data = wrap(body, False)
        plain = self.salt + session_id + data
        plain += os.urandom(-(len(plain) + 12) % 16 + 12)
        msg_key = hashlib.sha256(auth_key[88 + 8:88 + 8 + 32] + plain).digest()[8:24]
        k, iv = kdf(auth_key, msg_key, 8)
        self.t.send(hashlib.sha1(auth_key).digest()[12:20] + msg_key
                    + aes_ige(k, iv, plain, True))

    def encrypted(self, auth_key, payload):
        ev = self.ev
        if payload[:8] != hashlib.sha1(auth_key).digest()[12:20]:
            ev("enc_error", error="auth_key_id mismatch", got=payload[:8].hex())
            raise ValueError("auth_key_id mismatch")
        msg_key = payload[8:24]
        k, iv = kdf(auth_key, msg_key, 0)
        plain = aes_ige(k, iv, payload[24:], False)
        ok = hashlib.sha256(auth_key[88:120] + plain).digest()[8:24] == msg_key
        r = Reader(plain)
        salt, session_id = r.take(8), r.take(8)
        msg_id, seqno, ln = r.i64(), r.u32(), r.u32()
        body = r.take(ln)
        top = self.describe(body)
        ev("enc_recv", msg_key_ok=ok, salt=salt.hex(), session_id=session_id.hex(),
           msg_id=str(msg_id), seqno=seqno, padding=len(plain) - 32 - ln, top=top)
        if salt != self.salt:
            bad = struct.pack("<Iqii", C["bad_server_salt"], msg_id, seqno, 48) + self.salt
            self.send_enc(auth_key, session_id, [(bad, False)])
            ev("enc_sent", names=["bad_server_salt"])
            return
        out = []
        if session_id not in self.sessions:
            self.sessions.add(session_id)
            out.append((struct.pack("<Iq", C["new_session_created"], msg_id) + os.urandom(8)
                        + self.salt, False))
        content = []
        for mid, inner in self.unpack(msg_id, body):
            answers = self.answer(mid, inner)
            if answers:
                content.append(mid)
            out.extend(answers)
        if content and self.mode != "badhash":
            # Acknowledge the client's requests alongside the answers, as servers may.
            out.insert(0, (struct.pack("<III", C["msgs_ack"], C["vector"], len(content))
                           + b"".join(struct.pack("<q", m) for m in content), False))
        if out:
            self.send_enc(auth_key, session_id, out)
            ev("enc_sent", names=[NAMES.get(struct.unpack("<I", b[:4])[0], "?") for b, _ in out])

    def describe(self, body):
        cons = struct.unpack("<I", body[:4])[0]
        name = NAMES.get(cons, "%08x" % cons)
        if cons == C["msg_container"]:
            return {name: [d for _, b in self.unpack(0, body) for d in [self.describe(b)]]}
        if cons == C["invokeWithLayer"]:
            layer = struct.unpack("<i", body[4:8])[0]
            return {name: {"layer": layer, "query": self.describe(body[8:])}}
        if cons == C["initConnection"]:
            flags, q = self.skip_init(body)
            return {name: {"flags": flags, "query": self.describe(body[q:])}}
        return name

    @staticmethod
    def skip_init(body):
        r = Reader(body)
        r.u32()
        flags = r.u32()
        r.u32()  # api_id
        for _ in range(6):
            r.bytes_()
        return flags, r.p

    def unpack(self, msg_id, body):
        cons = struct.unpack("<I", body[:4])[0]
        if cons != C["msg_container"]:
            return [(msg_id, body)]
        r = Reader(body[4:])
        out = []
        for _ in range(struct.unpack("<i", r.take(4))[0]):
            mid, _, ln = r.i64(), r.u32(), r.u32()
            out.append((mid, r.take(ln)))
        return out

    def answer(self, msg_id, body):
        cons = struct.unpack("<I", body[:4])[0]
        if cons == C["msgs_ack"]:
            r = Reader(body[4:])
            r.u32()
            acked = [r.i64() for _ in range(r.u32())]
            self.ev("client_acks", names=[self.sent.get(m, "unknown:%d" % m) for m in acked])
            return []
        if cons in (C["ping"], C["ping_delay_disconnect"]):
            return [(struct.pack("<Iq", C["pong"], msg_id) + body[4:12], True)]
        query = body
        while True:
            c = struct.unpack("<I", query[:4])[0]
            if c == C["invokeWithLayer"]:
                query = query[8:]
            elif c == C["initConnection"]:
                flags, q = self.skip_init(query)
                query = query[q:] if flags == 0 else b"\0\0\0\0"
            else:
                break
        if struct.unpack("<I", query[:4])[0] == C["help.getNearestDc"]:
            res = struct.pack("<I", C["nearestDc"]) + tl_bytes(b"ZZ") + struct.pack("<ii", 2, 2)
        else:
            res = (struct.pack("<Ii", C["rpc_error"], 400)
                   + tl_bytes(b"MINI_DC_DOES_NOT_KNOW_%08X" % struct.unpack("<I", query[:4])[0]))
        return [(struct.pack("<Iq", C["rpc_result"], msg_id) + res, True)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True, help="PEM RSA private key")
    ap.add_argument("--mode", choices=("close", "silent", "respq", "full", "badhash", "err404",
                                      "authclose"),
                    default="close")
    ap.add_argument("--secret", help="MTProxy secret (hex) for obfuscated clients")
    ap.add_argument("--events", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    priv = load_private_key(a.key)
    secret = bytes.fromhex(a.secret) if a.secret else None
    if secret and len(secret) == 17:
        secret = secret[1:]
    lock = threading.Lock()
    evf = open(a.events, "a", buffering=1)

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(a.port_file + ".tmp", a.port_file)

    def handle(conn, num):
        first = bytearray()
        dumped = []

        def ev(kind, **kw):
            with lock:
                evf.write(json.dumps(dict(event=kind, conn=num, t=round(time.time(), 3), **kw))
                          + "\n")

        def record(chunk):
            if len(first) < 256:
                first.extend(chunk[:256 - len(first)])

        def dump():
            if not dumped:
                dumped.append(True)
                ev("first_bytes", hex=bytes(first).hex())

        try:
            t = Transport(conn, record, secret)
            Session(t, ev, priv, a.mode, dump).run()
        except EOFError as exc:
            ev("closed_by_client", error=str(exc))
        except Exception as exc:  # a throwaway server: report and drop the connection
            ev("server_error", error="%s: %s" % (type(exc).__name__, exc))
        finally:
            dump()
            conn.close()

    num = 0
    while True:
        conn, _ = srv.accept()
        num += 1
        threading.Thread(target=handle, args=(conn, num), daemon=True).start()


if __name__ == "__main__":
    main()
