// CodecError.swift — every way canonical decoding can fail, each with a message a user can act on.

/// A decoding failure. Decoding untrusted bytes never crashes; it throws one of these.
public enum CodecError: Error, Equatable, CustomStringConvertible {
    /// The input ended while `needed` more bytes were expected at `offset`.
    case unexpectedEnd(offset: Int, needed: Int)
    /// The value was complete but `count` bytes were left over.
    case trailingBytes(count: Int)
    /// A length or count prefix of `length` exceeds `limit`.
    case lengthOverLimit(what: String, length: UInt64, limit: Int)
    /// An enum tag that this version does not know.
    case unknownTag(type: String, tag: UInt8)
    /// A boolean byte other than 0 or 1, or an optional marker other than 0 or 1.
    case invalidBool(offset: Int, byte: UInt8)
    /// A string that is not valid UTF-8.
    case invalidUTF8(offset: Int)
    /// Map keys (or a set) not in strictly increasing byte order.
    case unsortedKeys(what: String)
    /// A map key (or set element) that appears twice.
    case duplicateKey(what: String)
    /// Structures nested deeper than the limit.
    case nestingTooDeep(limit: Int)
    /// A value that decodes but breaks a rule of its type (e.g. a wrong fixed length, a zero amount).
    case invalidValue(type: String, reason: String)

    public var description: String {
        switch self {
        case .unexpectedEnd(let o, let n): return "input ends at offset \(o) but \(n) more bytes were expected"
        case .trailingBytes(let n): return "\(n) trailing bytes after the end of the value"
        case .lengthOverLimit(let what, let l, let lim): return "\(what) length \(l) exceeds the limit \(lim)"
        case .unknownTag(let t, let tag): return "unknown \(t) tag \(tag)"
        case .invalidBool(let o, let b): return "byte \(b) at offset \(o) is not a boolean (0 or 1)"
        case .invalidUTF8(let o): return "string at offset \(o) is not valid UTF-8"
        case .unsortedKeys(let w): return "\(w) keys are not in strictly increasing byte order"
        case .duplicateKey(let w): return "\(w) has a duplicate key"
        case .nestingTooDeep(let lim): return "structure nested deeper than \(lim) levels"
        case .invalidValue(let t, let r): return "invalid \(t): \(r)"
        }
    }
}
