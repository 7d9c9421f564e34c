#!/usr/bin/env python3
# page-shape-model.py — what a block's commit would write to the `nodes` column family under other page layouts
# (docs/PERFORMANCE.md, "(eighteenth, store)"). A model, not the store: N uniformly hashed keys (64-bit prefixes of
# their hashes), K of them changed, the compact tree's shape (a lone key is a leaf as high as it can sit), and for
# each layout — a list of (page root depth, depth of the pages below it) — the distinct pages the changed keys' paths
# cross, each sized as store format 6 encodes it (1 byte per inner node or empty half, 3 + key + 32 per leaf,
# 33 per page below). Layout "4" is format 6; its counts match `bench ledger`'s page_rows_by_depth within ~2 %.
# Usage: Scripts/page-shape-model.py [keys ...]   (default 515000 1030000; K = 1408, a 128-transaction block)
import sys
import numpy as np

KEY_BYTES = 35  # about the keys of bench cluster's split transfers
CHANGED = 1408
TX_PER_BLOCK = 128
LAYOUTS = {
    "4 (format 6)": [(d, d + 4) for d in range(0, 64, 4)],
    "0,4,8,12 then one page from 16 down": [(0, 4), (4, 8), (8, 12), (12, 16), (16, 64)],
    "8, 8, then one page from 16 down": [(0, 8), (8, 16), (16, 64)],
    "4, 4, 4, 6, then one page from 18 down": [(0, 4), (4, 8), (8, 12), (12, 18), (18, 64)],
    "format 6 without the pages rooted above 16": [(d, d + 4) for d in range(16, 64, 4)],
}


def model(n, layout, rng):
    keys = np.unique(rng.integers(0, 2**63, size=n, dtype=np.uint64) << np.uint64(1))
    n = len(keys)

    def shared_bits(a, b):
        x = a ^ b
        out = np.full(len(x), 64)
        nz = x != 0
        out[nz] = 63 - np.floor(np.log2(x[nz].astype(np.float64))).astype(int)
        return out

    lcp = np.zeros(n, int)
    c = shared_bits(keys[1:], keys[:-1])
    lcp[1:] = np.maximum(lcp[1:], c)
    lcp[:-1] = np.maximum(lcp[:-1], c)
    leaf_depth = lcp + 1

    def count(d, prefix):
        if d == 0:
            return n
        lo = np.searchsorted(keys, np.uint64(prefix << (64 - d)))
        hi = np.searchsorted(keys, np.uint64(((prefix + 1) << (64 - d)) - 1), side="right")
        return hi - lo

    def page_bytes(d, prefix, bottom, rel=0):
        k = count(d, prefix)
        if k == 0:
            return 1
        if k == 1:
            return 3 + KEY_BYTES + 32
        if d == bottom and rel > 0:
            return 33
        return 1 + page_bytes(d + 1, prefix * 2, bottom, rel + 1) + page_bytes(d + 1, prefix * 2 + 1, bottom, rel + 1)

    pages = {}
    for i in rng.choice(n, size=CHANGED, replace=False):
        k = int(keys[i])
        for d, bottom in layout:
            if d >= leaf_depth[i]:
                break
            prefix = k >> (64 - d) if d > 0 else 0
            if (d, prefix) not in pages:
                pages[(d, prefix)] = page_bytes(d, prefix, bottom)
    return pages


for n in [int(a) for a in sys.argv[1:]] or [515_000, 1_030_000]:
    for name, layout in LAYOUTS.items():
        pages = model(n, layout, np.random.default_rng(1))
        rows, size = len(pages), sum(pages.values())
        by_depth = {}
        for (d, _), b in pages.items():
            r, s = by_depth.get(d, (0, 0))
            by_depth[d] = (r + 1, s + b)
        print(f"{n:>9} keys, {name}: {rows} rows ({rows / TX_PER_BLOCK:.1f} a tx), {size / 1024:.0f} KB "
              f"({size / TX_PER_BLOCK / 1024:.1f} KB a tx); by depth "
              + ", ".join(f"{d}: {r} × {s // r} B" for d, (r, s) in sorted(by_depth.items())))
