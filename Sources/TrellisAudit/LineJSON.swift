// LineJSON.swift — writes the JSON of an export line's parts as bytes, straight from chain values, byte for byte
// what `ExportJSON.line` writes for the same views (keys sorted, no whitespace, "/" unescaped, absent optionals
// left out).
//
// The fast verification path (FastChainVerifier.swift) compares an export line with these bytes instead of
// decoding the line's JSON and re-encoding it. It only ever *accepts* through an exact byte match, so it is sound
// as long as every byte written here is what `ExportJSON.line` writes: to stay on the safe side, a string with any
// character outside printable ASCII makes the writer give up (`ok` false), and the caller then checks that line
// the slow way (JSONDecoder). `LineJSONTests` compares whole lines with `ExportJSON.line`.
import TrellisCrypto
import TrellisLedger

/// An append-only byte buffer with the few JSON shapes export lines use.
struct LineJSON {
    var bytes: [UInt8] = []
    /// False once a string could not be written exactly (the output must then be discarded).
    var ok = true

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Empties the buffer for another use, keeping its capacity.
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        ok = true
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// `"text"`, escaped as JSONEncoder escapes printable ASCII; anything else sets `ok` to false.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { string(utf8: $0) }
    }

    /// `"text"` for the UTF-8 bytes of a text, escaped as `string(_:)` escapes it.
    mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(0x22)
        // Mostly nothing to escape: then one append (a byte at a time was most of writing a line's strings).
        if utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E && $0 != 0x22 && $0 != 0x5C }) {
            bytes.append(contentsOf: utf8)
            bytes.append(0x22)
            return
        }
        // Else runs without an escape are appended whole (payload JSON, a string inside the line, quotes every key).
        var runStart = 0
        for (i, c) in utf8.enumerated() {
            switch c {
            case 0x22, 0x5C:
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                bytes.append(0x5C); bytes.append(c)
                runStart = i + 1
            case 0x20...0x7E: continue
            default: ok = false
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        bytes.append(0x22)
    }

    /// `"hex"` of `data`, lowercase (written in place: appending two digits at a time was a tenth of decoding a line).
    mutating func hex<C: Collection>(_ data: C) where C.Element == UInt8 {
        let start = bytes.count + 1
        bytes.append(contentsOf: repeatElement(0x22, count: 2 * data.count + 2))
        bytes.withUnsafeMutableBufferPointer { out in
            Self.digits.withUnsafeBufferPointer { d in
                var k = start
                for b in data {
                    out[k] = d[Int(b >> 4)]
                    out[k + 1] = d[Int(b & 0x0F)]
                    k += 2
                }
            }
        }
    }

    /// `"hex"` of a hash, read in place (`Hash.bytes` builds an array).
    mutating func hex(_ hash: Hash) {
        hash.withUnsafeBytes { hex($0) }
    }

    /// `n` in decimal, as JSONEncoder writes an integer. The digits are written in place: `String(n)` allocated a
    /// string for every number of a line (each transaction's nonce and expiry, each receipt's index).
    mutating func number<T: BinaryInteger>(_ n: T) {
        if let v = UInt64(exactly: n) {
            decimal(v)
        } else if let v = Int64(exactly: n) {
            bytes.append(0x2D)  // "-"
            decimal(v.magnitude)
        } else {
            bytes.append(contentsOf: String(n).utf8)
        }
    }

    /// The decimal digits of `v`.
    private mutating func decimal(_ v: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var v = v, at = 20
            repeat {
                at -= 1
                digits[at] = 0x30 + UInt8(v % 10)
                v /= 10
            } while v > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[at...]))
        }
    }

    mutating func bool(_ b: Bool) { b ? raw("true") : raw("false") }

    mutating func strings(_ list: [String]) {
        bytes.append(0x5B)
        for (i, s) in list.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            string(s)
        }
        bytes.append(0x5D)
    }
}

/// The parts of a block line, in the order (sorted keys) `ExportJSON.line` writes them:
/// `{"block_hash":…,"block_hex":…,"certificate_hex":…,"header":{…},"height":N,"receipts":[…],"transactions":[…]`
/// then `,"validator_set_change":{…}` when present, then `}`.
enum LineParts {
    /// `{"chain_id":…,…,"validator_set_hash":…}` for a header.
    static func header(_ h: BlockHeader, into out: inout LineJSON) {
        out.raw("{\"app_version\":"); out.number(h.appVersion)
        out.raw(",\"chain_id\":"); out.string(h.chainID)
        out.raw(",\"evidence_hash\":"); out.hex(h.evidenceHash)
        out.raw(",\"height\":"); out.number(h.height)
        out.raw(",\"last_commit_hash\":"); out.hex(h.lastCommitHash)
        out.raw(",\"next_validator_set_hash\":"); out.hex(h.nextValidatorSetHash)
        out.raw(",\"previous_block_hash\":"); out.hex(h.previousBlockHash)
        out.raw(",\"proposer\":"); out.hex(h.proposer.bytes)
        out.raw(",\"receipts_root\":"); out.hex(h.receiptsRoot)
        out.raw(",\"round\":"); out.number(h.round)
        out.raw(",\"state_root\":"); out.hex(h.stateRoot)
        out.raw(",\"time\":"); out.number(h.time)
        out.raw(",\"tx_count\":"); out.number(h.txCount)
        out.raw(",\"tx_root\":"); out.hex(h.txRoot)
        out.raw(",\"validator_set_hash\":"); out.hex(h.validatorSetHash)
        out.raw("}")
    }

    /// `,"transactions":[…]` for `transactions` with their hashes; payload JSON through `registry` as
    /// `TransactionView` shows it.
    static func transactions(_ transactions: [Transaction], hashes: [Hash], registry: ContractRegistry, into out: inout LineJSON) {
        out.raw(",\"transactions\":[")
        for (i, tx) in transactions.enumerated() {
            if i > 0 { out.raw(",") }
            let b = tx.body
            out.raw("{\"cosigners\":"); out.strings(b.cosigners)
            out.raw(",\"expires_at_height\":"); out.number(b.expiresAtHeight)
            out.raw(",\"hash\":"); out.hex(hashes[i])
            out.raw(",\"kind\":"); out.string(b.kind)
            out.raw(",\"nonce\":"); out.number(b.nonce)
            out.raw(",\"payload_hex\":"); out.hex(b.payload)
            if let json = PayloadJSON.utf8(kind: b.kind, payload: b.payload, registry: registry) {
                out.raw(",\"payload_json\":"); json.withUnsafeBufferPointer { out.string(utf8: $0) }
            }
            out.raw(",\"signatures\":[")
            for (j, s) in tx.signatures.enumerated() {
                if j > 0 { out.raw(",") }
                out.raw("{\"member_id\":"); out.string(s.memberID)
                out.raw(",\"public_key\":"); out.hex(s.publicKey.bytes)
                out.raw(",\"signature\":"); out.hex(s.signature.bytes)
                out.raw("}")
            }
            out.raw("],\"signer\":"); out.string(b.signer)
            out.raw("}")
        }
        out.raw("]")
    }

    /// `[…]` for receipts.
    static func receipts(_ receipts: [Receipt], into out: inout LineJSON) {
        out.raw("[")
        for (i, r) in receipts.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("{\"canonical_hex\":"); out.hex(r.canonicalBytes)
            switch r.outcome {
            case .ok(let ids):
                out.raw(",\"created_ids\":"); out.strings(ids)
                out.raw(",\"index\":"); out.number(r.index)
                out.raw(",\"nonce_consumed\":"); out.bool(r.nonceConsumed)
                out.raw(",\"status\":\"ok\"")
            case .rejected(let code, let message):
                out.raw(",\"code\":"); out.string(code)
                out.raw(",\"index\":"); out.number(r.index)
                out.raw(",\"message\":"); out.string(message)
                out.raw(",\"nonce_consumed\":"); out.bool(r.nonceConsumed)
                out.raw(",\"status\":\"rejected\"")
            }
            out.raw(",\"tx_hash\":"); out.hex(r.txHash)
            out.raw("}")
        }
        out.raw("]")
    }

    /// `,"validator_set_change":{…}` when `change` is present, nothing otherwise.
    static func validatorSetChange(_ change: ValidatorSetChangeView?, into out: inout LineJSON) {
        guard let change else { return }
        out.raw(",\"validator_set_change\":{\"effective_height\":"); out.number(change.effectiveHeight)
        out.raw(",\"validator_set_hash\":"); out.string(change.validatorSetHash)
        out.raw(",\"validators\":[")
        for (i, v) in change.validators.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("{\"p2p_address\":"); out.string(v.p2pAddress)
            out.raw(",\"public_key\":"); out.string(v.publicKey)
            out.raw(",\"voting_power\":"); out.number(v.votingPower)
            out.raw("}")
        }
        out.raw("]}")
    }
}

/// The payload JSON `TransactionView` shows: the kind's `KindSpec` JSON view when the kind is known and the payload
/// decodes by its layout (`KindSpec.decodeLayout`: the stateless checks are execution's business), else nil. Written
/// by the payload's direct writer, else by `PayloadJSONEncoder` (the same bytes, both faster), unless they decline.
enum PayloadJSON {
    static func text(kind: String, payload: [UInt8], registry: ContractRegistry) -> String? {
        utf8(kind: kind, payload: payload, registry: registry).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `text`'s UTF-8 bytes (what a line holds, escaped), without building a String.
    static func utf8(kind: String, payload: [UInt8], registry: ContractRegistry) -> [UInt8]? {
        guard let spec = registry.spec(for: kind), let value = try? spec.decodeLayout(payload) else { return nil }
        // The kind's direct writer when it has one and can promise every string (PayloadJSONWriter.swift).
        var writer = PayloadJSONWriter(capacity: 2 * payload.count + 64)
        if value.writeJSON(into: &writer), writer.ok { return writer.bytes }
        if let bytes = try? PayloadJSONEncoder.encode(value) { return bytes }
        guard let data = try? spec.jsonPayload(fromCanonical: payload) else { return nil }
        return Array(data)
    }
}
