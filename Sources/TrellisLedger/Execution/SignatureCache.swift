// SignatureCache.swift — remembers which transactions' signatures verified, so each is checked once per node
// (DESIGN.md §2: on mempool entry), and turns that memory into a `SignaturePolicy` for execution.
//
// Bounded: when full, the oldest half is forgotten (a forgotten transaction is simply verified again). Only
// successes are remembered: a transaction with a bad signature is re-checked every time it is seen, which costs
// the sender, not the node's correctness. Thread-safe.
import Foundation
import TrellisCrypto

public final class SignatureCache: @unchecked Sendable {
    /// Default number of remembered transaction hashes.
    public static let defaultCapacity = 200_000

    public let capacity: Int
    private let lock = NSLock()
    private var verified: Set<Hash> = []
    private var order: [Hash] = []

    public init(capacity: Int = SignatureCache.defaultCapacity) {
        precondition(capacity > 0, "a signature cache needs a positive capacity")
        self.capacity = capacity
    }

    /// True when every signature of the transaction with this hash verified before.
    public func isVerified(_ txHash: Hash) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return verified.contains(txHash)
    }

    /// Verifies the signatures of the transactions not yet known (in parallel) and remembers the valid ones.
    /// `result[i]` tells whether all of `transactions[i]`'s signatures verify.
    @discardableResult
    public func verify(_ transactions: [Transaction]) -> [Bool] {
        let hashes = transactions.map(\.hash)
        var result = hashes.map(isVerified)
        let unknown = result.indices.filter { !result[$0] }
        if unknown.isEmpty { return result }
        let valid = BlockExecutor.verifyAll(unknown.map { transactions[$0] })
        lock.lock()
        defer { lock.unlock() }
        for (j, i) in unknown.enumerated() where valid[j] {
            result[i] = true
            if verified.insert(hashes[i]).inserted { order.append(hashes[i]) }
        }
        if order.count > capacity {
            let forget = order.count - capacity / 2
            for h in order[..<forget] { verified.remove(h) }
            order.removeFirst(forget)
        }
        return result
    }

    /// The policy for executing a block: remembered transactions skip verification, the others are verified by
    /// the executor.
    public var policy: SignaturePolicy {
        .verified { [self] hash in isVerified(hash) ? true : nil }
    }
}
