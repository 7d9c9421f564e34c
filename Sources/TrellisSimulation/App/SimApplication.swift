// SimApplication.swift — the application a simulated validator runs: the real ledger (default) or the synthetic
// test ledger (faster; models validator-set changes every few heights).
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// Which application the simulator runs.
public enum SimApplicationKind: String, Sendable, CaseIterable {
    /// LedgerEngine + the domain contracts, with a deterministic domain workload.
    case ledger
    /// The synthetic hash-chain ledger of TestApplication.
    case test
}

enum SimApplication: ConsensusApplication {
    case ledger(LedgerSimApplication)
    case test(TestApplication)

    var committedHeight: UInt64 {
        switch self {
        case .ledger(let a): return a.committedHeight
        case .test(let a): return a.committedHeight
        }
    }

    func stateRoot(at height: UInt64) -> Hash? {
        switch self {
        case .ledger(let a): return a.stateRoot(at: height)
        case .test(let a): return a.stateRoot(at: height)
        }
    }

    func validatorSet(forHeight height: UInt64) throws(ApplicationError) -> ValidatorSet {
        switch self {
        case .ledger(let a): return try a.validatorSet(forHeight: height)
        case .test(let a): return try a.validatorSet(forHeight: height)
        }
    }

    mutating func buildBlock(_ request: BuildRequest, time: Int64) throws(ApplicationError) -> Block {
        switch self {
        case .ledger(var a):
            defer { self = .ledger(a) }
            return try a.buildBlock(request, time: time)
        case .test(var a):
            defer { self = .test(a) }
            return try a.buildBlock(request, time: time)
        }
    }

    /// A block for `request` that differs from the honest one (a Byzantine proposer's twin).
    func makeBlock(_ request: BuildRequest, time: Int64, variant: UInt64) throws(ApplicationError) -> Block {
        switch self {
        case .ledger(var a): return try a.buildBlock(request, time: time + Int64(variant % 1_000) + 1)
        case .test(let a): return try a.makeBlock(request, time: time, variant: variant)
        }
    }

    func validate(_ block: Block) throws(ApplicationError) {
        switch self {
        case .ledger(let a): try a.validate(block)
        case .test(let a): try a.validate(block)
        }
    }

    mutating func commit(_ block: Block, certificate: CommitCertificate) throws(ApplicationError) {
        switch self {
        case .ledger(var a):
            defer { self = .ledger(a) }
            try a.commit(block, certificate: certificate)
        case .test(var a):
            defer { self = .test(a) }
            try a.commit(block, certificate: certificate)
        }
    }

    func committedBlock(at height: UInt64) -> (block: Block, certificate: CommitCertificate)? {
        switch self {
        case .ledger(let a): return a.committedBlock(at: height)
        case .test(let a): return a.committedBlock(at: height)
        }
    }

    func hasRecordedEvidence(against validator: PublicKey, height: UInt64) -> Bool {
        switch self {
        case .ledger(let a): return a.hasRecordedEvidence(against: validator, height: height)
        case .test(let a): return a.hasRecordedEvidence(against: validator, height: height)
        }
    }
}
