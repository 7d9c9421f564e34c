// ClusterLoadTests.swift — the load generator of `trellis bench cluster`: many signers as genesis members of their
// own, and a lane that sends refused transactions again before anything newer (so a signer's nonce run never gets a
// gap behind a refusal).
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger
@testable import trellis

@Suite struct ClusterLoadTests {
    @Test func loadMembersAreHalfSuppliersHalfParticipants() {
        let (suppliers, participants) = ClusterSetup.loadMembers(signers: 257)
        #expect(suppliers.count == 128)
        #expect(participants.count == 129)
        #expect(Set(suppliers + participants).count == 257)
        let small = ClusterSetup.loadMembers(signers: 1)
        #expect(small.suppliers.count == 2 && small.participants.count == 2, "a supplier splits to the next one: at least two of each")
    }

    @Test func theTemplateWithLoadMembersMakesAValidGenesis() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-load-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let example = try TestnetBundle.findTemplate()
        let template = root + "/template.json"
        try ClusterSetup.writeTemplate(signers: 40, from: example, to: template)
        let plan = NodePlan(name: "node1", home: root + "/node1", p2pListen: "127.0.0.1:1", p2pAddress: "127.0.0.1:1", apiListen: "127.0.0.1:2", apiURL: "http://127.0.0.1:2")
        let (genesis, _) = try TestnetBundle.create(root: root, templatePath: template, plans: [plan])
        let exampleMembers = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: example))) as? [String: Any])?["members"] as? [Any]).count
        #expect(genesis.members.count == exampleMembers + 40)
        let supplier = try #require(genesis.members.first { $0.memberID == "load-s1" })
        #expect(supplier.roles == [.supplier])
        let participant = try #require(genesis.members.first { $0.memberID == "load-c20" })
        #expect(participant.roles == [.participant])
        // Every load member got a key file whose public key genesis registers.
        let key = try KeyFile.read(from: root + "/members/load-c20.key")
        #expect(participant.publicKeys == [key.publicKey])
    }

    @Test func aRefusedRunIsSentAgainBeforeAnythingNewer() throws {
        let signer = LoadSigner(memberID: "load-c1", key: SigningKey.generate(), nextNonce: 1,
                                assets: [.credits(id: "cblock-x", quantity: 1_000, recipients: ["load-c2"])], weight: 1)
        let queue = LoadQueue(signers: [signer], chainID: "test")
        queue.fill(to: 6, expiresAt: 100)
        let first = queue.take(4)
        #expect(first.count == 4)
        // The node admitted the first two and refused the last two for capacity.
        queue.putBack(Array(first[2...]))
        let next = queue.take(3)
        #expect(next.map(\.hash) == [first[2].hash, first[3].hash] + [next[2].hash])
        #expect(!first.map(\.hash).contains(next[2].hash))
        #expect(queue.sentCount == 5, "a transaction sent again is counted once")
        #expect(queue.available == 1)
        // Nonces stay consecutive in sending order.
        let nonces = try (first[..<2] + next).map { try Transaction.decode($0.bytes).body.nonce }
        #expect(nonces == [1, 2, 3, 4, 5])
    }

    /// A clock the test moves: a sleep until a deadline moves it there at once (never back), so a phase runs in no
    /// time. The lanes share it (one lane's sleep moves every lane's clock), so a test keeps every batch due before the
    /// phase's end.
    private static func virtualClock(at start: UInt64) -> (clock: LoadClock, time: LockedBox<UInt64>) {
        let time = LockedBox(start)
        return (LoadClock(now: { time.withLock { $0 } }, sleepUntil: { deadline in time.withLock { $0 = max($0, deadline) } }), time)
    }

    private static func sender(batch: Int) -> LoadSender {
        LoadSender(connections: [], batchSize: batch, sentAt: LockedBox([:]), firstSentAt: LockedBox([:]), errors: LockedBox([:]),
                   refusals: LockedBox([:]), maxOutstanding: 1_000_000)
    }

    private static func lane(_ member: String, _ count: Int) -> LoadQueue {
        let signer = LoadSigner(memberID: member, key: SigningKey.generate(), nextNonce: 1,
                                assets: [.credits(id: "cblock-\(member)", quantity: 1_000_000, recipients: ["load-c9"])], weight: 1)
        let queue = LoadQueue(signers: [signer], chainID: "test")
        queue.fill(to: count, expiresAt: 100)
        return queue
    }

    /// Issue 16 T7 (a): a phase that ends on time leaves up to a batch per lane refused, first sent in it. Those are
    /// sent again while the cluster drains, so the next phase — a short latency phase after a saturated one — sends
    /// its own transactions, not the leftovers (it measured 0 samples).
    @Test func refusedLeftoversAreSentAgainBeforeTheNextPhase() async throws {
        let queues = [Self.lane("load-c1", 40), Self.lane("load-c2", 40)]
        // The saturated phase: each lane's last batch of 10 was refused for capacity.
        var leftovers: [[Hash]] = []
        for queue in queues {
            _ = queue.take(10)
            let refused = queue.take(10)
            queue.putBack(refused)
            leftovers.append(refused.map(\.hash))
        }
        #expect(queues.map(\.refusedCount) == [10, 10])
        let posted = LockedBox<[Int: [Hash]]>([:])
        let answers = LockedBox(0)
        let (clock, time) = Self.virtualClock(at: 1_000)
        let sender = Self.sender(batch: 4)
        // The first answer refuses the last two of its batch again (and asks for a pause); the rest are admitted.
        let result = await sender.resendRefused(queues: queues, seconds: 60, clock: clock) { txs, lane in
            posted.withLock { $0[lane, default: []] += txs.map(\.hash) }
            let first = answers.withLock { n in n += 1; return n == 1 }
            return first ? BatchAnswer(admitted: txs.count - 2, refused: Array(txs.suffix(2)), pauseNanoseconds: 500_000_000)
                         : BatchAnswer(admitted: txs.count, refused: [], pauseNanoseconds: 0)
        }
        #expect(result.sent == 20 && result.left == 0)
        #expect(posted.withLock { $0.values.reduce(0) { $0 + $1.count } } == 22, "the two refused again were posted twice")
        #expect(queues.map(\.refusedCount) == [0, 0])
        #expect(queues.map(\.available) == [20, 20], "nothing new is sent while draining")
        for lane in 0..<2 {
            // In order; a refused pair sent again before anything after it.
            let sent = posted.withLock { $0[lane] ?? [] }
            var seen: [Hash] = []
            for h in sent where !seen.contains(h) { seen.append(h) }
            #expect(seen == leftovers[lane])
        }
        #expect(time.withLock { $0 } >= 1_000 + 500_000_000, "the node's pause was honoured")
        // The next phase (8 tx/s for 5 s over 2 lanes: 20 each, batches due every second up to 4.5 s) sends only
        // transactions first sent in it.
        let phase = LockedBox<[Hash]>([])
        let admitted = await sender.run(queues: queues, rate: 8, seconds: 5, clock: clock) { txs, _ in
            phase.withLock { $0 += txs.map(\.hash) }
            return BatchAnswer(admitted: txs.count, refused: [], pauseNanoseconds: 0)
        }
        #expect(admitted == 40)
        #expect(queues.map(\.available) == [0, 0])
        #expect(Set(phase.withLock { $0 }).isDisjoint(with: leftovers.flatMap { $0 }))
    }

    /// Issue 16 T7 (b): a phase lasts its seconds. Each lane's last batch is due one batch interval before the end (at
    /// 250 tx/s in batches of 500 over 4 lanes: at 0, 2, 4 and 6 s), and the step used to end when it was sent —
    /// a 6-s step whose window and CPU were measured over 6 s.
    @Test func aStepLastsItsSecondsWhenItsLanesHaveSentTheirShares() async throws {
        let queues = (1...4).map { Self.lane("load-c\($0)", 500) }
        let start: UInt64 = 5_000_000_000
        let (clock, time) = Self.virtualClock(at: start)
        let dueAt = LockedBox<[Int: UInt64]>([:])
        let admitted = await Self.sender(batch: 500).run(queues: queues, rate: 250, seconds: 8, clock: clock) { txs, lane in
            dueAt.withLock { $0[lane] = time.withLock { $0 } }
            return BatchAnswer(admitted: txs.count, refused: [], pauseNanoseconds: 0)
        }
        #expect(admitted == 2_000)
        #expect(queues.allSatisfy { $0.available == 0 })
        #expect((dueAt.withLock { $0 }.values.max() ?? 0) >= start + 6_000_000_000, "lane 3's batch is due at 6 s")
        #expect(time.withLock { $0 } == start + 8_000_000_000, "the step ends at 8 s, not when its last batch was sent")
    }

    /// A lane's last batch of fewer transactions than a batch is sent: 8 tx/s for 5 s over 4 lanes is 10 per lane, in
    /// batches of 3 and a last one of 1. Staggered by whole batches, lanes 2 and 3 had theirs due at 5.25 and 5.625 s —
    /// after the phase's end — and never sent them.
    @Test func aLanesLastPartialBatchIsDueBeforeThePhaseEnds() async throws {
        let queues = (1...4).map { Self.lane("load-c\($0)", 10) }
        let start: UInt64 = 7_000_000_000
        let (clock, time) = Self.virtualClock(at: start)
        let sent = LockedBox<[Int: [(at: UInt64, count: Int)]]>([:])
        let admitted = await Self.sender(batch: 3).run(queues: queues, rate: 8, seconds: 5, clock: clock) { txs, lane in
            sent.withLock { $0[lane, default: []].append((time.withLock { $0 }, txs.count)) }
            return BatchAnswer(admitted: txs.count, refused: [], pauseNanoseconds: 0)
        }
        #expect(admitted == 40)
        #expect(queues.allSatisfy { $0.available == 0 })
        let batches = sent.withLock { $0 }
        for lane in 0..<4 {
            #expect(batches[lane]?.map(\.count) == [3, 3, 3, 1])
            #expect((batches[lane]?.last?.at ?? .max) < start + 5_000_000_000, "lane \(lane)'s last batch within the phase")
        }
        // The schedule itself (the lanes share the virtual clock, so a post's time is the latest any lane slept to):
        // lane k's last 1-tx batch after 9 of each lane's and k of the round's 1-tx batches; full batches as before
        // (lane 3's second: 3 of each lane's and 3 batches of 3, 21 tx at 8 tx/s).
        for lane in 0..<4 {
            #expect(LoadSender.dueOffset(offered: 9, size: 1, lane: lane, lanes: 4, rate: 8) == UInt64(4_500_000_000 + lane * 125_000_000))
        }
        #expect(LoadSender.dueOffset(offered: 3, size: 3, lane: 3, lanes: 4, rate: 8) == 2_625_000_000)
        #expect(time.withLock { $0 } == start + 5_000_000_000)
    }

    /// A block event as node 1's stream sends it.
    private static func event(height: Int, transactions: [Hash]) -> Data {
        let hashes = transactions.map { "\"\($0.hex)\"" }.joined(separator: ",")
        return Data("event: block\ndata: {\"height\": \(height), \"transactions\": [\(hashes)]}\n\n".utf8)
    }

    @Test func latencyCountsFromTheFirstSendOfARefusedTransaction() {
        let sentAt = LockedBox<[Hash: UInt64]>([:]), firstSentAt = LockedBox<[Hash: UInt64]>([:])
        let monitor = BlockMonitor(sentAt: sentAt, firstSentAt: firstSentAt)
        let refusedThenSent = SHA256.hash(Array("a".utf8)), sentOnce = SHA256.hash(Array("b".utf8))
        let now = monotonicNanoseconds()
        // Refused at `now - 5 s` and sent again at `now - 1 s`; the other one sent once at `now - 2 s`.
        firstSentAt.withLock { $0 = [refusedThenSent: now - 5_000_000_000, sentOnce: now - 2_000_000_000] }
        sentAt.withLock { $0 = [refusedThenSent: now - 1_000_000_000, sentOnce: now - 2_000_000_000] }
        monitor.received(Self.event(height: 3, transactions: [refusedThenSent, sentOnce]))
        let latencies = monitor.latencies.withLock { $0 }.map(\.1).sorted()
        #expect(latencies.count == 2)
        #expect((latencies.first ?? 0) >= 2_000_000_000 && (latencies.first ?? 0) < 4_000_000_000)
        #expect((latencies.last ?? 0) >= 5_000_000_000, "from the first send, not the re-send after the refusal")
        // The re-send is kept beside the first send (latency-phase.tsv's last_sent_ms: the wait a refusal cost).
        let resent = monitor.latencies.withLock { $0 }.filter { $0.lastSent > $0.sent }
        #expect(resent.count == 1 && resent.first?.sent == now - 5_000_000_000 && resent.first?.lastSent == now - 1_000_000_000)
        #expect(sentAt.withLock { $0.isEmpty } && firstSentAt.withLock { $0.isEmpty })
        #expect(monitor.committedTotal == 2)
    }

    @Test func theLatencyPhaseWaitsForEmptyBlocksAfterTheBacklog() async {
        let monitor = BlockMonitor(sentAt: LockedBox([:]), firstSentAt: LockedBox([:]))
        let tx = SHA256.hash(Array("c".utf8))
        // Empty blocks before the wait began do not count.
        for h in 1...5 { monitor.received(Self.event(height: h, transactions: [])) }
        let waited = LockedBox(false)
        let fed = DispatchSemaphore(value: 0)
        // The feeder is a thread of its own, not a task: on a loaded machine the cooperative pool can be starved for
        // longer than the wait's budget, and a starved feeder task sent nothing while the waiter's deadline passed
        // (seen 0 on a full-suite run). It feeds until the wait is over, however late that is.
        let feeder = Thread {
            // A block still carrying the backlog, then empty ones until the wait is over (however late it began).
            monitor.received(Self.event(height: 6, transactions: [tx]))
            var h = 7
            while !waited.withLock({ $0 }) {
                usleep(10_000)
                monitor.received(Self.event(height: h, transactions: []))
                h += 1
            }
            fed.signal()
        }
        feeder.start()
        let seen = await monitor.waitForEmptyBlocks(3, seconds: 60)
        waited.withLock { $0 = true }
        fed.wait()
        #expect(seen >= 3)
        let blocks = monitor.blocks.withLock { $0 }
        #expect(blocks.contains { $0.height == 6 && $0.transactions == 1 })
        // Nothing committed: an empty-handed wait reports the run it saw when its budget ran out.
        let idle = BlockMonitor(sentAt: LockedBox([:]), firstSentAt: LockedBox([:]))
        #expect(await idle.waitForEmptyBlocks(3, seconds: 0.2) == 0)
    }
}


/// `--latency-rate` fixes the latency phase's load (to compare two builds at one load); the report then says so
/// instead of "half load". Half load names the rate the latency workload was kept up with, and the old definition's
/// figure (half of the sustained maximum) is reported beside it.
@Suite struct ClusterLatencyRateTests {
    @Test func theReportNamesAFixedLatencyRate() throws {
        var report = ClusterReport()
        report.latency = ["offered": 300, "batch": 4, "p50_ms": 500, "p99_ms": 900]
        report.halfLoad = ["sustained_tx_per_second": 600.0, "rate": 300.0]
        report.latencyOldDefinition = ["offered": 700, "batch": 9, "p50_ms": 1_016, "p99_ms": 3_574]
        let halfLoad = report.markdown()
        #expect(halfLoad.contains("commit latency p50 at half load (half of the latency workload's sustained 600 tx/s) (300 tx/s"))
        #expect(halfLoad.contains("the same at half of the sustained maximum (the definition before 2026-12-06: 700 tx/s in batches of 9) | p50 1016 ms, p99 3574 ms"))
        report.settings["latency_rate"] = 300.0
        let fixed = report.markdown()
        #expect(fixed.contains("commit latency p50 at a fixed rate (--latency-rate) (300 tx/s"))
        #expect(!fixed.contains("half load"))
    }

    @Test func theOptionParsesAndDefaultsToHalfTheMaximum() throws {
        #expect(try ClusterBench.parse([]).latencyRate == nil)
        #expect(try ClusterBench.parse(["--latency-rate", "250"]).latencyRate == 250)
    }
}

/// Every phase reports the nodes' CPU per committed transaction (and the cores the nodes and the generator used):
/// the cost per transaction grows with the cluster's state, and small blocks cost more than large ones.
@Suite struct ClusterPhaseCPUTests {
    @Test func theNodesCPUIsSummedAndDividedByWhatWasCommitted() {
        let before = [ProcessSample(cpuSeconds: 10, peakRSSBytes: 0), ProcessSample(cpuSeconds: 20, peakRSSBytes: 0)]
        let after = [ProcessSample(cpuSeconds: 14, peakRSSBytes: 0), ProcessSample(cpuSeconds: 22, peakRSSBytes: 0)]
        let cpu = PhaseCPU.between(nodes: before, after, generator: ProcessSample(cpuSeconds: 1, peakRSSBytes: 0), ProcessSample(cpuSeconds: 2, peakRSSBytes: 0),
                                   seconds: 8, committed: 3_000)
        #expect(cpu.nodeCores == 0.75)  // 6 CPU seconds in 8 s
        #expect(cpu.generatorCores == 0.125)
        #expect(cpu.nodeMillisecondsPerTransaction == 2)  // 6,000 ms for 3,000 transactions
        #expect(cpu.fields == ["node_cores": 0.75, "generator_cores": 0.13, "node_cpu_ms_per_tx": 2])
    }

    @Test func aPhaseWithoutCommitsHasNoPerTransactionFigureAndACounterThatWentBackCountsNothing() {
        let cpu = PhaseCPU.between(nodes: [ProcessSample(cpuSeconds: 5, peakRSSBytes: 0), ProcessSample(cpuSeconds: 9, peakRSSBytes: 0)],
                                   [ProcessSample(cpuSeconds: 0, peakRSSBytes: 0), ProcessSample(cpuSeconds: 10, peakRSSBytes: 0)],
                                   generator: nil, nil, seconds: 2, committed: 0)
        #expect(cpu.nodeCores == 0.5)
        #expect(cpu.generatorCores == 0)
        #expect(cpu.nodeMillisecondsPerTransaction == nil)
        #expect(cpu.fields["node_cpu_ms_per_tx"] == nil)
    }

    @Test func theReportListsEachPhasesCostPerTransaction() {
        var report = ClusterReport()
        report.machine.fields["cores"] = 2
        report.ramp = [["offered": 250, "committed": 220, "node_cpu_ms_per_tx": 0.8], ["offered": 500, "committed": 470, "node_cpu_ms_per_tx": 0.9]]
        report.overload = ["node_cpu_ms_per_tx_reference_1x_before_1_5x": 1.1, "node_cpu_ms_per_tx_reference_1x_after_1_5x": 1.4,
                           "node_cpu_ms_per_tx_reference_1x_after_3x": 1.6, "node_cpu_ms_per_tx_1_5x": 1.5, "node_cpu_ms_per_tx_3x": 1.9]
        report.sustained = ["node_cpu_ms_per_tx": 1.81]
        report.latency = ["offered": 480, "batch": 6, "p50_ms": 430, "p99_ms": 1_345, "node_cpu_ms_per_tx": 3.67, "node_cores": 1.82, "generator_cores": 0.08]
        let text = report.markdown()
        #expect(text.contains("Nodes' CPU per committed transaction (ms, all 4 nodes together): ramp 250 → 0.80, 500 → 0.90; the 1× steps in order 1.10, 1.40, 1.60; 1.5× 1.50, 3× 1.90; sustained 1.81; latency phase 3.67 — the nodes used 1.82 cores and the load generator 0.08 of the machine's 2 in that phase."))
        // A report without the figures (an older run's fields) leaves the line out.
        report.latency["node_cpu_ms_per_tx"] = nil
        #expect(!report.markdown().contains("Nodes' CPU per committed transaction"))
    }
}

/// `bench cluster` sizes node 1's store twice: as the run left it, and compacted after the nodes stopped (the figure
/// issue 16's ≤ 6× concerns). The compacted measure opens the stopped node's store, compacts every column family and
/// reports each one's SST bytes; a store still open elsewhere (a node not yet stopped) is an error, not a crash.
@Suite struct ClusterCompactedStoreTests {
    @Test func aStoppedNodesStoreIsCompactedAndSizedByColumnFamily() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-compacted-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try RocksChainStore(path: path)
            _ = try LedgerBenchmark.run(transactionsPerBlock: 50, blocks: 20, store: store) { _ in }
        }
        let asLeft = StorageReport.directoryBytes(path)
        let measured = try CompactedStore.measure(dataPath: path)
        #expect(Set(measured.sstBytesByColumnFamily.keys) == Set(RocksChainStore.columnFamilyNames))
        // After compaction every committed row is in SST files (the write-ahead log replayed into them), so the blocks'
        // and the state's families hold bytes, and the directory is what the files add up to plus RocksDB's small logs.
        #expect((measured.sstBytesByColumnFamily["blocks"] ?? 0) > 0 && (measured.sstBytesByColumnFamily["state"] ?? 0) > 0)
        let sst = measured.sstBytesByColumnFamily.values.reduce(0, +)
        #expect(measured.directoryBytes >= sst && measured.directoryBytes > 0)
        #expect(asLeft > 0)
        // The measured store still opens and holds its chain.
        let reopened = try RocksChainStore(path: path)
        #expect(try reopened.lastHeight() == 20)
    }

    @Test func theReportShowsBothFiguresAndTheFamiliesLargestFirst() {
        var report = ClusterReport()
        report.storage = ["bytes_per_transaction": 2_561, "raw_tx_bytes": 269, "ratio_to_raw": 9.52]
        #expect(!report.markdown().contains("compacted after the run"))  // not measured: no row
        report.storage["compacted_bytes_per_transaction"] = 1_345
        report.storage["compacted_ratio_to_raw"] = 5.0
        report.compactedBytesPerTransactionByFamily = ["state": 200, "blocks": 700, "txs": 300]
        #expect(report.markdown().contains("| RocksDB bytes per tx, node 1's store compacted after the run (all blocks kept) | 1345 B = 5.00× raw; by column family: blocks 700, txs 300, state 200 | ≤ 6× (issue 16) |"))
    }

    @Test func aStoreStillOpenIsRefusedWithAnError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-compacted-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let running = try RocksChainStore(path: path)
        #expect(throws: (any Error).self) { try CompactedStore.measure(dataPath: path) }
        _ = running
    }
}
