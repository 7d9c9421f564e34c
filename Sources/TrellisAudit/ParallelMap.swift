// ParallelMap.swift — order-preserving map over all cores, for the independent per-line work of the verifier
// (JSON decoding, block decoding and hashing). result[i] is exactly transform(items[i]) in any scheduling.
import Dispatch
import TrellisCrypto

enum Parallel {
    /// Below this many items the work stays on the calling thread.
    static let minimumBatch = 16

    static func map<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        let n = items.count
        let workers = max(1, min(ParallelVerifier.defaultConcurrency, n / minimumBatch))
        if workers == 1 { return items.map(transform) }
        var slots = [R?](repeating: nil, count: n)
        slots.withUnsafeMutableBufferPointer { buffer in
            let out = Slots(buffer: buffer)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                for i in (n * w / workers)..<(n * (w + 1) / workers) { out.buffer[i] = transform(items[i]) }
            }
        }
        return slots.map { slot in
            guard let slot else { preconditionFailure("invalid state: a parallel map slot was not filled") }
            return slot
        }
    }
}

/// Disjoint slots written by different workers of one `concurrentPerform`.
private struct Slots<R>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<R?>
}
