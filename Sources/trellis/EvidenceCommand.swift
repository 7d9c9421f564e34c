// EvidenceCommand.swift — `trellis evidence attest|revoke|verify|hash`: document attestation (存证) from a file.
//
//   trellis evidence attest FILE --kind invoice --title "Invoice INV-1" [--meta k=v]… [--ref kind:id]… --node URL --key K
//   trellis evidence revoke FILE [--reason R] --node URL --key K
//   trellis evidence verify FILE --node URL --genesis genesis.json [--proof-out P] [--json]
//   trellis evidence hash FILE
//
// The file is hashed locally (SHA-256 of its bytes, memory-mapped); only the hash leaves the machine. `attest` and
// `revoke` submit through `TxSubmitOptions.submit` (output and exit codes of `tx send`). `verify` fetches the
// record `attest/<hash>` with its state proof and the certified header of the latest height, and checks it against
// the pinned genesis before trusting any of it: TrellisAudit's `LightClient` follows the node's certified headers from
// the genesis to that height through every validator-set change (skipping verification with bisection,
// docs/LIGHT-CLIENT.md), and `ProofChecker` checks the proof's header is that block, its certificate is signed by a
// quorum of the set in force there, and the state proof against its state root. What it trusts: the genesis file
// and the assumption that less than a third of each trusted validator set is faulty; nothing from the node. Exit 0: attested and at least one attestation stands;
// 1: never attested, every attestation withdrawn, or the node's answer does not verify; 2: bad input or unreachable.
import ArgumentParser
import Foundation
import TrellisAudit
import TrellisCodec
import TrellisCrypto
import TrellisLedger

struct EvidenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "Attest documents by their SHA-256 (evidence.attest / evidence.revoke) and prove attestations offline.",
        subcommands: [Attest.self, Revoke.self, Verify.self, HashFile.self]
    )

    struct Attest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "attest", abstract: "Hash FILE locally and attest the hash (evidence.attest); only the hash is sent.")
        @Argument(help: "The document's file: hashed here, and only its SHA-256 leaves this machine.") var file: String
        @Option(help: "contract, invoice, bill_of_lading, verification_report, delivery_note or other.") var kind: String
        @Option(help: "A short title, e.g. \"PO-1 invoice\" (1…256 bytes). Kept in the attestation record, which anyone holding the document's hash can read.") var title: String
        @Option(help: "Metadata entry KEY=VALUE (repeatable).") var meta: [String] = []
        @Option(help: "A reference KIND:ID (repeatable), e.g. certificate:cert-1a2b or attestation:<64 hex>.") var ref: [String] = []
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            let hash = try EvidenceFile.hash(file)
            var metadata: [String: String] = [:]
            for entry in meta {
                guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else { throw badInput("--meta \"\(entry)\" must be KEY=VALUE") }
                let key = String(entry[..<eq])
                guard metadata[key] == nil else { throw badInput("--meta names \(key) twice") }
                metadata[key] = String(entry[entry.index(after: eq)...])
            }
            var refs: [[String: String]] = []
            for entry in ref {
                guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex else { throw badInput("--ref \"\(entry)\" must be KIND:ID") }
                refs.append(["kind": String(entry[..<colon]), "id": String(entry[entry.index(after: colon)...])])
            }
            let payload: [String: Any] = ["doc_hash": hash.hex, "doc_kind": kind, "title": title, "metadata": metadata, "refs": refs]
            try await options.submit(kind: EvidenceContract.attest) { _ in payload }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Withdraw your attestation of FILE's hash (evidence.revoke); the record keeps it as withdrawn.")
        @Argument(help: "The document's file: hashed here, and only its SHA-256 leaves this machine.") var file: String
        @Option(help: "Why you withdraw it, e.g. \"superseded by INV-1b\" (at most 256 bytes; may be left out). Kept beside your attestation in the record, which anyone holding the document's hash can read.") var reason: String = ""
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            let hash = try EvidenceFile.hash(file)
            let reason = self.reason
            try await options.submit(kind: EvidenceContract.revoke) { _ in ["doc_hash": hash.hex, "reason": reason] }
        }
    }

    struct HashFile: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "hash", abstract: "Print FILE's SHA-256 (what attest sends).")
        @Argument(help: "The document's file: hashed here, and only its SHA-256 leaves this machine.") var file: String
        @Flag(help: "Print one JSON object (file, sha256).") var json = false
        func run() throws {
            let hash = try EvidenceFile.hash(file).hex
            print(json ? jsonObject(["file": file, "sha256": hash]) : hash)
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Hash FILE, fetch its attestation record with a state proof and check it offline against the pinned genesis.",
            discussion: "Exit 0: attested (at least one attestation stands); 1: not attested, every attestation withdrawn, or the node's answer does not verify; 2: bad input or node unreachable."
        )
        @Argument(help: "The document's file: hashed here, and only its SHA-256 leaves this machine.") var file: String
        @Option(help: "The node's API URL.") var node: String
        @Option(help: "genesis.json of the chain (the trust anchor: its validators must sign the header).") var genesis: String
        @Option(help: "Also write the proof (format trellis-proof, checkable with `trellis audit check-proof`).") var proofOut: String?
        @Flag(help: "Print one JSON object.") var json = false
        @Option(help: "Key file that signs the requests (docs/ACCESS.md); attestations are readable without one.") var key: String?

        func run() throws {
            let hash = try EvidenceFile.hash(file)
            guard let url = URL(string: node), url.scheme == "http" || url.scheme == "https" else { throw badInput("--node must be an http(s) URL, not \(node)") }
            let document: GenesisDocument
            do { document = try GenesisDocument.load(path: genesis) } catch { throw badInput("\(genesis): \(error)") }
            let client = NodeClient(baseURL: url, genesis: document)
            if let key {
                let signingKey: SigningKey
                do { signingKey = try KeyFile.read(from: key) } catch { throw badInput("--key: \(error.description)") }
                do { try client.sign(with: signingKey) } catch { throw badInput("cannot reach \(node): \(error.description)") }
            }
            let proof: ProofFile
            do { proof = try ProofBuilder.state(EvidenceKeys.record(hash), node: client) } catch {
                // Reading failed (unreachable, or no block yet): nothing was answered, so this is not a "no".
                throw badInput("cannot read the attestation of \(hash.hex) from \(node): \(error.description)")
            }
            if let proofOut { try auditing { () throws(AuditError) in try ProofBuilder.write(proof, to: proofOut) } }
            // The header's validator set is not taken from the node: the light client follows certified headers from
            // the pinned genesis to the proof's height (validator-set changes included) and yields the set in force there.
            let certified: LightBlock, setChanges: Int
            do { (certified, setChanges) = try Self.certifiedBlock(atHeight: proof.height, genesis: document, node: url) } catch {
                if case .verificationFailed(let height, _) = error {
                    // Block 1 is the one a genesis certifies directly (it names the genesis as its previous block and
                    // is signed by the genesis validators): failing there means another chain, not a forged answer.
                    let hint = height == 1 ? " — \(node) runs a chain that does not start from \(genesis): pass the genesis.json of the chain that node runs" : ""
                    throw failure("the node's headers up to height \(proof.height) do not verify from \(genesis): \(error.description)\(hint)")
                }
                throw badInput("cannot follow the certified headers of \(node) to height \(proof.height): \(error.description)")
            }
            let fact: CheckedFact
            do { fact = try ProofChecker.check(proof, genesis: document, validators: certified.validators) } catch {
                if case .verificationFailed = error {
                    throw failure("the node's answer for \(hash.hex) does not verify against \(genesis): \(error.description)")
                }
                throw badInput("the node's answer for \(hash.hex) cannot be checked: \(error.description)")
            }
            let header: BlockHeader
            do { header = try CanonicalDecoder.decode(BlockHeader.self, from: try Hex.decode(proof.headerHex)) } catch {
                throw failure("the certified header does not decode: \(error)")
            }
            guard header.hash == certified.hash else {
                throw failure("the proof's header at height \(proof.height) is block \(header.hash.hex), but the light client verified block \(certified.hash.hex) there")
            }
            guard let valueHex = proof.state?.valueHex else {
                report(hash: hash, record: nil, fact: fact, certifiedTime: header.time, validators: certified.validators, setChanges: setChanges)
                throw ExitCode(1)
            }
            let record: EvidenceRecord
            do { record = try CanonicalDecoder.decode(EvidenceRecord.self, from: try Hex.decode(valueHex)) } catch {
                throw failure("the proven record of \(hash.hex) does not decode: \(error)")
            }
            guard record.docHash == hash else { throw failure("the proven record is for \(record.docHash.hex), not \(hash.hex)") }
            report(hash: hash, record: record, fact: fact, certifiedTime: header.time, validators: certified.validators, setChanges: setChanges)
            if !record.isActive { throw ExitCode(1) }
        }

        /// The light block at `height`, verified from `genesis` through every validator-set change (TrellisAudit's
        /// `LightClient`, docs/LIGHT-CLIENT.md): skipping verification with bisection over the node's public headers.
        /// Also returns how many validator-set changes the verified steps crossed.
        static func certifiedBlock(atHeight height: UInt64, genesis: GenesisDocument, node: URL) throws(AuditError) -> (LightBlock, Int) {
            var client = LightClient(trusted: .genesis(genesis))
            let steps = try client.verify(to: height, provider: NodeLightProvider(baseURL: node))
            guard let last = steps.last, last.block.height == height else {
                throw .verificationFailed(height: height, message: "the light client stopped before height \(height)")
            }
            return (last.block, steps.filter(\.validatorSetChanged).count)
        }

        func report(hash: Hash, record: EvidenceRecord?, fact: CheckedFact, certifiedTime: Int64, validators: ValidatorSet, setChanges: Int) {
            let status = record.map { $0.isActive ? "attested" : "revoked" } ?? "not_attested"
            if json {
                var out: [String: Any] = ["doc_hash": hash.hex, "status": status, "proven_at_height": fact.height,
                                          "proven_block_hash": fact.blockHash.hex, "proven_block_time": certifiedTime,
                                          "validator_set_hash": validators.hash.hex, "validator_set_changes": setChanges]
                if let record, let data = try? JSONEncoder().encode(record), let object = try? JSONSerialization.jsonObject(with: data) {
                    out["record"] = object
                }
                print(jsonObject(out))
                return
            }
            guard let record, !record.attestations.isEmpty else {
                print("NOT ATTESTED: \(hash.hex) has no attestation (proven absent at height \(fact.height), block \(fact.blockHash.hex))")
                return
            }
            print("\(record.isActive ? "ATTESTED" : "REVOKED"): \(hash.hex) (\(record.docKind.rawValue)) — proven at height \(fact.height), block \(fact.blockHash.hex), time \(Self.utc(certifiedTime))")
            print("  header followed from the pinned genesis across \(setChanges) validator-set change\(setChanges == 1 ? "" : "s"); set in force: \(validators.hash.hex) (\(validators.validators.count) validators)")
            for (i, a) in record.attestations.enumerated() {
                let role = i == 0 ? "attested" : "co-attested"
                let withdrawn = a.withdrawal.map { " — WITHDRAWN at height \($0.height) (\(Self.utc($0.time)))" + ($0.reason.isEmpty ? "" : ": \($0.reason)") } ?? ""
                print("  \(a.attester) \(role) \"\(a.title)\" at height \(a.height), \(Self.utc(a.time)), tx \(a.txHash.hex)\(withdrawn)")
            }
        }

        static func utc(_ seconds: Int64) -> String {
            let formatter = ISO8601DateFormatter()
            formatter.timeZone = TimeZone(identifier: "UTC")
            return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
    }
}

/// Hashing a document file.
enum EvidenceFile {
    /// SHA-256 of the file's bytes (memory-mapped, so a large file is not copied into memory).
    static func hash(_ path: String) throws -> Hash {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw badInput("\(path) is not a readable file")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw badInput("cannot read \(path): \(error.localizedDescription)")
        }
        return data.withUnsafeBytes { raw in SHA256.hash(raw.bindMemory(to: UInt8.self)) }
    }
}
