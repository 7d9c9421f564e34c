// TestnetSupport.swift — the harness of the end-to-end tests: a local testnet of real `trellis node` processes
// (`trellis testnet up --detach` in a temporary directory), JSON over curl, several CLI invocations at once, and
// polling helpers. Nothing here asserts on time: waits return false and the test's own expectation fails.
import Foundation
import TrellisSpawn
import TrellisTesting
import TrellisCrypto
import TrellisLedger
#if canImport(Glibc)
import Glibc
#endif

func json(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

/// curl's `--max-time` for one request of the harness, in seconds. Many reads are asserted on once (a header, the
/// signers of a block, /health, /metrics, a snapshot of blocks), and on a loaded shared machine a node may take a few
/// seconds to answer: with 3-5 s budgets such a read could come back empty and fail the test. Not longer, because a poll of
/// a node whose API hangs spends it on every poll of its wait.
let curlMaxSeconds = "10"

/// GET `url` with curl; the JSON object answered, or empty.
func get(_ url: String) -> [String: Any] {
    let r = try? CLI.runProcess("/usr/bin/curl", ["-s", "--max-time", curlMaxSeconds, url])
    return json(r?.stdout ?? "")
}

/// GET `url` with curl and `headers` ("Name: value"); the HTTP status and the JSON object answered (empty when not
/// JSON).
func fetch(_ url: String, headers: [String] = []) -> (status: Int, body: [String: Any]) {
    let r = try? CLI.runProcess("/usr/bin/curl", ["-s", "--max-time", curlMaxSeconds, "-w", "\n%{http_code}"] + headers.flatMap { ["-H", $0] } + [url])
    let lines = (r?.stdout ?? "").split(separator: "\n", omittingEmptySubsequences: false)
    return (Int(lines.last ?? "") ?? 0, json(lines.dropLast().joined(separator: "\n")))
}

/// The headers that sign a GET of `url` (docs/ACCESS.md) with the key in `keyFile` as `member`.
func signedHeaders(_ url: String, keyFile: String, member: String, chainID: String = LocalTestnet.chainID,
                   timestamp: Int64 = APIClientCredentials.now(), nonce: String = APIClientCredentials.freshNonce()) -> [String] {
    guard let key = try? KeyFile.read(from: keyFile), let parsed = URL(string: url) else { return [] }
    let target = parsed.path(percentEncoded: true) + (parsed.query(percentEncoded: true).map { "?" + $0 } ?? "")
    return APIClientCredentials(key: key, member: member, chainID: chainID)
        .headers(method: "GET", target: target, timestamp: timestamp, nonce: nonce).map { "\($0.name): \($0.value)" }
}

/// GET `url` signed with `keyFile` as `member`; the JSON object answered, or empty.
func get(_ url: String, keyFile: String, member: String) -> [String: Any] {
    fetch(url, headers: signedHeaders(url, keyFile: keyFile, member: member)).body
}

/// Polls `condition` every 250 ms, `seconds` worth of polls (at least Patience.minimumSeconds): see Patience.
func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    Patience.eventuallyBlocking(seconds, intervalMilliseconds: 250, condition)
}

extension CLI {
    static func runProcess(_ path: String, _ arguments: [String]) throws -> CLIResult {
        try finish(launch(URL(fileURLWithPath: path), arguments))
    }

    /// Runs several `trellis` invocations at the same time; results in the order given. (Outputs are small, so
    /// reading the pipes one process after another cannot block a writer.)
    static func runConcurrently(_ invocations: [[String]]) throws -> [CLIResult] {
        try invocations.map { try launch(binary, $0) }.map(finish)
    }
}

/// A testnet of `nodes` validators started by `trellis testnet up --detach`; call `stop()` when done.
struct LocalTestnet {
    let dir: String
    let basePort: Int
    let apis: [String]

    /// Starts the testnet in a new temporary directory, on a block of ports of its own (`TestPorts`: p2p from
    /// `basePort`, APIs from `basePort + 100`; the rest of the 200-port block is free for nodes a test adds); throws
    /// with the command's output if it did not come up. With `openFileLimit`, `testnet up` and so every node runs
    /// under `ulimit -n` of it (soft and hard).
    /// A port of the block may be taken by another process between the check `TestPorts` makes and the nodes'
    /// binds (CI machines are shared: stop 24 failed on "127.0.0.1:16003 … Address already in use"): then the
    /// testnet is stopped and started again on a block of its own, up to three times.
    static func start(nodes: Int, openFileLimit: Int? = nil) throws -> LocalTestnet {
        var attempt = 1
        while true {
            do {
                return try startOnce(nodes: nodes, openFileLimit: openFileLimit)
            } catch let failure as StartFailure where failure.portTaken && attempt < 3 {
                attempt += 1
            }
        }
    }

    struct StartFailure: Error, CustomStringConvertible {
        let description: String
        var portTaken: Bool { description.contains("Address already in use") }
    }

    private static func startOnce(nodes: Int, openFileLimit: Int?) throws -> LocalTestnet {
        let basePort = try TestPorts.reserveBase(nodes: nodes)
        let dir = CLI.temporaryDirectory() + "/net"
        let arguments = ["testnet", "up", "--dir", dir, "--nodes", "\(nodes)", "--base-port", "\(basePort)", "--detach", "--timeout", "90", "--json"]
        let up = try openFileLimit.map { limit in
            try CLI.runProcess("/bin/sh", ["-c", "ulimit -n \(limit) && exec \"$0\" \"$@\"", CLI.binary.path] + arguments)
        } ?? CLI.run(arguments)
        let net = LocalTestnet(dir: dir, basePort: basePort, apis: (0..<nodes).map { "http://127.0.0.1:\(basePort + 100 + $0)" })
        guard up.status == 0 else {
            net.stop()
            throw StartFailure(description: "testnet up failed (\(up.status)): \(up.stderr)")
        }
        // `up --json` names the nodes it started: the APIs must be the ones this block of ports gives.
        let printed = (json(up.stdout)["nodes"] as? [[String: Any]] ?? []).compactMap { $0["api_url"] as? String }
        guard printed == net.apis else {
            net.stop()
            throw StartFailure(description: "testnet up --json printed nodes \(printed), expected \(net.apis): \(up.stdout)")
        }
        return net
    }

    /// `trellis testnet up --nodes nodes` with `arguments` in a new temporary directory on a block of ports of its
    /// own, for tests that drive `testnet up` themselves: like `start`, it starts again on a new block and directory
    /// when another process took a port of the block before a node bound it, up to three times. Returns the last
    /// attempt; `testnet down --dir` its directory when done.
    static func up(nodes: Int, _ arguments: [String]) throws -> (dir: String, result: CLIResult) {
        var attempt = 1
        while true {
            let base = try TestPorts.reserveBase(nodes: nodes)
            let dir = CLI.temporaryDirectory() + "/net"
            let result = try CLI.run(["testnet", "up", "--dir", dir, "--nodes", "\(nodes)", "--base-port", "\(base)"] + arguments)
            if result.status == 0 || !StartFailure(description: result.stderr).portTaken || attempt == 3 { return (dir, result) }
            _ = try? CLI.run(["testnet", "down", "--dir", dir])
            attempt += 1
        }
    }

    func stop() { _ = try? CLI.run(["testnet", "down", "--dir", dir]) }

    /// The key file of an example-consortium member.
    func key(_ member: String) -> String { dir + "/members/\(member).key" }

    /// The chain id of the example consortium `testnet up` starts.
    static let chainID = "trellis-example-1"

    /// GET `url` as the example consortium's regulator, who reads everything (docs/ACCESS.md).
    func read(_ url: String) -> [String: Any] { get(url, keyFile: key("regulator"), member: "regulator") }

    func height(_ api: String) -> Int { E2E.height(api) }

    /// The state root in the header of block `height` as `api` serves it.
    func stateRoot(_ api: String, at height: Int) -> String? { E2E.header(api, height, "state_root") }

    /// The process id recorded in a node home's node.pid.
    static func pid(home: String) -> Int32? {
        (try? String(contentsOfFile: home + "/node.pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Starts `trellis node start --home home` in its own session, as `testnet up` does (inside network namespace
    /// `namespace` when given); output is appended to home/node.log. Stop it with a signal to the pid in
    /// home/node.pid (`E2E.stopNode`).
    static func startNode(home: String, namespace: String? = nil, openFileLimit: Int? = nil) throws {
        let node = ["/usr/bin/setsid", CLI.binary.path, "node", "start", "--home", home]
        let (executable, arguments): (String, [String])
        if let openFileLimit {
            (executable, arguments) = ("/bin/sh", ["-c", "ulimit -n \(openFileLimit) && exec \"$0\" \"$@\""] + node)
        } else if let namespace {
            (executable, arguments) = (NetLab.ip, ["netns", "exec", namespace] + node)
        } else {
            (executable, arguments) = (node[0], Array(node.dropFirst()))
        }
        let log = home + "/node.log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)
        defer { try? handle?.close() }
        handle?.seekToEndOfFile()
        let output: ChildProcess.Stream = handle.map { .descriptor($0.fileDescriptor) } ?? .null
        // Not waited for: the node (setsid execs it) is stopped by the pid in node.pid (`E2E.stopNode`); released
        // here, the ChildProcess reaps it from a thread of its own when it ends, so no zombie answers kill(pid, 0).
        _ = try ChildProcess(executable, arguments, standardOutput: output, standardError: output)
    }
}

/// POSTs `body` to `url` with curl; the HTTP status and the JSON object answered (empty when not JSON).
func post(_ url: String, body: Data, contentType: String) throws -> (status: Int, body: [String: Any]) {
    let file = CLI.temporaryDirectory() + "/body"
    try body.write(to: URL(fileURLWithPath: file))
    defer { try? FileManager.default.removeItem(atPath: file) }
    let r = try CLI.runProcess("/usr/bin/curl", ["-s", "--max-time", "10", "-H", "Content-Type: \(contentType)", "--data-binary", "@" + file,
                                                 "-w", "\n%{http_code}", url])
    let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    let status = Int(lines.last ?? "") ?? 0
    return (status, json(lines.dropLast().joined(separator: "\n")))
}

/// Transactions acknowledged as committed by a load thread, shared with the test body (KillLoop, Operations).
final class Acknowledged: @unchecked Sendable {
    private let lock = NSLock()
    private var hashes: [String] = []
    private var stopped = false
    func add(_ hash: String) { lock.withLock { hashes.append(hash) } }
    var all: [String] { lock.withLock { hashes } }
    func stop() { lock.withLock { stopped = true } }
    var isStopped: Bool { lock.withLock { stopped } }
}
