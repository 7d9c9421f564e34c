// AuditCertificateCommand.swift — `trellis audit certificate retirement RET_ID | attestation HASH | holding MEMBER
// CERT_ID`: writes an offline certificate (docs/EXPORT-FORMAT.md §7.1) that `trellis audit check-proof` verifies with
// the genesis alone, and prints (and with --text writes) what it proves and at which height; with --json, one JSON
// object naming the file, the subject, the height and block hash, and the statement.
//
// Exit codes as `audit prove`: 0 written; 1 no such record, its claim does not hold (e.g. another member holds the
// certificate), or the source does not verify or cannot be read; 2 bad input.
import ArgumentParser
import Foundation
import TrellisAudit
import TrellisCrypto
import TrellisLedger

struct AuditCertificate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificate",
        abstract: "Write a self-contained certificate of a retirement, an attestation or a holding, checkable offline with `audit check-proof`.",
        subcommands: [Retirement.self, Attestation.self, Holding.self]
    )

    struct Options: ParsableArguments {
        @OptionGroup var source: SourceOptions

        @Option(parsing: .unconditional, help: "The height to certify (default: the newest certified height).", transform: NumberArgument.parse)
        var height: UInt64?

        @Option(help: "Output file (one JSON line).")
        var out: String

        @Option(help: "Also write the human-readable statement to this file.")
        var text: String?

        @Flag(help: "Print one JSON object (file, subject, height, block_hash, genesis_hash, statement) instead of the statement.")
        var json = false

        func write(_ subject: ProofSubject) throws {
            let chain = try source.open()
            let file = try auditing { () throws(AuditError) -> ProofFile in
                if let home = chain as? HomeChainSource {
                    let store = home.source
                    return try AuditCertificates.build(subject, genesis: store.genesis, provider: store, height: height) { (key, h) throws(AuditError) in
                        let read: StateRead
                        do { read = try store.reader.read(key, atHeight: h, prove: true) } catch { throw .source("cannot read \(String(decoding: key, as: UTF8.self)) at height \(h): \(error)") }
                        guard let proof = read.proof else { throw .source("the store returned no proof") }
                        return (read.value, proof)
                    }
                }
                guard let node = chain as? NodeClient else { preconditionFailure("invalid state: unknown chain source") }
                let provider = NodeLightProvider(baseURL: node.baseURL, credentials: node.credentials)
                return try AuditCertificates.build(subject, genesis: node.genesis, provider: provider, height: height) { (key, h) throws(AuditError) in
                    try provider.provedState(key, atHeight: h)
                }
            }
            try auditing { () throws(AuditError) in try ProofBuilder.write(file, to: out) }
            // The statement as `check-proof` will establish it (the file is checked before anything is printed).
            let fact = try auditing { () throws(AuditError) -> CheckedFact in try ProofChecker.check(file, genesis: chain.genesis) }
            let statement = "Trellis offline certificate, checked against genesis \(chain.genesis.hash.hex)\n\(fact.statement)\n"
                + "Verify: trellis audit check-proof \(out) --genesis GENESIS.json (a genesis whose hash is \(chain.genesis.hash.hex))\n"
            if let text {
                do { try Data(statement.utf8).write(to: URL(fileURLWithPath: text), options: .atomic) } catch {
                    throw failure("cannot write \(text): \(error.localizedDescription)")
                }
            }
            if json {
                var subjectFields: [String: Any] = ["type": subject.type, "id": subject.id]
                if let member = subject.member { subjectFields["member"] = member }
                print(jsonObject(["file": out, "subject": subjectFields, "height": fact.height, "block_hash": fact.blockHash.hex,
                                  "genesis_hash": chain.genesis.hash.hex, "statement": fact.statement]))
                return
            }
            print(statement, terminator: "")
        }
    }

    struct Retirement: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retirement", abstract: "Certify a retirement of credits (retirement/<id>).")
        @Argument(help: "The retirement id.") var retirementID: String
        @OptionGroup var options: Options
        func run() throws { try options.write(ProofSubject(type: ProofSubject.retirement, id: retirementID)) }
    }

    struct Attestation: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "attestation", abstract: "Certify the attestation record of a document hash (attest/<hash>).")
        @Argument(help: "The document's SHA-256 (64 hex digits).") var hash: String
        @OptionGroup var options: Options
        func run() throws {
            let digest: Hash
            do { digest = try Hash(hex: hash.lowercased()) } catch { throw badInput("HASH: \(error)") }
            try options.write(ProofSubject(type: ProofSubject.attestation, id: digest.hex))
        }
    }

    struct Holding: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "holding", abstract: "Certify that a member holds a payable certificate (cert/<id>).")
        @Argument(help: "The holder's member id.") var member: String
        @Argument(help: "The payable certificate id.") var certificateID: String
        @OptionGroup var options: Options
        func run() throws { try options.write(ProofSubject(type: ProofSubject.holding, id: certificateID, member: member)) }
    }
}
