// FuzzTarget.swift — every decoder's fuzz harness, by name.
//
// A harness takes arbitrary bytes, feeds them to one decoder of hostile input and checks the decoder's contract:
// it never traps, it fails only with its own typed error, it accepts nothing over its limits, and where the format
// is canonical a decoded value re-encodes to exactly the input bytes. A broken contract throws `FuzzViolation`
// (the libFuzzer entry point turns it into a crash; the test suite into a failed test). The same harnesses run
// under libFuzzer (`Scripts/fuzz.sh`, executable `trellis-fuzz`) and in `swift test`, which replays the committed
// corpus and every crash file (Tests/Fuzz/), so a crash found once stays a regression test.

/// A decoder contract the input broke.
public struct FuzzViolation: Error, CustomStringConvertible {
    public let target: FuzzTarget
    public let message: String

    public init(_ target: FuzzTarget, _ message: String) {
        self.target = target
        self.message = message
    }

    public var description: String { "\(target.rawValue): \(message)" }
}

/// The fuzz targets; the raw value names the corpus folder (Tests/Fuzz/Corpus/<name>) and `trellis-fuzz`'s
/// `TRELLIS_FUZZ_TARGET`.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `Transaction.decode` (canonical, hash of the input bytes).
    case transaction
    /// `Block.decode` and the header/body commitments derived from a decoded block.
    case block
    /// `CommitCertificate` decoding, then `verify` against a fixed validator set.
    case commitCertificate = "commit_certificate"
    /// Each kind's canonical payload (first byte picks the kind): decode, re-encode, JSON form and back.
    case payload
    /// `PeerMessage.decode`: everything a connected peer can send.
    case peerMessage = "peer_message"
    /// A peer's raw TCP byte stream through the production pipeline: frame decoder, handshake, decryption.
    case p2pStream = "p2p_stream"
    /// The API's JSON payload of each kind (first byte picks the kind) → canonical payload.
    case apiJSON = "api_json"
    /// One block line of a chain export, read as TrellisAudit's strict reader does.
    case exportLine = "export_line"
    /// A whole chain export file: header, genesis, every block line.
    case exportFile = "export_file"
    /// A proof file (`trellis audit check-proof` input), parsed then checked against a fixed genesis.
    case proofFile = "proof_file"
    /// `genesis.json` through `GenesisDocument.parse`.
    case genesisJSON = "genesis_json"
    /// `config.toml` through `NodeConfig.parse`.
    case configTOML = "config_toml"
    /// A stored page of the state tree (a `nodes` row) through the store's page decoder (`TreePageCheck`).
    case treePage = "tree_page"

    /// Runs the harness on one input.
    public func run(_ data: [UInt8]) throws(FuzzViolation) {
        switch self {
        case .transaction: try CanonicalHarnesses.transaction(data)
        case .block: try CanonicalHarnesses.block(data)
        case .commitCertificate: try CanonicalHarnesses.commitCertificate(data)
        case .payload: try PayloadHarnesses.payload(data)
        case .peerMessage: try CanonicalHarnesses.peerMessage(data)
        case .p2pStream: try P2PStreamHarness.run(data)
        case .apiJSON: try PayloadHarnesses.apiJSON(data)
        case .exportLine: try AuditHarnesses.exportLine(data)
        case .exportFile: try AuditHarnesses.exportFile(data)
        case .proofFile: try AuditHarnesses.proofFile(data)
        case .genesisJSON: try GenesisHarness.run(data)
        case .configTOML: try ConfigHarness.run(data)
        case .treePage: try StoreHarnesses.treePage(data)
        }
    }
}
