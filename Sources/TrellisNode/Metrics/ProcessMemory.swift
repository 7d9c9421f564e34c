// ProcessMemory.swift — this process's resident memory, for the `trellis_process_resident_bytes` gauge (Linux:
// /proc/self/statm; nil elsewhere), and the malloc arena limit a node sets at start (`MallocArenas`).
import Foundation

enum ProcessMemory {
    /// Resident bytes now (statm's second field × the page size), or nil when /proc is not there.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// How many malloc arenas the process may use (glibc). glibc gives every thread that meets a locked arena a new one,
/// up to 8 per core, and memory freed in one arena is not reused by the others: a node's NIO, Dispatch and RocksDB
/// threads spread its heap over many arenas. Measured on the benchmark's 4-node cluster (2 cores, 2026-12-05, docs/
/// PERFORMANCE.md): peak resident memory 364–368 MB per node with 2 arenas against 415–544 MB with glibc's default,
/// throughput and latency within the run-to-run noise.
public enum MallocArenas: Equatable, Sendable {
    /// The arenas the node limits itself to when the operator did not choose (MALLOC_ARENA_MAX unset).
    public static let nodeDefault: Int32 = 2

    /// The environment's MALLOC_ARENA_MAX applies (glibc read it at start); the node leaves it alone.
    case setByEnvironment(String)
    /// Limited to this many arenas by the node.
    case limited(Int32)
    /// mallopt refused (another C library: nothing is changed).
    case unchanged

    /// Limits the arenas to `nodeDefault` unless `environment` sets MALLOC_ARENA_MAX. Call it first thing at start,
    /// before the node's threads allocate (arenas already made stay).
    @discardableResult
    public static func limit(environment: [String: String] = ProcessInfo.processInfo.environment) -> MallocArenas {
        if let chosen = environment["MALLOC_ARENA_MAX"] { return .setByEnvironment(chosen) }
        // malloc.h is not part of Swift's Glibc module: glibc's `mallopt` is looked up by name (absent from another C
        // library, which then keeps its own behaviour).
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return .unchanged }  // RTLD_DEFAULT
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        return mallopt(mArenaMax, nodeDefault) == 1 ? .limited(nodeDefault) : .unchanged
    }

    /// glibc's `M_ARENA_MAX` parameter of `mallopt` (malloc.h).
    static let mArenaMax: Int32 = -8
}
