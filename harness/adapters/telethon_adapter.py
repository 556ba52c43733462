#!/usr/bin/python3
"""Drive the real Telethon MTProto client against an MTProto server (mtprobe's mock DC).

Usage (see README.md in this directory):

    /usr/bin/python3 telethon_adapter.py --connect 127.0.0.1:4430 --rsa-key key.pem \
        --transport intermediate [--secret HEX|''] [--dc 2] [--timeout 15] \
        [--request ping,nearest_dc,config] [-v]

Follows the client-under-test contract of `mtprobe check client` (docs/check-client.md): the
last line of stdout is one JSON object with ok, results (one per request, in the TL JSON mapping
of docs/tl-json.md, as Telethon returned them), error, implementation, version, auth_key,
auth_key_id, auth_attempts, transport, and crash/signal when Telethon's process died by a signal.
Exit status: 0 the key exchange worked and every request was answered (an rpc_error is an
answer), 1 the client failed, timed out or crashed, 2 usage, 3 could not proceed (Telethon or
the key file missing, the server unreachable), 4 Telethon lacks the transport.

The client runs in a child process (this same script with --worker-fd) so that a hung or aborting
library cannot keep the adapter from answering: the parent enforces --timeout, kills the child's
process group when it expires, and reports what the child had reached by then.

Only Telethon's own code talks to the server. The adapter does three things at run time, none of
which edits installed files: it replaces the entries of telethon.crypto.rsa._server_keys with the
server's key, it wraps a few library functions to *observe* progress (steps, received message
types), and, for the transports Telethon ships as parts but not as a ready class (padded,
obfuscated-intermediate, obfuscated-padded without an MTProxy secret), it composes a connection
class from Telethon's own codec and obfuscation classes.
"""

import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time

_T0 = time.monotonic()  # the soft deadline counts from process start (importing Telethon is slow)

TRANSPORTS = (
    "full",
    "abridged",
    "intermediate",
    "padded",
    "obfuscated-abridged",
    "obfuscated-intermediate",
    "obfuscated-padded",
)
REQUESTS = ("ping", "nearest_dc", "config")
# Transports Telethon has the parts for but no ready class (without an MTProxy secret).
COMPOSED = ("padded", "obfuscated-intermediate", "obfuscated-padded")

DEBIAN_PYTHON = "/usr/bin/python3"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANNOT, EXIT_UNSUPPORTED = 0, 1, 2, 3, 4


# --------------------------------------------------------------------------------------------
# RSA key file: only n and e matter. A tiny DER walker keeps the adapter free of dependencies
# beyond Telethon's own (python3-rsa cannot read PKCS#8 private keys).

_RSA_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1 rsaEncryption


def _der_items(buf, start, end):
    pos = start
    while pos < end:
        if pos + 2 > end:
            raise ValueError("truncated DER header at offset %d" % pos)
        tag, ln = buf[pos], buf[pos + 1]
        pos += 2
        if ln & 0x80:
            nb = ln & 0x7F
            if nb == 0 or nb > 4 or pos + nb > end:
                raise ValueError("bad DER length at offset %d" % pos)
            ln = int.from_bytes(buf[pos:pos + nb], "big")
            pos += nb
        if pos + ln > end:
            raise ValueError("DER item overruns its container at offset %d" % pos)
        yield tag, pos, pos + ln
        pos += ln


def _rsa_from_der(der, depth=0):
    if depth > 3:
        raise ValueError("DER nesting too deep")
    top = list(_der_items(der, 0, len(der)))
    if len(top) != 1 or top[0][0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    kids = list(_der_items(der, top[0][1], top[0][2]))
    tags = [k[0] for k in kids]
    ints = [int.from_bytes(der[s:e], "big") for t, s, e in kids if t == 0x02]
    if tags == [0x02, 0x02]:  # RSAPublicKey
        return ints[0], ints[1]
    if len(tags) >= 9 and all(t == 0x02 for t in tags[:9]):  # RSAPrivateKey
        return ints[1], ints[2]
    if len(tags) >= 2 and tags[0] == 0x30 and tags[1] == 0x03:  # SubjectPublicKeyInfo
        if _RSA_OID not in der[kids[0][1]:kids[0][2]]:
            raise ValueError("SubjectPublicKeyInfo is not rsaEncryption")
        s, e = kids[1][1], kids[1][2]
        return _rsa_from_der(der[s + 1:e], depth + 1)  # skip the unused-bits byte
    if len(tags) >= 3 and tags[:3] == [0x02, 0x30, 0x04]:  # PKCS#8 PrivateKeyInfo
        if _RSA_OID not in der[kids[1][1]:kids[1][2]]:
            raise ValueError("PKCS#8 key is not rsaEncryption")
        return _rsa_from_der(der[kids[2][1]:kids[2][2]], depth + 1)
    raise ValueError("unrecognised RSA key structure")


def load_rsa_key(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.search(rb"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", data, re.S)
    der = base64.b64decode(b"".join(m.group(2).split())) if m else data
    n, e = _rsa_from_der(der)
    if n.bit_length() != 2048:
        # MTProto fixes the modulus at 2048 bits; say so instead of failing obscurely later.
        raise ValueError("RSA modulus has %d bits, MTProto needs 2048" % n.bit_length())
    return n, e


def _tl_bytes(b):
    if len(b) < 254:
        out = bytes([len(b)]) + b
    else:
        out = b"\xfe" + len(b).to_bytes(3, "little") + b
    return out + b"\0" * (-len(out) % 4)


def _be(i):
    return i.to_bytes((i.bit_length() + 7) // 8, "big")


def rsa_fingerprint_wire(n, e):
    """Low 64 bits of SHA1(rsa_public_key n e), the 8 bytes as they appear on the wire."""
    return hashlib.sha1(_tl_bytes(_be(n)) + _tl_bytes(_be(e))).digest()[12:20]


def fingerprint_fields(wire):
    return {
        "rsa_fingerprint": wire[::-1].hex(),  # as a 64-bit number, big-endian hex (%016llx)
        "rsa_fingerprint_wire": wire.hex(),
        "rsa_fingerprint_signed": str(struct.unpack("<q", wire)[0]),
    }


# --------------------------------------------------------------------------------------------
# Command line


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    p = _Parser(description="Run Telethon's MTProto client against an MTProto server.")
    p.add_argument("--connect", metavar="HOST:PORT", help="server address (or --host/--port)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--rsa-key", metavar="FILE.pem",
                   help="server RSA key (public or private PEM/DER; only n and e are used)")
    p.add_argument("--transport", choices=TRANSPORTS)
    p.add_argument("--native-only", action="store_true",
                   help="refuse (exit 4) transports the adapter has to compose from Telethon's "
                        "parts instead of using a ready connection class")
    p.add_argument("--list-transports", action="store_true",
                   help="print the transport table as JSON and exit")
    p.add_argument("--secret", metavar="HEX",
                   help="MTProxy secret (16 bytes, or dd + 16 bytes with obfuscated-padded): "
                        "use Telethon's ConnectionTcpMTProxy* classes (obfuscated-* only)")
    p.add_argument("--dc", type=int, default=2, help="DC id (only the MTProxy header carries it)")
    p.add_argument("--timeout", type=float, default=15.0, help="hard deadline in seconds")
    p.add_argument("--request", default="ping",
                   help="comma-separated encrypted calls, in order: " + ", ".join(REQUESTS))
    p.add_argument("--auth-attempts", type=int, default=3,
                   help="auth-key exchanges the client may try (Telethon retries on its own; "
                        "see README: about 1 in 256 exchanges fails client-side)")
    p.add_argument("--api-id", type=int, default=1, help="api_id for initConnection")
    p.add_argument("--keep-builtin-keys", action="store_true",
                   help="keep Telegram's RSA keys in the client's table (default: only the "
                        "server's key)")
    p.add_argument("-v", "--verbose", action="store_true", help="library debug log on stderr")
    p.add_argument("--worker-fd", type=int, help=argparse.SUPPRESS)
    return p


def check_args(a):
    if a.list_transports:
        return
    if not a.rsa_key or not a.transport:
        raise UsageError("--rsa-key and --transport are required")
    if a.connect:
        host, sep, port = a.connect.rpartition(":")
        if not sep or not port.isdigit():
            raise UsageError("--connect wants HOST:PORT")
        a.host, a.port = host.strip("[]"), int(port)
    if not a.host or a.port is None:
        raise UsageError("give --connect HOST:PORT or --host and --port")
    if not 0 < a.port < 65536:
        raise UsageError("port out of range")
    if a.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if a.auth_attempts < 1:
        raise UsageError("--auth-attempts must be at least 1")
    a.requests = [r.strip() for r in a.request.split(",") if r.strip()]
    bad = [r for r in a.requests if r not in REQUESTS]
    if bad or not a.requests:
        raise UsageError("--request: unknown %s (known: %s)" % (bad, ", ".join(REQUESTS)))
    if a.secret == "":
        a.secret = None  # the runner substitutes an empty {secret}: no MTProxy secret
    if a.secret is not None:
        if not a.transport.startswith("obfuscated-"):
            raise UsageError("--secret only goes with the obfuscated-* transports")
        try:
            sec = bytes.fromhex(a.secret)
        except ValueError:
            raise UsageError("--secret is not hex")
        if not (len(sec) == 16 or (len(sec) == 17 and sec[0] == 0xDD)):
            raise UsageError("--secret must be 16 bytes, or dd followed by 16 bytes")


# --------------------------------------------------------------------------------------------
# Worker: runs Telethon, reports progress as JSON lines on --worker-fd.


class Reporter:
    def __init__(self, fd):
        self._f = os.fdopen(fd, "w", buffering=1)
        self._lock = threading.Lock()  # the watchdog thread reports too

    def send(self, **msg):
        with self._lock:
            try:
                self._f.write(json.dumps(msg) + "\n")
            except (OSError, ValueError):
                pass  # the parent has gone away: nothing left to tell

    def close(self):
        with self._lock:
            try:
                self._f.flush()
            except (OSError, ValueError):
                pass

    def step(self, text):
        self.send(step=text)

    def set(self, **fields):
        self.send(set=fields)


_TL_NAMES = {
    "MessageContainer": "msg_container",
    "RpcResult": "rpc_result",
    "GzipPacked": "gzip_packed",
    "ResPQ": "resPQ",
    "ServerDHParamsOk": "server_DH_params_ok",
    "ServerDHParamsFail": "server_DH_params_fail",
    "DhGenOk": "dh_gen_ok",
    "DhGenRetry": "dh_gen_retry",
    "DhGenFail": "dh_gen_fail",
    "ReqPqMultiRequest": "req_pq_multi",
    "ReqPqRequest": "req_pq",
    "ReqDHParamsRequest": "req_DH_params",
    "SetClientDHParamsRequest": "set_client_DH_params",
}


def tl_name(obj):
    name = type(obj).__name__
    if name in _TL_NAMES:
        return _TL_NAMES[name]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def s64_wire(v):
    return struct.pack("<q", v).hex() if v is not None else None


# --------------------------------------------------------------------------------------------
# The answers as the library returned them, in the TL JSON mapping of docs/tl-json.md.
#
# Telethon keeps no schema at run time, but each generated class's from_reader() reads the fields
# in wire order with one reader call per TL type, so its source says which Python int is a TL
# long (a decimal string in the mapping) and which False is a clear `true` flag (left out).

_READ_KINDS = (
    ("bool(flags", "true"), ("read_long()", "long"), ("read_int()", "int"),
    ("tgread_date()", "date"), ("tgread_bool()", "Bool"), ("tgread_string()", "string"),
    ("tgread_bytes()", "bytes"), ("read_double()", "double"), ("bits=128", "int128"),
    ("bits=256", "int256"),
)
_FIELD_RE = re.compile(r"^\s*_(\w+) = (.+)$")
_KINDS = {}


def _expr_kind(expr):
    for needle, kind in _READ_KINDS:
        if needle in expr:
            return kind
    return "object"


def _field_kinds(cls):
    """{field: kind} in wire order; a vector is ("vector", element kind)."""
    if cls not in _KINDS:
        import inspect
        kinds, vector = {}, None
        try:
            src = inspect.getsource(cls.from_reader)
        except (OSError, TypeError):
            src = ""
        in_loop = False
        for line in src.splitlines():
            if line.strip().startswith("for _ in range("):
                in_loop = True  # the next assignment reads one element of `vector`
                continue
            m = _FIELD_RE.match(line)
            if not m or m.group(2) == "None":  # None: the else branch of a conditional field
                continue
            name, expr = m.groups()
            if in_loop:
                kinds[vector] = ("vector", _expr_kind(expr))
                in_loop = False
            elif expr == "[]":
                vector = name
                kinds[name] = ("vector", "object")
            else:
                kinds[name] = _expr_kind(expr)
        _KINDS[cls] = kinds
    return _KINDS[cls]


# MTProto service constructors are snake_case in the schema; API ones are camelCase.
_SERVICE_NAMES = dict(_TL_NAMES, RpcError="rpc_error", FutureSalts="future_salts",
                      FutureSalt="future_salt", MsgsAck="msgs_ack",
                      NewSessionCreated="new_session_created", BadServerSalt="bad_server_salt",
                      BadMsgNotification="bad_msg_notification", DestroySessionOk="destroy_session_ok",
                      DestroySessionNone="destroy_session_none")


def tl_json_name(obj):
    name = type(obj).__name__
    if name in _SERVICE_NAMES:
        return _SERVICE_NAMES[name]
    ns = type(obj).__module__.rpartition("telethon.tl.types")[2].strip(".")
    return (ns + "." if ns else "") + name[:1].lower() + name[1:]


def tl_json(obj):
    """One TL object as docs/tl-json.md writes it.  Telethon drops the flags words on reading,
    so they are left out, as the mapping does when the present fields account for them."""
    kinds = _field_kinds(type(obj))
    out = {"_": tl_json_name(obj)}
    for key in list(kinds) + [k for k in obj.to_dict() if k != "_" and k not in kinds]:
        value = getattr(obj, key, None)
        kind = kinds.get(key)
        if value is None or (kind == "true" and not value):
            continue  # an absent conditional field or a clear `true` flag
        out[key] = _tl_value(value, kind)
    return out


def _tl_value(v, kind):
    import datetime
    import math
    from telethon.tl.tlobject import TLObject
    if isinstance(kind, tuple) or isinstance(v, list):
        inner = kind[1] if isinstance(kind, tuple) else None
        return [_tl_value(x, inner) for x in v]
    if isinstance(v, TLObject):
        return tl_json(v)
    if isinstance(v, bool):
        return v
    if isinstance(v, datetime.datetime):
        return int(v.timestamp())
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, float):
        return v if math.isfinite(v) else ("NaN" if math.isnan(v) else
                                           "Infinity" if v > 0 else "-Infinity")
    if isinstance(v, int) and kind in ("int128", "int256"):
        bits = 128 if kind == "int128" else 256
        return (v % (1 << bits)).to_bytes(bits // 8, "little").hex()
    if isinstance(v, int) and kind == "long":
        return str(v)
    return v


def make_connection_class(args, conn_mod):
    """Map an mtprobe transport name to a Telethon connection class (and say how)."""
    from telethon.network.connection.connection import Connection, ObfuscatedConnection
    from telethon.network.connection.tcpintermediate import (
        IntermediatePacketCodec, RandomizedIntermediatePacketCodec)
    from telethon.network.connection.tcpobfuscated import ObfuscatedIO

    t = args.transport
    if args.secret is not None:
        cls = {
            "obfuscated-abridged": conn_mod.ConnectionTcpMTProxyAbridged,
            "obfuscated-intermediate": conn_mod.ConnectionTcpMTProxyIntermediate,
            "obfuscated-padded": conn_mod.ConnectionTcpMTProxyRandomizedIntermediate,
        }[t]
        return cls, cls.__name__
    native = {
        "full": conn_mod.ConnectionTcpFull,
        "abridged": conn_mod.ConnectionTcpAbridged,
        "intermediate": conn_mod.ConnectionTcpIntermediate,
        "obfuscated-abridged": conn_mod.ConnectionTcpObfuscated,
    }
    if t in native:
        return native[t], native[t].__name__
    if t == "padded":
        # Telethon only uses its padded codec inside obfuscation, where the tag travels
        # encrypted; over plain TCP the same codec needs the 0xdddddddd tag up front.
        class PaddedCodec(RandomizedIntermediatePacketCodec):
            tag = b"\xdd\xdd\xdd\xdd"

        class ConnectionTcpPadded(Connection):
            packet_codec = PaddedCodec

        return ConnectionTcpPadded, "composed: RandomizedIntermediatePacketCodec + tag dddddddd"
    codec = IntermediatePacketCodec if t == "obfuscated-intermediate" \
        else RandomizedIntermediatePacketCodec

    class ConnectionTcpObfuscatedComposed(ObfuscatedConnection):
        obfuscated_io = ObfuscatedIO
        packet_codec = codec

    return ConnectionTcpObfuscatedComposed, "composed: ObfuscatedIO + " + codec.__name__


async def run_client(args, rep, key):
    import logging
    import telethon
    from telethon import functions
    from telethon.crypto import rsa as trsa
    from telethon.network import authenticator, connection as conn_mod
    from telethon.network import mtprotosender as mtprotosender_mod
    from telethon.network.mtprotoplainsender import MTProtoPlainSender
    from telethon.network.mtprotosender import MTProtoSender
    from telethon.tl.alltlobjects import LAYER

    n, e = key
    wire = rsa_fingerprint_wire(n, e)
    fp = struct.unpack("<q", wire)[0]
    if not args.keep_builtin_keys:
        trsa._server_keys.clear()
    pub = trsa.rsa.PublicKey(n, e)
    # The second tuple field is Telethon's "old key" flag: old keys are only tried when no
    # current key matches, so the server's key goes in as a current one.
    trsa._server_keys[fp] = (pub, False)
    lib_fp = trsa._compute_fingerprint(pub)
    rep.set(key_table=[str(k) for k in trsa._server_keys], library_fingerprint=str(lib_fp),
            library_fingerprint_matches=(lib_fp == fp), layer=LAYER)
    rep.step("key table: fingerprint %s (signed %d) injected" % (wire[::-1].hex(), fp))

    class Loggers(dict):
        def __missing__(self, key):
            return logging.getLogger(key[len("telethon."):] if key.startswith("telethon.")
                                     else key)

    cls, impl = make_connection_class(args, conn_mod)
    rep.set(transport_impl=impl)

    # Observation only: these wrappers call straight through to Telethon's code.
    state = {"attempt": 0, "last_error": None}
    orig_plain_send = MTProtoPlainSender.send

    async def plain_send(self, request):
        extra = ""
        if type(request).__name__ == "ReqDHParamsRequest":
            fpu = request.public_key_fingerprint
            rep.set(fingerprint_used=struct.pack("<q", fpu)[::-1].hex())
            extra = " (fingerprint %s)" % struct.pack("<q", fpu)[::-1].hex()
        rep.step("auth %d: -> %s%s" % (state["attempt"], tl_name(request), extra))
        state["awaiting"] = tl_name(request)
        try:
            answer = await orig_plain_send(self, request)
        except Exception as exc:
            rep.step("auth %d: no answer to %s: %s" % (state["attempt"], tl_name(request),
                                                       describe(exc)))
            raise
        state["awaiting"] = None
        rep.step("auth %d: <- %s" % (state["attempt"], tl_name(answer)))
        return answer

    MTProtoPlainSender.send = plain_send

    orig_auth = authenticator.do_authentication

    async def do_authentication(plain):
        state["attempt"] += 1
        rep.set(auth_attempts=state["attempt"])
        try:
            return await orig_auth(plain)
        except Exception as exc:
            waiting = (", waiting for the answer to %s" % state["awaiting"]
                       if state.get("awaiting") else "")
            state["awaiting"] = None
            state["last_error"] = "auth_key (attempt %d%s): %s" % (state["attempt"], waiting,
                                                                   describe(exc))
            rep.step(state["last_error"])
            raise

    authenticator.do_authentication = do_authentication

    # Telethon turns an rpc_error into an exception class of its own (FloodWaitError, ...) whose
    # message is not always the server's text; keep the decoded rpc_error it came from.
    orig_rpc_to_error = mtprotosender_mod.rpc_message_to_error

    def rpc_message_to_error(rpc_error, request):
        exc = orig_rpc_to_error(rpc_error, request)
        exc.mtprobe_rpc_error = {"_": "rpc_error", "error_code": rpc_error.error_code,
                                 "error_message": rpc_error.error_message}
        return exc

    mtprotosender_mod.rpc_message_to_error = rpc_message_to_error

    loggers = Loggers()
    sender = MTProtoSender(None, loggers=loggers, retries=args.auth_attempts - 1, delay=0.2,
                           auto_reconnect=False, connect_timeout=args.timeout,
                           updates_queue=asyncio.Queue())

    orig_process = sender._process_message

    async def process_message(message):
        rep.send(recv=tl_name(message.obj))
        return await orig_process(message)

    sender._process_message = process_message

    if args.secret is not None:
        conn = cls(args.host, args.port, args.dc, loggers=loggers,
                   proxy=(args.host, args.port, args.secret))
    else:
        conn = cls(args.host, args.port, args.dc, loggers=loggers)

    orig_conn_connect = conn.connect

    async def conn_connect(*a, **kw):
        rep.step("tcp: connecting to %s:%d" % (args.host, args.port))
        try:
            await orig_conn_connect(*a, **kw)
        except Exception as exc:
            state["last_error"] = "connect: %s" % describe(exc)
            state["unreachable"] = unreachable(exc)
            rep.step(state["last_error"])
            raise
        state["connected"] = True
        rep.step("tcp: connected, transport initialised")

    conn.connect = conn_connect

    try:
        await sender.connect(conn)
    except Exception as exc:
        # Never reaching the server is the run's problem (exit 3), not the client's behaviour.
        cannot = state.get("unreachable") and not state.get("connected")
        raise StepError(state["last_error"] or "connect: %s" % describe(exc),
                        EXIT_CANNOT if cannot else EXIT_FAILED)

    key_bytes = sender.auth_key.key
    rep.set(auth_key=key_bytes.hex(), auth_key_id=hashlib.sha1(key_bytes).digest()[12:20].hex(),
            auth_key_len=len(key_bytes), time_offset=sender._state.time_offset,
            session_id=s64_wire(sender._state.id), server_salt=s64_wire(sender._state.salt))
    rep.step("auth_key ready (%d bytes)" % len(key_bytes))

    init = dict(api_id=args.api_id, device_model="mtprobe-adapter",
                system_version=sys.platform, app_version=telethon.__version__,
                lang_code="en", system_lang_code="en", lang_pack="")
    try:
        for index, name in enumerate(args.requests):
            if name == "ping":
                req = functions.PingRequest(ping_id=struct.unpack("<q", os.urandom(8))[0])
            else:
                query = (functions.help.GetNearestDcRequest() if name == "nearest_dc"
                         else functions.help.GetConfigRequest())
                req = functions.InvokeWithLayerRequest(
                    LAYER, functions.InitConnectionRequest(query=query, **init))
            rep.step("request %s: sending" % name)
            try:
                answer = await sender.send(req)
            except Exception as exc:
                rpc = getattr(exc, "mtprobe_rpc_error", None)
                if rpc is None:
                    raise StepError("request %s: %s" % (name, describe(exc)))
                # An rpc_error is an answer: the call completed, so the next one is still sent.
                rep.send(answer={"index": index, "value": rpc})
                rep.step("request %s: answered rpc_error %s %s" % (name, rpc["error_code"],
                                                                   rpc["error_message"]))
                continue
            finally:
                rep.set(server_salt=s64_wire(sender._state.salt),
                        session_id=s64_wire(sender._state.id))
            value = tl_json(answer)
            rep.send(answer={"index": index, "value": value})
            rep.step("request %s: answered %s" % (name, value["_"]))
    finally:
        try:
            await asyncio.wait_for(sender.disconnect(), 1)
        except BaseException:
            pass


class StepError(Exception):
    def __init__(self, text, code=EXIT_FAILED):
        super().__init__(text)
        self.code = code


def unreachable(exc):
    """The server could not be reached at all (as opposed to a connection it ended)."""
    import errno
    import socket
    return isinstance(exc, (ConnectionRefusedError, socket.gaierror)) or getattr(
        exc, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL)


def describe(exc):
    text = str(exc)
    return "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__


def worker_main(args):
    rep = Reporter(args.worker_fd)
    sys.stdout = sys.stderr  # the report fd is the only channel to the parent
    import logging
    logging.basicConfig(stream=sys.stderr,
                        level=logging.DEBUG if args.verbose else logging.CRITICAL,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        import telethon
    except ImportError as exc:
        rep.send(fatal="cannot import telethon under %s (%s); run with /usr/bin/python3 and "
                       "Debian's python3-telethon" % (sys.executable, exc), code=EXIT_CANNOT)
        return EXIT_CANNOT
    rep.set(client="telethon " + telethon.__version__, version=telethon.__version__)
    try:
        key = load_rsa_key(args.rsa_key)
    except (OSError, ValueError) as exc:
        rep.send(fatal="rsa key %s: %s" % (args.rsa_key, exc), code=EXIT_CANNOT)
        return EXIT_CANNOT

    # A soft deadline inside the worker gives a precise message; the parent's kill is the backstop.
    # A timer thread rather than asyncio.wait_for: it fires even if the library ignores
    # cancellation or blocks the event loop.
    soft = max(args.timeout - min(1.0, args.timeout * 0.2), args.timeout * 0.5)
    watchdog = threading.Timer(max(0.1, soft - (time.monotonic() - _T0)), lambda: finish(rep, EXIT_FAILED,
                                                    fail="timeout after %.1fs" % soft,
                                                    timed_out=True))
    watchdog.daemon = True
    watchdog.start()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_client(args, rep, key))
    except StepError as exc:
        finish(rep, exc.code, fail=str(exc), code=exc.code)
    except Exception as exc:
        finish(rep, EXIT_FAILED, fail="adapter: %s" % describe(exc))
    finish(rep, EXIT_OK, done=True)


_FINISHING = threading.Lock()


def finish(rep, exit_code, **msg):
    """Report and leave at once: the library's leftover tasks must not delay or alter the end."""
    _FINISHING.acquire()  # first caller wins; a second one waits here until the process is gone
    rep.send(**msg)
    rep.close()
    sys.stderr.flush()
    os._exit(exit_code)


# --------------------------------------------------------------------------------------------
# Parent: starts the worker, enforces the deadline, prints the one JSON line.


def emit(result, code):
    """The one JSON line, last on stdout.  Contract fields without a value are left out rather
    than written as null (docs/check-client.md)."""
    for k in ("auth_key", "auth_key_id", "error", "transport", "version"):
        if result.get(k) is None:
            result.pop(k, None)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return code


def base_result(args=None):
    return {
        "ok": False,
        "implementation": "Telethon",
        "version": None,
        "client": "telethon",
        "transport": getattr(args, "transport", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "dc": getattr(args, "dc", None),
        "auth_key": None,
        "auth_key_id": None,
        "server_salt": None,
        "session_id": None,
        "error": None,
        "crash": False,
        "steps": [],
        "received": [],
    }


def worker_python():
    """This interpreter if it has Telethon, else Debian's (pyenv shims often come first on PATH)."""
    import importlib.util
    if importlib.util.find_spec("telethon") is None and os.path.exists(DEBIAN_PYTHON):
        return DEBIAN_PYTHON
    return sys.executable


def signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return "signal %d" % num


def parent_main(args):
    res = base_result(args)
    # One element per requested call, in order; null until (unless) the call is answered.
    res["results"] = [None] * len(args.requests)
    res["auth_attempts"] = 0
    if args.secret is not None:
        res["secret"] = args.secret
    try:
        key = load_rsa_key(args.rsa_key)
    except (OSError, ValueError) as exc:
        res["error"] = "rsa key %s: %s" % (args.rsa_key, exc)
        return emit(res, EXIT_CANNOT)
    res.update(fingerprint_fields(rsa_fingerprint_wire(*key)))
    unsupported = None
    if args.native_only and args.secret is None and args.transport in COMPOSED:
        unsupported = ("transport %s has no ready connection class in Telethon (the adapter "
                       "would compose it; drop --native-only to allow that)" % args.transport)
    elif args.secret is not None and len(args.secret) == 34 \
            and args.transport != "obfuscated-padded":
        unsupported = ("Telethon takes a dd (padded-intermediate) MTProxy secret only with "
                       "obfuscated-padded, not %s" % args.transport)
    if unsupported:
        res["error"] = unsupported
        res["unsupported"] = True
        return emit(res, EXIT_UNSUPPORTED)

    rfd, wfd = os.pipe()
    cmd = [worker_python(), os.path.abspath(__file__), "--worker-fd", str(wfd)] + sys.argv[1:]
    start = time.monotonic()
    try:
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, pass_fds=(wfd,), start_new_session=True)
    except OSError as exc:
        res["error"] = "cannot start worker: %s" % exc
        return emit(res, EXIT_CANNOT)
    os.close(wfd)

    sel = selectors.DefaultSelector()
    sel.register(rfd, selectors.EVENT_READ, "report")
    sel.register(child.stderr, selectors.EVENT_READ, "stderr")
    buf, tail, open_ = b"", b"", 2
    final = {}
    deadline = start + args.timeout
    timed_out = False
    while open_:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for k, _ in sel.select(left):
            chunk = os.read(k.fd if k.data == "report" else child.stderr.fileno(), 65536)
            if not chunk:
                sel.unregister(k.fileobj)
                open_ -= 1
                continue
            if k.data == "stderr":
                if args.verbose:
                    sys.stderr.buffer.write(chunk)
                    sys.stderr.flush()
                tail = (tail + chunk)[-4000:]
                continue
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if "step" in msg:
                    res["steps"].append(msg["step"])
                if "recv" in msg:
                    res["received"].append(msg["recv"])
                if "set" in msg:
                    res.update(msg["set"])
                if "answer" in msg:
                    res["results"][msg["answer"]["index"]] = msg["answer"]["value"]
                for k2 in ("fail", "fatal", "done", "timed_out", "code"):
                    if k2 in msg:
                        final[k2] = msg[k2]
    if timed_out:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        rc = child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        rc = child.wait()
        timed_out = True  # our kill, not a crash
    os.close(rfd)
    res["elapsed"] = round(time.monotonic() - start, 3)

    if timed_out:
        last = res["steps"][-1] if res["steps"] else "start"
        res["error"] = "timeout: no result within %gs (last step: %s)" % (args.timeout, last)
        res["timed_out"] = True
        code = EXIT_FAILED
    elif final.get("done") and rc == 0:
        res["ok"] = True
        code = EXIT_OK
    elif "fatal" in final:
        res["error"] = final["fatal"]
        code = final.get("code", EXIT_CANNOT)
    elif "fail" in final:
        res["error"] = final["fail"]
        res["timed_out"] = bool(final.get("timed_out"))
        if res["timed_out"]:
            res["error"] += " (last step: %s)" % (res["steps"][-1] if res["steps"] else "start")
        code = final.get("code", EXIT_FAILED)
    elif rc < 0:
        # The library's process died by a signal before it could report, e.g. OpenSSL's
        # assertion abort() (SIGABRT) on an IGE input that is not a multiple of 16 bytes.
        res["crash"] = True
        res["signal"] = -rc
        last = res["steps"][-1] if res["steps"] else "start"
        res["error"] = "crash: the client process was killed by %s (last step: %s)" % (
            signal_name(-rc), last)
        code = EXIT_FAILED
    else:
        res["error"] = "client process ended (status %d) without a result" % rc
        code = EXIT_FAILED
    if not res["ok"] and tail:
        res["stderr_tail"] = tail.decode("utf-8", "replace")[-1000:]
    return emit(res, code)


def main(argv):
    try:
        args = build_parser().parse_args(argv)
        check_args(args)
    except UsageError as exc:
        res = base_result()
        res["error"] = "usage: %s" % exc
        return emit(res, EXIT_USAGE)
    if args.list_transports:
        return list_transports()
    if args.worker_fd is not None:
        return worker_main(args)
    return parent_main(args)


def list_transports():
    try:
        import telethon
        from telethon.network import connection as conn_mod
    except ImportError as exc:
        if worker_python() != sys.executable:
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
        res = base_result()
        res["error"] = "cannot import telethon under %s (%s)" % (sys.executable, exc)
        return emit(res, EXIT_CANNOT)
    table, with_secret = {}, {}
    for t in TRANSPORTS:
        ns = argparse.Namespace(transport=t, secret=None)
        table[t] = make_connection_class(ns, conn_mod)[1]
        if t.startswith("obfuscated-"):
            ns.secret = "00" * 16
            with_secret[t] = make_connection_class(ns, conn_mod)[1]
    return emit({"client": "telethon " + telethon.__version__, "transports": table,
                 "with_secret": with_secret}, EXIT_OK)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
