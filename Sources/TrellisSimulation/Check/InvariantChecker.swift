// InvariantChecker.swift — the properties checked after every simulator step.
//
// Safety (must hold whatever the faults, with at most f Byzantine validators):
//   agreement    no two honest nodes commit different blocks at one height;
//   validity     every block an honest node commits passed its validation and carries a certificate that verifies
//                (signatures, membership, > 2/3 power) against the validator set in force at its height;
//   no double-sign  an honest validator never releases two different signed messages for one (height, round,
//                step), across restarts included, and never releases one before its signing guard is durable;
//   state        honest nodes have identical state roots at every height.
// Liveness (checked by the run loop): after the last fault heals, every honest node commits new blocks within a
// bounded simulated time.
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// A broken property, with what is needed to understand it.
public enum Violation: Sendable, Equatable, CustomStringConvertible {
    case agreement(height: UInt64, node: Int, block: Hash, otherBlock: Hash)
    case invalidCommit(height: UInt64, node: Int, reason: String)
    case doubleSign(node: Int, position: SigningPosition)
    case releasedBeforePersist(node: Int, position: SigningPosition)
    case stateRootMismatch(height: UInt64, node: Int)
    case liveness(node: Int, committedHeight: UInt64, needed: UInt64, deadlineMilliseconds: UInt64)
    case resourceBound(String)
    /// Accountability: a validator's equivocation that an honest node recorded never got on chain by the end of the run.
    case evidenceLost(node: Int)

    public var description: String {
        switch self {
        case .agreement(let h, let n, let b, let o):
            return "agreement: n\(n) committed \(b.hex.prefix(12)) at height \(h), another honest node committed \(o.hex.prefix(12))"
        case .invalidCommit(let h, let n, let reason): return "validity: n\(n) committed an invalid block at height \(h): \(reason)"
        case .doubleSign(let n, let p): return "double-sign: honest n\(n) released two different messages at \(p)"
        case .releasedBeforePersist(let n, let p): return "durability: n\(n) released a message at \(p) before its signing guard was durable"
        case .stateRootMismatch(let h, let n): return "state: n\(n) has a different state root at height \(h)"
        case .liveness(let n, let c, let need, let d):
            return "liveness: n\(n) reached height \(c), needed \(need) by t=\(d)ms (after the last fault healed)"
        case .resourceBound(let what): return "bound exceeded: \(what)"
        case .evidenceLost(let n): return "accountability: n\(n)'s equivocation, recorded by an honest node, never got on chain"
        }
    }
}

/// Records what honest nodes did and reports violations.
struct InvariantChecker {
    let chainID: String
    private(set) var violations: [Violation] = []
    private var committedBlocks: [UInt64: Hash] = [:]
    private var stateRoots: [UInt64: Hash] = [:]
    private var released: [SignedKey: Hash] = [:]
    private var verifiedCertificates: Set<Hash> = []

    private struct SignedKey: Hashable {
        let validator: PublicKey
        let position: SigningPosition
    }

    init(chainID: String) { self.chainID = chainID }

    mutating func report(_ violation: Violation) {
        if !violations.contains(violation) { violations.append(violation) }
    }

    /// An honest node released `message` (signed by itself); `durable` is its signing guard on disk.
    mutating func noteRelease(node: Int, message: ConsensusMessage, durable: SigningGuard) {
        let position: SigningPosition
        let signBytes: [UInt8]
        switch message {
        case .proposal(let p):
            position = SigningPosition(height: p.body.height, round: p.body.round, step: .propose)
            signBytes = p.body.signBytes(chainID: chainID)
        case .vote(let v):
            position = SigningPosition(height: v.body.height, round: v.body.round, step: v.body.type == .prevote ? .prevote : .precommit)
            signBytes = v.body.signBytes(chainID: chainID)
        }
        if let last = durable.last, last >= position {} else { report(.releasedBeforePersist(node: node, position: position)) }
        let key = SignedKey(validator: message.signer, position: position)
        let digest = SHA256.hash(signBytes)
        if let earlier = released[key], earlier != digest { report(.doubleSign(node: node, position: position)) }
        released[key] = digest
    }

    /// An honest node committed `block` with `certificate` against `validatorSet`, reaching `stateRoot`.
    mutating func noteCommit(node: Int, block: Block, certificate: CommitCertificate, validatorSet: ValidatorSet, stateRoot: Hash?) {
        let h = block.header.height
        if let other = committedBlocks[h], other != block.hash {
            report(.agreement(height: h, node: node, block: block.hash, otherBlock: other))
        } else {
            committedBlocks[h] = block.hash
        }
        if !verifiedCertificates.contains(certificate.hash) {
            do {
                try certificate.verify(chainID: chainID, validatorSet: validatorSet, height: h, blockID: block.hash)
                verifiedCertificates.insert(certificate.hash)
            } catch {
                report(.invalidCommit(height: h, node: node, reason: "certificate: \(error)"))
            }
        }
        guard let stateRoot else { return report(.invalidCommit(height: h, node: node, reason: "no state root after commit")) }
        if let other = stateRoots[h], other != stateRoot { report(.stateRootMismatch(height: h, node: node)) }
        stateRoots[h] = stateRoot
    }
}
