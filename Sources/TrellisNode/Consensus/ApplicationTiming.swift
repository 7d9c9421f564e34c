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
    }

    func committedBlock(at height: UInt64) -> (block: Block, certificate: CommitCertificate)? { ledger.committedBlock(at: height) }
    func hasRecordedEvidence(against validator: PublicKey, height: UInt64) -> Bool { ledger.hasRecordedEvidence(against: validator, height: height) }
}
