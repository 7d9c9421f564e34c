// PayloadHarnesses.swift — fuzz harnesses of every transaction kind's payload, in both of its forms: the canonical
// bytes inside a transaction (mempool admission and execution decode them) and the JSON the API and the CLI take
// (`KindSpec.canonicalPayload(fromJSON:)`). The first input byte picks the kind (modulo the number of kinds, in
// `ContractRegistry.standard.kinds` order), the rest is the payload.
//
// Contract: a refusal is a `TxRejection` (typed); accepted canonical bytes re-encode to themselves; the two forms
// agree — canonical → JSON → canonical gives back the same bytes, and JSON accepted by the API yields canonical
// bytes that the mempool's decoder accepts.
import Foundation
import TrellisCodec
import TrellisLedger

enum PayloadHarnesses {
    /// Kinds in a fixed order (sorted by name), so a corpus file keeps naming the same kind.
    static let kinds = ContractRegistry.standard.kinds

    /// The kind a first byte picks.
    static func spec(_ selector: UInt8) -> KindSpec { kinds[Int(selector) % kinds.count] }

    static func payload(_ data: [UInt8]) throws(FuzzViolation) {
        guard let selector = data.first else { return }
        let spec = spec(selector)
        let bytes = Array(data.dropFirst())
        guard let decoded = try? spec.decodePayload(bytes) else { return }
        guard decoded.canonicalBytes == bytes else { throw FuzzViolation(.payload, "\(spec.kind): accepted payload bytes do not re-encode to themselves") }
        try roundTrip(spec, canonical: bytes, target: .payload)
    }

    static func apiJSON(_ data: [UInt8]) throws(FuzzViolation) {
        guard let selector = data.first else { return }
        let spec = spec(selector)
        guard let canonical = try? spec.canonicalPayload(fromJSON: Data(data.dropFirst())) else { return }
        guard (try? spec.decodePayload(canonical)) != nil else {
            throw FuzzViolation(.apiJSON, "\(spec.kind): JSON accepted by the API gives canonical bytes the mempool refuses")
        }
        try roundTrip(spec, canonical: canonical, target: .apiJSON)
    }

    /// canonical → JSON → canonical must give back the same bytes.
    static func roundTrip(_ spec: KindSpec, canonical: [UInt8], target: FuzzTarget) throws(FuzzViolation) {
        let json: Data
        do { json = try spec.jsonPayload(fromCanonical: canonical) } catch {
            throw FuzzViolation(target, "\(spec.kind): a valid payload cannot be shown as JSON: \(error)")
        }
        let back: [UInt8]
        do { back = try spec.canonicalPayload(fromJSON: json) } catch {
            throw FuzzViolation(target, "\(spec.kind): the JSON form of a valid payload is refused: \(error) — JSON \(String(decoding: json, as: UTF8.self))")
        }
        guard back == canonical else { throw FuzzViolation(target, "\(spec.kind): canonical → JSON → canonical changes the bytes") }
    }
}
