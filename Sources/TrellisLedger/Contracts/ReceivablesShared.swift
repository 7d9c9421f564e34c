// ReceivablesShared.swift — building blocks shared by the Receivables and GreenAssets contracts.
//
// Tagged enums (canonical u8 tag = declaration order, JSON = snake_case name), a hex JSON form for hashes inside
// records and payloads, checked arithmetic that rejects instead of trapping, member lookups, the audit-trail event
// appended to every asset record, and UTC calendar arithmetic without Foundation. Everything here is deterministic:
// no clock, no randomness, no dictionary order.
import Foundation
import TrellisCodec
import TrellisCrypto

/// An enum whose canonical form is a u8 tag (its index in `allCases`, never reorder) and whose JSON form is its
/// snake_case raw value.
public protocol TaggedEnum: RawRepresentable, CaseIterable, Hashable, Sendable, CanonicalCodable, Codable
where RawValue == String, AllCases == [Self] {}

extension TaggedEnum {
    /// The canonical tag.
    public var tag: UInt8 { UInt8(Self.allCases.firstIndex(of: self) ?? 0) }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(tag) }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        guard Int(tag) < Self.allCases.count else { throw .unknownTag(type: String(describing: Self.self), tag: tag) }
        self = Self.allCases[Int(tag)]
    }

    /// The JSON form is the raw value; an unknown one is refused naming the values there are (a payload's
    /// `"doc_kind": "receipt"` reads "\"receipt\" is not one of contract, invoice, …", not "Cannot initialize …").
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = value
    }
}

/// Wraps a `Hash` so its JSON form is 64 lowercase hex digits (input may use either case).
@propertyWrapper
public struct HexHash: Hashable, Sendable, Codable {
    public var wrappedValue: Hash

    public init(wrappedValue: Hash) { self.wrappedValue = wrappedValue }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { wrappedValue = try Hash(hex: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected 64 hex digits: \(error)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.hex)
    }
}

/// One entry in an asset's audit trail: what happened to it, when, in which transaction, by whom.
public struct AssetEvent: Hashable, Sendable, CanonicalCodable, Codable {
    /// The transaction kind (e.g. "certificate.accept").
    public var kind: String
    public var height: UInt64
    /// Block time, Unix seconds.
    public var time: Int64
    @HexHash public var txHash: Hash
    /// The signing member.
    public var actor: String

    public init(kind: String, height: UInt64, time: Int64, txHash: Hash, actor: String) {
        self.kind = kind
        self.height = height
        self.time = time
        self.txHash = txHash
        self.actor = actor
    }

    init(_ kind: String, _ context: ExecutionContext) {
        self.init(kind: kind, height: context.height, time: context.blockTime, txHash: context.txHash, actor: context.signer.memberID)
    }

    enum CodingKeys: String, CodingKey {
        case kind, height, time, actor
        case txHash = "tx_hash"
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(kind)
        encoder.encode(height)
        encoder.encode(time)
        encoder.encode(txHash)
        encoder.encode(actor)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        kind = try decoder.decodeString(maxLength: Limits.maxKindBytes)
        height = try decoder.decodeUInt64()
        time = try decoder.decodeInt64()
        txHash = try decoder.decode(Hash.self)
        actor = try decoder.decodeString(maxLength: Limits.maxIDBytes)
    }
}

/// Bounds specific to the asset contracts.
public enum AssetLimits {
    /// Outputs of one split or transfer.
    public static let maxOutputs = 64
    /// Ranges in one retirement.
    public static let maxRetireRanges = 64
    /// Events kept on one asset record (an asset that reaches it can no longer change).
    public static let maxEvents = 1024
    /// Live pieces one `certificate.settle` pays under rules version 2 (a root with more is settled in pages).
    public static let settlementPageSize = 64
}

/// Stateless and arithmetic checks that reject with stable codes.
enum AssetCheck {
    static func id(_ value: String, _ field: String) throws(TxRejection) {
        guard Identifier.isValid(value) else {
            throw TxRejection("invalid_id", "\(field) must be 1…\(Limits.maxIDBytes) characters of [A-Za-z0-9._:-], got \"\(value.prefix(40))\"")
        }
    }

    static func text(_ value: String, _ field: String, required: Bool = true) throws(TxRejection) {
        if required && value.isEmpty { throw TxRejection("missing_field", "\(field) must not be empty") }
        guard value.utf8.count <= Limits.maxNameBytes else {
            throw TxRejection("field_too_long", "\(field) is longer than \(Limits.maxNameBytes) bytes")
        }
    }

    static func count(_ n: Int, _ field: String, max: Int, min: Int = 1) throws(TxRejection) {
        if n < min { throw TxRejection("missing_field", "\(field) needs at least \(min) entries") }
        if n > max { throw TxRejection("too_many_entries", "\(field) has \(n) entries; at most \(max) are allowed") }
    }

    static func positive(_ amount: UInt64, _ field: String) throws(TxRejection) {
        if amount == 0 { throw TxRejection("zero_amount", "\(field) must be greater than zero") }
    }

    static func distinct(_ values: [String], _ field: String) throws(TxRejection) {
        if Set(values).count != values.count { throw TxRejection("duplicate_entry", "\(field) lists the same value twice") }
    }

    static func add(_ a: UInt64, _ b: UInt64, _ what: String) throws(TxRejection) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { throw TxRejection("amount_overflow", "\(what) overflows a 64-bit amount") }
        return sum
    }

    static func sum(_ values: [UInt64], _ what: String) throws(TxRejection) -> UInt64 {
        var total: UInt64 = 0
        for v in values { total = try add(total, v, what) }
        return total
    }

    static func addTime(_ a: Int64, _ b: Int64, _ what: String) throws(TxRejection) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { throw TxRejection("time_overflow", "\(what) overflows a 64-bit time") }
        return sum
    }

    /// The last serial of `quantity` (> 0) consecutive serials from `start`, which must not pass
    /// `CreditSerial.maxSerial` (so that "one past the end" of every range is representable).
    static func serialEnd(start: UInt64, quantity: UInt64, _ what: String) throws(TxRejection) -> UInt64 {
        guard quantity > 0 else { throw TxRejection("zero_amount", "\(what) needs at least one unit") }
        let (end, overflow) = start.addingReportingOverflow(quantity - 1)
        guard !overflow, end <= CreditSerial.maxSerial else {
            throw TxRejection("serial_overflow", "\(what): \(quantity) serials from \(start) would pass the last serial \(CreditSerial.maxSerial)")
        }
        return end
    }
}

/// Member records kept by the Membership contract at `member/<id>`.
enum AssetMembers {
    static func key(_ id: String) -> [UInt8] { StateKey.make("member", id) }

    static func find<R: StateReader>(_ id: String, in state: R) throws -> Member? {
        try state.read(Member.self, key(id))
    }

    /// The member `id`, which must exist, be active, and (when `roles` is not empty) hold one of `roles`.
    /// Generic over the reader for the same reason as `AssetState.existing`: the member decodes with specialized code.
    static func active<R: StateReader>(_ id: String, in state: R, roles: [Role] = [], field: String) throws -> Member {
        guard let member = try find(id, in: state) else {
            throw TxRejection("unknown_member", "\(field) \(id) is not a registered member")
        }
        guard member.isActive else {
            throw TxRejection("member_not_active", "\(field) \(id) is \(member.status.name), not active")
        }
        if !roles.isEmpty && !roles.contains(where: member.has) {
            throw TxRejection("role_not_allowed", "\(field) \(id) must hold one of: \(roles.map(\.rawValue).joined(separator: ", "))")
        }
        return member
    }
}

/// Proleptic Gregorian UTC calendar arithmetic on Unix seconds (H. Hinnant's civil_from_days), integer-only.
/// Total over Int64: every intermediate stays within ±2⁴⁷ (days) or ±2⁴⁰ (years), far from overflow.
enum AssetCalendar {
    static let secondsPerDay: Int64 = 86_400

    /// ⌊unixSeconds / 86 400⌋, without the `x − 86 399` that overflows at Int64.min.
    static func day(of unixSeconds: Int64) -> Int64 {
        let (quotient, remainder) = unixSeconds.quotientAndRemainder(dividingBy: secondsPerDay)
        return remainder < 0 ? quotient - 1 : quotient
    }

    /// The UTC year containing `unixSeconds` (astronomical numbering: year 0 is 1 BCE), for every Int64.
    static func year(of unixSeconds: Int64) -> Int64 {
        CivilCalendar.date(ofDay: day(of: unixSeconds)).year  // |days| < 1.1·10¹⁴
    }
}

/// The proleptic Gregorian calendar (UTC), for contracts (a credit's vintage) and for people (dates beside Unix
/// seconds in human output). Integer arithmetic only: deterministic on every node.
public enum CivilCalendar {
    /// The (year, month 1…12, day 1…31) of day `days` counted from 1970-01-01 (H. Hinnant's civil_from_days;
    /// astronomical years: 0 is 1 BCE), for |days| < 1.1·10¹⁴ (every day an Int64 of seconds reaches).
    public static func date(ofDay days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Small helpers shared by the asset contracts and their queries.
enum AssetState {
    /// Casts a decoded payload to the type a kind expects.
    static func payload<P: TransactionPayload>(_ payload: any TransactionPayload, _ type: P.Type, kind: String) throws(TxRejection) -> P {
        guard let typed = payload as? P else {
            throw TxRejection("malformed_payload", "\(kind) expects a \(P.self) payload, got \(Swift.type(of: payload))")
        }
        return typed
    }

    /// The record at `key`, or a rejection with `code` and `message` when there is none.
    /// Generic over the reader: called with a `StateOverlay` (the contracts' stores), the record decodes with code
    /// specialized for its type (through `any StateReader` the generic decoder ran unspecialized: a witness call and
    /// metadata lookups per field of a certificate).
    static func existing<T: CanonicalDecodable, R: StateReader>(_ type: T.Type, _ key: [UInt8], in state: R, _ code: String, _ message: @autoclosure () -> String) throws -> T {
        guard let value = try state.read(T.self, key) else { throw TxRejection(code, message()) }
        return value
    }

    /// Fixed-width decimal form of a serial or amount, so keys sort numerically.
    static func paddedDecimal(_ value: UInt64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// Lowercase hex of SHA-256 of the canonical encoding of `parts` (used to index free-text fields by key).
    static func textDigest(_ parts: [String]) -> String {
        var encoder = CanonicalEncoder()
        encoder.encode(parts)
        return SHA256.hash(encoder.bytes).hex
    }
}
