// ByteOrder.swift — bytewise (lexicographic, unsigned) comparison of byte strings with memcmp, and a dictionary key
// for byte strings that hashes them in one call. The orders are the same as `lexicographicallyPrecedes` on
// `[UInt8]` (a proper prefix sorts first); only the speed differs.
import Glibc

public enum ByteOrder {
    /// Negative, zero or positive as `a` sorts before, equal to or after `b`, bytewise.
    @inlinable
    public static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let common = min(a.count, b.count)
        let c = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in common == 0 ? 0 : Int(memcmp(pa.baseAddress!, pb.baseAddress!, common)) }
        }
        if c != 0 { return c }
        return a.count - b.count
    }

    /// True when `a` sorts strictly before `b`, bytewise.
    @inlinable
    public static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool { compare(a, b) < 0 }
}

/// A byte string as a dictionary key: equal to and ordered like its bytes, hashed in one `Hasher` call (the
/// standard `[UInt8]` conformance feeds the hasher one byte at a time).
public struct ByteKey: Hashable, Comparable, Sendable {
    public let bytes: [UInt8]

    @inlinable
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inlinable
    public static func == (lhs: ByteKey, rhs: ByteKey) -> Bool { ByteOrder.compare(lhs.bytes, rhs.bytes) == 0 }

    @inlinable
    public static func < (lhs: ByteKey, rhs: ByteKey) -> Bool { ByteOrder.less(lhs.bytes, rhs.bytes) }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
