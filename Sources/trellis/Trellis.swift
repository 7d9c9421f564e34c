// Trellis.swift — the `trellis` command-line tool: keys, genesis, node, testnet, tx, query, sim, bench, audit.
//
// Exit codes scripts can rely on: 0 success; 1 a negative answer (e.g. a signature that does not verify) or a
// failed operation; 2 bad input (malformed hex, wrong lengths, unreadable files, unknown or missing flags) or an
// unreachable node.
import ArgumentParser
import Foundation
import TrellisCrypto
#if canImport(Glibc)
import Glibc
#endif

@main
struct Trellis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trellis",
        abstract: "A permissioned BFT ledger node for supply-chain finance and green-asset claims.",
        subcommands: [Keys.self, GenesisCommand.self, NodeCommand.self, Testnet.self, Tx.self, Query.self, EvidenceCommand.self, Sim.self, Bench.self, Audit.self, Light.self]
    )

    /// Runs the command line. Usage errors (unknown flags, missing or mistyped values) exit 2, the tool's "bad
    /// input" code, instead of the argument parser's 64; everything else is as the parser does it.
    static func main() async {
        // Line-buffered standard output, also into a pipe: a program reading `trellis testnet up` (or any command)
        // sees each line when it is printed, not when a 4 KiB buffer fills or the process exits.
        lineBufferStandardOutput()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                let message = fullMessage(for: error)
                printError(negativeArgumentMessage(arguments: Array(CommandLine.arguments.dropFirst()), parserMessage: message) ?? message)
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    /// The parser's message for a command line whose positional argument was given as a negative number
    /// (`trellis query block -1`): the parser reads "-1" as an option and then reports the argument as missing
    /// ("Missing expected argument '<height>'"). This says what happened instead, keeping the parser's help and usage
    /// lines. Nil for any other refusal, and when the number follows an option that may take it as its value: one the
    /// usage line shows with a value (`--node <node>`) or does not show at all. A flag the usage line shows without a
    /// value (`[--json]`) takes none, so `query block --json -1` is named like `query block -1`.
    static func negativeArgumentMessage(arguments: [String], parserMessage: String) -> String? {
        guard let missing = parserMessage.firstMatch(of: /Missing expected argument '(<[^>]+>)'/) else { return nil }
        let usage = parserMessage.split(separator: "\n").first { $0.hasPrefix("Usage: ") } ?? ""
        let flags = Set(usage.matches(of: /(--[a-z0-9-]+)(?![a-z0-9-]| <)/).map { String($0.1) })
        func mayTakeValue(_ word: String) -> Bool { word.hasPrefix("-") && !word.contains("=") && !flags.contains(word) }
        let negative = arguments.indices.first { i in
            arguments[i].wholeMatch(of: /-[0-9][0-9.eE+\-]*/) != nil && (i == 0 || !mayTakeValue(arguments[i - 1]))
        }
        guard let negative else { return nil }
        let name = missing.1
        let lines = parserMessage.split(separator: "\n", omittingEmptySubsequences: false)
        return (["error: \(name) is never negative: \"\(arguments[negative])\" was read as an option (it starts with \"-\")"] + lines.dropFirst()).joined(separator: "\n")
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
    writeOut(STDERR_FILENO, message + "\n")
}

/// Writes all of `text` to descriptor `fd` (standard output or error), retrying writes a signal interrupted (EINTR);
/// gives up silently on any other error (a closed pipe): a message that cannot be shown must not crash the command,
/// which `FileHandle.write(_:)` does (it wraps write(2) in `try!`).
func writeOut(_ fd: Int32, _ text: String) {
    try? Descriptor.writeAll(fd, Array(text.utf8))
}

/// Makes C's `stdout` (which `print` writes through) line-buffered. Swift 6 refuses to read the C global `stdout`
/// directly (shared mutable state), so its value is read through the dynamic linker, once, before anything prints.
func lineBufferStandardOutput() {
    #if canImport(Glibc)
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "stdout"),  // RTLD_DEFAULT
          let file = symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee else { return }
    setvbuf(file, nil, _IOLBF, 0)
    #endif
}
