// Contract.swift — the protocol every domain contract implements, and what execution hands it.
//
// A contract owns transaction kinds. For each kind it declares the payload type (canonical + JSON forms), which
// roles may sign it, and applies it: validate against state, then write to the state it is given (the block's overlay, with
// the transaction's writes journaled). Throwing a `TxRejection` rejects the transaction with a stable code (its writes
// are undone); a `StateError` means the
// state itself is unreadable or corrupt and stops execution of the block; any other error is a defect, which the
// executor turns into a rejection with code `internal`. Arithmetic on values from payloads or state is checked
// (`AssetCheck`): an overflow is a rejection (`amount_overflow`, `serial_overflow`, `time_overflow`), never a trap. Contracts are deterministic: they use only the
// payload, the context and the state — no clock, no randomness, no dictionary iteration order in outputs.
import Foundation
import TrellisCodec
import TrellisCrypto

/// A transaction rejected by a rule. `code` is stable (snake_case, documented in docs/TRANSACTIONS.md).
public struct TxRejection: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// A kind's payload: canonical bytes on chain, snake_case JSON for people and the API.
public protocol TransactionPayload: CanonicalCodable, Codable, Sendable {
    /// Checks that need no state (non-empty ids, positive amounts, sizes). Runs on entry to the mempool and again
    /// in execution.
    func validate() throws(TxRejection)
    /// Writes the payload's JSON view straight from its fields — exactly the bytes `JSONEncoder` (sorted keys, "/"
    /// unescaped) writes through `Encodable` — and returns true; false when the kind has no direct writer (then
    /// nothing is written and callers encode through `Encodable`). A writer whose `ok` is cleared (a string it
    /// cannot promise) must be discarded the same way (PayloadJSONWriter.swift).
    func writeJSON(into writer: inout PayloadJSONWriter) -> Bool
    /// False when a field the JSON view leaves out (docs/EXPORT-FORMAT.md §9, `hidden=V`) does not hold its one
    /// value V: the view would then not determine the bytes, so there is none. Decoding accepts such a payload and
    /// `validate()` refuses it.
    var hiddenFieldsHold: Bool { get }
}

extension TransactionPayload {
    public func validate() throws(TxRejection) {}
    public func writeJSON(into writer: inout PayloadJSONWriter) -> Bool { false }
    public var hiddenFieldsHold: Bool { true }
}

/// Everything a contract may know about the transaction being executed, besides its payload and the state.
public struct ExecutionContext: Sendable {
    public let chainID: String
    public let height: UInt64
    /// The block's header time (Unix seconds).
    public let blockTime: Int64
    public let txHash: Hash
    public let txIndex: Int
    /// The submitting member (active, its signature verified).
    public let signer: Member
    /// The co-signing members (active, signatures verified), sorted by id.
    public let cosigners: [Member]
    public let parameters: Parameters
    /// The rules version in force at `height` (`RulesSchedule`); a contract whose rules changed branches on it.
    public let rulesVersion: UInt32

    public init(chainID: String, height: UInt64, blockTime: Int64, txHash: Hash, txIndex: Int, signer: Member, cosigners: [Member], parameters: Parameters, rulesVersion: UInt32 = AppVersion.initial) {
        self.chainID = chainID
        self.height = height
        self.blockTime = blockTime
        self.txHash = txHash
        self.txIndex = txIndex
        self.signer = signer
        self.cosigners = cosigners
        self.parameters = parameters
        self.rulesVersion = rulesVersion
    }

    /// A deterministic id for the `index`-th object this transaction creates: "<prefix>-<first 20 hex digits of
    /// SHA-256(tx hash || u32 index)>".
    public func derivedID(_ prefix: String, index: UInt32) -> String { Self.derivedID(prefix, txHash: txHash, index: index) }

    /// The id `derivedID(prefix, index:)` gives in the context of the transaction `txHash` (known before
    /// submission: clients and benchmarks chain transactions on outputs not yet created).
    public static func derivedID(_ prefix: String, txHash: Hash, index: UInt32) -> String {
        // Built as bytes: the hash's 64 hex digits as a String, cut to 20, then two concatenations cost more than
        // the SHA-256 (a split transfer derives two ids). The hashed 36 bytes (the hash, then the index as a canonical
        // u32: big-endian) are laid out on the stack, and the 20 digits written from the digest in place.
        let digest = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Hash.byteCount + 4) { buffer in
            txHash.withUnsafeBytes { src in
                for i in 0..<Hash.byteCount { buffer[i] = src[i] }
            }
            withUnsafeBytes(of: index.bigEndian) { src in
                for i in 0..<4 { buffer[Hash.byteCount + i] = src[i] }
            }
            return SHA256.hash(UnsafeBufferPointer(buffer))
        }
        var out: [UInt8] = []
        out.reserveCapacity(prefix.utf8.count + 21)
        out.appendUTF8(of: prefix)
        out.append(UInt8(ascii: "-"))
        digest.withUnsafeBytes { d in
            for i in 0..<10 {
                out.append(Self.hexDigit(d[i] >> 4))
                out.append(Self.hexDigit(d[i] & 0x0f))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The lowercase hex digit of `nibble` (0…15).
    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }

    /// True when `memberID` co-signed this transaction.
    public func cosigned(by memberID: String) -> Bool { cosigners.contains { $0.memberID == memberID } }
}

/// The declaration of one transaction kind.
public struct KindSpec: Sendable {
    public let kind: String
    /// The signer must hold one of these roles; empty means any active member.
    public let signerRoles: [Role]
    /// Who must co-sign, in words (for docs); nil when nobody.
    public let cosigners: String?
    public let summary: String
    /// The payload's Swift type, for decoding.
    public let payloadType: any TransactionPayload.Type
    /// Decodes canonical bytes as `payloadType`, with code specialized for that type (made where the type is known:
    /// decoding through the existential metatype ran the generic decoder unspecialized).
    private let decodeCanonical: @Sendable ([UInt8]) throws(CodecError) -> any TransactionPayload

    public init<P: TransactionPayload>(_ kind: String, payload: P.Type, signerRoles: [Role], cosigners: String? = nil, summary: String) {
        self.kind = kind
        self.payloadType = payload
        self.decodeCanonical = { (bytes: [UInt8]) throws(CodecError) -> any TransactionPayload in try Self.decode(P.self, bytes) }
        self.signerRoles = signerRoles
        self.cosigners = cosigners
        self.summary = summary
    }

    /// Strictly decodes canonical payload bytes and runs the stateless checks.
    public func decodePayload(_ bytes: [UInt8]) throws(TxRejection) -> any TransactionPayload {
        let payload: any TransactionPayload
        do { payload = try decodeCanonical(bytes) } catch {
            throw TxRejection("malformed_payload", "payload of \(kind) does not decode: \(error)")
        }
        try payload.validate()
        return payload
    }

    /// Strictly decodes canonical payload bytes by the kind's layout — the decoder's bounds and the layout's hidden
    /// fields (docs/EXPORT-FORMAT.md §9) — without the stateless checks: the payloads that have a JSON view
    /// (`payload_json` in an export, the API's transaction views). A payload that decodes but fails `validate()`
    /// still has one; its transaction's receipt says why it was rejected.
    public func decodeLayout(_ bytes: [UInt8]) throws(TxRejection) -> any TransactionPayload {
        let payload: any TransactionPayload
        do { payload = try decodeCanonical(bytes) } catch {
            throw TxRejection("malformed_payload", "payload of \(kind) does not decode: \(error)")
        }
        guard payload.hiddenFieldsHold else {
            throw TxRejection("malformed_payload", "payload of \(kind) has a field its JSON form leaves out at another value than its fixed one")
        }
        return payload
    }

    /// Converts the JSON form of a payload to its canonical bytes (stateless checks included).
    /// Strict: a field the kind does not have is refused (a misspelt optional field would otherwise be dropped
    /// without a word) with one message for every kind (whether its decoder or the check after it finds the field),
    /// a number that does not fit its field is named, and so is a whole number written with a fraction or an exponent
    /// (`1e3`, `1000.0`: JSON's integers have neither, docs/EXPORT-FORMAT.md §6.1; no payload field is fractional).
    public func canonicalPayload(fromJSON json: Data) throws(TxRejection) -> [UInt8] {
        let payload: any TransactionPayload
        do { payload = try JSONDecoder().decode(payloadType, from: json) } catch let rejection as TxRejection {
            // A payload's JSON form may refuse a field with a precise code (e.g. evidence's invalid_doc_hash).
            throw rejection
        } catch {
            if case DecodingError.dataCorrupted(let context) = error, context.underlyingError is UnknownJSONField {
                throw unknownField(PayloadJSONCheck.pathText(context.codingPath))
            }
            if let field = PayloadJSONCheck.numberThatDoesNotFit(payloadType, json: json) {
                throw TxRejection("malformed_payload", "JSON payload of \(kind) is invalid: \(field) does not fit the field (a whole number within its range)")
            }
            throw TxRejection("malformed_payload", "JSON payload of \(kind) is invalid: \(Self.describe(error))")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if let known = try? encoder.encode(payload), let unknown = PayloadJSONCheck.unknownField(given: json, known: known) {
            throw unknownField(unknown)
        }
        if let (path, value) = PayloadJSONCheck.numberWithFractionOrExponent(json) {
            throw TxRejection("malformed_payload", "JSON payload of \(kind) is invalid: \"\(path)\" is written with a fraction or an exponent (\(value)); a whole number is written in digits only")
        }
        try payload.validate()
        let bytes = payload.canonicalBytes
        // What the API accepts, the mempool must accept: the canonical decoder's limits (string lengths, counts) are
        // checked here too, so a JSON form that `validate` lets through but the bytes exceed is refused with the reason
        // instead of becoming a transaction every node refuses. (The stateless checks ran just above: decode only.)
        do { _ = try decodeCanonical(bytes) } catch {
            throw TxRejection("malformed_payload", "JSON payload of \(kind) does not fit its canonical form: \(error)")
        }
        return bytes
    }

    /// The one refusal of a field `path` (e.g. "trade_ref.green_reff") the kind does not have.
    private func unknownField(_ path: String) -> TxRejection {
        TxRejection("malformed_payload", "JSON payload of \(kind) has no field \"\(path)\" (docs/TRANSACTIONS.md lists each kind's fields)")
    }

    /// The JSON view (sorted keys) of canonical payload bytes that decode by the kind's layout (`decodeLayout`):
    /// the kind's direct writer when it has one and can promise every string, else `JSONEncoder`.
    public func jsonPayload(fromCanonical bytes: [UInt8]) throws(TxRejection) -> Data {
        let payload = try decodeLayout(bytes)
        var writer = PayloadJSONWriter(capacity: 2 * bytes.count + 64)
        if payload.writeJSON(into: &writer), writer.ok { return Data(writer.bytes) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return try encoder.encode(payload) } catch {
            throw TxRejection("malformed_payload", "payload of \(kind) cannot be shown as JSON: \(error)")
        }
    }

    private static func decode<P: TransactionPayload>(_ type: P.Type, _ bytes: [UInt8]) throws(CodecError) -> P {
        try CanonicalDecoder.decode(P.self, from: bytes, limits: DecodingLimits(maxBytesLength: Limits.maxPayloadBytes, maxCount: 4096))
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at \"\(ctx.codingPath.map(\.stringValue).joined(separator: "."))\": \(ctx.debugDescription)"
        case DecodingError.dataCorrupted(let ctx):
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? ctx.debugDescription : "\"\(path)\": \(ctx.debugDescription)"
        default: return "\(error)"
        }
    }
}

/// A domain contract: owns kinds and applies them.
public protocol Contract: Sendable {
    /// E.g. "membership", "governance", "receivables", "green_assets".
    var name: String { get }
    var kinds: [KindSpec] { get }
    /// Validates `payload` (already decoded and statelessly checked) against `state` and writes its effects to
    /// `state`. Returns the ids of the objects created, in order. Throws `TxRejection` to reject.
    func apply(kind: String, payload: any TransactionPayload, context: ExecutionContext, state: StateOverlay) throws -> [String]
}

/// The checks that make a payload's JSON form strict. `JSONDecoder` ignores keys it does not look for and reports a
/// number outside its field's type as "not valid JSON"; these find the key or the number to name.
enum PayloadJSONCheck {
    /// The first key path (e.g. "trade_ref.green_reff") present in `given` with a non-null value but absent from
    /// `known` — the JSON the decoded payload encodes back to, which has every field the kind reads.
    static func unknownField(given: Data, known: Data) -> String? {
        guard let g = try? JSONSerialization.jsonObject(with: given), let k = try? JSONSerialization.jsonObject(with: known) else { return nil }
        return unknown(g, k, path: "")
    }

    private static func unknown(_ given: Any, _ known: Any, path: String) -> String? {
        if let g = given as? [String: Any] {
            let k = known as? [String: Any] ?? [:]
            for key in g.keys.sorted() {
                let value = g[key]!
                let keyPath = path.isEmpty ? key : path + "." + key
                // null, [] and {} say nothing (a kind's JSON may leave an empty collection out).
                if value is NSNull || (value as? [Any])?.isEmpty == true || (value as? [String: Any])?.isEmpty == true { continue }
                guard let knownValue = k[key] else { return keyPath }
                if let found = unknown(value, knownValue, path: keyPath) { return found }
            }
        } else if let g = given as? [Any], let k = known as? [Any] {
            for (i, element) in g.enumerated() where i < k.count {
                if let found = unknown(element, k[i], path: "\(path)[\(i)]") { return found }
            }
        }
        return nil
    }

    /// A coding path as `unknownField` writes key paths: keys joined by ".", array positions as "[i]".
    static func pathText(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue { out += "[\(index)]" } else { out += out.isEmpty ? key.stringValue : "." + key.stringValue }
        }
        return out
    }

    /// The first number, in the text's order, that the JSON writes with a fraction or an exponent (`1e3`, `1000.0`),
    /// with its path and as it is written: Foundation reads such a number as floating point, which an integer field
    /// then takes when it is whole. Judged on the text itself — Foundation also reads some integers written in digits
    /// as floating point (-9223372036854775808, 9223372036854775807), and those are whole numbers a field may hold.
    /// Nil when every number is written in digits (or the JSON does not parse: the decoder said why already).
    static func numberWithFractionOrExponent(_ json: Data) -> (path: String, value: String)? {
        guard (try? JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])) != nil else { return nil }
        // A scan of the (valid) text with a stack of the containers it is in: an object's frame holds the key last
        // read (and whether a key comes next), an array's the position of its current element.
        struct Frame { var isObject: Bool; var key = ""; var expectsKey = true; var index = 0 }
        let bytes = [UInt8](json)
        var stack: [Frame] = []
        var i = 0
        func path() -> String { text(stack.map { $0.isObject ? .key($0.key) : .index($0.index) }) }
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"): stack.append(Frame(isObject: true)); i += 1
            case UInt8(ascii: "["): stack.append(Frame(isObject: false)); i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast(); i += 1
            case UInt8(ascii: ","):
                if let top = stack.indices.last {
                    if stack[top].isObject { stack[top].expectsKey = true } else { stack[top].index += 1 }
                }
                i += 1
            case UInt8(ascii: "\""):
                var j = i + 1
                while j < bytes.count && bytes[j] != UInt8(ascii: "\"") { j += bytes[j] == UInt8(ascii: "\\") ? 2 : 1 }
                if let top = stack.indices.last, stack[top].isObject, stack[top].expectsKey {
                    let raw = Data(bytes[(i + 1)..<min(j, bytes.count)])
                    // The key as JSON reads it (escapes resolved); its raw text if that fails.
                    let quoted = Data([UInt8(ascii: "\"")]) + raw + Data([UInt8(ascii: "\"")])
                    stack[top].key = (try? JSONSerialization.jsonObject(with: quoted, options: [.fragmentsAllowed])) as? String ?? String(decoding: raw, as: UTF8.self)
                    stack[top].expectsKey = false
                }
                i = j + 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                // A number's characters: digits, sign, point, exponent.
                let marks: Set<UInt8> = [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")]
                let signs: Set<UInt8> = [UInt8(ascii: "-"), UInt8(ascii: "+")]
                var j = i
                var fractionOrExponent = false
                while j < bytes.count, bytes[j] >= UInt8(ascii: "0") && bytes[j] <= UInt8(ascii: "9") || marks.contains(bytes[j]) || signs.contains(bytes[j]) {
                    if marks.contains(bytes[j]) { fractionOrExponent = true }
                    j += 1
                }
                if fractionOrExponent { return (path(), String(decoding: bytes[i..<j], as: UTF8.self)) }
                i = j
            default: i += 1
            }
        }
        return nil
    }

    private static func text(_ path: [PathStep]) -> String {
        let joined = path.map { step -> String in
            switch step {
            case .key(let k): return "." + k
            case .index(let i): return "[\(i)]"
            }
        }.joined()
        return String(joined.drop(while: { (c: Character) in c == "." }))
    }

    /// When decoding failed: the number (as "path = value") whose presence alone makes `type` fail to decode — found
    /// by decoding with every other number set to 0. Nil when the JSON does not parse or no single number is to blame.
    static func numberThatDoesNotFit(_ type: any TransactionPayload.Type, json: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed]) else { return nil }
        var paths: [[PathStep]] = []
        collectNumbers(object, path: [], into: &paths)
        guard paths.count <= 256 else { return nil }
        let zeroed = paths.reduce(object) { replace($0, at: $1[...], with: 0) }
        guard decodes(type, zeroed) else { return nil }
        for path in paths {
            let value = lookup(object, at: path[...])
            guard !decodes(type, replace(zeroed, at: path[...], with: value)) else { continue }
            return "\"\(text(path))\" = \(value)"
        }
        return nil
    }

    enum PathStep {
        case key(String)
        case index(Int)
    }

    private static func isNumber(_ value: Any) -> Bool { value is NSNumber && !(value is Bool) }

    private static func collectNumbers(_ value: Any, path: [PathStep], into paths: inout [[PathStep]]) {
        if let d = value as? [String: Any] {
            for key in d.keys.sorted() { collectNumbers(d[key]!, path: path + [.key(key)], into: &paths) }
        } else if let a = value as? [Any] {
            for (i, element) in a.enumerated() { collectNumbers(element, path: path + [.index(i)], into: &paths) }
        } else if isNumber(value) {
            paths.append(path)
        }
    }

    private static func lookup(_ value: Any, at path: ArraySlice<PathStep>) -> Any {
        guard let step = path.first else { return value }
        switch step {
        case .key(let k): return lookup((value as! [String: Any])[k]!, at: path.dropFirst())
        case .index(let i): return lookup((value as! [Any])[i], at: path.dropFirst())
        }
    }

    private static func replace(_ value: Any, at path: ArraySlice<PathStep>, with new: Any) -> Any {
        guard let step = path.first else { return new }
        switch step {
        case .key(let k):
            var d = value as! [String: Any]
            d[k] = replace(d[k]!, at: path.dropFirst(), with: new)
            return d
        case .index(let i):
            var a = value as! [Any]
            a[i] = replace(a[i], at: path.dropFirst(), with: new)
            return a
        }
    }

    private static func decodes(_ type: any TransactionPayload.Type, _ object: Any) -> Bool {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed]) else { return false }
        return (try? JSONDecoder().decode(type, from: data)) != nil
    }
}

