// LightClient.swift — follows certified headers from a trusted point without downloading blocks or executing them
// (docs/LIGHT-CLIENT.md), as CometBFT's light client does.
//
// A light block is a header, its commit certificate and the validator set in force at its height; the provider
// (a node, a stub, a file) is never trusted. From a trusted state (the genesis, or a height and block hash the auditor
// got out of band) a header at height t is accepted when
//  - adjacent (t = trusted + 1): it links to the trusted block (`previous_block_hash`), its `validator_set_hash` is
//    the trusted header's `next_validator_set_hash`, and signers holding a quorum (> 2/3) of that set certified it;
//  - skipping (t > trusted + 1): signers holding a quorum of its own set (hash-checked against the header) certified
//    it, and among them validators of the trusted *next* set hold more than one third of that set's power (CometBFT's
//    default trust level: at least one honest validator vouches for the jump). When the second check fails the
//    client bisects: it verifies the header halfway and tries again from there.
// Both also require the chain id, the height, strictly increasing time and every signature to verify. The checks are
// pure functions of values (`LightVerifier`); `LightClient` adds the fetching and bisection. A witness that serves a
// different header, certified from the same trusted state, is a fork: the report carries both headers and
// certificates. Fault model: a provider may lie arbitrarily; the client assumes that no more than one third of the
// trusted next set's power signs for a conflicting chain (else the "fork" it reports is exactly that evidence).
// There is no trusting period: validators of a permissioned consortium do not unbond, and the client reads no clock.
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// A header with its commit certificate and the validator set in force at its height.
public struct LightBlock: Sendable, Equatable {
    public let header: BlockHeader
    public let certificate: CommitCertificate
    public let validators: ValidatorSet

    public init(header: BlockHeader, certificate: CommitCertificate, validators: ValidatorSet) {
        self.header = header
        self.certificate = certificate
        self.validators = validators
    }

    public var height: UInt64 { header.height }
    public var hash: Hash { header.hash }
}

/// Where a light client reads light blocks (a node's API in the CLI; memory in tests). Nothing it returns is trusted.
public protocol LightBlockProvider {
    /// How to name this provider in messages (a URL).
    var label: String { get }
    /// The newest height whose light block (with its certificate) can be served.
    func latestCertifiedHeight() throws(AuditError) -> UInt64
    /// The light block at `height`.
    func lightBlock(atHeight height: UInt64) throws(AuditError) -> LightBlock
}

/// What the client trusts: the genesis (height 0) or a verified block.
public struct LightTrustedState: Sendable, Equatable {
    public let chainID: String
    /// 0 for the genesis.
    public let height: UInt64
    /// The block hash at `height`; the genesis hash at height 0 (block 1's `previous_block_hash`).
    public let blockHash: Hash
    /// The header time (the genesis time at height 0): the next header's time must be later (≥ at height 1).
    public let time: Int64
    /// The hash of the set in force at `height + 1` (the trusted header's `next_validator_set_hash`).
    public let nextValidatorSetHash: Hash
    /// That set, when known (always from genesis; from a header, when the set did not change or was fetched).
    public let nextValidators: ValidatorSet?
    /// The trusted header itself (nil for the genesis).
    public let header: BlockHeader?

    /// Trust in a genesis document: the set at heights 1 and 2 is its validators'.
    public static func genesis(_ genesis: GenesisDocument) -> LightTrustedState {
        LightTrustedState(chainID: genesis.chainID, height: 0, blockHash: genesis.hash, time: genesis.genesisTime,
                          nextValidatorSetHash: genesis.validatorSet.hash, nextValidators: genesis.validatorSet, header: nil)
    }

    /// Trust in a verified light block.
    public static func block(_ block: LightBlock, nextValidators: ValidatorSet? = nil) -> LightTrustedState {
        let header = block.header
        let next = nextValidators ?? (header.nextValidatorSetHash == block.validators.hash ? block.validators : nil)
        return LightTrustedState(chainID: header.chainID, height: header.height, blockHash: header.hash, time: header.time,
                                 nextValidatorSetHash: header.nextValidatorSetHash, nextValidators: next, header: header)
    }
}

/// Why a light block was not accepted from a trusted state.
public enum LightVerdict: Sendable, Equatable {
    case accepted
    /// Valid on its own, but the trusted set's signers hold too little of it to skip there: bisect.
    case notEnoughTrust(signedPower: UInt64, totalPower: UInt64)
    /// The light block is not valid (forged, mis-linked, under-signed): the message says what.
    case invalid(String)
}

/// The pure checks of the light-client protocol.
public enum LightVerifier {
    /// Checks `untrusted` from `trusted` (adjacent or skipping, by height). `nextValidators` is the set in force at
    /// trusted.height + 1 when the caller has it (required to skip; its hash must be `trusted.nextValidatorSetHash`).
    public static func verify(_ untrusted: LightBlock, from trusted: LightTrustedState, nextValidators: ValidatorSet?) -> LightVerdict {
        let header = untrusted.header
        let h = header.height
        guard header.chainID == trusted.chainID else { return .invalid("the header is for chain \(header.chainID), not \(trusted.chainID)") }
        guard h > trusted.height else { return .invalid("height \(h) is not above the trusted height \(trusted.height)") }
        if trusted.height == 0 {
            guard header.time >= trusted.time else { return .invalid("time \(header.time) is before the genesis time \(trusted.time)") }
        } else {
            guard header.time > trusted.time else { return .invalid("time \(header.time) is not after the trusted header's \(trusted.time)") }
        }
        guard untrusted.validators.hash == header.validatorSetHash else {
            return .invalid("the validator set served hashes to \(untrusted.validators.hash.hex), but the header names \(header.validatorSetHash.hex)")
        }
        let certificate = untrusted.certificate
        let checks = certificate.signatureChecks(chainID: trusted.chainID)
        if let bad = ParallelVerifier.verify(checks).firstIndex(of: false) {
            return .invalid("the certificate signature of validator \(checks[bad].publicKey.hex) does not verify")
        }
        do {
            try certificate.verify(chainID: trusted.chainID, validatorSet: untrusted.validators, height: h, blockID: header.hash, verifySignatures: false)
        } catch { return .invalid(error.description) }
        if h == trusted.height + 1 {
            guard header.previousBlockHash == trusted.blockHash else {
                return .invalid("previous_block_hash \(header.previousBlockHash.hex) is not the trusted block \(trusted.blockHash.hex)")
            }
            guard header.validatorSetHash == trusted.nextValidatorSetHash else {
                return .invalid("validator_set_hash \(header.validatorSetHash.hex) is not the trusted header's next_validator_set_hash \(trusted.nextValidatorSetHash.hex)")
            }
            return .accepted
        }
        guard let trustedSet = nextValidators, trustedSet.hash == trusted.nextValidatorSetHash else {
            return .invalid("the trusted next validator set (\(trusted.nextValidatorSetHash.hex)) is not known: cannot skip")
        }
        let signed = certificate.signatures.reduce(UInt64(0)) { $0 + trustedSet.power(of: $1.validator) }
        guard Self.exceedsTrustLevel(signed, of: trustedSet.totalPower) else {
            return .notEnoughTrust(signedPower: signed, totalPower: trustedSet.totalPower)
        }
        return .accepted
    }

    /// More than one third: `signed · 3 > total`, computed in full width (signed · 3 may exceed UInt64.max when the
    /// powers are large; the product is exact, never wrapped).
    public static func exceedsTrustLevel(_ signed: UInt64, of total: UInt64) -> Bool {
        let product = signed.multipliedFullWidth(by: 3)
        return product.high > 0 || product.low > total
    }
}

/// A light block the client accepted, and how.
public struct LightStep: Sendable, Equatable {
    public enum Kind: String, Sendable { case adjacent, skipping }
    public let block: LightBlock
    public let kind: Kind
    /// True when this header's set differs from the set of the header trusted before it (a change the client
    /// followed; from the genesis, from the genesis set).
    public let validatorSetChanged: Bool
}

/// What a witness said about the header the client verified.
public enum WitnessReport: Sendable, Equatable {
    /// Same block hash at that height.
    case agrees(witness: String)
    /// A different header at the same height, certified from the same trusted state: two conflicting certified
    /// headers, i.e. more than a third of a trusted set signed both (or the primary lies and the witness does not).
    case fork(witness: String, primary: LightBlock, conflicting: LightBlock)
    /// The witness served a different header that does not verify: the witness is faulty, not the chain.
    case faulty(witness: String, reason: String)
    /// The witness could not be read (or does not have the height yet).
    case unavailable(witness: String, reason: String)
}

/// Follows certified headers from a trusted state (see the file header).
public struct LightClient {
    /// The bisection depth bound: each level halves the gap, so 64 levels cover any u64 height.
    public static let maxBisectionDepth = 64

    public private(set) var trusted: LightTrustedState

    public init(trusted: LightTrustedState) {
        self.trusted = trusted
    }

    /// Trusts block `height` whose hash the auditor knows (`--trust HEIGHT:HASH`): the provider's light block there must
    /// have that hash, a validator set of the header's hash and a certificate by a quorum of it.
    public static func trusting(height: UInt64, hash: Hash, chainID: String, provider: any LightBlockProvider) throws(AuditError) -> LightClient {
        guard height >= 1 else { throw .malformed(line: 0, message: "a trusted height is ≥ 1 (trust the genesis for height 0)") }
        let block = try provider.lightBlock(atHeight: height)
        guard block.hash == hash else {
            throw .verificationFailed(height: height, message: "\(provider.label) serves block \(block.hash.hex), not the trusted \(hash.hex)")
        }
        guard block.header.chainID == chainID else { throw .verificationFailed(height: height, message: "the trusted block is of chain \(block.header.chainID), not \(chainID)") }
        guard block.validators.hash == block.header.validatorSetHash else {
            throw .verificationFailed(height: height, message: "\(provider.label) serves a validator set that is not the trusted header's")
        }
        do { try block.certificate.verify(chainID: chainID, validatorSet: block.validators, height: height, blockID: hash) } catch {
            throw .verificationFailed(height: height, message: "the trusted block's certificate: \(error)")
        }
        return LightClient(trusted: .block(block))
    }

    /// Verifies the header at `target` from the trusted state, bisecting (at most `maxBisectionDepth` headers pending)
    /// as needed, and trusts it. Returns the light blocks accepted on the way, in height order (the last one is
    /// `target`'s).
    public mutating func verify(to target: UInt64, provider: any LightBlockProvider, maxBisectionDepth: Int = LightClient.maxBisectionDepth) throws(AuditError) -> [LightStep] {
        precondition(maxBisectionDepth >= 1, "bisection needs a depth of at least 1")
        guard target > trusted.height else {
            throw .malformed(line: 0, message: "height \(target) is not above the trusted height \(trusted.height)")
        }
        var steps: [LightStep] = []
        var pending = [try provider.lightBlock(atHeight: target)]
        var trustedSet = trusted.nextValidators
        while let next = pending.last {
            if next.height > trusted.height + 1, trustedSet == nil {
                // The trusted header announced another set for the next height: fetch it and check it by its hash.
                let following = try provider.lightBlock(atHeight: trusted.height + 1)
                guard following.validators.hash == trusted.nextValidatorSetHash else {
                    throw .verificationFailed(height: trusted.height + 1, message: "\(provider.label) serves a validator set that is not the trusted next_validator_set_hash \(trusted.nextValidatorSetHash.hex)")
                }
                trustedSet = following.validators
            }
            switch LightVerifier.verify(next, from: trusted, nextValidators: trustedSet) {
            case .accepted:
                let changed = next.header.validatorSetHash != (trusted.header?.validatorSetHash ?? trusted.nextValidatorSetHash)
                steps.append(LightStep(block: next, kind: next.height == trusted.height + 1 ? .adjacent : .skipping, validatorSetChanged: changed))
                trusted = .block(next)
                trustedSet = trusted.nextValidators
                pending.removeLast()
            case .notEnoughTrust(let signed, let total):
                guard pending.count < maxBisectionDepth else {
                    throw .verificationFailed(height: next.height, message: "bisection deeper than \(maxBisectionDepth) levels (trusted signers hold \(signed) of \(total))")
                }
                let pivot = trusted.height + (next.height - trusted.height) / 2
                pending.append(try provider.lightBlock(atHeight: pivot))
            case .invalid(let reason):
                throw .verificationFailed(height: next.height, message: "\(provider.label): \(reason)")
            }
        }
        return steps
    }

    /// Compares the verified `block` with what `witness` serves at its height, starting from `origin` (the state the
    /// client trusted before it verified `block`).
    public static func crossCheck(_ block: LightBlock, origin: LightTrustedState, witness: any LightBlockProvider) -> WitnessReport {
        let theirs: LightBlock
        do { theirs = try witness.lightBlock(atHeight: block.height) } catch {
            return .unavailable(witness: witness.label, reason: error.description)
        }
        if theirs.hash == block.hash { return .agrees(witness: witness.label) }
        var client = LightClient(trusted: origin)
        do {
            let steps = try client.verify(to: block.height, provider: witness)
            guard let last = steps.last, last.block.hash == theirs.hash else {
                return .faulty(witness: witness.label, reason: "served two different headers for height \(block.height)")
            }
            return .fork(witness: witness.label, primary: block, conflicting: last.block)
        } catch {
            return .faulty(witness: witness.label, reason: "its header \(theirs.hash.hex) does not verify: \(error.description)")
        }
    }

    /// The validators whose precommits are in both certificates of a fork, sorted by key: each signed for two
    /// different blocks at one height. In one round that is equivocation by each of them; across rounds the
    /// certificates alone do not say which of them broke the protocol (CometBFT's amnesia attack), only that they
    /// signed both.
    public static func signersOfBoth(_ primary: LightBlock, _ conflicting: LightBlock) -> [PublicKey] {
        let theirs = Set(conflicting.certificate.signatures.map(\.validator))
        return primary.certificate.signatures.map(\.validator).filter { theirs.contains($0) }.sorted()
    }

    /// Checks a transaction proof against a header the client verified: `hash` is transaction `fact.index` of that
    /// block, with the receipt the proof carries.
    public static func checkTransaction(_ hash: Hash, fact: TransactionFact, against block: LightBlock) throws(AuditError) -> CheckedFact {
        try NodeTransactionProof.check(fact, proves: hash, header: block.header)
    }

    /// Checks a state proof against a header the client verified: the value of `key` (nil = absent) at that height.
    public static func checkState(key: [UInt8], value: [UInt8]?, proof: StateProof, against block: LightBlock) throws(AuditError) {
        guard proof.verify(key: key, value: value, root: block.header.stateRoot) else {
            throw .verificationFailed(height: block.height, message: "the state proof of \(StateKeyText.show(key)) does not verify against the certified state_root \(block.header.stateRoot.hex)")
        }
    }
}
