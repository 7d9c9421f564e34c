#!/usr/bin/env python3
"""Sign a request to a Trellis node's HTTP API (docs/ACCESS.md) and print the answer.

    python3 sign_request.py --key supplier1.key URL [--member ID] [--chain CHAIN]
    python3 sign_request.py --example        # prints the worked example of docs/ACCESS.md

Needs the `cryptography` package from PyPI (pip install cryptography). --key is a Trellis key file
({"type": "trellis-ed25519-v1", "public_key": ..., "secret_seed": ...}); the member id and chain id are asked from
the node when not given (GET /v1/state/member_key%2F<public key> and GET /v1/status need no credentials).
Exit status: 0 when the node answers 200, 1 otherwise.
"""
import argparse
import hashlib
import json
import secrets
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DOMAIN = b"trellis/v1/api"


def length_prefixed(text):
    data = text.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def sign_bytes(chain_id, member, method, path, query, body, timestamp, nonce):
    """The exact bytes the Ed25519 signature covers."""
    return (DOMAIN + b"\x00" + chain_id.encode("utf-8") + b"\x00"
            + length_prefixed(member) + length_prefixed(method) + length_prefixed(path) + length_prefixed(query)
            + hashlib.sha256(body).digest() + struct.pack(">q", timestamp) + length_prefixed(nonce))


def signed_headers(seed, chain_id, member, method, target, body=b"", timestamp=None, nonce=None):
    """The four Trellis-* headers for a request to `target` (path and query exactly as sent)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = secrets.token_hex(16) if nonce is None else nonce
    path, _, query = target.partition("?")
    message = sign_bytes(chain_id, member, method, path, query, body, timestamp, nonce)
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(message)
    return {"Trellis-Member": member, "Trellis-Timestamp": str(timestamp), "Trellis-Nonce": nonce, "Trellis-Signature": signature.hex()}


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        sys.exit(f"cannot reach {url}: {reason} (is the node running? the URL must be the node's [api] listen address)")


def example():
    seed = bytes(range(1, 33))
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    args = ("trellis-example-1", "supplier1", "GET", "/v1/query/holdings", "member=supplier1", b"", 1764892800, "0123456789abcdef0123456789abcdef")
    message = sign_bytes(*args)
    print("public key:", public.hex())
    print("sign bytes:")
    hexed = message.hex()
    for start in range(0, len(hexed), 64):
        print(hexed[start:start + 64])
    print("signature:", Ed25519PrivateKey.from_private_bytes(seed).sign(message).hex())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", help="e.g. http://127.0.0.1:26800/v1/query/holdings?member=supplier1")
    parser.add_argument("--key", help="the member's key file")
    parser.add_argument("--member", help="the member id (default: asked from the node)")
    parser.add_argument("--chain", help="the chain id (default: asked from the node)")
    parser.add_argument("--example", action="store_true", help="print the worked example of docs/ACCESS.md")
    options = parser.parse_args()
    if options.example:
        example()
        return 0
    if not options.url or not options.key:
        parser.error("give URL and --key (or --example)")
    try:
        with open(options.key, encoding="utf-8") as handle:
            key_file = json.load(handle)
        seed = bytes.fromhex(key_file["secret_seed"])
        key_file["public_key"]
    except OSError as error:
        sys.exit(f"--key {options.key}: cannot read it: {error.strerror}")
    except (ValueError, KeyError, TypeError) as error:
        sys.exit(f"--key {options.key}: not a Trellis key file (JSON with public_key and secret_seed): {error}")
    parsed = urllib.parse.urlsplit(options.url)
    base = f"{parsed.scheme}://{parsed.netloc}"
    chain_id = options.chain or json.loads(get(base + "/v1/status")[1])["chain_id"]
    member = options.member
    if member is None:
        status, answer = get(base + "/v1/state/member_key%2F" + key_file["public_key"])
        value = json.loads(answer).get("value_hex") if status == 200 else None
        member = bytes.fromhex(value)[4:].decode("utf-8") if value else "@operator"
    target = parsed.path + ("?" + parsed.query if parsed.query else "")
    status, answer = get(options.url, signed_headers(seed, chain_id, member, "GET", target))
    print(answer.decode("utf-8", "replace").strip())
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
