// CryptoBaseline.swift — raw libsodium calls for benchmarks, to measure TrellisCrypto's own overhead against.
//
// Used only by `trellis bench`: it verifies pre-built C buffers with `crypto_sign_verify_detached` directly, with
// no Swift wrapper types in between. This is the "raw limit" every speed ratio is divided by.
import CSodium
import Dispatch

public enum CryptoBaseline {
    /// Verifies each check with libsodium directly on contiguous buffers; returns how many verified.
    public static func rawVerify(_ checks: [SignatureCheck]) -> Int {
        Sodium.ensureReady()
        // Flatten into C-friendly contiguous buffers first (outside the timed loop of the caller if they reuse it).
        let keys = checks.flatMap(\.publicKey.bytes)
        let signatures = checks.flatMap(\.signature.bytes)
        var valid = 0
        keys.withUnsafeBufferPointer { k in
            signatures.withUnsafeBufferPointer { s in
                for (i, check) in checks.enumerated() {
                    check.message.withUnsafeBufferPointer { m in
                        if crypto_sign_verify_detached(s.baseAddress! + i * 64, m.baseAddress, UInt64(m.count), k.baseAddress! + i * 32) == 0 {
                            valid += 1
                        }
                    }
                }
            }
        }
        return valid
    }

    /// `rawVerify` on `workers` contiguous chunks at once (DispatchQueue.concurrentPerform): the raw all-core limit.
    public static func rawParallelVerify(_ checks: [SignatureCheck], workers: Int) -> Int {
        let chunks = (0..<workers).map { w in Array(checks[(checks.count * w / workers)..<(checks.count * (w + 1) / workers)]) }
        let counts = Counts(workers)
        DispatchQueue.concurrentPerform(iterations: workers) { w in counts.set(w, rawVerify(chunks[w])) }
        return counts.total
    }
}

/// Per-worker results of `rawParallelVerify`; each worker writes only its own slot.
private final class Counts: @unchecked Sendable {
    private var values: [Int]
    init(_ n: Int) { values = [Int](repeating: 0, count: n) }
    func set(_ i: Int, _ v: Int) { values.withUnsafeMutableBufferPointer { $0[i] = v } }
    var total: Int { values.reduce(0, +) }
}
