#!/usr/bin/env python3
"""Where a transaction's time goes in `trellis bench cluster`'s latency phase, split at its block's marks.

    python3 Scripts/latency-phases.py DIR [--node 1] [--phase latency|latency-old-definition]

DIR is a `trellis bench cluster --dir DIR --keep --log-level debug` directory: `PHASE-phase.tsv` (each committed
transaction of the measured part: first send, latency, block height), `PHASE-blocks.tsv` (node 1's block events as
the client received them) and `nodeN/node.log` (its `height timeline` debug lines). PHASE is `latency` (half load,
the default) or `latency-old-definition` (half of the sustained maximum, measured after it). The client's clock and the node's
are joined at each block: the height started at (block event arrival − published_ms), the event's delivery counted in
the fan-out. For each transaction, latency = queue (first send → its block's proposal reached node N; of it "missed":
the time after an earlier proposal it was not in) + consensus (proposal → decided: validation, votes, rounds) + store
(decided → stored) + fan-out (stored → the block event at the client). Prints medians, means and percentiles, and the
same split for the slowest 1 % of transactions.
"""
import argparse
import bisect
import glob
import re
import statistics
import sys


def read_tsv(path):
    with open(path) as f:
        header = f.readline().split()
        return [dict(zip(header, map(float, line.split()))) for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--node", default="1")
    parser.add_argument("--phase", default="latency", choices=["latency", "latency-old-definition"])
    args = parser.parse_args()
    txs = read_tsv(f"{args.dir}/{args.phase}-phase.tsv")
    blocks = {int(b["height"]): b for b in read_tsv(f"{args.dir}/{args.phase}-blocks.tsv")}
    logs = glob.glob(f"{args.dir}/node{args.node}/**/node.log", recursive=True) or glob.glob(f"{args.dir}/node{args.node}/*.log")
    if not logs:
        sys.exit(f"no node log under {args.dir}/node{args.node}")
    timeline = {}
    with open(logs[0], errors="replace") as log:
        for line in log:
            if "height timeline" not in line:
                continue
            f = dict(re.findall(r"(\w+)=(\S+)", line))
            try:
                h = int(f["height"])
                marks = {k: float(f[k]) for k in ("proposal_ms", "decided_ms", "stored_ms", "published_ms", "next_start_ms")}
            except (KeyError, ValueError):
                continue
            marks["rounds"] = int(f.get("rounds", "1"))
            marks["txs"] = int(f.get("txs", "0"))
            timeline[h] = marks
    # Each height's start and proposal on the client's clock.
    start, proposal = {}, {}
    for h, b in blocks.items():
        t = timeline.get(h)
        if t:
            start[h] = b["arrived_ms"] - t["published_ms"]
            proposal[h] = start[h] + t["proposal_ms"]
    heights = sorted(proposal)
    proposals = [proposal[h] for h in heights]
    rows = []
    for tx in txs:
        h = int(tx["height"])
        t = timeline.get(h)
        if h not in proposal or not t:
            continue
        sent, arrived = tx["sent_ms"], tx["sent_ms"] + tx["latency_ms"]
        # The first proposal at or after the send: the earliest block that could have carried it.
        k = bisect.bisect_left(proposals, sent)
        first = heights[k] if k < len(heights) else h
        missed = max(0.0, proposal[h] - proposal[first]) if first < h else 0.0
        rows.append({
            "latency": tx["latency_ms"],
            "queue": proposal[h] - sent,
            "to_next_proposal": (proposal[first] - sent) if first < h else proposal[h] - sent,
            "missed": missed,
            "missed_blocks": max(0, heights.index(h) - heights.index(first)) if first < h else 0,
            "consensus": t["decided_ms"] - t["proposal_ms"],
            "store": t["stored_ms"] - t["decided_ms"],
            "fanout": arrived - (start[h] + t["stored_ms"]),
            "rounds": t["rounds"],
        })
    if not rows:
        sys.exit("no transaction joined a height timeline (log level debug? the right node?)")

    def pct(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))]

    def report(title, rs):
        print(f"{title}: {len(rs)} transactions")
        print(f"  {'part':<18} {'median':>8} {'mean':>8} {'p90':>8} {'p99':>8}  (ms; share of the mean latency)")
        mean_latency = statistics.mean(r["latency"] for r in rs)
        for name in ("latency", "queue", "to_next_proposal", "missed", "consensus", "store", "fanout"):
            v = [r[name] for r in rs]
            share = statistics.mean(v) / mean_latency if mean_latency else 0
            print(f"  {name:<18} {statistics.median(v):8.1f} {statistics.mean(v):8.1f} {pct(v, 0.9):8.1f} {pct(v, 0.99):8.1f}  {share:5.1%}")
        missed = [r for r in rs if r["missed_blocks"] > 0]
        print(f"  missed at least one proposal: {len(missed)} ({len(missed) / len(rs):.1%}); blocks missed, mean over those "
              f"{statistics.mean(r['missed_blocks'] for r in missed) if missed else 0:.2f}; in a block of > 1 round: "
              f"{sum(1 for r in rs if r['rounds'] > 1)}")

    report("all", rows)
    cut = pct([r["latency"] for r in rows], 0.99)
    report(f"slowest 1 % (latency >= {cut:.0f} ms)", [r for r in rows if r["latency"] >= cut])
    hs = [h for h in heights if h in timeline and timeline[h]["txs"] > 0]
    if hs:
        tl = [timeline[h] for h in hs]
        print(f"heights with transactions: {len(hs)}; median txs {statistics.median(t['txs'] for t in tl):.0f}; height (start → next start) median "
              f"{statistics.median(t['next_start_ms'] for t in tl):.0f} ms, proposal {statistics.median(t['proposal_ms'] for t in tl):.0f}, "
              f"decided {statistics.median(t['decided_ms'] for t in tl):.0f}, stored {statistics.median(t['stored_ms'] for t in tl):.0f}, "
              f"published {statistics.median(t['published_ms'] for t in tl):.0f}")


if __name__ == "__main__":
    main()
