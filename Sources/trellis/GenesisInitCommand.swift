// GenesisInitCommand.swift — `trellis genesis init`: the first step of a genesis ceremony, a draft genesis.json
// with the chain id, genesis time and parameters and no members or validators yet.
//
// Exit 0 when written; 2 for bad input (invalid chain id, impossible parameters, an existing file without
// --force). The file is written atomically (GenesisDraft's JSON), so `genesis add` can edit it in place.
import ArgumentParser
import Foundation
import TrellisLedger
import TrellisNode

struct GenesisInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Start a genesis ceremony: write a draft genesis.json (chain id, time, parameters; no members yet).",
        discussion: """
        Then add every organisation with `trellis genesis add validator --from join.json` and `trellis genesis add \
        member …`, check the result with `trellis genesis validate`, and compare `trellis genesis hash` with every \
        member out of band. docs/OPERATIONS.md walks through the whole ceremony.
        """
    )

    @Option(help: "The chain id: 1…64 bytes of [a-z0-9._-].") var chainId: String
    @Option(help: "Where to write the draft.") var out = "genesis.json"
    @Option(parsing: .unconditional, help: "Genesis time, Unix seconds (default: now). Block 1's time must be at least this.", transform: NumberArgument.parse) var time: Int64?
    @Option(help: "Distinct governor approvals that execute a governance proposal.") var governanceQuorum = Parameters.default.governanceQuorum
    @Option(help: "Longest issue → maturity of a payable certificate, seconds.") var maxMaturitySeconds = Parameters.default.maxMaturitySeconds
    @Option(help: "Maturity → may be marked overdue, seconds.") var gracePeriodSeconds = Parameters.default.gracePeriodSeconds
    @Option(help: "Blocks a governance proposal (and its approvals) stays open.") var proposalTtlBlocks = Parameters.default.proposalTTLBlocks
    @Option(help: "How far past the current height a transaction's expires_at_height may be.") var maxTxLifetimeBlocks = Parameters.default.maxTxLifetimeBlocks
    @Option(help: "Time a recipient has to accept a certificate, seconds.") var acceptWindowSeconds = Parameters.default.acceptWindowSeconds
    @Flag(help: "Require certificate.issue's trade_ref.doc_hash and verification.submit's report_hash to be attested by their signer (docs/TRANSACTIONS.md §E).") var requireDocumentAttestation = false
    @Flag(help: "Replace an existing file.") var force = false
    @Flag(help: "Print one JSON object (file, chain_id, genesis_time, parameters) instead of the summary and next steps.") var json = false

    func run() throws {
        let parameters = Parameters(maxMaturitySeconds: maxMaturitySeconds, gracePeriodSeconds: gracePeriodSeconds, governanceQuorum: governanceQuorum,
                                    proposalTTLBlocks: proposalTtlBlocks, maxTxLifetimeBlocks: maxTxLifetimeBlocks, acceptWindowSeconds: acceptWindowSeconds,
                                    requireDocumentAttestation: requireDocumentAttestation)
        let genesisTime = time ?? Int64(Date().timeIntervalSince1970)
        let draft: GenesisDraft
        do { draft = try GenesisDraft(chainID: chainId, genesisTime: genesisTime, parameters: parameters) } catch { throw badInput(error.description) }
        if FileManager.default.fileExists(atPath: out) && !force {
            throw badInput("\(out) already exists; refusing to replace it (pass --force, or choose another --out)")
        }
        try GenesisFileEditor.write(draft, to: out)
        if json {
            print(jsonObject([
                "file": out, "chain_id": draft.chainID, "genesis_time": draft.genesisTime,
                "parameters": [
                    "governance_quorum": parameters.governanceQuorum, "max_maturity_seconds": parameters.maxMaturitySeconds,
                    "grace_period_seconds": parameters.gracePeriodSeconds, "proposal_ttl_blocks": parameters.proposalTTLBlocks,
                    "max_tx_lifetime_blocks": parameters.maxTxLifetimeBlocks, "accept_window_seconds": parameters.acceptWindowSeconds,
                    "require_document_attestation": parameters.requireDocumentAttestation,
                ] as [String: Any],
            ]))
            return
        }
        print("wrote a draft genesis for chain \(draft.chainID) to \(out) (genesis_time \(draft.genesisTime), governance_quorum \(parameters.governanceQuorum))")
        print("next: trellis genesis add validator --genesis \(out) --from join.json   (one per organisation's `trellis node init --json`)")
        print("      trellis genesis add member --genesis \(out) --from join.json | --id ID --legal-name NAME --public-key HEX --role ROLE")
    }
}

/// Loads, checks and atomically rewrites the genesis file a ceremony edits.
enum GenesisFileEditor {
    /// The draft at `path`; exit 2 naming the file and the problem when it is unreadable or breaks a rule.
    static func load(_ path: String) throws -> GenesisDraft {
        do { return try GenesisDraft.load(path: path) } catch { throw badInput("\(path): \(error.description)") }
    }

    /// Replaces `path` with `draft`'s JSON (temporary file + fsync + rename: never half-written).
    static func write(_ draft: GenesisDraft, to path: String) throws {
        let data: Data
        do { data = try draft.json() } catch { throw failure("cannot encode the genesis: \(error)") }
        do { try AtomicFile.write(data + Data("\n".utf8), to: path) } catch { throw failure(error.description) }
    }

    /// One line saying whether the draft is a complete genesis yet, with its hash when it is.
    static func completeness(_ draft: GenesisDraft) -> String {
        do {
            let document = try draft.document()
            return "genesis is valid: hash \(document.hash.hex) (compare it with every member)"
        } catch {
            return "not yet a valid genesis: \(error.description)"
        }
    }
}
