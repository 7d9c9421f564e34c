// TxCommand.swift — `trellis tx send|kinds` and the friendly per-kind subcommands (`tx certificate split`, …).
//
// `tx send` takes any kind with its payload as JSON; the friendly subcommands build the payload from typed flags.
// All of them sign and submit through `TxSubmitOptions.submit` (TxSubmission.swift), so they print the same one JSON
// object — hash, status (committed | rejected | pending), height, receipt (with `created`) or error {code, message}
// — and exit 0 committed (or accepted without --wait), 1 rejected by a rule, 2 bad input or an unreachable node, 3
// not committed within --wait (it may still commit).
import ArgumentParser
import Foundation
import TrellisLedger

struct Tx: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tx",
        abstract: "Build, sign and submit transactions; list transaction kinds.",
        subcommands: [Send.self, Kinds.self,
                      CreditLineCommands.self, CertificateCommands.self, FinancingCommands.self, AssetCommands.self,
                      ProgramCommands.self, MethodologyCommands.self, ProjectCommands.self, VerificationCommands.self, CreditCommands.self,
                      MemberCommands.self, GovernanceCommands.self]
    )

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "send", abstract: "Sign a transaction with member keys and submit it to a node.")

        @Option(help: "The transaction kind, e.g. certificate.issue (see `trellis tx kinds`).") var kind: String
        @Option(help: "The payload as JSON (fields as in docs/TRANSACTIONS.md), or @FILE.") var payload: String
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: kind, payloadJSON: try jsonArgument(payload))
        }
    }

    struct Kinds: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "kinds", abstract: "List every transaction kind: who signs it, co-signers, what it does.")

        @Flag(help: "Print the list as one line of JSON, for scripts.") var json = false

        func run() {
            let kinds = ContractRegistry.standard.kinds
            if json {
                // One compact line like every other --json answer; `cosigners` only where a kind has co-signers.
                let list = kinds.map { k -> [String: Any] in
                    var entry: [String: Any] = ["kind": k.kind, "signer_roles": k.signerRoles.map(\.rawValue), "summary": k.summary]
                    if let cosigners = k.cosigners { entry["cosigners"] = cosigners }
                    return entry
                }
                let data = (try? JSONSerialization.data(withJSONObject: list, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
                print(String(decoding: data, as: UTF8.self))
                return
            }
            for k in kinds {
                let roles = k.signerRoles.isEmpty ? "any active member" : k.signerRoles.map(\.rawValue).joined(separator: " | ")
                print("\(k.kind)\n    signer: \(roles)\(k.cosigners.map { "\n    co-signed by: \($0)" } ?? "")\n    \(k.summary)")
            }
        }
    }
}
