#!/usr/bin/env python3
"""Where the cluster's CPU goes per committed transaction, by component and benchmark phase.

Reads `perf script` of a whole-machine profile taken during `trellis bench cluster --dir D --keep --json-out
D/cluster.json 2> D/cluster.err` (perf recording with the wall clock, so samples line up with the benchmark's log):

    perf record -k CLOCK_REALTIME -F 499 -g -a -o D/perf.data -- sleep 400    # from "testnet up" to the run's end
    perf script -F comm,pid,tid,time,ip,sym,dso -i D/perf.data | swift-demangle --simplified \\
        | python3 Scripts/cluster-profile.py D ["ramp 1500,reference_1x_before_1_5x,reference_1x_after_3x,sustained"]

Phases come from D/steps.tsv and D/blocks.tsv when the run wrote them (--keep, since the twenty-first session: each
step's exact span and the transactions committed in it), else from D/cluster.err (each step's end time and committed
rate; a ramp or 1x step lasts --step-seconds, an overload step twice that, the sustained phase its windows). The nodes are the four processes with RocksDB
threads. Prints, per phase, milliseconds of the four nodes' CPU per committed transaction (samples x 1/499 s /
committed transactions). Stacks are frame-pointer stacks: libsodium and glibc frames do not unwind to their caller,
so signature verification is counted by its library and malloc/free whose caller is lost stay a row of their own.
Phase names are steps.tsv's (a run's log names them when asked for one it does not have): ramp N, reference_1x_before_1_5x,
1_5x, reference_1x_after_1_5x, 3x, reference_1x_after_3x, sustained, latency; a run without steps.tsv: ramp N, 1x #k,
1.5x, 3.0x, sustained.
"""
import collections
import datetime
import json
import os
import re
import sys

out = sys.argv[1]
settings = json.load(open(os.path.join(out, 'cluster.json')))['settings']
step, window = settings.get('step_seconds', 8), settings.get('window_seconds', 20)
HZ = 499.0


def stamp(line):
    m = re.match(r'\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\]', line)
    if not m:
        return None
    moment = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%SZ')
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


phases = []  # (name, start, end, committed transactions)
references = 0
timeline = os.path.join(out, 'steps.tsv')
if os.path.exists(timeline):
    # Exact spans (written with --keep since the twenty-first session): each step's wall-clock span, and the
    # transactions of the blocks node 1 committed within it (blocks.tsv, on the steps' millisecond clock).
    blocks = [line.rstrip('\n').split('\t') for line in open(os.path.join(out, 'blocks.tsv'))][1:]
    blocks = [(float(b[1]), int(b[2])) for b in blocks]
    seen = collections.Counter()
    for line in list(open(timeline))[1:]:
        name, _, start_ms, end_ms, start_unix, end_unix = line.rstrip('\n').split('\t')
        seen[name] += 1
        name = name if seen[name] == 1 else f'{name} #{seen[name]}'
        committed = sum(n for at, n in blocks if float(start_ms) <= at < float(end_ms))
        phases.append((name, float(start_unix), float(end_unix), committed))
for line in (open(os.path.join(out, 'cluster.err')) if not phases else []):
    t = stamp(line)
    if t is None:
        continue
    if m := re.search(r'offered\s+(\d+) tx/s → committed\s+(\d+) tx/s \((?:height|window)', line):
        phases.append((f'ramp {m.group(1)}', t - step, t, float(m.group(2)) * step))
    elif m := re.search(r'reference 1× .* committed\s+(\d+) tx/s', line):
        references += 1
        phases.append((f'1x #{references}', t - step, t, float(m.group(1)) * step))
    elif m := re.search(r'overload ([\d.]+)× .* committed\s+(\d+) tx/s', line):
        phases.append((f'{m.group(1)}x', t - 2 * step, t, float(m.group(2)) * 2 * step))
    elif m := re.search(r'sustained: windows ([\d, ]+) tx/s', line):
        rates = [float(x) for x in m.group(1).split(',')]
        phases.append(('sustained', t - len(rates) * window, t, sum(rates) * window))


def within(frames, *names):
    return any(name in frame for frame in frames for name in names)


def component(comm, frames, libraries):
    if libraries and 'libsodium' in libraries[0]:
        return 'signature verification (libsodium, every thread)'
    if comm.startswith('rocksdb:low'):
        return 'RocksDB compaction'
    if comm.startswith('rocksdb:high'):
        return 'RocksDB flush'
    if within(frames, 'LedgerEngine.commit'):
        if within(frames, 'Database.write'):
            return 'commit: RocksDB batch write (memtables, log, fsync)'
        if within(frames, 'treeChanges'):
            return 'commit: tree diff and page encoding (treeChanges)'
        return 'commit: the rest (block and receipts encoded, history, prune)'
    if within(frames, 'LedgerEngine.validate', 'LedgerEngine.proposeBlock'):
        if within(frames, 'SparseMerkleTree.update'):
            if within(frames, 'Database.get', 'DecodedPage'):
                return 'execution: tree update, page reads from RocksDB and decoding'
            return 'execution: tree update, hashing and walk'
        if within(frames, 'CommittedState', 'stateValue'):
            return 'execution: state reads'
        return 'execution: contracts, overlay, receipts, roots'
    if within(frames, 'Mempool.update', 'Mempool.reap', 'recordCommitMetrics', 'didCommit'):
        return 'mempool update and reap, commit fan-out'
    if within(frames, 'submitTransaction', 'Mempool.add', 'Routes.submit'):
        return 'admission (API and gossip), signatures apart'
    if within(frames, 'Routes.events', 'EventJSONWriter'):
        return 'event stream (the benchmark reads it)'
    if within(frames, 'Replica', 'ConsensusState', 'ConsensusWAL', 'SigningState', 'ConsensusRunner', 'NodeReplicaHost'):
        return 'consensus (replica, WAL, votes, timers)'
    if within(frames, 'NIO', 'P2PTransport', 'SecureChannel', 'PeerMessage', 'Hummingbird'):
        return 'network (NIO, peer encryption, HTTP)'
    if libraries and 'libc' in libraries[0] and len(frames) <= 2:
        return 'malloc/free, caller not unwound'
    if libraries and 'kernel' in libraries[0]:
        return 'kernel, other'
    return 'other'


header = re.compile(r'^\s*(\S.*?)\s+(\d+)/(\d+)\s+(\d+\.\d+):')
frame = re.compile(r'\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$')
samples, current = [], None
for line in sys.stdin:
    if not line.strip():
        if current:
            samples.append(current)
        current = None
    elif not line.startswith('\t') and (m := header.match(line)):
        current = (m.group(1), int(m.group(2)), float(m.group(4)), [], [])
    elif current is not None and (m := frame.match(line)):
        current[3].append(m.group(1))
        current[4].append(m.group(2))
if current:
    samples.append(current)

with_rocksdb = collections.Counter(s[1] for s in samples if s[0].startswith('rocksdb'))
per_process = collections.Counter(s[1] for s in samples)
nodes = {pid for pid, _ in collections.Counter({pid: per_process[pid] for pid in with_rocksdb}).most_common(4)}

counts = collections.defaultdict(collections.Counter)
for comm, pid, t, frames, libraries in samples:
    if pid not in nodes:
        continue
    name = next((p[0] for p in phases if p[1] <= t < p[2]), None)
    if name:
        counts[name][component(comm, frames, libraries)] += 1

shown = sys.argv[2].split(',') if len(sys.argv) > 2 else [p[0] for p in phases]
committed = {p[0]: p[3] for p in phases}
unknown = [phase for phase in shown if phase not in committed]
if unknown:
    sys.exit(f'cluster-profile.py: no phase named {", ".join(map(repr, unknown))} in this run; its phases: '
             + ', '.join(p[0] for p in phases))
ms = lambda phase, key: 1000 * counts[phase][key] / HZ / committed[phase]
order = collections.Counter()
for phase in shown:
    order.update({key: ms(phase, key) for key in counts[phase]})
print('| ms of the four nodes\' CPU per committed transaction | ' + ' | '.join(shown) + ' |')
print('|---|' + '---:|' * len(shown))
for key, _ in order.most_common():
    print(f'| {key} | ' + ' | '.join(f'{ms(phase, key):.3f}' for phase in shown) + ' |')
print('| **all** | ' + ' | '.join(f'**{sum(ms(phase, k) for k in counts[phase]):.2f}**' for phase in shown) + ' |')
print('| committed transactions in the phase | ' + ' | '.join(f'{committed[phase]:,.0f}' for phase in shown) + ' |')
