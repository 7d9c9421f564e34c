// E2ESupport.swift — more helpers for end-to-end tests with real node processes (beside TestnetSupport.swift):
// heights, headers and certificate signers over the API, stopping nodes by their pid files, governance in two
// transactions, and `NetLab`, a set of Linux network
// namespaces joined by a bridge (one "host" each, with its own address) whose links the test can cut and heal.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

enum E2E {
    /// The node's committed height (0 when unreachable).
    static func height(_ api: String) -> Int { get(api + "/v1/status")["height"] as? Int ?? 0 }

    /// The `field` of block `height`'s header as `api` serves it (nil when missing).
    static func header(_ api: String, _ height: Int, _ field: String) -> String? {
        (get(api + "/v1/blocks/\(height)")["header"] as? [String: Any])?[field] as? String
    }

    /// The validators that signed the certificate of block `height` (or the latest block).
    static func signers(_ api: String, height: Int? = nil) -> Set<String> {
        let block = get(api + "/v1/blocks/" + (height.map(String.init) ?? "latest"))
        let signatures = (block["certificate"] as? [String: Any])?["signatures"] as? [[String: Any]] ?? []
        return Set(signatures.compactMap { $0["validator"] as? String })
    }

    /// Signals the node whose pid file is in `home`.
    static func stopNode(home: String, signal: Int32 = SIGTERM) {
        if let pid = LocalTestnet.pid(home: home) { kill(pid, signal) }
    }

    /// Sends a governance proposal signed by gov1 and gov2's approval (quorum 2 in the example consortium); returns
    /// the height at which the action executed.
    static func govern(_ action: String, api: String, members: String) throws -> Int {
        let propose = try CLI.run(["tx", "send", "--node", api, "--key", members + "/gov1.key", "--kind", "governance.propose",
                                   "--payload", "{\"action\":\(action),\"summary\":\"e2e membership\"}", "--wait", "--json"])
        try #require(propose.status == 0, "propose failed: \(propose.stdout) \(propose.stderr)")
        let proposal = try #require(((json(propose.stdout)["receipt"] as? [String: Any])?["created"] as? [String])?.first)
        let approve = try CLI.run(["tx", "send", "--node", api, "--key", members + "/gov2.key", "--kind", "governance.approve",
                                   "--payload", "{\"proposal_id\":\"\(proposal)\"}", "--wait", "--json"])
        try #require(approve.status == 0, "approve failed: \(approve.stdout) \(approve.stderr)")
        return try #require(json(approve.stdout)["height"] as? Int)
    }
}

/// Hosts in network namespaces on one bridge. The bridge lives in its own namespace (so the machine's firewall
/// rules for bridged traffic do not apply), and the test process reaches every host through one more link to it.
/// Cutting host i sets its link on the bridge down: it can reach nobody, and nobody it.
final class NetLab {
    static let ip = "/usr/sbin/ip"

    let tag: String
    let subnet: String
    let hostCount: Int
    private var created: [String] = []

    /// Why namespaces cannot be used here, or nil when they can (probed by creating and deleting one).
    static let unavailableReason: String? = {
        guard FileManager.default.isExecutableFile(atPath: ip) else { return "iproute2 (\(ip)) is not installed" }
        guard getuid() == 0 else { return "creating network namespaces needs root (uid \(getuid()))" }
        let probe = "trlprobe\(getpid() % 100_000)"
        guard let r = try? CLI.runProcess(ip, ["netns", "add", probe]), r.status == 0 else { return "`ip netns add` failed: namespaces are not permitted here" }
        defer { _ = try? CLI.runProcess(ip, ["netns", "del", probe]) }
        // `ip netns exec` also needs a mount namespace of its own (it remounts /sys): some containers allow the
        // first and refuse the second, and then no node could start in a namespace.
        guard let exec = try? CLI.runProcess(ip, ["netns", "exec", probe, "/bin/true"]), exec.status == 0 else {
            return "`ip netns exec` failed: processes cannot be started in a namespace here"
        }
        return nil
    }()

    static var available: Bool { unavailableReason == nil }

    init(hosts: Int) throws {
        let id = Int(getpid() % 10_000)
        tag = "t\(id)"
        subnet = "10.213.\(id % 250)"
        hostCount = hosts
        do {
            try run(["netns", "add", switchNamespace])
            created.append(switchNamespace)
            try run(["-n", switchNamespace, "link", "add", "br0", "type", "bridge"])
            try run(["-n", switchNamespace, "link", "set", "br0", "up"])
            for i in 1...hosts {
                let ns = namespace(i)
                try run(["netns", "add", ns])
                created.append(ns)
                try run(["link", "add", link(i), "type", "veth", "peer", "name", "eth0", "netns", ns])
                try run(["link", "set", link(i), "netns", switchNamespace])
                try run(["-n", switchNamespace, "link", "set", link(i), "master", "br0"])
                try run(["-n", switchNamespace, "link", "set", link(i), "up"])
                try run(["-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0"])
                try run(["-n", ns, "link", "set", "eth0", "up"])
                try run(["-n", ns, "link", "set", "lo", "up"])
            }
            try run(["link", "add", rootLink, "type", "veth", "peer", "name", "up0", "netns", switchNamespace])
            try run(["-n", switchNamespace, "link", "set", "up0", "master", "br0"])
            try run(["-n", switchNamespace, "link", "set", "up0", "up"])
            try run(["addr", "add", subnet + ".254/24", "dev", rootLink])
            try run(["link", "set", rootLink, "up"])
        } catch {
            tearDown()
            throw error
        }
    }

    var switchNamespace: String { "trlsw\(tag)" }
    var rootLink: String { "trlr\(tag)" }
    func namespace(_ i: Int) -> String { "trlh\(i)\(tag)" }
    func link(_ i: Int) -> String { "trl\(i)\(tag)" }
    func address(_ i: Int) -> String { "\(subnet).\(i)" }

    /// What a failed start looks like from outside, host by host: whether the node's process runs, what its API
    /// answers (curl's status line or error), and the last lines of its node.log — so a failure in CI says why.
    func diagnosis(homes: [String], apis: [String]) -> String {
        zip(homes, apis).enumerated().map { i, pair in
            let (home, api) = pair
            let pid = LocalTestnet.pid(home: home)
            let running = pid.map { kill($0, 0) == 0 } ?? false
            let probe = try? CLI.runProcess("/usr/bin/curl", ["-s", "-S", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", api + "/v1/status"])
            let answer = probe.map { "curl exit \($0.status), HTTP \($0.stdout) \($0.stderr.trimmingCharacters(in: .whitespacesAndNewlines))" } ?? "curl did not run"
            let log = ((try? String(contentsOfFile: home + "/node.log", encoding: .utf8)) ?? "(no node.log)")
                .split(separator: "\n").suffix(12).map { "    " + $0 }.joined(separator: "\n")
            return "host \(i + 1) (\(namespace(i + 1)), \(address(i + 1))): pid \(pid.map(String.init) ?? "none") \(running ? "running" : "not running"); \(answer)\n\(log)"
        }.joined(separator: "\n")
    }

    /// Cuts host i off the network.
    func cut(_ i: Int) throws { try run(["-n", switchNamespace, "link", "set", link(i), "down"]) }

    /// Reconnects host i.
    func heal(_ i: Int) throws { try run(["-n", switchNamespace, "link", "set", link(i), "up"]) }

    /// Deletes every namespace (their links go with them) and the test's link.
    func tearDown() {
        _ = try? CLI.runProcess(Self.ip, ["link", "del", rootLink])
        for ns in created.reversed() { _ = try? CLI.runProcess(Self.ip, ["netns", "del", ns]) }
        created = []
    }

    deinit { tearDown() }

    private func run(_ arguments: [String]) throws {
        let r = try CLI.runProcess(Self.ip, arguments)
        guard r.status == 0 else { throw NetLabError(command: "ip " + arguments.joined(separator: " "), message: r.stderr) }
    }
}

struct NetLabError: Error, CustomStringConvertible {
    let command: String
    let message: String
    var description: String { "`\(command)` failed: \(message)" }
}
