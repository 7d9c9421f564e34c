#!/usr/bin/env python3
"""Where a transaction's time goes in `trellis bench cluster`'s latency phase, split at its block's marks.

    python3 Scripts/latency-phases.py DIR [--node 1] [--phase latency|latency-old-definition]

DIR is a `trellis bench cluster --dir DIR --keep --log-level debug` directory: `PHASE-phase.tsv` (each committed
transaction of the measured part: first send, latency, block height, last send — later than the first when a node
refused it for capacity and it was sent again, since the twenty-second session), `PHASE-blocks.tsv` (node 1's block events as
the client received them) and `nodeN/node.log` (its `height timeline` debug lines). PHASE is `latency` (half load,
the default) or `latency-old-definition` (half of the sustained maximum, measured after it). The client's clock and the node's
are joined at each block: the height started at (block event arrival − published_ms), the event's delivery counted in
the fan-out. For each transaction, latency = queue (first send → its block's proposal reached node N; of it "missed":
the time after an earlier proposal it was not in) + consensus (proposal → decided: validation, votes, rounds) + store
(decided → stored) + fan-out (stored → the block event at the client). Prints medians, means and percentiles, and the
same split for the slowest 1 % of transactions, how many of them were sent again after a refusal (`resend_wait`), and
each height that carried them with its marks on node N (rounds, proposal, build, validation, decision, store, the
consensus thread's CPU and run-queue wait in each, the timeouts that fired).
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
            marks["proposer"] = f.get("proposer", "-")
            marks["timeouts"] = f.get("timeouts", "-")
            marks["time"] = line[11:23]
            for k in ("build_ms", "validate_ms", "validated_ms", "prevote_synced_ms", "precommit_synced_ms", "wal_sync_ms", "guard_save_ms",
                      "build_cpu_ms", "build_runq_ms", "validate_cpu_ms", "validate_runq_ms", "store_cpu_ms", "store_runq_ms"):
                try:
                    marks[k] = float(f[k])
                except (KeyError, ValueError):
                    marks[k] = None
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
            "height": h,
            # Refused for capacity and sent again: the wait between the first and the last send (0 when sent once).
            "resend_wait": (tx["last_sent_ms"] - sent) if "last_sent_ms" in tx else 0.0,
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
        for name in ("latency", "queue", "to_next_proposal", "missed", "consensus", "store", "fanout", "resend_wait"):
            v = [r[name] for r in rs]
            share = statistics.mean(v) / mean_latency if mean_latency else 0
            print(f"  {name:<18} {statistics.median(v):8.1f} {statistics.mean(v):8.1f} {pct(v, 0.9):8.1f} {pct(v, 0.99):8.1f}  {share:5.1%}")
        missed = [r for r in rs if r["missed_blocks"] > 0]
        print(f"  missed at least one proposal: {len(missed)} ({len(missed) / len(rs):.1%}); blocks missed, mean over those "
              f"{statistics.mean(r['missed_blocks'] for r in missed) if missed else 0:.2f}; in a block of > 1 round: "
              f"{sum(1 for r in rs if r['rounds'] > 1)}")

    report("all", rows)
    cut = pct([r["latency"] for r in rows], 0.99)
    slow = [r for r in rows if r["latency"] >= cut]
    report(f"slowest 1 % (latency >= {cut:.0f} ms)", slow)
    print(f"  sent again after a refusal: {sum(1 for r in slow if r['resend_wait'] > 0)} of the slowest, "
          f"{sum(1 for r in rows if r['resend_wait'] > 0)} of all")
    # The heights that carried the slowest 1 %: each one's marks on node N (ms from the height's start), so a slow
    # transaction is put in its height's slow step (proposal late, validation, votes, store, a round lost).
    by_height = {}
    for r in slow:
        by_height.setdefault(r["height"], []).append(r)
    print(f"  in {len(by_height)} heights (node {args.node}'s marks, ms from the height's start; cpu/runq: the consensus thread's):")
    print(f"  {'height':>7} {'time':>12} {'slow':>4} {'txs':>5} {'rnd':>3} {'prop':>6} {'build':>6} {'valid':>6} {'decid':>6} {'store':>6} "
          f"{'next':>6} {'bld cpu/rq':>11} {'val cpu/rq':>11} {'sto cpu/rq':>11}  proposer timeouts")
    def m(v):
        return "-" if v is None else f"{v:.0f}"
    for h in sorted(by_height):
        t = timeline[h]
        print(f"  {h:>7} {t['time']:>12} {len(by_height[h]):>4} {t['txs']:>5} {t['rounds']:>3} {t['proposal_ms']:>6.0f} {m(t['build_ms']):>6} "
              f"{m(t['validate_ms']):>6} {t['decided_ms']:>6.0f} {t['stored_ms'] - t['decided_ms']:>6.0f} {t['next_start_ms']:>6.0f} "
              f"{m(t['build_cpu_ms']):>5}/{m(t['build_runq_ms']):<5} {m(t['validate_cpu_ms']):>5}/{m(t['validate_runq_ms']):<5} "
              f"{m(t['store_cpu_ms']):>5}/{m(t['store_runq_ms']):<5}  {t['proposer']} {t['timeouts']}")
    background = rocksdb_jobs(args.dir)
    span = phase_wall_clock(args.dir, args.phase)
    if background and span is not None:
        # Each height's span on the wall clock (the phase's origin: its step's start in steps.tsv + the skipped start),
        # against the RocksDB flushes and compactions running on any node then (their LOG's EVENT_LOG_v1 lines).
        def overlap(h):
            a = span + start[h] / 1000
            b = a + timeline[h]["next_start_ms"] / 1000
            return sum(1 for (s0, s1, _, _) in background if s0 < b and s1 > a)
        slow_hs = sorted(by_height)
        all_hs = sorted({r["height"] for r in rows})
        busy_slow = sum(1 for h in slow_hs if overlap(h) > 0)
        busy_all = sum(1 for h in all_hs if overlap(h) > 0)
        print(f"  RocksDB flushes/compactions (all nodes) running during the height: {busy_slow} of the {len(slow_hs)} slow heights, "
              f"{busy_all} of all {len(all_hs)} heights of the phase")
        for h in slow_hs:
            a = span + start[h] / 1000
            b = a + timeline[h]["next_start_ms"] / 1000
            jobs = [(node, kind, s1 - s0) for (s0, s1, node, kind) in background if s0 < b and s1 > a]
            if jobs:
                print(f"    height {h}: " + ", ".join(f"node{n} {k} {d * 1000:.0f} ms" for n, k, d in jobs))
    phase_heights = sorted({r["height"] for r in rows})
    lengths = [timeline[h]["next_start_ms"] for h in phase_heights]
    if lengths:
        print(f"  the phase's {len(lengths)} heights (start → next start, ms): median {statistics.median(lengths):.0f}, p90 {pct(lengths, 0.9):.0f}, "
              f"p99 {pct(lengths, 0.99):.0f}, max {max(lengths):.0f}; more than one round: {sum(1 for h in phase_heights if timeline[h]['rounds'] > 1)}")
    hs = [h for h in heights if h in timeline and timeline[h]["txs"] > 0]
    if hs:
        tl = [timeline[h] for h in hs]
        print(f"heights with transactions: {len(hs)}; median txs {statistics.median(t['txs'] for t in tl):.0f}; height (start → next start) median "
              f"{statistics.median(t['next_start_ms'] for t in tl):.0f} ms, proposal {statistics.median(t['proposal_ms'] for t in tl):.0f}, "
              f"decided {statistics.median(t['decided_ms'] for t in tl):.0f}, stored {statistics.median(t['stored_ms'] for t in tl):.0f}, "
              f"published {statistics.median(t['published_ms'] for t in tl):.0f}")


def rocksdb_jobs(root):
    """(start, end, node, kind) in Unix seconds of every flush and compaction in each node's RocksDB LOG files."""
    import json
    jobs = []
    for log in sorted(glob.glob(f"{root}/node*/data/LOG*")):
        node = re.search(r"node(\d+)", log).group(1)
        started = {}
        with open(log, errors="replace") as f:
            for line in f:
                i = line.find("EVENT_LOG_v1 ")
                if i < 0:
                    continue
                try:
                    e = json.loads(line[i + len("EVENT_LOG_v1 "):])
                except ValueError:
                    continue
                kind, t, job = e.get("event", ""), e.get("time_micros", 0) / 1e6, e.get("job")
                if kind in ("flush_started", "compaction_started"):
                    started[(kind.split("_")[0], job)] = t
                elif kind in ("flush_finished", "compaction_finished"):
                    k = "flush" if kind == "flush_finished" else "compaction"
                    t0 = started.pop((k, job), None)
                    if t0 is not None:
                        jobs.append((t0, t, node, k))
    return jobs


def phase_wall_clock(root, phase):
    """The Unix time of the phase files' origin (the latency step's start in steps.tsv + its skipped first 3 s)."""
    try:
        steps = [line.rstrip("\n").split("\t") for line in open(f"{root}/steps.tsv")]
    except OSError:
        return None
    header = steps[0]
    for row in steps[1:]:
        r = dict(zip(header, row))
        if r.get("step") == phase:
            seconds = (float(r["end_ms"]) - float(r["start_ms"])) / 1000
            return float(r["start_unix_s"]) + min(3, seconds / 4)
    return None


if __name__ == "__main__":
    main()
