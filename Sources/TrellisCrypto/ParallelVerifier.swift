// ParallelVerifier.swift — Ed25519 verification of many signatures on all cores.
//
// libsodium 1.0.18 has no batch verification; throughput comes from splitting the work into one contiguous chunk
// per core (DispatchQueue.concurrentPerform). Each result lands in its own slot, so the answer is the same in any
// scheduling: result[i] is exactly `items[i].publicKey.verify(items[i].signature, message: items[i].message)`.
import Dispatch

/// One signature to check.
public struct SignatureCheck: Sendable {
    public let publicKey: PublicKey
    public let signature: Signature
    public let message: [UInt8]

    public init(publicKey: PublicKey, signature: Signature, message: [UInt8]) {
        self.publicKey = publicKey
        self.signature = signature
        self.message = message
    }
}

public enum ParallelVerifier {
    /// Below this many checks the work stays on the calling thread: fan-out costs more than it saves.
    public static let minimumParallelBatch = 64

    /// The number of worker threads used by default: every core the system reports.
    public static var defaultConcurrency: Int { System.activeProcessorCount }

    /// Verifies every check; `result[i]` answers `checks[i]`.
    public static func verify(_ checks: [SignatureCheck], concurrency: Int = defaultConcurrency) -> [Bool] {
        let n = checks.count
        if n == 0 { return [] }
        let workers = max(1, min(concurrency, n / minimumParallelBatch))
        if workers == 1 {
            return checks.map { $0.publicKey.verify($0.signature, message: $0.message) }
        }
        var results = [Bool](repeating: false, count: n)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = SendableBuffer(buffer: buffer)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = n * worker / workers
                let end = n * (worker + 1) / workers
                for i in start..<end {
                    let c = checks[i]
                    out.buffer[i] = c.publicKey.verify(c.signature, message: c.message)
                }
            }
        }
        return results
    }

    /// True when every check verifies.
    public static func verifyAll(_ checks: [SignatureCheck], concurrency: Int = defaultConcurrency) -> Bool {
        verify(checks, concurrency: concurrency).allSatisfy { $0 }
    }
}

/// A buffer whose disjoint slots are written by different workers of one `concurrentPerform`.
private struct SendableBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Bool>
}

/// Processor count without Foundation.
enum System {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
