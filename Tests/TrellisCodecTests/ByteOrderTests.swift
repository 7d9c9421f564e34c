// ByteOrderTests.swift — the memcmp order and byte-string keys agree with the standard library's bytewise order
// and equality (they replace it on the hot path: any disagreement would change sort orders that are hashed).
import Testing
import TrellisCodec

@Suite struct ByteOrderTests {
    /// Byte strings with shared prefixes, proper prefixes, the empty string and high bytes (unsigned order).
    static let samples: [[UInt8]] = [
        [], [0], [0, 0], [1], [1, 0], [1, 2, 3], [1, 2, 3, 0], [1, 2, 4], [0x7f], [0x80], [0xff], [0xff, 0xff],
        Array("cert/a".utf8), Array("cert/ab".utf8), Array("cert/b".utf8), Array("certs".utf8),
    ]

    @Test func orderMatchesLexicographicallyPrecedes() {
        for a in Self.samples {
            for b in Self.samples {
                #expect(ByteOrder.less(a, b) == a.lexicographicallyPrecedes(b), "\(a) < \(b)")
                #expect((ByteOrder.compare(a, b) == 0) == (a == b), "\(a) == \(b)")
                #expect((ByteKey(a) < ByteKey(b)) == a.lexicographicallyPrecedes(b))
            }
        }
        #expect(Self.samples.shuffled().sorted(by: ByteOrder.less) == Self.samples.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test func byteKeysAreEqualAndHashEquallyExactlyWhenTheirBytesAre() {
        var table: [ByteKey: Int] = [:]
        for (i, s) in Self.samples.enumerated() { table[ByteKey(s)] = i }
        #expect(table.count == Self.samples.count)
        for (i, s) in Self.samples.enumerated() {
            #expect(table[ByteKey(Array(s))] == i)  // a distinct array with the same bytes finds the entry
        }
        #expect(ByteKey([1, 2]) != ByteKey([1, 2, 0]))
    }

    @Test func aSetOfOneEncodesLikeTheSortedPath() {
        var one = CanonicalEncoder()
        one.encode(set: [UInt32(7)])
        var two = CanonicalEncoder()
        two.encode(set: [UInt32(9), UInt32(7), UInt32(9)])
        #expect(one.bytes == [0, 0, 0, 1, 0, 0, 0, 7])
        #expect(two.bytes == [0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 9])
    }
}
