// LedgerApplication.swift — the real ledger (LedgerEngine) behind `ConsensusApplication`, for the node's replica and
// the simulator.
//
// Block building reaps transactions from a caller-supplied source (the node's mempool), clamps the proposer's
// clock so header times strictly increase, and reports the transactions the engine dropped (bad envelope or
// nonce) so the source can evict them. Signatures the source already verified are not verified again
// (`signaturePolicy`). Errors map to `ApplicationError`: a rule failure is `.invalidBlock` (vote nil), anything
// else is `.storage` (the node must stop).
import TrellisCrypto
import TrellisLedger

public final class LedgerApplication: ConsensusApplication {
    public let engine: LedgerEngine
    /// Transactions for the next block, at most `maxCount` (the mempool's reap).
    public var transactionSource: (_ maxCount: Int) -> [Transaction]
    /// Called with transactions the engine refused while building (never includable as they are).
    public var onDropped: ([Transaction]) -> Void
    /// How block execution treats signatures (e.g. `.verified` with the mempool's cache).
    public var signaturePolicy: SignaturePolicy
    public var maxBlockTransactions: Int

    public init(engine: LedgerEngine, maxBlockTransactions: Int = 5_000, signaturePolicy: SignaturePolicy = .verify,
                transactionSource: @escaping (_ maxCount: Int) -> [Transaction] = { _ in [] }, onDropped: @escaping ([Transaction]) -> Void = { _ in }) {
        self.engine = engine
        self.maxBlockTransactions = maxBlockTransactions
        self.signaturePolicy = signaturePolicy
        self.transactionSource = transactionSource
        self.onDropped = onDropped
    }

    public var committedHeight: UInt64 { engine.currentHeight }

    /// The set in force at `height`. For the next height it also checks that this build implements the rules in
    /// force there (`.unsupportedRules` otherwise), so the replica stops when the height starts, not only when it
    /// proposes or validates (a validator that never sees a proposal would otherwise wait forever).
    public func validatorSet(forHeight height: UInt64) throws(ApplicationError) -> ValidatorSet {
        if height == engine.currentHeight + 1 {
            do { _ = try engine.appVersion(forHeight: height) } catch { throw Self.map(error) }
        }
        do { return try engine.validatorSet(forHeight: height) } catch {
            if case .validatorSetUnknown = error { throw .unknownHeight(height) }
            throw .storage(error.description)
        }
    }

    public func buildBlock(_ request: BuildRequest, time: Int64) throws(ApplicationError) -> Block {
        guard request.height == engine.currentHeight + 1 else { throw .unknownHeight(request.height) }
        // Header time strictly increases (and never precedes genesis), whatever the proposer's clock says. A chain
        // whose last block time is Int64.max (a Byzantine proposer's clock) has no later time: refuse to propose
        // rather than trap on the + 1.
        let (next, noLaterTime) = engine.lastBlockTime.addingReportingOverflow(1)
        if request.height > 1 && noLaterTime {
            throw .invalidBlock("the last block's time is \(engine.lastBlockTime) (Int64.max); no later block time exists")
        }
        let floor = request.height == 1 ? engine.genesis.genesisTime : next
        let blockTime = max(time, floor)
        let lastCommit: CommitCertificate?
        do { lastCommit = request.height == 1 ? nil : try engine.certificate(at: request.height - 1) } catch { throw .storage(error.description) }
        if request.height > 1 && lastCommit == nil { throw .storage("certificate of height \(request.height - 1) is missing") }
        let transactions = transactionSource(maxBlockTransactions)
        let evidence = usableEvidence(request.evidence, height: request.height)
        let built: BuiltBlock
        do {
            built = try engine.proposeBlock(height: request.height, round: request.round, time: blockTime, proposer: request.proposer,
                                            lastCommit: lastCommit, transactions: transactions, evidence: evidence,
                                            signatures: signaturePolicy)
        } catch { throw Self.map(error) }
        if !built.dropped.isEmpty { onDropped(built.dropped.map(\.transaction)) }
        return built.block
    }

    public func validate(_ block: Block) throws(ApplicationError) {
        do { try engine.validate(block, signatures: signaturePolicy) } catch { throw Self.map(error) }
    }

    public func commit(_ block: Block, certificate: CommitCertificate) throws(ApplicationError) {
        do { try engine.commit(block, certificate: certificate, signatures: signaturePolicy) } catch { throw Self.map(error) }
    }

    public func committedBlock(at height: UInt64) -> (block: Block, certificate: CommitCertificate)? {
        guard let block = try? engine.block(at: height), let certificate = try? engine.certificate(at: height) else { return nil }
        return (block, certificate)
    }

    public func hasRecordedEvidence(against validator: PublicKey, height: UInt64) -> Bool {
        (try? engine.reader.store.stateValue(LedgerKeys.evidence(validator: validator, height: height))) != nil  // the flat latest state
    }

    /// Evidence the engine will accept: for past heights, signed by a validator of that height, one per (validator,
    /// height), and not already recorded on chain (a proposer offering recorded evidence could never build a block).
    private func usableEvidence(_ evidence: [DuplicateVoteEvidence], height: UInt64) -> [DuplicateVoteEvidence] {
        var seen = Set<[UInt8]>()
        var out: [DuplicateVoteEvidence] = []
        for e in evidence where e.height < height && e.verify(chainID: engine.chainID) {
            let key = LedgerKeys.evidence(validator: e.validator, height: e.height)
            guard seen.insert(key).inserted else { continue }
            if (try? engine.reader.store.stateValue(key)) != nil { continue }  // the flat latest state: one point read, no tree
            if let set = try? engine.validatorSet(forHeight: e.height), set.contains(e.validator) { out.append(e) }
        }
        return out
    }

    static func map(_ error: LedgerError) -> ApplicationError {
        switch error {
        case .invalidBlock, .invalidCertificate: return .invalidBlock(error.description)
        case .validatorSetUnknown(let h): return .unknownHeight(h)
        case .execution(.unsupportedRules): return .unsupportedRules(error.description)
        default: return .storage(error.description)
        }
    }
}
