// explorer.js — the explorer's pages (docs/EXPLORER.md): chain status and validator health, blocks, transactions
// with decoded payloads, a certificate's lineage drawn as a tree, a credit serial's provenance, a beneficiary's
// retirements, members; every answer with proofs is checked in the browser (trellis.js) and badged.
//
// Guarantees: every value from the node is put in the page as text (textContent / text nodes; no HTML parsing of data);
// links are built here from `#/` routes; any failure — a refused read, an unknown object, a node that is down, a
// bug — is shown as a readable message in the page, never a blank page.
"use strict";

(() => {
  const view = document.getElementById("view");

  // ---- DOM helpers: text only --------------------------------------------------------------------------------
  function h(tag, attributes, ...children) {
    const el = tag.startsWith("svg:") ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : String(child)); // a string becomes a text node
    }
    return el;
  }
  /** A link to an explorer route: `#/` plus the encoded parts (never a URL taken from data). */
  function link(parts, text, attributes = {}) {
    return h("a", { href: "#/" + parts.map((p) => encodeURIComponent(String(p))).join("/"), ...attributes }, text);
  }
  const short = (hex) => (typeof hex === "string" && hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : String(hex ?? ""));
  // A date only for times a Date can hold (a node-supplied i64 may not be one: toISOString would throw).
  const time = (seconds) => (typeof seconds !== "number" ? "" : Math.abs(seconds) < 1e11 ? `${new Date(seconds * 1000).toISOString().replace(".000Z", "Z")}` : String(seconds));
  const pill = (status) => h("span", { class: `pill ${String(status).replace(/[^a-z_]/g, "")}` }, String(status));
  function fields(pairs) {
    return h("dl", { class: "fields" }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  }
  function table(headers, rows) {
    return h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))), h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
  }
  // Fields whose values name something with a page of its own, and fields that hold Unix seconds.
  const memberFields = new Set(["holder", "debtor", "owner", "actor", "signer", "financier", "applicant", "retired_by", "to", "proponent", "verifier", "issued_by", "core", "pending_to"]);
  const timeField = /^(time|issue_time|maturity|expiry)$|_at$|^valid_(from|to)$|^crediting_(start|end)$|^period_(start|end|from|to)$|^claim_period_(start|end)$/;

  /** Any JSON value as fields and tables (a decoded payload, a record), as text; `key` is the field it is in. */
  function value(v, depth = 0, key = "") {
    if (v === null || v === undefined) return h("span", { class: "muted" }, "—");
    if (typeof v !== "object") return scalar(v, key);
    if (depth > 6) return h("code", {}, JSON.stringify(v));
    if (Array.isArray(v)) {
      if (v.length === 0) return h("span", { class: "muted" }, "none");
      if (v.every((x) => x && typeof x === "object" && !Array.isArray(x))) {
        const keys = [...new Set(v.flatMap((x) => Object.keys(x)))];
        return table(keys, v.map((x) => keys.map((k) => value(x[k], depth + 1, k))));
      }
      return h("span", {}, v.map((x, i) => [i ? ", " : "", value(x, depth + 1, key)]));
    }
    return fields(Object.entries(v).map(([k, x]) => [k, value(x, depth + 1, k)]));
  }
  /** One scalar: ids, hashes, heights and members with a page become links; times are shown as dates too. */
  function scalar(v, key) {
    const text = String(v);
    if (key === "tx_hash" && /^[0-9a-f]{64}$/.test(text)) return link(["tx", text], short(text), { class: "mono", title: text });
    if (key === "height" && typeof v === "number") return link(["block", v], text);
    if (memberFields.has(key) && typeof v === "string") return link(["member", v], text);
    if (timeField.test(key) && typeof v === "number" && v > 0 && v < 1e11) return `${text} (${time(v)})`;
    if (timeField.test(key) && typeof v === "number" && Math.abs(v) >= 1e18) return "unbounded";
    return idLink(v);
  }
  /** Ids that have a page become links; everything else is text. */
  function idLink(v) {
    const text = String(v);
    if (/^cert-[0-9a-f]{6,}$/.test(text)) return link(["certificate", text], text, { class: "mono" });
    if (/^[0-9a-f]{64}$/.test(text)) return h("span", { class: "mono", title: text }, text);
    return text;
  }
  function badge(kind, text) { return h("div", { class: `badge ${kind}` }, text); }

  function errorBox(error, what) {
    const hints = {
      0: "The node did not answer: check that it is running and that this page was opened from it.",
      401: "This needs a member key: paste one under “Key” (it stays in this page's memory). Status and blocks are public.",
      403: "The key in use does not give its member the right to read this (docs/ACCESS.md): a member reads its own objects; a regulator or an auditor reads everything.",
      404: "Nothing by that name on this chain (or the node does not serve it).",
      410: "The node has pruned that height's state; ask an archive node.",
      429: "The node is overloaded; try again in a moment.",
    };
    const status = error && typeof error.status === "number" ? error.status : null;
    return h("div", { class: "error", role: "alert" },
      h("strong", {}, what ? `Could not load ${what}` : "Something went wrong"),
      h("div", {}, error && error.message ? error.message : String(error)),
      status !== null && hints[status] ? h("div", { class: "hint" }, hints[status]) : null,
      error && error.code ? h("div", { class: "muted mono" }, `code: ${error.code}${status ? `, HTTP ${status}` : ""}`) : null);
  }

  // ---- shared reads ------------------------------------------------------------------------------------------
  async function status() { return Trellis.get("/v1/status"); }
  let validatorsCache = null;
  async function validators() {
    if (!validatorsCache) validatorsCache = (await Trellis.get("/v1/status", { anonymous: true })).validators;
    return validatorsCache;
  }

  /** The proof badge and record table of an answer checked by checkAnswer: every answer with proofs is re-derived
   * from its proved records in this page, and the green badge says so. */
  function answerPanel(result, reads) {
    const panel = h("div", { class: "card proof" });
    if (result.ok) {
      panel.setAttribute("data-proof", "verified");
      panel.append(badge("ok", `✔ The answer below is derived from ${result.proofs.length} state records proved against the certified header at height ${result.height}`),
        h("div", { class: "muted" }, `Each record's proof leads to state root ${short(reads[0].state_root)}; the header holding that root hashes to the certified block id; precommits of ${result.block.signed} validators carry ${result.block.power} of ${result.block.total} voting power (quorum ${result.block.quorum}), each signature checked with Ed25519 here, against the validator set ${result.block.setSource === "block" ? "in force at that height (sent with the block, matched against its header's validator_set_hash)" : "this node reports, matched against the header's validator_set_hash"}. What is shown below was decoded from those records in this page and matched the node's answer field by field.`));
    } else if (result.partial) {
      panel.setAttribute("data-proof", "partial");
      panel.append(badge("warn", result.block ? `State proofs lead to the header at height ${result.height}; that header's certificate was not checked, so nothing here is verified` : "Proofs not checked in this browser"),
        h("div", { class: "muted" }, result.reason));
    } else {
      panel.setAttribute("data-proof", "failed");
      panel.append(badge("bad", "✘ Proof check failed"), h("div", {}, result.reason), h("div", { class: "muted" }, "Below is the node's answer as it sent it: nothing in it is verified."));
    }
    if (result.proofs && result.proofs.length) {
      panel.append(h("details", {}, h("summary", {}, `the ${result.proofs.length} state records behind this answer`),
        table(["key (the proved key_hex, as text)", "value", "proof"], result.proofs.map((p) => [h("span", { class: "mono" }, keyText(p.key_hex)), p.present ? "present" : "absent", p.ok ? "✔ verifies" : `✘ ${p.reason}`]))));
    }
    return panel;
  }
  /** A proved key as text (decoded from its key_hex, not the node's `key` field), hex when it is not UTF-8. */
  function keyText(hex) {
    try { return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(Trellis.fromHex(hex || "", "key_hex")); } catch { return hex || ""; }
  }
  /** Runs checkAnswer, never throwing. */
  async function checkedAnswer(answer, derive) {
    try { return await Trellis.checkAnswer(answer, await validators(), derive); } catch (e) { return { ok: false, reason: e.message, proofs: [], derived: null }; }
  }

  // ---- pages -------------------------------------------------------------------------------------------------
  const pages = {};

  pages[""] = async () => {
    const s = await status();
    let health;
    try { health = await Trellis.get("/health", { anonymous: true }); } catch (e) { health = { status: "halted", reason: e.message }; }
    const set = s.validators || [];
    const recent = [];
    for (let height = s.height; height >= 1 && recent.length < 10; height--) recent.push(height);
    const blocks = await Promise.all(recent.map((height) => Trellis.get(`/v1/blocks/${height}`).catch(() => null)));
    const signed = new Map(), proposed = new Map();
    for (const b of blocks.filter(Boolean)) {
      for (const sig of (b.certificate && b.certificate.signatures) || []) signed.set(sig.validator, (signed.get(sig.validator) || 0) + 1);
      proposed.set(b.header.proposer, (proposed.get(b.header.proposer) || 0) + 1);
    }
    const counted = blocks.filter((b) => b && b.certificate).length;
    const latest = blocks[0];
    const check = h("div", { "data-proof": "checking" }, badge("warn", "Checking the latest block's certificate…"));
    if (latest) {
      Trellis.checkBlockSafely(latest, set).then((r) => {
        check.setAttribute("data-proof", certificateState(r));
        check.replaceChildren(certificateBadge(r, `✔ Block ${r.header && r.header.height} certified: ${r.signed} of its ${r.validatorCount} validators signed (${r.power} of ${r.total} voting power; quorum ${r.quorum}), checked here against the set in force at that height`));
      });
    }
    return [
      h("h1", {}, `Chain ${s.chain_id}`),
      h("div", { class: "grid" },
        stat("height", link(["block", s.height], String(s.height))),
        stat("latest block", time(s.latest_block_time)),
        stat("consensus", [pill(s.consensus_status), ` round ${s.consensus_round}`]),
        stat("node health", pill(health.status === "ok" ? "ok" : "halted")),
        stat("mempool", String(s.mempool_size)),
        stat("catching up", s.catching_up ? "yes" : "no")),
      s.halt_reason ? h("div", { class: "error" }, `Halted: ${s.halt_reason}`) : null,
      h("div", { class: "card" }, fields([["state root", h("span", { class: "mono" }, s.state_root)], ["latest block hash", h("span", { class: "mono" }, s.latest_block_hash)],
        ["this node", s.node_name ? `${s.node_name} (${short(s.node_key)})` : h("span", { class: "muted" }, "shown to regulators, auditors and the operator")]]), check),
      h("h2", {}, `Validators (${set.length}) — health over the last ${counted} certified blocks`),
      table(["validator key", "voting power", "address", "signed", "proposed"], set.map((v) => [
        h("span", { class: "mono", title: v.public_key }, short(v.public_key)), String(v.voting_power), v.p2p_address,
        `${signed.get(v.public_key) || 0} / ${counted}`, String(proposed.get(v.public_key) || 0)])),
      Array.isArray(s.peers) ? [h("h2", {}, `Peers of this node (${s.peers.length})`), s.peers.length ? table(["peer"], s.peers.map((p) => [h("span", { class: "mono" }, p)])) : h("p", { class: "muted" }, "none connected")] : null,
    ];
  };
  /** data-proof of a checkBlock answer: verified, partial (not checked here) or failed. */
  function certificateState(r) { return r.status === "certified" ? "verified" : r.status === "unchecked" ? "partial" : "failed"; }
  function certificateBadge(r, okText) {
    if (r.status === "certified") return badge("ok", okText);
    if (r.status === "unchecked") return badge("warn", `Certificate not checked: ${r.reason}`);
    return badge("bad", `✘ Certificate check failed: ${r.reason}`);
  }
  function stat(label, content) { return h("div", { class: "stat" }, h("div", { class: "label" }, label), h("div", { class: "value" }, content)); }

  pages.blocks = async (from) => {
    const top = from ? Number(from) : (await status()).height;
    if (!Number.isSafeInteger(top) || top < 1) throw new Trellis.TrellisError("a block height is a whole number ≥ 1");
    const heights = [];
    for (let x = top; x >= 1 && heights.length < 20; x--) heights.push(x);
    const blocks = await Promise.all(heights.map((x) => Trellis.get(`/v1/blocks/${x}`)));
    return [
      h("h1", {}, `Blocks ${heights[heights.length - 1]}–${top}`),
      table(["height", "time", "transactions", "proposer", "hash"], blocks.map((b) => [
        link(["block", b.header.height], String(b.header.height)), time(b.header.time), String(b.header.tx_count),
        h("span", { class: "mono" }, short(b.header.proposer)), h("span", { class: "mono" }, short(b.header.hash))])),
      heights[heights.length - 1] > 1 ? h("p", {}, link(["blocks", heights[heights.length - 1] - 1], "older blocks →")) : null,
    ];
  };

  pages.block = async (heightText) => {
    const b = await Trellis.get(`/v1/blocks/${encodeURIComponent(heightText)}`);
    // The header shown is the one decoded from header_hex — the bytes that are hashed and checked against the
    // certificate — never the node's JSON rendering of it.
    const headerBytes = Trellis.fromHex(b.header_hex, "header_hex");
    const decoded = Trellis.decodeHeader(headerBytes);
    const hd = { ...decoded, height: Number(decoded.height), time: Number(decoded.time), hash: Trellis.toHex(await Trellis.sha256(headerBytes)) };
    const check = h("div", { "data-proof": "checking" }, badge("warn", "Checking the certificate…"));
    Trellis.checkBlockSafely(b, await validators()).then((r) => {
      check.setAttribute("data-proof", certificateState(r));
      check.replaceChildren(certificateBadge(r, `✔ Certified: the header below hashes to the block id signed by ${r.signed} of the ${r.validatorCount} validators in force at this height (${r.power} of ${r.total} voting power), checked here`));
    });
    const txs = Array.isArray(b.transactions)
      ? table(["hash", "kind", "signer", "nonce", "payload"], b.transactions.map((t) => [link(["tx", t.hash], short(t.hash), { class: "mono" }), t.kind, t.signer, String(t.nonce),
        t.payload ? h("details", {}, h("summary", {}, "decoded"), value(t.payload)) : h("span", { class: "muted" }, "—")]))
      : [h("p", { class: "muted" }, "Transaction contents are shown to their parties, regulators and auditors; open one to read it with your key."),
        table(["transaction hash"], (b.transaction_hashes || []).map((x) => [link(["tx", x], x, { class: "mono" })]))];
    return [
      h("h1", {}, `Block ${hd.height}`),
      check,
      h("div", { class: "card" }, fields([
        ["hash", h("span", { class: "mono" }, hd.hash)], ["time", time(hd.time)], ["round", String(hd.round)], ["rules version", String(hd.app_version)],
        ["transactions", String(hd.tx_count)], ["proposer", h("span", { class: "mono" }, hd.proposer)],
        ["previous block", hd.height > 1 ? link(["block", hd.height - 1], hd.previous_block_hash, { class: "mono" }) : h("span", { class: "mono" }, `${hd.previous_block_hash} (the genesis hash)`)],
        ["state root", h("span", { class: "mono" }, hd.state_root)], ["tx root", h("span", { class: "mono" }, hd.tx_root)], ["receipts root", h("span", { class: "mono" }, hd.receipts_root)],
        ["validator set", h("span", { class: "mono" }, hd.validator_set_hash)], ["evidence", String(b.evidence_count)]])),
      h("p", {}, hd.height > 1 ? link(["block", hd.height - 1], "← previous") : null, " ", link(["block", hd.height + 1], "next →")),
      h("h2", {}, `Transactions (${hd.tx_count})`),
      txs,
    ];
  };

  pages.tx = async (hash) => {
    const t = await Trellis.get(`/v1/tx/${encodeURIComponent(hash)}`);
    const tx = t.transaction || {};
    // Every field shown is decoded here from the transaction's canonical bytes (the bytes whose hash is checked),
    // and the outcome from its receipt (checked against the header's receipts_root) — not from the node's JSON.
    let decoded = null, decodeError = null;
    if (typeof tx.canonical_hex === "string") {
      try { decoded = await Trellis.decodeTransaction(tx.canonical_hex); } catch (e) { decodeError = e.message; }
    } else decodeError = "the node sent no canonical bytes (canonical_hex)";
    const check = h("div", { "data-proof": "checking" });
    let receipt = null;
    if (typeof t.height === "number") {
      let r;
      if (String(t.hash).toLowerCase() !== String(hash).toLowerCase()) r = { ok: false, reason: "the node answered with another transaction than the one asked for" };
      else if (decodeError && typeof tx.canonical_hex === "string") r = { ok: false, reason: `the transaction's bytes do not decode: ${decodeError}` };
      else {
        try { r = await Trellis.checkInclusion(hash, tx.canonical_hex, t.height, await validators(), undefined, { receipt_hex: t.receipt_hex, receipt_path: t.receipt_path }); } catch (e) { r = { ok: false, reason: e.message }; }
      }
      const receiptOK = r.ok && r.receipt && r.receipt.ok;
      if (receiptOK) receipt = Trellis.jsonView(r.receipt.receipt);
      check.setAttribute("data-proof", r.ok ? "verified" : r.partial ? "partial" : "failed");
      check.append(r.ok
        ? badge("ok", `✔ Included in the certified block at height ${t.height}: the transaction's canonical bytes hash to the hash asked for, which is in the header's tx_root${receiptOK ? `, and its receipt is leaf ${receipt.index} of the header's receipts_root` : ` (its receipt is not checked: ${r.receipt ? r.receipt.reason : "none sent"})`}. Everything below is decoded here from those bytes${receiptOK ? " and that receipt" : ""}.`)
        : badge(r.partial ? "warn" : "bad", r.partial ? (r.block ? `Inclusion in the header at height ${t.height} checked, its certificate not: ${r.reason}` : r.reason) : `✘ ${r.reason}`));
    } else {
      check.setAttribute("data-proof", "pending");
      check.append(badge("warn", "Not in a block yet: nothing to check"));
    }
    const d = decoded || tx;
    const outcome = receipt ? receipt.outcome : null;
    const created = outcome ? outcome.created_ids || [] : (t.receipt && t.receipt.created) || [];
    const error = outcome ? (outcome.type === "rejected" ? `${outcome.code}: ${outcome.message}` : null) : (t.error ? `${t.error.code}: ${t.error.message}` : null);
    const unchecked = (text) => (typeof t.height === "number" && !receipt ? `${text} (the node's word, not checked)` : text);
    const pieces = piecesOf(d, created, !!decoded && !!receipt);
    return [
      h("h1", {}, `Transaction ${short(hash)}`),
      check,
      decoded ? null : h("div", { class: "error" }, `${decodeError}: the fields below are the node's JSON, and nothing in them is checked.`),
      h("div", { class: "card" }, fields([
        ["hash", h("span", { class: "mono" }, String(hash).toLowerCase())], ["status", outcome ? pill(outcome.type === "ok" ? "committed" : "rejected") : [pill(t.status), unchecked("")]],
        ["block", typeof t.height === "number" ? link(["block", t.height], String(t.height)) : null], ["index", receipt ? String(receipt.index) : t.index !== undefined ? unchecked(String(t.index)) : null],
        ["kind", d.kind], ["signer", d.signer ? link(["member", d.signer], d.signer) : null], ["co-signers", (d.cosigners || []).join(", ")],
        ["nonce", d.nonce !== undefined ? String(d.nonce) : null], ["expires at height", d.expires_at_height !== undefined ? String(d.expires_at_height) : null],
        ["created", created.length ? h("span", {}, created.map((id, i) => [i ? ", " : "", idLink(id)])) : null],
        ["error", error]])),
      pieces,
      h("h2", {}, "Payload (decoded)"),
      h("div", { class: "card payload" }, d.payload ? value(d.payload) : h("span", { class: "muted" }, decoded && decoded.payloadError ? `not decodable: ${decoded.payloadError}` : "not decoded")),
      h("h2", {}, "Signatures"),
      table(["member", "public key", "signature"], (d.signatures || []).map((s) => [s.member_id, h("span", { class: "mono" }, short(s.public_key)), h("span", { class: "mono" }, short(s.signature))])),
    ];
  };

  /**
   * Which new id went to whom — a split's (`certificate.split_transfer`) or a credit transfer's (`credits.transfer`)
   * outputs paired with the ids its receipt created, in output order, as the contracts create them (the API's
   * `receipt.pieces` pairs them the same way). Paired here from the decoded payload and the receipt's ids; `checked`
   * says whether both were checked (the bytes hashed, the receipt a leaf of receipts_root). Null for other kinds, or
   * when the outputs and the ids do not pair.
   */
  function piecesOf(d, created, checked) {
    const outputs = d && d.payload && Array.isArray(d.payload.outputs) ? d.payload.outputs : null;
    if (!outputs || outputs.length === 0 || outputs.length !== created.length) return null;
    const to = (o) => (typeof o.to === "string" ? link(["member", o.to], o.to) : "");
    let headers, rows, what;
    if (d.kind === "certificate.split_transfer") {
      // A piece for another member waits for its acceptance; one the signer (the holder) keeps is active at once.
      headers = ["new certificate", "to", "amount", "status when created"];
      rows = outputs.map((o, i) => [idLink(created[i]), to(o), String(o.amount), pill(o.to === d.signer ? "active" : "pending_accept")]);
      what = "new certificate";
    } else if (d.kind === "credits.transfer") {
      headers = ["new block", "to", "quantity"];
      rows = outputs.map((o, i) => [h("span", { class: "mono" }, String(created[i])), to(o), String(o.quantity)]);
      what = "new block";
    } else return null;
    return h("div", { class: "pieces" },
      h("h2", {}, "Pieces"),
      h("p", { class: "muted" }, `Each output of the payload made the ${what} at the same place in the receipt's created list${checked ? " (both decoded here from the checked bytes and receipt)" : " (the node's word, not checked)"}.`),
      table(headers, rows));
  }

  pages.certificate = async (id) => {
    const form = lookupForm("certificate id", "cert-…", (v) => ["certificate", v]);
    if (!id) return [h("h1", {}, "Certificate lineage"), h("p", {}, "A certificate's pieces, holders, financings and settlement, drawn as a tree."), form];
    const answer = await Trellis.get(`/v1/query/lineage${Trellis.query({ cert: id, prove: "true" })}`);
    // Checked before anything is drawn: when the check passes, every piece, the root and the financings shown are the
    // proved records decoded here (the node's JSON only had to match them).
    const checked = await checkedAnswer(answer, Trellis.deriveLineage(id));
    const l = checked.derived || answer.result;
    // Why a piece was rejected or frozen: beside the answer's result, read by the node from the transactions (the
    // proofs do not cover it; docs/ACCESS.md), shown as text in its own column.
    const reasons = new Map((Array.isArray(answer.event_reasons) ? answer.event_reasons : [])
      .filter((r) => r && typeof r.tx_hash === "string" && typeof r.reason === "string").map((r) => [r.tx_hash, r.reason]));
    const pieces = [l.certificate, ...(l.ancestors || []), ...(l.descendants || [])];
    const topAncestor = (l.ancestors || []).length ? l.ancestors[l.ancestors.length - 1].cert_id : null;
    const root = l.root || {};
    return [
      h("h1", {}, `Certificate ${l.certificate.cert_id}`),
      answerPanel(checked, answer.proofs),
      h("div", { class: "card" }, fields([
        ["holder", l.certificate.holder], ["debtor", root.debtor], ["face", String(l.certificate.face)], ["status", pill(l.certificate.status)],
        ["maturity", time(l.certificate.maturity)], ["root", topAncestor ? link(["certificate", topAncestor], `${topAncestor} (whole tree)`) : "this certificate"],
        ["credit line", root.credit_line_id], ["trade reference", l.certificate.trade_ref ? value(l.certificate.trade_ref) : null],
        ["answer at height", String(answer.height)]])),
      h("h2", {}, "Lineage"),
      h("div", { class: "legend muted" }, h("span", {}, "blue border: live piece"), h("span", {}, "yellow: financed or pledged"), h("span", {}, "light blue: settled"), h("span", {}, "red: frozen or overdue")),
      lineageTree(pieces, l.certificate.cert_id, l.financings || []),
      h("h2", {}, "Settlement"),
      h("div", { class: "card settlement" }, fields([["root status", pill(root.status || "open")], ["face", String(root.face ?? "")], ["maturity", time(root.maturity)], ["settled at", root.settled_at ? time(root.settled_at) : "not settled"]]),
        (root.payouts || []).length ? [h("h2", {}, "Payouts"), value(root.payouts)] : null),
      h("h2", {}, "Trade documents"),
      h("div", { class: "card", "data-step": "document_attestation" }, l.document_attestation ? value(l.document_attestation)
        : h("p", { class: "muted" }, `The document hash ${short(l.certificate.trade_ref && l.certificate.trade_ref.doc_hash)} is not attested on this chain.`)),
      h("h2", {}, `Financings (${(l.financings || []).length})`),
      (l.financings || []).length ? value(l.financings) : h("p", { class: "muted" }, "none (or none you are party to)"),
      h("h2", {}, `History (${(l.transactions || []).length} events)`),
      table(["height", "piece", "event", "by", "transaction"].concat(reasons.size ? ["reason (read from the transaction, not proved)"] : []), (l.transactions || []).map((e) => {
        const ev = e.event || {};
        return [ev.height !== undefined ? link(["block", ev.height], String(ev.height)) : "", link(["certificate", e.cert_id], short(e.cert_id)), ev.kind || "",
          ev.actor ? link(["member", ev.actor], ev.actor) : "", ev.tx_hash ? link(["tx", ev.tx_hash], short(ev.tx_hash), { class: "mono" }) : ""]
          .concat(reasons.size ? [reasons.get(ev.tx_hash) || ""] : []);
      })),
    ];
  };

  /** The pieces as a top-down tree (SVG), parents centred over their children; each box links to its piece. */
  function lineageTree(pieces, focus, financings) {
    const byID = new Map(pieces.map((p) => [p.cert_id, p]));
    const finByCert = new Map(financings.map((f) => [f.cert_id, f]));
    const children = (p) => (p.children || []).filter((c) => byID.has(c));
    const W = 178, H = 74, GX = 18, GY = 40;
    let nextX = 0;
    const place = new Map();
    // Post-order without recursion, each piece placed once: a piece reached again (a shared child, or a cycle in a
    // node's answer) is neither laid out again nor followed, so the layout is linear in the pieces, never a loop.
    const layout = (start) => {
      const pending = new Set([start]);
      const stack = [{ id: start, depth: 0, kids: null }];
      while (stack.length) {
        const top = stack[stack.length - 1];
        if (top.kids === null) {
          top.kids = children(byID.get(top.id)).filter((k) => !place.has(k) && !pending.has(k));
          top.kids.forEach((k) => pending.add(k));
          for (const k of [...top.kids].reverse()) stack.push({ id: k, depth: top.depth + 1, kids: null });
          continue;
        }
        stack.pop();
        const x = top.kids.length ? (place.get(top.kids[0]).x + place.get(top.kids[top.kids.length - 1]).x) / 2 : (nextX++) * (W + GX);
        place.set(top.id, { x, y: top.depth * (H + GY), p: byID.get(top.id) });
      }
    };
    for (const p of pieces) if (!p.parent_id || !byID.has(p.parent_id)) if (!place.has(p.cert_id)) layout(p.cert_id);
    for (const p of pieces) if (!place.has(p.cert_id)) layout(p.cert_id); // pieces only reachable through a cycle
    const width = Math.max(...[...place.values()].map((n) => n.x)) + W + 2;
    const height = Math.max(...[...place.values()].map((n) => n.y)) + H + 2;
    const svg = h("svg:svg", { width, height, viewBox: `-1 -1 ${width} ${height}`, role: "img", "aria-label": "certificate lineage tree" });
    for (const n of place.values()) {
      for (const k of children(n.p)) {
        const c = place.get(k);
        svg.append(h("svg:path", { class: "edge", d: `M${n.x + W / 2},${n.y + H} C${n.x + W / 2},${n.y + H + GY / 2} ${c.x + W / 2},${c.y - GY / 2} ${c.x + W / 2},${c.y}` }));
      }
    }
    for (const n of place.values()) {
      const p = n.p;
      const live = (p.children || []).length === 0 && !["consumed", "rejected"].includes(p.status);
      const fin = finByCert.get(p.cert_id);
      const a = h("svg:a", { href: "#/certificate/" + encodeURIComponent(p.cert_id) });
      const g = h("svg:g", { class: `node ${String(p.status).replace(/[^a-z_]/g, "")}${live ? " live" : ""}${p.cert_id === focus ? " focus" : ""}`, transform: `translate(${n.x},${n.y})`, "data-cert": p.cert_id },
        h("svg:rect", { width: W, height: H, rx: 6 }),
        h("svg:text", { x: 8, y: 16, class: "title" }, short(p.cert_id)),
        h("svg:text", { x: 8, y: 31 }, `holder ${p.holder}`),
        h("svg:text", { x: 8, y: 46 }, `face ${p.face} · ${p.status}`),
        h("svg:text", { x: 8, y: 61 }, fin ? `${fin.kind} by ${fin.financier} (${fin.status})` : p.pending_to ? `offered to ${p.pending_to}` : ""),
        h("svg:title", {}, `${p.cert_id}\nholder ${p.holder}\nface ${p.face}\nstatus ${p.status}`));
      a.append(g);
      svg.append(a);
    }
    return h("div", { class: "tree" }, svg);
  }

  function lookupForm(label, placeholder, route, second) {
    const input = h("input", { placeholder, "aria-label": label, name: "first" });
    const input2 = second ? h("input", { placeholder: second.placeholder, "aria-label": second.label, name: "second" }) : null;
    return h("form", { class: "inline", onsubmit: (e) => {
      e.preventDefault();
      const v = input.value.trim();
      if (v) location.hash = "#/" + route(v, input2 ? input2.value.trim() : "").map((x) => encodeURIComponent(x)).join("/");
    } }, h("label", {}, label), input, input2, h("button", { type: "submit" }, "Show"));
  }

  pages.credits = async () => [
    h("h1", {}, "Green credits"),
    h("h2", {}, "Provenance of a serial"),
    h("p", {}, "From a unit's serial back to its block, batch, verification, project and methodology, and every transfer."),
    lookupForm("program", "program id (e.g. CCER)", (program, serial) => ["provenance", program, serial], { label: "serial", placeholder: "serial number" }),
    h("h2", {}, "Retirements for a beneficiary"),
    lookupForm("beneficiary", "beneficiary name", (v) => ["retirements", v]),
  ];

  pages.provenance = async (program, serial) => {
    if (!program || !serial) throw new Trellis.TrellisError("a provenance needs a programme and a serial: #/provenance/PROGRAM/SERIAL");
    const answer = await Trellis.get(`/v1/query/provenance${Trellis.query({ program, serial, prove: "true" })}`);
    // Checked before anything is drawn: when the check passes, every step shown — issuance, verification, each block
    // the serial passed through with its events, the block holding it now — is decoded here from proved records (the
    // node's JSON only had to match them); when it fails, the node's answer is shown under the red badge.
    const checked = await checkedAnswer(answer, Trellis.deriveProvenance(program, serial));
    const p = checked.derived || answer.result;
    // From the rules to the unit: methodology, project, verification (and the verifier's accreditations, the report's
    // attestation), the issued batch, the chain of blocks the serial passed through, the block holding it now, its
    // retirement (a proved answer of its own), and every movement.
    const steps = [["methodology", "Methodology"], ["project", "Project"], ["verification", "Verification"], ["verifier_accreditations", "Verifier's accreditations"],
      ["report_attestation", "Attestation of the verification report"], ["batch", "Issued batch"], ["history", "Blocks the serial passed through"],
      ["block", "Block holding it now"], ["retirement", "Retirement"], ["transfers", "Every movement"]];
    const known = new Set(["program_id", "serial", "serial_text", ...steps.map(([k]) => k)]);
    const retirementID = p.block && typeof p.block.retirement_id === "string" ? p.block.retirement_id : null;
    const cards = [h("div", { class: "card", "data-step": "serial" }, fields([["programme", p.program_id], ["serial", String(p.serial)], ["serial range", h("span", { class: "mono" }, p.serial_text)]]))];
    for (const [k, title] of [...steps, ...Object.keys(p).filter((k) => !known.has(k)).map((k) => [k, k])]) {
      let content;
      if (k === "retirement") {
        if (retirementID === null) continue;
        content = await retirementOf(retirementID, p.block.block_id, serial);
      } else {
        if (p[k] === undefined) continue;
        content = value(p[k], 0, k);
      }
      cards.push(h("div", { class: "arrow" }, "↓"), h("div", { class: "card", "data-step": k }, h("h2", {}, title), content));
    }
    // Why a block was frozen or unfrozen: beside the answer's result, read by the node from the transactions (the
    // proofs do not cover it; docs/ACCESS.md), shown as text.
    const reasons = (Array.isArray(answer.event_reasons) ? answer.event_reasons : [])
      .filter((r) => r && typeof r.tx_hash === "string" && typeof r.reason === "string");
    if (reasons.length) {
      cards.push(h("div", { class: "card", "data-step": "event_reasons" }, h("h2", {}, "Reasons (read from the transactions, not proved)"),
        table(["event", "transaction", "reason"], reasons.map((r) => [String(r.kind || ""), link(["tx", r.tx_hash], short(r.tx_hash), { class: "mono" }), r.reason]))));
    }
    return [h("h1", {}, `Provenance of serial ${p.serial} (${p.program_id})`), answerPanel(checked, answer.proofs), h("div", { class: "chain" }, cards)];
  };

  /** The retirement of a retired serial, read as a proved answer of its own and re-derived from its record. */
  async function retirementOf(id, blockID, serial) {
    let answer;
    try { answer = await Trellis.get(`/v1/query/retirements${Trellis.query({ retirement: id, prove: "true" })}`); } catch (e) { return errorBox(e, `retirement ${id}`); }
    const checked = await checkedAnswer(answer, Trellis.deriveRetirement(id, blockID, serial));
    const r = ((checked.derived || answer.result).retirements || [])[0] || {};
    return [answerPanel(checked, answer.proofs), fields([
      ["retirement", r.ret_id], ["beneficiary", r.beneficiary], ["purpose", r.purpose], ["retired by", r.retired_by ? link(["member", r.retired_by], r.retired_by) : null],
      ["time", time(r.time)], ["claim period", r.claim_period_start !== undefined ? `${time(r.claim_period_start)} – ${time(r.claim_period_end)}` : null],
      ["block", typeof r.height === "number" ? link(["block", r.height], String(r.height)) : null], ["transaction", r.tx_hash ? link(["tx", r.tx_hash], short(r.tx_hash), { class: "mono" }) : null],
      ["ranges", value(r.ranges)]])];
  }

  pages.retirements = async (beneficiary) => {
    if (!beneficiary) return pages.credits();
    const answer = await Trellis.get(`/v1/query/retirements${Trellis.query({ beneficiary, prove: "true" })}`);
    // The retirements and their total shown are the proved records when the check passes.
    const checked = await checkedAnswer(answer, Trellis.deriveRetirements(beneficiary));
    const r = checked.derived ? { ...answer.result, ...checked.derived } : answer.result;
    const list = r.retirements || [];
    const rest = Object.fromEntries(Object.entries(r).filter(([k]) => k !== "retirements"));
    return [h("h1", {}, `Retirements for ${beneficiary}`), answerPanel(checked, answer.proofs), h("div", { class: "card" }, value(rest)),
      h("h2", {}, `${list.length} retirements`), list.length ? value(list) : h("p", { class: "muted" }, "none")];
  };

  pages.member = async (id) => {
    if (!id) return [h("h1", {}, "Member"), lookupForm("member id", "e.g. supplier1", (v) => ["member", v])];
    const answer = await Trellis.get(`/v1/query/member${Trellis.query({ id, prove: "true" })}`);
    const checked = await checkedAnswer(answer, Trellis.deriveMember(id));
    const m = checked.derived || answer.result;
    return [h("h1", {}, `Member ${m.member_id}`), answerPanel(checked, answer.proofs), h("div", { class: "card member" }, fields([
      ["legal name", m.legal_name], ["registration no", m.registration_no], ["status", pill(m.status)], ["roles", (m.roles || []).join(", ")],
      ["public keys", h("span", { class: "mono" }, (m.public_keys || []).join(" "))], ["accreditations", value(m.accreditations)]]))];
  };

  pages.key = async () => {
    const current = Trellis.currentSigner();
    const area = h("textarea", { id: "key-text", placeholder: '{"type":"trellis-ed25519-v1","public_key":"…","secret_seed":"…"}', spellcheck: "false" });
    const file = h("input", { type: "file", accept: ".key,.json,text/plain", "aria-label": "key file" });
    const message = h("div", { id: "key-message" });
    file.addEventListener("change", async () => { if (file.files[0]) area.value = await file.files[0].text(); });
    const support = await Trellis.ed25519Support().catch((e) => ({ ok: false, reason: e.message }));
    return [
      h("h1", {}, "Reading with a member key"),
      h("p", {}, "Status and block headers are public. Everything else is read with a member's key, under the node's access policy: a member reads its own objects, a regulator or an auditor everything (docs/ACCESS.md). The key stays in this page's memory: it is never stored, never sent (only signatures are), and reloading the page forgets it."),
      support.ok ? null : h("div", { class: "error" }, `This browser cannot sign: ${support.reason}. Only public data can be shown.`),
      h("div", { class: "card" }, current ? [h("p", { id: "key-current" }, `Signing as ${current.member} (key ${short(current.publicKey)}).`), h("button", { onclick: () => { Trellis.forgetKey(); updateKeyLink(); route(); } }, "Forget the key")]
        : h("p", { id: "key-current" }, "No key: public data only.")),
      h("div", { class: "card" }, h("p", {}, "Paste a key file (e.g. testnet/members/regulator.key) or choose it:"), area, h("p", {}, file),
        h("button", { id: "key-use", onclick: async () => {
          message.replaceChildren("Checking…");
          try {
            const s = await Trellis.setKey(area.value);
            area.value = "";
            updateKeyLink();
            message.replaceChildren(h("span", { class: "badge ok" }, `Signing as ${s.member}`));
            route();
          } catch (e) { message.replaceChildren(errorBox(e, "the key")); }
        } }, "Use this key"), message),
    ];
  };

  function updateKeyLink() {
    const s = Trellis.currentSigner();
    document.getElementById("key-link").textContent = s ? `Key: ${s.member}` : "Key: none";
  }

  // ---- routing -----------------------------------------------------------------------------------------------
  let rendering = 0;
  async function route() {
    const token = ++rendering;
    validatorsCache = null; // read again for every page: governance may have changed the set
    const parts = location.hash.replace(/^#\/?/, "").split("/").map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
    const [name, ...args] = parts;
    const page = Object.prototype.hasOwnProperty.call(pages, name) ? pages[name] : null;
    view.replaceChildren(h("p", { class: "notice" }, "Loading…"));
    let content;
    try {
      if (!page) throw new Trellis.TrellisError(`there is no page “${name}” in this explorer`, { status: 404 });
      content = await page(...args.filter((a) => a !== ""));
    } catch (e) {
      content = errorBox(e, name ? `${name} ${args.join(" ")}`.trim() : "the chain status");
    }
    if (token === rendering) view.replaceChildren(...[content].flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  }

  document.getElementById("search").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = document.getElementById("search-input").value.trim();
    if (!q) return;
    const target = /^\d+$/.test(q) ? ["block", q] : /^[0-9a-fA-F]{64}$/.test(q) ? ["tx", q.toLowerCase()] : /^cert-/.test(q) ? ["certificate", q] : ["member", q];
    location.hash = "#/" + target.map(encodeURIComponent).join("/");
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("error", (e) => view.replaceChildren(errorBox(e.error || e.message, "this page")));
  window.addEventListener("unhandledrejection", (e) => view.replaceChildren(errorBox(e.reason, "this page")));
  route();
})();
