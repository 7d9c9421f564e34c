// CanonicalDecoder.swift — the canonical binary encoding (DESIGN.md §3), reading side, strict.
//
// Fault model: the input is hostile. Every length and count is checked against the configured limits and against
// the bytes actually left before anything is allocated; booleans and optional markers must be 0 or 1; strings must
// be valid UTF-8; sets and maps must be strictly increasing; nesting is bounded; `decode(_:from:)` rejects trailing
// bytes. Any violation throws a `CodecError`; nothing traps.

import Glibc

/// Bounds applied while decoding.
public struct DecodingLimits: Sendable, Equatable {
    /// Longest length-prefixed byte field or string.
    public var maxBytesLength: Int
    /// Largest element count of an array, set or map.
    public var maxCount: Int
    /// Deepest nesting of structures (each `decode(T.self)` of a nested value is one level).
    public var maxDepth: Int

    public init(maxBytesLength: Int = 4 << 20, maxCount: Int = 1 << 20, maxDepth: Int = 32) {
        self.maxBytesLength = maxBytesLength
        self.maxCount = maxCount
        self.maxDepth = maxDepth
    }

    public static let `default` = DecodingLimits()
}

/// Reads canonical encodings from a byte array.
public struct CanonicalDecoder {
    public let limits: DecodingLimits
    @usableFromInline let input: [UInt8]
    /// The offset of the next unread byte.
    public private(set) var offset: Int
    @usableFromInline var depth = 0

    public init(_ input: [UInt8], limits: DecodingLimits = .default) {
        self.input = input
        self.offset = 0
        self.limits = limits
    }

    /// Bytes not yet read.
    public var remaining: Int { input.count - offset }

    /// The input bytes read since offset `start` (a value's own encoding, for hashing it without re-encoding).
    public func consumed(since start: Int) -> ArraySlice<UInt8> {
        input[min(max(0, start), offset)..<offset]
    }

    /// Decodes exactly one `T` from `bytes`; trailing bytes are an error.
    @inlinable
    public static func decode<T: CanonicalDecodable>(_ type: T.Type, from bytes: [UInt8], limits: DecodingLimits = .default) throws(CodecError) -> T {
        var decoder = CanonicalDecoder(bytes, limits: limits)
        let value = try decoder.decode(T.self)
        try decoder.finish()
        return value
    }

    /// Throws unless every byte has been consumed.
    public func finish() throws(CodecError) {
        if remaining != 0 { throw .trailingBytes(count: remaining) }
    }

    // MARK: primitives

    private mutating func take(_ n: Int) throws(CodecError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw .unexpectedEnd(offset: offset, needed: n - max(0, remaining)) }
        let slice = input[offset..<(offset + n)]
        offset += n
        return slice
    }

    public mutating func decodeUInt8() throws(CodecError) -> UInt8 {
        guard remaining >= 1 else { throw .unexpectedEnd(offset: offset, needed: 1) }
        let b = input[offset]
        offset += 1
        return b
    }

    public mutating func decodeUInt16() throws(CodecError) -> UInt16 {
        UInt16(truncatingIfNeeded: try readBigEndian(2))
    }

    public mutating func decodeUInt32() throws(CodecError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBigEndian(4))
    }

    public mutating func decodeUInt64() throws(CodecError) -> UInt64 {
        try readBigEndian(8)
    }

    public mutating func decodeInt64() throws(CodecError) -> Int64 {
        Int64(bitPattern: try readBigEndian(8))
    }

    private mutating func readBigEndian(_ width: Int) throws(CodecError) -> UInt64 {
        guard width <= remaining else { throw .unexpectedEnd(offset: offset, needed: width - max(0, remaining)) }
        // Read in place: a slice of the input costs a retain and release of its buffer.
        let at = offset
        let v = input.withUnsafeBufferPointer { b -> UInt64 in
            var v: UInt64 = 0
            for i in at..<(at + width) { v = v << 8 | UInt64(b[i]) }
            return v
        }
        offset += width
        return v
    }

    public mutating func decodeBool() throws(CodecError) -> Bool {
        let at = offset
        switch try decodeUInt8() {
        case 0: return false
        case 1: return true
        case let b: throw .invalidBool(offset: at, byte: b)
        }
    }

    /// A length prefix checked against `limit` and the bytes left.
    private mutating func decodeLength(what: String, limit: Int) throws(CodecError) -> Int {
        let n = try decodeUInt32()
        guard UInt64(n) <= UInt64(limit) else { throw .lengthOverLimit(what: what, length: UInt64(n), limit: limit) }
        return Int(n)
    }

    /// Length-prefixed bytes, at most `maxLength` (and the configured limit).
    public mutating func decodeBytes(maxLength: Int? = nil) throws(CodecError) -> [UInt8] {
        let limit = min(maxLength ?? limits.maxBytesLength, limits.maxBytesLength)
        let n = try decodeLength(what: "byte field", limit: limit)
        return Array(try take(n))
    }

    /// Exactly `count` raw bytes (a fixed-size field).
    public mutating func decodeFixed(count: Int) throws(CodecError) -> [UInt8] {
        Array(try take(count))
    }

    /// Exactly `count` raw bytes (a fixed-size field), handed to `body` in place: no array is built (a hash
    /// copies them into its own inline storage).
    public mutating func decodeFixed<R>(count: Int, _ body: (UnsafeRawBufferPointer) -> R) throws(CodecError) -> R {
        guard count >= 0, count <= remaining else { throw .unexpectedEnd(offset: offset, needed: count - max(0, remaining)) }
        let at = offset
        offset += count
        return input.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[at..<(at + count)])) }
    }

    /// Length-prefixed UTF-8, at most `maxLength` bytes.
    public mutating func decodeString(maxLength: Int? = nil) throws(CodecError) -> String {
        let limit = min(maxLength ?? limits.maxBytesLength, limits.maxBytesLength)
        let start = offset
        let n = try decodeLength(what: "string", limit: limit)
        guard n <= remaining else { throw .unexpectedEnd(offset: offset, needed: n - max(0, remaining)) }
        let at = offset
        offset += n
        // Read in place (a slice costs a retain and release, and validation through the generic sequence path cost
        // ~1,000 instructions per short string). ASCII — ids, kinds, names: nearly every string — is valid UTF-8
        // whatever its bytes, so it is taken as it is; anything else is validated as before.
        let string: String? = input.withUnsafeBufferPointer { buffer in
            let bytes = UnsafeBufferPointer(rebasing: buffer[at..<(at + n)])
            if Self.isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
            return String(validating: bytes, as: UTF8.self)
        }
        guard let string else { throw .invalidUTF8(offset: start) }
        return string
    }

    /// True when every byte is below 0x80.
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var high: UInt8 = 0
        for b in bytes { high |= b }
        return high < 0x80
    }

    // MARK: composites

    // The generic composites are @inlinable so that the modules decoding their own types get them specialized:
    // called across the module boundary they ran unspecialized (metadata lookups and witness calls per element).

    /// A nested value; counts one level of nesting.
    @inlinable
    public mutating func decode<T: CanonicalDecodable>(_ type: T.Type) throws(CodecError) -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= limits.maxDepth else { throw .nestingTooDeep(limit: limits.maxDepth) }
        return try T(from: &self)
    }

    /// An optional: marker byte 0 (absent) or 1 (present, then the value).
    @inlinable
    public mutating func decodeOptional<T: CanonicalDecodable>(_ type: T.Type) throws(CodecError) -> T? {
        try decodeBool() ? try decode(T.self) : nil
    }

    /// An element count, checked against `maxCount` (and the configured limit).
    public mutating func decodeCount(what: String = "array", maxCount: Int? = nil) throws(CodecError) -> Int {
        let limit = min(maxCount ?? limits.maxCount, limits.maxCount)
        // The length check of `decodeLength`, with the message built only on failure (building it for every
        // array, set and map decoded was a string allocation each).
        let n = Int(try decodeUInt32())
        guard UInt64(n) <= UInt64(limit) else { throw .lengthOverLimit(what: "\(what) element count", length: UInt64(n), limit: limit) }
        // Every element takes at least one byte; a larger count cannot be honest.
        guard n <= remaining else { throw .unexpectedEnd(offset: offset, needed: n - remaining) }
        return n
    }

    /// A u32-counted array of `T`, at most `maxCount` elements.
    @inlinable
    public mutating func decodeArray<T: CanonicalDecodable>(_ type: T.Type, maxCount: Int? = nil) throws(CodecError) -> [T] {
        let n = try decodeCount(maxCount: maxCount)
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try decode(T.self)) }
        return out
    }

    /// A set: like an array, but the elements' canonical bytes must be strictly increasing.
    @inlinable
    public mutating func decodeSet<T: CanonicalDecodable>(_ type: T.Type, what: String = "set", maxCount: Int? = nil) throws(CodecError) -> [T] {
        let n = try decodeCount(what: what, maxCount: maxCount)
        var out: [T] = []
        out.reserveCapacity(n)
        var previous = 0..<0
        for i in 0..<n {
            let start = offset
            out.append(try decode(T.self))
            let current = start..<offset
            if i > 0 { try checkIncreasing(previous, current, what: what) }
            previous = current
        }
        return out
    }

    /// A map: u32 count, then (key, value) pairs whose keys' canonical bytes strictly increase.
    @inlinable
    public mutating func decodeMap<K: CanonicalDecodable, V: CanonicalDecodable>(_ key: K.Type, _ value: V.Type, what: String = "map", maxCount: Int? = nil) throws(CodecError) -> [(K, V)] {
        let n = try decodeCount(what: what, maxCount: maxCount)
        var out: [(K, V)] = []
        out.reserveCapacity(n)
        var previous = 0..<0
        for i in 0..<n {
            let start = offset
            let k = try decode(K.self)
            let current = start..<offset
            if i > 0 { try checkIncreasing(previous, current, what: what) }
            previous = current
            out.append((k, try decode(V.self)))
        }
        return out
    }

    /// Throws unless the input bytes in `current` sort strictly after those in `previous` (bytewise, a proper
    /// prefix first): equal is a duplicate, lower is out of order.
    @usableFromInline
    func checkIncreasing(_ previous: Range<Int>, _ current: Range<Int>, what: String) throws(CodecError) {
        let order = input.withUnsafeBufferPointer { p -> Int in
            let common = min(previous.count, current.count)
            let c = common == 0 ? 0 : Int(memcmp(p.baseAddress! + previous.lowerBound, p.baseAddress! + current.lowerBound, common))
            return c != 0 ? c : previous.count - current.count
        }
        if order == 0 { throw .duplicateKey(what: what) }
        if order > 0 { throw .unsortedKeys(what: what) }
    }

    /// A u8 enum tag.
    public mutating func decodeTag() throws(CodecError) -> UInt8 { try decodeUInt8() }
}
