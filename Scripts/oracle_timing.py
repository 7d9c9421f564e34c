#!/usr/bin/env python3
"""Measures whether a refused read tells an existing object from an absent one (docs/ACCESS.md, "No existence oracle").

    python3 Scripts/oracle_timing.py DIR [--node URL] [--requests N] [--trellis PATH]

DIR is a running `trellis testnet up --dir DIR` (its members/ keys and the example consortium). The script issues one
certificate to supplier1 (a credit line, then `tx certificate issue`), then, as supplier2 — a member party to
neither — asks alternately for that certificate's lineage and for a certificate id that does not exist, N times each,
signing every request (docs/examples/sign_request.py). It prints, per case, the statuses seen, whether every body
was identical, and latency percentiles in milliseconds, then the difference of the medians. Loopback only; bounded.
Needs the `cryptography` package (python3-cryptography). Exit status 0 when every answer was a 403 with one body.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "examples"))
import sign_request  # noqa: E402


def issue_certificate(trellis, node, members):
    """A credit line and one certificate held by supplier1; returns the certificate id."""
    line = f"oracle-{int(time.time())}"
    subprocess.run([trellis, "tx", "send", "--node", node, "--key", f"{members}/bank.key", "--cosign", f"{members}/core.key",
                    "--kind", "credit_line.set", "--payload",
                    json.dumps({"line_id": line, "core": "core", "limit": 1000000, "expiry": int(time.time()) + 365 * 86400}),
                    "--wait", "--json"], check=True, capture_output=True, timeout=120)
    answer = subprocess.run([trellis, "tx", "certificate", "issue", "--node", node, "--key", f"{members}/core.key",
                             "--credit-line", line, "--holder", "supplier1", "--face", "1000",
                             "--maturity", str(int(time.time()) + 90 * 86400), "--contract-no", "PO-oracle",
                             "--invoices", f"INV-{line}", "--doc-hash", "ab" * 32, "--wait", "--json"],
                            check=True, capture_output=True, text=True, timeout=120)
    return json.loads(answer.stdout)["receipt"]["created"][0]


def timed_get(node, seed, chain_id, member, target):
    headers = sign_request.signed_headers(seed, chain_id, member, "GET", target)
    start = time.perf_counter()
    status, body = sign_request.get(node + target, headers)
    return status, body, (time.perf_counter() - start) * 1000


def percentiles(samples):
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return f"p10 {pick(0.10):7.2f}  median {statistics.median(ordered):7.2f}  p90 {pick(0.90):7.2f}  max {ordered[-1]:7.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir")
    parser.add_argument("--node", default="http://127.0.0.1:26700")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--trellis", default=".build/debug/trellis")
    options = parser.parse_args()
    if not 1 <= options.requests <= 10000:
        parser.error("--requests must be 1 … 10000")
    members = os.path.join(options.dir, "members")
    with open(os.path.join(members, "supplier2.key"), encoding="utf-8") as handle:
        seed = bytes.fromhex(json.load(handle)["secret_seed"])
    chain_id = json.loads(urllib.request.urlopen(options.node + "/v1/status", timeout=10).read())["chain_id"]
    cert = issue_certificate(options.trellis, options.node, members)
    cases = {"existing (supplier1's)": f"/v1/query/lineage?cert={cert}", "absent": "/v1/query/lineage?cert=cert-does-not-exist"}
    results = {name: {"statuses": set(), "bodies": set(), "ms": []} for name in cases}
    for _ in range(options.requests):
        for name, target in cases.items():
            status, body, ms = timed_get(options.node, seed, chain_id, "supplier2", target)
            results[name]["statuses"].add(status)
            results[name]["bodies"].add(body)
            results[name]["ms"].append(ms)
    for name, result in results.items():
        print(f"{name:24} statuses {sorted(result['statuses'])}  {percentiles(result['ms'])}  ms")
    bodies = set().union(*(r["bodies"] for r in results.values()))
    statuses = set().union(*(r["statuses"] for r in results.values()))
    medians = [statistics.median(r["ms"]) for r in results.values()]
    print(f"one body for all answers: {len(bodies) == 1}; difference of medians: {medians[0] - medians[1]:+.2f} ms "
          f"({options.requests} requests each, certificate {cert})")
    return 0 if len(bodies) == 1 and statuses == {403} else 1


if __name__ == "__main__":
    sys.exit(main())
