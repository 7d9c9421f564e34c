#!/usr/bin/env python3
"""Medians of a node's per-height timeline (docs/OPERATIONS.md §8, `height timeline` at log level debug).

    python3 Scripts/height-timeline.py NODE_LOG [--from HH:MM:SS] [--to HH:MM:SS]

Reads the `height timeline` lines of NODE_LOG (e.g. D/node1/node.log of `trellis bench cluster --dir D --keep
--log-level debug`), keeps the heights logged between --from and --to (UTC, the log's own timestamps; the bench's
phase lines carry the same clock), and prints for each mark the median and mean in milliseconds from the height's
start, the store write (stored − decided) and the commit's fan-out (published − stored), and the committed tx/s the
heights add up to. A mark a height did not reach ("-") is left out of that mark's figures.
"""
import argparse
import re
import statistics
import sys

FIELDS = ["txs", "proposal_ms", "build_ms", "validate_ms", "validated_ms", "prevote_synced_ms", "precommit_synced_ms",
          "decided_ms", "stored_ms", "published_ms", "next_start_ms", "wal_sync_ms", "guard_save_ms", "rounds",
          "build_cpu_ms", "build_runq_ms", "validate_cpu_ms", "validate_runq_ms", "store_cpu_ms", "store_runq_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("--from", dest="start", help="first time of day kept, HH:MM:SS")
    parser.add_argument("--to", dest="end", help="last time of day kept, HH:MM:SS")
    args = parser.parse_args()
    rows = []
    with open(args.log, errors="replace") as log:
        for line in log:
            if "height timeline" not in line:
                continue
            fields = dict(re.findall(r"(\w+)=(\S+)", line))
            fields["_time"] = line[11:19]  # 2026-12-05T23:00:00+0000 …
            rows.append(fields)
    rows = [r for r in rows if (not args.start or r["_time"] >= args.start) and (not args.end or r["_time"] <= args.end)]
    if not rows:
        sys.exit("no height timeline lines in that range (is the node's log level debug?)")

    def values(name):
        return [float(r[name]) for r in rows if r.get(name, "-") != "-"]

    def between(first, second):
        return [float(r[second]) - float(r[first]) for r in rows if r.get(first, "-") != "-" and r.get(second, "-") != "-"]

    print(f"{len(rows)} heights, {rows[0]['_time']}–{rows[-1]['_time']} (ms from each height's start)")
    for name in FIELDS:
        v = values(name)
        if v:
            print(f"  {name:22s} median {statistics.median(v):8.1f}   mean {statistics.mean(v):8.1f}   n={len(v)}")
    for label, v in [("store (stored − decided)", between("decided_ms", "stored_ms")),
                     ("fan-out (published − stored)", between("stored_ms", "published_ms"))]:
        if v:
            print(f"  {label:30s} median {statistics.median(v):8.1f}   mean {statistics.mean(v):8.1f}")
    heights = values("next_start_ms")
    if heights:
        print(f"  committed: {sum(int(r['txs']) for r in rows) / (sum(heights) / 1000):.0f} tx/s over these heights")
    # The consensus thread's CPU in a height's execution and store (the *_cpu_ms fields, since 2026-12-06): a least-
    # squares line over the heights, CPU ms = fixed per height + per transaction × txs.
    cpu = [(int(r["txs"]), sum(float(r.get(f, "-")) for f in ("build_cpu_ms", "validate_cpu_ms", "store_cpu_ms") if r.get(f, "-") != "-"))
           for r in rows if r.get("store_cpu_ms", "-") != "-"]
    if len(cpu) >= 3 and len({t for t, _ in cpu}) >= 2:
        mx = statistics.mean(t for t, _ in cpu)
        my = statistics.mean(c for _, c in cpu)
        slope = sum((t - mx) * (c - my) for t, c in cpu) / sum((t - mx) ** 2 for t, _ in cpu)
        print(f"  consensus-thread CPU (build + validate + store) per height ≈ {my - slope * mx:.1f} ms + {slope:.3f} ms × txs"
              f" (n={len(cpu)}; mean {my:.1f} ms at {mx:.0f} txs)")
    # Rounds lost: the heights that needed more than one round, and which timeouts fired (`timeouts`, since 2026-12-06).
    lost = [r for r in rows if int(r.get("rounds", "1")) > 1]
    fired = {}
    for r in rows:
        for t in r.get("timeouts", "-").split(","):
            if t != "-":
                step = t.split("@")[0].rstrip("0123456789")
                fired[step] = fired.get(step, 0) + 1
    if lost or fired:
        print(f"  heights with more than one round: {len(lost)} of {len(rows)}; timeouts fired: "
              + (", ".join(f"{k} {v}" for k, v in sorted(fired.items())) or "none logged"))


if __name__ == "__main__":
    main()
