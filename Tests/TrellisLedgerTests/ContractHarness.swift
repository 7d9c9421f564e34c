// ContractHarness.swift — runs the Receivables and GreenAssets contracts the way the executor does, without
// blocks or signatures: a MemoryState seeded with members and parameters, one StateOverlay per transaction, merged
// only on success. It mimics the executor's own checks that these contracts rely on (signer exists and is active
// and holds one of the kind's roles; co-signers exist and are active; the payload survives canonical
// encode/decode and its stateless checks), so attacks on those rules are rejected here with the executor's codes.
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

/// SplitMix64: a tiny seeded deterministic generator for property tests.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<bound (bound > 0).
    mutating func below(_ bound: UInt64) -> UInt64 { next() % bound }

    /// Uniform in 0..<bound (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func pick<T>(_ items: [T]) -> T? { items.isEmpty ? nil : items[Int(below(UInt64(items.count)))] }

    mutating func chance(_ percent: UInt64) -> Bool { below(100) < percent }
}

/// The outcome of one submitted transaction.
enum Outcome: Equatable {
    case accepted([String])
    case rejected(String)

    var ids: [String] {
        if case .accepted(let ids) = self { return ids }
        return []
    }

    var code: String? {
        if case .rejected(let code) = self { return code }
        return nil
    }
}

final class ContractHarness {
    let state = MemoryState()
    var height: UInt64 = 1
    /// 2025-01-01T00:00:00Z.
    var time: Int64 = 1_735_689_600
    var parameters = Parameters.default
    /// The rules version the contracts see (`ExecutionContext.rulesVersion`).
    var rulesVersion: UInt32 = AppVersion.initial
    /// The last contract rejection `submit` saw, with its message (the receipt's text).
    var lastRejection: TxRejection?
    let contracts: [any Contract] = [ReceivablesContract(), GreenAssetsContract(), EvidenceContract()]
    private var txCounter: UInt64 = 0

    static let day: Int64 = 86_400

    init() {
        let overlay = StateOverlay(base: state)
        overlay.write(parameters, at: Parameters.stateKey)
        state.apply(overlay)
    }

    /// Writes a member record directly (as genesis or governance would).
    func putMember(_ id: String, _ roles: [Role], status: MemberStatus = .active, registrationNo: String? = nil, accreditations: [Accreditation] = []) {
        let overlay = StateOverlay(base: state)
        overlay.write(Member(memberID: id, legalName: "\(id) Ltd", registrationNo: registrationNo ?? "USCC-\(id)", publicKeys: [], roles: roles, status: status, accreditations: accreditations), at: StateKey.make("member", id))
        state.apply(overlay)
    }

    /// Writes raw state (e.g. a governance approval marker).
    func put(_ key: [UInt8], _ value: [UInt8]) {
        let overlay = StateOverlay(base: state)
        overlay.put(key, value)
        state.apply(overlay)
    }

    func member(_ id: String) throws -> Member? { try state.read(Member.self, StateKey.make("member", id)) }

    /// Moves the clock (and the height by one).
    func advance(seconds: Int64) {
        time += seconds
        height += 1
    }

    var snapshot: [[UInt8]: [UInt8]] { state.values }

    func spec(_ kind: String) -> (any Contract, KindSpec)? {
        for contract in contracts {
            if let spec = contract.kinds.first(where: { $0.kind == kind }) { return (contract, spec) }
        }
        return nil
    }

    /// Executes one transaction of `kind` signed by `signer` (and `cosigners`).
    @discardableResult
    func submit<P: TransactionPayload>(_ kind: String, _ payload: P, by signer: String, cosigners: [String] = []) throws -> Outcome {
        guard let (contract, spec) = spec(kind) else { return .rejected("unknown_kind") }
        guard let signerMember = try member(signer) else { return .rejected("unknown_signer") }
        guard signerMember.isActive else { return .rejected("signer_not_active") }
        if !spec.signerRoles.isEmpty && !spec.signerRoles.contains(where: signerMember.has) { return .rejected("role_not_allowed") }
        var cosignerMembers: [Member] = []
        for id in cosigners.sorted() {
            guard let m = try member(id) else { return .rejected("unknown_cosigner") }
            guard m.isActive else { return .rejected("cosigner_not_active") }
            cosignerMembers.append(m)
        }
        let decoded: any TransactionPayload
        do { decoded = try spec.decodePayload(payload.canonicalBytes) } catch { return .rejected(error.code) }
        txCounter += 1
        var encoder = CanonicalEncoder()
        encoder.encode(txCounter)
        let parameters = try state.read(Parameters.self, Parameters.stateKey) ?? .default
        let context = ExecutionContext(chainID: "trellis-test", height: height, blockTime: time, txHash: SHA256.hash(encoder.bytes), txIndex: 0, signer: signerMember, cosigners: cosignerMembers, parameters: parameters, rulesVersion: rulesVersion)
        let overlay = StateOverlay(base: state)
        do {
            let ids = try contract.apply(kind: kind, payload: decoded, context: context, state: overlay)
            state.apply(overlay)
            return .accepted(ids)
        } catch let rejection as TxRejection {
            lastRejection = rejection
            return .rejected(rejection.code)
        }
    }

    /// Submits and requires acceptance; returns the created ids.
    @discardableResult
    func ok<P: TransactionPayload>(_ kind: String, _ payload: P, by signer: String, cosigners: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        let outcome = try submit(kind, payload, by: signer, cosigners: cosigners)
        #expect(outcome.code == nil, "\(kind) by \(signer) was rejected: \(outcome)", sourceLocation: sourceLocation)
        return outcome.ids
    }

    /// Submits, requires rejection with `code`, and requires the state to be unchanged.
    func rejects<P: TransactionPayload>(_ code: String, _ kind: String, _ payload: P, by signer: String, cosigners: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = snapshot
        let outcome = try submit(kind, payload, by: signer, cosigners: cosigners)
        #expect(outcome == .rejected(code), "\(kind) by \(signer): expected \(code), got \(outcome)", sourceLocation: sourceLocation)
        #expect(snapshot == before, "state changed by a rejected \(kind)", sourceLocation: sourceLocation)
    }

    func certificate(_ id: String) throws -> Certificate {
        try #require(try state.read(Certificate.self, ReceivablesKeys.certificate(id)))
    }

    func block(_ id: String) throws -> CreditBlock {
        try #require(try state.read(CreditBlock.self, GreenAssetsKeys.block(id)))
    }
}

extension ContractHarness {
    /// Runs `steps` random operations: a rejected one must leave the state unchanged, and `violations` must stay
    /// empty after every step. Returns how many were accepted, or nil after the first violation (already recorded).
    func runRandomSteps(seed: UInt64, steps: Int, step: () throws -> (String, Outcome), violations: () throws -> [String]) throws -> Int? {
        var accepted = 0
        for index in 0..<steps {
            let before = snapshot
            let (label, outcome) = try step()
            if outcome.code != nil {
                #expect(snapshot == before, "seed \(seed) step \(index): rejected \(label) changed state")
            } else {
                accepted += 1
            }
            let found = try violations()
            #expect(found.isEmpty, "seed \(seed) step \(index) after \(label) → \(outcome): \(found)")
            if !found.isEmpty { return nil }
        }
        return accepted
    }
}
