// ClusterMonitor.swift — what `trellis bench cluster` observes: committed blocks (server-sent events of one node,
// GET /v1/events), commit latency per transaction, and each node process's CPU time and peak RSS (/proc).
import Foundation
import TrellisCrypto
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One committed block as seen by the monitor.
struct SeenBlock: Sendable {
    let height: UInt64
    let transactions: Int
    let rejected: Int
    let arrivedAt: UInt64
    /// When each of the load generator's transactions in the block was admitted (its last send, monotonic
    /// nanoseconds): which step's load a step's window committed (StepCount).
    var admittedAt: [UInt64] = []
}

/// Follows `GET /v1/events` of one node and records every block and the latency of every transaction the sender
/// recorded (first send → block event).
final class BlockMonitor: @unchecked Sendable {
    let sentAt: LockedBox<[Hash: UInt64]>
    /// Transaction → when it was first sent (a refused transaction is sent again later; its latency counts from here).
    let firstSentAt: LockedBox<[Hash: UInt64]>
    let blocks = LockedBox<[SeenBlock]>([])
    /// Each committed transaction of the generator: its first send, latency (from the first send), block height, and
    /// its last send (later than the first when a node refused it for capacity and it was sent again).
    let latencies = LockedBox<[(sent: UInt64, latency: UInt64, height: UInt64, lastSent: UInt64)]>([])
    let rejectionCodes = LockedBox<[String: Int]>([:])
    private var buffer = Data()

    init(sentAt: LockedBox<[Hash: UInt64]>, firstSentAt: LockedBox<[Hash: UInt64]>) {
        self.sentAt = sentAt
        self.firstSentAt = firstSentAt
    }

    /// Follows the event stream of `host:port` on a thread of its own with a plain blocking socket: URLSession on
    /// Linux keeps a never-ending transfer alive with a busy timer that cost the load generator about one core,
    /// which the nodes it measures share.
    /// `headers` ("Name", "value") are sent with the request (the stream is read_all's: docs/ACCESS.md).
    func start(host: String, port: Int, path: String, headers: [(name: String, value: String)] = []) {
        let thread = Thread { [self] in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { close(fd); return }
            socketFD.withLock { $0 = fd }
            let extra = headers.map { "\($0.name): \($0.value)\r\n" }.joined()
            let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nAccept: text/event-stream\r\n\(extra)\r\n".utf8)
            _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                received(Data(chunk[0..<n]))
            }
            // Forgotten before it is closed: `stop` (called after the nodes stopped and ended the stream) must not
            // shut down whatever the process opens next under the same number.
            socketFD.withLock { $0 = -1 }
            close(fd)
        }
        thread.start()
    }

    private let socketFD = LockedBox<Int32>(-1)

    func stop() {
        let fd = socketFD.withLock { $0 }
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Bytes of the event stream as they arrive (internal for tests).
    func received(_ data: Data) {
        let now = monotonicNanoseconds()
        buffer.append(data)
        let separator = Data("\n\n".utf8)
        // Only the new bytes (and the one before them) can complete an event: never rescan the whole buffer.
        var searchFrom = max(0, buffer.count - data.count - 1)
        while let range = buffer.range(of: separator, in: (buffer.startIndex + searchFrom)..<buffer.endIndex) {
            let event = buffer.subdata(in: buffer.startIndex..<range.lowerBound)
            buffer.removeSubrange(buffer.startIndex..<range.upperBound)
            handle(event, at: now)
            searchFrom = 0
        }
    }

    private func handle(_ event: Data, at now: UInt64) {
        guard let text = String(data: event, encoding: .utf8), let line = text.split(separator: "\n").first(where: { $0.hasPrefix("data: ") }),
              let object = (try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8))) as? [String: Any],
              let heightValue = object["height"] as? Int, heightValue > 0, let hashes = object["transactions"] as? [String] else { return }
        var rejected = 0
        if let receipts = object["receipts"] as? [[String: Any]] {
            for r in receipts where (r["status"] as? String) == "rejected" {
                rejected += 1
                let code = ((r["error"] as? [String: Any])?["code"] as? String) ?? "unknown"
                rejectionCodes.withLock { $0[code, default: 0] += 1 }
            }
        }
        let parsed = hashes.compactMap { try? Hash(hex: $0) }
        let lastSent = sentAt.withLock { m in parsed.map { m.removeValue(forKey: $0) } }
        let firstSent = firstSentAt.withLock { m in parsed.map { m.removeValue(forKey: $0) } }
        let sent = zip(firstSent, lastSent).compactMap { first, last in (first ?? last).map { ($0, last ?? $0) } }
        latencies.withLock { l in for (s, last) in sent where now >= s { l.append((s, now - s, UInt64(heightValue), last)) } }
        let block = SeenBlock(height: UInt64(heightValue), transactions: hashes.count, rejected: rejected, arrivedAt: now, admittedAt: lastSent.compactMap { $0 })
        blocks.withLock { $0.append(block) }
    }

    /// Committed transactions per second between two monotonic instants (blocks that arrived in between).
    func committedRate(from start: UInt64, to end: UInt64) -> Double {
        Double(committedCount(from: start, to: end)) / (Double(end - start) / 1e9)
    }

    /// Transactions in the blocks that arrived between two monotonic instants.
    func committedCount(from start: UInt64, to end: UInt64) -> Int {
        blocks.withLock { $0.filter { $0.arrivedAt >= start && $0.arrivedAt < end }.reduce(0) { $0 + $1.transactions } }
    }

    /// Waits until the last `count` blocks node 1 committed, all after this call, carried no transaction (or
    /// `seconds` pass). Returns the empty blocks in a row seen at the end.
    func waitForEmptyBlocks(_ count: Int, seconds: Double) async -> Int {
        let from = lastHeight
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        var run = 0
        while true {
            run = blocks.withLock { seen in seen.reversed().prefix { $0.height > from && $0.transactions == 0 }.count }
            if run >= count || monotonicNanoseconds() >= deadline { return run }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    var committedTotal: Int { blocks.withLock { $0.reduce(0) { $0 + $1.transactions } } }
    var rejectedTotal: Int { blocks.withLock { $0.reduce(0) { $0 + $1.rejected } } }
    var lastHeight: UInt64 { blocks.withLock { $0.last?.height ?? 0 } }
}

/// CPU seconds and peak RSS of a process, from /proc.
struct ProcessSample {
    let cpuSeconds: Double
    let peakRSSBytes: Int

    static func read(pid: Int32) -> ProcessSample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var peak = 0
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) {
            peak = (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }
        return ProcessSample(cpuSeconds: (utime + stime) / ticks, peakRSSBytes: peak)
    }
}

/// Bytes of all files under `path`.
func directoryBytes(_ path: String) -> Int {
    guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total = 0
    while let name = e.nextObject() as? String {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path + "/" + name))?[.size] as? NSNumber,
           (try? FileManager.default.attributesOfItem(atPath: path + "/" + name))?[.type] as? FileAttributeType == .typeRegular {
            total += size.intValue
        }
    }
    return total
}

/// The value at quantile q (0…1) of unsorted values.
func quantile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
}
