// GrownStateBenchmark.swift — the block commit on a state that grows with the chain, for `trellis bench ledger
// --grow-transactions N` (issue 16: a node's commit cost per transaction grows with the chain).
//
// The load is `bench cluster`'s: chains of certificate split transfers, each spending the remainder its predecessor
// returned to the signer, so every transaction leaves new live keys (two children and their index entries) and the
// state, the tree and the transaction index grow with the chain. `chains` suppliers each hold one certificate and
// sign one chain; a block takes the next transaction of each chain in turn. The state is grown in blocks of
// `growBlockSize` on a RocksDB store with the default window; at the start and after every `measureEvery` grown
// transactions, blocks of each measured size (interleaved: 50, 150, 500, 50, …) are committed and timed, with the
// store's own split of each commit (`CommitPhases`) and the CPU the block cost. Signatures are made beforehand and
// not verified (as `LedgerBenchmark`). Benchmarks, not tests: numbers depend on the machine.
//
// The measured blocks' composition: by default they are drawn like the growth's, the next transaction of each of the
// `chains` chains in turn, so a block larger than `chains` holds runs of chained transactions of one signer (what a
// node's mempool reaps at saturation: the outputs one creates and the next spends never reach the store). With
// `measureSigners` they are drawn in turn from that many signers (the growth's chains and more), so a block of at
// most that many transactions holds ONE transaction per signer — the composition of `bench cluster`'s latency phase,
// whose generator sends round-robin over 256 signers (docs/PERFORMANCE.md, "The tree's per-key cost (thirteenth)"):
// more distinct keys and tree paths per transaction.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisStore

/// One measured block size at one point of the growth.
public struct GrownStateSample: Sendable {
    public let grownTransactions: Int
    public let liveStateKeys: Int
    public let blockSize: Int
    public let blocks: Int
    /// Commit seconds of each block (the engine's commit: certificate check, the store's synced batch).
    public let commitSeconds: [Double]
    /// State keys the blocks changed, per block (median).
    public let stateKeysPerBlock: Int
    /// The store's split of these blocks' commits, summed.
    public let phases: CommitPhases
    /// Pages read from RocksDB by these blocks' commits (not by their execution), per block.
    public let commitPageReadsPerBlock: Double
    /// Pages read from RocksDB while executing these blocks (the tree update), per block.
    public let buildPageReadsPerBlock: Double
    public let buildSecondsMedian: Double
    /// Distinct signers per block (median): the block size when every transaction has its own signer.
    public let signersPerBlock: Int
    /// CPU seconds of the benchmark's thread in the blocks' builds (execution and the tree update) and commits,
    /// summed over the blocks.
    public let buildCPUSeconds: Double
    public let commitCPUSeconds: Double
    /// CPU seconds of the whole process over the blocks (RocksDB's flushes and compactions included), summed; the
    /// tree updates re-run for `treeUpdateSecondsMedian` excluded.
    public let processCPUSeconds: Double
    /// The tree update of each block's changes alone (`SparseMerkleTree.update` on the store), re-run after the build
    /// on the pages the build left in the cache: the walk and the new nodes' hashes, without execution or page reads.
    public let treeUpdateSecondsMedian: Double

    /// The benchmark thread's CPU per transaction in the builds and commits.
    public var cpuSecondsPerTransaction: Double { (buildCPUSeconds + commitCPUSeconds) / Double(blocks * blockSize) }
    public var processCPUSecondsPerTransaction: Double { processCPUSeconds / Double(blocks * blockSize) }

    public var commitSecondsMedian: Double { LedgerBenchmark.median(commitSeconds) }
    public func commitSecondsPercentile(_ p: Double) -> Double { LedgerBenchmark.percentile(commitSeconds, p) }
}

/// Commit seconds of the growth blocks over one stretch of the growth.
public struct GrownStateStretch: Sendable {
    public let fromTransactions: Int
    public let toTransactions: Int
    public let commitSecondsMedian: Double
    public let commitSecondsP99: Double
    public let phases: CommitPhases
    public let commitPageReadsPerTransaction: Double
    /// CPU seconds of RocksDB's flush and compaction threads over the stretch (`backgroundCPUSeconds`).
    public let flushCPUSeconds: Double
    public let compactionCPUSeconds: Double
    /// What the flushes and compactions of the tree's pages (the `nodes` column family), and of every column family,
    /// wrote and read over the stretch (`Database.backgroundWrites(of:)`; zero where RocksDB does not say).
    public let nodesBackgroundWrites: BackgroundWrites
    public let allBackgroundWrites: BackgroundWrites
}

public struct GrownStateResult: Sendable {
    public let chains: Int
    public let growBlockSize: Int
    public let samples: [GrownStateSample]
    public let stretches: [GrownStateStretch]
    /// Per measurement point: the least-squares line commit seconds = fixed + perKey × state keys changed, over the
    /// measured sizes' medians.
    public var fits: [(grownTransactions: Int, fixedSeconds: Double, perKeySeconds: Double)] {
        var out: [(Int, Double, Double)] = []
        for grown in Set(samples.map(\.grownTransactions)).sorted() {
            let points = samples.filter { $0.grownTransactions == grown }.map { (Double($0.stateKeysPerBlock), $0.commitSecondsMedian) }
            guard points.count >= 2 else { continue }
            let n = Double(points.count)
            let mx = points.reduce(0) { $0 + $1.0 } / n, my = points.reduce(0) { $0 + $1.1 } / n
            let sxx = points.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }, sxy = points.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
            guard sxx > 0 else { continue }
            let slope = sxy / sxx
            out.append((grown, my - slope * mx, slope))
        }
        return out
    }
}

public enum GrownStateBenchmark {
    public static let defaultChains = 50
    public static let defaultGrowBlockSize = 500
    /// The most signers the measured blocks draw from (`measureSigners`): each is a genesis member with a certificate.
    public static let maxSigners = 4_096

    /// Grows the state of `store` (a fresh store) by `growTransactions` chained splits in blocks of `growBlockSize`,
    /// measuring `measureBlocks` blocks of each of `sizes` at the start and after every `measureEvery` grown
    /// transactions (and at the end). `progress` is called with the grown transactions after each growth block.
    /// With `measureSigners`, the measured blocks take their transactions in turn from that many signers (at least
    /// `chains`: the growth's and more), one per signer in a block of at most that many.
    public static func run(growTransactions: Int, measureEvery: Int, sizes: [Int], measureBlocks: Int, chains: Int = defaultChains,
                           growBlockSize: Int = defaultGrowBlockSize, measureSigners: Int? = nil, store: RocksChainStore,
                           progress: ((Int) -> Void)? = nil) throws -> GrownStateResult {
        precondition(growTransactions >= 0 && measureEvery > 0 && measureBlocks > 0 && chains > 0 && growBlockSize > 0, "benchmark sizes must be positive")
        precondition(!sizes.isEmpty && sizes.allSatisfy { $0 > 0 && $0 <= Limits.maxTransactionsPerBlock }, "block sizes 1…\(Limits.maxTransactionsPerBlock)")
        precondition(measureSigners.map { $0 >= chains && $0 <= maxSigners } ?? true, "the measured blocks' signers: the growth's \(chains) chains and more, at most \(maxSigners)")
        var bench = try Chain(chains: measureSigners ?? chains, store: store)
        let growthChains = chains
        var samples: [GrownStateSample] = []
        var stretches: [GrownStateStretch] = []
        var grown = 0
        func measure() throws {
            var commits = [[Double]](repeating: [], count: sizes.count), builds = [[Double]](repeating: [], count: sizes.count)
            var keys = [[Int]](repeating: [], count: sizes.count)
            var phases = [CommitPhases](repeating: CommitPhases(), count: sizes.count)
            var commitReads = [Int](repeating: 0, count: sizes.count), buildReads = [Int](repeating: 0, count: sizes.count)
            var signers = [[Int]](repeating: [], count: sizes.count), updates = [[Double]](repeating: [], count: sizes.count)
            var buildCPU = [Double](repeating: 0, count: sizes.count), commitCPU = [Double](repeating: 0, count: sizes.count)
            var processCPU = [Double](repeating: 0, count: sizes.count)
            let liveKeys = try liveStateKeys(store)
            for _ in 0..<measureBlocks {
                for (i, size) in sizes.enumerated() {
                    let processBefore = CPUTime.process()
                    let block = try bench.commitBlock(size, signers: measureSigners ?? growthChains, measuring: true)
                    processCPU[i] += CPUTime.process() - processBefore - block.treeUpdateCPUSeconds
                    signers[i].append(block.signers)
                    updates[i].append(block.treeUpdateSeconds)
                    buildCPU[i] += block.buildCPUSeconds
                    commitCPU[i] += block.commitCPUSeconds
                    commits[i].append(block.commitSeconds)
                    builds[i].append(block.buildSeconds)
                    keys[i].append(block.stateKeys)
                    let p = block.phases
                    phases[i].commits += p.commits
                    phases[i].pruneSeconds += p.pruneSeconds
                    phases[i].valueHistorySeconds += p.valueHistorySeconds
                    phases[i].treeWalkSeconds += p.treeWalkSeconds
                    phases[i].pageEncodeSeconds += p.pageEncodeSeconds
                    phases[i].otherSeconds += p.otherSeconds
                    phases[i].writeSeconds += p.writeSeconds
                    phases[i].pageReadSeconds += p.pageReadSeconds
                    phases[i].batchBytes += p.batchBytes
                    phases[i].batchOperations += p.batchOperations
                    for level in 0..<CommitPhases.pageLevels {
                        phases[i].pageRowsByLevel[level] += p.pageRowsByLevel[level]
                        phases[i].pageBytesByLevel[level] += p.pageBytesByLevel[level]
                    }
                    commitReads[i] += block.commitPageReads
                    buildReads[i] += block.buildPageReads
                }
            }
            for (i, size) in sizes.enumerated() {
                samples.append(GrownStateSample(grownTransactions: grown, liveStateKeys: liveKeys, blockSize: size, blocks: measureBlocks, commitSeconds: commits[i],
                                                stateKeysPerBlock: keys[i].sorted()[keys[i].count / 2], phases: phases[i],
                                                commitPageReadsPerBlock: Double(commitReads[i]) / Double(measureBlocks),
                                                buildPageReadsPerBlock: Double(buildReads[i]) / Double(measureBlocks),
                                                buildSecondsMedian: LedgerBenchmark.median(builds[i]), signersPerBlock: signers[i].sorted()[signers[i].count / 2],
                                                buildCPUSeconds: buildCPU[i], commitCPUSeconds: commitCPU[i], processCPUSeconds: processCPU[i],
                                                treeUpdateSecondsMedian: LedgerBenchmark.median(updates[i])))
            }
        }
        try measure()
        var stretchStart = 0
        var stretchCommits: [Double] = []
        var stretchPhases = CommitPhases()
        var stretchReads = 0
        var background = backgroundCPUSeconds()
        var writes = backgroundWrites(store)
        while grown < growTransactions {
            let size = min(growBlockSize, growTransactions - grown)
            let block = try bench.commitBlock(size, signers: growthChains, measuring: false)
            grown += size
            stretchCommits.append(block.commitSeconds)
            stretchPhases = stretchPhases.adding(block.phases)
            stretchReads += block.commitPageReads
            progress?(grown)
            if grown % measureEvery == 0 || grown == growTransactions {
                let now = backgroundCPUSeconds()
                let nowWrites = backgroundWrites(store)
                stretches.append(GrownStateStretch(fromTransactions: stretchStart, toTransactions: grown, commitSecondsMedian: LedgerBenchmark.median(stretchCommits),
                                                   commitSecondsP99: LedgerBenchmark.percentile(stretchCommits, 99), phases: stretchPhases,
                                                   commitPageReadsPerTransaction: Double(stretchReads) / Double(grown - stretchStart),
                                                   flushCPUSeconds: now.flush - background.flush, compactionCPUSeconds: now.compaction - background.compaction,
                                                   nodesBackgroundWrites: nowWrites.nodes.since(writes.nodes), allBackgroundWrites: nowWrites.all.since(writes.all)))
                stretchStart = grown
                stretchCommits = []
                stretchPhases = CommitPhases()
                stretchReads = 0
                try measure()
                background = backgroundCPUSeconds()
                writes = backgroundWrites(store)
            }
        }
        return GrownStateResult(chains: chains, growBlockSize: growBlockSize, samples: samples, stretches: stretches)
    }

    /// CPU seconds this process's RocksDB background threads have used so far, by pool: flushes (`rocksdb:high`)
    /// and compactions (`rocksdb:low`), from Linux's /proc/self/task/*/stat; zero where that is not there.
    static func backgroundCPUSeconds() -> (flush: Double, compaction: Double) {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return (0, 0) }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var flush = 0.0, compaction = 0.0
        for task in tasks {
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"), stat.index(after: close) < stat.endIndex else { continue }
            let name = stat[stat.index(after: open)..<close]
            // After the name: state (field 3) … utime (14) and stime (15), in clock ticks.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            if name.hasPrefix("rocksdb:high") { flush += (user + system) / ticks } else if name.hasPrefix("rocksdb:low") { compaction += (user + system) / ticks }
        }
        return (flush, compaction)
    }

    /// What the flushes and compactions of the `nodes` column family and of all of them wrote and read so far.
    static func backgroundWrites(_ store: RocksChainStore) -> (nodes: BackgroundWrites, all: BackgroundWrites) {
        let zero = BackgroundWrites(flushedBytes: 0, compactionReadBytes: 0, compactionWrittenBytes: 0)
        var all = zero, nodes = zero
        for family in store.database.columnFamilies.values {
            guard let writes = store.database.backgroundWrites(of: family) else { continue }
            all.flushedBytes += writes.flushedBytes
            all.compactionReadBytes += writes.compactionReadBytes
            all.compactionWrittenBytes += writes.compactionWrittenBytes
            if family == store.nodes { nodes = writes }
        }
        return (nodes, all)
    }

    /// Keys of the latest state (one pass over the `state` column family).
    static func liveStateKeys(_ store: RocksChainStore) throws -> Int {
        let iterator = store.database.iterate(store.state)
        var count = 0
        while iterator.next() != nil { count += 1 }
        if let error = iterator.error { throw error }
        return count
    }

    /// One committed block's figures.
    struct CommittedBlock {
        let buildSeconds: Double
        let commitSeconds: Double
        let stateKeys: Int
        let phases: CommitPhases
        let commitPageReads: Int
        let buildPageReads: Int
        /// Distinct signers of the block's transactions.
        let signers: Int
        let buildCPUSeconds: Double
        let commitCPUSeconds: Double
        /// The re-run tree update's wall and thread CPU time (zero unless measuring).
        let treeUpdateSeconds: Double
        let treeUpdateCPUSeconds: Double
    }

    /// The chain being grown: one signer and one certificate chain per supplier.
    struct Chain {
        let store: RocksChainStore
        let engine: LedgerEngine
        let validator: SigningKey
        let suppliers: [(id: String, key: SigningKey)]
        /// Per chain: the certificate it spends next, its face, the signer's next nonce.
        var heads: [(cert: String, face: UInt64, nonce: UInt64)]
        /// Per number of chains drawn from (the first that many): the chain whose transaction comes next.
        var next: [Int: Int] = [:]
        var lastCommit: CommitCertificate?
        static let genesisTime: Int64 = 1_767_225_600
        /// Each chain's certificate: enough for every split a long run makes (each sends 1 away).
        static let face: UInt64 = 1 << 40

        init(chains: Int, store: RocksChainStore) throws {
            self.store = store
            func key(_ name: String) throws -> SigningKey { try SigningKey(seed: SHA256.hash(Array("bench-grown/\(name)".utf8)).bytes) }
            validator = try key("validator")
            let core = try key("core"), bank = try key("bank"), gov = try key("gov")
            suppliers = try (0..<chains).map { ("s\($0)", try key("s\($0)")) }
            var specs = [MemberSpec(memberID: "core", legalName: "core", registrationNo: "", publicKeys: [core.publicKey], roles: [.coreEnterprise]),
                         MemberSpec(memberID: "bank", legalName: "bank", registrationNo: "", publicKeys: [bank.publicKey], roles: [.financier]),
                         MemberSpec(memberID: "gov", legalName: "gov", registrationNo: "", publicKeys: [gov.publicKey], roles: [.governor])]
            specs += suppliers.map { MemberSpec(memberID: $0.id, legalName: $0.id, registrationNo: "", publicKeys: [$0.key.publicKey], roles: [.supplier]) }
            let genesis = try GenesisDocument(chainID: "bench", genesisTime: Self.genesisTime, members: specs,
                                              validators: [GenesisValidator(name: "v1", validator: Validator(publicKey: validator.publicKey, votingPower: 1, p2pAddress: "127.0.0.1:1"))],
                                              parameters: Parameters(governanceQuorum: 1))
            engine = try LedgerEngine(genesis: genesis, store: store)
            heads = []
            var coreNonce: UInt64 = 0
            func signed(_ signer: String, _ key: SigningKey, nonce: UInt64, _ kind: String, _ payload: [UInt8], cosigners: [(String, SigningKey)] = []) -> Transaction {
                let body = TransactionBody(chainID: "bench", kind: kind, payload: payload, signer: signer, nonce: nonce,
                                           expiresAtHeight: engine.currentHeight + 10, cosigners: cosigners.map(\.0))
                return Transaction.signed(body, by: [(signer, key)] + cosigners)
            }
            let expiry = Self.genesisTime + 10 * 365 * 86_400
            _ = try commit([signed("bank", bank, nonce: 1, "credit_line.set",
                                   CreditLineSetPayload(lineID: "line", core: "core", limit: Self.face * UInt64(chains), expiry: expiry).canonicalBytes,
                                   cosigners: [("core", core)])])
            let issues = suppliers.map { supplier -> Transaction in
                coreNonce += 1
                return signed("core", core, nonce: coreNonce, "certificate.issue",
                              CertificateIssuePayload(creditLineID: "line", holder: supplier.id, face: Self.face, maturity: Self.genesisTime + 300 * 86_400,
                                                      tradeRef: TradeRef(contractNo: "PO", invoiceKeys: ["INV-\(supplier.id)"], docHash: SHA256.hash(Array(supplier.id.utf8)))).canonicalBytes)
            }
            let issued = try commit(issues)
            let ids = issued.receipts.flatMap { r -> [String] in if case .ok(let ids) = r.outcome { return ids } else { return [] } }
            precondition(ids.count == chains, "setup: \(ids.count) of \(chains) certificates issued")
            _ = try commit(zip(suppliers, ids).map { signed($0.id, $0.key, nonce: 1, "certificate.accept", CertificateRefPayload(certID: $1).canonicalBytes) })
            heads = ids.map { ($0, Self.face, 2) }
        }

        /// Builds and commits one block (setup: no timing), returning its execution result.
        private mutating func commit(_ transactions: [Transaction]) throws -> ExecutionResult {
            let height = engine.currentHeight + 1
            let built = try engine.proposeBlock(height: height, round: 0, time: Self.genesisTime + Int64(height), proposer: validator.publicKey,
                                                lastCommit: lastCommit, transactions: transactions, signatures: .allVerified)
            let certificate = self.certificate(built.block)
            try engine.commit(built.block, certificate: certificate)
            lastCommit = certificate
            return built.result
        }

        private func certificate(_ block: Block) -> CommitCertificate {
            let height = block.header.height
            let vote = Vote.signed(VoteBody(type: .precommit, height: height, round: 0, blockID: block.hash, validator: validator.publicKey), chainID: "bench", key: validator)
            return CommitCertificate(height: height, round: 0, blockID: block.hash, precommits: [vote])
        }

        /// The next `count` split transfers of the first `signers` chains, one chain after another (each chain's in
        /// nonce order), signed on every core.
        private mutating func nextTransactions(_ count: Int, signers: Int) -> [Transaction] {
            precondition(signers > 0 && signers <= heads.count, "transactions of \(signers) of \(heads.count) chains")
            let expires = engine.currentHeight + 11
            var perChain = [Int](repeating: 0, count: heads.count)
            var order: [Int] = []
            order.reserveCapacity(count)
            var cursor = next[signers] ?? 0
            for _ in 0..<count {
                order.append(cursor)
                perChain[cursor] += 1
                cursor = (cursor + 1) % signers
            }
            next[signers] = cursor
            // Each chain's splits depend on the hash of the one before (the remainder's id): sign chains in parallel.
            let heads = self.heads, suppliers = self.suppliers, counts = perChain
            let signed = SignedChains(count: heads.count)
            DispatchQueue.concurrentPerform(iterations: heads.count) { c in
                var (cert, face, nonce) = heads[c]
                var txs: [Transaction] = []
                txs.reserveCapacity(counts[c])
                let other = suppliers[(c + 1) % suppliers.count].id
                for _ in 0..<counts[c] {
                    let payload = CertificateSplitTransferPayload(certID: cert, outputs: [SplitOutput(to: other, amount: 1), SplitOutput(to: suppliers[c].id, amount: face - 1)])
                    let body = TransactionBody(chainID: "bench", kind: "certificate.split_transfer", payload: payload.canonicalBytes, signer: suppliers[c].id,
                                               nonce: nonce, expiresAtHeight: expires)
                    let tx = Transaction.signed(body, by: [(suppliers[c].id, suppliers[c].key)])
                    txs.append(tx)
                    cert = ExecutionContext.derivedID("cert", txHash: tx.hash, index: 1)
                    face -= 1
                    nonce += 1
                }
                signed.set(c, txs, head: (cert, face, nonce))
            }
            var cursors = [Int](repeating: 0, count: heads.count)
            var out: [Transaction] = []
            out.reserveCapacity(count)
            let chains = signed.take()
            for c in order {
                out.append(chains[c].txs[cursors[c]])
                cursors[c] += 1
            }
            for c in 0..<heads.count { self.heads[c] = chains[c].head }
            return out
        }

        /// Builds, times and commits a block of `count` splits of the first `signers` chains; every one must be
        /// accepted. `measuring`: the tree update is then re-run alone and timed (`treeUpdateSeconds`).
        mutating func commitBlock(_ count: Int, signers: Int, measuring: Bool) throws -> CommittedBlock {
            let transactions = nextTransactions(count, signers: signers)
            let clock = ContinuousClock()
            let height = engine.currentHeight + 1
            let readsBefore = store.treePagesRead
            let cpuStart = CPUTime.thread()
            let start = clock.now
            let built = try engine.proposeBlock(height: height, round: 0, time: Self.genesisTime + Int64(height), proposer: validator.publicKey,
                                                lastCommit: lastCommit, transactions: transactions, signatures: .allVerified)
            let buildSeconds = LedgerBenchmark.seconds(clock.now - start)
            let buildCPU = CPUTime.thread() - cpuStart
            let accepted = built.result.receipts.count { $0.isOK }
            guard accepted == count else { throw GrownStateError.rejected(height: height, accepted: accepted, of: count) }
            let readsBuilt = store.treePagesRead
            var updateSeconds = 0.0, updateCPU = 0.0
            // A measured block's tree update is run once more, alone, on the pages the build left cached (the walk and
            // the new nodes' hashes without execution); its page reads (few: the build just read the same paths) are
            // counted in neither the build's nor the commit's.
            if measuring {
                let updateCPUStart = CPUTime.thread()
                let updateStart = clock.now
                let update = try SparseMerkleTree.update(root: engine.stateRoot, changes: built.result.stateChanges, source: store)
                updateSeconds = LedgerBenchmark.seconds(clock.now - updateStart)
                updateCPU = CPUTime.thread() - updateCPUStart
                precondition(update.root == built.result.stateRoot, "the re-run tree update computed another root")
            }
            let readsBeforeCommit = store.treePagesRead
            let certificate = self.certificate(built.block)
            let phasesBefore = store.commitPhases
            let commitCPUStart = CPUTime.thread()
            let commitStart = clock.now
            try engine.commit(built.block, certificate: certificate)
            let commitSeconds = LedgerBenchmark.seconds(clock.now - commitStart)
            let commitCPU = CPUTime.thread() - commitCPUStart
            lastCommit = certificate
            return CommittedBlock(buildSeconds: buildSeconds, commitSeconds: commitSeconds, stateKeys: built.result.stateChanges.count,
                                  phases: store.commitPhases.since(phasesBefore), commitPageReads: store.treePagesRead - readsBeforeCommit,
                                  buildPageReads: readsBuilt - readsBefore, signers: Set(transactions.map(\.body.signer)).count,
                                  buildCPUSeconds: buildCPU, commitCPUSeconds: commitCPU, treeUpdateSeconds: updateSeconds, treeUpdateCPUSeconds: updateCPU)
        }
    }

    /// The chains signed in parallel (one slot per chain).
    final class SignedChains: @unchecked Sendable {
        private let lock = NSLock()
        private var chains: [(txs: [Transaction], head: (cert: String, face: UInt64, nonce: UInt64))]

        init(count: Int) { chains = Array(repeating: ([], ("", 0, 0)), count: count) }

        func set(_ index: Int, _ txs: [Transaction], head: (cert: String, face: UInt64, nonce: UInt64)) {
            lock.lock()
            chains[index] = (txs, head)
            lock.unlock()
        }

        func take() -> [(txs: [Transaction], head: (cert: String, face: UInt64, nonce: UInt64))] {
            lock.lock()
            defer { lock.unlock() }
            return chains
        }
    }
}

/// CPU time from the kernel's clocks (Linux, and any POSIX system with per-thread clocks); 0 where unavailable.
enum CPUTime {
    /// CPU seconds the calling thread has used.
    static func thread() -> Double { read(CLOCK_THREAD_CPUTIME_ID) }
    /// CPU seconds every thread of the process has used.
    static func process() -> Double { read(CLOCK_PROCESS_CPUTIME_ID) }

    private static func read(_ clock: clockid_t) -> Double {
        var ts = timespec()
        guard clock_gettime(clock, &ts) == 0 else { return 0 }
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

public enum GrownStateError: Error, CustomStringConvertible {
    case rejected(height: UInt64, accepted: Int, of: Int)

    public var description: String {
        switch self {
        case .rejected(let height, let accepted, let count): return "block \(height): \(accepted) of \(count) split transfers accepted"
        }
    }
}

extension CommitPhases {
    /// The sum of two readings' differences.
    public func adding(_ other: CommitPhases) -> CommitPhases {
        var s = self
        s.commits += other.commits
        s.pruneSeconds += other.pruneSeconds
        s.valueHistorySeconds += other.valueHistorySeconds
        s.treeWalkSeconds += other.treeWalkSeconds
        s.pageEncodeSeconds += other.pageEncodeSeconds
        s.otherSeconds += other.otherSeconds
        s.writeSeconds += other.writeSeconds
        s.pageReadSeconds += other.pageReadSeconds
        s.batchBytes += other.batchBytes
        s.batchOperations += other.batchOperations
        for level in 0..<Self.pageLevels {
            s.pageRowsByLevel[level] += other.pageRowsByLevel[level]
            s.pageBytesByLevel[level] += other.pageBytesByLevel[level]
        }
        return s
    }
}
