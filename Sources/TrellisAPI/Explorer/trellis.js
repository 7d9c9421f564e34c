// trellis.js — the explorer's client library: bytes and hex, Trellis's canonical encoding, SHA-256 and Ed25519
// through WebCrypto, signed API requests (docs/ACCESS.md) and the checks of state proofs, transaction inclusion,
// block headers and commit certificates (docs/EXPORT-FORMAT.md §1–§5), written from the documents alone.
//
// Guarantees: nothing here touches the DOM; a key given to `Trellis.setKey` lives in this page's memory only (never
// storage, never a URL) and is forgotten on reload; every check answers {ok, ...} or throws a TrellisError with a
// message a person can read — it never reports "verified" for something it did not check.
"use strict";

const Trellis = (() => {
  class TrellisError extends Error {
    constructor(message, details = {}) { super(message); this.name = "TrellisError"; Object.assign(this, details); }
  }

  // ---- bytes ---------------------------------------------------------------------------------------------------
  const HEX = /^(?:[0-9a-f]{2})*$/;
  function fromHex(text, what = "hex") {
    if (typeof text !== "string" || !HEX.test(text)) throw new TrellisError(`${what} is not lowercase hex of whole bytes`);
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
    return out;
  }
  function toHex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""); }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function equalBytes(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }
  const utf8 = (text) => new TextEncoder().encode(text);

  // ---- canonical encoding (EXPORT-FORMAT §1) --------------------------------------------------------------------
  class Writer {
    constructor() { this.parts = []; }
    u8(v) { this.parts.push(Uint8Array.of(v)); return this; }
    u32(v) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v); this.parts.push(b); return this; }
    u64(v) { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v)); this.parts.push(b); return this; }
    i64(v) { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, BigInt(v)); this.parts.push(b); return this; }
    raw(bytes) { this.parts.push(bytes); return this; }
    str(text) { const b = utf8(text); return this.u32(b.length).raw(b); }
    bytes() { return concat(...this.parts); }
  }
  class Reader {
    constructor(bytes, what) { this.b = bytes; this.at = 0; this.what = what; }
    need(n) {
      if (this.at + n > this.b.length) throw new TrellisError(`${this.what}: truncated at byte ${this.at}`);
      const out = this.b.subarray(this.at, this.at + n);
      this.at += n;
      return out;
    }
    u8() { return this.need(1)[0]; }
    u32() { const s = this.need(4); return new DataView(s.buffer, s.byteOffset, 4).getUint32(0); }
    u64() { const s = this.need(8); return new DataView(s.buffer, s.byteOffset, 8).getBigUint64(0); }
    i64() { const s = this.need(8); return new DataView(s.buffer, s.byteOffset, 8).getBigInt64(0); }
    str() {
      const n = this.u32();
      try { return new TextDecoder("utf-8", { fatal: true }).decode(this.need(n)); } catch (e) {
        if (e instanceof TrellisError) throw e;
        throw new TrellisError(`${this.what}: invalid UTF-8`);
      }
    }
    end() { if (this.at !== this.b.length) throw new TrellisError(`${this.what}: ${this.b.length - this.at} trailing bytes`); }
  }

  // ---- SHA-256 and Ed25519 through WebCrypto -------------------------------------------------------------------
  function subtle() {
    if (!globalThis.crypto || !crypto.subtle) {
      throw new TrellisError("this page is not a secure context, so the browser offers no WebCrypto: open the explorer at http://127.0.0.1 or http://localhost (or over HTTPS) to check proofs and sign requests");
    }
    return crypto.subtle;
  }
  async function sha256(bytes) { return new Uint8Array(await subtle().digest("SHA-256", bytes)); }

  // The worked example of docs/ACCESS.md (key 1…32): a browser "supports Ed25519" when it verifies this signature
  // over these bytes and rejects it over other bytes — a self-test, not a feature probe.
  const example = {
    publicKey: "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664",
    message: "7472656c6c69732f76312f617069007472656c6c69732d6578616d706c652d310000000009737570706c6965723100000003474554000000122f76312f717565" +
      "72792f686f6c64696e6773000000106d656d6265723d737570706c69657231e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85500" +
      "00000069322080000000203031323334353637383961626364656630313233343536373839616263646566",
    signature: "a8fac45b585ea543ebdbd018cc53699eda4be184a781c57e801cdd2667c0b43b620dec7a91f744e47c24864480d18518eba53bc2412647aba2fe696da926b409",
  };
  let ed25519Probe = null;
  /** Resolves to {ok: true} when WebCrypto verifies Ed25519 correctly here, else {ok: false, reason}. */
  function ed25519Support() {
    if (!ed25519Probe) {
      ed25519Probe = (async () => {
        try {
          const key = await subtle().importKey("raw", fromHex(example.publicKey), { name: "Ed25519" }, false, ["verify"]);
          const good = await subtle().verify({ name: "Ed25519" }, key, fromHex(example.signature), fromHex(example.message));
          const tampered = fromHex(example.message);
          tampered[tampered.length - 1] ^= 1;
          const bad = await subtle().verify({ name: "Ed25519" }, key, fromHex(example.signature), tampered);
          if (good && !bad) return { ok: true };
          return { ok: false, reason: "this browser's Ed25519 failed the self-test" };
        } catch (e) {
          return { ok: false, reason: `this browser has no Ed25519 in WebCrypto (${e.name || e.message})` };
        }
      })();
    }
    return ed25519Probe;
  }
  async function ed25519Verify(publicKey, signature, message) {
    const key = await subtle().importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return subtle().verify({ name: "Ed25519" }, key, signature, message);
  }

  // ---- the reader's key (memory only) and signed requests (docs/ACCESS.md) -------------------------------------
  let signer = null; // {member, publicKey (hex), key (CryptoKey)}
  const PKCS8_ED25519_PREFIX = fromHex("302e020100300506032b657004220420");

  /** Parses a key file's text ({"type":"trellis-ed25519-v1", "public_key", "secret_seed"}) or a bare 64-hex seed. */
  function parseKeyText(text) {
    const trimmed = String(text).trim();
    if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return { seed: fromHex(trimmed.toLowerCase(), "seed"), publicKey: null };
    let object;
    try { object = JSON.parse(trimmed); } catch {
      throw new TrellisError("paste a Trellis key file (JSON with \"secret_seed\") or its 64-hex-digit seed");
    }
    if (!object || object.type !== "trellis-ed25519-v1") throw new TrellisError("not a Trellis key file: its \"type\" must be \"trellis-ed25519-v1\"");
    if (typeof object.secret_seed !== "string" || !/^[0-9a-f]{64}$/.test(object.secret_seed)) throw new TrellisError("the key file's \"secret_seed\" must be 64 lowercase hex digits");
    return { seed: fromHex(object.secret_seed, "secret_seed"), publicKey: typeof object.public_key === "string" ? object.public_key : null };
  }

  /** Imports a key for signing: finds its member id through the public `member_key/<key>` record (or `@operator`). */
  async function setKey(text) {
    const { seed, publicKey: stated } = parseKeyText(text);
    const support = await ed25519Support();
    if (!support.ok) throw new TrellisError(`cannot sign requests: ${support.reason}. Without a key the explorer shows public data only`);
    const key = await subtle().importKey("pkcs8", concat(PKCS8_ED25519_PREFIX, seed), { name: "Ed25519" }, true, ["sign"]);
    const jwk = await subtle().exportKey("jwk", key);
    const publicKey = toHex(Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)));
    if (stated !== null && stated !== publicKey) throw new TrellisError("the key file is corrupt: its secret seed does not derive its public key");
    const record = await get(`/v1/state/member_key%2F${publicKey}`, { anonymous: true });
    let member = "@operator";
    if (record.value_hex) {
      const r = new Reader(fromHex(record.value_hex, "member_key value"), "member_key value");
      member = r.str();
      r.end();
    }
    signer = { member, publicKey, key };
    return { member, publicKey };
  }
  function forgetKey() { signer = null; }
  function currentSigner() { return signer ? { member: signer.member, publicKey: signer.publicKey } : null; }

  // Every byte outside [A-Za-z0-9-._~] percent-encoded: the browser sends such a target unchanged, so the signed
  // path and query are exactly the request's.
  function encode(text) {
    return Array.from(utf8(String(text)), (b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-._~]/.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
    }).join("");
  }
  function query(parameters) {
    const parts = Object.entries(parameters).filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => `${encode(k)}=${encode(v)}`);
    return parts.length ? "?" + parts.join("&") : "";
  }

  let chainID = null;
  async function signedHeaders(method, target) {
    if (chainID === null) chainID = (await get("/v1/status", { anonymous: true })).chain_id;
    const cut = target.indexOf("?");
    const path = cut < 0 ? target : target.slice(0, cut);
    const q = cut < 0 ? "" : target.slice(cut + 1);
    const timestamp = Math.floor(Date.now() / 1000);
    const nonce = toHex(crypto.getRandomValues(new Uint8Array(16)));
    const bytes = new Writer().raw(utf8("trellis/v1/api")).u8(0).raw(utf8(chainID)).u8(0)
      .str(signer.member).str(method).str(path).str(q).raw(await sha256(new Uint8Array(0))).i64(timestamp).str(nonce).bytes();
    const signature = new Uint8Array(await subtle().sign({ name: "Ed25519" }, signer.key, bytes));
    return {
      "Trellis-Member": signer.member, "Trellis-Timestamp": String(timestamp), "Trellis-Nonce": nonce, "Trellis-Signature": toHex(signature),
    };
  }

  /** GET `target` (path and query, already encoded) from this node: the JSON answer, or a TrellisError carrying the
   * HTTP status and the API's error code. Signed with the reader's key when one is set. */
  async function get(target, options = {}) {
    const headers = { Accept: "application/json" };
    if (signer && !options.anonymous) Object.assign(headers, await signedHeaders("GET", target));
    let response;
    try { response = await fetch(target, { headers, cache: "no-store" }); } catch (e) {
      throw new TrellisError(`cannot reach the node (${e.message}); is it running?`, { status: 0 });
    }
    const text = await response.text();
    let body = null;
    try { body = JSON.parse(text); } catch { body = null; }
    if (!response.ok) {
      const error = body && body.error ? body.error : { code: `http_${response.status}`, message: text.slice(0, 300) || response.statusText };
      throw new TrellisError(error.message, { status: response.status, code: error.code });
    }
    if (body === null) throw new TrellisError(`GET ${target}: the answer is not JSON`, { status: response.status });
    return body;
  }

  // ---- Merkle trees and state proofs (EXPORT-FORMAT §4, §5) -----------------------------------------------------
  async function merkleRoot(leaves) {
    if (leaves.length === 0) return sha256(new Uint8Array(0));
    if (leaves.length === 1) return sha256(concat(Uint8Array.of(0), leaves[0]));
    let k = 1;
    while (k * 2 < leaves.length) k *= 2;
    return sha256(concat(Uint8Array.of(1), await merkleRoot(leaves.slice(0, k)), await merkleRoot(leaves.slice(k))));
  }

  function decodeStateProof(bytes) {
    const r = new Reader(bytes, "state proof");
    const count = r.u32();
    if (count > 256) throw new TrellisError(`state proof: ${count} siblings (at most 256)`);
    const siblings = [];
    for (let i = 0; i < count; i++) siblings.push(r.need(32));
    const tag = r.u8();
    let terminal;
    if (tag === 0) terminal = { kind: "empty" };
    else if (tag === 1) terminal = { kind: "leaf", keyHash: r.need(32), valueHash: r.need(32) };
    else throw new TrellisError(`state proof: unknown terminal tag ${tag}`);
    r.end();
    return { siblings, terminal };
  }
  const bit = (hash, i) => (hash[i >> 3] >> (7 - (i & 7))) & 1;

  /** Checks one state read ({key_hex, value_hex|null, proof_hex, state_root}) against its root: {ok, reason?}. */
  async function checkStateRead(read) {
    try {
      if (typeof read.proof_hex !== "string") return { ok: false, reason: "no proof was sent" };
      const proof = decodeStateProof(fromHex(read.proof_hex, "proof_hex"));
      const k = await sha256(fromHex(read.key_hex, "key_hex"));
      const d = proof.siblings.length;
      let node;
      if (read.value_hex !== null && read.value_hex !== undefined) {
        if (proof.terminal.kind !== "leaf") return { ok: false, reason: "a present value needs a leaf terminal" };
        if (!equalBytes(proof.terminal.keyHash, k)) return { ok: false, reason: "the leaf is another key's" };
        if (!equalBytes(proof.terminal.valueHash, await sha256(fromHex(read.value_hex, "value_hex")))) return { ok: false, reason: "the leaf holds another value" };
        node = await sha256(concat(Uint8Array.of(0), k, proof.terminal.valueHash));
      } else if (proof.terminal.kind === "empty") {
        node = new Uint8Array(32);
      } else {
        if (equalBytes(proof.terminal.keyHash, k)) return { ok: false, reason: "absence claimed, but the leaf is this key's" };
        for (let i = 0; i < d; i++) if (bit(proof.terminal.keyHash, i) !== bit(k, i)) return { ok: false, reason: "the leaf is not on this key's path" };
        node = await sha256(concat(Uint8Array.of(0), proof.terminal.keyHash, proof.terminal.valueHash));
      }
      for (let i = d - 1; i >= 0; i--) {
        node = await sha256(bit(k, i) === 0 ? concat(Uint8Array.of(1), node, proof.siblings[i]) : concat(Uint8Array.of(1), proof.siblings[i], node));
      }
      const root = fromHex(read.state_root, "state_root");
      return equalBytes(node, root) ? { ok: true } : { ok: false, reason: "the proof leads to another root" };
    } catch (e) {
      return { ok: false, reason: e.message };
    }
  }

  // ---- headers and certificates (EXPORT-FORMAT §2, §3) ----------------------------------------------------------
  function decodeHeader(bytes) {
    const r = new Reader(bytes, "block header");
    const h = {
      chain_id: r.str(), height: r.u64(), round: r.u32(), time: r.i64(), app_version: r.u32(), previous_block_hash: toHex(r.need(32)),
      tx_count: r.u32(), tx_root: toHex(r.need(32)), receipts_root: toHex(r.need(32)), state_root: toHex(r.need(32)),
      validator_set_hash: toHex(r.need(32)), next_validator_set_hash: toHex(r.need(32)), proposer: toHex(r.need(32)),
      last_commit_hash: toHex(r.need(32)), evidence_hash: toHex(r.need(32)),
    };
    r.end();
    return h;
  }

  /** The canonical ValidatorSet of `validators` ([{public_key, voting_power, p2p_address}]) and its hash. */
  async function validatorSetHash(validators) {
    const sorted = [...validators].sort((a, b) => (a.public_key < b.public_key ? -1 : a.public_key > b.public_key ? 1 : 0));
    const w = new Writer().u32(sorted.length);
    for (const v of sorted) w.raw(fromHex(v.public_key, "validator key")).u64(v.voting_power).str(v.p2p_address);
    return toHex(await sha256(w.bytes()));
  }

  /**
   * Checks a block as `/v1/blocks/{h}` answers it, with the same rule as CommitCertificate.verify
   * (docs/EXPORT-FORMAT.md §3): the header bytes hash to the certified block id, the certificate is for the header's
   * height, and every precommit is by a distinct member of `validators` (which must be the set the header names: its
   * hash is compared) with a valid Ed25519 signature, together more than two thirds of the voting power. The first bad
   * entry rejects the certificate. Answers {status, certified, header, hash, reason, …} where `status` is
   * "certified" (every step checked), "unchecked" (only when this browser has no Ed25519, or the validator set in
   * force at that height is not known here) or "invalid" (anything else: shown as a failure, never as "verified").
   */
  async function checkBlock(block, validators) {
    const headerBytes = fromHex(block.header_hex, "header_hex");
    const header = decodeHeader(headerBytes);
    const hash = toHex(await sha256(headerBytes));
    const cert = block.certificate;
    const out = { header, hash, status: "invalid", certified: false, signed: 0, power: 0, quorum: 0, total: 0 };
    const invalid = (reason, more) => ({ ...out, ...more, status: "invalid", certified: false, reason });
    const unchecked = (reason, more) => ({ ...out, ...more, status: "unchecked", certified: false, reason });
    if (!cert || !Array.isArray(cert.signatures)) return invalid(`the node sent no commit certificate for height ${header.height}`);
    if (typeof cert.block_id !== "string" || cert.block_id.toLowerCase() !== hash) return invalid("the certificate is for another block (the header does not hash to its block id)");
    let certHeight;
    try { certHeight = BigInt(cert.height); } catch { return invalid("the certificate's height is not a number"); }
    if (certHeight !== header.height) return invalid(`the certificate is for height ${cert.height}, the header is height ${header.height}`);
    if (!Array.isArray(validators) || validators.length === 0) return unchecked("the validator set is not known here; the certificate was not checked");
    const setHash = await validatorSetHash(validators);
    if (setHash !== header.validator_set_hash) {
      return unchecked(`the validator set this node reports now is not the one in force at height ${header.height} (it changed since); the certificate was not checked`);
    }
    const power = new Map(validators.map((v) => [v.public_key, BigInt(v.voting_power)]));
    let total = 0n;
    for (const p of power.values()) total += p;
    const quorum = (total * 2n) / 3n + 1n;
    const counts = { total: Number(total), quorum: Number(quorum) };
    const seen = new Set();
    let signedPower = 0n;
    for (const s of cert.signatures) {
      if (!s || !power.has(s.validator)) return invalid(`the certificate has a precommit by ${String(s && s.validator).slice(0, 16)}…, which is not a validator at height ${header.height}`, counts);
      if (seen.has(s.validator)) return invalid(`the certificate has two precommits by ${s.validator.slice(0, 16)}…`, counts);
      seen.add(s.validator);
      signedPower += power.get(s.validator);
    }
    if (signedPower < quorum) return invalid(`the precommits carry ${signedPower} of ${total} voting power; a certificate needs ${quorum}`, { ...counts, signed: seen.size, power: Number(signedPower) });
    const support = await ed25519Support();
    if (!support.ok) return unchecked(`signatures not checked: ${support.reason}`, { ...counts, signed: seen.size, power: Number(signedPower), signaturesUnchecked: true });
    for (const s of cert.signatures) {
      const body = new Writer().raw(utf8("trellis/v1/precommit")).u8(0).raw(utf8(header.chain_id)).u8(0)
        .u8(2).u64(header.height).u32(cert.round).u8(1).raw(fromHex(cert.block_id, "block_id")).raw(fromHex(s.validator, "validator")).bytes();
      if (!(await ed25519Verify(fromHex(s.validator, "validator"), fromHex(s.signature, "signature"), body))) {
        return invalid(`the precommit signature of ${s.validator.slice(0, 16)}… does not verify`, counts);
      }
    }
    return { ...out, ...counts, status: "certified", certified: true, signed: seen.size, power: Number(signedPower) };
  }

  /** checkBlock's answer, or an "invalid" one when the node's block answer cannot even be decoded. */
  async function checkBlockSafely(block, validators) {
    try { return await checkBlock(block, validators); } catch (e) { return { status: "invalid", certified: false, header: null, reason: e.message }; }
  }

  /**
   * Checks a query or state answer's proofs end to end: every proof against its state root, the root against the
   * header of that height, the header against its commit certificate. {ok, partial, height, proofs: [{key, ok, reason}],
   * block (checkBlock's answer), reason}: `partial` only when the proofs and the header check but the certificate
   * could not be checked here (checkBlock's "unchecked"); an invalid certificate is a failure.
   */
  async function checkProofs(reads, validators, fetchBlock = (height) => get(`/v1/blocks/${encodeURIComponent(height)}`)) {
    if (!Array.isArray(reads) || reads.length === 0) return { ok: false, reason: "the answer carries no proofs", proofs: [] };
    const heights = new Set(reads.map((r) => String(r.height)));
    const roots = new Set(reads.map((r) => r.state_root));
    if (heights.size !== 1 || roots.size !== 1) return { ok: false, reason: "the proofs are for different heights or roots", proofs: [] };
    const proofs = [];
    for (const r of reads) proofs.push({ key: r.key, key_hex: r.key_hex, present: r.value_hex !== null && r.value_hex !== undefined, ...(await checkStateRead(r)) });
    const height = reads[0].height;
    const failed = proofs.filter((p) => !p.ok);
    if (failed.length) return { ok: false, height, proofs, reason: `${failed.length} of ${proofs.length} proofs do not verify (${failed[0].key}: ${failed[0].reason})` };
    const block = await checkBlockSafely(await fetchBlock(height), validators);
    if (block.status === "invalid") return { ok: false, height, proofs, block, reason: `the header of height ${height} is not certified: ${block.reason}` };
    if (String(block.header.height) !== String(height)) return { ok: false, height, proofs, block, reason: `the node answered for height ${height} with the header of height ${block.header.height}` };
    if (block.header.state_root !== reads[0].state_root) return { ok: false, height, proofs, block, reason: `the state root is not the one in the header of height ${height}` };
    if (block.status !== "certified") return { ok: false, partial: true, height, proofs, block, reason: block.reason };
    return { ok: true, height, proofs, block };
  }

  /**
   * Checks that a transaction's canonical bytes (required) hash to `hash` — the hash the reader asked for — and that
   * this hash is among the block's transaction hashes, which make the tx_root of the certified header of `height`.
   */
  async function checkInclusion(hash, canonicalHex, height, validators, fetchBlock = (h) => get(`/v1/blocks/${encodeURIComponent(h)}`)) {
    if (typeof canonicalHex !== "string" || canonicalHex.length === 0) return { ok: false, reason: "the node sent no canonical bytes (canonical_hex) for this transaction, so its hash cannot be checked" };
    try {
      if (toHex(await sha256(fromHex(canonicalHex, "canonical_hex"))) !== String(hash).toLowerCase()) {
        return { ok: false, reason: "the transaction's bytes do not hash to the hash asked for" };
      }
    } catch (e) { return { ok: false, reason: e.message }; }
    const publicBlock = await fetchBlock(height);
    const hashes = publicBlock.transaction_hashes || (publicBlock.transactions || []).map((t) => t.hash);
    if (!hashes.includes(String(hash).toLowerCase())) return { ok: false, reason: `block ${height} does not list this transaction` };
    const block = await checkBlockSafely(publicBlock, validators);
    if (block.status === "invalid") return { ok: false, block, reason: `the header of height ${height} is not certified: ${block.reason}` };
    if (String(block.header.height) !== String(height)) return { ok: false, block, reason: `the node answered for height ${height} with the header of height ${block.header.height}` };
    let root;
    try { root = toHex(await merkleRoot(hashes.map((h) => fromHex(h, "transaction hash")))); } catch (e) { return { ok: false, block, reason: e.message }; }
    if (BigInt(hashes.length) !== BigInt(block.header.tx_count) || root !== block.header.tx_root) {
      return { ok: false, block, reason: `the block's transaction hashes do not make the header's tx_root` };
    }
    if (block.status !== "certified") return { ok: false, partial: true, block, reason: block.reason };
    return { ok: true, block };
  }

  return {
    TrellisError, fromHex, toHex, sha256, Writer, Reader, encode, query, get, setKey, forgetKey, currentSigner, ed25519Support,
    merkleRoot, decodeStateProof, checkStateRead, decodeHeader, validatorSetHash, checkBlock, checkBlockSafely, checkProofs, checkInclusion, parseKeyText,
  };
})();
