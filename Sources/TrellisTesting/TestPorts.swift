// TestPorts.swift — port ranges for end-to-end tests that start real nodes, handed out so that no two tests (in
// this process or in another test process on the machine) get the same ports, and none falls in the kernel's
// ephemeral range.
//
// Why: tests used fixed bases (a constant plus pid-derived offset) inside 10,000–64,000. Loopback connections take
// their local port from the ephemeral range (Linux: 32768–60999), so a node's listen port there could be held by
// some other test's outgoing connection at the moment it binds: CI once failed with "Address already in use" on
// 59800. Here a testnet gets a block of 200 ports below the ephemeral range; a block is claimed with an exclusive
// `flock` on a file in the temporary directory (released by the kernel when the process exits, even on kill -9) and
// then every port of the block — the testnet's and those a test adds — is test-bound first.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

public enum TestPorts {
    /// Ports per block: a testnet listens on base…base+nodes-1 (p2p) and base+100…base+100+nodes-1 (API).
    public static let blockSize = 200
    /// Blocks live in 10,000 ..< 32,600, below Linux's default ephemeral range (32768–60999).
    static let firstPort = 10_000
    static let blockCount = 113

    /// Block index → descriptor of its lock file, for the blocks this process holds.
    private static let claimed = Mutex<[Int: Int32]>([:])

    /// Why no block could be claimed.
    public struct Exhausted: Error, CustomStringConvertible {
        public let description: String
    }

    /// A free base port for a testnet of `nodes` nodes (`nodes` ≤ 100), with all `blockSize` ports of its block free
    /// when claimed (for nodes and stubs a test adds): the block stays claimed until the process ends (a test may
    /// stop and restart its testnet on the same ports).
    public static func reserveBase(nodes: Int) throws -> Int {
        precondition((1...100).contains(nodes), "a testnet block holds at most 100 nodes")
        return try claimed.withLock { claimed in try reserve(nodes: nodes, claimed: &claimed) }
    }

    private static func reserve(nodes: Int, claimed: inout [Int: Int32]) throws -> Int {
        // One directory for every test process on the machine, even when each has its own temporary directory
        // (Scripts/test.sh gives a run its own TMPDIR and names this one).
        let directory = ProcessInfo.processInfo.environment["TRELLIS_TEST_PORTS_DIR"] ?? (NSTemporaryDirectory() + "/trellis-test-ports")
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Start where this process's id points, so concurrent processes mostly try different blocks first.
        let start = Int(getpid()) % blockCount
        for step in 0..<blockCount {
            let index = (start + step) % blockCount
            if claimed[index] != nil { continue }
            let fd = open(directory + "/block-\(index).lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
            if fd < 0 { continue }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                close(fd)
                continue
            }
            // Every port of the block, not only the testnet's first nodes': tests bind more of it (a node they add at
            // base+4/base+104, an observer at base+10/base+110, a validator address at base+9), and a block with any
            // port taken is skipped (below the ephemeral range only another listener can hold one).
            let base = firstPort + index * blockSize
            guard (base..<(base + blockSize)).allSatisfy(canListen) else {
                close(fd)
                continue
            }
            claimed[index] = fd
            return base
        }
        throw Exhausted(description: "no free block of \(blockSize) test ports in \(firstPort)..<\(firstPort + blockCount * blockSize)")
    }

    /// Whether a listening socket could bind 127.0.0.1:`port` now (with SO_REUSEADDR, as the node's listeners do).
    static func canListen(_ port: Int) -> Bool {
        guard let fd = listenSocket(port: port) else { return false }
        close(fd)
        return true
    }

    /// A socket listening on 127.0.0.1:`port` (close it when done), or nil when the port is taken: for tests that
    /// need a port to be in use.
    public static func listenSocket(port: Int) -> Int32? {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}
