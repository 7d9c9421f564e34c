// Trellis.swift — the `trellis` command-line tool: keys, genesis, node, testnet, tx, query, sim, bench, audit.
//
// Exit codes scripts can rely on: 0 success; 1 a negative answer (e.g. a signature that does not verify) or a
// failed operation; 2 bad input (malformed hex, wrong lengths, unreadable files, unknown or missing flags) or an
// unreachable node.
import ArgumentParser
import Foundation

@main
struct Trellis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trellis",
        abstract: "A permissioned BFT ledger node for supply-chain finance and green-asset claims.",
        subcommands: [Keys.self, GenesisCommand.self, NodeCommand.self, Testnet.self, Tx.self, Query.self, EvidenceCommand.self, Sim.self, Bench.self, Audit.self]
    )

    /// Runs the command line. Usage errors (unknown flags, missing or mistyped values) exit 2, the tool's "bad
    /// input" code, instead of the argument parser's 64; everything else is as the parser does it.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Prints `message` to standard error and returns the exit code for bad input (2), for `throw`.
func badInput(_ message: String) -> ExitCode {
    printError("error: \(message)")
    return ExitCode(2)
}

/// Prints `message` to standard error and returns the exit code for a failed operation (1), for `throw`.
func failure(_ message: String) -> ExitCode {
    printError("error: \(message)")
    return ExitCode(1)
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
