// Trellis.swift — the `trellis` command-line tool: keys, and (as the node grows) genesis, node, tx, audit, sim.
//
// Exit codes scripts can rely on: 0 success; 1 a negative answer (e.g. a signature that does not verify) or a
// failed operation; 2 bad input (malformed hex, wrong lengths, unreadable files).
import ArgumentParser
import Foundation

@main
struct Trellis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trellis",
        abstract: "A permissioned BFT ledger node for supply-chain finance and green-asset claims.",
        subcommands: [Keys.self, GenesisCommand.self, NodeCommand.self, Testnet.self, Tx.self, Sim.self, Bench.self, Audit.self]
    )
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
