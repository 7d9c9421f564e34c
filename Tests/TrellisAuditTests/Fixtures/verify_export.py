#!/usr/bin/env python3
"""Independent check of a Trellis chain export using only docs/EXPORT-FORMAT.md, SHA-256 and Ed25519.

Usage: verify_export.py EXPORT.jsonl
For every block line: re-encodes the header from its decoded fields and checks block_hash; re-encodes every
transaction from its decoded fields, checks its hash, the tx_root (RFC 6962) and every Ed25519 signature over the
domain-separated sign bytes; decodes the certificate and checks every precommit signature. Also prints the worked
example of the document. Exit 0 = all good, 1 = a mismatch, 77 = the `cryptography` package is missing.
"""
import hashlib, json, struct, sys

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey, Ed25519PrivateKey
    from cryptography.exceptions import InvalidSignature
except ImportError:
    print("SKIP: python package 'cryptography' is not installed")
    sys.exit(77)

def u8(n): return struct.pack(">B", n)
def u32(n): return struct.pack(">I", n)
def u64(n): return struct.pack(">Q", n)
def i64(n): return struct.pack(">q", n)
def text(s): b = s.encode("utf-8"); return u32(len(b)) + b
def blob(b): return u32(len(b)) + b
def sha(b): return hashlib.sha256(b).digest()

def sign_bytes(kind, chain_id, body):
    return b"trellis/v1/" + kind.encode() + b"\x00" + chain_id.encode() + b"\x00" + body

def tx_body(chain_id, t):
    cos = sorted(blob(c.encode()) for c in t["cosigners"])  # a set: sorted by canonical bytes (length prefix first)
    return (text(chain_id) + text(t["kind"]) + blob(bytes.fromhex(t["payload_hex"])) + text(t["signer"])
            + u64(t["nonce"]) + u64(t["expires_at_height"]) + u32(len(cos)) + b"".join(cos))

def tx_bytes(chain_id, t):
    sigs = sorted(text(s["member_id"]) + bytes.fromhex(s["public_key"]) + bytes.fromhex(s["signature"]) for s in t["signatures"])
    return tx_body(chain_id, t) + u32(len(sigs)) + b"".join(sigs)

def header_bytes(h):
    return (text(h["chain_id"]) + u64(h["height"]) + u32(h["round"]) + i64(h["time"]) + u32(h["app_version"])
            + bytes.fromhex(h["previous_block_hash"]) + u32(h["tx_count"])
            + b"".join(bytes.fromhex(h[k]) for k in ["tx_root", "receipts_root", "state_root", "validator_set_hash",
                                                      "next_validator_set_hash", "proposer", "last_commit_hash", "evidence_hash"]))

def merkle_root(leaves):
    if not leaves: return sha(b"")
    if len(leaves) == 1: return sha(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves): k *= 2
    return sha(b"\x01" + merkle_root(leaves[:k]) + merkle_root(leaves[k:]))

def verify(pub, sig, msg):
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg); return True
    except InvalidSignature:
        return False

def fail(msg):
    print("FAIL: " + msg); sys.exit(1)

def example():
    key = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    t = {"kind": "certificate.accept", "payload_hex": (u32(6) + b"cert-1").hex(), "signer": "sup1", "nonce": 1,
         "expires_at_height": 10, "cosigners": []}
    body = tx_body("example-chain", t)
    sb = sign_bytes("tx", "example-chain", body)
    sig = key.sign(sb)
    from cryptography.hazmat.primitives import serialization
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    t["signatures"] = [{"member_id": "sup1", "public_key": pub.hex(), "signature": sig.hex()}]
    raw = tx_bytes("example-chain", t)
    for k, v in [("public_key", pub.hex()), ("body", body.hex()), ("sign_bytes", sb.hex()), ("signature", sig.hex()),
                 ("transaction", raw.hex()), ("transaction_hash", sha(raw).hex())]:
        print("example.%s: %s" % (k, v))

def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--example":
        example(); return
    lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
    header = json.loads(lines[0])
    chain = header["chain_id"]
    txs = sigs = 0
    prev = b"\x00" * 32
    for raw in lines[1:]:
        if not raw: continue
        b = json.loads(raw)
        h = b["header"]
        hb = header_bytes(h)
        if sha(hb).hex() != b["block_hash"]: fail("height %d: header re-encoding does not hash to block_hash" % b["height"])
        if bytes.fromhex(b["block_hex"])[:len(hb)] != hb: fail("height %d: block_hex does not start with the header" % b["height"])
        if bytes.fromhex(h["previous_block_hash"]) != prev: fail("height %d: broken hash link" % b["height"])
        prev = sha(hb)
        hashes = []
        for t in b["transactions"]:
            tb = tx_bytes(chain, t)
            if sha(tb).hex() != t["hash"]: fail("height %d: transaction re-encoding does not hash to %s" % (b["height"], t["hash"]))
            hashes.append(sha(tb))
            msg = sign_bytes("tx", chain, tx_body(chain, t))
            for s in t["signatures"]:
                if not verify(bytes.fromhex(s["public_key"]), bytes.fromhex(s["signature"]), msg): fail("height %d: tx signature" % b["height"])
                sigs += 1
            txs += 1
        if merkle_root(hashes).hex() != h["tx_root"]: fail("height %d: tx_root" % b["height"])
        c = bytes.fromhex(b["certificate_hex"])
        height, rnd = struct.unpack(">QI", c[:12]); block_id = c[12:44]; (n,) = struct.unpack(">I", c[44:48])
        if len(c) != 48 + 96 * n or block_id != prev or height != b["height"]: fail("height %d: certificate layout" % b["height"])
        for i in range(n):
            key = c[48 + 96 * i: 80 + 96 * i]; sig = c[80 + 96 * i: 144 + 96 * i]
            vote = u8(2) + u64(height) + u32(rnd) + b"\x01" + block_id + key
            if not verify(key, sig, sign_bytes("precommit", chain, vote)): fail("height %d: certificate signature" % b["height"])
            sigs += 1
    print("ok: %d blocks, %d transactions, %d signatures" % (len([l for l in lines[1:] if l]), txs, sigs))

main()
