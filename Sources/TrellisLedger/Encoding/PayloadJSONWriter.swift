// PayloadJSONWriter.swift — writes a payload's JSON view as bytes, directly from its fields: byte for byte what
// `JSONEncoder` (sorted keys, no whitespace, "/" unescaped) writes through the payload's `Encodable` conformance.
//
// The audit's line checks write every transaction's payload JSON (an export line carries it), and going through
// `Encodable` — a container, a boxed value and a key conversion per field — was the largest non-signature cost
// on the audit's worker core. A kind whose payload implements `writeJSON(into:)` writes its fields here in sorted
// key order instead. Soundness rests on one rule: the writer only ever produces JSON it can promise is
// `JSONEncoder`'s. A string with any byte outside printable ASCII (control characters, non-ASCII) clears `ok`, and
// the caller then takes the `Encodable` path (which itself declines to `JSONEncoder`): the bytes never differ, only
// the speed. `PayloadJSONWriterTests` compares every direct writer with `JSONEncoder`, strings with escapes and
// non-ASCII included.
import TrellisCrypto

/// An append-only JSON byte buffer for payload views.
public struct PayloadJSONWriter {
    /// The JSON written so far (meaningful only while `ok`).
    public private(set) var bytes: [UInt8] = []
    /// False once a string could not be written as `JSONEncoder` writes it; the bytes must then be discarded.
    public private(set) var ok = true

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    public init(capacity: Int = 128) { bytes.reserveCapacity(capacity) }

    /// Literal JSON text (keys, punctuation): the caller writes keys in sorted order.
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// `"text"`: printable ASCII, with `"` and `\` escaped as `JSONEncoder` escapes them ("/" is not escaped);
    /// any other byte clears `ok`.
    public mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(0x22)
            for c in utf8 {
                switch c {
                case 0x22, 0x5C: bytes.append(0x5C); bytes.append(c)
                case 0x20...0x7E: bytes.append(c)
                default: ok = false
                }
            }
            bytes.append(0x22)
        }
    }

    /// `"text"` for any text, escaped as docs/EXPORT-FORMAT.md §6.1 says (and `JSONEncoder` escapes, which
    /// `PayloadJSONWriterTests` checks for every class of character): `"` and `\` with a backslash, U+0008, U+0009,
    /// U+000A, U+000C and U+000D as `\b \t \n \f \r`, the other control characters below U+0020 as `\u00xx`; all
    /// else (DEL, non-ASCII) as it is. Never clears `ok`: for a payload whose view must not depend on `JSONEncoder`
    /// (evidence metadata, whose distinct keys `JSONEncoder` would merge when Unicode calls them equal).
    public mutating func text(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(0x22)
            for c in utf8 {
                switch c {
                case 0x22, 0x5C: bytes.append(0x5C); bytes.append(c)
                case 0x08: bytes.append(0x5C); bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(0x5C); bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
                case 0x00..<0x20:
                    bytes.append(contentsOf: Array("\\u00".utf8))
                    bytes.append(Self.digits[Int(c >> 4)]); bytes.append(Self.digits[Int(c & 0x0F)])
                default: bytes.append(c)
                }
            }
            bytes.append(0x22)
        }
    }

    /// `["a","b"]`.
    public mutating func strings(_ list: [String]) {
        bytes.append(0x5B)
        for (i, s) in list.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            string(s)
        }
        bytes.append(0x5D)
    }

    /// A decimal integer, as `JSONEncoder` writes any fixed-width integer.
    public mutating func number<T: FixedWidthInteger>(_ n: T) {
        if n < 0 { bytes.append(0x2D) }
        var magnitude = n.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of room: a 64-bit integer has at most 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var k = buffer.count
            repeat {
                k -= 1
                buffer[k] = 0x30 + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            bytes.append(contentsOf: buffer[k...])
        }
    }

    public mutating func bool(_ b: Bool) { b ? raw("true") : raw("false") }

    /// `"hex"` of `data`, lowercase (what `Hex.encode` gives).
    public mutating func hex<C: Collection>(_ data: C) where C.Element == UInt8 {
        bytes.append(0x22)
        Self.digits.withUnsafeBufferPointer { d in
            for b in data {
                bytes.append(d[Int(b >> 4)])
                bytes.append(d[Int(b & 0x0F)])
            }
        }
        bytes.append(0x22)
    }

    /// `"hex"` of a hash.
    public mutating func hex(_ hash: Hash) { hash.withUnsafeBytes { hex($0) } }

    /// `["hex",…]` of public keys (`PublicKey.hex` each).
    public mutating func hexList(_ keys: [PublicKey]) {
        bytes.append(0x5B)
        for (i, key) in keys.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            hex(key.bytes)
        }
        bytes.append(0x5D)
    }

    /// `[…]` of `items`, each written by `element`.
    public mutating func array<T>(_ items: [T], _ element: (inout PayloadJSONWriter, T) -> Void) {
        bytes.append(0x5B)
        for (i, item) in items.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            element(&self, item)
        }
        bytes.append(0x5D)
    }
}
