// ApplicationTiming.swift — the node's ledger as its replica sees it: `LedgerApplication` with each block build and
// validation timed, so that `BlockBudget` learns what this node executes per second and the log shows slow blocks.
import CoreMetrics
import Dispatch
import Logging
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

struct TimedLedgerApplication: ConsensusApplication {
    let ledger: LedgerApplication
    let budget: BlockBudget
    let logger: Logger
    let metrics: NodeMetrics
    /// The per-height timeline of the debug log (shared with the host).
    let timeline: HeightTimelineRecorder
    /// The store's walked tree commits already logged (`WalkedTreeCommits`).
    var walkedTreeCommits = WalkedTreeCommits()

    var engine: LedgerEngine { ledger.engine }
    var committedHeight: UInt64 { ledger.committedHeight }

    func validatorSet(forHeight height: UInt64) throws(ApplicationError) -> ValidatorSet { try ledger.validatorSet(forHeight: height) }

    mutating func buildBlock(_ request: BuildRequest, time: Int64) throws(ApplicationError) -> Block {
        let started = DispatchTime.now().uptimeNanoseconds
        let schedule = timeline.threadSchedule()
        budget.building(round: request.round)  // the reap inside the build asks the budget for this round's size
        let block = try ledger.buildBlock(request, time: time)
        let elapsed = DispatchTime.now().uptimeNanoseconds - started
        budget.record(transactions: block.transactions.count, nanoseconds: elapsed, build: true)
        metrics.blockBuild.recordNanoseconds(Int64(clamping: elapsed))
        timeline.built(height: request.height, nanoseconds: elapsed, from: schedule)
        logger.debug("built proposal", metadata: ["height": "\(request.height)", "round": "\(request.round)", "txs": "\(block.transactions.count)", "ms": "\(elapsed / 1_000_000)"])
        return block
    }

    func validate(_ block: Block) throws(ApplicationError) {
        let started = DispatchTime.now().uptimeNanoseconds
        let schedule = timeline.threadSchedule()
        var outcome = "invalid"  // until `ledger.validate` returns
        defer {
            let elapsed = DispatchTime.now().uptimeNanoseconds - started
            budget.record(transactions: block.transactions.count, nanoseconds: elapsed)
            metrics.blockValidate.recordNanoseconds(Int64(clamping: elapsed))
            timeline.validated(height: block.header.height, nanoseconds: elapsed, from: schedule)
            logger.debug("validated proposal", metadata: ["height": "\(block.header.height)", "txs": "\(block.transactions.count)", "ms": "\(elapsed / 1_000_000)", "outcome": "\(outcome)"])
        }
        try ledger.validate(block)
        outcome = "valid"
    }

    mutating func commit(_ block: Block, certificate: CommitCertificate) throws(ApplicationError) {
        let started = DispatchTime.now().uptimeNanoseconds
        let schedule = timeline.threadSchedule()
        budget.decided()
        timeline.decided(height: block.header.height, transactions: block.transactions.count)
        defer {
            let elapsed = DispatchTime.now().uptimeNanoseconds - started
            budget.recordStore(transactions: block.transactions.count, nanoseconds: elapsed)
            timeline.stored(height: block.header.height, from: schedule)
            metrics.blockStoreWrite.recordNanoseconds(Int64(clamping: elapsed))
            logger.debug("stored block", metadata: ["height": "\(block.header.height)", "ms": "\(elapsed / 1_000_000)"])
        }
        try ledger.commit(block, certificate: certificate)
        if let store = engine.store as? RocksChainStore, walkedTreeCommits.shouldLog(total: store.treeCommitsWalked) {
            logger.warning("store: a block's tree was committed by walking the stored tree, not from the positions its execution recorded (the same rows, more work; not expected on a node: trellis_store_tree_commits_walked_total counts them, this line repeats at most every \(WalkedTreeCommits.logEvery))",
                           metadata: ["height": "\(block.header.height)", "walked_commits": "\(store.treeCommitsWalked)"])
        }
    }

    func committedBlock(at height: UInt64) -> (block: Block, certificate: CommitCertificate)? { ledger.committedBlock(at: height) }
    func hasRecordedEvidence(against validator: PublicKey, height: UInt64) -> Bool { ledger.hasRecordedEvidence(against: validator, height: height) }
}

/// When to log that the store committed a tree by the walk (`RocksChainStore.treeCommitsWalked`): the first time, then
/// at most once per `logEvery` more — never a line per block, whatever goes wrong.
struct WalkedTreeCommits {
    static let logEvery = 1_000
    /// The total at the last line logged (0: none yet).
    private(set) var logged = 0

    /// Whether a line is due now that the store's total is `total` (and records it when it is).
    mutating func shouldLog(total: Int) -> Bool {
        guard total > logged, logged == 0 || total >= logged + Self.logEvery else { return false }
        logged = total
        return true
    }
}
