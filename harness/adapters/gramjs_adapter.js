#!/usr/bin/env node
/*
 * Drive the real GramJS (npm "telegram") MTProto client against an MTProto server (mtprobe's
 * mock DC).
 *
 *   node gramjs_adapter.js --connect 127.0.0.1:4430 --rsa-key key.pem --transport full \
 *       [--secret HEX|''] [--dc 2] [--timeout 15] [--request ping,nearest_dc,config] [-v]
 *
 * Follows the client-under-test contract of `mtprobe check client` (docs/check-client.md): the
 * last line of stdout is one JSON object with ok, results (one per request, in the TL JSON
 * mapping of docs/tl-json.md, as GramJS returned them), error, implementation, version,
 * auth_key, auth_key_id, auth_attempts, transport, and crash/signal when GramJS's process died by
 * a signal. Exit status: 0 the key exchange worked and every request was answered (an rpc_error
 * is an answer), 1 the client failed, timed out or crashed, 2 usage, 3 could not proceed (library
 * or key file missing, the server unreachable), 4 GramJS lacks the transport. See README.md.
 *
 * The client runs in a child process (this script with --worker) so that the parent can enforce
 * --timeout, kill the child's process group, and still report how far the client got.
 *
 * TelegramClient.connect() dials port 80/443 whatever the session says, so the adapter drives
 * GramJS's own MTProtoSender with one of its own Connection classes over its own
 * PromisedNetSockets (plain TCP via node:net). It replaces the entries of GramJS's RSA key table
 * (crypto/RSA._serverKeys) with the server's key at run time and wraps a few functions to
 * observe progress; installed files are not touched.
 */
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { spawn } = require("child_process");

const TRANSPORTS = [
  "full",
  "abridged",
  "intermediate",
  "padded",
  "obfuscated-abridged",
  "obfuscated-intermediate",
  "obfuscated-padded",
];
const REQUESTS = ["ping", "nearest_dc", "config"];
const EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
  EXIT_CANNOT = 3,
  EXIT_UNSUPPORTED = 4;

// GramJS ships no intermediate or padded codec at all, and its MTProxy connection only comes
// with the abridged codec.
const NATIVE = {
  full: "ConnectionTCPFull",
  abridged: "ConnectionTCPAbridged",
  "obfuscated-abridged": "ConnectionTCPObfuscated",
};
const NATIVE_WITH_SECRET = { "obfuscated-abridged": "ConnectionTCPMTProxyAbridged" };

class UsageError extends Error {}

// ------------------------------------------------------------------------------------------
// RSA key: only n and e matter.

function loadRsaKey(file) {
  const data = fs.readFileSync(file);
  const attempts = [
    () => crypto.createPublicKey(data),
    () => crypto.createPublicKey({ key: data, format: "der", type: "pkcs1" }),
    () => crypto.createPublicKey({ key: data, format: "der", type: "spki" }),
    () => crypto.createPublicKey(crypto.createPrivateKey({ key: data, format: "der", type: "pkcs8" })),
    () => crypto.createPublicKey(crypto.createPrivateKey({ key: data, format: "der", type: "pkcs1" })),
  ];
  let key;
  for (const attempt of attempts) {
    try {
      key = attempt();
      break;
    } catch (e) {
      /* try the next encoding */
    }
  }
  if (!key) throw new Error("not a PEM or DER RSA key");
  const jwk = key.export({ format: "jwk" });
  if (jwk.kty !== "RSA") throw new Error(`key type ${jwk.kty}, not RSA`);
  const nBytes = stripZeros(Buffer.from(jwk.n, "base64url"));
  const eBytes = stripZeros(Buffer.from(jwk.e, "base64url"));
  if (nBytes.length !== 256 || nBytes[0] < 0x80) {
    throw new Error(`RSA modulus is not 2048 bits (${nBytes.length} bytes)`);
  }
  return { nBytes, eBytes };
}

function stripZeros(b) {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function tlBytes(b) {
  const head = b.length < 254 ? Buffer.from([b.length]) : Buffer.from([0xfe, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff]);
  const out = Buffer.concat([head, b]);
  return Buffer.concat([out, Buffer.alloc((4 - (out.length % 4)) % 4)]);
}

// Low 64 bits of SHA1(rsa_public_key n e): the 8 bytes as they appear on the wire.
function fingerprintWire(key) {
  const h = crypto.createHash("sha1").update(Buffer.concat([tlBytes(key.nBytes), tlBytes(key.eBytes)])).digest();
  return h.subarray(12, 20);
}

function fingerprintFields(wire) {
  return {
    rsa_fingerprint: Buffer.from(wire).reverse().toString("hex"),
    rsa_fingerprint_wire: wire.toString("hex"),
    rsa_fingerprint_signed: wire.readBigInt64LE(0).toString(),
  };
}

// A 64-bit value as the 8 little-endian bytes that go on the wire.
function wire64(v) {
  if (v === undefined || v === null) return null;
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v.toString())));
  return b.toString("hex");
}

// ------------------------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
  const a = {
    dc: 2,
    timeout: 15,
    request: "ping",
    authAttempts: 3,
    apiId: 1,
    keepBuiltinKeys: false,
    verbose: false,
    worker: false,
    listTransports: false,
  };
  const takes = {
    "--connect": "connect",
    "--host": "host",
    "--port": "port",
    "--rsa-key": "rsaKey",
    "--transport": "transport",
    "--secret": "secret",
    "--dc": "dc",
    "--timeout": "timeout",
    "--request": "request",
    "--auth-attempts": "authAttempts",
    "--api-id": "apiId",
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let val;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      val = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg in takes) {
      if (val === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
        val = argv[++i];
      }
      a[takes[arg]] = val;
    } else if (arg === "--keep-builtin-keys") a.keepBuiltinKeys = true;
    else if (arg === "-v" || arg === "--verbose") a.verbose = true;
    else if (arg === "--worker") a.worker = true;
    else if (arg === "--list-transports") a.listTransports = true;
    else if (arg === "-h" || arg === "--help") a.help = true;
    else throw new UsageError(`unknown argument ${arg}`);
  }
  return a;
}

function checkArgs(a) {
  if (a.connect !== undefined) {
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(a.connect);
    if (!m) throw new UsageError("--connect wants HOST:PORT");
    a.host = m[1];
    a.port = m[2];
  }
  if (!a.host || a.port === undefined) throw new UsageError("give --connect HOST:PORT or --host and --port");
  for (const k of ["port", "dc", "timeout", "authAttempts", "apiId"]) {
    const v = Number(a[k]);
    if (!Number.isFinite(v)) throw new UsageError(`--${k} is not a number`);
    a[k] = v;
  }
  if (!(a.port > 0 && a.port < 65536 && Number.isInteger(a.port))) throw new UsageError("port out of range");
  if (!(a.timeout > 0)) throw new UsageError("--timeout must be positive");
  if (!(a.authAttempts >= 1)) throw new UsageError("--auth-attempts must be at least 1");
  if (!Number.isInteger(a.dc) || a.dc < -32768 || a.dc > 32767) throw new UsageError("--dc out of range");
  if (!a.rsaKey) throw new UsageError("--rsa-key is required");
  if (!TRANSPORTS.includes(a.transport)) throw new UsageError(`--transport must be one of ${TRANSPORTS.join(", ")}`);
  a.requests = a.request
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = a.requests.filter((r) => !REQUESTS.includes(r));
  if (bad.length || !a.requests.length) throw new UsageError(`--request: unknown ${bad} (known: ${REQUESTS.join(", ")})`);
  if (a.secret === "") delete a.secret; // the runner substitutes an empty {secret}: no MTProxy secret
  if (a.secret !== undefined) {
    if (!a.transport.startsWith("obfuscated-")) throw new UsageError("--secret only goes with the obfuscated-* transports");
    if (!/^([0-9a-fA-F]{32}|[dD]{2}[0-9a-fA-F]{32})$/.test(a.secret)) {
      throw new UsageError("--secret must be 16 bytes of hex, or dd followed by 16 bytes");
    }
  }
}

function implFor(a) {
  return a.secret !== undefined ? NATIVE_WITH_SECRET[a.transport] : NATIVE[a.transport];
}

// ------------------------------------------------------------------------------------------
// Worker: runs GramJS and reports progress to the parent over the IPC channel.

function makeReporter() {
  return {
    finished: false,
    send(msg) {
      if (process.connected && !this.finished) process.send(msg);
    },
    step(text) {
      this.send({ step: text });
    },
    set(fields) {
      this.send({ set: fields });
    },
    finish(msg, code) {
      if (this.finished) return; // first outcome wins (e.g. the deadline vs. a late answer)
      this.finished = true;
      // Exit only once the last message has left: process.send is asynchronous.
      if (process.connected) process.send(msg, () => process.exit(code));
      else process.exit(code);
    },
  };
}

class StepError extends Error {
  constructor(text, code = EXIT_FAILED) {
    super(text);
    this.code = code;
  }
}

// The server could not be reached at all (as opposed to a connection it ended).
function unreachable(e) {
  return !!e && ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"].includes(e.code);
}

function describe(e) {
  if (e === undefined || e === null) return "unknown error";
  if (typeof e === "string") return e;
  const name = e.constructor && e.constructor.name ? e.constructor.name : "Error";
  const msg = e.errorMessage ? `${e.code} ${e.errorMessage}` : e.message;
  return msg ? `${name}: ${msg}` : name;
}

const TL_NAMES = {
  MessageContainer: "msg_container",
  RPCResult: "rpc_result",
  GZIPPacked: "gzip_packed",
  ResPQ: "resPQ",
  ServerDHParamsOk: "server_DH_params_ok",
  ServerDHParamsFail: "server_DH_params_fail",
  DhGenOk: "dh_gen_ok",
  DhGenRetry: "dh_gen_retry",
  DhGenFail: "dh_gen_fail",
  ReqPqMulti: "req_pq_multi",
  ReqPq: "req_pq",
  ReqDHParams: "req_DH_params",
  SetClientDHParams: "set_client_DH_params",
};

function tlName(obj) {
  if (obj === undefined || obj === null) return String(obj);
  const name = obj.className || (obj.constructor && obj.constructor.name) || "unknown";
  if (TL_NAMES[name]) return TL_NAMES[name];
  return name.replace(/\.?([A-Z])/g, (m, c, off) => (off ? "_" : "") + c.toLowerCase()).replace(/\._?/g, ".");
}

// ------------------------------------------------------------------------------------------
// The answers as the library returned them, in the TL JSON mapping of docs/tl-json.md.
//
// GramJS builds its classes at run time from the schema text it ships (telegram/tl/apiTl.js and
// schemaTl.js) and keeps only camelCase property names, so the same text gives back the TL
// names, the field order and each field's type: which bigInt is a long (a decimal string in
// the mapping), which false is a clear `true` flag (left out), which flags word is accounted for.

let schemaIndex;

function tlSchema() {
  if (schemaIndex) return schemaIndex;
  schemaIndex = new Map();
  for (const text of [require("telegram/tl/apiTl.js"), require("telegram/tl/schemaTl.js")]) {
    let functions = false;
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line.startsWith("---")) functions = line === "---functions---";
      const m = /^([\w.]+)#([0-9a-fA-F]+)(.*?)=[^=]+;$/.exec(line);
      if (!m || functions) continue;
      const fields = [];
      for (const tok of m[3].trim().split(/\s+/)) {
        const f = /^(\w+):(.+)$/.exec(tok); // {X:Type} parameters start with a brace
        if (f) fields.push({ name: f[1], type: f[2] });
      }
      schemaIndex.set(parseInt(m[2], 16) >>> 0, { name: m[1], fields });
    }
  }
  return schemaIndex;
}

function tlJson(obj) {
  const { variableSnakeToCamelCase } = require("telegram/tl/generationHelpers");
  const def = tlSchema().get(obj.CONSTRUCTOR_ID >>> 0);
  if (!def) return { _: obj.className || tlName(obj) };
  const out = { _: def.name };
  const flags = {};
  for (const f of def.fields) {
    const v = obj[variableSnakeToCamelCase(f.name)];
    if (f.type === "#") {
      flags[f.name] = { read: Number(v) >>> 0, used: 0 };
      out[f.name] = null; // keeps its place; settled below
      continue;
    }
    let type = f.type;
    const cond = /^(\w+)\.(\d+)\?(.+)$/.exec(type);
    if (cond) {
      type = cond[3];
      if (v === null || v === undefined || (type === "true" && !v)) continue;
      if (flags[cond[1]]) flags[cond[1]].used = (flags[cond[1]].used | (1 << Number(cond[2]))) >>> 0;
    }
    out[f.name] = tlValue(v, type);
  }
  // A flags word the present fields account for says nothing more: left out, as the mapping does.
  for (const [name, w] of Object.entries(flags)) {
    if (w.read === w.used) delete out[name];
    else out[name] = w.read;
  }
  return out;
}

function tlValue(v, type) {
  const vec = /^[Vv]ector<(.+)>$/.exec(type || "");
  if (vec || Array.isArray(v)) return Array.from(v, (x) => tlValue(x, vec ? vec[1] : undefined));
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v;
  if (Buffer.isBuffer(v)) return v.toString("hex");
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (type === "int128" || type === "int256") {
    const bits = type === "int128" ? 128 : 256;
    const hex = BigInt.asUintN(bits, BigInt(v.toString())).toString(16).padStart(bits / 4, "0");
    return Buffer.from(hex, "hex").reverse().toString("hex");
  }
  if (type === "double" && typeof v === "number" && !Number.isFinite(v)) {
    return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  }
  if (typeof v === "number" || typeof v === "string") return v;
  if (v.CONSTRUCTOR_ID !== undefined) return tlJson(v);
  return v.toString(); // a bigInt: long (signed, as GramJS reads it)
}

async function runClient(a, rep, key) {
  const bigInt = require("big-integer");
  const { Api } = require("telegram/tl");
  const { LAYER } = require("telegram/tl/AllTLObjects");
  const RSA = require("telegram/crypto/RSA");
  const Authenticator = require("telegram/network/Authenticator");
  const { MTProtoSender } = require("telegram/network/MTProtoSender");
  const { MTProtoPlainSender } = require("telegram/network/MTProtoPlainSender");
  const connections = require("telegram/network/connection");
  const { ConnectionTCPMTProxyAbridged } = require("telegram/network/connection/TCPMTProxy");
  const { PromisedNetSockets } = require("telegram/extensions/PromisedNetSockets");
  const { Logger, LogLevel } = require("telegram/extensions/Logger");
  const errors = require("telegram/errors");

  const wire = fingerprintWire(key);
  const fpSigned = wire.readBigInt64LE(0).toString();
  if (!a.keepBuiltinKeys) RSA._serverKeys.clear();
  // GramJS keys its table by the signed decimal string of the fingerprint and reads e as a
  // plain number and n as a big-integer value.
  RSA._serverKeys.set(fpSigned, {
    n: bigInt(key.nBytes.toString("hex"), 16),
    e: Number(BigInt("0x" + key.eBytes.toString("hex"))),
  });
  rep.set({ key_table: Array.from(RSA._serverKeys.keys()), layer: LAYER });
  rep.step(`key table: fingerprint ${Buffer.from(wire).reverse().toString("hex")} (signed ${fpSigned}) injected`);

  const logger = new Logger(a.verbose ? LogLevel.DEBUG : LogLevel.NONE);
  logger.log = (level, message) => process.stderr.write(`[gramjs ${level}] ${message}\n`);

  const state = { attempt: 0, lastError: undefined };

  // Observation only: each wrapper calls straight through to the library's code.
  const origPlainSend = MTProtoPlainSender.prototype.send;
  MTProtoPlainSender.prototype.send = async function (request) {
    let extra = "";
    if (request.className === "ReqDHParams") {
      const fp = wire64(request.publicKeyFingerprint);
      const fpHex = Buffer.from(fp, "hex").reverse().toString("hex");
      rep.set({ fingerprint_used: fpHex });
      extra = ` (fingerprint ${fpHex})`;
    }
    rep.step(`auth ${state.attempt}: -> ${tlName(request)}${extra}`);
    let answer;
    state.awaiting = tlName(request);
    try {
      answer = await origPlainSend.call(this, request);
    } catch (e) {
      rep.step(`auth ${state.attempt}: no answer to ${tlName(request)}: ${describe(e)}`);
      throw e;
    }
    state.awaiting = undefined;
    rep.step(`auth ${state.attempt}: <- ${tlName(answer)}`);
    return answer;
  };

  const origAuth = Authenticator.doAuthentication;
  Authenticator.doAuthentication = async function (sender, log) {
    state.attempt++;
    rep.set({ auth_attempts: state.attempt });
    try {
      return await origAuth(sender, log);
    } catch (e) {
      const waiting = state.awaiting ? `, waiting for the answer to ${state.awaiting}` : "";
      state.awaiting = undefined;
      state.lastError = `auth_key (attempt ${state.attempt}${waiting}): ${describe(e)}`;
      rep.step(state.lastError);
      throw e;
    }
  };

  // GramJS turns an rpc_error into an error class of its own (FloodWaitError, ...) whose message
  // is not always the server's text; keep the decoded rpc_error it came from.
  const origRpcToError = errors.RPCMessageToError;
  errors.RPCMessageToError = (rpcError, request) => {
    const err = origRpcToError(rpcError, request);
    err.mtprobeRpcError = { _: "rpc_error", error_code: rpcError.errorCode, error_message: rpcError.errorMessage };
    return err;
  };

  const fakeClient = {
    networkSocket: PromisedNetSockets,
    _errorHandler: async (e) => {
      if (!state.lastError) state.lastError = `connect: ${describe(e)}`;
    },
  };
  const sender = new MTProtoSender(undefined, {
    logger,
    dcId: a.dc,
    retries: a.authAttempts,
    delay: 200,
    autoReconnect: false,
    // With -1 a lost connection fails pending requests at once instead of reconnecting.
    reconnectRetries: -1,
    client: fakeClient,
    isMainSender: true,
    securityChecks: true,
    _exportedSenderPromises: new Map(),
  });
  const origProcess = sender._processMessage.bind(sender);
  sender._processMessage = async (message) => {
    const obj = await message.obj;
    rep.send({ recv: tlName(obj) });
    return origProcess(message);
  };

  const implName = implFor(a);
  const Cls = implName === "ConnectionTCPMTProxyAbridged" ? ConnectionTCPMTProxyAbridged : connections[implName];
  rep.set({ transport_impl: implName });
  const proxy = a.secret !== undefined ? { ip: a.host, port: a.port, secret: a.secret, MTProxy: true } : undefined;
  const conn = new Cls({
    ip: a.host,
    port: a.port,
    dcId: a.dc,
    loggers: logger,
    proxy,
    socket: PromisedNetSockets,
    testServers: false,
  });
  const origConnConnect = conn.connect.bind(conn);
  conn.connect = async () => {
    rep.step(`tcp: connecting to ${a.host}:${a.port}`);
    try {
      await origConnConnect();
    } catch (e) {
      state.lastError = `connect: ${describe(e)}`;
      state.unreachable = unreachable(e);
      rep.step(state.lastError);
      throw e;
    }
    state.connected = true;
    rep.step("tcp: connected, transport initialised");
  };

  const connected = await sender.connect(conn);
  if (!connected) {
    // Never reaching the server is the run's problem (exit 3), not the client's behaviour.
    const cannot = state.unreachable && !state.connected;
    throw new StepError(state.lastError || "connect: MTProtoSender.connect gave up", cannot ? EXIT_CANNOT : EXIT_FAILED);
  }

  const authKey = sender.authKey.getKey();
  rep.set({
    auth_key: authKey.toString("hex"),
    auth_key_id: crypto.createHash("sha1").update(authKey).digest().subarray(12, 20).toString("hex"),
    auth_key_len: authKey.length,
    time_offset: sender._state.timeOffset,
    session_id: wire64(sender._state.id),
    server_salt: wire64(sender._state.salt),
  });
  rep.step(`auth_key ready (${authKey.length} bytes)`);

  try {
    for (const [index, name] of a.requests.entries()) {
      let req;
      if (name === "ping") {
        req = new Api.Ping({ pingId: bigInt(crypto.randomBytes(8).readBigInt64LE(0).toString()) });
      } else {
        const query = name === "nearest_dc" ? new Api.help.GetNearestDc() : new Api.help.GetConfig();
        req = new Api.InvokeWithLayer({
          layer: LAYER,
          query: new Api.InitConnection({
            apiId: a.apiId,
            deviceModel: "mtprobe-adapter",
            systemVersion: process.platform,
            appVersion: require("telegram/package.json").version,
            langCode: "en",
            systemLangCode: "en",
            langPack: "",
            query,
          }),
        });
      }
      rep.step(`request ${name}: sending`);
      let answer;
      try {
        answer = await sender.send(req);
      } catch (e) {
        if (!e || !e.mtprobeRpcError) throw new StepError(`request ${name}: ${describe(e)}`);
        // An rpc_error is an answer: the call completed, so the next one is still sent.
        const rpc = e.mtprobeRpcError;
        rep.send({ answer: { index, value: rpc } });
        rep.step(`request ${name}: answered rpc_error ${rpc.error_code} ${rpc.error_message}`);
        continue;
      } finally {
        rep.set({ server_salt: wire64(sender._state.salt), session_id: wire64(sender._state.id) });
      }
      const value = tlJson(answer);
      rep.send({ answer: { index, value } });
      rep.step(`request ${name}: answered ${value._}`);
    }
  } finally {
    try {
      await Promise.race([sender.disconnect(), new Promise((r) => setTimeout(r, 1000))]);
    } catch (e) {
      /* the result is already known */
    }
  }
}

function workerMain(a) {
  const rep = makeReporter();
  // The IPC channel is the only way to the parent; keep library chatter off stdout.
  console.log = (...x) => console.error(...x);
  let version, constVersion;
  try {
    version = require("telegram/package.json").version;
    constVersion = require("telegram/Version").version;
  } catch (e) {
    rep.finish(
      { fatal: `cannot load the npm package "telegram" from ${__dirname}/node_modules (${describe(e)}); run install.sh`, code: EXIT_CANNOT },
      EXIT_CANNOT,
    );
    return;
  }
  rep.set({ client: `gramjs ${version}`, version, client_version_constant: constVersion });
  let key;
  try {
    key = loadRsaKey(a.rsaKey);
  } catch (e) {
    rep.finish({ fatal: `rsa key ${a.rsaKey}: ${describe(e)}`, code: EXIT_CANNOT }, EXIT_CANNOT);
    return;
  }
  process.on("unhandledRejection", (e) => process.stderr.write(`[adapter] unhandled rejection: ${describe(e)}\n`));
  process.on("uncaughtException", (e) => process.stderr.write(`[adapter] uncaught exception: ${describe(e)}\n`));
  const soft = Math.max(a.timeout - Math.min(1, a.timeout * 0.2), a.timeout * 0.5);
  // Counted from process start, so that loading the library does not eat into the parent's margin.
  const left = Math.max(0.1, soft - process.uptime());
  setTimeout(() => rep.finish({ fail: `timeout after ${soft.toFixed(1)}s`, timed_out: true }, EXIT_FAILED), left * 1000);
  runClient(a, rep, key).then(
    () => rep.finish({ done: true }, EXIT_OK),
    (e) =>
      e instanceof StepError
        ? rep.finish({ fail: e.message, code: e.code }, e.code)
        : rep.finish({ fail: `adapter: ${describe(e)}` }, EXIT_FAILED),
  );
}

// ------------------------------------------------------------------------------------------
// Parent: starts the worker, enforces the deadline, prints the one JSON line.

function baseResult(a) {
  a = a || {};
  return {
    ok: false,
    implementation: "GramJS",
    version: null,
    client: "gramjs",
    transport: a.transport === undefined ? null : a.transport,
    host: a.host === undefined ? null : a.host,
    port: a.port === undefined ? null : a.port,
    dc: a.dc === undefined ? null : a.dc,
    auth_key: null,
    auth_key_id: null,
    server_salt: null,
    session_id: null,
    error: null,
    crash: false,
    steps: [],
    received: [],
  };
}

// The one JSON line, last on stdout.  Contract fields without a value are left out rather than
// written as null (docs/check-client.md).
function emit(res, code) {
  for (const k of ["auth_key", "auth_key_id", "error", "transport", "version"]) {
    if (res[k] === null || res[k] === undefined) delete res[k];
  }
  process.stdout.write(JSON.stringify(res) + "\n");
  process.exitCode = code;
}

function listTransports() {
  const out = {};
  for (const t of TRANSPORTS) {
    out[t] = NATIVE[t] || null;
  }
  let client = "gramjs";
  try {
    client = `gramjs ${require("telegram/package.json").version}`;
  } catch (e) {
    /* listed anyway: the table does not depend on the installed package */
  }
  emit({ client, transports: out, with_secret: NATIVE_WITH_SECRET }, EXIT_OK);
}

function parentMain(a, argv) {
  const res = baseResult(a);
  // One element per requested call, in order; null until (unless) the call is answered.
  res.results = a.requests.map(() => null);
  res.auth_attempts = 0;
  if (a.secret !== undefined) res.secret = a.secret;
  try {
    res.version = require("telegram/package.json").version;
    res.client = `gramjs ${res.version}`;
  } catch (e) {
    /* the worker reports the missing package */
  }
  if (!implFor(a)) {
    res.error = `transport ${a.transport}${a.secret !== undefined ? " with an MTProxy secret" : ""} is not supported by GramJS (it has: ${Object.keys(NATIVE).join(", ")}; with --secret: ${Object.keys(NATIVE_WITH_SECRET).join(", ")})`;
    res.unsupported = true;
    return emit(res, EXIT_UNSUPPORTED);
  }
  let key;
  try {
    key = loadRsaKey(a.rsaKey);
  } catch (e) {
    res.error = `rsa key ${a.rsaKey}: ${describe(e)}`;
    return emit(res, EXIT_CANNOT);
  }
  Object.assign(res, fingerprintFields(fingerprintWire(key)));

  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, [__filename, "--worker", ...argv], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    detached: true, // its own process group, so a timeout kills everything it started
  });
  let tail = "";
  const onOutput = (chunk) => {
    if (a.verbose) process.stderr.write(chunk);
    tail = (tail + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout.on("data", onOutput);
  child.stderr.on("data", onOutput);
  const final = {};
  child.on("message", (msg) => {
    if (msg.step !== undefined) res.steps.push(msg.step);
    if (msg.recv !== undefined) res.received.push(msg.recv);
    if (msg.set) Object.assign(res, msg.set);
    if (msg.answer) res.results[msg.answer.index] = msg.answer.value;
    for (const k of ["fail", "fatal", "done", "timed_out", "code"]) if (k in msg) final[k] = msg[k];
  });
  let timedOut = false;
  const killGroup = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch (e) {
      /* already gone */
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, a.timeout * 1000);
  child.on("error", (e) => {
    clearTimeout(timer);
    res.error = `cannot start worker: ${describe(e)}`;
    emit(res, EXIT_CANNOT);
  });
  child.on("close", (code, signal) => {
    clearTimeout(timer);
    killGroup(); // anything the worker left behind
    res.elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    let rc;
    if (timedOut) {
      const last = res.steps.length ? res.steps[res.steps.length - 1] : "start";
      res.error = `timeout: no result within ${a.timeout}s (last step: ${last})`;
      res.timed_out = true;
      rc = EXIT_FAILED;
    } else if (final.done && code === 0) {
      res.ok = true;
      rc = EXIT_OK;
    } else if (final.fatal !== undefined) {
      res.error = final.fatal;
      rc = final.code || EXIT_CANNOT;
    } else if (final.fail !== undefined) {
      res.error = final.fail;
      res.timed_out = !!final.timed_out;
      if (res.timed_out) res.error += ` (last step: ${res.steps.length ? res.steps[res.steps.length - 1] : "start"})`;
      rc = final.code || EXIT_FAILED;
    } else if (signal) {
      // The library's process died by a signal before it could report (an abort, a fatal
      // V8 error).
      res.crash = true;
      res.signal = require("os").constants.signals[signal] || 0;
      const last = res.steps.length ? res.steps[res.steps.length - 1] : "start";
      res.error = `crash: the client process was killed by ${signal} (last step: ${last})`;
      rc = EXIT_FAILED;
    } else {
      res.error = `client process ended (status ${code}) without a result`;
      rc = EXIT_FAILED;
    }
    if (!res.ok && tail) res.stderr_tail = tail.slice(-1000);
    emit(res, rc);
  });
}

function main() {
  const argv = process.argv.slice(2);
  let a;
  try {
    a = parseArgs(argv);
    if (a.help) {
      process.stdout.write(fs.readFileSync(__filename, "utf8").split("\n").slice(1, 16).join("\n") + "\n");
      return;
    }
    if (a.listTransports) return listTransports();
    checkArgs(a);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const res = baseResult(a);
    res.error = `usage: ${e.message}`;
    return emit(res, EXIT_USAGE);
  }
  if (a.worker) return workerMain(a);
  return parentMain(a, argv);
}

main();
