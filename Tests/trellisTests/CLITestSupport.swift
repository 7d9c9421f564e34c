// CLITestSupport.swift — runs the built `trellis` binary as a user would, capturing output and exit status.
import Foundation
import TrellisSpawn
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

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

    /// A started process with its output pipes (started by posix_spawn: Foundation's `Process.run` can crash the
    /// test process — see ChildProcess.swift).
    struct Running {
        let process: ChildProcess
        var out: FileHandle { process.standardOutput! }
        var err: FileHandle { process.standardError! }
    }

    static func launch(_ executable: URL, _ arguments: [String]) throws -> Running {
        Running(process: try ChildProcess(executable.path, arguments, standardOutput: .pipe, standardError: .pipe))
    }

    /// Reads the outputs to their end and waits for the exit status (a signal's number when one ended it).
    static func finish(_ running: Running) -> CLIResult {
        let (outData, errData) = PipeRead.readToEnd(running.out, running.err)
        return CLIResult(status: running.process.waitUntilExit().status,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
    }

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-cli-tests-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Starts `python3 -c script arguments…`, a small HTTP server that prints the port the kernel gave it (bound to
/// 127.0.0.1 port 0) as its first line: the process and its base URL. The stubs of the CLI tests are such servers.
func startPythonHTTPStub(_ script: String, _ arguments: [String]) throws -> (process: ChildProcess, url: String) {
    struct StubFailure: Error, CustomStringConvertible { let description: String }
    let process = try ChildProcess("/usr/bin/python3", ["-c", script] + arguments, standardOutput: .pipe, standardError: .null)
    let line = String(decoding: PipeRead.available(process.standardOutput!), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let port = Int(line) else {
        process.send(SIGKILL)
        throw StubFailure(description: "the HTTP stub did not print its port: \(line)")
    }
    return (process, "http://127.0.0.1:\(port)")
}
