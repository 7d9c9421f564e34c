// LightCommand.swift — `trellis light`: follow certified headers from a trusted point, check state and transaction
// proofs against them, cross-check witnesses (docs/LIGHT-CLIENT.md).
//
// Thin shell over TrellisAudit's `LightClient`. Exit codes: 0 verified (witnesses agree, or could not say: warnings
// on stderr); 1 the primary served something that does not verify (header, validator set, certificate, proof) or
// could not be read; 2 bad usage or unreadable trust input; 3 a fork: a witness serves a conflicting certified header
// (both headers are printed).
import ArgumentParser
import Foundation
import TrellisAudit
import TrellisCodec
import TrellisCrypto
import TrellisLedger

struct Light: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "light",
        abstract: "Verify a node's certified headers from a trusted genesis or block, its state proofs, and witnesses (light client)."
    )

    /// The exit code of a detected fork.
    static let forkExitCode: Int32 = 3

    @Option(help: "Base URL of the node to follow (the primary).")
    var node: String

    @Option(help: "What to trust: a genesis.json file, or HEIGHT:HASH of a block whose hash you got out of band.")
    var trust: String

    @Option(help: "Another node's base URL to cross-check the verified header with (repeatable).")
    var witness: [String] = []

    @Option(parsing: .unconditional, help: "The height to verify (default: the primary's newest certified height).", transform: NumberArgument.parse)
    var height: UInt64?

    @Flag(help: "Verify every header one by one (adjacent steps only) instead of skipping.")
    var sequential = false

    @Option(help: "A state key (text) whose value to prove at the verified height (repeatable).")
    var state: [String] = []

    @Option(help: "A transaction hash to prove (its inclusion and receipt); its block's height becomes the verified height.")
    var tx: String?

    @Option(help: "Key file that signs the state reads (docs/ACCESS.md): a regulator's or auditor's member key, or a node's own key.")
    var key: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        guard let url = Self.url(node) else { throw badInput("--node must be an http(s) URL, not \(node)") }
        let witnesses = try witness.map { text throws -> NodeLightProvider in
            guard let url = Self.url(text) else { throw badInput("--witness must be an http(s) URL, not \(text)") }
            return NodeLightProvider(baseURL: url)
        }
        var signingKey: SigningKey? = nil
        if let key {
            do { signingKey = try KeyFile.read(from: key) } catch { throw badInput("--key: \(error.description)") }
        }
        var txHash: Hash? = nil
        if let tx {
            do { txHash = try Hash(hex: tx) } catch { throw badInput("--tx: \(error)") }
            guard height == nil else { throw badInput("--tx is proved at its own block's height: drop --height") }
        }
        let primary = NodeLightProvider(baseURL: url)
        var client = try auditing { () throws(AuditError) -> LightClient in try openTrust(primary: primary) }
        let origin = client.trusted
        if let signingKey {
            primary.credentials = try auditing { () throws(AuditError) in try NodeClient.credentials(for: signingKey, chainID: origin.chainID, baseURL: url) }
        }
        // A transaction's proof is read first: its block is the height to verify.
        let txProof = try txHash.map { hash in try auditing { () throws(AuditError) in try primary.provedTransaction(hash) } }
        let target = try auditing { () throws(AuditError) -> UInt64 in
            if let txProof { return txProof.height }
            if let height { return height }
            return try primary.latestCertifiedHeight()
        }
        if let txProof, txProof.height <= origin.height {
            throw badInput("transaction \(tx ?? "") is in block \(txProof.height), at or below the trusted height \(origin.height): trust an earlier block or the genesis")
        }
        guard target > origin.height else { throw badInput("nothing to verify: height \(target) is not above the trusted height \(origin.height)") }

        let steps = try auditing { () throws(AuditError) -> [LightStep] in
            guard sequential else { return try client.verify(to: target, provider: primary) }
            var all: [LightStep] = []
            while client.trusted.height < target { all += try client.verify(to: client.trusted.height + 1, provider: primary) }
            return all
        }
        guard let verified = steps.last?.block else { throw ExitCode(1) }
        let proofs = try auditing { () throws(AuditError) -> [ProvedState] in
            try state.map { (text: String) throws(AuditError) -> ProvedState in
                let keyBytes = Array(text.utf8)
                let (value, proof) = try primary.provedState(keyBytes, atHeight: verified.height)
                try LightClient.checkState(key: keyBytes, value: value, proof: proof, against: verified)
                return ProvedState(key: text, value_hex: value.map { Hex.encode($0) }, value_sha256: value.map { SHA256.hash($0).hex })
            }
        }
        let provedTransaction = try txHash.flatMap { hash in
            try txProof.map { proof in
                let checked = try auditing { () throws(AuditError) in try LightClient.checkTransaction(hash, fact: proof.fact, against: verified) }
                return ProvedTransaction(hash: hash.hex, height: checked.height, index: proof.fact.index, statement: checked.statement)
            }
        }
        let reports = witnesses.map { LightClient.crossCheck(verified, origin: origin, witness: $0) }
        let output = LightOutput(origin: origin, steps: steps, verified: verified, proofs: proofs, transaction: provedTransaction, reports: reports)
        if json {
            try printJSON(output)
            // The JSON carries every verdict; a person watching the terminal still sees the warnings (the text
            // output already says them on stdout, once).
            for report in reports {
                switch report {
                case .faulty(let witness, let reason): printError("warning: witness \(witness) is faulty: \(reason)")
                case .unavailable(let witness, let reason): printError("warning: witness \(witness) could not confirm: \(reason)")
                case .agrees, .fork: break
                }
            }
        } else { output.printText() }
        if reports.contains(where: { if case .fork = $0 { return true } else { return false } }) {
            printError("error: fork detected: a witness serves a conflicting certified header (see above)")
            throw ExitCode(Self.forkExitCode)
        }
    }

    /// The trusted state: a genesis file, or HEIGHT:HASH checked against the primary's light block there.
    func openTrust(primary: NodeLightProvider) throws(AuditError) -> LightClient {
        let parts = trust.split(separator: ":", maxSplits: 1)
        if parts.count == 2, let trustedHeight = UInt64(parts[0]) {
            let hash: Hash
            do { hash = try Hash(hex: String(parts[1])) } catch { throw .malformed(line: 0, message: "--trust HEIGHT:HASH: the hash is not 64 hex digits: \(error)") }
            // The chain id comes from the trusted block itself (its hash pins it).
            let block = try primary.lightBlock(atHeight: trustedHeight)
            return try LightClient.trusting(height: trustedHeight, hash: hash, chainID: block.header.chainID, provider: primary)
        }
        let genesis: GenesisDocument
        do { genesis = try GenesisDocument.load(path: trust) } catch {
            throw .unreadable(path: trust, message: "--trust takes a genesis.json or HEIGHT:HASH: \(error)")
        }
        return LightClient(trusted: .genesis(genesis))
    }

    static func url(_ text: String) -> URL? {
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else { return nil }
        return url
    }
}

/// One state value proved against the verified header.
struct ProvedState: Encodable {
    let key: String
    let value_hex: String?
    let value_sha256: String?
}

/// A transaction proved against the verified header (its inclusion at `index` and its receipt).
struct ProvedTransaction: Encodable {
    let hash: String
    let height: UInt64
    let index: UInt64
    let statement: String
}

/// What `trellis light` reports (text or --json).
struct LightOutput: Encodable {
    struct Step: Encodable { let height: UInt64; let block_hash: String; let kind: String; let validator_set_hash: String; let validator_set_changed: Bool; let validators: Int }
    /// A light block in full (a fork report is self-contained evidence: each header with its certificate and the
    /// validator set that certified it).
    struct Header: Encodable { let height: UInt64; let round: UInt32; let block_hash: String; let header_hex: String; let certificate_hex: String; let validator_set_hex: String }
    /// `signers_of_both`: validators whose precommits are in both certificates of a fork (equivocators when
    /// `same_round`).
    struct Witness: Encodable {
        let witness: String; let verdict: String; let reason: String?; let primary: Header?; let conflicting: Header?
        let signers_of_both: [String]?; let same_round: Bool?
    }

    let trusted_height: UInt64
    let trusted_hash: String
    let chain_id: String
    let verified_height: UInt64
    let verified_hash: String
    let state_root: String
    let app_version: UInt32
    let steps: [Step]
    let state: [ProvedState]
    let transaction: ProvedTransaction?
    let witnesses: [Witness]

    init(origin: LightTrustedState, steps: [LightStep], verified: LightBlock, proofs: [ProvedState], transaction: ProvedTransaction?, reports: [WitnessReport]) {
        trusted_height = origin.height
        trusted_hash = origin.blockHash.hex
        chain_id = origin.chainID
        verified_height = verified.height
        verified_hash = verified.hash.hex
        state_root = verified.header.stateRoot.hex
        app_version = verified.header.appVersion
        self.steps = steps.map {
            Step(height: $0.block.height, block_hash: $0.block.hash.hex, kind: $0.kind.rawValue, validator_set_hash: $0.block.header.validatorSetHash.hex,
                 validator_set_changed: $0.validatorSetChanged, validators: $0.block.validators.count)
        }
        state = proofs
        self.transaction = transaction
        func header(_ block: LightBlock) -> Header {
            Header(height: block.height, round: block.header.round, block_hash: block.hash.hex, header_hex: Hex.encode(block.header.canonicalBytes),
                   certificate_hex: Hex.encode(block.certificate.canonicalBytes), validator_set_hex: Hex.encode(block.validators.canonicalBytes))
        }
        func verdict(_ w: String, _ verdict: String, reason: String?) -> Witness {
            Witness(witness: w, verdict: verdict, reason: reason, primary: nil, conflicting: nil, signers_of_both: nil, same_round: nil)
        }
        witnesses = reports.map { report in
            switch report {
            case .agrees(let w): return verdict(w, "agrees", reason: nil)
            case .fork(let w, let primary, let conflicting):
                return Witness(witness: w, verdict: "fork", reason: nil, primary: header(primary), conflicting: header(conflicting),
                               signers_of_both: LightClient.signersOfBoth(primary, conflicting).map(\.hex),
                               same_round: primary.certificate.round == conflicting.certificate.round)
            case .faulty(let w, let reason): return verdict(w, "faulty", reason: reason)
            case .unavailable(let w, let reason): return verdict(w, "unavailable", reason: reason)
            }
        }
    }

    func printText() {
        print(trusted_height == 0 ? "trusted: genesis \(trusted_hash) (chain \(chain_id))" : "trusted: block \(trusted_height) \(trusted_hash) (chain \(chain_id))")
        for step in steps {
            let change = step.validator_set_changed ? "; validator set changed to \(step.validator_set_hash) (\(step.validators) validators)" : ""
            print("\(step.kind) \(step.height) \(step.block_hash)\(change)")
        }
        print("verified: height \(verified_height) block \(verified_hash) state_root \(state_root) app_version \(app_version)")
        for proved in state {
            // Long values as the other commands show long hex at a terminal (start, end, size); --json has them whole.
            let value = proved.value_hex.map { $0.count > HumanFormat.maxHexDigits ? HumanFormat.shortenedHex($0) : "\($0.count / 2) bytes \($0)" } ?? "absent"
            print("state \(proved.key) = \(value) (proved at height \(verified_height))")
        }
        if let transaction { print("proved: \(transaction.statement)") }
        for w in witnesses {
            switch w.verdict {
            case "fork":
                print("FORK: witness \(w.witness) serves block \(w.conflicting?.block_hash ?? "?") at height \(verified_height), certified from the same trusted state; the primary serves \(verified_hash)")
                if let p = w.primary { print("primary header_hex \(p.header_hex)\nprimary certificate_hex \(p.certificate_hex)\nprimary validator_set_hex \(p.validator_set_hex)") }
                if let c = w.conflicting { print("witness header_hex \(c.header_hex)\nwitness certificate_hex \(c.certificate_hex)\nwitness validator_set_hex \(c.validator_set_hex)") }
                let both = w.signers_of_both ?? []
                let how = w.same_round == true ? "in the same round: each equivocated" : "in different rounds: the certificates alone do not say which of them broke the protocol"
                print("signed both: \(both.count) validator\(both.count == 1 ? "" : "s") \(how)" + (both.isEmpty ? "" : ": " + both.joined(separator: " ")))
            default:
                print("witness \(w.witness): \(w.verdict)" + (w.reason.map { " (\($0))" } ?? ""))
            }
        }
    }
}
