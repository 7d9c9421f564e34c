#!/usr/bin/env python3
"""openapi-examples.py — records real request/response examples into the API's OpenAPI description,
Sources/TrellisAPI/OpenAPI/openapi.json (the one copy: the binary embeds it and docs/openapi.json links to it),
from calls to a live node.

    Scripts/openapi-examples.py --dir TESTNET_DIR --node http://127.0.0.1:26700 [--trellis .build/debug/trellis]

Run it against a testnet that has a story on it (Scripts/explorer-demo.py): it reads the chain as the regulator
(requests signed as docs/ACCESS.md specifies; needs the `cryptography` package, like docs/examples/sign_request.py)
and anonymously, submits one transaction with the CLI and resubmits a committed one, and replaces every operation's `examples` with what the
node answered — status code, body — named after the call. Long hex strings and lists are cut (marked "…") so the
document stays readable; everything else is the node's answer as it was. OpenAPITests checks that the recorded
examples still have the fields the routes answer. Exit 0 when every call answered as expected.
"""
import argparse
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "Sources/TrellisAPI/OpenAPI/openapi.json")


def load_signer():
    spec = importlib.util.spec_from_file_location("sign_request", os.path.join(ROOT, "docs/examples/sign_request.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trim(value, depth=0):
    """The answer with long hex strings and long lists shortened, so an example stays readable."""
    if isinstance(value, str) and len(value) > 160:
        return value[:64] + "…"
    if isinstance(value, list):
        kept = [trim(v, depth + 1) for v in value[:3]]
        return kept + (["…"] if len(value) > 3 else [])
    if isinstance(value, dict):
        return {k: trim(v, depth + 1) for k, v in value.items()}
    return value


class Node:
    def __init__(self, base, key_file, signer_module):
        self.base = base
        self.sign = signer_module
        with open(key_file) as f:
            key = json.load(f)
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        self.private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key["secret_seed"]))
        self.member = "regulator"
        self.chain = self.get("/v1/status", signed=False)[1]["chain_id"]

    def get(self, target, signed=True):
        headers = {"Accept": "application/json"}
        if signed:
            path, _, query = target.partition("?")
            timestamp, nonce = int(time.time()), secrets.token_hex(16)
            message = self.sign.sign_bytes(self.chain, self.member, "GET", path, query, b"", timestamp, nonce)
            headers.update({"Trellis-Member": self.member, "Trellis-Timestamp": str(timestamp), "Trellis-Nonce": nonce,
                            "Trellis-Signature": self.private.sign(message).hex()})
        return self.request(target, headers=headers)

    def request(self, target, headers=None, body=None, method="GET"):
        request = urllib.request.Request(self.base + target, data=body, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--trellis", default=os.path.join(ROOT, ".build/debug/trellis"))
    args = parser.parse_args()
    node = Node(args.node, f"{args.dir}/members/regulator.key", load_signer())
    recorded = {}  # (path, method) -> [(status, name, summary, value)]

    def record(path, method, status, name, summary, value, expect):
        if status != expect:
            raise SystemExit(f"openapi-examples: {method.upper()} {path} ({name}) answered {status}, expected {expect}: {value}")
        recorded.setdefault((path, method), []).append((str(status), name, summary, trim(value)))

    status, body = node.get("/v1/status")
    record("/v1/status", "get", status, "regulator", "GET /v1/status signed by a regulator: the full status", body, 200)
    height = body["height"]
    status, body = node.get("/v1/status", signed=False)
    record("/v1/status", "get", status, "anonymous", "GET /v1/status unsigned: the public part", body, 200)
    status, body = node.get("/health", signed=False)
    record("/health", "get", status, "ok", "GET /health", body, 200)
    status, body = node.get("/v1/blocks/1", signed=False)
    record("/v1/blocks/{height}", "get", status, "public", "GET /v1/blocks/1 unsigned: header, certificates, transaction hashes", body, 200)
    status, body = node.get(f"/v1/blocks/{height + 1000000}")
    record("/v1/blocks/{height}", "get", status, "missing", f"GET /v1/blocks/{height + 1000000}", body, 404)
    # The newest block with a transaction, read as the regulator: transactions decoded.
    tx_hash = None
    for h in range(height, 0, -1):
        status, block = node.get(f"/v1/blocks/{h}")
        if block.get("transactions"):
            record("/v1/blocks/{height}", "get", status, "regulator", f"GET /v1/blocks/{h} signed by a regulator: transactions decoded", block, 200)
            tx_hash = block["transactions"][0]["hash"]
            break
    if tx_hash is None:
        raise SystemExit("openapi-examples: no block with a transaction; run Scripts/explorer-demo.py first")
    status, body = node.get(f"/v1/tx/{tx_hash}")
    record("/v1/tx/{hash}", "get", status, "committed", "GET /v1/tx/HASH signed by a regulator", body, 200)
    canonical = body["transaction"]["canonical_hex"]
    status, body = node.get(f"/v1/tx/{tx_hash}", signed=False)
    record("/v1/tx/{hash}", "get", status, "unsigned", "GET /v1/tx/HASH unsigned", body, 401)
    status, body = node.get("/v1/tx/xyz")
    record("/v1/tx/{hash}", "get", status, "malformed", "GET /v1/tx/xyz", body, 400)
    status, body = node.get("/v1/state/member%2Fregulator?prove=true")
    record("/v1/state/{key}", "get", status, "proved", "GET /v1/state/member%2Fregulator?prove=true signed by a regulator", body, 200)
    status, body = node.get("/v1/state/member%2Fregulator?prove=maybe")
    record("/v1/state/{key}", "get", status, "bad_prove", "prove must be true, false, 1 or 0", body, 400)
    status, body = node.get("/v1/query/member?id=supplier1")
    record("/v1/query/{name}", "get", status, "member", "GET /v1/query/member?id=supplier1 signed by a regulator", body, 200)
    status, body = node.get("/v1/query/member?id=supplier1&prove=true")
    record("/v1/query/{name}", "get", status, "member_proved", "the same with prove=true: the proof of every state record read", body, 200)
    status, body = node.get("/v1/query/supply")
    record("/v1/query/{name}", "get", status, "supply", "GET /v1/query/supply", body, 200)
    status, body = node.get("/v1/query/exposure", signed=False)
    record("/v1/query/{name}", "get", status, "unsigned", "GET /v1/query/exposure unsigned", body, 401)
    status, body = node.get("/v1/query/nonsense")
    record("/v1/query/{name}", "get", status, "unknown", "GET /v1/query/nonsense", body, 404)
    status, body = node.get("/v1/genesis", signed=False)
    record("/v1/genesis", "get", status, "genesis", "GET /v1/genesis (the chain's genesis.json)", body, 200)

    # POST: a committed transaction's bytes again (a real request body, refused: its nonce is used), and a new one.
    status, body = node.request("/v1/tx", headers={"Content-Type": "application/json"}, body=json.dumps({"tx": canonical}).encode(), method="POST")
    record("/v1/tx", "post", status, "already_committed", "POST /v1/tx with a transaction already committed: its nonce is used", body, 400)
    request_example = {"tx": canonical}
    sent = subprocess.run([args.trellis, "tx", "send", "--node", args.node, "--key", f"{args.dir}/members/supplier1.key", "--kind", "member.rotate_keys",
                           "--payload", json.dumps({"add_keys": [secrets.token_hex(32)], "remove_keys": []}), "--json"],
                          capture_output=True, text=True, timeout=120)
    if sent.returncode != 0:
        raise SystemExit(f"openapi-examples: trellis tx send failed: {sent.stdout} {sent.stderr}")
    record("/v1/tx", "post", 202, "accepted", "POST /v1/tx with a new signed transaction (as `trellis tx send` prints it)", json.loads(sent.stdout), 202)
    status, body = node.request("/v1/tx", headers={"Content-Type": "application/json"}, body=b'{"tx": "zz"}', method="POST")
    record("/v1/tx", "post", status, "malformed", "POST /v1/tx with {\"tx\": \"zz\"}", body, 400)

    with open(DOC) as f:
        doc = json.load(f)
    for (path, method), examples in recorded.items():
        operation = doc["paths"][path][method]
        for response in operation["responses"].values():
            content = response.get("content", {}).get("application/json")
            if content is not None:
                content.pop("examples", None)
        for status, name, summary, value in examples:
            response = operation["responses"].get(status)
            if response is None or "$ref" in response:
                continue  # shared responses (401/403 components) keep no per-route examples
            content = response.setdefault("content", {}).setdefault("application/json", {"schema": {"type": "object"}})
            content.setdefault("examples", {})[name] = {"summary": summary, "value": value}
    body = doc["paths"]["/v1/tx"]["post"]["requestBody"]["content"]["application/json"]
    body["examples"] = {"transaction": {"summary": "the hex of a transaction's canonical bytes (a real one: the already committed transaction above)", "value": request_example}}
    out = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    with open(DOC, "w") as f:
        f.write(out)
    print(f"recorded {sum(len(v) for v in recorded.values())} examples for {len(recorded)} operations into {os.path.relpath(DOC, ROOT)} (rebuild to serve them)")


if __name__ == "__main__":
    main()
