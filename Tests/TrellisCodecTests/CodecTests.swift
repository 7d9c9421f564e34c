// CodecTests.swift — the canonical encoding: fixed byte vectors, round trips, and strict rejection of every
// non-canonical or hostile input.
import Testing
@testable import TrellisCodec

/// A structure exercising every encoding rule.
struct Sample: CanonicalCodable, Equatable {
    enum Kind: CanonicalCodable, Equatable {
        case plain
        case amount(UInt64)

        func encode(to encoder: inout CanonicalEncoder) {
            switch self {
            case .plain: encoder.encode(UInt8(0))
            case .amount(let a): encoder.encode(UInt8(1)); encoder.encode(a)
            }
        }

        init(from decoder: inout CanonicalDecoder) throws(CodecError) {
            switch try decoder.decodeTag() {
            case 0: self = .plain
            case 1: self = .amount(try decoder.decodeUInt64())
            case let t: throw .unknownTag(type: "Kind", tag: t)
            }
        }
    }

    var id: String
    var flag: Bool
    var small: UInt16
    var signed: Int64
    var blob: [UInt8]
    var note: String?
    var kinds: [Kind]
    var tags: [String]            // a set
    var balances: [(String, UInt32)]  // a map

    static func == (a: Sample, b: Sample) -> Bool {
        a.id == b.id && a.flag == b.flag && a.small == b.small && a.signed == b.signed && a.blob == b.blob && a.note == b.note
            && a.kinds == b.kinds && a.tags == b.tags && a.balances.map(\.0) == b.balances.map(\.0) && a.balances.map(\.1) == b.balances.map(\.1)
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(id)
        encoder.encode(flag)
        encoder.encode(small)
        encoder.encode(signed)
        encoder.encode(bytes: blob)
        encoder.encode(note)
        encoder.encode(kinds)
        encoder.encode(set: tags)
        encoder.encode(map: balances)
    }

    init(id: String, flag: Bool, small: UInt16, signed: Int64, blob: [UInt8], note: String?, kinds: [Kind], tags: [String], balances: [(String, UInt32)]) {
        (self.id, self.flag, self.small, self.signed, self.blob, self.note, self.kinds, self.tags, self.balances) = (id, flag, small, signed, blob, note, kinds, tags, balances)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        id = try decoder.decodeString(maxLength: 64)
        flag = try decoder.decodeBool()
        small = try decoder.decodeUInt16()
        signed = try decoder.decodeInt64()
        blob = try decoder.decodeBytes(maxLength: 1024)
        note = try decoder.decodeOptional(String.self)
        kinds = try decoder.decodeArray(Kind.self, maxCount: 16)
        tags = try decoder.decodeSet(String.self, what: "tags", maxCount: 16)
        balances = try decoder.decodeMap(String.self, UInt32.self, what: "balances", maxCount: 16)
    }
}

/// A self-nesting structure for the depth limit.
indirect enum Nest: CanonicalCodable {
    case leaf
    case node(Nest)

    func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .leaf: encoder.encode(UInt8(0))
        case .node(let n): encoder.encode(UInt8(1)); encoder.encode(n)
        }
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.decodeTag() {
        case 0: self = .leaf
        case 1: self = .node(try decoder.decode(Nest.self))
        case let t: throw .unknownTag(type: "Nest", tag: t)
        }
    }
}

let sample = Sample(id: "ab", flag: true, small: 0x0102, signed: -2, blob: [0xff], note: "n", kinds: [.plain, .amount(5)],
                    tags: ["b", "a", "b"], balances: [("y", 2), ("x", 1)])

/// The exact bytes of `sample`; a change here is a change of the consensus format.
let sampleBytes: [UInt8] = [
    0, 0, 0, 2, 0x61, 0x62,                 // id "ab"
    1,                                      // flag
    0x01, 0x02,                             // small
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, // signed -2
    0, 0, 0, 1, 0xff,                       // blob
    1, 0, 0, 0, 1, 0x6e,                    // note Some("n")
    0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, // kinds [.plain, .amount(5)]
    0, 0, 0, 2, 0, 0, 0, 1, 0x61, 0, 0, 0, 1, 0x62, // tags {"a","b"} sorted, deduplicated
    0, 0, 0, 2, 0, 0, 0, 1, 0x78, 0, 0, 0, 1, 0, 0, 0, 1, 0x79, 0, 0, 0, 2, // balances x→1, y→2
]

@Suite struct CanonicalEncodingTests {
    @Test func fixedByteVector() {
        #expect(sample.canonicalBytes == sampleBytes)
    }

    @Test func roundTrip() throws {
        let decoded = try CanonicalDecoder.decode(Sample.self, from: sampleBytes)
        var expected = sample
        expected.tags = ["a", "b"]
        expected.balances = [("x", 1), ("y", 2)]
        #expect(decoded == expected)
        #expect(decoded.canonicalBytes == sampleBytes)
    }

    @Test func integersAreBigEndianFixedWidth() {
        var e = CanonicalEncoder()
        e.encode(UInt32(0x0A0B0C0D))
        e.encode(UInt64(1))
        e.encode(UInt8(7))
        #expect(e.bytes == [0x0A, 0x0B, 0x0C, 0x0D, 0, 0, 0, 0, 0, 0, 0, 1, 7])
    }

    @Test func setsEncodeSortedAndDistinctWhateverTheirOrder() {
        // In order (written in place), out of order, with duplicates, with a prefix (a shorter string's length
        // prefix sorts first: "b" before "aa"), and sets of sets: each must give the bytes of sorting the
        // elements' encodings and dropping repeats.
        let inputs: [[String]] = [[], ["a"], ["a", "b"], ["b", "a"], ["a", "a"], ["a", "b", "b"], ["aa", "b"], ["b", "aa"],
                                  ["", "a"], ["a", ""], ["x", "y", "z", "y"], ["c", "b", "a", "b", "c"]]
        for input in inputs {
            var e = CanonicalEncoder()
            e.encode(set: input)
            let elements = input.map(\.canonicalBytes).sorted { ByteOrder.less($0, $1) }
            var distinct: [[UInt8]] = []
            for element in elements where distinct.last != element { distinct.append(element) }
            #expect(e.bytes == UInt32(distinct.count).canonicalBytes + distinct.flatMap { $0 }, "\(input)")
        }
        struct Tags: CanonicalEncodable {
            var tags: [String]
            func encode(to encoder: inout CanonicalEncoder) { encoder.encode(set: tags) }
        }
        var nested = CanonicalEncoder()
        nested.encode(set: [Tags(tags: ["z"]), Tags(tags: ["b", "a"]), Tags(tags: ["a", "b"])])
        // By their own bytes: the one-element set's count (…0001) sorts before the two-element set's (…0002).
        #expect(nested.bytes == [0, 0, 0, 2] + Tags(tags: ["z"]).canonicalBytes + Tags(tags: ["a", "b"]).canonicalBytes)
    }

    @Test func setsAndMapsOutOfOrderOrRepeatedAreRefused() throws {
        // Strictly increasing canonical bytes, compared bytewise: a repeat and a descent are refused, a proper
        // prefix sorts first.
        #expect(throws: CodecError.duplicateKey(what: "tags")) { try CanonicalDecoder.decode(Sample.self, from: sampleBytes.replacing([0x61, 0, 0, 0, 1, 0x62], with: [0x61, 0, 0, 0, 1, 0x61])) }
        #expect(throws: CodecError.unsortedKeys(what: "tags")) { try CanonicalDecoder.decode(Sample.self, from: sampleBytes.replacing([0x61, 0, 0, 0, 1, 0x62], with: [0x62, 0, 0, 0, 1, 0x61])) }
        var e = CanonicalEncoder()
        e.encode(UInt32(2)); e.encode("b"); e.encode("aa")
        #expect(try CanonicalDecoder.decode(SetOfStrings.self, from: e.bytes).values == ["b", "aa"])
        var descending = CanonicalEncoder()
        descending.encode(UInt32(2)); descending.encode("aa"); descending.encode("b")
        #expect(throws: CodecError.unsortedKeys(what: "set")) { try CanonicalDecoder.decode(SetOfStrings.self, from: descending.bytes) }
        #expect(throws: CodecError.duplicateKey(what: "balances")) {
            try CanonicalDecoder.decode(Sample.self, from: sampleBytes.replacing([0x78, 0, 0, 0, 1, 0, 0, 0, 1, 0x79], with: [0x78, 0, 0, 0, 1, 0, 0, 0, 1, 0x78]))
        }
    }

    @Test func integerRoundTripsAtBounds() throws {
        for v: UInt64 in [0, 1, 255, 256, UInt64(UInt32.max), .max] {
            #expect(try CanonicalDecoder.decode(UInt64.self, from: v.canonicalBytes) == v)
        }
        for v: Int64 in [.min, -1, 0, 1, .max] {
            #expect(try CanonicalDecoder.decode(Int64.self, from: v.canonicalBytes) == v)
        }
    }
}

@Suite struct StrictDecodingTests {
    @Test func trailingBytesAreRejected() {
        #expect(throws: CodecError.trailingBytes(count: 1)) { try CanonicalDecoder.decode(Sample.self, from: sampleBytes + [0]) }
    }

    @Test func everyTruncationIsRejected() {
        for n in 0..<sampleBytes.count {
            #expect(throws: CodecError.self) { try CanonicalDecoder.decode(Sample.self, from: Array(sampleBytes[..<n])) }
        }
    }

    @Test func nonCanonicalBoolAndOptionalMarkers() {
        var bytes = sampleBytes
        bytes[6] = 2 // flag
        #expect(throws: CodecError.invalidBool(offset: 6, byte: 2)) { try CanonicalDecoder.decode(Sample.self, from: bytes) }
        bytes = sampleBytes
        bytes[22] = 7 // optional marker
        #expect(throws: CodecError.invalidBool(offset: 22, byte: 7)) { try CanonicalDecoder.decode(Sample.self, from: bytes) }
    }

    @Test func unknownTagIsRejected() {
        var bytes = sampleBytes
        bytes[32] = 9 // first kind tag
        #expect(throws: CodecError.unknownTag(type: "Kind", tag: 9)) { try CanonicalDecoder.decode(Sample.self, from: bytes) }
    }

    @Test func unsortedAndDuplicateSetElements() {
        var bytes = sampleBytes
        bytes[50] = 0x62; bytes[55] = 0x61 // tags "b","a"
        #expect(throws: CodecError.unsortedKeys(what: "tags")) { try CanonicalDecoder.decode(Sample.self, from: bytes) }
        bytes[50] = 0x61; bytes[55] = 0x61 // tags "a","a"
        #expect(throws: CodecError.duplicateKey(what: "tags")) { try CanonicalDecoder.decode(Sample.self, from: bytes) }
    }

    @Test func unsortedAndDuplicateMapKeys() {
        var bytes = sampleBytes
        bytes[64] = 0x79; bytes[73] = 0x78 // keys "y","x"
        #expect(throws: CodecError.unsortedKeys(what: "balances")) { try CanonicalDecoder.decode(Sample.self, from: bytes) }
        bytes[64] = 0x78; bytes[73] = 0x78
        #expect(throws: CodecError.duplicateKey(what: "balances")) { try CanonicalDecoder.decode(Sample.self, from: bytes) }
    }

    @Test func lengthsOverLimitsAreRejectedBeforeAllocation() {
        // id declares 65 bytes; the field limit is 64.
        var bytes = sampleBytes
        bytes[3] = 65
        #expect(throws: CodecError.lengthOverLimit(what: "string", length: 65, limit: 64)) { try CanonicalDecoder.decode(Sample.self, from: bytes) }
        // A 4 GiB byte field in a 9-byte input.
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(Sample.self, from: [0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]) }
        // An array count larger than the input could hold.
        var d = CanonicalDecoder([0, 0, 0, 200, 1, 2])
        #expect(throws: CodecError.self) { _ = try d.decodeArray(UInt8.self) }
        var limited = CanonicalDecoder([0, 0, 0, 3, 1, 2, 3], limits: DecodingLimits(maxCount: 2))
        #expect(throws: CodecError.lengthOverLimit(what: "array element count", length: 3, limit: 2)) { _ = try limited.decodeArray(UInt8.self) }
    }

    @Test func invalidUTF8IsRejected() throws {
        #expect(throws: CodecError.invalidUTF8(offset: 0)) { try CanonicalDecoder.decode(String.self, from: [0, 0, 0, 2, 0xc3, 0x28]) }
        #expect(try CanonicalDecoder.decode(String.self, from: [0, 0, 0, 2, 0xc3, 0xa9]) == "é")
    }

    /// Strings decode exactly as `String(validating:)` judges their bytes — the ASCII shortcut included: every byte
    /// value alone and after ASCII, overlong forms, surrogates, truncated sequences, and every ASCII byte together.
    @Test func stringsDecodeExactlyWhenTheirBytesAreValidUTF8() throws {
        func wire(_ bytes: [UInt8]) -> [UInt8] { [0, 0, 0, UInt8(bytes.count)] + bytes }
        var samples: [[UInt8]] = [[], Array(0...127), [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe6, 0x97], Array("日本 naïve".utf8)]
        for b in 0...255 { samples.append([UInt8(b)]); samples.append(Array("cert-".utf8) + [UInt8(b)]); samples.append([UInt8(b)] + Array("-cert".utf8)) }
        for sample in samples {
            let expected = String(validating: sample, as: UTF8.self)
            if let expected {
                #expect(try CanonicalDecoder.decode(String.self, from: wire(sample)) == expected)
                #expect(Array(try CanonicalDecoder.decode(String.self, from: wire(sample)).utf8) == sample)
            } else {
                #expect(throws: CodecError.invalidUTF8(offset: 0)) { try CanonicalDecoder.decode(String.self, from: wire(sample)) }
            }
        }
        // A length past the end: the same error as any other field.
        #expect(throws: CodecError.unexpectedEnd(offset: 4, needed: 2)) { try CanonicalDecoder.decode(String.self, from: [0, 0, 0, 5, 0x61, 0x62, 0x63]) }
    }

    @Test func nestingIsBounded() {
        var value = Nest.leaf
        for _ in 0..<40 { value = .node(value) }
        let bytes = value.canonicalBytes
        #expect(throws: CodecError.nestingTooDeep(limit: 32)) { try CanonicalDecoder.decode(Nest.self, from: bytes) }
        #expect(throws: Never.self) { try CanonicalDecoder.decode(Nest.self, from: bytes, limits: DecodingLimits(maxDepth: 64)) }
    }
}

/// SplitMix64: a tiny deterministic generator so the fuzz corpus is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct CodecFuzzTests {
    /// 100,000 random byte strings (half of them mutations of a valid encoding) into every decoder: each either
    /// decodes to a value that re-encodes to the same bytes, or throws — never crashes.
    @Test func randomBytesNeverCrashAndDecodedValuesAreCanonical() {
        var rng = SplitMix64(state: 0x7472_656c_6c69_73)
        var decodedCount = 0
        for i in 0..<100_000 {
            var bytes: [UInt8]
            if i % 2 == 0 {
                bytes = (0..<Int.random(in: 0...96, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = sampleBytes
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    switch Int.random(in: 0...2, using: &rng) {
                    case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                    case 1: if !bytes.isEmpty { bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng)) }
                    default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
                    }
                }
            }
            if let s = try? CanonicalDecoder.decode(Sample.self, from: bytes) {
                decodedCount += 1
                #expect(s.canonicalBytes == bytes)
            }
            if let n = try? CanonicalDecoder.decode(Nest.self, from: bytes) { #expect(n.canonicalBytes == bytes) }
            if let s = try? CanonicalDecoder.decode(String.self, from: bytes) { #expect(s.canonicalBytes == bytes) }
            _ = try? CanonicalDecoder.decode(UInt64.self, from: bytes)
            _ = try? CanonicalDecoder.decode(Bool.self, from: bytes)
        }
        // Some mutations (e.g. of the blob byte) stay valid; the fuzzer must reach the success path too.
        #expect(decodedCount > 0)
    }
}

/// A bare set of strings, for the order checks.
struct SetOfStrings: CanonicalDecodable {
    var values: [String]
    init(from decoder: inout CanonicalDecoder) throws(CodecError) { values = try decoder.decodeSet(String.self) }
}
