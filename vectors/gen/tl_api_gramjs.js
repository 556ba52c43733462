#!/usr/bin/env node
// Generates vectors/tl/api_objects.json: API-layer objects (layer 198) with
// flags, flags2, true flags, Bool, double, bytes, vectors and !X wrappers.
//
// The bytes come from an independent implementation: GramJS (npm package
// `telegram` 2.26.22, layer 198), whose Api classes serialise each value
// (getBytes()).  The JSON of each case is the expected mapping
// (docs/tl-json.md), written here by hand; this script turns it into GramJS
// arguments using the argument types of vectors/schema/api.tl.
//
//   mkdir -p /tmp/gramjs && cd /tmp/gramjs && npm install telegram@2.26.22
//   NODE_PATH=/tmp/gramjs/node_modules node vectors/gen/tl_api_gramjs.js
"use strict";
const fs = require("fs");
const path = require("path");
const { Api } = require("telegram");
const bigInt = require("big-integer");

const ROOT = path.resolve(__dirname, "..", "..");

// name -> {args: [[name, type, cond]]} from api.tl
const schema = {};
for (const raw of fs.readFileSync(path.join(ROOT, "vectors/schema/api.tl"), "utf8").split("\n")) {
  const line = raw.split("//")[0].trim();
  const m = /^([\w.]+)#([0-9a-f]+)\s*(.*?)\s*=\s*(.*);$/.exec(line);
  if (!m) continue;
  const args = [];
  for (const a of m[3].split(/\s+/)) {
    if (!a.includes(":") || a.startsWith("{")) continue;
    const i = a.indexOf(":");
    let type = a.slice(i + 1), cond = null;
    if (type.includes("?")) [cond, type] = type.split("?");
    args.push([a.slice(0, i), type, cond]);
  }
  schema[m[1]] = { args };
}

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

function apiClass(name) {
  const parts = name.split(".");
  const last = parts.pop();
  let ns = Api;
  for (const p of parts) ns = ns[p];
  return ns[last[0].toUpperCase() + last.slice(1)];
}

function conv(type, v) {
  if (type === "int" || type === "double" || type === "Bool" || type === "true") return v;
  if (type === "long") return bigInt(v);
  if (type === "bytes") return Buffer.from(v, "hex");
  if (type === "string") return v;
  const m = /^Vector<(.*)>$/.exec(type);
  if (m) return v.map((e) => conv(m[1], e));
  if (type === "!X" || /^[A-Z]/.test(type.split(".").pop())) return obj(v);
  throw new Error("type " + type);
}

function obj(j) {
  const def = schema[j._];
  if (!def) throw new Error("unknown " + j._);
  const args = {};
  for (const [name, type, cond] of def.args) {
    if (type === "#" || !(name in j)) continue;
    args[camel(name)] = conv(type, j[name]);
  }
  return new (apiClass(j._))(args);
}

const hex = (o) => Buffer.from(o.getBytes()).toString("hex");

// The JSON of a decoded value leaves a `#` field out when the conditional
// fields present account for all of its bits (a `true` flag counts when true),
// as client libraries do; it shows the field only when other bits are given.
// Fields are put in schema order.
function withFlags(j) {
  if (Array.isArray(j)) return j.map(withFlags);
  if (j === null || typeof j !== "object") return j;
  const def = schema[j._];
  if (!def) return j;
  const out = { _: j._ };
  for (const [name, type, cond] of def.args) {
    if (type === "#") {
      let v = (j[name] || 0) >>> 0, mask = 0;
      for (const [n2, t2, c2] of def.args) {
        if (!c2 || c2.split(".")[0] !== name) continue;
        const bit = 1 << Number(c2.split(".")[1]);
        mask = (mask | bit) >>> 0;
        const on = n2 in j && j[n2] !== undefined && (t2 !== "true" || j[n2] === true);
        v = on ? (v | bit) >>> 0 : (v & ~bit) >>> 0;
      }
      if ((v & ~mask) >>> 0) out[name] = v;
    } else if (name in j && j[name] !== undefined) {
      out[name] = withFlags(j[name]);
    }
  }
  return out;
}

const decode = [], encode = [];
let tc = 0;
function add(comment, j, extra) {
  j = withFlags(j);
  const data = hex(obj(j));
  decode.push(Object.assign({ tcId: ++tc, comment, result: "valid", args: { data }, expect: { json: j } }, extra || {}));
  encode.push({ tcId: ++tc, comment, result: "valid", args: { json: j }, expect: { data } });
  return data;
}

// ---- cases
const photo = { _: "userProfilePhoto", photo_id: "5012345678901234567", dc_id: 4 };
const user = {
  _: "user", flags: 0, contact: true, mutual_contact: true, flags2: 0, close_friend: true,
  id: "777000", access_hash: "-5012345678901234567", first_name: "Telegram", username: "telegram",
  photo, status: { _: "userStatusRecently" }, lang_code: "en", stories_max_id: 12,
};
add("user with flags and flags2, true flags from both", user);
add("userEmpty", { _: "userEmpty", id: "1" });
add("user, min (only flags and id)", { _: "user", flags: 1 << 20, min: true, flags2: 0, id: "42" });

const msg = {
  _: "message", flags: 0, out: true, silent: true, flags2: 0, offline: true, id: 77,
  from_id: { _: "peerUser", user_id: "1001" }, peer_id: { _: "peerChat", chat_id: "-2002" },
  reply_to: { _: "messageReplyHeader", flags: 1 << 4, reply_to_msg_id: 76 },
  date: 1700000000, message: "hello \u{1F44B}, **world**",
  entities: [{ _: "messageEntityBold", offset: 9, length: 9 }, { _: "messageEntityUrl", offset: 0, length: 5 }],
  views: 10, forwards: 2, edit_date: 1700000100, effect: "5104841245755180586",
};
add("message with flags2 (offline, effect), shared bit flags.10 (views, forwards)", msg);
add("updateShortMessage", {
  _: "updateShortMessage", flags: 1 << 1, out: true, id: 5, user_id: "1001", message: "ok", pts: 100,
  pts_count: 1, date: 1700000001,
});
add("updates with a new message and users", {
  _: "updates", updates: [{ _: "updateNewMessage", message: msg, pts: 200, pts_count: 1 }],
  users: [user], chats: [], date: 1700000002, seq: 0,
});
add("inputGeoPoint: doubles and an optional int", {
  _: "inputGeoPoint", flags: 1, lat: 51.5007, long: -0.1246, accuracy_radius: 25,
});
add("inputGeoPoint: small and large doubles", { _: "inputGeoPoint", lat: -1.5e-300, long: 1.7976931348623157e308 });
add("inputPhoto: bytes file_reference", {
  _: "inputPhoto", id: "123", access_hash: "-456", file_reference: "0102030405060708090a0b0c0d0e0f1011",
});
add("peerNotifySettings with Bool fields", {
  _: "peerNotifySettings", flags: (1 << 0) | (1 << 1), show_previews: true, silent: false,
});
add("client request: invokeWithLayer(initConnection(help.getConfig))", {
  _: "invokeWithLayer", layer: 198, query: {
    _: "initConnection", flags: 0, api_id: 12345, device_model: "mtprobe", system_version: "Linux",
    app_version: "0.1", system_lang_code: "en", lang_pack: "", lang_code: "en", query: { _: "help.getConfig" },
  },
});
add("messages.sendMessage with a true flag and entities", {
  _: "messages.sendMessage", flags: (1 << 5) | (1 << 3), silent: true,
  peer: { _: "inputPeerUser", user_id: "1001", access_hash: "-7" }, message: "hi", random_id: "-1234567890123",
  entities: [{ _: "messageEntityItalic", offset: 0, length: 2 }],
});
add("messages.getHistory", {
  _: "messages.getHistory", peer: { _: "inputPeerSelf" }, offset_id: 0, offset_date: 0, add_offset: 0, limit: 100,
  max_id: 0, min_id: 0, hash: "0",
});

// Typed decodes and malformed API objects.
const userBytes = hex(obj(user));
const tcs = [];
tcs.push({ tcId: ++tc, comment: "typed decode as User", result: "valid", args: { data: userBytes, type: "User" },
  expect: { json: withFlags(user) } });
tcs.push({ tcId: ++tc, comment: "typed decode: a user is not a Chat", result: "invalid",
  args: { data: userBytes, type: "Chat" }, expect: { error: "tl_type_mismatch" } });
// peerNotifySettings show_previews (flags.0) set to a Bool id that is neither true nor false
const pns = hex(obj({ _: "peerNotifySettings", flags: 1, show_previews: true }));
tcs.push({ tcId: ++tc, comment: "Bool that is neither boolTrue nor boolFalse", result: "invalid",
  args: { data: pns.slice(0, 16) + "00000000" }, expect: { error: "tl_bad_bool" } });
// Unknown flag bit 31 in peerNotifySettings.flags: kept by lenient decoders, rejected in strict mode.
const unk = pns.slice(0, 8) + "01000080" + pns.slice(16);
tcs.push({ tcId: ++tc, comment: "unknown flag bit, strict", result: "invalid", args: { data: unk, strict: true },
  expect: { error: "tl_bad_flags" } });
tcs.push({ tcId: ++tc, comment: "unknown flag bit, lenient: kept in flags", result: "acceptable",
  args: { data: unk }, expect: { json: { _: "peerNotifySettings", flags: 0x80000001, show_previews: true } } });
tcs.push({ tcId: ++tc, comment: "user cut inside its first_name", result: "invalid",
  args: { data: userBytes.slice(0, 80) }, expect: { error: "tl_short" } });
decode.push(...tcs);

const enc_bad = [
  ["views without forwards (both on flags.10)", Object.assign({}, msg, { forwards: undefined }), "tl_bad_flags"],
  ["a true flag that is not a boolean", { _: "user", id: "1", contact: 1 }, "tl_type_mismatch"],
  ["constructor of another type where User is expected",
    { _: "updates", updates: [], users: [{ _: "peerUser", user_id: "1" }], chats: [], date: 0, seq: 0 }, "tl_type_mismatch"],
];
// Flags given on input are recomputed from the fields: a stale value gives the same bytes.
encode.push({ tcId: ++tc, comment: "flags given explicitly (stale): recomputed from the fields", result: "valid",
  args: { json: { _: "peerNotifySettings", flags: 6, show_previews: true } }, expect: { data: pns } });
for (const [comment, j, error] of enc_bad) {
  encode.push({ tcId: ++tc, comment, result: "invalid", args: { json: JSON.parse(JSON.stringify(j)) },
    expect: { error } });
}

const doc = {
  format: "mtprobe-vectors/1",
  title: "API objects (layer 198): flags, flags2, true flags, Bool, double, bytes, !X wrappers",
  source: "Objects of vectors/schema/api.tl (layer 198); bytes by GramJS",
  generator: "GramJS (npm telegram 2.26.22, layer 198) Api classes serialise each object; vectors/gen/tl_api_gramjs.js",
  spec: ["https://core.telegram.org/mtproto/TL-combinators", "https://core.telegram.org/api/invoking",
    "https://core.telegram.org/mtproto/serialize"],
  requirements: [],
  notes: {},
  testGroups: [
    { op: "tl_decode", comment: "bytes -> JSON", args: { schema: "api" }, tests: decode },
    { op: "tl_encode", comment: "JSON -> bytes", args: { schema: "api" }, tests: encode },
  ],
};
fs.writeFileSync(path.join(ROOT, "vectors/tl/api_objects.json"), JSON.stringify(doc, null, 1) + "\n");
