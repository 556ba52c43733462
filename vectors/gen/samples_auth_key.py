#!/usr/bin/python3
"""Vectors from the worked examples of core.telegram.org/mtproto/samples-auth_key.

Writes
  vectors/auth/samples_auth_key.json           every intermediate value, by shim op
  vectors/auth/samples_auth_key_messages.json  the TL messages, for op tl_decode
  vectors/auth/samples_auth_key.kat-data.json  the raw messages and random values, for replays

The published values are in samples_auth_key_data.py.  Before writing, this
script checks that they agree with each other (tmp_aes key/iv, decryption of
encrypted_answer, SHA1s, g^b, g_a^b, new_nonce_hash1, the client's
encrypted_data) using hashlib, Python integers and Telethon 1.25.1's AES-IGE
(telethon.crypto.AES), and computes the values the page does not print
(auth_key_aux_hash, auth_key_id, new_nonce_hash2/3, server_salt, paddings
recovered by decryption).  Run with /usr/bin/python3.
"""
import hashlib
import json
import struct
import sys
from pathlib import Path

import rsa
import telethon
from telethon.crypto import AES
from telethon.crypto import rsa as trsa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from samples_auth_key_data import NEW, OLD  # noqa: E402
import telegram_keys  # noqa: E402

H = bytes.fromhex
ROOT = Path(__file__).resolve().parent.parent
SPEC = ["https://core.telegram.org/mtproto/samples-auth_key", "https://core.telegram.org/mtproto/auth_key"]


def sha1(b):
    return hashlib.sha1(b).digest()


def tl_bytes(b):
    head = bytes([len(b)]) if len(b) < 254 else b"\xfe" + len(b).to_bytes(3, "little")
    out = head + b
    return out + bytes(-len(out) % 4)


def plain(msg_id, body):
    return bytes(8) + H(msg_id) + struct.pack("<I", len(body)) + body


def tmp_aes(nn, sn):
    a, b, c = sha1(nn + sn), sha1(sn + nn), sha1(nn + nn)
    return a + b[:12], b[12:] + c + nn[:4]


def be(n):
    return n.to_bytes((n.bit_length() + 7) // 8 or 1, "big")


def key_ne(fp_wire):
    for comment, old, pem in [(c, o, p) for p, o in telegram_keys.telethon_pems() for c in [""]] + telegram_keys.NEWER_KEYS:
        k = rsa.PublicKey.load_pkcs1(pem.encode())
        if struct.pack("<q", trsa._compute_fingerprint(k)).hex() == fp_wire.lower():
            return be(k.n).hex(), be(k.e).hex()
    raise SystemExit("no key with fingerprint " + fp_wire)


def derive(d, old):
    """Everything about one example, checked against what the page prints."""
    v = {}
    nonce, sn, nn = H(d["nonce"]), H(d["server_nonce"]), H(d["new_nonce"])
    p_prime = H(OLD["dh_prime"])
    if old:
        pq, p, q = H(d["pq"]), H(d["p"]), H(d["q"])
        inner = H("EC5AC983") + tl_bytes(pq) + tl_bytes(p) + tl_bytes(q) + nonce + sn + nn
        assert sha1(inner) == H(d["sha1_inner"]), "p_q_inner_data SHA1"
        req_pq = plain(d["msg_id_req_pq"], H("78974660") + nonce)
    else:
        pq, p, q = H(d["pq"]), be(d["p_decimal"]), be(d["q_decimal"])
        assert int.from_bytes(pq, "big") == d["pq_decimal"] == d["p_decimal"] * d["q_decimal"]
        inner = (H("955FF5A9") + tl_bytes(pq) + tl_bytes(p) + tl_bytes(q) + nonce + sn + nn +
                 struct.pack("<i", d["dc"]))
        assert inner == H(d["inner_data"]), "p_q_inner_data_dc"
        assert len(inner) + len(H(d["random_padding_bytes"])) == 192
        req_pq = plain(d["msg_id_req_pq"], H("F18E7EBE") + nonce)
    fps = b"".join(H(f) for f in d["fingerprints"])
    res_pq = plain(d["msg_id_res_pq"], H("63241605") + nonce + sn + tl_bytes(pq) + H("15C4B51C") +
                   struct.pack("<i", len(d["fingerprints"])) + fps)
    fp_used = d["fingerprints"][0] if old else "85FD64DE851D9DD0"
    req_dh = plain(d["msg_id_req_dh"], H("BEE412D7") + nonce + sn + tl_bytes(p) + tl_bytes(q) + H(fp_used) +
                   tl_bytes(H(d["encrypted_data"])))
    key, iv = tmp_aes(nn, sn)
    assert key == H(d["tmp_aes_key"]) and iv == H(d["tmp_aes_iv"]), "tmp_aes"
    enc_answer = H(d["encrypted_answer"])
    dh_ok = plain(d["msg_id_dh_ok"], H("5C07E8D0") + nonce + sn + tl_bytes(enc_answer))
    awh = AES.decrypt_ige(enc_answer, key, iv)
    answer = awh[20:20 + 564]
    assert sha1(answer) == awh[:20], "answer hash"
    if old:
        assert answer == H(d["answer"]), "answer"
    else:
        assert awh == H(d["answer_with_hash"]), "answer_with_hash"
    g = d["g"]
    g_a = H(d["g_a"])
    exp_answer = (H("BA0D89B5") + nonce + sn + struct.pack("<i", g) + tl_bytes(p_prime) + tl_bytes(g_a) +
                  struct.pack("<i", d["server_time"]))
    assert answer == exp_answer, "server_DH_inner_data layout"
    if old:  # g = 2 with this prime: 2^((p-1)/2) = -1 mod p, i.e. 2 is a non-residue (p mod 8 = 3)
        Pq = int.from_bytes(p_prime, "big")
        assert Pq % 8 == 3 and pow(2, (Pq - 1) // 2, Pq) == Pq - 1
    b = int(d["b"], 16)
    P = int.from_bytes(p_prime, "big")
    g_b = pow(g, b, P).to_bytes(256, "big")
    assert g_b == H(d["g_b"]), "g_b"
    auth_key = pow(int.from_bytes(g_a, "big"), b, P).to_bytes(256, "big")
    assert auth_key == H(d["auth_key"]), "auth_key"
    client_inner = H("54B64366") + nonce + sn + bytes(8) + tl_bytes(g_b)
    cdec = AES.decrypt_ige(H(d["client_encrypted_data"]), key, iv)
    assert cdec[:20] == sha1(client_inner) and cdec[20:20 + len(client_inner)] == client_inner, "client inner"
    client_padding = cdec[20 + len(client_inner):]
    if not old:
        assert client_padding == H(d["client_padding"]), "client padding"
    set_dh = plain(d["msg_id_set_dh"], H("1F5F04F5") + nonce + sn + tl_bytes(H(d["client_encrypted_data"])))
    aux = sha1(auth_key)[:8]
    nnh = [sha1(nn + bytes([i]) + aux)[4:] for i in (1, 2, 3)]
    assert nnh[0] == H(d["new_nonce_hash1"]), "new_nonce_hash1"
    dh_gen_ok = plain(d["msg_id_dh_gen_ok"], H("34F7CB3B") + nonce + sn + nnh[0])
    published_lengths = ({"req_pq": 40, "resPQ": 84, "req_DH_params": 340, "server_DH_params_ok": 652,
                          "set_client_DH_params": 396, "dh_gen_ok": 72} if old else
                         {"req_pq": 40, "resPQ": 100, "req_DH_params": 340, "server_DH_params_ok": 652,
                          "set_client_DH_params": 396, "dh_gen_ok": 72})
    msgs = {"req_pq": req_pq, "resPQ": res_pq, "req_DH_params": req_dh, "server_DH_params_ok": dh_ok,
            "set_client_DH_params": set_dh, "dh_gen_ok": dh_gen_ok}
    for name, m in msgs.items():
        assert len(m) == published_lengths[name], name
    v.update(nonce=nonce, server_nonce=sn, new_nonce=nn, pq=pq, p=p, q=q, inner=inner, fp_used=H(fp_used),
             tmp_aes_key=key, tmp_aes_iv=iv, encrypted_answer=enc_answer, answer_with_hash=awh, answer=answer,
             answer_padding=awh[20 + 564:], g=g, dh_prime=p_prime, g_a=g_a, b=H(d["b"]), g_b=g_b,
             auth_key=auth_key, client_inner=client_inner, client_padding=client_padding,
             client_encrypted_data=H(d["client_encrypted_data"]), aux=aux, nnh=nnh,
             auth_key_id=sha1(auth_key)[12:], salt=bytes(x ^ y for x, y in zip(nn[:8], sn[:8])), msgs=msgs,
             encrypted_data=H(d["encrypted_data"]))
    return v


class Tests:
    def __init__(self):
        self.n = 0

    def t(self, comment, args, expect, flags, result="valid"):
        self.n += 1
        return {"tcId": self.n, "comment": comment, "flags": flags, "result": result, "args": args, "expect": expect}


def hx(b):
    return b.hex()


def main_vectors(o, n):
    T = Tests()
    P, D = ["Published"], ["Derived"]
    ex = (("older example", o, True), ("req_pq_multi example", n, False))
    groups = []

    def group(op, comment, tests):
        groups.append({"op": op, "comment": comment, "tests": tests})

    group("pq_factor", "step 3: pq into p < q", [
        T.t(name + ": pq " + hx(v["pq"]), {"pq": hx(v["pq"])}, {"p": hx(v["p"]), "q": hx(v["q"])}, P)
        for name, v, old in ex])
    tests = []
    for name, v, old in ex:
        nn_, e_ = key_ne(hx(v["fp_used"]))
        tests.append(T.t(name + ": the key the client chose", {"n": nn_, "e": e_}, {"fingerprint": hx(v["fp_used"])},
                         P + ["KeyFromClientCode"]))
    group("rsa_fingerprint", "step 2: fingerprint of the server key used (n, e from vectors/rsa/telegram_keys.json)",
          tests)
    group("sha1", "SHA1 of the inner data (step 4, old scheme) and of server_DH_inner_data (step 6)", [
        T.t("older example: SHA1(p_q_inner_data)", {"data": hx(o["inner"])}, {"hash": OLD["sha1_inner"].lower()}, P),
        T.t("older example: SHA1(server_DH_inner_data)", {"data": hx(o["answer"])},
            {"hash": hx(o["answer_with_hash"][:20])}, D),
        T.t("req_pq_multi example: SHA1(server_DH_inner_data)", {"data": hx(n["answer"])},
            {"hash": hx(n["answer_with_hash"][:20])}, P),
    ])
    group("tmp_aes", "step 5: tmp_aes_key and tmp_aes_iv from new_nonce and server_nonce", [
        T.t(name, {"new_nonce": hx(v["new_nonce"]), "server_nonce": hx(v["server_nonce"])},
            {"tmp_aes_key": hx(v["tmp_aes_key"]), "tmp_aes_iv": hx(v["tmp_aes_iv"])}, P) for name, v, old in ex])
    group("aes_ige_decrypt", "step 6: encrypted_answer decrypts to SHA1(answer) + answer + padding", [
        T.t(name, {"key": hx(v["tmp_aes_key"]), "iv": hx(v["tmp_aes_iv"]), "data": hx(v["encrypted_answer"])},
            {"out": hx(v["answer_with_hash"])}, D if old else P) for name, v, old in ex])
    tests = []
    for name, v, old in ex:
        tests.append(T.t(name + ": encrypted_answer, 564-byte server_DH_inner_data",
                         {"key": hx(v["tmp_aes_key"]), "iv": hx(v["tmp_aes_iv"]),
                          "encrypted_data": hx(v["encrypted_answer"]), "data_len": 564},
                         {"data": hx(v["answer"])}, P))
        tests.append(T.t(name + ": set_client_DH_params.encrypted_data, 304-byte client_DH_inner_data",
                         {"key": hx(v["tmp_aes_key"]), "iv": hx(v["tmp_aes_iv"]),
                          "encrypted_data": hx(v["client_encrypted_data"]), "data_len": 304},
                         {"data": hx(v["client_inner"])}, P))
    bad = bytearray(n["encrypted_answer"])
    bad[100] ^= 1
    tests.append(T.t("req_pq_multi example: one bit of encrypted_answer flipped", {
        "key": hx(n["tmp_aes_key"]), "iv": hx(n["tmp_aes_iv"]), "encrypted_data": hx(bytes(bad)), "data_len": 564},
        {"error": "inner_data_hash_mismatch"}, ["Modified"], "invalid"))
    tests.append(T.t("req_pq_multi example: encrypted_answer cut to a length that is not a multiple of 16", {
        "key": hx(n["tmp_aes_key"]), "iv": hx(n["tmp_aes_iv"]), "encrypted_data": hx(n["encrypted_answer"][:-4]),
        "data_len": 564}, {"error": "inner_data_bad_length"}, ["Modified"], "invalid"))
    tests.append(T.t("req_pq_multi example: the parsed object claims more bytes than were decrypted", {
        "key": hx(n["tmp_aes_key"]), "iv": hx(n["tmp_aes_iv"]), "encrypted_data": hx(n["encrypted_answer"]),
        "data_len": 573}, {"error": "inner_data_bad_padding"}, ["Modified"], "invalid"))
    group("inner_decrypt", "steps 6/7: decrypt, then check SHA1 over the data_len bytes the TL parse found and at "
          "most 15 bytes of padding", tests)
    group("inner_encrypt", "step 7: client_DH_inner_data -> encrypted_data with the client's padding", [
        T.t(name, {"key": hx(v["tmp_aes_key"]), "iv": hx(v["tmp_aes_iv"]), "data": hx(v["client_inner"]),
                   "padding": hx(v["client_padding"])},
            {"encrypted_data": hx(v["client_encrypted_data"])}, (D if old else P)) for name, v, old in ex])
    group("dh_check", "step 6: the client's checks of dh_prime, g and g_a (always the full primality tests)", [
        T.t("older example (g = 2): dh_prime mod 8 = 3, so 2 is not a quadratic residue and does not generate the "
            "subgroup of order (p-1)/2; the example predates the residue check and fails it",
            {"dh_prime": hx(o["dh_prime"]), "g": o["g"], "g_a": hx(o["g_a"])},
            {"valid": False, "reason": "dh_g_bad_residue"}, P + ["ExampleFailsCheck"], "invalid"),
        T.t("req_pq_multi example (g = 3)", {"dh_prime": hx(n["dh_prime"]), "g": n["g"], "g_a": hx(n["g_a"])},
            {"valid": True}, P)])
    tests = []
    for name, v, old in ex:
        tests.append(T.t(name + ": g_b = g^b mod dh_prime", {"base": "%02x" % v["g"], "exp": hx(v["b"]),
                                                               "mod": hx(v["dh_prime"])}, {"result": hx(v["g_b"])}, P))
        tests.append(T.t(name + ": auth_key = g_a^b mod dh_prime", {"base": hx(v["g_a"]), "exp": hx(v["b"]),
                                                                      "mod": hx(v["dh_prime"])},
                         {"result": hx(v["auth_key"].lstrip(b"\0"))}, P))
    group("dh_modexp", "steps 7-8: the client's DH arithmetic", tests)
    group("auth_key_aux_hash", "step 9: auth_key_aux_hash = SHA1(auth_key)[0..8]", [
        T.t(name, {"auth_key": hx(v["auth_key"])}, {"hash": hx(v["aux"])}, D) for name, v, old in ex])
    group("auth_key_id", "auth_key_id = SHA1(auth_key)[12..20]", [
        T.t(name, {"auth_key": hx(v["auth_key"])}, {"auth_key_id": hx(v["auth_key_id"])}, D) for name, v, old in ex])
    tests = []
    for name, v, old in ex:
        for i in (1, 2, 3):
            tests.append(T.t("%s: new_nonce_hash%d" % (name, i),
                             {"new_nonce": hx(v["new_nonce"]), "auth_key": hx(v["auth_key"]), "number": i},
                             {"hash": hx(v["nnh"][i - 1])}, P if i == 1 else D))
    group("new_nonce_hash", "step 9: dh_gen_ok / dh_gen_retry / dh_gen_fail hashes", tests)
    group("server_salt", "the first server_salt = new_nonce[0..8] XOR server_nonce[0..8]", [
        T.t(name, {"new_nonce": hx(v["new_nonce"]), "server_nonce": hx(v["server_nonce"])}, {"salt": hx(v["salt"])}, D)
        for name, v, old in ex])
    return {
        "format": "mtprobe-vectors/1",
        "title": "The worked auth-key examples of core.telegram.org/mtproto/samples-auth_key",
        "source": OLD["source"] + "; " + NEW["source"],
        "generator": "Values marked Published are copied from the page; values marked Derived were computed with "
                     "Python %s hashlib/pow and Telethon %s AES-IGE, after the script checked every published value "
                     "against the others: vectors/gen/samples_auth_key.py" % (sys.version.split()[0], telethon.__version__),
        "spec": SPEC,
        "requirements": ["C-HS-8", "C-HS-9", "C-HS-10", "C-HS-11", "C-HS-13", "C-DH-1", "C-DH-2", "C-DH-4"],
        "notes": {
            "Published": "the expected value is printed on the page",
            "Derived": "the page does not print this value; it was computed from published ones",
            "Modified": "a published value changed on purpose to exercise a check",
            "ExampleFailsCheck": "the published example itself fails a check the current spec requires",
            "KeyFromClientCode": "n and e are not on the page: the key is the one with the published fingerprint "
                                 "(see vectors/rsa/telegram_keys.json)",
        },
        "testGroups": groups,
    }


def tl_json(name, v, old):
    """The TL objects of one example as {constructor, fields} in the docs/tl-json.md mapping: int as number,
    int128/int256/bytes as hex in wire order; long as a string of decimal digits."""
    s64 = lambda b: str(struct.unpack("<q", b)[0])  # noqa: E731  (TL long: a decimal string, docs/tl-json.md)
    objs = [
        ("req_pq" if old else "req_pq_multi", v["msgs"]["req_pq"][20:],
         {"_": "req_pq" if old else "req_pq_multi", "nonce": hx(v["nonce"])}),
        ("resPQ", v["msgs"]["resPQ"][20:],
         {"_": "resPQ", "nonce": hx(v["nonce"]), "server_nonce": hx(v["server_nonce"]), "pq": hx(v["pq"]),
          "server_public_key_fingerprints": [s64(H(f)) for f in (OLD if old else NEW)["fingerprints"]]}),
        ("p_q_inner_data" if old else "p_q_inner_data_dc", v["inner"],
         dict({"_": "p_q_inner_data" if old else "p_q_inner_data_dc", "pq": hx(v["pq"]), "p": hx(v["p"]),
               "q": hx(v["q"]), "nonce": hx(v["nonce"]), "server_nonce": hx(v["server_nonce"]),
               "new_nonce": hx(v["new_nonce"])}, **({} if old else {"dc": NEW["dc"]}))),
        ("req_DH_params", v["msgs"]["req_DH_params"][20:],
         {"_": "req_DH_params", "nonce": hx(v["nonce"]), "server_nonce": hx(v["server_nonce"]), "p": hx(v["p"]),
          "q": hx(v["q"]), "public_key_fingerprint": s64(v["fp_used"]), "encrypted_data": hx(v["encrypted_data"])}),
        ("server_DH_params_ok", v["msgs"]["server_DH_params_ok"][20:],
         {"_": "server_DH_params_ok", "nonce": hx(v["nonce"]), "server_nonce": hx(v["server_nonce"]),
          "encrypted_answer": hx(v["encrypted_answer"])}),
        ("server_DH_inner_data", v["answer"],
         {"_": "server_DH_inner_data", "nonce": hx(v["nonce"]), "server_nonce": hx(v["server_nonce"]), "g": v["g"],
          "dh_prime": hx(v["dh_prime"]), "g_a": hx(v["g_a"]), "server_time": (OLD if old else NEW)["server_time"]}),
        ("client_DH_inner_data", v["client_inner"],
         {"_": "client_DH_inner_data", "nonce": hx(v["nonce"]), "server_nonce": hx(v["server_nonce"]),
          "retry_id": "0", "g_b": hx(v["g_b"])}),
        ("set_client_DH_params", v["msgs"]["set_client_DH_params"][20:],
         {"_": "set_client_DH_params", "nonce": hx(v["nonce"]), "server_nonce": hx(v["server_nonce"]),
          "encrypted_data": hx(v["client_encrypted_data"])}),
        ("dh_gen_ok", v["msgs"]["dh_gen_ok"][20:],
         {"_": "dh_gen_ok", "nonce": hx(v["nonce"]), "server_nonce": hx(v["server_nonce"]),
          "new_nonce_hash1": hx(v["nnh"][0])}),
    ]
    return objs


def messages_vectors(o, n):
    T = Tests()
    tests = []
    for name, v, old in (("older example", o, True), ("req_pq_multi example", n, False)):
        for obj, data, js in tl_json(name, v, old):
            tests.append(T.t("%s: %s" % (name, obj), {"data": hx(data)}, {"json": js}, ["Published"]))
    return {
        "format": "mtprobe-vectors/1",
        "title": "TL messages of the samples-auth_key examples, for the TL decoder",
        "source": OLD["source"] + "; " + NEW["source"],
        "generator": "message bodies re-serialised from the published fields and checked against the page's sizes: "
                     "vectors/gen/samples_auth_key.py",
        "spec": SPEC + ["https://core.telegram.org/mtproto/serialize"],
        "requirements": [],
        "notes": {"Published": "every field value is printed on the page",
                  "json": "proposed tl_decode answer form: '_' = constructor, int as a number, long as a signed "
                          "number, int128/int256/bytes as hex in wire order, vectors as arrays"},
        "testGroups": [{"op": "tl_decode", "comment": "the body of each message (after auth_key_id, msg_id and "
                        "message_length), and the inner data objects", "args": {"schema": "mtproto"},
                        "tests": tests}],
    }


def kat_data(o, n):
    def one(v, d, old):
        return {
            "client_messages": {k: hx(v["msgs"][k]) for k in ("req_pq", "req_DH_params", "set_client_DH_params")},
            "server_messages": {k: hx(v["msgs"][k]) for k in ("resPQ", "server_DH_params_ok", "dh_gen_ok")},
            "client_random": {
                "nonce": hx(v["nonce"]), "new_nonce": hx(v["new_nonce"]),
                "rsa_random_padding": None if old else NEW["random_padding_bytes"].lower(),
                "rsa_temp_key": None, "b": hx(v["b"]), "client_dh_inner_padding": hx(v["client_padding"])},
            "server_random": {"server_nonce": hx(v["server_nonce"]), "answer_padding": hx(v["answer_padding"])},
            "values": {
                "pq": hx(v["pq"]), "p": hx(v["p"]), "q": hx(v["q"]), "public_key_fingerprint": hx(v["fp_used"]),
                "inner_data": hx(v["inner"]), "encrypted_data": hx(v["encrypted_data"]),
                "tmp_aes_key": hx(v["tmp_aes_key"]), "tmp_aes_iv": hx(v["tmp_aes_iv"]),
                "answer_with_hash": hx(v["answer_with_hash"]), "answer_len": 564,
                "g": v["g"], "dh_prime": hx(v["dh_prime"]), "g_a": hx(v["g_a"]), "server_time": d["server_time"],
                "g_b": hx(v["g_b"]), "client_dh_inner_data": hx(v["client_inner"]),
                "client_encrypted_data": hx(v["client_encrypted_data"]), "auth_key": hx(v["auth_key"]),
                "auth_key_aux_hash": hx(v["aux"]), "auth_key_id": hx(v["auth_key_id"]),
                "new_nonce_hash1": hx(v["nnh"][0]), "new_nonce_hash2": hx(v["nnh"][1]),
                "new_nonce_hash3": hx(v["nnh"][2]), "server_salt": hx(v["salt"])},
        }
    return {
        "format": "mtprobe-kat-data/1",
        "title": "Raw messages and random values of the samples-auth_key examples, for replaying an exchange",
        "source": OLD["source"] + "; " + NEW["source"],
        "generator": "vectors/gen/samples_auth_key.py (messages rebuilt from published fields, every value checked)",
        "notes": [
            "Messages are complete unencrypted MTProto messages (auth_key_id = 0, msg_id, message_length, body), "
            "without transport framing.",
            "client_random lists the client's random values in the order it draws them: nonce, new_nonce, the RSA "
            "padding and temp_key (RSA_PAD) or padding (old scheme), b, then the padding of client_DH_inner_data.",
            "rsa_temp_key (RSA_PAD) and the old scheme's RSA padding are not published, and the server keys' private "
            "halves are secret, so req_DH_params.encrypted_data cannot be reproduced or decrypted: a replay must "
            "take it from client_messages.",
            "The older example uses req_pq (0x60469778), p_q_inner_data and g = 2; the newer one req_pq_multi, "
            "p_q_inner_data_dc (dc 2), RSA_PAD and g = 3. Both use the same dh_prime.",
            "answer_padding and the older example's client_dh_inner_padding are not printed on the page; they were "
            "recovered by decrypting the published ciphertexts.",
        ],
        "examples": {"old": one(o, OLD, True), "new": one(n, NEW, False)},
    }


def main():
    o, n = derive(OLD, True), derive(NEW, False)
    out = ROOT / "auth"
    for fname, doc in (("samples_auth_key.json", main_vectors(o, n)),
                       ("samples_auth_key_messages.json", messages_vectors(o, n)),
                       ("samples_auth_key.kat-data.json", kat_data(o, n))):
        (out / fname).write_text(json.dumps(doc, indent=2) + "\n")
        print("wrote", out / fname, file=sys.stderr)


if __name__ == "__main__":
    main()
