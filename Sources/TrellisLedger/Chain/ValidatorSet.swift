// ValidatorSet.swift — the validators in force at a height: public keys, voting power, p2p addresses.
//
// Sorted by public key; quorum is strictly more than two thirds of the total voting power. The set's hash is
// committed in every block header so certificates can be checked against the right set.
import TrellisCodec
import TrellisCrypto

public struct Validator: Sendable, Hashable, CanonicalCodable {
    public var publicKey: PublicKey
    public var votingPower: UInt64
    /// "host:port" where peers reach this validator.
    public var p2pAddress: String

    public init(publicKey: PublicKey, votingPower: UInt64, p2pAddress: String) {
        self.publicKey = publicKey
        self.votingPower = votingPower
        self.p2pAddress = p2pAddress
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(publicKey)
        encoder.encode(votingPower)
        encoder.encode(p2pAddress)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        publicKey = try decoder.decode(PublicKey.self)
        votingPower = try decoder.decodeUInt64()
        p2pAddress = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        if votingPower == 0 { throw .invalidValue(type: "Validator", reason: "voting power must be positive") }
    }
}

public enum ValidatorSetError: Error, Equatable, CustomStringConvertible {
    case empty
    case tooMany(Int)
    case duplicateKey(PublicKey)
    case zeroPower(PublicKey)
    case powerOverflow

    public var description: String {
        switch self {
        case .empty: return "a validator set needs at least one validator"
        case .tooMany(let n): return "\(n) validators exceed the limit of \(Limits.maxValidators)"
        case .duplicateKey(let k): return "validator key \(k.hex) appears twice"
        case .zeroPower(let k): return "validator \(k.hex) has zero voting power"
        case .powerOverflow: return "total voting power overflows"
        }
    }
}

public struct ValidatorSet: Sendable, Hashable, CanonicalCodable {
    /// Sorted by public key, distinct.
    public let validators: [Validator]
    public let totalPower: UInt64

    public init(_ validators: [Validator]) throws(ValidatorSetError) {
        guard !validators.isEmpty else { throw .empty }
        guard validators.count <= Limits.maxValidators else { throw .tooMany(validators.count) }
        let sorted = validators.sorted { $0.publicKey < $1.publicKey }
        var total: UInt64 = 0
        for (i, v) in sorted.enumerated() {
            if i > 0 && sorted[i - 1].publicKey == v.publicKey { throw .duplicateKey(v.publicKey) }
            if v.votingPower == 0 { throw .zeroPower(v.publicKey) }
            let (sum, overflow) = total.addingReportingOverflow(v.votingPower)
            if overflow || sum > UInt64(Int64.max) { throw .powerOverflow }
            total = sum
        }
        self.validators = sorted
        self.totalPower = total
    }

    /// The smallest voting power that is strictly more than 2/3 of the total.
    public var quorumPower: UInt64 { totalPower * 2 / 3 + 1 }  // total ≤ Int64.max, so 2·total cannot overflow

    public var count: Int { validators.count }

    /// The index of `key` in the set, or nil.
    public func index(of key: PublicKey) -> Int? {
        var lo = 0, hi = validators.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if validators[mid].publicKey < key { lo = mid + 1 } else { hi = mid }
        }
        return lo < validators.count && validators[lo].publicKey == key ? lo : nil
    }

    public func contains(_ key: PublicKey) -> Bool { index(of: key) != nil }

    public func power(of key: PublicKey) -> UInt64 { index(of: key).map { validators[$0].votingPower } ?? 0 }

    public var hash: Hash { SHA256.hash(canonicalBytes) }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(validators)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let list = try decoder.decodeSet(Validator.self, what: "validators", maxCount: Limits.maxValidators)
        do { try self.init(list) } catch { throw .invalidValue(type: "ValidatorSet", reason: error.description) }
        // decodeSet ordered by full canonical bytes, which begin with the key: same order, so sorted == list.
    }
}
