// TOMLValueDecoder.swift — `Decodable` types from a `TOMLTable`, strictly.
//
// Every failure is a `TOMLDecodingError` naming the dotted key and its line: a value of the wrong type, an integer
// outside the field's range (a negative timeout, a count above Int's range), or — after decoding — a key that no
// field read (a typo never falls back to a default silently).

/// Why a TOML document does not fit the type being decoded.
public struct TOMLDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The dotted key ("consensus.timeout_propose_ms").
    public let key: String
    /// The line the key is written on (0 when the key is absent).
    public let line: Int
    public let message: String
    public var description: String { line > 0 ? "\(key) (line \(line)): \(message)" : "\(key): \(message)" }
}

public enum TOMLValueDecoder {
    /// Decodes `T` from `table`; keys present in the table that `T` never read are an error.
    public static func decode<T: Decodable>(_ type: T.Type, from table: TOMLTable) throws(TOMLDecodingError) -> T {
        let usage = KeyUsage()
        let decoder = Decoding(value: .table(table), line: 0, codingPath: [], usage: usage)
        let result: T
        do { result = try T(from: decoder) } catch let error as TOMLDecodingError {
            throw error
        } catch {
            throw TOMLDecodingError(key: "(document)", line: 0, message: "\(error)")
        }
        if let unknown = firstUnread(table, path: [], usage: usage) { throw unknown }
        return result
    }

    private static func firstUnread(_ table: TOMLTable, path: [String], usage: KeyUsage) -> TOMLDecodingError? {
        for key in table.keys {
            guard let entry = table[key] else { continue }
            let keyPath = path + [key]
            let name = keyPath.joined(separator: ".")
            guard usage.read.contains(name) else {
                let what = if case .table = entry.value { "unknown table [\(name)]" } else { "unknown key \"\(name)\"" }
                return TOMLDecodingError(key: name, line: entry.line, message: "\(what) (check the spelling; docs/OPERATIONS.md lists the keys)")
            }
            if case .table(let child) = entry.value, let error = firstUnread(child, path: keyPath, usage: usage) { return error }
        }
        return nil
    }
}

/// The dotted paths of the keys that decoding read.
private final class KeyUsage {
    var read: Set<String> = []
}

private struct Decoding: Decoder {
    let value: TOMLValue
    let line: Int
    let codingPath: [any CodingKey]
    let usage: KeyUsage
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    var name: String {
        guard !codingPath.isEmpty else { return "(document)" }
        var text = ""
        for key in codingPath {
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        return text
    }

    func failure(_ message: String) -> TOMLDecodingError { TOMLDecodingError(key: name, line: line, message: message) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .table(let table) = value else { throw failure("expected a table, found \(value.typeDescription)") }
        return KeyedDecodingContainer(Keyed<Key>(table: table, decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw failure("expected an array, found \(value.typeDescription)") }
        return Unkeyed(items: items, decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }

    func child(_ value: TOMLValue, line: Int, key: any CodingKey) -> Decoding {
        Decoding(value: value, line: line, codingPath: codingPath + [key], usage: usage)
    }

    // MARK: Scalars

    func decodeString() throws -> String {
        guard case .string(let text) = value else { throw failure("expected a string, found \(value.typeDescription)") }
        return text
    }

    func decodeBool() throws -> Bool {
        guard case .boolean(let flag) = value else { throw failure("expected true or false, found \(value.typeDescription)") }
        return flag
    }

    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .integer(let number) = value else { throw failure("expected an integer, found \(value.typeDescription)") }
        guard let exact = I(exactly: number) else { throw failure("\(number) is out of range (\(I.min) … \(I.max))") }
        return exact
    }
}

private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let table: TOMLTable
    let decoder: Decoding
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { table.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { table[key.stringValue] != nil }

    private func entry(_ key: Key) throws -> Decoding {
        let path = (codingPath + [key]).map(\.stringValue).joined(separator: ".")
        decoder.usage.read.insert(path)
        guard let entry = table[key.stringValue] else {
            throw TOMLDecodingError(key: path, line: 0, message: "is required")
        }
        return decoder.child(entry.value, line: entry.line, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        decoder.usage.read.insert((codingPath + [key]).map(\.stringValue).joined(separator: "."))
        return table[key.stringValue] == nil
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try entry(key).decodeBool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try entry(key).decodeString() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { throw try entry(key).failure("floating-point values are not supported") }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw try entry(key).failure("floating-point values are not supported") }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try entry(key).decodeInteger(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try entry(key).decodeInteger(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try entry(key).decodeInteger(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try entry(key).decodeInteger(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try entry(key).decodeInteger(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try entry(key).decodeInteger(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try entry(key).decodeInteger(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try entry(key).decodeInteger(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try entry(key).decodeInteger(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try entry(key).decodeInteger(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try T(from: entry(key)) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try entry(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try entry(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { try entry(key) }
}

private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct Unkeyed: UnkeyedDecodingContainer {
    let items: [TOMLValue]
    let decoder: Decoding
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [TOMLValue], decoder: Decoding) {
        self.items = items
        self.decoder = decoder
    }

    private mutating func next() throws -> Decoding {
        guard !isAtEnd else { throw decoder.failure("the array has too few elements") }
        let child = decoder.child(items[currentIndex], line: decoder.line, key: IndexKey(currentIndex))
        currentIndex += 1
        return child
    }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decodeBool() }
    mutating func decode(_ type: String.Type) throws -> String { try next().decodeString() }
    mutating func decode(_ type: Double.Type) throws -> Double { throw try next().failure("floating-point values are not supported") }
    mutating func decode(_ type: Float.Type) throws -> Float { throw try next().failure("floating-point values are not supported") }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decodeInteger(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decodeInteger(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decodeInteger(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decodeInteger(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: next()) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct Single: SingleValueDecodingContainer {
    let decoder: Decoding
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { false }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.decodeBool() }
    func decode(_ type: String.Type) throws -> String { try decoder.decodeString() }
    func decode(_ type: Double.Type) throws -> Double { throw decoder.failure("floating-point values are not supported") }
    func decode(_ type: Float.Type) throws -> Float { throw decoder.failure("floating-point values are not supported") }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decodeInteger(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.decodeInteger(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.decodeInteger(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decodeInteger(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decodeInteger(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.decodeInteger(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: decoder) }
}
