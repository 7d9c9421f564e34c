// QueryCommand.swift — `trellis query`: read a node's API and print its JSON answer.
//
//   trellis query NAME --node URL [--cert ID | --member ID | …] [--height H] [--prove]   GET /v1/query/NAME
//   trellis query status --node URL                                                     GET /v1/status
//   trellis query block H|latest --node URL                                             GET /v1/blocks/H
//   trellis query tx HASH --node URL                                                    GET /v1/tx/HASH
//
// With --key FILE every request is signed (docs/ACCESS.md): a node under the consortium read policy answers a member
// only about its own objects, and regulators, auditors and the node's operator about everything.
// With --json (or when standard output is not a terminal) prints the node's JSON on one line, exactly; at a
// terminal, a readable layout of it (HumanOutput.swift). Exit 0 on an answer; 1 when the node answers an API error
// (the error is printed the same way); 2 for bad input or an unreachable node (message on standard error).
import ArgumentParser
import Foundation

struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Ask a node: domain queries (lineage, holdings, exposure, provenance, …), status, blocks, transactions.",
        discussion: "`trellis query NAME` runs a domain query (member, lineage, holdings, exposure, green_backed, credit_blocks, provenance, retirements, supply, evidence, evidence_by); `status`, `block` and `tx` read the chain.",
        subcommands: [Named.self, Status.self, BlockAt.self, TxLookup.self],
        defaultSubcommand: Named.self
    )

    /// The node's domain queries (`NodeQueries.catalogue`; QueryNamesTests keeps them equal).
    static let knownQueries = ["member", "lineage", "holdings", "exposure", "green_backed", "credit_blocks", "provenance", "retirements", "supply", "evidence", "evidence_by"]

    /// A note for a refused (401/403) query whose name this trellis does not know: the node checks the key's scope
    /// before the name, so a typo (`holding`) read as a refusal of the key. Nil for a known name.
    static func unknownNameNote(_ name: String) -> String? {
        knownQueries.contains(name) ? nil
            : "note: \"\(name)\" is not a query this trellis knows (\(knownQueries.joined(separator: ", "))); the node checks the key before the query's name"
    }

    struct Named: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "A domain query (GET /v1/query/NAME); `trellis query NAME …` runs it.",
            discussion: """
            Parameters by query: member --id; lineage --cert; holdings --member; credit_blocks --owner; provenance --program --serial; \
            retirements --beneficiary [--from --to] or --retirement; evidence --hash; evidence_by --member [--after HASH --limit N]; exposure, green_backed and supply take none. \
            --prove adds the state proof of every key the answer read, against the state root at that height.
            """
        )

        @Argument(help: "The query: member, lineage, holdings, exposure, green_backed, credit_blocks, provenance, retirements, supply, evidence, evidence_by.") var name: String
        @Option(help: "The node's API URL, e.g. http://127.0.0.1:26700.") var node: String
        @Option(help: "A member id (query member).") var id: String?
        @Option(help: "A certificate piece id (query lineage).") var cert: String?
        @Option(help: "A member id (query holdings, evidence_by).") var member: String?
        @Option(help: "A document's SHA-256, 64 hex digits (query evidence).") var hash: String?
        @Option(help: "A member id (query credit_blocks).") var owner: String?
        @Option(help: "A program id (query provenance).") var program: String?
        @Option(parsing: .unconditional, help: "A serial number (query provenance).", transform: NumberArgument.parse) var serial: UInt64?
        @Option(help: "A beneficiary (query retirements).") var beneficiary: String?
        @Option(parsing: .unconditional, help: "From time, Unix seconds (query retirements).", transform: NumberArgument.parse) var from: Int64?
        @Option(parsing: .unconditional, help: "To time, Unix seconds (query retirements).", transform: NumberArgument.parse) var to: Int64?
        @Option(help: "A retirement id (query retirements).") var retirement: String?
        @Option(help: "Start after this document hash: the previous page's next (query evidence_by).") var after: String?
        @Option(parsing: .unconditional, help: "Page size, 1…1000, default 100 (query evidence_by).", transform: NumberArgument.parse) var limit: Int?
        @Option(parsing: .unconditional, help: "Answer as of this committed height (default: the latest).", transform: NumberArgument.parse) var height: UInt64?
        @Flag(help: "Include the state proofs of every key read.") var prove = false
        @OptionGroup var output: OutputOptions
        @Option(help: "Key file that signs the request (docs/ACCESS.md): a member key, or the node's own key.") var key: String?

        func run() async throws {
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter && $0.isLowercase || $0 == "_" }) else {
                throw badInput("query name \"\(name)\" must be lower-case letters and _ (e.g. lineage); see `trellis query --help`")
            }
            let parameters: [(String, String?)] = [
                ("id", id), ("cert", cert), ("member", member), ("owner", owner), ("program", program), ("serial", serial.map(String.init)),
                ("beneficiary", beneficiary), ("from", from.map(String.init)), ("to", to.map(String.init)), ("retirement", retirement), ("hash", hash),
                ("after", after), ("limit", limit.map(String.init)),
                ("height", height.map(String.init)), ("prove", prove ? "true" : nil),
            ]
            let query = parameters.compactMap { key, value in value.map { "\(key)=\(QueryPrint.encode($0))" } }.joined(separator: "&")
            try await QueryPrint.get(node: node, path: "/v1/query/\(name)" + (query.isEmpty ? "" : "?" + query), output: output, key: key,
                                     refusalNote: Query.unknownNameNote(name))
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "The node's status: chain id, height, state root, validators, peers (GET /v1/status).")
        @Option(help: "The node's API URL.") var node: String
        @Option(help: "Key file that signs the request (docs/ACCESS.md): a member key, or the node's own key.") var key: String?
        @OptionGroup var output: OutputOptions
        func run() async throws { try await QueryPrint.get(node: node, path: "/v1/status", output: output, key: key) }
    }

    struct BlockAt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "block", abstract: "A committed block with its certificate (GET /v1/blocks/H).")
        @Argument(help: "A height, or latest.") var height: String
        @Option(help: "The node's API URL.") var node: String
        @Option(help: "Key file that signs the request (docs/ACCESS.md): a member key, or the node's own key.") var key: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            guard height == "latest" || UInt64(height) != nil else { throw badInput("height \"\(height)\" must be a non-negative integer or latest") }
            try await QueryPrint.get(node: node, path: "/v1/blocks/\(height)", output: output, key: key)
        }
    }

    struct TxLookup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tx", abstract: "A transaction's status, height, receipt and body (GET /v1/tx/HASH).")
        @Argument(help: "The transaction hash, 64 hex digits.") var hash: String
        @Option(help: "The node's API URL.") var node: String
        @Option(help: "Key file that signs the request (docs/ACCESS.md): a member key, or the node's own key.") var key: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else { throw badInput("transaction hash \"\(hash)\" must be 64 hex digits") }
            try await QueryPrint.get(node: node, path: "/v1/tx/\(hash.lowercased())", output: output, key: key)
        }
    }
}

/// GET and print, with the exit codes of `trellis query`.
enum QueryPrint {
    /// `refusalNote` goes to standard error after a 401/403 answer (beside the key's note).
    static func get(node: String, path: String, output: OutputOptions, key: String? = nil, refusalNote: String? = nil) async throws {
        let api = try await NodeAPI(url: node).signing(keyFile: key)
        let url = api.base + path
        let (code, object, raw): (Int, [String: Any]?, Data)
        do { (code, object, raw) = try await HTTP.get(url, timeoutSeconds: 30, credentials: api.credentials) } catch { throw badInput("\(error)") }
        guard object != nil else { throw badInput("\(url) answered \(code) with a non-JSON body: \(String(decoding: raw.prefix(200), as: UTF8.self))") }
        output.print(json: raw)
        if code == 200 { return }
        if let note = api.refusedKeyNote(status: code, answer: object) { printError(note) }
        if code == 401 || code == 403, let refusalNote { printError(refusalNote) }
        // The caller's mistake (a missing or malformed parameter, a query name the node does not know) is bad input,
        // exit 2 like every other; a refusal or an absent object is the node's answer, exit 1.
        let error = object?["error"] as? [String: Any]
        if code == 400 || (code == 404 && (error?["message"] as? String)?.hasPrefix("unknown query") == true) { throw ExitCode(2) }
        throw ExitCode(1)
    }

    /// Percent-encodes a query parameter value (only unreserved characters are left as they are).
    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
}
