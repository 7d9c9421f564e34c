// NumberArgument.swift — numeric option values, negative ones included: `--face -3` reaches the option (declared with
// `parsing: .unconditional`, so a value that starts with "-" is not taken for a flag) and is refused with its reason
// ("must not be negative") instead of swift-argument-parser's "Missing value for '--face <face>'".
import ArgumentParser

enum NumberArgument {
    /// Why a numeric option value was refused; swift-argument-parser appends `description` to
    /// "The value '-3' is invalid for '--face <face>'".
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// `text` as a whole number of type `T` (decimal; a sign only for signed types).
    static func parse<T: FixedWidthInteger>(_ text: String) throws -> T {
        if let value = T(text, radix: 10) { return value }
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw Invalid(description: "not a whole number (decimal digits\(T.isSigned ? ", optionally signed" : ""); range \(T.min)…\(T.max))")
        }
        if !T.isSigned, text.hasPrefix("-") {
            throw Invalid(description: "the value must not be negative (a whole number from 0 to \(T.max))")
        }
        throw Invalid(description: "out of range: the value must be from \(T.min) to \(T.max)")
    }
}
