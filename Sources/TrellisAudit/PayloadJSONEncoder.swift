// PayloadJSONEncoder.swift — a small `Encoder` that writes a payload's JSON (sorted keys, no whitespace, "/"
// unescaped) byte for byte as `JSONEncoder` does for the shapes payloads use, several times faster.
//
// It handles objects, arrays, strings of printable ASCII, integers, booleans and null. Anything it cannot write
// exactly as JSONEncoder would — another character, a floating-point number, Data/Date/URL/Decimal (JSONEncoder
// special-cases them), a key outside [a-z0-9_], two keys whose order could depend on JSONEncoder's numeric key
// comparison, a duplicate key, a super-encoder — throws `Unsupported`, and the caller falls back to JSONEncoder
// (`KindSpec.jsonPayload`). `FastVerifyTests` compares it with JSONEncoder.
import Foundation

enum PayloadJSONEncoder {
    struct Unsupported: Error {}

    /// The JSON bytes of `value`.
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try write(try box(value), into: &out)
        return out
    }

    fileprivate indirect enum Node {
        case object(ObjectRef)
        case array(ArrayRef)
        case scalar([UInt8])
    }

    fileprivate final class ObjectRef { var entries: [(key: String, value: Node)] = [] }
    fileprivate final class ArrayRef { var items: [Node] = [] }

    /// The node of one value: primitives directly, anything else through its own `encode(to:)`.
    ///
    /// Primitives are recognised by their type's identity, not by `as?` casts: a payload's values are mostly
    /// structs, arrays and keys, for which each of a dozen failed dynamic casts cost more than writing the value
    /// (most of the verifier's payload JSON time). A primitive wrapped in another type (an `Optional`, say) is not
    /// recognised here, and reaches this function again as itself through its own `encode(to:)`.
    fileprivate static func box<T: Encodable>(_ value: T) throws -> Node {
        switch ObjectIdentifier(T.self) {
        case ObjectIdentifier(String.self): return .scalar(try string(value as! String))
        case ObjectIdentifier(Bool.self): return .scalar(Array((value as! Bool ? "true" : "false").utf8))
        case ObjectIdentifier(Int.self): return number(value as! Int)
        case ObjectIdentifier(Int64.self): return number(value as! Int64)
        case ObjectIdentifier(UInt64.self): return number(value as! UInt64)
        case ObjectIdentifier(UInt32.self): return number(value as! UInt32)
        case ObjectIdentifier(Int32.self): return number(value as! Int32)
        case ObjectIdentifier(UInt16.self): return number(value as! UInt16)
        case ObjectIdentifier(Int16.self): return number(value as! Int16)
        case ObjectIdentifier(UInt8.self): return number(value as! UInt8)
        case ObjectIdentifier(Int8.self): return number(value as! Int8)
        case ObjectIdentifier(UInt.self): return number(value as! UInt)
        case ObjectIdentifier([String].self):
            // Lists of ids and hex keys, the commonest compound field: written here rather than through a nested
            // encoder and a container per element (what `[String].encode(to:)` would ask for gives the same node).
            let array = ArrayRef()
            array.items = try (value as! [String]).map { .scalar(try string($0)) }
            return .array(array)
        case ObjectIdentifier(Double.self), ObjectIdentifier(Float.self), ObjectIdentifier(Data.self), ObjectIdentifier(Date.self),
             ObjectIdentifier(URL.self), ObjectIdentifier(Decimal.self):
            throw Unsupported()
        default:
            let encoder = NodeEncoder()
            try value.encode(to: encoder)
            guard !encoder.unsupported, let node = encoder.node else { throw Unsupported() }
            return node
        }
    }

    private static func number<N: BinaryInteger>(_ n: N) -> Node { .scalar(Array(String(n).utf8)) }

    /// `"text"` for printable ASCII (only `"` and `\` escaped); throws for anything else.
    fileprivate static func string(_ text: String) throws -> [UInt8] {
        var out: [UInt8] = [0x22]
        out.reserveCapacity(text.utf8.count + 2)
        // Mostly nothing to escape: then one append (scanned as a contiguous buffer: the UTF-8 view's iterator
        // costs several times more per byte).
        var text = text
        if text.withUTF8({ $0.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != 0x22 && $0 != 0x5C } }) {
            text.withUTF8 { out.append(contentsOf: $0) }
            out.append(0x22)
            return out
        }
        for c in text.utf8 {
            switch c {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x20...0x7E: out.append(c)
            default: throw Unsupported()
            }
        }
        out.append(0x22)
        return out
    }

    fileprivate static func write(_ node: Node, into out: inout [UInt8]) throws {
        switch node {
        case .scalar(let bytes): out += bytes
        case .array(let a):
            out.append(0x5B)
            for (i, item) in a.items.enumerated() {
                if i > 0 { out.append(0x2C) }
                try write(item, into: &out)
            }
            out.append(0x5D)
        case .object(let o):
            // Each key's bytes once (building them in the sort's comparisons was most of a small payload's cost);
            // entries sorted by them unless already in order.
            let keys = o.entries.map { Array($0.key.utf8) }
            var order = Array(keys.indices)
            if !zip(keys, keys.dropFirst()).allSatisfy({ $0.0.lexicographicallyPrecedes($0.1) }) {
                order.sort { keys[$0].lexicographicallyPrecedes(keys[$1]) }
            }
            out.append(0x7B)
            for (i, k) in order.enumerated() {
                let key = keys[k]
                guard !key.isEmpty, key.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }) else { throw Unsupported() }
                if i > 0 {
                    out.append(0x2C)
                    try checkOrder(keys[order[i - 1]], key)
                }
                out.append(0x22)
                out += key
                out.append(0x22)
                out.append(0x3A)
                try write(o.entries[k].value, into: &out)
            }
            out.append(0x7D)
        }
    }

    /// `a` sorts before `b` bytewise; refuse when they are equal or first differ inside a run of digits (where a
    /// numeric comparison could order them the other way).
    private static func checkOrder(_ a: [UInt8], _ b: [UInt8]) throws {
        var i = 0
        while i < a.count, i < b.count, a[i] == b[i] { i += 1 }
        if i == a.count && i == b.count { throw Unsupported() }
        guard i < a.count, i < b.count else { return }  // a prefix sorts first either way
        let isDigit: (UInt8) -> Bool = { (0x30...0x39).contains($0) }
        let digitA = isDigit(a[i]), digitB = isDigit(b[i])
        if (digitA && digitB) || (i > 0 && isDigit(a[i - 1]) && (digitA || digitB)) { throw Unsupported() }
    }
}

/// The `Encoder` handed to a value's `encode(to:)`: records the one container (or single value) it asks for.
private final class NodeEncoder: Encoder {
    typealias Node = PayloadJSONEncoder.Node
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    var node: Node?
    var unsupported = false

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: PayloadJSONEncoder.ObjectRef
        switch node {
        case .object(let o)?: object = o
        case nil: object = PayloadJSONEncoder.ObjectRef(); node = .object(object)
        default: unsupported = true; object = PayloadJSONEncoder.ObjectRef()
        }
        return KeyedEncodingContainer(Keyed<Key>(encoder: self, object: object))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: PayloadJSONEncoder.ArrayRef
        switch node {
        case .array(let a)?: array = a
        case nil: array = PayloadJSONEncoder.ArrayRef(); node = .array(array)
        default: unsupported = true; array = PayloadJSONEncoder.ArrayRef()
        }
        return Unkeyed(encoder: self, array: array)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(encoder: self) }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: NodeEncoder
        let object: PayloadJSONEncoder.ObjectRef
        var codingPath: [any CodingKey] { encoder.codingPath }

        func encodeNil(forKey key: Key) throws { object.entries.append((key.stringValue, .scalar(Array("null".utf8)))) }
        func encode<T: Encodable>(_ value: T, forKey key: Key) throws { object.entries.append((key.stringValue, try PayloadJSONEncoder.box(value))) }
        func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let child = PayloadJSONEncoder.ObjectRef()
            object.entries.append((key.stringValue, .object(child)))
            return KeyedEncodingContainer(Keyed<NestedKey>(encoder: encoder, object: child))
        }
        func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = PayloadJSONEncoder.ArrayRef()
            object.entries.append((key.stringValue, .array(child)))
            return Unkeyed(encoder: encoder, array: child)
        }
        func superEncoder() -> any Encoder { encoder.unsupported = true; return NodeEncoder() }
        func superEncoder(forKey key: Key) -> any Encoder { encoder.unsupported = true; return NodeEncoder() }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let encoder: NodeEncoder
        let array: PayloadJSONEncoder.ArrayRef
        var codingPath: [any CodingKey] { encoder.codingPath }
        var count: Int { array.items.count }

        func encodeNil() throws { array.items.append(.scalar(Array("null".utf8))) }
        func encode<T: Encodable>(_ value: T) throws { array.items.append(try PayloadJSONEncoder.box(value)) }
        func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let child = PayloadJSONEncoder.ObjectRef()
            array.items.append(.object(child))
            return KeyedEncodingContainer(Keyed<NestedKey>(encoder: encoder, object: child))
        }
        func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = PayloadJSONEncoder.ArrayRef()
            array.items.append(.array(child))
            return Unkeyed(encoder: encoder, array: child)
        }
        func superEncoder() -> any Encoder { encoder.unsupported = true; return NodeEncoder() }
    }

    struct Single: SingleValueEncodingContainer {
        let encoder: NodeEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }

        func encodeNil() throws { try set(.scalar(Array("null".utf8))) }
        func encode<T: Encodable>(_ value: T) throws { try set(try PayloadJSONEncoder.box(value)) }

        private func set(_ node: Node) throws {
            guard encoder.node == nil else { throw PayloadJSONEncoder.Unsupported() }
            encoder.node = node
        }
    }
}
