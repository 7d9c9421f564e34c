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
    /** A string of at most `max` bytes when given (a layout's bound, §9). */
    str(max = null) {
      const n = this.u32();
      if (max !== null && n > max) throw new TrellisError(`${this.what}: a string of ${n} bytes over the layout's max=${max}`);
      // ignoreBOM: a text that starts with U+FEFF keeps it (the default drops it as a byte-order mark).
      try { return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(this.need(n)); } catch (e) {
        if (e instanceof TrellisError) throw e;
        throw new TrellisError(`${this.what}: invalid UTF-8`);
      }
    }
    end() { if (this.at !== this.b.length) throw new TrellisError(`${this.what}: ${this.b.length - this.at} trailing bytes`); }
  }


  // ---- layouts: canonical records decoded by a table, not by hand (EXPORT-FORMAT §1, §2, §9) ----------------------
  // PAYLOAD_LAYOUTS is docs/EXPORT-FORMAT.md §9's block verbatim (ExplorerAssetsTests compares them): every
  // transaction kind's payload. RECORD_LAYOUTS, in the same notation, are the chain structures of §2 the page decodes
  // (a transaction, a receipt) and the state records its query pages re-derive their answers from (docs/LEDGER.md,
  // docs/TRANSACTIONS.md; the field order of each type's `encode(to:)` in Sources/TrellisLedger).
  const PAYLOAD_LAYOUTS = `
enum Role: governor, regulator, core_enterprise, supplier, financier, clearing_agent, proponent, verifier, registry_operator, participant, auditor
enum FinancingKind: factoring, pledge
enum AssetType: certificate, credit_block
enum GreenRefKind: project, retirement
enum CreditUnit: tCO2e, MWh
enum DocumentKind: contract, invoice, bill_of_lading, verification_report, delivery_note, other
enum EvidenceRefKind: attestation, certificate, credit_line, financing, project, verification, batch, credit_block, retirement
struct GreenRef: kind GreenRefKind, id string max=128
struct EvidenceRef: kind EvidenceRefKind, id string max=128
struct TradeRef: contract_no string max=512, invoice_keys array<string> max=256, doc_hash hash32, green_ref optional<GreenRef>
struct SplitOutput: to string max=128, amount u64
struct CreditsOutput: to string max=128, quantity u64
struct RetireRange: block_id string max=128, serial_start optional<u64>, serial_end optional<u64>
struct Accreditation: scheme string max=512, sectoral_scopes set<string> max=256, valid_from i64, valid_to i64, active bool
struct Member: member_id string max=128, legal_name string max=512, registration_no string max=512, public_keys set<key32> max=16, roles set<Role> max=11, status u8 hidden=0, accreditations array<Accreditation> max=256
struct Parameters: max_maturity_seconds i64, grace_period_seconds i64, governance_quorum u32, proposal_ttl_blocks u64, max_tx_lifetime_blocks u64, accept_window_seconds i64, min_upgrade_lead_blocks u64, require_document_attestation bool
union GovernanceAction:
  0 member.add: member Member
  1 member.suspend: member_id string max=128
  2 member.reinstate: member_id string max=128
  3 member.revoke: member_id string max=128
  4 member.set_roles: member_id string max=128, roles set<Role> max=11
  5 verifier.accredit: member_id string max=128, accreditation Accreditation
  6 verifier.revoke: member_id string max=128, scheme string max=512
  7 validator.add: public_key key32, voting_power u64, p2p_address string max=512
  8 validator.remove: public_key key32
  9 parameters.set: parameters Parameters
  10 credits.approve_cancel: block_id string max=128, reason string max=512
  11 upgrade.schedule: version u32, activation_height u64, description string max=512
  12 observer.add: public_key key32, name string max=512
  13 observer.remove: public_key key32
kind credit_line.set: line_id string max=128, core string max=128, limit u64, expiry i64
kind certificate.issue: credit_line_id string max=128, holder string max=128, face u64, maturity i64, trade_ref TradeRef
kind certificate.accept: cert_id string max=128
kind certificate.reject: cert_id string max=128, reason string max=512
kind certificate.reclaim: cert_id string max=128
kind certificate.split_transfer: cert_id string max=128, outputs array<SplitOutput> max=64
kind financing.request: cert_id string max=128, financier string max=128, advance u64, rate_bps u32, kind FinancingKind, recourse bool
kind financing.approve: fin_id string max=128
kind financing.cancel: fin_id string max=128
kind financing.release: fin_id string max=128
kind financing.repay: fin_id string max=128
kind certificate.settle: root_id string max=128
kind certificate.mark_overdue: root_id string max=128
kind asset.freeze: asset_type AssetType, asset_id string max=128, reason string max=512
kind asset.unfreeze: asset_type AssetType, asset_id string max=128, reason string max=512
kind program.register: program_id string max=128, unit CreditUnit
kind methodology.register: methodology_id string max=128, version string max=128, title string max=512, active bool
kind project.register: project_id string max=128, program_id string max=128, methodology_id string max=128, methodology_version string max=128, country string max=128, location string max=512, device_ids array<string> max=256, sector string max=128, crediting_start i64, crediting_end i64, external_ids array<string> max=256
kind verification.submit: project_id string max=128, period_start i64, period_end i64, quantity u64, report_hash hash32
kind credits.issue: verification_id string max=128, quantity u64, buffer_quantity u64
kind credits.transfer: block_id string max=128, outputs array<CreditsOutput> max=64
kind credits.retire: ranges array<RetireRange> max=64, beneficiary string max=512, purpose string max=512, claim_period_start i64, claim_period_end i64
kind credits.cancel: block_id string max=128, reason string max=512
kind credits.lock: block_id string max=128, reason string max=512
kind credits.unlock: block_id string max=128, reason string max=512
kind member.rotate_keys: add_keys set<key32> max=16, remove_keys set<key32> max=16
kind governance.propose: action GovernanceAction, summary string max=512
kind governance.approve: proposal_id string max=128
kind evidence.attest: doc_hash hash32, doc_kind DocumentKind, title string, metadata map<string, string> max=256, refs set<EvidenceRef> max=256
kind evidence.revoke: doc_hash hash32, reason string
`;
  const RECORD_LAYOUTS = `
struct TransactionBody: chain_id string, kind string, payload bytes, signer string, nonce u64, expires_at_height u64, cosigners set<string>
struct TransactionSignature: member_id string, public_key key32, signature sig64
struct Transaction: body TransactionBody, signatures set<TransactionSignature>
union ReceiptOutcome:
  0 ok: created_ids array<string>
  1 rejected: code string, message string
struct Receipt: tx_hash hash32, index u32, nonce_consumed bool, outcome ReceiptOutcome
struct Validator: public_key key32, voting_power u64, p2p_address string
enum MemberStatus: active, suspended, revoked
struct MemberRecord: member_id string, legal_name string, registration_no string, public_keys set<key32>, roles set<Role>, status MemberStatus, accreditations array<Accreditation>
enum CertificateStatus: pending_accept, active, consumed, financed, pledged, frozen, settled, overdue, rejected
enum RootStatus: open, settled, overdue, rejected
enum FinancingStatus: requested, active, cancelled, released, repaid, settled
struct AssetEvent: kind string, height u64, time i64, tx_hash hash32, actor string
struct Certificate: cert_id string, root_id string, parent_id optional<string>, debtor string, holder string, face u64, issue_time i64, maturity i64, trade_ref TradeRef, status CertificateStatus, pending_to optional<string>, pending_since optional<i64>, depth u32, frozen_from optional<CertificateStatus>, financing_id optional<string>, children array<string>, events array<AssetEvent>
struct Payout: cert_id string, to string, amount u64, financier optional<string>
struct CertificateRoot: root_id string, debtor string, credit_line_id string, face u64, issue_time i64, maturity i64, status RootStatus, settled_at optional<i64>, payouts array<Payout>
struct RetiredRange: block_id string, batch_id string, project_id string, vintage i64, serial_start u64, serial_end u64, serial_text string
struct Retirement: ret_id string, ranges array<RetiredRange>, retired_by string, beneficiary string, purpose string, claim_period_start i64, claim_period_end i64, time i64, height u64, tx_hash hash32
struct Financing: fin_id string, cert_id string, financier string, applicant string, advance u64, rate_bps u32, kind FinancingKind, recourse bool, status FinancingStatus, requested_at i64, approved_at optional<i64>, closed_at optional<i64>
struct Program: program_id string, unit CreditUnit, serial_counter u64, registered_by string
struct Methodology: methodology_id string, version string, title string, active bool
struct Project: project_id string, proponent string, program_id string, methodology_id string, methodology_version string, country string, location string, device_ids array<string>, sector string, crediting_start i64, crediting_end i64, external_ids array<string>, registered_by string, registered_at i64, last_verified_end optional<i64>
struct Verification: ver_id string, project_id string, verifier string, accreditation_scheme string, period_start i64, period_end i64, quantity u64, report_hash hash32, verified_at i64, height u64, batch_id optional<string>
struct Batch: batch_id string, program_id string, project_id string, ver_id string, vintage i64, serial_start u64, serial_end u64, buffer_quantity u64, issued_by string, issued_at i64, height u64
enum BlockStatus: active, locked, buffer, retired, cancelled, consumed
struct CreditBlock: block_id string, batch_id string, program_id string, serial_start u64, serial_end u64, owner string, status BlockStatus, frozen bool, parent_id optional<string>, children array<string>, retirement_id optional<string>, events array<AssetEvent>
struct EvidenceWithdrawal: height u64, time i64, tx_hash hash32, reason string
struct Attestation: attester string, title string, metadata map<string, string>, refs set<EvidenceRef>, height u64, time i64, tx_hash hash32, withdrawal optional<EvidenceWithdrawal>
struct EvidenceRecord: doc_hash hash32, doc_kind DocumentKind, attestations array<Attestation>
`;

  /** Splits "a T, b map<K, V>" at the commas outside angle brackets. */
  function splitTop(text) {
    const out = [];
    let depth = 0, start = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === "<") depth++;
      else if (text[i] === ">") depth--;
      else if (text[i] === "," && depth === 0) { out.push(text.slice(start, i).trim()); start = i + 1; }
    }
    if (text.slice(start).trim()) out.push(text.slice(start).trim());
    return out;
  }
  function parseFields(text) {
    return splitTop(text).map((f) => {
      const m = /^(\w+) (.+?)(?: hidden=(\d+))?(?: max=(\d+))?$/.exec(f);
      if (!m) throw new TrellisError(`layout: cannot read the field "${f}"`);
      return { name: m[1], type: m[2], hidden: m[3] === undefined ? null : BigInt(m[3]), max: m[4] === undefined ? null : Number(m[4]) };
    });
  }
  /** {types: Map(name → {enum|struct|union}), kinds: Map(kind → fields)} of layout text in §9's notation. */
  function parseLayouts(text, into = { types: new Map(), kinds: new Map() }) {
    let union = null;
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      let m;
      if (union && (m = /^ {2}(\d+) ([\w.]+):(?: (.*))?$/.exec(line))) { union.cases.push({ tag: Number(m[1]), name: m[2], fields: m[3] ? parseFields(m[3]) : [] }); continue; }
      union = null;
      if ((m = /^enum (\w+): (.+)$/.exec(line))) into.types.set(m[1], { kind: "enum", cases: m[2].split(",").map((c) => c.trim()) });
      else if ((m = /^struct (\w+): (.+)$/.exec(line))) into.types.set(m[1], { kind: "struct", fields: parseFields(m[2]) });
      else if ((m = /^union (\w+):$/.exec(line))) { union = { kind: "union", cases: [] }; into.types.set(m[1], union); }
      else if ((m = /^kind ([\w.]+): (.+)$/.exec(line))) into.kinds.set(m[1], parseFields(m[2]));
      else throw new TrellisError(`layout: cannot read the line "${line}"`);
    }
    return into;
  }
  const layouts = parseLayouts(RECORD_LAYOUTS, parseLayouts(PAYLOAD_LAYOUTS));

  /** Compares two byte ranges as §1's set order: bytewise, a shorter prefix first. */
  function compareBytes(a, b) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }

  /** Over a field's `max` (§9: a string's bytes, a list's or map's entries): the payload does not decode. */
  function checkMax(r, n, max) {
    if (max !== null && n > max) throw new TrellisError(`${r.what}: ${n} over the layout's max=${max}`);
  }
  /** Decodes one value of layout type `type` from `r` into its JSON view (u64/i64 as BigInt; hashes, keys, bytes as
   *  hex); `max` is the field's bound (§9), if any. */
  function decodeValue(r, type, max = null) {
    let m;
    switch (type) {
      case "string": return r.str(max);
      case "bool": { const b = r.u8(); if (b > 1) throw new TrellisError(`${r.what}: a boolean byte is ${b}`); return b === 1; }
      case "u8": return r.u8();
      case "u32": return r.u32();
      case "u64": return r.u64();
      case "i64": return r.i64();
      case "hash32": case "key32": return toHex(r.need(32));
      case "sig64": return toHex(r.need(64));
      case "bytes": return toHex(r.need(r.u32()));
    }
    if ((m = /^optional<(.+)>$/.exec(type))) {
      const marker = r.u8();
      if (marker > 1) throw new TrellisError(`${r.what}: an optional's marker is ${marker}`);
      return marker === 1 ? decodeValue(r, m[1]) : undefined;
    }
    if ((m = /^(array|set)<(.+)>$/.exec(type))) {
      const count = r.u32();
      checkMax(r, count, max);
      if (count > r.b.length - r.at) throw new TrellisError(`${r.what}: a list of ${count} entries in ${r.b.length - r.at} bytes`);
      const out = [];
      let previous = null;
      for (let i = 0; i < count; i++) {
        const start = r.at;
        out.push(decodeValue(r, m[2]));
        const bytes = r.b.subarray(start, r.at);
        if (m[1] === "set" && previous !== null && compareBytes(previous, bytes) >= 0) throw new TrellisError(`${r.what}: a set is not sorted or repeats an element`);
        previous = bytes;
      }
      return out;
    }
    if ((m = /^map<(.+?), (.+)>$/.exec(type))) {
      const count = r.u32();
      checkMax(r, count, max);
      if (count > r.b.length - r.at) throw new TrellisError(`${r.what}: a map of ${count} entries in ${r.b.length - r.at} bytes`);
      const out = {};
      let previous = null;
      for (let i = 0; i < count; i++) {
        const start = r.at;
        const key = decodeValue(r, m[1]);
        const bytes = r.b.subarray(start, r.at);
        if (previous !== null && compareBytes(previous, bytes) >= 0) throw new TrellisError(`${r.what}: a map's keys are not sorted or repeat`);
        previous = bytes;
        Object.defineProperty(out, String(key), { value: decodeValue(r, m[2]), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    const def = layouts.types.get(type);
    if (!def) throw new TrellisError(`layout: unknown type ${type}`);
    if (def.kind === "enum") {
      const tag = r.u8();
      if (tag >= def.cases.length) throw new TrellisError(`${r.what}: unknown ${type} tag ${tag}`);
      return def.cases[tag];
    }
    if (def.kind === "struct") return decodeFields(r, def.fields, {});
    const tag = r.u8();
    const c = def.cases.find((x) => x.tag === tag);
    if (!c) throw new TrellisError(`${r.what}: unknown ${type} tag ${tag}`);
    return decodeFields(r, c.fields, { type: c.name });
  }
  function decodeFields(r, fields, out) {
    for (const f of fields) {
      const v = decodeValue(r, f.type, f.max);
      if (f.hidden !== null) {
        if (BigInt(v) !== f.hidden) throw new TrellisError(`${r.what}: ${f.name} must be ${f.hidden}`);
      } else if (v !== undefined) {
        Object.defineProperty(out, f.name, { value: v, enumerable: true, writable: true, configurable: true });
      }
    }
    return out;
  }
  /** Decodes `bytes` (all of them) as the layout type `type`: a TrellisError names what is wrong. */
  function decodeRecord(bytes, type, what = type) {
    const r = new Reader(bytes, what);
    const v = decodeValue(r, type);
    r.end();
    return v;
  }
  /** A payload's JSON view from its canonical bytes by its kind's §9 layout, or null for a kind without one. */
  function decodePayload(kind, bytes) {
    const fields = layouts.kinds.get(kind);
    if (!fields) return null;
    const r = new Reader(bytes, `${kind} payload`);
    const v = decodeFields(r, fields, {});
    r.end();
    return v;
  }

  // ---- SHA-256 and Ed25519 through WebCrypto -------------------------------------------------------------------
  function subtle() {
    if (!globalThis.crypto || !crypto.subtle) {
      throw new TrellisError("this page is not a secure context, so the browser offers no WebCrypto: open the explorer at http://127.0.0.1 or http://localhost (or over HTTPS) to check proofs and sign requests");
    }
    return crypto.subtle;
  }
  /** Why nothing can be checked here (no WebCrypto outside a secure context), or null. */
  function insecureContext() {
    try { subtle(); return null; } catch (e) { return `not checked: ${e.message}`; }
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
          return { ok: false, reason: `this browser has no Ed25519 in WebCrypto (${e.message || e.name})` };
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
    // Imported extractable only to derive the public key; the key kept for signing is a non-extractable import.
    const extractable = await subtle().importKey("pkcs8", concat(PKCS8_ED25519_PREFIX, seed), { name: "Ed25519" }, true, ["sign"]);
    const jwk = await subtle().exportKey("jwk", extractable);
    const key = await subtle().importKey("pkcs8", concat(PKCS8_ED25519_PREFIX, seed), { name: "Ed25519" }, false, ["sign"]);
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
   * The validator set in force at the block's height, from the block answer's `validator_set_hex` (the canonical
   * ValidatorSet, EXPORT-FORMAT §2): {validators} when it decodes strictly, is sorted and distinct with powers > 0 and
   * hashes to the header's `validator_set_hash`; {invalid: reason} when the node sent a set that is not the header's;
   * null when the answer carries none.
   */
  async function validatorSetOf(block, header) {
    if (block.validator_set_hex === undefined || block.validator_set_hex === null) return null;
    let bytes, set;
    try {
      bytes = fromHex(block.validator_set_hex, "validator_set_hex");
      set = decodeRecord(bytes, "array<Validator>", "validator set");
    } catch (e) { return { invalid: `the validator set the node sent for height ${header.height} does not decode: ${e.message}` }; }
    for (let i = 0; i < set.length; i++) {
      if (set[i].voting_power <= 0n) return { invalid: `the validator set of height ${header.height} gives ${set[i].public_key.slice(0, 16)}… no voting power` };
      if (i > 0 && set[i - 1].public_key >= set[i].public_key) return { invalid: `the validator set of height ${header.height} is not sorted by key or repeats a validator` };
    }
    if (set.length === 0) return { invalid: `the validator set the node sent for height ${header.height} is empty` };
    if (toHex(await sha256(bytes)) !== header.validator_set_hash) {
      return { invalid: `the validator set the node sent for height ${header.height} is not the one its header names (validator_set_hash)` };
    }
    return { validators: set };
  }

  /**
   * Checks a block as `/v1/blocks/{h}` answers it, with the same rule as CommitCertificate.verify
   * (docs/EXPORT-FORMAT.md §3): the header bytes hash to the certified block id, the certificate is for the header's
   * height, and every precommit is by a distinct member of the validator set in force at that height with a valid
   * Ed25519 signature, together more than two thirds of the voting power. The first bad entry rejects the certificate.
   * The set is the block answer's own `validator_set_hex` (hash-checked against the header's `validator_set_hash`,
   * so old blocks verify after the set changed); only without it, `validators` (the set the node reports now, which
   * must hash to the same). Answers {status, certified, header, hash, reason, …} where `status` is "certified" (every
   * step checked), "unchecked" (only when this browser has no Ed25519, or no set of that height is known here) or
   * "invalid" (anything else: shown as a failure, never as "verified").
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
    const own = await validatorSetOf(block, header);
    if (own && own.invalid) return invalid(own.invalid);
    if (own) {
      validators = own.validators;
      out.setSource = "block";
    } else {
      if (!Array.isArray(validators) || validators.length === 0) return unchecked("the validator set is not known here; the certificate was not checked");
      const setHash = await validatorSetHash(validators);
      if (setHash !== header.validator_set_hash) {
        return unchecked(`the node sent no validator set for height ${header.height}, and the set it reports now is not the one in force then (it changed since); the certificate was not checked`);
      }
      out.setSource = "status";
    }
    out.validatorCount = validators.length;
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
    const insecure = insecureContext();
    if (insecure) return { status: "unchecked", certified: false, header: null, reason: insecure };
    try { return await checkBlock(block, validators); } catch (e) { return { status: "invalid", certified: false, header: null, reason: e.message }; }
  }

  /**
   * Checks a query or state answer's proofs end to end: every proof against its state root, the root against the
   * header of that height, the header against its commit certificate. {ok, partial, height, proofs: [{key, ok, reason}],
   * block (checkBlock's answer), reason}: `partial` only when the proofs and the header check but the certificate
   * could not be checked here (checkBlock's "unchecked"); an invalid certificate is a failure.
   */
  async function checkProofs(reads, validators, fetchBlock = (height) => get(`/v1/blocks/${encodeURIComponent(height)}`)) {
    const insecure = insecureContext();
    if (insecure) return { ok: false, partial: true, reason: insecure, proofs: [] };
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

  // ---- answers re-derived from their proved records -----------------------------------------------------------

  /** The proved records of a query answer by key (the key_hex the proof was checked for): key → value bytes or null. */
  function provedRecords(reads) {
    const out = new Map();
    for (const r of reads || []) out.set(r.key_hex, r.value_hex === null || r.value_hex === undefined ? null : fromHex(r.value_hex, "value_hex"));
    return {
      /** The record at text `key` decoded as `type`; null when proved absent; throws when the answer holds no proof of it. */
      read(key, type) {
        const hex = toHex(utf8(key));
        if (!out.has(hex)) throw new TrellisError(`the answer carries no proof of ${key}`);
        const bytes = out.get(hex);
        return bytes === null ? null : decodeRecord(bytes, type, key);
      },
      need(key, type) {
        const v = this.read(key, type);
        if (v === null) throw new TrellisError(`${key} is proved absent`);
        return v;
      },
      /** The raw value bytes at text `key` (an index entry); null when proved absent; throws when not proved. */
      raw(key) {
        const hex = toHex(utf8(key));
        if (!out.has(hex)) throw new TrellisError(`the answer carries no proof of ${key}`);
        return out.get(hex);
      },
    };
  }

  /** The first place where `derived` (decoded records; u64/i64 as BigInt) and the node's JSON `answer` differ, or null. */
  function firstDifference(derived, answer, path) {
    if (typeof derived === "bigint") {
      // A JSON number past 2^53 is rounded by JSON.parse the same way Number() rounds the exact value; a 128-bit
      // sum may also come as its decimal text.
      const same = (typeof answer === "number" && Number(derived) === answer) || (typeof answer === "string" && String(derived) === answer);
      return same ? null : `${path} is ${derived}, the answer says ${JSON.stringify(answer)}`;
    }
    if (Array.isArray(derived)) {
      if (!Array.isArray(answer) || answer.length !== derived.length) return `${path} has ${derived.length} entries, the answer ${Array.isArray(answer) ? answer.length : "none"}`;
      for (let i = 0; i < derived.length; i++) { const d = firstDifference(derived[i], answer[i], `${path}[${i}]`); if (d) return d; }
      return null;
    }
    if (derived !== null && typeof derived === "object") {
      if (answer === null || typeof answer !== "object" || Array.isArray(answer)) return `${path} is missing from the answer`;
      for (const k of new Set([...Object.keys(derived), ...Object.keys(answer)])) {
        const d = firstDifference(derived[k], answer[k], path ? `${path}.${k}` : k);
        if (d) return d;
      }
      return null;
    }
    return derived === answer ? null : `${path} is ${JSON.stringify(derived)}, the answer says ${JSON.stringify(answer)}`;
  }
  const byUTF8 = (a, b) => compareBytes(utf8(a), utf8(b));
  /** A decoded value for display: u64/i64 as numbers where exact (else their decimal text), the rest unchanged. */
  function jsonView(v) {
    if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : String(v);
    if (Array.isArray(v)) return v.map(jsonView);
    if (v !== null && typeof v === "object") {
      const out = {};
      for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: jsonView(x), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return v;
  }

  /**
   * A certificate's lineage (ReceivablesQueries.lineage) re-derived from the proved `cert/`, `certroot/` and `fin/`
   * records alone: the piece asked for, its parent chain to the root, its descendants depth-first in output order,
   * the live leaves, the root summary, the financings (those the answer lists, each its proved record), every event
   * ordered by (height, piece id, place in the piece's trail), and the attestation of the trade documents' hash.
   */
  function deriveLineage(certID) {
    return (records, result) => {
      const piece = (id) => records.need(`cert/${id}`, "Certificate");
      const certificate = piece(certID);
      const seen = new Set([certificate.cert_id]);
      const ancestors = [];
      for (let cursor = certificate.parent_id; cursor !== undefined;) {
        if (seen.has(cursor)) throw new TrellisError(`the parent chain of ${certID} loops at ${cursor}`);
        seen.add(cursor);
        const parent = piece(cursor);
        ancestors.push(parent);
        cursor = parent.parent_id;
      }
      const root = records.need(`certroot/${certificate.root_id}`, "CertificateRoot");
      const descendants = [], leaves = [];
      const live = (p) => p.status !== "consumed" && p.status !== "rejected";
      const stack = [certificate];
      while (stack.length) {
        const p = stack.pop();
        if (p !== certificate) descendants.push(p);
        if (p.children.length === 0 && live(p)) leaves.push(p);
        const kids = p.children.map((id) => {
          if (seen.has(id)) throw new TrellisError(`the piece ${id} appears twice in the tree`);
          seen.add(id);
          return piece(id);
        });
        stack.push(...kids.reverse());
      }
      const pieces = [certificate, ...ancestors, ...descendants];
      // Which financings are listed is the node's choice (a member sees only those it is party to, docs/ACCESS.md);
      // each one listed must be its proved record.
      const finIDs = new Set(((result && result.financings) || []).map((f) => String(f.fin_id)));
      const financings = [...finIDs].sort(byUTF8).map((id) => records.need(`fin/${id}`, "Financing"));
      const events = [];
      for (const p of pieces) p.events.forEach((event, position) => events.push({ cert_id: p.cert_id, event, position }));
      events.sort((a, b) => (a.event.height !== b.event.height ? (a.event.height < b.event.height ? -1 : 1) : a.cert_id !== b.cert_id ? byUTF8(a.cert_id, b.cert_id) : a.position - b.position));
      // Every piece carries the root's trade_ref: the attestation of its document hash, present or proved absent.
      const attestation = records.read(`attest/${certificate.trade_ref.doc_hash}`, "EvidenceRecord");
      return {
        certificate, ancestors, root, descendants, live_leaves: leaves, financings,
        transactions: events.map((e) => ({ cert_id: e.cert_id, event: e.event })),
        document_attestation: attestation === null ? undefined : evidenceView(attestation),
      };
    };
  }

  /**
   * A beneficiary's retirements (GreenAssetsQueries.retirementStatement, whole period) re-derived from the proved
   * `retirement/<id>` records: each one the answer lists (which ones is the node's choice: they come from an index
   * scan), each for this beneficiary, listed once, ordered by (time, id), and the total the sum of their ranges.
   */
  function deriveRetirements(beneficiary) {
    return (records, result) => {
      const ids = ((result && result.retirements) || []).map((r) => String(r.ret_id));
      if (new Set(ids).size !== ids.length) throw new TrellisError("the answer lists a retirement twice");
      const retirements = ids.map((id) => records.need(`retirement/${id}`, "Retirement"));
      for (const r of retirements) if (r.beneficiary !== beneficiary) throw new TrellisError(`retirement ${r.ret_id} is for another beneficiary`);
      retirements.sort((a, b) => (a.time !== b.time ? (a.time < b.time ? -1 : 1) : byUTF8(a.ret_id, b.ret_id)));
      let total = 0n;
      for (const r of retirements) for (const range of r.ranges) total += range.serial_end - range.serial_start + 1n;
      return { retirements, total_quantity: total };
    };
  }

  /** A whole number of at most 64 bits from a route's text, or a TrellisError. */
  function u64Text(text, what) {
    if (!/^\d{1,20}$/.test(String(text))) throw new TrellisError(`${what} must be a whole number, got "${String(text).slice(0, 40)}"`);
    const v = BigInt(text);
    if (v > 0xffffffffffffffffn) throw new TrellisError(`${what} is larger than 2^64 - 1`);
    return v;
  }
  const contains = (b, serial) => b.serial_start <= serial && serial <= b.serial_end;

  /** An attestation record's JSON view as the API writes it (EvidenceRecord's and Attestation's `encode(to:)`). */
  function evidenceView(record) {
    const original = record.attestations[0];
    const view = { doc_hash: record.doc_hash, doc_kind: record.doc_kind, status: record.attestations.some((a) => a.withdrawal === undefined) ? "active" : "revoked" };
    if (original) Object.assign(view, { attester: original.attester, first_attested_height: original.height, first_attested_time: original.time });
    view.attestations = record.attestations.map((a) => {
      const out = { attester: a.attester, title: a.title, metadata: a.metadata, refs: a.refs, height: a.height, time: a.time, tx_hash: a.tx_hash, status: a.withdrawal === undefined ? "active" : "withdrawn" };
      if (a.withdrawal !== undefined) out.withdrawal = a.withdrawal;
      return out;
    });
    return view;
  }

  /**
   * A serial's provenance (GreenAssetsQueries.provenance) re-derived from proved records alone: the program
   * (`program/`), the batch holding the serial (`batch/`, named by the program's serial index `batchserial/`), the live
   * block holding it now (`cblock/`, listed in the batch's live-block index `batchblock/`) and its parent chain to the
   * batch's original block (each holding the serial, each naming its child), the verification, the project, the
   * methodology, the verifier's accreditations under the scheme used (`member/`), every event on those blocks
   * (transfers, retirement) and the attestation of the report hash (`attest/`, present or proved absent). Which batch and
   * which block are the node's choice, but each is checked to hold the serial, and the ledger keeps a program's batch
   * ranges disjoint (B2) and a batch's live blocks a partition (B1): only one batch and one live block can.
   */
  function deriveProvenance(programID, serialText) {
    return (records, result) => {
      const serial = u64Text(serialText, "the serial");
      const program = records.need(`program/${programID}`, "Program");
      const batchID = String((result && result.batch && result.batch.batch_id) ?? "");
      const batch = records.need(`batch/${batchID}`, "Batch");
      if (batch.program_id !== programID) throw new TrellisError(`batch ${batchID} belongs to program ${batch.program_id}, not ${programID}`);
      if (batch.serial_start < 1n || batch.serial_start > batch.serial_end) throw new TrellisError(`batch ${batchID} has the empty range ${batch.serial_start}–${batch.serial_end}`);
      if (!contains(batch, serial)) throw new TrellisError(`batch ${batchID} (serials ${batch.serial_start}–${batch.serial_end}) does not hold serial ${serial}`);
      const indexed = records.raw(`batchserial/${programID}/${String(batch.serial_start).padStart(20, "0")}`);
      if (indexed === null || new TextDecoder("utf-8", { ignoreBOM: true }).decode(indexed) !== batchID) throw new TrellisError(`the program's serial index does not name batch ${batchID} at serial ${batch.serial_start}`);
      const block = records.need(`cblock/${String((result && result.block && result.block.block_id) ?? "")}`, "CreditBlock");
      const blockOf = (b, what) => {
        if (b.batch_id !== batchID || b.program_id !== programID) throw new TrellisError(`${what} ${b.block_id} is not of batch ${batchID}`);
        if (!contains(b, serial)) throw new TrellisError(`${what} ${b.block_id} (serials ${b.serial_start}–${b.serial_end}) does not hold serial ${serial}`);
      };
      blockOf(block, "the block");
      if (block.status === "consumed") throw new TrellisError(`the block ${block.block_id} is consumed: it no longer holds the serial`);
      if (records.raw(`batchblock/${batchID}/${block.block_id}`) === null) throw new TrellisError(`the block ${block.block_id} is not in its batch's live blocks`);
      const history = [], seen = new Set([block.block_id]);
      for (let child = block; child.parent_id !== undefined;) {
        if (seen.has(child.parent_id)) throw new TrellisError(`the parent chain of ${block.block_id} loops at ${child.parent_id}`);
        seen.add(child.parent_id);
        const parent = records.need(`cblock/${child.parent_id}`, "CreditBlock");
        blockOf(parent, "the ancestor");
        if (!parent.children.includes(child.block_id)) throw new TrellisError(`the block ${parent.block_id} does not name ${child.block_id} among its children`);
        history.push(parent);
        child = parent;
      }
      history.reverse();
      const verification = records.need(`verification/${batch.ver_id}`, "Verification");
      if (verification.project_id !== batch.project_id || verification.batch_id !== batchID) throw new TrellisError(`verification ${batch.ver_id} does not back batch ${batchID}`);
      const project = records.need(`project/${batch.project_id}`, "Project");
      if (project.program_id !== programID) throw new TrellisError(`project ${project.project_id} is not of program ${programID}`);
      const methodology = records.read(`methodology/${project.methodology_id}/${project.methodology_version}`, "Methodology");
      const verifier = records.read(`member/${verification.verifier}`, "MemberRecord");
      const attestation = records.read(`attest/${verification.report_hash}`, "EvidenceRecord");
      const derived = {
        program_id: programID, serial, block,
        serial_text: [program.program_id, program.unit, project.country, project.project_id, String(batch.vintage), String(block.serial_start), String(block.serial_end)].join("-"),
        history, batch, verification,
        verifier_accreditations: (verifier ? verifier.accreditations : []).filter((a) => a.scheme === verification.accreditation_scheme),
        project, methodology: methodology === null ? undefined : methodology,
        transfers: [...history, block].flatMap((b) => b.events.map((event) => ({ block_id: b.block_id, event }))),
        report_attestation: attestation === null ? undefined : evidenceView(attestation),
      };
      for (const k of Object.keys(result || {})) if (!(k in derived)) throw new TrellisError(`the answer has a field "${k}" that no proved record backs`);
      return derived;
    };
  }

  /**
   * One retirement (the `retirements` query by `retirement=<id>`) re-derived from its proved `retirement/<id>` record;
   * with `block`/`serial`, it must also be the retirement of that serial: one of its ranges is that block's and holds it.
   */
  function deriveRetirement(retID, block = null, serial = null) {
    return (records, result) => {
      const r = records.need(`retirement/${retID}`, "Retirement");
      if (block !== null && !r.ranges.some((x) => x.block_id === block && contains(x, BigInt(serial)))) {
        throw new TrellisError(`retirement ${retID} does not retire serial ${serial} of block ${block}`);
      }
      let total = 0n;
      for (const range of r.ranges) total += range.serial_end - range.serial_start + 1n;
      const derived = { beneficiary: r.beneficiary, retirements: [r], total_quantity: total };
      for (const k of Object.keys(result || {})) if (!(k in derived)) throw new TrellisError(`the answer has a field "${k}" that no proved record backs`);
      return derived;
    };
  }

  /** A member (the `member` query) re-derived from its proved `member/<id>` record. */
  function deriveMember(id) {
    return (records) => records.need(`member/${id}`, "MemberRecord");
  }

  /**
   * Checks a query answer ({height, result, proofs}) end to end (checkProofs) and, with `derive`, re-derives the
   * answer from its proved records and compares it with the node's `result` field by field: {ok, partial, derived,
   * …checkProofs' answer}. A record the derivation needs but the answer does not prove, or any field that differs,
   * fails the check (red) — the page then shows the node's answer under that failure, and renders `derived` (the
   * proved values) only when the check passed.
   */
  async function checkAnswer(answer, validators, derive = null, fetchBlock = undefined) {
    const checked = await checkProofs(answer && answer.proofs, validators, fetchBlock);
    if (!derive || (!checked.ok && !checked.partial) || !checked.proofs || checked.proofs.length === 0) return { ...checked, derived: null };
    let derived;
    try { derived = derive(provedRecords(answer.proofs), answer.result); } catch (e) {
      return { ...checked, ok: false, partial: false, derived: null, reason: `the answer cannot be derived from its proved records: ${e.message}` };
    }
    for (const key of Object.keys(derived)) {
      const difference = firstDifference(derived[key], answer.result ? answer.result[key] : undefined, key);
      if (difference) return { ...checked, ok: false, partial: false, derived: null, reason: `the answer is not what its proved records hold: ${difference}` };
    }
    return { ...checked, derived: jsonView(derived) };
  }

  /**
   * A transaction's fields decoded from its canonical bytes (EXPORT-FORMAT §2): {hash, kind, signer, nonce,
   * expires_at_height, cosigners, chain_id, payload_hex, payload (§9's JSON view, or null with payloadError when its
   * kind has no layout or the bytes do not decode — such a transaction was rejected), signatures}. Throws a
   * TrellisError when the bytes are not a canonical Transaction.
   */
  async function decodeTransaction(canonicalHex) {
    const bytes = fromHex(canonicalHex, "canonical_hex");
    const tx = decodeRecord(bytes, "Transaction", "transaction");
    const out = { hash: toHex(await sha256(bytes)), ...tx.body, signatures: tx.signatures, payload: null, payloadError: null };
    try {
      out.payload = decodePayload(tx.body.kind, fromHex(tx.body.payload, "payload"));
      if (out.payload === null) out.payloadError = `no payload layout for the kind ${tx.body.kind}`;
    } catch (e) { out.payloadError = e.message; }
    out.payload_hex = tx.body.payload;
    return jsonView(out);
  }

  /**
   * RFC 9162 §2.1.3.2: does `path` (hex hashes) lead leaf data `leaf` (bytes) at `index` in a tree of `size` leaves
   * to `root` (hex)?
   */
  async function checkAuditPath(leaf, index, size, path, root) {
    let fn = BigInt(index), sn = BigInt(size) - 1n;
    if (fn > sn) return false;
    let r = await sha256(concat(Uint8Array.of(0), leaf));
    for (const text of path) {
      const p = fromHex(text, "path hash");
      if (p.length !== 32) return false;
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await sha256(concat(Uint8Array.of(1), p, r));
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await sha256(concat(Uint8Array.of(1), r, p));
      }
      fn >>= 1n; sn >>= 1n;
    }
    return sn === 0n && toHex(r) === root;
  }

  /**
   * Checks a transaction's receipt against a (certified) header: `receipt_hex` decodes strictly to a Receipt for
   * `hash` whose index holds `hash` in the block's transaction list, and `receipt_path` leads SHA-256(receipt) at
   * that index to the header's `receipts_root` in a tree of `tx_count` leaves. {ok, receipt (decoded), reason}.
   */
  async function checkReceipt(hash, receiptHex, receiptPath, header, hashes) {
    try {
      if (typeof receiptHex !== "string" || !Array.isArray(receiptPath)) return { ok: false, reason: "the node sent no receipt proof (receipt_hex, receipt_path)" };
      const bytes = fromHex(receiptHex, "receipt_hex");
      const receipt = decodeRecord(bytes, "Receipt", "receipt");
      if (receipt.tx_hash !== String(hash).toLowerCase()) return { ok: false, receipt, reason: "the receipt is another transaction's" };
      if (hashes[receipt.index] !== receipt.tx_hash) return { ok: false, receipt, reason: `the receipt's index ${receipt.index} is not this transaction's place in the block` };
      if (!(await checkAuditPath(await sha256(bytes), receipt.index, header.tx_count, receiptPath, header.receipts_root))) {
        return { ok: false, receipt, reason: "the receipt does not lead to the header's receipts_root" };
      }
      return { ok: true, receipt };
    } catch (e) { return { ok: false, reason: e.message }; }
  }

  /**
   * Checks that a transaction's canonical bytes (required) hash to `hash` — the hash the reader asked for — and that
   * this hash is among the block's transaction hashes, which make the tx_root of the certified header of `height`;
   * and, with `receipt` ({receipt_hex, receipt_path} from the node's answer), that its receipt is the one under the
   * header's receipts_root (an invalid receipt fails the check; a missing one leaves `receipt.ok` false with the
   * reason, and the page shows the receipt as not checked).
   */
  async function checkInclusion(hash, canonicalHex, height, validators, fetchBlock = (h) => get(`/v1/blocks/${encodeURIComponent(h)}`), receipt = null) {
    const insecure = insecureContext();
    if (insecure) return { ok: false, partial: true, reason: insecure };
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
    const receiptCheck = receipt === null ? null : await checkReceipt(hash, receipt.receipt_hex, receipt.receipt_path, block.header, hashes);
    if (receiptCheck && !receiptCheck.ok && typeof receipt.receipt_hex === "string") return { ok: false, block, receipt: receiptCheck, reason: `receipt: ${receiptCheck.reason}` };
    if (block.status !== "certified") return { ok: false, partial: true, block, receipt: receiptCheck, reason: block.reason };
    return { ok: true, block, receipt: receiptCheck };
  }

  return {
    TrellisError, fromHex, toHex, sha256, Writer, Reader, encode, query, get, setKey, forgetKey, currentSigner, ed25519Support,
    merkleRoot, decodeStateProof, checkStateRead, decodeHeader, validatorSetHash, checkBlock, checkBlockSafely, checkProofs, checkInclusion, parseKeyText,
    decodeRecord, decodePayload, decodeTransaction, checkAuditPath, checkReceipt, PAYLOAD_LAYOUTS, checkAnswer, deriveLineage, deriveMember, deriveRetirements, deriveProvenance, deriveRetirement, evidenceView, firstDifference, jsonView,
  };
})();
