#!/usr/bin/env node
/* Generates vectors/msgcrypt/msgcrypt_gramjs.json: MTProto 2.0 message crypto
 * in both directions, computed with GramJS (npm package `telegram`), a second
 * implementation independent of Telethon and of OpenSSL's AES (its IGE runs on
 * the pure-JavaScript @cryptography/aes; SHA-256 comes from Node's crypto):
 *
 *   - auth_key_id:     AuthKey.setKey(key).keyId, written as in encryptMessageData
 *   - aes key/iv:      MTProtoState._calcKey(authKey, msgKey, client)
 *   - AES-256-IGE:     telegram/crypto/IGE (@cryptography/aes)
 *   - client packets:  MTProtoState.encryptMessageData end to end, its padding
 *                      bytes supplied through helpers.generateRandomBytes
 *   - server packets:  built from _calcKey(client=false), IGE and sha256, and
 *                      each valid one required to pass MTProtoState.decryptMessageData
 *
 * Install GramJS outside the repository and point NODE_PATH at it:
 *   npm install --prefix /tmp/gramjs telegram@2.26.22
 *   NODE_PATH=/tmp/gramjs/node_modules node vectors/gen/gen_msgcrypt_gramjs.js
 * Inputs come from the same SHA-256 counter stream as the Python generators
 * (own label), so the output is reproducible byte for byte. */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const telegram = require("telegram");
const { AuthKey } = require("telegram/crypto/AuthKey");
const { IGE } = require("telegram/crypto/IGE");
const { MTProtoState } = require("telegram/network/MTProtoState");
const Helpers = require("telegram/Helpers");
const bigInt = require("big-integer");

const SEED = Buffer.from("mtprobe msgcrypt vectors v1");
const OUT = path.join(__dirname, "..", "msgcrypt", "msgcrypt_gramjs.json");

class DetStream {
    constructor(label) {
        this.prefix = Buffer.concat([SEED, Buffer.from("|" + label + "|")]);
        this.counter = 0n;
        this.buf = Buffer.alloc(0);
    }
    read(n) {
        while (this.buf.length < n) {
            const c = Buffer.alloc(8);
            c.writeBigUInt64LE(this.counter++);
            const h = crypto.createHash("sha256").update(Buffer.concat([this.prefix, c])).digest();
            this.buf = Buffer.concat([this.buf, h]);
        }
        const out = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return Buffer.from(out);
    }
}

const quietLog = { debug() {}, info() {}, warn() {}, error() {} };
const xOf = (sender) => (sender === "client" ? 0 : 8);
const minPadding = (n) => ((((-(n + 12)) % 16) + 16) % 16) + 12;
const title = (s) => s[0].toUpperCase() + s.slice(1) + "Sender";

async function keyObj(key) {
    const ak = new AuthKey();
    await ak.setKey(key);
    return ak;
}

async function keyId(key) {
    return Helpers.readBufferFromBigInt((await keyObj(key)).keyId, 8);
}

async function msgKeyOf(authKey, sender, plain) {
    const x = xOf(sender);
    return (await Helpers.sha256(Buffer.concat([authKey.subarray(88 + x, 120 + x), plain]))).subarray(8, 24);
}

async function encryptWithKey(authKey, sender, plain, msgKey) {
    const state = new MTProtoState(undefined, quietLog);
    const { key, iv } = await state._calcKey(authKey, msgKey, sender === "client");
    return Buffer.concat([await keyId(authKey), msgKey, new IGE(key, iv).encryptIge(plain)]);
}

async function encrypt(authKey, sender, plain) {
    if (plain.length % 16) throw new Error("unpadded plaintext");
    return encryptWithKey(authKey, sender, plain, await msgKeyOf(authKey, sender, plain));
}

/* The client path end to end: encryptMessageData prepends salt and session id
 * and pads with generateRandomBytes, which is fed the plaintext's own padding. */
async function gramjsClientPacket(authKey, plain) {
    const state = new MTProtoState(await keyObj(authKey), quietLog);
    state.salt = Helpers.readBigIntFromBuffer(plain.subarray(0, 8), true, true);
    state.id = Helpers.readBigIntFromBuffer(plain.subarray(8, 16), true, true);
    const mdl = plain.readUInt32LE(28);
    const inner = plain.subarray(16, 32 + mdl);
    const padding = plain.subarray(32 + mdl);
    if (padding.length !== minPadding(16 + inner.length)) throw new Error("GramJS only makes minimal padding");
    const real = telegram.helpers.generateRandomBytes;
    telegram.helpers.generateRandomBytes = (n) => (n === padding.length ? Buffer.from(padding) : real(n));
    try {
        return await state.encryptMessageData(Buffer.from(inner));
    } finally {
        telegram.helpers.generateRandomBytes = real;
    }
}

async function gramjsAcceptsServerPacket(authKey, packet, sessionId) {
    const state = new MTProtoState(await keyObj(authKey), quietLog);
    state.id = Helpers.readBigIntFromBuffer(sessionId, true, true);
    const msg = await state.decryptMessageData(packet);
    return msg && msg.obj && msg.obj.className === "BadServerSalt";
}

function plaintext(rnd, sender, data, padLen, mdl, sessionId) {
    const salt = rnd.read(8);
    const session = sessionId || rnd.read(8);
    let msgId = (0x66000000n << 32n) | BigInt((rnd.read(4).readUInt32LE(0) & ~3) >>> 0);
    if (sender === "server") msgId |= 1n;
    const hdr = Buffer.alloc(16);
    hdr.writeBigInt64LE(msgId, 0);
    hdr.writeInt32LE(1, 8);
    hdr.writeUInt32LE((mdl === undefined ? data.length : mdl) >>> 0, 12);
    const plain = Buffer.concat([salt, session, hdr, data, rnd.read(padLen)]);
    if (plain.length % 16) throw new Error(`unaligned plaintext ${data.length} + ${padLen}`);
    return plain;
}

function badServerSalt(rnd) {
    const obj = new telegram.Api.BadServerSalt({
        badMsgId: bigInt(0x66000000).shiftLeft(32),
        badMsgSeqno: 3,
        errorCode: 48,
        newServerSalt: Helpers.readBigIntFromBuffer(rnd.read(8), true, true),
    });
    return Buffer.from(obj.getBytes());
}

async function main() {
    const rnd = new DetStream("gramjs inputs");
    const authKey = rnd.read(256);
    const otherKey = rnd.read(256);
    let tc = 0;
    const test = (comment, result, args, expect, flags) => ({ tcId: ++tc, comment, flags: flags || [], result, args, expect });

    const idTests = [];
    for (const [name, k] of [["the main key of this file", authKey], ["the second key of this file", otherKey],
        ["random key", rnd.read(256)]])
        idTests.push(test(name, "valid", { auth_key: k.toString("hex") }, { auth_key_id: (await keyId(k)).toString("hex") }));

    const kdfTests = [];
    for (const sender of ["client", "server"]) {
        for (let i = 0; i < 3; i++) {
            const mk = rnd.read(16);
            const { key, iv } = await new MTProtoState(undefined, quietLog)._calcKey(authKey, mk, sender === "client");
            kdfTests.push(test(`x = ${xOf(sender)}`, "valid", { sender, msg_key: mk.toString("hex") },
                { aes_key: key.toString("hex"), aes_iv: iv.toString("hex") }, [title(sender)]));
        }
    }

    const encTests = [], decTests = [], badTests = [];
    const checked = { client: 0, server: 0 };
    for (const sender of ["client", "server"]) {
        const valid = [];
        for (const [dataLen, pad, what] of [[28, null, "28-byte body, minimal padding"], [36, 12, "padding exactly 12 bytes"],
            [200, null, "200-byte body"], [48, 1024, "padding exactly 1024 bytes"], [2000, 304, "2000-byte body, 304 bytes of padding"]]) {
            const sessionId = rnd.read(8);
            const data = Buffer.concat([badServerSalt(rnd), rnd.read(dataLen - 28)]);
            const padLen = pad === null ? minPadding(32 + dataLen) : pad;
            const plain = plaintext(rnd, sender, data, padLen, undefined, sessionId);
            const packet = await encrypt(authKey, sender, plain);
            if (sender === "client" && padLen === minPadding(32 + dataLen)) {
                if (!(await gramjsClientPacket(authKey, plain)).equals(packet)) throw new Error("client path differs");
                checked.client++;
            }
            if (sender === "server") {
                if (!(await gramjsAcceptsServerPacket(authKey, packet, sessionId))) throw new Error("GramJS rejects");
                checked.server++;
            }
            const flags = [title(sender)].concat(pad === 12 || pad === 1024 ? ["Boundary"] : []);
            valid.push(plain);
            encTests.push(test(`${what}, from the ${sender}`, "valid", { sender, plaintext: plain.toString("hex") },
                { packet: packet.toString("hex") }, flags));
            decTests.push(test(`${what}, from the ${sender}`, "valid", { sender, packet: packet.toString("hex") },
                { plaintext: plain.toString("hex") }, flags));
        }
        const bad = (comment, packet, error, flags) => badTests.push(test(`${comment} (from the ${sender})`, "invalid",
            { sender, packet: packet.toString("hex") }, { error }, [title(sender)].concat(flags)));
        const plain = valid[2];
        const packet = await encrypt(authKey, sender, plain);
        const other = sender === "client" ? "server" : "client";
        bad("auth_key_id of another key", Buffer.concat([await keyId(otherKey), packet.subarray(8)]), "auth_key_id_mismatch",
            ["WrongAuthKeyId", "KeyIdOnly"]);
        bad("valid packet plus 8 bytes", Buffer.concat([packet, rnd.read(8)]), "bad_ciphertext_length", ["BadLength"]);
        const flipped = Buffer.from(packet);
        flipped[flipped.length - 20] ^= 0x10;
        bad("one ciphertext bit flipped", flipped, "msg_key_mismatch", ["MsgKey", "FlippedBit"]);
        bad(`built with the other direction's x = ${xOf(other)}`, await encrypt(authKey, other, plain), "msg_key_mismatch",
            ["MsgKey", "WrongDirection"]);
        for (const [mdlOf, comment, error, flags] of [
            [(room) => room + 8, "message_data_length 8 bytes beyond the plaintext", "bad_message_length", ["BadMessageLength"]],
            [() => 0x80000004, "message_data_length negative as int32", "bad_message_length", ["BadMessageLength", "NegativeLength"]],
            [() => 42, "message_data_length 42: not a multiple of 4", "unaligned_message_length",
             ["UnalignedLength", "AlignmentOnly"]],
            [(room) => room - 4, "padding 4 bytes", "bad_padding_length", ["BadPadding"]]]) {
            const p = plaintext(rnd, sender, rnd.read(60), minPadding(92));
            const room = p.length - 32;
            p.writeUInt32LE(mdlOf(room) >>> 0, 28);
            bad(comment, await encrypt(authKey, sender, p), error, flags);
        }
        const p = plaintext(rnd, sender, rnd.read(16), 1040);
        bad("padding 1040 bytes", await encrypt(authKey, sender, p), "bad_padding_length", ["BadPadding"]);
    }

    const pkg = require("telegram/package.json");
    const aesPkg = require(require.resolve("@cryptography/aes/package.json", { paths: [path.dirname(require.resolve("telegram"))] }));
    const doc = {
        format: "mtprobe-vectors/1",
        title: "MTProto 2.0 message crypto (both directions), generated with GramJS",
        source: "computed by an independent implementation (see generator) from inputs drawn from a SHA-256 counter "
            + "stream with a fixed seed; formulas from core.telegram.org/mtproto/description, checks from "
            + "core.telegram.org/mtproto/security_guidelines",
        generator: `GramJS (npm telegram ${pkg.version}: AuthKey, MTProtoState._calcKey / encryptMessageData / `
            + `decryptMessageData, crypto/IGE over @cryptography/aes ${aesPkg.version}), Node ${process.versions.node} `
            + "crypto SHA-256; script vectors/gen/gen_msgcrypt_gramjs.js",
        spec: ["https://core.telegram.org/mtproto/description#defining-aes-key-and-initialization-vector",
            "https://core.telegram.org/mtproto/security_guidelines#checking-sha256-hash-value-of-msg-key",
            "https://core.telegram.org/mtproto/security_guidelines#checking-message-length"],
        requirements: ["C-ENC-14", "C-ENC-15", "C-ENC-16", "C-ENC-17", "C-ENC-18", "C-ENC-19", "C-ENC-20"],
        notes: {
            ClientSender: "message sent by the client: x = 0",
            ServerSender: "message sent by the server: x = 8",
            Boundary: "padding at a bound of 12..1024",
            WrongAuthKeyId: "auth_key_id is not the key's",
            KeyIdOnly: {
                description: "a packet whose only fault is its auth_key_id: no page tells the receiver to compare " +
                             "it (the msg_key check is what catches another key)",
                level: "INFO", requirement: "C-ENC-14",
            },
            BadLength: "ciphertext not a multiple of 16",
            MsgKey: "msg_key does not verify",
            FlippedBit: "one bit of a valid packet flipped",
            WrongDirection: "packet built with the other direction's x",
            BadMessageLength: "message_data_length (read unsigned) beyond the plaintext after the header",
            NegativeLength: "message_data_length negative as a signed int32",
            UnalignedLength: "message_data_length not a multiple of 4",
            AlignmentOnly: {
                description: "message_data_length not a multiple of 4, and every MUST check passes: only " +
                             "\"The length should be always divisible by 4\" rejects it",
                level: "SHOULD", requirement: "C-ENC-19",
            },
            BadPadding: "padding outside 12..1024 bytes",
        },
        testGroups: [
            { op: "auth_key_id", comment: "low 64 bits of SHA1(auth_key), as on the wire", tests: idTests },
            { op: "msg_kdf", comment: "aes_key / aes_iv from msg_key", args: { auth_key: authKey.toString("hex") }, tests: kdfTests },
            { op: "msg_encrypt", comment: "complete padded plaintexts to packets", args: { auth_key: authKey.toString("hex") }, tests: encTests },
            { op: "msg_decrypt", comment: "valid packets to plaintexts", args: { auth_key: authKey.toString("hex") }, tests: decTests },
            { op: "msg_decrypt", comment: "packets a receiver must reject, with the first failed check",
                args: { auth_key: authKey.toString("hex") }, tests: badTests },
        ],
    };
    fs.writeFileSync(OUT, JSON.stringify(doc, null, 1) + "\n");
    process.stderr.write(`wrote ${path.normalize(OUT)} (${tc} tests; GramJS end-to-end cross-checks: ${JSON.stringify(checked)})\n`);
}

main().catch((e) => {
    process.stderr.write(`${e.stack}\n`);
    process.exit(1);
});
