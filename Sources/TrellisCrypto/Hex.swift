// Hex.swift — lowercase hexadecimal encoding and strict decoding.
//
// Decoding accepts upper- and lower-case digits, rejects odd lengths and any non-hex character, and never crashes
// on input.

/// Errors from decoding hexadecimal text.
public enum HexError: Error, Equatable, CustomStringConvertible {
    case oddLength(Int)
    case invalidCharacter(position: Int)
    case wrongLength(expectedBytes: Int, actualBytes: Int)

    public var description: String {
        switch self {
        case .oddLength(let n): return "hex string has odd length \(n)"
        case .invalidCharacter(let p): return "hex string has a non-hex character at position \(p)"
        case .wrongLength(let e, let a): return "expected \(e) bytes (\(e * 2) hex digits), got \(a) bytes"
        }
    }
}

public enum Hex {
    @usableFromInline static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hex of `bytes`. (@inlinable: a generic function is not specialized across the module boundary.)
    @inlinable
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the lowercase hex digits of `bytes` to `out` (the bytes of `encode(bytes)`, without a String).
    /// Concrete (not generic over `Collection`): a generic version is not specialized across the module boundary
    /// and iterated through witness tables, ten times slower on the ledger's hot path.
    /// The digits are written in place after one resize (appending them one by one checked capacity and
    /// uniqueness 64 times for a key).
    public static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bytes.count * 2))
        out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { b in
                var i = start
                for x in b {
                    o[i] = hexDigit(x >> 4)
                    o[i + 1] = hexDigit(x & 0x0f)
                    i += 2
                }
            }
        }
    }

    /// The lowercase digit of a nibble (0…15).
    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }

    /// Decodes hex text (either case). Throws on odd length or a non-hex character.
    public static func decode(_ text: String) throws(HexError) -> [UInt8] {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { throw .oddLength(utf8.count) }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]) else { throw .invalidCharacter(position: i) }
            guard let lo = nibble(utf8[i + 1]) else { throw .invalidCharacter(position: i + 1) }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// Decodes hex text that must hold exactly `count` bytes.
    public static func decode(_ text: String, count: Int) throws(HexError) -> [UInt8] {
        let bytes = try decode(text)
        guard bytes.count == count else { throw .wrongLength(expectedBytes: count, actualBytes: bytes.count) }
        return bytes
    }

    @inline(__always)
    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
