// TOMLReader.swift — a strict reader for the subset of TOML 1.0 that `config.toml` uses.
//
// Why not a general TOML library: the one used before (TOMLKit, over C++ toml++) aborted the process on some
// syntax errors and on out-of-range integers instead of returning an error. A node's configuration is untrusted
// input like any other: this reader never traps, bounds what it reads, and every error names the line (and key).
//
// Accepted: comments, blank lines, `[table]` and `[dotted.table]` headers of bare keys, `key = value` lines with a
// bare or quoted key, and values that are basic strings ("…" with TOML's escapes), literal strings ('…'), decimal
// integers (optional sign, `_` between digits, no leading zeros, 64-bit), booleans and arrays of these (may span
// lines, trailing comma allowed). Refused with a message saying so: floats, dates, inline tables, arrays of
// tables, multi-line strings, dotted keys on the left of `=`. Redefining a key or a table is an error.

/// A TOML value with the line it starts on (1-based).
public indirect enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The TOML type's name, for messages ("an integer", "a string", …).
    var typeDescription: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .boolean: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// A table: its keys in file order, each with its value and the line it was written on.
public struct TOMLTable: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var value: TOMLValue
        public var line: Int
    }

    public private(set) var keys: [String] = []
    public private(set) var entries: [String: Entry] = [:]
    /// The line of the table's header (0 for the root table).
    public let line: Int
    /// True once a `[header]` defined it (a second header for it is an error).
    var definedByHeader: Bool

    init(line: Int, definedByHeader: Bool) {
        self.line = line
        self.definedByHeader = definedByHeader
    }

    public subscript(key: String) -> Entry? { entries[key] }

    mutating func set(_ key: String, _ entry: Entry) {
        if entries[key] == nil { keys.append(key) }
        entries[key] = entry
    }
}

/// Why a text is not an acceptable TOML document.
public struct TOMLSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

/// Parses the TOML subset described above.
public enum TOMLReader {
    /// Limits: nesting of arrays and headers, and the length of one document, keep the reader's work bounded.
    public static let maxDepth = 16
    public static let maxBytes = 1 << 20

    public static func parse(_ text: String) throws(TOMLSyntaxError) -> TOMLTable {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.document()
    }
}

private struct Parser {
    let bytes: [UInt8]
    var index = 0
    var line = 1

    init(bytes: [UInt8]) { self.bytes = bytes }

    private func error(_ message: String, line: Int? = nil) -> TOMLSyntaxError {
        TOMLSyntaxError(line: line ?? self.line, message: message)
    }

    private var atEnd: Bool { index >= bytes.count }
    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }
    private func peek(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

    mutating func document() throws(TOMLSyntaxError) -> TOMLTable {
        guard bytes.count <= TOMLReader.maxBytes else { throw error("the file is larger than \(TOMLReader.maxBytes) bytes", line: 1) }
        var root = TOMLTable(line: 0, definedByHeader: true)
        var path: [String] = []
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        while true {
            skipWhitespace()
            guard let byte = current else { break }
            switch byte {
            case UInt8(ascii: "#"):
                try comment()
                try endOfLine()
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                try endOfLine()
            case UInt8(ascii: "["):
                let headerLine = line
                path = try header()
                try defineTable(path, in: &root, line: headerLine)
                try restOfLine()
            default:
                let keyLine = line
                let key = try key()
                skipWhitespace()
                guard current == UInt8(ascii: "=") else {
                    if current == UInt8(ascii: ".") { throw error("dotted key \"\(key)…\" is not supported; use a [table] header") }
                    throw error("expected \"=\" after key \"\(key)\"")
                }
                index += 1
                skipWhitespace()
                let value = try value(depth: 0)
                try insert(value, key: key, at: path, in: &root, line: keyLine)
                try restOfLine()
            }
        }
        return root
    }

    // MARK: Lines, whitespace, comments

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 { index += 1 }
    }

    private mutating func comment() throws(TOMLSyntaxError) {
        index += 1 // "#"
        while let byte = current, byte != UInt8(ascii: "\n") {
            if byte == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") { break }
            guard byte == 0x09 || (byte >= 0x20 && byte != 0x7F) else { throw error("control character 0x\(hex(byte)) in a comment") }
            index += 1
        }
    }

    /// Consumes a newline (LF or CRLF) or accepts the end of the text.
    private mutating func endOfLine() throws(TOMLSyntaxError) {
        guard let byte = current else { return }
        if byte == UInt8(ascii: "\n") {
            index += 1
            line += 1
        } else if byte == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") {
            index += 2
            line += 1
        } else {
            throw error("unexpected \(describe(byte)); expected the end of the line")
        }
    }

    /// After a header or a value: optional whitespace and comment, then the end of the line.
    private mutating func restOfLine() throws(TOMLSyntaxError) {
        skipWhitespace()
        if current == UInt8(ascii: "#") { try comment() }
        try endOfLine()
    }

    /// Whitespace, newlines and comments inside an array.
    private mutating func skipArraySpace() throws(TOMLSyntaxError) {
        while let byte = current {
            switch byte {
            case 0x20, 0x09: index += 1
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"): try endOfLine()
            case UInt8(ascii: "#"): try comment()
            default: return
            }
        }
    }

    // MARK: Keys and headers

    private static func isBareKeyByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    private mutating func key() throws(TOMLSyntaxError) -> String {
        guard let byte = current else { throw error("expected a key") }
        if byte == UInt8(ascii: "\"") { return try basicString() }
        if byte == UInt8(ascii: "'") { return try literalString() }
        let start = index
        while let b = current, Self.isBareKeyByte(b) { index += 1 }
        guard index > start else { throw error("expected a key, found \(describe(byte))") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func header() throws(TOMLSyntaxError) -> [String] {
        index += 1 // "["
        if current == UInt8(ascii: "[") { throw error("arrays of tables ([[…]]) are not supported") }
        var path: [String] = []
        while true {
            skipWhitespace()
            path.append(try key())
            guard path.count <= TOMLReader.maxDepth else { throw error("table nesting deeper than \(TOMLReader.maxDepth)") }
            skipWhitespace()
            guard let byte = current else { throw error("unterminated table header") }
            if byte == UInt8(ascii: ".") {
                index += 1
                continue
            }
            guard byte == UInt8(ascii: "]") else { throw error("unexpected \(describe(byte)) in table header") }
            index += 1
            return path
        }
    }

    // MARK: Building the tree

    private func defineTable(_ path: [String], in root: inout TOMLTable, line: Int) throws(TOMLSyntaxError) {
        try Self.define(path[...], in: &root, line: line, fullPath: path)
    }

    private static func define(_ path: ArraySlice<String>, in table: inout TOMLTable, line: Int, fullPath: [String]) throws(TOMLSyntaxError) {
        guard let first = path.first else { return }
        let name = fullPath.joined(separator: ".")
        let isLast = path.count == 1
        if let existing = table[first] {
            guard case .table(var child) = existing.value else {
                throw TOMLSyntaxError(line: line, message: "[\(name)] redefines key \"\(first)\" set at line \(existing.line)")
            }
            if isLast {
                guard !child.definedByHeader else {
                    throw TOMLSyntaxError(line: line, message: "table [\(name)] is defined twice (first at line \(child.line))")
                }
                child.definedByHeader = true
            }
            try define(path.dropFirst(), in: &child, line: line, fullPath: fullPath)
            table.set(first, TOMLTable.Entry(value: .table(child), line: existing.line))
        } else {
            var child = TOMLTable(line: line, definedByHeader: isLast)
            try define(path.dropFirst(), in: &child, line: line, fullPath: fullPath)
            table.set(first, TOMLTable.Entry(value: .table(child), line: line))
        }
    }

    private func insert(_ value: TOMLValue, key: String, at path: [String], in root: inout TOMLTable, line: Int) throws(TOMLSyntaxError) {
        try Self.insert(value, key: key, at: path[...], in: &root, line: line, fullPath: path)
    }

    private static func insert(_ value: TOMLValue, key: String, at path: ArraySlice<String>, in table: inout TOMLTable, line: Int, fullPath: [String]) throws(TOMLSyntaxError) {
        guard let first = path.first else {
            if let existing = table[key] {
                let name = (fullPath + [key]).joined(separator: ".")
                throw TOMLSyntaxError(line: line, message: "key \"\(name)\" is defined twice (first at line \(existing.line))")
            }
            table.set(key, TOMLTable.Entry(value: value, line: line))
            return
        }
        guard let existing = table[first], case .table(var child) = existing.value else {
            preconditionFailure("invalid state: header [\(fullPath.joined(separator: "."))] was not defined before its keys")
        }
        try insert(value, key: key, at: path.dropFirst(), in: &child, line: line, fullPath: fullPath)
        table.set(first, TOMLTable.Entry(value: .table(child), line: existing.line))
    }

    // MARK: Values

    private mutating func value(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        guard depth <= TOMLReader.maxDepth else { throw error("arrays nested deeper than \(TOMLReader.maxDepth)") }
        guard let byte = current else { throw error("expected a value at the end of the file") }
        switch byte {
        case UInt8(ascii: "\""):
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") { throw error("multi-line strings (\"\"\") are not supported") }
            return .string(try basicString())
        case UInt8(ascii: "'"):
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") { throw error("multi-line strings (''') are not supported") }
            return .string(try literalString())
        case UInt8(ascii: "["):
            return try array(depth: depth)
        case UInt8(ascii: "{"):
            throw error("inline tables ({…}) are not supported; use a [table] header")
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .boolean(try boolean())
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "i"), UInt8(ascii: "n"):
            return .integer(try integer())
        case UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "#"):
            throw error("expected a value after \"=\"")
        default:
            throw error("unexpected \(describe(byte)); expected a value (string, integer, boolean or array)")
        }
    }

    private mutating func array(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        let startLine = line
        index += 1 // "["
        var items: [TOMLValue] = []
        while true {
            try skipArraySpace()
            guard let byte = current else { throw error("unterminated array (opened at line \(startLine))") }
            if byte == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            items.append(try value(depth: depth + 1))
            try skipArraySpace()
            guard let next = current else { throw error("unterminated array (opened at line \(startLine))") }
            if next == UInt8(ascii: ",") {
                index += 1
            } else if next != UInt8(ascii: "]") {
                throw error("unexpected \(describe(next)) in array; expected \",\" or \"]\"")
            }
        }
    }

    private mutating func boolean() throws(TOMLSyntaxError) -> Bool {
        if bytes[index...].starts(with: Array("true".utf8)) {
            index += 4
            try requireValueEnd()
            return true
        }
        if bytes[index...].starts(with: Array("false".utf8)) {
            index += 5
            try requireValueEnd()
            return false
        }
        throw error("unexpected \(describe(bytes[index])); expected a value (true, false, a number, a string or an array)")
    }

    /// A value must be followed by whitespace, a comment, a comma or bracket (in arrays) or the end of the line.
    private func requireValueEnd() throws(TOMLSyntaxError) {
        guard let byte = current else { return }
        switch byte {
        case 0x20, 0x09, UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "]"): return
        default: throw error("unexpected \(describe(byte)) after a value")
        }
    }

    private mutating func integer() throws(TOMLSyntaxError) -> Int64 {
        let start = index
        var negative = false
        if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") {
            negative = current == UInt8(ascii: "-")
            index += 1
        }
        if current == UInt8(ascii: "i") || current == UInt8(ascii: "n") {
            throw error("floating-point values (inf, nan) are not supported; use an integer")
        }
        // Magnitude accumulates as UInt64 so that Int64.min is representable; every step is checked.
        var magnitude: UInt64 = 0
        var digits = 0
        var previousWasDigit = false
        let firstDigit = index
        while let byte = current {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !o1, !o2 else { throw error("integer \(text(from: start))… is out of the 64-bit range") }
                magnitude = sum
                digits += 1
                previousWasDigit = true
                index += 1
            } else if byte == UInt8(ascii: "_") {
                guard previousWasDigit, let next = peek(1), next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") else {
                    throw error("\"_\" in a number must stand between two digits")
                }
                previousWasDigit = false
                index += 1
            } else {
                break
            }
        }
        guard digits > 0 else { throw error("expected digits in a number") }
        if let byte = current, byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            throw error("floating-point values are not supported; use an integer")
        }
        if let byte = current, byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":") {
            throw error("dates and times are not supported")
        }
        if bytes[firstDigit] == UInt8(ascii: "0"), digits > 1 {
            if let second = bytes[safe: firstDigit + 1], second == UInt8(ascii: "x") || second == UInt8(ascii: "o") || second == UInt8(ascii: "b") {
                throw error("only decimal integers are supported")
            }
            throw error("leading zeros are not allowed in \(text(from: start))")
        }
        if bytes[firstDigit] == UInt8(ascii: "0"), let next = current, next == UInt8(ascii: "x") || next == UInt8(ascii: "o") || next == UInt8(ascii: "b") {
            throw error("only decimal integers are supported")
        }
        try requireValueEnd()
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw error("integer \(text(from: start)) is out of the 64-bit range") }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw error("integer \(text(from: start)) is out of the 64-bit range") }
        return Int64(magnitude)
    }

    private func text(from start: Int) -> String {
        String(decoding: bytes[start..<min(index, start + 40)], as: UTF8.self)
    }

    private mutating func literalString() throws(TOMLSyntaxError) -> String {
        index += 1 // "'"
        let start = index
        while let byte = current {
            if byte == UInt8(ascii: "'") {
                let text = try utf8(bytes[start..<index])
                index += 1
                return text
            }
            guard byte == 0x09 || (byte >= 0x20 && byte != 0x7F) else {
                if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { throw error("unterminated string") }
                throw error("control character 0x\(hex(byte)) in a string")
            }
            index += 1
        }
        throw error("unterminated string")
    }

    private mutating func basicString() throws(TOMLSyntaxError) -> String {
        index += 1 // "\""
        var out: [UInt8] = []
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try utf8(out[...])
            case UInt8(ascii: "\\"):
                index += 1
                guard let escape = current else { throw error("unterminated string") }
                index += 1
                switch escape {
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "u"): out += try unicodeEscape(digits: 4)
                case UInt8(ascii: "U"): out += try unicodeEscape(digits: 8)
                default: throw error("invalid escape \\\(describeRaw(escape)) in a string")
                }
            default:
                guard byte == 0x09 || (byte >= 0x20 && byte != 0x7F) else {
                    if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { throw error("unterminated string") }
                    throw error("control character 0x\(hex(byte)) in a string")
                }
                out.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    private mutating func unicodeEscape(digits: Int) throws(TOMLSyntaxError) -> [UInt8] {
        var scalar: UInt32 = 0
        for _ in 0..<digits {
            guard let byte = current, let digit = hexDigit(byte) else { throw error("\\u and \\U need \(digits) hex digits") }
            scalar = scalar << 4 | UInt32(digit)
            index += 1
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw error("\\u escape U+\(String(scalar, radix: 16, uppercase: true)) is not a Unicode scalar value") }
        return Array(String(Character(unicode)).utf8)
    }

    private func utf8(_ slice: ArraySlice<UInt8>) throws(TOMLSyntaxError) -> String {
        guard let text = String(validating: slice, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
        return text
    }

    private func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }

    private func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? "\"\(describeRaw(byte))\"" : "byte 0x\(hex(byte))"
    }

    private func describeRaw(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "0x\(hex(byte))"
    }
}

private extension Array {
    subscript(safe index: Int) -> Element? { index >= 0 && index < count ? self[index] : nil }
}
