// TransactionBatch.swift — the body of `POST /v1/txs`: many transactions in one request, in canonical bytes.
//
// Format (canonical encoding, docs/ARCHITECTURE.md): u32 count (1…`maxTransactions`), then per transaction u32
// length (≤ `Limits.maxTransactionBytes`) and its canonical bytes. Decoding is strict: a zero or oversized count, an
// oversized or truncated entry and trailing bytes are errors; lengths are checked before anything is allocated.
// Each entry is decoded as a transaction later, by the mempool, so one bad entry refuses only itself.
import TrellisCodec
import TrellisLedger

/// Encoding and strict decoding of a transaction batch body.
public enum TransactionBatch {
    /// The most transactions one request may carry (the size of one gossip message).
    public static let maxTransactions = 1_000

    /// The body for `transactions` (each the canonical bytes of one transaction).
    public static func encode(_ transactions: [[UInt8]]) -> [UInt8] {
        var encoder = CanonicalEncoder(reservingCapacity: transactions.reduce(4) { $0 + 4 + $1.count })
        encoder.encode(UInt32(transactions.count))
        for tx in transactions { encoder.encode(bytes: tx) }
        return encoder.bytes
    }

    /// The transactions of a body; throws for anything but exactly one well-formed batch.
    public static func decode(_ body: [UInt8]) throws(CodecError) -> [[UInt8]] {
        var decoder = CanonicalDecoder(body, limits: DecodingLimits(maxBytesLength: Limits.maxTransactionBytes, maxCount: maxTransactions))
        let count = try decoder.decodeCount(what: "transaction batch", maxCount: maxTransactions)
        guard count > 0 else { throw .invalidValue(type: "transaction batch", reason: "the batch is empty") }
        var out: [[UInt8]] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try decoder.decodeBytes(maxLength: Limits.maxTransactionBytes)) }
        try decoder.finish()
        return out
    }
}
