#!/usr/bin/env node
/* RSA_PAD and old-scheme RSA vectors -> vectors/rsa/rsa_pad.json, computed by GramJS.
 *
 * Independent implementation: GramJS (npm package "telegram"), whose
 * network/Authenticator.js implements RSA_PAD (step 4.1 of
 * core.telegram.org/mtproto/auth_key) and crypto/RSA.js the old
 * SHA1 + data + padding scheme.  The script drives GramJS's real code: it
 * scripts Helpers.generateRandomBytes, registers the test key in
 * RSA._serverKeys, answers req_pq_multi with a resPQ offering that key, and
 * captures req_DH_params.encrypted_data.  A temp_key whose key_aes_encrypted is
 * not below the modulus is recognised by GramJS drawing a second temp_key.
 *
 * Setup (outside git: directories named build* are ignored):
 *   npm install --prefix build-gramjs telegram
 *   node vectors/gen/rsa_pad.js build-gramjs/node_modules
 */
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");

const modules = path.resolve(process.argv[2] || "build-gramjs/node_modules");
const req = (m) => require(path.join(modules, m));
const Helpers = req("telegram/Helpers");
const RSA = req("telegram/crypto/RSA");
const { Api } = req("telegram/tl");
const { doAuthentication } = req("telegram/network/Authenticator");
const bigInt = req("big-integer");
const gramjsVersion = JSON.parse(fs.readFileSync(path.join(modules, "telegram/package.json"))).version;

const root = path.resolve(__dirname, "..");
const privPem = fs.readFileSync(path.join(root, "rsa/test_key_private.pem"), "utf8");
const jwk = crypto.createPrivateKey(privPem).export({ format: "jwk" });
const b64 = (s) => Buffer.from(s, "base64url");
const nBuf = b64(jwk.n), eBuf = b64(jwk.e);
const n = bigInt(nBuf.toString("hex"), 16), e = bigInt(eBuf.toString("hex"), 16);
const FP = "-1234567890123456789"; // any id: GramJS looks keys up by it
RSA._serverKeys.set(FP, { n, e });

/* Deterministic "random" bytes: SHA-256 counter stream from a label. */
function stream(label, len) {
  const out = [];
  for (let i = 0; Buffer.concat(out).length < len; i++)
    out.push(crypto.createHash("sha256").update(label + "/" + i).digest());
  return Buffer.concat(out).subarray(0, len);
}

/* Runs GramJS's step 1-2 with scripted randomness; returns what it encrypted and sent. */
async function gramjsRsaPad(pqHex, serverNonce, randoms) {
  const queue = randoms.slice();
  let draws = 0;
  Helpers.generateRandomBytes = (count) => {
    const next = queue.shift();
    if (!next || next.length !== count) throw new Error(`unexpected random draw of ${count} bytes (draw ${draws})`);
    draws++;
    return Buffer.from(next);
  };
  let captured = null;
  const sender = {
    send: async (r) => {
      if (r instanceof Api.ReqPqMulti)
        return new Api.ResPQ({ nonce: r.nonce, serverNonce: serverNonce, pq: Buffer.from(pqHex, "hex"),
                               serverPublicKeyFingerprints: [bigInt(FP)] });
      if (r instanceof Api.ReqDHParams) {
        captured = r;
        throw new Error("captured");
      }
      throw new Error("unexpected request");
    },
  };
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  try {
    await doAuthentication(sender, log);
  } catch (err) {
    if (err.message !== "captured") throw err;
  }
  if (!captured) throw new Error("GramJS did not send req_DH_params");
  return { encrypted: Buffer.from(captured.encryptedData), draws, p: captured.p, q: captured.q };
}

function innerData(pqHex, p, q, nonce, serverNonce, newNonce) {
  return new Api.PQInnerData({ pq: Buffer.from(pqHex, "hex"), p, q, nonce, serverNonce, newNonce }).getBytes();
}

async function main() {
  const tests = { enc: [], dec: [], oldEnc: [], oldDec: [] };
  let tc = 0;
  const t = (comment, args, expect, flags, result = "valid") =>
    ({ tcId: ++tc, comment, flags, result, args, expect });
  const hx = (b) => Buffer.from(b).toString("hex");
  const serverNonce = Helpers.readBigIntFromBuffer(stream("server_nonce", 16), true, true);
  const pqs = ["17ed48941a08f981", "130b7475669feb8b", "2e9cdb98c80cda4b"];
  let retried = 0;
  for (let i = 0; i < pqs.length; i++) {
    const nonce = stream("nonce" + i, 16), newNonce = stream("new_nonce" + i, 32);
    // data is 96 bytes for an 8-byte pq with 4-byte p and q
    const pad = stream("padding" + i, 192 - 96);
    const tks = [];
    for (let k = 0; k < 16; k++) tks.push(stream("temp_key" + i + "/" + k, 32));
    const r = await gramjsRsaPad(pqs[i], serverNonce, [nonce, newNonce, pad, ...tks]);
    const data = innerData(pqs[i], r.p, r.q, Helpers.readBigIntFromBuffer(nonce, false, true), serverNonce,
                           Helpers.readBigIntFromBuffer(newNonce, true, true));
    if (data.length !== 96) throw new Error("unexpected inner data length " + data.length);
    const used = r.draws - 4; // draws: nonce, new_nonce, padding, then one per temp_key tried
    for (let k = 0; k < used; k++) {
      retried++;
      tests.enc.push(t(`pq ${pqs[i]}: temp_key #${k} gives key_aes_encrypted >= modulus, the client draws another`,
        { data: hx(data), temp_key: hx(tks[k]), random_padding: hx(pad) }, { error: "retry" }, ["Retry", "RetryRule"],
        "invalid"));
    }
    tests.enc.push(t(`p_q_inner_data for pq ${pqs[i]} (96 bytes), 96 bytes of padding` +
                     (used ? `, temp_key #${used} (GramJS rejected the ${used} before it)` : ""),
      { data: hx(data), temp_key: hx(tks[used]), random_padding: hx(pad) }, { encrypted_data: hx(r.encrypted) },
      used ? ["Retry"] : []));
    tests.dec.push(t(`decrypts the vector for pq ${pqs[i]}`, { encrypted_data: hx(r.encrypted) },
      { data_with_padding: hx(Buffer.concat([data, pad])), temp_key: hx(tks[used]) }, []));
    if (i === 0) {
      const bad = Buffer.from(r.encrypted);
      bad[255] ^= 1;
      tests.dec.push(t("one bit of encrypted_data flipped: the SHA256 check fails",
        { encrypted_data: hx(bad) }, { error: "rsa_pad_hash_mismatch" }, ["Modified", "ServerCheck"], "invalid"));
      tests.dec.push(t("encrypted_data equal to the modulus", { encrypted_data: hx(nBuf) },
        { error: "rsa_out_of_range" }, ["Modified", "ServerCheck"], "invalid"));
      tests.dec.push(t("255 bytes of encrypted_data", { encrypted_data: hx(r.encrypted.subarray(1)) },
        { error: "rsa_bad_length" }, ["Modified", "ServerCheck"], "invalid"));
      tests.enc.push(t("145 bytes of data: more than RSA_PAD takes",
        { data: hx(Buffer.concat([data, stream("long", 49)])), temp_key: hx(tks[used]),
          random_padding: hx(stream("p47", 47)) },
        { error: "rsa_data_too_long" }, ["Modified"], "invalid"));
    }
  }
  if (retried === 0) throw new Error("no retry case among the temp_keys; change the labels");

  // The old scheme: GramJS crypto/RSA.js encrypt(fingerprint, data) = RSA(SHA1(data) + data + padding).
  for (const len of [96, 1, 235]) {
    const data = stream("old_data" + len, len), pad = stream("old_padding" + len, 235 - len);
    Helpers.generateRandomBytes = (count) => {
      if (count !== pad.length) throw new Error("unexpected draw");
      return Buffer.from(pad);
    };
    const enc = await RSA.encrypt(bigInt(FP), data);
    tests.oldEnc.push(t(`${len} bytes of data, ${235 - len} bytes of padding`,
      { data: hx(data), random_padding: hx(pad) }, { encrypted_data: hx(enc) }, []));
    tests.oldDec.push(t(`decrypts the ${len}-byte vector`, { encrypted_data: hx(enc), data_len: len },
      { data: hx(data),
        data_with_hash: hx(Buffer.concat([crypto.createHash("sha1").update(data).digest(), data, pad])) }, []));
    if (len === 96)
      tests.oldDec.push(t("the 96-byte vector checked as if the data were 95 bytes: SHA1 differs",
        { encrypted_data: hx(enc), data_len: 95 }, { error: "rsa_hash_mismatch" }, ["Modified"], "invalid"));
  }
  tests.oldEnc.push(t("236 bytes of data: more than fits after the SHA1",
    { data: hx(stream("old_long", 236)), random_padding: "" }, { error: "rsa_data_too_long" }, ["Modified"], "invalid"));

  const keyArgs = { n: hx(nBuf), e: hx(eBuf) };
  const doc = {
    format: "mtprobe-vectors/1",
    title: "RSA_PAD and the old RSA scheme against a test key, computed by GramJS",
    source: "GramJS (npm telegram) " + gramjsVersion + " network/Authenticator.js (RSA_PAD) and crypto/RSA.js (old scheme), " +
            "driven with scripted randomness; test key vectors/rsa/test_key_private.pem (generated with openssl genpkey)",
    generator: "GramJS " + gramjsVersion + " on Node " + process.version + ": vectors/gen/rsa_pad.js",
    spec: ["https://core.telegram.org/mtproto/auth_key#presenting-proof-of-work-server-authentication",
           "https://core.telegram.org/mtproto/samples-auth_key"],
    requirements: ["C-HS-11"],
    notes: {
      Modified: "a value changed on purpose to exercise a check",
      Retry: "key_aes_encrypted >= modulus for the first temp_key (GramJS drew a second one)",
      RetryRule: {
        description: "the redraw of temp_key when key_aes_encrypted is not below the modulus: the page states it as " +
                     "what happens (\"the previous steps ... are repeated\"), without a requirement word",
        level: "INFO", requirement: "C-HS-11",
      },
      ServerCheck: {
        description: "the server's checks when it undoes RSA_PAD: the page defines how the payload is built; a " +
                     "server's check of it is implied, not stated",
        level: "INFO", requirement: "S-HS-4",
      },
    },
    testGroups: [
      { op: "rsa_pad_encrypt", comment: "RSA_PAD with the given temp_key and padding", args: keyArgs, tests: tests.enc },
      { op: "rsa_pad_decrypt", comment: "the server side: raw RSA, then undo RSA_PAD with every check",
        args: { private_key: privPem }, tests: tests.dec },
      { op: "rsa_old_encrypt", comment: "old scheme: RSA(SHA1(data) + data + padding to 255 bytes)", args: keyArgs,
        tests: tests.oldEnc },
      { op: "rsa_old_decrypt", comment: "old scheme, server side", args: { private_key: privPem }, tests: tests.oldDec },
    ],
  };
  fs.writeFileSync(path.join(root, "rsa/rsa_pad.json"), JSON.stringify(doc, null, 2) + "\n");
  console.error("wrote rsa/rsa_pad.json with", tc, "tests");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
