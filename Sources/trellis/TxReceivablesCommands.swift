// TxReceivablesCommands.swift — friendly `trellis tx` subcommands for supply-chain finance (docs/TRANSACTIONS.md
// §A): credit lines, certificates, financings, freezes. Each builds its kind's payload JSON from typed flags and
// submits it through `TxSubmitOptions.submit`, so output and exit codes are those of `tx send`.
import ArgumentParser
import Foundation
import TrellisLedger

struct CreditLineCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "credit-line", abstract: "Credit lines (credit_line.set).", subcommands: [SetLine.self])

    struct SetLine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "A financier opens or updates a credit line of a core enterprise (credit_line.set; --cosign the core's key).")
        @Option(help: "The credit line id.") var line: String
        @Option(help: "The core enterprise's member id.") var core: String
        @Option(parsing: .unconditional, help: "The most the core may have outstanding on this line at once, in 分 (1/100 yuan): each certificate issued uses its face until it is settled or rejected; a limit below what is used only stops new issues.", transform: NumberArgument.parse) var limit: UInt64
        @Option(parsing: .unconditional, help: "When the line closes to new certificates, Unix seconds; must be after the block time, e.g. $(( $(date +%s) + 180 * 86400 )) for 180 days from now.", transform: NumberArgument.parse) var expiry: Int64
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "credit_line.set") { _ in ["line_id": line, "core": core, "limit": limit, "expiry": expiry] }
        }
    }
}

struct CertificateCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificate",
        abstract: "Payable certificates: issue, accept, reject, reclaim, split, transfer, settle, mark-overdue.",
        subcommands: [Issue.self, Accept.self, Reject.self, Reclaim.self, Split.self, Transfer.self, Settle.self, MarkOverdue.self]
    )

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "issue", abstract: "A core enterprise issues a certificate to a supplier against a credit line (certificate.issue).")
        @Option(help: "The credit line id.") var creditLine: String
        @Option(help: "The supplier receiving it (member id).") var holder: String
        @Option(parsing: .unconditional, help: "Face value (分).", transform: NumberArgument.parse) var face: UInt64
        @Option(parsing: .unconditional, help: "Maturity, Unix seconds.", transform: NumberArgument.parse) var maturity: Int64
        @Option(help: "The trade contract number.") var contractNo: String
        @Option(help: "Invoice keys, comma-separated (each backs at most one certificate, ever).") var invoices: String
        @Option(help: "SHA-256 of the trade documents, 64 hex digits.") var docHash: String
        @Option(help: "A green project this payable finances (green_ref).") var greenProject: String?
        @Option(help: "A retirement this payable is backed by (green_ref).") var greenRetirement: String?
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            var tradeRef: [String: Any] = ["contract_no": contractNo, "invoice_keys": try FlagList.strings(invoices, flag: "--invoices"), "doc_hash": docHash]
            switch (greenProject, greenRetirement) {
            case (let project?, nil): tradeRef["green_ref"] = ["kind": "project", "id": project]
            case (nil, let retirement?): tradeRef["green_ref"] = ["kind": "retirement", "id": retirement]
            case (nil, nil): break
            case (_?, _?): throw badInput("give --green-project or --green-retirement, not both")
            }
            try await options.submit(kind: "certificate.issue") { _ in
                ["credit_line_id": creditLine, "holder": holder, "face": face, "maturity": maturity, "trade_ref": tradeRef]
            }
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "accept", abstract: "The intended recipient accepts a certificate piece (certificate.accept).")
        @Option(help: "The certificate piece id.") var certificate: String
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "certificate.accept") { _ in ["cert_id": certificate] }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reject", abstract: "The intended recipient refuses a certificate piece; the value returns to the sender (certificate.reject).")
        @Option(help: "The certificate piece id.") var certificate: String
        @Option(help: "Why you refuse the piece, e.g. \"wrong amount\" (at most 512 bytes; may be left out). It stays in the transaction on chain; the piece's lineage (`trellis query lineage --cert ID`, its event_reasons) shows it to the sender and to whoever may read the piece.") var reason = ""
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "certificate.reject") { _ in ["cert_id": certificate, "reason": reason] }
        }
    }

    struct Reclaim: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reclaim", abstract: "The sender takes back a piece not accepted before the accept window closed (certificate.reclaim).")
        @Option(help: "The certificate piece id.") var certificate: String
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "certificate.reclaim") { _ in ["cert_id": certificate] }
        }
    }

    struct Split: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "split",
            abstract: "The holder splits a piece into outputs that sum exactly to its face (certificate.split_transfer).",
            discussion: "--to names the recipients of the first outputs, in order; outputs without one stay with the signer. Example: --amounts 600,400 --to supplier2 gives 600 to supplier2 and keeps 400."
        )
        @Option(help: "The certificate piece id.") var certificate: String
        @Option(help: "Output amounts (分), comma-separated.") var amounts: String
        @Option(help: "Recipients of the first outputs (member ids), comma-separated; the rest go to the signer.") var to: String?
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            let values = try FlagList.amounts(amounts, flag: "--amounts")
            let recipients = try to.map { try FlagList.strings($0, flag: "--to") } ?? []
            guard recipients.count <= values.count else { throw badInput("--to names \(recipients.count) recipients for \(values.count) amounts") }
            try await options.submit(kind: "certificate.split_transfer") { context in
                let outputs = values.enumerated().map { i, amount in
                    ["to": i < recipients.count ? recipients[i] : context.signerID, "amount": amount] as [String: Any]
                }
                return ["cert_id": certificate, "outputs": outputs]
            }
        }
    }

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transfer",
            abstract: "The holder passes a piece, or part of it, to another member (certificate.split_transfer).",
            discussion: "Without --amount the whole piece moves; with it, the rest of the face stays with the signer as a second output. The face is read from the node."
        )
        @Option(help: "The certificate piece id.") var certificate: String
        @Option(help: "The recipient (member id).") var to: String
        @Option(parsing: .unconditional, help: "The amount to pass (分); default: the whole face.", transform: NumberArgument.parse) var amount: UInt64?
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "certificate.split_transfer") { context in
                guard let piece = try await context.api.record(Certificate.self, at: ReceivablesKeys.certificate(certificate)) else {
                    throw badInput("no certificate \"\(certificate)\" on \(context.api.base)")
                }
                let moved = amount ?? piece.face
                guard moved > 0, moved <= piece.face else { throw badInput("--amount must be 1…\(piece.face), the face of \(certificate)") }
                var outputs: [[String: Any]] = [["to": to, "amount": moved]]
                if moved < piece.face { outputs.append(["to": context.signerID, "amount": piece.face - moved]) }
                return ["cert_id": certificate, "outputs": outputs]
            }
        }
    }

    struct Settle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "settle", abstract: "At maturity, the clearing agent or the debtor pays every live piece of a root (certificate.settle).")
        @Option(help: "The root certificate id.") var root: String
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "certificate.settle") { _ in ["root_id": root] }
        }
    }

    struct MarkOverdue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mark-overdue", abstract: "Any member marks a root overdue after maturity plus the grace period (certificate.mark_overdue).")
        @Option(help: "The root certificate id.") var root: String
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "certificate.mark_overdue") { _ in ["root_id": root] }
        }
    }
}

struct FinancingCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "financing",
        abstract: "Financing of certificates: request, approve, cancel, release, repay.",
        subcommands: [Request.self, FinancingAction.Approve.self, FinancingAction.Cancel.self, FinancingAction.Release.self, FinancingAction.Repay.self]
    )

    enum FinancingType: String, ExpressibleByArgument, CaseIterable { case factoring, pledge }

    struct Request: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "request", abstract: "The holder asks a financier to factor or take a pledge of a piece (financing.request).")
        @Option(help: "The certificate piece id.") var certificate: String
        @Option(help: "The financier (member id).") var financier: String
        @Option(parsing: .unconditional, help: "The advance (分), at most the face.", transform: NumberArgument.parse) var advance: UInt64
        @Option(parsing: .unconditional, help: "The rate in basis points (≤ 10000).", transform: NumberArgument.parse) var rateBps: UInt32
        @Option(help: "factoring (the financier becomes the holder) or pledge.") var type: FinancingType
        @Flag(help: "With recourse to the applicant.") var recourse = false
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "financing.request") { _ in
                ["cert_id": certificate, "financier": financier, "advance": advance, "rate_bps": rateBps, "kind": type.rawValue, "recourse": recourse]
            }
        }
    }
}

/// The financing kinds whose payload is only the financing id.
enum FinancingAction {
    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve", abstract: "The named financier approves a requested financing (financing.approve).")
        @OptionGroup var financing: FinancingID
        func run() async throws { try await financing.submit("financing.approve") }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "The applicant withdraws, or the financier declines, a requested financing (financing.cancel).")
        @OptionGroup var financing: FinancingID
        func run() async throws { try await financing.submit("financing.cancel") }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "release", abstract: "The pledgee releases a pledge; the piece is active again (financing.release).")
        @OptionGroup var financing: FinancingID
        func run() async throws { try await financing.submit("financing.release") }
    }

    struct Repay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "repay", abstract: "The pledgee records a repaid pledge; the piece is active again (financing.repay).")
        @OptionGroup var financing: FinancingID
        func run() async throws { try await financing.submit("financing.repay") }
    }

    struct FinancingID: ParsableArguments {
        @Option(help: "The financing id (fin-…).") var financing: String
        @OptionGroup var options: TxSubmitOptions

        func submit(_ kind: String) async throws {
            try await options.submit(kind: kind) { _ in ["fin_id": financing] }
        }
    }
}

struct AssetCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asset",
        abstract: "A regulator freezes or unfreezes a certificate piece or a credit block.",
        subcommands: [Freeze.self, Unfreeze.self]
    )

    struct Freeze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "freeze", abstract: "Freeze a certificate piece or credit block (asset.freeze).")
        @OptionGroup var asset: AssetRef
        func run() async throws { try await asset.submit("asset.freeze") }
    }

    struct Unfreeze: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unfreeze", abstract: "Lift a freeze (asset.unfreeze).")
        @OptionGroup var asset: AssetRef
        func run() async throws { try await asset.submit("asset.unfreeze") }
    }

    struct AssetRef: ParsableArguments {
        @Option(help: "A certificate piece id.") var certificate: String?
        @Option(help: "A credit block id.") var creditBlock: String?
        @Option(help: "Why the regulator acts, e.g. \"court order 12\": 1–512 bytes, required. It stays in the transaction on chain for good (the asset's events name the transaction): a piece's lineage (`trellis query lineage --cert ID`) or a block's provenance (`trellis query provenance --program P --serial N`) shows it, in its event_reasons, to whoever may read that answer (the holder among them); `trellis query tx HASH` shows the whole transaction to the regulator and auditors.") var reason: String
        @OptionGroup var options: TxSubmitOptions

        func submit(_ kind: String) async throws {
            let (type, id): (String, String)
            switch (certificate, creditBlock) {
            case (let cert?, nil): (type, id) = ("certificate", cert)
            case (nil, let block?): (type, id) = ("credit_block", block)
            default: throw badInput("give exactly one of --certificate or --credit-block")
            }
            try await options.submit(kind: kind) { _ in ["asset_type": type, "asset_id": id, "reason": reason] }
        }
    }
}

/// Comma-separated flag values.
enum FlagList {
    /// Non-empty items of a comma-separated list (at least one).
    static func strings(_ text: String, flag: String) throws -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty, !items.contains(where: \.isEmpty) else { throw badInput("\(flag) \"\(text)\" must be a comma-separated list without empty items") }
        return items
    }

    /// Positive integers of a comma-separated list.
    static func amounts(_ text: String, flag: String) throws -> [UInt64] {
        try strings(text, flag: flag).map { item in
            guard let value = UInt64(item), value > 0 else { throw badInput("\(flag): \"\(item)\" is not a positive integer") }
            return value
        }
    }
}
