// StrictJSON.swift — helpers for decoding JSON strictly: unknown fields are errors, keys are hex, and decoding
// failures become one precise line ("members[3].public_keys[0]: …").
import Foundation
import TrellisCrypto

/// A coding key for any field name.
public struct AnyCodingKey: CodingKey, Hashable, Sendable {
    public let stringValue: String
    public let intValue: Int?

    public init(_ string: String) {
        self.stringValue = string
        self.intValue = nil
    }

    public init?(stringValue: String) { self.init(stringValue) }

    public init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// A field the decoded type does not have: the underlying error of the `DecodingError` that
/// `StrictJSON.rejectUnknownKeys` throws, so a caller can tell it from other decoding failures (a payload's JSON form
/// names it the same way for every kind).
public struct UnknownJSONField: Error, Sendable {
    /// The field's name.
    public let field: String
    /// The fields the object may have, sorted.
    public let allowed: [String]
}

public enum StrictJSON {
    /// Throws when the object being decoded has a field not in `allowed`.
    public static func rejectUnknownKeys(_ decoder: any Decoder, allowed: [String]) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        let unknown = container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
        if let first = unknown.first {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [AnyCodingKey(first)],
                                                    debugDescription: "unknown field \"\(first)\" (allowed: \(allowed.sorted().joined(separator: ", ")))",
                                                    underlyingError: UnknownJSONField(field: first, allowed: allowed.sorted())))
        }
    }

    /// Throws when the object has a field not among `Keys`' cases.
    public static func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: Keys.Type) throws {
        try rejectUnknownKeys(decoder, allowed: Keys.allCases.map(\.stringValue))
    }

    /// A public key from 64 hex digits, with the coding path in the error.
    public static func publicKey(_ hex: String, codingPath: [any CodingKey]) throws -> PublicKey {
        do { return try PublicKey(hex: hex) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(error)"))
        }
    }

    /// "path.to[2].field: message" for a decoding error.
    public static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for k in keys {
                if let i = k.intValue { out += "[\(i)]" } else { out += out.isEmpty ? k.stringValue : "." + k.stringValue }
            }
            return out.isEmpty ? "(top level)" : out
        }
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            return "\(path(ctx.codingPath + [key])): missing field"
        case DecodingError.typeMismatch(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(type)"
        case DecodingError.valueNotFound(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(type), found null"
        case DecodingError.dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty, let underlying = ctx.underlyingError { return "not valid JSON: \(underlying.localizedDescription)" }
            return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
        default:
            return "\(error)"
        }
    }
}

extension Parameters {
    /// The JSON field names of `Parameters`.
    public static let jsonFields = ["max_maturity_seconds", "grace_period_seconds", "governance_quorum", "proposal_ttl_blocks",
                                    "max_tx_lifetime_blocks", "accept_window_seconds", "min_upgrade_lead_blocks",
                                    "require_document_attestation"]
}

/// Decodes `Parameters` rejecting unknown fields (the synthesized decoder ignores them).
struct StrictParameters: Decodable {
    let value: Parameters

    init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, allowed: Parameters.jsonFields)
        value = try Parameters(from: decoder)
    }
}
