// AuditCertificate.swift — offline certificates an auditor can hand on (`trellis audit certificate …`,
// docs/EXPORT-FORMAT.md §7.1): a proof file whose state fact is one domain record, named by a `subject`, carrying
// the validator-set chain from the genesis to its height (`validator_chain`: the light blocks a light client needs),
// so `trellis audit check-proof FILE --genesis GENESIS` verifies it with nothing else, whatever validator-set changes
// happened in between.
//
// What a certificate proves is rendered from the verified value bytes only (never from text in the file): the
// record is decoded by the subject's type and its claim checked — a holding names the member as holder of a live
// certificate; a retirement and an attestation are shown as recorded (an attestation whose attesters all withdrew
// is shown as revoked).
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// What a certificate is about.
public struct ProofSubject: Codable, Equatable, Sendable {
    /// `retirement`, `attestation` or `holding`.
    public var type: String
    /// The retirement id, the document hash (hex) or the certificate id.
    public var id: String
    /// The holder, for `holding`.
    public var member: String?

    public init(type: String, id: String, member: String? = nil) {
        self.type = type
        self.id = id
        self.member = member
    }

    public static let retirement = "retirement", attestation = "attestation", holding = "holding"

    /// The state key of the record this subject is about.
    public func stateKey() throws(AuditError) -> [UInt8] {
        switch type {
        case Self.retirement: return GreenAssetsKeys.retirement(id)
        case Self.holding: return ReceivablesKeys.certificate(id)
        case Self.attestation:
            do { return EvidenceKeys.record(try Hash(hex: id)) } catch { throw .malformed(line: 1, message: "subject: an attestation is named by a document hash (64 lowercase hex digits): \(error)") }
        default: throw .malformed(line: 1, message: "subject: unknown type \(type) (retirement, attestation or holding)")
        }
    }
}

/// One light block in a certificate's validator chain.
public struct LightBlockFile: Codable, Equatable, Sendable {
    public var headerHex: String
    public var certificateHex: String
    public var validatorSetHex: String

    enum CodingKeys: String, CodingKey {
        case headerHex = "header_hex"
        case certificateHex = "certificate_hex"
        case validatorSetHex = "validator_set_hex"
    }

    public init(_ block: LightBlock) {
        headerHex = Hex.encode(block.header.canonicalBytes)
        certificateHex = Hex.encode(block.certificate.canonicalBytes)
        validatorSetHex = Hex.encode(block.validators.canonicalBytes)
    }

    func decoded(index: Int) throws(AuditError) -> LightBlock {
        func bytes(_ text: String, _ what: String) throws(AuditError) -> [UInt8] {
            do { return try Hex.decode(text) } catch { throw .malformed(line: 1, message: "validator_chain[\(index)].\(what): \(error)") }
        }
        do {
            return LightBlock(header: try CanonicalDecoder.decode(BlockHeader.self, from: try bytes(headerHex, "header_hex")),
                              certificate: try CanonicalDecoder.decode(CommitCertificate.self, from: try bytes(certificateHex, "certificate_hex")),
                              validators: try CanonicalDecoder.decode(ValidatorSet.self, from: try bytes(validatorSetHex, "validator_set_hex")))
        } catch let error as AuditError { throw error } catch {
            throw .verificationFailed(height: nil, message: "validator_chain[\(index)] does not decode: \(error)")
        }
    }
}

/// Records every light block a provider serves (the heights a light client needed), for a certificate's chain.
final class RecordingLightProvider: LightBlockProvider {
    let base: any LightBlockProvider
    private(set) var served: [UInt64: LightBlock] = [:]

    init(_ base: any LightBlockProvider) { self.base = base }

    var label: String { base.label }
    func latestCertifiedHeight() throws(AuditError) -> UInt64 { try base.latestCertifiedHeight() }
    func lightBlock(atHeight height: UInt64) throws(AuditError) -> LightBlock {
        let block = try base.lightBlock(atHeight: height)
        served[height] = block
        return block
    }
}

/// The light blocks of a certificate, served from memory (a height the chain lacks is an error naming it); records
/// which heights were asked for.
final class ChainFileProvider: LightBlockProvider {
    let blocks: [UInt64: LightBlock]
    private(set) var requested: Set<UInt64> = []
    init(blocks: [UInt64: LightBlock]) { self.blocks = blocks }
    var label: String { "the certificate's validator_chain" }
    func latestCertifiedHeight() throws(AuditError) -> UInt64 { blocks.keys.max() ?? 0 }
    func lightBlock(atHeight height: UInt64) throws(AuditError) -> LightBlock {
        requested.insert(height)
        guard let block = blocks[height] else { throw .verificationFailed(height: height, message: "the validator_chain lacks the light block of height \(height)") }
        return block
    }
}

public enum AuditCertificates {
    /// Text from a record, safe on a terminal and in a text file: control characters (C0, DEL, C1) and the line and
    /// paragraph separators are written as `\u{XX}`.
    static func shown(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x20 || (0x7f...0x9f).contains(v) || v == 0x2028 || v == 0x2029 {
                out += "\\u{" + String(v, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Builds the certificate of `subject` at `height` (the newest certified height when nil): the record's state
    /// proof read with `read`, the certified header, and the validator chain from `genesis` found by a light client
    /// over `provider`. The record must exist and its claim hold (checked as `check-proof` will).
    public static func build(_ subject: ProofSubject, genesis: GenesisDocument, provider: any LightBlockProvider, height: UInt64? = nil,
                             read: ([UInt8], UInt64) throws(AuditError) -> (value: [UInt8]?, proof: StateProof)) throws(AuditError) -> ProofFile {
        let key = try subject.stateKey()
        let h: UInt64
        if let height { h = height } else { h = try provider.latestCertifiedHeight() }
        guard h >= 1 else { throw .notFound("no block is certified yet") }
        let recording = RecordingLightProvider(provider)
        var client = LightClient(trusted: .genesis(genesis))
        guard let verified = try client.verify(to: h, provider: recording).last?.block else { preconditionFailure("invalid state: verify returned no step") }
        let (value, proof) = try read(key, h)
        guard value != nil else { throw .notFound("\(subject.type) \(subject.id): no record \(StateKeyText.show(key)) at height \(h)") }
        try LightClient.checkState(key: key, value: value, proof: proof, against: verified)
        var file = ProofFile(format: ProofFile.formatName, version: ProofFile.formatVersion, chainID: genesis.chainID, genesisHash: genesis.hash.hex, height: h,
                             headerHex: Hex.encode(verified.header.canonicalBytes), certificateHex: Hex.encode(verified.certificate.canonicalBytes),
                             state: StateFact(keyHex: Hex.encode(key), valueHex: value.map { Hex.encode($0) }, proofHex: Hex.encode(proof.canonicalBytes)),
                             transaction: nil)
        file.subject = subject
        file.validatorChain = recording.served.keys.sorted().compactMap { recording.served[$0].map(LightBlockFile.init) }
        // The claim must hold before the file is written (a holding of another member is refused here, not later).
        _ = try statement(subject, value: value, height: h, header: verified.header)
        return file
    }

    /// Verifies the validator chain of `file` from `genesis` with the light client and returns the set in force at the
    /// file's height; the chain's block at that height must be the file's header and certificate.
    static func validators(from chain: [LightBlockFile], file: ProofFile, genesis: GenesisDocument) throws(AuditError) -> ValidatorSet {
        guard chain.count <= Int(LightClient.maxBisectionDepth) * 2 + 2 else {
            throw .malformed(line: 1, message: "validator_chain: \(chain.count) light blocks, more than a light client can need (\(LightClient.maxBisectionDepth * 2 + 2))")
        }
        var blocks: [UInt64: LightBlock] = [:]
        for (index, entry) in chain.enumerated() {
            let block = try entry.decoded(index: index)
            guard blocks[block.height] == nil else { throw .malformed(line: 1, message: "validator_chain: two light blocks of height \(block.height)") }
            blocks[block.height] = block
        }
        guard let last = blocks[file.height] else { throw .verificationFailed(height: file.height, message: "the validator_chain has no light block of the proof's height") }
        guard Hex.encode(last.header.canonicalBytes) == file.headerHex, Hex.encode(last.certificate.canonicalBytes) == file.certificateHex else {
            throw .verificationFailed(height: file.height, message: "the validator_chain's light block at the proof's height is not the proof's header and certificate")
        }
        var client = LightClient(trusted: .genesis(genesis))
        let provider = ChainFileProvider(blocks: blocks)
        _ = try client.verify(to: file.height, provider: provider)
        // Nothing in the chain goes unchecked: every light block is one the light client needed, and each is certified
        // by a quorum of its own set (a block read only for its validator set is bound to its header this way too).
        for (height, block) in blocks.sorted(by: { $0.key < $1.key }) {
            guard provider.requested.contains(height) else {
                throw .verificationFailed(height: height, message: "the validator_chain carries a light block no verification step needs")
            }
            guard block.validators.hash == block.header.validatorSetHash, block.header.chainID == genesis.chainID else {
                throw .verificationFailed(height: height, message: "the validator_chain's validator set is not its header's")
            }
            do { try block.certificate.verify(chainID: genesis.chainID, validatorSet: block.validators, height: height, blockID: block.header.hash) } catch {
                throw .verificationFailed(height: height, message: "the validator_chain's certificate: \(error)")
            }
        }
        return last.validators
    }

    /// What the certificate proves, in words, from the verified value; throws when the record does not support the
    /// subject's claim.
    public static func statement(_ subject: ProofSubject, value: [UInt8]?, height: UInt64, header: BlockHeader) throws(AuditError) -> String {
        func fail(_ message: String) -> AuditError { .verificationFailed(height: height, message: message) }
        guard let value else { throw fail("\(subject.type) \(subject.id): the proof shows no record (absent)") }
        func decode<T: CanonicalDecodable>(_ type: T.Type) throws(AuditError) -> T {
            do { return try CanonicalDecoder.decode(T.self, from: value) } catch { throw fail("the \(subject.type) record does not decode: \(error)") }
        }
        let at = "at height \(height) (block time \(UnixTimeText.labelled(header.time)), block \(header.hash.hex), chain \(header.chainID))"
        switch subject.type {
        case ProofSubject.retirement:
            let r = try decode(Retirement.self)
            guard r.retID == subject.id else { throw fail("the record is retirement \(r.retID), not \(subject.id)") }
            let units = r.ranges.reduce(UInt64(0)) { $0 &+ ($1.serialEnd - $1.serialStart + 1) }
            return ["Retirement \(r.retID) is recorded on the ledger \(at):",
                    "  \(units) units retired by \(shown(r.retiredBy)) for beneficiary \(shown(r.beneficiary))",
                    "  purpose: \(shown(r.purpose)); claim period \(UnixTimeText.labelled(r.claimPeriodStart)) – \(UnixTimeText.labelled(r.claimPeriodEnd))",
                    "  serials: " + r.ranges.map { shown($0.serialText) }.joined(separator: ", "),
                    "  retired at height \(r.height) (block time \(UnixTimeText.labelled(r.time))) by transaction \(r.txHash.hex)"].joined(separator: "\n")
        case ProofSubject.holding:
            let c = try decode(Certificate.self)
            guard c.certID == subject.id else { throw fail("the record is certificate \(c.certID), not \(subject.id)") }
            guard let member = subject.member, c.holder == member else {
                throw fail("certificate \(c.certID) is held by \(c.holder), not \(subject.member ?? "(no member named)")")
            }
            let held: Set<CertificateStatus> = [.active, .financed, .pledged, .frozen, .overdue]
            guard held.contains(c.status) else { throw fail("certificate \(c.certID) is \(c.status.rawValue): \(member) no longer holds it") }
            return ["Member \(shown(member)) holds payable certificate \(c.certID) \(at):",
                    "  face \(c.face) (分), debtor \(shown(c.debtor)), maturity \(UnixTimeText.labelled(c.maturity)), status \(c.status.rawValue)",
                    "  root \(c.rootID)" + (c.parentID.map { ", parent \($0)" } ?? "") + ", depth \(c.depth); contract \(shown(c.tradeRef.contractNo))"].joined(separator: "\n")
        case ProofSubject.attestation:
            let e = try decode(EvidenceRecord.self)
            guard e.docHash.hex == subject.id else { throw fail("the record is of document \(e.docHash.hex), not \(subject.id)") }
            var lines = ["Document \(e.docHash.hex) (\(e.docKind.rawValue)) is \(e.isActive ? "ATTESTED" : "REVOKED (every attester withdrew)") \(at):"]
            for a in e.attestations {
                let state = a.withdrawal == nil ? "stands" : "withdrawn"
                lines.append("  attested by \(shown(a.attester)) at height \(a.height) (block time \(UnixTimeText.labelled(a.time))), \"\(shown(a.title))\", transaction \(a.txHash.hex): \(state)")
            }
            return lines.joined(separator: "\n")
        default:
            throw .malformed(line: 1, message: "subject: unknown type \(subject.type)")
        }
    }
}
