// BlockEventJSON.swift — the `block` event of `GET /v1/events`, written directly as bytes: byte for byte what
// JSONSerialization (sorted keys, "/" escaped as "\/") writes for `Routes.blockEventObject`.
//
// Every committed block goes out as one event to each subscriber, on the node that serves it, with a receipt per
// transaction: through JSONSerialization (dictionaries of boxed values, sorted keys) that was ~12 % of a serving
// validator's CPU at saturation (docs/PERFORMANCE.md, "… on store format 5"). A string with a byte outside printable
// ASCII (a rejection message in another language, a control character) makes the writer decline, and the event then
// goes through JSONSerialization as before: the bytes never differ, only the speed. `BlockEventJSONTests` compares
// both paths.
import Foundation
import TrellisCrypto
import TrellisLedger
import TrellisNode

extension Routes {
    /// The event's JSON object (the reference the direct writer must match, and its fallback).
    static func blockEventObject(_ committed: CommittedBlock) -> [String: Any] {
        [
            "height": committed.block.header.height,
            "hash": committed.block.hash.hex,
            "header": Views.header(committed.block.header),
            "transactions": committed.block.transactions.map { $0.hash.hex },
            "receipts": committed.receipts.map(Views.receipt),
            "certificate": Views.certificate(committed.certificate),
        ]
    }

    /// The event's JSON bytes: written directly, or through JSONSerialization when a string is not printable ASCII.
    static func blockEventJSON(_ committed: CommittedBlock) -> Data {
        var writer = EventJSONWriter(capacity: 1_024 + 200 * committed.block.transactions.count)
        writer.blockEvent(committed)
        if writer.ok { return Data(writer.bytes) }
        return (try? JSONSerialization.data(withJSONObject: blockEventObject(committed), options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}

/// An append-only JSON buffer that writes what JSONSerialization writes: no whitespace, integers in decimal, strings
/// with `"`, `\` and `/` escaped; a string with any other byte outside printable ASCII clears `ok`.
struct EventJSONWriter {
    private(set) var bytes: [UInt8] = []
    private(set) var ok = true
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ text: StaticString) { text.withUTF8Buffer { bytes.append(contentsOf: $0) } }

    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(0x22)
            for c in utf8 {
                switch c {
                case 0x22, 0x5C, 0x2F: bytes.append(0x5C); bytes.append(c)
                case 0x20...0x7E: bytes.append(c)
                default: ok = false
                }
            }
            bytes.append(0x22)
        }
    }

    mutating func number<T: FixedWidthInteger>(_ n: T) { bytes.append(contentsOf: String(n).utf8) }

    mutating func hex<C: Collection>(_ data: C) where C.Element == UInt8 {
        bytes.append(0x22)
        Self.digits.withUnsafeBufferPointer { d in
            for b in data {
                bytes.append(d[Int(b >> 4)])
                bytes.append(d[Int(b & 0x0F)])
            }
        }
        bytes.append(0x22)
    }

    mutating func hex(_ hash: Hash) { hash.withUnsafeBytes { hex($0) } }

    /// Keys in JSONSerialization's sorted order.
    mutating func blockEvent(_ committed: CommittedBlock) {
        let block = committed.block
        raw("{\"certificate\":")
        certificate(committed.certificate)
        raw(",\"hash\":")
        hex(block.hash)
        raw(",\"header\":")
        header(block.header)
        raw(",\"height\":")
        number(block.header.height)
        raw(",\"receipts\":[")
        for (i, r) in committed.receipts.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            receipt(r)
        }
        raw("],\"transactions\":[")
        for (i, tx) in block.transactions.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            hex(tx.hash)
        }
        raw("]}")
    }

    mutating func header(_ h: BlockHeader) {
        raw("{\"app_version\":"); number(h.appVersion)
        raw(",\"chain_id\":"); string(h.chainID)
        raw(",\"evidence_hash\":"); hex(h.evidenceHash)
        raw(",\"hash\":"); hex(h.hash)
        raw(",\"height\":"); number(h.height)
        raw(",\"last_commit_hash\":"); hex(h.lastCommitHash)
        raw(",\"next_validator_set_hash\":"); hex(h.nextValidatorSetHash)
        raw(",\"previous_block_hash\":"); hex(h.previousBlockHash)
        raw(",\"proposer\":"); hex(h.proposer.bytes)
        raw(",\"receipts_root\":"); hex(h.receiptsRoot)
        raw(",\"round\":"); number(h.round)
        raw(",\"state_root\":"); hex(h.stateRoot)
        raw(",\"time\":"); number(h.time)
        raw(",\"tx_count\":"); number(h.txCount)
        raw(",\"tx_root\":"); hex(h.txRoot)
        raw(",\"validator_set_hash\":"); hex(h.validatorSetHash)
        raw("}")
    }

    mutating func certificate(_ c: CommitCertificate) {
        raw("{\"block_id\":"); hex(c.blockID)
        raw(",\"canonical_hex\":"); hex(c.canonicalBytes)
        raw(",\"height\":"); number(c.height)
        raw(",\"round\":"); number(c.round)
        raw(",\"signatures\":[")
        for (i, s) in c.signatures.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            raw("{\"signature\":"); hex(s.signature.bytes)
            raw(",\"validator\":"); hex(s.validator.bytes)
            raw("}")
        }
        raw("]}")
    }

    mutating func receipt(_ r: Receipt) {
        switch r.outcome {
        case .ok(let ids):
            raw("{\"created\":[")
            for (i, id) in ids.enumerated() {
                if i > 0 { bytes.append(0x2C) }
                string(id)
            }
            raw("],\"index\":")
        case .rejected(let code, let message):
            raw("{\"error\":{\"code\":"); string(code)
            raw(",\"message\":"); string(message)
            raw("},\"index\":")
        }
        number(r.index)
        raw(",\"nonce_consumed\":")
        r.nonceConsumed ? raw("true") : raw("false")
        switch r.outcome {
        case .ok: raw(",\"status\":\"ok\"")
        case .rejected: raw(",\"status\":\"rejected\"")
        }
        raw(",\"tx_hash\":"); hex(r.txHash)
        raw("}")
    }
}
