// TxGovernanceCommands.swift — friendly `trellis tx` subcommands for membership and governance
// (docs/TRANSACTIONS.md §M): key rotation, proposals and approvals. Each submits through `TxSubmitOptions.submit`,
// so output and exit codes are those of `tx send`.
import ArgumentParser
import Foundation
import TrellisLedger

struct MemberCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "member", abstract: "A member's own keys (member.rotate_keys).", subcommands: [RotateKeys.self])

    struct RotateKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rotate-keys", abstract: "The signer adds and/or removes its own public keys (member.rotate_keys).")
        @Option(help: "A public key (64 hex) to add; repeatable.") var add: [String] = []
        @Option(help: "A public key (64 hex) to remove; repeatable.") var remove: [String] = []
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            guard !add.isEmpty || !remove.isEmpty else { throw badInput("give at least one --add or --remove key") }
            try await options.submit(kind: "member.rotate_keys") { _ in ["add_keys": add, "remove_keys": remove] }
        }
    }
}

struct GovernanceCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "governance",
        abstract: "M-of-N governance: propose an action, approve a proposal.",
        subcommands: [Propose.self, Approve.self]
    )

    struct Propose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "propose",
            abstract: "A governor proposes an action; it counts as the proposer's approval (governance.propose).",
            discussion: #"The action is JSON as in docs/TRANSACTIONS.md §M, e.g. --action '{"type":"member.suspend","member_id":"supplier3"}'. The proposal id is in the receipt's "created"."#
        )
        @Option(help: "The action as JSON, or @FILE.") var action: String
        @Option(help: "Why you propose it, e.g. \"audit finding 12\" (at most 512 bytes; may be left out). Stored with the proposal for the other governors to read before they approve.") var summary = ""
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            guard let object = try? JSONSerialization.jsonObject(with: try jsonArgument(action)), object is [String: Any] else {
                throw badInput("--action must be a JSON object with a \"type\" (docs/TRANSACTIONS.md §M)")
            }
            try await options.submit(kind: "governance.propose") { _ in ["action": object, "summary": summary] }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve", abstract: "A governor approves an open proposal; the approval reaching the quorum executes it (governance.approve).")
        @Option(help: "The proposal id (prop-…).") var proposal: String
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "governance.approve") { _ in ["proposal_id": proposal] }
        }
    }
}
