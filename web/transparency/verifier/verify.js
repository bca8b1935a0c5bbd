// The browser verifier: courtwatch/transparency/verify.py's rules in JavaScript.
// Runs from a file:// page with no network (the page's policy forbids every fetch):
// WebCrypto for SHA-256 and Ed25519, DecompressionStream for the zip's deflate.
// Each problem reads as the command line's does, so both verifiers name one failure
// in one sentence (tests/web/transparency/test_browser_verifier.py runs both).
"use strict";
(() => {
  const MAX_DROP = 256 * 1024 * 1024; // the file dropped on the page
  const MAX_FILE = 64 * 1024 * 1024; // one file of the bundle, once inflated
  const EVENTS = "events.jsonl", PROOFS = "proofs.json";
  const CHECKPOINT = "checkpoint.txt", KEY = "public-key.txt";
  const REFRESH = "refresh.json", REFRESH_FORMAT = "courtwatch-bundle-refresh-v1";
  const REQUIRED = [EVENTS, PROOFS, CHECKPOINT, KEY];
  const FORMAT = "courtwatch-evidence-bundle-v2";
  const OLD_FORMATS = ["courtwatch-evidence-bundle-v1"];
  const HEADS = "courtwatch-report-heads";
  const MAX_TREE_SIZE = 2n ** 64n - 1n;
  const enc = new TextEncoder();

  class Problem extends Error {}
  class ProofError extends Error {}
  class RootMismatch extends ProofError {}

  const py = (s) => "'" + String(s).replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const sha256 = async (d) => new Uint8Array(await crypto.subtle.digest("SHA-256", d));
  const leafHash = (d) => sha256(concat(Uint8Array.of(0), d));
  const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));
  const utf8 = (bytes, what) => {
    try { return new TextDecoder("utf-8", { fatal: true }).decode(bytes); }
    catch { throw new Problem(`${what} is not UTF-8 text`); }
  };

  function b64(bytes) {
    let s = "";
    for (const x of bytes) s += String.fromCharCode(x);
    return btoa(s);
  }
  function unb64(text, what) {
    let raw;
    try { raw = Uint8Array.from(atob(text), (c) => c.charCodeAt(0)); }
    catch { throw new Problem(`${what} is not valid base64: ${py(text)}`); }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
      throw new Problem(`${what} is not valid base64: ${py(text)}`);
    }
    if (b64(raw) !== text) throw new Problem(`${what} is not canonical base64: ${py(text)}`);
    return raw;
  }

  // --- JSON, as strictly as courtwatch.transparency.canonical reads it -------------
  function strictJson(text) {
    const value = JSON.parse(text); // refuses NaN, Infinity, trailing commas
    noDuplicates(text);
    return value;
  }
  function noDuplicates(text) {
    // One pass over the text: the set of names of each open object.
    const stack = [];
    let expectKey = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        let j = i + 1;
        while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
        const top = stack[stack.length - 1];
        if (top && expectKey) {
          const name = JSON.parse(text.slice(i, j + 1));
          if (top.has(name)) throw new Problem(`duplicate member name ${py(name)}`);
          top.add(name);
          expectKey = false;
        }
        i = j;
      } else if (c === "{") { stack.push(new Set()); expectKey = true; }
      else if (c === "[") { stack.push(null); }
      else if (c === "}" || c === "]") { stack.pop(); }
      else if (c === ",") { expectKey = stack[stack.length - 1] instanceof Set; }
    }
  }
  // proofs.json and refresh.json hold whole numbers only: JSON.parse reads 3.0 as 3,
  // Python as a float (canonical.strict_json_loads(whole_numbers=True) refuses it).
  const NUMBER = /-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
  function wholeNumbers(text) {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        let j = i + 1;
        while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
        i = j;
      } else if (c === "-" || (c >= "0" && c <= "9")) {
        NUMBER.lastIndex = i;
        const token = NUMBER.exec(text)[0];
        if (/[.eE]/.test(token)) throw new Problem(`it holds ${py(token)}, which is not a whole number`);
        i += token.length - 1;
      }
    }
  }
  // RFC 8785: ECMAScript's own serialisation, with members sorted by UTF-16 code units.
  function jcs(v) {
    if (v === null || typeof v === "boolean") return String(v);
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new Problem("a number JSON cannot hold");
      if (Number.isInteger(v) && Math.abs(v) > Number.MAX_SAFE_INTEGER) {
        throw new Problem(`${v} is an integer beyond 2**53 - 1`);
      }
      return JSON.stringify(v);
    }
    if (typeof v === "string") {
      if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v)) {
        throw new Problem("a string holds an unpaired surrogate");
      }
      return JSON.stringify(v);
    }
    if (Array.isArray(v)) return "[" + v.map(jcs).join(",") + "]";
    return "{" + Object.keys(v).sort().map((k) => jcs(k) + ":" + jcs(v[k])).join(",") + "}";
  }

  // --- keys and checkpoints (courtwatch/transparency/checkpoint.py) ----------------
  function checkKeyName(name) {
    if (!name || name.includes("+") || /\s/.test(name)) {
      throw new Problem(`key name ${py(name)} must be non-empty, without spaces or '+'`);
    }
  }
  async function parseVkey(text) {
    text = text.trim();
    const first = text.indexOf("+"), second = first < 0 ? -1 : text.indexOf("+", first + 1);
    if (second < 0) throw new Problem("public key must look like <name>+<key id hex>+<base64 key>");
    const name = text.slice(0, first), idHex = text.slice(first + 1, second);
    checkKeyName(name);
    if (!/^[0-9a-f]{8}$/.test(idHex)) {
      throw new Problem(`the key ID in the public key must be 8 lowercase hex digits, got ${py(idHex)}`);
    }
    const raw = unb64(text.slice(second + 1), "public key key");
    if (!raw.length || raw[0] !== 1) throw new Problem("public key is not an Ed25519 key (algorithm byte 0x01)");
    const pk = raw.slice(1);
    if (pk.length !== 32) throw new Problem(`public key is ${pk.length} bytes, expected 32`);
    const id = (await sha256(concat(enc.encode(name + "\n"), Uint8Array.of(1), pk))).slice(0, 4);
    if (hex(id) !== idHex) throw new Problem(`public key ${py(text)} is damaged: its key ID does not match the key`);
    const digest = hex(await sha256(pk));
    return {
      name, keyId: id, pk, text: `${name}+${idHex}+${b64(raw)}`,
      fingerprint: digest.match(/.{4}/g).join(" "),
    };
  }
  // --- witness cosignatures (courtwatch/transparency/cosignature.py) ---------------
  async function parseWitnessKey(text) {
    text = text.trim();
    const first = text.indexOf("+"), second = first < 0 ? -1 : text.indexOf("+", first + 1);
    if (second < 0) throw new Problem("witness public key must look like <name>+<key id hex>+<base64 key>");
    const name = text.slice(0, first), idHex = text.slice(first + 1, second);
    checkKeyName(name);
    if (!/^[0-9a-f]{8}$/.test(idHex)) throw new Problem("the key ID in the witness public key must be 8 lowercase hex digits");
    const raw = unb64(text.slice(second + 1), "witness public key");
    if (!raw.length || raw[0] !== 4) {
      throw new Problem("witness public key is not a cosignature/v1 key (signature type 0x04); a log's checkpoint key (type 0x01) cannot cosign");
    }
    const pk = raw.slice(1);
    if (pk.length !== 32) throw new Problem(`witness public key is ${pk.length} bytes, expected 32`);
    const id = (await sha256(concat(enc.encode(name + "\n"), Uint8Array.of(4), pk))).slice(0, 4);
    if (hex(id) !== idHex) throw new Problem(`witness public key ${py(text)} is damaged: its key ID does not match the key`);
    return { name, keyId: id, pk, text: `${name}+${idHex}+${b64(raw)}` };
  }
  const LAST_DATE = 253402300799n; // 9999-12-31 23:59:59 UTC, as verify.py's _utc
  const utcTime = (ts) => ts > LAST_DATE
    ? `${ts} s after 1970 (beyond year 9999)`
    : new Date(Number(ts) * 1000).toISOString().slice(0, 19).replace("T", " ") + " UTC";
  async function checkWitnesses(note, known, needed, report, where = CHECKPOINT, what = "the checkpoint") {
    let found = new Map(), problems = [];
    try {
      const { text, signatures } = splitNote(note);
      for (const [name, sig] of signatures) {
        const w = known.find((k) => k.name === name && same(sig.slice(0, 4), k.keyId));
        if (!w) continue;
        if (sig.length !== 76) { problems.push(`cosignature by ${w.name} is ${sig.length} bytes, a cosignature/v1 is 76`); continue; }
        const ts = new DataView(sig.buffer, sig.byteOffset).getBigUint64(4);
        if (ts > 0x7fffffffffffffffn) { problems.push(`cosignature by ${w.name} has an impossible timestamp`); continue; }
        let ok = false;
        try {
          const k = await crypto.subtle.importKey("raw", w.pk, { name: "Ed25519" }, false, ["verify"]);
          ok = await crypto.subtle.verify({ name: "Ed25519" }, k, sig.slice(12), enc.encode(`cosignature/v1\ntime ${ts}\n${text}`));
        } catch { ok = false; }
        if (!ok) {
          problems.push(`the cosignature by witness ${w.name} does not verify: the checkpoint was altered after it was cosigned, or the cosignature was forged`);
          continue;
        }
        if (!found.has(w.text)) found.set(w.text, [w.name, ts]);
      }
    } catch (e) {
      found = new Map();
      problems = [message(e)];
    }
    for (const p of problems) report.problems.push(`${where}: ${p}`);
    report.witnessed = [...found.values()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    if (found.size < needed) {
      const names = report.witnessed.map(([n]) => n).join(", ") || "none of them";
      report.problems.push(`${what} is cosigned by ${found.size} of the ${known.length} witnesses given, ${needed} required (${names}): no quorum of independent witnesses vouches that this is the one history of the log everyone sees`);
    }
  }

  function splitNote(note) {
    if (!note.endsWith("\n")) throw new Problem("malformed signed note: it must end with a newline");
    for (const ch of note) {
      const c = ch.codePointAt(0);
      if (ch !== "\n" && (c < 0x20 || c === 0x7f)) {
        const u = c.toString(16).toUpperCase().padStart(4, "0");
        throw new Problem(`malformed signed note: control character U+${u} is not allowed`);
      }
    }
    const split = note.lastIndexOf("\n\n");
    if (split < 0) throw new Problem("malformed signed note: no empty line before the signatures");
    const text = note.slice(0, split + 1);
    const lines = note.slice(split + 2).split("\n").slice(0, -1);
    if (!lines.length) throw new Problem("malformed signed note: no signature lines");
    if (lines.length > 100) throw new Problem("malformed signed note: more than 100 signatures");
    const signatures = lines.map((line, i) => {
      if (!line.startsWith("\u2014 ")) {
        throw new Problem(`malformed signed note: signature line ${i + 1} does not start with '\u2014 ' (em dash, space): ${py(line)}`);
      }
      const fields = line.slice(2).split(" ");
      if (fields.length !== 2 || !fields[0]) {
        throw new Problem(`malformed signed note: signature line ${i + 1} must be '\u2014 <name> <base64>'`);
      }
      const sig = unb64(fields[1], `signature line ${i + 1}`);
      if (sig.length < 5) throw new Problem(`malformed signed note: signature line ${i + 1} is too short`);
      return [fields[0], sig];
    });
    return { text, signatures };
  }
  function parseCheckpointText(text) {
    if (!text.endsWith("\n")) throw new Problem("malformed checkpoint: it must end with a newline");
    const lines = text.slice(0, -1).split("\n");
    if (lines.length < 3) {
      throw new Problem(`malformed checkpoint: it needs an origin line, a tree size line and a root hash line, but has ${lines.length} line(s)`);
    }
    const [origin, sizeText, rootText, ...extensions] = lines;
    if (!origin) throw new Problem("malformed checkpoint: the origin line is empty");
    // As checkpoint.py: at most 20 digits and a u64 (C2SP tlog-checkpoint). The size is
    // a BigInt: a Number would round sizes beyond 2**53 and print another value.
    if (!/^(0|[1-9][0-9]{0,19})$/.test(sizeText) || BigInt(sizeText) > MAX_TREE_SIZE) {
      throw new Problem(`malformed checkpoint: tree size ${py(sizeText.slice(0, 30))} is not a decimal number of at most 20 digits`);
    }
    const root = unb64(rootText, "checkpoint root hash");
    if (root.length !== 32) throw new Problem(`malformed checkpoint: root hash is ${root.length} bytes, expected 32`);
    if (extensions.some((l) => !l)) throw new Problem("malformed checkpoint: extension lines must not be empty");
    return { origin, size: BigInt(sizeText), root, extensions };
  }
  async function verifyCheckpoint(note, key, origin) {
    const { text, signatures } = splitNote(note);
    const checkpoint = parseCheckpointText(text);
    if (origin != null && checkpoint.origin !== origin) {
      throw new Problem(`checkpoint is for log ${py(checkpoint.origin)}, not the expected ${py(origin)}`);
    }
    let cryptoKey;
    try { cryptoKey = await crypto.subtle.importKey("raw", key.pk, { name: "Ed25519" }, false, ["verify"]); }
    catch { throw new Problem(`public key ${key.text} is not a valid Ed25519 key`); }
    let found = false;
    for (const [name, sig] of signatures) {
      if (name !== key.name || !same(sig.slice(0, 4), key.keyId)) continue; // a witness's
      if (sig.length !== 68) throw new Problem(`signature by ${name} is ${sig.length - 4} bytes, an Ed25519 signature is 64`);
      const ok = await crypto.subtle.verify({ name: "Ed25519" }, cryptoKey, sig.slice(4), enc.encode(text));
      if (!ok) {
        throw new Problem(`checkpoint signature does not verify with key ${key.text}: the checkpoint was altered or signed by another key`);
      }
      found = true;
    }
    if (!found) {
      const names = signatures.map(([n, s]) => `${n} (${hex(s.slice(0, 4))})`).join(", ");
      throw new Problem(`checkpoint is not signed by key ${key.text} (key ID ${hex(key.keyId)}); it carries signatures from: ${names}`);
    }
    return checkpoint;
  }

  // --- RFC 9162 proofs (courtwatch/transparency/merkle.py) -------------------------
  function checkProof(proof) {
    proof.forEach((p, i) => {
      if (p.length !== 32) throw new ProofError(`proof hash #${i} is ${p.length} bytes, expected 32: the proof is damaged`);
    });
  }
  // Sizes and indexes are BigInts here, as Python's ints: a checkpoint may name up to 2**64 - 1.
  const half = (n) => n >> 1n;
  const odd = (n) => (n & 1n) === 1n;
  async function verifyInclusion(leaf, index, size, proof, root) {
    index = BigInt(index); size = BigInt(size);
    if (index >= size) throw new ProofError(`leaf index ${index} is not inside a tree of ${size} leaves`);
    if (leaf.length !== 32) throw new ProofError(`leaf hash is ${leaf.length} bytes, expected 32`);
    if (root.length !== 32) throw new ProofError(`root hash is ${root.length} bytes, expected 32`);
    checkProof(proof);
    let fn = index, sn = size - 1n, r = leaf;
    for (const p of proof) {
      if (sn === 0n) throw new ProofError(`inclusion proof has ${proof.length} hashes, too many for this tree`);
      if (odd(fn) || fn === sn) {
        r = await nodeHash(p, r);
        while (!odd(fn) && fn !== 0n) { fn = half(fn); sn = half(sn); }
      } else {
        r = await nodeHash(r, p);
      }
      fn = half(fn); sn = half(sn);
    }
    if (sn !== 0n) throw new ProofError(`inclusion proof has ${proof.length} hashes, too few for this tree`);
    if (!same(r, root)) throw new RootMismatch(`inclusion proof for leaf ${index} does not lead to the expected root`);
  }
  async function verifyConsistency(size1, size2, root1, root2, proof) {
    size1 = BigInt(size1); size2 = BigInt(size2);
    if (size1 > size2) throw new ProofError(`a tree of ${size2} leaves cannot extend one of ${size1} leaves`);
    if (size1 === size2) {
      if (proof.length) throw new ProofError("trees of equal size need an empty consistency proof");
      if (!same(root1, root2)) throw new ProofError(`two different roots for the same tree size ${size1}`);
      return;
    }
    if (size1 === 0n) throw new ProofError("a consistency proof from the empty tree proves nothing");
    if (!proof.length) throw new ProofError("consistency proof is empty but the tree sizes differ");
    checkProof(proof);
    const path = [...proof];
    if ((size1 & (size1 - 1n)) === 0n) path.unshift(root1);
    let fn = size1 - 1n, sn = size2 - 1n;
    while (odd(fn)) { fn = half(fn); sn = half(sn); }
    let fr = path[0], sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0n) throw new ProofError(`consistency proof has ${proof.length} hashes, too many`);
      if (odd(fn) || fn === sn) {
        fr = await nodeHash(c, fr); sr = await nodeHash(c, sr);
        while (!odd(fn) && fn !== 0n) { fn = half(fn); sn = half(sn); }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn = half(fn); sn = half(sn);
    }
    if (sn !== 0n) throw new ProofError(`consistency proof has ${proof.length} hashes, too few`);
    if (!same(fr, root1)) throw new RootMismatch(`consistency proof does not lead to the root of the ${size1}-leaf tree`);
    if (!same(sr, root2)) throw new RootMismatch(`consistency proof does not lead to the root of the ${size2}-leaf tree`);
  }

  // --- report heads (courtwatch/transparency/heads.py) -----------------------------
  function parseHeads(extensions) {
    const found = extensions.filter((l) => l.split(" ")[0] === HEADS);
    if (!found.length) return null;
    if (found.length > 1) throw new Problem(`the checkpoint has ${found.length} ${HEADS} lines`);
    const m = new RegExp(`^${HEADS} (0|[1-9][0-9]{0,17}) ([A-Za-z0-9+/]{43}=)$`).exec(found[0]);
    if (!m) throw new Problem(`malformed ${HEADS} line: ${py(found[0])}`);
    let root;
    try { root = unb64(m[2], "root"); } catch { root = new Uint8Array(); }
    if (root.length !== 32) throw new Problem(`malformed ${HEADS} root: ${py(found[0])}`);
    return [Number(m[1]), root];
  }
  function uuidText(id) {
    const h = id.replace("urn:", "").replace("uuid:", "").replace(/^[{}]+|[{}]+$/g, "").replace(/-/g, "");
    if (!/^[0-9a-fA-F]{32}$/.test(h)) throw new ProofError("badly formed hexadecimal UUID string");
    const l = h.toLowerCase();
    return `${l.slice(0, 8)}-${l.slice(8, 12)}-${l.slice(12, 16)}-${l.slice(16, 20)}-${l.slice(20)}`;
  }

  // --- the zip (stored or deflated; nothing else) ----------------------------------
  async function inflate(data, name) {
    const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    const reader = stream.getReader();
    const chunks = [];
    let total = 0;
    for (;;) {
      let step;
      try { step = await reader.read(); }
      catch (e) { throw new Problem(`cannot read the bundle as a zip file: ${name} is damaged (${e.message})`); }
      if (step.done) break;
      total += step.value.length;
      if (total > MAX_FILE) {
        reader.cancel().catch(() => {});
        throw new Problem(`${name} is larger than ${MAX_FILE} bytes`);
      }
      chunks.push(step.value);
    }
    return concat(...chunks);
  }
  const CRC = (() => {
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c >>> 0;
    }
    return t;
  })();
  function crc32(bytes) {
    let c = 0xffffffff;
    for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }
  async function readZip(buf) {
    const bad = (why) => new Problem(`cannot read the bundle as a zip file: ${why}`);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let end = -1;
    for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
      if (dv.getUint32(i, true) === 0x06054b50) { end = i; break; }
    }
    if (end < 0) throw bad("File is not a zip file");
    const count = dv.getUint16(end + 10, true);
    const dirSize = dv.getUint32(end + 12, true), dirAt = dv.getUint32(end + 16, true);
    if (count === 0xffff || dirAt === 0xffffffff) throw bad("zip64 bundles are not supported here");
    if (dirAt + dirSize > end) throw bad("its directory is damaged");
    const entries = [];
    let p = dirAt;
    for (let i = 0; i < count; i++) {
      if (p + 46 > end || dv.getUint32(p, true) !== 0x02014b50) throw bad("its directory is damaged");
      const nameLength = dv.getUint16(p + 28, true);
      entries.push({
        flags: dv.getUint16(p + 8, true), method: dv.getUint16(p + 10, true),
        crc: dv.getUint32(p + 16, true), packed: dv.getUint32(p + 20, true),
        size: dv.getUint32(p + 24, true), at: dv.getUint32(p + 42, true),
        name: new TextDecoder().decode(buf.subarray(p + 46, p + 46 + nameLength)),
      });
      p += 46 + nameLength + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
    }
    const names = entries.map((e) => e.name);
    const duplicated = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))].sort();
    if (duplicated.length) {
      throw new Problem(`the bundle contains several files named ${duplicated.join(", ")}: it was assembled by hand or tampered with`);
    }
    const missing = REQUIRED.filter((n) => !names.includes(n));
    if (missing.length) throw new Problem(`the bundle is missing ${missing.join(", ")}`);
    const files = {};
    for (const name of [...REQUIRED, ...(names.includes(REFRESH) ? [REFRESH] : [])]) {
      const e = entries.find((x) => x.name === name);
      if (e.flags & 1) throw bad(`${name} is encrypted`);
      if (e.method !== 0 && e.method !== 8) throw bad(`compression method ${e.method} of ${name} is not supported`);
      if (e.size > MAX_FILE) throw new Problem(`${name} is larger than ${MAX_FILE} bytes`);
      if (e.at + 30 > buf.length || dv.getUint32(e.at, true) !== 0x04034b50) throw bad(`${name} is damaged`);
      const start = e.at + 30 + dv.getUint16(e.at + 26, true) + dv.getUint16(e.at + 28, true);
      if (start + e.packed > buf.length) throw bad(`${name} is cut short`);
      const packed = buf.subarray(start, start + e.packed);
      const data = e.method === 8 ? await inflate(packed, name) : packed.slice();
      if (data.length !== e.size || crc32(data) !== e.crc) throw bad(`Bad CRC-32 for file ${py(name)}`);
      files[name] = data;
    }
    return files;
  }

  // --- the checks, in verify.py's order -------------------------------------------
  const int = (v, what) => {
    // JSON.parse rounds integers beyond 2**53 - 1; verify.py's _int refuses them in the same words.
    if (typeof v === "number" && Number.isInteger(v) && v > Number.MAX_SAFE_INTEGER) {
      throw new Problem(`${what} is larger than 2**53 - 1: a JSON reader cannot be sure of its exact value`);
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw new Problem(`${what} must be a non-negative integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const list = (v, what) => { if (!Array.isArray(v)) throw new Problem(`${what} must be a list`); return v; };
  const hexBytes = (v, what) => {
    if (typeof v !== "string" || !/^(?:[0-9a-f]{2})*$/.test(v)) {
      throw new Problem(`${what} must be lowercase hex, got ${JSON.stringify(v)}`);
    }
    return Uint8Array.from(v.match(/../g) || [], (x) => parseInt(x, 16));
  };
  const message = (e) => (e instanceof Problem || e instanceof ProofError ? e.message : String(e && e.message || e));

  // refresh.json: a newer checkpoint of the same log that extends the bundle's (verify.py's _check_refresh).
  async function checkRefresh(data, checkpoint, key, known, needed, report) {
    const problem = (text) => report.problems.push(text);
    let note, proof;
    try {
      const refreshText = utf8(data, REFRESH);
      const doc = strictJson(refreshText);
      wholeNumbers(refreshText);
      if (!doc || typeof doc !== "object" || Array.isArray(doc) || doc.format !== REFRESH_FORMAT) {
        throw new Problem(`it is not a ${REFRESH_FORMAT} document (member "format")`);
      }
      note = doc.checkpoint;
      if (typeof note !== "string") throw new Problem('it needs a "checkpoint" signed note');
      proof = list(doc.consistency_proof, "consistency_proof").map((h) => hexBytes(h, "consistency_proof"));
    } catch (e) { problem(`${REFRESH} is malformed: ${message(e)}`); return; }
    const what = "the newer checkpoint";
    let newer;
    try {
      newer = key ? await verifyCheckpoint(note, key, checkpoint.origin) : parseCheckpointText(splitNote(note).text);
    } catch (e) { problem(`${REFRESH}: ${what}: ${message(e)}`); return; }
    if (!key && newer.origin !== checkpoint.origin) {
      problem(`${REFRESH}: ${what}: checkpoint is for log ${py(newer.origin)}, not the expected ${py(checkpoint.origin)}`);
      return;
    }
    if (newer.size < checkpoint.size) {
      problem(`${REFRESH}: ${what} (${newer.size} records) is smaller than the bundle's checkpoint (${checkpoint.size} records): it is not newer, and a log never shrinks`);
      return;
    }
    try { await verifyConsistency(checkpoint.size, newer.size, checkpoint.root, newer.root, proof); }
    catch (e) {
      problem(`${REFRESH}: the bundle's checkpoint (${checkpoint.size} records) is not a prefix of ${what} (${newer.size} records): ${message(e)}. The log was changed since the bundle was made, or the proof is damaged`);
      return;
    }
    report.refreshed = newer;
    if (known.length) await checkWitnesses(note, known, needed, report, REFRESH, what);
  }

  async function verifyFiles(files, expectedKey, expectedOrigin, witnessKeys = [], quorum = null) {
    const report = { problems: [], notes: [], verified: 0, covered: {}, checkpoint: null, signed: false, key: null, witnessed: [], refreshed: null };
    const problem = (text) => report.problems.push(text);
    const expected = expectedKey ? await parseVkey(expectedKey) : null;
    const knownWitnesses = [];
    for (const w of witnessKeys) knownWitnesses.push(await parseWitnessKey(w));
    const needed = quorum == null ? knownWitnesses.length : quorum;
    if (!(needed >= 0 && needed <= knownWitnesses.length)) {
      throw new Problem(`a quorum of ${needed} needs at least ${needed} --witness keys`);
    }
    let bundled = null;
    try { bundled = await parseVkey(utf8(files[KEY], KEY)); } catch (e) { problem(`${KEY}: ${message(e)}`); }
    let key = bundled;
    if (!expected) {
      report.key = bundled;
      if (bundled) report.notes.push("checked with the key inside the bundle only. Compare its fingerprint above with the one the log operator publishes, or give the published key.");
    } else {
      report.key = key = expected;
      if (bundled && bundled.text !== expected.text) {
        problem(`the bundle's public key (${bundled.text}) is not the expected key (${expected.text}): the bundle may have been re-signed by someone else`);
      }
    }
    let note;
    try { note = utf8(files[CHECKPOINT], CHECKPOINT); } catch (e) { problem(message(e)); return report; }
    let checkpoint = null;
    if (key) {
      try { checkpoint = await verifyCheckpoint(note, key); report.signed = true; }
      catch (e) { problem(message(e)); }
    }
    if (!checkpoint) {
      try { checkpoint = parseCheckpointText(splitNote(note).text); }
      catch (e) { problem(`${CHECKPOINT}: ${message(e)}`); return report; }
    }
    report.checkpoint = checkpoint;
    if (files[REFRESH]) await checkRefresh(files[REFRESH], checkpoint, key, knownWitnesses, needed, report);
    else if (knownWitnesses.length) await checkWitnesses(note, knownWitnesses, needed, report);
    if (expectedOrigin && checkpoint.origin !== expectedOrigin) {
      problem(`the checkpoint is for log ${py(checkpoint.origin)}, not the expected ${py(expectedOrigin)}: it comes from another log`);
    }
    // proofs.json
    let doc, leaves = new Map(), heads = null, consistency;
    try {
      const proofsText = utf8(files[PROOFS], PROOFS);
      doc = strictJson(proofsText);
      wholeNumbers(proofsText);
      if (!doc || typeof doc !== "object" || Array.isArray(doc) || ![FORMAT, ...OLD_FORMATS].includes(doc.format)) {
        throw new Problem(`it is not a ${FORMAT} document (member "format")`);
      }
      int(doc.tree_size, "tree_size");
      for (const entry of list(doc.leaves, "leaves")) {
        if (!entry || typeof entry !== "object" || Array.isArray(entry)) throw new Problem('every item of "leaves" must be an object');
        const index = int(entry.leaf_index, "leaf_index");
        if (leaves.has(index)) throw new Problem(`leaf ${index} is listed twice`);
        leaves.set(index, {
          hash: hexBytes(entry.leaf_hash, `leaf_hash of leaf ${index}`),
          proof: list(entry.inclusion_proof, `inclusion_proof of leaf ${index}`).map((h) => hexBytes(h, `inclusion_proof of leaf ${index}`)),
        });
      }
      if (!OLD_FORMATS.includes(doc.format)) {
        heads = new Map();
        for (const entry of list(doc.reports, "reports")) {
          if (!entry || typeof entry !== "object" || typeof entry.id !== "string") throw new Problem('every item of "reports" must be an object with an "id"');
          if (heads.has(entry.id)) throw new Problem(`report ${entry.id} is listed twice in reports`);
          heads.set(entry.id, {
            version: int(entry.current_version, `current_version of report ${entry.id}`),
            index: int(entry.head_index, `head_index of report ${entry.id}`),
            proof: list(entry.head_proof, `head_proof of report ${entry.id}`).map((h) => hexBytes(h, `head_proof of report ${entry.id}`)),
          });
        }
      }
      consistency = list(doc.consistency === undefined ? [] : doc.consistency, "consistency");
    } catch (e) {
      problem(`${PROOFS} is malformed: ${message(e)}`);
      return report;
    }
    if (BigInt(doc.tree_size) !== checkpoint.size) {
      problem(`${PROOFS} is for a tree of ${doc.tree_size} records, but the checkpoint is for ${checkpoint.size}`);
    }
    if (doc.root_hash !== undefined && doc.root_hash !== null && doc.root_hash !== hex(checkpoint.root)) {
      problem(`${PROOFS} names a different root hash than the checkpoint`);
    }
    for (const [i, entry] of consistency.entries()) {
      const what = `older checkpoint #${i + 1}`;
      let proof, old;
      try {
        if (!entry || typeof entry !== "object" || typeof entry.old_checkpoint !== "string") throw new Problem('it needs an "old_checkpoint" signed note');
        proof = list(entry.proof, "proof").map((h) => hexBytes(h, "proof"));
      } catch (e) { problem(`${what} in ${PROOFS} is malformed: ${message(e)}`); continue; }
      try {
        old = key ? await verifyCheckpoint(entry.old_checkpoint, key, checkpoint.origin)
                  : parseCheckpointText(splitNote(entry.old_checkpoint).text);
      } catch (e) { problem(`${what}: ${message(e)}`); continue; }
      try { await verifyConsistency(old.size, checkpoint.size, old.root, checkpoint.root, proof); }
      catch (e) {
        problem(`${what} (${old.size} records) is not a prefix of the signed log: ${message(e)}. Records present then were changed or removed, or the proof is damaged`);
      }
    }
    // events.jsonl
    const data = files[EVENTS];
    const seen = new Set(), versions = new Map();
    if (data.length && data[data.length - 1] !== 10) problem(`${EVENTS} does not end with a newline: it was cut short`);
    const lines = [];
    let from = 0;
    for (let i = 0; i <= data.length; i++) {
      if (i === data.length || data[i] === 10) { lines.push(data.subarray(from, i)); from = i + 1; }
    }
    if (lines.length && lines[lines.length - 1].length === 0) lines.pop();
    for (const [n, line] of lines.entries()) {
      const where = `${EVENTS} line ${n + 1}`;
      let item, index, event, computed;
      try {
        const text = utf8(line, "the line");
        item = strictJson(text);
        const names = item && typeof item === "object" && !Array.isArray(item) ? Object.keys(item).sort() : [];
        if (names.join() !== "event,leaf_index") throw new Problem('each line must be {"event": ..., "leaf_index": ...}');
        index = int(item.leaf_index, "leaf_index");
        event = item.event;
        if (!event || typeof event !== "object" || Array.isArray(event)) throw new Problem('"event" must be an object');
        if (jcs(item) !== text) {
          throw new Problem("it is not exactly RFC 8785 canonical JSON (extra spaces, member order or escapes differ), so its bytes are not the logged record's");
        }
        computed = await leafHash(enc.encode(text.slice('{"event":'.length, text.lastIndexOf(',"leaf_index":'))));
      } catch (e) {
        problem(`${where} is malformed: ${message(e)}`);
        continue;
      }
      const label = `event at leaf ${index} (report ${event.id ?? "?"} v${event.version ?? "?"})`;
      if (seen.has(index)) { problem(`${label}: appears more than once in ${EVENTS}`); continue; }
      seen.add(index);
      if (typeof event.id !== "string" || typeof event.version !== "number" || !Number.isInteger(event.version)) {
        problem(`${label}: the event has no report id and version`);
      } else {
        const of = versions.get(event.id) || new Map();
        versions.set(event.id, of);
        if (of.has(event.version)) {
          problem(`${label}: report ${event.id} v${event.version} is also at leaf ${of.get(event.version)}: an event was duplicated`);
        } else of.set(event.version, index);
      }
      const leaf = leaves.get(index);
      if (!leaf) { problem(`${label}: ${PROOFS} has no proof for it`); continue; }
      if (!same(computed, leaf.hash)) { problem(`${label}: content does not match its leaf hash \u2014 the event was edited`); continue; }
      try { await verifyInclusion(computed, index, checkpoint.size, leaf.proof, checkpoint.root); }
      catch (e) {
        problem(e instanceof RootMismatch
          ? `inclusion proof for leaf ${index} does not lead to the signed root`
          : `inclusion proof for leaf ${index} is invalid: ${message(e)}`);
        continue;
      }
      report.verified += 1;
    }
    for (const index of [...leaves.keys()].filter((i) => !seen.has(i)).sort((a, b) => a - b)) {
      problem(`${PROOFS} has a proof for leaf ${index} but ${EVENTS} has no such event`);
    }
    // nothing left out
    if (report.verified === 0) problem("the bundle holds no verified records: it proves nothing about any report");
    if (heads === null) {
      problem("this is an old (v1) bundle: it cannot prove that no event was left out. Ask for a new export");
      return report;
    }
    let signedHeads;
    try { signedHeads = parseHeads(checkpoint.extensions); }
    catch (e) { problem(`${CHECKPOINT}: ${message(e)}`); return report; }
    if (signedHeads === null) {
      problem(`${CHECKPOINT} does not list the reports' current versions, so the bundle cannot prove that no event was left out`);
      return report;
    }
    const [count, headsRoot] = signedHeads;
    for (const id of [...versions.keys()].filter((id) => !heads.has(id)).sort()) {
      problem(`report ${id}: ${PROOFS} does not say which version was current, so events of it may have been left out`);
    }
    for (const [id, head] of [...heads.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      try {
        if (head.version < 1) throw new ProofError(`a version must be a positive integer, got ${head.version}`);
        const entry = await leafHash(enc.encode(`${uuidText(id)} ${head.version}`));
        await verifyInclusion(entry, head.index, count, head.proof, headsRoot);
      } catch (e) {
        problem(`report ${id}: the claim that v${head.version} was its current version at checkpoint ${checkpoint.size} does not verify against the signed checkpoint (${message(e)}): events may have been removed and the claim edited`);
        continue;
      }
      const have = versions.get(id) || new Map();
      const missing = [], extra = [...have.keys()].filter((v) => v > head.version).sort((a, b) => a - b);
      for (let v = 1; v <= head.version; v++) if (!have.has(v)) missing.push(v);
      if (missing.length) problem(`report ${id}: version(s) ${ranges(missing)} of 1-${head.version} are missing from ${EVENTS}: events were removed from the bundle`);
      if (extra.length) problem(`report ${id}: version(s) ${ranges(extra)} are newer than the signed current version ${head.version}`);
      const ordered = [];
      for (let v = 1; v <= head.version; v++) if (have.has(v)) ordered.push(have.get(v));
      if (ordered.some((x, i) => i && x < ordered[i - 1])) problem(`report ${id}: its versions are not in log order: the events were reordered`);
      if (!missing.length && !extra.length) report.covered[id] = head.version;
    }
    return report;
  }
  function ranges(numbers) {
    const parts = [];
    let start = numbers[0], prev = numbers[0];
    for (const n of [...numbers.slice(1), null]) {
      if (n !== null && n === prev + 1) { prev = n; continue; }
      parts.push(start === prev ? String(start) : `${start}-${prev}`);
      if (n !== null) { start = prev = n; }
    }
    return parts.join(", ");
  }
  function render(report) {
    const lines = [];
    const cp = report.checkpoint;
    if (cp) {
      lines.push(`Log:         ${cp.origin}`);
      lines.push(`Checkpoint:  ${cp.size} records, root hash ${hex(cp.root)}${report.signed ? "" : " (its signature is NOT valid)"}`);
    }
    if (report.refreshed) {
      const nw = report.refreshed;
      lines.push(`Refreshed:   the log's checkpoint of ${nw.size} records, root hash ${hex(nw.root)}, contains this one unchanged (consistency proof verified)`);
    }
    if (report.key) {
      lines.push(`Signing key: ${report.key.text}`);
      lines.push(`Fingerprint: ${report.key.fingerprint}`);
    }
    const which = report.refreshed ? " (the newer checkpoint)" : "";
    for (const [name, ts] of report.witnessed || []) lines.push(`Witnessed:   by ${name} at ${utcTime(ts)}${which}`);
    for (const note of report.notes) lines.push(`Note: ${note}`);
    for (const id of Object.keys(report.covered).sort()) {
      lines.push(`Covered:     report ${id} versions 1-${report.covered[id]} (every version up to checkpoint ${cp ? cp.size : "?"})`);
    }
    if (!report.problems.length) {
      lines.push(`VERIFIED: all ${report.verified} record(s) are in the signed log, unaltered, and no version of the ${Object.keys(report.covered).length} report(s) above is missing.`);
    } else {
      lines.push(`FAILED: ${report.problems.length} problem(s):`);
      for (const p of report.problems) lines.push(`  - ${p}`);
    }
    return lines.join("\n");
  }

  // --- the page --------------------------------------------------------------------
  const STRINGS = JSON.parse(document.getElementById("verifier-strings").textContent);
  const asked = new URLSearchParams(location.search).get("lang");
  const known = (l) => l === "en" || l === "es";
  const lang = known(asked) ? asked : known(document.documentElement.lang) ? document.documentElement.lang : "en";
  const t = (k) => STRINGS[lang][k] || STRINGS.en[k] || k;
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);

  const $ = (id) => document.getElementById(id);
  // Each kind of failure once, in the reader's language, above the detailed report.
  const KINDS = [
    [/^refresh\.json/, "verifier.kind_refresh"],
    [/the event was edited|not exactly RFC 8785|is malformed/, "verifier.kind_edited"],
    [/events were removed|has no such event|has no proof for it|appears more than once|duplicated|reordered/, "verifier.kind_removed"],
    [/inclusion proof|not a prefix|claim that v/, "verifier.kind_proof"],
    [/is not the expected key|not signed by key|signature does not verify/, "verifier.kind_key"],
    [/another log|is for log/, "verifier.kind_other_log"],
    [/witnesses given|cosignature/, "verifier.kind_witnesses"],
    [/zip file|larger than|is missing|several files named|not UTF-8|too large/, "verifier.kind_unreadable"],
  ];
  function summary(problems) {
    const kinds = [];
    for (const text of problems) {
      const found = KINDS.find(([pattern]) => pattern.test(text));
      const kind = found ? found[1] : "verifier.kind_other";
      if (!kinds.includes(kind)) kinds.push(kind);
    }
    return kinds.map(t);
  }
  let dropped = null;

  async function bundleFiles(list) {
    const all = [...list];
    if (!all.length) throw new Problem(t("verifier.nothing"));
    for (const f of all) {
      if (f.size > MAX_DROP) throw new Problem(`${f.name} is larger than ${MAX_DROP} bytes: ${t("verifier.too_big")}`);
    }
    const zip = all.find((f) => /\.zip$/i.test(f.name));
    if (zip) return readZip(new Uint8Array(await zip.arrayBuffer()));
    const files = {};
    const missing = REQUIRED.filter((n) => !all.some((f) => f.name === n));
    if (missing.length) throw new Problem(`the bundle is missing ${missing.join(", ")}`);
    for (const name of [...REQUIRED, ...(all.some((f) => f.name === REFRESH) ? [REFRESH] : [])]) {
      const f = all.find((x) => x.name === name);
      if (f.size > MAX_FILE) throw new Problem(`${name} is larger than ${MAX_FILE} bytes`);
      files[name] = new Uint8Array(await f.arrayBuffer());
    }
    return files;
  }

  async function run() {
    if (!dropped) return;
    const verdict = $("verdict"), out = $("report");
    verdict.removeAttribute("data-verdict");
    verdict.className = "verdict";
    verdict.textContent = t("verifier.checking");
    out.textContent = "";
    $("summary").replaceChildren();
    let text, ok, problems = [];
    try {
      const files = await bundleFiles(dropped);
      const key = $("expected-key").value.trim();
      const origin = $("expected-origin").value.trim();
      const witnesses = $("expected-witnesses").value.split("\n").map((l) => l.trim()).filter(Boolean);
      const quorumText = $("quorum").value.trim();
      let report;
      try {
        if (quorumText && !/^[0-9]{1,4}$/.test(quorumText)) throw new Problem(`the quorum must be a whole number, got ${py(quorumText)}`);
        const quorum = quorumText ? Number(quorumText) : null;
        report = await verifyFiles(files, key || null, origin || null, witnesses, quorum);
      }
      catch (e) {
        if (!(e instanceof Problem)) throw e;
        report = { problems: [`the key you gave is not valid: ${e.message}`], notes: [], covered: {}, verified: 0 };
      }
      ok = report.problems.length === 0;
      problems = report.problems;
      text = render(report);
    } catch (e) {
      ok = false;
      problems = [message(e)];
      text = `FAILED: 1 problem(s):\n  - ${message(e)}`;
    }
    for (const line of summary(problems)) {
      const item = document.createElement("li");
      item.textContent = line;
      $("summary").append(item);
    }
    verdict.textContent = ok ? t("verifier.verified") : t("verifier.failed");
    verdict.className = "verdict " + (ok ? "ok" : "failed");
    verdict.dataset.verdict = ok ? "verified" : "failed";
    out.textContent = text;
  }

  const zone = $("drop");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    dropped = e.dataTransfer.files;
    run();
  });
  $("files").addEventListener("change", (e) => { dropped = e.target.files; run(); });
  $("expected-key").addEventListener("change", run);
  $("expected-origin").addEventListener("change", run);
  $("expected-witnesses").addEventListener("change", run);
  $("quorum").addEventListener("change", run);
})();
