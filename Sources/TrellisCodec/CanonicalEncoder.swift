// CanonicalEncoder.swift — the canonical binary encoding (DESIGN.md §3), writing side.
//
// Rules (consensus-critical; change only with a format version bump):
// - unsigned and signed integers: fixed width, big-endian (signed as two's complement);
// - bool: one byte, 0 or 1; optional: one byte 0 (absent) or 1 (present) followed by the value;
// - bytes and strings (UTF-8): u32 length, then the bytes; fixed-size byte fields (hashes, keys): raw, no length;
// - arrays: u32 count, then the elements; enums: a u8 tag then the case's fields;
// - maps and sets: encoded as arrays sorted by the canonical bytes of the key, with no duplicates.
// One value has exactly one encoding, so equal values hash equally on every node.

import Glibc

/// A type with one canonical byte encoding.
public protocol CanonicalEncodable {
    func encode(to encoder: inout CanonicalEncoder)
}

/// A type decodable from its canonical encoding, strictly.
public protocol CanonicalDecodable {
    init(from decoder: inout CanonicalDecoder) throws(CodecError)
}

public typealias CanonicalCodable = CanonicalEncodable & CanonicalDecodable

extension CanonicalEncodable {
    /// The canonical bytes of this value. (@inlinable, like the generic composites below: called across the module
    /// boundary, generic code runs unspecialized.)
    @inlinable
    public var canonicalBytes: [UInt8] {
        var encoder = CanonicalEncoder()
        encode(to: &encoder)
        return encoder.bytes
    }
}

extension Array where Element == UInt8 {
    /// Appends the UTF-8 of `string`: one copy from the string's own storage when it has contiguous UTF-8 (native
    /// strings, small or not), the sequence otherwise (the sequence path cost ~300 instructions per short string).
    @inlinable
    public mutating func appendUTF8(of string: String) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { append(contentsOf: $0) }
        if done == nil { append(contentsOf: string.utf8) }
    }
}

/// Appends canonical encodings to a byte buffer.
public struct CanonicalEncoder: Sendable {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func encode(_ value: UInt8) { bytes.append(value) }

    public mutating func encode(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func encode(_ value: UInt32) {
        // One append of the big-endian bytes (a byte at a time checked capacity four times).
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func encode(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func encode(_ value: Int64) { encode(UInt64(bitPattern: value)) }

    public mutating func encode(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Length-prefixed (u32) bytes.
    public mutating func encode(bytes value: [UInt8]) {
        precondition(value.count <= Int(UInt32.max), "byte field too long to encode: \(value.count)")
        encode(UInt32(value.count))
        bytes += value
    }

    /// Raw bytes of a fixed-size field (the type fixes the length; no prefix).
    public mutating func encode(fixed value: [UInt8]) { bytes += value }

    /// Raw bytes of a fixed-size field, read in place.
    public mutating func encode(fixed value: UnsafeRawBufferPointer) { bytes.append(contentsOf: value) }

    /// Length-prefixed UTF-8.
    public mutating func encode(_ value: String) {
        // The UTF-8 appended in place (no intermediate array).
        let count = value.utf8.count
        precondition(count <= Int(UInt32.max), "string too long to encode: \(count)")
        encode(UInt32(count))
        bytes.appendUTF8(of: value)
    }

    @inlinable
    public mutating func encode<T: CanonicalEncodable>(_ value: T) { value.encode(to: &self) }

    @inlinable
    public mutating func encode<T: CanonicalEncodable>(_ value: T?) {
        if let value {
            encode(UInt8(1))
            value.encode(to: &self)
        } else {
            encode(UInt8(0))
        }
    }

    /// u32 count, then each element.
    @inlinable
    public mutating func encode<T: CanonicalEncodable>(_ values: [T]) {
        precondition(values.count <= Int(UInt32.max), "array too long to encode: \(values.count)")
        encode(UInt32(values.count))
        for v in values { v.encode(to: &self) }
    }

    /// A set of elements: sorted by canonical bytes, duplicates removed, then encoded as an array.
    @inlinable
    public mutating func encode<T: CanonicalEncodable>(set values: [T]) {
        // A closure, not a key path: a key path through a generic requirement is instantiated at run time on every
        // call (it showed up as 13 % of block execution).
        if values.count <= 1 {
            encode(UInt32(values.count))
            for v in values { v.encode(to: &self) }
            return
        }
        // Sets are mostly kept sorted: write the elements in place and keep them when each one's bytes sort
        // strictly after the previous one's (exactly what sorting and removing duplicates would produce); only
        // otherwise encode each on its own and sort (an array per element).
        let start = bytes.count
        encode(UInt32(values.count))
        var previous = bytes.count..<bytes.count
        var inOrder = true
        for (i, v) in values.enumerated() {
            let at = bytes.count
            v.encode(to: &self)
            let current = at..<bytes.count
            if i > 0 && !Self.less(bytes, previous, current) {
                inOrder = false
                break
            }
            previous = current
        }
        if inOrder { return }
        truncate(to: start)
        let encoded = Self.sortedUnique(values.map { $0.canonicalBytes })
        encode(UInt32(encoded.count))
        for e in encoded { encode(fixed: e) }
    }

    /// Drops every byte, keeping the buffer (to encode one value after another into the same storage).
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// Drops the bytes from `count` on.
    @usableFromInline
    mutating func truncate(to count: Int) { bytes.removeSubrange(count...) }

    /// True when `buffer[a]` sorts strictly before `buffer[b]`, bytewise (a proper prefix first), as `ByteOrder.less`.
    @usableFromInline
    static func less(_ buffer: [UInt8], _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        buffer.withUnsafeBufferPointer { p in
            let common = min(a.count, b.count)
            let c = common == 0 ? 0 : Int(memcmp(p.baseAddress! + a.lowerBound, p.baseAddress! + b.lowerBound, common))
            return c != 0 ? c < 0 : a.count < b.count
        }
    }

    /// A map: entries sorted by the canonical bytes of their keys. Keys must be distinct (an internal invariant:
    /// callers build maps from dictionaries or checked input).
    @inlinable
    public mutating func encode<K: CanonicalEncodable, V: CanonicalEncodable>(map entries: [(K, V)]) {
        let keyed = entries.map { ($0.0.canonicalBytes, $0.1) }.sorted { ByteOrder.less($0.0, $1.0) }
        for i in keyed.indices.dropFirst() {
            precondition(keyed[i - 1].0 != keyed[i].0, "map has a duplicate key")
        }
        encode(UInt32(keyed.count))
        for (k, v) in keyed {
            encode(fixed: k)
            v.encode(to: &self)
        }
    }

    @usableFromInline
    static func sortedUnique(_ items: [[UInt8]]) -> [[UInt8]] {
        let sorted = items.sorted(by: ByteOrder.less)
        var out: [[UInt8]] = []
        out.reserveCapacity(sorted.count)
        for s in sorted where out.last != s { out.append(s) }
        return out
    }
}

// Conformances for the primitive types, so they can appear in arrays, optionals and maps.
extension UInt8: CanonicalCodable {
    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(self) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) { self = try decoder.decodeUInt8() }
}
extension UInt16: CanonicalCodable {
    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(self) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) { self = try decoder.decodeUInt16() }
}
extension UInt32: CanonicalCodable {
    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(self) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) { self = try decoder.decodeUInt32() }
}
extension UInt64: CanonicalCodable {
    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(self) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) { self = try decoder.decodeUInt64() }
}
extension Int64: CanonicalCodable {
    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(self) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) { self = try decoder.decodeInt64() }
}
extension Bool: CanonicalCodable {
    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(self) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) { self = try decoder.decodeBool() }
}
extension String: CanonicalCodable {
    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(self) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) { self = try decoder.decodeString() }
}
