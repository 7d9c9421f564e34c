// AuditCommand.swift — `trellis audit export|verify|prove|check-proof|lineage|provenance|retirements`.
//
// Thin shell over TrellisAudit: parses flags, reports progress on stderr, prints tables (or --json) on stdout.
// Exit codes: 0 valid / done; 1 the chain or proof does not verify (the message names the first bad height), or
// the source failed; 2 unreadable or malformed input (the message names the line).
import ArgumentParser
import Foundation
import TrellisAudit
import TrellisCrypto
import TrellisLedger

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Export, verify and prove the chain offline; provenance reports.",
        subcommands: [AuditExport.self, AuditVerify.self, AuditProve.self, AuditCheckProof.self, AuditLineage.self, AuditProvenance.self, AuditRetirements.self, AuditCertificate.self]
    )
}

/// Runs `body`, turning an `AuditError` into its message on stderr and its exit code.
func auditing<T>(_ body: () throws(AuditError) -> T) throws -> T {
    do { return try body() } catch {
        printError("error: \(error.description)")
        throw ExitCode(error.exitCode)
    }
}

/// Writes a progress line on stderr, overwritten in place — only at a terminal (a log file or a pipe gets none).
func progressLine(_ text: String) {
    guard isatty(STDERR_FILENO) != 0 else { return }
    writeOut(STDERR_FILENO, text + "\r")
}

/// Prints `value` as JSON (keys sorted).
/// One line, keys sorted: the same shape as every other `--json` answer of the CLI (a script reads one line).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Where a command reads the chain: --home or --node (with --genesis).
struct SourceOptions: ParsableArguments {
    @Option(help: "Node home directory (the node must be stopped).")
    var home: String?

    @Option(help: "Base URL of a running node's API, e.g. http://127.0.0.1:26700.")
    var node: String?

    @Option(help: "genesis.json of the chain (with --node: optional, the node's GET /v1/genesis is used and its hash printed).")
    var genesis: String?

    @Option(help: "Key file that signs every request to --node (docs/ACCESS.md): a regulator's or auditor's member key, or the node's own key.")
    var key: String?

    func open() throws -> any ChainSource {
        switch (home, node) {
        case (let home?, nil):
            guard key == nil else { throw badInput("--key signs requests to --node; a --home is read directly") }
            return try auditing { () throws(AuditError) in try HomeChainSource(path: home) }
        case (nil, let node?): return try nodeClient(node)
        default: throw badInput("give exactly one of --home DIR or --node URL")
        }
    }

    func nodeClient(_ node: String) throws -> NodeClient {
        guard let url = URL(string: node), url.scheme == "http" || url.scheme == "https" else { throw badInput("--node must be an http(s) URL, not \(node)") }
        var document: GenesisDocument? = nil
        if let genesis {
            do { document = try GenesisDocument.load(path: genesis) } catch { throw badInput("\(genesis): \(error)") }
        }
        let client = try auditing { () throws(AuditError) in try NodeClient.connect(baseURL: url, genesis: document) }
        if let key {
            let signingKey: SigningKey
            do { signingKey = try KeyFile.read(from: key) } catch { throw badInput("--key: \(error.description)") }
            try auditing { () throws(AuditError) in try client.sign(with: signingKey) }
        }
        if document == nil { printError("genesis \(client.genesis.hash.hex) (chain \(client.genesis.chainID)), as served by \(node)") }
        return client
    }
}

struct AuditExport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write the chain as a verifiable JSON Lines file (docs/EXPORT-FORMAT.md).")

    @OptionGroup var source: SourceOptions

    @Option(help: "Output file.")
    var out: String

    @Option(parsing: .unconditional, help: "First height (default 1). A partial export (from > 1) is for reading a range — `audit lineage`, `audit retirements`, proofs — not for `audit verify`, which re-executes from the genesis and needs height 1.", transform: NumberArgument.parse)
    var from: UInt64?

    @Option(parsing: .unconditional, help: "Last height (default: the last committed).", transform: NumberArgument.parse)
    var to: UInt64?

    @Flag(help: "Print one JSON object (blocks, transactions, file, format, version).")
    var json = false

    func run() throws {
        let chain = try source.open()
        let result = try auditing { () throws(AuditError) in
            try ChainExporter.export(from: chain, to: out, fromHeight: from, toHeight: to) { done, total in progressLine("exported \(done)/\(total) blocks") }
        }
        if json {
            print(jsonObject(["blocks": result.blocks, "transactions": result.transactions, "file": out, "format": ExportHeader.formatName, "version": ExportHeader.formatVersion]))
            return
        }
        print("exported \(result.blocks) blocks, \(result.transactions) transactions to \(out) (format \(ExportHeader.formatName) v\(ExportHeader.formatVersion))")
    }
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify an export (or a stopped node's home) from genesis: links, roots, signatures, certificates, re-execution.")

    @Argument(help: "Export file.")
    var file: String?

    @Option(help: "Verify a node home's store instead of a file.")
    var home: String?

    @Option(help: "Pin the trusted genesis: the chain's genesis.json. Another genesis is refused before anything else is checked.")
    var genesis: String?

    @Option(name: .customLong("genesis-hash"), help: "Pin the trusted genesis by its hash (64 hex digits, as `trellis genesis hash` prints it).")
    var genesisHash: String?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    /// The pinned genesis, if any (at most one of --genesis and --genesis-hash).
    func anchor() throws -> TrustAnchor? {
        switch (genesis, genesisHash) {
        case (nil, nil): return nil
        case (let path?, nil):
            do { return .genesis(try GenesisDocument.load(path: path)) } catch { throw badInput("--genesis \(path): \(error)") }
        case (nil, let hex?):
            do { return .genesisHash(try Hash(hex: hex)) } catch { throw badInput("--genesis-hash: \(error)") }
        default: throw badInput("give at most one of --genesis FILE and --genesis-hash HEX")
        }
    }

    func run() throws {
        let anchor = try anchor()
        let clock = ContinuousClock()
        let start = clock.now
        let progress: VerifyProgress = { phase, done, total in if !json { progressLine("\(phase): \(done)/\(total)") } }
        let summary: VerificationSummary
        switch (file, home) {
        case (let file?, nil): summary = try auditing { () throws(AuditError) in try ChainVerifier.verify(path: file, trusting: anchor, progress: progress) }
        case (nil, let home?):
            summary = try auditing { () throws(AuditError) in try ChainVerifier.verify(home: try HomeChainSource(path: home).source, trusting: anchor, progress: progress) }
        default: throw badInput("give an export FILE or --home DIR (not both)")
        }
        let elapsed = seconds(clock.now - start)
        if json {
            struct Output: Encodable {
                let valid = true
                let summary: VerificationSummary
                let seconds: Double
            }
            try printJSON(Output(summary: summary, seconds: round2(elapsed)))
        } else {
            // The first line names the genesis every other statement is relative to.
            if summary.genesisPinned {
                print("genesis \(summary.genesisHash): pinned (\(genesis != nil ? "--genesis" : "--genesis-hash"))")
            } else {
                print("genesis \(summary.genesisHash): taken from the file, not pinned — compare it with the consortium's published genesis hash, or pass --genesis FILE or --genesis-hash HEX")
            }
            print("valid: chain \(summary.chainID), heights \(summary.fromHeight)…\(summary.toHeight): \(summary.blocks) blocks, \(summary.transactions) transactions, \(summary.signatures) signatures in \(String(format: "%.2f", elapsed)) s")
            print("final state root \(summary.finalStateRoot)")
        }
    }
}

struct AuditProve: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prove", abstract: "Write a self-contained proof of a transaction or a state key against a certified header.")

    @OptionGroup var source: SourceOptions

    @Option(help: "Transaction hash (64 hex digits): its inclusion and receipt, at its block's height. From --node, sign with --key as one of its parties (or a read_all key).")
    var tx: String?

    @Option(help: "State key (text, e.g. cert/cert-0123…).")
    var state: String?

    @Option(parsing: .unconditional, help: "Height of the state (default: latest).", transform: NumberArgument.parse)
    var height: UInt64?

    @Option(help: "Output file.")
    var out: String

    @Flag(help: "Print one JSON object (file, height, kind).")
    var json = false

    func run() throws {
        let chain = try source.open()
        let file: ProofFile
        switch (tx, state) {
        case (let tx?, nil):
            let hash: Hash
            do { hash = try Hash(hex: tx) } catch { throw badInput("--tx: \(error)") }
            guard height == nil else { throw badInput("--height is for --state: a transaction is proved at its own block's height") }
            if let home = chain as? HomeChainSource {
                file = try auditing { () throws(AuditError) in try ProofBuilder.transaction(hash, home: home.source) }
            } else if let node = chain as? NodeClient {
                file = try auditing { () throws(AuditError) in try ProofBuilder.transaction(hash, node: node) }
            } else { preconditionFailure("invalid state: unknown chain source") }
        case (nil, let key?):
            if let home = chain as? HomeChainSource {
                file = try auditing { () throws(AuditError) in try ProofBuilder.state(Array(key.utf8), atHeight: height, home: home.source) }
            } else if let node = chain as? NodeClient {
                file = try auditing { () throws(AuditError) in try ProofBuilder.state(Array(key.utf8), atHeight: height, node: node) }
            } else { preconditionFailure("invalid state: unknown chain source") }
        default: throw badInput("give exactly one of --tx HASH or --state KEY")
        }
        try auditing { () throws(AuditError) in try ProofBuilder.write(file, to: out) }
        if json {
            print(jsonObject(["file": out, "height": file.height, "kind": tx != nil ? "transaction" : "state"]))
            return
        }
        print("wrote proof for height \(file.height) to \(out)")
    }
}

struct AuditCheckProof: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-proof", abstract: "Verify a proof file offline against genesis (or the validator set from a verified export).")

    @Argument(help: "Proof file.")
    var file: String

    @Option(help: "genesis.json of the chain.")
    var genesis: String

    @Option(help: "A chain export covering the proof's height: verified, then its validator set at that height is used.")
    var export: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let document: GenesisDocument
        do { document = try GenesisDocument.load(path: genesis) } catch { throw badInput("\(genesis): \(error)") }
        let fact = try auditing { () throws(AuditError) -> CheckedFact in
            let proof = try ProofChecker.read(path: file)
            var validators: ValidatorSet? = nil
            if let export {
                let replay = try ChainVerifier.verify(try ExportFile.read(path: export)).replay
                do { validators = try replay.engine.validatorSet(forHeight: proof.height) } catch {
                    throw AuditError.source("the export does not cover height \(proof.height): \(error)")
                }
            }
            return try ProofChecker.check(proof, genesis: document, validators: validators)
        }
        if json {
            struct Output: Encodable { let valid = true; let height: UInt64; let block_hash: String; let statement: String }
            try printJSON(Output(height: fact.height, block_hash: fact.blockHash.hex, statement: fact.statement))
        } else {
            print("valid at height \(fact.height) (block \(fact.blockHash.hex)): \(fact.statement)")
        }
    }
}
