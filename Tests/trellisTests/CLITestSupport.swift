// CLITestSupport.swift — runs the built `trellis` binary as a user would, capturing output and exit status.
import Foundation
import TrellisTesting

struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum CLI {
    /// The `trellis` executable built beside this test bundle (or $TRELLIS_BIN).
    static var binary: URL {
        if let override = ProcessInfo.processInfo.environment["TRELLIS_BIN"] { return URL(fileURLWithPath: override) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test binary is .build/<config>/TrellisPackageTests.xctest; on macOS it sits inside a bundle.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("trellis")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("trellis")
    }

    /// The repository's root (docs and scripts the tests run).
    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static func run(_ arguments: [String]) throws -> CLIResult {
        try finish(launch(binary, arguments))
    }

    /// A started process with its output pipes.
    struct Running {
        let process: Process
        let out: Pipe
        let err: Pipe
    }

    static func launch(_ executable: URL, _ arguments: [String]) throws -> Running {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return Running(process: process, out: out, err: err)
    }

    /// Reads the outputs to their end and waits for the exit status.
    static func finish(_ running: Running) -> CLIResult {
        let (outData, errData) = PipeRead.readToEnd(running.out.fileHandleForReading, running.err.fileHandleForReading)
        running.process.waitUntilExit()
        return CLIResult(status: running.process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
    }

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-cli-tests-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
