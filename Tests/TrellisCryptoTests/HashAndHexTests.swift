// HashAndHexTests.swift — SHA-256 against published digests; hex encoding is lowercase and decoding strict.
import Foundation
import Testing
@testable import TrellisCrypto

@Suite struct SHA256Tests {
    @Test func knownDigests() {
        #expect(SHA256.hash([]).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hex
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// The hardware path (CSHA256, used when the CPU has SHA-NI) against libsodium on every length from 0 to 1,100
    /// bytes (every padding case: 55/56/63/64 bytes and their multiples) over varied bytes, and on a 1 MB message.
    @Test func hardwarePathMatchesLibsodium() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        var messages: [[UInt8]] = (0...1_100).map { n in (0..<n).map { _ in next() } }
        messages.append([UInt8](repeating: 0x61, count: 1_000_000))
        for message in messages {
            let expected = message.withUnsafeBufferPointer { SHA256.portableHash($0) }
            #expect(SHA256.hash(message) == expected, "length \(message.count)")
        }
        // A million "a"s: FIPS 180-2's long vector, through whichever path this CPU takes.
        #expect(SHA256.hash(messages[messages.count - 1]).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Two messages hashed together (`hashPair`: their rounds interleaved on SHA-NI) give each its own digest, on
    /// every length from 0 to 300 bytes (every padding case, up to five blocks) and on the tree's 65-byte messages.
    @Test func aPairHashesAsTwoSingles() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        for length in Array(0...300) + Array(repeating: 65, count: 50) {
            let a = (0..<length).map { _ in next() }, b = (0..<length).map { _ in next() }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let (x, y) = SHA256.hashPair(pa, pb)
                    #expect(x == SHA256.portableHash(pa), "length \(length)")
                    #expect(y == SHA256.portableHash(pb), "length \(length)")
                }
            }
        }
    }

    /// The test above exercises the hardware path wherever the CPU has it (this machine and CI do).
    @Test func hardwarePathIsUsedWhenTheCPUHasIt() throws {
        #if arch(x86_64) && os(Linux)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        #expect(SHA256.accelerated == flags.split(separator: " ").contains("sha_ni"))
        #endif
    }

    @Test func partsEqualConcatenation() {
        let a: [UInt8] = Array("hello ".utf8), b: [UInt8] = Array("world".utf8)
        #expect(SHA256.hash(parts: [a, b]) == SHA256.hash(a + b))
        #expect(SHA256.hash(parts: []) == SHA256.hash([]))
    }

    @Test func hashRequires32Bytes() {
        #expect(Hash(bytes: [1, 2, 3]) == nil)
        #expect(Hash(bytes: [UInt8](repeating: 0, count: 32)) == Hash.zero)
        #expect(throws: HexError.wrongLength(expectedBytes: 32, actualBytes: 1)) { try Hash(hex: "ab") }
    }
}

@Suite struct HexTests {
    @Test func roundTrip() throws {
        let bytes: [UInt8] = (0...255).map { UInt8($0) }
        let text = Hex.encode(bytes)
        #expect(text.count == 512)
        #expect(text == text.lowercased())
        #expect(try Hex.decode(text) == bytes)
        #expect(try Hex.decode(text.uppercased()) == bytes)
    }

    @Test func rejectsMalformed() throws {
        #expect(throws: HexError.oddLength(3)) { try Hex.decode("abc") }
        #expect(throws: HexError.invalidCharacter(position: 1)) { try Hex.decode("0g") }
        #expect(throws: HexError.invalidCharacter(position: 0)) { try Hex.decode(" 0") }
        #expect(throws: HexError.invalidCharacter(position: 2)) { try Hex.decode("00é") }
        #expect(try Hex.decode("") == [])
    }
}
