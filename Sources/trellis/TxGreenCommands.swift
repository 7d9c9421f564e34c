// TxGreenCommands.swift — friendly `trellis tx` subcommands for green-asset claims (docs/TRANSACTIONS.md §B):
// programs, methodologies, projects, verifications and credits. Each builds its kind's payload JSON from typed flags
// and submits it through `TxSubmitOptions.submit`, so output and exit codes are those of `tx send`.
import ArgumentParser
import Foundation
import TrellisLedger

struct ProgramCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "program", abstract: "Crediting programs (program.register).", subcommands: [Register.self])

    enum Unit: String, ExpressibleByArgument, CaseIterable { case tCO2e, MWh }

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "register", abstract: "A registry operator registers a program (program.register).")
        @Option(help: "The program id, e.g. CCER.") var program: String
        @Option(help: "The unit its credits count: tCO2e (tonnes of CO2 equivalent) or MWh; fixed once registered.") var unit: Unit
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "program.register") { _ in ["program_id": program, "unit": unit.rawValue] }
        }
    }
}

struct MethodologyCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "methodology", abstract: "Methodologies (methodology.register).", subcommands: [Register.self])

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "register", abstract: "A registry operator registers or replaces a methodology version (methodology.register).")
        @Option(help: "The methodology id, e.g. AM0001.") var methodology: String
        @Option(help: "The version, e.g. 1.2.") var version: String
        @Option(help: "The methodology's title, e.g. \"Renewable power\" (1–512 bytes; kept in the methodology's record, replaced when the version is registered again).") var title: String
        @Flag(help: "Register it inactive (no new projects may use it).") var inactive = false
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "methodology.register") { _ in
                ["methodology_id": methodology, "version": version, "title": title, "active": !inactive]
            }
        }
    }
}

struct ProjectCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "project", abstract: "Green projects (project.register).", subcommands: [Register.self])

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "register", abstract: "A proponent registers a project (project.register; --cosign a registry operator's key).")
        @Option(help: "The project id.") var project: String
        @Option(help: "The program id.") var program: String
        @Option(help: "The methodology id.") var methodology: String
        @Option(help: "The methodology version.") var methodologyVersion: String
        @Option(help: "Two capital letters, e.g. CN.") var country: String
        @Option(help: "Where the project is, e.g. a province or site name (1–512 bytes; kept in the project's record).") var location: String
        @Option(help: "The sector, e.g. energy.") var sector: String
        @Option(help: "Device ids, comma-separated.") var devices: String
        @Option(parsing: .unconditional, help: "Crediting period start, Unix seconds.", transform: NumberArgument.parse) var creditingStart: Int64
        @Option(parsing: .unconditional, help: "Crediting period end (exclusive), Unix seconds.", transform: NumberArgument.parse) var creditingEnd: Int64
        @Option(help: "Ids in other registries, comma-separated.") var externalIds: String?
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            let deviceIDs = try FlagList.strings(devices, flag: "--devices")
            let external = try externalIds.map { try FlagList.strings($0, flag: "--external-ids") } ?? []
            try await options.submit(kind: "project.register") { _ in
                ["project_id": project, "program_id": program, "methodology_id": methodology, "methodology_version": methodologyVersion,
                 "country": country, "location": location, "device_ids": deviceIDs, "sector": sector,
                 "crediting_start": creditingStart, "crediting_end": creditingEnd, "external_ids": external]
            }
        }
    }
}

struct VerificationCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verification", abstract: "Verifications (verification.submit).", subcommands: [Submit.self])

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "submit", abstract: "An accredited verifier attests a monitored quantity for a period (verification.submit).")
        @Option(help: "The project id.") var project: String
        @Option(parsing: .unconditional, help: "Monitoring period start, Unix seconds.", transform: NumberArgument.parse) var periodStart: Int64
        @Option(parsing: .unconditional, help: "Monitoring period end (exclusive, not in the future), Unix seconds.", transform: NumberArgument.parse) var periodEnd: Int64
        @Option(parsing: .unconditional, help: "The verified quantity (units).", transform: NumberArgument.parse) var quantity: UInt64
        @Option(help: "SHA-256 of the verification report, 64 hex digits.") var reportHash: String
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "verification.submit") { _ in
                ["project_id": project, "period_start": periodStart, "period_end": periodEnd, "quantity": quantity, "report_hash": reportHash]
            }
        }
    }
}

struct CreditCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credit",
        abstract: "Serial-numbered credits: issue, transfer, retire, cancel, lock, unlock.",
        subcommands: [Issue.self, Transfer.self, Retire.self, BlockAction.Cancel.self, BlockAction.Lock.self, BlockAction.Unlock.self]
    )

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "issue", abstract: "A registry operator issues credits from a verification (credits.issue).")
        @Option(help: "The verification id (ver-…).") var verification: String
        @Option(parsing: .unconditional, help: "Units to issue (at most the verified quantity).", transform: NumberArgument.parse) var quantity: UInt64
        @Option(parsing: .unconditional, help: "Of those, units set aside in a buffer block held by the registry operator (default: 0).", transform: NumberArgument.parse) var buffer: UInt64 = 0
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            try await options.submit(kind: "credits.issue") { _ in ["verification_id": verification, "quantity": quantity, "buffer_quantity": buffer] }
        }
    }

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transfer",
            abstract: "The owner passes a credit block, or part of it, to other members (credits.transfer).",
            discussion: "--quantities gives the outputs in serial order and must sum to the block's count; --to names the recipients of the first outputs, the rest stay with the signer. With only --to and no --quantities, the whole block moves to the single recipient (its count is read from the node)."
        )
        @Option(help: "The credit block id (cblock-…).") var block: String
        @Option(help: "Output quantities, comma-separated, in serial order.") var quantities: String?
        @Option(help: "Recipients of the first outputs (member ids), comma-separated; the rest go to the signer.") var to: String
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            let recipients = try FlagList.strings(to, flag: "--to")
            let given = try quantities.map { try FlagList.amounts($0, flag: "--quantities") }
            if let given, recipients.count > given.count { throw badInput("--to names \(recipients.count) recipients for \(given.count) quantities") }
            if given == nil, recipients.count != 1 { throw badInput("without --quantities, --to names exactly one recipient of the whole block") }
            try await options.submit(kind: "credits.transfer") { context in
                let values: [UInt64]
                if let given {
                    values = given
                } else {
                    guard let credit = try await context.api.record(CreditBlock.self, at: GreenAssetsKeys.block(block)) else {
                        throw badInput("no credit block \"\(block)\" on \(context.api.base)")
                    }
                    values = [credit.quantity]
                }
                let outputs = values.enumerated().map { i, quantity in
                    ["to": i < recipients.count ? recipients[i] : context.signerID, "quantity": quantity] as [String: Any]
                }
                return ["block_id": block, "outputs": outputs]
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retire", abstract: "The owner retires whole blocks or serial ranges for a beneficiary (credits.retire).")
        @Option(help: "BLOCK_ID (the whole block) or BLOCK_ID:START-END (a serial range); repeatable.") var block: [String]
        @Option(help: "Who the claim is for, e.g. a company name (1–512 bytes; not a member id). Printed on the retirement record and its offline certificate, and `trellis query retirements --beneficiary NAME` finds it by this exact text.") var beneficiary: String
        @Option(help: "What the claim is for, e.g. \"2026 scope 2 claim\" (1–512 bytes). Printed on the retirement record and its offline certificate.") var purpose: String
        @Option(parsing: .unconditional, help: "Claim period start, Unix seconds.", transform: NumberArgument.parse) var claimStart: Int64
        @Option(parsing: .unconditional, help: "Claim period end, Unix seconds.", transform: NumberArgument.parse) var claimEnd: Int64
        @OptionGroup var options: TxSubmitOptions

        func run() async throws {
            guard !block.isEmpty else { throw badInput("name at least one --block") }
            let ranges = try block.map(Self.range)
            try await options.submit(kind: "credits.retire") { _ in
                ["ranges": ranges, "beneficiary": beneficiary, "purpose": purpose, "claim_period_start": claimStart, "claim_period_end": claimEnd]
            }
        }

        static func range(_ text: String) throws -> [String: Any] {
            guard let colon = text.lastIndex(of: ":") else { return ["block_id": text] }
            let bounds = text[text.index(after: colon)...].split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 2, let start = UInt64(bounds[0]), let end = UInt64(bounds[1]) else {
                throw badInput("--block \"\(text)\" must be BLOCK_ID or BLOCK_ID:START-END")
            }
            return ["block_id": String(text[..<colon]), "serial_start": start, "serial_end": end]
        }
    }
}

/// The credit kinds whose payload is a block id and a reason.
enum BlockAction {
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "A registry operator cancels a block that governance approved for cancellation (credits.cancel).")
        @OptionGroup var block: BlockReason
        func run() async throws { try await block.submit("credits.cancel") }
    }

    struct Lock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lock", abstract: "A registry operator locks an active block, e.g. for export (credits.lock).")
        @OptionGroup var block: BlockReason
        func run() async throws { try await block.submit("credits.lock") }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unlock", abstract: "A registry operator unlocks a locked block (credits.unlock).")
        @OptionGroup var block: BlockReason
        func run() async throws { try await block.submit("credits.unlock") }
    }

    struct BlockReason: ParsableArguments {
        @Option(help: "The credit block id (cblock-…).") var block: String
        @Option(help: "Why the registry operator acts on this block, e.g. \"export to registry X\" (lock), \"export cancelled\" (unlock) or \"reversal, proposal prop-…\" (cancel): 1–512 bytes, required. It stays in the transaction on chain for good (the credit block's history names the transaction, not the reason): `trellis query tx HASH` shows it to the signer, the regulator and auditors, and every chain export carries it.") var reason: String
        @OptionGroup var options: TxSubmitOptions

        func submit(_ kind: String) async throws {
            try await options.submit(kind: kind) { _ in ["block_id": block, "reason": reason] }
        }
    }
}
