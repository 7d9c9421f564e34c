// HumanOutput.swift — how the CLI prints answers: exact JSON for scripts, a readable layout for people.
//
// `--json` always prints the node's JSON exactly as before (one line, keys sorted). Without it, a terminal on
// standard output gets `HumanFormat`'s layout — nested `key  value` lines, and tables for lists of records — while
// a pipe or a file still gets the JSON, so scripts that never passed `--json` keep working. Standard output is
// line-buffered from the start (Trellis.main), so a program reading a pipe sees each line as it is printed.
import ArgumentParser
import TrellisAudit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `--json`, shared by the commands that print an answer.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the exact JSON answer (the default when standard output is not a terminal).") var json = false

    /// Whether to print JSON: asked for, or standard output is not a terminal.
    var printsJSON: Bool { json || isatty(STDOUT_FILENO) == 0 }

    /// Prints `raw` (a JSON document): as it is (trimmed) for scripts, laid out by `HumanFormat` at a terminal.
    func print(json raw: Data) { Self.print(json: raw, asJSON: printsJSON) }

    /// Whether a command without these options prints JSON: when standard output is not a terminal.
    static var printsJSONByDefault: Bool { isatty(STDOUT_FILENO) == 0 }

    /// Prints `raw` as it is (trimmed) when `asJSON`, else laid out by `HumanFormat`.
    static func print(json raw: Data, asJSON: Bool) {
        let text = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !asJSON, let value = try? JSONSerialization.jsonObject(with: raw, options: [.fragmentsAllowed]) else {
            Swift.print(text)
            return
        }
        Swift.print(HumanFormat.render(value), terminator: "")
    }
}

/// A readable layout of any JSON value. Objects: one `key  value` line per scalar field (keys aligned, most
/// important first), nested objects indented under their key; arrays of objects: a table when every element's
/// fields are scalars, else one indented block per element; other arrays: values joined by ", ". Control characters
/// in strings are shown escaped, so a value cannot move the cursor or fake a line.
enum HumanFormat {
    /// Keys shown first, in this order, wherever they appear; the rest follow alphabetically.
    static let leadingKeys = ["error", "code", "message", "status", "query", "chain_id", "height", "hash", "state_root", "result"]
    /// Tables wider than this many columns fall back to blocks.
    static let maxTableColumns = 8

    static func render(_ value: Any) -> String {
        var out = ""
        write(value, indent: 0, into: &out)
        return out
    }

    private static func write(_ value: Any, indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case let object as [String: Any]:
            if object.isEmpty { out += pad + "(none)\n"; return }
            let keys = orderedKeys(object).filter { !hiddenKeys.contains($0) }
            let width = keys.filter { isOneLine(object[$0]!) }.map(\.count).max() ?? 0
            for key in keys {
                let field = object[key]!
                let label = key + String(repeating: " ", count: max(0, width - key.count))
                if isScalar(field) || isScalarList(field) {
                    out += pad + label + "  " + fieldText(key, field) + "\n"
                } else if isOneLine(field) {
                    out += pad + label + "  (none)\n"
                } else {
                    out += pad + key + ":\n"
                    write(field, indent: indent + 2, into: &out)
                }
            }
        case let list as [Any]:
            if list.isEmpty { out += pad + "(none)\n"; return }
            if let table = table(list) {
                for line in table { out += pad + line + "\n" }
                return
            }
            for (index, element) in list.enumerated() {
                if isScalar(element) { out += pad + "- " + scalarText(element) + "\n"; continue }
                out += pad + "[\(index + 1)]\n"
                write(element, indent: indent + 2, into: &out)
            }
        default:
            out += pad + scalarText(value) + "\n"
        }
    }

    /// Rows of aligned columns for a list of flat objects (nil when the list is not one).
    static func table(_ list: [Any]) -> [String]? {
        let rows = list.compactMap { ($0 as? [String: Any])?.filter { !hiddenKeys.contains($0.key) } }
        guard rows.count == list.count, rows.allSatisfy({ $0.values.allSatisfy { isScalar($0) || isScalarList($0) } }) else { return nil }
        var columns: [String] = []
        for row in rows { for key in orderedKeys(row) where !columns.contains(key) { columns.append(key) } }
        guard !columns.isEmpty, columns.count <= maxTableColumns else { return nil }
        let cells = rows.map { row in columns.map { column in row[column].map { fieldText(column, $0) } ?? "" } }
        let widths = columns.indices.map { c in max(columns[c].count, cells.map { $0[c].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0 + String(repeating: " ", count: max(0, $1 - $0.count)) }.joined(separator: "  ")
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        return [line(columns.map { $0.uppercased() }), line(widths.map { String(repeating: "-", count: $0) })] + cells.map(line)
    }

    static func orderedKeys(_ object: [String: Any]) -> [String] {
        let leading = leadingKeys.filter { object[$0] != nil }
        return leading + object.keys.filter { !leadingKeys.contains($0) }.sorted()
    }

    /// Fields left out of the layout: the canonical bytes in hex (exact, long, and for programs: `--json` has them).
    static let hiddenKeys: Set<String> = ["canonical_hex"]

    /// A field shown on its key's line: a scalar, a list of scalars, or an empty list or object.
    static func isOneLine(_ value: Any) -> Bool {
        if isScalar(value) || isScalarList(value) { return true }
        if let list = value as? [Any] { return list.isEmpty }
        if let object = value as? [String: Any] { return object.isEmpty }
        return false
    }

    static func isScalar(_ value: Any) -> Bool { !(value is [String: Any]) && !(value is [Any]) }

    static func isScalarList(_ value: Any) -> Bool {
        guard let list = value as? [Any], !list.isEmpty else { return false }
        return list.allSatisfy(isScalar)
    }

    /// Fields that hold Unix seconds (block times, maturities, periods): shown with their UTC date, and the open
    /// ends of a period (Int64.min, Int64.max) as "(any)".
    static let unixTimeKeys: Set<String> = [
        "time", "genesis_time", "latest_block_time", "maturity", "expiry", "issue_time", "pending_since", "settled_at",
        "requested_at", "approved_at", "closed_at", "registered_at", "verified_at", "issued_at", "retired_at",
        "period_start", "period_end", "period_from", "period_to", "crediting_start", "crediting_end",
        "claim_period_start", "claim_period_end", "valid_from", "valid_to", "last_verified_end", "first_attested_time",
    ]

    /// `value` as shown under `key`: a time field's integer with its date, else `scalarText`.
    static func fieldText(_ key: String, _ value: Any) -> String {
        if unixTimeKeys.contains(key), let number = value as? NSNumber, String(cString: number.objCType) != "c",
           let seconds = Int64(number.stringValue) {
            return UnixTimeText.labelled(seconds)
        }
        return scalarText(value)
    }

    static func scalarText(_ value: Any) -> String {
        switch value {
        case let list as [Any]: return list.map(scalarText).joined(separator: ", ")
        case let string as String: return visible(shortenedHex(string))
        case let number as NSNumber:
            // JSONSerialization gives booleans as NSNumber too, of ObjC type "c" (JSON numbers are never chars).
            if String(cString: number.objCType) == "c" { return number.boolValue ? "yes" : "no" }
            return number.stringValue
        case is NSNull: return "-"
        default: return visible("\(value)")
        }
    }

    /// Hex longer than this many digits (a proof, canonical bytes) is summarised at a terminal; hashes (64),
    /// keys (64) and signatures (128) stay whole.
    static let maxHexDigits = 128

    /// `text`, or for long lowercase hex its start, its end and its size: `--json` prints it whole.
    static func shortenedHex(_ text: String) -> String {
        guard text.utf8.count > maxHexDigits, text.utf8.count % 2 == 0, text.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return text }
        return "\(text.prefix(16))…\(text.suffix(8)) (\(text.utf8.count / 2) bytes; --json prints it whole)"
    }

    /// `text` with control characters (newlines, escape sequences) shown as \u{…}.
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        return text.unicodeScalars.map { $0.properties.generalCategory == .control ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }
}
